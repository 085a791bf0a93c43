/*
 * pipeline.c - the DSP thread (see pipeline.h).
 */
#include "pipeline.h"
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#define SW_REF_CHUNK 256

struct pipeline {
    struct pipeline_cfg cfg;
    struct worker w;
    float *hop;
    float sw_ref_buf[SW_REF_CHUNK];
    struct level_meter meter;
    _Atomic uint64_t sw_ref_frames;
};

struct pipeline *pipeline_create(const struct pipeline_cfg *cfg)
{
    struct pipeline *p = calloc(1, sizeof(*p));

    if (!p)
        return NULL;
    p->cfg = *cfg;
    p->hop = calloc((size_t)cfg->hop_frames * cfg->channels, sizeof(float));
    if (worker_init(&p->w) < 0 || !p->hop || level_meter_init(&p->meter, cfg->channels, cfg->rate) < 0) {
        pipeline_destroy(p);
        return NULL;
    }
    return p;
}

static void drain_sw_ref(struct pipeline *p)
{
    size_t avail;

    if (!p->cfg.sw_ref)
        return;
    while ((avail = ring_readable(p->cfg.sw_ref) / sizeof(float)) > 0) {
        size_t n = avail < SW_REF_CHUNK ? avail : SW_REF_CHUNK;
        ring_read(p->cfg.sw_ref, p->sw_ref_buf, n * sizeof(float));
        atomic_fetch_add_explicit(&p->sw_ref_frames, n, memory_order_relaxed);
    }
}

static void *pipeline_thread(void *arg)
{
    struct pipeline *p = arg;
    size_t hop_bytes = (size_t)p->cfg.hop_frames * p->cfg.channels * sizeof(float);
    struct pollfd pfd[2] = {
        { .fd = p->cfg.in_notify_fd, .events = POLLIN },
        { .fd = p->w.stop_fd, .events = POLLIN },
    };

    for (;;) {
        uint64_t v;

        if (poll(pfd, 2, 1000) < 0 && errno != EINTR)
            break;
        if (pfd[1].revents & POLLIN)
            break;
        if (pfd[0].revents & POLLIN)
            (void)!read(p->cfg.in_notify_fd, &v, sizeof(v));
        while (ring_read(p->cfg.in, p->hop, hop_bytes) == hop_bytes) {
            if (level_meter_process(&p->meter, p->hop, p->cfg.hop_frames))
                level_meter_publish(&p->meter);
            /* Until the front end lands, the uplink is the mean of the mics. */
            if (p->cfg.cloud)
                cloud_client_push_mic(p->cfg.cloud, p->hop, p->cfg.channels, p->cfg.channels - 1);
        }
        drain_sw_ref(p);
    }
    /* The capture thread is stopped first: take what it left in the ring. */
    while (ring_read(p->cfg.in, p->hop, hop_bytes) == hop_bytes)
        level_meter_process(&p->meter, p->hop, p->cfg.hop_frames);
    drain_sw_ref(p);
    level_meter_publish(&p->meter);
    return NULL;
}

int pipeline_start(struct pipeline *p)
{
    return worker_start(&p->w, pipeline_thread, p);
}

void pipeline_stop(struct pipeline *p)
{
    if (p)
        worker_stop(&p->w);
}

void pipeline_destroy(struct pipeline *p)
{
    if (!p)
        return;
    worker_destroy(&p->w);
    free(p->hop);
    free(p);
}

void pipeline_levels(struct pipeline *p, struct level_snapshot *out)
{
    level_meter_read(&p->meter, out);
}

uint64_t pipeline_sw_ref_frames(struct pipeline *p)
{
    return atomic_load_explicit(&p->sw_ref_frames, memory_order_relaxed);
}
