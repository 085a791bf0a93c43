/*
 * fe_beamformer.h - frequency-domain beamformer steered at an azimuth (from
 * fe_doa): fixed delay-and-sum or superdirective, or adaptive MVDR, for any
 * mic array in the board file.
 *
 * Signal model: far field, elevation 0, azimuth in degrees counter-clockwise
 * from the board's +x axis. The reference point is the board origin (the
 * array centre for the boards we ship): a plane wave from the look
 * direction comes out as the wave at the origin, delayed by the stage's
 * latency, whatever the mode ("distortionless").
 *
 * Framing: WOLA on an STFT with square-root Hann analysis and synthesis
 * windows, hop = cfg.hop (160 = 10 ms at 16 kHz) and frame = 2 or 4 hops
 * (50 % or 75 % overlap). Output: one channel, hop samples per hop, delayed
 * by fe_bf_latency() = frame - hop samples (10 ms for frame 320, 30 ms for
 * 640 at 16 kHz), exactly: no look-ahead, no other buffering.
 *
 * Weights (per STFT bin k, per mic m; the output is Y = sum_m conj(w_m) X_m):
 *   FE_BF_DELAY_SUM        w = d / M
 *   FE_BF_SUPERDIRECTIVE   w = (G + mu I)^-1 d / (d^H (G + mu I)^-1 d)
 *   FE_BF_MVDR             w = (P + l I)^-1 d / (d^H (P + l I)^-1 d), adaptive
 * with d_m = exp(j w_k p_m.u / c) the steering vector, G the coherence of
 * a spherically isotropic (diffuse) field, G_ij = sin(x)/x with
 * x = w_k |p_i - p_j| / c, and mu, per bin, the smallest loading >=
 * loading_min for which the white-noise gain 1 / |w|^2 is at least
 * wng_min_db (delay-and-sum has the maximum, 10 log10 M). All weights are
 * computed at create time for `directions` steering directions evenly
 * spread over 360 degrees; steering picks the nearest.
 *
 * FE_BF_MVDR adapts to the interference actually present: P is each bin's
 * noise-plus-interference covariance, a recursive average (time constant
 * mvdr_tau_s) of the mic spectra taken only on hops the caller marks as
 * free of the talker (fe_bf_set_noise_update(); harkd passes fe_doa's
 * target_absent), l = mvdr_loading * trace(P) / M. P starts from a faint
 * diffuse field (coherence G), so before any update, and in bins that never
 * see interference, the beam is superdirective-like. A steering jump of more
 * than 30 degrees restarts P from that prior (the old interference may be
 * the new talker). The weights are recomputed, per hop, only after an update
 * or a steering change (one 4x4 complex Cholesky per bin).
 *
 * Threads: set_azimuth / set_noise_update / process on one thread (the DSP
 * thread). process never allocates, blocks or logs.
 *
 * Memory: get_size + init in one caller-given block, or create / destroy.
 *
 * Errors: init returns 0 or -EINVAL (cfg out of range, frame not 2 or 4
 * hops, block too small); create NULL for those and on OOM. Nothing here
 * prints.
 */
#ifndef HARK_FE_BEAMFORMER_H
#define HARK_FE_BEAMFORMER_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define FE_BF_MAX_DIRECTIONS 720

enum fe_bf_mode {
    FE_BF_DELAY_SUM = 0,
    FE_BF_SUPERDIRECTIVE,
    FE_BF_MVDR,
};

struct fe_bf_cfg {
    unsigned mic_count;                  /* 1 .. HARK_MAX_MICS */
    double mic_pos_mm[HARK_MAX_MICS][3]; /* board frame; z unused */
    unsigned rate;                       /* Hz */
    unsigned hop;                        /* frames per hop */
    unsigned frame;                      /* 2 * hop or 4 * hop, even */
    enum fe_bf_mode mode;
    unsigned directions;  /* steering grid, 1 .. FE_BF_MAX_DIRECTIONS */
    float wng_min_db;     /* superdirective: least white-noise gain */
    float loading_min;    /* superdirective: least diagonal loading */
    float mvdr_tau_s;     /* MVDR: covariance time constant (update hops) */
    float mvdr_loading;   /* MVDR: loading relative to trace(P) / M */
    float speed_of_sound; /* m/s */
};

/* Defaults: 16 kHz, hop 160, frame 320, adaptive MVDR, 72 directions
 * (5 degrees), WNG >= -10 dB, loading >= 1e-3, MVDR tau 0.5 s and loading
 * 0.01, c = 343 m/s. No mics. */
void fe_bf_cfg_default(struct fe_bf_cfg *cfg);

/* Defaults plus the board's mics and rate (hop = rate / 100, frame = 2 hops). */
void fe_bf_cfg_from_board(struct fe_bf_cfg *cfg, const struct board_cfg *board);

struct fe_bf;

size_t fe_bf_get_size(const struct fe_bf_cfg *cfg); /* 0: bad cfg */
int fe_bf_init(struct fe_bf **ret, void *mem, size_t size, const struct fe_bf_cfg *cfg);
struct fe_bf *fe_bf_create(const struct fe_bf_cfg *cfg);
void fe_bf_destroy(struct fe_bf *st);

/* Zero the signal history and the MVDR statistics (the steering is kept). */
void fe_bf_reset(struct fe_bf *st);

/* Steer at azimuth_deg (any value; wrapped) from the next hop on; the grid
 * direction used is returned (degrees). Initially 0 degrees. */
float fe_bf_set_azimuth(struct fe_bf *st, float azimuth_deg);

/*
 * Process `frames` frames (a multiple of cfg.hop) interleaved with `stride`
 * floats per frame, mics first (mic m of frame n at x[n * stride + m]);
 * write `frames` output samples to out. Returns 0, or -EINVAL when frames
 * is not a multiple of the hop (nothing is processed then). The output
 * depends only on the input and the steering of each hop, never on how the
 * stream is split into calls.
 */
int fe_bf_process(struct fe_bf *st, const float *x, unsigned frames, unsigned stride, float *out);

/* MVDR: whether the following process calls may learn the interference
 * from their input (true only when the talker is absent; default false).
 * Other modes ignore it. */
void fe_bf_set_noise_update(struct fe_bf *st, bool interference_only);

/*
 * One hop of x through the weights `leader` used for its last hop (same
 * geometry, rate and framing; st's own steering and statistics are not
 * used). For scoring and for beamforming a second signal with the exact
 * beam of the first: call it after leader's fe_bf_process() of that hop
 * and before its next one. Returns 0 or -EINVAL.
 */
int fe_bf_process_as(struct fe_bf *st, const struct fe_bf *leader, const float *x, unsigned stride,
                     float *out);

/* frame - hop: output sample n is the input's sample n - latency. */
unsigned fe_bf_latency(const struct fe_bf *st);

/*
 * Design figures of the fixed weights (MVDR: its superdirective prior) for
 * steering direction steer_deg (nearest grid direction) at STFT bin `bin` (0 .. frame/2; frequency bin * rate
 * / frame): the power gain in dB for a plane wave from source_deg, and the white-noise gain in dB.
 */
float fe_bf_plane_wave_gain_db(const struct fe_bf *st, float steer_deg, float source_deg, unsigned bin);
float fe_bf_wng_db(const struct fe_bf *st, float steer_deg, unsigned bin);

#endif
