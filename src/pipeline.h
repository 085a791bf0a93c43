/*
 * pipeline.h - the DSP thread: consumes captured hops from the capture ring,
 * pairs them with the echo reference and runs the front end over them.
 *
 * Per hop it meters every channel (mics and reference), runs the front end
 * (src/frontend.h: AEC against the capture's reference slot or the software
 * reference, DOA, MVDR beam, NS/AGC) and hands its output to the cloud
 * uplink. On the front end's output it runs the wake-word detector
 * (src/wake.h) and the VAD (src/vad.h) and posts their events to the main
 * thread through an SPSC ring and an eventfd. When the gate opens after a
 * wake word (or follow-up speech) it sends the wake detector's pre-roll
 * first, so the cloud hears the whole utterance. It sleeps on the capture
 * thread's eventfd, so it uses no CPU while no audio arrives.
 *
 * Threads: create/start/stop/destroy and pipeline_levels() from the main
 * thread; everything else runs on the pipeline's own thread, which is the
 * consumer of `in` and of `sw_ref`.
 */
#ifndef HARK_PIPELINE_H
#define HARK_PIPELINE_H

#include "cloud_client.h"
#include "config.h"
#include "level_meter.h"
#include "ring.h"

struct pipeline;

struct pipeline_cfg {
    struct ring *in;           /* hops of hop_frames x channels float, from the capture thread */
    int in_notify_fd;          /* eventfd the capture thread writes per hop */
    unsigned hop_frames;
    unsigned channels;         /* mics + 1 reference slot */
    unsigned rate;
    struct ring *sw_ref;       /* software echo reference (mono float), or NULL */
    struct cloud_client *cloud;/* uplink consumer of the front-end output, or NULL */
    const struct board_cfg *board; /* mic geometry for direction finding and the beam; NULL = none */
    const struct frontend_conf *frontend; /* hark.conf [frontend]; NULL = defaults */
    const struct vad_conf *vad;  /* [vad]: model "" or NULL = no VAD */
    const struct wake_conf *wake;/* [wake]: model "" or NULL = no wake word */
    int event_fd;                /* eventfd written when events are queued; -1 = none */
};

/* Events from the DSP thread to the main thread. */
enum pipeline_ev_type {
    PEV_WAKE = 1,              /* the wake phrase ended at t_ns (score: smoothed posterior) */
    PEV_SPEECH_START,          /* VAD: speech began; near_end says whether it is the user's
                                * voice over our own playback (the AEC's judgement) */
    PEV_SPEECH_END,            /* VAD: speech stopped (hangover elapsed) */
    PEV_TURN_END,              /* VAD: silence long enough to end the user's turn */
};

struct pipeline_event {
    enum pipeline_ev_type type;
    float score;
    bool near_end;
    uint64_t t_ns;             /* CLOCK_MONOTONIC when the DSP thread decided */
    uint64_t onset_ns;         /* PEV_SPEECH_START: t_ns less the speech run the decision
                                * waited for (10 ms a frame) and the front end's latency:
                                * when the speech began at the mics; else 0 */
};

struct pipeline_doa {
    bool enabled;              /* the board has >= 2 mics and the hop is 10 ms */
    float azimuth_deg;         /* tracked talker, counter-clockwise from +x */
    float confidence;          /* 0..1 */
    bool active;               /* the last hop carried directional sound */
};

struct pipeline *pipeline_create(const struct pipeline_cfg *cfg);
int pipeline_start(struct pipeline *p);
void pipeline_stop(struct pipeline *p);
void pipeline_destroy(struct pipeline *p);

/* Latest one-second window and run totals (main thread). */
void pipeline_levels(struct pipeline *p, struct level_snapshot *out);
/* Direction of the tracked talker (main thread; a snapshot). */
void pipeline_doa(struct pipeline *p, struct pipeline_doa *out);
struct pipeline_aec {
    bool enabled;
    float erle_db;             /* echo reduction estimate (far-end-only hops) */
    bool double_talk;          /* near talker over the playback (barge-in) */
    bool converged;
};
/* Echo canceller state (main thread; a snapshot). */
void pipeline_aec(struct pipeline *p, struct pipeline_aec *out);

/* Main thread: takes up to max queued events; returns how many. */
size_t pipeline_take_events(struct pipeline *p, struct pipeline_event *ev, size_t max);
/* Main thread: muted = no wake word or VAD analysis and nothing queued for
 * the uplink. preroll: the next opening of the gate starts with the wake
 * detector's pre-roll (set before a wake-word or speech-started wake; any
 * other opening sends live audio only). */
void pipeline_set_muted(struct pipeline *p, bool muted);
void pipeline_request_preroll(struct pipeline *p, bool on);
/* Main thread, when a wake word has started a turn: the VAD forgets the
 * current speech segment (the phrase) and ignores the next 200 ms, so the
 * turn ends after the request that follows, not after the phrase
 * (vad_rearm()). A wake word that starts nothing (mid-turn) leaves the VAD
 * alone. */
void pipeline_request_vad_rearm(struct pipeline *p);

struct pipeline_vw {
    bool vad_enabled, wake_enabled;
    float vad_prob;            /* last hop */
    bool speech;               /* VAD decision (with hysteresis) */
    float wake_score;          /* smoothed posterior, last hop */
    float wake_max_score;      /* highest smoothed posterior since start (threshold tuning) */
    uint64_t wakes, wakes_guarded;   /* detections; suppressed by the self-wake guard */
    uint64_t prerolls;         /* pre-rolls sent */
};
void pipeline_vad_wake(struct pipeline *p, struct pipeline_vw *out);

/* Frames of software reference consumed. */
uint64_t pipeline_sw_ref_frames(struct pipeline *p);

#endif
