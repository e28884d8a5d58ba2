/*
 * The raft_fsm of a shard group: every committed COMMAND entry is one batch
 * (codec.h) applied through the state machine (inv_apply_encoded), and a
 * snapshot is the store's export (docs/STATE.md "Snapshot").
 *
 * libraft 0.15 facts this module is built on (RAFT-NOTES §1.1, §3):
 *
 *   apply gets no index     the entry's index is raft_last_applied() + 1,
 *                           an undocumented ordering wrapped in one helper
 *                           and cross-checked by batch.c on every leader
 *                           entry (fsm_output.index == raft_apply's index)
 *   result pointer          reaches only the leader's raft_apply callback,
 *                           right after this apply: it points at the
 *                           fsm's own output, never at an allocation
 *   non-zero from apply     stalls the apply loop for ever: business
 *                           outcomes are in the results, a storage failure
 *                           aborts the node (STYLE.md 4.7)
 *   snapshot buffers        FSM version 2 with snapshot_finalize: raft
 *                           frees nothing, finalize frees the export
 *   restore ownership       on success the FSM raft_free()s buf->base, on
 *                           failure raft does
 *
 * Restart (RAFT-NOTES §3 option b): the store keeps its applied index, so
 * the entries raft replays at start that the store already has are skipped
 * (inv_apply says STALE_INDEX), and a snapshot at or below the store's
 * index is not loaded when the store was kept after a clean shutdown.
 */
#ifndef USHER_RAFT_FSM_H
#define USHER_RAFT_FSM_H

#include <raft.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "inv.h"
#include "limits.h"

/* What applying one entry left for the leader's raft_apply callback; valid
 * until the next entry is applied. */
struct fsm_output {
    uint64_t index;    /* the log index the entry was applied at */
    int decode_status; /* 0, or why the entry did not decode (it was applied
                          as an empty batch: none of its commands happened) */
    uint32_t count;    /* commands in the entry (0 when it did not decode) */
    struct cmd_result results[USHER_BATCH_CMDS_MAX];
};

/* Counters for tests, metrics and the status page. */
struct fsm_counters {
    uint64_t applied;          /* entries applied to the store */
    uint64_t skipped;          /* replayed entries the store already had */
    uint64_t undecodable;      /* entries applied as empty (decode failed) */
    uint64_t snapshots;        /* snapshots exported */
    uint64_t restores_loaded;  /* snapshots loaded into the store */
    uint64_t restores_skipped; /* snapshots the kept store was already past */
    uint64_t snapshot_last_us; /* time the last export took (on the thread pool) */
    uint64_t snapshot_last_bytes;
    uint64_t restore_last_us; /* time the last restore held the loop */
};

struct fsm {
    struct raft_fsm raft_fsm; /* handed to raft_init(); its data points here */
    struct raft *raft;        /* borrowed: the index of the entry being applied */
    struct inv *inv;          /* borrowed: the shard's store */
    uint32_t shard;           /* for the fatal log line */
    bool store_kept;          /* the store survived a clean shutdown */
    bool async;               /* snapshots serialised on the thread pool (FSM v3) */
    struct fsm_counters counters;
    struct raft_buffer snapshot_buf; /* the export being written (one at a time) */
    struct inv_snapshot *snap;       /* between snapshot() and snapshot_finalize() */
    uint64_t async_us;               /* written by the pool thread, read at finalize */
    uint64_t async_bytes;
    struct fsm_output out;
};

/* True while a snapshot is being taken: the store must stay open (and raft
 * must not be closed) until snapshot_finalize() ran. */
static inline bool fsm_snapshot_busy(const struct fsm *f)
{
    return f->snap != NULL;
}

/*
 * Initialises f (caller-owned; it must stay valid until raft's close
 * callback) for raft r and store inv, both borrowed. store_kept says the
 * store was kept from a clean shutdown (group.c), which allows skipping a
 * snapshot it is already past. async_snapshots: serialise snapshots on the
 * thread pool (FSM version 3; usherd), else on the calling thread (version
 * 2; the raft_fixture tests, whose io stalls a second asynchronous snapshot
 * in libraft 0.15).
 */
void fsm_init(struct fsm *f, struct raft *r, struct inv *inv, uint32_t shard, bool store_kept,
              bool async_snapshots);

#endif
