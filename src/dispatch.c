/*
 * Request routing (see dispatch.h).
 *
 *   COMMAND        decode (validates; sweeps are internal) -> shard of the
 *                  event -> store-full admission -> answered on the leader
 *                  under its lease (a refusal, a replay) or group_submit ->
 *                  result
 *   reads          parse -> shard -> leased leader: inv read at once;
 *                  otherwise group_read (leader confirmed) -> inv read
 *   EVENT_LIST     every local shard, merged in id order
 *   STATUS, PING   answered on the spot
 */
#include "dispatch.h"

#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "codec.h"
#include "conn.h"
#include "group.h"
#include "inv.h"
#include "mem.h"
#include "node.h"
#include "shard.h"

#define USHERD_VERSION "0.1.0"

/* Room for the largest reply payload. */
#define REPLY_BYTES_MAX (USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES - PROTO_HEADER_BYTES)

static struct node *node_of(const struct conn_request *req)
{
    return req->conn->node;
}

static void reply_buffer(struct conn_request *req, int rc, uint8_t *buf, size_t len)
{
    if (rc != 0) {
        conn_reply_error(req, rc, err_message(rc));
    } else {
        conn_reply(req, 0, buf, len);
    }
    mem_free(buf);
}

/* A request the shard's group did not take (or lost): NOT_LEADER names the
 * leader's client address when this node knows it, so the client goes
 * there at once (docs/PROTOCOL.md). */
static void reply_refused(struct conn_request *req, int status)
{
    char hint[PROTO_ADDR_LEN_MAX + 1] = "";
    if (status == USHER_NOT_LEADER) {
        node_leader_hint(node_of(req), req->shard, hint, sizeof(hint));
    }
    conn_reply_error(req, status, hint);
}

static void reply_result(struct conn_request *req, const struct cmd_result *result)
{
    node_command_outcome(node_of(req), result->status);
    uint8_t bytes[USHER_RESULT_BYTES_MAX];
    size_t len = 0;
    int rc = codec_result_encode(result, bytes, sizeof(bytes), &len);
    ASSERT(rc == 0); /* USHER_RESULT_BYTES_MAX holds the largest result */
    conn_reply(req, 0, bytes, len);
}

static void on_command_done(void *ctx, int status, const struct cmd_result *result)
{
    struct conn_request *req = ctx;
    if (status != 0 || result == NULL) {
        reply_refused(req, status != 0 ? status : USHER_NOT_LEADER);
        return;
    }
    reply_result(req, result);
}

static void serve_command(struct conn_request *req, const uint8_t *payload, size_t len)
{
    struct node *n = node_of(req);
    struct cmd cmd;
    int rc = codec_cmd_decode(payload, len, &cmd);
    if (rc != 0) {
        conn_reply_error(req, rc, "command does not decode");
        return;
    }
    req->event_id = cmd.event_id;
    if (cmd.type == CMD_SWEEP) {
        codec_cmd_release(&cmd);
        conn_reply_error(req, USHER_BAD_REQUEST, "sweeps are proposed by the leader only");
        return;
    }
    req->shard = shard_of_event(req->event_id, n->opts.shard_count);
    struct group *g = node_group(n, req->shard);
    if (inv_store_is_full(group_inv(g))) {
        codec_cmd_release(&cmd);
        conn_reply_error(req, USHER_LIMIT_STORE_FULL, "shard store is full");
        return;
    }
    n->counters.commands++;
    uint64_t key = cmd_is_keyed(cmd.type) ? group_key(cmd.client_id, cmd.idem_key) : 0;
    struct cmd_result res;
    bool answered = false;
    rc = group_answer_local(g, &cmd, key, &res, &answered);
    codec_cmd_release(&cmd);
    if (rc != 0) {
        conn_reply_error(req, rc, "shard store could not be read");
        return;
    }
    if (answered) {
        n->counters.local_answers++;
        reply_result(req, &res);
        return;
    }
    rc = group_submit(g, payload, len, key, on_command_done, req);
    if (rc != 0) {
        reply_refused(req, rc);
    }
}

/* Runs a read op against the shard's store into buf. */
static int read_into(struct conn_request *req, struct inv *inv, uint8_t *buf, size_t *len)
{
    switch ((enum proto_op)req->op) {
    case PROTO_OP_EVENT_GET: {
        struct event *e = NULL;
        int rc = inv_event_get(inv, req->event_id, &e);
        if (rc == 0) {
            rc = codec_event_encode(e, buf, REPLY_BYTES_MAX, len);
            event_destroy(e);
        }
        return rc;
    }
    case PROTO_OP_AVAILABILITY: {
        struct inv_availability *a = mem_alloc(sizeof(*a));
        int rc = a == NULL ? USHER_NOMEM : inv_availability(inv, req->event_id, a);
        if (rc == 0) {
            rc = codec_reply_availability_encode(a, buf, REPLY_BYTES_MAX, len);
        }
        mem_free(a);
        return rc;
    }
    case PROTO_OP_HOLD_GET: {
        struct inv_hold h;
        int rc = inv_hold_get(inv, req->arg, &h);
        if (rc == 0 && h.event_id != req->event_id) {
            rc = USHER_HOLD_NOT_FOUND;
        }
        return rc != 0 ? rc : codec_reply_hold_encode(&h, buf, REPLY_BYTES_MAX, len);
    }
    case PROTO_OP_BOOKING_GET: {
        struct inv_booking b;
        int rc = inv_booking_get(inv, req->arg, &b);
        if (rc == 0 && b.event_id != req->event_id) {
            rc = USHER_BOOKING_NOT_FOUND;
        }
        return rc != 0 ? rc : codec_reply_booking_encode(&b, buf, REPLY_BYTES_MAX, len);
    }
    case PROTO_OP_CUSTOMER_LIST: {
        struct inv_customer_items *items = mem_alloc(sizeof(*items));
        int rc =
            items == NULL ? USHER_NOMEM : inv_customer_list(inv, req->event_id, req->arg, items);
        if (rc == 0) {
            rc = codec_reply_customer_encode(items, buf, REPLY_BYTES_MAX, len);
        }
        mem_free(items);
        return rc;
    }
    case PROTO_OP_SEAT_HISTORY: {
        struct inv_seat_history *hist = mem_alloc(sizeof(*hist));
        int rc = hist == NULL ? USHER_NOMEM
                              : inv_seat_history(inv, req->event_id, (uint32_t)req->arg, hist);
        if (rc == 0) {
            rc = codec_reply_history_encode(hist, buf, REPLY_BYTES_MAX, len);
        }
        mem_free(hist);
        return rc;
    }
    case PROTO_OP_NONE:
    case PROTO_OP_COMMAND:
    case PROTO_OP_EVENT_LIST:
    case PROTO_OP_STATUS:
    case PROTO_OP_PING:
        break;
    }
    UNREACHABLE();
}

static void on_read_ready(void *ctx, int status)
{
    struct conn_request *req = ctx;
    if (status != 0) {
        reply_refused(req, status);
        return;
    }
    uint8_t *buf = mem_alloc(REPLY_BYTES_MAX);
    if (buf == NULL) {
        conn_reply_error(req, USHER_BUSY, NULL);
        return;
    }
    size_t len = 0;
    struct inv *inv = group_inv(node_group(node_of(req), req->shard));
    int rc = read_into(req, inv, buf, &len); /* before len is passed on */
    reply_buffer(req, rc, buf, len);
}

static void serve_read(struct conn_request *req, const uint8_t *payload, size_t len)
{
    struct node *n = node_of(req);
    struct proto_read r;
    if (codec_frame_read_decode(req->op, payload, len, &r) != 0) {
        conn_reply_error(req, USHER_BAD_REQUEST, "read payload does not decode");
        return;
    }
    req->event_id = r.event_id;
    req->arg = r.arg;
    req->shard = shard_of_event(req->event_id, n->opts.shard_count);
    n->counters.reads++;
    struct group *g = node_group(n, req->shard);
    if (r.max_stale_ms != 0 && group_may_read_stale(g, r.max_stale_ms)) {
        n->counters.stale_reads++;
        on_read_ready(req, 0); /* from this replica's store, as it is */
        return;
    }
    if (group_leased(g)) {
        n->counters.leased_reads++;
        on_read_ready(req, 0); /* the store is the current state (group.h) */
        return;
    }
    int rc = group_read(g, on_read_ready, req);
    if (rc != 0) {
        reply_refused(req, rc);
    }
}

/* Lists event ids of every local shard above `after`, merged ascending. Read
 * from the local stores: a listing is a hint for search, not a decision. */
/* Inserts id into the ascending ids[0..count), keeping at most max of the
 * smallest; returns the new count. */
static uint32_t merge_keep_smallest(uint64_t *ids, uint32_t count, uint32_t max, uint64_t id)
{
    uint32_t at = count;
    while (at > 0 && ids[at - 1] > id) {
        at--;
    }
    if (at >= max) {
        return count;
    }
    uint32_t keep = count < max ? count : max - 1;
    memmove(&ids[at + 1], &ids[at], sizeof(uint64_t) * (keep - at));
    ids[at] = id;
    return keep + 1;
}

/* Lists event ids of every local shard above `after`, merged ascending. Read
 * from the local stores: a listing is a hint for search, not a decision. */
static void serve_event_list(struct conn_request *req, const uint8_t *payload, size_t len)
{
    struct node *n = node_of(req);
    uint64_t after = 0;
    uint32_t max = 0;
    if (codec_frame_list_decode(payload, len, &after, &max) != 0) {
        conn_reply_error(req, USHER_BAD_REQUEST, "event list payload does not decode");
        return;
    }
    max = max > PROTO_EVENT_LIST_MAX ? PROTO_EVENT_LIST_MAX : max;
    uint64_t *ids = mem_alloc(sizeof(uint64_t) * max);
    uint64_t *part = mem_alloc(sizeof(uint64_t) * max);
    uint8_t *out = mem_alloc(REPLY_BYTES_MAX);
    int rc = ids == NULL || part == NULL || out == NULL ? USHER_NOMEM : 0;
    uint32_t count = 0;
    for (uint32_t s = 0; rc == 0 && s < n->opts.shard_count; s++) {
        uint32_t got = 0;
        rc = inv_event_list(group_inv(node_group(n, s)), after, part, max, &got);
        for (uint32_t i = 0; rc == 0 && i < got; i++) {
            count = merge_keep_smallest(ids, count, max, part[i]);
        }
    }
    size_t out_len = 0;
    if (rc == 0) {
        rc = codec_reply_event_list_encode(ids, count, out, REPLY_BYTES_MAX, &out_len);
    }
    mem_free(ids);
    mem_free(part);
    reply_buffer(req, rc, out, out_len);
}

static void serve_status(struct conn_request *req)
{
    struct node *n = node_of(req);
    struct proto_node_status *st = mem_calloc(1, sizeof(*st));
    uint8_t *buf = mem_alloc(REPLY_BYTES_MAX);
    int rc = st == NULL || buf == NULL ? USHER_NOMEM : 0;
    size_t len = 0;
    if (rc == 0) {
        st->node_id = n->opts.node_id;
        st->cluster_id = n->cluster_id;
        st->shard_count = n->opts.shard_count;
        st->listed = n->opts.shard_count;
        (void)snprintf(st->version, sizeof(st->version), "%s", USHERD_VERSION);
        for (uint32_t s = 0; s < n->opts.shard_count; s++) {
            group_status(node_group(n, s), &st->shards[s]);
        }
        rc = codec_reply_status_encode(st, buf, REPLY_BYTES_MAX, &len);
    }
    mem_free(st);
    reply_buffer(req, rc, buf, len);
}

void dispatch_frame(struct conn *c, const struct proto_header *h, const uint8_t *payload,
                    size_t len)
{
    struct node *n = c->node;
    struct conn_request *req = mem_calloc(1, sizeof(*req));
    if (req == NULL) {
        conn_close(c);
        return;
    }
    req->conn = c;
    req->request_id = h->request_id;
    req->start_ns = uv_hrtime();
    req->op = h->op;
    memcpy(req->trace_id, h->trace_id, PROTO_TRACE_ID_BYTES);
    c->inflight++;
    c->refs++;
    if (c->inflight > n->opts.inflight_per_conn_max || n->state != NODE_RUNNING) {
        conn_reply_error(req, n->state == NODE_RUNNING ? USHER_BUSY : USHER_SHUTTING_DOWN, NULL);
        return;
    }
    switch ((enum proto_op)h->op) {
    case PROTO_OP_PING:
        conn_reply(req, 0, NULL, 0);
        return;
    case PROTO_OP_STATUS:
        serve_status(req);
        return;
    case PROTO_OP_COMMAND:
        serve_command(req, payload, len);
        return;
    case PROTO_OP_EVENT_LIST:
        serve_event_list(req, payload, len);
        return;
    case PROTO_OP_EVENT_GET:
    case PROTO_OP_AVAILABILITY:
    case PROTO_OP_HOLD_GET:
    case PROTO_OP_BOOKING_GET:
    case PROTO_OP_CUSTOMER_LIST:
    case PROTO_OP_SEAT_HISTORY:
        serve_read(req, payload, len);
        return;
    case PROTO_OP_NONE:
        break;
    }
    conn_reply_error(req, USHER_BAD_REQUEST, "unknown op");
}
