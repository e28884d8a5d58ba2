/*
 * libFuzzer target: codec_cmd_decode() (tests/fuzz/run.sh).
 *
 * Any input must decode or be refused without a crash, a leak or undefined
 * behaviour. An accepted input must re-encode to the very same bytes (the
 * format has one encoding per command) and decode again to an equal command.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "fuzz_equal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cmd first;
    if (codec_cmd_decode(data, size, &first) != 0) {
        return 0;
    }
    uint8_t *again = malloc(size);
    ASSERT(again != NULL);
    size_t len = 0;
    ASSERT(codec_cmd_encode(&first, again, size, &len) == 0);
    ASSERT(len == size);
    ASSERT(memcmp(again, data, size) == 0);
    struct cmd second;
    ASSERT(codec_cmd_decode(again, len, &second) == 0);
    ASSERT(fuzz_cmd_equal(&first, &second));
    codec_cmd_release(&second);
    codec_cmd_release(&first);
    free(again);
    return 0;
}
