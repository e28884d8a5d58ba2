/*
 * Operator HTTP server (http.h): libuv for the sockets, Debian's http-parser
 * for the request. Every connection is one mem_alloc()ed struct holding its
 * handles, parser, read buffer and response head; a response body is either
 * inline (short texts) or allocated for /metrics and /status and freed with
 * the connection. Nothing else is allocated.
 *
 * A connection holds two handles (the socket and its timer). It is freed in
 * the close callback of the last one (STYLE.md 5.3); only then does the
 * server count it gone and accept a connection waiting for a slot.
 */
#include "http.h"

#include <assert.h>
#include <http_parser.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "config.h"
#include "mem.h"
#include "metrics.h"

#define READ_BUF_BYTES        4096u
#define HEAD_BYTES            256u
#define INLINE_BODY_BYTES     (HTTP_REASON_BYTES + 64u)
#define LISTEN_BACKLOG        128
#define LIMIT_LOG_INTERVAL_MS 10000u

enum conn_state {
    CONN_READING = 1,
    CONN_WRITING = 2,
    CONN_DRAINING = 3,
    CONN_CLOSING = 4,
};

/* Allowed moves of enum conn_state (STYLE.md 6.6): transitions[from][to]. */
static const bool transitions[5][5] = {
    [CONN_READING] = { [CONN_WRITING] = true, [CONN_CLOSING] = true },
    [CONN_WRITING] = { [CONN_DRAINING] = true, [CONN_CLOSING] = true },
    [CONN_DRAINING] = { [CONN_CLOSING] = true },
};

struct http_conn {
    struct http_server *server;
    struct http_conn *prev;
    struct http_conn *next;
    uint8_t state; /* enum conn_state */
    uint8_t handles_open;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    http_parser parser;
    bool bad_method;
    bool url_too_long;
    bool complete;
    size_t bytes_in;
    size_t url_len;
    char url[HTTP_URL_BYTES_MAX];
    char read_buf[READ_BUF_BYTES];
    size_t head_len;
    char head[HEAD_BYTES];
    char *body; /* inline_body, or allocated (body_owned) */
    size_t body_len;
    bool body_owned;
    char inline_body[INLINE_BODY_BYTES];
};

static_assert(READ_BUF_BYTES <= HTTP_REQUEST_BYTES_MAX, "one read cannot hide the limit");

static void conn_move(struct http_conn *c, enum conn_state to)
{
    ASSERT(c->state >= CONN_READING && c->state <= CONN_CLOSING);
    ASSERT(transitions[c->state][to]);
    c->state = (uint8_t)to;
}

static void server_accept(struct http_server *s);
static void server_stop_finish(struct http_server *s);

static void conn_close_cb(uv_handle_t *handle)
{
    struct http_conn *c = handle->data;
    struct http_server *s = c->server;
    ASSERT(c->handles_open > 0);
    c->handles_open--;
    if (c->handles_open > 0) {
        return;
    }
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        s->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    if (c->body_owned) {
        mem_free(c->body);
    }
    mem_free(c);
    ASSERT(s->conn_count > 0);
    s->conn_count--;
    if (s->state == HTTP_SERVER_RUNNING && s->accept_pending) {
        s->accept_pending = false;
        server_accept(s);
    }
    server_stop_finish(s);
}

static void conn_close(struct http_conn *c)
{
    if (c->state == CONN_CLOSING) {
        return;
    }
    conn_move(c, CONN_CLOSING);
    uv_close((uv_handle_t *)&c->tcp, conn_close_cb);
    uv_close((uv_handle_t *)&c->timer, conn_close_cb);
}

static const char *reason_phrase(unsigned status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 414:
        return "URI Too Long";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        UNREACHABLE();
    }
}

static void shutdown_cb(uv_shutdown_t *req, int status)
{
    struct http_conn *c = req->data;
    if (status != 0 && c->state != CONN_CLOSING) {
        conn_close(c);
    }
}

static void write_cb(uv_write_t *req, int status)
{
    struct http_conn *c = req->data;
    if (c->state == CONN_CLOSING) {
        return; /* Cancelled by a close: nothing left to do. */
    }
    if (status != 0) {
        conn_close(c);
        return;
    }
    conn_move(c, CONN_DRAINING);
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, shutdown_cb) != 0) {
        conn_close(c);
    }
}

/* Sends the head and body (c->body, c->body_len) with the given status. */
static void respond(struct http_conn *c, unsigned status, const char *content_type)
{
    struct http_server *s = c->server;
    int n = snprintf(c->head, sizeof(c->head),
                     "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s"
                     "Cache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, reason_phrase(status), content_type, c->body_len,
                     status == 405 ? "Allow: GET\r\n" : "");
    ASSERT(n > 0 && (size_t)n < sizeof(c->head));
    c->head_len = (size_t)n;
    s->counters.requests++;
    s->counters.errors += status >= 400 ? 1u : 0u;
    logger_debug(&s->log, "http response", LOG_STRN("path", c->url, c->url_len),
                 LOG_U64("status", status), LOG_U64("bytes", c->body_len));
    conn_move(c, CONN_WRITING);
    uv_buf_t bufs[2] = { uv_buf_init(c->head, (unsigned)c->head_len),
                         uv_buf_init(c->body, (unsigned)c->body_len) };
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, 2, write_cb) != 0) {
        conn_close(c);
    }
}

/* Responds with a short text body (copied inline). */
static void respond_text(struct http_conn *c, unsigned status, const char *text)
{
    int n = snprintf(c->inline_body, sizeof(c->inline_body), "%s\n", text);
    ASSERT(n > 0);
    c->body = c->inline_body;
    c->body_len = (size_t)n < sizeof(c->inline_body) ? (size_t)n : sizeof(c->inline_body) - 1;
    respond(c, status, "text/plain; charset=utf-8");
}

static void serve_metrics(struct http_conn *c)
{
    struct metrics *m = c->server->opts.metrics;
    size_t cap = metrics_render_bytes_max(m);
    char *body = mem_alloc(cap > 0 ? cap : 1);
    if (body == NULL) {
        respond_text(c, 503, "out of memory");
        return;
    }
    size_t len = 0;
    if (metrics_render(m, body, cap, &len) != 0) {
        mem_free(body);
        respond_text(c, 500, "metrics do not fit their buffer");
        return;
    }
    c->body = body;
    c->body_owned = true;
    c->body_len = len;
    respond(c, 200, "text/plain; version=0.0.4; charset=utf-8");
}

static void serve_health(struct http_conn *c)
{
    const struct http_options *o = &c->server->opts;
    char reason[HTTP_REASON_BYTES] = "unhealthy";
    if (o->health_cb == NULL || o->health_cb(o->ctx, reason, sizeof(reason))) {
        respond_text(c, 200, "ok");
        return;
    }
    reason[sizeof(reason) - 1] = '\0';
    respond_text(c, 503, reason);
}

static void serve_status(struct http_conn *c)
{
    const struct http_options *o = &c->server->opts;
    char *body = mem_alloc(HTTP_STATUS_BYTES_MAX);
    if (body == NULL) {
        respond_text(c, 503, "out of memory");
        return;
    }
    size_t len = 0;
    int rc = o->status_cb(o->ctx, body, HTTP_STATUS_BYTES_MAX, &len);
    if (rc != 0 || len > HTTP_STATUS_BYTES_MAX) {
        mem_free(body);
        respond_text(c, 503, rc != 0 ? err_message(rc) : "status too large");
        return;
    }
    c->body = body;
    c->body_owned = true;
    c->body_len = len;
    respond(c, 200, "application/json");
}

static bool path_is(const struct http_conn *c, const char *path)
{
    size_t path_len = strcspn(c->url, "?");
    return path_len == strlen(path) && memcmp(c->url, path, path_len) == 0;
}

/* Answers a complete request. */
static void route(struct http_conn *c)
{
    const struct http_options *o = &c->server->opts;
    if (path_is(c, "/metrics") && o->metrics != NULL) {
        serve_metrics(c);
    } else if (path_is(c, "/health")) {
        serve_health(c);
    } else if (path_is(c, "/status") && o->status_cb != NULL) {
        serve_status(c);
    } else {
        respond_text(c, 404, "not found");
    }
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    struct http_conn *c = p->data;
    if (len > HTTP_URL_BYTES_MAX - 1 - c->url_len) {
        c->url_too_long = true;
        return -1;
    }
    memcpy(c->url + c->url_len, at, len);
    c->url_len += len;
    c->url[c->url_len] = '\0';
    return 0;
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    if (p->method != HTTP_GET) {
        c->bad_method = true;
        return -1;
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    struct http_conn *c = p->data;
    c->complete = true;
    http_parser_pause(p, 1); /* One request per connection: ignore what follows. */
    return 0;
}

static const http_parser_settings parser_settings = {
    .on_url = on_url,
    .on_headers_complete = on_headers_complete,
    .on_message_complete = on_message_complete,
};

/* Feeds bytes of the request to the parser (at most HTTP_REQUEST_BYTES_MAX
 * in all) and answers when it is whole or cannot be. */
static void request_feed(struct http_conn *c, const char *data, size_t len)
{
    ASSERT(len > 0); /* The parser takes a zero length for end of input. */
    size_t room = HTTP_REQUEST_BYTES_MAX - c->bytes_in;
    size_t take = len < room ? len : room;
    c->bytes_in += len;
    size_t parsed = take > 0 ? http_parser_execute(&c->parser, &parser_settings, data, take) : 0;
    if (c->complete) {
        route(c);
    } else if (c->bad_method) {
        respond_text(c, 405, "method not allowed");
    } else if (c->url_too_long) {
        respond_text(c, 414, "url too long");
    } else if (parsed != take || HTTP_PARSER_ERRNO(&c->parser) != HPE_OK) {
        respond_text(c, 400, http_errno_description(HTTP_PARSER_ERRNO(&c->parser)));
    } else if (take < len) {
        respond_text(c, 431, "request too large");
    }
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct http_conn *c = handle->data;
    (void)suggested; /* The connection's buffer bounds every read. */
    *buf = uv_buf_init(c->read_buf, sizeof(c->read_buf));
}

static void read_cb(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct http_conn *c = stream->data;
    (void)buf;
    if (nread < 0) {
        conn_close(c);
        return;
    }
    size_t len = (size_t)nread;
    if (len == 0) {
        return; /* EAGAIN: nothing was read. */
    }
    if (c->state == CONN_READING) {
        request_feed(c, c->read_buf, len);
    } else if (c->state == CONN_DRAINING || c->state == CONN_WRITING) {
        /* Bytes after the request: dropped, so the close sends no reset. */
        c->bytes_in += len;
        if (c->bytes_in > HTTP_REQUEST_BYTES_MAX + HTTP_DRAIN_BYTES_MAX) {
            conn_close(c);
        }
    }
}

static void timer_cb(uv_timer_t *timer)
{
    struct http_conn *c = timer->data;
    logger_debug(&c->server->log, "http connection timed out", LOG_U64("bytes_in", c->bytes_in));
    conn_close(c);
}

/* Starts a connection on an initialised, accepted socket. */
static void conn_begin(struct http_conn *c)
{
    struct http_server *s = c->server;
    http_parser_init(&c->parser, HTTP_REQUEST);
    c->parser.data = c;
    uint32_t timeout = s->opts.request_timeout_ms;
    int rc =
        uv_timer_start(&c->timer, timer_cb, timeout != 0 ? timeout : HTTP_REQUEST_TIMEOUT_MS, 0);
    if (rc == 0) {
        rc = uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, read_cb);
    }
    if (rc != 0) {
        logger_warn(&s->log, "http connection start failed", LOG_STR("uv", uv_strerror(rc)));
        conn_close(c);
    }
}

/* Accepts one waiting connection (or puts it off when no slot is free). */
static void server_accept(struct http_server *s)
{
    if (s->conn_count >= HTTP_CONNECTIONS_MAX) {
        s->accept_pending = true; /* libuv stops watching until uv_accept(). */
        s->counters.deferred++;
        (void)logger_warn_limited(&s->log, &s->limit_rl, uv_now(s->loop), LIMIT_LOG_INTERVAL_MS,
                                  "http connection limit reached",
                                  LOG_U64("max", HTTP_CONNECTIONS_MAX));
        return;
    }
    struct http_conn *c = mem_calloc(1, sizeof(*c));
    if (c == NULL) {
        s->accept_pending = true; /* Retried when a connection closes. */
        logger_error(&s->log, "http accept: out of memory");
        return;
    }
    c->server = s;
    c->state = CONN_READING;
    c->next = s->conns;
    if (s->conns != NULL) {
        s->conns->prev = c;
    }
    s->conns = c;
    s->conn_count++;
    s->counters.conns_peak =
        s->conn_count > s->counters.conns_peak ? s->conn_count : s->counters.conns_peak;
    /* uv_tcp_init and uv_timer_init cannot fail on an initialised loop. */
    int rc = uv_tcp_init(s->loop, &c->tcp);
    ASSERT(rc == 0);
    rc = uv_timer_init(s->loop, &c->timer);
    ASSERT(rc == 0);
    c->tcp.data = c;
    c->timer.data = c;
    c->handles_open = 2;
    rc = uv_accept((uv_stream_t *)&s->tcp, (uv_stream_t *)&c->tcp);
    if (rc != 0) {
        logger_warn(&s->log, "http accept failed", LOG_STR("uv", uv_strerror(rc)));
        conn_close(c);
        return;
    }
    s->counters.accepted++;
    conn_begin(c);
}

static void connection_cb(uv_stream_t *server, int status)
{
    struct http_server *s = server->data;
    if (status != 0) {
        logger_warn(&s->log, "http listen error", LOG_STR("uv", uv_strerror(status)));
        return;
    }
    server_accept(s);
}

int http_start(struct http_server *s, uv_loop_t *loop, const struct http_options *o,
               const struct logger *log, char *errmsg)
{
    memset(s, 0, sizeof(*s));
    s->loop = loop;
    s->opts = *o;
    s->state = HTTP_SERVER_RUNNING;
    logger_child(&s->log, log, LOGGER_SUBSYSTEM_HTTP);
    char addr[CONFIG_ADDR_BYTES];
    config_addr_format(&o->addr, addr);
    int rc = uv_tcp_init(loop, &s->tcp);
    ASSERT(rc == 0); /* Cannot fail on an initialised loop. */
    s->tcp.data = s;
    s->tcp_open = true;
    rc = uv_tcp_bind(&s->tcp, (const struct sockaddr *)&o->addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&s->tcp, LISTEN_BACKLOG, connection_cb);
    }
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "http listen on %s: %s", addr, uv_strerror(rc));
        return USHER_INVALID;
    }
    uint16_t port = 0;
    if (http_port(s, &port) == 0) {
        logger_info(&s->log, "http listening", LOG_STR("addr", addr), LOG_U64("port", port));
    }
    return 0;
}

int http_port(const struct http_server *s, uint16_t *port)
{
    struct sockaddr_in addr;
    int len = (int)sizeof(addr);
    if (uv_tcp_getsockname(&s->tcp, (struct sockaddr *)&addr, &len) != 0 ||
        addr.sin_family != AF_INET) {
        return USHER_INVALID;
    }
    *port = ntohs(addr.sin_port);
    return 0;
}

static void server_stop_finish(struct http_server *s)
{
    if (s->state != HTTP_SERVER_STOPPING || s->tcp_open || s->conn_count > 0) {
        return;
    }
    s->state = HTTP_SERVER_STOPPED;
    logger_info(&s->log, "http stopped");
    if (s->stop_cb != NULL) {
        s->stop_cb(s, s->stop_ctx);
    }
}

static void listener_close_cb(uv_handle_t *handle)
{
    struct http_server *s = handle->data;
    s->tcp_open = false;
    server_stop_finish(s);
}

void http_stop(struct http_server *s, http_stop_cb cb, void *ctx)
{
    if (s->state != HTTP_SERVER_RUNNING) {
        return;
    }
    s->state = HTTP_SERVER_STOPPING;
    s->stop_cb = cb;
    s->stop_ctx = ctx;
    for (struct http_conn *c = s->conns; c != NULL; c = c->next) {
        conn_close(c);
    }
    if (s->tcp_open) {
        uv_close((uv_handle_t *)&s->tcp, listener_close_cb);
    }
    server_stop_finish(s);
}
