/*
 * Whole-state invariant checks (STYLE.md 6.7), for tests, the demo and
 * debugging. Walks every table and cross-checks:
 *   - every seat owned by a hold is in that ACTIVE hold's seats with its expiry;
 *   - every seat owned by a booking is in that CONFIRMED booking's seats;
 *   - every ACTIVE hold owns its seats, has its expiry key and customer item;
 *   - every CONFIRMED booking owns its seats; GA counters equal the sums;
 *   - the event count in meta equals the events stored.
 * Its cost is linear in the state; it is not for the apply path.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "inv_int.h"
#include "mem.h"

struct check_ctx {
    struct inv *inv;
    struct store_txn st;
    struct meta_state meta;
    char *errmsg;
    uint64_t events;
    uint64_t event_ids[USHER_SHARD_EVENTS_MAX]; /* ascending, as walked */
    uint32_t *ga_sums;                          /* [event idx][section][held, booked] */
};

#define GA_SUM_INDEX(event_idx, section, which) \
    ((((size_t)(event_idx)*USHER_EVENT_SECTIONS_MAX) + (section)) * 2u + (which))

static int fail(struct check_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct check_ctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* The analyzer loses va_start through the format attribute:
     * NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(x->errmsg, USHER_ERRMSG_MAX, fmt, ap);
    va_end(ap);
    return USHER_INTERNAL;
}

static bool seat_in(const uint32_t *seats, uint16_t n, uint32_t seat)
{
    for (uint16_t i = 0; i < n; i++) {
        if (seats[i] == seat) {
            return true;
        }
    }
    return false;
}

static int check_slot(struct check_ctx *x, uint64_t event_id, uint32_t seat,
                      const struct seat_slot *s)
{
    uint64_t id = s->owner & OWNER_ID_MASK;
    bool found = false;
    if ((s->owner & OWNER_KIND_MASK) == OWNER_HOLD) {
        struct hold_rec h;
        int rc = inv_hold_load(&x->st, id, &h, &found);
        if (rc != 0) {
            return rc;
        }
        if (!found || h.state != INV_HOLD_ACTIVE || h.event_id != event_id ||
            !seat_in(h.seats, h.seat_count, seat) || h.expires_at_ms != s->expires_at_ms) {
            return fail(x, "seat %u of event %llu: bad hold owner %llu", seat,
                        (unsigned long long)event_id, (unsigned long long)id);
        }
    } else if ((s->owner & OWNER_KIND_MASK) == OWNER_BOOKING) {
        struct booking_rec b;
        int rc = inv_booking_load(&x->st, id, &b, &found);
        if (rc != 0) {
            return rc;
        }
        if (!found || b.state != INV_BOOKING_CONFIRMED || b.event_id != event_id ||
            !seat_in(b.seats, b.seat_count, seat)) {
            return fail(x, "seat %u of event %llu: bad booking owner %llu", seat,
                        (unsigned long long)event_id, (unsigned long long)id);
        }
    } else if (s->owner != 0 || s->expires_at_ms != 0) {
        return fail(x, "seat %u of event %llu: bad owner word", seat, (unsigned long long)event_id);
    }
    return 0;
}

static int owner_of(struct check_ctx *x, uint64_t event_id, uint32_t seat, uint64_t *owner)
{
    struct seat_chunk c;
    int rc = inv_chunk_load(&x->st, event_id, seat / SEATS_PER_CHUNK, &c);
    *owner = rc == 0 ? c.slots[seat % SEATS_PER_CHUNK].owner : 0;
    return rc;
}

/* The in-memory per-row free counts, if built, must match the chunks. */
static int check_row_free(struct check_ctx *x, const struct event *e)
{
    const uint16_t *counts = inv_event_row_free_peek(x->inv, e->id);
    for (uint32_t r = 0; counts != NULL && r < e->row_count; r++) {
        uint32_t free_seats = 0;
        for (uint32_t j = 0; j < e->rows[r].seat_count; j++) {
            uint64_t owner = 0;
            int rc = owner_of(x, e->id, e->rows[r].seat_first + j, &owner);
            if (rc != 0) {
                return rc;
            }
            free_seats += owner == 0 ? 1u : 0u;
        }
        if (free_seats != counts[r]) {
            return fail(x, "event %llu row %u: cached free count %u, chunks say %u",
                        (unsigned long long)e->id, r, counts[r], free_seats);
        }
    }
    return 0;
}

static int check_event(struct check_ctx *x, const struct event *e)
{
    int frc = check_row_free(x, e);
    if (frc != 0) {
        return frc;
    }
    uint32_t chunks = (e->seat_count + SEATS_PER_CHUNK - 1) / SEATS_PER_CHUNK;
    for (uint32_t c = 0; c < chunks; c++) {
        struct seat_chunk chunk;
        int rc = inv_chunk_load(&x->st, e->id, c, &chunk);
        for (uint32_t i = 0; rc == 0 && i < SEATS_PER_CHUNK; i++) {
            uint32_t seat = c * SEATS_PER_CHUNK + i;
            if (seat < e->seat_count) {
                rc = check_slot(x, e->id, seat, &chunk.slots[i]);
            } else if (chunk.slots[i].owner != 0) {
                rc = fail(x, "seat %u past the end of event %llu is owned", seat,
                          (unsigned long long)e->id);
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* Adds a hold's or booking's GA places to the per-section sums. */
static int ga_add(struct check_ctx *x, uint64_t event_id, uint16_t section, uint32_t held,
                  uint32_t booked, uint32_t *sums)
{
    uint64_t lo = 0;
    uint64_t hi = x->events;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (x->event_ids[mid] < event_id) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if (lo == x->events || x->event_ids[lo] != event_id || section >= USHER_EVENT_SECTIONS_MAX) {
        return fail(x, "GA item of unknown event %llu", (unsigned long long)event_id);
    }
    sums[GA_SUM_INDEX(lo, section, 0)] += held;
    sums[GA_SUM_INDEX(lo, section, 1)] += booked;
    return 0;
}

static int check_ga(struct check_ctx *x)
{
    for (uint64_t i = 0; i < x->events; i++) {
        const struct event *e = NULL;
        int rc = inv_event_find(x->inv, &x->st, x->event_ids[i], &e);
        for (uint32_t s = 0; rc == 0 && s < e->section_count; s++) {
            if (e->sections[s].kind != EVENT_SECTION_GA) {
                continue;
            }
            struct ga_rec g;
            rc = inv_ga_load(&x->st, e->id, s, &g);
            if (rc == 0 && (g.held != x->ga_sums[GA_SUM_INDEX(i, s, 0)] ||
                            g.booked != x->ga_sums[GA_SUM_INDEX(i, s, 1)] ||
                            g.capacity != e->sections[s].ga_capacity)) {
                rc = fail(x, "GA counters of event %llu section %u do not add up",
                          (unsigned long long)e->id, s);
            }
        }
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

static int check_hold(struct check_ctx *x, uint64_t id, const struct hold_rec *h)
{
    if (h->state != INV_HOLD_ACTIVE) {
        return 0;
    }
    for (uint16_t i = 0; h->ga == 0 && i < h->seat_count; i++) {
        uint64_t owner = 0;
        int rc = owner_of(x, h->event_id, h->seats[i], &owner);
        if (rc != 0) {
            return rc;
        }
        if (owner != (OWNER_HOLD | id)) {
            return fail(x, "hold %llu does not own its seat %u", (unsigned long long)id,
                        h->seats[i]);
        }
    }
    uint8_t key[24];
    inv_key_u64_u64(key, h->expires_at_ms, id);
    const void *v = NULL;
    size_t len = 0;
    bool found = false;
    int rc = store_get(&x->st, STORE_EXPIRY, key, 16, &v, &len, &found);
    if (rc == 0 && !found) {
        return fail(x, "hold %llu has no expiry key", (unsigned long long)id);
    }
    inv_key_u64_u64_u64(key, h->event_id, h->customer_id, id);
    if (rc == 0) {
        rc = store_get(&x->st, STORE_CUSTOMERS, key, 24, &v, &len, &found);
    }
    if (rc == 0 && !found) {
        return fail(x, "hold %llu has no customer item", (unsigned long long)id);
    }
    return rc != 0 || h->ga == 0 ? rc
                                 : ga_add(x, h->event_id, h->section, h->seat_count, 0, x->ga_sums);
}

static int walk_holds(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct check_ctx *x = ctx;
    (void)v;
    (void)vl;
    if (kl != 8) {
        return fail(x, "hold key of %zu bytes", kl);
    }
    uint64_t id = buf_get_be64(k);
    struct hold_rec h;
    bool found = false;
    int rc = inv_hold_load(&x->st, id, &h, &found);
    return rc != 0 ? rc : check_hold(x, id, &h);
}

static int walk_bookings(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct check_ctx *x = ctx;
    (void)v;
    (void)vl;
    uint64_t id = kl == 8 ? buf_get_be64(k) : 0;
    struct booking_rec b;
    bool found = false;
    int rc = inv_booking_load(&x->st, id, &b, &found);
    if (rc != 0 || !found || b.state != INV_BOOKING_CONFIRMED) {
        return rc;
    }
    if (b.ga != 0) {
        return ga_add(x, b.event_id, b.section, 0, b.seat_count, x->ga_sums);
    }
    for (uint16_t i = 0; i < b.seat_count; i++) {
        uint64_t owner = 0;
        rc = owner_of(x, b.event_id, b.seats[i], &owner);
        if (rc == 0 && owner != (OWNER_BOOKING | id)) {
            return fail(x, "booking %llu does not own its seat %u", (unsigned long long)id,
                        b.seats[i]);
        }
    }
    return rc;
}

static int walk_events(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct check_ctx *x = ctx;
    (void)v;
    (void)vl;
    if (kl != 8) {
        return fail(x, "event key of %zu bytes", kl);
    }
    const struct event *e = NULL;
    int rc = inv_event_find(x->inv, &x->st, buf_get_be64(k), &e);
    if (rc != 0) {
        return rc;
    }
    if (x->events == USHER_SHARD_EVENTS_MAX) {
        return fail(x, "more than %u events", USHER_SHARD_EVENTS_MAX);
    }
    x->event_ids[x->events++] = e->id;
    return check_event(x, e);
}

typedef int (*walk_fn)(void *ctx, const void *k, size_t kl, const void *v, size_t vl);

static int walk(struct check_ctx *x, enum store_table table, walk_fn fn)
{
    struct store_cursor c = { NULL };
    int rc = store_cursor_open(&x->st, table, &c);
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    if (rc == 0) {
        rc = store_cursor_seek(&c, NULL, 0, &k, &kl, &v, &vl, &found);
    }
    while (rc == 0 && found) {
        rc = fn(x, k, kl, v, vl);
        if (rc == 0) {
            rc = store_cursor_next(&c, &k, &kl, &v, &vl, &found);
        }
    }
    store_cursor_close(&c);
    return rc;
}

static int check_all(struct check_ctx *x)
{
    int rc = store_txn_begin(x->inv->store, false, &x->st);
    if (rc != 0) {
        return rc;
    }
    rc = inv_meta_load(&x->st, &x->meta);
    if (rc == 0) {
        rc = walk(x, STORE_EVENTS, walk_events);
    }
    if (rc == 0 && x->events != x->meta.event_count) {
        rc = fail(x, "meta counts %u events, store has %llu", x->meta.event_count,
                  (unsigned long long)x->events);
    }
    if (rc == 0) {
        rc = walk(x, STORE_HOLDS, walk_holds);
    }
    if (rc == 0) {
        rc = walk(x, STORE_BOOKINGS, walk_bookings);
    }
    if (rc == 0) {
        rc = check_ga(x);
    }
    store_txn_abort(&x->st);
    return rc;
}

int inv_check(struct inv *inv, char *errmsg)
{
    errmsg[0] = '\0';
    struct check_ctx *x = mem_calloc(1, sizeof(*x));
    uint32_t *sums = mem_calloc((size_t)USHER_SHARD_EVENTS_MAX * USHER_EVENT_SECTIONS_MAX * 2u,
                                sizeof(uint32_t));
    if (x == NULL || sums == NULL) {
        mem_free(x);
        mem_free(sums);
        return USHER_NOMEM;
    }
    x->inv = inv;
    x->errmsg = errmsg;
    x->ga_sums = sums;
    int rc = check_all(x);
    mem_free(sums);
    mem_free(x);
    if (rc != 0 && errmsg[0] == '\0') {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s while checking", err_name(rc));
    }
    return rc;
}
