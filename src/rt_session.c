/*
 * rt_session.c - Realtime session protocol state (see rt_session.h).
 *
 * All buffers (outgoing event, tool result, function-call arguments) are
 * allocated at create time and sized so that the events this module builds
 * always fit: a tool result of tool_out_max bytes escapes to at most 6x
 * that, ids are bounded by RT_ID_MAX. The only later allocations are the
 * copy of the session.update text and of a deferred response.create's
 * instructions override (rare, control path).
 */
#include "rt_session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CANCELLED_MAX 8           /* remembered cancelled/superseded response ids */
#define EID_MAX 32
#define SAMPLES_PER_MS (RT_RATE_HZ / 1000)

struct rt_call {
    char call_id[RT_ID_MAX + 1];
    char name[RT_ID_MAX + 1];
    char *args;                   /* args_max bytes in the arena */
    bool has_args;
    bool too_long;
};

struct rt_session {
    struct rt_session_cfg cfg;
    enum rt_session_state state;
    uint64_t created_ms;

    char *config;                 /* session.update to send on session.created */
    size_t config_len;

    /* the response slot */
    enum rt_response_phase phase;
    char resp_id[RT_ID_MAX + 1];
    bool cancel_on_created;       /* interrupted while REQUESTED */
    bool create_pending;          /* response.create deferred to the next response.done */
    char *pending_instructions;
    char create_eid[EID_MAX];     /* event_id of our last response.create */
    char cancelled[CANCELLED_MAX][RT_ID_MAX + 1];
    unsigned cancelled_next;

    /* the current assistant audio item, positions in the playout stream */
    char item_id[RT_ID_MAX + 1];
    char item_resp_id[RT_ID_MAX + 1];
    uint64_t item_start;
    uint64_t item_samples;
    bool item_done;               /* truncated/handled by an interrupt */
    bool item_complete;           /* all its audio received */
    uint64_t queued_total;        /* samples handed to playout */

    /* input side */
    uint64_t in_samples;
    uint64_t uncommitted;
    unsigned commits_outstanding; /* our commits not yet confirmed */

    /* function calls of the active response */
    struct rt_call *calls;
    unsigned n_calls;
    char *args_arena;
    char *tool_out;

    char *tx;                     /* outgoing event buffer */
    size_t tx_cap;
    uint64_t seq;

    uint64_t out_samples;
    struct rt_session_stats st;
};

static void copy_id(char *dst, const char *src)
{
    size_t n = src ? strnlen(src, RT_ID_MAX) : 0;

    memcpy(dst, src ? src : "", n);
    dst[n] = '\0';
}

static void copy_trunc(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

static const char *next_eid(struct rt_session *s, char *eid)
{
    snprintf(eid, EID_MAX, "hark_%llu", (unsigned long long)++s->seq);
    return eid;
}

/* Send len bytes of s->tx (len < 0: a builder error, passed on). */
static int tx_send(struct rt_session *s, int len)
{
    int r;

    if (len < 0)
        return len;
    r = s->cfg.send(s->cfg.send_ctx, s->tx, (size_t)len);
    if (r < 0)
        s->st.send_failures++;
    return r;
}

static bool is_cancelled(const struct rt_session *s, const char *id)
{
    if (!id || !id[0])
        return false;
    for (unsigned i = 0; i < CANCELLED_MAX; i++)
        if (!strcmp(s->cancelled[i], id))
            return true;
    return false;
}

static void remember_cancelled(struct rt_session *s, const char *id)
{
    if (!id[0] || is_cancelled(s, id))
        return;
    copy_id(s->cancelled[s->cancelled_next], id);
    s->cancelled_next = (s->cancelled_next + 1) % CANCELLED_MAX;
}

static void drop_calls(struct rt_session *s)
{
    s->st.calls_dropped += s->n_calls;
    s->n_calls = 0;
}

struct rt_session *rt_session_create(const struct rt_session_cfg *cfg, uint64_t now_ms)
{
    struct rt_session *s;

    if (!cfg || !cfg->send)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->cfg = *cfg;
    if (!s->cfg.rollover_after_ms)
        s->cfg.rollover_after_ms = RT_SESSION_ROLLOVER_MS;
    if (!s->cfg.rollover_hard_ms)
        s->cfg.rollover_hard_ms = RT_SESSION_ROLLOVER_HARD_MS;
    if (s->cfg.rollover_hard_ms < s->cfg.rollover_after_ms)
        s->cfg.rollover_hard_ms = s->cfg.rollover_after_ms;
    if (!s->cfg.input_rate_hz)
        s->cfg.input_rate_hz = RT_RATE_HZ;
    if (!s->cfg.tool_out_max)
        s->cfg.tool_out_max = 4096;
    if (!s->cfg.args_max)
        s->cfg.args_max = 8192;
    if (!s->cfg.max_calls)
        s->cfg.max_calls = 8;
    if (s->cfg.tool_out_max < 64 || s->cfg.tool_out_max > (1u << 20) ||
        s->cfg.args_max < 16 || s->cfg.args_max > (1u << 20) ||
        s->cfg.max_calls > 64)
        goto out_free;
    s->created_ms = now_ms;
    s->st.expires_at = -1;

    s->calls = calloc(s->cfg.max_calls, sizeof(*s->calls));
    s->args_arena = malloc(s->cfg.max_calls * s->cfg.args_max);
    s->tool_out = malloc(s->cfg.tool_out_max);
    /* worst case: every output byte escaped as \u00XX, ids likewise */
    s->tx_cap = 6 * s->cfg.tool_out_max + 6 * (RT_ID_MAX + EID_MAX) + 256;
    s->tx = malloc(s->tx_cap);
    if (!s->calls || !s->args_arena || !s->tool_out || !s->tx)
        goto out_free;
    for (unsigned i = 0; i < s->cfg.max_calls; i++)
        s->calls[i].args = s->args_arena + (size_t)i * s->cfg.args_max;
    return s;

out_free:
    rt_session_destroy(s);
    return NULL;
}

void rt_session_destroy(struct rt_session *s)
{
    if (!s)
        return;
    free(s->tx);
    free(s->tool_out);
    free(s->args_arena);
    free(s->calls);
    free(s->pending_instructions);
    free(s->config);
    free(s);
}

int rt_session_set_config(struct rt_session *s, const char *json, size_t len)
{
    char *copy;
    int r;

    if (!json || len == 0)
        return -EINVAL;
    copy = malloc(len);
    if (!copy)
        return -ENOMEM;
    memcpy(copy, json, len);
    free(s->config);
    s->config = copy;
    s->config_len = len;
    if (s->state == RT_SESSION_CREATED || s->state == RT_SESSION_CONFIGURED) {
        r = s->cfg.send(s->cfg.send_ctx, s->config, s->config_len);
        if (r < 0)
            s->st.send_failures++;
        return r;
    }
    return 0;
}

/* ---- outgoing -------------------------------------------------------------------- */

static int send_response_create(struct rt_session *s, const char *instructions)
{
    size_t need = instructions ? 6 * strlen(instructions) + 256 : 0;
    char *buf = s->tx;
    int r;

    next_eid(s, s->create_eid);
    if (need > s->tx_cap) {   /* a long instructions override: one-off buffer */
        buf = malloc(need);
        if (!buf)
            return -ENOMEM;
    }
    r = rt_build_response_create(buf, buf == s->tx ? s->tx_cap : need, instructions,
                                 s->create_eid);
    if (r >= 0) {
        r = s->cfg.send(s->cfg.send_ctx, buf, (size_t)r);
        if (r < 0)
            s->st.send_failures++;
    }
    if (buf != s->tx)
        free(buf);
    if (r < 0)
        return r;
    s->phase = RT_PHASE_REQUESTED;
    s->cancel_on_created = false;
    return 0;
}

static int send_cancel(struct rt_session *s, const char *response_id)
{
    char eid[EID_MAX];

    s->st.cancels++;
    return tx_send(s, rt_build_response_cancel(s->tx, s->tx_cap, response_id, next_eid(s, eid)));
}

int rt_session_request_response(struct rt_session *s, const char *instructions)
{
    char *copy = NULL;

    if (s->phase == RT_PHASE_IDLE)
        return send_response_create(s, instructions);
    if (instructions) {
        copy = strdup(instructions);
        if (!copy)
            return -ENOMEM;
    }
    free(s->pending_instructions);
    s->pending_instructions = copy;
    s->create_pending = true;
    return 0;
}

static void clear_pending_create(struct rt_session *s)
{
    s->create_pending = false;
    free(s->pending_instructions);
    s->pending_instructions = NULL;
}

static int send_pending_create(struct rt_session *s)
{
    int r;

    if (!s->create_pending || s->phase != RT_PHASE_IDLE)
        return 0;
    r = send_response_create(s, s->pending_instructions);
    clear_pending_create(s);
    return r;
}

void rt_session_audio_sent(struct rt_session *s, uint64_t samples)
{
    s->in_samples += samples;
    s->uncommitted += samples;
}

int rt_session_commit(struct rt_session *s)
{
    char eid[EID_MAX];
    int r;

    if (s->uncommitted * 1000 < (uint64_t)RT_SESSION_MIN_COMMIT_MS * s->cfg.input_rate_hz)
        return -ENODATA;
    r = tx_send(s, rt_build_audio_commit(s->tx, s->tx_cap, next_eid(s, eid)));
    if (r < 0)
        return r;
    s->uncommitted = 0;
    s->commits_outstanding++;
    s->st.commits++;
    return 0;
}

int rt_session_clear_input(struct rt_session *s)
{
    char eid[EID_MAX];
    int r = tx_send(s, rt_build_audio_clear(s->tx, s->tx_cap, next_eid(s, eid)));

    if (r == 0)
        s->uncommitted = 0;
    return r;
}

int rt_session_interrupt(struct rt_session *s, uint64_t played_total)
{
    char eid[EID_MAX];
    int r = 0, r2;

    switch (s->phase) {
    case RT_PHASE_ACTIVE:
        remember_cancelled(s, s->resp_id);
        s->phase = RT_PHASE_CANCELLING;
        r = send_cancel(s, s->resp_id);
        break;
    case RT_PHASE_REQUESTED:
        s->cancel_on_created = true;   /* its id is not known yet */
        break;
    case RT_PHASE_CANCELLING:
    case RT_PHASE_IDLE:
        break;
    }
    clear_pending_create(s);

    if (s->item_id[0] && !s->item_done) {
        uint64_t received = s->item_samples;
        uint64_t played = played_total > s->item_start ? played_total - s->item_start : 0;
        uint64_t end = played < received ? played : received;

        s->item_done = true;
        /* Nothing to truncate before the first ms of audio (the service
         * rejects it), nor when a complete item was heard to the end. */
        if (received / SAMPLES_PER_MS > 0 && !(s->item_complete && played >= received)) {
            uint64_t ms = end / SAMPLES_PER_MS;

            if (ms > UINT32_MAX)
                ms = UINT32_MAX;
            s->st.truncates++;
            s->st.last_truncate_ms = (uint32_t)ms;
            r2 = tx_send(s, rt_build_item_truncate(s->tx, s->tx_cap, s->item_id, (uint32_t)ms,
                                                   next_eid(s, eid)));
            if (!r)
                r = r2;
        }
    }
    s->queued_total = played_total;   /* the rest of the queue was dropped */
    return r;
}

/* ---- function calls ---------------------------------------------------------------- */

static struct rt_call *find_call(struct rt_session *s, const char *call_id, bool add)
{
    struct rt_call *c;

    for (unsigned i = 0; i < s->n_calls; i++)
        if (!strcmp(s->calls[i].call_id, call_id))
            return &s->calls[i];
    if (!add || s->n_calls == s->cfg.max_calls)
        return NULL;
    c = &s->calls[s->n_calls++];
    copy_id(c->call_id, call_id);
    c->name[0] = '\0';
    c->args[0] = '\0';
    c->has_args = false;
    c->too_long = false;
    return c;
}

static void remember_call(struct rt_session *s, const char *call_id, const char *name,
                          const char *args, size_t args_len)
{
    struct rt_call *c;

    if (!call_id)
        return;
    c = find_call(s, call_id, true);
    if (!c) {
        s->st.calls_dropped++;
        return;
    }
    if (name && !c->name[0])
        copy_id(c->name, name);
    if (args && !c->has_args) {
        c->has_args = true;
        if (args_len >= s->cfg.args_max) {
            c->too_long = true;
        } else {
            memcpy(c->args, args, args_len);
            c->args[args_len] = '\0';
        }
    }
}

/* Run every remembered call, send each output, then one response.create. */
static int dispatch_calls(struct rt_session *s)
{
    char eid[EID_MAX];
    int r = 0, r2;
    unsigned n = s->n_calls;

    for (unsigned i = 0; i < n; i++) {
        struct rt_call *c = &s->calls[i];
        int tr;

        s->tool_out[0] = '\0';
        if (c->too_long)
            tr = -E2BIG;
        else if (!s->cfg.tool)
            tr = -ENOSYS;
        else
            tr = s->cfg.tool(s->cfg.tool_ctx, c->name, c->has_args ? c->args : "{}",
                             s->tool_out, s->cfg.tool_out_max);
        s->tool_out[s->cfg.tool_out_max - 1] = '\0';
        if (tr < 0)
            snprintf(s->tool_out, s->cfg.tool_out_max, "{\"error\":\"%s\"}",
                     tr == -ENOENT   ? "unknown_tool"
                     : tr == -ENOSYS ? "no_tools"
                     : tr == -E2BIG  ? "arguments_too_long"
                                     : "tool_failed");
        s->st.tool_calls++;
        r2 = tx_send(s, rt_build_function_call_output(s->tx, s->tx_cap, c->call_id, s->tool_out,
                                                      next_eid(s, eid)));
        if (!r)
            r = r2;
    }
    s->n_calls = 0;
    if (n == 0)
        return 0;
    clear_pending_create(s);   /* this response.create answers any deferred one too */
    r2 = send_response_create(s, NULL);
    return r ? r : r2;
}

/* ---- incoming ----------------------------------------------------------------------- */

static bool is_active(const struct rt_session *s, const char *response_id)
{
    return s->phase == RT_PHASE_ACTIVE && response_id && !strcmp(s->resp_id, response_id);
}

static int on_response_created(struct rt_session *s, const struct rt_event *ev)
{
    if (is_cancelled(s, ev->response_id)) {
        s->st.ignored++;
        return 0;
    }
    if ((s->phase == RT_PHASE_ACTIVE || s->phase == RT_PHASE_CANCELLING) &&
        strcmp(s->resp_id, ev->response_id) != 0) {
        /* we never saw the previous one's response.done: it is over */
        remember_cancelled(s, s->resp_id);
        drop_calls(s);
    }
    copy_id(s->resp_id, ev->response_id);
    s->n_calls = 0;
    s->st.responses++;
    s->st.pending_turns = 0;
    if (s->cancel_on_created) {
        s->cancel_on_created = false;
        remember_cancelled(s, s->resp_id);
        s->phase = RT_PHASE_CANCELLING;
        return send_cancel(s, s->resp_id);
    }
    s->phase = RT_PHASE_ACTIVE;
    return 0;
}

static int on_response_done(struct rt_session *s, const struct rt_event *ev)
{
    bool was_cancelling;

    if ((s->phase != RT_PHASE_ACTIVE && s->phase != RT_PHASE_CANCELLING) ||
        strcmp(s->resp_id, ev->response_id) != 0) {
        s->st.ignored++;   /* late done of a cancelled/superseded or unknown response */
        return 0;
    }
    was_cancelling = s->phase == RT_PHASE_CANCELLING;
    s->phase = RT_PHASE_IDLE;
    s->resp_id[0] = '\0';
    if (!strcmp(s->item_resp_id, ev->response_id))
        s->item_complete = true;
    if (!was_cancelling && ev->status == RT_RESP_COMPLETED) {
        s->st.responses_completed++;
        if (s->n_calls)
            return dispatch_calls(s);
    } else {
        drop_calls(s);
    }
    return send_pending_create(s);
}

static int on_audio_delta(struct rt_session *s, const struct rt_event *ev)
{
    if (!is_active(s, ev->response_id) || !ev->item_id) {
        s->st.ignored++;
        return 0;
    }
    if (strcmp(s->item_id, ev->item_id) != 0) {
        copy_id(s->item_id, ev->item_id);
        copy_id(s->item_resp_id, ev->response_id);
        s->item_start = s->queued_total;
        s->item_samples = 0;
        s->item_done = false;
        s->item_complete = false;
    }
    s->item_samples += ev->samples;
    s->queued_total += ev->samples;
    s->out_samples += ev->samples;
    return RT_SESSION_PLAY;
}

static bool code_is(const struct rt_event *ev, const char *code)
{
    return ev->error.code && !strcmp(ev->error.code, code);
}

static void on_error(struct rt_session *s, const struct rt_event *ev)
{
    bool ours_create = s->phase == RT_PHASE_REQUESTED && ev->error.event_id &&
                       !strcmp(ev->error.event_id, s->create_eid);

    if (code_is(ev, "conversation_already_has_active_response") ||
        code_is(ev, "response_cancel_not_active")) {
        s->st.errors_harmless++;
        if (ours_create) {
            s->phase = RT_PHASE_IDLE;   /* our create was refused; the running one answers */
            s->cancel_on_created = false;
        }
        return;
    }
    s->st.errors++;
    copy_trunc(s->st.last_error_type, sizeof(s->st.last_error_type), ev->error.type);
    copy_trunc(s->st.last_error_code, sizeof(s->st.last_error_code), ev->error.code);
    copy_trunc(s->st.last_error_message, sizeof(s->st.last_error_message), ev->error.message);
    if (ours_create) {   /* our response.create failed: nothing is coming */
        s->phase = RT_PHASE_IDLE;
        s->cancel_on_created = false;
    }
}

int rt_session_handle_event(struct rt_session *s, const struct rt_event *ev)
{
    int r;

    if (!s || !ev)
        return -EINVAL;
    switch (ev->type) {
    case RT_EV_SESSION_CREATED:
        if (s->state == RT_SESSION_CONNECTING)
            s->state = RT_SESSION_CREATED;
        s->st.expires_at = ev->expires_at;
        if (s->config) {
            r = s->cfg.send(s->cfg.send_ctx, s->config, s->config_len);
            if (r < 0)
                s->st.send_failures++;
            return r;
        }
        return 0;
    case RT_EV_SESSION_UPDATED:
        if (s->state != RT_SESSION_CLOSED)
            s->state = RT_SESSION_CONFIGURED;
        return 0;
    case RT_EV_TR_SESSION_CLOSED:
        s->state = RT_SESSION_CLOSED;
        return 0;
    case RT_EV_ERROR:
        on_error(s, ev);
        return 0;
    case RT_EV_INPUT_COMMITTED:
        s->st.pending_turns++;
        if (s->commits_outstanding)
            s->commits_outstanding--;   /* ours: already reset when sent */
        else
            s->uncommitted = 0;         /* the server VAD committed */
        return 0;
    case RT_EV_INPUT_CLEARED:
        s->uncommitted = 0;
        return 0;
    case RT_EV_RESPONSE_CREATED:
        return ev->response_id ? on_response_created(s, ev) : 0;
    case RT_EV_RESPONSE_DONE:
        return ev->response_id ? on_response_done(s, ev) : 0;
    case RT_EV_AUDIO_DELTA:
        return on_audio_delta(s, ev);
    case RT_EV_AUDIO_DONE:
        if (ev->item_id && !strcmp(ev->item_id, s->item_id) && is_active(s, ev->response_id))
            s->item_complete = true;
        return 0;
    case RT_EV_FUNCTION_ARGS_DONE:
        if (is_active(s, ev->response_id))
            remember_call(s, ev->call_id, ev->name, ev->text, ev->text_len);
        else
            s->st.ignored++;
        return 0;
    case RT_EV_OUTPUT_ITEM_ADDED:
    case RT_EV_OUTPUT_ITEM_DONE:
        /* the item carries the name (and, when done, the final arguments) */
        if (ev->item_type && !strcmp(ev->item_type, "function_call") &&
            is_active(s, ev->response_id))
            remember_call(s, ev->call_id, ev->name,
                          ev->type == RT_EV_OUTPUT_ITEM_DONE ? ev->text : NULL, ev->text_len);
        return 0;
    case RT_EV_TR_OUTPUT_AUDIO_DELTA:
        s->queued_total += ev->samples;
        s->out_samples += ev->samples;
        return RT_SESSION_PLAY;
    default:
        return 0;
    }
}

bool rt_session_should_rollover(const struct rt_session *s, uint64_t now_ms)
{
    uint64_t age = now_ms > s->created_ms ? now_ms - s->created_ms : 0;
    bool idle = s->phase == RT_PHASE_IDLE && !s->create_pending && s->n_calls == 0;

    return age >= s->cfg.rollover_hard_ms || (age >= s->cfg.rollover_after_ms && idle);
}

enum rt_session_state rt_session_state(const struct rt_session *s)
{
    return s->state;
}

enum rt_response_phase rt_session_phase(const struct rt_session *s)
{
    return s->phase;
}

const char *rt_session_response_id(const struct rt_session *s)
{
    return s->resp_id;
}

void rt_session_get_stats(const struct rt_session *s, struct rt_session_stats *out)
{
    *out = s->st;
    out->state = s->state;
    out->phase = s->phase;
    out->audio_in_ms = s->in_samples * 1000 / s->cfg.input_rate_hz;
    out->audio_out_ms = s->out_samples / SAMPLES_PER_MS;
}

const char *rt_session_state_name(enum rt_session_state st)
{
    static const char *const names[] = { "connecting", "created", "configured", "closed" };

    return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] : "?";
}

const char *rt_response_phase_name(enum rt_response_phase ph)
{
    static const char *const names[] = { "idle", "requested", "active", "cancelling" };

    return (unsigned)ph < sizeof(names) / sizeof(names[0]) ? names[ph] : "?";
}
