/*
 * usher-jepsen-workload: options, event set-up and the two modes of
 * workload.h. jepsen/run starts it; people seldom need to.
 *
 *   usher-jepsen-workload --node ADDR... --history FILE [--seconds S]
 *       [--processes P] [--clients C] [--events E] [--seats N]
 *       [--think-ms MS] [--op-timeout-ms MS] [--seed N]
 *   usher-jepsen-workload --final --node ADDR... --history FILE
 *       [--events E] [--seats N] [--settle-s S]
 *
 * The first creates events 1 .. E of N seats each (if missing), runs the
 * load for S seconds and writes the history. The second appends the final
 * reads to it. Progress and errors go to stderr, one JSON object per line
 * for progress. Exit status: 0 done, 1 failed (printed), 2 usage.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "bench_hist.h"
#include "workload.h"

#define EVENT_SETUP_S 60u /* a cluster just started elects within seconds */

uint32_t wl_rand(struct wl *w, uint32_t n)
{
    /* splitmix64: seeded, so a run's choices replay with --seed */
    uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return n == 0 ? 0 : (uint32_t)(z % n);
}

static int usage(void)
{
    (void)fprintf(stderr,
                  "usage: usher-jepsen-workload --node ADDR... --history FILE [--seconds S]\n"
                  "         [--processes P] [--clients C] [--events E] [--seats N]\n"
                  "         [--think-ms MS] [--op-timeout-ms MS] [--seed N]\n"
                  "       usher-jepsen-workload --final --node ADDR... --history FILE\n"
                  "         [--events E] [--seats N] [--settle-s S]\n");
    return 2;
}

struct num_opt {
    const char *name;
    uint64_t min;
    uint64_t max;
    size_t offset; /* of a uint32_t in struct wl_opts; the seed is apart */
};

static const struct num_opt num_opts[] = {
    { "--seconds", 1, WL_SECONDS_MAX, offsetof(struct wl_opts, seconds) },
    { "--processes", 1, WL_PROCS_MAX, offsetof(struct wl_opts, processes) },
    { "--clients", 1, WL_CLIENTS_MAX, offsetof(struct wl_opts, clients) },
    { "--events", 1, WL_EVENTS_MAX, offsetof(struct wl_opts, events) },
    { "--seats", 2, HISTORY_SEATS_MAX, offsetof(struct wl_opts, seats) },
    { "--think-ms", 0, 60000, offsetof(struct wl_opts, think_ms) },
    { "--op-timeout-ms", 100, 60000, offsetof(struct wl_opts, op_timeout_ms) },
    { "--settle-s", 1, 600, offsetof(struct wl_opts, settle_s) },
};

static int opt_set(struct wl_opts *o, const char *name, const char *value)
{
    uint64_t v = 0;
    if (strcmp(name, "--node") == 0) {
        if (o->node_count == WL_NODES_MAX) {
            return -1;
        }
        o->nodes[o->node_count++] = value;
        return 0;
    }
    if (strcmp(name, "--history") == 0) {
        o->history = value;
        return 0;
    }
    if (strcmp(name, "--seed") == 0) {
        return bench_arg_u64(value, 0, UINT64_MAX, &o->seed);
    }
    for (size_t i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
        const struct num_opt *n = &num_opts[i];
        if (strcmp(name, n->name) == 0) {
            if (bench_arg_u64(value, n->min, n->max, &v) != 0) {
                return -1;
            }
            memcpy((char *)o + n->offset, &(uint32_t){ (uint32_t)v }, sizeof(uint32_t));
            return 0;
        }
    }
    return -1;
}

static int args_parse(int argc, char *argv[], struct wl_opts *o)
{
    *o = (struct wl_opts){ .seconds = 60,
                           .processes = 10,
                           .clients = 2,
                           .events = 2,
                           .seats = 8,
                           .think_ms = 20,
                           .op_timeout_ms = 1500,
                           .settle_s = 60 };
    if (getrandom(&o->seed, sizeof(o->seed), 0) != (ssize_t)sizeof(o->seed)) {
        o->seed = uv_hrtime();
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--final") == 0) {
            o->final = true;
            continue;
        }
        if (i + 1 >= argc || opt_set(o, argv[i], argv[i + 1]) != 0) {
            (void)fprintf(stderr, "usher-jepsen-workload: bad option %s\n", argv[i]);
            return -1;
        }
        i++;
    }
    if (o->node_count == 0 || o->history == NULL || o->clients > o->processes) {
        return -1;
    }
    return 0;
}

/* Creates event id of n seats in one row, with hold TTLs short enough
 * that holds expire during the run. */
static int event_create(struct usher_client *c, uint64_t id, uint32_t seats)
{
    struct usher_event_spec *s = NULL;
    int rc = usher_event_spec_create(id, "jepsen", &s);
    if (rc != 0) {
        return rc;
    }
    usher_event_spec_hold_ttl_set(s, WL_TTL_MIN_MS, 10000, 60000);
    usher_event_spec_limits_set(s, WL_HOLD_SEATS, 1024); /* the keeper books many */
    rc = usher_event_spec_section_add(s, "A", NULL);
    if (rc == 0) {
        rc = usher_event_spec_row_add(s, "A", (uint16_t)seats, 1);
    }
    struct usher_cmd_result r;
    struct usher_call_opts co = { .idem_key = id };
    if (rc == 0) {
        rc = usher_event_create_sync(c, &co, s, &r);
    }
    usher_event_spec_destroy(s);
    return rc == USHER_EVENT_EXISTS ? 0 : rc;
}

int events_create(const struct wl_opts *o)
{
    struct usher_options uo = { .nodes = o->nodes, .node_count = o->node_count };
    struct usher_client *c = NULL;
    int rc = usher_client_create(NULL, &uo, &c);
    if (rc != 0) {
        (void)fprintf(stderr, "usher-jepsen-workload: client: %s\n", usher_strerror(rc));
        return 1;
    }
    uint64_t deadline = uv_hrtime() + (uint64_t)EVENT_SETUP_S * 1000000000u;
    for (uint32_t e = 1; e <= o->events + 1u; e++) {
        do {
            rc = event_create(c, e, e <= o->events ? o->seats : WL_KEEPER_SEATS);
        } while (rc != 0 && !usher_is_refusal(rc) && uv_hrtime() < deadline);
        if (rc != 0) {
            (void)fprintf(stderr, "usher-jepsen-workload: event %" PRIu32 ": %s\n", e,
                          usher_client_errmsg(c));
            break;
        }
    }
    usher_client_destroy(c, NULL, NULL);
    return rc == 0 ? 0 : 1;
}

static int clients_create(struct wl *w)
{
    for (uint32_t i = 0; i < w->o.clients; i++) {
        /* Stable, distinct client ids: the history names them, and the
         * checker folds the attempts of one client + key. */
        w->client_ids[i] = w->o.seed * 64u + i + 1u;
        struct usher_options uo = {
            .nodes = w->o.nodes,
            .node_count = w->o.node_count,
            .client_id = w->client_ids[i],
            .connect_timeout_ms = 500,
            .attempt_timeout_ms = 500,
        };
        int rc = usher_client_create(&w->loop, &uo, &w->clients[i]);
        if (rc != 0) {
            (void)fprintf(stderr, "usher-jepsen-workload: client: %s\n", usher_strerror(rc));
            return 1;
        }
    }
    return 0;
}

static int run_load(struct wl *w)
{
    if (events_create(&w->o) != 0) {
        return 1;
    }
    w->procs = calloc(w->o.processes + 1u, sizeof(*w->procs)); /* + the keeper */
    if (w->procs == NULL || uv_loop_init(&w->loop) != 0) {
        (void)fprintf(stderr, "usher-jepsen-workload: out of memory\n");
        return 1;
    }
    int rc = clients_create(w);
    if (rc == 0 && procs_start(w) != 0) {
        (void)fprintf(stderr, "usher-jepsen-workload: cannot start the processes\n");
        rc = 1;
    }
    if (rc == 0) {
        (void)uv_run(&w->loop, UV_RUN_DEFAULT);
    }
    rc = rc == 0 && uv_loop_close(&w->loop) != 0 ? 1 : rc;
    free(w->procs);
    return rc;
}

int main(int argc, char *argv[])
{
    static struct wl w; /* about 1 KiB plus the processes: static, not on the stack */
    if (args_parse(argc, argv, &w.o) != 0) {
        return usage();
    }
    w.rng = w.o.seed;
    if (history_open(&w.h, w.o.history, w.o.final) != 0) {
        perror(w.o.history);
        return 1;
    }
    (void)fprintf(stderr, "{\"progress\": \"start\", \"mode\": \"%s\", \"seed\": %" PRIu64 "}\n",
                  w.o.final ? "final" : "load", w.o.seed);
    int rc = w.o.final ? final_reads(&w.o, &w.h) : run_load(&w);
    if (history_close(&w.h) != 0) {
        perror(w.o.history);
        rc = 1;
    }
    (void)fprintf(stderr, "{\"progress\": \"done\", \"records\": %" PRIu64 ", \"status\": %d}\n",
                  w.h.records, rc);
    return rc;
}
