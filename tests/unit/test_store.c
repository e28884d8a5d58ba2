/*
 * The store's disk reservation (src/store.c, docs/STATE.md "A full disk"):
 * a store written through the map has real blocks for the reserve past its
 * last page before a write transaction starts, so a full disk fails a call
 * instead of raising SIGBUS; a durable store (no map writes) reserves nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "limits.h"
#include "store.h"
#include "tempdir.h"

/* Bytes of disk the data file of the store in dir really takes. */
static uint64_t allocated_bytes(const char *dir)
{
    char path[TEMPDIR_PATH_MAX + 16];
    (void)snprintf(path, sizeof(path), "%s/data.mdb", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_blocks * 512u;
}

/* Opens a store, writes one record, and returns the blocks of its file. */
static uint64_t write_one(bool durable)
{
    char dir[TEMPDIR_PATH_MAX];
    assert_int_equal(tempdir_make("store", dir, sizeof(dir)), 0);
    struct store *s = NULL;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(store_open(dir, USHER_STORE_MAP_BYTES_MIN * 4u, durable, &s, errmsg), 0);
    struct store_txn t;
    assert_int_equal(store_txn_begin(s, true, &t), 0);
    assert_int_equal(store_put(&t, STORE_META, "k", 1, "v", 1, 0), 0);
    assert_int_equal(store_txn_commit(&t), 0);
    uint64_t bytes = allocated_bytes(dir);
    store_close(s);
    assert_int_equal(tempdir_remove(dir), 0);
    return bytes;
}

static void test_map_written_store_reserves_blocks(void **state)
{
    (void)state;
    assert_true(write_one(false) >= USHER_STORE_RESERVE_BYTES);
}

static void test_durable_store_reserves_nothing(void **state)
{
    (void)state;
    assert_true(write_one(true) < USHER_STORE_RESERVE_BYTES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_written_store_reserves_blocks),
        cmocka_unit_test(test_durable_store_reserves_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
