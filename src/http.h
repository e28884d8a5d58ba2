/*
 * A small HTTP/1.1 server for operators, on the caller's libuv loop
 * (DESIGN.md "Observability"). GET only, one request per connection, the
 * response always says "Connection: close":
 *
 *   GET /metrics   200 Prometheus text of a metrics registry (metrics.h)
 *   GET /health    200 "ok", or 503 and the reason from the health callback
 *   GET /status    200 JSON from the status callback
 *   other paths    404;  other methods 405;  unparsable 400;
 *   request past HTTP_REQUEST_BYTES_MAX 431;  URL past HTTP_URL_BYTES_MAX 414
 *
 * Bounded (STYLE.md 7): at most HTTP_CONNECTIONS_MAX connections; past it
 * new ones wait in the kernel's accept queue until one closes. A connection
 * that has not finished within the request timeout is closed. After the
 * response the server shuts its side down and reads (and drops) what the
 * client still sends until EOF, so the client reads the whole response
 * instead of a reset.
 *
 *   conn:  READING ──> WRITING ──> DRAINING ──> CLOSING ──> freed
 *             └──────────┴────────────┴────────────┘ (EOF, error, timeout, stop)
 *
 * The process must ignore SIGPIPE (RAFT-NOTES: usherd does), or a client
 * that hangs up early kills it.
 */
#ifndef USHER_SRC_HTTP_H
#define USHER_SRC_HTTP_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"
#include "logger.h"

struct metrics;
struct http_conn;
struct http_server;

/* Connections open at once: enough for a few scrapers and operators. */
#define HTTP_CONNECTIONS_MAX 64u

/* Bytes of one request (request line, headers and any body). Past it the
 * answer is 431 and the connection closes. */
#define HTTP_REQUEST_BYTES_MAX 8192u

/* Bytes of the URL (path and query). Past it the answer is 414. */
#define HTTP_URL_BYTES_MAX 1024u

/* Bytes of a /status body the status callback may write. */
#define HTTP_STATUS_BYTES_MAX 262144u /* 256 KiB */

/* Bytes of the reason a health callback may write (NUL included). */
#define HTTP_REASON_BYTES 256u

/* Bytes read and dropped after the response before the connection closes
 * anyway. */
#define HTTP_DRAIN_BYTES_MAX 65536u

/* Default time a connection may stay open, from accept to close. */
#define HTTP_REQUEST_TIMEOUT_MS 10000u

/* Fills reason (size bytes, NUL-terminated) and returns false when the node
 * is not healthy. */
typedef bool (*http_health_cb)(void *ctx, char *reason, size_t size);

/* Writes the /status JSON into buf[0..size) and sets *len. Returns 0 or a
 * code (the answer is then 503 with the code's message). */
typedef int (*http_status_cb)(void *ctx, char *buf, size_t size, size_t *len);

typedef void (*http_stop_cb)(struct http_server *s, void *ctx);

struct http_options {
    struct sockaddr_in addr;     /* port 0: the kernel picks one (http_port()) */
    struct metrics *metrics;     /* NULL: /metrics is 404; borrowed while running */
    http_health_cb health_cb;    /* NULL: always healthy */
    http_status_cb status_cb;    /* NULL: /status is 404 */
    void *ctx;                   /* given to both callbacks */
    uint32_t request_timeout_ms; /* 0: HTTP_REQUEST_TIMEOUT_MS */
};

enum http_server_state {
    HTTP_SERVER_RUNNING = 1,
    HTTP_SERVER_STOPPING = 2,
    HTTP_SERVER_STOPPED = 3,
};

struct http_counters {
    uint64_t accepted;
    uint64_t deferred;   /* accepts put off by the connection limit */
    uint64_t requests;   /* responses sent, any status */
    uint64_t errors;     /* responses with status >= 400 */
    uint32_t conns_peak; /* most connections open at once */
};

struct http_server {
    uv_loop_t *loop;
    struct http_options opts;
    struct logger log; /* child of the caller's, subsystem http */
    uint8_t state;     /* enum http_server_state */
    uv_tcp_t tcp;
    bool tcp_open;
    bool accept_pending;     /* a connection waits for a free slot */
    struct http_conn *conns; /* open connections, doubly linked */
    uint32_t conn_count;
    struct http_counters counters;
    struct logger_ratelimit limit_rl;
    http_stop_cb stop_cb;
    void *stop_ctx;
};

/*
 * Starts serving on loop at o->addr. o is copied; o->metrics and the
 * callbacks' ctx are borrowed until the stop callback; log is the parent of
 * the server's logger (copied). Returns 0, or INVALID with errmsg
 * (USHER_ERRMSG_MAX bytes) when the address cannot be bound. Whatever it
 * returns, end with http_stop() and run the loop until its callback before
 * freeing s.
 */
USHER_MUST_CHECK int http_start(struct http_server *s, uv_loop_t *loop,
                                const struct http_options *o, const struct logger *log,
                                char *errmsg);

/* The bound port (useful after binding port 0). Returns 0 or INVALID. */
USHER_MUST_CHECK int http_port(const struct http_server *s, uint16_t *port);

/*
 * Stops listening and closes every connection (responses in flight are
 * dropped), then calls cb (possibly inside this call when nothing was open).
 * A second call while stopping or stopped is ignored and its cb not called.
 */
void http_stop(struct http_server *s, http_stop_cb cb, void *ctx);

#endif
