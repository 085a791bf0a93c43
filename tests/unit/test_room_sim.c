/*
 * test_room_sim.c - image-source room (tools/room_sim.c): direct path delay
 * and 1/r gain, order-1 image positions, RT60 of generated IRs (Schroeder
 * T30/T20), determinism, FFT convolution against direct convolution, and
 * the band-limited interpolator used for delays and clock drift.
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

#include "../../tools/room_sim.h"

#define FS 16000.0

/* cmocka 1.1 has no double comparison. */
#define assert_near(a, b, eps)                                                    \
    do {                                                                          \
        double a_ = (a), b_ = (b), e_ = (eps);                                    \
        if (!(fabs(a_ - b_) <= e_))                                               \
            fail_msg("%s = %.9g, expected %.9g +- %.3g", #a, a_, b_, e_);         \
    } while (0)

static uint64_t lcg_state;

static double urand(void)  /* uniform in [-1, 1) */
{
    lcg_state = lcg_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(lcg_state >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

static float *ir_alloc(const struct room_sim_opts *o, long *n)
{
    float *h;

    *n = room_sim_ir_len(o);
    assert_true(*n > 0);
    h = calloc((size_t)*n, sizeof(float));
    assert_non_null(h);
    return h;
}

/* Big room, RT60 far below anything Sabine can reach: beta 0, one path. */
static void test_anechoic_single_tap(void **state)
{
    (void)state;
    const double dims[3] = { 100, 100, 100 };
    struct room_sim_room room = { { 100, 100, 100 }, 1.0 };
    struct room_sim_opts o;
    double beta = 1.0, meas;
    /* 100 samples at 16 kHz and 343 m/s. */
    const double dist = 100.0 * ROOM_SIM_C / FS;
    double src[3] = { 50, 50, 50 }, mic[3] = { 50 + dist * 0.6, 50 + dist * 0.8, 50 };
    long n, nimg, pre, peak_at = -1;
    double peak = 0.0, rest = 0.0;
    float *h;

    assert_int_equal(room_sim_beta_for_rt60(dims, 0.01, 0.0, &beta, &meas), 0);
    assert_true(beta == 0.0);
    room.beta = beta;
    room_sim_opts_default(&o, FS);
    o.max_time_s = 0.05;
    h = ir_alloc(&o, &n);
    pre = room_sim_ir_pre(&o);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, h, n, &nimg), 0);
    assert_int_equal(nimg, 1);
    for (long i = 0; i < n; i++) {
        if (fabs(h[i]) > peak) {
            peak = fabs(h[i]);
            peak_at = i;
        }
    }
    for (long i = 0; i < n; i++)
        if (i != peak_at)
            rest += (double)h[i] * h[i];
    assert_int_equal(peak_at, pre + 100);
    assert_near(h[peak_at], 1.0 / dist, 1e-6 / dist);
    assert_true(rest < 1e-12 * peak * peak);

    /* Half a sample further: two equal taps either side, DC gain 1/r. */
    {
        double d2 = 100.5 * ROOM_SIM_C / FS, sum = 0.0;
        double mic2[3] = { 50 + d2, 50, 50 };

        assert_int_equal(room_sim_ir(&room, &o, src, mic2, h, n, NULL), 0);
        assert_near(h[pre + 100], h[pre + 101], 1e-6);
        for (long i = 0; i < n; i++)
            sum += h[i];
        assert_near(sum, 1.0 / d2, 1e-5 / d2);
    }
    free(h);
}

static int has_image(const struct room_sim_image *im, long n, double x, double y, double z,
                     int order)
{
    int found = 0;

    for (long i = 0; i < n; i++)
        if (fabs(im[i].pos[0] - x) < 1e-12 && fabs(im[i].pos[1] - y) < 1e-12
            && fabs(im[i].pos[2] - z) < 1e-12 && im[i].order == order)
            found++;
    return found;
}

/* Room 4 x 5 x 3, source (1, 2, 1.5): mirror in each of the six walls. */
static void test_order1_images(void **state)
{
    (void)state;
    struct room_sim_room room = { { 4, 5, 3 }, 0.8 };
    const double src[3] = { 1.0, 2.0, 1.5 };
    struct room_sim_image im[64];
    long n;

    n = room_sim_images(&room, src, 1, im, 64);
    assert_int_equal(n, 7);
    assert_int_equal(has_image(im, n, 1, 2, 1.5, 0), 1);
    assert_int_equal(im[0].order, 0);
    assert_near(im[0].gain, 1.0, 0);
    assert_int_equal(has_image(im, n, -1, 2, 1.5, 1), 1);   /* x = 0 wall */
    assert_int_equal(has_image(im, n, 7, 2, 1.5, 1), 1);    /* x = 4: 2*4 - 1 */
    assert_int_equal(has_image(im, n, 1, -2, 1.5, 1), 1);   /* y = 0 */
    assert_int_equal(has_image(im, n, 1, 8, 1.5, 1), 1);    /* y = 5: 2*5 - 2 */
    assert_int_equal(has_image(im, n, 1, 2, -1.5, 1), 1);   /* floor */
    assert_int_equal(has_image(im, n, 1, 2, 4.5, 1), 1);    /* ceiling: 2*3 - 1.5 */
    for (long i = 1; i < n; i++)
        assert_near(im[i].gain, 0.8, 1e-15);

    /* Order <= 2: 1 + 6 + (3 axes x 2 double bounces + 3 axis pairs x 4) = 25. */
    assert_int_equal(room_sim_images(&room, src, 2, NULL, 0), 25);
    assert_int_equal(room_sim_images(&room, src, 2, im, 64), 25);
    assert_int_equal(has_image(im, 25, 1 + 8, 2, 1.5, 2), 1);   /* x: u=0, n=1 */
    assert_int_equal(has_image(im, 25, -1, -2, 1.5, 2), 1);    /* two walls */
    assert_true(room_sim_images(&room, (double[3]){ 5, 1, 1 }, 1, NULL, 0) < 0);
}

/* The order-1 IR equals the sum of free-field paths from the seven images
 * (each at gain beta), built in a huge anechoic room around them. */
static void test_order1_ir_matches_images(void **state)
{
    (void)state;
    struct room_sim_room room = { { 4, 5, 3 }, 0.7 }, big = { { 100, 100, 100 }, 0.0 };
    const double src[3] = { 1.0, 2.0, 1.5 }, mic[3] = { 2.7, 3.1, 1.1 };
    struct room_sim_image im[8];
    struct room_sim_opts o;
    float *h, *g, *one;
    long n, nimg;
    double err = 0.0, ref = 0.0;

    room_sim_opts_default(&o, FS);
    o.max_order = 1;
    o.max_time_s = 0.05;
    h = ir_alloc(&o, &n);
    g = calloc((size_t)n, sizeof(float));
    one = calloc((size_t)n, sizeof(float));
    assert_non_null(g);
    assert_non_null(one);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, h, n, &nimg), 0);
    assert_int_equal(nimg, 7);
    assert_int_equal(room_sim_images(&room, src, 1, im, 8), 7);
    for (int i = 0; i < 7; i++) {
        double s[3], m[3];

        for (int a = 0; a < 3; a++) {
            s[a] = im[i].pos[a] + 50.0;
            m[a] = mic[a] + 50.0;
        }
        assert_int_equal(room_sim_ir(&big, &o, s, m, one, n, NULL), 0);
        for (long k = 0; k < n; k++)
            g[k] += (float)(im[i].gain * one[k]);
    }
    for (long k = 0; k < n; k++) {
        err += ((double)h[k] - g[k]) * ((double)h[k] - g[k]);
        ref += (double)g[k] * g[k];
    }
    assert_true(err < 1e-10 * ref);
    free(one);
    free(g);
    free(h);
}

/* Synthetic exponential decay: the estimator itself. */
static void test_measure_rt60_synthetic(void **state)
{
    (void)state;
    const double t60 = 0.4;
    long n = (long)(1.2 * FS);
    float *h = malloc(sizeof(float) * (size_t)n);
    double t30, t20;

    assert_non_null(h);
    lcg_state = 99;
    for (long i = 0; i < n; i++)
        h[i] = (float)(urand() * exp(-3.0 * log(10.0) * ((double)i / FS) / t60));
    h[0] = 1.0f;
    t30 = room_sim_measure_rt60(h, n, FS, 5, 35);
    t20 = room_sim_measure_rt60(h, n, FS, 5, 25);
    assert_true(fabs(t30 - t60) < 0.03 * t60);
    assert_true(fabs(t20 - t60) < 0.03 * t60);
    memset(h, 0, sizeof(float) * (size_t)n);
    assert_true(room_sim_measure_rt60(h, n, FS, 5, 35) < 0);
    free(h);
}

static void check_rt60(double target)
{
    const double dims[3] = { 6.0, 4.0, 3.0 };
    struct room_sim_room room = { { 6.0, 4.0, 3.0 }, 0.0 };
    const double src[3] = { 1.3, 2.9, 1.6 }, mic[3] = { 3.4, 1.7, 1.0 };
    struct room_sim_opts o;
    double beta, meas_ref, t30, t20, t30_sabine;
    float *h;
    long n;

    assert_int_equal(room_sim_beta_for_rt60(dims, target, 0.0, &beta, &meas_ref), 0);
    assert_true(beta > 0.0 && beta < 1.0);
    room_sim_opts_default(&o, FS);
    o.max_time_s = 1.3 * target;
    o.sinc_half = 8;  /* broadband decay: the interpolator's width does not matter */
    h = ir_alloc(&o, &n);
    room.beta = beta;
    assert_int_equal(room_sim_ir(&room, &o, src, mic, h, n, NULL), 0);
    t30 = room_sim_measure_rt60(h, n, FS, 5, 35);
    t20 = room_sim_measure_rt60(h, n, FS, 5, 25);
    room.beta = room_sim_beta_sabine(dims, target, 0.0);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, h, n, NULL), 0);
    t30_sabine = room_sim_measure_rt60(h, n, FS, 5, 35);
    printf("    RT60 %.2f s: beta %.4f (Sabine %.4f): T30 %.3f s (%+.1f %%), T20 %.3f s "
           "(%+.1f %%); plain Sabine T30 %.3f s (%+.1f %%)\n", target, beta,
           room_sim_beta_sabine(dims, target, 0.0), t30, 100.0 * (t30 / target - 1.0), t20,
           100.0 * (t20 / target - 1.0), t30_sabine, 100.0 * (t30_sabine / target - 1.0));
    assert_true(fabs(t30 - target) <= 0.15 * target);
    assert_true(fabs(t20 - target) <= 0.15 * target);
    free(h);
}

static void test_rt60_0_3(void **state)
{
    (void)state;
    check_rt60(0.3);
}

static void test_rt60_0_5(void **state)
{
    (void)state;
    check_rt60(0.5);
}

static void test_deterministic(void **state)
{
    (void)state;
    struct room_sim_room room = { { 5.0, 4.0, 2.7 }, 0.85 };
    const double src[3] = { 1.0, 3.0, 1.5 }, mic[3] = { 2.5, 2.0, 1.0 };
    const double other[3] = { 4.0, 1.0, 2.0 };
    struct room_sim_opts o;
    float *a, *b, *c;
    long n;
    double beta1, beta2;

    room_sim_opts_default(&o, FS);
    o.max_time_s = 0.1;
    a = ir_alloc(&o, &n);
    b = calloc((size_t)n, sizeof(float));
    c = calloc((size_t)n, sizeof(float));
    assert_non_null(b);
    assert_non_null(c);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, a, n, NULL), 0);
    assert_int_equal(room_sim_ir(&room, &o, other, mic, c, n, NULL), 0);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, b, n, NULL), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)n);

    /* Jitter: same seed, same IR (whatever ran in between); other seed differs. */
    o.jitter_m = 0.05;
    o.seed = 7;
    assert_int_equal(room_sim_ir(&room, &o, src, mic, a, n, NULL), 0);
    assert_int_equal(room_sim_ir(&room, &o, other, mic, c, n, NULL), 0);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, b, n, NULL), 0);
    assert_memory_equal(a, b, sizeof(float) * (size_t)n);
    o.seed = 8;
    assert_int_equal(room_sim_ir(&room, &o, src, mic, b, n, NULL), 0);
    assert_true(memcmp(a, b, sizeof(float) * (size_t)n) != 0);

    assert_int_equal(room_sim_beta_for_rt60(room.dims, 0.25, 0.0, &beta1, NULL), 0);
    assert_int_equal(room_sim_beta_for_rt60(room.dims, 0.25, 0.0, &beta2, NULL), 0);
    assert_true(beta1 == beta2);
    free(c);
    free(b);
    free(a);
}

static void conv_case(long nx, long nh, int nch, long ny, long shift, double gain)
{
    float *x = malloc(sizeof(float) * (size_t)nx);
    float *h[4], *y[4], *y0[4];
    double maxerr = 0.0, maxref = 0.0;

    assert_non_null(x);
    for (long i = 0; i < nx; i++)
        x[i] = (float)urand();
    /* A silent stretch, skipped by the block loop. */
    for (long i = nx / 3; i < nx / 3 + nx / 4; i++)
        x[i] = 0.0f;
    for (int c = 0; c < nch; c++) {
        h[c] = malloc(sizeof(float) * (size_t)nh);
        y[c] = malloc(sizeof(float) * (size_t)ny);
        assert_non_null(h[c]);
        assert_non_null(y[c]);
        for (long k = 0; k < nh; k++)
            h[c][k] = (float)(urand() * exp(-(double)k / (nh / 4.0 + 1)));
        for (long i = 0; i < ny; i++)
            y[c][i] = (float)(0.25 * urand());  /* the helper adds to y */
    }
    for (int c = 0; c < nch; c++) {
        y0[c] = malloc(sizeof(float) * (size_t)ny);
        assert_non_null(y0[c]);
        memcpy(y0[c], y[c], sizeof(float) * (size_t)ny);
    }
    assert_int_equal(room_sim_convolve(x, nx, (const float *const *)h, nch, nh, y, ny, shift,
                                       gain), 0);
    for (int c = 0; c < nch; c++) {
        for (long i = 0; i < ny; i++) {
            long j = i + shift;
            double s = 0.0;

            for (long k = 0; k < nh; k++)
                if (j - k >= 0 && j - k < nx)
                    s += (double)h[c][k] * x[j - k];
            s = y0[c][i] + gain * s;
            if (fabs(s - y[c][i]) > maxerr)
                maxerr = fabs(s - y[c][i]);
            if (fabs(s) > maxref)
                maxref = fabs(s);
        }
    }
    assert_true(maxref > 0.1);
    assert_true(maxerr < 2e-6 * maxref);
    for (int c = 0; c < nch; c++) {
        free(y0[c]);
        free(y[c]);
        free(h[c]);
    }
    free(x);
}

static void test_convolve_matches_direct(void **state)
{
    (void)state;
    lcg_state = 12345;
    conv_case(5000, 700, 3, 5800, 0, 1.0);      /* FFT, odd channel count */
    conv_case(5000, 700, 2, 3000, 1234, 0.5);   /* window inside the output */
    conv_case(3000, 1500, 4, 4000, -321, 2.0);  /* negative shift: leading zeros */
    conv_case(4000, 40, 3, 4100, 7, 1.0);       /* direct path */
    conv_case(100, 2000, 1, 2200, 0, 1.0);      /* input shorter than the IR */
}

static void test_interp(void **state)
{
    (void)state;
    const long n = 4000;
    float *x = malloc(sizeof(float) * (size_t)n), *y = malloc(sizeof(float) * (size_t)n);
    const double w = 2.0 * M_PI * 440.0 / FS;
    double maxerr = 0.0;

    assert_non_null(x);
    assert_non_null(y);
    for (long i = 0; i < n; i++)
        x[i] = (float)sin(w * (double)i);
    /* Integer shift: exact copy. */
    room_sim_interp(x, n, -3.0, 1.0, y, n);
    for (long i = 0; i < 3; i++)
        assert_true(y[i] == 0.0f);
    for (long i = 3; i < n; i++)
        assert_true(y[i] == x[i - 3]);
    /* 100 ppm faster clock plus a 2.25-sample advance. */
    room_sim_interp(x, n, 2.25, 1.0001, y, n);
    for (long i = 100; i < n - 100; i++) {
        double e = fabs(y[i] - sin(w * (2.25 + (double)i * 1.0001)));

        if (e > maxerr)
            maxerr = e;
    }
    assert_true(maxerr < 1e-4);
    free(y);
    free(x);
}

static void test_bad_args(void **state)
{
    (void)state;
    struct room_sim_room room = { { 4, 5, 3 }, 0.8 };
    struct room_sim_opts o;
    const double in[3] = { 1, 1, 1 }, out[3] = { 1, 6, 1 };
    float h[256];

    room_sim_opts_default(&o, FS);
    o.max_time_s = 0.01;
    assert_int_equal(room_sim_ir(&room, &o, in, out, h, 256, NULL), -22);
    assert_int_equal(room_sim_ir(&room, &o, out, in, h, 256, NULL), -22);
    room.beta = 1.5;
    assert_int_equal(room_sim_ir(&room, &o, in, in, h, 256, NULL), -22);
    room.beta = 0.5;
    o.max_time_s = 0.0;
    assert_int_equal(room_sim_ir(&room, &o, in, in, h, 256, NULL), -22);
}

/* room_sim_highpass: a reverberant IR's large DC gain is removed (DC gain
 * < 1e-3 of what it was, < 1e-2 of the IR's 1 kHz gain), while its response
 * at 300 Hz - 4 kHz changes by < 0.2 dB; fc 0 is a no-op. */
static double ir_gain_at(const float *h, long n, double f, double fs)
{
    double re = 0, im = 0;

    for (long k = 0; k < n; k++) {
        re += h[k] * cos(2 * M_PI * f * k / fs);
        im -= h[k] * sin(2 * M_PI * f * k / fs);
    }
    return sqrt(re * re + im * im);
}

static void test_highpass_removes_dc(void **state)
{
    struct room_sim_room room = { { 5, 4, 2.7 }, 0 };
    struct room_sim_opts o;
    const double src[3] = { 3.5, 2.8, 1.6 }, mic[3] = { 2.0, 1.5, 1.0 }, fs = 16000;
    long n;
    float *h, *g;
    double dc0, dc1;

    (void)state;
    assert_int_equal(room_sim_beta_for_rt60(room.dims, 0.4, 0, &room.beta, NULL), 0);
    room_sim_opts_default(&o, fs);
    o.max_time_s = 0.4;
    n = room_sim_ir_len(&o);
    h = malloc(sizeof(float) * (size_t)n);
    g = malloc(sizeof(float) * (size_t)n);
    assert_non_null(h);
    assert_non_null(g);
    assert_int_equal(room_sim_ir(&room, &o, src, mic, h, n, NULL), 0);
    memcpy(g, h, sizeof(float) * (size_t)n);
    room_sim_highpass(g, n, fs, 0);
    assert_memory_equal(g, h, sizeof(float) * (size_t)n);
    room_sim_highpass(g, n, fs, 50);
    dc0 = ir_gain_at(h, n, 0, fs);
    dc1 = ir_gain_at(g, n, 0, fs);
    printf("  IR DC gain %.1f -> %.4f; 1 kHz gain %.2f -> %.2f\n", dc0, dc1, ir_gain_at(h, n, 1000, fs),
           ir_gain_at(g, n, 1000, fs));
    assert_true(dc0 > 10 * ir_gain_at(h, n, 1000, fs));   /* the artefact is there */
    assert_true(dc1 < 1e-3 * dc0);
    assert_true(dc1 < 1e-2 * ir_gain_at(h, n, 1000, fs));
    for (double f = 300; f <= 4000; f *= 1.19) {
        double d = 20 * log10(ir_gain_at(g, n, f, fs) / ir_gain_at(h, n, f, fs));
        assert_true(fabs(d) < 0.2);
    }
    free(h);
    free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anechoic_single_tap),
        cmocka_unit_test(test_order1_images),
        cmocka_unit_test(test_order1_ir_matches_images),
        cmocka_unit_test(test_measure_rt60_synthetic),
        cmocka_unit_test(test_rt60_0_3),
        cmocka_unit_test(test_rt60_0_5),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_convolve_matches_direct),
        cmocka_unit_test(test_interp),
        cmocka_unit_test(test_bad_args),
        cmocka_unit_test(test_highpass_removes_dc),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
