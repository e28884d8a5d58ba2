/*
 * Idempotency keys, randomness, backoff and trace ids: the small pure
 * functions of libusher, kept apart so tests can check them exactly.
 *
 * Keys (docs/STATE.md "Idempotency"): (Unix ms << 20) | counter. The node's
 * idempotency table is ordered by (client id, key), so increasing keys
 * append at the end of the client's range. A key must never repeat for one
 * client id, so a clock that steps back or 2^20 keys in one millisecond
 * only make the next key last + 1.
 *
 * Randomness: splitmix64 seeded from getrandom(2). It is not for secrets:
 * it spreads retries (full jitter), picks trace ids and client ids.
 */
#include "usher_int.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "assertion.h"

uint64_t usher_key_wall_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0; /* cannot fail with a valid clock id; keys stay increasing anyway */
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t usher_key_make(uint64_t last, uint64_t now_ms)
{
    /* Unix ms need 41 bits until 2039 and 44 until 2527: the shift cannot
     * overflow before then. */
    uint64_t candidate = now_ms << 20;
    uint64_t key = candidate > last ? candidate : last + 1u;
    ASSERT(key > last);
    return key;
}

uint64_t usher_key_seed(void)
{
    uint64_t seed = 0;
    ssize_t got = getrandom(&seed, sizeof(seed), GRND_NONBLOCK);
    if (got != (ssize_t)sizeof(seed)) {
        /* No entropy yet (early boot): mix the clock and the pid. The seed
         * only spreads retries and names traces. */
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts); /* valid clock id: cannot fail */
        seed = ((uint64_t)ts.tv_sec << 30) ^ (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 48);
    }
    return seed != 0 ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t usher_key_rand(uint64_t *state)
{
    /* splitmix64 (Steele, Lea, Flood 2014): full period over 2^64 states. */
    *state += 0x9e3779b97f4a7c15ull;
    uint64_t z = *state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint32_t usher_key_backoff_ms(uint32_t base_ms, uint32_t max_ms, uint32_t retry, uint64_t rnd)
{
    /* Full jitter (AWS architecture blog, "Exponential Backoff And
     * Jitter"): a uniform wait in [0, min(max, base * 2^retry)] spreads the
     * retries of many clients that failed together. */
    uint64_t ceiling = base_ms;
    for (uint32_t i = 0; i < retry && ceiling < max_ms; i++) {
        ceiling *= 2u;
    }
    if (ceiling > max_ms) {
        ceiling = max_ms;
    }
    uint32_t wait = (uint32_t)(rnd % (ceiling + 1u));
    ASSERT(wait <= max_ms);
    return wait;
}

void usher_key_trace_id(uint64_t *state, uint8_t out[PROTO_TRACE_ID_BYTES])
{
    uint64_t hi = usher_key_rand(state);
    uint64_t lo = usher_key_rand(state);
    if (hi == 0 && lo == 0) {
        lo = 1; /* W3C: an all-zero trace id is invalid */
    }
    for (unsigned i = 0; i < 8u; i++) {
        out[i] = (uint8_t)(hi >> (8u * i));
        out[8u + i] = (uint8_t)(lo >> (8u * i));
    }
}
