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
 *            pre-votes are dropped in both directions), until a leader has
 *            caught it up: its applied index reaches the commit index that
 *            leader announced in the first AppendEntries (or snapshot) heard;
 *   FLOOR T  then it votes and campaigns again, but never in a term at or
 *            below T, the term of that leader.
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
    uint64_t target_term;  /* the first leader heard (0: none yet) */
    uint64_t target_index; /* its commit index then */
    uint64_t refused;      /* vote requests dropped, in and out */
    char path[VOTE_GUARD_PATH_BYTES];
};

/* Loads DIR/VOTE-GUARD into *v. When it does not exist: arm writes it as
 * pending first; watch (a replica without Raft state, not told to rejoin)
 * leaves the decision to the first peer message. Returns 0, or STORAGE /
 * INVALID with errmsg filled (an unreadable guard file: refuse to start
 * rather than vote). */
int vote_guard_open(struct vote_guard *v, const char *dir, bool arm, bool watch, char *errmsg);

/* While watching: the first vote request, entries or snapshot from a peer
 * showed whether the cluster ran before this start (a log past entry 1).
 * If it did, arms the guard (pending, in memory at once, then in the file)
 * and sets *armed. Returns 0, or STORAGE with errmsg filled: the guard is
 * armed in memory all the same, only a restart would forget it. */
int vote_guard_decide(struct vote_guard *v, bool cluster_ran, bool *armed, char *errmsg);

/* True when a vote request (or pre-vote) for term may be granted, or sent. */
bool vote_guard_allows(const struct vote_guard *v, uint64_t term);

/* A leader of term announced commit index `commit`: the first one heard
 * while pending sets the catch-up target. */
void vote_guard_heard_leader(struct vote_guard *v, uint64_t term, uint64_t commit);

/* Called with the replica's applied index: once it reaches the target,
 * writes the floor to the guard file, then lifts PENDING. Sets *lifted when
 * this call lifted it. Returns 0, or STORAGE with errmsg filled (the guard
 * then stays pending and the next call tries again). */
int vote_guard_catch_up(struct vote_guard *v, uint64_t applied, bool *lifted, char *errmsg);

#endif
