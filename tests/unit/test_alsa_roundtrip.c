/*
 * test_alsa_roundtrip.c - the capture and playback threads through real
 * alsa-lib code paths: ALSA's `file` plugin over `null` reads a raw file we
 * write and writes a raw file we read back. Checks the channel map, both
 * sample formats, the prefill, the software reference and error reporting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <alsa/asoundlib.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "audio_capture.h"
#include "audio_playback.h"

#define RATE 16000
#define PERIOD 160
#define HOPS 50
#define ALSA_CH 5

static char dir[64], cap_file[128], play_file[128];

static int setup(void **state)
{
    char conf[128], env[512];
    FILE *f;

    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/hark-test-alsa-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(cap_file, sizeof(cap_file), "%s/capture.raw", dir);
    snprintf(play_file, sizeof(play_file), "%s/playback.raw", dir);
    snprintf(conf, sizeof(conf), "%s/asoundrc", dir);
    f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f,
            "pcm.test_capture { type file slave.pcm \"null\" infile \"%s\" file \"/dev/null\" format \"raw\" }\n"
            "pcm.test_playback { type file slave.pcm \"null\" file \"%s\" format \"raw\" }\n",
            cap_file, play_file);
    fclose(f);
    snprintf(env, sizeof(env), "/usr/share/alsa/alsa.conf:%s", conf);
    setenv("ALSA_CONFIG_PATH", env, 1);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snd_config_update_free_global();
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

static int32_t pattern(unsigned frame, unsigned ch)
{
    return (int32_t)((frame * 37u + ch * 5000u) % 20000u) - 10000;
}

static void make_board(struct board_cfg *b, enum sample_format fmt, int ref)
{
    static const int map[4] = { 2, 0, 3, 1 };

    memset(b, 0, sizeof(*b));
    snprintf(b->name, sizeof(b->name), "test");
    b->mic_count = 4;
    for (int i = 0; i < HARK_MAX_MICS; i++)
        b->channel_map[i] = i < 4 ? map[i] : -1;
    b->ref_channel = ref;
    b->capture = (struct pcm_cfg){ "test_capture", RATE, ALSA_CH, fmt, PERIOD, 4 * PERIOD };
    b->playback = (struct pcm_cfg){ "test_playback", RATE, 2, SAMPLE_S16_LE, PERIOD, 4 * PERIOD };
}

static void write_capture_file(enum sample_format fmt, unsigned frames)
{
    FILE *f = fopen(cap_file, "wb");

    assert_non_null(f);
    for (unsigned fr = 0; fr < frames; fr++) {
        for (unsigned c = 0; c < ALSA_CH; c++) {
            if (fmt == SAMPLE_S16_LE) {
                int16_t v = (int16_t)pattern(fr, c);
                fwrite(&v, 2, 1, f);
            } else {
                int32_t v = pattern(fr, c) * 65536;
                fwrite(&v, 4, 1, f);
            }
        }
    }
    fclose(f);
}

static void capture_roundtrip(enum sample_format fmt, int ref)
{
    static struct board_cfg b;
    struct ring *ring = ring_create(HOPS * PERIOD * 5 * sizeof(float) * 2);
    int efd = eventfd(0, EFD_CLOEXEC);
    struct audio_capture_cfg cfg = { .board = &b, .out = ring, .notify_fd = efd, .rt_priority = 0 };
    struct audio_capture *c;
    struct audio_io_stats st;
    static float hop[PERIOD * 5];
    char err[256] = "";
    unsigned got = 0;

    make_board(&b, fmt, ref);
    write_capture_file(fmt, HOPS * PERIOD);
    c = audio_capture_create(&cfg, err, sizeof(err));
    if (!c)
        fail_msg("audio_capture_create: %s", err);
    assert_int_equal(audio_capture_channels(c), 5);
    assert_int_equal(audio_capture_hop_frames(c), PERIOD);
    assert_int_equal(audio_capture_start(c), 0);
    while (got < HOPS) {
        struct pollfd pfd = { .fd = efd, .events = POLLIN };
        uint64_t v;
        assert_true(poll(&pfd, 1, 2000) == 1);
        (void)!read(efd, &v, sizeof(v));
        while (got < HOPS && ring_read(ring, hop, sizeof(hop)) == sizeof(hop)) {
            for (unsigned f = 0; f < PERIOD; f++) {
                unsigned frame = got * PERIOD + f;
                for (unsigned k = 0; k < 4; k++)
                    assert_float_equal(hop[f * 5 + k], pattern(frame, (unsigned)b.channel_map[k]) / 32768.0, 1e-7);
                assert_float_equal(hop[f * 5 + 4], ref >= 0 ? pattern(frame, (unsigned)ref) / 32768.0 : 0.0, 1e-7);
            }
            got++;
        }
    }
    audio_capture_stop(c);
    audio_capture_get_stats(c, &st);
    assert_true(st.frames >= HOPS * PERIOD);
    assert_false(st.failed);
    assert_int_equal(st.xruns, 0);
    audio_capture_destroy(c);
    ring_destroy(ring);
    close(efd);
}

static void test_capture_s16_with_loopback(void **state)
{
    (void)state;
    capture_roundtrip(SAMPLE_S16_LE, 4);
}

static void test_capture_s32_software_ref(void **state)
{
    (void)state;
    capture_roundtrip(SAMPLE_S32_LE, -1);
}

static void test_playback_roundtrip(void **state)
{
    (void)state;
    static struct board_cfg b;
    struct ring *in = ring_create(1 << 20), *ref = ring_create(1 << 20);
    struct audio_playback_cfg cfg = { .pcm = &b.playback, .in = in, .ref_out = ref };
    struct audio_playback *p;
    struct audio_io_stats st;
    static float pcm[HOPS * PERIOD], refbuf[(HOPS + 2) * PERIOD];
    static int16_t out[(HOPS + 2) * PERIOD * 2];
    char err[256] = "";
    FILE *f;

    make_board(&b, SAMPLE_S16_LE, 4);
    for (unsigned i = 0; i < HOPS * PERIOD; i++)
        pcm[i] = (float)pattern(i, 1) / 32768.0f;
    assert_int_equal(ring_write(in, pcm, sizeof(pcm)), sizeof(pcm));
    p = audio_playback_create(&cfg, err, sizeof(err));
    if (!p)
        fail_msg("audio_playback_create: %s", err);
    assert_int_equal(audio_playback_start(p), 0);
    for (int i = 0; i < 200 && ring_readable(in) > 0; i++)
        usleep(10000);
    usleep(20000);
    audio_playback_stop(p);
    audio_playback_get_stats(p, &st);
    assert_int_equal(audio_playback_audio_frames(p), HOPS * PERIOD);
    assert_true(st.frames >= (HOPS + 2) * PERIOD);
    assert_int_equal(st.ring_drops, 0);
    audio_playback_destroy(p);   /* closes the PCM: the file plugin flushes */

    f = fopen(play_file, "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, sizeof(out), 1, f), 1);
    fclose(f);
    for (unsigned i = 0; i < 2 * PERIOD; i++) {     /* the silence prefill */
        assert_int_equal(out[2 * i], 0);
        assert_int_equal(out[2 * i + 1], 0);
    }
    for (unsigned i = 0; i < HOPS * PERIOD; i++) {  /* both channels carry the stream */
        assert_int_equal(out[2 * (i + 2 * PERIOD)], pattern(i, 1));
        assert_int_equal(out[2 * (i + 2 * PERIOD) + 1], pattern(i, 1));
    }
    /* The software reference is exactly what went to the device. */
    assert_int_equal(ring_read(ref, refbuf, sizeof(refbuf)), sizeof(refbuf));
    for (unsigned i = 0; i < (HOPS + 2) * PERIOD; i++)
        assert_float_equal(refbuf[i], out[2 * i] / 32768.0, 1e-7);
    ring_destroy(in);
    ring_destroy(ref);
}

/* Pre-buffer: a stream of `frames` queued at once with a pre-buffer of
 * `prebuffer` frames starts after `expect_wait` periods of silence (after the
 * two-period prefill), then plays exactly, then silence. */
static void prebuffer_case(unsigned frames, unsigned prebuffer, unsigned expect_wait)
{
    static struct board_cfg b;
    struct ring *in = ring_create(1 << 20);
    struct audio_playback_cfg cfg = { .pcm = &b.playback, .in = in, .prebuffer_frames = prebuffer };
    struct audio_playback *p;
    static float pcm[HOPS * PERIOD];
    static int16_t out[(HOPS + 20) * PERIOD * 2];
    unsigned start = (2 + expect_wait) * PERIOD;
    char err[256] = "";
    FILE *f;

    assert_true(frames <= HOPS * PERIOD);
    make_board(&b, SAMPLE_S16_LE, 4);
    for (unsigned i = 0; i < frames; i++)
        pcm[i] = (float)pattern(i, 1) / 32768.0f;
    assert_int_equal(ring_write(in, pcm, frames * sizeof(float)), frames * sizeof(float));
    p = audio_playback_create(&cfg, err, sizeof(err));
    if (!p)
        fail_msg("audio_playback_create: %s", err);
    assert_int_equal(audio_playback_start(p), 0);
    for (int i = 0; i < 200 && ring_readable(in) > 0; i++)
        usleep(10000);
    usleep(30000);
    audio_playback_stop(p);
    assert_int_equal(audio_playback_audio_frames(p), frames);
    assert_int_equal(audio_playback_streams(p), 1);
    audio_playback_destroy(p);

    f = fopen(play_file, "rb");
    assert_non_null(f);
    assert_int_equal(fread(out, sizeof(int16_t) * 2, start + frames + PERIOD, f), start + frames + PERIOD);
    fclose(f);
    for (unsigned i = 0; i < start; i++)
        if (out[2 * i] != 0)
            fail_msg("frame %u: %d before the stream should start at %u", i, out[2 * i], start);
    for (unsigned i = 0; i < frames; i++)
        assert_int_equal(out[2 * (start + i)], pattern(i, 1));
    for (unsigned i = start + frames; i < start + frames + PERIOD; i++)
        assert_int_equal(out[2 * i], 0);
    ring_destroy(in);
}

static void test_prebuffer_short_stream_waits_its_length(void **state)
{
    (void)state;
    /* 30 ms queued, 60 ms pre-buffer: it waits 60 ms (6 periods) in all, the
     * sixth period playing: 5 periods of silence, then the stream. */
    prebuffer_case(3 * PERIOD, 6 * PERIOD, 5);
}

static void test_prebuffer_full_stream_starts_at_once(void **state)
{
    (void)state;
    prebuffer_case(20 * PERIOD, 6 * PERIOD, 0);
}

static void test_missing_device_is_a_clear_error(void **state)
{
    (void)state;
    static struct board_cfg b;
    struct ring *ring = ring_create(1 << 16);
    struct audio_capture_cfg cfg = { .board = &b, .out = ring, .notify_fd = -1 };
    char err[256] = "";

    make_board(&b, SAMPLE_S16_LE, 4);
    snprintf(b.capture.device, sizeof(b.capture.device), "no_such_pcm");
    assert_null(audio_capture_create(&cfg, err, sizeof(err)));
    assert_non_null(strstr(err, "no_such_pcm"));
    assert_non_null(strstr(err, "cannot open capture device"));
    ring_destroy(ring);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capture_s16_with_loopback),
        cmocka_unit_test(test_capture_s32_software_ref),
        cmocka_unit_test(test_playback_roundtrip),
        cmocka_unit_test(test_prebuffer_short_stream_waits_its_length),
        cmocka_unit_test(test_prebuffer_full_stream_starts_at_once),
        cmocka_unit_test(test_missing_device_is_a_clear_error),
    };
    return cmocka_run_group_tests_name("alsa_roundtrip", tests, setup, teardown);
}
