/*
 * test_fe_aec.c - acoustic echo canceller (src/fe_aec.c, src/fe_delay_est.c)
 * on synthetic signals with known echo paths:
 *   - ERLE on pink-ish noise through a room-like impulse response (direct
 *     path + RT60 0.3 s decaying tail) after convergence, 2 mics;
 *   - bulk delays of +120 ms and -60 ms (reference early / late) found
 *     within 2 ms and cancelled;
 *   - 100 ppm playback clock drift;
 *   - double talk: the near talker keeps its level through AEC + RES and
 *     the double-talk flag is raised; it is not raised in far-end single talk;
 *   - silence, clipping and NaN input give finite output; bad cfgs refused.
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

#include "fe_aec.h"
#include "fe_delay_est.h"
#include "fe_test_signal.h"

#define FS 16000
#define HOP 160

static double db10(double x)
{
    return 10.0 * log10(x + 1e-30);
}

/* Pink-ish noise: white Gaussian through a one-pole low-pass (pole 0.7),
 * scaled to rms. */
static float *pinkish(long n, double rms)
{
    float *x = malloc((size_t) n * sizeof(float));
    double y = 0, p = 0;

    assert_non_null(x);
    for (long i = 0; i < n; i++) {
        y = gauss() + 0.7 * y;
        x[i] = (float) y;
        p += y * y;
    }
    for (long i = 0; i < n; i++)
        x[i] = (float) (x[i] * rms / sqrt(p / n));
    return x;
}

/* Room-like echo path: silence until `direct`, unit direct path, then an
 * exponentially decaying Gaussian tail (RT60 rt60 s) of `len` taps. */
static float *room_ir(long len, long direct, double rt60, double tail_gain)
{
    float *h = calloc((size_t) len, sizeof(float));

    assert_non_null(h);
    h[direct] = 1.0f;
    for (long i = direct + 8; i < len; i++)
        h[i] = (float) (tail_gain * gauss() * exp(-6.9 * (double) (i - direct) / (rt60 * FS)));
    return h;
}

/* y[n] += g * sum_k h[k] x[n - k], channel c of a `stride` interleaved buffer. */
static void convolve_add(float *y, unsigned stride, unsigned c, const float *x, long n, const float *h, long len,
                         double g)
{
    for (long i = 0; i < n; i++) {
        double acc = 0;
        long kmax = i < len - 1 ? i : len - 1;
        for (long k = 0; k <= kmax; k++)
            acc += h[k] * x[i - k];
        y[i * stride + c] += (float) (g * acc);
    }
}

/* Runs the AEC over n frames (a multiple of HOP); out gets cfg.channels
 * interleaved channels. Calls cb per hop when given. */
typedef void (*hop_cb)(const struct fe_aec *st, long hop_index, void *arg);
static void run_aec(struct fe_aec *st, const float *mic, unsigned C, const float *ref, long n, float *out,
                    hop_cb cb, void *arg)
{
    for (long h = 0; h + HOP <= n; h += HOP) {
        fe_aec_process(st, mic + h * C, C, ref ? ref + h : NULL, out + h * C, C);
        if (cb)
            cb(st, h / HOP, arg);
    }
}

/* Power ratio (dB) of echo to output over frames [a, b), all channels;
 * output compared lat frames later. */
static double erle(const float *echo, const float *out, unsigned C, long a, long b, long lat)
{
    double pe = 0, po = 0;

    for (long i = a; i < b; i++)
        for (unsigned c = 0; c < C; c++) {
            pe += (double) echo[i * C + c] * echo[i * C + c];
            po += (double) out[(i + lat) * C + c] * out[(i + lat) * C + c];
        }
    return db10(pe / po);
}

static void add_noise(float *y, long n, double rms)
{
    for (long i = 0; i < n; i++)
        y[i] += (float) (rms * gauss());
}

static void test_erle_room_path(void **state)
{
    enum { C = 2 };
    long n = 12 * FS;
    float *ref, *echo = calloc((size_t) n * C, sizeof(float)), *mic = malloc((size_t) n * C * sizeof(float));
    float *out = calloc((size_t) n * C, sizeof(float)), *h[C];
    struct fe_aec_cfg cfg;
    struct fe_aec *st;
    struct fe_aec_state s;
    double e_lin, e_tot;

    (void) state;
    rng = 11;
    ref = pinkish(n, 0.1);
    for (unsigned c = 0; c < C; c++) {
        h[c] = room_ir(2400, 16 + 3 * c, 0.3, 0.15);
        convolve_add(echo, C, c, ref, n, h[c], 2400, 0.5);
    }
    memcpy(mic, echo, (size_t) n * C * sizeof(float));
    add_noise(mic, n * C, 1e-4); /* -80 dBFS sensor noise */

    fe_aec_cfg_default(&cfg, FS, C);
    cfg.res = FE_AEC_RES_OFF;
    st = fe_aec_create(&cfg);
    assert_non_null(st);
    run_aec(st, mic, C, ref, n, out, NULL, NULL);
    fe_aec_get_state(st, &s);
    e_lin = erle(echo, out, C, 6 * FS, n - HOP - s.latency, s.latency);
    printf("  MDF alone: ERLE %.1f dB (estimate %.1f dB), delay %.2f ms, converged %d\n", e_lin, s.erle_lin_db,
           s.delay_ms, s.converged);
    assert_true(s.converged);
    /* the estimate follows the last ~0.5 s */
    assert_true(fabs(s.erle_lin_db - erle(echo, out, C, n - FS - s.latency, n - HOP - s.latency, s.latency)) < 4);
    fe_aec_destroy(st);

    cfg.res = FE_AEC_RES_OWN;
    st = fe_aec_create(&cfg);
    assert_non_null(st);
    memset(out, 0, (size_t) n * C * sizeof(float));
    run_aec(st, mic, C, ref, n, out, NULL, NULL);
    fe_aec_get_state(st, &s);
    e_tot = erle(echo, out, C, 6 * FS, n - HOP - s.latency, s.latency);
    printf("  MDF + RES: ERLE %.1f dB (estimate %.1f dB)\n", e_tot, s.erle_db);
    assert_true(e_lin >= 25);
    assert_true(e_tot >= 30);
    assert_false(s.double_talk);
    fe_aec_destroy(st);
    for (unsigned c = 0; c < C; c++)
        free(h[c]);
    free(ref);
    free(echo);
    free(mic);
    free(out);
}

/* Reference shifted against its echo by delay_ms (> 0: the echo is late). */
static void check_bulk_delay(double delay_ms)
{
    long n = 10 * FS, d = lrint(delay_ms * FS / 1000);
    float *src = pinkish(n + 8000, 0.1), *ref = malloc((size_t) n * sizeof(float));
    float *mic = calloc((size_t) n, sizeof(float)), *out = calloc((size_t) n, sizeof(float));
    float *echo = calloc((size_t) n, sizeof(float)), *h = room_ir(1600, 0, 0.2, 0.1);
    struct fe_delay_est_cfg dc;
    struct fe_delay_est *de;
    struct fe_delay_est_result r;
    struct fe_aec_cfg cfg;
    struct fe_aec *st;
    struct fe_aec_state s;
    double e;

    /* ref[i] = src[i + 4000]; echo[i] = (h * src)[i + 4000 - d] */
    for (long i = 0; i < n; i++)
        ref[i] = src[i + 4000];
    convolve_add(echo, 1, 0, src + 4000 - d, n, h, 1600, 0.5);
    memcpy(mic, echo, (size_t) n * sizeof(float));
    add_noise(mic, n, 1e-4);

    fe_delay_est_cfg_default(&dc, FS);
    de = fe_delay_est_create(&dc);
    assert_non_null(de);
    for (long i = 0; i + HOP <= 3 * FS; i += HOP)
        fe_delay_est_process(de, mic + i, 1, 1, ref + i);
    fe_delay_est_get(de, &r);
    printf("  %+.0f ms: estimator says %+.2f ms (confidence %.2f, %u updates)\n", delay_ms, r.lag * 1e3 / FS,
           r.confidence, r.updates);
    assert_true(r.valid);
    assert_true(fabs(r.lag * 1e3 / FS - delay_ms) <= 2.0);
    fe_delay_est_destroy(de);

    fe_aec_cfg_default(&cfg, FS, 1);
    st = fe_aec_create(&cfg);
    assert_non_null(st);
    run_aec(st, mic, 1, ref, n, out, NULL, NULL);
    fe_aec_get_state(st, &s);
    e = erle(echo, out, 1, 6 * FS, n - 2 * HOP - s.latency, s.latency);
    printf("  %+.0f ms: AEC aligned at %+.2f ms, %u realigns, latency %u, ERLE %.1f dB\n", delay_ms, s.delay_ms,
           s.realigns, s.latency, e);
    assert_true(fabs(s.delay_ms - delay_ms) <= 2.0);
    assert_true(e >= 50); /* measured 62.9-63.8 dB */
    fe_aec_destroy(st);
    free(src);
    free(ref);
    free(mic);
    free(out);
    free(echo);
    free(h);
}

static void test_bulk_delay_plus_120(void **state)
{
    (void) state;
    rng = 21;
    check_bulk_delay(120);
}

static void test_bulk_delay_minus_60(void **state)
{
    (void) state;
    rng = 22;
    check_bulk_delay(-60);
}

/* Loudspeaker clock 100 ppm fast: it plays src(n (1 + 1e-4)) at mic sample n. */
static void test_drift_100ppm(void **state)
{
    long n = 20 * FS, len = n + 4000;
    float *src, *played = malloc((size_t) n * sizeof(float)), *echo = calloc((size_t) n, sizeof(float));
    float *mic = malloc((size_t) n * sizeof(float)), *out = calloc((size_t) n, sizeof(float));
    float *h = room_ir(2400, 16, 0.3, 0.15);
    struct fe_aec_cfg cfg;
    struct fe_aec *st;
    struct fe_aec_state s;
    double e_lin, e;

    (void) state;
    rng = 31;
    src = pinkish(len, 0.1);
    for (long i = 0; i < n; i++) {
        double t = (double) i * (1 + 100e-6);
        long t0 = (long) floor(t);
        double acc = 0;
        for (int j = -SINC_HALF + 1; j <= SINC_HALF; j++)
            if (t0 + j >= 0 && t0 + j < len)
                acc += src[t0 + j] * blackman_sinc(t - (double) (t0 + j), SINC_HALF);
        played[i] = (float) acc;
    }
    convolve_add(echo, 1, 0, played, n, h, 2400, 0.5);
    memcpy(mic, echo, (size_t) n * sizeof(float));
    add_noise(mic, n, 1e-4);

    fe_aec_cfg_default(&cfg, FS, 1);
    cfg.res = FE_AEC_RES_OFF;
    st = fe_aec_create(&cfg);
    run_aec(st, mic, 1, src, n, out, NULL, NULL);
    fe_aec_get_state(st, &s);
    e_lin = erle(echo, out, 1, 10 * FS, n - HOP - s.latency, s.latency);
    fe_aec_destroy(st);
    cfg.res = FE_AEC_RES_OWN;
    st = fe_aec_create(&cfg);
    memset(out, 0, (size_t) n * sizeof(float));
    run_aec(st, mic, 1, src, n, out, NULL, NULL);
    fe_aec_get_state(st, &s);
    e = erle(echo, out, 1, 10 * FS, n - HOP - s.latency, s.latency);
    printf("  100 ppm: ERLE over 10-20 s: MDF %.1f dB, MDF + RES %.1f dB (%u realigns, drift followed %.1f ppm)\n",
           e_lin, e, s.realigns, s.drift_ppm);
    assert_true(fabs(s.drift_ppm + 100) < 20);
    assert_true(e >= 25);
    fe_aec_destroy(st);
    free(src);
    free(played);
    free(echo);
    free(mic);
    free(out);
    free(h);
}

struct dt_count {
    long a, b;            /* hops of double talk */
    long start;           /* first sample of the near talker */
    long dt_in, hops_in;  /* flag counts inside [a, b) */
    long dt_far, hops_far;/* flag counts in far-end single talk after 4 s */
};

static void count_dt(const struct fe_aec *st, long hop, void *arg)
{
    struct dt_count *k = arg;
    struct fe_aec_state s;

    fe_aec_get_state(st, &s);
    if (hop >= k->a && hop < k->b && fmod((double) (hop * HOP - k->start) / FS, 2.0) < 1.5) {
        k->hops_in++;
        k->dt_in += s.double_talk;
    } else if (hop >= 500 && hop < k->start / HOP) {
        k->hops_far++;
        k->dt_far += s.double_talk;
    }
}

/* Near talker: band-limited noise with a syllable-rate envelope. */
static float *near_talker(long n, long start, double rms)
{
    float *v = calloc((size_t) n, sizeof(float));
    double y1 = 0, y2 = 0, p = 0;
    long cnt = 0;

    assert_non_null(v);
    for (long i = start; i < n; i++) {
        /* 4 syllables a second in 1.5 s phrases with 0.5 s pauses */
        double t = (double) (i - start) / FS, env = fmod(t, 2.0) < 1.5 ? 0.2 + fabs(sin(2 * M_PI * 2 * t)) : 0;
        double x = gauss();
        double y = 1.6 * y1 - 0.8 * y2 + x; /* resonance near 1.5 kHz */
        y2 = y1;
        y1 = y;
        v[i] = (float) (y * env);
        p += (double) v[i] * v[i];
        cnt++;
    }
    for (long i = start; i < n; i++)
        v[i] = (float) (v[i] * rms / sqrt(p / cnt));
    return v;
}

static void check_double_talk(enum fe_aec_res res, double *att_db, double *dt_share, double *far_share)
{
    long n = 14 * FS, start = 8 * FS;
    float *ref, *echo = calloc((size_t) n, sizeof(float)), *near, *mic = malloc((size_t) n * sizeof(float));
    float *out = calloc((size_t) n, sizeof(float)), *h = room_ir(2400, 16, 0.3, 0.15);
    struct fe_aec_cfg cfg;
    struct fe_aec *st;
    struct dt_count k = { .a = start / HOP + 20, .b = n / HOP - 2, .start = start };
    double vv = 0, vo = 0, ee = 0;
    unsigned lat;

    rng = 41;
    ref = pinkish(n, 0.1);
    convolve_add(echo, 1, 0, ref, n, h, 2400, 0.5);
    for (long i = 0; i < n; i++)
        ee += (double) echo[i] * echo[i];
    near = near_talker(n, start, sqrt(ee / n) * pow(10, -6.0 / 20)); /* 6 dB under the echo */
    for (long i = 0; i < n; i++)
        mic[i] = echo[i] + near[i];
    add_noise(mic, n, 1e-4);
    fe_aec_cfg_default(&cfg, FS, 1);
    cfg.res = res;
    st = fe_aec_create(&cfg);
    assert_non_null(st);
    run_aec(st, mic, 1, ref, n, out, count_dt, &k);
    {
        struct fe_aec_state s;
        fe_aec_get_state(st, &s);
        lat = s.latency;
    }
    /* near-end gain: projection of the output on the clean near talker,
     * at the output latency (searched: speex's preprocessor adds its own) */
    {
        double best = 0;
        for (unsigned l = lat; l < lat + 400; l++) {
            double a = 0, b = 0;
            for (long i = start + FS / 2; i < n - 3 * HOP && i + (long) l < n; i++) {
                a += (double) near[i] * near[i];
                b += (double) near[i] * out[i + l];
            }
            if (fabs(b) > fabs(best)) {
                best = b;
                vv = a;
                vo = b;
            }
        }
    }
    *att_db = -20 * log10(fabs(vo / vv) + 1e-30);
    *dt_share = (double) k.dt_in / (double) k.hops_in;
    *far_share = (double) k.dt_far / (double) k.hops_far;
    fe_aec_destroy(st);
    free(ref);
    free(echo);
    free(near);
    free(mic);
    free(out);
    free(h);
}

static void test_double_talk(void **state)
{
    double att, dt, far, att_sp, dt_sp, far_sp;

    (void) state;
    check_double_talk(FE_AEC_RES_OWN, &att, &dt, &far);
    check_double_talk(FE_AEC_RES_SPEEX, &att_sp, &dt_sp, &far_sp);
    {
        double a0, d0, f0;
        check_double_talk(FE_AEC_RES_OFF, &a0, &d0, &f0);
        printf("  MDF alone: near-end attenuation %.2f dB\n", a0);
    }
    printf("  double talk (near 6 dB under the echo): near-end attenuation own RES %.2f dB, speex RES %.2f dB\n",
           att, att_sp);
    printf("  double-talk flag: %.0f %% of double-talk hops, %.0f %% of far-end-only hops\n", 100 * dt, 100 * far);
    assert_true(att <= 1.5); /* measured 0.66 dB */
    assert_true(att >= -1.0);
    assert_true(dt >= 0.9); /* measured 0.99 */
    assert_true(far <= 0.05);
}

static void test_silence_clipping_nan(void **state)
{
    enum { C = 4 };
    long n = 3 * FS;
    float *mic = calloc((size_t) n * C, sizeof(float)), *ref = calloc((size_t) n, sizeof(float));
    float *out = calloc((size_t) n * C, sizeof(float));
    struct fe_aec_cfg cfg;
    struct fe_aec *st;
    struct fe_aec_state s;

    (void) state;
    fe_aec_cfg_default(&cfg, FS, C);
    st = fe_aec_create(&cfg);
    assert_non_null(st);
    run_aec(st, mic, C, ref, n, out, NULL, NULL); /* silence */
    for (long i = 0; i < n * C; i++)
        assert_true(out[i] == 0.0f);
    run_aec(st, mic, C, NULL, n, out, NULL, NULL); /* no reference */
    for (long i = 0; i < n; i++) {
        float v = (i / 40) % 2 ? 3.0f : -3.0f; /* clipped square wave, far beyond full scale */
        ref[i] = v;
        for (unsigned c = 0; c < C; c++)
            mic[i * C + c] = v * (c + 1);
    }
    mic[1000] = NAN;
    mic[2001] = INFINITY;
    ref[3000] = NAN;
    run_aec(st, mic, C, ref, n, out, NULL, NULL);
    for (long i = 0; i < n * C; i++)
        assert_true(isfinite(out[i]));
    fe_aec_get_state(st, &s);
    assert_true(isfinite(s.erle_db) && isfinite(s.erle_lin_db) && isfinite(s.delay_est_ms));
    fe_aec_destroy(st);
    free(mic);
    free(ref);
    free(out);
}

static void test_bad_cfg(void **state)
{
    struct fe_aec_cfg cfg;

    (void) state;
    fe_aec_cfg_default(&cfg, FS, 0);
    assert_null(fe_aec_create(&cfg));
    fe_aec_cfg_default(&cfg, FS, 1);
    cfg.hop = 128;
    assert_null(fe_aec_create(&cfg));
    fe_aec_cfg_default(&cfg, FS, 1);
    cfg.tail_ms = 5000;
    assert_null(fe_aec_create(&cfg));
    fe_aec_cfg_default(&cfg, FS, 1);
    cfg.initial_delay_ms = 400;
    assert_null(fe_aec_create(&cfg));
    assert_null(fe_aec_create(NULL));
    fe_aec_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erle_room_path),
        cmocka_unit_test(test_bulk_delay_plus_120),
        cmocka_unit_test(test_bulk_delay_minus_60),
        cmocka_unit_test(test_drift_100ppm),
        cmocka_unit_test(test_double_talk),
        cmocka_unit_test(test_silence_clipping_nan),
        cmocka_unit_test(test_bad_cfg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
