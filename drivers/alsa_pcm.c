/*
 * alsa_pcm.c - ALSA PCM set-up and the poll-based wait shared by the audio
 * threads (see alsa_pcm.h).
 *
 * Non-blocking PCMs waited on with poll() beside a stop eventfd: the thread
 * sleeps in the kernel until the device has a period, and can be told to
 * quit at once without signals or cancellation.
 */
#define _GNU_SOURCE
#include "alsa_pcm.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

static snd_pcm_format_t alsa_format(enum sample_format f)
{
    return f == SAMPLE_S32_LE ? SND_PCM_FORMAT_S32_LE : SND_PCM_FORMAT_S16_LE;
}

static int fail(int r, char *err, size_t len, const char *dev, const char *what, int alsa_err)
{
    snprintf(err, len, "ALSA %s: %s: %s", dev, what, snd_strerror(alsa_err));
    return r;
}

static int set_hw(struct alsa_pcm *p, const struct pcm_cfg *cfg, char *err, size_t len)
{
    snd_pcm_hw_params_t *hw;
    snd_pcm_uframes_t period = cfg->period_frames, buffer = cfg->buffer_frames;
    unsigned rate = cfg->rate, cmin = 0, cmax = 0, rmin = 0, rmax = 0;
    int dir = 0, r;

    snd_pcm_hw_params_alloca(&hw);
    if ((r = snd_pcm_hw_params_any(p->pcm, hw)) < 0)
        return fail(r, err, len, cfg->device, "no configurations", r);
    if ((r = snd_pcm_hw_params_set_access(p->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0)
        return fail(r, err, len, cfg->device, "interleaved access not supported", r);
    if ((r = snd_pcm_hw_params_set_format(p->pcm, hw, alsa_format(cfg->format))) < 0) {
        snprintf(err, len, "ALSA %s: format %s not supported (%s)", cfg->device,
                 sample_format_name(cfg->format), snd_strerror(r));
        return r;
    }
    (void)snd_pcm_hw_params_get_channels_min(hw, &cmin);
    (void)snd_pcm_hw_params_get_channels_max(hw, &cmax);
    if ((r = snd_pcm_hw_params_set_channels(p->pcm, hw, cfg->channels)) < 0) {
        snprintf(err, len, "ALSA %s: %u channels not supported (device offers %u..%u)", cfg->device,
                 cfg->channels, cmin, cmax);
        return r;
    }
    (void)snd_pcm_hw_params_set_rate_resample(p->pcm, hw, 0);
    (void)snd_pcm_hw_params_get_rate_min(hw, &rmin, &dir);
    (void)snd_pcm_hw_params_get_rate_max(hw, &rmax, &dir);
    if ((r = snd_pcm_hw_params_set_rate(p->pcm, hw, rate, 0)) < 0) {
        snprintf(err, len, "ALSA %s: rate %u Hz not supported (device offers %u..%u Hz)", cfg->device,
                 rate, rmin, rmax);
        return r;
    }
    dir = 0;
    if ((r = snd_pcm_hw_params_set_period_size_near(p->pcm, hw, &period, &dir)) < 0)
        return fail(r, err, len, cfg->device, "cannot set period size", r);
    if ((r = snd_pcm_hw_params_set_buffer_size_near(p->pcm, hw, &buffer)) < 0)
        return fail(r, err, len, cfg->device, "cannot set buffer size", r);
    if ((r = snd_pcm_hw_params(p->pcm, hw)) < 0)
        return fail(r, err, len, cfg->device, "cannot apply hardware parameters", r);
    (void)snd_pcm_hw_params_get_period_size(hw, &period, &dir);
    (void)snd_pcm_hw_params_get_buffer_size(hw, &buffer);
    p->cfg.period_frames = (unsigned)period;
    p->cfg.buffer_frames = (unsigned)buffer;
    return 0;
}

static int set_sw(struct alsa_pcm *p, char *err, size_t len)
{
    snd_pcm_sw_params_t *sw;
    snd_pcm_uframes_t start;
    int r;

    snd_pcm_sw_params_alloca(&sw);
    if ((r = snd_pcm_sw_params_current(p->pcm, sw)) < 0)
        return fail(r, err, len, p->cfg.device, "cannot read software parameters", r);
    (void)snd_pcm_sw_params_set_avail_min(p->pcm, sw, p->cfg.period_frames);
    /* Playback starts once two periods are queued; capture is started explicitly. */
    start = p->stream == SND_PCM_STREAM_PLAYBACK ? 2 * p->cfg.period_frames : 1;
    (void)snd_pcm_sw_params_set_start_threshold(p->pcm, sw, start);
    if ((r = snd_pcm_sw_params(p->pcm, sw)) < 0)
        return fail(r, err, len, p->cfg.device, "cannot apply software parameters", r);
    return 0;
}

int alsa_pcm_open(struct alsa_pcm *p, const struct pcm_cfg *cfg, snd_pcm_stream_t stream,
                  int stop_fd, char *err, size_t errlen)
{
    int r, n;

    memset(p, 0, sizeof(*p));
    p->cfg = *cfg;
    p->stream = stream;
    r = snd_pcm_open(&p->pcm, cfg->device, stream, SND_PCM_NONBLOCK);
    if (r < 0) {
        p->pcm = NULL;
        snprintf(err, errlen, "ALSA %s: cannot open %s device: %s", cfg->device,
                 stream == SND_PCM_STREAM_CAPTURE ? "capture" : "playback", snd_strerror(r));
        return r;
    }
    if ((r = set_hw(p, cfg, err, errlen)) < 0 || (r = set_sw(p, err, errlen)) < 0)
        goto out_close;
    n = snd_pcm_poll_descriptors_count(p->pcm);
    if (n <= 0 || n > ALSA_PCM_MAX_PFDS) {
        snprintf(err, errlen, "ALSA %s: unusable poll descriptor count %d", cfg->device, n);
        r = -EINVAL;
        goto out_close;
    }
    n = snd_pcm_poll_descriptors(p->pcm, p->pfds, (unsigned)n);
    if (n <= 0) {
        r = n < 0 ? n : -EINVAL;
        snprintf(err, errlen, "ALSA %s: cannot get poll descriptors", cfg->device);
        goto out_close;
    }
    p->npfds = (unsigned)n;
    p->pfds[n].fd = stop_fd;
    p->pfds[n].events = POLLIN;
    return 0;

out_close:
    snd_pcm_close(p->pcm);
    p->pcm = NULL;
    return r;
}

void alsa_pcm_close(struct alsa_pcm *p)
{
    if (p && p->pcm) {
        (void)snd_pcm_drop(p->pcm);
        snd_pcm_close(p->pcm);
        p->pcm = NULL;
    }
}

int alsa_pcm_wait(struct alsa_pcm *p, int timeout_ms)
{
    for (;;) {
        unsigned short revents = 0;
        int r = poll(p->pfds, p->npfds + 1, timeout_ms);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return -ETIMEDOUT;
        if (p->pfds[p->npfds].revents & POLLIN)
            return 0;
        r = snd_pcm_poll_descriptors_revents(p->pcm, p->pfds, p->npfds, &revents);
        if (r < 0)
            return r;
        if (revents & POLLERR)
            return -EPIPE;
        if (revents & (POLLIN | POLLOUT))
            return 1;
    }
}

int audio_thread_go_realtime(int prio)
{
    struct sched_param sp = { .sched_priority = prio };

    if (prio <= 0)
        return 0;
    return -pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}
