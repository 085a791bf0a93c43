/*
 * cloud_client.c - the realtime cloud session inside harkd (see cloud_client.h).
 *
 * The lws thread owns ws_client, rt_session, the append/parse buffers and
 * the downlink resampler. The DSP thread owns the uplink resampler and is
 * the only producer of the uplink ring. Main only flips atomics and wakes
 * the lws thread.
 */
#include "cloud_client.h"

#include <errno.h>
#include <pthread.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <speex/speex_resampler.h>

#include "cloud_auth.h"
#include "g711.h"
#include "log.h"
#include "rt_events.h"
#include "rt_session.h"
#include "ws_client.h"

#define UPLINK_RING_MS 3000          /* pre-roll + network hiccups */
#define UPLINK_TX_HIGH_WATER (256 * 1024)
#define RESAMPLE_QUALITY 5
#define LAT_BINS 64                   /* uplink latency histogram, 2 ms bins */
#define TR_FLUSH_CHARS 160            /* translation: a caption line at most this long */

/* Transcript history for the control socket: the lws thread appends, the
 * main thread reads. Neither is a real-time thread, so a mutex is fine. */
struct transcript_log {
    pthread_mutex_t mu;
    uint64_t count;                  /* lines so far; line seq is 1..count */
    struct {
        char role[12];
        char text[CLOUD_TRANSCRIPT_MAX];
    } line[CLOUD_TRANSCRIPT_HISTORY];
};

struct hop_stamp {
    uint64_t t_ns;                   /* when the DSP thread queued the hop */
    uint64_t end_sample;             /* cumulative 24 kHz samples after it */
};

struct cloud_client {
    struct cloud_client_cfg cfg;
    struct cloud_cfg cloud;
    struct cloud_secret secret;
    bool minted;                     /* secret came from token_url: re-mint when it expires */
    struct ws_client *ws;
    /* lws thread */
    FILE *captions;
    char tr_pending[CLOUD_TRANSCRIPT_MAX];   /* translation output transcript so far */
    size_t tr_pending_len;
    struct transcript_log tlog;
    struct rt_session *rt;
    char *msg;
    size_t msg_cap;
    char *scratch;
    size_t scratch_len;
    int16_t *chunk;
    uint8_t *chunk_g711;             /* G.711 uplink: the encoded chunk */
    size_t chunk_samples;
    unsigned up_rate;                /* uplink rate: 24000 (PCM16) or 8000 (G.711) */
    SpeexResamplerState *down_rs;
    float *down_in, *down_out;
    size_t down_cap;
    /* DSP thread */
    SpeexResamplerState *up_rs;
    float *up_mono, *up_24k;
    int16_t *up_pcm;
    size_t up_max;
    struct ring *uplink;             /* int16 at 24 kHz */
    struct ring *stamps;             /* struct hop_stamp, DSP -> lws */
    uint64_t pushed_samples;         /* DSP thread */
    uint64_t sent_samples;           /* lws thread */
    uint32_t lat_hist[LAT_BINS];     /* lws thread */
    /* requests and status (atomics) */
    _Atomic bool gate;
    _Atomic bool req_end_turn, req_interrupt, req_clear;
    _Atomic uint64_t gate_open_ns, first_sent_ns;    /* CLOCK_MONOTONIC; see cloud_status */
    _Atomic uint64_t req_played;
    _Atomic bool connected;
    _Atomic uint64_t connects, disconnects, dropped_frames, playout_dropped, rollovers, remint_failures;
    _Atomic uint64_t captions_done;
    _Atomic uint64_t lat_count, lat_sum_us, lat_max_us, lat_p95_us;
    _Atomic int sess_state, phase;
    _Atomic uint64_t sent_ms, received_ms;
    _Atomic uint32_t responses, cancels, truncates, tool_calls, errors;
};

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* lws thread: every hop whose last sample has now been queued for the
 * socket contributes its capture->socket delay. */
static void account_latency(struct cloud_client *c)
{
    struct hop_stamp s;
    uint64_t now = now_ns();

    while (ring_peek(c->stamps, &s, sizeof(s)) == sizeof(s) && s.end_sample <= c->sent_samples) {
        uint64_t us = (now - s.t_ns) / 1000;
        uint64_t n = atomic_load(&c->lat_count) + 1, acc = 0;
        unsigned bin = (unsigned)(us / 2000);

        ring_skip(c->stamps, sizeof(s));
        c->lat_hist[bin < LAT_BINS ? bin : LAT_BINS - 1]++;
        atomic_store(&c->lat_count, n);
        atomic_fetch_add(&c->lat_sum_us, us);
        if (us > atomic_load(&c->lat_max_us))
            atomic_store(&c->lat_max_us, us);
        for (unsigned b = 0; b < LAT_BINS; b++) {
            acc += c->lat_hist[b];
            if (acc * 100 >= n * 95) {
                atomic_store(&c->lat_p95_us, (uint64_t)(b + 1) * 2000);
                break;
            }
        }
    }
}

static uint64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int send_cb(void *ctx, const char *json, size_t len)
{
    struct cloud_client *c = ctx;
    return ws_client_send_text(c->ws, json, len);
}

static void publish(struct cloud_client *c)
{
    struct rt_session_stats st;

    if (!c->rt)
        return;
    rt_session_get_stats(c->rt, &st);
    atomic_store(&c->sess_state, st.state);
    atomic_store(&c->phase, st.phase);
    atomic_store(&c->sent_ms, st.audio_in_ms);
    atomic_store(&c->received_ms, st.audio_out_ms);
    atomic_store(&c->responses, st.responses);
    atomic_store(&c->cancels, st.cancels);
    atomic_store(&c->truncates, st.truncates);
    atomic_store(&c->tool_calls, st.tool_calls);
    atomic_store(&c->errors, st.errors);
}

static enum rt_audio_format rt_format(enum cloud_format f)
{
    return f == CLOUD_FMT_PCMU ? RT_AUDIO_PCMU : f == CLOUD_FMT_PCMA ? RT_AUDIO_PCMA : RT_AUDIO_PCM24K;
}

static int build_config(struct cloud_client *c, char *buf, size_t cap)
{
    const struct cloud_cfg *k = &c->cloud;

    switch (k->mode) {
    case CLOUD_CAPTIONS: {
        struct rt_transcription_cfg t;
        rt_transcription_cfg_defaults(&t);
        t.language = *k->language ? k->language : NULL;
        t.input_format = rt_format(k->input_format);
        return rt_build_transcription_session_update(buf, cap, &t, NULL);
    }
    case CLOUD_TRANSLATION: {
        struct rt_translation_cfg t = { .output_language = k->target_language };
        return rt_build_translation_session_update(buf, cap, &t, NULL);
    }
    default: {
        struct rt_conversation_cfg t;
        rt_conversation_cfg_defaults(&t);
        t.model = k->model;
        t.voice = *k->voice ? k->voice : NULL;
        t.instructions = *k->instructions ? k->instructions : NULL;
        t.input_format = rt_format(k->input_format);
        /* local (default): turn ends come from the device's VAD or button. */
        t.turn_detection = k->turn_detection == CLOUD_TURNS_SERVER_VAD ? RT_TD_SERVER_VAD
                         : k->turn_detection == CLOUD_TURNS_SEMANTIC_VAD ? RT_TD_SEMANTIC_VAD : RT_TD_NONE;
        t.reasoning = (enum rt_reasoning_effort)k->reasoning_effort;   /* same order */
        if (c->cfg.n_tools) {
            t.tools = c->cfg.tools;
            t.n_tools = c->cfg.n_tools;
        }
        return rt_build_session_update(buf, cap, &t, NULL);
    }
    }
}

static void on_open(void *ctx, struct ws_client *ws)
{
    struct cloud_client *c = ctx;
    struct rt_session_cfg cfg = {
        .send = send_cb, .send_ctx = c,
        .rollover_after_ms = (uint64_t)c->cloud.session_max_s * 1000,
        .rollover_hard_ms = (uint64_t)c->cloud.session_max_s * 1000 + 4 * 60 * 1000,
        .input_rate_hz = c->up_rate,
        .tool = c->cfg.tool, .tool_ctx = c->cfg.tool_ctx,
    };
    char buf[8192];
    int n;

    (void)ws;
    rt_session_destroy(c->rt);
    c->rt = rt_session_create(&cfg, now_ms());
    n = c->rt ? build_config(c, buf, sizeof(buf)) : -ENOMEM;
    if (n > 0)
        (void)rt_session_set_config(c->rt, buf, (size_t)n);
    atomic_store(&c->connected, true);
    atomic_fetch_add(&c->connects, 1);
    publish(c);
}

static void play(struct cloud_client *c, const int16_t *pcm, size_t n)
{
    while (n > 0) {
        spx_uint32_t in_len = (spx_uint32_t)(n < c->down_cap ? n : c->down_cap);
        spx_uint32_t out_len = (spx_uint32_t)c->down_cap * 8;

        for (spx_uint32_t i = 0; i < in_len; i++)
            c->down_in[i] = pcm[i] * (1.0f / 32768.0f);
        speex_resampler_process_float(c->down_rs, 0, c->down_in, &in_len, c->down_out, &out_len);
        if (ring_write(c->cfg.playout, c->down_out, out_len * sizeof(float)) != out_len * sizeof(float))
            atomic_fetch_add(&c->playout_dropped, out_len);   /* the answer outran the playout ring */
        pcm += in_len;
        n -= in_len;
    }
}

/* Copies at most max-1 bytes of text, cutting on a UTF-8 boundary. */
static void copy_utf8(char *dst, size_t max, const char *text, size_t len)
{
    if (len >= max) {
        len = max - 1;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
            len--;
    }
    memcpy(dst, text, len);
    dst[len] = '\0';
}

/* lws thread: one finished transcript line (a caption, the user's words,
 * the answer's words, a translated sentence). */
static void transcript_add(struct cloud_client *c, const char *role, const char *text, size_t len)
{
    struct transcript_log *t = &c->tlog;
    unsigned slot;

    while (len > 0 && (text[len - 1] == ' ' || text[len - 1] == '\n'))
        len--;
    while (len > 0 && (*text == ' ' || *text == '\n')) {
        text++;
        len--;
    }
    if (len == 0)
        return;
    pthread_mutex_lock(&t->mu);
    slot = (unsigned)(t->count % CLOUD_TRANSCRIPT_HISTORY);
    snprintf(t->line[slot].role, sizeof(t->line[slot].role), "%s", role);
    copy_utf8(t->line[slot].text, sizeof(t->line[slot].text), text, len);
    t->count++;
    pthread_mutex_unlock(&t->mu);
}

/* Translation sends its output transcript only as deltas: cut it into
 * lines at sentence ends, or at TR_FLUSH_CHARS on a space. */
static void translation_delta(struct cloud_client *c, const char *text, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (c->tr_pending_len + 1 < sizeof(c->tr_pending))
            c->tr_pending[c->tr_pending_len++] = ch;
        if (ch == '.' || ch == '!' || ch == '?' ||
            (ch == ' ' && c->tr_pending_len >= TR_FLUSH_CHARS) ||
            c->tr_pending_len + 1 >= sizeof(c->tr_pending)) {
            transcript_add(c, "translation", c->tr_pending, c->tr_pending_len);
            c->tr_pending_len = 0;
        }
    }
}

int cloud_client_transcript(struct cloud_client *c, uint64_t seq, char *role, size_t role_len,
                            char *text, size_t text_len)
{
    struct transcript_log *t = &c->tlog;
    int r = 0;

    pthread_mutex_lock(&t->mu);
    if (seq < 1 || seq + CLOUD_TRANSCRIPT_HISTORY <= t->count)
        r = -1;                      /* scrolled out of the history */
    else if (seq <= t->count) {
        unsigned slot = (unsigned)((seq - 1) % CLOUD_TRANSCRIPT_HISTORY);
        snprintf(role, role_len, "%s", t->line[slot].role);
        snprintf(text, text_len, "%s", t->line[slot].text);
        r = 1;
    }
    pthread_mutex_unlock(&t->mu);
    return r;
}

uint64_t cloud_client_transcript_next(struct cloud_client *c)
{
    uint64_t n;

    pthread_mutex_lock(&c->tlog.mu);
    n = c->tlog.count + 1;
    pthread_mutex_unlock(&c->tlog.mu);
    return n;
}

static void on_message(void *ctx, struct ws_client *ws, const char *msg, size_t len)
{
    struct cloud_client *c = ctx;
    struct rt_event ev;

    (void)ws;
    if (len + 2 > c->scratch_len) {
        char *s = realloc(c->scratch, len + 2);
        if (!s)
            return;
        c->scratch = s;
        c->scratch_len = len + 2;
    }
    if (rt_parse_server_event(msg, len, &ev, c->scratch, c->scratch_len) < 0 || !c->rt)
        return;   /* malformed: dropped (rt_session counts what it sees) */
    if (rt_session_handle_event(c->rt, &ev) == RT_SESSION_PLAY)
        play(c, ev.pcm, ev.samples);
    if (ev.type == RT_EV_INPUT_TRANSCRIPTION_COMPLETED && c->cloud.mode == CLOUD_CAPTIONS && ev.text) {
        /* The network thread may log (it is not real-time). */
        log_info("caption: %s", ev.text);
        if (c->captions) {
            fprintf(c->captions, "%s\n", ev.text);
            fflush(c->captions);
        }
        atomic_fetch_add(&c->captions_done, 1);
    }
    if (ev.text) {
        if (ev.type == RT_EV_INPUT_TRANSCRIPTION_COMPLETED)
            transcript_add(c, c->cloud.mode == CLOUD_CAPTIONS ? "caption" : "user", ev.text, ev.text_len);
        else if (ev.type == RT_EV_AUDIO_TRANSCRIPT_DONE)
            transcript_add(c, "assistant", ev.text, ev.text_len);
        else if (ev.type == RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA)
            translation_delta(c, ev.text, ev.text_len);
    }
    publish(c);
}

static int load_secret(struct cloud_client *c, char *err, size_t errlen);

static void on_close(void *ctx, struct ws_client *ws, enum ws_close_reason r, int code, const char *text)
{
    struct cloud_client *c = ctx;
    bool auth = r == WS_CLOSE_CONNECT_FAILED && strstr(text, "unauthorized");
    bool expiring = c->secret.expires_at && (int64_t)time(NULL) > c->secret.expires_at - 60;

    (void)code;
    if (atomic_exchange(&c->connected, false))
        atomic_fetch_add(&c->disconnects, 1);
    /* A client secret only admits new sessions until it expires: get a
     * fresh one before the next attempt. */
    if (c->minted && (auth || expiring)) {
        char err[256];
        if (load_secret(c, err, sizeof(err)) == 0)
            (void)ws_client_set_bearer(ws, c->secret.value);
        else
            atomic_fetch_add(&c->remint_failures, 1);
    }
}

static void send_uplink(struct cloud_client *c, bool flush)
{
    size_t bytes = c->chunk_samples * sizeof(int16_t);
    const char *type = c->cloud.mode == CLOUD_TRANSLATION ? "session.input_audio_buffer.append"
                                                          : "input_audio_buffer.append";

    while (ws_client_tx_queued(c->ws) < UPLINK_TX_HIGH_WATER) {
        size_t avail = ring_readable(c->uplink);
        size_t take = avail >= bytes ? bytes : flush ? avail & ~(size_t)1 : 0;
        int len;

        if (take == 0)
            break;
        ring_read(c->uplink, c->chunk, take);
        if (c->chunk_g711) {
            g711_encode(c->cloud.input_format == CLOUD_FMT_PCMA ? G711_ALAW : G711_ULAW, c->chunk_g711,
                        c->chunk, take / 2);
            len = rt_build_audio_append_bytes(c->msg, c->msg_cap, c->chunk_g711, take / 2, type, NULL);
        } else {
            len = rt_build_audio_append(c->msg, c->msg_cap, c->chunk, take / 2, type, NULL);
        }
        if (len < 0 || ws_client_send_text(c->ws, c->msg, (size_t)len) < 0)
            break;
        rt_session_audio_sent(c->rt, take / 2);
        if (atomic_load(&c->first_sent_ns) < atomic_load(&c->gate_open_ns))
            atomic_store(&c->first_sent_ns, now_ns());
        c->sent_samples += take / 2;
        account_latency(c);
    }
}

static void on_wake(void *ctx, struct ws_client *ws)
{
    struct cloud_client *c = ctx;
    bool ready = c->rt && ws_client_connected(ws) && rt_session_state(c->rt) >= RT_SESSION_CONFIGURED;

    if (!ready)
        return;
    /* Roll over before the service's 60-minute limit, between turns only. */
    if (!atomic_load(&c->gate) && ring_readable(c->uplink) == 0 &&
        rt_session_should_rollover(c->rt, now_ms())) {
        atomic_fetch_add(&c->rollovers, 1);
        ws_client_close(ws, true);
        return;
    }
    if (atomic_exchange(&c->req_interrupt, false)) {
        uint64_t played = atomic_load(&c->req_played);
        (void)rt_session_interrupt(c->rt, played * 24000 / c->cfg.playback_rate);
    }
    if (atomic_exchange(&c->req_clear, false)) {
        /* The turn was dropped (no speech, harkctl sleep): nothing more of
         * it goes out, and the service forgets what it already has. */
        struct hop_stamp st;
        size_t n = ring_readable(c->uplink);
        ring_skip(c->uplink, n);
        c->sent_samples += n / sizeof(int16_t);   /* keeps the latency stamps aligned */
        while (ring_peek(c->stamps, &st, sizeof(st)) == sizeof(st) && st.end_sample <= c->sent_samples)
            ring_skip(c->stamps, sizeof(st));
        if (c->cloud.mode != CLOUD_TRANSLATION)
            (void)rt_session_clear_input(c->rt);
    }
    send_uplink(c, false);
    if (atomic_exchange(&c->req_end_turn, false)) {
        send_uplink(c, true);
        if (c->cloud.mode != CLOUD_TRANSLATION && rt_session_commit(c->rt) == 0 &&
            c->cloud.mode == CLOUD_CONVERSATION)
            (void)rt_session_request_response(c->rt, NULL);
    }
    publish(c);
}

static const struct ws_client_ops ops = { on_open, on_message, on_close, on_wake };

static int load_secret(struct cloud_client *c, char *err, size_t errlen)
{
    const struct cloud_cfg *k = &c->cloud;
    char e[256];
    int r;

    if (*k->token_url && *k->device_credential_file) {
        struct cloud_secret cred;
        c->minted = true;
        r = cloud_auth_read_secret_file(k->device_credential_file, &cred, e, sizeof(e));
        if (r == 0) {
            r = cloud_auth_mint(k->token_url, k->ca_file, &cred, NULL, 10, &c->secret, e, sizeof(e));
            cloud_secret_clear(&cred);
        }
    } else {
        r = cloud_auth_read_secret_file(k->api_key_file, &c->secret, e, sizeof(e));
    }
    if (r < 0)
        snprintf(err, errlen, "cloud credentials: %s", e);
    return r;
}

struct cloud_client *cloud_client_create(const struct cloud_client_cfg *cfg, char *err, size_t errlen)
{
    struct cloud_client *c = calloc(1, sizeof(*c));
    struct ws_client_cfg wcfg;
    int e = 0;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    c->cloud = *cfg->cloud;
    c->cfg.cloud = &c->cloud;
    pthread_mutex_init(&c->tlog.mu, NULL);
    if (load_secret(c, err, errlen) < 0)
        goto out_free;
    if (c->cloud.mode == CLOUD_CAPTIONS && *c->cloud.captions_file) {
        c->captions = fopen(c->cloud.captions_file, "a");
        if (!c->captions) {
            snprintf(err, errlen, "cloud: captions_file %s: %s", c->cloud.captions_file, strerror(errno));
            goto out_free;
        }
    }
    c->up_rate = c->cloud.input_format == CLOUD_FMT_PCM ? RT_RATE_HZ : 8000;
    c->chunk_samples = (size_t)c->up_rate * c->cloud.chunk_ms / 1000;
    if (c->cloud.mode == CLOUD_TRANSLATION)
        c->chunk_samples = RT_RATE_HZ / 5;   /* the translation engine works in 200 ms frames */
    c->msg_cap = rt_audio_append_cap(c->chunk_samples * 2, NULL);
    c->msg = malloc(c->msg_cap);
    c->chunk = malloc(c->chunk_samples * sizeof(int16_t));
    c->uplink = ring_create((size_t)c->up_rate * UPLINK_RING_MS / 1000 * sizeof(int16_t));
    if (c->up_rate != RT_RATE_HZ)
        c->chunk_g711 = malloc(c->chunk_samples);
    c->stamps = ring_create(sizeof(struct hop_stamp) * (UPLINK_RING_MS / 5 + 16));
    c->up_max = (size_t)cfg->hop_frames * c->up_rate / cfg->mic_rate + 16;
    c->up_mono = calloc(cfg->hop_frames, sizeof(float));
    c->up_24k = calloc(c->up_max, sizeof(float));
    c->up_pcm = calloc(c->up_max, sizeof(int16_t));
    c->down_cap = 4800;
    c->down_in = calloc(c->down_cap, sizeof(float));
    c->down_out = calloc(c->down_cap * 8, sizeof(float));
    c->up_rs = speex_resampler_init(1, cfg->mic_rate, c->up_rate, RESAMPLE_QUALITY, &e);
    c->down_rs = speex_resampler_init(1, RT_RATE_HZ, cfg->playback_rate, RESAMPLE_QUALITY, &e);
    if (!c->msg || !c->chunk || (c->up_rate != RT_RATE_HZ && !c->chunk_g711) || !c->uplink || !c->stamps ||
        !c->up_mono || !c->up_24k || !c->up_pcm || !c->down_in || !c->down_out || !c->up_rs || !c->down_rs) {
        snprintf(err, errlen, "cloud: out of memory");
        goto out_free;
    }
    memset(&wcfg, 0, sizeof(wcfg));
    wcfg.url = c->cloud.url;
    wcfg.ca_file = c->cloud.ca_file;
    wcfg.spki_pins = c->cloud.spki_pin;
    wcfg.bearer = c->secret.value;
    wcfg.reconnect = true;
    wcfg.ops = &ops;
    wcfg.ctx = c;
    c->ws = ws_client_start(&wcfg, err, errlen);
    if (!c->ws)
        goto out_free;
    return c;

out_free:
    cloud_client_destroy(c);
    return NULL;
}

void cloud_client_destroy(struct cloud_client *c)
{
    if (!c)
        return;
    ws_client_stop(c->ws);
    pthread_mutex_destroy(&c->tlog.mu);
    rt_session_destroy(c->rt);
    if (c->up_rs)
        speex_resampler_destroy(c->up_rs);
    if (c->down_rs)
        speex_resampler_destroy(c->down_rs);
    ring_destroy(c->uplink);
    ring_destroy(c->stamps);
    if (c->captions)
        fclose(c->captions);
    free(c->msg);
    free(c->chunk);
    free(c->chunk_g711);
    free(c->scratch);
    free(c->up_mono);
    free(c->up_24k);
    free(c->up_pcm);
    free(c->down_in);
    free(c->down_out);
    cloud_secret_clear(&c->secret);
    free(c);
}

void cloud_client_push_mic(struct cloud_client *c, const float *hop, unsigned stride, unsigned mics)
{
    spx_uint32_t in_len = c->cfg.hop_frames, out_len = (spx_uint32_t)c->up_max;
    size_t bytes;

    if (!atomic_load_explicit(&c->gate, memory_order_acquire))
        return;   /* privacy: nothing is even queued while the gate is closed */
    for (unsigned f = 0; f < c->cfg.hop_frames; f++) {
        float s = 0;
        for (unsigned m = 0; m < mics; m++)
            s += hop[f * stride + m];
        c->up_mono[f] = s / (float)mics;
    }
    speex_resampler_process_float(c->up_rs, 0, c->up_mono, &in_len, c->up_24k, &out_len);
    for (spx_uint32_t i = 0; i < out_len; i++) {
        float v = c->up_24k[i] * 32768.0f;
        c->up_pcm[i] = v >= 32767.0f ? 32767 : v <= -32768.0f ? -32768 : (int16_t)lrintf(v);
    }
    bytes = out_len * sizeof(int16_t);
    if (ring_write(c->uplink, c->up_pcm, bytes) != bytes) {
        atomic_fetch_add_explicit(&c->dropped_frames, out_len, memory_order_relaxed);
    } else {
        struct hop_stamp s = { now_ns(), c->pushed_samples += out_len };
        (void)ring_write(c->stamps, &s, sizeof(s));
    }
    ws_client_wake(c->ws);
}

void cloud_client_tick(struct cloud_client *c)
{
    ws_client_wake(c->ws);
}

bool cloud_client_gate_is_open(struct cloud_client *c)
{
    return atomic_load_explicit(&c->gate, memory_order_acquire);
}

void cloud_client_set_gate(struct cloud_client *c, bool open)
{
    if (open && !atomic_load_explicit(&c->gate, memory_order_relaxed))
        atomic_store(&c->gate_open_ns, now_ns());
    atomic_store_explicit(&c->gate, open, memory_order_release);
    ws_client_wake(c->ws);
}

void cloud_client_clear_turn(struct cloud_client *c)
{
    atomic_store(&c->req_clear, true);
    ws_client_wake(c->ws);
}

void cloud_client_end_turn(struct cloud_client *c)
{
    atomic_store(&c->req_end_turn, true);
    ws_client_wake(c->ws);
}

void cloud_client_interrupt(struct cloud_client *c, uint64_t played_frames)
{
    atomic_store(&c->req_played, played_frames);
    atomic_store(&c->req_interrupt, true);
    ws_client_wake(c->ws);
}

void cloud_client_get_status(struct cloud_client *c, struct cloud_status *st)
{
    st->connected = atomic_load(&c->connected);
    st->gate_open = atomic_load(&c->gate);
    st->session_state = rt_session_state_name((enum rt_session_state)atomic_load(&c->sess_state));
    st->response_phase = rt_response_phase_name((enum rt_response_phase)atomic_load(&c->phase));
    st->connects = atomic_load(&c->connects);
    st->gate_open_ns = atomic_load(&c->gate_open_ns);
    st->first_sent_ns = atomic_load(&c->first_sent_ns);
    st->rollovers = atomic_load(&c->rollovers);
    st->captions = atomic_load(&c->captions_done);
    st->uplink_hops = atomic_load(&c->lat_count);
    st->uplink_latency_mean_ms = st->uplink_hops ? atomic_load(&c->lat_sum_us) / 1000.0 / st->uplink_hops : 0;
    st->uplink_latency_p95_ms = atomic_load(&c->lat_p95_us) / 1000.0;
    st->uplink_latency_max_ms = atomic_load(&c->lat_max_us) / 1000.0;
    if (st->uplink_latency_p95_ms > st->uplink_latency_max_ms)   /* 2 ms bins */
        st->uplink_latency_p95_ms = st->uplink_latency_max_ms;
    st->remint_failures = atomic_load(&c->remint_failures);
    st->disconnects = atomic_load(&c->disconnects);
    st->audio_sent_ms = atomic_load(&c->sent_ms);
    st->audio_received_ms = atomic_load(&c->received_ms);
    st->responses = atomic_load(&c->responses);
    st->cancels = atomic_load(&c->cancels);
    st->truncates = atomic_load(&c->truncates);
    st->tool_calls = atomic_load(&c->tool_calls);
    st->errors = atomic_load(&c->errors);
    st->uplink_dropped_ms = atomic_load(&c->dropped_frames) * 1000 / c->up_rate;
    st->playout_dropped_ms = atomic_load(&c->playout_dropped) * 1000 / c->cfg.playback_rate;
}
