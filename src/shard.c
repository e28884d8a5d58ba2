/* Event-to-shard routing; the same function runs in libusher. */
#include "shard.h"

#include <string.h>
#include <xxhash.h>

#include "assertion.h"

uint32_t shard_of_event(uint64_t event_id, uint32_t shard_count)
{
    ASSERT(shard_count >= 1);
    uint8_t bytes[8];
    for (unsigned i = 0; i < 8; i++) {
        bytes[i] = (uint8_t)(event_id >> (8u * i));
    }
    return (uint32_t)(XXH64(bytes, sizeof(bytes), 0) % shard_count);
}
