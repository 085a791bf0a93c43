/*
 * fuzz_rt_events.c - fuzz target for rt_parse_server_event() and the
 * session state machine behind it.
 *
 * The input is split at '\n' into server messages. Each is parsed (the
 * whole input is also parsed once as a single message) into a scratch
 * buffer and, when valid, fed to a fresh rt_session; a line starting with
 * '!' is a barge-in (rt_session_interrupt with a played count taken from
 * the line), a line starting with '?' a response request. Every line is
 * copied to an exact-size heap block so an overread is caught by ASan.
 *
 * libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *               tests/fuzz/fuzz_rt_events.c src/rt_events.c src/rt_session.c \
 *               src/b64.c -lcjson -lmbedcrypto -lm -o fuzz_rt_events
 *             ./fuzz_rt_events tests/fuzz/corpus/rt_events
 * Replay:     cc ... (same sources) tests/fuzz/fuzz_replay.c -o fuzz_rt_events_replay
 *             ./fuzz_rt_events_replay FILE|DIR...   (runs each input once)
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt_events.h"
#include "rt_session.h"

static size_t sent_bytes;

static int sink(void *ctx, const char *json, size_t len)
{
    (void)ctx;
    (void)json;
    sent_bytes += len;
    return 0;
}

static int tool(void *ctx, const char *name, const char *args, char *out, size_t outlen)
{
    (void)ctx;
    snprintf(out, outlen, "{\"name_len\":%zu,\"args_len\":%zu}", strlen(name), strlen(args));
    return 0;
}

static void parse_one(const uint8_t *data, size_t len, struct rt_session *s)
{
    static char scratch[1 << 16];
    struct rt_event ev;
    char *copy;
    int r;

    if (len == 0)
        return;
    copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, data, len);
    r = rt_parse_server_event(copy, len, &ev, scratch, sizeof(scratch));
    if (r != 0 && r != -EINVAL && r != -E2BIG)
        abort();
    if ((unsigned)ev.type >= RT_EV__COUNT)
        abort();
    if (r == 0 && ev.pcm &&
        ((const char *)ev.pcm < scratch ||
         (const char *)(ev.pcm + ev.samples) > scratch + sizeof(scratch)))
        abort();
    if (r == 0 && s)
        (void)rt_session_handle_event(s, &ev);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rt_session_cfg cfg = { .send = sink, .tool = tool, .tool_out_max = 256,
                                  .args_max = 64, .max_calls = 2 };
    struct rt_session *s;
    uint64_t played = 0;
    size_t start = 0;

    parse_one(data, size, NULL);
    s = rt_session_create(&cfg, 0);
    if (!s)
        return 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        if (i > start && data[start] == '!') {
            played += (uint64_t)(i - start) * 997;
            (void)rt_session_interrupt(s, played);
        } else if (i > start && data[start] == '?') {
            (void)rt_session_request_response(s, i - start > 1 ? "again" : NULL);
        } else {
            parse_one(data + start, i - start, s);
        }
        start = i + 1;
    }
    (void)rt_session_should_rollover(s, played);
    rt_session_destroy(s);
    return 0;
}
