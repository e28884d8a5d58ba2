/*
 * The client object: options, slots of calls in flight, the timer that
 * serves every call's wake-up, the idle handle that writes queued frames
 * once per loop turn, and destruction (usher.h "Client").
 *
 * Handles of a client: one timer, one idle, and one poll per connected
 * node. handles_open counts them; the memory goes when the last one has
 * closed (STYLE.md 5.3), in its close callback on a caller's loop, or after
 * the private loop ran dry on a blocking client.
 */
#include "usher_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "mem.h"

static int timeout_resolve(uint32_t given, uint32_t fallback, uint32_t *out)
{
    if (given > CLIENT_TIMEOUT_CEILING_MS) {
        return USHER_INVALID;
    }
    *out = given != 0 ? given : fallback;
    return 0;
}

static int options_resolve(struct usher_client *c, const struct usher_options *o)
{
    int rc = timeout_resolve(o->connect_timeout_ms, CLIENT_CONNECT_TIMEOUT_DEFAULT_MS,
                             &c->connect_timeout_ms);
    if (rc == 0) {
        rc = timeout_resolve(o->attempt_timeout_ms, CLIENT_ATTEMPT_TIMEOUT_DEFAULT_MS,
                             &c->attempt_timeout_ms);
    }
    if (rc == 0) {
        rc = timeout_resolve(o->call_timeout_ms, CLIENT_CALL_TIMEOUT_DEFAULT_MS,
                             &c->call_timeout_ms);
    }
    if (rc == 0) {
        rc = timeout_resolve(o->backoff_base_ms, CLIENT_BACKOFF_BASE_DEFAULT_MS,
                             &c->backoff_base_ms);
    }
    if (rc == 0) {
        rc = timeout_resolve(o->backoff_max_ms, CLIENT_BACKOFF_MAX_DEFAULT_MS, &c->backoff_max_ms);
    }
    if (rc != 0 || o->attempts_max > CLIENT_ATTEMPTS_CEILING ||
        o->inflight_max > USHER_INFLIGHT_LIMIT) {
        return USHER_INVALID;
    }
    c->attempts_max = o->attempts_max != 0 ? o->attempts_max : CLIENT_ATTEMPTS_DEFAULT;
    c->inflight_max = o->inflight_max != 0 ? o->inflight_max : CLIENT_INFLIGHT_DEFAULT;
    return 0;
}

static int peers_add(struct usher_client *c, const struct usher_options *o)
{
    if (o->nodes == NULL || o->node_count == 0 || o->node_count > USHER_NODES_LIMIT) {
        return USHER_INVALID;
    }
    for (uint32_t i = 0; i < o->node_count; i++) {
        uint32_t index = 0;
        if (usher_route_peer_add(&c->route, o->nodes[i], &index) != 0) {
            return USHER_INVALID;
        }
    }
    return 0;
}

static int slots_init(struct usher_client *c)
{
    c->slots = mem_calloc(c->inflight_max, sizeof(struct usher_call *));
    c->free_slots = mem_calloc(c->inflight_max, sizeof(*c->free_slots));
    if (c->slots == NULL || c->free_slots == NULL) {
        return USHER_NOMEM;
    }
    /* A stack: slot 0 on top, so a quiet client reuses low slots. */
    for (uint32_t i = 0; i < c->inflight_max; i++) {
        c->free_slots[i] = c->inflight_max - 1u - i;
    }
    c->free_count = c->inflight_max;
    return usher_heap_init(&c->heap, c->inflight_max);
}

static void client_free(struct usher_client *c)
{
    for (uint32_t i = 0; i < USHER_NODES_LIMIT; i++) {
        usher_node_free(c->nodes[i]);
    }
    usher_heap_close(&c->heap);
    mem_free(c->slots);
    mem_free(c->free_slots);
    mem_free(c->own_loop);
    mem_free(c);
}

static void on_timer(uv_timer_t *t)
{
    struct usher_client *c = t->data;
    c->timer_due = UINT64_MAX;
    usher_call_wake_due(c);
    usher_client_timer_arm(c);
}

static void on_idle(uv_idle_t *h)
{
    struct usher_client *c = h->data;
    int rc = uv_idle_stop(&c->idle);
    ASSERT(rc == 0); /* libuv: stopping an idle handle cannot fail */
    c->idle_active = false;
    usher_node_flush_all(c);
}

/* Starts the loop side: private loop if asked, timer and idle handles. */
static int handles_init(struct usher_client *c, uv_loop_t *loop)
{
    if (loop == NULL) {
        c->own_loop = mem_alloc(sizeof(*c->own_loop));
        if (c->own_loop == NULL) {
            return USHER_NOMEM;
        }
        if (uv_loop_init(c->own_loop) != 0) {
            mem_free(c->own_loop);
            c->own_loop = NULL;
            return USHER_INTERNAL;
        }
        loop = c->own_loop;
    }
    c->loop = loop;
    /* libuv: initialising a timer or an idle handle always returns 0. */
    int rc = uv_timer_init(loop, &c->timer);
    ASSERT(rc == 0);
    rc = uv_idle_init(loop, &c->idle);
    ASSERT(rc == 0);
    c->timer.data = c;
    c->idle.data = c;
    c->handles_open = 2;
    c->timer_due = UINT64_MAX;
    return 0;
}

int usher_client_create(uv_loop_t *loop, const struct usher_options *o, struct usher_client **out)
{
    if (o == NULL || out == NULL) {
        return USHER_INVALID;
    }
    struct usher_client *c = mem_calloc(1, sizeof(*c));
    if (c == NULL) {
        return USHER_NOMEM;
    }
    int rc = options_resolve(c, o);
    if (rc == 0) {
        rc = peers_add(c, o);
    }
    if (rc == 0) {
        rc = slots_init(c);
    }
    if (rc == 0) {
        rc = handles_init(c, loop);
    }
    if (rc != 0) {
        client_free(c);
        return rc;
    }
    c->rng = usher_key_seed();
    c->client_id = o->client_id;
    while (c->client_id == 0) {
        c->client_id = usher_key_rand(&c->rng); /* zero is one value in 2^64 */
    }
    (void)snprintf(c->errmsg, sizeof(c->errmsg), "%s", "ok");
    *out = c;
    return 0;
}

static void on_handle_close(uv_handle_t *h)
{
    usher_client_handle_closed(h->data);
}

void usher_client_handle_closed(struct usher_client *c)
{
    ASSERT(c->handles_open > 0);
    c->handles_open--;
    if (c->handles_open > 0 || !c->closing || c->own_loop != NULL) {
        return;
    }
    usher_destroy_cb cb = c->destroy_cb;
    void *ctx = c->destroy_ctx;
    client_free(c);
    if (cb != NULL) {
        cb(ctx);
    }
}

void usher_client_destroy(struct usher_client *c, void *ctx, usher_destroy_cb cb)
{
    if (c == NULL || c->closing) {
        return;
    }
    c->closing = true;
    c->destroy_cb = cb;
    c->destroy_ctx = ctx;
    usher_call_cancel_all(c);
    for (uint32_t i = 0; i < USHER_NODES_LIMIT; i++) {
        if (c->nodes[i] != NULL) {
            usher_node_close(c->nodes[i]);
        }
    }
    uv_close((uv_handle_t *)&c->timer, on_handle_close);
    uv_close((uv_handle_t *)&c->idle, on_handle_close);
    if (c->own_loop == NULL) {
        return; /* the last close callback frees */
    }
    while (c->handles_open > 0) {
        (void)uv_run(c->own_loop, UV_RUN_ONCE); /* returns when a turn is done */
    }
    /* Every handle closed, no request pending: closing cannot be busy. */
    int rc = uv_loop_close(c->own_loop);
    ASSERT(rc == 0);
    client_free(c);
    if (cb != NULL) {
        cb(ctx);
    }
}

uint64_t usher_client_now(struct usher_client *c)
{
    uv_update_time(c->loop);
    return uv_now(c->loop);
}

void usher_client_timer_arm(struct usher_client *c)
{
    if (c->closing) {
        return;
    }
    const struct usher_call *top = usher_heap_top(&c->heap);
    if (top == NULL && c->timer_due != UINT64_MAX) {
        int rc = uv_timer_stop(&c->timer);
        ASSERT(rc == 0); /* libuv: always 0 */
        c->timer_due = UINT64_MAX;
    }
    if (top == NULL) {
        return;
    }
    if (top->wake_ms == c->timer_due) {
        return;
    }
    uint64_t now = uv_now(c->loop);
    uint64_t timeout = top->wake_ms > now ? top->wake_ms - now : 0;
    int rc = uv_timer_start(&c->timer, on_timer, timeout, 0);
    ASSERT(rc == 0); /* libuv: fails only for a closing handle or no callback */
    c->timer_due = top->wake_ms;
}

void usher_client_flush_soon(struct usher_client *c)
{
    if (c->idle_active || c->closing) {
        return;
    }
    int rc = uv_idle_start(&c->idle, on_idle);
    ASSERT(rc == 0); /* libuv: fails only without a callback */
    c->idle_active = true;
}

void usher_client_errmsg_set(struct usher_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is fine. The analyzer loses va_start through the format
     * attribute: NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
    va_end(ap);
}

uint64_t usher_client_id(const struct usher_client *c)
{
    return c->client_id;
}

uint64_t usher_key_next(struct usher_client *c)
{
    c->last_key = usher_key_make(c->last_key, usher_key_wall_ms());
    return c->last_key;
}

const char *usher_client_errmsg(const struct usher_client *c)
{
    return c->errmsg;
}
