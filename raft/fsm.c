/*
 * The raft_fsm of a shard: each committed entry is one batch applied
 * through the state machine (inv_apply_encoded), snapshots are the store's
 * export (RAFT-NOTES §1.1 and §3).
 *
 * - apply gets no index: the entry's index is raft_last_applied() + 1
 *   (verified in RAFT-NOTES; wrapped in entry_index()).
 * - results go to group-owned scratch; the leader's raft_apply callback reads
 *   them right after this apply. Followers' results are dropped by raft.
 * - a non-zero return would stall the apply loop forever, so business
 *   outcomes are in the results and a storage failure aborts the node
 *   (STYLE.md 4.7): the replica recovers from its Raft log.
 * - entries at or below the store's applied index were applied before a
 *   restart (the store keeps its index): they are skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "group_int.h"
#include "mem.h"

static uint64_t entry_index(struct group *g)
{
    return (uint64_t)raft_last_applied(&g->raft) + 1u;
}

/* The batch's own length inside a padded entry: raft_uv requires entry
 * lengths that are multiples of 8 (an assert compiled out of Debian's
 * libraft; a shorter entry is written misaligned and dropped as corrupt on
 * the next load), so batch.c pads with zeros and this strips them. */
static size_t unpadded(const struct raft_buffer *buf)
{
    size_t exact = 0;
    if (codec_batch_framed_length(buf->base, buf->len, &exact) != 0 || buf->len - exact >= 8) {
        return buf->len; /* not ours to trim: the decoder reports it */
    }
    const uint8_t *pad = (const uint8_t *)buf->base + exact;
    for (size_t i = 0; i < buf->len - exact; i++) {
        if (pad[i] != 0) {
            return buf->len;
        }
    }
    return exact;
}

static int fsm_apply(struct raft_fsm *fsm, const struct raft_buffer *buf, void **result)
{
    struct group *g = fsm->data;
    uint64_t index = entry_index(g);
    uint32_t n = 0;
    int decode_status = 0;
    int rc =
        inv_apply_encoded(g->inv, index, buf->base, unpadded(buf), g->results, &n, &decode_status);
    if (rc == USHER_STALE_INDEX) {
        /* Applied before the restart: the store is ahead of raft's replay. */
        ASSERT(index <= inv_applied_index(g->inv));
        *result = NULL;
        return 0;
    }
    if (rc != 0) {
        (void)fprintf(stderr,
                      "{\"level\":\"fatal\",\"msg\":\"apply failed\",\"shard\":%u,"
                      "\"index\":%llu,\"error\":\"%s\"}\n",
                      g->o.shard, (unsigned long long)index, err_name(rc));
        abort();
    }
    ASSERT(inv_applied_index(g->inv) == index);
    /* A batch that does not decode was applied as empty (inv.h): the
     * leader never proposes one, so no callback waits for its results. */
    *result = decode_status == 0 ? g->results : NULL;
    return 0;
}

/* Snapshot: the store's export, one buffer; freed by snapshot_finalize
 * (version 2: raft frees nothing). */
static int fsm_snapshot(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    struct group *g = fsm->data;
    struct raft_buffer *b = mem_alloc(sizeof(*b));
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = b == NULL ? USHER_NOMEM : inv_snapshot_export(g->inv, &data, &len);
    if (rc != 0) {
        mem_free(b);
        return RAFT_NOMEM;
    }
    b->base = data;
    b->len = len;
    *bufs = b;
    *n_bufs = 1;
    return 0;
}

static int fsm_snapshot_finalize(struct raft_fsm *fsm, struct raft_buffer *bufs[], unsigned *n_bufs)
{
    (void)fsm;
    if (*bufs != NULL) {
        for (unsigned i = 0; i < *n_bufs; i++) {
            mem_free((*bufs)[i].base);
        }
        mem_free(*bufs);
    }
    *bufs = NULL;
    *n_bufs = 0;
    return 0;
}

/* The applied index a snapshot stream carries (docs/STATE.md "Snapshot":
 * magic 8 | version 4 | tables 4 | applied index 8). */
static uint64_t snapshot_index(const struct raft_buffer *buf)
{
    uint64_t index = 0;
    if (buf->len >= 24) {
        memcpy(&index, (const uint8_t *)buf->base + 16, sizeof(index));
    }
    return index;
}

static int fsm_restore(struct raft_fsm *fsm, struct raft_buffer *buf)
{
    struct group *g = fsm->data;
    /* A store already at or past the snapshot (kept across a clean restart)
     * needs no load: its state is the same function of the same log. */
    if (snapshot_index(buf) <= inv_applied_index(g->inv) && inv_applied_index(g->inv) > 0) {
        raft_free(buf->base);
        return 0;
    }
    int rc = inv_snapshot_restore(g->inv, buf->base, buf->len);
    if (rc != 0) {
        return RAFT_CORRUPT; /* raft frees the buffer on failure */
    }
    raft_free(buf->base);
    return 0;
}

void fsm_init(struct group *g)
{
    memset(&g->fsm, 0, sizeof(g->fsm));
    g->fsm.version = 2;
    g->fsm.data = g;
    g->fsm.apply = fsm_apply;
    g->fsm.snapshot = fsm_snapshot;
    g->fsm.restore = fsm_restore;
    g->fsm.snapshot_finalize = fsm_snapshot_finalize;
}
