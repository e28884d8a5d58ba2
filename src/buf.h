/*
 * Checked cursors over byte buffers, little-endian (the codec's formats).
 *
 * A reader never reads past its end: once a read fails, the reader is marked
 * failed, every later read returns zeros, and reader.ok stays false. Decoders
 * read a whole structure, then check ok once. Writers likewise refuse to
 * write past their capacity and record the failure in ok.
 */
#ifndef USHER_SRC_BUF_H
#define USHER_SRC_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* usher stores records in host order and swaps key bytes: little-endian only. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "usher needs a little-endian host");

struct buf_reader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool ok;
};

struct buf_writer {
    uint8_t *p;
    size_t cap;
    size_t pos;
    bool ok;
};

/* Starts a reader over len bytes at p (borrowed for the reader's life). */
void buf_reader_init(struct buf_reader *r, const uint8_t *p, size_t len);
uint8_t buf_read_u8(struct buf_reader *r);
uint16_t buf_read_u16(struct buf_reader *r);
uint32_t buf_read_u32(struct buf_reader *r);
uint64_t buf_read_u64(struct buf_reader *r);
/* Returns a pointer to the next n bytes and skips them, or NULL (and fails). */
const uint8_t *buf_read_bytes(struct buf_reader *r, size_t n);
/* Returns the bytes not read yet. */
size_t buf_reader_left(const struct buf_reader *r);

/* Starts a writer over cap bytes at p (borrowed). */
void buf_writer_init(struct buf_writer *w, uint8_t *p, size_t cap);
void buf_write_u8(struct buf_writer *w, uint8_t v);
void buf_write_u16(struct buf_writer *w, uint16_t v);
void buf_write_u32(struct buf_writer *w, uint32_t v);
void buf_write_u64(struct buf_writer *w, uint64_t v);
void buf_write_bytes(struct buf_writer *w, const void *src, size_t n);

/* Big-endian helpers for LMDB keys, whose order must follow numeric order.
 * Inline: every store key goes through them on the apply path. */
static inline void buf_put_be64(uint8_t *p, uint64_t v)
{
    uint64_t be = __builtin_bswap64(v);
    memcpy(p, &be, sizeof(be));
}

static inline uint64_t buf_get_be64(const uint8_t *p)
{
    uint64_t be;
    memcpy(&be, p, sizeof(be));
    return __builtin_bswap64(be);
}

static inline void buf_put_be32(uint8_t *p, uint32_t v)
{
    uint32_t be = __builtin_bswap32(v);
    memcpy(p, &be, sizeof(be));
}

static inline uint32_t buf_get_be32(const uint8_t *p)
{
    uint32_t be;
    memcpy(&be, p, sizeof(be));
    return __builtin_bswap32(be);
}

#endif
