/*
 * Field-by-field equality of decoded commands and results, shared by the
 * fuzz targets (each is one .c file linked alone). The digest is compared
 * too: two decodes of the same bytes must agree on it.
 */
#ifndef USHER_TESTS_FUZZ_EQUAL_H
#define USHER_TESTS_FUZZ_EQUAL_H

#include <stdbool.h>
#include <string.h>

#include "cmd.h"
#include "event.h"

static inline bool fuzz_body_equal(const struct cmd *a, const struct cmd *b)
{
    switch ((enum cmd_type)a->type) {
    case CMD_EVENT_CREATE:
        return event_equal(a->u.create.event, b->u.create.event);
    case CMD_HOLD_SEATS:
        return a->u.hold_seats.ttl_ms == b->u.hold_seats.ttl_ms &&
               a->u.hold_seats.seat_count == b->u.hold_seats.seat_count &&
               memcmp(a->u.hold_seats.seats, b->u.hold_seats.seats,
                      a->u.hold_seats.seat_count * sizeof(uint32_t)) == 0;
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        return a->u.hold_count.ttl_ms == b->u.hold_count.ttl_ms &&
               a->u.hold_count.section == b->u.hold_count.section &&
               a->u.hold_count.count == b->u.hold_count.count;
    case CMD_HOLD_EXTEND:
        return a->u.extend.hold_id == b->u.extend.hold_id &&
               a->u.extend.ttl_ms == b->u.extend.ttl_ms;
    case CMD_HOLD_RELEASE:
        return a->u.release.hold_id == b->u.release.hold_id;
    case CMD_HOLD_BOOK:
        return a->u.book.hold_id == b->u.book.hold_id &&
               strcmp(a->u.book.payment_ref, b->u.book.payment_ref) == 0;
    case CMD_BOOKING_CANCEL:
        return a->u.cancel.booking_id == b->u.cancel.booking_id;
    case CMD_SWEEP:
        return a->u.sweep.max == b->u.sweep.max;
    }
    return false;
}

static inline bool fuzz_cmd_equal(const struct cmd *a, const struct cmd *b)
{
    return a->type == b->type && a->client_id == b->client_id && a->idem_key == b->idem_key &&
           a->event_id == b->event_id && a->customer_id == b->customer_id &&
           a->digest == b->digest && fuzz_body_equal(a, b);
}

static inline bool fuzz_result_equal(const struct cmd_result *a, const struct cmd_result *b)
{
    return a->status == b->status && a->type == b->type && a->replayed == b->replayed &&
           a->id == b->id && a->expires_at_ms == b->expires_at_ms && a->swept == b->swept &&
           a->more == b->more && a->seat_count == b->seat_count &&
           memcmp(a->seats, b->seats, a->seat_count * sizeof(uint32_t)) == 0;
}

#endif
