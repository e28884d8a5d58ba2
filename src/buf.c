/*
 * Checked little-endian cursors over byte buffers (buf.h).
 *
 * Failure is sticky: the first read (or write) that would cross the end marks
 * the cursor failed and moves nothing. After that every read returns zero (or
 * NULL for bytes), buf_reader_left() returns 0 and every write is dropped, so
 * a decoder can read a whole structure and test `ok` once at the end.
 */
#include "buf.h"

#include <string.h>

#include "assertion.h"

void buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len)
{
    ASSERT(r != NULL);
    ERGO(len > 0, p != NULL);
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->ok = true;
}

/* Returns the next n bytes and skips them, or NULL after marking r failed. */
static const uint8_t *reader_take(struct buf_reader *r, size_t n)
{
    ASSERT(r->pos <= r->len);
    if (!r->ok || n > r->len - r->pos) {
        r->ok = false;
        return NULL;
    }
    const uint8_t *at = r->p + r->pos;
    r->pos += n;
    return at;
}

uint8_t buf_read_u8(struct buf_reader *r)
{
    const uint8_t *at = reader_take(r, 1);
    if (at == NULL) {
        return 0;
    }
    return at[0];
}

uint16_t buf_read_u16(struct buf_reader *r)
{
    const uint8_t *at = reader_take(r, 2);
    if (at == NULL) {
        return 0;
    }
    return (uint16_t)(at[0] | (uint16_t)(at[1] << 8));
}

uint32_t buf_read_u32(struct buf_reader *r)
{
    const uint8_t *at = reader_take(r, 4);
    if (at == NULL) {
        return 0;
    }
    return (uint32_t)at[0] | (uint32_t)at[1] << 8 | (uint32_t)at[2] << 16 | (uint32_t)at[3] << 24;
}

uint64_t buf_read_u64(struct buf_reader *r)
{
    const uint8_t *at = reader_take(r, 8);
    if (at == NULL) {
        return 0;
    }
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) {
        v = v << 8 | at[i];
    }
    return v;
}

const uint8_t *buf_read_bytes(struct buf_reader *r, size_t n)
{
    return reader_take(r, n);
}

size_t buf_reader_left(const struct buf_reader *r)
{
    ASSERT(r->pos <= r->len);
    if (!r->ok) {
        return 0;
    }
    return r->len - r->pos;
}

void buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap)
{
    ASSERT(w != NULL);
    ERGO(cap > 0, p != NULL);
    w->p = p;
    w->cap = cap;
    w->pos = 0;
    w->ok = true;
}

/* Returns room for the next n bytes and claims it, or NULL after marking w failed. */
static uint8_t *writer_take(struct buf_writer *w, size_t n)
{
    ASSERT(w->pos <= w->cap);
    if (!w->ok || n > w->cap - w->pos) {
        w->ok = false;
        return NULL;
    }
    uint8_t *at = w->p + w->pos;
    w->pos += n;
    return at;
}

void buf_write_u8(struct buf_writer *w, uint8_t v)
{
    uint8_t *at = writer_take(w, 1);
    if (at != NULL) {
        at[0] = v;
    }
}

void buf_write_u16(struct buf_writer *w, uint16_t v)
{
    uint8_t *at = writer_take(w, 2);
    if (at != NULL) {
        at[0] = (uint8_t)v;
        at[1] = (uint8_t)(v >> 8);
    }
}

void buf_write_u32(struct buf_writer *w, uint32_t v)
{
    uint8_t *at = writer_take(w, 4);
    if (at != NULL) {
        for (int i = 0; i < 4; i++) {
            at[i] = (uint8_t)(v >> (8 * i));
        }
    }
}

void buf_write_u64(struct buf_writer *w, uint64_t v)
{
    uint8_t *at = writer_take(w, 8);
    if (at != NULL) {
        for (int i = 0; i < 8; i++) {
            at[i] = (uint8_t)(v >> (8 * i));
        }
    }
}

void buf_write_bytes(struct buf_writer *w, const void *src, size_t n)
{
    ERGO(n > 0, src != NULL);
    uint8_t *at = writer_take(w, n);
    if (at != NULL && n > 0) {
        memcpy(at, src, n);
    }
}
