/*
 * Command format (codec.h, docs/CODEC.md "Command").
 *
 *   offset  size  field
 *        0     1  version (= CODEC_VERSION)
 *        1     1  type (enum cmd_type)
 *        2     2  flags (= 0)
 *        4     8  client_id
 *       12     8  idem_key
 *       20     8  event_id
 *       28     8  customer_id
 *       36     -  body, by type:
 *
 *   EVENT_CREATE    event description (codec_event.c)
 *   HOLD_SEATS      u32 ttl_ms | u16 seat_count | u16 reserved | seat_count x u32 seat
 *   HOLD_BEST, _GA  u32 ttl_ms | u16 section | u16 count
 *   HOLD_EXTEND     u64 hold_id | u32 ttl_ms
 *   HOLD_RELEASE    u64 hold_id
 *   HOLD_BOOK       u64 hold_id | u8 ref_len | ref bytes
 *   BOOKING_CANCEL  u64 booking_id
 *   SWEEP           u32 max
 *
 * Every field is fixed or length-prefixed and every byte must be used, so an
 * accepted command has exactly one encoding: re-encoding a decoded command
 * gives back the same bytes (and the same digest). The encoder refuses what
 * the decoder would refuse, with USHER_INVALID.
 */
#include "codec.h"

#include <assert.h>
#include <string.h>
#include <xxhash.h>

#include "assertion.h"
#include "buf.h"
#include "event.h"

/* The limits as sizes: they are compared with in-memory lengths. */
#define CMD_BYTES_MAX ((size_t)USHER_CMD_BYTES_MAX)

static_assert(CODEC_CMD_HEADER_BYTES == 1 + 1 + 2 + 8 + 8 + 8 + 8, "header layout");
static_assert(USHER_HOLD_SEATS_MAX <= UINT16_MAX, "seat_count is a u16");
static_assert(USHER_PAYMENT_REF_LEN_MAX <= UINT8_MAX, "ref_len is a u8");

/* ---- Rules shared by the encoder and the decoder ---- */

/* Checks the key fields of the header against the command type. */
static int check_keys(const struct cmd *c)
{
    if (c->type == CMD_SWEEP) {
        if (c->client_id != 0 || c->idem_key != 0 || c->event_id != 0 || c->customer_id != 0) {
            return USHER_BAD_REQUEST;
        }
        return 0;
    }
    if (c->client_id == 0 || c->idem_key == 0 || c->event_id == 0) {
        return USHER_BAD_REQUEST;
    }
    if (c->type == CMD_EVENT_CREATE) {
        return c->customer_id == 0 ? 0 : USHER_BAD_REQUEST;
    }
    return c->customer_id != 0 ? 0 : USHER_BAD_REQUEST;
}

/* Checks a count of seats or places in a hold. */
static int check_hold_count(uint32_t count)
{
    if (count == 0) {
        return USHER_BAD_REQUEST;
    }
    if (count > USHER_HOLD_SEATS_MAX) {
        return USHER_LIMIT_HOLD_SEATS;
    }
    return 0;
}

/* Checks the body fields of every type but EVENT_CREATE (whose body is the
 * event codec's business). Returns 0, BAD_REQUEST or a LIMIT_* code. */
static int check_body(const struct cmd *c)
{
    switch ((enum cmd_type)c->type) {
    case CMD_EVENT_CREATE:
        return 0;
    case CMD_HOLD_SEATS:
        return check_hold_count(c->u.hold_seats.seat_count);
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        return check_hold_count(c->u.hold_count.count);
    case CMD_HOLD_EXTEND:
        return c->u.extend.hold_id != 0 ? 0 : USHER_BAD_REQUEST;
    case CMD_HOLD_RELEASE:
        return c->u.release.hold_id != 0 ? 0 : USHER_BAD_REQUEST;
    case CMD_HOLD_BOOK:
        return c->u.book.hold_id != 0 ? 0 : USHER_BAD_REQUEST;
    case CMD_BOOKING_CANCEL:
        return c->u.cancel.booking_id != 0 ? 0 : USHER_BAD_REQUEST;
    case CMD_SWEEP:
        if (c->u.sweep.max == 0 || c->u.sweep.max > USHER_SWEEP_MAX) {
            return USHER_BAD_REQUEST;
        }
        return 0;
    }
    UNREACHABLE(); /* callers check the type first */
}

static bool type_is_known(uint8_t type)
{
    return type >= CMD_EVENT_CREATE && type <= CMD_TYPE_MAX;
}

/* ---- Decoding ---- */

static int read_hold_seats(struct buf_reader *r, struct cmd *c)
{
    c->u.hold_seats.ttl_ms = buf_read_u32(r);
    uint16_t seat_count = buf_read_u16(r);
    uint16_t reserved = buf_read_u16(r);
    if (!r->ok || reserved != 0) {
        return USHER_BAD_REQUEST;
    }
    int rc = check_hold_count(seat_count);
    if (rc != 0) {
        return rc;
    }
    c->u.hold_seats.seat_count = seat_count;
    for (uint32_t i = 0; i < seat_count; i++) {
        c->u.hold_seats.seats[i] = buf_read_u32(r);
    }
    return 0;
}

static int read_book(struct buf_reader *r, struct cmd *c)
{
    c->u.book.hold_id = buf_read_u64(r);
    uint8_t ref_len = buf_read_u8(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (ref_len > USHER_PAYMENT_REF_LEN_MAX) {
        return USHER_LIMIT_PAYMENT_REF;
    }
    const uint8_t *ref = buf_read_bytes(r, ref_len);
    if (ref == NULL) {
        return USHER_BAD_REQUEST;
    }
    if (ref_len > 0 && memchr(ref, 0, ref_len) != NULL) {
        return USHER_BAD_REQUEST;
    }
    if (ref_len > 0) {
        memcpy(c->u.book.payment_ref, ref, ref_len);
    }
    c->u.book.payment_ref[ref_len] = '\0';
    return 0;
}

/* Reads the fixed-size body of every type but EVENT_CREATE; the caller
 * checks r->ok, the trailing bytes and the field rules afterwards. */
static int read_body(struct buf_reader *r, struct cmd *c)
{
    switch ((enum cmd_type)c->type) {
    case CMD_EVENT_CREATE:
        UNREACHABLE(); /* decoded by read_create() */
    case CMD_HOLD_SEATS:
        return read_hold_seats(r, c);
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        c->u.hold_count.ttl_ms = buf_read_u32(r);
        c->u.hold_count.section = buf_read_u16(r);
        c->u.hold_count.count = buf_read_u16(r);
        return 0;
    case CMD_HOLD_EXTEND:
        c->u.extend.hold_id = buf_read_u64(r);
        c->u.extend.ttl_ms = buf_read_u32(r);
        return 0;
    case CMD_HOLD_RELEASE:
        c->u.release.hold_id = buf_read_u64(r);
        return 0;
    case CMD_HOLD_BOOK:
        return read_book(r, c);
    case CMD_BOOKING_CANCEL:
        c->u.cancel.booking_id = buf_read_u64(r);
        return 0;
    case CMD_SWEEP:
        c->u.sweep.max = buf_read_u32(r);
        return 0;
    }
    UNREACHABLE();
}

/* Decodes the event description that makes up the rest of the bytes. */
static int read_create(struct buf_reader *r, struct cmd *c)
{
    size_t left = buf_reader_left(r);
    const uint8_t *body = buf_read_bytes(r, left);
    ASSERT(body != NULL);
    struct event *e = NULL;
    int rc = codec_event_decode(body, left, &e);
    if (rc != 0) {
        return rc;
    }
    if (e->id != c->event_id) {
        event_destroy(e);
        return USHER_BAD_REQUEST;
    }
    c->u.create.event = e;
    return 0;
}

/* Reads and checks the 36-byte header into c. */
static int read_header(struct buf_reader *r, struct cmd *c)
{
    uint8_t version = buf_read_u8(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    /* The version comes first: another version may lay out the rest differently. */
    if (version != CODEC_VERSION) {
        return USHER_BAD_VERSION;
    }
    c->type = buf_read_u8(r);
    uint16_t flags = buf_read_u16(r);
    c->client_id = buf_read_u64(r);
    c->idem_key = buf_read_u64(r);
    c->event_id = buf_read_u64(r);
    c->customer_id = buf_read_u64(r);
    if (!r->ok || !type_is_known(c->type) || flags != 0) {
        return USHER_BAD_REQUEST;
    }
    return check_keys(c);
}

int codec_cmd_decode(const uint8_t *buf, size_t len, struct cmd *cmd)
{
    ASSERT(cmd != NULL);
    if (len > CMD_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    struct cmd c;
    memset(&c, 0, sizeof(c));
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    int rc = read_header(&r, &c);
    if (rc != 0) {
        return rc;
    }
    if (c.type == CMD_EVENT_CREATE) {
        rc = read_create(&r, &c);
        if (rc != 0) {
            return rc;
        }
    } else {
        rc = read_body(&r, &c);
        if (rc != 0) {
            return rc;
        }
        if (!r.ok || buf_reader_left(&r) != 0) {
            return USHER_BAD_REQUEST;
        }
        rc = check_body(&c);
        if (rc != 0) {
            return rc;
        }
    }
    ASSERT(buf_reader_left(&r) == 0);
    c.digest = XXH64(buf, len, 0);
    *cmd = c;
    return 0;
}

void codec_cmd_release(struct cmd *cmd)
{
    ASSERT(cmd != NULL);
    if (cmd->type == CMD_EVENT_CREATE) {
        event_destroy(cmd->u.create.event);
        cmd->u.create.event = NULL;
    }
}

/* ---- Encoding ---- */

static void write_book(struct buf_writer *w, const struct cmd *c)
{
    size_t ref_len = strnlen(c->u.book.payment_ref, sizeof(c->u.book.payment_ref));
    ASSERT(ref_len <= USHER_PAYMENT_REF_LEN_MAX); /* check_encodable() passed */
    buf_write_u64(w, c->u.book.hold_id);
    buf_write_u8(w, (uint8_t)ref_len);
    buf_write_bytes(w, c->u.book.payment_ref, ref_len);
}

static void write_body(struct buf_writer *w, const struct cmd *c)
{
    switch ((enum cmd_type)c->type) {
    case CMD_EVENT_CREATE:
        UNREACHABLE(); /* written by codec_event_encode() */
    case CMD_HOLD_SEATS:
        buf_write_u32(w, c->u.hold_seats.ttl_ms);
        buf_write_u16(w, c->u.hold_seats.seat_count);
        buf_write_u16(w, 0);
        for (uint32_t i = 0; i < c->u.hold_seats.seat_count; i++) {
            buf_write_u32(w, c->u.hold_seats.seats[i]);
        }
        return;
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        buf_write_u32(w, c->u.hold_count.ttl_ms);
        buf_write_u16(w, c->u.hold_count.section);
        buf_write_u16(w, c->u.hold_count.count);
        return;
    case CMD_HOLD_EXTEND:
        buf_write_u64(w, c->u.extend.hold_id);
        buf_write_u32(w, c->u.extend.ttl_ms);
        return;
    case CMD_HOLD_RELEASE:
        buf_write_u64(w, c->u.release.hold_id);
        return;
    case CMD_HOLD_BOOK:
        write_book(w, c);
        return;
    case CMD_BOOKING_CANCEL:
        buf_write_u64(w, c->u.cancel.booking_id);
        return;
    case CMD_SWEEP:
        buf_write_u32(w, c->u.sweep.max);
        return;
    }
    UNREACHABLE();
}

/* Returns 0 when the decoder would accept cmd, else INVALID. */
static int check_encodable(const struct cmd *cmd)
{
    if (!type_is_known(cmd->type) || check_keys(cmd) != 0 || check_body(cmd) != 0) {
        return USHER_INVALID;
    }
    if (cmd->type == CMD_HOLD_BOOK) {
        size_t ref_len = strnlen(cmd->u.book.payment_ref, sizeof(cmd->u.book.payment_ref));
        if (ref_len > USHER_PAYMENT_REF_LEN_MAX) {
            return USHER_INVALID;
        }
    }
    if (cmd->type == CMD_EVENT_CREATE) {
        const struct event *e = cmd->u.create.event;
        if (e == NULL || e->id != cmd->event_id) {
            return USHER_INVALID;
        }
    }
    return 0;
}

int codec_cmd_encode(const struct cmd *cmd, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(cmd != NULL);
    ASSERT(len != NULL);
    int rc = check_encodable(cmd);
    if (rc != 0) {
        return rc;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap < CMD_BYTES_MAX ? cap : CMD_BYTES_MAX);
    buf_write_u8(&w, CODEC_VERSION);
    buf_write_u8(&w, cmd->type);
    buf_write_u16(&w, 0);
    buf_write_u64(&w, cmd->client_id);
    buf_write_u64(&w, cmd->idem_key);
    buf_write_u64(&w, cmd->event_id);
    buf_write_u64(&w, cmd->customer_id);
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(w.pos == CODEC_CMD_HEADER_BYTES);
    if (cmd->type == CMD_EVENT_CREATE) {
        size_t body_len = 0;
        rc = codec_event_encode(cmd->u.create.event, w.p + w.pos, w.cap - w.pos, &body_len);
        if (rc != 0) {
            return rc;
        }
        w.pos += body_len;
    } else {
        write_body(&w, cmd);
        if (!w.ok) {
            return USHER_LIMIT_MSG_SIZE;
        }
    }
    ASSERT(w.pos <= CMD_BYTES_MAX);
    *len = w.pos;
    return 0;
}
