/*
 * appliance.h - the appliance's state machine: which state the device is
 * in (src/app_state.h), and what to do when something happens.
 *
 *   idle --wake word / button / harkctl wake--> listening (gate open: the
 *     pre-roll and live audio stream to the cloud)
 *   listening --end of speech (local VAD), button, end-turn--> thinking
 *     (gate closed, commit + response requested)
 *   thinking --answer audio starts--> speaking (still listening locally)
 *   speaking --button press / voice barge-in--> listening (playback flushed,
 *     response cancelled and truncated), or --answer played--> followup
 *   followup --speech--> listening; --timeout--> idle
 *   any --mute--> muted (nothing analysed or sent) --unmute--> idle
 *   cloud lost --> offline (notice once); cloud back --> idle
 *
 * The machine is pure logic: events carry the time in ms, effects go out
 * through callbacks (struct app_ops), timers are deadlines the caller polls
 * with app_next_deadline()/app_tick(). No I/O, no allocation after create,
 * so it is tested event by event.
 *
 * Threads: main thread only. Events from other threads (DSP: wake word,
 * VAD; lws: cloud state) reach it through the main loop.
 */
#ifndef HARK_APPLIANCE_H
#define HARK_APPLIANCE_H

#include <stdbool.h>
#include <stdint.h>

#include "app_state.h"

enum app_event {
    AEV_WAKE_WORD = 0,     /* the wake word was detected (idle, followup) */
    AEV_BUTTON_PRESS,      /* the button went down (push-to-talk starts; barge-in) */
    AEV_BUTTON_RELEASE,    /* the button went up (push-to-talk ends the turn) */
    AEV_BUTTON_TAP,        /* a short press (tap-to-talk) */
    AEV_BUTTON_LONG,       /* a long press (configured action, e.g. mute) */
    AEV_BUTTON_DOUBLE,     /* a double press (configured action) */
    AEV_CTRL_WAKE,         /* harkctl wake */
    AEV_CTRL_SLEEP,        /* harkctl sleep: back to idle, nothing more sent */
    AEV_CTRL_END_TURN,     /* harkctl end-turn */
    AEV_CTRL_INTERRUPT,    /* harkctl interrupt */
    AEV_MUTE,
    AEV_UNMUTE,
    AEV_SPEECH_START,      /* local VAD: speech began (on the AEC output) */
    AEV_SPEECH_END,        /* local VAD: the turn ended (hangover elapsed) */
    AEV_BARGE_IN,          /* local VAD: near-end speech over playback, echo-guarded */
    AEV_ANSWER_STARTED,    /* the first answer audio reached the playout */
    AEV_ANSWER_DONE,       /* the response is complete and its audio has been played */
    AEV_CLOUD_UP,          /* session configured */
    AEV_CLOUD_DOWN,        /* connection lost or refused */
    AEV_DEVICE_ERROR,      /* an audio device failed */
    AEV_DEVICE_OK,
    AEV__COUNT
};

enum app_button_mode { APP_BUTTON_TAP = 0, APP_BUTTON_PUSH };
enum app_gesture_action { APP_GESTURE_NONE = 0, APP_GESTURE_MUTE, APP_GESTURE_CANCEL };

struct app_cfg {
    enum app_button_mode button_mode;
    enum app_gesture_action long_press, double_press;
    bool voice_barge_in;           /* AEV_BARGE_IN interrupts the answer */
    bool local_turns;              /* AEV_SPEECH_END ends the turn (else the server's VAD) */
    unsigned listen_timeout_ms;    /* awake with no speech at all: back to idle */
    unsigned turn_max_ms;          /* a turn longer than this is ended */
    unsigned answer_timeout_ms;    /* thinking with no answer audio: error notice, idle */
    unsigned followup_ms;          /* after an answer: speech continues the conversation */
    bool cloud_required;           /* no cloud: wake gives the offline notice */
    bool expect_answer;            /* conversation: a turn is answered (captions and
                                    * translation: the end of a turn goes back to idle) */
};

/* Effects. Every pointer may be NULL. */
struct app_ops {
    void (*gate)(void *ctx, bool open);            /* open: send pre-roll + live audio */
    void (*end_turn)(void *ctx);                   /* commit + response.create */
    void (*interrupt)(void *ctx);                  /* flush playback, cancel + truncate */
    void (*cancel_turn)(void *ctx);                /* drop the uncommitted input (clear) */
    void (*earcon)(void *ctx, const char *name);   /* "wake", "end_of_turn", "error", "offline" */
    void (*state_changed)(void *ctx, enum app_state from, enum app_state to, const char *why);
    void *ctx;
};

struct app_counters {
    uint64_t wakes, turns, barge_ins_button, barge_ins_voice, answers, timeouts, offline_notices;
};

struct appliance;

struct appliance *app_create(const struct app_cfg *cfg, const struct app_ops *ops, uint64_t now_ms,
                             bool cloud_up);
void app_destroy(struct appliance *a);

void app_event(struct appliance *a, enum app_event ev, uint64_t now_ms);
/* The earliest time app_tick() has something to do (UINT64_MAX = none). */
uint64_t app_next_deadline(const struct appliance *a);
void app_tick(struct appliance *a, uint64_t now_ms);

enum app_state app_get_state(const struct appliance *a);
bool app_cloud_up(const struct appliance *a);
void app_get_counters(const struct appliance *a, struct app_counters *out);
const char *app_event_name(enum app_event ev);

#endif
