/*
 * A binary min-heap of calls ordered by wake_ms, so one libuv timer per
 * client serves every call's connect timeout, attempt timeout, backoff and
 * deadline. Each call keeps its index in the heap (heap_idx) for O(log n)
 * removal. The capacity is the client's in-flight bound: a push never
 * allocates.
 */
#include "usher_int.h"

#include "assertion.h"
#include "mem.h"

int usher_heap_init(struct usher_heap *h, uint32_t cap)
{
    ASSERT(cap > 0);
    h->items = mem_calloc(cap, sizeof(struct usher_call *));
    if (h->items == NULL) {
        return USHER_NOMEM;
    }
    h->count = 0;
    h->cap = cap;
    return 0;
}

void usher_heap_close(struct usher_heap *h)
{
    mem_free(h->items);
    h->items = NULL;
    h->count = 0;
    h->cap = 0;
}

static void place(struct usher_heap *h, uint32_t i, struct usher_call *call)
{
    h->items[i] = call;
    call->heap_idx = i;
}

static void sift_up(struct usher_heap *h, uint32_t i)
{
    struct usher_call *call = h->items[i];
    while (i > 0) {
        uint32_t parent = (i - 1u) / 2u;
        if (h->items[parent]->wake_ms <= call->wake_ms) {
            break;
        }
        place(h, i, h->items[parent]);
        i = parent;
    }
    place(h, i, call);
}

static void sift_down(struct usher_heap *h, uint32_t i)
{
    struct usher_call *call = h->items[i];
    for (;;) {
        uint32_t child = 2u * i + 1u;
        if (child >= h->count) {
            break;
        }
        if (child + 1u < h->count && h->items[child + 1u]->wake_ms < h->items[child]->wake_ms) {
            child++;
        }
        if (call->wake_ms <= h->items[child]->wake_ms) {
            break;
        }
        place(h, i, h->items[child]);
        i = child;
    }
    place(h, i, call);
}

void usher_heap_push(struct usher_heap *h, struct usher_call *call)
{
    ASSERT(call->heap_idx == HEAP_NONE);
    ASSERT(h->count < h->cap); /* one entry per call, calls bounded by cap */
    h->count++;
    place(h, h->count - 1u, call);
    sift_up(h, h->count - 1u);
}

void usher_heap_remove(struct usher_heap *h, struct usher_call *call)
{
    uint32_t i = call->heap_idx;
    if (i == HEAP_NONE) {
        return;
    }
    ASSERT(i < h->count);
    ASSERT(h->items[i] == call);
    call->heap_idx = HEAP_NONE;
    h->count--;
    if (i == h->count) {
        return;
    }
    /* The last item fills the hole, then moves up or down, not both. */
    struct usher_call *moved = h->items[h->count];
    place(h, i, moved);
    sift_up(h, i);
    if (moved->heap_idx == i) {
        sift_down(h, i);
    }
}

struct usher_call *usher_heap_top(const struct usher_heap *h)
{
    return h->count > 0 ? h->items[0] : NULL;
}
