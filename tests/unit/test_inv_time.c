/*
 * Unit tests of the time rules of the inventory state machine (inv.h):
 * a hold is alive while now < expires_at and expired from expires_at on,
 * for every command that touches it, whether or not a sweep ran; time never
 * goes back; TTL bounds; the sale window.
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
#define TTL   60000u
#define ALICE 1u
#define BOB   2u
#define CAROL 3u

/* One seated section of 2 rows of 10 seats, created at T0. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(EV, 2, 10)), 0);
    return 0;
}

/* Alice holds seat 3 at T0 + 1000 with TTL; returns the hold id. */
static uint64_t hold_seat3(struct invfix *f)
{
    return invfix_hold_one(f, T0 + 1000, EV, ALICE, TTL, 3);
}

#define EXPIRY (T0 + 1000 + TTL)

/* Goal: a hold can be booked 1 ms before its expiry. */
static void test_book_accepted_one_ms_before_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, EXPIRY);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    struct cmd_result r = invfix_apply1(f, EXPIRY - 1, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_BOOKED);
}

/* Goal: a hold cannot be booked at exactly its expiry; nothing changes. */
static void test_book_refused_exactly_at_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, EXPIRY, &c, USHER_HOLD_EXPIRED);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_EXPIRED);
}

/* Goal: a hold can be extended 1 ms before its expiry. */
static void test_extend_accepted_one_ms_before_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, TTL);
    struct cmd_result r = invfix_apply1(f, EXPIRY - 1, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.expires_at_ms, EXPIRY - 1 + TTL);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, EXPIRY - 1 + TTL);
}

/* Goal: a hold cannot be extended at exactly its expiry; nothing changes. */
static void test_extend_refused_exactly_at_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, TTL);
    invfix_refuse(f, EXPIRY, &c, USHER_HOLD_EXPIRED);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, EXPIRY);
}

/* Goal: a hold can be released 1 ms before its expiry. */
static void test_release_accepted_one_ms_before_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    struct cmd c = invfix_cmd_release(f, EV, ALICE, hold);
    struct cmd_result r = invfix_apply1(f, EXPIRY - 1, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.id, hold);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_RELEASED);
}

/* Goal: a hold cannot be released at exactly its expiry; nothing changes. */
static void test_release_refused_exactly_at_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    struct cmd c = invfix_cmd_release(f, EV, ALICE, hold);
    invfix_refuse(f, EXPIRY, &c, USHER_HOLD_EXPIRED);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_EXPIRED);
}

/* Goal: 1 ms before expiry the seat is still taken for another customer. */
static void test_new_hold_refused_one_ms_before_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    uint32_t seat = 3;
    struct cmd c = invfix_cmd_hold_seats(f, EV, BOB, TTL, &seat, 1);
    invfix_refuse(f, EXPIRY - 1, &c, USHER_SEAT_TAKEN);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_ACTIVE);
}

/* Goal: at exactly the expiry, with no sweep, another customer takes the
 * seat; the old hold becomes EXPIRED (ended at its expiry) and frees all its
 * seats, including those the new hold did not ask for. */
static void test_new_hold_takes_seat_exactly_at_expiry(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[2] = { 3, 4 };
    uint64_t old = invfix_hold_ok(f, T0 + 1000, EV, ALICE, TTL, seats, 2);
    uint64_t fresh = invfix_hold_one(f, EXPIRY, EV, BOB, TTL, 4);
    struct inv_hold h = invfix_hold(f, old);
    assert_int_equal(h.state, INV_HOLD_EXPIRED);
    assert_int_equal(h.ended_at_ms, EXPIRY);
    assert_int_equal(invfix_hold(f, fresh).state, INV_HOLD_ACTIVE);
    assert_true(invfix_seat_is_free(f, EV, 3));
    assert_false(invfix_seat_is_free(f, EV, 4));
    /* Seat 3 is really free in the stored state: Carol gets it. */
    (void)invfix_hold_one(f, EXPIRY + 1, EV, CAROL, TTL, 3);
    invfix_check(f->inv);
}

/* Goal: an expired hold is never honoured, even hours later with no sweep:
 * book, extend and release are all refused and the seat reads as free. */
static void test_expired_hold_never_honoured_before_any_sweep(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    uint64_t later = EXPIRY + 5ull * 3600u * 1000u;
    struct cmd book = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, later, &book, USHER_HOLD_EXPIRED);
    struct cmd extend = invfix_cmd_extend(f, EV, ALICE, hold, TTL);
    invfix_refuse(f, later + 1, &extend, USHER_HOLD_EXPIRED);
    struct cmd release = invfix_cmd_release(f, EV, ALICE, hold);
    invfix_refuse(f, later + 2, &release, USHER_HOLD_EXPIRED);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_EXPIRED);
    assert_true(invfix_seat_is_free(f, EV, 3));
}

/* Goal: a batch stamped earlier than the previous one is applied at the
 * previous time: the hold's created_at and expiry use that time. */
static void test_earlier_stamp_uses_previous_time(void **state)
{
    struct invfix *f = *state;
    invfix_tick(f, T0 + 100000);
    uint32_t seat = 5;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, &seat, 1);
    struct cmd_result r = invfix_apply1(f, T0 + 50000, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.expires_at_ms, T0 + 100000 + TTL);
    struct inv_hold h = invfix_hold(f, r.id);
    assert_int_equal(h.created_at_ms, T0 + 100000);
    assert_int_equal(h.expires_at_ms, T0 + 100000 + TTL);
    assert_int_equal(inv_now(f->inv), T0 + 100000);
}

/* Goal: once time reached a hold's expiry, a batch stamped before it cannot
 * bring the hold back to life. */
static void test_earlier_stamp_does_not_revive_expired_hold(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_seat3(f);
    invfix_tick(f, EXPIRY);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, EXPIRY - 10, &c, USHER_HOLD_EXPIRED);
    assert_int_equal(inv_now(f->inv), EXPIRY);
}

/* Goal: inv_now() is the largest stamp applied, 0 on a new store. */
static void test_now_is_largest_stamp_applied(void **state)
{
    struct invfix *f = *state;
    struct invfix fresh;
    invfix_open(&fresh, NULL, false);
    assert_int_equal(inv_now(fresh.inv), 0);
    invfix_close(&fresh);
    assert_int_equal(inv_now(f->inv), T0);
    invfix_tick(f, T0 + 7);
    invfix_tick(f, T0 + 3);
    assert_int_equal(inv_now(f->inv), T0 + 7);
}

/* Goal: TTL 0 means the event's maximum TTL. */
static void test_ttl_zero_means_event_max(void **state)
{
    struct invfix *f = *state;
    uint32_t seat = 1;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, 0, &seat, 1);
    struct cmd_result r = invfix_apply1(f, T0 + 10, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.expires_at_ms, T0 + 10 + INVFIX_TTL_MAX);
    assert_int_equal(invfix_hold(f, r.id).expires_at_ms, T0 + 10 + INVFIX_TTL_MAX);
}

/* Goal: the event's TTL bounds are inclusive: min and max are accepted,
 * min - 1 and max + 1 are refused with TTL_OUT_OF_RANGE, changing nothing. */
static void test_ttl_bounds_inclusive(void **state)
{
    struct invfix *f = *state;
    uint32_t seat = 1;
    struct cmd low = invfix_cmd_hold_seats(f, EV, ALICE, INVFIX_TTL_MIN - 1, &seat, 1);
    invfix_refuse(f, T0 + 10, &low, USHER_TTL_OUT_OF_RANGE);
    struct cmd high = invfix_cmd_hold_seats(f, EV, ALICE, INVFIX_TTL_MAX + 1, &seat, 1);
    invfix_refuse(f, T0 + 10, &high, USHER_TTL_OUT_OF_RANGE);
    uint64_t a = invfix_hold_one(f, T0 + 10, EV, ALICE, INVFIX_TTL_MIN, 1);
    assert_int_equal(invfix_hold(f, a).expires_at_ms, T0 + 10 + INVFIX_TTL_MIN);
    uint64_t b = invfix_hold_one(f, T0 + 10, EV, ALICE, INVFIX_TTL_MAX, 2);
    assert_int_equal(invfix_hold(f, b).expires_at_ms, T0 + 10 + INVFIX_TTL_MAX);
}

#define SALE_EV    200u
#define SALE_START (T0 + 10000)
#define SALE_END   (T0 + 20000)

/* Adds an event (10 seats in one row, GA of 10) on sale in
 * [SALE_START, SALE_END). */
static void add_sale_event(struct invfix *f)
{
    struct invfix_section s[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 10 },
    };
    struct event *e = invfix_event_make(SALE_EV, s, 2);
    e->sale_start_ms = SALE_START;
    e->sale_end_ms = SALE_END;
    assert_int_equal(invfix_event_add(f, T0, e), 0);
}

/* Tries the three kinds of hold at ts; expects `code` for all three. */
static void holds_at(struct invfix *f, uint64_t ts, int code)
{
    uint32_t seat = 0;
    struct cmd c[3] = {
        invfix_cmd_hold_seats(f, SALE_EV, ALICE, TTL, &seat, 1),
        invfix_cmd_hold_best(f, SALE_EV, ALICE, TTL, 0, 1),
        invfix_cmd_hold_ga(f, SALE_EV, ALICE, TTL, 1, 1),
    };
    for (uint32_t i = 0; i < 3; i++) {
        if (code == USHER_OK) {
            struct cmd_result r = invfix_apply1(f, ts, &c[i]);
            assert_int_equal(r.status, USHER_OK);
            /* Give it back so the next round finds the same seats. */
            struct cmd rel = invfix_cmd_release(f, SALE_EV, ALICE, r.id);
            assert_int_equal(invfix_apply1(f, ts, &rel).status, USHER_OK);
        } else {
            invfix_refuse(f, ts, &c[i], code);
        }
    }
}

/* Goal: holds of all three kinds need sale_start <= now < sale_end:
 * refused 1 ms before the start and at the end, accepted at the start and
 * 1 ms before the end. */
static void test_sale_window_start_inclusive_end_exclusive(void **state)
{
    struct invfix *f = *state;
    add_sale_event(f);
    holds_at(f, SALE_START - 1, USHER_SALE_CLOSED);
    holds_at(f, SALE_START, USHER_OK);
    holds_at(f, SALE_END - 1, USHER_OK);
    holds_at(f, SALE_END, USHER_SALE_CLOSED);
}

/* Goal: book, extend, release and cancel still work after the sale ended. */
static void test_sale_end_does_not_bind_book_extend_release_cancel(void **state)
{
    struct invfix *f = *state;
    add_sale_event(f);
    uint64_t h1 = invfix_hold_one(f, SALE_END - 1, SALE_EV, ALICE, TTL, 1);
    uint64_t h2 = invfix_hold_one(f, SALE_END - 1, SALE_EV, ALICE, TTL, 2);
    uint64_t h3 = invfix_hold_one(f, SALE_END - 1, SALE_EV, ALICE, TTL, 3);
    uint64_t h4 = invfix_hold_one(f, SALE_END - 1, SALE_EV, ALICE, TTL, 4);
    uint64_t booking = invfix_book_ok(f, SALE_END - 1, SALE_EV, ALICE, h4);
    struct cmd c[4] = {
        invfix_cmd_book(f, SALE_EV, ALICE, h1, "late"),
        invfix_cmd_extend(f, SALE_EV, ALICE, h2, TTL),
        invfix_cmd_release(f, SALE_EV, ALICE, h3),
        invfix_cmd_cancel(f, SALE_EV, ALICE, booking),
    };
    for (uint32_t i = 0; i < 4; i++) {
        struct cmd_result r = invfix_apply1(f, SALE_END + 5, &c[i]);
        assert_int_equal(r.status, USHER_OK);
    }
    assert_int_equal(invfix_hold(f, h1).state, INV_HOLD_BOOKED);
    assert_int_equal(invfix_hold(f, h2).expires_at_ms, SALE_END + 5 + TTL);
    assert_int_equal(invfix_hold(f, h3).state, INV_HOLD_RELEASED);
    assert_int_equal(invfix_booking(f, booking).state, INV_BOOKING_CANCELLED);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_book_accepted_one_ms_before_expiry),
        T(test_book_refused_exactly_at_expiry),
        T(test_extend_accepted_one_ms_before_expiry),
        T(test_extend_refused_exactly_at_expiry),
        T(test_release_accepted_one_ms_before_expiry),
        T(test_release_refused_exactly_at_expiry),
        T(test_new_hold_refused_one_ms_before_expiry),
        T(test_new_hold_takes_seat_exactly_at_expiry),
        T(test_expired_hold_never_honoured_before_any_sweep),
        T(test_earlier_stamp_uses_previous_time),
        T(test_earlier_stamp_does_not_revive_expired_hold),
        T(test_now_is_largest_stamp_applied),
        T(test_ttl_zero_means_event_max),
        T(test_ttl_bounds_inclusive),
        T(test_sale_window_start_inclusive_end_exclusive),
        T(test_sale_end_does_not_bind_book_extend_release_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
