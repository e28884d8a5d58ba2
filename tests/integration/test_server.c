/*
 * usherd as a real process on loopback (issue 3): framing and bounds seen
 * from raw sockets, the command path through Raft, shutdown, restart after
 * SIGKILL, and the data-folder identity check. Each test starts its own
 * usherd on free ports in a temporary folder; the process group is killed
 * at the end.
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

#include "codec.h"
#include "invfix.h"
#include "proc.h"
#include "tempdir.h"
#include "wire.h"

#define SHARDS           "4"
#define START_TIMEOUT_MS 20000
#define EV               4242u

struct server {
    char dir[TEMPDIR_PATH_MAX];
    char data[TEMPDIR_PATH_MAX + 16];
    char log[TEMPDIR_PATH_MAX + 16];
    uint16_t port;
    uint16_t raft_port;
    uint16_t http_port;
    uint64_t node_id;
    const char *extra; /* one extra "--flag=value" or NULL */
    struct proc proc;
};

static int server_start(struct server *s)
{
    char bin[512];
    char node[32];
    char listen[64];
    char raft[64];
    char http[64];
    (void)proc_build_path("src/usherd", bin, sizeof(bin));
    (void)snprintf(node, sizeof(node), "%llu", (unsigned long long)s->node_id);
    (void)snprintf(listen, sizeof(listen), "127.0.0.1:%u", s->port);
    (void)snprintf(raft, sizeof(raft), "127.0.0.1:%u", s->raft_port);
    (void)snprintf(http, sizeof(http), "127.0.0.1:%u", s->http_port);
    char f_node[] = "--node-id";
    char f_data[] = "--data";
    char f_listen[] = "--listen";
    char f_raft[] = "--raft";
    char f_http[] = "--http";
    char f_shards[] = "--shards";
    char shards[] = SHARDS;
    char extra[64] = "";
    (void)snprintf(extra, sizeof(extra), "%s", s->extra != NULL ? s->extra : "");
    char *argv[] = {
        bin,    f_node, node,   f_data, s->data,  f_listen, listen,
        f_raft, raft,   f_http, http,   f_shards, shards,   extra[0] != 0 ? extra : NULL,
        NULL
    };
    if (proc_spawn(&s->proc, argv, s->log) != 0) {
        return -1;
    }
    /* Serving: every shard's leader committed its first barrier. */
    return proc_wait_http_ok(&s->proc, s->http_port, "/health", START_TIMEOUT_MS);
}

static void server_dump_log(const struct server *s)
{
    char cmd[TEMPDIR_PATH_MAX + 64];
    (void)snprintf(cmd, sizeof(cmd), "tail -n 30 %s >&2", s->log);
    (void)system(cmd);
}

static int setup_with(void **state, const char *extra)
{
    struct server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(tempdir_make("server", s->dir, sizeof(s->dir)), 0);
    (void)snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
    (void)snprintf(s->log, sizeof(s->log), "%s/usherd.log", s->dir);
    s->port = proc_free_port();
    s->raft_port = proc_free_port();
    s->http_port = proc_free_port();
    s->node_id = 1;
    s->extra = extra;
    if (server_start(s) != 0) {
        server_dump_log(s);
        fail_msg("usherd did not start");
    }
    *state = s;
    return 0;
}

static int setup(void **state)
{
    return setup_with(state, NULL);
}

static int setup_small_inflight(void **state)
{
    return setup_with(state, "--inflight-per-conn-max=4");
}

static int teardown(void **state)
{
    struct server *s = *state;
    proc_kill(&s->proc);
    (void)tempdir_remove(s->dir);
    free(s);
    return 0;
}

static uint8_t reply_buf[USHER_FRAME_BYTES_MAX];

/* Receives one reply and asserts its op, request id and status. */
static size_t expect_reply(int fd, uint8_t op, uint64_t rid, uint16_t status)
{
    struct proto_header h;
    size_t len = 0;
    assert_int_equal(wire_recv(fd, &h, reply_buf, sizeof(reply_buf), &len), 0);
    assert_int_equal(h.flags, PROTO_FLAG_REPLY);
    assert_int_equal(h.op, op);
    assert_int_equal(h.request_id, rid);
    if (h.status != status) {
        fail_msg("reply status %s, want %s", err_name(h.status), err_name(status));
    }
    return len;
}

/* Sends a command and returns its decoded result (status OK expected). */
static struct cmd_result run_cmd(int fd, uint64_t rid, const struct cmd *c)
{
    assert_int_equal(wire_send_cmd(fd, rid, c), 0);
    size_t len = expect_reply(fd, PROTO_OP_COMMAND, rid, USHER_OK);
    struct cmd_result r;
    assert_int_equal(codec_result_decode(reply_buf, len, &r), 0);
    return r;
}

static struct cmd cmd_base(uint8_t type, uint64_t key)
{
    struct cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    c.client_id = 77;
    c.idem_key = key;
    c.event_id = EV;
    c.customer_id = 5;
    return c;
}

/* Creates event EV: one section of 4 rows of 10 seats. */
static void create_event(int fd, uint64_t rid)
{
    struct cmd c = cmd_base(CMD_EVENT_CREATE, 1000 + rid);
    c.customer_id = 0;
    c.u.create.event = invfix_event_seated(EV, 4, 10);
    struct cmd_result r = run_cmd(fd, rid, &c);
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.id, EV);
    event_destroy(c.u.create.event);
}

/* Goal: a PING is answered with the same request id, op and the reply flag. */
static void test_ping_is_answered(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    assert_int_equal(wire_send(fd, PROTO_OP_PING, 99, NULL, 0), 0);
    assert_int_equal(expect_reply(fd, PROTO_OP_PING, 99, USHER_OK), 0);
    (void)close(fd);
}

/* Goal: many requests in flight on one connection are all answered, each
 * once, matched by request id (sent in one write, read back in any order). */
static void test_pipelined_requests_all_answered(void **state)
{
    struct server *s = *state;

    enum { N = 300 };

    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    for (uint64_t i = 1; i <= N; i++) {
        assert_int_equal(wire_send(fd, PROTO_OP_PING, i, NULL, 0), 0);
    }
    static uint8_t seen[N + 1];
    memset(seen, 0, sizeof(seen));
    for (int i = 0; i < N; i++) {
        struct proto_header h;
        size_t len = 0;
        assert_int_equal(wire_recv(fd, &h, reply_buf, sizeof(reply_buf), &len), 0);
        assert_true(h.request_id >= 1 && h.request_id <= N);
        assert_int_equal(seen[h.request_id], 0);
        seen[h.request_id] = 1;
    }
    (void)close(fd);
}

/* Goal: a frame of another protocol version gets an error reply and its
 * connection is closed, while other connections keep being served. */
static void test_bad_version_closes_only_that_connection(void **state)
{
    struct server *s = *state;
    int other = wire_connect(s->port);
    int fd = wire_connect(s->port);
    assert_true(fd >= 0 && other >= 0);
    uint8_t frame[PROTO_LEN_BYTES + PROTO_HEADER_BYTES];
    struct proto_header h = { .version = PROTO_VERSION, .op = PROTO_OP_PING, .request_id = 5 };
    assert_int_equal(codec_frame_header_encode(&h, 0, frame), 0);
    frame[PROTO_LEN_BYTES] = 9; /* version */
    assert_int_equal(wire_send_raw(fd, frame, sizeof(frame)), 0);
    (void)expect_reply(fd, PROTO_OP_NONE, 0, USHER_BAD_VERSION);
    assert_int_equal(wire_is_closed(fd), 1);
    assert_int_equal(wire_send(other, PROTO_OP_PING, 6, NULL, 0), 0);
    (void)expect_reply(other, PROTO_OP_PING, 6, USHER_OK);
    (void)close(fd);
    (void)close(other);
}

/* Goal: a length field over the frame limit is refused before anything is
 * buffered: LIMIT_MSG_SIZE, then the connection closes. */
static void test_oversized_frame_is_refused(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    uint32_t len = USHER_FRAME_BYTES_MAX; /* + the 4-byte field: one over */
    assert_int_equal(wire_send_raw(fd, &len, sizeof(len)), 0);
    (void)expect_reply(fd, PROTO_OP_NONE, 0, USHER_LIMIT_MSG_SIZE);
    assert_int_equal(wire_is_closed(fd), 1);
    (void)close(fd);
}

/* Goal: a malformed command payload is BAD_REQUEST for that request only:
 * the same connection answers the next request. */
static void test_bad_payload_keeps_connection(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    uint8_t junk[7] = { 1, 2, 3, 4, 5, 6, 7 };
    assert_int_equal(wire_send(fd, PROTO_OP_COMMAND, 10, junk, sizeof(junk)), 0);
    (void)expect_reply(fd, PROTO_OP_COMMAND, 10, USHER_BAD_REQUEST);
    assert_int_equal(wire_send(fd, PROTO_OP_AVAILABILITY, 11, junk, 3), 0);
    (void)expect_reply(fd, PROTO_OP_AVAILABILITY, 11, USHER_BAD_REQUEST);
    assert_int_equal(wire_send(fd, PROTO_OP_PING, 12, NULL, 0), 0);
    (void)expect_reply(fd, PROTO_OP_PING, 12, USHER_OK);
    (void)close(fd);
}

/* Goal: the command path works end to end through Raft: create, hold,
 * a competing hold refused, book, an idempotent retry of the book replayed,
 * and the booking readable. */
static void test_hold_and_book_through_raft(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    create_event(fd, 1);
    struct cmd hold = cmd_base(CMD_HOLD_SEATS, 2);
    hold.u.hold_seats.seat_count = 2;
    hold.u.hold_seats.seats[0] = 3;
    hold.u.hold_seats.seats[1] = 4;
    struct cmd_result h = run_cmd(fd, 2, &hold);
    assert_int_equal(h.status, USHER_OK);
    struct cmd rival = hold;
    rival.idem_key = 3;
    rival.customer_id = 6;
    assert_int_equal(run_cmd(fd, 3, &rival).status, USHER_SEAT_TAKEN);
    struct cmd book = cmd_base(CMD_HOLD_BOOK, 4);
    book.u.book.hold_id = h.id;
    (void)snprintf(book.u.book.payment_ref, sizeof(book.u.book.payment_ref), "pay-1");
    struct cmd_result b = run_cmd(fd, 4, &book);
    assert_int_equal(b.status, USHER_OK);
    struct cmd_result again = run_cmd(fd, 5, &book);
    assert_int_equal(again.replayed, 1);
    assert_int_equal(again.id, b.id);
    uint8_t payload[16];
    memcpy(payload, &(uint64_t){ EV }, 8);
    memcpy(payload + 8, &b.id, 8);
    assert_int_equal(wire_send(fd, PROTO_OP_BOOKING_GET, 6, payload, 16), 0);
    size_t len = expect_reply(fd, PROTO_OP_BOOKING_GET, 6, USHER_OK);
    struct inv_booking got;
    assert_int_equal(codec_reply_booking_decode(reply_buf, len, &got), 0);
    assert_int_equal(got.state, INV_BOOKING_CONFIRMED);
    assert_int_equal(got.seat_count, 2);
    (void)close(fd);
}

/* Goal: past the in-flight bound of a connection the answer is BUSY at once
 * (usherd started with --inflight-per-conn-max=4), never a queue. */
static void test_inflight_bound_answers_busy(void **state)
{
    struct server *s = *state;

    enum { N = 64 };

    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    create_event(fd, 1);
    for (uint64_t i = 0; i < N; i++) {
        struct cmd hold = cmd_base(CMD_HOLD_SEATS, 100 + i);
        hold.customer_id = 1000 + i;
        hold.u.hold_seats.seat_count = 1;
        hold.u.hold_seats.seats[0] = (uint32_t)(i % 40);
        assert_int_equal(wire_send_cmd(fd, 100 + i, &hold), 0);
    }
    int busy = 0;
    for (int i = 0; i < N; i++) {
        struct proto_header h;
        size_t len = 0;
        assert_int_equal(wire_recv(fd, &h, reply_buf, sizeof(reply_buf), &len), 0);
        busy += h.status == USHER_BUSY;
        assert_true(h.status == USHER_OK || h.status == USHER_BUSY);
    }
    assert_true(busy > 0);
    (void)close(fd);
}

/* Goal: an acknowledged booking survives SIGKILL of the node: after a
 * restart on the same folder it is read back, and its seats are still
 * refused to another customer. */
static void test_booking_survives_sigkill(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    create_event(fd, 1);
    struct cmd hold = cmd_base(CMD_HOLD_SEATS, 2);
    hold.u.hold_seats.seat_count = 1;
    hold.u.hold_seats.seats[0] = 7;
    struct cmd_result h = run_cmd(fd, 2, &hold);
    assert_int_equal(h.status, USHER_OK);
    struct cmd book = cmd_base(CMD_HOLD_BOOK, 3);
    book.u.book.hold_id = h.id;
    struct cmd_result b = run_cmd(fd, 3, &book);
    assert_int_equal(b.status, USHER_OK);
    (void)close(fd);

    proc_signal(&s->proc, SIGKILL);
    (void)proc_wait(&s->proc, 5000);
    if (server_start(s) != 0) {
        server_dump_log(s);
        fail_msg("usherd did not restart");
    }
    fd = wire_connect(s->port);
    assert_true(fd >= 0);
    uint8_t payload[16];
    memcpy(payload, &(uint64_t){ EV }, 8);
    memcpy(payload + 8, &b.id, 8);
    /* The shard serves once its leader barrier committed: until then the
     * answer is NOT_LEADER, which a client retries (bounded here). */
    struct proto_header hdr = { 0 };
    size_t len = 0;
    for (int tries = 0; tries < 500; tries++) {
        assert_int_equal(wire_send(fd, PROTO_OP_BOOKING_GET, 4, payload, 16), 0);
        assert_int_equal(wire_recv(fd, &hdr, reply_buf, sizeof(reply_buf), &len), 0);
        if (hdr.status != USHER_NOT_LEADER) {
            break;
        }
        (void)usleep(10000);
    }
    assert_int_equal(hdr.status, USHER_OK);
    struct inv_booking got;
    assert_int_equal(codec_reply_booking_decode(reply_buf, len, &got), 0);
    assert_int_equal(got.state, INV_BOOKING_CONFIRMED);
    assert_int_equal(got.seats[0], 7);
    struct cmd rival = cmd_base(CMD_HOLD_SEATS, 5);
    rival.customer_id = 9;
    rival.u.hold_seats.seat_count = 1;
    rival.u.hold_seats.seats[0] = 7;
    assert_int_equal(run_cmd(fd, 5, &rival).status, USHER_SEAT_TAKEN);
    (void)close(fd);
}

/* Goal: SIGTERM stops the node cleanly: exit status 0. */
static void test_sigterm_exits_cleanly(void **state)
{
    struct server *s = *state;
    int fd = wire_connect(s->port);
    assert_true(fd >= 0);
    create_event(fd, 1);
    (void)close(fd);
    proc_signal(&s->proc, SIGTERM);
    int status = proc_wait(&s->proc, 10000);
    if (status < 0 || !WIFEXITED(status)) {
        server_dump_log(s);
        fail_msg("usherd did not exit cleanly: status %d, signal %d", status,
                 status >= 0 && WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* Goal: a node refuses to start on the data folder of another node, with a
 * message naming the owner, and changes nothing. */
static void test_refuses_data_of_another_node(void **state)
{
    struct server *s = *state;
    proc_signal(&s->proc, SIGTERM);
    (void)proc_wait(&s->proc, 10000);
    s->node_id = 2;
    assert_int_not_equal(server_start(s), 0);
    int status = proc_wait(&s->proc, 10000);
    assert_true(WIFEXITED(status));
    assert_int_not_equal(WEXITSTATUS(status), 0);
    char cmd[TEMPDIR_PATH_MAX + 64];
    (void)snprintf(cmd, sizeof(cmd), "grep -q 'belongs to node 1' %s", s->log);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ping_is_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pipelined_requests_all_answered, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_version_closes_only_that_connection, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_oversized_frame_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_payload_keeps_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hold_and_book_through_raft, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inflight_bound_answers_busy, setup_small_inflight,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_booking_survives_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sigterm_exits_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_data_of_another_node, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
