/*
 * fe_ns_agc.h - noise suppression and automatic gain control on the mono
 * front-end output (after AEC and beamformer), by speexdsp's preprocessor
 * (speex_preprocess_state_init / speex_preprocess_run).
 *
 * Signal: mono, cfg.rate (16 kHz), float samples in [-1, 1), cfg.hop
 * frames per call (160 = 10 ms, the front end's hop). Inside, samples are
 * scaled to speexdsp's int16 range with saturation, run through the
 * preprocessor and scaled back, so the output is also in [-1, 1).
 *
 * What speexdsp does here (libspeexdsp/preprocess.c, float build):
 *   - noise suppression: a spectral-gain (MMSE-STSA-like) suppressor with
 *     a minima-controlled noise estimate; cfg.ns_db bounds the attenuation
 *     applied to noise-only bins (SPEEX_PREPROCESS_SET_NOISE_SUPPRESS);
 *   - AGC: a loudness tracker that updates only on frames the
 *     preprocessor's speech probability calls speech, so silence and
 *     stationary noise do not pump the gain up. The gain moves at most
 *     cfg.agc_increment_db_s up and cfg.agc_decrement_db_s down, and stays
 *     below cfg.agc_max_gain_db. cfg.agc_target_dbfs is the RMS level the
 *     AGC aims for over active speech (mapped to speexdsp's AGC_LEVEL with
 *     a calibration measured by tests/unit/test_fe_ns_agc.c).
 *   - dereverberation and speexdsp's VAD stay off.
 * With both ns and agc off, process is a plain copy (no latency).
 * Otherwise the stage delays the signal by exactly one hop
 * (fe_ns_agc_latency(): the preprocessor's 2-hop window, overlap-add at
 * 50 %; measured by the unit test).
 *
 * Threads: process and the getters on one thread (the DSP thread); create
 * and destroy on any thread while nothing else uses the state. process
 * never allocates, blocks or logs.
 *
 * Errors: create returns NULL for a bad cfg (rate not 8000..48000, hop not
 * 1..1024, levels out of the ranges below) or on OOM. Nothing here prints.
 */
#ifndef HARK_FE_NS_AGC_H
#define HARK_FE_NS_AGC_H

#include <stdbool.h>

#include "config.h"

struct fe_ns_agc_cfg {
    unsigned rate;            /* Hz, 8000 .. 48000 */
    unsigned hop;             /* frames per process call, 1 .. 1024 */
    bool ns;                  /* noise suppression on */
    int ns_db;                /* largest noise attenuation, dB, -60 .. 0 */
    bool agc;                 /* automatic gain control on */
    float agc_target_dbfs;    /* speech RMS aimed for, dBFS, -40 .. -3 */
    float agc_max_gain_db;    /* 0 .. 60 */
    float agc_increment_db_s; /* fastest gain rise, dB/s, 1 .. 60 */
    float agc_decrement_db_s; /* fastest gain fall, dB/s, 1 .. 200 */
};

/* Defaults: hop = rate / 100, ns on at -15 dB, agc on at -20 dBFS with at
 * most 30 dB of gain, rising by up to 12 dB/s and falling by up to 40 dB/s
 * (speexdsp's own rates). */
void fe_ns_agc_cfg_default(struct fe_ns_agc_cfg *cfg, unsigned rate);

/* Defaults, then ns, ns_db, agc, agc_target_dbfs and agc_max_gain_db from
 * hark.conf's [frontend] section (config.c range-checks them). */
void fe_ns_agc_cfg_from_conf(struct fe_ns_agc_cfg *cfg, const struct frontend_conf *fc, unsigned rate);

struct fe_ns_agc;

struct fe_ns_agc *fe_ns_agc_create(const struct fe_ns_agc_cfg *cfg);
void fe_ns_agc_destroy(struct fe_ns_agc *st);

/* One hop: in and out hold cfg.hop floats; in == out is allowed. */
void fe_ns_agc_process(struct fe_ns_agc *st, const float *in, float *out);

/*
 * AGC hold (DSP thread, before process): while held, the AGC neither adapts
 * nor applies its gain, so the output passes at 0 dB; on release it goes on
 * with the gain it had. The front end holds it while the far end plays alone
 * (far_active && !near_active): otherwise the AGC takes the residual echo
 * for a quiet talker and raises it, undoing the echo canceller's work.
 * No effect when agc is off.
 */
void fe_ns_agc_set_hold(struct fe_ns_agc *st, bool hold);

/* Current AGC gain in dB (0 when agc is off). */
float fe_ns_agc_gain_db(const struct fe_ns_agc *st);

/* The preprocessor's speech probability of the last hop, 0 .. 1 (0 when
 * both ns and agc are off). */
float fe_ns_agc_speech_prob(const struct fe_ns_agc *st);

/* Delay the stage adds, in frames (0 with ns and agc off). */
unsigned fe_ns_agc_latency(const struct fe_ns_agc *st);

#endif
