/*
 * fe_stft.h - short-time Fourier analysis and weighted overlap-add (WOLA)
 * synthesis shared by the front-end stages (fe_doa, fe_beamformer).
 *
 * The front end runs on one fixed hop: 160 frames = 10 ms at 16 kHz, one
 * ALSA period of the capture thread (docs/frontend.md says why). A stage
 * that works in the frequency domain keeps the last `frame` samples of each
 * channel it analyses and, once per hop, windows and transforms them:
 *
 *   analysis   X_c[k] = sum_n w_a[n] x_c[t - frame + 1 + n] e^{-j 2 pi k n / frame},
 *              k = 0 .. frame/2 (kissfft real FFT, unscaled)
 *   synthesis  y[t - frame + 1 + n] += w_s[n] IDFT(Y)[n] / (frame * K),
 *              and the oldest `hop` samples of the overlap-add buffer,
 *              now complete, are the output,
 *
 * where K = sum_r w_a[n + r hop] w_s[n + r hop] is the (constant) overlap-add
 * gain of the window pair. The pair must satisfy that constant-overlap-add
 * condition; init checks it. Analysis followed by synthesis with Y = X is
 * the identity delayed by frame - hop samples (the latency of a WOLA stage).
 *
 * Windows are periodic (length frame, w[0] = 0): Hann for analysis only
 * (fe_doa), square-root Hann for analysis and synthesis (fe_beamformer,
 * 50 % or 75 % overlap).
 *
 * Spectra are arrays of struct fe_cpx (layout-compatible with kissfft's
 * kiss_fft_cpx, checked in fe_stft.c), channel-major: X[c * bins + k].
 * Users of this header need not see kissfft.
 *
 * Memory: every object comes in get_size / init (the caller gives one
 * block, e.g. part of a preallocated arena; nothing else is allocated and
 * nothing needs freeing) and create / destroy (malloc of get_size bytes,
 * then init). process-type calls never allocate, block or log.
 *
 * Threads: an object belongs to the thread that calls its analyze /
 * synthesize functions (the DSP thread in harkd); create / destroy from
 * any thread while nothing else uses it.
 *
 * Errors: init/create return 0 / an object, or -EINVAL (bad sizes, frame
 * not a multiple of hop for synthesis, a window pair that is not COLA) /
 * NULL. Nothing here prints.
 */
#ifndef HARK_FE_STFT_H
#define HARK_FE_STFT_H

#include <stddef.h>
#include <stdint.h>

#define FE_STFT_MAX_FRAME 4096
#define FE_STFT_MAX_CHANNELS 16
#define FE_ALIGN 64 /* alignment of every array the fe_* stages carve */

struct fe_cpx {
    float re, im;
};

enum fe_window {
    FE_WIN_HANN = 0,  /* analysis only */
    FE_WIN_SQRT_HANN, /* analysis + synthesis (WOLA) */
};

struct fe_stft_cfg {
    unsigned frame;    /* FFT length = window length; even, <= FE_STFT_MAX_FRAME */
    unsigned hop;      /* samples per call, <= frame; synthesis: frame % hop == 0 */
    unsigned channels; /* channels analysed, 1 .. FE_STFT_MAX_CHANNELS */
    enum fe_window window;
};

/* ---- analysis: `channels` signals in, spectra out -------------------- */

struct fe_stft;

size_t fe_stft_get_size(const struct fe_stft_cfg *cfg); /* 0: bad cfg */
int fe_stft_init(struct fe_stft **ret, void *mem, size_t size, const struct fe_stft_cfg *cfg);
struct fe_stft *fe_stft_create(const struct fe_stft_cfg *cfg);
void fe_stft_destroy(struct fe_stft *st); /* NULL is fine; not for init'ed objects */

static inline unsigned fe_stft_bins(unsigned frame)
{
    return frame / 2 + 1;
}

/*
 * Push one hop and analyse the newest frame of every channel.
 * x: hop frames, interleaved with `stride` floats per frame; channel c of
 * frame n is x[n * stride + c] (c < channels <= stride).
 * X: channels * bins values, written.
 * Until `frame` samples have arrived the history is zero-padded at the start.
 */
void fe_stft_analyze(struct fe_stft *st, const float *x, unsigned stride, struct fe_cpx *X);

/* Forget the history (zeros), as after init. */
void fe_stft_reset(struct fe_stft *st);

/* ---- synthesis: one spectrum in, one hop of samples out --------------- */

struct fe_istft;

/* cfg->channels is ignored (always 1); cfg->window is the synthesis window and
 * `analysis` the window the spectra were analysed with (for the COLA gain). */
size_t fe_istft_get_size(const struct fe_stft_cfg *cfg);
int fe_istft_init(struct fe_istft **ret, void *mem, size_t size, const struct fe_stft_cfg *cfg,
                  enum fe_window analysis);
struct fe_istft *fe_istft_create(const struct fe_stft_cfg *cfg, enum fe_window analysis);
void fe_istft_destroy(struct fe_istft *st);

/*
 * Y: bins values (Y[0].im and Y[bins-1].im are ignored: the signal is real).
 * Writes hop samples to out. Y is used as scratch and is clobbered.
 */
void fe_istft_synthesize(struct fe_istft *st, struct fe_cpx *Y, float *out);

void fe_istft_reset(struct fe_istft *st);

/* Latency of an analysis + synthesis pair: frame - hop samples. */
static inline unsigned fe_stft_latency(const struct fe_stft_cfg *cfg)
{
    return cfg->frame - cfg->hop;
}

/* ---- arena helper for the fe_* stages (internal) ---------------------- */

/*
 * A bump allocator over one caller-supplied block. With base == NULL it only
 * counts (get_size); with a block it hands out FE_ALIGN-aligned pieces and
 * fails (NULL) when the block is too small.
 */
struct fe_arena {
    uint8_t *base;
    size_t size, used;
};

static inline void *fe_arena_take(struct fe_arena *a, size_t bytes)
{
    size_t off = (a->used + (FE_ALIGN - 1)) & ~(size_t) (FE_ALIGN - 1);

    if (off + bytes < off)
        return NULL;
    a->used = off + bytes;
    if (!a->base)
        return NULL;
    if (a->used > a->size)
        return NULL;
    return a->base + off;
}

/* Bytes a get_size must report so that any FE_ALIGN misalignment of the
 * caller's block is absorbed. */
static inline size_t fe_arena_total(const struct fe_arena *a)
{
    return a->used + FE_ALIGN;
}

/* Start carving `mem` (size bytes), first aligning it up to FE_ALIGN. */
static inline void fe_arena_start(struct fe_arena *a, void *mem, size_t size)
{
    uintptr_t p = (uintptr_t) mem, q;

    a->used = 0;
    if (!mem) {
        a->base = NULL;
        a->size = 0;
        return;
    }
    q = (p + (FE_ALIGN - 1)) & ~(uintptr_t) (FE_ALIGN - 1);
    if (q - p > size) {
        a->base = NULL;
        a->size = 0;
        return;
    }
    a->base = (uint8_t *) q;
    a->size = size - (q - p);
}

#endif
