/*
 * Event-to-shard routing (DESIGN.md "Shape"): an event belongs to shard
 * XXH64(event id as 8 little-endian bytes, seed 0) mod shard count. The
 * shard count is fixed when the cluster is created; events never move.
 */
#ifndef USHER_SRC_SHARD_H
#define USHER_SRC_SHARD_H

#include <stdint.h>

/* Returns the shard of event_id among shard_count (>= 1) shards. */
uint32_t shard_of_event(uint64_t event_id, uint32_t shard_count);

#endif
