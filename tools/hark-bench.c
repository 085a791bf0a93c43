/*
 * hark-bench.c - micro-benchmarks of harkd's audio path code on the host.
 *
 *   hark-bench convert   S16 -> float with the channel map + level metering
 *                        over N seconds of 5-channel 16 kHz audio (the sim4
 *                        capture layout); prints ns per audio second.
 *                        Run under `valgrind --tool=callgrind` for an
 *                        instruction count that does not depend on load.
 *   hark-bench handoff   the capture -> DSP hand-off: a producer thread
 *                        writes 10 ms hops to an SPSC ring and wakes the
 *                        consumer through an eventfd, as the capture thread
 *                        does; prints the wake-up latency distribution.
 *
 * Single process, runs on the host only; not part of the device image.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "level_meter.h"
#include "pcm_convert.h"
#include "ring.h"

#define RATE 16000
#define HOP 160
#define ALSA_CH 5

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int bench_convert(double seconds)
{
    static int16_t raw[HOP * ALSA_CH];
    static float hop[HOP * ALSA_CH];
    static struct level_meter m;
    const int map[5] = { 0, 1, 2, 3, 4 };
    unsigned hops = (unsigned)(seconds * RATE / HOP);
    uint32_t x = 1;
    double t0, t;

    for (unsigned i = 0; i < HOP * ALSA_CH; i++) {
        x = x * 1664525u + 1013904223u;
        raw[i] = (int16_t)(x >> 16);
    }
    level_meter_init(&m, 5, RATE);
    t0 = now_s();
    for (unsigned h = 0; h < hops; h++) {
        pcm_to_float_mapped(raw, SAMPLE_S16_LE, ALSA_CH, map, 5, hop, HOP);
        if (level_meter_process(&m, hop, HOP))
            level_meter_publish(&m);
    }
    t = now_s() - t0;
    printf("convert+meter: %.0f s of 5-ch 16 kHz audio in %.4f s: %.0f us per audio second (%.4f %% of one core)\n",
           seconds, t, t / seconds * 1e6, t / seconds * 100);
    return 0;
}

struct handoff {
    struct ring *r;
    int efd;
    unsigned hops;
};

static void *producer(void *arg)
{
    struct handoff *h = arg;
    float hop[HOP * 5];
    struct timespec next;
    uint64_t one = 1;

    memset(hop, 0, sizeof(hop));
    clock_gettime(CLOCK_MONOTONIC, &next);
    for (unsigned i = 0; i < h->hops; i++) {
        double stamp;
        next.tv_nsec += 10000000;
        if (next.tv_nsec >= 1000000000) {
            next.tv_nsec -= 1000000000;
            next.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
        stamp = now_s();
        memcpy(hop, &stamp, sizeof(stamp));
        (void)ring_write(h->r, hop, sizeof(hop));
        (void)!write(h->efd, &one, sizeof(one));
    }
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int bench_handoff(unsigned hops)
{
    struct handoff h = { ring_create(HOP * 5 * sizeof(float) * 64), eventfd(0, EFD_CLOEXEC), hops };
    double *lat = calloc(hops, sizeof(double));
    float hop[HOP * 5];
    unsigned got = 0;
    pthread_t t;

    if (!h.r || h.efd < 0 || !lat)
        return 1;
    pthread_create(&t, NULL, producer, &h);
    while (got < hops) {
        struct pollfd pfd = { .fd = h.efd, .events = POLLIN };
        uint64_t v;
        if (poll(&pfd, 1, 1000) <= 0)
            break;
        (void)!read(h.efd, &v, sizeof(v));
        while (got < hops && ring_read(h.r, hop, sizeof(hop)) == sizeof(hop)) {
            double stamp;
            memcpy(&stamp, hop, sizeof(stamp));
            lat[got++] = now_s() - stamp;
        }
    }
    pthread_join(t, NULL);
    qsort(lat, got, sizeof(double), cmp_double);
    printf("capture->DSP hand-off (ring + eventfd), %u hops of 10 ms: median %.1f us, p99 %.1f us, max %.1f us\n",
           got, lat[got / 2] * 1e6, lat[got * 99 / 100] * 1e6, lat[got - 1] * 1e6);
    free(lat);
    ring_destroy(h.r);
    close(h.efd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "convert"))
        return bench_convert(argc >= 3 ? atof(argv[2]) : 60);
    if (argc >= 2 && !strcmp(argv[1], "handoff"))
        return bench_handoff(argc >= 3 ? (unsigned)atoi(argv[2]) : 300);
    fprintf(stderr, "usage: hark-bench convert [SECONDS] | handoff [HOPS]\n");
    return 2;
}
