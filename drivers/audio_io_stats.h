/*
 * audio_io_stats.h - counters an audio thread publishes for the main loop.
 *
 * Written by one real-time thread with relaxed atomic stores, read by the
 * main thread (status, logging) with audio_io_stats_read(). A snapshot may
 * mix counters from two adjacent periods; each counter on its own is exact.
 */
#ifndef HARK_AUDIO_IO_STATS_H
#define HARK_AUDIO_IO_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct audio_io_counters {
    _Atomic uint64_t frames;       /* frames moved to/from the device */
    _Atomic uint64_t xruns;        /* overruns (capture) / underruns (playback) recovered */
    _Atomic uint64_t ring_drops;   /* capture: frames dropped because the ring was full;
                                      playback: frames of silence inserted because the
                                      playout ring was empty while the device needed data */
    _Atomic uint64_t clipped;      /* playback: samples clipped on conversion */
    _Atomic int last_error;        /* last -errno from ALSA, 0 if none */
    _Atomic int rt_status;         /* result of asking for SCHED_FIFO: 0 or -errno */
    _Atomic bool failed;           /* the thread stopped on an unrecoverable error */
    _Atomic bool running;
};

struct audio_io_stats {
    uint64_t frames, xruns, ring_drops, clipped;
    int last_error, rt_status;
    bool failed, running;
};

static inline void audio_io_stats_read(struct audio_io_counters *c, struct audio_io_stats *s)
{
    s->frames = atomic_load_explicit(&c->frames, memory_order_relaxed);
    s->xruns = atomic_load_explicit(&c->xruns, memory_order_relaxed);
    s->ring_drops = atomic_load_explicit(&c->ring_drops, memory_order_relaxed);
    s->clipped = atomic_load_explicit(&c->clipped, memory_order_relaxed);
    s->last_error = atomic_load_explicit(&c->last_error, memory_order_relaxed);
    s->rt_status = atomic_load_explicit(&c->rt_status, memory_order_relaxed);
    s->failed = atomic_load_explicit(&c->failed, memory_order_acquire);
    s->running = atomic_load_explicit(&c->running, memory_order_acquire);
}

static inline void counter_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

#endif
