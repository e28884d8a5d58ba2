/*
 * Unit tests of the commands on an existing hold or booking: book (with its
 * fencing: expired, released, already booked, another customer), extend
 * (with the lifetime bound), release, and cancel of a booking.
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
#define TTL      60000u
#define ALICE    1u
#define BOB      2u

/* Events EV and OTHER_EV: one seated section of 2 rows of 10 seats. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(EV, 2, 10)), 0);
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(OTHER_EV, 2, 10)), 0);
    return 0;
}

/* Alice holds seats 4 and 5 at T0 + 1000 (TTL); returns the hold id. */
static uint64_t hold_pair(struct invfix *f)
{
    uint32_t seats[2] = { 4, 5 };
    return invfix_hold_ok(f, T0 + 1000, EV, ALICE, TTL, seats, 2);
}

/* ---- Book ---- */

/* Goal: booking a live hold creates a booking with the book command's slot
 * id, stores the payment reference, marks the hold BOOKED and the seats
 * booked. */
static void test_book_creates_booking_and_books_seats(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c[2] = {
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 9 }, 1),
        invfix_cmd_book(f, EV, ALICE, hold, "pay-123"),
    };
    struct cmd_result r[2];
    invfix_apply(f, T0 + 2000, c, 2, r);
    assert_int_equal(r[1].status, USHER_OK);
    assert_int_equal(r[1].type, CMD_HOLD_BOOK);
    uint64_t booking = invfix_id(f->index, 1);
    assert_int_equal(r[1].id, booking);
    struct inv_booking b = invfix_booking(f, booking);
    assert_int_equal(b.event_id, EV);
    assert_int_equal(b.customer_id, ALICE);
    assert_int_equal(b.hold_id, hold);
    assert_int_equal(b.state, INV_BOOKING_CONFIRMED);
    assert_int_equal(b.ga, 0);
    assert_int_equal(b.seat_count, 2);
    assert_int_equal(b.seats[0], 4);
    assert_int_equal(b.seats[1], 5);
    assert_int_equal(b.booked_at_ms, T0 + 2000);
    assert_string_equal(b.payment_ref, "pay-123");
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.state, INV_HOLD_BOOKED);
    assert_int_equal(h.booking_id, booking);
    assert_int_equal(h.ended_at_ms, T0 + 2000);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[0].booked, 2);
    assert_int_equal(a->sections[0].held, 1);
    assert_false(invfix_bit_is_free(a, 4));
    assert_false(invfix_bit_is_free(a, 5));
    free(a);
}

/* Goal: booking an expired hold is HOLD_EXPIRED (fencing) and changes
 * nothing. */
static void test_book_expired_hold_is_hold_expired(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, T0 + 1000 + TTL + 1, &c, USHER_HOLD_EXPIRED);
}

/* Goal: booking a released hold is HOLD_RELEASED and changes nothing. */
static void test_book_released_hold_is_hold_released(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, hold);
    assert_int_equal(invfix_apply1(f, T0 + 1001, &rel).status, USHER_OK);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, T0 + 1002, &c, USHER_HOLD_RELEASED);
}

/* Goal: booking a hold twice (new key) is HOLD_BOOKED, changes nothing and
 * makes no second booking. */
static void test_book_booked_hold_is_hold_booked(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    (void)invfix_book_ok(f, T0 + 1001, EV, ALICE, hold);
    struct cmd c = invfix_cmd_book(f, EV, ALICE, hold, "ref-2");
    invfix_refuse(f, T0 + 1002, &c, USHER_HOLD_BOOKED);
    struct inv_booking b;
    assert_int_equal(inv_booking_get(f->inv, invfix_id(f->index, 0), &b), USHER_BOOKING_NOT_FOUND);
}

/* Goal: booking another customer's hold is NOT_OWNER and changes nothing. */
static void test_book_other_customers_hold_is_not_owner(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c = invfix_cmd_book(f, EV, BOB, hold, "ref");
    invfix_refuse(f, T0 + 1001, &c, USHER_NOT_OWNER);
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_ACTIVE);
}

/* ---- Extend ---- */

/* Goal: extend moves the expiry to now + ttl and keeps the hold alive past
 * its old expiry. */
static void test_extend_moves_expiry_to_now_plus_ttl(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, 2ull * TTL);
    struct cmd_result r = invfix_apply1(f, T0 + 5000, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_HOLD_EXTEND);
    assert_int_equal(r.id, hold);
    assert_int_equal(r.expires_at_ms, T0 + 5000 + 2ull * TTL);
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.expires_at_ms, T0 + 5000 + 2ull * TTL);
    assert_int_equal(h.created_at_ms, T0 + 1000);
    /* Alive after the old expiry: it can be booked. */
    (void)invfix_book_ok(f, T0 + 1000 + TTL + 1, EV, ALICE, hold);
}

/* Goal: extend with ttl 0 uses the event's maximum TTL. */
static void test_extend_ttl_zero_means_event_max(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, 0);
    struct cmd_result r = invfix_apply1(f, T0 + 5000, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.expires_at_ms, T0 + 5000 + INVFIX_TTL_MAX);
}

/* Goal: extend with a ttl outside the event's bounds is TTL_OUT_OF_RANGE. */
static void test_extend_ttl_out_of_range(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd low = invfix_cmd_extend(f, EV, ALICE, hold, INVFIX_TTL_MIN - 1);
    invfix_refuse(f, T0 + 5000, &low, USHER_TTL_OUT_OF_RANGE);
    struct cmd high = invfix_cmd_extend(f, EV, ALICE, hold, INVFIX_TTL_MAX + 1);
    invfix_refuse(f, T0 + 5000, &high, USHER_TTL_OUT_OF_RANGE);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, T0 + 1000 + TTL);
}

/* Extends hold to now + ttl at now; expects success. */
static void extend_ok(struct invfix *f, uint64_t hold, uint64_t now, uint32_t ttl)
{
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, ttl);
    struct cmd_result r = invfix_apply1(f, now, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.expires_at_ms, now + ttl);
}

/* Goal: an extension may reach exactly created_at + lifetime max but not
 * 1 ms past it (LIMIT_HOLD_LIFETIME, nothing changes). */
static void test_extend_bounded_by_hold_lifetime(void **state)
{
    struct invfix *f = *state;
    uint64_t created = T0 + 1000;
    uint64_t hold = hold_pair(f);
    uint64_t bound = created + INVFIX_LIFETIME;
    extend_ok(f, hold, created + 50000, INVFIX_TTL_MAX);
    extend_ok(f, hold, created + 600000, INVFIX_TTL_MAX);
    extend_ok(f, hold, created + 1150000, INVFIX_TTL_MAX);
    /* now + ttl = bound + 1 */
    struct cmd c = invfix_cmd_extend(f, EV, ALICE, hold, INVFIX_TTL_MAX);
    invfix_refuse(f, bound - INVFIX_TTL_MAX + 1, &c, USHER_LIMIT_HOLD_LIFETIME);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, created + 1150000 + INVFIX_TTL_MAX);
    /* now + ttl = bound exactly */
    extend_ok(f, hold, bound - INVFIX_TTL_MAX + 1, INVFIX_TTL_MAX - 1);
    assert_int_equal(invfix_hold(f, hold).expires_at_ms, bound);
}

/* Goal: extend of a released, booked, foreign or unknown hold is refused
 * with its code and changes nothing. */
static void test_extend_refusals(void **state)
{
    struct invfix *f = *state;
    uint64_t released = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 0);
    uint64_t booked = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 1);
    uint64_t live = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 2);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, released);
    assert_int_equal(invfix_apply1(f, T0 + 2, &rel).status, USHER_OK);
    (void)invfix_book_ok(f, T0 + 2, EV, ALICE, booked);
    struct cmd c1 = invfix_cmd_extend(f, EV, ALICE, released, TTL);
    invfix_refuse(f, T0 + 3, &c1, USHER_HOLD_RELEASED);
    struct cmd c2 = invfix_cmd_extend(f, EV, ALICE, booked, TTL);
    invfix_refuse(f, T0 + 3, &c2, USHER_HOLD_BOOKED);
    struct cmd c3 = invfix_cmd_extend(f, EV, BOB, live, TTL);
    invfix_refuse(f, T0 + 3, &c3, USHER_NOT_OWNER);
    struct cmd c4 = invfix_cmd_extend(f, EV, ALICE, live + 77, TTL);
    invfix_refuse(f, T0 + 3, &c4, USHER_HOLD_NOT_FOUND);
}

/* ---- Release ---- */

/* Goal: release ends the hold (RELEASED, ended now) and frees its seats for
 * anyone at once. */
static void test_release_frees_seats(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    struct cmd c = invfix_cmd_release(f, EV, ALICE, hold);
    struct cmd_result r = invfix_apply1(f, T0 + 2000, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_HOLD_RELEASE);
    assert_int_equal(r.id, hold);
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.state, INV_HOLD_RELEASED);
    assert_int_equal(h.ended_at_ms, T0 + 2000);
    assert_true(invfix_seat_is_free(f, EV, 4));
    assert_true(invfix_seat_is_free(f, EV, 5));
    uint32_t seats[2] = { 4, 5 };
    (void)invfix_hold_ok(f, T0 + 2001, EV, BOB, TTL, seats, 2);
}

/* Goal: release of a released, booked, foreign or unknown hold is refused
 * with its code and changes nothing. */
static void test_release_refusals(void **state)
{
    struct invfix *f = *state;
    uint64_t released = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 0);
    uint64_t booked = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 1);
    uint64_t live = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 2);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, released);
    assert_int_equal(invfix_apply1(f, T0 + 2, &rel).status, USHER_OK);
    (void)invfix_book_ok(f, T0 + 2, EV, ALICE, booked);
    struct cmd c1 = invfix_cmd_release(f, EV, ALICE, released);
    invfix_refuse(f, T0 + 3, &c1, USHER_HOLD_RELEASED);
    struct cmd c2 = invfix_cmd_release(f, EV, ALICE, booked);
    invfix_refuse(f, T0 + 3, &c2, USHER_HOLD_BOOKED);
    struct cmd c3 = invfix_cmd_release(f, EV, BOB, live);
    invfix_refuse(f, T0 + 3, &c3, USHER_NOT_OWNER);
    struct cmd c4 = invfix_cmd_release(f, EV, ALICE, live + 77);
    invfix_refuse(f, T0 + 3, &c4, USHER_HOLD_NOT_FOUND);
    assert_false(invfix_seat_is_free(f, EV, 2));
}

/* ---- Cancel ---- */

/* Goal: cancel marks the booking CANCELLED and puts its seats back on sale
 * for anyone; the booking stays readable. */
static void test_cancel_puts_seats_back_on_sale(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    uint64_t booking = invfix_book_ok(f, T0 + 1001, EV, ALICE, hold);
    struct cmd c = invfix_cmd_cancel(f, EV, ALICE, booking);
    struct cmd_result r = invfix_apply1(f, T0 + 9000, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_BOOKING_CANCEL);
    assert_int_equal(r.id, booking);
    struct inv_booking b = invfix_booking(f, booking);
    assert_int_equal(b.state, INV_BOOKING_CANCELLED);
    assert_int_equal(b.cancelled_at_ms, T0 + 9000);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[0].booked, 0);
    assert_true(invfix_bit_is_free(a, 4));
    assert_true(invfix_bit_is_free(a, 5));
    free(a);
    uint32_t seats[2] = { 4, 5 };
    (void)invfix_hold_ok(f, T0 + 9001, EV, BOB, TTL, seats, 2);
}

/* Goal: cancel of a foreign, cancelled, unknown or other-event booking is
 * refused with its code and changes nothing. */
static void test_cancel_refusals(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = hold_pair(f);
    uint64_t booking = invfix_book_ok(f, T0 + 1001, EV, ALICE, hold);
    struct cmd c1 = invfix_cmd_cancel(f, EV, BOB, booking);
    invfix_refuse(f, T0 + 1002, &c1, USHER_NOT_OWNER);
    struct cmd c2 = invfix_cmd_cancel(f, OTHER_EV, ALICE, booking);
    invfix_refuse(f, T0 + 1002, &c2, USHER_BOOKING_NOT_FOUND);
    struct cmd c3 = invfix_cmd_cancel(f, EV, ALICE, booking + 1);
    invfix_refuse(f, T0 + 1002, &c3, USHER_BOOKING_NOT_FOUND);
    struct cmd c4 = invfix_cmd_cancel(f, EV, ALICE, hold); /* a hold id is no booking */
    invfix_refuse(f, T0 + 1002, &c4, USHER_BOOKING_NOT_FOUND);
    struct cmd ok = invfix_cmd_cancel(f, EV, ALICE, booking);
    assert_int_equal(invfix_apply1(f, T0 + 1003, &ok).status, USHER_OK);
    struct cmd c5 = invfix_cmd_cancel(f, EV, ALICE, booking);
    invfix_refuse(f, T0 + 1004, &c5, USHER_BOOKING_CANCELLED);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_book_creates_booking_and_books_seats),
        T(test_book_expired_hold_is_hold_expired),
        T(test_book_released_hold_is_hold_released),
        T(test_book_booked_hold_is_hold_booked),
        T(test_book_other_customers_hold_is_not_owner),
        T(test_extend_moves_expiry_to_now_plus_ttl),
        T(test_extend_ttl_zero_means_event_max),
        T(test_extend_ttl_out_of_range),
        T(test_extend_bounded_by_hold_lifetime),
        T(test_extend_refusals),
        T(test_release_frees_seats),
        T(test_release_refusals),
        T(test_cancel_puts_seats_back_on_sale),
        T(test_cancel_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
