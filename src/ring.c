/*
 * ring.c - lock-free SPSC byte ring (see ring.h for the thread contract).
 *
 * The data area and the two indices sit on separate cache lines so the
 * producer and the consumer do not bounce one line between cores.
 */
#include "ring.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define RING_CACHELINE 64

struct ring {
    _Alignas(RING_CACHELINE) _Atomic uint32_t head;  /* written by the producer */
    _Alignas(RING_CACHELINE) _Atomic uint32_t tail;  /* written by the consumer */
    _Alignas(RING_CACHELINE) uint32_t mask;
    uint8_t *data;
};

struct ring *ring_create(size_t capacity)
{
    struct ring *r;
    size_t cap = 2;

    if (capacity == 0 || capacity > (1u << 30))
        return NULL;
    while (cap < capacity)
        cap <<= 1;
    if (posix_memalign((void **)&r, RING_CACHELINE, sizeof(*r)) != 0)
        return NULL;
    r->data = malloc(cap);
    if (!r->data) {
        free(r);
        return NULL;
    }
    memset(r->data, 0, cap);  /* pre-fault the pages */
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->mask = (uint32_t)(cap - 1);
    return r;
}

void ring_destroy(struct ring *r)
{
    if (!r)
        return;
    free(r->data);
    free(r);
}

size_t ring_capacity(const struct ring *r)
{
    return (size_t)r->mask + 1;
}

size_t ring_readable(const struct ring *r)
{
    uint32_t head = atomic_load_explicit(&((struct ring *)r)->head, memory_order_acquire);
    uint32_t tail = atomic_load_explicit(&((struct ring *)r)->tail, memory_order_acquire);
    return (uint32_t)(head - tail);
}

size_t ring_writable(const struct ring *r)
{
    return ring_capacity(r) - ring_readable(r);
}

static void copy_in(struct ring *r, uint32_t pos, const uint8_t *src, size_t len)
{
    size_t off = pos & r->mask;
    size_t first = ring_capacity(r) - off;

    if (first > len)
        first = len;
    memcpy(r->data + off, src, first);
    memcpy(r->data, src + first, len - first);
}

static void copy_out(const struct ring *r, uint32_t pos, uint8_t *dst, size_t len)
{
    size_t off = pos & r->mask;
    size_t first = ring_capacity(r) - off;

    if (first > len)
        first = len;
    memcpy(dst, r->data + off, first);
    memcpy(dst + first, r->data, len - first);
}

size_t ring_write(struct ring *r, const void *data, size_t len)
{
    uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);

    if (len > ring_capacity(r) - (uint32_t)(head - tail))
        return 0;
    copy_in(r, head, data, len);
    atomic_store_explicit(&r->head, head + (uint32_t)len, memory_order_release);
    return len;
}

size_t ring_peek(const struct ring *r, void *out, size_t len)
{
    struct ring *rw = (struct ring *)r;
    uint32_t tail = atomic_load_explicit(&rw->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&rw->head, memory_order_acquire);

    if (len > (uint32_t)(head - tail))
        return 0;
    copy_out(r, tail, out, len);
    return len;
}

size_t ring_read(struct ring *r, void *out, size_t len)
{
    if (ring_peek(r, out, len) != len)
        return 0;
    atomic_store_explicit(&r->tail,
                          atomic_load_explicit(&r->tail, memory_order_relaxed) + (uint32_t)len,
                          memory_order_release);
    return len;
}

size_t ring_skip(struct ring *r, size_t len)
{
    uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    size_t avail = (uint32_t)(head - tail);

    if (len > avail)
        len = avail;
    atomic_store_explicit(&r->tail, tail + (uint32_t)len, memory_order_release);
    return len;
}
