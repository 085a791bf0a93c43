/*
 * local_tools.c - function-calling tools run on the device (see
 * local_tools.h).
 *
 * Arguments come from a language model, so they are treated as hostile:
 * the text is length-capped before parsing, every field is type- and
 * range-checked (an integer must be a finite whole number; 50.0 is 50 but
 * 50.5 is refused, never rounded), labels are capped in bytes and refused
 * rather than cut (a cut could split a UTF-8 sequence), and unknown extra
 * fields are ignored. The answers are small cJSON objects printed into the
 * caller's buffer; cJSON allocates, which is fine on the network thread and
 * never happens on an audio thread.
 */
#include "local_tools.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef HARK_VERSION
#define HARK_VERSION "unknown"
#endif

struct timer_slot {
    bool used;
    struct local_timer_info t;
};

struct local_tools {
    struct local_tools_cfg cfg;
    pthread_mutex_t lock;               /* guards timers and next_id */
    struct timer_slot timers[LOCAL_TOOLS_MAX_TIMERS];
    unsigned next_id;
};

/* ---- schemas --------------------------------------------------------------------- */

#define NO_ARGS "{\"type\":\"object\",\"properties\":{},\"additionalProperties\":false}"

static const struct rt_tool tool_defs[] = {
    { "get_volume", "Get the speaker volume (percent) and whether the microphone is muted.", NO_ARGS },
    { "set_volume", "Set the speaker volume of this device.",
      "{\"type\":\"object\",\"properties\":{\"percent\":{\"type\":\"integer\",\"minimum\":0,"
      "\"maximum\":100,\"description\":\"Volume in percent: 0 is silent, 100 is the loudest.\"}},"
      "\"required\":[\"percent\"],\"additionalProperties\":false}" },
    { "set_mute",
      "Mute the device's microphone (privacy mute): it stops listening until the user unmutes it "
      "with the button. Only call this when the user asks for it.",
      "{\"type\":\"object\",\"properties\":{\"muted\":{\"type\":\"boolean\",\"description\":"
      "\"true to mute the microphone, false to unmute it (may be refused: unmuting is left to "
      "the user).\"}},\"required\":[\"muted\"],\"additionalProperties\":false}" },
    { "get_time", "Get the current local time, date, weekday and time zone of the device.", NO_ARGS },
    { "get_device_status",
      "Get the device's status: state, cloud connection, uptime, volume, mute, running timers and "
      "software version.", NO_ARGS },
    { "set_timer", "Start a countdown timer on the device; it rings an alarm when it ends.",
      "{\"type\":\"object\",\"properties\":{\"duration_s\":{\"type\":\"integer\",\"minimum\":1,"
      "\"maximum\":86400,\"description\":\"Duration in seconds.\"},\"label\":{\"type\":\"string\","
      "\"maxLength\":40,\"description\":\"Optional short name, e.g. pasta; unique among running "
      "timers.\"}},\"required\":[\"duration_s\"],\"additionalProperties\":false}" },
    { "cancel_timer", "Cancel a running timer, given its id or its label.",
      "{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":1,"
      "\"description\":\"Timer id from set_timer or list_timers.\"},\"label\":{\"type\":\"string\","
      "\"maxLength\":40,\"description\":\"Timer label.\"}},\"additionalProperties\":false}" },
    { "list_timers", "List the running timers with the time each has left.", NO_ARGS },
};

#define N_TOOLS (sizeof(tool_defs) / sizeof(tool_defs[0]))

const struct rt_tool *local_tools_defs(size_t *n)
{
    if (n)
        *n = N_TOOLS;
    return tool_defs;
}

/* ---- lifetime and clocks -------------------------------------------------------- */

struct local_tools *local_tools_create(const struct local_tools_cfg *cfg, char *err, size_t errlen)
{
    const struct local_tools_ops *o = cfg ? &cfg->ops : NULL;
    struct local_tools *lt;

    if (!o || !o->get_volume || !o->set_volume || !o->get_mute || !o->set_mute || !o->get_status) {
        snprintf(err, errlen, "local tools: a required callback is missing");
        return NULL;
    }
    lt = calloc(1, sizeof(*lt));
    if (!lt || pthread_mutex_init(&lt->lock, NULL) != 0) {
        free(lt);
        snprintf(err, errlen, "local tools: out of memory");
        return NULL;
    }
    lt->cfg = *cfg;
    lt->next_id = 1;
    tzset();  /* localtime_r() does not have to */
    return lt;
}

void local_tools_destroy(struct local_tools *lt)
{
    if (!lt)
        return;
    pthread_mutex_destroy(&lt->lock);
    free(lt);
}

static uint64_t now_ms(const struct local_tools *lt)
{
    struct timespec ts;

    if (lt->cfg.ops.now_ms)
        return lt->cfg.ops.now_ms(lt->cfg.ops.ctx);
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static time_t wall_time(const struct local_tools *lt)
{
    return lt->cfg.ops.wall_time ? lt->cfg.ops.wall_time(lt->cfg.ops.ctx) : time(NULL);
}

static unsigned remaining_s(uint64_t due, uint64_t now)
{
    return due <= now ? 0 : (unsigned)((due - now + 999) / 1000);
}

/* ---- argument checks --------------------------------------------------------------- */

struct call {
    struct local_tools *lt;
    cJSON *args;             /* an object */
    cJSON *res;              /* the answer being built */
    bool failed;             /* res holds an error */
};

static void set_error(struct call *c, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_error(struct call *c, const char *code, const char *fmt, ...)
{
    char msg[200];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    cJSON_Delete(c->res);
    c->res = cJSON_CreateObject();
    cJSON_AddStringToObject(c->res, "error", code);
    cJSON_AddStringToObject(c->res, "message", msg);
    c->failed = true;
}

/* Integer field: 1 found (in *v), 0 absent, -1 present but invalid (error set). */
static int arg_int(struct call *c, const char *name, long lo, long hi, long *v)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(c->args, name);
    double d;

    if (!it || cJSON_IsNull(it))
        return 0;
    d = it->valuedouble;
    if (!cJSON_IsNumber(it) || !isfinite(d) || d != floor(d) || d < (double)lo || d > (double)hi) {
        set_error(c, "invalid_arguments", "%s must be a whole number from %ld to %ld", name, lo, hi);
        return -1;
    }
    *v = (long)d;
    return 1;
}

static int arg_bool(struct call *c, const char *name, bool *v)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(c->args, name);

    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsBool(it)) {
        set_error(c, "invalid_arguments", "%s must be true or false", name);
        return -1;
    }
    *v = cJSON_IsTrue(it);
    return 1;
}

/* A label: 1 found (copied), 0 absent or "", -1 invalid. */
static int arg_label(struct call *c, const char *name, char out[LOCAL_TOOLS_LABEL_MAX + 1])
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(c->args, name);
    size_t len;

    if (!it || cJSON_IsNull(it))
        return 0;
    if (!cJSON_IsString(it) || !it->valuestring) {
        set_error(c, "invalid_arguments", "%s must be a string", name);
        return -1;
    }
    len = strlen(it->valuestring);
    if (len > LOCAL_TOOLS_LABEL_MAX) {
        set_error(c, "invalid_arguments", "%s is too long (%zu bytes, at most %d)", name, len,
                  LOCAL_TOOLS_LABEL_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)it->valuestring[i] < 0x20) {
            set_error(c, "invalid_arguments", "%s must not contain control characters", name);
            return -1;
        }
    }
    memcpy(out, it->valuestring, len + 1);
    return len ? 1 : 0;
}

/* ---- the tools ----------------------------------------------------------------------- */

static void tool_get_volume(struct call *c)
{
    const struct local_tools_ops *o = &c->lt->cfg.ops;

    cJSON_AddNumberToObject(c->res, "percent", o->get_volume(o->ctx));
    cJSON_AddBoolToObject(c->res, "muted", o->get_mute(o->ctx));
}

static void tool_set_volume(struct call *c)
{
    const struct local_tools_ops *o = &c->lt->cfg.ops;
    unsigned prev = o->get_volume(o->ctx);
    long v;
    int r = arg_int(c, "percent", 0, 100, &v);

    if (r == 0)
        set_error(c, "invalid_arguments", "percent is required (0 to 100)");
    if (r <= 0)
        return;
    if (o->set_volume(o->ctx, (unsigned)v) < 0) {
        set_error(c, "device_error", "the volume could not be changed");
        return;
    }
    cJSON_AddNumberToObject(c->res, "percent", (double)v);
    cJSON_AddNumberToObject(c->res, "previous_percent", prev);
}

static void tool_set_mute(struct call *c)
{
    const struct local_tools_ops *o = &c->lt->cfg.ops;
    bool m;
    int r = arg_bool(c, "muted", &m);

    if (r == 0)
        set_error(c, "invalid_arguments", "muted is required (true or false)");
    if (r <= 0)
        return;
    if (!m && !c->lt->cfg.allow_unmute && o->get_mute(o->ctx)) {
        set_error(c, "not_allowed", "only the user can unmute the microphone, with the button");
        return;
    }
    if (o->set_mute(o->ctx, m) < 0) {
        set_error(c, "device_error", "the microphone mute could not be changed");
        return;
    }
    cJSON_AddBoolToObject(c->res, "muted", m);
}

static void tool_get_time(struct call *c)
{
    time_t now = wall_time(c->lt);
    struct tm tm;
    char buf[64], off[8];

    if (!localtime_r(&now, &tm)) {
        set_error(c, "device_error", "the clock could not be read");
        return;
    }
    strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
    cJSON_AddStringToObject(c->res, "time", buf);
    strftime(buf, sizeof(buf), "%Y-%m-%d", &tm);
    cJSON_AddStringToObject(c->res, "date", buf);
    strftime(buf, sizeof(buf), "%A", &tm);
    cJSON_AddStringToObject(c->res, "weekday", buf);
    strftime(buf, sizeof(buf), "%Z", &tm);
    cJSON_AddStringToObject(c->res, "timezone", buf);
    strftime(off, sizeof(off), "%z", &tm);  /* +hhmm */
    if (strlen(off) == 5)
        snprintf(buf, sizeof(buf), "%.3s:%.2s", off, off + 3);
    else
        snprintf(buf, sizeof(buf), "%s", off);
    cJSON_AddStringToObject(c->res, "utc_offset", buf);
}

static unsigned count_timers(struct local_tools *lt)
{
    unsigned n = 0;

    pthread_mutex_lock(&lt->lock);
    for (unsigned i = 0; i < LOCAL_TOOLS_MAX_TIMERS; i++)
        n += lt->timers[i].used;
    pthread_mutex_unlock(&lt->lock);
    return n;
}

static void tool_get_device_status(struct call *c)
{
    const struct local_tools_ops *o = &c->lt->cfg.ops;
    struct local_tools_status st = { .state = "unknown", .connection = "unknown", .talker_deg = -1 };

    o->get_status(o->ctx, &st);
    cJSON_AddStringToObject(c->res, "state", st.state ? st.state : "unknown");
    cJSON_AddStringToObject(c->res, "connection", st.connection ? st.connection : "unknown");
    cJSON_AddNumberToObject(c->res, "uptime_s", (double)st.uptime_s);
    cJSON_AddNumberToObject(c->res, "volume_percent", o->get_volume(o->ctx));
    cJSON_AddBoolToObject(c->res, "microphone_muted", o->get_mute(o->ctx));
    cJSON_AddNumberToObject(c->res, "timers_running", count_timers(c->lt));
    if (st.talker_deg >= 0)
        cJSON_AddNumberToObject(c->res, "talker_direction_deg", st.talker_deg);
    if (st.board)
        cJSON_AddStringToObject(c->res, "board", st.board);
    cJSON_AddStringToObject(c->res, "version", HARK_VERSION);
}

static void add_timer(cJSON *o, const struct local_timer_info *t, uint64_t now)
{
    cJSON_AddNumberToObject(o, "id", t->id);
    cJSON_AddStringToObject(o, "label", t->label);
    cJSON_AddNumberToObject(o, "duration_s", t->duration_s);
    cJSON_AddNumberToObject(o, "remaining_s", remaining_s(t->due_ms, now));
}

static void tool_set_timer(struct call *c)
{
    struct local_tools *lt = c->lt;
    struct local_timer_info t = { 0 };
    long dur;
    int r = arg_int(c, "duration_s", 1, LOCAL_TOOLS_TIMER_MAX_S, &dur);
    int slot = -1;
    bool dup = false;
    uint64_t now;

    if (r == 0)
        set_error(c, "invalid_arguments", "duration_s is required (1 to %u seconds)", LOCAL_TOOLS_TIMER_MAX_S);
    if (r <= 0 || arg_label(c, "label", t.label) < 0)
        return;
    now = now_ms(lt);
    t.duration_s = (unsigned)dur;
    t.due_ms = now + (uint64_t)dur * 1000u;
    pthread_mutex_lock(&lt->lock);
    for (int i = 0; i < LOCAL_TOOLS_MAX_TIMERS; i++) {
        if (!lt->timers[i].used) {
            if (slot < 0)
                slot = i;
        } else if (t.label[0] && strcasecmp(lt->timers[i].t.label, t.label) == 0) {
            dup = true;
        }
    }
    if (!dup && slot >= 0) {
        t.id = lt->next_id++;
        if (lt->next_id == 0 || lt->next_id > 999999)
            lt->next_id = 1;
        lt->timers[slot].used = true;
        lt->timers[slot].t = t;
    }
    pthread_mutex_unlock(&lt->lock);
    if (dup) {
        set_error(c, "duplicate_label", "a timer labelled \"%s\" is already running", t.label);
        return;
    }
    if (slot < 0) {
        set_error(c, "too_many_timers", "%d timers are already running; cancel one first",
                  LOCAL_TOOLS_MAX_TIMERS);
        return;
    }
    add_timer(c->res, &t, now);
}

static void tool_cancel_timer(struct call *c)
{
    struct local_tools *lt = c->lt;
    char label[LOCAL_TOOLS_LABEL_MAX + 1] = "";
    struct local_timer_info t;
    long id = 0;
    int ri = arg_int(c, "id", 1, 999999, &id), rl = 0;
    bool found = false;
    uint64_t now;

    if (ri < 0 || (rl = arg_label(c, "label", label)) < 0)
        return;
    if (ri == 0 && rl == 0) {
        set_error(c, "invalid_arguments", "give the timer's id or its label");
        return;
    }
    now = now_ms(lt);
    pthread_mutex_lock(&lt->lock);
    for (unsigned i = 0; i < LOCAL_TOOLS_MAX_TIMERS && !found; i++) {
        struct timer_slot *s = &lt->timers[i];
        if (s->used && (ri == 0 || s->t.id == (unsigned)id) && (rl == 0 || !strcasecmp(s->t.label, label))) {
            t = s->t;
            s->used = false;
            found = true;
        }
    }
    pthread_mutex_unlock(&lt->lock);
    if (!found) {
        if (ri && rl)
            set_error(c, "no_such_timer", "no running timer has id %ld and label \"%s\"", id, label);
        else if (ri)
            set_error(c, "no_such_timer", "no running timer has id %ld", id);
        else
            set_error(c, "no_such_timer", "no running timer is labelled \"%s\"", label);
        return;
    }
    add_timer(cJSON_AddObjectToObject(c->res, "cancelled"), &t, now);
}

static void tool_list_timers(struct call *c)
{
    struct local_timer_info t[LOCAL_TOOLS_MAX_TIMERS];
    unsigned n = local_tools_timers(c->lt, t, LOCAL_TOOLS_MAX_TIMERS);
    uint64_t now = now_ms(c->lt);
    cJSON *arr = cJSON_AddArrayToObject(c->res, "timers");

    for (unsigned i = 0; arr && i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            break;
        }
        add_timer(o, &t[i], now);
    }
    cJSON_AddNumberToObject(c->res, "max_timers", LOCAL_TOOLS_MAX_TIMERS);
}

static const struct {
    const char *name;
    void (*fn)(struct call *c);
} handlers[N_TOOLS] = {
    { "get_volume", tool_get_volume },         { "set_volume", tool_set_volume },
    { "set_mute", tool_set_mute },             { "get_time", tool_get_time },
    { "get_device_status", tool_get_device_status }, { "set_timer", tool_set_timer },
    { "cancel_timer", tool_cancel_timer },     { "list_timers", tool_list_timers },
};

/* ---- dispatch ------------------------------------------------------------------------ */

static bool blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
            return false;
    return true;
}

int local_tools_call(struct local_tools *lt, const char *name, const char *args_json, char *out,
                     size_t outlen)
{
    struct call c = { .lt = lt };
    unsigned i;
    size_t alen;
    int r = 0;

    if (!lt || !name || !out || outlen == 0)
        return -EINVAL;
    for (i = 0; i < N_TOOLS; i++)
        if (strcmp(name, handlers[i].name) == 0)
            break;
    if (i == N_TOOLS)
        return -ENOENT;
    c.res = cJSON_CreateObject();
    if (!args_json)
        args_json = "";
    alen = strnlen(args_json, LOCAL_TOOLS_ARGS_MAX + 1);
    if (alen > LOCAL_TOOLS_ARGS_MAX) {
        set_error(&c, "invalid_arguments", "the arguments are too long (more than %d bytes)",
                  LOCAL_TOOLS_ARGS_MAX);
    } else if (blank(args_json)) {
        c.args = cJSON_CreateObject();
    } else {
        c.args = cJSON_ParseWithLength(args_json, alen);
        if (!c.args || !cJSON_IsObject(c.args))
            set_error(&c, "invalid_arguments", "the arguments must be a JSON object");
    }
    if (!c.failed && c.args && c.res)
        handlers[i].fn(&c);
    if (!c.res || !cJSON_PrintPreallocated(c.res, out, (int)(outlen > 1u << 30 ? 1u << 30 : outlen), 0)) {
        out[0] = '\0';
        r = c.res ? -ENOBUFS : -ENOMEM;
    }
    cJSON_Delete(c.args);
    cJSON_Delete(c.res);
    return r;
}

int local_tools_rt_call(void *ctx, const char *name, const char *args_json, char *out, size_t outlen)
{
    return local_tools_call(ctx, name, args_json, out, outlen);
}

/* ---- timers -------------------------------------------------------------------------- */

static int soonest(const struct timer_slot *ts, const bool *taken)
{
    int best = -1;

    for (int i = 0; i < LOCAL_TOOLS_MAX_TIMERS; i++)
        if (ts[i].used && !taken[i] && (best < 0 || ts[i].t.due_ms < ts[best].t.due_ms ||
                                        (ts[i].t.due_ms == ts[best].t.due_ms && ts[i].t.id < ts[best].t.id)))
            best = i;
    return best;
}

unsigned local_tools_poll(struct local_tools *lt, uint64_t now, struct local_timer_info *fired,
                          unsigned max)
{
    bool taken[LOCAL_TOOLS_MAX_TIMERS] = { false };
    unsigned n = 0;
    int i;

    pthread_mutex_lock(&lt->lock);
    while (n < max && (i = soonest(lt->timers, taken)) >= 0 && lt->timers[i].t.due_ms <= now) {
        fired[n++] = lt->timers[i].t;
        lt->timers[i].used = false;
    }
    pthread_mutex_unlock(&lt->lock);
    return n;
}

uint64_t local_tools_next_due_ms(struct local_tools *lt)
{
    bool taken[LOCAL_TOOLS_MAX_TIMERS] = { false };
    uint64_t due = UINT64_MAX;
    int i;

    pthread_mutex_lock(&lt->lock);
    if ((i = soonest(lt->timers, taken)) >= 0)
        due = lt->timers[i].t.due_ms;
    pthread_mutex_unlock(&lt->lock);
    return due;
}

unsigned local_tools_timers(struct local_tools *lt, struct local_timer_info *out, unsigned max)
{
    bool taken[LOCAL_TOOLS_MAX_TIMERS] = { false };
    unsigned n = 0;
    int i;

    pthread_mutex_lock(&lt->lock);
    while (n < max && (i = soonest(lt->timers, taken)) >= 0) {
        out[n++] = lt->timers[i].t;
        taken[i] = true;
    }
    pthread_mutex_unlock(&lt->lock);
    return n;
}

void local_tools_cancel_all(struct local_tools *lt)
{
    pthread_mutex_lock(&lt->lock);
    for (unsigned i = 0; i < LOCAL_TOOLS_MAX_TIMERS; i++)
        lt->timers[i].used = false;
    pthread_mutex_unlock(&lt->lock);
}
