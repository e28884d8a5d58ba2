/*
 * Internals of a shard group shared by raft/group.c (lifecycle, roles,
 * reads), raft/batch.c (group commit), raft/fsm.c (apply, snapshots) and
 * raft/transport.c. See group.h for the contract.
 */
#ifndef USHER_RAFT_GROUP_INT_H
#define USHER_RAFT_GROUP_INT_H

#include <raft.h>
#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "group.h"
#include "limits.h"

#define GROUP_PATH_MAX 4096u

/* Defaults of group_options (0 means these). */
#define GROUP_SNAPSHOT_THRESHOLD_DEFAULT 65536u
#define GROUP_SNAPSHOT_TRAILING_DEFAULT  8192u
#define GROUP_INFLIGHT_DEFAULT           16u
#define GROUP_QUEUE_DEFAULT              8192u
#define GROUP_SWEEP_INTERVAL_DEFAULT_MS  1000u
#define GROUP_ELECTION_DEFAULT_MS        1000u
#define GROUP_HEARTBEAT_DEFAULT_MS       100u

/* raft_uv segment size: 1 MiB, not 8 (RAFT-NOTES §1.6: 3 segments are
 * preallocated per group). */
#define GROUP_SEGMENT_BYTES 1048576u /* 1 MiB */

/* Reads waiting for one barrier at most (beyond: BUSY). */
#define GROUP_READS_MAX 4096u

/* A callback waiting for its command's result or its read's barrier. */
struct group_waiter {
    group_submit_cb submit_cb; /* commands */
    group_read_cb read_cb;     /* reads */
    void *ctx;
};

/* A command queued for the next entry; bytes are owned. */
struct group_queued {
    uint8_t *bytes;
    size_t len;
    struct group_waiter w;
};

/* One proposed entry and the callbacks of its commands. */
struct group_entry {
    struct raft_apply req;
    struct group *g;
    uint32_t count;
    struct group_waiter waiters[]; /* count */
};

/* One barrier and the reads waiting for it. */
struct group_barrier {
    struct raft_barrier req;
    struct group *g;
    bool leader_barrier; /* the first barrier of a new term: serving after it */
    uint32_t count;
    struct group_waiter waiters[]; /* count */
};

enum group_state {
    GROUP_CREATED = 1,
    GROUP_RUNNING = 2,
    GROUP_CLOSING = 3,
};

struct group {
    uv_loop_t *loop;
    struct group_options o;
    char dir[GROUP_PATH_MAX];
    struct inv *inv;
    struct raft raft;
    struct raft_io io;
    struct raft_fsm fsm;
    struct raft_uv_transport transport;
    uv_prepare_t prepare; /* closes one entry per loop turn */
    uv_timer_t sweep_timer;
    /* Fires the transport's close callback on a later loop turn: raft_uv's
     * close fires its own callback twice if the transport's comes back
     * inside transport->close (a double free in libraft 0.15, seen here). */
    uv_timer_t transport_timer;
    raft_uv_transport_close_cb transport_close_cb;
    /* raft_uv may fire its close callback twice (libraft 0.15: a segment
     * writer can finish closing after the callback; upstream c042b4e was
     * reverted): io->close is wrapped so raft sees it once, and the raft_uv
     * memory is released only by group_destroy(), after the loop drained. */
    void (*io_close_orig)(struct raft_io *io, raft_io_close_cb cb);
    raft_io_close_cb io_close_cb;
    uint32_t handles_open;
    /* Leadership as last seen; serving only after the term's barrier. */
    int role;
    uint64_t serving_term;
    /* Group commit. */
    struct group_queued *queue; /* ring of o.queue_max */
    uint32_t queue_head;
    uint32_t queue_len;
    uint32_t entries_in_flight;
    uint64_t last_stamp_ms;
    /* Reads waiting for the next barrier. */
    struct group_waiter *reads;
    uint32_t reads_len;
    /* FSM scratch: the results of the entry being applied (RAFT-NOTES §1.1:
     * result pointers reach only the leader's callback, right after apply). */
    struct cmd_result results[USHER_BATCH_CMDS_MAX];
    /* Counters for status and metrics. */
    uint64_t entries_proposed;
    uint64_t commands_proposed;
    group_close_cb close_cb;
    void *close_ctx;
    /* Small fields last, to keep the struct packed. */
    uint8_t state; /* enum group_state */
    bool raft_inited;
    bool io_inited;
    bool transport_timer_inited;
    bool io_closed;
    bool serving;
    bool barrier_pending;
};

/* batch.c */
USHER_MUST_CHECK int batch_init(struct group *g);
void batch_close(struct group *g);
void batch_flush(struct group *g);
void batch_fail_queued(struct group *g, int status);
uint64_t batch_stamp(uint64_t last_ms, uint64_t wall_ms);

/* fsm.c */
void fsm_init(struct group *g);

/* transport.c: t->impl is the group, whose transport_timer must be
 * initialised. */
void transport_init_single(struct raft_uv_transport *t, struct group *g);

/* group.c */
void group_reads_fail(struct group *g, int status);

#endif
