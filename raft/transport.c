/*
 * A shard group's transport over the node's hub (see transport.h).
 *
 * A dial is one outgoing connection attempt:
 *
 *   connect() --uv_tcp_connect--> CONNECTING --write preamble--> WRITING --ok--> raft_uv owns it
 *                                     |                              |
 *                                     '--error / transport close-----'--> CLOSING -->
 * cb(NOCONNECTION or CANCELED)
 *
 * A dial's callback to raft_uv fires only after its handle is closed, so
 * the transport's close completes only when nothing of it is left.
 */
#include "transport.h"

#include <stdio.h>
#include <string.h>

#include <raft.h>

#include "assertion.h"
#include "mem.h"

struct transport_dial {
    struct transport *tr;
    struct raft_uv_connect *req;
    raft_uv_connect_cb cb;
    uint64_t peer;
    uv_tcp_t *tcp; /* raft_malloc'ed: raft_uv frees it once it owns it */
    uv_connect_t connect;
    uv_write_t write;
    struct transport_dial *prev;
    struct transport_dial *next;
    bool closing;
    bool canceled;
    uint8_t preamble[HUB_PREAMBLE_BYTES];
};

static struct transport *impl_of(struct raft_uv_transport *t)
{
    struct transport *tr = t->impl;
    ASSERT(tr != NULL && tr->t == t);
    return tr;
}

static void dial_unlink(struct transport_dial *d)
{
    struct transport *tr = d->tr;
    if (d->prev != NULL) {
        d->prev->next = d->next;
    } else {
        tr->dials = d->next;
    }
    if (d->next != NULL) {
        d->next->prev = d->prev;
    }
    ASSERT(tr->dials_n > 0);
    tr->dials_n--;
}

static void close_maybe_done(struct transport *tr)
{
    if (tr->closing && tr->dials_n == 0 && tr->close_cb != NULL) {
        raft_uv_transport_close_cb cb = tr->close_cb;
        tr->close_cb = NULL;
        cb(tr->t);
    }
}

static void on_dial_closed(uv_handle_t *handle)
{
    struct transport_dial *d = handle->data;
    struct transport *tr = d->tr;
    raft_free(d->tcp);
    dial_unlink(d);
    struct raft_uv_connect *req = d->req;
    raft_uv_connect_cb cb = d->cb;
    int status = d->canceled ? RAFT_CANCELED : RAFT_NOCONNECTION;
    mem_free(d);
    cb(req, NULL, status);
    close_maybe_done(tr);
}

static void dial_fail(struct transport_dial *d)
{
    if (d->closing) {
        return;
    }
    d->closing = true;
    if (!d->canceled) {
        hub_dial_done(d->tr->hub, d->peer, false);
    }
    uv_close((uv_handle_t *)d->tcp, on_dial_closed);
}

static void on_preamble_written(uv_write_t *w, int status)
{
    struct transport_dial *d = w->data;
    if (d->closing) {
        return; /* canceled: on_dial_closed answers */
    }
    if (status != 0) {
        dial_fail(d);
        return;
    }
    struct transport *tr = d->tr;
    hub_dial_done(tr->hub, d->peer, true);
    dial_unlink(d);
    uv_stream_t *stream = (uv_stream_t *)d->tcp;
    struct raft_uv_connect *req = d->req;
    raft_uv_connect_cb cb = d->cb;
    mem_free(d);
    cb(req, stream, 0);
}

static void on_connected(uv_connect_t *c, int status)
{
    struct transport_dial *d = c->data;
    if (d->closing) {
        return;
    }
    if (status != 0) {
        dial_fail(d);
        return;
    }
    (void)uv_tcp_nodelay(d->tcp, 1); /* latency only: a failure changes nothing */
    hub_preamble(d->tr->hub, d->tr->shard, d->preamble);
    uv_buf_t buf = uv_buf_init((char *)d->preamble, HUB_PREAMBLE_BYTES);
    d->write.data = d;
    if (uv_write(&d->write, (uv_stream_t *)d->tcp, &buf, 1, on_preamble_written) != 0) {
        dial_fail(d);
    }
}

static int tr_init(struct raft_uv_transport *t, raft_id id, const char *address)
{
    (void)impl_of(t);
    ASSERT(id != 0);
    (void)address;
    return 0;
}

static int tr_listen(struct raft_uv_transport *t, raft_uv_accept_cb cb)
{
    struct transport *tr = impl_of(t);
    ASSERT(cb != NULL);
    ASSERT(!tr->registered);
    if (hub_register(tr->hub, tr->shard, tr) != 0) {
        (void)snprintf(t->errmsg, sizeof(t->errmsg), "shard %u cannot listen on the raft hub",
                       tr->shard);
        return RAFT_IOERR;
    }
    tr->registered = true;
    tr->accept_cb = cb;
    return 0;
}

/* Failing synchronously is allowed: raft_uv restarts its retry timer and
 * never calls cb (libraft 0.15 src/uv_send.c uvClientConnect). */
static int tr_connect(struct raft_uv_transport *t, struct raft_uv_connect *req, raft_id id,
                      const char *address, raft_uv_connect_cb cb)
{
    struct transport *tr = impl_of(t);
    (void)address; /* "node-<id>": the hub knows where id is */
    struct sockaddr_in addr;
    if (tr->closing || hub_member_addr(tr->hub, id, &addr) != 0 || !hub_dial_allowed(tr->hub, id)) {
        return RAFT_NOCONNECTION;
    }
    struct transport_dial *d = mem_calloc(1, sizeof(*d));
    uv_tcp_t *tcp = d == NULL ? NULL : raft_malloc(sizeof(*tcp));
    if (tcp == NULL) {
        mem_free(d);
        return RAFT_NOMEM;
    }
    int rc = uv_tcp_init(hub_loop(tr->hub), tcp);
    ASSERT(rc == 0);
    d->tr = tr;
    d->req = req;
    d->cb = cb;
    d->peer = id;
    d->tcp = tcp;
    tcp->data = d;
    d->connect.data = d;
    d->next = tr->dials;
    if (tr->dials != NULL) {
        tr->dials->prev = d;
    }
    tr->dials = d;
    tr->dials_n++;
    if (uv_tcp_connect(&d->connect, tcp, (const struct sockaddr *)&addr, on_connected) != 0) {
        /* cb fires from on_dial_closed, after this call returned 0. */
        dial_fail(d);
    }
    return 0;
}

static void tr_close(struct raft_uv_transport *t, raft_uv_transport_close_cb cb)
{
    struct transport *tr = impl_of(t);
    ASSERT(!tr->closing);
    tr->closing = true;
    tr->close_cb = cb;
    if (tr->registered) {
        hub_unregister(tr->hub, tr->shard, tr);
        tr->registered = false;
    }
    for (struct transport_dial *d = tr->dials; d != NULL; d = d->next) {
        if (!d->closing) {
            d->canceled = true;
            d->closing = true;
            uv_close((uv_handle_t *)d->tcp, on_dial_closed);
        }
    }
    close_maybe_done(tr); /* at once when no dial is in progress */
}

void transport_accepted(struct transport *tr, uint64_t sender, uv_stream_t *stream)
{
    ASSERT(tr->registered && !tr->closing && tr->accept_cb != NULL);
    char address[32];
    (void)snprintf(address, sizeof(address), "node-%llu", (unsigned long long)sender);
    tr->accept_cb(tr->t, sender, address, stream);
}

void transport_init(struct raft_uv_transport *t, struct transport *impl, struct hub *hub,
                    uint32_t shard)
{
    memset(t, 0, sizeof(*t));
    memset(impl, 0, sizeof(*impl));
    impl->t = t;
    impl->hub = hub;
    impl->shard = shard;
    t->impl = impl;
    t->init = tr_init;
    t->listen = tr_listen;
    t->connect = tr_connect;
    t->close = tr_close;
}
