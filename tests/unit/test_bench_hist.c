/* Unit tests of usher-bench's fixed-bucket latency histogram (client/bench_hist.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bench_hist.h"

/* Goal: buckets tile the values with no gap and no overlap: each value's
 * bucket holds it, the bucket before ends just below it, and a bucket is at
 * most 1/32 of its values wide (the stated error bound). */
static void test_hist_buckets_tile_the_range(void **state)
{
    (void)state;
    assert_int_equal(bench_hist_bucket(0), 0);
    assert_int_equal(bench_hist_bucket(63), 63);
    assert_int_equal(bench_hist_bucket(64), 64);
    assert_int_equal(bench_hist_bucket_max(64), 65);
    assert_int_equal(bench_hist_bucket(66), 65);
    uint64_t v = 1;
    for (uint32_t step = 0; v < (1ull << 36); step++) {
        uint32_t b = bench_hist_bucket(v);
        assert_true(bench_hist_bucket_max(b) >= v);
        assert_true(bench_hist_bucket_max(b - 1u) < v);
        uint64_t low = bench_hist_bucket_max(b - 1u) + 1u;
        assert_true((bench_hist_bucket_max(b) - low + 1u) * 32u <= (low < 64 ? 32 : low));
        v += 1u + v / 50u + step % 7u;
    }
    assert_int_equal(bench_hist_bucket(1ull << 36), BENCH_HIST_BUCKETS - 1u);
    assert_int_equal(bench_hist_bucket(UINT64_MAX), BENCH_HIST_BUCKETS - 1u);
    assert_true(bench_hist_bucket_max(BENCH_HIST_BUCKETS - 2u) == (1ull << 36) - 1u);
}

/* Goal: quantiles of 1..1000 us land within the bucket error of the true
 * ones, q = 1 is the exact maximum, and an empty histogram answers 0. */
static void test_hist_quantiles_within_bucket_error(void **state)
{
    (void)state;
    struct bench_hist *h = calloc(1, sizeof(*h));
    assert_non_null(h);
    assert_int_equal(bench_hist_quantile(h, 0.99), 0);
    for (uint64_t us = 1000; us >= 1; us--) {
        bench_hist_record(h, us);
    }
    assert_int_equal(h->count, 1000);
    uint64_t p50 = bench_hist_quantile(h, 0.50);
    uint64_t p99 = bench_hist_quantile(h, 0.99);
    uint64_t p999 = bench_hist_quantile(h, 0.999);
    assert_true(p50 >= 500 && p50 <= 500 + 500 / 32);
    assert_true(p99 >= 990 && p99 <= 1000);
    assert_true(p999 >= 999 && p999 <= 1000);
    assert_int_equal(bench_hist_quantile(h, 1.0), 1000);
    assert_int_equal(bench_hist_quantile(h, 0.0001), 1);
    free(h);
}

/* Goal: merging adds counts and keeps the larger maximum; a value past the
 * range is counted and reported by its true maximum. */
static void test_hist_merge_and_overflow(void **state)
{
    (void)state;
    struct bench_hist *a = calloc(1, sizeof(*a));
    struct bench_hist *b = calloc(1, sizeof(*b));
    assert_non_null(a);
    assert_non_null(b);
    bench_hist_record(a, 10);
    bench_hist_record(b, 1ull << 40);
    bench_hist_merge(a, b);
    assert_int_equal(a->count, 2);
    assert_true(a->max_us == 1ull << 40);
    assert_int_equal(bench_hist_quantile(a, 0.5), 10);
    assert_true(bench_hist_quantile(a, 1.0) == 1ull << 40);
    bench_hist_reset(a);
    assert_int_equal(a->count, 0);
    assert_int_equal(bench_hist_quantile(a, 0.5), 0);
    free(a);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_buckets_tile_the_range),
        cmocka_unit_test(test_hist_quantiles_within_bucket_error),
        cmocka_unit_test(test_hist_merge_and_overflow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
