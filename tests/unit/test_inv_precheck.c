/*
 * inv_precheck(), the answer a leader under its lease gives without a log
 * entry (docs/REPLICATION.md "Leader lease"): on a long seeded random
 * sequence of every command type, each command is prechecked on the
 * current state and then applied alone on that same state at the same time.
 *
 *   - whenever the precheck decides, the log would have given exactly the
 *     same result (a refusal, or the replay of the first result);
 *   - it decides every refusal of a new hold except the customer's limit
 *     (which needs a scan it leaves to the log);
 *   - it changes nothing (the store's dump is the same before and after).
 *
 * The seed is printed; set USHER_SEED to replay one run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "invfix.h"

#define BATCHES    300u
#define FIXED_SEED 0x1EA5Eu

struct tally {
    uint32_t decided_refusals;
    uint32_t decided_replays;
    uint32_t left;
};

static bool is_new_hold(uint8_t type)
{
    return type == CMD_HOLD_SEATS || type == CMD_HOLD_BEST || type == CMD_HOLD_GA;
}

/* Prechecks c at ts, applies it alone at ts, and compares. */
static void precheck_then_apply(struct invfix *f, uint64_t ts, const struct cmd *c,
                                bool compare_dumps, struct cmd_result *applied, struct tally *t)
{
    char *before = compare_dumps ? invfix_dump(f->inv) : NULL;
    struct cmd_result pre;
    bool decided = false;
    assert_int_equal(inv_precheck(f->inv, c, ts, &pre, &decided), 0);
    if (before != NULL) {
        char *after = invfix_dump(f->inv);
        assert_string_equal(before, after);
        free(after);
        free(before);
    }
    *applied = invfix_apply1(f, ts, c);
    if (decided) {
        invfix_assert_result_equal(&pre, applied);
        if (pre.replayed != 0 || pre.status == USHER_IDEM_KEY_REUSED) {
            t->decided_replays++;
        } else {
            assert_int_not_equal(pre.status, 0);
            t->decided_refusals++;
        }
        return;
    }
    t->left++;
    /* Left to the log: a new hold the state would grant (it may still meet
     * the limit check, or be a retry the log answers with its first
     * result), a command of another kind, or one the log refuses as bad. */
    if (is_new_hold(c->type) && c->client_id != 0 && c->idem_key != 0) {
        assert_true(applied->status == 0 || applied->status == USHER_LIMIT_CUSTOMER_SEATS ||
                    applied->replayed != 0 || applied->status == USHER_IDEM_KEY_REUSED);
    }
}

static void run_seed(uint64_t seed)
{
    printf("test_inv_precheck: seed %llu (replay: USHER_SEED=%llu)\n", (unsigned long long)seed,
           (unsigned long long)seed);
    (void)fflush(stdout);
    struct invfix f;
    invfix_open(&f, NULL, false);
    struct invfix_gen *g = invfix_gen_create(seed);
    struct tally t = { 0 };
    struct cmd cmds[INVFIX_GEN_BATCH_MAX];
    struct cmd_result results[INVFIX_GEN_BATCH_MAX];
    for (uint32_t b = 0; b < BATCHES; b++) {
        uint64_t ts = 0;
        uint32_t n = invfix_gen_batch(g, &f, cmds, &ts);
        for (uint32_t i = 0; i < n; i++) {
            precheck_then_apply(&f, ts, &cmds[i], b % 25 == 0, &results[i], &t);
        }
        invfix_gen_learn(g, cmds, results, n);
    }
    printf("test_inv_precheck: %u refusals and %u replays decided without the log, %u left to "
           "it\n",
           t.decided_refusals, t.decided_replays, t.left);
    /* The sequence exercises every branch this test is about. */
    assert_true(t.decided_refusals >= 100);
    assert_true(t.decided_replays >= 10);
    assert_true(t.left >= 100);
    invfix_gen_destroy(g);
    invfix_close(&f);
}

/* Goal: a precheck that decides agrees with the log, decides every refusal
 * of a new hold but the customer limit, and changes nothing. */
static void test_precheck_agrees_with_the_log(void **state)
{
    (void)state;
    uint64_t seed = 0;
    if (invfix_seed_env(&seed)) {
        run_seed(seed);
        return;
    }
    run_seed(FIXED_SEED);
    run_seed((uint64_t)time(NULL));
}

/* Goal: the precheck of a command without client id or key decides
 * nothing: the log answers it BAD_REQUEST as before. */
static void test_precheck_leaves_unkeyed_commands_to_the_log(void **state)
{
    (void)state;
    struct invfix f;
    invfix_open(&f, NULL, false);
    assert_int_equal(invfix_event_add(&f, 1000, invfix_event_seated(9, 2, 10)), 0);
    const uint32_t seat = 100; /* no such seat: a refusal if it were checked */
    struct cmd c = invfix_cmd_hold_seats(&f, 9, 5, 0, &seat, 1);
    c.idem_key = 0; /* the codec would refuse it; the state machine is the last guard */
    struct cmd_result pre;
    bool decided = true;
    assert_int_equal(inv_precheck(f.inv, &c, 1000, &pre, &decided), 0);
    assert_false(decided);
    assert_int_equal(invfix_apply1(&f, 1000, &c).status, USHER_BAD_REQUEST);
    invfix_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_precheck_agrees_with_the_log),
        cmocka_unit_test(test_precheck_leaves_unkeyed_commands_to_the_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
