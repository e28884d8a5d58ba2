/*
 * Allocation wrapper (STYLE.md 5.4): every allocation after start-up goes
 * through here, so that tests can inject failures.
 */
#ifndef USHER_SRC_MEM_H
#define USHER_SRC_MEM_H

#include <stddef.h>

/* Returns size bytes (uninitialised) or NULL. */
void *mem_alloc(size_t size);

/* Returns count * size zeroed bytes, or NULL (also on overflow). */
void *mem_calloc(size_t count, size_t size);

/* Frees memory from mem_alloc()/mem_calloc(); NULL is fine. */
void mem_free(void *p);

/*
 * Test hook: the next `after` allocations succeed, then every one fails until
 * mem_fault_reset(). Process-wide by nature (it stands in for the heap).
 */
void mem_fault_after(long after);
void mem_fault_reset(void);

#endif
