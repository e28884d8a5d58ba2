/*
 * Unit tests of snapshots: export and restore round-trip to an identical
 * dump (into a new store and over an existing one), and a corrupted stream
 * (a byte flipped anywhere, truncated) is refused with BAD_REQUEST or
 * BAD_VERSION and leaves the target store as it was.
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

#define SEED 77u

struct snapfix {
    struct invfix src; /* a store with a random history (and a twin) */
    struct invfix dst; /* a second store with a history of its own */
    struct invfix_gen *gen;
    uint8_t *snap;
    size_t snap_len;
};

/* The source gets 150 random batches, the target 40 of another seed. */
static int setup(void **state)
{
    struct snapfix *s = calloc(1, sizeof *s);
    assert_non_null(s);
    invfix_open(&s->src, NULL, true);
    invfix_open(&s->dst, NULL, false);
    s->gen = invfix_gen_create(SEED);
    invfix_gen_run(s->gen, &s->src, 150, false);
    struct invfix_gen *other = invfix_gen_create(SEED + 1);
    invfix_gen_run(other, &s->dst, 40, false);
    invfix_gen_destroy(other);
    assert_int_equal(inv_snapshot_export(s->src.inv, &s->snap, &s->snap_len), 0);
    assert_non_null(s->snap);
    assert_true(s->snap_len > 0);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct snapfix *s = *state;
    mem_free(s->snap);
    invfix_gen_destroy(s->gen);
    invfix_close(&s->src);
    invfix_close(&s->dst);
    free(s);
    return 0;
}

/* Asserts a and b have byte-identical dumps. */
static void assert_same_dump(struct inv *a, struct inv *b)
{
    char *da = invfix_dump(a);
    char *db = invfix_dump(b);
    invfix_assert_text_equal(da, db);
    free(da);
    free(db);
}

/* Goal: a snapshot restored into a new store gives an identical dump, the
 * same applied index and time, and keeps every invariant; both stores then
 * stay identical under the same further batches. */
static void test_snapshot_restore_into_new_store_same_dump(void **state)
{
    struct snapfix *s = *state;
    struct invfix fresh;
    invfix_open(&fresh, NULL, false);
    assert_int_equal(inv_snapshot_restore(fresh.inv, s->snap, s->snap_len), 0);
    assert_same_dump(s->src.inv, fresh.inv);
    assert_int_equal(inv_applied_index(fresh.inv), inv_applied_index(s->src.inv));
    assert_int_equal(inv_now(fresh.inv), inv_now(s->src.inv));
    invfix_check(fresh.inv);
    /* Go on together: the restored store becomes the twin of the source. */
    struct inv *twin = s->src.twin;
    s->src.twin = fresh.inv;
    invfix_gen_run(s->gen, &s->src, 60, false);
    assert_same_dump(s->src.inv, fresh.inv);
    invfix_check(fresh.inv);
    s->src.twin = twin;
    invfix_close(&fresh);
}

/* Goal: restoring over a store with its own state replaces all of it. */
static void test_snapshot_restore_replaces_existing_state(void **state)
{
    struct snapfix *s = *state;
    assert_int_equal(inv_snapshot_restore(s->dst.inv, s->snap, s->snap_len), 0);
    assert_same_dump(s->src.inv, s->dst.inv);
    invfix_check(s->dst.inv);
}

/* Goal: the snapshot of an empty store round-trips too. */
static void test_snapshot_of_empty_store_round_trips(void **state)
{
    struct snapfix *s = *state;
    struct invfix empty;
    invfix_open(&empty, NULL, false);
    uint8_t *snap = NULL;
    size_t len = 0;
    assert_int_equal(inv_snapshot_export(empty.inv, &snap, &len), 0);
    assert_int_equal(inv_snapshot_restore(s->dst.inv, snap, len), 0);
    assert_same_dump(empty.inv, s->dst.inv);
    assert_int_equal(inv_applied_index(s->dst.inv), 0);
    mem_free(snap);
    invfix_close(&empty);
}

/* Restores the first len bytes of buf into the target and asserts it is
 * refused with BAD_REQUEST or BAD_VERSION and the dump did not change. */
static void refuse_restore(struct snapfix *s, const uint8_t *buf, size_t len, const char *before)
{
    int rc = inv_snapshot_restore(s->dst.inv, buf, len);
    if (rc != USHER_BAD_REQUEST && rc != USHER_BAD_VERSION) {
        print_error("restore of %zu bytes: got %s\n", len, err_name(rc));
    }
    assert_true(rc == USHER_BAD_REQUEST || rc == USHER_BAD_VERSION);
    char *after = invfix_dump(s->dst.inv);
    invfix_assert_text_equal(before, after);
    free(after);
}

/* Goal: a snapshot with one byte flipped is refused and changes nothing,
 * wherever the byte is: every byte of the first 64 and the last 64, and
 * about 200 spread over the rest. */
static void test_corrupted_snapshot_refused_state_unchanged(void **state)
{
    struct snapfix *s = *state;
    char *before = invfix_dump(s->dst.inv);
    uint8_t *copy = malloc(s->snap_len);
    assert_non_null(copy);
    size_t step = s->snap_len / 200 + 1;
    for (size_t pos = 0; pos < s->snap_len; pos++) {
        bool edge = pos < 64 || pos + 64 >= s->snap_len;
        if (!edge && pos % step != 0) {
            continue;
        }
        memcpy(copy, s->snap, s->snap_len);
        copy[pos] ^= (uint8_t)(1u << (pos % 8));
        refuse_restore(s, copy, s->snap_len, before);
    }
    invfix_check(s->dst.inv);
    free(copy);
    free(before);
}

/* Goal: a truncated snapshot (empty, a few bytes, half, all but one byte)
 * is refused and changes nothing. */
static void test_truncated_snapshot_refused_state_unchanged(void **state)
{
    struct snapfix *s = *state;
    char *before = invfix_dump(s->dst.inv);
    size_t lens[6] = { 0, 1, 8, 31, s->snap_len / 2, s->snap_len - 1 };
    for (uint32_t i = 0; i < 6; i++) {
        refuse_restore(s, s->snap, lens[i], before);
    }
    free(before);
}

/* Goal: a snapshot with bytes appended after its end is refused too. */
static void test_snapshot_with_trailing_bytes_refused(void **state)
{
    struct snapfix *s = *state;
    char *before = invfix_dump(s->dst.inv);
    uint8_t *longer = calloc(1, s->snap_len + 4);
    assert_non_null(longer);
    memcpy(longer, s->snap, s->snap_len);
    refuse_restore(s, longer, s->snap_len + 4, before);
    free(longer);
    free(before);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_snapshot_restore_into_new_store_same_dump),
        T(test_snapshot_restore_replaces_existing_state),
        T(test_snapshot_of_empty_store_round_trips),
        T(test_corrupted_snapshot_refused_state_unchanged),
        T(test_truncated_snapshot_refused_state_unchanged),
        T(test_snapshot_with_trailing_bytes_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
