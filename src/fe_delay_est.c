/*
 * fe_delay_est.c - GCC-PHAT bulk delay between echo reference and mics (see
 * fe_delay_est.h).
 *
 * Why decimate. The bulk delay has to be known to about a millisecond (the
 * echo canceller leaves a few milliseconds of margin before the direct
 * path), while the search range is +-250 ms: at 4 kHz a 1 s window and the
 * full lag range fit one 8192-point FFT, and the speech band below 2 kHz
 * carries most of the correlation anyway. The decimator is a box average of
 * `decim` samples (nulls at multiples of the new rate); what aliases is
 * attenuated and, being common to both signals, only blurs the whitened
 * peak slightly. Parabolic refinement gives well under one decimated
 * sample (0.25 ms) of error on a clean path.
 */
#include "fe_delay_est.h"

#include <kiss_fftr.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define DE_EPS 1e-20f

struct fe_delay_est {
    struct fe_delay_est_cfg cfg;
    unsigned win, nfft, bins, k_lo, k_hi, max_lag, hops;
    float *ref_hist, *mic_hist; /* win, circular */
    unsigned wpos;
    float *buf;                 /* nfft */
    kiss_fft_cpx *R, *M, *S;    /* bins */
    kiss_fftr_cfg fft, ifft;
    float floor_pow;
    struct fe_delay_est_result res;
};

void fe_delay_est_cfg_default(struct fe_delay_est_cfg *cfg, unsigned rate)
{
    cfg->rate = rate;
    cfg->hop = rate / 100;
    cfg->decim = rate >= 16000 ? 4 : 2;
    cfg->max_lag_ms = 250;
    cfg->window_ms = 1024;
    cfg->update_hops = 25;
    cfg->smooth = 0.7f;
    cfg->ref_floor_dbfs = -65;
}

static bool cfg_ok(const struct fe_delay_est_cfg *c)
{
    return c->rate >= 8000 && c->rate <= 192000 && c->decim >= 1 && c->decim <= 8 && c->hop > 0 &&
           c->hop % c->decim == 0 && c->max_lag_ms > 0 && c->max_lag_ms <= 1000 && c->window_ms >= 100 &&
           c->window_ms <= 4000 && c->update_hops > 0 && c->smooth >= 0 && c->smooth <= 0.95f;
}

struct fe_delay_est *fe_delay_est_create(const struct fe_delay_est_cfg *cfg)
{
    struct fe_delay_est *st;
    double rd;

    if (!cfg || !cfg_ok(cfg))
        return NULL;
    st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->cfg = *cfg;
    rd = (double) cfg->rate / cfg->decim;
    st->win = (unsigned) (cfg->window_ms * 1e-3 * rd + 0.5);
    st->max_lag = (unsigned) (cfg->max_lag_ms * 1e-3 * rd + 0.5);
    if (st->max_lag >= st->win)
        st->max_lag = st->win - 1;
    st->nfft = 256;
    while (st->nfft < st->win + st->max_lag + 1)
        st->nfft *= 2;
    st->bins = st->nfft / 2 + 1;
    st->k_lo = (unsigned) ceil(150.0 * st->nfft / rd);
    st->k_hi = (unsigned) floor(0.45 * st->nfft);
    st->ref_hist = calloc(st->win, sizeof(float));
    st->mic_hist = calloc(st->win, sizeof(float));
    st->buf = calloc(st->nfft, sizeof(float));
    st->R = calloc(st->bins, sizeof(*st->R));
    st->M = calloc(st->bins, sizeof(*st->M));
    st->S = calloc(st->bins, sizeof(*st->S));
    st->fft = kiss_fftr_alloc((int) st->nfft, 0, NULL, NULL);
    st->ifft = kiss_fftr_alloc((int) st->nfft, 1, NULL, NULL);
    st->floor_pow = powf(10.0f, cfg->ref_floor_dbfs / 10.0f);
    if (!st->ref_hist || !st->mic_hist || !st->buf || !st->R || !st->M || !st->S || !st->fft || !st->ifft) {
        fe_delay_est_destroy(st);
        return NULL;
    }
    return st;
}

void fe_delay_est_destroy(struct fe_delay_est *st)
{
    if (!st)
        return;
    free(st->ref_hist);
    free(st->mic_hist);
    free(st->buf);
    free(st->R);
    free(st->M);
    free(st->S);
    kiss_fftr_free(st->fft);
    kiss_fftr_free(st->ifft);
    free(st);
}

void fe_delay_est_reset(struct fe_delay_est *st)
{
    memset(st->ref_hist, 0, st->win * sizeof(float));
    memset(st->mic_hist, 0, st->win * sizeof(float));
    memset(st->S, 0, st->bins * sizeof(*st->S));
    st->wpos = 0;
    st->hops = 0;
    memset(&st->res, 0, sizeof(st->res));
}

/* Unroll a circular history (oldest first) into buf, zero-padded, and transform. */
static float transform(struct fe_delay_est *st, const float *hist, kiss_fft_cpx *X)
{
    unsigned n1 = st->win - st->wpos;
    float pow = 0;

    memcpy(st->buf, hist + st->wpos, n1 * sizeof(float));
    memcpy(st->buf + n1, hist, st->wpos * sizeof(float));
    memset(st->buf + st->win, 0, (st->nfft - st->win) * sizeof(float));
    for (unsigned i = 0; i < st->win; i++)
        pow += st->buf[i] * st->buf[i];
    kiss_fftr(st->fft, st->buf, X);
    return pow / (float) st->win;
}

static void update(struct fe_delay_est *st)
{
    float a = st->cfg.smooth, best = -1e30f, ym, y0, yp, d = 0;
    unsigned nband = st->k_hi - st->k_lo + 1;
    int best_i = 0;

    if (transform(st, st->ref_hist, st->R) < st->floor_pow)
        return;
    (void) transform(st, st->mic_hist, st->M);
    for (unsigned k = 0; k < st->bins; k++) {
        kiss_fft_cpx m = st->M[k], r = st->R[k], c;
        c.r = m.r * r.r + m.i * r.i; /* M conj(R) */
        c.i = m.i * r.r - m.r * r.i;
        st->S[k].r = a * st->S[k].r + (1 - a) * c.r;
        st->S[k].i = a * st->S[k].i + (1 - a) * c.i;
    }
    /* Whiten the band into M (reused as scratch), zero elsewhere. */
    for (unsigned k = 0; k < st->bins; k++) {
        if (k < st->k_lo || k > st->k_hi) {
            st->M[k].r = st->M[k].i = 0;
        } else {
            float mag = sqrtf(st->S[k].r * st->S[k].r + st->S[k].i * st->S[k].i) + DE_EPS;
            st->M[k].r = st->S[k].r / mag;
            st->M[k].i = st->S[k].i / mag;
        }
    }
    kiss_fftri(st->ifft, st->M, st->buf);
    for (int i = -(int) st->max_lag; i <= (int) st->max_lag; i++) {
        float v = st->buf[(unsigned) (i + (int) st->nfft) % st->nfft];
        if (v > best) {
            best = v;
            best_i = i;
        }
    }
    /* The earliest arrival is what alignment needs: a strong reflection can
     * outgrow the direct path when the latter falls between two decimated
     * samples, so take the first local maximum within half of the best. */
    for (int i = -(int) st->max_lag + 1; i < best_i; i++) {
        float v = st->buf[(unsigned) (i + (int) st->nfft) % st->nfft];
        if (v >= 0.5f * best && v >= st->buf[(unsigned) (i - 1 + (int) st->nfft) % st->nfft] &&
            v >= st->buf[(unsigned) (i + 1 + (int) st->nfft) % st->nfft]) {
            best_i = i;
            best = v;
            break;
        }
    }
    ym = st->buf[(unsigned) (best_i - 1 + (int) st->nfft) % st->nfft];
    y0 = best;
    yp = st->buf[(unsigned) (best_i + 1 + (int) st->nfft) % st->nfft];
    if (ym - 2 * y0 + yp < 0)
        d = 0.5f * (ym - yp) / (ym - 2 * y0 + yp);
    if (d > 0.5f || d < -0.5f)
        d = 0;
    st->res.valid = true;
    st->res.lag = ((float) best_i + d) * (float) st->cfg.decim;
    st->res.confidence = best / (2.0f * (float) nband);
    if (st->res.confidence > 1)
        st->res.confidence = 1;
    st->res.updates++;
}

bool fe_delay_est_process(struct fe_delay_est *st, const float *mic, unsigned stride, unsigned mics,
                          const float *ref)
{
    unsigned dec = st->cfg.decim, updates = st->res.updates;
    float inv = 1.0f / (float) (dec * (mics ? mics : 1));

    for (unsigned n = 0; n < st->cfg.hop; n += dec) {
        float r = 0, m = 0;
        for (unsigned j = 0; j < dec; j++) {
            const float *f = mic + (size_t) (n + j) * stride;
            r += ref[n + j];
            for (unsigned c = 0; c < mics; c++)
                m += f[c];
        }
        st->ref_hist[st->wpos] = r / (float) dec;
        st->mic_hist[st->wpos] = m * inv;
        if (++st->wpos == st->win)
            st->wpos = 0;
    }
    if (++st->hops >= st->cfg.update_hops) {
        st->hops = 0;
        update(st);
    }
    return st->res.updates != updates;
}

void fe_delay_est_get(const struct fe_delay_est *st, struct fe_delay_est_result *out)
{
    *out = st->res;
}
