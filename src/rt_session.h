/*
 * rt_session.h - protocol state of one OpenAI Realtime session: responses,
 * barge-in (cancel + truncate), function calls, turn and audio accounting,
 * error bookkeeping and the rollover clock. Pure logic, no I/O: it is fed
 * parsed server events (rt_parse_server_event) and calls from the runtime,
 * and emits client events through the send callback.
 *
 * Keying. Everything about a response is keyed by its response_id: audio
 * deltas, function calls and response.done count only for the response in
 * the active slot; ids of responses we cancelled are remembered so that a
 * late delta or response.done of a cancelled response is ignored and never
 * mistaken for the current one. A response.create is never sent while a
 * response is in flight (that would draw conversation_already_has_active_
 * response); it is deferred to that response's response.done.
 *
 * Playback accounting (for conversation.item.truncate). Every audio delta
 * for which rt_session_handle_event() returns RT_SESSION_PLAY must be queued
 * for playout in order; the runtime keeps ONE monotonic counter of samples
 * (24 kHz) actually rendered from that queue since the session was created
 * and passes it to rt_session_interrupt(). The session knows at which point
 * of that stream the current assistant item began, so
 *   played_in_item = played_total - item_start   (clamped at 0)
 *   audio_end_ms   = floor(min(played_in_item, received_in_item) / 24)
 * After an interrupt the runtime must have dropped everything still queued;
 * the session then continues the stream from played_total.
 *
 * Threads: single-threaded object. In harkd every call (create/destroy
 * included) is made from the network (libwebsockets) thread; send and tool
 * callbacks run synchronously on that thread from inside these calls.
 * Stats are plain data copied out on that thread. Library code: no logging.
 */
#ifndef HARK_RT_SESSION_H
#define HARK_RT_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt_events.h"

#define RT_SESSION_PLAY 1                         /* handle_event: queue ev->pcm for playout */
#define RT_SESSION_ROLLOVER_MS (55u * 60 * 1000)  /* default soft rollover age */
#define RT_SESSION_ROLLOVER_HARD_MS (59u * 60 * 1000)
#define RT_SESSION_MIN_COMMIT_MS 100              /* server rejects smaller commits */

enum rt_session_state {
    RT_SESSION_CONNECTING = 0,   /* created, no session.created yet */
    RT_SESSION_CREATED,          /* session.created seen (config sent if set) */
    RT_SESSION_CONFIGURED,       /* session.updated seen */
    RT_SESSION_CLOSED,           /* session.closed seen (translation) */
};

enum rt_response_phase {
    RT_PHASE_IDLE = 0,           /* no response in flight */
    RT_PHASE_REQUESTED,          /* response.create sent, no response.created yet */
    RT_PHASE_ACTIVE,             /* response.created seen, streaming */
    RT_PHASE_CANCELLING,         /* response.cancel sent, waiting for its response.done */
};

struct rt_session_cfg {
    /* Required. Queue a copy of one client event (json is not
     * NUL-terminated in the contract, and is reused after return).
     * Returns 0 or -errno (e.g. ws_client_send_text()). */
    int (*send)(void *ctx, const char *json, size_t len);
    void *send_ctx;
    /* Optional tool registry. Write a NUL-terminated result string (usually
     * JSON) of at most outlen bytes including the NUL into out; return 0, or
     * -ENOENT for an unknown tool, other -errno on failure (the model then
     * gets {"error":"unknown_tool"} / {"error":"tool_failed"}). Without a
     * registry every call gets {"error":"no_tools"}. Runs synchronously on
     * the network thread: keep it short or hand work off. */
    int (*tool)(void *ctx, const char *name, const char *args_json, char *out, size_t outlen);
    void *tool_ctx;
    uint64_t rollover_after_ms;  /* 0 = RT_SESSION_ROLLOVER_MS: roll over when idle */
    uint64_t rollover_hard_ms;   /* 0 = RT_SESSION_ROLLOVER_HARD_MS: roll over regardless */
    unsigned input_rate_hz;      /* of the appended audio: 24000 (default) or 8000 (G.711) */
    size_t tool_out_max;         /* tool result buffer; 0 = 4096 (64 .. 1 MiB) */
    size_t args_max;             /* arguments buffer per call; 0 = 8192 (16 .. 1 MiB) */
    unsigned max_calls;          /* function calls kept per response; 0 = 8 (max 64) */
};

struct rt_session_stats {
    enum rt_session_state state;
    enum rt_response_phase phase;
    uint32_t responses;          /* response.created accepted */
    uint32_t responses_completed;
    uint32_t cancels;            /* response.cancel sent */
    uint32_t truncates;          /* conversation.item.truncate sent */
    uint32_t last_truncate_ms;
    uint32_t commits;            /* input_audio_buffer.commit sent */
    uint32_t tool_calls;         /* function_call_output sent */
    uint32_t calls_dropped;      /* remembered calls of a response that did not complete */
    uint32_t errors;             /* error events, harmless ones excluded */
    /* conversation_already_has_active_response, response_cancel_not_active */
    uint32_t errors_harmless;
    uint32_t ignored;            /* late/foreign deltas and response.done ignored */
    uint32_t send_failures;
    uint32_t pending_turns;      /* committed user turns not yet answered */
    uint64_t audio_in_ms;        /* appended (rt_session_audio_sent) */
    uint64_t audio_out_ms;       /* received for playout (RT_SESSION_PLAY deltas) */
    int64_t expires_at;          /* from session.created; -1 unknown */
    char last_error_type[RT_LABEL_MAX + 1];
    char last_error_code[RT_LABEL_MAX + 1];
    char last_error_message[256];
};

/* NULL on OOM or a cfg without send. now_ms: monotonic clock, the start of
 * the session's age for rollover. */
struct rt_session *rt_session_create(const struct rt_session_cfg *cfg, uint64_t now_ms);
void rt_session_destroy(struct rt_session *s);

/* A prebuilt session.update (rt_build_*session_update) to send when
 * session.created arrives, or right away if it already has. Copied. */
int rt_session_set_config(struct rt_session *s, const char *json, size_t len);

/* Feed one parsed server event (only those parsed with return 0). Returns
 * RT_SESSION_PLAY when ev->pcm/ev->samples must be queued for playout, 0
 * otherwise (ignored events included), or -errno when a client event this
 * triggered could not be sent. */
int rt_session_handle_event(struct rt_session *s, const struct rt_event *ev);

/* The runtime appended `samples` of input audio (at input_rate_hz). */
void rt_session_audio_sent(struct rt_session *s, uint64_t samples);
/* input_audio_buffer.commit of the appended audio (turn end decided by the
 * local VAD). -ENODATA when less than RT_SESSION_MIN_COMMIT_MS is
 * uncommitted (nothing sent). */
int rt_session_commit(struct rt_session *s);
/* input_audio_buffer.clear (drop uncommitted audio). */
int rt_session_clear_input(struct rt_session *s);
/* response.create now, or after the response in flight is done. instructions
 * (NULL = session's) overrides them for this response only. */
int rt_session_request_response(struct rt_session *s, const char *instructions);

/* Barge-in: playback has been stopped and its queue dropped; played_total
 * is the monotonic count of rendered samples (see above). Sends
 * response.cancel if a response is streaming (or cancels it as soon as a
 * requested one is created), then conversation.item.truncate for the
 * current assistant item when it has received >= 1 ms of audio, unless it
 * was already truncated or it is complete and fully played. Drops a
 * deferred response.create. Returns 0 or the first send error. */
int rt_session_interrupt(struct rt_session *s, uint64_t played_samples_24k);

/* True once the session is rollover_after_ms old and idle (no response in
 * flight or pending, no calls), or rollover_hard_ms old in any case. The
 * runtime should also wait for playback to drain before reconnecting. */
bool rt_session_should_rollover(const struct rt_session *s, uint64_t now_ms);

enum rt_session_state rt_session_state(const struct rt_session *s);
enum rt_response_phase rt_session_phase(const struct rt_session *s);
/* The response in the active slot ("" when idle/requested). */
const char *rt_session_response_id(const struct rt_session *s);
void rt_session_get_stats(const struct rt_session *s, struct rt_session_stats *out);

const char *rt_session_state_name(enum rt_session_state st);
const char *rt_response_phase_name(enum rt_response_phase ph);

#endif
