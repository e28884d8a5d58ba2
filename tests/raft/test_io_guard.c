/*
 * The guards of raft/io_guard.h over a stand-in raft_io whose append and
 * send only record what they were asked (no disk, no network):
 *
 *   - an append's outcome 0 or RAFT_CANCELED reaches raft's own request
 *     and callback, and the guard's memory goes (ASan checks);
 *   - an append that fails synchronously fails the same way;
 *   - an append that completes with a write error aborts the process
 *     (in a child: the parent sees SIGABRT);
 *   - a message to server id 0 or without an address is refused and
 *     never reaches the transport; others pass;
 *   - raft's clock is the loop's time brought up to date, not the time
 *     cached at the start of the loop turn;
 *   - with a pending vote guard, vote requests are dropped on receipt and
 *     refused on sending while AppendEntries pass and set the catch-up
 *     target; once lifted, only terms above the floor pass;
 *   - a replica without Raft state not told to rejoin arms the guard when
 *     the first vote request or entries show a log past the bootstrap entry,
 *     and does not when they show a new cluster.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <raft.h>

#include "err.h"
#include "io_guard.h"
#include "vote_guard.h"

/* What the stand-in io saw. */
struct fake {
    struct io_guard guard;
    struct raft_io_append *append_req; /* the guard's request, to complete later */
    raft_io_append_cb append_cb;
    unsigned append_n;
    int append_rv; /* what append returns */
    unsigned sends;
    unsigned recvs;           /* messages that reached raft's recv */
    raft_io_recv_cb recv;     /* what start was given: the guard's */
    struct vote_guard *votes; /* installed with fake_init_votes() */
    uv_loop_t loop;
};

/* What raft's callback saw. */
struct seen {
    unsigned calls;
    int status;
    struct raft_io_append *req;
};

static struct fake *fake_of(struct raft_io *io)
{
    return (struct fake *)((char *)io - offsetof(struct fake, guard) -
                           offsetof(struct io_guard, io));
}

static int fake_append(struct raft_io *io, struct raft_io_append *req,
                       const struct raft_entry entries[], unsigned n, raft_io_append_cb cb)
{
    struct fake *f = fake_of(io);
    (void)entries;
    f->append_req = req;
    f->append_cb = cb;
    f->append_n = n;
    return f->append_rv;
}

static int fake_send(struct raft_io *io, struct raft_io_send *req,
                     const struct raft_message *message, raft_io_send_cb cb)
{
    (void)req;
    (void)message;
    (void)cb;
    fake_of(io)->sends++;
    return 0;
}

static int fake_start(struct raft_io *io, unsigned msecs, raft_io_tick_cb tick,
                      raft_io_recv_cb recv)
{
    (void)msecs;
    (void)tick;
    fake_of(io)->recv = recv;
    return 0;
}

/* raft's own receive callback. */
static void raft_recv(struct raft_io *io, struct raft_message *msg)
{
    (void)msg;
    fake_of(io)->recvs++;
}

/* raft_uv's own clock: the time cached at the start of the loop turn. */
static raft_time fake_time(struct raft_io *io)
{
    return uv_now(&fake_of(io)->loop);
}

static void fake_init_votes(struct fake *f, struct vote_guard *votes)
{
    memset(f, 0, sizeof(*f));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->guard.io.append = fake_append;
    f->guard.io.send = fake_send;
    f->guard.io.time = fake_time;
    f->guard.io.start = fake_start;
    io_guard_install(&f->guard, &f->loop, 5, NULL, votes);
    assert_int_equal(f->guard.io.start(&f->guard.io, 100, NULL, raft_recv), 0);
    assert_non_null(f->recv);
}

static void fake_init(struct fake *f)
{
    fake_init_votes(f, NULL);
}

static void fake_close(struct fake *f)
{
    assert_int_equal(uv_loop_close(&f->loop), 0);
}

static void on_appended(struct raft_io_append *req, int status)
{
    struct seen *s = req->data;
    s->calls++;
    s->status = status;
    s->req = req;
}

/* Starts an append of one entry through the guard. */
static int append_one(struct fake *f, struct raft_io_append *req, struct seen *s)
{
    static struct raft_entry entry; /* the stand-in never reads it */
    req->data = s;
    return f->guard.io.append(&f->guard.io, req, &entry, 1, on_appended);
}

/* Goal: a successful or cancelled append reaches raft's request and
 * callback once, with its status. */
static void test_append_outcomes_pass_through(void **state)
{
    (void)state;
    const int outcomes[] = { 0, RAFT_CANCELED };
    for (size_t i = 0; i < sizeof(outcomes) / sizeof(outcomes[0]); i++) {
        struct fake f;
        fake_init(&f);
        struct raft_io_append req;
        struct seen s = { 0 };
        assert_int_equal(append_one(&f, &req, &s), 0);
        assert_int_equal(f.append_n, 1);
        assert_ptr_not_equal(f.append_req, &req); /* the guard's own request */
        assert_int_equal(s.calls, 0);
        f.append_cb(f.append_req, outcomes[i]);
        assert_int_equal(s.calls, 1);
        assert_int_equal(s.status, outcomes[i]);
        assert_ptr_equal(s.req, &req);
        fake_close(&f);
    }
}

/* Goal: an append raft_uv refuses at once is refused the same way, and
 * raft's callback is not called. */
static void test_append_refused_at_once(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f);
    f.append_rv = RAFT_IOERR;
    struct raft_io_append req;
    struct seen s = { 0 };
    assert_int_equal(append_one(&f, &req, &s), RAFT_IOERR);
    assert_int_equal(s.calls, 0);
    fake_close(&f);
}

/* Goal: a write that fails after it started stops the process (SIGABRT)
 * instead of letting raft carry on with a log it did not write. */
static void test_failed_write_aborts(void **state)
{
    (void)state;
    const int failures[] = { RAFT_IOERR, RAFT_NOSPACE };
    for (size_t i = 0; i < sizeof(failures) / sizeof(failures[0]); i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            struct fake f;
            fake_init(&f);
            struct raft_io_append req;
            struct seen s = { 0 };
            if (append_one(&f, &req, &s) != 0) {
                _exit(3);
            }
            (void)freopen("/dev/null", "w", stderr); /* the fatal line is expected */
            f.append_cb(f.append_req, failures[i]);
            _exit(s.calls == 1 ? 4 : 5); /* reached only if the guard let it through */
        }
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);
    }
}

/* Goal: a message to nobody (id 0 or no address, libraft 0.15 #339) is
 * refused and counted; a message to a peer goes to the transport. */
static void test_send_to_nobody_is_refused(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f);
    struct raft_io_send req;
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_IO_APPEND_ENTRIES_RESULT;
    m.server_id = 0;
    m.server_address = "node-0";
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &m, NULL), RAFT_NOCONNECTION);
    m.server_id = 2;
    m.server_address = NULL;
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &m, NULL), RAFT_NOCONNECTION);
    assert_int_equal(f.sends, 0);
    assert_int_equal(f.guard.sends_refused, 2);
    m.server_address = "node-2";
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &m, NULL), 0);
    assert_int_equal(f.sends, 1);
    fake_close(&f);
}

/* Goal: a loop turn that stalls (a paused process) does not make raft see
 * the time the turn started: raft's time moves with the real clock. */
static void test_time_is_fresh(void **state)
{
    (void)state;
    struct fake f;
    fake_init(&f);
    raft_time cached = uv_now(&f.loop);
    assert_int_equal(usleep(30 * 1000), 0);
    assert_int_equal(fake_time(&f.guard.io), cached); /* raft_uv's view: stale */
    raft_time seen = f.guard.io.time(&f.guard.io);
    assert_true(seen >= cached + 30);
    assert_true(f.guard.io.time(&f.guard.io) >= seen); /* never backwards */
    fake_close(&f);
}

/* Delivers a message through the guard's receive, as raft_uv would. */
static void deliver(struct fake *f, struct raft_message *m)
{
    f->recv(&f->guard.io, m);
}

static struct raft_message vote_request(uint64_t term, bool pre_vote)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_IO_REQUEST_VOTE;
    m.server_id = 2;
    m.server_address = "node-2";
    m.request_vote.term = term;
    m.request_vote.candidate_id = 2;
    m.request_vote.pre_vote = pre_vote;
    return m;
}

static struct raft_message append_entries(uint64_t term, uint64_t prev, uint64_t commit)
{
    struct raft_message m;
    memset(&m, 0, sizeof(m));
    m.type = RAFT_IO_APPEND_ENTRIES;
    m.server_id = 1;
    m.server_address = "node-1";
    m.append_entries.term = term;
    m.append_entries.prev_log_index = prev;
    m.append_entries.leader_commit = commit;
    return m;
}

/* A watching guard in a fresh folder; returns the folder in dir. */
static void watch_open(struct fake *f, struct vote_guard *votes, char *dir)
{
    assert_non_null(mkdtemp(dir));
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(votes, dir, true, false, errmsg), 0);
    assert_true(votes->watching && !votes->armed);
    fake_init_votes(f, votes);
}

/* Removes the guard file (if any) and the folder; returns whether the file
 * existed. */
static bool watch_close(struct fake *f, char *dir)
{
    fake_close(f);
    char path[128];
    (void)snprintf(path, sizeof(path), "%s/%s", dir, VOTE_GUARD_FILE);
    bool existed = unlink(path) == 0;
    assert_int_equal(rmdir(dir), 0);
    return existed;
}

/* A pending guard (rejoin on a replica without Raft state) in a fresh
 * folder dir. */
static void pending_open(struct fake *f, struct vote_guard *votes, char *dir)
{
    assert_non_null(mkdtemp(dir));
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_open(votes, dir, true, true, errmsg), 0);
    assert_true(votes->pending);
    fake_init_votes(f, votes);
}

/* Goal: a rejoining replica neither grants nor asks for a vote (pre-vote or
 * real) and takes no leadership transfer until a leader has caught it up;
 * every other message passes both ways. */
static void test_pending_vote_guard_blocks_votes(void **state)
{
    (void)state;
    char dir[] = "/tmp/usher-io-guard.XXXXXX";
    struct vote_guard votes;
    struct fake f;
    pending_open(&f, &votes, dir);
    struct raft_message pre = vote_request(4, true);
    struct raft_message real = vote_request(9, false);
    deliver(&f, &pre);
    deliver(&f, &real);
    assert_int_equal(f.recvs, 0);
    struct raft_io_send req;
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &pre, NULL), RAFT_NOCONNECTION);
    assert_int_equal(f.sends, 0);
    struct raft_message transfer;
    memset(&transfer, 0, sizeof(transfer));
    transfer.type = RAFT_IO_TIMEOUT_NOW;
    transfer.timeout_now.term = 5;
    deliver(&f, &transfer);
    assert_int_equal(f.recvs, 0);
    assert_int_equal(votes.refused, 4);
    struct raft_message beat = append_entries(5, 30, 30);
    deliver(&f, &beat);
    assert_int_equal(f.recvs, 1);
    struct raft_message result;
    memset(&result, 0, sizeof(result));
    result.type = RAFT_IO_APPEND_ENTRIES_RESULT;
    result.server_id = 1;
    result.server_address = "node-1";
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &result, NULL), 0);
    assert_int_equal(f.sends, 1);
    assert_true(watch_close(&f, dir));
}

/* Goal: the catch-up target is a commit index the leader announced once it
 * covered an entry of its own term (found in the entries it sent), not the
 * stale one a new leader sends first; after the lift only terms above the
 * floor pass. */
static void test_pending_target_and_floor(void **state)
{
    (void)state;
    char dir[] = "/tmp/usher-io-guard.XXXXXX";
    struct vote_guard votes;
    struct fake f;
    pending_open(&f, &votes, dir);
    struct raft_message append = append_entries(5, 30, 30);
    append.append_entries.prev_log_term = 4; /* a new leader's first heartbeat */
    deliver(&f, &append);
    assert_int_equal(votes.target_term, 5);
    assert_false(votes.target_fixed);
    struct raft_entry entries[2]; /* 31 of term 4, 32 of the leader's term */
    memset(entries, 0, sizeof(entries));
    entries[0].term = 4;
    entries[1].term = 5;
    append.append_entries.entries = entries;
    append.append_entries.n_entries = 2;
    append.append_entries.leader_commit = 31;
    deliver(&f, &append);
    assert_int_equal(votes.own_index, 32);
    assert_false(votes.target_fixed); /* 31 < 32: still stale */
    append.append_entries.leader_commit = 42;
    deliver(&f, &append);
    assert_true(votes.target_fixed);
    assert_int_equal(votes.target_index, 42);
    bool lifted = false;
    char errmsg[USHER_ERRMSG_MAX];
    assert_int_equal(vote_guard_catch_up(&votes, 42, 5, &lifted, errmsg), 0);
    assert_true(lifted);
    struct raft_message at_floor = vote_request(5, false);
    struct raft_message above = vote_request(6, false);
    deliver(&f, &at_floor);
    assert_int_equal(f.recvs, 3);
    deliver(&f, &above);
    assert_int_equal(f.recvs, 4);
    struct raft_io_send req;
    assert_int_equal(f.guard.io.send(&f.guard.io, &req, &above, NULL), 0);
    assert_int_equal(f.sends, 1);
    assert_true(watch_close(&f, dir));
}

/* Goal: at a new cluster's first election (every log holds only the
 * bootstrap entry) a replica without Raft state votes as raft says. */
static void test_watch_new_cluster_votes(void **state)
{
    (void)state;
    char dir[] = "/tmp/usher-io-guard.XXXXXX";
    struct vote_guard votes;
    struct fake f;
    watch_open(&f, &votes, dir);
    struct raft_message pre = vote_request(2, true);
    pre.request_vote.last_log_index = 1;
    deliver(&f, &pre);
    assert_int_equal(f.recvs, 1);
    assert_false(votes.watching || votes.armed);
    struct raft_message later = vote_request(5, false);
    later.request_vote.last_log_index = 40; /* decided already: a later election */
    deliver(&f, &later);
    assert_int_equal(f.recvs, 2);
    assert_false(watch_close(&f, dir));
}

/* Goal: a replica without Raft state whose first news is a log past the
 * bootstrap entry (a vote request, or entries) arms the guard before it
 * acts on that message: the vote request is dropped; the entries pass and
 * set the catch-up target. */
static void test_watch_ran_cluster_arms(void **state)
{
    (void)state;
    char dir[] = "/tmp/usher-io-guard.XXXXXX";
    struct vote_guard votes;
    struct fake f;
    watch_open(&f, &votes, dir);
    struct raft_message vote = vote_request(6, false);
    vote.request_vote.last_log_index = 3;
    deliver(&f, &vote);
    assert_int_equal(f.recvs, 0);
    assert_true(votes.armed && votes.pending && !votes.watching);
    assert_true(watch_close(&f, dir));

    char dir2[] = "/tmp/usher-io-guard.XXXXXX";
    watch_open(&f, &votes, dir2);
    struct raft_message heartbeat = append_entries(4, 9, 9);
    heartbeat.append_entries.prev_log_term = 4; /* entry 9 is of its term */
    deliver(&f, &heartbeat);
    assert_int_equal(f.recvs, 1);
    assert_true(votes.armed && votes.pending);
    assert_int_equal(votes.target_term, 4);
    assert_int_equal(votes.target_index, 9);
    struct raft_message after = vote_request(5, false);
    after.request_vote.last_log_index = 9;
    deliver(&f, &after);
    assert_int_equal(f.recvs, 1);
    assert_true(watch_close(&f, dir2));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_append_outcomes_pass_through),
        cmocka_unit_test(test_append_refused_at_once),
        cmocka_unit_test(test_failed_write_aborts),
        cmocka_unit_test(test_send_to_nobody_is_refused),
        cmocka_unit_test(test_time_is_fresh),
        cmocka_unit_test(test_pending_vote_guard_blocks_votes),
        cmocka_unit_test(test_pending_target_and_floor),
        cmocka_unit_test(test_watch_new_cluster_votes),
        cmocka_unit_test(test_watch_ran_cluster_arms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
