/*
 * test_fe_ns_agc.c - noise suppression + AGC stage (src/fe_ns_agc.c, on
 * speexdsp's preprocessor): white noise is reduced while 1 kHz tone bursts
 * in it keep their level; the AGC brings a -40 dBFS talker-like signal to
 * its target within a stated time; silence and noise alone are not pumped
 * up; the stated latency is the measured one; bypass is an exact copy;
 * saturation instead of wrap-around; bad configurations are refused.
 *
 * The talker-like signal: a 120 Hz glottal pulse train (slow vibrato) with
 * a little aspiration noise through three formant resonators whose first
 * two formants change per syllable, syllables 150-250 ms with a raised-sine
 * envelope, pauses 50-400 ms.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fe_ns_agc.h"

#define FS 16000
#define HOP 160

static uint64_t rng = 7;

static double urand(void) /* [-1, 1) */
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double) (rng >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static double gauss(void)
{
    double u = (urand() + 1) / 2 + 1e-12, v = (urand() + 1) / 2;
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Talker-like signal into x[0..n), act[i] = 1 inside syllables. */
static void talker(float *x, char *act, long n)
{
    double ph = 0, fm[3] = { 700, 1200, 2600 }, bw[3] = { 90, 110, 160 }, z[3][2] = { { 0 } };
    long i = 0;

    while (i < n) {
        long syl = (long) (FS * (0.15 + 0.05 * (urand() + 1)));
        long gap = (long) (FS * (0.05 + 0.175 * (urand() + 1)));

        fm[0] = 600 + 300 * urand();
        fm[1] = 1400 + 500 * urand();
        for (long k = 0; k < syl + gap && i < n; k++, i++) {
            double env = k < syl ? sin(M_PI * k / syl) : 0, e = 0, out = 0;

            ph += 120 * (1 + 0.05 * sin(2 * M_PI * 3.0 * i / FS)) / FS;
            if (ph >= 1) {
                ph -= 1;
                e = 1;
            }
            e += 0.02 * gauss();
            for (int r = 0; r < 3; r++) {
                double R = exp(-M_PI * bw[r] / FS), th = 2 * M_PI * fm[r] / FS;
                double v = e + 2 * R * cos(th) * z[r][0] - R * R * z[r][1];
                z[r][1] = z[r][0];
                z[r][0] = v;
                out += v * (1 - R);
            }
            x[i] = (float) (out * env);
            act[i] = k < syl && env > 0.3;
        }
    }
}

/* Power in dBFS (full scale = 1.0 peak, so a full-scale sine is -3 dBFS)
 * over [a, b), only where mask is set (mask may be NULL). */
static double level_db(const float *x, const char *mask, long a, long b)
{
    double e = 0;
    long c = 0;

    for (long i = a; i < b; i++) {
        if (!mask || mask[i]) {
            e += (double) x[i] * x[i];
            c++;
        }
    }
    return c ? 10 * log10(e / c + 1e-30) : -300;
}

/* The talker at -40 dBFS over speech with -80 dBFS of white noise in x;
 * act marks its syllables, act_out the same one hop later (the stage's
 * latency). */
static void talker_at_40(float *x, char *act, char *act_out, long n)
{
    double g;

    talker(x, act, n);
    g = pow(10, (-40 - level_db(x, act, 0, n)) / 20);
    for (long i = 0; i < n; i++)
        x[i] = (float) (x[i] * g + 1e-4 * gauss());
    for (long i = HOP; i < n; i++)
        act_out[i] = act[i - HOP];
}

static double tone_amp(const float *y, long a, long b, double f)
{
    double sc = 0, ss = 0, c2 = 0, s2 = 0;

    for (long i = a; i < b; i++) {
        double c = cos(2 * M_PI * f * i / FS), s = sin(2 * M_PI * f * i / FS);
        sc += y[i] * c;
        ss += y[i] * s;
        c2 += c * c;
        s2 += s * s;
    }
    return sqrt((sc / c2) * (sc / c2) + (ss / s2) * (ss / s2));
}

static struct fe_ns_agc *make(bool ns, int ns_db, bool agc)
{
    struct fe_ns_agc_cfg cfg;
    struct fe_ns_agc *st;

    fe_ns_agc_cfg_default(&cfg, FS);
    cfg.ns = ns;
    cfg.ns_db = ns_db;
    cfg.agc = agc;
    st = fe_ns_agc_create(&cfg);
    assert_non_null(st);
    return st;
}

static void run(struct fe_ns_agc *st, const float *x, float *y, long n)
{
    for (long i = 0; i + HOP <= n; i += HOP)
        fe_ns_agc_process(st, x + i, y + i);
}

/*
 * White noise at -40 dBFS with 1 kHz tone bursts (-20 dBFS, 0.5 s on with
 * 20 ms ramps, 0.5 s off). After 2 s: the noise in the gaps must be
 * >= 10 dB down (measured 13.8 dB with ns_db -15; ns off: 0 dB), the tone
 * within 1 dB (measured -0.14 dB). With ns_db = -25 the noise must go down
 * by >= 4 dB more (measured 20.2 dB).
 */
static void test_noise_reduced_tone_kept(void **state)
{
    const long n = 10L * FS, lat = HOP;
    float *x = malloc(n * sizeof(float)), *y = calloc(n, sizeof(float)), *nz = malloc(n * sizeof(float));
    char *gap = calloc(n, 1);
    double red[2], worst_tone = 0;
    int k = 0;

    (void) state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(nz);
    assert_non_null(gap);
    for (long i = 0; i < n; i++) {
        long ph = i % FS;
        double env = ph < FS / 2 ? fmin(1.0, fmin(ph, FS / 2 - ph) / (0.02 * FS)) : 0;

        nz[i] = (float) (0.01 * gauss());
        x[i] = nz[i] + (float) (0.1 * sqrt(2) * env * sin(2 * M_PI * 1000.0 * i / FS));
        /* gap: tone off, 100 ms away from any burst edge (output time) */
        gap[i] = ph >= FS / 2 + FS / 10 + lat && ph < FS - FS / 10;
    }
    printf("  input: noise %.1f dBFS\n", level_db(nz, NULL, 0, n));
    for (int ns_db = -15; ns_db >= -25; ns_db -= 10, k++) {
        struct fe_ns_agc *st = make(true, ns_db, false);

        run(st, x, y, n);
        red[k] = level_db(nz, gap, 2L * FS, n) - level_db(y, gap, 2L * FS, n);
        for (long b = 2; b < 10; b++) {
            long a0 = b * FS + FS / 10 + lat, a1 = b * FS + FS / 2 - FS / 10 + lat;
            double g = 20 * log10(tone_amp(y, a0, a1, 1000) / (0.1 * sqrt(2)));
            if (fabs(g) > fabs(worst_tone))
                worst_tone = g;
        }
        printf("  ns_db %d: noise reduced by %.1f dB, tone worst burst %+.2f dB\n", ns_db, red[k], worst_tone);
        assert_true(fabs(worst_tone) <= 1.0);
        fe_ns_agc_destroy(st);
    }
    assert_true(red[0] >= 10.0);
    assert_true(red[1] >= red[0] + 4.0);
    free(x);
    free(y);
    free(nz);
    free(gap);
}

/*
 * A talker-like signal at -40 dBFS (over its syllables) in -80 dBFS noise,
 * AGC target -20 dBFS, ns on: every 1 s window of output speech from 3 s
 * on must be within +-3 dB of the target (measured -17.5 .. -19.4 dBFS;
 * the 2-3 s window is already at -19.4, 0-1 s at -33.8: the gain rises
 * at 12 dB/s once the preprocessor has seen 20 frames). Target -30 dBFS:
 * the same, 10 dB lower. Max gain 10 dB: the output stays near -30 dBFS,
 * not above.
 */
static void test_agc_reaches_target(void **state)
{
    const long n = 20L * FS;
    float *x = malloc(n * sizeof(float)), *y = calloc(n, sizeof(float));
    char *act = calloc(n, 1), *act_out = calloc(n, 1);
    static const float targets[] = { -20, -30 };

    (void) state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(act);
    assert_non_null(act_out);
    talker_at_40(x, act, act_out, n);
    printf("  input speech %.1f dBFS\n", level_db(x, act, 0, n));
    for (unsigned t = 0; t < 2; t++) {
        struct fe_ns_agc_cfg cfg;
        struct fe_ns_agc *st;
        double lo = 0, hi = -300;

        fe_ns_agc_cfg_default(&cfg, FS);
        cfg.agc_target_dbfs = targets[t];
        st = fe_ns_agc_create(&cfg);
        assert_non_null(st);
        run(st, x, y, n);
        printf("  target %.0f dBFS: output speech %.1f dBFS over 0-1 s, %.1f over 1-2 s, %.1f over 2-3 s\n",
               targets[t], level_db(y, act_out, 0, FS), level_db(y, act_out, FS, 2L * FS),
               level_db(y, act_out, 2L * FS, 3L * FS));
        for (long w = 3; w + 1 <= 20; w++) {
            double l = level_db(y, act_out, w * FS, (w + 1) * FS);
            lo = fmin(lo, l);
            hi = fmax(hi, l);
        }
        printf("  target %.0f dBFS: output speech %.1f .. %.1f dBFS in 1 s windows from 3 s\n", targets[t], lo,
               hi);
        assert_true(lo >= targets[t] - 3 && hi <= targets[t] + 3);
        fe_ns_agc_destroy(st);
    }
    {
        struct fe_ns_agc_cfg cfg;
        struct fe_ns_agc *st;
        double l;

        fe_ns_agc_cfg_default(&cfg, FS);
        cfg.agc_max_gain_db = 10;
        st = fe_ns_agc_create(&cfg);
        assert_non_null(st);
        run(st, x, y, n);
        l = level_db(y, act_out, 4L * FS, n);
        printf("  max gain 10 dB: output speech %.1f dBFS, gain %.0f dB\n", l, fe_ns_agc_gain_db(st));
        assert_true(l <= -40 + 10 + 1.5);
        assert_true(fe_ns_agc_gain_db(st) <= 10.5);
        fe_ns_agc_destroy(st);
    }
    free(x);
    free(y);
    free(act);
    free(act_out);
}

/*
 * AGC hold (the front end holds it while the far end plays alone): a
 * -40 dBFS talker for 8 s (the gain settles near 20 dB), then 4 s held
 * (the "residual echo" must pass at 0 dB: output within 2 dB of the input,
 * against the target level without the hold), then released: the gain
 * kept through the hold (within 1 dB) and the talker back at the target
 * within 0.5 s.
 */
static void test_agc_hold(void **state)
{
    const long n = 16L * FS, h0 = 8L * FS, h1 = 12L * FS;
    float *x = malloc(n * sizeof(float)), *y = calloc(n, sizeof(float));
    char *act = calloc(n, 1), *act_out = calloc(n, 1);
    struct fe_ns_agc *st;
    double g_before, g_after, l_in, l_held, l_free, l_rel;

    (void) state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(act);
    assert_non_null(act_out);
    rng = 11;
    talker_at_40(x, act, act_out, n);
    /* reference run without the hold */
    st = make(true, -15, true);
    run(st, x, y, n);
    l_free = level_db(y, act_out, h0 + FS, h1);
    fe_ns_agc_destroy(st);
    /* with the hold over [h0, h1) */
    st = make(true, -15, true);
    run(st, x, y, h0);
    g_before = fe_ns_agc_gain_db(st);
    fe_ns_agc_set_hold(st, true);
    run(st, x + h0, y + h0, h1 - h0);
    fe_ns_agc_set_hold(st, false);
    g_after = fe_ns_agc_gain_db(st);
    run(st, x + h1, y + h1, n - h1);
    l_in = level_db(x, act, h0 + FS, h1);
    l_held = level_db(y, act_out, h0 + FS, h1);
    l_rel = level_db(y, act_out, h1 + FS / 2, n);
    printf("  gain %.0f dB before the hold, %.0f dB after; held: in %.1f dBFS, out %.1f dBFS (no hold: %.1f); "
           "released: %.1f dBFS\n", g_before, g_after, l_in, l_held, l_free, l_rel);
    assert_true(g_before >= 12);
    assert_true(fabs(g_after - g_before) <= 1);
    assert_true(fabs(l_held - l_in) <= 2);
    assert_true(l_free - l_held >= 10);
    assert_true(fabs(l_rel - l_free) <= 3);
    fe_ns_agc_set_hold(st, true); /* idempotent; agc off or bypass: no effect */
    fe_ns_agc_set_hold(st, true);
    fe_ns_agc_destroy(st);
    st = make(true, -15, false);
    fe_ns_agc_set_hold(st, true);
    assert_true(fe_ns_agc_gain_db(st) == 0);
    fe_ns_agc_destroy(st);
    free(x);
    free(y);
    free(act);
    free(act_out);
}

/*
 * No gain pumping: digital silence stays exactly silent; 10 s of -60 dBFS
 * white noise alone leaves the AGC gain <= 8 dB and the output >= 5 dB
 * below the input (measured: the gain reaches 6 dB in the first frames,
 * before the noise estimate settles, and stays; output -69.1 dBFS); after
 * 5 s of talker the gain does not climb during 4.5 s of noise (end of
 * pause <= start of pause + 1 dB; measured 24 -> 24 dB).
 */
static void test_silence_stays_silent(void **state)
{
    const long n = 10L * FS;
    float *x = calloc(n, sizeof(float)), *y = calloc(n, sizeof(float));
    char *act = calloc(n, 1);
    struct fe_ns_agc *st;
    double gmax = -100, g_start, g_end, lin, lout;

    (void) state;
    assert_non_null(x);
    assert_non_null(y);
    assert_non_null(act);
    st = make(true, -15, true);
    run(st, x, y, n);
    for (long i = 0; i < n; i++)
        assert_true(y[i] == 0.0f);
    fe_ns_agc_destroy(st);

    for (long i = 0; i < n; i++)
        x[i] = (float) (0.001 * gauss());
    st = make(true, -15, true);
    for (long i = 0; i + HOP <= n; i += HOP) {
        fe_ns_agc_process(st, x + i, y + i);
        gmax = fmax(gmax, fe_ns_agc_gain_db(st));
    }
    lin = level_db(x, NULL, FS, n);
    lout = level_db(y, NULL, FS, n);
    printf("  noise alone: in %.1f dBFS, out %.1f dBFS, max AGC gain %.1f dB\n", lin, lout, gmax);
    assert_true(gmax <= 8.0);
    assert_true(lout <= lin - 5.0);
    fe_ns_agc_destroy(st);

    talker(x, act, n / 2);
    {
        double g = pow(10, (-40 - level_db(x, act, 0, n / 2)) / 20);
        for (long i = 0; i < n; i++)
            x[i] = (float) ((i < n / 2 ? x[i] * g : 0) + 1e-4 * gauss());
    }
    st = make(true, -15, true);
    run(st, x, y, n / 2 + FS / 2);
    g_start = fe_ns_agc_gain_db(st);
    run(st, x + n / 2 + FS / 2, y + n / 2 + FS / 2, n / 2 - FS / 2);
    g_end = fe_ns_agc_gain_db(st);
    printf("  pause after speech: AGC gain %.1f dB -> %.1f dB over 4.5 s of noise\n", g_start, g_end);
    assert_true(g_end <= g_start + 1.0);
    fe_ns_agc_destroy(st);
    free(x);
    free(y);
    free(act);
}

/* Latency: the output is the input delayed by fe_ns_agc_latency() (peak of
 * the cross-correlation, ns on at 0 dB so nothing is suppressed). Bypass
 * (ns and agc off) is an exact copy, also in place. Out-of-range input
 * saturates. */
static void test_latency_bypass_saturation(void **state)
{
    const long n = 3L * FS;
    float *x = malloc(n * sizeof(float)), *y = calloc(n, sizeof(float));
    struct fe_ns_agc *st;
    long best = -1;
    double best_c = 0;

    (void) state;
    assert_non_null(x);
    assert_non_null(y);
    for (long i = 0; i < n; i++)
        x[i] = (float) (0.1 * gauss());
    st = make(true, 0, false);
    run(st, x, y, n);
    for (long lag = 0; lag < 4 * HOP; lag++) {
        double c = 0, e = 0;
        for (long i = FS; i < n - 4 * HOP; i++) {
            c += (double) x[i] * y[i + lag];
            e += (double) x[i] * x[i];
        }
        if (c / e > best_c) {
            best_c = c / e;
            best = lag;
        }
    }
    printf("  latency stated %u, measured %ld frames (correlation %.3f)\n", fe_ns_agc_latency(st), best, best_c);
    assert_int_equal(best, (long) fe_ns_agc_latency(st));
    assert_true(best_c > 0.95);
    fe_ns_agc_destroy(st);

    st = make(false, -15, false);
    assert_int_equal(fe_ns_agc_latency(st), 0);
    run(st, x, y, n);
    assert_memory_equal(x, y, n * sizeof(float));
    memcpy(y, x, n * sizeof(float));
    run(st, y, y, n);
    assert_memory_equal(x, y, n * sizeof(float));
    assert_true(fe_ns_agc_gain_db(st) == 0 && fe_ns_agc_speech_prob(st) == 0);
    fe_ns_agc_destroy(st);

    for (long i = 0; i < n; i++)
        x[i] = (float) (3.0 * sin(2 * M_PI * 440.0 * i / FS));
    st = make(true, 0, false);
    run(st, x, y, n);
    for (long i = 0; i < n; i++)
        assert_true(y[i] >= -1.0f && y[i] < 1.0f);
    /* saturated, not wrapped: the output still follows the input's sign */
    {
        long agree = 0, count = 0;
        for (long i = FS; i < n - HOP; i++) {
            if (fabsf(x[i]) > 1.5f) {
                count++;
                agree += (x[i] > 0) == (y[i + HOP] > 0);
            }
        }
        assert_true(agree > count * 0.95);
    }
    fe_ns_agc_destroy(st);
    free(x);
    free(y);
}

static void test_bad_cfg(void **state)
{
    struct fe_ns_agc_cfg cfg, bad;
    struct frontend_conf fc = { .ns = false, .ns_db = -20, .agc = true, .agc_target_dbfs = -25,
                                .agc_max_gain_db = 12 };

    (void) state;
    fe_ns_agc_cfg_default(&cfg, FS);
    assert_int_equal(cfg.hop, HOP);
    bad = cfg;
    bad.rate = 4000;
    assert_null(fe_ns_agc_create(&bad));
    bad = cfg;
    bad.hop = 0;
    assert_null(fe_ns_agc_create(&bad));
    bad = cfg;
    bad.ns_db = 3;
    assert_null(fe_ns_agc_create(&bad));
    bad = cfg;
    bad.agc_target_dbfs = 0;
    assert_null(fe_ns_agc_create(&bad));
    bad = cfg;
    bad.agc_max_gain_db = 90;
    assert_null(fe_ns_agc_create(&bad));
    assert_null(fe_ns_agc_create(NULL));
    fe_ns_agc_cfg_from_conf(&cfg, &fc, 48000);
    assert_int_equal(cfg.hop, 480);
    assert_false(cfg.ns);
    assert_int_equal(cfg.ns_db, -20);
    assert_true(cfg.agc && cfg.agc_target_dbfs == -25 && cfg.agc_max_gain_db == 12);
    fe_ns_agc_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_reduced_tone_kept),
        cmocka_unit_test(test_agc_reaches_target),
        cmocka_unit_test(test_agc_hold),
        cmocka_unit_test(test_silence_stays_silent),
        cmocka_unit_test(test_latency_bypass_saturation),
        cmocka_unit_test(test_bad_cfg),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
