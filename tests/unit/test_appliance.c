/*
 * test_appliance.c - the appliance state machine, event by event: every
 * effect (gate, end of turn, interrupt, earcons) is recorded in order and
 * compared with what a user of the device must get.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "appliance.h"

static char trace[4096];

static void add(const char *fmt, ...)
{
    size_t n = strlen(trace);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(trace + n, sizeof(trace) - n, fmt, ap);
    va_end(ap);
}

static void op_gate(void *c, bool open) { (void)c; add("gate:%s ", open ? "open" : "closed"); }
static void op_end_turn(void *c) { (void)c; add("end-turn "); }
static void op_interrupt(void *c) { (void)c; add("interrupt "); }
static void op_cancel(void *c) { (void)c; add("clear "); }
static void op_earcon(void *c, const char *n) { (void)c; add("earcon:%s ", n); }
static void op_state(void *c, enum app_state f, enum app_state t, const char *why)
{
    (void)c; (void)f; (void)why;
    add("[%s] ", app_state_name(t));
}

static const struct app_ops ops = { op_gate, op_end_turn, op_interrupt, op_cancel, op_earcon, op_state, NULL };

static struct app_cfg cfg_default(void)
{
    struct app_cfg c = {
        .button_mode = APP_BUTTON_TAP, .long_press = APP_GESTURE_MUTE, .double_press = APP_GESTURE_NONE,
        .voice_barge_in = true, .local_turns = true, .listen_timeout_ms = 5000, .turn_max_ms = 30000,
        .answer_timeout_ms = 15000, .followup_ms = 4000, .cloud_required = true, .expect_answer = true,
    };
    return c;
}

static struct appliance *make(struct app_cfg c, bool cloud)
{
    trace[0] = '\0';
    return app_create(&c, &ops, 0, cloud);
}

#define EXPECT(a, s) do { assert_string_equal(trace, s); trace[0] = '\0'; } while (0)

static void test_wake_word_turn_answer_followup(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    assert_int_equal(app_get_state(a), APP_IDLE);
    app_event(a, AEV_SPEECH_START, 100);          /* idle: speech alone wakes nothing */
    app_event(a, AEV_SPEECH_END, 900);
    EXPECT(a, "");
    app_event(a, AEV_WAKE_WORD, 1000);
    EXPECT(a, "gate:open earcon:wake [listening] ");
    assert_int_equal(app_next_deadline(a), 6000);
    app_event(a, AEV_SPEECH_START, 1200);
    assert_int_equal(app_next_deadline(a), 31200);
    app_event(a, AEV_SPEECH_END, 2500);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_event(a, AEV_WAKE_WORD, 2600);             /* ignored while thinking */
    app_event(a, AEV_ANSWER_STARTED, 3000);
    EXPECT(a, "[speaking] ");
    app_event(a, AEV_ANSWER_DONE, 6000);
    EXPECT(a, "[followup] ");
    app_event(a, AEV_SPEECH_START, 7000);          /* follow-up: no wake word, no chime */
    EXPECT(a, "gate:open [listening] ");
    app_event(a, AEV_SPEECH_END, 8000);
    app_event(a, AEV_ANSWER_STARTED, 8500);
    app_event(a, AEV_ANSWER_DONE, 9000);
    trace[0] = '\0';
    app_tick(a, 12999);
    EXPECT(a, "");
    app_tick(a, 13000);
    EXPECT(a, "[idle] ");
    struct app_counters n;
    app_get_counters(a, &n);
    assert_int_equal(n.wakes, 2);
    assert_int_equal(n.turns, 2);
    assert_int_equal(n.answers, 2);
    app_destroy(a);
}

static void test_button_barge_in_tap_mode(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    app_event(a, AEV_BUTTON_PRESS, 0);              /* tap mode: press alone does nothing in idle */
    app_event(a, AEV_BUTTON_RELEASE, 100);
    EXPECT(a, "");
    app_event(a, AEV_BUTTON_TAP, 100);
    EXPECT(a, "gate:open earcon:wake [listening] ");
    app_event(a, AEV_BUTTON_PRESS, 1500);
    app_event(a, AEV_BUTTON_RELEASE, 1600);
    app_event(a, AEV_BUTTON_TAP, 1600);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_event(a, AEV_ANSWER_STARTED, 2000);
    trace[0] = '\0';
    /* Press while speaking: interrupt at the press, not at the release. */
    app_event(a, AEV_BUTTON_PRESS, 3000);
    EXPECT(a, "interrupt gate:open earcon:wake [listening] ");
    /* Its release and tap must not end the new turn at once. */
    app_event(a, AEV_BUTTON_RELEASE, 3080);
    app_event(a, AEV_BUTTON_TAP, 3080);
    EXPECT(a, "");
    assert_int_equal(app_get_state(a), APP_LISTENING);
    app_event(a, AEV_SPEECH_START, 3300);
    app_event(a, AEV_SPEECH_END, 4000);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    struct app_counters n;
    app_get_counters(a, &n);
    assert_int_equal(n.barge_ins_button, 1);
    app_destroy(a);
}

static void test_push_to_talk(void **state)
{
    struct app_cfg c = cfg_default();
    c.button_mode = APP_BUTTON_PUSH;
    struct appliance *a = make(c, true);
    (void)state;
    app_event(a, AEV_BUTTON_PRESS, 0);
    EXPECT(a, "gate:open earcon:wake [listening] ");
    app_event(a, AEV_SPEECH_START, 200);
    app_event(a, AEV_SPEECH_END, 900);             /* a pause while held: the turn goes on */
    EXPECT(a, "");
    app_event(a, AEV_BUTTON_RELEASE, 2000);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_event(a, AEV_ANSWER_STARTED, 2500);
    trace[0] = '\0';
    app_event(a, AEV_BUTTON_PRESS, 3000);           /* barge-in and talk */
    EXPECT(a, "interrupt gate:open earcon:wake [listening] ");
    app_event(a, AEV_BUTTON_RELEASE, 4000);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_destroy(a);
}

static void test_voice_barge_in_and_its_switch(void **state)
{
    struct app_cfg c = cfg_default();
    struct appliance *a = make(c, true);
    (void)state;
    app_event(a, AEV_CTRL_WAKE, 0);
    app_event(a, AEV_CTRL_END_TURN, 500);
    app_event(a, AEV_ANSWER_STARTED, 800);
    trace[0] = '\0';
    app_event(a, AEV_BARGE_IN, 1000);
    /* Voice barge-in: no chime (the user is already talking), the turn has speech. */
    EXPECT(a, "interrupt gate:open [listening] ");
    assert_int_equal(app_next_deadline(a), 31000);
    app_destroy(a);

    c.voice_barge_in = false;
    a = make(c, true);
    app_event(a, AEV_CTRL_WAKE, 0);
    app_event(a, AEV_CTRL_END_TURN, 500);
    app_event(a, AEV_ANSWER_STARTED, 800);
    trace[0] = '\0';
    app_event(a, AEV_BARGE_IN, 1000);
    EXPECT(a, "");
    assert_int_equal(app_get_state(a), APP_SPEAKING);
    app_destroy(a);
}

static void test_timeouts(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    app_event(a, AEV_WAKE_WORD, 0);
    trace[0] = '\0';
    app_tick(a, 4999);
    EXPECT(a, "");
    app_tick(a, 5000);                              /* woke, said nothing */
    EXPECT(a, "gate:closed clear [idle] ");
    app_event(a, AEV_WAKE_WORD, 6000);
    app_event(a, AEV_SPEECH_START, 6100);
    trace[0] = '\0';
    app_tick(a, 36100);                             /* talked for 30 s */
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_tick(a, 51100);                             /* no answer within 15 s */
    EXPECT(a, "earcon:error interrupt [idle] ");
    app_destroy(a);
}

static void test_mute_blocks_everything(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    app_event(a, AEV_WAKE_WORD, 0);
    trace[0] = '\0';
    app_event(a, AEV_BUTTON_PRESS, 100);
    app_event(a, AEV_BUTTON_RELEASE, 1000);
    app_event(a, AEV_BUTTON_LONG, 1000);            /* long press = mute */
    EXPECT(a, "gate:closed clear [muted] ");     /* the unfinished turn is dropped */
    app_event(a, AEV_WAKE_WORD, 2000);
    app_event(a, AEV_CTRL_WAKE, 2100);
    app_event(a, AEV_BUTTON_TAP, 2200);
    app_event(a, AEV_SPEECH_START, 2300);
    EXPECT(a, "");
    app_event(a, AEV_BUTTON_LONG, 3000);
    EXPECT(a, "[idle] ");
    app_event(a, AEV_CTRL_WAKE, 3100);
    app_event(a, AEV_CTRL_END_TURN, 3200);
    app_event(a, AEV_ANSWER_STARTED, 3300);
    trace[0] = '\0';
    app_event(a, AEV_MUTE, 3400);                   /* mute while speaking stops the answer */
    EXPECT(a, "interrupt gate:closed [muted] ");
    app_event(a, AEV_UNMUTE, 3500);
    EXPECT(a, "[idle] ");
    app_destroy(a);
}

static void test_offline(void **state)
{
    struct appliance *a = make(cfg_default(), false);
    (void)state;
    assert_int_equal(app_get_state(a), APP_OFFLINE);
    app_event(a, AEV_WAKE_WORD, 0);                 /* the notice, never the gate */
    EXPECT(a, "earcon:offline ");
    app_event(a, AEV_CLOUD_UP, 100);
    EXPECT(a, "[idle] ");
    app_event(a, AEV_WAKE_WORD, 200);
    app_event(a, AEV_CTRL_END_TURN, 300);
    trace[0] = '\0';
    app_event(a, AEV_CLOUD_DOWN, 400);              /* lost while thinking */
    EXPECT(a, "gate:closed interrupt earcon:offline [offline] ");
    struct app_counters n;
    app_get_counters(a, &n);
    assert_int_equal(n.offline_notices, 2);
    app_destroy(a);
}

static void test_captions_turns_need_no_answer(void **state)
{
    struct app_cfg c = cfg_default();
    c.expect_answer = false;
    struct appliance *a = make(c, true);
    (void)state;
    app_event(a, AEV_CTRL_WAKE, 0);
    app_event(a, AEV_CTRL_END_TURN, 500);
    EXPECT(a, "gate:open earcon:wake [listening] gate:closed end-turn earcon:end_of_turn [idle] ");
    app_tick(a, 60000);
    EXPECT(a, "");
    app_destroy(a);
}

static void test_push_mode_long_hold_is_talk_not_mute(void **state)
{
    struct app_cfg c = cfg_default();
    c.button_mode = APP_BUTTON_PUSH;
    struct appliance *a = make(c, true);
    (void)state;
    app_event(a, AEV_BUTTON_PRESS, 0);
    app_event(a, AEV_BUTTON_LONG, 800);             /* still holding: talking */
    EXPECT(a, "gate:open earcon:wake [listening] ");
    app_event(a, AEV_BUTTON_RELEASE, 3000);
    EXPECT(a, "gate:closed end-turn earcon:end_of_turn [thinking] ");
    app_destroy(a);
}

static void test_mute_while_listening_clears_the_turn(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    app_event(a, AEV_CTRL_WAKE, 0);
    trace[0] = '\0';
    app_event(a, AEV_MUTE, 500);
    EXPECT(a, "gate:closed clear [muted] ");
    app_destroy(a);
}

static void test_server_turns(void **state)
{
    struct app_cfg c = cfg_default();
    c.local_turns = false;
    struct appliance *a = make(c, true);
    (void)state;
    app_event(a, AEV_WAKE_WORD, 0);
    app_event(a, AEV_SPEECH_END, 1500);             /* local VAD does not end the turn */
    EXPECT(a, "gate:open earcon:wake [listening] ");
    app_event(a, AEV_ANSWER_STARTED, 2000);         /* the service did */
    EXPECT(a, "[speaking] ");
    app_event(a, AEV_ANSWER_DONE, 4000);
    EXPECT(a, "[listening] ");
    app_tick(a, 4000 + 5000);                       /* quiet after the answer */
    EXPECT(a, "gate:closed clear [idle] ");
    app_destroy(a);
}

static void test_device_error_and_sleep(void **state)
{
    struct appliance *a = make(cfg_default(), true);
    (void)state;
    app_event(a, AEV_CTRL_WAKE, 0);
    trace[0] = '\0';
    app_event(a, AEV_CTRL_SLEEP, 100);
    EXPECT(a, "gate:closed clear [idle] ");
    app_event(a, AEV_DEVICE_ERROR, 200);
    EXPECT(a, "gate:closed [error] ");
    app_event(a, AEV_WAKE_WORD, 300);
    EXPECT(a, "");
    app_event(a, AEV_DEVICE_OK, 400);
    EXPECT(a, "[idle] ");
    app_destroy(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wake_word_turn_answer_followup),
        cmocka_unit_test(test_button_barge_in_tap_mode),
        cmocka_unit_test(test_push_to_talk),
        cmocka_unit_test(test_voice_barge_in_and_its_switch),
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_mute_blocks_everything),
        cmocka_unit_test(test_offline),
        cmocka_unit_test(test_captions_turns_need_no_answer),
        cmocka_unit_test(test_push_mode_long_hold_is_talk_not_mute),
        cmocka_unit_test(test_mute_while_listening_clears_the_turn),
        cmocka_unit_test(test_server_turns),
        cmocka_unit_test(test_device_error_and_sleep),
    };
    return cmocka_run_group_tests_name("appliance", tests, NULL, NULL);
}
