/*
 * Writes the seed corpus of the protocol fuzz targets (fuzz_frame.c,
 * fuzz_reply.c): valid frames and reply payloads, made with the encoders so
 * they follow the format exactly.
 *
 *   gen_proto_corpus DIR    writes DIR/frame/<name> and DIR/reply/<name>
 *                           (the directories must exist)
 *
 * A reply seed starts with the fuzz_reply.c kind byte (and, for errors, the
 * u16 status). Run it after a format change and commit its output under
 * tests/fuzz/corpus/. Build (from the top of the tree):
 *   gcc -std=c11 -D_GNU_SOURCE -Isrc tests/fuzz/gen_proto_corpus.c src/buf.c \
 *       src/codec_frame.c src/codec_reply.c src/err.c src/mem.c src/assertion.c \
 *       -o /tmp/gen_proto_corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "limits.h"
#include "proto.h"

#define OUT_BYTES_MAX ((size_t)USHER_FRAME_BYTES_MAX)
#define HEAD_BYTES    (PROTO_LEN_BYTES + PROTO_HEADER_BYTES)

/* The kind bytes of fuzz_reply.c. */
enum { K_AVAIL, K_HOLD, K_BOOKING, K_CUSTOMER, K_HISTORY, K_STATUS, K_LIST, K_ERROR };

static void write_file(const char *dir, const char *kind, const char *name, const uint8_t *buf,
                       size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s/%s", dir, kind, name);
    ASSERT(n > 0);
    ASSERT((size_t)n < sizeof(path));
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Writes one frame: header h and the payload of len bytes. */
static void put_frame(const char *dir, const char *name, const struct proto_header *h,
                      const uint8_t *payload, size_t len, uint8_t *buf)
{
    ASSERT(codec_frame_header_encode(h, len, buf) == 0);
    if (len > 0) {
        memcpy(buf + HEAD_BYTES, payload, len);
    }
    write_file(dir, "frame", name, buf, HEAD_BYTES + len);
}

static struct proto_header request(uint8_t op, uint64_t id)
{
    struct proto_header h;
    memset(&h, 0, sizeof(h));
    h.version = PROTO_VERSION;
    h.op = op;
    h.request_id = id;
    for (uint8_t i = 0; i < PROTO_TRACE_ID_BYTES; i++) {
        h.trace_id[i] = (uint8_t)(i * 17u + 1u);
    }
    return h;
}

static void gen_frames(const char *dir, uint8_t *buf)
{
    uint8_t payload[64];
    size_t len = 0;
    struct proto_header h = request(PROTO_OP_PING, 1);
    put_frame(dir, "ping", &h, NULL, 0, buf);
    h = request(PROTO_OP_STATUS, 2);
    put_frame(dir, "status", &h, NULL, 0, buf);
    struct proto_read r = { .event_id = 42, .arg = 0 };
    ASSERT(codec_frame_read_encode(PROTO_OP_AVAILABILITY, &r, payload, sizeof(payload), &len) == 0);
    h = request(PROTO_OP_AVAILABILITY, 3);
    put_frame(dir, "availability", &h, payload, len, buf);
    r.arg = (7ull << USHER_ID_SLOT_BITS) | 3;
    ASSERT(codec_frame_read_encode(PROTO_OP_HOLD_GET, &r, payload, sizeof(payload), &len) == 0);
    h = request(PROTO_OP_HOLD_GET, 4);
    put_frame(dir, "hold_get", &h, payload, len, buf);
    r.arg = 20;
    ASSERT(codec_frame_read_encode(PROTO_OP_SEAT_HISTORY, &r, payload, sizeof(payload), &len) == 0);
    h = request(PROTO_OP_SEAT_HISTORY, 5);
    put_frame(dir, "seat_history", &h, payload, len, buf);
    ASSERT(codec_frame_list_encode(0, 100, payload, sizeof(payload), &len) == 0);
    h = request(PROTO_OP_EVENT_LIST, 6);
    put_frame(dir, "event_list", &h, payload, len, buf);
    h = request(PROTO_OP_HOLD_GET, 4);
    h.flags = PROTO_FLAG_REPLY;
    h.status = USHER_NOT_LEADER;
    ASSERT(codec_reply_error_encode(USHER_NOT_LEADER, "127.0.0.1:7401", 0, payload, sizeof(payload),
                                    &len) == 0);
    put_frame(dir, "reply_not_leader", &h, payload, len, buf);
    h = request(PROTO_OP_NONE, 0);
    h.flags = PROTO_FLAG_REPLY;
    h.status = USHER_LIMIT_MSG_SIZE;
    ASSERT(codec_reply_error_encode(USHER_LIMIT_MSG_SIZE, "bad frame length", 0, payload,
                                    sizeof(payload), &len) == 0);
    put_frame(dir, "reply_stream_error", &h, payload, len, buf);
}

/* Writes the kind byte and the len payload bytes already at buf + 1. */
static void put_reply(const char *dir, const char *name, uint8_t kind, uint8_t *buf, size_t len)
{
    buf[0] = kind;
    write_file(dir, "reply", name, buf, len + 1);
}

static void gen_availability(const char *dir, uint8_t *buf)
{
    struct inv_availability *a = calloc(1, sizeof(*a));
    ASSERT(a != NULL);
    a->event_id = 42;
    a->applied_index = 1000;
    a->now_ms = 1700000000000ull;
    a->section_count = 3;
    a->sections[0] = (struct inv_section_avail){ .free = 2000, .capacity = 2000 };
    a->sections[1] =
        (struct inv_section_avail){ .free = 55, .held = 4, .booked = 1, .capacity = 60 };
    a->sections[2] = (struct inv_section_avail){ .free = 60, .capacity = 60 };
    a->seat_count = 120;
    for (uint32_t i = 0; i < 120; i++) {
        if (i < 20 || i >= 25) {
            a->free_bitmap[i / 8] |= (uint8_t)(1u << (i % 8));
        }
    }
    size_t len = 0;
    ASSERT(codec_reply_availability_encode(a, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "availability", K_AVAIL, buf, len);
    memset(a, 0, sizeof(*a));
    a->event_id = 3;
    a->section_count = 1;
    a->sections[0] = (struct inv_section_avail){ .free = 10, .capacity = 10 };
    a->seat_count = 13;
    a->free_bitmap[0] = 0xFF;
    a->free_bitmap[1] = 0x1F;
    ASSERT(codec_reply_availability_encode(a, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "availability_odd", K_AVAIL, buf, len);
    free(a);
}

static void gen_hold_and_booking(const char *dir, uint8_t *buf)
{
    struct inv_hold h;
    memset(&h, 0, sizeof(h));
    h.id = (7ull << USHER_ID_SLOT_BITS) | 3;
    h.event_id = 42;
    h.customer_id = 501;
    h.state = INV_HOLD_BOOKED;
    h.seat_count = 4;
    h.created_at_ms = 1700000000000ull;
    h.expires_at_ms = 1700000600000ull;
    h.ended_at_ms = 1700000100000ull;
    h.booking_id = (9ull << USHER_ID_SLOT_BITS) | 1;
    for (uint32_t i = 0; i < 4; i++) {
        h.seats[i] = 20 + i;
    }
    size_t len = 0;
    ASSERT(codec_reply_hold_encode(&h, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "hold_seated", K_HOLD, buf, len);
    h.ga = 1;
    h.section = 0;
    h.state = INV_HOLD_ACTIVE;
    h.booking_id = 0;
    h.ended_at_ms = 0;
    ASSERT(codec_reply_hold_encode(&h, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "hold_ga", K_HOLD, buf, len);
    struct inv_booking b;
    memset(&b, 0, sizeof(b));
    b.id = (9ull << USHER_ID_SLOT_BITS) | 1;
    b.event_id = 42;
    b.customer_id = 501;
    b.hold_id = h.id;
    b.state = INV_BOOKING_CONFIRMED;
    b.seat_count = 4;
    b.booked_at_ms = 1700000100000ull;
    memcpy(b.payment_ref, "pi_3NfQ2k", 10);
    for (uint32_t i = 0; i < 4; i++) {
        b.seats[i] = 20 + i;
    }
    ASSERT(codec_reply_booking_encode(&b, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "booking", K_BOOKING, buf, len);
}

static void gen_lists(const char *dir, uint8_t *buf)
{
    struct inv_customer_items *c = calloc(1, sizeof(*c));
    struct inv_seat_history *s = calloc(1, sizeof(*s));
    ASSERT(c != NULL);
    ASSERT(s != NULL);
    c->count = 2;
    c->items[0] = (struct inv_customer_item){ .id = 7, .seat_count = 2, .expires_at_ms = 900 };
    c->items[1] = (struct inv_customer_item){ .is_booking = 1, .id = 9, .seat_count = 4 };
    size_t len = 0;
    ASSERT(codec_reply_customer_encode(c, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "customer", K_CUSTOMER, buf, len);
    s->count = 3;
    s->more = 1;
    s->entries[0] = (struct inv_history_entry){
        .kind = INV_HISTORY_BOOK, .at_ms = 300, .id = 9, .customer_id = 501
    };
    s->entries[1] = (struct inv_history_entry){
        .kind = INV_HISTORY_HOLD, .at_ms = 200, .id = 7, .customer_id = 501
    };
    s->entries[2] = (struct inv_history_entry){
        .kind = INV_HISTORY_EXPIRE, .at_ms = 100, .id = 5, .customer_id = 502
    };
    ASSERT(codec_reply_history_encode(s, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "history", K_HISTORY, buf, len);
    const uint64_t ids[] = { 1, 42, 1000 };
    ASSERT(codec_reply_event_list_encode(ids, 3, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "event_list", K_LIST, buf, len);
    free(s);
    free(c);
}

static void gen_status(const char *dir, uint8_t *buf)
{
    struct proto_node_status *st = calloc(1, sizeof(*st));
    ASSERT(st != NULL);
    st->node_id = 1;
    st->cluster_id = 0xC0FFEEull;
    st->shard_count = 4;
    st->listed = 4;
    memcpy(st->version, "0.1.0", 6);
    for (uint32_t i = 0; i < 4; i++) {
        st->shards[i] = (struct proto_shard_status){ .shard = i,
                                                     .role = PROTO_ROLE_LEADER,
                                                     .term = 2,
                                                     .commit_index = 10 + i,
                                                     .applied_index = 10 + i,
                                                     .leader_id = 1,
                                                     .events = i };
    }
    size_t len = 0;
    ASSERT(codec_reply_status_encode(st, buf + 1, OUT_BYTES_MAX - 1, &len) == 0);
    put_reply(dir, "status", K_STATUS, buf, len);
    free(st);
}

/* Writes kind byte | u16 status | error payload. */
static void put_error(const char *dir, const char *name, int status, const char *text,
                      uint32_t retry_after_ms, uint8_t *buf)
{
    size_t len = 0;
    ASSERT(codec_reply_error_encode(status, text, retry_after_ms, buf + 3, PROTO_ERROR_BYTES_MAX,
                                    &len) == 0);
    buf[0] = K_ERROR;
    buf[1] = (uint8_t)status;
    buf[2] = (uint8_t)(status >> 8);
    write_file(dir, "reply", name, buf, len + 3);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        (void)fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    uint8_t *buf = malloc(OUT_BYTES_MAX);
    ASSERT(buf != NULL);
    gen_frames(argv[1], buf);
    gen_availability(argv[1], buf);
    gen_hold_and_booking(argv[1], buf);
    gen_lists(argv[1], buf);
    gen_status(argv[1], buf);
    put_error(argv[1], "error_not_leader", USHER_NOT_LEADER, "10.0.0.2:7400", 0, buf);
    put_error(argv[1], "error_busy", USHER_BUSY, NULL, 10, buf);
    put_error(argv[1], "error_message", USHER_BAD_REQUEST, "read payload does not decode", 0, buf);
    free(buf);
    return 0;
}
