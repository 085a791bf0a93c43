/*
 * cloud_client.h - harkd's realtime cloud session: ws_client + rt_session
 * on the libwebsockets thread, joined to the audio threads by SPSC rings.
 *
 * Uplink: the DSP thread calls cloud_client_push_mic() with each 10 ms hop
 * of front-end output at the capture rate. Only while the privacy gate is
 * open (cloud_client_set_gate(true): after the wake word, the button or
 * `harkctl wake`) is it resampled to 24 kHz and queued; with the gate
 * closed nothing is queued, so nothing can be sent. The lws thread turns
 * the queue into input_audio_buffer.append events of chunk_ms.
 * Downlink: answer audio (24 kHz) is resampled on the lws thread to the
 * playback rate and written to the playout ring the playback thread reads.
 * Barge-in: the main thread flushes playout and calls
 * cloud_client_interrupt(played_frames) with the playback thread's count of
 * frames of answer audio actually written to the device.
 *
 * Threads: create/destroy/requests/status from main; push_mic from the DSP
 * thread only; everything else runs on the lws thread. Requests are atomic
 * flags that the lws thread picks up when woken.
 */
#ifndef HARK_CLOUD_CLIENT_H
#define HARK_CLOUD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ring.h"
#include "rt_events.h"

struct cloud_client;

struct cloud_client_cfg {
    const struct cloud_cfg *cloud;
    unsigned mic_rate;          /* rate of the hops given to push_mic */
    unsigned hop_frames;
    unsigned playback_rate;
    struct ring *playout;       /* mono float at playback_rate; this client produces */
    /* Local tools offered to the model (conversation mode; may be empty).
     * `tool` runs on the lws thread, see rt_session_cfg. */
    const struct rt_tool *tools;
    size_t n_tools;
    int (*tool)(void *ctx, const char *name, const char *args_json, char *out, size_t outlen);
    void *tool_ctx;
};

struct cloud_status {
    bool connected;
    bool gate_open;
    const char *session_state;  /* static strings */
    const char *response_phase;
    uint64_t connects, disconnects, rollovers, remint_failures;
    uint64_t captions;          /* completed caption lines (captions mode) */
    /* Capture -> socket: from the DSP thread queuing a hop to the append
     * event carrying its last sample being queued on the socket. */
    uint64_t uplink_hops;
    double uplink_latency_mean_ms, uplink_latency_p95_ms, uplink_latency_max_ms;
    uint64_t audio_sent_ms, audio_received_ms;
    uint32_t responses, cancels, truncates, tool_calls, errors;
    uint64_t uplink_dropped_ms; /* gate open but the uplink queue was full */
    uint64_t playout_dropped_ms;/* answer audio that did not fit the playout ring */
    /* CLOCK_MONOTONIC ns: the gate's last opening, and the first append
     * queued on the socket after it (< gate_open_ns: none yet). */
    uint64_t gate_open_ns, first_sent_ns;
};

/* Reads the credentials and starts connecting. NULL with err set. */
struct cloud_client *cloud_client_create(const struct cloud_client_cfg *cfg, char *err, size_t errlen);
void cloud_client_destroy(struct cloud_client *c);

/* DSP thread: hop = hop_frames interleaved frames of `stride` floats; the
 * first `mics` channels are averaged (until the beamformer output lands). */
void cloud_client_push_mic(struct cloud_client *c, const float *hop, unsigned stride, unsigned mics);

/* Main thread requests (picked up by the lws thread). */
void cloud_client_set_gate(struct cloud_client *c, bool open);
bool cloud_client_gate_is_open(struct cloud_client *c);        /* any thread */
void cloud_client_end_turn(struct cloud_client *c);          /* commit + response */
void cloud_client_clear_turn(struct cloud_client *c);        /* drop the turn: input_audio_buffer.clear */
void cloud_client_interrupt(struct cloud_client *c, uint64_t played_frames_at_playback_rate);
void cloud_client_get_status(struct cloud_client *c, struct cloud_status *st);
/* Transcript lines for the control socket: captions (captions mode), the
 * user's and the answer's words (conversation, when the service sends them)
 * and translated sentences (translation). Lines are numbered from 1; the
 * last CLOUD_TRANSCRIPT_HISTORY are kept, each cut to CLOUD_TRANSCRIPT_MAX-1
 * bytes on a UTF-8 boundary. Any thread.
 * cloud_client_transcript(): 1 and the line copied, 0 if `seq` has not been
 * written yet, -1 if it has scrolled out. */
#define CLOUD_TRANSCRIPT_HISTORY 32
#define CLOUD_TRANSCRIPT_MAX 1024
int cloud_client_transcript(struct cloud_client *c, uint64_t seq, char *role, size_t role_len,
                            char *text, size_t text_len);
uint64_t cloud_client_transcript_next(struct cloud_client *c);   /* seq of the next line */

/* Main thread, periodically: lets the lws thread check session age. */
void cloud_client_tick(struct cloud_client *c);

#endif
