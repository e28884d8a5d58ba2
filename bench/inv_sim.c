/*
 * inv-sim: an on-sale simulated in one process, through the real state
 * machine (what `./quickstart demo` runs until usherd exists).
 *
 * One event of 20,000 seats (20 sections x 20 rows x 50 seats) and a small
 * general-admission section. 200,000 shoppers arrive in random order over two
 * simulated minutes; each tries to hold 1 to 4 seats: best available in a
 * random section, seats picked from the availability bitmap (refreshed every
 * simulated second, so it is stale like a cached map), or GA places. Of the
 * successful holders 80% book (10% of them send the book twice: the retry must
 * be answered from the idempotency table), 5% release and 15% walk away, so
 * their holds expire and the sweep that runs every simulated second frees them.
 *
 * Commands go through inv_apply_encoded(), as the daemon's Raft entries will:
 * one batch per 100 ms of simulated time (split at USHER_BATCH_CMDS_MAX), with
 * a rising log index and the simulated leader time as stamp.
 *
 *   tick (100 ms):  [sweep, every 10 ticks] [arrivals: holds] [due books,
 *                   retries, releases]  -> encode -> inv_apply_encoded -> results
 *                   -> schedule each holder's next step at tick + delay
 *
 * At the end it checks the outcome against what it was told, independently of
 * inv's own bookkeeping: no seat in two confirmed bookings, every acknowledged
 * booking readable and equal to its hold, sold + held + free = seats, the set
 * of booked seats = the union of the acknowledged bookings, every hold in the
 * state its holder left it in, every retry replayed, and inv_check() == 0.
 * Exit status 1 on any failed check ("integrity: FAILED"), 0 with "integrity: OK".
 *
 * Random choices come from one seeded generator; the seed is printed and
 * USHER_SEED (or --seed) replays a run exactly.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "assertion.h"
#include "cmd.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "inv.h"
#include "limits.h"
#include "mem.h"

/* The encode buffer holds one whole batch (limits.h); as a size_t. */
#define BATCH_BYTES ((size_t)USHER_BATCH_BYTES_MAX)

#define SIM_SHOPPERS_DEFAULT    200000u
#define SIM_SHOPPERS_MAX        2000000u
#define SIM_SEATS_DEFAULT       20000u
#define SIM_GA_DEFAULT          1000u
#define SIM_ROW_SEATS           50u
#define SIM_SECTION_ROWS        20u
#define SIM_PICK_MAX            4u               /* seats or places one shopper asks for */
#define SIM_CLIENTS             1000u            /* frontends: client ids */
#define SIM_START_MS            1767225600000ull /* 2026-01-01T00:00:00Z: the sale opens */
#define SIM_TICK_MS             100u
#define SIM_TICKS_PER_S         10u
#define SIM_ARRIVAL_S           120u   /* shoppers arrive over two minutes */
#define SIM_TTL_MS              60000u /* holds live one minute */
#define SIM_BOOK_DELAY_S_MIN    2u     /* a holder books 2..40 s after the hold */
#define SIM_BOOK_DELAY_S_MAX    40u
#define SIM_RELEASE_DELAY_S_MAX 30u
#define SIM_RETRY_DELAY_S_MAX   5u
#define SIM_PLAN_BOOK_PCT       80u
#define SIM_PLAN_RELEASE_PCT    5u  /* the other 15% abandon */
#define SIM_RETRY_PCT           10u /* of the bookers */
#define SIM_GA_PCT              10u /* of the shoppers, when there is a GA section */
#define SIM_NAMED_PCT           50u /* of the seated shoppers: pick from the map */
#define SIM_STATUS_MAX          128u
#define SIM_CHECK_EVERY_S       10u /* inv_check() during the sale, every 10 simulated s */
/* Ticks after the last arrival: the latest step of a holder, its hold's
 * expiry and two sweeps more. */
#define SIM_TAIL_TICKS \
    ((SIM_BOOK_DELAY_S_MAX + SIM_RETRY_DELAY_S_MAX + SIM_TTL_MS / 1000u + 3u) * SIM_TICKS_PER_S)

static_assert(SIM_BOOK_DELAY_S_MAX * 1000u < SIM_TTL_MS, "holders book before expiry");
static_assert(SIM_RELEASE_DELAY_S_MAX * 1000u < SIM_TTL_MS, "holders release before expiry");
static_assert(SIM_PICK_MAX <= USHER_HOLD_SEATS_DEFAULT, "a pick fits the default hold limit");

enum sim_action {
    ACT_HOLD = 1,
    ACT_BOOK = 2,
    ACT_BOOK_RETRY = 3,
    ACT_RELEASE = 4,
    ACT_SWEEP = 5,
};

enum sim_kind {
    KIND_BEST = 1,
    KIND_NAMED = 2,
    KIND_GA = 3,
};

enum sim_plan {
    PLAN_BOOK = 1,
    PLAN_RELEASE = 2,
    PLAN_ABANDON = 3,
};

struct opts {
    uint32_t shoppers;
    uint32_t seats;
    uint32_t ga;
    uint64_t seed;
    bool seed_given;
    bool quiet;
    bool selftest;
};

struct rng {
    uint64_t state;
};

struct shopper {
    uint64_t hold_id;    /* 0 until a hold succeeded */
    uint64_t booking_id; /* 0 until acknowledged */
    uint64_t book_idem;  /* the book command's key, reused by the retry */
    uint32_t seats[SIM_PICK_MAX];
    uint8_t kind;     /* enum sim_kind */
    uint8_t plan;     /* enum sim_plan */
    uint8_t count;    /* seats or places held */
    uint8_t retry;    /* 1: sends its book twice */
    uint8_t released; /* 1: its release was acknowledged */
};

struct action {
    uint32_t shopper;
    uint32_t next; /* pool index of the next action of the tick; 0 ends */
    uint8_t type;  /* enum sim_action */
};

struct stats {
    uint64_t batches;
    uint64_t cmds;
    uint64_t holds_tried;
    uint64_t holds_made;
    uint64_t books;
    uint64_t releases;
    uint64_t retries;
    uint64_t replays_ok;
    uint64_t replays_bad;
    uint64_t sweeps;
    uint64_t swept;
    uint64_t unexpected; /* refused books and releases: holders act before expiry */
    uint64_t checks;     /* inv_check() runs during the sale */
    uint64_t checks_bad;
    uint64_t rejected[SIM_STATUS_MAX];
    double apply_s;
    double apply_cpu_s; /* CPU time inside inv_apply_encoded() */
};

struct sim {
    struct opts o;
    struct rng rng;
    struct inv *inv;
    struct event *event; /* our copy of the layout */
    uint32_t seated_sections;
    uint32_t ticks;
    uint32_t tick;
    struct shopper *shoppers;
    uint32_t *order; /* arrival order: a permutation of the shopper indexes */
    struct action *pool;
    uint32_t pool_len;
    uint32_t pool_cap;
    uint32_t *head; /* per tick: first and last action, 0 when none */
    uint32_t *tail;
    struct inv_availability *avail; /* the last map a frontend would have */
    struct cmd *cmds;
    struct cmd_result *results;
    uint32_t *cmd_shopper;
    uint8_t *cmd_action;
    uint32_t n;
    uint8_t *enc;
    uint64_t index;
    uint64_t idem_next;
    struct stats st;
    double wall_start;
    double next_progress;
    char dir[64];
};

/* splitmix64, as in inv_bench.c. */
static uint64_t rng_next(struct rng *r)
{
    r->state += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
    ASSERT(n > 0);
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double clock_of(clockid_t id)
{
    struct timespec ts;
    int rc = clock_gettime(id, &ts);
    ASSERT(rc == 0);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double clock_now_s(void)
{
    return clock_of(CLOCK_MONOTONIC);
}

/* ---- Options ---- */

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    if (s[0] < '0' || s[0] > '9') {
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

static void usage(FILE *f)
{
    (void)fprintf(f,
                  "usage: inv-sim [--shoppers N] [--seats N] [--ga PLACES] [--seed N] [--quiet]\n"
                  "               [--selftest]\n"
                  "  defaults: %u shoppers, %u seats, a GA section of %u places (0: none),\n"
                  "  a random seed (printed; USHER_SEED=N replays). --selftest also shows that\n"
                  "  the final check fails on a lost booking and on a seat sold twice.\n",
                  SIM_SHOPPERS_DEFAULT, SIM_SEATS_DEFAULT, SIM_GA_DEFAULT);
}

static int parse_one(struct opts *o, int opt, const char *arg)
{
    uint64_t v = 0;
    int rc = -1;
    if (opt == 'p') {
        rc = parse_u64(arg, 1, SIM_SHOPPERS_MAX, &v);
        o->shoppers = (uint32_t)v;
    } else if (opt == 'n') {
        rc = parse_u64(arg, 1, USHER_EVENT_SEATS_MAX, &v);
        o->seats = (uint32_t)v;
    } else if (opt == 'g') {
        rc = parse_u64(arg, 0, USHER_GA_CAPACITY_MAX, &v);
        o->ga = (uint32_t)v;
    } else if (opt == 's') {
        rc = parse_u64(arg, 0, UINT64_MAX, &v);
        o->seed = v;
        o->seed_given = true;
    }
    return rc;
}

/* The seed: --seed, else USHER_SEED, else the clock. */
static int opts_seed(struct opts *o)
{
    const char *env = getenv("USHER_SEED");
    if (o->seed_given) {
        return 0;
    }
    if (env != NULL && env[0] != '\0') {
        return parse_u64(env, 0, UINT64_MAX, &o->seed);
    }
    struct timespec ts;
    int rc = clock_gettime(CLOCK_REALTIME, &ts);
    ASSERT(rc == 0);
    o->seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) % 1000000000000u;
    return 0;
}

static int opts_parse(struct opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "shoppers", required_argument, NULL, 'p' }, { "seats", required_argument, NULL, 'n' },
        { "ga", required_argument, NULL, 'g' },       { "seed", required_argument, NULL, 's' },
        { "quiet", no_argument, NULL, 'q' },          { "selftest", no_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },           { NULL, 0, NULL, 0 },
    };
    *o = (struct opts){ .shoppers = SIM_SHOPPERS_DEFAULT,
                        .seats = SIM_SEATS_DEFAULT,
                        .ga = SIM_GA_DEFAULT };
    for (int i = 0; i < argc * 2; i++) {
        int opt = getopt_long(argc, argv, "", longs, NULL);
        if (opt == -1) {
            return optind == argc ? opts_seed(o) : -1;
        }
        if (opt == 'q' || opt == 't') {
            o->quiet = o->quiet || opt == 'q';
            o->selftest = o->selftest || opt == 't';
        } else if (opt == 'h' || optarg == NULL || parse_one(o, opt, optarg) != 0) {
            return -1;
        }
    }
    return -1;
}

/* ---- The event ---- */

static void event_fill(struct event *e, uint32_t seats, uint32_t sections, uint32_t ga)
{
    uint32_t rows = e->row_count;
    for (uint32_t s = 0; s < sections; s++) {
        struct event_section *sec = &e->sections[s];
        uint32_t left = rows - s * SIM_SECTION_ROWS;
        (void)snprintf(sec->label, sizeof(sec->label), "%c%u", 'A' + (int)(s % 26), s / 26 + 1);
        sec->kind = EVENT_SECTION_SEATED;
        sec->row_count = left < SIM_SECTION_ROWS ? left : SIM_SECTION_ROWS;
    }
    for (uint32_t r = 0; r < rows; r++) {
        struct event_row *row = &e->rows[r];
        uint32_t left = seats - r * SIM_ROW_SEATS;
        (void)snprintf(row->label, sizeof(row->label), "%u", r % SIM_SECTION_ROWS + 1);
        row->seat_count = (uint16_t)(left < SIM_ROW_SEATS ? left : SIM_ROW_SEATS);
        row->number_first = 1;
    }
    if (ga > 0) {
        struct event_section *sec = &e->sections[sections];
        (void)snprintf(sec->label, sizeof(sec->label), "%s", "FLOOR");
        sec->kind = EVENT_SECTION_GA;
        sec->ga_capacity = ga;
    }
}

/* Returns the event (caller owns it), or NULL. */
static struct event *event_build(const struct opts *o, uint32_t *seated_sections)
{
    uint32_t rows = (o->seats + SIM_ROW_SEATS - 1) / SIM_ROW_SEATS;
    uint32_t sections = (rows + SIM_SECTION_ROWS - 1) / SIM_SECTION_ROWS;
    uint32_t all = sections + (o->ga > 0 ? 1u : 0u);
    if (all > USHER_EVENT_SECTIONS_MAX) {
        return NULL;
    }
    struct event *e = event_create(all, rows);
    if (e == NULL) {
        return NULL;
    }
    e->id = 1;
    (void)snprintf(e->name, sizeof(e->name), "%s", "inv-sim on-sale");
    e->sale_start_ms = SIM_START_MS;
    event_fill(e, o->seats, sections, o->ga);
    if (event_layout(e) != 0) {
        event_destroy(e);
        return NULL;
    }
    event_apply_defaults(e);
    ASSERT(e->seat_count == o->seats);
    *seated_sections = sections;
    return e;
}

/* ---- Scheduling: one FIFO list of actions per tick ---- */

static void schedule(struct sim *s, uint32_t tick, uint32_t shopper, uint8_t type)
{
    ASSERT(tick > s->tick);
    ASSERT(tick < s->ticks);
    ASSERT(s->pool_len < s->pool_cap);
    uint32_t a = s->pool_len++;
    s->pool[a] = (struct action){ .shopper = shopper, .next = 0, .type = type };
    if (s->head[tick] == 0) {
        s->head[tick] = a;
    } else {
        s->pool[s->tail[tick]].next = a;
    }
    s->tail[tick] = a;
}

static uint32_t delay_ticks(struct sim *s, uint32_t min_s, uint32_t max_s)
{
    uint32_t span = (max_s - min_s) * SIM_TICKS_PER_S;
    return min_s * SIM_TICKS_PER_S + rng_below(&s->rng, span + 1);
}

/* ---- Building commands ---- */

static struct cmd *cmd_next(struct sim *s, uint32_t shopper, uint8_t action)
{
    ASSERT(s->n < USHER_BATCH_CMDS_MAX);
    struct cmd *c = &s->cmds[s->n];
    memset(c, 0, sizeof(*c));
    s->cmd_shopper[s->n] = shopper;
    s->cmd_action[s->n] = action;
    s->n++;
    return c;
}

static void cmd_keyed(struct sim *s, struct cmd *c, uint8_t type, uint32_t shopper)
{
    uint64_t customer_id = (uint64_t)shopper + 1;
    c->type = type;
    c->client_id = 1 + customer_id % SIM_CLIENTS;
    c->idem_key = s->idem_next++;
    c->event_id = s->event->id;
    c->customer_id = customer_id;
}

static bool map_is_free(const struct inv_availability *a, uint32_t seat)
{
    return (((uint32_t)a->free_bitmap[seat / 8] >> (seat % 8)) & 1u) != 0;
}

/* Returns the first seat free on the map at or after start (wrapping), or start. */
static uint32_t map_find_free(const struct inv_availability *a, uint32_t seat_count, uint32_t start)
{
    uint32_t words = (seat_count + 63) / 64;
    uint32_t first = start / 64;
    for (uint32_t i = 0; i <= words; i++) {
        uint32_t w = (first + i) % words;
        uint64_t bits = 0;
        memcpy(&bits, &a->free_bitmap[(size_t)w * 8u], sizeof(bits));
        if (w == first && i == 0) {
            bits &= ~0ull << (start % 64);
        }
        if (w == words - 1 && seat_count % 64 != 0) {
            bits &= (1ull << (seat_count % 64)) - 1;
        }
        if (bits != 0) {
            return w * 64 + (uint32_t)__builtin_ctzll(bits);
        }
    }
    return start;
}

/* Picks up to want seats in one row from the (stale) map: a free seat near a
 * random place, then free neighbours of the same row. Returns the count. */
static uint16_t pick_named(struct sim *s, uint32_t want, uint32_t *seats)
{
    const struct event *e = s->event;
    uint32_t seat = map_find_free(s->avail, e->seat_count, rng_below(&s->rng, e->seat_count));
    const struct event_row *row = &e->rows[event_row_of_seat(e, seat)];
    uint32_t end = row->seat_first + row->seat_count;
    uint16_t n = 0;
    seats[n++] = seat;
    for (uint32_t j = seat + 1; j < end && n < want; j++) {
        if (map_is_free(s->avail, j)) {
            seats[n++] = j;
        }
    }
    for (uint32_t j = seat; j > row->seat_first && n < want; j--) {
        if (map_is_free(s->avail, j - 1)) {
            seats[n++] = j - 1;
        }
    }
    return n;
}

static void hold_count_set(struct cmd *c, uint32_t section, uint32_t count)
{
    c->u.hold_count.ttl_ms = SIM_TTL_MS;
    c->u.hold_count.section = (uint16_t)section;
    c->u.hold_count.count = (uint16_t)count;
}

/* A shopper arrives: decides what to ask for and what to do after a hold. */
static void add_hold(struct sim *s, uint32_t shopper)
{
    struct shopper *sh = &s->shoppers[shopper];
    struct cmd *c = cmd_next(s, shopper, ACT_HOLD);
    uint32_t want = 1 + rng_below(&s->rng, SIM_PICK_MAX);
    uint32_t dice = rng_below(&s->rng, 100);
    sh->plan = dice < SIM_PLAN_BOOK_PCT                          ? PLAN_BOOK
               : dice < SIM_PLAN_BOOK_PCT + SIM_PLAN_RELEASE_PCT ? PLAN_RELEASE
                                                                 : PLAN_ABANDON;
    sh->retry = sh->plan == PLAN_BOOK && rng_below(&s->rng, 100) < SIM_RETRY_PCT ? 1 : 0;
    dice = rng_below(&s->rng, 100);
    if (s->o.ga > 0 && dice < SIM_GA_PCT) {
        sh->kind = KIND_GA;
        cmd_keyed(s, c, CMD_HOLD_GA, shopper);
        hold_count_set(c, s->seated_sections, want);
    } else if (rng_below(&s->rng, 100) < SIM_NAMED_PCT) {
        sh->kind = KIND_NAMED;
        cmd_keyed(s, c, CMD_HOLD_SEATS, shopper);
        c->u.hold_seats.ttl_ms = SIM_TTL_MS;
        c->u.hold_seats.seat_count = pick_named(s, want, c->u.hold_seats.seats);
    } else {
        sh->kind = KIND_BEST;
        cmd_keyed(s, c, CMD_HOLD_BEST, shopper);
        hold_count_set(c, rng_below(&s->rng, s->seated_sections), want);
    }
}

static void add_followup(struct sim *s, uint32_t shopper, uint8_t action)
{
    struct shopper *sh = &s->shoppers[shopper];
    struct cmd *c = cmd_next(s, shopper, action);
    if (action == ACT_RELEASE) {
        cmd_keyed(s, c, CMD_HOLD_RELEASE, shopper);
        c->u.release.hold_id = sh->hold_id;
        return;
    }
    cmd_keyed(s, c, CMD_HOLD_BOOK, shopper);
    if (action == ACT_BOOK) {
        sh->book_idem = c->idem_key;
    } else {
        /* The retry is the same request: same client, key and bytes. */
        ASSERT(action == ACT_BOOK_RETRY);
        s->idem_next--;
        c->idem_key = sh->book_idem;
    }
    c->u.book.hold_id = sh->hold_id;
    (void)snprintf(c->u.book.payment_ref, sizeof(c->u.book.payment_ref),
                   "card-%" PRIu32 "-%" PRIu64, shopper, sh->hold_id);
}

static void add_sweep(struct sim *s)
{
    struct cmd *c = cmd_next(s, 0, ACT_SWEEP);
    c->type = CMD_SWEEP;
    c->u.sweep.max = USHER_SWEEP_MAX;
}

/* ---- Applying a batch and reading its results ---- */

static void on_hold(struct sim *s, uint32_t shopper, const struct cmd_result *r)
{
    struct shopper *sh = &s->shoppers[shopper];
    s->st.holds_tried++;
    if (r->status != USHER_OK) {
        s->st.rejected[r->status < SIM_STATUS_MAX ? r->status : SIM_STATUS_MAX - 1]++;
        return;
    }
    if (r->seat_count == 0 || r->seat_count > SIM_PICK_MAX) {
        s->st.unexpected++; /* a hold of more than was asked: reported as a failure */
        return;
    }
    sh->hold_id = r->id;
    sh->count = (uint8_t)r->seat_count;
    if (sh->kind != KIND_GA) {
        memcpy(sh->seats, r->seats, sizeof(uint32_t) * r->seat_count);
    }
    s->st.holds_made++;
    if (sh->plan == PLAN_BOOK) {
        schedule(s, s->tick + delay_ticks(s, SIM_BOOK_DELAY_S_MIN, SIM_BOOK_DELAY_S_MAX), shopper,
                 ACT_BOOK);
    } else if (sh->plan == PLAN_RELEASE) {
        schedule(s, s->tick + delay_ticks(s, SIM_BOOK_DELAY_S_MIN, SIM_RELEASE_DELAY_S_MAX),
                 shopper, ACT_RELEASE);
    }
}

static void on_result(struct sim *s, uint32_t i)
{
    const struct cmd_result *r = &s->results[i];
    uint32_t shopper = s->cmd_shopper[i];
    struct shopper *sh = &s->shoppers[shopper];
    uint8_t action = s->cmd_action[i];
    if (action == ACT_HOLD) {
        on_hold(s, shopper, r);
    } else if (action == ACT_SWEEP) {
        s->st.sweeps++;
        s->st.swept += r->swept;
    } else if (action == ACT_BOOK_RETRY) {
        s->st.retries++;
        bool same = r->replayed == 1 && r->status == USHER_OK && r->id == sh->booking_id;
        s->st.replays_ok += same ? 1 : 0;
        s->st.replays_bad += same ? 0 : 1;
    } else if (r->status != USHER_OK || r->replayed != 0) {
        s->st.unexpected++;
        (void)fprintf(stderr, "unexpected: %s of hold %" PRIu64 " refused: %s\n",
                      action == ACT_BOOK ? "book" : "release", sh->hold_id, err_name(r->status));
    } else if (action == ACT_BOOK) {
        sh->booking_id = r->id;
        s->st.books++;
        if (sh->retry == 1) {
            schedule(s, s->tick + delay_ticks(s, 1, SIM_RETRY_DELAY_S_MAX), shopper,
                     ACT_BOOK_RETRY);
        }
    } else {
        ASSERT(action == ACT_RELEASE);
        sh->released = 1;
        s->st.releases++;
    }
}

static void map_totals(const struct sim *s, uint32_t *free, uint32_t *held, uint32_t *booked)
{
    *free = 0;
    *held = 0;
    *booked = 0;
    for (uint32_t i = 0; i < s->seated_sections; i++) {
        *free += s->avail->sections[i].free;
        *held += s->avail->sections[i].held;
        *booked += s->avail->sections[i].booked;
    }
}

static void progress(struct sim *s, bool force)
{
    double now = clock_now_s();
    if (s->o.quiet || (!force && now < s->next_progress)) {
        return;
    }
    uint32_t free = 0;
    uint32_t held = 0;
    uint32_t booked = 0;
    map_totals(s, &free, &held, &booked);
    (void)printf("  sim %6.1f s | wall %5.1f s | cmds %8" PRIu64 " | holds made %7" PRIu64
                 " | seats booked %6u held %6u free %6u | rejected holds %8" PRIu64 "\n",
                 (double)s->tick / SIM_TICKS_PER_S, now - s->wall_start, s->st.cmds,
                 s->st.holds_made, booked, held, free, s->st.holds_tried - s->st.holds_made);
    (void)fflush(stdout);
    s->next_progress = now + 1.0;
}

/* Encodes the pending commands as one batch and applies it at the next index. */
static int flush(struct sim *s)
{
    size_t len = 0;
    uint32_t got = 0;
    int decode_status = 0;
    if (s->n == 0) {
        return 0;
    }
    uint64_t ts = SIM_START_MS + (uint64_t)s->tick * SIM_TICK_MS;
    int rc = codec_batch_encode(ts, s->cmds, s->n, s->enc, BATCH_BYTES, &len);
    if (rc != 0) {
        (void)fprintf(stderr, "encode batch: %s\n", err_name(rc));
        return -1;
    }
    s->index++;
    double t0 = clock_now_s();
    double c0 = clock_of(CLOCK_PROCESS_CPUTIME_ID);
    rc = inv_apply_encoded(s->inv, s->index, s->enc, len, s->results, &got, &decode_status);
    s->st.apply_cpu_s += clock_of(CLOCK_PROCESS_CPUTIME_ID) - c0;
    s->st.apply_s += clock_now_s() - t0;
    if (rc != 0 || decode_status != 0 || got != s->n) {
        (void)fprintf(stderr, "apply at index %" PRIu64 ": %s, decode %s, %u of %u commands\n",
                      s->index, err_name(rc), err_name(decode_status), got, s->n);
        return -1;
    }
    for (uint32_t i = 0; i < s->n; i++) {
        on_result(s, i);
    }
    s->st.batches++;
    s->st.cmds += s->n;
    s->n = 0;
    progress(s, false);
    return 0;
}

static int map_refresh(struct sim *s)
{
    int rc = inv_availability(s->inv, s->event->id, s->avail);
    if (rc != 0) {
        (void)fprintf(stderr, "availability: %s\n", err_name(rc));
        return -1;
    }
    return 0;
}

/* The invariants hold at every point of the sale, not only at its end. */
static void sale_check(struct sim *s)
{
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = inv_check(s->inv, errmsg);
    s->st.checks++;
    if (rc != 0) {
        s->st.checks_bad++;
        (void)fprintf(stderr, "inv_check at simulated %.1f s: %s: %s\n",
                      (double)s->tick / SIM_TICKS_PER_S, err_name(rc), errmsg);
    }
}

/* One tick of 100 ms: a sweep and a fresh map every second, arrivals, due steps. */
static int run_tick(struct sim *s)
{
    uint32_t arrival_ticks = SIM_ARRIVAL_S * SIM_TICKS_PER_S;
    if (s->tick % SIM_TICKS_PER_S == 0) {
        if (map_refresh(s) != 0) {
            return -1;
        }
        add_sweep(s);
    }
    if (s->tick < arrival_ticks) {
        uint64_t begin = (uint64_t)s->tick * s->o.shoppers / arrival_ticks;
        uint64_t end = ((uint64_t)s->tick + 1) * s->o.shoppers / arrival_ticks;
        for (uint64_t k = begin; k < end; k++) {
            if (s->n == USHER_BATCH_CMDS_MAX && flush(s) != 0) {
                return -1;
            }
            add_hold(s, s->order[k]);
        }
    }
    /* Steps scheduled from this tick's results land on later ticks only. */
    for (uint32_t a = s->head[s->tick]; a != 0; a = s->pool[a].next) {
        if (s->n == USHER_BATCH_CMDS_MAX && flush(s) != 0) {
            return -1;
        }
        add_followup(s, s->pool[a].shopper, s->pool[a].type);
    }
    if (flush(s) != 0) {
        return -1;
    }
    if (s->tick % (SIM_CHECK_EVERY_S * SIM_TICKS_PER_S) == 0) {
        sale_check(s);
    }
    return 0;
}

/* ---- Set-up ---- */

static int sim_alloc(struct sim *s)
{
    uint32_t n = s->o.shoppers;
    s->ticks = SIM_ARRIVAL_S * SIM_TICKS_PER_S + SIM_TAIL_TICKS;
    s->pool_cap = 2 * n + 1; /* per shopper: one step after the hold and one retry */
    s->pool_len = 1;         /* index 0 ends a list */
    s->shoppers = mem_calloc(n, sizeof(*s->shoppers));
    s->order = mem_calloc(n, sizeof(*s->order));
    s->pool = mem_calloc(s->pool_cap, sizeof(*s->pool));
    s->head = mem_calloc(s->ticks, sizeof(*s->head));
    s->tail = mem_calloc(s->ticks, sizeof(*s->tail));
    s->avail = mem_calloc(1, sizeof(*s->avail));
    s->cmds = mem_calloc(USHER_BATCH_CMDS_MAX, sizeof(*s->cmds));
    s->results = mem_calloc(USHER_BATCH_CMDS_MAX, sizeof(*s->results));
    s->cmd_shopper = mem_calloc(USHER_BATCH_CMDS_MAX, sizeof(*s->cmd_shopper));
    s->cmd_action = mem_calloc(USHER_BATCH_CMDS_MAX, sizeof(*s->cmd_action));
    s->enc = mem_alloc(BATCH_BYTES);
    if (s->shoppers == NULL || s->order == NULL || s->pool == NULL || s->head == NULL ||
        s->tail == NULL || s->avail == NULL || s->cmds == NULL || s->results == NULL ||
        s->cmd_shopper == NULL || s->cmd_action == NULL || s->enc == NULL) {
        return -1;
    }
    /* Arrival order: Fisher-Yates over the shopper indexes. */
    for (uint32_t i = 0; i < n; i++) {
        s->order[i] = i;
    }
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = rng_below(&s->rng, i + 1);
        uint32_t t = s->order[i];
        s->order[i] = s->order[j];
        s->order[j] = t;
    }
    return 0;
}

static void sim_free(struct sim *s)
{
    inv_close(s->inv);
    event_destroy(s->event);
    mem_free(s->shoppers);
    mem_free(s->order);
    mem_free(s->pool);
    mem_free(s->head);
    mem_free(s->tail);
    mem_free(s->avail);
    mem_free(s->cmds);
    mem_free(s->results);
    mem_free(s->cmd_shopper);
    mem_free(s->cmd_action);
    mem_free(s->enc);
}

/* Opens a store in a new temp dir and creates the event a minute before the sale. */
static int sim_open(struct sim *s)
{
    struct inv_options io = { .map_bytes = 0, .idem_window_ms = 0, .durable = false };
    char errmsg[USHER_ERRMSG_MAX] = "";
    (void)snprintf(s->dir, sizeof(s->dir), "%s", "/tmp/inv-sim.XXXXXX");
    if (mkdtemp(s->dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    int rc = inv_open(s->dir, &io, &s->inv, errmsg);
    if (rc != 0) {
        (void)fprintf(stderr, "inv_open %s: %s: %s\n", s->dir, err_name(rc), errmsg);
        return -1;
    }
    s->event = event_build(&s->o, &s->seated_sections);
    if (s->event == NULL) {
        (void)fprintf(stderr, "cannot lay out %u seats\n", s->o.seats);
        return -1;
    }
    struct cmd *c = cmd_next(s, 0, ACT_SWEEP);
    cmd_keyed(s, c, CMD_EVENT_CREATE, 0);
    c->customer_id = 0;
    c->u.create.event = s->event;
    size_t len = 0;
    uint32_t got = 0;
    int decode_status = 0;
    s->n = 0;
    rc = codec_batch_encode(SIM_START_MS - 60000u, c, 1, s->enc, BATCH_BYTES, &len);
    if (rc == 0) {
        s->index++;
        rc = inv_apply_encoded(s->inv, s->index, s->enc, len, s->results, &got, &decode_status);
    }
    if (rc != 0 || decode_status != 0 || got != 1 || s->results[0].status != USHER_OK) {
        (void)fprintf(stderr, "create event: %s %s %s\n", err_name(rc), err_name(decode_status),
                      err_name(s->results[0].status));
        return -1;
    }
    return map_refresh(s);
}

/* Deletes the temp store (a flat directory of LMDB files). */
static void sim_remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d != NULL) {
        for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
            char path[PATH_MAX];
            if (de->d_name[0] == '.') {
                continue;
            }
            (void)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
            if (unlink(path) != 0) {
                perror(path);
            }
        }
        closedir(d);
    }
    if (rmdir(dir) != 0) {
        perror(dir);
    }
}

/* ---- The integrity check, from what the shoppers were told ---- */

struct check {
    bool silent;      /* self-test: count failures without printing them */
    uint32_t premark; /* self-test: a seat claimed by a phantom booking; UINT32_MAX none */
    uint32_t failures;
    uint32_t *seat_owner; /* shopper + 1 whose acknowledged booking has the seat; 0: none */
    uint64_t booked_seats;
    uint64_t booked_places;
    uint64_t holds_expired;
};

__attribute__((format(printf, 2, 3))) static void check_fail(struct check *k, const char *fmt, ...)
{
    va_list ap;
    if (!k->silent && k->failures < 20) {
        (void)printf("  check failed: ");
        va_start(ap, fmt);
        (void)vprintf(fmt, ap); /* NOLINT(clang-analyzer-valist.Uninitialized) */
        va_end(ap);
        (void)printf("\n");
    }
    k->failures++;
}

/* Marks the seats of one acknowledged booking; a seat marked twice is a double sale. */
static void check_booking_seats(struct sim *s, struct check *k, uint32_t shopper,
                                const struct inv_booking *b)
{
    const struct shopper *sh = &s->shoppers[shopper];
    for (uint32_t j = 0; j < b->seat_count && j < SIM_PICK_MAX; j++) {
        uint32_t seat = b->seats[j];
        if (seat >= s->o.seats || seat != sh->seats[j]) {
            check_fail(k, "booking %" PRIu64 " seat %u is not the held seat %u", b->id, seat,
                       sh->seats[j]);
            continue;
        }
        if (k->seat_owner[seat] != 0) {
            check_fail(k, "seat %u is in the bookings of shoppers %u and %u", seat,
                       k->seat_owner[seat] - 1, shopper);
            continue;
        }
        k->seat_owner[seat] = shopper + 1;
        k->booked_seats++;
    }
}

static void check_bookings(struct sim *s, struct check *k)
{
    struct inv_booking b;
    for (uint32_t i = 0; i < s->o.shoppers; i++) {
        const struct shopper *sh = &s->shoppers[i];
        if (sh->booking_id == 0) {
            continue;
        }
        int rc = inv_booking_get(s->inv, sh->booking_id, &b);
        if (rc != 0) {
            check_fail(k, "acknowledged booking %" PRIu64 ": %s", sh->booking_id, err_name(rc));
            continue;
        }
        if (b.state != INV_BOOKING_CONFIRMED || b.customer_id != (uint64_t)i + 1 ||
            b.hold_id != sh->hold_id || b.seat_count != sh->count || b.event_id != 1 ||
            b.ga != (sh->kind == KIND_GA ? 1 : 0)) {
            check_fail(k, "booking %" PRIu64 " differs from what shopper %u was told", b.id, i);
            continue;
        }
        if (b.ga == 1) {
            k->booked_places += b.seat_count;
        } else {
            check_booking_seats(s, k, i, &b);
        }
    }
}

/* Every hold is in the state its holder left it in. */
static void check_holds(struct sim *s, struct check *k)
{
    struct inv_hold h;
    for (uint32_t i = 0; i < s->o.shoppers; i++) {
        const struct shopper *sh = &s->shoppers[i];
        if (sh->hold_id == 0) {
            continue;
        }
        int rc = inv_hold_get(s->inv, sh->hold_id, &h);
        if (rc != 0) {
            check_fail(k, "hold %" PRIu64 ": %s", sh->hold_id, err_name(rc));
            continue;
        }
        uint8_t want = sh->booking_id != 0 ? INV_HOLD_BOOKED
                       : sh->released != 0 ? INV_HOLD_RELEASED
                                           : INV_HOLD_EXPIRED;
        if (h.state != want || h.customer_id != (uint64_t)i + 1 ||
            (want == INV_HOLD_BOOKED && h.booking_id != sh->booking_id)) {
            check_fail(k, "hold %" PRIu64 " is in state %u, expected %u", h.id, h.state, want);
        }
        k->holds_expired += h.state == INV_HOLD_EXPIRED ? 1 : 0;
    }
}

static void check_seats(struct sim *s, struct check *k)
{
    uint32_t free = 0;
    uint32_t held = 0;
    uint32_t booked = 0;
    uint32_t bits = 0;
    map_totals(s, &free, &held, &booked);
    if (free + held + booked != s->o.seats) {
        check_fail(k, "sold %u + held %u + free %u != %u seats", booked, held, free, s->o.seats);
    }
    if (held != 0 || booked != k->booked_seats) {
        check_fail(k, "held %u (expected 0), booked %u (acknowledged %" PRIu64 ")", held, booked,
                   k->booked_seats);
    }
    for (uint32_t seat = 0; seat < s->o.seats; seat++) {
        bool free_bit = map_is_free(s->avail, seat);
        bits += free_bit ? 1 : 0;
        if (free_bit == (k->seat_owner[seat] != 0)) {
            check_fail(k, "seat %u is %s but %s", seat, free_bit ? "free" : "taken",
                       free_bit ? "booked by an acknowledged booking" : "in no booking");
        }
    }
    if (bits != free) {
        check_fail(k, "the free bitmap has %u seats, the counters %u", bits, free);
    }
}

static void check_ga(struct sim *s, struct check *k)
{
    if (s->o.ga == 0) {
        return;
    }
    const struct inv_section_avail *g = &s->avail->sections[s->seated_sections];
    if (g->capacity != s->o.ga || g->free + g->held + g->booked != s->o.ga || g->held != 0 ||
        g->booked != k->booked_places) {
        check_fail(k, "GA: capacity %u free %u held %u booked %u (acknowledged %" PRIu64 ")",
                   g->capacity, g->free, g->held, g->booked, k->booked_places);
    }
}

/* Runs every check; returns the number of failures. */
static uint32_t check_all(struct sim *s, struct check *k)
{
    char errmsg[USHER_ERRMSG_MAX] = "";
    k->seat_owner = mem_calloc(s->o.seats, sizeof(uint32_t));
    if (k->seat_owner == NULL) {
        check_fail(k, "out of memory");
        return k->failures;
    }
    if (k->premark < s->o.seats) {
        k->seat_owner[k->premark] = s->o.shoppers + 1; /* a shopper that does not exist */
    }
    check_bookings(s, k);
    check_holds(s, k);
    if (map_refresh(s) != 0) {
        check_fail(k, "availability unreadable");
    } else {
        check_seats(s, k);
        check_ga(s, k);
    }
    if (s->st.replays_bad != 0 || s->st.unexpected != 0 || s->st.checks_bad != 0) {
        check_fail(k,
                   "%" PRIu64 " retries not replayed, %" PRIu64 " unexpected refusals, %" PRIu64
                   " failed inv_check runs during the sale",
                   s->st.replays_bad, s->st.unexpected, s->st.checks_bad);
    }
    int rc = inv_check(s->inv, errmsg);
    if (rc != 0) {
        check_fail(k, "inv_check: %s: %s", err_name(rc), errmsg);
    }
    mem_free(k->seat_owner);
    k->seat_owner = NULL;
    return k->failures;
}

/* Breaks the shoppers' records in two ways and shows that the check notices:
 * a lost acknowledged booking and a seat sold twice. Returns 0 when it does. */
static int selftest(struct sim *s)
{
    uint32_t victim = UINT32_MAX;
    for (uint32_t i = 0; i < s->o.shoppers && victim == UINT32_MAX; i++) {
        if (s->shoppers[i].booking_id != 0 && s->shoppers[i].kind != KIND_GA) {
            victim = i;
        }
    }
    if (victim == UINT32_MAX) {
        (void)printf("self-test: no seated booking to play with\n");
        return 1;
    }
    struct shopper saved = s->shoppers[victim];
    struct check lost = { .silent = true, .premark = UINT32_MAX };
    s->shoppers[victim].booking_id = 0;
    uint32_t lost_failures = check_all(s, &lost);
    s->shoppers[victim] = saved;
    struct check twice = { .silent = true, .premark = saved.seats[0] };
    uint32_t twice_failures = check_all(s, &twice);
    (void)printf("self-test: the check catches a lost booking: %s; a seat sold twice: %s\n",
                 lost_failures > 0 ? "yes" : "NO", twice_failures > 0 ? "yes" : "NO");
    return lost_failures > 0 && twice_failures > 0 ? 0 : 1;
}

/* ---- Summary and main ---- */

static void summary(const struct sim *s, const struct check *k, double wall_s)
{
    uint32_t free = 0;
    uint32_t held = 0;
    uint32_t booked = 0;
    map_totals(s, &free, &held, &booked);
    (void)printf("\non-sale summary (seed %" PRIu64 "):\n", s->o.seed);
    (void)printf("  shoppers             %u, over %u simulated seconds (then %u s of tail)\n",
                 s->o.shoppers, SIM_ARRIVAL_S, SIM_TAIL_TICKS / SIM_TICKS_PER_S);
    (void)printf("  seats sold           %u of %u", booked, s->o.seats);
    if (s->o.ga > 0) {
        (void)printf(" (and %u of %u GA places)", s->avail->sections[s->seated_sections].booked,
                     s->o.ga);
    }
    (void)printf("\n  bookings             %" PRIu64 "\n", s->st.books);
    (void)printf("  holds made           %" PRIu64 " of %" PRIu64 " attempts\n", s->st.holds_made,
                 s->st.holds_tried);
    (void)printf("  holds expired        %" PRIu64 " (sweeps: %" PRIu64 ", items swept %" PRIu64
                 ")\n",
                 k->holds_expired, s->st.sweeps, s->st.swept);
    (void)printf("  holds released       %" PRIu64 "\n", s->st.releases);
    (void)printf("  replayed retries     %" PRIu64 " of %" PRIu64
                 " book retries answered from the idempotency table\n",
                 s->st.replays_ok, s->st.retries);
    (void)printf("  rejected holds      ");
    for (uint32_t i = 0; i < SIM_STATUS_MAX; i++) {
        if (s->st.rejected[i] != 0) {
            (void)printf(" %s %" PRIu64, err_name((int)i), s->st.rejected[i]);
        }
    }
    (void)printf("\n  inv_check during sale %" PRIu64 " runs, %" PRIu64 " failed\n", s->st.checks,
                 s->st.checks_bad);
    (void)printf("  commands applied     %" PRIu64 " in %" PRIu64 " batches: %.0f/s wall (%.1f s),"
                 " %.0f/s of apply time, %.0f per CPU second of apply\n",
                 s->st.cmds, s->st.batches, wall_s > 0 ? (double)s->st.cmds / wall_s : 0.0, wall_s,
                 s->st.apply_s > 0 ? (double)s->st.cmds / s->st.apply_s : 0.0,
                 s->st.apply_cpu_s > 0 ? (double)s->st.cmds / s->st.apply_cpu_s : 0.0);
}

static int sim_run(struct sim *s)
{
    s->wall_start = clock_now_s();
    s->next_progress = s->wall_start + 1.0;
    for (s->tick = 0; s->tick < s->ticks; s->tick++) {
        if (run_tick(s) != 0) {
            return -1;
        }
    }
    s->tick = s->ticks - 1;
    if (map_refresh(s) != 0) {
        return -1;
    }
    progress(s, true);
    return 0;
}

int main(int argc, char **argv)
{
    struct sim s;
    struct check k = { .silent = false, .premark = UINT32_MAX };
    memset(&s, 0, sizeof(s));
    if (opts_parse(&s.o, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    s.rng.state = s.o.seed;
    s.idem_next = 1;
    (void)printf("inv-sim: %u shoppers, %u seats, %u GA places, seed %" PRIu64
                 " (replay: USHER_SEED=%" PRIu64 ")\n",
                 s.o.shoppers, s.o.seats, s.o.ga, s.o.seed, s.o.seed);
    (void)fflush(stdout);
    int rc = sim_alloc(&s) == 0 && sim_open(&s) == 0 ? 0 : 1;
    double wall_start = clock_now_s();
    if (rc == 0) {
        rc = sim_run(&s) == 0 ? 0 : 1;
    }
    double wall_s = clock_now_s() - wall_start;
    if (rc == 0) {
        uint32_t failures = check_all(&s, &k);
        summary(&s, &k, wall_s);
        (void)printf(failures == 0 ? "integrity: OK\n" : "integrity: FAILED (%u checks)\n",
                     failures);
        rc = failures == 0 ? 0 : 1;
    }
    if (rc == 0 && s.o.selftest) {
        rc = selftest(&s);
    }
    sim_free(&s);
    if (rc == 0) {
        sim_remove_dir(s.dir);
    } else if (s.dir[0] != '\0') {
        (void)printf("store kept for inspection: %s\n", s.dir);
    }
    return rc;
}
