/*
 * Replies turned into the public result structs, and the user callback run
 * with them. The wire formats are decoded by the codec (codec_reply.c,
 * codec_result.c, codec_event.c); here the decoded structs of the server's
 * side (inv.h, proto.h) are copied field by field into usher.h's, so the
 * public header never changes with an internal struct.
 *
 * The large results (availability, customer items, seat history, node
 * status) are decoded into heap memory, freed after the callback.
 */
#include "usher_int.h"

#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "mem.h"

/* A reply that does not decode is the node's fault; the call fails with
 * the decoder's code and says so. */
static int decode_failed(struct usher_call *call, int rc)
{
    usher_client_errmsg_set(call->client, "reply to op %u does not decode: %s",
                            (unsigned)call->header.op, err_message(rc));
    return rc;
}

static void deliver_cmd(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_cmd_result r;
    memset(&r, 0, sizeof(r));
    r.idem_key = call->idem_key;
    if (status == 0) {
        struct cmd_result res;
        int rc = codec_result_decode(payload, len, &res);
        if (rc != 0) {
            status = decode_failed(call, rc);
        } else {
            status = res.status;
            r.id = res.id;
            r.expires_at_ms = res.expires_at_ms;
            r.replayed = res.replayed != 0; /* the result carries it (docs/CODEC.md) */
            r.ga = res.type == CMD_HOLD_GA;
            r.seat_count = res.seat_count;
            if (!r.ga) {
                memcpy(r.seats, res.seats, sizeof(uint32_t) * res.seat_count);
            }
            if (status != 0) {
                usher_client_errmsg_set(call->client, "%s", err_message(status));
            }
        }
    }
    call->cb.cmd(call->ctx, status, &r);
}

static void deliver_event(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_event_spec *spec = NULL;
    if (status == 0) {
        struct event *e = NULL;
        int rc = codec_event_decode(payload, len, &e);
        if (rc == 0) {
            rc = usher_spec_from_event(e, &spec);
            event_destroy(e);
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.event(call->ctx, status, spec);
    usher_event_spec_destroy(spec);
}

static void deliver_event_list(struct usher_call *call, int status, const uint8_t *payload,
                               size_t len)
{
    uint64_t *ids = NULL;
    uint32_t n = 0;
    if (status == 0) {
        ids = mem_alloc(sizeof(uint64_t) * PROTO_EVENT_LIST_MAX);
        int rc = ids == NULL
                     ? USHER_NOMEM
                     : codec_reply_event_list_decode(payload, len, ids, PROTO_EVENT_LIST_MAX, &n);
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.event_list(call->ctx, status, status == 0 ? ids : NULL, n);
    mem_free(ids);
}

static void availability_copy(const struct inv_availability *a, struct usher_availability *out)
{
    out->event_id = a->event_id;
    out->applied_index = a->applied_index;
    out->now_ms = a->now_ms;
    out->section_count = a->section_count;
    out->seat_count = a->seat_count;
    for (uint32_t i = 0; i < a->section_count; i++) {
        out->sections[i].free = a->sections[i].free;
        out->sections[i].held = a->sections[i].held;
        out->sections[i].booked = a->sections[i].booked;
        out->sections[i].capacity = a->sections[i].capacity;
    }
    static_assert(sizeof(out->free_bitmap) == sizeof(a->free_bitmap), "same bitmap");
    memcpy(out->free_bitmap, a->free_bitmap, sizeof(out->free_bitmap));
}

static void deliver_availability(struct usher_call *call, int status, const uint8_t *payload,
                                 size_t len)
{
    struct inv_availability *a = NULL;
    struct usher_availability *out = NULL;
    if (status == 0) {
        a = mem_alloc(sizeof(*a));
        out = mem_calloc(1, sizeof(*out));
        int rc = a == NULL || out == NULL ? USHER_NOMEM
                                          : codec_reply_availability_decode(payload, len, a);
        if (rc == 0) {
            availability_copy(a, out);
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.availability(call->ctx, status, status == 0 ? out : NULL);
    mem_free(a);
    mem_free(out);
}

static void hold_copy(const struct inv_hold *h, struct usher_hold_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = h->id;
    out->event_id = h->event_id;
    out->customer_id = h->customer_id;
    out->state = h->state;
    out->ga = h->ga != 0;
    out->section = h->section;
    out->seat_count = h->seat_count;
    out->created_at_ms = h->created_at_ms;
    out->expires_at_ms = h->expires_at_ms;
    out->ended_at_ms = h->ended_at_ms;
    out->booking_id = h->booking_id;
    memcpy(out->seats, h->seats, sizeof(out->seats));
}

static void deliver_hold(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_hold_info out;
    if (status == 0) {
        struct inv_hold h;
        int rc = codec_reply_hold_decode(payload, len, &h);
        if (rc == 0) {
            hold_copy(&h, &out);
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.hold(call->ctx, status, status == 0 ? &out : NULL);
}

static void booking_copy(const struct inv_booking *b, struct usher_booking_info *out)
{
    memset(out, 0, sizeof(*out));
    out->id = b->id;
    out->event_id = b->event_id;
    out->customer_id = b->customer_id;
    out->hold_id = b->hold_id;
    out->state = b->state;
    out->ga = b->ga != 0;
    out->section = b->section;
    out->seat_count = b->seat_count;
    out->booked_at_ms = b->booked_at_ms;
    out->cancelled_at_ms = b->cancelled_at_ms;
    static_assert(sizeof(out->payment_ref) == sizeof(b->payment_ref), "same reference size");
    memcpy(out->payment_ref, b->payment_ref, sizeof(out->payment_ref));
    memcpy(out->seats, b->seats, sizeof(out->seats));
}

static void deliver_booking(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_booking_info out;
    if (status == 0) {
        struct inv_booking b;
        int rc = codec_reply_booking_decode(payload, len, &b);
        if (rc == 0) {
            booking_copy(&b, &out);
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.booking(call->ctx, status, status == 0 ? &out : NULL);
}

static void deliver_customer(struct usher_call *call, int status, const uint8_t *payload,
                             size_t len)
{
    struct inv_customer_items *items = NULL;
    struct usher_customer_items *out = NULL;
    if (status == 0) {
        items = mem_alloc(sizeof(*items));
        out = mem_calloc(1, sizeof(*out));
        int rc = items == NULL || out == NULL ? USHER_NOMEM
                                              : codec_reply_customer_decode(payload, len, items);
        for (uint32_t i = 0; rc == 0 && i < items->count; i++) {
            out->items[i].is_booking = items->items[i].is_booking != 0;
            out->items[i].id = items->items[i].id;
            out->items[i].seat_count = items->items[i].seat_count;
            out->items[i].expires_at_ms = items->items[i].expires_at_ms;
        }
        if (rc == 0) {
            out->count = items->count;
            out->more = items->more != 0;
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.customer(call->ctx, status, status == 0 ? out : NULL);
    mem_free(items);
    mem_free(out);
}

static void deliver_history(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct inv_seat_history *hist = NULL;
    struct usher_seat_history *out = NULL;
    if (status == 0) {
        hist = mem_alloc(sizeof(*hist));
        out = mem_calloc(1, sizeof(*out));
        int rc = hist == NULL || out == NULL ? USHER_NOMEM
                                             : codec_reply_history_decode(payload, len, hist);
        for (uint32_t i = 0; rc == 0 && i < hist->count; i++) {
            out->entries[i].kind = hist->entries[i].kind;
            out->entries[i].at_ms = hist->entries[i].at_ms;
            out->entries[i].id = hist->entries[i].id;
            out->entries[i].customer_id = hist->entries[i].customer_id;
        }
        if (rc == 0) {
            out->count = hist->count;
            out->more = hist->more != 0;
        }
        status = rc != 0 ? decode_failed(call, rc) : 0;
    }
    call->cb.history(call->ctx, status, status == 0 ? out : NULL);
    mem_free(hist);
    mem_free(out);
}

static void status_copy(const struct usher_client *c, uint32_t peer,
                        const struct proto_node_status *s, struct usher_node_status *out)
{
    (void)snprintf(out->node, sizeof(out->node), "%s", c->route.peers[peer].addr);
    out->node_id = s->node_id;
    out->cluster_id = s->cluster_id;
    out->shard_count = s->shard_count;
    out->listed = s->listed;
    static_assert(sizeof(out->version) == sizeof(s->version), "same version size");
    memcpy(out->version, s->version, sizeof(out->version));
    out->version[sizeof(out->version) - 1] = '\0';
    for (uint32_t i = 0; i < s->listed && i < PROTO_STATUS_SHARDS_MAX; i++) {
        const struct proto_shard_status *sh = &s->shards[i];
        out->shards[i].shard = sh->shard;
        out->shards[i].role = sh->role;
        out->shards[i].term = sh->term;
        out->shards[i].commit_index = sh->commit_index;
        out->shards[i].applied_index = sh->applied_index;
        out->shards[i].leader_id = sh->leader_id;
        out->shards[i].events = sh->events;
    }
}

static void deliver_status(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    struct usher_client *c = call->client;
    struct proto_node_status *s = NULL;
    struct usher_node_status *out = NULL;
    if (status == 0) {
        s = mem_alloc(sizeof(*s));
        out = call->internal ? NULL : mem_calloc(1, sizeof(*out));
        int rc = s == NULL || (out == NULL && !call->internal)
                     ? USHER_NOMEM
                     : codec_reply_status_decode(payload, len, s);
        if (rc == 0) {
            usher_route_status_learn(&c->route, call->node, s);
            if (out != NULL) {
                status_copy(c, call->node, s, out);
            }
        }
        status = rc != 0 && !call->internal ? decode_failed(call, rc) : rc;
    }
    if (!call->internal) {
        call->cb.status(call->ctx, status, status == 0 ? out : NULL);
    }
    mem_free(s);
    mem_free(out);
}

void usher_result_deliver(struct usher_call *call, int status, const uint8_t *payload, size_t len)
{
    ASSERT(call->state == CALL_DONE);
    switch ((enum proto_op)call->header.op) {
    case PROTO_OP_COMMAND:
        deliver_cmd(call, status, payload, len);
        return;
    case PROTO_OP_EVENT_GET:
        deliver_event(call, status, payload, len);
        return;
    case PROTO_OP_EVENT_LIST:
        deliver_event_list(call, status, payload, len);
        return;
    case PROTO_OP_AVAILABILITY:
        deliver_availability(call, status, payload, len);
        return;
    case PROTO_OP_HOLD_GET:
        deliver_hold(call, status, payload, len);
        return;
    case PROTO_OP_BOOKING_GET:
        deliver_booking(call, status, payload, len);
        return;
    case PROTO_OP_CUSTOMER_LIST:
        deliver_customer(call, status, payload, len);
        return;
    case PROTO_OP_SEAT_HISTORY:
        deliver_history(call, status, payload, len);
        return;
    case PROTO_OP_STATUS:
        deliver_status(call, status, payload, len);
        return;
    case PROTO_OP_PING:
        call->cb.done(call->ctx, status == 0 && len != 0 ? USHER_BAD_REQUEST : status);
        return;
    case PROTO_OP_NONE:
        break;
    }
    UNREACHABLE();
}
