/*
 * One TCP connection per node (usher_int.h "Connections").
 *
 * The socket is ours and libuv only polls it (uv_poll), because every
 * write must be a send(2) with MSG_NOSIGNAL: a library may not let a peer
 * that hung up kill its process with SIGPIPE, nor change the process's
 * signal disposition. libuv's stream writes use write(2), which raises it.
 *
 *   IDLE --connect()--> CONNECTING --writable, SO_ERROR 0--> OPEN
 *     ^                     |                                 |
 *     |                     +-- error, connect timeout -------+-- EOF, error, bad frame
 *     |                                                       v
 *     +------------- poll handle closed, fd closed ------- CLOSING
 *
 * Writes: frames are appended to wbuf and written once per loop turn (the
 * client's idle handle), so the requests a burst of replies triggers leave
 * in one send. What the kernel does not take waits for POLLOUT. wbuf is
 * bounded (NODE_WRITE_BYTES_MAX); past it a call gets BUSY and retries.
 *
 * Reads: one recv per readable event into rbuf, then every whole frame is
 * matched to its call by request id. A frame's length is checked before the
 * buffer grows for it (USHER_FRAME_BYTES_MAX); a bad frame closes the
 * connection, and its calls are retried.
 */
#include "usher_int.h"

#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "assertion.h"
#include "mem.h"

/* Sends tried in one flush before waiting for POLLOUT. */
#define NODE_SENDS_PER_FLUSH_MAX 8u

struct usher_node *usher_node_get(struct usher_client *c, uint32_t peer)
{
    ASSERT(peer < c->route.peer_count);
    if (c->nodes[peer] != NULL) {
        return c->nodes[peer];
    }
    struct usher_node *n = mem_calloc(1, sizeof(*n));
    if (n == NULL) {
        return NULL;
    }
    n->client = c;
    n->peer = peer;
    n->state = NODE_IDLE;
    n->fd = -1;
    c->nodes[peer] = n;
    return n;
}

void usher_node_free(struct usher_node *n)
{
    if (n == NULL) {
        return;
    }
    ASSERT(n->state == NODE_IDLE);
    ASSERT(n->calls == NULL);
    mem_free(n->rbuf);
    mem_free(n->wbuf);
    mem_free(n);
}

void usher_node_attach(struct usher_node *n, struct usher_call *call)
{
    ASSERT(call->prev == NULL && call->next == NULL);
    ASSERT(call->node == n->peer);
    call->next = n->calls;
    if (n->calls != NULL) {
        n->calls->prev = call;
    }
    n->calls = call;
    n->call_count++;
}

void usher_node_detach(struct usher_node *n, struct usher_call *call)
{
    ASSERT(n->call_count > 0);
    if (call->prev != NULL) {
        call->prev->next = call->next;
    } else {
        ASSERT(n->calls == call);
        n->calls = call->next;
    }
    if (call->next != NULL) {
        call->next->prev = call->prev;
    }
    call->prev = NULL;
    call->next = NULL;
    n->call_count--;
}

static void on_close(uv_handle_t *h)
{
    struct usher_node *n = h->data;
    struct usher_client *c = n->client;
    ASSERT(n->state == NODE_CLOSING);
    (void)close(n->fd); /* nothing to do about an error on a socket we drop */
    n->fd = -1;
    n->state = NODE_IDLE;
    n->rlen = 0;
    n->woff = 0;
    n->wlen = 0;
    if (!c->closing && n->calls != NULL) {
        /* Calls attached while it closed wait for a new connection. */
        if (usher_node_connect(n) != 0) {
            usher_call_node_down(c, n->peer, USHER_UNAVAILABLE);
        }
    }
    usher_client_handle_closed(c);
}

static void poll_close(struct usher_node *n)
{
    ASSERT(n->state == NODE_CONNECTING || n->state == NODE_OPEN);
    n->state = NODE_CLOSING;
    n->dirty = false;
    uv_close((uv_handle_t *)&n->poll, on_close);
}

void usher_node_close(struct usher_node *n)
{
    ASSERT(n->client->closing);
    ASSERT(n->calls == NULL);
    if (n->state == NODE_CONNECTING || n->state == NODE_OPEN) {
        poll_close(n);
    }
}

void usher_node_fail(struct usher_node *n, int status)
{
    struct usher_client *c = n->client;
    if (n->state != NODE_CONNECTING && n->state != NODE_OPEN) {
        return;
    }
    poll_close(n);
    uint32_t avoid =
        usher_key_backoff_ms(c->backoff_base_ms, c->backoff_max_ms,
                             c->route.peers[n->peer].fail_count, usher_key_rand(&c->rng));
    usher_route_peer_failed(&c->route, n->peer, uv_now(c->loop), avoid);
    usher_call_node_down(c, n->peer, status);
}

static void poll_update(struct usher_node *n, int events);

/* Writes queued frames until done, EAGAIN, or the per-flush bound. */
static void flush(struct usher_node *n)
{
    for (uint32_t i = 0; i < NODE_SENDS_PER_FLUSH_MAX && n->woff < n->wlen; i++) {
        ssize_t sent =
            send(n->fd, n->wbuf + n->woff, n->wlen - n->woff, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            n->woff += (size_t)sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            usher_node_fail(n, USHER_UNAVAILABLE);
            return;
        }
    }
    if (n->woff == n->wlen) {
        n->woff = 0;
        n->wlen = 0;
        poll_update(n, UV_READABLE);
    } else {
        poll_update(n, UV_READABLE | UV_WRITABLE);
    }
}

void usher_node_flush_all(struct usher_client *c)
{
    for (uint32_t i = 0; i < c->route.peer_count && !c->closing; i++) {
        struct usher_node *n = c->nodes[i];
        if (n != NULL && n->dirty && n->state == NODE_OPEN) {
            n->dirty = false;
            flush(n);
        }
    }
}

static int grow(uint8_t **buf, size_t *cap, size_t need)
{
    if (need <= *cap) {
        return 0;
    }
    size_t cap_new = *cap > 0 ? *cap : NODE_BUF_INITIAL;
    while (cap_new < need) {
        cap_new *= 2u;
    }
    uint8_t *p = mem_alloc(cap_new);
    if (p == NULL) {
        return USHER_NOMEM;
    }
    if (*buf != NULL) {
        memcpy(p, *buf, *cap);
        mem_free(*buf);
    }
    *buf = p;
    *cap = cap_new;
    return 0;
}

int usher_node_write(struct usher_node *n, const struct proto_header *h, const uint8_t *payload,
                     size_t len)
{
    ASSERT(n->state == NODE_OPEN);
    size_t head = PROTO_LEN_BYTES + PROTO_HEADER_BYTES;
    size_t need = n->wlen + head + len;
    if (need > NODE_WRITE_BYTES_MAX && n->wlen > 0) {
        return USHER_BUSY; /* the peer reads slower than we write: wait */
    }
    if (n->woff > 0 && need > n->wcap) {
        /* Move the unwritten bytes down before growing. */
        memmove(n->wbuf, n->wbuf + n->woff, n->wlen - n->woff);
        n->wlen -= n->woff;
        n->woff = 0;
        need = n->wlen + head + len;
    }
    if (grow(&n->wbuf, &n->wcap, need) != 0) {
        return USHER_NOMEM;
    }
    int rc = codec_frame_header_encode(h, len, n->wbuf + n->wlen);
    if (rc != 0) {
        return rc; /* payloads are built within the limits; kept as a code, not a crash */
    }
    if (len > 0) {
        memcpy(n->wbuf + n->wlen + head, payload, len);
    }
    n->wlen += head + len;
    if (!n->dirty) {
        n->dirty = true;
        usher_client_flush_soon(n->client);
    }
    return 0;
}

/* Handles every whole frame in rbuf and keeps a partial one. The buffer
 * bounds the loop: each turn consumes at least a header's bytes. */
static void read_frames(struct usher_node *n)
{
    struct usher_client *c = n->client;
    size_t off = 0;
    while (n->rlen - off >= PROTO_LEN_BYTES) {
        size_t frame_bytes = 0;
        int rc = codec_frame_length_decode(n->rbuf + off, &frame_bytes);
        if (rc == 0 && n->rlen - off < frame_bytes) {
            break;
        }
        struct proto_header h;
        const uint8_t *payload = NULL;
        size_t payload_len = 0;
        if (rc == 0) {
            rc = codec_frame_decode(n->rbuf + off, frame_bytes, &h, &payload, &payload_len);
        }
        if (rc != 0 || (h.flags & PROTO_FLAG_REPLY) == 0 || h.request_id == 0) {
            /* A bad frame, a request, or a node's answer to a frame it could
             * not read (request id 0): the stream cannot be trusted. */
            usher_node_fail(n, USHER_UNAVAILABLE);
            return;
        }
        off += frame_bytes;
        struct usher_call *call = usher_call_find(c, h.request_id, n->peer);
        if (call != NULL) {
            usher_call_reply(call, &h, payload, payload_len);
        }
        if (c->closing || n->state != NODE_OPEN) {
            return; /* a callback destroyed the client, or the node failed */
        }
    }
    memmove(n->rbuf, n->rbuf + off, n->rlen - off);
    n->rlen -= off;
}

/* Makes room for the frame whose length field starts rbuf, if any. */
static int room_for_next(struct usher_node *n)
{
    size_t need = NODE_BUF_INITIAL;
    if (n->rlen >= PROTO_LEN_BYTES) {
        int rc = codec_frame_length_decode(n->rbuf, &need);
        if (rc != 0) {
            return rc;
        }
    }
    return grow(&n->rbuf, &n->rcap, need);
}

static void on_readable(struct usher_node *n)
{
    if (room_for_next(n) != 0 || n->rlen == n->rcap) {
        usher_node_fail(n, USHER_UNAVAILABLE);
        return;
    }
    ssize_t got = recv(n->fd, n->rbuf + n->rlen, n->rcap - n->rlen, MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return;
    }
    if (got <= 0) {
        usher_node_fail(n, USHER_UNAVAILABLE); /* EOF or reset */
        return;
    }
    n->rlen += (size_t)got;
    read_frames(n);
}

static void on_connected(struct usher_node *n)
{
    int err = 0;
    socklen_t err_len = sizeof(err);
    if (getsockopt(n->fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0 || err != 0) {
        usher_node_fail(n, USHER_UNAVAILABLE);
        return;
    }
    if (grow(&n->rbuf, &n->rcap, NODE_BUF_INITIAL) != 0) {
        usher_node_fail(n, USHER_NOMEM);
        return;
    }
    n->state = NODE_OPEN;
    poll_update(n, UV_READABLE);
    usher_call_node_up(n->client, n->peer);
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct usher_node *n = h->data;
    if (status < 0) {
        usher_node_fail(n, USHER_UNAVAILABLE);
        return;
    }
    if (n->state == NODE_CONNECTING) {
        if ((events & UV_WRITABLE) != 0) {
            on_connected(n);
        }
        return;
    }
    if (n->state == NODE_OPEN && (events & UV_READABLE) != 0) {
        on_readable(n);
    }
    if (n->state == NODE_OPEN && (events & UV_WRITABLE) != 0 && !n->client->closing) {
        flush(n);
    }
}

static void poll_update(struct usher_node *n, int events)
{
    if (n->poll_events == events) {
        return;
    }
    int rc = uv_poll_start(&n->poll, events, on_poll);
    if (rc != 0) {
        usher_node_fail(n, USHER_UNAVAILABLE);
        return;
    }
    n->poll_events = events;
}

static int socket_open(const struct sockaddr_in *sa, int *out)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return USHER_UNAVAILABLE;
    }
    int one = 1;
    /* Requests are small and latency matters more than packet count. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* best effort */
    if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) != 0 && errno != EINPROGRESS) {
        (void)close(fd);
        return USHER_UNAVAILABLE;
    }
    *out = fd;
    return 0;
}

int usher_node_connect(struct usher_node *n)
{
    struct usher_client *c = n->client;
    if (n->state != NODE_IDLE || c->closing) {
        return 0;
    }
    int fd = -1;
    int rc = socket_open(&c->route.peers[n->peer].sa, &fd);
    if (rc != 0) {
        return rc;
    }
    if (uv_poll_init_socket(c->loop, &n->poll, fd) != 0) {
        (void)close(fd);
        return USHER_UNAVAILABLE;
    }
    n->poll.data = n;
    n->fd = fd;
    n->state = NODE_CONNECTING;
    n->poll_events = 0;
    c->handles_open++;
    /* Connected or refused, the socket turns writable: on_connected reads
     * SO_ERROR to tell which. */
    poll_update(n, UV_WRITABLE);
    return 0;
}
