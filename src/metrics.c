/*
 * metrics.c - latency histograms (see metrics.h).
 */
#include "metrics.h"

#include <math.h>

#define EDGE0_MS 0.5
#define RATIO 1.26                   /* ~ 10 buckets per decade */

double latency_bucket_edge(unsigned b)
{
    return EDGE0_MS * pow(RATIO, (double)b);
}

void latency_add(struct latency_hist *h, double ms)
{
    unsigned b = 0;

    if (!(ms >= 0))
        ms = 0;
    while (b + 1 < METRICS_BUCKETS && ms >= latency_bucket_edge(b))
        b++;
    h->bucket[b]++;
    h->count++;
    h->sum_ms += ms;
    h->last_ms = ms;
    if (ms > h->max_ms)
        h->max_ms = ms;
}

double latency_mean(const struct latency_hist *h)
{
    return h->count ? h->sum_ms / (double)h->count : 0;
}

double latency_percentile(const struct latency_hist *h, double p)
{
    uint64_t need, acc = 0;

    if (!h->count)
        return 0;
    need = (uint64_t)ceil((double)h->count * p / 100.0);
    if (need == 0)
        need = 1;
    for (unsigned b = 0; b < METRICS_BUCKETS; b++) {
        acc += h->bucket[b];
        if (acc >= need) {
            double edge = latency_bucket_edge(b);
            return edge < h->max_ms ? edge : h->max_ms;
        }
    }
    return h->max_ms;
}
