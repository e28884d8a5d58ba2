/* Assertion failure reporting: message, backtrace, abort. */
#include "assertion.h"

#include <execinfo.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Noreturn void assertion_fail(const char *expr, const char *file, int line)
{
    void *frames[32];
    int frame_count = backtrace(frames, 32);

    (void)fprintf(stderr, "assertion failed: %s (%s:%d)\n", expr, file, line);
    backtrace_symbols_fd(frames, frame_count, STDERR_FILENO);
    abort();
}
