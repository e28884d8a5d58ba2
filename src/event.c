/*
 * Event descriptions: allocation, layout, defaults and the rules of a valid
 * event (event.h).
 *
 * One allocation holds the struct and both arrays, so an event is freed with
 * one call and copied with two memcpy-sized loops:
 *
 *   +--------------+---------------------------+------------------------+
 *   | struct event | section_count x section   | row_count x row        |
 *   +--------------+---------------------------+------------------------+
 *
 * Rows of all sections sit in one array in section order: the rows of
 * section s are rows[row_first, row_first + row_count). event_layout()
 * derives those ranges and the dense seat index ranges from the counts.
 *
 * event_validate() runs inside apply, on every replica, so it allocates
 * nothing (an allocation failure on one replica only would diverge them):
 * the duplicate-label check sorts an index array on the stack.
 */
#include "event.h"

#include <stddef.h>
#include <string.h>

#include "assertion.h"
#include "mem.h"

static_assert(USHER_EVENT_ROWS_MAX <= 65536u, "row indexes fit the u16 sort scratch");
static_assert(USHER_EVENT_SECTIONS_MAX <= USHER_EVENT_ROWS_MAX, "one scratch serves both");
static_assert(USHER_EVENT_SEATS_MAX <= UINT32_MAX / 2u, "seat sums cannot overflow a u32");

struct event *event_create(uint32_t section_count, uint32_t row_count)
{
    if (section_count > USHER_EVENT_SECTIONS_MAX || row_count > USHER_EVENT_ROWS_MAX) {
        return NULL;
    }
    size_t sections_bytes = (size_t)section_count * sizeof(struct event_section);
    size_t rows_bytes = (size_t)row_count * sizeof(struct event_row);
    uint8_t *mem = mem_calloc(1, sizeof(struct event) + sections_bytes + rows_bytes);
    if (mem == NULL) {
        return NULL;
    }
    struct event *e = (struct event *)mem;
    static_assert(sizeof(struct event) % _Alignof(struct event_section) == 0, "aligned");
    static_assert(sizeof(struct event_section) % _Alignof(struct event_row) == 0, "aligned");
    e->sections = (struct event_section *)(mem + sizeof(struct event));
    e->rows = (struct event_row *)(mem + sizeof(struct event) + sections_bytes);
    e->section_count = section_count;
    e->row_count = row_count;
    return e;
}

void event_destroy(struct event *e)
{
    mem_free(e);
}

struct event *event_copy(const struct event *e)
{
    ASSERT(e != NULL);
    struct event *c = event_create(e->section_count, e->row_count);
    if (c == NULL) {
        return NULL;
    }
    struct event_section *sections = c->sections;
    struct event_row *rows = c->rows;
    *c = *e;
    c->sections = sections;
    c->rows = rows;
    for (uint32_t i = 0; i < e->section_count; i++) {
        c->sections[i] = e->sections[i];
    }
    for (uint32_t i = 0; i < e->row_count; i++) {
        c->rows[i] = e->rows[i];
    }
    ASSERT(event_equal(c, e));
    return c;
}

/* Lays out the rows of one seated section starting at row *row_next and seat
 * *seat_next, and advances both. */
static int layout_seated(struct event *e, uint32_t s, uint32_t *row_next, uint32_t *seat_next)
{
    struct event_section *sec = &e->sections[s];
    if (sec->ga_capacity != 0) {
        return USHER_INVALID;
    }
    if (sec->row_count > e->row_count - *row_next) {
        return USHER_INVALID;
    }
    sec->row_first = *row_next;
    sec->seat_first = *seat_next;
    sec->seat_count = 0;
    for (uint32_t j = 0; j < sec->row_count; j++) {
        struct event_row *row = &e->rows[sec->row_first + j];
        if (row->seat_count > USHER_ROW_SEATS_MAX) {
            return USHER_LIMIT_ROW_SEATS;
        }
        row->section = s;
        row->seat_first = *seat_next;
        sec->seat_count += row->seat_count;
        *seat_next += row->seat_count;
        if (*seat_next > USHER_EVENT_SEATS_MAX) {
            return USHER_LIMIT_EVENT_SEATS;
        }
    }
    *row_next += sec->row_count;
    return 0;
}

int event_layout(struct event *e)
{
    ASSERT(e != NULL);
    if (e->section_count > USHER_EVENT_SECTIONS_MAX) {
        return USHER_LIMIT_EVENT_SECTIONS;
    }
    if (e->row_count > USHER_EVENT_ROWS_MAX) {
        return USHER_LIMIT_EVENT_ROWS;
    }
    uint32_t row_next = 0;
    uint32_t seat_next = 0;
    for (uint32_t s = 0; s < e->section_count; s++) {
        struct event_section *sec = &e->sections[s];
        if (sec->kind == EVENT_SECTION_GA) {
            if (sec->row_count != 0) {
                return USHER_INVALID;
            }
            sec->row_first = row_next;
            sec->seat_first = seat_next;
            sec->seat_count = 0;
            continue;
        }
        if (sec->kind != EVENT_SECTION_SEATED) {
            return USHER_INVALID;
        }
        int rc = layout_seated(e, s, &row_next, &seat_next);
        if (rc != 0) {
            return rc;
        }
    }
    if (row_next != e->row_count) {
        return USHER_INVALID;
    }
    e->seat_count = seat_next;
    ASSERT(e->seat_count <= USHER_EVENT_SEATS_MAX);
    return 0;
}

void event_apply_defaults(struct event *e)
{
    ASSERT(e != NULL);
    if (e->sale_end_ms == 0) {
        e->sale_end_ms = UINT64_MAX;
    }
    if (e->hold_ttl_min_ms == 0) {
        e->hold_ttl_min_ms = USHER_HOLD_TTL_DEFAULT_MIN_MS;
    }
    if (e->hold_ttl_max_ms == 0) {
        e->hold_ttl_max_ms = USHER_HOLD_TTL_DEFAULT_MAX_MS;
    }
    if (e->hold_lifetime_max_ms == 0) {
        e->hold_lifetime_max_ms = USHER_HOLD_LIFETIME_DEFAULT_MS;
    }
    if (e->hold_seats_max == 0) {
        e->hold_seats_max = USHER_HOLD_SEATS_DEFAULT;
    }
    if (e->customer_seats_max == 0) {
        e->customer_seats_max = USHER_CUSTOMER_SEATS_DEFAULT;
    }
}

/* Labels live at the start of both struct event_section and struct event_row,
 * so one sort serves both arrays: base points at the first element and stride
 * is the element size. */
struct label_table {
    const uint8_t *base;
    size_t stride;
};

static const char *label_at(const struct label_table *t, uint32_t i)
{
    return (const char *)(t->base + (size_t)i * t->stride);
}

static int label_cmp(const struct label_table *t, uint16_t a, uint16_t b)
{
    return strncmp(label_at(t, a), label_at(t, b), USHER_LABEL_LEN_MAX + 1);
}

/* Moves idx[i] down the max-heap idx[0, n) until both children are smaller. */
static void heap_sift(const struct label_table *t, uint16_t *idx, uint32_t i, uint32_t n)
{
    for (uint32_t step = 0; step < 32; step++) {
        uint32_t top = i;
        uint32_t left = 2 * i + 1;
        uint32_t right = left + 1;
        if (left < n && label_cmp(t, idx[left], idx[top]) > 0) {
            top = left;
        }
        if (right < n && label_cmp(t, idx[right], idx[top]) > 0) {
            top = right;
        }
        if (top == i) {
            return;
        }
        uint16_t tmp = idx[i];
        idx[i] = idx[top];
        idx[top] = tmp;
        i = top;
    }
    UNREACHABLE(); /* a heap of at most 2^16 entries is at most 17 levels deep */
}

/* Returns true when two of the n labels of t are equal. Sorts idx (room for n)
 * with heapsort: O(n log n), no allocation and no recursion. */
static bool labels_have_duplicate(const struct label_table *t, uint32_t n, uint16_t *idx)
{
    ASSERT(n <= USHER_EVENT_ROWS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        idx[i] = (uint16_t)i;
    }
    for (uint32_t i = n / 2; i > 0; i--) {
        heap_sift(t, idx, i - 1, n);
    }
    for (uint32_t end = n; end > 1; end--) {
        uint16_t tmp = idx[0];
        idx[0] = idx[end - 1];
        idx[end - 1] = tmp;
        heap_sift(t, idx, 0, end - 1);
    }
    for (uint32_t i = 1; i < n; i++) {
        ASSERT(label_cmp(t, idx[i - 1], idx[i]) <= 0);
        if (label_cmp(t, idx[i - 1], idx[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* A label is valid when it is NUL-terminated inside its array and not empty. */
static bool label_is_valid(const char *label)
{
    size_t len = strnlen(label, USHER_LABEL_LEN_MAX + 1);
    return len > 0 && len <= USHER_LABEL_LEN_MAX;
}

static int validate_rows(const struct event *e, const struct event_section *sec)
{
    if (sec->row_count == 0) {
        return USHER_INVALID;
    }
    for (uint32_t j = 0; j < sec->row_count; j++) {
        const struct event_row *row = &e->rows[sec->row_first + j];
        if (!label_is_valid(row->label)) {
            return USHER_INVALID;
        }
        if (row->seat_count == 0) {
            return USHER_INVALID;
        }
        if (row->seat_count > USHER_ROW_SEATS_MAX) {
            return USHER_LIMIT_ROW_SEATS;
        }
        if ((uint32_t)row->number_first + row->seat_count - 1u > UINT16_MAX) {
            return USHER_INVALID;
        }
    }
    return 0;
}

static int validate_section(const struct event *e, const struct event_section *sec)
{
    if (!label_is_valid(sec->label)) {
        return USHER_INVALID;
    }
    if (sec->kind == EVENT_SECTION_GA) {
        if (sec->ga_capacity == 0) {
            return USHER_INVALID;
        }
        if (sec->ga_capacity > USHER_GA_CAPACITY_MAX) {
            return USHER_LIMIT_GA_CAPACITY;
        }
        return 0;
    }
    ASSERT(sec->kind == EVENT_SECTION_SEATED); /* event_layout() checked the kinds */
    ASSERT(sec->row_first + sec->row_count <= e->row_count);
    return validate_rows(e, sec);
}

/* Checks the uniqueness of section labels, then of row labels per section. */
static int validate_labels(const struct event *e)
{
    uint16_t scratch[USHER_EVENT_ROWS_MAX];
    struct label_table sections = {
        .base = (const uint8_t *)e->sections,
        .stride = sizeof(struct event_section),
    };
    if (labels_have_duplicate(&sections, e->section_count, scratch)) {
        return USHER_DUPLICATE_LABEL;
    }
    for (uint32_t s = 0; s < e->section_count; s++) {
        const struct event_section *sec = &e->sections[s];
        struct label_table rows = {
            .base = (const uint8_t *)&e->rows[sec->row_first],
            .stride = sizeof(struct event_row),
        };
        if (sec->row_count > 0 && labels_have_duplicate(&rows, sec->row_count, scratch)) {
            return USHER_DUPLICATE_LABEL;
        }
    }
    return 0;
}

static int validate_structure(const struct event *e)
{
    if (e->section_count == 0) {
        return USHER_INVALID;
    }
    if (e->section_count > USHER_EVENT_SECTIONS_MAX) {
        return USHER_LIMIT_EVENT_SECTIONS;
    }
    if (e->row_count > USHER_EVENT_ROWS_MAX) {
        return USHER_LIMIT_EVENT_ROWS;
    }
    for (uint32_t s = 0; s < e->section_count; s++) {
        int rc = validate_section(e, &e->sections[s]);
        if (rc != 0) {
            return rc;
        }
    }
    if (e->seat_count > USHER_EVENT_SEATS_MAX) {
        return USHER_LIMIT_EVENT_SEATS;
    }
    return validate_labels(e);
}

static int validate_limits(const struct event *e)
{
    if (e->hold_ttl_min_ms < USHER_HOLD_TTL_MIN_MS || e->hold_ttl_min_ms > e->hold_ttl_max_ms ||
        e->hold_ttl_max_ms > USHER_HOLD_TTL_MAX_MS) {
        return USHER_TTL_OUT_OF_RANGE;
    }
    if (e->hold_ttl_max_ms > e->hold_lifetime_max_ms ||
        e->hold_lifetime_max_ms > USHER_HOLD_LIFETIME_MAX_MS) {
        return USHER_LIMIT_HOLD_LIFETIME;
    }
    if (e->hold_seats_max == 0) {
        return USHER_INVALID;
    }
    if (e->hold_seats_max > USHER_HOLD_SEATS_MAX) {
        return USHER_LIMIT_HOLD_SEATS;
    }
    if (e->customer_seats_max == 0) {
        return USHER_INVALID;
    }
    if (e->customer_seats_max > USHER_CUSTOMER_SEATS_MAX) {
        return USHER_LIMIT_CUSTOMER_SEATS;
    }
    if (e->sale_start_ms >= e->sale_end_ms) {
        return USHER_INVALID;
    }
    return 0;
}

int event_validate(const struct event *e)
{
    ASSERT(e != NULL);
    if (e->id == 0) {
        return USHER_INVALID;
    }
    if (strnlen(e->name, sizeof(e->name)) == sizeof(e->name)) {
        return USHER_INVALID;
    }
    int rc = validate_structure(e);
    if (rc != 0) {
        return rc;
    }
    return validate_limits(e);
}

uint32_t event_row_of_seat(const struct event *e, uint32_t seat_index)
{
    ASSERT(e != NULL);
    ASSERT(seat_index < e->seat_count);
    ASSERT(e->row_count > 0);
    /* The last row whose seat_first <= seat_index holds the seat: rows are in
     * ascending seat order and a row of zero seats shares its successor's
     * seat_first, so "last" skips it. */
    uint32_t lo = 0;
    uint32_t hi = e->row_count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e->rows[mid].seat_first <= seat_index) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    const struct event_row *row = &e->rows[lo];
    ASSERT(row->seat_first <= seat_index);
    ASSERT(seat_index - row->seat_first < row->seat_count);
    return lo;
}

static bool section_equal(const struct event_section *a, const struct event_section *b)
{
    return strncmp(a->label, b->label, sizeof(a->label)) == 0 && a->kind == b->kind &&
           a->row_first == b->row_first && a->row_count == b->row_count &&
           a->seat_first == b->seat_first && a->seat_count == b->seat_count &&
           a->ga_capacity == b->ga_capacity;
}

static bool row_equal(const struct event_row *a, const struct event_row *b)
{
    return strncmp(a->label, b->label, sizeof(a->label)) == 0 && a->section == b->section &&
           a->seat_first == b->seat_first && a->seat_count == b->seat_count &&
           a->number_first == b->number_first;
}

bool event_equal(const struct event *a, const struct event *b)
{
    ASSERT(a != NULL);
    ASSERT(b != NULL);
    bool head =
        a->id == b->id && strncmp(a->name, b->name, sizeof(a->name)) == 0 &&
        a->sale_start_ms == b->sale_start_ms && a->sale_end_ms == b->sale_end_ms &&
        a->hold_ttl_min_ms == b->hold_ttl_min_ms && a->hold_ttl_max_ms == b->hold_ttl_max_ms &&
        a->hold_lifetime_max_ms == b->hold_lifetime_max_ms &&
        a->hold_seats_max == b->hold_seats_max && a->customer_seats_max == b->customer_seats_max &&
        a->section_count == b->section_count && a->row_count == b->row_count &&
        a->seat_count == b->seat_count;
    if (!head) {
        return false;
    }
    for (uint32_t i = 0; i < a->section_count; i++) {
        if (!section_equal(&a->sections[i], &b->sections[i])) {
            return false;
        }
    }
    for (uint32_t i = 0; i < a->row_count; i++) {
        if (!row_equal(&a->rows[i], &b->rows[i])) {
            return false;
        }
    }
    return true;
}
