/*
 * button.c - evdev / libgpiod button reader, debouncer and gesture
 * classifier (see button.h for the contract).
 *
 * Everything is driven by timestamps, not by when the main loop happens to
 * run: before an edge stamped t is applied, every deadline at or before t
 * (debounce window end, long-press, double-press window) is handled first,
 * in time order. A late or batched read therefore classifies exactly as a
 * prompt one, and the tests can check gestures to the millisecond.
 *
 * Threads: main thread only.
 */
#include "button.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <gpiod.h>
#include <linux/gpio.h>
#include <linux/input.h>

/* A record stamped further than this before `now` is from another clock
 * (CLOCK_REALTIME evdev, GPIO events on kernels before 5.7) or hopelessly
 * stale; `now` is used instead. Stamps after `now` are clamped to it. */
#define BUTTON_MAX_AGE_MS 10000

#define BUTTON_BUF_RECORDS 64
#define BUTTON_RECORD_MAX (sizeof(struct input_event) > sizeof(struct gpioevent_data) \
                               ? sizeof(struct input_event) : sizeof(struct gpioevent_data))

enum gesture_state {
    G_IDLE,          /* released, nothing pending */
    G_HELD,          /* first press down, long press not reached */
    G_HELD_LONG,     /* long press reported; waiting for the release */
    G_WAIT_SECOND,   /* short press released; double-press window open */
    G_HELD_SECOND,   /* second press of a double press down */
    G_HELD_UNSEEN,   /* down since open: no PRESS was reported, report no release */
};

struct button {
    enum button_source src;
    int fd;
    unsigned key_code;
    bool active_low;
    struct button_gesture_cfg g;
    button_cb cb;
    void *ctx;

    /* set when opened from board.conf (reopen possible) */
    bool from_board;
    char device[CONFIG_PATH_MAX];
    char gpio_chip[64];
    unsigned gpio_line;
    bool grab;
    struct gpiod_chip *chip;

    unsigned char buf[BUTTON_BUF_RECORDS * BUTTON_RECORD_MAX];
    size_t have;
    bool syn_dropped;        /* evdev: discard until SYN_REPORT, then resync */
    int err;                 /* 0, or the -errno that stopped the source */

    uint64_t t_last;         /* time of the latest edge or deadline handled: a record
                              * stamped earlier arrived too late and is moved here */

    /* debouncer */
    bool raw;                /* last raw level (true = pressed) */
    uint64_t raw_t;          /* time of the last raw edge */
    bool stable;             /* accepted level */
    bool locked;
    uint64_t lock_until;     /* raw edges before this are only recorded */

    /* gestures */
    enum gesture_state gs;
    uint64_t press_t;        /* current (or last) press */
    uint64_t first_press_t;  /* G_WAIT_SECOND: the first press */
    uint64_t release_t;      /* G_WAIT_SECOND: its release */
    uint32_t first_held;     /* G_WAIT_SECOND: how long it was down */
};

const char *button_event_name(enum button_event_type t)
{
    static const char *const names[] = { "press", "release", "tap", "long_press", "double_press", "error" };
    return (unsigned)t < sizeof(names) / sizeof(names[0]) ? names[t] : "unknown";
}

struct button_gesture_cfg button_gesture_cfg_from_board(const struct board_cfg *board)
{
    struct button_gesture_cfg g = {
        .debounce_ms = board->button.debounce_ms,
        .long_press_ms = board->button.long_press_ms,
        .double_press_ms = board->button.double_press == BUTTON_ACTION_NONE ? 0 : board->button.double_press_ms,
    };
    return g;
}

static void emit(struct button *b, enum button_event_type type, uint64_t t, uint64_t press_t, uint32_t held,
                 int err)
{
    struct button_event ev = { .type = type, .t_ms = t, .press_ms = press_t, .held_ms = held, .err = err };

    if (b->cb)
        b->cb(b->ctx, &ev);
}

/* ---- gestures on debounced edges ------------------------------------------------ */

static void gesture_edge(struct button *b, bool pressed, uint64_t t)
{
    if (pressed) {
        emit(b, BUTTON_EV_PRESS, t, t, 0, 0);
        if (b->gs == G_WAIT_SECOND) {
            emit(b, BUTTON_EV_DOUBLE_PRESS, t, b->first_press_t, 0, 0);
            b->gs = G_HELD_SECOND;
        } else {
            b->gs = G_HELD;
        }
        b->press_t = t;
        return;
    }
    switch (b->gs) {
    case G_HELD_UNSEEN:
        break;
    case G_HELD:
        emit(b, BUTTON_EV_RELEASE, t, b->press_t, (uint32_t)(t - b->press_t), 0);
        if (b->g.double_press_ms == 0) {
            emit(b, BUTTON_EV_TAP, t, b->press_t, (uint32_t)(t - b->press_t), 0);
            break;
        }
        b->gs = G_WAIT_SECOND;
        b->first_press_t = b->press_t;
        b->release_t = t;
        b->first_held = (uint32_t)(t - b->press_t);
        return;
    case G_HELD_LONG:
    case G_HELD_SECOND:
        emit(b, BUTTON_EV_RELEASE, t, b->press_t, (uint32_t)(t - b->press_t), 0);
        break;
    case G_IDLE:
    case G_WAIT_SECOND:
        /* a release without a press: cannot happen with a consistent debouncer */
        break;
    }
    b->gs = G_IDLE;
}

/* ---- deadlines --------------------------------------------------------------------- */

uint64_t button_next_deadline(const struct button *b)
{
    uint64_t d = BUTTON_NO_DEADLINE;

    if (b->err)
        return d;
    if (b->locked)
        d = b->lock_until;
    if (b->gs == G_HELD && b->press_t + b->g.long_press_ms < d)
        d = b->press_t + b->g.long_press_ms;
    if (b->gs == G_WAIT_SECOND && b->release_t + b->g.double_press_ms < d)
        d = b->release_t + b->g.double_press_ms;
    return d;
}

/* Handles every deadline at or before t, earliest first. */
static void advance(struct button *b, uint64_t t)
{
    uint64_t d;

    while ((d = button_next_deadline(b)) <= t) {
        if (d > b->t_last)
            b->t_last = d;
        if (b->locked && d == b->lock_until) {
            b->locked = false;
            if (b->raw != b->stable) {
                /* the level settled inside the window: take it, stamped when it changed */
                b->stable = b->raw;
                b->locked = b->g.debounce_ms > 0;
                b->lock_until = b->raw_t + b->g.debounce_ms;
                gesture_edge(b, b->stable, b->raw_t);
            }
        } else if (b->gs == G_HELD && d == b->press_t + b->g.long_press_ms) {
            emit(b, BUTTON_EV_LONG_PRESS, d, b->press_t, 0, 0);
            b->gs = G_HELD_LONG;
        } else if (b->gs == G_WAIT_SECOND) {
            emit(b, BUTTON_EV_TAP, d, b->first_press_t, b->first_held, 0);
            b->gs = G_IDLE;
        } else {
            break;   /* unreachable: every deadline above belongs to one branch */
        }
    }
}

/* A raw edge stamped t; deadlines up to t must have been handled. */
static void raw_edge(struct button *b, bool pressed, uint64_t t)
{
    if (t > b->t_last)
        b->t_last = t;
    if (pressed == b->raw)
        return;
    b->raw = pressed;
    b->raw_t = t;
    if (b->locked)
        return;
    b->stable = pressed;
    b->locked = b->g.debounce_ms > 0;
    b->lock_until = t + b->g.debounce_ms;
    gesture_edge(b, pressed, t);
}

/* Source timestamp -> the time used, monotonic and never after now. */
static uint64_t stamp(const struct button *b, uint64_t t, uint64_t now)
{
    if (t > now || t + BUTTON_MAX_AGE_MS < now)
        t = now;
    return t < b->t_last ? b->t_last : t;
}

void button_on_timer(struct button *b, uint64_t now_ms)
{
    if (!b->err)
        advance(b, now_ms);
}

void button_inject(struct button *b, bool pressed, uint64_t now_ms)
{
    uint64_t t;

    if (b->err)
        return;
    t = stamp(b, now_ms, now_ms);
    advance(b, t);
    raw_edge(b, pressed, t);
}

static void fail(struct button *b, int err, uint64_t now)
{
    uint64_t t = stamp(b, now, now);

    if (b->err)
        return;
    advance(b, t);
    /* never leave a push-to-talk press hanging on an unplugged device */
    if (b->stable && b->gs != G_HELD_UNSEEN)
        emit(b, BUTTON_EV_RELEASE, t, b->press_t, (uint32_t)(t - b->press_t), 0);
    b->gs = G_IDLE;
    b->locked = false;
    b->raw = b->stable = false;
    b->err = err;
    emit(b, BUTTON_EV_ERROR, t, 0, 0, err);
}

/* ---- record parsing ---------------------------------------------------------------- */

static void evdev_resync(struct button *b, uint64_t t)
{
    unsigned char keys[KEY_MAX / 8 + 1];

    memset(keys, 0, sizeof(keys));
    if (ioctl(b->fd, EVIOCGKEY(sizeof(keys)), keys) < 0)
        return;   /* not an input device (tests): keep the level we had */
    raw_edge(b, (keys[b->key_code / 8] >> (b->key_code % 8)) & 1, t);
}

static void evdev_record(struct button *b, const struct input_event *ie, uint64_t now)
{
    uint64_t t = stamp(b, (uint64_t)ie->input_event_sec * 1000u + (uint64_t)ie->input_event_usec / 1000u, now);

    advance(b, t);
    if (ie->type == EV_SYN) {
        if (ie->code == SYN_DROPPED) {
            b->syn_dropped = true;
        } else if (ie->code == SYN_REPORT && b->syn_dropped) {
            b->syn_dropped = false;
            evdev_resync(b, t);
        }
        return;
    }
    if (b->syn_dropped || ie->type != EV_KEY || ie->code != b->key_code)
        return;
    if (ie->value == 0 || ie->value == 1)
        raw_edge(b, ie->value == 1, t);
    /* value 2 is autorepeat: the key is still down */
}

static void gpio_record(struct button *b, const struct gpioevent_data *ge, uint64_t now)
{
    uint64_t t = stamp(b, ge->timestamp / 1000000u, now);
    bool high;

    advance(b, t);
    if (ge->id == GPIOEVENT_EVENT_RISING_EDGE)
        high = true;
    else if (ge->id == GPIOEVENT_EVENT_FALLING_EDGE)
        high = false;
    else
        return;
    raw_edge(b, high != b->active_low, t);
}

static size_t record_size(const struct button *b)
{
    return b->src == BUTTON_SRC_EVDEV ? sizeof(struct input_event) : sizeof(struct gpioevent_data);
}

int button_on_readable(struct button *b, uint64_t now_ms)
{
    size_t rs = record_size(b);

    if (b->err || b->fd < 0)
        return b->err;
    for (;;) {
        ssize_t n = read(b->fd, b->buf + b->have, sizeof(b->buf) - b->have);
        size_t off = 0;

        if (n == 0) {
            fail(b, -ENODEV, now_ms);
            return b->err;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            fail(b, -errno, now_ms);
            return b->err;
        }
        b->have += (size_t)n;
        for (; b->have - off >= rs; off += rs) {
            if (b->src == BUTTON_SRC_EVDEV) {
                struct input_event ie;
                memcpy(&ie, b->buf + off, sizeof(ie));
                evdev_record(b, &ie, now_ms);
            } else {
                struct gpioevent_data ge;
                memcpy(&ge, b->buf + off, sizeof(ge));
                gpio_record(b, &ge, now_ms);
            }
        }
        /* keep a partial record for the next read */
        memmove(b->buf, b->buf + off, b->have - off);
        b->have -= off;
    }
    advance(b, stamp(b, now_ms, now_ms));
    return 0;
}

/* ---- opening ----------------------------------------------------------------------- */

static void init_state(struct button *b, bool pressed, uint64_t now)
{
    b->have = 0;
    b->syn_dropped = false;
    b->err = 0;
    b->locked = false;
    b->raw = b->stable = pressed;
    b->raw_t = now;
    b->gs = pressed ? G_HELD_UNSEEN : G_IDLE;
    if (now > b->t_last)
        b->t_last = now;
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -errno;
    return 0;
}

static int open_evdev(struct button *b, bool *pressed, char *err, size_t errlen)
{
    unsigned char bits[KEY_MAX / 8 + 1];
    int clk = CLOCK_MONOTONIC;
    int r;

    b->fd = open(b->device, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (b->fd < 0) {
        r = -errno;
        snprintf(err, errlen, "button: cannot open %s: %s", b->device, strerror(errno));
        return r;
    }
    memset(bits, 0, sizeof(bits));
    if (ioctl(b->fd, EVIOCGBIT(EV_KEY, sizeof(bits)), bits) < 0) {
        r = -errno;
        snprintf(err, errlen, "button: %s is not an input event device: %s", b->device, strerror(errno));
        goto out_close;
    }
    if (!((bits[b->key_code / 8] >> (b->key_code % 8)) & 1)) {
        r = -ENOENT;
        snprintf(err, errlen, "button: %s never reports key code %u (check key_code with evtest)", b->device,
                 b->key_code);
        goto out_close;
    }
    /* stamp events with CLOCK_MONOTONIC like everything else in harkd */
    (void)ioctl(b->fd, EVIOCSCLOCKID, &clk);
    if (b->grab && ioctl(b->fd, EVIOCGRAB, 1) < 0) {
        r = -errno;
        snprintf(err, errlen, "button: cannot grab %s: %s", b->device, strerror(errno));
        goto out_close;
    }
    memset(bits, 0, sizeof(bits));
    *pressed = ioctl(b->fd, EVIOCGKEY(sizeof(bits)), bits) >= 0 && ((bits[b->key_code / 8] >> (b->key_code % 8)) & 1);
    return 0;

out_close:
    close(b->fd);
    b->fd = -1;
    return r;
}

static int open_gpio(struct button *b, bool *pressed, char *err, size_t errlen)
{
    struct gpiod_line *line;
    int r, v;

    b->chip = gpiod_chip_open_lookup(b->gpio_chip);
    if (!b->chip) {
        r = -errno;
        snprintf(err, errlen, "button: cannot open GPIO chip %s: %s", b->gpio_chip, strerror(errno));
        return r;
    }
    line = gpiod_chip_get_line(b->chip, b->gpio_line);
    if (!line) {
        r = -errno;
        snprintf(err, errlen, "button: %s has no line %u: %s", b->gpio_chip, b->gpio_line, strerror(errno));
        goto out_close;
    }
    /* no ACTIVE_LOW request flag: edges stay physical, active_low is applied here */
    if (gpiod_line_request_both_edges_events(line, "harkd-button") < 0) {
        r = -errno;
        snprintf(err, errlen, "button: cannot request %s line %u for edge events: %s", b->gpio_chip,
                 b->gpio_line, strerror(errno));
        goto out_close;
    }
    b->fd = gpiod_line_event_get_fd(line);
    v = gpiod_line_get_value(line);
    if (b->fd < 0 || v < 0 || (r = set_nonblock(b->fd)) < 0) {
        r = -errno;
        snprintf(err, errlen, "button: %s line %u: %s", b->gpio_chip, b->gpio_line, strerror(errno));
        goto out_close;
    }
    *pressed = (v != 0) != b->active_low;
    return 0;

out_close:
    gpiod_chip_close(b->chip);   /* releases the line too */
    b->chip = NULL;
    b->fd = -1;
    return r;
}

static void close_source(struct button *b)
{
    if (b->chip)
        gpiod_chip_close(b->chip);   /* closes the line's event fd */
    else if (b->fd >= 0)
        close(b->fd);
    b->chip = NULL;
    b->fd = -1;
}

static int open_source(struct button *b, uint64_t now, char *err, size_t errlen)
{
    bool pressed = false;
    int r = 0;

    if (b->src == BUTTON_SRC_EVDEV)
        r = open_evdev(b, &pressed, err, errlen);
    else if (b->src == BUTTON_SRC_GPIO)
        r = open_gpio(b, &pressed, err, errlen);
    if (r < 0)
        return r;
    init_state(b, pressed, now);
    return 0;
}

static struct button *alloc_button(enum button_source src, unsigned key_code, bool active_low,
                                   const struct button_gesture_cfg *g, button_cb cb, void *ctx)
{
    struct button *b = calloc(1, sizeof(*b));

    if (!b)
        return NULL;
    b->src = src;
    b->fd = -1;
    b->key_code = key_code;
    b->active_low = active_low;
    b->g = *g;
    /* a window no longer than the debounce lockout could never see a second press */
    if (b->g.double_press_ms && b->g.double_press_ms <= b->g.debounce_ms)
        b->g.double_press_ms = b->g.debounce_ms + 1;
    if (b->g.long_press_ms <= b->g.debounce_ms)
        b->g.long_press_ms = b->g.debounce_ms + 1;
    b->cb = cb;
    b->ctx = ctx;
    return b;
}

struct button *button_create(const struct board_cfg *board, button_cb cb, void *ctx, uint64_t now_ms,
                             char *err, size_t errlen)
{
    static const enum button_source src_of[] = {
        [BUTTON_NONE] = BUTTON_SRC_NONE, [BUTTON_EVDEV] = BUTTON_SRC_EVDEV, [BUTTON_GPIO] = BUTTON_SRC_GPIO,
    };
    struct button_gesture_cfg g = button_gesture_cfg_from_board(board);
    struct button *b;

    if ((unsigned)board->button.type >= sizeof(src_of) / sizeof(src_of[0]) || board->button.key_code > KEY_MAX) {
        snprintf(err, errlen, "button: bad configuration");
        return NULL;
    }
    b = alloc_button(src_of[board->button.type], board->button.key_code, board->button.active_low, &g, cb, ctx);
    if (!b) {
        snprintf(err, errlen, "button: out of memory");
        return NULL;
    }
    b->from_board = true;
    snprintf(b->device, sizeof(b->device), "%s", board->button.device);
    snprintf(b->gpio_chip, sizeof(b->gpio_chip), "%s", board->button.gpio_chip);
    b->gpio_line = board->button.gpio_line;
    b->grab = board->button.grab;
    if (open_source(b, now_ms, err, errlen) < 0) {
        free(b);
        return NULL;
    }
    return b;
}

struct button *button_create_fd(enum button_source src, int fd, unsigned key_code, bool active_low,
                                bool initially_pressed, const struct button_gesture_cfg *g,
                                button_cb cb, void *ctx, uint64_t now_ms)
{
    struct button *b;

    if (src == BUTTON_SRC_NONE || fd < 0 || key_code > KEY_MAX || set_nonblock(fd) < 0)
        return NULL;
    b = alloc_button(src, key_code, active_low, g, cb, ctx);
    if (!b)
        return NULL;
    b->fd = fd;
    init_state(b, initially_pressed, now_ms);
    return b;
}

int button_reopen(struct button *b, uint64_t now_ms, char *err, size_t errlen)
{
    if (!b->from_board) {
        snprintf(err, errlen, "button: this source cannot be reopened");
        return -EINVAL;
    }
    close_source(b);
    return open_source(b, now_ms, err, errlen);
}

void button_destroy(struct button *b)
{
    if (!b)
        return;
    close_source(b);
    free(b);
}

int button_fd(const struct button *b)
{
    return b->fd;
}

bool button_is_pressed(const struct button *b)
{
    return b->stable;
}

bool button_failed(const struct button *b)
{
    return b->err != 0;
}
