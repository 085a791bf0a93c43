/*
 * metrics.h - latency histograms for harkd's control socket: fixed
 * log-spaced buckets (0.5 ms .. ~50 s), count, mean, max and percentiles.
 * No allocation; a histogram is plain data inside its owner.
 *
 * Threads: one writer and readers on the same thread (harkd's main loop).
 */
#ifndef HARK_METRICS_H
#define HARK_METRICS_H

#include <stdint.h>

#define METRICS_BUCKETS 52          /* bucket b holds values < 0.5 ms * 1.26^b (to ~50 s) */

struct latency_hist {
    uint64_t count;
    double sum_ms, max_ms, last_ms;
    uint32_t bucket[METRICS_BUCKETS];
};

void latency_add(struct latency_hist *h, double ms);
/* Upper bound of the bucket holding the p-th percentile (0 < p <= 100);
 * 0 when empty. Never more than max_ms. */
double latency_percentile(const struct latency_hist *h, double p);
double latency_mean(const struct latency_hist *h);
/* Upper edge of bucket b in ms. */
double latency_bucket_edge(unsigned b);

#endif
