/*
 * Client connections: framing, bounds, replies (see conn.h).
 */
#include "conn.h"

#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "dispatch.h"
#include "limits.h"
#include "logger.h"
#include "mem.h"
#include "node.h"

/* First read buffer of a connection; it grows only for a larger frame. */
#define CONN_BUF_INITIAL 65536u

/* Stop reading while this many reply bytes wait to be written. */
#define CONN_WRITE_QUEUE_MAX 4194304u /* 4 MiB */

/* What a BUSY reply tells the client to wait. */
#define CONN_BUSY_RETRY_MS 10u

struct write_req {
    uv_write_t req;
    struct conn *conn;
    uint8_t data[]; /* frame bytes */
};

static void conn_unref(struct conn *c)
{
    ASSERT(c->refs > 0);
    c->refs--;
    if (c->refs == 0) {
        ASSERT(c->state == CONN_CLOSING);
        ASSERT(c->handle_closed);
        mem_free(c->buf);
        mem_free(c);
    }
}

static void on_close(uv_handle_t *h)
{
    struct conn *c = h->data;
    c->handle_closed = true;
    conn_unref(c);
}

void conn_close(struct conn *c)
{
    if (c->state == CONN_CLOSING) {
        return;
    }
    if (c->cork_len > 0) {
        /* Replies given before the close (a bad frame's error) go out if the
         * socket takes them now; uv_close would cancel a queued write. */
        uv_buf_t b = uv_buf_init((char *)c->node->cork_buf, (unsigned)c->cork_len);
        (void)uv_try_write((uv_stream_t *)&c->tcp, &b, 1); /* best effort */
        c->cork_len = 0;
    }
    c->state = CONN_CLOSING;
    struct node *n = c->node;
    /* Unlink: the node no longer sees it; requests in flight still hold it. */
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        n->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    ASSERT(n->conn_count > 0);
    n->conn_count--;
    uv_close((uv_handle_t *)&c->tcp, on_close);
}

static void on_write(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    struct conn *c = w->conn;
    mem_free(w);
    if (status != 0) {
        conn_close(c);
    }
    if (c->state == CONN_OPEN && !c->reading &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) < CONN_WRITE_QUEUE_MAX / 2) {
        dispatch_resume_reading(c);
    }
    conn_unref(c);
}

/* Hands the len bytes of w to libuv in one write. */
static void write_start(struct conn *c, struct write_req *w, size_t len)
{
    w->conn = c;
    uv_buf_t b = uv_buf_init((char *)w->data, (unsigned)len);
    c->refs++;
    if (uv_write(&w->req, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        mem_free(w);
        conn_unref(c);
        conn_close(c);
        return;
    }
    if (c->reading &&
        uv_stream_get_write_queue_size((uv_stream_t *)&c->tcp) > CONN_WRITE_QUEUE_MAX) {
        dispatch_pause_reading(c);
    }
}

/* Writes the corked replies, if any, in one write of their size. */
static void cork_flush(struct conn *c)
{
    size_t len = c->cork_len;
    if (len == 0) {
        return;
    }
    c->cork_len = 0;
    if (c->state != CONN_OPEN) {
        return;
    }
    struct write_req *w = mem_alloc(sizeof(*w) + len);
    if (w == NULL) {
        conn_close(c); /* out of memory: the client sees a reset and retries */
        return;
    }
    memcpy(w->data, c->node->cork_buf, len);
    write_start(c, w, len);
}

/* Queues one frame: header for (req fields, status) + payload. While this
 * connection's read is being handled (it owns the node's cork buffer), the
 * frame joins the replies gathered there. */
static void send_frame(struct conn *c, uint8_t op, uint64_t request_id, const uint8_t *trace_id,
                       uint16_t status, const uint8_t *payload, size_t len)
{
    if (c->state != CONN_OPEN) {
        return;
    }
    struct proto_header h = { .version = PROTO_VERSION,
                              .op = op,
                              .flags = PROTO_FLAG_REPLY,
                              .request_id = request_id,
                              .status = status };
    if (trace_id != NULL) {
        memcpy(h.trace_id, trace_id, PROTO_TRACE_ID_BYTES);
    }
    size_t head = PROTO_LEN_BYTES + PROTO_HEADER_BYTES;
    size_t frame = head + len;
    bool cork = c->node->cork_owner == c && frame <= CONN_CORK_BYTES_MAX;
    if (cork && c->cork_len + frame > CONN_CORK_BYTES_MAX) {
        cork_flush(c);
        if (c->state != CONN_OPEN) {
            return;
        }
    }
    struct write_req *w = cork ? NULL : mem_alloc(sizeof(*w) + frame);
    if (!cork && w == NULL) {
        conn_close(c); /* out of memory: the client sees a reset and retries */
        return;
    }
    uint8_t *out = cork ? c->node->cork_buf + c->cork_len : w->data;
    int rc = codec_frame_header_encode(&h, len, out);
    ASSERT(rc == 0); /* replies are built within the frame limit */
    if (len > 0) {
        memcpy(out + head, payload, len);
    }
    c->node->counters.replies_out++;
    if (cork) {
        c->cork_len += frame;
    } else {
        write_start(c, w, frame);
    }
}

void conn_reply(struct conn_request *req, uint16_t status, const uint8_t *payload, size_t len)
{
    struct conn *c = req->conn;
    node_request_done(c->node, req->op, status, req->start_ns);
    send_frame(c, req->op, req->request_id, req->trace_id, status, payload, len);
    ASSERT(c->inflight > 0);
    c->inflight--;
    mem_free(req);
    conn_unref(c);
}

/* Error payloads (proto.h): BUSY carries a retry hint, others a text. */
static size_t error_payload(int status, const char *message, uint8_t *out, size_t cap)
{
    size_t len = 0;
    int rc = codec_reply_error_encode(status, message, CONN_BUSY_RETRY_MS, out, cap, &len);
    ASSERT(rc == 0); /* our messages are short literals and addresses */
    return len;
}

void conn_reply_error(struct conn_request *req, int status, const char *message)
{
    ASSERT(status != 0);
    uint8_t payload[PROTO_ERROR_BYTES_MAX];
    size_t len = error_payload(status, message, payload, sizeof(payload));
    struct node *n = req->conn->node;
    if (status == USHER_BUSY) {
        n->counters.busy++;
    }
    /* The trace id ties this line to the client's own logs (USHER_DEBUG=dispatch). */
    logger_debug(&n->req_log, "request refused",
                 LOG_HEX("trace_id", req->trace_id, PROTO_TRACE_ID_BYTES),
                 LOG_U64("request", req->request_id), LOG_U64("op", req->op),
                 LOG_U64("shard", req->shard), LOG_ERR("code", status));
    conn_reply(req, (uint16_t)status, payload, len);
}

/* Answers a frame that cannot be served at all (bad header, too large) and
 * closes the connection: the stream position is lost. */
static void fail_stream(struct conn *c, uint64_t request_id, int status, const char *message)
{
    uint8_t payload[PROTO_ERROR_BYTES_MAX];
    size_t len = error_payload(status, message, payload, sizeof(payload));
    c->node->counters.frames_bad++;
    send_frame(c, PROTO_OP_NONE, request_id, NULL, (uint16_t)status, payload, len);
    conn_close(c);
}

/* Makes room for a frame of `need` bytes (<= the frame limit). */
static int ensure_cap(struct conn *c, size_t need)
{
    if (need <= c->buf_cap) {
        return 0;
    }
    uint8_t *p = mem_alloc(need);
    if (p == NULL) {
        return USHER_NOMEM;
    }
    memcpy(p, c->buf, c->buf_len);
    mem_free(c->buf);
    c->buf = p;
    c->buf_cap = need;
    return 0;
}

/* The frames of handle_frames(), its cork buffer held. */
static void handle_frames_corked(struct conn *c)
{
    size_t off = 0;
    while (c->state == CONN_OPEN && c->buf_len - off >= PROTO_LEN_BYTES) {
        size_t frame_bytes = 0;
        int rc = codec_frame_length_decode(c->buf + off, &frame_bytes);
        if (rc == 0 && frame_bytes > c->node->opts.frame_bytes_max) {
            rc = USHER_LIMIT_MSG_SIZE;
        }
        if (rc != 0) {
            fail_stream(c, 0, rc, "bad frame length");
            return;
        }
        if (c->buf_len - off < frame_bytes) {
            break;
        }
        struct proto_header h;
        const uint8_t *payload = NULL;
        size_t payload_len = 0;
        rc = codec_frame_decode(c->buf + off, frame_bytes, &h, &payload, &payload_len);
        if (rc != 0) {
            fail_stream(c, 0, rc, "bad frame header");
            return;
        }
        c->node->counters.frames_in++;
        dispatch_frame(c, &h, payload, payload_len);
        off += frame_bytes;
    }
    if (c->state != CONN_OPEN) {
        return;
    }
    memmove(c->buf, c->buf + off, c->buf_len - off);
    c->buf_len -= off;
    if (c->buf_len >= PROTO_LEN_BYTES) {
        size_t frame_bytes = 0;
        if (codec_frame_length_decode(c->buf, &frame_bytes) == 0 &&
            ensure_cap(c, frame_bytes) != 0) {
            conn_close(c);
        }
    }
}

/* Handles every whole frame in the buffer; keeps a partial one. The
 * replies given while it runs leave in one write at the end. A handler may
 * close c; its memory stays until the close callback, after this returns. */
static void handle_frames(struct conn *c)
{
    struct node *n = c->node;
    ASSERT(n->cork_owner == NULL); /* reads are handled one at a time */
    n->cork_owner = c;
    handle_frames_corked(c);
    n->cork_owner = NULL;
    cork_flush(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)suggested;
    ASSERT(c->buf_len < c->buf_cap);
    *b = uv_buf_init((char *)c->buf + c->buf_len, (unsigned)(c->buf_cap - c->buf_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct conn *c = s->data;
    (void)b;
    if (nread < 0) {
        conn_close(c); /* EOF or error */
        return;
    }
    c->buf_len += (size_t)nread;
    ASSERT(c->buf_len <= c->buf_cap);
    handle_frames(c);
}

void dispatch_resume_reading(struct conn *c)
{
    if (c->state == CONN_OPEN && !c->reading &&
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0) {
        c->reading = true;
    }
}

void dispatch_pause_reading(struct conn *c)
{
    if (c->reading) {
        (void)uv_read_stop((uv_stream_t *)&c->tcp); /* cannot fail on a TCP stream */
        c->reading = false;
    }
}

static void on_refused_close(uv_handle_t *h)
{
    mem_free(h);
}

static void refuse(struct node *n)
{
    /* Over the connection limit: accept and close at once, so the peer sees
     * a closed connection rather than a hanging SYN. */
    uv_tcp_t *t = mem_alloc(sizeof(*t));
    if (t == NULL || uv_tcp_init(n->loop, t) != 0) {
        mem_free(t);
        return;
    }
    (void)uv_accept((uv_stream_t *)&n->listener, (uv_stream_t *)t);
    uv_close((uv_handle_t *)t, on_refused_close);
    n->counters.conns_refused++;
}

void conn_accept(struct node *n)
{
    if (n->conn_count >= n->opts.connections_max || n->state != NODE_RUNNING) {
        refuse(n);
        return;
    }
    struct conn *c = mem_calloc(1, sizeof(*c));
    uint8_t *buf = mem_alloc(CONN_BUF_INITIAL);
    if (c == NULL || buf == NULL || uv_tcp_init(n->loop, &c->tcp) != 0) {
        mem_free(c);
        mem_free(buf);
        refuse(n);
        return;
    }
    c->node = n;
    c->tcp.data = c;
    c->buf = buf;
    c->buf_cap = CONN_BUF_INITIAL;
    c->state = CONN_OPEN;
    c->refs = 1;
    c->id = ++n->conn_seq;
    c->next = n->conns;
    if (n->conns != NULL) {
        n->conns->prev = c;
    }
    n->conns = c;
    n->conn_count++;
    n->counters.conns_accepted++;
    if (uv_accept((uv_stream_t *)&n->listener, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    (void)uv_tcp_nodelay(&c->tcp, 1); /* latency over packet count; failure is harmless */
    dispatch_resume_reading(c);
    if (!c->reading) {
        conn_close(c);
    }
}
