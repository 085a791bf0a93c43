/*
 * appliance.c - the appliance's state machine (see appliance.h).
 *
 * One function per state handles the events that state cares about;
 * events a state does not list are ignored on purpose (a wake word while
 * thinking, a tap while muted). Mute, cloud loss and device errors are
 * handled first, for every state.
 */
#include "appliance.h"

#include <stdlib.h>

#define NO_DEADLINE UINT64_MAX

struct appliance {
    struct app_cfg cfg;
    struct app_ops ops;
    enum app_state state;
    uint64_t deadline;          /* of the current state's timer */
    bool cloud_up;
    bool heard_speech;          /* listening: the user has started talking */
    bool swallow_gesture;       /* the press that barged in must not also end the new turn */
    bool held;                  /* the button is down */
    struct app_counters n;
};

static const char *const event_names[AEV__COUNT] = {
    "wake-word", "button-press", "button-release", "button-tap", "button-long", "button-double",
    "ctrl-wake", "ctrl-sleep", "ctrl-end-turn", "ctrl-interrupt", "mute", "unmute",
    "speech-start", "speech-end", "barge-in", "answer-started", "answer-done",
    "cloud-up", "cloud-down", "device-error", "device-ok",
};

const char *app_event_name(enum app_event ev)
{
    return (unsigned)ev < AEV__COUNT ? event_names[ev] : "?";
}

static void set_state(struct appliance *a, enum app_state to, uint64_t deadline, const char *why)
{
    enum app_state from = a->state;

    a->state = to;
    a->deadline = deadline;
    if (from != to && a->ops.state_changed)
        a->ops.state_changed(a->ops.ctx, from, to, why);
}

static void gate(struct appliance *a, bool open)
{
    if (a->ops.gate)
        a->ops.gate(a->ops.ctx, open);
}

static void earcon(struct appliance *a, const char *name)
{
    if (a->ops.earcon)
        a->ops.earcon(a->ops.ctx, name);
}

static void interrupt(struct appliance *a)
{
    if (a->ops.interrupt)
        a->ops.interrupt(a->ops.ctx);
}

static bool cloud_ok(const struct appliance *a)
{
    return a->cloud_up || !a->cfg.cloud_required;
}

static uint64_t after(uint64_t now, unsigned ms)
{
    return ms ? now + ms : NO_DEADLINE;
}

/* Opens a turn: the gate opens (the pre-roll goes first), the chime plays. */
static void start_turn(struct appliance *a, uint64_t now, bool chime, bool speaking_already, const char *why)
{
    if (!cloud_ok(a)) {
        earcon(a, "offline");
        a->n.offline_notices++;
        set_state(a, APP_OFFLINE, NO_DEADLINE, "wake while offline");
        return;
    }
    a->n.wakes++;
    a->heard_speech = speaking_already;
    gate(a, true);
    if (chime)
        earcon(a, "wake");
    set_state(a, APP_LISTENING, after(now, speaking_already ? a->cfg.turn_max_ms : a->cfg.listen_timeout_ms),
              why);
}

static void end_turn(struct appliance *a, uint64_t now, const char *why)
{
    gate(a, false);
    a->n.turns++;
    if (a->ops.end_turn)
        a->ops.end_turn(a->ops.ctx);
    earcon(a, "end_of_turn");
    if (a->cfg.expect_answer)
        set_state(a, APP_THINKING, after(now, a->cfg.answer_timeout_ms), why);
    else
        set_state(a, APP_IDLE, NO_DEADLINE, why);
}

static void drop_turn(struct appliance *a, const char *why)
{
    gate(a, false);
    if (a->ops.cancel_turn)
        a->ops.cancel_turn(a->ops.ctx);
    set_state(a, APP_IDLE, NO_DEADLINE, why);
}

/* Stops the answer at once and hands the floor back to the user. */
static void barge_in(struct appliance *a, uint64_t now, bool by_voice, const char *why)
{
    interrupt(a);
    if (by_voice)
        a->n.barge_ins_voice++;
    else
        a->n.barge_ins_button++;
    start_turn(a, now, !by_voice, by_voice, why);
}

static bool gesture_is(const struct appliance *a, enum app_event ev, enum app_gesture_action act)
{
    return (ev == AEV_BUTTON_LONG && a->cfg.long_press == act) ||
           (ev == AEV_BUTTON_DOUBLE && a->cfg.double_press == act);
}

/* Tap mode: a tap starts or ends a turn. Push mode: press starts, release ends. */
static bool is_talk_start(const struct appliance *a, enum app_event ev)
{
    return ev == AEV_WAKE_WORD || ev == AEV_CTRL_WAKE ||
           (a->cfg.button_mode == APP_BUTTON_TAP && ev == AEV_BUTTON_TAP) ||
           (a->cfg.button_mode == APP_BUTTON_PUSH && ev == AEV_BUTTON_PRESS);
}

static void on_idle(struct appliance *a, enum app_event ev, uint64_t now)
{
    if (is_talk_start(a, ev))
        start_turn(a, now, true, false, app_event_name(ev));
}

static void on_listening(struct appliance *a, enum app_event ev, uint64_t now)
{
    switch (ev) {
    case AEV_SPEECH_START:
        if (!a->heard_speech) {
            a->heard_speech = true;
            a->deadline = after(now, a->cfg.turn_max_ms);
        }
        break;
    case AEV_SPEECH_END:
        /* Push-to-talk: the turn lasts as long as the button is held. */
        if (a->cfg.local_turns && a->heard_speech && !(a->cfg.button_mode == APP_BUTTON_PUSH && a->held))
            end_turn(a, now, "end of speech");
        break;
    case AEV_BUTTON_TAP:
        if (a->cfg.button_mode == APP_BUTTON_TAP)
            end_turn(a, now, "button tap");
        break;
    case AEV_BUTTON_RELEASE:
        if (a->cfg.button_mode == APP_BUTTON_PUSH)
            end_turn(a, now, "button released");
        break;
    case AEV_CTRL_END_TURN:
        end_turn(a, now, "harkctl end-turn");
        break;
    case AEV_CTRL_SLEEP:
        drop_turn(a, "harkctl sleep");
        break;
    case AEV_ANSWER_STARTED:
        /* Server-side turn detection: the service ended the turn and
         * answers. The gate stays open (full duplex: the service hears a
         * barge-in itself). */
        if (!a->cfg.local_turns) {
            a->n.turns++;
            set_state(a, APP_SPEAKING, NO_DEADLINE, "answer (server turn detection)");
        }
        break;
    default:
        break;
    }
}

static void on_thinking(struct appliance *a, enum app_event ev, uint64_t now)
{
    switch (ev) {
    case AEV_ANSWER_STARTED:
        set_state(a, APP_SPEAKING, NO_DEADLINE, "answer audio");
        break;
    case AEV_ANSWER_DONE:            /* an answer without audio (e.g. only a tool call) */
        a->n.answers++;
        set_state(a, APP_FOLLOWUP, after(now, a->cfg.followup_ms), "answer without audio");
        break;
    case AEV_BUTTON_PRESS:
        barge_in(a, now, false, "button press while thinking");
        break;
    case AEV_CTRL_INTERRUPT:
    case AEV_CTRL_SLEEP:
        interrupt(a);
        set_state(a, APP_IDLE, NO_DEADLINE, app_event_name(ev));
        break;
    default:
        break;
    }
}

static void on_speaking(struct appliance *a, enum app_event ev, uint64_t now)
{
    switch (ev) {
    case AEV_BUTTON_PRESS:
        barge_in(a, now, false, "button barge-in");
        break;
    case AEV_BARGE_IN:
        if (a->cfg.voice_barge_in)
            barge_in(a, now, true, "voice barge-in");
        break;
    case AEV_WAKE_WORD:
        barge_in(a, now, true, "wake word barge-in");
        break;
    case AEV_CTRL_INTERRUPT:
    case AEV_CTRL_SLEEP:
        interrupt(a);
        set_state(a, APP_IDLE, NO_DEADLINE, app_event_name(ev));
        break;
    case AEV_ANSWER_DONE:
        a->n.answers++;
        if (!a->cfg.local_turns) {        /* server turns: keep listening, gate open */
            a->heard_speech = false;
            set_state(a, APP_LISTENING, after(now, a->cfg.listen_timeout_ms), "answer played; listening on");
        } else {
            set_state(a, APP_FOLLOWUP, after(now, a->cfg.followup_ms), "answer played");
        }
        break;
    default:
        break;
    }
}

static void on_followup(struct appliance *a, enum app_event ev, uint64_t now)
{
    if (ev == AEV_SPEECH_START)
        start_turn(a, now, false, true, "follow-up speech");
    else if (is_talk_start(a, ev))
        start_turn(a, now, true, false, app_event_name(ev));
    else if (ev == AEV_CTRL_SLEEP)
        set_state(a, APP_IDLE, NO_DEADLINE, "harkctl sleep");
}

static void enter_mute(struct appliance *a, const char *why)
{
    if (a->state == APP_SPEAKING || a->state == APP_THINKING)
        interrupt(a);
    gate(a, false);
    /* What the service already has of an unfinished turn is dropped too. */
    if (a->state == APP_LISTENING && a->ops.cancel_turn)
        a->ops.cancel_turn(a->ops.ctx);
    set_state(a, APP_MUTED, NO_DEADLINE, why);
}

static void leave_mute(struct appliance *a, const char *why)
{
    set_state(a, cloud_ok(a) ? APP_IDLE : APP_OFFLINE, NO_DEADLINE, why);
}

struct appliance *app_create(const struct app_cfg *cfg, const struct app_ops *ops, uint64_t now_ms,
                             bool cloud_up)
{
    struct appliance *a = calloc(1, sizeof(*a));

    (void)now_ms;
    if (!a)
        return NULL;
    a->cfg = *cfg;
    if (ops)
        a->ops = *ops;
    a->cloud_up = cloud_up;
    a->deadline = NO_DEADLINE;
    a->state = cloud_ok(a) ? APP_IDLE : APP_OFFLINE;
    return a;
}

void app_destroy(struct appliance *a)
{
    free(a);
}

void app_event(struct appliance *a, enum app_event ev, uint64_t now)
{
    bool active = a->state == APP_LISTENING || a->state == APP_THINKING || a->state == APP_SPEAKING;

    /* A press that barged in owns its gesture: the tap/long/double that
     * its release produces must not end the turn it just opened. */
    if (a->swallow_gesture && (ev == AEV_BUTTON_TAP || ev == AEV_BUTTON_LONG || ev == AEV_BUTTON_DOUBLE ||
                               (ev == AEV_BUTTON_RELEASE && a->cfg.button_mode == APP_BUTTON_TAP))) {
        if (ev != AEV_BUTTON_RELEASE)
            a->swallow_gesture = false;
        return;
    }
    if (ev == AEV_BUTTON_PRESS || ev == AEV_BUTTON_RELEASE)
        a->held = ev == AEV_BUTTON_PRESS;
    if (ev == AEV_BUTTON_PRESS)
        a->swallow_gesture = a->cfg.button_mode == APP_BUTTON_TAP &&
                             (a->state == APP_SPEAKING || a->state == APP_THINKING);

    /* Global events first. */
    switch (ev) {
    case AEV_DEVICE_ERROR:
        if (active)
            interrupt(a);
        gate(a, false);
        set_state(a, APP_ERROR, NO_DEADLINE, "audio device failed");
        return;
    case AEV_DEVICE_OK:
        if (a->state == APP_ERROR)
            set_state(a, cloud_ok(a) ? APP_IDLE : APP_OFFLINE, NO_DEADLINE, "audio device back");
        return;
    case AEV_CLOUD_UP:
        a->cloud_up = true;
        if (a->state == APP_OFFLINE)
            set_state(a, APP_IDLE, NO_DEADLINE, "cloud connected");
        return;
    case AEV_CLOUD_DOWN:
        a->cloud_up = false;
        if (!a->cfg.cloud_required)
            return;
        if (active) {
            gate(a, false);
            if (a->state != APP_LISTENING)
                interrupt(a);
            earcon(a, "offline");
            a->n.offline_notices++;
        }
        if (a->state != APP_MUTED && a->state != APP_ERROR)
            set_state(a, APP_OFFLINE, NO_DEADLINE, "cloud lost");
        return;
    case AEV_MUTE:
        if (a->state != APP_MUTED)
            enter_mute(a, "mute");
        return;
    case AEV_UNMUTE:
        if (a->state == APP_MUTED)
            leave_mute(a, "unmute");
        return;
    default:
        break;
    }
    /* Push-to-talk: holding the button is talking, not a long press. */
    if (ev == AEV_BUTTON_LONG && a->cfg.button_mode == APP_BUTTON_PUSH && a->state != APP_IDLE &&
        a->state != APP_MUTED)
        return;
    if (gesture_is(a, ev, APP_GESTURE_MUTE)) {
        if (a->state == APP_MUTED)
            leave_mute(a, app_event_name(ev));
        else
            enter_mute(a, app_event_name(ev));
        return;
    }
    if (gesture_is(a, ev, APP_GESTURE_CANCEL)) {
        if (a->state == APP_LISTENING)
            drop_turn(a, "cancelled by the button");
        else if (a->state == APP_THINKING || a->state == APP_SPEAKING) {
            interrupt(a);
            set_state(a, APP_IDLE, NO_DEADLINE, "cancelled by the button");
        }
        return;
    }

    switch (a->state) {
    case APP_IDLE: on_idle(a, ev, now); break;
    case APP_LISTENING: on_listening(a, ev, now); break;
    case APP_THINKING: on_thinking(a, ev, now); break;
    case APP_SPEAKING: on_speaking(a, ev, now); break;
    case APP_FOLLOWUP: on_followup(a, ev, now); break;
    case APP_OFFLINE:
        if (is_talk_start(a, ev)) {
            earcon(a, "offline");
            a->n.offline_notices++;
        }
        break;
    case APP_MUTED:
    case APP_ERROR:
    default:
        break;
    }
}

uint64_t app_next_deadline(const struct appliance *a)
{
    return a->deadline;
}

void app_tick(struct appliance *a, uint64_t now)
{
    if (a->deadline == NO_DEADLINE || now < a->deadline)
        return;
    switch (a->state) {
    case APP_LISTENING:
        a->n.timeouts++;
        if (a->heard_speech)
            end_turn(a, now, "turn too long");
        else
            drop_turn(a, "no speech after wake");
        break;
    case APP_THINKING:
        a->n.timeouts++;
        earcon(a, "error");
        interrupt(a);
        set_state(a, APP_IDLE, NO_DEADLINE, "no answer in time");
        break;
    case APP_FOLLOWUP:
        set_state(a, APP_IDLE, NO_DEADLINE, "follow-up window over");
        break;
    default:
        a->deadline = NO_DEADLINE;
        break;
    }
}

enum app_state app_get_state(const struct appliance *a)
{
    return a->state;
}

bool app_cloud_up(const struct appliance *a)
{
    return a->cloud_up;
}

void app_get_counters(const struct appliance *a, struct app_counters *out)
{
    *out = a->n;
}
