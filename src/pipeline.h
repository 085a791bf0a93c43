/*
 * pipeline.h - the DSP thread: consumes captured hops from the capture ring,
 * pairs them with the echo reference and runs the front end over them.
 *
 * Per hop it meters every channel (mics and reference), runs the front end
 * (src/frontend.h: AEC against the capture's reference slot or the software
 * reference, DOA, MVDR beam, NS/AGC) and hands its output to the cloud
 * uplink. VAD/wake plug in here in later stages. It sleeps on the capture thread's eventfd, so it
 * uses no CPU while no audio arrives.
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

/* Frames of software reference consumed. */
uint64_t pipeline_sw_ref_frames(struct pipeline *p);

#endif
