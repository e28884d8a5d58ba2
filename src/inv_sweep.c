/*
 * The sweep: expires holds whose expiry passed and purges records whose
 * retention ended, in time order, at most cmd.max items per command, so that
 * a mass expiry at one instant cannot stall a shard (issue 2).
 *
 * Two queues, both keyed by time:
 *   expiry       (expires_at, hold) for active holds: expire it;
 *                (ended_at + window, hold) for ended ones: delete the record.
 *   idem_expiry  (created_at, seq): delete the idempotency record once the
 *                window passed (unless a newer record replaced it).
 */
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "inv_int.h"

/* Reads the first key of a time-keyed table: its time and second half. */
static int first_due(struct inv_txn *t, enum store_table table, uint64_t *time, uint64_t *second,
                     uint8_t *value, bool *found)
{
    struct store_cursor c;
    int rc = store_cursor_open(&t->st, table, &c);
    if (rc != 0) {
        return rc;
    }
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    rc = store_cursor_seek(&c, NULL, 0, &k, &kl, &v, &vl, found);
    if (rc == 0 && *found) {
        if (kl != 16 || (value != NULL && vl != 16)) {
            rc = USHER_STORAGE;
        } else {
            *time = buf_get_be64(k);
            *second = buf_get_be64((const uint8_t *)k + 8);
            if (value != NULL) {
                memcpy(value, v, 16);
            }
        }
    }
    store_cursor_close(&c);
    return rc;
}

/* Handles the first expiry key: expire the active hold, or purge an ended one. */
static int sweep_hold(struct inv_txn *t, uint64_t time, uint64_t hold_id)
{
    struct hold_rec h;
    bool found = false;
    int rc = inv_hold_load(&t->st, hold_id, &h, &found);
    if (rc != 0) {
        return rc;
    }
    if (!found) {
        return USHER_STORAGE; /* every expiry key has its hold */
    }
    if (h.state == INV_HOLD_ACTIVE) {
        ASSERT(h.expires_at_ms == time);
        return inv_hold_expire(t, hold_id, &h);
    }
    ASSERT(time == h.ended_at_ms + t->inv->idem_window_ms);
    uint8_t key[16];
    inv_key_u64_u64(key, time, hold_id);
    rc = store_del(&t->st, STORE_EXPIRY, key, sizeof(key), NULL);
    if (rc != 0) {
        return rc;
    }
    inv_key_u64(key, hold_id);
    return store_del(&t->st, STORE_HOLDS, key, 8, NULL);
}

/* Deletes the first idempotency-expiry key and, unless a newer command
 * reused the key (other seq), its record. */
static int sweep_idem(struct inv_txn *t, uint64_t created, uint64_t seq, const uint8_t *idem_key)
{
    uint8_t key[16];
    inv_key_u64_u64(key, created, seq);
    int rc = store_del(&t->st, STORE_IDEM_EXPIRY, key, sizeof(key), NULL);
    if (rc != 0) {
        return rc;
    }
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    rc = store_get(&t->st, STORE_IDEM, idem_key, 16, &v, &len, &found);
    if (rc != 0 || !found) {
        return rc;
    }
    struct idem_rec rec;
    if (len < IDEM_REC_HEAD) {
        return USHER_STORAGE;
    }
    memcpy(&rec, v, IDEM_REC_HEAD);
    if (rec.seq != seq) {
        return 0;
    }
    return store_del(&t->st, STORE_IDEM, idem_key, 16, NULL);
}

int inv_sweep_apply(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    uint32_t max = cmd->u.sweep.max;
    if (max == 0 || max > USHER_SWEEP_MAX) {
        res->status = USHER_BAD_REQUEST;
        return 0;
    }
    uint32_t done = 0;
    bool due_holds = true;
    bool due_idem = true;
    int rc = 0;
    while (rc == 0 && (due_holds || due_idem)) {
        uint64_t time = 0;
        uint64_t second = 0;
        bool found = false;
        uint8_t idem_key[16];
        if (due_holds) {
            rc = first_due(t, STORE_EXPIRY, &time, &second, NULL, &found);
            due_holds = rc == 0 && found && time <= t->now;
            if (due_holds && done < max) {
                rc = sweep_hold(t, time, second);
                done++;
                continue;
            }
        }
        if (due_idem && rc == 0) {
            rc = first_due(t, STORE_IDEM_EXPIRY, &time, &second, idem_key, &found);
            due_idem = rc == 0 && found && time + t->inv->idem_window_ms <= t->now;
            if (due_idem && done < max) {
                rc = sweep_idem(t, time, second, idem_key);
                done++;
                continue;
            }
        }
        if (done == max) {
            break;
        }
    }
    ASSERT(done <= max);
    res->swept = done;
    res->more = (uint8_t)(due_holds || due_idem);
    return rc;
}
