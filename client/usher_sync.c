/*
 * The blocking face (usher.h "Blocking operations"): each function starts
 * the asynchronous operation with a callback of its own that copies the
 * result into the caller's memory, then runs the client's private loop one
 * turn at a time until that callback has run. Same code path as the
 * asynchronous API; only the waiting differs.
 *
 * The loop cannot idle forever: while a call is in flight the client's
 * timer is armed for the call's next wake, and every call ends by its
 * deadline.
 */
#include "usher_int.h"

#include <string.h>

#include "assertion.h"

struct sync_wait {
    bool done;
    int status;
    void *out;    /* the caller's result struct, or NULL */
    uint32_t cap; /* event list: room in out */
    uint32_t *count;
};

/* Runs the private loop until the operation started with w ends. */
static int sync_run(struct usher_client *c, struct sync_wait *w, int start_rc)
{
    if (start_rc != 0) {
        return start_rc;
    }
    while (!w->done) {
        (void)uv_run(c->own_loop, UV_RUN_ONCE); /* returns after one turn */
    }
    return w->status;
}

static bool is_blocking(const struct usher_client *c)
{
    return c != NULL && c->own_loop != NULL && !c->closing;
}

static void on_cmd(void *ctx, int status, const struct usher_cmd_result *r)
{
    struct sync_wait *w = ctx;
    if (w->out != NULL) {
        memcpy(w->out, r, sizeof(*r));
    }
    w->status = status;
    w->done = true;
}

/* Commands: the result struct is written whatever the status. */
static void cmd_out_init(struct sync_wait *w, struct usher_cmd_result *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    if (out != NULL) {
        memset(out, 0, sizeof(*out));
    }
}

int usher_event_create_sync(struct usher_client *c, const struct usher_call_opts *opts,
                            const struct usher_event_spec *spec, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_event_create(c, opts, spec, &w, on_cmd));
}

int usher_hold_seats_sync(struct usher_client *c, const struct usher_call_opts *opts,
                          uint64_t event_id, uint64_t customer_id, const uint32_t *seats,
                          uint16_t seat_count, uint32_t ttl_ms, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(
        c, &w,
        usher_hold_seats(c, opts, event_id, customer_id, seats, seat_count, ttl_ms, &w, on_cmd));
}

int usher_hold_best_sync(struct usher_client *c, const struct usher_call_opts *opts,
                         uint64_t event_id, uint64_t customer_id, uint16_t section, uint16_t count,
                         uint32_t ttl_ms, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(
        c, &w, usher_hold_best(c, opts, event_id, customer_id, section, count, ttl_ms, &w, on_cmd));
}

int usher_hold_ga_sync(struct usher_client *c, const struct usher_call_opts *opts,
                       uint64_t event_id, uint64_t customer_id, uint16_t section, uint16_t count,
                       uint32_t ttl_ms, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(
        c, &w, usher_hold_ga(c, opts, event_id, customer_id, section, count, ttl_ms, &w, on_cmd));
}

int usher_hold_extend_sync(struct usher_client *c, const struct usher_call_opts *opts,
                           uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                           uint32_t ttl_ms, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w,
                    usher_hold_extend(c, opts, event_id, customer_id, hold_id, ttl_ms, &w, on_cmd));
}

int usher_hold_release_sync(struct usher_client *c, const struct usher_call_opts *opts,
                            uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                            struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_hold_release(c, opts, event_id, customer_id, hold_id, &w, on_cmd));
}

int usher_hold_book_sync(struct usher_client *c, const struct usher_call_opts *opts,
                         uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                         const char *payment_ref, struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(
        c, &w, usher_hold_book(c, opts, event_id, customer_id, hold_id, payment_ref, &w, on_cmd));
}

int usher_booking_cancel_sync(struct usher_client *c, const struct usher_call_opts *opts,
                              uint64_t event_id, uint64_t customer_id, uint64_t booking_id,
                              struct usher_cmd_result *out)
{
    struct sync_wait w;
    cmd_out_init(&w, out);
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w,
                    usher_booking_cancel(c, opts, event_id, customer_id, booking_id, &w, on_cmd));
}

static void on_event(void *ctx, int status, const struct usher_event_spec *e)
{
    struct sync_wait *w = ctx;
    w->status = status;
    if (status == 0) {
        struct event *copy = NULL;
        /* Copy it out: the spec given to a callback is borrowed. */
        int rc = usher_spec_to_event(e, &copy);
        if (rc == 0) {
            rc = usher_spec_from_event(copy, (struct usher_event_spec **)w->out);
            event_destroy(copy);
        }
        w->status = rc;
    }
    w->done = true;
}

int usher_event_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                         uint64_t event_id, struct usher_event_spec **out)
{
    struct sync_wait w;
    memset(&w, 0, sizeof(w));
    w.out = out;
    if (!is_blocking(c) || out == NULL) {
        return USHER_INVALID;
    }
    *out = NULL;
    return sync_run(c, &w, usher_event_get(c, opts, event_id, &w, on_event));
}

static void on_event_list(void *ctx, int status, const uint64_t *ids, uint32_t count)
{
    struct sync_wait *w = ctx;
    w->status = status;
    if (status == 0) {
        uint32_t n = count < w->cap ? count : w->cap;
        memcpy(w->out, ids, sizeof(uint64_t) * n);
        *w->count = n;
    }
    w->done = true;
}

int usher_event_list_sync(struct usher_client *c, const struct usher_call_opts *opts,
                          uint64_t after, uint32_t max, uint64_t *ids, uint32_t cap,
                          uint32_t *count)
{
    struct sync_wait w;
    memset(&w, 0, sizeof(w));
    if (!is_blocking(c) || ids == NULL || count == NULL) {
        return USHER_INVALID;
    }
    w.out = ids;
    w.cap = cap;
    w.count = count;
    *count = 0;
    return sync_run(c, &w, usher_event_list(c, opts, after, max, &w, on_event_list));
}

/* The reads whose result is one struct of a known size. */
#define SYNC_COPY_CB(name, type)                           \
    static void name(void *ctx, int status, const type *r) \
    {                                                      \
        struct sync_wait *w = ctx;                         \
        w->status = status;                                \
        if (status == 0) {                                 \
            memcpy(w->out, r, sizeof(type));               \
        }                                                  \
        w->done = true;                                    \
    }

SYNC_COPY_CB(on_availability, struct usher_availability)
SYNC_COPY_CB(on_hold, struct usher_hold_info)
SYNC_COPY_CB(on_booking, struct usher_booking_info)
SYNC_COPY_CB(on_customer, struct usher_customer_items)
SYNC_COPY_CB(on_history, struct usher_seat_history)
SYNC_COPY_CB(on_status, struct usher_node_status)

static bool read_init(struct sync_wait *w, const struct usher_client *c, void *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    return is_blocking(c) && out != NULL;
}

int usher_availability_sync(struct usher_client *c, const struct usher_call_opts *opts,
                            uint64_t event_id, struct usher_availability *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_availability(c, opts, event_id, &w, on_availability));
}

int usher_hold_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                        uint64_t event_id, uint64_t hold_id, struct usher_hold_info *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_hold_get(c, opts, event_id, hold_id, &w, on_hold));
}

int usher_booking_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                           uint64_t event_id, uint64_t booking_id, struct usher_booking_info *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_booking_get(c, opts, event_id, booking_id, &w, on_booking));
}

int usher_customer_list_sync(struct usher_client *c, const struct usher_call_opts *opts,
                             uint64_t event_id, uint64_t customer_id,
                             struct usher_customer_items *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_customer_list(c, opts, event_id, customer_id, &w, on_customer));
}

int usher_seat_history_sync(struct usher_client *c, const struct usher_call_opts *opts,
                            uint64_t event_id, uint32_t seat_index, struct usher_seat_history *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_seat_history(c, opts, event_id, seat_index, &w, on_history));
}

int usher_node_status_sync(struct usher_client *c, const struct usher_call_opts *opts,
                           struct usher_node_status *out)
{
    struct sync_wait w;
    if (!read_init(&w, c, out)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_node_status(c, opts, &w, on_status));
}

static void on_done(void *ctx, int status)
{
    struct sync_wait *w = ctx;
    w->status = status;
    w->done = true;
}

int usher_ping_sync(struct usher_client *c, const struct usher_call_opts *opts)
{
    struct sync_wait w;
    memset(&w, 0, sizeof(w));
    if (!is_blocking(c)) {
        return USHER_INVALID;
    }
    return sync_run(c, &w, usher_ping(c, opts, &w, on_done));
}
