/*
 * Unit tests of the reads: availability (counts per section and the free
 * bitmap; expired holds not yet swept count as free), hold and booking
 * records, a customer's list, and a seat's history, newest first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"

#define EV       100u
#define OTHER_EV 101u
#define T0       INVFIX_T0
#define T1       (T0 + 1000u)
#define TTL      60000u
#define LONG     600000u
#define ALICE    1u
#define BOB      2u
#define CAROL    3u
#define DAVE     4u
#define EVE      5u

/* Event EV: S0 seated 2 rows of 10 (seats 0..19), S1 GA of 8, S2 seated
 * 1 row of 5 (seats 20..24). OTHER_EV: 1 row of 10. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    struct invfix_section s[3] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 8 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 5 },
    };
    assert_int_equal(invfix_event_add(f, T0, invfix_event_make(EV, s, 3)), 0);
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(OTHER_EV, 1, 10)), 0);
    return 0;
}

static uint64_t ga_ok(struct invfix *f, uint64_t ts, uint64_t customer, uint16_t count)
{
    struct cmd c = invfix_cmd_hold_ga(f, EV, customer, LONG, 1, count);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    assert_int_equal(r.status, USHER_OK);
    return r.id;
}

/* Goal: availability reports per-section free/held/booked/capacity and a
 * bitmap with a bit set per free seat; seats of a released hold and of an
 * expired hold that no sweep freed are free. */
static void test_availability_counts_and_bitmap(void **state)
{
    struct invfix *f = *state;
    uint32_t pair[2] = { 0, 1 };
    (void)invfix_hold_ok(f, T1, EV, ALICE, LONG, pair, 2);
    uint64_t bob = invfix_hold_one(f, T1, EV, BOB, LONG, 2);
    (void)invfix_book_ok(f, T1, EV, BOB, bob);
    uint64_t gone = invfix_hold_one(f, T1, EV, BOB, LONG, 3);
    struct cmd rel = invfix_cmd_release(f, EV, BOB, gone);
    assert_int_equal(invfix_apply1(f, T1, &rel).status, USHER_OK);
    (void)ga_ok(f, T1, CAROL, 3);
    (void)invfix_book_ok(f, T1, EV, DAVE, ga_ok(f, T1, DAVE, 2));
    uint32_t eve_seats[2] = { 20, 24 };
    (void)invfix_hold_ok(f, T1, EV, EVE, TTL, eve_seats, 2);
    invfix_tick(f, T1 + TTL);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->applied_index, f->index);
    assert_int_equal(a->now_ms, T1 + TTL);
    assert_int_equal(a->section_count, 3);
    assert_int_equal(a->seat_count, 25);
    struct inv_section_avail want[3] = {
        { .free = 17, .held = 2, .booked = 1, .capacity = 20 },
        { .free = 3, .held = 3, .booked = 2, .capacity = 8 },
        { .free = 5, .held = 0, .booked = 0, .capacity = 5 },
    };
    for (uint32_t s = 0; s < 3; s++) {
        assert_int_equal(a->sections[s].free, want[s].free);
        assert_int_equal(a->sections[s].held, want[s].held);
        assert_int_equal(a->sections[s].booked, want[s].booked);
        assert_int_equal(a->sections[s].capacity, want[s].capacity);
    }
    for (uint32_t i = 0; i < 25; i++) {
        assert_int_equal(invfix_bit_is_free(a, i), i > 2);
    }
    for (uint32_t i = 25; i < 32; i++) {
        assert_int_equal(a->free_bitmap[i / 8] & (1u << (i % 8)), 0);
    }
    free(a);
}

/* Goal: availability of an unknown event is EVENT_NOT_FOUND. */
static void test_availability_unknown_event(void **state)
{
    struct invfix *f = *state;
    struct inv_availability *a = calloc(1, sizeof *a);
    assert_non_null(a);
    assert_int_equal(inv_availability(f->inv, 999, a), USHER_EVENT_NOT_FOUND);
    free(a);
}

/* Goal: a hold reads back with every field as made. */
static void test_hold_get_reports_fields(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[3] = { 12, 10, 11 };
    uint64_t id = invfix_hold_ok(f, T1, EV, ALICE, TTL, seats, 3);
    struct inv_hold h = invfix_hold(f, id);
    assert_int_equal(h.event_id, EV);
    assert_int_equal(h.customer_id, ALICE);
    assert_int_equal(h.state, INV_HOLD_ACTIVE);
    assert_int_equal(h.ga, 0);
    assert_int_equal(h.seat_count, 3);
    assert_int_equal(h.created_at_ms, T1);
    assert_int_equal(h.expires_at_ms, T1 + TTL);
    assert_int_equal(h.ended_at_ms, 0);
    assert_int_equal(h.booking_id, 0);
    assert_int_equal(h.seats[0], 10);
    assert_int_equal(h.seats[1], 11);
    assert_int_equal(h.seats[2], 12);
}

/* Goal: an ACTIVE hold past its expiry reads as EXPIRED (no sweep ran). */
static void test_hold_get_active_past_expiry_reads_expired(void **state)
{
    struct invfix *f = *state;
    uint64_t id = invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    invfix_tick(f, T1 + TTL - 1);
    assert_int_equal(invfix_hold(f, id).state, INV_HOLD_ACTIVE);
    invfix_tick(f, T1 + TTL);
    assert_int_equal(invfix_hold(f, id).state, INV_HOLD_EXPIRED);
}

/* Goal: unknown ids are HOLD_NOT_FOUND and BOOKING_NOT_FOUND. */
static void test_get_unknown_ids(void **state)
{
    struct invfix *f = *state;
    struct inv_hold h;
    struct inv_booking b;
    assert_int_equal(inv_hold_get(f->inv, invfix_id(f->index, 0), &h), USHER_HOLD_NOT_FOUND);
    assert_int_equal(inv_hold_get(f->inv, 0, &h), USHER_HOLD_NOT_FOUND);
    assert_int_equal(inv_booking_get(f->inv, invfix_id(1, 0), &b), USHER_BOOKING_NOT_FOUND);
}

/* Goal: a customer's list holds exactly the alive holds and confirmed
 * bookings of that customer in that event, in id order. */
static void test_customer_list_alive_holds_and_confirmed_bookings(void **state)
{
    struct invfix *f = *state;
    uint64_t booked = invfix_hold_one(f, T1, EV, ALICE, LONG, 0);
    uint64_t booking = invfix_book_ok(f, T1, EV, ALICE, booked);
    uint32_t pair[2] = { 4, 5 };
    uint64_t alive = invfix_hold_ok(f, T1, EV, ALICE, LONG, pair, 2);
    uint64_t released = invfix_hold_one(f, T1, EV, ALICE, LONG, 1);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, released);
    assert_int_equal(invfix_apply1(f, T1, &rel).status, USHER_OK);
    (void)invfix_hold_one(f, T1, EV, ALICE, TTL, 2); /* expires below */
    uint64_t cancelled =
        invfix_book_ok(f, T1, EV, ALICE, invfix_hold_one(f, T1, EV, ALICE, LONG, 3));
    struct cmd cancel = invfix_cmd_cancel(f, EV, ALICE, cancelled);
    assert_int_equal(invfix_apply1(f, T1, &cancel).status, USHER_OK);
    (void)invfix_hold_one(f, T1, OTHER_EV, ALICE, LONG, 0);
    (void)invfix_hold_one(f, T1, EV, BOB, LONG, 9);
    invfix_tick(f, T1 + TTL);
    struct inv_customer_items *items = calloc(1, sizeof *items);
    assert_non_null(items);
    assert_int_equal(inv_customer_list(f->inv, EV, ALICE, items), 0);
    assert_int_equal(items->count, 2);
    assert_int_equal(items->more, 0);
    assert_int_equal(items->items[0].is_booking, 1);
    assert_int_equal(items->items[0].id, booking);
    assert_int_equal(items->items[0].seat_count, 1);
    assert_int_equal(items->items[1].is_booking, 0);
    assert_int_equal(items->items[1].id, alive);
    assert_int_equal(items->items[1].seat_count, 2);
    assert_int_equal(items->items[1].expires_at_ms, T1 + LONG);
    assert_int_equal(inv_customer_list(f->inv, EV, CAROL, items), 0);
    assert_int_equal(items->count, 0);
    assert_int_equal(inv_customer_list(f->inv, 999, ALICE, items), USHER_EVENT_NOT_FOUND);
    free(items);
}

/* Goal: past USHER_CUSTOMER_ITEMS_MAX items the list is cut with more = 1,
 * keeping the lowest ids. */
static void test_customer_list_more_past_max(void **state)
{
    struct invfix *f = *state;
    struct event *e = invfix_event_seated(OTHER_EV + 1, 3, 100);
    e->customer_seats_max = USHER_CUSTOMER_SEATS_MAX;
    assert_int_equal(invfix_event_add(f, T1, e), 0);
    uint32_t n = USHER_CUSTOMER_ITEMS_MAX + 1;
    struct cmd *c = calloc(n, sizeof *c);
    struct cmd_result *r = calloc(n, sizeof *r);
    assert_non_null(c);
    assert_non_null(r);
    for (uint32_t i = 0; i < n; i++) {
        c[i] = invfix_cmd_hold_seats(f, OTHER_EV + 1, ALICE, LONG, &i, 1);
    }
    invfix_apply(f, T1, c, n, r);
    struct inv_customer_items *items = calloc(1, sizeof *items);
    assert_non_null(items);
    assert_int_equal(inv_customer_list(f->inv, OTHER_EV + 1, ALICE, items), 0);
    assert_int_equal(items->count, USHER_CUSTOMER_ITEMS_MAX);
    assert_int_equal(items->more, 1);
    for (uint32_t i = 0; i < USHER_CUSTOMER_ITEMS_MAX; i++) {
        assert_int_equal(r[i].status, USHER_OK);
        assert_int_equal(items->items[i].id, invfix_id(f->index, i));
    }
    free(items);
    free(c);
    free(r);
}

/* Asserts one history entry. */
static void assert_entry(const struct inv_history_entry *e, uint8_t kind, uint64_t at_ms,
                         uint64_t id, uint64_t customer)
{
    assert_int_equal(e->kind, kind);
    assert_int_equal(e->at_ms, at_ms);
    assert_int_equal(e->id, id);
    assert_int_equal(e->customer_id, customer);
}

/* Goal: a seat's history lists, newest first, each hold, release, expiry
 * (at the hold's expiry, here freed by a new hold), booking and
 * cancellation, with its id, time and customer. */
static void test_seat_history_newest_first(void **state)
{
    struct invfix *f = *state;
    uint64_t h1 = invfix_hold_one(f, T1, EV, ALICE, TTL, 7);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, h1);
    assert_int_equal(invfix_apply1(f, T1 + 10, &rel).status, USHER_OK);
    uint64_t h2 = invfix_hold_one(f, T1 + 20, EV, BOB, TTL, 7);
    uint64_t h3 = invfix_hold_one(f, T1 + 20 + TTL + 5, EV, CAROL, TTL, 7);
    uint64_t b3 = invfix_book_ok(f, T1 + TTL + 30, EV, CAROL, h3);
    struct cmd cancel = invfix_cmd_cancel(f, EV, CAROL, b3);
    assert_int_equal(invfix_apply1(f, T1 + TTL + 40, &cancel).status, USHER_OK);
    (void)invfix_hold_one(f, T1 + TTL + 50, EV, DAVE, TTL, 8); /* another seat */
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(inv_seat_history(f->inv, EV, 7, h), 0);
    assert_int_equal(h->count, 7);
    assert_int_equal(h->more, 0);
    assert_entry(&h->entries[0], INV_HISTORY_CANCEL, T1 + TTL + 40, b3, CAROL);
    assert_entry(&h->entries[1], INV_HISTORY_BOOK, T1 + TTL + 30, b3, CAROL);
    assert_entry(&h->entries[2], INV_HISTORY_HOLD, T1 + 20 + TTL + 5, h3, CAROL);
    assert_entry(&h->entries[3], INV_HISTORY_EXPIRE, T1 + 20 + TTL, h2, BOB);
    assert_entry(&h->entries[4], INV_HISTORY_HOLD, T1 + 20, h2, BOB);
    assert_entry(&h->entries[5], INV_HISTORY_RELEASE, T1 + 10, h1, ALICE);
    assert_entry(&h->entries[6], INV_HISTORY_HOLD, T1, h1, ALICE);
    free(h);
}

/* Goal: an expiry done by the sweep is in the history at the hold's expiry
 * time, not the sweep's time. */
static void test_seat_history_sweep_expiry_at_expires_at(void **state)
{
    struct invfix *f = *state;
    uint64_t id = invfix_hold_one(f, T1, EV, ALICE, TTL, 3);
    struct cmd sweep = invfix_cmd_sweep(USHER_SWEEP_MAX);
    assert_int_equal(invfix_apply1(f, T1 + 5ull * TTL, &sweep).swept, 1);
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(inv_seat_history(f->inv, EV, 3, h), 0);
    assert_int_equal(h->count, 2);
    assert_entry(&h->entries[0], INV_HISTORY_EXPIRE, T1 + TTL, id, ALICE);
    assert_entry(&h->entries[1], INV_HISTORY_HOLD, T1, id, ALICE);
    assert_int_equal(inv_seat_history(f->inv, EV, 4, h), 0);
    assert_int_equal(h->count, 0);
    free(h);
}

/* Goal: history of an unknown event or seat is refused with its code. */
static void test_seat_history_unknown_event_or_seat(void **state)
{
    struct invfix *f = *state;
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(inv_seat_history(f->inv, 999, 0, h), USHER_EVENT_NOT_FOUND);
    assert_int_equal(inv_seat_history(f->inv, EV, 25, h), USHER_NO_SUCH_SEAT);
    assert_int_equal(inv_seat_history(f->inv, EV, 24, h), 0);
    free(h);
}

/* Goal: past USHER_HISTORY_MAX entries the newest ones are returned with
 * more = 1. */
static void test_seat_history_more_past_max(void **state)
{
    struct invfix *f = *state;
    uint32_t cycles = USHER_HISTORY_MAX / 2 + 1;
    uint64_t ts = T1;
    uint64_t last = 0;
    for (uint32_t i = 0; i < cycles; i++) {
        last = invfix_hold_one(f, ts, EV, ALICE, TTL, 0);
        struct cmd rel = invfix_cmd_release(f, EV, ALICE, last);
        assert_int_equal(invfix_apply1(f, ts + 1, &rel).status, USHER_OK);
        ts += 2;
    }
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(inv_seat_history(f->inv, EV, 0, h), 0);
    assert_int_equal(h->count, USHER_HISTORY_MAX);
    assert_int_equal(h->more, 1);
    assert_entry(&h->entries[0], INV_HISTORY_RELEASE, ts - 1, last, ALICE);
    assert_entry(&h->entries[1], INV_HISTORY_HOLD, ts - 2, last, ALICE);
    free(h);
}

/* Goal: reads change nothing (the dump is the same before and after). */
static void test_reads_change_nothing(void **state)
{
    struct invfix *f = *state;
    uint64_t id = invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    invfix_tick(f, T1 + TTL);
    char *before = invfix_dump(f->inv);
    struct inv_availability *a = invfix_avail(f, EV);
    (void)invfix_hold(f, id);
    struct inv_customer_items *items = calloc(1, sizeof *items);
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(items);
    assert_non_null(h);
    assert_int_equal(inv_customer_list(f->inv, EV, ALICE, items), 0);
    assert_int_equal(inv_seat_history(f->inv, EV, 0, h), 0);
    char *after = invfix_dump(f->inv);
    invfix_assert_text_equal(before, after);
    free(a);
    free(items);
    free(h);
    free(before);
    free(after);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_availability_counts_and_bitmap),
        T(test_availability_unknown_event),
        T(test_hold_get_reports_fields),
        T(test_hold_get_active_past_expiry_reads_expired),
        T(test_get_unknown_ids),
        T(test_customer_list_alive_holds_and_confirmed_bookings),
        T(test_customer_list_more_past_max),
        T(test_seat_history_newest_first),
        T(test_seat_history_sweep_expiry_at_expires_at),
        T(test_seat_history_unknown_event_or_seat),
        T(test_seat_history_more_past_max),
        T(test_reads_change_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
