/*
 * The Raft transport of a one-voter shard group (issue 3): it never needs a
 * peer, so listen accepts nothing and connect fails at once. Issue 4
 * replaces it with the one-port transport that multiplexes every shard's
 * traffic over the node's peer listener (DESIGN.md "Shape").
 */
#include <string.h>

#include "group_int.h"

static int single_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    (void)t;
    (void)id;
    (void)address;
    return 0;
}

static int single_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    (void)t;
    (void)cb;
    return 0;
}

static int single_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                          const char *address, raft_uv_connect_cb cb)
{
    (void)t;
    (void)req;
    (void)id;
    (void)address;
    (void)cb;
    return RAFT_NOCONNECTION; /* no peers in a one-voter group */
}

static void on_close_timer(uv_timer_t *timer)
{
    struct group *g = timer->data;
    raft_uv_transport_close_cb cb = g->transport_close_cb;
    g->transport_close_cb = NULL;
    if (cb != NULL) {
        cb(&g->transport);
    }
}

static void single_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct group *g = t->impl;
    g->transport_close_cb = cb;
    if (uv_timer_start(&g->transport_timer, on_close_timer, 0, 0) != 0) {
        on_close_timer(&g->transport_timer); /* cannot fail on an open timer */
    }
}

void transport_init_single(struct raft_uv_transport *t, struct group *g)
{
    memset(t, 0, sizeof(*t));
    t->impl = g; /* raft_uv overwrites t->data (RAFT-NOTES §1.7) */
    t->init = single_init;
    t->listen = single_listen;
    t->connect = single_connect;
    t->close = single_close;
}
