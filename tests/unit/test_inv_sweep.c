/*
 * Unit tests of the sweep (CMD_SWEEP): it expires ACTIVE holds whose expiry
 * passed, in expiry order, at most `max` items per command with `more` set
 * when work is left, and purges ended holds and idempotency records once the
 * idempotency window has passed. Bookings are kept forever.
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
#define HOUR  3600000u
#define W     INVFIX_WINDOW
#define ALICE 1u
#define BOB   2u
#define CAROL 3u
#define DAVE  4u

/* Sections of EV: S0 seated (2 rows of 10), S1, S2, S3 GA of 1 place each.
 * A GA place comes back only when the sweep expires its hold, which makes
 * the sweep's choices visible. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    struct invfix_section s[4] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 1 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 1 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 1 },
    };
    assert_int_equal(invfix_event_add(f, T0, invfix_event_make(EV, s, 4)), 0);
    return 0;
}

/* Applies a sweep of max at ts; asserts its result shape and counts. */
static void sweep_expect(struct invfix *f, uint64_t ts, uint32_t max, uint32_t swept, uint8_t more)
{
    struct cmd c = invfix_cmd_sweep(max);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_SWEEP);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(r.id, 0);
    assert_int_equal(r.swept, swept);
    assert_int_equal(r.more, more);
}

/* Holds the single place of GA section `section` for customer. */
static uint64_t ga_one(struct invfix *f, uint64_t ts, uint64_t customer, uint16_t section,
                       uint32_t ttl)
{
    struct cmd c = invfix_cmd_hold_ga(f, EV, customer, ttl, section, 1);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    assert_int_equal(r.status, USHER_OK);
    return r.id;
}

/* Asserts the place of GA section `section` is still not back. */
static void ga_sold_out(struct invfix *f, uint64_t ts, uint16_t section)
{
    struct cmd c = invfix_cmd_hold_ga(f, EV, DAVE, TTL, section, 1);
    invfix_refuse(f, ts, &c, USHER_SOLD_OUT);
}

/* Goal: the sweep expires due holds in expiry order (not id order), one per
 * sweep of max 1, setting ended_at to each hold's expiry. */
static void test_sweep_expires_in_expiry_order(void **state)
{
    struct invfix *f = *state;
    uint64_t a = ga_one(f, T1, ALICE, 1, 5 * TTL); /* expires last */
    uint64_t b = ga_one(f, T1, BOB, 2, 1 * TTL);   /* expires first */
    uint64_t c = ga_one(f, T1, CAROL, 3, 3 * TTL); /* expires second */
    uint64_t now = T1 + 6ull * TTL;
    sweep_expect(f, now, 1, 1, 1);
    assert_int_equal(invfix_hold(f, b).ended_at_ms, T1 + TTL);
    ga_sold_out(f, now, 1);
    ga_sold_out(f, now, 3);
    (void)ga_one(f, now, DAVE, 2, TTL);
    sweep_expect(f, now, 1, 1, 1);
    assert_int_equal(invfix_hold(f, c).ended_at_ms, T1 + 3ull * TTL);
    ga_sold_out(f, now, 1);
    sweep_expect(f, now, 1, 1, 0);
    struct inv_hold h = invfix_hold(f, a);
    assert_int_equal(h.state, INV_HOLD_EXPIRED);
    assert_int_equal(h.ended_at_ms, T1 + 5ull * TTL);
    invfix_check(f->inv);
}

/* Goal: a hold is due for the sweep at exactly its expiry, not 1 ms before. */
static void test_sweep_due_exactly_at_expiry(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = ga_one(f, T1, ALICE, 1, TTL);
    sweep_expect(f, T1 + TTL - 1, USHER_SWEEP_MAX, 0, 0);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_ACTIVE);
    sweep_expect(f, T1 + TTL, USHER_SWEEP_MAX, 1, 0);
    assert_int_equal(invfix_hold(f, hold).ended_at_ms, T1 + TTL);
    (void)ga_one(f, T1 + TTL, BOB, 1, TTL);
}

/* Goal: a sweep handles at most max items and sets more while due ones are
 * left; a sweep that handles exactly the last due ones reports no more. */
static void test_sweep_bounded_by_max_and_reports_more(void **state)
{
    struct invfix *f = *state;
    for (uint32_t i = 0; i < 5; i++) {
        (void)invfix_hold_one(f, T1, EV, ALICE, TTL + i, i);
    }
    uint64_t now = T1 + 2ull * TTL;
    sweep_expect(f, now, 2, 2, 1);
    sweep_expect(f, now, 2, 2, 1);
    sweep_expect(f, now, 2, 1, 0);
    sweep_expect(f, now, 2, 0, 0);
    for (uint32_t i = 5; i < 9; i++) {
        (void)invfix_hold_one(f, now, EV, BOB, TTL, i);
    }
    sweep_expect(f, now + TTL, 4, 4, 0);
    invfix_check(f->inv);
}

/* Goal: the sweep leaves live, released and booked holds alone and does not
 * count a hold already expired by a new hold on its seat. */
static void test_sweep_touches_only_due_active_holds(void **state)
{
    struct invfix *f = *state;
    uint64_t released = invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    uint64_t booked = invfix_hold_one(f, T1, EV, ALICE, TTL, 1);
    uint64_t taken_over = invfix_hold_one(f, T1, EV, ALICE, TTL, 2);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, released);
    assert_int_equal(invfix_apply1(f, T1 + 1, &rel).status, USHER_OK);
    (void)invfix_book_ok(f, T1 + 1, EV, ALICE, booked);
    uint64_t live = invfix_hold_one(f, T1 + TTL, EV, BOB, TTL, 2);
    assert_int_equal(invfix_hold(f, taken_over).state, INV_HOLD_EXPIRED);
    sweep_expect(f, T1 + TTL + 1, USHER_SWEEP_MAX, 0, 0);
    assert_int_equal(invfix_hold(f, released).state, INV_HOLD_RELEASED);
    assert_int_equal(invfix_hold(f, released).ended_at_ms, T1 + 1);
    assert_int_equal(invfix_hold(f, booked).state, INV_HOLD_BOOKED);
    assert_int_equal(invfix_hold(f, live).state, INV_HOLD_ACTIVE);
}

/* Goal: ended holds and idempotency records are purged once the window has
 * passed since they ended or were made, not before; bookings stay. */
static void test_sweep_purges_old_records_after_window(void **state)
{
    struct invfix *f = *state;
    /* Records: create (T0); hold1 (T0+1h); release (T0+1h+1s, hold1 ends);
     * hold2 (T0+3h); book (T0+3h+1, hold2 ends). */
    uint64_t hold1 = invfix_hold_one(f, T0 + HOUR, EV, ALICE, TTL, 0);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, hold1);
    assert_int_equal(invfix_apply1(f, T0 + HOUR + 1000, &rel).status, USHER_OK);
    uint64_t hold2 = invfix_hold_one(f, T0 + 3ull * HOUR, EV, ALICE, TTL, 1);
    uint64_t booking = invfix_book_ok(f, T0 + 3ull * HOUR + 1, EV, ALICE, hold2);
    sweep_expect(f, T0 + W - 1, USHER_SWEEP_MAX, 0, 0);
    sweep_expect(f, T0 + W + 1, USHER_SWEEP_MAX, 1, 0);
    sweep_expect(f, T0 + HOUR + W + 1, USHER_SWEEP_MAX, 1, 0);
    (void)invfix_hold(f, hold1);
    sweep_expect(f, T0 + HOUR + 1000 + W + 1, USHER_SWEEP_MAX, 2, 0);
    struct inv_hold h;
    assert_int_equal(inv_hold_get(f->inv, hold1, &h), USHER_HOLD_NOT_FOUND);
    (void)invfix_hold(f, hold2);
    sweep_expect(f, T0 + 3ull * HOUR + W + 2, USHER_SWEEP_MAX, 3, 0);
    assert_int_equal(inv_hold_get(f->inv, hold2, &h), USHER_HOLD_NOT_FOUND);
    sweep_expect(f, T0 + 100 * W, USHER_SWEEP_MAX, 0, 0);
    struct inv_booking b = invfix_booking(f, booking);
    assert_int_equal(b.state, INV_BOOKING_CONFIRMED);
    assert_int_equal(b.hold_id, hold2);
    assert_false(invfix_seat_is_free(f, EV, 1));
    invfix_check(f->inv);
}

/* Goal: purging is bounded by max too, with more set while records are due. */
static void test_sweep_purge_bounded_by_max(void **state)
{
    struct invfix *f = *state;
    for (uint32_t i = 0; i < 5; i++) {
        uint64_t hold = invfix_hold_one(f, T1, EV, ALICE, TTL, 10 + i);
        struct cmd rel = invfix_cmd_release(f, EV, ALICE, hold);
        assert_int_equal(invfix_apply1(f, T1, &rel).status, USHER_OK);
    }
    /* Due at T1 + W + 1: five ended holds to purge, and eleven idempotency
     * records (the create, five holds, five releases; refusals leave none). */
    sweep_expect(f, T1 + W + 1, 10, 10, 1);
    sweep_expect(f, T1 + W + 1, 10, 6, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_sweep_expires_in_expiry_order),         T(test_sweep_due_exactly_at_expiry),
        T(test_sweep_bounded_by_max_and_reports_more), T(test_sweep_touches_only_due_active_holds),
        T(test_sweep_purges_old_records_after_window), T(test_sweep_purge_bounded_by_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
