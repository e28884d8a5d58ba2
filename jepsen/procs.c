/*
 * The processes of the workload (workload.h): each picks its next operation
 * from what it believes it owns, runs it through libusher, and writes the
 * invoke and the completion to the history.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define PICK_PCT_BOOK    50u /* of a holder's next steps; then release, extend, read */
#define PICK_PCT_RELEASE 15u
#define PICK_PCT_EXTEND  15u
#define PICK_PCT_CANCEL  70u   /* of a booker's next steps; the rest read */
#define PICK_PCT_HOLD    85u   /* of an idle process's; the rest read */
#define SLOW_PAY_PCT     30u   /* holders that think past their hold's TTL */
#define ASK_AGAIN_MS     250u  /* pause before asking an unknown outcome again */
#define KEEP_BOOKING_MS  4000u /* a booking lives up to this long before its cancel */
#define TAKEN_PAUSE_MS   200u  /* after a refused hold, up to this much more thinking */
#define KEEPER_TTL_MS    5000u

static const char *const op_names[OP_COUNT] = {
    [OP_HOLD] = "hold",     [OP_BOOK] = "book",     [OP_RELEASE] = "release",
    [OP_EXTEND] = "extend", [OP_CANCEL] = "cancel", [OP_READ] = "read",
};

enum outcome { OUT_OK, OUT_FAIL, OUT_INFO };

static void proc_schedule(struct proc *p, uint32_t delay_ms);

static void record(struct proc *p, enum history_type type, const char *value)
{
    struct wl *w = p->w;
    struct history_rec r = {
        .process = p->id,
        .client = w->client_ids[p->client],
        .type = type,
        .f = op_names[p->op],
        .key = p->op == OP_READ ? 0 : p->key,
        .event = p->event,
        .value = value,
    };
    history_write(&w->h, &r);
}

/* The invoke value of the open command. */
static const char *invoke_value(struct proc *p, struct jbuf *b)
{
    jbuf_start(b);
    if (p->op != OP_READ) {
        jbuf_u64(b, "customer", p->customer);
    }
    switch (p->op) {
    case OP_HOLD:
        jbuf_seats(b, "seats", p->seats, p->seat_count);
        jbuf_u64(b, "ttl_ms", p->ttl_ms);
        break;
    case OP_EXTEND:
        jbuf_u64(b, "hold", p->target);
        jbuf_u64(b, "ttl_ms", p->ttl_ms);
        break;
    case OP_BOOK:
    case OP_RELEASE:
        jbuf_u64(b, "hold", p->target);
        break;
    case OP_CANCEL:
        jbuf_u64(b, "booking", p->target);
        break;
    default:
        break;
    }
    return jbuf_end(b);
}

/* Only a refusal by the cluster proves a command did not happen (a refused
 * command leaves no idempotency record, so no earlier attempt of its key
 * took effect either). Timeouts, lost connections, NOT_LEADER after an
 * attempt that timed out, BUSY after retries: any of them may hide an
 * attempt that was applied. */
static enum outcome outcome_of(int status)
{
    if (status == 0) {
        return OUT_OK;
    }
    return usher_is_refusal(status) ? OUT_FAIL : OUT_INFO;
}

static void op_done(struct proc *p, enum outcome out)
{
    struct wl *w = p->w;
    if (!p->open) {
        abort(); /* a completion without an open operation: a libusher bug */
    }
    p->open = false;
    w->open--;
    w->outcomes[p->op][out]++;
}

/* What the process believes after a command's outcome. */
static void believe(struct proc *p, enum outcome out, const struct usher_cmd_result *r)
{
    bool gone = out != OUT_INFO || p->asks >= WL_ASKS_MAX;
    switch (p->op) {
    case OP_HOLD:
        p->hold = out == OUT_OK ? r->id : 0;
        break;
    case OP_BOOK:
        p->booking = out == OUT_OK && !p->keeper ? r->id : 0; /* the keeper keeps it */
        p->hold = gone ? 0 : p->hold;
        break;
    case OP_RELEASE:
        p->hold = gone ? 0 : p->hold;
        break;
    case OP_EXTEND:
        p->hold = out == OUT_FAIL ? 0 : p->hold; /* refused: expired, released, ... */
        break;
    case OP_CANCEL:
        p->booking = gone ? 0 : p->booking;
        break;
    default:
        break;
    }
}

static void on_cmd(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct proc *p = ctx;
    enum outcome out = outcome_of(status);
    op_done(p, out);
    struct jbuf b;
    jbuf_start(&b);
    if (out == OUT_OK) {
        if (p->op == OP_HOLD || p->op == OP_EXTEND || p->op == OP_RELEASE) {
            jbuf_u64(&b, "hold", r->id);
        } else {
            jbuf_u64(&b, "booking", r->id);
        }
        if (p->op == OP_HOLD) {
            jbuf_seats(&b, "seats", r->seats, r->seat_count);
        }
        if (p->op == OP_HOLD || p->op == OP_EXTEND) {
            jbuf_u64(&b, "expires_at_ms", r->expires_at_ms);
        }
    } else {
        jbuf_str(&b, "error", usher_errname(status));
    }
    record(p,
           out == OUT_OK     ? HISTORY_OK
           : out == OUT_FAIL ? HISTORY_FAIL
                             : HISTORY_INFO,
           jbuf_end(&b));
    believe(p, out, r);
    if (out == OUT_INFO && p->asks < WL_ASKS_MAX && !p->w->stopping) {
        proc_schedule(p, ASK_AGAIN_MS); /* ask again, same key: learn the one outcome */
        return;
    }
    p->asks = 0;
    proc_schedule(p, wl_rand(p->w, p->w->o.think_ms + 1u));
}

void wl_read_value(struct jbuf *b, const struct usher_availability *a, uint32_t seats)
{
    bool is_free[HISTORY_SEATS_MAX];
    uint32_t n = a->seat_count < seats ? a->seat_count : seats;
    n = n < HISTORY_SEATS_MAX ? n : HISTORY_SEATS_MAX;
    for (uint32_t i = 0; i < n; i++) {
        is_free[i] = usher_seat_is_free(a, i);
    }
    jbuf_seat_states(b, "seats", is_free, n);
    jbuf_u64(b, "now_ms", a->now_ms);
}

static void on_read(void *ctx, int status, const struct usher_availability *a)
{
    struct proc *p = ctx;
    op_done(p, status == 0 ? OUT_OK : OUT_FAIL);
    struct jbuf b;
    jbuf_start(&b);
    if (status == 0) {
        wl_read_value(&b, a, p->w->o.seats);
    } else {
        jbuf_str(&b, "error", usher_errname(status));
    }
    /* A read changes nothing: one that got no answer is a fail, not an
     * unknown (HISTORY.md: the checker drops both alike). */
    record(p, status == 0 ? HISTORY_OK : HISTORY_FAIL, jbuf_end(&b));
    p->asks = 0;
    proc_schedule(p, wl_rand(p->w, p->w->o.think_ms + 1u));
}

/* The keeper's next step: book the hold it has, or hold the next seat. */
static void pick_keeper(struct proc *p)
{
    struct wl *w = p->w;
    p->target = p->hold;
    p->op = p->hold != 0 ? OP_BOOK : OP_HOLD;
    p->ttl_ms = KEEPER_TTL_MS;
    p->seat_count = 1;
    p->seats[0] = p->next_seat;
    if (p->op == OP_HOLD) {
        p->next_seat = (p->next_seat + 1u) % WL_KEEPER_SEATS;
    }
    p->key = usher_key_next(w->clients[p->client]);
}

/* Picks the next operation and its arguments from what p owns. */
static void pick(struct proc *p)
{
    struct wl *w = p->w;
    if (p->keeper) {
        pick_keeper(p);
        return;
    }
    uint32_t r = wl_rand(w, 100);
    p->target = 0;
    if (p->booking != 0) {
        p->op = r < PICK_PCT_CANCEL ? OP_CANCEL : OP_READ;
        p->target = p->booking;
    } else if (p->hold != 0) {
        p->op = r < PICK_PCT_BOOK                                        ? OP_BOOK
                : r < PICK_PCT_BOOK + PICK_PCT_RELEASE                   ? OP_RELEASE
                : r < PICK_PCT_BOOK + PICK_PCT_RELEASE + PICK_PCT_EXTEND ? OP_EXTEND
                                                                         : OP_READ;
        p->target = p->hold;
    } else {
        p->op = r < PICK_PCT_HOLD ? OP_HOLD : OP_READ;
    }
    p->ttl_ms = WL_TTL_MIN_MS + wl_rand(w, WL_TTL_SPAN_MS + 1u);
    if (p->op == OP_HOLD) {
        p->seat_count = (uint16_t)(1u + wl_rand(w, WL_HOLD_SEATS));
        p->seats[0] = wl_rand(w, w->o.seats);
        if (p->seat_count == 2) {
            /* a distinct second seat, kept ascending as the server sorts them */
            uint32_t s = wl_rand(w, w->o.seats - 1u);
            s += s >= p->seats[0] ? 1u : 0u;
            p->seats[1] = s > p->seats[0] ? s : p->seats[0];
            p->seats[0] = s > p->seats[0] ? p->seats[0] : s;
        }
    }
    p->key = p->op == OP_READ ? 0 : usher_key_next(w->clients[p->client]);
}

static int start_cmd(struct proc *p, const struct usher_call_opts *co)
{
    struct usher_client *c = p->w->clients[p->client];
    switch (p->op) {
    case OP_HOLD:
        return usher_hold_seats(c, co, p->event, p->customer, p->seats, p->seat_count, p->ttl_ms, p,
                                on_cmd);
    case OP_BOOK:
        return usher_hold_book(c, co, p->event, p->customer, p->target, "jepsen", p, on_cmd);
    case OP_RELEASE:
        return usher_hold_release(c, co, p->event, p->customer, p->target, p, on_cmd);
    case OP_EXTEND:
        return usher_hold_extend(c, co, p->event, p->customer, p->target, p->ttl_ms, p, on_cmd);
    case OP_CANCEL:
        return usher_booking_cancel(c, co, p->event, p->customer, p->target, p, on_cmd);
    default:
        return usher_availability(c, co, p->event, p, on_read);
    }
}

static void on_timer(uv_timer_t *t)
{
    struct proc *p = t->data;
    struct wl *w = p->w;
    if (w->stopping) {
        return;
    }
    if (p->asks == 0) {
        pick(p);
    }
    p->asks++;
    struct jbuf b;
    record(p, HISTORY_INVOKE, invoke_value(p, &b));
    p->open = true;
    w->open++;
    struct usher_call_opts co = { .idem_key = p->key, .timeout_ms = w->o.op_timeout_ms };
    if (p->op == OP_READ && wl_rand(w, 2) == 0) {
        /* Half the reads start at a random node, not at the leader the
         * client knows: a deposed leader that still answered from its store
         * (a broken lease) would show a stale seat map here. */
        co.node = w->o.nodes[wl_rand(w, w->o.node_count)];
    }
    int rc = start_cmd(p, &co);
    if (rc != 0) {
        /* Not started (BUSY, NOMEM, ...): nothing was sent. */
        op_done(p, OUT_FAIL);
        struct jbuf e;
        jbuf_start(&e);
        jbuf_str(&e, "error", usher_errname(rc));
        record(p, HISTORY_FAIL, jbuf_end(&e));
        p->asks = 0;
        proc_schedule(p, w->o.think_ms + 1u);
    }
}

/* How long p waits before its next step, given the usual think time. */
static uint32_t next_delay(struct proc *p, uint32_t delay_ms)
{
    struct wl *w = p->w;
    if (p->keeper) {
        /* Holds are booked at once; a booking is never cancelled. */
        return p->op == OP_BOOK && p->asks == 0 ? WL_KEEPER_MS + wl_rand(w, 1000) : delay_ms;
    }
    if (p->op == OP_HOLD && p->hold == 0 && p->asks == 0) {
        /* Refused (the seats were taken): a shopper looks again a little
         * later rather than hammering the same seats. */
        delay_ms += wl_rand(w, TAKEN_PAUSE_MS + 1u);
    }
    if (p->op == OP_BOOK && p->booking != 0 && p->asks == 0) {
        /* A booking is kept a while before its cancel: reads meanwhile must
         * show it, faults strike while it is held, and the bookings alive
         * at the end must be in every replica's final read. */
        delay_ms = wl_rand(w, KEEP_BOOKING_MS + 1u);
    }
    if (p->op == OP_EXTEND || p->op == OP_HOLD) {
        /* A slow payer thinks past its hold's TTL: its book races the expiry. */
        if (p->hold != 0 && p->asks == 0 && wl_rand(w, 100) < SLOW_PAY_PCT) {
            delay_ms = p->ttl_ms - 300u + wl_rand(w, 600);
        }
    }
    return delay_ms;
}

static void proc_schedule(struct proc *p, uint32_t delay_ms)
{
    int rc = uv_timer_start(&p->timer, on_timer, next_delay(p, delay_ms), 0);
    if (rc != 0) {
        (void)fprintf(stderr, "usher-jepsen-workload: timer: %s\n", uv_strerror(rc));
        abort();
    }
}

static void close_all(struct wl *w)
{
    for (uint32_t i = 0; i <= w->o.processes; i++) { /* the keeper is the last */
        uv_close((uv_handle_t *)&w->procs[i].timer, NULL);
    }
    uv_close((uv_handle_t *)&w->tick, NULL);
    for (uint32_t i = 0; i < w->o.clients; i++) {
        usher_client_destroy(w->clients[i], NULL, NULL);
        w->clients[i] = NULL;
    }
}

/* One progress line a second, JSON, on stderr; stops the load at the end. */
static void on_tick(uv_timer_t *t)
{
    struct wl *w = t->data;
    uint64_t now = uv_hrtime();
    uint64_t ok = 0;
    uint64_t fail = 0;
    uint64_t info = 0;
    for (int i = 0; i < OP_COUNT; i++) {
        ok += w->outcomes[i][OUT_OK];
        fail += w->outcomes[i][OUT_FAIL];
        info += w->outcomes[i][OUT_INFO];
    }
    (void)fprintf(stderr,
                  "{\"progress\": \"load\", \"t_s\": %" PRIu64 ", \"ok\": %" PRIu64
                  ", \"fail\": %" PRIu64 ", \"info\": %" PRIu64 ", \"open\": %" PRIu32 "}\n",
                  (now - w->start_ns) / 1000000000u, ok, fail, info, w->open);
    if (now >= w->end_ns) {
        w->stopping = true;
    }
    if (w->stopping && w->open == 0) {
        close_all(w);
    }
}

int procs_start(struct wl *w)
{
    w->start_ns = uv_hrtime();
    w->end_ns = w->start_ns + (uint64_t)w->o.seconds * 1000000000u;
    int rc = uv_timer_init(&w->loop, &w->tick);
    if (rc != 0) {
        return rc;
    }
    w->tick.data = w;
    for (uint32_t i = 0; i <= w->o.processes; i++) { /* the keeper is the last */
        struct proc *p = &w->procs[i];
        memset(p, 0, sizeof(*p));
        p->w = w;
        p->id = i;
        p->client = i % w->o.clients;
        p->keeper = i == w->o.processes;
        p->event = p->keeper ? w->o.events + 1u : 1u + i % w->o.events;
        p->customer = 1u + i;
        rc = uv_timer_init(&w->loop, &p->timer);
        if (rc != 0) {
            return rc;
        }
        p->timer.data = p;
        proc_schedule(p, wl_rand(w, w->o.think_ms + 1u));
    }
    return uv_timer_start(&w->tick, on_tick, 1000, 1000);
}
