/*
 * test_ring.c - SPSC ring: semantics, wrap-around, and a two-thread stress
 * test that checks every byte arrives once and in order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <string.h>

#include "ring.h"

static void test_capacity_rounding(void **state)
{
    (void)state;
    struct ring *r = ring_create(1000);
    assert_non_null(r);
    assert_int_equal(ring_capacity(r), 1024);
    assert_int_equal(ring_readable(r), 0);
    assert_int_equal(ring_writable(r), 1024);
    ring_destroy(r);
    assert_null(ring_create(0));
    ring_destroy(NULL);
}

static void test_all_or_nothing(void **state)
{
    (void)state;
    struct ring *r = ring_create(16);
    uint8_t in[20], out[20];

    for (int i = 0; i < 20; i++)
        in[i] = (uint8_t)i;
    assert_int_equal(ring_write(r, in, 17), 0);          /* too big: nothing written */
    assert_int_equal(ring_write(r, in, 10), 10);
    assert_int_equal(ring_write(r, in + 10, 7), 0);      /* 6 free */
    assert_int_equal(ring_read(r, out, 11), 0);          /* only 10 queued */
    assert_int_equal(ring_peek(r, out, 4), 4);
    assert_memory_equal(out, in, 4);
    assert_int_equal(ring_readable(r), 10);
    assert_int_equal(ring_read(r, out, 10), 10);
    assert_memory_equal(out, in, 10);
    assert_int_equal(ring_skip(r, 5), 0);
    ring_destroy(r);
}

static void test_wraparound(void **state)
{
    (void)state;
    struct ring *r = ring_create(8);
    uint8_t buf[8];

    for (unsigned round = 0; round < 1000; round++) {
        uint8_t in[5];
        for (int i = 0; i < 5; i++)
            in[i] = (uint8_t)(round * 5 + i);
        assert_int_equal(ring_write(r, in, 5), 5);
        assert_int_equal(ring_read(r, buf, 5), 5);
        assert_memory_equal(buf, in, 5);
    }
    ring_destroy(r);
}

#define STRESS_BYTES (16u << 20)

struct stress {
    struct ring *r;
    uint64_t errors;
};

static void *producer(void *arg)
{
    struct stress *s = arg;
    uint8_t chunk[97];
    uint32_t next = 0;

    while (next < STRESS_BYTES) {
        size_t n = 1 + (next * 2654435761u >> 27) % sizeof(chunk);   /* varying sizes */
        if (n > STRESS_BYTES - next)
            n = STRESS_BYTES - next;
        for (size_t i = 0; i < n; i++)
            chunk[i] = (uint8_t)((next + i) * 31u >> 3);
        if (ring_write(s->r, chunk, n) == n)
            next += (uint32_t)n;
    }
    return NULL;
}

static void *consumer(void *arg)
{
    struct stress *s = arg;
    uint8_t chunk[61];
    uint32_t next = 0;

    while (next < STRESS_BYTES) {
        size_t n = 1 + (next * 40503u >> 7) % sizeof(chunk);
        if (n > STRESS_BYTES - next)
            n = STRESS_BYTES - next;
        if (ring_read(s->r, chunk, n) != n)
            continue;
        for (size_t i = 0; i < n; i++)
            if (chunk[i] != (uint8_t)((next + i) * 31u >> 3))
                s->errors++;
        next += (uint32_t)n;
    }
    return NULL;
}

static void test_two_thread_stress(void **state)
{
    (void)state;
    struct stress s = { .r = ring_create(256) };
    pthread_t p, c;

    assert_non_null(s.r);
    assert_int_equal(pthread_create(&c, NULL, consumer, &s), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, &s), 0);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    assert_int_equal(s.errors, 0);
    assert_int_equal(ring_readable(s.r), 0);
    ring_destroy(s.r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_capacity_rounding),
        cmocka_unit_test(test_all_or_nothing),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_two_thread_stress),
    };
    return cmocka_run_group_tests_name("ring", tests, NULL, NULL);
}
