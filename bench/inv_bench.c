/*
 * inv-bench: throughput and store size of the inventory state machine (issue 2),
 * with the naive one-record-per-seat LMDB layout measured in the same run, so
 * the figure that matters is a ratio taken side by side on the same machine.
 *
 * What one run does (each "run" lasts --seconds of wall time):
 *
 *   variant   what it measures                          paths
 *   sellout   one event; random picks sell it out, so   inv_apply, inv_apply_encoded,
 *             most later attempts are SEAT_TAKEN        baseline (hold workload only)
 *   recreate  a new event every --recreate-batches      the same three
 *             batches, so most holds succeed
 *
 * Workloads: "hold" (random seat, random customer, keyed, TTL 600 s, as in
 * /work/shared/bench/peers/README.md) and "mix" (holds; then books of ~70% and
 * releases of ~20% of the successful holds in the next batch; a sweep every
 * 10 batches; simulated time advances 10 ms a batch and holds live 1 s, so the
 * abandoned 10% expire after 100 batches and are swept during the run).
 *
 * Timing: commands are generated (and, for inv_apply_encoded, encoded as the
 * leader would) outside the timed section; only the apply call is timed, in
 * wall time and in CPU time (the goal is per core, and the 2 vCPUs are shared).
 * Event creation is not timed. Every path gets the same attempts, so after the
 * same number of batches all must have made the same number of holds: checked.
 *
 * The baseline is the layout the issue warns about: one LMDB record per seat
 * (key event+seat, value owner+expiry), one write txn per batch with a get+put
 * per seat, one hold record put and one idempotency record put per attempt,
 * plus an applied-index put, with MDB_NOSYNC|MDB_WRITEMAP (--baseline-flags
 * nosync drops WRITEMAP, which store.c does not use). It does not look the
 * idempotency key up before applying (usher does), which favours the baseline.
 * It is the one place outside store.c that calls mdb_* (STYLE.md 1.3): it must
 * not use usher's store to be a baseline. The same place measures the size of
 * usher's store after inv_close(), by opening its environment read-only.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <lmdb.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "assertion.h"
#include "buf.h"
#include "cmd.h"
#include "codec.h"
#include "err.h"
#include "event.h"
#include "inv.h"
#include "limits.h"
#include "mem.h"

/* The encode buffer holds one whole batch (limits.h); as a size_t. */
#define BATCH_BYTES ((size_t)USHER_BATCH_BYTES_MAX)

#define BENCH_SEATS_DEFAULT     100000u
#define BENCH_BATCH_DEFAULT     1000u
#define BENCH_SECONDS_DEFAULT   5u
#define BENCH_SECONDS_MAX       60u
#define BENCH_RECREATE_DEFAULT  20u /* batches per event: ~90% of attempts succeed */
#define BENCH_ROW_SEATS         50u
#define BENCH_SECTION_ROWS      20u
#define BENCH_CUSTOMERS         1000000u
#define BENCH_CLIENTS           64u     /* client ids, as 64 connections would have */
#define BENCH_HOLD_TTL_MS       600000u /* the peers' TTL: nothing expires in a run */
#define BENCH_MIX_TTL_MS        1000u   /* mix: holds live 1 s of simulated time */
#define BENCH_MIX_TTL_MIN_MS    1000u   /* event bound so that 1 s is accepted */
#define BENCH_HOLD_STEP_MS      1u      /* simulated time per batch, hold workload */
#define BENCH_MIX_STEP_MS       10u     /* simulated time per batch, mix workload */
#define BENCH_SWEEP_EVERY       10u     /* mix: one sweep every 10 batches */
#define BENCH_BATCHES_PER_S_MAX 20000u  /* bounds the per-batch success record */
#define BENCH_STATUS_MAX        128u    /* enum usher_err values are below this */
#define BENCH_BASE_MAP_BYTES    (8ull * 1024u * 1024u * 1024u)
#define BENCH_GOAL_CMDS_PER_S   500000.0

enum bench_workload {
    WORKLOAD_HOLD = 1,
    WORKLOAD_MIX = 2,
};

enum bench_path {
    PATH_APPLY = 0,
    PATH_ENCODED = 1,
    PATH_BASELINE = 2,
};

#define PATH_COUNT 3u

static const char *const path_names[PATH_COUNT] = { "inv_apply", "inv_apply_encoded", "baseline" };

struct opts {
    uint32_t seats;
    uint32_t batch;
    uint32_t seconds;
    uint32_t recreate_batches;
    uint8_t workload;
    uint64_t seed;
    bool want_sellout;
    bool want_recreate;
    bool want_path[PATH_COUNT];
    bool base_writemap; /* baseline flags: MDB_NOSYNC|MDB_WRITEMAP, or MDB_NOSYNC alone */
};

struct rng {
    uint64_t state;
};

/* splitmix64: small, fast and good enough to pick seats and customers. */
static uint64_t rng_next(struct rng *r)
{
    r->state += 0x9e3779b97f4a7c15ull;
    uint64_t z = r->state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Returns a value in [0, n), n > 0 (multiply-shift, no modulo bias worth noting). */
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

/* CPU time of this (single-threaded) process: what "on one core" means. */
static double clock_cpu_s(void)
{
    return clock_of(CLOCK_PROCESS_CPUTIME_ID);
}

/* Returns the busy time of all CPUs (user, nice, system, irq, softirq, steal)
 * from /proc/stat in seconds, or 0 when it cannot be read. Used to report how
 * much of the 2 vCPUs other processes took during a run. */
static double machine_busy_s(void)
{
    char line[256];
    uint64_t sum = 0;
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL) {
        return 0;
    }
    char *got = fgets(line, sizeof(line), f);
    (void)fclose(f);
    long tick = sysconf(_SC_CLK_TCK);
    if (got == NULL || strncmp(line, "cpu ", 4) != 0 || tick <= 0) {
        return 0;
    }
    /* Fields: user nice system idle iowait irq softirq steal; idle and iowait
     * are not busy. */
    char *p = line + 4;
    for (uint32_t i = 0; i < 8; i++) {
        char *end = NULL;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        if (end == p || errno != 0) {
            return 0;
        }
        sum += i == 3 || i == 4 ? 0 : (uint64_t)v;
        p = end;
    }
    return (double)sum / (double)tick;
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
                  "usage: inv-bench [--workload hold|mix] [--seats N] [--batch N] [--seconds S]\n"
                  "                 [--variant both|sellout|recreate] [--recreate-batches N]\n"
                  "                 [--path all|apply|encoded|baseline] [--seed N]\n"
                  "                 [--baseline-flags writemap|nosync]\n"
                  "  defaults: hold, %u seats, batch %u, %u s per run, both variants, a new event\n"
                  "  every %u batches in the recreate variant, seed 1\n",
                  BENCH_SEATS_DEFAULT, BENCH_BATCH_DEFAULT, BENCH_SECONDS_DEFAULT,
                  BENCH_RECREATE_DEFAULT);
}

static int parse_word(struct opts *o, int opt, const char *arg)
{
    if (opt == 'f') {
        o->base_writemap = strcmp(arg, "writemap") == 0;
        return o->base_writemap || strcmp(arg, "nosync") == 0 ? 0 : -1;
    }
    if (opt == 'p') {
        bool all = strcmp(arg, "all") == 0;
        o->want_path[PATH_APPLY] = all || strcmp(arg, "apply") == 0;
        o->want_path[PATH_ENCODED] = all || strcmp(arg, "encoded") == 0;
        o->want_path[PATH_BASELINE] = all || strcmp(arg, "baseline") == 0;
        return all || o->want_path[PATH_APPLY] || o->want_path[PATH_ENCODED] ||
                       o->want_path[PATH_BASELINE]
                   ? 0
                   : -1;
    }
    if (opt == 'w') {
        o->workload = strcmp(arg, "hold") == 0  ? WORKLOAD_HOLD
                      : strcmp(arg, "mix") == 0 ? WORKLOAD_MIX
                                                : 0;
        return o->workload == 0 ? -1 : 0;
    }
    o->want_sellout = strcmp(arg, "both") == 0 || strcmp(arg, "sellout") == 0;
    o->want_recreate = strcmp(arg, "both") == 0 || strcmp(arg, "recreate") == 0;
    return o->want_sellout || o->want_recreate ? 0 : -1;
}

static int parse_one(struct opts *o, int opt, const char *arg)
{
    uint64_t v = 0;
    int rc = 0;
    if (opt == 'w' || opt == 'v' || opt == 'p' || opt == 'f') {
        return parse_word(o, opt, arg);
    }
    if (opt == 'n') {
        rc = parse_u64(arg, 1, USHER_EVENT_SEATS_MAX, &v);
        o->seats = (uint32_t)v;
    } else if (opt == 'b') {
        rc = parse_u64(arg, 1, USHER_BATCH_CMDS_MAX, &v);
        o->batch = (uint32_t)v;
    } else if (opt == 't') {
        rc = parse_u64(arg, 1, BENCH_SECONDS_MAX, &v);
        o->seconds = (uint32_t)v;
    } else if (opt == 'r') {
        rc = parse_u64(arg, 1, 1000000, &v);
        o->recreate_batches = (uint32_t)v;
    } else if (opt == 's') {
        rc = parse_u64(arg, 0, UINT64_MAX, &v);
        o->seed = v;
    } else {
        rc = -1;
    }
    return rc;
}

static int opts_parse(struct opts *o, int argc, char **argv)
{
    static const struct option longs[] = {
        { "workload", required_argument, NULL, 'w' },
        { "seats", required_argument, NULL, 'n' },
        { "batch", required_argument, NULL, 'b' },
        { "seconds", required_argument, NULL, 't' },
        { "variant", required_argument, NULL, 'v' },
        { "recreate-batches", required_argument, NULL, 'r' },
        { "seed", required_argument, NULL, 's' },
        { "path", required_argument, NULL, 'p' },
        { "baseline-flags", required_argument, NULL, 'f' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *o = (struct opts){ .seats = BENCH_SEATS_DEFAULT,
                        .batch = BENCH_BATCH_DEFAULT,
                        .seconds = BENCH_SECONDS_DEFAULT,
                        .recreate_batches = BENCH_RECREATE_DEFAULT,
                        .workload = WORKLOAD_HOLD,
                        .seed = 1,
                        .want_sellout = true,
                        .want_recreate = true,
                        .want_path = { true, true, true },
                        .base_writemap = true };
    for (int i = 0; i < argc * 2; i++) {
        int opt = getopt_long(argc, argv, "", longs, NULL);
        if (opt == -1) {
            return optind == argc ? 0 : -1;
        }
        if (opt == 'h' || optarg == NULL || parse_one(o, opt, optarg) != 0) {
            return -1;
        }
    }
    return -1;
}

/* ---- The event: 100 sections x 20 rows x 50 seats for 100,000 seats ---- */

static void event_fill_sections(struct event *e, uint32_t rows, uint32_t per_section)
{
    for (uint32_t s = 0; s < e->section_count; s++) {
        struct event_section *sec = &e->sections[s];
        (void)snprintf(sec->label, sizeof(sec->label), "S%u", s);
        sec->kind = EVENT_SECTION_SEATED;
        uint32_t left = rows - s * per_section;
        sec->row_count = left < per_section ? left : per_section;
    }
}

static void event_fill_rows(struct event *e, uint32_t seats, uint32_t per_section)
{
    for (uint32_t r = 0; r < e->row_count; r++) {
        struct event_row *row = &e->rows[r];
        (void)snprintf(row->label, sizeof(row->label), "R%u", r % per_section + 1);
        uint32_t left = seats - r * BENCH_ROW_SEATS;
        row->seat_count = (uint16_t)(left < BENCH_ROW_SEATS ? left : BENCH_ROW_SEATS);
        row->number_first = 1;
    }
}

/* Returns a new event of `seats` seats in rows of 50, or NULL. Caller owns it. */
static struct event *event_build(uint64_t id, uint32_t seats, uint32_t ttl_min_ms)
{
    ASSERT(seats > 0 && seats <= USHER_EVENT_SEATS_MAX);
    uint32_t rows = (seats + BENCH_ROW_SEATS - 1) / BENCH_ROW_SEATS;
    uint32_t per_section = (rows + USHER_EVENT_SECTIONS_MAX - 1) / USHER_EVENT_SECTIONS_MAX;
    per_section = per_section < BENCH_SECTION_ROWS ? BENCH_SECTION_ROWS : per_section;
    uint32_t sections = (rows + per_section - 1) / per_section;
    struct event *e = event_create(sections, rows);
    if (e == NULL) {
        return NULL;
    }
    e->id = id;
    (void)snprintf(e->name, sizeof(e->name), "bench event %" PRIu64, id);
    e->section_count = sections;
    e->row_count = rows;
    e->hold_ttl_min_ms = ttl_min_ms;
    event_fill_sections(e, rows, per_section);
    event_fill_rows(e, seats, per_section);
    if (event_layout(e) != 0) {
        event_destroy(e);
        return NULL;
    }
    ASSERT(e->seat_count == seats);
    return e;
}

/* ---- Store size: file, disk and LMDB pages ---- */

#define BENCH_TABLES_MAX 16u

struct table_info {
    char name[16];
    uint64_t entries;
    uint64_t pages; /* branch + leaf + overflow */
};

struct size_info {
    uint64_t file_bytes; /* st_size of data.mdb (the map size with MDB_WRITEMAP) */
    uint64_t disk_bytes; /* blocks allocated on disk */
    uint64_t high_bytes; /* pages up to the high-water mark * page size */
    uint64_t used_bytes; /* high-water pages minus free-list pages, * page size */
    uint64_t seats;      /* seats of all events in the store */
    uint32_t psize;
    uint32_t table_count;
    struct table_info tables[BENCH_TABLES_MAX];
};

/* Lists the named databases (keys of the main database) with their sizes. */
static void size_of_tables(MDB_txn *txn, struct size_info *s)
{
    MDB_dbi main_dbi;
    MDB_cursor *cur = NULL;
    MDB_val k;
    MDB_val v;
    s->table_count = 0;
    if (mdb_dbi_open(txn, NULL, 0, &main_dbi) != 0 || mdb_cursor_open(txn, main_dbi, &cur) != 0) {
        return;
    }
    while (s->table_count < BENCH_TABLES_MAX && mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        struct table_info *t = &s->tables[s->table_count];
        MDB_dbi dbi;
        MDB_stat st;
        if (k.mv_size >= sizeof(t->name)) {
            continue;
        }
        memcpy(t->name, k.mv_data, k.mv_size);
        t->name[k.mv_size] = '\0';
        if (mdb_dbi_open(txn, t->name, 0, &dbi) != 0 || mdb_stat(txn, dbi, &st) != 0) {
            continue;
        }
        t->entries = st.ms_entries;
        t->pages = st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
        s->table_count++;
    }
    mdb_cursor_close(cur);
}

static uint64_t freelist_pages(MDB_txn *txn)
{
    MDB_cursor *cur = NULL;
    uint64_t pages = 0;
    if (mdb_cursor_open(txn, 0, &cur) != 0) {
        return 0;
    }
    MDB_val k;
    MDB_val v;
    while (mdb_cursor_get(cur, &k, &v, MDB_NEXT) == 0) {
        size_t count = 0;
        if (v.mv_size >= sizeof(count)) {
            memcpy(&count, v.mv_data, sizeof(count));
            pages += count;
        }
    }
    mdb_cursor_close(cur);
    return pages;
}

static int size_of_env(MDB_env *env, const char *dir, struct size_info *s)
{
    MDB_envinfo info;
    MDB_stat st;
    MDB_txn *txn = NULL;
    char path[PATH_MAX];
    struct stat fst;
    if (mdb_env_info(env, &info) != 0 || mdb_env_stat(env, &st) != 0 ||
        mdb_txn_begin(env, NULL, MDB_RDONLY, &txn) != 0) {
        return -1;
    }
    uint64_t free_pages = freelist_pages(txn);
    size_of_tables(txn, s);
    mdb_txn_abort(txn);
    s->psize = st.ms_psize;
    uint64_t high = (uint64_t)info.me_last_pgno + 1;
    s->high_bytes = high * st.ms_psize;
    s->used_bytes = (high - free_pages) * st.ms_psize;
    (void)snprintf(path, sizeof(path), "%s/data.mdb", dir);
    if (stat(path, &fst) != 0) {
        return -1;
    }
    s->file_bytes = (uint64_t)fst.st_size;
    s->disk_bytes = (uint64_t)fst.st_blocks * 512u;
    return 0;
}

/* Measures a closed store in dir (LMDB's default layout: dir/data.mdb). */
static int size_of_dir(const char *dir, struct size_info *s)
{
    MDB_env *env = NULL;
    if (mdb_env_create(&env) != 0) {
        return -1;
    }
    int rc = mdb_env_set_maxdbs(env, 64);
    if (rc == 0) {
        rc = mdb_env_open(env, dir, MDB_RDONLY | MDB_NOLOCK, 0600);
    }
    if (rc == 0) {
        rc = size_of_env(env, dir, s);
    }
    mdb_env_close(env);
    return rc;
}

/* ---- Baseline: one LMDB record per seat ---- */

struct base {
    MDB_env *env;
    MDB_dbi seats_dbi;
    MDB_dbi holds_dbi;
    MDB_dbi idem_dbi;
    MDB_dbi meta_dbi;
};

#define BASE_SEAT_KEY 12u /* event u64 BE | seat u32 BE */
#define BASE_SEAT_VAL 16u /* owner (customer) u64 | expiry u64 */
#define BASE_HOLD_VAL 36u /* event | customer | seat u32 | created | expiry */
#define BASE_IDEM_KEY 16u /* client u64 BE | idem key u64 BE */

static int base_open_dbis(struct base *b)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_dbi_open(txn, "seats", MDB_CREATE, &b->seats_dbi);
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "holds", MDB_CREATE, &b->holds_dbi);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "idem", MDB_CREATE, &b->idem_dbi);
    }
    if (rc == 0) {
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &b->meta_dbi);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static int base_open(struct base *b, const char *dir, bool writemap)
{
    int rc = mdb_env_create(&b->env);
    if (rc != 0) {
        return rc;
    }
    rc = mdb_env_set_maxdbs(b->env, 4);
    if (rc == 0) {
        rc = mdb_env_set_mapsize(b->env, (size_t)BENCH_BASE_MAP_BYTES);
    }
    if (rc == 0) {
        rc = mdb_env_open(b->env, dir, MDB_NOSYNC | (writemap ? MDB_WRITEMAP : 0u), 0600);
    }
    if (rc == 0) {
        rc = base_open_dbis(b);
    }
    if (rc != 0) {
        mdb_env_close(b->env);
        b->env = NULL;
    }
    return rc;
}

static void base_close(struct base *b)
{
    if (b->env != NULL) {
        /* The result is ignored: the store is deleted after the run. */
        (void)mdb_env_sync(b->env, 1);
        mdb_env_close(b->env);
        b->env = NULL;
    }
}

static void base_seat_key(uint8_t *key, uint64_t event_id, uint32_t seat)
{
    buf_put_be64(key, event_id);
    buf_put_be32(key + 8, seat);
}

/* Writes one free record per seat of a new event (keys ascending: MDB_APPEND). */
static int base_event_create(struct base *b, uint64_t event_id, uint32_t seats)
{
    MDB_txn *txn = NULL;
    uint8_t key[BASE_SEAT_KEY];
    uint8_t val[BASE_SEAT_VAL] = { 0 };
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    if (rc != 0) {
        return rc;
    }
    for (uint32_t s = 0; s < seats && rc == 0; s++) {
        base_seat_key(key, event_id, s);
        MDB_val k = { sizeof(key), key };
        MDB_val v = { sizeof(val), val };
        rc = mdb_put(txn, b->seats_dbi, &k, &v, MDB_APPEND);
    }
    if (rc != 0) {
        mdb_txn_abort(txn);
        return rc;
    }
    return mdb_txn_commit(txn);
}

static int base_hold_put(struct base *b, MDB_txn *txn, uint64_t id, uint64_t now,
                         const struct cmd *c, uint64_t expiry)
{
    uint8_t key[8];
    uint8_t val[BASE_HOLD_VAL];
    buf_put_be64(key, id);
    buf_put_be64(val, c->event_id);
    buf_put_be64(val + 8, c->customer_id);
    buf_put_be32(val + 16, c->u.hold_seats.seats[0]);
    buf_put_be64(val + 20, now);
    buf_put_be64(val + 28, expiry);
    MDB_val k = { sizeof(key), key };
    MDB_val v = { sizeof(val), val };
    return mdb_put(txn, b->holds_dbi, &k, &v, 0);
}

/* One hold attempt on one seat: get the seat, and if free, put it and the hold. */
static int base_hold(struct base *b, MDB_txn *txn, uint64_t id, uint64_t now, const struct cmd *c,
                     struct cmd_result *r)
{
    ASSERT(c->type == CMD_HOLD_SEATS);
    ASSERT(c->u.hold_seats.seat_count == 1);
    uint8_t key[BASE_SEAT_KEY];
    uint8_t val[BASE_SEAT_VAL];
    base_seat_key(key, c->event_id, c->u.hold_seats.seats[0]);
    MDB_val k = { sizeof(key), key };
    MDB_val v;
    int rc = mdb_get(txn, b->seats_dbi, &k, &v);
    if (rc != 0 || v.mv_size != BASE_SEAT_VAL) {
        return rc != 0 ? rc : MDB_CORRUPTED;
    }
    memset(r, 0, sizeof(*r));
    r->type = c->type;
    uint64_t owner = buf_get_be64(v.mv_data);
    uint64_t expiry = buf_get_be64((const uint8_t *)v.mv_data + 8);
    if (owner != 0 && now < expiry) {
        r->status = USHER_SEAT_TAKEN;
        return 0;
    }
    expiry = now + c->u.hold_seats.ttl_ms;
    buf_put_be64(val, c->customer_id);
    buf_put_be64(val + 8, expiry);
    v = (MDB_val){ sizeof(val), val };
    rc = mdb_put(txn, b->seats_dbi, &k, &v, 0);
    if (rc == 0) {
        rc = base_hold_put(b, txn, id, now, c, expiry);
    }
    r->id = id;
    r->expires_at_ms = expiry;
    r->seat_count = 1;
    r->seats[0] = c->u.hold_seats.seats[0];
    return rc;
}

/* Stores the result of a keyed command: digest u64 BE | encoded result. */
static int base_idem_put(struct base *b, MDB_txn *txn, const struct cmd *c,
                         const struct cmd_result *r)
{
    uint8_t key[BASE_IDEM_KEY];
    uint8_t val[8 + USHER_RESULT_BYTES_MAX];
    size_t len = 0;
    buf_put_be64(key, c->client_id);
    buf_put_be64(key + 8, c->idem_key);
    buf_put_be64(val, c->digest);
    if (codec_result_encode(r, val + 8, sizeof(val) - 8, &len) != 0) {
        return MDB_BAD_VALSIZE;
    }
    MDB_val k = { sizeof(key), key };
    MDB_val v = { 8 + len, val };
    return mdb_put(txn, b->idem_dbi, &k, &v, 0);
}

static int base_apply(struct base *b, uint64_t index, uint64_t now, const struct cmd *cmds,
                      uint32_t n, struct cmd_result *results)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(b->env, NULL, 0, &txn);
    for (uint32_t i = 0; i < n && rc == 0; i++) {
        uint64_t id = (index << USHER_ID_SLOT_BITS) | i;
        rc = base_hold(b, txn, id, now, &cmds[i], &results[i]);
        if (rc == 0) {
            rc = base_idem_put(b, txn, &cmds[i], &results[i]);
        }
    }
    if (rc == 0) {
        uint8_t val[8];
        char name[] = "applied";
        buf_put_be64(val, index);
        MDB_val k = { sizeof(name) - 1, name };
        MDB_val v = { sizeof(val), val };
        rc = mdb_put(txn, b->meta_dbi, &k, &v, 0);
    }
    if (rc != 0) {
        if (txn != NULL) {
            mdb_txn_abort(txn);
        }
        return rc;
    }
    return mdb_txn_commit(txn);
}

/* ---- Targets: usher's store through one of its two apply calls, or the baseline ---- */

struct target {
    uint8_t path;
    bool base_writemap;
    char dir[64];
    struct inv *inv;
    struct base base;
    uint64_t index; /* log index of the last batch applied */
    uint8_t *enc;   /* borrowed: USHER_BATCH_BYTES_MAX bytes for PATH_ENCODED */
    size_t enc_len;
};

static int target_open_store(struct target *t)
{
    if (t->path == PATH_BASELINE) {
        int rc = base_open(&t->base, t->dir, t->base_writemap);
        if (rc != 0) {
            (void)fprintf(stderr, "baseline open %s: %s\n", t->dir, mdb_strerror(rc));
        }
        return rc == 0 ? 0 : -1;
    }
    /* As in production: the Raft log is the durable copy (RAFT-NOTES §3). */
    struct inv_options io = { .map_bytes = 0, .idem_window_ms = 0, .durable = false };
    char errmsg[USHER_ERRMSG_MAX] = "";
    int rc = inv_open(t->dir, &io, &t->inv, errmsg);
    if (rc != 0) {
        (void)fprintf(stderr, "inv_open %s: %s: %s\n", t->dir, err_name(rc), errmsg);
        return -1;
    }
    return 0;
}

static int target_open(struct target *t, uint8_t path, uint8_t *enc, bool base_writemap)
{
    memset(t, 0, sizeof(*t));
    t->path = path;
    t->base_writemap = base_writemap;
    t->enc = enc;
    (void)snprintf(t->dir, sizeof(t->dir), "%s", "/tmp/inv-bench.XXXXXX");
    if (mkdtemp(t->dir) == NULL) {
        perror("mkdtemp");
        return -1;
    }
    return target_open_store(t);
}

static void target_close_store(struct target *t)
{
    if (t->path == PATH_BASELINE) {
        base_close(&t->base);
    } else {
        inv_close(t->inv);
        t->inv = NULL;
    }
}

/* Deletes the temp store (a flat directory of LMDB files). */
static void target_remove(const struct target *t)
{
    DIR *d = opendir(t->dir);
    if (d != NULL) {
        for (struct dirent *de = readdir(d); de != NULL; de = readdir(d)) {
            char path[PATH_MAX];
            if (de->d_name[0] == '.') {
                continue;
            }
            (void)snprintf(path, sizeof(path), "%s/%s", t->dir, de->d_name);
            if (unlink(path) != 0) {
                perror(path);
            }
        }
        closedir(d);
    }
    if (rmdir(t->dir) != 0) {
        perror(t->dir);
    }
}

/* Measures the store; usher's is closed, measured and opened again (untimed). */
static int target_measure(struct target *t, struct size_info *s)
{
    if (t->path == PATH_BASELINE) {
        if (mdb_env_sync(t->base.env, 1) != 0) {
            return -1;
        }
        return size_of_env(t->base.env, t->dir, s);
    }
    target_close_store(t);
    if (size_of_dir(t->dir, s) != 0) {
        (void)fprintf(stderr, "cannot measure the store in %s (expected LMDB's data.mdb)\n",
                      t->dir);
        memset(s, 0, sizeof(*s));
    }
    return target_open_store(t);
}

/* Encodes the batch as the leader would (PATH_ENCODED); outside the timed part. */
static int target_prepare(struct target *t, uint64_t ts, const struct cmd *cmds, uint32_t n)
{
    if (t->path != PATH_ENCODED) {
        return 0;
    }
    int rc = codec_batch_encode(ts, cmds, n, t->enc, BATCH_BYTES, &t->enc_len);
    if (rc != 0) {
        (void)fprintf(stderr, "codec_batch_encode: %s\n", err_name(rc));
    }
    return rc;
}

/* Applies the batch prepared for (ts, cmds, n) at the next log index. */
static int target_apply(struct target *t, uint64_t ts, const struct cmd *cmds, uint32_t n,
                        struct cmd_result *results)
{
    int rc = 0;
    uint32_t got = n;
    int decode_status = 0;
    t->index++;
    if (t->path == PATH_APPLY) {
        rc = inv_apply(t->inv, t->index, ts, cmds, n, results);
    } else if (t->path == PATH_ENCODED) {
        rc = inv_apply_encoded(t->inv, t->index, t->enc, t->enc_len, results, &got, &decode_status);
    } else {
        int mrc = base_apply(&t->base, t->index, ts, cmds, n, results);
        if (mrc != 0) {
            (void)fprintf(stderr, "baseline apply: %s\n", mdb_strerror(mrc));
            return -1;
        }
    }
    if (rc != 0 || decode_status != 0 || got != n) {
        (void)fprintf(stderr, "apply at index %" PRIu64 ": %s, decode %s, %u of %u commands\n",
                      t->index, err_name(rc), err_name(decode_status), got, n);
        return -1;
    }
    return 0;
}

/* ---- Command generator ---- */

struct followup {
    uint64_t hold_id;
    uint64_t event_id;
    uint64_t customer_id;
    uint8_t type; /* CMD_HOLD_BOOK or CMD_HOLD_RELEASE */
};

struct gen {
    struct rng rng;
    uint8_t workload;
    uint32_t seats;        /* per event */
    uint32_t ttl_ms;       /* of every hold */
    uint32_t ttl_min_ms;   /* the events' lower TTL bound (0: default) */
    uint32_t step_ms;      /* simulated time per batch */
    uint64_t event_id;     /* the event holds go to */
    uint64_t idem_next;    /* keys are never reused: every command runs */
    struct followup *ring; /* mix: books and releases waiting for the next batch */
    uint32_t ring_cap;
    uint32_t ring_head;
    uint32_t ring_len;
};

static void gen_init(struct gen *g, const struct opts *o, struct followup *ring, uint32_t cap)
{
    bool mix = o->workload == WORKLOAD_MIX;
    *g = (struct gen){ .rng = { o->seed },
                       .workload = o->workload,
                       .seats = o->seats,
                       .ttl_ms = mix ? BENCH_MIX_TTL_MS : BENCH_HOLD_TTL_MS,
                       .ttl_min_ms = mix ? BENCH_MIX_TTL_MIN_MS : 0,
                       .step_ms = mix ? BENCH_MIX_STEP_MS : BENCH_HOLD_STEP_MS,
                       .event_id = 1,
                       .idem_next = 1,
                       .ring = ring,
                       .ring_cap = cap };
}

static void cmd_keyed(struct cmd *c, struct gen *g, uint8_t type, uint64_t event_id,
                      uint64_t customer_id)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    c->client_id = 1 + customer_id % BENCH_CLIENTS;
    c->idem_key = g->idem_next++;
    c->event_id = event_id;
    c->customer_id = customer_id;
    /* codec_cmd_decode() sets the digest on the encoded path; for inv_apply any
     * value serves, as no key is ever sent twice. */
    c->digest = c->idem_key * 0x9e3779b97f4a7c15ull;
}

static void gen_hold(struct gen *g, struct cmd *c)
{
    uint64_t customer_id = 1 + rng_below(&g->rng, BENCH_CUSTOMERS);
    uint32_t seat = rng_below(&g->rng, g->seats);
    cmd_keyed(c, g, CMD_HOLD_SEATS, g->event_id, customer_id);
    c->u.hold_seats.ttl_ms = g->ttl_ms;
    c->u.hold_seats.seat_count = 1;
    c->u.hold_seats.seats[0] = seat;
}

static void gen_followup(struct gen *g, struct cmd *c)
{
    ASSERT(g->ring_len > 0);
    const struct followup *f = &g->ring[g->ring_head];
    cmd_keyed(c, g, f->type, f->event_id, f->customer_id);
    if (f->type == CMD_HOLD_BOOK) {
        c->u.book.hold_id = f->hold_id;
        (void)snprintf(c->u.book.payment_ref, sizeof(c->u.book.payment_ref), "pay-%" PRIu64,
                       c->idem_key);
    } else {
        ASSERT(f->type == CMD_HOLD_RELEASE);
        c->u.release.hold_id = f->hold_id;
    }
    g->ring_head = (g->ring_head + 1) % g->ring_cap;
    g->ring_len--;
}

static uint32_t gen_batch(struct gen *g, struct cmd *cmds, uint32_t n, uint64_t batch_no)
{
    uint32_t i = 0;
    if (g->workload == WORKLOAD_MIX) {
        if (batch_no % BENCH_SWEEP_EVERY == 0) {
            memset(&cmds[i], 0, sizeof(cmds[i]));
            cmds[i].type = CMD_SWEEP;
            cmds[i].u.sweep.max = USHER_SWEEP_MAX;
            i++;
        }
        while (i < n / 2 + 1 && i < n && g->ring_len > 0) {
            gen_followup(g, &cmds[i]);
            i++;
        }
    }
    for (; i < n; i++) {
        gen_hold(g, &cmds[i]);
    }
    return n;
}

/* Mix: 70% of the successful holds are booked, 20% released, 10% abandoned. */
static void gen_observe(struct gen *g, const struct cmd *cmds, const struct cmd_result *res,
                        uint32_t n)
{
    if (g->workload != WORKLOAD_MIX) {
        return;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (cmds[i].type != CMD_HOLD_SEATS || res[i].status != USHER_OK) {
            continue;
        }
        uint32_t dice = rng_below(&g->rng, 100);
        if (dice >= 90 || g->ring_len == g->ring_cap) {
            continue;
        }
        struct followup *f = &g->ring[(g->ring_head + g->ring_len) % g->ring_cap];
        f->hold_id = res[i].id;
        f->event_id = cmds[i].event_id;
        f->customer_id = cmds[i].customer_id;
        f->type = dice < 70 ? CMD_HOLD_BOOK : CMD_HOLD_RELEASE;
        g->ring_len++;
    }
}

static int target_event_create(struct target *t, struct gen *g, uint64_t ts)
{
    struct cmd c;
    struct cmd_result r;
    t->index += t->path == PATH_BASELINE ? 1 : 0;
    if (t->path == PATH_BASELINE) {
        int rc = base_event_create(&t->base, g->event_id, g->seats);
        if (rc != 0) {
            (void)fprintf(stderr, "baseline event: %s\n", mdb_strerror(rc));
        }
        return rc == 0 ? 0 : -1;
    }
    struct event *e = event_build(g->event_id, g->seats, g->ttl_min_ms);
    if (e == NULL) {
        (void)fprintf(stderr, "cannot build an event of %u seats\n", g->seats);
        return -1;
    }
    cmd_keyed(&c, g, CMD_EVENT_CREATE, g->event_id, 0);
    c.u.create.event = e;
    int rc = target_prepare(t, ts, &c, 1);
    if (rc == 0) {
        rc = target_apply(t, ts, &c, 1, &r);
    }
    event_destroy(e);
    if (rc == 0 && r.status != USHER_OK) {
        (void)fprintf(stderr, "create event: %s\n", err_name(r.status));
        rc = -1;
    }
    return rc;
}

/* ---- One run: one variant through one path ---- */

struct phase {
    uint8_t path;
    bool recreate;
    uint64_t batches;
    uint64_t cmds;
    uint64_t events;
    uint64_t holds_tried;
    uint64_t holds_ok;
    uint64_t books_ok;
    uint64_t releases_ok;
    uint64_t sweeps;
    uint64_t swept;
    uint64_t status_count[BENCH_STATUS_MAX];
    double apply_s;     /* wall time inside the apply calls */
    double apply_cpu_s; /* CPU time inside the apply calls */
    double wall_s;
    double other_pct; /* CPU other processes used during the run, % of one core */
    struct size_info size_created;
    struct size_info size_end;
    uint64_t *ok_at; /* holds_ok after batch i, for the cross-check of paths */
    uint64_t ok_at_cap;
};

/* Buffers shared by every run, allocated once. */
struct work {
    uint32_t batch;
    struct cmd *cmds;
    struct cmd_result *results;
    uint8_t *enc;
    struct followup *ring;
    uint32_t ring_cap;
};

static void phase_count(struct phase *p, const struct cmd *cmds, const struct cmd_result *res,
                        uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        uint16_t status = res[i].status;
        p->status_count[status < BENCH_STATUS_MAX ? status : BENCH_STATUS_MAX - 1]++;
        if (cmds[i].type == CMD_HOLD_SEATS) {
            p->holds_tried++;
            p->holds_ok += status == USHER_OK ? 1 : 0;
        } else if (cmds[i].type == CMD_HOLD_BOOK) {
            p->books_ok += status == USHER_OK ? 1 : 0;
        } else if (cmds[i].type == CMD_HOLD_RELEASE) {
            p->releases_ok += status == USHER_OK ? 1 : 0;
        } else if (cmds[i].type == CMD_SWEEP) {
            p->sweeps++;
            p->swept += res[i].swept;
        }
    }
    p->cmds += n;
    if (p->batches < p->ok_at_cap) {
        p->ok_at[p->batches] = p->holds_ok;
    }
    p->batches++;
}

static int phase_batch(struct phase *p, struct target *t, struct gen *g, const struct work *w)
{
    uint64_t ts = 1 + p->batches * g->step_ms;
    uint32_t n = gen_batch(g, w->cmds, w->batch, p->batches);
    if (target_prepare(t, ts, w->cmds, n) != 0) {
        return -1;
    }
    double t0 = clock_now_s();
    double c0 = clock_cpu_s();
    int rc = target_apply(t, ts, w->cmds, n, w->results);
    p->apply_cpu_s += clock_cpu_s() - c0;
    p->apply_s += clock_now_s() - t0;
    if (rc != 0) {
        return -1;
    }
    phase_count(p, w->cmds, w->results, n);
    gen_observe(g, w->cmds, w->results, n);
    return 0;
}

static const char *variant_name(bool recreate)
{
    return recreate ? "recreate" : "sellout";
}

static void phase_progress(const struct phase *p, double elapsed, uint64_t cmds_before)
{
    (void)printf("  %-8s %-17s %4.1f s  cmds %10" PRIu64 " (+%8" PRIu64 ")  holds ok %9" PRIu64
                 "  events %4" PRIu64 "  %9.0f cmds/s apply, %9.0f per CPU-s\n",
                 variant_name(p->recreate), path_names[p->path], elapsed, p->cmds,
                 p->cmds - cmds_before, p->holds_ok, p->events,
                 p->apply_s > 0 ? (double)p->cmds / p->apply_s : 0.0,
                 p->apply_cpu_s > 0 ? (double)p->cmds / p->apply_cpu_s : 0.0);
    (void)fflush(stdout);
}

/* Runs batches for o->seconds of wall time; recreate: a new event every N batches. */
static int phase_loop(struct phase *p, const struct opts *o, const struct work *w, struct target *t,
                      struct gen *g)
{
    double start = clock_now_s();
    double cpu_start = clock_cpu_s();
    double busy_start = machine_busy_s();
    double next_progress = start + 1.0;
    uint64_t cmds_before = 0;
    uint64_t bound = (uint64_t)o->seconds * 10000000u; /* time ends the loop first */
    for (uint64_t b = 0; b < bound; b++) {
        double now = clock_now_s();
        if (now - start >= (double)o->seconds) {
            break;
        }
        if (now >= next_progress) {
            phase_progress(p, now - start, cmds_before);
            cmds_before = p->cmds;
            next_progress += 1.0;
        }
        if (p->recreate && b > 0 && b % o->recreate_batches == 0) {
            if (p->events >= USHER_SHARD_EVENTS_MAX) {
                (void)printf("  (stopped at the shard's limit of %u events)\n",
                             USHER_SHARD_EVENTS_MAX);
                break;
            }
            g->event_id++;
            if (target_event_create(t, g, 1 + p->batches * g->step_ms) != 0) {
                return -1;
            }
            p->events++;
        }
        if (phase_batch(p, t, g, w) != 0) {
            return -1;
        }
    }
    p->wall_s = clock_now_s() - start;
    double others = machine_busy_s() - busy_start - (clock_cpu_s() - cpu_start);
    p->other_pct = others > 0 ? 100.0 * others / p->wall_s : 0.0;
    phase_progress(p, p->wall_s, cmds_before);
    return 0;
}

static int phase_run(struct phase *p, const struct opts *o, const struct work *w)
{
    struct target t;
    struct gen g;
    gen_init(&g, o, w->ring, w->ring_cap);
    if (target_open(&t, p->path, w->enc, o->base_writemap) != 0) {
        return -1;
    }
    int rc = target_event_create(&t, &g, 1);
    if (rc == 0) {
        p->events = 1;
        rc = target_measure(&t, &p->size_created);
        p->size_created.seats = o->seats;
    }
    if (rc == 0) {
        rc = phase_loop(p, o, w, &t, &g);
    }
    if (rc == 0) {
        rc = target_measure(&t, &p->size_end);
        p->size_end.seats = p->events * o->seats;
    }
    target_close_store(&t);
    target_remove(&t);
    return rc;
}

/* ---- Report ---- */

static double per_s(uint64_t count, double seconds)
{
    return seconds > 0 ? (double)count / seconds : 0.0;
}

static void report_statuses(const struct phase *p)
{
    (void)printf("    results:");
    for (uint32_t s = 0; s < BENCH_STATUS_MAX; s++) {
        if (p->status_count[s] != 0) {
            (void)printf(" %s %" PRIu64, err_name((int)s), p->status_count[s]);
        }
    }
    if (p->sweeps != 0) {
        (void)printf("; books ok %" PRIu64 ", releases ok %" PRIu64 ", sweeps %" PRIu64
                     " (swept %" PRIu64 ")",
                     p->books_ok, p->releases_ok, p->sweeps, p->swept);
    }
    (void)printf("\n");
}

static void report_table(const struct phase *ph, uint32_t count)
{
    (void)printf("\n(cmds/s: per second of apply wall time; cmds/cpu_s: per CPU second of apply;\n"
                 "other: CPU used by other processes during the run, %% of one core)\n");
    (void)printf("%-8s %-17s %7s %10s %7s %10s %10s %9s %10s %7s %6s\n", "variant", "path",
                 "batches", "commands", "apply_s", "cmds/s", "cmds/cpu_s", "holds_ok", "holds_ok/s",
                 "success", "other");
    for (uint32_t i = 0; i < count; i++) {
        const struct phase *p = &ph[i];
        (void)printf("%-8s %-17s %7" PRIu64 " %10" PRIu64 " %7.2f %10.0f %10.0f %9" PRIu64
                     " %10.0f %6.1f%% %5.0f%%\n",
                     variant_name(p->recreate), path_names[p->path], p->batches, p->cmds,
                     p->apply_s, per_s(p->cmds, p->apply_s), per_s(p->cmds, p->apply_cpu_s),
                     p->holds_ok, per_s(p->holds_ok, p->apply_s),
                     p->holds_tried > 0 ? 100.0 * (double)p->holds_ok / (double)p->holds_tried
                                        : 0.0,
                     p->other_pct);
        report_statuses(p);
    }
}

static void report_size_row(const struct phase *p, const char *when, const struct size_info *s)
{
    double seats = s->seats > 0 ? (double)s->seats : 1.0;
    (void)printf(
        "%-8s %-17s %-7s %9" PRIu64 " %12" PRIu64 " %11" PRIu64 " %11" PRIu64 " %8.1f %8.1f\n",
        variant_name(p->recreate), path_names[p->path], when, s->seats, s->file_bytes,
        s->disk_bytes, s->used_bytes, (double)s->used_bytes / seats, (double)s->disk_bytes / seats);
}

static void report_sizes(const struct phase *ph, uint32_t count)
{
    (void)printf(
        "\nstore size (in_use = LMDB pages below the high-water mark minus free pages;\n"
        "file = data.mdb size, the map size under MDB_WRITEMAP; disk = blocks allocated)\n");
    (void)printf("%-8s %-17s %-7s %9s %12s %11s %11s %8s %8s\n", "variant", "path", "when", "seats",
                 "file_bytes", "disk_bytes", "in_use", "B/seat", "disk/seat");
    for (uint32_t i = 0; i < count; i++) {
        report_size_row(&ph[i], "created", &ph[i].size_created);
        report_size_row(&ph[i], "end", &ph[i].size_end);
    }
}

static void report_tables(const struct phase *p, const char *when, const struct size_info *s)
{
    (void)printf("  %s %s %s:", variant_name(p->recreate), path_names[p->path], when);
    for (uint32_t i = 0; i < s->table_count; i++) {
        const struct table_info *t = &s->tables[i];
        if (t->entries != 0) {
            (void)printf(" %s %" PRIu64 " recs %.1f MiB;", t->name, t->entries,
                         (double)(t->pages * s->psize) / (1024.0 * 1024.0));
        }
    }
    (void)printf("\n");
}

static void report_breakdown(const struct phase *ph, uint32_t count)
{
    (void)printf("\ntables (records, MiB of pages):\n");
    for (uint32_t i = 0; i < count; i++) {
        if (ph[i].path != PATH_ENCODED) {
            report_tables(&ph[i], "created", &ph[i].size_created);
            report_tables(&ph[i], "end", &ph[i].size_end);
        }
    }
}

static const struct phase *phase_find(const struct phase *ph, uint32_t count, bool recreate,
                                      uint32_t path)
{
    for (uint32_t i = 0; i < count; i++) {
        if (ph[i].recreate == recreate && ph[i].path == path) {
            return &ph[i];
        }
    }
    return NULL;
}

/* The same seed gives the same attempts: after the same number of batches every path
 * must have made the same number of successful holds. Returns false on a mismatch. */
static bool report_cross_check(const struct phase *a, const struct phase *b)
{
    uint64_t n = a->batches < b->batches ? a->batches : b->batches;
    n = n < a->ok_at_cap ? n : a->ok_at_cap;
    if (n == 0) {
        return true;
    }
    bool same = a->ok_at[n - 1] == b->ok_at[n - 1];
    (void)printf("  cross-check %s vs %s (%s): holds ok after %" PRIu64 " batches %" PRIu64
                 " vs %" PRIu64 ": %s\n",
                 path_names[a->path], path_names[b->path], variant_name(a->recreate), n,
                 a->ok_at[n - 1], b->ok_at[n - 1], same ? "same" : "DIFFERENT");
    return same;
}

static void report_ratios(const struct phase *ph, uint32_t count, bool recreate)
{
    const struct phase *base = phase_find(ph, count, recreate, PATH_BASELINE);
    if (base == NULL || base->apply_s <= 0 || base->apply_cpu_s <= 0) {
        return;
    }
    double base_rate = per_s(base->cmds, base->apply_s);
    double base_cpu = per_s(base->cmds, base->apply_cpu_s);
    for (uint32_t path = PATH_APPLY; path <= PATH_ENCODED; path++) {
        const struct phase *p = phase_find(ph, count, recreate, path);
        if (p == NULL || base_rate <= 0 || base_cpu <= 0) {
            continue;
        }
        double rate = per_s(p->cmds, p->apply_s);
        double cpu = per_s(p->cmds, p->apply_cpu_s);
        (void)printf("  %-8s %-17s per CPU-s %9.0f vs %9.0f: x%.2f;  per apply-s %9.0f vs %9.0f: "
                     "x%.2f\n",
                     variant_name(recreate), path_names[path], cpu, base_cpu, cpu / base_cpu, rate,
                     base_rate, rate / base_rate);
    }
}

/* Prints the ratios, cross-checks and the goal line. Returns false on a mismatch. */
static bool report_summary(const struct phase *ph, uint32_t count, const struct opts *o)
{
    bool ok = true;
    (void)printf(
        "\nratio to the baseline (commands per second; every path gets the same attempts):\n");
    report_ratios(ph, count, false);
    report_ratios(ph, count, true);
    for (uint32_t v = 0; v < 2; v++) {
        const struct phase *a = phase_find(ph, count, v == 1, PATH_APPLY);
        for (uint32_t path = PATH_ENCODED; path < PATH_COUNT && a != NULL; path++) {
            const struct phase *b = phase_find(ph, count, v == 1, path);
            ok = b == NULL || o->workload != WORKLOAD_HOLD ? ok : report_cross_check(a, b) && ok;
        }
    }
    if (o->workload != WORKLOAD_HOLD) {
        (void)printf("\n(the goal of %.0f commands/s is set for the hold workload)\n",
                     BENCH_GOAL_CMDS_PER_S);
        return ok;
    }
    (void)printf("\ngoal: >= %.0f hold commands/s on one core (attempts/s; the sellout variant\n"
                 "is mostly SEAT_TAKEN refusals, the recreate variant mostly successful holds):\n",
                 BENCH_GOAL_CMDS_PER_S);
    for (uint32_t i = 0; i < count; i++) {
        if (ph[i].path != PATH_BASELINE) {
            double rate = per_s(ph[i].cmds, ph[i].apply_cpu_s);
            (void)printf("  %-8s %-17s %10.0f per CPU second of apply: %s\n",
                         variant_name(ph[i].recreate), path_names[ph[i].path], rate,
                         rate >= BENCH_GOAL_CMDS_PER_S ? "met" : "NOT met");
        }
    }
    return ok;
}

static int work_init(struct work *w, const struct opts *o)
{
    *w = (struct work){ .batch = o->batch, .ring_cap = o->batch * 4 };
    w->cmds = mem_calloc(o->batch, sizeof(*w->cmds));
    w->results = mem_calloc(o->batch, sizeof(*w->results));
    w->enc = mem_alloc(BATCH_BYTES);
    w->ring = mem_calloc(w->ring_cap, sizeof(*w->ring));
    if (w->cmds == NULL || w->results == NULL || w->enc == NULL || w->ring == NULL) {
        return -1;
    }
    return 0;
}

static void work_free(struct work *w)
{
    mem_free(w->cmds);
    mem_free(w->results);
    mem_free(w->enc);
    mem_free(w->ring);
}

/* Lists the runs: for each variant asked, the two usher paths, then the baseline
 * (hold workload only: the baseline implements holds, not books or sweeps). */
static uint32_t phases_plan(struct phase *ph, const struct opts *o)
{
    uint32_t count = 0;
    for (uint32_t v = 0; v < 2; v++) {
        bool recreate = v == 1;
        if ((recreate && !o->want_recreate) || (!recreate && !o->want_sellout)) {
            continue;
        }
        uint32_t paths = o->workload == WORKLOAD_HOLD ? PATH_COUNT : PATH_ENCODED + 1;
        for (uint32_t path = 0; path < paths; path++) {
            if (!o->want_path[path]) {
                continue;
            }
            ph[count].path = (uint8_t)path;
            ph[count].recreate = recreate;
            count++;
        }
    }
    return count;
}

static int phases_run(struct phase *ph, uint32_t count, const struct opts *o, const struct work *w)
{
    uint64_t cap = (uint64_t)o->seconds * BENCH_BATCHES_PER_S_MAX;
    for (uint32_t i = 0; i < count; i++) {
        ph[i].ok_at = mem_calloc(cap, sizeof(uint64_t));
        ph[i].ok_at_cap = ph[i].ok_at == NULL ? 0 : cap;
        (void)printf("run %u/%u: %s, %s\n", i + 1, count, variant_name(ph[i].recreate),
                     path_names[ph[i].path]);
        (void)fflush(stdout);
        if (phase_run(&ph[i], o, w) != 0) {
            (void)fprintf(stderr, "run %s %s failed\n", variant_name(ph[i].recreate),
                          path_names[ph[i].path]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct work w;
    struct phase ph[2 * PATH_COUNT];
    if (opts_parse(&o, argc, argv) != 0) {
        usage(stderr);
        return 2;
    }
    (void)printf("inv-bench: workload %s, %u seats, batch %u, %u s per run, seed %" PRIu64
                 ", recreate: a new event every %u batches, baseline MDB_NOSYNC%s\n",
                 o.workload == WORKLOAD_HOLD ? "hold" : "mix", o.seats, o.batch, o.seconds, o.seed,
                 o.recreate_batches, o.base_writemap ? "|MDB_WRITEMAP" : "");
    memset(ph, 0, sizeof(ph));
    uint32_t count = phases_plan(ph, &o);
    int rc = work_init(&w, &o) == 0 ? 0 : 1;
    if (rc == 0) {
        rc = phases_run(ph, count, &o, &w) == 0 ? 0 : 1;
    }
    if (rc == 0) {
        report_table(ph, count);
        report_sizes(ph, count);
        report_breakdown(ph, count);
        rc = report_summary(ph, count, &o) ? 0 : 1;
    }
    for (uint32_t i = 0; i < count; i++) {
        mem_free(ph[i].ok_at);
    }
    work_free(&w);
    return rc;
}
