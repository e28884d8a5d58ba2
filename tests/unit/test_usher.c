/*
 * Unit tests of libusher's parts that need no server (client/usher_key.c,
 * usher_route.c, usher_heap.c, usher_spec.c) and of the public error table
 * of client/usher.h against src/err.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "shard.h"
#include "usher_int.h"

/* ---- Error codes ---- */

/* Goal: every code usher.h names has the value and name of src/err.h, and
 * every code of src/err.h is in usher.h: the public header cannot drift. */
static void test_usher_errno_map_matches_the_project_table(void **state)
{
    (void)state;
    uint32_t listed = 0;
#define CHECK_CODE(name, value)                       \
    assert_string_equal(err_name(value), #name);      \
    assert_string_equal(usher_errname(value), #name); \
    listed++;
    USHER_ERRNO_MAP(CHECK_CODE)
#undef CHECK_CODE
    uint32_t known = 0;
    for (int code = 0; code < 256; code++) {
        known += err_is_known(code) ? 1u : 0u;
    }
    assert_int_equal(listed, known);
}

/* Goal: domain and limit codes are refusals; request-level, client and node
 * faults are not. */
static void test_usher_is_refusal_covers_domain_and_limit_codes(void **state)
{
    (void)state;
    assert_true(usher_is_refusal(USHER_SEAT_TAKEN));
    assert_true(usher_is_refusal(USHER_EVENT_EXISTS));
    assert_true(usher_is_refusal(USHER_LIMIT_PAYMENT_REF));
    assert_false(usher_is_refusal(USHER_OK));
    assert_false(usher_is_refusal(USHER_BUSY));
    assert_false(usher_is_refusal(USHER_TIMEOUT));
    assert_false(usher_is_refusal(USHER_STORAGE));
    assert_false(usher_is_refusal(59)); /* not a code */
    assert_string_equal(usher_strerror(USHER_UNAVAILABLE), "no node could be reached");
}

/* ---- Keys, randomness, backoff ---- */

/* Goal: a key is the clock's ms shifted by 20 bits when that is larger than
 * the last key, and last + 1 otherwise (same ms, clock stepped back, or the
 * 2^20 counter spilling into the ms field): keys strictly increase. */
static void test_key_make_strictly_increases(void **state)
{
    (void)state;
    uint64_t k1 = usher_key_make(0, 1000);
    assert_true(k1 == 1000ull << 20);
    uint64_t k2 = usher_key_make(k1, 1000);
    assert_true(k2 == k1 + 1);
    uint64_t k3 = usher_key_make(k2, 1001);
    assert_true(k3 == 1001ull << 20);
    uint64_t back = usher_key_make(k3, 5); /* the clock went back */
    assert_true(back == k3 + 1);
    uint64_t full = (1000ull << 20) | 0xfffffu; /* 2^20 keys in ms 1000 */
    assert_true(usher_key_make(full, 1000) == 1001ull << 20);
}

/* Goal: splitmix64 gives the reference sequence (seed 0: 0xe220a8397b1dcdaf
 * first), so two clients seeded alike draw alike. */
static void test_key_rand_is_splitmix64(void **state)
{
    (void)state;
    uint64_t s = 0;
    assert_true(usher_key_rand(&s) == 0xe220a8397b1dcdafull);
    assert_true(usher_key_rand(&s) == 0x6e789e6aa1b965f4ull);
    uint64_t a = 42;
    uint64_t b = 42;
    for (int i = 0; i < 100; i++) {
        assert_true(usher_key_rand(&a) == usher_key_rand(&b));
    }
    assert_true(usher_key_seed() != 0);
}

/* Goal: full jitter maps rnd uniformly onto [0, min(max, base * 2^retry)],
 * at the exact bounds, without overflow for huge retry numbers. */
static void test_backoff_is_full_jitter_within_bounds(void **state)
{
    (void)state;
    assert_int_equal(usher_key_backoff_ms(10, 1000, 0, 10), 10);
    assert_int_equal(usher_key_backoff_ms(10, 1000, 0, 11), 0);
    assert_int_equal(usher_key_backoff_ms(10, 1000, 3, 80), 80);
    assert_int_equal(usher_key_backoff_ms(10, 1000, 3, 81), 0);
    assert_int_equal(usher_key_backoff_ms(10, 1000, 7, 1000), 1000); /* 1280 capped */
    assert_int_equal(usher_key_backoff_ms(10, 1000, 7, 1001), 0);
    assert_int_equal(usher_key_backoff_ms(10, 1000, 4000000000u, UINT64_MAX), UINT64_MAX % 1001);
    assert_true(usher_key_backoff_ms(50, 20, 0, UINT64_MAX) <= 20);
    /* Every value of the range is reached. */
    uint32_t seen[41];
    memset(seen, 0, sizeof(seen));
    for (uint64_t rnd = 0; rnd < 41; rnd++) {
        seen[usher_key_backoff_ms(10, 1000, 2, rnd)]++;
    }
    for (int i = 0; i < 41; i++) {
        assert_int_equal(seen[i], 1);
    }
}

/* Goal: trace ids are 16 random bytes, never all zero, new each time. */
static void test_trace_ids_differ_and_are_not_zero(void **state)
{
    (void)state;
    uint64_t s = 7;
    uint8_t a[PROTO_TRACE_ID_BYTES];
    uint8_t b[PROTO_TRACE_ID_BYTES];
    uint8_t zero[PROTO_TRACE_ID_BYTES];
    memset(zero, 0, sizeof(zero));
    usher_key_trace_id(&s, a);
    usher_key_trace_id(&s, b);
    assert_memory_not_equal(a, zero, sizeof(a));
    assert_memory_not_equal(a, b, sizeof(a));
}

/* ---- Routing ---- */

/* Goal: only "a.b.c.d:port" with a port 1..65535 parses. */
static void test_route_addr_parse_accepts_only_ipv4_and_port(void **state)
{
    (void)state;
    struct sockaddr_in sa;
    assert_int_equal(usher_route_addr_parse("127.0.0.1:7400", &sa), 0);
    assert_int_equal(ntohs(sa.sin_port), 7400);
    assert_int_equal(ntohl(sa.sin_addr.s_addr), 0x7f000001u);
    assert_int_equal(usher_route_addr_parse("10.1.2.3:65535", &sa), 0);
    const char *bad[] = { "127.0.0.1",     "127.0.0.1:",      "127.0.0.1:0",      ":7400",
                          "1.2.3:7400",    "127.0.0.1:65536", "127.0.0.1:123456", "localhost:7400",
                          "127.0.0.1:74x", "127.0.0.1:-1",    "1.2.3.4.5:80",     "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(usher_route_addr_parse(bad[i], &sa), USHER_INVALID);
    }
    assert_int_equal(usher_route_addr_parse(NULL, &sa), USHER_INVALID);
    char long_addr[128];
    memset(long_addr, '1', sizeof(long_addr) - 1u);
    long_addr[sizeof(long_addr) - 1u] = '\0';
    assert_int_equal(usher_route_addr_parse(long_addr, &sa), USHER_INVALID);
}

/* Goal: adding an address twice finds the same peer; the table holds
 * exactly USHER_NODES_LIMIT peers and then answers BUSY. */
static void test_route_peer_add_dedups_and_is_bounded(void **state)
{
    (void)state;
    struct usher_route *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    uint32_t a = 99;
    uint32_t b = 99;
    assert_int_equal(usher_route_peer_add(r, "127.0.0.1:7400", &a), 0);
    assert_int_equal(usher_route_peer_add(r, "127.0.0.1:7400", &b), 0);
    assert_int_equal(a, 0);
    assert_int_equal(b, 0);
    assert_string_equal(r->peers[0].addr, "127.0.0.1:7400");
    for (uint32_t i = 1; i < USHER_NODES_LIMIT; i++) {
        char addr[32];
        (void)snprintf(addr, sizeof(addr), "10.0.0.%u:7400", i);
        assert_int_equal(usher_route_peer_add(r, addr, &a), 0);
        assert_int_equal(a, i);
    }
    assert_int_equal(usher_route_peer_add(r, "10.0.1.1:7400", &a), USHER_BUSY);
    assert_int_equal(usher_route_peer_add(r, "10.0.0.5:7400", &a), 0); /* known: still found */
    assert_int_equal(a, 5);
    assert_int_equal(usher_route_peer_add(r, "nope", &a), USHER_INVALID);
    free(r);
}

/* Returns an event id whose shard among `count` is `shard`. */
static uint64_t event_in_shard(uint32_t shard, uint32_t count)
{
    for (uint64_t id = 1; id < 100000; id++) {
        if (shard_of_event(id, count) == shard) {
            return id;
        }
    }
    fail_msg("no event in shard %u", shard);
    return 0;
}

static struct usher_route *route_of_three(void)
{
    struct usher_route *r = calloc(1, sizeof(*r));
    assert_non_null(r);
    uint32_t i = 0;
    assert_int_equal(usher_route_peer_add(r, "127.0.0.1:7001", &i), 0);
    assert_int_equal(usher_route_peer_add(r, "127.0.0.1:7002", &i), 0);
    assert_int_equal(usher_route_peer_add(r, "127.0.0.1:7003", &i), 0);
    return r;
}

/* Goal: an event goes to its shard's leader once known (by event id through
 * XXH64), other events go to the cursor's node, and before any status the
 * shard count is unknown so every event goes to the cursor's node. */
static void test_route_pick_follows_the_shard_leader(void **state)
{
    (void)state;
    struct usher_route *r = route_of_three();
    uint64_t ev0 = event_in_shard(0, 4);
    uint64_t ev2 = event_in_shard(2, 4);
    assert_int_equal(usher_route_pick(r, ev2, 0), 0);
    usher_route_leader_set(r, ev2, 2); /* no shard count yet: ignored */
    assert_int_equal(usher_route_pick(r, ev2, 0), 0);
    struct proto_node_status *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->shard_count = 4;
    s->listed = 4;
    for (uint32_t i = 0; i < 4; i++) {
        s->shards[i].shard = i;
        s->shards[i].role = i == 2 ? PROTO_ROLE_LEADER : PROTO_ROLE_FOLLOWER;
    }
    usher_route_status_learn(r, 1, s); /* peer 1 leads shard 2 */
    assert_int_equal(r->shard_count, 4);
    assert_int_equal(usher_route_pick(r, ev2, 0), 1);
    assert_int_equal(usher_route_pick(r, ev0, 0), 0);
    assert_int_equal(usher_route_pick(r, 0, 0), 0);
    usher_route_leader_set(r, ev0, 2); /* a redirect names peer 2 */
    assert_int_equal(usher_route_pick(r, ev0, 0), 2);
    usher_route_leader_forget(r, ev0);
    assert_int_equal(usher_route_pick(r, ev0, 0), 0);
    /* Peer 1 now says it follows shard 2: its leadership is forgotten. */
    s->shards[2].role = PROTO_ROLE_FOLLOWER;
    usher_route_status_learn(r, 1, s);
    assert_int_equal(usher_route_pick(r, ev2, 0), 0);
    free(s);
    free(r);
}

/* Goal: a failed node is avoided until its time is up, loses its
 * leaderships and moves the cursor; when every node is avoided, the one
 * avoided the shortest is picked; a good answer clears the avoidance. */
static void test_route_avoids_failed_nodes_for_a_while(void **state)
{
    (void)state;
    struct usher_route *r = route_of_three();
    struct proto_node_status *s = calloc(1, sizeof(*s));
    assert_non_null(s);
    s->shard_count = 2;
    s->listed = 1;
    s->shards[0].shard = 1;
    s->shards[0].role = PROTO_ROLE_LEADER;
    usher_route_status_learn(r, 0, s);
    uint64_t ev = event_in_shard(1, 2);
    assert_int_equal(usher_route_pick(r, ev, 100), 0);
    usher_route_peer_failed(r, 0, 100, 50); /* avoided until 150 */
    assert_int_equal(r->leader[1], 0);
    assert_int_equal(usher_route_pick(r, ev, 100), 1);
    assert_int_equal(usher_route_pick(r, 0, 149), 1);
    usher_route_peer_failed(r, 1, 100, 10);  /* until 110 */
    usher_route_peer_failed(r, 2, 100, 500); /* until 600 */
    assert_int_equal(usher_route_pick(r, 0, 105), 1);
    assert_int_equal(usher_route_pick(r, 0, 110), 1); /* its time is up */
    usher_route_peer_ok(r, 2);
    assert_int_equal(r->peers[2].fail_count, 0);
    assert_int_equal(usher_route_pick(r, 0, 105), 2);
    /* A status with a new shard count drops everything learnt before. */
    usher_route_status_learn(r, 2, s);
    assert_int_equal(r->leader[1], 3);
    s->shard_count = 8;
    s->listed = 0;
    usher_route_status_learn(r, 2, s);
    assert_int_equal(r->shard_count, 8);
    assert_int_equal(r->leader[1], 0);
    free(s);
    free(r);
}

/* ---- Timer heap ---- */

/* Goal: calls come out of the heap in wake order, also after removals from
 * the middle, and each call's heap_idx names its place. */
static void test_heap_orders_calls_by_wake_time(void **state)
{
    (void)state;

    enum { N = 200 };
    struct usher_heap h;
    assert_int_equal(usher_heap_init(&h, N), 0);
    struct usher_call *calls = calloc(N, sizeof(*calls));
    assert_non_null(calls);
    uint64_t rng = 1;
    for (uint32_t i = 0; i < N; i++) {
        calls[i].heap_idx = HEAP_NONE;
        calls[i].wake_ms = usher_key_rand(&rng) % 1000u;
        usher_heap_push(&h, &calls[i]);
    }
    for (uint32_t i = 0; i < N; i += 3) {
        usher_heap_remove(&h, &calls[i]);
        assert_int_equal(calls[i].heap_idx, HEAP_NONE);
        usher_heap_remove(&h, &calls[i]); /* not in the heap: no-op */
    }
    for (uint32_t i = 0; i < h.count; i++) {
        assert_int_equal(h.items[i]->heap_idx, i);
    }
    uint64_t last = 0;
    uint32_t popped = 0;
    for (struct usher_call *c = usher_heap_top(&h); c != NULL; c = usher_heap_top(&h)) {
        assert_true(c->wake_ms >= last);
        last = c->wake_ms;
        usher_heap_remove(&h, c);
        popped++;
    }
    assert_int_equal(popped, N - (N + 2) / 3);
    usher_heap_close(&h);
    free(calls);
}

/* ---- Event descriptions ---- */

static struct usher_event_spec *spec_small(void)
{
    struct usher_event_spec *s = NULL;
    assert_int_equal(usher_event_spec_create(77, "Hall", &s), 0);
    assert_int_equal(usher_event_spec_section_add(s, "Stalls", NULL), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 10, 1), 0);
    assert_int_equal(usher_event_spec_row_add(s, "B", 12, 101), 0);
    uint32_t ga = 0;
    assert_int_equal(usher_event_spec_ga_add(s, "Floor", 500, &ga), 0);
    assert_int_equal(ga, 1);
    assert_int_equal(usher_event_spec_section_add(s, "Balcony", NULL), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 5, 1), 0);
    return s;
}

/* Goal: the builder lays seats out section by section, row by row, and
 * the readers report that layout. */
static void test_spec_builder_lays_out_dense_seat_indexes(void **state)
{
    (void)state;
    struct usher_event_spec *s = spec_small();
    struct usher_event_info info;
    usher_event_spec_info(s, &info);
    assert_int_equal(info.section_count, 3);
    assert_int_equal(info.row_count, 3);
    assert_int_equal(info.seat_count, 27);
    assert_string_equal(info.name, "Hall");
    struct usher_section_info sec;
    assert_int_equal(usher_event_spec_section(s, 2, &sec), 0);
    assert_string_equal(sec.label, "Balcony");
    assert_int_equal(sec.seat_first, 22);
    assert_int_equal(sec.row_first, 2);
    assert_int_equal(usher_event_spec_section(s, 1, &sec), 0);
    assert_int_equal(sec.kind, USHER_SECTION_GA);
    assert_int_equal(sec.ga_capacity, 500);
    assert_int_equal(usher_event_spec_section(s, 3, &sec), USHER_INVALID);
    struct usher_row_info row;
    assert_int_equal(usher_event_spec_row(s, 1, &row), 0);
    assert_int_equal(row.seat_first, 10);
    assert_int_equal(row.number_first, 101);
    uint32_t r = 0;
    assert_int_equal(usher_event_spec_seat_row(s, 21, &r), 0);
    assert_int_equal(r, 1);
    assert_int_equal(usher_event_spec_seat_row(s, 27, &r), USHER_NO_SUCH_SEAT);
    assert_int_equal(usher_event_spec_validate(s), 0);
    usher_event_spec_destroy(s);
}

/* Goal: seat labels read "<row>-<number>" and are found again; a row label
 * used in two sections needs its section; bad labels are refused. */
static void test_spec_seat_labels_round_trip(void **state)
{
    (void)state;
    struct usher_event_spec *s = spec_small();
    char label[32];
    assert_int_equal(usher_event_spec_seat_label(s, 11, label, sizeof(label)), 0);
    assert_string_equal(label, "B-102");
    uint32_t seat = 0;
    assert_int_equal(usher_event_spec_seat_find(s, "B-102", &seat), 0);
    assert_int_equal(seat, 11);
    assert_int_equal(usher_event_spec_seat_find(s, "A-3", &seat), USHER_NO_SUCH_SEAT);
    assert_int_equal(usher_event_spec_seat_find(s, "Stalls/A-3", &seat), 0);
    assert_int_equal(seat, 2);
    assert_int_equal(usher_event_spec_seat_find(s, "Balcony/A-5", &seat), 0);
    assert_int_equal(seat, 26);
    assert_int_equal(usher_event_spec_seat_find(s, "Balcony/A-6", &seat), USHER_NO_SUCH_SEAT);
    assert_int_equal(usher_event_spec_seat_find(s, "B-100", &seat), USHER_NO_SUCH_SEAT);
    assert_int_equal(usher_event_spec_seat_find(s, "B", &seat), USHER_INVALID);
    assert_int_equal(usher_event_spec_seat_find(s, "B-", &seat), USHER_INVALID);
    assert_int_equal(usher_event_spec_seat_find(s, "/B-1", &seat), USHER_INVALID);
    assert_int_equal(usher_event_spec_seat_label(s, 27, label, sizeof(label)), USHER_NO_SUCH_SEAT);
    assert_int_equal(usher_event_spec_seat_label(s, 11, label, 4), USHER_LIMIT_LABEL_LEN);
    uint32_t idx = 0;
    assert_int_equal(usher_event_spec_section_find(s, "Floor", &idx), 0);
    assert_int_equal(idx, 1);
    assert_int_equal(usher_event_spec_section_find(s, "Roof", &idx), USHER_NO_SUCH_SECTION);
    usher_event_spec_destroy(s);
}

/* Goal: the builder refuses what the cluster would, at the exact bounds. */
static void test_spec_builder_checks_limits_at_the_bound(void **state)
{
    (void)state;
    struct usher_event_spec *s = NULL;
    assert_int_equal(usher_event_spec_create(0, "x", &s), USHER_INVALID);
    char name[80];
    memset(name, 'n', sizeof(name));
    name[USHER_NAME_LEN_LIMIT + 1] = '\0';
    assert_int_equal(usher_event_spec_create(1, name, &s), USHER_LIMIT_LABEL_LEN);
    name[USHER_NAME_LEN_LIMIT] = '\0';
    assert_int_equal(usher_event_spec_create(1, name, &s), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 1, 1), USHER_INVALID); /* no section */
    assert_int_equal(usher_event_spec_section_add(s, "", NULL), USHER_INVALID);
    assert_int_equal(usher_event_spec_section_add(s, "0123456789abcdef", NULL),
                     USHER_LIMIT_LABEL_LEN);
    assert_int_equal(usher_event_spec_section_add(s, "0123456789abcde", NULL), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 0, 1), USHER_INVALID);
    assert_int_equal(usher_event_spec_row_add(s, "A", 1025, 1), USHER_LIMIT_ROW_SEATS);
    assert_int_equal(usher_event_spec_row_add(s, "A", 1024, 1), 0);
    assert_int_equal(usher_event_spec_row_add(s, "B", 2, 65535), USHER_INVALID);
    assert_int_equal(usher_event_spec_row_add(s, "B", 1, 65535), 0);
    assert_int_equal(usher_event_spec_ga_add(s, "GA", 0, NULL), USHER_INVALID);
    assert_int_equal(usher_event_spec_ga_add(s, "GA", USHER_GA_CAPACITY_LIMIT + 1, NULL),
                     USHER_LIMIT_GA_CAPACITY);
    assert_int_equal(usher_event_spec_ga_add(s, "GA", USHER_GA_CAPACITY_LIMIT, NULL), 0);
    assert_int_equal(usher_event_spec_row_add(s, "C", 1, 1), USHER_INVALID); /* GA last */
    assert_int_equal(usher_event_spec_sale_window_set(s, 10, 10), USHER_INVALID);
    assert_int_equal(usher_event_spec_sale_window_set(s, 10, 0), 0);
    assert_int_equal(usher_event_spec_validate(s), 0);
    usher_event_spec_destroy(s);
}

/* Goal: rules checked on the whole event come back as the cluster's codes:
 * a repeated row label, TTL bounds out of order, a seated section with no
 * rows, too many seats. */
static void test_spec_validate_answers_as_the_cluster(void **state)
{
    (void)state;
    struct usher_event_spec *s = NULL;
    assert_int_equal(usher_event_spec_create(5, NULL, &s), 0);
    assert_int_equal(usher_event_spec_section_add(s, "S", NULL), 0);
    assert_int_equal(usher_event_spec_validate(s), USHER_INVALID); /* no rows */
    assert_int_equal(usher_event_spec_row_add(s, "A", 3, 1), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 3, 1), 0);
    assert_int_equal(usher_event_spec_validate(s), USHER_DUPLICATE_LABEL);
    usher_event_spec_destroy(s);
    assert_int_equal(usher_event_spec_create(5, NULL, &s), 0);
    assert_int_equal(usher_event_spec_section_add(s, "S", NULL), 0);
    assert_int_equal(usher_event_spec_row_add(s, "A", 3, 1), 0);
    usher_event_spec_hold_ttl_set(s, 120000, 60000, 0);
    assert_int_equal(usher_event_spec_validate(s), USHER_TTL_OUT_OF_RANGE);
    usher_event_spec_hold_ttl_set(s, 0, 0, 0);
    usher_event_spec_limits_set(s, USHER_HOLD_SEATS_LIMIT + 1, 0);
    assert_int_equal(usher_event_spec_validate(s), USHER_LIMIT_HOLD_SEATS);
    usher_event_spec_destroy(s);
    assert_int_equal(usher_event_spec_create(6, NULL, &s), 0);
    assert_int_equal(usher_event_spec_section_add(s, "S", NULL), 0);
    int rc = 0;
    for (uint32_t i = 0; rc == 0; i++) {
        char label[16];
        (void)snprintf(label, sizeof(label), "R%u", i);
        rc = usher_event_spec_row_add(s, label, 1024, 1);
    }
    assert_int_equal(rc, USHER_LIMIT_EVENT_SEATS);
    struct usher_event_info info;
    usher_event_spec_info(s, &info);
    assert_int_equal(info.seat_count, USHER_EVENT_SEATS_LIMIT); /* 256 full rows fit exactly */
    usher_event_spec_destroy(s);
}

/* Goal: a description survives the trip through the wire format: encoded
 * as the cluster gets it, decoded as a node sends it back. */
static void test_spec_survives_the_event_codec(void **state)
{
    (void)state;
    struct usher_event_spec *s = spec_small();
    assert_int_equal(usher_event_spec_sale_window_set(s, 1000, 2000), 0);
    usher_event_spec_hold_ttl_set(s, 2000, 3000, 4000);
    struct event *e = NULL;
    assert_int_equal(usher_spec_to_event(s, &e), 0);
    uint8_t *buf = malloc(USHER_CMD_BYTES_MAX);
    assert_non_null(buf);
    size_t len = 0;
    assert_int_equal(codec_event_encode(e, buf, USHER_CMD_BYTES_MAX, &len), 0);
    struct event *back = NULL;
    assert_int_equal(codec_event_decode(buf, len, &back), 0);
    assert_true(event_equal(e, back));
    struct usher_event_spec *s2 = NULL;
    assert_int_equal(usher_spec_from_event(back, &s2), 0);
    struct usher_event_info a;
    struct usher_event_info b;
    usher_event_spec_info(s, &a);
    usher_event_spec_info(s2, &b);
    assert_memory_equal(&a, &b, sizeof(a));
    char label[32];
    assert_int_equal(usher_event_spec_seat_label(s2, 26, label, sizeof(label)), 0);
    assert_string_equal(label, "A-5");
    usher_event_spec_destroy(s2);
    event_destroy(back);
    event_destroy(e);
    free(buf);
    usher_event_spec_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usher_errno_map_matches_the_project_table),
        cmocka_unit_test(test_usher_is_refusal_covers_domain_and_limit_codes),
        cmocka_unit_test(test_key_make_strictly_increases),
        cmocka_unit_test(test_key_rand_is_splitmix64),
        cmocka_unit_test(test_backoff_is_full_jitter_within_bounds),
        cmocka_unit_test(test_trace_ids_differ_and_are_not_zero),
        cmocka_unit_test(test_route_addr_parse_accepts_only_ipv4_and_port),
        cmocka_unit_test(test_route_peer_add_dedups_and_is_bounded),
        cmocka_unit_test(test_route_pick_follows_the_shard_leader),
        cmocka_unit_test(test_route_avoids_failed_nodes_for_a_while),
        cmocka_unit_test(test_heap_orders_calls_by_wake_time),
        cmocka_unit_test(test_spec_builder_lays_out_dense_seat_indexes),
        cmocka_unit_test(test_spec_seat_labels_round_trip),
        cmocka_unit_test(test_spec_builder_checks_limits_at_the_bound),
        cmocka_unit_test(test_spec_validate_answers_as_the_cluster),
        cmocka_unit_test(test_spec_survives_the_event_codec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
