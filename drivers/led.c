/*
 * led.c - LED patterns per app_state and the choice of backend (see led.h).
 *
 * A pattern is a colour, a shape in time (solid, triangle pulse, raised
 * cosine breathing, square blink) and, for listening on a ring, a shape in
 * space (a spot toward the talker). Rendering is a pure function of the
 * state, its entry time and now, so a tick that comes late shows what it
 * should at that moment and the tests can check any instant. A frame is
 * written only when it differs from the last one written.
 *
 * Threads: main thread only.
 */
#include "led.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "led_backend.h"

enum shape { SH_OFF, SH_SOLID, SH_SPOT, SH_PULSE, SH_BREATHE, SH_BLINK };

struct pattern {
    enum shape shape;
    struct led_rgb rgb;
    unsigned period_ms;     /* pulse, breathe, blink */
    double lo, hi;          /* level range (solid: hi) */
};

static const struct pattern patterns[APP_STATE_COUNT] = {
    [APP_IDLE] = { SH_OFF, { 255, 255, 255 }, 0, 0.0, 0.06 },
    [APP_LISTENING] = { SH_SPOT, { 0, 0, 255 }, 0, 0.25, 1.0 },
    [APP_THINKING] = { SH_PULSE, { 0, 160, 255 }, 1000, 0.15, 1.0 },
    [APP_SPEAKING] = { SH_BREATHE, { 0, 255, 160 }, 3000, 0.10, 1.0 },
    [APP_FOLLOWUP] = { SH_SOLID, { 0, 0, 255 }, 0, 0.0, 0.40 },
    [APP_MUTED] = { SH_SOLID, { 255, 0, 0 }, 0, 0.0, 1.0 },
    [APP_OFFLINE] = { SH_BLINK, { 255, 120, 0 }, 1000, 0.0, 1.0 },
    [APP_ERROR] = { SH_BLINK, { 255, 0, 0 }, 500, 0.0, 1.0 },
};

struct led {
    unsigned n;
    unsigned brightness;             /* percent */
    bool idle_dim;
    double ring_start_deg;
    bool ring_clockwise;

    const struct led_backend *be;    /* NULL = null backend */
    void *priv;

    enum app_state state;
    uint64_t state_t0;
    double direction;                /* NAN = unknown */

    struct led_rgb *px;              /* last frame rendered */
    struct led_rgb *scratch;
    bool written;                    /* px has reached the backend once */
};

static const struct pattern *pattern_of(const struct led *l, enum app_state s)
{
    static const struct pattern idle_dim = { SH_SOLID, { 255, 255, 255 }, 0, 0.0, 0.06 };

    if ((unsigned)s >= APP_STATE_COUNT)
        s = APP_ERROR;
    if (s == APP_IDLE && l->idle_dim)
        return &idle_dim;
    return &patterns[s];
}

const char *led_pattern_name(const struct led *l, enum app_state s)
{
    static const char *const names[] = { "off", "solid", "spot", "pulse", "breathing", "blink" };
    return names[pattern_of(l, s)->shape];
}

/* Level in time of a pattern, t_ms after the state began. */
static double level_at(const struct pattern *p, uint64_t t_ms)
{
    double ph = p->period_ms ? (double)(t_ms % p->period_ms) / p->period_ms : 0.0;

    switch (p->shape) {
    case SH_OFF:
        return 0.0;
    case SH_SOLID:
    case SH_SPOT:
        return p->hi;
    case SH_PULSE:
        return p->lo + (p->hi - p->lo) * (1.0 - fabs(2.0 * ph - 1.0));
    case SH_BREATHE:
        return p->lo + (p->hi - p->lo) * 0.5 * (1.0 - cos(2.0 * M_PI * ph));
    case SH_BLINK:
        return ph < 0.5 ? p->hi : 0.0;
    }
    return 0.0;
}

static struct led_rgb scale(struct led_rgb c, double k)
{
    struct led_rgb o = {
        (uint8_t)lround(c.r * k), (uint8_t)lround(c.g * k), (uint8_t)lround(c.b * k),
    };
    return o;
}

/* Angular distance in degrees, 0..180. */
static double ang_dist(double a, double b)
{
    double d = fmod(fabs(a - b), 360.0);
    return d > 180.0 ? 360.0 - d : d;
}

void led_render(const struct led *l, uint64_t now_ms, struct led_rgb *out)
{
    const struct pattern *p = pattern_of(l, l->state);
    uint64_t t = now_ms > l->state_t0 ? now_ms - l->state_t0 : 0;
    double lv = level_at(p, t);

    if (p->shape == SH_SPOT && l->n > 1 && !isnan(l->direction)) {
        double spacing = 360.0 / l->n, width = 1.5 * spacing;
        for (unsigned i = 0; i < l->n; i++) {
            double a = l->ring_start_deg + (l->ring_clockwise ? -1.0 : 1.0) * spacing * i;
            double k = 1.0 - ang_dist(a, l->direction) / width;
            out[i] = scale(p->rgb, p->lo + (p->hi - p->lo) * (k > 0 ? k : 0));
        }
        return;
    }
    for (unsigned i = 0; i < l->n; i++)
        out[i] = scale(p->rgb, lv);
}

void led_set_state(struct led *l, enum app_state s, uint64_t now_ms)
{
    if (s == l->state)
        return;
    l->state = (unsigned)s < APP_STATE_COUNT ? s : APP_ERROR;
    l->state_t0 = now_ms;
}

void led_set_direction(struct led *l, double deg)
{
    l->direction = deg;
}

int led_tick(struct led *l, uint64_t now_ms)
{
    int r;

    led_render(l, now_ms, l->scratch);
    if (l->written && memcmp(l->scratch, l->px, l->n * sizeof(*l->px)) == 0)
        return 0;
    memcpy(l->px, l->scratch, l->n * sizeof(*l->px));
    l->written = true;
    if (!l->be)
        return 0;
    r = l->be->write(l->priv, l->px, l->n, l->brightness);
    if (r < 0) {
        l->be->close(l->priv);
        l->be = NULL;
        l->priv = NULL;
    }
    return r;
}

struct led *led_create(const struct board_cfg *board, const char *sysfs_root, char *err, size_t errlen)
{
    struct led *l = calloc(1, sizeof(*l));
    unsigned n = board->led.type == LED_APA102 ? board->led.count : 1;
    int r = 0;

    if (errlen)
        err[0] = '\0';
    if (!l)
        return NULL;
    if (n < 1 || n > LED_MAX_COUNT)
        n = 1;
    l->n = n;
    l->brightness = board->led.brightness >= 1 && board->led.brightness <= 100 ? board->led.brightness : 50;
    l->idle_dim = board->led.idle == LED_IDLE_DIM;
    l->ring_start_deg = board->led.ring_start_deg;
    l->ring_clockwise = board->led.ring_clockwise;
    l->state = APP_IDLE;
    l->direction = NAN;
    l->px = calloc(n, sizeof(*l->px));
    l->scratch = calloc(n, sizeof(*l->scratch));
    if (!l->px || !l->scratch) {
        led_destroy(l);
        return NULL;
    }
    switch (board->led.type) {
    case LED_NONE:
        break;
    case LED_SYSFS:
        r = led_sysfs_open(sysfs_root ? sysfs_root : "/sys/class/leds", board->led.sysfs_name, &l->priv, err,
                           errlen);
        if (r == 0)
            l->be = &led_sysfs_backend;
        break;
    case LED_APA102:
        r = led_apa102_open(board->led.spi_device, n, board->led.power_gpio_line, &l->priv, err, errlen);
        if (r == 0)
            l->be = &led_apa102_backend;
        break;
    }
    if (r < 0) {
        size_t len = strlen(err);
        snprintf(err + len, errlen - len, "; LEDs disabled (null backend)");
    }
    return l;
}

void led_destroy(struct led *l)
{
    if (!l)
        return;
    if (l->be)
        l->be->close(l->priv);
    free(l->px);
    free(l->scratch);
    free(l);
}

unsigned led_count(const struct led *l)
{
    return l->n;
}

enum app_state led_state(const struct led *l)
{
    return l->state;
}

const struct led_rgb *led_pixels(const struct led *l)
{
    return l->px;
}

const char *led_backend_name(const struct led *l)
{
    return l->be ? l->be->name : "null";
}
