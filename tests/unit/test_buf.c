/* Unit tests of the checked byte cursors (src/buf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"

/* Goal: every width reads back what was written, little-endian on the wire. */
static void test_buf_round_trip_is_little_endian(void **state)
{
    (void)state;
    uint8_t mem[15];
    struct buf_writer w;
    buf_writer_init(&w, mem, sizeof(mem));
    buf_write_u8(&w, 0x01);
    buf_write_u16(&w, 0x0302);
    buf_write_u32(&w, 0x07060504u);
    buf_write_u64(&w, 0x0f0e0d0c0b0a0908ull);
    assert_true(w.ok);
    assert_int_equal(w.pos, 15);
    for (uint8_t i = 0; i < 15; i++) {
        assert_int_equal(mem[i], i + 1);
    }
    struct buf_reader r;
    buf_reader_init(&r, mem, sizeof(mem));
    assert_int_equal(buf_read_u8(&r), 0x01);
    assert_int_equal(buf_read_u16(&r), 0x0302);
    assert_int_equal(buf_read_u32(&r), 0x07060504u);
    assert_true(buf_read_u64(&r) == 0x0f0e0d0c0b0a0908ull);
    assert_true(r.ok);
    assert_int_equal(buf_reader_left(&r), 0);
}

/* Goal: a read that crosses the end fails, consumes nothing and returns 0. */
static void test_buf_read_past_end_fails_and_returns_zero(void **state)
{
    (void)state;
    const uint8_t mem[3] = { 0xaa, 0xbb, 0xcc };
    struct buf_reader r;
    buf_reader_init(&r, mem, sizeof(mem));
    assert_int_equal(buf_read_u32(&r), 0);
    assert_false(r.ok);
    assert_int_equal(r.pos, 0);
    assert_int_equal(buf_reader_left(&r), 0);
}

/* Goal: failure is sticky: after one failed read, reads that would fit still
 * return zero and the reader stays failed. */
static void test_buf_reader_failure_is_sticky(void **state)
{
    (void)state;
    const uint8_t mem[4] = { 1, 2, 3, 4 };
    struct buf_reader r;
    buf_reader_init(&r, mem, sizeof(mem));
    assert_int_equal(buf_read_u16(&r), 0x0201);
    assert_int_equal(buf_read_u64(&r), 0);
    assert_false(r.ok);
    assert_int_equal(buf_read_u8(&r), 0);
    assert_int_equal(buf_read_u16(&r), 0);
    assert_null(buf_read_bytes(&r, 0));
    assert_null(buf_read_bytes(&r, 1));
    assert_false(r.ok);
    assert_int_equal(r.pos, 2);
}

/* Goal: buf_read_bytes returns the bytes in place, and a zero-length read at
 * the end succeeds while one byte more fails. */
static void test_buf_read_bytes_exact_end(void **state)
{
    (void)state;
    const uint8_t mem[5] = { 9, 8, 7, 6, 5 };
    struct buf_reader r;
    buf_reader_init(&r, mem, sizeof(mem));
    const uint8_t *p = buf_read_bytes(&r, 5);
    assert_ptr_equal(p, mem);
    assert_int_equal(buf_reader_left(&r), 0);
    assert_non_null(buf_read_bytes(&r, 0));
    assert_true(r.ok);
    assert_null(buf_read_bytes(&r, 1));
    assert_false(r.ok);
}

/* Goal: a huge length (as read from hostile input) fails without overflow. */
static void test_buf_read_bytes_huge_length_fails(void **state)
{
    (void)state;
    const uint8_t mem[8] = { 0 };
    struct buf_reader r;
    buf_reader_init(&r, mem, sizeof(mem));
    assert_int_equal(buf_read_u8(&r), 0);
    assert_null(buf_read_bytes(&r, SIZE_MAX));
    assert_false(r.ok);
}

/* Goal: an empty reader over NULL is valid and fails on the first read. */
static void test_buf_empty_reader(void **state)
{
    (void)state;
    struct buf_reader r;
    buf_reader_init(&r, NULL, 0);
    assert_true(r.ok);
    assert_int_equal(buf_reader_left(&r), 0);
    assert_int_equal(buf_read_u8(&r), 0);
    assert_false(r.ok);
}

/* Goal: a write that does not fit writes nothing, fails, and later writes
 * that would fit are dropped too. */
static void test_buf_writer_overflow_is_sticky_and_writes_nothing(void **state)
{
    (void)state;
    uint8_t mem[6];
    memset(mem, 0xee, sizeof(mem));
    struct buf_writer w;
    buf_writer_init(&w, mem, 5);
    buf_write_u32(&w, 0x11223344u);
    buf_write_u16(&w, 0x5566);
    assert_false(w.ok);
    assert_int_equal(w.pos, 4);
    assert_int_equal(mem[4], 0xee);
    buf_write_u8(&w, 0x77);
    assert_false(w.ok);
    assert_int_equal(mem[4], 0xee);
    assert_int_equal(mem[5], 0xee);
    assert_int_equal(w.pos, 4);
}

/* Goal: bytes write exactly up to the capacity, and a zero-length write of
 * NULL is allowed. */
static void test_buf_write_bytes_to_exact_capacity(void **state)
{
    (void)state;
    uint8_t mem[4];
    struct buf_writer w;
    buf_writer_init(&w, mem, sizeof(mem));
    buf_write_bytes(&w, "abcd", 4);
    buf_write_bytes(&w, NULL, 0);
    assert_true(w.ok);
    assert_memory_equal(mem, "abcd", 4);
    buf_write_bytes(&w, "e", 1);
    assert_false(w.ok);
}

/* Goal: big-endian helpers round-trip and order keys as numbers. */
static void test_buf_big_endian_orders_like_numbers(void **state)
{
    (void)state;
    uint8_t a[8];
    uint8_t b[8];
    buf_put_be64(a, 0x00000000000000ffull);
    buf_put_be64(b, 0x0000000000000100ull);
    assert_true(memcmp(a, b, 8) < 0);
    assert_true(buf_get_be64(a) == 0xffull);
    buf_put_be64(a, 0x0102030405060708ull);
    assert_int_equal(a[0], 1);
    assert_int_equal(a[7], 8);
    assert_true(buf_get_be64(a) == 0x0102030405060708ull);
    uint8_t c[4];
    buf_put_be32(c, 0xa1b2c3d4u);
    assert_int_equal(c[0], 0xa1);
    assert_int_equal(c[3], 0xd4);
    assert_int_equal(buf_get_be32(c), 0xa1b2c3d4u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf_round_trip_is_little_endian),
        cmocka_unit_test(test_buf_read_past_end_fails_and_returns_zero),
        cmocka_unit_test(test_buf_reader_failure_is_sticky),
        cmocka_unit_test(test_buf_read_bytes_exact_end),
        cmocka_unit_test(test_buf_read_bytes_huge_length_fails),
        cmocka_unit_test(test_buf_empty_reader),
        cmocka_unit_test(test_buf_writer_overflow_is_sticky_and_writes_nothing),
        cmocka_unit_test(test_buf_write_bytes_to_exact_capacity),
        cmocka_unit_test(test_buf_big_endian_orders_like_numbers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
