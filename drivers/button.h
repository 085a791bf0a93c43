/*
 * button.h - the board's button: raw edges in, debounced gestures out.
 *
 * Two sources deliver raw edges on one non-blocking fd that the main loop
 * polls:
 *   evdev  a Linux input device (gpio-keys): struct input_event records,
 *          EV_KEY with the board's key_code, value 1 = down, 0 = up,
 *          2 (autorepeat) ignored; SYN_DROPPED resynchronises the key state.
 *   gpio   a GPIO line requested through libgpiod for both edges: the
 *          line's event fd carries the kernel's struct gpioevent_data
 *          (linux/gpio.h, uapi v1, what gpiod_line_event_read_fd decodes);
 *          rising = line high, pressed = high XOR active_low.
 * Records are reassembled across short reads, so a fd that returns partial
 * records (a pipe in the tests) loses nothing.
 *
 * Debounce (both sources, in software): the first edge after a quiet period
 * is taken at once (a press reaches the state machine with no added delay,
 * which barge-in needs), then edges are ignored for debounce_ms; if the raw
 * level at the end of that window differs from the accepted one, the change
 * is taken then, stamped with the time of the last raw edge.
 *
 * Gestures, all stamped with the source's own event times (CLOCK_MONOTONIC
 * milliseconds; timestamps from another clock are replaced by `now`):
 *   PRESS          every debounced press, at once.
 *   RELEASE        every debounced release (held_ms = how long it was down).
 *   LONG_PRESS     held for long_press_ms; reported while still held.
 *   DOUBLE_PRESS   a second press within double_press_ms of the release of
 *                  a short first press; reported at the second press.
 *   TAP            a short press (released before long_press_ms) that no
 *                  second press followed: reported double_press_ms after the
 *                  release, or at the release when double_press_ms is 0.
 *   ERROR          the device went away (EOF, ENODEV, read error); a press
 *                  in progress is released first so nothing stays held.
 * A press ends up as exactly one of TAP, LONG_PRESS or (with the press that
 * follows it) DOUBLE_PRESS; PRESS/RELEASE pairs are reported regardless, so
 * the state machine can run push-to-talk (PRESS/RELEASE) or tap-to-talk (TAP)
 * from the same stream.
 *
 * Threads: main thread only. Nothing here blocks, allocates after create, or
 * logs; errors come back as -errno plus a message buffer.
 */
#ifndef HARK_BUTTON_H
#define HARK_BUTTON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define BUTTON_NO_DEADLINE UINT64_MAX

enum button_event_type {
    BUTTON_EV_PRESS = 0,
    BUTTON_EV_RELEASE,
    BUTTON_EV_TAP,
    BUTTON_EV_LONG_PRESS,
    BUTTON_EV_DOUBLE_PRESS,
    BUTTON_EV_ERROR,
};

struct button_event {
    enum button_event_type type;
    uint64_t t_ms;          /* when the gesture was recognised (monotonic ms) */
    uint64_t press_ms;      /* the press it belongs to (DOUBLE_PRESS: the first press) */
    uint32_t held_ms;       /* RELEASE, TAP: how long the button was down */
    int err;                /* ERROR: -errno (-ENODEV for EOF/unplug) */
};

typedef void (*button_cb)(void *ctx, const struct button_event *ev);

/* The source a fd carries (button_create_fd). */
enum button_source { BUTTON_SRC_EVDEV = 0, BUTTON_SRC_GPIO, BUTTON_SRC_NONE };

struct button_gesture_cfg {
    unsigned debounce_ms;      /* 0 = no debouncing */
    unsigned long_press_ms;    /* > debounce_ms */
    unsigned double_press_ms;  /* 0 = no double press: taps are reported at release */
};

struct button;

/* The gesture timing a board's [button] section asks for. double_press_ms
 * is 0 when `double_press = none`, so taps are not held back for nothing. */
struct button_gesture_cfg button_gesture_cfg_from_board(const struct board_cfg *board);

/* Opens the board's button (type none: a button without a fd that only
 * button_inject() drives, the sim4 / harkctl case). NULL with err set when
 * the device cannot be opened or on OOM. now_ms: the monotonic clock. */
struct button *button_create(const struct board_cfg *board, button_cb cb, void *ctx, uint64_t now_ms,
                             char *err, size_t errlen);

/* Wraps an already open fd carrying `src` records (tests: a pipe). Takes
 * ownership of fd (closed by destroy) and makes it non-blocking. key_code
 * and active_low as in board.conf; initially_pressed: the level at open. */
struct button *button_create_fd(enum button_source src, int fd, unsigned key_code, bool active_low,
                                bool initially_pressed, const struct button_gesture_cfg *g,
                                button_cb cb, void *ctx, uint64_t now_ms);
void button_destroy(struct button *b);

/* The fd to poll for EPOLLIN, or -1 for type none. It stays the same after
 * an error until button_reopen()/button_destroy(), so the caller can take it
 * out of its loop first. */
int button_fd(const struct button *b);

/* Reads every record available and runs the gesture logic. Returns 0, or
 * -errno when the source failed (-ENODEV for EOF/unplug); an ERROR event has
 * then been delivered once. The caller removes the fd from its loop before
 * calling button_reopen() or button_destroy(). */
int button_on_readable(struct button *b, uint64_t now_ms);

/* Earliest time at which button_on_timer() has work (debounce window end,
 * long-press or double-press deadline), or BUTTON_NO_DEADLINE. */
uint64_t button_next_deadline(const struct button *b);
void button_on_timer(struct button *b, uint64_t now_ms);

/* A raw edge from elsewhere (harkctl press/release), run through the same
 * debounce and gesture logic as hardware edges. */
void button_inject(struct button *b, bool pressed, uint64_t now_ms);

/* After an error: closes the old fd and opens the device again (button_create
 * sources only). 0 or -errno with err set. */
int button_reopen(struct button *b, uint64_t now_ms, char *err, size_t errlen);

bool button_is_pressed(const struct button *b);   /* debounced level */
bool button_failed(const struct button *b);

const char *button_event_name(enum button_event_type t);

#endif
