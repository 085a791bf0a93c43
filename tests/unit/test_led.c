/*
 * test_led.c - the LED driver: APA102 frame bytes for known colours (built
 * by hand from the datasheet layout), the APA102 backend writing into a FIFO
 * and a regular file instead of spidev, the sysfs backend writing into a
 * temporary LED class tree, the pattern of every state at given instants
 * (pulse, breathing and blink periods, the talker spot on a ring), writes
 * only on change, and missing or failing devices falling back to the null
 * backend with a clear message.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "led.h"

#define T0 500000ull

static char dir[64];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hark-test-led-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct board_cfg board_led(enum led_type type, unsigned count)
{
    struct board_cfg b;

    memset(&b, 0, sizeof(b));
    b.led.type = type;
    b.led.count = count;
    b.led.power_gpio_line = -1;
    b.led.brightness = 100;
    b.led.idle = LED_IDLE_OFF;
    return b;
}

static void assert_rgb(struct led_rgb c, unsigned r, unsigned g, unsigned b)
{
    if (c.r != r || c.g != g || c.b != b)
        fail_msg("pixel (%u,%u,%u), expected (%u,%u,%u)", c.r, c.g, c.b, r, g, b);
}

/* ---- APA102 frame ------------------------------------------------------------------------ */

static void test_apa102_frame_bytes(void **state)
{
    const struct led_rgb px[3] = { { 255, 0, 0 }, { 0, 255, 0 }, { 1, 2, 3 } };
    const uint8_t want[] = {
        0x00, 0x00, 0x00, 0x00,           /* start frame */
        0xFF, 0x00, 0x00, 0xFF,           /* 111 + 31, B, G, R: red */
        0xFF, 0x00, 0xFF, 0x00,           /* green */
        0xFF, 0x03, 0x02, 0x01,           /* (1,2,3) goes out as B=3 G=2 R=1 */
        0xFF, 0xFF, 0xFF, 0xFF,           /* end frame */
    };
    uint8_t out[64];

    (void)state;
    assert_int_equal(led_apa102_frame(px, 3, 100, out, sizeof(out)), sizeof(want));
    assert_memory_equal(out, want, sizeof(want));
    /* brightness sets the 5-bit global current: 50 % -> 16, 1 % -> 1 (never 0) */
    assert_int_equal(led_apa102_frame(px, 3, 50, out, sizeof(out)), sizeof(want));
    assert_int_equal(out[4], 0xE0 | 16);
    assert_int_equal(led_apa102_frame(px, 3, 1, out, sizeof(out)), sizeof(want));
    assert_int_equal(out[8], 0xE0 | 1);
    /* too small a buffer is refused, not overrun */
    assert_int_equal(led_apa102_frame(px, 3, 100, out, sizeof(want) - 1), 0);
    /* the end frame clocks at least n/2 edges: 12 -> 4 bytes, 100 -> 7, 255 -> 16 */
    assert_int_equal(led_apa102_frame_size(12), 4 + 48 + 4);
    assert_int_equal(led_apa102_frame_size(100), 4 + 400 + 7);
    assert_int_equal(led_apa102_frame_size(255), 4 + 1020 + 16);
    for (unsigned n = 1; n <= 255; n++)
        assert_true((led_apa102_frame_size(n) - 4 - 4 * n) * 8 >= (n + 1) / 2);
}

static void test_apa102_backend_into_fifo(void **state)
{
    char path[128], err[256];
    struct board_cfg b = board_led(LED_APA102, 12);
    uint8_t buf[256];
    struct led *l;
    int rfd;

    (void)state;
    snprintf(path, sizeof(path), "%s/spidev-fifo", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK);
    assert_true(rfd >= 0);
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "%s", path);
    b.led.brightness = 25;                       /* global current (31*25+50)/100 = 8 */
    l = led_create(&b, NULL, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(err, "");                /* not a char device: no SPI ioctls, no error */
    assert_string_equal(led_backend_name(l), "apa102");

    led_set_state(l, APP_MUTED, T0);
    assert_int_equal(led_tick(l, T0), 0);
    assert_int_equal(read(rfd, buf, sizeof(buf)), 56);
    assert_memory_equal(buf, "\0\0\0\0", 4);
    for (unsigned i = 0; i < 12; i++) {
        const uint8_t led[4] = { 0xE0 | 8, 0, 0, 255 };   /* red */
        assert_memory_equal(buf + 4 + 4 * i, led, 4);
    }
    assert_memory_equal(buf + 52, "\xFF\xFF\xFF\xFF", 4);
    /* unchanged frame: nothing written */
    assert_int_equal(led_tick(l, T0 + 40), 0);
    assert_int_equal(read(rfd, buf, sizeof(buf)), -1);
    assert_int_equal(errno, EAGAIN);
    /* error blink: off after 250 ms */
    led_set_state(l, APP_ERROR, T0 + 80);
    assert_int_equal(led_tick(l, T0 + 80 + 250), 0);
    assert_int_equal(read(rfd, buf, sizeof(buf)), 56);
    assert_int_equal(buf[4], 0xE0 | 8);
    assert_int_equal(buf[7], 0);
    /* destroy leaves the ring dark: global current 0 everywhere */
    led_destroy(l);
    assert_int_equal(read(rfd, buf, sizeof(buf)), 56);
    for (unsigned i = 0; i < 12; i++)
        assert_memory_equal(buf + 4 + 4 * i, "\xE0\0\0\0", 4);
    close(rfd);
}

static void test_apa102_write_failure_falls_back_to_null(void **state)
{
    char path[128], err[256];
    struct board_cfg b = board_led(LED_APA102, 4);
    struct led *l;
    int rfd;

    (void)state;
    signal(SIGPIPE, SIG_IGN);
    snprintf(path, sizeof(path), "%s/spidev-gone", dir);
    assert_int_equal(mkfifo(path, 0600), 0);
    rfd = open(path, O_RDONLY | O_NONBLOCK);
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "%s", path);
    l = led_create(&b, NULL, err, sizeof(err));
    assert_string_equal(led_backend_name(l), "apa102");
    close(rfd);                                  /* the device goes away */
    led_set_state(l, APP_MUTED, T0);
    assert_int_equal(led_tick(l, T0), -EPIPE);
    assert_string_equal(led_backend_name(l), "null");
    assert_rgb(led_pixels(l)[3], 255, 0, 0);     /* the pattern is still known */
    assert_int_equal(led_tick(l, T0 + 40), 0);   /* reported once */
    led_destroy(l);
}

static void test_apa102_regular_file_and_power_warning(void **state)
{
    char path[128], err[256];
    struct board_cfg b = board_led(LED_APA102, 2);
    struct stat st;
    struct led *l;

    (void)state;
    snprintf(path, sizeof(path), "%s/spidev-file", dir);
    close(open(path, O_CREAT | O_WRONLY, 0600));
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "%s", path);
    if (access("/dev/gpiochip0", F_OK) != 0)
        b.led.power_gpio_line = 5;               /* only where no real GPIO can be driven */
    l = led_create(&b, NULL, err, sizeof(err));
    assert_string_equal(led_backend_name(l), "apa102");
    if (b.led.power_gpio_line == 5) {
        assert_non_null(strstr(err, "LED: cannot open gpiochip0 for the LED supply (line 5)"));
        assert_non_null(strstr(err, "the LEDs may stay dark"));
    }
    led_set_state(l, APP_SPEAKING, T0);
    for (unsigned t = 0; t < 3000; t += LED_TICK_MS)
        assert_int_equal(led_tick(l, T0 + t), 0);
    led_destroy(l);
    /* frames are appended: every tick of a changing pattern plus the final off frame */
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size % 16, 0);        /* 4 + 2*4 + 4 bytes per frame */
    assert_true(st.st_size / 16 >= 60);          /* breathing changes nearly every tick */
    assert_true(st.st_size / 16 <= 3000 / LED_TICK_MS + 2);
}

static void test_apa102_char_device_that_is_not_spidev(void **state)
{
    char err[256];
    struct board_cfg b = board_led(LED_APA102, 12);
    struct led *l;

    (void)state;
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "/dev/null");
    l = led_create(&b, NULL, err, sizeof(err));
    assert_non_null(l);
    /* ENOTTY natively, ENOSYS under qemu-user: either way a clear message and null */
    assert_non_null(strstr(err, "LED: cannot configure SPI on /dev/null: "));
    assert_non_null(strstr(err, "LEDs disabled (null backend)"));
    assert_string_equal(led_backend_name(l), "null");
    led_destroy(l);
}

static void test_apa102_missing_device_falls_back(void **state)
{
    char err[256];
    struct board_cfg b = board_led(LED_APA102, 12);
    struct led *l;

    (void)state;
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "%s/no-spidev0.1", dir);
    l = led_create(&b, NULL, err, sizeof(err));
    assert_non_null(l);
    assert_non_null(strstr(err, "LED: cannot open "));
    assert_non_null(strstr(err, "no-spidev0.1: No such file or directory (is SPI enabled: dtparam=spi=on?)"));
    assert_non_null(strstr(err, "LEDs disabled (null backend)"));
    assert_string_equal(led_backend_name(l), "null");
    assert_int_equal(led_count(l), 12);
    led_set_state(l, APP_MUTED, T0);
    assert_int_equal(led_tick(l, T0), 0);
    assert_rgb(led_pixels(l)[11], 255, 0, 0);
    led_destroy(l);
}

/* ---- sysfs ------------------------------------------------------------------------------ */

static void make_sysfs_led(const char *name, const char *max)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/%s/max_brightness", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs(max, f);
    fclose(f);
    snprintf(path, sizeof(path), "%s/%s/brightness", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fputs("0\n", f);
    fclose(f);
}

static unsigned read_brightness(const char *name)
{
    char path[256];
    unsigned v = 9999;
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s/brightness", dir, name);
    assert_non_null(f = fopen(path, "r"));
    assert_int_equal(fscanf(f, "%u", &v), 1);
    fclose(f);
    return v;
}

static void test_sysfs_backend(void **state)
{
    char err[256];
    struct board_cfg b = board_led(LED_SYSFS, 0);
    struct led *l;

    (void)state;
    make_sysfs_led("hark:status", "255\n");
    snprintf(b.led.sysfs_name, sizeof(b.led.sysfs_name), "hark:status");
    b.led.brightness = 50;
    l = led_create(&b, dir, err, sizeof(err));
    assert_string_equal(err, "");
    assert_string_equal(led_backend_name(l), "sysfs");
    assert_int_equal(led_count(l), 1);
    led_set_state(l, APP_MUTED, T0);
    assert_int_equal(led_tick(l, T0), 0);
    assert_int_equal(read_brightness("hark:status"), 128);   /* 255 x 50 % */
    /* thinking at its peak and trough: cyan (0,160,255) x 100 % / 15 % */
    led_set_state(l, APP_THINKING, T0 + 1000);
    assert_int_equal(led_tick(l, T0 + 1500), 0);
    assert_int_equal(read_brightness("hark:status"), 128);
    assert_int_equal(led_tick(l, T0 + 2000), 0);
    assert_int_equal(read_brightness("hark:status"), 19);    /* 38 x 50 % */
    led_set_state(l, APP_IDLE, T0 + 2100);
    assert_int_equal(led_tick(l, T0 + 2100), 0);
    assert_int_equal(read_brightness("hark:status"), 0);
    led_set_state(l, APP_OFFLINE, T0 + 3000);
    assert_int_equal(led_tick(l, T0 + 3000), 0);
    assert_int_equal(read_brightness("hark:status"), 128);
    led_destroy(l);
    assert_int_equal(read_brightness("hark:status"), 0);     /* off when closed */

    /* a plain on/off LED (max_brightness 1) is on for any lit pattern */
    make_sysfs_led("gpio-led", "1\n");
    snprintf(b.led.sysfs_name, sizeof(b.led.sysfs_name), "gpio-led");
    b.led.idle = LED_IDLE_DIM;
    l = led_create(&b, dir, err, sizeof(err));
    led_set_state(l, APP_IDLE, T0);
    assert_int_equal(led_tick(l, T0), 0);
    assert_int_equal(read_brightness("gpio-led"), 1);
    led_destroy(l);
}

static void test_sysfs_missing_led_falls_back(void **state)
{
    char err[256];
    struct board_cfg b = board_led(LED_SYSFS, 0);
    struct led *l;

    (void)state;
    snprintf(b.led.sysfs_name, sizeof(b.led.sysfs_name), "nope");
    l = led_create(&b, dir, err, sizeof(err));
    assert_non_null(l);
    assert_non_null(strstr(err, "/nope/max_brightness: No such file or directory (is there an LED 'nope'?"));
    assert_non_null(strstr(err, "LEDs disabled (null backend)"));
    assert_string_equal(led_backend_name(l), "null");
    led_destroy(l);

    make_sysfs_led("bad", "many\n");
    snprintf(b.led.sysfs_name, sizeof(b.led.sysfs_name), "bad");
    l = led_create(&b, dir, err, sizeof(err));
    assert_non_null(strstr(err, "/bad/max_brightness: not a positive number"));
    assert_string_equal(led_backend_name(l), "null");
    led_destroy(l);

    snprintf(b.led.sysfs_name, sizeof(b.led.sysfs_name), "..");
    l = led_create(&b, dir, err, sizeof(err));
    assert_non_null(strstr(err, "LED: bad sysfs LED name '..'"));
    led_destroy(l);
}

/* ---- patterns (null backend) --------------------------------------------------------------- */

static struct led *null_leds(bool idle_dim)
{
    char err[256];
    struct board_cfg b = board_led(LED_NONE, 0);
    struct led *l;

    b.led.idle = idle_dim ? LED_IDLE_DIM : LED_IDLE_OFF;
    l = led_create(&b, NULL, err, sizeof(err));
    assert_non_null(l);
    assert_string_equal(err, "");
    assert_string_equal(led_backend_name(l), "null");
    return l;
}

static struct led_rgb at(struct led *l, uint64_t t)
{
    assert_int_equal(led_tick(l, T0 + t), 0);
    return led_pixels(l)[0];
}

static void test_patterns_per_state(void **state)
{
    struct led *l = null_leds(false);

    (void)state;
    assert_int_equal(led_state(l), APP_IDLE);
    assert_rgb(at(l, 0), 0, 0, 0);
    assert_string_equal(led_pattern_name(l, APP_IDLE), "off");

    led_set_state(l, APP_LISTENING, T0);
    assert_rgb(at(l, 0), 0, 0, 255);
    assert_rgb(at(l, 12345), 0, 0, 255);

    /* thinking: triangle 15 % .. 100 %, period 1000 ms from entering the state */
    led_set_state(l, APP_THINKING, T0 + 100);
    assert_rgb(at(l, 100), 0, 24, 38);
    assert_rgb(at(l, 350), 0, 92, 147);     /* quarter period: 57.5 % */
    assert_rgb(at(l, 600), 0, 160, 255);    /* half period: peak */
    assert_rgb(at(l, 850), 0, 92, 147);
    assert_rgb(at(l, 1100), 0, 24, 38);     /* one period later: trough again */
    assert_rgb(at(l, 5600), 0, 160, 255);
    /* entering the same state again keeps the phase */
    led_set_state(l, APP_THINKING, T0 + 5700);
    assert_rgb(at(l, 6100), 0, 24, 38);
    assert_string_equal(led_pattern_name(l, APP_THINKING), "pulse");

    /* speaking: raised cosine 10 % .. 100 %, period 3000 ms */
    led_set_state(l, APP_SPEAKING, T0 + 10000);
    assert_rgb(at(l, 10000), 0, 26, 16);
    assert_rgb(at(l, 10750), 0, 140, 88);   /* 55 % */
    assert_rgb(at(l, 11500), 0, 255, 160);
    assert_rgb(at(l, 13000), 0, 26, 16);
    assert_string_equal(led_pattern_name(l, APP_SPEAKING), "breathing");

    led_set_state(l, APP_FOLLOWUP, T0 + 20000);
    assert_rgb(at(l, 20000), 0, 0, 102);

    led_set_state(l, APP_MUTED, T0 + 30000);
    assert_rgb(at(l, 30000), 255, 0, 0);
    assert_rgb(at(l, 39999), 255, 0, 0);

    /* offline: amber 500 ms on, 500 ms off */
    led_set_state(l, APP_OFFLINE, T0 + 40000);
    assert_rgb(at(l, 40000), 255, 120, 0);
    assert_rgb(at(l, 40499), 255, 120, 0);
    assert_rgb(at(l, 40500), 0, 0, 0);
    assert_rgb(at(l, 40999), 0, 0, 0);
    assert_rgb(at(l, 41000), 255, 120, 0);

    /* error: red 250 ms on, 250 ms off */
    led_set_state(l, APP_ERROR, T0 + 50000);
    assert_rgb(at(l, 50249), 255, 0, 0);
    assert_rgb(at(l, 50250), 0, 0, 0);
    assert_rgb(at(l, 50500), 255, 0, 0);
    assert_string_equal(led_pattern_name(l, APP_ERROR), "blink");

    /* an out-of-range state shows the error pattern rather than garbage */
    led_set_state(l, (enum app_state)99, T0 + 60000);
    assert_int_equal(led_state(l), APP_ERROR);
    led_destroy(l);

    l = null_leds(true);
    assert_rgb(at(l, 0), 15, 15, 15);       /* idle = dim: 6 % white */
    assert_string_equal(led_pattern_name(l, APP_IDLE), "solid");
    led_destroy(l);
}

static void test_listening_spot_toward_talker(void **state)
{
    char err[256];
    struct board_cfg b = board_led(LED_APA102, 12);
    struct led_rgb px[12];
    struct led *l;

    (void)state;
    snprintf(b.led.spi_device, sizeof(b.led.spi_device), "%s/absent", dir);
    l = led_create(&b, NULL, err, sizeof(err));   /* null backend, 12 pixels */
    led_set_state(l, APP_LISTENING, T0);
    led_render(l, T0, px);
    for (unsigned i = 0; i < 12; i++)
        assert_rgb(px[i], 0, 0, 255);               /* no direction: solid */

    /* LED i at 30*i degrees counter-clockwise; talker at 90 -> LED 3 */
    led_set_direction(l, 90.0);
    led_render(l, T0, px);
    assert_rgb(px[3], 0, 0, 255);
    assert_rgb(px[2], 0, 0, 128);                   /* 30 deg away: 25 % + 75 % x (1 - 30/45) */
    assert_rgb(px[4], 0, 0, 128);
    for (unsigned i = 0; i < 12; i++)
        if (i < 2 || i > 4)
            assert_rgb(px[i], 0, 0, 64);            /* 25 % floor */

    /* between two LEDs (105 deg): LEDs 3 and 4 equal, 15 deg away each */
    led_set_direction(l, 105.0);
    led_render(l, T0, px);
    assert_rgb(px[3], 0, 0, 191);
    assert_rgb(px[4], 0, 0, 191);

    /* the spot wraps around 0/360 */
    led_set_direction(l, -30.0);
    led_render(l, T0, px);
    assert_rgb(px[11], 0, 0, 255);
    assert_rgb(px[0], 0, 0, 128);
    led_destroy(l);

    /* ring numbered clockwise from 90 deg: talker at 90 -> LED 0, at 0 -> LED 3 */
    b.led.ring_start_deg = 90;
    b.led.ring_clockwise = true;
    l = led_create(&b, NULL, err, sizeof(err));
    led_set_state(l, APP_LISTENING, T0);
    led_set_direction(l, 0.0);
    led_render(l, T0, px);
    assert_rgb(px[3], 0, 0, 255);
    assert_rgb(px[0], 0, 0, 64);
    led_set_direction(l, NAN);
    led_render(l, T0, px);
    assert_rgb(px[0], 0, 0, 255);
    led_destroy(l);
}

static void test_led_config_keys(void **state)
{
    static const char text[] =
        "[board]\nname = t\n[mics]\ncount = 1\ngeometry = linear\nspacing_mm = 10\n"
        "[capture]\ndevice = c\nrate = 16000\nchannels = 1\nformat = S16_LE\nperiod_frames = 160\n"
        "buffer_frames = 1280\nchannel_map = 0\n"
        "[playback]\ndevice = p\nrate = 16000\nchannels = 1\nformat = S16_LE\nperiod_frames = 160\n"
        "buffer_frames = 1280\n"
        "[led]\ntype = apa102\ncount = 12\nspi_device = /dev/spidev0.1\npower_gpio_line = 5\n"
        "brightness = 30\nidle = dim\nring_start_deg = -45\nring_clockwise = true\n";
    struct board_cfg b;
    struct config_diag diag;
    char path[128];
    FILE *f;

    (void)state;
    snprintf(path, sizeof(path), "%s/board.conf", dir);
    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fclose(f);
    memset(&diag, 0, sizeof(diag));
    assert_int_equal(config_load_board(path, &b, &diag), 0);
    assert_int_equal(b.led.brightness, 30);
    assert_int_equal(b.led.idle, LED_IDLE_DIM);
    assert_true(fabs(b.led.ring_start_deg + 45) < 1e-9);
    assert_true(b.led.ring_clockwise);
    assert_int_equal(b.led.power_gpio_line, 5);

    assert_non_null(f = fopen(path, "w"));
    fputs(text, f);
    fputs("bogus = 1\n", f);
    fclose(f);
    memset(&diag, 0, sizeof(diag));
    assert_int_equal(config_load_board(path, &b, &diag), -EINVAL);
    assert_non_null(strstr(diag.msg[0], "[led] bogus: unknown key"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apa102_frame_bytes),
        cmocka_unit_test_setup_teardown(test_apa102_backend_into_fifo, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_apa102_write_failure_falls_back_to_null, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_apa102_regular_file_and_power_warning, setup_dir, teardown_dir),
        cmocka_unit_test(test_apa102_char_device_that_is_not_spidev),
        cmocka_unit_test_setup_teardown(test_apa102_missing_device_falls_back, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_sysfs_backend, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_sysfs_missing_led_falls_back, setup_dir, teardown_dir),
        cmocka_unit_test(test_patterns_per_state),
        cmocka_unit_test_setup_teardown(test_listening_spot_toward_talker, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_led_config_keys, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
