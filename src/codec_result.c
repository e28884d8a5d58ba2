/*
 * Result format: the answer to one command, sent to clients and stored in the
 * idempotency table (codec.h, docs/CODEC.md "Result").
 *
 *   offset  size  field
 *        0     1  version (= CODEC_VERSION)
 *        1     1  type (enum cmd_type of the command; echoed, not checked)
 *        2     2  status (enum usher_err; not checked, so newer codes pass)
 *        4     8  id
 *       12     8  expires_at_ms
 *       20     4  swept
 *       24     1  more (0 or 1)
 *       25     1  replayed (0 or 1: answered from the idempotency table)
 *       26     2  seat_count (<= USHER_HOLD_SEATS_MAX)
 *       28     -  seat_count x u32 seat
 *
 * A stored result always has replayed 0; the node sets it when it answers a
 * retry from the idempotency table, so the client can tell.
 */
#include "codec.h"

#include <assert.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"

#define RESULT_HEAD_BYTES 28u

static_assert(RESULT_HEAD_BYTES == 1 + 1 + 2 + 8 + 8 + 4 + 1 + 1 + 2, "result layout");
static_assert(RESULT_HEAD_BYTES + 4u * USHER_HOLD_SEATS_MAX <= USHER_RESULT_BYTES_MAX,
              "the largest result fits a stored result");

int codec_result_encode(const struct cmd_result *r, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(r != NULL);
    ASSERT(len != NULL);
    /* Results are built by the state machine, never read from outside. */
    ASSERT(r->seat_count <= USHER_HOLD_SEATS_MAX);
    ASSERT(r->more <= 1);
    ASSERT(r->replayed <= 1);
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u8(&w, CODEC_VERSION);
    buf_write_u8(&w, r->type);
    buf_write_u16(&w, r->status);
    buf_write_u64(&w, r->id);
    buf_write_u64(&w, r->expires_at_ms);
    buf_write_u32(&w, r->swept);
    buf_write_u8(&w, r->more);
    buf_write_u8(&w, r->replayed);
    buf_write_u16(&w, r->seat_count);
    for (uint32_t i = 0; i < r->seat_count; i++) {
        buf_write_u32(&w, r->seats[i]);
    }
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(w.pos <= USHER_RESULT_BYTES_MAX);
    *len = w.pos;
    return 0;
}

int codec_result_decode(const uint8_t *buf, size_t len, struct cmd_result *r)
{
    ASSERT(r != NULL);
    struct buf_reader rd;
    buf_reader_init(&rd, buf, len);
    uint8_t version = buf_read_u8(&rd);
    if (!rd.ok) {
        return USHER_BAD_REQUEST;
    }
    if (version != CODEC_VERSION) {
        return USHER_BAD_VERSION;
    }
    struct cmd_result res;
    memset(&res, 0, sizeof(res));
    res.type = buf_read_u8(&rd);
    res.status = buf_read_u16(&rd);
    res.id = buf_read_u64(&rd);
    res.expires_at_ms = buf_read_u64(&rd);
    res.swept = buf_read_u32(&rd);
    res.more = buf_read_u8(&rd);
    res.replayed = buf_read_u8(&rd);
    res.seat_count = buf_read_u16(&rd);
    if (!rd.ok || res.more > 1 || res.replayed > 1 || res.seat_count > USHER_HOLD_SEATS_MAX) {
        return USHER_BAD_REQUEST;
    }
    for (uint32_t i = 0; i < res.seat_count; i++) {
        res.seats[i] = buf_read_u32(&rd);
    }
    if (!rd.ok || buf_reader_left(&rd) != 0) {
        return USHER_BAD_REQUEST;
    }
    *r = res;
    return 0;
}
