/*
 * The state machine's entry points: open/close, apply a batch, and the
 * idempotency table that wraps every keyed command (DESIGN guarantee 4).
 *
 * Apply of one batch:
 *   begin write txn -> now = max(stamp, previous now) -> for each command:
 *   idempotency lookup (replay or refuse a reused key) -> the command ->
 *   store its result under (client id, key) -> meta -> commit.
 */
#include "inv.h"

#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "codec.h"
#include "inv_int.h"
#include "mem.h"

static const char meta_key[] = "state";

void inv_key_u64(uint8_t key[8], uint64_t a)
{
    buf_put_be64(key, a);
}

void inv_key_u64_u32(uint8_t key[12], uint64_t a, uint32_t b)
{
    buf_put_be64(key, a);
    buf_put_be32(key + 8, b);
}

void inv_key_u64_u64(uint8_t key[16], uint64_t a, uint64_t b)
{
    buf_put_be64(key, a);
    buf_put_be64(key + 8, b);
}

void inv_key_u64_u64_u64(uint8_t key[24], uint64_t a, uint64_t b, uint64_t c)
{
    buf_put_be64(key, a);
    buf_put_be64(key + 8, b);
    buf_put_be64(key + 16, c);
}

uint64_t inv_id_make(uint64_t index, uint32_t slot)
{
    ASSERT(slot < (1u << USHER_ID_SLOT_BITS));
    ASSERT(index < (1ull << (62u - USHER_ID_SLOT_BITS)));
    return (index << USHER_ID_SLOT_BITS) | slot;
}

int inv_meta_load(struct store_txn *st, struct meta_state *m)
{
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    int rc = store_get(st, STORE_META, meta_key, sizeof(meta_key) - 1, &v, &len, &found);
    if (rc != 0) {
        return rc;
    }
    memset(m, 0, sizeof(*m));
    if (!found) {
        m->format = INV_FORMAT;
        return 0;
    }
    if (len != sizeof(*m)) {
        return USHER_STORAGE;
    }
    memcpy(m, v, sizeof(*m));
    return m->format == INV_FORMAT ? 0 : USHER_STORAGE;
}

int inv_meta_store(struct store_txn *st, const struct meta_state *m)
{
    ASSERT(m->format == INV_FORMAT);
    return store_put(st, STORE_META, meta_key, sizeof(meta_key) - 1, m, sizeof(*m), 0);
}

int inv_open(const char *dir, const struct inv_options *opts, struct inv **out, char *errmsg)
{
    uint64_t window =
        opts->idem_window_ms == 0 ? USHER_IDEM_WINDOW_DEFAULT_MS : opts->idem_window_ms;
    if (window > USHER_IDEM_WINDOW_MAX_MS) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "idempotency window too long: %llu ms",
                       (unsigned long long)window);
        return USHER_INVALID;
    }
    struct inv *inv = mem_calloc(1, sizeof(*inv));
    if (inv == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory");
        return USHER_NOMEM;
    }
    inv->idem_window_ms = window;
    /* Decoded commands are large (a hold carries 64 seats): one scratch
     * array for inv_apply_encoded(), allocated once. */
    inv->batch_cmds = mem_calloc(USHER_BATCH_CMDS_MAX, sizeof(*inv->batch_cmds));
    if (inv->batch_cmds == NULL) {
        mem_free(inv);
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory");
        return USHER_NOMEM;
    }
    uint64_t map = opts->map_bytes == 0 ? USHER_STORE_MAP_BYTES_DEFAULT : opts->map_bytes;
    int rc = store_open(dir, map, opts->durable, &inv->store, errmsg);
    if (rc != 0) {
        mem_free(inv->batch_cmds);
        mem_free(inv);
        return rc;
    }
    struct store_txn st;
    struct meta_state m;
    rc = store_txn_begin(inv->store, false, &st);
    if (rc == 0) {
        rc = inv_meta_load(&st, &m);
        store_txn_abort(&st);
    }
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "read state of store %s: bad or unreadable", dir);
        inv_close(inv);
        return USHER_STORAGE;
    }
    inv->applied_index = m.applied_index;
    inv->now_ms = m.now_ms;
    *out = inv;
    return 0;
}

void inv_close(struct inv *inv)
{
    if (inv == NULL) {
        return;
    }
    inv_event_cache_clear(inv);
    store_close(inv->store);
    mem_free(inv->batch_cmds);
    mem_free(inv);
}

uint64_t inv_applied_index(struct inv *inv)
{
    return inv->applied_index;
}

int inv_usage(struct inv *inv, uint64_t *used_bytes, uint64_t *map_bytes)
{
    return store_usage(inv->store, used_bytes, map_bytes);
}

bool inv_store_is_full(struct inv *inv)
{
    uint64_t used = 0;
    uint64_t map = 0;
    if (inv_usage(inv, &used, &map) != 0) {
        return true;
    }
    return used + USHER_STORE_RESERVE_BYTES > map;
}

uint64_t inv_now(struct inv *inv)
{
    return inv->now_ms;
}

/* Looks up (client, key). Sets *replay when a live record exists: *res gets
 * the stored result (same digest) or IDEM_KEY_REUSED (other digest). */
static int idem_lookup(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res,
                       bool *replay)
{
    uint8_t key[16];
    inv_key_u64_u64(key, cmd->client_id, cmd->idem_key);
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    *replay = false;
    int rc = store_get(&t->st, STORE_IDEM, key, sizeof(key), &v, &len, &found);
    if (rc != 0 || !found) {
        return rc;
    }
    struct idem_rec rec;
    if (len < IDEM_REC_HEAD || len > sizeof(rec)) {
        return USHER_STORAGE;
    }
    memcpy(&rec, v, len);
    if (t->now >= rec.created_at_ms + t->inv->idem_window_ms) {
        return 0; /* past the window: gone, even before a sweep purges it */
    }
    *replay = true;
    memset(res, 0, sizeof(*res));
    if (rec.digest != cmd->digest) {
        res->type = cmd->type;
        res->status = USHER_IDEM_KEY_REUSED;
        return 0;
    }
    if (codec_result_decode(rec.result, rec.result_len, res) != 0) {
        return USHER_STORAGE;
    }
    res->replayed = 1;
    return 0;
}

static int idem_store(struct inv_txn *t, const struct cmd *cmd, const struct cmd_result *res)
{
    struct idem_rec rec;
    memset(&rec, 0, IDEM_REC_HEAD);
    size_t len = 0;
    if (codec_result_encode(res, rec.result, sizeof(rec.result), &len) != 0) {
        UNREACHABLE(); /* USHER_RESULT_BYTES_MAX holds the largest result */
    }
    t->meta.idem_seq++;
    rec.created_at_ms = t->now;
    rec.digest = cmd->digest;
    rec.seq = t->meta.idem_seq;
    rec.result_len = (uint16_t)len;
    uint8_t key[16];
    inv_key_u64_u64(key, cmd->client_id, cmd->idem_key);
    int rc = store_put(&t->st, STORE_IDEM, key, sizeof(key), &rec, IDEM_REC_HEAD + len, 0);
    if (rc != 0) {
        return rc;
    }
    /* (created, seq) only grows, so the expiry index is append-only. */
    uint8_t ekey[16];
    inv_key_u64_u64(ekey, rec.created_at_ms, rec.seq);
    return store_put(&t->st, STORE_IDEM_EXPIRY, ekey, sizeof(ekey), key, sizeof(key),
                     STORE_PUT_APPEND);
}

static int apply_cmd(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                     struct cmd_result *res)
{
    switch ((enum cmd_type)cmd->type) {
    case CMD_EVENT_CREATE:
        return inv_event_apply_create(t, cmd, res);
    case CMD_HOLD_SEATS:
        return inv_hold_apply_seats(t, cmd, slot, res);
    case CMD_HOLD_BEST:
        return inv_hold_apply_best(t, cmd, slot, res);
    case CMD_HOLD_GA:
        return inv_hold_apply_ga(t, cmd, slot, res);
    case CMD_HOLD_EXTEND:
        return inv_hold_apply_extend(t, cmd, res);
    case CMD_HOLD_RELEASE:
        return inv_hold_apply_release(t, cmd, res);
    case CMD_HOLD_BOOK:
        return inv_book_apply(t, cmd, slot, res);
    case CMD_BOOKING_CANCEL:
        return inv_book_apply_cancel(t, cmd, res);
    case CMD_SWEEP:
        return inv_sweep_apply(t, cmd, res);
    }
    res->status = USHER_BAD_REQUEST;
    return 0;
}

static int apply_one(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                     struct cmd_result *res)
{
    memset(res, 0, sizeof(*res));
    res->type = cmd->type;
    bool keyed = cmd_is_keyed(cmd->type);
    if (keyed) {
        if (cmd->client_id == 0 || cmd->idem_key == 0) {
            res->status = USHER_BAD_REQUEST;
            return 0;
        }
        bool replay = false;
        int rc = idem_lookup(t, cmd, res, &replay);
        if (rc != 0 || replay) {
            return rc;
        }
    }
    int rc = apply_cmd(t, cmd, slot, res);
    if (rc != 0) {
        return rc;
    }
    ERGO(res->status != 0, res->id == 0);
    /* Only effects are remembered (docs/STATE.md "Idempotency"): a refused
     * command changed nothing, so its retry may simply run again. */
    return keyed && res->status == 0 ? idem_store(t, cmd, res) : 0;
}

int inv_precheck(struct inv *inv, const struct cmd *cmd, uint64_t now_ms, struct cmd_result *res,
                 bool *decided)
{
    *decided = false;
    if (!cmd_is_keyed(cmd->type) || cmd->client_id == 0 || cmd->idem_key == 0) {
        return 0; /* sweeps, and bad requests the log answers as before */
    }
    struct inv_txn t = { .inv = inv, .index = inv->applied_index + 1 };
    int rc = store_txn_begin(inv->store, false, &t.st);
    if (rc != 0) {
        return rc;
    }
    rc = inv_meta_load(&t.st, &t.meta);
    if (rc == 0) {
        t.now = now_ms > t.meta.now_ms ? now_ms : t.meta.now_ms;
        memset(res, 0, sizeof(*res));
        res->type = cmd->type;
        rc = inv_hold_check(&t, cmd, res);
    }
    /* A new hold the state would grant goes to the log as it is, whether or
     * not its key was used before: the apply looks the key up anyway. So the
     * path every successful hold takes skips the lookup here. A refusal, or
     * any other command, may be a retry whose first answer wins. */
    bool grantable = rc == 0 && res->status == 0 && cmd_is_new_hold(cmd->type);
    if (rc == 0 && !grantable) {
        bool replay = false;
        rc = idem_lookup(&t, cmd, res, &replay); /* leaves *res alone unless replay */
        *decided = rc == 0 && (replay || res->status != 0);
    }
    store_txn_abort(&t.st);
    if (rc != 0) {
        *decided = false;
    }
    return rc;
}

int inv_apply(struct inv *inv, uint64_t index, uint64_t ts_ms, const struct cmd *cmds, uint32_t n,
              struct cmd_result *results)
{
    if (n > USHER_BATCH_CMDS_MAX) {
        return USHER_LIMIT_BATCH;
    }
    if (index <= inv->applied_index) {
        return USHER_STALE_INDEX;
    }
    struct inv_txn t = { .inv = inv, .index = index };
    int rc = store_txn_begin(inv->store, true, &t.st);
    if (rc != 0) {
        return rc;
    }
    rc = inv_meta_load(&t.st, &t.meta);
    if (rc != 0) {
        goto err_after_txn;
    }
    ASSERT(t.meta.applied_index == inv->applied_index);
    t.now = ts_ms > t.meta.now_ms ? ts_ms : t.meta.now_ms;
    for (uint32_t i = 0; i < n; i++) {
        rc = apply_one(&t, &cmds[i], i, &results[i]);
        if (rc != 0) {
            goto err_after_txn;
        }
    }
    t.meta.applied_index = index;
    t.meta.now_ms = t.now;
    rc = inv_meta_store(&t.st, &t.meta);
    if (rc != 0) {
        goto err_after_txn;
    }
    rc = store_txn_commit(&t.st);
    if (rc != 0) {
        inv_event_cache_clear(inv);
        return rc;
    }
    inv->applied_index = index;
    inv->now_ms = t.now;
    return 0;

err_after_txn:
    store_txn_abort(&t.st);
    inv_event_cache_clear(inv);
    return rc;
}

int inv_apply_encoded(struct inv *inv, uint64_t index, const uint8_t *buf, size_t len,
                      struct cmd_result *results, uint32_t *n, int *decode_status)
{
    struct cmd *cmds = inv->batch_cmds;
    uint64_t ts = 0;
    uint32_t count = 0;
    *decode_status = codec_batch_decode(buf, len, &ts, cmds, USHER_BATCH_CMDS_MAX, &count);
    if (*decode_status != 0) {
        count = 0;
        ts = 0;
    }
    int rc = inv_apply(inv, index, ts, cmds, count, results);
    for (uint32_t i = 0; i < count; i++) {
        codec_cmd_release(&cmds[i]);
    }
    *n = count;
    return rc;
}
