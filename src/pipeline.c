/*
 * pipeline.c - the DSP thread (see pipeline.h).
 */
#include "pipeline.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define SW_REF_CHUNK 256

struct pipeline {
    struct pipeline_cfg cfg;
    int stop_fd;
    pthread_t thread;
    bool started;
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
    p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    p->hop = calloc((size_t)cfg->hop_frames * cfg->channels, sizeof(float));
    if (p->stop_fd < 0 || !p->hop || level_meter_init(&p->meter, cfg->channels, cfg->rate) < 0) {
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
        { .fd = p->stop_fd, .events = POLLIN },
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
    int r = pthread_create(&p->thread, NULL, pipeline_thread, p);

    if (r)
        return -r;
    p->started = true;
    return 0;
}

void pipeline_stop(struct pipeline *p)
{
    uint64_t one = 1;

    if (!p || !p->started)
        return;
    (void)!write(p->stop_fd, &one, sizeof(one));
    pthread_join(p->thread, NULL);
    p->started = false;
}

void pipeline_destroy(struct pipeline *p)
{
    if (!p)
        return;
    pipeline_stop(p);
    if (p->stop_fd >= 0)
        close(p->stop_fd);
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
