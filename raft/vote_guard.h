/*
 * The vote guard of a replica that rejoins after losing its data
 * (docs/REPLICATION.md "Rejoining after a lost disk").
 *
 * Raft's safety rests on every voter remembering, on disk, the term it is in
 * and whom it voted for. A node whose data folder is replaced by an empty one
 * forgets both: it could vote a second time in a term where it already
 * helped elect a leader (two leaders in one term), and its empty log no
 * longer counts towards the majority that holds each committed entry. So a
 * node started with `rejoin` on a new folder arms this guard on every shard:
 *
 *   PENDING  no vote granted, no election started (its vote requests and
 *            pre-votes are dropped in both directions, and so is a leader's
 *            TimeoutNow), until a leader has caught it up: its applied
 *            index reaches a commit index that leader announced once it
 *            covered an entry of the leader's own term. libraft keeps the
 *            commit index in memory only: a new leader announces a stale
 *            one until an entry of its term commits (usher's leader barrier),
 *            and only from then on does it cover every entry committed
 *            before, including those this node acknowledged and forgot;
 *   FLOOR T  then it votes and campaigns again, but never in a term at or
 *            below T, the higher of that leader's term and its own.
 *
 * An operator may forget `rejoin`. A replica that started without Raft
 * state and without it watches the first vote request, entries or snapshot
 * it receives: a log past the bootstrap entry (index 1) means the cluster
 * ran before this start, and the replica arms the guard then, before it
 * acts on that message. At a new cluster's first election every log holds
 * only entry 1, so nothing is armed; a replica whose own log grows first
 * (it was elected by such peers) decides the same. A node that joins a new
 * cluster late arms it too, which only delays its first vote until it is
 * caught up.
 *
 * The state is kept in DIR/VOTE-GUARD ("watching", "pending" or "floor T";
 * a replica that decided it forgot nothing removes it), written
 * (synced, renamed, folder synced) before it takes effect, so a restart in
 * between keeps the stricter state. The file stays: it costs one compare per
 * vote request.
 *
 * What it cannot know is the term of the vote it forgot; the guard assumes
 * that vote was in the first leader's term or earlier, which holds unless a
 * leader of an older term was still serving it, cut off from a newer one, at
 * the time (a partition during the recovery). docs/REPLICATION.md says so.
 */
#ifndef USHER_RAFT_VOTE_GUARD_H
#define USHER_RAFT_VOTE_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#define VOTE_GUARD_FILE       "VOTE-GUARD"
#define VOTE_GUARD_PATH_BYTES 4200u

struct vote_guard {
    bool armed;            /* a guard file exists; false: every vote passes */
    bool watching;         /* no Raft state at start, no rejoin: the first
                              peer message decides (vote_guard_decide()) */
    bool pending;          /* not caught up yet: no vote at all */
    uint64_t floor;        /* once caught up: no vote in a term <= floor */
    uint64_t target_term;  /* the leader whose commit index lifts it (0: none) */
    uint64_t own_index;    /* an index holding an entry of target_term (0: none seen) */
    uint64_t target_index; /* that leader's commit index once >= own_index */
    bool target_fixed;     /* target_index is set for good */
    uint64_t refused;      /* vote requests dropped, in and out */
    char path[VOTE_GUARD_PATH_BYTES];
};

/* Loads DIR/VOTE-GUARD into *v. forgotten: the replica has no Raft state
 * (and has peers): with rejoin it is made pending, without it watching
 * (the first peer message decides), whatever an older file said (a "floor"
 * is about votes that are gone now). rejoin also makes a watching replica
 * pending. Every change is written before it is used. Returns 0, or STORAGE
 * / INVALID with errmsg filled (an unreadable guard file: refuse to start
 * rather than vote). */
int vote_guard_open(struct vote_guard *v, const char *dir, bool forgotten, bool rejoin,
                    char *errmsg);

/* While watching: the first vote request, entries or snapshot from a peer
 * showed whether the cluster ran before this start (a log past entry 1).
 * If it did, arms the guard (pending, in memory at once, then in the file)
 * and sets *armed. Returns 0, or STORAGE with errmsg filled: the guard is
 * armed in memory all the same, only a restart would forget it. */
int vote_guard_decide(struct vote_guard *v, bool cluster_ran, bool *armed, char *errmsg);

/* True when a vote request (or pre-vote) for term may be granted, or sent. */
bool vote_guard_allows(const struct vote_guard *v, uint64_t term);

/* While pending: a leader of term sent entries or a snapshot. commit is
 * the commit index it announced (0: none, a snapshot); own_index an index
 * the message shows holding an entry of term (0: none). A newer leader
 * replaces an older one until the target is fixed: the first commit index
 * at or past a known entry of the leader's own term. */
void vote_guard_heard_leader(struct vote_guard *v, uint64_t term, uint64_t commit,
                             uint64_t own_index);

/* Called with the replica's applied index and current term: once applied
 * reaches the target, writes the floor (the higher of the target's term and
 * current_term) to the guard file, then lifts PENDING. Sets *lifted when
 * this call lifted it. Returns 0, or STORAGE with errmsg filled (the guard
 * then stays pending; the caller tries again later). */
int vote_guard_catch_up(struct vote_guard *v, uint64_t applied, uint64_t current_term, bool *lifted,
                        char *errmsg);

#endif
