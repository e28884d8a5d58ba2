/*
 * libFuzzer target: the reply payload decoders (codec_reply.c;
 * tests/fuzz/run.sh).
 *
 * The first input byte picks the decoder (modulo the count below); the rest
 * is the payload. For the error kind, bytes 1 and 2 are the reply status
 * (little-endian) and the payload follows them. Any input must decode or be
 * refused without a crash or undefined behaviour. An accepted payload must
 * re-encode to the same bytes and decode again to an equal value.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "fuzz_proto_equal.h"
#include "limits.h"
#include "proto.h"

enum reply_kind {
    KIND_AVAILABILITY = 0,
    KIND_HOLD,
    KIND_BOOKING,
    KIND_CUSTOMER,
    KIND_HISTORY,
    KIND_STATUS,
    KIND_EVENT_LIST,
    KIND_ERROR,
    KIND_COUNT,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A buffer for a re-encoding that must be exactly len bytes long. */
static uint8_t *room_for(size_t len)
{
    uint8_t *p = malloc(len == 0 ? 1 : len);
    ASSERT(p != NULL);
    return p;
}

static void *alloc_pair(size_t one)
{
    void *p = malloc(2 * one);
    ASSERT(p != NULL);
    return p;
}

static void check_availability(const uint8_t *in, size_t len)
{
    struct inv_availability *a = alloc_pair(sizeof(*a));
    if (codec_reply_availability_decode(in, len, &a[0]) == 0) {
        ASSERT(proto_availability_tail_is_zero(&a[0]));
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_availability_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_availability_decode(out, n, &a[1]) == 0);
        ASSERT(proto_availability_equal(&a[0], &a[1]));
        free(out);
    }
    free(a);
}

static void check_hold(const uint8_t *in, size_t len)
{
    struct inv_hold a[2];
    if (codec_reply_hold_decode(in, len, &a[0]) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_hold_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_hold_decode(out, n, &a[1]) == 0);
        ASSERT(proto_hold_equal(&a[0], &a[1]));
        free(out);
    }
}

static void check_booking(const uint8_t *in, size_t len)
{
    struct inv_booking a[2];
    if (codec_reply_booking_decode(in, len, &a[0]) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_booking_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_booking_decode(out, n, &a[1]) == 0);
        ASSERT(proto_booking_equal(&a[0], &a[1]));
        free(out);
    }
}

static void check_customer(const uint8_t *in, size_t len)
{
    struct inv_customer_items *a = alloc_pair(sizeof(*a));
    if (codec_reply_customer_decode(in, len, &a[0]) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_customer_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_customer_decode(out, n, &a[1]) == 0);
        ASSERT(proto_customer_equal(&a[0], &a[1]));
        free(out);
    }
    free(a);
}

static void check_history(const uint8_t *in, size_t len)
{
    struct inv_seat_history *a = alloc_pair(sizeof(*a));
    if (codec_reply_history_decode(in, len, &a[0]) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_history_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_history_decode(out, n, &a[1]) == 0);
        ASSERT(proto_history_equal(&a[0], &a[1]));
        free(out);
    }
    free(a);
}

static void check_status(const uint8_t *in, size_t len)
{
    struct proto_node_status *a = alloc_pair(sizeof(*a));
    if (codec_reply_status_decode(in, len, &a[0]) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_status_encode(&a[0], out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_status_decode(out, n, &a[1]) == 0);
        ASSERT(proto_status_equal(&a[0], &a[1]));
        free(out);
    }
    free(a);
}

static void check_event_list(const uint8_t *in, size_t len)
{
    uint64_t *ids = alloc_pair(sizeof(uint64_t) * PROTO_EVENT_LIST_MAX);
    uint32_t n1 = 0;
    if (codec_reply_event_list_decode(in, len, ids, PROTO_EVENT_LIST_MAX, &n1) == 0) {
        uint8_t *out = room_for(len);
        size_t n = 0;
        ASSERT(codec_reply_event_list_encode(ids, n1, out, len, &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        uint32_t n2 = 0;
        uint64_t *again = ids + PROTO_EVENT_LIST_MAX;
        ASSERT(codec_reply_event_list_decode(out, n, again, PROTO_EVENT_LIST_MAX, &n2) == 0);
        ASSERT(n1 == n2);
        ASSERT(memcmp(ids, again, sizeof(uint64_t) * n1) == 0);
        free(out);
    }
    free(ids);
}

static void check_error(const uint8_t *in, size_t len)
{
    if (len < 2) {
        return;
    }
    uint16_t status = (uint16_t)(in[0] | in[1] << 8);
    in += 2;
    len -= 2;
    struct proto_error a[2];
    if (codec_reply_error_decode(status, in, len, &a[0]) == 0) {
        uint8_t out[PROTO_ERROR_BYTES_MAX];
        size_t n = 0;
        ASSERT(codec_reply_error_encode(a[0].status, a[0].text, a[0].retry_after_ms, out,
                                        sizeof(out), &n) == 0);
        ASSERT(n == len);
        ASSERT(memcmp(out, in, len) == 0);
        ASSERT(codec_reply_error_decode(status, out, n, &a[1]) == 0);
        ASSERT(proto_error_equal(&a[0], &a[1]));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) {
        return 0;
    }
    const uint8_t *in = data + 1;
    size_t len = size - 1;
    switch ((enum reply_kind)(data[0] % KIND_COUNT)) {
    case KIND_AVAILABILITY:
        check_availability(in, len);
        break;
    case KIND_HOLD:
        check_hold(in, len);
        break;
    case KIND_BOOKING:
        check_booking(in, len);
        break;
    case KIND_CUSTOMER:
        check_customer(in, len);
        break;
    case KIND_HISTORY:
        check_history(in, len);
        break;
    case KIND_STATUS:
        check_status(in, len);
        break;
    case KIND_EVENT_LIST:
        check_event_list(in, len);
        break;
    case KIND_ERROR:
        check_error(in, len);
        break;
    case KIND_COUNT:
        UNREACHABLE();
    }
    return 0;
}
