/*
 * app_state.h - the appliance's states, shared by the state machine (main
 * thread), the LED driver (pattern per state) and the control socket.
 *
 * Header only; no thread of its own. The values are stable: they appear in
 * `harkctl status` as the names returned by app_state_name().
 */
#ifndef HARK_APP_STATE_H
#define HARK_APP_STATE_H

enum app_state {
    APP_IDLE = 0,   /* listening locally for the wake word; nothing is sent */
    APP_LISTENING,  /* awake: pre-roll plus live audio streamed to the cloud */
    APP_THINKING,   /* the user's turn ended; waiting for the answer */
    APP_SPEAKING,   /* playing the answer, still listening through AEC */
    APP_FOLLOWUP,   /* short window after an answer: speech continues the turn */
    APP_MUTED,      /* microphones muted by the user; nothing is analysed or sent */
    APP_OFFLINE,    /* the cloud is unreachable; local tools keep working */
    APP_ERROR,      /* a device failed (e.g. ALSA lost); retrying */
    APP_STATE_COUNT
};

static inline const char *app_state_name(enum app_state s)
{
    static const char *const names[APP_STATE_COUNT] = {
        "idle", "listening", "thinking", "speaking", "followup", "muted", "offline", "error",
    };
    return (unsigned)s < APP_STATE_COUNT ? names[s] : "unknown";
}

#endif
