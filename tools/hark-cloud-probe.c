/*
 * hark-cloud-probe.c - stream a WAV file to a realtime cloud endpoint and
 * save what comes back, using harkd's own cloud code (ws_client, rt_session,
 * rt_events).
 *
 *   hark-cloud-probe --url wss://HOST/v1/realtime?model=gpt-realtime-2 --ca CA.pem
 *       --token-file KEY --mode conversation|translation|captions
 *       --in IN.wav --out OUT.wav [--format pcm|pcmu|pcma] [options]
 *
 * --format: the uplink audio. pcm (default) = audio/pcm, PCM16 24 kHz;
 *   pcmu / pcma = G.711 µ-law / A-law at 8 kHz (the input is resampled to
 *   8 kHz and encoded with src/g711.c, sent with
 *   rt_build_audio_append_bytes). The answer audio is always audio/pcm
 *   24 kHz. Translation sessions accept PCM only (protocol §1.12).
 * conversation: session.update (turn_detection null), the input as 40 ms
 *   appends, commit, response.create; saves the answer audio, prints the
 *   transcript; answers function calls from a tiny local registry (get_time).
 * translation: session.update with the target language, 200 ms
 *   session.input_audio_buffer.append chunks, session.close; saves the
 *   translated audio until session.closed.
 * captions: a transcription session (gpt-realtime-whisper, turn_detection
 *   null); prints the transcript deltas and the completed text.
 *
 * Exit status: 0 success; 1 connection, TLS, authentication or protocol
 * failure (with a message saying which); 2 bad arguments.
 * Threads: main (arguments, files, waiting) and the ws thread (everything
 * on the connection); they share `struct probe` through atomics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>
#include <speex/speex_resampler.h>

#include "cloud_auth.h"
#include "g711.h"
#include "rt_events.h"
#include "rt_session.h"
#include "wav_io.h"
#include "ws_client.h"

enum mode { MODE_CONVERSATION, MODE_TRANSLATION, MODE_CAPTIONS };

struct probe {
    /* set up by main before the ws thread starts */
    enum mode mode;
    const char *instructions, *voice, *language, *target_language;
    unsigned chunk_ms;
    bool realtime;
    enum rt_audio_format format;
    unsigned in_rate;         /* of p->in: 24000, or 8000 for G.711 */
    int16_t *in;
    size_t in_samples;
    uint8_t *enc;             /* one chunk of G.711 codes */
    FILE *transcript;
    /* ws thread */
    struct ws_client *ws;
    struct rt_session *rt;
    size_t in_pos;
    bool input_done;
    bool response_requested;
    char *scratch;
    size_t scratch_len;
    char *msg;
    size_t msg_cap;
    int16_t *out;
    size_t out_samples, out_cap;
    struct timespec t_open, t_commit, t_first_audio;
    uint64_t uplink_bytes, uplink_audio_samples;
    unsigned parse_errors;
    /* shared */
    _Atomic bool done;
    _Atomic int status;       /* exit status once done */
    char failure[256];
};

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

static void finish(struct probe *p, int status, const char *why)
{
    if (atomic_load(&p->done))
        return;
    if (why)
        snprintf(p->failure, sizeof(p->failure), "%s", why);
    atomic_store(&p->status, status);
    atomic_store(&p->done, true);
}

static int send_cb(void *ctx, const char *json, size_t len)
{
    struct probe *p = ctx;
    return ws_client_send_text(p->ws, json, len);
}

static int tool_cb(void *ctx, const char *name, const char *args, char *out, size_t outlen)
{
    (void)ctx;
    (void)args;
    if (strcmp(name, "get_time") == 0) {
        time_t now = time(NULL);
        struct tm tm;
        char buf[64];
        gmtime_r(&now, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
        snprintf(out, outlen, "{\"utc\":\"%s\"}", buf);
        return 0;
    }
    return -ENOENT;
}

static int build_config(struct probe *p, char *buf, size_t cap)
{
    static const struct rt_tool tools[] = {
        { "get_time", "Current date and time (UTC) on the device", NULL },
    };

    if (p->mode == MODE_CONVERSATION) {
        struct rt_conversation_cfg c;
        rt_conversation_cfg_defaults(&c);
        c.instructions = p->instructions;
        c.voice = p->voice;
        c.turn_detection = RT_TD_NONE;
        c.tools = tools;
        c.n_tools = 1;
        c.tool_choice = "auto";
        c.input_format = p->format;
        return rt_build_session_update(buf, cap, &c, NULL);
    }
    if (p->mode == MODE_CAPTIONS) {
        struct rt_transcription_cfg c;
        rt_transcription_cfg_defaults(&c);
        c.language = p->language;
        c.input_format = p->format;
        return rt_build_transcription_session_update(buf, cap, &c, NULL);
    }
    {
        struct rt_translation_cfg c = { .output_language = p->target_language };
        return rt_build_translation_session_update(buf, cap, &c, NULL);
    }
}

static void on_open(void *ctx, struct ws_client *c)
{
    struct probe *p = ctx;
    struct rt_session_cfg cfg = { .send = send_cb, .send_ctx = p, .tool = tool_cb, .tool_ctx = p,
                                  .input_rate_hz = p->in_rate };
    char buf[8192];
    int n;

    (void)c;
    clock_gettime(CLOCK_MONOTONIC, &p->t_open);
    p->rt = rt_session_create(&cfg, 0);
    n = p->rt ? build_config(p, buf, sizeof(buf)) : -ENOMEM;
    if (n < 0 || rt_session_set_config(p->rt, buf, (size_t)n) < 0)
        finish(p, 1, "cannot build the session configuration");
}

static void out_append(struct probe *p, const int16_t *pcm, size_t n)
{
    if (p->out_samples + n > p->out_cap) {
        size_t cap = p->out_cap ? p->out_cap * 2 : 24000 * 10;
        int16_t *o;
        while (cap < p->out_samples + n)
            cap *= 2;
        o = realloc(p->out, cap * sizeof(int16_t));
        if (!o) {
            finish(p, 1, "out of memory for the answer audio");
            return;
        }
        p->out = o;
        p->out_cap = cap;
    }
    memcpy(p->out + p->out_samples, pcm, n * sizeof(int16_t));
    p->out_samples += n;
    if (!p->t_first_audio.tv_sec)
        clock_gettime(CLOCK_MONOTONIC, &p->t_first_audio);
}

static void transcript(struct probe *p, const char *tag, const char *text, bool newline)
{
    fprintf(p->transcript, "%s%s%s", tag, text, newline ? "\n" : "");
    fflush(p->transcript);
}

static void on_message(void *ctx, struct ws_client *c, const char *msg, size_t len)
{
    struct probe *p = ctx;
    struct rt_event ev;
    struct rt_session_stats st;
    int r;

    (void)c;
    if (len + 2 > p->scratch_len) {
        char *s = realloc(p->scratch, len + 2);
        if (!s)
            return;
        p->scratch = s;
        p->scratch_len = len + 2;
    }
    r = rt_parse_server_event(msg, len, &ev, p->scratch, p->scratch_len);
    if (r < 0) {
        p->parse_errors++;
        fprintf(stderr, "hark-cloud-probe: dropped a malformed %s event (%s)\n", rt_ev_type_name(ev.type),
                strerror(-r));
        return;
    }
    if (!p->rt)
        return;
    r = rt_session_handle_event(p->rt, &ev);
    if (r == RT_SESSION_PLAY)
        out_append(p, ev.pcm, ev.samples);
    switch (ev.type) {
    case RT_EV_ERROR:
        fprintf(stderr, "hark-cloud-probe: server error %s/%s: %s\n", ev.error.type ? ev.error.type : "?",
                ev.error.code ? ev.error.code : "?", ev.error.message ? ev.error.message : "");
        break;
    case RT_EV_AUDIO_TRANSCRIPT_DELTA:
    case RT_EV_TEXT_DELTA:
    case RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA:
        transcript(p, "", ev.text, false);
        break;
    case RT_EV_AUDIO_TRANSCRIPT_DONE:
        transcript(p, "", "", true);
        break;
    case RT_EV_INPUT_TRANSCRIPTION_DELTA:
        if (p->mode == MODE_CAPTIONS)
            transcript(p, "", ev.text, false);
        break;
    case RT_EV_INPUT_TRANSCRIPTION_COMPLETED:
        transcript(p, p->mode == MODE_CAPTIONS ? "\ncaption: " : "you said: ", ev.text, true);
        if (p->mode == MODE_CAPTIONS)
            finish(p, 0, NULL);
        break;
    case RT_EV_FUNCTION_ARGS_DONE:
        fprintf(stderr, "hark-cloud-probe: function call %s(%s)\n", ev.name ? ev.name : "?", ev.text ? ev.text : "");
        break;
    case RT_EV_RESPONSE_DONE:
        rt_session_get_stats(p->rt, &st);
        if (p->mode == MODE_CONVERSATION && ev.status != RT_RESP_COMPLETED &&
            st.phase == RT_PHASE_IDLE)
            finish(p, 1, "the response did not complete");
        else if (p->mode == MODE_CONVERSATION && st.phase == RT_PHASE_IDLE && st.pending_turns == 0 &&
                 p->out_samples > 0)
            finish(p, 0, NULL);
        break;
    case RT_EV_TR_SESSION_CLOSED:
        transcript(p, "", "", true);
        finish(p, 0, NULL);
        break;
    default:
        break;
    }
}

static void on_close(void *ctx, struct ws_client *c, enum ws_close_reason reason, int code, const char *text)
{
    struct probe *p = ctx;
    char why[256];

    (void)c;
    if (atomic_load(&p->done))
        return;
    snprintf(why, sizeof(why), "%s%s%s (code %d)", ws_close_reason_name(reason), *text ? ": " : "", text, code);
    finish(p, 1, why);
}

/* Streams input while the queue has room; then ends the turn. */
static void on_wake(void *ctx, struct ws_client *c)
{
    struct probe *p = ctx;
    size_t chunk = (size_t)p->in_rate * p->chunk_ms / 1000;
    const char *type = p->mode == MODE_TRANSLATION ? "session.input_audio_buffer.append"
                                                   : "input_audio_buffer.append";

    if (!p->rt || !ws_client_connected(c) || rt_session_state(p->rt) < RT_SESSION_CONFIGURED)
        return;
    while (!p->input_done && ws_client_tx_queued(c) < 256 * 1024) {
        size_t n = p->in_samples - p->in_pos < chunk ? p->in_samples - p->in_pos : chunk;
        int len;

        if (p->realtime) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if ((double)p->in_pos / p->in_rate > since(&p->t_open, &now))
                break;
        }
        if (n == 0) {
            p->input_done = true;
            break;
        }
        if (p->format == RT_AUDIO_PCM24K) {
            len = rt_build_audio_append(p->msg, p->msg_cap, p->in + p->in_pos, n, type, NULL);
        } else {
            g711_encode(p->format == RT_AUDIO_PCMA ? G711_ALAW : G711_ULAW, p->enc, p->in + p->in_pos, n);
            len = rt_build_audio_append_bytes(p->msg, p->msg_cap, p->enc, n, type, NULL);
        }
        if (len < 0 || ws_client_send_text(c, p->msg, (size_t)len) < 0)
            break;
        rt_session_audio_sent(p->rt, n);
        p->in_pos += n;
        p->uplink_bytes += (uint64_t)len;
        p->uplink_audio_samples += n;
    }
    if (p->input_done && !p->response_requested) {
        p->response_requested = true;
        clock_gettime(CLOCK_MONOTONIC, &p->t_commit);
        if (p->mode == MODE_TRANSLATION) {
            int len = rt_build_session_close(p->msg, p->msg_cap, NULL);
            if (len > 0)
                (void)ws_client_send_text(c, p->msg, (size_t)len);
        } else if (rt_session_commit(p->rt) < 0) {
            finish(p, 1, "input too short to commit (the service needs at least 100 ms)");
        } else if (p->mode == MODE_CONVERSATION) {
            (void)rt_session_request_response(p->rt, NULL);
        }
    }
}

static const struct ws_client_ops ops = { on_open, on_message, on_close, on_wake };

/* ---- files ---------------------------------------------------------------- */

/* Reads a WAV, mixes it to mono and resamples it to `rate` (speexdsp,
 * quality 8): the filter delay is skipped at the start and flushed with
 * zeros at the end, so the result is as long as the input. */
static int load_input(const char *path, unsigned rate, int16_t **out, size_t *n_out)
{
    struct wav_info info;
    struct wav_reader *rd;
    float *all, *mono;
    int16_t *pcm;
    spx_uint32_t in_len, out_len;
    SpeexResamplerState *rs;
    int err = 0;

    rd = wav_reader_open(path, &info, &err);
    if (!rd) {
        fprintf(stderr, "hark-cloud-probe: %s: %s\n", path, wav_strerror_last());
        return -1;
    }
    all = malloc(sizeof(float) * (size_t)info.frames * (size_t)info.channels + 1);
    mono = malloc(sizeof(float) * (size_t)info.frames + 1);
    if (!all || !mono || wav_reader_read_float(rd, all, (long)info.frames) != (long)info.frames) {
        fprintf(stderr, "hark-cloud-probe: %s: cannot read audio\n", path);
        wav_reader_close(rd);
        free(all);
        free(mono);
        return -1;
    }
    wav_reader_close(rd);
    for (int64_t f = 0; f < info.frames; f++) {
        float s = 0;
        for (int c = 0; c < info.channels; c++)
            s += all[f * info.channels + c];
        mono[f] = s / (float)info.channels * 32768.0f;
    }
    free(all);
    out_len = (spx_uint32_t)((double)info.frames * rate / info.rate) + 64;
    pcm = calloc(out_len, sizeof(int16_t));
    rs = speex_resampler_init(1, (spx_uint32_t)info.rate, rate, 8, &err);
    if (!pcm || !rs) {
        free(mono);
        free(pcm);
        return -1;
    }
    speex_resampler_skip_zeros(rs);
    in_len = (spx_uint32_t)info.frames;
    {
        float *tmp = malloc(sizeof(float) * out_len);
        spx_uint32_t got = out_len;
        if (!tmp) {
            speex_resampler_destroy(rs);
            free(mono);
            free(pcm);
            return -1;
        }
        spx_uint32_t want = (spx_uint32_t)llround((double)info.frames * rate / info.rate);
        speex_resampler_process_float(rs, 0, mono, &in_len, tmp, &got);
        if (got < want) {
            /* the tail still inside the filter: push zeros through */
            static const float zeros[1024];
            spx_uint32_t zlen = (spx_uint32_t)speex_resampler_get_input_latency(rs) + 1;
            spx_uint32_t more = want - got;
            if (zlen > sizeof(zeros) / sizeof(zeros[0]))
                zlen = sizeof(zeros) / sizeof(zeros[0]);
            speex_resampler_process_float(rs, 0, zeros, &zlen, tmp + got, &more);
            got += more;
        }
        for (spx_uint32_t i = 0; i < got; i++) {
            float v = tmp[i];
            pcm[i] = v >= 32767.0f ? 32767 : v <= -32768.0f ? -32768 : (int16_t)lrintf(v);
        }
        *n_out = got;
        free(tmp);
    }
    speex_resampler_destroy(rs);
    free(mono);
    *out = pcm;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: hark-cloud-probe --url wss://HOST[:PORT]/PATH --ca CA.pem (--token-file F |\n"
            "         --token-url https://... --device-cred F) --mode conversation|translation|captions\n"
            "         --in IN.wav [--out OUT.wav] [--transcript FILE] [--instructions TEXT]\n"
            "         [--voice V] [--language L] [--target-language L] [--chunk-ms MS]\n"
            "         [--format pcm|pcmu|pcma] [--realtime] [--timeout S]\n"
            "         [--spki-pin sha256//BASE64[;...]]  (on top of the CA check)\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "url", required_argument, NULL, 'u' }, { "ca", required_argument, NULL, 'c' },
        { "token-file", required_argument, NULL, 't' }, { "token-url", required_argument, NULL, 'U' },
        { "device-cred", required_argument, NULL, 'D' }, { "mode", required_argument, NULL, 'm' },
        { "in", required_argument, NULL, 'i' }, { "out", required_argument, NULL, 'o' },
        { "transcript", required_argument, NULL, 'T' }, { "instructions", required_argument, NULL, 'I' },
        { "voice", required_argument, NULL, 'v' }, { "language", required_argument, NULL, 'l' },
        { "target-language", required_argument, NULL, 'L' }, { "chunk-ms", required_argument, NULL, 'k' },
        { "realtime", no_argument, NULL, 'r' }, { "timeout", required_argument, NULL, 'x' },
        { "format", required_argument, NULL, 'f' }, { "spki-pin", required_argument, NULL, 'P' },
        { "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
    };
    static struct probe p;
    const char *url = NULL, *ca = NULL, *token_file = NULL, *token_url = NULL, *cred_file = NULL;
    const char *in = NULL, *out = NULL, *mode = NULL, *tfile = NULL, *format = "pcm", *pin = NULL;
    struct cloud_secret secret;
    struct ws_client_cfg cfg;
    struct timespec t0, now;
    double timeout = 60;
    char err[512];
    int opt, rc, err_code = 0;

    p.chunk_ms = 0;
    p.transcript = stdout;
    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'u': url = optarg; break;
        case 'c': ca = optarg; break;
        case 't': token_file = optarg; break;
        case 'U': token_url = optarg; break;
        case 'D': cred_file = optarg; break;
        case 'm': mode = optarg; break;
        case 'i': in = optarg; break;
        case 'o': out = optarg; break;
        case 'T': tfile = optarg; break;
        case 'I': p.instructions = optarg; break;
        case 'v': p.voice = optarg; break;
        case 'l': p.language = optarg; break;
        case 'L': p.target_language = optarg; break;
        case 'k': p.chunk_ms = (unsigned)atoi(optarg); break;
        case 'r': p.realtime = true; break;
        case 'x': timeout = atof(optarg); break;
        case 'f': format = optarg; break;
        case 'P': pin = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!url || !ca || !mode || !in || (!token_file && !(token_url && cred_file))) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(mode, "conversation"))
        p.mode = MODE_CONVERSATION;
    else if (!strcmp(mode, "translation"))
        p.mode = MODE_TRANSLATION;
    else if (!strcmp(mode, "captions"))
        p.mode = MODE_CAPTIONS;
    else {
        fprintf(stderr, "hark-cloud-probe: --mode must be conversation, translation or captions\n");
        return 2;
    }
    if (!strcmp(format, "pcm")) {
        p.format = RT_AUDIO_PCM24K;
    } else if (!strcmp(format, "pcmu")) {
        p.format = RT_AUDIO_PCMU;
    } else if (!strcmp(format, "pcma")) {
        p.format = RT_AUDIO_PCMA;
    } else {
        fprintf(stderr, "hark-cloud-probe: --format must be pcm, pcmu or pcma\n");
        return 2;
    }
    if (p.mode == MODE_TRANSLATION && p.format != RT_AUDIO_PCM24K) {
        fprintf(stderr, "hark-cloud-probe: translation sessions take --format pcm only\n");
        return 2;
    }
    p.in_rate = p.format == RT_AUDIO_PCM24K ? RT_RATE_HZ : 8000;
    if (p.mode == MODE_TRANSLATION && !p.target_language)
        p.target_language = "es";
    if (!p.chunk_ms)
        p.chunk_ms = p.mode == MODE_TRANSLATION ? 200 : 40;
    if (p.chunk_ms < 10 || p.chunk_ms > 1000) {
        fprintf(stderr, "hark-cloud-probe: --chunk-ms must be 10..1000\n");
        return 2;
    }
    if (tfile && !(p.transcript = fopen(tfile, "w"))) {
        fprintf(stderr, "hark-cloud-probe: %s: %s\n", tfile, strerror(errno));
        return 1;
    }

    if (token_file) {
        if (cloud_auth_read_secret_file(token_file, &secret, err, sizeof(err)) < 0) {
            fprintf(stderr, "hark-cloud-probe: token: %s\n", err);
            return 1;
        }
    } else {
        struct cloud_secret cred;
        if (cloud_auth_read_secret_file(cred_file, &cred, err, sizeof(err)) < 0) {
            fprintf(stderr, "hark-cloud-probe: device credential: %s\n", err);
            return 1;
        }
        /* cloud_auth_mint() runs its own lws context: keep lws's notices
         * ("LWS: 4.1.6", "Loading client CA ...") off stderr, as ws_client does. */
        lws_set_log_level(LLL_ERR, NULL);
        rc = cloud_auth_mint(token_url, ca, &cred, NULL, 10, &secret, err, sizeof(err));
        cloud_secret_clear(&cred);
        if (rc < 0) {
            err[strcspn(err, "\r\n")] = '\0';   /* lws messages may end in a newline */
            fprintf(stderr, "hark-cloud-probe: %s\n", err);
            return 1;
        }
    }
    if (load_input(in, p.in_rate, &p.in, &p.in_samples) < 0)
        return 1;
    {
        size_t chunk = (size_t)p.in_rate * p.chunk_ms / 1000;
        p.msg_cap = rt_audio_append_cap(chunk * (p.format == RT_AUDIO_PCM24K ? 2 : 1), NULL);
        p.msg = malloc(p.msg_cap);
        p.enc = malloc(chunk);
        if (!p.msg || !p.enc) {
            fprintf(stderr, "hark-cloud-probe: out of memory\n");
            return 1;
        }
    }

    memset(&cfg, 0, sizeof(cfg));
    cfg.url = url;
    cfg.ca_file = ca;
    cfg.spki_pins = pin;
    cfg.bearer = secret.value;
    cfg.ops = &ops;
    cfg.ctx = &p;
    cfg.reconnect = false;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    p.ws = ws_client_start(&cfg, err, sizeof(err));
    cloud_secret_clear(&secret);
    if (!p.ws) {
        fprintf(stderr, "hark-cloud-probe: %s\n", err);
        return 1;
    }
    while (!atomic_load(&p.done)) {
        usleep(10000);
        ws_client_wake(p.ws);
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (since(&t0, &now) > timeout)
            finish(&p, 1, "timed out");
    }
    ws_client_stop(p.ws);
    rc = atomic_load(&p.status);
    if (rc) {
        fprintf(stderr, "hark-cloud-probe: failed: %s\n", p.failure);
    } else {
        double audio_s = (double)p.uplink_audio_samples / p.in_rate;
        fprintf(stderr, "hark-cloud-probe: sent %.2f s of audio (%s, %.0f bytes of events per audio second); "
                "received %.2f s of audio",
                audio_s, format, audio_s > 0 ? p.uplink_bytes / audio_s : 0, (double)p.out_samples / RT_RATE_HZ);
        if (p.t_first_audio.tv_sec && p.t_commit.tv_sec)
            fprintf(stderr, "; first answer audio %.0f ms after the end of input",
                    since(&p.t_commit, &p.t_first_audio) * 1000);
        fprintf(stderr, "\n");
    }
    if (out && rc == 0) {
        struct wav_writer *w = wav_writer_open(out, RT_RATE_HZ, 1, WAV_PCM16, &err_code);
        int e = w ? wav_writer_write_s16(w, p.out, (long)p.out_samples) : -EIO;
        if (w && wav_writer_close(w) < 0)
            e = -EIO;
        if (e < 0) {
            fprintf(stderr, "hark-cloud-probe: %s: %s\n", out, wav_strerror_last());
            rc = 1;
        }
    }
    if (p.rt)
        rt_session_destroy(p.rt);
    if (p.transcript != stdout)
        fclose(p.transcript);
    free(p.in);
    free(p.out);
    free(p.msg);
    free(p.enc);
    free(p.scratch);
    return rc;
}
