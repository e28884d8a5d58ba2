/*
 * Unit tests of the client wire protocol codec (src/codec_frame.c,
 * src/codec_reply.c, docs/PROTOCOL.md): round trips of the header, the
 * request payloads and every reply and error payload, the exact encoded
 * sizes, and every rejection, at each limit and one past it. A refused
 * decode must leave its output untouched; inputs are copied into heap
 * buffers of their exact size, so ASan catches any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../fuzz/fuzz_proto_equal.h"
#include "err.h"
#include "inv.h"
#include "limits.h"
#include "proto.h"

#define FRAME_HEAD  (PROTO_LEN_BYTES + PROTO_HEADER_BYTES)
#define FRAME_MAX   ((size_t)USHER_FRAME_BYTES_MAX)
#define REPLY_ROOM  (FRAME_MAX - FRAME_HEAD)
#define SENTINEL    0xA5
#define SMALL_BYTES 4096u
#define LIST_CAP    16u

/* Offsets of the frame (docs/PROTOCOL.md "Framing"). */
#define OFF_LEN      0
#define OFF_VERSION  4
#define OFF_OP       5
#define OFF_FLAGS    6
#define OFF_REQUEST  8
#define OFF_STATUS   32
#define OFF_RESERVED 34

/* ---- Helpers ---- */

static void put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/* A heap copy of exactly n bytes (at least one allocated byte). */
static uint8_t *dup_exact(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n == 0 ? 1 : n);
    assert_non_null(q);
    if (n > 0) {
        memcpy(q, p, n);
    }
    return q;
}

static void *alloc_zero(size_t n)
{
    void *p = calloc(1, n);
    assert_non_null(p);
    return p;
}

typedef int (*decode_fn)(const uint8_t *buf, size_t len, void *out);

static int dec_availability(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_availability_decode(buf, len, out);
}

static int dec_hold(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_hold_decode(buf, len, out);
}

static int dec_booking(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_booking_decode(buf, len, out);
}

static int dec_customer(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_customer_decode(buf, len, out);
}

static int dec_history(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_history_decode(buf, len, out);
}

static int dec_status(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_status_decode(buf, len, out);
}

/* out: LIST_CAP ids, then the count. */
struct id_list {
    uint64_t ids[LIST_CAP];
    uint32_t n;
};

static int dec_event_list(const uint8_t *buf, size_t len, void *out)
{
    struct id_list *l = out;
    return codec_reply_event_list_decode(buf, len, l->ids, LIST_CAP, &l->n);
}

static int dec_error_not_leader(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_error_decode(USHER_NOT_LEADER, buf, len, out);
}

static int dec_error_busy(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_error_decode(USHER_BUSY, buf, len, out);
}

static int dec_error_message(const uint8_t *buf, size_t len, void *out)
{
    return codec_reply_error_decode(USHER_SEAT_TAKEN, buf, len, out);
}

/* Asserts that decoding these len bytes is refused with BAD_REQUEST and
 * leaves an output of out_size bytes exactly as it was. */
static void expect_refused(decode_fn decode, const uint8_t *bytes, size_t len, size_t out_size)
{
    uint8_t *in = dup_exact(bytes, len);
    uint8_t *out = malloc(out_size);
    uint8_t *before = malloc(out_size);
    assert_non_null(out);
    assert_non_null(before);
    memset(out, SENTINEL, out_size);
    memset(before, SENTINEL, out_size);
    assert_int_equal(decode(in, len, out), USHER_BAD_REQUEST);
    assert_memory_equal(out, before, out_size);
    free(before);
    free(out);
    free(in);
}

/* Asserts that every strict prefix of a valid payload and the payload with
 * one trailing byte are refused, and that the payload itself decodes. */
static void expect_cuts_refused(decode_fn decode, const uint8_t *bytes, size_t len, size_t out_size)
{
    for (size_t cut = 0; cut < len; cut++) {
        expect_refused(decode, bytes, cut, out_size);
    }
    uint8_t *longer = malloc(len + 1);
    assert_non_null(longer);
    memcpy(longer, bytes, len);
    longer[len] = 0;
    expect_refused(decode, longer, len + 1, out_size);
    free(longer);
    uint8_t *in = dup_exact(bytes, len);
    void *out = alloc_zero(out_size);
    assert_int_equal(decode(in, len, out), 0);
    free(out);
    free(in);
}

/* ---- Samples ---- */

static void sample_header(struct proto_header *h, uint8_t op, uint64_t request_id)
{
    memset(h, 0, sizeof(*h));
    h->version = PROTO_VERSION;
    h->op = op;
    h->request_id = request_id;
    for (uint8_t i = 0; i < PROTO_TRACE_ID_BYTES; i++) {
        h->trace_id[i] = (uint8_t)(0xA0u + i);
    }
}

/* Encodes a frame of header h and payload_len payload bytes (value 0x5A) into
 * a fresh heap buffer of exactly its size. */
static uint8_t *make_frame(const struct proto_header *h, size_t payload_len, size_t *frame_bytes)
{
    *frame_bytes = FRAME_HEAD + payload_len;
    uint8_t *f = malloc(*frame_bytes);
    assert_non_null(f);
    assert_int_equal(codec_frame_header_encode(h, payload_len, f), 0);
    memset(f + FRAME_HEAD, 0x5A, payload_len);
    return f;
}

/* Decodes a frame and expects code rc; on failure the outputs are untouched. */
static void expect_frame(const uint8_t *f, size_t frame_bytes, int rc)
{
    uint8_t *in = dup_exact(f, frame_bytes);
    struct proto_header h;
    memset(&h, SENTINEL, sizeof(h));
    const uint8_t *payload = (const uint8_t *)&h;
    size_t payload_len = 77;
    assert_int_equal(codec_frame_decode(in, frame_bytes, &h, &payload, &payload_len), rc);
    if (rc != 0) {
        struct proto_header before;
        memset(&before, SENTINEL, sizeof(before));
        assert_memory_equal(&h, &before, sizeof(h));
        assert_ptr_equal(payload, (const uint8_t *)&h);
        assert_int_equal(payload_len, 77);
    }
    free(in);
}

/* 3 sections (seated 15, GA 500, seated 6) and 21 seats. */
static void sample_availability(struct inv_availability *a)
{
    memset(a, 0, sizeof(*a));
    a->event_id = 42;
    a->applied_index = 1000;
    a->now_ms = 1700000000000ull;
    a->section_count = 3;
    a->sections[0] =
        (struct inv_section_avail){ .free = 10, .held = 2, .booked = 3, .capacity = 15 };
    a->sections[1] =
        (struct inv_section_avail){ .free = 490, .held = 5, .booked = 5, .capacity = 500 };
    a->sections[2] = (struct inv_section_avail){ .free = 5, .held = 0, .booked = 1, .capacity = 6 };
    a->seat_count = 21;
    a->free_bitmap[0] = 0xFF;
    a->free_bitmap[1] = 0x0F;
    a->free_bitmap[2] = 0x1D; /* bits 0 .. 4 only: seats 16 .. 20 */
}

static void sample_hold(struct inv_hold *h, bool ga)
{
    memset(h, 0, sizeof(*h));
    h->id = (7ull << USHER_ID_SLOT_BITS) | 3;
    h->event_id = 42;
    h->customer_id = 501;
    h->state = INV_HOLD_ACTIVE;
    h->created_at_ms = 1700000000000ull;
    h->expires_at_ms = 1700000600000ull;
    if (ga) {
        h->ga = 1;
        h->section = 1;
        h->seat_count = 6;
        return;
    }
    h->seat_count = 4;
    for (uint32_t i = 0; i < 4; i++) {
        h->seats[i] = 20 + i;
    }
}

static void sample_booking(struct inv_booking *b)
{
    memset(b, 0, sizeof(*b));
    b->id = (9ull << USHER_ID_SLOT_BITS) | 1;
    b->event_id = 42;
    b->customer_id = 501;
    b->hold_id = (7ull << USHER_ID_SLOT_BITS) | 3;
    b->state = INV_BOOKING_CONFIRMED;
    b->seat_count = 4;
    b->booked_at_ms = 1700000100000ull;
    memcpy(b->payment_ref, "pi_3NfQ2k", 10);
    for (uint32_t i = 0; i < 4; i++) {
        b->seats[i] = 20 + i;
    }
}

static void sample_customer(struct inv_customer_items *c, uint32_t count)
{
    memset(c, 0, sizeof(*c));
    c->count = count;
    for (uint32_t i = 0; i < count; i++) {
        c->items[i] = (struct inv_customer_item){ .is_booking = (uint8_t)(i % 2),
                                                  .id = 1000u + i,
                                                  .seat_count = (uint16_t)(1 + i % 4),
                                                  .expires_at_ms = i % 2 ? 0 : 5000u + i };
    }
}

static void sample_history(struct inv_seat_history *s, uint32_t count)
{
    memset(s, 0, sizeof(*s));
    s->count = count;
    for (uint32_t i = 0; i < count; i++) {
        s->entries[i] = (struct inv_history_entry){
            .kind = (uint8_t)(1 + i % 5), .at_ms = 9000u - i, .id = 77u + i, .customer_id = 501
        };
    }
}

static void sample_status(struct proto_node_status *s, uint32_t shard_count, uint32_t listed)
{
    memset(s, 0, sizeof(*s));
    s->node_id = 1;
    s->cluster_id = 0xC1C1C1C1ull;
    s->shard_count = shard_count;
    s->listed = listed;
    memcpy(s->version, "0.1.0", 6);
    for (uint32_t i = 0; i < listed; i++) {
        s->shards[i] = (struct proto_shard_status){ .shard = i,
                                                    .role = (uint8_t)(i % 4),
                                                    .term = 3,
                                                    .commit_index = 100u + i,
                                                    .applied_index = 99u + i,
                                                    .leader_id = i % 4 == 3 ? 1 : 0,
                                                    .events = i };
    }
}

/* ---- Frames ---- */

static void test_frame_request_round_trip(void **state)
{
    /* Goal: a request header and its payload decode to what was encoded. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_HOLD_GET, 0x0102030405060708ull);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 16, &frame_bytes);
    struct proto_header got;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    assert_int_equal(codec_frame_decode(f, frame_bytes, &got, &payload, &payload_len), 0);
    h.len = PROTO_HEADER_BYTES + 16;
    assert_true(proto_header_equal(&got, &h));
    assert_ptr_equal(payload, f + FRAME_HEAD);
    assert_int_equal(payload_len, 16);
    free(f);
}

static void test_frame_reply_round_trip_every_op(void **state)
{
    /* Goal: replies of every op, with a status, decode; an empty payload too. */
    (void)state;
    for (uint8_t op = 1; op <= PROTO_OP_MAX; op++) {
        struct proto_header h;
        sample_header(&h, op, op);
        h.flags = PROTO_FLAG_REPLY;
        h.status = op % 2 ? USHER_OK : USHER_SEAT_TAKEN;
        size_t frame_bytes = 0;
        uint8_t *f = make_frame(&h, op == PROTO_OP_PING ? 0 : op, &frame_bytes);
        struct proto_header got;
        const uint8_t *payload = NULL;
        size_t payload_len = 0;
        assert_int_equal(codec_frame_decode(f, frame_bytes, &got, &payload, &payload_len), 0);
        h.len = (uint32_t)(frame_bytes - PROTO_LEN_BYTES);
        assert_true(proto_header_equal(&got, &h));
        assert_int_equal(payload_len, frame_bytes - FRAME_HEAD);
        free(f);
    }
}

static void test_frame_header_bytes_are_as_documented(void **state)
{
    /* Goal: pin the byte layout of docs/PROTOCOL.md's worked example. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_PING, 1);
    memset(h.trace_id, 0, sizeof(h.trace_id));
    uint8_t out[FRAME_HEAD];
    assert_int_equal(codec_frame_header_encode(&h, 0, out), 0);
    static const uint8_t want[FRAME_HEAD] = { 0x20, 0, 0, 0, 0x01, 0x0A, 0, 0, 0x01 };
    assert_memory_equal(out, want, sizeof(want));
}

static void test_frame_length_bounds(void **state)
{
    /* Goal: the length field is refused below a header and above the frame
     * limit, and accepted exactly at both bounds. */
    (void)state;
    uint8_t b[4];
    size_t frame_bytes = 0;
    put_u32(b, PROTO_HEADER_BYTES - 1);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), USHER_BAD_REQUEST);
    put_u32(b, 0);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), USHER_BAD_REQUEST);
    put_u32(b, PROTO_HEADER_BYTES);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), 0);
    assert_int_equal(frame_bytes, FRAME_HEAD);
    put_u32(b, USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), 0);
    assert_int_equal(frame_bytes, FRAME_MAX);
    frame_bytes = 5;
    put_u32(b, USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES + 1);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), USHER_LIMIT_MSG_SIZE);
    put_u32(b, UINT32_MAX);
    assert_int_equal(codec_frame_length_decode(b, &frame_bytes), USHER_LIMIT_MSG_SIZE);
    assert_int_equal(frame_bytes, 5);
}

static void test_frame_decode_checks_length_field(void **state)
{
    /* Goal: a whole-frame decode refuses a length field below the header,
     * above the limit, or disagreeing with the frame size. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_PING, 9);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 8, &frame_bytes);
    expect_frame(f, frame_bytes, 0);
    expect_frame(f, frame_bytes - 1, USHER_BAD_REQUEST);
    expect_frame(f, 3, USHER_BAD_REQUEST);
    expect_frame(f, 0, USHER_BAD_REQUEST);
    put_u32(f + OFF_LEN, PROTO_HEADER_BYTES - 1);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u32(f + OFF_LEN, PROTO_HEADER_BYTES + 9);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u32(f + OFF_LEN, USHER_FRAME_BYTES_MAX);
    expect_frame(f, frame_bytes, USHER_LIMIT_MSG_SIZE);
    free(f);
}

static void test_frame_truncated_at_every_byte(void **state)
{
    /* Goal: every prefix of a frame, and the frame plus one byte, is refused. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_AVAILABILITY, 5);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 8, &frame_bytes);
    for (size_t cut = 0; cut < frame_bytes; cut++) {
        expect_frame(f, cut, USHER_BAD_REQUEST);
    }
    uint8_t *longer = malloc(frame_bytes + 1);
    assert_non_null(longer);
    memcpy(longer, f, frame_bytes);
    longer[frame_bytes] = 0;
    expect_frame(longer, frame_bytes + 1, USHER_BAD_REQUEST);
    free(longer);
    free(f);
}

static void test_frame_bad_version(void **state)
{
    /* Goal: any version but PROTO_VERSION is BAD_VERSION. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_PING, 1);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 0, &frame_bytes);
    const uint8_t versions[] = { 0, 2, 0xFF };
    for (size_t i = 0; i < sizeof(versions); i++) {
        f[OFF_VERSION] = versions[i];
        expect_frame(f, frame_bytes, USHER_BAD_VERSION);
    }
    free(f);
}

static void test_frame_op_out_of_range(void **state)
{
    /* Goal: a request op of 0 or above PROTO_OP_MAX is refused; 1 and MAX pass. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_PING, 1);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 0, &frame_bytes);
    f[OFF_OP] = 1;
    expect_frame(f, frame_bytes, 0);
    f[OFF_OP] = PROTO_OP_MAX;
    expect_frame(f, frame_bytes, 0);
    const uint8_t bad[] = { 0, PROTO_OP_MAX + 1, 0xFF };
    for (size_t i = 0; i < sizeof(bad); i++) {
        f[OFF_OP] = bad[i];
        expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    }
    free(f);
}

static void test_frame_stream_error_reply_needs_id_zero_and_status(void **state)
{
    /* Goal: op 0 is accepted only as a stream-error reply: a reply with
     * request id 0 and a status. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_NONE, 0);
    h.flags = PROTO_FLAG_REPLY;
    h.status = USHER_LIMIT_MSG_SIZE;
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 1, &frame_bytes);
    expect_frame(f, frame_bytes, 0);
    put_u64(f + OFF_REQUEST, 1);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u64(f + OFF_REQUEST, 0);
    put_u16(f + OFF_STATUS, 0);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u16(f + OFF_STATUS, USHER_BAD_REQUEST);
    put_u16(f + OFF_FLAGS, 0);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    free(f);
}

static void test_frame_flags_reserved_and_request_status(void **state)
{
    /* Goal: unknown flag bits, a reserved field != 0 and a request carrying
     * a status are refused; a reply may carry any status. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_STATUS, 3);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, 0, &frame_bytes);
    const uint16_t flags[] = { 2, 3, 0x8000, 0xFFFF };
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
        put_u16(f + OFF_FLAGS, flags[i]);
        expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    }
    put_u16(f + OFF_FLAGS, 0);
    put_u16(f + OFF_RESERVED, 1);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u16(f + OFF_RESERVED, 0x8000);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u16(f + OFF_RESERVED, 0);
    put_u16(f + OFF_STATUS, USHER_BUSY);
    expect_frame(f, frame_bytes, USHER_BAD_REQUEST);
    put_u16(f + OFF_FLAGS, PROTO_FLAG_REPLY);
    expect_frame(f, frame_bytes, 0);
    put_u16(f + OFF_STATUS, 0xFFFF); /* a code this build does not know */
    expect_frame(f, frame_bytes, 0);
    free(f);
}

static void test_frame_header_encode_refuses_invalid(void **state)
{
    /* Goal: the header encoder refuses what the decoder refuses (INVALID),
     * and a payload past the frame limit (LIMIT_MSG_SIZE), but not at it. */
    (void)state;
    uint8_t out[FRAME_HEAD];
    struct proto_header h;
    sample_header(&h, PROTO_OP_PING, 1);
    assert_int_equal(codec_frame_header_encode(&h, REPLY_ROOM, out), 0);
    assert_int_equal(codec_frame_header_encode(&h, REPLY_ROOM + 1, out), USHER_LIMIT_MSG_SIZE);
    assert_int_equal(codec_frame_header_encode(&h, SIZE_MAX, out), USHER_LIMIT_MSG_SIZE);
    h.version = 2;
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
    sample_header(&h, PROTO_OP_MAX + 1, 1);
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
    sample_header(&h, PROTO_OP_NONE, 0);
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
    sample_header(&h, PROTO_OP_PING, 1);
    h.flags = 2;
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
    h.flags = 0;
    h.reserved = 1;
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
    h.reserved = 0;
    h.status = USHER_BUSY;
    assert_int_equal(codec_frame_header_encode(&h, 0, out), USHER_INVALID);
}

static void test_frame_largest_frame_round_trip(void **state)
{
    /* Goal: a frame of exactly USHER_FRAME_BYTES_MAX bytes encodes and decodes. */
    (void)state;
    struct proto_header h;
    sample_header(&h, PROTO_OP_COMMAND, 77);
    size_t frame_bytes = 0;
    uint8_t *f = make_frame(&h, REPLY_ROOM, &frame_bytes);
    assert_int_equal(frame_bytes, FRAME_MAX);
    expect_frame(f, frame_bytes, 0);
    free(f);
}

/* ---- Request payloads ---- */

static void test_read_request_round_trip_every_read_op(void **state)
{
    /* Goal: each read op's payload has its documented size and round-trips. */
    (void)state;

    const struct {
        uint8_t op;
        uint64_t arg;
        size_t bytes;
    } cases[] = {
        { PROTO_OP_EVENT_GET, 0, 8 },
        { PROTO_OP_AVAILABILITY, 0, 8 },
        { PROTO_OP_HOLD_GET, 1ull << 40, 16 },
        { PROTO_OP_BOOKING_GET, 5, 16 },
        { PROTO_OP_CUSTOMER_LIST, 501, 16 },
        { PROTO_OP_SEAT_HISTORY, 0, 12 },
        { PROTO_OP_SEAT_HISTORY, UINT32_MAX, 12 },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct proto_read r = { .event_id = 42, .arg = cases[i].arg };
        uint8_t buf[16];
        size_t len = 0;
        assert_int_equal(codec_frame_read_encode(cases[i].op, &r, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, cases[i].bytes);
        struct proto_read got = { 0, 0, 0 };
        uint8_t *in = dup_exact(buf, len);
        assert_int_equal(codec_frame_read_decode(cases[i].op, in, len, &got), 0);
        assert_int_equal(got.event_id, 42);
        assert_int_equal(got.arg, cases[i].arg);
        assert_int_equal(codec_frame_read_decode(cases[i].op, in, len - 1, &got),
                         USHER_BAD_REQUEST);
        free(in);
        assert_int_equal(codec_frame_read_encode(cases[i].op, &r, buf, len - 1, &len),
                         USHER_LIMIT_MSG_SIZE);
        /* A follower read carries its staleness bound in 4 more bytes. */
        uint8_t stale[20];
        r.max_stale_ms = 2500;
        assert_int_equal(codec_frame_read_encode(cases[i].op, &r, stale, sizeof(stale), &len), 0);
        assert_int_equal(len, cases[i].bytes + 4u);
        in = dup_exact(stale, len);
        assert_int_equal(codec_frame_read_decode(cases[i].op, in, len, &got), 0);
        assert_int_equal(got.max_stale_ms, 2500);
        assert_int_equal(got.arg, cases[i].arg);
        free(in);
        /* A bound of 0 is spelt by leaving it out: a present 0 is malformed. */
        memset(stale + cases[i].bytes, 0, 4);
        got.max_stale_ms = 7;
        assert_int_equal(codec_frame_read_decode(cases[i].op, stale, len, &got), USHER_BAD_REQUEST);
        assert_int_equal(got.max_stale_ms, 7);
    }
}

static void test_read_request_rejections(void **state)
{
    /* Goal: event id 0, an id 0, trailing bytes and non-read ops are refused,
     * and the encoder refuses the same (INVALID). */
    (void)state;
    uint8_t buf[17] = { 0 };
    size_t len = 0;
    struct proto_read got = { 7, 7, 7 };
    struct proto_read r = { .event_id = 0, .arg = 0, .max_stale_ms = 0 };
    assert_int_equal(codec_frame_read_encode(PROTO_OP_EVENT_GET, &r, buf, 16, &len), USHER_INVALID);
    assert_int_equal(codec_frame_read_decode(PROTO_OP_EVENT_GET, buf, 8, &got), USHER_BAD_REQUEST);
    r.event_id = 42;
    assert_int_equal(codec_frame_read_encode(PROTO_OP_HOLD_GET, &r, buf, 16, &len), USHER_INVALID);
    put_u64(buf, 42);
    assert_int_equal(codec_frame_read_decode(PROTO_OP_HOLD_GET, buf, 16, &got), USHER_BAD_REQUEST);
    r.arg = 1;
    assert_int_equal(codec_frame_read_encode(PROTO_OP_AVAILABILITY, &r, buf, 16, &len),
                     USHER_INVALID);
    r.arg = (uint64_t)UINT32_MAX + 1;
    assert_int_equal(codec_frame_read_encode(PROTO_OP_SEAT_HISTORY, &r, buf, 16, &len),
                     USHER_INVALID);
    const uint8_t not_reads[] = { PROTO_OP_NONE,   PROTO_OP_COMMAND, PROTO_OP_EVENT_LIST,
                                  PROTO_OP_STATUS, PROTO_OP_PING,    PROTO_OP_MAX + 1 };
    r.arg = 0;
    for (size_t i = 0; i < sizeof(not_reads); i++) {
        assert_int_equal(codec_frame_read_encode(not_reads[i], &r, buf, 16, &len), USHER_INVALID);
        assert_int_equal(codec_frame_read_decode(not_reads[i], buf, 8, &got), USHER_BAD_REQUEST);
    }
    assert_int_equal(codec_frame_read_decode(PROTO_OP_EVENT_GET, buf, 9, &got), USHER_BAD_REQUEST);
    assert_int_equal(codec_frame_read_decode(PROTO_OP_SEAT_HISTORY, buf, 16, &got),
                     USHER_BAD_REQUEST);
    assert_int_equal(got.event_id, 7);
    assert_int_equal(got.arg, 7);
}

static void test_list_request_round_trip_and_zero_max(void **state)
{
    /* Goal: EVENT_LIST requests round-trip; max 0 and wrong sizes are refused. */
    (void)state;
    uint8_t buf[13] = { 0 };
    size_t len = 0;
    assert_int_equal(codec_frame_list_encode(UINT64_MAX, 1, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 12);
    uint64_t after = 0;
    uint32_t max = 0;
    assert_int_equal(codec_frame_list_decode(buf, len, &after, &max), 0);
    assert_int_equal(after, UINT64_MAX);
    assert_int_equal(max, 1);
    assert_int_equal(codec_frame_list_decode(buf, len + 1, &after, &max), USHER_BAD_REQUEST);
    assert_int_equal(codec_frame_list_decode(buf, len - 1, &after, &max), USHER_BAD_REQUEST);
    assert_int_equal(codec_frame_list_encode(0, 0, buf, sizeof(buf), &len), USHER_INVALID);
    put_u32(buf + 8, 0);
    assert_int_equal(codec_frame_list_decode(buf, 12, &after, &max), USHER_BAD_REQUEST);
    assert_int_equal(max, 1);
    assert_int_equal(codec_frame_list_encode(0, 5, buf, 11, &len), USHER_LIMIT_MSG_SIZE);
}

/* ---- Availability ---- */

static void test_availability_round_trip(void **state)
{
    /* Goal: an availability decodes to what was encoded, in the documented
     * size, with the unused tail of its arrays zeroed. */
    (void)state;
    struct inv_availability *a = alloc_zero(sizeof(*a));
    struct inv_availability *b = malloc(sizeof(*b));
    assert_non_null(b);
    memset(b, SENTINEL, sizeof(*b));
    sample_availability(a);
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 26 + 3 * 16 + 4 + 3);
    assert_int_equal(codec_reply_availability_decode(buf, len, b), 0);
    assert_true(proto_availability_equal(a, b));
    assert_true(proto_availability_tail_is_zero(b));
    assert_int_equal(codec_reply_availability_encode(a, buf, len - 1, &len), USHER_LIMIT_MSG_SIZE);
    free(b);
    free(a);
}

static void test_availability_empty_and_largest(void **state)
{
    /* Goal: no sections and no seats round-trips; the largest event (every
     * section, every seat) fits a frame and round-trips. */
    (void)state;
    struct inv_availability *a = alloc_zero(sizeof(*a));
    struct inv_availability *b = alloc_zero(sizeof(*b));
    uint8_t *buf = malloc(REPLY_ROOM);
    assert_non_null(buf);
    size_t len = 0;
    a->event_id = 1;
    assert_int_equal(codec_reply_availability_encode(a, buf, REPLY_ROOM, &len), 0);
    assert_int_equal(len, 30);
    assert_int_equal(codec_reply_availability_decode(buf, len, b), 0);
    assert_true(proto_availability_equal(a, b));
    a->section_count = USHER_EVENT_SECTIONS_MAX;
    a->seat_count = USHER_EVENT_SEATS_MAX;
    for (uint32_t i = 0; i < USHER_EVENT_SECTIONS_MAX; i++) {
        a->sections[i].capacity = USHER_EVENT_SEATS_MAX / USHER_EVENT_SECTIONS_MAX;
        a->sections[i].free = i;
    }
    for (uint32_t i = 0; i < USHER_EVENT_SEATS_MAX / 8; i++) {
        a->free_bitmap[i] = (uint8_t)(i * 37u);
    }
    assert_int_equal(codec_reply_availability_encode(a, buf, REPLY_ROOM, &len), 0);
    assert_int_equal(len, 26 + 16 * USHER_EVENT_SECTIONS_MAX + 4 + USHER_EVENT_SEATS_MAX / 8);
    assert_int_equal(codec_reply_availability_decode(buf, len, b), 0);
    assert_true(proto_availability_equal(a, b));
    free(buf);
    free(b);
    free(a);
}

static void test_availability_truncated_or_trailing_rejected(void **state)
{
    /* Goal: every prefix and one trailing byte are refused, output untouched. */
    (void)state;
    struct inv_availability *a = alloc_zero(sizeof(*a));
    sample_availability(a);
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), 0);
    expect_cuts_refused(dec_availability, buf, len, sizeof(*a));
    free(a);
}

static void test_availability_counts_and_bitmap_rules(void **state)
{
    /* Goal: counts one past their array, event id 0 and set bits past the
     * last seat are refused by the decoder and by the encoder. */
    (void)state;
    struct inv_availability *a = alloc_zero(sizeof(*a));
    sample_availability(a);
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), 0);
    size_t seat_off = 26 + 3 * 16;
    uint8_t bad[SMALL_BYTES];
    memcpy(bad, buf, len);
    put_u16(bad + 24, USHER_EVENT_SECTIONS_MAX + 1);
    expect_refused(dec_availability, bad, len, sizeof(*a));
    memcpy(bad, buf, len);
    put_u32(bad + seat_off, USHER_EVENT_SEATS_MAX + 1);
    expect_refused(dec_availability, bad, len, sizeof(*a));
    memcpy(bad, buf, len);
    bad[len - 1] |= 0x20; /* seat 21: past the last */
    expect_refused(dec_availability, bad, len, sizeof(*a));
    memcpy(bad, buf, len);
    put_u64(bad, 0);
    expect_refused(dec_availability, bad, len, sizeof(*a));
    a->free_bitmap[2] |= 0x80;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), USHER_INVALID);
    sample_availability(a);
    a->section_count = USHER_EVENT_SECTIONS_MAX + 1;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), USHER_INVALID);
    sample_availability(a);
    a->seat_count = USHER_EVENT_SEATS_MAX + 1;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), USHER_INVALID);
    sample_availability(a);
    a->event_id = 0;
    assert_int_equal(codec_reply_availability_encode(a, buf, sizeof(buf), &len), USHER_INVALID);
    free(a);
}

/* ---- Hold ---- */

static void test_hold_round_trip_seated_and_ga(void **state)
{
    /* Goal: seated holds carry their seats, GA holds none; both round-trip. */
    (void)state;
    for (int ga = 0; ga <= 1; ga++) {
        struct inv_hold h;
        struct inv_hold got;
        sample_hold(&h, ga == 1);
        uint8_t buf[SMALL_BYTES];
        size_t len = 0;
        assert_int_equal(codec_reply_hold_encode(&h, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, ga == 1 ? 62 : 62 + 4 * 4);
        assert_int_equal(codec_reply_hold_decode(buf, len, &got), 0);
        assert_true(proto_hold_equal(&h, &got));
        expect_cuts_refused(dec_hold, buf, len, sizeof(got));
    }
}

static void test_hold_booked_and_largest(void **state)
{
    /* Goal: a booked hold with 64 seats round-trips. */
    (void)state;
    struct inv_hold h;
    struct inv_hold got;
    sample_hold(&h, false);
    h.state = INV_HOLD_BOOKED;
    h.booking_id = 99;
    h.ended_at_ms = 1700000100000ull;
    h.seat_count = USHER_HOLD_SEATS_MAX;
    for (uint32_t i = 0; i < USHER_HOLD_SEATS_MAX; i++) {
        h.seats[i] = USHER_EVENT_SEATS_MAX - 1 - i;
    }
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_hold_encode(&h, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 62 + 4 * USHER_HOLD_SEATS_MAX);
    assert_int_equal(codec_reply_hold_decode(buf, len, &got), 0);
    assert_true(proto_hold_equal(&h, &got));
}

/* Applies one change to a sample hold; both coders must refuse it. */
static void expect_hold_refused(void (*change)(struct inv_hold *h))
{
    struct inv_hold h;
    sample_hold(&h, false);
    uint8_t good[SMALL_BYTES];
    size_t good_len = 0;
    assert_int_equal(codec_reply_hold_encode(&h, good, sizeof(good), &good_len), 0);
    change(&h);
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_hold_encode(&h, buf, sizeof(buf), &len), USHER_INVALID);
    /* The same change made to the bytes, through a raw writer of the layout. */
    uint8_t raw[SMALL_BYTES];
    memcpy(raw, good, 62);
    put_u64(raw, h.id);
    put_u64(raw + 8, h.event_id);
    put_u64(raw + 16, h.customer_id);
    raw[24] = h.state;
    raw[25] = h.ga;
    put_u16(raw + 26, h.section);
    put_u16(raw + 28, h.seat_count);
    put_u64(raw + 54, h.booking_id);
    size_t n = 62;
    for (uint32_t i = 0; h.ga == 0 && i < h.seat_count && i < USHER_HOLD_SEATS_MAX + 1u; i++) {
        put_u32(raw + n, h.seats[i % USHER_HOLD_SEATS_MAX]);
        n += 4;
    }
    expect_refused(dec_hold, raw, n, sizeof(struct inv_hold));
}

static void hold_state_zero(struct inv_hold *h)
{
    h->state = 0;
}

static void hold_state_five(struct inv_hold *h)
{
    h->state = INV_HOLD_BOOKED + 1;
}

static void hold_ga_two(struct inv_hold *h)
{
    h->ga = 2;
}

static void hold_seated_with_section(struct inv_hold *h)
{
    h->section = 1;
}

static void hold_no_seats(struct inv_hold *h)
{
    h->seat_count = 0;
}

static void hold_too_many_seats(struct inv_hold *h)
{
    h->seat_count = USHER_HOLD_SEATS_MAX + 1;
}

static void hold_active_with_booking(struct inv_hold *h)
{
    h->booking_id = 5;
}

static void hold_booked_without_booking(struct inv_hold *h)
{
    h->state = INV_HOLD_BOOKED;
}

static void hold_id_zero(struct inv_hold *h)
{
    h->id = 0;
}

static void hold_event_zero(struct inv_hold *h)
{
    h->event_id = 0;
}

static void hold_customer_zero(struct inv_hold *h)
{
    h->customer_id = 0;
}

static void test_hold_field_rules(void **state)
{
    /* Goal: each documented hold rule is enforced by both coders. */
    (void)state;
    expect_hold_refused(hold_state_zero);
    expect_hold_refused(hold_state_five);
    expect_hold_refused(hold_ga_two);
    expect_hold_refused(hold_seated_with_section);
    expect_hold_refused(hold_no_seats);
    expect_hold_refused(hold_too_many_seats);
    expect_hold_refused(hold_active_with_booking);
    expect_hold_refused(hold_booked_without_booking);
    expect_hold_refused(hold_id_zero);
    expect_hold_refused(hold_event_zero);
    expect_hold_refused(hold_customer_zero);
}

/* ---- Booking ---- */

static void test_booking_round_trip(void **state)
{
    /* Goal: seated and GA bookings, with and without a payment reference,
     * round-trip in their documented sizes; cuts are refused. */
    (void)state;
    struct inv_booking b;
    struct inv_booking got;
    sample_booking(&b);
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_booking_encode(&b, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 55 + 9 + 4 * 4);
    assert_int_equal(codec_reply_booking_decode(buf, len, &got), 0);
    assert_true(proto_booking_equal(&b, &got));
    expect_cuts_refused(dec_booking, buf, len, sizeof(got));
    b.ga = 1;
    b.section = 2;
    b.state = INV_BOOKING_CANCELLED;
    b.cancelled_at_ms = 1700000200000ull;
    b.payment_ref[0] = '\0';
    assert_int_equal(codec_reply_booking_encode(&b, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 55);
    assert_int_equal(codec_reply_booking_decode(buf, len, &got), 0);
    assert_true(proto_booking_equal(&b, &got));
}

static void test_booking_payment_ref_rules(void **state)
{
    /* Goal: a reference of 63 bytes passes; 64 bytes, a NUL inside, and an
     * unterminated array are refused. */
    (void)state;
    struct inv_booking b;
    struct inv_booking got;
    sample_booking(&b);
    memset(b.payment_ref, 'r', USHER_PAYMENT_REF_LEN_MAX);
    b.payment_ref[USHER_PAYMENT_REF_LEN_MAX] = '\0';
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_booking_encode(&b, buf, sizeof(buf), &len), 0);
    assert_int_equal(codec_reply_booking_decode(buf, len, &got), 0);
    assert_int_equal(strlen(got.payment_ref), USHER_PAYMENT_REF_LEN_MAX);
    uint8_t bad[SMALL_BYTES];
    memcpy(bad, buf, len);
    bad[55 + 10] = 0;
    expect_refused(dec_booking, bad, len, sizeof(got));
    /* ref_len 64: the 64th byte is the first seat's first byte. */
    memcpy(bad, buf, len);
    bad[54] = USHER_PAYMENT_REF_LEN_MAX + 1;
    expect_refused(dec_booking, bad, len, sizeof(got));
    memset(b.payment_ref, 'r', sizeof(b.payment_ref));
    assert_int_equal(codec_reply_booking_encode(&b, buf, sizeof(buf), &len), USHER_INVALID);
}

static void test_booking_field_rules(void **state)
{
    /* Goal: state, ga, section, seat count and ids are checked both ways. */
    (void)state;
    struct inv_booking b;
    sample_booking(&b);
    uint8_t good[SMALL_BYTES];
    size_t good_len = 0;
    assert_int_equal(codec_reply_booking_encode(&b, good, sizeof(good), &good_len), 0);

    const struct {
        size_t off;
        uint8_t value;
    } bytes[] = { { 32, 0 }, { 32, 3 }, { 33, 2 }, { 34, 1 }, { 36, 0 } };

    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        uint8_t bad[SMALL_BYTES];
        memcpy(bad, good, good_len);
        bad[bytes[i].off] = bytes[i].value;
        expect_refused(dec_booking, bad, good_len, sizeof(b));
    }
    for (size_t off = 0; off < 32; off += 8) {
        uint8_t bad[SMALL_BYTES];
        memcpy(bad, good, good_len);
        put_u64(bad + off, 0);
        expect_refused(dec_booking, bad, good_len, sizeof(b));
    }
    uint8_t bad[SMALL_BYTES];
    memcpy(bad, good, good_len);
    put_u16(bad + 36, USHER_HOLD_SEATS_MAX + 1);
    expect_refused(dec_booking, bad, good_len, sizeof(b));
    size_t len = 0;
    b.state = 3;
    assert_int_equal(codec_reply_booking_encode(&b, bad, sizeof(bad), &len), USHER_INVALID);
    sample_booking(&b);
    b.hold_id = 0;
    assert_int_equal(codec_reply_booking_encode(&b, bad, sizeof(bad), &len), USHER_INVALID);
    sample_booking(&b);
    b.seat_count = USHER_HOLD_SEATS_MAX + 1;
    assert_int_equal(codec_reply_booking_encode(&b, bad, sizeof(bad), &len), USHER_INVALID);
    sample_booking(&b);
    b.section = 3;
    assert_int_equal(codec_reply_booking_encode(&b, bad, sizeof(bad), &len), USHER_INVALID);
}

/* ---- Customer items ---- */

static void test_customer_round_trip_and_limit(void **state)
{
    /* Goal: 0, a few and USHER_CUSTOMER_ITEMS_MAX items round-trip (with
     * "more"); one past the limit is refused both ways. */
    (void)state;
    struct inv_customer_items *c = alloc_zero(sizeof(*c));
    struct inv_customer_items *got = alloc_zero(sizeof(*got));
    uint8_t *buf = malloc(REPLY_ROOM);
    assert_non_null(buf);
    const uint32_t counts[] = { 0, 3, USHER_CUSTOMER_ITEMS_MAX };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        sample_customer(c, counts[i]);
        c->more = counts[i] == USHER_CUSTOMER_ITEMS_MAX;
        size_t len = 0;
        assert_int_equal(codec_reply_customer_encode(c, buf, REPLY_ROOM, &len), 0);
        assert_int_equal(len, 3 + 19 * (size_t)counts[i]);
        assert_int_equal(codec_reply_customer_decode(buf, len, got), 0);
        assert_true(proto_customer_equal(c, got));
    }
    size_t len = 0;
    sample_customer(c, 3);
    assert_int_equal(codec_reply_customer_encode(c, buf, REPLY_ROOM, &len), 0);
    expect_cuts_refused(dec_customer, buf, len, sizeof(*c));
    uint8_t bad[64];
    memcpy(bad, buf, len);
    bad[2] = 2;
    expect_refused(dec_customer, bad, len, sizeof(*c));
    memcpy(bad, buf, len);
    bad[3] = 2;
    expect_refused(dec_customer, bad, len, sizeof(*c));
    memcpy(bad, buf, len);
    put_u64(bad + 4, 0);
    expect_refused(dec_customer, bad, len, sizeof(*c));
    /* A count of 257 with 257 whole items behind it. */
    size_t big = 3 + 19 * (USHER_CUSTOMER_ITEMS_MAX + 1);
    memset(buf, 0, big);
    put_u16(buf, USHER_CUSTOMER_ITEMS_MAX + 1);
    for (size_t k = 0; k <= USHER_CUSTOMER_ITEMS_MAX; k++) {
        put_u64(buf + 3 + 19 * k + 1, 1 + k);
    }
    expect_refused(dec_customer, buf, big, sizeof(*c));
    c->count = USHER_CUSTOMER_ITEMS_MAX + 1;
    assert_int_equal(codec_reply_customer_encode(c, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_customer(c, 3);
    c->more = 2;
    assert_int_equal(codec_reply_customer_encode(c, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_customer(c, 3);
    c->items[2].is_booking = 2;
    assert_int_equal(codec_reply_customer_encode(c, buf, REPLY_ROOM, &len), USHER_INVALID);
    free(buf);
    free(got);
    free(c);
}

/* ---- Seat history ---- */

static void test_history_round_trip_and_limit(void **state)
{
    /* Goal: 0, a few and USHER_HISTORY_MAX entries round-trip; kinds outside
     * 1 .. 5, a bad "more" and a count past the limit are refused. */
    (void)state;
    struct inv_seat_history *s = alloc_zero(sizeof(*s));
    struct inv_seat_history *got = alloc_zero(sizeof(*got));
    uint8_t *buf = malloc(REPLY_ROOM);
    assert_non_null(buf);
    const uint32_t counts[] = { 0, 5, USHER_HISTORY_MAX };
    for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
        sample_history(s, counts[i]);
        s->more = counts[i] == USHER_HISTORY_MAX;
        size_t len = 0;
        assert_int_equal(codec_reply_history_encode(s, buf, REPLY_ROOM, &len), 0);
        assert_int_equal(len, 3 + 25 * (size_t)counts[i]);
        assert_int_equal(codec_reply_history_decode(buf, len, got), 0);
        assert_true(proto_history_equal(s, got));
    }
    size_t len = 0;
    sample_history(s, 5);
    assert_int_equal(codec_reply_history_encode(s, buf, REPLY_ROOM, &len), 0);
    expect_cuts_refused(dec_history, buf, len, sizeof(*s));
    uint8_t bad[256];
    const uint8_t kinds[] = { 0, INV_HISTORY_CANCEL + 1 };
    for (size_t i = 0; i < sizeof(kinds); i++) {
        memcpy(bad, buf, len);
        bad[3 + 25 * 4] = kinds[i];
        expect_refused(dec_history, bad, len, sizeof(*s));
    }
    memcpy(bad, buf, len);
    bad[2] = 2;
    expect_refused(dec_history, bad, len, sizeof(*s));
    size_t big = 3 + 25 * (USHER_HISTORY_MAX + 1);
    memset(buf, 0, big);
    put_u16(buf, USHER_HISTORY_MAX + 1);
    for (size_t k = 0; k <= USHER_HISTORY_MAX; k++) {
        buf[3 + 25 * k] = INV_HISTORY_HOLD;
    }
    expect_refused(dec_history, buf, big, sizeof(*s));
    s->count = USHER_HISTORY_MAX + 1;
    assert_int_equal(codec_reply_history_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_history(s, 5);
    s->entries[1].kind = 0;
    assert_int_equal(codec_reply_history_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    free(buf);
    free(got);
    free(s);
}

/* ---- Node status ---- */

static void test_status_round_trip_and_largest(void **state)
{
    /* Goal: a status with a few shards and one with PROTO_STATUS_SHARDS_MAX
     * shards and the longest version round-trip in their documented sizes. */
    (void)state;
    struct proto_node_status *s = alloc_zero(sizeof(*s));
    struct proto_node_status *got = alloc_zero(sizeof(*got));
    uint8_t *buf = malloc(REPLY_ROOM);
    assert_non_null(buf);
    sample_status(s, 64, 4);
    size_t len = 0;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), 0);
    assert_int_equal(len, 23 + 5 + 41 * 4);
    assert_int_equal(codec_reply_status_decode(buf, len, got), 0);
    assert_true(proto_status_equal(s, got));
    expect_cuts_refused(dec_status, buf, len, sizeof(*s));
    sample_status(s, PROTO_STATUS_SHARDS_MAX, PROTO_STATUS_SHARDS_MAX);
    memcpy(s->version, "123456789012345", 16);
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), 0);
    assert_int_equal(len, 23 + 15 + 41 * PROTO_STATUS_SHARDS_MAX);
    assert_int_equal(codec_reply_status_decode(buf, len, got), 0);
    assert_true(proto_status_equal(s, got));
    free(buf);
    free(got);
    free(s);
}

static void test_status_rules(void **state)
{
    /* Goal: a version over 15 bytes, listed over its bounds, a shard past
     * shard_count and a role past 3 are refused both ways. */
    (void)state;
    struct proto_node_status *s = alloc_zero(sizeof(*s));
    uint8_t *buf = malloc(REPLY_ROOM);
    assert_non_null(buf);
    sample_status(s, 4, 2);
    size_t len = 0;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), 0);
    size_t listed_off = 21 + 5;
    uint8_t bad[256];
    memcpy(bad, buf, len);
    put_u32(bad + 16, 1); /* shard_count 1 < listed 2, both lines shard 0 */
    put_u32(bad + listed_off + 2 + 41, 0);
    expect_refused(dec_status, bad, len, sizeof(*s));
    memcpy(bad, buf, len);
    put_u32(bad + listed_off + 2 + 41, 4); /* second shard: 4 of 4 */
    expect_refused(dec_status, bad, len, sizeof(*s));
    memcpy(bad, buf, len);
    bad[listed_off + 2 + 4] = PROTO_ROLE_MAX + 1;
    expect_refused(dec_status, bad, len, sizeof(*s));
    memcpy(bad, buf, len);
    bad[21] = 0; /* NUL in the version */
    expect_refused(dec_status, bad, len, sizeof(*s));
    memcpy(bad, buf, len);
    bad[20] = 16;
    expect_refused(dec_status, bad, len, sizeof(*s));
    /* listed 1025 under shard_count 2000, with every line present. */
    size_t big = 23 + 41 * (PROTO_STATUS_SHARDS_MAX + 1);
    memset(buf, 0, big);
    put_u32(buf + 16, 2000);
    put_u16(buf + 21, PROTO_STATUS_SHARDS_MAX + 1);
    expect_refused(dec_status, buf, big, sizeof(*s));
    memset(s->version, 'v', sizeof(s->version));
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_status(s, 4, 2);
    s->shards[1].role = PROTO_ROLE_MAX + 1;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_status(s, 4, 2);
    s->shards[0].shard = 4;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_status(s, 1, 2);
    s->shards[1].shard = 0;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    sample_status(s, 2000, 2);
    s->listed = PROTO_STATUS_SHARDS_MAX + 1;
    assert_int_equal(codec_reply_status_encode(s, buf, REPLY_ROOM, &len), USHER_INVALID);
    free(buf);
    free(s);
}

/* ---- Event list ---- */

static void test_event_list_round_trip_and_rules(void **state)
{
    /* Goal: ascending non-zero ids round-trip; zero, unordered, duplicate
     * ids, a count over the caller's room and cuts are refused. */
    (void)state;
    const uint64_t ids[] = { 1, 42, 1000, UINT64_MAX };
    uint8_t buf[SMALL_BYTES];
    size_t len = 0;
    assert_int_equal(codec_reply_event_list_encode(ids, 4, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 4 + 8 * 4);
    struct id_list got;
    memset(&got, 0, sizeof(got));
    assert_int_equal(dec_event_list(buf, len, &got), 0);
    assert_int_equal(got.n, 4);
    assert_memory_equal(got.ids, ids, sizeof(ids));
    expect_cuts_refused(dec_event_list, buf, len, sizeof(got));
    uint8_t bad[64];
    memcpy(bad, buf, len);
    put_u64(bad + 4, 0);
    expect_refused(dec_event_list, bad, len, sizeof(got));
    memcpy(bad, buf, len);
    put_u64(bad + 12, 1);
    expect_refused(dec_event_list, bad, len, sizeof(got));
    const uint64_t down[] = { 5, 4 };
    assert_int_equal(codec_reply_event_list_encode(down, 2, buf, sizeof(buf), &len), USHER_INVALID);
    const uint64_t zero[] = { 0 };
    assert_int_equal(codec_reply_event_list_encode(zero, 1, buf, sizeof(buf), &len), USHER_INVALID);
    assert_int_equal(codec_reply_event_list_encode(NULL, 0, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 4);
    uint64_t many[LIST_CAP + 1];
    for (uint32_t i = 0; i <= LIST_CAP; i++) {
        many[i] = 1u + i;
    }
    assert_int_equal(codec_reply_event_list_encode(many, LIST_CAP + 1, buf, sizeof(buf), &len), 0);
    expect_refused(dec_event_list, buf, len, sizeof(got));
    uint64_t *most = malloc(sizeof(uint64_t) * (PROTO_EVENT_LIST_MAX + 1));
    assert_non_null(most);
    for (uint32_t i = 0; i <= PROTO_EVENT_LIST_MAX; i++) {
        most[i] = 1u + i;
    }
    uint8_t *room = malloc(REPLY_ROOM);
    assert_non_null(room);
    assert_int_equal(
        codec_reply_event_list_encode(most, PROTO_EVENT_LIST_MAX, room, REPLY_ROOM, &len), 0);
    assert_int_equal(len, 4 + 8 * (size_t)PROTO_EVENT_LIST_MAX);
    assert_int_equal(
        codec_reply_event_list_encode(most, PROTO_EVENT_LIST_MAX + 1, room, REPLY_ROOM, &len),
        USHER_INVALID);
    free(room);
    free(most);
}

/* ---- Error payloads ---- */

static void test_error_payloads_round_trip(void **state)
{
    /* Goal: NOT_LEADER (address and unknown), BUSY and message payloads
     * round-trip in their documented sizes. */
    (void)state;
    uint8_t buf[PROTO_ERROR_BYTES_MAX];
    size_t len = 0;
    struct proto_error e;
    assert_int_equal(
        codec_reply_error_encode(USHER_NOT_LEADER, "10.0.0.2:7400", 99, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, 1 + 13);
    assert_int_equal(codec_reply_error_decode(USHER_NOT_LEADER, buf, len, &e), 0);
    assert_int_equal(e.status, USHER_NOT_LEADER);
    assert_string_equal(e.text, "10.0.0.2:7400");
    assert_int_equal(e.retry_after_ms, 0);
    expect_cuts_refused(dec_error_not_leader, buf, len, sizeof(e));
    assert_int_equal(codec_reply_error_encode(USHER_NOT_LEADER, NULL, 0, buf, 1, &len), 0);
    assert_int_equal(len, 1);
    assert_int_equal(codec_reply_error_decode(USHER_NOT_LEADER, buf, len, &e), 0);
    assert_string_equal(e.text, "");
    assert_int_equal(codec_reply_error_encode(USHER_BUSY, "ignored", 250, buf, 4, &len), 0);
    assert_int_equal(len, 4);
    assert_int_equal(codec_reply_error_decode(USHER_BUSY, buf, len, &e), 0);
    assert_int_equal(e.retry_after_ms, 250);
    assert_string_equal(e.text, "");
    expect_cuts_refused(dec_error_busy, buf, len, sizeof(e));
    assert_int_equal(
        codec_reply_error_encode(USHER_SEAT_TAKEN, "seat 20 is held", 5, buf, sizeof(buf), &len),
        0);
    assert_int_equal(codec_reply_error_decode(USHER_SEAT_TAKEN, buf, len, &e), 0);
    assert_string_equal(e.text, "seat 20 is held");
    assert_int_equal(e.retry_after_ms, 0);
    expect_cuts_refused(dec_error_message, buf, len, sizeof(e));
    /* A code this build does not know carries a message too. */
    assert_int_equal(codec_reply_error_decode(0xFFFF, buf, len, &e), 0);
    assert_int_equal(e.status, 0xFFFF);
}

static void test_error_payload_limits(void **state)
{
    /* Goal: texts at their bound pass and one past it is refused both ways;
     * status 0, a NUL in a text and a short cap are refused. */
    (void)state;
    uint8_t buf[PROTO_ERROR_BYTES_MAX + 1];
    char text[PROTO_MESSAGE_LEN_MAX + 2];
    size_t len = 0;
    struct proto_error e;
    memset(text, 'm', PROTO_MESSAGE_LEN_MAX);
    text[PROTO_MESSAGE_LEN_MAX] = '\0';
    assert_int_equal(codec_reply_error_encode(USHER_BAD_REQUEST, text, 0, buf, sizeof(buf), &len),
                     0);
    assert_int_equal(len, PROTO_ERROR_BYTES_MAX);
    assert_int_equal(codec_reply_error_decode(USHER_BAD_REQUEST, buf, len, &e), 0);
    assert_int_equal(strlen(e.text), PROTO_MESSAGE_LEN_MAX);
    assert_int_equal(codec_reply_error_encode(USHER_BAD_REQUEST, text, 0, buf, len - 1, &len),
                     USHER_LIMIT_MSG_SIZE);
    text[PROTO_MESSAGE_LEN_MAX] = 'm';
    text[PROTO_MESSAGE_LEN_MAX + 1] = '\0';
    assert_int_equal(codec_reply_error_encode(USHER_BAD_REQUEST, text, 0, buf, sizeof(buf), &len),
                     USHER_INVALID);
    text[PROTO_ADDR_LEN_MAX] = '\0';
    assert_int_equal(codec_reply_error_encode(USHER_NOT_LEADER, text, 0, buf, sizeof(buf), &len),
                     0);
    assert_int_equal(codec_reply_error_decode(USHER_NOT_LEADER, buf, len, &e), 0);
    text[PROTO_ADDR_LEN_MAX] = 'm';
    text[PROTO_ADDR_LEN_MAX + 1] = '\0';
    assert_int_equal(codec_reply_error_encode(USHER_NOT_LEADER, text, 0, buf, sizeof(buf), &len),
                     USHER_INVALID);
    assert_int_equal(codec_reply_error_encode(USHER_BAD_REQUEST, text, 0, buf, sizeof(buf), &len),
                     0);
    expect_refused(dec_error_not_leader, buf, len, sizeof(e)); /* 64 bytes: too long */
    buf[5] = 0;
    expect_refused(dec_error_message, buf, len, sizeof(e));
    assert_int_equal(codec_reply_error_encode(USHER_OK, "", 0, buf, sizeof(buf), &len),
                     USHER_INVALID);
    assert_int_equal(codec_reply_error_encode(-1, "", 0, buf, sizeof(buf), &len), USHER_INVALID);
    assert_int_equal(codec_reply_error_encode(0x10000, "", 0, buf, sizeof(buf), &len),
                     USHER_INVALID);
    buf[0] = 0;
    memset(&e, SENTINEL, sizeof(e));
    struct proto_error before = e;
    assert_int_equal(codec_reply_error_decode(0, buf, 1, &e), USHER_BAD_REQUEST);
    assert_memory_equal(&e, &before, sizeof(e));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_frame_request_round_trip),
        cmocka_unit_test(test_frame_reply_round_trip_every_op),
        cmocka_unit_test(test_frame_header_bytes_are_as_documented),
        cmocka_unit_test(test_frame_length_bounds),
        cmocka_unit_test(test_frame_decode_checks_length_field),
        cmocka_unit_test(test_frame_truncated_at_every_byte),
        cmocka_unit_test(test_frame_bad_version),
        cmocka_unit_test(test_frame_op_out_of_range),
        cmocka_unit_test(test_frame_stream_error_reply_needs_id_zero_and_status),
        cmocka_unit_test(test_frame_flags_reserved_and_request_status),
        cmocka_unit_test(test_frame_header_encode_refuses_invalid),
        cmocka_unit_test(test_frame_largest_frame_round_trip),
        cmocka_unit_test(test_read_request_round_trip_every_read_op),
        cmocka_unit_test(test_read_request_rejections),
        cmocka_unit_test(test_list_request_round_trip_and_zero_max),
        cmocka_unit_test(test_availability_round_trip),
        cmocka_unit_test(test_availability_empty_and_largest),
        cmocka_unit_test(test_availability_truncated_or_trailing_rejected),
        cmocka_unit_test(test_availability_counts_and_bitmap_rules),
        cmocka_unit_test(test_hold_round_trip_seated_and_ga),
        cmocka_unit_test(test_hold_booked_and_largest),
        cmocka_unit_test(test_hold_field_rules),
        cmocka_unit_test(test_booking_round_trip),
        cmocka_unit_test(test_booking_payment_ref_rules),
        cmocka_unit_test(test_booking_field_rules),
        cmocka_unit_test(test_customer_round_trip_and_limit),
        cmocka_unit_test(test_history_round_trip_and_limit),
        cmocka_unit_test(test_status_round_trip_and_largest),
        cmocka_unit_test(test_status_rules),
        cmocka_unit_test(test_event_list_round_trip_and_rules),
        cmocka_unit_test(test_error_payloads_round_trip),
        cmocka_unit_test(test_error_payload_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
