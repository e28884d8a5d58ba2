/*
 * Bookings: book a hold (final) and cancel a booking.
 *
 * The hold id is the fencing token (issue 2): a booking names the hold it
 * finalizes and is refused unless that hold is active, alive at the batch's
 * time, of the same event and of the same customer. A booking is never
 * deleted; a cancelled one keeps its record with the cancel time.
 */
#include <string.h>

#include "assertion.h"
#include "inv_int.h"

int inv_booking_load(struct store_txn *st, uint64_t booking_id, struct booking_rec *b, bool *found)
{
    uint8_t key[8];
    inv_key_u64(key, booking_id);
    const void *v = NULL;
    size_t len = 0;
    int rc = store_get(st, STORE_BOOKINGS, key, sizeof(key), &v, &len, found);
    if (rc != 0 || !*found) {
        return rc;
    }
    if (len < BOOKING_REC_HEAD || len > sizeof(*b)) {
        return USHER_STORAGE;
    }
    memset(b, 0, sizeof(*b));
    memcpy(b, v, len);
    if (b->seat_count > USHER_HOLD_SEATS_MAX ||
        len != BOOKING_REC_HEAD + (b->ga != 0 ? 0u : sizeof(uint32_t) * b->seat_count) ||
        b->ref_len > USHER_PAYMENT_REF_LEN_MAX) {
        return USHER_STORAGE;
    }
    return 0;
}

static int booking_store(struct inv_txn *t, uint64_t booking_id, const struct booking_rec *b,
                         unsigned flags)
{
    ASSERT(b->state == INV_BOOKING_CONFIRMED || b->state == INV_BOOKING_CANCELLED);
    ASSERT(b->seat_count >= 1 && b->seat_count <= USHER_HOLD_SEATS_MAX);
    uint8_t key[8];
    inv_key_u64(key, booking_id);
    size_t len = BOOKING_REC_HEAD + (b->ga != 0 ? 0u : sizeof(uint32_t) * b->seat_count);
    return store_put(&t->st, STORE_BOOKINGS, key, sizeof(key), b, len, flags);
}

/* Moves the hold's seats or places to the booking. */
static int seats_to_booking(struct inv_txn *t, const struct hold_rec *h, uint64_t booking_id)
{
    if (h->ga == 0) {
        return inv_seats_set(t, h->event_id, h->seats, h->seat_count, OWNER_BOOKING | booking_id, 0,
                             INV_HISTORY_BOOK, booking_id, h->customer_id, t->now);
    }
    struct ga_rec g;
    int rc = inv_ga_load(&t->st, h->event_id, h->section, &g);
    if (rc != 0) {
        return rc;
    }
    ASSERT(g.held >= h->seat_count);
    g.held -= h->seat_count;
    g.booked += h->seat_count;
    rc = inv_ga_store(t, h->event_id, h->section, &g);
    if (rc != 0) {
        return rc;
    }
    return inv_journal_note(t, INV_HISTORY_BOOK, t->now, booking_id, h->customer_id, h->event_id);
}

static void booking_fill(struct booking_rec *b, const struct hold_rec *h, uint64_t hold_id,
                         const char *ref, uint64_t now)
{
    memset(b, 0, sizeof(*b));
    b->event_id = h->event_id;
    b->customer_id = h->customer_id;
    b->hold_id = hold_id;
    b->booked_at_ms = now;
    b->state = INV_BOOKING_CONFIRMED;
    b->ga = h->ga;
    b->section = h->section;
    b->seat_count = h->seat_count;
    size_t ref_len = strnlen(ref, USHER_PAYMENT_REF_LEN_MAX + 1);
    ASSERT(ref_len <= USHER_PAYMENT_REF_LEN_MAX);
    b->ref_len = (uint8_t)ref_len;
    memcpy(b->payment_ref, ref, ref_len);
    memcpy(b->seats, h->seats, sizeof(b->seats));
}

int inv_book_apply(struct inv_txn *t, const struct cmd *cmd, uint32_t slot, struct cmd_result *res)
{
    uint64_t hold_id = cmd->u.book.hold_id;
    struct hold_rec h;
    int status = 0;
    int rc = inv_hold_check_live(t, cmd, hold_id, &h, &status);
    if (rc != 0 || status != 0) {
        res->status = (uint16_t)status;
        return rc;
    }
    uint64_t booking_id = inv_id_make(t->index, slot);
    struct booking_rec b;
    booking_fill(&b, &h, hold_id, cmd->u.book.payment_ref, t->now);
    /* Ids grow with the log position: append. */
    rc = booking_store(t, booking_id, &b, STORE_PUT_APPEND);
    if (rc == 0) {
        rc = seats_to_booking(t, &h, booking_id);
    }
    if (rc == 0) {
        rc = inv_hold_end(t, hold_id, &h, INV_HOLD_BOOKED, 0, t->now);
    }
    h.booking_id = booking_id;
    if (rc == 0) {
        rc = inv_hold_store(t, hold_id, &h);
    }
    struct cust_rec item = { .is_booking = 1, .count = h.seat_count };
    if (rc == 0) {
        rc = inv_customer_put(t, h.event_id, h.customer_id, booking_id, &item);
    }
    res->id = booking_id;
    res->seat_count = h.seat_count;
    if (h.ga == 0) {
        memcpy(res->seats, h.seats, sizeof(uint32_t) * h.seat_count);
    }
    return rc;
}

/* Frees the booking's seats or places. */
static int seats_from_booking(struct inv_txn *t, const struct booking_rec *b, uint64_t id)
{
    if (b->ga == 0) {
        return inv_seats_set(t, b->event_id, b->seats, b->seat_count, 0, 0, INV_HISTORY_CANCEL, id,
                             b->customer_id, t->now);
    }
    struct ga_rec g;
    int rc = inv_ga_load(&t->st, b->event_id, b->section, &g);
    if (rc != 0) {
        return rc;
    }
    ASSERT(g.booked >= b->seat_count);
    g.booked -= b->seat_count;
    rc = inv_ga_store(t, b->event_id, b->section, &g);
    if (rc != 0) {
        return rc;
    }
    return inv_journal_note(t, INV_HISTORY_CANCEL, t->now, id, b->customer_id, b->event_id);
}

int inv_book_apply_cancel(struct inv_txn *t, const struct cmd *cmd, struct cmd_result *res)
{
    uint64_t id = cmd->u.cancel.booking_id;
    struct booking_rec b;
    bool found = false;
    int rc = id == 0 ? 0 : inv_booking_load(&t->st, id, &b, &found);
    if (rc != 0) {
        return rc;
    }
    if (!found || b.event_id != cmd->event_id) {
        res->status = USHER_BOOKING_NOT_FOUND;
    } else if (b.customer_id != cmd->customer_id) {
        res->status = USHER_NOT_OWNER;
    } else if (b.state != INV_BOOKING_CONFIRMED) {
        res->status = USHER_BOOKING_CANCELLED;
    }
    if (res->status != 0) {
        return 0;
    }
    rc = seats_from_booking(t, &b, id);
    if (rc == 0) {
        rc = inv_customer_del(t, b.event_id, b.customer_id, id);
    }
    b.state = INV_BOOKING_CANCELLED;
    b.cancelled_at_ms = t->now;
    if (rc == 0) {
        rc = booking_store(t, id, &b, 0);
    }
    res->id = id;
    res->seat_count = b.seat_count;
    return rc;
}
