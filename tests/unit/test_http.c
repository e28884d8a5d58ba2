/*
 * HTTP server tests on a real libuv loop: the server listens on 127.0.0.1
 * port 0; a client thread of the same process talks to it with blocking
 * sockets and records what it got, then wakes the loop (uv_async) to stop
 * the server, and the test checks the records after the thread is joined.
 * Where the client must wait for a server-side state (N connections open),
 * a uv_check hook on the loop posts a semaphore when the state holds. No
 * sleeps: the sockets' timeouts and the semaphore's only bound a broken
 * run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "http.h"
#include "logger.h"
#include "mem.h"
#include "metrics.h"

#define RESPONSES_MAX   8u
#define RESPONSE_BYTES  16384u
#define GUARD_TIMEOUT_S 20

struct response {
    int err; /* 0, or the errno that ended the exchange */
    unsigned status;
    size_t len;
    char text[RESPONSE_BYTES];
};

struct fixture;
typedef void (*client_fn)(struct fixture *f);
typedef bool (*loop_cond_fn)(const struct fixture *f);

struct fixture { /* NOLINT(clang-analyzer-optin.performance.Padding) */
    uv_loop_t loop;
    struct http_server server;
    struct metrics metrics;
    struct metric *requests;
    struct logger log;
    FILE *log_out;
    char *log_buf;
    size_t log_len;
    uint16_t port;
    uv_async_t done;
    bool done_sent; /* client thread only */
    uv_check_t check;
    loop_cond_fn cond;
    bool cond_posted;
    bool fault_reset_after_error; /* mem_fault_reset() once a 4xx/5xx went out */
    sem_t sem;
    bool wait_timed_out; /* client thread: the loop never reached the state */
    uv_thread_t thread;
    client_fn fn;
    bool stopped;
    int health_calls;
    int status_rc;
    struct response responses[RESPONSES_MAX];
};

static bool health(void *ctx, char *reason, size_t size)
{
    struct fixture *f = ctx;
    f->health_calls++;
    if (f->health_calls == 1) {
        return true;
    }
    (void)snprintf(reason, size, "shard 3 has no leader");
    return false;
}

static int status(void *ctx, char *buf, size_t size, size_t *len)
{
    const struct fixture *f = ctx;
    if (f->status_rc != 0) {
        return f->status_rc;
    }
    int n = snprintf(buf, size, "{\"node\":1,\"shards\":[]}");
    *len = (size_t)n;
    return 0;
}

static void fixture_start(struct fixture *f, uint32_t timeout_ms)
{
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->log_out = open_memstream(&f->log_buf, &f->log_len);
    assert_non_null(f->log_out);
    logger_init(&f->log, f->log_out, NULL, NULL);
    logger_level_set(&f->log, LOGGER_DEBUG, 0);
    metrics_init(&f->metrics, NULL, NULL);
    struct metric_desc d = { .name = "usher_test_total",
                             .help = "A test.",
                             .type = METRIC_COUNTER };
    assert_int_equal(metrics_register(&f->metrics, &d, &f->requests), 0);
    metrics_counter_add(f->requests, 0, 5);
    struct http_options o = { .metrics = &f->metrics,
                              .health_cb = health,
                              .status_cb = status,
                              .ctx = f,
                              .request_timeout_ms = timeout_ms };
    char errmsg[USHER_ERRMSG_MAX];
    o.addr.sin_family = AF_INET;
    o.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(http_start(&f->server, &f->loop, &o, &f->log, errmsg), 0);
    assert_int_equal(http_port(&f->server, &f->port), 0);
    assert_true(f->port != 0);
    assert_int_equal(sem_init(&f->sem, 0, 0), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fixture_start(f, 0);
    *state = f;
    return 0;
}

static int setup_short_timeout(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    fixture_start(f, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(sem_destroy(&f->sem), 0);
    metrics_close(&f->metrics);
    assert_int_equal(fclose(f->log_out), 0);
    free(f->log_buf);
    free(f);
    return 0;
}

static void stop_cb(struct http_server *s, void *ctx)
{
    struct fixture *f = ctx;
    assert_ptr_equal(s, &f->server);
    f->stopped = true;
}

static void done_cb(uv_async_t *async)
{
    struct fixture *f = async->data;
    http_stop(&f->server, stop_cb, f);
    uv_close((uv_handle_t *)&f->done, NULL);
    uv_close((uv_handle_t *)&f->check, NULL);
}

static void check_cb(uv_check_t *check)
{
    struct fixture *f = check->data;
    if (f->fault_reset_after_error && f->server.counters.errors > 0) {
        mem_fault_reset(); /* Later connections can be allocated again. */
    }
    if (f->cond != NULL && !f->cond_posted && f->cond(f)) {
        f->cond_posted = true;
        (void)sem_post(&f->sem); /* Cannot overflow: posted once. */
    }
}

/* Client thread: tells the loop the client is done (once). Code on the
 * client thread records what it saw and never calls cmocka's asserts, which
 * are not thread-safe. */
static void client_done(struct fixture *f)
{
    if (!f->done_sent) {
        f->done_sent = true;
        (void)uv_async_send(&f->done); /* Fails only for a closed handle. */
    }
}

/* Client thread: waits until the loop's state holds (f->cond), at most
 * GUARD_TIMEOUT_S, which only a broken server reaches. */
static void client_wait(struct fixture *f)
{
    struct timespec until;
    (void)clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += GUARD_TIMEOUT_S;
    int rc = 0;
    do {
        rc = sem_timedwait(&f->sem, &until);
    } while (rc != 0 && errno == EINTR);
    f->wait_timed_out = rc != 0;
}

static void thread_main(void *arg)
{
    struct fixture *f = arg;
    f->fn(f);
    client_done(f);
}

/* Runs fn on a client thread while the loop serves, until the server has
 * stopped and every handle is closed. */
static void fixture_run(struct fixture *f, client_fn fn)
{
    f->fn = fn;
    assert_int_equal(uv_async_init(&f->loop, &f->done, done_cb), 0);
    f->done.data = f;
    assert_int_equal(uv_check_init(&f->loop, &f->check), 0);
    f->check.data = f;
    assert_int_equal(uv_check_start(&f->check, check_cb), 0);
    uv_unref((uv_handle_t *)&f->check);
    assert_int_equal(uv_thread_create(&f->thread, thread_main, f), 0);
    assert_int_equal(uv_run(&f->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_thread_join(&f->thread), 0);
    assert_false(f->wait_timed_out);
    assert_true(f->stopped);
    assert_int_equal(f->server.state, HTTP_SERVER_STOPPED);
    assert_int_equal(f->server.conn_count, 0);
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

/* --- client side (client thread) --- */

static int client_connect(const struct fixture *f)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval guard = { .tv_sec = GUARD_TIMEOUT_S, .tv_usec = 0 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(f->port) };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (const struct sockaddr *)&addr, sizeof(addr)) != 0) {
        (void)close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    size_t sent = 0;
    while (sent < len) {
        ssize_t n = send(fd, data + sent, len - sent, MSG_NOSIGNAL);
        if (n <= 0) {
            return errno;
        }
        sent += (size_t)n;
    }
    return 0;
}

/* Reads until EOF, then parses the status line. */
static void read_response(int fd, struct response *r)
{
    r->len = 0;
    r->err = 0;
    for (;;) {
        if (r->len == sizeof(r->text) - 1) {
            r->err = ENOBUFS;
            break;
        }
        ssize_t n = recv(fd, r->text + r->len, sizeof(r->text) - 1 - r->len, 0);
        if (n < 0) {
            r->err = errno;
            break;
        }
        if (n == 0) {
            break;
        }
        r->len += (size_t)n;
    }
    r->text[r->len] = '\0';
    const char *p = r->text + strlen("HTTP/1.1 ");
    if (r->len >= 12 && memcmp(r->text, "HTTP/1.1 ", 9) == 0) {
        r->status = 0;
        for (int i = 0; i < 3 && p[i] >= '0' && p[i] <= '9'; i++) {
            r->status = r->status * 10u + (unsigned)(p[i] - '0');
        }
    }
}

/* One whole exchange on a new connection. */
static void exchange(const struct fixture *f, const char *req, size_t len, struct response *r)
{
    int fd = client_connect(f);
    if (fd < 0) {
        r->err = errno;
        return;
    }
    r->err = send_all(fd, req, len);
    if (r->err == 0) {
        read_response(fd, r);
    }
    (void)close(fd);
}

static void get(const struct fixture *f, const char *path, struct response *r)
{
    char req[256];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\n\r\n", path);
    exchange(f, req, (size_t)n, r);
}

/* --- checks (main thread) --- */

static const char *body_of(const struct response *r)
{
    const char *sep = strstr(r->text, "\r\n\r\n");
    assert_non_null(sep);
    return sep + 4;
}

/* Checks status, the exact body and that Content-Length matches it. */
static void response_expect(const struct response *r, unsigned code, const char *body)
{
    assert_int_equal(r->err, 0);
    assert_int_equal(r->status, code);
    const char *got = body_of(r);
    assert_string_equal(got, body);
    char header[64];
    (void)snprintf(header, sizeof(header), "\r\nContent-Length: %zu\r\n", strlen(got));
    assert_non_null(strstr(r->text, header));
    assert_non_null(strstr(r->text, "\r\nConnection: close\r\n"));
}

static void client_endpoints(struct fixture *f)
{
    get(f, "/metrics", &f->responses[0]);
    get(f, "/health", &f->responses[1]);
    get(f, "/health", &f->responses[2]);
    get(f, "/status", &f->responses[3]);
    get(f, "/nope", &f->responses[4]);
    get(f, "/metrics?name=x", &f->responses[5]);
}

/* Goal: /metrics is the registry's text, /health follows its callback (200
 * then 503 with the reason), /status is the callback's JSON, an unknown path
 * is 404, and a query string does not change the path. */
static void test_http_endpoints_answer_with_status_and_body(void **state)
{
    struct fixture *f = *state;
    fixture_run(f, client_endpoints);
    const char *metrics_text = "# HELP usher_test_total A test.\n"
                               "# TYPE usher_test_total counter\n"
                               "usher_test_total 5\n";
    response_expect(&f->responses[0], 200, metrics_text);
    assert_non_null(strstr(f->responses[0].text,
                           "\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"));
    response_expect(&f->responses[1], 200, "ok\n");
    response_expect(&f->responses[2], 503, "shard 3 has no leader\n");
    response_expect(&f->responses[3], 200, "{\"node\":1,\"shards\":[]}");
    assert_non_null(strstr(f->responses[3].text, "\r\nContent-Type: application/json\r\n"));
    response_expect(&f->responses[4], 404, "not found\n");
    response_expect(&f->responses[5], 200, metrics_text);
    assert_int_equal(f->server.counters.requests, 6);
    assert_int_equal(f->server.counters.errors, 2);
    assert_int_equal(f->health_calls, 2);
    assert_int_equal(fflush(f->log_out), 0);
    assert_non_null(strstr(f->log_buf, "\"msg\":\"http listening\""));
    assert_non_null(strstr(f->log_buf, "\"msg\":\"http stopped\""));
}

/* Fills req (len + 1 bytes) with a GET of exactly len bytes: the request
 * line, one padding header, and the blank line. */
static void request_of_size(char *req, size_t len)
{
    int head = snprintf(req, len + 1, "GET /health HTTP/1.1\r\nX-Pad: ");
    size_t pad = len - (size_t)head - 4;
    memset(req + head, 'p', pad);
    (void)snprintf(req + (size_t)head + pad, 5, "\r\n\r\n");
}

static void client_sizes(struct fixture *f)
{
    static const size_t sizes[] = { HTTP_REQUEST_BYTES_MAX, HTTP_REQUEST_BYTES_MAX + 1,
                                    (size_t)HTTP_REQUEST_BYTES_MAX * 3u };
    static char req[(size_t)HTTP_REQUEST_BYTES_MAX * 3u + 1u];
    for (size_t i = 0; i < 3; i++) {
        request_of_size(req, sizes[i]);
        exchange(f, req, sizes[i], &f->responses[i]);
    }
}

/* Goal: a request of exactly HTTP_REQUEST_BYTES_MAX bytes is served; one
 * byte more, or far more, gets 431 and the connection is closed cleanly
 * (the client reads the response and then EOF, not a reset). */
static void test_http_oversized_request_gets_431_and_close(void **state)
{
    struct fixture *f = *state;
    fixture_run(f, client_sizes);
    response_expect(&f->responses[0], 200, "ok\n");
    response_expect(&f->responses[1], 431, "request too large\n");
    response_expect(&f->responses[2], 431, "request too large\n");
}

static bool error_sent(const struct fixture *f)
{
    return f->server.counters.errors > 0;
}

static void client_late_bytes(struct fixture *f)
{
    static char req[HTTP_REQUEST_BYTES_MAX + 2];
    request_of_size(req, HTTP_REQUEST_BYTES_MAX + 1);
    int fd = client_connect(f);
    if (fd < 0) {
        f->responses[0].err = errno;
        return;
    }
    f->responses[1].err = send_all(fd, req, HTTP_REQUEST_BYTES_MAX + 1);
    client_wait(f); /* The 431 is on its way: now send more, in pieces. */
    memset(req, 'x', 4096);
    for (int i = 0; i < 8 && f->responses[2].err == 0; i++) {
        f->responses[2].err = send_all(fd, req, 4096);
    }
    read_response(fd, &f->responses[0]);
    (void)close(fd);
}

/* Goal: bytes the client sends after the server answered are read and
 * dropped, so the client reads the whole response and a clean end of
 * stream, never a connection reset (lingering close). */
static void test_http_late_client_bytes_do_not_reset_the_response(void **state)
{
    struct fixture *f = *state;
    f->cond = error_sent;
    fixture_run(f, client_late_bytes);
    assert_int_equal(f->responses[1].err, 0);
    assert_int_equal(f->responses[2].err, 0);
    response_expect(&f->responses[0], 431, "request too large\n");
}

static void client_bad_requests(struct fixture *f)
{
    const char *post = "POST /metrics HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi";
    exchange(f, post, strlen(post), &f->responses[0]);
    const char *junk = "BLAH\r\n\r\n";
    exchange(f, junk, strlen(junk), &f->responses[1]);
    char url[HTTP_URL_BYTES_MAX + 8];
    memset(url, 'u', sizeof(url) - 1);
    url[0] = '/';
    url[sizeof(url) - 1] = '\0';
    get(f, "/", &f->responses[2]);
    char req[HTTP_URL_BYTES_MAX + 64];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\n\r\n", url);
    exchange(f, req, (size_t)n, &f->responses[3]);
}

/* Goal: other methods get 405 with Allow, garbage gets 400, a URL past
 * HTTP_URL_BYTES_MAX gets 414, and "/" is 404. */
static void test_http_bad_requests_get_4xx(void **state)
{
    struct fixture *f = *state;
    fixture_run(f, client_bad_requests);
    response_expect(&f->responses[0], 405, "method not allowed\n");
    assert_non_null(strstr(f->responses[0].text, "\r\nAllow: GET\r\n"));
    assert_int_equal(f->responses[1].status, 400);
    assert_int_equal(f->responses[1].err, 0);
    response_expect(&f->responses[2], 404, "not found\n");
    response_expect(&f->responses[3], 414, "url too long\n");
}

static bool all_slots_taken(const struct fixture *f)
{
    return f->server.conn_count == HTTP_CONNECTIONS_MAX && f->server.accept_pending;
}

static void client_limit(struct fixture *f)
{
    int idle[HTTP_CONNECTIONS_MAX];
    for (uint32_t i = 0; i < HTTP_CONNECTIONS_MAX; i++) {
        idle[i] = client_connect(f);
    }
    int extra = client_connect(f);
    const char *req = "GET /health HTTP/1.1\r\n\r\n";
    f->responses[1].err = extra < 0 ? -1 : send_all(extra, req, strlen(req));
    client_wait(f); /* The server holds 64 and has put the extra one off. */
    (void)close(idle[0]);
    read_response(extra, &f->responses[0]);
    (void)close(extra);
    for (uint32_t i = 1; i < HTTP_CONNECTIONS_MAX; i++) {
        (void)close(idle[i]);
    }
}

/* Goal: with HTTP_CONNECTIONS_MAX connections open, one more waits in the
 * accept queue (never a 65th open connection), and is served as soon as one
 * slot frees. */
static void test_http_connection_limit_defers_accept(void **state)
{
    struct fixture *f = *state;
    f->cond = all_slots_taken;
    fixture_run(f, client_limit);
    assert_true(f->cond_posted);
    assert_int_equal(f->responses[1].err, 0);
    response_expect(&f->responses[0], 200, "ok\n");
    assert_int_equal(f->server.counters.conns_peak, HTTP_CONNECTIONS_MAX);
    assert_true(f->server.counters.deferred >= 1);
    assert_int_equal(f->server.counters.accepted, HTTP_CONNECTIONS_MAX + 1);
}

static void client_idle(struct fixture *f)
{
    int fd = client_connect(f);
    if (fd < 0) {
        f->responses[0].err = errno;
        return;
    }
    read_response(fd, &f->responses[0]);
    (void)close(fd);
}

/* Goal: a connection that sends nothing is closed when the request timeout
 * ends (here 1 ms): the client sees EOF without a response. */
static void test_http_idle_connection_is_closed_at_timeout(void **state)
{
    struct fixture *f = *state;
    fixture_run(f, client_idle);
    assert_int_equal(f->responses[0].err, 0);
    assert_int_equal(f->responses[0].len, 0);
}

static bool three_open(const struct fixture *f)
{
    return f->server.conn_count == 3;
}

static void client_stop_midway(struct fixture *f)
{
    int fds[3];
    for (int i = 0; i < 3; i++) {
        fds[i] = client_connect(f);
        f->responses[3 + i].err = fds[i] < 0 ? -1 : send_all(fds[i], "GET /met", 8);
    }
    client_wait(f);
    client_done(f); /* The server stops with three requests half read. */
    for (int i = 0; i < 3; i++) {
        read_response(fds[i], &f->responses[i]);
        (void)close(fds[i]);
    }
}

/* Goal: stopping the server closes the connections it holds (their clients
 * see the end of the stream), then calls the stop callback once. */
static void test_http_stop_closes_open_connections(void **state)
{
    struct fixture *f = *state;
    f->cond = three_open;
    fixture_run(f, client_stop_midway);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(f->responses[3 + i].err, 0);
        assert_int_equal(f->responses[i].len, 0);
        assert_true(f->responses[i].err == 0 || f->responses[i].err == ECONNRESET);
    }
    assert_int_equal(f->server.counters.requests, 0);
}

static void client_two_gets(struct fixture *f)
{
    get(f, "/metrics", &f->responses[0]);
    get(f, "/status", &f->responses[1]);
}

/* Goal: when the body cannot be allocated, or the status callback fails,
 * the answer is 503 with a reason, and the server goes on. */
static void test_http_failures_answer_503(void **state)
{
    struct fixture *f = *state;
    f->status_rc = USHER_SHUTTING_DOWN;
    mem_fault_after(1); /* the connection is allocated, the metrics body is not */
    f->fault_reset_after_error = true;
    fixture_run(f, client_two_gets);
    mem_fault_reset();
    response_expect(&f->responses[0], 503, "out of memory\n");
    response_expect(&f->responses[1], 503, "the node is shutting down\n");
}

/* Goal: a second stop is ignored and a busy port is reported by
 * http_start with the address. */
static void test_http_start_on_busy_port_fails_with_message(void **state)
{
    struct fixture *f = *state;
    struct http_server second;
    struct http_options o = { 0 };
    o.addr.sin_family = AF_INET;
    o.addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    o.addr.sin_port = htons(f->port);
    char errmsg[USHER_ERRMSG_MAX] = "";
    assert_int_equal(http_start(&second, &f->loop, &o, &f->log, errmsg), USHER_INVALID);
    char want[64];
    (void)snprintf(want, sizeof(want), "http listen on 127.0.0.1:%u: ", (unsigned)f->port);
    assert_non_null(strstr(errmsg, want));
    http_stop(&second, NULL, NULL);
    http_stop(&second, NULL, NULL);
    assert_int_equal(uv_run(&f->loop, UV_RUN_NOWAIT), 1); /* the first server still listens */
    assert_int_equal(second.state, HTTP_SERVER_STOPPED);
    fixture_run(f, client_two_gets);
    assert_int_equal(f->responses[0].status, 200);
}

int main(void)
{
    /* A client that hangs up early must not kill the test (http.h). */
    (void)signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http_endpoints_answer_with_status_and_body, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_oversized_request_gets_431_and_close, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_http_late_client_bytes_do_not_reset_the_response,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_bad_requests_get_4xx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_connection_limit_defers_accept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_idle_connection_is_closed_at_timeout,
                                        setup_short_timeout, teardown),
        cmocka_unit_test_setup_teardown(test_http_stop_closes_open_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_failures_answer_503, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_start_on_busy_port_fails_with_message, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
