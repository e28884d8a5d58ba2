/*
 * libFuzzer target: codec_batch_decode() (tests/fuzz/run.sh).
 *
 * Any input must decode or be refused without a crash, a leak (a refused
 * batch frees what it decoded) or undefined behaviour. An accepted batch must
 * re-encode to the same bytes and decode again to equal commands.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "fuzz_equal.h"
#include "limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void release_all(struct cmd *cmds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        codec_cmd_release(&cmds[i]);
    }
}

/* Re-encodes an accepted batch and checks it against the input. */
static void check_round_trip(const uint8_t *data, size_t size, uint64_t ts_ms,
                             const struct cmd *first, uint32_t n)
{
    uint8_t *again = malloc(size);
    struct cmd *second = malloc(USHER_BATCH_CMDS_MAX * sizeof(struct cmd));
    ASSERT(again != NULL);
    ASSERT(second != NULL);
    size_t len = 0;
    ASSERT(codec_batch_encode(ts_ms, first, n, again, size, &len) == 0);
    ASSERT(len == size);
    ASSERT(memcmp(again, data, size) == 0);
    uint64_t ts_again = 0;
    uint32_t n_again = 0;
    ASSERT(codec_batch_decode(again, len, &ts_again, second, USHER_BATCH_CMDS_MAX, &n_again) == 0);
    ASSERT(ts_again == ts_ms);
    ASSERT(n_again == n);
    for (uint32_t i = 0; i < n; i++) {
        ASSERT(fuzz_cmd_equal(&first[i], &second[i]));
    }
    release_all(second, n_again);
    free(second);
    free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmd *cmds = malloc(USHER_BATCH_CMDS_MAX * sizeof(struct cmd));
    ASSERT(cmds != NULL);
    uint64_t ts_ms = 0;
    uint32_t n = 0;
    if (codec_batch_decode(data, size, &ts_ms, cmds, USHER_BATCH_CMDS_MAX, &n) == 0) {
        ASSERT(n <= USHER_BATCH_CMDS_MAX);
        check_round_trip(data, size, ts_ms, cmds, n);
        release_all(cmds, n);
    }
    free(cmds);
    return 0;
}
