/*
 * fe_doa.c - SRP-PHAT direction of arrival with gating and tracking (see
 * fe_doa.h).
 *
 * Why SRP-PHAT. With 4-8 mics a few centimetres apart, the time differences
 * between mics are a few samples at 16 kHz; the phase transform (whitening
 * every cross-spectrum to unit magnitude) turns each pair's cross-correlation
 * into a sharp peak at its time difference that reverberation and the
 * talker's spectrum do not move much, and summing all pairs at the delays a
 * direction implies (steered response power) uses every pair at once and is
 * far more robust in rooms than picking one pair's peak (DiBiase, Silverman
 * and Brandstein, "Robust localization in reverberant rooms", 2001; ODAS and
 * ESP-SR use the same family).
 *
 * How it is computed cheaply. Evaluating the steered response directly costs
 * directions x pairs x bins complex products per hop (360 x 6 x 119 for the
 * sim4 board: 1 M multiply-adds). Instead each pair's PHAT correlation
 * R_p(tau) = sum_k Re(G_p[k] e^{j w_k tau}) is evaluated once on a fine lag
 * grid (1/16 sample by default, only the lags the pair can produce: +-3
 * samples for 64 mm), a matrix-vector product with precomputed cos/sin
 * tables that vectorises well; each direction then reads its pairs' lags
 * with linear interpolation from a precomputed index table. For sim4 that is
 * about 6 x 97 x 119 x 2 = 140 k multiply-adds per hop plus 360 x 6 lookups.
 *
 * Smoothing. The raw cross-power spectra (not the whitened ones) are
 * averaged over hops with a forgetting factor before whitening, so loud
 * frames count more and a 512-sample frame every 10 ms behaves like a
 * ~50 ms observation. Coherence (peak / pairs x bins) is then 1 for a clean
 * plane wave and ~0.1-0.2 for spatially white noise.
 *
 * Tracking. A hop is active when its band energy is snr_gate_db above a
 * noise floor (follows minima at once, rises at floor_rise_db_s) and its
 * coherence passes coh_gate. Active measurements within track_gate_deg pull
 * the track by track_alpha of the (wrapped) error; others feed a candidate
 * whose count rises when it is confirmed and falls when the track is, so
 * short bursts from elsewhere (an interferer's syllable, an early
 * reflection) never move the track but a talker who keeps talking from a
 * new place takes it over after switch_hops net hops (1 s by default: long
 * enough that an equally loud second talker who fills the user's pauses
 * does not steal the track, measured in docs/frontend.md). A track that
 * only a few hops confirmed yields to 5 net hops, so an onset won by a
 * reflection is corrected at once. A locked tracker (harkd: from the wake
 * word to the end of the turn) only refines. In silence nothing moves and
 * the confidence decays.
 */
#include "fe_doa.h"
#include "fe_stft.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PAIRS (HARK_MAX_MICS * (HARK_MAX_MICS - 1) / 2)
#define PHAT_EPS 1e-20f
#define FLOOR_MIN 1e-14f
#define FE_DOA_MIN_SWITCH 5 /* net hops that displace a track confirmed fewer times */

struct fe_doa {
    struct fe_doa_cfg cfg;
    unsigned mics, pairs, bins, k_lo, nk, dirs, nlag, lag0;
    struct fe_stft *ana;
    struct fe_cpx *X;      /* mics * bins */
    struct fe_cpx *S;      /* pairs * nk smoothed cross-spectra */
    float *gre, *gim;      /* nk: whitened cross-spectrum of one pair */
    float *cos_t, *sin_t;  /* nlag * nk */
    float *R;              /* pairs * nlag */
    int *dir_idx;          /* dirs * pairs: lag index (floor) */
    float *dir_frac;       /* dirs * pairs */
    unsigned char *dir_on; /* dirs: searched (linear arrays: half plane) */
    float *map;            /* dirs */
    unsigned char pi[MAX_PAIRS], pj[MAX_PAIRS];
    unsigned plo[MAX_PAIRS], phi[MAX_PAIRS];

    float floor_e, floor_rise, conf_decay;
    unsigned warm, warm_hops; /* hops seen while the first frame fills */
    /* per hop */
    float raw_az, coh, snr_db;
    bool active;
    /* track */
    bool tracking, locked;
    float track_az, conf, cand_az;
    int cand_n, support; /* candidate's net count; track's confirmations (<= switch_hops) */
};

void fe_doa_cfg_default(struct fe_doa_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rate = 16000;
    cfg->hop = 160;
    cfg->frame = 512;
    cfg->f_lo_hz = 300;
    cfg->f_hi_hz = 4000;
    cfg->directions = 360;
    cfg->lag_oversample = 16;
    cfg->smooth = 0.6f;
    cfg->snr_gate_db = 6;
    cfg->floor_rise_db_s = 3;
    cfg->coh_gate = 0.25f;
    cfg->track_gate_deg = 20;
    cfg->track_alpha = 0.1f;
    cfg->switch_hops = 100;
    cfg->conf_decay_s = 2;
    cfg->speed_of_sound = 343;
}

void fe_doa_cfg_from_board(struct fe_doa_cfg *cfg, const struct board_cfg *board)
{
    unsigned need, frame = 2;

    fe_doa_cfg_default(cfg);
    cfg->mic_count = board->mic_count > HARK_MAX_MICS ? HARK_MAX_MICS : board->mic_count;
    memcpy(cfg->mic_pos_mm, board->mic_pos_mm, sizeof(cfg->mic_pos_mm));
    cfg->rate = board->capture.rate;
    cfg->hop = board->capture.rate / 100;
    need = board->capture.rate * 3 / 100;
    while (frame < need)
        frame *= 2;
    cfg->frame = frame;
}

static float wrap180(float d)
{
    while (d > 180)
        d -= 360;
    while (d <= -180)
        d += 360;
    return d;
}

static float wrap360(float a)
{
    while (a >= 360)
        a -= 360;
    while (a < 0)
        a += 360;
    return a;
}

/* Geometry checks: not all at one point; linear -> axis angle in *axis_deg. */
static int geometry(const struct fe_doa_cfg *cfg, bool *linear, double *axis_deg)
{
    double cx = 0, cy = 0, sxx = 0, syy = 0, sxy = 0, tr, det, l1, l2, ax, ay;
    unsigned m, n = cfg->mic_count;

    for (m = 0; m < n; m++) {
        cx += cfg->mic_pos_mm[m][0] / n;
        cy += cfg->mic_pos_mm[m][1] / n;
    }
    for (m = 0; m < n; m++) {
        double x = cfg->mic_pos_mm[m][0] - cx, y = cfg->mic_pos_mm[m][1] - cy;
        sxx += x * x;
        syy += y * y;
        sxy += x * y;
    }
    tr = sxx + syy;
    det = sxx * syy - sxy * sxy;
    l1 = tr / 2 + sqrt(fmax(tr * tr / 4 - det, 0));
    l2 = tr / 2 - sqrt(fmax(tr * tr / 4 - det, 0));
    if (!(l1 > 1e-6)) /* (1e-3 mm)^2: all mics at one point */
        return -EINVAL;
    *linear = l2 < 1e-6 * l1;
    ax = cfg->mic_pos_mm[n - 1][0] - cfg->mic_pos_mm[0][0];
    ay = cfg->mic_pos_mm[n - 1][1] - cfg->mic_pos_mm[0][1];
    *axis_deg = atan2(ay, ax) * 180 / M_PI;
    return 0;
}

static bool cfg_ok(const struct fe_doa_cfg *c)
{
    return c && c->mic_count >= 2 && c->mic_count <= HARK_MAX_MICS && c->rate >= 4000 && c->rate <= 192000 &&
           c->hop > 0 && c->frame >= c->hop && c->frame % 2 == 0 && c->frame <= FE_STFT_MAX_FRAME &&
           c->f_lo_hz >= 0 && c->f_hi_hz > c->f_lo_hz && c->f_hi_hz <= c->rate / 2.0f && c->directions >= 8 &&
           c->directions <= FE_DOA_MAX_DIRECTIONS && c->lag_oversample >= 1 && c->lag_oversample <= 64 &&
           c->smooth >= 0 && c->smooth <= 0.99f && c->coh_gate >= 0 && c->coh_gate <= 1 &&
           c->floor_rise_db_s >= 0 && c->track_gate_deg > 0 && c->track_gate_deg < 180 &&
           c->track_alpha > 0 && c->track_alpha <= 1 && c->conf_decay_s > 0 && c->speed_of_sound > 100;
}

static double pair_dist_samples(const struct fe_doa_cfg *c, unsigned i, unsigned j)
{
    double dx = c->mic_pos_mm[i][0] - c->mic_pos_mm[j][0], dy = c->mic_pos_mm[i][1] - c->mic_pos_mm[j][1];

    return sqrt(dx * dx + dy * dy) * 1e-3 / c->speed_of_sound * c->rate;
}

struct doa_dims {
    unsigned mics, pairs, bins, k_lo, nk, dirs, nlag, lag0;
};

static int dims_of(const struct fe_doa_cfg *c, struct doa_dims *d)
{
    double maxd = 0;
    unsigned k_hi;

    d->mics = c->mic_count;
    d->pairs = d->mics * (d->mics - 1) / 2;
    d->bins = fe_stft_bins(c->frame);
    d->k_lo = (unsigned) ceil(c->f_lo_hz * c->frame / c->rate);
    if (d->k_lo < 1)
        d->k_lo = 1;
    k_hi = (unsigned) floor(c->f_hi_hz * c->frame / c->rate);
    if (k_hi > d->bins - 1)
        k_hi = d->bins - 1;
    if (k_hi < d->k_lo)
        return -EINVAL;
    d->nk = k_hi - d->k_lo + 1;
    d->dirs = c->directions;
    for (unsigned i = 0; i < d->mics; i++)
        for (unsigned j = i + 1; j < d->mics; j++)
            maxd = fmax(maxd, pair_dist_samples(c, i, j));
    d->lag0 = (unsigned) ceil(maxd * c->lag_oversample) + 2;
    d->nlag = 2 * d->lag0 + 1;
    return 0;
}

static int carve(struct fe_arena *a, const struct fe_doa_cfg *c, struct fe_doa **ret)
{
    struct doa_dims d;
    struct fe_stft_cfg sc = {
        .frame = c->frame, .hop = c->hop, .channels = c->mic_count, .window = FE_WIN_HANN};
    size_t ana_size = fe_stft_get_size(&sc);
    struct fe_doa *st;
    void *ana_mem;
    int r;

    if (dims_of(c, &d) < 0 || !ana_size)
        return -EINVAL;
    st = fe_arena_take(a, sizeof(*st));
    ana_mem = fe_arena_take(a, ana_size);
#define TAKE(field, n) void *field##_m = fe_arena_take(a, (size_t) (n) * sizeof(*st->field))
    TAKE(X, d.mics * d.bins);
    TAKE(S, d.pairs * d.nk);
    TAKE(gre, d.nk);
    TAKE(gim, d.nk);
    TAKE(cos_t, d.nlag * d.nk);
    TAKE(sin_t, d.nlag * d.nk);
    TAKE(R, d.pairs * d.nlag);
    TAKE(dir_idx, d.dirs * d.pairs);
    TAKE(dir_frac, d.dirs * d.pairs);
    TAKE(dir_on, d.dirs);
    TAKE(map, d.dirs);
#undef TAKE
    if (!a->base)
        return 0;
    if (!st || !ana_mem || !X_m || !S_m || !gre_m || !gim_m || !cos_t_m || !sin_t_m || !R_m || !dir_idx_m ||
        !dir_frac_m || !dir_on_m || !map_m)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->cfg = *c;
    st->mics = d.mics;
    st->pairs = d.pairs;
    st->bins = d.bins;
    st->k_lo = d.k_lo;
    st->nk = d.nk;
    st->dirs = d.dirs;
    st->nlag = d.nlag;
    st->lag0 = d.lag0;
    r = fe_stft_init(&st->ana, ana_mem, ana_size, &sc);
    if (r < 0)
        return r;
    st->X = X_m;
    st->S = S_m;
    st->gre = gre_m;
    st->gim = gim_m;
    st->cos_t = cos_t_m;
    st->sin_t = sin_t_m;
    st->R = R_m;
    st->dir_idx = dir_idx_m;
    st->dir_frac = dir_frac_m;
    st->dir_on = dir_on_m;
    st->map = map_m;
    *ret = st;
    return 0;
}

/* Tables that depend only on the cfg. */
static int fill_tables(struct fe_doa *st)
{
    const struct fe_doa_cfg *c = &st->cfg;
    unsigned p = 0, os = c->lag_oversample;
    bool linear;
    double axis;
    int r = geometry(c, &linear, &axis);

    if (r < 0)
        return r;
    for (unsigned i = 0; i < st->mics; i++)
        for (unsigned j = i + 1; j < st->mics; j++, p++) {
            unsigned span = (unsigned) ceil(pair_dist_samples(c, i, j) * os) + 1;
            st->pi[p] = (unsigned char) i;
            st->pj[p] = (unsigned char) j;
            st->plo[p] = st->lag0 - span;
            st->phi[p] = st->lag0 + span;
        }
    for (unsigned l = 0; l < st->nlag; l++) {
        double tau = ((double) l - st->lag0) / os;
        for (unsigned k = 0; k < st->nk; k++) {
            double w = 2 * M_PI * (st->k_lo + k) / c->frame;
            st->cos_t[(size_t) l * st->nk + k] = (float) cos(w * tau);
            st->sin_t[(size_t) l * st->nk + k] = (float) sin(w * tau);
        }
    }
    /*
     * A plane wave from unit direction u reaches mic m p_m.u / c before the
     * origin, so X_m = S e^{+j w p_m.u/c} and the cross-spectrum
     * X_i X_j^* = |S|^2 e^{-j w tau_ij} with tau_ij = (p_j - p_i).u / c
     * (samples): R_ij peaks at that lag.
     */
    for (unsigned dd = 0; dd < st->dirs; dd++) {
        double az = 360.0 * dd / st->dirs, ux = cos(az * M_PI / 180), uy = sin(az * M_PI / 180);
        st->dir_on[dd] = !linear || sin((az - axis) * M_PI / 180) >= -1e-9;
        for (p = 0; p < st->pairs; p++) {
            unsigned i = st->pi[p], j = st->pj[p];
            double dx = c->mic_pos_mm[j][0] - c->mic_pos_mm[i][0],
                   dy = c->mic_pos_mm[j][1] - c->mic_pos_mm[i][1];
            double tau = (dx * ux + dy * uy) * 1e-3 / c->speed_of_sound * c->rate;
            double u = tau * os + st->lag0, fl = floor(u);
            st->dir_idx[dd * st->pairs + p] = (int) fl;
            st->dir_frac[dd * st->pairs + p] = (float) (u - fl);
        }
    }
    st->floor_rise = powf(10.0f, c->floor_rise_db_s * c->hop / c->rate / 10.0f);
    st->conf_decay = expf(-(float) c->hop / (c->rate * c->conf_decay_s));
    st->warm_hops = (c->frame + c->hop - 1) / c->hop;
    return 0;
}

size_t fe_doa_get_size(const struct fe_doa_cfg *cfg)
{
    struct fe_arena a;

    if (!cfg_ok(cfg))
        return 0;
    fe_arena_start(&a, NULL, 0);
    if (carve(&a, cfg, NULL) < 0)
        return 0;
    return fe_arena_total(&a);
}

int fe_doa_init(struct fe_doa **ret, void *mem, size_t size, const struct fe_doa_cfg *cfg)
{
    struct fe_arena a;
    struct fe_doa *st = NULL;
    int r;

    if (!ret || !mem || !cfg_ok(cfg))
        return -EINVAL;
    fe_arena_start(&a, mem, size);
    if (!a.base)
        return -EINVAL;
    r = carve(&a, cfg, &st);
    if (r < 0)
        return r;
    r = fill_tables(st);
    if (r < 0)
        return r;
    fe_doa_reset(st);
    *ret = st;
    return 0;
}

struct fe_doa *fe_doa_create(const struct fe_doa_cfg *cfg)
{
    size_t size = fe_doa_get_size(cfg);
    struct fe_doa *st = NULL;
    void *mem;

    if (!size || posix_memalign(&mem, FE_ALIGN, size))
        return NULL;
    if (fe_doa_init(&st, mem, size, cfg) < 0) {
        free(mem);
        return NULL;
    }
    return st;
}

void fe_doa_destroy(struct fe_doa *st)
{
    free(st);
}

void fe_doa_reset(struct fe_doa *st)
{
    fe_stft_reset(st->ana);
    memset(st->S, 0, (size_t) st->pairs * st->nk * sizeof(*st->S));
    memset(st->map, 0, st->dirs * sizeof(float));
    st->warm = 0;
    st->floor_e = 0;
    st->raw_az = st->coh = st->snr_db = 0;
    st->active = st->tracking = st->locked = false;
    st->track_az = st->conf = st->cand_az = 0;
    st->cand_n = st->support = 0;
}

/* Band energy (mean over mics) of this hop's spectra. */
static float band_energy(const struct fe_doa *st)
{
    float e = 0;

    for (unsigned m = 0; m < st->mics; m++) {
        const struct fe_cpx *x = st->X + (size_t) m * st->bins + st->k_lo;
        for (unsigned k = 0; k < st->nk; k++)
            e += x[k].re * x[k].re + x[k].im * x[k].im;
    }
    return e / st->mics;
}

/* Smooth pair p's cross-spectrum, whiten it, evaluate R_p on its lags. */
static void pair_gcc(struct fe_doa *st, unsigned p)
{
    const unsigned nk = st->nk;
    const float a = st->cfg.smooth, b = 1 - a;
    const struct fe_cpx *restrict xi = st->X + (size_t) st->pi[p] * st->bins + st->k_lo;
    const struct fe_cpx *restrict xj = st->X + (size_t) st->pj[p] * st->bins + st->k_lo;
    struct fe_cpx *restrict s = st->S + (size_t) p * nk;
    float *restrict gre = st->gre, *restrict gim = st->gim;
    float *restrict R = st->R + (size_t) p * st->nlag;

    for (unsigned k = 0; k < nk; k++) {
        float cr = xi[k].re * xj[k].re + xi[k].im * xj[k].im;
        float ci = xi[k].im * xj[k].re - xi[k].re * xj[k].im;
        float sr = a * s[k].re + b * cr, si = a * s[k].im + b * ci;
        float inv = 1.0f / (sqrtf(sr * sr + si * si) + PHAT_EPS);
        s[k].re = sr;
        s[k].im = si;
        gre[k] = sr * inv;
        gim[k] = si * inv;
    }
    for (unsigned l = st->plo[p]; l <= st->phi[p]; l++) {
        const float *restrict ct = st->cos_t + (size_t) l * nk, *restrict snt = st->sin_t + (size_t) l * nk;
        float acc = 0;
        for (unsigned k = 0; k < nk; k++)
            acc += gre[k] * ct[k] - gim[k] * snt[k];
        R[l] = acc;
    }
}

static void track(struct fe_doa *st)
{
    const struct fe_doa_cfg *c = &st->cfg;
    int need;
    float d;

    if (!st->active) {
        st->conf *= st->conf_decay;
        return;
    }
    if (!st->tracking) {
        st->tracking = true;
        st->track_az = st->raw_az;
        st->conf = st->coh;
        st->support = 1;
        st->cand_n = 0;
        return;
    }
    d = wrap180(st->raw_az - st->track_az);
    if (fabsf(d) <= c->track_gate_deg) {
        st->track_az = wrap360(st->track_az + c->track_alpha * d);
        st->conf += 0.1f * (st->coh - st->conf);
        if (st->support < (int) c->switch_hops)
            st->support++;
        if (st->cand_n > 0)
            st->cand_n--;
        return;
    }
    st->conf *= st->conf_decay;
    if (st->cand_n > 0 && fabsf(wrap180(st->raw_az - st->cand_az)) <= c->track_gate_deg) {
        st->cand_az = wrap360(st->cand_az + 0.2f * wrap180(st->raw_az - st->cand_az));
        st->cand_n++;
    } else if (st->cand_n > 0) {
        st->cand_n--; /* an outlier elsewhere weakens the candidate, never replaces it */
        return;
    } else {
        st->cand_az = st->raw_az;
        st->cand_n = 1;
    }
    /* A young track (an onset, a reflection that won the first hop) yields
     * quickly; an established one only after switch_hops net hops. */
    need = st->support < FE_DOA_MIN_SWITCH ? FE_DOA_MIN_SWITCH : st->support;
    if (st->cand_n >= need && !st->locked) {
        st->track_az = st->cand_az;
        st->conf = st->coh;
        st->support = st->cand_n < (int) c->switch_hops ? st->cand_n : (int) c->switch_hops;
        st->cand_n = 0;
    }
}

void fe_doa_process(struct fe_doa *st, const float *hop, unsigned stride)
{
    const unsigned P = st->pairs;
    float e, best = -1e30f;
    unsigned arg = 0;

    fe_stft_analyze(st->ana, hop, stride, st->X);
    e = band_energy(st);
    if (e < FLOOR_MIN)
        e = FLOOR_MIN;
    if (st->warm < st->warm_hops) {
        /* The first frames are partly zero history: their energy would pin
         * the floor too low. Start the floor at the first full frame. */
        if (++st->warm == st->warm_hops)
            st->floor_e = e;
    } else if (e < st->floor_e) {
        st->floor_e = e;
    } else {
        st->floor_e *= st->floor_rise;
    }
    st->snr_db = st->warm < st->warm_hops ? 0 : 10.0f * log10f(e / st->floor_e);

    for (unsigned p = 0; p < P; p++)
        pair_gcc(st, p);
    for (unsigned d = 0; d < st->dirs; d++) {
        const int *idx = st->dir_idx + (size_t) d * P;
        const float *fr = st->dir_frac + (size_t) d * P;
        float v = 0;
        if (!st->dir_on[d]) {
            st->map[d] = 0;
            continue;
        }
        for (unsigned p = 0; p < P; p++) {
            const float *R = st->R + (size_t) p * st->nlag;
            v += R[idx[p]] + fr[p] * (R[idx[p] + 1] - R[idx[p]]);
        }
        v /= (float) (P * st->nk);
        st->map[d] = v;
        if (v > best) {
            best = v;
            arg = d;
        }
    }
    /* Parabolic refinement between the grid neighbours. */
    {
        unsigned dm = (arg + st->dirs - 1) % st->dirs, dp = (arg + 1) % st->dirs;
        float ym = st->dir_on[dm] ? st->map[dm] : best, yp = st->dir_on[dp] ? st->map[dp] : best;
        float den = ym - 2 * best + yp, off = 0;
        if (den < 0)
            off = 0.5f * (ym - yp) / den;
        if (off > 0.5f)
            off = 0.5f;
        if (off < -0.5f)
            off = -0.5f;
        st->raw_az = wrap360((arg + off) * 360.0f / st->dirs);
    }
    st->coh = best > 0 ? best : 0;
    st->active = st->snr_db >= st->cfg.snr_gate_db && st->coh >= st->cfg.coh_gate;
    track(st);
}

void fe_doa_set_lock(struct fe_doa *st, bool locked)
{
    /* Evidence gathered while locked does not count after unlocking. */
    if (st->locked && !locked)
        st->cand_n = 0;
    st->locked = locked;
}

void fe_doa_get(const struct fe_doa *st, float *azimuth_deg, float *confidence, bool *active)
{
    if (azimuth_deg)
        *azimuth_deg = st->track_az;
    if (confidence)
        *confidence = st->tracking ? fminf(fmaxf(st->conf, 0), 1) : 0;
    if (active)
        *active = st->active;
}

void fe_doa_get_info(const struct fe_doa *st, struct fe_doa_info *out)
{
    fe_doa_get(st, &out->azimuth_deg, &out->confidence, &out->active);
    out->tracking = st->tracking;
    out->raw_azimuth_deg = st->raw_az;
    out->coherence = st->coh;
    out->snr_db = st->snr_db;
    out->target_absent =
        !st->active || !st->tracking || fabsf(wrap180(st->raw_az - st->track_az)) > st->cfg.track_gate_deg;
}

const float *fe_doa_map(const struct fe_doa *st, unsigned *directions)
{
    if (directions)
        *directions = st->dirs;
    return st->map;
}
