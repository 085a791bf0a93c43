/*
 * harkd.c - the hark daemon: configuration, the main event loop, and the
 * lifetime of the audio threads.
 *
 * Threads: main() runs the event loop (signals, timers, control socket) and
 * owns start/stop of the capture, playback and DSP threads. It never touches
 * audio data; it reads the threads' counters and level snapshots.
 * Lifecycle: load config -> block signals -> open audio (retrying every 2 s
 * while a device is missing) -> run -> SIGTERM/SIGINT -> stop threads in
 * data-flow order (capture, playback, DSP) -> final summary -> exit 0.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <cjson/cJSON.h>

#include "app_state.h"
#include "appliance.h"
#include "audio_capture.h"
#include "audio_playback.h"
#include "button.h"
#include "cloud_client.h"
#include "config.h"
#include "ctrl.h"
#include "earcon.h"
#include "eloop.h"
#include "led.h"
#include "local_tools.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "ring.h"

#ifndef HARK_VERSION
#define HARK_VERSION "0.0.0-dev"
#endif

#define AUDIO_RETRY_MS 2000
#define PLAYOUT_RING_MS 30000
#define APP_TICK_MS 10                /* state machine poll: answer start/end, cloud state */
#define CLOUD_DOWN_GRACE_MS 1500      /* a reconnect shorter than this is not "offline" when idle */

struct harkd {
    struct hark_cfg cfg;
    struct eloop *loop;
    struct ctrl *ctrl;
    struct ring *cap_ring, *play_ring, *ref_ring;
    int cap_notify_fd;
    int dsp_event_fd;                 /* the pipeline's events (wake word, VAD) */
    struct audio_capture *cap;
    struct audio_playback *play;
    struct pipeline *pipe;
    struct cloud_client *cloud;
    bool audio_up;
    bool rt_logged;
    unsigned open_failures;
    uint64_t seen_cap_xruns, seen_play_xruns, seen_cap_drops;
    /* Totals carried over audio restarts. */
    uint64_t base_cap_frames, base_play_frames, base_cap_xruns, base_play_xruns;
    struct timespec t_start;
    struct eloop_timer *retry_timer;
    /* The appliance (main thread). */
    struct appliance *app;
    bool cloud_up;
    uint64_t cloud_down_since;        /* ms; 0 = connected */
    uint64_t play_mark;               /* answer frames played when the turn ended */
    uint32_t resp_mark;               /* responses seen when the turn ended */
    uint64_t t_turn_end;              /* ms: end of the user's turn */
    uint64_t last_end_to_answer_ms;   /* end of turn -> first answer audio played */
    struct button *button;
    bool button_fd_added;
    struct led *led;
    struct earcon_set *earcons;
    struct earcon_player player;      /* mixed by the playback thread */
    struct local_tools *tools;
    unsigned volume;
    bool disclosed;                   /* the AI-disclosure notice was given */
    int req_mute;                     /* lws thread -> main: 1 mute, 2 unmute (atomic) */
    const char *config_path, *board_override;
    bool log_level_forced;            /* --log-level given: SIGHUP keeps it */
    bool log_target_forced;           /* --log-target given: likewise */
    /* Latency metrics (main thread). */
    struct latency_hist m_wake_to_sent, m_turn_to_answer, m_press_to_silence, m_voice_to_silence;
    uint64_t seen_gate_ns, t_turn_end_ns, t_interrupt_ns, t_voice_onset_ns;
};

static uint64_t mono_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void button_watch_fd(struct harkd *h);

static uint64_t mono_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static double now_since(const struct timespec *t0)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- audio lifetime --------------------------------------------------------- */

static void audio_stop(struct harkd *h)
{
    struct audio_io_stats s;

    if (!h->audio_up && !h->cap && !h->play && !h->pipe)
        return;
    if (h->cap) {
        audio_capture_get_stats(h->cap, &s);
        h->base_cap_frames += s.frames;
        h->base_cap_xruns += s.xruns;
    }
    if (h->play) {
        audio_playback_get_stats(h->play, &s);
        h->base_play_frames += s.frames;
        h->base_play_xruns += s.xruns;
    }
    audio_capture_stop(h->cap);
    audio_playback_stop(h->play);
    pipeline_stop(h->pipe);
    h->audio_up = false;
}

static void audio_free(struct harkd *h)
{
    audio_capture_destroy(h->cap);
    audio_playback_destroy(h->play);
    pipeline_destroy(h->pipe);
    h->cap = NULL;
    h->play = NULL;
    h->pipe = NULL;
}

static void log_rt_status(const char *what, int st, int prio)
{
    if (prio > 0 && st < 0)
        log_warn("%s thread: cannot get SCHED_FIFO priority %d (%s); running with normal scheduling",
                 what, prio, strerror(-st));
    else if (prio > 0)
        log_debug("%s thread: SCHED_FIFO priority %d", what, prio);
}

static int audio_start(struct harkd *h)
{
    const struct board_cfg *b = &h->cfg.board;
    struct audio_capture_cfg ccfg = {
        .board = b, .out = h->cap_ring, .notify_fd = h->cap_notify_fd,
        .rt_priority = h->cfg.realtime_priority,
    };
    struct audio_playback_cfg pcfg = {
        .pcm = &b->playback, .in = h->play_ring, .ref_out = h->ref_ring,
        .rt_priority = h->cfg.realtime_priority,
        .prebuffer_frames = (unsigned)((uint64_t)h->cfg.cloud.prebuffer_ms * b->playback.rate / 1000),
        .earcons = &h->player,
    };
    struct pipeline_cfg plcfg;
    char err[256];
    int r;

    h->cap = audio_capture_create(&ccfg, err, sizeof(err));
    if (!h->cap)
        goto out_err;
    h->play = audio_playback_create(&pcfg, err, sizeof(err));
    if (!h->play)
        goto out_err;
    audio_playback_set_gain(h->play, (float)h->volume / 100.0f);
    plcfg = (struct pipeline_cfg){
        .in = h->cap_ring, .in_notify_fd = h->cap_notify_fd,
        .hop_frames = audio_capture_hop_frames(h->cap), .channels = audio_capture_channels(h->cap),
        .rate = b->capture.rate, .sw_ref = h->ref_ring, .cloud = h->cloud, .board = b,
        .frontend = &h->cfg.frontend, .vad = &h->cfg.vad, .wake = &h->cfg.wake,
        .event_fd = h->dsp_event_fd,
    };
    if (h->cloud && plcfg.hop_frames != b->capture.period_frames) {
        log_error("capture period is %u frames, not the configured %u: cloud uplink disabled",
                  plcfg.hop_frames, b->capture.period_frames);
        plcfg.cloud = NULL;
    }
    h->pipe = pipeline_create(&plcfg);
    if (!h->pipe) {
        snprintf(err, sizeof(err), "cannot create the DSP pipeline: out of memory");
        goto out_err;
    }
    pipeline_set_muted(h->pipe, h->app && app_get_state(h->app) == APP_MUTED);
    /* Leftovers from a previous run of the threads would be misaligned. */
    ring_skip(h->cap_ring, ring_readable(h->cap_ring));
    if ((r = pipeline_start(h->pipe)) < 0 || (r = audio_playback_start(h->play)) < 0 ||
        (r = audio_capture_start(h->cap)) < 0) {
        snprintf(err, sizeof(err), "cannot start audio threads: %s", strerror(-r));
        audio_stop(h);
        goto out_err;
    }
    h->audio_up = true;
    h->open_failures = 0;
    if (h->app)
        app_event(h->app, AEV_DEVICE_OK, mono_ms());
    log_info("audio running: capture %s %u ch %s %u Hz period %u buffer %u; playback %s %u ch %s %u Hz period %u buffer %u; reference %s",
             b->capture.device, b->capture.channels, sample_format_name(b->capture.format),
             b->capture.rate, audio_capture_pcm(h->cap)->period_frames,
             audio_capture_pcm(h->cap)->buffer_frames, b->playback.device, b->playback.channels,
             sample_format_name(b->playback.format), b->playback.rate,
             audio_playback_pcm(h->play)->period_frames, audio_playback_pcm(h->play)->buffer_frames,
             b->ref_channel >= 0 ? "hardware loopback" : "software (what harkd plays)");
    return 0;

out_err:
    audio_free(h);
    if (h->app && app_get_state(h->app) != APP_ERROR)
        app_event(h->app, AEV_DEVICE_ERROR, mono_ms());
    if (h->open_failures++ % 15 == 0)
        log_error("%s; retrying every %d s", err, AUDIO_RETRY_MS / 1000);
    return -EIO;
}

static void retry_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;

    (void)l;
    (void)t;
    if (h->button && button_failed(h->button)) {
        char err[256];
        if (button_reopen(h->button, mono_ms(), err, sizeof(err)) == 0) {
            log_info("button back");
            button_watch_fd(h);
        }
    }
    if (h->audio_up)
        return;
    (void)audio_start(h);
}

/* Runs every 500 ms: turns the audio threads' counters into log lines and
 * restarts audio after a device failure. */
static void watch_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;
    struct audio_io_stats cs, ps;

    (void)l;
    (void)t;
    if (h->cloud)
        cloud_client_tick(h->cloud);
    if (!h->audio_up)
        return;
    audio_capture_get_stats(h->cap, &cs);
    audio_playback_get_stats(h->play, &ps);
    if (cs.xruns != h->seen_cap_xruns)
        log_warn("capture overrun (xrun) recovered; %llu so far", (unsigned long long)(h->base_cap_xruns + cs.xruns));
    if (ps.xruns != h->seen_play_xruns)
        log_warn("playback underrun (xrun) recovered; %llu so far", (unsigned long long)(h->base_play_xruns + ps.xruns));
    if (cs.ring_drops != h->seen_cap_drops)
        log_warn("DSP thread fell behind: %llu captured frames dropped so far", (unsigned long long)cs.ring_drops);
    if (!h->rt_logged && cs.running && ps.running) {
        log_rt_status("capture", cs.rt_status, h->cfg.realtime_priority);
        log_rt_status("playback", ps.rt_status, h->cfg.realtime_priority);
        h->rt_logged = true;
    }
    h->seen_cap_xruns = cs.xruns;
    h->seen_play_xruns = ps.xruns;
    h->seen_cap_drops = cs.ring_drops;
    if (cs.failed || ps.failed) {
        log_error("%s device failed: %s; reopening", cs.failed ? "capture" : "playback",
                  snd_strerror(cs.failed ? cs.last_error : ps.last_error));
        audio_stop(h);
        audio_free(h);
        h->seen_cap_xruns = h->seen_play_xruns = h->seen_cap_drops = 0;
        (void)audio_start(h);
    }
}

/* ---- status ------------------------------------------------------------------ */

static cJSON *io_json(const char *device, const struct pcm_cfg *pcm, const struct audio_io_stats *s,
                      uint64_t frames, uint64_t xruns)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddStringToObject(o, "device", device);
    cJSON_AddNumberToObject(o, "rate", pcm->rate);
    cJSON_AddNumberToObject(o, "channels", pcm->channels);
    cJSON_AddStringToObject(o, "format", sample_format_name(pcm->format));
    cJSON_AddNumberToObject(o, "frames", (double)frames);
    cJSON_AddNumberToObject(o, "seconds", (double)frames / pcm->rate);
    cJSON_AddNumberToObject(o, "xruns", (double)xruns);
    cJSON_AddNumberToObject(o, "ring_drops", s ? (double)s->ring_drops : 0);
    cJSON_AddBoolToObject(o, "running", s && s->running && !s->failed);
    return o;
}

static cJSON *hist_json(const struct latency_hist *m)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_AddNumberToObject(o, "count", (double)m->count);
    cJSON_AddNumberToObject(o, "mean", round(latency_mean(m) * 10) / 10);
    cJSON_AddNumberToObject(o, "p50", round(latency_percentile(m, 50) * 10) / 10);
    cJSON_AddNumberToObject(o, "p95", round(latency_percentile(m, 95) * 10) / 10);
    cJSON_AddNumberToObject(o, "max", round(m->max_ms * 10) / 10);
    cJSON_AddNumberToObject(o, "last", round(m->last_ms * 10) / 10);
    return o;
}

/* Latency histograms (ms; p50/p95 are bucket upper edges, within 26 %) and
 * counters. */
static cJSON *metrics_json(struct harkd *h)
{
    cJSON *o = cJSON_CreateObject();
    struct app_counters ac = { 0 };
    struct audio_io_stats cs = { 0 }, ps = { 0 };

    if (h->app)
        app_get_counters(h->app, &ac);
    if (h->cap)
        audio_capture_get_stats(h->cap, &cs);
    if (h->play)
        audio_playback_get_stats(h->play, &ps);
    cJSON_AddItemToObject(o, "wake_to_first_audio_sent_ms", hist_json(&h->m_wake_to_sent));
    cJSON_AddItemToObject(o, "end_of_turn_to_answer_played_ms", hist_json(&h->m_turn_to_answer));
    cJSON_AddItemToObject(o, "interrupt_to_silence_ms", hist_json(&h->m_press_to_silence));
    cJSON_AddItemToObject(o, "voice_onset_to_silence_ms", hist_json(&h->m_voice_to_silence));
    cJSON_AddNumberToObject(o, "barge_ins_button", (double)ac.barge_ins_button);
    cJSON_AddNumberToObject(o, "barge_ins_voice", (double)ac.barge_ins_voice);
    cJSON_AddNumberToObject(o, "xruns_capture", (double)(h->base_cap_xruns + cs.xruns));
    cJSON_AddNumberToObject(o, "xruns_playback", (double)(h->base_play_xruns + ps.xruns));
    if (h->cloud) {
        struct cloud_status st;
        cloud_client_get_status(h->cloud, &st);
        cJSON_AddNumberToObject(o, "reconnects", (double)(st.connects ? st.connects - 1 : 0));
    }
    return o;
}

static char *status_json(struct harkd *h)
{
    const struct board_cfg *b = &h->cfg.board;
    struct audio_io_stats cs = { 0 }, ps = { 0 };
    struct level_snapshot lv = { 0 };
    cJSON *root = cJSON_CreateObject(), *levels;
    char *out;

    if (h->cap)
        audio_capture_get_stats(h->cap, &cs);
    if (h->play)
        audio_playback_get_stats(h->play, &ps);
    if (h->pipe)
        pipeline_levels(h->pipe, &lv);
    cJSON_AddStringToObject(root, "version", HARK_VERSION);
    cJSON_AddStringToObject(root, "board", b->name);
    cJSON_AddStringToObject(root, "audio", h->audio_up ? "running" : "down");
    if (h->app) {
        struct app_counters ac;
        cJSON *o = cJSON_AddObjectToObject(root, "appliance");
        app_get_counters(h->app, &ac);
        cJSON_AddStringToObject(root, "state", app_state_name(app_get_state(h->app)));
        cJSON_AddNumberToObject(o, "wakes", (double)ac.wakes);
        cJSON_AddNumberToObject(o, "turns", (double)ac.turns);
        cJSON_AddNumberToObject(o, "answers", (double)ac.answers);
        cJSON_AddNumberToObject(o, "barge_ins_button", (double)ac.barge_ins_button);
        cJSON_AddNumberToObject(o, "barge_ins_voice", (double)ac.barge_ins_voice);
        cJSON_AddNumberToObject(o, "timeouts", (double)ac.timeouts);
        cJSON_AddNumberToObject(o, "offline_notices", (double)ac.offline_notices);
        cJSON_AddNumberToObject(o, "end_of_turn_to_answer_ms", (double)h->last_end_to_answer_ms);
        if (h->button)
            cJSON_AddBoolToObject(o, "button_pressed", button_is_pressed(h->button));
        if (h->led) {
            cJSON_AddStringToObject(o, "led_backend", led_backend_name(h->led));
            cJSON_AddStringToObject(o, "led_pattern", led_pattern_name(h->led, led_state(h->led)));
        }
    }
    cJSON_AddNumberToObject(root, "uptime_s", round(now_since(&h->t_start) * 1000) / 1000);
    cJSON_AddItemToObject(root, "capture", io_json(b->capture.device, &b->capture, h->cap ? &cs : NULL,
                                                   h->base_cap_frames + cs.frames, h->base_cap_xruns + cs.xruns));
    cJSON_AddItemToObject(root, "playback", io_json(b->playback.device, &b->playback, h->play ? &ps : NULL,
                                                    h->base_play_frames + ps.frames, h->base_play_xruns + ps.xruns));
    levels = cJSON_AddArrayToObject(root, "levels");
    for (unsigned c = 0; c < lv.channels; c++) {
        cJSON *o = cJSON_CreateObject();
        char name[16];
        if (c + 1 == lv.channels)
            snprintf(name, sizeof(name), "ref");
        else
            snprintf(name, sizeof(name), "mic%u", c);
        cJSON_AddStringToObject(o, "channel", name);
        cJSON_AddNumberToObject(o, "rms_dbfs", round(lv.window_rms_db[c] * 10) / 10);
        cJSON_AddNumberToObject(o, "peak_dbfs", round(lv.window_peak_db[c] * 10) / 10);
        cJSON_AddNumberToObject(o, "total_rms_dbfs", round(lv.total_rms_db[c] * 10) / 10);
        cJSON_AddNumberToObject(o, "total_peak_dbfs", round(lv.total_peak_db[c] * 10) / 10);
        cJSON_AddItemToArray(levels, o);
    }
    cJSON_AddNumberToObject(root, "dsp_frames", (double)lv.frames);
    if (h->pipe) {
        struct pipeline_doa d;
        pipeline_doa(h->pipe, &d);
        if (d.enabled) {
            cJSON *o = cJSON_AddObjectToObject(root, "doa");
            cJSON_AddNumberToObject(o, "azimuth_deg", round(d.azimuth_deg * 10) / 10);
            cJSON_AddNumberToObject(o, "confidence", round(d.confidence * 100) / 100);
            cJSON_AddBoolToObject(o, "active", d.active);
        }
        struct pipeline_vw vw;
        pipeline_vad_wake(h->pipe, &vw);
        if (vw.vad_enabled) {
            cJSON *o = cJSON_AddObjectToObject(root, "vad");
            cJSON_AddNumberToObject(o, "prob", round(vw.vad_prob * 100) / 100);
            cJSON_AddBoolToObject(o, "speech", vw.speech);
        }
        if (vw.wake_enabled) {
            cJSON *o = cJSON_AddObjectToObject(root, "wake");
            cJSON_AddNumberToObject(o, "score", round(vw.wake_score * 100) / 100);
            cJSON_AddNumberToObject(o, "max_score", round(vw.wake_max_score * 100) / 100);
            cJSON_AddNumberToObject(o, "detections", (double)vw.wakes);
            cJSON_AddNumberToObject(o, "guarded", (double)vw.wakes_guarded);
            cJSON_AddNumberToObject(o, "prerolls_sent", (double)vw.prerolls);
        }
        struct pipeline_aec a;
        pipeline_aec(h->pipe, &a);
        if (a.enabled) {
            cJSON *o = cJSON_AddObjectToObject(root, "aec");
            cJSON_AddNumberToObject(o, "erle_db", round(a.erle_db * 10) / 10);
            cJSON_AddBoolToObject(o, "converged", a.converged);
            cJSON_AddBoolToObject(o, "double_talk", a.double_talk);
        }
    }
    if (h->cloud) {
        struct cloud_status cs;
        cJSON *o = cJSON_AddObjectToObject(root, "cloud");
        cloud_client_get_status(h->cloud, &cs);
        cJSON_AddBoolToObject(o, "connected", cs.connected);
        cJSON_AddBoolToObject(o, "gate_open", cs.gate_open);
        cJSON_AddStringToObject(o, "session", cs.session_state);
        cJSON_AddStringToObject(o, "response", cs.response_phase);
        cJSON_AddNumberToObject(o, "connects", (double)cs.connects);
        cJSON_AddNumberToObject(o, "disconnects", (double)cs.disconnects);
        cJSON_AddNumberToObject(o, "rollovers", (double)cs.rollovers);
        cJSON_AddNumberToObject(o, "captions", (double)cs.captions);
        {
            cJSON *l = cJSON_AddObjectToObject(o, "uplink_latency_ms");
            cJSON_AddNumberToObject(l, "hops", (double)cs.uplink_hops);
            cJSON_AddNumberToObject(l, "mean", round(cs.uplink_latency_mean_ms * 10) / 10);
            cJSON_AddNumberToObject(l, "p95", cs.uplink_latency_p95_ms);
            cJSON_AddNumberToObject(l, "max", round(cs.uplink_latency_max_ms * 10) / 10);
        }
        cJSON_AddNumberToObject(o, "audio_sent_ms", (double)cs.audio_sent_ms);
        cJSON_AddNumberToObject(o, "audio_received_ms", (double)cs.audio_received_ms);
        cJSON_AddNumberToObject(o, "responses", cs.responses);
        cJSON_AddNumberToObject(o, "cancels", cs.cancels);
        cJSON_AddNumberToObject(o, "truncates", cs.truncates);
        cJSON_AddNumberToObject(o, "errors", cs.errors);
        cJSON_AddNumberToObject(o, "uplink_dropped_ms", (double)cs.uplink_dropped_ms);
        cJSON_AddNumberToObject(o, "playout_dropped_ms", (double)cs.playout_dropped_ms);
    }
    if (h->play)
        cJSON_AddNumberToObject(root, "played_audio_frames", (double)audio_playback_audio_frames(h->play));
    cJSON_AddItemToObject(root, "metrics", metrics_json(h));
    out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

/* ---- the appliance's effects (main thread) ---------------------------------- */

static void op_gate(void *ctx, bool open)
{
    struct harkd *h = ctx;

    if (open) {
        /* Marks for "the answer started" with server-side turn detection. */
        struct cloud_status cs;
        h->play_mark = h->play ? audio_playback_audio_frames(h->play) : 0;
        if (h->cloud) {
            cloud_client_get_status(h->cloud, &cs);
            h->resp_mark = cs.responses;
        }
    }
    if (h->cloud)
        cloud_client_set_gate(h->cloud, open);
    log_info(open ? "gate open: streaming to the cloud" : "gate closed");
}

static void op_end_turn(void *ctx)
{
    struct harkd *h = ctx;
    struct cloud_status cs;

    h->play_mark = h->play ? audio_playback_audio_frames(h->play) : 0;
    h->t_turn_end = mono_ms();
    h->t_turn_end_ns = mono_ns();
    if (h->cloud) {
        cloud_client_get_status(h->cloud, &cs);
        h->resp_mark = cs.responses;
        cloud_client_end_turn(h->cloud);
    }
    log_info("end of turn: commit and ask for a response");
}

static void op_interrupt(void *ctx)
{
    struct harkd *h = ctx;
    uint64_t played = h->play ? audio_playback_audio_frames(h->play) : 0;

    h->t_interrupt_ns = mono_ns();
    if (h->play)
        audio_playback_flush(h->play);
    earcon_player_stop(&h->player);
    if (h->cloud)
        cloud_client_interrupt(h->cloud, played);
    log_info("interrupt: playback flushed after %llu frames of answer audio", (unsigned long long)played);
}

static void op_cancel_turn(void *ctx)
{
    struct harkd *h = ctx;

    if (h->cloud)
        cloud_client_clear_turn(h->cloud);
}

static void play_earcon(struct harkd *h, enum earcon_id id)
{
    const struct earcon_sound *snd = h->earcons ? earcon_sound(h->earcons, id) : NULL;

    log_info("earcon: %s%s", earcon_names[id], snd ? "" : " (not available)");
    if (snd)
        earcon_player_start(&h->player, snd);
}

static void op_earcon(void *ctx, const char *name)
{
    struct harkd *h = ctx;

    for (int i = 0; i < EARCON_COUNT; i++)
        if (!strcmp(name, earcon_names[i])) {
            /* The disclosure notice replaces the first wake chime. */
            if (i == EARCON_WAKE && h->cfg.disclosure && !h->disclosed) {
                h->disclosed = true;
                i = EARCON_DISCLOSURE;
            }
            play_earcon(h, (enum earcon_id)i);
            return;
        }
}

/* ---- local tools' view of the device (main thread and lws thread) ------------ */

static unsigned lt_get_volume(void *ctx)
{
    return __atomic_load_n(&((struct harkd *)ctx)->volume, __ATOMIC_RELAXED);
}

static int lt_set_volume(void *ctx, unsigned pct)
{
    struct harkd *h = ctx;

    __atomic_store_n(&h->volume, pct, __ATOMIC_RELAXED);
    if (h->play)
        audio_playback_set_gain(h->play, (float)pct / 100.0f);
    return 0;
}

static bool lt_get_mute(void *ctx)
{
    struct harkd *h = ctx;
    return h->app && app_get_state(h->app) == APP_MUTED;
}

/* The tool runs on the lws thread: mute goes through the control path the
 * main loop owns, as if the user had asked. */
static int lt_set_mute(void *ctx, bool muted)
{
    struct harkd *h = ctx;

    __atomic_store_n(&h->req_mute, muted ? 1 : 2, __ATOMIC_RELEASE);
    return 0;
}

static void lt_status(void *ctx, struct local_tools_status *st)
{
    struct harkd *h = ctx;

    st->state = h->app ? app_state_name(app_get_state(h->app)) : "idle";
    st->connection = h->cloud_up ? "connected" : "offline";
    st->uptime_s = (uint64_t)now_since(&h->t_start);
    st->board = h->cfg.board.name;
    st->talker_deg = -1;
}

static void op_state(void *ctx, enum app_state from, enum app_state to, const char *why)
{
    struct harkd *h = ctx;

    log_info("state: %s -> %s (%s)", app_state_name(from), app_state_name(to), why);
    if (h->pipe && (from == APP_MUTED || to == APP_MUTED))
        pipeline_set_muted(h->pipe, to == APP_MUTED);
    if (h->led)
        led_set_state(h->led, to, mono_ms());
}

/* ---- the button (main thread) ---------------------------------------------- */

static void on_button(void *ctx, const struct button_event *ev)
{
    static const enum app_event map[] = {
        [BUTTON_EV_PRESS] = AEV_BUTTON_PRESS, [BUTTON_EV_RELEASE] = AEV_BUTTON_RELEASE,
        [BUTTON_EV_TAP] = AEV_BUTTON_TAP, [BUTTON_EV_LONG_PRESS] = AEV_BUTTON_LONG,
        [BUTTON_EV_DOUBLE_PRESS] = AEV_BUTTON_DOUBLE,
    };
    struct harkd *h = ctx;

    if (ev->type == BUTTON_EV_ERROR) {
        log_error("button lost: %s; retrying every %d s", strerror(-ev->err), AUDIO_RETRY_MS / 1000);
        return;
    }
    log_debug("button: %s", button_event_name(ev->type));
    if (h->app && (unsigned)ev->type < sizeof(map) / sizeof(map[0]))
        app_event(h->app, map[ev->type], ev->t_ms);
}

static void button_fd_cb(struct eloop *l, int fd, uint32_t events, void *ctx)
{
    struct harkd *h = ctx;

    (void)events;
    if (button_on_readable(h->button, mono_ms()) < 0) {
        eloop_del_fd(l, fd);
        h->button_fd_added = false;
    }
}

static void button_watch_fd(struct harkd *h)
{
    if (h->button && !h->button_fd_added && button_fd(h->button) >= 0 &&
        eloop_add_fd(h->loop, button_fd(h->button), EPOLLIN, button_fd_cb, h) == 0)
        h->button_fd_added = true;
}

static void led_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;

    (void)l;
    (void)t;
    if (h->led && led_tick(h->led, mono_ms()) < 0)
        log_warn("LEDs failed; the LED pattern is off");
}

/* Every APP_TICK_MS: turns cloud and playback progress into the state
 * machine's events, then runs its timers. */
static void app_tick_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;
    uint64_t now = mono_ms();
    enum app_state st;

    (void)l;
    (void)t;
    if (!h->app)
        return;
    st = app_get_state(h->app);
    if (h->cloud) {
        struct cloud_status cs;
        bool up;
        cloud_client_get_status(h->cloud, &cs);
        up = cs.connected && !strcmp(cs.session_state, "configured");
        if (up && !h->cloud_up) {
            h->cloud_up = true;
            h->cloud_down_since = 0;
            app_event(h->app, AEV_CLOUD_UP, now);
        } else if (!up && h->cloud_up) {
            if (!h->cloud_down_since)
                h->cloud_down_since = now;
            if (st == APP_LISTENING || st == APP_THINKING || st == APP_SPEAKING ||
                now - h->cloud_down_since >= CLOUD_DOWN_GRACE_MS) {
                h->cloud_up = false;
                app_event(h->app, AEV_CLOUD_DOWN, now);
            }
        } else if (up) {
            h->cloud_down_since = 0;
        }
        if (cs.gate_open_ns && cs.gate_open_ns != h->seen_gate_ns && cs.first_sent_ns >= cs.gate_open_ns) {
            h->seen_gate_ns = cs.gate_open_ns;
            latency_add(&h->m_wake_to_sent, (double)(cs.first_sent_ns - cs.gate_open_ns) / 1e6);
        }
        st = app_get_state(h->app);
        bool server_turns = h->cfg.cloud.turn_detection != CLOUD_TURNS_LOCAL;
        if ((st == APP_THINKING || (st == APP_LISTENING && server_turns)) && h->play &&
            audio_playback_audio_frames(h->play) > h->play_mark) {
            uint64_t s0 = audio_playback_last_stream_start_ns(h->play);
            if (h->t_turn_end_ns && s0 > h->t_turn_end_ns)
                latency_add(&h->m_turn_to_answer, (double)(s0 - h->t_turn_end_ns) / 1e6);
            h->t_turn_end_ns = 0;
            h->last_end_to_answer_ms = now - h->t_turn_end;
            log_info("answer audio playing %llu ms after the end of the turn",
                     (unsigned long long)h->last_end_to_answer_ms);
            app_event(h->app, AEV_ANSWER_STARTED, now);
        } else if ((st == APP_THINKING || st == APP_SPEAKING) && cs.responses > h->resp_mark &&
                   !strcmp(cs.response_phase, "idle") && ring_readable(h->play_ring) == 0) {
            app_event(h->app, AEV_ANSWER_DONE, now);
        }
    }
    if (h->t_interrupt_ns && h->play && audio_playback_last_flush_ns(h->play) >= h->t_interrupt_ns) {
        double ms = (double)(audio_playback_last_flush_ns(h->play) - h->t_interrupt_ns) / 1e6;
        latency_add(&h->m_press_to_silence, ms);
        log_info("barge-in: playback silent %.1f ms after the interrupt", ms);
        if (h->t_voice_onset_ns && audio_playback_last_flush_ns(h->play) > h->t_voice_onset_ns) {
            double vms = (double)(audio_playback_last_flush_ns(h->play) - h->t_voice_onset_ns) / 1e6;
            latency_add(&h->m_voice_to_silence, vms);
            log_info("voice barge-in: playback silent %.1f ms after the speech onset", vms);
        }
        h->t_interrupt_ns = 0;
        h->t_voice_onset_ns = 0;
    }
    if (h->button && button_next_deadline(h->button) <= now)
        button_on_timer(h->button, now);
    switch (__atomic_exchange_n(&h->req_mute, 0, __ATOMIC_ACQ_REL)) {
    case 1: app_event(h->app, AEV_MUTE, now); break;
    case 2: app_event(h->app, AEV_UNMUTE, now); break;
    default: break;
    }
    if (h->tools && local_tools_next_due_ms(h->tools) <= now) {
        struct local_timer_info fired[4];
        unsigned n = local_tools_poll(h->tools, now, fired, 4);
        for (unsigned i = 0; i < n; i++) {
            log_info("timer %u%s%s (%u s) expired", fired[i].id, *fired[i].label ? " " : "", fired[i].label,
                     fired[i].duration_s);
            play_earcon(h, EARCON_ALARM);
        }
    }
    if (h->led && h->pipe) {
        struct pipeline_doa d;
        pipeline_doa(h->pipe, &d);
        led_set_direction(h->led, d.enabled && d.confidence >= 0.3f ? d.azimuth_deg : NAN);
    }
    app_tick(h->app, now);
}

/* "transcript [SINCE]": transcript lines from seq SINCE (default: the oldest
 * kept) as JSON {"next":N,"lost":K,"lines":[{"seq","role","text"}...]}; as
 * many lines as fit one reply, `next` says where to go on. */
static char *transcript_json(struct harkd *h, const char *arg, size_t max)
{
    uint64_t next = cloud_client_transcript_next(h->cloud), since = 0, lost = 0;
    cJSON *root = cJSON_CreateObject(), *lines = cJSON_AddArrayToObject(root, "lines");
    char role[16], *text = malloc(CLOUD_TRANSCRIPT_MAX), *js = NULL;
    uint64_t seq;

    if (!root || !lines || !text)
        goto out;
    if (arg && *arg) {
        char *end;
        errno = 0;
        since = strtoull(arg, &end, 10);
        if (errno || *end)
            goto out;
    }
    if (since == 0 || since + CLOUD_TRANSCRIPT_HISTORY < next)
        seq = next > CLOUD_TRANSCRIPT_HISTORY ? next - CLOUD_TRANSCRIPT_HISTORY : 1;
    else
        seq = since;
    if (since && seq > since)
        lost = seq - since;
    for (; seq < next; seq++) {
        if (cloud_client_transcript(h->cloud, seq, role, sizeof(role), text, CLOUD_TRANSCRIPT_MAX) != 1) {
            lost++;
            continue;
        }
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "seq", (double)seq);
        cJSON_AddStringToObject(o, "role", role);
        cJSON_AddStringToObject(o, "text", text);
        cJSON_AddItemToArray(lines, o);
        char *probe = cJSON_PrintUnformatted(root);
        size_t plen = probe ? strlen(probe) : max;
        cJSON_free(probe);
        if (plen + 64 > max) {           /* room for "next"/"lost" and the newline */
            cJSON_DeleteItemFromArray(lines, cJSON_GetArraySize(lines) - 1);
            break;
        }
    }
    cJSON_AddNumberToObject(root, "next", (double)seq);
    cJSON_AddNumberToObject(root, "lost", (double)lost);
    js = cJSON_PrintUnformatted(root);
out:
    free(text);
    cJSON_Delete(root);
    return js;
}

/* The DSP thread's wake-word and VAD events (main thread). */
static void dsp_events_cb(struct eloop *l, int fd, uint32_t events, void *ctx)
{
    struct harkd *h = ctx;
    struct pipeline_event ev[16];
    uint64_t v;
    size_t n;

    (void)l;
    (void)events;
    (void)!read(fd, &v, sizeof(v));
    if (!h->pipe || !h->app)
        return;
    while ((n = pipeline_take_events(h->pipe, ev, 16)) > 0) {
        for (size_t i = 0; i < n; i++) {
            uint64_t now = mono_ms();
            enum app_state st = app_get_state(h->app);
            switch (ev[i].type) {
            case PEV_WAKE:
                log_info("wake word (score %.2f) in state %s", ev[i].score, app_state_name(st));
                pipeline_request_preroll(h->pipe, true);
                app_event(h->app, AEV_WAKE_WORD, now);
                if (st != APP_LISTENING && app_get_state(h->app) == APP_LISTENING)
                    pipeline_request_vad_rearm(h->pipe);
                break;
            case PEV_SPEECH_START:
                if (st == APP_SPEAKING) {
                    log_info("speech over the answer: %s", ev[i].near_end ? "the user's (barge-in)"
                                                                         : "our own echo (ignored)");
                    if (!ev[i].near_end)
                        break;
                    pipeline_request_preroll(h->pipe, true);
                    h->t_voice_onset_ns = ev[i].onset_ns;
                    app_event(h->app, AEV_BARGE_IN, now);
                } else {
                    if (st == APP_FOLLOWUP)
                        pipeline_request_preroll(h->pipe, true);
                    app_event(h->app, AEV_SPEECH_START, now);
                }
                break;
            case PEV_TURN_END:
                app_event(h->app, AEV_SPEECH_END, now);
                break;
            case PEV_SPEECH_END:
            default:
                break;
            }
            /* A pre-roll is for the opening these events caused, never a later one. */
            if (app_get_state(h->app) != APP_LISTENING)
                pipeline_request_preroll(h->pipe, false);
        }
    }
}

/* Control-socket commands that are appliance events ("press"/"release"/
 * "tap" stand in for the button on boards without one, and for tests). */
static enum app_event ctrl_event(const char *line)
{
    static const struct { const char *cmd; enum app_event ev; } map[] = {
        { "wake", AEV_CTRL_WAKE }, { "sleep", AEV_CTRL_SLEEP }, { "end-turn", AEV_CTRL_END_TURN },
        { "interrupt", AEV_CTRL_INTERRUPT }, { "mute", AEV_MUTE }, { "unmute", AEV_UNMUTE },
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (!strcmp(line, map[i].cmd))
            return map[i].ev;
    return AEV__COUNT;
}

static size_t ctrl_cb(const char *line, char *out, size_t outlen, void *ctx)
{
    struct harkd *h = ctx;
    char *js;
    int n;

    if (strcmp(line, "ping") == 0)
        n = snprintf(out, outlen, "pong\n");
    else if (h->button && (!strcmp(line, "press") || !strcmp(line, "release"))) {
        /* The same gesture logic as the real button: press, release, tap,
         * long and double press come out of drivers/button.c. */
        button_inject(h->button, line[0] == 'p', mono_ms());
        n = snprintf(out, outlen, "ok\n");
    } else if (h->app && ctrl_event(line) != AEV__COUNT) {
        app_event(h->app, ctrl_event(line), mono_ms());
        n = snprintf(out, outlen, "ok\n");
    }
    else if (strcmp(line, "version") == 0)
        n = snprintf(out, outlen, "%s\n", HARK_VERSION);
    else if (strcmp(line, "status") == 0 && (js = status_json(h))) {
        n = snprintf(out, outlen, "%s\n", js);
        cJSON_free(js);
    } else if (!strcmp(line, "volume") || !strncmp(line, "volume ", 7)) {
        char *end;
        long v = line[6] ? strtol(line + 7, &end, 10) : -1;
        if (line[6] && (*end || v < 0 || v > 100))
            n = snprintf(out, outlen, "{\"error\":\"usage: volume [0..100]\"}\n");
        else {
            if (v >= 0) {
                (void)lt_set_volume(h, (unsigned)v);
                log_info("volume %ld %% (harkctl)", v);
            }
            n = snprintf(out, outlen, "{\"volume\":%u}\n", lt_get_volume(h));
        }
    } else if (!strcmp(line, "metrics")) {
        cJSON *m = metrics_json(h);
        js = cJSON_PrintUnformatted(m);
        cJSON_Delete(m);
        n = js ? snprintf(out, outlen, "%s\n", js) : snprintf(out, outlen, "{\"error\":\"out of memory\"}\n");
        cJSON_free(js);
    } else if (h->cloud && (!strcmp(line, "transcript") || !strncmp(line, "transcript ", 11))) {
        js = transcript_json(h, line[10] ? line + 11 : NULL, outlen);
        n = js ? snprintf(out, outlen, "%s\n", js) : snprintf(out, outlen, "{\"error\":\"usage: transcript [SINCE]\"}\n");
        cJSON_free(js);
    } else
        n = snprintf(out, outlen, "{\"error\":\"unknown command\",\"commands\":[\"ping\",\"status\",\"metrics\",\"version\","
                     "\"wake\",\"sleep\",\"end-turn\",\"interrupt\",\"mute\",\"unmute\",\"press\",\"release\",\"volume\"%s]}\n", h->cloud ? ",\"transcript\"" : "");
    return n < 0 ? 0 : (size_t)n >= outlen ? outlen - 1 : (size_t)n;
}

static void log_levels(struct harkd *h, bool totals)
{
    struct level_snapshot lv;
    char line[512];
    size_t o = 0;

    if (!h->pipe)
        return;
    pipeline_levels(h->pipe, &lv);
    for (unsigned c = 0; c < lv.channels && o < sizeof(line); c++) {
        double rms = totals ? lv.total_rms_db[c] : lv.window_rms_db[c];
        double peak = totals ? lv.total_peak_db[c] : lv.window_peak_db[c];
        char name[16];
        if (c + 1 == lv.channels)
            snprintf(name, sizeof(name), "ref");
        else
            snprintf(name, sizeof(name), "mic%u", c);
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%s%s %.1f/%.1f", c ? ", " : "", name, rms, peak);
    }
    log_info("levels %s (rms/peak dBFS): %s", totals ? "over the run" : "last second", lv.channels ? line : "none yet");
}

static void status_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;
    struct audio_io_stats cs = { 0 }, ps = { 0 };

    (void)l;
    (void)t;
    if (h->cap)
        audio_capture_get_stats(h->cap, &cs);
    if (h->play)
        audio_playback_get_stats(h->play, &ps);
    log_info("status: audio %s, captured %.1f s, played %.1f s, xruns %llu/%llu",
             h->audio_up ? "running" : "down",
             (double)(h->base_cap_frames + cs.frames) / h->cfg.board.capture.rate,
             (double)(h->base_play_frames + ps.frames) / h->cfg.board.playback.rate,
             (unsigned long long)(h->base_cap_xruns + cs.xruns),
             (unsigned long long)(h->base_play_xruns + ps.xruns));
    log_levels(h, false);
}

/* ---- cloud and appliance lifetime (main thread) ------------------------------------ */

static int cloud_start(struct harkd *h)
{
    static const char *const modes[] = { "off", "conversation", "translation", "captions" };
    struct cloud_client_cfg ccfg = {
        .cloud = &h->cfg.cloud, .mic_rate = h->cfg.board.capture.rate,
        .hop_frames = h->cfg.board.capture.period_frames, .playback_rate = h->cfg.board.playback.rate,
        .playout = h->play_ring,
    };
    char err[512];

    h->cloud_up = false;
    if (h->cfg.cloud.mode == CLOUD_OFF)
        return 0;
    if (h->tools && h->cfg.cloud.mode == CLOUD_CONVERSATION) {
        ccfg.tools = local_tools_defs(&ccfg.n_tools);
        ccfg.tool = local_tools_rt_call;
        ccfg.tool_ctx = h->tools;
    }
    h->cloud = cloud_client_create(&ccfg, err, sizeof(err));
    if (!h->cloud) {
        log_error("%s", err);
        return -EINVAL;
    }
    log_info("cloud: %s mode, %s; audio leaves the device only while the gate is open",
             modes[h->cfg.cloud.mode], h->cfg.cloud.url);
    return 0;
}

static int app_start(struct harkd *h)
{
    const struct board_cfg *b = &h->cfg.board;
    struct app_cfg acfg = {
        .button_mode = b->button.mode == BUTTON_MODE_PUSH ? APP_BUTTON_PUSH : APP_BUTTON_TAP,
        .long_press = b->button.long_press == BUTTON_ACTION_MUTE ? APP_GESTURE_MUTE
                    : b->button.long_press == BUTTON_ACTION_CANCEL ? APP_GESTURE_CANCEL : APP_GESTURE_NONE,
        .double_press = b->button.double_press == BUTTON_ACTION_MUTE ? APP_GESTURE_MUTE
                      : b->button.double_press == BUTTON_ACTION_CANCEL ? APP_GESTURE_CANCEL : APP_GESTURE_NONE,
        .voice_barge_in = true,
        .local_turns = h->cfg.cloud.turn_detection == CLOUD_TURNS_LOCAL,
        .listen_timeout_ms = 8000, .turn_max_ms = 30000, .answer_timeout_ms = 15000, .followup_ms = 5000,
        .cloud_required = h->cfg.cloud.mode != CLOUD_OFF,
        .expect_answer = h->cfg.cloud.mode == CLOUD_CONVERSATION,
    };
    struct app_ops aops = { op_gate, op_end_turn, op_interrupt, op_cancel_turn, op_earcon, op_state, h };

    h->app = app_create(&acfg, &aops, mono_ms(), false);
    if (!h->app)
        return -ENOMEM;
    if (h->led)
        led_set_state(h->led, app_get_state(h->app), mono_ms());
    log_info("state: %s", app_state_name(app_get_state(h->app)));
    return 0;
}

/* SIGHUP: re-read hark.conf. A file that does not load leaves everything
 * as it runs. Log settings and the volume apply at once; a change to the
 * cloud, front-end, VAD or wake settings restarts the cloud session and the
 * audio threads (any conversation in progress ends); the board, the control
 * socket and the sounds folder need a restart of harkd. */
static void reload_config(struct harkd *h)
{
    static struct hark_cfg nc;
    static struct config_diag d;
    bool restart;

    memset(&d, 0, sizeof(d));
    if (config_load(h->config_path, h->board_override, &nc, &d) < 0) {
        for (unsigned i = 0; i < d.count; i++)
            log_error("SIGHUP: %s", d.msg[i]);
        log_error("SIGHUP: %s rejected (%u error%s); keeping the running configuration", h->config_path,
                  d.total, d.total == 1 ? "" : "s");
        return;
    }
    snprintf(nc.ctrl_socket, sizeof(nc.ctrl_socket), "%s", h->cfg.ctrl_socket);
    if (memcmp(&nc.board, &h->cfg.board, sizeof(nc.board)) || strcmp(nc.sounds_dir, h->cfg.sounds_dir))
        log_warn("SIGHUP: board or sounds_dir changed: restart harkd to apply; the rest is applied now");
    nc.board = h->cfg.board;
    snprintf(nc.sounds_dir, sizeof(nc.sounds_dir), "%s", h->cfg.sounds_dir);
    if (h->log_level_forced)
        nc.log_level = h->cfg.log_level;
    if (h->log_target_forced)
        nc.log_target = h->cfg.log_target;
    log_setup("harkd", nc.log_level, nc.log_target);
    if (nc.volume != h->cfg.volume)
        (void)lt_set_volume(h, nc.volume);
    restart = memcmp(&nc.cloud, &h->cfg.cloud, sizeof(nc.cloud)) != 0 ||
              memcmp(&nc.frontend, &h->cfg.frontend, sizeof(nc.frontend)) != 0 ||
              memcmp(&nc.vad, &h->cfg.vad, sizeof(nc.vad)) != 0 ||
              memcmp(&nc.wake, &h->cfg.wake, sizeof(nc.wake)) != 0;
    if (!restart) {
        h->cfg = nc;
        log_info("SIGHUP: configuration reloaded");
        return;
    }
    log_info("SIGHUP: cloud or audio-processing settings changed: restarting the session and the audio threads");
    audio_stop(h);
    audio_free(h);
    bool was_muted = h->app && app_get_state(h->app) == APP_MUTED;
    cloud_client_destroy(h->cloud);
    h->cloud = NULL;
    app_destroy(h->app);
    h->app = NULL;
    h->cfg = nc;
    if (cloud_start(h) < 0)
        log_error("SIGHUP: the cloud session cannot start; running without it");
    if (app_start(h) < 0) {
        log_error("SIGHUP: out of memory; shutting down");
        eloop_quit(h->loop);
        return;
    }
    if (was_muted)                    /* a reload never unmutes the microphones */
        app_event(h->app, AEV_MUTE, mono_ms());
    (void)audio_start(h);
    log_info("SIGHUP: configuration reloaded");
}

static void quit_cb(struct eloop *l, int signo, void *ctx)
{
    (void)ctx;
    log_info("%s received, shutting down", strsignal(signo));
    eloop_quit(l);
}

static void hup_cb(struct eloop *l, int signo, void *ctx)
{
    (void)l;
    (void)signo;
    reload_config(ctx);
}

static void run_for_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    (void)t;
    (void)ctx;
    log_info("--run-for time reached, shutting down");
    eloop_quit(l);
}

/* alsa-lib prints its own diagnostics through this handler. Only the main
 * thread may log (audio threads must not format or write), so messages
 * raised on other threads are dropped; those threads report through their
 * counters instead. */
static pthread_t main_thread;

static void alsa_error_handler(const char *file, int line, const char *func, int err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    (void)file;
    (void)line;
    if (!pthread_equal(pthread_self(), main_thread))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err)
        log_debug("alsa-lib %s: %s: %s", func, msg, snd_strerror(err));
    else
        log_debug("alsa-lib %s: %s", func, msg);
}

/* ---- main -------------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: harkd [--config FILE] [options]\n"
            "       harkd --check-config FILE\n"
            "\n"
            "  -c, --config FILE        configuration (default /etc/hark/hark.conf)\n"
            "      --check-config FILE  validate FILE and the board file it names; exit 1 on any error\n"
            "  -b, --board FILE         use this board file instead of [harkd] board\n"
            "      --ctrl-socket PATH   control socket path, or 'none'\n"
            "  -l, --log-level LEVEL    error | warn | info | debug (overrides the config)\n"
            "      --log-target T       stderr | syslog (overrides the config)\n"
            "      --run-for SECONDS    exit cleanly after SECONDS (tests, demos)\n"
            "  -V, --version            print the version and exit\n"
            "  -h, --help               this text\n");
}

static void print_diag(const struct config_diag *d)
{
    for (unsigned i = 0; i < d->count; i++)
        fprintf(stderr, "harkd: %s\n", d->msg[i]);
    if (d->total > d->count)
        fprintf(stderr, "harkd: ... and %u more errors\n", d->total - d->count);
}

static size_t ring_bytes(unsigned rate, unsigned channels, unsigned ms)
{
    return (size_t)rate * ms / 1000 * channels * sizeof(float);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "check-config", required_argument, NULL, 'C' },
        { "board", required_argument, NULL, 'b' },
        { "ctrl-socket", required_argument, NULL, 'S' },
        { "log-level", required_argument, NULL, 'l' },
        { "log-target", required_argument, NULL, 'T' },
        { "run-for", required_argument, NULL, 'R' },
        { "version", no_argument, NULL, 'V' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *config_path = "/etc/hark/hark.conf", *board = NULL, *ctrl_path = NULL;
    const char *level_arg = NULL, *target_arg = NULL;
    static struct harkd hd;
    struct harkd *h = &hd;
    static struct config_diag diag;
    bool check_only = false;
    double run_for = 0;
    int opt, r, rc = 1;

    while ((opt = getopt_long(argc, argv, "c:b:l:Vh", opts, NULL)) != -1) {
        char *end;
        switch (opt) {
        case 'c': config_path = optarg; break;
        case 'C': config_path = optarg; check_only = true; break;
        case 'b': board = optarg; break;
        case 'S': ctrl_path = optarg; break;
        case 'l': level_arg = optarg; break;
        case 'T': target_arg = optarg; break;
        case 'R':
            run_for = strtod(optarg, &end);
            if (*end || !(run_for > 0) || run_for > 1e6) {
                fprintf(stderr, "harkd: --run-for: expected seconds > 0, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'V': printf("harkd %s\n", HARK_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "harkd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }

    h->config_path = config_path;
    h->board_override = board;
    h->log_level_forced = level_arg != NULL;
    h->log_target_forced = target_arg != NULL;
    r = config_load(config_path, board, &h->cfg, &diag);
    if (r < 0) {
        print_diag(&diag);
        fprintf(stderr, "harkd: %s: configuration rejected (%u error%s)\n", config_path, diag.total,
                diag.total == 1 ? "" : "s");
        return 1;
    }
    if (check_only) {
        const struct board_cfg *b = &h->cfg.board;
        printf("%s: OK (board %s: %u mics; capture %s %u ch %u Hz; playback %s %u ch %u Hz; reference %s)\n",
               config_path, b->name, b->mic_count, b->capture.device, b->capture.channels,
               b->capture.rate, b->playback.device, b->playback.channels, b->playback.rate,
               b->ref_channel >= 0 ? "loopback" : "software");
        return 0;
    }
    if (level_arg && log_level_parse(level_arg, &h->cfg.log_level) < 0) {
        fprintf(stderr, "harkd: --log-level: expected error, warn, info or debug\n");
        return 2;
    }
    if (target_arg && log_target_parse(target_arg, &h->cfg.log_target) < 0) {
        fprintf(stderr, "harkd: --log-target: expected stderr or syslog\n");
        return 2;
    }
    if (ctrl_path)
        snprintf(h->cfg.ctrl_socket, sizeof(h->cfg.ctrl_socket), "%s", ctrl_path);
    log_setup("harkd", h->cfg.log_level, h->cfg.log_target);
    main_thread = pthread_self();
    (void)snd_lib_error_set_handler(alsa_error_handler);
    log_info("harkd %s starting: config %s, board %s (%s)", HARK_VERSION, config_path, h->cfg.board.name,
             h->cfg.board_path);
    clock_gettime(CLOCK_MONOTONIC, &h->t_start);
    h->cap_notify_fd = -1;
    h->dsp_event_fd = -1;

    if (h->cfg.realtime_priority > 0 && mlockall(MCL_CURRENT | MCL_FUTURE) < 0)
        log_warn("mlockall: %s; audio memory may page out", strerror(errno));
    (void)signal(SIGPIPE, SIG_IGN);

    h->loop = eloop_create();
    if (!h->loop) {
        log_error("cannot create the event loop");
        return 1;
    }
    /* Signals are blocked here, before any thread exists, so only the loop sees them. */
    if (eloop_add_signal(h->loop, SIGTERM, quit_cb, h) < 0 || eloop_add_signal(h->loop, SIGINT, quit_cb, h) < 0 ||
        eloop_add_signal(h->loop, SIGHUP, hup_cb, h) < 0) {
        log_error("cannot set up signal handling");
        goto out_loop;
    }
    {
        const struct board_cfg *b = &h->cfg.board;
        h->cap_ring = ring_create(ring_bytes(b->capture.rate, b->mic_count + 1, 500));
        /* The cloud sends answers faster than real time over WebSocket: the
         * playout ring is the jitter buffer and must hold a whole answer. */
        h->play_ring = ring_create(ring_bytes(b->playback.rate, 1, PLAYOUT_RING_MS));
        h->ref_ring = b->ref_channel < 0 ? ring_create(ring_bytes(b->playback.rate, 1, 1000)) : NULL;
        h->cap_notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        h->dsp_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (h->dsp_event_fd < 0 || eloop_add_fd(h->loop, h->dsp_event_fd, EPOLLIN, dsp_events_cb, h) < 0) {
            log_error("cannot create the DSP event channel");
            goto out_rings;
        }
        if (!h->cap_ring || !h->play_ring || (b->ref_channel < 0 && !h->ref_ring) || h->cap_notify_fd < 0) {
            log_error("out of memory allocating audio rings");
            goto out_rings;
        }
    }
    if (strcmp(h->cfg.ctrl_socket, "none") != 0) {
        h->ctrl = ctrl_create(h->loop, h->cfg.ctrl_socket, ctrl_cb, h, &r);
        if (!h->ctrl) {
            log_error("control socket %s: %s", h->cfg.ctrl_socket, strerror(-r));
            goto out_rings;
        }
    }
    if (!eloop_add_timer(h->loop, 500, 500, watch_cb, h) ||
        !(h->retry_timer = eloop_add_timer(h->loop, AUDIO_RETRY_MS, AUDIO_RETRY_MS, retry_cb, h)) ||
        (h->cfg.status_interval_s &&
         !eloop_add_timer(h->loop, h->cfg.status_interval_s * 1000, h->cfg.status_interval_s * 1000, status_cb, h)) ||
        (run_for > 0 && !eloop_add_timer(h->loop, (unsigned)(run_for * 1000), 0, run_for_cb, h))) {
        log_error("cannot create timers");
        goto out_ctrl;
    }
    {
        char err[512] = "";
        struct local_tools_cfg tcfg = {
            .ops = { .ctx = h, .get_volume = lt_get_volume, .set_volume = lt_set_volume, .get_mute = lt_get_mute,
                     .set_mute = lt_set_mute, .get_status = lt_status },
        };
        h->volume = h->cfg.volume;
        earcon_player_init(&h->player);
        h->earcons = earcon_set_load(h->cfg.sounds_dir, h->cfg.board.playback.rate, err, sizeof(err));
        if (err[0])
            log_warn("sounds: %s", err);
        h->tools = local_tools_create(&tcfg, err, sizeof(err));
        if (!h->tools)
            log_warn("local tools: %s", err);
    }
    if (cloud_start(h) < 0)
        goto out_ctrl;
    if (app_start(h) < 0 || !eloop_add_timer(h->loop, APP_TICK_MS, APP_TICK_MS, app_tick_cb, h)) {
        log_error("cannot create the appliance state machine");
        goto out_cloud;
    }
    {
        char err[256] = "";
        uint64_t now = mono_ms();
        h->button = button_create(&h->cfg.board, on_button, h, now, err, sizeof(err));
        if (!h->button) {
            struct board_cfg none = h->cfg.board;
            log_error("button: %s; only harkctl press/release will work", err);
            none.button.type = BUTTON_NONE;
            h->button = button_create(&none, on_button, h, now, err, sizeof(err));
        }
        button_watch_fd(h);
        err[0] = '\0';
        h->led = led_create(&h->cfg.board, NULL, err, sizeof(err));
        if (err[0])
            log_warn("%s", err);
        if (h->led) {
            led_set_state(h->led, app_get_state(h->app), now);
            if (!eloop_add_timer(h->loop, LED_TICK_MS, LED_TICK_MS, led_cb, h))
                log_warn("no LED timer; LEDs stay as they are");
        }
    }
    (void)audio_start(h);

    r = eloop_run(h->loop);
    if (r < 0)
        log_error("event loop failed: %s", strerror(-r));
    rc = r < 0 ? 1 : 0;

    audio_stop(h);
    {
        double wall = now_since(&h->t_start);
        log_info("summary: ran %.2f s; captured %llu frames (%.2f s), played %llu frames (%.2f s); xruns capture %llu playback %llu",
                 wall, (unsigned long long)h->base_cap_frames,
                 (double)h->base_cap_frames / h->cfg.board.capture.rate,
                 (unsigned long long)h->base_play_frames,
                 (double)h->base_play_frames / h->cfg.board.playback.rate,
                 (unsigned long long)h->base_cap_xruns, (unsigned long long)h->base_play_xruns);
        log_levels(h, true);
    }
    audio_free(h);
out_cloud:
    if (h->button_fd_added)
        eloop_del_fd(h->loop, button_fd(h->button));
    button_destroy(h->button);
    led_destroy(h->led);
    cloud_client_destroy(h->cloud);
    app_destroy(h->app);
    local_tools_destroy(h->tools);
    earcon_set_destroy(h->earcons);
out_ctrl:
    ctrl_destroy(h->ctrl);
out_rings:
    if (h->cap_notify_fd >= 0)
        close(h->cap_notify_fd);
    if (h->dsp_event_fd >= 0) {
        eloop_del_fd(h->loop, h->dsp_event_fd);
        close(h->dsp_event_fd);
    }
    ring_destroy(h->cap_ring);
    ring_destroy(h->play_ring);
    ring_destroy(h->ref_ring);
out_loop:
    eloop_destroy(h->loop);
    log_info("harkd stopped");
    return rc;
}
