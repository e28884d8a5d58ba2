/*
 * The vote guard of a rejoining replica (see vote_guard.h).
 */
#include "vote_guard.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "assertion.h"
#include "err.h"

#define GUARD_TEXT_MAX 64u

static int set_path(char *out, const char *dir, const char *name, char *errmsg)
{
    int n = snprintf(out, VOTE_GUARD_PATH_BYTES, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= VOTE_GUARD_PATH_BYTES) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "folder name too long: %.200s", dir);
        return USHER_INVALID;
    }
    return 0;
}

static int storage_error(char *errmsg, const char *what, const char *path)
{
    (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s %.200s: %s", what, path, strerror(errno));
    return USHER_STORAGE;
}

/* Syncs the folder of the guard file, so that its creation, renaming or
 * removal is durable. */
static int guard_dir_sync(const struct vote_guard *v, char *errmsg)
{
    char dir[VOTE_GUARD_PATH_BYTES];
    (void)snprintf(dir, sizeof(dir), "%s", v->path);
    char *slash = strrchr(dir, '/');
    ASSERT(slash != NULL); /* set_path() joined a folder and a name */
    *slash = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd < 0) {
        return storage_error(errmsg, "open", dir);
    }
    int rc = fsync(dfd);
    (void)close(dfd); /* read-only: nothing to lose */
    return rc == 0 ? 0 : storage_error(errmsg, "sync", dir);
}

/* Replaces the guard file with text, durably: a crash leaves the old text or
 * the new, never a mix or nothing. */
static int guard_write(const struct vote_guard *v, const char *text, char *errmsg)
{
    char tmp[VOTE_GUARD_PATH_BYTES + 8];
    int n = snprintf(tmp, sizeof(tmp), "%s.tmp", v->path);
    ASSERT(n > 0 && (size_t)n < sizeof(tmp));
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        return storage_error(errmsg, "create", tmp);
    }
    size_t len = strlen(text);
    ssize_t put = write(fd, text, len);
    if (put >= 0 && put != (ssize_t)len) {
        errno = EIO; /* a short write of a few bytes: say so, not a stale errno */
    }
    if (put != (ssize_t)len || fsync(fd) != 0) {
        int rc = storage_error(errmsg, "write", tmp);
        (void)close(fd);
        return rc;
    }
    if (close(fd) != 0) {
        return storage_error(errmsg, "close", tmp);
    }
    if (rename(tmp, v->path) != 0) {
        return storage_error(errmsg, "rename", tmp);
    }
    return guard_dir_sync(v, errmsg);
}

/* Parses "watching\n", "pending\n" or "floor T\n". */
static bool guard_parse(const char *text, struct vote_guard *v)
{
    if (strcmp(text, "watching\n") == 0) {
        v->watching = true;
        return true;
    }
    if (strcmp(text, "pending\n") == 0) {
        v->pending = true;
        return true;
    }
    static const char prefix[] = "floor ";
    if (strncmp(text, prefix, sizeof(prefix) - 1) != 0) {
        return false;
    }
    const char *digits = text + sizeof(prefix) - 1;
    if (*digits < '0' || *digits > '9') {
        return false; /* strtoull would take blanks and a sign */
    }
    char *end = NULL;
    errno = 0;
    unsigned long long floor = strtoull(digits, &end, 10);
    if (errno != 0 || floor == 0 || strcmp(end, "\n") != 0) {
        return false;
    }
    v->pending = false;
    v->floor = (uint64_t)floor;
    return true;
}

/* Reads the guard file into *v; none leaves *v as it is. */
static int guard_load(struct vote_guard *v, char *errmsg)
{
    FILE *f = fopen(v->path, "r");
    if (f == NULL) {
        return errno == ENOENT ? 0 : storage_error(errmsg, "open", v->path);
    }
    char text[GUARD_TEXT_MAX] = "";
    size_t got = fread(text, 1, sizeof(text) - 1, f);
    bool failed = ferror(f) != 0;
    (void)fclose(f);
    if (failed) {
        return storage_error(errmsg, "read", v->path);
    }
    if (!guard_parse(text, v)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "%.100s (%zu bytes) is not a vote guard: this replica would vote "
                       "blind; re-sync it (REPLICATION.md \"Rejoining after a lost disk\")",
                       v->path, got);
        return USHER_INVALID;
    }
    v->armed = !v->watching;
    return 0;
}

/* Moves *v to "pending" (armed) or "watching", file first. */
static int guard_set(struct vote_guard *v, bool pending, char *errmsg)
{
    int rc = guard_write(v, pending ? "pending\n" : "watching\n", errmsg);
    if (rc == 0) {
        v->armed = pending;
        v->pending = pending;
        v->watching = !pending;
        v->floor = 0;
    }
    return rc;
}

int vote_guard_open(struct vote_guard *v, const char *dir, bool forgotten, bool rejoin,
                    char *errmsg)
{
    memset(v, 0, sizeof(*v));
    int rc = set_path(v->path, dir, VOTE_GUARD_FILE, errmsg);
    if (rc == 0) {
        rc = guard_load(v, errmsg);
    }
    if (rc != 0 || v->pending) {
        return rc; /* pending already: nothing is stricter */
    }
    if (forgotten) {
        return guard_set(v, rejoin, errmsg);
    }
    if (v->watching && rejoin) {
        return guard_set(v, true, errmsg); /* the operator says what the watch guessed */
    }
    return 0;
}

int vote_guard_decide(struct vote_guard *v, bool cluster_ran, bool *armed, char *errmsg)
{
    *armed = false;
    if (!v->watching) {
        return 0;
    }
    v->watching = false;
    if (!cluster_ran) {
        /* A new cluster: nothing was forgotten. */
        if (unlink(v->path) != 0 && errno != ENOENT) {
            return storage_error(errmsg, "remove", v->path);
        }
        return guard_dir_sync(v, errmsg);
    }
    *armed = true;
    int rc = guard_set(v, true, errmsg);
    v->armed = true; /* in memory even if the file failed: only a restart forgets */
    v->pending = true;
    return rc;
}

bool vote_guard_allows(const struct vote_guard *v, uint64_t term)
{
    return !v->armed || (!v->pending && term > v->floor);
}

void vote_guard_heard_leader(struct vote_guard *v, uint64_t term, uint64_t commit,
                             uint64_t own_index)
{
    if (!v->armed || !v->pending || v->target_fixed || term == 0 || term < v->target_term) {
        return;
    }
    if (term > v->target_term) {
        v->target_term = term; /* a newer leader: what the older showed says nothing */
        v->own_index = 0;
    }
    if (own_index != 0 && (v->own_index == 0 || own_index < v->own_index)) {
        v->own_index = own_index;
    }
    if (v->own_index != 0 && commit >= v->own_index) {
        v->target_index = commit;
        v->target_fixed = true;
    }
}

int vote_guard_catch_up(struct vote_guard *v, uint64_t applied, uint64_t current_term, bool *lifted,
                        char *errmsg)
{
    *lifted = false;
    if (!v->armed || !v->pending || !v->target_fixed || applied < v->target_index) {
        return 0;
    }
    uint64_t floor = current_term > v->target_term ? current_term : v->target_term;
    char text[GUARD_TEXT_MAX];
    (void)snprintf(text, sizeof(text), "floor %" PRIu64 "\n", floor);
    int rc = guard_write(v, text, errmsg);
    if (rc != 0) {
        return rc;
    }
    v->pending = false;
    v->floor = floor;
    *lifted = true;
    return 0;
}
