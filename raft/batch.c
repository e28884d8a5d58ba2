/*
 * Group commit (see batch.h).
 *
 * Entry layout (codec.h "Batch"), padded for raft_uv:
 *
 *   | header 16 | u32 len | cmd | u32 len | cmd | ... | 0-7 zero bytes |
 *   '--------------- codec_batch_framed_length() ------'
 */
#include "batch.h"

#include <assert.h>
#include <string.h>
#include <uv.h>

#include "assertion.h"
#include "codec.h"
#include "fsm.h"
#include "limits.h"
#include "mem.h"

/* Bytes of a command's length prefix inside a batch. */
#define CMD_PREFIX_BYTES 4u

static_assert((BATCH_KEY_SLOTS & (BATCH_KEY_SLOTS - 1u)) == 0, "a power of two");

static size_t pad8(size_t n)
{
    return (n + 7u) & ~(size_t)7u;
}

int batch_init(struct batch *b, struct raft *r, const struct batch_options *o)
{
    ASSERT(o->queue_max > 0);
    ASSERT(o->cmds_max > 0);
    ASSERT(o->cmds_max <= USHER_BATCH_CMDS_MAX);
    ASSERT(o->in_flight_max > 0);
    ASSERT(o->entry_bytes_max % 8u == 0);
    ASSERT(o->entry_bytes_max <= USHER_BATCH_BYTES_MAX);
    /* One command of any allowed size always fits an entry of its own. */
    ASSERT(o->entry_bytes_max >=
           pad8(CODEC_BATCH_HEADER_BYTES + CMD_PREFIX_BYTES + USHER_CMD_BYTES_MAX));
    memset(b, 0, sizeof(*b));
    b->raft = r;
    b->o = *o;
    b->queue = mem_calloc(o->queue_max, sizeof(*b->queue));
    b->entries = mem_calloc(o->in_flight_max, sizeof(*b->entries));
    b->waiter_slots = mem_calloc((size_t)o->in_flight_max * o->cmds_max, sizeof(*b->waiter_slots));
    b->keys = mem_calloc(BATCH_KEY_SLOTS, sizeof(*b->keys));
    if (b->queue == NULL || b->entries == NULL || b->waiter_slots == NULL || b->keys == NULL) {
        mem_free(b->queue);
        mem_free(b->entries);
        mem_free(b->waiter_slots);
        mem_free(b->keys);
        return USHER_NOMEM;
    }
    /* Every command counted at once fits a counter. */
    ASSERT((uint64_t)o->queue_max + (uint64_t)o->in_flight_max * o->cmds_max <= UINT32_MAX);
    for (uint32_t i = 0; i < o->in_flight_max; i++) {
        b->entries[i].batch = b;
        b->entries[i].waiters = &b->waiter_slots[(size_t)i * o->cmds_max];
    }
    return 0;
}

void batch_close(struct batch *b)
{
    ASSERT(b->queue_len == 0);
    ASSERT(b->in_flight == 0);
    mem_free(b->queue);
    mem_free(b->entries);
    mem_free(b->waiter_slots);
    mem_free(b->keys);
    b->queue = NULL;
    b->entries = NULL;
    b->waiter_slots = NULL;
    b->keys = NULL;
}

static uint32_t *key_slot(const struct batch *b, uint64_t key)
{
    /* The key is a hash already (group_key()): its low bits index. */
    return &b->keys[key & (BATCH_KEY_SLOTS - 1u)];
}

void batch_confirm(struct batch *b, uint64_t proposed_ns)
{
    if (proposed_ns > b->confirmed_ns) {
        b->confirmed_ns = proposed_ns;
    }
}

bool batch_key_busy(const struct batch *b, uint64_t key)
{
    ASSERT(key != 0);
    return *key_slot(b, key) != 0;
}

/* Answers one waiter: its key stops counting first, so a callback that
 * asks batch_key_busy() sees it gone. */
static void waiter_call(struct batch *b, const struct batch_waiter *w, int status,
                        const struct cmd_result *result)
{
    if (w->key != 0) {
        uint32_t *slot = key_slot(b, w->key);
        ASSERT(*slot > 0);
        (*slot)--;
    }
    w->cb(w->ctx, status, result);
}

uint64_t batch_stamp(uint64_t previous_ms, uint64_t wall_ms)
{
    return wall_ms > previous_ms ? wall_ms : previous_ms;
}

void batch_stamp_floor(struct batch *b, uint64_t floor_ms)
{
    b->stamp_ms = batch_stamp(b->stamp_ms, floor_ms);
}

int batch_push(struct batch *b, const uint8_t *cmd, size_t len, uint64_t key, group_submit_cb cb,
               void *ctx)
{
    ASSERT(cb != NULL);
    if (len == 0 || len > USHER_CMD_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    if (b->queue_len == b->o.queue_max) {
        return USHER_BUSY;
    }
    uint8_t *copy = mem_alloc(len);
    if (copy == NULL) {
        return USHER_BUSY; /* memory is a limit like the queue (STYLE.md 5.4) */
    }
    memcpy(copy, cmd, len);
    uint32_t at = (b->queue_head + b->queue_len) % b->o.queue_max;
    b->queue[at] = (struct batch_cmd){ .bytes = copy, .len = len, .waiter = { cb, ctx, key } };
    b->queue_len++;
    if (key != 0) {
        uint32_t *slot = key_slot(b, key);
        ASSERT(*slot < UINT32_MAX);
        (*slot)++;
    }
    return 0;
}

/* Removes the oldest queued command and returns who waits for it. */
static struct batch_waiter queue_shift(struct batch *b)
{
    ASSERT(b->queue_len > 0);
    struct batch_cmd *c = &b->queue[b->queue_head];
    struct batch_waiter w = c->waiter;
    mem_free(c->bytes);
    *c = (struct batch_cmd){ 0 };
    b->queue_head = (b->queue_head + 1) % b->o.queue_max;
    b->queue_len--;
    return w;
}

/* Answers the n oldest queued commands with status. Bounded by n: a
 * callback that queues again is not answered here. */
static void queue_answer(struct batch *b, uint32_t n, int status)
{
    ASSERT(n <= b->queue_len);
    for (uint32_t i = 0; i < n; i++) {
        struct batch_waiter w = queue_shift(b);
        waiter_call(b, &w, status, NULL);
    }
}

void batch_fail(struct batch *b, int status)
{
    ASSERT(status != 0);
    queue_answer(b, b->queue_len, status);
}

/* How many queued commands the next entry takes, and its unpadded bytes. */
static uint32_t next_count(const struct batch *b, size_t *bytes)
{
    uint32_t n = 0;
    size_t used = CODEC_BATCH_HEADER_BYTES;
    while (n < b->queue_len && n < b->o.cmds_max) {
        const struct batch_cmd *c = &b->queue[(b->queue_head + n) % b->o.queue_max];
        if (pad8(used + CMD_PREFIX_BYTES + c->len) > b->o.entry_bytes_max) {
            break;
        }
        used += CMD_PREFIX_BYTES + c->len;
        n++;
    }
    *bytes = used;
    return n;
}

/* Writes the n oldest queued commands as a batch stamped stamp_ms into buf
 * (bytes of batch, then zeros up to padded) and copies their waiters. */
static void entry_fill(struct batch *b, struct batch_entry *e, uint8_t *buf, size_t bytes,
                       size_t padded, uint32_t n, uint64_t stamp_ms)
{
    ASSERT(n <= USHER_BATCH_CMDS_MAX);
    codec_batch_header_encode(buf, (uint16_t)n, stamp_ms);
    size_t used = CODEC_BATCH_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        const struct batch_cmd *c = &b->queue[(b->queue_head + i) % b->o.queue_max];
        int rc = codec_batch_append(buf, bytes, &used, c->bytes, c->len);
        ASSERT(rc == 0); /* sized by next_count() */
        e->waiters[i] = c->waiter;
    }
    ASSERT(used == bytes);
    memset(buf + bytes, 0, padded - bytes);
    e->count = n;
}

/* Hands each command of an applied entry its own result. */
static void entry_answer(struct batch *b, const struct batch_entry *e, const struct fsm_output *out)
{
    if (out->decode_status != 0) {
        /* Applied as an empty batch: none of its commands happened. Only a
         * command that does not decode gets here (group.h: submit needs
         * bytes codec_cmd_decode() accepts). */
        for (uint32_t i = 0; i < e->count; i++) {
            waiter_call(b, &e->waiters[i], out->decode_status, NULL);
        }
        return;
    }
    ASSERT(out->count == e->count);
    for (uint32_t i = 0; i < e->count; i++) {
        waiter_call(b, &e->waiters[i], 0, &out->results[i]);
    }
}

/* raft_apply callback: applied (status 0, result = the fsm's output), or
 * lost (LEADERSHIPLOST, also fired inside raft_close: RAFT-NOTES §1.2). */
static void on_applied(struct raft_apply *req, int status, void *result)
{
    struct batch_entry *e = req->data;
    struct batch *b = e->batch;
    ASSERT(b->in_flight > 0);
    ASSERT(e == &b->entries[b->entries_head]); /* raft answers requests in log order */
    b->entries_head = (b->entries_head + 1) % b->o.in_flight_max;
    b->in_flight--;
    const struct fsm_output *out = result;
    if (status == 0 && out != NULL) {
        /* The fsm's index (raft_last_applied + 1) is the entry's: the
         * undocumented ordering of fsm.c, checked on every leader entry. */
        ASSERT(out->index == req->index);
        batch_confirm(b, e->proposed_ns);
        entry_answer(b, e, out);
        return;
    }
    /* Ambiguous: the entry may still commit. NOT_LEADER with no result, so
     * the client retries with the same idempotency key (group.h). */
    b->counters.lost += e->count;
    for (uint32_t i = 0; i < e->count; i++) {
        waiter_call(b, &e->waiters[i], USHER_NOT_LEADER, NULL);
    }
}

/* Closes one entry from the head of the queue and proposes it. Returns 0,
 * NOMEM (nothing changed: retried next turn), NOT_LEADER (nothing changed),
 * or BUSY (raft refused otherwise; the entry's commands were answered). */
static int propose_one(struct batch *b, uint64_t wall_ms)
{
    size_t bytes = 0;
    uint32_t n = next_count(b, &bytes);
    ASSERT(n > 0);
    size_t padded = pad8(bytes);
    uint8_t *buf = raft_malloc(padded); /* raft_apply needs raft's heap */
    if (buf == NULL) {
        return USHER_NOMEM;
    }
    uint64_t stamp = batch_stamp(b->stamp_ms, wall_ms);
    uint32_t slot = (b->entries_head + b->in_flight) % b->o.in_flight_max;
    struct batch_entry *e = &b->entries[slot];
    entry_fill(b, e, buf, bytes, padded, n, stamp);
    e->req.data = e;
    struct raft_buffer rb = { .base = buf, .len = padded };
    b->in_flight++;
    e->proposed_ns = uv_hrtime(); /* before raft sends anything of it */
    int rv = raft_apply(b->raft, &e->req, &rb, 1, on_applied);
    if (rv != 0) {
        b->in_flight--;
        raft_free(buf); /* raft takes the buffer only on success */
        if (rv == RAFT_NOTLEADER) {
            return USHER_NOT_LEADER;
        }
        queue_answer(b, n, USHER_BUSY); /* not proposed: a definite "no" */
        return USHER_BUSY;
    }
    b->stamp_ms = stamp;
    for (uint32_t i = 0; i < n; i++) {
        (void)queue_shift(b); /* the entry's waiters hold the callbacks now */
    }
    b->counters.entries++;
    b->counters.commands += n;
    return 0;
}

int batch_flush(struct batch *b, uint64_t wall_ms)
{
    while (b->queue_len > 0 && b->in_flight < b->o.in_flight_max) {
        int rc = propose_one(b, wall_ms);
        if (rc == USHER_NOT_LEADER) {
            return rc;
        }
        if (rc == USHER_NOMEM) {
            return 0; /* the queue waits for the next loop turn */
        }
    }
    return 0;
}
