/*
 * audio_capture.c - the real-time capture thread (see audio_capture.h).
 *
 * Loop: sleep in poll() until a period is ready, read at most one period
 * (the ALSA file plugin silently copies nothing for larger reads), convert
 * with the channel map, push the hop to the ring, wake the consumer.
 * xruns are recovered with snd_pcm_recover() and counted; an unrecoverable
 * error (device unplugged) marks the thread failed and ends it, and the
 * main loop decides what to do (it logs and reopens the device).
 */
#include "audio_capture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alsa_pcm.h"
#include "pcm_convert.h"
#include "worker.h"

struct audio_capture {
    struct audio_capture_cfg cfg;
    struct alsa_pcm pcm;
    struct worker w;
    unsigned hop_frames, out_ch;
    int map[HARK_MAX_MICS + 1];
    uint8_t *raw;          /* one period as the device delivers it */
    float *hop;            /* one period converted */
    struct audio_io_counters ctr;
};

struct audio_capture *audio_capture_create(const struct audio_capture_cfg *cfg, char *err, size_t errlen)
{
    const struct board_cfg *b = cfg->board;
    struct audio_capture *c = calloc(1, sizeof(*c));
    size_t frame_bytes;

    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->cfg = *cfg;
    if (worker_init(&c->w) < 0) {
        snprintf(err, errlen, "eventfd: %s", strerror(errno));
        goto out_free;
    }
    if (alsa_pcm_open(&c->pcm, &b->capture, SND_PCM_STREAM_CAPTURE, c->w.stop_fd, err, errlen) < 0)
        goto out_close_fd;
    c->hop_frames = c->pcm.cfg.period_frames;
    c->out_ch = b->mic_count + 1;
    for (unsigned m = 0; m < b->mic_count; m++)
        c->map[m] = b->channel_map[m];
    c->map[b->mic_count] = b->ref_channel;
    frame_bytes = (size_t)b->capture.channels * sample_format_bytes(b->capture.format);
    c->raw = calloc(c->hop_frames, frame_bytes);
    c->hop = calloc((size_t)c->hop_frames * c->out_ch, sizeof(float));
    if (!c->raw || !c->hop) {
        snprintf(err, errlen, "out of memory");
        goto out_pcm;
    }
    if (ring_capacity(cfg->out) < (size_t)c->hop_frames * c->out_ch * sizeof(float)) {
        snprintf(err, errlen, "capture ring smaller than one hop");
        goto out_pcm;
    }
    return c;

out_pcm:
    alsa_pcm_close(&c->pcm);
    free(c->raw);
    free(c->hop);
out_close_fd:
    worker_destroy(&c->w);
out_free:
    free(c);
    return NULL;
}

static void notify(int fd)
{
    uint64_t one = 1;

    if (fd >= 0)
        (void)!write(fd, &one, sizeof(one));
}

/* Returns 0 when the stream runs again, <0 when it cannot be recovered. */
static int recover(struct audio_capture *c, int err)
{
    int r;

    atomic_store_explicit(&c->ctr.last_error, err, memory_order_relaxed);
    if (err == -EPIPE || err == -ESTRPIPE)
        counter_add(&c->ctr.xruns, 1);
    r = snd_pcm_recover(c->pcm.pcm, err, 1);
    if (r < 0 && err == -ETIMEDOUT)
        r = snd_pcm_prepare(c->pcm.pcm);
    if (r < 0)
        return r;
    return snd_pcm_start(c->pcm.pcm);
}

static void *capture_thread(void *arg)
{
    struct audio_capture *c = arg;
    const struct board_cfg *b = c->cfg.board;
    size_t frame_bytes = (size_t)b->capture.channels * sample_format_bytes(b->capture.format);
    size_t hop_bytes = (size_t)c->hop_frames * c->out_ch * sizeof(float);
    int timeout_ms = (int)(1000ull * c->pcm.cfg.buffer_frames / c->pcm.cfg.rate) * 4 + 100;
    unsigned fill = 0;
    int r;

    atomic_store(&c->ctr.rt_status, audio_thread_go_realtime(c->cfg.rt_priority));
    r = snd_pcm_start(c->pcm.pcm);
    if (r < 0)
        goto out_failed;
    for (;;) {
        snd_pcm_sframes_t n;

        r = alsa_pcm_wait(&c->pcm, timeout_ms);
        if (r == 0)
            break;
        if (r < 0) {
            if (recover(c, r) < 0)
                goto out_failed;
            fill = 0;
            continue;
        }
        n = snd_pcm_readi(c->pcm.pcm, c->raw + fill * frame_bytes, c->hop_frames - fill);
        if (n == -EAGAIN)
            continue;
        if (n < 0) {
            r = (int)n;
            if (recover(c, r) < 0)
                goto out_failed;
            fill = 0;
            continue;
        }
        fill += (unsigned)n;
        if (fill < c->hop_frames)
            continue;
        fill = 0;
        pcm_to_float_mapped(c->raw, b->capture.format, b->capture.channels, c->map, c->out_ch,
                            c->hop, c->hop_frames);
        counter_add(&c->ctr.frames, c->hop_frames);
        if (ring_write(c->cfg.out, c->hop, hop_bytes) != hop_bytes)
            counter_add(&c->ctr.ring_drops, c->hop_frames);
        notify(c->cfg.notify_fd);
    }
    atomic_store_explicit(&c->ctr.running, false, memory_order_release);
    return NULL;

out_failed:
    atomic_store_explicit(&c->ctr.last_error, r, memory_order_relaxed);
    atomic_store_explicit(&c->ctr.failed, true, memory_order_release);
    atomic_store_explicit(&c->ctr.running, false, memory_order_release);
    notify(c->cfg.notify_fd);
    return NULL;
}

int audio_capture_start(struct audio_capture *c)
{
    int r;

    atomic_store(&c->ctr.running, true);
    r = worker_start(&c->w, capture_thread, c);
    if (r < 0)
        atomic_store(&c->ctr.running, false);
    return r;
}

void audio_capture_stop(struct audio_capture *c)
{
    if (c)
        worker_stop(&c->w);
}

void audio_capture_destroy(struct audio_capture *c)
{
    if (!c)
        return;
    worker_stop(&c->w);
    alsa_pcm_close(&c->pcm);
    worker_destroy(&c->w);
    free(c->raw);
    free(c->hop);
    free(c);
}

unsigned audio_capture_hop_frames(const struct audio_capture *c)
{
    return c->hop_frames;
}

unsigned audio_capture_channels(const struct audio_capture *c)
{
    return c->out_ch;
}

const struct pcm_cfg *audio_capture_pcm(const struct audio_capture *c)
{
    return &c->pcm.cfg;
}

void audio_capture_get_stats(struct audio_capture *c, struct audio_io_stats *out)
{
    audio_io_stats_read(&c->ctr, out);
}
