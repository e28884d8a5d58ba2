/*
 * usher-jepsen-workload: the client side of a Jepsen run (jepsen/README.md).
 *
 * Many logical processes, each with at most one operation open, work on a
 * few events of a few seats through libusher's asynchronous API, so
 * contention is high: hold, book, release, extend, cancel and reads. Every
 * operation is written to the history (jepsen/HISTORY.md) as an invoke and
 * then ok, fail or info. A command whose outcome stayed unknown is asked
 * again with the same idempotency key, a few times, as a real frontend
 * would. `final` mode appends the final reads of every replica after the
 * harness has healed the cluster.
 */
#ifndef USHER_JEPSEN_WORKLOAD_H
#define USHER_JEPSEN_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "history.h"
#include "usher.h"

#define WL_NODES_MAX    16u
#define WL_PROCS_MAX    256u
#define WL_CLIENTS_MAX  16u
#define WL_EVENTS_MAX   16u
#define WL_SECONDS_MAX  3600u
#define WL_HOLD_SEATS   2u    /* seats one hold asks for, at most */
#define WL_ASKS_MAX     4u    /* attempts of one idempotency key, the first included */
#define WL_TTL_MIN_MS   1000u /* USHER_HOLD_TTL_MIN_MS: holds expire during the run */
#define WL_TTL_SPAN_MS  2000u
#define WL_FINAL_PROC   1000u /* process ids of final reads: WL_FINAL_PROC + node index */
#define WL_KEEPER_SEATS HISTORY_SEATS_MAX /* seats of the keeper's event */
#define WL_KEEPER_MS    2500u             /* the keeper books a seat about this often */

enum wl_op { OP_HOLD, OP_BOOK, OP_RELEASE, OP_EXTEND, OP_CANCEL, OP_READ, OP_COUNT };

struct wl_opts {
    const char *nodes[WL_NODES_MAX];
    uint32_t node_count;
    const char *history;
    bool final;       /* final mode: settle, then read every replica */
    uint32_t seconds; /* load phase */
    uint32_t processes;
    uint32_t clients;  /* libusher clients the processes share */
    uint32_t events;   /* event ids 1 .. events */
    uint32_t seats;    /* seats per event */
    uint32_t think_ms; /* pause between a process's operations, at most */
    uint32_t op_timeout_ms;
    uint32_t settle_s; /* final mode: how long replicas may take to catch up */
    uint64_t seed;
};

struct wl;

/*
 * One logical client of the history: one operation open at most.
 *
 * The last process is the keeper: on an event of its own (id events + 1,
 * WL_KEEPER_SEATS seats) it holds and books one new seat every
 * WL_KEEPER_MS or so and never cancels, so bookings made under every
 * fault of the run must all be in every replica's final read.
 */
struct proc {
    struct wl *w;
    uint32_t id;
    uint32_t client; /* index into wl.clients */
    uint64_t event;
    uint64_t customer;
    uv_timer_t timer;
    uint64_t hold;    /* the hold this process believes it has; 0: none */
    uint64_t booking; /* its confirmed booking; 0: none */
    /* The operation open now (or to be asked again). */
    enum wl_op op;
    bool open;
    uint64_t key;
    uint32_t asks;
    uint32_t seats[WL_HOLD_SEATS];
    uint16_t seat_count;
    uint32_t ttl_ms;
    uint64_t target; /* hold or booking the command names */
    bool keeper;
    uint32_t next_seat; /* keeper: the seat it books next */
};

struct wl {
    uv_loop_t loop;
    struct wl_opts o;
    struct usher_client *clients[WL_CLIENTS_MAX];
    uint64_t client_ids[WL_CLIENTS_MAX];
    struct proc *procs;
    struct history h;
    uint64_t rng;
    uint64_t start_ns;
    uint64_t end_ns;
    uint32_t open; /* operations in flight */
    bool stopping;
    uint64_t outcomes[OP_COUNT][3]; /* ok, fail, info */
    uv_timer_t tick;
};

/* A uniform number in [0, n). */
uint32_t wl_rand(struct wl *w, uint32_t n);

/* Adds a read's ok value: seats 0 .. seats-1 free or taken, and now_ms. */
void wl_read_value(struct jbuf *b, const struct usher_availability *a, uint32_t seats);

/* Starts the processes on w->loop; the loop ends when the load phase is
 * over and every open operation has completed. Returns 0 or a libuv code. */
int procs_start(struct wl *w);

/* Creates events 1 .. o->events and the keeper's event o->events + 1
 * (EVENT_EXISTS counts as done). Returns 0, or 1 after printing why. */
int events_create(const struct wl_opts *o);

/* Final mode: waits for every replica to apply what the cluster committed,
 * then appends a final read of every event on every replica. Returns 0, or
 * 1 after printing why. */
int final_reads(const struct wl_opts *o, struct history *h);

#endif
