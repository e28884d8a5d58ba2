/*
 * Group commit (DESIGN.md "Commands", STYLE.md 7.4): commands queue up
 * while earlier entries are in flight; once per loop turn (a uv_prepare
 * hook) the queue is closed into entries of at most batch_cmds_max commands
 * and USHER_BATCH_BYTES_MAX bytes, with at most entries_in_flight_max
 * entries proposed and not yet applied. So throughput grows with load while
 * a lone request still goes out in the same loop turn.
 *
 * Each entry is a batch (codec.h) stamped with the leader's time, never
 * below the previous stamp (DESIGN guarantee 3; the state machine also keeps
 * time monotone across leaders).
 */
#include <string.h>
#include <time.h>

#include "assertion.h"
#include "codec.h"
#include "group_int.h"
#include "mem.h"

int batch_init(struct group *g)
{
    g->queue = mem_calloc(g->o.queue_max, sizeof(*g->queue));
    return g->queue == NULL ? USHER_NOMEM : 0;
}

void batch_fail_queued(struct group *g, int status)
{
    while (g->queue_len > 0) {
        struct group_queued *q = &g->queue[g->queue_head];
        struct group_waiter w = q->w;
        mem_free(q->bytes);
        q->bytes = NULL;
        g->queue_head = (g->queue_head + 1) % g->o.queue_max;
        g->queue_len--;
        if (w.submit_cb != NULL) {
            w.submit_cb(w.ctx, status, NULL);
        }
    }
}

void batch_close(struct group *g)
{
    ASSERT(g->queue_len == 0);
    mem_free(g->queue);
    g->queue = NULL;
}

uint64_t batch_stamp(uint64_t last_ms, uint64_t wall_ms)
{
    return wall_ms > last_ms ? wall_ms : last_ms;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    (void)clock_gettime(CLOCK_REALTIME, &ts); /* cannot fail for CLOCK_REALTIME */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int group_submit(struct group *g, const uint8_t *cmd, size_t len, group_submit_cb cb, void *ctx)
{
    if (g->state != GROUP_RUNNING) {
        return USHER_SHUTTING_DOWN;
    }
    if (!g->serving) {
        return USHER_NOT_LEADER;
    }
    if (g->queue_len == g->o.queue_max) {
        return USHER_BUSY;
    }
    if (len == 0 || len > USHER_CMD_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    uint8_t *copy = mem_alloc(len);
    if (copy == NULL) {
        return USHER_BUSY;
    }
    memcpy(copy, cmd, len);
    uint32_t at = (g->queue_head + g->queue_len) % g->o.queue_max;
    g->queue[at] =
        (struct group_queued){ .bytes = copy, .len = len, .w = { .submit_cb = cb, .ctx = ctx } };
    g->queue_len++;
    return 0;
}

static void on_applied(struct raft_apply *req, int status, void *result)
{
    struct group_entry *e = (struct group_entry *)req;
    struct group *g = e->g;
    ASSERT(g->entries_in_flight > 0);
    g->entries_in_flight--;
    const struct cmd_result *results = result;
    for (uint32_t i = 0; i < e->count; i++) {
        struct group_waiter w = e->waiters[i];
        if (status == 0 && results != NULL) {
            w.submit_cb(w.ctx, 0, &results[i]);
        } else {
            /* LEADERSHIPLOST is ambiguous: the entry may still commit. The
             * client retries with the same idempotency key (group.h). */
            w.submit_cb(w.ctx, g->state == GROUP_CLOSING ? USHER_SHUTTING_DOWN : USHER_NOT_LEADER,
                        NULL);
        }
    }
    mem_free(e);
}

/* How many queued commands the next entry takes (count and bytes bounds). */
static uint32_t next_count(const struct group *g, size_t *bytes)
{
    uint32_t n = 0;
    size_t used = CODEC_BATCH_HEADER_BYTES;
    while (n < g->queue_len && n < g->o.batch_cmds_max) {
        const struct group_queued *q = &g->queue[(g->queue_head + n) % g->o.queue_max];
        if (used + 4u + q->len > USHER_BATCH_BYTES_MAX) {
            break;
        }
        used += 4u + q->len;
        n++;
    }
    *bytes = used;
    return n;
}

/* Closes one entry from the head of the queue and proposes it. */
static int propose_one(struct group *g)
{
    size_t bytes = 0;
    uint32_t n = next_count(g, &bytes);
    ASSERT(n > 0); /* one command always fits: USHER_CMD_BYTES_MAX < batch bytes */
    struct group_entry *e = mem_alloc(sizeof(*e) + n * sizeof(struct group_waiter));
    /* raft_uv needs entry lengths that are multiples of 8 (libraft 0.15
     * src/uv_segment.c asserts it, compiled out in Debian's build: a shorter
     * entry is written misaligned and the next load drops it and everything
     * after it as corrupt). Pad with zeros; fsm.c strips them. */
    size_t padded = (bytes + 7u) & ~(size_t)7u;
    uint8_t *buf = raft_malloc(padded);
    if (e == NULL || buf == NULL) {
        mem_free(e);
        raft_free(buf);
        return USHER_NOMEM;
    }
    memset(buf + bytes, 0, padded - bytes);
    g->last_stamp_ms = batch_stamp(g->last_stamp_ms, wall_ms());
    codec_batch_header_encode(buf, (uint16_t)n, g->last_stamp_ms);
    size_t used = CODEC_BATCH_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        struct group_queued *q = &g->queue[(g->queue_head + i) % g->o.queue_max];
        int rc = codec_batch_append(buf, bytes, &used, q->bytes, q->len);
        ASSERT(rc == 0); /* sized by next_count() */
        e->waiters[i] = q->w;
    }
    ASSERT(used == bytes);
    e->g = g;
    e->count = n;
    struct raft_buffer rb = { .base = buf, .len = padded };
    int rc = raft_apply(&g->raft, &e->req, &rb, 1, on_applied);
    if (rc != 0) {
        raft_free(buf); /* raft takes the buffer only on success */
        mem_free(e);
        return USHER_NOT_LEADER;
    }
    for (uint32_t i = 0; i < n; i++) {
        struct group_queued *q = &g->queue[g->queue_head];
        mem_free(q->bytes);
        q->bytes = NULL;
        g->queue_head = (g->queue_head + 1) % g->o.queue_max;
    }
    g->queue_len -= n;
    g->entries_in_flight++;
    g->entries_proposed++;
    g->commands_proposed += n;
    return 0;
}

void batch_flush(struct group *g)
{
    while (g->serving && g->queue_len > 0 && g->entries_in_flight < g->o.entries_in_flight_max) {
        int rc = propose_one(g);
        if (rc == USHER_NOT_LEADER) {
            batch_fail_queued(g, USHER_NOT_LEADER);
            return;
        }
        if (rc != 0) {
            return; /* out of memory: try again next turn */
        }
    }
}
