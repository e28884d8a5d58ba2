/*
 * A fixed-bucket latency histogram for usher-bench: log-linear buckets
 * (as HdrHistogram's), so every recorded value lands in a bucket whose
 * width is at most 1/32 of its value (about 3% error), from 1 us to over
 * 60 s, in a fixed array: recording never allocates and costs a few
 * instructions.
 *
 *   values 0 .. 63 us          one bucket per microsecond
 *   values 2^k .. 2^(k+1)-1    32 buckets of 2^(k-5) us each (6 <= k < 36)
 *   values from 2^36 us        one last bucket
 */
#ifndef USHER_CLIENT_BENCH_HIST_H
#define USHER_CLIENT_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 5u  /* 32 sub-buckets per power of two */
#define BENCH_HIST_MAX_BITS 36u /* values up to 2^36 us (19 hours) */
/* 64 linear buckets, 32 per power of two from 2^6 to 2^36, one for the rest. */
#define BENCH_HIST_BUCKETS (64u + (BENCH_HIST_MAX_BITS - 6u) * 32u + 1u)

struct bench_hist {
    uint64_t count;
    uint64_t max_us;
    uint64_t buckets[BENCH_HIST_BUCKETS];
};

/* Empties h. */
void bench_hist_reset(struct bench_hist *h);

/* Records one value in microseconds (values past the range count in the
 * last bucket). */
void bench_hist_record(struct bench_hist *h, uint64_t us);

/* Adds every value of `from` into `into`. */
void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from);

/* Returns the value at quantile q (0 < q <= 1): the upper bound of the
 * bucket holding the ceil(q * count)-th smallest value (the true max for
 * the last); 0 when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

/* Returns the bucket index of a value, and the largest value of a bucket
 * (exposed for the unit tests). */
uint32_t bench_hist_bucket(uint64_t us);
uint64_t bench_hist_bucket_max(uint32_t bucket);

/* Shared by usher-bench and usher-surge: parses a decimal option value of
 * digits only into *out when it lies in min..max. Returns 0 or -1. */
int bench_arg_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

#endif
