/*
 * The description of a ticketed event: sections, rows and seats.
 *
 * Seats are addressed by a dense index inside their event (0 .. seat_count-1),
 * assigned in order: section by section, row by row, seat by seat. So a
 * section's seats and a row's seats are contiguous ranges of that index and
 * availability is a compact bitmap (DESIGN.md "State").
 *
 *   event ──┬── section 0 (SEATED) ── row 0: seats [0, 20)   labels "A-1".."A-20"
 *           │                      └─ row 1: seats [20, 40)  labels "B-1".."B-20"
 *           └── section 1 (GA, capacity 500): no seats, a counter
 *
 * A seat's label is "<row label>-<number>", number = row.number_first + j.
 * The description is immutable once the event exists.
 */
#ifndef USHER_SRC_EVENT_H
#define USHER_SRC_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "limits.h"

enum event_section_kind {
    EVENT_SECTION_SEATED = 1,
    EVENT_SECTION_GA = 2,
};

struct event_section {
    char label[USHER_LABEL_LEN_MAX + 1]; /* NUL-terminated, non-empty */
    uint8_t kind;                        /* enum event_section_kind */
    uint32_t row_first;                  /* index of its first row in event.rows (SEATED) */
    uint32_t row_count;                  /* 0 for GA */
    uint32_t seat_first;                 /* dense index of its first seat (SEATED) */
    uint32_t seat_count;                 /* 0 for GA */
    uint32_t ga_capacity;                /* places, GA only; 0 for SEATED */
};

struct event_row {
    char label[USHER_LABEL_LEN_MAX + 1]; /* unique inside its section */
    uint32_t section;                    /* index of its section */
    uint32_t seat_first;                 /* dense index of its first seat */
    uint16_t seat_count;                 /* >= 1 */
    uint16_t number_first;               /* seat j is labelled number_first + j */
};

struct event {
    uint64_t id;                       /* chosen by the creator, != 0, unique per cluster */
    char name[USHER_NAME_LEN_MAX + 1]; /* NUL-terminated, may be empty */
    uint64_t sale_start_ms;            /* holds accepted while start <= now < end */
    uint64_t sale_end_ms;              /* 0 at create means "no end" (UINT64_MAX) */
    uint32_t hold_ttl_min_ms;          /* 0 at create: USHER_HOLD_TTL_DEFAULT_MIN_MS */
    uint32_t hold_ttl_max_ms;          /* 0 at create: USHER_HOLD_TTL_DEFAULT_MAX_MS */
    uint32_t hold_lifetime_max_ms;     /* 0 at create: USHER_HOLD_LIFETIME_DEFAULT_MS */
    uint16_t hold_seats_max;           /* 0 at create: USHER_HOLD_SEATS_DEFAULT */
    uint16_t customer_seats_max;       /* 0 at create: USHER_CUSTOMER_SEATS_DEFAULT */
    uint32_t section_count;
    uint32_t row_count;
    uint32_t seat_count;            /* seated seats, all sections */
    struct event_section *sections; /* section_count entries, same allocation */
    struct event_row *rows;         /* row_count entries, same allocation */
};

/*
 * Allocates an event with room for the given sections and rows, zeroed.
 * The caller fills it in, then calls event_layout(). Returns NULL when the
 * counts exceed the limits or memory is short. Free with event_destroy().
 */
struct event *event_create(uint32_t section_count, uint32_t row_count);

/* Frees an event from event_create() or a decoder; NULL is fine. */
void event_destroy(struct event *e);

/* Returns a deep copy of e, or NULL when memory is short. */
struct event *event_copy(const struct event *e);

/*
 * Computes the derived fields from the section kinds, row counts and row seat
 * counts: section.row_first/seat_first/seat_count, row.section/seat_first and
 * event.seat_count. Returns 0, or a LIMIT_* code when the totals exceed the
 * limits, or USHER_INVALID when the row counts do not add up to row_count.
 */
USHER_MUST_CHECK int event_layout(struct event *e);

/* Replaces 0 in the optional fields by their documented defaults. */
void event_apply_defaults(struct event *e);

/*
 * Checks the rules of a new event (after event_apply_defaults()): id != 0,
 * labels non-empty and unique (sections in the event, rows in a section),
 * TTL bounds inside the hard limits and min <= max <= lifetime, seat limits
 * under the ceilings, sale start < end, seat numbers that do not overflow.
 * Returns 0 or the code of the first rule broken.
 */
USHER_MUST_CHECK int event_validate(const struct event *e);

/* Returns the index of the row holding seat_index (< e->seat_count). */
uint32_t event_row_of_seat(const struct event *e, uint32_t seat_index);

/* Returns true when the two descriptions are equal field by field. */
bool event_equal(const struct event *a, const struct event *b);

#endif
