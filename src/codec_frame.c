/*
 * Client frames and request payloads of the wire protocol (proto.h,
 * docs/PROTOCOL.md "Framing").
 *
 *   offset  size  field
 *        0     4  len: bytes after this field, PROTO_HEADER_BYTES ..
 *                 USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES
 *        4     1  version (= PROTO_VERSION)
 *        5     1  op (1 .. PROTO_OP_MAX; PROTO_OP_NONE only in a stream-error reply)
 *        6     2  flags (0: request, PROTO_FLAG_REPLY: reply)
 *        8     8  request_id
 *       16    16  trace_id
 *       32     2  status (0 in a request; enum usher_err in a reply)
 *       34     2  reserved (= 0)
 *       36     -  payload (len - PROTO_HEADER_BYTES bytes)
 *
 * A stream-error reply answers a frame the server could not read (too long,
 * bad header): op PROTO_OP_NONE (0), request id 0, a status; then the
 * connection closes.
 * Reply statuses are not checked against the error table, so a client keeps
 * reading the replies of a newer server.
 *
 * Request payloads of the reads and of EVENT_LIST:
 *
 *   EVENT_GET, AVAILABILITY                  u64 event_id                  8
 *   HOLD_GET, BOOKING_GET, CUSTOMER_LIST     u64 event_id | u64 id        16
 *   SEAT_HISTORY                             u64 event_id | u32 seat      12
 *   EVENT_LIST                               u64 after | u32 max (>= 1)   12
 */
#include "proto.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"

#define FRAME_HEAD_BYTES (PROTO_LEN_BYTES + PROTO_HEADER_BYTES)

static_assert(PROTO_HEADER_BYTES == 1 + 1 + 2 + 8 + PROTO_TRACE_ID_BYTES + 2 + 2, "header layout");
static_assert(USHER_FRAME_BYTES_MAX > FRAME_HEAD_BYTES, "a header fits a frame");
static_assert(USHER_FRAME_BYTES_MAX <= UINT32_MAX, "the length field holds every frame");

/* Returns true when a header with these fields is one the decoder accepts,
 * length aside. */
static bool header_is_valid(uint8_t op, uint16_t flags, uint64_t request_id, uint16_t status,
                            uint16_t reserved)
{
    if ((flags & ~PROTO_FLAG_REPLY) != 0 || reserved != 0) {
        return false;
    }
    bool reply = (flags & PROTO_FLAG_REPLY) != 0;
    if (!reply && status != 0) {
        return false;
    }
    if (op == PROTO_OP_NONE) {
        return reply && request_id == 0 && status != 0;
    }
    return op <= PROTO_OP_MAX;
}

int codec_frame_header_encode(const struct proto_header *h, size_t payload_len, uint8_t *out)
{
    ASSERT(h != NULL);
    ASSERT(out != NULL);
    if (h->version != PROTO_VERSION ||
        !header_is_valid(h->op, h->flags, h->request_id, h->status, h->reserved)) {
        return USHER_INVALID;
    }
    if (payload_len > USHER_FRAME_BYTES_MAX - FRAME_HEAD_BYTES) {
        return USHER_LIMIT_MSG_SIZE;
    }
    struct buf_writer w;
    buf_writer_init(&w, out, FRAME_HEAD_BYTES);
    buf_write_u32(&w, (uint32_t)(PROTO_HEADER_BYTES + payload_len));
    buf_write_u8(&w, h->version);
    buf_write_u8(&w, h->op);
    buf_write_u16(&w, h->flags);
    buf_write_u64(&w, h->request_id);
    buf_write_bytes(&w, h->trace_id, PROTO_TRACE_ID_BYTES);
    buf_write_u16(&w, h->status);
    buf_write_u16(&w, h->reserved);
    ASSERT(w.ok);
    ASSERT(w.pos == FRAME_HEAD_BYTES);
    return 0;
}

int codec_frame_length_decode(const uint8_t *buf, size_t *frame_bytes)
{
    ASSERT(buf != NULL);
    ASSERT(frame_bytes != NULL);
    struct buf_reader r;
    buf_reader_init(&r, buf, PROTO_LEN_BYTES);
    uint32_t len = buf_read_u32(&r);
    ASSERT(r.ok);
    if (len > USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES) {
        return USHER_LIMIT_MSG_SIZE;
    }
    if (len < PROTO_HEADER_BYTES) {
        return USHER_BAD_REQUEST;
    }
    *frame_bytes = PROTO_LEN_BYTES + (size_t)len;
    ASSERT(*frame_bytes <= USHER_FRAME_BYTES_MAX);
    return 0;
}

int codec_frame_decode(const uint8_t *buf, size_t frame_bytes, struct proto_header *h,
                       const uint8_t **payload, size_t *payload_len)
{
    ASSERT(h != NULL);
    ASSERT(payload != NULL);
    ASSERT(payload_len != NULL);
    size_t want = 0;
    if (frame_bytes < PROTO_LEN_BYTES) {
        return USHER_BAD_REQUEST;
    }
    int rc = codec_frame_length_decode(buf, &want);
    if (rc != 0) {
        return rc;
    }
    if (want != frame_bytes) {
        return USHER_BAD_REQUEST;
    }
    struct buf_reader r;
    buf_reader_init(&r, buf, frame_bytes);
    struct proto_header out;
    memset(&out, 0, sizeof(out));
    out.len = buf_read_u32(&r);
    out.version = buf_read_u8(&r);
    if (out.version != PROTO_VERSION) {
        return USHER_BAD_VERSION;
    }
    out.op = buf_read_u8(&r);
    out.flags = buf_read_u16(&r);
    out.request_id = buf_read_u64(&r);
    const uint8_t *trace_id = buf_read_bytes(&r, PROTO_TRACE_ID_BYTES);
    out.status = buf_read_u16(&r);
    out.reserved = buf_read_u16(&r);
    /* The length was checked, so the whole header is there. */
    ASSERT(r.ok);
    ASSERT(trace_id != NULL);
    memcpy(out.trace_id, trace_id, PROTO_TRACE_ID_BYTES);
    if (!header_is_valid(out.op, out.flags, out.request_id, out.status, out.reserved)) {
        return USHER_BAD_REQUEST;
    }
    *h = out;
    *payload = buf + FRAME_HEAD_BYTES;
    *payload_len = frame_bytes - FRAME_HEAD_BYTES;
    return 0;
}

/* What follows the event id in a read request. */
enum read_shape {
    READ_NONE = 0, /* not a read op */
    READ_EVENT,    /* nothing: u64 event_id */
    READ_ID,       /* u64 hold, booking or customer id (!= 0) */
    READ_SEAT,     /* u32 seat index */
};

static enum read_shape read_shape_of(uint8_t op)
{
    switch ((enum proto_op)op) {
    case PROTO_OP_EVENT_GET:
    case PROTO_OP_AVAILABILITY:
        return READ_EVENT;
    case PROTO_OP_HOLD_GET:
    case PROTO_OP_BOOKING_GET:
    case PROTO_OP_CUSTOMER_LIST:
        return READ_ID;
    case PROTO_OP_SEAT_HISTORY:
        return READ_SEAT;
    case PROTO_OP_NONE:
    case PROTO_OP_COMMAND:
    case PROTO_OP_EVENT_LIST:
    case PROTO_OP_STATUS:
    case PROTO_OP_PING:
        break;
    }
    return READ_NONE;
}

static size_t read_bytes_of(enum read_shape shape)
{
    switch (shape) {
    case READ_NONE:
        break;
    case READ_EVENT:
        return 8;
    case READ_ID:
        return 16;
    case READ_SEAT:
        return 12;
    }
    return 0;
}

/* Returns true when r is a valid request of that shape. */
static bool read_is_valid(enum read_shape shape, const struct proto_read *r)
{
    if (r->event_id == 0) {
        return false;
    }
    switch (shape) {
    case READ_NONE:
        break;
    case READ_EVENT:
        return r->arg == 0;
    case READ_ID:
        return r->arg != 0;
    case READ_SEAT:
        return r->arg <= UINT32_MAX;
    }
    return false;
}

int codec_frame_read_encode(uint8_t op, const struct proto_read *r, uint8_t *buf, size_t cap,
                            size_t *len)
{
    ASSERT(r != NULL);
    ASSERT(len != NULL);
    enum read_shape shape = read_shape_of(op);
    if (!read_is_valid(shape, r)) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, r->event_id);
    if (shape == READ_ID) {
        buf_write_u64(&w, r->arg);
    } else if (shape == READ_SEAT) {
        buf_write_u32(&w, (uint32_t)r->arg);
    }
    if (r->max_stale_ms != 0) {
        buf_write_u32(&w, r->max_stale_ms);
    }
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(w.pos == read_bytes_of(shape) + (r->max_stale_ms != 0 ? 4u : 0u));
    *len = w.pos;
    return 0;
}

int codec_frame_read_decode(uint8_t op, const uint8_t *buf, size_t len, struct proto_read *r)
{
    ASSERT(r != NULL);
    enum read_shape shape = read_shape_of(op);
    if (shape == READ_NONE || (len != read_bytes_of(shape) && len != read_bytes_of(shape) + 4u)) {
        return USHER_BAD_REQUEST;
    }
    struct buf_reader rd;
    buf_reader_init(&rd, buf, len);
    struct proto_read out = { .event_id = buf_read_u64(&rd), .arg = 0 };
    if (shape == READ_ID) {
        out.arg = buf_read_u64(&rd);
    } else if (shape == READ_SEAT) {
        out.arg = buf_read_u32(&rd);
    }
    bool stale = buf_reader_left(&rd) == 4u;
    if (stale) {
        out.max_stale_ms = buf_read_u32(&rd);
    }
    ASSERT(rd.ok);
    ASSERT(buf_reader_left(&rd) == 0);
    if (!read_is_valid(shape, &out) || (stale && out.max_stale_ms == 0)) {
        return USHER_BAD_REQUEST;
    }
    *r = out;
    return 0;
}

int codec_frame_list_encode(uint64_t after, uint32_t max, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(len != NULL);
    if (max == 0) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, after);
    buf_write_u32(&w, max);
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    *len = w.pos;
    return 0;
}

int codec_frame_list_decode(const uint8_t *buf, size_t len, uint64_t *after, uint32_t *max)
{
    ASSERT(after != NULL);
    ASSERT(max != NULL);
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    uint64_t a = buf_read_u64(&r);
    uint32_t m = buf_read_u32(&r);
    if (!r.ok || buf_reader_left(&r) != 0 || m == 0) {
        return USHER_BAD_REQUEST;
    }
    *after = a;
    *max = m;
    return 0;
}
