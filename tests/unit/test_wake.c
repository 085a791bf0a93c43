/*
 * test_wake.c - the wake-word detector (src/wake.c):
 *  - decision stage: a synthetic posterior sequence gives detections at
 *    exactly the frames the moving average / threshold / refractory rules
 *    imply (and none inside the refractory period); NaN is treated as 0;
 *  - pre-roll ring: exact contents (oldest first) before and after the ring
 *    wraps, and partial fills;
 *  - streaming == batch: the detector's per-hop smoothed score on the
 *    committed fixtures equals the numpy batch reference
 *    (tools/train/make_wake_fixture.py: whole-file log-mels, whole-sequence
 *    network, moving average) to 2e-3 at every frame;
 *  - the committed models/hey_nova.hkm detects the committed "hey nova"
 *    fixture exactly once, at most 300 ms after the phrase ends, and does
 *    not fire on the confusable "hey noah" fixture;
 *  - self-wake guard: our own echo alone (the AEC's flags) suppresses a
 *    detection, double talk does not; playback with a loud residual echo blocks the
 *    detection (and counts it), with a quiet residue the raised threshold
 *    applies, and the hold time after playback is honoured;
 *  - a missing or corrupt model, or a model of another kind, is refused
 *    with a reason.
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

#include "nn_model.h"
#include "test_fixture.h"
#include "wake.h"

#define MODEL "models/hey_nova.hkm"
#define FIX_POS "tests/data/wake_hey_nova.raw"
#define FIX_CONF "tests/data/wake_hey_noah.raw"
#define FIX_EXPECT "tests/data/wake_fixture.txt"

/* ---- decision stage -------------------------------------------------------- */

static void test_decider_synthetic(void **st)
{
    struct wake_decider d;
    float p[600] = {0};
    unsigned fired[8], n = 0;

    (void) st;
    /* Plateaus of 1.0: 10 frames at 100, 10 at 150 (inside the refractory
     * period of the first), 2 at 300 (too short for k = 5 at thr 0.5),
     * 10 at 400. Isolated spike of 1.0 at 50. */
    for (int t = 100; t < 110; t++)
        p[t] = 1.0f;
    for (int t = 150; t < 160; t++)
        p[t] = 1.0f;
    p[300] = p[301] = 1.0f;
    for (int t = 400; t < 410; t++)
        p[t] = 1.0f;
    p[50] = 1.0f;
    assert_int_equal(wake_decider_init(&d, 5, 100), 0);
    for (unsigned t = 0; t < 600; t++)
        if (wake_decider_step(&d, p[t], 0.5f)) {
            assert_true(n < 8);
            fired[n++] = t;
        }
    /* 3 of 5 frames at 1.0 -> mean 0.6 >= 0.5 at frame 102 and 402 */
    assert_int_equal(n, 2);
    assert_int_equal(fired[0], 102);
    assert_int_equal(fired[1], 402);
    assert_int_equal(d.frame, 600);

    /* Refractory exactly 100 frames. A 3-frame plateau keeps the k = 5
     * mean at 0.6 for 3 frames (start + 2 .. start + 4): starting at 197 it
     * is above the threshold at 199..201, all inside the refractory period
     * of the detection at 102 (no detection); starting at 198 its last
     * frame above is 202 = 102 + 100, the first frame allowed. */
    for (unsigned start = 197; start <= 198; start++) {
        wake_decider_reset(&d);
        n = 0;
        for (unsigned t = 0; t < 400; t++) {
            float v = (t >= 100 && t < 110) || (t >= start && t < start + 3) ? 1.0f : 0.0f;
            if (wake_decider_step(&d, v, 0.5f))
                fired[n++] = t;
        }
        assert_int_equal(fired[0], 102);
        if (start == 197) {
            assert_int_equal(n, 1);
        } else {
            assert_int_equal(n, 2);
            assert_int_equal(fired[1], 202);
        }
    }

    /* Smoothed value: 0.2 ramps -> exact mean; NaN counts as 0. */
    assert_int_equal(wake_decider_init(&d, 4, 10), 0);
    (void) wake_decider_step(&d, 0.2f, 0.9f);
    (void) wake_decider_step(&d, 0.4f, 0.9f);
    assert_float_equal(d.score, 0.15f, 1e-6);
    (void) wake_decider_step(&d, NAN, 0.9f);
    (void) wake_decider_step(&d, 0.6f, 0.9f);
    assert_float_equal(d.score, 0.3f, 1e-6);
    (void) wake_decider_step(&d, 2.0f, 0.9f); /* clipped to 1 */
    assert_float_equal(d.score, (0.4f + 0 + 0.6f + 1.0f) / 4, 1e-6);

    assert_int_equal(wake_decider_init(&d, 0, 10), -EINVAL);
    assert_int_equal(wake_decider_init(&d, WAKE_MAX_SMOOTH + 1, 10), -EINVAL);
}

/* ---- a tiny in-memory "wake" model: norm -> dense(40->1) -> sigmoid ------------- */

#define TINY_META "phrase=test;threshold=0.5;smooth=3;refractory_ms=500"

static size_t tiny_model(uint8_t *buf, const char *kind, float bias, const char *meta)
{
    uint32_t v;
    size_t off = NN_HEADER_SIZE;
    float f;

    memset(buf, 0, 4096);
    memcpy(buf, NN_MAGIC, 4);
    v = NN_VERSION;
    memcpy(buf + 4, &v, 4);
    v = 3;
    memcpy(buf + 16, &v, 4);      /* layers */
    v = 40;
    memcpy(buf + 20, &v, 4);      /* n_in */
    v = 1;
    memcpy(buf + 24, &v, 4);      /* n_out */
    strcpy((char *) buf + 32, kind);
    strcpy((char *) buf + 48, "tiny");
    strcpy((char *) buf + 96, meta);
    {   /* norm: mean 0, scale 0 -> output 0 whatever the input */
        uint32_t h[8] = {NN_NORM, 40, 40, 0, 0, 0, 80, 0};
        memcpy(buf + off, h, 32);
        off += 32 + 80 * 4;
    }
    {   /* dense: weights 0, bias */
        uint32_t h[8] = {NN_DENSE, 40, 1, 0, 0, 0, 41, 0};
        memcpy(buf + off, h, 32);
        off += 32;
        f = 0;
        for (int i = 0; i < 40; i++, off += 4)
            memcpy(buf + off, &f, 4);
        memcpy(buf + off, &bias, 4);
        off += 4;
    }
    {
        uint32_t h[8] = {NN_ACT, 1, 1, NN_ACT_SIGMOID, 0, 0, 0, 0};
        memcpy(buf + off, h, 32);
        off += 32;
    }
    v = (uint32_t) off;
    memcpy(buf + 8, &v, 4);
    v = nn_crc32(0, buf + 16, off - 16);
    memcpy(buf + 12, &v, 4);
    return off;
}

static void test_preroll_exact(void **st)
{
    static uint8_t buf[4096];
    struct nn_model *m = NULL;
    struct wake_cfg cfg;
    struct wake *w;
    char err[200];
    float hop[WAKE_HOP], out[20000];
    size_t cap, n;
    unsigned k = 0;

    (void) st;
    assert_int_equal(nn_model_load_mem(buf, tiny_model(buf, "wake", -5.0f, TINY_META), &m, err, sizeof(err)), 0);
    wake_cfg_defaults(&cfg);
    cfg.preroll_ms = 505; /* rounds up to 51 hops = 8160 samples */
    w = wake_create_with_model(&cfg, m, err, sizeof(err));
    assert_non_null(w);
    cap = wake_preroll_capacity(w);
    assert_int_equal(cap, 8160);
    assert_float_equal(wake_threshold(w), 0.5f, 1e-6);
    assert_int_equal(wake_smooth_frames(w), 3);
    assert_int_equal(wake_refractory_ms(w), 500);
    assert_string_equal(wake_phrase(w), "test");

    assert_int_equal(wake_preroll_copy(w, out, 100), 0);
    /* 20 hops (3200 samples, no wrap): copy all and a tail */
    for (int h = 0; h < 20; h++) {
        for (int i = 0; i < WAKE_HOP; i++)
            hop[i] = (float) (k++) * 1e-6f;
        assert_int_equal(wake_process(w, hop, NULL), 0); /* sigmoid(-5) < 0.5 */
    }
    n = wake_preroll_copy(w, out, 20000);
    assert_int_equal(n, 3200);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(out[i], (float) i * 1e-6f, 0);
    n = wake_preroll_copy(w, out, 1000);
    assert_int_equal(n, 1000);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(out[i], (float) (2200 + i) * 1e-6f, 0);
    /* 100 more hops: the ring has wrapped several times */
    for (int h = 0; h < 100; h++) {
        for (int i = 0; i < WAKE_HOP; i++)
            hop[i] = (float) (k++) * 1e-6f;
        (void) wake_process(w, hop, NULL);
    }
    n = wake_preroll_copy(w, out, 20000);
    assert_int_equal(n, cap);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(out[i], (float) (k - cap + i) * 1e-6f, 0);
    n = wake_preroll_copy(w, out, 7000);
    for (size_t i = 0; i < n; i++)
        assert_float_equal(out[i], (float) (k - 7000 + i) * 1e-6f, 0);

    wake_reset(w);
    assert_int_equal(wake_preroll_copy(w, out, 100), 0);
    wake_destroy(w);

    /* a model with bias +5 (posterior 0.9933 every frame): with k = 3 the
     * mean reaches 0.662 >= 0.5 at frame 1, then the 500 ms refractory
     * period allows frames 51, 101, 151. With rf = 30 in the metadata
     * nothing fires before frame 30. */
    nn_model_free(m);
    for (int with_rf = 0; with_rf <= 1; with_rf++) {
        struct wake_event ev;
        unsigned fires = 0;
        uint64_t first = 0;

        assert_int_equal(nn_model_load_mem(buf, tiny_model(buf, "wake", 5.0f, with_rf ? TINY_META ";rf=30" : TINY_META),
                                           &m, err, sizeof(err)), 0);
        w = wake_create_with_model(&cfg, m, err, sizeof(err));
        assert_non_null(w);
        memset(hop, 0, sizeof(hop));
        for (int h = 0; h < 200; h++)
            if (wake_process(w, hop, &ev)) {
                if (!fires)
                    first = ev.sample;
                fires++;
            }
        if (!with_rf) {
            assert_int_equal(first, 2 * WAKE_HOP);   /* frame 1 ends at sample 320 */
            assert_int_equal(fires, 4);              /* frames 1, 51, 101, 151 */
        } else {
            assert_int_equal(first, 31 * WAKE_HOP);  /* frame 30 */
            assert_int_equal(fires, 4);              /* frames 30, 80, 130, 180 */
        }
        wake_destroy(w);
        nn_model_free(m);
    }
}

/* ---- fixtures ------------------------------------------------------------------- */


struct fixture_ref {
    size_t samples;
    size_t pad;                    /* zero samples fed before the file */
    unsigned end_ms;
    unsigned frames;
    float *score;
};

static void read_expect(const char *name, struct fixture_ref *r)
{
    FILE *f = fopen(FIX_EXPECT, "r");
    char line[256], nm[64];

    assert_non_null(f);
    memset(r, 0, sizeof(*r));
    while (fgets(line, sizeof(line), f)) {
        if (line[0] == '#' || strchr(line, '\n') == NULL)
            continue;
        if (sscanf(line, "%63s %zu %zu %u %u", nm, &r->samples, &r->pad, &r->end_ms, &r->frames) == 5 &&
            strcmp(nm, name) == 0) {
            r->score = malloc(r->frames * sizeof(float));
            assert_non_null(r->score);
            for (unsigned i = 0; i < r->frames; i++)
                assert_int_equal(fscanf(f, "%f", &r->score[i]), 1);
            break;
        }
    }
    fclose(f);
    assert_non_null(r->score);
}

struct run_result {
    unsigned detections;
    uint64_t first_sample;
    float max_score;
    float max_err;
    unsigned guarded;
};

static void run_file(struct wake *w, const float *x, size_t n, const struct fixture_ref *ref,
                     struct run_result *res)
{
    struct wake_event ev;
    struct wake_stats st;
    unsigned t = 0;

    memset(res, 0, sizeof(*res));
    for (size_t i = 0; i + WAKE_HOP <= n; i += WAKE_HOP, t++) {
        if (wake_process(w, x + i, &ev)) {
            if (!res->detections)
                res->first_sample = ev.sample;
            res->detections++;
        }
        wake_get_stats(w, &st);
        if (ref && t < ref->frames) {
            float e = fabsf(st.last_score - ref->score[t]);
            if (e > res->max_err)
                res->max_err = e;
        }
    }
    wake_get_stats(w, &st);
    res->max_score = st.max_score;
    res->guarded = (unsigned) st.guarded;
}

static void test_model_on_fixtures(void **st)
{
    struct wake_cfg cfg;
    struct fixture_ref rp, rc;
    struct run_result res;
    struct wake *w;
    char err[256];
    size_t np, nc;
    float *xp, *xc;
    double det_ms;

    (void) st;
    read_expect("wake_hey_nova", &rp);
    read_expect("wake_hey_noah", &rc);
    xp = fixture_s16(FIX_POS, rp.pad, &np);
    xc = fixture_s16(FIX_CONF, rc.pad, &nc);
    assert_int_equal(rp.samples + rp.pad, np);
    assert_int_equal(rc.samples + rc.pad, nc);

    wake_cfg_defaults(&cfg);
    w = wake_create(&cfg, MODEL, err, sizeof(err));
    if (!w)
        fail_msg("%s", err);
    assert_string_equal(wake_phrase(w), "hey nova");

    /* positive: streaming == batch, one detection <= 300 ms after the end */
    run_file(w, xp, np, &rp, &res);
    assert_true(res.max_err < 2e-3f);
    assert_int_equal(res.detections, 1);
    det_ms = res.first_sample * 1000.0 / WAKE_RATE;
    assert_true(det_ms >= rp.end_ms - 150.0);
    assert_true(det_ms <= rp.end_ms + 300.0);
    assert_true(res.max_score >= wake_threshold(w));

    /* confusable: streaming == batch, no detection */
    wake_reset(w);
    run_file(w, xc, nc, &rc, &res);
    assert_true(res.max_err < 2e-3f);
    assert_int_equal(res.detections, 0);
    assert_true(res.max_score < wake_threshold(w));

    /* guard, loud residual echo: blocked and counted */
    wake_reset(w);
    wake_set_playback_active(w, true, -20.0f);
    run_file(w, xp, np, NULL, &res);
    assert_int_equal(res.detections, 0);
    assert_int_equal(res.guarded, 1);

    /* guard fed as harkd feeds it (wake_observe_playback): the phrase as
     * our own echo alone (far end active, no near talker: the AEC's
     * judgement) is suppressed and counted, even at a residual level under
     * the block level; the same audio judged double talk (a user over the
     * playback) wakes the device (threshold not raised for this check) */
    for (int dt = 0; dt < 2; dt++) {
        struct wake_cfg c2 = cfg;
        struct wake_event ev;
        struct wake_stats ws;
        static const float quiet[WAKE_HOP]; /* residue level: -200 dBFS */
        unsigned det = 0;
        struct wake *w2;

        c2.playback_threshold = 0;
        w2 = wake_create(&c2, MODEL, err, sizeof(err));
        assert_non_null(w2);
        for (size_t i = 0; i + WAKE_HOP <= np; i += WAKE_HOP) {
            wake_observe_playback(w2, true, dt == 1, quiet, WAKE_HOP);
            det += (unsigned) wake_process(w2, xp + i, &ev);
        }
        wake_get_stats(w2, &ws);
        assert_int_equal(det, dt == 1 ? 1 : 0);
        assert_int_equal(ws.guarded, dt == 1 ? 0 : 1);
        wake_destroy(w2);
    }

    /* guard, quiet residue: threshold raised to playback_threshold (set
     * just above this fixture's peak -> no detection; just below -> one) */
    wake_reset(w);
    run_file(w, xp, np, NULL, &res);
    {
        float peak = res.max_score;

        wake_destroy(w);
        cfg.playback_threshold = fminf(1.0f, peak + 0.01f);
        w = wake_create(&cfg, MODEL, err, sizeof(err));
        assert_non_null(w);
        wake_set_playback_active(w, true, -80.0f);
        run_file(w, xp, np, NULL, &res);
        assert_int_equal(res.detections, 0);
        assert_int_equal(res.guarded, 0);

        /* playback stopped 1 s before the phrase: the 300 ms hold has
         * passed, the normal threshold applies again */
        wake_reset(w);
        wake_set_playback_active(w, true, -80.0f);
        wake_set_playback_active(w, false, -80.0f);
        {
            float sil[WAKE_HOP] = {0};
            for (int i = 0; i < 100; i++)
                (void) wake_process(w, sil, NULL);
        }
        run_file(w, xp, np, NULL, &res);
        assert_int_equal(res.detections, 1);

        /* ... but inside the hold time it still applies */
        wake_reset(w);
        wake_set_playback_active(w, true, -80.0f);
        wake_set_playback_active(w, false, -80.0f);
        cfg.playback_hold_ms = 5000;
        wake_destroy(w);
        w = wake_create(&cfg, MODEL, err, sizeof(err));
        assert_non_null(w);
        wake_set_playback_active(w, true, -80.0f);
        wake_set_playback_active(w, false, -80.0f);
        run_file(w, xp, np, NULL, &res);
        assert_int_equal(res.detections, 0);
    }
    wake_destroy(w);
    free(xp);
    free(xc);
    free(rp.score);
    free(rc.score);
}

static void test_bad_models(void **st)
{
    static uint8_t buf[4096];
    struct nn_model *m = NULL;
    struct wake_cfg cfg;
    char err[256] = "";
    size_t len;
    FILE *f;

    (void) st;
    wake_cfg_defaults(&cfg);
    assert_null(wake_create(&cfg, "tests/data/does-not-exist.hkm", err, sizeof(err)));
    assert_non_null(strstr(err, "does-not-exist"));
    assert_null(wake_create(&cfg, "", err, sizeof(err)));

    /* truncated copy of the real model */
    len = tiny_model(buf, "wake", 0.0f, TINY_META);
    f = fopen("build-test-wake-trunc.hkm", "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, len - 7, f), len - 7);
    fclose(f);
    err[0] = 0;
    assert_null(wake_create(&cfg, "build-test-wake-trunc.hkm", err, sizeof(err)));
    assert_true(strlen(err) > 0);
    remove("build-test-wake-trunc.hkm");

    /* a VAD model is not a wake model */
    assert_int_equal(nn_model_load_mem(buf, tiny_model(buf, "vad", 0.0f, TINY_META), &m, err, sizeof(err)), 0);
    assert_null(wake_create_with_model(&cfg, m, err, sizeof(err)));
    assert_non_null(strstr(err, "kind"));
    nn_model_free(m);

    /* config out of range */
    assert_int_equal(nn_model_load_mem(buf, tiny_model(buf, "wake", 0.0f, TINY_META), &m, err, sizeof(err)), 0);
    cfg.preroll_ms = 50;
    assert_null(wake_create_with_model(&cfg, m, err, sizeof(err)));
    cfg.preroll_ms = 1000;
    cfg.threshold = 1.5f;
    assert_null(wake_create_with_model(&cfg, m, err, sizeof(err)));
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decider_synthetic),
        cmocka_unit_test(test_preroll_exact),
        cmocka_unit_test(test_model_on_fixtures),
        cmocka_unit_test(test_bad_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
