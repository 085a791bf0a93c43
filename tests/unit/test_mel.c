/*
 * test_mel.c - streaming log-mel features (src/mel.c) against a direct
 * (slow, double precision) DFT of the definition in mel.h computed here:
 * a two-tone + noise signal, a chirp and digital silence, frame by frame,
 * including the zero-history frames at the start and after mel_reset();
 * filterbank shape (peak 1, band centres rising, every bin below 7600 Hz
 * covered); a pure tone puts its energy in the right band; non-finite input
 * is treated as silence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mel.h"

#define BINS (MEL_NFFT / 2 + 1)

/* Reference frame t of x (n samples) straight from the definition. */
static void ref_frame(const float *x, long n, long t, const float fb[MEL_BANDS][BINS], double out[MEL_BANDS])
{
    double seg[MEL_WIN], p[BINS];
    long end = MEL_HOP * (t + 1);

    for (int i = 0; i < MEL_WIN; i++) {
        long j = end - MEL_WIN + i;
        double w = 0.5 - 0.5 * cos(2.0 * M_PI * i / MEL_WIN);

        seg[i] = (j >= 0 && j < n) ? w * x[j] : 0.0;
    }
    for (int k = 0; k < BINS; k++) {
        double re = 0, im = 0;

        for (int i = 0; i < MEL_WIN; i++) {
            re += seg[i] * cos(2.0 * M_PI * k * i / MEL_NFFT);
            im -= seg[i] * sin(2.0 * M_PI * k * i / MEL_NFFT);
        }
        p[k] = re * re + im * im;
    }
    for (int b = 0; b < MEL_BANDS; b++) {
        double e = 0;

        for (int k = 0; k < BINS; k++)
            e += fb[b][k] * p[k];
        out[b] = log(e + 1e-6);
    }
}

static unsigned rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (rng_state >> 8) / 16777216.0;
}

/* Max |C - reference| over all frames of x, on bands within 60 dB of the
 * frame's strongest band (float32 FFT rounding is ~1e-7 of the peak, so far
 * below it the log of a leakage-only band is only good to ~1e-3); *all_err
 * gets the max over every band. */
static double max_err_all(const float *x, long n, int reset_at, double *all_err)
{
    static float fb[MEL_BANDS][BINS];
    struct mel *m = mel_create();
    double worst = 0, all = 0;
    long frames = n / MEL_HOP;

    assert_non_null(m);
    mel_filterbank(fb);
    for (long t = 0; t < frames; t++) {
        float out[MEL_BANDS];
        double ref[MEL_BANDS];

        if (t == reset_at)
            mel_reset(m);
        assert_int_equal(mel_push(m, x + t * MEL_HOP, out), 1);
        if (t >= reset_at && reset_at >= 0) /* after a reset the history restarts at reset_at */
            ref_frame(x + reset_at * MEL_HOP, n - reset_at * MEL_HOP, t - reset_at, fb, ref);
        else
            ref_frame(x, n, t, fb, ref);
        double top = ref[0];

        for (int b = 1; b < MEL_BANDS; b++)
            top = ref[b] > top ? ref[b] : top;
        for (int b = 0; b < MEL_BANDS; b++) {
            double e = fabs(out[b] - ref[b]);

            if (e > all)
                all = e;
            if (ref[b] > top - 13.82 && e > worst) /* 60 dB = ln(1e6) */
                worst = e;
        }
    }
    mel_destroy(m);
    if (all_err)
        *all_err = all;
    return worst;
}

static double max_err(const float *x, long n, int reset_at)
{
    double all;
    double e = max_err_all(x, n, reset_at, &all);

    assert_true(all < 1e-2);
    return e;
}

static void test_against_direct_dft(void **st)
{
    long n = 16 * MEL_HOP;
    float *x = malloc(sizeof(float) * n);
    double e;

    (void) st;
    /* two tones + white noise at -30 dB */
    for (long i = 0; i < n; i++)
        x[i] = (float) (0.3 * sin(2 * M_PI * 440.0 * i / MEL_RATE) + 0.1 * sin(2 * M_PI * 3170.0 * i / MEL_RATE) +
                        0.03 * (urand() - 0.5));
    e = max_err(x, n, -1);
    printf("two tones + noise: max |C - DFT| = %.2e\n", e);
    assert_true(e < 1e-4);
    /* reset mid-stream: history must restart from zeros */
    e = max_err(x, n, 7);
    assert_true(e < 1e-4);
    /* chirp 100 Hz -> 7 kHz at 0.9 full scale */
    for (long i = 0; i < n; i++) {
        double tt = (double) i / MEL_RATE, dur = (double) n / MEL_RATE;

        x[i] = (float) (0.9 * sin(2 * M_PI * (100.0 * tt + 0.5 * (6900.0 / dur) * tt * tt)));
    }
    e = max_err(x, n, -1);
    printf("chirp: max |C - DFT| = %.2e\n", e);
    assert_true(e < 1e-4);
    /* silence: every band is exactly ln(1e-6) */
    memset(x, 0, sizeof(float) * n);
    e = max_err(x, n, -1);
    assert_true(e < 1e-5);
    free(x);
}

static void test_filterbank_shape(void **st)
{
    static float fb[MEL_BANDS][BINS];
    int prev_peak = -1;

    (void) st;
    mel_filterbank(fb);
    for (int b = 0; b < MEL_BANDS; b++) {
        int peak = 0;

        for (int k = 0; k < BINS; k++) {
            assert_true(fb[b][k] >= 0 && fb[b][k] <= 1.0f);
            if (fb[b][k] > fb[b][peak])
                peak = k;
        }
        assert_true(fb[b][peak] > 0.5f);   /* the triangle's top is near a bin */
        assert_true(peak >= prev_peak);    /* centres rise */
        prev_peak = peak;
    }
    /* every bin between the first and last centre is covered by some band */
    for (int k = 4; k < 7400 * MEL_NFFT / MEL_RATE; k++) {
        float s = 0;

        for (int b = 0; b < MEL_BANDS; b++)
            s += fb[b][k];
        assert_true(s > 0.4f);
    }
    assert_true(fb[0][0] == 0.0f); /* DC excluded (60 Hz lower edge) */
}

static void test_tone_band(void **st)
{
    struct mel *m = mel_create();
    float hop[MEL_HOP], out[MEL_BANDS];
    static float fb[MEL_BANDS][BINS];
    int best = 0, expect = 0;
    double f0 = 1000.0;

    (void) st;
    mel_filterbank(fb);
    for (int b = 0; b < MEL_BANDS; b++)
        if (fb[b][32] > fb[expect][32]) /* bin 32 = 1000 Hz */
            expect = b;
    for (int t = 0; t < 10; t++) {
        for (int i = 0; i < MEL_HOP; i++)
            hop[i] = (float) (0.5 * sin(2 * M_PI * f0 * (t * MEL_HOP + i) / MEL_RATE));
        mel_push(m, hop, out);
    }
    for (int b = 0; b < MEL_BANDS; b++)
        if (out[b] > out[best])
            best = b;
    assert_int_equal(best, expect);
    /* amplitude 0.5 -> peak bin power (0.5 * 200 / 2)^2 = 2500, ln = 7.8 */
    assert_true(out[best] > 7.0f && out[best] < 8.6f);
    /* bands far away are > 40 dB (9.2 in ln power) lower */
    assert_true(out[best] - out[MEL_BANDS - 1] > 9.2f);
    mel_destroy(m);
}

static void test_nonfinite_input(void **st)
{
    struct mel *m = mel_create();
    float hop[MEL_HOP], out[MEL_BANDS];

    (void) st;
    for (int i = 0; i < MEL_HOP; i++)
        hop[i] = (i % 2) ? NAN : INFINITY;
    mel_push(m, hop, out);
    for (int b = 0; b < MEL_BANDS; b++)
        assert_true(fabsf(out[b] - logf(1e-6f)) < 1e-4f);
    mel_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_direct_dft),
        cmocka_unit_test(test_filterbank_shape),
        cmocka_unit_test(test_tone_band),
        cmocka_unit_test(test_nonfinite_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
