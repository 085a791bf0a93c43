/*
 * fe_stft.c - STFT analysis and WOLA synthesis for the front end (see
 * fe_stft.h).
 *
 * The history of each channel is a plain linear buffer of `frame` samples
 * that is shifted by one hop per call (a memmove of frame - hop floats per
 * channel). A circular buffer would save the move but needs the window
 * applied in two pieces; at frame <= 640 the move is a few hundred
 * nanoseconds and keeps the windowing loop a single straight vectorisable
 * multiply. The FFT is kissfft's real transform (Debian kissfft-float), whose
 * state is placed in our own block (kiss_fftr_alloc with mem/lenmem), so the
 * stage allocates nothing of its own after init.
 */
#include "fe_stft.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <kiss_fftr.h>

_Static_assert(sizeof(struct fe_cpx) == sizeof(kiss_fft_cpx), "fe_cpx must match kiss_fft_cpx");
_Static_assert(sizeof(kiss_fft_scalar) == sizeof(float), "kissfft must be the float build");

struct fe_stft {
    unsigned frame, hop, channels, bins;
    kiss_fftr_cfg fft;
    float *win;  /* frame */
    float *hist; /* channels * frame, oldest first */
    float *buf;  /* frame: windowed input */
};

struct fe_istft {
    unsigned frame, hop, bins;
    kiss_fftr_cfg ifft;
    float *win; /* frame, synthesis window already scaled by 1 / (frame K) */
    float *ola; /* frame: overlap-add accumulator, oldest first */
    float *buf; /* frame */
};

static void make_window(float *w, unsigned n, enum fe_window type)
{
    for (unsigned i = 0; i < n; i++) {
        double h = 0.5 - 0.5 * cos(2.0 * M_PI * i / n);
        w[i] = (float) (type == FE_WIN_SQRT_HANN ? sqrt(h) : h);
    }
}

static bool cfg_ok(const struct fe_stft_cfg *cfg, bool analysis)
{
    if (!cfg || cfg->frame < 4 || cfg->frame > FE_STFT_MAX_FRAME || cfg->frame % 2 || cfg->hop == 0 ||
        cfg->hop > cfg->frame)
        return false;
    if (!analysis && cfg->frame % cfg->hop)
        return false;
    if (analysis && (cfg->channels == 0 || cfg->channels > FE_STFT_MAX_CHANNELS))
        return false;
    return cfg->window == FE_WIN_HANN || cfg->window == FE_WIN_SQRT_HANN;
}

/* Lay the object out in `a`; with a counting arena st is a dummy. */
static int stft_carve(struct fe_arena *a, const struct fe_stft_cfg *cfg, struct fe_stft **ret)
{
    size_t fft_len = 0;
    struct fe_stft *st = fe_arena_take(a, sizeof(*st));
    void *fft_mem;
    float *win, *hist, *buf;

    (void) kiss_fftr_alloc((int) cfg->frame, 0, NULL, &fft_len);
    fft_mem = fe_arena_take(a, fft_len);
    win = fe_arena_take(a, cfg->frame * sizeof(float));
    hist = fe_arena_take(a, (size_t) cfg->channels * cfg->frame * sizeof(float));
    buf = fe_arena_take(a, cfg->frame * sizeof(float));
    if (!a->base)
        return 0;
    if (!st || !fft_mem || !win || !hist || !buf)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->frame = cfg->frame;
    st->hop = cfg->hop;
    st->channels = cfg->channels;
    st->bins = fe_stft_bins(cfg->frame);
    st->fft = kiss_fftr_alloc((int) cfg->frame, 0, fft_mem, &fft_len);
    if (!st->fft)
        return -EINVAL;
    st->win = win;
    st->hist = hist;
    st->buf = buf;
    make_window(win, cfg->frame, cfg->window);
    fe_stft_reset(st);
    *ret = st;
    return 0;
}

size_t fe_stft_get_size(const struct fe_stft_cfg *cfg)
{
    struct fe_arena a;

    if (!cfg_ok(cfg, true))
        return 0;
    fe_arena_start(&a, NULL, 0);
    (void) stft_carve(&a, cfg, NULL);
    return fe_arena_total(&a);
}

int fe_stft_init(struct fe_stft **ret, void *mem, size_t size, const struct fe_stft_cfg *cfg)
{
    struct fe_arena a;

    if (!ret || !mem || !cfg_ok(cfg, true))
        return -EINVAL;
    fe_arena_start(&a, mem, size);
    if (!a.base)
        return -EINVAL;
    return stft_carve(&a, cfg, ret);
}

struct fe_stft *fe_stft_create(const struct fe_stft_cfg *cfg)
{
    size_t size = fe_stft_get_size(cfg);
    struct fe_stft *st = NULL;
    void *mem;

    /* Aligned, so the object sits at mem itself and destroy can free it. */
    if (!size || posix_memalign(&mem, FE_ALIGN, size))
        return NULL;
    if (fe_stft_init(&st, mem, size, cfg) < 0) {
        free(mem);
        return NULL;
    }
    return st;
}

void fe_stft_destroy(struct fe_stft *st)
{
    free(st);
}

void fe_stft_reset(struct fe_stft *st)
{
    memset(st->hist, 0, (size_t) st->channels * st->frame * sizeof(float));
}

void fe_stft_analyze(struct fe_stft *st, const float *restrict x, unsigned stride, struct fe_cpx *X)
{
    const unsigned n = st->frame, h = st->hop, keep = n - h;

    for (unsigned c = 0; c < st->channels; c++) {
        float *restrict hist = st->hist + (size_t) c * n;
        float *restrict buf = st->buf;
        const float *restrict win = st->win;

        memmove(hist, hist + h, keep * sizeof(float));
        for (unsigned i = 0; i < h; i++)
            hist[keep + i] = x[(size_t) i * stride + c];
        for (unsigned i = 0; i < n; i++)
            buf[i] = hist[i] * win[i];
        kiss_fftr(st->fft, buf, (kiss_fft_cpx *) (X + (size_t) c * st->bins));
    }
}

/* ---- synthesis ---------------------------------------------------------- */

static int istft_carve(struct fe_arena *a, const struct fe_stft_cfg *cfg, enum fe_window analysis,
                       struct fe_istft **ret)
{
    size_t fft_len = 0;
    struct fe_istft *st = fe_arena_take(a, sizeof(*st));
    void *fft_mem;
    float *win, *ola, *buf;
    float wa[FE_STFT_MAX_FRAME];
    double k0 = 0;

    (void) kiss_fftr_alloc((int) cfg->frame, 1, NULL, &fft_len);
    fft_mem = fe_arena_take(a, fft_len);
    win = fe_arena_take(a, cfg->frame * sizeof(float));
    ola = fe_arena_take(a, cfg->frame * sizeof(float));
    buf = fe_arena_take(a, cfg->frame * sizeof(float));
    if (!a->base)
        return 0;
    if (!st || !fft_mem || !win || !ola || !buf)
        return -EINVAL;
    memset(st, 0, sizeof(*st));
    st->frame = cfg->frame;
    st->hop = cfg->hop;
    st->bins = fe_stft_bins(cfg->frame);
    st->ifft = kiss_fftr_alloc((int) cfg->frame, 1, fft_mem, &fft_len);
    if (!st->ifft)
        return -EINVAL;
    st->win = win;
    st->ola = ola;
    st->buf = buf;
    make_window(wa, cfg->frame, analysis);
    make_window(win, cfg->frame, cfg->window);
    /* COLA gain K(n) = sum_r wa ws at n + r hop must not depend on n. */
    for (unsigned n = 0; n < cfg->hop; n++) {
        double k = 0;
        for (unsigned i = n; i < cfg->frame; i += cfg->hop)
            k += (double) wa[i] * win[i];
        if (n == 0)
            k0 = k;
        else if (fabs(k - k0) > 1e-4 * k0)
            return -EINVAL;
    }
    if (!(k0 > 0))
        return -EINVAL;
    for (unsigned i = 0; i < cfg->frame; i++)
        win[i] = (float) (win[i] / (k0 * cfg->frame));
    fe_istft_reset(st);
    *ret = st;
    return 0;
}

size_t fe_istft_get_size(const struct fe_stft_cfg *cfg)
{
    struct fe_arena a;

    if (!cfg_ok(cfg, false))
        return 0;
    fe_arena_start(&a, NULL, 0);
    (void) istft_carve(&a, cfg, FE_WIN_HANN, NULL);
    return fe_arena_total(&a);
}

int fe_istft_init(struct fe_istft **ret, void *mem, size_t size, const struct fe_stft_cfg *cfg,
                  enum fe_window analysis)
{
    struct fe_arena a;

    if (!ret || !mem || !cfg_ok(cfg, false) || (analysis != FE_WIN_HANN && analysis != FE_WIN_SQRT_HANN))
        return -EINVAL;
    fe_arena_start(&a, mem, size);
    if (!a.base)
        return -EINVAL;
    return istft_carve(&a, cfg, analysis, ret);
}

struct fe_istft *fe_istft_create(const struct fe_stft_cfg *cfg, enum fe_window analysis)
{
    size_t size = fe_istft_get_size(cfg);
    struct fe_istft *st = NULL;
    void *mem;

    if (!size || posix_memalign(&mem, FE_ALIGN, size))
        return NULL;
    if (fe_istft_init(&st, mem, size, cfg, analysis) < 0) {
        free(mem);
        return NULL;
    }
    return st;
}

void fe_istft_destroy(struct fe_istft *st)
{
    free(st);
}

void fe_istft_reset(struct fe_istft *st)
{
    memset(st->ola, 0, st->frame * sizeof(float));
}

void fe_istft_synthesize(struct fe_istft *st, struct fe_cpx *Y, float *restrict out)
{
    const unsigned n = st->frame, h = st->hop, keep = n - h;
    float *restrict ola = st->ola, *restrict buf = st->buf;
    const float *restrict win = st->win;

    Y[0].im = 0;
    Y[st->bins - 1].im = 0;
    kiss_fftri(st->ifft, (const kiss_fft_cpx *) Y, buf);
    for (unsigned i = 0; i < n; i++)
        ola[i] += buf[i] * win[i];
    memcpy(out, ola, h * sizeof(float));
    memmove(ola, ola + h, keep * sizeof(float));
    memset(ola + keep, 0, h * sizeof(float));
}
