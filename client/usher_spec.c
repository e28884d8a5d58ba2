/*
 * Event descriptions for clients (usher.h "Event descriptions"): a builder
 * that lays the event out as it grows, and the readers of a description a
 * node sent.
 *
 * A spec keeps a struct event (src/event.h) whose section and row arrays
 * are the spec's own growable arrays, so `&spec->head` is at every moment
 * a laid-out event description: the codec encodes it as it is and the
 * cluster's own rules (event_validate()) check it. Rows are always appended
 * to the last section, which keeps each section's rows contiguous, as the
 * dense seat index needs:
 *
 *   section_add("Stalls")      rows: []            seats: []
 *   row_add("A", 20, 1)        rows: [A]           seats: [0, 20)   A-1 .. A-20
 *   row_add("B", 22, 1)        rows: [A, B]        seats: [0, 42)   B-1 .. B-22
 *   ga_add("Floor", 500)       no rows, no seats: a counter of 500 places
 */
#include "usher_int.h"

#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "mem.h"

struct usher_event_spec {
    struct event head; /* head.sections and head.rows point at the arrays below */
    uint32_t section_cap;
    uint32_t row_cap;
};

int usher_event_spec_create(uint64_t event_id, const char *name, struct usher_event_spec **out)
{
    if (event_id == 0 || out == NULL) {
        return USHER_INVALID;
    }
    size_t name_len = name == NULL ? 0 : strnlen(name, USHER_NAME_LEN_MAX + 1u);
    if (name_len > USHER_NAME_LEN_MAX) {
        return USHER_LIMIT_LABEL_LEN;
    }
    struct usher_event_spec *s = mem_calloc(1, sizeof(*s));
    if (s == NULL) {
        return USHER_NOMEM;
    }
    s->head.id = event_id;
    if (name_len > 0) {
        memcpy(s->head.name, name, name_len);
    }
    *out = s;
    return 0;
}

void usher_event_spec_destroy(struct usher_event_spec *s)
{
    if (s == NULL) {
        return;
    }
    mem_free(s->head.sections);
    mem_free(s->head.rows);
    mem_free(s);
}

int usher_event_spec_sale_window_set(struct usher_event_spec *s, uint64_t start_ms, uint64_t end_ms)
{
    if (end_ms != 0 && end_ms <= start_ms) {
        return USHER_INVALID;
    }
    s->head.sale_start_ms = start_ms;
    s->head.sale_end_ms = end_ms;
    return 0;
}

void usher_event_spec_hold_ttl_set(struct usher_event_spec *s, uint32_t min_ms, uint32_t max_ms,
                                   uint32_t lifetime_max_ms)
{
    s->head.hold_ttl_min_ms = min_ms;
    s->head.hold_ttl_max_ms = max_ms;
    s->head.hold_lifetime_max_ms = lifetime_max_ms;
}

void usher_event_spec_limits_set(struct usher_event_spec *s, uint16_t hold_seats_max,
                                 uint16_t customer_seats_max)
{
    s->head.hold_seats_max = hold_seats_max;
    s->head.customer_seats_max = customer_seats_max;
}

/* Grows an array of `size`-byte items to hold count + 1 (doubling). */
static int grow(void **items, uint32_t *cap, uint32_t count, size_t size)
{
    if (count < *cap) {
        return 0;
    }
    uint32_t cap_new = *cap > 0 ? *cap * 2u : 8u;
    void *p = mem_calloc(cap_new, size);
    if (p == NULL) {
        return USHER_NOMEM;
    }
    if (*items != NULL) {
        memcpy(p, *items, (size_t)count * size);
        mem_free(*items);
    }
    *items = p;
    *cap = cap_new;
    return 0;
}

static int label_check(const char *label)
{
    size_t len = label == NULL ? 0 : strnlen(label, USHER_LABEL_LEN_MAX + 1u);
    if (len == 0) {
        return USHER_INVALID;
    }
    return len > USHER_LABEL_LEN_MAX ? USHER_LIMIT_LABEL_LEN : 0;
}

/* Appends a section of that kind; the caller sets what is kind-specific. */
static int section_append(struct usher_event_spec *s, const char *label, uint8_t kind,
                          uint32_t *index)
{
    int rc = label_check(label);
    if (rc != 0) {
        return rc;
    }
    if (s->head.section_count >= USHER_EVENT_SECTIONS_MAX) {
        return USHER_LIMIT_EVENT_SECTIONS;
    }
    void *items = s->head.sections;
    rc = grow(&items, &s->section_cap, s->head.section_count, sizeof(struct event_section));
    s->head.sections = items;
    if (rc != 0) {
        return rc;
    }
    struct event_section *sec = &s->head.sections[s->head.section_count];
    memset(sec, 0, sizeof(*sec));
    memcpy(sec->label, label, strlen(label));
    sec->kind = kind;
    sec->row_first = s->head.row_count;
    sec->seat_first = s->head.seat_count;
    if (index != NULL) {
        *index = s->head.section_count;
    }
    s->head.section_count++;
    return 0;
}

int usher_event_spec_section_add(struct usher_event_spec *s, const char *label, uint32_t *index)
{
    return section_append(s, label, EVENT_SECTION_SEATED, index);
}

int usher_event_spec_ga_add(struct usher_event_spec *s, const char *label, uint32_t capacity,
                            uint32_t *index)
{
    if (capacity == 0) {
        return USHER_INVALID;
    }
    if (capacity > USHER_GA_CAPACITY_MAX) {
        return USHER_LIMIT_GA_CAPACITY;
    }
    uint32_t at = 0;
    int rc = section_append(s, label, EVENT_SECTION_GA, &at);
    if (rc != 0) {
        return rc;
    }
    s->head.sections[at].ga_capacity = capacity;
    if (index != NULL) {
        *index = at;
    }
    return 0;
}

static int row_check(const struct usher_event_spec *s, const char *label, uint16_t seat_count,
                     uint16_t number_first)
{
    if (s->head.section_count == 0 ||
        s->head.sections[s->head.section_count - 1u].kind != EVENT_SECTION_SEATED) {
        return USHER_INVALID;
    }
    int rc = label_check(label);
    if (rc != 0) {
        return rc;
    }
    if (seat_count == 0 || (uint32_t)number_first + seat_count - 1u > UINT16_MAX) {
        return USHER_INVALID;
    }
    if (seat_count > USHER_ROW_SEATS_MAX) {
        return USHER_LIMIT_ROW_SEATS;
    }
    if (s->head.row_count >= USHER_EVENT_ROWS_MAX) {
        return USHER_LIMIT_EVENT_ROWS;
    }
    if (s->head.seat_count + seat_count > USHER_EVENT_SEATS_MAX) {
        return USHER_LIMIT_EVENT_SEATS;
    }
    return 0;
}

int usher_event_spec_row_add(struct usher_event_spec *s, const char *label, uint16_t seat_count,
                             uint16_t number_first)
{
    int rc = row_check(s, label, seat_count, number_first);
    if (rc != 0) {
        return rc;
    }
    void *items = s->head.rows;
    rc = grow(&items, &s->row_cap, s->head.row_count, sizeof(struct event_row));
    s->head.rows = items;
    if (rc != 0) {
        return rc;
    }
    uint32_t section = s->head.section_count - 1u;
    struct event_row *row = &s->head.rows[s->head.row_count];
    memset(row, 0, sizeof(*row));
    memcpy(row->label, label, strlen(label));
    row->section = section;
    row->seat_first = s->head.seat_count;
    row->seat_count = seat_count;
    row->number_first = number_first;
    struct event_section *sec = &s->head.sections[section];
    ASSERT(sec->row_first + sec->row_count == s->head.row_count);
    sec->row_count++;
    sec->seat_count += seat_count;
    s->head.row_count++;
    s->head.seat_count += seat_count;
    ASSERT(s->head.seat_count <= USHER_EVENT_SEATS_MAX);
    return 0;
}

int usher_spec_to_event(const struct usher_event_spec *s, struct event **out)
{
    struct event *e = event_copy(&s->head);
    if (e == NULL) {
        return USHER_NOMEM;
    }
    /* Recompute the derived fields: the builder's layout must agree. */
    int rc = event_layout(e);
    if (rc != 0) {
        event_destroy(e);
        return rc;
    }
    ASSERT(event_equal(e, &s->head));
    *out = e;
    return 0;
}

int usher_spec_from_event(const struct event *e, struct usher_event_spec **out)
{
    struct usher_event_spec *s = mem_calloc(1, sizeof(*s));
    struct event_section *sections = mem_calloc(e->section_count + 1u, sizeof(*sections));
    struct event_row *rows = mem_calloc(e->row_count + 1u, sizeof(*rows));
    if (s == NULL || sections == NULL || rows == NULL) {
        mem_free(s);
        mem_free(sections);
        mem_free(rows);
        return USHER_NOMEM;
    }
    s->head = *e;
    s->head.sections = sections;
    s->head.rows = rows;
    s->section_cap = e->section_count + 1u;
    s->row_cap = e->row_count + 1u;
    memcpy(sections, e->sections, sizeof(*sections) * e->section_count);
    memcpy(rows, e->rows, sizeof(*rows) * e->row_count);
    *out = s;
    return 0;
}

int usher_event_spec_validate(const struct usher_event_spec *s)
{
    struct event *e = NULL;
    int rc = usher_spec_to_event(s, &e);
    if (rc != 0) {
        return rc;
    }
    event_apply_defaults(e);
    rc = event_validate(e);
    event_destroy(e);
    return rc;
}

void usher_event_spec_info(const struct usher_event_spec *s, struct usher_event_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = s->head.id;
    static_assert(sizeof(out->name) == sizeof(s->head.name), "same name size");
    memcpy(out->name, s->head.name, sizeof(out->name));
    out->sale_start_ms = s->head.sale_start_ms;
    out->sale_end_ms = s->head.sale_end_ms;
    out->hold_ttl_min_ms = s->head.hold_ttl_min_ms;
    out->hold_ttl_max_ms = s->head.hold_ttl_max_ms;
    out->hold_lifetime_max_ms = s->head.hold_lifetime_max_ms;
    out->hold_seats_max = s->head.hold_seats_max;
    out->customer_seats_max = s->head.customer_seats_max;
    out->section_count = s->head.section_count;
    out->row_count = s->head.row_count;
    out->seat_count = s->head.seat_count;
}

int usher_event_spec_section(const struct usher_event_spec *s, uint32_t i,
                             struct usher_section_info *out)
{
    if (i >= s->head.section_count) {
        return USHER_INVALID;
    }
    const struct event_section *sec = &s->head.sections[i];
    memset(out, 0, sizeof(*out));
    static_assert(sizeof(out->label) == sizeof(sec->label), "same label size");
    memcpy(out->label, sec->label, sizeof(out->label));
    out->kind = sec->kind;
    out->row_first = sec->row_first;
    out->row_count = sec->row_count;
    out->seat_first = sec->seat_first;
    out->seat_count = sec->seat_count;
    out->ga_capacity = sec->ga_capacity;
    return 0;
}

int usher_event_spec_row(const struct usher_event_spec *s, uint32_t i, struct usher_row_info *out)
{
    if (i >= s->head.row_count) {
        return USHER_INVALID;
    }
    const struct event_row *row = &s->head.rows[i];
    memset(out, 0, sizeof(*out));
    static_assert(sizeof(out->label) == sizeof(row->label), "same label size");
    memcpy(out->label, row->label, sizeof(out->label));
    out->section = row->section;
    out->seat_first = row->seat_first;
    out->seat_count = row->seat_count;
    out->number_first = row->number_first;
    return 0;
}

int usher_event_spec_seat_row(const struct usher_event_spec *s, uint32_t seat_index, uint32_t *row)
{
    if (seat_index >= s->head.seat_count) {
        return USHER_NO_SUCH_SEAT;
    }
    *row = event_row_of_seat(&s->head, seat_index);
    return 0;
}

int usher_event_spec_seat_label(const struct usher_event_spec *s, uint32_t seat_index, char *buf,
                                size_t cap)
{
    uint32_t r = 0;
    int rc = usher_event_spec_seat_row(s, seat_index, &r);
    if (rc != 0) {
        return rc;
    }
    const struct event_row *row = &s->head.rows[r];
    uint32_t number = row->number_first + (seat_index - row->seat_first);
    int n = snprintf(buf, cap, "%s-%u", row->label, (unsigned)number);
    return n < 0 || (size_t)n >= cap ? USHER_LIMIT_LABEL_LEN : 0;
}

int usher_event_spec_section_find(const struct usher_event_spec *s, const char *label,
                                  uint32_t *index)
{
    for (uint32_t i = 0; i < s->head.section_count; i++) {
        if (strncmp(s->head.sections[i].label, label, USHER_LABEL_LEN_MAX + 1u) == 0) {
            *index = i;
            return 0;
        }
    }
    return USHER_NO_SUCH_SECTION;
}

/* The parts of "[section/]row-number". */
struct seat_name {
    char section[USHER_LABEL_LEN_MAX + 1];
    char row[USHER_LABEL_LEN_MAX + 1];
    uint32_t number;
    bool has_section;
};

static int seat_name_parse(const char *label, struct seat_name *out)
{
    memset(out, 0, sizeof(*out));
    size_t len = strnlen(label, 2u * USHER_LABEL_LEN_MAX + 8u);
    const char *slash = memchr(label, '/', len);
    const char *row = slash != NULL ? slash + 1 : label;
    const char *dash = NULL;
    for (const char *p = row; p < label + len; p++) {
        dash = *p == '-' ? p : dash; /* the last dash: row labels may hold one */
    }
    size_t section_len = slash != NULL ? (size_t)(slash - label) : 0;
    size_t row_len = dash != NULL ? (size_t)(dash - row) : 0;
    size_t digits = dash != NULL ? (size_t)(label + len - dash - 1) : 0;
    if (dash == NULL || row_len == 0 || row_len > USHER_LABEL_LEN_MAX || digits == 0 ||
        digits > 5u || section_len > USHER_LABEL_LEN_MAX || (slash != NULL && section_len == 0)) {
        return USHER_INVALID;
    }
    for (size_t i = 0; i < digits; i++) {
        char d = dash[1 + i];
        if (d < '0' || d > '9') {
            return USHER_INVALID;
        }
        out->number = out->number * 10u + (uint32_t)(d - '0');
    }
    memcpy(out->section, label, section_len);
    memcpy(out->row, row, row_len);
    out->has_section = slash != NULL;
    return 0;
}

int usher_event_spec_seat_find(const struct usher_event_spec *s, const char *label,
                               uint32_t *seat_index)
{
    struct seat_name name;
    if (label == NULL || seat_name_parse(label, &name) != 0) {
        return USHER_INVALID;
    }
    uint32_t found = 0;
    uint32_t seat = 0;
    for (uint32_t i = 0; i < s->head.row_count; i++) {
        const struct event_row *row = &s->head.rows[i];
        const struct event_section *sec = &s->head.sections[row->section];
        if (strncmp(row->label, name.row, sizeof(name.row)) != 0 ||
            (name.has_section && strncmp(sec->label, name.section, sizeof(name.section)) != 0)) {
            continue;
        }
        if (name.number >= row->number_first &&
            name.number < (uint32_t)row->number_first + row->seat_count) {
            seat = row->seat_first + (name.number - row->number_first);
            found++;
        }
    }
    if (found != 1) {
        return USHER_NO_SUCH_SEAT; /* none, or the same row label in several sections */
    }
    *seat_index = seat;
    return 0;
}
