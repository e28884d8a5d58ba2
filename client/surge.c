/*
 * usher-surge: an on-sale surge of simulated shoppers against running usherd
 * nodes, through libusher's asynchronous API (what `./quickstart demo` runs).
 *
 * The event exists already (`usher event create`); usher-surge reads its
 * description, then runs --shoppers shoppers over --clients clients (one
 * connection each), --inflight shoppers at a time per client, arriving
 * evenly over --arrive-s seconds (the queue opens). Each shopper
 * holds 1-4 seats best-available in a random section (places of a GA
 * section), some with a short TTL (--short-ttl, for --short-pct of them),
 * thinks up to --think-ms, then 80% book, 5% release and the rest walk away,
 * so their holds expire. A progress line each second; at the end a summary.
 *
 * The integrity check uses what the shoppers were told and reads only: every
 * acknowledged booking is read back (confirmed, its hold's seats), no seat is
 * in two of them, no booked seat is free, and per section free + held +
 * booked = capacity, with booked = the seats of the acknowledged bookings
 * (plus at most the seats of books whose outcome stayed unknown).
 *
 *   usher-surge --event ID [--node ADDR]... [--shoppers N] [--seconds S]
 *               [--clients C] [--inflight M] [--think-ms MS] [--short-ttl MS]
 *               [--short-pct P] [--arrive-s S] [--seed N]
 *
 * Exit status: 0 with "integrity: OK", 1 when a check failed or the run could
 * not start, 2 on usage.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include "bench_hist.h"
#include "usher.h"

#define NODES_MAX     16u
#define CLIENTS_MAX   1024u
#define INFLIGHT_MAX  256u
#define SECONDS_MAX   120u /* hard cap of the load phase */
#define SHOPPERS_MAX  1000000u
#define PICK_MAX      4u  /* seats one shopper asks for */
#define PLAN_BOOK_PCT 80u /* of the holders; then release, the rest abandon */
#define PLAN_REL_PCT  5u
#define READERS       64u  /* reads in flight during the check */
#define CODES         128u /* error codes are below this */
#define PAYMENT_REF   "usher-surge"

enum plan { PLAN_BOOK, PLAN_RELEASE, PLAN_ABANDON };

enum phase { PHASE_LOAD, PHASE_BOOKINGS, PHASE_HOLDS, PHASE_AVAIL, PHASE_DONE };

struct surge_opts {
    const char *nodes[NODES_MAX];
    uint32_t node_count;
    uint64_t event_id;
    uint32_t shoppers;
    uint32_t seconds;
    uint32_t clients;
    uint32_t inflight;
    uint32_t think_ms;
    uint32_t arrive_s;
    uint32_t short_ttl_ms;
    uint32_t short_pct;
    uint64_t seed;
};

/* What a shopper was told about its booking: checked against reads. */
struct booked {
    uint64_t booking_id;
    uint16_t section;
    uint16_t count;
    bool ga;
    uint32_t seats[PICK_MAX];
};

struct surge;

/* One shopper at a time: hold, think, act; then the next shopper. */
struct slot {
    struct surge *g;
    uint32_t client;
    uv_timer_t think;
    uint32_t shopper; /* waiting to arrive */
    uint64_t customer;
    uint64_t hold_id;
    uint64_t start_ns;
    enum plan plan;
    struct booked b; /* the hold, then the booking */
};

struct reader {
    struct surge *g;
    uint32_t client;
    uint64_t index; /* item being read */
};

struct section {
    bool ga;
    uint32_t seat_first;
    uint32_t seat_count;
};

struct counts {
    uint64_t done;     /* shoppers finished */
    uint64_t holds;    /* successful holds */
    uint64_t bookings; /* acknowledged bookings */
    uint64_t sold;     /* seats (and places) of those */
    uint64_t released;
    uint64_t abandoned;
    uint64_t rejected; /* refused commands */
    uint64_t unknown;  /* commands whose outcome stayed unknown */
    uint64_t unknown_book_seats;
    uint64_t reason[CODES]; /* refusals and unknowns by code */
};

struct surge {
    uv_loop_t loop;
    struct surge_opts o;
    struct usher_client **clients;
    struct slot *slots;
    struct reader readers[READERS];
    uv_timer_t tick;
    uint64_t rng;
    uint64_t customer_base;
    struct section sections[USHER_EVENT_SECTIONS_LIMIT];
    uint32_t section_count;
    uint32_t seat_count;
    uint16_t pick_max;
    uint32_t ttl_min_ms;
    uint32_t ttl_max_ms;
    enum phase phase;
    bool stopping;
    uint32_t active; /* slots with a shopper, or readers with a read */
    uint32_t next_shopper;
    uint32_t elapsed_s;
    uint64_t start_ns;
    uint64_t end_ns;
    uint64_t last_ok_ns; /* the last successful hold or booking */
    uint64_t stall_ns;   /* the longest time without one during the load */
    uint64_t stall_end_ns;
    uint64_t last_holds;
    struct counts n;
    struct booked *booked; /* acknowledged bookings, n.bookings of them */
    uint64_t *abandoned;   /* hold ids, n.abandoned of them */
    uint64_t cursor;       /* next item of the check phase */
    uint8_t *sold_map;     /* seats seen in a confirmed booking */
    uint64_t expired;      /* abandoned holds read back expired */
    uint64_t still_held;
    uint32_t failures;
    int exit_code;
    struct bench_hist hist;
};

static uint64_t rand_next(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ull; /* splitmix64 */
    uint64_t z = *s;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rand_below(struct surge *g, uint32_t n)
{
    return (uint32_t)(rand_next(&g->rng) % n);
}

/* Prints one failed check and counts it. */
static void check_fail(struct surge *g, const char *what, uint64_t a, uint64_t b)
{
    (void)printf("integrity: FAILED: %s (%" PRIu64 " vs %" PRIu64 ")\n", what, a, b);
    g->failures++;
}

/* Counts a command that did not succeed: a refusal or an unknown outcome. */
static void count_failure(struct surge *g, int status)
{
    g->n.reason[(uint32_t)status < CODES ? (uint32_t)status : 0]++;
    if (usher_is_refusal(status)) {
        g->n.rejected++;
    } else {
        g->n.unknown++;
    }
}

/* Writes "NAME n, NAME n" of the non-zero reasons into buf. */
static void reasons_format(const struct surge *g, char *buf, size_t cap)
{
    size_t len = 0;
    buf[0] = '\0';
    for (uint32_t i = 1; i < CODES && len < cap; i++) {
        if (g->n.reason[i] == 0) {
            continue;
        }
        int w = snprintf(buf + len, cap - len, "%s%s %" PRIu64, len > 0 ? ", " : "",
                         usher_errname((int)i), g->n.reason[i]);
        if (w < 0) {
            return;
        }
        len += (size_t)w;
    }
}

static void check_start(struct surge *g);
static void slot_next(struct slot *s);

/* A shopper is finished: its slot takes the next one. */
static void shopper_done(struct slot *s)
{
    s->g->n.done++;
    s->g->active--;
    slot_next(s);
}

/* A command succeeded: the time since the previous success is a pause the
 * shoppers saw (a failover shows as the longest one). */
static void success_seen(struct surge *g)
{
    uint64_t now = uv_hrtime();
    if (g->last_ok_ns != 0 && now - g->last_ok_ns > g->stall_ns) {
        g->stall_ns = now - g->last_ok_ns;
        g->stall_end_ns = now;
    }
    g->last_ok_ns = now;
}

static void on_book(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct slot *s = ctx;
    struct surge *g = s->g;
    if (status == USHER_OK) {
        success_seen(g);
        s->b.booking_id = r->id;
        g->booked[g->n.bookings++] = s->b;
        g->n.sold += s->b.count;
    } else {
        count_failure(g, status);
        if (!usher_is_refusal(status)) {
            g->n.unknown_book_seats += s->b.count;
        }
    }
    shopper_done(s);
}

static void on_release(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct slot *s = ctx;
    (void)r;
    if (status == USHER_OK) {
        s->g->n.released++;
    } else {
        count_failure(s->g, status);
    }
    shopper_done(s);
}

/* The shopper has thought: book, release or walk away. */
static void on_think(uv_timer_t *t)
{
    struct slot *s = t->data;
    struct surge *g = s->g;
    struct usher_client *c = g->clients[s->client];
    uint64_t ev = g->o.event_id;
    int rc = 0;
    if (s->plan == PLAN_BOOK) {
        rc = usher_hold_book(c, NULL, ev, s->customer, s->hold_id, PAYMENT_REF, s, on_book);
    } else if (s->plan == PLAN_RELEASE) {
        rc = usher_hold_release(c, NULL, ev, s->customer, s->hold_id, s, on_release);
    } else {
        g->abandoned[g->n.abandoned++] = s->hold_id;
    }
    if (s->plan == PLAN_ABANDON || rc != 0) {
        if (rc != 0) {
            count_failure(g, rc);
        }
        shopper_done(s);
    }
}

static void on_hold(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct slot *s = ctx;
    struct surge *g = s->g;
    bench_hist_record(&g->hist, (uv_hrtime() - s->start_ns) / 1000u);
    if (status != USHER_OK) {
        count_failure(g, status);
        shopper_done(s);
        return;
    }
    g->n.holds++;
    success_seen(g);
    s->hold_id = r->id;
    s->b.count = r->seat_count;
    s->b.ga = r->ga;
    for (uint32_t i = 0; i < r->seat_count && i < PICK_MAX && !r->ga; i++) {
        s->b.seats[i] = r->seats[i];
    }
    uint32_t p = rand_below(g, 100);
    s->plan = p < PLAN_BOOK_PCT                  ? PLAN_BOOK
              : p < PLAN_BOOK_PCT + PLAN_REL_PCT ? PLAN_RELEASE
                                                 : PLAN_ABANDON;
    uint64_t think = g->o.think_ms > 0 ? rand_below(g, g->o.think_ms + 1u) : 0;
    if (uv_timer_start(&s->think, on_think, think, 0) != 0) {
        on_think(&s->think);
    }
}

/* Shopper i holds 1-4 seats best-available in a random section (places of
 * a GA section). Returns 0 when the hold started. */
static int shopper_start(struct slot *s, uint32_t i)
{
    struct surge *g = s->g;
    uint32_t sec = rand_below(g, g->section_count);
    uint16_t count = (uint16_t)(1u + rand_below(g, g->pick_max));
    bool short_ttl = rand_below(g, 100) < g->o.short_pct;
    uint32_t ttl = short_ttl ? g->o.short_ttl_ms : g->ttl_max_ms;
    ttl = ttl < g->ttl_min_ms ? g->ttl_min_ms : ttl > g->ttl_max_ms ? g->ttl_max_ms : ttl;
    s->customer = g->customer_base + i;
    s->b = (struct booked){ .section = (uint16_t)sec, .ga = g->sections[sec].ga };
    s->start_ns = uv_hrtime();
    struct usher_client *c = g->clients[s->client];
    if (g->sections[sec].ga) {
        return usher_hold_ga(c, NULL, g->o.event_id, s->customer, (uint16_t)sec, count, ttl, s,
                             on_hold);
    }
    return usher_hold_best(c, NULL, g->o.event_id, s->customer, (uint16_t)sec, count, ttl, s,
                           on_hold);
}

/* The shopper waiting on slot s has arrived. */
static void on_arrive(uv_timer_t *t)
{
    struct slot *s = t->data;
    int rc = shopper_start(s, s->shopper);
    if (rc != 0) {
        count_failure(s->g, rc);
        shopper_done(s);
    }
}

/* Starts the next shopper on slot s (at its arrival time: shoppers arrive
 * evenly over --arrive-s seconds), or retires the slot. */
static void slot_next(struct slot *s)
{
    struct surge *g = s->g;
    while (g->phase == PHASE_LOAD && !g->stopping && g->next_shopper < g->o.shoppers) {
        uint32_t i = g->next_shopper++;
        uint64_t due_ms = (uint64_t)g->o.arrive_s * 1000u * i / g->o.shoppers;
        uint64_t now_ms = (uv_hrtime() - g->start_ns) / 1000000u;
        if (due_ms > now_ms) {
            s->shopper = i;
            if (uv_timer_start(&s->think, on_arrive, due_ms - now_ms, 0) == 0) {
                g->active++;
                return;
            }
        }
        int rc = shopper_start(s, i);
        if (rc == 0) {
            g->active++;
            return;
        }
        count_failure(g, rc); /* did not start: this shopper gives up */
        g->n.done++;
    }
    if (g->active == 0 && g->phase == PHASE_LOAD) {
        g->end_ns = uv_hrtime();
        check_start(g);
    }
}

static void progress(struct surge *g)
{
    char reasons[512];
    reasons_format(g, reasons, sizeof(reasons));
    (void)printf("[%3us] shoppers %6" PRIu64 "/%u  holds %6" PRIu64 " (%5" PRIu64
                 "/s)  bookings %6" PRIu64 "  released %5" PRIu64 "  rejected %6" PRIu64 "%s%s%s\n",
                 g->elapsed_s, g->n.done, g->o.shoppers, g->n.holds, g->n.holds - g->last_holds,
                 g->n.bookings, g->n.released, g->n.rejected, reasons[0] != '\0' ? " (" : "",
                 reasons, reasons[0] != '\0' ? ")" : "");
    (void)fflush(stdout);
    g->last_holds = g->n.holds;
}

static void on_tick(uv_timer_t *t)
{
    struct surge *g = t->data;
    g->elapsed_s++;
    if (g->phase == PHASE_LOAD) {
        progress(g);
    }
    if (g->elapsed_s >= g->o.seconds && !g->stopping) {
        g->stopping = true; /* shoppers in flight finish; no new ones */
        (void)printf("usher-surge: --seconds %u reached: no new shoppers\n", g->o.seconds);
    }
}

/* ---- The integrity check ---- */

static void reader_next(struct reader *r);

static void on_booking_read(void *ctx, int status, const struct usher_booking_info *b)
{
    struct reader *r = ctx;
    struct surge *g = r->g;
    const struct booked *k = &g->booked[r->index];
    if (status != USHER_OK) {
        (void)printf("integrity: booking %" PRIu64 " unreadable: %s\n", k->booking_id,
                     usher_errname(status));
        g->failures++;
    } else if (b->state != USHER_BOOKING_STATE_CONFIRMED || b->seat_count != k->count ||
               b->ga != k->ga) {
        check_fail(g, "a booking read back differs from its acknowledgement", b->id, k->booking_id);
    } else {
        for (uint32_t i = 0; i < k->count && !k->ga; i++) {
            uint32_t seat = b->seats[i];
            if (seat != k->seats[i] || seat >= g->seat_count) {
                check_fail(g, "a booked seat differs from the hold's", seat, k->seats[i]);
            } else if ((g->sold_map[seat / 8u] & (1u << (seat % 8u))) != 0) {
                check_fail(g, "seat sold twice (seat index, booking)", seat, b->id);
            } else {
                g->sold_map[seat / 8u] = (uint8_t)(g->sold_map[seat / 8u] | (1u << (seat % 8u)));
            }
        }
    }
    reader_next(r);
}

static void on_hold_read(void *ctx, int status, const struct usher_hold_info *h)
{
    struct reader *r = ctx;
    struct surge *g = r->g;
    if (status != USHER_OK) {
        (void)printf("integrity: abandoned hold %" PRIu64 " unreadable: %s\n",
                     g->abandoned[r->index], usher_errname(status));
        g->failures++;
    } else if (h->state == USHER_HOLD_STATE_EXPIRED) {
        g->expired++;
    } else if (h->state == USHER_HOLD_STATE_ACTIVE) {
        g->still_held++;
    } else {
        check_fail(g, "an abandoned hold was released or booked (hold, state)", h->id, h->state);
    }
    reader_next(r);
}

static void report(struct surge *g, const struct usher_availability *a);

static void on_availability(void *ctx, int status, const struct usher_availability *a)
{
    struct reader *r = ctx;
    struct surge *g = r->g;
    if (status != USHER_OK) {
        (void)printf("integrity: availability unreadable: %s\n", usher_errname(status));
        g->failures++;
    }
    report(g, status == USHER_OK ? a : NULL);
    r->g->active--;
    g->phase = PHASE_DONE;
    for (uint32_t i = 0; i < g->o.clients; i++) {
        usher_client_destroy(g->clients[i], NULL, NULL);
    }
    uv_close((uv_handle_t *)&g->tick, NULL);
    for (uint32_t i = 0; i < g->o.clients * g->o.inflight; i++) {
        uv_close((uv_handle_t *)&g->slots[i].think, NULL);
    }
}

/* Starts the reader's next read of the current phase; returns false when
 * the phase has nothing left to read. */
static bool reader_fill(struct reader *r)
{
    struct surge *g = r->g;
    uint64_t total = g->phase == PHASE_BOOKINGS ? g->n.bookings : g->n.abandoned;
    while (g->cursor < total) {
        r->index = g->cursor++;
        struct usher_client *c = g->clients[r->client];
        int rc =
            g->phase == PHASE_BOOKINGS
                ? usher_booking_get(c, NULL, g->o.event_id, g->booked[r->index].booking_id, r,
                                    on_booking_read)
                : usher_hold_get(c, NULL, g->o.event_id, g->abandoned[r->index], r, on_hold_read);
        if (rc == 0) {
            return true;
        }
        (void)printf("integrity: cannot start a read: %s\n", usher_errname(rc));
        g->failures++;
    }
    return false;
}

/* Called when a reader's read was answered: starts its next one, or, when
 * the phase is read and answered, moves to the next phase (bookings, then
 * abandoned holds, then availability). A loop, not recursion: at most one
 * phase change per pass. */
static void reader_next(struct reader *r)
{
    struct surge *g = r->g;
    for (int pass = 0; pass < 2; pass++) {
        if (reader_fill(r) || --g->active > 0) {
            return;
        }
        if (g->phase != PHASE_BOOKINGS) {
            break;
        }
        g->phase = PHASE_HOLDS;
        g->cursor = 0;
        g->active = READERS;
        for (uint32_t i = 1; i < READERS; i++) {
            if (!reader_fill(&g->readers[i])) {
                g->active--;
            }
        }
        r = &g->readers[0];
    }
    g->phase = PHASE_AVAIL;
    g->active = 1;
    int rc =
        usher_availability(g->clients[0], NULL, g->o.event_id, &g->readers[0], on_availability);
    if (rc != 0) {
        on_availability(&g->readers[0], rc, NULL);
    }
}

static void check_start(struct surge *g)
{
    progress(g);
    (void)printf("usher-surge: load done; checking: reading %" PRIu64 " bookings and %" PRIu64
                 " abandoned holds back\n",
                 g->n.bookings, g->n.abandoned);
    g->phase = PHASE_BOOKINGS;
    g->cursor = 0;
    g->active = READERS;
    for (uint32_t i = 0; i < READERS; i++) {
        g->readers[i] = (struct reader){ .g = g, .client = i % g->o.clients };
    }
    for (uint32_t i = 0; i < READERS; i++) {
        reader_next(&g->readers[i]);
    }
}

/* The availability checks: free + held + booked = capacity per section,
 * booked = what the shoppers were told, no booked seat free. */
static void avail_check(struct surge *g, const struct usher_availability *a)
{
    uint64_t t[4] = { 0, 0, 0, 0 }; /* free, held, booked, capacity */
    for (uint32_t i = 0; i < a->section_count; i++) {
        const struct usher_section_avail *s = &a->sections[i];
        uint64_t sum = (uint64_t)s->free + s->held + s->booked;
        if (sum != s->capacity) {
            check_fail(g, "free + held + booked != capacity in a section", sum, s->capacity);
        }
        t[0] += s->free;
        t[1] += s->held;
        t[2] += s->booked;
        t[3] += s->capacity;
    }
    if (t[2] < g->n.sold || t[2] > g->n.sold + g->n.unknown_book_seats) {
        check_fail(g, "booked seats != seats of acknowledged bookings", t[2], g->n.sold);
    }
    for (uint32_t seat = 0; seat < g->seat_count; seat++) {
        if ((g->sold_map[seat / 8u] & (1u << (seat % 8u))) != 0 && usher_seat_is_free(a, seat)) {
            check_fail(g, "a booked seat is free (seat index)", seat, 0);
        }
    }
    (void)printf("availability  free %" PRIu64 " + held %" PRIu64 " + booked %" PRIu64 " = %" PRIu64
                 " of capacity %" PRIu64 "\n",
                 t[0], t[1], t[2], t[0] + t[1] + t[2], t[3]);
}

static void report(struct surge *g, const struct usher_availability *a)
{
    double secs = (double)(g->end_ns - g->start_ns) / 1e9;
    char reasons[1024];
    reasons_format(g, reasons, sizeof(reasons));
    (void)printf("\nusher-surge: event %" PRIu64 ", %u shoppers over %u clients x %u, %.1f s\n",
                 g->o.event_id, g->o.shoppers, g->o.clients, g->o.inflight, secs);
    (void)printf("seats sold    %8" PRIu64 "  in %" PRIu64 " bookings\n", g->n.sold, g->n.bookings);
    (void)printf("holds         %8" PRIu64 "  %.0f holds/s\n", g->n.holds,
                 secs > 0 ? (double)g->n.holds / secs : 0.0);
    (void)printf("released      %8" PRIu64 "\n", g->n.released);
    (void)printf("abandoned     %8" PRIu64 "  (read back: %" PRIu64 " expired, %" PRIu64
                 " still held)\n",
                 g->n.abandoned, g->expired, g->still_held);
    (void)printf("rejected      %8" PRIu64 "%s%s%s\n", g->n.rejected, reasons[0] ? "  (" : "",
                 reasons, reasons[0] ? ")" : "");
    (void)printf("unknown       %8" PRIu64 "  (outcome unknown: timeouts, unavailable)\n",
                 g->n.unknown);
    (void)printf("hold latency  p50 %.2f ms  p99 %.2f ms  max %.2f ms\n",
                 (double)bench_hist_quantile(&g->hist, 0.50) / 1000.0,
                 (double)bench_hist_quantile(&g->hist, 0.99) / 1000.0,
                 (double)g->hist.max_us / 1000.0);
    (void)printf("longest pause %8.0f ms  without a successful hold or booking (ended at %.1f s)\n",
                 (double)g->stall_ns / 1e6,
                 g->stall_end_ns > g->start_ns ? (double)(g->stall_end_ns - g->start_ns) / 1e9
                                               : 0.0);
    if (a != NULL) {
        avail_check(g, a);
    }
    if (g->failures == 0) {
        (void)printf("integrity: OK (%" PRIu64 " bookings read back, no seat sold twice, "
                     "counts match)\n",
                     g->n.bookings);
    } else {
        (void)printf("integrity: FAILED (%u failed checks)\n", g->failures);
    }
    g->exit_code = g->failures == 0 ? 0 : 1;
}

/* ---- Set-up ---- */

/* Keeps what the run needs of the event's description. */
static int event_load(struct surge *g, const struct usher_event_spec *e)
{
    struct usher_event_info info;
    usher_event_spec_info(e, &info);
    g->section_count = info.section_count;
    g->seat_count = info.seat_count;
    g->ttl_min_ms = info.hold_ttl_min_ms;
    g->ttl_max_ms = info.hold_ttl_max_ms;
    uint32_t pick = info.hold_seats_max < info.customer_seats_max ? info.hold_seats_max
                                                                  : info.customer_seats_max;
    g->pick_max = (uint16_t)(pick < PICK_MAX ? pick : PICK_MAX);
    for (uint32_t i = 0; i < info.section_count; i++) {
        struct usher_section_info s;
        if (usher_event_spec_section(e, i, &s) != 0) {
            return -1;
        }
        g->sections[i] = (struct section){ .ga = s.kind == USHER_SECTION_GA,
                                           .seat_first = s.seat_first,
                                           .seat_count = s.seat_count };
    }
    g->sold_map = calloc((size_t)g->seat_count / 8u + 1u, 1);
    if (g->section_count == 0 || g->pick_max == 0 || g->sold_map == NULL) {
        return -1;
    }
    (void)printf("usher-surge: event %" PRIu64 " \"%s\": %u sections, %u seats; %u shoppers, "
                 "%u clients x %u, TTL %u ms for %u%% of them, else %u ms; seed %" PRIu64 "\n",
                 info.id, info.name, info.section_count, info.seat_count, g->o.shoppers,
                 g->o.clients, g->o.inflight, g->o.short_ttl_ms, g->o.short_pct, g->ttl_max_ms,
                 g->o.seed);
    return 0;
}

static void shutdown_early(struct surge *g)
{
    g->exit_code = 1;
    g->phase = PHASE_DONE;
    for (uint32_t i = 0; i < g->o.clients; i++) {
        usher_client_destroy(g->clients[i], NULL, NULL);
    }
    uv_close((uv_handle_t *)&g->tick, NULL);
    for (uint32_t i = 0; i < g->o.clients * g->o.inflight; i++) {
        uv_close((uv_handle_t *)&g->slots[i].think, NULL);
    }
}

static void on_event(void *ctx, int status, const struct usher_event_spec *e)
{
    struct surge *g = ctx;
    if (status != USHER_OK) {
        (void)fprintf(stderr, "usher-surge: cannot read event %" PRIu64 ": %s (%s)\n",
                      g->o.event_id, usher_client_errmsg(g->clients[0]), usher_errname(status));
        shutdown_early(g);
        return;
    }
    if (event_load(g, e) != 0) {
        (void)fprintf(stderr, "usher-surge: the event has no section to sell or no memory\n");
        shutdown_early(g);
        return;
    }
    g->start_ns = uv_hrtime();
    g->tick.data = g;
    (void)uv_timer_start(&g->tick, on_tick, 1000, 1000); /* cannot fail on an open loop */
    for (uint32_t i = 0; i < g->o.clients * g->o.inflight; i++) {
        slot_next(&g->slots[i]);
    }
}

static const char usage[] =
    "Usage: usher-surge --event ID [OPTIONS]\n"
    "An on-sale surge of simulated shoppers against running usherd nodes, then an\n"
    "integrity check (every booking read back, no seat sold twice, counts).\n"
    "  --event ID       the event (create it first: usher event create FILE.json)\n"
    "  --node ADDR      a node's client address (repeatable; 127.0.0.1:7400)\n"
    "  --shoppers N     shoppers (20000)\n"
    "  --seconds S      no new shopper after S seconds (60, max 120)\n"
    "  --clients C      clients, one connection each (32)\n"
    "  --inflight M     shoppers at a time per client (8)\n"
    "  --think-ms MS    a holder thinks up to MS before acting (200)\n"
    "  --arrive-s S     shoppers arrive evenly over S seconds (10; 0: all at once)\n"
    "  --short-ttl MS   the short hold TTL (5000); others use the event's maximum\n"
    "  --short-pct P    shoppers asking for the short TTL (30)\n"
    "  --seed N         seed of the random choices (random; printed)\n"
    "Exit status: 0 with \"integrity: OK\", 1 when a check fails, 2 on usage.\n";

/* Parses one option and its value; returns 0 or -1. */
static int opt_parse(struct surge_opts *o, const char *name, const char *value)
{
    if (strcmp(name, "--node") == 0 && value != NULL && o->node_count < NODES_MAX) {
        o->nodes[o->node_count++] = value;
        return 0;
    }

    struct {
        const char *name;
        uint64_t min;
        uint64_t max;
    } const nums[] = { { "--event", 1, UINT64_MAX },      { "--seed", 0, UINT64_MAX },
                       { "--shoppers", 1, SHOPPERS_MAX }, { "--seconds", 1, SECONDS_MAX },
                       { "--clients", 1, CLIENTS_MAX },   { "--inflight", 1, INFLIGHT_MAX },
                       { "--think-ms", 0, 60000 },        { "--short-ttl", 1000, 3600000 },
                       { "--short-pct", 0, 100 },         { "--arrive-s", 0, SECONDS_MAX } };

    uint32_t *fields[] = {
        NULL,         NULL,         &o->shoppers,     &o->seconds,   &o->clients,
        &o->inflight, &o->think_ms, &o->short_ttl_ms, &o->short_pct, &o->arrive_s
    };
    for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
        uint64_t v = 0;
        if (strcmp(name, nums[i].name) != 0) {
            continue;
        }
        if (bench_arg_u64(value, nums[i].min, nums[i].max, &v) != 0) {
            (void)fprintf(stderr, "usher-surge: %s wants an integer %" PRIu64 "..%" PRIu64 "\n",
                          name, nums[i].min, nums[i].max);
            return -1;
        }
        if (fields[i] != NULL) {
            *fields[i] = (uint32_t)v;
        } else if (i == 0) {
            o->event_id = v;
        } else {
            o->seed = v;
        }
        return 0;
    }
    (void)fprintf(stderr, "usher-surge: unknown option %s\n", name);
    return -1;
}

/* Returns 0, 1 (help) or -1 (usage error). */
static int args_parse(int argc, char *argv[], struct surge_opts *o)
{
    *o = (struct surge_opts){ .shoppers = 20000,
                              .seconds = 60,
                              .clients = 32,
                              .inflight = 8,
                              .think_ms = 200,
                              .arrive_s = 10,
                              .short_ttl_ms = 5000,
                              .short_pct = 30 };
    if (getrandom(&o->seed, sizeof(o->seed), 0) != (ssize_t)sizeof(o->seed)) {
        o->seed = uv_hrtime();
    }
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return 1;
        }
        if (opt_parse(o, argv[i], i + 1 < argc ? argv[i + 1] : NULL) != 0) {
            return -1;
        }
    }
    if (o->event_id == 0) {
        (void)fprintf(stderr, "usher-surge: --event ID is required\n");
        return -1;
    }
    if (o->node_count == 0) {
        o->nodes[o->node_count++] = "127.0.0.1:7400";
    }
    return 0;
}

static int clients_create(struct surge *g)
{
    struct usher_options uo;
    memset(&uo, 0, sizeof(uo));
    uo.nodes = g->o.nodes;
    uo.node_count = g->o.node_count;
    uo.inflight_max = g->o.inflight + READERS + 8u; /* shoppers, check reads, status */
    uo.call_timeout_ms = 30000;
    for (uint32_t i = 0; i < g->o.clients; i++) {
        int rc = usher_client_create(&g->loop, &uo, &g->clients[i]);
        if (rc != 0) {
            (void)fprintf(stderr, "usher-surge: client: %s\n", usher_strerror(rc));
            for (uint32_t j = 0; j < i; j++) {
                usher_client_destroy(g->clients[j], NULL, NULL);
            }
            return rc;
        }
    }
    for (uint32_t i = 0; i < g->o.clients * g->o.inflight; i++) {
        struct slot *s = &g->slots[i];
        *s = (struct slot){ .g = g, .client = i / g->o.inflight };
        (void)uv_timer_init(&g->loop, &s->think); /* always 0 */
        s->think.data = s;
    }
    return 0;
}

static int surge_alloc(struct surge *g)
{
    size_t slots = (size_t)g->o.clients * g->o.inflight;
    g->clients = calloc(g->o.clients, sizeof(struct usher_client *));
    g->slots = calloc(slots, sizeof(*g->slots));
    g->booked = calloc(g->o.shoppers, sizeof(*g->booked));
    g->abandoned = calloc(g->o.shoppers, sizeof(*g->abandoned));
    g->rng = g->o.seed;
    g->customer_base = (rand_next(&g->rng) & ((1ull << 40) - 1u)) << 20 | 1u;
    if (g->clients == NULL || g->slots == NULL || g->booked == NULL || g->abandoned == NULL) {
        return -1;
    }
    return uv_loop_init(&g->loop) == 0 ? 0 : -1;
}

static void surge_free(struct surge *g)
{
    free(g->clients);
    free(g->slots);
    free(g->booked);
    free(g->abandoned);
    free(g->sold_map);
    free(g);
}

int main(int argc, char *argv[])
{
    struct surge *g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return 1;
    }
    int rc = args_parse(argc, argv, &g->o);
    if (rc != 0) {
        (void)fputs(usage, rc > 0 ? stdout : stderr);
        free(g);
        return rc > 0 ? 0 : 2;
    }
    if (surge_alloc(g) != 0) {
        (void)fprintf(stderr, "usher-surge: out of memory\n");
        surge_free(g);
        return 1;
    }
    (void)uv_timer_init(&g->loop, &g->tick); /* always 0 */
    g->exit_code = 1;
    if (clients_create(g) != 0) {
        uv_close((uv_handle_t *)&g->tick, NULL); /* the slots' timers are not made yet */
    } else if (usher_event_get(g->clients[0], NULL, g->o.event_id, g, on_event) != 0) {
        (void)fprintf(stderr, "usher-surge: cannot start reading the event\n");
        shutdown_early(g);
    }
    (void)uv_run(&g->loop, UV_RUN_DEFAULT);
    (void)uv_loop_close(&g->loop);
    int code = g->exit_code;
    surge_free(g);
    return code;
}
