/*
 * fe_aec.c - acoustic echo canceller: bulk-delay alignment, speexdsp MDF,
 * residual echo suppression and a double-talk / convergence indicator (see
 * fe_aec.h).
 *
 * Why speexdsp's MDF for the linear part. It is the only well-kept plain-C
 * adaptive echo canceller in Debian, it is frequency-domain (cheap for a
 * 200 ms tail), multi-channel (one reference FFT shared by all mics) and it
 * has no explicit double-talk detector to get wrong: its learning rate
 * follows its own estimate of the residual-to-echo ratio (Valin 2007), so
 * near speech passes linear cancellation unharmed. What it lacks is built
 * here: it assumes an aligned reference (we estimate and apply the bulk
 * delay), its own residual echo suppression (speex preprocessor) cuts
 * -15 dB into the near talker whenever echo is present (we use a per-bin
 * gain instead; FE_AEC_RES_SPEEX keeps speex's for comparison), and it
 * exposes no state (we estimate ERLE and double talk from powers).
 *
 * Double talk. On far-end-only hops the output power is the echo estimate's
 * power times the leakage (residual / estimate, learnt on those hops); a hop
 * whose output is 9 dB above that expectation, and above -30 dB of the
 * echo estimate and 6 dB above the output's noise floor, carries near-end
 * sound. ERLE is learnt
 * only on far-end-only hops, so double talk does not pull it down; if the
 * "near end" lasts 1.5 s without a break while the far end plays, the echo
 * path has probably changed and ERLE is let down slowly.
 */
#include "fe_aec.h"
#include "config.h"
#include "fe_delay_est.h"
#include "fe_stft.h"

#include <math.h>
#include <stdint.h>
#include <speex/speex_echo.h>
#include <speex/speex_preprocess.h>
#include <stdlib.h>
#include <string.h>

#define AEC_EPS 1e-12f
#define POW_SMOOTH 0.7f        /* per-hop smoothing of broadband powers */
#define FLOOR_RISE 1.0023f     /* output noise floor rises 1 dB/s */
#define ERLE_RATE 0.02f        /* per far-end-only hop: powers averaged over ~0.5 s */
#define ERLE_SLOW_RATE 0.002f   /* during suspiciously long double talk */
#define DT_STUCK_HOPS 150
#define NEAR_MIN_REL 1e-3f    /* near end counted from 30 dB under the echo estimate */
#define CONVERGED_HOPS 50
#define RES_SMOOTH 0.6f        /* output / echo-estimate power spectra */
#define RES_COH_SMOOTH 0.85f   /* cross-spectrum for the coherent residual */
#define RES_K_MIN 3            /* below ~150 Hz the notch's phase makes y coherent with e */
#define FD_HALF 16             /* fractional-delay reader: 2 x FD_HALF taps (Kaiser, beta 6) */
#define FD_BETA 6.0
#define FD_PHASES 256
#define DRIFT_POINTS 40        /* delay estimates in the drift fit (10 s) */
#define DRIFT_MIN_POINTS 12
#define DRIFT_MIN_SPAN_S 3.0
#define DRIFT_MAX 400e-6       /* |d lag / dt| followed */
#define DRIFT_GATE_MS 2.0      /* estimates this close to the alignment feed the fit */
#define DRIFT_SLACK_MS 5.0     /* reader headroom: the delay is re-split this rarely */

struct fe_aec {
    struct fe_aec_cfg cfg;
    unsigned C, hop, bins;
    SpeexEchoState *mdf;                       /* OWN/OFF: one multi-channel state */
    SpeexEchoState *mdf_ch[HARK_MAX_MICS];     /* SPEEX: one per channel */
    SpeexPreprocessState *pp[HARK_MAX_MICS];
    spx_int16_t *d16, *e16, *x16;              /* hop * C, hop * C, hop */
    spx_int16_t *dm16, *em16;                  /* hop: one channel (SPEEX mode) */
    float *d, *e, *x;                          /* aligned mic, MDF output, aligned ref */
    float *tmp;                                /* hop: one synthesised channel */
    /* delay lines */
    float *ref_ring, *mic_ring;
    unsigned ref_len, mic_len, ref_w, mic_w;
    double ref_delay;                          /* fractional, >= FD_HALF */
    int mic_delay;
    double drift;                              /* d lag / d sample */
    int max_lag, margin, realign_thr;
    double cand;
    unsigned confirms;
    uint64_t hops;
    double fit_t[DRIFT_POINTS], fit_lag[DRIFT_POINTS];
    unsigned fit_n, fit_i;
    float (*fd)[2 * FD_HALF];                  /* FD_PHASES + 1 windowed-sinc phases */
    double erle_pd, erle_pe, erle_pout, erle_py; /* long-term powers on far-end-only hops */
    float leak;                                /* residual / echo-estimate power, far end only */
    struct fe_delay_est *dest;
    /* RES */
    struct fe_stft *ana;
    struct fe_istft *syn[HARK_MAX_MICS];
    float *ey;                                 /* hop * 2C interleaved: e0..eC-1, y0..yC-1 */
    struct fe_cpx *X;                          /* 2C * bins */
    float *See, *Syy, *Syyc;                   /* C * bins */
    struct fe_cpx *Sey;
    float gmin, over;
    float pass_gain;                           /* MDF's gain for the near end (its DC notch) */
    /* statistics */
    float pd, pe, py, pout, floor_e;
    unsigned dt_run, conv_hops;
    unsigned far_quiet, tail_hops;             /* hops since the far end last played; filter span */
    float far_floor;
    struct fe_aec_state state;
};

void fe_aec_cfg_default(struct fe_aec_cfg *cfg, unsigned rate, unsigned channels)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rate = rate;
    cfg->hop = rate / 100;
    cfg->channels = channels;
    cfg->tail_ms = 128;
    cfg->res = FE_AEC_RES_OWN;
    cfg->res_floor_db = -40;
    cfg->res_over_db = 0;
    cfg->delay_tracking = true;
    cfg->initial_delay_ms = 0;
    cfg->max_delay_ms = 250;
    cfg->margin_ms = 2;
    cfg->realign_ms = 2;
    cfg->realign_confirm = 3;
    cfg->min_delay_conf = 0.08f;
    cfg->far_floor_dbfs = -60;
}

static bool cfg_ok(const struct fe_aec_cfg *c)
{
    return c->rate >= 8000 && c->rate <= 48000 && c->hop == c->rate / 100 && c->hop * 100 == c->rate &&
           c->channels >= 1 && c->channels <= HARK_MAX_MICS && c->tail_ms >= 20 && c->tail_ms <= 1000 &&
           (unsigned) c->res <= FE_AEC_RES_OFF && c->res_floor_db <= 0 && c->res_floor_db >= -80 &&
           c->res_over_db >= 0 && c->res_over_db <= 20 && c->max_delay_ms >= 0 && c->max_delay_ms <= 500 &&
           fabsf(c->initial_delay_ms) <= c->max_delay_ms && c->margin_ms >= 0 && c->margin_ms <= 50 &&
           c->realign_ms > 0 && c->realign_confirm >= 1 && c->min_delay_conf >= 0 && c->min_delay_conf <= 1;
}

/* The lag (fe_delay_est.h convention) now compensated. */
static double applied_lag(const struct fe_aec *st)
{
    return st->ref_delay - st->mic_delay + st->margin;
}

/* Compensate `lag`: the reference is read ref_delay behind, the mics
 * mic_delay behind, so that the echo's direct path lands `margin` samples
 * into the filter. The mics are delayed only as far as the reference lags
 * (plus the FD_HALF samples the fractional reader looks ahead). */
static void set_alignment(struct fe_aec *st, double lag)
{
    double d, lo;

    if (lag > st->max_lag)
        lag = st->max_lag;
    if (lag < -st->max_lag)
        lag = -st->max_lag;
    d = lag - st->margin;
    /* When the lag shrinks (playback clock fast) the reference delay falls
     * with it: leave it headroom so the split moves rarely (each move makes
     * the mic stream skip or repeat samples). */
    lo = FD_HALF + (st->drift < 0 ? DRIFT_SLACK_MS * 1e-3 * st->cfg.rate : 0);
    st->mic_delay = d < lo ? (int) ceil(lo - d) : 0;
    st->ref_delay = d + st->mic_delay;
}

static void reset_adaptive(struct fe_aec *st)
{
    if (st->mdf)
        speex_echo_state_reset(st->mdf);
    for (unsigned c = 0; c < st->C; c++)
        if (st->mdf_ch[c])
            speex_echo_state_reset(st->mdf_ch[c]);
    if (st->See) {
        size_t n = (size_t) st->C * st->bins;
        memset(st->See, 0, n * sizeof(float));
        memset(st->Syy, 0, n * sizeof(float));
        memset(st->Syyc, 0, n * sizeof(float));
        memset(st->Sey, 0, n * sizeof(*st->Sey));
    }
    st->state.erle_db = st->state.erle_lin_db = 0;
    st->erle_pd = st->erle_pe = st->erle_pout = st->erle_py = 0;
    st->leak = 1;
    st->state.converged = false;
    st->conv_hops = 0;
    st->dt_run = 0;
}

/*
 * MDF passes the near end through its input DC notch, whose pass-band gain
 * is not exactly 1 (about -0.16 dB at 16 kHz). The echo estimate is
 * recovered as y = g d - e; with g = 1 the difference (1 - g) d would be a
 * copy of the near end that the RES, rightly, finds fully coherent with the
 * output and suppresses (measured: -22 dB on near speech). g is measured
 * once here on white noise with a silent reference (nothing to adapt to).
 */
static float measure_pass_gain(unsigned rate, unsigned hop)
{
    SpeexEchoState *t = speex_echo_state_init((int) hop, (int) (2 * hop));
    spx_int16_t d[hop], x[hop], e[hop];
    spx_int32_t r = (spx_int32_t) rate;
    double ed = 0, dd = 0;
    uint32_t s = 12345;

    if (!t)
        return 1.0f;
    speex_echo_ctl(t, SPEEX_ECHO_SET_SAMPLING_RATE, &r);
    memset(x, 0, sizeof(x));
    for (unsigned f = 0; f < 60; f++) {
        for (unsigned n = 0; n < hop; n++) {
            s = s * 1664525u + 1013904223u;
            d[n] = (spx_int16_t) ((int32_t) (s >> 16) - 32768) / 4;
        }
        speex_echo_cancellation(t, d, x, e);
        if (f >= 20)
            for (unsigned n = 0; n < hop; n++) {
                ed += (double) e[n] * d[n];
                dd += (double) d[n] * d[n];
            }
    }
    speex_echo_state_destroy(t);
    return dd > 0 ? (float) (ed / dd) : 1.0f;
}

static double bessel_i0(double x)
{
    double sum = 1, term = 1;

    for (int k = 1; k < 40; k++) {
        term *= (x / (2.0 * k)) * (x / (2.0 * k));
        sum += term;
    }
    return sum;
}

struct fe_aec *fe_aec_create(const struct fe_aec_cfg *cfg)
{
    struct fe_aec *st;
    unsigned C, hop;
    int tail;

    if (!cfg || !cfg_ok(cfg))
        return NULL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = *cfg;
    C = st->C = cfg->channels;
    hop = st->hop = cfg->hop;
    st->bins = hop + 1;
    tail = (int) (cfg->tail_ms * 1e-3f * (float) cfg->rate + 0.5f);
    tail = (tail + (int) hop - 1) / (int) hop * (int) hop;
    st->max_lag = (int) (cfg->max_delay_ms * 1e-3f * (float) cfg->rate + 0.5f);
    st->margin = (int) (cfg->margin_ms * 1e-3f * (float) cfg->rate + 0.5f);
    st->realign_thr = (int) (cfg->realign_ms * 1e-3f * (float) cfg->rate + 0.5f);
    st->ref_len = (unsigned) (st->max_lag + (int) hop + 4 * FD_HALF + 64);
    st->mic_len = (unsigned) (st->max_lag + st->margin + FD_HALF + (int) hop + 2) +
                  (unsigned) (DRIFT_SLACK_MS * 1e-3 * cfg->rate + 1);
    st->fd = calloc(FD_PHASES + 1, sizeof(*st->fd));
    if (!st->fd)
        goto fail;
    /* Windowed-sinc phases: pass band flat to -55 dB up to 7 kHz at 16 kHz
     * for every fraction, so a drifting fraction does not modulate the
     * reference's spectrum (a 16-tap Blackman design only reached -11 dB,
     * which held MDF at 16 dB under 100 ppm drift). */
    for (unsigned p = 0; p <= FD_PHASES; p++) {
        double frac = (double) p / FD_PHASES, sum = 0, w[2 * FD_HALF];
        for (int j = -FD_HALF + 1; j <= FD_HALF; j++) {
            double x = j - frac, u = (x + FD_HALF) / FD_HALF - 1.0, r = 1.0 - u * u;
            double win = bessel_i0(FD_BETA * sqrt(r > 0 ? r : 0)) / bessel_i0(FD_BETA);
            w[j + FD_HALF - 1] = (fabs(x) < 1e-9 ? 1.0 : sin(M_PI * x) / (M_PI * x)) * win;
            sum += w[j + FD_HALF - 1];
        }
        for (int j = 0; j < 2 * FD_HALF; j++)
            st->fd[p][j] = (float) (w[j] / sum);
    }
    st->ref_ring = calloc(st->ref_len, sizeof(float));
    st->mic_ring = calloc((size_t) st->mic_len * C, sizeof(float));
    st->d16 = calloc((size_t) hop * C, sizeof(spx_int16_t));
    st->e16 = calloc((size_t) hop * C, sizeof(spx_int16_t));
    st->x16 = calloc(hop, sizeof(spx_int16_t));
    st->dm16 = calloc(hop, sizeof(spx_int16_t));
    st->em16 = calloc(hop, sizeof(spx_int16_t));
    st->d = calloc((size_t) hop * C, sizeof(float));
    st->e = calloc((size_t) hop * C, sizeof(float));
    st->x = calloc(hop, sizeof(float));
    st->tmp = calloc(hop, sizeof(float));
    if (!st->ref_ring || !st->mic_ring || !st->d16 || !st->e16 || !st->x16 || !st->dm16 || !st->em16 ||
        !st->d || !st->e || !st->x || !st->tmp)
        goto fail;
    if (cfg->res == FE_AEC_RES_SPEEX) {
        for (unsigned c = 0; c < C; c++) {
            spx_int32_t rate = (spx_int32_t) cfg->rate, off = 0;
            st->mdf_ch[c] = speex_echo_state_init((int) hop, tail);
            st->pp[c] = speex_preprocess_state_init((int) hop, (int) cfg->rate);
            if (!st->mdf_ch[c] || !st->pp[c])
                goto fail;
            speex_echo_ctl(st->mdf_ch[c], SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
            speex_preprocess_ctl(st->pp[c], SPEEX_PREPROCESS_SET_DENOISE, &off);
            speex_preprocess_ctl(st->pp[c], SPEEX_PREPROCESS_SET_AGC, &off);
            speex_preprocess_ctl(st->pp[c], SPEEX_PREPROCESS_SET_VAD, &off);
            speex_preprocess_ctl(st->pp[c], SPEEX_PREPROCESS_SET_DEREVERB, &off);
            speex_preprocess_ctl(st->pp[c], SPEEX_PREPROCESS_SET_ECHO_STATE, st->mdf_ch[c]);
        }
    } else {
        spx_int32_t rate = (spx_int32_t) cfg->rate;
        st->mdf = speex_echo_state_init_mc((int) hop, tail, (int) C, 1);
        if (!st->mdf)
            goto fail;
        speex_echo_ctl(st->mdf, SPEEX_ECHO_SET_SAMPLING_RATE, &rate);
    }
    if (cfg->res == FE_AEC_RES_OWN) {
        struct fe_stft_cfg sc = { .frame = 2 * hop, .hop = hop, .channels = 2 * C, .window = FE_WIN_SQRT_HANN };
        size_t n = (size_t) C * st->bins;
        st->ana = fe_stft_create(&sc);
        for (unsigned c = 0; c < C; c++)
            if (!(st->syn[c] = fe_istft_create(&sc, FE_WIN_SQRT_HANN)))
                goto fail;
        st->ey = calloc((size_t) hop * 2 * C, sizeof(float));
        st->X = calloc((size_t) 2 * C * st->bins, sizeof(*st->X));
        st->See = calloc(n, sizeof(float));
        st->Syy = calloc(n, sizeof(float));
        st->Syyc = calloc(n, sizeof(float));
        st->Sey = calloc(n, sizeof(*st->Sey));
        if (!st->ana || !st->ey || !st->X || !st->See || !st->Syy || !st->Syyc || !st->Sey)
            goto fail;
    }
    st->pass_gain = measure_pass_gain(cfg->rate, hop);
    st->tail_hops = (unsigned) tail / hop + 2;
    st->gmin = powf(10.0f, cfg->res_floor_db / 20.0f);
    st->over = powf(10.0f, cfg->res_over_db / 10.0f);
    st->far_floor = powf(10.0f, cfg->far_floor_dbfs / 10.0f);
    if (cfg->delay_tracking) {
        struct fe_delay_est_cfg dc;
        fe_delay_est_cfg_default(&dc, cfg->rate);
        dc.max_lag_ms = cfg->max_delay_ms > 10 ? cfg->max_delay_ms : 10;
        if (!(st->dest = fe_delay_est_create(&dc)))
            goto fail;
    }
    fe_aec_reset(st);
    return st;
fail:
    fe_aec_destroy(st);
    return NULL;
}

void fe_aec_destroy(struct fe_aec *st)
{
    if (!st)
        return;
    if (st->mdf)
        speex_echo_state_destroy(st->mdf);
    for (unsigned c = 0; c < HARK_MAX_MICS; c++) {
        if (st->mdf_ch[c])
            speex_echo_state_destroy(st->mdf_ch[c]);
        if (st->pp[c])
            speex_preprocess_state_destroy(st->pp[c]);
        fe_istft_destroy(st->syn[c]);
    }
    fe_delay_est_destroy(st->dest);
    fe_stft_destroy(st->ana);
    free(st->ref_ring);
    free(st->fd);
    free(st->mic_ring);
    free(st->d16);
    free(st->e16);
    free(st->x16);
    free(st->dm16);
    free(st->em16);
    free(st->d);
    free(st->e);
    free(st->x);
    free(st->tmp);
    free(st->ey);
    free(st->X);
    free(st->See);
    free(st->Syy);
    free(st->Syyc);
    free(st->Sey);
    free(st);
}

void fe_aec_reset(struct fe_aec *st)
{
    memset(st->ref_ring, 0, st->ref_len * sizeof(float));
    memset(st->mic_ring, 0, (size_t) st->mic_len * st->C * sizeof(float));
    st->ref_w = st->mic_w = 0;
    if (st->dest)
        fe_delay_est_reset(st->dest);
    if (st->ana)
        fe_stft_reset(st->ana);
    for (unsigned c = 0; c < st->C; c++) {
        if (st->syn[c])
            fe_istft_reset(st->syn[c]);
        if (st->pp[c]) {
            /* the preprocessor has no reset: its state re-converges quickly */
        }
    }
    memset(&st->state, 0, sizeof(st->state));
    set_alignment(st, st->cfg.initial_delay_ms * 1e-3 * st->cfg.rate);
    st->confirms = 0;
    st->cand = 0;
    st->drift = 0;
    st->fit_n = st->fit_i = 0;
    st->hops = 0;
    st->pd = st->pe = st->py = st->pout = 0;
    st->floor_e = 1.0f;
    reset_adaptive(st);
}

void fe_aec_set_delay(struct fe_aec *st, float lag_samples)
{
    set_alignment(st, lag_samples);
    st->confirms = 0;
    st->fit_n = st->fit_i = 0;
    st->drift = 0;
    st->state.realigns++;
    reset_adaptive(st);
}

static inline spx_int16_t to16(float v)
{
    float s = v * 32768.0f;

    if (!(s > -32768.0f)) /* also NaN */
        return -32768;
    if (s > 32767.0f)
        return 32767;
    return (spx_int16_t) lrintf(s);
}

/* Least-squares slope of the recent delay estimates: the clock drift. */
static void fit_drift(struct fe_aec *st)
{
    double mt = 0, ml = 0, stt = 0, stl = 0, tmin = 1e300, tmax = -1e300, slope;
    unsigned n = st->fit_n;

    if (n < DRIFT_MIN_POINTS)
        return;
    for (unsigned i = 0; i < n; i++) {
        mt += st->fit_t[i];
        ml += st->fit_lag[i];
        tmin = fmin(tmin, st->fit_t[i]);
        tmax = fmax(tmax, st->fit_t[i]);
    }
    if (tmax - tmin < DRIFT_MIN_SPAN_S * st->cfg.rate)
        return;
    mt /= n;
    ml /= n;
    for (unsigned i = 0; i < n; i++) {
        stt += (st->fit_t[i] - mt) * (st->fit_t[i] - mt);
        stl += (st->fit_t[i] - mt) * (st->fit_lag[i] - ml);
    }
    slope = stl / stt;
    {
        /* follow only a slope clearly above the estimates' jitter: a
         * spurious drift would move a static echo path */
        double rss = 0, se;
        for (unsigned i = 0; i < n; i++) {
            double r = st->fit_lag[i] - ml - slope * (st->fit_t[i] - mt);
            rss += r * r;
        }
        se = sqrt(rss / (n - 2) / stt);
        if (fabs(slope) < 3 * se || fabs(slope) < 5e-6)
            slope = 0;
    }
    st->drift = fmax(-DRIFT_MAX, fmin(DRIFT_MAX, slope));
}

/* Follow the delay estimator: estimates near the alignment feed the drift
 * fit; `realign_confirm` consistent ones far from it move the alignment
 * (and restart the filter). */
static void track_delay(struct fe_aec *st)
{
    struct fe_delay_est_result r;
    double now = (double) st->hops * st->hop, lag_now = applied_lag(st);

    fe_delay_est_get(st->dest, &r);
    st->state.delay_est_ms = r.lag * 1e3f / (float) st->cfg.rate;
    st->state.delay_conf = r.confidence;
    if (!r.valid || r.confidence < st->cfg.min_delay_conf || !isfinite(r.lag))
        return;
    if (fabs(r.lag - lag_now) <= DRIFT_GATE_MS * 1e-3 * st->cfg.rate) {
        st->fit_t[st->fit_i] = now;
        st->fit_lag[st->fit_i] = r.lag;
        st->fit_i = (st->fit_i + 1) % DRIFT_POINTS;
        if (st->fit_n < DRIFT_POINTS)
            st->fit_n++;
        fit_drift(st);
    }
    if (fabs(r.lag - lag_now) <= st->realign_thr) {
        st->confirms = 0;
        return;
    }
    if (st->confirms > 0 && fabs(r.lag - st->cand) <= st->cfg.rate / 1000.0)
        st->confirms++;
    else
        st->confirms = 1;
    st->cand = r.lag;
    if (st->confirms >= st->cfg.realign_confirm) {
        set_alignment(st, r.lag);
        st->confirms = 0;
        st->fit_n = st->fit_i = 0;
        st->drift = 0;
        st->state.realigns++;
        reset_adaptive(st);
    }
}

static void residual_suppress(struct fe_aec *st, float *out, unsigned out_stride)
{
    unsigned C = st->C, hop = st->hop, B = st->bins;
    float leak = st->leak;
    const float as = RES_SMOOTH, ac = RES_COH_SMOOTH, coh_bias = (1 - ac) / (1 + ac);

    if (leak > 1)
        leak = 1;
    for (unsigned n = 0; n < hop; n++)
        for (unsigned c = 0; c < C; c++) {
            float dv = st->d[n * C + c], ev = st->e[n * C + c];
            st->ey[n * 2 * C + c] = ev;
            st->ey[n * 2 * C + C + c] = st->pass_gain * dv - ev;
        }
    fe_stft_analyze(st->ana, st->ey, 2 * C, st->X);
    for (unsigned c = 0; c < C; c++) {
        struct fe_cpx *E = st->X + (size_t) c * B, *Y = st->X + (size_t) (C + c) * B;
        float *See = st->See + (size_t) c * B, *Syy = st->Syy + (size_t) c * B;
        float *Syyc = st->Syyc + (size_t) c * B;
        struct fe_cpx *Sey = st->Sey + (size_t) c * B;
        float *tmp = st->tmp;

        for (unsigned k = 0; k < B; k++) {
            float pe = E[k].re * E[k].re + E[k].im * E[k].im;
            float py = Y[k].re * Y[k].re + Y[k].im * Y[k].im;
            float cr = E[k].re * Y[k].re + E[k].im * Y[k].im;
            float ci = E[k].im * Y[k].re - E[k].re * Y[k].im;
            float rlin, rleak, r, g;

            See[k] = as * See[k] + (1 - as) * pe;
            Syy[k] = as * Syy[k] + (1 - as) * py;
            Syyc[k] = ac * Syyc[k] + (1 - ac) * py;
            Sey[k].re = ac * Sey[k].re + (1 - ac) * cr;
            Sey[k].im = ac * Sey[k].im + (1 - ac) * ci;
            /* |Sey|^2 / Syy less its bias for uncorrelated signals,
             * (1 - ac) / (1 + ac) See Syy, so near speech is not taken for echo */
            rlin = Sey[k].re * Sey[k].re + Sey[k].im * Sey[k].im - coh_bias * See[k] * Syyc[k];
            rlin = rlin > 0 && k >= RES_K_MIN ? rlin / (Syyc[k] + AEC_EPS) : 0;
            rleak = leak * Syy[k];
            r = st->over * (rlin > rleak ? rlin : rleak);
            g = 1.0f - r / (See[k] + AEC_EPS);
            /* no far end for a whole filter span: no echo can be left, and
             * y then holds only MDF's pass-through mismatch (see
             * measure_pass_gain), which is coherent with the near end */
            if (st->far_quiet > st->tail_hops)
                g = 1.0f;
            if (g < st->gmin)
                g = st->gmin;
            E[k].re *= g;
            E[k].im *= g;
        }
        fe_istft_synthesize(st->syn[c], E, tmp);
        for (unsigned n = 0; n < hop; n++)
            out[(size_t) n * out_stride + c] = tmp[n];
    }
}

static void update_state(struct fe_aec *st, float px, float pd, float pe, float py, float pout)
{
    struct fe_aec_state *s = &st->state;
    const float a = POW_SMOOTH;
    float pres;

    st->pd = a * st->pd + (1 - a) * pd;
    st->pe = a * st->pe + (1 - a) * pe;
    st->py = a * st->py + (1 - a) * py;
    st->pout = a * st->pout + (1 - a) * pout;
    st->floor_e *= FLOOR_RISE;
    if (st->pe < st->floor_e)
        st->floor_e = st->pe;
    if (st->floor_e < 1e-14f)
        st->floor_e = 1e-14f;
    s->far_active = px > st->far_floor;
    st->far_quiet = s->far_active ? 0 : st->far_quiet + 1;
    /* expected residual: echo estimate power times the residual-to-estimate
     * ratio learnt on far-end-only hops (the echo estimate, unlike the mic,
     * does not contain the near talker) */
    pres = st->py * st->leak;
    s->near_active = st->pe > 4 * st->floor_e && (!s->far_active || st->pe > 8 * pres + NEAR_MIN_REL * st->py);
    if (s->far_active && st->pd > 4 * st->floor_e) {
        float rate = 0;

        if (!s->near_active) {
            rate = ERLE_RATE;
            st->dt_run = 0;
        } else if (++st->dt_run > DT_STUCK_HOPS) {
            rate = ERLE_SLOW_RATE;
        }
        st->erle_pd += rate * (pd - st->erle_pd);
        st->erle_pe += rate * (pe - st->erle_pe);
        st->erle_pout += rate * (pout - st->erle_pout);
        st->erle_py += rate * (py - st->erle_py);
        if (rate > 0)
            st->leak = fminf(1.0f, (float) ((st->erle_pe + AEC_EPS) / (st->erle_py + AEC_EPS)));
        if (rate > 0) {
            s->erle_lin_db = fmaxf(0.0f, (float) (10.0 * log10((st->erle_pd + AEC_EPS) / (st->erle_pe + AEC_EPS))));
            s->erle_db = fmaxf(0.0f, (float) (10.0 * log10((st->erle_pd + AEC_EPS) / (st->erle_pout + AEC_EPS))));
        }
        if (!s->near_active) {
            if (s->erle_lin_db >= 10) {
                if (st->conv_hops < CONVERGED_HOPS)
                    st->conv_hops++;
            } else if (s->erle_lin_db < 6) {
                st->conv_hops = 0;
            }
        }
    } else {
        st->dt_run = 0;
    }
    s->converged = st->conv_hops >= CONVERGED_HOPS;
    s->double_talk = s->far_active && s->near_active && s->converged;
}

void fe_aec_process(struct fe_aec *st, const float *mic, unsigned stride, const float *ref, float *out,
                    unsigned out_stride)
{
    unsigned C = st->C, hop = st->hop;
    float px = 0, pd = 0, pe = 0, py = 0, pout = 0;

    /* 1. delay lines and the delay estimate (on the raw streams) */
    for (unsigned n = 0; n < hop; n++) {
        const float *f = mic + (size_t) n * stride;
        float *m = st->mic_ring + (size_t) st->mic_w * C;
        for (unsigned c = 0; c < C; c++)
            m[c] = f[c];
        st->ref_ring[st->ref_w] = ref && isfinite(ref[n]) ? ref[n] : 0.0f;
        if (++st->mic_w == st->mic_len)
            st->mic_w = 0;
        if (++st->ref_w == st->ref_len)
            st->ref_w = 0;
    }
    if (st->dest && ref && fe_delay_est_process(st->dest, mic, stride, C, ref))
        track_delay(st);
    /* 2. aligned frames: the reference through the fractional-delay reader
     * (its delay follows the drift), the mics by whole samples */
    {
        unsigned mr = (st->mic_w + st->mic_len - hop - (unsigned) st->mic_delay) % st->mic_len;
        for (unsigned n = 0; n < hop; n++) {
            const float *m = st->mic_ring + (size_t) mr * C;
            double pos = (double) (st->ref_len - hop + n) - (st->ref_delay + st->drift * n);
            long i0 = (long) floor(pos);
            unsigned ph = (unsigned) lrint((pos - (double) i0) * FD_PHASES);
            const float *w = st->fd[ph];
            unsigned base = (unsigned) ((long) st->ref_w + i0 - FD_HALF + 1 + 2L * st->ref_len) % st->ref_len;
            float acc = 0;
            for (unsigned j = 0; j < 2 * FD_HALF; j++) {
                float v = st->ref_ring[base];
                acc += w[j] * v;
                if (++base == st->ref_len)
                    base = 0;
            }
            st->x[n] = acc;
            st->x16[n] = to16(acc);
            px += acc * acc;
            for (unsigned c = 0; c < C; c++) {
                float v = m[c];
                if (!isfinite(v))
                    v = 0;
                st->d[n * C + c] = v;
                st->d16[n * C + c] = to16(v);
            }
            if (++mr == st->mic_len)
                mr = 0;
        }
    }
    /* 3. linear cancellation */
    if (st->mdf) {
        speex_echo_cancellation(st->mdf, st->d16, st->x16, st->e16);
        for (unsigned i = 0; i < hop * C; i++)
            st->e[i] = (float) st->e16[i] * (1.0f / 32768.0f);
    } else {
        for (unsigned c = 0; c < C; c++) {
            for (unsigned n = 0; n < hop; n++)
                st->dm16[n] = st->d16[n * C + c];
            speex_echo_cancellation(st->mdf_ch[c], st->dm16, st->x16, st->em16);
            for (unsigned n = 0; n < hop; n++)
                st->e[n * C + c] = (float) st->em16[n] * (1.0f / 32768.0f);
            speex_preprocess_run(st->pp[c], st->em16);
            for (unsigned n = 0; n < hop; n++)
                out[(size_t) n * out_stride + c] = (float) st->em16[n] * (1.0f / 32768.0f);
        }
    }
    for (unsigned i = 0; i < hop * C; i++) {
        float y = st->pass_gain * st->d[i] - st->e[i];
        pd += st->d[i] * st->d[i];
        pe += st->e[i] * st->e[i];
        py += y * y;
    }
    /* 4. residual echo suppression */
    if (st->cfg.res == FE_AEC_RES_OWN) {
        residual_suppress(st, out, out_stride);
    } else if (st->cfg.res == FE_AEC_RES_OFF) {
        for (unsigned n = 0; n < hop; n++)
            for (unsigned c = 0; c < C; c++)
                out[(size_t) n * out_stride + c] = st->e[n * C + c];
    }
    for (unsigned n = 0; n < hop; n++)
        for (unsigned c = 0; c < C; c++)
            pout += out[(size_t) n * out_stride + c] * out[(size_t) n * out_stride + c];
    update_state(st, px / (float) hop, pd, pe, py, pout);
    /* 5. the drift moves the reference's delay; outside the reader's range
     * the delay is re-split between mics and reference (same lag, so the
     * filter stays valid; the mic stream skips or repeats a few samples) */
    st->ref_delay += st->drift * hop;
    if (st->ref_delay < FD_HALF || st->ref_delay > st->ref_len - hop - 2 * FD_HALF)
        set_alignment(st, applied_lag(st));
    st->hops++;
    st->state.delay_ms = (float) (applied_lag(st) * 1e3 / st->cfg.rate);
    st->state.drift_ppm = (float) (st->drift * 1e6);
    st->state.latency = (unsigned) st->mic_delay + (st->cfg.res == FE_AEC_RES_OWN ? hop : 0);
}

void fe_aec_get_state(const struct fe_aec *st, struct fe_aec_state *out)
{
    *out = st->state;
}
