/*
 * led_sysfs.c - one LED of the Linux LED class (/sys/class/leds/<name>).
 *
 * The LED is driven by brightness only: the brightest channel of the
 * frame's first pixel, times [led] brightness, scaled to the LED's
 * max_brightness. Nothing is written while the value stays the same. The
 * LED's trigger is left alone; set it to "none" on the board (a trigger
 * overrides writes).
 *
 * Threads: main thread only, through led.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "led_backend.h"

struct led_sysfs {
    int fd;                 /* <root>/<name>/brightness, open for writing */
    unsigned max;           /* max_brightness */
    int last;               /* value last written, -1 = none */
};

static int read_uint(const char *path, unsigned *out)
{
    char buf[32];
    char *end;
    unsigned long v;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -errno;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -EINVAL;
    buf[n] = '\0';
    errno = 0;
    v = strtoul(buf, &end, 10);
    if (end == buf || (*end && *end != '\n') || errno || v == 0 || v > 1000000)
        return -EINVAL;
    *out = (unsigned)v;
    return 0;
}

int led_sysfs_open(const char *root, const char *name, void **priv, char *err, size_t errlen)
{
    struct led_sysfs *s;
    char path[CONFIG_PATH_MAX + 96];
    unsigned max = 0;
    int r;

    if (!*name || strchr(name, '/') || !strcmp(name, "..") || !strcmp(name, ".")) {
        snprintf(err, errlen, "LED: bad sysfs LED name '%s'", name);
        return -EINVAL;
    }
    snprintf(path, sizeof(path), "%s/%s/max_brightness", root, name);
    r = read_uint(path, &max);
    if (r < 0) {
        snprintf(err, errlen, "LED: cannot read %s: %s (is there an LED '%s'? ls %s)", path,
                 r == -EINVAL ? "not a positive number" : strerror(-r), name, root);
        return r;
    }
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "LED: out of memory");
        return -ENOMEM;
    }
    snprintf(path, sizeof(path), "%s/%s/brightness", root, name);
    s->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (s->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "LED: cannot open %s for writing: %s (harkd needs ReadWritePaths for it, "
                 "see docs/boards.md)", path, strerror(errno));
        free(s);
        return r;
    }
    s->max = max;
    s->last = -1;
    *priv = s;
    return 0;
}

static int sysfs_put(struct led_sysfs *s, unsigned v)
{
    char buf[16];
    int len = snprintf(buf, sizeof(buf), "%u\n", v);

    if ((int)v == s->last)
        return 0;
    if (pwrite(s->fd, buf, (size_t)len, 0) != len)
        return errno ? -errno : -EIO;
    s->last = (int)v;
    return 0;
}

static int sysfs_write(void *priv, const struct led_rgb *px, unsigned n, unsigned brightness_pct)
{
    struct led_sysfs *s = priv;
    unsigned peak = 0;

    if (n) {
        peak = px[0].r > px[0].g ? px[0].r : px[0].g;
        peak = px[0].b > peak ? px[0].b : peak;
    }
    /* round(max * peak/255 * pct/100), and never 0 for a pixel that is on */
    {
        unsigned long num = (unsigned long)s->max * peak * brightness_pct;
        unsigned v = (unsigned)((num + 12750) / 25500);
        if (peak && !v)
            v = 1;
        errno = 0;
        return sysfs_put(s, v);
    }
}

static void sysfs_close(void *priv)
{
    struct led_sysfs *s = priv;

    if (!s)
        return;
    errno = 0;
    (void)sysfs_put(s, 0);
    close(s->fd);
    free(s);
}

const struct led_backend led_sysfs_backend = {
    .name = "sysfs",
    .write = sysfs_write,
    .close = sysfs_close,
};
