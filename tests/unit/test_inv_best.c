/*
 * Unit tests of best-available holds (CMD_HOLD_BEST): the front row first,
 * inside it the block nearest the row's centre, ties to the lower seat
 * index, never a split (NO_ADJACENT_SEATS), and the section checks.
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

/* Sections of EV:
 *   S0 seated, 3 rows of 10: seats 0..9, 10..19, 20..29
 *   S1 GA, capacity 50
 *   S2 seated, 2 rows of 9: seats 30..38, 39..47 */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    struct invfix_section s[3] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 3, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 50 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 9 },
    };
    assert_int_equal(invfix_event_add(f, T0, invfix_event_make(EV, s, 3)), 0);
    return 0;
}

/* Holds `count` best seats of `section` for customer at ts, expects success
 * and exactly the seats first .. first + count - 1; returns the hold id. */
static uint64_t best_ok(struct invfix *f, uint64_t ts, uint64_t customer, uint16_t section,
                        uint16_t count, uint32_t first)
{
    struct cmd c = invfix_cmd_hold_best(f, EV, customer, TTL, section, count);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_HOLD_BEST);
    assert_int_equal(r.id, invfix_id(f->index, 0));
    assert_int_equal(r.seat_count, count);
    for (uint32_t i = 0; i < count; i++) {
        assert_int_equal(r.seats[i], first + i);
    }
    return r.id;
}

/* Goal: in an empty section, the block of 2 centred in the front row
 * (seats 4 and 5 of 0..9) is chosen, held and recorded on the hold. */
static void test_best_empty_section_takes_front_row_centre(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = best_ok(f, T0 + 1, ALICE, 0, 2, 4);
    struct inv_hold h = invfix_hold(f, hold);
    assert_int_equal(h.ga, 0);
    assert_int_equal(h.seat_count, 2);
    assert_int_equal(h.seats[0], 4);
    assert_int_equal(h.seats[1], 5);
    assert_int_equal(h.expires_at_ms, T0 + 1 + TTL);
    assert_false(invfix_seat_is_free(f, EV, 4));
    assert_false(invfix_seat_is_free(f, EV, 5));
}

/* Goal: two blocks equally near the centre: the lower seat index wins
 * (3 of 10: 3..5 and 4..6; 2 of 9: 3..4 and 4..5). */
static void test_best_tie_goes_to_lower_seat_index(void **state)
{
    struct invfix *f = *state;
    (void)best_ok(f, T0 + 1, ALICE, 0, 3, 3);
    (void)best_ok(f, T0 + 1, BOB, 2, 2, 33);
}

/* Goal: the block whose centre is nearest the row's centre wins, not the
 * first free one (row of 10 with 3..5 held: seat 6, not seat 2). */
static void test_best_nearest_centre_wins(void **state)
{
    struct invfix *f = *state;
    (void)best_ok(f, T0 + 1, ALICE, 0, 3, 3);
    (void)best_ok(f, T0 + 2, BOB, 0, 1, 6);
    /* Odd row of 9 (30..38): its centre seat 34 itself. */
    (void)best_ok(f, T0 + 3, CAROL, 2, 1, 34);
}

/* Goal: the front row wins as long as it has a block, even far from its
 * centre while the next row is empty (row 0 with 3..6 held: 0..2). */
static void test_best_front_row_first_even_off_centre(void **state)
{
    struct invfix *f = *state;
    uint32_t middle[4] = { 3, 4, 5, 6 };
    (void)invfix_hold_ok(f, T0 + 1, EV, ALICE, TTL, middle, 4);
    (void)best_ok(f, T0 + 2, BOB, 0, 3, 0);
}

/* Goal: a row without a block of `count` adjacent free seats is skipped for
 * the next row (row 0 with 2, 5, 8 held has no 3 adjacent: row 1 13..15). */
static void test_best_skips_row_without_block(void **state)
{
    struct invfix *f = *state;
    uint32_t gaps[3] = { 2, 5, 8 };
    (void)invfix_hold_ok(f, T0 + 1, EV, ALICE, TTL, gaps, 3);
    (void)best_ok(f, T0 + 2, BOB, 0, 3, 13);
}

/* Goal: free seats that are not adjacent are never split across a block:
 * 12 free seats in S2 but no 3 adjacent is NO_ADJACENT_SEATS, and nothing
 * changes; 2 adjacent are still found. */
static void test_best_never_splits_no_adjacent_seats(void **state)
{
    struct invfix *f = *state;
    uint32_t row0[3] = { 32, 35, 38 };
    uint32_t row1[3] = { 41, 44, 47 };
    (void)invfix_hold_ok(f, T0 + 1, EV, ALICE, TTL, row0, 3);
    (void)invfix_hold_ok(f, T0 + 1, EV, BOB, TTL, row1, 3);
    struct cmd c = invfix_cmd_hold_best(f, EV, CAROL, TTL, 2, 3);
    invfix_refuse(f, T0 + 2, &c, USHER_NO_ADJACENT_SEATS);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[2].free, 12);
    free(a);
    (void)best_ok(f, T0 + 3, CAROL, 2, 2, 33);
}

/* Goal: a count larger than every row of the section is NO_ADJACENT_SEATS
 * (10 in rows of 9), though it is within the hold limit. */
static void test_best_count_wider_than_rows_is_no_adjacent_seats(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_best(f, EV, ALICE, TTL, 2, 10);
    invfix_refuse(f, T0 + 1, &c, USHER_NO_ADJACENT_SEATS);
    (void)best_ok(f, T0 + 2, ALICE, 0, 10, 0); /* a row of 10 fits exactly */
}

/* Goal: a section index past the last section is NO_SUCH_SECTION. */
static void test_best_section_out_of_range_is_no_such_section(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_best(f, EV, ALICE, TTL, 3, 1);
    invfix_refuse(f, T0 + 1, &c, USHER_NO_SUCH_SECTION);
}

/* Goal: best available in a GA section is WRONG_SECTION_KIND. */
static void test_best_in_ga_section_is_wrong_section_kind(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_best(f, EV, ALICE, TTL, 1, 1);
    invfix_refuse(f, T0 + 1, &c, USHER_WRONG_SECTION_KIND);
}

/* Goal: seats of an expired hold that no sweep freed yet count as free for
 * best available (an expired hold is never honoured): the centre block of
 * the front row is chosen again, and the old hold becomes EXPIRED. */
static void test_best_treats_expired_unswept_hold_seats_as_free(void **state)
{
    struct invfix *f = *state;
    uint32_t middle[4] = { 3, 4, 5, 6 };
    uint64_t old = invfix_hold_ok(f, T0 + 1, EV, ALICE, TTL, middle, 4);
    (void)best_ok(f, T0 + 1 + TTL, BOB, 0, 4, 3);
    assert_int_equal(invfix_hold(f, old).state, INV_HOLD_EXPIRED);
    invfix_check(f->inv);
}

/* Goal: best available respects the customer seat limit (default 10). */
static void test_best_counts_toward_customer_limit(void **state)
{
    struct invfix *f = *state;
    (void)best_ok(f, T0 + 1, ALICE, 0, 8, 1);
    struct cmd c = invfix_cmd_hold_best(f, EV, ALICE, TTL, 0, 3);
    invfix_refuse(f, T0 + 2, &c, USHER_LIMIT_CUSTOMER_SEATS);
    (void)best_ok(f, T0 + 3, ALICE, 0, 2, 14);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_best_empty_section_takes_front_row_centre),
        T(test_best_tie_goes_to_lower_seat_index),
        T(test_best_nearest_centre_wins),
        T(test_best_front_row_first_even_off_centre),
        T(test_best_skips_row_without_block),
        T(test_best_never_splits_no_adjacent_seats),
        T(test_best_count_wider_than_rows_is_no_adjacent_seats),
        T(test_best_section_out_of_range_is_no_such_section),
        T(test_best_in_ga_section_is_wrong_section_kind),
        T(test_best_treats_expired_unswept_hold_seats_as_free),
        T(test_best_counts_toward_customer_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
