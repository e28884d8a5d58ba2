/*
 * Unit tests of the limits of the state machine, each at the limit and at
 * the limit plus one, each with its own code and no change on refusal:
 * seats per hold, seats per customer, events per shard; and a 200,000-seat
 * event that can be created and held from.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"

#define EV    100u
#define T0    INVFIX_T0
#define T1    (T0 + 1000u)
#define TTL   60000u
#define LONG  600000u
#define ALICE 1u
#define BOB   2u

/* Creates EV: S0 seated 3 rows of 20 (seats 0..59), S1 GA of 100, with the
 * given seat limits (0: defaults). */
static void add_event(struct invfix *f, uint16_t hold_seats_max, uint16_t customer_seats_max)
{
    struct invfix_section s[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 3, .row_seats = 20 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 100 },
    };
    struct event *e = invfix_event_make(EV, s, 2);
    e->hold_seats_max = hold_seats_max;
    e->customer_seats_max = customer_seats_max;
    assert_int_equal(invfix_event_add(f, T0, e), 0);
}

/* Fills seats[i] = first + i. */
static void seat_range(uint32_t *seats, uint32_t first, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        seats[i] = first + i;
    }
}

/* Goal: a hold of exactly hold_seats_max (default 10) seats succeeds; one
 * more is LIMIT_HOLD_SEATS for named, best and GA holds. */
static void test_hold_seats_limit_at_and_over(void **state)
{
    struct invfix *f = *state;
    add_event(f, 0, USHER_CUSTOMER_SEATS_MAX);
    uint32_t seats[USHER_HOLD_SEATS_DEFAULT + 1];
    seat_range(seats, 0, USHER_HOLD_SEATS_DEFAULT + 1);
    struct cmd over = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 11);
    invfix_refuse(f, T1, &over, USHER_LIMIT_HOLD_SEATS);
    struct cmd best = invfix_cmd_hold_best(f, EV, ALICE, TTL, 0, 11);
    invfix_refuse(f, T1, &best, USHER_LIMIT_HOLD_SEATS);
    struct cmd ga = invfix_cmd_hold_ga(f, EV, ALICE, TTL, 1, 11);
    invfix_refuse(f, T1, &ga, USHER_LIMIT_HOLD_SEATS);
    (void)invfix_hold_ok(f, T1, EV, ALICE, TTL, seats, 10);
    struct cmd best_ok = invfix_cmd_hold_best(f, EV, ALICE, TTL, 0, 10);
    assert_int_equal(invfix_apply1(f, T1, &best_ok).status, USHER_OK);
    struct cmd ga_ok = invfix_cmd_hold_ga(f, EV, ALICE, TTL, 1, 10);
    assert_int_equal(invfix_apply1(f, T1, &ga_ok).status, USHER_OK);
}

/* Goal: an event may set hold_seats_max to the hard ceiling (64), and a
 * hold of 64 seats then succeeds. */
static void test_hold_seats_at_hard_ceiling(void **state)
{
    struct invfix *f = *state;
    add_event(f, USHER_HOLD_SEATS_MAX, USHER_CUSTOMER_SEATS_MAX);
    uint32_t seats[USHER_HOLD_SEATS_MAX];
    seat_range(seats, 0, USHER_HOLD_SEATS_MAX - 4);
    /* 60 seated seats exist: take them all, then 64 GA places. */
    (void)invfix_hold_ok(f, T1, EV, ALICE, TTL, seats, USHER_HOLD_SEATS_MAX - 4);
    struct cmd ga = invfix_cmd_hold_ga(f, EV, BOB, TTL, 1, USHER_HOLD_SEATS_MAX);
    struct cmd_result r = invfix_apply1(f, T1, &ga);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.seat_count, USHER_HOLD_SEATS_MAX);
}

/* Goal: a customer may hold exactly customer_seats_max (default 10) seats in
 * an event over several holds; one more is LIMIT_CUSTOMER_SEATS and changes
 * nothing; another customer is not affected. */
static void test_customer_seats_limit_at_and_over(void **state)
{
    struct invfix *f = *state;
    add_event(f, 0, 0);
    uint32_t seats[10];
    seat_range(seats, 0, 10);
    (void)invfix_hold_ok(f, T1, EV, ALICE, LONG, seats, 6);
    (void)invfix_hold_ok(f, T1, EV, ALICE, LONG, seats + 6, 4);
    struct cmd one = invfix_cmd_hold_seats(f, EV, ALICE, LONG, (uint32_t[]){ 30 }, 1);
    invfix_refuse(f, T1 + 1, &one, USHER_LIMIT_CUSTOMER_SEATS);
    struct cmd best = invfix_cmd_hold_best(f, EV, ALICE, LONG, 0, 1);
    invfix_refuse(f, T1 + 1, &best, USHER_LIMIT_CUSTOMER_SEATS);
    (void)invfix_hold_one(f, T1 + 2, EV, BOB, LONG, 30);
}

/* Goal: the customer count includes confirmed bookings and alive holds, and
 * not released, expired (even unswept) or cancelled ones. */
static void test_customer_limit_counts_alive_holds_and_bookings(void **state)
{
    struct invfix *f = *state;
    add_event(f, 0, 0);
    uint32_t s[30];
    seat_range(s, 0, 30);
    uint64_t six = invfix_hold_ok(f, T1, EV, ALICE, LONG, s, 6);
    uint64_t booking = invfix_book_ok(f, T1, EV, ALICE, six);
    uint64_t four = invfix_hold_ok(f, T1, EV, ALICE, LONG, s + 6, 4);
    struct cmd c1 = invfix_cmd_hold_seats(f, EV, ALICE, LONG, s + 20, 1);
    invfix_refuse(f, T1 + 1, &c1, USHER_LIMIT_CUSTOMER_SEATS);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, four);
    assert_int_equal(invfix_apply1(f, T1 + 2, &rel).status, USHER_OK);
    (void)invfix_hold_ok(f, T1 + 3, EV, ALICE, TTL, s + 10, 4); /* expires below */
    struct cmd c2 = invfix_cmd_hold_seats(f, EV, ALICE, LONG, s + 20, 1);
    invfix_refuse(f, T1 + 4, &c2, USHER_LIMIT_CUSTOMER_SEATS);
    (void)invfix_hold_ok(f, T1 + 3 + TTL, EV, ALICE, LONG, s + 14, 4);
    struct cmd c3 = invfix_cmd_hold_seats(f, EV, ALICE, LONG, s + 20, 1);
    invfix_refuse(f, T1 + 4 + TTL, &c3, USHER_LIMIT_CUSTOMER_SEATS);
    struct cmd cancel = invfix_cmd_cancel(f, EV, ALICE, booking);
    assert_int_equal(invfix_apply1(f, T1 + 5 + TTL, &cancel).status, USHER_OK);
    (void)invfix_hold_ok(f, T1 + 6 + TTL, EV, ALICE, LONG, s + 20, 6);
    invfix_check(f->inv);
}

/* Goal: GA places count toward the customer limit like seats. */
static void test_customer_limit_counts_ga_places(void **state)
{
    struct invfix *f = *state;
    add_event(f, 0, 0);
    struct cmd ga = invfix_cmd_hold_ga(f, EV, ALICE, LONG, 1, 8);
    assert_int_equal(invfix_apply1(f, T1, &ga).status, USHER_OK);
    uint32_t s[3] = { 0, 1, 2 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, LONG, s, 3);
    invfix_refuse(f, T1 + 1, &c, USHER_LIMIT_CUSTOMER_SEATS);
    (void)invfix_hold_ok(f, T1 + 2, EV, ALICE, LONG, s, 2);
}

/* Goal: a shard stores exactly USHER_SHARD_EVENTS_MAX events; one more is
 * LIMIT_SHARD_EVENTS and leaves no event. */
static void test_shard_events_limit_at_and_over(void **state)
{
    struct invfix *f = *state;
    uint32_t n = USHER_SHARD_EVENTS_MAX;
    struct cmd *c = calloc(n, sizeof *c);
    struct cmd_result *r = calloc(n, sizeof *r);
    struct event **e = calloc(n, sizeof(struct event *));
    assert_non_null(c);
    assert_non_null(r);
    assert_non_null(e);
    for (uint32_t i = 0; i < n; i++) {
        e[i] = invfix_event_seated(i + 1, 1, 2);
        c[i] = invfix_cmd_create(f, e[i]);
    }
    invfix_apply(f, T1, c, n, r);
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(r[i].status, USHER_OK);
        event_destroy(e[i]);
    }
    struct event *extra = invfix_event_seated(n + 1, 1, 2);
    struct cmd over = invfix_cmd_create(f, extra);
    invfix_refuse(f, T1 + 1, &over, USHER_LIMIT_SHARD_EVENTS);
    struct event *none = NULL;
    assert_int_equal(inv_event_get(f->inv, n + 1, &none), USHER_EVENT_NOT_FOUND);
    event_destroy(extra);
    free(e);
    free(c);
    free(r);
}

#define BIG_ROWS      200u
#define BIG_ROW_SEATS 1000u
#define BIG_SEATS     (BIG_ROWS * BIG_ROW_SEATS)

/* Goal: an event of 200,000 seats (200 rows of 1000) can be created, held
 * from at both ends and by best available, and reads back consistently. */
static void test_200k_seat_event_created_and_held(void **state)
{
    struct invfix *f = *state;
    struct event *e = invfix_event_seated(EV, BIG_ROWS, BIG_ROW_SEATS);
    assert_int_equal(e->seat_count, BIG_SEATS);
    assert_int_equal(invfix_event_add(f, T0, e), 0);
    (void)invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    uint64_t last = invfix_hold_one(f, T1, EV, ALICE, TTL, BIG_SEATS - 1);
    struct cmd best = invfix_cmd_hold_best(f, EV, BOB, TTL, 0, 10);
    struct cmd_result r = invfix_apply1(f, T1, &best);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.seats[0], 495);
    assert_int_equal(r.seats[9], 504);
    struct cmd taken = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ BIG_SEATS - 1 }, 1);
    invfix_refuse(f, T1, &taken, USHER_SEAT_TAKEN);
    struct cmd past = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ BIG_SEATS }, 1);
    invfix_refuse(f, T1, &past, USHER_NO_SUCH_SEAT);
    (void)invfix_book_ok(f, T1 + 1, EV, ALICE, last);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->seat_count, BIG_SEATS);
    assert_int_equal(a->sections[0].capacity, BIG_SEATS);
    assert_int_equal(a->sections[0].held, 11);
    assert_int_equal(a->sections[0].booked, 1);
    assert_int_equal(a->sections[0].free, BIG_SEATS - 12);
    assert_false(invfix_bit_is_free(a, BIG_SEATS - 1));
    assert_true(invfix_bit_is_free(a, BIG_SEATS - 2));
    assert_false(invfix_bit_is_free(a, 0));
    free(a);
    struct inv_seat_history *h = calloc(1, sizeof *h);
    assert_non_null(h);
    assert_int_equal(inv_seat_history(f->inv, EV, BIG_SEATS - 1, h), 0);
    assert_int_equal(h->count, 2);
    assert_int_equal(h->entries[0].kind, INV_HISTORY_BOOK);
    free(h);
    invfix_check(f->inv);
}

#define T(name) cmocka_unit_test_setup_teardown(name, invfix_setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hold_seats_limit_at_and_over),
        T(test_hold_seats_at_hard_ceiling),
        T(test_customer_seats_limit_at_and_over),
        T(test_customer_limit_counts_alive_holds_and_bookings),
        T(test_customer_limit_counts_ga_places),
        T(test_shard_events_limit_at_and_over),
        T(test_200k_seat_event_created_and_held),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
