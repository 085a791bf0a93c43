/*
 * vad.h - on-device voice activity detection: a frame-level speech
 * probability from a small neural model (models/vad.hkm: log-mel features
 * -> causal conv -> GRU -> sigmoid, see docs/vad-wake.md) on the 16 kHz
 * front-end output, and hysteresis that turns it into speech segments and
 * turn-end events.
 *
 * Per 10 ms hop (MEL_HOP = 160 samples):
 *   prob       model output in [0, 1] for the frame ending with this hop
 *   raw        prob >= threshold
 *   is_speech  rises after onset_ms of consecutive raw speech frames
 *              (VAD_EV_SPEECH_START), falls after hangover_ms of consecutive
 *              raw non-speech (VAD_EV_SPEECH_END)
 *   turn end   VAD_EV_TURN_END once, when turn_end_ms of consecutive raw
 *              non-speech follow a speech segment (is_speech having risen
 *              since the last turn end or reset); timing is counted from
 *              the last raw speech frame, independently of the hangover
 *
 * The hysteresis is a separate plain-data object (struct vad_hyst) so that
 * it can be driven by any probability source and tested on its own.
 *
 * Threads: a struct vad belongs to the thread that calls vad_process() (the
 * DSP thread in harkd; the main thread in hark-vad). vad_process() and
 * vad_hyst_step() never allocate, block or log. The model may be shared
 * read-only with other streams.
 *
 * Errors: vad_create() returns NULL with a reason in err when the model is
 * not a VAD model (kind "vad", 40 inputs = MEL_BANDS, 1 output) or the
 * config is out of range, or on out of memory. Nothing here prints.
 */
#ifndef HARK_VAD_H
#define HARK_VAD_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "mel.h"
#include "nn_model.h"

#define VAD_FRAME_MS 10

enum vad_event {
    VAD_EV_SPEECH_START = 1,
    VAD_EV_SPEECH_END = 2,
    VAD_EV_TURN_END = 4,
};

struct vad_cfg {
    float threshold;      /* (0, 1]; 0 = the model's "threshold" metadata (else 0.5) */
    unsigned onset_ms;    /* 0 .. 1000 */
    unsigned hangover_ms; /* 0 .. 5000 */
    unsigned turn_end_ms; /* 10 .. 10000 */
};

/* threshold 0 (model's hint), onset 30 ms, hangover 200 ms, turn end 700 ms. */
void vad_cfg_default(struct vad_cfg *cfg);

/* From hark.conf's [vad] section. */
void vad_cfg_from_conf(struct vad_cfg *cfg, const struct vad_conf *conf);

/* ---- hysteresis alone ---------------------------------------------------- */

struct vad_hyst {
    float threshold;
    unsigned onset_frames, hangover_frames, turn_end_frames;
    unsigned run_speech, run_silence; /* consecutive raw frames of each kind */
    unsigned holdoff;                 /* frames still ignored after a re-arm */
    bool is_speech, in_turn;
};

/* Returns 0 or -EINVAL (threshold outside (0, 1], ms out of range). */
int vad_hyst_init(struct vad_hyst *h, const struct vad_cfg *cfg);
void vad_hyst_reset(struct vad_hyst *h);
/*
 * Re-arm after a wake word: forget the current speech segment without an
 * event (no speech end, no turn end for it), then treat the next
 * holdoff_frames frames as non-speech. Speech that goes on after that (the
 * request that follows "hey nova") starts a new segment with
 * VAD_EV_SPEECH_START; the wake phrase's own tail cannot.
 */
void vad_hyst_rearm(struct vad_hyst *h, unsigned holdoff_frames);

/* One frame's probability in; returns the vad_event bits of this frame. */
unsigned vad_hyst_step(struct vad_hyst *h, float prob);

/* ---- model + features + hysteresis ------------------------------------- */

struct vad;

/* The model must outlive the vad. err may be NULL. */
struct vad *vad_create(const struct nn_model *model, const struct vad_cfg *cfg, char *err, size_t errlen);
void vad_destroy(struct vad *v); /* NULL is fine */
void vad_reset(struct vad *v);

/* vad_hyst_rearm() on the detector's hysteresis (same thread as process). */
void vad_rearm(struct vad *v, unsigned holdoff_ms);

/* Consecutive speech frames up to the last one processed (at a
 * VAD_EV_SPEECH_START: the run the onset hysteresis decided on). */
unsigned vad_speech_run_frames(const struct vad *v);

/* The threshold in use (cfg's, or the model's hint). */
float vad_threshold(const struct vad *v);

/*
 * One hop of 16 kHz samples in [-1, 1). *prob and *is_speech (either may
 * be NULL) get this frame's values; returns the vad_event bits.
 */
unsigned vad_process(struct vad *v, const float hop[MEL_HOP], float *prob, bool *is_speech);

#endif
