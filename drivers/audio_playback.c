/*
 * audio_playback.c - the real-time playback thread (see audio_playback.h).
 *
 * Loop: prefill two periods of silence, then whenever poll() says a period
 * fits, take one period from the playout ring (or silence), convert it and
 * write it. Underruns are recovered (prepare + prefill) and counted.
 *
 * Pre-buffer: the thread is either idle (playing silence) or streaming. When
 * idle it starts a stream once prebuffer_frames are queued, or once queued
 * frames have waited prebuffer_frames worth of periods (counted in periods,
 * so no clock is read). A stream that runs dry goes back to idle, so a
 * stalled network gives one clean gap and a re-prime instead of stutter.
 */
#include "audio_playback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alsa_pcm.h"
#include "pcm_convert.h"
#include "worker.h"

struct audio_playback {
    struct audio_playback_cfg cfg;
    struct alsa_pcm pcm;
    struct worker w;
    unsigned period;
    float *buf;
    uint8_t *raw;
    struct audio_io_counters ctr;
    _Atomic uint64_t audio_frames;
    _Atomic uint64_t streams;
    _Atomic uint64_t flush_done_ns, stream_start_ns;   /* CLOCK_MONOTONIC */
    _Atomic bool flush_req;
    _Atomic float gain;
    bool streaming;             /* playback thread only */
    unsigned priming_frames;    /* idle with audio queued: frames waited so far */
};

struct audio_playback *audio_playback_create(const struct audio_playback_cfg *cfg, char *err, size_t errlen)
{
    struct audio_playback *p = calloc(1, sizeof(*p));

    if (!p) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    p->cfg = *cfg;
    atomic_init(&p->gain, 1.0f);
    if (worker_init(&p->w) < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto out_free;
    }
    if (alsa_pcm_open(&p->pcm, cfg->pcm, SND_PCM_STREAM_PLAYBACK, p->w.stop_fd, err, errlen) < 0)
        goto out_close_fd;
    p->period = p->pcm.cfg.period_frames;
    p->buf = calloc(p->period, sizeof(float));
    p->raw = calloc(p->period, (size_t)cfg->pcm->channels * sample_format_bytes(cfg->pcm->format));
    if (!p->buf || !p->raw) {
        snprintf(err, errlen, "out of memory");
        goto out_pcm;
    }
    return p;

out_pcm:
    alsa_pcm_close(&p->pcm);
    free(p->buf);
    free(p->raw);
out_close_fd:
    worker_destroy(&p->w);
out_free:
    free(p);
    return NULL;
}

/* Writes one converted period, looping over partial writes. */
static int write_period(struct audio_playback *p)
{
    size_t frame_bytes = (size_t)p->pcm.cfg.channels * sample_format_bytes(p->pcm.cfg.format);
    unsigned done = 0;

    while (done < p->period) {
        snd_pcm_sframes_t n = snd_pcm_writei(p->pcm.pcm, p->raw + done * frame_bytes, p->period - done);

        if (n == -EAGAIN) {
            int r = alsa_pcm_wait(&p->pcm, 1000);
            if (r <= 0)
                return r == 0 ? -ECANCELED : r;
            continue;
        }
        if (n < 0)
            return (int)n;
        done += (unsigned)n;
    }
    counter_add(&p->ctr.frames, p->period);
    return 0;
}

static int prefill(struct audio_playback *p)
{
    int r = 0;

    memset(p->raw, 0, (size_t)p->period * p->pcm.cfg.channels * sample_format_bytes(p->pcm.cfg.format));
    memset(p->buf, 0, (size_t)p->period * sizeof(float));
    for (int i = 0; i < 2 && r == 0; i++) {
        r = write_period(p);
        /* The software reference follows the device timeline, silence included. */
        if (r == 0 && p->cfg.ref_out)
            (void)ring_write(p->cfg.ref_out, p->buf, (size_t)p->period * sizeof(float));
    }
    return r;
}

static int recover(struct audio_playback *p, int err)
{
    int r;

    atomic_store_explicit(&p->ctr.last_error, err, memory_order_relaxed);
    if (err == -EPIPE || err == -ESTRPIPE)
        counter_add(&p->ctr.xruns, 1);
    r = snd_pcm_recover(p->pcm.pcm, err, 1);
    if (r < 0 && err == -ETIMEDOUT)
        r = snd_pcm_prepare(p->pcm.pcm);
    return r < 0 ? r : prefill(p);
}

static uint64_t mono_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Idle: decides whether the queued audio starts playing this period. */
static bool stream_starts(struct audio_playback *p, size_t avail_frames)
{
    if (avail_frames == 0) {
        p->priming_frames = 0;
        return false;
    }
    p->priming_frames += p->period;
    if (avail_frames >= p->cfg.prebuffer_frames || p->priming_frames >= p->cfg.prebuffer_frames) {
        p->priming_frames = 0;
        atomic_store_explicit(&p->stream_start_ns, mono_ns(), memory_order_relaxed);
        counter_add(&p->streams, 1);
        return true;
    }
    return false;
}

static void apply_gain(struct audio_playback *p)
{
    float g = atomic_load_explicit(&p->gain, memory_order_relaxed);

    if (g != 1.0f)
        for (unsigned i = 0; i < p->period; i++)
            p->buf[i] *= g;
}

/* Fills p->buf with the next period of audio or silence. */
static void next_period(struct audio_playback *p)
{
    size_t bytes = (size_t)p->period * sizeof(float);
    size_t avail = p->cfg.in ? ring_readable(p->cfg.in) : 0;

    if (!p->streaming && !(p->streaming = stream_starts(p, avail / sizeof(float)))) {
        memset(p->buf, 0, bytes);
        return;
    }
    if (avail >= bytes) {
        ring_read(p->cfg.in, p->buf, bytes);
        counter_add(&p->audio_frames, p->period);
        apply_gain(p);
        return;
    }
    memset(p->buf, 0, bytes);
    if (avail > 0) {
        /* The stream ends (or stalls) short of a period: play what there is. */
        size_t frames = avail / sizeof(float);
        ring_read(p->cfg.in, p->buf, frames * sizeof(float));
        counter_add(&p->audio_frames, frames);
        counter_add(&p->ctr.ring_drops, p->period - frames);
        apply_gain(p);
    }
    p->streaming = false;       /* re-prime before playing more */
}

static void *playback_thread(void *arg)
{
    struct audio_playback *p = arg;
    int timeout_ms = (int)(1000ull * p->pcm.cfg.buffer_frames / p->pcm.cfg.rate) * 4 + 100;
    int r;

    atomic_store(&p->ctr.rt_status, audio_thread_go_realtime(p->cfg.rt_priority));
    r = prefill(p);
    if (r < 0 && (r = recover(p, r)) < 0)
        goto out_failed;
    for (;;) {
        r = alsa_pcm_wait(&p->pcm, timeout_ms);
        if (r == 0)
            break;
        if (atomic_exchange_explicit(&p->flush_req, false, memory_order_acq_rel)) {
            /* Barge-in: what is queued must never be heard. */
            if (p->cfg.in)
                ring_skip(p->cfg.in, ring_readable(p->cfg.in));
            p->streaming = false;
            p->priming_frames = 0;
            (void)snd_pcm_drop(p->pcm.pcm);
            atomic_store_explicit(&p->flush_done_ns, mono_ns(), memory_order_release);
            r = snd_pcm_prepare(p->pcm.pcm);
            if (r == 0)
                r = prefill(p);
            if (r < 0 && recover(p, r) < 0)
                goto out_failed;
            continue;
        }
        if (r > 0) {
            snd_pcm_sframes_t avail = snd_pcm_avail_update(p->pcm.pcm);
            if (avail < 0)
                r = (int)avail;
            else if ((snd_pcm_uframes_t)avail < p->period)
                continue;
        }
        if (r > 0) {
            next_period(p);
            if (p->cfg.earcons)
                (void)earcon_player_mix(p->cfg.earcons, p->buf, p->period);
            counter_add(&p->ctr.clipped, pcm_from_float_mono(p->buf, p->period, p->raw,
                                                             p->pcm.cfg.format, p->pcm.cfg.channels));
            r = write_period(p);
            if (r == -ECANCELED)
                break;
            if (r == 0 && p->cfg.ref_out)
                (void)ring_write(p->cfg.ref_out, p->buf, (size_t)p->period * sizeof(float));
        }
        if (r < 0 && recover(p, r) < 0)
            goto out_failed;
    }
    atomic_store_explicit(&p->ctr.running, false, memory_order_release);
    return NULL;

out_failed:
    atomic_store_explicit(&p->ctr.last_error, r, memory_order_relaxed);
    atomic_store_explicit(&p->ctr.failed, true, memory_order_release);
    atomic_store_explicit(&p->ctr.running, false, memory_order_release);
    return NULL;
}

int audio_playback_start(struct audio_playback *p)
{
    int r;

    atomic_store(&p->ctr.running, true);
    r = worker_start(&p->w, playback_thread, p);
    if (r < 0)
        atomic_store(&p->ctr.running, false);
    return r;
}

void audio_playback_stop(struct audio_playback *p)
{
    if (p)
        worker_stop(&p->w);
}

void audio_playback_destroy(struct audio_playback *p)
{
    if (!p)
        return;
    worker_stop(&p->w);
    alsa_pcm_close(&p->pcm);
    worker_destroy(&p->w);
    free(p->buf);
    free(p->raw);
    free(p);
}

unsigned audio_playback_period_frames(const struct audio_playback *p)
{
    return p->period;
}

const struct pcm_cfg *audio_playback_pcm(const struct audio_playback *p)
{
    return &p->pcm.cfg;
}

void audio_playback_get_stats(struct audio_playback *p, struct audio_io_stats *out)
{
    audio_io_stats_read(&p->ctr, out);
}

void audio_playback_flush(struct audio_playback *p)
{
    atomic_store_explicit(&p->flush_req, true, memory_order_release);
}

uint64_t audio_playback_audio_frames(struct audio_playback *p)
{
    return atomic_load_explicit(&p->audio_frames, memory_order_relaxed);
}

void audio_playback_set_gain(struct audio_playback *p, float gain)
{
    atomic_store_explicit(&p->gain, gain < 0 ? 0 : gain > 1 ? 1 : gain, memory_order_relaxed);
}

uint64_t audio_playback_last_flush_ns(struct audio_playback *p)
{
    return atomic_load_explicit(&p->flush_done_ns, memory_order_acquire);
}

uint64_t audio_playback_last_stream_start_ns(struct audio_playback *p)
{
    return atomic_load_explicit(&p->stream_start_ns, memory_order_relaxed);
}

uint64_t audio_playback_streams(struct audio_playback *p)
{
    return atomic_load_explicit(&p->streams, memory_order_relaxed);
}
