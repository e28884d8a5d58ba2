/*
 * Unit tests of the memory error paths of the state machine (STYLE.md
 * 10.2): allocations fail through mem_fault_after(), the calls that may
 * allocate report it, leak nothing (ASan, valgrind) and leave the store
 * usable and unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"
#include "mem.h"

#define EV 100u
#define T0 INVFIX_T0

/* Allocations after which every tried call has surely succeeded. */
#define FAULT_STEPS 64

/* One event of 2 rows of 10 seats and a hold, created at T0. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup_single(state), 0);
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(EV, 2, 10)), 0);
    (void)invfix_hold_one(f, T0 + 1, EV, 1, 60000, 3);
    return 0;
}

/* Goal: inv_open() fails cleanly (an error code, no store, no leak) when
 * any of its allocations fails, and succeeds once enough are allowed. */
static void test_open_fails_cleanly_without_memory(void **state)
{
    struct invfix *f = *state;
    bool opened = false;
    for (long after = 0; after < FAULT_STEPS && !opened; after++) {
        char dir[TEMPDIR_PATH_MAX];
        assert_int_equal(tempdir_make("mem", dir, sizeof dir), 0);
        struct inv_options opts = { .map_bytes = INVFIX_MAP_BYTES,
                                    .idem_window_ms = 0,
                                    .durable = false };
        struct inv *inv = NULL;
        char errmsg[USHER_ERRMSG_MAX] = { 0 };
        mem_fault_after(after);
        int rc = inv_open(dir, &opts, &inv, errmsg);
        mem_fault_reset();
        if (rc == 0) {
            assert_non_null(inv);
            opened = true;
            inv_close(inv);
        } else {
            assert_true(err_is_known(rc));
        }
        assert_int_equal(tempdir_remove(dir), 0);
    }
    assert_true(opened);
    invfix_check(f->inv);
}

/* Goal: inv_event_get() reports NOMEM when it cannot copy the event, and
 * works again afterwards. */
static void test_event_get_without_memory_is_nomem(void **state)
{
    struct invfix *f = *state;
    struct event *e = NULL;
    mem_fault_after(0);
    int rc = inv_event_get(f->inv, EV, &e);
    mem_fault_reset();
    assert_int_equal(rc, USHER_NOMEM);
    assert_int_equal(inv_event_get(f->inv, EV, &e), 0);
    assert_int_equal(e->seat_count, 20);
    event_destroy(e);
}

/* Goal: inv_snapshot_export() reports NOMEM at any failing allocation,
 * changes nothing, and works again afterwards. */
static void test_snapshot_export_without_memory_is_nomem(void **state)
{
    struct invfix *f = *state;
    char *before = invfix_dump(f->inv);
    bool exported = false;
    for (long after = 0; after < FAULT_STEPS && !exported; after++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        mem_fault_after(after);
        int rc = inv_snapshot_export(f->inv, &buf, &len);
        mem_fault_reset();
        if (rc == 0) {
            exported = true;
            assert_non_null(buf);
            mem_free(buf);
        } else {
            assert_int_equal(rc, USHER_NOMEM);
        }
    }
    assert_true(exported);
    char *after_dump = invfix_dump(f->inv);
    invfix_assert_text_equal(before, after_dump);
    free(before);
    free(after_dump);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_open_fails_cleanly_without_memory),
        T(test_event_get_without_memory_is_nomem),
        T(test_snapshot_export_without_memory_is_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
