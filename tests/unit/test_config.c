/*
 * test_config.c - hark.conf / board file parsing: a valid pair loads with the
 * right values; malformed files are rejected with file:line and the key.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static char dir[64];

static const char *write_file(const char *name, const char *text)
{
    static char path[2][128];
    static int which;
    char *p = path[which ^= 1];
    FILE *f;

    snprintf(p, sizeof(path[0]), "%s/%s", dir, name);
    f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static const char BOARD_OK[] =
    "; simulated board\n"
    "[board]\n"
    "name = sim4\n"
    "description = test board\n"
    "[mics]\n"
    "count = 4\n"
    "geometry = circular\n"
    "radius_mm = 32\n"
    "start_deg = 0\n"
    "[capture]\n"
    "device = hark_capture\n"
    "rate = 16000\n"
    "channels = 5\n"
    "format = S16_LE\n"
    "period_frames = 160\n"
    "buffer_frames = 1280\n"
    "channel_map = 0 1 2 3   ; mics\n"
    "ref_channel = 4\n"
    "[playback]\n"
    "device = hark_playback\n"
    "rate = 16000\n"
    "channels = 1\n"
    "format = S16_LE\n"
    "period_frames = 160\n"
    "buffer_frames = 1280\n"
    "[button]\n"
    "type = none\n"
    "[led]\n"
    "type = none\n";

static const char HARK_OK[] =
    "[harkd]\n"
    "board = board.conf\n"
    "log_level = debug\n"
    "log_target = stderr\n"
    "ctrl_socket = /tmp/x.sock\n"
    "status_interval_s = 5\n"
    "realtime_priority = 0\n";

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hark-test-config-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_valid(void **state)
{
    (void)state;
    static struct hark_cfg cfg;
    static struct config_diag d;
    const char *conf;

    write_file("board.conf", BOARD_OK);
    conf = write_file("hark.conf", HARK_OK);
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load(conf, NULL, &cfg, &d), 0);
    assert_int_equal(d.total, 0);
    assert_string_equal(cfg.board.name, "sim4");
    assert_int_equal(cfg.log_level, LOG_LVL_DEBUG);
    assert_int_equal(cfg.status_interval_s, 5);
    assert_int_equal(cfg.board.mic_count, 4);
    assert_int_equal(cfg.board.capture.channels, 5);
    assert_int_equal(cfg.board.ref_channel, 4);
    assert_int_equal(cfg.board.channel_map[3], 3);
    assert_int_equal(cfg.board.channel_map[4], -1);
    assert_true(strstr(cfg.board_path, dir) == cfg.board_path);   /* resolved next to hark.conf */
    /* mic m at 90*m degrees counter-clockwise from +x, radius 32 mm */
    assert_float_equal(cfg.board.mic_pos_mm[0][0], 32.0, 1e-9);
    assert_float_equal(cfg.board.mic_pos_mm[1][1], 32.0, 1e-9);
    assert_float_equal(cfg.board.mic_pos_mm[2][0], -32.0, 1e-9);
    assert_float_equal(cfg.board.mic_pos_mm[3][1], -32.0, 1e-9);
    assert_float_equal(fabs(cfg.board.mic_pos_mm[1][0]), 0.0, 1e-9);
}

/* Loads hark.conf text (with BOARD_OK unless board_text is given) and
 * asserts that some diagnostic contains `want`. */
static void expect_error(const char *hark_text, const char *board_text, const char *want)
{
    static struct hark_cfg cfg;
    static struct config_diag d;
    const char *conf;
    bool found = false;

    write_file("board.conf", board_text ? board_text : BOARD_OK);
    conf = write_file("hark.conf", hark_text ? hark_text : HARK_OK);
    memset(&d, 0, sizeof(d));
    assert_int_not_equal(config_load(conf, NULL, &cfg, &d), 0);
    assert_true(d.count > 0);
    for (unsigned i = 0; i < d.count; i++)
        if (strstr(d.msg[i], want))
            found = true;
    if (!found) {
        for (unsigned i = 0; i < d.count; i++)
            fprintf(stderr, "  got: %s\n", d.msg[i]);
        fail_msg("no diagnostic contains '%s'", want);
    }
}

static char *board_with(const char *from, const char *to)
{
    static char buf[4096];
    const char *p = strstr(BOARD_OK, from);

    assert_non_null(p);
    snprintf(buf, sizeof(buf), "%.*s%s%s", (int)(p - BOARD_OK), BOARD_OK, to, p + strlen(from));
    return buf;
}

static void test_hark_errors(void **state)
{
    (void)state;
    expect_error("[harkd]\nboard = board.conf\nlog_level = loud\n", NULL,
                 "hark.conf:3: [harkd] log_level: expected one of error, warn, info, debug; got 'loud'");
    expect_error("[harkd]\nboard = board.conf\nlog_levl = info\n", NULL, "hark.conf:3: [harkd] log_levl: unknown key");
    expect_error("[harkd]\nboard = board.conf\n[audio]\nrate = 1\n", NULL, "hark.conf:4: [audio]: unknown section");
    expect_error("board = board.conf\n", NULL, "hark.conf:1: board: key outside any section");
    expect_error("[harkd]\nboard = board.conf\nthis line has no equals sign\n", NULL,
                 "hark.conf:3: syntax error");
    expect_error("[harkd]\nboard = board.conf\nrealtime_priority = 120\n", NULL,
                 "hark.conf:3: [harkd] realtime_priority: expected an integer 0..99, got '120'");
    expect_error("[harkd]\nboard = board.conf\nstatus_interval_s = 5s\n", NULL,
                 "hark.conf:3: [harkd] status_interval_s: expected an integer");
    expect_error("[harkd]\nboard = board.conf\nboard = other.conf\n", NULL,
                 "hark.conf:3: [harkd] board: duplicate key (first set on line 2)");
    expect_error("[harkd]\nlog_level = info\n", NULL, "[harkd] board: missing required key");
    expect_error("[harkd]\nboard = nonexistent.conf\n", NULL, "nonexistent.conf: cannot open");
    {
        char longline[400];
        memset(longline, 'x', sizeof(longline));
        memcpy(longline, "[harkd]\nboard = board.conf\nctrl_socket = ", 41);
        strcpy(longline + 380, "\n");
        expect_error(longline, NULL, "hark.conf:3: line longer than");
    }
}

static void test_board_errors(void **state)
{
    (void)state;
    expect_error(NULL, board_with("channels = 5\n", "channels = 3\n"),
                 "board.conf:17: [capture] channel_map: channel 3 but the device has 3 channels (0..2)");
    expect_error(NULL, board_with("channel_map = 0 1 2 3", "channel_map = 0 1 2"),
                 "board.conf:17: [capture] channel_map: lists 3 channels but [mics] count = 4");
    expect_error(NULL, board_with("channel_map = 0 1 2 3", "channel_map = 0 1 1 3"),
                 "board.conf:17: [capture] channel_map: ALSA channel 1 is listed twice");
    expect_error(NULL, board_with("channel_map = 0 1 2 3", "channel_map = 0 1 two 3"),
                 "board.conf:17: [capture] channel_map: expected");
    expect_error(NULL, board_with("ref_channel = 4", "ref_channel = 3"),
                 "board.conf:18: [capture] ref_channel: channel 3 is also mic 3 in channel_map");
    expect_error(NULL, board_with("format = S16_LE\nperiod_frames = 160\nbuffer_frames = 1280\nchannel_map",
                                  "format = S24_LE\nperiod_frames = 160\nbuffer_frames = 1280\nchannel_map"),
                 "board.conf:14: [capture] format: expected one of S16_LE, S32_LE; got 'S24_LE'");
    expect_error(NULL, board_with("rate = 16000\nchannels = 5", "rate = 4000\nchannels = 5"),
                 "board.conf:12: [capture] rate: expected an integer 8000..192000, got '4000'");
    expect_error(NULL, board_with("buffer_frames = 1280\nchannel_map", "buffer_frames = 200\nchannel_map"),
                 "board.conf:16: [capture] buffer_frames: 200 is less than two periods");
    expect_error(NULL, board_with("radius_mm = 32\n", ""), "[mics] radius_mm: missing required key (geometry = circular)");
    expect_error(NULL, board_with("geometry = circular", "geometry = sphere"),
                 "board.conf:7: [mics] geometry: expected one of circular, linear, custom; got 'sphere'");
    expect_error(NULL, board_with("[playback]\ndevice = hark_playback\n", "[playback]\n"),
                 "[playback] device: missing required key");
    expect_error(NULL, board_with("type = none\n[led]", "type = gpio\n[led]"),
                 "[button] gpio_chip: missing required key (type = gpio)");
    expect_error(NULL, board_with("start_deg = 0\n", "start_deg = 0\nmic0 = 1 2 3\n"),
                 "board.conf:10: [mics] mic0: explicit positions need geometry = custom");
    expect_error(NULL, board_with("geometry = circular\nradius_mm = 32\nstart_deg = 0\n",
                                  "geometry = custom\nmic0 = 1 2 3\nmic1 = 1 2\nmic2 = 0 0 0\n"),
                 "board.conf:9: [mics] mic1: expected 'x y z' in millimetres, got '1 2'");
    expect_error(NULL, board_with("geometry = circular\nradius_mm = 32\nstart_deg = 0\n",
                                  "geometry = custom\nmic0 = 1 2 3\nmic1 = 1 2 0\nmic2 = 0 0 0\n"),
                 "[mics] mic3: missing (geometry = custom needs mic0..mic3)");
    expect_error(NULL, "\x01\x02garbage\xff\n[board\n", "board.conf:1: syntax error");
}

static void test_many_errors_all_reported(void **state)
{
    (void)state;
    static struct hark_cfg cfg;
    static struct config_diag d;
    const char *conf;

    write_file("board.conf", "[board]\nname = x\nfoo = 1\nbar = 2\n[mics]\ncount = 99\n");
    conf = write_file("hark.conf", HARK_OK);
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load(conf, NULL, &cfg, &d), -EINVAL);
    assert_true(d.total >= 5);   /* foo, bar, count, and missing geometry/capture keys */
    assert_non_null(strstr(d.msg[0], "board.conf:3: [board] foo: unknown key"));
    assert_non_null(strstr(d.msg[1], "board.conf:4: [board] bar: unknown key"));
}

static void test_cloud_section(void **state)
{
    (void)state;
    static struct hark_cfg cfg;
    static struct config_diag d;
    const char *conf;

    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = conversation\nurl = ws://x/\nca_file = /c\napi_key_file = /k\n",
                 NULL, "hark.conf:5: [cloud] url: must start with wss:// (TLS is not optional)");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = conversation\nurl = wss://x/\napi_key_file = /k\n",
                 NULL, "[cloud] ca_file: missing required key (mode is not off)");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = conversation\nurl = wss://x/\nca_file = /c\n",
                 NULL, "set token_url and device_credential_file (or api_key_file for development)");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = translation\nurl = wss://x/\nca_file = /c\napi_key_file = /k\n",
                 NULL, "[cloud] target_language: missing required key (mode = translation)");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = chat\n", NULL,
                 "hark.conf:4: [cloud] mode: expected one of off, conversation, translation, captions; got 'chat'");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = captions\nurl = wss://x/\nca_file = /c\ntoken_url = http://b/\ndevice_credential_file = /d\n",
                 NULL, "hark.conf:7: [cloud] token_url: must start with https://");
    expect_error("[harkd]\nboard = board.conf\n[cloud]\nmode = conversation\nurl = wss://x/\nca_file = /c\napi_key_file = /k\nspki_pin = sha256//abc=\n",
                 NULL, "hark.conf:8: [cloud] spki_pin: expected sha256//BASE64 (44 characters), up to 4 separated by ';'");
    write_file("board.conf", BOARD_OK);
    conf = write_file("hark.conf", "[harkd]\nboard = board.conf\n[cloud]\nmode = captions\nurl = wss://h/v1/realtime?intent=transcription\n"
                                   "ca_file = /c\ntoken_url = https://b/t\ndevice_credential_file = /d\nchunk_ms = 20\n"
                                   "spki_pin = sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; "
                                   "sha256//BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBA=\n");
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load(conf, NULL, &cfg, &d), 0);
    assert_int_equal(cfg.cloud.mode, CLOUD_CAPTIONS);
    assert_int_equal(cfg.cloud.chunk_ms, 20);
    assert_int_equal(cfg.cloud.session_max_s, 3300);
    assert_int_equal(cfg.cloud.prebuffer_ms, 60);
    assert_string_equal(cfg.cloud.model, "gpt-realtime-2");
    assert_non_null(strstr(cfg.cloud.spki_pin, "BBBA="));
}

static void test_linear_geometry(void **state)
{
    (void)state;
    static struct board_cfg b;
    static struct config_diag d;
    const char *p = write_file("lin.conf", board_with("geometry = circular\nradius_mm = 32\nstart_deg = 0\n",
                                                      "geometry = linear\nspacing_mm = 40\n"));
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load_board(p, &b, &d), 0);
    assert_float_equal(b.mic_pos_mm[0][0], -60.0, 1e-9);
    assert_float_equal(b.mic_pos_mm[3][0], 60.0, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid),
        cmocka_unit_test(test_hark_errors),
        cmocka_unit_test(test_board_errors),
        cmocka_unit_test(test_many_errors_all_reported),
        cmocka_unit_test(test_linear_geometry),
        cmocka_unit_test(test_cloud_section),
    };
    return cmocka_run_group_tests_name("config", tests, setup, teardown);
}
