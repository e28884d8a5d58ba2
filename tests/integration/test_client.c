/*
 * libusher against a real usherd (issue 3): each test starts its own usherd
 * on free loopback ports in a temporary folder (own process group, killed
 * at the end) and drives it through the public API of client/usher.h, and
 * the `usher` tool as a process:
 *
 *   - the whole flow: create, hold (named, best, GA), book, cancel, release,
 *     and every read (event, list, availability, hold, booking, customer,
 *     seat history, status);
 *   - expiry: a hold of the shortest TTL expires by the cluster's time and
 *     can no longer be booked; its seat sells again;
 *   - idempotent retry: the same key answers the first result, changes
 *     nothing more, and refuses another command;
 *   - 1,000 holds in flight on one connection (asynchronous API);
 *   - SIGKILL and restart: bookings and idempotency records are still there;
 *   - the CLI's exit codes and seat map.
 *
 * Waits are bounded polls (the Raft election after start, the sweep that
 * advances the cluster's time), never fixed sleeps.
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
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include <cmocka.h>

#include "proc.h"
#include "tempdir.h"
#include "usher.h"

#define SHARDS           "4"
#define START_TIMEOUT_MS 20000
#define CALL_TIMEOUT_MS  20000u
#define EV               7001u
#define SEATS_PER_ROW    50u
#define ROWS             30u /* 1,500 seats: room for 1,000 holds in flight */

struct server {
    char dir[TEMPDIR_PATH_MAX];
    char data[TEMPDIR_PATH_MAX + 16];
    char log[TEMPDIR_PATH_MAX + 16];
    char addr[32];
    uint16_t port;
    uint16_t raft_port;
    uint16_t http_port;
    struct proc proc;
    struct usher_client *client; /* blocking client of the test */
};

static int server_start(struct server *s)
{
    char bin[512];
    char listen[64];
    char raft[64];
    char http[64];
    (void)proc_build_path("src/usherd", bin, sizeof(bin));
    (void)snprintf(listen, sizeof(listen), "127.0.0.1:%u", s->port);
    (void)snprintf(raft, sizeof(raft), "127.0.0.1:%u", s->raft_port);
    (void)snprintf(http, sizeof(http), "127.0.0.1:%u", s->http_port);
    const char *args[] = { bin,     "--node-id",
                           "1",     "--data",
                           s->data, "--listen",
                           listen,  "--raft",
                           raft,    "--http",
                           http,    "--shards",
                           SHARDS,  "--sweep-interval-ms=100",
                           NULL };
    char *argv[sizeof(args) / sizeof(args[0])];
    for (size_t i = 0; i < sizeof(args) / sizeof(args[0]); i++) {
        argv[i] = (char *)(uintptr_t)args[i]; /* execv's type; nothing writes them */
    }
    if (proc_spawn(&s->proc, argv, s->log) != 0) {
        return -1;
    }
    return proc_wait_port(&s->proc, s->port, START_TIMEOUT_MS);
}

static void server_dump_log(const struct server *s)
{
    char cmd[TEMPDIR_PATH_MAX + 64];
    (void)snprintf(cmd, sizeof(cmd), "tail -n 30 %s >&2", s->log);
    (void)system(cmd);
}

static struct usher_client *client_blocking(const struct server *s)
{
    const char *nodes[1] = { s->addr };
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = 1;
    o.call_timeout_ms = CALL_TIMEOUT_MS;
    struct usher_client *c = NULL;
    assert_int_equal(usher_client_create(NULL, &o, &c), 0);
    return c;
}

static int setup(void **state)
{
    struct server *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    assert_int_equal(tempdir_make("client", s->dir, sizeof(s->dir)), 0);
    (void)snprintf(s->data, sizeof(s->data), "%s/data", s->dir);
    (void)snprintf(s->log, sizeof(s->log), "%s/usherd.log", s->dir);
    s->port = proc_free_port();
    s->raft_port = proc_free_port();
    s->http_port = proc_free_port();
    (void)snprintf(s->addr, sizeof(s->addr), "127.0.0.1:%u", s->port);
    if (server_start(s) != 0) {
        server_dump_log(s);
        fail_msg("usherd did not start");
    }
    s->client = client_blocking(s);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    struct server *s = *state;
    usher_client_destroy(s->client, NULL, NULL);
    proc_kill(&s->proc);
    (void)tempdir_remove(s->dir);
    free(s);
    return 0;
}

/* Fails with the client's message when rc is not want. */
static void expect(const struct server *s, int rc, int want, const char *what)
{
    if (rc != want) {
        server_dump_log(s);
        fail_msg("%s: got %s (%s), want %s", what, usher_errname(rc),
                 usher_client_errmsg(s->client), usher_errname(want));
    }
}

/* Event id: section "Stalls" of ROWS rows "R1".. of SEATS_PER_ROW seats, a
 * GA section "Floor" of 100 places; holds from 1 s. */
static void event_create(struct server *s, uint64_t id)
{
    struct usher_event_spec *spec = NULL;
    assert_int_equal(usher_event_spec_create(id, "integration", &spec), 0);
    usher_event_spec_hold_ttl_set(spec, 1000, 600000, 0);
    usher_event_spec_limits_set(spec, 10, 1024);
    assert_int_equal(usher_event_spec_section_add(spec, "Stalls", NULL), 0);
    for (uint32_t r = 0; r < ROWS; r++) {
        char label[8];
        (void)snprintf(label, sizeof(label), "R%u", r + 1u);
        assert_int_equal(usher_event_spec_row_add(spec, label, SEATS_PER_ROW, 1), 0);
    }
    assert_int_equal(usher_event_spec_ga_add(spec, "Floor", 100, NULL), 0);
    assert_int_equal(usher_event_spec_validate(spec), 0);
    struct usher_cmd_result r;
    expect(s, usher_event_create_sync(s->client, NULL, spec, &r), 0, "event create");
    assert_true(r.id == id);
    expect(s, usher_event_create_sync(s->client, NULL, spec, &r), USHER_EVENT_EXISTS,
           "event create again");
    usher_event_spec_destroy(spec);
}

static struct usher_availability *availability(struct server *s, uint64_t id)
{
    struct usher_availability *a = malloc(sizeof(*a));
    assert_non_null(a);
    expect(s, usher_availability_sync(s->client, NULL, id, a), 0, "availability");
    return a;
}

/* Holds two named seats for customer 11, checks a competitor is refused,
 * books them; returns the booking. */
static struct usher_cmd_result flow_hold_and_book(struct server *s, uint32_t seats[2])
{
    struct usher_event_spec *spec = NULL;
    expect(s, usher_event_get_sync(s->client, NULL, EV, &spec), 0, "event get");
    assert_int_equal(usher_event_spec_seat_find(spec, "R1-1", &seats[0]), 0);
    assert_int_equal(usher_event_spec_seat_find(spec, "R1-2", &seats[1]), 0);
    struct usher_event_info info;
    usher_event_spec_info(spec, &info);
    assert_int_equal(info.seat_count, ROWS * SEATS_PER_ROW);
    usher_event_spec_destroy(spec);
    struct usher_cmd_result hold;
    expect(s, usher_hold_seats_sync(s->client, NULL, EV, 11, seats, 2, 0, &hold), 0, "hold");
    assert_int_equal(hold.seat_count, 2);
    assert_true(hold.expires_at_ms > 0);
    struct usher_cmd_result r;
    expect(s, usher_hold_seats_sync(s->client, NULL, EV, 12, &seats[1], 1, 0, &r), USHER_SEAT_TAKEN,
           "competing hold");
    struct usher_availability *a = availability(s, EV);
    assert_int_equal(a->sections[0].held, 2);
    assert_false(usher_seat_is_free(a, seats[0]));
    assert_true(usher_seat_is_free(a, seats[1] + 1));
    free(a);
    struct usher_cmd_result booking;
    expect(s, usher_hold_book_sync(s->client, NULL, EV, 11, hold.id, "pay-1", &booking), 0, "book");
    expect(s, usher_hold_book_sync(s->client, NULL, EV, 12, hold.id, "x", &r), USHER_NOT_OWNER,
           "book by another customer");
    struct usher_hold_info h;
    expect(s, usher_hold_get_sync(s->client, NULL, EV, hold.id, &h), 0, "hold get");
    assert_int_equal(h.state, USHER_HOLD_STATE_BOOKED);
    assert_true(h.booking_id == booking.id);
    return booking;
}

/* Reads the booking, cancels it, and checks the seats are free again. */
static void flow_cancel(struct server *s, const struct usher_cmd_result *booking)
{
    struct usher_booking_info b;
    expect(s, usher_booking_get_sync(s->client, NULL, EV, booking->id, &b), 0, "booking get");
    assert_int_equal(b.state, USHER_BOOKING_STATE_CONFIRMED);
    assert_string_equal(b.payment_ref, "pay-1");
    assert_int_equal(b.seat_count, 2);
    struct usher_availability *a = availability(s, EV);
    assert_int_equal(a->sections[0].booked, 2);
    assert_int_equal(a->sections[0].held, 0);
    free(a);
    struct usher_cmd_result r;
    expect(s, usher_booking_cancel_sync(s->client, NULL, EV, 11, booking->id, &r), 0, "cancel");
    expect(s, usher_booking_cancel_sync(s->client, NULL, EV, 11, booking->id, &r),
           USHER_BOOKING_CANCELLED, "cancel again");
    expect(s, usher_booking_get_sync(s->client, NULL, EV, booking->id, &b), 0, "booking get");
    assert_int_equal(b.state, USHER_BOOKING_STATE_CANCELLED);
    a = availability(s, EV);
    assert_int_equal(a->sections[0].free, ROWS * SEATS_PER_ROW);
    free(a);
}

/* Best available, released; GA places, listed for their customer. */
static void flow_best_and_ga(struct server *s)
{
    struct usher_cmd_result best;
    struct usher_cmd_result r;
    expect(s, usher_hold_best_sync(s->client, NULL, EV, 13, 0, 3, 0, &best), 0, "hold best");
    assert_int_equal(best.seat_count, 3);
    assert_int_equal(best.seats[1], best.seats[0] + 1);
    assert_int_equal(best.seats[2], best.seats[0] + 2);
    expect(s, usher_hold_release_sync(s->client, NULL, EV, 13, best.id, &r), 0, "release");
    struct usher_hold_info h;
    expect(s, usher_hold_get_sync(s->client, NULL, EV, best.id, &h), 0, "hold get");
    assert_int_equal(h.state, USHER_HOLD_STATE_RELEASED);
    struct usher_cmd_result ga;
    expect(s, usher_hold_ga_sync(s->client, NULL, EV, 14, 1, 5, 0, &ga), 0, "hold ga");
    assert_int_equal(ga.seat_count, 5);
    assert_true(ga.ga);
    expect(s, usher_hold_ga_sync(s->client, NULL, EV, 14, 0, 5, 0, &r), USHER_WRONG_SECTION_KIND,
           "ga in a seated section");
    struct usher_customer_items *items = malloc(sizeof(*items));
    assert_non_null(items);
    expect(s, usher_customer_list_sync(s->client, NULL, EV, 14, items), 0, "customer");
    assert_int_equal(items->count, 1);
    assert_true(items->items[0].id == ga.id);
    free(items);
}

/* The seat's history, the event list and the node's status. */
static void flow_reads(struct server *s, uint32_t seat)
{
    struct usher_seat_history *hist = malloc(sizeof(*hist));
    assert_non_null(hist);
    expect(s, usher_seat_history_sync(s->client, NULL, EV, seat, hist), 0, "history");
    assert_true(hist->count >= 3);
    assert_int_equal(hist->entries[0].kind, USHER_HISTORY_CANCEL);
    assert_int_equal(hist->entries[1].kind, USHER_HISTORY_BOOK);
    assert_int_equal(hist->entries[2].kind, USHER_HISTORY_HOLD);
    free(hist);
    uint64_t ids[16];
    uint32_t n = 0;
    expect(s, usher_event_list_sync(s->client, NULL, 0, 16, ids, 16, &n), 0, "event list");
    assert_int_equal(n, 1);
    assert_true(ids[0] == EV);
    struct usher_node_status *st = calloc(1, sizeof(*st));
    assert_non_null(st);
    expect(s, usher_node_status_sync(s->client, NULL, st), 0, "status");
    assert_int_equal(st->shard_count, 4);
    assert_int_equal(st->listed, 4);
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(st->shards[i].role, USHER_ROLE_LEADER);
    }
    free(st);
    expect(s, usher_ping_sync(s->client, NULL), 0, "ping");
}

/* Goal: the whole life of seats through libusher: hold named seats, a
 * competing hold refused, book, cancel, best-available, release, GA; every
 * read agrees with what happened. */
static void test_client_hold_book_cancel_release_flow(void **state)
{
    struct server *s = *state;
    event_create(s, EV);
    uint32_t seats[2];
    struct usher_cmd_result booking = flow_hold_and_book(s, seats);
    flow_cancel(s, &booking);
    flow_best_and_ga(s);
    flow_reads(s, seats[0]);
}

/* Goal: a hold of the event's shortest TTL expires by the cluster's time:
 * reads report it expired, booking it is refused, its seat sells again. */
static void test_client_hold_expires_and_cannot_be_booked(void **state)
{
    struct server *s = *state;
    event_create(s, EV);
    uint32_t seat = 5;
    struct usher_cmd_result hold;
    expect(s, usher_hold_seats_sync(s->client, NULL, EV, 21, &seat, 1, 1000, &hold), 0, "hold");
    /* The leader's sweeps (every 100 ms) move the cluster's time on: poll
     * the hold until it reads expired, at most 30 s. */
    struct usher_hold_info h;
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < 3000; i++) {
        expect(s, usher_hold_get_sync(s->client, NULL, EV, hold.id, &h), 0, "hold get");
        if (h.state == USHER_HOLD_STATE_EXPIRED) {
            break;
        }
        struct timespec ts = { .tv_sec = 0, .tv_nsec = 10000000L };
        (void)nanosleep(&ts, NULL); /* a poll interval, not a timing assumption */
    }
    assert_int_equal(h.state, USHER_HOLD_STATE_EXPIRED);
    struct usher_cmd_result r;
    expect(s, usher_hold_book_sync(s->client, NULL, EV, 21, hold.id, "late", &r),
           USHER_HOLD_EXPIRED, "book an expired hold");
    expect(s, usher_hold_extend_sync(s->client, NULL, EV, 21, hold.id, 0, &r), USHER_HOLD_EXPIRED,
           "extend an expired hold");
    expect(s, usher_hold_seats_sync(s->client, NULL, EV, 22, &seat, 1, 0, &r), 0,
           "hold the seat again");
}

/* Goal: a command sent again with its key answers the first result and has
 * no second effect; the key cannot serve another command. */
static void test_client_idempotent_retry_returns_the_first_result(void **state)
{
    struct server *s = *state;
    event_create(s, EV);
    struct usher_call_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.idem_key = usher_key_next(s->client);
    uint32_t seats[2] = { 40, 41 };
    struct usher_cmd_result first;
    struct usher_cmd_result again;
    expect(s, usher_hold_seats_sync(s->client, &opts, EV, 31, seats, 2, 0, &first), 0, "hold");
    assert_true(first.idem_key == opts.idem_key);
    expect(s, usher_hold_seats_sync(s->client, &opts, EV, 31, seats, 2, 0, &again), 0,
           "hold again, same key");
    assert_true(again.id == first.id);
    assert_true(again.expires_at_ms == first.expires_at_ms);
    assert_int_equal(again.seat_count, 2);
    assert_false(first.replayed);
    assert_true(again.replayed);
    struct usher_availability *a = availability(s, EV);
    assert_int_equal(a->sections[0].held, 2);
    free(a);
    expect(s, usher_hold_seats_sync(s->client, &opts, EV, 31, &seats[0], 1, 0, &again),
           USHER_IDEM_KEY_REUSED, "another command, same key");
    opts.idem_key = usher_key_next(s->client);
    struct usher_cmd_result b1;
    struct usher_cmd_result b2;
    expect(s, usher_hold_book_sync(s->client, &opts, EV, 31, first.id, "p", &b1), 0, "book");
    expect(s, usher_hold_book_sync(s->client, &opts, EV, 31, first.id, "p", &b2), 0,
           "book again, same key");
    assert_true(b1.id == b2.id);
    assert_false(b1.replayed);
    assert_true(b2.replayed);
    /* A new key for the same book is a new command: refused, not replayed. */
    expect(s, usher_hold_book_sync(s->client, NULL, EV, 31, first.id, "p", &b2), USHER_HOLD_BOOKED,
           "book again, new key");
}

struct flight {
    uint32_t done;
    uint32_t ok;
    uint32_t taken;
    uint32_t other;
    uint64_t ids_xor;
};

static void on_flight(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct flight *f = ctx;
    f->done++;
    f->ok += status == 0;
    f->taken += status == USHER_SEAT_TAKEN;
    f->other += status != 0 && status != USHER_SEAT_TAKEN;
    f->ids_xor ^= status == 0 ? r->id : 0;
}

/* Starts n one-seat holds on seats 0..n-1 and runs the loop until all end. */
static void flight_run(uv_loop_t *loop, struct usher_client *c, uint32_t n, struct flight *f)
{
    memset(f, 0, sizeof(*f));
    for (uint32_t i = 0; i < n; i++) {
        assert_int_equal(usher_hold_seats(c, NULL, EV, 1000u + i, &i, 1, 0, f, on_flight), 0);
    }
    while (f->done < n) {
        (void)uv_run(loop, UV_RUN_ONCE); /* the calls' deadlines bound this */
    }
}

/* Goal: 1,000 holds in flight at once on one connection all get their own
 * answer: every seat held once, then every one refused SEAT_TAKEN. */
static void test_client_many_requests_in_flight_on_one_connection(void **state)
{
    struct server *s = *state;
    event_create(s, EV);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    const char *nodes[1] = { s->addr };
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = nodes;
    o.node_count = 1;
    o.call_timeout_ms = CALL_TIMEOUT_MS;
    o.inflight_max = 1100;
    struct usher_client *c = NULL;
    assert_int_equal(usher_client_create(&loop, &o, &c), 0);
    struct flight f;
    flight_run(&loop, c, 1000, &f);
    assert_int_equal(f.other, 0);
    assert_int_equal(f.ok, 1000);
    flight_run(&loop, c, 1000, &f);
    assert_int_equal(f.taken, 1000);
    usher_client_destroy(c, NULL, NULL);
    (void)uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    struct usher_availability *a = availability(s, EV);
    assert_int_equal(a->sections[0].held, 1000);
    free(a);
}

/* Goal: after SIGKILL and a restart on the same folder, bookings are still
 * there, and a retried book (same key) answers the first booking. */
static void test_client_bookings_survive_sigkill(void **state)
{
    struct server *s = *state;
    event_create(s, EV);
    struct usher_cmd_result bookings[5];
    uint64_t keys[5];
    for (uint32_t i = 0; i < 5; i++) {
        uint32_t seat = 100u + i;
        struct usher_cmd_result hold;
        expect(s, usher_hold_seats_sync(s->client, NULL, EV, 50u + i, &seat, 1, 0, &hold), 0,
               "hold");
        struct usher_call_opts opts;
        memset(&opts, 0, sizeof(opts));
        keys[i] = opts.idem_key = usher_key_next(s->client);
        expect(s, usher_hold_book_sync(s->client, &opts, EV, 50u + i, hold.id, "p", &bookings[i]),
               0, "book");
    }
    proc_signal(&s->proc, SIGKILL);
    (void)proc_wait(&s->proc, START_TIMEOUT_MS);
    if (server_start(s) != 0) {
        server_dump_log(s);
        fail_msg("usherd did not restart");
    }
    for (uint32_t i = 0; i < 5; i++) {
        struct usher_booking_info b;
        expect(s, usher_booking_get_sync(s->client, NULL, EV, bookings[i].id, &b), 0,
               "booking after restart");
        assert_int_equal(b.state, USHER_BOOKING_STATE_CONFIRMED);
        assert_int_equal(b.seats[0], 100u + i);
        struct usher_call_opts opts;
        memset(&opts, 0, sizeof(opts));
        opts.idem_key = keys[i];
        struct usher_hold_info h;
        expect(s, usher_hold_get_sync(s->client, NULL, EV, b.hold_id, &h), 0, "hold get");
        struct usher_cmd_result again;
        expect(s, usher_hold_book_sync(s->client, &opts, EV, 50u + i, h.id, "p", &again), 0,
               "book retried after restart");
        assert_true(again.id == bookings[i].id);
    }
    struct usher_availability *a = availability(s, EV);
    assert_int_equal(a->sections[0].booked, 5);
    free(a);
}

/* Runs the usher tool with args; returns its exit status, output in out. */
static int cli_run(const struct server *s, const char *const *args, char *out, size_t cap)
{
    char bin[512];
    char log[TEMPDIR_PATH_MAX + 16];
    (void)proc_build_path("client/usher", bin, sizeof(bin));
    (void)snprintf(log, sizeof(log), "%s/cli.out", s->dir);
    (void)unlink(log);
    char *argv[24];
    size_t n = 0;
    argv[n++] = bin;
    argv[n++] = (char *)(uintptr_t) "--node";
    argv[n++] = (char *)(uintptr_t)s->addr;
    for (size_t i = 0; args[i] != NULL && n < 23; i++) {
        argv[n++] = (char *)(uintptr_t)args[i];
    }
    argv[n] = NULL;
    struct proc p = { 0 };
    assert_int_equal(proc_spawn(&p, argv, log), 0);
    int status = proc_wait(&p, 60000);
    FILE *f = fopen(log, "r");
    size_t got = f != NULL ? fread(out, 1, cap - 1u, f) : 0;
    out[got] = '\0';
    if (f != NULL) {
        (void)fclose(f);
    }
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Goal: the CLI creates an event from a venue file, holds, draws the seat
 * map, and answers with its documented exit codes. */
static void test_client_cli_exit_codes_and_seat_map(void **state)
{
    struct server *s = *state;
    char venue[TEMPDIR_PATH_MAX + 16];
    (void)snprintf(venue, sizeof(venue), "%s/venue.json", s->dir);
    FILE *f = fopen(venue, "w");
    assert_non_null(f);
    (void)fputs("{ \"id\": 8001, \"name\": \"cli\", \"sections\": [ { \"label\": \"S\", "
                "\"rows\": [ { \"label\": \"A\", \"seats\": 10, \"count\": 2 } ] } ] }",
                f);
    assert_int_equal(fclose(f), 0);
    char out[8192];
    const char *create[] = { "event", "create", venue, NULL };
    assert_int_equal(cli_run(s, create, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "event 8001 created"));
    assert_int_equal(cli_run(s, create, out, sizeof(out)), 1); /* EVENT_EXISTS */
    const char *hold[] = { "hold", "8001", "--customer", "5", "--seat", "A-2,B-3", NULL };
    assert_int_equal(cli_run(s, hold, out, sizeof(out)), 0);
    const char *taken[] = { "hold", "8001", "--customer", "6", "--seat", "B-3", NULL };
    assert_int_equal(cli_run(s, taken, out, sizeof(out)), 1);
    assert_non_null(strstr(out, "SEAT_TAKEN"));
    /* The same client id and key: the second run answers the first hold. */
    const char *keyed[] = { "--client-id", "77", "--key",  "99",  "hold", "8001",
                            "--customer",  "5",  "--seat", "A-5", NULL };
    assert_int_equal(cli_run(s, keyed, out, sizeof(out)), 0);
    char first[sizeof(out)];
    memcpy(first, out, sizeof(first));
    assert_non_null(strstr(first, "client 77, key 99"));
    assert_int_equal(cli_run(s, keyed, out, sizeof(out)), 0);
    /* The same hold, now marked as a replay of the first answer. */
    assert_null(strstr(first, ", replayed"));
    char *mark = strstr(out, ", replayed");
    assert_non_null(mark);
    memmove(mark, mark + strlen(", replayed"), strlen(mark + strlen(", replayed")) + 1);
    assert_string_equal(out, first);
    const char *map[] = { "availability", "8001", NULL };
    assert_int_equal(cli_run(s, map, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "  A  .h..h.....   1-10"));
    assert_non_null(strstr(out, "  B  ..h.......   1-10"));
    const char *missing[] = { "event", "show", "999", NULL };
    assert_int_equal(cli_run(s, missing, out, sizeof(out)), 1);
    const char *usage[] = { "hold", "8001", "--seat", "A-1", NULL }; /* no --customer */
    assert_int_equal(cli_run(s, usage, out, sizeof(out)), 2);
    const char *json[] = { "--json", "status", NULL };
    assert_int_equal(cli_run(s, json, out, sizeof(out)), 0);
    assert_non_null(strstr(out, "\"shard_count\": 4"));
    const char *dead[] = { "--node", "127.0.0.1:1", "--timeout", "500ms", "ping", NULL };
    char bin_out[1024];
    /* The test's node answers, the dead one fails the command: 3. */
    assert_int_equal(cli_run(s, dead, bin_out, sizeof(bin_out)), 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_client_hold_book_cancel_release_flow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_hold_expires_and_cannot_be_booked, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_client_idempotent_retry_returns_the_first_result,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_many_requests_in_flight_on_one_connection,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_bookings_survive_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_cli_exit_codes_and_seat_map, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
