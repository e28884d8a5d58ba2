/*
 * Batch format: one Raft log entry (codec.h, docs/CODEC.md "Batch").
 *
 *   offset  size  field
 *        0     1  magic 'B' (CODEC_BATCH_MAGIC)
 *        1     1  version (= CODEC_VERSION)
 *        2     2  count (<= USHER_BATCH_CMDS_MAX)
 *        4     4  reserved (= 0)
 *        8     8  ts_ms: the leader's stamp (DESIGN guarantee 3)
 *       16     -  count x (u32 len | len bytes of one command)
 *
 * A batch is all or nothing: if one command does not decode, the whole batch
 * is refused and every command decoded before it is released.
 */
#include "codec.h"

#include <assert.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"

/* The limits as sizes: they are compared with in-memory lengths. */
#define BATCH_BYTES_MAX ((size_t)USHER_BATCH_BYTES_MAX)
#define CMD_BYTES_MAX   ((size_t)USHER_CMD_BYTES_MAX)

static_assert(CODEC_BATCH_HEADER_BYTES == 1 + 1 + 2 + 4 + 8, "batch header layout");
static_assert(USHER_BATCH_CMDS_MAX <= UINT16_MAX, "count is a u16");
static_assert(USHER_CMD_BYTES_MAX <= USHER_BATCH_BYTES_MAX, "a command fits a batch");

void codec_batch_header_encode(uint8_t *buf, uint16_t count, uint64_t ts_ms)
{
    ASSERT(buf != NULL);
    ASSERT(count <= USHER_BATCH_CMDS_MAX);
    struct buf_writer w;
    buf_writer_init(&w, buf, CODEC_BATCH_HEADER_BYTES);
    buf_write_u8(&w, CODEC_BATCH_MAGIC);
    buf_write_u8(&w, CODEC_VERSION);
    buf_write_u16(&w, count);
    buf_write_u32(&w, 0);
    buf_write_u64(&w, ts_ms);
    ASSERT(w.ok);
    ASSERT(w.pos == CODEC_BATCH_HEADER_BYTES);
}

/* The room a batch may use in a buffer of cap bytes. */
static size_t batch_cap(size_t cap)
{
    return cap < BATCH_BYTES_MAX ? cap : BATCH_BYTES_MAX;
}

int codec_batch_append(uint8_t *buf, size_t cap, size_t *used, const uint8_t *cmd_bytes,
                       size_t cmd_len)
{
    ASSERT(used != NULL);
    ASSERT(*used >= CODEC_BATCH_HEADER_BYTES);
    ASSERT(*used <= batch_cap(cap));
    if (cmd_len > CMD_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf + *used, batch_cap(cap) - *used);
    buf_write_u32(&w, (uint32_t)cmd_len);
    buf_write_bytes(&w, cmd_bytes, cmd_len);
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    *used += w.pos;
    return 0;
}

int codec_batch_encode(uint64_t ts_ms, const struct cmd *cmds, uint32_t n, uint8_t *buf, size_t cap,
                       size_t *len)
{
    ASSERT(len != NULL);
    ERGO(n > 0, cmds != NULL);
    if (n > USHER_BATCH_CMDS_MAX) {
        return USHER_LIMIT_BATCH;
    }
    size_t room = batch_cap(cap);
    if (room < CODEC_BATCH_HEADER_BYTES) {
        return USHER_LIMIT_MSG_SIZE;
    }
    codec_batch_header_encode(buf, (uint16_t)n, ts_ms);
    size_t used = CODEC_BATCH_HEADER_BYTES;
    for (uint32_t i = 0; i < n; i++) {
        /* Encode in place after a 4-byte gap, then fill in the length. */
        if (room - used < 4) {
            return USHER_LIMIT_MSG_SIZE;
        }
        size_t cmd_len = 0;
        int rc = codec_cmd_encode(&cmds[i], buf + used + 4, room - used - 4, &cmd_len);
        if (rc != 0) {
            return rc;
        }
        struct buf_writer w;
        buf_writer_init(&w, buf + used, 4);
        buf_write_u32(&w, (uint32_t)cmd_len);
        ASSERT(w.ok);
        used += 4 + cmd_len;
    }
    ASSERT(used <= BATCH_BYTES_MAX);
    *len = used;
    return 0;
}

/* Releases the first n decoded commands. */
static void release_all(struct cmd *cmds, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        codec_cmd_release(&cmds[i]);
    }
}

/* Decodes the count commands that follow the header into cmds. On failure
 * the ones decoded so far are released. */
static int read_cmds(struct buf_reader *r, uint16_t count, struct cmd *cmds)
{
    for (uint32_t i = 0; i < count; i++) {
        uint32_t cmd_len = buf_read_u32(r);
        const uint8_t *bytes = r->ok ? buf_read_bytes(r, cmd_len) : NULL;
        int rc = bytes == NULL ? USHER_BAD_REQUEST : codec_cmd_decode(bytes, cmd_len, &cmds[i]);
        if (rc != 0) {
            release_all(cmds, i);
            return rc;
        }
    }
    if (buf_reader_left(r) != 0) {
        release_all(cmds, count);
        return USHER_BAD_REQUEST;
    }
    return 0;
}

int codec_batch_decode(const uint8_t *buf, size_t len, uint64_t *ts_ms, struct cmd *cmds,
                       uint32_t cap, uint32_t *n)
{
    ASSERT(ts_ms != NULL);
    ASSERT(n != NULL);
    ERGO(cap > 0, cmds != NULL);
    if (len > BATCH_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    uint8_t magic = buf_read_u8(&r);
    uint8_t version = buf_read_u8(&r);
    if (!r.ok || magic != CODEC_BATCH_MAGIC) {
        return USHER_BAD_REQUEST;
    }
    if (version != CODEC_VERSION) {
        return USHER_BAD_VERSION;
    }
    uint16_t count = buf_read_u16(&r);
    uint32_t reserved = buf_read_u32(&r);
    uint64_t stamp = buf_read_u64(&r);
    if (!r.ok || reserved != 0) {
        return USHER_BAD_REQUEST;
    }
    if (count > USHER_BATCH_CMDS_MAX || count > cap) {
        return USHER_LIMIT_BATCH;
    }
    int rc = read_cmds(&r, count, cmds);
    if (rc != 0) {
        return rc;
    }
    *ts_ms = stamp;
    *n = count;
    return 0;
}

int codec_batch_framed_length(const uint8_t *buf, size_t len, size_t *exact)
{
    ASSERT(exact != NULL);
    struct buf_reader r;
    buf_reader_init(&r, buf, len > BATCH_BYTES_MAX + 8u ? BATCH_BYTES_MAX + 8u : len);
    uint8_t magic = buf_read_u8(&r);
    uint8_t version = buf_read_u8(&r);
    if (!r.ok || magic != CODEC_BATCH_MAGIC) {
        return USHER_BAD_REQUEST;
    }
    if (version != CODEC_VERSION) {
        return USHER_BAD_VERSION;
    }
    uint16_t count = buf_read_u16(&r);
    (void)buf_read_u32(&r); /* reserved: checked by the decoder */
    (void)buf_read_u64(&r); /* stamp */
    if (count > USHER_BATCH_CMDS_MAX) {
        return USHER_LIMIT_BATCH;
    }
    for (uint16_t i = 0; i < count && r.ok; i++) {
        uint32_t cmd_len = buf_read_u32(&r);
        (void)buf_read_bytes(&r, cmd_len);
    }
    if (!r.ok) {
        return USHER_BAD_REQUEST;
    }
    *exact = r.pos;
    return 0;
}
