/*
 * rt_events.c - Realtime API client event builders and server event parser
 * (see rt_events.h for the contract).
 *
 * Builders. The frequent, small events (audio append, commit, clear,
 * response.create/cancel, truncate, function output, session.close) are
 * written by hand with a bounded writer (struct jw) that JSON-escapes
 * strings; the audio append base64-encodes straight into the output buffer,
 * so the hot path is one pass with no allocation. The session.update
 * variants are built as cJSON trees (rare, at setup) and copied out.
 *
 * Parser. cJSON parses the message (it bounds its nesting at 1000 and never
 * reads past the given length); we then look up the type, check every field
 * we use for its JSON type, and copy what the caller needs into its scratch
 * buffer: audio decoded to int16 first (aligned), strings after it. Each
 * copied string comes from a distinct JSON string of at least its size plus
 * two quotes, and base64 shrinks by a quarter, so a scratch buffer of the
 * message length + 2 always suffices.
 */
#include "rt_events.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "b64.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "rt_events: the wire carries PCM16 little-endian; add byte swapping for this target"
#endif

#define APPEND_TYPE "input_audio_buffer.append"
#define APPEND_TYPE_TR "session.input_audio_buffer.append"

/* ---- UTF-8 ------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s (n bytes available), 0 if invalid
 * (overlong forms, surrogates and code points over U+10FFFF are invalid). */
static size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t len;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        len = 2;
    else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0;
        else if (c == 0xED)
            hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90;
        else if (c == 0xF4)
            hi = 0x8F;
    } else
        return 0;
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return len;
}

static bool utf8_valid(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), k;

    for (size_t i = 0; i < n; i += k)
        if ((k = utf8_seq_len(p + i, n - i)) == 0)
            return false;
    return true;
}

/* Largest length <= max that does not split a UTF-8 sequence of s[0..n). */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* ---- bounded JSON writer ---------------------------------------------------- */

struct jw {
    char *buf;
    size_t cap, len;
    bool full;
};

static void jw_raw(struct jw *w, const char *s, size_t n)
{
    if (w->full || n >= w->cap - w->len) {   /* keep room for the NUL */
        w->full = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void jw_lit(struct jw *w, const char *s)
{
    jw_raw(w, s, strlen(s));
}

/* Quoted, escaped string; invalid UTF-8 bytes become U+FFFD. */
static void jw_str(struct jw *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, run;
    char esc[6];

    jw_raw(w, "\"", 1);
    while (i < n && !w->full) {
        /* copy the longest run that needs no escaping in one go */
        for (run = i; run < n; ) {
            size_t k;
            if (p[run] < 0x20 || p[run] == '"' || p[run] == '\\')
                break;
            if ((k = utf8_seq_len(p + run, n - run)) == 0)
                break;
            run += k;
        }
        if (run > i) {
            jw_raw(w, s + i, run - i);
            i = run;
            continue;
        }
        switch (p[i]) {
        case '"':  jw_raw(w, "\\\"", 2); break;
        case '\\': jw_raw(w, "\\\\", 2); break;
        case '\n': jw_raw(w, "\\n", 2); break;
        case '\r': jw_raw(w, "\\r", 2); break;
        case '\t': jw_raw(w, "\\t", 2); break;
        case '\b': jw_raw(w, "\\b", 2); break;
        case '\f': jw_raw(w, "\\f", 2); break;
        default:
            if (p[i] < 0x20) {
                memcpy(esc, "\\u00", 4);
                esc[4] = hex[p[i] >> 4];
                esc[5] = hex[p[i] & 15];
                jw_raw(w, esc, 6);
            } else {
                jw_raw(w, "\\ufffd", 6);   /* a byte that starts no valid sequence */
            }
        }
        i++;
    }
    jw_raw(w, "\"", 1);
}

static void jw_u64(struct jw *w, uint64_t v)
{
    char tmp[24];
    size_t n = sizeof(tmp);

    do {
        tmp[--n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    jw_raw(w, tmp + n, sizeof(tmp) - n);
}

/* {"type":"<type>"[,"event_id":"<id>"] */
static void jw_head(struct jw *w, char *buf, size_t cap, const char *type, const char *event_id)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->full = (buf == NULL || cap == 0);
    jw_lit(w, "{\"type\":\"");
    jw_lit(w, type);
    jw_lit(w, "\"");
    if (event_id) {
        jw_lit(w, ",\"event_id\":");
        jw_str(w, event_id);
    }
}

static int jw_end(struct jw *w)
{
    jw_lit(w, "}");
    if (w->full)
        return -ENOSPC;
    if (w->len > INT_MAX)
        return -E2BIG;
    w->buf[w->len] = '\0';
    return (int)w->len;
}

static bool event_id_ok(const char *event_id)
{
    return !event_id || strnlen(event_id, RT_EVENT_ID_MAX + 1) <= RT_EVENT_ID_MAX;
}

/* ---- small client events (no allocation) -------------------------------------- */

static int build_bare(char *buf, size_t cap, const char *type, const char *event_id)
{
    struct jw w;

    if (!event_id_ok(event_id))
        return -EINVAL;
    jw_head(&w, buf, cap, type, event_id);
    return jw_end(&w);
}

int rt_build_audio_commit(char *buf, size_t cap, const char *event_id)
{
    return build_bare(buf, cap, "input_audio_buffer.commit", event_id);
}

int rt_build_audio_clear(char *buf, size_t cap, const char *event_id)
{
    return build_bare(buf, cap, "input_audio_buffer.clear", event_id);
}

int rt_build_session_close(char *buf, size_t cap, const char *event_id)
{
    return build_bare(buf, cap, "session.close", event_id);
}

int rt_build_response_create(char *buf, size_t cap, const char *instructions,
                             const char *event_id)
{
    struct jw w;

    if (!event_id_ok(event_id))
        return -EINVAL;
    jw_head(&w, buf, cap, "response.create", event_id);
    if (instructions) {
        jw_lit(&w, ",\"response\":{\"instructions\":");
        jw_str(&w, instructions);
        jw_lit(&w, "}");
    }
    return jw_end(&w);
}

int rt_build_response_cancel(char *buf, size_t cap, const char *response_id,
                             const char *event_id)
{
    struct jw w;

    if (!event_id_ok(event_id) || (response_id && !response_id[0]))
        return -EINVAL;
    jw_head(&w, buf, cap, "response.cancel", event_id);
    if (response_id) {
        jw_lit(&w, ",\"response_id\":");
        jw_str(&w, response_id);
    }
    return jw_end(&w);
}

int rt_build_item_truncate(char *buf, size_t cap, const char *item_id, uint32_t audio_end_ms,
                           const char *event_id)
{
    struct jw w;

    if (!event_id_ok(event_id) || !item_id || !item_id[0])
        return -EINVAL;
    jw_head(&w, buf, cap, "conversation.item.truncate", event_id);
    jw_lit(&w, ",\"item_id\":");
    jw_str(&w, item_id);
    jw_lit(&w, ",\"content_index\":0,\"audio_end_ms\":");
    jw_u64(&w, audio_end_ms);
    return jw_end(&w);
}

int rt_build_function_call_output(char *buf, size_t cap, const char *call_id,
                                  const char *output, const char *event_id)
{
    struct jw w;

    if (!event_id_ok(event_id) || !call_id || !call_id[0] || !output)
        return -EINVAL;
    jw_head(&w, buf, cap, "conversation.item.create", event_id);
    jw_lit(&w, ",\"item\":{\"type\":\"function_call_output\",\"call_id\":");
    jw_str(&w, call_id);
    jw_lit(&w, ",\"output\":");
    jw_str(&w, output);
    jw_lit(&w, "}");
    return jw_end(&w);
}

/* ---- audio append (hot path) ---------------------------------------------------- */

size_t rt_audio_append_cap(size_t bytes, const char *event_id)
{
    size_t enc = b64_encoded_len(bytes);
    size_t fixed = sizeof("{\"type\":\"" APPEND_TYPE_TR "\",\"audio\":\"\"}");   /* with NUL */

    if (event_id)
        fixed += sizeof(",\"event_id\":\"\"") - 1 + 6 * strnlen(event_id, RT_EVENT_ID_MAX + 1);
    if (enc > SIZE_MAX - fixed)
        return SIZE_MAX;
    return enc + fixed;
}

int rt_build_audio_append_bytes(char *buf, size_t cap, const void *data, size_t bytes,
                                const char *event_type, const char *event_id)
{
    struct jw w;
    size_t enc;
    int r;

    if (!event_type)
        event_type = APPEND_TYPE;
    if (strcmp(event_type, APPEND_TYPE) != 0 && strcmp(event_type, APPEND_TYPE_TR) != 0)
        return -EINVAL;
    if (!event_id_ok(event_id) || (!data && bytes))
        return -EINVAL;
    enc = b64_encoded_len(bytes);
    if (enc > RT_APPEND_MAX_BYTES)
        return -E2BIG;
    jw_head(&w, buf, cap, event_type, event_id);
    jw_lit(&w, ",\"audio\":\"");
    if (w.full)
        return -ENOSPC;
    if (w.len + enc + 2 > RT_APPEND_MAX_BYTES)   /* + closing quote and brace */
        return -E2BIG;
    r = b64_encode(w.buf + w.len, w.cap - w.len, data, bytes);
    if (r < 0)
        return r == -ENOSPC ? -ENOSPC : -EINVAL;
    w.len += (size_t)r;
    jw_lit(&w, "\"");
    return jw_end(&w);
}

int rt_build_audio_append(char *buf, size_t cap, const int16_t *pcm, size_t samples,
                          const char *event_type, const char *event_id)
{
    if (samples > SIZE_MAX / 2)
        return -E2BIG;
    return rt_build_audio_append_bytes(buf, cap, pcm, samples * sizeof(int16_t), event_type,
                                       event_id);
}

/* ---- session.update (cJSON) ------------------------------------------------------- */

static const char *const nr_names[] = { NULL, "near_field", "far_field" };
static const char *const eager_names[] = { "auto", "low", "medium", "high" };
static const char *const effort_names[] = { NULL, "minimal", "low", "medium", "high", "xhigh" };

void rt_conversation_cfg_defaults(struct rt_conversation_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->model = RT_DEFAULT_MODEL;
    cfg->input_format = RT_AUDIO_PCM24K;
    cfg->noise_reduction = RT_NR_OFF;
    cfg->turn_detection = RT_TD_NONE;
    cfg->server_vad.threshold = 0.5;
    cfg->server_vad.prefix_padding_ms = 300;
    cfg->server_vad.silence_duration_ms = 500;
    cfg->server_vad.create_response = true;
    cfg->server_vad.interrupt_response = true;
    cfg->semantic_vad.eagerness = RT_EAGER_AUTO;
    cfg->semantic_vad.create_response = true;
    cfg->semantic_vad.interrupt_response = true;
    cfg->reasoning = RT_EFFORT_DEFAULT;
}

void rt_transcription_cfg_defaults(struct rt_transcription_cfg *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->model = RT_DEFAULT_TRANSCRIBE_MODEL;
    cfg->input_format = RT_AUDIO_PCM24K;
    cfg->noise_reduction = RT_NR_OFF;
}

/* Builder state: the first failure sticks (-ENOMEM or -EINVAL). */
struct jb {
    int err;
};

static cJSON *jb_check(struct jb *b, cJSON *item)
{
    if (!item && !b->err)
        b->err = -ENOMEM;
    return item;
}

static cJSON *jb_obj(struct jb *b, cJSON *parent, const char *key)
{
    cJSON *o = jb_check(b, cJSON_CreateObject());

    if (o && parent && !cJSON_AddItemToObject(parent, key, o)) {
        cJSON_Delete(o);
        o = jb_check(b, NULL);
    }
    return o;
}

static void jb_add(struct jb *b, cJSON *parent, const char *key, cJSON *item)
{
    if (!jb_check(b, item) || !parent)
        goto out_free;
    if (!cJSON_AddItemToObject(parent, key, item)) {
        (void)jb_check(b, NULL);
        goto out_free;
    }
    return;
out_free:
    cJSON_Delete(item);
}

/* A configuration string: must be valid UTF-8 (-EINVAL otherwise). */
static void jb_str(struct jb *b, cJSON *parent, const char *key, const char *val)
{
    if (!val)
        return;
    if (!utf8_valid(val)) {
        if (!b->err)
            b->err = -EINVAL;
        return;
    }
    jb_add(b, parent, key, cJSON_CreateString(val));
}

/* Integers go in as raw text so they can never print as 5e+06 or 1.0. */
static void jb_uint(struct jb *b, cJSON *parent, const char *key, uint64_t v)
{
    char tmp[24];

    snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    jb_add(b, parent, key, cJSON_CreateRaw(tmp));
}

static void jb_format(struct jb *b, cJSON *parent, enum rt_audio_format f)
{
    cJSON *fmt = jb_obj(b, parent, "format");

    switch (f) {
    case RT_AUDIO_PCM24K:
        jb_str(b, fmt, "type", "audio/pcm");
        jb_uint(b, fmt, "rate", RT_RATE_HZ);
        break;
    case RT_AUDIO_PCMU:
        jb_str(b, fmt, "type", "audio/pcmu");
        break;
    case RT_AUDIO_PCMA:
        jb_str(b, fmt, "type", "audio/pcma");
        break;
    }
}

static void jb_noise_reduction(struct jb *b, cJSON *parent, enum rt_noise_reduction nr)
{
    if (nr == RT_NR_OFF) {
        jb_add(b, parent, "noise_reduction", cJSON_CreateNull());
    } else {
        cJSON *o = jb_obj(b, parent, "noise_reduction");
        jb_str(b, o, "type", nr_names[nr]);
    }
}

static void jb_transcription(struct jb *b, cJSON *parent, const char *model,
                             const char *language, const char *delay)
{
    cJSON *t = jb_obj(b, parent, "transcription");

    jb_str(b, t, "model", model);
    jb_str(b, t, "language", language);
    jb_str(b, t, "delay", delay);
}

static void jb_tools(struct jb *b, cJSON *session, const struct rt_tool *tools, size_t n)
{
    cJSON *arr = jb_check(b, cJSON_CreateArray());

    for (size_t i = 0; arr && i < n && !b->err; i++) {
        cJSON *t = jb_obj(b, NULL, NULL), *params;

        if (!t)
            break;
        if (!cJSON_AddItemToArray(arr, t)) {
            cJSON_Delete(t);
            (void)jb_check(b, NULL);
            break;
        }
        if (!tools[i].name || !tools[i].name[0]) {
            b->err = -EINVAL;
            break;
        }
        jb_str(b, t, "type", "function");
        jb_str(b, t, "name", tools[i].name);
        jb_str(b, t, "description", tools[i].description);
        if (tools[i].parameters_json) {
            params = cJSON_Parse(tools[i].parameters_json);
            if (!params || !cJSON_IsObject(params)) {
                cJSON_Delete(params);
                if (!b->err)
                    b->err = -EINVAL;
                break;
            }
        } else {
            params = cJSON_CreateObject();
            if (params) {
                jb_str(b, params, "type", "object");
                jb_add(b, params, "properties", cJSON_CreateObject());
            }
        }
        jb_add(b, t, "parameters", params);
    }
    jb_add(b, session, "tools", arr);
}

static void jb_tool_choice(struct jb *b, cJSON *session, const char *choice)
{
    cJSON *o;

    if (!choice)
        return;
    if (!strcmp(choice, "auto") || !strcmp(choice, "none") || !strcmp(choice, "required")) {
        jb_str(b, session, "tool_choice", choice);
        return;
    }
    if (!choice[0]) {
        if (!b->err)
            b->err = -EINVAL;
        return;
    }
    o = jb_obj(b, session, "tool_choice");
    jb_str(b, o, "type", "function");
    jb_str(b, o, "name", choice);
}

/* Common head: {"type":"session.update"[,"event_id"],"session":{}}. */
static cJSON *jb_session_update(struct jb *b, const char *event_id, cJSON **session)
{
    cJSON *root = jb_obj(b, NULL, NULL);

    *session = NULL;
    if (!root)
        return NULL;
    jb_str(b, root, "type", "session.update");
    jb_str(b, root, "event_id", event_id);
    *session = jb_obj(b, root, "session");
    return root;
}

/* Print root into buf (exact -ENOSPC semantics), free root. */
static int jb_finish(struct jb *b, cJSON *root, char *buf, size_t cap)
{
    char *text = NULL;
    size_t n;
    int r = b->err;

    if (!r && !root)
        r = -ENOMEM;
    if (!r) {
        text = cJSON_PrintUnformatted(root);
        if (!text)
            r = -ENOMEM;
    }
    if (!r) {
        n = strlen(text);
        if (n > INT_MAX)
            r = -E2BIG;
        else if (!buf || n >= cap)
            r = -ENOSPC;
        else {
            memcpy(buf, text, n + 1);
            r = (int)n;
        }
    }
    cJSON_free(text);
    cJSON_Delete(root);
    return r;
}

static bool format_ok(enum rt_audio_format f)
{
    return f == RT_AUDIO_PCM24K || f == RT_AUDIO_PCMU || f == RT_AUDIO_PCMA;
}

static bool nr_ok(enum rt_noise_reduction nr)
{
    return nr == RT_NR_OFF || nr == RT_NR_NEAR_FIELD || nr == RT_NR_FAR_FIELD;
}

int rt_build_session_update(char *buf, size_t cap, const struct rt_conversation_cfg *cfg,
                            const char *event_id)
{
    struct jb b = { 0 };
    cJSON *root, *session, *audio, *in, *out, *td, *mods, *o;
    const char *model;

    if (!cfg || !event_id_ok(event_id) || !format_ok(cfg->input_format) ||
        !nr_ok(cfg->noise_reduction) || (unsigned)cfg->reasoning > RT_EFFORT_XHIGH ||
        (cfg->n_tools && !cfg->tools))
        return -EINVAL;
    if (cfg->speed != 0 && !(cfg->speed >= 0.25 && cfg->speed <= 1.5))
        return -EINVAL;
    model = cfg->model ? cfg->model : RT_DEFAULT_MODEL;
    if (!model[0])
        return -EINVAL;
    switch (cfg->turn_detection) {
    case RT_TD_NONE:
        break;
    case RT_TD_SERVER_VAD:
        if (!(cfg->server_vad.threshold >= 0.0 && cfg->server_vad.threshold <= 1.0))
            return -EINVAL;
        break;
    case RT_TD_SEMANTIC_VAD:
        if ((unsigned)cfg->semantic_vad.eagerness > RT_EAGER_HIGH)
            return -EINVAL;
        break;
    default:
        return -EINVAL;
    }

    root = jb_session_update(&b, event_id, &session);
    jb_str(&b, session, "type", "realtime");
    jb_str(&b, session, "model", model);
    jb_str(&b, session, "instructions", cfg->instructions);
    mods = jb_check(&b, cJSON_CreateArray());
    if (mods && !cJSON_AddItemToArray(mods, jb_check(&b, cJSON_CreateString("audio"))))
        (void)jb_check(&b, NULL);
    jb_add(&b, session, "output_modalities", mods);

    audio = jb_obj(&b, session, "audio");
    in = jb_obj(&b, audio, "input");
    jb_format(&b, in, cfg->input_format);
    jb_noise_reduction(&b, in, cfg->noise_reduction);
    if (cfg->transcription_model)
        jb_transcription(&b, in, cfg->transcription_model, cfg->transcription_language, NULL);
    switch (cfg->turn_detection) {
    case RT_TD_NONE:
        jb_add(&b, in, "turn_detection", cJSON_CreateNull());
        break;
    case RT_TD_SERVER_VAD:
        td = jb_obj(&b, in, "turn_detection");
        jb_str(&b, td, "type", "server_vad");
        jb_add(&b, td, "threshold", cJSON_CreateNumber(cfg->server_vad.threshold));
        jb_uint(&b, td, "prefix_padding_ms", cfg->server_vad.prefix_padding_ms);
        jb_uint(&b, td, "silence_duration_ms", cfg->server_vad.silence_duration_ms);
        jb_add(&b, td, "create_response", cJSON_CreateBool(cfg->server_vad.create_response));
        jb_add(&b, td, "interrupt_response",
               cJSON_CreateBool(cfg->server_vad.interrupt_response));
        break;
    case RT_TD_SEMANTIC_VAD:
        td = jb_obj(&b, in, "turn_detection");
        jb_str(&b, td, "type", "semantic_vad");
        jb_str(&b, td, "eagerness", eager_names[cfg->semantic_vad.eagerness]);
        jb_add(&b, td, "create_response", cJSON_CreateBool(cfg->semantic_vad.create_response));
        jb_add(&b, td, "interrupt_response",
               cJSON_CreateBool(cfg->semantic_vad.interrupt_response));
        break;
    }

    out = jb_obj(&b, audio, "output");
    jb_format(&b, out, RT_AUDIO_PCM24K);
    jb_str(&b, out, "voice", cfg->voice);
    if (cfg->speed != 0)
        jb_add(&b, out, "speed", cJSON_CreateNumber(cfg->speed));

    if (cfg->reasoning != RT_EFFORT_DEFAULT) {
        o = jb_obj(&b, session, "reasoning");
        jb_str(&b, o, "effort", effort_names[cfg->reasoning]);
    }
    if (cfg->tools)
        jb_tools(&b, session, cfg->tools, cfg->n_tools);
    jb_tool_choice(&b, session, cfg->tool_choice);
    return jb_finish(&b, root, buf, cap);
}

int rt_build_transcription_session_update(char *buf, size_t cap,
                                          const struct rt_transcription_cfg *cfg,
                                          const char *event_id)
{
    struct jb b = { 0 };
    cJSON *root, *session, *audio, *in, *inc;

    if (!cfg || !event_id_ok(event_id) || !format_ok(cfg->input_format) ||
        !nr_ok(cfg->noise_reduction))
        return -EINVAL;
    root = jb_session_update(&b, event_id, &session);
    jb_str(&b, session, "type", "transcription");
    audio = jb_obj(&b, session, "audio");
    in = jb_obj(&b, audio, "input");
    jb_format(&b, in, cfg->input_format);
    jb_transcription(&b, in, cfg->model ? cfg->model : RT_DEFAULT_TRANSCRIBE_MODEL,
                     cfg->language, cfg->delay);
    jb_add(&b, in, "turn_detection", cJSON_CreateNull());
    jb_noise_reduction(&b, in, cfg->noise_reduction);
    if (cfg->include_logprobs) {
        inc = jb_check(&b, cJSON_CreateArray());
        if (inc && !cJSON_AddItemToArray(inc, jb_check(&b, cJSON_CreateString(
                                                  "item.input_audio_transcription.logprobs"))))
            (void)jb_check(&b, NULL);
        jb_add(&b, session, "include", inc);
    }
    return jb_finish(&b, root, buf, cap);
}

int rt_build_translation_session_update(char *buf, size_t cap,
                                        const struct rt_translation_cfg *cfg,
                                        const char *event_id)
{
    struct jb b = { 0 };
    cJSON *root, *session, *audio, *out, *in;

    if (!cfg || !cfg->output_language || !cfg->output_language[0] || !event_id_ok(event_id))
        return -EINVAL;
    root = jb_session_update(&b, event_id, &session);
    /* The type cannot change; GA session.update names it in every session. */
    jb_str(&b, session, "type", "translation");
    audio = jb_obj(&b, session, "audio");
    out = jb_obj(&b, audio, "output");
    jb_str(&b, out, "language", cfg->output_language);
    if (cfg->input_transcription_model) {
        in = jb_obj(&b, audio, "input");
        jb_transcription(&b, in, cfg->input_transcription_model, NULL, NULL);
    }
    return jb_finish(&b, root, buf, cap);
}

/* ---- parser --------------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum rt_ev_type type;
} ev_names[] = {
    { "error", RT_EV_ERROR },
    { "session.created", RT_EV_SESSION_CREATED },
    { "session.updated", RT_EV_SESSION_UPDATED },
    { "input_audio_buffer.speech_started", RT_EV_INPUT_SPEECH_STARTED },
    { "input_audio_buffer.speech_stopped", RT_EV_INPUT_SPEECH_STOPPED },
    { "input_audio_buffer.committed", RT_EV_INPUT_COMMITTED },
    { "input_audio_buffer.cleared", RT_EV_INPUT_CLEARED },
    { "input_audio_buffer.timeout_triggered", RT_EV_INPUT_TIMEOUT_TRIGGERED },
    { "input_audio_buffer.dtmf_event_received", RT_EV_INPUT_DTMF },
    { "conversation.item.added", RT_EV_ITEM_ADDED },
    { "conversation.item.done", RT_EV_ITEM_DONE },
    { "conversation.item.created", RT_EV_ITEM_CREATED },
    { "conversation.item.truncated", RT_EV_ITEM_TRUNCATED },
    { "conversation.item.deleted", RT_EV_ITEM_DELETED },
    { "conversation.item.retrieved", RT_EV_ITEM_RETRIEVED },
    { "conversation.item.input_audio_transcription.delta", RT_EV_INPUT_TRANSCRIPTION_DELTA },
    { "conversation.item.input_audio_transcription.completed",
      RT_EV_INPUT_TRANSCRIPTION_COMPLETED },
    { "conversation.item.input_audio_transcription.failed", RT_EV_INPUT_TRANSCRIPTION_FAILED },
    { "response.created", RT_EV_RESPONSE_CREATED },
    { "response.done", RT_EV_RESPONSE_DONE },
    { "response.output_item.added", RT_EV_OUTPUT_ITEM_ADDED },
    { "response.output_item.done", RT_EV_OUTPUT_ITEM_DONE },
    { "response.content_part.added", RT_EV_CONTENT_PART_ADDED },
    { "response.content_part.done", RT_EV_CONTENT_PART_DONE },
    { "response.output_audio.delta", RT_EV_AUDIO_DELTA },
    { "response.output_audio.done", RT_EV_AUDIO_DONE },
    { "response.output_audio_transcript.delta", RT_EV_AUDIO_TRANSCRIPT_DELTA },
    { "response.output_audio_transcript.done", RT_EV_AUDIO_TRANSCRIPT_DONE },
    { "response.output_text.delta", RT_EV_TEXT_DELTA },
    { "response.output_text.done", RT_EV_TEXT_DONE },
    { "response.function_call_arguments.delta", RT_EV_FUNCTION_ARGS_DELTA },
    { "response.function_call_arguments.done", RT_EV_FUNCTION_ARGS_DONE },
    { "output_audio_buffer.started", RT_EV_OUTPUT_AUDIO_BUFFER_STARTED },
    { "output_audio_buffer.stopped", RT_EV_OUTPUT_AUDIO_BUFFER_STOPPED },
    { "output_audio_buffer.cleared", RT_EV_OUTPUT_AUDIO_BUFFER_CLEARED },
    { "rate_limits.updated", RT_EV_RATE_LIMITS_UPDATED },
    { "session.input_transcript.delta", RT_EV_TR_INPUT_TRANSCRIPT_DELTA },
    { "session.output_transcript.delta", RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA },
    { "session.output_audio.delta", RT_EV_TR_OUTPUT_AUDIO_DELTA },
    { "session.closed", RT_EV_TR_SESSION_CLOSED },
};

const char *rt_ev_type_name(enum rt_ev_type t)
{
    for (size_t i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++)
        if (ev_names[i].type == t)
            return ev_names[i].name;
    return t == RT_EV_UNKNOWN ? "unknown" : "?";
}

const char *rt_response_status_name(enum rt_response_status s)
{
    static const char *const names[] = { "none", "in_progress", "completed", "cancelled",
                                         "incomplete", "failed", "other" };

    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

enum str_kind { S_ID, S_LABEL, S_MESSAGE, S_TEXT };

struct pctx {
    char *scratch;
    size_t cap, used;
};

static int sc_copy(struct pctx *p, const char *s, size_t n, const char **out)
{
    char *d;

    if (n >= p->cap - p->used)
        return -E2BIG;
    d = p->scratch + p->used;
    memcpy(d, s, n);
    d[n] = '\0';
    p->used += n + 1;
    *out = d;
    return 0;
}

/* The member key of obj, which must be an object (checked by callers). */
static const cJSON *member(const cJSON *obj, const char *key)
{
    return obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

static bool absent(const cJSON *v)
{
    return !v || cJSON_IsNull(v);
}

static int get_str(struct pctx *p, const cJSON *obj, const char *key, enum str_kind kind,
                   bool required, const char **out)
{
    const cJSON *v = member(obj, key);
    size_t n;

    *out = NULL;
    if (absent(v))
        return required ? -EINVAL : 0;
    if (!cJSON_IsString(v) || !v->valuestring)
        return -EINVAL;
    n = strlen(v->valuestring);
    switch (kind) {
    case S_ID:
        if (n == 0)
            return required ? -EINVAL : 0;
        if (n > RT_ID_MAX)
            return -EINVAL;
        break;
    case S_LABEL:
        n = utf8_cut(v->valuestring, n, RT_LABEL_MAX);
        break;
    case S_MESSAGE:
        n = utf8_cut(v->valuestring, n, RT_MESSAGE_MAX);
        break;
    case S_TEXT:
        break;
    }
    return sc_copy(p, v->valuestring, n, out);
}

static int get_text(struct pctx *p, const cJSON *obj, const char *key, bool required,
                    struct rt_event *ev)
{
    int r = get_str(p, obj, key, S_TEXT, required, &ev->text);

    ev->text_len = ev->text ? strlen(ev->text) : 0;
    return r;
}

/* Integral JSON number within +-2^53; absent/null leaves *out (-1). */
static int get_int(const cJSON *obj, const char *key, bool required, int64_t *out)
{
    const cJSON *v = member(obj, key);
    double d;

    if (absent(v))
        return required ? -EINVAL : 0;
    if (!cJSON_IsNumber(v))
        return -EINVAL;
    d = v->valuedouble;
    if (!isfinite(d) || d != floor(d) || fabs(d) > 9007199254740992.0)
        return -EINVAL;
    *out = (int64_t)d;
    return 0;
}

static int get_num(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = member(obj, key);

    if (absent(v))
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble))
        return -EINVAL;
    *out = v->valuedouble;
    return 0;
}

/* An object member; absent/null gives NULL (or -EINVAL when required). */
static int get_obj(const cJSON *obj, const char *key, bool required, const cJSON **out)
{
    const cJSON *v = member(obj, key);

    *out = NULL;
    if (absent(v))
        return required ? -EINVAL : 0;
    if (!cJSON_IsObject(v))
        return -EINVAL;
    *out = v;
    return 0;
}

/* base64 PCM16 in obj.key -> int16 samples at the next aligned scratch spot. */
static int get_audio(struct pctx *p, const cJSON *obj, const char *key, struct rt_event *ev)
{
    const cJSON *v = member(obj, key);
    size_t n, pad;
    int r;

    if (!cJSON_IsString(v) || !v->valuestring)
        return -EINVAL;
    n = strlen(v->valuestring);
    pad = (uintptr_t)(p->scratch + p->used) % _Alignof(int16_t);
    if (p->cap - p->used < pad)
        return -E2BIG;
    p->used += pad;
    r = b64_decode(p->scratch + p->used, p->cap - p->used, v->valuestring, n);
    if (r == -ENOSPC)
        return -E2BIG;
    if (r < 0)
        return -EINVAL;
    if (r % 2)
        return -EINVAL;
    ev->pcm = (const int16_t *)(void *)(p->scratch + p->used);
    ev->samples = (size_t)r / 2;
    p->used += (size_t)r;
    return 0;
}

static enum rt_response_status status_of(const char *s)
{
    if (!s)
        return RT_RESP_NONE;
    if (!strcmp(s, "in_progress"))
        return RT_RESP_IN_PROGRESS;
    if (!strcmp(s, "completed"))
        return RT_RESP_COMPLETED;
    if (!strcmp(s, "cancelled"))
        return RT_RESP_CANCELLED;
    if (!strcmp(s, "incomplete"))
        return RT_RESP_INCOMPLETE;
    if (!strcmp(s, "failed"))
        return RT_RESP_FAILED;
    return RT_RESP_OTHER;
}

/* Shorthand: run a getter, bail out on failure. */
#define TRY(x)             \
    do {                   \
        int r_ = (x);      \
        if (r_ < 0)        \
            return r_;     \
    } while (0)

static int parse_error_obj(struct pctx *p, const cJSON *e, struct rt_event *ev, bool full)
{
    TRY(get_str(p, e, "type", S_LABEL, false, &ev->error.type));
    TRY(get_str(p, e, "code", S_LABEL, false, &ev->error.code));
    if (!full)
        return 0;
    TRY(get_str(p, e, "message", S_MESSAGE, false, &ev->error.message));
    TRY(get_str(p, e, "param", S_LABEL, false, &ev->error.param));
    TRY(get_str(p, e, "event_id", S_LABEL, false, &ev->error.event_id));
    return 0;
}

/* A conversation item: {id,type,role,status,call_id,name[,arguments]}. */
static int parse_item(struct pctx *p, const cJSON *root, struct rt_event *ev, bool arguments)
{
    const cJSON *item;

    TRY(get_obj(root, "item", true, &item));
    TRY(get_str(p, item, "id", S_ID, false, &ev->item_id));
    TRY(get_str(p, item, "type", S_LABEL, false, &ev->item_type));
    TRY(get_str(p, item, "role", S_LABEL, false, &ev->item_role));
    TRY(get_str(p, item, "status", S_LABEL, false, &ev->item_status));
    TRY(get_str(p, item, "call_id", S_ID, false, &ev->call_id));
    TRY(get_str(p, item, "name", S_ID, false, &ev->name));
    if (arguments && ev->item_type && !strcmp(ev->item_type, "function_call"))
        TRY(get_text(p, item, "arguments", false, ev));
    return 0;
}

static int parse_response(struct pctx *p, const cJSON *root, struct rt_event *ev)
{
    const cJSON *resp, *details, *err, *usage;

    TRY(get_obj(root, "response", true, &resp));
    TRY(get_str(p, resp, "id", S_ID, true, &ev->response_id));
    TRY(get_str(p, resp, "status", S_LABEL, false, &ev->status_str));
    ev->status = status_of(ev->status_str);
    TRY(get_obj(resp, "status_details", false, &details));
    TRY(get_str(p, details, "reason", S_LABEL, false, &ev->status_reason));
    TRY(get_obj(details, "error", false, &err));
    TRY(parse_error_obj(p, err, ev, false));
    TRY(get_obj(resp, "usage", false, &usage));
    TRY(get_int(usage, "total_tokens", false, &ev->usage.total_tokens));
    TRY(get_int(usage, "input_tokens", false, &ev->usage.input_tokens));
    TRY(get_int(usage, "output_tokens", false, &ev->usage.output_tokens));
    return 0;
}

/* response_id, item_id, output_index, content_index of response.* deltas. */
static int parse_resp_ids(struct pctx *p, const cJSON *root, struct rt_event *ev,
                          bool ids_required)
{
    TRY(get_str(p, root, "response_id", S_ID, ids_required, &ev->response_id));
    TRY(get_str(p, root, "item_id", S_ID, ids_required, &ev->item_id));
    TRY(get_int(root, "output_index", false, &ev->output_index));
    TRY(get_int(root, "content_index", false, &ev->content_index));
    return 0;
}

static int parse_rate_limits(struct pctx *p, const cJSON *root, struct rt_event *ev)
{
    const cJSON *arr = member(root, "rate_limits"), *e;

    if (!cJSON_IsArray(arr))
        return -EINVAL;
    cJSON_ArrayForEach(e, arr) {
        struct rt_rate_limit *rl;

        if (ev->n_rate_limits == RT_MAX_RATE_LIMITS)
            break;
        if (!cJSON_IsObject(e))
            return -EINVAL;
        rl = &ev->rate_limits[ev->n_rate_limits];
        rl->limit = rl->remaining = -1;
        rl->reset_seconds = -1;
        TRY(get_str(p, e, "name", S_LABEL, false, &rl->name));
        TRY(get_int(e, "limit", false, &rl->limit));
        TRY(get_int(e, "remaining", false, &rl->remaining));
        TRY(get_num(e, "reset_seconds", &rl->reset_seconds));
        ev->n_rate_limits++;
    }
    return 0;
}

static int parse_session(struct pctx *p, const cJSON *root, struct rt_event *ev)
{
    const cJSON *s;

    TRY(get_obj(root, "session", true, &s));
    TRY(get_str(p, s, "id", S_ID, false, &ev->session_id));
    TRY(get_str(p, s, "type", S_LABEL, false, &ev->session_type));
    TRY(get_str(p, s, "model", S_LABEL, false, &ev->model));
    TRY(get_int(s, "expires_at", false, &ev->expires_at));
    return 0;
}

static int parse_translation_audio(struct pctx *p, const cJSON *root, struct rt_event *ev)
{
    int64_t rate = RT_RATE_HZ, channels = 1;
    const char *format = NULL;
    const cJSON *f = member(root, "format");

    TRY(get_int(root, "sample_rate", false, &rate));
    TRY(get_int(root, "channels", false, &channels));
    if (!absent(f) && (!cJSON_IsString(f) || !f->valuestring))
        return -EINVAL;
    format = absent(f) ? "pcm16" : f->valuestring;
    if (rate != RT_RATE_HZ || channels != 1 || strcmp(format, "pcm16") != 0)
        return -EINVAL;
    TRY(get_int(root, "elapsed_ms", false, &ev->elapsed_ms));
    return get_audio(p, root, "delta", ev);
}

static int parse_body(struct pctx *p, const cJSON *root, struct rt_event *ev)
{
    const cJSON *o;

    switch (ev->type) {
    case RT_EV_NONE:
    case RT_EV_UNKNOWN:
    case RT_EV__COUNT:
        return 0;
    case RT_EV_ERROR:
        TRY(get_obj(root, "error", true, &o));
        return parse_error_obj(p, o, ev, true);
    case RT_EV_SESSION_CREATED:
    case RT_EV_SESSION_UPDATED:
        return parse_session(p, root, ev);
    case RT_EV_INPUT_SPEECH_STARTED:
        TRY(get_int(root, "audio_start_ms", true, &ev->audio_start_ms));
        return get_str(p, root, "item_id", S_ID, false, &ev->item_id);
    case RT_EV_INPUT_SPEECH_STOPPED:
        TRY(get_int(root, "audio_end_ms", true, &ev->audio_end_ms));
        return get_str(p, root, "item_id", S_ID, false, &ev->item_id);
    case RT_EV_INPUT_COMMITTED:
        TRY(get_str(p, root, "item_id", S_ID, false, &ev->item_id));
        return get_str(p, root, "previous_item_id", S_ID, false, &ev->previous_item_id);
    case RT_EV_INPUT_CLEARED:
    case RT_EV_TR_SESSION_CLOSED:
        return 0;
    case RT_EV_INPUT_TIMEOUT_TRIGGERED:
        TRY(get_int(root, "audio_start_ms", false, &ev->audio_start_ms));
        TRY(get_int(root, "audio_end_ms", false, &ev->audio_end_ms));
        return get_str(p, root, "item_id", S_ID, false, &ev->item_id);
    case RT_EV_INPUT_DTMF:
        TRY(get_str(p, root, "event", S_LABEL, false, &ev->text));
        ev->text_len = ev->text ? strlen(ev->text) : 0;
        return 0;
    case RT_EV_ITEM_ADDED:
    case RT_EV_ITEM_DONE:
    case RT_EV_ITEM_CREATED:
    case RT_EV_ITEM_RETRIEVED:
        TRY(get_str(p, root, "previous_item_id", S_ID, false, &ev->previous_item_id));
        return parse_item(p, root, ev, false);
    case RT_EV_ITEM_TRUNCATED:
        TRY(get_str(p, root, "item_id", S_ID, true, &ev->item_id));
        TRY(get_int(root, "content_index", false, &ev->content_index));
        return get_int(root, "audio_end_ms", false, &ev->audio_end_ms);
    case RT_EV_ITEM_DELETED:
        return get_str(p, root, "item_id", S_ID, true, &ev->item_id);
    case RT_EV_INPUT_TRANSCRIPTION_DELTA:
    case RT_EV_INPUT_TRANSCRIPTION_COMPLETED:
    case RT_EV_INPUT_TRANSCRIPTION_FAILED:
        TRY(get_str(p, root, "item_id", S_ID, false, &ev->item_id));
        TRY(get_int(root, "content_index", false, &ev->content_index));
        if (ev->type == RT_EV_INPUT_TRANSCRIPTION_FAILED) {
            TRY(get_obj(root, "error", false, &o));
            return parse_error_obj(p, o, ev, true);
        }
        return get_text(p, root, ev->type == RT_EV_INPUT_TRANSCRIPTION_DELTA ? "delta"
                                                                             : "transcript",
                        true, ev);
    case RT_EV_RESPONSE_CREATED:
    case RT_EV_RESPONSE_DONE:
        return parse_response(p, root, ev);
    case RT_EV_OUTPUT_ITEM_ADDED:
    case RT_EV_OUTPUT_ITEM_DONE:
        TRY(get_str(p, root, "response_id", S_ID, false, &ev->response_id));
        TRY(get_int(root, "output_index", false, &ev->output_index));
        return parse_item(p, root, ev, true);
    case RT_EV_CONTENT_PART_ADDED:
    case RT_EV_CONTENT_PART_DONE:
        TRY(parse_resp_ids(p, root, ev, false));
        TRY(get_obj(root, "part", false, &o));
        return get_str(p, o, "type", S_LABEL, false, &ev->part_type);
    case RT_EV_AUDIO_DELTA:
        TRY(parse_resp_ids(p, root, ev, true));
        return get_audio(p, root, "delta", ev);
    case RT_EV_AUDIO_DONE:
        return parse_resp_ids(p, root, ev, false);
    case RT_EV_AUDIO_TRANSCRIPT_DELTA:
    case RT_EV_TEXT_DELTA:
        TRY(parse_resp_ids(p, root, ev, false));
        return get_text(p, root, "delta", true, ev);
    case RT_EV_AUDIO_TRANSCRIPT_DONE:
        TRY(parse_resp_ids(p, root, ev, false));
        return get_text(p, root, "transcript", false, ev);
    case RT_EV_TEXT_DONE:
        TRY(parse_resp_ids(p, root, ev, false));
        return get_text(p, root, "text", false, ev);
    case RT_EV_FUNCTION_ARGS_DELTA:
        TRY(parse_resp_ids(p, root, ev, false));
        TRY(get_str(p, root, "call_id", S_ID, false, &ev->call_id));
        return get_text(p, root, "delta", true, ev);
    case RT_EV_FUNCTION_ARGS_DONE:
        TRY(parse_resp_ids(p, root, ev, false));
        TRY(get_str(p, root, "call_id", S_ID, true, &ev->call_id));
        TRY(get_str(p, root, "name", S_ID, false, &ev->name));
        return get_text(p, root, "arguments", true, ev);
    case RT_EV_OUTPUT_AUDIO_BUFFER_STARTED:
    case RT_EV_OUTPUT_AUDIO_BUFFER_STOPPED:
    case RT_EV_OUTPUT_AUDIO_BUFFER_CLEARED:
        return get_str(p, root, "response_id", S_ID, false, &ev->response_id);
    case RT_EV_RATE_LIMITS_UPDATED:
        return parse_rate_limits(p, root, ev);
    case RT_EV_TR_INPUT_TRANSCRIPT_DELTA:
    case RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA:
        return get_text(p, root, "delta", true, ev);
    case RT_EV_TR_OUTPUT_AUDIO_DELTA:
        return parse_translation_audio(p, root, ev);
    }
    return 0;
}

static void ev_reset(struct rt_event *ev)
{
    memset(ev, 0, sizeof(*ev));
    ev->type = RT_EV_NONE;
    ev->output_index = ev->content_index = -1;
    ev->usage.total_tokens = ev->usage.input_tokens = ev->usage.output_tokens = -1;
    ev->expires_at = -1;
    ev->audio_start_ms = ev->audio_end_ms = -1;
    ev->elapsed_ms = -1;
}

static bool only_space(const char *s, const char *end)
{
    for (; s < end; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int rt_parse_server_event(const char *json, size_t len, struct rt_event *ev, char *scratch,
                          size_t scratch_len)
{
    static char no_scratch[1];   /* never written: cap is 0 then */
    struct pctx p = { .scratch = scratch ? scratch : no_scratch,
                      .cap = scratch ? scratch_len : 0, .used = 0 };
    const char *end = NULL;
    const cJSON *t;
    cJSON *root;
    int r;

    if (!ev)
        return -EINVAL;
    ev_reset(ev);
    if (!json || len == 0)
        return -EINVAL;
    root = cJSON_ParseWithLengthOpts(json, len, &end, 0);
    if (!root)
        return -EINVAL;
    if (!end || end < json || end > json + len || !only_space(end, json + len) ||
        !cJSON_IsObject(root)) {
        r = -EINVAL;
        goto out_free;
    }
    t = member(root, "type");
    if (!cJSON_IsString(t) || !t->valuestring || !t->valuestring[0]) {
        r = -EINVAL;
        goto out_free;
    }
    ev->type = RT_EV_UNKNOWN;
    for (size_t i = 0; i < sizeof(ev_names) / sizeof(ev_names[0]); i++) {
        if (!strcmp(t->valuestring, ev_names[i].name)) {
            ev->type = ev_names[i].type;
            break;
        }
    }
    r = get_str(&p, root, "type", S_LABEL, true, &ev->type_str);
    if (r == 0)
        r = get_str(&p, root, "event_id", S_ID, false, &ev->event_id);
    if (r == 0)
        r = parse_body(&p, root, ev);

out_free:
    cJSON_Delete(root);
    return r;
}
