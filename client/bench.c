/*
 * usher-bench: the hold workload of /work/shared/bench/peers/README.md
 * against a running usherd, through libusher's asynchronous API.
 *
 * One event of --seats (100,000) seats; --connections (64) clients, each
 * with its own connection and --inflight (16) holds in flight. Each hold
 * picks a seat uniformly at random for a random customer, TTL 600 s; a
 * finished hold starts the next one at once, until --seconds (10) are up.
 * A progress line each second; at the end attempts/s, successful holds/s,
 * p50/p99/p99.9 latency (bench_hist.h) and the distinct-seat check of the
 * peers' scripts: with uniform picks and nothing expiring, the successful
 * holds after A answered attempts number about S * (1 - (1 - 1/S)^A), and
 * on a fresh event they must equal the seats the node reports taken.
 *
 *   usher-bench [--node ADDR] [--connections N] [--inflight M] [--seconds S]
 *               [--seats N] [--event ID] [--ttl MS] [--json]
 *
 * Exit status: 0 when every check passed, 1 when one failed, 2 on usage.
 */
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include "bench_hist.h"
#include "usher.h"

#define CONNECTIONS_MAX 1024u
#define INFLIGHT_MAX    1024u
#define SECONDS_MAX     60u
#define ROW_SEATS       1000u /* seats per row of the generated event */

struct bench_opts {
    const char *node;
    uint32_t connections;
    uint32_t inflight;
    uint32_t seconds;
    uint32_t seats;
    uint64_t event_id; /* 0: create one */
    uint32_t ttl_ms;
    bool json;
};

struct bench;

/* One hold slot: restarts itself when its hold finishes. */
struct slot {
    struct bench *b;
    uint32_t conn;
    uint64_t start_ns;
};

struct bench {
    uv_loop_t loop;
    struct bench_opts o;
    struct usher_client **clients;
    struct slot *slots;
    uv_timer_t tick;
    uint64_t rng;
    uint64_t event_id;
    bool fresh_event;
    bool stopping;
    uint32_t inflight;
    uint32_t elapsed_s;
    uint64_t start_ns;
    uint64_t end_ns;
    uint64_t answered; /* attempts with an outcome: OK or SEAT_TAKEN */
    uint64_t ok;
    uint64_t taken;
    uint64_t errors;
    int last_error;
    uint64_t last_answered; /* at the previous progress line */
    uint64_t last_ok;
    uint64_t taken_seats; /* from the final availability */
    int exit_code;
    struct bench_hist total;
    struct bench_hist second;
};

static uint64_t rand_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void on_hold(void *ctx, int status, const struct usher_cmd_result *r);
static void finish(struct bench *b);

static void hold_start(struct slot *s)
{
    struct bench *b = s->b;
    uint32_t seat = (uint32_t)(rand_next(&b->rng) % b->o.seats);
    uint64_t customer = 1u + rand_next(&b->rng) % (1ull << 40);
    s->start_ns = uv_hrtime();
    int rc = usher_hold_seats(b->clients[s->conn], NULL, b->event_id, customer, &seat, 1,
                              b->o.ttl_ms, s, on_hold);
    if (rc != 0) {
        b->errors++; /* did not start: this slot stops */
        b->last_error = rc;
        return;
    }
    b->inflight++;
}

static void on_hold(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct slot *s = ctx;
    struct bench *b = s->b;
    (void)r;
    b->inflight--;
    uint64_t us = (uv_hrtime() - s->start_ns) / 1000u;
    if (status == USHER_OK || status == USHER_SEAT_TAKEN) {
        b->answered++;
        b->ok += status == USHER_OK;
        b->taken += status == USHER_SEAT_TAKEN;
        bench_hist_record(&b->second, us);
    } else {
        b->errors++;
        b->last_error = status;
    }
    if (!b->stopping) {
        hold_start(s);
    } else if (b->inflight == 0) {
        finish(b);
    }
}

static void progress(struct bench *b)
{
    uint64_t attempts = b->answered - b->last_answered;
    uint64_t holds = b->ok - b->last_ok;
    double p99 = (double)bench_hist_quantile(&b->second, 0.99) / 1000.0;
    if (!b->o.json) {
        (void)printf("[%2us] attempts %8" PRIu64 "/s  holds %8" PRIu64 "/s  taken %9" PRIu64
                     "  errors %" PRIu64 "  in flight %u  p99 %.2f ms\n",
                     b->elapsed_s, attempts, holds, b->taken, b->errors, b->inflight, p99);
        (void)fflush(stdout);
    }
    bench_hist_merge(&b->total, &b->second);
    bench_hist_reset(&b->second);
    b->last_answered = b->answered;
    b->last_ok = b->ok;
}

static void on_tick(uv_timer_t *t)
{
    struct bench *b = t->data;
    b->elapsed_s++;
    progress(b);
    if (b->elapsed_s < b->o.seconds) {
        return;
    }
    uv_timer_stop(&b->tick);
    b->stopping = true;
    b->end_ns = uv_hrtime();
    if (b->inflight == 0) {
        finish(b);
    }
}

static void load_start(struct bench *b)
{
    b->start_ns = uv_hrtime();
    b->tick.data = b;
    if (uv_timer_start(&b->tick, on_tick, 1000, 1000) != 0) {
        (void)fprintf(stderr, "usher-bench: cannot start the timer\n");
        b->exit_code = 1;
        return;
    }
    for (uint32_t i = 0; i < b->o.connections * b->o.inflight; i++) {
        hold_start(&b->slots[i]);
    }
}

/* Distinct seats hit by `a` uniform picks among s, and the standard
 * deviation of that count (occupancy: empty-bin moments). */
static void distinct_expect(double s, double a, double *mean, double *sigma)
{
    double p1 = exp(a * log1p(-1.0 / s));
    double p2 = s > 1.0 ? exp(a * log1p(-2.0 / s)) : 0.0;
    *mean = s * (1.0 - p1);
    double var = s * (s - 1.0) * p2 + s * p1 - s * s * p1 * p1;
    *sigma = var > 0.0 ? sqrt(var) : 0.0;
}

static void on_destroyed(void *ctx)
{
    (void)ctx; /* the loop ends when every client's handles are closed */
}

static void on_tick_closed(uv_handle_t *h)
{
    (void)h;
}

static void shutdown_all(struct bench *b)
{
    for (uint32_t i = 0; i < b->o.connections; i++) {
        usher_client_destroy(b->clients[i], NULL, on_destroyed);
    }
    uv_close((uv_handle_t *)&b->tick, on_tick_closed);
}

static void report_text(const struct bench *b, double secs, double mean, double tol, bool ok_stored,
                        bool ok_distinct)
{
    (void)printf("usher-bench: node %s, %u connections x %u in flight, %.1f s, event %" PRIu64
                 " (%u seats%s)\n",
                 b->o.node, b->o.connections, b->o.inflight, secs, b->event_id, b->o.seats,
                 b->fresh_event ? ", created for this run" : "");
    (void)printf("attempts     %10" PRIu64 "  %10.0f/s  (answered: held or seat taken)\n",
                 b->answered, (double)b->answered / secs);
    (void)printf("holds        %10" PRIu64 "  %10.0f/s\n", b->ok, (double)b->ok / secs);
    (void)printf("seat taken   %10" PRIu64 "\n", b->taken);
    (void)printf("errors       %10" PRIu64 "%s%s\n", b->errors, b->errors > 0 ? "  last: " : "",
                 b->errors > 0 ? usher_errname(b->last_error) : "");
    (void)printf("latency      p50 %.2f ms  p99 %.2f ms  p99.9 %.2f ms  max %.2f ms\n",
                 (double)bench_hist_quantile(&b->total, 0.50) / 1000.0,
                 (double)bench_hist_quantile(&b->total, 0.99) / 1000.0,
                 (double)bench_hist_quantile(&b->total, 0.999) / 1000.0,
                 (double)b->total.max_us / 1000.0);
    if (b->fresh_event) {
        (void)printf("check        seats taken %" PRIu64 " = holds %" PRIu64 "%s: %s\n",
                     b->taken_seats, b->ok, b->errors > 0 ? " (+ unknown outcomes)" : "",
                     ok_stored ? "ok" : "BAD");
    }
    (void)printf("check        holds %" PRIu64 " vs expected distinct ~%.0f (tolerance %.0f): %s\n",
                 b->ok, mean, tol, ok_distinct ? "ok" : "BAD");
}

static void report_json(const struct bench *b, double secs, double mean, bool ok)
{
    (void)printf("{\"node\":\"%s\",\"connections\":%u,\"inflight\":%u,\"seconds\":%.3f,"
                 "\"event_id\":%" PRIu64 ",\"seats\":%u,\"attempts\":%" PRIu64
                 ",\"attempts_per_s\":%.0f,\"holds\":%" PRIu64 ",\"holds_per_s\":%.0f,"
                 "\"taken\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"p50_ms\":%.3f,\"p99_ms\":%.3f,"
                 "\"p999_ms\":%.3f,\"max_ms\":%.3f,\"seats_taken\":%" PRIu64
                 ",\"expected_distinct\":%.0f,\"check\":\"%s\"}\n",
                 b->o.node, b->o.connections, b->o.inflight, secs, b->event_id, b->o.seats,
                 b->answered, (double)b->answered / secs, b->ok, (double)b->ok / secs, b->taken,
                 b->errors, (double)bench_hist_quantile(&b->total, 0.50) / 1000.0,
                 (double)bench_hist_quantile(&b->total, 0.99) / 1000.0,
                 (double)bench_hist_quantile(&b->total, 0.999) / 1000.0,
                 (double)b->total.max_us / 1000.0, b->taken_seats, mean, ok ? "ok" : "BAD");
}

static void report(struct bench *b)
{
    bench_hist_merge(&b->total, &b->second);
    double secs = (double)(b->end_ns - b->start_ns) / 1e9;
    double mean = 0;
    double sigma = 0;
    distinct_expect((double)b->o.seats, (double)b->answered, &mean, &sigma);
    double tol = 6.0 * sigma + 1.0 + (double)b->errors;
    bool ok_distinct = fabs((double)b->ok - mean) <= tol;
    bool ok_stored =
        !b->fresh_event || (b->taken_seats >= b->ok && b->taken_seats <= b->ok + b->errors);
    if (b->o.json) {
        report_json(b, secs, mean, ok_distinct && ok_stored);
    } else {
        report_text(b, secs, mean, tol, ok_stored, ok_distinct);
    }
    b->exit_code = ok_distinct && ok_stored ? 0 : 1;
}

static void on_final_availability(void *ctx, int status, const struct usher_availability *a)
{
    struct bench *b = ctx;
    if (status != 0) {
        (void)fprintf(stderr, "usher-bench: final availability read failed: %s\n",
                      usher_strerror(status));
        b->exit_code = 1;
    } else {
        for (uint32_t i = 0; i < a->section_count; i++) {
            b->taken_seats += a->sections[i].capacity - a->sections[i].free;
        }
        report(b);
    }
    shutdown_all(b);
}

static void finish(struct bench *b)
{
    int rc = usher_availability(b->clients[0], NULL, b->event_id, b, on_final_availability);
    if (rc != 0) {
        (void)fprintf(stderr, "usher-bench: cannot read availability: %s\n", usher_strerror(rc));
        b->exit_code = 1;
        shutdown_all(b);
    }
}

static void on_created(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct bench *b = ctx;
    if (status != 0) {
        (void)fprintf(stderr, "usher-bench: event create failed: %s (%s)\n",
                      usher_client_errmsg(b->clients[0]), usher_errname(status));
        b->exit_code = 1;
        shutdown_all(b);
        return;
    }
    b->event_id = r->id;
    load_start(b);
}

/* Describes one section of o.seats seats in rows of ROW_SEATS ("R1", ...). */
static int event_spec_make(const struct bench_opts *o, uint64_t id, struct usher_event_spec **out)
{
    struct usher_event_spec *s = NULL;
    int rc = usher_event_spec_create(id, "usher-bench", &s);
    if (rc == 0) {
        uint32_t max = o->ttl_ms > 600000u ? o->ttl_ms : 0;
        usher_event_spec_hold_ttl_set(s, 0, max, max > 1800000u ? max : 0);
        rc = usher_event_spec_section_add(s, "Main", NULL);
    }
    for (uint32_t seat = 0, row = 1; rc == 0 && seat < o->seats; row++) {
        char label[16];
        uint32_t n = o->seats - seat < ROW_SEATS ? o->seats - seat : ROW_SEATS;
        (void)snprintf(label, sizeof(label), "R%u", row);
        rc = usher_event_spec_row_add(s, label, (uint16_t)n, 1);
        seat += n;
    }
    if (rc != 0) {
        usher_event_spec_destroy(s);
        return rc;
    }
    *out = s;
    return 0;
}

static const char usage[] = "Usage: usher-bench [OPTIONS]\n"
                            "The hold workload of the peers' benchmark against a running usherd.\n"
                            "  --node ADDR          node client address (127.0.0.1:7400)\n"
                            "  --connections N      connections, one client each (64, max 1024)\n"
                            "  --inflight M         holds in flight per connection (16, max 1024)\n"
                            "  --seconds S          load duration (10, 1..60)\n"
                            "  --seats N            seats of the created event (100000)\n"
                            "  --event ID           use this event instead of creating one\n"
                            "  --ttl MS             hold TTL (600000)\n"
                            "  --json               one JSON object at the end instead of text\n"
                            "Exit status: 0 when the checks pass, 1 when one fails, 2 on usage.\n";

/* Parses one option and its value; returns 0, 1 (help) or -1. */
static int opt_parse(struct bench_opts *o, const char *name, const char *value)
{
    uint64_t v = 0;
    if (strcmp(name, "--node") == 0 && value != NULL) {
        o->node = value;
        return 0;
    }

    struct {
        const char *name;
        uint64_t min;
        uint64_t max;
    } const nums[] = { { "--connections", 1, CONNECTIONS_MAX },
                       { "--inflight", 1, INFLIGHT_MAX },
                       { "--seconds", 1, SECONDS_MAX },
                       { "--seats", 1, 262144 },
                       { "--event", 1, UINT64_MAX },
                       { "--ttl", 1000, 3600000 } };

    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        if (strcmp(name, nums[i].name) != 0) {
            continue;
        }
        if (bench_arg_u64(value, nums[i].min, nums[i].max, &v) != 0) {
            (void)fprintf(stderr, "usher-bench: %s wants an integer %" PRIu64 "..%" PRIu64 "\n",
                          name, nums[i].min, nums[i].max);
            return -1;
        }
        uint32_t *fields[] = { &o->connections, &o->inflight, &o->seconds,
                               &o->seats,       NULL,         &o->ttl_ms };
        if (fields[i] != NULL) {
            *fields[i] = (uint32_t)v;
        } else {
            o->event_id = v;
        }
        return 0;
    }
    (void)fprintf(stderr, "usher-bench: unknown option %s\n", name);
    return -1;
}

static int args_parse(int argc, char *argv[], struct bench_opts *o)
{
    *o = (struct bench_opts){ .node = "127.0.0.1:7400",
                              .connections = 64,
                              .inflight = 16,
                              .seconds = 10,
                              .seats = 100000,
                              .ttl_ms = 600000 };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return 1;
        }
        if (strcmp(argv[i], "--json") == 0) {
            o->json = true;
            continue;
        }
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (opt_parse(o, argv[i], value) != 0) {
            return -1;
        }
        i++;
    }
    return 0;
}

static int clients_create(struct bench *b)
{
    const char *nodes[1] = { b->o.node };
    struct usher_options uo;
    memset(&uo, 0, sizeof(uo));
    uo.nodes = nodes;
    uo.node_count = 1;
    uo.inflight_max = b->o.inflight + 8u; /* the holds, the final read, status refreshes */
    uo.call_timeout_ms = 30000;
    for (uint32_t i = 0; i < b->o.connections; i++) {
        int rc = usher_client_create(&b->loop, &uo, &b->clients[i]);
        if (rc != 0) {
            (void)fprintf(stderr, "usher-bench: client: %s\n", usher_strerror(rc));
            for (uint32_t j = 0; j < i; j++) {
                usher_client_destroy(b->clients[j], NULL, NULL);
            }
            return rc;
        }
    }
    for (uint32_t i = 0; i < b->o.connections * b->o.inflight; i++) {
        b->slots[i] = (struct slot){ .b = b, .conn = i / b->o.inflight };
    }
    return 0;
}

/* Creates the event, or starts the load on the given one. */
static int begin(struct bench *b)
{
    if (b->o.event_id != 0) {
        b->event_id = b->o.event_id;
        load_start(b);
        return 0;
    }
    uint64_t id = rand_next(&b->rng) & ((1ull << 53) - 1u);
    struct usher_event_spec *spec = NULL;
    int rc = event_spec_make(&b->o, id != 0 ? id : 1, &spec);
    if (rc == 0) {
        rc = usher_event_create(b->clients[0], NULL, spec, b, on_created);
        usher_event_spec_destroy(spec);
    }
    b->fresh_event = true;
    return rc;
}

int main(int argc, char *argv[])
{
    struct bench *b = calloc(1, sizeof(*b));
    if (b == NULL) {
        return 1;
    }
    int rc = args_parse(argc, argv, &b->o);
    if (rc != 0) {
        (void)fputs(usage, rc > 0 ? stdout : stderr);
        free(b);
        return rc > 0 ? 0 : 2;
    }
    if (getrandom(&b->rng, sizeof(b->rng), 0) != (ssize_t)sizeof(b->rng)) {
        b->rng = uv_hrtime();
    }
    b->clients = calloc(b->o.connections, sizeof(struct usher_client *));
    b->slots = calloc((size_t)b->o.connections * b->o.inflight, sizeof(*b->slots));
    if (b->clients == NULL || b->slots == NULL || uv_loop_init(&b->loop) != 0) {
        (void)fprintf(stderr, "usher-bench: out of memory\n");
        return 1;
    }
    (void)uv_timer_init(&b->loop, &b->tick); /* always 0 */
    rc = clients_create(b);
    if (rc == 0 && begin(b) != 0) {
        (void)fprintf(stderr, "usher-bench: cannot start the run\n");
        shutdown_all(b);
        b->exit_code = 1;
    }
    if (rc != 0) {
        uv_close((uv_handle_t *)&b->tick, on_tick_closed);
        b->exit_code = 1;
    }
    (void)uv_run(&b->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&b->loop);
    int code = b->exit_code;
    free(b->clients);
    free(b->slots);
    free(b);
    return code;
}
