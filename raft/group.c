/*
 * A shard group's lifecycle (see group.h): folders, raft_uv, bootstrap of a
 * one-voter configuration, the per-loop-turn hook that tracks the role and
 * flushes the batcher, leader barriers and linearizable reads, the sweep
 * timer, and an orderly close.
 *
 *   DIR/raft/    raft_uv files (never deleted or repaired by usher)
 *   DIR/store/   the LMDB store (rebuilt from snapshot + log after an
 *                unclean stop: the Raft log is the durable copy)
 *   DIR/clean    present only while the store is closed cleanly
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assertion.h"
#include "codec.h"
#include "group_int.h"
#include "mem.h"
#include "proto.h"

static uint32_t or_default(uint32_t v, uint32_t d)
{
    return v == 0 ? d : v;
}

static void options_fill(struct group_options *o)
{
    o->snapshot_threshold =
        o->snapshot_threshold == 0 ? GROUP_SNAPSHOT_THRESHOLD_DEFAULT : o->snapshot_threshold;
    o->snapshot_trailing =
        o->snapshot_trailing == 0 ? GROUP_SNAPSHOT_TRAILING_DEFAULT : o->snapshot_trailing;
    o->batch_cmds_max = or_default(o->batch_cmds_max, USHER_BATCH_CMDS_MAX);
    o->entries_in_flight_max = or_default(o->entries_in_flight_max, GROUP_INFLIGHT_DEFAULT);
    o->queue_max = or_default(o->queue_max, GROUP_QUEUE_DEFAULT);
    o->sweep_interval_ms = or_default(o->sweep_interval_ms, GROUP_SWEEP_INTERVAL_DEFAULT_MS);
    o->election_timeout_ms = or_default(o->election_timeout_ms, GROUP_ELECTION_DEFAULT_MS);
    o->heartbeat_timeout_ms = or_default(o->heartbeat_timeout_ms, GROUP_HEARTBEAT_DEFAULT_MS);
    if (o->batch_cmds_max > USHER_BATCH_CMDS_MAX) {
        o->batch_cmds_max = USHER_BATCH_CMDS_MAX;
    }
}

static int make_dir(const char *path, char *errmsg)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "mkdir %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    return 0;
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/* Removes the store folder's files (LMDB: data.mdb, lock.mdb). */
static int store_remove(const char *dir, char *errmsg)
{
    const char *names[] = { "data.mdb", "lock.mdb" };
    char path[GROUP_PATH_MAX + 16];
    for (unsigned i = 0; i < 2; i++) {
        (void)snprintf(path, sizeof(path), "%.3900s/%s", dir, names[i]);
        if (unlink(path) != 0 && errno != ENOENT) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "remove %.200s: %s", path, strerror(errno));
            return USHER_STORAGE;
        }
    }
    return 0;
}

/* Opens the store; after an unclean stop (no clean marker) it is emptied
 * first, so snapshot + log replay rebuild it (NOSYNC+WRITEMAP may have lost
 * or torn recent transactions on an OS crash). */
static int store_open_clean(struct group *g, char *errmsg)
{
    char store_dir[GROUP_PATH_MAX + 16];
    char marker[GROUP_PATH_MAX + 16];
    (void)snprintf(store_dir, sizeof(store_dir), "%.3900s/store", g->dir);
    (void)snprintf(marker, sizeof(marker), "%.3900s/clean", g->dir);
    int rc = make_dir(store_dir, errmsg);
    if (rc == 0 && !file_exists(marker)) {
        rc = store_remove(store_dir, errmsg);
    }
    if (rc == 0 && unlink(marker) != 0 && errno != ENOENT) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "remove %.200s: %s", marker, strerror(errno));
        rc = USHER_STORAGE;
    }
    if (rc != 0) {
        return rc;
    }
    struct inv_options io = { .map_bytes = g->o.map_bytes };
    return inv_open(store_dir, &io, &g->inv, errmsg);
}

static void marker_write(struct group *g)
{
    char marker[GROUP_PATH_MAX + 16];
    (void)snprintf(marker, sizeof(marker), "%.3900s/clean", g->dir);
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
        (void)fsync(fd);
        (void)close(fd);
    }
}

static void on_leader_barrier(struct raft_barrier *req, int status)
{
    struct group_barrier *b = (struct group_barrier *)req;
    struct group *g = b->g;
    g->barrier_pending = false;
    if (b->leader_barrier && status == 0 && raft_state(&g->raft) == RAFT_LEADER) {
        /* Everything of earlier terms is applied: serve (RAFT-NOTES §1.2). */
        g->serving = true;
        g->serving_term = g->raft.current_term;
    }
    for (uint32_t i = 0; i < b->count; i++) {
        struct group_waiter w = b->waiters[i];
        w.read_cb(w.ctx, status == 0 ? 0 : USHER_NOT_LEADER);
    }
    mem_free(b);
}

/* Proposes one barrier for the queued reads (and, for a new leader, for its
 * term). Reads queued while it is out wait for the next one. */
static void barrier_issue(struct group *g, bool leader_barrier)
{
    uint32_t n = leader_barrier ? 0 : g->reads_len;
    struct group_barrier *b = mem_alloc(sizeof(*b) + n * sizeof(struct group_waiter));
    if (b == NULL) {
        return; /* retried next loop turn */
    }
    b->g = g;
    b->leader_barrier = leader_barrier;
    b->count = n;
    if (n > 0) {
        memcpy(b->waiters, g->reads, n * sizeof(struct group_waiter));
    }
    if (raft_barrier(&g->raft, &b->req, on_leader_barrier) != 0) {
        mem_free(b);
        return;
    }
    g->reads_len -= n;
    g->barrier_pending = true;
}

void group_reads_fail(struct group *g, int status)
{
    uint32_t n = g->reads_len;
    g->reads_len = 0;
    for (uint32_t i = 0; i < n; i++) {
        g->reads[i].read_cb(g->reads[i].ctx, status);
    }
}

/* Once per loop turn: follow the role, then flush writes and reads. */
static void on_prepare(uv_prepare_t *h)
{
    struct group *g = h->data;
    int role = raft_state(&g->raft);
    if (role != RAFT_LEADER || g->raft.current_term != g->serving_term) {
        if (g->serving) {
            g->serving = false;
            batch_fail_queued(g, USHER_NOT_LEADER);
            group_reads_fail(g, USHER_NOT_LEADER);
        }
    }
    g->role = role;
    if (role == RAFT_LEADER && !g->serving && !g->barrier_pending) {
        barrier_issue(g, true);
    }
    if (!g->serving) {
        return;
    }
    batch_flush(g);
    if (g->reads_len > 0 && !g->barrier_pending) {
        barrier_issue(g, false);
    }
}

int group_read(struct group *g, group_read_cb cb, void *ctx)
{
    if (g->state != GROUP_RUNNING) {
        return USHER_SHUTTING_DOWN;
    }
    if (!g->serving) {
        return USHER_NOT_LEADER;
    }
    if (g->reads_len == GROUP_READS_MAX) {
        return USHER_BUSY;
    }
    g->reads[g->reads_len++] = (struct group_waiter){ .read_cb = cb, .ctx = ctx };
    return 0;
}

static void on_sweep_done(void *ctx, int status, const struct cmd_result *result)
{
    (void)ctx;
    (void)status;
    (void)result; /* the next tick sweeps again whatever this one left */
}

/* The leader proposes a sweep every interval (issue 2: holds expire by
 * themselves; the sweep frees them in expiry order, bounded). */
static void on_sweep_timer(uv_timer_t *t)
{
    struct group *g = t->data;
    if (!g->serving) {
        return;
    }
    struct cmd c;
    memset(&c, 0, sizeof(c));
    c.type = CMD_SWEEP;
    c.u.sweep.max = USHER_SWEEP_MAX;
    uint8_t buf[CODEC_CMD_HEADER_BYTES + 8];
    size_t len = 0;
    if (codec_cmd_encode(&c, buf, sizeof(buf), &len) == 0 &&
        group_submit(g, buf, len, on_sweep_done, g) != 0) {
        return; /* queue full or leadership lost: the next tick sweeps */
    }
}

/* raft_uv's close callback, seen once whatever raft_uv does (group_int.h). */
static void on_io_closed(struct raft_io *io)
{
    struct group *g = (struct group *)(void *)((uint8_t *)io - offsetof(struct group, io));
    if (g->io_closed) {
        return;
    }
    g->io_closed = true;
    g->io_close_cb(io);
}

static void io_close_once(struct raft_io *io, raft_io_close_cb cb)
{
    struct group *g = (struct group *)(void *)((uint8_t *)io - offsetof(struct group, io));
    g->io_close_cb = cb;
    g->io_close_orig(io, on_io_closed);
}

static int raft_setup(struct group *g, char *errmsg)
{
    char raft_dir[GROUP_PATH_MAX + 16];
    (void)snprintf(raft_dir, sizeof(raft_dir), "%.3900s/raft", g->dir);
    int rc = make_dir(raft_dir, errmsg);
    if (rc != 0) {
        return rc;
    }
    ASSERT(uv_timer_init(g->loop, &g->transport_timer) == 0);
    g->transport_timer.data = g;
    g->transport_timer_inited = true;
    g->handles_open++;
    transport_init_single(&g->transport, g);
    int rv = raft_uv_init(&g->io, g->loop, raft_dir, &g->transport);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "raft_uv_init %.100s: %.120s", raft_dir,
                       g->io.errmsg);
        return USHER_STORAGE;
    }
    g->io_inited = true;
    g->io_close_orig = g->io.close;
    g->io.close = io_close_once;
    raft_uv_set_segment_size(&g->io, GROUP_SEGMENT_BYTES);
    /* Never drop tail entries on our own (RAFT-NOTES §1.6): a corrupt file
     * stops the node and the operator decides (docs/RAFT.md). */
    raft_uv_set_auto_recovery(&g->io, false);
    fsm_init(g);
    char address[32];
    (void)snprintf(address, sizeof(address), "node-%llu", (unsigned long long)g->o.node_id);
    rv = raft_init(&g->raft, &g->io, &g->fsm, g->o.node_id, address);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "raft_init: %s", raft_strerror(rv));
        return USHER_STORAGE;
    }
    g->raft_inited = true;
    g->raft.data = g;
    raft_set_election_timeout(&g->raft, g->o.election_timeout_ms);
    raft_set_heartbeat_timeout(&g->raft, g->o.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&g->raft, (unsigned)g->o.snapshot_threshold);
    raft_set_snapshot_trailing(&g->raft, (unsigned)g->o.snapshot_trailing);
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    rv = raft_configuration_add(&conf, g->o.node_id, address, RAFT_VOTER);
    if (rv == 0) {
        rv = raft_bootstrap(&g->raft, &conf);
    }
    raft_configuration_close(&conf);
    if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "raft_bootstrap: %s", raft_strerror(rv));
        return USHER_STORAGE;
    }
    return 0;
}

static void group_free(struct group *g)
{
    inv_close(g->inv);
    batch_close(g);
    mem_free(g->reads);
    mem_free(g);
}

static void on_failed_timer_close(uv_handle_t *h)
{
    group_free(h->data);
}

/* Frees a group that never started, once its transport timer is closed. */
static void group_free_failed(struct group *g)
{
    if (g->transport_timer_inited) {
        uv_close((uv_handle_t *)&g->transport_timer, on_failed_timer_close);
        return;
    }
    group_free(g);
}

static void on_failed_raft_close(struct raft *r)
{
    struct group *g = r->data;
    raft_uv_close(&g->io);
    group_free_failed(g);
}

int group_create(uv_loop_t *loop, const struct group_options *o, struct group **out, char *errmsg)
{
    struct group *g = mem_calloc(1, sizeof(*g));
    if (g == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory");
        return USHER_NOMEM;
    }
    g->loop = loop;
    g->o = *o;
    options_fill(&g->o);
    (void)snprintf(g->dir, sizeof(g->dir), "%s", o->dir);
    g->o.dir = g->dir;
    g->state = GROUP_CREATED;
    g->reads = mem_calloc(GROUP_READS_MAX, sizeof(*g->reads));
    int rc = g->reads == NULL ? USHER_NOMEM : batch_init(g);
    if (rc == 0) {
        rc = make_dir(g->dir, errmsg);
    }
    if (rc == 0) {
        rc = store_open_clean(g, errmsg);
    }
    if (rc == 0) {
        rc = raft_setup(g, errmsg);
    }
    if (rc == 0) {
        g->last_stamp_ms = inv_now(g->inv);
        *out = g;
        return 0;
    }
    if (g->raft_inited) {
        /* raft_close is asynchronous: the group frees itself in its
         * callback once the caller runs the loop. */
        raft_close(&g->raft, on_failed_raft_close);
        return rc;
    }
    if (g->io_inited) {
        raft_uv_close(&g->io);
    }
    group_free_failed(g);
    return rc;
}

int group_start(struct group *g, char *errmsg)
{
    ASSERT(g->state == GROUP_CREATED);
    int rv = raft_start(&g->raft);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard %u: raft_start: %s (%.100s); see docs/RAFT.md \"Recovery\"",
                       g->o.shard, raft_strerror(rv), raft_errmsg(&g->raft));
        return USHER_STORAGE;
    }
    ASSERT(uv_prepare_init(g->loop, &g->prepare) == 0);
    ASSERT(uv_timer_init(g->loop, &g->sweep_timer) == 0);
    g->prepare.data = g;
    g->sweep_timer.data = g;
    g->handles_open += 2;
    ASSERT(uv_prepare_start(&g->prepare, on_prepare) == 0);
    ASSERT(uv_timer_start(&g->sweep_timer, on_sweep_timer, g->o.sweep_interval_ms,
                          g->o.sweep_interval_ms) == 0);
    g->state = GROUP_RUNNING;
    return 0;
}

struct inv *group_inv(struct group *g)
{
    return g->inv;
}

bool group_is_serving(struct group *g)
{
    return g->serving;
}

void group_status(struct group *g, struct proto_shard_status *out)
{
    memset(out, 0, sizeof(*out));
    out->shard = g->o.shard;
    if (g->state != GROUP_RUNNING) {
        return;
    }
    int role = raft_state(&g->raft);
    out->role = (uint8_t)(role == RAFT_LEADER      ? PROTO_ROLE_LEADER
                          : role == RAFT_CANDIDATE ? PROTO_ROLE_CANDIDATE
                          : role == RAFT_FOLLOWER  ? PROTO_ROLE_FOLLOWER
                                                   : PROTO_ROLE_UNAVAILABLE);
    out->term = g->raft.current_term;
    out->commit_index = g->raft.commit_index;
    out->applied_index = raft_last_applied(&g->raft);
    raft_id leader = 0;
    const char *address = NULL;
    raft_leader(&g->raft, &leader, &address);
    out->leader_id = leader;
}

static void close_finish(struct group *g)
{
    inv_close(g->inv); /* syncs the store */
    g->inv = NULL;
    marker_write(g);
    batch_close(g);
    mem_free(g->reads);
    g->reads = NULL;
    if (g->close_cb != NULL) {
        g->close_cb(g, g->close_ctx);
    }
}

void group_destroy(struct group *g)
{
    ASSERT(g->state == GROUP_CLOSING);
    ASSERT(g->inv == NULL);
    raft_uv_close(&g->io);
    mem_free(g);
}

static void on_handle_close(uv_handle_t *h);

static void on_raft_close(struct raft *r)
{
    struct group *g = r->data;
    g->raft_inited = false;
    /* raft is done with the transport: its timer can go now. */
    uv_close((uv_handle_t *)&g->transport_timer, on_handle_close);
}

static void on_handle_close(uv_handle_t *h)
{
    struct group *g = h->data;
    ASSERT(g->handles_open > 0);
    g->handles_open--;
    if (g->handles_open == 0 && !g->raft_inited) {
        close_finish(g);
    }
}

void group_close(struct group *g, group_close_cb cb, void *ctx)
{
    ASSERT(g->state != GROUP_CLOSING);
    bool started = g->state == GROUP_RUNNING;
    g->state = GROUP_CLOSING;
    g->close_cb = cb;
    g->close_ctx = ctx;
    g->serving = false;
    batch_fail_queued(g, USHER_SHUTTING_DOWN);
    group_reads_fail(g, USHER_SHUTTING_DOWN);
    if (started) {
        uv_close((uv_handle_t *)&g->prepare, on_handle_close);
        uv_close((uv_handle_t *)&g->sweep_timer, on_handle_close);
    }
    /* Pending applies and barriers fire inside raft_close (RAFT-NOTES §6.14);
     * their callbacks see GROUP_CLOSING and answer SHUTTING_DOWN. */
    raft_close(&g->raft, on_raft_close);
}
