/*
 * test_rt_session.c - realtime session protocol state: barge-in truncate
 * arithmetic (played < received, played > received, no audio, double
 * interrupt, two items), late events of cancelled responses, cancel with
 * nothing active, the function-call round trip (exact client events in
 * order), deferred response.create, commits, errors and rollover timing.
 * Server events are fed as JSON through rt_parse_server_event so the two
 * modules are tested together; client events are captured and parsed back.
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
#include "rt_session.h"

#define MAX_SENT 32

static struct {
    char *msg[MAX_SENT];
    size_t n;
    int fail_with;          /* send returns this when non-zero */
} sent;

static struct {
    int calls;
    char name[64];
    char args[256];
    int ret;
    const char *out;
} tool;

static int fake_send(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    if (sent.fail_with)
        return sent.fail_with;
    assert_true(sent.n < MAX_SENT);
    sent.msg[sent.n] = malloc(len + 1);
    assert_non_null(sent.msg[sent.n]);
    memcpy(sent.msg[sent.n], json, len);
    sent.msg[sent.n][len] = '\0';
    sent.n++;
    return 0;
}

static int fake_tool(void *ctx, const char *name, const char *args, char *out, size_t outlen)
{
    (void)ctx;
    tool.calls++;
    snprintf(tool.name, sizeof(tool.name), "%s", name);
    snprintf(tool.args, sizeof(tool.args), "%s", args);
    if (tool.ret < 0)
        return tool.ret;
    snprintf(out, outlen, "%s", tool.out ? tool.out : "{\"ok\":true}");
    return 0;
}

static void sent_clear(void)
{
    for (size_t i = 0; i < sent.n; i++)
        free(sent.msg[i]);
    sent.n = 0;
    sent.fail_with = 0;
}

static int setup(void **state)
{
    (void)state;
    sent_clear();
    memset(&tool, 0, sizeof(tool));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    sent_clear();
    return 0;
}

static struct rt_session *new_session(uint64_t now)
{
    struct rt_session_cfg cfg = { .send = fake_send, .tool = fake_tool };
    struct rt_session *s = rt_session_create(&cfg, now);

    assert_non_null(s);
    return s;
}

/* Parse a server event and feed it; returns handle_event's result. */
static int feed(struct rt_session *s, const char *json)
{
    static char scratch[1 << 20];
    struct rt_event ev;
    int r = rt_parse_server_event(json, strlen(json), &ev, scratch, sizeof(scratch));

    if (r != 0)
        fail_msg("test event does not parse (%d): %s", r, json);
    return rt_session_handle_event(s, &ev);
}

static int feed_created(struct rt_session *s, const char *resp)
{
    char j[256];

    snprintf(j, sizeof(j), "{\"type\":\"response.created\",\"response\":{\"id\":\"%s\","
             "\"status\":\"in_progress\"}}", resp);
    return feed(s, j);
}

static int feed_done(struct rt_session *s, const char *resp, const char *status)
{
    char j[256];

    snprintf(j, sizeof(j), "{\"type\":\"response.done\",\"response\":{\"id\":\"%s\","
             "\"status\":\"%s\"}}", resp, status);
    return feed(s, j);
}

/* An output_audio.delta of n samples (silence). */
static int feed_audio(struct rt_session *s, const char *resp, const char *item, size_t n)
{
    static int16_t pcm[48000];
    static char j[140000];
    int k;

    assert_true(n <= 48000);
    k = snprintf(j, sizeof(j), "{\"type\":\"response.output_audio.delta\",\"response_id\":"
                 "\"%s\",\"item_id\":\"%s\",\"output_index\":0,\"content_index\":0,"
                 "\"delta\":\"", resp, item);
    k += b64_encode(j + k, sizeof(j) - (size_t)k, pcm, n * 2);
    snprintf(j + k, sizeof(j) - (size_t)k, "\"}");
    return feed(s, j);
}

static int feed_args_done(struct rt_session *s, const char *resp, const char *call,
                          const char *name, const char *args_escaped)
{
    char j[512];

    if (name)
        snprintf(j, sizeof(j), "{\"type\":\"response.function_call_arguments.done\","
                 "\"response_id\":\"%s\",\"item_id\":\"item_fc\",\"output_index\":0,"
                 "\"call_id\":\"%s\",\"name\":\"%s\",\"arguments\":\"%s\"}",
                 resp, call, name, args_escaped);
    else
        snprintf(j, sizeof(j), "{\"type\":\"response.function_call_arguments.done\","
                 "\"response_id\":\"%s\",\"item_id\":\"item_fc\",\"output_index\":0,"
                 "\"call_id\":\"%s\",\"arguments\":\"%s\"}", resp, call, args_escaped);
    return feed(s, j);
}

static cJSON *sent_json(size_t i)
{
    cJSON *root;

    if (i >= sent.n)
        fail_msg("only %zu events sent, wanted #%zu", sent.n, i);
    root = cJSON_Parse(sent.msg[i]);
    assert_non_null(root);
    return root;
}

static void expect_sent_type(size_t i, const char *type)
{
    cJSON *root = sent_json(i);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(root, "type");

    assert_true(cJSON_IsString(t));
    if (strcmp(t->valuestring, type) != 0)
        fail_msg("event #%zu is %s, want %s", i, t->valuestring, type);
    cJSON_Delete(root);
}

static void expect_cancel(size_t i, const char *resp)
{
    cJSON *root = sent_json(i);

    assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring, "response.cancel");
    assert_string_equal(cJSON_GetObjectItem(root, "response_id")->valuestring, resp);
    cJSON_Delete(root);
}

static void expect_truncate(size_t i, const char *item, unsigned ms)
{
    cJSON *root = sent_json(i);
    const cJSON *end = cJSON_GetObjectItem(root, "audio_end_ms");
    char want[32];

    assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring,
                        "conversation.item.truncate");
    assert_string_equal(cJSON_GetObjectItem(root, "item_id")->valuestring, item);
    assert_int_equal(cJSON_GetObjectItem(root, "content_index")->valuedouble, 0);
    assert_true(cJSON_IsNumber(end));
    assert_int_equal((unsigned)end->valuedouble, ms);
    snprintf(want, sizeof(want), "\"audio_end_ms\":%u", ms);   /* an integer in the text */
    assert_non_null(strstr(sent.msg[i], want));
    cJSON_Delete(root);
}

/* ---- barge-in -------------------------------------------------------------------- */

static void test_truncate_played_less_than_received(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    assert_int_equal(feed_created(s, "resp_1"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_ACTIVE);
    assert_int_equal(feed_audio(s, "resp_1", "item_a", 12000), RT_SESSION_PLAY);
    assert_int_equal(feed_audio(s, "resp_1", "item_a", 12000), RT_SESSION_PLAY);   /* 1000 ms */
    assert_int_equal(sent.n, 0);
    /* 12345 samples = 514.375 ms played -> floor 514 */
    assert_int_equal(rt_session_interrupt(s, 12345), 0);
    assert_int_equal(sent.n, 2);
    expect_cancel(0, "resp_1");
    expect_truncate(1, "item_a", 514);
    assert_int_equal(rt_session_phase(s), RT_PHASE_CANCELLING);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.cancels, 1);
    assert_int_equal(st.truncates, 1);
    assert_int_equal(st.last_truncate_ms, 514);
    assert_int_equal(st.audio_out_ms, 1000);
    /* deltas still in flight for the cancelled response are not played */
    assert_int_equal(feed_audio(s, "resp_1", "item_a", 2400), 0);
    assert_int_equal(feed_done(s, "resp_1", "cancelled"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    assert_int_equal(sent.n, 2);
    rt_session_destroy(s);
}

static void test_truncate_played_more_than_received(void **state)
{
    struct rt_session *s = new_session(0);
    (void)state;

    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 4800);   /* 200 ms received */
    assert_int_equal(rt_session_interrupt(s, 100000), 0);
    assert_int_equal(sent.n, 2);
    expect_cancel(0, "resp_1");
    expect_truncate(1, "item_a", 200);   /* clamped to what was received */
    rt_session_destroy(s);
}

static void test_no_truncate_without_audio(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    feed_created(s, "resp_1");
    assert_int_equal(rt_session_interrupt(s, 0), 0);
    assert_int_equal(sent.n, 1);   /* cancel only */
    expect_cancel(0, "resp_1");
    feed_done(s, "resp_1", "cancelled");

    /* 23 samples is < 1 ms: still nothing to truncate */
    sent_clear();
    feed_created(s, "resp_2");
    assert_int_equal(feed_audio(s, "resp_2", "item_b", 23), RT_SESSION_PLAY);
    assert_int_equal(rt_session_interrupt(s, 23), 0);
    assert_int_equal(sent.n, 1);
    expect_cancel(0, "resp_2");
    rt_session_get_stats(s, &st);
    assert_int_equal(st.truncates, 0);
    assert_int_equal(st.cancels, 2);
    rt_session_destroy(s);
}

static void test_double_interrupt(void **state)
{
    struct rt_session *s = new_session(0);
    (void)state;

    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 24000);
    assert_int_equal(rt_session_interrupt(s, 2400), 0);
    assert_int_equal(sent.n, 2);
    assert_int_equal(rt_session_interrupt(s, 4800), 0);   /* nothing new */
    assert_int_equal(sent.n, 2);
    feed_done(s, "resp_1", "cancelled");
    assert_int_equal(rt_session_interrupt(s, 4800), 0);
    assert_int_equal(sent.n, 2);
    rt_session_destroy(s);
}

static void test_late_done_of_cancelled_response(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 4800);
    feed_args_done(s, "resp_1", "call_x", "set_volume", "{}");
    rt_session_interrupt(s, 2400);
    /* the server started the next response before resp_1's done reached us */
    assert_int_equal(feed_created(s, "resp_2"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_ACTIVE);
    assert_string_equal(rt_session_response_id(s), "resp_2");
    assert_int_equal(feed_audio(s, "resp_1", "item_a", 480), 0);   /* stale */
    assert_int_equal(feed_audio(s, "resp_2", "item_b", 480), RT_SESSION_PLAY);
    /* resp_1's done, even claiming "completed", must not end resp_2 or run tools */
    sent_clear();
    assert_int_equal(feed_done(s, "resp_1", "completed"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_ACTIVE);
    assert_string_equal(rt_session_response_id(s), "resp_2");
    assert_int_equal(tool.calls, 0);
    assert_int_equal(sent.n, 0);
    /* a repeated created for the cancelled id is ignored too */
    assert_int_equal(feed_created(s, "resp_1"), 0);
    assert_string_equal(rt_session_response_id(s), "resp_2");
    /* resp_2 finishes normally */
    assert_int_equal(feed_done(s, "resp_2", "completed"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.responses, 2);
    assert_int_equal(st.responses_completed, 1);
    assert_true(st.ignored >= 3);
    rt_session_destroy(s);
}

static void test_cancel_with_no_active_response(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    assert_int_equal(rt_session_interrupt(s, 1000), 0);
    assert_int_equal(sent.n, 0);   /* nothing active, no item: nothing to send */
    /* the response finished but playback was still going: truncate only */
    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 48000);   /* 2000 ms, from stream pos 1000 */
    feed(s, "{\"type\":\"response.output_audio.done\",\"response_id\":\"resp_1\","
            "\"item_id\":\"item_a\"}");
    feed_done(s, "resp_1", "completed");
    assert_int_equal(rt_session_interrupt(s, 1000 + 24000), 0);
    assert_int_equal(sent.n, 1);
    expect_truncate(0, "item_a", 1000);
    /* the harmless error codes are counted apart and do not become last_error */
    feed(s, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":"
            "\"response_cancel_not_active\",\"message\":\"no active response\"}}");
    feed(s, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":"
            "\"conversation_already_has_active_response\",\"message\":\"busy\"}}");
    rt_session_get_stats(s, &st);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.errors_harmless, 2);
    assert_string_equal(st.last_error_code, "");
    rt_session_destroy(s);
}

/* Positions are per item: the second item starts where the first ended in
 * the playout stream; a complete, fully played item is not truncated. */
static void test_second_item_offsets(void **state)
{
    struct rt_session *s = new_session(0);
    (void)state;

    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 24000);
    feed_done(s, "resp_1", "completed");
    assert_int_equal(rt_session_interrupt(s, 24000), 0);   /* all heard */
    assert_int_equal(sent.n, 0);

    feed_created(s, "resp_2");
    feed_audio(s, "resp_2", "item_b", 9600);
    feed_audio(s, "resp_2", "item_b", 9600);   /* 800 ms, stream 24000..43200 */
    assert_int_equal(rt_session_interrupt(s, 24000 + 7200 + 5), 0);   /* 300.2 ms in */
    assert_int_equal(sent.n, 2);
    expect_cancel(0, "resp_2");
    expect_truncate(1, "item_b", 300);
    feed_done(s, "resp_2", "cancelled");

    /* after the flush the stream continues from played_total */
    sent_clear();
    feed_created(s, "resp_3");
    feed_audio(s, "resp_3", "item_c", 24000);
    assert_int_equal(rt_session_interrupt(s, 24000 + 7205 + 2400), 0);
    expect_truncate(1, "item_c", 100);
    rt_session_destroy(s);
}

static void test_interrupt_while_requested(void **state)
{
    struct rt_session *s = new_session(0);
    (void)state;

    assert_int_equal(rt_session_request_response(s, NULL), 0);
    assert_int_equal(sent.n, 1);
    expect_sent_type(0, "response.create");
    assert_int_equal(rt_session_phase(s), RT_PHASE_REQUESTED);
    assert_int_equal(rt_session_interrupt(s, 0), 0);
    assert_int_equal(sent.n, 1);   /* the id is unknown: cancel when it appears */
    assert_int_equal(feed_created(s, "resp_9"), 0);
    assert_int_equal(sent.n, 2);
    expect_cancel(1, "resp_9");
    assert_int_equal(feed_audio(s, "resp_9", "item_z", 2400), 0);   /* never played */
    assert_int_equal(feed_done(s, "resp_9", "cancelled"), 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    rt_session_destroy(s);
}

/* ---- function calls ------------------------------------------------------------------ */

static void test_function_call_round_trip(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    const cJSON *item;
    cJSON *root;
    (void)state;

    tool.out = "{\"level\":3,\"ok\":true}";
    feed_created(s, "resp_1");
    feed(s, "{\"type\":\"response.output_item.added\",\"response_id\":\"resp_1\","
            "\"output_index\":0,\"item\":{\"id\":\"item_fc\",\"type\":\"function_call\","
            "\"call_id\":\"call_1\",\"name\":\"set_volume\",\"arguments\":\"\"}}");
    feed(s, "{\"type\":\"response.function_call_arguments.delta\",\"response_id\":\"resp_1\","
            "\"item_id\":\"item_fc\",\"call_id\":\"call_1\",\"delta\":\"{\\\"level\"}");
    feed_args_done(s, "resp_1", "call_1", NULL, "{\\\"level\\\":3}");   /* no name here */
    assert_int_equal(sent.n, 0);
    assert_int_equal(tool.calls, 0);   /* nothing runs before response.done */
    assert_false(rt_session_should_rollover(s, RT_SESSION_ROLLOVER_MS));   /* calls pending */
    assert_int_equal(feed_done(s, "resp_1", "completed"), 0);

    assert_int_equal(tool.calls, 1);
    assert_string_equal(tool.name, "set_volume");
    assert_string_equal(tool.args, "{\"level\":3}");
    assert_int_equal(sent.n, 2);
    root = sent_json(0);
    assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring,
                        "conversation.item.create");
    item = cJSON_GetObjectItem(root, "item");
    assert_true(cJSON_IsObject(item));
    assert_string_equal(cJSON_GetObjectItem(item, "type")->valuestring, "function_call_output");
    assert_string_equal(cJSON_GetObjectItem(item, "call_id")->valuestring, "call_1");
    assert_true(cJSON_IsString(cJSON_GetObjectItem(item, "output")));
    assert_string_equal(cJSON_GetObjectItem(item, "output")->valuestring,
                        "{\"level\":3,\"ok\":true}");
    cJSON_Delete(root);
    root = sent_json(1);
    assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring, "response.create");
    assert_null(cJSON_GetObjectItem(root, "response"));
    cJSON_Delete(root);
    assert_int_equal(rt_session_phase(s), RT_PHASE_REQUESTED);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.tool_calls, 1);
    rt_session_destroy(s);
}

static void test_two_calls_and_failing_tool(void **state)
{
    struct rt_session *s = new_session(0);
    cJSON *root;
    (void)state;

    tool.ret = -ENOENT;
    feed_created(s, "resp_1");
    feed_args_done(s, "resp_1", "call_1", "nope", "{}");
    feed_args_done(s, "resp_1", "call_2", "nope2", "{}");
    feed_args_done(s, "resp_1", "call_1", "nope", "{}");   /* duplicate: kept once */
    feed_done(s, "resp_1", "completed");
    assert_int_equal(tool.calls, 2);
    assert_int_equal(sent.n, 3);
    for (size_t i = 0; i < 2; i++) {
        root = sent_json(i);
        assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring,
                            "conversation.item.create");
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "item"), "call_id")->valuestring,
            i ? "call_2" : "call_1");
        assert_string_equal(
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "item"), "output")->valuestring,
            "{\"error\":\"unknown_tool\"}");
        cJSON_Delete(root);
    }
    expect_sent_type(2, "response.create");
    rt_session_destroy(s);
}

static void test_calls_dropped_when_not_completed(void **state)
{
    static const char *statuses[] = { "cancelled", "failed", "incomplete" };
    (void)state;

    for (size_t i = 0; i < 3; i++) {
        struct rt_session *s = new_session(0);
        struct rt_session_stats st;

        sent_clear();
        feed_created(s, "resp_1");
        feed_args_done(s, "resp_1", "call_1", "set_volume", "{}");
        assert_int_equal(feed_done(s, "resp_1", statuses[i]), 0);
        assert_int_equal(tool.calls, 0);
        assert_int_equal(sent.n, 0);
        rt_session_get_stats(s, &st);
        assert_int_equal(st.calls_dropped, 1);
        assert_int_equal(st.tool_calls, 0);
        /* a call for a response that is not the active one is never kept */
        feed_created(s, "resp_2");
        feed_args_done(s, "resp_other", "call_9", "set_volume", "{}");
        feed_done(s, "resp_2", "completed");
        assert_int_equal(tool.calls, 0);
        assert_int_equal(sent.n, 0);
        rt_session_destroy(s);
    }
}

/* The response finished just before our cancel reached the server: its
 * done says "completed" (and the cancel draws response_cancel_not_active),
 * but the user barged in, so its calls are not run. */
static void test_calls_dropped_after_interrupt_race(void **state)
{
    struct rt_session *s = new_session(0);
    (void)state;

    feed_created(s, "resp_1");
    feed_args_done(s, "resp_1", "call_1", "set_volume", "{}");
    rt_session_interrupt(s, 0);
    sent_clear();
    assert_int_equal(feed_done(s, "resp_1", "completed"), 0);
    assert_int_equal(tool.calls, 0);
    assert_int_equal(sent.n, 0);
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    rt_session_destroy(s);
}

/* ---- turns, deferred responses, config, errors ----------------------------------------- */

static void test_deferred_response_create(void **state)
{
    struct rt_session *s = new_session(0);
    cJSON *root;
    (void)state;

    feed_created(s, "resp_1");
    assert_int_equal(rt_session_request_response(s, "Answer in French."), 0);
    assert_int_equal(sent.n, 0);   /* one is running: wait for its done */
    feed_done(s, "resp_1", "completed");
    assert_int_equal(sent.n, 1);
    root = sent_json(0);
    assert_string_equal(cJSON_GetObjectItem(root, "type")->valuestring, "response.create");
    assert_string_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "response"), "instructions")->valuestring,
        "Answer in French.");
    cJSON_Delete(root);
    assert_int_equal(rt_session_phase(s), RT_PHASE_REQUESTED);

    /* an interrupt drops a deferred create */
    feed_created(s, "resp_2");
    rt_session_request_response(s, NULL);
    rt_session_interrupt(s, 0);
    sent_clear();
    feed_done(s, "resp_2", "cancelled");
    assert_int_equal(sent.n, 0);
    rt_session_destroy(s);
}

static void test_commit_and_turns(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    rt_session_audio_sent(s, 2399);   /* 99.96 ms */
    assert_int_equal(rt_session_commit(s), -ENODATA);
    assert_int_equal(sent.n, 0);
    rt_session_audio_sent(s, 1);
    assert_int_equal(rt_session_commit(s), 0);
    assert_int_equal(sent.n, 1);
    expect_sent_type(0, "input_audio_buffer.commit");
    assert_int_equal(rt_session_commit(s), -ENODATA);   /* nothing new since */
    rt_session_audio_sent(s, 4800);   /* appended before the server confirmed ours */
    feed(s, "{\"type\":\"input_audio_buffer.committed\",\"item_id\":\"item_u1\","
            "\"previous_item_id\":null}");
    assert_int_equal(rt_session_commit(s), 0);   /* the 4800 were not forgotten */
    rt_session_get_stats(s, &st);
    assert_int_equal(st.pending_turns, 1);
    assert_int_equal(st.commits, 2);
    assert_int_equal(st.audio_in_ms, 300);
    feed_created(s, "resp_1");
    rt_session_get_stats(s, &st);
    assert_int_equal(st.pending_turns, 0);
    sent_clear();
    rt_session_audio_sent(s, 4800);
    assert_int_equal(rt_session_clear_input(s), 0);
    expect_sent_type(0, "input_audio_buffer.clear");
    assert_int_equal(rt_session_commit(s), -ENODATA);
    rt_session_destroy(s);
}

static void test_config_on_created(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_conversation_cfg cc;
    struct rt_session_stats st;
    char upd[4096];
    int n;
    (void)state;

    rt_conversation_cfg_defaults(&cc);
    n = rt_build_session_update(upd, sizeof(upd), &cc, NULL);
    assert_true(n > 0);
    assert_int_equal(rt_session_set_config(s, upd, (size_t)n), 0);
    assert_int_equal(sent.n, 0);
    assert_int_equal(rt_session_state(s), RT_SESSION_CONNECTING);
    feed(s, "{\"type\":\"session.created\",\"session\":{\"id\":\"sess_1\",\"type\":\"realtime\","
            "\"expires_at\":1756324625}}");
    assert_int_equal(rt_session_state(s), RT_SESSION_CREATED);
    assert_int_equal(sent.n, 1);
    assert_string_equal(sent.msg[0], upd);
    feed(s, "{\"type\":\"session.updated\",\"session\":{\"id\":\"sess_1\"}}");
    assert_int_equal(rt_session_state(s), RT_SESSION_CONFIGURED);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.expires_at, 1756324625);
    /* set later: sent right away */
    assert_int_equal(rt_session_set_config(s, upd, (size_t)n), 0);
    assert_int_equal(sent.n, 2);
    rt_session_destroy(s);
}

static void test_errors_recorded(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    rt_session_request_response(s, NULL);
    assert_int_equal(rt_session_phase(s), RT_PHASE_REQUESTED);
    /* an error answering our response.create (by event_id) frees the slot */
    feed(s, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":"
            "\"invalid_value\",\"message\":\"bad thing\",\"param\":null,"
            "\"event_id\":\"hark_1\"}}");
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.errors, 1);
    assert_string_equal(st.last_error_type, "invalid_request_error");
    assert_string_equal(st.last_error_code, "invalid_value");
    assert_string_equal(st.last_error_message, "bad thing");
    /* an unrelated error leaves a requested response alone */
    rt_session_request_response(s, NULL);
    feed(s, "{\"type\":\"error\",\"error\":{\"type\":\"server_error\",\"code\":null,"
            "\"message\":\"oops\",\"event_id\":\"other\"}}");
    assert_int_equal(rt_session_phase(s), RT_PHASE_REQUESTED);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.errors, 2);
    assert_string_equal(st.last_error_code, "");
    rt_session_destroy(s);

    /* our response.create refused because one is already running (one we
     * have not seen created yet): harmless, and the slot is not stuck */
    s = new_session(0);
    rt_session_request_response(s, NULL);
    feed(s, "{\"type\":\"error\",\"error\":{\"type\":\"invalid_request_error\",\"code\":"
            "\"conversation_already_has_active_response\",\"event_id\":\"hark_1\"}}");
    assert_int_equal(rt_session_phase(s), RT_PHASE_IDLE);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.errors, 0);
    assert_int_equal(st.errors_harmless, 1);
    rt_session_destroy(s);
}

static void test_send_failure(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    feed_created(s, "resp_1");
    feed_audio(s, "resp_1", "item_a", 2400);
    sent.fail_with = -ENOSPC;
    assert_int_equal(rt_session_interrupt(s, 2400), -ENOSPC);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.send_failures, 2);
    assert_int_equal(rt_session_phase(s), RT_PHASE_CANCELLING);
    rt_session_destroy(s);
}

static void test_translation_audio(void **state)
{
    struct rt_session *s = new_session(0);
    struct rt_session_stats st;
    (void)state;

    assert_int_equal(feed(s, "{\"type\":\"session.output_audio.delta\",\"delta\":\"AAAAAAAA\","
                             "\"sample_rate\":24000,\"channels\":1,\"format\":\"pcm16\"}"),
                     RT_SESSION_PLAY);
    feed(s, "{\"type\":\"session.closed\"}");
    assert_int_equal(rt_session_state(s), RT_SESSION_CLOSED);
    rt_session_get_stats(s, &st);
    assert_int_equal(st.audio_out_ms, 0);   /* 3 samples */
    rt_session_destroy(s);
}

/* ---- rollover -------------------------------------------------------------------------- */

static void test_rollover(void **state)
{
    const uint64_t t0 = 5000, soft = RT_SESSION_ROLLOVER_MS, hard = RT_SESSION_ROLLOVER_HARD_MS;
    struct rt_session_cfg cfg = { .send = fake_send, .rollover_after_ms = 1000,
                                  .rollover_hard_ms = 3000 };
    struct rt_session *s = new_session(t0);
    (void)state;

    assert_int_equal(soft, 55u * 60 * 1000);
    assert_false(rt_session_should_rollover(s, 0));   /* clock before creation */
    assert_false(rt_session_should_rollover(s, t0));
    assert_false(rt_session_should_rollover(s, t0 + soft - 1));
    assert_true(rt_session_should_rollover(s, t0 + soft));
    /* not in the middle of a response ... */
    feed_created(s, "resp_1");
    assert_false(rt_session_should_rollover(s, t0 + soft));
    assert_false(rt_session_should_rollover(s, t0 + hard - 1));
    /* ... unless the hard limit is reached */
    assert_true(rt_session_should_rollover(s, t0 + hard));
    feed_done(s, "resp_1", "completed");
    assert_true(rt_session_should_rollover(s, t0 + soft));
    rt_session_destroy(s);

    s = rt_session_create(&cfg, 100);
    assert_non_null(s);
    assert_false(rt_session_should_rollover(s, 1099));
    assert_true(rt_session_should_rollover(s, 1100));
    rt_session_request_response(s, NULL);
    assert_false(rt_session_should_rollover(s, 3099));
    assert_true(rt_session_should_rollover(s, 3100));
    rt_session_destroy(s);
}

static void test_create_args(void **state)
{
    struct rt_session_cfg cfg = { 0 };
    (void)state;

    assert_null(rt_session_create(NULL, 0));
    assert_null(rt_session_create(&cfg, 0));   /* no send */
    cfg.send = fake_send;
    cfg.tool_out_max = 8;
    assert_null(rt_session_create(&cfg, 0));
    rt_session_destroy(NULL);
    assert_string_equal(rt_session_state_name(RT_SESSION_CONFIGURED), "configured");
    assert_string_equal(rt_response_phase_name(RT_PHASE_CANCELLING), "cancelling");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_truncate_played_less_than_received, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_played_more_than_received, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_truncate_without_audio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_done_of_cancelled_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cancel_with_no_active_response, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_item_offsets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupt_while_requested, setup, teardown),
        cmocka_unit_test_setup_teardown(test_function_call_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_calls_and_failing_tool, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_dropped_when_not_completed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_calls_dropped_after_interrupt_race, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deferred_response_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_and_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_config_on_created, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translation_audio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollover, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_args, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
