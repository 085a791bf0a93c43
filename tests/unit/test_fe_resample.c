/*
 * test_fe_resample.c - the front end's speexdsp resampler stage
 * (src/fe_resample.c): a 1 kHz tone keeps its frequency and level through
 * 48k -> 16k (and 44.1k -> 16k, 16k -> 24k, 24k -> 48k), the passband is
 * flat from 100 Hz to 7 kHz, a 10 kHz tone
 * (above the 8 kHz output Nyquist) is attenuated, the stated latency is
 * the measured one, frame counts are exact over a long run split into
 * random chunks (no drift), channels stay aligned through a wide input
 * stride, the FIFO hands out fixed hops identical to the direct path, and
 * bad configurations and calls are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_resample.h"

static uint64_t rng = 12345;

static unsigned rand_below(unsigned n)
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned) ((rng >> 33) % n);
}

/* Runs a mono signal through a fresh state in chunks of `chunk` frames
 * (0: random 1..max_in_frames). Returns the output length; *out is malloc'd. */
static long run_mono(unsigned in_rate, unsigned out_rate, const float *x, long n, unsigned chunk, float **out)
{
    struct fe_resample_cfg cfg;
    struct fe_resample *st;
    long w = 0, cap;

    fe_resample_cfg_default(&cfg, 1, in_rate, out_rate);
    cfg.hop = 0;
    st = fe_resample_create(&cfg);
    assert_non_null(st);
    cap = (long) ((double) n * out_rate / in_rate) + 4096;
    *out = malloc((size_t) cap * sizeof(float));
    assert_non_null(*out);
    for (long i = 0; i < n;) {
        unsigned k = chunk ? chunk : 1 + rand_below(cfg.max_in_frames);
        int r;

        if ((long) k > n - i)
            k = (unsigned) (n - i);
        assert_true(w + (long) fe_resample_max_out(st, k) <= cap);
        r = fe_resample_process(st, x + i, 1, k, *out + w);
        assert_true(r >= 0 && (unsigned) r <= fe_resample_max_out(st, k));
        w += r;
        i += k;
    }
    fe_resample_destroy(st);
    return w;
}

static float *tone(double f, double fs, double amp, long n)
{
    float *x = malloc((size_t) n * sizeof(float));

    assert_non_null(x);
    for (long i = 0; i < n; i++)
        x[i] = (float) (amp * sin(2 * M_PI * f * i / fs));
    return x;
}

/* Least-squares amplitude of a sinusoid at f over y[a..b). */
static double tone_amp(const float *y, long a, long b, double f, double fs)
{
    double sc = 0, ss = 0, cc = 0, s2 = 0, c2 = 0;

    for (long i = a; i < b; i++) {
        double c = cos(2 * M_PI * f * i / fs), s = sin(2 * M_PI * f * i / fs);
        sc += y[i] * c;
        ss += y[i] * s;
        c2 += c * c;
        s2 += s * s;
    }
    (void) cc;
    return sqrt((sc / c2) * (sc / c2) + (ss / s2) * (ss / s2));
}

/* Frequency from upward zero crossings (linear interpolation) over y[a..b). */
static double zc_freq(const float *y, long a, long b, double fs)
{
    double first = -1, last = -1;
    long n = 0;

    for (long i = a; i + 1 < b; i++) {
        if (y[i] < 0 && y[i + 1] >= 0) {
            double t = i + y[i] / (y[i] - y[i + 1]);
            if (first < 0)
                first = t;
            last = t;
            n++;
        }
    }
    assert_true(n > 10);
    return (n - 1) * fs / (last - first);
}

static double rms(const float *y, long a, long b)
{
    double e = 0;

    for (long i = a; i < b; i++)
        e += (double) y[i] * y[i];
    return sqrt(e / (double) (b - a));
}

static void check_tone(unsigned in_rate, unsigned out_rate, unsigned chunk)
{
    const long n = 2L * in_rate;
    float *x = tone(1000, in_rate, 0.5, n), *y;
    long m = run_mono(in_rate, out_rate, x, n, chunk, &y);
    double amp = tone_amp(y, out_rate / 4, m - out_rate / 4, 1000, out_rate);
    double f = zc_freq(y, out_rate / 4, m - out_rate / 4, out_rate);
    double level_db = 20 * log10(amp / 0.5);

    printf("  %u -> %u: 1 kHz level %+.4f dB, frequency %.4f Hz\n", in_rate, out_rate, level_db, f);
    assert_true(fabs(level_db) <= 0.1);
    assert_true(fabs(f - 1000) <= 0.05);
    free(x);
    free(y);
}

/* The passband reaches 7 kHz (wideband speech, 50-7000 Hz): at quality 6
 * the 7 kHz level is 0.000 dB (quality 5: -0.23 dB, 4: -0.41 dB). */
static void check_passband(unsigned in_rate, double f)
{
    const long n = 2L * in_rate;
    float *x = tone(f, in_rate, 0.5, n), *y;
    long m = run_mono(in_rate, 16000, x, n, in_rate / 100, &y);
    double db = 20 * log10(tone_amp(y, 4000, m - 4000, f, 16000) / 0.5);

    printf("  %u -> 16000: %.0f Hz level %+.3f dB\n", in_rate, f, db);
    assert_true(fabs(db) <= 0.1);
    free(x);
    free(y);
}

static void test_tone_level_and_frequency(void **state)
{
    (void) state;
    check_passband(48000, 7000);
    check_passband(44100, 7000);
    check_passband(48000, 100);
    check_tone(48000, 16000, 480);
    check_tone(44100, 16000, 441);
    check_tone(48000, 16000, 0);
    check_tone(16000, 24000, 160);   /* cloud uplink */
    check_tone(24000, 48000, 240);   /* answer audio to the playback rate */
    check_tone(24000, 44100, 0);
}

/* A tone above the output Nyquist must not come through as an alias: >= 90 dB
 * down (the issue asks for 60; quality 6 measures 107-122 dB, quality 4
 * 88-94 dB, quality 3 88-98 dB). */
static void check_alias(unsigned in_rate, double f, double min_db)
{
    const long n = 2L * in_rate;
    float *x = tone(f, in_rate, 0.5, n), *y;
    long m = run_mono(in_rate, 16000, x, n, in_rate / 100, &y);
    double att = 20 * log10(0.5 / sqrt(2) / rms(y, 4000, m - 4000));

    printf("  %u -> 16000: %.0f Hz tone attenuated by %.1f dB\n", in_rate, f, att);
    assert_true(att >= min_db);
    free(x);
    free(y);
}

static void test_aliasing(void **state)
{
    (void) state;
    check_alias(48000, 10000, 90);   /* would alias to 6 kHz */
    check_alias(48000, 12000, 90);   /* -> 4 kHz */
    check_alias(48000, 9000, 90);    /* -> 7 kHz, closest to the band edge tested */
    check_alias(44100, 10000, 90);
}

/* An impulse comes out at t * out / in + fe_resample_latency(). */
static void test_latency(void **state)
{
    static const unsigned rates[][2] = { { 48000, 16000 }, { 44100, 16000 }, { 16000, 24000 },
                                         { 24000, 48000 } };
    (void) state;
    for (unsigned k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
        unsigned in = rates[k][0], out = rates[k][1];
        const long n = in / 2, t0 = in / 10;
        float *x = calloc((size_t) n, sizeof(float)), *y;
        struct fe_resample_cfg cfg;
        struct fe_resample *st;
        long m, pk = 0;
        double frac, expect, measured;

        assert_non_null(x);
        x[t0] = 1;
        m = run_mono(in, out, x, n, in / 100, &y);
        for (long i = 1; i < m - 1; i++)
            if (fabsf(y[i]) > fabsf(y[pk]))
                pk = i;
        frac = 0.5 * (y[pk - 1] - y[pk + 1]) / (y[pk - 1] - 2 * y[pk] + y[pk + 1]);
        measured = pk + frac - (double) t0 * out / in;
        fe_resample_cfg_default(&cfg, 1, in, out);
        st = fe_resample_create(&cfg);
        assert_non_null(st);
        expect = fe_resample_latency(st);
        printf("  %u -> %u: latency stated %.0f, measured %.2f output frames (%.2f ms)\n", in, out, expect,
               measured, measured * 1000.0 / out);
        assert_true(fabs(measured - expect) <= 1.0);
        fe_resample_destroy(st);
        free(x);
        free(y);
    }
}

/* 48000 k frames in -> 16000 k out (+-1), whatever the chunking; and with
 * 44.1 kHz. The FIFO path hands out exactly floor(total / hop) hops. */
static void test_no_drift(void **state)
{
    static const unsigned rates[][2] = { { 48000, 16000 }, { 44100, 16000 }, { 16000, 24000 } };
    (void) state;
    for (unsigned k = 0; k < sizeof(rates) / sizeof(rates[0]); k++) {
        unsigned in = rates[k][0], out = rates[k][1];
        const long secs = 120, n = secs * in;
        struct fe_resample_cfg cfg;
        struct fe_resample *st;
        float *x = calloc(in / 10 * 2, sizeof(float)), *hop;
        long total_out = 0, hops = 0, total_in = 0;

        assert_non_null(x);
        fe_resample_cfg_default(&cfg, 2, in, out);
        st = fe_resample_create(&cfg);
        assert_non_null(st);
        hop = malloc(cfg.hop * 2 * sizeof(float));
        assert_non_null(hop);
        while (total_in < n) {
            unsigned c = 1 + rand_below(cfg.max_in_frames);
            int r;

            if ((long) c > n - total_in)
                c = (unsigned) (n - total_in);
            r = fe_resample_push(st, x, 2, c);
            assert_true(r >= 0);
            total_in += c;
            total_out += r;
            while (fe_resample_pull(st, hop))
                hops++;
        }
        printf("  %u -> %u: %ld s in, %ld frames out (expected %ld), %ld hops\n", in, out, secs,
               total_out, secs * out, hops);
        assert_true(labs(total_out - secs * (long) out) <= 1);
        assert_int_equal(hops, total_out / cfg.hop);
        assert_int_equal(fe_resample_available(st), total_out % cfg.hop);
        fe_resample_destroy(st);
        free(x);
        free(hop);
    }
}

/* 5 channels taken out of 8-float capture frames; each channel is the same
 * noise with its own gain, so every output channel must equal channel 0
 * times that gain (one filter, one phase). The FIFO path matches the
 * direct path bit for bit. */
static void test_stride_alignment_and_fifo(void **state)
{
    enum { CH = 5, STRIDE = 8, IN = 48000, N = IN };
    struct fe_resample_cfg cfg;
    struct fe_resample *a, *b;
    float *x = malloc(N * STRIDE * sizeof(float)), *ya, *yb;
    long wa = 0, wb = 0;
    double worst = 0;

    (void) state;
    assert_non_null(x);
    for (long i = 0; i < N; i++) {
        float s = (float) (rand_below(65536) / 65536.0 - 0.5);
        for (int c = 0; c < STRIDE; c++)
            x[i * STRIDE + c] = c < CH ? s * (float) (c + 1) : 1e6f;   /* junk past CH */
    }
    fe_resample_cfg_default(&cfg, CH, IN, 16000);
    a = fe_resample_create(&cfg);
    b = fe_resample_create(&cfg);
    assert_non_null(a);
    assert_non_null(b);
    ya = calloc((size_t) (N / 3 + 64) * CH, sizeof(float));
    yb = calloc((size_t) (N / 3 + 64) * CH, sizeof(float));
    assert_non_null(ya);
    assert_non_null(yb);
    for (long i = 0; i < N;) {
        unsigned c = 1 + rand_below(1000);
        int r;

        if ((long) c > N - i)
            c = (unsigned) (N - i);
        r = fe_resample_process(a, x + i * STRIDE, STRIDE, c, ya + wa * CH);
        assert_true(r >= 0);
        wa += r;
        r = fe_resample_push(b, x + i * STRIDE, STRIDE, c);
        assert_true(r >= 0);
        while (fe_resample_pull(b, yb + wb * CH))
            wb += cfg.hop;
        i += c;
    }
    assert_true(wb <= wa && wa - wb < (long) cfg.hop);
    assert_memory_equal(ya, yb, (size_t) wb * CH * sizeof(float));
    /* (a plain compare, not fmax: gcc 12 for aarch64 hits an internal
     * compiler error vectorising an fmax reduction here) */
    for (long i = 0; i < wa; i++) {
        for (int c = 1; c < CH; c++) {
            double d = fabs(ya[i * CH + c] - (c + 1) * ya[i * CH]);
            if (d > worst)
                worst = d;
        }
    }
    assert_true(worst < 1e-5);
    /* reset: the same input gives the same output again */
    fe_resample_reset(a);
    {
        float y2[200 * CH];
        int r = fe_resample_process(a, x, STRIDE, 480, y2);
        assert_true(r >= 150 && r <= 200);
        assert_memory_equal(y2, ya, (size_t) r * CH * sizeof(float));
    }
    fe_resample_destroy(a);
    fe_resample_destroy(b);
    free(x);
    free(ya);
    free(yb);
}

static void test_bad_cfg_and_calls(void **state)
{
    struct fe_resample_cfg cfg, bad;
    struct fe_resample *st;
    float x[4800 * 2] = { 0 }, y[4 * 1700 * 2];
    int r, pushes = 0;

    (void) state;
    fe_resample_cfg_default(&cfg, 2, 48000, 16000);
    bad = cfg;
    bad.channels = 0;
    assert_null(fe_resample_create(&bad));
    bad = cfg;
    bad.channels = 33;
    assert_null(fe_resample_create(&bad));
    bad = cfg;
    bad.in_rate = 0;
    assert_null(fe_resample_create(&bad));
    bad = cfg;
    bad.quality = 11;
    assert_null(fe_resample_create(&bad));
    bad = cfg;
    bad.max_in_frames = 0;
    assert_null(fe_resample_create(&bad));
    assert_null(fe_resample_create(NULL));

    st = fe_resample_create(&cfg);
    assert_non_null(st);
    assert_int_equal(fe_resample_process(st, x, 2, cfg.max_in_frames + 1, y), -EINVAL);
    assert_int_equal(fe_resample_push(st, x, 2, cfg.max_in_frames + 1), -EINVAL);
    assert_int_equal(fe_resample_push(st, x, 1, 10), -EINVAL);   /* stride < channels */
    /* never pulling: the FIFO fills up and push refuses without consuming */
    while ((r = fe_resample_push(st, x, 2, cfg.max_in_frames)) >= 0)
        pushes++;
    assert_int_equal(r, -ENOSPC);
    assert_true(pushes >= 1);
    assert_true(fe_resample_available(st) >= cfg.hop);
    fe_resample_destroy(st);

    cfg.hop = 0;   /* no FIFO */
    st = fe_resample_create(&cfg);
    assert_non_null(st);
    assert_int_equal(fe_resample_push(st, x, 2, 10), -EINVAL);
    assert_false(fe_resample_pull(st, y));
    fe_resample_destroy(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tone_level_and_frequency),
        cmocka_unit_test(test_aliasing),
        cmocka_unit_test(test_latency),
        cmocka_unit_test(test_no_drift),
        cmocka_unit_test(test_stride_alignment_and_fifo),
        cmocka_unit_test(test_bad_cfg_and_calls),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
