/*
 * A shard group's lifecycle (see group.h): folders, the store, raft_uv and
 * raft, bootstrap of a one-voter configuration, the per-loop-turn hook that
 * follows the role and flushes the batcher, the leader barrier, reads, the
 * sweep timer, and an orderly close.
 *
 *   DIR/raft/    raft_uv: metadata1/2, segments, snapshots; never deleted
 *                or repaired by usher (auto-recovery is off)
 *   DIR/store/   the LMDB store; emptied at open after an unclean stop, so
 *                snapshot + log replay rebuild it (RAFT-NOTES §3)
 *   DIR/clean    written after the store's final sync at close, removed
 *                (durably) at open before the store is used
 *
 * Lifecycle (state_move() asserts every move):
 *
 *   CREATED --start--> RUNNING --close--> CLOSING --raft + handles closed--> CLOSED
 *      '-----------------close----------------^
 *
 * Role while RUNNING, polled once per loop turn (libraft 0.15 has no state
 * callback and appends no entry of its own for a new leader: RAFT-NOTES
 * §1.2), with role_move() asserting every move:
 *
 *   IDLE --leader seen, barrier proposed--> CONFIRMING --barrier applied--> SERVING
 *   CONFIRMING --barrier lost--> IDLE        SERVING --not leader / new term--> IDLE
 */
#include "group.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <raft.h>
#include <raft/uv.h>
#include <xxhash.h>

#include "assertion.h"
#include "batch.h"
#include "buf.h"
#include "codec.h"
#include "fsm.h"
#include "io_guard.h"
#include "limits.h"
#include "logger.h"
#include "mem.h"
#include "proto.h"
#include "transport.h"
#include "vote_guard.h"

/* Defaults of group_options (0 means these; group.h). */
#define GROUP_SNAPSHOT_THRESHOLD_DEFAULT 65536u
#define GROUP_SNAPSHOT_TRAILING_DEFAULT  8192u
#define GROUP_IN_FLIGHT_DEFAULT          16u
#define GROUP_QUEUE_DEFAULT              8192u
#define GROUP_SWEEP_INTERVAL_DEFAULT_MS  1000u
#define GROUP_ELECTION_DEFAULT_MS        1000u
#define GROUP_HEARTBEAT_DEFAULT_MS       100u
/* A vote guard whose floor could not be written tries again after this. */
#define GROUP_VOTE_GUARD_RETRY_MS 1000u

/* raft_uv segment size: 1 MiB, not 8, since raft_uv preallocates three
 * segments per group (RAFT-NOTES §1.6). */
#define GROUP_SEGMENT_BYTES 1048576u

/* raft_uv sizes each append on its own: 8 bytes of segment format, 8 of
 * checksums, 8 + 16 of batch header. An entry larger than a segment minus
 * these would overflow a fresh segment (src/uv_append.c:545-615), so the
 * entry bound keeps 64 bytes of room. */
#define GROUP_ENTRY_BYTES_MAX (GROUP_SEGMENT_BYTES - 64u)
static_assert(GROUP_ENTRY_BYTES_MAX <= USHER_BATCH_BYTES_MAX, "an entry is a batch");

/* The shard folder's length: raft_uv keeps at most 894 bytes of directory
 * (src/uv_os.h UV__DIR_LEN) and "/raft" is appended. */
#define GROUP_DIR_LEN_MAX 880u
#define GROUP_PATH_BYTES  1024u

/* Time before an unanswered InstallSnapshot is sent again. */
#define GROUP_INSTALL_SNAPSHOT_TIMEOUT_MS 5000u

/* raft_uv's redial delay after a failed connection. */
#define GROUP_REDIAL_MS 100u

/* Bytes of an encoded sweep command (header + u32 max), with room. */
#define GROUP_SWEEP_CMD_BYTES 64u

enum group_state {
    GROUP_CREATED = 0,
    GROUP_RUNNING = 1,
    GROUP_CLOSING = 2,
    GROUP_CLOSED = 3,
};

enum group_role {
    GROUP_ROLE_IDLE = 0,
    GROUP_ROLE_CONFIRMING = 1,
    GROUP_ROLE_SERVING = 2,
};

struct group_reader {
    group_read_cb cb;
    void *ctx;
};

struct group {
    uv_loop_t *loop;
    struct group_options o;
    char dir[GROUP_PATH_BYTES];
    struct inv *inv;
    struct raft raft;
    struct io_guard io; /* raft_uv's io behind the guards of io_guard.h */
    struct raft_uv_transport transport;
    struct transport transport_impl;
    uint64_t voters[GROUP_VOTERS_MAX];
    void (*io_close)(struct raft_io *io, raft_io_close_cb cb); /* raft_uv's own */
    raft_io_close_cb io_close_cb;                              /* raft's, fired once */
    struct batch batch;
    uv_prepare_t prepare; /* once per loop turn: role, batcher, reads */
    uv_timer_t sweep_timer;
    struct raft_barrier leader_barrier;
    struct raft_transfer transfer;
    group_transfer_cb transfer_cb;
    void *transfer_ctx;
    struct raft_barrier read_barrier;
    uint64_t read_barrier_ns;   /* when read_barrier was proposed */
    uint64_t leader_barrier_ns; /* when leader_barrier was proposed */
    /* Confirmations proposed before this moment do not count for the lease:
     * the start of the current role, or UINT64_MAX once a transfer began
     * (the target may campaign at once). */
    uint64_t lease_floor_ns;
    struct group_reader *reads; /* ring of o.queue_max */
    uint32_t reads_head;
    uint32_t reads_len;
    uint32_t reads_covered; /* the oldest ones, waiting for read_barrier */
    uint32_t handles_open;
    uint64_t role_term; /* the term of CONFIRMING / SERVING */
    group_close_cb close_cb;
    void *close_ctx;
    uint8_t state; /* enum group_state */
    uint8_t role;  /* enum group_role */
    bool store_kept;
    bool batch_inited;
    bool io_inited;
    bool raft_inited;
    bool raft_closed;
    bool io_closed;
    bool leader_barrier_out;
    bool transfer_out;
    bool close_waits_snapshot; /* CLOSING: raft closes once the snapshot is written */
    bool read_barrier_out;
    bool sweep_pending;
    bool sweep_again;
    struct vote_guard votes; /* a rejoining replica's (vote_guard.h) */
    uint64_t votes_retry_ms; /* loop time before which a failed lift waits */
    struct fsm fsm;          /* last: large (the results of one entry) */
};

/* ---- Lifecycle and role tables (STYLE.md 6.6) ---- */

static void state_move(struct group *g, enum group_state to)
{
    static const bool allowed[4][4] = {
        [GROUP_CREATED] = { [GROUP_RUNNING] = true, [GROUP_CLOSING] = true },
        [GROUP_RUNNING] = { [GROUP_CLOSING] = true },
        [GROUP_CLOSING] = { [GROUP_CLOSED] = true },
    };
    ASSERT(g->state < 4);
    ASSERT(allowed[g->state][to]);
    g->state = (uint8_t)to;
}

static void role_move(struct group *g, enum group_role to)
{
    static const bool allowed[3][3] = {
        [GROUP_ROLE_IDLE] = { [GROUP_ROLE_CONFIRMING] = true },
        [GROUP_ROLE_CONFIRMING] = { [GROUP_ROLE_IDLE] = true, [GROUP_ROLE_SERVING] = true },
        [GROUP_ROLE_SERVING] = { [GROUP_ROLE_IDLE] = true },
    };
    ASSERT(g->role < 3);
    ASSERT(allowed[g->role][to]);
    g->role = (uint8_t)to;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    ASSERT(rc == 0); /* cannot fail for CLOCK_REALTIME */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- Options ---- */

static uint32_t or_default(uint32_t v, uint32_t d)
{
    return v == 0 ? d : v;
}

static int options_fill(struct group_options *o, char *errmsg)
{
    if (o->node_id == 0 || o->dir == NULL || strnlen(o->dir, GROUP_DIR_LEN_MAX + 1u) == 0 ||
        strnlen(o->dir, GROUP_DIR_LEN_MAX + 1u) > GROUP_DIR_LEN_MAX) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard group needs a node id and a folder of 1 to %u bytes",
                       GROUP_DIR_LEN_MAX);
        return USHER_INVALID;
    }
    bool self = false;
    for (uint32_t i = 0; o->voters != NULL && i < o->voter_count; i++) {
        self = self || o->voters[i] == o->node_id;
    }
    if (o->hub == NULL || o->voter_count == 0 || o->voter_count > GROUP_VOTERS_MAX || !self) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard group needs a raft hub and 1 to %u voters, this node among them",
                       GROUP_VOTERS_MAX);
        return USHER_INVALID;
    }
    if (o->batch_cmds_max > USHER_BATCH_CMDS_MAX || o->snapshot_threshold > UINT32_MAX ||
        o->snapshot_trailing > UINT32_MAX) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard group options out of range: batch_cmds_max %u (max %u), "
                       "snapshot entries over 2^32",
                       o->batch_cmds_max, USHER_BATCH_CMDS_MAX);
        return USHER_INVALID;
    }
    if (o->snapshot_threshold == 0) {
        o->snapshot_threshold = GROUP_SNAPSHOT_THRESHOLD_DEFAULT;
    }
    if (o->snapshot_trailing == 0) {
        o->snapshot_trailing = GROUP_SNAPSHOT_TRAILING_DEFAULT;
    }
    o->batch_cmds_max = or_default(o->batch_cmds_max, USHER_BATCH_CMDS_MAX);
    o->entries_in_flight_max = or_default(o->entries_in_flight_max, GROUP_IN_FLIGHT_DEFAULT);
    o->queue_max = or_default(o->queue_max, GROUP_QUEUE_DEFAULT);
    o->sweep_interval_ms = or_default(o->sweep_interval_ms, GROUP_SWEEP_INTERVAL_DEFAULT_MS);
    o->election_timeout_ms = or_default(o->election_timeout_ms, GROUP_ELECTION_DEFAULT_MS);
    o->heartbeat_timeout_ms = or_default(o->heartbeat_timeout_ms, GROUP_HEARTBEAT_DEFAULT_MS);
    if (o->lease_ms > o->election_timeout_ms / 2u) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "lease_ms %u is above half of election_timeout_ms %u: the lease must end "
                       "well before any follower may start an election",
                       o->lease_ms, o->election_timeout_ms);
        return USHER_INVALID;
    }
    return 0;
}

/* ---- Folders, the store and the clean marker ---- */

static void path_join(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, GROUP_PATH_BYTES, "%s/%s", dir, name);
    ASSERT(n > 0);
    ASSERT((size_t)n < GROUP_PATH_BYTES); /* dir is at most GROUP_DIR_LEN_MAX */
}

static int make_dir(const char *path, char *errmsg)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "mkdir %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    return 0;
}

/* Makes a creation or removal in dir durable. */
static int dir_sync(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
        return -1;
    }
    int rc = fsync(fd);
    (void)close(fd); /* read-only: nothing to lose */
    return rc;
}

static int file_remove(const char *path, char *errmsg)
{
    if (unlink(path) != 0 && errno != ENOENT) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "remove %.200s: %s", path, strerror(errno));
        return USHER_STORAGE;
    }
    return 0;
}

/* After an unclean stop the store may miss or tear recent transactions
 * (NOSYNC + WRITEMAP): its files go, and snapshot + log rebuild it. Only
 * LMDB's two files are removed; never a raft file. */
static int store_empty(const char *store_dir, char *errmsg)
{
    char path[GROUP_PATH_BYTES];
    path_join(path, store_dir, "data.mdb");
    int rc = file_remove(path, errmsg);
    if (rc == 0) {
        path_join(path, store_dir, "lock.mdb");
        rc = file_remove(path, errmsg);
    }
    return rc;
}

/* Opens the store, kept when the clean marker says its last close synced
 * it. The marker is removed durably first, so that a crash from here on
 * leaves no marker. */
static int store_open(struct group *g, char *errmsg)
{
    char store_dir[GROUP_PATH_BYTES];
    char marker[GROUP_PATH_BYTES];
    path_join(store_dir, g->dir, "store");
    path_join(marker, g->dir, "clean");
    int rc = make_dir(store_dir, errmsg);
    if (rc != 0) {
        return rc;
    }
    g->store_kept = access(marker, F_OK) == 0;
    rc = g->store_kept ? file_remove(marker, errmsg) : store_empty(store_dir, errmsg);
    if (rc == 0 && dir_sync(g->dir) != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "sync %.200s: %s", g->dir, strerror(errno));
        rc = USHER_STORAGE;
    }
    if (rc != 0) {
        return rc;
    }
    struct inv_options io = { .map_bytes = g->o.map_bytes, .durable = false };
    return inv_open(store_dir, &io, &g->inv, errmsg);
}

/* Written after the store's final sync (inv_close). A marker that cannot
 * be written only costs a rebuild of the store at the next start. */
static void marker_write(struct group *g)
{
    char marker[GROUP_PATH_BYTES];
    path_join(marker, g->dir, "clean");
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return;
    }
    int rc = fsync(fd);
    (void)close(fd); /* empty file: nothing to lose */
    if (rc == 0) {
        (void)dir_sync(g->dir); /* best effort, as above */
    }
}

/* ---- Leader lease (group.h; docs/REPLICATION.md "Leader lease") ---- */

bool group_leased(struct group *g)
{
    if (g->o.lease_ms == 0 || g->state != GROUP_RUNNING || g->role != GROUP_ROLE_SERVING) {
        return false;
    }
    /* raft may have stepped down earlier in this loop turn (a higher term
     * seen), before role_poll() notices: ask it, not the cached role. */
    if (raft_state(&g->raft) != RAFT_LEADER || g->raft.current_term != g->role_term) {
        return false;
    }
    uint64_t confirmed = g->batch.confirmed_ns;
    if (confirmed < g->lease_floor_ns) {
        return false;
    }
    /* The clock is read now, not the loop's cached time: a pause between
     * the cached time and this answer must not stretch the lease. */
    return uv_hrtime() < confirmed + (uint64_t)g->o.lease_ms * 1000000u;
}

uint64_t group_key(uint64_t client_id, uint64_t idem_key)
{
    uint8_t bytes[16];
    buf_put_be64(bytes, client_id);
    buf_put_be64(bytes + 8, idem_key);
    uint64_t h = XXH64(bytes, sizeof(bytes), 0);
    return h != 0 ? h : 1;
}

int group_answer_local(struct group *g, const struct cmd *cmd, uint64_t key, struct cmd_result *res,
                       bool *answered)
{
    *answered = false;
    /* A command whose key is queued or in flight must meet it in the log:
     * its retry gets the first one's result, whatever that will be. */
    if (key != 0 && batch_key_busy(&g->batch, key)) {
        return 0;
    }
    if (!group_leased(g)) {
        return 0;
    }
    /* The time the command would be applied at: the next entry's stamp. */
    uint64_t now = batch_stamp(g->batch.stamp_ms, wall_ms());
    return inv_precheck(g->inv, cmd, now, res, answered);
}

/* ---- Reads ---- */

/* Answers the n oldest reads with status (a callback may queue another). */
static void reads_answer(struct group *g, uint32_t n, int status)
{
    ASSERT(n <= g->reads_len);
    for (uint32_t i = 0; i < n; i++) {
        struct group_reader r = g->reads[g->reads_head];
        g->reads_head = (g->reads_head + 1) % g->o.queue_max;
        g->reads_len--;
        r.cb(r.ctx, status);
    }
}

/* Answers every read now; a read barrier still out then answers none. */
static void reads_fail(struct group *g, int status)
{
    g->reads_covered = 0;
    reads_answer(g, g->reads_len, status);
}

static void on_read_barrier(struct raft_barrier *req, int status)
{
    struct group *g = req->data;
    ASSERT(g->read_barrier_out);
    g->read_barrier_out = false;
    uint32_t n = g->reads_covered;
    g->reads_covered = 0;
    if (status == 0) {
        batch_confirm(&g->batch, g->read_barrier_ns);
        reads_answer(g, n, 0);
        return;
    }
    reads_answer(g, n, g->state == GROUP_RUNNING ? USHER_NOT_LEADER : USHER_SHUTTING_DOWN);
}

/* One barrier covers every read queued so far (RAFT-NOTES §1.3); reads
 * queued while it is out wait for the next. */
static void read_barrier_issue(struct group *g)
{
    ASSERT(!g->read_barrier_out);
    g->read_barrier.data = g;
    g->read_barrier_ns = uv_hrtime();
    if (raft_barrier(&g->raft, &g->read_barrier, on_read_barrier) != 0) {
        return; /* not leader (the next poll steps down) or no memory: next turn */
    }
    g->read_barrier_out = true;
    g->reads_covered = g->reads_len;
}

int group_read(struct group *g, group_read_cb cb, void *ctx)
{
    ASSERT(cb != NULL);
    if (g->state == GROUP_CLOSING || g->state == GROUP_CLOSED) {
        return USHER_SHUTTING_DOWN;
    }
    if (g->role != GROUP_ROLE_SERVING) {
        return USHER_NOT_LEADER;
    }
    if (g->reads_len == g->o.queue_max) {
        return USHER_BUSY;
    }
    uint32_t at = (g->reads_head + g->reads_len) % g->o.queue_max;
    g->reads[at] = (struct group_reader){ .cb = cb, .ctx = ctx };
    g->reads_len++;
    return 0;
}

/* ---- Role ---- */

static void step_down(struct group *g)
{
    if (g->o.log != NULL && g->role == GROUP_ROLE_SERVING) {
        logger_info(g->o.log, "shard leader stepped down", LOG_U64("shard", g->o.shard),
                    LOG_U64("term", g->role_term), LOG_U64("now_term", g->raft.current_term),
                    LOG_U64("leader", group_leader(g)));
    }
    role_move(g, GROUP_ROLE_IDLE);
    g->sweep_again = false;
    batch_fail(&g->batch, USHER_NOT_LEADER);
    reads_fail(g, USHER_NOT_LEADER);
}

static void on_leader_barrier(struct raft_barrier *req, int status)
{
    struct group *g = req->data;
    ASSERT(g->leader_barrier_out);
    g->leader_barrier_out = false;
    if (g->role != GROUP_ROLE_CONFIRMING) {
        return; /* closing */
    }
    if (status != 0 || raft_state(&g->raft) != RAFT_LEADER ||
        g->raft.current_term != g->role_term) {
        role_move(g, GROUP_ROLE_IDLE);
        return;
    }
    /* Every entry of earlier terms is applied: serve. No stamp goes below
     * the state machine's time, whatever this node's clock says. */
    batch_stamp_floor(&g->batch, inv_now(g->inv));
    batch_confirm(&g->batch, g->leader_barrier_ns);
    role_move(g, GROUP_ROLE_SERVING);
    if (g->o.log != NULL) {
        logger_info(g->o.log, "shard leader serving", LOG_U64("shard", g->o.shard),
                    LOG_U64("term", g->role_term), LOG_U64("applied", raft_last_applied(&g->raft)));
    }
}

/* Follows raft's role: a new leader proposes its barrier, a deposed one
 * (or one of a newer term) stops serving and answers what waits. */
static void role_poll(struct group *g)
{
    bool leader = raft_state(&g->raft) == RAFT_LEADER;
    uint64_t term = g->raft.current_term;
    if (g->role != GROUP_ROLE_IDLE && (!leader || term != g->role_term)) {
        step_down(g);
    }
    if (g->role != GROUP_ROLE_IDLE || !leader || g->leader_barrier_out) {
        return;
    }
    g->leader_barrier.data = g;
    g->leader_barrier_ns = uv_hrtime();
    if (raft_barrier(&g->raft, &g->leader_barrier, on_leader_barrier) != 0) {
        return; /* retried next turn */
    }
    g->lease_floor_ns = g->leader_barrier_ns; /* nothing of an earlier role counts */
    g->leader_barrier_out = true;
    g->role_term = term;
    role_move(g, GROUP_ROLE_CONFIRMING);
}

/* ---- Sweeps ---- */

static void on_sweep_done(void *ctx, int status, const struct cmd_result *result)
{
    struct group *g = ctx;
    ASSERT(g->sweep_pending);
    g->sweep_pending = false;
    /* Work left (a mass expiry): sweep again next turn, bounded per entry. */
    g->sweep_again = status == 0 && result != NULL && result->status == 0 && result->more != 0;
}

/* Queues one sweep (no client id: codec.h) through the batcher. */
static void sweep_propose(struct group *g)
{
    ASSERT(!g->sweep_pending);
    struct cmd c;
    memset(&c, 0, sizeof(c));
    c.type = CMD_SWEEP;
    c.u.sweep.max = USHER_SWEEP_MAX;
    uint8_t buf[GROUP_SWEEP_CMD_BYTES];
    size_t len = 0;
    int rc = codec_cmd_encode(&c, buf, sizeof(buf), &len);
    ASSERT(rc == 0);
    if (batch_push(&g->batch, buf, len, 0, on_sweep_done, g) == 0) {
        g->sweep_pending = true; /* else the queue is full: the next tick sweeps */
    }
}

static void on_sweep_timer(uv_timer_t *t)
{
    struct group *g = t->data;
    if (g->role == GROUP_ROLE_SERVING && !g->sweep_pending) {
        sweep_propose(g);
    }
}

/* ---- The per-turn hook ---- */

static void close_raft(struct group *g, bool started);

/* Lifts a rejoining replica's vote guard once a leader has caught it up. */
static void votes_catch_up(struct group *g)
{
    uint64_t now = uv_now(g->loop);
    if (now < g->votes_retry_ms) {
        return; /* the last write failed: not a synced write every loop turn */
    }
    char errmsg[USHER_ERRMSG_MAX];
    bool lifted = false;
    if (vote_guard_catch_up(&g->votes, raft_last_applied(&g->raft), g->raft.current_term, &lifted,
                            errmsg) != 0) {
        g->votes_retry_ms = now + GROUP_VOTE_GUARD_RETRY_MS;
        logger_warn(g->o.log, "shard vote guard not written; still not voting",
                    LOG_U64("shard", g->o.shard), LOG_STR("error", errmsg));
    } else if (lifted) {
        logger_info(g->o.log, "shard rejoined: votes again, in terms after the leader's",
                    LOG_U64("shard", g->o.shard), LOG_U64("floor_term", g->votes.floor),
                    LOG_U64("applied", raft_last_applied(&g->raft)),
                    LOG_U64("votes_refused", g->votes.refused));
    }
}

static void on_prepare(uv_prepare_t *h)
{
    struct group *g = h->data;
    if (g->state == GROUP_CLOSING) {
        ASSERT(g->close_waits_snapshot);
        if (!fsm_snapshot_busy(&g->fsm)) {
            g->close_waits_snapshot = false;
            close_raft(g, true);
        }
        return;
    }
    ASSERT(g->state == GROUP_RUNNING);
    if (g->votes.pending) {
        votes_catch_up(g);
    }
    role_poll(g);
    if (g->role != GROUP_ROLE_SERVING) {
        return;
    }
    if (g->sweep_again && !g->sweep_pending) {
        g->sweep_again = false;
        sweep_propose(g);
    }
    if (batch_flush(&g->batch, wall_ms()) == USHER_NOT_LEADER) {
        step_down(g);
        return;
    }
    if (g->reads_len > 0 && !g->read_barrier_out) {
        read_barrier_issue(g);
    }
}

int group_submit(struct group *g, const uint8_t *cmd, size_t len, uint64_t key, group_submit_cb cb,
                 void *ctx)
{
    ASSERT(cb != NULL);
    if (g->state == GROUP_CLOSING || g->state == GROUP_CLOSED) {
        return USHER_SHUTTING_DOWN;
    }
    if (g->role != GROUP_ROLE_SERVING) {
        return USHER_NOT_LEADER;
    }
    return batch_push(&g->batch, cmd, len, key, cb, ctx);
}

/* ---- Create and start ---- */

/* raft_uv may fire its close callback twice (libraft 0.15: a segment
 * writer can finish closing after it; upstream's fix c042b4e was reverted
 * in 142a791), and raft's callback frees its log each time: raft sees it
 * once. raft_uv's memory goes only in group_destroy(). */
static void on_io_closed(struct raft_io *io)
{
    struct raft *r = io->data;
    struct group *g = r->data;
    if (g->io_closed) {
        return;
    }
    g->io_closed = true;
    g->io_close_cb(io);
}

static void io_close_once(struct raft_io *io, raft_io_close_cb cb)
{
    struct raft *r = io->data;
    struct group *g = r->data;
    g->io_close_cb = cb;
    g->io_close(io, on_io_closed);
}

static int raft_io_setup(struct group *g, char *errmsg)
{
    char raft_dir[GROUP_PATH_BYTES];
    path_join(raft_dir, g->dir, "raft");
    int rc = make_dir(raft_dir, errmsg);
    if (rc != 0) {
        return rc;
    }
    transport_init(&g->transport, &g->transport_impl, g->o.hub, g->o.shard);
    int rv = raft_uv_init(&g->io.io, g->loop, raft_dir, &g->transport);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "raft_uv_init %.100s: %.120s", raft_dir,
                       g->io.io.errmsg);
        return USHER_STORAGE;
    }
    g->io_inited = true;
    raft_uv_set_segment_size(&g->io.io, GROUP_SEGMENT_BYTES);
    /* raft_uv's fixed redial delay; the hub adds a growing backoff per
     * peer on top (hub.h), so a lost peer is found again quickly. */
    raft_uv_set_connect_retry_delay(&g->io.io, GROUP_REDIAL_MS);
    /* Never move corrupt tail segments aside on our own: that silently
     * drops entries (RAFT-NOTES §1.6). A node that cannot load stops. */
    raft_uv_set_auto_recovery(&g->io.io, false);
    /* raft_uv implements async_work but reports version 1, and raft_init
     * refuses a version 3 FSM (async snapshots) from such an io: libraft
     * 0.15 src/uv.c, RAFT-NOTES §1.1. */
    g->io.io.version = 2;
    g->io_close = g->io.io.close;
    g->io.io.close = io_close_once;
    /* raft_uv keeps the term and the vote in metadata1/2: a replica without
     * them on a rejoining node forgot its votes. Only a replica of several
     * can have cast one that mattered. */
    char meta1[GROUP_PATH_BYTES];
    char meta2[GROUP_PATH_BYTES];
    path_join(meta1, raft_dir, "metadata1");
    path_join(meta2, raft_dir, "metadata2");
    bool votes_forgotten = access(meta1, F_OK) != 0 && access(meta2, F_OK) != 0;
    bool several = g->o.voter_count > 1;
    rc = vote_guard_open(&g->votes, g->dir, several && votes_forgotten, several && g->o.rejoin,
                         errmsg);
    if (rc != 0) {
        return rc;
    }
    if (g->votes.pending) {
        logger_warn(g->o.log, "shard rejoins: no vote until a leader has caught it up",
                    LOG_U64("shard", g->o.shard));
    }
    io_guard_install(&g->io, g->loop, g->o.shard, g->o.log, &g->votes);
    return 0;
}

static int raft_setup(struct group *g, char *errmsg)
{
    int rc = raft_io_setup(g, errmsg);
    if (rc != 0) {
        return rc;
    }
    fsm_init(&g->fsm, &g->raft, g->inv, g->o.shard, g->store_kept, true);
    char address[32];
    (void)snprintf(address, sizeof(address), "node-%llu", (unsigned long long)g->o.node_id);
    int rv = raft_init(&g->raft, &g->io.io, &g->fsm.raft_fsm, g->o.node_id, address);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "raft_init: %s", raft_errmsg(&g->raft));
        return USHER_STORAGE;
    }
    g->raft_inited = true;
    g->raft.data = g;
    raft_set_election_timeout(&g->raft, g->o.election_timeout_ms);
    raft_set_heartbeat_timeout(&g->raft, g->o.heartbeat_timeout_ms);
    raft_set_snapshot_threshold(&g->raft, (unsigned)g->o.snapshot_threshold);
    raft_set_snapshot_trailing(&g->raft, (unsigned)g->o.snapshot_trailing);
    /* An InstallSnapshot that gets no answer (the follower dropped it while
     * taking its own snapshot) is sent again after this, not after libraft's
     * 30 s default: a restarted replica otherwise stalls that long. */
    raft_set_install_snapshot_timeout(&g->raft, GROUP_INSTALL_SNAPSHOT_TIMEOUT_MS);
    /* Pre-vote: a replica that was away (restarted, cut off) asks whether it
     * could win before it raises its term, so its return does not depose a
     * working leader (an extra election each time a node comes back). */
    raft_set_pre_vote(&g->raft, true);
    /* A new folder gets the cluster's voters as its first configuration
     * (the same on every node); raft_uv refuses (CANTBOOTSTRAP) once it
     * holds a term. */
    struct raft_configuration conf;
    raft_configuration_init(&conf);
    rv = 0;
    for (uint32_t i = 0; rv == 0 && i < g->o.voter_count; i++) {
        char name[32];
        (void)snprintf(name, sizeof(name), "node-%llu", (unsigned long long)g->o.voters[i]);
        rv = raft_configuration_add(&conf, g->o.voters[i], name, RAFT_VOTER);
    }
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

static int basics_setup(struct group *g, char *errmsg)
{
    int rc = make_dir(g->dir, errmsg);
    if (rc == 0) {
        rc = store_open(g, errmsg);
    }
    if (rc != 0) {
        return rc;
    }
    struct batch_options bo = {
        .queue_max = g->o.queue_max,
        .cmds_max = g->o.batch_cmds_max,
        .in_flight_max = g->o.entries_in_flight_max,
        .entry_bytes_max = GROUP_ENTRY_BYTES_MAX,
    };
    g->reads = mem_calloc(g->o.queue_max, sizeof(*g->reads));
    rc = g->reads == NULL ? USHER_NOMEM : batch_init(&g->batch, &g->raft, &bo);
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory for shard %u", g->o.shard);
        return rc;
    }
    g->batch_inited = true;
    return 0;
}

static void group_free(struct group *g)
{
    if (g->batch_inited) {
        batch_close(&g->batch);
    }
    inv_close(g->inv);
    mem_free(g->reads);
    mem_free(g);
}

/* A group that failed after raft_init(): raft never started, so raft_uv
 * fires its close callback once, and everything can go here. */
static void on_create_undone(struct raft *r)
{
    struct group *g = r->data;
    raft_uv_close(&g->io.io);
    group_free(g);
}

int group_create(uv_loop_t *loop, const struct group_options *o, struct group **out, char *errmsg)
{
    struct group *g = mem_calloc(1, sizeof(*g));
    if (g == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory for a shard group");
        return USHER_NOMEM;
    }
    g->loop = loop;
    g->o = *o;
    int rc = options_fill(&g->o, errmsg);
    if (rc == 0) {
        memcpy(g->voters, o->voters, o->voter_count * sizeof(*o->voters));
        g->o.voters = g->voters;
        (void)snprintf(g->dir, sizeof(g->dir), "%s", o->dir);
        g->o.dir = g->dir;
        rc = basics_setup(g, errmsg);
    }
    if (rc == 0) {
        rc = raft_setup(g, errmsg);
    }
    if (rc == 0) {
        *out = g;
        return 0;
    }
    if (g->raft_inited) {
        /* raft_close is asynchronous: the group frees itself in its
         * callback while the caller runs the loop. */
        raft_close(&g->raft, on_create_undone);
        return rc;
    }
    if (g->io_inited) {
        raft_uv_close(&g->io.io);
    }
    group_free(g);
    return rc;
}

int group_start(struct group *g, char *errmsg)
{
    ASSERT(g->state == GROUP_CREATED);
    /* Loads the snapshot (fsm restore) and replays the log through apply. */
    int rv = raft_start(&g->raft);
    if (rv != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard %u: raft_start: %s (%.120s); see docs/RAFT.md \"Recovery\"",
                       g->o.shard, raft_strerror(rv), raft_errmsg(&g->raft));
        return USHER_STORAGE;
    }
    /* A kept store past the end of the log was made by another log (the
     * raft folder was replaced): every new entry would look replayed and be
     * skipped. Refuse rather than lose writes or delete anything. */
    if (inv_applied_index(g->inv) > raft_last_index(&g->raft)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard %u: store at index %llu is past the raft log's end %llu; "
                       "see docs/RAFT.md \"Recovery\"",
                       g->o.shard, (unsigned long long)inv_applied_index(g->inv),
                       (unsigned long long)raft_last_index(&g->raft));
        return USHER_STORAGE;
    }
    int rc = uv_prepare_init(g->loop, &g->prepare);
    ASSERT(rc == 0); /* cannot fail on a live loop */
    rc = uv_timer_init(g->loop, &g->sweep_timer);
    ASSERT(rc == 0);
    g->prepare.data = g;
    g->sweep_timer.data = g;
    g->handles_open = 2;
    rc = uv_prepare_start(&g->prepare, on_prepare);
    ASSERT(rc == 0);
    rc = uv_timer_start(&g->sweep_timer, on_sweep_timer, g->o.sweep_interval_ms,
                        g->o.sweep_interval_ms);
    ASSERT(rc == 0);
    state_move(g, GROUP_RUNNING);
    return 0;
}

/* ---- Reading the group ---- */

struct inv *group_inv(struct group *g)
{
    ASSERT(g->inv != NULL);
    return g->inv;
}

bool group_may_read_stale(struct group *g, uint32_t max_stale_ms)
{
    if (group_is_serving(g)) {
        return true;
    }
    if (g->state != GROUP_RUNNING || max_stale_ms == 0) {
        return false;
    }
    uint64_t stamp = inv_now(g->inv);
    uint64_t now = wall_ms();
    return stamp != 0 && (now <= stamp || now - stamp <= max_stale_ms);
}

bool group_is_serving(struct group *g)
{
    return g->state == GROUP_RUNNING && g->role == GROUP_ROLE_SERVING;
}

void group_counters(struct group *g, struct group_counters *out)
{
    memset(out, 0, sizeof(*out));
    if (!g->batch_inited) {
        return;
    }
    out->entries = g->batch.counters.entries;
    out->commands = g->batch.counters.commands;
    out->lost = g->batch.counters.lost;
    out->in_flight = g->batch.in_flight;
    out->queued = g->batch.queue_len;
    out->snapshots = g->fsm.counters.snapshots;
    out->snapshot_last_us = g->fsm.counters.snapshot_last_us;
    out->snapshot_last_bytes = g->fsm.counters.snapshot_last_bytes;
    out->restores = g->fsm.counters.restores_loaded;
    out->restore_last_us = g->fsm.counters.restore_last_us;
    out->snapshot_busy = fsm_snapshot_busy(&g->fsm);
    out->rejoin_pending = g->votes.pending;
}

uint64_t group_leader(struct group *g)
{
    if (g->state != GROUP_RUNNING) {
        return 0;
    }
    raft_id leader = 0;
    const char *address = NULL;
    raft_leader(&g->raft, &leader, &address);
    return leader;
}

static void on_transfer_done(struct raft_transfer *req)
{
    struct group *g = req->data;
    ASSERT(g->transfer_out);
    g->transfer_out = false;
    group_transfer_cb cb = g->transfer_cb;
    g->transfer_cb = NULL;
    cb(g, g->transfer_ctx);
}

int group_transfer(struct group *g, group_transfer_cb cb, void *ctx)
{
    ASSERT(cb != NULL);
    if (g->state != GROUP_RUNNING || raft_state(&g->raft) != RAFT_LEADER || g->o.voter_count < 2) {
        return USHER_NOT_LEADER;
    }
    if (g->transfer_out) {
        return USHER_BUSY;
    }
    g->transfer.data = g;
    g->transfer_cb = cb;
    g->transfer_ctx = ctx;
    /* The target campaigns as soon as it has caught up, without waiting for
     * an election timeout: the lease ends here for the rest of this role. */
    g->lease_floor_ns = UINT64_MAX;
    /* 0: raft picks the voter whose log matches best. */
    if (raft_transfer(&g->raft, &g->transfer, 0, on_transfer_done) != 0) {
        g->transfer_cb = NULL;
        return USHER_NOT_LEADER; /* no voter to hand to, or not leader after all */
    }
    g->transfer_out = true;
    return 0;
}

static uint8_t proto_role(int raft_role)
{
    switch (raft_role) {
    case RAFT_LEADER:
        return PROTO_ROLE_LEADER;
    case RAFT_CANDIDATE:
        return PROTO_ROLE_CANDIDATE;
    case RAFT_FOLLOWER:
        return PROTO_ROLE_FOLLOWER;
    default:
        return PROTO_ROLE_UNAVAILABLE;
    }
}

void group_status(struct group *g, struct proto_shard_status *out)
{
    memset(out, 0, sizeof(*out));
    out->shard = g->o.shard;
    if (g->state != GROUP_RUNNING) {
        return;
    }
    out->role = proto_role(raft_state(&g->raft));
    out->term = g->raft.current_term;
    out->commit_index = g->raft.commit_index;
    out->applied_index = raft_last_applied(&g->raft);
    raft_id leader = 0;
    const char *address = NULL;
    raft_leader(&g->raft, &leader, &address);
    out->leader_id = leader;
    uint64_t ids[USHER_SHARD_EVENTS_MAX];
    uint32_t n = 0;
    if (inv_event_list(g->inv, 0, ids, USHER_SHARD_EVENTS_MAX, &n) == 0) {
        out->events = n; /* a failed read leaves 0: status is informative */
    }
}

/* ---- Close ---- */

/* Runs once raft and the group's handles are closed: the store is synced
 * and closed, then the marker says so. */
static void close_maybe_finish(struct group *g)
{
    if (!g->raft_closed || g->handles_open > 0) {
        return;
    }
    ASSERT(g->reads_len == 0);
    batch_close(&g->batch);
    g->batch_inited = false;
    inv_close(g->inv); /* syncs the store */
    g->inv = NULL;
    marker_write(g);
    state_move(g, GROUP_CLOSED);
    if (g->close_cb != NULL) {
        g->close_cb(g, g->close_ctx);
    }
}

static void on_handle_closed(uv_handle_t *h)
{
    struct group *g = h->data;
    ASSERT(g->handles_open > 0);
    g->handles_open--;
    close_maybe_finish(g);
}

static void on_raft_closed(struct raft *r)
{
    struct group *g = r->data;
    ASSERT(!g->raft_closed);
    g->raft_closed = true;
    close_maybe_finish(g);
}

/* The last steps of a close: the group's handles, then raft. */
static void close_raft(struct group *g, bool started)
{
    if (started) {
        uv_close((uv_handle_t *)&g->prepare, on_handle_closed);
        uv_close((uv_handle_t *)&g->sweep_timer, on_handle_closed);
    }
    /* Entries and barriers in flight are answered inside raft_close with
     * LEADERSHIPLOST (RAFT-NOTES pitfall 14): entries NOT_LEADER (they may
     * be in the log), barriers nothing more. */
    raft_close(&g->raft, on_raft_closed);
}

void group_close(struct group *g, group_close_cb cb, void *ctx)
{
    ASSERT(g->state == GROUP_CREATED || g->state == GROUP_RUNNING);
    bool started = g->state == GROUP_RUNNING;
    state_move(g, GROUP_CLOSING);
    g->close_cb = cb;
    g->close_ctx = ctx;
    if (g->role != GROUP_ROLE_IDLE) {
        role_move(g, GROUP_ROLE_IDLE);
    }
    batch_fail(&g->batch, USHER_SHUTTING_DOWN);
    reads_fail(g, USHER_SHUTTING_DOWN);
    if (started && fsm_snapshot_busy(&g->fsm)) {
        /* A snapshot is being written on the thread pool from a read txn
         * of the store: raft and the store stay open until its finalize;
         * the per-turn hook closes the rest then. */
        g->close_waits_snapshot = true;
        return;
    }
    close_raft(g, started);
}

void group_destroy(struct group *g)
{
    ASSERT(g->state == GROUP_CLOSED);
    ASSERT(g->inv == NULL);
    raft_uv_close(&g->io.io);
    mem_free(g->reads);
    mem_free(g);
}
