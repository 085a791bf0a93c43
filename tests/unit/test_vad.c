/*
 * test_vad.c - the VAD (src/vad.c):
 *  - hysteresis on a synthetic probability sequence: onset needs onset_ms of
 *    consecutive speech frames, is_speech holds through hangover_ms of
 *    silence and through a short dip, falls exactly at the hangover, the
 *    turn end comes exactly turn_end_ms after the last speech frame and
 *    only once per turn; no turn end without speech; NaN counts as silence;
 *    out-of-range configs refused;
 *  - the shipped model (models/vad.hkm) on real material: a committed TTS
 *    clip (tests/data/nn_vad_speech.s16: espeak-ng + flite, 16 kHz s16,
 *    made with: espeak-ng -v en-us -s 160 -w a.wav "turn the kitchen lights
 *    off, and tell me the weather for tomorrow"; flite -voice slt -t "what
 *    time is it in new york" -o b.wav; both resampled to 16 kHz with sox,
 *    then `sox a16.wav b16.wav -t raw -e signed -b 16 nn_vad_speech.s16
 *    pad 0.5 0.5 norm -3`)
 *    mixed here with pink noise at 5 dB SNR and with a generated fan-like
 *    hum at 0 dB, against labels from the clean clip's energy (with a
 *    collar: 150 ms after / 30 ms before speech frames unscored): frame
 *    ROC-AUC >= 0.95, recall >= 0.85 / 0.80 and false alarms <= 0.10 / 0.15
 *    at the model's own operating point, onset of the first utterance
 *    within 150 ms (pink), no
 *    speech declared in 10 s of noise alone (< 3 % of frames);
 *  - a voiced, syllable-modulated synthetic "vowel" stream scores higher
 *    than stationary noise of the same level; wrong model kinds refused;
 *  - the [vad] section of hark.conf (values, defaults, range errors).
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

#include "test_fixture.h"
#include "vad.h"

#define MODEL "models/vad.hkm"
#define SPEECH "tests/data/nn_vad_speech.s16"
#define FS 16000

static struct vad_cfg cfg_ms(float thr, unsigned onset, unsigned hang, unsigned turn)
{
    struct vad_cfg c = {.threshold = thr, .onset_ms = onset, .hangover_ms = hang, .turn_end_ms = turn};
    return c;
}

/* ---- hysteresis ----------------------------------------------------------- */

static void test_hysteresis(void **st)
{
    struct vad_hyst h;
    struct vad_cfg c = cfg_ms(0.5f, 30, 200, 700);
    int t = 0, start_at = -1, end_at = -1, turn_at = -1, turns = 0;
    float seq[400];
    int n = 0;

    (void) st;
    for (int i = 0; i < 10; i++) seq[n++] = 0.1f;
    for (int i = 0; i < 2; i++) seq[n++] = 0.9f;  /* 20 ms blip: below onset */
    for (int i = 0; i < 5; i++) seq[n++] = 0.2f;
    for (int i = 0; i < 20; i++) seq[n++] = 0.9f; /* speech from frame 17 */
    for (int i = 0; i < 15; i++) seq[n++] = 0.1f; /* dip shorter than the hangover */
    seq[n++] = 0.5f;                              /* == threshold counts as speech: last speech frame 52 */
    for (int i = 0; i < 120; i++) seq[n++] = 0.1f;
    seq[n++] = NAN;                                /* silence */
    assert_int_equal(vad_hyst_init(&h, &c), 0);
    for (t = 0; t < n; t++) {
        unsigned ev = vad_hyst_step(&h, seq[t]);

        if (ev & VAD_EV_SPEECH_START) {
            assert_int_equal(start_at, -1);
            start_at = t;
        }
        if (ev & VAD_EV_SPEECH_END) {
            assert_int_equal(end_at, -1);
            end_at = t;
        }
        if (ev & VAD_EV_TURN_END) {
            turn_at = t;
            turns++;
        }
        if (t >= 19 && t < 52 + 20)
            assert_true(h.is_speech);
        if (t < 19 || t >= 52 + 20)
            assert_false(h.is_speech);
    }
    assert_int_equal(start_at, 17 + 2);       /* third consecutive speech frame */
    assert_int_equal(end_at, 52 + 20);        /* 20th silent frame after the last speech */
    assert_int_equal(turn_at, 52 + 70);       /* 70th silent frame */
    assert_int_equal(turns, 1);

    /* re-arm (after a wake word) in the middle of speech: no event for the
     * old segment; 15 frames of hold-off; speech that goes on restarts a
     * segment 3 frames after the hold-off; its turn ends as usual */
    assert_int_equal(vad_hyst_init(&h, &c), 0);
    start_at = end_at = turn_at = -1;
    for (t = 0; t < 400; t++) {
        unsigned ev;
        if (t == 50)
            vad_hyst_rearm(&h, 15);
        ev = vad_hyst_step(&h, t < 120 ? 0.9f : 0.1f);
        if (t == 49)
            assert_true(h.is_speech);
        if (t >= 50 && t < 50 + 15)
            assert_int_equal(ev, 0);
        if (ev & VAD_EV_SPEECH_START && t >= 50)
            start_at = t;
        if (ev & VAD_EV_TURN_END)
            turn_at = t;
    }
    assert_int_equal(start_at, 50 + 15 + 2);
    assert_int_equal(turn_at, 119 + 70);
    /* re-arm at the end of speech (the wake phrase's tail): no new segment,
     * no turn end */
    assert_int_equal(vad_hyst_init(&h, &c), 0);
    for (t = 0; t < 300; t++) {
        unsigned ev;
        if (t == 50)
            vad_hyst_rearm(&h, 15);
        ev = vad_hyst_step(&h, t < 60 ? 0.9f : 0.1f);
        if (t >= 50)
            assert_int_equal(ev, 0);
    }

    /* no speech, no turn end; reset clears a pending turn */
    assert_int_equal(vad_hyst_init(&h, &c), 0);
    for (t = 0; t < 300; t++)
        assert_int_equal(vad_hyst_step(&h, 0.0f), 0);
    for (t = 0; t < 10; t++)
        vad_hyst_step(&h, 1.0f);
    assert_true(h.is_speech);
    vad_hyst_reset(&h);
    for (t = 0; t < 300; t++)
        assert_int_equal(vad_hyst_step(&h, 0.0f), 0);

    /* onset 0 = the first speech frame; turn end shorter than the hangover
     * still waits for the segment to end */
    c = cfg_ms(0.5f, 0, 300, 100);
    assert_int_equal(vad_hyst_init(&h, &c), 0);
    assert_int_equal(vad_hyst_step(&h, 0.7f), VAD_EV_SPEECH_START);
    for (t = 1; t < 30; t++)
        assert_int_equal(vad_hyst_step(&h, 0.0f), 0);
    assert_int_equal(vad_hyst_step(&h, 0.0f), VAD_EV_SPEECH_END | VAD_EV_TURN_END);

    /* config ranges */
    c = cfg_ms(0.0f, 30, 200, 700);
    assert_int_equal(vad_hyst_init(&h, &c), -EINVAL);
    c = cfg_ms(1.5f, 30, 200, 700);
    assert_int_equal(vad_hyst_init(&h, &c), -EINVAL);
    c = cfg_ms(0.5f, 30, 200, 5);
    assert_int_equal(vad_hyst_init(&h, &c), -EINVAL);
    c = cfg_ms(0.5f, 2000, 200, 700);
    assert_int_equal(vad_hyst_init(&h, &c), -EINVAL);
}

/* ---- the shipped model ------------------------------------------------------- */

static unsigned rng = 2024;
static double gauss(void)
{
    double u1, u2;

    rng = rng * 1664525u + 1013904223u;
    u1 = ((rng >> 8) + 1.0) / 16777217.0;
    rng = rng * 1664525u + 1013904223u;
    u2 = (rng >> 8) / 16777216.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* Pink-ish noise (Paul Kellet's economy filter over white), unit rms. */
static void pink(float *x, long n)
{
    double b0 = 0, b1 = 0, b2 = 0, e = 0;

    for (long i = 0; i < n; i++) {
        double w = gauss();
        b0 = 0.99765 * b0 + w * 0.0990460;
        b1 = 0.96300 * b1 + w * 0.2965164;
        b2 = 0.57000 * b2 + w * 1.0526913;
        x[i] = (float) (b0 + b1 + b2 + w * 0.1848);
        e += x[i] * x[i];
    }
    for (long i = 0; i < n; i++)
        x[i] /= (float) sqrt(e / n);
}

/* Low-passed noise with a 23 Hz tremolo and a 120 Hz blade tone, unit rms. */
static void fan(float *x, long n)
{
    double y = 0, e = 0;

    for (long i = 0; i < n; i++) {
        y = 0.97 * y + 0.03 * gauss();
        x[i] = (float) (y * 8 * (1 + 0.3 * sin(2 * M_PI * 23 * i / FS)) + 0.2 * sin(2 * M_PI * 120 * i / FS));
        e += x[i] * x[i];
    }
    for (long i = 0; i < n; i++)
        x[i] /= (float) sqrt(e / n);
}


/* Frame labels from clean energy (frame t = 400 samples ending at hop t),
 * > -35 dB re the loudest frame, as tools/train/harkml/scenes.py. */
static void labels(const float *x, long hops, unsigned char *lab)
{
    double *e = malloc(sizeof(double) * hops), mx = 0;

    for (long t = 0; t < hops; t++) {
        long end = MEL_HOP * (t + 1), start = end - MEL_WIN < 0 ? 0 : end - MEL_WIN;
        e[t] = 0;
        for (long i = start; i < end; i++)
            e[t] += (double) x[i] * x[i];
        if (e[t] > mx)
            mx = e[t];
    }
    for (long t = 0; t < hops; t++)
        lab[t] = e[t] > mx * pow(10, -3.5);
    free(e);
}

/* ROC-AUC over frames labelled 1 (speech) and 0 (non-speech); 2 = skip. */
static double auc(const float *p, const unsigned char *lab, long n)
{
    double wins = 0, pos = 0, neg = 0;

    for (long i = 0; i < n; i++) {
        if (lab[i] != 1)
            continue;
        pos++;
        for (long j = 0; j < n; j++) {
            if (lab[j] != 0)
                continue;
            wins += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
        }
    }
    for (long j = 0; j < n; j++)
        neg += lab[j] == 0;
    return wins / (pos * neg);
}

struct run {
    double auc, recall, false_alarm;
    long onset_frames; /* first is_speech frame - first labelled frame */
};

static struct run run_scene(struct vad *v, const float *clean, long n, const float *nz, double snr_db)
{
    long hops = n / MEL_HOP;
    float *x = malloc(sizeof(float) * n), *p = malloc(sizeof(float) * hops);
    unsigned char *lab = malloc(hops), *sp = malloc(hops);
    double ps = 0, pn = 0, g;
    long nsp = 0, first_lab = -1, first_sp = -1, tp = 0, fp = 0, npos = 0, nneg = 0;
    struct run r;

    labels(clean, hops, lab);
    /* collar: frames up to 150 ms after a labelled speech frame and 30 ms
     * before one are not scored (word gaps and utterance tails, where a
     * frame label from energy alone is ambiguous); 2 = unscored */
    for (long t = 0; t < hops; t++) {
        if (lab[t] == 1)
            continue;
        for (long d = -15; d <= 3; d++)
            if (t + d >= 0 && t + d < hops && d != 0 && lab[t + d] == 1)
                lab[t] = 2;
    }
    for (long t = 0; t < hops; t++) {
        if (lab[t] != 1)
            continue;
        for (long i = t * MEL_HOP; i < (t + 1) * MEL_HOP; i++)
            ps += (double) clean[i] * clean[i];
        nsp += MEL_HOP;
    }
    for (long i = 0; i < n; i++)
        pn += (double) nz[i] * nz[i];
    g = sqrt((ps / nsp) / (pn / n) / pow(10, snr_db / 10));
    for (long i = 0; i < n; i++)
        x[i] = clean[i] + (float) g * nz[i];
    vad_reset(v);
    for (long t = 0; t < hops; t++) {
        bool s;

        vad_process(v, x + t * MEL_HOP, &p[t], &s);
        sp[t] = s;
        if (lab[t] == 1 && first_lab < 0)
            first_lab = t;
        if (s && first_sp < 0)
            first_sp = t;
        if (lab[t] == 1) {
            npos++;
            tp += p[t] >= vad_threshold(v);
        } else if (lab[t] == 0) {
            nneg++;
            fp += p[t] >= vad_threshold(v);
        }
    }
    r.auc = auc(p, lab, hops);
    r.recall = (double) tp / npos;
    r.false_alarm = (double) fp / nneg;
    r.onset_frames = first_sp - first_lab;
    free(x);
    free(p);
    free(lab);
    free(sp);
    return r;
}

static void test_model_on_speech(void **st)
{
    struct nn_model *m;
    struct vad *v;
    struct vad_cfg c;
    char err[256];
    size_t ns;
    float *speech = fixture_s16(SPEECH, 0, &ns), *nz = malloc(sizeof(float) * ns);
    long n = (long) ns;
    struct run r;

    (void) st;
    assert_int_equal(nn_model_load(MODEL, &m, err, sizeof(err)), 0);
    assert_string_equal(nn_model_kind(m), "vad");
    vad_cfg_default(&c);
    v = vad_create(m, &c, err, sizeof(err));
    assert_non_null(v);
    assert_true(vad_threshold(v) > 0.05f && vad_threshold(v) < 0.95f);

    pink(nz, n);
    r = run_scene(v, speech, n, nz, 5.0);
    printf("pink 5 dB: AUC %.3f recall %.3f false alarm %.3f onset %ld ms\n", r.auc, r.recall, r.false_alarm,
           r.onset_frames * 10);
    assert_true(r.auc >= 0.95);
    assert_true(r.recall >= 0.85);
    assert_true(r.false_alarm <= 0.10);
    assert_true(r.onset_frames >= 0 && r.onset_frames <= 15);

    fan(nz, n);
    r = run_scene(v, speech, n, nz, 0.0);
    printf("fan 0 dB: AUC %.3f recall %.3f false alarm %.3f onset %ld ms\n", r.auc, r.recall, r.false_alarm,
           r.onset_frames * 10);
    assert_true(r.auc >= 0.95);
    assert_true(r.recall >= 0.80);
    assert_true(r.false_alarm <= 0.15);

    /* noise alone, 10 s at -30 dBFS: hardly any speech declared */
    {
        long nn = 10 * FS, declared = 0;
        float *x = malloc(sizeof(float) * nn);
        pink(x, nn);
        for (long i = 0; i < nn; i++)
            x[i] *= 0.0316f;
        vad_reset(v);
        for (long t = 0; t < nn / MEL_HOP; t++) {
            bool s;
            vad_process(v, x + t * MEL_HOP, NULL, &s);
            declared += s;
        }
        printf("pink alone: speech declared in %ld of %ld frames\n", declared, nn / MEL_HOP);
        assert_true(declared < nn / MEL_HOP * 3 / 100);
        free(x);
    }
    vad_destroy(v);
    nn_model_free(m);
    free(speech);
    free(nz);
}

/* A voiced "vowel" stream: 120-220 Hz harmonics through two formant
 * resonances, 4 Hz syllable envelope - against stationary pink noise of the
 * same rms. The model must rate the voiced stream higher on average. */
static void test_model_voiced_vs_noise(void **st)
{
    struct nn_model *m;
    struct vad *v;
    struct vad_cfg c;
    char err[256];
    long n = 4 * FS;
    float *x = malloc(sizeof(float) * n), *nz = malloc(sizeof(float) * n);
    double mv = 0, mn = 0, e = 0, phase = 0;
    double y1 = 0, y2 = 0, z1 = 0, z2 = 0;

    (void) st;
    assert_int_equal(nn_model_load(MODEL, &m, err, sizeof(err)), 0);
    vad_cfg_default(&c);
    v = vad_create(m, &c, err, sizeof(err));
    assert_non_null(v);
    for (long i = 0; i < n; i++) {
        double t = (double) i / FS, f0 = 160 + 50 * sin(2 * M_PI * 0.7 * t), s = 0;
        double env = pow(fmax(0, sin(2 * M_PI * 2 * t)), 2);
        double r = 0.97, w1 = 2 * M_PI * 700 / FS, w2 = 2 * M_PI * 1200 / FS, o;

        phase += 2 * M_PI * f0 / FS;
        for (int k = 1; k * f0 < 4000; k++)
            s += sin(k * phase) / k;
        o = s + 2 * r * cos(w1) * y1 - r * r * y2; /* formant 1 */
        y2 = y1;
        y1 = o;
        o = o + 2 * r * cos(w2) * z1 - r * r * z2; /* formant 2 */
        z2 = z1;
        z1 = o;
        x[i] = (float) (o * env);
        e += x[i] * x[i];
    }
    for (long i = 0; i < n; i++)
        x[i] *= (float) (0.05 / sqrt(e / n));
    pink(nz, n);
    for (long i = 0; i < n; i++)
        nz[i] *= 0.05f;
    vad_reset(v);
    for (long t = 0; t < n / MEL_HOP; t++) {
        float p;
        vad_process(v, x + t * MEL_HOP, &p, NULL);
        mv += p;
    }
    vad_reset(v);
    for (long t = 0; t < n / MEL_HOP; t++) {
        float p;
        vad_process(v, nz + t * MEL_HOP, &p, NULL);
        mn += p;
    }
    mv /= n / MEL_HOP;
    mn /= n / MEL_HOP;
    printf("voiced synthetic: mean prob %.3f; pink noise: %.3f\n", mv, mn);
    assert_true(mv > mn + 0.2);
    vad_destroy(v);
    nn_model_free(m);
    free(x);
    free(nz);
}

/* [vad] in hark.conf: parsed into cfg.vad, defaults, range errors named. */
static void test_config_section(void **st)
{
    static struct hark_cfg cfg;
    static struct config_diag d;
    char path[] = "/tmp/hark-test-vad-XXXXXX";
    char board[512];
    struct vad_cfg vc;
    int fd;
    FILE *f;

    (void) st;
    assert_non_null(realpath("board/sim4/board.conf", board));
    fd = mkstemp(path);
    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fprintf(f, "[harkd]\nboard = %s\n[vad]\nmodel = models/vad.hkm\nthreshold = 0.6\nonset_ms = 50\n"
               "hangover_ms = 300\nturn_end_ms = 900\n", board);
    fclose(f);
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load(path, NULL, &cfg, &d), 0);
    assert_string_equal(cfg.vad.model, "models/vad.hkm");
    vad_cfg_from_conf(&vc, &cfg.vad);
    assert_true(fabsf(vc.threshold - 0.6f) < 1e-6f);
    assert_int_equal(vc.onset_ms, 50);
    assert_int_equal(vc.hangover_ms, 300);
    assert_int_equal(vc.turn_end_ms, 900);

    f = fopen(path, "w");
    fprintf(f, "[harkd]\nboard = %s\n[vad]\nthreshold = 1.5\nturn_end_ms = 50\n", board);
    fclose(f);
    memset(&d, 0, sizeof(d));
    assert_int_equal(config_load(path, NULL, &cfg, &d), -EINVAL);
    assert_int_equal(d.count, 2);
    assert_non_null(strstr(d.msg[0], "[vad] threshold"));
    assert_non_null(strstr(d.msg[1], "[vad] turn_end_ms"));

    config_defaults(&cfg);
    assert_string_equal(cfg.vad.model, "");
    vad_cfg_from_conf(&vc, &cfg.vad);
    assert_true(vc.threshold == 0.0f && vc.onset_ms == 30 && vc.hangover_ms == 200 && vc.turn_end_ms == 700);
    unlink(path);
}

static void test_wrong_model_refused(void **st)
{
    struct nn_model *m;
    struct vad_cfg c;
    char err[256];

    (void) st;
    assert_int_equal(nn_model_load("tests/data/nn_tiny.hkm", &m, err, sizeof(err)), 0);
    vad_cfg_default(&c);
    assert_null(vad_create(m, &c, err, sizeof(err)));
    assert_non_null(strstr(err, "not a VAD model"));
    nn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hysteresis),
        cmocka_unit_test(test_model_on_speech),
        cmocka_unit_test(test_model_voiced_vs_noise),
        cmocka_unit_test(test_wrong_model_refused),
        cmocka_unit_test(test_config_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
