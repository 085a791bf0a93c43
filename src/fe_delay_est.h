/*
 * fe_delay_est.h - bulk delay between the echo reference (what the device
 * plays, as the capture or the playback thread hands it over) and its echo
 * in the microphones, for the acoustic echo canceller (fe_aec).
 *
 * Capture and playback may run on separate clocks and separate buffers, so
 * the reference can lead or lag its echo by up to a few hundred
 * milliseconds, and the offset creeps with clock drift. The estimator keeps
 * the last ~1 s of both signals decimated to rate / decim (4 kHz at 16 kHz),
 * and every update_hops hops cross-correlates them with the phase transform
 * (GCC-PHAT, zero-padded FFT, so the correlation is linear, not circular).
 * The raw cross-spectra are averaged over updates before whitening, so a
 * few seconds of far-end speech build up a sharp peak; updates where the
 * reference is silent are skipped. The peak is refined with a parabola.
 *
 * Convention: lag > 0 means the echo in the mics comes lag samples AFTER
 * the reference (the normal case: loudspeaker and air add delay); lag < 0
 * means the reference reaches the DSP late, after its echo. Lags are in
 * samples at the input rate.
 *
 * Threads: process and getters on one thread (the DSP thread); create and
 * destroy on any thread while nothing else uses it. process never
 * allocates, blocks or logs; an update costs three real FFTs of `fft`
 * points (8192 at the defaults) once every update_hops hops.
 *
 * Errors: create returns NULL for a bad cfg or on OOM. Nothing here prints.
 */
#ifndef HARK_FE_DELAY_EST_H
#define HARK_FE_DELAY_EST_H

#include <stdbool.h>

struct fe_delay_est_cfg {
    unsigned rate;           /* Hz, input rate */
    unsigned hop;            /* frames per process call */
    unsigned decim;          /* decimation factor, 1 .. 8 */
    float max_lag_ms;        /* |lag| searched */
    float window_ms;         /* history correlated per update */
    unsigned update_hops;    /* hops between updates */
    float smooth;            /* cross-spectrum forgetting per update, 0 .. 0.95 */
    float ref_floor_dbfs;    /* reference power below which an update is skipped */
};

/* 16 kHz defaults: hop 160, decim 4, max lag 250 ms, window 1024 ms,
 * update every 25 hops (250 ms), smooth 0.7, reference floor -65 dBFS. */
void fe_delay_est_cfg_default(struct fe_delay_est_cfg *cfg, unsigned rate);

struct fe_delay_est;

struct fe_delay_est *fe_delay_est_create(const struct fe_delay_est_cfg *cfg);
void fe_delay_est_destroy(struct fe_delay_est *st);
void fe_delay_est_reset(struct fe_delay_est *st);

/*
 * One hop: mic holds hop frames with `stride` floats per frame, of which the
 * first `mics` channels are averaged (mics >= 1); ref holds hop mono
 * frames. Returns true when this call produced a new estimate.
 */
bool fe_delay_est_process(struct fe_delay_est *st, const float *mic, unsigned stride, unsigned mics,
                          const float *ref);

struct fe_delay_est_result {
    bool valid;        /* at least one update has run */
    float lag;         /* samples at the input rate (see the convention above) */
    float confidence;  /* whitened correlation peak / band bins, 0 .. 1 (noise: ~0.02) */
    unsigned updates;  /* updates run so far */
};
void fe_delay_est_get(const struct fe_delay_est *st, struct fe_delay_est_result *out);

#endif
