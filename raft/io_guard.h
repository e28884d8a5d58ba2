/*
 * Guards around raft_uv's append and send for bugs of libraft 0.15 that
 * upstream fixed later (docs/LIBRAFT-ISSUES.md):
 *
 *   append   a failed disk write (ENOSPC, EIO) leaves 0.15's leader leading
 *            with the entry dropped from its log while a follower may keep
 *            it (#320, fixed in 0.16), and raft_uv keeps writing after a
 *            failure (fixed in 0.18): replicas could diverge silently. Any
 *            status other than 0 or RAFT_CANCELED (close) aborts the node
 *            with a fatal log line, which turns the case into an ordinary
 *            crash: the restart loads the log from disk.
 *   send     0.15 can send to server id 0 with a NULL address after a
 *            candidate falls back to follower (#339, fixed in 0.17.1), and
 *            raft_uv then calls strlen(NULL). Such a message is refused at
 *            once (raft frees its request and counts it as not sent).
 *   time     raft_uv answers the loop's cached time (uv_now). A message
 *            handled late in a long loop turn (a process paused in the middle
 *            of one) would then start a follower's election timer before the
 *            message arrived, and its election could start less than an
 *            election timeout after it last heard from its leader. The leader
 *            lease (docs/REPLICATION.md "Leader lease") counts on that never
 *            happening, so the guard refreshes the loop's time first.
 *   votes    a replica rejoining after a lost disk (raft/vote_guard.h)
 *            neither grants nor asks for votes until a leader has caught it
 *            up: vote requests and pre-votes it may not take part in are
 *            dropped on receipt and refused on sending, and the first
 *            leader's AppendEntries or snapshot sets the catch-up target.
 *
 * The guard embeds the raft_io: raft_uv_init() and raft_init() get &guard->io,
 * and the wrappers find the guard from it.
 */
#ifndef USHER_RAFT_IO_GUARD_H
#define USHER_RAFT_IO_GUARD_H

#include <raft.h>
#include <stdint.h>
#include <uv.h>

struct logger;
struct vote_guard;

struct io_guard {
    struct raft_io io; /* handed to raft_uv_init() and raft_init() */
    int (*append)(struct raft_io *io, struct raft_io_append *req, const struct raft_entry entries[],
                  unsigned n, raft_io_append_cb cb); /* raft_uv's own */
    int (*send)(struct raft_io *io, struct raft_io_send *req, const struct raft_message *message,
                raft_io_send_cb cb); /* raft_uv's own */
    int (*start)(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                 raft_io_recv_cb recv); /* raft_uv's own */
    raft_io_recv_cb recv;               /* raft's own, behind the vote check */
    struct vote_guard *votes;           /* borrowed; NULL: no vote guard */
    uv_loop_t *loop;                    /* raft_uv's loop, for the fresh time */
    const struct logger *log;           /* borrowed; NULL: the fatal line goes to stderr */
    uint32_t shard;
    uint64_t sends_refused; /* messages to no one, refused */
};

/* Installs the wrappers over g->io's append, send, start (receive) and time
 * (after raft_uv_init() on loop, before raft_init()). votes may be NULL. */
void io_guard_install(struct io_guard *g, uv_loop_t *loop, uint32_t shard, const struct logger *log,
                      struct vote_guard *votes);

#endif
