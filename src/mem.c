/* Allocation wrapper with a fault injector for tests. */
#include "mem.h"

#include <stdint.h>
#include <stdlib.h>

/* The one mutable global of the project: the heap is process-wide anyway,
 * and tests need to fail allocations deep inside a call. -1: no fault. */
static long fault_countdown = -1;

static int should_fail(void)
{
    if (fault_countdown < 0) {
        return 0;
    }
    if (fault_countdown == 0) {
        return 1;
    }
    fault_countdown--;
    return 0;
}

void *mem_alloc(size_t size)
{
    if (should_fail()) {
        return NULL;
    }
    return malloc(size == 0 ? 1 : size);
}

void *mem_calloc(size_t count, size_t size)
{
    if (size != 0 && count > SIZE_MAX / size) {
        return NULL;
    }
    if (should_fail()) {
        return NULL;
    }
    return calloc(count == 0 ? 1 : count, size == 0 ? 1 : size);
}

void mem_free(void *p)
{
    free(p);
}

void mem_fault_after(long after)
{
    fault_countdown = after;
}

void mem_fault_reset(void)
{
    fault_countdown = -1;
}
