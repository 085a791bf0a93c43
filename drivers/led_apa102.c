/*
 * led_apa102.c - a chain of APA102 (DotStar) LEDs on a spidev device.
 *
 * The APA102 takes SPI mode 0 data, MSB first: a start frame of 32 zero
 * bits, then one 32-bit frame per LED, `111` + 5-bit global current
 * (0..31) followed by blue, green and red bytes (8-bit PWM each), then an end
 * frame. Each LED delays the data by half a clock, so after the last LED
 * frame n/2 more clock edges are needed to push the data to the end of the
 * chain; we send max(4, ceil(n/16)) bytes of 0xFF (the datasheet's 32-bit
 * end frame for short chains). [led] brightness sets the 5-bit global
 * current, so the patterns keep the full 8-bit PWM range.
 *
 * A supply-enable line (power_gpio_line, on gpiochip0) is driven high while
 * the LEDs are open and low when closed.
 *
 * Threads: main thread only, through led.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gpiod.h>
#include <linux/spi/spidev.h>

#include "led_backend.h"

#define APA102_SPI_HZ 8000000u      /* well inside the part's rating, short traces on the HAT */
#define APA102_POWER_CHIP "gpiochip0"

struct led_apa102 {
    int fd;
    unsigned n;
    struct gpiod_chip *chip;        /* supply line's chip, NULL = no supply control */
    struct gpiod_line *power;
    size_t frame_len;
    uint8_t frame[];
};

size_t led_apa102_frame_size(unsigned n)
{
    size_t end = (n + 15) / 16;
    return 4 + 4 * (size_t)n + (end < 4 ? 4 : end);
}

size_t led_apa102_frame(const struct led_rgb *px, unsigned n, unsigned brightness_pct, uint8_t *out,
                        size_t outlen)
{
    size_t len = led_apa102_frame_size(n), o = 4;
    unsigned g = (31 * brightness_pct + 50) / 100;

    if (outlen < len)
        return 0;
    if (g < 1)
        g = 1;
    if (g > 31)
        g = 31;
    memset(out, 0, 4);
    for (unsigned i = 0; i < n; i++) {
        out[o++] = (uint8_t)(0xE0 | g);
        out[o++] = px[i].b;
        out[o++] = px[i].g;
        out[o++] = px[i].r;
    }
    memset(out + o, 0xFF, len - o);
    return len;
}

/* spidev setup. A path that is not a character device (a test's FIFO or
 * regular file) takes the bytes as they are: no ioctls are tried, which also
 * keeps the tests valid under qemu-user (it answers unknown ioctls ENOSYS). */
static int spi_setup(int fd, const char *dev, char *err, size_t errlen)
{
    uint8_t mode = SPI_MODE_0, bits = 8;
    uint32_t hz = APA102_SPI_HZ;
    struct stat st;

    if (fstat(fd, &st) < 0)
        goto out_err;
    if (!S_ISCHR(st.st_mode))
        return 0;
    if (ioctl(fd, SPI_IOC_WR_MODE, &mode) < 0 || ioctl(fd, SPI_IOC_WR_BITS_PER_WORD, &bits) < 0 ||
        ioctl(fd, SPI_IOC_WR_MAX_SPEED_HZ, &hz) < 0)
        goto out_err;
    return 0;

out_err:
    snprintf(err, errlen, "LED: cannot configure SPI on %s: %s%s", dev, strerror(errno),
             errno == ENOTTY ? " (not a spidev device)" : "");
    return -errno;
}

static void power_on(struct led_apa102 *a, int line, char *err, size_t errlen)
{
    a->chip = gpiod_chip_open_lookup(APA102_POWER_CHIP);
    if (!a->chip) {
        snprintf(err, errlen, "LED: cannot open %s for the LED supply (line %d): %s; the LEDs may stay dark",
                 APA102_POWER_CHIP, line, strerror(errno));
        return;
    }
    a->power = gpiod_chip_get_line(a->chip, (unsigned)line);
    if (!a->power || gpiod_line_request_output(a->power, "harkd-led-power", 1) < 0) {
        snprintf(err, errlen, "LED: cannot drive %s line %d (LED supply): %s; the LEDs may stay dark",
                 APA102_POWER_CHIP, line, strerror(errno));
        gpiod_chip_close(a->chip);
        a->chip = NULL;
        a->power = NULL;
    }
}

int led_apa102_open(const char *spi_device, unsigned count, int power_line, void **priv, char *err,
                    size_t errlen)
{
    size_t len = led_apa102_frame_size(count);
    struct led_apa102 *a = calloc(1, sizeof(*a) + len);
    int r;

    if (!a) {
        snprintf(err, errlen, "LED: out of memory");
        return -ENOMEM;
    }
    a->n = count;
    a->frame_len = len;
    a->fd = open(spi_device, O_WRONLY | O_CLOEXEC);
    if (a->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "LED: cannot open %s: %s (is SPI enabled: dtparam=spi=on?)", spi_device,
                 strerror(errno));
        goto out_free;
    }
    r = spi_setup(a->fd, spi_device, err, errlen);
    if (r < 0)
        goto out_close;
    if (power_line >= 0)
        power_on(a, power_line, err, errlen);
    *priv = a;
    return 0;

out_close:
    close(a->fd);
out_free:
    free(a);
    return r;
}

static int apa102_send(struct led_apa102 *a)
{
    ssize_t w = write(a->fd, a->frame, a->frame_len);

    if (w < 0)
        return -errno;
    return (size_t)w == a->frame_len ? 0 : -EIO;
}

static int apa102_write(void *priv, const struct led_rgb *px, unsigned n, unsigned brightness_pct)
{
    struct led_apa102 *a = priv;

    if (n != a->n || !led_apa102_frame(px, n, brightness_pct, a->frame, a->frame_len))
        return -EINVAL;
    return apa102_send(a);
}

static void apa102_close(void *priv)
{
    struct led_apa102 *a = priv;

    if (!a)
        return;
    /* all LEDs black (global current 0, PWM 0), then cut the supply */
    memset(a->frame, 0, 4);
    for (unsigned i = 0; i < a->n; i++)
        memcpy(a->frame + 4 + 4 * (size_t)i, "\xE0\0\0\0", 4);
    memset(a->frame + 4 + 4 * (size_t)a->n, 0xFF, a->frame_len - 4 - 4 * (size_t)a->n);
    (void)apa102_send(a);
    if (a->power)
        (void)gpiod_line_set_value(a->power, 0);
    if (a->chip)
        gpiod_chip_close(a->chip);
    close(a->fd);
    free(a);
}

const struct led_backend led_apa102_backend = {
    .name = "apa102",
    .write = apa102_write,
    .close = apa102_close,
};
