/* Fixed-bucket latency histogram of usher-bench (bench_hist.h). */
#include "bench_hist.h"

#include <errno.h>
#include <stdlib.h>

#include <math.h>
#include <string.h>

void bench_hist_reset(struct bench_hist *h)
{
    memset(h, 0, sizeof(*h));
}

uint32_t bench_hist_bucket(uint64_t us)
{
    if (us < 64u) {
        return (uint32_t)us;
    }
    uint32_t k = 63u - (uint32_t)__builtin_clzll(us); /* 2^k <= us < 2^(k+1), k >= 6 */
    if (k >= BENCH_HIST_MAX_BITS) {
        return BENCH_HIST_BUCKETS - 1u;
    }
    uint32_t shift = k - BENCH_HIST_SUB_BITS;
    uint32_t sub = (uint32_t)(us >> shift) - 32u; /* 0 .. 31 */
    return 64u + (k - 6u) * 32u + sub;
}

uint64_t bench_hist_bucket_max(uint32_t bucket)
{
    if (bucket < 64u) {
        return bucket;
    }
    if (bucket >= BENCH_HIST_BUCKETS - 1u) {
        return UINT64_MAX;
    }
    uint32_t k = (bucket - 64u) / 32u + 6u;
    uint32_t sub = (bucket - 64u) % 32u;
    uint32_t shift = k - BENCH_HIST_SUB_BITS;
    return ((uint64_t)(32u + sub + 1u) << shift) - 1u;
}

void bench_hist_record(struct bench_hist *h, uint64_t us)
{
    h->buckets[bench_hist_bucket(us)]++;
    h->count++;
    if (us > h->max_us) {
        h->max_us = us;
    }
}

void bench_hist_merge(struct bench_hist *into, const struct bench_hist *from)
{
    for (uint32_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        into->buckets[i] += from->buckets[i];
    }
    into->count += from->count;
    if (from->max_us > into->max_us) {
        into->max_us = from->max_us;
    }
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q)
{
    if (h->count == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)ceil(q * (double)h->count);
    rank = rank == 0 ? 1 : (rank > h->count ? h->count : rank);
    uint64_t seen = 0;
    for (uint32_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t top = bench_hist_bucket_max(i);
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}

int bench_arg_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = v;
    return 0;
}
