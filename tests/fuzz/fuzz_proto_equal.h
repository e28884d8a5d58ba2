/*
 * Field-by-field equality of the decoded wire protocol structs (proto.h),
 * shared by fuzz_reply.c, fuzz_frame.c and tests/unit/test_proto.c. Only the
 * used part of each array is compared, plus a check that the unused part a
 * decoder zeroes is zero.
 */
#ifndef USHER_TESTS_FUZZ_PROTO_EQUAL_H
#define USHER_TESTS_FUZZ_PROTO_EQUAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "inv.h"
#include "proto.h"

/* Returns true when the n bytes at p are all zero. */
static inline bool proto_bytes_are_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != 0) {
            return false;
        }
    }
    return true;
}

static inline bool proto_header_equal(const struct proto_header *a, const struct proto_header *b)
{
    return a->len == b->len && a->version == b->version && a->op == b->op && a->flags == b->flags &&
           a->request_id == b->request_id &&
           memcmp(a->trace_id, b->trace_id, PROTO_TRACE_ID_BYTES) == 0 && a->status == b->status &&
           a->reserved == b->reserved;
}

static inline bool proto_availability_equal(const struct inv_availability *a,
                                            const struct inv_availability *b)
{
    if (a->event_id != b->event_id || a->applied_index != b->applied_index ||
        a->now_ms != b->now_ms || a->section_count != b->section_count ||
        a->seat_count != b->seat_count) {
        return false;
    }
    for (uint32_t i = 0; i < a->section_count; i++) {
        const struct inv_section_avail *x = &a->sections[i];
        const struct inv_section_avail *y = &b->sections[i];
        if (x->free != y->free || x->held != y->held || x->booked != y->booked ||
            x->capacity != y->capacity) {
            return false;
        }
    }
    size_t used = ((size_t)a->seat_count + 7u) / 8u;
    return memcmp(a->free_bitmap, b->free_bitmap, used) == 0;
}

/* Returns true when the parts of a decoded availability past its counts are zero. */
static inline bool proto_availability_tail_is_zero(const struct inv_availability *a)
{
    size_t used = ((size_t)a->seat_count + 7u) / 8u;
    return proto_bytes_are_zero(&a->sections[a->section_count],
                                sizeof(a->sections[0]) *
                                    (USHER_EVENT_SECTIONS_MAX - a->section_count)) &&
           proto_bytes_are_zero(&a->free_bitmap[used], sizeof(a->free_bitmap) - used);
}

static inline bool proto_hold_equal(const struct inv_hold *a, const struct inv_hold *b)
{
    uint32_t listed = a->ga == 0 ? a->seat_count : 0;
    return a->id == b->id && a->event_id == b->event_id && a->customer_id == b->customer_id &&
           a->state == b->state && a->ga == b->ga && a->section == b->section &&
           a->seat_count == b->seat_count && a->created_at_ms == b->created_at_ms &&
           a->expires_at_ms == b->expires_at_ms && a->ended_at_ms == b->ended_at_ms &&
           a->booking_id == b->booking_id &&
           memcmp(a->seats, b->seats, listed * sizeof(uint32_t)) == 0;
}

static inline bool proto_booking_equal(const struct inv_booking *a, const struct inv_booking *b)
{
    uint32_t listed = a->ga == 0 ? a->seat_count : 0;
    return a->id == b->id && a->event_id == b->event_id && a->customer_id == b->customer_id &&
           a->hold_id == b->hold_id && a->state == b->state && a->ga == b->ga &&
           a->section == b->section && a->seat_count == b->seat_count &&
           a->booked_at_ms == b->booked_at_ms && a->cancelled_at_ms == b->cancelled_at_ms &&
           strcmp(a->payment_ref, b->payment_ref) == 0 &&
           memcmp(a->seats, b->seats, listed * sizeof(uint32_t)) == 0;
}

static inline bool proto_customer_equal(const struct inv_customer_items *a,
                                        const struct inv_customer_items *b)
{
    if (a->count != b->count || a->more != b->more) {
        return false;
    }
    for (uint32_t i = 0; i < a->count; i++) {
        const struct inv_customer_item *x = &a->items[i];
        const struct inv_customer_item *y = &b->items[i];
        if (x->is_booking != y->is_booking || x->id != y->id || x->seat_count != y->seat_count ||
            x->expires_at_ms != y->expires_at_ms) {
            return false;
        }
    }
    return true;
}

static inline bool proto_history_equal(const struct inv_seat_history *a,
                                       const struct inv_seat_history *b)
{
    if (a->count != b->count || a->more != b->more) {
        return false;
    }
    for (uint32_t i = 0; i < a->count; i++) {
        const struct inv_history_entry *x = &a->entries[i];
        const struct inv_history_entry *y = &b->entries[i];
        if (x->kind != y->kind || x->at_ms != y->at_ms || x->id != y->id ||
            x->customer_id != y->customer_id) {
            return false;
        }
    }
    return true;
}

static inline bool proto_status_equal(const struct proto_node_status *a,
                                      const struct proto_node_status *b)
{
    if (a->node_id != b->node_id || a->cluster_id != b->cluster_id ||
        a->shard_count != b->shard_count || a->listed != b->listed ||
        strcmp(a->version, b->version) != 0) {
        return false;
    }
    for (uint32_t i = 0; i < a->listed; i++) {
        const struct proto_shard_status *x = &a->shards[i];
        const struct proto_shard_status *y = &b->shards[i];
        if (x->shard != y->shard || x->role != y->role || x->term != y->term ||
            x->commit_index != y->commit_index || x->applied_index != y->applied_index ||
            x->leader_id != y->leader_id || x->events != y->events) {
            return false;
        }
    }
    return true;
}

static inline bool proto_error_equal(const struct proto_error *a, const struct proto_error *b)
{
    return a->status == b->status && a->retry_after_ms == b->retry_after_ms &&
           strcmp(a->text, b->text) == 0;
}

#endif
