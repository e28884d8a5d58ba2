/*
 * The node's Raft peer port (see hub.h): the listener, the handshake of
 * accepted connections, the member table and the dial backoff per peer.
 *
 * An accepted connection lives here only until its preamble is read:
 *
 *   accept --> READING (exactly HUB_PREAMBLE_BYTES) --ok--> shard's raft_uv owns it
 *                 |--bad preamble / unknown shard / EOF / timeout--> closed here
 *
 * The stream handle comes from raft_malloc(): raft_uv frees it with
 * raft_free() once it owns it (RAFT-NOTES pitfall 13).
 */
#include "hub.h"

#include <stdio.h>
#include <string.h>

#include <raft.h>
#include <raft/uv.h>

#include "assertion.h"
#include "buf.h"
#include "logger.h"
#include "mem.h"
#include "transport.h"

/* How often pending handshakes are checked against their deadline. */
#define HUB_SWEEP_MS 1000u

/* A warning about refused connections at most this often. */
#define HUB_WARN_INTERVAL_MS 5000u

struct hub_shake {
    struct hub *hub;
    uv_tcp_t *tcp; /* raft_malloc'ed */
    struct hub_shake *prev;
    struct hub_shake *next;
    uint64_t started_ms;
    uint32_t got;
    bool closing;
    uint8_t buf[HUB_PREAMBLE_BYTES];
};

struct hub_peer {
    struct hub_member m;
    uint32_t failures; /* consecutive failed dials */
    uint64_t retry_at; /* uv_now() before which dials back off */
};

struct hub {
    uv_loop_t *loop;
    struct hub_options o;
    struct hub_peer peers[HUB_MEMBERS_MAX];
    struct transport **shards; /* o.shard_count slots */
    uv_tcp_t listener;
    uv_timer_t sweep;
    struct hub_shake *shakes; /* doubly linked */
    uint32_t shakes_n;
    uint32_t handles_open;
    struct hub_counters counters;
    struct logger_ratelimit warn_rl;
    uint64_t jitter; /* xorshift state for backoff jitter */
    bool stopping;
};

/* ---- Handshakes of accepted connections ---- */

static void warn_refused(struct hub *h, const char *why, uint64_t a, uint64_t b)
{
    h->counters.refused++;
    if (h->o.log != NULL) {
        (void)logger_warn_limited(h->o.log, &h->warn_rl, uv_now(h->loop), HUB_WARN_INTERVAL_MS,
                                  "raft connection refused", LOG_STR("reason", why),
                                  LOG_U64("value", a), LOG_U64("expected", b));
    }
}

/* Takes s off the hub's list of handshakes and frees it (not its stream). */
static void shake_free(struct hub_shake *s)
{
    struct hub *h = s->hub;
    ASSERT(h->shakes_n > 0);
    if (s->prev != NULL) {
        s->prev->next = s->next;
    } else {
        h->shakes = s->next;
    }
    if (s->next != NULL) {
        s->next->prev = s->prev;
    }
    h->shakes_n--;
    mem_free(s);
}

static void on_shake_closed(uv_handle_t *handle)
{
    struct hub_shake *s = handle->data;
    raft_free(s->tcp);
    shake_free(s);
}

static void shake_close(struct hub_shake *s)
{
    if (!s->closing) {
        s->closing = true;
        uv_close((uv_handle_t *)s->tcp, on_shake_closed);
    }
}

static bool is_member(const struct hub *h, uint64_t id)
{
    for (uint32_t i = 0; i < h->o.member_count; i++) {
        if (h->peers[i].m.id == id) {
            return true;
        }
    }
    return false;
}

/* Checks a complete preamble; returns the transport that takes the
 * connection, or NULL after a warning. */
static struct transport *preamble_check(struct hub *h, const uint8_t *p, uint64_t *sender)
{
    uint64_t magic = buf_get_be64(p);
    uint32_t version = (uint32_t)p[8] << 8 | p[9];
    uint32_t shard = buf_get_be32(p + 12);
    uint64_t cluster = buf_get_be64(p + 16);
    *sender = buf_get_be64(p + 24);
    uint32_t shards = buf_get_be32(p + 32);
    if (magic != HUB_MAGIC || version != HUB_VERSION) {
        warn_refused(h, "not a usher raft preamble", magic, HUB_MAGIC);
        return NULL;
    }
    if (cluster != h->o.cluster_id) {
        warn_refused(h, "another cluster", cluster, h->o.cluster_id);
        return NULL;
    }
    if (shards != h->o.shard_count) {
        warn_refused(h, "another shard count", shards, h->o.shard_count);
        return NULL;
    }
    if (*sender == h->o.self_id || !is_member(h, *sender)) {
        warn_refused(h, "sender is not a peer", *sender, 0);
        return NULL;
    }
    if (shard >= h->o.shard_count || h->shards[shard] == NULL) {
        warn_refused(h, "shard not open here", shard, h->o.shard_count);
        return NULL;
    }
    return h->shards[shard];
}

static void on_shake_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct hub_shake *s = handle->data;
    (void)suggested;
    ASSERT(s->got < HUB_PREAMBLE_BYTES);
    /* Exactly the missing bytes: what follows is raft_uv's to read. */
    *buf = uv_buf_init((char *)s->buf + s->got, HUB_PREAMBLE_BYTES - s->got);
}

static void on_shake_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct hub_shake *s = stream->data;
    struct hub *h = s->hub;
    (void)buf;
    if (nread == 0) {
        return; /* EAGAIN */
    }
    if (nread < 0) {
        shake_close(s);
        return;
    }
    s->got += (uint32_t)nread;
    ASSERT(s->got <= HUB_PREAMBLE_BYTES);
    if (s->got < HUB_PREAMBLE_BYTES) {
        return;
    }
    int rc = uv_read_stop(stream);
    ASSERT(rc == 0);
    uint64_t sender = 0;
    struct transport *t = preamble_check(h, s->buf, &sender);
    if (t == NULL) {
        shake_close(s);
        return;
    }
    /* The stream is raft_uv's from here on: unlink it without closing. */
    uv_tcp_t *tcp = s->tcp;
    shake_free(s);
    h->counters.accepted++;
    transport_accepted(t, sender, (uv_stream_t *)tcp);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct hub *h = server->data;
    if (status != 0 || h->stopping) {
        return;
    }
    uv_tcp_t *tcp = raft_malloc(sizeof(*tcp));
    struct hub_shake *s = tcp == NULL ? NULL : mem_calloc(1, sizeof(*s));
    if (s == NULL) {
        raft_free(tcp);
        return; /* the connection waits in the backlog; the peer times out */
    }
    int rc = uv_tcp_init(h->loop, tcp);
    ASSERT(rc == 0);
    tcp->data = s;
    s->hub = h;
    s->tcp = tcp;
    s->started_ms = uv_now(h->loop);
    s->next = h->shakes;
    if (h->shakes != NULL) {
        h->shakes->prev = s;
    }
    h->shakes = s;
    h->shakes_n++;
    if (uv_accept(server, (uv_stream_t *)tcp) != 0) {
        shake_close(s);
        return;
    }
    if (h->shakes_n > HUB_HANDSHAKES_MAX) {
        warn_refused(h, "too many handshakes", h->shakes_n, HUB_HANDSHAKES_MAX);
        shake_close(s);
        return;
    }
    (void)uv_tcp_nodelay(tcp, 1); /* latency only: a failure changes nothing */
    if (uv_read_start((uv_stream_t *)tcp, on_shake_alloc, on_shake_read) != 0) {
        shake_close(s);
    }
}

static void on_sweep(uv_timer_t *t)
{
    struct hub *h = t->data;
    uint64_t now = uv_now(h->loop);
    for (struct hub_shake *s = h->shakes; s != NULL; s = s->next) {
        if (!s->closing && now - s->started_ms >= HUB_HANDSHAKE_TIMEOUT_MS) {
            warn_refused(h, "handshake timed out", now - s->started_ms, HUB_HANDSHAKE_TIMEOUT_MS);
            shake_close(s);
        }
    }
}

/* ---- Start and stop ---- */

static int options_check(const struct hub_options *o, char *errmsg)
{
    if (o->cluster_id == 0 || o->self_id == 0 || o->shard_count == 0 || o->member_count == 0 ||
        o->member_count > HUB_MEMBERS_MAX) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "raft hub needs a cluster id, a node id, shards and 1 to %u members",
                       HUB_MEMBERS_MAX);
        return USHER_INVALID;
    }
    bool self = false;
    for (uint32_t i = 0; i < o->member_count; i++) {
        if (o->members[i].id == 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "member %u has node id 0", i);
            return USHER_INVALID;
        }
        for (uint32_t j = 0; j < i; j++) {
            if (o->members[j].id == o->members[i].id) {
                (void)snprintf(errmsg, USHER_ERRMSG_MAX, "node id %llu is listed twice",
                               (unsigned long long)o->members[i].id);
                return USHER_INVALID;
            }
        }
        self = self || o->members[i].id == o->self_id;
    }
    if (!self) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "node %llu is not one of the cluster's members",
                       (unsigned long long)o->self_id);
        return USHER_INVALID;
    }
    return 0;
}

int hub_start(uv_loop_t *loop, const struct hub_options *o, struct hub **out, char *errmsg)
{
    int rc = options_check(o, errmsg);
    if (rc != 0) {
        return rc;
    }
    struct hub *h = mem_calloc(1, sizeof(*h));
    struct transport **shards = mem_calloc(o->shard_count, sizeof(struct transport *));
    if (h == NULL || shards == NULL) {
        mem_free(h);
        mem_free(shards);
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory for the raft hub");
        return USHER_NOMEM;
    }
    h->loop = loop;
    h->o = *o;
    h->o.members = NULL; /* copied into peers */
    h->shards = shards;
    h->jitter = o->self_id * 0x9e3779b97f4a7c15ull | 1u;
    for (uint32_t i = 0; i < o->member_count; i++) {
        h->peers[i].m = o->members[i];
    }
    rc = uv_tcp_init(loop, &h->listener);
    ASSERT(rc == 0);
    rc = uv_timer_init(loop, &h->sweep);
    ASSERT(rc == 0);
    h->listener.data = h;
    h->sweep.data = h;
    h->handles_open = 2;
    rc = uv_tcp_bind(&h->listener, (const struct sockaddr *)&o->listen_addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&h->listener, 511, on_connection);
    }
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "listen on raft address: %s", uv_strerror(rc));
        *out = h;
        hub_stop(h); /* the caller runs the loop, then hub_destroy() */
        return USHER_INVALID;
    }
    rc = uv_timer_start(&h->sweep, on_sweep, HUB_SWEEP_MS, HUB_SWEEP_MS);
    ASSERT(rc == 0);
    /* The groups and the client listener keep the loop running; the hub
     * alone does not. */
    uv_unref((uv_handle_t *)&h->listener);
    uv_unref((uv_handle_t *)&h->sweep);
    *out = h;
    return 0;
}

struct sockaddr_in hub_listen_addr(const struct hub *h)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    int len = (int)sizeof(addr);
    if (uv_tcp_getsockname(&h->listener, (struct sockaddr *)&addr, &len) != 0) {
        memset(&addr, 0, sizeof(addr));
    }
    return addr;
}

struct hub_counters hub_counters(const struct hub *h)
{
    return h->counters;
}

static void on_handle_closed(uv_handle_t *handle)
{
    struct hub *h = handle->data;
    ASSERT(h->handles_open > 0);
    h->handles_open--;
}

void hub_stop(struct hub *h)
{
    if (h->stopping) {
        return;
    }
    h->stopping = true;
    for (uint32_t s = 0; s < h->o.shard_count; s++) {
        ASSERT(h->shards[s] == NULL); /* every group closed first */
    }
    for (struct hub_shake *s = h->shakes; s != NULL; s = s->next) {
        shake_close(s);
    }
    uv_close((uv_handle_t *)&h->listener, on_handle_closed);
    uv_close((uv_handle_t *)&h->sweep, on_handle_closed);
}

void hub_destroy(struct hub *h)
{
    if (h == NULL) {
        return;
    }
    ASSERT(h->stopping);
    ASSERT(h->handles_open == 0);
    ASSERT(h->shakes == NULL);
    mem_free(h->shards);
    mem_free(h);
}

/* ---- For the transports ---- */

uv_loop_t *hub_loop(const struct hub *h)
{
    return h->loop;
}

int hub_register(struct hub *h, uint32_t shard, struct transport *t)
{
    if (h->stopping || shard >= h->o.shard_count || h->shards[shard] != NULL) {
        return USHER_INVALID;
    }
    h->shards[shard] = t;
    return 0;
}

void hub_unregister(struct hub *h, uint32_t shard, struct transport *t)
{
    ASSERT(shard < h->o.shard_count);
    if (h->shards[shard] == t) {
        h->shards[shard] = NULL;
    }
}

static struct hub_peer *peer_find(struct hub *h, uint64_t id)
{
    for (uint32_t i = 0; i < h->o.member_count; i++) {
        if (h->peers[i].m.id == id) {
            return &h->peers[i];
        }
    }
    return NULL;
}

int hub_member_addr(const struct hub *h, uint64_t id, struct sockaddr_in *out)
{
    for (uint32_t i = 0; i < h->o.member_count; i++) {
        if (h->peers[i].m.id == id) {
            *out = h->peers[i].m.raft_addr;
            return 0;
        }
    }
    return USHER_INVALID;
}

bool hub_dial_allowed(struct hub *h, uint64_t id)
{
    struct hub_peer *p = peer_find(h, id);
    return p != NULL && uv_now(h->loop) >= p->retry_at;
}

void hub_dial_done(struct hub *h, uint64_t id, bool ok)
{
    struct hub_peer *p = peer_find(h, id);
    if (p == NULL) {
        return;
    }
    if (ok) {
        h->counters.dialed++;
        p->failures = 0;
        p->retry_at = 0;
        return;
    }
    h->counters.dial_failed++;
    uint64_t now = uv_now(h->loop);
    if (now < p->retry_at) {
        return; /* another shard's dial of the same outage: one step per window */
    }
    uint64_t delay = HUB_BACKOFF_MIN_MS;
    for (uint32_t i = 0; i < p->failures && delay < HUB_BACKOFF_MAX_MS; i++) {
        delay *= 2u;
    }
    if (delay > HUB_BACKOFF_MAX_MS) {
        delay = HUB_BACKOFF_MAX_MS;
    }
    h->jitter ^= h->jitter << 13;
    h->jitter ^= h->jitter >> 7;
    h->jitter ^= h->jitter << 17;
    delay -= h->jitter % (delay / 4u + 1u);
    p->failures++;
    p->retry_at = now + delay;
}

void hub_preamble(const struct hub *h, uint32_t shard, uint8_t out[HUB_PREAMBLE_BYTES])
{
    memset(out, 0, HUB_PREAMBLE_BYTES);
    buf_put_be64(out, HUB_MAGIC);
    out[8] = (uint8_t)(HUB_VERSION >> 8);
    out[9] = (uint8_t)HUB_VERSION;
    buf_put_be32(out + 12, shard);
    buf_put_be64(out + 16, h->o.cluster_id);
    buf_put_be64(out + 24, h->o.self_id);
    buf_put_be32(out + 32, h->o.shard_count);
}
