/*
 * ring.h - lock-free single-producer single-consumer byte ring.
 *
 * Connects the real-time audio threads to the DSP and network threads
 * (mic -> front end, front end -> uplink, downlink -> speaker, speaker ->
 * echo reference). Exactly one thread writes and exactly one thread reads a
 * given ring; neither ever blocks, locks or allocates. Indices are
 * free-running 32-bit counters (wrapping is fine because the capacity is a
 * power of two); the producer publishes with a release store and the consumer
 * observes with an acquire load, and vice versa for the read index.
 *
 * Threads: ring_create()/ring_destroy() from the main thread before/after the
 * threads run. ring_write*() from the producer thread only, ring_read*() and
 * ring_skip() from the consumer thread only. ring_readable()/ring_writable()
 * from either side (a snapshot).
 */
#ifndef HARK_RING_H
#define HARK_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

/* capacity is rounded up to a power of two (at least 2 bytes, at most 1 GiB).
 * Returns NULL on OOM or a bad size. The memory is touched once here so the
 * audio thread never page-faults on it. */
struct ring *ring_create(size_t capacity);
void ring_destroy(struct ring *r);

size_t ring_capacity(const struct ring *r);
size_t ring_readable(const struct ring *r);
size_t ring_writable(const struct ring *r);

/* Write all len bytes or nothing: returns len, or 0 when there is no room. */
size_t ring_write(struct ring *r, const void *data, size_t len);
/* Read exactly len bytes or nothing: returns len, or 0 when fewer are queued. */
size_t ring_read(struct ring *r, void *out, size_t len);
/* Copy len bytes without consuming them; returns len or 0. */
size_t ring_peek(const struct ring *r, void *out, size_t len);
/* Drop up to len queued bytes (consumer side); returns the count dropped. */
size_t ring_skip(struct ring *r, size_t len);

#endif
