/*
 * Temporary directories for tests (tempdir.h).
 *
 * Removal walks the tree with nftw() depth-first, so children go before
 * their directory and no recursion of our own is needed (STYLE.md 3.3).
 */
#include "tempdir.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

/* File descriptors nftw() may keep open while walking. */
#define TEMPDIR_WALK_FDS 16

int tempdir_make(const char *tag, char *path, size_t cap)
{
    const char *base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp";
    }
    int len = snprintf(path, cap, "%s/usher-%s-XXXXXX", base, tag);
    if (len < 0 || (size_t)len >= cap) {
        return -1;
    }
    if (mkdtemp(path) == NULL) {
        return -1;
    }
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int tempdir_remove(const char *path)
{
    if (nftw(path, remove_one, TEMPDIR_WALK_FDS, FTW_DEPTH | FTW_PHYS) != 0) {
        return -1;
    }
    return 0;
}
