/*
 * audio_playback.h - the real-time playback thread: SPSC ring of mono float
 * at the device rate -> ALSA, keeping the device running with silence when
 * there is nothing to play.
 *
 * The stream never stops while harkd runs, so the echo reference and the
 * microphones stay on one continuous timeline. Every period written to the
 * device is also pushed to `ref_out` (when given): the software echo
 * reference for boards without a hardware loopback.
 *
 * Threads: create/start/stop/destroy/stats from the main thread. The ring
 * `in` is consumed and `ref_out` produced by the playback thread only.
 */
#ifndef HARK_AUDIO_PLAYBACK_H
#define HARK_AUDIO_PLAYBACK_H

#include <stddef.h>

#include "audio_io_stats.h"
#include "earcon.h"
#include "config.h"
#include "ring.h"

struct audio_playback;

struct audio_playback_cfg {
    const struct pcm_cfg *pcm;
    struct ring *in;           /* mono float, device rate; may be NULL (silence only) */
    struct ring *ref_out;      /* may be NULL */
    int rt_priority;
    /* Pre-buffer: after silence, a new stream starts once this many frames
     * are queued, or once its first frames have waited as long (a stream
     * shorter than the pre-buffer). It absorbs network jitter: the cloud
     * streams in bursts. A stream that runs dry mid-way re-primes. 0 = off. */
    unsigned prebuffer_frames;
    /* Earcons and notices mixed over whatever plays (may be NULL). They go
     * to the device and to ref_out like any playback, so the AEC sees them. */
    struct earcon_player *earcons;
};

struct audio_playback *audio_playback_create(const struct audio_playback_cfg *cfg, char *err, size_t errlen);
int audio_playback_start(struct audio_playback *p);
void audio_playback_stop(struct audio_playback *p);
void audio_playback_destroy(struct audio_playback *p);

unsigned audio_playback_period_frames(const struct audio_playback *p);
const struct pcm_cfg *audio_playback_pcm(const struct audio_playback *p);
/* frames: all frames written; ring_drops: frames of silence inserted in the
 * middle of queued audio (the producer fell behind). */
void audio_playback_get_stats(struct audio_playback *p, struct audio_io_stats *out);
/* Main thread: drop everything queued, in the playout ring and in the ALSA
 * buffer, within one period (barge-in). The playback thread does the work. */
void audio_playback_flush(struct audio_playback *p);
/* Main thread: gain of the stream from `in` (the volume), 0..1. */
void audio_playback_set_gain(struct audio_playback *p, float gain);
/* Frames of real (non-silence) audio taken from `in`. */
uint64_t audio_playback_audio_frames(struct audio_playback *p);
/* CLOCK_MONOTONIC ns of the last completed flush (the ALSA buffer dropped:
 * silence from here) and of the last stream start (its first period
 * written); 0 = never. */
uint64_t audio_playback_last_flush_ns(struct audio_playback *p);
uint64_t audio_playback_last_stream_start_ns(struct audio_playback *p);
/* Streams started: each start after silence, once primed. A stream that
 * stalls and resumes counts twice. */
uint64_t audio_playback_streams(struct audio_playback *p);

#endif
