/*
 * One call from start to callback: attempts, replies, retries, deadline
 * (the state diagram is in usher_int.h).
 *
 * What a failed attempt does next:
 *
 *   reply / event             next attempt                          last_status
 *   ------------------------  ------------------------------------  -----------
 *   NOT_LEADER + leader addr  at once, to that node                 NOT_LEADER
 *   NOT_LEADER, no address    after a backoff (an election is on)   NOT_LEADER
 *   WRONG_SHARD               after a backoff; routes re-learnt     WRONG_SHARD
 *   BUSY + retry_after_ms     after retry_after_ms                  BUSY
 *   SHUTTING_DOWN             after a backoff, node avoided         SHUTTING_DOWN
 *   connect failed, conn lost after a backoff, node avoided         UNAVAILABLE
 *   no reply in attempt time  after a backoff                       TIMEOUT
 *   any other status          none: the callback gets it            -
 *
 * A retry reuses the payload as it is, so a command keeps its idempotency
 * key (DESIGN guarantee 4). A call gives up when attempts_max attempts
 * failed or when its next attempt would start past its deadline; its
 * callback then gets last_status (TIMEOUT when the deadline caught an
 * attempt in flight).
 */
#include "usher_int.h"

#include <string.h>

#include "assertion.h"
#include "mem.h"

/* Allowed moves of a call (STYLE.md 6.6); rows are from, columns are to. */
static const bool call_moves[CALL_DONE + 1][CALL_DONE + 1] = {
    [CALL_NEW] = { [CALL_WAITING] = true,
                   [CALL_SENT] = true,
                   [CALL_BACKOFF] = true,
                   [CALL_DONE] = true },
    [CALL_WAITING] = { [CALL_SENT] = true, [CALL_BACKOFF] = true, [CALL_DONE] = true },
    [CALL_SENT] = { [CALL_BACKOFF] = true, [CALL_DONE] = true },
    [CALL_BACKOFF] = { [CALL_WAITING] = true,
                       [CALL_SENT] = true,
                       [CALL_BACKOFF] = true,
                       [CALL_DONE] = true },
};

static void move(struct usher_call *call, uint8_t to)
{
    ASSERT(call->state >= CALL_NEW && call->state <= CALL_DONE);
    ASSERT(call_moves[call->state][to]);
    call->state = to;
}

static bool is_attached(const struct usher_call *call)
{
    return call->state == CALL_WAITING || call->state == CALL_SENT;
}

struct usher_call *usher_call_create(struct usher_client *c, uint8_t op, size_t payload_len,
                                     int *rc)
{
    if (c->closing) {
        *rc = USHER_CANCELLED;
        return NULL;
    }
    if (c->free_count == 0) {
        *rc = USHER_BUSY;
        return NULL;
    }
    struct usher_call *call = mem_alloc(sizeof(*call) + payload_len);
    if (call == NULL) {
        *rc = USHER_NOMEM;
        return NULL;
    }
    memset(call, 0, sizeof(*call));
    call->client = c;
    call->node = ROUTE_NONE;
    call->prefer = ROUTE_NONE;
    call->heap_idx = HEAP_NONE;
    call->state = CALL_NEW;
    call->header.version = PROTO_VERSION;
    call->header.op = op;
    call->payload_len = payload_len;
    c->free_count--;
    call->slot = c->free_slots[c->free_count];
    ASSERT(c->slots[call->slot] == NULL);
    c->slots[call->slot] = call;
    *rc = 0;
    return call;
}

static void slot_release(struct usher_call *call)
{
    struct usher_client *c = call->client;
    ASSERT(c->slots[call->slot] == call);
    c->slots[call->slot] = NULL;
    ASSERT(c->free_count < c->inflight_max);
    c->free_slots[c->free_count] = call->slot;
    c->free_count++;
}

void usher_call_abort(struct usher_call *call)
{
    ASSERT(call->state == CALL_NEW);
    slot_release(call);
    mem_free(call);
}

/* Sets the call's next wake (never past its deadline) and re-arms the timer. */
static void schedule(struct usher_call *call, uint64_t wake_ms)
{
    struct usher_client *c = call->client;
    usher_heap_remove(&c->heap, call);
    call->wake_ms = wake_ms < call->deadline_ms ? wake_ms : call->deadline_ms;
    usher_heap_push(&c->heap, call);
    usher_client_timer_arm(c);
}

static void detach(struct usher_call *call)
{
    if (is_attached(call)) {
        usher_node_detach(call->client->nodes[call->node], call);
    }
}

static void call_retry(struct usher_call *call, int status, uint32_t after_ms, bool hinted)
{
    struct usher_client *c = call->client;
    detach(call);
    call->last_status = status;
    uint64_t now = uv_now(c->loop);
    uint32_t wait = after_ms;
    if (!hinted) {
        uint32_t retry = call->attempts > 0 ? call->attempts - 1u : 0;
        wait = usher_key_backoff_ms(c->backoff_base_ms, c->backoff_max_ms, retry,
                                    usher_key_rand(&c->rng));
    }
    /* An internal status refresh is tried once: the next connection makes
     * another one. */
    call->give_up =
        call->internal || call->attempts >= c->attempts_max || now + wait >= call->deadline_ms;
    move(call, CALL_BACKOFF);
    schedule(call, call->give_up ? now : now + wait);
}

static void call_finish(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_client *c = call->client;
    detach(call);
    usher_heap_remove(&c->heap, call);
    move(call, CALL_DONE);
    slot_release(call);
    usher_result_deliver(call, status, payload, len);
    mem_free(call);
}

/* Ends a call that got no answer to deliver (gave up, cancelled). */
static void call_fail(struct usher_call *call, int status)
{
    if (!call->internal) {
        usher_client_errmsg_set(call->client, "%s", err_message(status));
    }
    call_finish(call, status, NULL, 0);
}

static void call_send(struct usher_call *call, struct usher_node *n)
{
    struct usher_client *c = call->client;
    c->seq++;
    call->header.request_id = (c->seq << CLIENT_SLOT_BITS) | call->slot;
    int rc = usher_node_write(n, &call->header, call->payload, call->payload_len);
    if (rc != 0) {
        call_retry(call, rc, 0, false);
        return;
    }
    if (!is_attached(call)) {
        usher_node_attach(n, call); /* a WAITING call is on the node's list already */
    }
    move(call, CALL_SENT);
    schedule(call, uv_now(c->loop) + c->attempt_timeout_ms);
}

static void call_attempt(struct usher_call *call)
{
    struct usher_client *c = call->client;
    uint64_t now = uv_now(c->loop);
    uint32_t peer = call->prefer;
    if (peer == ROUTE_NONE) {
        /* A follower read starts anywhere (spreading reads over replicas);
         * a replica too far behind answers NOT_LEADER with the leader. */
        bool anywhere = call->any_replica && call->attempts == 0;
        peer = usher_route_pick(&c->route, anywhere ? 0 : call->event_id, now);
    }
    if (!call->fixed) {
        call->prefer = ROUTE_NONE;
    }
    call->attempts++;
    call->node = peer;
    struct usher_node *n = usher_node_get(c, peer);
    if (n == NULL) {
        call_retry(call, USHER_NOMEM, 0, false);
        return;
    }
    int rc = usher_node_connect(n);
    if (rc != 0) {
        usher_route_peer_failed(&c->route, peer, now, c->backoff_max_ms);
        call_retry(call, rc, 0, false);
        return;
    }
    if (n->state == NODE_OPEN) {
        call_send(call, n);
        return;
    }
    usher_node_attach(n, call);
    move(call, CALL_WAITING);
    schedule(call, now + c->connect_timeout_ms);
}

/* The ops a caller may send to a node of its choice. */
static bool op_takes_node(uint8_t op)
{
    return op == PROTO_OP_STATUS || op == PROTO_OP_PING || op == PROTO_OP_EVENT_LIST;
}

/* Ops whose request may carry max_stale_ms (proto.h "proto_read"). */
static bool op_is_read(uint8_t op)
{
    return op == PROTO_OP_EVENT_GET || op == PROTO_OP_AVAILABILITY || op == PROTO_OP_HOLD_GET ||
           op == PROTO_OP_BOOKING_GET || op == PROTO_OP_CUSTOMER_LIST ||
           op == PROTO_OP_SEAT_HISTORY;
}

int usher_call_start(struct usher_call *call, const struct usher_call_opts *opts)
{
    struct usher_client *c = call->client;
    ASSERT(call->state == CALL_NEW);
    uint32_t timeout = c->call_timeout_ms;
    bool has_trace = false;
    if (opts != NULL) {
        if (opts->timeout_ms > CLIENT_TIMEOUT_CEILING_MS) {
            usher_call_abort(call);
            return USHER_INVALID;
        }
        timeout = opts->timeout_ms != 0 ? opts->timeout_ms : timeout;
        for (uint32_t i = 0; i < PROTO_TRACE_ID_BYTES; i++) {
            has_trace = has_trace || opts->trace_id[i] != 0;
        }
        if (has_trace) {
            memcpy(call->header.trace_id, opts->trace_id, PROTO_TRACE_ID_BYTES);
        }
        call->any_replica = opts->max_stale_ms != 0 && op_is_read(call->header.op);
        /* Node ops stay on the node asked; a read only starts there (it
         * answers, or names the leader and the call follows as usual). */
        if (opts->node != NULL && (op_takes_node(call->header.op) || op_is_read(call->header.op))) {
            int rc = usher_route_peer_add(&c->route, opts->node, &call->prefer);
            if (rc != 0) {
                usher_call_abort(call);
                return rc;
            }
            call->fixed = op_takes_node(call->header.op);
        }
    }
    if (!has_trace) {
        usher_key_trace_id(&c->rng, call->header.trace_id);
    }
    call->deadline_ms = usher_client_now(c) + timeout;
    call_attempt(call);
    return 0;
}

/* A NOT_LEADER reply: follow the leader's address when it names one. */
static void on_not_leader(struct usher_call *call, const struct proto_error *e)
{
    struct usher_client *c = call->client;
    usher_route_leader_forget(&c->route, call->event_id);
    uint32_t hint = ROUTE_NONE;
    if (e->text[0] != '\0' && usher_route_peer_add(&c->route, e->text, &hint) != 0) {
        hint = ROUTE_NONE; /* not an address, or no room: ask around instead */
    }
    /* A hint naming a node that just failed us (a leader that stopped
     * answering, which the others have not noticed yet) is not followed at
     * once: back off and ask around until an election names another. */
    if (hint != ROUTE_NONE && hint != call->node &&
        !usher_route_is_avoided(&c->route, hint, uv_now(c->loop))) {
        usher_route_leader_set(&c->route, call->event_id, hint);
        call->prefer = hint;
        call_retry(call, USHER_NOT_LEADER, 0, true);
        return;
    }
    call_retry(call, USHER_NOT_LEADER, 0, false);
}

/* A final error reply: keep the node's message, if any. */
static void on_error(struct usher_call *call, const struct proto_error *e)
{
    struct usher_client *c = call->client;
    if (!call->internal) {
        if (e->text[0] != '\0') {
            usher_client_errmsg_set(c, "%s: %s", err_message(e->status), e->text);
        } else {
            usher_client_errmsg_set(c, "%s", err_message(e->status));
        }
    }
    call_finish(call, e->status, NULL, 0);
}

void usher_call_reply(struct usher_call *call, const struct proto_header *h, const uint8_t *payload,
                      size_t len)
{
    struct usher_client *c = call->client;
    uint32_t peer = call->node;
    ASSERT(call->state == CALL_SENT);
    if (h->status == USHER_OK) {
        usher_route_peer_ok(&c->route, peer);
        call->reply_flags = h->flags;
        call_finish(call, 0, payload, len);
        return;
    }
    struct proto_error e;
    if (codec_reply_error_decode(h->status, payload, len, &e) != 0) {
        /* A node that cannot say why it failed: take the status alone. */
        memset(&e, 0, sizeof(e));
        e.status = h->status;
    }
    switch (h->status) {
    case USHER_NOT_LEADER:
        on_not_leader(call, &e);
        return;
    case USHER_WRONG_SHARD:
        /* The cluster's shape is not what we learnt: learn it again. */
        usher_route_leader_forget(&c->route, call->event_id);
        usher_call_refresh(c, peer);
        call_retry(call, USHER_WRONG_SHARD, 0, false);
        return;
    case USHER_BUSY:
        call_retry(call, USHER_BUSY, e.retry_after_ms, e.retry_after_ms > 0);
        return;
    case USHER_SHUTTING_DOWN:
        usher_route_peer_failed(&c->route, peer, uv_now(c->loop), c->backoff_max_ms);
        call_retry(call, USHER_SHUTTING_DOWN, 0, false);
        return;
    default:
        on_error(call, &e);
        return;
    }
}

struct usher_call *usher_call_find(struct usher_client *c, uint64_t request_id, uint32_t peer)
{
    uint64_t slot = request_id & CLIENT_SLOT_MASK;
    if (slot >= c->inflight_max) {
        return NULL;
    }
    struct usher_call *call = c->slots[slot];
    if (call == NULL || call->state != CALL_SENT || call->header.request_id != request_id ||
        call->node != peer) {
        return NULL;
    }
    return call;
}

void usher_call_node_up(struct usher_client *c, uint32_t peer)
{
    struct usher_node *n = c->nodes[peer];
    usher_call_refresh(c, peer);
    /* A waiting call stays in its place on the list when sent; one that
     * cannot be sent leaves the list, after `next` was read. */
    struct usher_call *call = n->calls;
    while (call != NULL && n->state == NODE_OPEN) {
        struct usher_call *next = call->next;
        if (call->state == CALL_WAITING) {
            call_send(call, n);
        }
        call = next;
    }
}

void usher_call_node_down(struct usher_client *c, uint32_t peer, int status)
{
    struct usher_node *n = c->nodes[peer];
    /* Each retry detaches its call, so the list shrinks to empty. */
    while (n->calls != NULL) {
        call_retry(n->calls, status, 0, false);
    }
}

static void call_wake(struct usher_call *call, uint64_t now)
{
    struct usher_client *c = call->client;
    switch ((enum call_state)call->state) {
    case CALL_BACKOFF:
        if (call->give_up || now >= call->deadline_ms) {
            call_fail(call, call->last_status != 0 ? call->last_status : USHER_TIMEOUT);
            return;
        }
        call_attempt(call);
        return;
    case CALL_WAITING:
        /* Not connected within the connect timeout: the node failed, and
         * every call waiting for it is retried. A node still closing its
         * last socket has no attempt to fail: retry this call alone. */
        if (c->nodes[call->node]->state == NODE_CONNECTING) {
            usher_node_fail(c->nodes[call->node], USHER_UNAVAILABLE);
        } else {
            call_retry(call, USHER_UNAVAILABLE, 0, false);
        }
        return;
    case CALL_SENT:
        /* No answer in time: the node may be frozen or cut off (a paused
         * leader). Avoid it for a while and forget it as a leader, so the
         * retry asks another node instead of waiting on it again. */
        usher_route_peer_failed(&c->route, call->node, now, c->backoff_max_ms);
        call_retry(call, USHER_TIMEOUT, 0, false);
        return;
    case CALL_NEW:
    case CALL_DONE:
        break;
    }
    UNREACHABLE();
}

void usher_call_wake_due(struct usher_client *c)
{
    uint64_t now = uv_now(c->loop);
    /* A call rescheduled for `now` runs again at most this often in one
     * turn; the rest wait for the timer's next turn. */
    uint32_t budget = c->heap.count;
    for (uint32_t i = 0; i < budget && !c->closing; i++) {
        struct usher_call *call = usher_heap_top(&c->heap);
        if (call == NULL || call->wake_ms > now) {
            return;
        }
        usher_heap_remove(&c->heap, call);
        call_wake(call, now);
    }
}

void usher_call_cancel_all(struct usher_client *c)
{
    for (uint32_t slot = 0; slot < c->inflight_max; slot++) {
        struct usher_call *call = c->slots[slot];
        if (call != NULL) {
            call_fail(call, USHER_CANCELLED);
        }
    }
}

void usher_call_refresh(struct usher_client *c, uint32_t peer)
{
    int rc = 0;
    struct usher_call *call = usher_call_create(c, PROTO_OP_STATUS, 0, &rc);
    if (call == NULL) {
        return; /* busy or closing: the routes stay as they are, redirects still work */
    }
    call->internal = true;
    call->fixed = true;
    call->prefer = peer;
    rc = usher_call_start(call, NULL);
    ASSERT(rc == 0); /* no opts: nothing to refuse */
}
