/*
 * test_local_tools.c - the function-calling tools: every schema is a tool
 * definition the Realtime API accepts (type "function", name, description,
 * a parameters object schema) and fits session.update; each handler with
 * good arguments, with hostile ones (not JSON, wrong types, out of range,
 * fractional numbers, missing fields, 1 MB strings, control characters),
 * and with a result buffer too small; timers on a fake monotonic clock
 * expire at exactly their due time, in order, and cancel/list/full-table
 * behave; get_time in a fixed time zone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "local_tools.h"
#include "rt_events.h"

struct fake {
    unsigned volume;
    bool muted;
    int set_volume_calls, set_mute_calls;
    int fail_set;
    uint64_t now;
    time_t wall;
};

static unsigned f_get_volume(void *ctx) { return ((struct fake *)ctx)->volume; }
static bool f_get_mute(void *ctx) { return ((struct fake *)ctx)->muted; }
static uint64_t f_now(void *ctx) { return ((struct fake *)ctx)->now; }
static time_t f_wall(void *ctx) { return ((struct fake *)ctx)->wall; }

static int f_set_volume(void *ctx, unsigned v)
{
    struct fake *f = ctx;
    f->set_volume_calls++;
    if (f->fail_set)
        return -EIO;
    f->volume = v;
    return 0;
}

static int f_set_mute(void *ctx, bool m)
{
    struct fake *f = ctx;
    f->set_mute_calls++;
    if (f->fail_set)
        return -EIO;
    f->muted = m;
    return 0;
}

static void f_status(void *ctx, struct local_tools_status *st)
{
    (void)ctx;
    st->state = "speaking";
    st->connection = "connected";
    st->uptime_s = 4242;
    st->board = "sim4";
    st->talker_deg = 90;
}

struct fixture {
    struct fake f;
    struct local_tools *lt;
    char out[LOCAL_TOOLS_OUT_MIN];
};

static struct local_tools *make(struct fake *f, bool allow_unmute)
{
    struct local_tools_cfg cfg = {
        .ops = { .ctx = f, .get_volume = f_get_volume, .set_volume = f_set_volume, .get_mute = f_get_mute,
                 .set_mute = f_set_mute, .get_status = f_status, .now_ms = f_now, .wall_time = f_wall },
        .allow_unmute = allow_unmute,
    };
    char err[128];
    return local_tools_create(&cfg, err, sizeof(err));
}

static int setup(void **state)
{
    struct fixture *x = calloc(1, sizeof(*x));
    x->f.volume = 40;
    x->f.now = 1000000;
    x->f.wall = 1709824509;   /* 2024-03-07 15:15:09 UTC, a Thursday */
    x->lt = make(&x->f, false);
    *state = x;
    return x->lt ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *x = *state;
    local_tools_destroy(x->lt);
    free(x);
    return 0;
}

/* Calls a tool, asserts return 0 and a JSON object; the caller deletes it. */
static cJSON *call(struct fixture *x, const char *name, const char *args)
{
    int r = local_tools_call(x->lt, name, args, x->out, sizeof(x->out));
    cJSON *j;

    assert_int_equal(r, 0);
    j = cJSON_Parse(x->out);
    assert_non_null(j);
    assert_true(cJSON_IsObject(j));
    return j;
}

static const char *str(cJSON *j, const char *k)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double num(cJSON *j, const char *k)
{
    cJSON *it = cJSON_GetObjectItemCaseSensitive(j, k);
    assert_true(cJSON_IsNumber(it));
    return it->valuedouble;
}

static void expect_error(struct fixture *x, const char *name, const char *args, const char *code)
{
    cJSON *j = call(x, name, args);
    const char *e = str(j, "error");
    if (!e || strcmp(e, code) != 0)
        fail_msg("%s(%.60s): expected error %s, got %s", name, args ? args : "NULL", code, x->out);
    assert_non_null(str(j, "message"));
    cJSON_Delete(j);
}

/* ---- schemas ------------------------------------------------------------------------ */

static void test_schemas(void **state)
{
    size_t n;
    const struct rt_tool *t = local_tools_defs(&n);
    static const char *const want[] = { "get_volume", "set_volume", "set_mute", "get_time",
                                        "get_device_status", "set_timer", "cancel_timer", "list_timers" };
    char *buf = malloc(16384);
    struct rt_conversation_cfg cc;
    int len;

    (void)state;
    assert_int_equal(n, 8);
    for (size_t i = 0; i < n; i++) {
        cJSON *p = cJSON_Parse(t[i].parameters_json), *props, *req;
        assert_string_equal(t[i].name, want[i]);
        assert_non_null(t[i].description);
        assert_true(strlen(t[i].description) > 20);
        assert_non_null(p);
        assert_string_equal(str(p, "type"), "object");
        props = cJSON_GetObjectItemCaseSensitive(p, "properties");
        assert_true(cJSON_IsObject(props));
        /* every required field is a declared property with a type */
        req = cJSON_GetObjectItemCaseSensitive(p, "required");
        for (cJSON *r = req ? req->child : NULL; r; r = r->next) {
            cJSON *pr = cJSON_GetObjectItemCaseSensitive(props, r->valuestring);
            assert_non_null(pr);
        }
        for (cJSON *pr = props->child; pr; pr = pr->next) {
            assert_non_null(str(pr, "type"));
            assert_non_null(str(pr, "description"));
        }
        cJSON_Delete(p);
    }

    /* In a session.update as rt_events builds it: type "function", name,
     * description and a parameters object for each, and the whole event fits
     * the 8 KiB buffer cloud_client uses with 512 bytes of instructions. */
    rt_conversation_cfg_defaults(&cc);
    char instr[513];
    memset(instr, 'x', 512);
    instr[512] = '\0';
    cc.instructions = instr;
    cc.tools = t;
    cc.n_tools = n;
    cc.tool_choice = "auto";
    len = rt_build_session_update(buf, 16384, &cc, NULL);
    assert_true(len > 0);
    print_message("session.update with tools and 512 B instructions: %d bytes\n", len);
    assert_true(len < 8192);
    cJSON *ev = cJSON_Parse(buf);
    assert_non_null(ev);
    cJSON *tools = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "session"), "tools");
    assert_int_equal(cJSON_GetArraySize(tools), (int)n);
    for (cJSON *it = tools->child; it; it = it->next) {
        assert_string_equal(str(it, "type"), "function");
        assert_non_null(str(it, "name"));
        assert_non_null(str(it, "description"));
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(it, "parameters")));
    }
    cJSON_Delete(ev);
    free(buf);
}

/* ---- handlers -------------------------------------------------------------------------- */

static void test_volume(void **state)
{
    struct fixture *x = *state;
    cJSON *j = call(x, "get_volume", "{}");
    assert_int_equal((int)num(j, "percent"), 40);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "muted")));
    cJSON_Delete(j);

    j = call(x, "set_volume", "{\"percent\": 75}");
    assert_int_equal((int)num(j, "percent"), 75);
    assert_int_equal((int)num(j, "previous_percent"), 40);
    assert_int_equal(x->f.volume, 75);
    cJSON_Delete(j);
    j = call(x, "set_volume", "{\"percent\": 0.0}");   /* a whole number written as a float */
    assert_int_equal(x->f.volume, 0);
    cJSON_Delete(j);
    j = call(x, "set_volume", "{\"percent\": 100, \"extra\": [1,2]}");  /* unknown fields ignored */
    assert_int_equal(x->f.volume, 100);
    cJSON_Delete(j);

    int calls = x->f.set_volume_calls;
    expect_error(x, "set_volume", "{\"percent\": 101}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": -1}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": 50.5}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": \"50\"}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": true}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": 1e300}", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": [50]}", "invalid_arguments");
    expect_error(x, "set_volume", "{}", "invalid_arguments");
    expect_error(x, "set_volume", "", "invalid_arguments");
    expect_error(x, "set_volume", NULL, "invalid_arguments");
    expect_error(x, "set_volume", "[50]", "invalid_arguments");
    expect_error(x, "set_volume", "50", "invalid_arguments");
    expect_error(x, "set_volume", "{\"percent\": 50", "invalid_arguments");
    expect_error(x, "set_volume", "null", "invalid_arguments");
    assert_int_equal(x->f.set_volume_calls, calls);    /* none reached the device */
    assert_int_equal(x->f.volume, 100);

    x->f.fail_set = 1;
    expect_error(x, "set_volume", "{\"percent\": 10}", "device_error");
    assert_int_equal(x->f.volume, 100);
}

static void test_mute(void **state)
{
    struct fixture *x = *state;
    cJSON *j = call(x, "set_mute", "{\"muted\": true}");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "muted")));
    assert_true(x->f.muted);
    cJSON_Delete(j);
    /* the model cannot unmute: privacy is the user's decision */
    expect_error(x, "set_mute", "{\"muted\": false}", "not_allowed");
    assert_true(x->f.muted);
    expect_error(x, "set_mute", "{\"muted\": 0}", "invalid_arguments");
    expect_error(x, "set_mute", "{\"muted\": \"false\"}", "invalid_arguments");
    expect_error(x, "set_mute", "{}", "invalid_arguments");
    assert_true(x->f.muted);

    /* configured to allow it */
    struct local_tools *lt2 = make(&x->f, true);
    assert_int_equal(local_tools_call(lt2, "set_mute", "{\"muted\": false}", x->out, sizeof(x->out)), 0);
    assert_false(x->f.muted);
    assert_null(strstr(x->out, "error"));
    local_tools_destroy(lt2);
}

static void test_time(void **state)
{
    struct fixture *x = *state;
    char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;
    cJSON *j;

    setenv("TZ", "UTC0", 1);
    tzset();
    j = call(x, "get_time", "{}");
    assert_string_equal(str(j, "time"), "15:15:09");
    assert_string_equal(str(j, "date"), "2024-03-07");
    assert_string_equal(str(j, "weekday"), "Thursday");
    assert_string_equal(str(j, "timezone"), "UTC");
    assert_string_equal(str(j, "utc_offset"), "+00:00");
    cJSON_Delete(j);

    /* a POSIX TZ string needs no zoneinfo files (qemu sysroots may lack them):
     * 5.5 h east, crossing midnight */
    setenv("TZ", "IST-5:30", 1);
    tzset();
    x->f.wall = 1709824509 + 9 * 3600;   /* 00:15:09 UTC on Friday 8th */
    j = call(x, "get_time", NULL);
    assert_string_equal(str(j, "time"), "05:45:09");
    assert_string_equal(str(j, "date"), "2024-03-08");
    assert_string_equal(str(j, "weekday"), "Friday");
    assert_string_equal(str(j, "timezone"), "IST");
    assert_string_equal(str(j, "utc_offset"), "+05:30");
    cJSON_Delete(j);
    expect_error(x, "get_time", "\"now\"", "invalid_arguments");

    if (old) {
        setenv("TZ", old, 1);
        free(old);
    } else {
        unsetenv("TZ");
    }
    tzset();
}

static void test_status(void **state)
{
    struct fixture *x = *state;
    cJSON *j;

    j = call(x, "set_timer", "{\"duration_s\": 60}");
    cJSON_Delete(j);
    j = call(x, "get_device_status", "{}");
    assert_string_equal(str(j, "state"), "speaking");
    assert_string_equal(str(j, "connection"), "connected");
    assert_int_equal((int)num(j, "uptime_s"), 4242);
    assert_int_equal((int)num(j, "volume_percent"), 40);
    assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "microphone_muted")));
    assert_int_equal((int)num(j, "timers_running"), 1);
    assert_int_equal((int)num(j, "talker_direction_deg"), 90);
    assert_string_equal(str(j, "board"), "sim4");
    assert_non_null(str(j, "version"));
    cJSON_Delete(j);
}

static void test_hostile(void **state)
{
    struct fixture *x = *state;
    size_t big = 1 << 20;
    char *s = malloc(big + 64);
    char small[16];

    /* 1 MB of arguments: refused before parsing */
    memset(s, ' ', big);
    memcpy(s, "{\"duration_s\": 5, \"label\": \"", 28);
    memset(s + 28, 'a', big - 28);
    strcpy(s + big, "\"}");
    expect_error(x, "set_timer", s, "invalid_arguments");
    /* a 41-byte label, and one with a control character: refused, not cut */
    expect_error(x, "set_timer", "{\"duration_s\": 5, \"label\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
                 "invalid_arguments");
    expect_error(x, "set_timer", "{\"duration_s\": 5, \"label\": \"a\\u0007b\"}", "invalid_arguments");
    expect_error(x, "set_timer", "{\"duration_s\": 5, \"label\": 7}", "invalid_arguments");
    /* deep nesting */
    memset(s, '[', 5000);
    s[5000] = '\0';
    expect_error(x, "list_timers", s, "invalid_arguments");
    free(s);
    assert_true(local_tools_next_due_ms(x->lt) == UINT64_MAX);   /* no timer was set */

    /* unknown tool, NULLs, a buffer too small for the answer */
    assert_int_equal(local_tools_call(x->lt, "format_disk", "{}", x->out, sizeof(x->out)), -ENOENT);
    assert_int_equal(local_tools_call(x->lt, NULL, "{}", x->out, sizeof(x->out)), -EINVAL);
    assert_int_equal(local_tools_call(x->lt, "get_time", "{}", NULL, 10), -EINVAL);
    assert_int_equal(local_tools_call(x->lt, "get_device_status", "{}", small, sizeof(small)), -ENOBUFS);
    assert_int_equal(small[0], '\0');
    assert_int_equal(local_tools_rt_call(x->lt, "get_volume", "{}", x->out, sizeof(x->out)), 0);

    /* a registry missing a callback is refused */
    struct local_tools_cfg bad = { .ops = { .get_volume = f_get_volume } };
    char err[128];
    assert_null(local_tools_create(&bad, err, sizeof(err)));
    assert_non_null(strstr(err, "missing"));
}

/* ---- timers ---------------------------------------------------------------------------- */

static void test_timers(void **state)
{
    struct fixture *x = *state;
    struct local_timer_info fired[LOCAL_TOOLS_MAX_TIMERS];
    uint64_t t0 = x->f.now;
    cJSON *j, *arr;

    j = call(x, "set_timer", "{\"duration_s\": 600, \"label\": \"pasta\"}");
    assert_int_equal((int)num(j, "id"), 1);
    assert_string_equal(str(j, "label"), "pasta");
    assert_int_equal((int)num(j, "remaining_s"), 600);
    cJSON_Delete(j);
    j = call(x, "set_timer", "{\"duration_s\": 90}");
    assert_int_equal((int)num(j, "id"), 2);
    assert_string_equal(str(j, "label"), "");
    cJSON_Delete(j);
    j = call(x, "set_timer", "{\"duration_s\": 3600, \"label\": \"Tea\"}");
    cJSON_Delete(j);
    expect_error(x, "set_timer", "{\"duration_s\": 5, \"label\": \"PASTA\"}", "duplicate_label");
    expect_error(x, "set_timer", "{\"duration_s\": 0}", "invalid_arguments");
    expect_error(x, "set_timer", "{\"duration_s\": 86401}", "invalid_arguments");
    expect_error(x, "set_timer", "{\"label\": \"x\"}", "invalid_arguments");
    assert_int_equal(local_tools_next_due_ms(x->lt), t0 + 90000);

    /* list: soonest first, remaining rounded up */
    x->f.now = t0 + 30500;
    j = call(x, "list_timers", "{}");
    arr = cJSON_GetObjectItem(j, "timers");
    assert_int_equal(cJSON_GetArraySize(arr), 3);
    assert_int_equal((int)num(cJSON_GetArrayItem(arr, 0), "id"), 2);
    assert_int_equal((int)num(cJSON_GetArrayItem(arr, 0), "remaining_s"), 60);
    assert_int_equal((int)num(cJSON_GetArrayItem(arr, 1), "remaining_s"), 570);
    assert_string_equal(str(cJSON_GetArrayItem(arr, 2), "label"), "Tea");
    cJSON_Delete(j);

    /* expiry at exactly the due time, not 1 ms before */
    assert_int_equal(local_tools_poll(x->lt, t0 + 89999, fired, 8), 0);
    assert_int_equal(local_tools_poll(x->lt, t0 + 90000, fired, 8), 1);
    assert_int_equal(fired[0].id, 2);
    assert_int_equal(fired[0].duration_s, 90);
    assert_int_equal(local_tools_poll(x->lt, t0 + 90000, fired, 8), 0);   /* reported once */

    /* cancel by label (case-insensitive), by id, unknown */
    j = call(x, "cancel_timer", "{\"label\": \"tea\"}");
    assert_int_equal((int)num(cJSON_GetObjectItem(j, "cancelled"), "id"), 3);
    cJSON_Delete(j);
    expect_error(x, "cancel_timer", "{\"label\": \"tea\"}", "no_such_timer");
    expect_error(x, "cancel_timer", "{\"id\": 2}", "no_such_timer");      /* already fired */
    expect_error(x, "cancel_timer", "{\"id\": 1, \"label\": \"tea\"}", "no_such_timer");
    expect_error(x, "cancel_timer", "{}", "invalid_arguments");
    expect_error(x, "cancel_timer", "{\"id\": \"1\"}", "invalid_arguments");
    expect_error(x, "cancel_timer", "{\"id\": -3}", "invalid_arguments");
    j = call(x, "cancel_timer", "{\"id\": 1}");
    assert_string_equal(str(cJSON_GetObjectItem(j, "cancelled"), "label"), "pasta");
    assert_int_equal((int)num(cJSON_GetObjectItem(j, "cancelled"), "remaining_s"), 570);
    cJSON_Delete(j);
    assert_int_equal(local_tools_next_due_ms(x->lt), UINT64_MAX);
    assert_int_equal(local_tools_poll(x->lt, t0 + 10000000, fired, 8), 0);

    /* the table: 8 timers, the 9th refused; several due together fire in
     * due order, at most `max` per poll */
    for (int i = 0; i < LOCAL_TOOLS_MAX_TIMERS; i++) {
        char a[64];
        snprintf(a, sizeof(a), "{\"duration_s\": %d}", 80 - 10 * i);
        cJSON_Delete(call(x, "set_timer", a));
    }
    expect_error(x, "set_timer", "{\"duration_s\": 5}", "too_many_timers");
    x->f.now += 100000;
    assert_int_equal(local_tools_poll(x->lt, x->f.now, fired, 3), 3);
    assert_int_equal(fired[0].duration_s, 10);
    assert_int_equal(fired[1].duration_s, 20);
    assert_int_equal(fired[2].duration_s, 30);
    assert_int_equal(local_tools_poll(x->lt, x->f.now, fired, 8), 5);
    assert_int_equal(fired[4].duration_s, 80);
    /* ids keep counting: never reused while the model may still hold one */
    j = call(x, "set_timer", "{\"duration_s\": 5}");
    assert_int_equal((int)num(j, "id"), 12);
    cJSON_Delete(j);
    local_tools_cancel_all(x->lt);
    assert_int_equal(local_tools_timers(x->lt, fired, 8), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schemas),
        cmocka_unit_test_setup_teardown(test_volume, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
