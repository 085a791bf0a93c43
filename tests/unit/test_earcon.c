/*
 * test_earcon.c - Ogg Opus earcons: a synthetic tone through the encoder
 * (tools/earcon_encode.c) and harkd's loader keeps its length exactly, its
 * level within 1 dB and its frequency within 2 Hz, with the residual after
 * a least-squares sine fit below -24 dB, at 48 kHz and resampled to 16 kHz;
 * rates Opus cannot take are resampled on the way in; bad magic, cuts at
 * every kind of place, a flipped byte, a foreign Ogg stream, an invalid
 * Opus packet with a valid CRC, trailing garbage and an oversized file are
 * all refused with a reason; a sound directory with bad files loads the
 * good ones and disables the rest; the player copies frames and stops.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <ogg/ogg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "earcon.h"
#include "earcon_encode.h"  /* tools/: the writing half */

#define TONE_HZ 1000.0
#define TONE_AMP 0.3f

static float *tone(unsigned rate, size_t n, double hz, float amp)
{
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = amp * (float)sin(2 * M_PI * hz * (double)i / rate);
    return x;
}

static double rms_db(const float *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)x[i] * x[i];
    return 10 * log10(s / (double)n + 1e-30);
}

/* Frequency from zero crossings (interpolated) over x[a..b). */
static double freq_hz(const float *x, size_t a, size_t b, unsigned rate)
{
    double first = -1, last = -1;
    unsigned crossings = 0;
    for (size_t i = a + 1; i < b; i++) {
        if ((x[i - 1] < 0) != (x[i] < 0)) {
            double t = (double)(i - 1) + x[i - 1] / (double)(x[i - 1] - x[i]);
            if (first < 0)
                first = t;
            last = t;
            crossings++;
        }
    }
    return crossings < 3 ? 0 : (crossings - 1) / 2.0 / ((last - first) / rate);
}

/* Residual after the least-squares fit of a sine at hz, in dB re the signal. */
static double residual_db(const float *x, size_t a, size_t b, unsigned rate, double hz)
{
    double ss = 0, sc = 0, cc = 0, xs = 0, xc = 0, e = 0, p = 0;
    for (size_t i = a; i < b; i++) {
        double s = sin(2 * M_PI * hz * (double)i / rate), c = cos(2 * M_PI * hz * (double)i / rate);
        ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c;
    }
    double det = ss * cc - sc * sc, A = (xs * cc - xc * sc) / det, B = (xc * ss - xs * sc) / det;
    for (size_t i = a; i < b; i++) {
        double f = A * sin(2 * M_PI * hz * (double)i / rate) + B * cos(2 * M_PI * hz * (double)i / rate);
        e += (x[i] - f) * (x[i] - f);
        p += (double)x[i] * x[i];
    }
    return 10 * log10(e / p);
}

static void encode(const float *x, size_t n, unsigned rate, uint8_t **ogg, size_t *len)
{
    char err[EARCON_ERR_MAX];
    int r = earcon_encode_ogg(x, n, rate, 0, EARCON_SIGNAL_MUSIC, ogg, len, err, sizeof(err));
    if (r != 0)
        fail_msg("encode: %s", err);
}

/* ---- round trips ------------------------------------------------------------------- */

static void check_tone(const float *y, size_t n, unsigned rate, double in_db, const char *what)
{
    /* skip 50 ms at each end (onset/offset transients of the codec) */
    size_t a = rate / 20, b = n - rate / 20;
    double db = rms_db(y + a, b - a), f = freq_hz(y, a, b, rate), res = residual_db(y, a, b, rate, TONE_HZ);
    print_message("%s: level %+.2f dB re input, %.2f Hz, residual %.1f dB\n", what, db - in_db, f, res);
    assert_true(fabs(db - in_db) < 1.0);
    assert_true(fabs(f - TONE_HZ) < 2.0);
    assert_true(res < -24.0);   /* measured -29 dB at 48 kHz */
}

static void test_roundtrip_48k_and_16k(void **state)
{
    const unsigned rate = 48000;
    size_t n = rate, len, frames;
    float *x = tone(rate, n, TONE_HZ, TONE_AMP), *y;
    uint8_t *ogg;
    double in_db = rms_db(x, n);
    char err[EARCON_ERR_MAX];

    (void)state;
    encode(x, n, rate, &ogg, &len);
    print_message("1 s tone at 24 kbit/s: %zu bytes\n", len);
    assert_true(len > 1500 && len < 6000);   /* ~3 KB at 24 kbit/s */
    assert_int_equal(earcon_decode_mem(ogg, len, 48000, &y, &frames, err, sizeof(err)), 0);
    assert_int_equal(frames, n);             /* pre-skip and end trim exact */
    check_tone(y, frames, 48000, in_db, "48 kHz");
    /* delay-free: the decoded tone is in phase with the input (SNR, not just level) */
    assert_true(residual_db(y, 2400, n - 2400, 48000, TONE_HZ) < -24.0);
    double e = 0, p = 0;
    for (size_t i = 2400; i < n - 2400; i++) {
        e += (y[i] - x[i]) * (y[i] - x[i]);
        p += (double)x[i] * x[i];
    }
    print_message("48 kHz: SNR against the input %.1f dB\n", 10 * log10(p / e));
    assert_true(10 * log10(p / e) > 20.0);
    free(y);

    assert_int_equal(earcon_decode_mem(ogg, len, 16000, &y, &frames, err, sizeof(err)), 0);
    assert_int_equal(frames, 16000);
    check_tone(y, frames, 16000, in_db, "16 kHz");
    free(y);
    assert_int_equal(earcon_decode_mem(ogg, len, 44100, &y, &frames, err, sizeof(err)), 0);
    assert_int_equal(frames, 44100);
    free(y);
    free(ogg);
    free(x);
}

static void test_input_rates(void **state)
{
    static const unsigned rates[] = { 16000, 22050, 44100 };
    char err[EARCON_ERR_MAX];

    (void)state;
    for (unsigned k = 0; k < 3; k++) {
        unsigned rate = rates[k];
        size_t n = rate * 7 / 10, len, frames;   /* 0.7 s */
        float *x = tone(rate, n, TONE_HZ, TONE_AMP), *y;
        uint8_t *ogg;
        char what[32];

        encode(x, n, rate, &ogg, &len);
        assert_int_equal(earcon_decode_mem(ogg, len, rate, &y, &frames, err, sizeof(err)), 0);
        assert_int_equal(frames, n);
        snprintf(what, sizeof(what), "in %u Hz", rate);
        check_tone(y, frames, rate, rms_db(x, n), what);
        free(y);
        free(ogg);
        free(x);
    }
    /* the encoder refuses nonsense */
    uint8_t *ogg;
    size_t len;
    float one = 0;
    assert_int_equal(earcon_encode_ogg(&one, 0, 48000, 0, EARCON_SIGNAL_MUSIC, &ogg, &len, err, sizeof(err)), -EINVAL);
    assert_int_equal(earcon_encode_ogg(&one, 1, 48000, 1000, EARCON_SIGNAL_MUSIC, &ogg, &len, err, sizeof(err)), -EINVAL);
    assert_int_equal(earcon_encode_ogg(&one, 1, 100, 0, EARCON_SIGNAL_MUSIC, &ogg, &len, err, sizeof(err)), -EINVAL);
}

/* ---- malformed files -------------------------------------------------------------------- */

static void expect_refused(const uint8_t *d, size_t len, int code, const char *needle)
{
    float *y = (float *)1;
    size_t frames = 7;
    char err[EARCON_ERR_MAX] = "";
    int r = earcon_decode_mem(d, len, 16000, &y, &frames, err, sizeof(err));

    if (r != code || !strstr(err, needle))
        fail_msg("len %zu: expected %d \"%s\", got %d \"%s\"", len, code, needle, r, err);
    assert_null(y);
    assert_int_equal(frames, 0);
}

/* Re-mux an Ogg Opus file, replacing packet `which` (counting from 0 =
 * OpusHead) with repl, or changing the header magic when which == 0. */
static uint8_t *remux(const uint8_t *in, size_t len, long which, const uint8_t *repl, long repl_len, size_t *out_len)
{
    ogg_sync_state sy;
    ogg_stream_state is, os;
    ogg_page pg;
    ogg_packet op;
    uint8_t *out = malloc(len + 4096), tmp[2048];
    size_t o = 0;
    long k = 0;

    ogg_sync_init(&sy);
    memcpy(ogg_sync_buffer(&sy, (long)len), in, len);
    ogg_sync_wrote(&sy, (long)len);
    ogg_stream_init(&is, 0);
    ogg_stream_init(&os, 77);
    while (ogg_sync_pageout(&sy, &pg) == 1) {
        if (ogg_page_bos(&pg))
            ogg_stream_reset_serialno(&is, ogg_page_serialno(&pg));
        ogg_stream_pagein(&is, &pg);
        while (ogg_stream_packetout(&is, &op) == 1) {
            if (k == which) {
                if (which == 0) {
                    memcpy(tmp, op.packet, (size_t)op.bytes);
                    memcpy(tmp, "VorbHead", 8);
                    op.packet = tmp;
                } else {
                    op.packet = (unsigned char *)repl;
                    op.bytes = repl_len;
                }
            }
            k++;
            ogg_stream_packetin(&os, &op);
            while (op.e_o_s || op.b_o_s || op.packetno == 1 ? ogg_stream_flush(&os, &pg) : ogg_stream_pageout(&os, &pg)) {
                memcpy(out + o, pg.header, (size_t)pg.header_len);
                o += (size_t)pg.header_len;
                memcpy(out + o, pg.body, (size_t)pg.body_len);
                o += (size_t)pg.body_len;
            }
        }
    }
    ogg_stream_clear(&is);
    ogg_stream_clear(&os);
    ogg_sync_clear(&sy);
    *out_len = o;
    return out;
}

static void test_malformed(void **state)
{
    size_t n = 24000, len, mlen;
    float *x = tone(48000, n, TONE_HZ, TONE_AMP), *y;
    uint8_t *ogg, *bad;
    char err[EARCON_ERR_MAX];
    static const uint8_t invalid_packet[] = { 0xFF, 0x00 };   /* TOC code 3 with 0 frames */

    (void)state;
    encode(x, n, 48000, &ogg, &len);
    bad = malloc(len + 16);

    /* sanity: the re-muxer itself produces a valid file */
    uint8_t *same = remux(ogg, len, -1, NULL, 0, &mlen);
    assert_int_equal(earcon_decode_mem(same, mlen, 48000, &y, &mlen, err, sizeof(err)), 0);
    assert_int_equal(mlen, n);
    free(y);
    free(same);

    memcpy(bad, ogg, len);
    memcpy(bad, "RIFF", 4);
    expect_refused(bad, len, -EINVAL, "bad magic");
    expect_refused(ogg, 0, -EINVAL, "bad magic");
    expect_refused(ogg, 10, -EINVAL, "bad magic");
    /* cuts: inside the first page, after the headers, mid-audio, 1 byte short */
    expect_refused(ogg, 40, -EINVAL, "truncated");
    expect_refused(ogg, len / 2, -EINVAL, "truncated");
    expect_refused(ogg, len - 1, -EINVAL, "truncated");
    /* a cut exactly at a page boundary: no end-of-stream page */
    {
        size_t off = 0, last = 0;
        while (off + 27 <= len && !memcmp(ogg + off, "OggS", 4)) {
            size_t segs = ogg[off + 26], body = 0;
            for (size_t s = 0; s < segs; s++)
                body += ogg[off + 27 + s];
            last = off;
            off += 27 + segs + body;
        }
        assert_int_equal(off, len);
        assert_true(last > 0);
        expect_refused(ogg, last, -EINVAL, "no end-of-stream");
    }
    /* one flipped byte in the audio: CRC */
    memcpy(bad, ogg, len);
    bad[len * 2 / 3] ^= 0x40;
    expect_refused(bad, len, -EINVAL, "corrupt page");
    /* trailing garbage after the end-of-stream page */
    memcpy(bad, ogg, len);
    memcpy(bad + len, "OggSjunkjunkjunk", 16);
    expect_refused(bad, len + 16, -EINVAL, "after the end-of-stream");
    free(bad);

    /* a valid Ogg stream that is not Opus */
    bad = remux(ogg, len, 0, NULL, 0, &mlen);
    expect_refused(bad, mlen, -EINVAL, "OpusHead");
    free(bad);
    /* pages intact (valid CRCs) but one audio packet libopus rejects */
    bad = remux(ogg, len, 5, invalid_packet, sizeof(invalid_packet), &mlen);
    expect_refused(bad, mlen, -EINVAL, "corrupt audio");
    free(bad);

    /* bad arguments */
    assert_int_equal(earcon_decode_mem(ogg, len, 100, &y, &mlen, err, sizeof(err)), -EINVAL);
    assert_int_equal(earcon_decode_mem(NULL, len, 16000, &y, &mlen, err, sizeof(err)), -EINVAL);
    free(ogg);
    free(x);
}

/* ---- a sound directory ----------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const void *d, size_t len)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(d, 1, len, f), len);
    fclose(f);
}

static void test_set(void **state)
{
    char dir[] = "/tmp/test_earcon.XXXXXX";
    size_t n = 9600, len, frames;   /* 0.2 s */
    float *x = tone(48000, n, TONE_HZ, TONE_AMP);
    const float *pcm;
    uint8_t *ogg, *big;
    char err[1024], path[512];
    struct earcon_set *set;

    (void)state;
    assert_non_null(mkdtemp(dir));
    encode(x, n, 48000, &ogg, &len);
    write_file(dir, "wake.opus", ogg, len);
    write_file(dir, "end_of_turn.opus", ogg, len);
    write_file(dir, "error.opus", ogg, len / 2);          /* truncated */
    write_file(dir, "disclosure.opus", ogg, len);
    big = calloc(1, EARCON_MAX_FILE_BYTES + 1);
    write_file(dir, "alarm.opus", big, EARCON_MAX_FILE_BYTES + 1);
    free(big);
    /* offline.opus missing */

    set = earcon_set_load(dir, 16000, err, sizeof(err));
    assert_non_null(set);
    print_message("load report: %s\n", err);
    assert_non_null(strstr(err, "error.opus: truncated"));
    assert_non_null(strstr(err, "offline.opus: No such file"));
    assert_non_null(strstr(err, "alarm.opus: file larger"));
    assert_int_equal(earcon_get(set, "wake", &pcm, &frames), 0);
    assert_int_equal(frames, 3200);
    assert_int_equal(earcon_get(set, "end_of_turn", &pcm, &frames), 0);
    assert_int_equal(earcon_get(set, "disclosure", &pcm, &frames), 0);
    assert_int_equal(earcon_get(set, "error", &pcm, &frames), -ENOENT);
    assert_int_equal(earcon_get(set, "offline", &pcm, &frames), -ENOENT);
    assert_int_equal(earcon_get(set, "alarm", &pcm, &frames), -ENOENT);
    assert_int_equal(earcon_get(set, "nope", &pcm, &frames), -ENOENT);
    assert_int_equal(earcon_get(set, NULL, &pcm, &frames), -ENOENT);
    assert_null(earcon_sound(set, EARCON_ALARM));
    assert_non_null(earcon_sound(set, EARCON_WAKE));
    assert_string_equal(earcon_error(set, EARCON_WAKE), "");
    assert_non_null(strstr(earcon_error(set, EARCON_ERROR), "truncated"));
    assert_int_equal(earcon_set_rate(set), 16000);
    earcon_set_destroy(set);

    assert_null(earcon_set_load(dir, 0, err, sizeof(err)));
    set = earcon_set_load("/nonexistent/dir", 16000, err, sizeof(err));
    assert_non_null(set);   /* every sound disabled, nothing crashes */
    for (unsigned i = 0; i < EARCON_COUNT; i++)
        assert_null(earcon_sound(set, (enum earcon_id)i));
    earcon_set_destroy(set);

    for (unsigned i = 0; i < EARCON_COUNT; i++) {
        snprintf(path, sizeof(path), "%s/%s.opus", dir, earcon_names[i]);
        (void)unlink(path);
    }
    rmdir(dir);
    free(ogg);
    free(x);
}

/* ---- the player ------------------------------------------------------------------------ */

static void test_player(void **state)
{
    float a[250], out[100];
    struct earcon_sound s = { a, 250 };
    struct earcon_player pl;

    (void)state;
    for (int i = 0; i < 250; i++)
        a[i] = (float)(i + 1);
    earcon_player_init(&pl);
    memset(out, 0, sizeof(out));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 0);
    assert_false(earcon_player_playing(&pl));

    earcon_player_start(&pl, &s);
    for (int i = 0; i < 100; i++)
        out[i] = 0.5f;                      /* mixed, not overwritten */
    assert_int_equal(earcon_player_mix(&pl, out, 100), 100);
    assert_true(out[0] == 1.5f && out[99] == 100.5f);
    assert_true(earcon_player_playing(&pl));
    memset(out, 0, sizeof(out));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 100);
    assert_true(out[0] == 101.0f);
    memset(out, 0, sizeof(out));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 50);
    assert_true(out[49] == 250.0f && out[50] == 0.0f);
    assert_false(earcon_player_playing(&pl));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 0);

    /* restart from the top, then stop mid-way */
    earcon_player_start(&pl, &s);
    memset(out, 0, sizeof(out));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 100);
    assert_true(out[0] == 1.0f);
    earcon_player_stop(&pl);
    memset(out, 0, sizeof(out));
    assert_int_equal(earcon_player_mix(&pl, out, 100), 0);
    assert_true(out[0] == 0.0f);
    assert_false(earcon_player_playing(&pl));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_48k_and_16k),
        cmocka_unit_test(test_input_rates),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_player),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
