/*
 * local_tools.h - the device-side functions the model can call (Realtime
 * API function calling): volume, microphone mute, time and date, device
 * status and timers.
 *
 * Each tool has a JSON schema (local_tools_defs(), the rt_tool array for
 * session.update `tools`) and a handler that turns the model's arguments
 * (a JSON object as text) into a JSON result the model reads. Every failure
 * the model can cause (arguments that are not JSON, wrong types, values
 * out of range, missing fields, huge strings, unknown timers) is answered
 * with {"error": CODE, "message": "..."} and return value 0, so the model
 * can correct itself; only an unknown tool name (-ENOENT) or a result
 * buffer too small (-ENOBUFS) is returned as an error, which rt_session
 * turns into {"error":"unknown_tool"} / {"error":"tool_failed"}.
 *
 * Wiring (see docs/cloud.md "Local tools"): pass local_tools_defs() to
 * rt_conversation_cfg.tools, and local_tools_rt_call with the object as
 * rt_session_cfg.tool / tool_ctx.
 *
 * State. The handlers own nothing of the device: volume, mute and status
 * are read and changed through the callbacks in local_tools_ops, given at
 * create time (tests pass fakes). The timers are the one state kept here:
 * LOCAL_TOOLS_MAX_TIMERS slots on a monotonic millisecond clock
 * (ops.now_ms, CLOCK_MONOTONIC by default). Expiry is not a thread or a
 * signal: the owner calls local_tools_poll() (e.g. from its loop tick, or
 * on a timerfd armed with local_tools_next_due_ms()) and plays the alarm.
 *
 * Threads: create/destroy on the main thread. local_tools_call() runs on
 * the thread that dispatches function calls (harkd: the lws thread) and
 * never blocks: the callbacks it makes must not block either (read
 * atomics, post a request to the main thread). local_tools_poll(),
 * local_tools_next_due_ms() and local_tools_cancel_all() from any thread:
 * the timer table is guarded by a mutex held only for table updates (no
 * I/O, no callbacks under it). Never from a real-time audio thread.
 * Library code: no logging.
 */
#ifndef HARK_LOCAL_TOOLS_H
#define HARK_LOCAL_TOOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "rt_events.h"

#define LOCAL_TOOLS_MAX_TIMERS 8
#define LOCAL_TOOLS_LABEL_MAX 40           /* bytes, without the NUL */
#define LOCAL_TOOLS_TIMER_MAX_S (24u * 3600)
#define LOCAL_TOOLS_ARGS_MAX 4096          /* longer argument text is refused */
#define LOCAL_TOOLS_OUT_MIN 1024           /* every result fits in this */

/* Filled by ops.get_status. Strings are static or owned by the caller and
 * must stay valid until the call returns. */
struct local_tools_status {
    const char *state;        /* app_state_name(): "idle", "speaking", ... */
    const char *connection;   /* "connected", "connecting", "offline" */
    uint64_t uptime_s;
    const char *board;        /* board name, or NULL */
    int talker_deg;           /* direction of the talker, -1 unknown */
};

struct local_tools_ops {
    void *ctx;
    /* Required. Volume in percent, 0..100. */
    unsigned (*get_volume)(void *ctx);
    /* Required. 0 or -errno (the model is told it failed). */
    int (*set_volume)(void *ctx, unsigned percent);
    /* Required. Microphone (privacy) mute. */
    bool (*get_mute)(void *ctx);
    int (*set_mute)(void *ctx, bool muted);
    /* Required. */
    void (*get_status)(void *ctx, struct local_tools_status *st);
    /* Optional clocks (tests): monotonic ms, and wall-clock seconds since
     * the epoch. NULL = CLOCK_MONOTONIC / time(NULL). */
    uint64_t (*now_ms)(void *ctx);
    time_t (*wall_time)(void *ctx);
};

struct local_tools_cfg {
    struct local_tools_ops ops;
    /* The model may mute the microphone; unmuting is a privacy decision left
     * to the user (button, harkctl) unless this is set. */
    bool allow_unmute;
};

struct local_timer_info {
    unsigned id;                           /* 1, 2, ... never reused while running */
    char label[LOCAL_TOOLS_LABEL_MAX + 1]; /* "" when none; unique among running
                                            * timers, compared ASCII-case-insensitively */
    unsigned duration_s;
    uint64_t due_ms;                       /* on the now_ms clock */
};

struct local_tools;

/* NULL (with err) when a required callback is missing or out of memory. */
struct local_tools *local_tools_create(const struct local_tools_cfg *cfg, char *err, size_t errlen);
void local_tools_destroy(struct local_tools *lt);

/* The tool definitions for session.update; static, n set to their count. */
const struct rt_tool *local_tools_defs(size_t *n);

/* Run tool `name` with args_json (NUL-terminated; NULL or "" = {}). Writes a
 * NUL-terminated JSON object to out (outlen >= LOCAL_TOOLS_OUT_MIN always
 * suffices). Returns 0 (result or {"error":...} written), -ENOENT for an
 * unknown tool, -ENOBUFS when out is too small, -EINVAL for NULL pointers. */
int local_tools_call(struct local_tools *lt, const char *name, const char *args_json, char *out,
                     size_t outlen);
/* The same with rt_session_cfg.tool's signature (ctx = the local_tools). */
int local_tools_rt_call(void *ctx, const char *name, const char *args_json, char *out, size_t outlen);

/* Timers due at now_ms (the ops clock) are removed and copied to fired (up
 * to max, the rest stay for the next poll); returns how many. */
unsigned local_tools_poll(struct local_tools *lt, uint64_t now_ms, struct local_timer_info *fired,
                          unsigned max);
/* Due time of the earliest timer on the ops clock, or UINT64_MAX if none. */
uint64_t local_tools_next_due_ms(struct local_tools *lt);
/* Copy of the running timers, soonest first; returns how many. */
unsigned local_tools_timers(struct local_tools *lt, struct local_timer_info *out, unsigned max);
void local_tools_cancel_all(struct local_tools *lt);

#endif
