/*
 * Deterministic multi-replica tests of a shard group (STYLE.md 10.6).
 *
 * libraft's raft_fixture (built into libraft.so; RAFT-NOTES §1.8) runs 3 or 5
 * raft servers on an in-memory raft_io with one virtual clock. Each server
 * has the real fsm (raft/fsm.h) over its own LMDB store in its own temp dir,
 * so every entry goes through fsm_apply() and inv_apply_encoded() as in the
 * daemon. Entries are built as batch.c builds them: a batch (codec.h) stamped
 * with a leader time, zero-padded to a multiple of 8 bytes, raft_malloc'd.
 *
 *   cluster                   servers[i] (fixture)      replica i
 *   stream of proposals  -->  raft + in-memory io  -->  fsm --> inv (LMDB)
 *   faults: kill, depose, partitions, message loss, all drawn from the seed
 *
 * After each run a checker compares the replicas: inv_dump() byte-identical,
 * inv_check() clean, no seat with two owners, and every claimed seat taken in
 * the availability bitmap (and every free one unclaimed).
 *
 * Seeds: each test runs SEEDS_DEFAULT seeds from SEED_FIRST_DEFAULT, or only
 * the seed in USHER_SEED. A failing run prints its seed and the command line
 * that replays it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <raft.h>
#include <raft/fixture.h>

#include "codec.h"
#include "fsm.h"
#include "invfix.h"
#include "tempdir.h"

#define SEEDS_DEFAULT      50u
#define SEED_FIRST_DEFAULT 1u

#define SERVERS_MAX    5u
#define EVENT_ID       77u
#define EVENT_ROWS     2u
#define ROW_SEATS      10u
#define SEAT_COUNT     (EVENT_ROWS * ROW_SEATS)
#define CUSTOMERS      5u  /* customer ids 1..CUSTOMERS compete for the seats */
#define STRANDED_ID    99u /* the customer of proposals cut off from a majority */
#define QUIET_EVENT_ID 78u /* an event the random stream never touches */

#define ENTRY_CMDS_MAX  4u     /* commands per proposed entry */
#define ENTRY_BYTES_MAX 16384u /* encoded batch of one entry */
#define PROPOSALS_MAX   512u
#define BARRIERS_MAX    256u
#define REFS_MAX        64u /* hold and booking ids remembered (a ring) */
#define REFS_RECENT     16u /* commands pick among the most recent ones */
#define PAST_MAX        64u /* commands kept for retries (a ring) */
#define CLAIMS_MAX      4096u

/* Bounds of virtual time (ms) for the waits. */
#define LEADER_WAIT_MS 30000u
#define SETTLE_MS      60000u
#define STEP_DOWN_MS   10000u

/* A stamp step per entry: holds (TTL 60..120 s) expire after a few entries. */
#define STAMP_STEP_MS_MAX 15000u
#define TTL_MS_MIN        60000u
#define TTL_MS_SPAN       60000u

/* A proposed entry. It stays allocated until the cluster is destroyed, since
 * raft_fixture_close() may still call its callback (LEADERSHIPLOST). */
struct proposal {
    struct raft_apply req;
    uint32_t server;
    uint32_t count;
    struct cmd cmds[ENTRY_CMDS_MAX];
    bool done;
    bool learned;    /* its results were counted */
    int status;      /* raft's status in the callback */
    bool has_result; /* the fsm's output reached the callback */
    uint64_t out_index;
    struct cmd_result results[ENTRY_CMDS_MAX];
};

struct replica {
    char dir[TEMPDIR_PATH_MAX];
    struct inv *inv;
    struct fsm fsm;
};

struct ref {
    uint64_t id;
    uint64_t customer_id;
};

struct stats {
    uint32_t ok_by_type[CMD_TYPE_MAX + 1];
    uint32_t seat_taken;
    uint32_t refused;
    uint32_t replayed;
    uint32_t lost; /* proposals answered with a raft error */
};

struct cluster {
    struct raft_fixture f;
    uint32_t n;
    uint64_t rng;
    struct replica rep[SERVERS_MAX];
    struct invfix builder; /* client id and keys of the commands; no store */
    uint64_t ts_ms;
    uint32_t loss_per_mille;               /* message loss: link flips per 1000 steps */
    uint32_t saturated;                    /* links the loss saturated */
    uint32_t flips;                        /* link changes the loss made */
    uint8_t cut[SERVERS_MAX][SERVERS_MAX]; /* partition: 0, CUT_DISCONNECT or CUT_SATURATE */
    uint32_t proposal_count;
    struct proposal *proposals;
    uint32_t barrier_count;
    struct raft_barrier barriers[BARRIERS_MAX];
    uint32_t hold_count;
    struct ref holds[REFS_MAX];
    uint32_t booking_count;
    struct ref bookings[REFS_MAX];
    uint32_t past_count;
    struct cmd past[PAST_MAX];
    struct stats stats;
    uint8_t scratch[ENTRY_BYTES_MAX];
};

enum { CUT_NONE = 0, CUT_DISCONNECT = 1, CUT_SATURATE = 2 };

/* What the cmocka state holds: the seed being run and the cluster to clean
 * up when a run fails half-way. */
struct run {
    const char *test;
    uint64_t seed;
    bool running;
    struct cluster *c;
    struct stats total;
};

/* ---- Seeds ---- */

static uint64_t splitmix(uint64_t *x)
{
    *x += 0x9e3779b97f4a7c15ull;
    uint64_t z = *x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A number below bound (0 when bound is 0 or 1). */
static uint32_t rnd(struct cluster *c, uint32_t bound)
{
    uint64_t x = splitmix(&c->rng);
    return bound <= 1u ? 0u : (uint32_t)(x % bound);
}

/* The seeds to run: USHER_SEED alone, or the default range. */
static void seeds_get(uint64_t *first, uint32_t *count)
{
    const char *env = getenv("USHER_SEED");
    if (env == NULL || env[0] == '\0') {
        *first = SEED_FIRST_DEFAULT;
        *count = SEEDS_DEFAULT;
        return;
    }
    char *end = NULL;
    unsigned long long v = strtoull(env, &end, 0);
    if (end == env || *end != '\0') {
        fail_msg("USHER_SEED is not a number: %s", env);
    }
    *first = v;
    *count = 1;
}

static int run_setup(void **state)
{
    struct run *run = calloc(1, sizeof(*run));
    assert_non_null(run);
    *state = run;
    return 0;
}

static void cluster_destroy(struct cluster *c);

static int run_teardown(void **state)
{
    struct run *run = *state;
    if (run->running) {
        print_error("%s failed at seed %llu; replay: USHER_SEED=%llu tests/raft/test_fixture\n",
                    run->test, (unsigned long long)run->seed, (unsigned long long)run->seed);
    }
    if (run->c != NULL) {
        cluster_destroy(run->c);
    }
    free(run);
    return 0;
}

static void run_begin(struct run *run, const char *test, uint64_t seed)
{
    run->test = test;
    run->seed = seed;
    run->running = true;
}

static void stats_add(struct stats *to, const struct stats *from)
{
    for (uint32_t i = 0; i <= CMD_TYPE_MAX; i++) {
        to->ok_by_type[i] += from->ok_by_type[i];
    }
    to->seat_taken += from->seat_taken;
    to->refused += from->refused;
    to->replayed += from->replayed;
    to->lost += from->lost;
}

/* Ends a seed's run: keeps its counts and destroys its cluster. */
static void run_end(struct run *run)
{
    stats_add(&run->total, &run->c->stats);
    cluster_destroy(run->c);
    run->c = NULL;
    run->running = false;
}

/* ---- Cluster life cycle ---- */

static uint32_t all_mask(const struct cluster *c)
{
    return (1u << c->n) - 1u;
}

static bool in_mask(uint32_t mask, uint32_t i)
{
    return (mask & (1u << i)) != 0;
}

static void replica_open(struct cluster *c, uint32_t i)
{
    struct replica *r = &c->rep[i];
    assert_int_equal(tempdir_make("fx", r->dir, sizeof(r->dir)), 0);
    struct inv_options o = { .map_bytes = INVFIX_MAP_BYTES, .idem_window_ms = 0, .durable = false };
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = inv_open(r->dir, &o, &r->inv, errmsg);
    if (rc != 0) {
        fail_msg("inv_open %s: %s: %s", r->dir, err_name(rc), errmsg);
    }
    /* The fixture's raft of server i lives in f.servers[i]; raft_init()
     * (in raft_fixture_grow) fills it in place. */
    /* Synchronous snapshots (FSM version 2): with version 3 the fixture of
     * libraft 0.15 ran one asynchronous snapshot per server and then never
     * completed the next one's put, so logs stopped compacting. usherd's
     * asynchronous path runs against real raft_uv in test_group.c and
     * tests/integration/test_cluster.c. */
    fsm_init(&r->fsm, &c->f.servers[i].raft, r->inv, 1, false, false);
    assert_int_equal(raft_fixture_grow(&c->f, &r->fsm.raft_fsm), 0);
    assert_int_equal(raft_fixture_n(&c->f), i + 1u);
}

/* Distinct election timeouts in a seeded order, so the seed picks which
 * server times out first (the fixture's io->random returns a fixed value). */
static void timeouts_shuffle(struct cluster *c)
{
    uint32_t order[SERVERS_MAX] = { 0, 1, 2, 3, 4 };
    static_assert(SERVERS_MAX == 5, "one initialiser per server");
    for (uint32_t i = c->n - 1u; i > 0 && i < SERVERS_MAX; i--) {
        uint32_t j = rnd(c, i + 1u);
        uint32_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        raft_fixture_set_randomized_election_timeout(&c->f, i,
                                                     1000u + order[i] * 150u + rnd(c, 100));
        raft_fixture_set_network_latency(&c->f, i, 5u + rnd(c, 20));
        raft_fixture_set_disk_latency(&c->f, i, 2u + rnd(c, 15));
    }
}

/* Creates a started cluster of n servers with seed's schedule. */
static struct cluster *cluster_create(struct run *run, uint32_t n, uint64_t seed)
{
    assert_true(n >= 1 && n <= SERVERS_MAX);
    struct cluster *c = calloc(1, sizeof(*c)); /* zeroed: f.n must start at 0 */
    assert_non_null(c);
    c->proposals = calloc(PROPOSALS_MAX, sizeof(*c->proposals));
    assert_non_null(c->proposals);
    run->c = c;
    c->n = n;
    c->rng = seed * 0x2545f4914f6cdd1dull + n;
    c->builder.client_id = INVFIX_CLIENT_ID;
    c->ts_ms = INVFIX_T0;
    assert_int_equal(raft_fixture_initialize(&c->f), 0);
    for (uint32_t i = 0; i < n; i++) {
        replica_open(c, i);
    }
    timeouts_shuffle(c);
    struct raft_configuration conf;
    assert_int_equal(raft_fixture_configuration(&c->f, n, &conf), 0);
    assert_int_equal(raft_fixture_bootstrap(&c->f, &conf), 0);
    raft_configuration_close(&conf);
    assert_int_equal(raft_fixture_start(&c->f), 0);
    return c;
}

static void cluster_destroy(struct cluster *c)
{
    /* Fires the callbacks still pending (LEADERSHIPLOST) into c->proposals. */
    raft_fixture_close(&c->f);
    for (uint32_t i = 0; i < c->n; i++) {
        inv_close(c->rep[i].inv);
        assert_int_equal(tempdir_remove(c->rep[i].dir), 0);
    }
    free(c->proposals);
    free(c);
}

/* ---- Stepping and faults ---- */

static struct raft *server(struct cluster *c, uint32_t i)
{
    return raft_fixture_get(&c->f, i);
}

/* Flips one directed link between saturated and not (message loss). At
 * most n links are saturated at once, so a majority often stays reachable. */
static void loss_flip(struct cluster *c)
{
    uint32_t i = rnd(c, c->n);
    uint32_t j = rnd(c, c->n);
    if (i == j) {
        return;
    }
    if (raft_fixture_saturated(&c->f, i, j)) {
        raft_fixture_desaturate(&c->f, i, j);
        c->saturated--;
        c->flips++;
    } else if (c->saturated < c->n) {
        raft_fixture_saturate(&c->f, i, j);
        c->saturated++;
        c->flips++;
    }
}

/* Ends message loss: every link delivers again. */
static void loss_stop(struct cluster *c)
{
    c->loss_per_mille = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        for (uint32_t j = 0; j < c->n; j++) {
            if (i != j && raft_fixture_saturated(&c->f, i, j)) {
                raft_fixture_desaturate(&c->f, i, j);
            }
        }
    }
    c->saturated = 0;
}

static void step(struct cluster *c)
{
    if (c->loss_per_mille > 0 && rnd(c, 1000) < c->loss_per_mille) {
        loss_flip(c);
    }
    (void)raft_fixture_step(&c->f); /* returns the event it fired */
}

static void steps(struct cluster *c, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        step(c);
    }
}

/* The live leader with the highest term among the servers of mask, or n.
 * The fixture's own leader_id needs every connected server to acknowledge
 * it, which a disconnected (not saturated) minority never does. */
static uint32_t leader_in(struct cluster *c, uint32_t mask)
{
    uint32_t best = c->n;
    raft_term term = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        struct raft *r = server(c, i);
        if (!in_mask(mask, i) || !raft_fixture_alive(&c->f, i) || raft_state(r) != RAFT_LEADER) {
            continue;
        }
        if (r->current_term > term) {
            best = i;
            term = r->current_term;
        }
    }
    return best;
}

static uint32_t leader_wait(struct cluster *c, uint32_t mask)
{
    raft_time start = raft_fixture_time(&c->f);
    uint32_t l = leader_in(c, mask);
    while (l == c->n) {
        if (raft_fixture_time(&c->f) - start > LEADER_WAIT_MS) {
            fail_msg("no leader among servers 0x%x within %u ms", mask, LEADER_WAIT_MS);
        }
        step(c);
        l = leader_in(c, mask);
    }
    return l;
}

/* Cuts every link between the servers of side and the others, both ways. */
static void partition(struct cluster *c, uint32_t side, uint8_t how)
{
    for (uint32_t i = 0; i < c->n; i++) {
        for (uint32_t j = 0; j < c->n; j++) {
            if (in_mask(side, i) == in_mask(side, j)) {
                continue;
            }
            c->cut[i][j] = how;
            if (how == CUT_DISCONNECT) {
                raft_fixture_disconnect(&c->f, i, j);
            } else {
                raft_fixture_saturate(&c->f, i, j);
            }
        }
    }
}

static void heal(struct cluster *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        for (uint32_t j = 0; j < c->n; j++) {
            if (c->cut[i][j] == CUT_DISCONNECT) {
                raft_fixture_reconnect(&c->f, i, j);
            } else if (c->cut[i][j] == CUT_SATURATE) {
                raft_fixture_desaturate(&c->f, i, j);
            }
            c->cut[i][j] = CUT_NONE;
        }
    }
}

/* ---- Proposals ---- */

static void remember(struct ref *ring, uint32_t *count, uint64_t id, uint64_t customer_id)
{
    ring[*count % REFS_MAX] = (struct ref){ .id = id, .customer_id = customer_id };
    (*count)++;
}

/* Counts a result and learns the ids it made. */
static void learn(struct cluster *c, const struct cmd *cmd, const struct cmd_result *res)
{
    if (res->replayed) {
        c->stats.replayed++;
    }
    if (res->status == USHER_SEAT_TAKEN) {
        c->stats.seat_taken++;
    }
    if (res->status != 0) {
        c->stats.refused++;
        return;
    }
    c->stats.ok_by_type[res->type]++;
    if (res->type == CMD_HOLD_SEATS) {
        remember(c->holds, &c->hold_count, res->id, cmd->customer_id);
    } else if (res->type == CMD_HOLD_BOOK) {
        remember(c->bookings, &c->booking_count, res->id, cmd->customer_id);
    }
}

static void on_applied(struct raft_apply *req, int status, void *result)
{
    struct proposal *p = req->data;
    p->done = true;
    p->status = status;
    if (status != 0 || result == NULL) {
        return;
    }
    const struct fsm_output *out = result;
    p->has_result = true;
    p->out_index = out->index;
    uint32_t n = out->count < ENTRY_CMDS_MAX ? out->count : ENTRY_CMDS_MAX;
    memcpy(p->results, out->results, n * sizeof(out->results[0]));
}

static void on_barrier(struct raft_barrier *req, int status)
{
    (void)req;
    (void)status; /* a lost barrier is retried by settle() */
}

/* Proposes cmds as one entry on server i. Returns the proposal; its status
 * is raft_apply's code when raft refused it (done at once). */
static struct proposal *propose_on(struct cluster *c, uint32_t i, const struct cmd *cmds,
                                   uint32_t n)
{
    assert_true(n >= 1 && n <= ENTRY_CMDS_MAX);
    assert_true(c->proposal_count < PROPOSALS_MAX);
    struct proposal *p = &c->proposals[c->proposal_count++];
    p->server = i;
    p->count = n;
    memcpy(p->cmds, cmds, n * sizeof(cmds[0]));
    c->ts_ms += rnd(c, STAMP_STEP_MS_MAX);
    size_t len = 0;
    assert_int_equal(codec_batch_encode(c->ts_ms, cmds, n, c->scratch, sizeof(c->scratch), &len),
                     0);
    size_t padded = (len + 7u) & ~(size_t)7u; /* docs/RAFT.md pitfall 1 */
    uint8_t *buf = raft_malloc(padded);
    assert_non_null(buf);
    memcpy(buf, c->scratch, len);
    memset(buf + len, 0, padded - len);
    struct raft_buffer rb = { .base = buf, .len = padded };
    p->req.data = p;
    int rv = raft_apply(server(c, i), &p->req, &rb, 1, on_applied);
    if (rv != 0) {
        raft_free(buf); /* raft takes the buffer only on success */
        p->done = true;
        p->status = rv;
    }
    return p;
}

/* Learns ids and counts from the proposals answered since the last call. */
static void proposals_learn(struct cluster *c)
{
    for (uint32_t k = 0; k < c->proposal_count; k++) {
        struct proposal *p = &c->proposals[k];
        if (!p->done || p->learned) {
            continue;
        }
        p->learned = true;
        if (p->status != 0) {
            c->stats.lost++;
        }
        for (uint32_t j = 0; p->has_result && j < p->count; j++) {
            learn(c, &p->cmds[j], &p->results[j]);
        }
    }
}

/* ---- Workload ---- */

static uint32_t ttl_pick(struct cluster *c)
{
    return TTL_MS_MIN + rnd(c, TTL_MS_SPAN);
}

/* A hold of 1..3 distinct seats, ascending, by a random customer. */
static struct cmd gen_hold(struct cluster *c)
{
    uint32_t seats[3];
    uint16_t k = (uint16_t)(1u + rnd(c, 3));
    uint32_t first = rnd(c, SEAT_COUNT - 2u);
    for (uint16_t j = 0; j < k; j++) {
        seats[j] = first + j; /* adjacent seats collide more often */
    }
    if (rnd(c, 4) == 0) {
        seats[0] = rnd(c, first + 1u); /* somewhere at or before the block */
        if (k > 1 && seats[0] == seats[1]) {
            k = 1;
        }
    }
    uint64_t customer = 1u + rnd(c, CUSTOMERS);
    return invfix_cmd_hold_seats(&c->builder, EVENT_ID, customer, ttl_pick(c), seats, k);
}

static const struct ref *ref_pick(struct cluster *c, const struct ref *ring, uint32_t count)
{
    if (count == 0) {
        return NULL;
    }
    uint32_t recent = count < REFS_RECENT ? count : REFS_RECENT;
    return &ring[(count - 1u - rnd(c, recent)) % REFS_MAX];
}

/* A customer: the owner most of the time, someone else sometimes. */
static uint64_t customer_pick(struct cluster *c, const struct ref *r)
{
    if (rnd(c, 10) == 0) {
        return 1u + rnd(c, CUSTOMERS);
    }
    return r->customer_id;
}

/* One random command: hold, book, release, cancel, or a retry of an earlier
 * command with its key (answered from the idempotency table once applied). */
static struct cmd gen_cmd(struct cluster *c)
{
    uint32_t roll = rnd(c, 100);
    const struct ref *h = ref_pick(c, c->holds, c->hold_count);
    const struct ref *b = ref_pick(c, c->bookings, c->booking_count);
    if (roll < 10 && c->past_count > 0) {
        uint32_t recent = c->past_count < PAST_MAX ? c->past_count : PAST_MAX;
        return c->past[(c->past_count - 1u - rnd(c, recent)) % PAST_MAX];
    }
    if (roll < 35 && h != NULL) {
        char ref[16];
        (void)snprintf(ref, sizeof(ref), "pay-%u", rnd(c, 1000));
        return invfix_cmd_book(&c->builder, EVENT_ID, customer_pick(c, h), h->id, ref);
    }
    if (roll < 50 && h != NULL) {
        return invfix_cmd_release(&c->builder, EVENT_ID, customer_pick(c, h), h->id);
    }
    if (roll < 60 && b != NULL) {
        return invfix_cmd_cancel(&c->builder, EVENT_ID, customer_pick(c, b), b->id);
    }
    return gen_hold(c);
}

/* Proposes a random entry on server i and keeps its commands for retries. */
static struct proposal *propose_random(struct cluster *c, uint32_t i)
{
    struct cmd cmds[ENTRY_CMDS_MAX];
    uint32_t n = 1u + rnd(c, ENTRY_CMDS_MAX);
    for (uint32_t j = 0; j < n; j++) {
        cmds[j] = gen_cmd(c);
    }
    struct proposal *p = propose_on(c, i, cmds, n);
    for (uint32_t j = 0; j < n; j++) {
        c->past[c->past_count % PAST_MAX] = cmds[j];
        c->past_count++;
    }
    return p;
}

/* Creates event id (seated, EVENT_ROWS x ROW_SEATS) on the leader of mask
 * and waits until it is applied there. */
static void event_add(struct cluster *c, uint32_t mask, uint64_t id)
{
    uint32_t l = leader_wait(c, mask);
    struct event *e = invfix_event_seated(id, EVENT_ROWS, ROW_SEATS);
    struct cmd cmd = invfix_cmd_create(&c->builder, e);
    struct proposal *p = propose_on(c, l, &cmd, 1);
    event_destroy(e);
    p->cmds[0].u.create.event = NULL; /* encoded; not kept */
    raft_time start = raft_fixture_time(&c->f);
    while (!p->done && raft_fixture_time(&c->f) - start < SETTLE_MS) {
        step(c);
    }
    assert_true(p->done);
    assert_int_equal(p->status, 0);
    assert_int_equal(p->results[0].status, 0);
}

static void main_event_add(struct cluster *c, uint32_t mask)
{
    event_add(c, mask, EVENT_ID);
}

/* Proposes `count` random entries on the leader of mask, a random number
 * of steps apart (0..gap_max-1), so several entries are in flight. */
static void stream(struct cluster *c, uint32_t mask, uint32_t count, uint32_t gap_max)
{
    for (uint32_t k = 0; k < count; k++) {
        uint32_t l = leader_wait(c, mask);
        (void)propose_random(c, l);
        steps(c, rnd(c, gap_max));
        proposals_learn(c);
    }
}

/* ---- Settling ---- */

/* True when the leader has applied its whole log and every server of mask
 * has applied as far. */
static bool is_settled(struct cluster *c, uint32_t mask, uint32_t l)
{
    raft_index last = raft_last_index(server(c, l));
    if (raft_last_applied(server(c, l)) != last) {
        return false;
    }
    for (uint32_t i = 0; i < c->n; i++) {
        if (in_mask(mask, i) && raft_last_applied(server(c, i)) != last) {
            return false;
        }
    }
    return true;
}

/* Steps until the servers of mask have applied everything their leader
 * has. A barrier per leader term commits entries of earlier terms (0.15
 * appends no entry of its own on election: RAFT-NOTES §1.2). */
static void settle(struct cluster *c, uint32_t mask)
{
    raft_time start = raft_fixture_time(&c->f);
    raft_term barrier_term = 0;
    uint32_t barrier_leader = c->n;
    while (raft_fixture_time(&c->f) - start < SETTLE_MS) {
        uint32_t l = leader_in(c, mask);
        if (l != c->n && (l != barrier_leader || server(c, l)->current_term != barrier_term)) {
            assert_true(c->barrier_count < BARRIERS_MAX);
            struct raft_barrier *b = &c->barriers[c->barrier_count++];
            if (raft_barrier(server(c, l), b, on_barrier) == 0) {
                barrier_leader = l;
                barrier_term = server(c, l)->current_term;
            }
        }
        if (l != c->n && l == barrier_leader && is_settled(c, mask, l)) {
            return;
        }
        step(c);
    }
    fail_msg("servers 0x%x did not settle within %u ms", mask, SETTLE_MS);
}

/* ---- The checker ---- */

/* Returns inv_dump()'s text (malloc'd). */
static char *dump(struct inv *inv)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(inv_dump(inv, f), 0);
    assert_int_equal(fclose(f), 0);
    assert_non_null(text);
    return text;
}

static size_t line_end(const char *s, size_t from)
{
    while (s[from] != '\0' && s[from] != '\n') {
        from++;
    }
    return from;
}

/* Writes where two different dumps first differ into why. */
static void dumps_diff(const char *a, const char *b, uint32_t ia, uint32_t ib, char *why,
                       size_t cap)
{
    size_t i = 0;
    size_t start = 0;
    while (a[i] != '\0' && a[i] == b[i]) {
        if (a[i] == '\n') {
            start = i + 1;
        }
        i++;
    }
    size_t end_a = line_end(a, start);
    size_t end_b = line_end(b, start);
    (void)snprintf(why, cap, "dumps of replicas %u and %u differ at byte %zu: <%.*s> <%.*s>", ia,
                   ib, i, (int)(end_a - start), a + start, (int)(end_b - start), b + start);
}

/* A seat claimed by a live hold or a confirmed booking. */
struct claim {
    uint32_t seat;
    uint64_t item_id;
};

static void claims_add(struct claim *claims, uint32_t *n, uint64_t id, const uint32_t *seats,
                       uint16_t count)
{
    for (uint16_t k = 0; k < count; k++) {
        assert_true(*n < CLAIMS_MAX);
        claims[(*n)++] = (struct claim){ .seat = seats[k], .item_id = id };
    }
}

/* Adds the claims of the hold or booking with this id, if it is a live
 * hold or a confirmed booking of the event. */
static void claims_probe(struct inv *inv, uint64_t id, struct claim *claims, uint32_t *n)
{
    struct inv_hold h;
    int rc = inv_hold_get(inv, id, &h);
    if (rc == 0 && h.event_id == EVENT_ID && h.state == INV_HOLD_ACTIVE) {
        claims_add(claims, n, id, h.seats, h.seat_count);
    } else if (rc != 0 && rc != USHER_HOLD_NOT_FOUND) {
        fail_msg("inv_hold_get %llx: %s", (unsigned long long)id, err_name(rc));
    }
    struct inv_booking b;
    rc = inv_booking_get(inv, id, &b);
    if (rc == 0 && b.event_id == EVENT_ID && b.state == INV_BOOKING_CONFIRMED) {
        claims_add(claims, n, id, b.seats, b.seat_count);
    } else if (rc != 0 && rc != USHER_BOOKING_NOT_FOUND) {
        fail_msg("inv_booking_get %llx: %s", (unsigned long long)id, err_name(rc));
    }
}

/* Collects the claims of the event's active holds and confirmed bookings,
 * probing every id the log can have made (index, slot < ENTRY_CMDS_MAX). */
static uint32_t claims_collect(struct inv *inv, struct claim *claims)
{
    uint32_t n = 0;
    uint64_t applied = inv_applied_index(inv);
    for (uint64_t index = 1; index <= applied; index++) {
        for (uint32_t slot = 0; slot < ENTRY_CMDS_MAX; slot++) {
            claims_probe(inv, invfix_id(index, slot), claims, &n);
        }
    }
    return n;
}

/*
 * Checks that no seat has two owners among claims, and, when avail is not
 * NULL, that exactly the claimed seats are taken in its bitmap. Returns
 * true, or false with the first violation in why.
 */
static bool owners_are_unique(const struct claim *claims, uint32_t n,
                              const struct inv_availability *avail, char *why, size_t cap)
{
    uint64_t owner[SEAT_COUNT] = { 0 };
    for (uint32_t k = 0; k < n; k++) {
        uint32_t s = claims[k].seat;
        if (s >= SEAT_COUNT) {
            (void)snprintf(why, cap, "claim of seat %u out of range", s);
            return false;
        }
        if (owner[s] != 0 && owner[s] != claims[k].item_id) {
            (void)snprintf(why, cap, "seat %u has two owners: %llx and %llx", s,
                           (unsigned long long)owner[s], (unsigned long long)claims[k].item_id);
            return false;
        }
        owner[s] = claims[k].item_id;
    }
    for (uint32_t s = 0; avail != NULL && s < SEAT_COUNT; s++) {
        bool is_free = invfix_bit_is_free(avail, s);
        if (is_free == (owner[s] != 0)) {
            (void)snprintf(why, cap, "seat %u is %s but %s", s, is_free ? "free" : "taken",
                           owner[s] != 0 ? "claimed" : "claimed by no hold or booking");
            return false;
        }
    }
    return true;
}

/* Checks one replica: inv_check() and unique seat owners. */
static bool replica_is_sound(struct replica *r, uint32_t i, char *why, size_t cap)
{
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = inv_check(r->inv, errmsg);
    if (rc != 0) {
        (void)snprintf(why, cap, "replica %u: inv_check: %s: %s", i, err_name(rc), errmsg);
        return false;
    }
    struct claim *claims = malloc(CLAIMS_MAX * sizeof(*claims));
    struct inv_availability *avail = malloc(sizeof(*avail));
    assert_non_null(claims);
    assert_non_null(avail);
    assert_int_equal(inv_availability(r->inv, EVENT_ID, avail), 0);
    uint32_t n = claims_collect(r->inv, claims);
    char inner[256] = "";
    bool ok = owners_are_unique(claims, n, avail, inner, sizeof(inner));
    if (!ok) {
        (void)snprintf(why, cap, "replica %u: %s", i, inner);
    }
    free(avail);
    free(claims);
    return ok;
}

/*
 * The checker: the replicas of mask have byte-identical dumps, and each is
 * sound (inv_check, no seat with two owners). Returns true, or false with
 * the first problem in why.
 */
static bool replicas_agree(struct cluster *c, uint32_t mask, char *why, size_t cap)
{
    char *first = NULL;
    uint32_t first_i = 0;
    bool ok = true;
    for (uint32_t i = 0; ok && i < c->n; i++) {
        if (!in_mask(mask, i)) {
            continue;
        }
        char *d = dump(c->rep[i].inv);
        if (first == NULL) {
            first = d;
            first_i = i;
        } else {
            if (strcmp(first, d) != 0) {
                dumps_diff(first, d, first_i, i, why, cap);
                ok = false;
            }
            free(d);
        }
    }
    free(first);
    for (uint32_t i = 0; ok && i < c->n; i++) {
        if (in_mask(mask, i)) {
            ok = replica_is_sound(&c->rep[i], i, why, cap);
        }
    }
    return ok;
}

static void assert_agree(struct cluster *c, uint32_t mask)
{
    char why[1024] = "";
    if (!replicas_agree(c, mask, why, sizeof(why))) {
        fail_msg("replicas 0x%x disagree: %s", mask, why);
    }
}

/* Every answered proposal saw its entry applied at raft's own index: the
 * fsm's last_applied + 1 (RAFT-NOTES §1.1) matched raft_apply's index. */
static void assert_indexes_match(struct cluster *c)
{
    for (uint32_t k = 0; k < c->proposal_count; k++) {
        const struct proposal *p = &c->proposals[k];
        if (p->has_result) {
            assert_int_equal(p->out_index, p->req.index);
        }
    }
}

/* The hold or booking a result made exists, for the command's customer,
 * on every replica of mask. */
static void assert_result_kept(struct cluster *c, uint32_t mask, const struct cmd *cmd,
                               const struct cmd_result *res)
{
    for (uint32_t i = 0; i < c->n; i++) {
        if (!in_mask(mask, i)) {
            continue;
        }
        if (res->type == CMD_HOLD_SEATS) {
            struct inv_hold h;
            assert_int_equal(inv_hold_get(c->rep[i].inv, res->id, &h), 0);
            assert_int_equal(h.customer_id, cmd->customer_id);
            assert_int_equal(h.seat_count, res->seat_count);
        } else {
            struct inv_booking b;
            assert_int_equal(inv_booking_get(c->rep[i].inv, res->id, &b), 0);
            assert_int_equal(b.customer_id, cmd->customer_id);
            assert_int_equal(b.hold_id, cmd->u.book.hold_id);
        }
    }
}

/* The holds and bookings a client was told about exist, as told, on every
 * replica of mask: committed results survive leader changes. */
static void assert_results_kept(struct cluster *c, uint32_t mask)
{
    for (uint32_t k = 0; k < c->proposal_count; k++) {
        const struct proposal *p = &c->proposals[k];
        for (uint32_t j = 0; p->has_result && j < p->count; j++) {
            const struct cmd_result *res = &p->results[j];
            bool makes_id = res->type == CMD_HOLD_SEATS || res->type == CMD_HOLD_BOOK;
            if (res->status == 0 && makes_id) {
                assert_result_kept(c, mask, &p->cmds[j], res);
            }
        }
    }
}

static uint64_t applied_of(struct cluster *c, uint32_t i)
{
    return raft_last_applied(server(c, i));
}

/* True when every server is a follower (raft_fixture_elect() needs it). */
static bool all_follow(struct cluster *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        if (raft_state(server(c, i)) != RAFT_FOLLOWER) {
            return false;
        }
    }
    return true;
}

/* Kills the leader (with 5 servers, one follower too) or deposes it and
 * elects another server, by the seed, with entries in flight. Returns the
 * killed servers as a mask (0 when deposed). */
static uint32_t leader_loss(struct cluster *c)
{
    if (rnd(c, 2) == 0) {
        uint32_t l = leader_wait(c, all_mask(c));
        uint32_t dead = 1u << l;
        raft_fixture_kill(&c->f, l);
        if (c->n == 5) {
            uint32_t j = (l + 1u + rnd(c, c->n - 1u)) % c->n;
            raft_fixture_kill(&c->f, j);
            dead |= 1u << j;
        }
        return dead;
    }
    /* raft_fixture_depose() needs the fixture's stable leader. */
    assert_true(raft_fixture_step_until_has_leader(&c->f, LEADER_WAIT_MS));
    uint32_t old = raft_fixture_leader_index(&c->f);
    raft_fixture_depose(&c->f);
    assert_int_not_equal(raft_state(server(c, old)), RAFT_LEADER);
    if (all_follow(c)) {
        uint32_t next = (old + 1u + rnd(c, c->n - 1u)) % c->n;
        raft_fixture_elect(&c->f, next);
        assert_int_equal(leader_in(c, all_mask(c)), next);
    }
    return 0;
}

/* Checks the retry p2 of p1's command (a hold of seats 3 and 4 of the quiet
 * event by customer 7): when p1's entry was applied after all, p2 got its
 * result from the idempotency table; either way every replica holds the
 * seats once, for that customer. Returns whether p1's entry was applied. */
static bool retry_check(struct cluster *c, const struct proposal *p1, const struct proposal *p2)
{
    const struct cmd_result *r2 = &p2->results[0];
    assert_int_equal(r2->status, 0);
    bool applied = r2->replayed == 1;
    if (applied) {
        assert_int_equal(r2->id, invfix_id(p1->req.index, 0));
    } else {
        assert_int_equal(r2->id, invfix_id(p2->req.index, 0));
    }
    struct inv_customer_items *items = malloc(sizeof(*items));
    assert_non_null(items);
    for (uint32_t i = 0; i < c->n; i++) {
        struct inv *inv = c->rep[i].inv;
        struct inv_hold h;
        assert_int_equal(inv_hold_get(inv, r2->id, &h), 0);
        assert_int_equal(h.customer_id, 7);
        assert_int_equal(inv_customer_list(inv, QUIET_EVENT_ID, 7, items), 0);
        assert_int_equal(items->count, 1);
        assert_int_equal(items->items[0].id, r2->id);
        assert_int_equal(items->items[0].seat_count, 2);
        for (uint32_t seat = 3; seat <= 4; seat++) {
            struct inv_seat_history sh;
            assert_int_equal(inv_seat_history(inv, QUIET_EVENT_ID, seat, &sh), 0);
            assert_int_equal(sh.count, 1); /* one hold, never two */
        }
    }
    free(items);
    return applied;
}

/* ---- Tests ---- */

/* Goal: the checker rejects what it must. Method: a settled cluster agrees;
 * one more batch applied straight to one replica's store makes the dumps
 * differ; made-up claims with a seat owned twice, or a taken seat nobody
 * claims, are refused. */
static void test_checker_rejects_divergence_and_double_owners(void **state)
{
    struct run *run = *state;
    run_begin(run, __func__, SEED_FIRST_DEFAULT);
    struct cluster *c = cluster_create(run, 3, run->seed);
    main_event_add(c, all_mask(c));
    stream(c, all_mask(c), 10, 20);
    settle(c, all_mask(c));
    assert_agree(c, all_mask(c));
    /* No step follows: raft would apply its next entry at an index the
     * diverged store already has. */
    struct inv *inv = c->rep[1].inv;
    uint32_t seat = 0;
    struct cmd cmd = invfix_cmd_hold_seats(&c->builder, EVENT_ID, 1, TTL_MS_MIN, &seat, 1);
    struct cmd_result res;
    assert_int_equal(inv_apply(inv, inv_applied_index(inv) + 1u, c->ts_ms, &cmd, 1, &res), 0);
    char why[1024] = "";
    assert_false(replicas_agree(c, all_mask(c), why, sizeof(why)));
    assert_non_null(strstr(why, "differ"));
    /* Each replica alone still agrees with itself. */
    assert_true(replicas_agree(c, 1u << 1, why, sizeof(why)));

    struct claim twice[2] = { { .seat = 3, .item_id = 0x1000 }, { .seat = 3, .item_id = 0x2001 } };
    assert_false(owners_are_unique(twice, 2, NULL, why, sizeof(why)));
    assert_non_null(strstr(why, "two owners"));
    assert_true(owners_are_unique(twice, 1, NULL, why, sizeof(why)));
    struct inv_availability *avail = calloc(1, sizeof(*avail));
    assert_non_null(avail);
    avail->seat_count = SEAT_COUNT;
    memset(avail->free_bitmap, 0xff, sizeof(avail->free_bitmap));
    avail->free_bitmap[0] = (uint8_t) ~(1u << 5); /* seat 5 taken, by nobody */
    assert_false(owners_are_unique(twice, 0, avail, why, sizeof(why)));
    assert_non_null(strstr(why, "seat 5"));
    free(avail);
    run_end(run);
}

/* Goal: replicas that apply the same log hold the same state. Method: per
 * seed, 3 (every fourth seed 5) servers; customers race for the few seats
 * of one event with holds, books, releases, cancels and retries; settle;
 * the checker passes, and over all seeds every kind of outcome happened. */
static void test_replicated_holds_agree_on_every_replica(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 4 == 3 ? 5 : 3, seed);
        main_event_add(c, all_mask(c));
        stream(c, all_mask(c), 60, 30);
        settle(c, all_mask(c));
        proposals_learn(c); /* late answers */
        assert_agree(c, all_mask(c));
        assert_indexes_match(c);
        assert_results_kept(c, all_mask(c));
        run_end(run);
    }
    if (count > 1) {
        const struct stats *t = &run->total;
        print_message("holds %u books %u releases %u cancels %u seat_taken %u replayed %u\n",
                      t->ok_by_type[CMD_HOLD_SEATS], t->ok_by_type[CMD_HOLD_BOOK],
                      t->ok_by_type[CMD_HOLD_RELEASE], t->ok_by_type[CMD_BOOKING_CANCEL],
                      t->seat_taken, t->replayed);
        assert_true(t->ok_by_type[CMD_HOLD_SEATS] > 0);
        assert_true(t->ok_by_type[CMD_HOLD_BOOK] > 0);
        assert_true(t->ok_by_type[CMD_HOLD_RELEASE] > 0);
        assert_true(t->ok_by_type[CMD_BOOKING_CANCEL] > 0);
        assert_true(t->seat_taken > 0);
        assert_true(t->replayed > 0);
    }
}

/* Goal: losing the leader mid-stream loses no committed result. Method:
 * per seed, kill the leader (with 5 servers, one follower too) or depose
 * it, with entries in flight; a new leader takes the stream on; the live
 * replicas agree and keep every result a client was given; the killed
 * ones are revived, catch up and agree too. */
static void test_leader_loss_keeps_committed_results(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    uint32_t kills = 0;
    uint32_t deposes = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 4 == 3 ? 5 : 3, seed);
        uint32_t all = all_mask(c);
        main_event_add(c, all);
        stream(c, all, 20, 30);
        uint32_t dead = leader_loss(c);
        kills += dead != 0 ? 1u : 0u;
        deposes += dead == 0 ? 1u : 0u;
        uint32_t live = all & ~dead;
        stream(c, live, 20, 30);
        settle(c, live);
        proposals_learn(c);
        assert_agree(c, live);
        assert_results_kept(c, live);
        for (uint32_t i = 0; i < c->n; i++) {
            if (in_mask(dead, i)) {
                raft_fixture_revive(&c->f, i);
            }
        }
        settle(c, all);
        proposals_learn(c);
        assert_agree(c, all);
        assert_results_kept(c, all);
        assert_indexes_match(c);
        run_end(run);
    }
    print_message("kills %u deposes %u lost proposals %u\n", kills, deposes, run->total.lost);
    if (count > 1) {
        assert_true(kills > 0);
        assert_true(deposes > 0);
        assert_true(run->total.lost > 0);
    }
}

/* A minority of n servers (leader included or not), as a mask. */
static uint32_t minority_pick(struct cluster *c, uint32_t leader, bool with_leader)
{
    uint32_t size = (c->n - 1u) / 2u;
    uint32_t side = with_leader ? 1u << leader : 0u;
    uint32_t members = with_leader ? 1u : 0u;
    while (members < size) {
        uint32_t j = rnd(c, c->n);
        if (j != leader && !in_mask(side, j)) {
            side |= 1u << j;
            members++;
        }
    }
    return side;
}

/* Proposes STRANDED_HOLDS holds of the quiet event on server i. */
#define STRANDED_HOLDS 3u

static void stranded_propose(struct cluster *c, uint32_t i, struct proposal **out)
{
    for (uint32_t k = 0; k < STRANDED_HOLDS; k++) {
        uint32_t seat = k;
        struct cmd cmd =
            invfix_cmd_hold_seats(&c->builder, QUIET_EVENT_ID, STRANDED_ID, 0, &seat, 1);
        out[k] = propose_on(c, i, &cmd, 1);
        assert_int_equal(out[k]->done ? out[k]->status : 0, 0);
    }
}

/* Asserts no hold of the quiet event was ever applied on any replica. */
static void assert_quiet_event_untouched(struct cluster *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        for (uint32_t seat = 0; seat < STRANDED_HOLDS; seat++) {
            struct inv_seat_history h;
            assert_int_equal(inv_seat_history(c->rep[i].inv, QUIET_EVENT_ID, seat, &h), 0);
            assert_int_equal(h.count, 0);
        }
    }
}

/* Goal: a partitioned minority applies nothing new and catches up after
 * the heal; entries proposed on a leader cut off in a minority are lost
 * (LEADERSHIPLOST) and never applied. Method: per seed, 3 or 5 servers, a
 * settled cluster is split (disconnect or saturate, both ways) into a
 * minority with or without the leader and a majority that goes on; the
 * minority's applied index and dump stay as they were; after the heal all
 * replicas agree. */
static void test_partitions_heal_and_the_minority_applies_nothing(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    uint32_t leader_cut_off = 0;
    uint32_t disconnects = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 2 == 1 ? 5 : 3, seed);
        uint32_t all = all_mask(c);
        main_event_add(c, all);
        event_add(c, all, QUIET_EVENT_ID);
        stream(c, all, 15, 30);
        settle(c, all);
        uint32_t leader = leader_in(c, all);
        bool with_leader = rnd(c, 2) == 0;
        uint32_t minority = minority_pick(c, leader, with_leader);
        uint32_t majority = all & ~minority;
        uint64_t applied_before = applied_of(c, leader);
        char *dump_before = dump(c->rep[leader].inv);
        uint8_t how = rnd(c, 2) == 0 ? CUT_DISCONNECT : CUT_SATURATE;
        leader_cut_off += with_leader ? 1u : 0u;
        disconnects += how == CUT_DISCONNECT ? 1u : 0u;
        partition(c, minority, how);
        struct proposal *stranded[STRANDED_HOLDS] = { NULL };
        if (with_leader) {
            stranded_propose(c, leader, stranded);
        }
        stream(c, majority, 20, 30);
        settle(c, majority);
        for (uint32_t i = 0; i < c->n; i++) {
            if (in_mask(minority, i)) {
                assert_int_equal(applied_of(c, i), applied_before);
                char *d = dump(c->rep[i].inv);
                invfix_assert_text_equal(dump_before, d);
                free(d);
            } else {
                assert_true(applied_of(c, i) > applied_before);
            }
        }
        assert_agree(c, majority);
        free(dump_before);
        heal(c);
        settle(c, all);
        proposals_learn(c);
        assert_agree(c, all);
        assert_results_kept(c, all);
        assert_indexes_match(c);
        for (uint32_t k = 0; with_leader && k < STRANDED_HOLDS; k++) {
            assert_true(stranded[k]->done);
            assert_int_equal(stranded[k]->status, RAFT_LEADERSHIPLOST);
        }
        assert_quiet_event_untouched(c);
        run_end(run);
    }
    print_message("leader cut off %u of %u, disconnected %u, saturated %u\n", leader_cut_off, count,
                  disconnects, count - disconnects);
    if (count > 1) {
        assert_true(leader_cut_off > 0 && leader_cut_off < count);
        assert_true(disconnects > 0 && disconnects < count);
    }
}

/* Goal: random message loss delays but never splits the replicas. Method:
 * per seed, links are saturated and desaturated at random steps (one
 * direction at a time, up to n at once) while entries stream in; then the
 * loss stops, the cluster settles and all replicas agree. */
static void test_message_loss_converges(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    uint32_t flips = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 3 == 2 ? 5 : 3, seed);
        uint32_t all = all_mask(c);
        main_event_add(c, all);
        c->loss_per_mille = 20u + rnd(c, 80);
        stream(c, all, 60, 40);
        flips += c->flips;
        loss_stop(c);
        settle(c, all);
        proposals_learn(c);
        assert_agree(c, all);
        assert_results_kept(c, all);
        assert_indexes_match(c);
        run_end(run);
    }
    print_message("link flips %u lost proposals %u\n", flips, run->total.lost);
    assert_true(flips > 0);
}

/* Steps until every follower of leader l has entry idx in its log, and
 * cuts each follower's link to l as soon as it has: their acks are lost. */
static void acks_cut_after_append(struct cluster *c, uint32_t l, raft_index idx)
{
    uint32_t cut = 1u << l;
    raft_time start = raft_fixture_time(&c->f);
    while (cut != all_mask(c)) {
        for (uint32_t j = 0; j < c->n; j++) {
            if (!in_mask(cut, j) && raft_last_index(server(c, j)) >= idx) {
                raft_fixture_saturate(&c->f, j, l);
                cut |= 1u << j;
            }
        }
        if (cut == all_mask(c)) {
            break;
        }
        assert_true(raft_fixture_time(&c->f) - start < SETTLE_MS);
        step(c);
    }
}

/* Goal: LEADERSHIPLOST is ambiguous, and a retry with the same key is safe.
 * Method: per seed, a hold is proposed on the leader; once each follower
 * has the entry its acks to the leader are dropped, so the leader steps
 * down and answers LEADERSHIPLOST; links heal, a new leader is elected,
 * and the client retries the same command (same client id and key). The
 * original entry is applied all the same; the retry is answered from the
 * idempotency table with the first result, and the seats are held once. */
static void test_lost_leadership_retry_applies_once(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    uint32_t applied_anyway = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 4 == 3 ? 5 : 3, seed);
        uint32_t all = all_mask(c);
        main_event_add(c, all);
        event_add(c, all, QUIET_EVENT_ID);
        stream(c, all, 10, 20);
        settle(c, all);
        uint32_t l = leader_in(c, all);
        uint32_t seats[2] = { 3, 4 };
        struct cmd cmd = invfix_cmd_hold_seats(&c->builder, QUIET_EVENT_ID, 7, 0, seats, 2);
        struct proposal *p1 = propose_on(c, l, &cmd, 1);
        assert_false(p1->done);
        acks_cut_after_append(c, l, p1->req.index);
        raft_time start = raft_fixture_time(&c->f);
        while (raft_state(server(c, l)) == RAFT_LEADER) {
            assert_true(raft_fixture_time(&c->f) - start < STEP_DOWN_MS);
            step(c);
        }
        assert_true(p1->done);
        assert_int_equal(p1->status, RAFT_LEADERSHIPLOST);
        for (uint32_t j = 0; j < c->n; j++) {
            if (j != l) {
                raft_fixture_desaturate(&c->f, j, l);
            }
        }
        struct proposal *p2 = propose_on(c, leader_wait(c, all), &cmd, 1);
        settle(c, all);
        assert_true(p2->done);
        assert_int_equal(p2->status, 0);
        assert_true(p2->has_result);
        applied_anyway += retry_check(c, p1, p2) ? 1u : 0u;
        assert_agree(c, all);
        run_end(run);
    }
    print_message("entries applied despite LEADERSHIPLOST: %u of %u\n", applied_anyway, count);
    if (count > 1) {
        assert_true(applied_anyway > 0);
    }
}

/* Goal: a follower too far behind for the log catches up by snapshot and
 * ends byte-identical. Method: per seed, snapshot threshold 8 and trailing
 * 2 on every server; a follower is killed, 80 entries are applied, it is
 * revived: it receives an InstallSnapshot, its fsm loads it, and all
 * replicas agree. */
static void test_lagging_follower_catches_up_by_snapshot(void **state)
{
    struct run *run = *state;
    uint64_t first = 0;
    uint32_t count = 0;
    uint32_t restores = 0;
    seeds_get(&first, &count);
    for (uint64_t seed = first; seed < first + count; seed++) {
        run_begin(run, __func__, seed);
        struct cluster *c = cluster_create(run, seed % 4 == 3 ? 5 : 3, seed);
        uint32_t all = all_mask(c);
        for (uint32_t i = 0; i < c->n; i++) {
            raft_set_snapshot_threshold(server(c, i), 8);
            raft_set_snapshot_trailing(server(c, i), 2);
        }
        main_event_add(c, all);
        stream(c, all, 10, 20);
        settle(c, all);
        uint32_t l = leader_in(c, all);
        uint32_t lag = (l + 1u + rnd(c, c->n - 1u)) % c->n;
        raft_fixture_kill(&c->f, lag);
        stream(c, all & ~(1u << lag), 80, 20);
        settle(c, all & ~(1u << lag));
        assert_int_equal(c->rep[lag].fsm.counters.restores_loaded, 0);
        assert_int_equal(raft_fixture_n_recv(&c->f, lag, RAFT_IO_INSTALL_SNAPSHOT), 0);
        /* Snapshots are written on the (virtual) thread pool: step until the
         * leader's log no longer holds what the follower lacks, so that
         * only a snapshot can catch it up. */
        struct raft *lr = server(c, leader_in(c, all & ~(1u << lag)));
        raft_index lag_last = raft_last_index(server(c, lag));
        for (uint32_t k = 0; k < 100000u && lr->log.offset <= lag_last; k++) {
            (void)raft_fixture_step(&c->f);
        }
        assert_true(lr->log.offset > lag_last);
        raft_fixture_revive(&c->f, lag);
        settle(c, all);
        assert_true(raft_fixture_n_recv(&c->f, lag, RAFT_IO_INSTALL_SNAPSHOT) >= 1);
        assert_true(c->rep[lag].fsm.counters.restores_loaded >= 1);
        restores += (uint32_t)c->rep[lag].fsm.counters.restores_loaded;
        assert_true(c->rep[leader_in(c, all)].fsm.counters.snapshots >= 1);
        proposals_learn(c);
        assert_agree(c, all);
        assert_results_kept(c, all);
        assert_indexes_match(c);
        run_end(run);
    }
    print_message("snapshots loaded by revived followers: %u\n", restores);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_checker_rejects_divergence_and_double_owners,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(test_replicated_holds_agree_on_every_replica, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(test_leader_loss_keeps_committed_results, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(test_partitions_heal_and_the_minority_applies_nothing,
                                        run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(test_message_loss_converges, run_setup, run_teardown),
        cmocka_unit_test_setup_teardown(test_lost_leadership_retry_applies_once, run_setup,
                                        run_teardown),
        cmocka_unit_test_setup_teardown(test_lagging_follower_catches_up_by_snapshot, run_setup,
                                        run_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
