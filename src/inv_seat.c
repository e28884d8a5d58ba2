/*
 * Seat chunks, GA counters, customer items and the journal: the records that
 * holds and bookings change. Each function here does one store update and
 * asserts what it relies on; the command files decide what to change.
 *
 * A seat lives in chunk seat_index / 64 of its event, slot seat_index % 64.
 * Seats of a hold are ascending, so changing them touches each chunk once.
 */
#include <string.h>

#include "assertion.h"
#include "inv_int.h"

bool inv_slot_is_free(const struct seat_slot *s, uint64_t now)
{
    if (s->owner == 0) {
        return true;
    }
    /* A held seat whose hold expired is free, swept or not (time rule). */
    return (s->owner & OWNER_KIND_MASK) == OWNER_HOLD && now >= s->expires_at_ms;
}

int inv_chunk_load(struct store_txn *st, uint64_t event_id, uint32_t chunk, struct seat_chunk *c)
{
    uint8_t key[12];
    inv_key_u64_u32(key, event_id, chunk);
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    int rc = store_get(st, STORE_SEATS, key, sizeof(key), &v, &len, &found);
    if (rc != 0) {
        return rc;
    }
    /* Every chunk of an event is written when the event is created. */
    if (!found || len != sizeof(*c)) {
        return USHER_STORAGE;
    }
    memcpy(c, v, sizeof(*c));
    return 0;
}

int inv_txn_chunk_load(struct inv_txn *t, uint64_t event_id, uint32_t chunk, struct seat_chunk *c)
{
    if (t->chunk_valid && t->chunk_event == event_id && t->chunk_index == chunk) {
        memcpy(c, &t->chunk, sizeof(*c));
        return 0;
    }
    int rc = inv_chunk_load(&t->st, event_id, chunk, c);
    if (rc == 0) {
        t->chunk_valid = true;
        t->chunk_event = event_id;
        t->chunk_index = chunk;
        memcpy(&t->chunk, c, sizeof(*c));
    }
    return rc;
}

int inv_txn_chunk_store(struct inv_txn *t, uint64_t event_id, uint32_t chunk,
                        const struct seat_chunk *c)
{
    uint8_t key[12];
    inv_key_u64_u32(key, event_id, chunk);
    int rc = store_put(&t->st, STORE_SEATS, key, sizeof(key), c, sizeof(*c), 0);
    t->chunk_valid = rc == 0;
    t->chunk_event = event_id;
    t->chunk_index = chunk;
    if (rc == 0 && c != &t->chunk) {
        memcpy(&t->chunk, c, sizeof(*c));
    }
    return rc;
}

static int journal_put(struct inv_txn *t, struct journal_rec *j)
{
    ASSERT(j->kind >= INV_HISTORY_HOLD && j->kind <= INV_HISTORY_CANCEL);
    ASSERT(j->seat_count <= USHER_HOLD_SEATS_MAX);
    uint8_t key[8];
    inv_key_u64(key, t->meta.journal_seq);
    size_t len = JOURNAL_REC_HEAD + (size_t)j->seat_count * sizeof(struct journal_seat);
    /* Sequence numbers only grow: append. */
    return store_put(&t->st, STORE_JOURNAL, key, sizeof(key), j, len, STORE_PUT_APPEND);
}

int inv_journal_note(struct inv_txn *t, uint8_t kind, uint64_t at_ms, uint64_t id,
                     uint64_t customer_id, uint64_t event_id)
{
    struct journal_rec j;
    memset(&j, 0, JOURNAL_REC_HEAD);
    j.kind = kind;
    j.at_ms = at_ms;
    j.id = id;
    j.customer_id = customer_id;
    j.event_id = event_id;
    t->meta.journal_seq++;
    return journal_put(t, &j);
}

int inv_seats_set(struct inv_txn *t, uint64_t event_id, const uint32_t *seats, uint16_t n,
                  uint64_t owner, uint64_t expires_at_ms, uint8_t kind, uint64_t journal_id,
                  uint64_t customer_id, uint64_t at_ms)
{
    ASSERT(n >= 1 && n <= USHER_HOLD_SEATS_MAX);
    const struct event *e = NULL;
    int erc = inv_event_find(t->inv, &t->st, event_id, &e);
    if (erc != 0) {
        return erc == USHER_EVENT_NOT_FOUND ? USHER_STORAGE : erc;
    }
    struct journal_rec j;
    memset(&j, 0, sizeof(j));
    uint64_t seq = kind != 0 ? t->meta.journal_seq + 1 : 0;
    struct seat_chunk c;
    uint32_t loaded = UINT32_MAX;
    int rc = 0;
    for (uint16_t i = 0; i < n && rc == 0; i++) {
        ERGO(i > 0, seats[i] > seats[i - 1]);
        uint32_t chunk = seats[i] / SEATS_PER_CHUNK;
        if (chunk != loaded) {
            rc = loaded == UINT32_MAX ? 0 : inv_txn_chunk_store(t, event_id, loaded, &c);
            if (rc == 0) {
                rc = inv_txn_chunk_load(t, event_id, chunk, &c);
            }
            loaded = chunk;
        }
        struct seat_slot *s = &c.slots[seats[i] % SEATS_PER_CHUNK];
        j.seats[i].seat = seats[i];
        j.seats[i].prev = s->last_journal;
        inv_event_row_free_adjust(t->inv, e, seats[i], (owner == 0) - (s->owner == 0));
        s->owner = owner;
        s->expires_at_ms = expires_at_ms;
        if (kind != 0) {
            s->last_journal = seq;
        }
    }
    if (rc == 0) {
        rc = inv_txn_chunk_store(t, event_id, loaded, &c);
    }
    if (rc != 0 || kind == 0) {
        return rc;
    }
    t->meta.journal_seq = seq;
    j.kind = kind;
    j.seat_count = n;
    j.at_ms = at_ms;
    j.id = journal_id;
    j.customer_id = customer_id;
    j.event_id = event_id;
    return journal_put(t, &j);
}

int inv_ga_load(struct store_txn *st, uint64_t event_id, uint32_t section, struct ga_rec *g)
{
    uint8_t key[12];
    inv_key_u64_u32(key, event_id, section);
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    int rc = store_get(st, STORE_GA, key, sizeof(key), &v, &len, &found);
    if (rc != 0) {
        return rc;
    }
    if (!found || len != sizeof(*g)) {
        return USHER_STORAGE;
    }
    memcpy(g, v, sizeof(*g));
    ASSERT((uint64_t)g->held + g->booked <= g->capacity);
    return 0;
}

int inv_ga_store(struct inv_txn *t, uint64_t event_id, uint32_t section, const struct ga_rec *g)
{
    ASSERT((uint64_t)g->held + g->booked <= g->capacity);
    ASSERT(g->reserved == 0);
    uint8_t key[12];
    inv_key_u64_u32(key, event_id, section);
    return store_put(&t->st, STORE_GA, key, sizeof(key), g, sizeof(*g), 0);
}

int inv_customer_put(struct inv_txn *t, uint64_t event_id, uint64_t customer_id, uint64_t id,
                     const struct cust_rec *c)
{
    ASSERT(c->count >= 1);
    uint8_t key[24];
    inv_key_u64_u64_u64(key, event_id, customer_id, id);
    return store_put(&t->st, STORE_CUSTOMERS, key, sizeof(key), c, sizeof(*c), 0);
}

int inv_customer_del(struct inv_txn *t, uint64_t event_id, uint64_t customer_id, uint64_t id)
{
    uint8_t key[24];
    inv_key_u64_u64_u64(key, event_id, customer_id, id);
    bool found = false;
    int rc = store_del(&t->st, STORE_CUSTOMERS, key, sizeof(key), &found);
    if (rc == 0 && !found) {
        return USHER_STORAGE; /* every live hold and booking has its item */
    }
    return rc;
}
