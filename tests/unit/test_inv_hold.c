/*
 * Unit tests of holding named seats (CMD_HOLD_SEATS): all or nothing, the
 * refusal codes, ids derived from the log position, and the event and
 * ownership checks shared by every hold command.
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
#define SEATS    20u

/* Event EV: one seated section of 2 rows of 10 seats; event OTHER_EV: the
 * same shape. Both created at T0. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(EV, 2, 10)), 0);
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(OTHER_EV, 2, 10)), 0);
    return 0;
}

/* Goal: a hold of named seats succeeds, reports its seats ascending, its
 * expiry now + ttl and the id (index << 12 | slot); the seats read as held. */
static void test_hold_seats_reports_sorted_seats_expiry_and_id(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[3] = { 15, 2, 9 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 3);
    struct cmd_result r = invfix_apply1(f, T0 + 5, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_HOLD_SEATS);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(r.id, invfix_id(f->index, 0));
    assert_int_equal(r.expires_at_ms, T0 + 5 + TTL);
    assert_int_equal(r.seat_count, 3);
    assert_int_equal(r.seats[0], 2);
    assert_int_equal(r.seats[1], 9);
    assert_int_equal(r.seats[2], 15);
    struct inv_availability *a = invfix_avail(f, EV);
    for (uint32_t i = 0; i < SEATS; i++) {
        bool held = i == 2 || i == 9 || i == 15;
        assert_int_equal(invfix_bit_is_free(a, i), !held);
    }
    free(a);
}

/* Goal: ids are (index << 12) | slot for every creating slot of a batch, at
 * a small and a large log index. */
static void test_hold_ids_are_index_shifted_by_12_or_slot(void **state)
{
    struct invfix *f = *state;
    uint64_t indexes[2] = { 0, 123456789u };
    for (uint32_t k = 0; k < 2; k++) {
        if (indexes[k] != 0) {
            f->index = indexes[k] - 1; /* the next batch goes at indexes[k] */
        }
        struct cmd c[3];
        for (uint32_t s = 0; s < 3; s++) {
            uint32_t seat = k * 3 + s;
            c[s] = invfix_cmd_hold_seats(f, EV, ALICE, TTL, &seat, 1);
        }
        struct cmd_result r[3];
        invfix_apply(f, T0 + 1, c, 3, r);
        for (uint32_t s = 0; s < 3; s++) {
            assert_int_equal(r[s].status, USHER_OK);
            assert_int_equal(r[s].id, (f->index << 12) | s);
            assert_int_equal(invfix_hold(f, r[s].id).seats[0], k * 3 + s);
        }
    }
    assert_int_equal(inv_applied_index(f->inv), 123456789u);
}

/* Goal: holding named seats is all or nothing: one taken seat refuses the
 * whole hold and leaves the other seats free. */
static void test_hold_seats_all_or_nothing(void **state)
{
    struct invfix *f = *state;
    (void)invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 3);
    uint32_t seats[4] = { 1, 2, 3, 4 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, BOB, TTL, seats, 4);
    invfix_refuse(f, T0 + 2, &c, USHER_SEAT_TAKEN);
    assert_true(invfix_seat_is_free(f, EV, 1));
    assert_true(invfix_seat_is_free(f, EV, 2));
    assert_true(invfix_seat_is_free(f, EV, 4));
    /* The free ones are really free: Bob takes them without seat 3. */
    uint32_t rest[3] = { 1, 2, 4 };
    (void)invfix_hold_ok(f, T0 + 3, EV, BOB, TTL, rest, 3);
}

/* Goal: a seat held by the same customer's alive hold is SEAT_TAKEN too. */
static void test_hold_seat_held_by_same_customer_is_taken(void **state)
{
    struct invfix *f = *state;
    (void)invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 7);
    uint32_t seats[2] = { 6, 7 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 2);
    invfix_refuse(f, T0 + 2, &c, USHER_SEAT_TAKEN);
}

/* Goal: a booked seat is SEAT_TAKEN. */
static void test_hold_booked_seat_is_taken(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 8);
    (void)invfix_book_ok(f, T0 + 2, EV, ALICE, hold);
    struct cmd c = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 8 }, 1);
    invfix_refuse(f, T0 + 3, &c, USHER_SEAT_TAKEN);
    /* Still taken long after: a booking has no expiry. */
    struct cmd later = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 8 }, 1);
    invfix_refuse(f, T0 + 10ull * INVFIX_LIFETIME, &later, USHER_SEAT_TAKEN);
}

/* Goal: the last seat index is accepted, seat_count is NO_SUCH_SEAT. */
static void test_hold_seat_index_out_of_range_is_no_such_seat(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[2] = { 0, SEATS };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 2);
    invfix_refuse(f, T0 + 1, &c, USHER_NO_SUCH_SEAT);
    struct cmd far =
        invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ USHER_EVENT_SEATS_MAX - 1 }, 1);
    invfix_refuse(f, T0 + 1, &far, USHER_NO_SUCH_SEAT);
    (void)invfix_hold_one(f, T0 + 2, EV, ALICE, TTL, SEATS - 1);
}

/* Goal: a seat named twice in one hold is DUPLICATE_SEAT. */
static void test_hold_seat_named_twice_is_duplicate_seat(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[3] = { 4, 5, 4 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 3);
    invfix_refuse(f, T0 + 1, &c, USHER_DUPLICATE_SEAT);
}

/* Goal: every hold kind on an unknown event is EVENT_NOT_FOUND. */
static void test_hold_unknown_event_is_event_not_found(void **state)
{
    struct invfix *f = *state;
    struct cmd c[3] = {
        invfix_cmd_hold_seats(f, 999, ALICE, TTL, (uint32_t[]){ 0 }, 1),
        invfix_cmd_hold_best(f, 999, ALICE, TTL, 0, 1),
        invfix_cmd_hold_ga(f, 999, ALICE, TTL, 0, 1),
    };
    for (uint32_t i = 0; i < 3; i++) {
        invfix_refuse(f, T0 + 1, &c[i], USHER_EVENT_NOT_FOUND);
    }
}

/* Goal: extend, release and book that name another event than the hold's
 * are HOLD_NOT_FOUND; so is an id that was never made. */
static void test_hold_commands_with_wrong_event_are_hold_not_found(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 0);
    struct cmd c[6] = {
        invfix_cmd_extend(f, OTHER_EV, ALICE, hold, TTL),
        invfix_cmd_release(f, OTHER_EV, ALICE, hold),
        invfix_cmd_book(f, OTHER_EV, ALICE, hold, "ref"),
        invfix_cmd_extend(f, EV, ALICE, hold + 1, TTL),
        invfix_cmd_release(f, EV, ALICE, hold + 1),
        invfix_cmd_book(f, EV, ALICE, hold + 1, "ref"),
    };
    for (uint32_t i = 0; i < 6; i++) {
        invfix_refuse(f, T0 + 2, &c[i], USHER_HOLD_NOT_FOUND);
    }
    assert_int_equal(invfix_hold(f, hold).state, INV_HOLD_ACTIVE);
}

/* Goal: a refused hold does not take an id: the next hold in the batch
 * still gets its own slot's id and the refused slot's id names nothing. */
static void test_refused_hold_creates_no_record(void **state)
{
    struct invfix *f = *state;
    (void)invfix_hold_one(f, T0 + 1, EV, ALICE, TTL, 0);
    struct cmd c[2] = {
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 0 }, 1),
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 1 }, 1),
    };
    struct cmd_result r[2];
    invfix_apply(f, T0 + 2, c, 2, r);
    assert_int_equal(r[0].status, USHER_SEAT_TAKEN);
    assert_int_equal(r[0].id, 0);
    assert_int_equal(r[1].status, USHER_OK);
    assert_int_equal(r[1].id, invfix_id(f->index, 1));
    struct inv_hold h;
    assert_int_equal(inv_hold_get(f->inv, invfix_id(f->index, 0), &h), USHER_HOLD_NOT_FOUND);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hold_seats_reports_sorted_seats_expiry_and_id),
        T(test_hold_ids_are_index_shifted_by_12_or_slot),
        T(test_hold_seats_all_or_nothing),
        T(test_hold_seat_held_by_same_customer_is_taken),
        T(test_hold_booked_seat_is_taken),
        T(test_hold_seat_index_out_of_range_is_no_such_seat),
        T(test_hold_seat_named_twice_is_duplicate_seat),
        T(test_hold_unknown_event_is_event_not_found),
        T(test_hold_commands_with_wrong_event_are_hold_not_found),
        T(test_refused_hold_creates_no_record),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
