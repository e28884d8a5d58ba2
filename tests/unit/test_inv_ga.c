/*
 * Unit tests of general-admission holds (CMD_HOLD_GA): places out of the
 * capacity, SOLD_OUT, the section kind checks, and places coming back by
 * release, cancel and (for expired holds) by the sweep.
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
#define GA10  1u /* section index of the GA section of 10 places */
#define GA3   2u /* section index of the GA section of 3 places */

/* Sections of EV: S0 seated (1 row of 10), S1 GA of 10, S2 GA of 3. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    struct invfix_section s[3] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 3 },
    };
    assert_int_equal(invfix_event_add(f, T0, invfix_event_make(EV, s, 3)), 0);
    return 0;
}

/* Holds count GA places of section for customer at ts; expects success. */
static uint64_t ga_ok(struct invfix *f, uint64_t ts, uint64_t customer, uint16_t section,
                      uint16_t count)
{
    struct cmd c = invfix_cmd_hold_ga(f, EV, customer, TTL, section, count);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_HOLD_GA);
    assert_int_equal(r.seat_count, count);
    assert_int_equal(r.id, invfix_id(f->index, 0));
    assert_int_equal(r.expires_at_ms, inv_now(f->inv) + TTL);
    return r.id;
}

/* Asserts the availability of one section. */
static void assert_section(struct invfix *f, uint32_t section, uint32_t free_places, uint32_t held,
                           uint32_t booked, uint32_t capacity)
{
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[section].free, free_places);
    assert_int_equal(a->sections[section].held, held);
    assert_int_equal(a->sections[section].booked, booked);
    assert_int_equal(a->sections[section].capacity, capacity);
    free(a);
}

/* Goal: a GA hold takes places from the capacity and is recorded as a GA
 * hold of its section. */
static void test_ga_hold_takes_places(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = ga_ok(f, T0 + 1, ALICE, GA10, 4);
    assert_section(f, GA10, 6, 4, 0, 10);
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.ga, 1);
    assert_int_equal(h.section, GA10);
    assert_int_equal(h.seat_count, 4);
    assert_int_equal(h.state, INV_HOLD_ACTIVE);
}

/* Goal: the capacity can be filled exactly; one more place is SOLD_OUT and
 * changes nothing. */
static void test_ga_capacity_filled_exactly_then_sold_out(void **state)
{
    struct invfix *f = *state;
    (void)ga_ok(f, T0 + 1, ALICE, GA10, 6);
    (void)ga_ok(f, T0 + 2, BOB, GA10, 4);
    assert_section(f, GA10, 0, 10, 0, 10);
    struct cmd c = invfix_cmd_hold_ga(f, EV, CAROL, TTL, GA10, 1);
    invfix_refuse(f, T0 + 3, &c, USHER_SOLD_OUT);
    assert_section(f, GA10, 0, 10, 0, 10);
}

/* Goal: asking more places than are left is SOLD_OUT even when some are
 * left; asking exactly what is left succeeds. */
static void test_ga_more_than_left_is_sold_out(void **state)
{
    struct invfix *f = *state;
    (void)ga_ok(f, T0 + 1, ALICE, GA10, 8);
    struct cmd c = invfix_cmd_hold_ga(f, EV, BOB, TTL, GA10, 3);
    invfix_refuse(f, T0 + 2, &c, USHER_SOLD_OUT);
    (void)ga_ok(f, T0 + 3, BOB, GA10, 2);
}

/* Goal: a GA hold on a seated section is WRONG_SECTION_KIND. */
static void test_ga_on_seated_section_is_wrong_section_kind(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_ga(f, EV, ALICE, TTL, 0, 1);
    invfix_refuse(f, T0 + 1, &c, USHER_WRONG_SECTION_KIND);
}

/* Goal: a GA hold on a section index past the last is NO_SUCH_SECTION. */
static void test_ga_section_out_of_range_is_no_such_section(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_ga(f, EV, ALICE, TTL, 3, 1);
    invfix_refuse(f, T0 + 1, &c, USHER_NO_SUCH_SECTION);
}

/* Goal: places of an expired GA hold come back when a sweep expires it
 * (the documented rule): SOLD_OUT before the sweep, held after it; the
 * expired hold itself is never honoured. */
static void test_ga_places_of_expired_hold_return_when_swept(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = ga_ok(f, T0 + 1, ALICE, GA3, 3);
    uint64_t expiry = T0 + 1 + TTL;
    struct cmd before = invfix_cmd_hold_ga(f, EV, BOB, TTL, GA3, 1);
    invfix_refuse(f, expiry, &before, USHER_SOLD_OUT);
    struct cmd book = invfix_cmd_book(f, EV, ALICE, hold, "ref");
    invfix_refuse(f, expiry, &book, USHER_HOLD_EXPIRED);
    struct cmd sweep = invfix_cmd_sweep(USHER_SWEEP_MAX);
    struct cmd_result r = invfix_apply1(f, expiry, &sweep);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.swept, 1);
    assert_int_equal(r.more, 0);
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.state, INV_HOLD_EXPIRED);
    assert_int_equal(h.ended_at_ms, expiry);
    (void)ga_ok(f, expiry + 1, BOB, GA3, 3);
    invfix_check(f->inv);
}

/* Goal: releasing a GA hold gives its places back at once. */
static void test_ga_release_returns_places(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = ga_ok(f, T0 + 1, ALICE, GA3, 3);
    struct cmd c = invfix_cmd_release(f, EV, ALICE, hold);
    assert_int_equal(invfix_apply1(f, T0 + 2, &c).status, USHER_OK);
    assert_section(f, GA3, 3, 0, 0, 3);
    (void)ga_ok(f, T0 + 3, BOB, GA3, 3);
}

/* Goal: booked places stay taken (counted as booked); cancelling the
 * booking puts them back on sale. */
static void test_ga_booked_places_taken_until_cancel(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = ga_ok(f, T0 + 1, ALICE, GA3, 3);
    uint64_t booking = invfix_book_ok(f, T0 + 2, EV, ALICE, hold);
    assert_section(f, GA3, 0, 0, 3, 3);
    struct inv_booking b = invfix_booking(f, booking);
    assert_int_equal(b.ga, 1);
    assert_int_equal(b.section, GA3);
    assert_int_equal(b.seat_count, 3);
    struct cmd sold = invfix_cmd_hold_ga(f, EV, BOB, TTL, GA3, 1);
    invfix_refuse(f, T0 + 3 + 10ull * INVFIX_LIFETIME, &sold, USHER_SOLD_OUT);
    struct cmd cancel = invfix_cmd_cancel(f, EV, ALICE, booking);
    assert_int_equal(invfix_apply1(f, T0 + 4 + 10ull * INVFIX_LIFETIME, &cancel).status, USHER_OK);
    assert_section(f, GA3, 3, 0, 0, 3);
    (void)ga_ok(f, T0 + 5 + 10ull * INVFIX_LIFETIME, BOB, GA3, 3);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_ga_hold_takes_places),
        T(test_ga_capacity_filled_exactly_then_sold_out),
        T(test_ga_more_than_left_is_sold_out),
        T(test_ga_on_seated_section_is_wrong_section_kind),
        T(test_ga_section_out_of_range_is_no_such_section),
        T(test_ga_places_of_expired_hold_return_when_swept),
        T(test_ga_release_returns_places),
        T(test_ga_booked_places_taken_until_cancel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
