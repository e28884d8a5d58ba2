/*
 * A shard group's raft_uv transport, backed by the node's hub (hub.h): one
 * per group, all sharing the hub's one listener.
 *
 *   connect(id)  dial the member's hub (after its backoff), TCP_NODELAY,
 *                write the preamble, then hand the stream to raft_uv
 *   listen       register the shard with the hub, which hands over every
 *                accepted connection whose preamble names it
 *   close        unregister, cancel the dials in progress (RAFT_CANCELED),
 *                call back once none is left
 *
 * raft_uv overwrites t->data (RAFT-NOTES §1.7): the state is in t->impl,
 * a struct transport the group owns. Stream handles come from raft_malloc()
 * because raft_uv frees them with raft_free().
 */
#ifndef USHER_RAFT_TRANSPORT_H
#define USHER_RAFT_TRANSPORT_H

#include <raft/uv.h>
#include <stdbool.h>
#include <stdint.h>

#include "hub.h"

struct transport_dial;

struct transport {
    struct raft_uv_transport *t;
    struct hub *hub;
    uint32_t shard;
    raft_uv_accept_cb accept_cb;  /* set by listen */
    struct transport_dial *dials; /* in progress, doubly linked */
    uint32_t dials_n;
    bool registered;
    bool closing;
    raft_uv_transport_close_cb close_cb;
};

/* Fills t as the transport of shard over hub; impl is caller-owned and
 * must stay valid until raft_uv's close has completed. */
void transport_init(struct raft_uv_transport *t, struct transport *impl, struct hub *hub,
                    uint32_t shard);

/* Called by the hub with a connection whose preamble named this shard;
 * raft_uv owns stream afterwards. */
void transport_accepted(struct transport *tr, uint64_t sender, uv_stream_t *stream);

#endif
