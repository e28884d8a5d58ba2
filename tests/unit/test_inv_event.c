/*
 * Unit tests of event creation (CMD_EVENT_CREATE) and the event reads:
 * defaults are applied, the description is stored as given, an existing id
 * is EVENT_EXISTS, an invalid description is refused with event_validate()'s
 * code, and events list in id order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"

#define T0 INVFIX_T0

/* Builds an event: S0 seated (2 rows of 6), S1 GA of 40. */
static struct event *two_sections(uint64_t id)
{
    struct invfix_section s[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 6 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 40 },
    };
    return invfix_event_make(id, s, 2);
}

/* Reads event id back; must exist. */
static struct event *get(struct invfix *f, uint64_t id)
{
    struct event *e = NULL;
    assert_int_equal(inv_event_get(f->inv, id, &e), 0);
    assert_non_null(e);
    return e;
}

/* Goal: create returns the event id, and the stored description equals
 * the one given once the defaults are applied. */
static void test_create_stores_description_with_defaults(void **state)
{
    struct invfix *f = *state;
    struct event *e = two_sections(7);
    struct event *want = event_copy(e);
    assert_non_null(want);
    event_apply_defaults(want);
    struct cmd c = invfix_cmd_create(f, e);
    struct cmd_result r = invfix_apply1(f, T0, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.type, CMD_EVENT_CREATE);
    assert_int_equal(r.id, 7);
    struct event *got = get(f, 7);
    assert_true(event_equal(want, got));
    assert_int_equal(got->seat_count, 12);
    assert_int_equal(got->section_count, 2);
    assert_int_equal(got->sections[1].ga_capacity, 40);
    assert_int_equal(got->hold_ttl_min_ms, USHER_HOLD_TTL_DEFAULT_MIN_MS);
    assert_int_equal(got->hold_ttl_max_ms, USHER_HOLD_TTL_DEFAULT_MAX_MS);
    assert_int_equal(got->hold_lifetime_max_ms, USHER_HOLD_LIFETIME_DEFAULT_MS);
    assert_int_equal(got->hold_seats_max, USHER_HOLD_SEATS_DEFAULT);
    assert_int_equal(got->customer_seats_max, USHER_CUSTOMER_SEATS_DEFAULT);
    assert_int_equal(got->sale_end_ms, UINT64_MAX);
    event_destroy(got);
    event_destroy(want);
    event_destroy(e);
}

/* Goal: limits given by the creator are kept as given. */
static void test_create_keeps_given_limits(void **state)
{
    struct invfix *f = *state;
    struct event *e = two_sections(8);
    e->sale_start_ms = T0 + 5;
    e->sale_end_ms = T0 + 500000;
    e->hold_ttl_min_ms = 2000;
    e->hold_ttl_max_ms = 90000;
    e->hold_lifetime_max_ms = 300000;
    e->hold_seats_max = 4;
    e->customer_seats_max = 6;
    assert_int_equal(invfix_event_add(f, T0, e), 0);
    struct event *got = get(f, 8);
    assert_int_equal(got->sale_start_ms, T0 + 5);
    assert_int_equal(got->sale_end_ms, T0 + 500000);
    assert_int_equal(got->hold_ttl_min_ms, 2000);
    assert_int_equal(got->hold_ttl_max_ms, 90000);
    assert_int_equal(got->hold_lifetime_max_ms, 300000);
    assert_int_equal(got->hold_seats_max, 4);
    assert_int_equal(got->customer_seats_max, 6);
    event_destroy(got);
}

/* Goal: creating an id that exists is EVENT_EXISTS and keeps the first
 * description. */
static void test_create_existing_id_is_event_exists(void **state)
{
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, two_sections(9)), 0);
    struct event *e = invfix_event_seated(9, 1, 3);
    struct cmd c = invfix_cmd_create(f, e);
    invfix_refuse(f, T0 + 1, &c, USHER_EVENT_EXISTS);
    struct event *got = get(f, 9);
    assert_int_equal(got->seat_count, 12);
    event_destroy(got);
    event_destroy(e);
}

/* Refuses the creation of e with the code event_validate() gives it after
 * the defaults, which must not be 0; the event must not exist afterwards. */
static void refuse_invalid(struct invfix *f, struct event *e)
{
    struct event *copy = event_copy(e);
    assert_non_null(copy);
    event_apply_defaults(copy);
    int code = event_validate(copy);
    assert_int_not_equal(code, 0);
    struct cmd c = invfix_cmd_create(f, e);
    invfix_refuse(f, T0 + 1, &c, code);
    struct event *none = NULL;
    assert_int_equal(inv_event_get(f->inv, e->id, &none), USHER_EVENT_NOT_FOUND);
    event_destroy(copy);
    event_destroy(e);
}

/* Goal: a description breaking a rule is refused with event_validate()'s
 * code and leaves nothing (duplicate labels, TTL min above max, sale start
 * not before end). */
static void test_create_invalid_event_is_refused(void **state)
{
    struct invfix *f = *state;
    struct event *dup = two_sections(20);
    memcpy(dup->sections[1].label, dup->sections[0].label, sizeof dup->sections[0].label);
    refuse_invalid(f, dup);
    struct event *ttl = two_sections(21);
    ttl->hold_ttl_min_ms = 90000;
    ttl->hold_ttl_max_ms = 80000;
    refuse_invalid(f, ttl);
    struct event *sale = two_sections(22);
    sale->sale_start_ms = T0 + 100;
    sale->sale_end_ms = T0 + 100;
    refuse_invalid(f, sale);
}

/* Goal: event reads: unknown id is EVENT_NOT_FOUND; the list is ascending,
 * starts after `after` and stops at cap. */
static void test_event_get_and_list(void **state)
{
    struct invfix *f = *state;
    struct event *none = NULL;
    assert_int_equal(inv_event_get(f->inv, 5, &none), USHER_EVENT_NOT_FOUND);
    uint64_t ids[4] = { 50, 3, 900, 7 };
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(ids[i], 1, 2)), 0);
    }
    uint64_t out[8] = { 0 };
    uint32_t n = 0;
    assert_int_equal(inv_event_list(f->inv, 0, out, 8, &n), 0);
    assert_int_equal(n, 4);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 7);
    assert_int_equal(out[2], 50);
    assert_int_equal(out[3], 900);
    assert_int_equal(inv_event_list(f->inv, 7, out, 8, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(out[0], 50);
    assert_int_equal(out[1], 900);
    assert_int_equal(inv_event_list(f->inv, 0, out, 3, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(out[2], 50);
    assert_int_equal(inv_event_list(f->inv, 900, out, 8, &n), 0);
    assert_int_equal(n, 0);
}

#define T(name) cmocka_unit_test_setup_teardown(name, invfix_setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_create_stores_description_with_defaults),
        T(test_create_keeps_given_limits),
        T(test_create_existing_id_is_event_exists),
        T(test_create_invalid_event_is_refused),
        T(test_event_get_and_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
