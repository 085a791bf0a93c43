/*
 * test_fe_doa.c - SRP-PHAT DOA (src/fe_doa.c): far-field fractional-delay
 * plane waves on the sim4 geometry (4 mics, 32 mm radius) and a linear
 * array, generated here from the geometry with sensor noise; the tracker's
 * hold in silence, hysteresis against short bursts and switch to a talker
 * who moved; arena init; bad configurations.
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

#include "fe_test_signal.h"
#include "fe_doa.h"

#define FS 16000
#define HOP 160

#define assert_near(a, b, eps)                                                                               \
    do {                                                                                                     \
        double a_ = (a), b_ = (b), e_ = (eps);                                                               \
        if (!(fabs(a_ - b_) <= e_))                                                                          \
            fail_msg("%s = %.6g, expected %.6g +- %.3g", #a, a_, b_, e_);                                    \
    } while (0)


static double ang_err(double a, double b)
{
    double d = fmod(a - b, 360.0);
    if (d > 180)
        d -= 360;
    if (d < -180)
        d += 360;
    return fabs(d);
}

static void sim4_cfg(struct fe_doa_cfg *cfg)
{
    fe_doa_cfg_default(cfg);
    cfg->mic_count = 4;
    for (unsigned m = 0; m < 4; m++) {
        cfg->mic_pos_mm[m][0] = 32 * cos(M_PI / 2 * m);
        cfg->mic_pos_mm[m][1] = 32 * sin(M_PI / 2 * m);
    }
}

/*
 * Add to out (n frames, `stride` channels, mics first) the plane wave of
 * source s (n + 2 PAD samples, s[PAD + t] is the signal at the array origin
 * at time t) arriving from az_deg: mic m hears s(t + p_m.u / c), delayed by
 * a Blackman-windowed sinc of SINC_HALF taps each side.
 */
static void add_plane_wave(float *out, long n, unsigned stride, const struct fe_doa_cfg *cfg, const double *s,
                           double az_deg, double gain)
{
    fe_test_plane_wave(out, n, stride, cfg->mic_count, (const double (*)[3])cfg->mic_pos_mm, FS, s, az_deg, gain);
}

static double *white_source(long n)
{
    double *s = malloc((size_t) (n + 2 * PAD) * sizeof(double));

    assert_non_null(s);
    for (long i = 0; i < n + 2 * PAD; i++)
        s[i] = gauss();
    return s;
}

/* Talk-like on/off pattern: silent for `lead` samples, then `on` on and
 * `off` off (a stationary source is noise to the energy gate, by design). */
static void gate_source(double *s, long n, long lead, long on, long off)
{
    for (long i = 0; i < n + 2 * PAD; i++) {
        long t = i - PAD;
        if (t < lead || (t - lead) % (on + off) >= on)
            s[i] = 0;
    }
}

static bool gate_on(long t, long lead, long on, long off)
{
    return t >= lead && (t - lead) % (on + off) < on;
}

static void add_noise(float *out, long n, unsigned stride, unsigned mics, double rms)
{
    for (long t = 0; t < n; t++)
        for (unsigned m = 0; m < mics; m++)
            out[t * stride + m] += (float) (rms * gauss());
}

struct run_stats {
    long hops, active;
    float az, conf;
};

/* Run hops [h0, h1) of x through st; optionally check the tracked azimuth
 * against want (within tol) on every hop from check_from on. */
static void run(struct fe_doa *st, const float *x, unsigned stride, long h0, long h1, double want, double tol,
                long check_from, struct run_stats *rs)
{
    memset(rs, 0, sizeof(*rs));
    for (long h = h0; h < h1; h++) {
        bool act;
        fe_doa_process(st, x + h * HOP * stride, stride);
        fe_doa_get(st, &rs->az, &rs->conf, &act);
        rs->hops++;
        rs->active += act;
        if (h >= check_from && want >= 0 && ang_err(rs->az, want) > tol)
            fail_msg("hop %ld: azimuth %.2f, expected %.2f +- %.1f", h, rs->az, want, tol);
    }
}

/* Plane waves (white noise, 300 ms lead-in, then 200 ms on / 100 ms off) at
 * assorted azimuths, SNR 20 dB per mic: the track is within 2 degrees from
 * 50 ms after the onset, the last raw per-hop peak too, and at least 90 %
 * of the hops that are fully inside an "on" span are active. */
static void test_plane_wave_azimuths(void **state)
{
    (void) state;
    const double azs[] = {0, 17.3, 45, 90, 133.7, 180, 222.2, 270, 301.5, 359};
    const long n = FS; /* 1 s */
    struct fe_doa_cfg cfg;

    sim4_cfg(&cfg);
    rng = 1;
    for (unsigned a = 0; a < sizeof(azs) / sizeof(azs[0]); a++) {
        double *s = white_source(n);
        float *x = calloc((size_t) n * 5, sizeof(float));
        struct fe_doa *st = fe_doa_create(&cfg);
        struct fe_doa_info info;
        struct run_stats rs;
        long on_hops = 0, on_active = 0, last_on = 0;

        assert_non_null(x);
        assert_non_null(st);
        gate_source(s, n, FS * 3 / 10, FS / 5, FS / 10);
        add_plane_wave(x, n, 5, &cfg, s, azs[a], 0.1);
        add_noise(x, n, 5, 4, 0.01);
        for (long h = 0; h < n / HOP; h++) {
            bool act;
            fe_doa_process(st, x + h * HOP * 5, 5);
            fe_doa_get(st, &rs.az, &rs.conf, &act);
            if (gate_on(h * HOP, FS * 3 / 10, FS / 5, FS / 10) &&
                gate_on(h * HOP + HOP - 1, FS * 3 / 10, FS / 5, FS / 10)) {
                on_hops++;
                on_active += act;
                if (act) {
                    fe_doa_get_info(st, &info);
                    last_on = h;
                }
            }
            if (h * HOP >= FS * 35 / 100 && ang_err(rs.az, azs[a]) > 2.0)
                fail_msg("az %.1f hop %ld: tracked %.2f", azs[a], h, rs.az);
        }
        assert_true(last_on > 0);
        assert_true(info.tracking);
        assert_true(ang_err(info.raw_azimuth_deg, azs[a]) <= 2.0);
        assert_true(on_active >= on_hops * 9 / 10);
        assert_true(rs.conf > 0.5f);
        print_message("az %6.1f: tracked %6.2f raw %6.2f coherence %.2f confidence %.2f, active %ld/%ld\n",
                      azs[a], rs.az, info.raw_azimuth_deg, info.coherence, rs.conf, on_active, on_hops);
        fe_doa_destroy(st);
        free(x);
        free(s);
    }
}

/* Speech-like bursts (noise shaped by a 200-3000 Hz resonator, 150 ms on /
 * 100 ms off) at SNR 10 dB: the track stays within 3 degrees throughout. */
static void test_bursty_source(void **state)
{
    (void) state;
    const long n = 2 * FS;
    struct fe_doa_cfg cfg;
    double *s, y1 = 0, y2 = 0;
    float *x = calloc((size_t) n * 4, sizeof(float));
    struct fe_doa *st;
    struct run_stats rs;

    sim4_cfg(&cfg);
    rng = 7;
    s = white_source(n);
    assert_non_null(x);
    for (long i = 0; i < n + 2 * PAD; i++) {
        /* 2-pole resonator at ~700 Hz, r 0.9, gated */
        double y = s[i] + 2 * 0.9 * cos(2 * M_PI * 700 / FS) * y1 - 0.81 * y2;
        y2 = y1;
        y1 = y;
        s[i] = ((i / (FS / 40)) % 5 < 3) ? 0.2 * y : 0.0;
    }
    add_plane_wave(x, n, 4, &cfg, s, 250, 0.1);
    add_noise(x, n, 4, 4, 0.01);
    st = fe_doa_create(&cfg);
    assert_non_null(st);
    run(st, x, 4, 0, n / HOP, 250, 3.0, 20, &rs);
    assert_true(rs.active > rs.hops / 3);
    fe_doa_destroy(st);
    free(x);
    free(s);
}

/* Source at 60 deg from 0.2 s to 1 s, then 1.5 s of sensor noise only: the azimuth
 * is held, hops turn inactive within 100 ms, confidence decays but stays. */
static void test_hold_in_silence(void **state)
{
    (void) state;
    const long n1 = FS, n = FS * 5 / 2;
    struct fe_doa_cfg cfg;
    double *s;
    float *x = calloc((size_t) n * 4, sizeof(float));
    struct fe_doa *st;
    struct run_stats rs;
    float conf_talk;

    sim4_cfg(&cfg);
    rng = 11;
    s = white_source(n);
    assert_non_null(x);
    for (long i = 0; i < n + 2 * PAD; i++)
        if (i - PAD >= n1 || i - PAD < FS / 5)
            s[i] = 0;
    add_plane_wave(x, n, 4, &cfg, s, 60, 0.1);
    add_noise(x, n, 4, 4, 0.003);
    st = fe_doa_create(&cfg);
    assert_non_null(st);
    run(st, x, 4, 0, n1 / HOP, 60, 2.0, 25, &rs);
    conf_talk = rs.conf;
    assert_true(conf_talk > 0.5f);
    /* silence: first 10 hops still see the tail of the 32 ms frame */
    run(st, x, 4, n1 / HOP, n1 / HOP + 10, 60, 2.0, 0, &rs);
    run(st, x, 4, n1 / HOP + 10, n / HOP, 60, 2.0, 0, &rs);
    assert_int_equal(rs.active, 0);
    assert_true(rs.conf < conf_talk);
    assert_true(rs.conf > 0.2f * conf_talk);
    print_message("silence: held %.2f deg, confidence %.2f -> %.2f\n", rs.az, conf_talk, rs.conf);
    fe_doa_destroy(st);
    free(x);
    free(s);
}

/* Talker at 30 deg (from 0.2 s, 250 ms on / 50 ms off); a 120 ms burst
 * from 150 deg does not move the track; at 2 s the talker moves to 210 deg
 * and keeps talking: the track follows within 1.6 s (switch_hops = 1 s of
 * net active hops). Locked, the track stays at 30 deg through all of it,
 * and follows within 1.6 s of unlocking. */
static void hysteresis_scene(float *x, long n, const struct fe_doa_cfg *cfg)
{
    const long t_burst = FS, t_burst_end = FS + FS * 12 / 100, t_move = 2 * FS;
    double *s1, *s2, *s3;

    rng = 21;
    s1 = white_source(n);
    s2 = white_source(n);
    s3 = white_source(n);
    for (long i = 0; i < n + 2 * PAD; i++) {
        long t = i - PAD;
        if (t >= t_move)
            s1[i] = 0;
        if (t >= t_burst && t < t_burst_end)
            s1[i] = 0; /* the talker pauses while the burst plays */
        if (t < t_burst || t >= t_burst_end)
            s2[i] = 0;
        if (t < t_move)
            s3[i] = 0;
    }
    gate_source(s1, n, FS / 5, FS / 4, FS / 20);
    gate_source(s3, n, FS / 5, FS / 4, FS / 20);
    add_plane_wave(x, n, 4, cfg, s1, 30, 0.1);
    add_plane_wave(x, n, 4, cfg, s2, 150, 0.1);
    add_plane_wave(x, n, 4, cfg, s3, 210, 0.1);
    add_noise(x, n, 4, 4, 0.005);
    free(s1);
    free(s2);
    free(s3);
}

static void test_hysteresis_and_switch(void **state)
{
    (void) state;
    const long n = 6 * FS, t_move = 2 * FS, t_follow = t_move + FS * 16 / 10;
    struct fe_doa_cfg cfg;
    float *x = calloc((size_t) n * 4, sizeof(float));
    struct fe_doa *st;
    struct run_stats rs;

    sim4_cfg(&cfg);
    assert_non_null(x);
    hysteresis_scene(x, n, &cfg);
    st = fe_doa_create(&cfg);
    assert_non_null(st);
    run(st, x, 4, 0, t_move / HOP, 30, 2.0, 25, &rs);
    run(st, x, 4, t_move / HOP, t_move / HOP + 50, 30, 2.0, 0, &rs); /* 0.5 s: still held */
    run(st, x, 4, t_move / HOP + 50, t_follow / HOP, -1, 0, 0, &rs);
    run(st, x, 4, t_follow / HOP, n / HOP, 210, 2.0, 0, &rs);
    fe_doa_destroy(st);

    /* the same, locked from 1 s to 4 s */
    st = fe_doa_create(&cfg);
    assert_non_null(st);
    run(st, x, 4, 0, FS / HOP, 30, 2.0, 25, &rs);
    fe_doa_set_lock(st, true);
    run(st, x, 4, FS / HOP, 4 * FS / HOP, 30, 2.0, 0, &rs);
    fe_doa_set_lock(st, false);
    run(st, x, 4, 4 * FS / HOP, (4 * FS + FS * 16 / 10) / HOP, -1, 0, 0, &rs);
    assert_true(ang_err(rs.az, 210) <= 2.0);
    fe_doa_destroy(st);
    free(x);
}

/* Linear array of 4 mics 40 mm apart on x: half-plane search, 2 degrees
 * (3 within 30 degrees of endfire). */
static void test_linear_array(void **state)
{
    (void) state;
    const double azs[] = {25, 60, 90, 120, 155};
    const long n = FS;
    struct fe_doa_cfg cfg;

    fe_doa_cfg_default(&cfg);
    cfg.mic_count = 4;
    for (unsigned m = 0; m < 4; m++)
        cfg.mic_pos_mm[m][0] = -60 + 40.0 * m;
    rng = 5;
    for (unsigned a = 0; a < sizeof(azs) / sizeof(azs[0]); a++) {
        double *s = white_source(n);
        float *x = calloc((size_t) n * 4, sizeof(float));
        struct fe_doa *st = fe_doa_create(&cfg);
        struct run_stats rs;
        const float *map;
        unsigned dirs;

        assert_non_null(st);
        gate_source(s, n, FS / 5, FS / 5, FS / 10);
        add_plane_wave(x, n, 4, &cfg, s, azs[a], 0.1);
        add_noise(x, n, 4, 4, 0.01);
        /* near endfire a linear array resolves azimuth worst: 3 degrees there */
        run(st, x, 4, 0, n / HOP, azs[a], azs[a] < 30 || azs[a] > 150 ? 3.0 : 2.0, 25, &rs);
        map = fe_doa_map(st, &dirs);
        assert_int_equal(dirs, 360);
        assert_true(map[270] == 0.0f); /* the mirror half is not searched */
        fe_doa_destroy(st);
        free(x);
        free(s);
    }
}

/* init in a caller's block gives the same results as create; a block one
 * byte short is refused. */
static void test_arena_init(void **state)
{
    (void) state;
    const long n = FS / 2;
    struct fe_doa_cfg cfg;
    size_t size;
    void *mem;
    struct fe_doa *a = NULL, *b;
    double *s;
    float *x = calloc((size_t) n * 4, sizeof(float));

    sim4_cfg(&cfg);
    size = fe_doa_get_size(&cfg);
    assert_true(size > 0);
    mem = malloc(size + 1);
    assert_non_null(mem);
    /* deliberately misaligned */
    assert_int_equal(fe_doa_init(&a, (char *) mem + 1, size, &cfg), 0);
    assert_true(fe_doa_init(&a, (char *) mem + 1, size - 128, &cfg) < 0);
    assert_int_equal(fe_doa_init(&a, (char *) mem + 1, size, &cfg), 0);
    b = fe_doa_create(&cfg);
    assert_non_null(b);
    rng = 3;
    s = white_source(n);
    gate_source(s, n, FS / 5, FS / 5, FS / 10);
    add_plane_wave(x, n, 4, &cfg, s, 123, 0.1);
    add_noise(x, n, 4, 4, 0.01);
    for (long h = 0; h < n / HOP; h++) {
        struct fe_doa_info ia, ib;
        fe_doa_process(a, x + h * HOP * 4, 4);
        fe_doa_process(b, x + h * HOP * 4, 4);
        fe_doa_get_info(a, &ia);
        fe_doa_get_info(b, &ib);
        assert_true(ia.azimuth_deg == ib.azimuth_deg && ia.coherence == ib.coherence);
    }
    fe_doa_destroy(b);
    free(mem);
    free(x);
    free(s);
}

static void test_bad_cfg(void **state)
{
    (void) state;
    struct fe_doa_cfg cfg;

    sim4_cfg(&cfg);
    cfg.mic_count = 1;
    assert_null(fe_doa_create(&cfg));
    sim4_cfg(&cfg);
    for (unsigned m = 0; m < 4; m++)
        cfg.mic_pos_mm[m][0] = cfg.mic_pos_mm[m][1] = 5; /* all at one point */
    assert_null(fe_doa_create(&cfg));
    sim4_cfg(&cfg);
    cfg.f_hi_hz = 9000;
    assert_int_equal(fe_doa_get_size(&cfg), 0);
    sim4_cfg(&cfg);
    cfg.hop = 600; /* > frame */
    assert_null(fe_doa_create(&cfg));
}

/* cfg_from_board: positions and rate copied, 10 ms hop, 32 ms frame. */
static void test_cfg_from_board(void **state)
{
    (void) state;
    struct board_cfg b;
    struct fe_doa_cfg cfg;

    memset(&b, 0, sizeof(b));
    b.mic_count = 4;
    b.capture.rate = 16000;
    b.mic_pos_mm[1][1] = 32;
    fe_doa_cfg_from_board(&cfg, &b);
    assert_int_equal(cfg.hop, 160);
    assert_int_equal(cfg.frame, 512);
    assert_int_equal(cfg.mic_count, 4);
    assert_true(cfg.mic_pos_mm[1][1] == 32);
    b.capture.rate = 48000;
    fe_doa_cfg_from_board(&cfg, &b);
    assert_int_equal(cfg.hop, 480);
    assert_int_equal(cfg.frame, 2048);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plane_wave_azimuths),
        cmocka_unit_test(test_bursty_source),
        cmocka_unit_test(test_hold_in_silence),
        cmocka_unit_test(test_hysteresis_and_switch),
        cmocka_unit_test(test_linear_array),
        cmocka_unit_test(test_arena_init),
        cmocka_unit_test(test_bad_cfg),
        cmocka_unit_test(test_cfg_from_board),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
