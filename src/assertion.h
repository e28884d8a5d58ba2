/*
 * Assertions that stay on in every build (STYLE.md section 6).
 *
 * ASSERT checks one condition; on failure it prints file, line and the
 * expression, then a backtrace, and aborts. Never assert on outside data
 * (client bytes, peer bytes, file contents): validate it and return a code.
 */
#ifndef USHER_SRC_ASSERTION_H
#define USHER_SRC_ASSERTION_H

#include <stdbool.h>

/* Prints the failed assertion and a backtrace to stderr, then aborts. */
_Noreturn __attribute__((noreturn)) void assertion_fail(const char *expr, const char *file,
                                                        int line);

#define ASSERT(expr)                                   \
    do {                                               \
        if (!(expr)) {                                 \
            assertion_fail(#expr, __FILE__, __LINE__); \
        }                                              \
    } while (0)

/* "a implies b". */
#define ERGO(a, b) ASSERT(!(a) || (b))

#define UNREACHABLE() assertion_fail("unreachable", __FILE__, __LINE__)

#endif
