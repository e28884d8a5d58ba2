/*
 * Event creation and the event cache.
 *
 * An event's description is immutable once created, so every reader may keep
 * the decoded form: the cache maps event ids to decoded events (open
 * addressing, 2x the event limit, so it never fills). It is filled only from
 * committed or in-transaction store reads and cleared when a transaction
 * aborts or a snapshot is restored.
 */
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "codec.h"
#include "inv_int.h"
#include "mem.h"

static uint32_t cache_slot(uint64_t id)
{
    /* Fibonacci hashing spreads sequential ids. */
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (uint32_t)(h >> 40) % INV_EVENT_CACHE_SLOTS;
}

void inv_event_cache_clear(struct inv *inv)
{
    for (uint32_t i = 0; i < INV_EVENT_CACHE_SLOTS; i++) {
        event_destroy(inv->cache_events[i]);
        inv->cache_events[i] = NULL;
        mem_free(inv->cache_row_free[i]);
        inv->cache_row_free[i] = NULL;
        inv->cache_ids[i] = 0;
    }
}

/* Returns the cache slot of an event id, or UINT32_MAX. */
static uint32_t cache_find(const struct inv *inv, uint64_t id)
{
    uint32_t slot = cache_slot(id);
    for (uint32_t probe = 0; probe < INV_EVENT_CACHE_SLOTS; probe++) {
        uint32_t i = (slot + probe) % INV_EVENT_CACHE_SLOTS;
        if (inv->cache_ids[i] == id) {
            return i;
        }
        if (inv->cache_ids[i] == 0) {
            return UINT32_MAX;
        }
    }
    return UINT32_MAX;
}

static const struct event *cache_get(struct inv *inv, uint64_t id)
{
    uint32_t i = cache_find(inv, id);
    return i == UINT32_MAX ? NULL : inv->cache_events[i];
}

int inv_event_row_free(struct inv *inv, struct store_txn *st, const struct event *e, uint16_t **out)
{
    uint32_t slot = cache_find(inv, e->id);
    ASSERT(slot != UINT32_MAX && inv->cache_events[slot] == e);
    if (inv->cache_row_free[slot] != NULL) {
        *out = inv->cache_row_free[slot];
        return 0;
    }
    uint16_t *counts = mem_calloc(e->row_count == 0 ? 1 : e->row_count, sizeof(*counts));
    if (counts == NULL) {
        return USHER_NOMEM;
    }
    uint32_t chunks = (e->seat_count + SEATS_PER_CHUNK - 1) / SEATS_PER_CHUNK;
    for (uint32_t c = 0; c < chunks; c++) {
        struct seat_chunk chunk;
        int rc = inv_chunk_load(st, e->id, c, &chunk);
        if (rc != 0) {
            mem_free(counts);
            return rc;
        }
        for (uint32_t i = 0; i < SEATS_PER_CHUNK; i++) {
            uint32_t seat = c * SEATS_PER_CHUNK + i;
            if (seat < e->seat_count && chunk.slots[i].owner == 0) {
                counts[event_row_of_seat(e, seat)]++;
            }
        }
    }
    inv->cache_row_free[slot] = counts;
    *out = counts;
    return 0;
}

void inv_event_row_free_adjust(struct inv *inv, const struct event *e, uint32_t seat, int delta)
{
    uint32_t slot = cache_find(inv, e->id);
    ASSERT(slot != UINT32_MAX);
    uint16_t *counts = inv->cache_row_free[slot];
    if (counts == NULL || delta == 0) {
        return;
    }
    uint32_t row = event_row_of_seat(e, seat);
    ERGO(delta<0, counts[row]> 0);
    ERGO(delta > 0, counts[row] < e->rows[row].seat_count);
    counts[row] = (uint16_t)(counts[row] + delta);
}

const uint16_t *inv_event_row_free_peek(struct inv *inv, uint64_t event_id)
{
    uint32_t i = cache_find(inv, event_id);
    return i == UINT32_MAX ? NULL : inv->cache_row_free[i];
}

static void cache_put(struct inv *inv, struct event *e)
{
    uint32_t slot = cache_slot(e->id);
    for (uint32_t probe = 0; probe < INV_EVENT_CACHE_SLOTS; probe++) {
        uint32_t i = (slot + probe) % INV_EVENT_CACHE_SLOTS;
        if (inv->cache_ids[i] == 0) {
            inv->cache_ids[i] = e->id;
            inv->cache_events[i] = e;
            return;
        }
        ASSERT(inv->cache_ids[i] != e->id);
    }
    /* More events than the shard limit allows: a broken invariant. */
    UNREACHABLE();
}

int inv_event_find(struct inv *inv, struct store_txn *st, uint64_t event_id,
                   const struct event **out)
{
    if (event_id == 0) {
        return USHER_EVENT_NOT_FOUND;
    }
    const struct event *cached = cache_get(inv, event_id);
    if (cached != NULL) {
        *out = cached;
        return 0;
    }
    uint8_t key[8];
    inv_key_u64(key, event_id);
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    int rc = store_get(st, STORE_EVENTS, key, sizeof(key), &v, &len, &found);
    if (rc != 0) {
        return rc;
    }
    if (!found) {
        return USHER_EVENT_NOT_FOUND;
    }
    struct event *e = NULL;
    rc = codec_event_decode(v, len, &e);
    if (rc == USHER_NOMEM) {
        return rc;
    }
    if (rc != 0) {
        return USHER_STORAGE; /* a stored record that does not decode is corruption */
    }
    ASSERT(e->id == event_id);
    cache_put(inv, e);
    *out = e;
    return 0;
}

static int ga_init(struct inv_txn *t, const struct event *e)
{
    for (uint32_t s = 0; s < e->section_count; s++) {
        if (e->sections[s].kind != EVENT_SECTION_GA) {
            continue;
        }
        struct ga_rec g = { .capacity = e->sections[s].ga_capacity };
        int rc = inv_ga_store(t, e->id, s, &g);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Seat chunks start all free: write them so that every seat has a record and
 * a later hold is a pure update. When the event's keys sort after every
 * stored chunk (ids usually grow), they are appended: LMDB then fills pages
 * instead of splitting them half-empty (measured: half the pages). */
static int seats_init(struct inv_txn *t, const struct event *e)
{
    struct seat_chunk c;
    memset(&c, 0, sizeof(c));
    t->chunk_valid = false;
    const void *last = NULL;
    size_t last_len = 0;
    bool found = false;
    int rc = store_last_key(&t->st, STORE_SEATS, &last, &last_len, &found);
    if (rc != 0) {
        return rc;
    }
    ERGO(found, last_len == 12);
    unsigned flags = !found || buf_get_be64(last) < e->id ? STORE_PUT_APPEND : 0u;
    uint32_t chunks = (e->seat_count + SEATS_PER_CHUNK - 1) / SEATS_PER_CHUNK;
    for (uint32_t i = 0; i < chunks; i++) {
        uint8_t key[12];
        inv_key_u64_u32(key, e->id, i);
        rc = store_put(&t->st, STORE_SEATS, key, sizeof(key), &c, sizeof(c), flags);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int event_store(struct inv_txn *t, const struct event *e)
{
    size_t cap = USHER_CMD_BYTES_MAX;
    uint8_t *bytes = mem_alloc(cap);
    if (bytes == NULL) {
        return USHER_NOMEM;
    }
    size_t len = 0;
    int rc = codec_event_encode(e, bytes, cap, &len);
    ASSERT(rc == 0); /* it was decoded from at most USHER_CMD_BYTES_MAX bytes */
    uint8_t key[8];
    inv_key_u64(key, e->id);
    rc = store_put(&t->st, STORE_EVENTS, key, sizeof(key), bytes, len, 0);
    mem_free(bytes);
    return rc;
}

int inv_event_apply_create(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    ASSERT(cmd->type == CMD_EVENT_CREATE);
    struct event *e = event_copy(cmd->u.create.event);
    if (e == NULL) {
        return USHER_NOMEM;
    }
    event_apply_defaults(e);
    int status = event_validate(e);
    if (status == 0 && e->id != cmd->event_id) {
        status = USHER_INVALID;
    }
    const struct event *existing = NULL;
    int rc = 0;
    if (status == 0) {
        rc = inv_event_find(t->inv, &t->st, e->id, &existing);
        if (rc == 0) {
            status = USHER_EVENT_EXISTS;
        } else if (rc == USHER_EVENT_NOT_FOUND) {
            rc = 0;
        }
    }
    if (rc == 0 && status == 0 && t->meta.event_count >= USHER_SHARD_EVENTS_MAX) {
        status = USHER_LIMIT_SHARD_EVENTS;
    }
    if (rc != 0 || status != 0) {
        event_destroy(e);
        res->status = (uint16_t)status;
        return rc;
    }
    rc = event_store(t, e);
    if (rc == 0) {
        rc = seats_init(t, e);
    }
    if (rc == 0) {
        rc = ga_init(t, e);
    }
    if (rc != 0) {
        event_destroy(e);
        return rc;
    }
    t->meta.event_count++;
    res->id = e->id;
    cache_put(t->inv, e);
    return 0;
}
