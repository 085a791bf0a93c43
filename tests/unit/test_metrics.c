/*
 * test_metrics.c - latency histograms: counts, mean, max and percentiles
 * within one bucket (26 %) of the exact order statistic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void test_percentiles_bracket_the_truth(void **state)
{
    struct latency_hist h;
    (void)state;
    memset(&h, 0, sizeof(h));
    assert_true(latency_percentile(&h, 50) == 0);
    for (int i = 1; i <= 1000; i++)
        latency_add(&h, i * 0.1);        /* 0.1 .. 100 ms */
    assert_int_equal(h.count, 1000);
    assert_float_equal(latency_mean(&h), 50.05, 1e-9);
    assert_float_equal(h.max_ms, 100.0, 1e-9);
    /* The reported value is the bucket's upper edge: >= truth, < truth * 1.26. */
    double p50 = latency_percentile(&h, 50), p95 = latency_percentile(&h, 95), p100 = latency_percentile(&h, 100);
    assert_true(p50 >= 50.0 && p50 < 50.0 * 1.26);
    assert_true(p95 >= 95.0 && p95 < 95.0 * 1.26);
    assert_float_equal(p100, 100.0, 1e-9);   /* capped at the max */
}

static void test_outliers_and_bad_values(void **state)
{
    struct latency_hist h;
    (void)state;
    memset(&h, 0, sizeof(h));
    latency_add(&h, -5);                  /* clock skew: counted as 0 */
    latency_add(&h, 0.0 / 0.0);           /* NaN: counted as 0 */
    latency_add(&h, 1e9);                 /* lands in the last bucket */
    assert_int_equal(h.count, 3);
    assert_int_equal(h.bucket[0], 2);
    assert_int_equal(h.bucket[METRICS_BUCKETS - 1], 1);
    assert_float_equal(latency_percentile(&h, 50), latency_bucket_edge(0), 1e-12);
    assert_true(latency_bucket_edge(METRICS_BUCKETS - 2) > 30000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percentiles_bracket_the_truth),
        cmocka_unit_test(test_outliers_and_bad_values),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
