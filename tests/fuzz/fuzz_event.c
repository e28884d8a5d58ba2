/*
 * libFuzzer target: codec_event_decode() (tests/fuzz/run.sh).
 *
 * Any input must decode or be refused without a crash, a leak or undefined
 * behaviour. An accepted description must re-encode to the same bytes and
 * decode again to an equal event. The event helpers that later run on
 * decoded events (copy, defaults, validate, seat lookup) run on it too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "event.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs what apply runs on a new event, on a copy. */
static void check_helpers(const struct event *e)
{
    struct event *c = event_copy(e);
    ASSERT(c != NULL);
    ASSERT(event_equal(c, e));
    event_apply_defaults(c);
    if (event_validate(c) == 0 && c->seat_count > 0) {
        uint32_t last = c->seat_count - 1;
        uint32_t row = event_row_of_seat(c, last);
        ASSERT(row < c->row_count);
        ASSERT(event_row_of_seat(c, 0) <= row);
    }
    event_destroy(c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct event *first = NULL;
    if (codec_event_decode(data, size, &first) != 0) {
        return 0;
    }
    ASSERT(first != NULL);
    uint8_t *again = malloc(size == 0 ? 1 : size);
    ASSERT(again != NULL);
    size_t len = 0;
    ASSERT(codec_event_encode(first, again, size, &len) == 0);
    ASSERT(len == size);
    ASSERT(memcmp(again, data, size) == 0);
    struct event *second = NULL;
    ASSERT(codec_event_decode(again, len, &second) == 0);
    ASSERT(event_equal(first, second));
    check_helpers(first);
    event_destroy(second);
    event_destroy(first);
    free(again);
    return 0;
}
