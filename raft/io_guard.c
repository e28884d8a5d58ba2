/*
 * The append, send and time guards of io_guard.h.
 */
#include "io_guard.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "assertion.h"
#include "err.h"
#include "logger.h"
#include "mem.h"
#include "vote_guard.h"

/* One append in flight: raft's request and callback, behind our own. */
struct guarded_append {
    struct raft_io_append inner; /* what raft_uv sees */
    struct raft_io_append *outer;
    raft_io_append_cb cb;
    struct io_guard *guard;
};

static struct io_guard *guard_of(struct raft_io *io)
{
    return (struct io_guard *)((char *)io - offsetof(struct io_guard, io));
}

static void on_append_done(struct raft_io_append *inner, int status)
{
    struct guarded_append *a = inner->data;
    struct io_guard *g = a->guard;
    if (status != 0 && status != RAFT_CANCELED) {
        /* STYLE.md 4.7: a storage failure stops the node; its log on disk
         * is whole up to the last write that succeeded. */
        if (g->log != NULL) {
            logger_fatal(g->log, "raft log write failed: stopping the node",
                         LOG_U64("shard", g->shard), LOG_STR("error", raft_strerror(status)),
                         LOG_I64("status", status));
        }
        (void)fprintf(stderr, "usherd: shard %u: raft log write failed: %s\n", g->shard,
                      raft_strerror(status));
        abort();
    }
    struct raft_io_append *outer = a->outer;
    raft_io_append_cb cb = a->cb;
    mem_free(a);
    cb(outer, status);
}

static int guarded_append(struct raft_io *io, struct raft_io_append *req,
                          const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    struct io_guard *g = guard_of(io);
    if (g->votes != NULL && g->votes->watching) {
        /* The log grows before any peer showed an older one: this replica
         * was elected with the votes of peers whose logs held only the
         * bootstrap entry, so the cluster is new and it forgot nothing.
         * (Entries from a leader are appended after the message that
         * carried them, which decided already.) */
        char errmsg[USHER_ERRMSG_MAX];
        bool armed = false;
        if (vote_guard_decide(g->votes, false, &armed, errmsg) != 0 && g->log != NULL) {
            /* A restart would watch again, and might arm the guard for
             * nothing: it then waits to be caught up, no more. */
            logger_warn(g->log, "shard vote guard file not removed", LOG_U64("shard", g->shard),
                        LOG_STR("error", errmsg));
        }
    }
    struct guarded_append *a = mem_alloc(sizeof(*a));
    if (a == NULL) {
        return RAFT_NOMEM; /* raft fails the entries it was appending */
    }
    a->inner.data = a;
    a->outer = req;
    a->cb = cb;
    a->guard = g;
    req->cb = cb;
    int rv = g->append(io, &a->inner, entries, n, on_append_done);
    if (rv != 0) {
        mem_free(a);
    }
    return rv;
}

/* True when m is a vote request (or pre-vote) the vote guard forbids. */
static bool vote_forbidden(struct io_guard *g, const struct raft_message *m)
{
    if (g->votes == NULL || m->type != RAFT_IO_REQUEST_VOTE ||
        vote_guard_allows(g->votes, m->request_vote.term)) {
        return false;
    }
    g->votes->refused++;
    return true;
}

static int guarded_send(struct raft_io *io, struct raft_io_send *req,
                        const struct raft_message *message, raft_io_send_cb cb)
{
    struct io_guard *g = guard_of(io);
    if (message->server_id == 0 || message->server_address == NULL) {
        g->sends_refused++;
        return RAFT_NOCONNECTION;
    }
    if (vote_forbidden(g, message)) {
        return RAFT_NOCONNECTION; /* as if the candidate were unreachable */
    }
    return g->send(io, req, message, cb);
}

/* The lowest index the message shows holding an entry of the sender's own
 * term (the entry before the new ones, or one of them), or 0. */
static uint64_t own_term_index(const struct raft_append_entries *ae)
{
    if (ae->prev_log_index > 0 && ae->prev_log_term == ae->term) {
        return ae->prev_log_index;
    }
    for (unsigned k = 0; k < ae->n_entries; k++) {
        if (ae->entries[k].term == ae->term) {
            return ae->prev_log_index + 1u + k;
        }
    }
    return 0;
}

/* A pending replica refuses a leadership transfer: it would campaign
 * without a pre-vote, raise its term, and its vote requests would all be
 * refused, costing the cluster an election. */
static bool timeout_forbidden(struct io_guard *g, const struct raft_message *m)
{
    if (m->type != RAFT_IO_TIMEOUT_NOW || !g->votes->pending) {
        return false;
    }
    g->votes->refused++;
    return true;
}

/* A replica without Raft state that was not told it rejoins: the first
 * message that shows a peer's log decides whether the cluster ran before
 * (a log past the bootstrap entry), and so whether it forgot votes. */
static void votes_watch(struct io_guard *g, const struct raft_message *m)
{
    bool ran = false;
    if (m->type == RAFT_IO_REQUEST_VOTE) {
        ran = m->request_vote.last_log_index > 1;
    } else if (m->type == RAFT_IO_APPEND_ENTRIES) {
        ran = m->append_entries.prev_log_index > 1 || m->append_entries.leader_commit > 1;
    } else if (m->type == RAFT_IO_INSTALL_SNAPSHOT) {
        ran = true;
    } else {
        return; /* answers to its own requests and TimeoutNow: no log to judge by */
    }
    char errmsg[USHER_ERRMSG_MAX];
    bool armed = false;
    int rc = vote_guard_decide(g->votes, ran, &armed, errmsg);
    if (g->log == NULL) {
        return; /* tests: no log */
    }
    if (armed) {
        logger_warn(g->log, "shard rejoins: no vote until a leader has caught it up",
                    LOG_U64("shard", g->shard), LOG_STR("why", "no Raft state, cluster ran"),
                    LOG_U64("from", m->server_id));
    }
    if (rc != 0) {
        logger_error(g->log, "shard vote guard file not updated; a restart decides again",
                     LOG_U64("shard", g->shard), LOG_STR("error", errmsg));
    }
}

static void guarded_recv(struct raft_io *io, struct raft_message *msg)
{
    struct io_guard *g = guard_of(io);
    if (g->votes != NULL && g->votes->watching) {
        votes_watch(g, msg);
    }
    if (g->votes != NULL) {
        if (msg->type == RAFT_IO_APPEND_ENTRIES) {
            const struct raft_append_entries *ae = &msg->append_entries;
            vote_guard_heard_leader(g->votes, ae->term, ae->leader_commit, own_term_index(ae));
        } else if (msg->type == RAFT_IO_INSTALL_SNAPSHOT) {
            const struct raft_install_snapshot *is = &msg->install_snapshot;
            vote_guard_heard_leader(g->votes, is->term, 0,
                                    is->last_term == is->term ? is->last_index : 0);
        } else if (vote_forbidden(g, msg) || timeout_forbidden(g, msg)) {
            return; /* neither owns memory: dropping it frees nothing */
        }
    }
    g->recv(io, msg);
}

static int guarded_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                         raft_io_recv_cb recv)
{
    struct io_guard *g = guard_of(io);
    g->recv = recv;
    return g->start(io, msecs, tick, guarded_recv);
}

/* The loop's time, brought up to date: raft stamps what it just received
 * with when it really handled it (io_guard.h). */
static raft_time fresh_time(struct raft_io *io)
{
    struct io_guard *g = guard_of(io);
    uv_update_time(g->loop);
    return uv_now(g->loop);
}

void io_guard_install(struct io_guard *g, uv_loop_t *loop, uint32_t shard, const struct logger *log,
                      struct vote_guard *votes)
{
    ASSERT(g->io.append != NULL && g->io.send != NULL && g->io.time != NULL && g->io.start != NULL);
    ASSERT(g->io.append != guarded_append); /* installed once */
    g->append = g->io.append;
    g->send = g->io.send;
    g->start = g->io.start;
    g->recv = NULL;
    g->votes = votes;
    g->loop = loop;
    g->shard = shard;
    g->log = log;
    g->sends_refused = 0;
    g->io.append = guarded_append;
    g->io.send = guarded_send;
    g->io.start = guarded_start;
    g->io.time = fresh_time;
}
