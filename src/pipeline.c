/*
 * pipeline.c - the DSP thread (see pipeline.h).
 */
#include "pipeline.h"
#include "fe_beamformer.h"
#include "fe_doa.h"
#include "worker.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SW_REF_CHUNK 256

struct pipeline {
    struct pipeline_cfg cfg;
    struct worker w;
    float *hop;
    float sw_ref_buf[SW_REF_CHUNK];
    struct level_meter meter;
    struct fe_doa *doa;
    struct fe_bf *bf;
    float *beam;
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
    if (cfg->board && cfg->board->mic_count >= 2) {
        struct fe_doa_cfg dc;
        struct fe_bf_cfg bc;
        fe_doa_cfg_from_board(&dc, cfg->board);
        fe_bf_cfg_from_board(&bc, cfg->board);
        /* The front end runs on 10 ms hops: one capture period. */
        if (dc.hop == cfg->hop_frames && bc.hop == cfg->hop_frames) {
            p->doa = fe_doa_create(&dc);
            p->bf = fe_bf_create(&bc);
            p->beam = calloc(cfg->hop_frames, sizeof(float));
            if (!p->doa || !p->bf || !p->beam) {
                pipeline_destroy(p);
                return NULL;
            }
        }
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
            if (p->doa) {
                struct fe_doa_info info;
                uint32_t bits;

                fe_doa_process(p->doa, p->hop, p->cfg.channels);
                fe_doa_get_info(p->doa, &info);
                fe_bf_set_azimuth(p->bf, info.azimuth_deg);
                fe_bf_set_noise_update(p->bf, info.target_absent);
                (void)fe_bf_process(p->bf, p->hop, p->cfg.hop_frames, p->cfg.channels, p->beam);
                memcpy(&bits, &info.azimuth_deg, sizeof(bits));
                atomic_store_explicit(&p->doa_az_bits, bits, memory_order_relaxed);
                memcpy(&bits, &info.confidence, sizeof(bits));
                atomic_store_explicit(&p->doa_conf_bits, bits, memory_order_relaxed);
                atomic_store_explicit(&p->doa_active, info.active, memory_order_relaxed);
                if (p->cfg.cloud)
                    cloud_client_push_mic(p->cfg.cloud, p->beam, 1, 1);
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
    fe_doa_destroy(p->doa);
    fe_bf_destroy(p->bf);
    free(p->beam);
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

    out->enabled = p->doa != NULL;
    memcpy(&out->azimuth_deg, &az, sizeof(az));
    memcpy(&out->confidence, &conf, sizeof(conf));
    out->active = atomic_load_explicit(&p->doa_active, memory_order_relaxed);
}

uint64_t pipeline_sw_ref_frames(struct pipeline *p)
{
    return atomic_load_explicit(&p->sw_ref_frames, memory_order_relaxed);
}
