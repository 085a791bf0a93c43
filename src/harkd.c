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
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <cjson/cJSON.h>

#include "audio_capture.h"
#include "audio_playback.h"
#include "cloud_client.h"
#include "config.h"
#include "ctrl.h"
#include "eloop.h"
#include "log.h"
#include "pipeline.h"
#include "ring.h"

#ifndef HARK_VERSION
#define HARK_VERSION "0.0.0-dev"
#endif

#define AUDIO_RETRY_MS 2000
#define PLAYOUT_RING_MS 30000

struct harkd {
    struct hark_cfg cfg;
    struct eloop *loop;
    struct ctrl *ctrl;
    struct ring *cap_ring, *play_ring, *ref_ring;
    int cap_notify_fd;
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
};

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
    plcfg = (struct pipeline_cfg){
        .in = h->cap_ring, .in_notify_fd = h->cap_notify_fd,
        .hop_frames = audio_capture_hop_frames(h->cap), .channels = audio_capture_channels(h->cap),
        .rate = b->capture.rate, .sw_ref = h->ref_ring, .cloud = h->cloud, .board = b,
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
    if (h->open_failures++ % 15 == 0)
        log_error("%s; retrying every %d s", err, AUDIO_RETRY_MS / 1000);
    return -EIO;
}

static void retry_cb(struct eloop *l, struct eloop_timer *t, void *ctx)
{
    struct harkd *h = ctx;

    (void)l;
    (void)t;
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
    out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
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

static size_t ctrl_cb(const char *line, char *out, size_t outlen, void *ctx)
{
    struct harkd *h = ctx;
    char *js;
    int n;

    if (strcmp(line, "ping") == 0)
        n = snprintf(out, outlen, "pong\n");
    else if (h->cloud && (!strcmp(line, "wake") || !strcmp(line, "sleep") || !strcmp(line, "end-turn") ||
                          !strcmp(line, "interrupt"))) {
        if (!strcmp(line, "wake")) {
            cloud_client_set_gate(h->cloud, true);
            log_info("gate open: streaming to the cloud (harkctl wake)");
        } else if (!strcmp(line, "sleep")) {
            cloud_client_set_gate(h->cloud, false);
            log_info("gate closed (harkctl sleep)");
        } else if (!strcmp(line, "end-turn")) {
            cloud_client_set_gate(h->cloud, false);
            cloud_client_end_turn(h->cloud);
            log_info("end of turn: commit and ask for a response");
        } else {
            uint64_t played = h->play ? audio_playback_audio_frames(h->play) : 0;
            if (h->play)
                audio_playback_flush(h->play);
            cloud_client_interrupt(h->cloud, played);
            log_info("interrupt: playback flushed after %llu frames of answer audio",
                     (unsigned long long)played);
        }
        n = snprintf(out, outlen, "ok\n");
    }
    else if (strcmp(line, "version") == 0)
        n = snprintf(out, outlen, "%s\n", HARK_VERSION);
    else if (strcmp(line, "status") == 0 && (js = status_json(h))) {
        n = snprintf(out, outlen, "%s\n", js);
        cJSON_free(js);
    } else if (h->cloud && (!strcmp(line, "transcript") || !strncmp(line, "transcript ", 11))) {
        js = transcript_json(h, line[10] ? line + 11 : NULL, outlen);
        n = js ? snprintf(out, outlen, "%s\n", js) : snprintf(out, outlen, "{\"error\":\"usage: transcript [SINCE]\"}\n");
        cJSON_free(js);
    } else
        n = snprintf(out, outlen, "{\"error\":\"unknown command\",\"commands\":[\"ping\",\"status\",\"version\"%s]}\n",
                     h->cloud ? ",\"wake\",\"sleep\",\"end-turn\",\"interrupt\",\"transcript\"" : "");
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
    (void)ctx;
    log_info("SIGHUP: configuration reload is not supported yet; restart harkd to apply changes");
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
    if (h->cfg.cloud.mode != CLOUD_OFF) {
        static const char *const modes[] = { "off", "conversation", "translation", "captions" };
        struct cloud_client_cfg ccfg = {
            .cloud = &h->cfg.cloud, .mic_rate = h->cfg.board.capture.rate,
            .hop_frames = h->cfg.board.capture.period_frames, .playback_rate = h->cfg.board.playback.rate,
            .playout = h->play_ring,
        };
        char err[512];
        h->cloud = cloud_client_create(&ccfg, err, sizeof(err));
        if (!h->cloud) {
            log_error("%s", err);
            goto out_ctrl;
        }
        log_info("cloud: %s mode, %s; audio leaves the device only while the gate is open",
                 modes[h->cfg.cloud.mode], h->cfg.cloud.url);
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
    cloud_client_destroy(h->cloud);
out_ctrl:
    ctrl_destroy(h->ctrl);
out_rings:
    if (h->cap_notify_fd >= 0)
        close(h->cap_notify_fd);
    ring_destroy(h->cap_ring);
    ring_destroy(h->play_ring);
    ring_destroy(h->ref_ring);
out_loop:
    eloop_destroy(h->loop);
    log_info("harkd stopped");
    return rc;
}
