/*
 * fe_beamformer.c - fixed delay-and-sum / superdirective beamformer on a
 * WOLA STFT (see fe_beamformer.h).
 *
 * Why superdirective. The sim4 array is 64 mm across. Below ~1.5 kHz the
 * wavelength (> 23 cm) dwarfs it, so delay-and-sum, which only aligns and
 * averages, is nearly omnidirectional there: its gain against diffuse or
 * off-axis sound is close to 0 dB where most speech energy lies. The
 * superdirective beamformer is the MVDR beamformer for a diffuse noise
 * field: it minimises the output power of an isotropic field (coherence
 * sin(x)/x between mics) subject to a distortionless response towards the
 * look direction, exploiting the differences between mics that delay-and-sum
 * averages away (Cox, Zeskind and Kooij, "Robust adaptive beamforming",
 * IEEE TASSP 1987; Bitzer and Simmer, "Superdirective microphone arrays",
 * in Microphone Arrays, Springer 2001). Its price is white-noise gain:
 * unconstrained, the low-frequency weights are huge, so mic self-noise and
 * mismatch between mics are amplified enormously. The classic remedy is a
 * white-noise-gain constraint implemented by diagonal loading: per bin the
 * loading mu grows (bisection on log mu) until 1 / |w|^2 >= wng_min_db.
 * The coherence matrix is diagonalised once per bin (Jacobi), which makes
 * each trial mu O(M) instead of a matrix solve.
 * At mu -> infinity the weights become delay-and-sum, so the constraint
 * trades directivity against robustness continuously.
 *
 * Why fixed weights (not an adaptive MVDR / GSC). The weights depend only on
 * geometry and steering, so they are computed once per grid direction at
 * create time, process() is one complex multiply-add per mic and bin, the
 * talker can never be cancelled by adaptation on its own reverberation, and
 * the same weights can be applied to the talker and the interferer
 * separately to measure the gain exactly (tools/hark-fe-doa-eval.c).
 *
 * Framing. sqrt-Hann analysis and synthesis (their product, Hann, adds to a
 * constant at 50 % and 75 % overlap). The weights are short filters in time
 * (they vary smoothly across bins), so the circular wrap of applying them
 * per frame stays well under the window's taper at frame = 2 hops; 4 hops
 * buys finer frequency resolution for 20 ms more latency (measured in
 * docs/frontend.md). When the steering changes, the new weights start at
 * the next frame and the overlap-add cross-fades from the old beam over one
 * frame, with no click.
 *
 * Memory: weights directions x mics x bins complex floats, stored mic-major
 * per direction (w[d][m][k], already conjugated) so the per-bin loop runs
 * over contiguous arrays: 72 x 4 x 161 x 8 bytes = 371 KB for sim4 at the
 * defaults.
 */
#include "fe_beamformer.h"
#include "fe_stft.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_MAX 1e4
#define LOAD_ITERS 40
#define MVDR_RESET_DEG 30.0  /* a steering jump this large restarts the noise statistics */
#define MVDR_PRIOR 1e-8      /* prior noise power per bin and unit frame length: ~-80 dBFS diffuse */
#define MVDR_PRIOR_LOAD 0.05 /* prior = MVDR_PRIOR * frame * (G + 0.05 I) */
#define FE_BF_SOLVE_HOPS 4   /* MVDR solve every 4th covariance update (40 ms at a 10 ms hop) */

struct fe_bf {
    struct fe_bf_cfg cfg;
    unsigned mics, bins, dirs, cur, adapted_dir;
    bool update, dirty;
    unsigned stale;      /* MVDR: covariance updates since the last solve */
    float alpha; /* MVDR: covariance forgetting factor per hop */
    struct fe_stft *ana;
    struct fe_istft *syn;
    struct fe_cpx *X; /* mics * bins */
    struct fe_cpx *Y; /* bins */
    struct fe_cpx *W; /* dirs * mics * bins, conj(w): the fixed design (MVDR: superdirective) */
    /* MVDR only (NULL otherwise) */
    struct fe_cpx *D;          /* dirs * mics * bins: steering vectors d (not conjugated) */
    struct fe_cpx *Wcur;       /* mics * bins: this hop's conj(w) */
    struct fe_cpx *P;          /* bins * mics * mics: noise covariance estimate */
    float *P0;                 /* bins * mics * mics: its diffuse prior (real) */
    const struct fe_cpx *wuse; /* weights the last hop used (mics * bins) */
};

void fe_bf_cfg_default(struct fe_bf_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->rate = 16000;
    cfg->hop = 160;
    cfg->frame = 320;
    cfg->mode = FE_BF_MVDR;
    cfg->directions = 72;
    cfg->wng_min_db = -10;
    cfg->loading_min = 1e-3f;
    cfg->mvdr_tau_s = 0.5f;
    cfg->mvdr_loading = 0.01f;
    cfg->speed_of_sound = 343;
}

void fe_bf_cfg_from_board(struct fe_bf_cfg *cfg, const struct board_cfg *board)
{
    fe_bf_cfg_default(cfg);
    cfg->mic_count = board->mic_count > HARK_MAX_MICS ? HARK_MAX_MICS : board->mic_count;
    memcpy(cfg->mic_pos_mm, board->mic_pos_mm, sizeof(cfg->mic_pos_mm));
    cfg->rate = board->capture.rate;
    cfg->hop = board->capture.rate / 100;
    cfg->frame = 2 * cfg->hop;
}

static bool cfg_ok(const struct fe_bf_cfg *c)
{
    return c && c->mic_count >= 1 && c->mic_count <= HARK_MAX_MICS && c->rate >= 4000 && c->rate <= 192000 &&
           c->hop > 0 && (c->frame == 2 * c->hop || c->frame == 4 * c->hop) && c->frame % 2 == 0 &&
           c->frame <= FE_STFT_MAX_FRAME &&
           (c->mode == FE_BF_DELAY_SUM || c->mode == FE_BF_SUPERDIRECTIVE || c->mode == FE_BF_MVDR) &&
           c->directions >= 1 && c->directions <= FE_BF_MAX_DIRECTIONS && c->wng_min_db <= 30 &&
           c->loading_min >= 0 && c->speed_of_sound > 100 &&
           (c->mode != FE_BF_MVDR || (c->mvdr_tau_s > 0 && c->mvdr_loading >= 0 && c->mvdr_loading <= 10));
}

static int carve(struct fe_arena *a, const struct fe_bf_cfg *c, struct fe_bf **ret)
{
    struct fe_stft_cfg sc = {
        .frame = c->frame, .hop = c->hop, .channels = c->mic_count, .window = FE_WIN_SQRT_HANN};
    struct fe_stft_cfg yc = {.frame = c->frame, .hop = c->hop, .channels = 1, .window = FE_WIN_SQRT_HANN};
    size_t ana_size = fe_stft_get_size(&sc), syn_size = fe_istft_get_size(&yc);
    unsigned bins = fe_stft_bins(c->frame);
    struct fe_bf *st = fe_arena_take(a, sizeof(*st));
    void *ana_mem = fe_arena_take(a, ana_size);
    void *syn_mem = fe_arena_take(a, syn_size);
    struct fe_cpx *X = fe_arena_take(a, (size_t) c->mic_count * bins * sizeof(*X));
    struct fe_cpx *Y = fe_arena_take(a, bins * sizeof(*Y));
    struct fe_cpx *W = fe_arena_take(a, (size_t) c->directions * c->mic_count * bins * sizeof(*W));
    const bool mvdr = c->mode == FE_BF_MVDR;
    const size_t mm = (size_t) c->mic_count * c->mic_count;
    struct fe_cpx *D =
        mvdr ? fe_arena_take(a, (size_t) c->directions * c->mic_count * bins * sizeof(*D)) : NULL;
    struct fe_cpx *Wcur = mvdr ? fe_arena_take(a, (size_t) c->mic_count * bins * sizeof(*Wcur)) : NULL;
    struct fe_cpx *P = mvdr ? fe_arena_take(a, bins * mm * sizeof(*P)) : NULL;
    float *P0 = mvdr ? fe_arena_take(a, bins * mm * sizeof(*P0)) : NULL;
    int r;

    if (!ana_size || !syn_size)
        return -EINVAL;
    if (!a->base)
        return 0;
    if (!st || !ana_mem || !syn_mem || !X || !Y || !W || (mvdr && (!D || !Wcur || !P || !P0)))
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->cfg = *c;
    st->mics = c->mic_count;
    st->bins = bins;
    st->dirs = c->directions;
    r = fe_stft_init(&st->ana, ana_mem, ana_size, &sc);
    if (r < 0)
        return r;
    r = fe_istft_init(&st->syn, syn_mem, syn_size, &yc, FE_WIN_SQRT_HANN);
    if (r < 0)
        return r;
    st->X = X;
    st->Y = Y;
    st->W = W;
    st->D = D;
    st->Wcur = Wcur;
    st->P = P;
    st->P0 = P0;
    st->alpha = expf(-(float) c->hop / (c->rate * (mvdr ? c->mvdr_tau_s : 1.0f)));
    *ret = st;
    return 0;
}

/*
 * Eigen-decomposition of a real symmetric n x n matrix A (row-major,
 * destroyed) by cyclic Jacobi rotations: A = V diag(lambda) V^T, V's
 * columns the eigenvectors. Create-time only; n <= HARK_MAX_MICS.
 */
static void jacobi_eig(double *A, unsigned n, double *lambda, double *V)
{
    for (unsigned i = 0; i < n; i++)
        for (unsigned j = 0; j < n; j++)
            V[i * n + j] = i == j;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = 0, tot = 0;
        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                tot += A[i * n + j] * A[i * n + j];
                if (i != j)
                    off += A[i * n + j] * A[i * n + j];
            }
        if (off <= 1e-30 * tot)
            break;
        for (unsigned p = 0; p < n; p++)
            for (unsigned q = p + 1; q < n; q++) {
                double apq = A[p * n + q], th, t, c, sn;
                if (fabs(apq) < 1e-300)
                    continue;
                th = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                c = 1 / sqrt(t * t + 1);
                sn = t * c;
                for (unsigned k = 0; k < n; k++) { /* A <- A J */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - sn * akq;
                    A[k * n + q] = sn * akp + c * akq;
                }
                for (unsigned k = 0; k < n; k++) { /* A <- J^T A */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - sn * aqk;
                    A[q * n + k] = sn * apk + c * aqk;
                }
                for (unsigned k = 0; k < n; k++) { /* V <- V J */
                    double vkp = V[k * n + p], vkq = V[k * n + q];
                    V[k * n + p] = c * vkp - sn * vkq;
                    V[k * n + q] = sn * vkp + c * vkq;
                }
            }
    }
    for (unsigned i = 0; i < n; i++)
        lambda[i] = A[i * n + i] > 0 ? A[i * n + i] : 0; /* G is PSD; clip rounding */
}

/*
 * In G's eigenbasis (c = V^T d), (G + mu I)^-1 d = V diag(1 / (lambda + mu)) c,
 * so the MVDR white-noise gain is a cheap function of mu:
 *   den = sum |c_i|^2 / (lambda_i + mu),  |w|^2 = sum |c_i|^2 / (lambda_i + mu)^2 / den^2.
 */
static double wng_at(const double *lambda, const double *c2, unsigned n, double mu)
{
    double den = 0, num = 0;

    for (unsigned i = 0; i < n; i++) {
        den += c2[i] / (lambda[i] + mu);
        num += c2[i] / ((lambda[i] + mu) * (lambda[i] + mu));
    }
    return den * den / num;
}

static void steering(const struct fe_bf_cfg *c, double az_deg, double w, double *dre, double *dim)
{
    double ux = cos(az_deg * M_PI / 180), uy = sin(az_deg * M_PI / 180);

    for (unsigned m = 0; m < c->mic_count; m++) {
        /* advance of mic m over the origin, seconds */
        double adv = (c->mic_pos_mm[m][0] * ux + c->mic_pos_mm[m][1] * uy) * 1e-3 / c->speed_of_sound;
        dre[m] = cos(w * adv);
        dim[m] = sin(w * adv);
    }
}

static void design(struct fe_bf *st)
{
    const struct fe_bf_cfg *c = &st->cfg;
    const unsigned n = st->mics;
    const double wng_min = pow(10.0, c->wng_min_db / 10.0);

    for (unsigned k = 0; k < st->bins; k++) {
        double w = 2 * M_PI * k * (double) c->rate / c->frame; /* rad/s */
        double G[HARK_MAX_MICS * HARK_MAX_MICS], V[HARK_MAX_MICS * HARK_MAX_MICS], lambda[HARK_MAX_MICS];

        for (unsigned i = 0; i < n; i++)
            for (unsigned j = 0; j < n; j++) {
                double dx = c->mic_pos_mm[i][0] - c->mic_pos_mm[j][0];
                double dy = c->mic_pos_mm[i][1] - c->mic_pos_mm[j][1];
                double x = w * sqrt(dx * dx + dy * dy) * 1e-3 / c->speed_of_sound;
                G[i * n + j] = x < 1e-9 ? 1.0 : sin(x) / x;
            }
        if (st->P0)
            for (unsigned i = 0; i < n * n; i++)
                st->P0[(size_t) k * n * n + i] =
                    (float) (MVDR_PRIOR * c->frame * (G[i] + (i % (n + 1) == 0 ? MVDR_PRIOR_LOAD : 0)));
        jacobi_eig(G, n, lambda, V);
        for (unsigned d = 0; d < st->dirs; d++) {
            double dre[HARK_MAX_MICS], dim[HARK_MAX_MICS], wre[HARK_MAX_MICS], wim[HARK_MAX_MICS];
            double cre[HARK_MAX_MICS], cim[HARK_MAX_MICS], c2[HARK_MAX_MICS], mu = c->loading_min, den = 0;
            struct fe_cpx *W = st->W + (size_t) d * n * st->bins;

            steering(c, 360.0 * d / st->dirs, w, dre, dim);
            if (st->D)
                for (unsigned m = 0; m < n; m++) {
                    st->D[(size_t) d * n * st->bins + (size_t) m * st->bins + k].re = (float) dre[m];
                    st->D[(size_t) d * n * st->bins + (size_t) m * st->bins + k].im = (float) dim[m];
                }
            if (c->mode == FE_BF_DELAY_SUM || n == 1) {
                for (unsigned m = 0; m < n; m++) {
                    wre[m] = dre[m] / n;
                    wim[m] = dim[m] / n;
                }
            } else {
                for (unsigned i = 0; i < n; i++) {
                    cre[i] = cim[i] = 0;
                    for (unsigned m = 0; m < n; m++) {
                        cre[i] += V[m * n + i] * dre[m];
                        cim[i] += V[m * n + i] * dim[m];
                    }
                    c2[i] = cre[i] * cre[i] + cim[i] * cim[i];
                }
                if (mu < 1e-9)
                    mu = 1e-9;
                if (wng_at(lambda, c2, n, mu) < wng_min) {
                    /* WNG rises with mu (to M at infinity): bisect log mu for
                     * the smallest feasible loading. */
                    double llo = log(mu), lhi = log(LOAD_MAX);
                    for (int it = 0; it < LOAD_ITERS; it++) {
                        double mid = 0.5 * (llo + lhi);
                        if (wng_at(lambda, c2, n, exp(mid)) >= wng_min)
                            lhi = mid;
                        else
                            llo = mid;
                    }
                    mu = exp(lhi);
                }
                /* w = V diag(1 / (lambda + mu)) c / den, den = sum |c_i|^2 / (lambda_i + mu) */
                for (unsigned i = 0; i < n; i++) {
                    den += c2[i] / (lambda[i] + mu);
                    cre[i] /= lambda[i] + mu;
                    cim[i] /= lambda[i] + mu;
                }
                for (unsigned m = 0; m < n; m++) {
                    wre[m] = wim[m] = 0;
                    for (unsigned i = 0; i < n; i++) {
                        wre[m] += V[m * n + i] * cre[i];
                        wim[m] += V[m * n + i] * cim[i];
                    }
                    wre[m] /= den;
                    wim[m] /= den;
                }
            }
            for (unsigned m = 0; m < n; m++) {
                W[(size_t) m * st->bins + k].re = (float) wre[m];
                W[(size_t) m * st->bins + k].im = (float) -wim[m]; /* conj */
            }
        }
    }
}

size_t fe_bf_get_size(const struct fe_bf_cfg *cfg)
{
    struct fe_arena a;

    if (!cfg_ok(cfg))
        return 0;
    fe_arena_start(&a, NULL, 0);
    if (carve(&a, cfg, NULL) < 0)
        return 0;
    return fe_arena_total(&a);
}

int fe_bf_init(struct fe_bf **ret, void *mem, size_t size, const struct fe_bf_cfg *cfg)
{
    struct fe_arena a;
    struct fe_bf *st = NULL;
    int r;

    if (!ret || !mem || !cfg_ok(cfg))
        return -EINVAL;
    fe_arena_start(&a, mem, size);
    if (!a.base)
        return -EINVAL;
    r = carve(&a, cfg, &st);
    if (r < 0)
        return r;
    design(st);
    st->cur = 0;
    st->wuse = st->W;
    fe_bf_reset(st);
    *ret = st;
    return 0;
}

struct fe_bf *fe_bf_create(const struct fe_bf_cfg *cfg)
{
    size_t size = fe_bf_get_size(cfg);
    struct fe_bf *st = NULL;
    void *mem;

    if (!size || posix_memalign(&mem, FE_ALIGN, size))
        return NULL;
    if (fe_bf_init(&st, mem, size, cfg) < 0) {
        free(mem);
        return NULL;
    }
    return st;
}

void fe_bf_destroy(struct fe_bf *st)
{
    free(st);
}

static void mvdr_restart(struct fe_bf *st)
{
    const size_t mm = (size_t) st->mics * st->mics;

    for (size_t i = 0; i < st->bins * mm; i++) {
        st->P[i].re = st->P0[i];
        st->P[i].im = 0;
    }
    st->adapted_dir = st->cur;
    st->dirty = true;
}

void fe_bf_reset(struct fe_bf *st)
{
    fe_stft_reset(st->ana);
    fe_istft_reset(st->syn);
    st->update = false;
    if (st->P)
        mvdr_restart(st);
}

static unsigned dir_index(const struct fe_bf *st, float az)
{
    double a = fmod((double) az, 360.0);
    long i;

    if (a < 0)
        a += 360.0;
    if (!(a >= 0 && a < 360)) /* NaN */
        a = 0;
    i = lround(a * st->dirs / 360.0);
    return (unsigned) (i % (long) st->dirs);
}

float fe_bf_set_azimuth(struct fe_bf *st, float azimuth_deg)
{
    unsigned d = dir_index(st, azimuth_deg);

    if (d != st->cur && st->P) {
        double jump = fabs(360.0 * ((double) d - st->adapted_dir) / st->dirs);
        if (jump > 180)
            jump = 360 - jump;
        /* The old statistics may hold the new talker: start again from the
         * diffuse prior rather than cancel him. */
        st->cur = d;
        if (jump > MVDR_RESET_DEG)
            mvdr_restart(st);
        st->dirty = true;
    }
    st->cur = d;
    return 360.0f * st->cur / st->dirs;
}

void fe_bf_set_noise_update(struct fe_bf *st, bool interference_only)
{
    st->update = interference_only;
}

/* MVDR covariance, per bin k, on interference-only hops:
 *   P_k <- alpha P_k + (1 - alpha) x x^H */
static void mvdr_cov_update(struct fe_bf *st)
{
    const unsigned n = st->mics, bins = st->bins;
    const float a = st->alpha, b = 1 - a;

    for (unsigned k = 0; k < bins; k++) {
        struct fe_cpx *P = st->P + (size_t) k * n * n;
        for (unsigned i = 0; i < n; i++) {
            const struct fe_cpx xi = st->X[(size_t) i * bins + k];
            for (unsigned j = 0; j < n; j++) {
                const struct fe_cpx xj = st->X[(size_t) j * bins + k];
                P[i * n + j].re = a * P[i * n + j].re + b * (xi.re * xj.re + xi.im * xj.im);
                P[i * n + j].im = a * P[i * n + j].im + b * (xi.im * xj.re - xi.re * xj.im);
            }
        }
    }
}

/*
 * MVDR weights, per bin k:
 *   w_k  = (P_k + (l tr(P_k) / M + eps) I)^-1 d_k / (d_k^H (...)^-1 d_k)
 * solved by complex Cholesky in double (M <= 16, a few hundred flops a bin).
 */
static void mvdr_weights(struct fe_bf *st)
{
    const unsigned n = st->mics, bins = st->bins;
    const struct fe_cpx *D = st->D + (size_t) st->cur * n * bins;

    for (unsigned k = 0; k < bins; k++) {
        struct fe_cpx *P = st->P + (size_t) k * n * n;
        double Lr[HARK_MAX_MICS * HARK_MAX_MICS], Li[HARK_MAX_MICS * HARK_MAX_MICS];
        double vr[HARK_MAX_MICS], vi[HARK_MAX_MICS], tr = 0, load, den = 0;
        bool ok = true;

        for (unsigned i = 0; i < n; i++)
            tr += P[i * n + i].re;
        load = st->cfg.mvdr_loading * tr / n + 1e-20;
        /* Cholesky of the Hermitian A = P + load I: A = L L^H, L lower */
        for (unsigned j = 0; j < n && ok; j++) {
            double s = P[j * n + j].re + load;
            for (unsigned q = 0; q < j; q++)
                s -= Lr[j * n + q] * Lr[j * n + q] + Li[j * n + q] * Li[j * n + q];
            if (!(s > 0)) {
                ok = false;
                break;
            }
            Lr[j * n + j] = sqrt(s);
            Li[j * n + j] = 0;
            for (unsigned i = j + 1; i < n; i++) {
                double tr_ = P[i * n + j].re, ti = P[i * n + j].im;
                for (unsigned q = 0; q < j; q++) { /* - L[i][q] conj(L[j][q]) */
                    tr_ -= Lr[i * n + q] * Lr[j * n + q] + Li[i * n + q] * Li[j * n + q];
                    ti -= Li[i * n + q] * Lr[j * n + q] - Lr[i * n + q] * Li[j * n + q];
                }
                Lr[i * n + j] = tr_ / Lr[j * n + j];
                Li[i * n + j] = ti / Lr[j * n + j];
            }
        }
        if (ok) {
            /* forward: L y = d */
            for (unsigned i = 0; i < n; i++) {
                const struct fe_cpx di = D[(size_t) i * bins + k];
                double yr = di.re, yi = di.im;
                for (unsigned q = 0; q < i; q++) {
                    yr -= Lr[i * n + q] * vr[q] - Li[i * n + q] * vi[q];
                    yi -= Lr[i * n + q] * vi[q] + Li[i * n + q] * vr[q];
                }
                vr[i] = yr / Lr[i * n + i];
                vi[i] = yi / Lr[i * n + i];
            }
            /* backward: L^H v = y */
            for (unsigned i = n; i-- > 0;) {
                double yr = vr[i], yi = vi[i];
                for (unsigned q = i + 1; q < n; q++) { /* conj(L[q][i]) v[q] */
                    yr -= Lr[q * n + i] * vr[q] + Li[q * n + i] * vi[q];
                    yi -= Lr[q * n + i] * vi[q] - Li[q * n + i] * vr[q];
                }
                vr[i] = yr / Lr[i * n + i];
                vi[i] = yi / Lr[i * n + i];
            }
            for (unsigned i = 0; i < n; i++) { /* Re(d^H v); its Im is 0 up to rounding */
                const struct fe_cpx di = D[(size_t) i * bins + k];
                den += di.re * vr[i] + di.im * vi[i];
            }
            ok = den > 0;
        }
        for (unsigned m = 0; m < n; m++) {
            struct fe_cpx *w = &st->Wcur[(size_t) m * bins + k];
            if (ok) {
                w->re = (float) (vr[m] / den);
                w->im = (float) (-vi[m] / den); /* conj */
            } else {
                *w = st->W[(size_t) st->cur * n * bins + (size_t) m * bins + k];
            }
        }
    }
    st->dirty = false;
    st->stale = 0;
}

static void apply(struct fe_bf *st, const struct fe_cpx *W, float *out)
{
    const unsigned bins = st->bins;
    struct fe_cpx *restrict Y = st->Y;

    memset(Y, 0, bins * sizeof(*Y));
    for (unsigned m = 0; m < st->mics; m++) {
        const struct fe_cpx *restrict w = W + (size_t) m * bins;
        const struct fe_cpx *restrict X = st->X + (size_t) m * bins;
        for (unsigned k = 0; k < bins; k++) {
            Y[k].re += w[k].re * X[k].re - w[k].im * X[k].im;
            Y[k].im += w[k].re * X[k].im + w[k].im * X[k].re;
        }
    }
    fe_istft_synthesize(st->syn, Y, out);
    st->wuse = W;
}

static void beam_hop(struct fe_bf *st, const float *x, unsigned stride, float *out)
{
    fe_stft_analyze(st->ana, x, stride, st->X);
    if (st->P) {
        /* The covariance follows every interference-only hop; the solve
         * runs at once when the steering changed, else every
         * FE_BF_SOLVE_HOPS updates (the covariance forgets over ~alpha's
         * time constant, far slower than this). */
        if (st->update) {
            mvdr_cov_update(st);
            st->stale++;
        }
        if (st->dirty || st->stale >= FE_BF_SOLVE_HOPS)
            mvdr_weights(st);
        apply(st, st->Wcur, out);
    } else {
        apply(st, st->W + (size_t) st->cur * st->mics * st->bins, out);
    }
}

int fe_bf_process(struct fe_bf *st, const float *x, unsigned frames, unsigned stride, float *out)
{
    const unsigned h = st->cfg.hop;

    if (frames % h || stride < st->mics)
        return -EINVAL;
    for (unsigned f = 0; f < frames; f += h)
        beam_hop(st, x + (size_t) f * stride, stride, out + f);
    return 0;
}

int fe_bf_process_as(struct fe_bf *st, const struct fe_bf *leader, const float *x, unsigned stride,
                     float *out)
{
    if (stride < st->mics || leader->mics != st->mics || leader->bins != st->bins ||
        leader->cfg.hop != st->cfg.hop)
        return -EINVAL;
    fe_stft_analyze(st->ana, x, stride, st->X);
    apply(st, leader->wuse, out);
    return 0;
}

unsigned fe_bf_latency(const struct fe_bf *st)
{
    return st->cfg.frame - st->cfg.hop;
}

float fe_bf_plane_wave_gain_db(const struct fe_bf *st, float steer_deg, float source_deg, unsigned bin)
{
    const struct fe_cpx *W = st->W + (size_t) dir_index(st, steer_deg) * st->mics * st->bins;
    double dre[HARK_MAX_MICS], dim[HARK_MAX_MICS], yr = 0, yi = 0;

    if (bin >= st->bins)
        return NAN;
    steering(&st->cfg, source_deg, 2 * M_PI * bin * (double) st->cfg.rate / st->cfg.frame, dre, dim);
    for (unsigned m = 0; m < st->mics; m++) {
        const struct fe_cpx w = W[(size_t) m * st->bins + bin];
        yr += w.re * dre[m] - w.im * dim[m];
        yi += w.re * dim[m] + w.im * dre[m];
    }
    return (float) (10 * log10(yr * yr + yi * yi + 1e-30));
}

float fe_bf_wng_db(const struct fe_bf *st, float steer_deg, unsigned bin)
{
    const struct fe_cpx *W = st->W + (size_t) dir_index(st, steer_deg) * st->mics * st->bins;
    double nrm = 0;

    if (bin >= st->bins)
        return NAN;
    for (unsigned m = 0; m < st->mics; m++) {
        const struct fe_cpx w = W[(size_t) m * st->bins + bin];
        nrm += (double) w.re * w.re + (double) w.im * w.im;
    }
    return (float) (-10 * log10(nrm + 1e-30));
}
