/*
 * Every refusal code of the inventory rules, in one place: from one state
 * that has every kind of hold and booking, each command is refused with its
 * code, gets id 0, and changes nothing but its own idempotency record (the
 * store's state is compared with a twin that applied an empty batch).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"

#define EV      100u
#define SALE_EV 101u
#define LIFE_EV 102u
#define T0      INVFIX_T0
#define T1      (T0 + 100000u)
#define TTL     60000u
#define LONG    600000u
#define ALICE   1u
#define BOB     2u
#define CAROL   3u
#define DAVE    4u
#define EVE     5u

struct world {
    struct invfix f;
    uint64_t live;     /* Alice, seat 0, alive at T1 */
    uint64_t released; /* Alice, seat 1 */
    uint64_t booked;   /* Alice, seat 2, booked as `booking` */
    uint64_t booking;
    uint64_t expired;   /* Alice, seat 3, expired at T1 (no sweep) */
    uint64_t cancelled; /* Bob's booking of seat 4, cancelled */
    uint64_t long_hold; /* Alice on LIFE_EV, lifetime 600 s */
    struct cmd earlier; /* a command applied before, for key reuse */
};

/* EV: S0 seated 2 rows of 10 (seats 0..19), S1 GA of 2 (full), S2 seated
 * 1 row of 12 (seats 20..31); at most 5 seats per hold. SALE_EV: sale over
 * before T1. LIFE_EV: lifetime 600 s. Carol holds 10 seats (her limit). */
static void build(struct world *w)
{
    struct invfix *f = &w->f;
    struct invfix_section s[3] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 2 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 12 },
    };
    struct event *e = invfix_event_make(EV, s, 3);
    e->hold_seats_max = 5;
    assert_int_equal(invfix_event_add(f, T0, e), 0);
    struct event *sale = invfix_event_seated(SALE_EV, 1, 5);
    sale->sale_end_ms = T0 + 1000;
    assert_int_equal(invfix_event_add(f, T0, sale), 0);
    struct event *life = invfix_event_seated(LIFE_EV, 1, 5);
    life->hold_lifetime_max_ms = LONG;
    assert_int_equal(invfix_event_add(f, T0, life), 0);
    w->live = invfix_hold_one(f, T0 + 1, EV, ALICE, LONG, 0);
    w->released = invfix_hold_one(f, T0 + 1, EV, ALICE, LONG, 1);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, w->released);
    assert_int_equal(invfix_apply1(f, T0 + 2, &rel).status, USHER_OK);
    w->booked = invfix_hold_one(f, T0 + 2, EV, ALICE, LONG, 2);
    w->booking = invfix_book_ok(f, T0 + 3, EV, ALICE, w->booked);
    w->expired = invfix_hold_one(f, T0 + 3, EV, ALICE, TTL, 3);
    w->cancelled = invfix_book_ok(f, T0 + 4, EV, BOB, invfix_hold_one(f, T0 + 4, EV, BOB, LONG, 4));
    struct cmd cancel = invfix_cmd_cancel(f, EV, BOB, w->cancelled);
    assert_int_equal(invfix_apply1(f, T0 + 5, &cancel).status, USHER_OK);
    struct cmd ga = invfix_cmd_hold_ga(f, EV, BOB, LONG, 1, 2);
    assert_int_equal(invfix_apply1(f, T0 + 5, &ga).status, USHER_OK);
    uint32_t carol[10] = { 5, 6, 7, 8, 9, 10, 11, 12, 13, 14 };
    (void)invfix_hold_ok(f, T0 + 5, EV, CAROL, LONG, carol, 5);
    (void)invfix_hold_ok(f, T0 + 5, EV, CAROL, LONG, carol + 5, 5);
    w->long_hold = invfix_hold_one(f, T0 + 6, LIFE_EV, ALICE, LONG, 0);
    w->earlier = invfix_cmd_hold_seats(f, EV, DAVE, LONG, (uint32_t[]){ 19 }, 1);
    assert_int_equal(invfix_apply1(f, T0 + 6, &w->earlier).status, USHER_OK);
}

static int setup(void **state)
{
    struct world *w = calloc(1, sizeof *w);
    assert_non_null(w);
    invfix_open(&w->f, NULL, true);
    build(w);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    struct world *w = *state;
    invfix_close(&w->f);
    free(w);
    return 0;
}

struct refusal {
    const char *what;
    struct cmd cmd;
    int code;
};

/* Builds the table of refusals; returns its length. again (an event with
 * an existing id) and invalid (an event refused with invalid_code) are
 * borrowed by their create commands. */
static uint32_t refusals(struct world *w, struct event *again, struct event *invalid,
                         int invalid_code, struct refusal *r)
{
    struct invfix *f = &w->f;
    uint32_t six[6] = { 20, 21, 22, 23, 24, 25 };
    struct cmd reused = w->earlier;
    reused.u.hold_seats.seats[0] = 18;
    invfix_cmd_seal(&reused);
    struct refusal t[] = {
        { "create existing", invfix_cmd_create(f, again), USHER_EVENT_EXISTS },
        { "create invalid", invfix_cmd_create(f, invalid), invalid_code },
        { "unknown event", invfix_cmd_hold_seats(f, 999, DAVE, 0, (uint32_t[]){ 0 }, 1),
          USHER_EVENT_NOT_FOUND },
        { "no such seat", invfix_cmd_hold_seats(f, EV, DAVE, 0, (uint32_t[]){ 32 }, 1),
          USHER_NO_SUCH_SEAT },
        { "duplicate seat", invfix_cmd_hold_seats(f, EV, DAVE, 0, (uint32_t[]){ 15, 15 }, 2),
          USHER_DUPLICATE_SEAT },
        { "hold seats", invfix_cmd_hold_seats(f, EV, EVE, 0, six, 6), USHER_LIMIT_HOLD_SEATS },
        { "seat taken", invfix_cmd_hold_seats(f, EV, DAVE, 0, (uint32_t[]){ 0 }, 1),
          USHER_SEAT_TAKEN },
        { "customer seats", invfix_cmd_hold_seats(f, EV, CAROL, 0, (uint32_t[]){ 15 }, 1),
          USHER_LIMIT_CUSTOMER_SEATS },
        { "no such section", invfix_cmd_hold_best(f, EV, DAVE, 0, 3, 1), USHER_NO_SUCH_SECTION },
        { "best in GA", invfix_cmd_hold_best(f, EV, DAVE, 0, 1, 1), USHER_WRONG_SECTION_KIND },
        { "GA in seated", invfix_cmd_hold_ga(f, EV, DAVE, 0, 0, 1), USHER_WRONG_SECTION_KIND },
        { "no adjacent", invfix_cmd_hold_best(f, EV, DAVE, 0, 0, 5), USHER_NO_ADJACENT_SEATS },
        { "sold out", invfix_cmd_hold_ga(f, EV, DAVE, 0, 1, 1), USHER_SOLD_OUT },
        { "ttl", invfix_cmd_hold_seats(f, EV, DAVE, TTL - 1, (uint32_t[]){ 16 }, 1),
          USHER_TTL_OUT_OF_RANGE },
        { "sale closed", invfix_cmd_hold_seats(f, SALE_EV, DAVE, 0, (uint32_t[]){ 0 }, 1),
          USHER_SALE_CLOSED },
        { "book expired", invfix_cmd_book(f, EV, ALICE, w->expired, "x"), USHER_HOLD_EXPIRED },
        { "extend expired", invfix_cmd_extend(f, EV, ALICE, w->expired, TTL), USHER_HOLD_EXPIRED },
        { "book released", invfix_cmd_book(f, EV, ALICE, w->released, "x"), USHER_HOLD_RELEASED },
        { "book booked", invfix_cmd_book(f, EV, ALICE, w->booked, "x"), USHER_HOLD_BOOKED },
        { "book foreign", invfix_cmd_book(f, EV, BOB, w->live, "x"), USHER_NOT_OWNER },
        { "book unknown", invfix_cmd_book(f, EV, ALICE, w->live + 1, "x"), USHER_HOLD_NOT_FOUND },
        { "book other event", invfix_cmd_book(f, SALE_EV, ALICE, w->live, "x"),
          USHER_HOLD_NOT_FOUND },
        { "lifetime", invfix_cmd_extend(f, LIFE_EV, ALICE, w->long_hold, LONG),
          USHER_LIMIT_HOLD_LIFETIME },
        { "cancel unknown", invfix_cmd_cancel(f, EV, ALICE, w->booking + 1),
          USHER_BOOKING_NOT_FOUND },
        { "cancel cancelled", invfix_cmd_cancel(f, EV, BOB, w->cancelled),
          USHER_BOOKING_CANCELLED },
        { "cancel foreign", invfix_cmd_cancel(f, EV, BOB, w->booking), USHER_NOT_OWNER },
        { "key reused", reused, USHER_IDEM_KEY_REUSED },
    };
    uint32_t n = (uint32_t)(sizeof t / sizeof t[0]);
    memcpy(r, t, sizeof t);
    return n;
}

/* Goal: every refusal code of the rules, from one state: each command is
 * refused with its own code and id 0 and changes nothing (state dump equal
 * to the twin's, which applied an empty batch instead). */
static void test_every_refusal_code_changes_nothing(void **state)
{
    struct world *w = *state;
    struct invfix_section s[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 2 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 1, .row_seats = 2 },
    };
    struct event *invalid = invfix_event_make(500, s, 2);
    memcpy(invalid->sections[1].label, invalid->sections[0].label, USHER_LABEL_LEN_MAX + 1);
    struct event *check = event_copy(invalid);
    assert_non_null(check);
    event_apply_defaults(check);
    int invalid_code = event_validate(check);
    event_destroy(check);
    assert_int_not_equal(invalid_code, 0);
    struct refusal *table = calloc(64, sizeof *table);
    assert_non_null(table);
    struct event *again = invfix_event_seated(EV, 1, 1);
    uint32_t n = refusals(w, again, invalid, invalid_code, table);
    for (uint32_t i = 0; i < n; i++) {
        print_message("refusal %u: %s -> %s\n", i, table[i].what, err_name(table[i].code));
        invfix_refuse(&w->f, T1, &table[i].cmd, table[i].code);
    }
    invfix_check(w->f.inv);
    free(table);
    event_destroy(again);
    event_destroy(invalid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_every_refusal_code_changes_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
