/*
 * A usherd node's lifecycle (see node.h).
 *
 * Data folder:
 *   DIR/IDENTITY         "usher-node 1\nnode_id N\ncluster_id HEX\nshards N\n"
 *   DIR/shards/<shard>/  one folder per shard group (raft/group.h)
 *
 * The identity is written on the first start and checked on every later
 * one: a node never starts on another node's or another cluster shape's
 * data (issue 3).
 */
#include "node.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assertion.h"
#include "config.h"
#include "conn.h"
#include "dispatch.h"
#include "limits.h"
#include "logger.h"
#include "mem.h"

#define IDENTITY_FILE      "IDENTITY"
#define IDENTITY_BYTES_MAX 256u

struct group *node_group(struct node *n, uint32_t shard)
{
    ASSERT(shard < n->opts.shard_count);
    ASSERT(n->groups[shard] != NULL);
    return n->groups[shard];
}

static int identity_write(const char *path, const struct node *n, char *errmsg)
{
    char text[IDENTITY_BYTES_MAX];
    int len = snprintf(text, sizeof(text),
                       "usher-node 1\nnode_id %" PRIu64 "\ncluster_id %016" PRIx64 "\nshards %u\n",
                       n->opts.node_id, n->cluster_id, n->opts.shard_count);
    ASSERT(len > 0 && (size_t)len < sizeof(text));
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "create %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    bool ok = write(fd, text, (size_t)len) == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "write %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    return 0;
}

/* Reads one "key value" line at *p; value in base 10 or 16. */
static bool identity_field(const char **p, const char *key, int base, uint64_t *out)
{
    size_t key_len = strlen(key);
    if (strncmp(*p, key, key_len) != 0 || (*p)[key_len] != ' ') {
        return false;
    }
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(*p + key_len + 1, &end, base);
    if (errno != 0 || end == *p + key_len + 1 || *end != '\n') {
        return false;
    }
    *out = v;
    *p = end + 1;
    return true;
}

/* Parses the identity text written by identity_write(). */
static bool identity_parse(const char *text, size_t len, uint64_t *node_id, uint64_t *cluster_id,
                           uint64_t *shards)
{
    const char *head = "usher-node 1\n";
    if (len < strlen(head) || strncmp(text, head, strlen(head)) != 0) {
        return false;
    }
    const char *p = text + strlen(head);
    return identity_field(&p, "node_id", 10, node_id) &&
           identity_field(&p, "cluster_id", 16, cluster_id) &&
           identity_field(&p, "shards", 10, shards);
}

/* Reads DIR/IDENTITY if present and compares it with this node's options;
 * writes it (with a new cluster id) when the folder is new. */
static int identity_check(struct node *n, char *errmsg)
{
    char path[4096];
    (void)snprintf(path, sizeof(path), "%s/%s", n->opts.data_dir, IDENTITY_FILE);
    FILE *f = fopen(path, "r");
    if (f == NULL && errno == ENOENT) {
        n->cluster_id = n->opts.cluster_id;
        if (n->cluster_id != 0) {
            return identity_write(path, n, errmsg);
        }
        uv_random_t req;
        if (uv_random(NULL, &req, &n->cluster_id, sizeof(n->cluster_id), 0, NULL) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "no randomness for a cluster id");
            return USHER_INTERNAL;
        }
        n->cluster_id |= 1u; /* never 0 */
        return identity_write(path, n, errmsg);
    }
    if (f == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "open %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    char text[IDENTITY_BYTES_MAX] = "";
    size_t got = fread(text, 1, sizeof(text) - 1, f);
    (void)fclose(f);
    uint64_t node_id = 0;
    uint64_t cluster_id = 0;
    uint64_t shards = 0;
    if (!identity_parse(text, got, &node_id, &cluster_id, &shards)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%.200s is not a usher identity file", path);
        return USHER_INVALID;
    }
    if (node_id != n->opts.node_id || shards != n->opts.shard_count) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "data folder %.100s belongs to node %" PRIu64 " with %" PRIu64
                       " shards, not node %" PRIu64 " with %u: use that node's id and shard "
                       "count, or another folder",
                       n->opts.data_dir, node_id, shards, n->opts.node_id, n->opts.shard_count);
        return USHER_INVALID;
    }
    if (n->opts.cluster_id != 0 && cluster_id != n->opts.cluster_id) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "data folder %.100s belongs to cluster %016" PRIx64 ", not %016" PRIx64
                       ": this node cannot join another cluster with that data",
                       n->opts.data_dir, cluster_id, n->opts.cluster_id);
        return USHER_INVALID;
    }
    n->cluster_id = cluster_id;
    return 0;
}

static int make_dir(const char *path, char *errmsg)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "mkdir %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    return 0;
}

/* With no peers option the node is a cluster of one. */
static void members_fill(struct node *n)
{
    if (n->opts.member_count > 0) {
        return;
    }
    n->opts.members[0] = (struct node_member){ .id = n->opts.node_id,
                                               .raft_addr = n->opts.raft_addr,
                                               .client_addr = n->opts.listen_addr };
    n->opts.member_count = 1;
}

static int hub_open(struct node *n, char *errmsg)
{
    struct hub_member members[NODE_MEMBERS_MAX];
    static_assert(NODE_MEMBERS_MAX <= HUB_MEMBERS_MAX, "members fit the hub");
    for (uint32_t i = 0; i < n->opts.member_count; i++) {
        members[i] = (struct hub_member){ .id = n->opts.members[i].id,
                                          .raft_addr = n->opts.members[i].raft_addr };
    }
    struct hub_options ho = {
        .cluster_id = n->cluster_id,
        .self_id = n->opts.node_id,
        .shard_count = n->opts.shard_count,
        .listen_addr = n->opts.raft_addr,
        .members = members,
        .member_count = n->opts.member_count,
        .log = n->log,
    };
    return hub_start(n->loop, &ho, &n->hub, errmsg);
}

void node_leader_hint(struct node *n, uint32_t shard, char *out, size_t size)
{
    ASSERT(size > 0);
    out[0] = '\0';
    uint64_t leader = group_leader(node_group(n, shard));
    for (uint32_t i = 0; leader != n->opts.node_id && i < n->opts.member_count; i++) {
        if (n->opts.members[i].id == leader) {
            char addr[CONFIG_ADDR_BYTES];
            config_addr_format(&n->opts.members[i].client_addr, addr);
            (void)snprintf(out, size, "%s", addr);
        }
    }
}

static int groups_start(struct node *n, char *errmsg)
{
    uint64_t voters[NODE_MEMBERS_MAX];
    for (uint32_t i = 0; i < n->opts.member_count; i++) {
        voters[i] = n->opts.members[i].id;
    }
    char dir[4096];
    (void)snprintf(dir, sizeof(dir), "%s/shards", n->opts.data_dir);
    int rc = make_dir(dir, errmsg);
    for (uint32_t s = 0; rc == 0 && s < n->opts.shard_count; s++) {
        (void)snprintf(dir, sizeof(dir), "%s/shards/%u", n->opts.data_dir, s);
        struct group_options o = n->opts.group;
        o.shard = s;
        o.node_id = n->opts.node_id;
        o.dir = dir;
        o.hub = n->hub;
        o.log = n->log;
        o.voters = voters;
        o.voter_count = n->opts.member_count;
        rc = group_create(n->loop, &o, &n->groups[s], errmsg);
        if (rc == 0) {
            n->groups_open++;
            rc = group_start(n->groups[s], errmsg);
        }
    }
    return rc;
}

static void on_connection(uv_stream_t *server, int status)
{
    struct node *n = server->data;
    if (status != 0) {
        return; /* a failed accept leaves the listener usable */
    }
    conn_accept(n);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct node *n = h->data;
    (void)signum;
    node_stop(n, n->stop_cb, n->stop_ctx);
}

static int listen_start(struct node *n, char *errmsg)
{
    int rc = uv_tcp_init(n->loop, &n->listener);
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "listener: %s", uv_strerror(rc));
        return USHER_INTERNAL;
    }
    n->listener.data = n;
    n->listener_open = true;
    rc = uv_tcp_bind(&n->listener, (const struct sockaddr *)&n->opts.listen_addr, 0);
    if (rc == 0) {
        rc = uv_listen((uv_stream_t *)&n->listener, 511, on_connection);
    }
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "listen on client address: %s", uv_strerror(rc));
        return USHER_INVALID;
    }
    return 0;
}

static int signals_start(struct node *n)
{
    /* uv_signal_init only fails on a bad loop or signal number: a bug. */
    ASSERT(uv_signal_init(n->loop, &n->sigterm) == 0);
    ASSERT(uv_signal_init(n->loop, &n->sigint) == 0);
    n->sigterm.data = n;
    n->sigint.data = n;
    n->signals_started = true;
    int rc = 0;
    if (rc == 0) {
        rc = uv_signal_start(&n->sigterm, on_signal, SIGTERM);
    }
    if (rc == 0) {
        rc = uv_signal_start(&n->sigint, on_signal, SIGINT);
    }
    uv_unref((uv_handle_t *)&n->sigterm);
    uv_unref((uv_handle_t *)&n->sigint);
    return rc == 0 ? 0 : USHER_INTERNAL;
}

static void on_listener_close(uv_handle_t *h)
{
    (void)h;
}

static void stopped(struct node *n)
{
    n->state = NODE_STOPPED;
    if (n->stop_cb != NULL) {
        n->stop_cb(n, n->stop_ctx);
    }
}

static void on_signal_close(uv_handle_t *h)
{
    struct node *n = h->data;
    /* Both signal handles are closed (sigint last): the node is done. */
    if (h == (uv_handle_t *)&n->sigint) {
        stopped(n);
    }
}

static void stop_finish(struct node *n)
{
    if (n->hub != NULL) {
        hub_stop(n->hub); /* every group is closed: no transport uses it */
    }
    /* Groups answered their pending requests; now close the connections
     * (queued replies go out first: uv_close after the writes were queued
     * still flushes what the kernel accepted). */
    while (n->conns != NULL) {
        conn_close(n->conns);
    }
    if (!n->signals_started) {
        stopped(n);
        return;
    }
    uv_close((uv_handle_t *)&n->sigterm, on_signal_close);
    uv_close((uv_handle_t *)&n->sigint, on_signal_close);
}

static void on_group_closed(struct group *g, void *ctx)
{
    struct node *n = ctx;
    (void)g;
    ASSERT(n->groups_open > 0);
    n->groups_open--;
    if (n->groups_open == 0) {
        stop_finish(n);
    }
}

/* Closes every group; their pending requests are answered as they close. */
static void close_groups(struct node *n)
{
    if (n->groups_open == 0) {
        stop_finish(n);
        return;
    }
    for (uint32_t s = 0; n->groups != NULL && s < n->opts.shard_count; s++) {
        if (n->groups[s] != NULL) {
            group_close(n->groups[s], on_group_closed, n);
        }
    }
}

static void on_transfer_done(struct group *g, void *ctx)
{
    struct node *n = ctx;
    ASSERT(n->transfers_out > 0);
    n->transfers_out--;
    struct proto_shard_status st;
    group_status(g, &st);
    if (st.leader_id == n->opts.node_id) {
        /* libraft calls back after an election timeout without a taker. */
        logger_warn(n->log, "leadership not handed over in time", LOG_U64("shard", st.shard));
    } else {
        logger_info(n->log, "leadership handed over", LOG_U64("shard", st.shard),
                    LOG_U64("leader", st.leader_id));
    }
    if (n->transfers_out == 0) {
        close_groups(n);
    }
}

/* A leader hands each of its shards to a follower before it closes them
 * (issue 4: clients see a short switch, not an election timeout). Each
 * transfer ends by itself within the election timeout. */
static void stop_groups(struct node *n)
{
    ASSERT(n->transfers_out == 0);
    n->transfers_out = 1; /* held until every transfer is started */
    for (uint32_t s = 0; n->groups != NULL && s < n->opts.shard_count; s++) {
        if (n->groups[s] != NULL && group_transfer(n->groups[s], on_transfer_done, n) == 0) {
            n->transfers_out++;
        }
    }
    n->transfers_out--;
    if (n->transfers_out == 0) {
        close_groups(n);
    }
}

void node_stop(struct node *n, node_stop_cb cb, void *ctx)
{
    n->stop_cb = cb;
    n->stop_ctx = ctx;
    if (n->state == NODE_STOPPING || n->state == NODE_STOPPED) {
        return;
    }
    n->state = NODE_STOPPING;
    if (n->listener_open) {
        n->listener_open = false;
        uv_close((uv_handle_t *)&n->listener, on_listener_close);
    }
    for (struct conn *c = n->conns; c != NULL; c = c->next) {
        dispatch_pause_reading(c);
    }
    node_http_stop(n, stop_groups);
}

int node_start(struct node *n, uv_loop_t *loop, const struct node_options *o, struct logger *log,
               char *errmsg)
{
    memset(n, 0, sizeof(*n));
    n->loop = loop;
    n->opts = *o;
    n->log = log;
    logger_child(&n->req_log, log, LOGGER_SUBSYSTEM_DISPATCH);
    n->state = NODE_STARTING;
    if (o->node_id == 0 || o->shard_count == 0 || o->shard_count > PROTO_STATUS_SHARDS_MAX ||
        o->frame_bytes_max > USHER_FRAME_BYTES_MAX || o->connections_max == 0 ||
        o->inflight_per_conn_max == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "bad node options");
        return USHER_INVALID;
    }
    int rc = make_dir(o->data_dir, errmsg);
    if (rc == 0) {
        rc = identity_check(n, errmsg);
    }
    if (rc != 0) {
        return rc;
    }
    n->groups = mem_calloc(o->shard_count, sizeof(struct group *));
    if (n->groups == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory");
        return USHER_NOMEM;
    }
    /* From here on, a failure is undone by node_stop(). */
    members_fill(n);
    rc = signals_start(n);
    if (rc == 0) {
        rc = hub_open(n, errmsg);
    }
    if (rc == 0) {
        rc = groups_start(n, errmsg);
    }
    if (rc == 0) {
        rc = listen_start(n, errmsg);
    }
    if (rc == 0) {
        rc = node_http_start(n, errmsg);
    }
    if (rc != 0) {
        /* The caller runs the loop until stop_cb to release what started. */
        return rc;
    }
    n->state = NODE_RUNNING;
    return 0;
}

void node_destroy(struct node *n)
{
    for (uint32_t s = 0; n->groups != NULL && s < n->opts.shard_count; s++) {
        if (n->groups[s] != NULL) {
            group_destroy(n->groups[s]);
        }
    }
    mem_free(n->groups);
    n->groups = NULL;
    hub_destroy(n->hub);
    n->hub = NULL;
}
