/*
 * Unit tests of the binary formats (src/codec_*.c): round trips of every
 * command type, batches, results and event descriptions, and every rejection
 * a decoder documents in docs/CODEC.md, at each limit and one past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "buf.h"
#include "cmd.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "limits.h"
#include "mem.h"

/* The message limits as sizes (they are compared with size_t lengths). */
#define CMD_BYTES_MAX   ((size_t)USHER_CMD_BYTES_MAX)
#define BATCH_BYTES_MAX ((size_t)USHER_BATCH_BYTES_MAX)

/* Offsets in the command header (docs/CODEC.md). */
#define OFF_VERSION  0
#define OFF_TYPE     1
#define OFF_FLAGS    2
#define OFF_CLIENT   4
#define OFF_IDEM     12
#define OFF_EVENT    20
#define OFF_CUSTOMER 28

/* ---- Helpers ---- */

static void set_label(char *dst, const char *src)
{
    size_t len = strlen(src);
    assert_true(len <= USHER_LABEL_LEN_MAX);
    memcpy(dst, src, len + 1);
}

/* Laid out, defaults not applied (the codec carries the fields as given). */
static struct event *sample_event(uint64_t id)
{
    struct event *e = event_create(3, 3);
    assert_non_null(e);
    e->id = id;
    set_label(e->name, "concert");
    e->sale_start_ms = 1000;
    e->sale_end_ms = 0x0102030405060708ull;
    e->hold_ttl_min_ms = 2000;
    e->hold_ttl_max_ms = 300000;
    e->hold_lifetime_max_ms = 900000;
    e->hold_seats_max = 8;
    e->customer_seats_max = 12;
    set_label(e->sections[0].label, "FLOOR");
    e->sections[0].kind = EVENT_SECTION_GA;
    e->sections[0].ga_capacity = 500;
    set_label(e->sections[1].label, "A");
    e->sections[1].kind = EVENT_SECTION_SEATED;
    e->sections[1].row_count = 2;
    set_label(e->sections[2].label, "BALCONY-LEFT");
    e->sections[2].kind = EVENT_SECTION_SEATED;
    e->sections[2].row_count = 1;
    set_label(e->rows[0].label, "1");
    e->rows[0].seat_count = 10;
    e->rows[0].number_first = 1;
    set_label(e->rows[1].label, "2");
    e->rows[1].seat_count = 12;
    e->rows[1].number_first = 101;
    set_label(e->rows[2].label, "AA");
    e->rows[2].seat_count = 5;
    e->rows[2].number_first = 7;
    assert_int_equal(event_layout(e), 0);
    return e;
}

/* The largest event the format allows: every section, every row, every
 * label and the name at their longest. */
static struct event *largest_event(void)
{
    struct event *e = event_create(USHER_EVENT_SECTIONS_MAX, USHER_EVENT_ROWS_MAX);
    assert_non_null(e);
    e->id = 42;
    memset(e->name, 'n', USHER_NAME_LEN_MAX);
    uint32_t rows_per_section = USHER_EVENT_ROWS_MAX / USHER_EVENT_SECTIONS_MAX;
    for (uint32_t s = 0; s < USHER_EVENT_SECTIONS_MAX; s++) {
        struct event_section *sec = &e->sections[s];
        assert_true(snprintf(sec->label, sizeof(sec->label), "section-%07u", s) == 15);
        sec->kind = EVENT_SECTION_SEATED;
        sec->row_count = rows_per_section;
    }
    for (uint32_t i = 0; i < USHER_EVENT_ROWS_MAX; i++) {
        struct event_row *row = &e->rows[i];
        assert_true(snprintf(row->label, sizeof(row->label), "row-%011u", i) == 15);
        row->seat_count = 32;
        row->number_first = 1;
    }
    assert_int_equal(event_layout(e), 0);
    return e;
}

/* A valid command of each type, keyed with distinct non-zero values. For
 * CMD_EVENT_CREATE it allocates the event: free with codec_cmd_release(). */
static struct cmd sample_cmd(uint8_t type)
{
    struct cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    if (type != CMD_SWEEP) {
        c.client_id = 0x1111111111111111ull;
        c.idem_key = 0x2222222222222222ull;
        c.event_id = 0x3333333333333333ull;
        c.customer_id = type == CMD_EVENT_CREATE ? 0 : 0x4444444444444444ull;
    }
    switch ((enum cmd_type)type) {
    case CMD_EVENT_CREATE:
        c.u.create.event = sample_event(c.event_id);
        break;
    case CMD_HOLD_SEATS:
        c.u.hold_seats.ttl_ms = 120000;
        c.u.hold_seats.seat_count = 3;
        c.u.hold_seats.seats[0] = 5;
        c.u.hold_seats.seats[1] = 0xfffffffeu;
        c.u.hold_seats.seats[2] = 6;
        break;
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        c.u.hold_count.ttl_ms = 0;
        c.u.hold_count.section = 2;
        c.u.hold_count.count = 4;
        break;
    case CMD_HOLD_EXTEND:
        c.u.extend.hold_id = 0x5555;
        c.u.extend.ttl_ms = 60000;
        break;
    case CMD_HOLD_RELEASE:
        c.u.release.hold_id = 0x6666;
        break;
    case CMD_HOLD_BOOK:
        c.u.book.hold_id = 0x7777;
        set_label(c.u.book.payment_ref, "pay-123");
        break;
    case CMD_BOOKING_CANCEL:
        c.u.cancel.booking_id = 0x8888;
        break;
    case CMD_SWEEP:
        c.u.sweep.max = 100;
        break;
    }
    return c;
}

static bool body_equal(const struct cmd *a, const struct cmd *b)
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

/* Compares everything but the digest (the source may not have one). */
static bool cmd_equal(const struct cmd *a, const struct cmd *b)
{
    return a->type == b->type && a->client_id == b->client_id && a->idem_key == b->idem_key &&
           a->event_id == b->event_id && a->customer_id == b->customer_id && body_equal(a, b);
}

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

/* Encodes c into buf (room for CMD_BYTES_MAX) and returns the length. */
static size_t encode(const struct cmd *c, uint8_t *buf)
{
    size_t len = 0;
    assert_int_equal(codec_cmd_encode(c, buf, CMD_BYTES_MAX, &len), 0);
    return len;
}

static int decode_and_release(const uint8_t *buf, size_t len)
{
    struct cmd c;
    int rc = codec_cmd_decode(buf, len, &c);
    if (rc == 0) {
        codec_cmd_release(&c);
    }
    return rc;
}

/* Checks that every proper prefix of buf fails to decode with BAD_REQUEST. */
static void assert_prefixes_rejected(const uint8_t *buf, size_t len)
{
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(decode_and_release(buf, n), USHER_BAD_REQUEST);
    }
}

/* ---- Commands ---- */

/* Goal: every command type decodes to what was encoded, with the xxh64 digest
 * of its bytes, and re-encodes to the same bytes (one encoding per command). */
static void test_cmd_round_trip_every_type(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    uint8_t *again = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    assert_non_null(again);
    for (uint8_t type = CMD_EVENT_CREATE; type <= CMD_TYPE_MAX; type++) {
        struct cmd c = sample_cmd(type);
        size_t len = encode(&c, buf);
        assert_int_equal(buf[OFF_VERSION], CODEC_VERSION);
        assert_int_equal(buf[OFF_TYPE], type);
        struct cmd d;
        assert_int_equal(codec_cmd_decode(buf, len, &d), 0);
        assert_true(cmd_equal(&c, &d));
        assert_true(d.digest == XXH64(buf, len, 0));
        assert_int_equal(encode(&d, again), len);
        assert_memory_equal(buf, again, len);
        codec_cmd_release(&d);
        codec_cmd_release(&d); /* safe twice */
        codec_cmd_release(&c);
    }
    free(again);
    free(buf);
}

/* Goal: the body sizes are those of docs/CODEC.md. */
static void test_cmd_encoded_sizes(void **state)
{
    (void)state;
    static const size_t body[CMD_TYPE_MAX + 1] = {
        [CMD_HOLD_SEATS] = 8 + 3 * 4, [CMD_HOLD_BEST] = 8,    [CMD_HOLD_GA] = 8,
        [CMD_HOLD_EXTEND] = 12,       [CMD_HOLD_RELEASE] = 8, [CMD_HOLD_BOOK] = 9 + 7,
        [CMD_BOOKING_CANCEL] = 8,     [CMD_SWEEP] = 4,
    };
    uint8_t buf[512];
    for (uint8_t type = CMD_HOLD_SEATS; type <= CMD_TYPE_MAX; type++) {
        struct cmd c = sample_cmd(type);
        size_t len = 0;
        assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, CODEC_CMD_HEADER_BYTES + body[type]);
    }
}

/* Goal: every truncation of every command type is refused, and so is one
 * byte too many. */
static void test_cmd_truncated_or_trailing_rejected(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    for (uint8_t type = CMD_EVENT_CREATE; type <= CMD_TYPE_MAX; type++) {
        struct cmd c = sample_cmd(type);
        size_t len = encode(&c, buf);
        assert_prefixes_rejected(buf, len);
        buf[len] = 0;
        assert_int_equal(decode_and_release(buf, len + 1), USHER_BAD_REQUEST);
        codec_cmd_release(&c);
    }
    free(buf);
}

/* Goal: a version other than 1 is BAD_VERSION, found from the first byte
 * alone; a failed decode leaves the output untouched. */
static void test_cmd_bad_version(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct cmd c = sample_cmd(CMD_HOLD_RELEASE);
    size_t len = encode(&c, buf);
    struct cmd out;
    memset(&out, 0xa5, sizeof(out));
    buf[OFF_VERSION] = 2;
    assert_int_equal(codec_cmd_decode(buf, len, &out), USHER_BAD_VERSION);
    assert_int_equal(codec_cmd_decode(buf, 1, &out), USHER_BAD_VERSION);
    buf[OFF_VERSION] = 0;
    assert_int_equal(codec_cmd_decode(buf, len, &out), USHER_BAD_VERSION);
    assert_int_equal(out.type, 0xa5);
}

/* Goal: unknown types (0 and CMD_TYPE_MAX + 1) and any non-zero flag bit are refused. */
static void test_cmd_bad_type_and_flags(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct cmd c = sample_cmd(CMD_HOLD_RELEASE);
    size_t len = encode(&c, buf);
    buf[OFF_TYPE] = 0;
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    buf[OFF_TYPE] = CMD_TYPE_MAX + 1;
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    buf[OFF_TYPE] = CMD_HOLD_RELEASE;
    assert_int_equal(decode_and_release(buf, len), 0);
    for (int bit = 0; bit < 16; bit++) {
        put_u16(buf + OFF_FLAGS, (uint16_t)(1u << bit));
        assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    }
}

/* Goal: a keyed command needs client id, idempotency key, event id and (but
 * for event create) customer id; each zero is refused by the decoder and by
 * the encoder. */
static void test_cmd_keyed_fields_required(void **state)
{
    (void)state;
    static const size_t offsets[] = { OFF_CLIENT, OFF_IDEM, OFF_EVENT, OFF_CUSTOMER };
    uint8_t buf[128];
    for (uint32_t type = CMD_HOLD_SEATS; type < CMD_SWEEP; type++) {
        struct cmd c = sample_cmd((uint8_t)type);
        size_t len = encode(&c, buf);
        for (size_t i = 0; i < 4; i++) {
            uint8_t copy[128];
            memcpy(copy, buf, len);
            put_u64(copy + offsets[i], 0);
            assert_int_equal(decode_and_release(copy, len), USHER_BAD_REQUEST);
        }
        size_t out = 0;
        c.idem_key = 0;
        assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
        c.idem_key = 1;
        c.customer_id = 0;
        assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
    }
}

/* Goal: event create carries no customer, and its header event id must be the
 * description's id. */
static void test_cmd_create_header_rules(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    struct cmd c = sample_cmd(CMD_EVENT_CREATE);
    size_t len = encode(&c, buf);
    put_u64(buf + OFF_CUSTOMER, 9);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    put_u64(buf + OFF_CUSTOMER, 0);
    put_u64(buf + OFF_EVENT, c.event_id + 1);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    put_u64(buf + OFF_EVENT, 0);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    size_t out = 0;
    c.event_id++;
    assert_int_equal(codec_cmd_encode(&c, buf, CMD_BYTES_MAX, &out), USHER_INVALID);
    c.event_id--;
    c.customer_id = 1;
    assert_int_equal(codec_cmd_encode(&c, buf, CMD_BYTES_MAX, &out), USHER_INVALID);
    c.customer_id = 0;
    struct event *e = c.u.create.event;
    c.u.create.event = NULL;
    assert_int_equal(codec_cmd_encode(&c, buf, CMD_BYTES_MAX, &out), USHER_INVALID);
    c.u.create.event = e;
    codec_cmd_release(&c);
    free(buf);
}

/* Goal: a sweep carries no keys, and its max is 1 .. USHER_SWEEP_MAX. */
static void test_cmd_sweep_rules(void **state)
{
    (void)state;
    static const size_t offsets[] = { OFF_CLIENT, OFF_IDEM, OFF_EVENT, OFF_CUSTOMER };
    uint8_t buf[64];
    struct cmd c = sample_cmd(CMD_SWEEP);
    size_t len = encode(&c, buf);
    assert_int_equal(len, CODEC_CMD_HEADER_BYTES + 4);
    for (size_t i = 0; i < 4; i++) {
        put_u64(buf + offsets[i], 1);
        assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
        put_u64(buf + offsets[i], 0);
    }
    put_u32(buf + CODEC_CMD_HEADER_BYTES, USHER_SWEEP_MAX);
    assert_int_equal(decode_and_release(buf, len), 0);
    put_u32(buf + CODEC_CMD_HEADER_BYTES, USHER_SWEEP_MAX + 1);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    put_u32(buf + CODEC_CMD_HEADER_BYTES, 0);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    size_t out = 0;
    c.u.sweep.max = 0;
    assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
    c.u.sweep.max = 1;
    c.client_id = 1;
    assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
}

/* Goal: named-seat holds take 1 .. USHER_HOLD_SEATS_MAX seats; 0 is
 * BAD_REQUEST, one over is LIMIT_HOLD_SEATS; reserved must be 0; the seat
 * list must be complete. */
static void test_cmd_hold_seats_count_limits(void **state)
{
    (void)state;
    uint8_t buf[512];
    struct cmd c = sample_cmd(CMD_HOLD_SEATS);
    c.u.hold_seats.seat_count = USHER_HOLD_SEATS_MAX;
    for (uint32_t i = 0; i < USHER_HOLD_SEATS_MAX; i++) {
        c.u.hold_seats.seats[i] = i * 3;
    }
    size_t len = encode(&c, buf);
    struct cmd d;
    assert_int_equal(codec_cmd_decode(buf, len, &d), 0);
    assert_true(cmd_equal(&c, &d));
    /* One seat more, with its bytes present. */
    put_u16(buf + CODEC_CMD_HEADER_BYTES + 4, USHER_HOLD_SEATS_MAX + 1);
    put_u32(buf + len, 1);
    assert_int_equal(decode_and_release(buf, len + 4), USHER_LIMIT_HOLD_SEATS);
    /* A count that says more seats than follow. */
    put_u16(buf + CODEC_CMD_HEADER_BYTES + 4, USHER_HOLD_SEATS_MAX);
    assert_int_equal(decode_and_release(buf, len - 4), USHER_BAD_REQUEST);
    put_u16(buf + CODEC_CMD_HEADER_BYTES + 6, 1);
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    put_u16(buf + CODEC_CMD_HEADER_BYTES + 6, 0);
    put_u16(buf + CODEC_CMD_HEADER_BYTES + 4, 0);
    assert_int_equal(decode_and_release(buf, CODEC_CMD_HEADER_BYTES + 8), USHER_BAD_REQUEST);
    size_t out = 0;
    c.u.hold_seats.seat_count = 0;
    assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
    c.u.hold_seats.seat_count = USHER_HOLD_SEATS_MAX + 1;
    assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
}

/* Goal: best-available and GA holds take 1 .. USHER_HOLD_SEATS_MAX. */
static void test_cmd_hold_count_limits(void **state)
{
    (void)state;
    uint8_t buf[64];
    for (uint32_t type = CMD_HOLD_BEST; type <= CMD_HOLD_GA; type++) {
        struct cmd c = sample_cmd((uint8_t)type);
        size_t len = encode(&c, buf);
        uint8_t *count = buf + CODEC_CMD_HEADER_BYTES + 6;
        put_u16(count, USHER_HOLD_SEATS_MAX);
        assert_int_equal(decode_and_release(buf, len), 0);
        put_u16(count, USHER_HOLD_SEATS_MAX + 1);
        assert_int_equal(decode_and_release(buf, len), USHER_LIMIT_HOLD_SEATS);
        put_u16(count, 0);
        assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
        size_t out = 0;
        c.u.hold_count.count = USHER_HOLD_SEATS_MAX + 1;
        assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
    }
}

/* Goal: hold and booking ids of 0 are refused. */
static void test_cmd_zero_hold_or_booking_id_rejected(void **state)
{
    (void)state;
    static const uint8_t types[] = { CMD_HOLD_EXTEND, CMD_HOLD_RELEASE, CMD_HOLD_BOOK,
                                     CMD_BOOKING_CANCEL };
    uint8_t buf[128];
    for (size_t i = 0; i < sizeof(types); i++) {
        struct cmd c = sample_cmd(types[i]);
        size_t len = encode(&c, buf);
        put_u64(buf + CODEC_CMD_HEADER_BYTES, 0);
        assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
        put_u64(buf + CODEC_CMD_HEADER_BYTES, 1);
        assert_int_equal(decode_and_release(buf, len), 0);
    }
}

/* Goal: a payment reference is up to USHER_PAYMENT_REF_LEN_MAX bytes without
 * NUL, decoded NUL-terminated; longer is LIMIT_PAYMENT_REF. */
static void test_cmd_payment_ref_rules(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct cmd c = sample_cmd(CMD_HOLD_BOOK);
    memset(c.u.book.payment_ref, 'r', USHER_PAYMENT_REF_LEN_MAX);
    size_t len = encode(&c, buf);
    assert_int_equal(len, CODEC_CMD_HEADER_BYTES + 9 + USHER_PAYMENT_REF_LEN_MAX);
    struct cmd d;
    assert_int_equal(codec_cmd_decode(buf, len, &d), 0);
    assert_int_equal(strlen(d.u.book.payment_ref), USHER_PAYMENT_REF_LEN_MAX);
    /* One byte more. */
    buf[CODEC_CMD_HEADER_BYTES + 8] = USHER_PAYMENT_REF_LEN_MAX + 1;
    buf[len] = 'r';
    assert_int_equal(decode_and_release(buf, len + 1), USHER_LIMIT_PAYMENT_REF);
    buf[CODEC_CMD_HEADER_BYTES + 8] = USHER_PAYMENT_REF_LEN_MAX;
    buf[CODEC_CMD_HEADER_BYTES + 20] = '\0';
    assert_int_equal(decode_and_release(buf, len), USHER_BAD_REQUEST);
    /* Empty is fine. */
    buf[CODEC_CMD_HEADER_BYTES + 8] = 0;
    assert_int_equal(codec_cmd_decode(buf, CODEC_CMD_HEADER_BYTES + 9, &d), 0);
    assert_string_equal(d.u.book.payment_ref, "");
    /* No terminator: not encodable. */
    memset(c.u.book.payment_ref, 'r', sizeof(c.u.book.payment_ref));
    size_t out = 0;
    assert_int_equal(codec_cmd_encode(&c, buf, sizeof(buf), &out), USHER_INVALID);
}

/* Goal: the encoder refuses an unknown type, and a buffer one byte short,
 * with the documented codes; an exact buffer is enough. */
static void test_cmd_encode_type_and_capacity(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    size_t out = 0;
    struct cmd c = sample_cmd(CMD_HOLD_RELEASE);
    c.type = 0;
    assert_int_equal(codec_cmd_encode(&c, buf, 64, &out), USHER_INVALID);
    c.type = CMD_TYPE_MAX + 1;
    assert_int_equal(codec_cmd_encode(&c, buf, 64, &out), USHER_INVALID);
    for (uint8_t type = CMD_EVENT_CREATE; type <= CMD_TYPE_MAX; type++) {
        c = sample_cmd(type);
        size_t len = encode(&c, buf);
        assert_int_equal(codec_cmd_encode(&c, buf, len - 1, &out), USHER_LIMIT_MSG_SIZE);
        assert_int_equal(codec_cmd_encode(&c, buf, CODEC_CMD_HEADER_BYTES - 1, &out),
                         USHER_LIMIT_MSG_SIZE);
        assert_int_equal(codec_cmd_encode(&c, buf, len, &out), 0);
        assert_int_equal(out, len);
        codec_cmd_release(&c);
    }
    free(buf);
}

/* Goal: input over CMD_BYTES_MAX is LIMIT_MSG_SIZE before anything is read. */
static void test_cmd_oversized_input_rejected(void **state)
{
    (void)state;
    uint8_t *buf = calloc(1, CMD_BYTES_MAX + 1);
    assert_non_null(buf);
    assert_int_equal(decode_and_release(buf, CMD_BYTES_MAX + 1), USHER_LIMIT_MSG_SIZE);
    assert_int_equal(decode_and_release(buf, CMD_BYTES_MAX), USHER_BAD_VERSION);
    free(buf);
}

/* Goal: the largest event fits an event-create command, and round-trips. */
static void test_cmd_create_largest_event(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    struct cmd c = sample_cmd(CMD_EVENT_CREATE);
    event_destroy(c.u.create.event);
    c.u.create.event = largest_event();
    c.event_id = c.u.create.event->id;
    size_t len = encode(&c, buf);
    assert_true(len <= CMD_BYTES_MAX);
    struct cmd d;
    assert_int_equal(codec_cmd_decode(buf, len, &d), 0);
    assert_true(cmd_equal(&c, &d));
    assert_int_equal(d.u.create.event->seat_count, USHER_EVENT_ROWS_MAX * 32);
    codec_cmd_release(&d);
    codec_cmd_release(&c);
    free(buf);
}

/* Goal: an allocation failure while decoding an event create is NOMEM and
 * leaves nothing allocated. */
static void test_cmd_create_out_of_memory(void **state)
{
    (void)state;
    uint8_t *buf = malloc(CMD_BYTES_MAX);
    assert_non_null(buf);
    struct cmd c = sample_cmd(CMD_EVENT_CREATE);
    size_t len = encode(&c, buf);
    mem_fault_after(0);
    assert_int_equal(decode_and_release(buf, len), USHER_NOMEM);
    mem_fault_reset();
    assert_int_equal(decode_and_release(buf, len), 0);
    codec_cmd_release(&c);
    free(buf);
}

/* ---- Event descriptions ---- */

/* Writers of raw description bytes, for inputs the encoder refuses. */
static void raw_text(struct buf_writer *w, const char *text, size_t len)
{
    buf_write_u8(w, (uint8_t)len);
    buf_write_bytes(w, text, len);
}

static void raw_head(struct buf_writer *w, const char *name, size_t name_len,
                     uint16_t section_count)
{
    buf_write_u64(w, 1);
    raw_text(w, name, name_len);
    buf_write_u64(w, 0);
    buf_write_u64(w, 0);
    buf_write_u32(w, 0);
    buf_write_u32(w, 0);
    buf_write_u32(w, 0);
    buf_write_u16(w, 0);
    buf_write_u16(w, 0);
    buf_write_u16(w, section_count);
}

static void raw_ga(struct buf_writer *w, const char *label, size_t label_len, uint32_t cap)
{
    raw_text(w, label, label_len);
    buf_write_u8(w, EVENT_SECTION_GA);
    buf_write_u32(w, cap);
}

/* A seated section of row_count rows of `seats` seats, labelled by number. */
static void raw_seated(struct buf_writer *w, const char *label, uint16_t row_count, uint16_t seats)
{
    raw_text(w, label, strlen(label));
    buf_write_u8(w, EVENT_SECTION_SEATED);
    buf_write_u16(w, row_count);
    for (uint32_t j = 0; j < row_count; j++) {
        char row[16];
        int n = snprintf(row, sizeof(row), "%u", j);
        assert_true(n > 0);
        raw_text(w, row, (size_t)n);
        buf_write_u16(w, seats);
        buf_write_u16(w, 1);
    }
}

static int decode_event(const uint8_t *buf, size_t len)
{
    struct event *e = NULL;
    int rc = codec_event_decode(buf, len, &e);
    if (rc == 0) {
        assert_non_null(e);
        event_destroy(e);
    }
    return rc;
}

/* Goal: a description round-trips to an equal event with its layout
 * computed, and defaults are not applied by the codec. */
static void test_event_round_trip(void **state)
{
    (void)state;
    uint8_t buf[1024];
    struct event *e = sample_event(77);
    e->hold_seats_max = 0;
    size_t len = 0;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), 0);
    struct event *d = NULL;
    assert_int_equal(codec_event_decode(buf, len, &d), 0);
    assert_true(event_equal(e, d));
    assert_int_equal(d->hold_seats_max, 0);
    assert_int_equal(d->seat_count, 27);
    assert_int_equal(d->rows[2].seat_first, 22);
    assert_int_equal(codec_event_encode(e, buf, len - 1, &len), USHER_LIMIT_MSG_SIZE);
    event_destroy(d);
    event_destroy(e);
}

/* Goal: every truncation of a description is refused, and so is a trailing byte. */
static void test_event_truncated_or_trailing_rejected(void **state)
{
    (void)state;
    uint8_t buf[1024];
    struct event *e = sample_event(77);
    size_t len = 0;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), 0);
    for (size_t n = 0; n < len; n++) {
        assert_int_equal(decode_event(buf, n), USHER_BAD_REQUEST);
    }
    buf[len] = 0;
    assert_int_equal(decode_event(buf, len + 1), USHER_BAD_REQUEST);
    event_destroy(e);
}

/* Goal: the name is at most USHER_NAME_LEN_MAX bytes and a label at most
 * USHER_LABEL_LEN_MAX (section and row); one more is LIMIT_LABEL_LEN. */
static void test_event_text_length_limits(void **state)
{
    (void)state;
    char text[128];
    memset(text, 'x', sizeof(text));
    uint8_t buf[512];
    struct buf_writer w;
    for (size_t extra = 0; extra <= 1; extra++) {
        int want = extra == 0 ? 0 : USHER_LIMIT_LABEL_LEN;
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, text, USHER_NAME_LEN_MAX + extra, 1);
        raw_ga(&w, "G", 1, 1);
        assert_int_equal(decode_event(buf, w.pos), want);
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, "", 0, 1);
        raw_ga(&w, text, USHER_LABEL_LEN_MAX + extra, 1);
        assert_int_equal(decode_event(buf, w.pos), want);
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, "", 0, 1);
        raw_text(&w, "S", 1);
        buf_write_u8(&w, EVENT_SECTION_SEATED);
        buf_write_u16(&w, 1);
        raw_text(&w, text, USHER_LABEL_LEN_MAX + extra);
        buf_write_u16(&w, 1);
        buf_write_u16(&w, 1);
        assert_true(w.ok);
        assert_int_equal(decode_event(buf, w.pos), want);
    }
}

/* Goal: a NUL byte inside the name or a label is BAD_REQUEST. */
static void test_event_nul_in_text_rejected(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct buf_writer w;
    buf_writer_init(&w, buf, sizeof(buf));
    raw_head(&w, "ab\0c", 4, 1);
    raw_ga(&w, "G", 1, 1);
    assert_int_equal(decode_event(buf, w.pos), USHER_BAD_REQUEST);
    buf_writer_init(&w, buf, sizeof(buf));
    raw_head(&w, "abc", 3, 1);
    raw_ga(&w, "G\0", 2, 1);
    assert_int_equal(decode_event(buf, w.pos), USHER_BAD_REQUEST);
    buf_writer_init(&w, buf, sizeof(buf));
    raw_head(&w, "abc", 3, 1);
    raw_text(&w, "S", 1);
    buf_write_u8(&w, EVENT_SECTION_SEATED);
    buf_write_u16(&w, 1);
    raw_text(&w, "\0", 1);
    buf_write_u16(&w, 1);
    buf_write_u16(&w, 1);
    assert_int_equal(decode_event(buf, w.pos), USHER_BAD_REQUEST);
}

/* Goal: kinds other than SEATED and GA are BAD_REQUEST. */
static void test_event_unknown_kind_rejected(void **state)
{
    (void)state;
    static const uint8_t kinds[] = { 0, 3, 255 };
    uint8_t buf[256];
    for (size_t i = 0; i < sizeof(kinds); i++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, "", 0, 1);
        raw_text(&w, "K", 1);
        buf_write_u8(&w, kinds[i]);
        buf_write_u32(&w, 1);
        assert_int_equal(decode_event(buf, w.pos), USHER_BAD_REQUEST);
    }
}

/* Goal: USHER_EVENT_SECTIONS_MAX sections decode; one more is LIMIT_EVENT_SECTIONS. */
static void test_event_section_count_limit(void **state)
{
    (void)state;
    size_t cap = (size_t)64 * 1024;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    for (uint32_t extra = 0; extra <= 1; extra++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, cap);
        uint32_t n = USHER_EVENT_SECTIONS_MAX + extra;
        raw_head(&w, "", 0, (uint16_t)n);
        for (uint32_t s = 0; s < n; s++) {
            raw_ga(&w, "G", 1, 1);
        }
        assert_true(w.ok);
        assert_int_equal(decode_event(buf, w.pos), extra == 0 ? 0 : USHER_LIMIT_EVENT_SECTIONS);
    }
    free(buf);
}

/* Goal: USHER_EVENT_ROWS_MAX rows over two sections decode; one more row is
 * LIMIT_EVENT_ROWS, found from the row count before the rows are read. */
static void test_event_row_count_limit(void **state)
{
    (void)state;
    size_t cap = (size_t)256 * 1024;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    uint16_t half = USHER_EVENT_ROWS_MAX / 2;
    for (uint16_t extra = 0; extra <= 1; extra++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, cap);
        raw_head(&w, "", 0, 2);
        raw_seated(&w, "A", half, 1);
        raw_seated(&w, "B", (uint16_t)(half + extra), 1);
        assert_true(w.ok);
        assert_int_equal(decode_event(buf, w.pos), extra == 0 ? 0 : USHER_LIMIT_EVENT_ROWS);
    }
    /* The count alone, without its rows, is enough to refuse. */
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    raw_head(&w, "", 0, 1);
    raw_seated(&w, "A", 0, 1);
    put_u16(buf + w.pos - 2, USHER_EVENT_ROWS_MAX + 1);
    assert_int_equal(decode_event(buf, w.pos), USHER_LIMIT_EVENT_ROWS);
    free(buf);
}

/* Goal: a row of USHER_ROW_SEATS_MAX seats decodes; one more is LIMIT_ROW_SEATS. */
static void test_event_row_seats_limit(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (uint16_t extra = 0; extra <= 1; extra++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, "", 0, 1);
        raw_seated(&w, "A", 1, (uint16_t)(USHER_ROW_SEATS_MAX + extra));
        assert_int_equal(decode_event(buf, w.pos), extra == 0 ? 0 : USHER_LIMIT_ROW_SEATS);
    }
}

/* Goal: USHER_EVENT_SEATS_MAX seats decode; one more is LIMIT_EVENT_SEATS. */
static void test_event_total_seats_limit(void **state)
{
    (void)state;
    size_t cap = (size_t)64 * 1024;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    uint16_t rows = USHER_EVENT_SEATS_MAX / USHER_ROW_SEATS_MAX;
    for (uint16_t extra = 0; extra <= 1; extra++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, cap);
        raw_head(&w, "", 0, 2);
        raw_seated(&w, "A", rows, USHER_ROW_SEATS_MAX);
        raw_seated(&w, "B", extra, 1);
        assert_true(w.ok);
        assert_int_equal(decode_event(buf, w.pos), extra == 0 ? 0 : USHER_LIMIT_EVENT_SEATS);
    }
    free(buf);
}

/* Goal: GA capacity up to USHER_GA_CAPACITY_MAX decodes; one more is LIMIT_GA_CAPACITY. */
static void test_event_ga_capacity_limit(void **state)
{
    (void)state;
    uint8_t buf[256];
    for (uint32_t extra = 0; extra <= 1; extra++) {
        struct buf_writer w;
        buf_writer_init(&w, buf, sizeof(buf));
        raw_head(&w, "", 0, 1);
        raw_ga(&w, "G", 1, USHER_GA_CAPACITY_MAX + extra);
        assert_int_equal(decode_event(buf, w.pos), extra == 0 ? 0 : USHER_LIMIT_GA_CAPACITY);
    }
}

/* Goal: the decoder checks structure only: an event that breaks the rules of
 * event_validate() (empty labels, duplicates, no sections) still decodes. */
static void test_event_decoder_leaves_rules_to_validate(void **state)
{
    (void)state;
    uint8_t buf[256];
    struct buf_writer w;
    buf_writer_init(&w, buf, sizeof(buf));
    raw_head(&w, "", 0, 3);
    raw_ga(&w, "", 0, 0);
    raw_ga(&w, "X", 1, 1);
    raw_ga(&w, "X", 1, 1);
    struct event *e = NULL;
    assert_int_equal(codec_event_decode(buf, w.pos, &e), 0);
    assert_int_equal(e->id, 1);
    assert_int_equal(e->section_count, 3);
    event_apply_defaults(e);
    assert_int_equal(event_validate(e), USHER_INVALID);
    event_destroy(e);
    buf_writer_init(&w, buf, sizeof(buf));
    raw_head(&w, "", 0, 0);
    assert_int_equal(decode_event(buf, w.pos), 0);
}

/* Goal: the encoder refuses descriptions no decoder would accept. */
static void test_event_encode_rejects_unencodable(void **state)
{
    (void)state;
    uint8_t buf[1024];
    size_t len = 0;
    struct event *e = sample_event(5);
    e->sections[2].row_count = 2;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->sections[2].row_count = 0;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->sections[2].row_count = 1;
    e->sections[0].kind = 7;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->sections[0].kind = EVENT_SECTION_GA;
    e->sections[0].ga_capacity = USHER_GA_CAPACITY_MAX + 1;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->sections[0].ga_capacity = 1;
    memset(e->rows[1].label, 'x', sizeof(e->rows[1].label));
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    set_label(e->rows[1].label, "2");
    e->rows[1].seat_count = USHER_ROW_SEATS_MAX + 1;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->rows[1].seat_count = 1;
    e->sections[1].ga_capacity = 3;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), USHER_INVALID);
    e->sections[1].ga_capacity = 0;
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), 0);
    event_destroy(e);
}

/* Goal: NOMEM from event_create() during decode is returned and nothing leaks. */
static void test_event_decode_out_of_memory(void **state)
{
    (void)state;
    uint8_t buf[1024];
    size_t len = 0;
    struct event *e = sample_event(5);
    assert_int_equal(codec_event_encode(e, buf, sizeof(buf), &len), 0);
    struct event *d = NULL;
    mem_fault_after(0);
    assert_int_equal(codec_event_decode(buf, len, &d), USHER_NOMEM);
    mem_fault_reset();
    assert_null(d);
    event_destroy(e);
}

/* ---- Batches ---- */

static struct cmd *all_types(uint32_t *n)
{
    struct cmd *cmds = calloc(CMD_TYPE_MAX, sizeof(struct cmd));
    assert_non_null(cmds);
    for (uint8_t type = CMD_EVENT_CREATE; type <= CMD_TYPE_MAX; type++) {
        cmds[type - 1] = sample_cmd(type);
    }
    *n = CMD_TYPE_MAX;
    return cmds;
}

static void release_cmds(struct cmd *cmds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        codec_cmd_release(&cmds[i]);
    }
}

/* Goal: a batch of every command type round-trips with its stamp, and the
 * header-plus-append path writes the same bytes as codec_batch_encode(). */
static void test_batch_round_trip(void **state)
{
    (void)state;
    uint32_t n = 0;
    struct cmd *cmds = all_types(&n);
    size_t cap = 8192;
    uint8_t *buf = malloc(cap);
    uint8_t *manual = malloc(cap);
    uint8_t cmd_buf[2048];
    assert_non_null(buf);
    assert_non_null(manual);
    size_t len = 0;
    assert_int_equal(codec_batch_encode(0x1122334455667788ull, cmds, n, buf, cap, &len), 0);
    codec_batch_header_encode(manual, (uint16_t)n, 0x1122334455667788ull);
    size_t used = CODEC_BATCH_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        size_t cmd_len = 0;
        assert_int_equal(codec_cmd_encode(&cmds[i], cmd_buf, sizeof(cmd_buf), &cmd_len), 0);
        assert_int_equal(codec_batch_append(manual, cap, &used, cmd_buf, cmd_len), 0);
    }
    assert_int_equal(used, len);
    assert_memory_equal(buf, manual, len);
    struct cmd out[CMD_TYPE_MAX];
    uint64_t ts = 0;
    uint32_t got = 0;
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, CMD_TYPE_MAX, &got), 0);
    assert_true(ts == 0x1122334455667788ull);
    assert_int_equal(got, n);
    for (uint32_t i = 0; i < n; i++) {
        assert_true(cmd_equal(&cmds[i], &out[i]));
    }
    release_cmds(out, got);
    release_cmds(cmds, n);
    free(cmds);
    free(manual);
    free(buf);
}

/* Goal: an empty batch is valid (it only advances time). */
static void test_batch_empty(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BATCH_HEADER_BYTES];
    size_t len = 0;
    assert_int_equal(codec_batch_encode(5, NULL, 0, buf, sizeof(buf), &len), 0);
    assert_int_equal(len, CODEC_BATCH_HEADER_BYTES);
    uint64_t ts = 0;
    uint32_t n = 99;
    assert_int_equal(codec_batch_decode(buf, len, &ts, NULL, 0, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(ts, 5);
}

/* Goal: every truncation of a batch is refused and frees what it decoded
 * (ASan/valgrind check the frees), and a trailing byte is refused. */
static void test_batch_truncated_or_trailing_rejected(void **state)
{
    (void)state;
    uint32_t n = 0;
    struct cmd *cmds = all_types(&n);
    uint8_t buf[8192];
    size_t len = 0;
    assert_int_equal(codec_batch_encode(1, cmds, n, buf, sizeof(buf) - 1, &len), 0);
    struct cmd out[CMD_TYPE_MAX];
    uint64_t ts = 0;
    uint32_t got = 0;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(codec_batch_decode(buf, cut, &ts, out, CMD_TYPE_MAX, &got),
                         USHER_BAD_REQUEST);
    }
    buf[len] = 0;
    assert_int_equal(codec_batch_decode(buf, len + 1, &ts, out, CMD_TYPE_MAX, &got),
                     USHER_BAD_REQUEST);
    release_cmds(cmds, n);
    free(cmds);
}

/* Goal: a bad magic, version or reserved field is refused with its code. */
static void test_batch_bad_header(void **state)
{
    (void)state;
    uint8_t buf[CODEC_BATCH_HEADER_BYTES];
    codec_batch_header_encode(buf, 0, 7);
    uint64_t ts = 0;
    uint32_t n = 0;
    assert_int_equal(codec_batch_decode(buf, sizeof(buf), &ts, NULL, 0, &n), 0);
    buf[0] = 'C';
    assert_int_equal(codec_batch_decode(buf, sizeof(buf), &ts, NULL, 0, &n), USHER_BAD_REQUEST);
    buf[0] = CODEC_BATCH_MAGIC;
    buf[1] = 2;
    assert_int_equal(codec_batch_decode(buf, sizeof(buf), &ts, NULL, 0, &n), USHER_BAD_VERSION);
    buf[1] = CODEC_VERSION;
    for (size_t i = 4; i < 8; i++) {
        buf[i] = 1;
        assert_int_equal(codec_batch_decode(buf, sizeof(buf), &ts, NULL, 0, &n), USHER_BAD_REQUEST);
        buf[i] = 0;
    }
}

/* Goal: USHER_BATCH_CMDS_MAX commands decode; one more is LIMIT_BATCH, as is
 * a count over the caller's room; the encoder refuses one more too. */
static void test_batch_count_limit(void **state)
{
    (void)state;
    uint32_t max = USHER_BATCH_CMDS_MAX;
    struct cmd *cmds = calloc(max + 1, sizeof(struct cmd));
    assert_non_null(cmds);
    for (uint32_t i = 0; i <= max; i++) {
        cmds[i] = sample_cmd(CMD_HOLD_RELEASE);
        cmds[i].idem_key = i + 1;
    }
    size_t cap = BATCH_BYTES_MAX;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    size_t len = 0;
    assert_int_equal(codec_batch_encode(1, cmds, max + 1, buf, cap, &len), USHER_LIMIT_BATCH);
    assert_int_equal(codec_batch_encode(1, cmds, max, buf, cap, &len), 0);
    struct cmd *out = calloc(max, sizeof(struct cmd));
    assert_non_null(out);
    uint64_t ts = 0;
    uint32_t n = 0;
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, max, &n), 0);
    assert_int_equal(n, max);
    assert_int_equal(out[max - 1].idem_key, max);
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, max - 1, &n), USHER_LIMIT_BATCH);
    /* Append one more command and raise the count. */
    size_t one = len - CODEC_BATCH_HEADER_BYTES;
    one /= max;
    memcpy(buf + len, buf + CODEC_BATCH_HEADER_BYTES, one);
    put_u16(buf + 2, (uint16_t)(max + 1));
    assert_int_equal(codec_batch_decode(buf, len + one, &ts, out, max, &n), USHER_LIMIT_BATCH);
    free(out);
    free(buf);
    free(cmds);
}

/* Goal: a batch over BATCH_BYTES_MAX is refused by both sides. */
static void test_batch_bytes_limit(void **state)
{
    (void)state;
    struct event *big = largest_event();
    struct cmd cmds[8];
    for (uint32_t i = 0; i < 8; i++) {
        cmds[i] = sample_cmd(CMD_HOLD_RELEASE);
        cmds[i].type = CMD_EVENT_CREATE;
        cmds[i].customer_id = 0;
        cmds[i].event_id = big->id;
        cmds[i].u.create.event = big;
    }
    size_t cap = 2 * BATCH_BYTES_MAX;
    uint8_t *buf = calloc(1, cap);
    assert_non_null(buf);
    size_t len = 0;
    assert_int_equal(codec_batch_encode(1, cmds, 8, buf, cap, &len), USHER_LIMIT_MSG_SIZE);
    uint64_t ts = 0;
    uint32_t n = 0;
    assert_int_equal(codec_batch_decode(buf, BATCH_BYTES_MAX + 1, &ts, cmds, 8, &n),
                     USHER_LIMIT_MSG_SIZE);
    free(buf);
    event_destroy(big);
}

/* Goal: append refuses what does not fit the buffer or a command over its
 * limit, and leaves *used as it was. */
static void test_batch_append_limits(void **state)
{
    (void)state;
    uint8_t buf[64];
    uint8_t cmd_bytes[48] = { 0 };
    codec_batch_header_encode(buf, 1, 0);
    size_t used = CODEC_BATCH_HEADER_BYTES;
    assert_int_equal(codec_batch_append(buf, sizeof(buf), &used, cmd_bytes, 45),
                     USHER_LIMIT_MSG_SIZE);
    assert_int_equal(used, CODEC_BATCH_HEADER_BYTES);
    assert_int_equal(codec_batch_append(buf, sizeof(buf), &used, cmd_bytes, 44), 0);
    assert_int_equal(used, sizeof(buf));
    used = CODEC_BATCH_HEADER_BYTES;
    assert_int_equal(codec_batch_append(buf, sizeof(buf), &used, cmd_bytes, CMD_BYTES_MAX + 1),
                     USHER_LIMIT_MSG_SIZE);
}

/* Goal: the batch encoder passes on INVALID and LIMIT_MSG_SIZE. */
static void test_batch_encode_errors(void **state)
{
    (void)state;
    struct cmd cmds[2] = { sample_cmd(CMD_HOLD_RELEASE), sample_cmd(CMD_SWEEP) };
    uint8_t buf[256];
    size_t len = 0;
    assert_int_equal(codec_batch_encode(1, cmds, 2, buf, sizeof(buf), &len), 0);
    size_t full = len;
    for (size_t cap = 0; cap < full; cap++) {
        assert_int_equal(codec_batch_encode(1, cmds, 2, buf, cap, &len), USHER_LIMIT_MSG_SIZE);
    }
    cmds[1].u.sweep.max = 0;
    assert_int_equal(codec_batch_encode(1, cmds, 2, buf, sizeof(buf), &len), USHER_INVALID);
}

/* Goal: a bad command anywhere fails the whole batch with its own code and
 * frees the events decoded before it (ASan/valgrind check); a length past
 * the end is BAD_REQUEST; OOM on a later create is NOMEM. */
static void test_batch_bad_command_frees_earlier_ones(void **state)
{
    (void)state;
    struct cmd cmds[3] = { sample_cmd(CMD_EVENT_CREATE), sample_cmd(CMD_EVENT_CREATE),
                           sample_cmd(CMD_HOLD_RELEASE) };
    uint8_t buf[4096];
    size_t len = 0;
    assert_int_equal(codec_batch_encode(1, cmds, 3, buf, sizeof(buf), &len), 0);
    struct cmd out[3];
    uint64_t ts = 0;
    uint32_t n = 0;
    size_t last = len - (CODEC_CMD_HEADER_BYTES + 8);
    buf[last] = 2; /* version of the last command */
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, 3, &n), USHER_BAD_VERSION);
    buf[last] = CODEC_VERSION;
    put_u32(buf + last - 4, CODEC_CMD_HEADER_BYTES + 9);
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, 3, &n), USHER_BAD_REQUEST);
    put_u32(buf + last - 4, CODEC_CMD_HEADER_BYTES + 8);
    mem_fault_after(1);
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, 3, &n), USHER_NOMEM);
    mem_fault_reset();
    assert_int_equal(codec_batch_decode(buf, len, &ts, out, 3, &n), 0);
    release_cmds(out, n);
    release_cmds(cmds, 3);
}

/* ---- Results ---- */

static struct cmd_result sample_result(uint16_t seat_count)
{
    struct cmd_result r;
    memset(&r, 0, sizeof(r));
    r.status = USHER_SEAT_TAKEN;
    r.type = CMD_HOLD_SEATS;
    r.id = 0xabcdef0123456789ull;
    r.expires_at_ms = 0x0102030405060708ull;
    r.swept = 77;
    r.more = 1;
    r.seat_count = seat_count;
    for (uint32_t i = 0; i < seat_count; i++) {
        r.seats[i] = i * 7 + 1;
    }
    return r;
}

static bool result_equal(const struct cmd_result *a, const struct cmd_result *b)
{
    return a->status == b->status && a->type == b->type && a->id == b->id &&
           a->expires_at_ms == b->expires_at_ms && a->swept == b->swept && a->more == b->more &&
           a->seat_count == b->seat_count &&
           memcmp(a->seats, b->seats, a->seat_count * sizeof(uint32_t)) == 0;
}

/* Goal: results round-trip with 0, 1 and USHER_HOLD_SEATS_MAX seats, in
 * 28 + 4 * seats bytes, and `replayed` is carried. */
static void test_result_round_trip(void **state)
{
    (void)state;
    static const uint16_t counts[] = { 0, 1, USHER_HOLD_SEATS_MAX };
    uint8_t buf[USHER_RESULT_BYTES_MAX];
    for (size_t i = 0; i < 3; i++) {
        struct cmd_result r = sample_result(counts[i]);
        r.replayed = 1;
        size_t len = 0;
        assert_int_equal(codec_result_encode(&r, buf, sizeof(buf), &len), 0);
        assert_int_equal(len, 28 + 4 * counts[i]);
        struct cmd_result d;
        assert_int_equal(codec_result_decode(buf, len, &d), 0);
        assert_true(result_equal(&r, &d));
        assert_int_equal(d.replayed, 1);
        assert_int_equal(codec_result_encode(&r, buf, len - 1, &len), USHER_LIMIT_MSG_SIZE);
    }
}

/* Goal: result decoding refuses a bad version, replayed flag, more flag,
 * seat count over the limit, truncation and trailing bytes. */
static void test_result_rejections(void **state)
{
    (void)state;
    uint8_t buf[USHER_RESULT_BYTES_MAX + 8];
    struct cmd_result r = sample_result(USHER_HOLD_SEATS_MAX);
    size_t len = 0;
    assert_int_equal(codec_result_encode(&r, buf, sizeof(buf), &len), 0);
    struct cmd_result d;
    for (size_t cut = 0; cut < len; cut++) {
        assert_int_equal(codec_result_decode(buf, cut, &d), USHER_BAD_REQUEST);
    }
    buf[len] = 0;
    assert_int_equal(codec_result_decode(buf, len + 1, &d), USHER_BAD_REQUEST);
    buf[0] = 2;
    assert_int_equal(codec_result_decode(buf, len, &d), USHER_BAD_VERSION);
    buf[0] = CODEC_VERSION;
    buf[24] = 2;
    assert_int_equal(codec_result_decode(buf, len, &d), USHER_BAD_REQUEST);
    buf[24] = 0;
    buf[25] = 2;
    assert_int_equal(codec_result_decode(buf, len, &d), USHER_BAD_REQUEST);
    buf[25] = 0;
    put_u16(buf + 26, USHER_HOLD_SEATS_MAX + 1);
    put_u32(buf + len, 9);
    assert_int_equal(codec_result_decode(buf, len + 4, &d), USHER_BAD_REQUEST);
    put_u16(buf + 26, USHER_HOLD_SEATS_MAX);
    assert_int_equal(codec_result_decode(buf, len, &d), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmd_round_trip_every_type),
        cmocka_unit_test(test_cmd_encoded_sizes),
        cmocka_unit_test(test_cmd_truncated_or_trailing_rejected),
        cmocka_unit_test(test_cmd_bad_version),
        cmocka_unit_test(test_cmd_bad_type_and_flags),
        cmocka_unit_test(test_cmd_keyed_fields_required),
        cmocka_unit_test(test_cmd_create_header_rules),
        cmocka_unit_test(test_cmd_sweep_rules),
        cmocka_unit_test(test_cmd_hold_seats_count_limits),
        cmocka_unit_test(test_cmd_hold_count_limits),
        cmocka_unit_test(test_cmd_zero_hold_or_booking_id_rejected),
        cmocka_unit_test(test_cmd_payment_ref_rules),
        cmocka_unit_test(test_cmd_encode_type_and_capacity),
        cmocka_unit_test(test_cmd_oversized_input_rejected),
        cmocka_unit_test(test_cmd_create_largest_event),
        cmocka_unit_test(test_cmd_create_out_of_memory),
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_event_truncated_or_trailing_rejected),
        cmocka_unit_test(test_event_text_length_limits),
        cmocka_unit_test(test_event_nul_in_text_rejected),
        cmocka_unit_test(test_event_unknown_kind_rejected),
        cmocka_unit_test(test_event_section_count_limit),
        cmocka_unit_test(test_event_row_count_limit),
        cmocka_unit_test(test_event_row_seats_limit),
        cmocka_unit_test(test_event_total_seats_limit),
        cmocka_unit_test(test_event_ga_capacity_limit),
        cmocka_unit_test(test_event_decoder_leaves_rules_to_validate),
        cmocka_unit_test(test_event_encode_rejects_unencodable),
        cmocka_unit_test(test_event_decode_out_of_memory),
        cmocka_unit_test(test_batch_round_trip),
        cmocka_unit_test(test_batch_empty),
        cmocka_unit_test(test_batch_truncated_or_trailing_rejected),
        cmocka_unit_test(test_batch_bad_header),
        cmocka_unit_test(test_batch_count_limit),
        cmocka_unit_test(test_batch_bytes_limit),
        cmocka_unit_test(test_batch_append_limits),
        cmocka_unit_test(test_batch_encode_errors),
        cmocka_unit_test(test_batch_bad_command_frees_earlier_ones),
        cmocka_unit_test(test_result_round_trip),
        cmocka_unit_test(test_result_rejections),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
