/*
 * The raft_uv transport of a one-voter shard group (issue 3).
 *
 * A group whose only voter is this node never sends or receives a Raft
 * message, so this transport is a stub: init and listen succeed, nothing is
 * ever accepted, connect fails at once with RAFT_NOCONNECTION (raft_uv then
 * retries after its connect delay), and close calls back at once. It keeps
 * no state (t->impl stays NULL; raft_uv owns t->data, RAFT-NOTES §1.7).
 *
 * Issue 4 replaces it with the real one: one peer port for every shard,
 * a handshake naming the shard, TCP_NODELAY (DESIGN.md "Shape",
 * RAFT-NOTES §2). Keep this file small until then.
 */
#ifndef USHER_RAFT_TRANSPORT_H
#define USHER_RAFT_TRANSPORT_H

#include <raft/uv.h>

/* Fills t with the one-voter transport. The caller owns t, which must stay
 * valid until raft_uv's close has completed (the group's close). */
void transport_init(struct raft_uv_transport *t);

#endif
