/*
 * room_sim.c - image-source shoebox room, convolution and band-limited
 * interpolation for scene generation. See room_sim.h for the conventions.
 *
 * Image sources (Allen & Berkley 1979): along an axis of length L, a source
 * at s has images at (1 - 2u) s + 2 n L (u in {0, 1}, n integer) reached
 * through |n - u| + |n| reflections. The three axes combine independently,
 * so each axis gets a list of (offset to the mic, reflection count) and the
 * images are the triples of those lists whose path length is within
 * c * max_time_s (and whose order is within max_order).
 *
 * The FFT is a plain iterative radix-2 complex transform in double
 * precision (host tool: clarity over speed; a 10 s, 4-mic, RT60 0.5 s scene
 * renders well under a second of convolution time).
 */
#include "room_sim.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define RS_KAISER_BETA 8.0
#define RS_PHASES 512       /* kernel table entries per sample */
#define RS_DIRECT_MAX_NH 64 /* direct convolution up to this many taps */

/* ---- windowed-sinc kernel table ------------------------------------------ */

double room_sim_bessel_i0(double x)
{
    double sum = 1.0, term = 1.0, q = x * x / 4.0;
    int k;

    for (k = 1; k < 200 && term > 1e-16 * sum; k++) {
        term *= q / ((double)k * k);
        sum += term;
    }
    return sum;
}

/* Kernel w(t) = sinc(t) * kaiser(t / half) for t in [0, half], sampled every
 * 1 / RS_PHASES (even function: callers use |t|). */
struct rs_kernel {
    int half;
    long n;       /* half * RS_PHASES + 2 entries */
    double *tab;
};

static int rs_kernel_init(struct rs_kernel *k, int half)
{
    double i0b = room_sim_bessel_i0(RS_KAISER_BETA);
    long i;

    k->half = half;
    k->n = (long)half * RS_PHASES + 2;
    k->tab = malloc(sizeof(double) * (size_t)k->n);
    if (!k->tab)
        return -ENOMEM;
    for (i = 0; i < k->n; i++) {
        double t = (double)i / RS_PHASES, u = t / half, w, s;

        w = u < 1.0 ? room_sim_bessel_i0(RS_KAISER_BETA * sqrt(1.0 - u * u)) / i0b : 0.0;
        s = t < 1e-12 ? 1.0 : sin(M_PI * t) / (M_PI * t);
        k->tab[i] = s * w;
    }
    return 0;
}

static void rs_kernel_free(struct rs_kernel *k)
{
    free(k->tab);
    k->tab = NULL;
}

static inline double rs_kernel_at(const struct rs_kernel *k, double t)
{
    double p = fabs(t) * RS_PHASES;
    long i = (long)p;
    double f = p - (double)i;

    if (i >= k->n - 1)
        return 0.0;
    return k->tab[i] + f * (k->tab[i + 1] - k->tab[i]);
}

/* taps[j] for j = 0 .. 2 half - 1 multiplies sample (floor(pos) - half + 1 + j)
 * in a read at fractional position pos = floor(pos) + frac. Unit DC gain. */
static void rs_kernel_taps(const struct rs_kernel *k, double frac, double *taps)
{
    double sum = 0.0;
    int j, n = 2 * k->half;

    for (j = 0; j < n; j++) {
        double t = (double)(j - k->half + 1) - frac;

        taps[j] = rs_kernel_at(k, t);
        sum += taps[j];
    }
    for (j = 0; j < n; j++)
        taps[j] /= sum;
}

/* ---- options, Sabine ----------------------------------------------------- */

void room_sim_opts_default(struct room_sim_opts *o, double fs)
{
    memset(o, 0, sizeof(*o));
    o->fs = fs;
    o->c = ROOM_SIM_C;
    o->max_order = -1;
    o->max_time_s = 0.5;
    o->sinc_half = ROOM_SIM_SINC_HALF;
}

static double rs_c(double c)
{
    return c > 0.0 ? c : ROOM_SIM_C;
}

static int rs_half(const struct room_sim_opts *o)
{
    return o->sinc_half > 0 ? o->sinc_half : ROOM_SIM_SINC_HALF;
}

double room_sim_sabine_alpha(const double dims[3], double rt60, double c)
{
    double v = dims[0] * dims[1] * dims[2];
    double s = 2.0 * (dims[0] * dims[1] + dims[0] * dims[2] + dims[1] * dims[2]);

    if (rt60 <= 0.0 || s <= 0.0)
        return INFINITY;
    return 24.0 * log(10.0) * v / (rs_c(c) * s * rt60);
}

double room_sim_beta_sabine(const double dims[3], double rt60, double c)
{
    double a = room_sim_sabine_alpha(dims, rt60, c);

    return a >= 1.0 ? 0.0 : sqrt(1.0 - a);
}

int room_sim_ir_pre(const struct room_sim_opts *o)
{
    return rs_half(o);
}

long room_sim_ir_len(const struct room_sim_opts *o)
{
    int half = rs_half(o);

    if (!(o->fs > 0.0) || !(o->max_time_s > 0.0))
        return 0;
    return (long)ceil(o->max_time_s * o->fs) + 2L * half + 1;
}

static bool rs_room_ok(const struct room_sim_room *room)
{
    for (int a = 0; a < 3; a++)
        if (!(room->dims[a] > 0.0) || !isfinite(room->dims[a]))
            return false;
    return room->beta >= 0.0 && room->beta <= 1.0;
}

static bool rs_inside(const struct room_sim_room *room, const double p[3])
{
    for (int a = 0; a < 3; a++)
        if (!(p[a] >= 0.0 && p[a] <= room->dims[a]))
            return false;
    return true;
}

/* ---- image enumeration ---------------------------------------------------- */

struct rs_axis_img {
    double coord;  /* image coordinate along the axis */
    int order;     /* reflections along this axis */
    int n, u;      /* Allen-Berkley indices */
};

/* Images along one axis with |coord - m| <= reach and order <= max_order
 * (max_order < 0: no limit), sorted by order then n, u. */
static int rs_axis_images(double len, double s, double m, double reach, int max_order,
                          struct rs_axis_img **out, int *count)
{
    long nmax, n, cap;
    struct rs_axis_img *v;
    int k = 0;

    /* |2 n L| - L <= |coord - m| <= reach, and the order is >= 2 |n| - 1. */
    if (max_order >= 0 && (!isfinite(reach) || reach / (2.0 * len) > max_order / 2 + 1))
        nmax = max_order / 2 + 1;
    else if (isfinite(reach) && reach / (2.0 * len) < 1e6)
        nmax = (long)ceil((reach + len) / (2.0 * len)) + 1;
    else
        return -EINVAL;
    cap = 2 * (2 * nmax + 1);
    v = malloc(sizeof(*v) * (size_t)cap);
    if (!v)
        return -ENOMEM;
    for (n = -nmax; n <= nmax; n++) {
        for (int u = 0; u <= 1; u++) {
            double coord = (1 - 2 * u) * s + 2.0 * (double)n * len;
            long ord = labs(n - u) + labs(n);

            if (max_order >= 0 && ord > max_order)
                continue;
            if (fabs(coord - m) > reach)
                continue;
            v[k].coord = coord;
            v[k].order = (int)ord;
            v[k].n = (int)n;
            v[k].u = u;
            k++;
        }
    }
    /* Stable insertion sort by order (n, u already ascending). */
    for (int i = 1; i < k; i++) {
        struct rs_axis_img t = v[i];
        int j = i - 1;

        while (j >= 0 && v[j].order > t.order) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = t;
    }
    *out = v;
    *count = k;
    return 0;
}

long room_sim_images(const struct room_sim_room *room, const double src[3], int max_order,
                     struct room_sim_image *out, long cap)
{
    struct rs_axis_img *ax[3] = { NULL, NULL, NULL };
    int cnt[3] = { 0, 0, 0 };
    long total = 0;

    if (!rs_room_ok(room) || !rs_inside(room, src) || max_order < 0 || max_order > 1000
        || (cap > 0 && !out))
        return -EINVAL;
    for (int a = 0; a < 3; a++) {
        long r = rs_axis_images(room->dims[a], src[a], src[a], INFINITY, max_order,
                                &ax[a], &cnt[a]);

        if (r < 0) {
            total = r;
            goto out;
        }
    }
    for (int ord = 0; ord <= max_order; ord++) {
        for (int i = 0; i < cnt[0]; i++) {
            for (int j = 0; j < cnt[1]; j++) {
                int oxy = ax[0][i].order + ax[1][j].order;

                if (oxy > ord)
                    continue;
                for (int k = 0; k < cnt[2]; k++) {
                    if (oxy + ax[2][k].order != ord)
                        continue;
                    if (total < cap) {
                        out[total].pos[0] = ax[0][i].coord;
                        out[total].pos[1] = ax[1][j].coord;
                        out[total].pos[2] = ax[2][k].coord;
                        out[total].order = ord;
                        out[total].gain = pow(room->beta, ord);
                    }
                    total++;
                }
            }
        }
    }
out:
    for (int a = 0; a < 3; a++)
        free(ax[a]);
    return total;
}

/* ---- impulse response ----------------------------------------------------- */

static uint64_t rs_mix(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [-1, 1) from the seed and an image's indices. */
static double rs_jitter_unit(uint64_t seed, const struct rs_axis_img *ix,
                             const struct rs_axis_img *iy, const struct rs_axis_img *iz,
                             int axis)
{
    uint64_t h = rs_mix(seed ^ 0x5eedf00dULL);

    h = rs_mix(h ^ (uint64_t)(uint32_t)(ix->n * 2 + ix->u));
    h = rs_mix(h ^ (uint64_t)(uint32_t)(iy->n * 2 + iy->u));
    h = rs_mix(h ^ (uint64_t)(uint32_t)(iz->n * 2 + iz->u));
    h = rs_mix(h ^ (uint64_t)axis);
    return (double)(h >> 11) * (2.0 / 9007199254740992.0) - 1.0;
}

int room_sim_ir(const struct room_sim_room *room, const struct room_sim_opts *o,
                const double src[3], const double mic[3], float *h, long n,
                long *n_images_out)
{
    struct rs_axis_img *ax[3] = { NULL, NULL, NULL };
    int cnt[3] = { 0, 0, 0 }, half, r = 0;
    double c, reach, reach2, bpow[2048], taps[2 * ROOM_SIM_SINC_HALF_MAX];
    double *acc = NULL;
    struct rs_kernel ker = { 0, 0, NULL };
    long n_img = 0, pre;

    if (n_images_out)
        *n_images_out = 0;
    if (!room || !o || !src || !mic || !h || n <= 0 || !rs_room_ok(room)
        || !rs_inside(room, src) || !rs_inside(room, mic) || !(o->fs > 0.0)
        || !(o->max_time_s > 0.0) || o->sinc_half < 0
        || o->sinc_half > ROOM_SIM_SINC_HALF_MAX || !(o->jitter_m >= 0.0))
        return -EINVAL;
    half = rs_half(o);
    pre = half;
    c = rs_c(o->c);
    reach = c * o->max_time_s;
    reach2 = reach * reach;
    /* Jitter moves images by up to jitter_m per axis: widen the per-axis
     * search; the exact length test below uses the moved position. */
    for (int a = 0; a < 3; a++) {
        r = rs_axis_images(room->dims[a], src[a], mic[a], reach + o->jitter_m,
                           o->max_order, &ax[a], &cnt[a]);
        if (r < 0)
            goto out;
    }
    r = rs_kernel_init(&ker, half);
    if (r < 0)
        goto out;
    acc = calloc((size_t)n, sizeof(double));
    if (!acc) {
        r = -ENOMEM;
        goto out;
    }
    bpow[0] = 1.0;
    for (int i = 1; i < 2048; i++)
        bpow[i] = bpow[i - 1] * room->beta;

    for (int i = 0; i < cnt[0]; i++) {
        const struct rs_axis_img *ix = &ax[0][i];
        double dx = ix->coord - mic[0];

        for (int j = 0; j < cnt[1]; j++) {
            const struct rs_axis_img *iy = &ax[1][j];
            double dy = iy->coord - mic[1], dxy2 = dx * dx + dy * dy;
            int oxy = ix->order + iy->order;

            if (o->jitter_m == 0.0 && dxy2 > reach2)
                continue;
            if (o->max_order >= 0 && oxy > o->max_order)
                continue;
            for (int k = 0; k < cnt[2]; k++) {
                const struct rs_axis_img *iz = &ax[2][k];
                double dz = iz->coord - mic[2], d2, dist, gain, delay, frac;
                int ord = oxy + iz->order;
                long d_int, base;

                if (o->max_order >= 0 && ord > o->max_order)
                    continue;
                if (ord > 0 && room->beta == 0.0)
                    continue;
                if (o->jitter_m > 0.0 && ord > 0) {
                    double jx = dx + o->jitter_m * rs_jitter_unit(o->seed, ix, iy, iz, 0);
                    double jy = dy + o->jitter_m * rs_jitter_unit(o->seed, ix, iy, iz, 1);
                    double jz = dz + o->jitter_m * rs_jitter_unit(o->seed, ix, iy, iz, 2);

                    d2 = jx * jx + jy * jy + jz * jz;
                } else {
                    d2 = dxy2 + dz * dz;
                }
                if (d2 > reach2)
                    continue;
                dist = sqrt(d2);
                if (dist < 1e-3)
                    dist = 1e-3;  /* a mic on the source: cap at +60 dB */
                gain = (ord < 2048 ? bpow[ord] : pow(room->beta, ord)) / dist;
                if (gain == 0.0)
                    continue;
                delay = dist / c * o->fs + (double)pre;
                d_int = (long)floor(delay);
                frac = delay - (double)d_int;
                rs_kernel_taps(&ker, frac, taps);
                base = d_int - half + 1;
                for (int t = 0; t < 2 * half; t++) {
                    long idx = base + t;

                    if (idx >= 0 && idx < n)
                        acc[idx] += gain * taps[t];
                }
                n_img++;
            }
        }
    }
    for (long i = 0; i < n; i++)
        h[i] = (float)acc[i];
    if (n_images_out)
        *n_images_out = n_img;
    r = 0;
out:
    free(acc);
    rs_kernel_free(&ker);
    for (int a = 0; a < 3; a++)
        free(ax[a]);
    return r;
}

/* ---- RT60 ------------------------------------------------------------------ */

double room_sim_measure_rt60(const float *h, long n, double fs, double db_start,
                             double db_end)
{
    double *edc, peak = 0.0, sx = 0, sy = 0, sxx = 0, sxy = 0, total, slope;
    long start = 0, i, m = 0;

    if (!h || n < 2 || !(fs > 0.0) || !(db_end > db_start) || db_start < 0.0)
        return -1.0;
    for (i = 0; i < n; i++) {
        if (fabs(h[i]) > peak) {
            peak = fabs(h[i]);
            start = i;
        }
    }
    if (peak == 0.0)
        return -1.0;
    edc = malloc(sizeof(double) * (size_t)(n - start + 1));
    if (!edc)
        return -1.0;
    edc[n - start] = 0.0;
    for (i = n - 1; i >= start; i--)
        edc[i - start] = edc[i - start + 1] + (double)h[i] * h[i];
    total = edc[0];
    for (i = start; i < n; i++) {
        double db = edc[i - start] > 0.0 ? 10.0 * log10(edc[i - start] / total) : -400.0;
        double t = (double)(i - start) / fs;

        if (db > -db_start)
            continue;
        if (db < -db_end)
            break;
        sx += t;
        sy += db;
        sxx += t * t;
        sxy += t * db;
        m++;
    }
    free(edc);
    if (i >= n || m < 3)
        return -1.0;  /* never reached -db_end, or too few points */
    slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    if (!(slope < 0.0))
        return -1.0;
    return -60.0 / slope;
}

int room_sim_beta_for_rt60(const double dims[3], double rt60, double c,
                           double *beta_out, double *measured_out)
{
    static const double fs_src[3] = { 0.31, 0.43, 0.47 }, fm_mic[3] = { 0.62, 0.58, 0.38 };
    struct room_sim_room room;
    struct room_sim_opts o;
    double src[3], mic[3], alpha, measured = -1.0, prev_alpha = -1.0, prev_meas = -1.0;
    float *h = NULL;
    long n;
    int r = 0;

    if (!dims || !beta_out)
        return -EINVAL;
    for (int a = 0; a < 3; a++)
        if (!(dims[a] > 0.0) || !isfinite(dims[a]))
            return -EINVAL;
    if (measured_out)
        *measured_out = -1.0;
    alpha = room_sim_sabine_alpha(dims, rt60, c);
    if (!(rt60 > 0.0) || alpha >= 1.0) {
        *beta_out = 0.0;
        return 0;
    }
    memcpy(room.dims, dims, sizeof(room.dims));
    for (int a = 0; a < 3; a++) {
        src[a] = fs_src[a] * dims[a];
        mic[a] = fm_mic[a] * dims[a];
    }
    room_sim_opts_default(&o, 8000.0);
    o.c = rs_c(c);
    o.sinc_half = 8;
    o.max_time_s = 1.3 * rt60 + sqrt(dims[0] * dims[0] + dims[1] * dims[1]
                                     + dims[2] * dims[2]) / o.c;
    n = room_sim_ir_len(&o);
    h = malloc(sizeof(float) * (size_t)n);
    if (!h)
        return -ENOMEM;
    for (int pass = 0; pass < 12; pass++) {
        double ratio, p = 1.0;

        room.beta = sqrt(1.0 - alpha);
        r = room_sim_ir(&room, &o, src, mic, h, n, NULL);
        if (r < 0)
            goto out;
        measured = room_sim_measure_rt60(h, n, o.fs, 5.0, 35.0);
        if (measured <= 0.0)
            break;
        ratio = measured / rt60;
        if (fabs(ratio - 1.0) < 0.01)
            break;
        /* T60 ~ alpha^-p: p = 1 for Sabine; from the last two passes after. */
        if (prev_alpha > 0.0 && prev_alpha != alpha && prev_meas != measured)
            p = -log(measured / prev_meas) / log(alpha / prev_alpha);
        if (!(p >= 0.5))
            p = 0.5;
        if (p > 2.0)
            p = 2.0;
        prev_alpha = alpha;
        prev_meas = measured;
        alpha *= pow(ratio, 1.0 / p);
        if (alpha >= 0.9999)
            alpha = 0.9999;
        if (pass == 11) {
            /* Report the T30 that goes with the beta returned. */
            room.beta = sqrt(1.0 - alpha);
            r = room_sim_ir(&room, &o, src, mic, h, n, NULL);
            if (r < 0)
                goto out;
            measured = room_sim_measure_rt60(h, n, o.fs, 5.0, 35.0);
        }
    }
    *beta_out = sqrt(1.0 - alpha);
    if (measured_out)
        *measured_out = measured;
    r = 0;
out:
    free(h);
    return r;
}

/* ---- FFT convolution -------------------------------------------------------- */

struct rs_fft {
    long n;
    double *cs, *sn;  /* n / 2 twiddles */
    long *rev;
};

static int rs_fft_init(struct rs_fft *f, long n)
{
    int bits = 0;

    f->n = n;
    f->cs = malloc(sizeof(double) * (size_t)(n / 2));
    f->sn = malloc(sizeof(double) * (size_t)(n / 2));
    f->rev = malloc(sizeof(long) * (size_t)n);
    if (!f->cs || !f->sn || !f->rev)
        return -ENOMEM;
    while ((1L << bits) < n)
        bits++;
    for (long i = 0; i < n / 2; i++) {
        f->cs[i] = cos(2.0 * M_PI * (double)i / (double)n);
        f->sn[i] = -sin(2.0 * M_PI * (double)i / (double)n);
    }
    for (long i = 0; i < n; i++) {
        long r = 0;

        for (int b = 0; b < bits; b++)
            if (i & (1L << b))
                r |= 1L << (bits - 1 - b);
        f->rev[i] = r;
    }
    return 0;
}

static void rs_fft_free(struct rs_fft *f)
{
    free(f->cs);
    free(f->sn);
    free(f->rev);
}

/* In place; inverse uses conjugate twiddles and no 1/n scaling. */
static void rs_fft_run(const struct rs_fft *f, double *re, double *im, bool inverse)
{
    long n = f->n;

    for (long i = 0; i < n; i++) {
        long j = f->rev[i];

        if (j > i) {
            double t = re[i];

            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (long len = 2; len <= n; len <<= 1) {
        long step = n / len, hl = len / 2;

        for (long i = 0; i < n; i += len) {
            for (long k = 0; k < hl; k++) {
                double wr = f->cs[k * step], wi = inverse ? -f->sn[k * step] : f->sn[k * step];
                long a = i + k, b = a + hl;
                double xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;

                re[b] = re[a] - xr;
                im[b] = im[a] - xi;
                re[a] += xr;
                im[a] += xi;
            }
        }
    }
}

static void rs_convolve_direct(const float *x, long nx, const float *h, long nh, float *y,
                               long ny, long shift, double gain)
{
    for (long i = 0; i < ny; i++) {
        long j = i + shift, k0 = j - nx + 1, k1 = j;
        double s = 0.0;

        if (k0 < 0)
            k0 = 0;
        if (k1 > nh - 1)
            k1 = nh - 1;
        for (long k = k0; k <= k1; k++)
            s += (double)h[k] * x[j - k];
        y[i] += (float)(gain * s);
    }
}

int room_sim_convolve(const float *x, long nx, const float *const *h, int nch, long nh,
                      float *const *y, long ny, long shift, double gain)
{
    struct rs_fft f = { 0, NULL, NULL, NULL };
    double *hre = NULL, *him = NULL, *xre = NULL, *xim = NULL, *zre = NULL, *zim = NULL;
    long nfft = 1024, blk;
    int r = 0;

    if (!x || nx < 0 || !h || nch < 1 || nh < 1 || !y || ny < 0)
        return -EINVAL;
    for (int c = 0; c < nch; c++)
        if (!h[c] || !y[c])
            return -EINVAL;
    if (nx == 0 || ny == 0)
        return 0;
    if (nh <= RS_DIRECT_MAX_NH) {
        for (int c = 0; c < nch; c++)
            rs_convolve_direct(x, nx, h[c], nh, y[c], ny, shift, gain);
        return 0;
    }
    while (nfft < 2 * nh)
        nfft <<= 1;
    blk = nfft - nh + 1;
    r = rs_fft_init(&f, nfft);
    hre = malloc(sizeof(double) * (size_t)nfft * (size_t)nch);
    him = malloc(sizeof(double) * (size_t)nfft * (size_t)nch);
    xre = malloc(sizeof(double) * (size_t)nfft);
    xim = malloc(sizeof(double) * (size_t)nfft);
    zre = malloc(sizeof(double) * (size_t)nfft);
    zim = malloc(sizeof(double) * (size_t)nfft);
    if (r < 0 || !hre || !him || !xre || !xim || !zre || !zim) {
        r = -ENOMEM;
        goto out;
    }
    /* IR spectra, with the gain and the inverse transform's 1/n folded in. */
    for (int c = 0; c < nch; c++) {
        double *re = hre + (size_t)c * nfft, *im = him + (size_t)c * nfft;

        for (long i = 0; i < nfft; i++) {
            re[i] = i < nh ? gain / (double)nfft * h[c][i] : 0.0;
            im[i] = 0.0;
        }
        rs_fft_run(&f, re, im, false);
    }
    for (long b0 = 0; b0 < nx; b0 += blk) {
        long len = nx - b0 < blk ? nx - b0 : blk;
        long j0 = b0, j1 = b0 + len + nh - 1; /* output span [j0, j1) */
        long i0 = j0 - shift, i1 = j1 - shift;
        bool silent = true;

        if (i1 <= 0 || i0 >= ny)
            continue;
        for (long i = 0; i < len; i++) {
            if (x[b0 + i] != 0.0f) {
                silent = false;
                break;
            }
        }
        if (silent)
            continue;
        for (long i = 0; i < nfft; i++) {
            xre[i] = i < len ? x[b0 + i] : 0.0;
            xim[i] = 0.0;
        }
        rs_fft_run(&f, xre, xim, false);
        /* Two channels per inverse transform: z = X H_a + i X H_b. */
        for (int c = 0; c < nch; c += 2) {
            const double *ar = hre + (size_t)c * nfft, *ai = him + (size_t)c * nfft;
            bool pair = c + 1 < nch;

            for (long k = 0; k < nfft; k++) {
                double pr = xre[k] * ar[k] - xim[k] * ai[k];
                double pi = xre[k] * ai[k] + xim[k] * ar[k];

                if (pair) {
                    const double br = hre[(size_t)(c + 1) * nfft + k];
                    const double bi = him[(size_t)(c + 1) * nfft + k];
                    double qr = xre[k] * br - xim[k] * bi;
                    double qi = xre[k] * bi + xim[k] * br;

                    zre[k] = pr - qi;
                    zim[k] = pi + qr;
                } else {
                    zre[k] = pr;
                    zim[k] = pi;
                }
            }
            rs_fft_run(&f, zre, zim, true);
            for (long q = 0; q < len + nh - 1; q++) {
                long i = j0 + q - shift;

                if (i < 0 || i >= ny)
                    continue;
                y[c][i] += (float)zre[q];
                if (pair)
                    y[c + 1][i] += (float)zim[q];
            }
        }
    }
    r = 0;
out:
    free(hre);
    free(him);
    free(xre);
    free(xim);
    free(zre);
    free(zim);
    rs_fft_free(&f);
    return r;
}

/* ---- interpolation ---------------------------------------------------------- */

void room_sim_interp(const float *x, long nx, double t0, double step, float *y, long ny)
{
    struct rs_kernel ker = { 0, 0, NULL };
    double taps[2 * ROOM_SIM_SINC_HALF];
    int half = ROOM_SIM_SINC_HALF;

    if (step == 1.0 && t0 == floor(t0) && fabs(t0) < 1e15) {
        long s = (long)t0;

        for (long i = 0; i < ny; i++) {
            long j = i + s;

            y[i] = j >= 0 && j < nx ? x[j] : 0.0f;
        }
        return;
    }
    if (rs_kernel_init(&ker, half) < 0) {
        /* Out of memory for a 130 KB table: fall back to linear. */
        for (long i = 0; i < ny; i++) {
            double p = t0 + (double)i * step, fl = floor(p), f = p - fl;
            long j = (long)fl;
            double a = j >= 0 && j < nx ? x[j] : 0.0;
            double b = j + 1 >= 0 && j + 1 < nx ? x[j + 1] : 0.0;

            y[i] = (float)(a + f * (b - a));
        }
        return;
    }
    for (long i = 0; i < ny; i++) {
        double p = t0 + (double)i * step, fl = floor(p), s = 0.0;
        long j0 = (long)fl - half + 1;

        if (j0 + 2 * half <= 0 || j0 >= nx) {
            y[i] = 0.0f;
            continue;
        }
        rs_kernel_taps(&ker, p - fl, taps);
        for (int t = 0; t < 2 * half; t++) {
            long j = j0 + t;

            if (j >= 0 && j < nx)
                s += taps[t] * x[j];
        }
        y[i] = (float)s;
    }
    rs_kernel_free(&ker);
}

void room_sim_highpass(float *h, long n, double fs, double fc)
{
    double k, norm, b0, b1, b2, a1, a2, x1 = 0, x2 = 0, y1 = 0, y2 = 0;

    if (!h || n <= 0 || !(fs > 0) || !(fc > 0) || fc >= fs / 4)
        return;
    k = tan(M_PI * fc / fs);
    norm = 1.0 / (1.0 + M_SQRT2 * k + k * k);
    b0 = norm;
    b1 = -2.0 * norm;
    b2 = norm;
    a1 = 2.0 * (k * k - 1.0) * norm;
    a2 = (1.0 - M_SQRT2 * k + k * k) * norm;
    for (long i = 0; i < n; i++) {
        double x = h[i], y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;

        x2 = x1;
        x1 = x;
        y2 = y1;
        y1 = y;
        h[i] = (float)y;
    }
}
