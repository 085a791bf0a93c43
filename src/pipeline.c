/*
 * pipeline.c - the DSP thread (see pipeline.h).
 */
#include "pipeline.h"
#include "frontend.h"
#include "log.h"
#include "nn_model.h"
#include "vad.h"
#include "wake.h"
#include "worker.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EVENT_SLOTS 64

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
    /* VAD and wake word (DSP thread), events to the main thread. */
    struct nn_model *vad_model;
    struct vad *vad;
    struct wake *wake;
    float *preroll;            /* wake_preroll_capacity() samples */
    size_t preroll_cap;
    struct ring *events;
    bool gate_was_open;        /* DSP thread */
    _Atomic bool muted, preroll_req, vad_rearm_req;
    _Atomic uint32_t vad_prob_bits, wake_score_bits, wake_max_bits;
    _Atomic bool speech;
    _Atomic uint64_t wakes, wakes_guarded, prerolls;
};

/* After a wake word the VAD ignores this much audio (the phrase's tail and
 * the room's reverberation) before speech may start the user's request. */
#define WAKE_VAD_HOLDOFF_MS 200

static uint64_t mono_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void post(struct pipeline *p, enum pipeline_ev_type type, float score, bool near_end, uint64_t onset_ns)
{
    struct pipeline_event ev = { type, score, near_end, mono_ns(), onset_ns };
    uint64_t one = 1;

    if (ring_write(p->events, &ev, sizeof(ev)) == sizeof(ev) && p->cfg.event_fd >= 0)
        (void)!write(p->cfg.event_fd, &one, sizeof(one));
}

/* Main thread, at create: the models named in [vad] and [wake]. A model that
 * does not load disables that detector with a clear log line; harkd runs on
 * (the button still works). */
static void load_detectors(struct pipeline *p)
{
    char err[256];

    if (p->cfg.vad && p->cfg.vad->model[0]) {
        struct vad_cfg vc;
        vad_cfg_from_conf(&vc, p->cfg.vad);
        if (nn_model_load(p->cfg.vad->model, &p->vad_model, err, sizeof(err)) < 0)
            log_error("VAD off: %s", err);
        else if (!(p->vad = vad_create(p->vad_model, &vc, err, sizeof(err))))
            log_error("VAD off: %s", err);
    }
    if (p->cfg.wake && p->cfg.wake->model[0]) {
        const struct wake_conf *k = p->cfg.wake;
        struct wake_cfg wc;
        wake_cfg_defaults(&wc);
        wc.threshold = (float)k->threshold;
        wc.smooth_frames = k->smooth_frames;
        wc.refractory_ms = k->refractory_ms;
        if (k->preroll_ms)
            wc.preroll_ms = k->preroll_ms;
        wc.playback_threshold = (float)k->playback_threshold;
        wc.playback_hold_ms = k->playback_hold_ms;
        wc.playback_block_dbfs = (float)k->playback_block_dbfs;
        wc.playback_echo_share = (float)k->playback_echo_share;
        p->wake = wake_create(&wc, k->model, err, sizeof(err));
        if (!p->wake) {
            log_error("wake word off: %s", err);
        } else {
            p->preroll_cap = wake_preroll_capacity(p->wake);
            p->preroll = calloc(p->preroll_cap, sizeof(float));
            if (!p->preroll) {
                wake_destroy(p->wake);
                p->wake = NULL;
            } else {
                log_info("wake word \"%s\": threshold %.2f, pre-roll %zu ms", wake_phrase(p->wake),
                         wake_threshold(p->wake), p->preroll_cap * 1000 / FRONTEND_RATE);
            }
        }
    }
}

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
    p->events = ring_create(sizeof(struct pipeline_event) * EVENT_SLOTS);
    if (!p->events) {
        pipeline_destroy(p);
        return NULL;
    }
    if (p->fe)
        load_detectors(p);
    else if ((cfg->vad && cfg->vad->model[0]) || (cfg->wake && cfg->wake->model[0]))
        log_warn("VAD and wake word need the front end (16 kHz capture, 10 ms periods): off");
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

/* At a VAD speech start: when the run of speech frames it decided on began,
 * back-dated by the run's length (10 ms a frame) and the front end's
 * latency. */
static uint64_t speech_onset_ns(const struct pipeline *p)
{
    uint64_t back = (uint64_t)(vad_speech_run_frames(p->vad) - 1) * 10000000ull +
                    (uint64_t)frontend_latency(p->fe) * 1000000000ull / FRONTEND_RATE;

    return mono_ns() - back;
}

/* DSP thread, per 10 ms hop of front-end output in p->out: wake word, VAD,
 * the uplink (pre-roll first when the gate has just opened after a wake). */
static void listen(struct pipeline *p, const struct fe_aec_state *as)
{
    bool muted = atomic_load_explicit(&p->muted, memory_order_relaxed);
    bool gate = p->cfg.cloud && cloud_client_gate_is_open(p->cfg.cloud);
    uint32_t bits;

    if (muted) {
        p->gate_was_open = false;
        return;
    }
    if (p->wake) {
        struct wake_event we;
        struct wake_stats ws;
        wake_observe_playback(p->wake, as->far_active, as->near_active, p->out, FRONTEND_HOP);
        if (wake_process(p->wake, p->out, &we) > 0) {
            atomic_fetch_add_explicit(&p->wakes, 1, memory_order_relaxed);
            post(p, PEV_WAKE, we.score, true, 0);
        }
        wake_get_stats(p->wake, &ws);
        memcpy(&bits, &ws.last_score, sizeof(bits));
        atomic_store_explicit(&p->wake_score_bits, bits, memory_order_relaxed);
        memcpy(&bits, &ws.max_score, sizeof(bits));
        atomic_store_explicit(&p->wake_max_bits, bits, memory_order_relaxed);
        atomic_store_explicit(&p->wakes_guarded, ws.guarded, memory_order_relaxed);
    }
    if (p->vad) {
        float prob;
        bool is_speech;
        unsigned evs;

        /* A wake word started a turn (the main thread says so a hop or two
         * after the detection): the phrase was speech, but what counts for
         * the turn is the request after it. */
        if (atomic_exchange_explicit(&p->vad_rearm_req, false, memory_order_acq_rel))
            vad_rearm(p->vad, WAKE_VAD_HOLDOFF_MS);
        evs = vad_process(p->vad, p->out, &prob, &is_speech);
        /* Speech over our own playback counts as the user's only when the
         * AEC sees a near talker (double talk), not just residual echo. */
        bool near_end = !as->far_active || as->double_talk || as->near_active;
        if (evs & VAD_EV_SPEECH_START)
            post(p, PEV_SPEECH_START, prob, near_end, speech_onset_ns(p));
        if (evs & VAD_EV_SPEECH_END)
            post(p, PEV_SPEECH_END, prob, near_end, 0);
        if (evs & VAD_EV_TURN_END)
            post(p, PEV_TURN_END, prob, near_end, 0);
        memcpy(&bits, &prob, sizeof(bits));
        atomic_store_explicit(&p->vad_prob_bits, bits, memory_order_relaxed);
        atomic_store_explicit(&p->speech, is_speech, memory_order_relaxed);
    }
    if (!p->cfg.cloud)
        return;
    if (gate && !p->gate_was_open && p->wake &&
        atomic_exchange_explicit(&p->preroll_req, false, memory_order_acq_rel)) {
        /* The pre-roll ends with this hop: it replaces the live push. */
        size_t n = wake_preroll_copy(p->wake, p->preroll, p->preroll_cap), skip = n % FRONTEND_HOP;
        for (size_t i = skip; i + FRONTEND_HOP <= n; i += FRONTEND_HOP)
            cloud_client_push_mic(p->cfg.cloud, p->preroll + i, 1, 1);
        atomic_fetch_add_explicit(&p->prerolls, 1, memory_order_relaxed);
    } else {
        cloud_client_push_mic(p->cfg.cloud, p->out, 1, 1);
    }
    p->gate_was_open = gate;
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
                if (got == p->cfg.hop_frames)
                    listen(p, &as);
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
    vad_destroy(p->vad);
    nn_model_free(p->vad_model);
    wake_destroy(p->wake);
    free(p->preroll);
    ring_destroy(p->events);
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

size_t pipeline_take_events(struct pipeline *p, struct pipeline_event *ev, size_t max)
{
    size_t n = 0;

    while (n < max && ring_read(p->events, &ev[n], sizeof(ev[n])) == sizeof(ev[n]))
        n++;
    return n;
}

void pipeline_set_muted(struct pipeline *p, bool muted)
{
    atomic_store_explicit(&p->muted, muted, memory_order_relaxed);
}

void pipeline_request_preroll(struct pipeline *p, bool on)
{
    atomic_store_explicit(&p->preroll_req, on, memory_order_release);
}

void pipeline_request_vad_rearm(struct pipeline *p)
{
    atomic_store_explicit(&p->vad_rearm_req, true, memory_order_release);
}

void pipeline_vad_wake(struct pipeline *p, struct pipeline_vw *out)
{
    uint32_t vb = atomic_load_explicit(&p->vad_prob_bits, memory_order_relaxed);
    uint32_t wb = atomic_load_explicit(&p->wake_score_bits, memory_order_relaxed);

    out->vad_enabled = p->vad != NULL;
    out->wake_enabled = p->wake != NULL;
    memcpy(&out->vad_prob, &vb, sizeof(vb));
    memcpy(&out->wake_score, &wb, sizeof(wb));
    wb = atomic_load_explicit(&p->wake_max_bits, memory_order_relaxed);
    memcpy(&out->wake_max_score, &wb, sizeof(wb));
    out->speech = atomic_load_explicit(&p->speech, memory_order_relaxed);
    out->wakes = atomic_load_explicit(&p->wakes, memory_order_relaxed);
    out->wakes_guarded = atomic_load_explicit(&p->wakes_guarded, memory_order_relaxed);
    out->prerolls = atomic_load_explicit(&p->prerolls, memory_order_relaxed);
}
