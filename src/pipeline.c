/*
 * pipeline.c - the DSP thread (see pipeline.h).
 */
#include "pipeline.h"
#include "frontend.h"
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SW_REF_CHUNK 256
#define SW_REF_MAX_MS 200 /* software reference queued beyond this is dropped */

struct pipeline {
    struct pipeline_cfg cfg;
    struct worker w;
    float *hop;
    float sw_ref_buf[SW_REF_CHUNK];
    struct level_meter meter;
    struct frontend *fe;
    float *ref;                /* hop_frames: this hop's echo reference */
    float *out;                /* FRONTEND_MAX_OUT: front-end output */
    bool ref_in_capture;       /* the reference is the capture's last slot */
    bool sw_ref_usable;        /* sw_ref is at the capture rate */
    _Atomic uint32_t erle_bits;
    _Atomic bool aec_dt, aec_converged;
    _Atomic uint32_t doa_az_bits, doa_conf_bits;
    _Atomic bool doa_active;
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
    if (cfg->board && cfg->board->mic_count >= 1 && cfg->channels > cfg->board->mic_count) {
        struct frontend_cfg fc;
        frontend_cfg_from_conf(&fc, cfg->board, cfg->frontend);
        p->ref_in_capture = cfg->board->ref_channel >= 0;
        p->sw_ref_usable = cfg->sw_ref && cfg->board->playback.rate == cfg->rate;
        /* The front end runs on 10 ms hops: one capture period. */
        if (cfg->rate == FRONTEND_RATE && cfg->hop_frames == FRONTEND_HOP) {
            p->fe = frontend_create(&fc);
            p->ref = calloc(cfg->hop_frames, sizeof(float));
            p->out = calloc(FRONTEND_MAX_OUT, sizeof(float));
            if (!p->fe || !p->ref || !p->out) {
                pipeline_destroy(p);
                return NULL;
            }
        }
    }
    return p;
}

/* This hop's echo reference: the capture's reference slot, or as much of
 * the software reference (what the playback thread wrote) as has arrived;
 * the AEC's delay tracker absorbs the offset between the two threads. */
static const float *hop_reference(struct pipeline *p)
{
    unsigned n = p->cfg.hop_frames, ch = p->cfg.channels;
    size_t bytes = (size_t)n * sizeof(float), max = (size_t)p->cfg.rate * SW_REF_MAX_MS / 1000 * sizeof(float);

    if (p->ref_in_capture) {
        for (unsigned i = 0; i < n; i++)
            p->ref[i] = p->hop[(size_t)i * ch + ch - 1];
        return p->ref;
    }
    if (!p->sw_ref_usable)
        return NULL;
    if (ring_readable(p->cfg.sw_ref) > max + bytes)
        ring_skip(p->cfg.sw_ref, ring_readable(p->cfg.sw_ref) - max);
    if (ring_read(p->cfg.sw_ref, p->ref, bytes) != bytes)
        return NULL;
    atomic_fetch_add_explicit(&p->sw_ref_frames, n, memory_order_relaxed);
    return p->ref;
}

static void drain_sw_ref(struct pipeline *p)
{
    size_t avail;

    if (!p->cfg.sw_ref || (p->fe && p->sw_ref_usable))
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
            if (p->fe) {
                float az, conf;
                bool active;
                struct fe_aec_state as;
                uint32_t bits;
                unsigned got = frontend_process(p->fe, p->hop, p->cfg.channels, hop_reference(p), p->out);

                frontend_doa(p->fe, &az, &conf, &active);
                memcpy(&bits, &az, sizeof(bits));
                atomic_store_explicit(&p->doa_az_bits, bits, memory_order_relaxed);
                memcpy(&bits, &conf, sizeof(bits));
                atomic_store_explicit(&p->doa_conf_bits, bits, memory_order_relaxed);
                atomic_store_explicit(&p->doa_active, active, memory_order_relaxed);
                frontend_aec_state(p->fe, &as);
                memcpy(&bits, &as.erle_db, sizeof(bits));
                atomic_store_explicit(&p->erle_bits, bits, memory_order_relaxed);
                atomic_store_explicit(&p->aec_dt, as.double_talk, memory_order_relaxed);
                atomic_store_explicit(&p->aec_converged, as.converged, memory_order_relaxed);
                if (p->cfg.cloud && got == p->cfg.hop_frames)
                    cloud_client_push_mic(p->cfg.cloud, p->out, 1, 1);
            } else if (p->cfg.cloud) {
                /* No array (one mic): the uplink is the mean of the mics. */
                cloud_client_push_mic(p->cfg.cloud, p->hop, p->cfg.channels, p->cfg.channels - 1);
            }
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
    frontend_destroy(p->fe);
    free(p->ref);
    free(p->out);
    free(p->hop);
    free(p);
}

void pipeline_levels(struct pipeline *p, struct level_snapshot *out)
{
    level_meter_read(&p->meter, out);
}

void pipeline_doa(struct pipeline *p, struct pipeline_doa *out)
{
    uint32_t az = atomic_load_explicit(&p->doa_az_bits, memory_order_relaxed);
    uint32_t conf = atomic_load_explicit(&p->doa_conf_bits, memory_order_relaxed);

    out->enabled = p->fe != NULL && frontend_doa(p->fe, NULL, NULL, NULL);
    memcpy(&out->azimuth_deg, &az, sizeof(az));
    memcpy(&out->confidence, &conf, sizeof(conf));
    out->active = atomic_load_explicit(&p->doa_active, memory_order_relaxed);
}

uint64_t pipeline_sw_ref_frames(struct pipeline *p)
{
    return atomic_load_explicit(&p->sw_ref_frames, memory_order_relaxed);
}

void pipeline_aec(struct pipeline *p, struct pipeline_aec *out)
{
    uint32_t erle = atomic_load_explicit(&p->erle_bits, memory_order_relaxed);

    out->enabled = p->fe != NULL && frontend_aec_state(p->fe, &(struct fe_aec_state){ 0 });
    memcpy(&out->erle_db, &erle, sizeof(erle));
    out->double_talk = atomic_load_explicit(&p->aec_dt, memory_order_relaxed);
    out->converged = atomic_load_explicit(&p->aec_converged, memory_order_relaxed);
}
