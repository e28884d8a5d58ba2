/*
 * One shard = one Raft group: a libraft instance with the libuv I/O backend
 * in its own folder, whose FSM applies log entries through the inventory
 * state machine (src/inv.h). The only module that includes raft.h
 * (STYLE.md 1.3), together with the other raft/ files.
 *
 *   data/shards/<shard>/raft/   raft_uv: metadata, segments, snapshots
 *   data/shards/<shard>/store/  LMDB environment of the shard (inv)
 *
 * Writes: group_submit() queues an encoded command; once per loop turn the
 * batcher closes one log entry (a batch, codec.h) from the queued commands,
 * stamps it with the leader's time (never below the previous stamp) and
 * proposes it, with at most entries_in_flight_max entries in flight (group
 * commit). When the entry is committed and applied, each command's callback
 * gets its own result. Reads: group_read() calls back once the leader has
 * confirmed its leadership with a barrier, then the caller reads the inv.
 *
 * Leader lease (docs/REPLICATION.md "Leader lease"): an entry or barrier
 * proposed at time t0 and committed shows that a majority heard from this
 * leader after t0, and none of them starts an election before t0 plus the
 * election timeout. Until t0 + lease_ms (at most half the election timeout)
 * no other node can commit anything, so the leader's store is the current
 * state: group_leased() reads answer at once, and group_answer_local()
 * answers refusals and replays of commands from the store, without a log
 * entry.
 *
 * Only the leader answers; a follower's submit returns NOT_LEADER at once.
 * A new leader serves only after its first barrier committed (RAFT-NOTES §1.2).
 */
#ifndef USHER_RAFT_GROUP_H
#define USHER_RAFT_GROUP_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cmd.h"
#include "err.h"
#include "inv.h"

struct group;
struct hub;
struct logger;

/* Voters of a group at most (a Raft group of the cluster's members). */
#define GROUP_VOTERS_MAX 9u

struct group_options {
    struct hub *hub;                /* the node's Raft port (raft/hub.h); borrowed */
    const struct logger *log;       /* borrowed; NULL: no log lines */
    const uint64_t *voters;         /* node ids of the first configuration; copied */
    uint32_t voter_count;           /* 1 .. GROUP_VOTERS_MAX; this node among them */
    uint32_t shard;                 /* shard number, names the folder */
    uint64_t node_id;               /* this node's raft id, != 0 */
    const char *dir;                /* the shard's folder (created if missing); borrowed */
    uint64_t snapshot_threshold;    /* entries between snapshots; 0: 65536 */
    uint64_t snapshot_trailing;     /* entries kept after a snapshot; 0: 8192 */
    uint32_t batch_cmds_max;        /* commands per entry; 0: USHER_BATCH_CMDS_MAX */
    uint32_t entries_in_flight_max; /* proposed, not yet applied; 0: 16 */
    uint32_t queue_max;             /* commands waiting for an entry; 0: 8192 */
    uint64_t map_bytes;             /* LMDB map size; 0: default */
    uint32_t sweep_interval_ms;     /* leader sweeps this often; 0: 1000 */
    uint32_t election_timeout_ms;   /* 0: 1000 */
    uint32_t heartbeat_timeout_ms;  /* 0: 100 */
    uint32_t lease_ms;              /* leader lease; 0: none (every read waits
                                       for a barrier); at most half of
                                       election_timeout_ms */
    bool rejoin;                    /* the node lost its data: arm the vote
                                       guard when the folder has none
                                       (raft/vote_guard.h) */
};

/*
 * The result of one submitted command. status is 0 when the command was
 * applied (its own outcome is in *result, which is valid only during the
 * callback), or NOT_LEADER / SHUTTING_DOWN / BUSY when it was not
 * proposed, or LEADERSHIP_LOST-like ambiguity reported as NOT_LEADER with
 * *result NULL: the command may still have been applied, and the client
 * must retry with the same idempotency key.
 */
typedef void (*group_submit_cb)(void *ctx, int status, const struct cmd_result *result);

/* Called once the leader may serve a linearizable read (status 0), or with
 * NOT_LEADER / SHUTTING_DOWN. */
typedef void (*group_read_cb)(void *ctx, int status);

typedef void (*group_close_cb)(struct group *g, void *ctx);

/*
 * Creates a group on loop: opens the store and raft_uv in o->dir, and, when
 * the folder is new, bootstraps the configuration of o->voters. Every node of
 * the cluster bootstraps the same configuration, so they agree on entry 1.
 * Returns 0, or STORAGE / INVALID with errmsg filled. Start with
 * group_start(), close with group_close().
 */
USHER_MUST_CHECK int group_create(uv_loop_t *loop, const struct group_options *o,
                                  struct group **out, char *errmsg);

/* Starts raft (loads snapshot and log, replays them into the store). */
USHER_MUST_CHECK int group_start(struct group *g, char *errmsg);

/* The key a keyed command is known by while it is queued or in flight:
 * a hash of its client id and idempotency key, never 0. */
uint64_t group_key(uint64_t client_id, uint64_t idem_key);

/*
 * Queues one encoded command (borrowed for the call: it is copied) whose
 * group_key() is key (0 for a command without an idempotency key). Returns
 * 0 (cb will be called exactly once, later, never inside this call), or at
 * once NOT_LEADER, BUSY (queue full) or SHUTTING_DOWN, in which case cb is
 * not called.
 */
USHER_MUST_CHECK int group_submit(struct group *g, const uint8_t *cmd, size_t len, uint64_t key,
                                  group_submit_cb cb, void *ctx);

/*
 * True when this node serves as leader under a lease that has not run out:
 * a read may be answered from the store now, linearizably.
 */
bool group_leased(struct group *g);

/*
 * Answers a decoded command cmd (with key = group_key(), 0 if unkeyed) from
 * the leader's store when that answer is final: a refusal the state machine
 * would give now (inv_precheck()), or the first result of a command already
 * applied with the same idempotency key. Needs the lease and no command
 * with the same key queued or in flight. Sets *answered and fills *res when
 * it answered; otherwise the command goes to group_submit(). Returns 0, or
 * STORAGE when the store could not be read.
 */
USHER_MUST_CHECK int group_answer_local(struct group *g, const struct cmd *cmd, uint64_t key,
                                        struct cmd_result *res, bool *answered);

/* Requests a linearizable read: cb is called once (never inside this call)
 * when the reads after it see every write acknowledged before it. Returns 0,
 * or NOT_LEADER / BUSY / SHUTTING_DOWN at once (cb not called). */
USHER_MUST_CHECK int group_read(struct group *g, group_read_cb cb, void *ctx);

/*
 * True when this replica may answer a read that accepts state up to
 * max_stale_ms old (a follower read): it serves as leader, or the stamp of
 * the last entry it applied (the leader's clock when it proposed it) is at
 * most max_stale_ms behind this node's clock. A leader stamps an entry at
 * least every sweep interval, so a follower in touch with it qualifies for
 * bounds above that interval plus the replication delay; clock skew between
 * nodes adds to the bound (docs/REPLICATION.md "Reads").
 */
bool group_may_read_stale(struct group *g, uint32_t max_stale_ms);

/* The group's store, for reads (valid until the group is closed). */
struct inv *group_inv(struct group *g);

/* True when this node leads the group and has committed its first barrier. */
bool group_is_serving(struct group *g);

/* The node id of the leader this node knows of, 0 when none. */
uint64_t group_leader(struct group *g);

typedef void (*group_transfer_cb)(struct group *g, void *ctx);

/*
 * Hands the leadership to another voter (the most up-to-date follower), as
 * a leader does before a clean stop so that clients see an election-free
 * switch. Returns 0 when a transfer started: cb is called once, later, when
 * another node leads or after the election timeout, whichever comes first.
 * Returns NOT_LEADER when this node does not lead, or leads alone, and
 * BUSY when a transfer is already out; cb is not called then. Commands
 * submitted meanwhile get NOT_LEADER (raft refuses proposals during a
 * transfer), and the client retries them at the new leader.
 */
USHER_MUST_CHECK int group_transfer(struct group *g, group_transfer_cb cb, void *ctx);

/* Group commit figures for metrics (docs/OPERATIONS.md "Metrics"). */
struct group_counters {
    uint64_t entries;             /* log entries this node proposed as leader */
    uint64_t commands;            /* commands in those entries */
    uint64_t lost;                /* commands answered NOT_LEADER after being proposed */
    uint32_t in_flight;           /* entries proposed, not yet applied (now) */
    uint32_t queued;              /* commands waiting for an entry (now) */
    uint64_t snapshots;           /* snapshots this replica took */
    uint64_t snapshot_last_us;    /* the last export's time (thread pool) */
    uint64_t snapshot_last_bytes; /* and its size */
    uint64_t restores;            /* snapshots loaded (a lagging replica, a restart) */
    uint64_t restore_last_us;     /* the last restore's time on the loop */
    bool snapshot_busy;           /* a snapshot is being written now */
    bool rejoin_pending;          /* a rejoining replica not caught up yet:
                                     it votes in no election (vote_guard.h) */
};

void group_counters(struct group *g, struct group_counters *out);

/* Fills the group's line of a STATUS reply (proto.h). */
struct proto_shard_status;
void group_status(struct group *g, struct proto_shard_status *out);

/*
 * Closes the group: pending submits and reads are answered SHUTTING_DOWN
 * (or NOT_LEADER when raft reports lost leadership), raft is closed, the
 * store is synced and closed, then cb is called. The memory stays until
 * group_destroy(): libraft's I/O may still finish closing after the callback.
 */
void group_close(struct group *g, group_close_cb cb, void *ctx);

/* Frees a closed group. Call it after the loop has no more work (uv_run
 * returned), so that nothing of raft_uv is still running. */
void group_destroy(struct group *g);

#endif
