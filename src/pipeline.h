/*
 * pipeline.h - the DSP thread: consumes captured hops from the capture ring,
 * pairs them with the echo reference and runs the front end over them.
 *
 * Today it meters every channel (mics and reference) and counts frames; the
 * front end (AEC, beamformer, NS/AGC), VAD/wake and the uplink ring plug in
 * here in later stages. It sleeps on the capture thread's eventfd, so it
 * uses no CPU while no audio arrives.
 *
 * Threads: create/start/stop/destroy and pipeline_levels() from the main
 * thread; everything else runs on the pipeline's own thread, which is the
 * consumer of `in` and of `sw_ref`.
 */
#ifndef HARK_PIPELINE_H
#define HARK_PIPELINE_H

#include "cloud_client.h"
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
};

struct pipeline *pipeline_create(const struct pipeline_cfg *cfg);
int pipeline_start(struct pipeline *p);
void pipeline_stop(struct pipeline *p);
void pipeline_destroy(struct pipeline *p);

/* Latest one-second window and run totals (main thread). */
void pipeline_levels(struct pipeline *p, struct level_snapshot *out);
/* Frames of software reference consumed. */
uint64_t pipeline_sw_ref_frames(struct pipeline *p);

#endif
