/*
 * A 3-node usherd cluster as real processes (issue: multi-node clusters):
 * every test starts its own three usherd on free loopback ports in a
 * temporary folder (each in its own process group, all killed at teardown,
 * also on failure) and drives them through libusher:
 *
 *   - the cluster forms: each shard has exactly one serving leader, and a
 *     client that knows only one follower reaches every shard's leader by
 *     the NOT_LEADER hints;
 *   - SIGKILL of a shard leader in the middle of a stream of bookings: the
 *     failover time is measured, and no acknowledged booking is lost: after
 *     a restart and a clean stop, every replica's store (opened offline with
 *     libinv) dumps byte for byte the same, passes inv_check() and holds
 *     every acknowledged booking;
 *   - a follower down while hundreds of commands commit comes back through
 *     a snapshot (small snapshot threshold) and converges;
 *   - a SIGSTOPped leader is replaced, and steps down when it resumes;
 *   - a node never joins another cluster: not with its data folder, and a
 *     node of another cluster id is refused by the others;
 *   - a node whose data folder was replaced by an empty one, started with
 *     --rejoin 1 or (an operator's slip) without it, helps elect no leader
 *     until a leader has caught it up, then votes again, and its store
 *     holds every acknowledged booking.
 *
 * Waits are bounded polls (HTTP /status, the STATUS op, logs), never fixed
 * sleeps alone.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

/* inv.h first: it brings src/err.h, whose enum usher.h then leaves out. */
#include "inv.h"
#include "limits.h"
#include "proc.h"
#include "proto.h"
#include "tempdir.h"
#include "usher.h"
#include "wire.h"

#define NODES            3u
#define SHARDS           4u
#define START_TIMEOUT_MS 20000
#define LEADER_BOUND_MS  15000
#define CONVERGE_MS      20000
#define STOP_TIMEOUT_MS  20000
#define CALL_TIMEOUT_MS  20000u
#define FAILOVER_BOUND_S 15.0
#define SEATS_PER_ROW    50u
#define ROWS             20u /* 1,000 seats */
#define POLL_MS          20

struct node {
    char data[TEMPDIR_PATH_MAX + 16];
    char log[TEMPDIR_PATH_MAX + 16];
    char addr[32];
    uint16_t cport; /* client */
    uint16_t rport; /* raft */
    uint16_t hport; /* http */
    struct proc proc;
    bool paused; /* SIGSTOPped: skip it in polls */
};

struct cluster {
    char dir[TEMPDIR_PATH_MAX];
    char peers[512];
    const char *extra[8]; /* more usherd options, for every node */
    size_t extra_n;
    struct node n[NODES];
    struct usher_client *c;       /* blocking client knowing every node */
    struct usher_node_status *st; /* scratch of status_get() */
};

/* An acknowledged booking: its event and seat. */
struct acked {
    uint64_t id;
    uint64_t event;
    uint32_t seat;
};

/* ---- time and polls ---- */

static double now_s(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- nodes ---- */

static void cluster_dump_logs(const struct cluster *cl)
{
    for (uint32_t i = 0; i < NODES; i++) {
        char cmd[TEMPDIR_PATH_MAX + 96];
        (void)fprintf(stderr, "---- node %u log (last 25 lines)\n", i + 1u);
        (void)snprintf(cmd, sizeof(cmd), "tail -n 25 %s >&2", cl->n[i].log);
        (void)system(cmd);
    }
}

/* Starts node i (id i+1) on its ports with cluster id cid and data folder
 * data (NULL: its own); does not wait. */
static int node_spawn(struct cluster *cl, uint32_t i, const char *cid, const char *data)
{
    struct node *nd = &cl->n[i];
    char bin[512];
    char id[8];
    char listen[32];
    char raft[32];
    char http[32];
    (void)proc_build_path("src/usherd", bin, sizeof(bin));
    (void)snprintf(id, sizeof(id), "%u", i + 1u);
    (void)snprintf(listen, sizeof(listen), "127.0.0.1:%u", nd->cport);
    (void)snprintf(raft, sizeof(raft), "127.0.0.1:%u", nd->rport);
    (void)snprintf(http, sizeof(http), "127.0.0.1:%u", nd->hport);
    const char *args[40] = { bin, "--node-id", id, "--data", data != NULL ? data : nd->data,
                             "--listen", listen, "--raft", raft, "--http", http, "--cluster-id",
                             cid, "--peers", cl->peers, "--shards", "4", "--election-timeout-ms",
                             "300", "--heartbeat-timeout-ms", "50",
                             /* No sweeps during a test: after the cluster
                              * converges nothing more reaches the stores, so
                              * the stopped replicas dump the same. */
                             "--sweep-interval-ms", "60000" };
    size_t n = 23;
    for (size_t k = 0; k < cl->extra_n; k++) {
        args[n++] = cl->extra[k];
    }
    args[n] = NULL;
    char *argv[40];
    for (size_t k = 0; k <= n; k++) {
        argv[k] = (char *)(uintptr_t)args[k]; /* execv's type; nothing writes them */
    }
    nd->paused = false;
    return proc_spawn(&nd->proc, argv, nd->log);
}

static void node_start(struct cluster *cl, uint32_t i)
{
    if (node_spawn(cl, i, "abc123", NULL) != 0 ||
        proc_wait_port(&cl->n[i].proc, cl->n[i].cport, START_TIMEOUT_MS) != 0) {
        cluster_dump_logs(cl);
        fail_msg("node %u did not start", i + 1u);
    }
}

/* Starts node i with --rejoin 1 (the node lost its data), as an operator
 * would after replacing its data folder. */
static void node_start_rejoin(struct cluster *cl, uint32_t i)
{
    size_t kept = cl->extra_n;
    assert_true(kept + 2u <= sizeof(cl->extra) / sizeof(cl->extra[0]));
    cl->extra[cl->extra_n++] = "--rejoin";
    cl->extra[cl->extra_n++] = "1";
    node_start(cl, i);
    cl->extra_n = kept;
}

static bool node_up(const struct cluster *cl, uint32_t i)
{
    return cl->n[i].proc.pid > 0 && !cl->n[i].paused;
}

static void node_sigkill(struct cluster *cl, uint32_t i)
{
    proc_signal(&cl->n[i].proc, SIGKILL);
    (void)proc_wait(&cl->n[i].proc, STOP_TIMEOUT_MS);
}

/* SIGTERM, and asserts a clean exit (status 0) within a bound. */
static void node_term(struct cluster *cl, uint32_t i)
{
    if (cl->n[i].paused) {
        proc_signal(&cl->n[i].proc, SIGCONT);
        cl->n[i].paused = false;
    }
    proc_signal(&cl->n[i].proc, SIGTERM);
    int st = proc_wait(&cl->n[i].proc, STOP_TIMEOUT_MS);
    if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        cluster_dump_logs(cl);
        fail_msg("node %u: SIGTERM gave status %d, not a clean exit", i + 1u, st);
    }
}

static void cluster_term_all(struct cluster *cl)
{
    for (uint32_t i = 0; i < NODES; i++) {
        node_term(cl, i);
    }
}

static int setup_with(void **state, const char *const *extra, size_t extra_n)
{
    struct cluster *cl = calloc(1, sizeof(*cl));
    assert_non_null(cl);
    cl->st = calloc(1, sizeof(*cl->st));
    assert_non_null(cl->st);
    assert_int_equal(tempdir_make("cluster", cl->dir, sizeof(cl->dir)), 0);
    for (size_t k = 0; k < extra_n; k++) {
        cl->extra[cl->extra_n++] = extra[k];
    }
    size_t off = 0;
    const char *nodes[NODES];
    for (uint32_t i = 0; i < NODES; i++) {
        struct node *nd = &cl->n[i];
        (void)snprintf(nd->data, sizeof(nd->data), "%s/n%u", cl->dir, i + 1u);
        (void)snprintf(nd->log, sizeof(nd->log), "%s/n%u.log", cl->dir, i + 1u);
        assert_int_equal(mkdir(nd->data, 0755), 0);
        nd->cport = proc_free_port();
        nd->rport = proc_free_port();
        nd->hport = proc_free_port();
        (void)snprintf(nd->addr, sizeof(nd->addr), "127.0.0.1:%u", nd->cport);
        nodes[i] = nd->addr;
        off += (size_t)snprintf(cl->peers + off, sizeof(cl->peers) - off,
                                "%s%u=127.0.0.1:%u/127.0.0.1:%u", i > 0 ? "," : "", i + 1u,
                                nd->rport, nd->cport);
    }
    for (uint32_t i = 0; i < NODES; i++) {
        node_start(cl, i);
    }
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = NODES;
    o.call_timeout_ms = CALL_TIMEOUT_MS;
    o.attempt_timeout_ms = 500; /* a paused node must not eat the call's time */
    assert_int_equal(usher_client_create(NULL, &o, &cl->c), 0);
    *state = cl;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL, 0);
}

static int setup_snapshots(void **state)
{
    static const char *const extra[] = { "--snapshot-threshold", "64", "--snapshot-trailing",
                                         "16" };
    return setup_with(state, extra, 4);
}

static int teardown(void **state)
{
    struct cluster *cl = *state;
    if (cl == NULL) {
        return 0;
    }
    if (cl->c != NULL) {
        usher_client_destroy(cl->c, NULL, NULL);
    }
    for (uint32_t i = 0; i < NODES; i++) {
        if (cl->n[i].paused) {
            proc_signal(&cl->n[i].proc, SIGCONT);
        }
        proc_kill(&cl->n[i].proc);
    }
    if (getenv("USHER_KEEP_TMP") == NULL) {
        (void)tempdir_remove(cl->dir);
    }
    free(cl->st);
    free(cl);
    return 0;
}

/* ---- HTTP /status ---- */

/* GET path on 127.0.0.1:port into body (NUL-terminated); returns the HTTP
 * status or -1. One second bound on connect and each read. */
static int http_get(uint16_t port, const char *path, char *body, size_t cap)
{
    body[0] = '\0';
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct timeval tv = { .tv_sec = 1 };
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a = { .sin_family = AF_INET,
                             .sin_port = htons(port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char req[256];
    int n =
        snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
    static char resp[65536];
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        (void)close(fd);
        return -1;
    }
    for (;;) {
        ssize_t r = recv(fd, resp + got, sizeof(resp) - 1u - got, 0);
        if (r <= 0) {
            break;
        }
        got += (size_t)r;
        if (got == sizeof(resp) - 1u) {
            break;
        }
    }
    (void)close(fd);
    resp[got] = '\0';
    if (got < 12 || strncmp(resp, "HTTP/1.1 ", 9) != 0) {
        return -1;
    }
    const char *b = strstr(resp, "\r\n\r\n");
    if (b != NULL) {
        (void)snprintf(body, cap, "%s", b + 4);
    }
    return (int)strtol(resp + 9, NULL, 10);
}

/* Reads node i's "serving" array; returns 0 or -1. */
static int serving_get(const struct cluster *cl, uint32_t i, bool serving[SHARDS])
{
    char body[1024];
    if (http_get(cl->n[i].hport, "/status", body, sizeof(body)) != 200) {
        return -1;
    }
    const char *p = strstr(body, "\"serving\":[");
    if (p == NULL) {
        return -1;
    }
    p += strlen("\"serving\":[");
    for (uint32_t s = 0; s < SHARDS; s++) {
        while (*p == ' ' || *p == ',') {
            p++;
        }
        if (strncmp(p, "true", 4) == 0) {
            serving[s] = true;
            p += 4;
        } else if (strncmp(p, "false", 5) == 0) {
            serving[s] = false;
            p += 5;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Counts, per shard, the running nodes that serve it, and records the
 * last one in leader[]. Returns 0, or -1 when a node's /status failed. */
static int serving_count(const struct cluster *cl, uint32_t count[SHARDS], uint32_t leader[SHARDS])
{
    for (uint32_t i = 0; i < NODES; i++) {
        bool serving[SHARDS];
        if (!node_up(cl, i)) {
            continue;
        }
        if (serving_get(cl, i, serving) != 0) {
            return -1;
        }
        for (uint32_t s = 0; s < SHARDS; s++) {
            count[s] += serving[s] ? 1u : 0u;
            leader[s] = serving[s] ? i : leader[s];
        }
    }
    return 0;
}

/* Polls /status of every running node until each shard has exactly one
 * serving leader among them; fills leader[] with node indexes. Returns 0,
 * or -1 after bound_ms. */
static int leaders_wait(const struct cluster *cl, uint32_t leader[SHARDS], int bound_ms)
{
    double end = now_s() + bound_ms / 1000.0;
    for (uint32_t s = 0; s < SHARDS; s++) {
        leader[s] = 0;
    }
    do {
        uint32_t count[SHARDS] = { 0 };
        bool ok = serving_count(cl, count, leader) == 0;
        for (uint32_t s = 0; s < SHARDS && ok; s++) {
            ok = count[s] == 1;
        }
        if (ok) {
            return 0;
        }
        pause_ms(POLL_MS);
    } while (now_s() < end);
    return -1;
}

static void leaders_expect(struct cluster *cl, uint32_t leader[SHARDS])
{
    double t0 = now_s();
    if (leaders_wait(cl, leader, LEADER_BOUND_MS) != 0) {
        cluster_dump_logs(cl);
        fail_msg("no single serving leader per shard within %d ms", LEADER_BOUND_MS);
    }
    printf("# one serving leader per shard after %.3f s: nodes %u %u %u %u\n", now_s() - t0,
           leader[0] + 1u, leader[1] + 1u, leader[2] + 1u, leader[3] + 1u);
}

/* ---- STATUS and convergence ---- */

static int status_get(struct cluster *cl, uint32_t i)
{
    struct usher_call_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.node = cl->n[i].addr;
    opts.timeout_ms = 1000;
    memset(cl->st, 0, sizeof(*cl->st));
    int rc = usher_node_status_sync(cl->c, &opts, cl->st);
    if (rc == 0 && (cl->st->listed != SHARDS || cl->st->node_id != i + 1u)) {
        return -1;
    }
    return rc;
}

/* Asks the three nodes once: true when, shard by shard, they report the
 * same applied index and it is their commit index; applied[] gets it. */
static bool converged(struct cluster *cl, uint64_t applied[SHARDS])
{
    bool ok = true;
    for (uint32_t i = 0; i < NODES; i++) {
        if (status_get(cl, i) != 0) {
            return false;
        }
        for (uint32_t s = 0; s < SHARDS; s++) {
            const struct usher_shard_status *sh = &cl->st->shards[s];
            ok = ok && sh->applied_index == sh->commit_index &&
                 (i == 0 || sh->applied_index == applied[s]);
            applied[s] = sh->applied_index;
        }
    }
    return ok;
}

/* Polls until converged(). Returns 0 or -1 after bound_ms. */
static int converge_wait(struct cluster *cl, int bound_ms, uint64_t applied[SHARDS])
{
    double end = now_s() + bound_ms / 1000.0;
    do {
        if (converged(cl, applied)) {
            return 0;
        }
        pause_ms(POLL_MS);
    } while (now_s() < end);
    return -1;
}

/* Prints every node's shard lines (a failed convergence). */
static void status_print_all(struct cluster *cl)
{
    for (uint32_t i = 0; i < NODES; i++) {
        if (status_get(cl, i) != 0) {
            continue;
        }
        for (uint32_t s = 0; s < SHARDS; s++) {
            const struct usher_shard_status *sh = &cl->st->shards[s];
            (void)fprintf(stderr,
                          "node %u shard %u role %u term %" PRIu64 " commit %" PRIu64
                          " applied %" PRIu64 " leader %" PRIu64 "\n",
                          i + 1u, s, sh->role, sh->term, sh->commit_index, sh->applied_index,
                          sh->leader_id);
        }
    }
}

static void converge_expect(struct cluster *cl)
{
    uint64_t applied[SHARDS] = { 0 };
    double t0 = now_s();
    /* USHER_CONVERGE_MS: another bound, to study a slow catch-up. */
    int bound = CONVERGE_MS;
    const char *env = getenv("USHER_CONVERGE_MS");
    if (env != NULL) {
        char *end = NULL;
        long v = strtol(env, &end, 10);
        bound = end != env && *end == '\0' && v > 0 && v <= 600000 ? (int)v : CONVERGE_MS;
    }
    if (converge_wait(cl, bound, applied) != 0) {
        status_print_all(cl);
        cluster_dump_logs(cl);
        fail_msg("the three nodes did not reach the same applied index within %d ms", bound);
    }
    printf("# converged after %.3f s: applied %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
           now_s() - t0, applied[0], applied[1], applied[2], applied[3]);
}

/* ---- commands ---- */

/* An event id >= from whose shard is s. */
static uint64_t event_on_shard(uint64_t from, uint32_t s)
{
    uint64_t id = from;
    while (usher_event_shard(id, SHARDS) != s) {
        id++;
    }
    return id;
}

static void fail_call(struct cluster *cl, struct usher_client *c, int rc, const char *what)
{
    cluster_dump_logs(cl);
    fail_msg("%s: %s (%s)", what, usher_errname(rc), usher_client_errmsg(c));
}

static void cl_event_create(struct cluster *cl, struct usher_client *c, uint64_t id)
{
    struct usher_event_spec *spec = NULL;
    assert_int_equal(usher_event_spec_create(id, "cluster", &spec), 0);
    usher_event_spec_limits_set(spec, 10, 10);
    assert_int_equal(usher_event_spec_section_add(spec, "Stalls", NULL), 0);
    for (uint32_t r = 0; r < ROWS; r++) {
        char label[8];
        (void)snprintf(label, sizeof(label), "R%u", r + 1u);
        assert_int_equal(usher_event_spec_row_add(spec, label, SEATS_PER_ROW, 1), 0);
    }
    struct usher_cmd_result r;
    int rc = usher_event_create_sync(c, NULL, spec, &r);
    usher_event_spec_destroy(spec);
    if (rc != 0) {
        fail_call(cl, c, rc, "event create");
    }
    assert_true(r.id == id);
}

/* Unknown outcome: the command may or may not have taken effect. */
static bool unknown(int rc)
{
    return rc == USHER_UNAVAILABLE || rc == USHER_TIMEOUT || rc == USHER_CANCELLED ||
           rc == USHER_BUSY || rc == USHER_NOT_LEADER || rc == USHER_SHUTTING_DOWN;
}

/*
 * Holds one seat for customer and books it, each command retried with its
 * own key while its outcome is unknown (at most 40 s); fills *out and
 * returns 0, or fails. *first_ok_at (may be NULL) gets the time of the
 * first command that succeeded.
 */
static void hold_and_book_at(struct cluster *cl, struct usher_client *c, uint64_t event,
                             uint64_t customer, uint32_t seat, struct acked *out,
                             double *first_ok_at)
{
    double end = now_s() + 40.0;
    struct usher_call_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.idem_key = usher_key_next(c);
    struct usher_cmd_result hold;
    int rc;
    do {
        rc = usher_hold_seats_sync(c, &opts, event, customer, &seat, 1, 0, &hold);
    } while (unknown(rc) && now_s() < end);
    if (rc != 0) {
        fail_call(cl, c, rc, "hold");
    }
    if (first_ok_at != NULL) {
        *first_ok_at = now_s();
    }
    assert_int_equal(hold.seat_count, 1);
    assert_int_equal(hold.seats[0], seat);
    opts.idem_key = usher_key_next(c);
    struct usher_cmd_result book;
    do {
        rc = usher_hold_book_sync(c, &opts, event, customer, hold.id, "pay", &book);
    } while (unknown(rc) && now_s() < end);
    if (rc != 0) {
        fail_call(cl, c, rc, "book");
    }
    out->id = book.id;
    out->event = event;
    out->seat = seat;
}

static void hold_and_book(struct cluster *cl, struct usher_client *c, uint64_t event,
                          uint64_t customer, uint32_t seat, struct acked *out)
{
    hold_and_book_at(cl, c, event, customer, seat, out, NULL);
}

/* ---- offline comparison of the stopped nodes' stores ---- */

static char *store_dump(struct inv *inv, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    assert_non_null(f);
    assert_int_equal(inv_dump(inv, f), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Writes the dumps of shard s next to the nodes' folders and shows their
 * differences (a failure's evidence). */
static void dumps_diff(const struct cluster *cl, uint32_t s, char *const dump[NODES],
                       const size_t len[NODES])
{
    for (uint32_t i = 0; i < NODES; i++) {
        char path[TEMPDIR_PATH_MAX + 64];
        (void)snprintf(path, sizeof(path), "%s/dump-s%u-n%u.txt", cl->dir, s, i + 1u);
        FILE *f = fopen(path, "w");
        if (f != NULL) {
            (void)fwrite(dump[i], 1, len[i], f);
            (void)fclose(f);
        }
    }
    char cmd[3 * TEMPDIR_PATH_MAX + 128];
    (void)snprintf(cmd, sizeof(cmd),
                   "cd %s && for n in 2 3; do diff dump-s%u-n1.txt dump-s%u-n$n.txt | head -n 20 "
                   ">&2; done",
                   cl->dir, s, s);
    (void)system(cmd);
    cluster_dump_logs(cl);
}

/* Opens node i's store of shard s (the node stopped), checks it and
 * dumps it. */
static struct inv *store_open_checked(struct cluster *cl, uint32_t i, uint32_t s, char **dump,
                                      size_t *len)
{
    char dir[TEMPDIR_PATH_MAX + 64];
    char errmsg[USHER_ERRMSG_MAX];
    (void)snprintf(dir, sizeof(dir), "%s/shards/%u/store", cl->n[i].data, s);
    struct inv_options o = { .map_bytes = USHER_STORE_MAP_BYTES_DEFAULT, .durable = false };
    struct inv *inv = NULL;
    if (inv_open(dir, &o, &inv, errmsg) != 0) {
        fail_msg("inv_open %s: %s", dir, errmsg);
    }
    if (inv_check(inv, errmsg) != 0) {
        fail_msg("inv_check node %u shard %u: %s", i + 1u, s, errmsg);
    }
    *dump = store_dump(inv, len);
    return inv;
}

/* The acknowledged booking is confirmed, with its seat, in node i's store. */
static void ack_on_replica(struct inv *inv, uint32_t i, uint32_t s, const struct acked *ack)
{
    struct inv_booking b;
    int rc = inv_booking_get(inv, ack->id, &b);
    if (rc != 0) {
        fail_msg("node %u shard %u: acknowledged booking %" PRIx64 " missing: %s", i + 1u, s,
                 ack->id, usher_errname(rc));
    }
    assert_int_equal(b.state, INV_BOOKING_CONFIRMED);
    assert_true(b.event_id == ack->event);
    assert_int_equal(b.seat_count, 1);
    assert_int_equal(b.seats[0], ack->seat);
}

/* Every acknowledged booking of shard s is on every replica. Returns how
 * many there were. */
static size_t acks_check(struct inv *const inv[NODES], uint32_t s, const struct acked *acks,
                         size_t n_acks)
{
    size_t found = 0;
    for (size_t a = 0; a < n_acks; a++) {
        if (usher_event_shard(acks[a].event, SHARDS) != s) {
            continue;
        }
        found++;
        for (uint32_t i = 0; i < NODES; i++) {
            ack_on_replica(inv[i], i, s, &acks[a]);
        }
    }
    return found;
}

/* The stores of shard s are at one applied index with identical dumps. */
static void dumps_expect_equal(struct cluster *cl, uint32_t s, struct inv *const inv[NODES],
                               char *const dump[NODES], const size_t len[NODES])
{
    for (uint32_t i = 1; i < NODES; i++) {
        if (inv_applied_index(inv[i]) == inv_applied_index(inv[0]) && len[i] == len[0] &&
            memcmp(dump[i], dump[0], len[0]) == 0) {
            continue;
        }
        dumps_diff(cl, s, dump, len);
        fail_msg("shard %u: node %u's store (applied %" PRIu64 ", %zu dump bytes) differs from "
                 "node 1's (applied %" PRIu64 ", %zu bytes)",
                 s, i + 1u, inv_applied_index(inv[i]), len[i], inv_applied_index(inv[0]), len[0]);
    }
}

/* Opens every node's store of every shard (all nodes stopped): the dumps
 * are identical per shard, inv_check() passes, every acknowledged booking
 * is on every replica, and no seat of an event is booked twice. */
static void stores_compare(struct cluster *cl, const struct acked *acks, size_t n_acks)
{
    for (size_t a = 0; a < n_acks; a++) {
        for (size_t b = a + 1; b < n_acks; b++) {
            assert_false(acks[a].event == acks[b].event && acks[a].seat == acks[b].seat);
            assert_true(acks[a].id != acks[b].id || acks[a].event != acks[b].event);
        }
    }
    size_t found = 0;
    for (uint32_t s = 0; s < SHARDS; s++) {
        struct inv *inv[NODES] = { NULL };
        char *dump[NODES] = { NULL };
        size_t len[NODES] = { 0 };
        for (uint32_t i = 0; i < NODES; i++) {
            inv[i] = store_open_checked(cl, i, s, &dump[i], &len[i]);
        }
        dumps_expect_equal(cl, s, inv, dump, len);
        found += acks_check(inv, s, acks, n_acks);
        printf("# shard %u: 3 identical stores, applied %" PRIu64 ", %zu dump bytes\n", s,
               inv_applied_index(inv[0]), len[0]);
        for (uint32_t i = 0; i < NODES; i++) {
            free(dump[i]);
            inv_close(inv[i]);
        }
    }
    assert_int_equal(found, n_acks);
}

/* ---- logs ---- */

static bool log_has(const char *path, const char *a, const char *b)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return false;
    }
    char line[4096];
    bool hit = false;
    while (!hit && fgets(line, sizeof(line), f) != NULL) {
        hit = strstr(line, a) != NULL && (b == NULL || strstr(line, b) != NULL);
    }
    (void)fclose(f);
    return hit;
}

/* ---- tests ---- */

/* ---- a raw client connection (tests/lib/wire.h): no retries, no redirects ---- */

static void raw_send_availability(int fd, uint64_t event, uint64_t request_id)
{
    uint8_t payload[64];
    struct proto_read r = { .event_id = event };
    size_t len = 0;
    assert_int_equal(
        codec_frame_read_encode(PROTO_OP_AVAILABILITY, &r, payload, sizeof(payload), &len), 0);
    assert_int_equal(wire_send(fd, PROTO_OP_AVAILABILITY, request_id, payload, len), 0);
}

/* Reads the reply to request_id: 0 and *out, or the error code it carried. */
static int raw_recv_availability(int fd, uint64_t request_id, struct inv_availability *out)
{
    uint8_t *payload = malloc(USHER_FRAME_BYTES_MAX);
    assert_non_null(payload);
    struct proto_header h;
    size_t len = 0;
    assert_int_equal(wire_recv(fd, &h, payload, USHER_FRAME_BYTES_MAX, &len), 0);
    assert_int_equal(h.request_id, request_id);
    int rc = h.status;
    if (rc == 0) {
        assert_int_equal(codec_reply_availability_decode(payload, len, out), 0);
    }
    free(payload);
    return rc;
}

/* A raw connection to node i, accepted and read from (one read answered). */
static int probe_open(struct cluster *cl, uint32_t i, uint64_t ev)
{
    int probe = wire_connect(cl->n[i].cport);
    assert_true(probe >= 0);
    raw_send_availability(probe, ev, 1);
    struct inv_availability *warm = calloc(1, sizeof(*warm));
    assert_non_null(warm);
    assert_int_equal(raw_recv_availability(probe, 1, warm), 0);
    free(warm);
    return probe;
}

/* Resumes the paused node `old` with a read waiting on probe (opened with
 * probe_open() before the pause) and checks it is not answered stale. */
static void resume_and_probe(struct cluster *cl, uint32_t old, int probe, uint64_t ev)
{
    /* A read sent to the paused node over a connection opened before the
     * pause waits in its socket, next to the new leader's messages, and is
     * handled as it resumes, before it notices the new term. Its lease ran
     * out during the pause (checked with the clock read at the answer), so
     * it must not answer from its store, which lacks seats 2 and 3: the read
     * either sees them taken or is refused. */
    raw_send_availability(probe, ev, 2);
    proc_signal(&cl->n[old].proc, SIGCONT);
    cl->n[old].paused = false;
    struct inv_availability *av = calloc(1, sizeof(*av));
    assert_non_null(av);
    int arc = raw_recv_availability(probe, 2, av);
    if (arc == 0) {
        assert_true((av->free_bitmap[0] & (1u << 2)) == 0);
        assert_true((av->free_bitmap[0] & (1u << 3)) == 0);
    }
    printf("# the resumed leader, asked as it resumed: %s\n",
           arc == 0 ? "its read saw the seats booked during its pause" : usher_errname(arc));
    free(av);
    (void)close(probe);
}

/* Goal: three nodes form a cluster with exactly one serving leader per
 * shard; a client that knows only one node, a follower, creates events on
 * every shard and holds and books on each (NOT_LEADER hints route it). */
/* True when node i's shard s has no vote guard, or one that has lifted
 * ("floor T": a replica that joined the new cluster late). */
static bool votes_settled(const struct cluster *cl, uint32_t i, uint32_t s)
{
    char path[TEMPDIR_PATH_MAX + 64];
    (void)snprintf(path, sizeof(path), "%s/shards/%u/VOTE-GUARD", cl->n[i].data, s);
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return true;
    }
    char text[32] = "";
    (void)fread(text, 1, sizeof(text) - 1, f);
    (void)fclose(f);
    return strncmp(text, "floor ", 6) == 0;
}

/* A new cluster leaves no replica watching or waiting to vote: each one
 * decided, from its first election on, that it forgot nothing. */
static void votes_settled_expect(struct cluster *cl)
{
    double end = now_s() + 10.0;
    bool ok = false;
    while (!ok && now_s() < end) {
        ok = true;
        for (uint32_t k = 0; k < NODES * SHARDS && ok; k++) {
            ok = votes_settled(cl, k / SHARDS, k % SHARDS);
        }
        if (!ok) {
            pause_ms(POLL_MS);
        }
    }
    assert_true(ok);
}

static void test_cluster_forms_and_routes(void **state)
{
    struct cluster *cl = *state;
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    votes_settled_expect(cl);
    /* A node that does not lead every shard: a follower of some. */
    uint32_t entry = NODES;
    for (uint32_t i = 0; i < NODES && entry == NODES; i++) {
        for (uint32_t s = 0; s < SHARDS; s++) {
            if (leader[s] != i) {
                entry = i;
                break;
            }
        }
    }
    assert_true(entry < NODES);
    /* Its STATUS agrees: one leader id per shard, the same on every node. */
    for (uint32_t i = 0; i < NODES; i++) {
        double end = now_s() + 10.0;
        bool ok = false;
        while (!ok && now_s() < end) {
            ok = status_get(cl, i) == 0;
            for (uint32_t s = 0; s < SHARDS && ok; s++) {
                ok = cl->st->shards[s].leader_id == leader[s] + 1u &&
                     (cl->st->shards[s].role == USHER_ROLE_LEADER) == (leader[s] == i);
            }
            if (!ok) {
                pause_ms(POLL_MS);
            }
        }
        assert_true(ok);
    }
    const char *nodes[1] = { cl->n[entry].addr };
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = 1;
    o.call_timeout_ms = CALL_TIMEOUT_MS;
    struct usher_client *c = NULL;
    assert_int_equal(usher_client_create(NULL, &o, &c), 0);
    uint32_t followed = 0;
    for (uint32_t s = 0; s < SHARDS; s++) {
        uint64_t ev = event_on_shard(1000u + 100u * s, s);
        followed += leader[s] != entry;
        cl_event_create(cl, c, ev);
        struct acked a;
        hold_and_book(cl, c, ev, 7, 3, &a);
        struct usher_booking_info b;
        int rc = usher_booking_get_sync(c, NULL, ev, a.id, &b);
        if (rc != 0) {
            fail_call(cl, c, rc, "booking get");
        }
        assert_int_equal(b.state, USHER_BOOKING_STATE_CONFIRMED);
        assert_int_equal(b.seats[0], 3);
        struct usher_cmd_result r;
        uint32_t seat = 3;
        assert_int_equal(usher_hold_seats_sync(c, NULL, ev, 8, &seat, 1, 0, &r), USHER_SEAT_TAKEN);
    }
    printf("# client given node %u only: %u of %u shards reached through NOT_LEADER\n", entry + 1u,
           followed, SHARDS);
    assert_true(followed >= 1);
    usher_client_destroy(c, NULL, NULL);
}

/* Goal: SIGKILL of the leader of a shard in the middle of a stream of
 * hold+book on one of its events loses no acknowledged booking: the
 * cluster fails over within a bound, and after the node's restart the
 * three replicas converge to identical stores that hold every booking. */
static void test_leader_sigkill_loses_no_acknowledged_booking(void **state)
{
    struct cluster *cl = *state;
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    const uint32_t s = 1;
    const uint64_t ev = event_on_shard(5000, s);
    const uint32_t victim = leader[s];
    cl_event_create(cl, cl->c, ev);

    enum { N = 120, KILL_AT = 50 };
    struct acked acks[N];
    double killed_at = 0;
    double failover = -1;
    for (uint32_t k = 0; k < N; k++) {
        if (k == KILL_AT) {
            node_sigkill(cl, victim);
            killed_at = now_s();
        }
        double ok_at = 0;
        hold_and_book_at(cl, cl->c, ev, 100u + k, k * 7u % (ROWS * SEATS_PER_ROW), &acks[k],
                         &ok_at);
        if (k == KILL_AT) {
            failover = ok_at - killed_at; /* kill -> the next successful command */
        }
    }
    printf("# SIGKILL of node %u (leader of shard %u): failover in %.3f s\n", victim + 1u, s,
           failover);
    assert_true(failover >= 0 && failover < FAILOVER_BOUND_S);
    uint32_t after[SHARDS];
    leaders_expect(cl, after);
    assert_true(after[s] != victim);
    node_start(cl, victim);
    converge_expect(cl);
    cluster_term_all(cl);
    stores_compare(cl, acks, N);
}

/* Goal: a follower down while several hundred commands commit (snapshot
 * every 64 entries, 16 kept) catches up after its restart by a snapshot,
 * and converges to a store identical to the others'. */
static void test_restarted_node_catches_up_by_snapshot(void **state)
{
    struct cluster *cl = *state;
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    const uint32_t s = 2;
    const uint64_t ev = event_on_shard(9000, s);
    const uint32_t victim = (leader[s] + 1u) % NODES;
    cl_event_create(cl, cl->c, ev);

    enum { BEFORE = 10, N = 170 }; /* 2 commands each: 340 commands */
    struct acked acks[N];
    for (uint32_t k = 0; k < BEFORE; k++) {
        hold_and_book(cl, cl->c, ev, 100u + k, k, &acks[k]);
    }
    node_sigkill(cl, victim);
    double t0 = now_s();
    for (uint32_t k = BEFORE; k < N; k++) {
        hold_and_book(cl, cl->c, ev, 100u + k, k, &acks[k]);
    }
    printf("# %u commands with node %u down in %.3f s\n", 2u * (N - BEFORE), victim + 1u,
           now_s() - t0);
    node_start(cl, victim);
    converge_expect(cl);
    /* The revived node loaded a snapshot of shard s (usher_shard_restores_total). */
    char body[65536];
    assert_int_equal(http_get(cl->n[victim].hport, "/metrics", body, sizeof(body)), 200);
    char want[96];
    (void)snprintf(want, sizeof(want), "usher_shard_restores_total{shard=\"%u\"} ", s);
    const char *m = strstr(body, want);
    assert_non_null(m);
    long restores = strtol(m + strlen(want), NULL, 10);
    printf("# node %u restored %ld snapshot(s) of shard %u\n", victim + 1u, restores, s);
    assert_true(restores >= 1);
    cluster_term_all(cl);
    char dir[TEMPDIR_PATH_MAX + 64];
    (void)snprintf(dir, sizeof(dir), "%s/shards/%u/raft", cl->n[victim].data, s);
    DIR *d = opendir(dir);
    assert_non_null(d);
    uint32_t snaps = 0;
    for (struct dirent *e = readdir(d); e != NULL; e = readdir(d)) {
        snaps += strncmp(e->d_name, "snapshot-", 9) == 0;
    }
    (void)closedir(d);
    printf("# %s holds %u snapshot file(s)\n", dir, snaps);
    assert_true(snaps >= 1);
    stores_compare(cl, acks, N);
}

/* Goal: a SIGSTOPped leader is replaced and commands are served within a
 * bound; after SIGCONT it steps down (one serving leader per shard) and
 * the cluster converges. */
static void test_paused_leader_is_replaced_and_rejoins(void **state)
{
    struct cluster *cl = *state;
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    const uint32_t s = 3;
    const uint64_t ev = event_on_shard(13000, s);
    const uint32_t old = leader[s];
    cl_event_create(cl, cl->c, ev);
    struct acked acks[4];
    hold_and_book(cl, cl->c, ev, 1, 1, &acks[0]);
    assert_int_equal(status_get(cl, old), 0);
    assert_int_equal(cl->st->shards[s].role, USHER_ROLE_LEADER);
    const uint64_t old_term = cl->st->shards[s].term;
    int probe = probe_open(cl, old, ev);
    proc_signal(&cl->n[old].proc, SIGSTOP);
    cl->n[old].paused = true;
    double t0 = now_s();
    /* The test's client knows all three nodes and routes this shard to the
     * paused leader: its attempt times out there, the client avoids that
     * node and asks the others, and the call lands on the new leader. */
    double ok_at = 0;
    hold_and_book_at(cl, cl->c, ev, 2, 2, &acks[1], &ok_at);
    double served = ok_at - t0;
    uint32_t now_leader[SHARDS];
    leaders_expect(cl, now_leader);
    assert_true(now_leader[s] != old);
    printf("# SIGSTOP of node %u (leader of shard %u): node %u leads; the client that routed to "
           "the paused node was answered after %.3f s\n",
           old + 1u, s, now_leader[s] + 1u, served);
    assert_true(served < FAILOVER_BOUND_S);
    hold_and_book(cl, cl->c, ev, 3, 3, &acks[2]);
    resume_and_probe(cl, old, probe, ev);
    /* It resumes believing it leads: it must step down. */
    double end = now_s() + LEADER_BOUND_MS / 1000.0;
    bool stepped = false;
    while (!stepped && now_s() < end) {
        bool serving[SHARDS];
        stepped = serving_get(cl, old, serving) == 0 && !serving[s];
        if (!stepped) {
            pause_ms(POLL_MS);
        }
    }
    assert_true(stepped);
    hold_and_book(cl, cl->c, ev, 4, 4, &acks[3]);
    converge_expect(cl);
    /* One serving leader per shard, of a newer term than the paused one's
     * (the old node may win a later election: that is allowed). */
    leaders_expect(cl, now_leader);
    assert_int_equal(status_get(cl, now_leader[s]), 0);
    assert_int_equal(cl->st->shards[s].role, USHER_ROLE_LEADER);
    printf("# shard %u: term %" PRIu64 " before the pause, now term %" PRIu64 " led by node %u\n",
           s, old_term, cl->st->shards[s].term, now_leader[s] + 1u);
    assert_true(cl->st->shards[s].term > old_term);
    cluster_term_all(cl);
    stores_compare(cl, acks, 4);
}

/* Goal: a node never joins another cluster: restarted on its data folder
 * with another cluster id it exits non-zero naming the cluster; a node of
 * another cluster id on a fresh folder is refused by the others ("raft
 * connection refused", "another cluster") and never serves. */
static void test_wrong_cluster_is_refused(void **state)
{
    struct cluster *cl = *state;
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    const uint32_t x = 2; /* node 3 */
    node_term(cl, x);
    assert_int_equal(node_spawn(cl, x, "def456", NULL), 0);
    int st = proc_wait(&cl->n[x].proc, START_TIMEOUT_MS);
    assert_true(st != -1 && WIFEXITED(st));
    assert_int_not_equal(WEXITSTATUS(st), 0);
    if (!log_has(cl->n[x].log, "belongs to cluster 0000000000abc123", "0000000000def456")) {
        cluster_dump_logs(cl);
        fail_msg("node 3's log does not name the clusters");
    }
    /* A fresh node 3 of cluster def456, the same peers and ports. */
    char fresh[TEMPDIR_PATH_MAX + 16];
    (void)snprintf(fresh, sizeof(fresh), "%s/intruder", cl->dir);
    assert_int_equal(mkdir(fresh, 0755), 0);
    assert_int_equal(node_spawn(cl, x, "def456", fresh), 0);
    assert_int_equal(proc_wait_port(&cl->n[x].proc, cl->n[x].cport, START_TIMEOUT_MS), 0);
    double end = now_s() + 15.0;
    bool refused = false;
    while (!refused && now_s() < end) {
        refused = log_has(cl->n[0].log, "raft connection refused", "another cluster") ||
                  log_has(cl->n[1].log, "raft connection refused", "another cluster");
        if (!refused) {
            pause_ms(POLL_MS);
        }
    }
    if (!refused) {
        cluster_dump_logs(cl);
        fail_msg("no \"raft connection refused\" for another cluster");
    }
    /* Nodes 1 and 2 still serve every shard between them; the intruder
     * serves nothing and leads nothing. */
    uint32_t now_leader[SHARDS];
    leaders_expect(cl, now_leader);
    for (uint32_t s = 0; s < SHARDS; s++) {
        assert_true(now_leader[s] != x);
    }
    assert_int_equal(status_get(cl, x), 0);
    assert_true(cl->st->cluster_id == 0xdef456u);
    for (uint32_t s = 0; s < SHARDS; s++) {
        assert_int_not_equal(cl->st->shards[s].role, USHER_ROLE_LEADER);
        assert_true(cl->st->shards[s].leader_id == 0);
    }
    assert_false(log_has(cl->n[x].log, "shard leader serving", NULL));
    /* The cluster still takes commands. */
    uint64_t ev = event_on_shard(17000, 0);
    cl_event_create(cl, cl->c, ev);
    struct acked a;
    hold_and_book(cl, cl->c, ev, 1, 1, &a);
}

/* The number after key in the first line of path holding a and b (0 if
 * none). */
static uint64_t log_u64(const char *path, const char *a, const char *b, const char *key)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return 0;
    }
    char line[4096];
    uint64_t v = 0;
    while (fgets(line, sizeof(line), f) != NULL) {
        const char *at = strstr(line, key);
        if (strstr(line, a) != NULL && strstr(line, b) != NULL && at != NULL) {
            v = strtoull(at + strlen(key), NULL, 10);
            break;
        }
    }
    (void)fclose(f);
    return v;
}

/* Polls node i's log until it has a line with both a and b; false after
 * bound_ms. */
static bool log_wait(const char *path, const char *a, const char *b, int bound_ms)
{
    double end = now_s() + bound_ms / 1000.0;
    do {
        if (log_has(path, a, b)) {
            return true;
        }
        pause_ms(POLL_MS);
    } while (now_s() < end);
    return false;
}

/* Polls until no running node serves any shard (at most 10 s). */
static void leaderless_wait(struct cluster *cl)
{
    double end = now_s() + 10.0;
    bool leads = true;
    while (leads && now_s() < end) {
        uint32_t count[SHARDS] = { 0 };
        uint32_t who[SHARDS] = { 0 };
        leads = serving_count(cl, count, who) != 0;
        for (uint32_t k = 0; k < SHARDS && !leads; k++) {
            leads = count[k] != 0;
        }
        pause_ms(POLL_MS);
    }
    assert_false(leads);
}

/* Fails as soon as a running node serves a shard within the next seconds. */
static void leaderless_expect(struct cluster *cl, double seconds)
{
    double end = now_s() + seconds;
    uint32_t polls = 0;
    do {
        uint32_t count[SHARDS] = { 0 };
        uint32_t who[SHARDS] = { 0 };
        pause_ms(POLL_MS);
        if (serving_count(cl, count, who) != 0) {
            continue; /* a node between two states: poll again */
        }
        polls++;
        uint32_t k = 0;
        while (k < SHARDS && count[k] == 0) {
            k++;
        }
        if (k < SHARDS) {
            cluster_dump_logs(cl);
            fail_msg("shard %u elected node %u with the vote of a node that lost its data", k,
                     who[k] + 1u);
        }
    } while (now_s() < end);
    printf("# no leader in %.1f s (%u polls of /status)\n", seconds, polls);
    assert_true(polls > 10);
}

/* The shards of node i whose usher_shard_rejoin_pending gauge is 1. */
static uint32_t rejoin_pending(struct cluster *cl, uint32_t i)
{
    char body[65536];
    assert_int_equal(http_get(cl->n[i].hport, "/metrics", body, sizeof(body)), 200);
    uint32_t pending = 0;
    for (uint32_t s = 0; s < SHARDS; s++) {
        char want[96];
        (void)snprintf(want, sizeof(want), "usher_shard_rejoin_pending{shard=\"%u\"} ", s);
        const char *m = strstr(body, want);
        assert_non_null(m);
        pending += strtol(m + strlen(want), NULL, 10) == 1 ? 1u : 0u;
    }
    return pending;
}

/* A replica that lost its data does not vote before a leader caught it
 * up (flag: started with --rejoin 1). Node 3's folder is replaced by an empty one while node 1 is
 * down: node 2 and the rejoining node 3 must elect no leader (node 2 alone may lack entries only
 * node 1 and the old node 3 had). Once node 1 is back, node 3 catches up on every shard and votes
 * again: with node 1 killed, nodes 2 and 3 elect leaders, and every replica holds every booking. */
static void wiped_node_rejoins(struct cluster *cl, bool flag)
{
    uint32_t leader[SHARDS];
    leaders_expect(cl, leader);
    const uint32_t s = 3;
    const uint64_t ev = event_on_shard(12000, s);
    cl_event_create(cl, cl->c, ev);

    enum { BEFORE = 10, N = 20 };
    struct acked acks[N];
    for (uint32_t k = 0; k < BEFORE; k++) {
        hold_and_book(cl, cl->c, ev, 100u + k, k, &acks[k]);
    }
    const uint32_t absent = 0;
    const uint32_t wiped = 2;
    uint64_t before[SHARDS];
    assert_int_equal(converge_wait(cl, CONVERGE_MS, before), 0);
    node_term(cl, absent);
    node_term(cl, wiped);
    /* Node 2 may lead shards handed over by the others; alone it steps
     * down within an election timeout. Only then is a leader an election. */
    leaderless_wait(cl);
    char lost[sizeof(cl->n[wiped].data) + 8];
    (void)snprintf(lost, sizeof(lost), "%s.lost", cl->n[wiped].data);
    assert_int_equal(rename(cl->n[wiped].data, lost), 0);
    assert_int_equal(mkdir(cl->n[wiped].data, 0755), 0);
    if (flag) {
        node_start_rejoin(cl, wiped);
    } else {
        node_start(cl, wiped); /* the guard arms on the first vote request */
    }

    /* Ten election timeouts (300 ms): node 2 would win each shard with the
     * empty node's vote. */
    leaderless_expect(cl, 3.0);
    assert_true(log_has(cl->n[wiped].log, "no vote until a leader has caught it up",
                        flag ? NULL : "cluster ran"));
    assert_int_equal(rejoin_pending(cl, wiped), SHARDS);
    assert_false(votes_settled(cl, wiped, s)); /* its VOTE-GUARD says pending */

    node_start(cl, absent);
    leaders_expect(cl, leader);
    for (uint32_t k = 0; k < SHARDS; k++) {
        char shard[32];
        (void)snprintf(shard, sizeof(shard), "\"shard\":%u,", k);
        if (!log_wait(cl->n[wiped].log, "shard rejoined", shard, CONVERGE_MS)) {
            cluster_dump_logs(cl);
            fail_msg("node %u never finished rejoining shard %u", wiped + 1u, k);
        }
        /* It voted again only holding everything committed before it was
         * wiped: what it acknowledged and forgot. */
        uint64_t at_lift = log_u64(cl->n[wiped].log, "shard rejoined", shard, "\"applied\":");
        printf("# shard %u: rejoined at applied %" PRIu64 ", committed before the wipe %" PRIu64
               "\n",
               k, at_lift, before[k]);
        assert_true(at_lift >= before[k]);
    }
    assert_int_equal(rejoin_pending(cl, wiped), 0);
    for (uint32_t k = BEFORE; k < N; k++) {
        hold_and_book(cl, cl->c, ev, 100u + k, k, &acks[k]);
    }
    /* Node 3 votes again: without node 1, nodes 2 and 3 elect leaders. */
    node_sigkill(cl, absent);
    leaders_expect(cl, leader);
    node_start(cl, absent);
    converge_expect(cl);
    cluster_term_all(cl);
    stores_compare(cl, acks, N);
}

/* Goal: a node started with --rejoin 1 on an empty folder votes in no
 * election until a leader has caught it up. */
static void test_wiped_node_rejoins_without_voting(void **state)
{
    wiped_node_rejoins(*state, true);
}

/* Goal: the same when the operator forgot --rejoin: the first vote
 * request, carrying a log past the bootstrap entry, arms the guard. */
static void test_wiped_node_without_flag_detects_it(void **state)
{
    wiped_node_rejoins(*state, false);
}

int main(void)
{
    /* USHER_TEST_FILTER=test_leader* runs the tests whose name matches. */
    if (getenv("USHER_TEST_FILTER") != NULL) {
        cmocka_set_test_filter(getenv("USHER_TEST_FILTER"));
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cluster_forms_and_routes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_leader_sigkill_loses_no_acknowledged_booking, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restarted_node_catches_up_by_snapshot, setup_snapshots,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_paused_leader_is_replaced_and_rejoins, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wrong_cluster_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wiped_node_rejoins_without_voting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wiped_node_without_flag_detects_it, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
