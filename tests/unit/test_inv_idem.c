/*
 * Unit tests of idempotency (DESIGN guarantee 4): a command retried with the
 * same client id and key within the window returns the first result with
 * replayed = 1 and no second effect; the same key with another payload is
 * IDEM_KEY_REUSED; a record older than the window is ignored.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "invfix.h"

#define EV    100u
#define T0    INVFIX_T0
#define T1    (T0 + 1000u)
#define TTL   60000u
#define ALICE 1u
#define BOB   2u

/* One seated section of 2 rows of 10 seats, created at T0. */
static int setup(void **state)
{
    assert_int_equal(invfix_setup(state), 0);
    struct invfix *f = *state;
    assert_int_equal(invfix_event_add(f, T0, invfix_event_seated(EV, 2, 10)), 0);
    return 0;
}

/* Asserts r is the replay of first: same outcome, replayed = 1. */
static void assert_replay_of(const struct cmd_result *r, const struct cmd_result *first)
{
    assert_int_equal(r->replayed, 1);
    struct cmd_result expected = *first;
    expected.replayed = 1;
    invfix_assert_result_equal(r, &expected);
}

/* Goal: a retried hold returns the stored result (same id, expiry and
 * seats) with replayed = 1 and changes nothing at all. */
static void test_replay_returns_stored_result_and_changes_nothing(void **state)
{
    struct invfix *f = *state;
    uint32_t seats[2] = { 3, 4 };
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, seats, 2);
    struct cmd_result first = invfix_apply1(f, T1, &c);
    assert_int_equal(first.status, USHER_OK);
    assert_int_equal(first.replayed, 0);
    struct cmd_result again = invfix_apply1_alone(f, T1 + 500, &c);
    assert_replay_of(&again, &first);
    invfix_assert_twin_equal(f);
    /* Also when the hold has ended since: the stored result still wins. */
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, first.id);
    assert_int_equal(invfix_apply1(f, T1 + 600, &rel).status, USHER_OK);
    struct cmd_result late = invfix_apply1_alone(f, T1 + 700, &c);
    assert_replay_of(&late, &first);
    invfix_assert_twin_equal(f);
    assert_true(invfix_seat_is_free(f, EV, 3));
}

/* Goal: a replay inside the same batch sees the first command's stored
 * result and has no second effect. */
static void test_replay_in_same_batch_returns_first_result(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_best(f, EV, ALICE, TTL, 0, 2);
    struct cmd both[2] = { c, c };
    struct cmd_result r[2];
    invfix_apply(f, T1, both, 2, r);
    assert_int_equal(r[0].status, USHER_OK);
    assert_int_equal(r[0].replayed, 0);
    assert_replay_of(&r[1], &r[0]);
    struct inv_availability *a = invfix_avail(f, EV);
    assert_int_equal(a->sections[0].held, 2);
    free(a);
}

/* Goal: only effects are remembered: a refused hold leaves no record, so its
 * retry with the same key runs anew (here it finds the seat freed and takes
 * it); a retry after that success is a replay. */
static void test_retry_of_refusal_runs_anew(void **state)
{
    struct invfix *f = *state;
    uint64_t hold = invfix_hold_one(f, T1, EV, ALICE, TTL, 3);
    struct cmd c = invfix_cmd_hold_seats(f, EV, BOB, TTL, (uint32_t[]){ 3 }, 1);
    struct cmd_result first = invfix_apply1(f, T1 + 1, &c);
    assert_int_equal(first.status, USHER_SEAT_TAKEN);
    struct cmd rel = invfix_cmd_release(f, EV, ALICE, hold);
    assert_int_equal(invfix_apply1(f, T1 + 2, &rel).status, USHER_OK);
    struct cmd_result again = invfix_apply1(f, T1 + 3, &c);
    assert_int_equal(again.status, USHER_OK);
    assert_int_equal(again.replayed, 0);
    assert_false(invfix_seat_is_free(f, EV, 3));
    struct cmd_result third = invfix_apply1(f, T1 + 4, &c);
    assert_replay_of(&third, &again);
    invfix_assert_twin_equal(f);
}

/* Goal: a retried create returns its first result (OK, replayed), not
 * EVENT_EXISTS. */
static void test_replayed_create_returns_first_result(void **state)
{
    struct invfix *f = *state;
    struct event *e = invfix_event_seated(EV + 1, 1, 5);
    struct cmd c = invfix_cmd_create(f, e);
    struct cmd_result first = invfix_apply1(f, T1, &c);
    assert_int_equal(first.status, USHER_OK);
    struct cmd_result again = invfix_apply1_alone(f, T1 + 1, &c);
    assert_int_equal(again.status, USHER_OK);
    assert_replay_of(&again, &first);
    invfix_assert_twin_equal(f);
    event_destroy(e);
}

/* Goal: the same key with another payload is IDEM_KEY_REUSED, takes
 * nothing and is not stored: the first command still replays as before. */
static void test_same_key_other_payload_is_idem_key_reused(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 3 }, 1);
    struct cmd_result first = invfix_apply1(f, T1, &c);
    assert_int_equal(first.status, USHER_OK);
    struct cmd other = c;
    other.u.hold_seats.seats[0] = 4;
    invfix_cmd_seal(&other);
    assert_true(other.digest != c.digest);
    struct cmd_result r = invfix_apply1_alone(f, T1 + 1, &other);
    assert_int_equal(r.status, USHER_IDEM_KEY_REUSED);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(r.id, 0);
    invfix_assert_twin_equal(f);
    assert_true(invfix_seat_is_free(f, EV, 4));
    struct cmd_result again = invfix_apply1_alone(f, T1 + 2, &c);
    assert_replay_of(&again, &first);
    invfix_assert_twin_equal(f);
}

/* Goal: the key belongs to its client: the same key under another client id
 * is another command and runs. */
static void test_same_key_other_client_runs_anew(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 3 }, 1);
    assert_int_equal(invfix_apply1(f, T1, &c).status, USHER_OK);
    struct cmd other = c;
    other.client_id = c.client_id + 1;
    other.u.hold_seats.seats[0] = 4;
    invfix_cmd_seal(&other);
    struct cmd_result r = invfix_apply1(f, T1 + 1, &other);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.replayed, 0);
    assert_false(invfix_seat_is_free(f, EV, 4));
}

/* Goal: 1 ms before the window ends the record still answers; at
 * created + window it is ignored (no sweep ran) and the command runs anew
 * with a new id. */
static void test_record_ignored_from_window_end(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 3 }, 1);
    struct cmd_result first = invfix_apply1(f, T1, &c);
    assert_int_equal(first.status, USHER_OK);
    struct cmd_result inside = invfix_apply1_alone(f, T1 + INVFIX_WINDOW - 1, &c);
    assert_replay_of(&inside, &first);
    invfix_assert_twin_equal(f);
    struct cmd_result anew = invfix_apply1(f, T1 + INVFIX_WINDOW, &c);
    assert_int_equal(anew.status, USHER_OK);
    assert_int_equal(anew.replayed, 0);
    assert_int_equal(anew.id, invfix_id(f->index, 0));
    assert_true(anew.id != first.id);
    assert_int_equal(anew.expires_at_ms, T1 + INVFIX_WINDOW + TTL);
}

/* Goal: after the window, the same key with another payload is no longer
 * IDEM_KEY_REUSED: it runs as a new command. */
static void test_other_payload_after_window_runs_anew(void **state)
{
    struct invfix *f = *state;
    struct cmd c = invfix_cmd_hold_seats(f, EV, ALICE, TTL, (uint32_t[]){ 3 }, 1);
    assert_int_equal(invfix_apply1(f, T1, &c).status, USHER_OK);
    struct cmd other = c;
    other.u.hold_seats.seats[0] = 4;
    invfix_cmd_seal(&other);
    struct cmd_result r = invfix_apply1(f, T1 + INVFIX_WINDOW, &other);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(r.seats[0], 4);
}

/* Goal: inv_options.idem_window_ms sets the window (1 h here). */
static void test_window_comes_from_options(void **state)
{
    (void)state;
    struct invfix g;
    struct inv_options opts = { .map_bytes = INVFIX_MAP_BYTES,
                                .idem_window_ms = 3600000u,
                                .durable = false };
    invfix_open(&g, &opts, true);
    assert_int_equal(invfix_event_add(&g, T0, invfix_event_seated(EV, 1, 10)), 0);
    struct cmd c = invfix_cmd_hold_seats(&g, EV, ALICE, TTL, (uint32_t[]){ 3 }, 1);
    struct cmd_result first = invfix_apply1(&g, T1, &c);
    assert_int_equal(first.status, USHER_OK);
    struct cmd_result inside = invfix_apply1_alone(&g, T1 + 3600000u - 1, &c);
    assert_replay_of(&inside, &first);
    struct cmd_result anew = invfix_apply1(&g, T1 + 3600000u, &c);
    assert_int_equal(anew.status, USHER_OK);
    assert_int_equal(anew.replayed, 0);
    assert_true(anew.id != first.id);
    invfix_close(&g);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, invfix_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_replay_returns_stored_result_and_changes_nothing),
        T(test_replay_in_same_batch_returns_first_result),
        T(test_retry_of_refusal_runs_anew),
        T(test_replayed_create_returns_first_result),
        T(test_same_key_other_payload_is_idem_key_reused),
        T(test_same_key_other_client_runs_anew),
        T(test_record_ignored_from_window_end),
        T(test_other_payload_after_window_runs_anew),
        T(test_window_comes_from_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
