/*
 * The raft_fsm glue of a shard group (see fsm.h for the libraft facts it
 * relies on).
 *
 * Entries are padded to 8 bytes by batch.c (raft_uv needs entry lengths
 * that are multiples of 8: docs/RAFT.md pitfall 1); the padding is stripped
 * here with codec_batch_framed_length() before the batch is decoded.
 */
#include "fsm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "assertion.h"
#include "buf.h"
#include "codec.h"
#include "err.h"
#include "mem.h"

/* Bytes of a store snapshot's header up to its applied index
 * (docs/STATE.md "Snapshot": magic 8 | version 4 | tables 4 | index 8). */
#define SNAPSHOT_MAGIC_BYTES 8u

/*
 * The log index of the entry being applied. libraft 0.15 passes none:
 * last_applied is advanced only after each apply (src/replication.c
 * 1581-1613), so the entry is the one after it. The only place that relies
 * on this ordering; batch.c checks it against raft_apply's own index.
 */
static uint64_t entry_index(struct fsm *f)
{
    return (uint64_t)raft_last_applied(f->raft) + 1u;
}

/* The batch's own length inside a padded entry; the whole length when it
 * is not ours to trim (the decoder then reports what is wrong). */
static size_t unpadded_len(const struct raft_buffer *buf)
{
    size_t exact = 0;
    if (codec_batch_framed_length(buf->base, buf->len, &exact) != 0) {
        return buf->len;
    }
    ASSERT(exact <= buf->len);
    if (buf->len - exact >= 8u) {
        return buf->len;
    }
    const uint8_t *pad = (const uint8_t *)buf->base + exact;
    for (size_t i = 0; i < buf->len - exact; i++) {
        if (pad[i] != 0) {
            return buf->len;
        }
    }
    return exact;
}

/* A storage failure in apply is fatal (STYLE.md 4.7): the store cannot be
 * trusted past this entry, and returning non-zero would retry the same
 * entry for ever. The replica is rebuilt from the Raft log at restart (no
 * clean marker: docs/RAFT.md "Restart"). */
_Noreturn static void apply_fatal(const struct fsm *f, uint64_t index, int rc)
{
    (void)fprintf(stderr,
                  "{\"level\":\"fatal\",\"msg\":\"apply failed\",\"shard\":%u,"
                  "\"index\":%llu,\"error\":\"%s\"}\n",
                  f->shard, (unsigned long long)index, err_name(rc));
    abort();
}

static int fsm_apply(struct raft_fsm *rf, const struct raft_buffer *buf, void **result)
{
    struct fsm *f = rf->data;
    ASSERT(f != NULL);
    uint64_t index = entry_index(f);
    uint32_t n = 0;
    int decode_status = 0;
    int rc = inv_apply_encoded(f->inv, index, buf->base, unpadded_len(buf), f->out.results, &n,
                               &decode_status);
    if (rc == USHER_STALE_INDEX) {
        /* Replayed at start: a store kept from a clean shutdown has it. */
        ASSERT(f->store_kept);
        ASSERT(index <= inv_applied_index(f->inv));
        f->counters.skipped++;
        *result = NULL;
        return 0;
    }
    if (rc != 0) {
        apply_fatal(f, index, rc);
    }
    ASSERT(inv_applied_index(f->inv) == index);
    ASSERT(n <= USHER_BATCH_CMDS_MAX);
    f->out.index = index;
    f->out.decode_status = decode_status;
    f->out.count = n;
    f->counters.applied++;
    if (decode_status != 0) {
        f->counters.undecodable++;
    }
    *result = &f->out;
    return 0;
}

/* Snapshots are taken in three steps (FSM version 3, RAFT-NOTES §1.1):
 *
 *   snapshot()           loop   open a read txn fixed at the applied index
 *   snapshot_async()     pool   serialise it (the loop keeps applying)
 *   snapshot_finalize()  loop   free the bytes, close the txn
 *
 * raft calls finalize after every successful snapshot(), whatever happens
 * next (libraft 0.15 src/replication.c takeSnapshot*). The pool thread
 * touches only the snapshot's txn, its buffer and the async_* fields,
 * which the loop reads in finalize, after the work has ended. */
static int fsm_snapshot_async(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs);

static int fsm_snapshot(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct fsm *f = rf->data;
    ASSERT(f->snap == NULL);
    ASSERT(f->snapshot_buf.base == NULL);
    int rc = inv_snapshot_begin(f->inv, &f->snap);
    if (rc != 0) {
        f->snap = NULL;
        return rc == USHER_NOMEM ? RAFT_NOMEM : RAFT_IOERR; /* raft retries later */
    }
    /* The txn's index may differ from raft's last_applied: behind by the
     * barrier and configuration entries raft applies without the fsm, ahead
     * while raft replays entries a kept store already has. Both are
     * restored correctly (fsm_restore, and fsm_apply's STALE_INDEX skip). */
    *bufs = NULL;
    *n_bufs = 0;
    f->async_us = 0;
    f->async_bytes = 0;
    if (f->async) {
        return 0;
    }
    /* Synchronous mode: the bytes now, on this thread. */
    rc = fsm_snapshot_async(rf, bufs, n_bufs);
    if (rc != 0) {
        inv_snapshot_end(f->snap); /* raft calls no finalize after a failure */
        f->snap = NULL;
    }
    return rc;
}

static int fsm_snapshot_async(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct fsm *f = rf->data;
    ASSERT(f->snap != NULL);
    uint8_t *data = NULL;
    size_t len = 0;
    uint64_t start_ns = uv_hrtime();
    int rc = inv_snapshot_write(f->snap, &data, &len);
    f->async_us = (uv_hrtime() - start_ns) / 1000u;
    if (rc != 0) {
        return rc == USHER_NOMEM ? RAFT_NOMEM : RAFT_IOERR;
    }
    ASSERT(len > 0);
    f->async_bytes = len;
    f->snapshot_buf.base = data;
    f->snapshot_buf.len = len;
    *bufs = &f->snapshot_buf;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *rf, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct fsm *f = rf->data;
    ASSERT(*bufs == NULL || *bufs == &f->snapshot_buf);
    if (f->snapshot_buf.base != NULL) {
        f->counters.snapshots++;
        f->counters.snapshot_last_us = f->async_us;
        f->counters.snapshot_last_bytes = f->async_bytes;
    }
    mem_free(f->snapshot_buf.base);
    f->snapshot_buf.base = NULL;
    f->snapshot_buf.len = 0;
    inv_snapshot_end(f->snap);
    f->snap = NULL;
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/* Reads the applied index from a snapshot's header; false when the buffer
 * is too short or not a store snapshot (inv_snapshot_restore() checks the
 * rest). The header layout is docs/STATE.md's; see the report of issue 3
 * for moving this peek into inv.h. */
static bool snapshot_index_peek(const struct raft_buffer *buf, uint64_t *index)
{
    static const uint8_t magic[SNAPSHOT_MAGIC_BYTES] = { 'U', 'S', 'H', 'R', 'S', 'N', 'A', 'P' };
    struct buf_reader r;
    buf_reader_init(&r, buf->base, buf->len);
    const uint8_t *m = buf_read_bytes(&r, SNAPSHOT_MAGIC_BYTES);
    (void)buf_read_u32(&r); /* format version */
    (void)buf_read_u32(&r); /* table count */
    uint64_t v = buf_read_u64(&r);
    if (!r.ok || memcmp(m, magic, sizeof(magic)) != 0) {
        return false;
    }
    *index = v;
    return true;
}

static int fsm_restore(struct raft_fsm *rf, struct raft_buffer *buf)
{
    struct fsm *f = rf->data;
    uint64_t index = 0;
    uint64_t applied = inv_applied_index(f->inv);
    if (f->store_kept && snapshot_index_peek(buf, &index) && index <= applied) {
        /* The kept store already holds this state and more: the same log
         * made both. Raft replays from the snapshot on; fsm_apply skips
         * what the store has. */
        f->counters.restores_skipped++;
        raft_free(buf->base);
        return 0;
    }
    uint64_t start_ns = uv_hrtime();
    int rc = inv_snapshot_restore(f->inv, buf->base, buf->len);
    f->counters.restore_last_us = (uv_hrtime() - start_ns) / 1000u;
    if (rc == USHER_STORAGE) {
        return RAFT_IOERR; /* raft frees buf; raft_start fails with this */
    }
    if (rc != 0) {
        return RAFT_CORRUPT; /* a stream the store refuses: nothing changed */
    }
    f->counters.restores_loaded++;
    raft_free(buf->base);
    return 0;
}

void fsm_init(struct fsm *f, struct raft *r, struct inv *inv, uint32_t shard, bool store_kept,
              bool async_snapshots)
{
    ASSERT(r != NULL);
    ASSERT(inv != NULL);
    memset(f, 0, sizeof(*f));
    f->raft = r;
    f->inv = inv;
    f->shard = shard;
    f->store_kept = store_kept;
    f->async = async_snapshots;
    /* Version 3: the export is serialised on the thread pool; raft_uv
     * must say io.version = 2 for raft_init to accept it (group.c forces
     * it, RAFT-NOTES §1.1). Version 2: synchronous. snapshot_finalize
     * frees the export either way. */
    f->raft_fsm.version = async_snapshots ? 3 : 2;
    f->raft_fsm.data = f;
    f->raft_fsm.apply = fsm_apply;
    f->raft_fsm.snapshot = fsm_snapshot;
    f->raft_fsm.restore = fsm_restore;
    f->raft_fsm.snapshot_finalize = fsm_snapshot_finalize;
    f->raft_fsm.snapshot_async = async_snapshots ? fsm_snapshot_async : NULL;
}
