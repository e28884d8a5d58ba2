/*
 * Temporary directories for tests: each test store lives in a directory of
 * its own under $TMPDIR (or /tmp), removed with everything in it at the end.
 */
#ifndef USHER_TESTS_LIB_TEMPDIR_H
#define USHER_TESTS_LIB_TEMPDIR_H

#include <stddef.h>

/* Bytes of a path buffer big enough for tempdir_make(). */
#define TEMPDIR_PATH_MAX 512u

/*
 * Creates a new empty directory named "<TMPDIR>/usher-<tag>-XXXXXX" and
 * writes its path into path (cap bytes). Returns 0, or -1 when the name does
 * not fit or the directory cannot be made.
 */
int tempdir_make(const char *tag, char *path, size_t cap);

/*
 * Removes the directory at path and everything below it (symbolic links are
 * removed, never followed). Returns 0, or -1 when something could not be
 * removed.
 */
int tempdir_remove(const char *path);

#endif
