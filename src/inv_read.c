/*
 * Reads. Each runs in its own LMDB read transaction (an MVCC view of the
 * last committed batch) and changes nothing. Times are judged at the state
 * machine's time, the stamp of the last applied batch: a hold past its
 * expiry reads as expired and its seats read as free, swept or not.
 */
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "inv_int.h"

struct read_txn {
    struct store_txn st;
    struct meta_state meta;
};

static int read_begin(struct inv *inv, struct read_txn *r)
{
    int rc = store_txn_begin(inv->store, false, &r->st);
    if (rc != 0) {
        return rc;
    }
    rc = inv_meta_load(&r->st, &r->meta);
    if (rc != 0) {
        store_txn_abort(&r->st);
    }
    return rc;
}

int inv_event_get(struct inv *inv, uint64_t event_id, struct event **out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    const struct event *e = NULL;
    rc = inv_event_find(inv, &r.st, event_id, &e);
    store_txn_abort(&r.st);
    if (rc != 0) {
        return rc;
    }
    *out = event_copy(e);
    return *out == NULL ? USHER_NOMEM : 0;
}

int inv_event_list(struct inv *inv, uint64_t after, uint64_t *ids, uint32_t cap, uint32_t *n)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    struct store_cursor c = { NULL };
    rc = store_cursor_open(&r.st, STORE_EVENTS, &c);
    uint8_t key[8];
    inv_key_u64(key, after == UINT64_MAX ? after : after + 1);
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    *n = 0;
    if (rc == 0 && after != UINT64_MAX) {
        rc = store_cursor_seek(&c, key, sizeof(key), &k, &kl, &v, &vl, &found);
    }
    while (rc == 0 && found && *n < cap) {
        ids[(*n)++] = buf_get_be64(k);
        rc = store_cursor_next(&c, &k, &kl, &v, &vl, &found);
    }
    store_cursor_close(&c);
    store_txn_abort(&r.st);
    return rc;
}

static void avail_seats(const struct event *e, const struct seat_chunk *c, uint32_t chunk,
                        uint64_t now, struct inv_availability *out)
{
    for (uint32_t i = 0; i < SEATS_PER_CHUNK; i++) {
        uint32_t seat = chunk * SEATS_PER_CHUNK + i;
        if (seat >= e->seat_count) {
            return;
        }
        const struct seat_slot *s = &c->slots[i];
        uint32_t section = e->rows[event_row_of_seat(e, seat)].section;
        struct inv_section_avail *a = &out->sections[section];
        if (inv_slot_is_free(s, now)) {
            a->free++;
            out->free_bitmap[seat / 8] |= (uint8_t)(1u << (seat % 8));
        } else if ((s->owner & OWNER_KIND_MASK) == OWNER_HOLD) {
            a->held++;
        } else {
            a->booked++;
        }
    }
}

static int avail_fill(struct inv *inv, struct read_txn *r, const struct event *e,
                      struct inv_availability *out)
{
    uint64_t now = r->meta.now_ms;
    for (uint32_t s = 0; s < e->section_count; s++) {
        const struct event_section *sec = &e->sections[s];
        if (sec->kind == EVENT_SECTION_SEATED) {
            out->sections[s].capacity = sec->seat_count;
            continue;
        }
        struct ga_rec g;
        int rc = inv_ga_load(&r->st, e->id, s, &g);
        if (rc != 0) {
            return rc;
        }
        /* GA places of expired holds come back at the next sweep. */
        out->sections[s] = (struct inv_section_avail){
            .free = g.capacity - g.held - g.booked,
            .held = g.held,
            .booked = g.booked,
            .capacity = g.capacity,
        };
    }
    uint32_t chunks = (e->seat_count + SEATS_PER_CHUNK - 1) / SEATS_PER_CHUNK;
    for (uint32_t i = 0; i < chunks; i++) {
        struct seat_chunk c;
        int rc = inv_chunk_load(&r->st, e->id, i, &c);
        if (rc != 0) {
            return rc;
        }
        avail_seats(e, &c, i, now, out);
    }
    (void)inv;
    return 0;
}

int inv_availability(struct inv *inv, uint64_t event_id, struct inv_availability *out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    const struct event *e = NULL;
    rc = inv_event_find(inv, &r.st, event_id, &e);
    if (rc == 0) {
        memset(out, 0, sizeof(*out));
        out->event_id = event_id;
        out->applied_index = r.meta.applied_index;
        out->now_ms = r.meta.now_ms;
        out->section_count = e->section_count;
        out->seat_count = e->seat_count;
        rc = avail_fill(inv, &r, e, out);
    }
    store_txn_abort(&r.st);
    return rc;
}

int inv_hold_get(struct inv *inv, uint64_t hold_id, struct inv_hold *out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    struct hold_rec h;
    bool found = false;
    rc = inv_hold_load(&r.st, hold_id, &h, &found);
    store_txn_abort(&r.st);
    if (rc != 0 || !found) {
        return rc != 0 ? rc : USHER_HOLD_NOT_FOUND;
    }
    memset(out, 0, sizeof(*out));
    out->id = hold_id;
    out->event_id = h.event_id;
    out->customer_id = h.customer_id;
    out->state = h.state;
    if (h.state == INV_HOLD_ACTIVE && r.meta.now_ms >= h.expires_at_ms) {
        out->state = INV_HOLD_EXPIRED;
        out->ended_at_ms = h.expires_at_ms;
    } else {
        out->ended_at_ms = h.ended_at_ms;
    }
    out->ga = h.ga;
    out->section = h.section;
    out->seat_count = h.seat_count;
    out->created_at_ms = h.created_at_ms;
    out->expires_at_ms = h.expires_at_ms;
    out->booking_id = h.booking_id;
    memcpy(out->seats, h.seats, sizeof(out->seats));
    return 0;
}

int inv_booking_get(struct inv *inv, uint64_t booking_id, struct inv_booking *out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    struct booking_rec b;
    bool found = false;
    rc = inv_booking_load(&r.st, booking_id, &b, &found);
    store_txn_abort(&r.st);
    if (rc != 0 || !found) {
        return rc != 0 ? rc : USHER_BOOKING_NOT_FOUND;
    }
    memset(out, 0, sizeof(*out));
    out->id = booking_id;
    out->event_id = b.event_id;
    out->customer_id = b.customer_id;
    out->hold_id = b.hold_id;
    out->state = b.state;
    out->ga = b.ga;
    out->section = b.section;
    out->seat_count = b.seat_count;
    out->booked_at_ms = b.booked_at_ms;
    out->cancelled_at_ms = b.cancelled_at_ms;
    memcpy(out->payment_ref, b.payment_ref, b.ref_len);
    memcpy(out->seats, b.seats, sizeof(out->seats));
    return 0;
}

static int customer_scan(struct read_txn *r, uint64_t event_id, uint64_t customer_id,
                         struct inv_customer_items *out)
{
    uint8_t prefix[24];
    inv_key_u64_u64_u64(prefix, event_id, customer_id, 0);
    struct store_cursor c;
    int rc = store_cursor_open(&r->st, STORE_CUSTOMERS, &c);
    if (rc != 0) {
        return rc;
    }
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    rc = store_cursor_seek(&c, prefix, sizeof(prefix), &k, &kl, &v, &vl, &found);
    for (uint32_t i = 0; rc == 0 && found && memcmp(k, prefix, 16) == 0; i++) {
        if (i == INV_CUSTOMER_SCAN_MAX || vl != sizeof(struct cust_rec) || kl != 24) {
            rc = i == INV_CUSTOMER_SCAN_MAX ? 0 : USHER_STORAGE;
            out->more = 1;
            break;
        }
        struct cust_rec item;
        memcpy(&item, v, sizeof(item));
        bool alive = item.is_booking != 0 || r->meta.now_ms < item.expires_at_ms;
        if (alive && out->count == USHER_CUSTOMER_ITEMS_MAX) {
            out->more = 1;
            break;
        }
        if (alive) {
            struct inv_customer_item *it = &out->items[out->count++];
            it->is_booking = item.is_booking;
            it->id = buf_get_be64((const uint8_t *)k + 16);
            it->seat_count = item.count;
            it->expires_at_ms = item.expires_at_ms;
        }
        rc = store_cursor_next(&c, &k, &kl, &v, &vl, &found);
    }
    store_cursor_close(&c);
    return rc;
}

int inv_customer_list(struct inv *inv, uint64_t event_id, uint64_t customer_id,
                      struct inv_customer_items *out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    const struct event *e = NULL;
    rc = inv_event_find(inv, &r.st, event_id, &e);
    if (rc == 0) {
        out->count = 0;
        out->more = 0;
        rc = customer_scan(&r, event_id, customer_id, out);
    }
    store_txn_abort(&r.st);
    return rc;
}

/* Follows the seat's chain of journal records, newest first. */
static int history_walk(struct read_txn *r, uint32_t seat, uint64_t seq,
                        struct inv_seat_history *out)
{
    while (seq != 0) {
        if (out->count == USHER_HISTORY_MAX) {
            out->more = 1;
            return 0;
        }
        uint8_t key[8];
        inv_key_u64(key, seq);
        const void *v = NULL;
        size_t len = 0;
        bool found = false;
        int rc = store_get(&r->st, STORE_JOURNAL, key, sizeof(key), &v, &len, &found);
        struct journal_rec j;
        if (rc != 0 || !found || len < JOURNAL_REC_HEAD || len > sizeof(j)) {
            return rc != 0 ? rc : USHER_STORAGE;
        }
        memcpy(&j, v, len);
        uint64_t prev = 0;
        bool mine = false;
        for (uint16_t i = 0; i < j.seat_count && i < USHER_HOLD_SEATS_MAX; i++) {
            if (j.seats[i].seat == seat) {
                prev = j.seats[i].prev;
                mine = true;
            }
        }
        if (!mine || prev >= seq) {
            return USHER_STORAGE; /* the chain must go back in time through this seat */
        }
        out->entries[out->count++] = (struct inv_history_entry){
            .kind = j.kind, .at_ms = j.at_ms, .id = j.id, .customer_id = j.customer_id
        };
        seq = prev;
    }
    return 0;
}

int inv_seat_history(struct inv *inv, uint64_t event_id, uint32_t seat_index,
                     struct inv_seat_history *out)
{
    struct read_txn r;
    int rc = read_begin(inv, &r);
    if (rc != 0) {
        return rc;
    }
    const struct event *e = NULL;
    rc = inv_event_find(inv, &r.st, event_id, &e);
    out->count = 0;
    out->more = 0;
    if (rc == 0 && seat_index >= e->seat_count) {
        rc = USHER_NO_SUCH_SEAT;
    }
    struct seat_chunk c;
    if (rc == 0) {
        rc = inv_chunk_load(&r.st, event_id, seat_index / SEATS_PER_CHUNK, &c);
    }
    if (rc == 0) {
        rc = history_walk(&r, seat_index, c.slots[seat_index % SEATS_PER_CHUNK].last_journal, out);
    }
    store_txn_abort(&r.st);
    return rc;
}
