/*
 * libusher on the wire, against fake nodes: small servers in this process,
 * each on its own thread and libuv loop, that speak the frame protocol
 * (src/proto.h) and answer as each test scripts them: OK, NOT_LEADER with a
 * leader's address, BUSY with a retry hint, an error with a message, a
 * dropped connection, or silence. They show what usherd cannot be made to
 * do on demand: redirects, overload, lost connections. Every wait is
 * "run the loop until a condition holds", bounded by the call deadlines.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <cmocka.h>

#include "codec.h"
#include "proto.h"
#include "usher.h"

/* A check on a fake's thread: cmocka's asserts may only run on the test's. */
#define FAKE_CHECK(x)                                            \
    do {                                                         \
        if (!(x)) {                                              \
            (void)fprintf(stderr, "fake node: %s failed\n", #x); \
            abort();                                             \
        }                                                        \
    } while (0)

#define FAKE_LOG_MAX     512u
#define FAKE_PAYLOAD_MAX 512u
#define FAKE_CONNS_MAX   16u

enum fake_action {
    FAKE_REPLY = 1,  /* send the answer */
    FAKE_DROP = 2,   /* close the connection, no answer */
    FAKE_SILENT = 3, /* never answer */
    FAKE_DEFER = 4,  /* keep the answer; send all kept ones, newest first, with the next reply */
};

struct fake_req {
    uint8_t op;
    uint64_t request_id;
    uint8_t trace_id[PROTO_TRACE_ID_BYTES];
    uint32_t conn; /* connection number on this fake, from 1 */
    size_t len;
    uint8_t payload[FAKE_PAYLOAD_MAX];
};

struct fake_answer {
    uint8_t action; /* enum fake_action */
    uint16_t status;
    size_t len;
    uint8_t payload[1024];
};

struct fake;
typedef void (*fake_fn)(struct fake *f, const struct fake_req *req, uint32_t nth,
                        struct fake_answer *out);

struct fake_conn {
    struct fake *f;
    uv_tcp_t tcp;
    uint32_t number;
    size_t len;
    uint8_t buf[65536];
};

struct fake {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_async_t stop;
    uv_thread_t thread;
    uint16_t port;
    char addr[32];
    fake_fn fn;
    void *ctx;
    bool leads; /* STATUS: this fake leads shard 0 of 1 */
    uv_mutex_t lock;
    struct fake_req log[FAKE_LOG_MAX];
    uint32_t count;    /* requests seen (STATUS excluded) */
    uint32_t statuses; /* STATUS requests seen */
    uint32_t conns;    /* connections accepted */
    struct fake_conn *deferred_conn;
    uint8_t *deferred[64];
    size_t deferred_len[64];
    uint32_t deferred_count;
};

/* ---- The fake node (runs on its own thread) ---- */

static void on_write(uv_write_t *w, int status)
{
    (void)status;
    free(w->data);
    free(w);
}

static void frame_send(struct fake_conn *c, uint8_t *frame, size_t len)
{
    uv_write_t *w = malloc(sizeof(*w));
    if (w == NULL) {
        free(frame);
        return;
    }
    w->data = frame;
    uv_buf_t b = uv_buf_init((char *)frame, (unsigned)len);
    if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        free(frame);
        free(w);
    }
}

static uint8_t *frame_make(const struct proto_header *req, const struct fake_answer *a, size_t *len)
{
    struct proto_header h = *req;
    h.flags = PROTO_FLAG_REPLY;
    h.status = a->status;
    size_t head = PROTO_LEN_BYTES + PROTO_HEADER_BYTES;
    uint8_t *frame = malloc(head + a->len);
    if (frame == NULL || codec_frame_header_encode(&h, a->len, frame) != 0) {
        free(frame);
        return NULL;
    }
    memcpy(frame + head, a->payload, a->len);
    *len = head + a->len;
    return frame;
}

static void on_conn_close(uv_handle_t *h)
{
    free(h->data);
}

static void status_answer(struct fake *f, struct fake_answer *out)
{
    struct proto_node_status *s = calloc(1, sizeof(*s));
    FAKE_CHECK(s != NULL);
    s->node_id = f->port;
    s->cluster_id = 1;
    s->shard_count = 1;
    s->listed = 1;
    s->shards[0].role = f->leads ? PROTO_ROLE_LEADER : PROTO_ROLE_FOLLOWER;
    (void)snprintf(s->version, sizeof(s->version), "fake");
    out->action = FAKE_REPLY;
    out->status = 0;
    FAKE_CHECK(codec_reply_status_encode(s, out->payload, sizeof(out->payload), &out->len) == 0);
    free(s);
}

/* Answers one request as the test's script says. Returns false when the
 * connection was closed. */
static bool fake_serve(struct fake_conn *c, const struct proto_header *h, const uint8_t *payload,
                       size_t len)
{
    struct fake *f = c->f;
    struct fake_answer a;
    memset(&a, 0, sizeof(a));
    a.action = FAKE_REPLY;
    if (h->op == PROTO_OP_STATUS) {
        uv_mutex_lock(&f->lock);
        f->statuses++;
        uv_mutex_unlock(&f->lock);
        status_answer(f, &a);
    } else {
        struct fake_req r = { .op = h->op, .request_id = h->request_id, .conn = c->number };
        memcpy(r.trace_id, h->trace_id, sizeof(r.trace_id));
        r.len = len < FAKE_PAYLOAD_MAX ? len : FAKE_PAYLOAD_MAX;
        memcpy(r.payload, payload, r.len);
        uv_mutex_lock(&f->lock);
        uint32_t nth = f->count;
        if (f->count < FAKE_LOG_MAX) {
            f->log[f->count++] = r;
        }
        uv_mutex_unlock(&f->lock);
        f->fn(f, &r, nth, &a);
    }
    if (a.action == FAKE_DROP) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_close);
        return false;
    }
    size_t flen = 0;
    uint8_t *frame = a.action == FAKE_SILENT ? NULL : frame_make(h, &a, &flen);
    if (a.action == FAKE_DEFER && frame != NULL && f->deferred_count < 64) {
        f->deferred_conn = c;
        f->deferred[f->deferred_count] = frame;
        f->deferred_len[f->deferred_count++] = flen;
    } else if (frame != NULL) {
        frame_send(c, frame, flen);
        while (f->deferred_count > 0 && f->deferred_conn == c) {
            f->deferred_count--;
            frame_send(c, f->deferred[f->deferred_count], f->deferred_len[f->deferred_count]);
        }
    }
    return true;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
    struct fake_conn *c = h->data;
    (void)suggested;
    *b = uv_buf_init((char *)c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *b)
{
    struct fake_conn *c = s->data;
    (void)b;
    if (nread < 0) {
        uv_close((uv_handle_t *)&c->tcp, on_conn_close);
        return;
    }
    c->len += (size_t)nread;
    size_t off = 0;
    while (c->len - off >= PROTO_LEN_BYTES) {
        size_t frame_bytes = 0;
        FAKE_CHECK(codec_frame_length_decode(c->buf + off, &frame_bytes) == 0);
        if (c->len - off < frame_bytes) {
            break;
        }
        struct proto_header h;
        const uint8_t *payload = NULL;
        size_t plen = 0;
        FAKE_CHECK(codec_frame_decode(c->buf + off, frame_bytes, &h, &payload, &plen) == 0);
        off += frame_bytes;
        if (!fake_serve(c, &h, payload, plen)) {
            return;
        }
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct fake *f = server->data;
    FAKE_CHECK(status == 0);
    struct fake_conn *c = calloc(1, sizeof(*c));
    FAKE_CHECK(c != NULL);
    c->f = f;
    FAKE_CHECK(uv_tcp_init(&f->loop, &c->tcp) == 0);
    c->tcp.data = c;
    FAKE_CHECK(uv_accept(server, (uv_stream_t *)&c->tcp) == 0);
    uv_mutex_lock(&f->lock);
    c->number = ++f->conns;
    uv_mutex_unlock(&f->lock);
    FAKE_CHECK(uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0);
}

static void close_walk(uv_handle_t *h, void *arg)
{
    struct fake *f = arg;
    if (uv_is_closing(h)) {
        return;
    }
    bool conn = h->type == UV_TCP && h != (uv_handle_t *)&f->listener;
    uv_close(h, conn ? on_conn_close : NULL);
}

static void on_stop(uv_async_t *a)
{
    struct fake *f = a->data;
    for (uint32_t i = 0; i < f->deferred_count; i++) {
        free(f->deferred[i]);
    }
    f->deferred_count = 0;
    uv_walk(&f->loop, close_walk, f);
}

static void fake_thread(void *arg)
{
    struct fake *f = arg;
    /* The fake writes with libuv (write(2)) to clients that may have gone:
     * SIGPIPE is blocked on its thread only, so the test still dies if
     * libusher, on the main thread, ever raised it. */
    sigset_t set;
    FAKE_CHECK(sigemptyset(&set) == 0);
    FAKE_CHECK(sigaddset(&set, SIGPIPE) == 0);
    FAKE_CHECK(pthread_sigmask(SIG_BLOCK, &set, NULL) == 0);
    (void)uv_run(&f->loop, UV_RUN_DEFAULT);
}

static struct fake *fake_start(fake_fn fn, void *ctx, bool leads)
{
    struct fake *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->fn = fn;
    f->ctx = ctx;
    f->leads = leads;
    assert_int_equal(uv_mutex_init(&f->lock), 0);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(uv_tcp_init(&f->loop, &f->listener), 0);
    f->listener.data = f;
    struct sockaddr_in sa;
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sa), 0);
    assert_int_equal(uv_tcp_bind(&f->listener, (const struct sockaddr *)&sa, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&f->listener, 64, on_connection), 0);
    int len = sizeof(sa);
    assert_int_equal(uv_tcp_getsockname(&f->listener, (struct sockaddr *)&sa, &len), 0);
    f->port = ntohs(sa.sin_port);
    (void)snprintf(f->addr, sizeof(f->addr), "127.0.0.1:%u", f->port);
    assert_int_equal(uv_async_init(&f->loop, &f->stop, on_stop), 0);
    f->stop.data = f;
    assert_int_equal(uv_thread_create(&f->thread, fake_thread, f), 0);
    return f;
}

static void fake_stop(struct fake *f)
{
    assert_int_equal(uv_async_send(&f->stop), 0);
    assert_int_equal(uv_thread_join(&f->thread), 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    uv_mutex_destroy(&f->lock);
    free(f);
}

static uint32_t fake_count(struct fake *f)
{
    uv_mutex_lock(&f->lock);
    uint32_t n = f->count;
    uv_mutex_unlock(&f->lock);
    return n;
}

/* ---- Scripts ---- */

/* Answers every request with OK; a hold's result names the customer as
 * its hold id and holds the seats asked, so a test can match answers. */
static void answer_ok(struct fake *f, const struct fake_req *req, uint32_t nth,
                      struct fake_answer *out)
{
    (void)f;
    (void)nth;
    out->status = 0;
    out->len = 0;
    if (req->op != PROTO_OP_COMMAND) {
        return;
    }
    struct cmd cmd;
    FAKE_CHECK(codec_cmd_decode(req->payload, req->len, &cmd) == 0);
    struct cmd_result r = { .type = cmd.type, .id = cmd.customer_id, .expires_at_ms = 99 };
    if (cmd.type == CMD_HOLD_SEATS) {
        r.seat_count = cmd.u.hold_seats.seat_count;
        memcpy(r.seats, cmd.u.hold_seats.seats, sizeof(uint32_t) * r.seat_count);
    }
    codec_cmd_release(&cmd);
    FAKE_CHECK(codec_result_encode(&r, out->payload, sizeof(out->payload), &out->len) == 0);
}

static void answer_error(struct fake_answer *out, int status, const char *text, uint32_t retry)
{
    out->status = (uint16_t)status;
    FAKE_CHECK(codec_reply_error_encode(status, text, retry, out->payload, sizeof(out->payload),
                                        &out->len) == 0);
}

static void drop_first(struct fake *f, const struct fake_req *req, uint32_t nth,
                       struct fake_answer *out)
{
    answer_ok(f, req, nth, out);
    out->action = nth == 0 ? FAKE_DROP : FAKE_REPLY;
}

static void busy_first(struct fake *f, const struct fake_req *req, uint32_t nth,
                       struct fake_answer *out)
{
    if (nth == 0) {
        answer_error(out, USHER_BUSY, NULL, 20);
        return;
    }
    answer_ok(f, req, nth, out);
}

/* A follower: redirects every command to the fake in ctx. */
static void redirect(struct fake *f, const struct fake_req *req, uint32_t nth,
                     struct fake_answer *out)
{
    const struct fake *leader = f->ctx;
    (void)req;
    (void)nth;
    answer_error(out, USHER_NOT_LEADER, leader->addr, 0);
}

static void refuse(struct fake *f, const struct fake_req *req, uint32_t nth,
                   struct fake_answer *out)
{
    (void)f;
    (void)nth;
    if (req->op == PROTO_OP_COMMAND && req->payload[1] == CMD_HOLD_SEATS) {
        struct cmd_result r = { .type = CMD_HOLD_SEATS, .status = USHER_SEAT_TAKEN };
        out->status = 0;
        FAKE_CHECK(codec_result_encode(&r, out->payload, sizeof(out->payload), &out->len) == 0);
        return;
    }
    answer_error(out, USHER_BAD_REQUEST, "nope, not that", 0);
}

static void silent(struct fake *f, const struct fake_req *req, uint32_t nth,
                   struct fake_answer *out)
{
    (void)f;
    (void)req;
    (void)nth;
    out->action = FAKE_SILENT;
}

/* Keeps the first 99 answers and sends all 100, newest first, with the last. */
static void reverse_100(struct fake *f, const struct fake_req *req, uint32_t nth,
                        struct fake_answer *out)
{
    answer_ok(f, req, nth, out);
    out->action = nth < 99 ? FAKE_DEFER : FAKE_REPLY;
}

/* ---- The client side ---- */

struct waiter {
    uint32_t done;
    int status;
    uint64_t first_id;
    struct usher_cmd_result r;
    uint32_t matched; /* answers whose hold id named their customer */
    uint32_t cancelled;
    struct usher_client *destroy_me;
    bool destroyed;
};

static void on_cmd(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct waiter *w = ctx;
    assert_non_null(r);
    w->status = status;
    w->r = *r;
    w->done++;
}

static void on_done(void *ctx, int status)
{
    struct waiter *w = ctx;
    w->status = status;
    w->cancelled += status == USHER_CANCELLED;
    w->done++;
}

static void on_destroyed(void *ctx)
{
    struct waiter *w = ctx;
    w->destroyed = true;
}

/* Runs the loop until `count` answers came (the calls' deadlines bound it). */
static void run_until(uv_loop_t *loop, const uint32_t *done, uint32_t count)
{
    while (*done < count) {
        (void)uv_run(loop, UV_RUN_ONCE);
    }
}

static struct usher_client *client_make(uv_loop_t *loop, const char *addr, uint32_t call_ms,
                                        uint32_t attempt_ms, uint32_t inflight)
{
    const char *nodes[1] = { addr };
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = 1;
    o.call_timeout_ms = call_ms;
    o.attempt_timeout_ms = attempt_ms;
    o.inflight_max = inflight;
    o.backoff_base_ms = 1;
    o.backoff_max_ms = 20;
    struct usher_client *c = NULL;
    assert_int_equal(usher_client_create(loop, &o, &c), 0);
    return c;
}

/* Destroys an asynchronous client and runs the loop until it is gone. */
static void client_end(uv_loop_t *loop, struct usher_client *c)
{
    struct waiter w;
    memset(&w, 0, sizeof(w));
    usher_client_destroy(c, &w, on_destroyed);
    while (!w.destroyed) {
        (void)uv_run(loop, UV_RUN_ONCE);
    }
}

static void loop_end(uv_loop_t *loop)
{
    (void)uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(loop), 0);
}

static const uint32_t seat7[1] = { 7 };

/* Goal: a ping and a hold round-trip; the hold carries this client's id and
 * a fresh key, each request a trace id (the caller's when given). */
static void test_net_round_trip_carries_ids_and_trace(void **state)
{
    (void)state;
    struct fake *f = fake_start(answer_ok, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 5000, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_ping(c, NULL, &w, on_done), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, 0);
    struct usher_call_opts opts;
    memset(&opts, 0, sizeof(opts));
    memset(opts.trace_id, 0xab, sizeof(opts.trace_id));
    assert_int_equal(usher_hold_seats(c, &opts, 42, 1001, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 2);
    assert_int_equal(w.status, 0);
    assert_true(w.r.id == 1001);
    assert_int_equal(w.r.seat_count, 1);
    assert_int_equal(w.r.seats[0], 7);
    assert_true(w.r.idem_key != 0);
    assert_int_equal(fake_count(f), 2);
    struct cmd cmd;
    assert_int_equal(codec_cmd_decode(f->log[1].payload, f->log[1].len, &cmd), 0);
    assert_true(cmd.client_id == usher_client_id(c));
    assert_true(cmd.idem_key == w.r.idem_key);
    assert_true(cmd.event_id == 42);
    assert_memory_equal(f->log[1].trace_id, opts.trace_id, sizeof(opts.trace_id));
    uint8_t zero[PROTO_TRACE_ID_BYTES] = { 0 };
    assert_memory_not_equal(f->log[0].trace_id, zero, sizeof(zero));
    assert_true(f->log[0].request_id != f->log[1].request_id);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

/* Goal: a command whose connection dropped before the answer is sent again
 * on a new connection with the very same bytes (same idempotency key), and
 * the caller gets one answer. */
static void test_net_retry_after_drop_reuses_the_key(void **state)
{
    (void)state;
    struct fake *f = fake_start(drop_first, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 5000, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_hold_seats(c, NULL, 42, 5, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, 0);
    assert_int_equal(fake_count(f), 2);
    assert_int_equal(f->log[0].len, f->log[1].len);
    assert_memory_equal(f->log[0].payload, f->log[1].payload, f->log[0].len);
    assert_true(f->log[0].request_id != f->log[1].request_id);
    assert_int_equal(f->log[0].conn, 1);
    assert_int_equal(f->log[1].conn, 2);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

/* Goal: NOT_LEADER with an address sends the command to that node, and the
 * next command for the event goes there directly (learnt routes). */
static void test_net_follows_not_leader_to_the_leader(void **state)
{
    (void)state;
    struct fake *leader = fake_start(answer_ok, NULL, true);
    struct fake *follower = fake_start(redirect, leader, false);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, follower->addr, 5000, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_hold_seats(c, NULL, 42, 5, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, 0);
    assert_int_equal(fake_count(follower), 1);
    assert_int_equal(fake_count(leader), 1);
    assert_memory_equal(follower->log[0].payload, leader->log[0].payload, leader->log[0].len);
    assert_int_equal(usher_hold_seats(c, NULL, 42, 6, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 2);
    assert_int_equal(w.status, 0);
    assert_int_equal(fake_count(follower), 1);
    assert_int_equal(fake_count(leader), 2);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(follower);
    fake_stop(leader);
}

/* Goal: BUSY is retried (after the node's hint) until it succeeds. */
static void test_net_busy_is_retried(void **state)
{
    (void)state;
    struct fake *f = fake_start(busy_first, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 5000, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_hold_seats(c, NULL, 42, 5, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, 0);
    assert_int_equal(fake_count(f), 2);
    assert_memory_equal(f->log[0].payload, f->log[1].payload, f->log[0].len);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

/* Goal: a refusal in a command's result and an error status both end the
 * call at once (no retry), with the code and the node's message. */
static void test_net_refusals_and_errors_are_final(void **state)
{
    (void)state;
    struct fake *f = fake_start(refuse, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 5000, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_hold_seats(c, NULL, 42, 5, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, USHER_SEAT_TAKEN);
    assert_true(w.r.idem_key != 0);
    assert_string_equal(usher_client_errmsg(c), "seat already held or booked");
    assert_int_equal(usher_ping(c, NULL, &w, on_done), 0);
    run_until(&loop, &w.done, 2);
    assert_int_equal(w.status, USHER_BAD_REQUEST);
    assert_non_null(strstr(usher_client_errmsg(c), "nope, not that"));
    assert_int_equal(fake_count(f), 2);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

/* Goal: a node nobody listens on makes a call fail UNAVAILABLE by its
 * deadline; a node that never answers makes it fail TIMEOUT, after more
 * than one attempt with the same bytes. */
static void test_net_dead_and_silent_nodes_fail_by_the_deadline(void **state)
{
    (void)state;
    struct fake *gone = fake_start(answer_ok, NULL, true);
    char addr[32];
    (void)snprintf(addr, sizeof(addr), "%s", gone->addr);
    fake_stop(gone); /* its port is closed now */
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, addr, 300, 0, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    assert_int_equal(usher_ping(c, NULL, &w, on_done), 0);
    run_until(&loop, &w.done, 1);
    assert_int_equal(w.status, USHER_UNAVAILABLE);
    client_end(&loop, c);
    struct fake *f = fake_start(silent, NULL, true);
    c = client_make(&loop, f->addr, 400, 60, 0);
    assert_int_equal(usher_hold_seats(c, NULL, 42, 5, seat7, 1, 0, &w, on_cmd), 0);
    run_until(&loop, &w.done, 2);
    assert_int_equal(w.status, USHER_TIMEOUT);
    assert_true(fake_count(f) >= 2);
    assert_memory_equal(f->log[0].payload, f->log[1].payload, f->log[0].len);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

static void on_matched(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct waiter *w = ctx;
    w->done++;
    w->matched += status == 0 && r->seat_count == 1 && r->seats[0] == r->id % 1000u;
}

/* Goal: 100 holds in flight on one connection, answered newest first, each
 * reach their own caller. */
static void test_net_many_in_flight_answered_out_of_order(void **state)
{
    (void)state;
    struct fake *f = fake_start(reverse_100, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 10000, 10000, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    for (uint32_t i = 0; i < 100; i++) {
        uint32_t seat = 500u + i;
        assert_int_equal(usher_hold_seats(c, NULL, 42, 1000u + seat, &seat, 1, 0, &w, on_matched),
                         0);
    }
    run_until(&loop, &w.done, 100);
    assert_int_equal(w.matched, 100);
    assert_int_equal(fake_count(f), 100);
    assert_int_equal(f->conns, 1);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

/* Goal: the in-flight bound refuses at start (BUSY, no callback); destroy
 * cancels what is in flight, each callback once, then calls back. */
static void test_net_bound_and_destroy_cancel(void **state)
{
    (void)state;
    struct fake *f = fake_start(silent, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 10000, 10000, 4);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    for (int i = 0; i < 4; i++) {
        assert_int_equal(usher_ping(c, NULL, &w, on_done), 0);
    }
    assert_int_equal(usher_ping(c, NULL, &w, on_done), USHER_BUSY);
    usher_client_destroy(c, &w, on_destroyed);
    assert_int_equal(w.done, 4);
    assert_int_equal(w.cancelled, 4);
    assert_false(w.destroyed); /* the handles close on the next loop turns */
    loop_end(&loop);
    assert_true(w.destroyed);
    fake_stop(f);
}

static void on_ping_destroy(void *ctx, int status)
{
    struct waiter *w = ctx;
    on_done(ctx, status);
    if (w->destroy_me != NULL) {
        usher_client_destroy(w->destroy_me, w, on_destroyed);
        w->destroy_me = NULL;
    }
}

/* Goal: destroying the client from inside a callback is safe: the other
 * calls end CANCELLED and the loop winds down. */
static void test_net_destroy_inside_a_callback(void **state)
{
    (void)state;
    struct fake *f = fake_start(answer_ok, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 10000, 10000, 0);
    struct waiter w;
    memset(&w, 0, sizeof(w));
    w.destroy_me = c;
    for (int i = 0; i < 10; i++) {
        assert_int_equal(usher_ping(c, NULL, &w, on_ping_destroy), 0);
    }
    run_until(&loop, &w.done, 10);
    assert_true(w.cancelled >= 1);
    assert_int_equal(w.done, 10);
    loop_end(&loop);
    assert_true(w.destroyed);
    fake_stop(f);
}

/* Goal: the blocking face runs the same calls on a private loop; it is
 * refused on a client of a caller's loop. */
static void test_net_blocking_client(void **state)
{
    (void)state;
    struct fake *f = fake_start(answer_ok, NULL, true);
    const char *nodes[1] = { f->addr };
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = 1;
    struct usher_client *c = NULL;
    assert_int_equal(usher_client_create(NULL, &o, &c), 0);
    assert_int_equal(usher_ping_sync(c, NULL), 0);
    struct usher_cmd_result r;
    assert_int_equal(usher_hold_seats_sync(c, NULL, 42, 77, seat7, 1, 0, &r), 0);
    assert_true(r.id == 77);
    struct usher_node_status *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(usher_node_status_sync(c, NULL, s), 0);
    assert_string_equal(s->version, "fake");
    assert_string_equal(s->node, f->addr);
    assert_int_equal(s->shards[0].role, USHER_ROLE_LEADER);
    free(s);
    usher_client_destroy(c, NULL, NULL);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    c = client_make(&loop, f->addr, 1000, 0, 0);
    assert_int_equal(usher_ping_sync(c, NULL), USHER_INVALID);
    client_end(&loop, c);
    loop_end(&loop);
    fake_stop(f);
}

static void on_never(void *ctx, int status)
{
    (void)ctx;
    (void)status;
    fail_msg("a call refused at start must not call back");
}

static void on_never_cmd(void *ctx, int status, const struct usher_cmd_result *r)
{
    (void)r;
    on_never(ctx, status);
}

/* Goal: bad arguments are refused at start with their code, and nothing
 * is sent. */
static void test_net_bad_arguments_refused_at_start(void **state)
{
    (void)state;
    struct fake *f = fake_start(answer_ok, NULL, true);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct usher_client *c = client_make(&loop, f->addr, 1000, 0, 0);
    uint32_t seats[65] = { 0 };
    assert_int_equal(usher_hold_seats(c, NULL, 42, 0, seats, 1, 0, NULL, on_never_cmd),
                     USHER_INVALID);
    assert_int_equal(usher_hold_seats(c, NULL, 0, 1, seats, 1, 0, NULL, on_never_cmd),
                     USHER_INVALID);
    assert_int_equal(usher_hold_seats(c, NULL, 42, 1, seats, 65, 0, NULL, on_never_cmd),
                     USHER_LIMIT_HOLD_SEATS);
    assert_int_equal(usher_hold_seats(c, NULL, 42, 1, seats, 1, 0, NULL, NULL), USHER_INVALID);
    char ref[80];
    memset(ref, 'r', sizeof(ref) - 1u);
    ref[sizeof(ref) - 1u] = '\0';
    assert_int_equal(usher_hold_book(c, NULL, 42, 1, 9, ref, NULL, on_never_cmd),
                     USHER_LIMIT_PAYMENT_REF);
    assert_int_equal(usher_hold_release(c, NULL, 42, 1, 0, NULL, on_never_cmd), USHER_INVALID);
    struct usher_call_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.node = "not-an-address";
    assert_int_equal(usher_ping(c, &opts, NULL, on_never), USHER_INVALID);
    assert_int_equal(usher_ping(c, NULL, NULL, NULL), USHER_INVALID);
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    struct usher_client *bad = NULL;
    assert_int_equal(usher_client_create(&loop, &o, &bad), USHER_INVALID);
    const char *nodes[1] = { "127.0.0.1" };
    o.nodes = nodes;
    o.node_count = 1;
    assert_int_equal(usher_client_create(&loop, &o, &bad), USHER_INVALID);
    client_end(&loop, c);
    loop_end(&loop);
    assert_int_equal(fake_count(f), 0);
    fake_stop(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_net_round_trip_carries_ids_and_trace),
        cmocka_unit_test(test_net_retry_after_drop_reuses_the_key),
        cmocka_unit_test(test_net_follows_not_leader_to_the_leader),
        cmocka_unit_test(test_net_busy_is_retried),
        cmocka_unit_test(test_net_refusals_and_errors_are_final),
        cmocka_unit_test(test_net_dead_and_silent_nodes_fail_by_the_deadline),
        cmocka_unit_test(test_net_many_in_flight_answered_out_of_order),
        cmocka_unit_test(test_net_bound_and_destroy_cancel),
        cmocka_unit_test(test_net_destroy_inside_a_callback),
        cmocka_unit_test(test_net_blocking_client),
        cmocka_unit_test(test_net_bad_arguments_refused_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
