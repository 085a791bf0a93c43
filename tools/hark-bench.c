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
 *   hark-bench uplink    the cloud uplink: builds the real append events
 *                        (rt_build_audio_append / _bytes, G.711 with
 *                        src/g711.c) for 10 s of a test signal, per format
 *                        and chunk size; prints bytes on the wire per audio
 *                        second (JSON text with the base64, plus the
 *                        WebSocket header of a masked client frame: 2 + 4
 *                        bytes, 2 more for payloads of 126..65535 bytes, 8
 *                        more above; no permessage-deflate) and the CPU time
 *                        to build them per audio second.
 *
 * Single process, runs on the host only; not part of the device image.
 */
#define _GNU_SOURCE
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "g711.h"
#include "level_meter.h"
#include "pcm_convert.h"
#include "ring.h"
#include "rt_events.h"

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

/* ---- uplink: append events on the wire ---------------------------------------- */

#define UPLINK_SECONDS 10

struct uplink_case {
    const char *name;
    enum rt_audio_format format;
    unsigned chunk_ms;
    const char *event_type;
};

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Header bytes of one masked client frame carrying len payload bytes. */
static size_t ws_client_frame_overhead(size_t len)
{
    return 2 + 4 + (len <= 125 ? 0 : len <= 65535 ? 2 : 8);
}

/* Builds every append event of UPLINK_SECONDS of pcm; returns the JSON and
 * wire bytes, or -1 when a builder fails. */
static int uplink_pass(const struct uplink_case *c, const int16_t *pcm, size_t samples, unsigned rate,
                       char *msg, size_t cap, uint8_t *enc, uint64_t *json_bytes, uint64_t *wire_bytes,
                       unsigned *events)
{
    size_t chunk = (size_t)rate * c->chunk_ms / 1000;

    *json_bytes = *wire_bytes = 0;
    *events = 0;
    for (size_t pos = 0; pos < samples; pos += chunk) {
        size_t n = samples - pos < chunk ? samples - pos : chunk;
        int len;

        if (c->format == RT_AUDIO_PCM24K) {
            len = rt_build_audio_append(msg, cap, pcm + pos, n, c->event_type, NULL);
        } else {
            g711_encode(c->format == RT_AUDIO_PCMA ? G711_ALAW : G711_ULAW, enc, pcm + pos, n);
            len = rt_build_audio_append_bytes(msg, cap, enc, n, c->event_type, NULL);
        }
        if (len < 0)
            return -1;
        *json_bytes += (uint64_t)len;
        *wire_bytes += (uint64_t)len + ws_client_frame_overhead((size_t)len);
        (*events)++;
    }
    return 0;
}

static int bench_uplink(void)
{
    static const struct uplink_case cases[] = {
        { "pcm24", RT_AUDIO_PCM24K, 20, "input_audio_buffer.append" },
        { "pcm24", RT_AUDIO_PCM24K, 40, "input_audio_buffer.append" },
        { "pcmu", RT_AUDIO_PCMU, 20, "input_audio_buffer.append" },
        { "pcmu", RT_AUDIO_PCMU, 40, "input_audio_buffer.append" },
        { "pcma", RT_AUDIO_PCMA, 20, "input_audio_buffer.append" },
        { "pcma", RT_AUDIO_PCMA, 40, "input_audio_buffer.append" },
        { "pcm24", RT_AUDIO_PCM24K, 200, "session.input_audio_buffer.append" },   /* translation */
    };
    size_t max_samples = (size_t)RT_RATE_HZ * UPLINK_SECONDS;
    size_t cap = rt_audio_append_cap((size_t)RT_RATE_HZ * 2, NULL);   /* up to 1 s chunks */
    int16_t *pcm = malloc(max_samples * sizeof(int16_t));
    uint8_t *enc = malloc(RT_RATE_HZ);
    char *msg = malloc(cap);
    int rc = 0;

    if (!pcm || !enc || !msg) {
        rc = 1;
        goto out_free;
    }
    printf("uplink, %d s of audio per pass; bytes per audio second (JSON text incl. base64; wire = + masked "
           "WebSocket client frame headers)\n", UPLINK_SECONDS);
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        const struct uplink_case *c = &cases[k];
        unsigned rate = c->format == RT_AUDIO_PCM24K ? RT_RATE_HZ : 8000;
        size_t samples = (size_t)rate * UPLINK_SECONDS;
        unsigned bytes_per_sample = c->format == RT_AUDIO_PCM24K ? 2 : 1;
        uint64_t json_b, wire_b;
        unsigned events, reps = 0;
        uint32_t x = 1;
        double t0, t;

        /* test signal: a -12 dBFS 440 Hz tone plus -30 dBFS white noise */
        for (size_t i = 0; i < samples; i++) {
            x = x * 1664525u + 1013904223u;
            pcm[i] = (int16_t)lrint(8231.0 * sin(2 * M_PI * 440.0 * (double)i / rate) +
                                    1036.0 * ((double)(x >> 8) / (1 << 24) * 2 - 1) * 1.732);
        }
        /* repeat until 0.3 s of CPU (at least 3 passes) for a stable figure */
        t0 = cpu_s();
        do {
            if (uplink_pass(c, pcm, samples, rate, msg, cap, enc, &json_b, &wire_b, &events) < 0) {
                fprintf(stderr, "hark-bench: building %s %u ms events failed\n", c->name, c->chunk_ms);
                rc = 1;
                goto out_free;
            }
            reps++;
            t = cpu_s() - t0;
        } while (t < 0.3 || reps < 3);
        printf("  %-5s %3u ms %-34s %3.0f events/s  JSON %6.0f B/s  wire %6.0f B/s = %5.1f kbit/s  "
               "(audio %5u B/s, x%.3f)  build %6.1f us CPU per audio s\n",
               c->name, c->chunk_ms, c->event_type, (double)events / UPLINK_SECONDS,
               (double)json_b / UPLINK_SECONDS, (double)wire_b / UPLINK_SECONDS,
               (double)wire_b * 8 / UPLINK_SECONDS / 1000, rate * bytes_per_sample,
               (double)wire_b / ((double)samples * bytes_per_sample),
               t / reps / UPLINK_SECONDS * 1e6);
    }
    /* the G.711 share of the above: the encoder alone over the last signal (8 kHz) */
    for (int law = G711_ULAW; law <= G711_ALAW; law++) {
        size_t samples = (size_t)8000 * UPLINK_SECONDS;
        unsigned reps = 0;
        static volatile uint8_t sink;
        double t0 = cpu_s(), t;
        do {
            for (size_t pos = 0; pos < samples; pos += 160) {
                g711_encode((enum g711_law)law, enc, pcm + pos, 160);
                sink ^= enc[0];
            }
            reps++;
            t = cpu_s() - t0;
        } while (t < 0.2 || reps < 3);
        printf("  g711_encode alone (%s): %.1f us CPU per audio s (%.2f ns per sample)\n",
               law == G711_ULAW ? "u-law" : "A-law", t / reps / UPLINK_SECONDS * 1e6,
               t / reps / (double)samples * 1e9);
    }
out_free:
    free(pcm);
    free(enc);
    free(msg);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "convert"))
        return bench_convert(argc >= 3 ? atof(argv[2]) : 60);
    if (argc >= 2 && !strcmp(argv[1], "handoff"))
        return bench_handoff(argc >= 3 ? (unsigned)atoi(argv[2]) : 300);
    if (argc >= 2 && !strcmp(argv[1], "uplink"))
        return bench_uplink();
    fprintf(stderr, "usage: hark-bench convert [SECONDS] | handoff [HOPS] | uplink\n");
    return 2;
}
