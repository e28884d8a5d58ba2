/* Unit tests of event descriptions: create, layout, defaults, validate,
 * seat lookup, copy and equality (src/event.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "err.h"
#include "event.h"
#include "limits.h"
#include "mem.h"

static void set_label(char *dst, const char *src)
{
    size_t len = strlen(src);
    assert_true(len <= USHER_LABEL_LEN_MAX);
    memcpy(dst, src, len + 1);
}

static void set_row(struct event *e, uint32_t i, const char *label, uint16_t seats,
                    uint16_t number_first)
{
    set_label(e->rows[i].label, label);
    e->rows[i].seat_count = seats;
    e->rows[i].number_first = number_first;
}

/*
 * A small valid event, laid out, with defaults applied:
 *   section 0 "FLOOR" GA 500
 *   section 1 "A" seated: row "1" 10 seats from 1, row "2" 12 seats from 101
 *   section 2 "B" seated: row "1" 5 seats from 1
 */
static struct event *sample_event(void)
{
    struct event *e = event_create(3, 3);
    assert_non_null(e);
    e->id = 7;
    memcpy(e->name, "concert", 8);
    e->sale_start_ms = 1000;
    set_label(e->sections[0].label, "FLOOR");
    e->sections[0].kind = EVENT_SECTION_GA;
    e->sections[0].ga_capacity = 500;
    set_label(e->sections[1].label, "A");
    e->sections[1].kind = EVENT_SECTION_SEATED;
    e->sections[1].row_count = 2;
    set_label(e->sections[2].label, "B");
    e->sections[2].kind = EVENT_SECTION_SEATED;
    e->sections[2].row_count = 1;
    set_row(e, 0, "1", 10, 1);
    set_row(e, 1, "2", 12, 101);
    set_row(e, 2, "1", 5, 1);
    assert_int_equal(event_layout(e), 0);
    event_apply_defaults(e);
    assert_int_equal(event_validate(e), 0);
    return e;
}

/*
 * A seated event of section_count sections of rows_per_section rows of
 * seats_per_row seats each, unique labels, laid out with defaults applied.
 */
static struct event *grid_event(uint32_t section_count, uint32_t rows_per_section,
                                uint16_t seats_per_row)
{
    struct event *e = event_create(section_count, section_count * rows_per_section);
    assert_non_null(e);
    e->id = 99;
    for (uint32_t s = 0; s < section_count; s++) {
        assert_true(snprintf(e->sections[s].label, sizeof(e->sections[s].label), "S%u", s) > 0);
        e->sections[s].kind = EVENT_SECTION_SEATED;
        e->sections[s].row_count = rows_per_section;
        for (uint32_t j = 0; j < rows_per_section; j++) {
            struct event_row *row = &e->rows[s * rows_per_section + j];
            assert_true(snprintf(row->label, sizeof(row->label), "R%u", j) > 0);
            row->seat_count = seats_per_row;
            row->number_first = 1;
        }
    }
    assert_int_equal(event_layout(e), 0);
    event_apply_defaults(e);
    return e;
}

/* Goal: event_create refuses counts over the limits and accepts them at the limits. */
static void test_event_create_bounds_counts(void **state)
{
    (void)state;
    assert_null(event_create(USHER_EVENT_SECTIONS_MAX + 1, 0));
    assert_null(event_create(1, USHER_EVENT_ROWS_MAX + 1));
    struct event *e = event_create(USHER_EVENT_SECTIONS_MAX, USHER_EVENT_ROWS_MAX);
    assert_non_null(e);
    assert_int_equal(e->section_count, USHER_EVENT_SECTIONS_MAX);
    assert_int_equal(e->row_count, USHER_EVENT_ROWS_MAX);
    /* Zeroed, and the last row is writable (ASan checks the bounds). */
    assert_int_equal(e->rows[USHER_EVENT_ROWS_MAX - 1].seat_count, 0);
    e->rows[USHER_EVENT_ROWS_MAX - 1].seat_count = 1;
    event_destroy(e);
    event_destroy(NULL);
}

/* Goal: event_create and event_copy return NULL when allocation fails. */
static void test_event_create_and_copy_fail_without_memory(void **state)
{
    (void)state;
    struct event *e = sample_event();
    mem_fault_after(0);
    assert_null(event_create(1, 1));
    assert_null(event_copy(e));
    mem_fault_reset();
    event_destroy(e);
}

/* Goal: layout assigns contiguous row and seat ranges in section order, and
 * GA sections take no seats. */
static void test_event_layout_assigns_dense_ranges(void **state)
{
    (void)state;
    struct event *e = sample_event();
    assert_int_equal(e->seat_count, 27);
    assert_int_equal(e->sections[0].seat_count, 0);
    assert_int_equal(e->sections[0].row_count, 0);
    assert_int_equal(e->sections[1].row_first, 0);
    assert_int_equal(e->sections[1].seat_first, 0);
    assert_int_equal(e->sections[1].seat_count, 22);
    assert_int_equal(e->sections[2].row_first, 2);
    assert_int_equal(e->sections[2].seat_first, 22);
    assert_int_equal(e->sections[2].seat_count, 5);
    assert_int_equal(e->rows[0].section, 1);
    assert_int_equal(e->rows[1].section, 1);
    assert_int_equal(e->rows[2].section, 2);
    assert_int_equal(e->rows[0].seat_first, 0);
    assert_int_equal(e->rows[1].seat_first, 10);
    assert_int_equal(e->rows[2].seat_first, 22);
    event_destroy(e);
}

/* Goal: layout refuses row counts that do not add up, in either direction. */
static void test_event_layout_rejects_row_count_mismatch(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->sections[2].row_count = 2;
    assert_int_equal(event_layout(e), USHER_INVALID);
    e->sections[2].row_count = 0;
    assert_int_equal(event_layout(e), USHER_INVALID);
    e->sections[2].row_count = 1;
    assert_int_equal(event_layout(e), 0);
    event_destroy(e);
}

/* Goal: layout refuses an unknown kind, rows in a GA section and a capacity
 * in a seated one. */
static void test_event_layout_rejects_bad_kinds(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->sections[0].kind = 3;
    assert_int_equal(event_layout(e), USHER_INVALID);
    e->sections[0].kind = EVENT_SECTION_GA;
    e->sections[0].row_count = 1;
    e->sections[1].row_count = 1;
    assert_int_equal(event_layout(e), USHER_INVALID);
    e->sections[0].row_count = 0;
    e->sections[1].row_count = 2;
    e->sections[1].ga_capacity = 1;
    assert_int_equal(event_layout(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: layout enforces the seats-per-row ceiling at the limit and one over. */
static void test_event_layout_row_seats_limit(void **state)
{
    (void)state;
    struct event *e = grid_event(1, 1, USHER_ROW_SEATS_MAX);
    assert_int_equal(e->seat_count, USHER_ROW_SEATS_MAX);
    e->rows[0].seat_count = USHER_ROW_SEATS_MAX + 1;
    assert_int_equal(event_layout(e), USHER_LIMIT_ROW_SEATS);
    event_destroy(e);
}

/* Goal: layout enforces the seats-per-event ceiling at the limit and one over. */
static void test_event_layout_event_seats_limit(void **state)
{
    (void)state;
    uint32_t rows = USHER_EVENT_SEATS_MAX / USHER_ROW_SEATS_MAX;
    struct event *e = grid_event(1, rows, USHER_ROW_SEATS_MAX);
    assert_int_equal(e->seat_count, USHER_EVENT_SEATS_MAX);
    assert_int_equal(event_validate(e), 0);
    event_destroy(e);
    /* rows full rows and one more seat. */
    e = grid_event(1, rows + 1, 1);
    for (uint32_t j = 0; j < rows; j++) {
        e->rows[j].seat_count = USHER_ROW_SEATS_MAX;
    }
    assert_int_equal(event_layout(e), USHER_LIMIT_EVENT_SEATS);
    event_destroy(e);
}

/* Goal: defaults replace only the zero fields. */
static void test_event_apply_defaults_fills_only_zeros(void **state)
{
    (void)state;
    struct event *e = event_create(1, 0);
    assert_non_null(e);
    event_apply_defaults(e);
    assert_true(e->sale_end_ms == UINT64_MAX);
    assert_int_equal(e->hold_ttl_min_ms, USHER_HOLD_TTL_DEFAULT_MIN_MS);
    assert_int_equal(e->hold_ttl_max_ms, USHER_HOLD_TTL_DEFAULT_MAX_MS);
    assert_int_equal(e->hold_lifetime_max_ms, USHER_HOLD_LIFETIME_DEFAULT_MS);
    assert_int_equal(e->hold_seats_max, USHER_HOLD_SEATS_DEFAULT);
    assert_int_equal(e->customer_seats_max, USHER_CUSTOMER_SEATS_DEFAULT);
    e->sale_end_ms = 5;
    e->hold_ttl_min_ms = 2000;
    e->hold_ttl_max_ms = 3000;
    e->hold_lifetime_max_ms = 4000;
    e->hold_seats_max = 2;
    e->customer_seats_max = 3;
    event_apply_defaults(e);
    assert_int_equal(e->sale_end_ms, 5);
    assert_int_equal(e->hold_ttl_min_ms, 2000);
    assert_int_equal(e->hold_ttl_max_ms, 3000);
    assert_int_equal(e->hold_lifetime_max_ms, 4000);
    assert_int_equal(e->hold_seats_max, 2);
    assert_int_equal(e->customer_seats_max, 3);
    event_destroy(e);
}

/* Goal: id 0, no sections and a name without terminator are invalid. */
static void test_event_validate_rejects_bad_identity(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->id = 0;
    assert_int_equal(event_validate(e), USHER_INVALID);
    e->id = 7;
    memset(e->name, 'x', sizeof(e->name));
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
    e = event_create(0, 0);
    assert_non_null(e);
    e->id = 1;
    assert_int_equal(event_layout(e), 0);
    event_apply_defaults(e);
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: empty section and row labels are invalid. */
static void test_event_validate_rejects_empty_labels(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->sections[0].label[0] = '\0';
    assert_int_equal(event_validate(e), USHER_INVALID);
    set_label(e->sections[0].label, "FLOOR");
    e->rows[1].label[0] = '\0';
    assert_int_equal(event_validate(e), USHER_INVALID);
    set_label(e->rows[1].label, "2");
    memset(e->rows[1].label, 'x', sizeof(e->rows[1].label));
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: equal section labels are duplicates; equal row labels are duplicates
 * only inside one section. */
static void test_event_validate_duplicate_labels(void **state)
{
    (void)state;
    struct event *e = sample_event();
    /* Rows "1" in sections A and B share a label: allowed. */
    assert_int_equal(event_validate(e), 0);
    set_label(e->sections[2].label, "A");
    assert_int_equal(event_validate(e), USHER_DUPLICATE_LABEL);
    set_label(e->sections[2].label, "B");
    set_label(e->rows[1].label, "1");
    assert_int_equal(event_validate(e), USHER_DUPLICATE_LABEL);
    event_destroy(e);
}

/* Goal: duplicates are found among the most rows an event may have, wherever
 * they are (first and last of one section), and not across sections. */
static void test_event_validate_duplicate_among_max_rows(void **state)
{
    (void)state;
    struct event *e = grid_event(1, USHER_EVENT_ROWS_MAX, 1);
    assert_int_equal(event_validate(e), 0);
    set_label(e->rows[USHER_EVENT_ROWS_MAX - 1].label, "R0");
    assert_int_equal(event_validate(e), USHER_DUPLICATE_LABEL);
    event_destroy(e);
    /* 32 sections of 256 rows named alike: no duplicate per section. */
    e = grid_event(32, USHER_EVENT_ROWS_MAX / 32, 1);
    assert_int_equal(event_validate(e), 0);
    set_label(e->rows[USHER_EVENT_ROWS_MAX - 2].label, "R255");
    assert_int_equal(event_validate(e), USHER_DUPLICATE_LABEL);
    event_destroy(e);
    /* The most sections, the last one duplicating the first. */
    e = grid_event(USHER_EVENT_SECTIONS_MAX, 1, 1);
    assert_int_equal(event_validate(e), 0);
    set_label(e->sections[USHER_EVENT_SECTIONS_MAX - 1].label, "S0");
    assert_int_equal(event_validate(e), USHER_DUPLICATE_LABEL);
    event_destroy(e);
}

/* Goal: a seated section needs rows and a row needs seats. */
static void test_event_validate_rejects_empty_rows_and_sections(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->rows[2].seat_count = 0;
    assert_int_equal(event_layout(e), 0);
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
    e = sample_event();
    e->sections[2].row_count = 0;
    e->row_count = 2; /* drop the last row */
    assert_int_equal(event_layout(e), 0);
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: GA capacity must be 1 .. USHER_GA_CAPACITY_MAX. */
static void test_event_validate_ga_capacity_bounds(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->sections[0].ga_capacity = 0;
    assert_int_equal(event_validate(e), USHER_INVALID);
    e->sections[0].ga_capacity = 1;
    assert_int_equal(event_validate(e), 0);
    e->sections[0].ga_capacity = USHER_GA_CAPACITY_MAX;
    assert_int_equal(event_validate(e), 0);
    e->sections[0].ga_capacity = USHER_GA_CAPACITY_MAX + 1;
    assert_int_equal(event_validate(e), USHER_LIMIT_GA_CAPACITY);
    event_destroy(e);
}

/* Goal: TTL bounds: min >= USHER_HOLD_TTL_MIN_MS, min <= max, max <=
 * USHER_HOLD_TTL_MAX_MS; each at the boundary and one past it. */
static void test_event_validate_ttl_bounds(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->hold_ttl_min_ms = USHER_HOLD_TTL_MIN_MS;
    assert_int_equal(event_validate(e), 0);
    e->hold_ttl_min_ms = USHER_HOLD_TTL_MIN_MS - 1;
    assert_int_equal(event_validate(e), USHER_TTL_OUT_OF_RANGE);
    e->hold_ttl_min_ms = e->hold_ttl_max_ms;
    assert_int_equal(event_validate(e), 0);
    e->hold_ttl_min_ms = e->hold_ttl_max_ms + 1;
    assert_int_equal(event_validate(e), USHER_TTL_OUT_OF_RANGE);
    e->hold_ttl_min_ms = USHER_HOLD_TTL_MIN_MS;
    e->hold_lifetime_max_ms = USHER_HOLD_LIFETIME_MAX_MS;
    e->hold_ttl_max_ms = USHER_HOLD_TTL_MAX_MS;
    assert_int_equal(event_validate(e), 0);
    e->hold_ttl_max_ms = USHER_HOLD_TTL_MAX_MS + 1;
    assert_int_equal(event_validate(e), USHER_TTL_OUT_OF_RANGE);
    event_destroy(e);
}

/* Goal: the hold lifetime covers the max TTL and stays under its ceiling. */
static void test_event_validate_lifetime_bounds(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->hold_lifetime_max_ms = e->hold_ttl_max_ms;
    assert_int_equal(event_validate(e), 0);
    e->hold_lifetime_max_ms = e->hold_ttl_max_ms - 1;
    assert_int_equal(event_validate(e), USHER_LIMIT_HOLD_LIFETIME);
    e->hold_lifetime_max_ms = USHER_HOLD_LIFETIME_MAX_MS;
    assert_int_equal(event_validate(e), 0);
    e->hold_lifetime_max_ms = USHER_HOLD_LIFETIME_MAX_MS + 1;
    assert_int_equal(event_validate(e), USHER_LIMIT_HOLD_LIFETIME);
    event_destroy(e);
}

/* Goal: per-hold and per-customer seat limits: 0 invalid, ceiling accepted,
 * ceiling + 1 refused with their LIMIT codes. */
static void test_event_validate_seat_limits(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->hold_seats_max = 0;
    assert_int_equal(event_validate(e), USHER_INVALID);
    e->hold_seats_max = USHER_HOLD_SEATS_MAX;
    assert_int_equal(event_validate(e), 0);
    e->hold_seats_max = USHER_HOLD_SEATS_MAX + 1;
    assert_int_equal(event_validate(e), USHER_LIMIT_HOLD_SEATS);
    e->hold_seats_max = 1;
    e->customer_seats_max = 0;
    assert_int_equal(event_validate(e), USHER_INVALID);
    e->customer_seats_max = USHER_CUSTOMER_SEATS_MAX;
    assert_int_equal(event_validate(e), 0);
    e->customer_seats_max = USHER_CUSTOMER_SEATS_MAX + 1;
    assert_int_equal(event_validate(e), USHER_LIMIT_CUSTOMER_SEATS);
    event_destroy(e);
}

/* Goal: the sale window must not be empty. */
static void test_event_validate_sale_window(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->sale_end_ms = e->sale_start_ms + 1;
    assert_int_equal(event_validate(e), 0);
    e->sale_end_ms = e->sale_start_ms;
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: the last seat number of a row must fit in 16 bits. */
static void test_event_validate_seat_number_overflow(void **state)
{
    (void)state;
    struct event *e = sample_event();
    e->rows[0].number_first = (uint16_t)(UINT16_MAX - e->rows[0].seat_count + 1);
    assert_int_equal(event_validate(e), 0);
    e->rows[0].number_first++;
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
}

/* Goal: a 200,000-seat event lays out, validates, and every seat maps back to
 * the row whose range holds it. */
static void test_event_200000_seats(void **state)
{
    (void)state;
    struct event *e = grid_event(10, 25, 800);
    assert_int_equal(e->seat_count, 200000);
    assert_int_equal(event_validate(e), 0);
    for (uint32_t seat = 0; seat < e->seat_count; seat++) {
        uint32_t row = event_row_of_seat(e, seat);
        assert_int_equal(row, seat / 800);
    }
    event_destroy(e);
}

/* Goal: seat lookup is right at every row boundary, with uneven rows. */
static void test_event_row_of_seat_boundaries(void **state)
{
    (void)state;
    struct event *e = sample_event();
    assert_int_equal(event_row_of_seat(e, 0), 0);
    assert_int_equal(event_row_of_seat(e, 9), 0);
    assert_int_equal(event_row_of_seat(e, 10), 1);
    assert_int_equal(event_row_of_seat(e, 21), 1);
    assert_int_equal(event_row_of_seat(e, 22), 2);
    assert_int_equal(event_row_of_seat(e, 26), 2);
    /* A row without seats (only possible before validation) is skipped. */
    e->rows[1].seat_count = 0;
    assert_int_equal(event_layout(e), 0);
    assert_int_equal(event_row_of_seat(e, 9), 0);
    assert_int_equal(event_row_of_seat(e, 10), 2);
    event_destroy(e);
}

/* Goal: a copy is equal and independent of its original; equality sees a
 * change in any part. */
static void test_event_copy_and_equal(void **state)
{
    (void)state;
    struct event *e = sample_event();
    struct event *c = event_copy(e);
    assert_non_null(c);
    assert_true(event_equal(e, c));
    assert_ptr_not_equal(c->sections, e->sections);
    assert_ptr_not_equal(c->rows, e->rows);
    set_label(c->rows[2].label, "9");
    assert_false(event_equal(e, c));
    assert_string_equal(e->rows[2].label, "1");
    set_label(c->rows[2].label, "1");
    assert_true(event_equal(e, c));
    c->sections[0].ga_capacity++;
    assert_false(event_equal(e, c));
    c->sections[0].ga_capacity--;
    c->name[0] = 'C';
    assert_false(event_equal(e, c));
    c->name[0] = 'c';
    c->hold_seats_max++;
    assert_false(event_equal(e, c));
    event_destroy(c);
    event_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_create_bounds_counts),
        cmocka_unit_test(test_event_create_and_copy_fail_without_memory),
        cmocka_unit_test(test_event_layout_assigns_dense_ranges),
        cmocka_unit_test(test_event_layout_rejects_row_count_mismatch),
        cmocka_unit_test(test_event_layout_rejects_bad_kinds),
        cmocka_unit_test(test_event_layout_row_seats_limit),
        cmocka_unit_test(test_event_layout_event_seats_limit),
        cmocka_unit_test(test_event_apply_defaults_fills_only_zeros),
        cmocka_unit_test(test_event_validate_rejects_bad_identity),
        cmocka_unit_test(test_event_validate_rejects_empty_labels),
        cmocka_unit_test(test_event_validate_duplicate_labels),
        cmocka_unit_test(test_event_validate_duplicate_among_max_rows),
        cmocka_unit_test(test_event_validate_rejects_empty_rows_and_sections),
        cmocka_unit_test(test_event_validate_ga_capacity_bounds),
        cmocka_unit_test(test_event_validate_ttl_bounds),
        cmocka_unit_test(test_event_validate_lifetime_bounds),
        cmocka_unit_test(test_event_validate_seat_limits),
        cmocka_unit_test(test_event_validate_sale_window),
        cmocka_unit_test(test_event_validate_seat_number_overflow),
        cmocka_unit_test(test_event_200000_seats),
        cmocka_unit_test(test_event_row_of_seat_boundaries),
        cmocka_unit_test(test_event_copy_and_equal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
