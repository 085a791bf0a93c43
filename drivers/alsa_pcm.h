/*
 * alsa_pcm.h - opening and configuring ALSA PCMs for harkd, and the pieces
 * the capture and playback threads share.
 *
 * alsa_pcm_open() and alsa_pcm_close() run on the main thread (they
 * allocate). alsa_pcm_wait() and audio_thread_go_realtime() run on the audio
 * thread itself; they neither allocate nor lock.
 */
#ifndef HARK_ALSA_PCM_H
#define HARK_ALSA_PCM_H

#include <poll.h>
#include <stddef.h>

#include <alsa/asoundlib.h>

#include "config.h"

#define ALSA_PCM_MAX_PFDS 8

struct alsa_pcm {
    snd_pcm_t *pcm;
    snd_pcm_stream_t stream;
    struct pcm_cfg cfg;               /* what the device was actually set to */
    struct pollfd pfds[ALSA_PCM_MAX_PFDS + 1];  /* the PCM's fds, then the stop fd */
    unsigned npfds;                   /* PCM fds only */
};

/* Opens cfg->device in non-blocking mode with exactly the configured
 * format, channels and rate (no silent resampling: a mismatch is an error
 * naming what the device offers), period and buffer as near as the device
 * allows. stop_fd is polled beside the PCM so a thread can be woken to quit.
 * Returns 0 or -errno with a message in err. */
int alsa_pcm_open(struct alsa_pcm *p, const struct pcm_cfg *cfg, snd_pcm_stream_t stream,
                  int stop_fd, char *err, size_t errlen);
void alsa_pcm_close(struct alsa_pcm *p);

/* Waits until the PCM is ready for a period or stop_fd is readable.
 * Returns 1 when the PCM is ready, 0 when asked to stop, -errno on error
 * (-EPIPE for an xrun seen by poll). */
int alsa_pcm_wait(struct alsa_pcm *p, int timeout_ms);

/* Asks for SCHED_FIFO at prio for the calling thread (prio 0: nothing).
 * Returns 0 or -errno (EPERM without the rtprio limit/capability). */
int audio_thread_go_realtime(int prio);

#endif
