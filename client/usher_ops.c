/*
 * The public operations (usher.h "Asynchronous operations"): each checks
 * its arguments, encodes its request payload once (the codec's encoders,
 * the same bytes on every retry) and starts a call.
 *
 *   commands   struct cmd -> codec_cmd_encode()       op COMMAND, routed by event
 *   reads      struct proto_read -> codec_frame_read_encode()   routed by event
 *   others     EVENT_LIST, STATUS, PING               any node, or opts->node
 */
#include "usher_int.h"

#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "mem.h"

/* Room for every command but an event create: the largest is a hold of
 * USHER_HOLD_SEATS_MAX seats (36 + 8 + 4 * 64 bytes). */
#define CMD_SMALL_BYTES 512u
static_assert(CODEC_CMD_HEADER_BYTES + 8u + 4u * USHER_HOLD_SEATS_MAX <= CMD_SMALL_BYTES,
              "a hold command fits the stack buffer");

/* Encodes cmd with this client's id and a key, and starts it. */
static int start_cmd(struct usher_client *c, const struct usher_call_opts *opts, struct cmd *cmd,
                     void *ctx, usher_cmd_cb cb)
{
    if (cb == NULL || cmd->event_id == 0) {
        return USHER_INVALID;
    }
    cmd->client_id = c->client_id;
    cmd->idem_key = opts != NULL && opts->idem_key != 0 ? opts->idem_key : usher_key_next(c);
    uint8_t small[CMD_SMALL_BYTES];
    uint8_t *buf = small;
    size_t cap = sizeof(small);
    if (cmd->type == CMD_EVENT_CREATE) {
        buf = mem_alloc(USHER_CMD_BYTES_MAX);
        cap = USHER_CMD_BYTES_MAX;
        if (buf == NULL) {
            return USHER_NOMEM;
        }
    }
    size_t len = 0;
    int rc = codec_cmd_encode(cmd, buf, cap, &len);
    struct usher_call *call = NULL;
    if (rc == 0) {
        call = usher_call_create(c, PROTO_OP_COMMAND, len, &rc);
    }
    if (call != NULL) {
        memcpy(call->payload, buf, len);
        call->event_id = cmd->event_id;
        call->idem_key = cmd->idem_key;
        call->cb.cmd = cb;
        call->ctx = ctx;
        rc = usher_call_start(call, opts);
    }
    if (buf != small) {
        mem_free(buf);
    }
    return rc;
}

static void cmd_init(struct cmd *cmd, uint8_t type, uint64_t event_id, uint64_t customer_id)
{
    memset(cmd, 0, sizeof(*cmd));
    cmd->type = type;
    cmd->event_id = event_id;
    cmd->customer_id = customer_id;
}

/* Starts a call with a ready payload (reads and the rest). */
static int start_raw(struct usher_client *c, const struct usher_call_opts *opts, uint8_t op,
                     uint64_t event_id, const uint8_t *payload, size_t len, union usher_call_cb cb,
                     void *ctx)
{
    int rc = 0;
    struct usher_call *call = usher_call_create(c, op, len, &rc);
    if (call == NULL) {
        return rc;
    }
    if (len > 0) {
        memcpy(call->payload, payload, len);
    }
    call->event_id = event_id;
    call->cb = cb;
    call->ctx = ctx;
    return usher_call_start(call, opts);
}

static int start_read(struct usher_client *c, const struct usher_call_opts *opts, uint8_t op,
                      uint64_t event_id, uint64_t arg, union usher_call_cb cb, void *ctx)
{
    struct proto_read r = { .event_id = event_id,
                            .arg = arg,
                            .max_stale_ms = opts != NULL ? opts->max_stale_ms : 0 };
    uint8_t buf[32];
    size_t len = 0;
    int rc = codec_frame_read_encode(op, &r, buf, sizeof(buf), &len);
    if (rc != 0) {
        return rc;
    }
    return start_raw(c, opts, op, event_id, buf, len, cb, ctx);
}

int usher_event_create(struct usher_client *c, const struct usher_call_opts *opts,
                       const struct usher_event_spec *spec, void *ctx, usher_cmd_cb cb)
{
    if (c == NULL || spec == NULL) {
        return USHER_INVALID;
    }
    struct event *e = NULL;
    int rc = usher_spec_to_event(spec, &e);
    if (rc != 0) {
        return rc;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_EVENT_CREATE, e->id, 0);
    cmd.u.create.event = e;
    rc = e->section_count == 0 ? USHER_INVALID : start_cmd(c, opts, &cmd, ctx, cb);
    event_destroy(e);
    return rc;
}

int usher_event_get(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                    void *ctx, usher_event_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .event = cb };
    return start_read(c, opts, PROTO_OP_EVENT_GET, event_id, 0, u, ctx);
}

int usher_event_list(struct usher_client *c, const struct usher_call_opts *opts, uint64_t after,
                     uint32_t max, void *ctx, usher_event_list_cb cb)
{
    if (c == NULL || cb == NULL || max == 0 || max > PROTO_EVENT_LIST_MAX) {
        return USHER_INVALID;
    }
    uint8_t buf[16];
    size_t len = 0;
    int rc = codec_frame_list_encode(after, max, buf, sizeof(buf), &len);
    if (rc != 0) {
        return rc;
    }
    union usher_call_cb u = { .event_list = cb };
    return start_raw(c, opts, PROTO_OP_EVENT_LIST, 0, buf, len, u, ctx);
}

int usher_availability(struct usher_client *c, const struct usher_call_opts *opts,
                       uint64_t event_id, void *ctx, usher_availability_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .availability = cb };
    return start_read(c, opts, PROTO_OP_AVAILABILITY, event_id, 0, u, ctx);
}

int usher_hold_seats(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                     uint64_t customer_id, const uint32_t *seats, uint16_t seat_count,
                     uint32_t ttl_ms, void *ctx, usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || seats == NULL || seat_count == 0) {
        return USHER_INVALID;
    }
    if (seat_count > USHER_HOLD_SEATS_MAX) {
        return USHER_LIMIT_HOLD_SEATS;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_HOLD_SEATS, event_id, customer_id);
    cmd.u.hold_seats.ttl_ms = ttl_ms;
    cmd.u.hold_seats.seat_count = seat_count;
    memcpy(cmd.u.hold_seats.seats, seats, sizeof(uint32_t) * seat_count);
    return start_cmd(c, opts, &cmd, ctx, cb);
}

static int hold_count(struct usher_client *c, const struct usher_call_opts *opts, uint8_t type,
                      uint64_t event_id, uint64_t customer_id, uint16_t section, uint16_t count,
                      uint32_t ttl_ms, void *ctx, usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || count == 0) {
        return USHER_INVALID;
    }
    if (count > USHER_HOLD_SEATS_MAX) {
        return USHER_LIMIT_HOLD_SEATS;
    }
    struct cmd cmd;
    cmd_init(&cmd, type, event_id, customer_id);
    cmd.u.hold_count.ttl_ms = ttl_ms;
    cmd.u.hold_count.section = section;
    cmd.u.hold_count.count = count;
    return start_cmd(c, opts, &cmd, ctx, cb);
}

int usher_hold_best(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                    uint64_t customer_id, uint16_t section, uint16_t count, uint32_t ttl_ms,
                    void *ctx, usher_cmd_cb cb)
{
    return hold_count(c, opts, CMD_HOLD_BEST, event_id, customer_id, section, count, ttl_ms, ctx,
                      cb);
}

int usher_hold_ga(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                  uint64_t customer_id, uint16_t section, uint16_t count, uint32_t ttl_ms,
                  void *ctx, usher_cmd_cb cb)
{
    return hold_count(c, opts, CMD_HOLD_GA, event_id, customer_id, section, count, ttl_ms, ctx, cb);
}

int usher_hold_extend(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                      uint64_t customer_id, uint64_t hold_id, uint32_t ttl_ms, void *ctx,
                      usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || hold_id == 0) {
        return USHER_INVALID;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_HOLD_EXTEND, event_id, customer_id);
    cmd.u.extend.hold_id = hold_id;
    cmd.u.extend.ttl_ms = ttl_ms;
    return start_cmd(c, opts, &cmd, ctx, cb);
}

int usher_hold_release(struct usher_client *c, const struct usher_call_opts *opts,
                       uint64_t event_id, uint64_t customer_id, uint64_t hold_id, void *ctx,
                       usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || hold_id == 0) {
        return USHER_INVALID;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_HOLD_RELEASE, event_id, customer_id);
    cmd.u.release.hold_id = hold_id;
    return start_cmd(c, opts, &cmd, ctx, cb);
}

int usher_hold_book(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                    uint64_t customer_id, uint64_t hold_id, const char *payment_ref, void *ctx,
                    usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || hold_id == 0) {
        return USHER_INVALID;
    }
    size_t ref_len = payment_ref == NULL ? 0 : strnlen(payment_ref, USHER_PAYMENT_REF_LEN_MAX + 1u);
    if (ref_len > USHER_PAYMENT_REF_LEN_MAX) {
        return USHER_LIMIT_PAYMENT_REF;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_HOLD_BOOK, event_id, customer_id);
    cmd.u.book.hold_id = hold_id;
    if (ref_len > 0) {
        memcpy(cmd.u.book.payment_ref, payment_ref, ref_len);
    }
    return start_cmd(c, opts, &cmd, ctx, cb);
}

int usher_booking_cancel(struct usher_client *c, const struct usher_call_opts *opts,
                         uint64_t event_id, uint64_t customer_id, uint64_t booking_id, void *ctx,
                         usher_cmd_cb cb)
{
    if (c == NULL || customer_id == 0 || booking_id == 0) {
        return USHER_INVALID;
    }
    struct cmd cmd;
    cmd_init(&cmd, CMD_BOOKING_CANCEL, event_id, customer_id);
    cmd.u.cancel.booking_id = booking_id;
    return start_cmd(c, opts, &cmd, ctx, cb);
}

int usher_hold_get(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                   uint64_t hold_id, void *ctx, usher_hold_info_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .hold = cb };
    return start_read(c, opts, PROTO_OP_HOLD_GET, event_id, hold_id, u, ctx);
}

int usher_booking_get(struct usher_client *c, const struct usher_call_opts *opts, uint64_t event_id,
                      uint64_t booking_id, void *ctx, usher_booking_info_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .booking = cb };
    return start_read(c, opts, PROTO_OP_BOOKING_GET, event_id, booking_id, u, ctx);
}

int usher_customer_list(struct usher_client *c, const struct usher_call_opts *opts,
                        uint64_t event_id, uint64_t customer_id, void *ctx, usher_customer_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .customer = cb };
    return start_read(c, opts, PROTO_OP_CUSTOMER_LIST, event_id, customer_id, u, ctx);
}

int usher_seat_history(struct usher_client *c, const struct usher_call_opts *opts,
                       uint64_t event_id, uint32_t seat_index, void *ctx, usher_history_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .history = cb };
    return start_read(c, opts, PROTO_OP_SEAT_HISTORY, event_id, seat_index, u, ctx);
}

int usher_node_status(struct usher_client *c, const struct usher_call_opts *opts, void *ctx,
                      usher_status_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .status = cb };
    return start_raw(c, opts, PROTO_OP_STATUS, 0, NULL, 0, u, ctx);
}

int usher_ping(struct usher_client *c, const struct usher_call_opts *opts, void *ctx,
               usher_done_cb cb)
{
    if (c == NULL || cb == NULL) {
        return USHER_INVALID;
    }
    union usher_call_cb u = { .done = cb };
    return start_raw(c, opts, PROTO_OP_PING, 0, NULL, 0, u, ctx);
}

bool usher_seat_is_free(const struct usher_availability *a, uint32_t seat_index)
{
    if (seat_index >= a->seat_count || seat_index >= USHER_EVENT_SEATS_MAX) {
        return false;
    }
    uint32_t byte = a->free_bitmap[seat_index / 8u];
    return ((byte >> (seat_index % 8u)) & 1u) != 0;
}
