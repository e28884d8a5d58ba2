/*
 * Hold commands: named seats, best available, general admission, extend and
 * release; and the hold record helpers that bookings and sweeps share.
 *
 * Every command checks first and changes after (STYLE.md 3.2): a refused
 * command returns its code in the result and has touched nothing. The one
 * change made on the way to a successful hold is expiring old holds whose
 * expiry passed and whose seats the new hold takes (lazy expiry): the result
 * is the same state a sweep would have made first.
 */
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "inv_int.h"

int inv_hold_load(struct store_txn *st, uint64_t hold_id, struct hold_rec *h, bool *found)
{
    uint8_t key[8];
    inv_key_u64(key, hold_id);
    const void *v = NULL;
    size_t len = 0;
    int rc = store_get(st, STORE_HOLDS, key, sizeof(key), &v, &len, found);
    if (rc != 0 || !*found) {
        return rc;
    }
    if (len < HOLD_REC_HEAD || len > sizeof(*h)) {
        return USHER_STORAGE;
    }
    memset(h, 0, sizeof(*h));
    memcpy(h, v, len);
    if (h->seat_count > USHER_HOLD_SEATS_MAX ||
        len != HOLD_REC_HEAD + (h->ga != 0 ? 0u : sizeof(uint32_t) * h->seat_count)) {
        return USHER_STORAGE;
    }
    return 0;
}

/* Writes a hold record; a new hold's id is above every stored one (ids grow
 * with the log), so it is appended without a search. */
static int hold_put(struct inv_txn *t, uint64_t hold_id, const struct hold_rec *h, unsigned flags)
{
    ASSERT(h->state >= INV_HOLD_ACTIVE && h->state <= INV_HOLD_BOOKED);
    ASSERT(h->seat_count >= 1 && h->seat_count <= USHER_HOLD_SEATS_MAX);
    uint8_t key[8];
    inv_key_u64(key, hold_id);
    size_t len = HOLD_REC_HEAD + (h->ga != 0 ? 0u : sizeof(uint32_t) * h->seat_count);
    return store_put(&t->st, STORE_HOLDS, key, sizeof(key), h, len, flags);
}

int inv_hold_store(struct inv_txn *t, uint64_t hold_id, const struct hold_rec *h)
{
    return hold_put(t, hold_id, h, 0);
}

static int expiry_key_move(struct inv_txn *t, uint64_t hold_id, uint64_t from, uint64_t to)
{
    uint8_t key[16];
    inv_key_u64_u64(key, from, hold_id);
    bool found = false;
    int rc = store_del(&t->st, STORE_EXPIRY, key, sizeof(key), &found);
    if (rc != 0) {
        return rc;
    }
    ASSERT(found);
    inv_key_u64_u64(key, to, hold_id);
    return store_put(&t->st, STORE_EXPIRY, key, sizeof(key), "", 0, 0);
}

int inv_hold_end(struct inv_txn *t, uint64_t hold_id, struct hold_rec *h, uint8_t state,
                 uint8_t kind, uint64_t at_ms)
{
    ASSERT(h->state == INV_HOLD_ACTIVE);
    ASSERT(state != INV_HOLD_ACTIVE);
    int rc = 0;
    if (state != INV_HOLD_BOOKED && h->ga != 0) {
        struct ga_rec g;
        rc = inv_ga_load(&t->st, h->event_id, h->section, &g);
        ASSERT(rc != 0 || g.held >= h->seat_count);
        if (rc == 0) {
            g.held -= h->seat_count;
            rc = inv_ga_store(t, h->event_id, h->section, &g);
        }
        if (rc == 0) {
            rc = inv_journal_note(t, kind, at_ms, hold_id, h->customer_id, h->event_id);
        }
    } else if (state != INV_HOLD_BOOKED) {
        rc = inv_seats_set(t, h->event_id, h->seats, h->seat_count, 0, 0, kind, hold_id,
                           h->customer_id, at_ms);
    }
    if (rc == 0) {
        rc = expiry_key_move(t, hold_id, h->expires_at_ms, at_ms + t->inv->idem_window_ms);
    }
    if (rc == 0) {
        rc = inv_customer_del(t, h->event_id, h->customer_id, hold_id);
    }
    h->state = state;
    h->ended_at_ms = at_ms;
    return rc;
}

int inv_hold_expire(struct inv_txn *t, uint64_t hold_id, struct hold_rec *h)
{
    ASSERT(h->state == INV_HOLD_ACTIVE);
    ASSERT(t->now >= h->expires_at_ms);
    int rc = inv_hold_end(t, hold_id, h, INV_HOLD_EXPIRED, INV_HISTORY_EXPIRE, h->expires_at_ms);
    return rc != 0 ? rc : inv_hold_store(t, hold_id, h);
}

int inv_hold_check_live(struct inv_txn *t, const struct cmd *cmd, uint64_t hold_id,
                        struct hold_rec *h, int *status)
{
    bool found = false;
    int rc = hold_id == 0 ? 0 : inv_hold_load(&t->st, hold_id, h, &found);
    if (rc != 0) {
        return rc;
    }
    if (!found || h->event_id != cmd->event_id) {
        *status = USHER_HOLD_NOT_FOUND;
    } else if (h->customer_id != cmd->customer_id) {
        *status = USHER_NOT_OWNER;
    } else if (h->state == INV_HOLD_RELEASED) {
        *status = USHER_HOLD_RELEASED;
    } else if (h->state == INV_HOLD_BOOKED) {
        *status = USHER_HOLD_BOOKED;
    } else if (h->state == INV_HOLD_EXPIRED || t->now >= h->expires_at_ms) {
        *status = USHER_HOLD_EXPIRED;
    } else {
        *status = 0;
    }
    return 0;
}

/* Seats the customer holds (alive) or has booked in the event, scanning at
 * most INV_CUSTOMER_SCAN_MAX items (past it: *over). */
static int customer_seats(struct inv_txn *t, uint64_t event_id, uint64_t customer_id,
                          uint32_t *seats, bool *over)
{
    uint8_t prefix[24];
    inv_key_u64_u64_u64(prefix, event_id, customer_id, 0);
    struct store_cursor c;
    int rc = store_cursor_open(&t->st, STORE_CUSTOMERS, &c);
    if (rc != 0) {
        return rc;
    }
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    *seats = 0;
    *over = false;
    rc = store_cursor_seek(&c, prefix, sizeof(prefix), &k, &kl, &v, &vl, &found);
    for (uint32_t i = 0; rc == 0 && found && memcmp(k, prefix, 16) == 0; i++) {
        if (i == INV_CUSTOMER_SCAN_MAX || vl != sizeof(struct cust_rec)) {
            *over = i == INV_CUSTOMER_SCAN_MAX;
            rc = *over ? 0 : USHER_STORAGE;
            break;
        }
        struct cust_rec item;
        memcpy(&item, v, sizeof(item));
        if (item.is_booking != 0 || t->now < item.expires_at_ms) {
            *seats += item.count;
        }
        rc = store_cursor_next(&c, &k, &kl, &v, &vl, &found);
    }
    store_cursor_close(&c);
    return rc;
}

/* The rules every new hold shares, without I/O: sale window, TTL, size.
 * Sets *status and *expires_at. */
static void check_hold_rules(const struct inv_txn *t, const struct cmd *cmd, const struct event *e,
                             uint32_t ttl_ms, uint16_t count, int *status, uint64_t *expires_at)
{
    uint32_t ttl = ttl_ms == 0 ? e->hold_ttl_max_ms : ttl_ms;
    *status = 0;
    if (t->now < e->sale_start_ms || t->now >= e->sale_end_ms) {
        *status = USHER_SALE_CLOSED;
    } else if (ttl < e->hold_ttl_min_ms || ttl > e->hold_ttl_max_ms) {
        *status = USHER_TTL_OUT_OF_RANGE;
    } else if (count > e->hold_seats_max) {
        *status = USHER_LIMIT_HOLD_SEATS;
    } else if (cmd->customer_id == 0) {
        *status = USHER_BAD_REQUEST;
    }
    *expires_at = t->now + ttl;
}

/* The customer's seat limit for the event; checked after the seats, so that
 * the common refusal (seat taken) costs no scan. */
static int check_customer_limit(struct inv_txn *t, const struct cmd *cmd, uint16_t count,
                                int *status)
{
    const struct event *e = NULL;
    int rc = inv_event_find(t->inv, &t->st, cmd->event_id, &e);
    if (rc != 0) {
        return rc;
    }
    uint32_t have = 0;
    bool over = false;
    rc = customer_seats(t, e->id, cmd->customer_id, &have, &over);
    if (rc == 0 && (over || have + count > e->customer_seats_max)) {
        *status = USHER_LIMIT_CUSTOMER_SEATS;
    }
    return rc;
}

/* Writes a new hold: record, expiry key, customer item; seats or places. */
static int hold_create(struct inv_txn *t, const struct cmd *cmd, uint32_t slot, struct hold_rec *h,
                       struct cmd_result *res)
{
    uint64_t id = inv_id_make(t->index, slot);
    h->event_id = cmd->event_id;
    h->customer_id = cmd->customer_id;
    h->created_at_ms = t->now;
    h->state = INV_HOLD_ACTIVE;
    int rc = 0;
    if (h->ga == 0) {
        rc = inv_seats_set(t, h->event_id, h->seats, h->seat_count, OWNER_HOLD | id,
                           h->expires_at_ms, INV_HISTORY_HOLD, id, h->customer_id, t->now);
    } else {
        rc = inv_journal_note(t, INV_HISTORY_HOLD, t->now, id, h->customer_id, h->event_id);
    }
    if (rc == 0) {
        rc = hold_put(t, id, h, STORE_PUT_APPEND);
    }
    uint8_t key[16];
    inv_key_u64_u64(key, h->expires_at_ms, id);
    if (rc == 0) {
        rc = store_put(&t->st, STORE_EXPIRY, key, sizeof(key), "", 0, 0);
    }
    struct cust_rec item = { .count = h->seat_count, .expires_at_ms = h->expires_at_ms };
    if (rc == 0) {
        rc = inv_customer_put(t, h->event_id, h->customer_id, id, &item);
    }
    res->id = id;
    res->expires_at_ms = h->expires_at_ms;
    res->seat_count = h->seat_count;
    if (h->ga == 0) {
        memcpy(res->seats, h->seats, sizeof(uint32_t) * h->seat_count);
    }
    return rc;
}

static void sort_seats(uint32_t *seats, uint16_t n)
{
    for (uint16_t i = 1; i < n; i++) {
        uint32_t v = seats[i];
        uint16_t j = i;
        for (; j > 0 && seats[j - 1] > v; j--) {
            seats[j] = seats[j - 1];
        }
        seats[j] = v;
    }
}

/* Checks that every seat is free at now; collects the expired holds that
 * still own some of them (to expire before taking the seats). */
static int seats_check_free(struct inv_txn *t, uint64_t event_id, const uint32_t *seats, uint16_t n,
                            uint64_t *expired, uint16_t *expired_count, int *status)
{
    struct seat_chunk c;
    uint32_t loaded = UINT32_MAX;
    *expired_count = 0;
    for (uint16_t i = 0; i < n; i++) {
        uint32_t chunk = seats[i] / SEATS_PER_CHUNK;
        if (chunk != loaded) {
            int rc = inv_txn_chunk_load(t, event_id, chunk, &c);
            if (rc != 0) {
                return rc;
            }
            loaded = chunk;
        }
        const struct seat_slot *s = &c.slots[seats[i] % SEATS_PER_CHUNK];
        if (!inv_slot_is_free(s, t->now)) {
            *status = USHER_SEAT_TAKEN;
            return 0;
        }
        uint64_t owner = s->owner & OWNER_ID_MASK;
        if (s->owner != 0 && (*expired_count == 0 || expired[*expired_count - 1] != owner)) {
            bool seen = false;
            for (uint16_t j = 0; j < *expired_count; j++) {
                seen = seen || expired[j] == owner;
            }
            if (!seen) {
                expired[(*expired_count)++] = owner;
            }
        }
    }
    *status = 0;
    return 0;
}

static int expire_holds(struct inv_txn *t, const uint64_t *ids, uint16_t n)
{
    for (uint16_t i = 0; i < n; i++) {
        struct hold_rec old;
        bool found = false;
        int rc = inv_hold_load(&t->st, ids[i], &old, &found);
        if (rc != 0) {
            return rc;
        }
        ASSERT(found && old.state == INV_HOLD_ACTIVE);
        rc = inv_hold_expire(t, ids[i], &old);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Takes the seats in h->seats (ascending, in range) if all are free. */
static int hold_seats_take(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                           struct hold_rec *h, struct cmd_result *res)
{
    uint64_t expired[USHER_HOLD_SEATS_MAX];
    uint16_t expired_count = 0;
    int status = 0;
    int rc = seats_check_free(t, cmd->event_id, h->seats, h->seat_count, expired, &expired_count,
                              &status);
    if (rc == 0 && status == 0) {
        rc = check_customer_limit(t, cmd, h->seat_count, &status);
    }
    if (rc != 0 || status != 0) {
        res->status = (uint16_t)status;
        return rc;
    }
    rc = expire_holds(t, expired, expired_count);
    return rc != 0 ? rc : hold_create(t, cmd, slot, h, res);
}

/* Finds the command's event; an unknown event is a refusal (res->status),
 * anything else an error. *e is NULL after a refusal. */
static int event_of(struct inv_txn *t, const struct cmd *cmd, const struct event **e,
                    struct cmd_result *res)
{
    *e = NULL;
    int rc = inv_event_find(t->inv, &t->st, cmd->event_id, e);
    if (rc == USHER_EVENT_NOT_FOUND) {
        res->status = USHER_EVENT_NOT_FOUND;
        *e = NULL;
        return 0;
    }
    return rc;
}

/* The checks of a named-seat hold before its seats are looked at: the
 * event, the seats (sorted into h->seats), the hold rules. Sets res->status
 * to the refusal, or leaves it 0 with h ready for hold_seats_take(). */
static int hold_seats_prepare(struct inv_txn *t, const struct cmd *cmd, struct hold_rec *h,
                              struct cmd_result *res)
{
    memset(h, 0, sizeof(*h));
    const struct event *e = NULL;
    int rc = event_of(t, cmd, &e, res);
    if (rc != 0 || e == NULL) {
        ASSERT(rc != 0 || res->status != 0);
        return rc;
    }
    h->seat_count = cmd->u.hold_seats.seat_count;
    ASSERT(h->seat_count >= 1 && h->seat_count <= USHER_HOLD_SEATS_MAX);
    memcpy(h->seats, cmd->u.hold_seats.seats, sizeof(uint32_t) * h->seat_count);
    sort_seats(h->seats, h->seat_count);
    int status = 0;
    for (uint16_t i = 0; i < h->seat_count && status == 0; i++) {
        if (h->seats[i] >= e->seat_count) {
            status = USHER_NO_SUCH_SEAT;
        } else if (i > 0 && h->seats[i] == h->seats[i - 1]) {
            status = USHER_DUPLICATE_SEAT;
        }
    }
    if (status == 0) {
        check_hold_rules(t, cmd, e, cmd->u.hold_seats.ttl_ms, h->seat_count, &status,
                         &h->expires_at_ms);
    }
    res->status = (uint16_t)status;
    return 0;
}

int inv_hold_apply_seats(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                         struct cmd_result *res)
{
    struct hold_rec h;
    int rc = hold_seats_prepare(t, cmd, &h, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    return hold_seats_take(t, cmd, slot, &h, res);
}

static int hold_seats_check(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    struct hold_rec h;
    int rc = hold_seats_prepare(t, cmd, &h, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    uint64_t expired[USHER_HOLD_SEATS_MAX];
    uint16_t expired_count = 0;
    int status = 0;
    rc =
        seats_check_free(t, cmd->event_id, h.seats, h.seat_count, expired, &expired_count, &status);
    res->status = (uint16_t)status;
    return rc;
}

/* Sets *expired when some active hold may have expired unswept: the
 * earliest key of the expiry table is due. */
static int any_hold_expired(struct inv_txn *t, bool *expired)
{
    struct store_cursor c = { NULL };
    int rc = store_cursor_open(&t->st, STORE_EXPIRY, &c);
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    if (rc == 0) {
        rc = store_cursor_seek(&c, NULL, 0, &k, &kl, &v, &vl, &found);
    }
    store_cursor_close(&c);
    if (rc == 0 && found && kl != 16) {
        return USHER_STORAGE;
    }
    *expired = rc == 0 && found && buf_get_be64(k) <= t->now;
    return rc;
}

/* Marks free[j] for the seats of row r at now. */
static int row_free_seats(struct inv_txn *t, const struct event *e, const struct event_row *r,
                          bool *free_seats)
{
    struct seat_chunk c;
    uint32_t loaded = UINT32_MAX;
    for (uint32_t j = 0; j < r->seat_count; j++) {
        uint32_t seat = r->seat_first + j;
        uint32_t chunk = seat / SEATS_PER_CHUNK;
        if (chunk != loaded) {
            int rc = inv_txn_chunk_load(t, e->id, chunk, &c);
            if (rc != 0) {
                return rc;
            }
            loaded = chunk;
        }
        free_seats[j] = inv_slot_is_free(&c.slots[seat % SEATS_PER_CHUNK], t->now);
    }
    return 0;
}

/* The block of `count` adjacent free seats whose centre is nearest the row's
 * centre, ties to the lower index; returns its first seat offset or -1.
 * Distances are doubled to stay in integers. */
static int32_t row_best_block(const bool *free_seats, uint32_t seat_count, uint16_t count)
{
    int32_t best = -1;
    int64_t best_dist = INT64_MAX;
    uint32_t run = 0;
    for (uint32_t j = 0; j < seat_count; j++) {
        run = free_seats[j] ? run + 1 : 0;
        if (run < count) {
            continue;
        }
        int64_t start = (int64_t)j + 1 - count;
        int64_t dist = 2 * start + count - 1 - ((int64_t)seat_count - 1);
        dist = dist < 0 ? -dist : dist;
        if (dist < best_dist) {
            best_dist = dist;
            best = (int32_t)start;
        }
    }
    return best;
}

/* The checks a hold of a count in a section (best available: seated; general
 * admission: GA) shares: the event, the section and its kind, the hold rules.
 * Sets res->status to the refusal, or leaves it 0 with *e the event and h
 * cleared but for its expiry. */
static int hold_count_rules(struct inv_txn *t, const struct cmd *cmd, uint8_t kind,
                            struct hold_rec *h, const struct event **e, struct cmd_result *res)
{
    memset(h, 0, sizeof(*h));
    int rc = event_of(t, cmd, e, res);
    if (rc != 0 || *e == NULL) {
        ASSERT(rc != 0 || res->status != 0);
        return rc;
    }
    uint16_t section = cmd->u.hold_count.section;
    int status = 0;
    if (section >= (*e)->section_count) {
        status = USHER_NO_SUCH_SECTION;
    } else if ((*e)->sections[section].kind != kind) {
        status = USHER_WRONG_SECTION_KIND;
    } else {
        check_hold_rules(t, cmd, *e, cmd->u.hold_count.ttl_ms, cmd->u.hold_count.count, &status,
                         &h->expires_at_ms);
    }
    res->status = (uint16_t)status;
    return 0;
}

/* Finds the best block of free adjacent seats for a best-available hold,
 * without writes. Sets res->status to the refusal, or leaves it 0 with h
 * holding the block and its expiry, ready for hold_seats_take(). */
static int hold_best_find(struct inv_txn *t, const struct cmd *cmd, struct hold_rec *h,
                          struct cmd_result *res)
{
    const struct event *e = NULL;
    int rc = hold_count_rules(t, cmd, EVENT_SECTION_SEATED, h, &e, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    uint16_t count = cmd->u.hold_count.count;
    const struct event_section *sec = &e->sections[cmd->u.hold_count.section];
    uint16_t *row_free = NULL;
    bool expired = false;
    rc = inv_event_row_free(t->inv, &t->st, e, &row_free);
    if (rc == 0) {
        rc = any_hold_expired(t, &expired);
    }
    if (rc != 0) {
        return rc;
    }
    bool free_seats[USHER_ROW_SEATS_MAX];
    for (uint32_t r = sec->row_first; r < sec->row_first + sec->row_count; r++) {
        const struct event_row *row = &e->rows[r];
        /* Without expired holds, a row with fewer unowned seats than asked
         * cannot have the block: skip it unread (sold-out sections). */
        if (row->seat_count < count || (!expired && row_free[r] < count)) {
            continue;
        }
        rc = row_free_seats(t, e, row, free_seats);
        if (rc != 0) {
            return rc;
        }
        int32_t start = row_best_block(free_seats, row->seat_count, count);
        if (start < 0) {
            continue;
        }
        h->seat_count = count;
        for (uint16_t i = 0; i < count; i++) {
            h->seats[i] = row->seat_first + (uint32_t)start + i;
        }
        res->status = 0;
        return 0;
    }
    res->status = USHER_NO_ADJACENT_SEATS;
    return 0;
}

int inv_hold_apply_best(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                        struct cmd_result *res)
{
    struct hold_rec h;
    int rc = hold_best_find(t, cmd, &h, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    return hold_seats_take(t, cmd, slot, &h, res);
}

/* The checks of a general-admission hold that need no customer scan: the
 * event, the section, the rules and the places left. Sets res->status to
 * the refusal, or leaves it 0 with *g the section's counts and h's expiry. */
static int hold_ga_check(struct inv_txn *t, const struct cmd *cmd, struct hold_rec *h,
                         struct ga_rec *g, struct cmd_result *res)
{
    memset(g, 0, sizeof(*g));
    const struct event *e = NULL;
    int rc = hold_count_rules(t, cmd, EVENT_SECTION_GA, h, &e, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    rc = inv_ga_load(&t->st, e->id, cmd->u.hold_count.section, g);
    if (rc == 0 && (uint64_t)g->held + g->booked + cmd->u.hold_count.count > g->capacity) {
        res->status = USHER_SOLD_OUT;
    }
    return rc;
}

int inv_hold_apply_ga(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                      struct cmd_result *res)
{
    struct hold_rec h;
    struct ga_rec g;
    int rc = hold_ga_check(t, cmd, &h, &g, res);
    if (rc != 0 || res->status != 0) {
        return rc;
    }
    uint16_t count = cmd->u.hold_count.count;
    int status = 0;
    rc = check_customer_limit(t, cmd, count, &status);
    if (rc != 0 || status != 0) {
        res->status = (uint16_t)status;
        return rc;
    }
    g.held += count;
    rc = inv_ga_store(t, cmd->event_id, cmd->u.hold_count.section, &g);
    h.ga = 1;
    h.section = cmd->u.hold_count.section;
    h.seat_count = count;
    return rc != 0 ? rc : hold_create(t, cmd, slot, &h, res);
}

/* Moves an active hold's expiry: its seats, expiry key and customer item. */
static int hold_move_expiry(struct inv_txn *t, uint64_t id, struct hold_rec *h, uint64_t to)
{
    int rc = 0;
    if (h->ga == 0) {
        rc =
            inv_seats_set(t, h->event_id, h->seats, h->seat_count, OWNER_HOLD | id, to, 0, 0, 0, 0);
    }
    if (rc == 0) {
        rc = expiry_key_move(t, id, h->expires_at_ms, to);
    }
    struct cust_rec item = { .count = h->seat_count, .expires_at_ms = to };
    if (rc == 0) {
        rc = inv_customer_put(t, h->event_id, h->customer_id, id, &item);
    }
    h->expires_at_ms = to;
    return rc != 0 ? rc : inv_hold_store(t, id, h);
}

int inv_hold_apply_extend(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    uint64_t id = cmd->u.extend.hold_id;
    struct hold_rec h;
    int status = 0;
    int rc = inv_hold_check_live(t, cmd, id, &h, &status);
    const struct event *e = NULL;
    if (rc == 0 && status == 0) {
        rc = inv_event_find(t->inv, &t->st, h.event_id, &e);
    }
    if (rc != 0 || status != 0) {
        res->status = (uint16_t)status;
        return rc;
    }
    uint32_t ttl = cmd->u.extend.ttl_ms == 0 ? e->hold_ttl_max_ms : cmd->u.extend.ttl_ms;
    uint64_t to = t->now + ttl;
    if (ttl < e->hold_ttl_min_ms || ttl > e->hold_ttl_max_ms) {
        res->status = USHER_TTL_OUT_OF_RANGE;
        return 0;
    }
    if (to > h.created_at_ms + e->hold_lifetime_max_ms) {
        res->status = USHER_LIMIT_HOLD_LIFETIME;
        return 0;
    }
    rc = hold_move_expiry(t, id, &h, to);
    res->id = id;
    res->expires_at_ms = to;
    res->seat_count = h.seat_count;
    if (h.ga == 0) {
        memcpy(res->seats, h.seats, sizeof(uint32_t) * h.seat_count);
    }
    return rc;
}

int inv_hold_apply_release(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    uint64_t id = cmd->u.release.hold_id;
    struct hold_rec h;
    int status = 0;
    int rc = inv_hold_check_live(t, cmd, id, &h, &status);
    if (rc != 0 || status != 0) {
        res->status = (uint16_t)status;
        return rc;
    }
    rc = inv_hold_end(t, id, &h, INV_HOLD_RELEASED, INV_HISTORY_RELEASE, t->now);
    if (rc == 0) {
        rc = inv_hold_store(t, id, &h);
    }
    res->id = id;
    res->seat_count = h.seat_count;
    return rc;
}

int inv_hold_check(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    struct hold_rec h;
    struct ga_rec g;
    switch ((enum cmd_type)cmd->type) {
    case CMD_HOLD_SEATS:
        return hold_seats_check(t, cmd, res);
    case CMD_HOLD_BEST:
        return hold_best_find(t, cmd, &h, res);
    case CMD_HOLD_GA:
        return hold_ga_check(t, cmd, &h, &g, res);
    default:
        break;
    }
    res->status = 0; /* not a new hold: nothing to say without the log */
    return 0;
}
