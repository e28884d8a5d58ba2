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
#include "node.h"
#include "proto.h"

/* Series of the usher_node_events_total counter, in this order. */
static const char *const counter_names[] = {
    "conns_accepted", "conns_refused", "frames_in", "frames_bad",
    "replies_out",    "busy",          "commands",  "reads",
};
#define COUNTER_SERIES (sizeof(counter_names) / sizeof(counter_names[0]))

static void counters_read(const struct node *n, uint64_t *out)
{
    const struct node_counters *c = &n->counters;
    uint64_t v[COUNTER_SERIES] = { c->conns_accepted, c->conns_refused, c->frames_in, c->frames_bad,
                                   c->replies_out,    c->busy,          c->commands,  c->reads };
    memcpy(out, v, sizeof(v));
}

static void collect(void *ctx)
{
    struct node *n = ctx;
    metrics_gauge_set(n->m.connections, 0, n->conn_count);
    uint64_t now[COUNTER_SERIES];
    counters_read(n, now);
    for (uint32_t i = 0; i < COUNTER_SERIES; i++) {
        ASSERT(now[i] >= n->m.last[i]);
        metrics_counter_add(n->m.counters, i, now[i] - n->m.last[i]);
        n->m.last[i] = now[i];
    }
    for (uint32_t s = 0; n->groups != NULL && s < n->opts.shard_count; s++) {
        struct proto_shard_status st;
        memset(&st, 0, sizeof(st));
        if (n->groups[s] != NULL) {
            group_status(n->groups[s], &st);
        }
        metrics_gauge_set(n->m.shard_role, s, st.role);
        metrics_gauge_set(n->m.shard_term, s, (int64_t)st.term);
        metrics_gauge_set(n->m.shard_commit, s, (int64_t)st.commit_index);
        metrics_gauge_set(n->m.shard_applied, s, (int64_t)st.applied_index);
    }
}

static int register_shard_gauge(struct node *n, const char *name, const char *help,
                                struct metric **out)
{
    struct metric_desc d = { .name = name, .help = help, .type = METRIC_GAUGE, .label_count = 1 };
    d.labels[0] = (struct metric_label){ .key = "shard", .count = n->opts.shard_count };
    return metrics_register(&n->metrics, &d, out);
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
    if (register_all(n) != 0) {
        metrics_close(&n->metrics);
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
    metrics_close(&n->metrics);
    n->http_started = false;
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
