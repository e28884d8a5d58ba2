/*
 * The one-voter transport (see transport.h). Issue 4 replaces it.
 */
#include "transport.h"

#include <string.h>

#include "assertion.h"

static int single_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    ASSERT(t != NULL);
    ASSERT(id != 0);
    (void)address;
    return 0;
}

/* Nothing ever connects to a one-voter group: accept_cb is never called. */
static int single_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    ASSERT(t != NULL);
    ASSERT(cb != NULL);
    return 0;
}

/* No peer exists. Failing synchronously is allowed: raft_uv restarts its
 * retry timer and never calls cb (libraft 0.15 src/uv_send.c:352-360). */
static int single_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                          const char *address, raft_uv_connect_cb cb)
{
    ASSERT(t != NULL);
    ASSERT(req != NULL);
    (void)id;
    (void)address;
    (void)cb;
    return RAFT_NOCONNECTION;
}

/* Nothing is pending (connect never is), so the memory may go at once;
 * calling back inside close is allowed (RAFT-NOTES §1.7, pitfall 4). */
static void single_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    ASSERT(t != NULL);
    ASSERT(cb != NULL);
    cb(t);
}

void transport_init(struct raft_uv_transport *t)
{
    memset(t, 0, sizeof(*t));
    t->impl = NULL; /* no state; raft_uv overwrites t->data */
    t->init = single_init;
    t->listen = single_listen;
    t->connect = single_connect;
    t->close = single_close;
}
