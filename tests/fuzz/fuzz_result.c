/*
 * libFuzzer target: codec_result_decode() (tests/fuzz/run.sh).
 *
 * Any input must decode or be refused without a crash or undefined
 * behaviour. An accepted result must re-encode to the same bytes and decode
 * again to an equal result.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "fuzz_equal.h"
#include "limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmd_result first;
    if (codec_result_decode(data, size, &first) != 0) {
        return 0;
    }
    ASSERT(first.replayed <= 1);
    uint8_t again[USHER_RESULT_BYTES_MAX];
    size_t len = 0;
    ASSERT(codec_result_encode(&first, again, sizeof(again), &len) == 0);
    ASSERT(len == size);
    ASSERT(memcmp(again, data, size) == 0);
    struct cmd_result second;
    ASSERT(codec_result_decode(again, len, &second) == 0);
    ASSERT(fuzz_result_equal(&first, &second));
    return 0;
}
