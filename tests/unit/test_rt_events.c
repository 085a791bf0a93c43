/*
 * test_rt_events.c - Realtime API events: every client event we build is
 * parsed back with cJSON and checked field by field (name, JSON type,
 * value) against the GA protocol notes; every server event a device
 * handles is parsed from a literal sample shaped as documented; hostile
 * input (malformed, truncated at every byte, wrong types, huge strings,
 * bad base64, tiny scratch) must fail cleanly. Also base64 vectors.
 * Run it under ASan/UBSan: overreads of unterminated input are the point.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "b64.h"
#include "rt_events.h"

#define BIG (64 * 1024)

static char buf[BIG];
static char scratch[BIG];

/* ---- helpers ------------------------------------------------------------------- */

static cJSON *parse_out(const char *text, int n)
{
    cJSON *root;

    assert_true(n > 0);
    assert_int_equal(strlen(text), (size_t)n);
    root = cJSON_Parse(text);
    if (!root)
        fail_msg("builder output is not JSON: %s", text);
    assert_true(cJSON_IsObject(root));
    return root;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        fail_msg("missing key '%s'", key);
    return v;
}

static const cJSON *get_o(const cJSON *obj, const char *key)
{
    const cJSON *v = get(obj, key);

    assert_true(cJSON_IsObject(v));
    return v;
}

static void expect_str(const cJSON *obj, const char *key, const char *want)
{
    const cJSON *v = get(obj, key);

    if (!cJSON_IsString(v))
        fail_msg("'%s' is not a string", key);
    assert_string_equal(v->valuestring, want);
}

static void expect_num(const cJSON *obj, const char *key, double want)
{
    const cJSON *v = get(obj, key);

    if (!cJSON_IsNumber(v))
        fail_msg("'%s' is not a number", key);
    assert_float_equal(v->valuedouble, want, 1e-12);
}

static void expect_bool(const cJSON *obj, const char *key, bool want)
{
    const cJSON *v = get(obj, key);

    if (!cJSON_IsBool(v))
        fail_msg("'%s' is not a bool", key);
    assert_int_equal(cJSON_IsTrue(v), want);
}

static void expect_null(const cJSON *obj, const char *key)
{
    if (!cJSON_IsNull(get(obj, key)))
        fail_msg("'%s' is not null", key);
}

static void expect_absent(const cJSON *obj, const char *key)
{
    if (cJSON_GetObjectItemCaseSensitive(obj, key))
        fail_msg("'%s' should be absent", key);
}

static void expect_nkeys(const cJSON *obj, int n)
{
    assert_int_equal(cJSON_GetArraySize(obj), n);
}

/* An integer field: a JSON number AND written as plain digits in the text
 * (no '.', no exponent) - the service rejects 1234.0 for audio_end_ms. */
static void expect_int_text(const char *text, const char *key, uint64_t want)
{
    char pat[80], num[32];
    const char *p;
    size_t n;

    snprintf(pat, sizeof(pat), "\"%s\":", key);
    p = strstr(text, pat);
    if (!p)
        fail_msg("no %s in %s", pat, text);
    p += strlen(pat);
    n = strspn(p, "0123456789");
    snprintf(num, sizeof(num), "%llu", (unsigned long long)want);
    if (n != strlen(num) || strncmp(p, num, n) != 0 || (p[n] != ',' && p[n] != '}'))
        fail_msg("%s is not the integer %s in %s", key, num, text);
}

/* ---- base64 --------------------------------------------------------------------- */

static void test_b64_vectors(void **state)
{
    static const struct { const char *in, *out; } v[] = {
        { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
        { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
    };
    char enc[32];
    unsigned char dec[32];
    (void)state;

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        size_t n = strlen(v[i].in);
        assert_int_equal(b64_encoded_len(n), strlen(v[i].out));
        assert_int_equal(b64_encode(enc, sizeof(enc), v[i].in, n), (int)strlen(v[i].out));
        assert_string_equal(enc, v[i].out);
        assert_true(b64_decoded_max(strlen(v[i].out)) >= n);
        assert_int_equal(b64_decode(dec, sizeof(dec), v[i].out, strlen(v[i].out)), (int)n);
        assert_memory_equal(dec, v[i].in, n);
    }
    /* exact capacities: encode needs len + 1 for the NUL, decode exactly n */
    assert_int_equal(b64_encode(enc, 8, "foobar", 6), -ENOSPC);
    assert_int_equal(b64_encode(enc, 9, "foobar", 6), 8);
    assert_int_equal(b64_encode(enc, 0, "", 0), -ENOSPC);
    assert_int_equal(b64_decode(dec, 5, "Zm9vYmFy", 8), -ENOSPC);
    assert_int_equal(b64_decode(dec, 6, "Zm9vYmFy", 8), 6);
    assert_int_equal(b64_decode(dec, 1, "Zg==", 4), 1);
    assert_int_equal(b64_encoded_len(SIZE_MAX), SIZE_MAX);
    assert_int_equal(b64_decoded_max(5), 6);
}

static void test_b64_invalid(void **state)
{
    static const char *bad[] = {
        "Zg=", "Zg", "Z", "Zm9", "Zm9v Zm9v", "Zm9v\nZm9v", "Zm=v", "=Zm9", "Z===", "====",
        "Zm9v-_9v", "Zm9v\x80xyz", "Zg==Zg==", "Zm9vYmFy=", "\0\0\0\0",
    };
    unsigned char dec[64];
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = i == sizeof(bad) / sizeof(bad[0]) - 1 ? 4 : strlen(bad[i]);
        if (b64_decode(dec, sizeof(dec), bad[i], n) != -EINVAL)
            fail_msg("accepted invalid base64 #%zu '%s'", i, bad[i]);
    }
    assert_int_equal(b64_decode(NULL, 4, "Zg==", 4), -EINVAL);
    assert_int_equal(b64_encode(NULL, 4, "f", 1), -EINVAL);
}

/* ---- audio append ------------------------------------------------------------------ */

static void check_append(const char *type_arg, const char *want_type, const char *event_id,
                         size_t samples)
{
    static int16_t pcm[4800], back[4800];
    const cJSON *root, *audio;
    size_t cap = rt_audio_append_cap(samples * 2, event_id);
    int n;

    for (size_t i = 0; i < samples; i++)
        pcm[i] = (int16_t)(i * 7919u - 16384u);
    if (samples > 3) {
        pcm[0] = INT16_MIN;
        pcm[1] = INT16_MAX;
        pcm[2] = -1;
    }
    assert_true(cap <= sizeof(buf));
    n = rt_build_audio_append(buf, cap, pcm, samples, type_arg, event_id);
    root = parse_out(buf, n);
    expect_str(root, "type", want_type);
    if (event_id) {
        expect_str(root, "event_id", event_id);
        expect_nkeys(root, 3);
    } else {
        expect_absent(root, "event_id");
        expect_nkeys(root, 2);
    }
    audio = get(root, "audio");
    assert_true(cJSON_IsString(audio));
    assert_int_equal(strlen(audio->valuestring), b64_encoded_len(samples * 2));
    assert_int_equal(b64_decode(back, sizeof(back), audio->valuestring,
                                strlen(audio->valuestring)),
                     (int)(samples * 2));
    assert_memory_equal(back, pcm, samples * 2);
    cJSON_Delete((cJSON *)root);

    /* one byte less than the needed length + NUL is -ENOSPC, never a partial write */
    assert_int_equal(rt_build_audio_append(buf, (size_t)n, pcm, samples, type_arg, event_id),
                     -ENOSPC);
    assert_int_equal(rt_build_audio_append(buf, (size_t)n + 1, pcm, samples, type_arg, event_id),
                     n);
}

static void test_audio_append(void **state)
{
    (void)state;
    check_append(NULL, "input_audio_buffer.append", NULL, 480);
    check_append("input_audio_buffer.append", "input_audio_buffer.append", "ev_1", 481);
    check_append("session.input_audio_buffer.append", "session.input_audio_buffer.append",
                 "tr\"quote\\", 4800);
    check_append(NULL, "input_audio_buffer.append", NULL, 0);
    check_append(NULL, "input_audio_buffer.append", "x", 1);
    check_append(NULL, "input_audio_buffer.append", NULL, 2);
}

static void test_audio_append_errors(void **state)
{
    int16_t pcm[16] = { 0 };
    char longid[RT_EVENT_ID_MAX + 2];
    size_t need;
    (void)state;

    assert_int_equal(rt_build_audio_append(buf, sizeof(buf), pcm, 16, "response.create", NULL),
                     -EINVAL);
    assert_int_equal(rt_build_audio_append(buf, sizeof(buf), pcm, 16, "", NULL), -EINVAL);
    assert_int_equal(rt_build_audio_append(buf, sizeof(buf), NULL, 16, NULL, NULL), -EINVAL);
    memset(longid, 'a', sizeof(longid) - 1);
    longid[sizeof(longid) - 1] = '\0';
    assert_int_equal(rt_build_audio_append(buf, sizeof(buf), pcm, 16, NULL, longid), -EINVAL);
    longid[RT_EVENT_ID_MAX] = '\0';   /* exactly the limit is fine */
    assert_true(rt_build_audio_append(buf, sizeof(buf), pcm, 16, NULL, longid) > 0);
    /* every capacity below the need fails with -ENOSPC and no overrun (ASan) */
    need = (size_t)rt_build_audio_append(buf, sizeof(buf), pcm, 16, NULL, "id") + 1;
    for (size_t cap = 0; cap < need; cap++) {
        char *b = malloc(cap ? cap : 1);
        assert_non_null(b);
        assert_int_equal(rt_build_audio_append(b, cap, pcm, 16, NULL, "id"), -ENOSPC);
        free(b);
    }
    assert_true(rt_audio_append_cap(32, "id") >= need);
    /* over the 15 MiB event limit */
    assert_int_equal(rt_build_audio_append(buf, sizeof(buf), pcm, 6u * 1024 * 1024, NULL, NULL),
                     -E2BIG);
}

/* ---- the small client events ------------------------------------------------------------ */

static void test_commit_clear_close(void **state)
{
    (void)state;
    assert_int_equal(rt_build_audio_commit(buf, sizeof(buf), NULL), 36);
    assert_string_equal(buf, "{\"type\":\"input_audio_buffer.commit\"}");
    assert_true(rt_build_audio_commit(buf, sizeof(buf), "c1") > 0);
    assert_string_equal(buf, "{\"type\":\"input_audio_buffer.commit\",\"event_id\":\"c1\"}");
    assert_true(rt_build_audio_clear(buf, sizeof(buf), NULL) > 0);
    assert_string_equal(buf, "{\"type\":\"input_audio_buffer.clear\"}");
    assert_true(rt_build_session_close(buf, sizeof(buf), "z") > 0);
    assert_string_equal(buf, "{\"type\":\"session.close\",\"event_id\":\"z\"}");
    assert_int_equal(rt_build_audio_commit(buf, 36, NULL), -ENOSPC);
    assert_int_equal(rt_build_audio_commit(buf, 37, NULL), 36);
    assert_int_equal(rt_build_audio_commit(NULL, 0, NULL), -ENOSPC);
}

static void test_response_create(void **state)
{
    const char *tricky = "Say \"hi\"\\ \n\t\x01 caf\xc3\xa9 \xf0\x9f\x98\x80 end";
    cJSON *root;
    int n;
    (void)state;

    n = rt_build_response_create(buf, sizeof(buf), NULL, NULL);
    root = parse_out(buf, n);
    expect_str(root, "type", "response.create");
    expect_nkeys(root, 1);
    cJSON_Delete(root);

    n = rt_build_response_create(buf, sizeof(buf), tricky, "rc1");
    root = parse_out(buf, n);
    expect_str(root, "type", "response.create");
    expect_str(root, "event_id", "rc1");
    expect_nkeys(root, 3);
    expect_str(get_o(root, "response"), "instructions", tricky);
    expect_nkeys(get_o(root, "response"), 1);
    cJSON_Delete(root);

    /* invalid UTF-8 in free text becomes U+FFFD, the JSON stays valid */
    n = rt_build_response_create(buf, sizeof(buf), "a\xff" "b\xc3", NULL);
    root = parse_out(buf, n);
    expect_str(get_o(root, "response"), "instructions", "a\xef\xbf\xbd" "b\xef\xbf\xbd");
    cJSON_Delete(root);
}

static void test_response_cancel(void **state)
{
    cJSON *root;
    int n;
    (void)state;

    n = rt_build_response_cancel(buf, sizeof(buf), NULL, NULL);
    root = parse_out(buf, n);
    expect_str(root, "type", "response.cancel");
    expect_nkeys(root, 1);
    cJSON_Delete(root);

    n = rt_build_response_cancel(buf, sizeof(buf), "resp_ABC", "e9");
    root = parse_out(buf, n);
    expect_str(root, "type", "response.cancel");
    expect_str(root, "event_id", "e9");
    expect_str(root, "response_id", "resp_ABC");
    expect_nkeys(root, 3);
    cJSON_Delete(root);
    assert_int_equal(rt_build_response_cancel(buf, sizeof(buf), "", NULL), -EINVAL);
}

static void test_item_truncate(void **state)
{
    static const uint32_t ms[] = { 0, 1, 1234, 3600000, UINT32_MAX };
    cJSON *root;
    int n;
    (void)state;

    for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        n = rt_build_item_truncate(buf, sizeof(buf), "item_42", ms[i], i ? "t1" : NULL);
        root = parse_out(buf, n);
        expect_str(root, "type", "conversation.item.truncate");
        expect_str(root, "item_id", "item_42");
        expect_num(root, "content_index", 0);
        expect_num(root, "audio_end_ms", ms[i]);
        expect_int_text(buf, "audio_end_ms", ms[i]);
        expect_int_text(buf, "content_index", 0);
        expect_nkeys(root, i ? 5 : 4);
        cJSON_Delete(root);
    }
    assert_int_equal(rt_build_item_truncate(buf, sizeof(buf), NULL, 5, NULL), -EINVAL);
    assert_int_equal(rt_build_item_truncate(buf, sizeof(buf), "", 5, NULL), -EINVAL);
}

static void test_function_call_output(void **state)
{
    const char *out = "{\"temp_c\":21.5,\"note\":\"line1\\nline2 \\\"q\\\"\"}";
    const cJSON *item;
    cJSON *root;
    int n;
    (void)state;

    n = rt_build_function_call_output(buf, sizeof(buf), "call_7", out, "fo1");
    root = parse_out(buf, n);
    expect_str(root, "type", "conversation.item.create");
    expect_str(root, "event_id", "fo1");
    expect_absent(root, "previous_item_id");
    expect_nkeys(root, 3);
    item = get_o(root, "item");
    expect_str(item, "type", "function_call_output");
    expect_str(item, "call_id", "call_7");
    expect_str(item, "output", out);   /* a string, not an embedded object */
    expect_nkeys(item, 3);
    cJSON_Delete(root);
    assert_int_equal(rt_build_function_call_output(buf, sizeof(buf), NULL, "x", NULL), -EINVAL);
    assert_int_equal(rt_build_function_call_output(buf, sizeof(buf), "c", NULL, NULL), -EINVAL);
    /* every control character escapes */
    {
        char ctl[33];
        for (int i = 0; i < 31; i++)
            ctl[i] = (char)(i + 1);
        ctl[31] = 0x7f;
        ctl[32] = '\0';
        n = rt_build_function_call_output(buf, sizeof(buf), "c", ctl, NULL);
        root = parse_out(buf, n);
        expect_str(get_o(root, "item"), "output", ctl);
        cJSON_Delete(root);
    }
}

/* ---- session.update --------------------------------------------------------------------- */

static void expect_pcm_format(const cJSON *parent)
{
    const cJSON *f = get_o(parent, "format");

    expect_str(f, "type", "audio/pcm");
    expect_num(f, "rate", 24000);
    expect_nkeys(f, 2);
}

static void test_session_update_defaults(void **state)
{
    struct rt_conversation_cfg cfg;
    const cJSON *s, *audio, *in, *out, *mods;
    cJSON *root;
    int n;
    (void)state;

    rt_conversation_cfg_defaults(&cfg);
    n = rt_build_session_update(buf, sizeof(buf), &cfg, NULL);
    root = parse_out(buf, n);
    expect_str(root, "type", "session.update");
    expect_nkeys(root, 2);
    s = get_o(root, "session");
    expect_str(s, "type", "realtime");
    expect_str(s, "model", "gpt-realtime-2");
    mods = get(s, "output_modalities");
    assert_true(cJSON_IsArray(mods));
    assert_int_equal(cJSON_GetArraySize(mods), 1);
    assert_string_equal(cJSON_GetArrayItem(mods, 0)->valuestring, "audio");
    expect_absent(s, "instructions");
    expect_absent(s, "reasoning");
    expect_absent(s, "tools");
    expect_absent(s, "tool_choice");
    audio = get_o(s, "audio");
    in = get_o(audio, "input");
    expect_pcm_format(in);
    expect_int_text(buf, "rate", 24000);
    expect_null(in, "noise_reduction");
    expect_null(in, "turn_detection");   /* local VAD: manual commits */
    expect_absent(in, "transcription");
    expect_nkeys(in, 3);
    out = get_o(audio, "output");
    expect_pcm_format(out);
    expect_absent(out, "voice");
    expect_absent(out, "speed");
    cJSON_Delete(root);
}

static void test_session_update_full(void **state)
{
    static const struct rt_tool tools[] = {
        { "set_volume", "Set the speaker volume",
          "{\"type\":\"object\",\"properties\":{\"level\":{\"type\":\"integer\"}},"
          "\"required\":[\"level\"]}" },
        { "stop", NULL, NULL },
    };
    static const char *efforts[] = { "minimal", "low", "medium", "high", "xhigh" };
    struct rt_conversation_cfg cfg;
    const cJSON *s, *in, *out, *td, *tr, *arr, *t, *p;
    cJSON *root;
    int n;
    (void)state;

    rt_conversation_cfg_defaults(&cfg);
    cfg.instructions = "You are a kitchen \"helper\".\nBe brief.";
    cfg.voice = "marin";
    cfg.speed = 1.25;
    cfg.input_format = RT_AUDIO_PCMU;
    cfg.transcription_model = "gpt-realtime-whisper";
    cfg.transcription_language = "en";
    cfg.noise_reduction = RT_NR_FAR_FIELD;
    cfg.turn_detection = RT_TD_SERVER_VAD;
    cfg.server_vad.threshold = 0.6;
    cfg.server_vad.prefix_padding_ms = 250;
    cfg.server_vad.silence_duration_ms = 700;
    cfg.server_vad.create_response = false;
    cfg.server_vad.interrupt_response = true;
    cfg.reasoning = RT_EFFORT_HIGH;
    cfg.tools = tools;
    cfg.n_tools = 2;
    cfg.tool_choice = "auto";
    n = rt_build_session_update(buf, sizeof(buf), &cfg, "su1");
    root = parse_out(buf, n);
    expect_str(root, "event_id", "su1");
    s = get_o(root, "session");
    expect_str(s, "instructions", cfg.instructions);
    expect_str(get_o(s, "reasoning"), "effort", "high");
    expect_str(s, "tool_choice", "auto");
    in = get_o(get_o(s, "audio"), "input");
    expect_str(get_o(in, "format"), "type", "audio/pcmu");
    expect_nkeys(get_o(in, "format"), 1);   /* G.711: no rate */
    expect_str(get_o(in, "noise_reduction"), "type", "far_field");
    tr = get_o(in, "transcription");
    expect_str(tr, "model", "gpt-realtime-whisper");
    expect_str(tr, "language", "en");
    td = get_o(in, "turn_detection");
    expect_str(td, "type", "server_vad");
    expect_num(td, "threshold", 0.6);
    expect_num(td, "prefix_padding_ms", 250);
    expect_int_text(buf, "prefix_padding_ms", 250);
    expect_num(td, "silence_duration_ms", 700);
    expect_int_text(buf, "silence_duration_ms", 700);
    expect_bool(td, "create_response", false);
    expect_bool(td, "interrupt_response", true);
    expect_nkeys(td, 6);
    out = get_o(get_o(s, "audio"), "output");
    expect_pcm_format(out);   /* output stays PCM 24 kHz */
    expect_str(out, "voice", "marin");
    expect_num(out, "speed", 1.25);
    arr = get(s, "tools");
    assert_true(cJSON_IsArray(arr));
    assert_int_equal(cJSON_GetArraySize(arr), 2);
    t = cJSON_GetArrayItem(arr, 0);
    expect_str(t, "type", "function");
    expect_str(t, "name", "set_volume");
    expect_str(t, "description", "Set the speaker volume");
    p = get_o(t, "parameters");   /* an object, not the schema as a string */
    expect_str(p, "type", "object");
    expect_str(get_o(get_o(p, "properties"), "level"), "type", "integer");
    assert_true(cJSON_IsArray(get(p, "required")));
    t = cJSON_GetArrayItem(arr, 1);
    expect_str(t, "name", "stop");
    expect_absent(t, "description");
    expect_str(get_o(t, "parameters"), "type", "object");
    assert_true(cJSON_IsObject(get(get_o(t, "parameters"), "properties")));
    cJSON_Delete(root);

    /* semantic VAD, near field, named tool choice, every effort, A-law */
    for (int e = RT_EFFORT_MINIMAL; e <= RT_EFFORT_XHIGH; e++) {
        cfg.turn_detection = RT_TD_SEMANTIC_VAD;
        cfg.semantic_vad.eagerness = RT_EAGER_HIGH;
        cfg.semantic_vad.create_response = true;
        cfg.semantic_vad.interrupt_response = false;
        cfg.noise_reduction = RT_NR_NEAR_FIELD;
        cfg.input_format = RT_AUDIO_PCMA;
        cfg.tool_choice = "set_volume";
        cfg.reasoning = (enum rt_reasoning_effort)e;
        n = rt_build_session_update(buf, sizeof(buf), &cfg, NULL);
        root = parse_out(buf, n);
        s = get_o(root, "session");
        expect_str(get_o(s, "reasoning"), "effort", efforts[e - RT_EFFORT_MINIMAL]);
        td = get_o(get_o(get_o(s, "audio"), "input"), "turn_detection");
        expect_str(td, "type", "semantic_vad");
        expect_str(td, "eagerness", "high");
        expect_bool(td, "create_response", true);
        expect_bool(td, "interrupt_response", false);
        expect_nkeys(td, 4);
        expect_str(get_o(get_o(get_o(s, "audio"), "input"), "noise_reduction"), "type",
                   "near_field");
        expect_str(get_o(get_o(get_o(s, "audio"), "input"), "format"), "type", "audio/pcma");
        expect_str(get_o(s, "tool_choice"), "type", "function");
        expect_str(get_o(s, "tool_choice"), "name", "set_volume");
        cJSON_Delete(root);
    }
    /* tools = [] clears them */
    cfg.tools = tools;
    cfg.n_tools = 0;
    n = rt_build_session_update(buf, sizeof(buf), &cfg, NULL);
    root = parse_out(buf, n);
    assert_int_equal(cJSON_GetArraySize(get(get_o(root, "session"), "tools")), 0);
    cJSON_Delete(root);
}

static void test_session_update_errors(void **state)
{
    struct rt_tool bad_tool = { "t", NULL, "[1,2]" };
    struct rt_conversation_cfg cfg;
    int n;
    (void)state;

    rt_conversation_cfg_defaults(&cfg);
    cfg.tools = &bad_tool;
    cfg.n_tools = 1;
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    bad_tool.parameters_json = "{not json";
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    bad_tool.parameters_json = NULL;
    bad_tool.name = NULL;
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    rt_conversation_cfg_defaults(&cfg);
    cfg.turn_detection = RT_TD_SERVER_VAD;
    cfg.server_vad.threshold = 1.5;
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    rt_conversation_cfg_defaults(&cfg);
    cfg.speed = 3.0;
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    rt_conversation_cfg_defaults(&cfg);
    cfg.instructions = "bad \xc0\xaf utf8";
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    rt_conversation_cfg_defaults(&cfg);
    cfg.reasoning = (enum rt_reasoning_effort)99;
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
    assert_int_equal(rt_build_session_update(buf, sizeof(buf), NULL, NULL), -EINVAL);
    /* exact capacity semantics */
    rt_conversation_cfg_defaults(&cfg);
    n = rt_build_session_update(buf, sizeof(buf), &cfg, NULL);
    assert_true(n > 0);
    assert_int_equal(rt_build_session_update(buf, (size_t)n, &cfg, NULL), -ENOSPC);
    assert_int_equal(rt_build_session_update(buf, (size_t)n + 1, &cfg, NULL), n);
}

static void test_transcription_update(void **state)
{
    struct rt_transcription_cfg cfg;
    const cJSON *s, *in, *tr, *inc;
    cJSON *root;
    int n;
    (void)state;

    rt_transcription_cfg_defaults(&cfg);
    n = rt_build_transcription_session_update(buf, sizeof(buf), &cfg, NULL);
    root = parse_out(buf, n);
    expect_str(root, "type", "session.update");
    s = get_o(root, "session");
    expect_str(s, "type", "transcription");
    expect_absent(s, "model");
    expect_absent(s, "include");
    in = get_o(get_o(s, "audio"), "input");
    expect_pcm_format(in);
    expect_null(in, "turn_detection");
    expect_null(in, "noise_reduction");
    tr = get_o(in, "transcription");
    expect_str(tr, "model", "gpt-realtime-whisper");
    expect_nkeys(tr, 1);
    cJSON_Delete(root);

    cfg.language = "de";
    cfg.delay = "low";
    cfg.noise_reduction = RT_NR_FAR_FIELD;
    cfg.include_logprobs = true;
    n = rt_build_transcription_session_update(buf, sizeof(buf), &cfg, "tu");
    root = parse_out(buf, n);
    expect_str(root, "event_id", "tu");
    s = get_o(root, "session");
    in = get_o(get_o(s, "audio"), "input");
    expect_null(in, "turn_detection");
    tr = get_o(in, "transcription");
    expect_str(tr, "language", "de");
    expect_str(tr, "delay", "low");
    expect_str(get_o(in, "noise_reduction"), "type", "far_field");
    inc = get(s, "include");
    assert_true(cJSON_IsArray(inc));
    assert_string_equal(cJSON_GetArrayItem(inc, 0)->valuestring,
                        "item.input_audio_transcription.logprobs");
    cJSON_Delete(root);
}

static void test_translation_update(void **state)
{
    struct rt_translation_cfg cfg = { .output_language = "es" };
    const cJSON *s, *audio;
    cJSON *root;
    int n;
    (void)state;

    n = rt_build_translation_session_update(buf, sizeof(buf), &cfg, NULL);
    root = parse_out(buf, n);
    expect_str(root, "type", "session.update");
    s = get_o(root, "session");
    expect_absent(s, "model");   /* fixed at connect time */
    expect_str(s, "type", "translation");
    audio = get_o(s, "audio");
    expect_str(get_o(audio, "output"), "language", "es");
    expect_nkeys(get_o(audio, "output"), 1);
    expect_absent(audio, "input");
    cJSON_Delete(root);

    cfg.input_transcription_model = "gpt-realtime-whisper";
    n = rt_build_translation_session_update(buf, sizeof(buf), &cfg, "x");
    root = parse_out(buf, n);
    expect_str(get_o(get_o(get_o(get_o(root, "session"), "audio"), "input"), "transcription"),
               "model", "gpt-realtime-whisper");
    cJSON_Delete(root);
    cfg.output_language = NULL;
    assert_int_equal(rt_build_translation_session_update(buf, sizeof(buf), &cfg, NULL), -EINVAL);
}

/* ---- parsing server events --------------------------------------------------------------- */

static int parse(const char *json, struct rt_event *ev)
{
    return rt_parse_server_event(json, strlen(json), ev, scratch, sizeof(scratch));
}

#define AUDIO_B64 "AAABAP///38AgAAB"   /* PCM16 LE {0, 1, -1, 32767, -32768, 256} */

/* One literal per server event type, shaped as in the protocol notes. */
static const struct sample {
    enum rt_ev_type type;
    const char *json;
} samples[] = {
    { RT_EV_ERROR, "{\"event_id\":\"event_890\",\"type\":\"error\",\"error\":{\"type\":"
      "\"invalid_request_error\",\"code\":\"invalid_value\",\"message\":\"The 'type' field "
      "is invalid.\",\"param\":\"session.type\",\"event_id\":\"hark_7\"}}" },
    { RT_EV_SESSION_CREATED, "{\"type\":\"session.created\",\"event_id\":\"event_1\","
      "\"session\":{\"type\":\"realtime\",\"object\":\"realtime.session\",\"id\":\"sess_C9\","
      "\"model\":\"gpt-realtime-2\",\"output_modalities\":[\"audio\"],\"instructions\":\"x\","
      "\"tools\":[],\"tool_choice\":\"auto\",\"max_output_tokens\":\"inf\",\"tracing\":null,"
      "\"prompt\":null,\"expires_at\":1756324625,\"audio\":{\"input\":{\"format\":{\"type\":"
      "\"audio/pcm\",\"rate\":24000},\"transcription\":null,\"noise_reduction\":null,"
      "\"turn_detection\":{\"type\":\"server_vad\",\"threshold\":0.5}},\"output\":{\"format\":"
      "{\"type\":\"audio/pcm\",\"rate\":24000},\"voice\":\"marin\",\"speed\":1}},"
      "\"include\":null}}" },
    { RT_EV_SESSION_UPDATED, "{\"type\":\"session.updated\",\"event_id\":\"event_2\","
      "\"session\":{\"type\":\"transcription\",\"id\":\"sess_T1\",\"expires_at\":1756324999}}" },
    { RT_EV_INPUT_SPEECH_STARTED, "{\"event_id\":\"event_3\",\"type\":"
      "\"input_audio_buffer.speech_started\",\"audio_start_ms\":1000,\"item_id\":\"item_U1\"}" },
    { RT_EV_INPUT_SPEECH_STOPPED, "{\"event_id\":\"event_4\",\"type\":"
      "\"input_audio_buffer.speech_stopped\",\"audio_end_ms\":2000,\"item_id\":\"item_U1\"}" },
    { RT_EV_INPUT_COMMITTED, "{\"event_id\":\"event_5\",\"type\":"
      "\"input_audio_buffer.committed\",\"previous_item_id\":\"item_P0\",\"item_id\":\"item_U1\"}" },
    { RT_EV_INPUT_CLEARED, "{\"event_id\":\"event_6\",\"type\":\"input_audio_buffer.cleared\"}" },
    { RT_EV_INPUT_TIMEOUT_TRIGGERED, "{\"type\":\"input_audio_buffer.timeout_triggered\","
      "\"event_id\":\"event_7\",\"audio_start_ms\":13216,\"audio_end_ms\":19232,"
      "\"item_id\":\"item_T\"}" },
    { RT_EV_INPUT_DTMF, "{\"type\":\"input_audio_buffer.dtmf_event_received\",\"event\":\"7\","
      "\"received_at\":1756324625}" },
    { RT_EV_ITEM_ADDED, "{\"type\":\"conversation.item.added\",\"event_id\":\"event_8\","
      "\"previous_item_id\":null,\"item\":{\"id\":\"item_A1\",\"object\":\"realtime.item\","
      "\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}" },
    { RT_EV_ITEM_DONE, "{\"type\":\"conversation.item.done\",\"event_id\":\"event_9\","
      "\"previous_item_id\":\"item_U1\",\"item\":{\"id\":\"item_A1\",\"type\":\"message\","
      "\"status\":\"completed\",\"role\":\"assistant\",\"content\":[{\"type\":\"output_audio\","
      "\"transcript\":\"Hi\"}]}}" },
    { RT_EV_ITEM_CREATED, "{\"type\":\"conversation.item.created\",\"event_id\":\"event_10\","
      "\"previous_item_id\":\"item_A1\",\"item\":{\"id\":\"item_F1\",\"type\":"
      "\"function_call_output\",\"call_id\":\"call_1\",\"output\":\"{}\"}}" },
    { RT_EV_ITEM_TRUNCATED, "{\"event_id\":\"event_11\",\"type\":\"conversation.item.truncated\","
      "\"item_id\":\"item_A1\",\"content_index\":0,\"audio_end_ms\":1500}" },
    { RT_EV_ITEM_DELETED, "{\"event_id\":\"event_12\",\"type\":\"conversation.item.deleted\","
      "\"item_id\":\"item_A1\"}" },
    { RT_EV_ITEM_RETRIEVED, "{\"event_id\":\"event_13\",\"type\":\"conversation.item.retrieved\","
      "\"item\":{\"id\":\"item_U1\",\"type\":\"message\",\"role\":\"user\",\"status\":"
      "\"completed\",\"content\":[{\"type\":\"input_audio\",\"audio\":\"" AUDIO_B64 "\"}]}}" },
    { RT_EV_INPUT_TRANSCRIPTION_DELTA, "{\"type\":"
      "\"conversation.item.input_audio_transcription.delta\",\"event_id\":\"event_14\","
      "\"item_id\":\"item_U1\",\"content_index\":0,\"delta\":\"Hel\"}" },
    { RT_EV_INPUT_TRANSCRIPTION_COMPLETED, "{\"type\":"
      "\"conversation.item.input_audio_transcription.completed\",\"event_id\":\"event_15\","
      "\"item_id\":\"item_U1\",\"content_index\":0,\"transcript\":\"Hello, how are you?\","
      "\"usage\":{\"type\":\"duration\",\"seconds\":2}}" },
    { RT_EV_INPUT_TRANSCRIPTION_FAILED, "{\"type\":"
      "\"conversation.item.input_audio_transcription.failed\",\"event_id\":\"event_16\","
      "\"item_id\":\"item_U1\",\"content_index\":0,\"error\":{\"type\":\"transcription_error\","
      "\"code\":\"audio_unintelligible\",\"message\":\"The audio could not be transcribed.\","
      "\"param\":null}}" },
    { RT_EV_RESPONSE_CREATED, "{\"type\":\"response.created\",\"event_id\":\"event_17\","
      "\"response\":{\"object\":\"realtime.response\",\"id\":\"resp_R1\",\"status\":"
      "\"in_progress\",\"status_details\":null,\"output\":[],\"usage\":null}}" },
    { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"event_id\":\"event_18\",\"response\":"
      "{\"id\":\"resp_R1\",\"status\":\"cancelled\",\"status_details\":{\"type\":\"cancelled\","
      "\"reason\":\"turn_detected\"},\"output\":[{\"id\":\"item_A1\",\"type\":\"message\"}],"
      "\"usage\":{\"total_tokens\":253,\"input_tokens\":132,\"output_tokens\":121}}}" },
    { RT_EV_OUTPUT_ITEM_ADDED, "{\"type\":\"response.output_item.added\",\"event_id\":"
      "\"event_19\",\"response_id\":\"resp_R1\",\"output_index\":0,\"item\":{\"id\":\"item_A1\","
      "\"type\":\"message\",\"status\":\"in_progress\",\"role\":\"assistant\",\"content\":[]}}" },
    { RT_EV_OUTPUT_ITEM_DONE, "{\"type\":\"response.output_item.done\",\"event_id\":\"event_20\","
      "\"response_id\":\"resp_R1\",\"output_index\":1,\"item\":{\"id\":\"item_F2\",\"type\":"
      "\"function_call\",\"status\":\"completed\",\"call_id\":\"call_9\",\"name\":\"set_volume\","
      "\"arguments\":\"{\\\"level\\\":3}\"}}" },
    { RT_EV_CONTENT_PART_ADDED, "{\"type\":\"response.content_part.added\",\"event_id\":"
      "\"event_21\",\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0,\"part\":{\"type\":\"audio\",\"transcript\":\"\"}}" },
    { RT_EV_CONTENT_PART_DONE, "{\"type\":\"response.content_part.done\",\"event_id\":"
      "\"event_22\",\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0,\"part\":{\"type\":\"audio\",\"transcript\":\"Hi\"}}" },
    { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"event_id\":\"event_23\","
      "\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0,\"delta\":\"" AUDIO_B64 "\"}" },
    { RT_EV_AUDIO_DONE, "{\"type\":\"response.output_audio.done\",\"event_id\":\"event_24\","
      "\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0}" },
    { RT_EV_AUDIO_TRANSCRIPT_DELTA, "{\"type\":\"response.output_audio_transcript.delta\","
      "\"event_id\":\"event_25\",\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\","
      "\"output_index\":0,\"content_index\":0,\"delta\":\"Hel\\u00e9\"}" },
    { RT_EV_AUDIO_TRANSCRIPT_DONE, "{\"type\":\"response.output_audio_transcript.done\","
      "\"event_id\":\"event_26\",\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\","
      "\"output_index\":0,\"content_index\":0,\"transcript\":\"Hello there.\"}" },
    { RT_EV_TEXT_DELTA, "{\"type\":\"response.output_text.delta\",\"event_id\":\"event_27\","
      "\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0,\"delta\":\"Sure\"}" },
    { RT_EV_TEXT_DONE, "{\"type\":\"response.output_text.done\",\"event_id\":\"event_28\","
      "\"response_id\":\"resp_R1\",\"item_id\":\"item_A1\",\"output_index\":0,"
      "\"content_index\":0,\"text\":\"Sure thing.\"}" },
    { RT_EV_FUNCTION_ARGS_DELTA, "{\"type\":\"response.function_call_arguments.delta\","
      "\"event_id\":\"event_29\",\"response_id\":\"resp_R1\",\"item_id\":\"item_F2\","
      "\"output_index\":1,\"call_id\":\"call_9\",\"delta\":\"{\\\"lev\"}" },
    { RT_EV_FUNCTION_ARGS_DONE, "{\"type\":\"response.function_call_arguments.done\","
      "\"event_id\":\"event_30\",\"response_id\":\"resp_R1\",\"item_id\":\"item_F2\","
      "\"output_index\":1,\"call_id\":\"call_9\",\"name\":\"set_volume\","
      "\"arguments\":\"{\\\"level\\\":3}\"}" },
    { RT_EV_OUTPUT_AUDIO_BUFFER_STARTED, "{\"event_id\":\"event_31\",\"type\":"
      "\"output_audio_buffer.started\",\"response_id\":\"resp_R1\"}" },
    { RT_EV_OUTPUT_AUDIO_BUFFER_STOPPED, "{\"event_id\":\"event_32\",\"type\":"
      "\"output_audio_buffer.stopped\",\"response_id\":\"resp_R1\"}" },
    { RT_EV_OUTPUT_AUDIO_BUFFER_CLEARED, "{\"event_id\":\"event_33\",\"type\":"
      "\"output_audio_buffer.cleared\",\"response_id\":\"resp_R1\"}" },
    { RT_EV_RATE_LIMITS_UPDATED, "{\"type\":\"rate_limits.updated\",\"event_id\":\"event_34\","
      "\"rate_limits\":[{\"name\":\"requests\",\"limit\":1000,\"remaining\":999,"
      "\"reset_seconds\":60},{\"name\":\"tokens\",\"limit\":50000,\"remaining\":49950,"
      "\"reset_seconds\":0.25}]}" },
    { RT_EV_TR_INPUT_TRANSCRIPT_DELTA, "{\"type\":\"session.input_transcript.delta\","
      "\"event_id\":\"event_35\",\"delta\":\"Guten\"}" },
    { RT_EV_TR_OUTPUT_TRANSCRIPT_DELTA, "{\"type\":\"session.output_transcript.delta\","
      "\"event_id\":\"event_36\",\"delta\":\"Good\"}" },
    { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"event_id\":"
      "\"event_37\",\"delta\":\"" AUDIO_B64 "\",\"sample_rate\":24000,\"channels\":1,"
      "\"format\":\"pcm16\",\"elapsed_ms\":400}" },
    { RT_EV_TR_SESSION_CLOSED, "{\"type\":\"session.closed\",\"event_id\":\"event_38\"}" },
};
#define N_SAMPLES (sizeof(samples) / sizeof(samples[0]))

static const char *sample_of(enum rt_ev_type t)
{
    for (size_t i = 0; i < N_SAMPLES; i++)
        if (samples[i].type == t)
            return samples[i].json;
    fail_msg("no sample for %d", t);
    return NULL;
}

static void test_parse_all_types(void **state)
{
    struct rt_event ev;
    bool seen[RT_EV__COUNT] = { false };
    (void)state;

    for (size_t i = 0; i < N_SAMPLES; i++) {
        int r = parse(samples[i].json, &ev);
        if (r != 0)
            fail_msg("sample %zu (%s) -> %d", i, rt_ev_type_name(samples[i].type), r);
        assert_int_equal(ev.type, samples[i].type);
        assert_string_equal(ev.type_str, rt_ev_type_name(samples[i].type));
        seen[ev.type] = true;
    }
    /* every enum value except NONE/UNKNOWN has a sample */
    for (int t = RT_EV_ERROR; t < RT_EV__COUNT; t++)
        if (!seen[t])
            fail_msg("no sample for event type %d", t);
}

static void test_parse_fields(void **state)
{
    static const int16_t want_pcm[] = { 0, 1, -1, 32767, -32768, 256 };
    struct rt_event ev;
    (void)state;

    assert_int_equal(parse(sample_of(RT_EV_ERROR), &ev), 0);
    assert_string_equal(ev.event_id, "event_890");
    assert_string_equal(ev.error.type, "invalid_request_error");
    assert_string_equal(ev.error.code, "invalid_value");
    assert_string_equal(ev.error.message, "The 'type' field is invalid.");
    assert_string_equal(ev.error.param, "session.type");
    assert_string_equal(ev.error.event_id, "hark_7");

    assert_int_equal(parse(sample_of(RT_EV_SESSION_CREATED), &ev), 0);
    assert_string_equal(ev.session_id, "sess_C9");
    assert_string_equal(ev.session_type, "realtime");
    assert_string_equal(ev.model, "gpt-realtime-2");
    assert_int_equal(ev.expires_at, 1756324625);
    assert_int_equal(parse(sample_of(RT_EV_SESSION_UPDATED), &ev), 0);
    assert_string_equal(ev.session_type, "transcription");
    assert_int_equal(ev.expires_at, 1756324999);

    assert_int_equal(parse(sample_of(RT_EV_INPUT_SPEECH_STARTED), &ev), 0);
    assert_int_equal(ev.audio_start_ms, 1000);
    assert_int_equal(ev.audio_end_ms, -1);
    assert_string_equal(ev.item_id, "item_U1");
    assert_int_equal(parse(sample_of(RT_EV_INPUT_SPEECH_STOPPED), &ev), 0);
    assert_int_equal(ev.audio_end_ms, 2000);
    assert_int_equal(parse(sample_of(RT_EV_INPUT_COMMITTED), &ev), 0);
    assert_string_equal(ev.item_id, "item_U1");
    assert_string_equal(ev.previous_item_id, "item_P0");
    assert_int_equal(parse(sample_of(RT_EV_INPUT_TIMEOUT_TRIGGERED), &ev), 0);
    assert_int_equal(ev.audio_start_ms, 13216);
    assert_int_equal(ev.audio_end_ms, 19232);
    assert_int_equal(parse(sample_of(RT_EV_INPUT_DTMF), &ev), 0);
    assert_string_equal(ev.text, "7");

    assert_int_equal(parse(sample_of(RT_EV_ITEM_ADDED), &ev), 0);
    assert_null(ev.previous_item_id);   /* JSON null */
    assert_string_equal(ev.item_id, "item_A1");
    assert_string_equal(ev.item_type, "message");
    assert_string_equal(ev.item_role, "assistant");
    assert_string_equal(ev.item_status, "in_progress");
    assert_int_equal(parse(sample_of(RT_EV_ITEM_CREATED), &ev), 0);
    assert_string_equal(ev.call_id, "call_1");
    assert_string_equal(ev.item_type, "function_call_output");
    assert_null(ev.text);   /* only output_item events carry arguments */
    assert_int_equal(parse(sample_of(RT_EV_ITEM_TRUNCATED), &ev), 0);
    assert_string_equal(ev.item_id, "item_A1");
    assert_int_equal(ev.content_index, 0);
    assert_int_equal(ev.audio_end_ms, 1500);
    assert_int_equal(parse(sample_of(RT_EV_ITEM_RETRIEVED), &ev), 0);
    assert_string_equal(ev.item_role, "user");
    assert_null(ev.pcm);   /* its audio is not decoded */

    assert_int_equal(parse(sample_of(RT_EV_INPUT_TRANSCRIPTION_DELTA), &ev), 0);
    assert_string_equal(ev.text, "Hel");
    assert_int_equal(ev.text_len, 3);
    assert_int_equal(parse(sample_of(RT_EV_INPUT_TRANSCRIPTION_COMPLETED), &ev), 0);
    assert_string_equal(ev.text, "Hello, how are you?");
    assert_int_equal(parse(sample_of(RT_EV_INPUT_TRANSCRIPTION_FAILED), &ev), 0);
    assert_string_equal(ev.error.code, "audio_unintelligible");
    assert_null(ev.error.param);

    assert_int_equal(parse(sample_of(RT_EV_RESPONSE_CREATED), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");
    assert_int_equal(ev.status, RT_RESP_IN_PROGRESS);
    assert_null(ev.status_reason);
    assert_int_equal(parse(sample_of(RT_EV_RESPONSE_DONE), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");
    assert_int_equal(ev.status, RT_RESP_CANCELLED);
    assert_string_equal(ev.status_str, "cancelled");
    assert_string_equal(ev.status_reason, "turn_detected");
    assert_int_equal(ev.usage.total_tokens, 253);
    assert_int_equal(ev.usage.output_tokens, 121);

    assert_int_equal(parse(sample_of(RT_EV_OUTPUT_ITEM_DONE), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");
    assert_int_equal(ev.output_index, 1);
    assert_string_equal(ev.item_type, "function_call");
    assert_string_equal(ev.call_id, "call_9");
    assert_string_equal(ev.name, "set_volume");
    assert_string_equal(ev.text, "{\"level\":3}");
    assert_int_equal(parse(sample_of(RT_EV_CONTENT_PART_ADDED), &ev), 0);
    assert_string_equal(ev.part_type, "audio");
    assert_string_equal(ev.item_id, "item_A1");

    assert_int_equal(parse(sample_of(RT_EV_AUDIO_DELTA), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");
    assert_string_equal(ev.item_id, "item_A1");
    assert_int_equal(ev.output_index, 0);
    assert_int_equal(ev.content_index, 0);
    assert_int_equal(ev.samples, 6);
    assert_non_null(ev.pcm);
    assert_int_equal((uintptr_t)ev.pcm % _Alignof(int16_t), 0);
    assert_memory_equal(ev.pcm, want_pcm, sizeof(want_pcm));
    assert_int_equal(parse(sample_of(RT_EV_AUDIO_DONE), &ev), 0);
    assert_string_equal(ev.item_id, "item_A1");
    assert_int_equal(parse(sample_of(RT_EV_AUDIO_TRANSCRIPT_DELTA), &ev), 0);
    assert_string_equal(ev.text, "Hel\xc3\xa9");
    assert_int_equal(parse(sample_of(RT_EV_AUDIO_TRANSCRIPT_DONE), &ev), 0);
    assert_string_equal(ev.text, "Hello there.");
    assert_int_equal(parse(sample_of(RT_EV_TEXT_DELTA), &ev), 0);
    assert_string_equal(ev.text, "Sure");
    assert_int_equal(parse(sample_of(RT_EV_TEXT_DONE), &ev), 0);
    assert_string_equal(ev.text, "Sure thing.");
    assert_int_equal(parse(sample_of(RT_EV_FUNCTION_ARGS_DELTA), &ev), 0);
    assert_string_equal(ev.call_id, "call_9");
    assert_string_equal(ev.text, "{\"lev");
    assert_int_equal(parse(sample_of(RT_EV_FUNCTION_ARGS_DONE), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");
    assert_string_equal(ev.item_id, "item_F2");
    assert_string_equal(ev.call_id, "call_9");
    assert_string_equal(ev.name, "set_volume");
    assert_string_equal(ev.text, "{\"level\":3}");
    assert_int_equal(ev.text_len, 11);
    assert_int_equal(parse(sample_of(RT_EV_OUTPUT_AUDIO_BUFFER_CLEARED), &ev), 0);
    assert_string_equal(ev.response_id, "resp_R1");

    assert_int_equal(parse(sample_of(RT_EV_RATE_LIMITS_UPDATED), &ev), 0);
    assert_int_equal(ev.n_rate_limits, 2);
    assert_string_equal(ev.rate_limits[0].name, "requests");
    assert_int_equal(ev.rate_limits[0].limit, 1000);
    assert_int_equal(ev.rate_limits[0].remaining, 999);
    assert_float_equal(ev.rate_limits[0].reset_seconds, 60, 1e-9);
    assert_string_equal(ev.rate_limits[1].name, "tokens");
    assert_int_equal(ev.rate_limits[1].remaining, 49950);
    assert_float_equal(ev.rate_limits[1].reset_seconds, 0.25, 1e-9);

    assert_int_equal(parse(sample_of(RT_EV_TR_INPUT_TRANSCRIPT_DELTA), &ev), 0);
    assert_string_equal(ev.text, "Guten");
    assert_int_equal(parse(sample_of(RT_EV_TR_OUTPUT_AUDIO_DELTA), &ev), 0);
    assert_int_equal(ev.samples, 6);
    assert_memory_equal(ev.pcm, want_pcm, sizeof(want_pcm));
    assert_int_equal(ev.elapsed_ms, 400);
}

static void test_parse_unknown_and_beta(void **state)
{
    struct rt_event ev;
    (void)state;

    assert_int_equal(parse("{\"type\":\"response.audio.delta\",\"delta\":\"AAAA\"}", &ev), 0);
    assert_int_equal(ev.type, RT_EV_UNKNOWN);   /* beta name: not ours */
    assert_string_equal(ev.type_str, "response.audio.delta");
    assert_null(ev.pcm);
    assert_int_equal(parse("{\"type\":\"x.future\",\"event_id\":\"e\",\"stuff\":[1,{}]}", &ev), 0);
    assert_int_equal(ev.type, RT_EV_UNKNOWN);
    assert_string_equal(ev.event_id, "e");
    assert_string_equal(rt_ev_type_name(RT_EV_UNKNOWN), "unknown");
    assert_string_equal(rt_ev_type_name(RT_EV_AUDIO_DELTA), "response.output_audio.delta");
}

/* Wrong JSON types / missing required fields: -EINVAL with the type known. */
static void test_parse_wrong_types(void **state)
{
    static const struct { enum rt_ev_type type; const char *json; } bad[] = {
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"response_id\":5,"
          "\"item_id\":\"i\",\"delta\":\"AAAAAAAA\"}" },
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
          "\"item_id\":\"i\",\"delta\":[\"AAAAAAAA\"]}" },
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
          "\"item_id\":\"i\"}" },
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"item_id\":\"i\","
          "\"delta\":\"AAAAAAAA\"}" },
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
          "\"item_id\":\"i\",\"output_index\":\"0\",\"delta\":\"AAAAAAAA\"}" },
        { RT_EV_AUDIO_DELTA, "{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
          "\"item_id\":\"i\",\"content_index\":0.5,\"delta\":\"AAAAAAAA\"}" },
        { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"response\":[]}" },
        { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"response\":{\"status\":\"completed\"}}" },
        { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"response\":{\"id\":\"r\","
          "\"status\":1}}" },
        { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"response\":{\"id\":\"r\","
          "\"status_details\":\"x\"}}" },
        { RT_EV_RESPONSE_DONE, "{\"type\":\"response.done\",\"response\":{\"id\":\"r\","
          "\"usage\":{\"total_tokens\":\"many\"}}}" },
        { RT_EV_RESPONSE_CREATED, "{\"type\":\"response.created\"}" },
        { RT_EV_ERROR, "{\"type\":\"error\",\"error\":\"boom\"}" },
        { RT_EV_ERROR, "{\"type\":\"error\"}" },
        { RT_EV_ERROR, "{\"type\":\"error\",\"error\":{\"message\":42}}" },
        { RT_EV_SESSION_CREATED, "{\"type\":\"session.created\",\"session\":{\"expires_at\":\"soon\"}}" },
        { RT_EV_SESSION_CREATED, "{\"type\":\"session.created\",\"session\":{\"expires_at\":1e400}}" },
        { RT_EV_SESSION_CREATED, "{\"type\":\"session.created\"}" },
        { RT_EV_INPUT_SPEECH_STARTED, "{\"type\":\"input_audio_buffer.speech_started\","
          "\"audio_start_ms\":\"1000\"}" },
        { RT_EV_INPUT_SPEECH_STARTED, "{\"type\":\"input_audio_buffer.speech_started\"}" },
        { RT_EV_FUNCTION_ARGS_DONE, "{\"type\":\"response.function_call_arguments.done\","
          "\"call_id\":\"c\",\"arguments\":{\"level\":3}}" },
        { RT_EV_FUNCTION_ARGS_DONE, "{\"type\":\"response.function_call_arguments.done\","
          "\"arguments\":\"{}\"}" },
        { RT_EV_FUNCTION_ARGS_DONE, "{\"type\":\"response.function_call_arguments.done\","
          "\"call_id\":\"c\",\"name\":[],\"arguments\":\"{}\"}" },
        { RT_EV_RATE_LIMITS_UPDATED, "{\"type\":\"rate_limits.updated\",\"rate_limits\":{}}" },
        { RT_EV_RATE_LIMITS_UPDATED, "{\"type\":\"rate_limits.updated\",\"rate_limits\":[1]}" },
        { RT_EV_RATE_LIMITS_UPDATED, "{\"type\":\"rate_limits.updated\",\"rate_limits\":"
          "[{\"name\":\"tokens\",\"remaining\":true}]}" },
        { RT_EV_ITEM_ADDED, "{\"type\":\"conversation.item.added\",\"item\":null}" },
        { RT_EV_ITEM_ADDED, "{\"type\":\"conversation.item.added\",\"item\":{\"id\":7}}" },
        { RT_EV_ITEM_DELETED, "{\"type\":\"conversation.item.deleted\",\"item_id\":\"\"}" },
        { RT_EV_AUDIO_TRANSCRIPT_DELTA, "{\"type\":\"response.output_audio_transcript.delta\","
          "\"delta\":null}" },
        { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"delta\":"
          "\"AAAAAAAA\",\"sample_rate\":16000}" },
        { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"delta\":"
          "\"AAAAAAAA\",\"channels\":2}" },
        { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"delta\":"
          "\"AAAAAAAA\",\"format\":\"g711_ulaw\"}" },
        { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"delta\":"
          "\"AAAAAAAA\",\"format\":16}" },
        { RT_EV_TR_OUTPUT_AUDIO_DELTA, "{\"type\":\"session.output_audio.delta\",\"delta\":"
          "\"AAAAAAAA\",\"sample_rate\":24000.5}" },
        { RT_EV_TR_INPUT_TRANSCRIPT_DELTA, "{\"type\":\"session.input_transcript.delta\"}" },
        { RT_EV_UNKNOWN, "{\"type\":\"x\",\"event_id\":17}" },
    };
    struct rt_event ev;
    (void)state;

    /* control: the audio used above is valid (6 bytes = 3 samples) */
    assert_int_equal(parse("{\"type\":\"session.output_audio.delta\",\"delta\":\"AAAAAAAA\","
                           "\"sample_rate\":24000,\"channels\":1,\"format\":\"pcm16\"}", &ev), 0);
    assert_int_equal(ev.samples, 3);
    assert_int_equal(parse("{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
                           "\"item_id\":\"i\",\"content_index\":1,\"delta\":\"AAAAAAAA\"}", &ev), 0);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse(bad[i].json, &ev);
        if (r != -EINVAL)
            fail_msg("bad #%zu accepted (%d): %s", i, r, bad[i].json);
        assert_int_equal(ev.type, bad[i].type);
    }
}

static void test_parse_malformed(void **state)
{
    static const char *bad[] = {
        "", " ", "null", "[]", "[{\"type\":\"error\"}]", "\"error\"", "42", "{", "}",
        "{\"type\":}", "{\"type\":\"error\"", "{\"type\":\"error\"}}", "{\"type\":\"error\"} x",
        "{\"type\":5}", "{\"type\":null}", "{\"type\":\"\"}", "{\"type\":[\"error\"]}",
        "{\"type\":{\"x\":1}}", "{}", "{\"event_id\":\"e\"}", "{'type':'error'}",
        "{\"type\":\"error\",}", "{\"type\":\"\\ud800\"}",
    };
    struct rt_event ev;
    (void)state;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int r = parse(bad[i], &ev);
        if (r != -EINVAL)
            fail_msg("malformed #%zu accepted (%d): %s", i, r, bad[i]);
        assert_int_equal(ev.type, RT_EV_NONE);
    }
    /* cJSON reads a bad \u escape as U+0000, which ends the C string (a
     * documented limitation: strings stop at an escaped NUL) */
    assert_int_equal(parse("{\"type\":\"err\\uZZZZ\"}", &ev), 0);
    assert_int_equal(ev.type, RT_EV_UNKNOWN);
    assert_string_equal(ev.type_str, "err");
    /* trailing whitespace is fine */
    assert_int_equal(parse("{\"type\":\"session.closed\"} \r\n\t", &ev), 0);
    assert_int_equal(rt_parse_server_event(NULL, 5, &ev, scratch, sizeof(scratch)), -EINVAL);
    assert_int_equal(rt_parse_server_event("{}", 2, NULL, scratch, sizeof(scratch)), -EINVAL);
    /* an embedded NUL ends the document: the rest is trailing garbage */
    assert_int_equal(rt_parse_server_event("{\"type\":\"x\"}\0{", 13, &ev, scratch,
                                           sizeof(scratch)),
                     -EINVAL);
}

/* Every proper prefix of a valid event is invalid; the input is copied to a
 * heap block of exactly that size (no NUL) so ASan sees any overread. */
static void test_parse_truncated_everywhere(void **state)
{
    struct rt_event ev;
    (void)state;

    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t len = strlen(samples[i].json);
        for (size_t k = 0; k <= len; k++) {
            char *b = malloc(k ? k : 1);
            int r;
            assert_non_null(b);
            memcpy(b, samples[i].json, k);
            r = rt_parse_server_event(b, k, &ev, scratch, sizeof(scratch));
            if (k < len && r != -EINVAL)
                fail_msg("sample %zu truncated at %zu accepted (%d)", i, k, r);
            if (k == len && r != 0)
                fail_msg("sample %zu unterminated copy failed (%d)", i, r);
            free(b);
        }
    }
}

/* scratch of len + 2 always suffices, even starting at an odd address;
 * one byte less than what the event needs gives -E2BIG, never an overrun. */
static void test_parse_scratch_bounds(void **state)
{
    struct rt_event ev;
    (void)state;

    for (size_t i = 0; i < N_SAMPLES; i++) {
        size_t len = strlen(samples[i].json), need = 0;
        char *sc = malloc(len + 3);
        assert_non_null(sc);
        assert_int_equal(rt_parse_server_event(samples[i].json, len, &ev, sc + 1, len + 2), 0);
        assert_int_equal(ev.type, samples[i].type);
        /* find the smallest scratch that works, then check all smaller fail */
        for (need = 0; need <= len + 2; need++) {
            char *s2 = malloc(need ? need : 1);
            int r = rt_parse_server_event(samples[i].json, len, &ev, need ? s2 : NULL, need);
            free(s2);
            if (r == 0)
                break;
            assert_int_equal(r, -E2BIG);
            assert_int_equal(ev.type, samples[i].type);
        }
        assert_true(need <= len + 2);
        free(sc);
    }
}

static void test_parse_audio_errors(void **state)
{
    static const char *bad_b64[] = { "AAA", "AA==", "AAA=AAAA", "AA AA", "A\\nAAA", "####",
                                     "AAAA====", "AQ==", "AQID" };
    char json[256];
    struct rt_event ev;
    (void)state;

    for (size_t i = 0; i < sizeof(bad_b64) / sizeof(bad_b64[0]); i++) {
        snprintf(json, sizeof(json), "{\"type\":\"response.output_audio.delta\","
                 "\"response_id\":\"r\",\"item_id\":\"i\",\"delta\":\"%s\"}", bad_b64[i]);
        if (parse(json, &ev) != -EINVAL)   /* "AQ==" and "AQID" decode to 1 and 3 bytes */
            fail_msg("bad audio '%s' accepted", bad_b64[i]);
        assert_int_equal(ev.type, RT_EV_AUDIO_DELTA);
        assert_null(ev.pcm);
        assert_int_equal(ev.samples, 0);
    }
    /* empty delta: zero samples */
    assert_int_equal(parse("{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
                           "\"item_id\":\"i\",\"delta\":\"\"}", &ev), 0);
    assert_int_equal(ev.samples, 0);
    /* larger than scratch: -E2BIG */
    assert_int_equal(rt_parse_server_event(sample_of(RT_EV_AUDIO_DELTA),
                                           strlen(sample_of(RT_EV_AUDIO_DELTA)), &ev, scratch, 8),
                     -E2BIG);
    assert_int_equal(ev.type, RT_EV_AUDIO_DELTA);
}

static char *make_big_event(const char *prefix, size_t fill, char c, const char *suffix)
{
    size_t a = strlen(prefix), b = strlen(suffix);
    char *j = malloc(a + fill + b + 1);

    assert_non_null(j);
    memcpy(j, prefix, a);
    memset(j + a, c, fill);
    memcpy(j + a + fill, suffix, b + 1);
    return j;
}

static void test_parse_huge_strings(void **state)
{
    const size_t four_mib = 4u << 20;
    struct rt_event ev;
    char *j, *sc;
    size_t len;
    (void)state;

    /* a 4 MiB transcript delta: whole with a big scratch, -E2BIG with a small one */
    j = make_big_event("{\"type\":\"response.output_audio_transcript.delta\",\"delta\":\"",
                       four_mib, 'a', "\"}");
    len = strlen(j);
    sc = malloc(len + 2);
    assert_non_null(sc);
    assert_int_equal(rt_parse_server_event(j, len, &ev, sc, len + 2), 0);
    assert_int_equal(ev.text_len, four_mib);
    assert_int_equal(rt_parse_server_event(j, len, &ev, scratch, sizeof(scratch)), -E2BIG);
    assert_int_equal(ev.type, RT_EV_AUDIO_TRANSCRIPT_DELTA);
    free(j);

    /* a 4 MiB base64 audio delta decodes to 3 MiB */
    j = make_big_event("{\"type\":\"response.output_audio.delta\",\"response_id\":\"r\","
                       "\"item_id\":\"i\",\"delta\":\"", four_mib, 'A', "\"}");
    len = strlen(j);
    assert_int_equal(rt_parse_server_event(j, len, &ev, sc, len + 2), 0);
    assert_int_equal(ev.samples, four_mib / 4 * 3 / 2);
    assert_int_equal(ev.pcm[ev.samples - 1], 0);
    assert_int_equal(rt_parse_server_event(j, len, &ev, scratch, sizeof(scratch)), -E2BIG);
    free(j);

    /* a 4 MiB id is rejected, a 4 MiB label or message is cut, an unknown
     * 4 MiB field is ignored */
    j = make_big_event("{\"type\":\"response.created\",\"response\":{\"id\":\"", four_mib, 'r',
                       "\"}}");
    assert_int_equal(rt_parse_server_event(j, strlen(j), &ev, sc, len + 2), -EINVAL);
    assert_int_equal(ev.type, RT_EV_RESPONSE_CREATED);
    free(j);
    j = make_big_event("{\"type\":\"error\",\"error\":{\"code\":\"c\",\"message\":\"", four_mib,
                       'm', "\"}}");
    assert_int_equal(rt_parse_server_event(j, strlen(j), &ev, scratch, sizeof(scratch)), 0);
    assert_int_equal(strlen(ev.error.message), RT_MESSAGE_MAX);
    free(j);
    j = make_big_event("{\"type\":\"", four_mib, 't', "\"}");
    assert_int_equal(rt_parse_server_event(j, strlen(j), &ev, scratch, sizeof(scratch)), 0);
    assert_int_equal(ev.type, RT_EV_UNKNOWN);
    assert_int_equal(strlen(ev.type_str), RT_LABEL_MAX);
    free(j);
    j = make_big_event("{\"type\":\"session.closed\",\"junk\":\"", four_mib, 'j', "\"}");
    assert_int_equal(rt_parse_server_event(j, strlen(j), &ev, scratch, sizeof(scratch)), 0);
    assert_int_equal(ev.type, RT_EV_TR_SESSION_CLOSED);
    free(j);
    /* deep nesting */
    j = make_big_event("{\"type\":\"x\",\"a\":", 200000, '[', "");
    assert_int_equal(rt_parse_server_event(j, strlen(j), &ev, scratch, sizeof(scratch)), -EINVAL);
    free(j);
    free(sc);
}

static void test_parse_id_limits(void **state)
{
    char json[1024], id[RT_ID_MAX + 2];
    struct rt_event ev;
    (void)state;

    memset(id, 'x', sizeof(id));
    id[RT_ID_MAX] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"response.output_audio.done\",\"response_id\":"
             "\"%s\",\"item_id\":\"i\"}", id);
    assert_int_equal(parse(json, &ev), 0);
    assert_int_equal(strlen(ev.response_id), RT_ID_MAX);
    id[RT_ID_MAX] = 'x';
    id[RT_ID_MAX + 1] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"response.output_audio.done\",\"response_id\":"
             "\"%s\",\"item_id\":\"i\"}", id);
    assert_int_equal(parse(json, &ev), -EINVAL);
    assert_int_equal(ev.type, RT_EV_AUDIO_DONE);

    /* labels are cut on a UTF-8 boundary: 127 ASCII + a 2-byte char -> 127 bytes */
    memset(id, 'x', RT_LABEL_MAX - 1);
    id[RT_LABEL_MAX - 1] = '\0';
    snprintf(json, sizeof(json), "{\"type\":\"error\",\"error\":{\"code\":\"%s\\u00e9zz\"}}", id);
    assert_int_equal(parse(json, &ev), 0);
    assert_int_equal(strlen(ev.error.code), RT_LABEL_MAX - 1);

    /* more than four rate limits: the first four are kept */
    assert_int_equal(parse("{\"type\":\"rate_limits.updated\",\"rate_limits\":[{\"name\":\"a\"},"
                           "{\"name\":\"b\"},{\"name\":\"c\"},{\"name\":\"d\"},{\"name\":\"e\"},"
                           "7]}", &ev), 0);
    assert_int_equal(ev.n_rate_limits, 4);
    assert_string_equal(ev.rate_limits[3].name, "d");
    assert_int_equal(ev.rate_limits[3].limit, -1);
}

/* Deterministic mutations of every sample (byte flips, inserts of JSON
 * punctuation, deletions): no crash, leak or overread; result in range. */
static void test_parse_mutations(void **state)
{
    static const char punct[] = "{}[]\":,\\0 eE-+.nultrufas=/AZ\x80\xff";
    uint32_t rng = 12345;
    struct rt_event ev;
    char *m = malloc(8192);
    (void)state;

    assert_non_null(m);
    for (int round = 0; round < 20000; round++) {
        const char *src = samples[round % N_SAMPLES].json;
        size_t len = strlen(src);
        int muts;

        memcpy(m, src, len);
        rng = rng * 1103515245u + 12345u;
        muts = 1 + (int)((rng >> 16) % 4);
        for (int k = 0; k < muts && len > 1; k++) {
            size_t pos;
            rng = rng * 1103515245u + 12345u;
            pos = (rng >> 8) % len;
            switch ((rng >> 4) % 3) {
            case 0:
                m[pos] = punct[(rng >> 20) % (sizeof(punct) - 1)];
                break;
            case 1:
                if (len < 8000) {
                    memmove(m + pos + 1, m + pos, len - pos);
                    m[pos] = punct[(rng >> 20) % (sizeof(punct) - 1)];
                    len++;
                }
                break;
            default:
                memmove(m + pos, m + pos + 1, len - pos - 1);
                len--;
            }
        }
        {
            char *exact = malloc(len);
            int r;
            assert_non_null(exact);
            memcpy(exact, m, len);
            r = rt_parse_server_event(exact, len, &ev, scratch, sizeof(scratch));
            assert_true(r == 0 || r == -EINVAL || r == -E2BIG);
            assert_true(ev.type >= RT_EV_NONE && ev.type < RT_EV__COUNT);
            if (r == 0 && ev.pcm)
                assert_true((const char *)ev.pcm >= scratch &&
                            (const char *)(ev.pcm + ev.samples) <= scratch + sizeof(scratch));
            free(exact);
        }
    }
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_b64_vectors),
        cmocka_unit_test(test_b64_invalid),
        cmocka_unit_test(test_audio_append),
        cmocka_unit_test(test_audio_append_errors),
        cmocka_unit_test(test_commit_clear_close),
        cmocka_unit_test(test_response_create),
        cmocka_unit_test(test_response_cancel),
        cmocka_unit_test(test_item_truncate),
        cmocka_unit_test(test_function_call_output),
        cmocka_unit_test(test_session_update_defaults),
        cmocka_unit_test(test_session_update_full),
        cmocka_unit_test(test_session_update_errors),
        cmocka_unit_test(test_transcription_update),
        cmocka_unit_test(test_translation_update),
        cmocka_unit_test(test_parse_all_types),
        cmocka_unit_test(test_parse_fields),
        cmocka_unit_test(test_parse_unknown_and_beta),
        cmocka_unit_test(test_parse_wrong_types),
        cmocka_unit_test(test_parse_malformed),
        cmocka_unit_test(test_parse_truncated_everywhere),
        cmocka_unit_test(test_parse_scratch_bounds),
        cmocka_unit_test(test_parse_audio_errors),
        cmocka_unit_test(test_parse_huge_strings),
        cmocka_unit_test(test_parse_id_limits),
        cmocka_unit_test(test_parse_mutations),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
