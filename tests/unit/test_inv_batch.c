/*
 * Unit tests of batches: one result per command, a refused command neither
 * stops the batch nor changes anything, later commands see earlier ones,
 * the log index rules (stale index, gaps, the batch limit), and
 * inv_apply_encoded() against inv_apply().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "invfix.h"

#define EV    100u
#define T0    INVFIX_T0
#define T1    (T0 + 1000u)
#define TTL   60000u
#define ALICE 1u
#define BOB   2u
#define CAROL 3u

/* Event EV: S0 seated (2 rows of 10), S1 GA of 5; created at T0. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    struct invfix_section s[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 10 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 5 },
    };
    assert_int_equal(invfix_event_add(f, T0, invfix_event_make(EV, s, 2)), 0);
    return 0;
}

/* Goal: a refused command in the middle of a batch gets its own code, does
 * not stop the commands after it and leaves no trace (no hold, no id). */
static void test_refused_command_in_middle_does_not_abort_batch(void **state)
{
    struct invfix *f = *state;
    struct cmd c[3] = {
        invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 1 }, 1),
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 1, 2 }, 2),
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 2 }, 1),
    };
    struct cmd_result r[3];
    invfix_apply(f, T1, c, 3, r);
    assert_int_equal(r[0].status, USHER_OK);
    assert_int_equal(r[1].status, USHER_SEAT_TAKEN);
    assert_int_equal(r[1].id, 0);
    assert_int_equal(r[1].type, CMD_HOLD_SEATS);
    assert_int_equal(r[2].status, USHER_OK);
    assert_int_equal(r[0].id, invfix_id(f->index, 0));
    assert_int_equal(r[2].id, invfix_id(f->index, 2));
    struct inv_hold h;
    assert_int_equal(inv_hold_get(f->inv, invfix_id(f->index, 1), &h), USHER_HOLD_NOT_FOUND);
    assert_int_equal(invfix_hold(f, r[2].id).customer_id, BOB);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[0].held, 2);
    free(a);
    invfix_check(f->inv);
}

/* Goal: later commands of a batch see the effects of earlier ones: hold then
 * book it; hold, release, and another customer takes the seat. */
static void test_later_commands_see_earlier_effects(void **state)
{
    struct invfix *f = *state;
    uint64_t index = f->index + 1;
    struct cmd c[5] = {
        invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 5 }, 1),
        invfix_cmd_book(f, EV, ALICE, invfix_id(index, 0), "same-batch"),
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 6 }, 1),
        invfix_cmd_release(f, EV, BOB, invfix_id(index, 2)),
        invfix_cmd_hold_seats(f, EV, CAROL, TTL, (uint32_t[]){ 6 }, 1),
    };
    struct cmd_result r[5];
    invfix_apply(f, T1, c, 5, r);
    assert_int_equal(f->index, index);
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(r[i].status, USHER_OK);
        assert_int_equal(r[i].type, c[i].type);
    }
    assert_int_equal(r[1].id, invfix_id(index, 1));
    assert_int_equal(invfix_booking(f, r[1].id).hold_id, invfix_id(index, 0));
    assert_int_equal(r[3].id, invfix_id(index, 2));
    assert_int_equal(invfix_hold(f, r[4].id).customer_id, CAROL);
    invfix_check(f->inv);
}

/* Goal: an event created in a batch can be held from later in that batch. */
static void test_create_then_hold_in_same_batch(void **state)
{
    struct invfix *f = *state;
    struct event *e = invfix_event_seated(EV + 1, 1, 4);
    struct cmd c[2] = {
        invfix_cmd_create(f, e),
        invfix_cmd_hold_best(f, EV + 1, ALICE, TTL, 0, 4),
    };
    struct cmd_result r[2];
    invfix_apply(f, T1, c, 2, r);
    assert_int_equal(r[0].status, USHER_OK);
    assert_int_equal(r[0].id, EV + 1);
    assert_int_equal(r[1].status, USHER_OK);
    assert_int_equal(r[1].seat_count, 4);
    event_destroy(e);
}

/* Goal: an index not above the applied index is STALE_INDEX and changes
 * nothing at all (dump before and after), for the same and a lower index. */
static void test_stale_index_refused_state_unchanged(void **state)
{
    struct invfix *f = *state;
    (void)invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    uint64_t applied = inv_applied_index(f->inv);
    assert_int_equal(applied, f->index);
    char *before = invfix_dump(f->inv);
    struct cmd c = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 1 }, 1);
    uint64_t stale[3] = { applied, applied - 1, 0 };
    for (uint32_t i = 0; i < 3; i++) {
        struct cmd_result r;
        memset(&r, 0, sizeof r);
        assert_int_equal(inv_apply(f->inv, stale[i], T1 + 10, &c, 1, &r), USHER_STALE_INDEX);
        char *after = invfix_dump(f->inv);
        invfix_assert_text_equal(before, after);
        free(after);
    }
    assert_int_equal(inv_applied_index(f->inv), applied);
    assert_int_equal(inv_now(f->inv), T1);
    assert_true(invfix_seat_is_free(f, EV, 1));
    free(before);
}

/* Goal: index 0 is stale even on a new store (applied index 0). */
static void test_index_zero_is_stale_on_new_store(void **state)
{
    (void)state;
    struct invfix g;
    invfix_open(&g, NULL, false);
    assert_int_equal(inv_applied_index(g.inv), 0);
    struct cmd c = invfix_cmd_sweep(1);
    struct cmd_result r;
    assert_int_equal(inv_apply(g.inv, 0, T0, &c, 1, &r), USHER_STALE_INDEX);
    assert_int_equal(inv_apply(g.inv, 1, T0, &c, 1, &r), USHER_OK);
    assert_int_equal(inv_applied_index(g.inv), 1);
    invfix_close(&g);
}

/* Goal: the index may jump (log entries that are not batches): the applied
 * index becomes the batch's and ids follow it. */
static void test_index_may_skip(void **state)
{
    struct invfix *f = *state;
    f->index += 40;
    uint64_t hold = invfix_hold_one(f, T1, EV, ALICE, TTL, 0);
    assert_int_equal(inv_applied_index(f->inv), f->index);
    assert_int_equal(hold, invfix_id(f->index, 0));
}

/* Goal: an empty batch advances the applied index and the time only. */
static void test_empty_batch_advances_index_and_time(void **state)
{
    struct invfix *f = *state;
    invfix_tick(f, T1 + 77);
    assert_int_equal(inv_applied_index(f->inv), f->index);
    assert_int_equal(inv_now(f->inv), T1 + 77);
    invfix_assert_twin_equal(f);
}

/* Goal: a batch of exactly USHER_BATCH_CMDS_MAX commands is applied; one
 * more is LIMIT_BATCH and changes nothing. */
static void test_batch_limit_at_max_and_max_plus_one(void **state)
{
    struct invfix *f = *state;
    uint32_t n = USHER_BATCH_CMDS_MAX + 1;
    struct cmd *c = calloc(n, sizeof *c);
    struct cmd_result *r = calloc(n, sizeof *r);
    assert_non_null(c);
    assert_non_null(r);
    for (uint32_t i = 0; i < n; i++) {
        c[i] = invfix_cmd_sweep(1);
    }
    char *before = invfix_dump(f->inv);
    uint64_t index = f->index + 1;
    assert_int_equal(inv_apply(f->inv, index, T1, c, n, r), USHER_LIMIT_BATCH);
    char *after = invfix_dump(f->inv);
    invfix_assert_text_equal(before, after);
    assert_int_equal(inv_applied_index(f->inv), f->index);
    invfix_apply(f, T1, c, n - 1, r);
    for (uint32_t i = 0; i < n - 1; i++) {
        assert_int_equal(r[i].status, USHER_OK);
    }
    assert_int_equal(inv_applied_index(f->inv), index);
    free(before);
    free(after);
    free(c);
    free(r);
}

/* ---- inv_apply_encoded ---- */

/* Encodes cmds as a batch; returns a malloc'd buffer and its length. */
static uint8_t *encode_batch(uint64_t ts, const struct cmd *cmds, uint32_t n, size_t *len)
{
    uint8_t *buf = malloc((size_t)USHER_BATCH_BYTES_MAX);
    assert_non_null(buf);
    assert_int_equal(codec_batch_encode(ts, cmds, n, buf, (size_t)USHER_BATCH_BYTES_MAX, len), 0);
    return buf;
}

/* Applies cmds with inv_apply() on the store and encoded with
 * inv_apply_encoded() on the twin; asserts equal results and dumps. */
static void apply_both_ways(struct invfix *f, uint64_t ts, const struct cmd *cmds, uint32_t n)
{
    struct cmd_result a[8];
    struct cmd_result b[8];
    assert_true(n <= 8);
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    size_t len = 0;
    uint8_t *buf = encode_batch(ts, cmds, n, &len);
    f->index++;
    assert_int_equal(inv_apply(f->inv, f->index, ts, cmds, n, a), 0);
    uint32_t got = 0;
    int decode_status = -1;
    assert_int_equal(inv_apply_encoded(f->twin, f->index, buf, len, b, &got, &decode_status), 0);
    assert_int_equal(decode_status, 0);
    assert_int_equal(got, n);
    for (uint32_t i = 0; i < n; i++) {
        invfix_assert_result_equal(&a[i], &b[i]);
    }
    invfix_assert_twin_equal(f);
    free(buf);
}

/* Goal: a batch encoded by codec_batch_encode() and applied with
 * inv_apply_encoded() gives the same results and state as inv_apply(), for
 * every command type, refusals included. */
static void test_apply_encoded_matches_apply(void **state)
{
    struct invfix *f = *state;
    struct event *e = invfix_event_seated(EV + 1, 2, 6);
    uint64_t index = f->index + 1;
    struct cmd c1[6] = {
        invfix_cmd_create(f, e),
        invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 7, 3 }, 2),
        invfix_cmd_hold_best(f, EV + 1, BOB, TTL, 0, 3),
        invfix_cmd_hold_ga(f, EV, CAROL, TTL, 1, 2),
        invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 3 }, 1),
        invfix_cmd_hold_ga(f, EV, BOB, TTL, 1, 4),
    };
    apply_both_ways(f, T1, c1, 6);
    struct cmd c2[6] = {
        invfix_cmd_book(f, EV, ALICE, invfix_id(index, 1), "card-4242"),
        invfix_cmd_extend(f, EV + 1, BOB, invfix_id(index, 2), 2 * TTL),
        invfix_cmd_release(f, EV, CAROL, invfix_id(index, 3)),
        invfix_cmd_cancel(f, EV, ALICE, invfix_id(index + 1, 0)),
        invfix_cmd_sweep(10),
        c1[1], /* a replay */
    };
    apply_both_ways(f, T1 + 10, c2, 6);
    struct cmd c3[1] = { invfix_cmd_sweep(USHER_SWEEP_MAX) };
    apply_both_ways(f, T1 + 10ull * TTL, c3, 1);
    event_destroy(e);
}

/* Applies garbage at the next index with inv_apply_encoded() on the store
 * and an empty batch on the twin; asserts the index advanced, the decode
 * status is the codec's own, and the state matches the twin. */
static void apply_garbage(struct invfix *f, const uint8_t *buf, size_t len)
{
    struct cmd decoded[4];
    uint64_t ts = 0;
    uint32_t n = 0;
    int expected = codec_batch_decode(buf, len, &ts, decoded, 4, &n);
    assert_int_not_equal(expected, 0);
    struct cmd_result r[4];
    uint32_t got = 99;
    int decode_status = 0;
    f->index++;
    assert_int_equal(inv_apply_encoded(f->inv, f->index, buf, len, r, &got, &decode_status), 0);
    assert_int_equal(decode_status, expected);
    assert_int_equal(got, 0);
    assert_int_equal(inv_applied_index(f->inv), f->index);
    struct cmd none;
    memset(&none, 0, sizeof none);
    assert_int_equal(inv_apply(f->twin, f->index, 0, &none, 0, r), 0);
    invfix_assert_twin_equal(f);
}

/* Goal: bytes that do not decode are applied as an empty batch: the index
 * advances, nothing else changes, and *decode_status reports the codec's
 * code (random bytes, a bad magic, a truncated batch, a bad version). */
static void test_apply_encoded_garbage_advances_index(void **state)
{
    struct invfix *f = *state;
    uint8_t junk[40];
    for (uint32_t i = 0; i < sizeof junk; i++) {
        junk[i] = (uint8_t)(i * 37u + 11u);
    }
    apply_garbage(f, junk, sizeof junk);
    struct cmd c[2] = {
        invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 1 }, 1),
        invfix_cmd_hold_ga(f, EV, ALICE, TTL, 1, 1),
    };
    size_t len = 0;
    uint8_t *buf = encode_batch(T1, c, 2, &len);
    apply_garbage(f, buf, len - 1);
    apply_garbage(f, buf, CODEC_BATCH_HEADER_BYTES - 1);
    buf[1] = 99; /* version */
    apply_garbage(f, buf, len);
    buf[1] = CODEC_VERSION;
    buf[0] = 'X'; /* magic */
    apply_garbage(f, buf, len);
    assert_true(invfix_seat_is_free(f, EV, 1));
    free(buf);
}

/* Goal: inv_apply_encoded() refuses a stale index like inv_apply(). */
static void test_apply_encoded_stale_index(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 1 }, 1);
    size_t len = 0;
    uint8_t *buf = encode_batch(T1, &c, 1, &len);
    char *before = invfix_dump(f->inv);
    struct cmd_result r;
    uint32_t n = 0;
    int decode_status = 0;
    assert_int_equal(inv_apply_encoded(f->inv, f->index, buf, len, &r, &n, &decode_status),
                     USHER_STALE_INDEX);
    char *after = invfix_dump(f->inv);
    invfix_assert_text_equal(before, after);
    free(before);
    free(after);
    free(buf);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_refused_command_in_middle_does_not_abort_batch),
        T(test_later_commands_see_earlier_effects),
        T(test_create_then_hold_in_same_batch),
        T(test_stale_index_refused_state_unchanged),
        T(test_index_zero_is_stale_on_new_store),
        T(test_index_may_skip),
        T(test_empty_batch_advances_index_and_time),
        T(test_batch_limit_at_max_and_max_plus_one),
        T(test_apply_encoded_matches_apply),
        T(test_apply_encoded_garbage_advances_index),
        T(test_apply_encoded_stale_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
