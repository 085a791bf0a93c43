/*
 * wake.h - streaming wake-word detector ("hey nova" by default, any phrase a
 * user trains with tools/train/train_wake.py) on the 16 kHz mono front-end
 * output, with the pre-roll ring that lets the cloud hear the whole
 * utterance.
 *
 * Per hop of WAKE_HOP = 160 samples (10 ms): the hop goes into the pre-roll
 * ring, one 40-band log-mel frame is computed (mel.h), the model (a .hkm file
 * of kind "wake", nn_model.h) turns it into a posterior p_t in [0, 1] that
 * the phrase has just ended, and the decision stage (struct wake_decider)
 * fires:
 *
 *   s_t = (p_t + p_{t-1} + ... + p_{t-k+1}) / k      moving average, k = smooth
 *   fire at t when s_t >= thr and t - t_last >= refractory frames
 *
 * where t_last is the frame of the previous detection (none at start).
 * Nothing fires during the first "rf" frames after create/reset (the
 * model's receptive field, from its metadata): until the network has seen
 * that much audio its convolutions read zero padding.
 * thr, k and the refractory period come from the config when set, else from
 * the model's metadata ("threshold", "smooth", "refractory_ms", chosen on
 * validation data by the training tool).
 *
 * Self-wake guard. The device's own playback reaches the mics; after AEC a
 * residue remains, and when the assistant says "nova" the detector must not
 * wake itself. The caller (the DSP thread, which knows whether the speaker
 * is playing and what the AEC made of each hop) reports that with
 * wake_observe_playback() (or wake_set_playback_active()); while playback
 * is active and for playback_hold_ms after it stops (the room's
 * reverberation tail), a detection is suppressed when
 *   - more than playback_echo_share of the last second was, by the AEC's
 *     judgement, our own echo alone (far_active && !near_active): a user
 *     who says the phrase over the playback makes the AEC see a near talker
 *     (double talk), the echo of our own "hey nova" does not; or
 *   - the residual echo level of the hop is at or above playback_block_dbfs
 *     (the AEC has not converged, or the echo is loud enough that the
 *     residue alone could trigger);
 * and the threshold becomes max(thr, playback_threshold) (0.97 by default:
 * the user's own wake word over the playback is often missed; voice
 * barge-in by the VAD and the button are the ways to interrupt).
 * Detections suppressed by the guard are counted (wake_stats).
 *
 * Pre-roll. The last preroll_ms of input (rounded up to whole hops, at
 * least 500 ms plus the decision delay is recommended) are kept in a
 * fixed ring; wake_preroll_copy() copies the newest samples out oldest
 * first, so at a detection the uplink can start with the phrase itself.
 *
 * Threads: wake_create()/wake_destroy() on the main thread at start-up and
 * shut-down; wake_process(), wake_preroll_copy(), wake_set_playback_active(),
 * wake_reset() and the getters on the one thread that feeds the audio (the
 * DSP thread in harkd, the main thread in hark-wake). wake_process() never
 * allocates, blocks or logs. The wake_decider functions are pure and run
 * on any thread that owns the struct.
 *
 * Errors: wake_create() returns NULL and writes a one-line reason into err
 * (model file missing, corrupt or of another kind, a config value out of
 * range, out of memory). Nothing here prints.
 */
#ifndef HARK_WAKE_H
#define HARK_WAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WAKE_RATE 16000
#define WAKE_HOP 160               /* samples per wake_process() call (10 ms) */
#define WAKE_MAX_SMOOTH 64         /* frames */
#define WAKE_MIN_PREROLL_MS 100
#define WAKE_MAX_PREROLL_MS 10000

struct nn_model;

struct wake_cfg {
    float threshold;               /* 0 = the model's "threshold" metadata */
    unsigned smooth_frames;        /* 0 = the model's "smooth" metadata (else 5) */
    unsigned refractory_ms;        /* 0 = the model's "refractory_ms" metadata (else 1500) */
    unsigned preroll_ms;           /* pre-roll ring length, 100 .. 10000 */
    float playback_threshold;      /* threshold while own playback is active, 0..1
                                    * (0 or below the normal threshold: not raised) */
    unsigned playback_hold_ms;     /* guard stays on this long after playback stops */
    float playback_block_dbfs;     /* residual echo at/above this: no detection */
    float playback_echo_share;     /* while playing: no detection when more than this share
                                    * of the last second was our own echo alone (the AEC's
                                    * far_active && !near_active), 0..1; 1 = off */
};

/* Defaults: model values, 1000 ms pre-roll, guard threshold 0.97, hold
 * 300 ms, block at -45 dBFS residual echo, echo share 0.5 (chosen with
 * tools/eval/eval_self_wake.py, docs/vad-wake.md). */
void wake_cfg_defaults(struct wake_cfg *cfg);

/* ---- decision stage (smoothing, threshold, refractory) ---------------------- */

struct wake_decider {
    unsigned smooth;               /* k, 1 .. WAKE_MAX_SMOOTH */
    unsigned refractory;           /* frames */
    float hist[WAKE_MAX_SMOOTH];   /* last k posteriors (ring) */
    unsigned pos;
    double sum;
    uint64_t frame;                /* frames seen */
    uint64_t last_fire;            /* frame index of the last detection + 1; 0 = none */
    float score;                   /* s_t of the last frame */
};

/* Returns 0, or -EINVAL when smooth is 0 or above WAKE_MAX_SMOOTH. */
int wake_decider_init(struct wake_decider *d, unsigned smooth, unsigned refractory_frames);
void wake_decider_reset(struct wake_decider *d);

/* Feed the posterior of one frame; returns true when the detector fires at
 * this frame (frame index d->frame - 1, smoothed score d->score) with thr. */
bool wake_decider_step(struct wake_decider *d, float posterior, float thr);

/* ---- the detector ------------------------------------------------------------ */

struct wake;

struct wake_event {
    uint64_t sample;               /* input samples consumed when it fired (end of the hop) */
    float score;                   /* smoothed posterior at the detection */
};

struct wake_stats {
    uint64_t frames;               /* hops processed */
    uint64_t detections;
    uint64_t guarded;              /* detections suppressed by the self-wake guard */
    float last_score;              /* smoothed posterior of the last hop */
    float max_score;               /* highest smoothed posterior since reset */
};

/* Load the model at model_path (must be of kind "wake", 40 inputs, 1
 * output) and set up the detector. */
struct wake *wake_create(const struct wake_cfg *cfg, const char *model_path, char *err,
                         size_t errlen);

/* The same with an already loaded model; the model must outlive the
 * detector and is not freed by wake_destroy(). */
struct wake *wake_create_with_model(const struct wake_cfg *cfg, const struct nn_model *model,
                                    char *err, size_t errlen);

void wake_destroy(struct wake *w); /* NULL is fine */

/* Forget all history (features, model state, smoothing, refractory, ring). */
void wake_reset(struct wake *w);

/* One hop of WAKE_HOP samples (float, [-1, 1)). Returns 1 and fills ev when
 * the phrase was detected at the end of this hop, else 0. */
int wake_process(struct wake *w, const float hop[WAKE_HOP], struct wake_event *ev);

/* Copy the newest min(max, available) pre-roll samples into dst, oldest
 * first; returns the count. "available" grows to the ring size as audio
 * arrives. */
size_t wake_preroll_copy(const struct wake *w, float *dst, size_t max);
size_t wake_preroll_capacity(const struct wake *w); /* samples */

/* Self-wake guard input (see above): active = the speaker is playing;
 * echo_dbfs = the AEC's residual echo level (dB re full scale), or a very
 * low value (e.g. -200) when unknown/none. */
void wake_set_playback_active(struct wake *w, bool active, float echo_dbfs);
/* wake_observe_playback() also keeps, over the last second, how many hops
 * the AEC explained by our own playback alone; see playback_echo_share. */

/* The guard fed from the echo canceller's flags for this hop, as harkd's
 * DSP thread and hark-fe --wake do: active = far_active; the residual echo
 * level is the level of hop (the front end's output, n samples) while the
 * far end sounds alone (far_active && !near_active), else none. */
void wake_observe_playback(struct wake *w, bool far_active, bool near_active, const float *hop, unsigned n);

/* Effective values after model defaults were applied. */
float wake_threshold(const struct wake *w);
unsigned wake_smooth_frames(const struct wake *w);
unsigned wake_refractory_ms(const struct wake *w);
/* The model's phrase ("hey nova"), or "" when it has none. */
const char *wake_phrase(const struct wake *w);

void wake_get_stats(const struct wake *w, struct wake_stats *st);

#endif
