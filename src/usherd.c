/*
 * usherd: main() only loads the configuration and runs the node's loop
 * (STYLE.md 1). Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when
 * the node could not start, 2 for a bad configuration (docs/OPERATIONS.md).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "logger.h"
#include "mem.h"
#include "node.h"

#define USHERD_VERSION "0.1.0"

/* The libuv thread pool runs raft_uv's segment preparation and snapshot
 * writes for every shard (RAFT-NOTES §1.6): more than the default 4. */
#define USHERD_THREADPOOL_SIZE "16"

static void node_options_from(const struct config *c, struct node_options *o)
{
    memset(o, 0, sizeof(*o));
    o->node_id = c->node_id;
    o->cluster_id = c->cluster_id;
    static_assert(CONFIG_PEERS_MAX <= NODE_MEMBERS_MAX, "every peer fits");
    for (uint32_t i = 0; i < c->peer_count; i++) {
        o->members[i] = (struct node_member){ .id = c->peers[i].id,
                                              .raft_addr = c->peers[i].raft_addr,
                                              .client_addr = c->peers[i].client_addr };
    }
    o->member_count = c->peer_count;
    o->raft_addr = c->raft_addr;
    o->data_dir = c->data_dir;
    o->listen_addr = c->listen_addr;
    o->http_addr = c->http_addr;
    o->shard_count = c->shard_count;
    o->connections_max = c->connections_max;
    o->inflight_per_conn_max = c->inflight_per_conn_max;
    o->frame_bytes_max = c->frame_bytes_max;
    o->group.snapshot_threshold = c->snapshot_threshold;
    o->group.snapshot_trailing = c->snapshot_trailing;
    o->group.batch_cmds_max = c->batch_cmds_max;
    o->group.entries_in_flight_max = c->entries_in_flight_max;
    o->group.queue_max = c->queue_max;
    o->group.map_bytes = c->map_bytes;
    o->group.sweep_interval_ms = c->sweep_interval_ms;
    o->group.election_timeout_ms = c->election_timeout_ms;
    o->group.lease_ms = (uint32_t)((uint64_t)c->election_timeout_ms * c->lease_percent / 100u);
    o->group.heartbeat_timeout_ms = c->heartbeat_timeout_ms;
    o->group.rejoin = c->rejoin != 0;
}

static void log_handle(uv_handle_t *h, void *ctx)
{
    struct logger *log = ctx;
    if (!uv_is_closing(h)) {
        logger_warn(log, "handle still open after stop",
                    LOG_STR("type", uv_handle_type_name(uv_handle_get_type(h))),
                    LOG_BOOL("active", uv_is_active(h) != 0));
    }
}

static void on_stopped(struct node *n, void *ctx)
{
    struct logger *log = ctx;
    logger_info(log, "node stopped");
    /* Every handle should be closing now; name any that is not (a leak). */
    uv_walk(n->loop, log_handle, log);
}

static int run(const struct config *c, struct logger *log)
{
    uv_loop_t loop;
    if (uv_loop_init(&loop) != 0) {
        logger_error(log, "cannot create the event loop");
        return 1;
    }
    struct node_options o;
    node_options_from(c, &o);
    struct node *n = mem_calloc(1, sizeof(*n));
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = n == NULL ? USHER_NOMEM : node_start(n, &loop, &o, log, errmsg);
    int status = 0;
    if (rc != 0) {
        logger_error(log, "node did not start", LOG_STR("error", errmsg), LOG_ERR("code", rc));
        status = 1;
        if (n != NULL && n->state != 0) {
            node_stop(n, on_stopped, log);
        }
    } else {
        char addr[CONFIG_ADDR_BYTES];
        config_addr_format(&c->listen_addr, addr);
        logger_info(log, "node started", LOG_U64("node", c->node_id), LOG_STR("listen", addr),
                    LOG_U64("shards", c->shard_count), LOG_STR("data", c->data_dir));
        n->stop_cb = on_stopped;
        n->stop_ctx = log;
    }
    (void)uv_run(&loop, UV_RUN_DEFAULT);
    if (n != NULL) {
        node_destroy(n);
    }
    mem_free(n);
    if (uv_loop_close(&loop) != 0) {
        logger_error(log, "event loop closed with handles still open");
        status = 1;
    }
    return status;
}

int main(int argc, char *argv[])
{
    /* A peer that goes away must not kill the node (RAFT-NOTES §2). */
    (void)signal(SIGPIPE, SIG_IGN);
    (void)setenv("UV_THREADPOOL_SIZE", USHERD_THREADPOOL_SIZE, 0);
    struct config *c = mem_calloc(1, sizeof(*c));
    if (c == NULL) {
        (void)fprintf(stderr, "usherd: out of memory\n");
        return 1;
    }
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = config_load(c, argc, argv, getenv("USHER_DEBUG"), errmsg);
    if (rc != 0) {
        (void)fprintf(stderr, "usherd: %s\nTry 'usherd --help'.\n", errmsg);
        mem_free(c);
        return 2;
    }
    if (c->action == CONFIG_HELP || c->action == CONFIG_VERSION) {
        if (c->action == CONFIG_HELP) {
            config_help_write(stdout);
        } else {
            (void)printf("usherd %s\n", USHERD_VERSION);
        }
        mem_free(c);
        return 0;
    }
    struct logger log;
    logger_init(&log, stderr, NULL, NULL);
    logger_level_set(&log, (enum logger_level)c->log_level, c->debug_mask);
    int status = run(c, &log);
    mem_free(c);
    return status;
}
