/*
 * The vote guard of a replica that rejoins after losing its data
 * (raft/vote_guard.h), on real files in a temporary folder:
 *
 *   - armed on a folder without a guard file, it writes "pending" before
 *     anything else and refuses every term; a reopen keeps it pending;
 *   - the first leader heard sets the target; the guard lifts only when the
 *     applied index reaches that leader's commit index, writes the floor
 *     first, and then allows terms above the floor only, also after a reopen;
 *   - not armed and no file: every term is allowed and no file is written;
 *   - a damaged guard file is refused (the replica must not vote blind);
 *   - watching (no Raft state, no rejoin flag) is kept in the file across a
 *     restart until decided: a new cluster removes the file, a cluster that
 *     ran arms the guard.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "err.h"
#include "vote_guard.h"

struct folder {
    char dir[64];
    char file[128];
};

static void folder_make(struct folder *f)
{
    (void)snprintf(f->dir, sizeof(f->dir), "/tmp/usher-vote-guard.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    (void)snprintf(f->file, sizeof(f->file), "%s/%s", f->dir, VOTE_GUARD_FILE);
}

static void folder_remove(struct folder *f)
{
    (void)unlink(f->file);
    assert_int_equal(rmdir(f->dir), 0);
}

/* The guard file's text, or "" when it does not exist. */
static const char *file_text(const struct folder *f)
{
    static char text[64];
    memset(text, 0, sizeof(text));
    FILE *fp = fopen(f->file, "r");
    if (fp != NULL) {
        (void)fread(text, 1, sizeof(text) - 1, fp);
        (void)fclose(fp);
    }
    return text;
}

/* Goal: an armed guard refuses every term until a leader caught it up, and
 * survives a restart while pending. */
static void test_pending_refuses_every_term(void **state)
{
    (void)state;
    struct folder f = { { 0 }, { 0 } };
    folder_make(&f);
    struct vote_guard v;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(&v, f.dir, true, true, errmsg), 0);
    assert_true(v.armed && v.pending);
    assert_string_equal(file_text(&f), "pending\n");
    assert_false(vote_guard_allows(&v, 1));
    assert_false(vote_guard_allows(&v, 1000000));
    bool lifted = true;
    assert_int_equal(vote_guard_catch_up(&v, 500, 3, &lifted, errmsg), 0);
    assert_false(lifted); /* no leader heard yet: applied alone proves nothing */
    assert_int_equal(vote_guard_open(&v, f.dir, false, false, errmsg), 0);
    assert_true(v.armed && v.pending); /* the file, not the flag, decides now */
    folder_remove(&f);
}

/* Goal: the guard takes a leader's commit index as the target only once
 * it covers an entry of that leader's own term (before, a new leader's
 * commit index may be stale: libraft keeps it in memory only), lifts there,
 * writes the floor first, and then allows only terms above it. */
static void test_lifts_at_the_leaders_commit(void **state)
{
    (void)state;
    struct folder f = { { 0 }, { 0 } };
    folder_make(&f);
    struct vote_guard v;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(&v, f.dir, true, true, errmsg), 0);
    vote_guard_heard_leader(&v, 6, 30, 0);   /* a commit index, no own-term entry seen */
    vote_guard_heard_leader(&v, 7, 0, 0);    /* a newer leader: starts over */
    vote_guard_heard_leader(&v, 7, 90, 100); /* its own entry at 100, commit behind it */
    bool lifted = true;
    assert_int_equal(vote_guard_catch_up(&v, 95, 7, &lifted, errmsg), 0);
    assert_false(lifted); /* past the stale commit index 90: not enough */
    assert_false(v.target_fixed);
    vote_guard_heard_leader(&v, 6, 500, 400); /* an older leader's word: ignored */
    assert_false(v.target_fixed);
    vote_guard_heard_leader(&v, 7, 120, 0); /* 120 >= 100: the commit index is current */
    assert_true(v.target_fixed);
    assert_int_equal(v.target_index, 120);
    vote_guard_heard_leader(&v, 9, 400, 300); /* fixed: a later leader changes nothing */
    assert_int_equal(v.target_index, 120);
    assert_int_equal(vote_guard_catch_up(&v, 119, 7, &lifted, errmsg), 0);
    assert_false(lifted);
    assert_false(vote_guard_allows(&v, 8));
    assert_string_equal(file_text(&f), "pending\n");
    assert_int_equal(vote_guard_catch_up(&v, 120, 7, &lifted, errmsg), 0);
    assert_true(lifted);
    assert_string_equal(file_text(&f), "floor 7\n");
    assert_false(vote_guard_allows(&v, 6));
    assert_false(vote_guard_allows(&v, 7)); /* the term whose vote it may have forgotten */
    assert_true(vote_guard_allows(&v, 8));
    assert_int_equal(vote_guard_catch_up(&v, 121, 7, &lifted, errmsg), 0);
    assert_false(lifted); /* once */
    assert_int_equal(vote_guard_open(&v, f.dir, false, false, errmsg), 0);
    assert_true(v.armed && !v.pending);
    assert_int_equal(v.floor, 7);
    assert_false(vote_guard_allows(&v, 7));
    assert_true(vote_guard_allows(&v, 8));
    folder_remove(&f);
}

/* Goal: a replica that was never told it rejoins votes as raft says. */
static void test_unarmed_allows_and_writes_nothing(void **state)
{
    (void)state;
    struct folder f = { { 0 }, { 0 } };
    folder_make(&f);
    struct vote_guard v;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(&v, f.dir, false, false, errmsg), 0);
    assert_false(v.armed);
    assert_true(vote_guard_allows(&v, 1));
    vote_guard_heard_leader(&v, 3, 10, 5);
    bool lifted = true;
    assert_int_equal(vote_guard_catch_up(&v, 10, 3, &lifted, errmsg), 0);
    assert_false(lifted);
    assert_int_equal(access(f.file, F_OK), -1);
    folder_remove(&f);
}

/* Goal: a damaged guard file stops the replica instead of letting it vote. */
static void test_damaged_file_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = { "",
                                       "floor\n",
                                       "floor 0\n",
                                       "floor 12x\n",
                                       "pending",
                                       "floor 5\nfloor 6\n",
                                       "floor -5\n",
                                       "floor  5\n",
                                       "floor 99999999999999999999999\n" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct folder f = { { 0 }, { 0 } };
        folder_make(&f);
        FILE *fp = fopen(f.file, "w");
        assert_non_null(fp);
        assert_true(fputs(bad[i], fp) >= 0);
        assert_int_equal(fclose(fp), 0);
        struct vote_guard v;
        char errmsg[USHER_ERRMSG_MAX] = "";
        assert_int_equal(vote_guard_open(&v, f.dir, true, true, errmsg), USHER_INVALID);
        assert_non_null(strstr(errmsg, "not a vote guard"));
        folder_remove(&f);
    }
}

/* Goal: the watch survives a restart until the first peer message
 * decides it, and each decision leaves the right file. */
static void test_watch_is_kept_until_decided(void **state)
{
    (void)state;
    struct folder f = { { 0 }, { 0 } };
    folder_make(&f);
    struct vote_guard v;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(&v, f.dir, true, false, errmsg), 0);
    assert_true(v.watching && !v.armed);
    assert_true(vote_guard_allows(&v, 3)); /* undecided: raft decides */
    assert_string_equal(file_text(&f), "watching\n");
    /* After bootstrap wrote Raft metadata the caller no longer asks to
     * watch; the file still says so. */
    assert_int_equal(vote_guard_open(&v, f.dir, false, false, errmsg), 0);
    assert_true(v.watching && !v.armed);
    bool armed = true;
    assert_int_equal(vote_guard_decide(&v, false, &armed, errmsg), 0);
    assert_false(armed || v.watching || v.armed);
    assert_int_equal(access(f.file, F_OK), -1);
    assert_int_equal(vote_guard_decide(&v, true, &armed, errmsg), 0);
    assert_false(armed); /* decided once */

    assert_int_equal(vote_guard_open(&v, f.dir, true, false, errmsg), 0);
    assert_int_equal(vote_guard_decide(&v, true, &armed, errmsg), 0);
    assert_true(armed && v.armed && v.pending);
    assert_string_equal(file_text(&f), "pending\n");
    assert_false(vote_guard_allows(&v, 100));
    folder_remove(&f);
}

/* Goal: the floor is the higher of the target leader's term and the
 * replica's own, and a lost Raft folder (or the flag on a watching
 * replica) puts an older file back to the stricter state. */
static void test_floor_and_stricter_states(void **state)
{
    (void)state;
    struct folder f = { { 0 }, { 0 } };
    folder_make(&f);
    struct vote_guard v;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(&v, f.dir, true, true, errmsg), 0);
    vote_guard_heard_leader(&v, 4, 10, 10);
    bool lifted = false;
    assert_int_equal(vote_guard_catch_up(&v, 10, 6, &lifted, errmsg), 0);
    assert_true(lifted);
    assert_string_equal(file_text(&f), "floor 6\n");
    /* The Raft folder is lost again: the floor is about votes now gone. */
    assert_int_equal(vote_guard_open(&v, f.dir, true, false, errmsg), 0);
    assert_true(v.watching && !v.armed);
    assert_string_equal(file_text(&f), "watching\n");
    /* Restarted with the flag before the watch decided: pending. */
    assert_int_equal(vote_guard_open(&v, f.dir, false, true, errmsg), 0);
    assert_true(v.armed && v.pending && !v.watching);
    assert_string_equal(file_text(&f), "pending\n");
    /* Pending stays pending, whatever the start says. */
    assert_int_equal(vote_guard_open(&v, f.dir, true, false, errmsg), 0);
    assert_true(v.pending);
    assert_string_equal(file_text(&f), "pending\n");
    folder_remove(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_refuses_every_term),
        cmocka_unit_test(test_lifts_at_the_leaders_commit),
        cmocka_unit_test(test_unarmed_allows_and_writes_nothing),
        cmocka_unit_test(test_damaged_file_is_refused),
        cmocka_unit_test(test_watch_is_kept_until_decided),
        cmocka_unit_test(test_floor_and_stricter_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
