/*
 * libusher internals, shared by the client/usher_*.c files (STYLE.md 8.4).
 *
 *   usher_client.c   the client: create, destroy, options, slots, timer heap arming
 *   usher_err.c      the public error names and messages
 *   usher_call.c     one call: attempts, retries, backoff, deadline, replies, finish
 *   usher_node.c     one connection per node: connect, frames out and in
 *   usher_route.c    nodes known, shard leaders, which node gets a call
 *   usher_heap.c     the calls' wake-up times (one libuv timer per client)
 *   usher_key.c      idempotency keys, randomness, backoff math, trace ids
 *   usher_ops.c      the public operations: encode a request, start a call
 *   usher_result.c   replies decoded into the public result structs
 *   usher_spec.c     event descriptions (builder and reader)
 *   usher_sync.c     the blocking face: an operation run on the private loop
 *
 * A call's life (every move asserted against call_moves in usher_call.c):
 *
 *   NEW ──> WAITING (node connecting) ──> SENT (frame queued) ──> DONE
 *    │         │    ^                       │   ^
 *    │         v    │                       v   │
 *    └─────> BACKOFF (timer: retry later) <─┘   │
 *              └────────────────────────────────┘
 *
 * Every call that is not DONE sits in the client's heap with one wake time:
 * the connect timeout (WAITING), the attempt timeout (SENT) or the end of
 * its backoff (BACKOFF), never past its deadline. A call finishes (its
 * callback runs) only from a loop callback: the timer or a reply.
 */
#ifndef USHER_CLIENT_USHER_INT_H
#define USHER_CLIENT_USHER_INT_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "cmd.h"
#include "err.h"
#include "event.h"
#include "inv.h"
#include "limits.h"
#include "proto.h"

/* After err.h: usher.h then skips its own copy of enum usher_err. */
#include "usher.h"

/* The public limits are the cluster's. */
static_assert(USHER_EVENT_SEATS_LIMIT == USHER_EVENT_SEATS_MAX, "public limit");
static_assert(USHER_EVENT_SECTIONS_LIMIT == USHER_EVENT_SECTIONS_MAX, "public limit");
static_assert(USHER_EVENT_ROWS_LIMIT == USHER_EVENT_ROWS_MAX, "public limit");
static_assert(USHER_ROW_SEATS_LIMIT == USHER_ROW_SEATS_MAX, "public limit");
static_assert(USHER_GA_CAPACITY_LIMIT == USHER_GA_CAPACITY_MAX, "public limit");
static_assert(USHER_LABEL_LEN_LIMIT == USHER_LABEL_LEN_MAX, "public limit");
static_assert(USHER_NAME_LEN_LIMIT == USHER_NAME_LEN_MAX, "public limit");
static_assert(USHER_PAYMENT_REF_LEN_LIMIT == USHER_PAYMENT_REF_LEN_MAX, "public limit");
static_assert(USHER_HOLD_SEATS_LIMIT == USHER_HOLD_SEATS_MAX, "public limit");
static_assert(USHER_HISTORY_LIMIT == USHER_HISTORY_MAX, "public limit");
static_assert(USHER_CUSTOMER_ITEMS_LIMIT == USHER_CUSTOMER_ITEMS_MAX, "public limit");
static_assert(USHER_SHARDS_LIMIT == PROTO_STATUS_SHARDS_MAX, "public limit");
static_assert(USHER_ADDR_LEN_LIMIT == PROTO_ADDR_LEN_MAX, "public limit");
static_assert(USHER_TRACE_ID_BYTES == PROTO_TRACE_ID_BYTES, "public limit");
static_assert(USHER_ERRMSG_LEN_LIMIT == PROTO_MESSAGE_LEN_MAX, "public limit");
static_assert(USHER_INFLIGHT_LIMIT <= (1u << 20), "a slot fits the low 20 bits of a request id");

/* Defaults of struct usher_options (usher.h states them too). */
#define CLIENT_CONNECT_TIMEOUT_DEFAULT_MS 1000u
#define CLIENT_ATTEMPT_TIMEOUT_DEFAULT_MS 2000u
#define CLIENT_CALL_TIMEOUT_DEFAULT_MS    10000u
#define CLIENT_ATTEMPTS_DEFAULT           32u
#define CLIENT_BACKOFF_BASE_DEFAULT_MS    10u
#define CLIENT_BACKOFF_MAX_DEFAULT_MS     1000u
#define CLIENT_INFLIGHT_DEFAULT           4096u

/* Ceilings of the options: a day is longer than any sane deadline. */
#define CLIENT_TIMEOUT_CEILING_MS 86400000u
#define CLIENT_ATTEMPTS_CEILING   1000000u

/* Request ids: (sequence << 20) | slot, so a reply finds its call in O(1)
 * and a late reply to an abandoned attempt matches nothing. */
#define CLIENT_SLOT_BITS 20u
#define CLIENT_SLOT_MASK ((1u << CLIENT_SLOT_BITS) - 1u)

/* Bytes of frames one connection may have queued and not yet written.
 * Beyond it a call waits (BUSY, retried) instead of growing the buffer. */
#define NODE_WRITE_BYTES_MAX ((size_t)8u * 1024u * 1024u)

/* First read and write buffers of a connection; reads grow to the largest
 * frame only when one arrives. */
#define NODE_BUF_INITIAL 65536u

/* ---- Keys, randomness, backoff (usher_key.c) ---- */

/* Returns the wall clock in Unix ms (idempotency keys only). */
uint64_t usher_key_wall_ms(void);

/* Returns the next key after `last` at time now_ms: now_ms << 20 when that
 * is larger, else last + 1, so keys strictly increase whatever the clock does. */
uint64_t usher_key_make(uint64_t last, uint64_t now_ms);

/* Returns a random seed from the kernel (never 0). */
uint64_t usher_key_seed(void);

/* Advances a splitmix64 generator and returns its next value. */
uint64_t usher_key_rand(uint64_t *state);

/* Full-jitter backoff before retry number `retry` (0 for the first retry):
 * rnd mapped uniformly onto [0, min(max_ms, base_ms * 2^retry)]. */
uint32_t usher_key_backoff_ms(uint32_t base_ms, uint32_t max_ms, uint32_t retry, uint64_t rnd);

/* Fills a random, non-zero trace id. */
void usher_key_trace_id(uint64_t *state, uint8_t out[PROTO_TRACE_ID_BYTES]);

/* ---- Routing (usher_route.c) ---- */

#define ROUTE_NONE UINT32_MAX

struct usher_peer {
    char addr[PROTO_ADDR_LEN_MAX + 1]; /* "a.b.c.d:port" */
    struct sockaddr_in sa;
    uint32_t fail_count;    /* failures in a row; 0 after a good answer */
    uint64_t down_until_ms; /* avoided until then (loop time) */
};

struct usher_route {
    uint32_t peer_count;
    uint32_t cursor;      /* the node used when no leader is known */
    uint32_t shard_count; /* 0 until a status answer told it */
    struct usher_peer peers[USHER_NODES_LIMIT];
    uint16_t leader[PROTO_STATUS_SHARDS_MAX]; /* peer index + 1 per shard; 0: unknown */
};

/* Parses "a.b.c.d:port" (port 1..65535). Returns 0 or INVALID. */
USHER_MUST_CHECK int usher_route_addr_parse(const char *s, struct sockaddr_in *out);

/* Finds the peer of an address, or adds it. Returns 0 and *index, INVALID
 * (not an address) or BUSY (USHER_NODES_LIMIT peers are known already). */
USHER_MUST_CHECK int usher_route_peer_add(struct usher_route *r, const char *addr, uint32_t *index);

/* Returns the peer for a call about event_id (0: none) at now_ms: the
 * shard's leader when known and not avoided, else the cursor's node or the
 * next one not avoided, else the one avoided the shortest. */
uint32_t usher_route_pick(const struct usher_route *r, uint64_t event_id, uint64_t now_ms);

/* True while peer is avoided after a failure (usher_route_peer_failed()). */
bool usher_route_is_avoided(const struct usher_route *r, uint32_t peer, uint64_t now_ms);

/* Records peer as the leader of event_id's shard (no-op until the shard
 * count is known). */
void usher_route_leader_set(struct usher_route *r, uint64_t event_id, uint32_t peer);

/* Forgets the leader of event_id's shard. */
void usher_route_leader_forget(struct usher_route *r, uint64_t event_id);

/* Records a failure of peer: avoided for avoid_ms, its leaderships
 * forgotten, the cursor moved past it. */
void usher_route_peer_failed(struct usher_route *r, uint32_t peer, uint64_t now_ms,
                             uint32_t avoid_ms);

/* Records a good answer from peer. */
void usher_route_peer_ok(struct usher_route *r, uint32_t peer);

/* Learns from a status answer of peer: the shard count and the shards it
 * leads (and no longer leads). */
void usher_route_status_learn(struct usher_route *r, uint32_t peer,
                              const struct proto_node_status *s);

/* ---- Calls ---- */

enum call_state {
    CALL_NEW = 1,
    CALL_WAITING = 2, /* attached to a node that is connecting */
    CALL_SENT = 3,    /* frame queued or written on an open node, reply awaited */
    CALL_BACKOFF = 4, /* waiting for the timer before the next attempt */
    CALL_DONE = 5,
};

union usher_call_cb {
    usher_cmd_cb cmd;
    usher_event_cb event;
    usher_event_list_cb event_list;
    usher_availability_cb availability;
    usher_hold_info_cb hold;
    usher_booking_info_cb booking;
    usher_customer_cb customer;
    usher_history_cb history;
    usher_status_cb status;
    usher_done_cb done;
};

#define HEAP_NONE UINT32_MAX

struct usher_call {
    struct usher_client *client;
    struct usher_call *prev; /* in its node's list while WAITING or SENT */
    struct usher_call *next;
    uint32_t node;   /* peer of the current attempt; ROUTE_NONE */
    uint32_t prefer; /* peer for the next attempt (a redirect); ROUTE_NONE */
    uint32_t slot;
    uint32_t heap_idx; /* HEAP_NONE when not in the heap */
    uint8_t state;     /* enum call_state */
    bool internal;     /* a status refresh of the client itself: no user callback */
    bool fixed;        /* every attempt goes to `prefer` */
    bool give_up;      /* BACKOFF: finish with last_status at the wake */
    bool any_replica;  /* a follower read: the first attempt goes to any node */
    uint32_t attempts;
    int last_status;  /* why the last attempt failed */
    uint64_t wake_ms; /* loop time of the next timer action */
    uint64_t deadline_ms;
    uint64_t event_id;          /* routes the call; 0: any node */
    uint64_t idem_key;          /* commands */
    struct proto_header header; /* op, trace id; request_id set per attempt */
    uint16_t reply_flags;       /* flags of the OK reply */
    union usher_call_cb cb;
    void *ctx;
    size_t payload_len;
    uint8_t payload[]; /* the request payload, kept for retries */
};

/* Allocates a call for op with room for payload_len bytes and takes a
 * slot. Returns NULL and *rc = CANCELLED (client closing), BUSY (in-flight
 * bound) or NOMEM. */
struct usher_call *usher_call_create(struct usher_client *c, uint8_t op, size_t payload_len,
                                     int *rc);

/* Frees a call that was created but not started. */
void usher_call_abort(struct usher_call *call);

/* Starts a call (payload, event_id, cb and ctx filled in): computes its
 * deadline, trace id and key, and makes its first attempt. Returns 0, or
 * INVALID / BUSY for a bad opts->node (the call is freed then). */
USHER_MUST_CHECK int usher_call_start(struct usher_call *call, const struct usher_call_opts *opts);

/* Handles the reply to a call sent on its node. */
void usher_call_reply(struct usher_call *call, const struct proto_header *h, const uint8_t *payload,
                      size_t len);

/* Returns the call a reply's request id names on peer, or NULL (a late
 * reply to an abandoned attempt). */
struct usher_call *usher_call_find(struct usher_client *c, uint64_t request_id, uint32_t peer);

/* A node's connection came up: sends the calls waiting for it. */
void usher_call_node_up(struct usher_client *c, uint32_t peer);

/* A node's connection failed: retries every call attached to it. */
void usher_call_node_down(struct usher_client *c, uint32_t peer, int status);

/* The timer: runs every call whose wake time has come. */
void usher_call_wake_due(struct usher_client *c);

/* Finishes every call with CANCELLED (client destroy). */
void usher_call_cancel_all(struct usher_client *c);

/* Starts an internal status read on peer, to learn the routes. */
void usher_call_refresh(struct usher_client *c, uint32_t peer);

/* ---- Timer heap (usher_heap.c): calls ordered by wake_ms ---- */

struct usher_heap {
    struct usher_call **items;
    uint32_t count;
    uint32_t cap;
};

/* Allocates room for cap calls. Returns 0 or NOMEM. */
USHER_MUST_CHECK int usher_heap_init(struct usher_heap *h, uint32_t cap);
void usher_heap_close(struct usher_heap *h);
/* Inserts a call (not in the heap, count < cap). */
void usher_heap_push(struct usher_heap *h, struct usher_call *call);
/* Removes a call if it is in the heap. */
void usher_heap_remove(struct usher_heap *h, struct usher_call *call);
/* Returns the call with the smallest wake_ms, or NULL. */
struct usher_call *usher_heap_top(const struct usher_heap *h);

/* ---- Connections (usher_node.c) ---- */

enum node_state {
    NODE_IDLE = 1,       /* no socket */
    NODE_CONNECTING = 2, /* connect() in progress */
    NODE_OPEN = 3,
    NODE_CLOSING = 4, /* poll handle closing; IDLE in its close callback */
};

struct usher_node {
    struct usher_client *client;
    uint32_t peer;
    uint8_t state; /* enum node_state */
    int fd;
    uv_poll_t poll;
    int poll_events;
    struct usher_call *calls; /* attached calls (WAITING or SENT) */
    uint32_t call_count;
    uint8_t *rbuf;
    size_t rlen;
    size_t rcap;
    uint8_t *wbuf;
    size_t woff; /* bytes of wbuf already written */
    size_t wlen;
    size_t wcap;
    bool dirty; /* frames queued since the last flush */
};

/* Returns the node of peer, creating it (IDLE) on first use; NULL: NOMEM. */
struct usher_node *usher_node_get(struct usher_client *c, uint32_t peer);

/* Starts connecting an IDLE node (no-op otherwise). Returns 0 or
 * UNAVAILABLE (the socket could not even be started). */
USHER_MUST_CHECK int usher_node_connect(struct usher_node *n);

/* Queues one frame (header + payload) on an OPEN node. Returns 0 or BUSY
 * (write bound) or NOMEM. */
USHER_MUST_CHECK int usher_node_write(struct usher_node *n, const struct proto_header *h,
                                      const uint8_t *payload, size_t len);

void usher_node_attach(struct usher_node *n, struct usher_call *call);
void usher_node_detach(struct usher_node *n, struct usher_call *call);

/* Closes the connection after a failure: calls attached are retried. */
void usher_node_fail(struct usher_node *n, int status);

/* Writes what every node has queued (the client's idle callback). */
void usher_node_flush_all(struct usher_client *c);

/* Closes a node for client destroy (handle close counted by the client). */
void usher_node_close(struct usher_node *n);

/* Frees a node's memory after its handle closed. */
void usher_node_free(struct usher_node *n);

/* ---- The client (usher_client.c) ---- */

struct usher_client {
    uv_loop_t *loop;
    uv_loop_t *own_loop; /* the private loop of a blocking client, else NULL */
    uint64_t client_id;
    uint64_t last_key;
    uint64_t rng;
    uint64_t seq; /* request id sequence */
    uint32_t connect_timeout_ms;
    uint32_t attempt_timeout_ms;
    uint32_t call_timeout_ms;
    uint32_t attempts_max;
    uint32_t backoff_base_ms;
    uint32_t backoff_max_ms;
    uint32_t inflight_max;
    struct usher_route route;
    struct usher_node *nodes[USHER_NODES_LIMIT]; /* per peer; NULL until used */
    struct usher_call **slots;                   /* inflight_max entries */
    uint32_t *free_slots;                        /* stack of free slot numbers */
    uint32_t free_count;
    struct usher_heap heap;
    uv_timer_t timer;
    uint64_t timer_due; /* wake the timer is armed for; UINT64_MAX: stopped */
    uv_idle_t idle;     /* flushes queued frames once per loop turn */
    bool idle_active;
    bool closing;
    uint32_t handles_open; /* libuv handles not yet closed */
    usher_destroy_cb destroy_cb;
    void *destroy_ctx;
    char errmsg[PROTO_MESSAGE_LEN_MAX + 1];
};

/* Returns the loop's time in ms, refreshed. */
uint64_t usher_client_now(struct usher_client *c);

/* Re-arms the timer for the heap's earliest wake. */
void usher_client_timer_arm(struct usher_client *c);

/* Makes sure queued frames are written this loop turn. */
void usher_client_flush_soon(struct usher_client *c);

/* Sets the client's message (printf-style, truncated). */
void usher_client_errmsg_set(struct usher_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A handle of the client finished closing. */
void usher_client_handle_closed(struct usher_client *c);

/* ---- Results (usher_result.c) ---- */

/* Decodes a successful reply's payload for call's op and runs the user
 * callback with it (or with the decode failure). */
void usher_result_deliver(struct usher_call *call, int status, const uint8_t *payload, size_t len);

/* ---- Event descriptions (usher_spec.c) ---- */

/* Builds a laid-out struct event from a description (caller frees with
 * event_destroy()). Returns 0, INVALID or NOMEM. */
USHER_MUST_CHECK int usher_spec_to_event(const struct usher_event_spec *s, struct event **out);

/* Makes a description from an event. Returns 0 or NOMEM. */
USHER_MUST_CHECK int usher_spec_from_event(const struct event *e, struct usher_event_spec **out);

#endif
