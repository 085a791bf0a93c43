/*
 * audio_capture.h - the real-time capture thread: ALSA -> float frames ->
 * SPSC ring.
 *
 * Every ALSA period becomes one hop of period_frames x (mic_count + 1)
 * interleaved floats in the order [mic0 .. micN-1, ref]; ref is the loopback
 * channel, or zeros when the board has none. A full ring drops the hop and
 * counts it: the audio thread never waits for its consumer. After each hop
 * the thread writes notify_fd (an eventfd) so the consumer can sleep.
 *
 * Threads: create/start/stop/destroy and stats from the main thread; the
 * ring's consumer side belongs to one other thread (the DSP thread).
 */
#ifndef HARK_AUDIO_CAPTURE_H
#define HARK_AUDIO_CAPTURE_H

#include <stddef.h>

#include "audio_io_stats.h"
#include "config.h"
#include "ring.h"

struct audio_capture;

struct audio_capture_cfg {
    const struct board_cfg *board;
    struct ring *out;          /* producer side owned by the capture thread */
    int notify_fd;             /* eventfd written once per hop, or -1 */
    int rt_priority;           /* SCHED_FIFO priority, 0 = normal */
};

/* Opens and configures the device (main thread). NULL with err set on failure. */
struct audio_capture *audio_capture_create(const struct audio_capture_cfg *cfg, char *err, size_t errlen);
int audio_capture_start(struct audio_capture *c);
/* Wakes and joins the thread; safe if never started. */
void audio_capture_stop(struct audio_capture *c);
void audio_capture_destroy(struct audio_capture *c);

unsigned audio_capture_hop_frames(const struct audio_capture *c);
unsigned audio_capture_channels(const struct audio_capture *c);   /* mic_count + 1 */
const struct pcm_cfg *audio_capture_pcm(const struct audio_capture *c);
void audio_capture_get_stats(struct audio_capture *c, struct audio_io_stats *out);

#endif
