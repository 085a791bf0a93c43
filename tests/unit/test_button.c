/*
 * test_button.c - the button driver fed through a pipe(2): raw struct
 * input_event records (evdev) and struct gpioevent_data records (the GPIO
 * line event fd) go in, debounced gestures with exact timestamps come out.
 * Covers bounce collapsing, tap / long press / double press at and around
 * their boundaries, autorepeat and foreign key codes ignored, records split
 * across reads, a batched late read classifying like a prompt one, foreign
 * clocks, EOF and read errors reported as an error state, injection, open
 * errors and the [button] gesture keys of board.conf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/gpio.h>
#include <linux/input.h>

#include "button.h"
#include "config.h"

/* Test times are offsets from T0 (monotonic ms); T0 is well past zero. */
#define T0 1000000ull
#define KEY 28u          /* KEY_ENTER */
#define MAX_EV 64

static struct {
    struct button_event ev[MAX_EV];
    unsigned n;
} rec;

static int wfd;          /* write end of the pipe */

static void record_cb(void *ctx, const struct button_event *ev)
{
    (void)ctx;
    assert_true(rec.n < MAX_EV);
    rec.ev[rec.n++] = *ev;
}

static const struct button_gesture_cfg G = { .debounce_ms = 20, .long_press_ms = 800, .double_press_ms = 350 };

static struct button *make(enum button_source src, bool active_low, const struct button_gesture_cfg *g)
{
    int p[2];
    struct button *b;

    memset(&rec, 0, sizeof(rec));
    assert_int_equal(pipe(p), 0);
    wfd = p[1];
    b = button_create_fd(src, p[0], KEY, active_low, false, g ? g : &G, record_cb, NULL, T0);
    assert_non_null(b);
    assert_int_equal(button_fd(b), p[0]);
    return b;
}

static void finish(struct button *b)
{
    button_destroy(b);
    if (wfd >= 0)
        close(wfd);
    wfd = -1;
}

static void put(const void *data, size_t len)
{
    assert_int_equal(write(wfd, data, len), (ssize_t)len);
}

static struct input_event ie_make(uint64_t t_ms, unsigned type, unsigned code, int value)
{
    struct input_event ie;

    memset(&ie, 0, sizeof(ie));
    ie.input_event_sec = (long)((T0 + t_ms) / 1000);
    ie.input_event_usec = (long)((T0 + t_ms) % 1000 * 1000 + 250);   /* sub-ms part is dropped */
    ie.type = (uint16_t)type;
    ie.code = (uint16_t)code;
    ie.value = value;
    return ie;
}

/* A key edge as gpio-keys sends it: EV_KEY then SYN_REPORT. */
static void key(uint64_t t_ms, int value)
{
    struct input_event ev[2] = { ie_make(t_ms, EV_KEY, KEY, value), ie_make(t_ms, EV_SYN, SYN_REPORT, 0) };
    put(ev, sizeof(ev));
}

static void gpio_edge(uint64_t t_ms, bool rising)
{
    struct gpioevent_data ge;

    memset(&ge, 0, sizeof(ge));
    ge.timestamp = (T0 + t_ms) * 1000000ull + 123456;
    ge.id = rising ? GPIOEVENT_EVENT_RISING_EDGE : GPIOEVENT_EVENT_FALLING_EDGE;
    put(&ge, sizeof(ge));
}

static void expect(unsigned i, enum button_event_type type, uint64_t t_ms, uint64_t press_ms, uint32_t held)
{
    assert_true(i < rec.n);
    if (rec.ev[i].type != type)
        fail_msg("event %u: %s, expected %s", i, button_event_name(rec.ev[i].type), button_event_name(type));
    assert_int_equal(rec.ev[i].t_ms, T0 + t_ms);
    assert_int_equal(rec.ev[i].press_ms, T0 + press_ms);
    if (type == BUTTON_EV_RELEASE || type == BUTTON_EV_TAP)
        assert_int_equal(rec.ev[i].held_ms, held);
}

static void readable(struct button *b, uint64_t now)
{
    assert_int_equal(button_on_readable(b, T0 + now), 0);
}

/* ---- evdev ---------------------------------------------------------------------------- */

static void test_evdev_bounce_collapses_to_one_tap(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    /* contact bounce on press (0..9 ms) and on release (300..306 ms) */
    key(0, 1), key(2, 0), key(4, 1), key(6, 0), key(9, 1);
    readable(b, 10);
    assert_int_equal(rec.n, 1);
    expect(0, BUTTON_EV_PRESS, 0, 0, 0);
    assert_true(button_is_pressed(b));
    /* window ends at 20: the level settled on "down", nothing new */
    assert_int_equal(button_next_deadline(b), T0 + 20);
    button_on_timer(b, T0 + 20);
    assert_int_equal(rec.n, 1);
    assert_int_equal(button_next_deadline(b), T0 + 800);   /* long press */

    key(300, 0), key(301, 1), key(303, 0), key(306, 1), key(306, 0);
    readable(b, 307);
    assert_int_equal(rec.n, 2);
    expect(1, BUTTON_EV_RELEASE, 300, 0, 300);
    assert_false(button_is_pressed(b));
    button_on_timer(b, T0 + 320);
    assert_int_equal(rec.n, 2);
    /* the tap waits for the double-press window: 300 + 350 */
    assert_int_equal(button_next_deadline(b), T0 + 650);
    button_on_timer(b, T0 + 649);
    assert_int_equal(rec.n, 2);
    button_on_timer(b, T0 + 650);
    assert_int_equal(rec.n, 3);
    expect(2, BUTTON_EV_TAP, 650, 0, 300);
    assert_int_equal(button_next_deadline(b), BUTTON_NO_DEADLINE);
    finish(b);
}

static void test_evdev_release_inside_window_is_taken_at_window_end(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1), key(12, 0);
    readable(b, 13);
    assert_int_equal(rec.n, 1);              /* the release is held back by the lockout */
    assert_int_equal(button_next_deadline(b), T0 + 20);
    button_on_timer(b, T0 + 20);
    assert_int_equal(rec.n, 2);
    expect(1, BUTTON_EV_RELEASE, 12, 0, 12); /* stamped when it happened */
    button_on_timer(b, T0 + 12 + 350);
    assert_int_equal(rec.n, 3);
    expect(2, BUTTON_EV_TAP, 362, 0, 12);
    finish(b);
}

static void test_evdev_long_press(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1);
    readable(b, 1);
    button_on_timer(b, T0 + 799);
    assert_int_equal(rec.n, 1);
    button_on_timer(b, T0 + 800);
    assert_int_equal(rec.n, 2);
    expect(1, BUTTON_EV_LONG_PRESS, 800, 0, 0);
    assert_true(button_is_pressed(b));
    key(1500, 0);
    readable(b, 1501);
    assert_int_equal(rec.n, 3);
    expect(2, BUTTON_EV_RELEASE, 1500, 0, 1500);
    button_on_timer(b, T0 + 5000);
    assert_int_equal(rec.n, 3);              /* no tap after a long press */
    assert_int_equal(button_next_deadline(b), BUTTON_NO_DEADLINE);
    finish(b);
}

static void test_evdev_release_just_before_long_press_is_a_tap(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1), key(799, 0);
    readable(b, 900);
    button_on_timer(b, T0 + 2000);
    assert_int_equal(rec.n, 3);
    expect(1, BUTTON_EV_RELEASE, 799, 0, 799);
    expect(2, BUTTON_EV_TAP, 799 + 350, 0, 799);
    finish(b);
}

static void test_evdev_double_press(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1), key(100, 0), key(449, 1), key(1500, 0);   /* second press 349 ms after release */
    readable(b, 1600);
    button_on_timer(b, T0 + 5000);
    assert_int_equal(rec.n, 5);
    expect(0, BUTTON_EV_PRESS, 0, 0, 0);
    expect(1, BUTTON_EV_RELEASE, 100, 0, 100);
    expect(2, BUTTON_EV_PRESS, 449, 449, 0);
    expect(3, BUTTON_EV_DOUBLE_PRESS, 449, 0, 0);
    /* held long after the double press: no long press, no tap */
    expect(4, BUTTON_EV_RELEASE, 1500, 449, 1051);
    finish(b);
}

static void test_evdev_second_press_at_window_end_is_two_taps(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1), key(100, 0), key(450, 1), key(500, 0);    /* exactly 350 ms after release */
    readable(b, 501);
    button_on_timer(b, T0 + 850);
    assert_int_equal(rec.n, 6);
    expect(2, BUTTON_EV_TAP, 450, 0, 100);
    expect(3, BUTTON_EV_PRESS, 450, 450, 0);
    expect(4, BUTTON_EV_RELEASE, 500, 450, 50);
    expect(5, BUTTON_EV_TAP, 850, 450, 50);
    finish(b);
}

static void test_evdev_batched_late_read_classifies_by_timestamps(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    /* the main loop was busy: everything is read at once, 2.1 s later */
    key(0, 1), key(100, 0), key(1000, 1), key(2000, 0);
    readable(b, 2100);
    assert_int_equal(rec.n, 6);
    expect(0, BUTTON_EV_PRESS, 0, 0, 0);
    expect(1, BUTTON_EV_RELEASE, 100, 0, 100);
    expect(2, BUTTON_EV_TAP, 450, 0, 100);
    expect(3, BUTTON_EV_PRESS, 1000, 1000, 0);
    expect(4, BUTTON_EV_LONG_PRESS, 1800, 1000, 0);
    expect(5, BUTTON_EV_RELEASE, 2000, 1000, 1000);
    finish(b);
}

static void test_evdev_autorepeat_and_other_codes_ignored(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);
    struct input_event noise[] = {
        ie_make(0, EV_MSC, MSC_SCAN, 0x1c),
        ie_make(0, EV_KEY, KEY + 1, 1),          /* another key */
        ie_make(5, EV_KEY, KEY + 1, 0),
        ie_make(5, EV_KEY, KEY, 2),              /* a repeat without a press */
        ie_make(5, EV_REL, REL_X, 1),
        ie_make(5, EV_SYN, SYN_REPORT, 0),
    };

    (void)state;
    put(noise, sizeof(noise));
    readable(b, 6);
    assert_int_equal(rec.n, 0);
    key(100, 1);
    for (unsigned t = 350; t < 1400; t += 33)
        key(t, 2);                               /* autorepeat while held */
    key(1400, 0);
    readable(b, 1401);
    button_on_timer(b, T0 + 3000);
    assert_int_equal(rec.n, 3);
    expect(0, BUTTON_EV_PRESS, 100, 100, 0);
    expect(1, BUTTON_EV_LONG_PRESS, 900, 100, 0);
    expect(2, BUTTON_EV_RELEASE, 1400, 100, 1300);
    finish(b);
}

static void test_evdev_partial_records(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);
    struct input_event ev[3] = { ie_make(0, EV_KEY, KEY, 1), ie_make(0, EV_SYN, SYN_REPORT, 0),
                                 ie_make(200, EV_KEY, KEY, 0) };
    const unsigned char *p = (const unsigned char *)ev;
    size_t n = sizeof(ev), cut1 = sizeof(ev[0]) - 5, cut2 = 2 * sizeof(ev[0]) + 3;

    (void)state;
    put(p, cut1);                                /* most of the press record */
    readable(b, 1);
    assert_int_equal(rec.n, 0);
    put(p + cut1, cut2 - cut1);                  /* rest of it, SYN, 3 bytes of the release */
    readable(b, 2);
    assert_int_equal(rec.n, 1);
    expect(0, BUTTON_EV_PRESS, 0, 0, 0);
    for (size_t i = cut2; i < n - 1; i++) {      /* one byte at a time */
        put(p + i, 1);
        readable(b, 3);
    }
    assert_int_equal(rec.n, 1);
    put(p + n - 1, 1);
    readable(b, 201);
    assert_int_equal(rec.n, 2);
    expect(1, BUTTON_EV_RELEASE, 200, 0, 200);
    finish(b);
}

static void test_evdev_record_older_than_a_decision_is_moved_after_it(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1), key(100, 0);
    readable(b, 101);
    button_on_timer(b, T0 + 460);               /* the tap is decided at 450 */
    assert_int_equal(rec.n, 3);
    key(449, 1);                                 /* ... then a press stamped 449 arrives */
    readable(b, 461);
    assert_int_equal(rec.n, 4);
    expect(3, BUTTON_EV_PRESS, 450, 450, 0);     /* a new press, not a double press */
    finish(b);
}

static void test_evdev_foreign_clock_uses_now(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);
    struct input_event ie = ie_make(0, EV_KEY, KEY, 1);

    (void)state;
    /* CLOCK_REALTIME stamp (EVIOCSCLOCKID not honoured): far in the future */
    ie.input_event_sec = 1700000000;
    put(&ie, sizeof(ie));
    readable(b, 40);
    assert_int_equal(rec.n, 1);
    expect(0, BUTTON_EV_PRESS, 40, 40, 0);
    /* a stamp from long before now (another clock) is replaced too */
    ie = ie_make(0, EV_KEY, KEY, 0);
    ie.input_event_sec = 3;
    put(&ie, sizeof(ie));
    readable(b, 500);
    expect(1, BUTTON_EV_RELEASE, 500, 40, 460);
    finish(b);
}

static void test_evdev_eof_while_pressed_is_an_error_state(void **state)
{
    struct button *b = make(BUTTON_SRC_EVDEV, false, NULL);

    (void)state;
    key(0, 1);
    readable(b, 1);
    close(wfd);                                  /* the device went away */
    wfd = -1;
    assert_int_equal(button_on_readable(b, T0 + 300), -ENODEV);
    assert_int_equal(rec.n, 3);
    expect(1, BUTTON_EV_RELEASE, 300, 0, 300);   /* nothing stays held */
    assert_int_equal(rec.ev[2].type, BUTTON_EV_ERROR);
    assert_int_equal(rec.ev[2].err, -ENODEV);
    assert_int_equal(rec.ev[2].t_ms, T0 + 300);
    assert_true(button_failed(b));
    assert_false(button_is_pressed(b));
    assert_int_equal(button_next_deadline(b), BUTTON_NO_DEADLINE);
    /* further calls neither crash nor repeat the error */
    assert_int_equal(button_on_readable(b, T0 + 400), -ENODEV);
    button_on_timer(b, T0 + 5000);
    button_inject(b, true, T0 + 5000);
    assert_int_equal(rec.n, 3);
    {
        char err[128];
        assert_int_equal(button_reopen(b, T0 + 6000, err, sizeof(err)), -EINVAL);
    }
    finish(b);
}

static void test_read_error_is_reported(void **state)
{
    int fd = open("/", O_RDONLY | O_DIRECTORY);
    struct button *b;

    (void)state;
    memset(&rec, 0, sizeof(rec));
    assert_true(fd >= 0);
    b = button_create_fd(BUTTON_SRC_EVDEV, fd, KEY, false, false, &G, record_cb, NULL, T0);
    assert_non_null(b);
    assert_int_equal(button_on_readable(b, T0 + 5), -EISDIR);
    assert_int_equal(rec.n, 1);
    assert_int_equal(rec.ev[0].type, BUTTON_EV_ERROR);
    assert_int_equal(rec.ev[0].err, -EISDIR);
    button_destroy(b);
}

/* ---- gpio ----------------------------------------------------------------------------- */

static void test_gpio_active_low_bounce_tap_double(void **state)
{
    struct button *b = make(BUTTON_SRC_GPIO, true, NULL);

    (void)state;
    /* active low: falling = pressed; bounce on both edges; the kernel can
     * report two edges of the same direction, which change nothing */
    gpio_edge(0, false), gpio_edge(1, true), gpio_edge(3, false), gpio_edge(3, false);
    gpio_edge(150, true), gpio_edge(152, false), gpio_edge(155, true);
    readable(b, 160);
    assert_int_equal(rec.n, 2);
    expect(0, BUTTON_EV_PRESS, 0, 0, 0);
    expect(1, BUTTON_EV_RELEASE, 150, 0, 150);
    gpio_edge(400, false), gpio_edge(405, true), gpio_edge(407, false);   /* double press, bouncy */
    gpio_edge(480, true);
    readable(b, 481);
    button_on_timer(b, T0 + 3000);
    assert_int_equal(rec.n, 5);
    expect(2, BUTTON_EV_PRESS, 400, 400, 0);
    expect(3, BUTTON_EV_DOUBLE_PRESS, 400, 0, 0);
    expect(4, BUTTON_EV_RELEASE, 480, 400, 80);
    finish(b);
}

static void test_gpio_active_high_long_press_and_partial(void **state)
{
    struct button *b = make(BUTTON_SRC_GPIO, false, NULL);
    struct gpioevent_data ge[2];
    const unsigned char *p = (const unsigned char *)ge;

    (void)state;
    memset(ge, 0, sizeof(ge));
    ge[0].timestamp = (T0 + 10) * 1000000ull;
    ge[0].id = GPIOEVENT_EVENT_RISING_EDGE;      /* active high: rising = pressed */
    ge[1].timestamp = (T0 + 1210) * 1000000ull + 999999;
    ge[1].id = GPIOEVENT_EVENT_FALLING_EDGE;
    put(p, 7);
    readable(b, 11);
    assert_int_equal(rec.n, 0);
    put(p + 7, sizeof(ge) - 7 - 1);
    readable(b, 12);
    assert_int_equal(rec.n, 1);
    expect(0, BUTTON_EV_PRESS, 10, 10, 0);
    button_on_timer(b, T0 + 810);
    expect(1, BUTTON_EV_LONG_PRESS, 810, 10, 0);
    put(p + sizeof(ge) - 1, 1);
    readable(b, 1300);
    assert_int_equal(rec.n, 3);
    expect(2, BUTTON_EV_RELEASE, 1210, 10, 1200);
    finish(b);
}

static void test_gpio_unknown_event_id_ignored(void **state)
{
    struct button *b = make(BUTTON_SRC_GPIO, true, NULL);
    struct gpioevent_data ge;

    (void)state;
    memset(&ge, 0, sizeof(ge));
    ge.timestamp = T0 * 1000000ull;
    ge.id = 7;
    put(&ge, sizeof(ge));
    readable(b, 1);
    assert_int_equal(rec.n, 0);
    finish(b);
}

/* ---- configuration variants ------------------------------------------------------------- */

static void test_no_double_press_reports_tap_at_release(void **state)
{
    const struct button_gesture_cfg g = { .debounce_ms = 20, .long_press_ms = 800, .double_press_ms = 0 };
    struct button *b = make(BUTTON_SRC_EVDEV, false, &g);

    (void)state;
    key(0, 1), key(90, 0), key(200, 1), key(260, 0);
    readable(b, 261);
    assert_int_equal(rec.n, 6);
    expect(2, BUTTON_EV_TAP, 90, 0, 90);
    expect(5, BUTTON_EV_TAP, 260, 200, 60);
    assert_int_equal(button_next_deadline(b), T0 + 280);   /* only the debounce window */
    finish(b);
}

static void test_debounce_zero_takes_every_edge(void **state)
{
    const struct button_gesture_cfg g = { .debounce_ms = 0, .long_press_ms = 800, .double_press_ms = 0 };
    struct button *b = make(BUTTON_SRC_EVDEV, false, &g);

    (void)state;
    key(0, 1), key(2, 0), key(4, 1), key(6, 0);
    readable(b, 7);
    assert_int_equal(rec.n, 6);
    expect(3, BUTTON_EV_PRESS, 4, 4, 0);
    expect(5, BUTTON_EV_TAP, 6, 4, 2);
    assert_int_equal(button_next_deadline(b), BUTTON_NO_DEADLINE);
    finish(b);
}

static void test_held_at_open_reports_nothing_until_next_press(void **state)
{
    int p[2];
    struct button *b;

    (void)state;
    memset(&rec, 0, sizeof(rec));
    assert_int_equal(pipe(p), 0);
    wfd = p[1];
    b = button_create_fd(BUTTON_SRC_EVDEV, p[0], KEY, false, true, &G, record_cb, NULL, T0);
    assert_non_null(b);
    assert_true(button_is_pressed(b));
    key(2000, 0);                               /* no long press, no release for an unseen press */
    readable(b, 2001);
    assert_int_equal(rec.n, 0);
    key(2500, 1);
    readable(b, 2501);
    assert_int_equal(rec.n, 1);
    expect(0, BUTTON_EV_PRESS, 2500, 2500, 0);
    finish(b);
}

/* ---- create from board.conf ------------------------------------------------------------ */

static char dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hark-test-button-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char BOARD[] =
    "[board]\nname = t\n[mics]\ncount = 1\ngeometry = linear\nspacing_mm = 10\n"
    "[capture]\ndevice = c\nrate = 16000\nchannels = 1\nformat = S16_LE\nperiod_frames = 160\n"
    "buffer_frames = 1280\nchannel_map = 0\n"
    "[playback]\ndevice = p\nrate = 16000\nchannels = 1\nformat = S16_LE\nperiod_frames = 160\n"
    "buffer_frames = 1280\n";

static int load_board(const char *button_section, struct board_cfg *board, struct config_diag *diag)
{
    char path[128], text[2048];
    FILE *f;

    snprintf(path, sizeof(path), "%s/board.conf", dir);
    snprintf(text, sizeof(text), "%s[button]\n%s", BOARD, button_section);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    memset(diag, 0, sizeof(*diag));
    return config_load_board(path, board, diag);
}

static void test_board_gesture_keys(void **state)
{
    struct board_cfg board;
    struct config_diag diag;
    struct button_gesture_cfg g;

    (void)state;
    assert_int_equal(load_board("type = none\n", &board, &diag), 0);
    assert_int_equal(board.button.mode, BUTTON_MODE_TAP);
    assert_int_equal(board.button.long_press_ms, 800);
    assert_int_equal(board.button.double_press_ms, 350);
    assert_int_equal(board.button.long_press, BUTTON_ACTION_MUTE);
    assert_int_equal(board.button.double_press, BUTTON_ACTION_NONE);
    assert_false(board.button.grab);
    g = button_gesture_cfg_from_board(&board);
    assert_int_equal(g.double_press_ms, 0);       /* double press off: taps not held back */

    assert_int_equal(load_board("type = none\nmode = push\nlong_press_ms = 1500\ndouble_press_ms = 400\n"
                                "long_press = none\ndouble_press = mute\ngrab = true\n", &board, &diag), 0);
    assert_int_equal(board.button.mode, BUTTON_MODE_PUSH);
    assert_int_equal(board.button.long_press, BUTTON_ACTION_NONE);
    assert_int_equal(board.button.double_press, BUTTON_ACTION_MUTE);
    assert_true(board.button.grab);
    g = button_gesture_cfg_from_board(&board);
    assert_int_equal(g.long_press_ms, 1500);
    assert_int_equal(g.double_press_ms, 400);

    assert_int_equal(load_board("type = none\nmode = hold\n", &board, &diag), -EINVAL);
    assert_non_null(strstr(diag.msg[0], "[button] mode: expected one of tap, push; got 'hold'"));
    assert_int_equal(load_board("type = none\nlong_press_ms = 50\n", &board, &diag), -EINVAL);
    assert_non_null(strstr(diag.msg[0], "[button] long_press_ms: expected an integer 200..10000"));
    assert_int_equal(load_board("type = none\ndebounce_ms = 500\ndouble_press = cancel\n", &board, &diag),
                     -EINVAL);
    assert_non_null(strstr(diag.msg[0], "[button] double_press_ms: 350 must be longer than debounce_ms (500)"));
}

static void test_create_none_is_driven_by_inject(void **state)
{
    struct board_cfg board;
    struct config_diag diag;
    char err[256];
    struct button *b;

    (void)state;
    memset(&rec, 0, sizeof(rec));
    assert_int_equal(load_board("type = none\nlong_press_ms = 1000\n", &board, &diag), 0);
    b = button_create(&board, record_cb, NULL, T0, err, sizeof(err));
    assert_non_null(b);
    assert_int_equal(button_fd(b), -1);
    assert_int_equal(button_on_readable(b, T0), 0);
    button_inject(b, true, T0 + 10);
    button_inject(b, false, T0 + 130);
    assert_int_equal(rec.n, 3);                   /* press, release, tap at once (double press off) */
    expect(2, BUTTON_EV_TAP, 130, 10, 120);
    button_inject(b, true, T0 + 200);
    button_on_timer(b, T0 + 1200);
    expect(4, BUTTON_EV_LONG_PRESS, 1200, 200, 0);
    button_destroy(b);
}

static void test_create_errors_are_clear(void **state)
{
    struct board_cfg board;
    struct config_diag diag;
    char err[256], section[256];
    struct button *b;

    (void)state;
    snprintf(section, sizeof(section), "type = evdev\ndevice = %s/no-such-event\nkey_code = 28\n", dir);
    assert_int_equal(load_board(section, &board, &diag), 0);
    err[0] = '\0';
    assert_null(button_create(&board, record_cb, NULL, T0, err, sizeof(err)));
    assert_non_null(strstr(err, "button: cannot open"));
    assert_non_null(strstr(err, "no-such-event: No such file or directory"));

    /* a regular file is not an input device */
    snprintf(section, sizeof(section), "type = evdev\ndevice = %s/board.conf\nkey_code = 28\n", dir);
    assert_int_equal(load_board(section, &board, &diag), 0);
    b = button_create(&board, record_cb, NULL, T0, err, sizeof(err));
    assert_null(b);
    assert_non_null(strstr(err, "is not an input event device"));

    assert_int_equal(load_board("type = gpio\ngpio_chip = hark-no-such-chip\ngpio_line = 17\n", &board, &diag), 0);
    assert_null(button_create(&board, record_cb, NULL, T0, err, sizeof(err)));
    assert_non_null(strstr(err, "button: cannot open GPIO chip hark-no-such-chip"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evdev_bounce_collapses_to_one_tap),
        cmocka_unit_test(test_evdev_release_inside_window_is_taken_at_window_end),
        cmocka_unit_test(test_evdev_long_press),
        cmocka_unit_test(test_evdev_release_just_before_long_press_is_a_tap),
        cmocka_unit_test(test_evdev_double_press),
        cmocka_unit_test(test_evdev_second_press_at_window_end_is_two_taps),
        cmocka_unit_test(test_evdev_batched_late_read_classifies_by_timestamps),
        cmocka_unit_test(test_evdev_autorepeat_and_other_codes_ignored),
        cmocka_unit_test(test_evdev_partial_records),
        cmocka_unit_test(test_evdev_record_older_than_a_decision_is_moved_after_it),
        cmocka_unit_test(test_evdev_foreign_clock_uses_now),
        cmocka_unit_test(test_evdev_eof_while_pressed_is_an_error_state),
        cmocka_unit_test(test_read_error_is_reported),
        cmocka_unit_test(test_gpio_active_low_bounce_tap_double),
        cmocka_unit_test(test_gpio_active_high_long_press_and_partial),
        cmocka_unit_test(test_gpio_unknown_event_id_ignored),
        cmocka_unit_test(test_no_double_press_reports_tap_at_release),
        cmocka_unit_test(test_debounce_zero_takes_every_edge),
        cmocka_unit_test(test_held_at_open_reports_nothing_until_next_press),
        cmocka_unit_test_setup_teardown(test_board_gesture_keys, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_create_none_is_driven_by_inject, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_create_errors_are_clear, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
