/*
 * frontend.h - the daemon's audio front end as one object: the chain from
 * the captured mic channels and the echo reference to the mono 16 kHz
 * signal that VAD, wake word and the cloud uplink consume.
 *
 *   capture rate --fe_resample--> 16 kHz (mics + reference together, when
 *   the board does not capture at 16 kHz)
 *     --fe_aec (every mic; or once on the beam, aec_mode post)
 *     --fe_doa (SRP-PHAT, tracker) --fe_beamformer (MVDR steered at the
 *     tracked talker; off: mean of the mics)
 *     --fe_ns_agc (speexdsp noise suppression + AGC) --> mono 16 kHz
 *
 * One hop is 10 ms at 16 kHz (160 frames; docs/frontend.md). The caller
 * hands in 10 ms of capture (in_hop frames at the capture rate) per call;
 * with a capture rate that is not a multiple of 100 Hz the resampler's FIFO
 * hands out 0, 1 or 2 hops per call, so process returns the frames written.
 *
 * Threads: process, the getters and set_doa_lock on one thread (the DSP
 * thread, src/pipeline.c; hark-fe's main thread); publish copies for other
 * threads. create/destroy on any thread while nothing else uses it. process
 * never allocates, blocks or logs.
 *
 * Errors: create returns NULL for a bad cfg (no mics, capture rate out of
 * 8..192 kHz, a stage refusing its cfg) or on OOM. Nothing here prints.
 */
#ifndef HARK_FRONTEND_H
#define HARK_FRONTEND_H

#include <stdbool.h>

#include "config.h"
#include "fe_aec.h"
#include "fe_ns_agc.h"

#define FRONTEND_RATE 16000
#define FRONTEND_HOP 160
#define FRONTEND_MAX_OUT (2 * FRONTEND_HOP) /* most frames one process call writes */

struct frontend_cfg {
    unsigned mic_count;
    double mic_pos_mm[HARK_MAX_MICS][3];
    unsigned in_rate;              /* capture rate of mics and reference */
    bool aec;
    enum frontend_aec_mode aec_mode;
    struct fe_aec_cfg aec_cfg;     /* rate and channels are set by create */
    bool beam;                     /* false: mean of the mics */
    bool doa;                      /* direction finding (needs >= 2 mics) */
    struct fe_ns_agc_cfg ns_agc;   /* ns and agc both false: stage bypassed */
};

/* The board's mics and capture rate plus hark.conf's [frontend] (fc may be
 * NULL: built-in defaults). */
void frontend_cfg_from_conf(struct frontend_cfg *cfg, const struct board_cfg *board, const struct frontend_conf *fc);

struct frontend;

struct frontend *frontend_create(const struct frontend_cfg *cfg);
void frontend_destroy(struct frontend *fe); /* NULL is fine */

/* Capture frames per process call: 10 ms at the capture rate. */
unsigned frontend_in_hop(const struct frontend *fe);

/*
 * One 10 ms capture period: mics = in_hop frames of `stride` floats, mic m
 * at mics[n * stride + m] (board order, m < mic_count <= stride); ref =
 * in_hop mono reference samples at the capture rate, or NULL (silence).
 * Writes the output (mono 16 kHz) to out (room for FRONTEND_MAX_OUT) and
 * returns the frames written (a multiple of FRONTEND_HOP).
 */
unsigned frontend_process(struct frontend *fe, const float *mics, unsigned stride, const float *ref, float *out);

/* Tracked talker (see fe_doa_get); enabled = the chain has a DOA. */
bool frontend_doa(const struct frontend *fe, float *azimuth_deg, float *confidence, bool *active);
/* Echo canceller state (zeros when the AEC is off). Returns whether it is on. */
bool frontend_aec_state(const struct frontend *fe, struct fe_aec_state *out);
/* Lock the DOA tracker (wake word .. end of turn). */
void frontend_set_doa_lock(struct frontend *fe, bool locked);
/* Frames (16 kHz) the output lags the input now (resampler excluded). */
unsigned frontend_latency(const struct frontend *fe);

#endif
