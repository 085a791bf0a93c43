/*
 * fe_aec.h - acoustic echo canceller for the front end: removes what the
 * device's own loudspeaker plays (the echo reference) from one or more mic
 * channels, at the front end's 10 ms hop.
 *
 * Chain per hop:
 *   1. bulk delay: fe_delay_est finds the offset between reference and echo
 *      (up to +-250 ms; capture and playback on separate clocks), re-estimated
 *      every 250 ms; the alignment moves only after `realign_confirm`
 *      consistent estimates more than realign_ms away from the current one
 *      (hysteresis). The reference is delayed when it leads; the mics are
 *      delayed when it lags (which adds that much latency: an echo that
 *      reaches the mics before its reference cannot be cancelled causally).
 *      `margin_ms` of the adaptive filter lies before the direct path.
 *   2. linear cancellation: speexdsp's MDF (speex_echo_state_init_mc, all
 *      channels against one reference, tail_ms long). Clock drift moves the
 *      echo slowly: MDF tracks it within the margin, the delay tracker
 *      re-aligns (and restarts MDF) when it has moved further.
 *   3. residual echo suppression (FE_AEC_RES_OWN): per-bin Wiener-style
 *      gain from the MDF's echo estimate y (= aligned mic - MDF output): the
 *      residual echo power per bin is the larger of the part of the output
 *      coherent with y and y's power times the measured leakage (1/ERLE),
 *      times an over-suppression factor; bins where the near talker
 *      dominates keep a gain near 1, so double talk passes. WOLA, frame 320
 *      / hop 160 (sqrt-Hann): adds 10 ms latency. FE_AEC_RES_SPEEX uses
 *      speexdsp's preprocessor RES instead (one MDF per channel, denoise and
 *      AGC off) for comparison; FE_AEC_RES_OFF gives MDF alone.
 *   4. state for barge-in: an ERLE estimate (mic power over output power on
 *      far-end-only hops), converged / far-end / near-end / double-talk
 *      flags (fe_aec_get_state()).
 *
 * Samples are float, full scale +-1 (MDF runs on 16-bit: inputs are scaled
 * by 32768 and clipped). The output has the same channels as the mic input.
 *
 * Threads: process and the getters run on one thread (the DSP thread);
 * to show the state elsewhere the caller publishes a copy. create/destroy on
 * any thread while nothing else uses the object. process never allocates,
 * blocks or logs. (No get_size/init: speexdsp allocates its own state.)
 *
 * Errors: create returns NULL for a bad cfg (checked: rate 8-48 kHz, hop =
 * 10 ms, 1..HARK_MAX_MICS channels, tail 20..1000 ms) or on OOM. Nothing
 * here prints.
 */
#ifndef HARK_FE_AEC_H
#define HARK_FE_AEC_H

#include <stdbool.h>

enum fe_aec_res {
    FE_AEC_RES_OWN = 0, /* coherence/leak Wiener gain (default) */
    FE_AEC_RES_SPEEX,   /* speexdsp preprocessor residual echo suppression */
    FE_AEC_RES_OFF,     /* linear MDF only */
};

struct fe_aec_cfg {
    unsigned rate;            /* Hz */
    unsigned hop;             /* frames per process call: rate / 100 */
    unsigned channels;        /* mic channels cancelled */
    float tail_ms;            /* MDF filter length */
    enum fe_aec_res res;
    float res_floor_db;       /* lowest RES power gain, e.g. -40 */
    float res_over_db;        /* over-suppression of the residual estimate */
    bool delay_tracking;      /* estimate and follow the bulk delay */
    float initial_delay_ms;   /* alignment before the first estimate (lag, see fe_delay_est.h) */
    float max_delay_ms;       /* |lag| searched and followed */
    float margin_ms;          /* filter span before the direct path */
    float realign_ms;         /* estimate-vs-alignment difference that re-aligns */
    unsigned realign_confirm; /* consistent estimates needed */
    float min_delay_conf;     /* estimates below this confidence are ignored */
    float far_floor_dbfs;     /* reference power above which the far end talks */
};

/* Defaults: tail 128 ms, own RES (floor -40 dB, no over-suppression),
 * delay tracking on (+-250 ms, margin 2 ms, re-align at 2 ms after 3
 * estimates of confidence >= 0.08), far end active above -60 dBFS. Tail,
 * margin and over-suppression were chosen on the fe-scenes echo scenes
 * (docs/frontend.md, "Echo cancellation"). */
void fe_aec_cfg_default(struct fe_aec_cfg *cfg, unsigned rate, unsigned channels);

struct fe_aec;

struct fe_aec *fe_aec_create(const struct fe_aec_cfg *cfg);
void fe_aec_destroy(struct fe_aec *st); /* NULL is fine */

/* Forget everything (filters, alignment, statistics). */
void fe_aec_reset(struct fe_aec *st);

/*
 * One hop. mic: cfg.hop frames with `stride` floats per frame, channel c at
 * mic[n * stride + c] (c < cfg.channels <= stride); ref: cfg.hop mono
 * reference samples as the device played them (NULL = silence); out:
 * cfg.hop frames of cfg.channels floats at out[n * out_stride + c]. out
 * may equal mic (same stride) for in-place use.
 */
void fe_aec_process(struct fe_aec *st, const float *mic, unsigned stride, const float *ref, float *out,
                    unsigned out_stride);

struct fe_aec_state {
    float erle_db;          /* linear+RES echo reduction estimate on far-end-only hops */
    float erle_lin_db;      /* MDF alone */
    bool converged;         /* erle_lin_db >= 10 dB for 0.5 s of far-end speech */
    bool far_active;        /* the reference carries sound this hop */
    bool near_active;       /* the output carries more than the expected residual */
    bool double_talk;       /* far_active && near_active && converged */
    float delay_ms;         /* bulk lag applied (fe_delay_est.h convention) */
    float delay_est_ms;     /* latest estimate */
    float delay_conf;       /* its confidence */
    float drift_ppm;        /* clock drift followed (d lag / dt, parts per million) */
    unsigned realigns;      /* alignment changes so far */
    unsigned latency;       /* frames the output lags the mic input now */
};
void fe_aec_get_state(const struct fe_aec *st, struct fe_aec_state *out);

/* Force the bulk lag (samples, fe_delay_est.h convention) from the next hop;
 * restarts the filter. Tracking, if on, may move it again. */
void fe_aec_set_delay(struct fe_aec *st, float lag_samples);

#endif
