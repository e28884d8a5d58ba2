/*
 * A node's operator port: Prometheus metrics, health and a JSON status
 * (docs/OPERATIONS.md). Gauges and counters are refreshed from the node's
 * counters and each group's status when /metrics is rendered, so the hot
 * paths only bump plain integers.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "mem.h"
#include "node.h"
#include "proto.h"

/* Series of the usher_node_events_total counter, in this order. */
static const char *const counter_names[] = {
    "conns_accepted", "conns_refused", "frames_in",   "frames_bad",   "replies_out",   "busy",
    "commands",       "reads",         "stale_reads", "leased_reads", "local_answers",
};
#define COUNTER_SERIES (sizeof(counter_names) / sizeof(counter_names[0]))
static_assert(COUNTER_SERIES <= sizeof(((struct node_metrics *)0)->last) / sizeof(uint64_t),
              "every series has its last value");

static void counters_read(const struct node *n, uint64_t *out)
{
    const struct node_counters *c = &n->counters;
    uint64_t v[COUNTER_SERIES] = { c->conns_accepted, c->conns_refused, c->frames_in,
                                   c->frames_bad,     c->replies_out,   c->busy,
                                   c->commands,       c->reads,         c->stale_reads,
                                   c->leased_reads,   c->local_answers };
    memcpy(out, v, sizeof(v));
}

/* Per-shard counters whose last values node_metrics.shard_last keeps. */
#define SHARD_COUNTERS 4u

/* Adds what a counter gained since the last scrape; *last follows it. */
static void counter_follow(struct metric *m, uint32_t series, uint64_t now, uint64_t *last)
{
    ASSERT(now >= *last);
    metrics_counter_add(m, series, now - *last);
    *last = now;
}

static void collect_shard(struct node *n, uint32_t s)
{
    struct proto_shard_status st;
    struct group_counters gc;
    memset(&st, 0, sizeof(st));
    memset(&gc, 0, sizeof(gc));
    if (n->groups[s] != NULL) {
        group_status(n->groups[s], &st);
        group_counters(n->groups[s], &gc);
    }
    metrics_gauge_set(n->m.shard_role, s, st.role);
    metrics_gauge_set(n->m.shard_term, s, (int64_t)st.term);
    metrics_gauge_set(n->m.shard_commit, s, (int64_t)st.commit_index);
    metrics_gauge_set(n->m.shard_applied, s, (int64_t)st.applied_index);
    size_t at = (size_t)SHARD_COUNTERS * s; /* entries, commands, snapshots, restores */
    counter_follow(n->m.shard_entries, s, gc.entries, n->m.shard_last + at);
    counter_follow(n->m.shard_commands, s, gc.commands, n->m.shard_last + at + 1);
    counter_follow(n->m.shard_snapshots, s, gc.snapshots, n->m.shard_last + at + 2);
    counter_follow(n->m.shard_restores, s, gc.restores, n->m.shard_last + at + 3);
    metrics_gauge_set(n->m.shard_snap_ms, s, (int64_t)(gc.snapshot_last_us / 1000u));
    metrics_gauge_set(n->m.shard_snap_bytes, s, (int64_t)gc.snapshot_last_bytes);
    metrics_gauge_set(n->m.shard_restore_ms, s, (int64_t)(gc.restore_last_us / 1000u));
    metrics_gauge_set(n->m.shard_rejoin_pending, s, gc.rejoin_pending ? 1 : 0);
    metrics_gauge_set(n->m.shard_in_flight, s, gc.in_flight);
    metrics_gauge_set(n->m.shard_queued, s, gc.queued);
}

static void collect(void *ctx)
{
    struct node *n = ctx;
    metrics_gauge_set(n->m.connections, 0, n->conn_count);
    uint64_t now[COUNTER_SERIES];
    counters_read(n, now);
    for (uint32_t i = 0; i < COUNTER_SERIES; i++) {
        counter_follow(n->m.counters, i, now[i], &n->m.last[i]);
    }
    for (uint32_t s = 0; n->groups != NULL && s < n->opts.shard_count; s++) {
        collect_shard(n, s);
    }
    if (n->hub != NULL) {
        struct hub_counters hc = hub_counters(n->hub);
        uint64_t v[4] = { hc.accepted, hc.refused, hc.dialed, hc.dial_failed };
        for (uint32_t i = 0; i < 4; i++) {
            counter_follow(n->m.raft_conns, i, v[i], &n->m.hub_last[i]);
        }
    }
}

static const char *const hub_kinds[] = { "accepted", "refused", "dialed", "dial_failed" };

/* Label values of the request metrics, in enum proto_op order. */
static const char *const op_names[PROTO_OP_MAX + 1u] = {
    "none",        "command",       "event_get",    "event_list", "availability", "hold_get",
    "booking_get", "customer_list", "seat_history", "status",     "ping",
};

/* Every error code and its name, in enum usher_err order; a status maps to
 * its index by code_index(). */
#define ERR_CODE(name, value, msg) (value),
#define ERR_NAME(name, value, msg) #name,
static const int err_codes[] = { USHER_ERR_MAP(ERR_CODE) };
static const char *const err_names[] = { USHER_ERR_MAP(ERR_NAME) };
#undef ERR_CODE
#undef ERR_NAME
#define ERR_COUNT (sizeof(err_codes) / sizeof(err_codes[0]))

static const uint64_t latency_bounds_us[] = { METRICS_LATENCY_BUCKETS_US };

/* Codes are below this (err.h); a reply's code maps to its label index
 * through code_slots, built once, so the per-reply cost is one load. */
#define ERR_CODE_LIMIT 128u
static uint8_t code_slots[ERR_CODE_LIMIT];

static void code_slots_build(void)
{
    uint32_t internal = 0;
    for (uint32_t i = 0; i < ERR_COUNT; i++) {
        internal = err_codes[i] == USHER_INTERNAL ? i : internal;
    }
    for (uint32_t c = 0; c < ERR_CODE_LIMIT; c++) {
        code_slots[c] = (uint8_t)internal; /* a code we do not know */
    }
    for (uint32_t i = 0; i < ERR_COUNT; i++) {
        ASSERT(err_codes[i] >= 0 && (uint32_t)err_codes[i] < ERR_CODE_LIMIT);
        code_slots[err_codes[i]] = (uint8_t)i;
    }
}

/* The label index of an error code; INTERNAL's for a code we do not know. */
static uint32_t code_index(int code)
{
    return code >= 0 && (uint32_t)code < ERR_CODE_LIMIT ? code_slots[code]
                                                        : code_slots[USHER_INTERNAL];
}

void node_request_done(struct node *n, uint8_t op, uint16_t status, uint64_t start_ns)
{
    if (!n->http_started || n->m.request_ms == NULL) {
        return; /* metrics closed (stopping) or never opened */
    }
    uint32_t o = op <= PROTO_OP_MAX ? op : 0u;
    metrics_observe(n->m.request_ms, o, (uv_hrtime() - start_ns) / 1000u);
    metrics_counter_add(n->m.replies, code_index(status), 1);
}

void node_command_outcome(struct node *n, int status)
{
    if (n->http_started && n->m.outcomes != NULL) {
        metrics_counter_add(n->m.outcomes, code_index(status), 1);
    }
}

static int register_request_metrics(struct node *n)
{
    static_assert(ERR_COUNT <= UINT8_MAX, "a slot is a byte");
    code_slots_build();
    struct metric_desc lat = { .name = "usher_request_duration_ms",
                               .help = "Time from a request's dispatch to its reply, by op.",
                               .type = METRIC_HISTOGRAM,
                               .label_count = 1,
                               .bounds = latency_bounds_us,
                               .bound_count = METRICS_LATENCY_BUCKET_COUNT,
                               .scale = 1000 };
    lat.labels[0] =
        (struct metric_label){ .key = "op", .count = PROTO_OP_MAX + 1u, .values = op_names };
    struct metric_desc rep = { .name = "usher_replies_total",
                               .help = "Replies by status (NOT_LEADER, BUSY, BAD_REQUEST, ...).",
                               .type = METRIC_COUNTER,
                               .label_count = 1 };
    rep.labels[0] = (struct metric_label){ .key = "code", .count = ERR_COUNT, .values = err_names };
    struct metric_desc out = {
        .name = "usher_command_outcomes_total",
        .help = "Applied commands by outcome (OK, SEAT_TAKEN, HOLD_EXPIRED, ...).",
        .type = METRIC_COUNTER,
        .label_count = 1
    };
    out.labels[0] = (struct metric_label){ .key = "code", .count = ERR_COUNT, .values = err_names };
    int rc = metrics_register(&n->metrics, &lat, &n->m.request_ms);
    if (rc == 0) {
        rc = metrics_register(&n->metrics, &rep, &n->m.replies);
    }
    if (rc == 0) {
        rc = metrics_register(&n->metrics, &out, &n->m.outcomes);
    }
    return rc;
}

static int register_shard_metric(struct node *n, const char *name, const char *help,
                                 enum metric_type type, struct metric **out)
{
    struct metric_desc d = { .name = name, .help = help, .type = type, .label_count = 1 };
    d.labels[0] = (struct metric_label){ .key = "shard", .count = n->opts.shard_count };
    return metrics_register(&n->metrics, &d, out);
}

static int register_shard_gauge(struct node *n, const char *name, const char *help,
                                struct metric **out)
{
    return register_shard_metric(n, name, help, METRIC_GAUGE, out);
}

static int register_snapshot_metrics(struct node *n)
{
    int rc = register_shard_metric(n, "usher_shard_snapshots_total",
                                   "Snapshots this replica took of its store.", METRIC_COUNTER,
                                   &n->m.shard_snapshots);
    if (rc == 0) {
        rc = register_shard_metric(n, "usher_shard_restores_total",
                                   "Snapshots loaded into the store (catch-up, restart).",
                                   METRIC_COUNTER, &n->m.shard_restores);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_snapshot_last_ms",
                                  "Time the last snapshot export took (on the thread pool).",
                                  &n->m.shard_snap_ms);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_snapshot_last_bytes",
                                  "Size of the last snapshot export.", &n->m.shard_snap_bytes);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_restore_last_ms",
                                  "Time the last snapshot restore held the loop.",
                                  &n->m.shard_restore_ms);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_rejoin_pending",
                                  "1 while a rejoining replica votes in no election.",
                                  &n->m.shard_rejoin_pending);
    }
    return rc;
}

static int register_all(struct node *n)
{
    struct metric_desc conns = { .name = "usher_connections",
                                 .help = "Client connections open.",
                                 .type = METRIC_GAUGE };
    struct metric_desc events = { .name = "usher_node_events_total",
                                  .help = "Node events by kind (connections, frames, answers).",
                                  .type = METRIC_COUNTER,
                                  .label_count = 1 };
    events.labels[0] =
        (struct metric_label){ .key = "kind", .count = COUNTER_SERIES, .values = counter_names };
    int rc = metrics_register(&n->metrics, &conns, &n->m.connections);
    if (rc == 0) {
        rc = metrics_register(&n->metrics, &events, &n->m.counters);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_role",
                                  "Raft role: 0 unavailable, 1 follower, 2 candidate, 3 leader.",
                                  &n->m.shard_role);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_term", "Raft term.", &n->m.shard_term);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_commit_index", "Raft commit index.",
                                  &n->m.shard_commit);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_applied_index",
                                  "Last log index applied to the store.", &n->m.shard_applied);
    }
    if (rc == 0) {
        rc = register_shard_metric(n, "usher_shard_entries_proposed_total",
                                   "Raft entries this node proposed as the shard's leader.",
                                   METRIC_COUNTER, &n->m.shard_entries);
    }
    if (rc == 0) {
        rc = register_shard_metric(n, "usher_shard_commands_proposed_total",
                                   "Commands in those entries (commands / entries = batch size).",
                                   METRIC_COUNTER, &n->m.shard_commands);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_entries_in_flight",
                                  "Entries proposed and not yet applied.", &n->m.shard_in_flight);
    }
    if (rc == 0) {
        rc = register_shard_gauge(n, "usher_shard_commands_queued",
                                  "Commands waiting for an entry.", &n->m.shard_queued);
    }
    if (rc == 0) {
        rc = register_snapshot_metrics(n);
    }
    if (rc == 0) {
        rc = register_request_metrics(n);
    }
    if (rc == 0) {
        struct metric_desc d = { .name = "usher_raft_connections_total",
                                 .help = "Raft peer connections of the node's one Raft port, "
                                         "by outcome.",
                                 .type = METRIC_COUNTER,
                                 .label_count = 1 };
        d.labels[0] = (struct metric_label){ .key = "kind", .count = 4, .values = hub_kinds };
        rc = metrics_register(&n->metrics, &d, &n->m.raft_conns);
    }
    return rc;
}

/* Healthy when the node runs and every shard group serves. */
static bool health(void *ctx, char *reason, size_t size)
{
    struct node *n = ctx;
    if (n->state != NODE_RUNNING) {
        (void)snprintf(reason, size, "node is not running");
        return false;
    }
    /* Healthy: every shard has a leader this node knows of, and the shards
     * it leads serve (their first barrier committed). A follower forwards
     * clients to the leader's address, so it is healthy too. */
    for (uint32_t s = 0; s < n->opts.shard_count; s++) {
        uint64_t leader = group_leader(n->groups[s]);
        if (leader == 0) {
            (void)snprintf(reason, size, "shard %u has no leader", s);
            return false;
        }
        if (leader == n->opts.node_id && !group_is_serving(n->groups[s])) {
            (void)snprintf(reason, size, "shard %u is not serving yet", s);
            return false;
        }
    }
    return true;
}

static int status(void *ctx, char *buf, size_t size, size_t *len)
{
    struct node *n = ctx;
    int w = snprintf(buf, size,
                     "{\"node\":%" PRIu64 ",\"cluster\":\"%016" PRIx64 "\",\"shards\":%u,"
                     "\"connections\":%u,\"serving\":[",
                     n->opts.node_id, n->cluster_id, n->opts.shard_count, n->conn_count);
    size_t used = w > 0 ? (size_t)w : size;
    for (uint32_t s = 0; s < n->opts.shard_count && used < size; s++) {
        w = snprintf(buf + used, size - used, "%s%s", s == 0 ? "" : ",",
                     group_is_serving(n->groups[s]) ? "true" : "false");
        used += w > 0 ? (size_t)w : size;
    }
    if (used + 3 > size) {
        return USHER_LIMIT_MSG_SIZE;
    }
    buf[used] = ']';
    buf[used + 1] = '}';
    buf[used + 2] = '\n';
    *len = used + 3;
    return 0;
}

int node_http_start(struct node *n, char *errmsg)
{
    metrics_init(&n->metrics, collect, n);
    n->m.shard_last = mem_calloc((size_t)SHARD_COUNTERS * n->opts.shard_count, sizeof(uint64_t));
    if (n->m.shard_last == NULL || register_all(n) != 0) {
        metrics_close(&n->metrics);
        mem_free(n->m.shard_last);
        n->m.shard_last = NULL;
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory for metrics");
        return USHER_NOMEM;
    }
    struct http_options o = { .addr = n->opts.http_addr,
                              .metrics = &n->metrics,
                              .health_cb = health,
                              .status_cb = status,
                              .ctx = n };
    n->http_started = true;
    return http_start(&n->http, n->loop, &o, n->log, errmsg);
}

static void on_http_stopped(struct http_server *s, void *ctx)
{
    struct node *n = ctx;
    void (*then)(struct node *) = n->http_then;
    (void)s;
    n->http_started = false; /* before the close: no more observations */
    metrics_close(&n->metrics);
    mem_free(n->m.shard_last);
    n->m.shard_last = NULL;
    n->m.request_ms = NULL;
    n->m.replies = NULL;
    n->m.outcomes = NULL;
    then(n);
}

void node_http_stop(struct node *n, void (*then)(struct node *n))
{
    if (!n->http_started) {
        then(n);
        return;
    }
    n->http_then = then;
    http_stop(&n->http, on_http_stopped, n);
}
