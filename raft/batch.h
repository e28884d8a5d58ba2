/*
 * Group commit of a shard group (DESIGN.md "Commands", STYLE.md 7.4).
 *
 * Commands queue up in a bounded ring while earlier entries are in flight.
 * Once per loop turn the group's uv_prepare hook calls batch_flush(), which
 * closes the queue into as few entries as the bounds allow (at most
 * cmds_max commands and entry_bytes_max bytes each) and proposes them, with
 * at most in_flight_max entries proposed and not yet applied. A lone
 * command still goes out in the loop turn it arrived in; under load the
 * commands that arrive while entries are in flight share the next entry.
 *
 *   queue (ring, queue_max)        in flight (ring, in_flight_max)
 *   [cmd][cmd][cmd] ... --flush--> [entry: raft_apply req, waiters[count]]
 *
 * Each entry is a batch (codec.h) stamped with the leader's time, never
 * below the previous stamp (DESIGN guarantee 3), padded with zeros to a
 * multiple of 8 bytes (docs/RAFT.md pitfall 1). When the entry is applied,
 * the leader's raft_apply callback hands each command its own result from
 * the fsm's output (fsm.h). An entry that reports lost leadership answers
 * each of its commands NOT_LEADER with no result: it may still commit, so
 * the client retries with the same idempotency key (group.h).
 *
 * Two facts the leader lease needs (group.h): when the newest entry that was
 * applied had been proposed (a majority heard from this leader after that
 * moment), and whether a command with a given idempotency key is queued or
 * in flight (its retry must then go through the log to get the first
 * result). The keys are counted in a fixed table of BATCH_KEY_SLOTS
 * counters (256 KiB per shard) indexed by the key's hash: a collision only
 * sends a command through the log that could have been answered on the
 * leader.
 *
 * Memory: the queue, the in-flight entries, their callback slots and the key
 * counters are allocated once by batch_init(); each queued command's bytes
 * are one mem_alloc() (a failed one is answered BUSY), each entry one
 * raft_malloc() that raft owns once raft_apply() accepted it.
 */
#ifndef USHER_RAFT_BATCH_H
#define USHER_RAFT_BATCH_H

#include <raft.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "group.h"

struct batch_options {
    uint32_t queue_max;       /* commands waiting for an entry (BUSY beyond) */
    uint32_t cmds_max;        /* commands per entry, 1..USHER_BATCH_CMDS_MAX */
    uint32_t in_flight_max;   /* entries proposed and not yet applied */
    uint32_t entry_bytes_max; /* bytes of one entry, padding included: a
                                 multiple of 8 that holds the largest command */
};

/* Counters of the keys queued or in flight (a power of two). */
#define BATCH_KEY_SLOTS 65536u

/* Who waits for a command's result, and the command's key (0: none). */
struct batch_waiter {
    group_submit_cb cb;
    void *ctx;
    uint64_t key;
};

/* A queued command; its bytes are owned by the batch. */
struct batch_cmd {
    uint8_t *bytes;
    size_t len;
    struct batch_waiter waiter;
};

/* A proposed entry; req.data points back at it. */
struct batch_entry {
    struct raft_apply req;
    struct batch *batch;
    uint32_t count;               /* commands in the entry */
    uint64_t proposed_ns;         /* uv_hrtime() just before raft_apply() */
    struct batch_waiter *waiters; /* cmds_max slots, count used */
};

struct batch_counters {
    uint64_t entries;  /* entries proposed */
    uint64_t commands; /* commands proposed */
    uint64_t lost;     /* commands answered NOT_LEADER after being proposed */
};

struct batch {
    struct raft *raft; /* borrowed */
    struct batch_options o;
    struct batch_cmd *queue; /* ring of o.queue_max */
    uint32_t queue_head;
    uint32_t queue_len;
    struct batch_entry *entries;       /* ring of o.in_flight_max */
    struct batch_waiter *waiter_slots; /* o.in_flight_max * o.cmds_max */
    uint32_t entries_head;             /* oldest entry in flight */
    uint32_t in_flight;
    uint64_t stamp_ms; /* the last stamp proposed (or the floor) */
    /* The proposal time (uv_hrtime()) of the newest entry or barrier of this
     * leader known committed: a majority accepted something it sent after
     * that moment (batch_confirm()). */
    uint64_t confirmed_ns;
    uint32_t *keys; /* BATCH_KEY_SLOTS counters of queued + in-flight keys */
    struct batch_counters counters;
};

/*
 * Initialises b (caller-owned) for raft r (borrowed). Returns 0, or NOMEM.
 * Close with batch_close() once nothing is queued or in flight.
 */
USHER_MUST_CHECK int batch_init(struct batch *b, struct raft *r, const struct batch_options *o);

/* Frees b's memory. Nothing may be queued or in flight (answer the queue
 * with batch_fail(); in-flight entries are answered by raft_close()). */
void batch_close(struct batch *b);

/*
 * Queues a copy of one encoded command (cmd borrowed for the call) whose
 * idempotency key is key (group_key(); 0: none); cb is called exactly once,
 * later: from batch_fail() or once its entry was applied or lost. Returns
 * 0, or at once (cb not called) BUSY when the queue is full or the copy
 * cannot be allocated, LIMIT_MSG_SIZE when len is 0 or above
 * USHER_CMD_BYTES_MAX.
 */
USHER_MUST_CHECK int batch_push(struct batch *b, const uint8_t *cmd, size_t len, uint64_t key,
                                group_submit_cb cb, void *ctx);

/* Records that something proposed at proposed_ns committed: an entry of the
 * batch (done here) or a barrier of the group (the group calls it). */
void batch_confirm(struct batch *b, uint64_t proposed_ns);

/* True when a command with key (!= 0) may be queued or in flight: false
 * means certainly none is. */
bool batch_key_busy(const struct batch *b, uint64_t key);

/*
 * Proposes the queued commands as entries stamped from wall_ms, while
 * entries may be in flight. Returns 0, or NOT_LEADER when raft refused
 * (the queue is left as is: the caller steps down and fails it). Commands
 * of an entry raft refused for another reason are answered BUSY.
 */
USHER_MUST_CHECK int batch_flush(struct batch *b, uint64_t wall_ms);

/* Answers every queued (not yet proposed) command with status. */
void batch_fail(struct batch *b, int status);

/* Raises the stamp floor to floor_ms (a new leader: the state machine's
 * time), so no later stamp is below it. */
void batch_stamp_floor(struct batch *b, uint64_t floor_ms);

/* The stamp of the next entry: the wall clock, never below the previous
 * stamp (a clock that steps back freezes time instead). */
uint64_t batch_stamp(uint64_t previous_ms, uint64_t wall_ms);

#endif
