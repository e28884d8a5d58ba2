/*
 * LMDB wrappers for one shard store (see store.h).
 *
 * Environment flags: MDB_NOTLS (a read txn may move to a pool thread for an
 * async snapshot later), MDB_NOSYNC unless durable (the Raft log is the
 * durable copy; RAFT-NOTES.md §3 measured 25x between the two), and
 * MDB_NORDAHEAD (random access); MDB_WRITEMAP too unless durable (no
 * pwrite of dirty pages at commit: BENCHMARKS.md "What was measured").
 *
 * With MDB_WRITEMAP the data file is a sparse file as large as the map, and
 * LMDB writes pages through the mapping: on a full disk the first write to
 * a page with no block behind it is a SIGBUS, not an error. So before each
 * write transaction store_reserve() allocates real blocks (fallocate) for
 * USHER_STORE_RESERVE_BYTES past the last page in use; a full disk then
 * fails that call cleanly with STORAGE, which the caller reports (apply:
 * fatal with a log line; admission: refused) instead of dying unexplained.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <stdio.h>
#include <string.h>

#include "assertion.h"
#include "limits.h"
#include "mem.h"

struct store {
    MDB_env *env;
    MDB_dbi dbi[STORE_TABLE_COUNT];
    uint64_t map_bytes;
    uint32_t page_bytes;  /* fixed at open: store_usage() needs no stat call */
    bool writemap;        /* pages are written through the map: reserve blocks */
    bool reserve_off;     /* the file system cannot fallocate: nothing to do */
    uint64_t reserved_to; /* bytes of the data file known to have blocks */
};

static const char *const table_names[STORE_TABLE_COUNT] = {
    "meta",     "events",    "seats", "ga",          "holds",   "expiry",
    "bookings", "customers", "idem",  "idem_expiry", "journal",
};

const char *store_table_name(enum store_table t)
{
    ASSERT((unsigned)t < STORE_TABLE_COUNT);
    return table_names[t];
}

static int open_tables(struct store *s, char *errmsg)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, 0, &txn);
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "begin txn: %s", mdb_strerror(rc));
        return USHER_STORAGE;
    }
    for (unsigned i = 0; i < STORE_TABLE_COUNT; i++) {
        rc = mdb_dbi_open(txn, table_names[i], MDB_CREATE, &s->dbi[i]);
        if (rc != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "open table %s: %s", table_names[i],
                           mdb_strerror(rc));
            mdb_txn_abort(txn);
            return USHER_STORAGE;
        }
    }
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "commit tables: %s", mdb_strerror(rc));
        return USHER_STORAGE;
    }
    return 0;
}

int store_open(const char *dir, uint64_t map_bytes, bool durable, struct store **out, char *errmsg)
{
    if (map_bytes < USHER_STORE_MAP_BYTES_MIN) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "map size too small: %llu bytes",
                       (unsigned long long)map_bytes);
        return USHER_INVALID;
    }
    struct store *s = mem_calloc(1, sizeof(*s));
    if (s == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "out of memory");
        return USHER_NOMEM;
    }
    s->map_bytes = map_bytes;
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        goto err_after_alloc;
    }
    rc = mdb_env_set_maxdbs(s->env, STORE_TABLE_COUNT);
    if (rc == 0) {
        rc = mdb_env_set_mapsize(s->env, (size_t)map_bytes);
    }
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | (durable ? 0u : MDB_NOSYNC | MDB_WRITEMAP);
    s->writemap = !durable;
    if (rc == 0) {
        rc = mdb_env_open(s->env, dir, flags, 0600);
    }
    MDB_stat st;
    if (rc == 0) {
        rc = mdb_env_stat(s->env, &st);
    }
    if (rc != 0) {
        goto err_after_env;
    }
    s->page_bytes = st.ms_psize;
    int trc = open_tables(s, errmsg);
    if (trc != 0) {
        mdb_env_close(s->env);
        mem_free(s);
        return trc;
    }
    *out = s;
    return 0;

err_after_env:
    mdb_env_close(s->env);
err_after_alloc:
    (void)snprintf(errmsg, USHER_ERRMSG_MAX, "open store %s: %s", dir, mdb_strerror(rc));
    mem_free(s);
    return USHER_STORAGE;
}

void store_close(struct store *s)
{
    if (s == NULL) {
        return;
    }
    /* The final sync makes a clean shutdown durable without the Raft log. A
     * failure here is reported by the next open's recovery, so it is ignored. */
    (void)mdb_env_sync(s->env, 1);
    mdb_env_close(s->env);
    mem_free(s);
}

int store_usage(struct store *s, uint64_t *used_bytes, uint64_t *map_bytes)
{
    MDB_envinfo info;
    if (mdb_env_info(s->env, &info) != 0) {
        return USHER_STORAGE;
    }
    *used_bytes = ((uint64_t)info.me_last_pgno + 1u) * s->page_bytes;
    *map_bytes = s->map_bytes;
    return 0;
}

int store_reserve(struct store *s, uint64_t bytes)
{
    if (!s->writemap || s->reserve_off) {
        return 0;
    }
    uint64_t used = 0;
    uint64_t map = 0;
    if (store_usage(s, &used, &map) != 0) {
        return USHER_STORAGE;
    }
    uint64_t want = used + bytes < map ? used + bytes : map;
    if (want <= s->reserved_to) {
        return 0;
    }
    /* One reserve step beyond what is asked, so the transactions that
     * follow find their blocks there and make no system call. */
    uint64_t to = want + USHER_STORE_RESERVE_BYTES < map ? want + USHER_STORE_RESERVE_BYTES : map;
    int fd = -1;
    if (mdb_env_get_fd(s->env, &fd) != 0) {
        return USHER_STORAGE;
    }
    /* fallocate(2) mode 0 gives blocks to holes and leaves written data
     * alone (unlike posix_fallocate's fallback, which writes zeros). */
    if (fallocate(fd, 0, (off_t)used, (off_t)(to - used)) != 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS) {
            s->reserve_off = true;
            return 0;
        }
        (void)fprintf(stderr,
                      "{\"level\":\"error\",\"msg\":\"store space reservation failed\","
                      "\"error\":\"%s\",\"bytes\":%llu}\n",
                      strerror(errno), (unsigned long long)(to - used));
        return USHER_STORAGE;
    }
    s->reserved_to = to;
    return 0;
}

int store_sync(struct store *s)
{
    return mdb_env_sync(s->env, 1) == 0 ? 0 : USHER_STORAGE;
}

int store_txn_begin(struct store *s, bool write, struct store_txn *t)
{
    if (write && store_reserve(s, USHER_STORE_RESERVE_BYTES) != 0) {
        return USHER_STORAGE;
    }
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, write ? 0u : MDB_RDONLY, &txn);
    if (rc != 0) {
        return USHER_STORAGE;
    }
    t->store = s;
    t->txn = txn;
    t->write = write;
    return 0;
}

int store_txn_commit(struct store_txn *t)
{
    ASSERT(t->txn != NULL);
    int rc = mdb_txn_commit(t->txn);
    t->txn = NULL;
    return rc == 0 ? 0 : USHER_STORAGE;
}

void store_txn_abort(struct store_txn *t)
{
    if (t->txn != NULL) {
        mdb_txn_abort(t->txn);
        t->txn = NULL;
    }
}

static MDB_val val_of(const void *p, size_t len)
{
    MDB_val v = { .mv_size = len, .mv_data = (void *)(uintptr_t)p };
    return v;
}

int store_get(struct store_txn *t, enum store_table table, const void *key, size_t key_len,
              const void **val, size_t *val_len, bool *found)
{
    ASSERT(key_len > 0 && key_len <= STORE_KEY_MAX);
    MDB_val k = val_of(key, key_len);
    MDB_val v;
    int rc = mdb_get(t->txn, t->store->dbi[table], &k, &v);
    if (rc == MDB_NOTFOUND) {
        *found = false;
        return 0;
    }
    if (rc != 0) {
        return USHER_STORAGE;
    }
    *found = true;
    *val = v.mv_data;
    *val_len = v.mv_size;
    return 0;
}

int store_put(struct store_txn *t, enum store_table table, const void *key, size_t key_len,
              const void *val, size_t val_len, unsigned flags)
{
    ASSERT(t->write);
    ASSERT(key_len > 0 && key_len <= STORE_KEY_MAX);
    MDB_val k = val_of(key, key_len);
    MDB_val v = val_of(val, val_len);
    unsigned mdb_flags = (flags & STORE_PUT_APPEND) != 0 ? MDB_APPEND : 0u;
    int rc = mdb_put(t->txn, t->store->dbi[table], &k, &v, mdb_flags);
    return rc == 0 ? 0 : USHER_STORAGE;
}

int store_del(struct store_txn *t, enum store_table table, const void *key, size_t key_len,
              bool *found)
{
    ASSERT(t->write);
    MDB_val k = val_of(key, key_len);
    int rc = mdb_del(t->txn, t->store->dbi[table], &k, NULL);
    if (found != NULL) {
        *found = rc == 0;
    }
    if (rc == MDB_NOTFOUND) {
        return 0;
    }
    return rc == 0 ? 0 : USHER_STORAGE;
}

int store_clear_all(struct store_txn *t)
{
    ASSERT(t->write);
    for (unsigned i = 0; i < STORE_TABLE_COUNT; i++) {
        if (mdb_drop(t->txn, t->store->dbi[i], 0) != 0) {
            return USHER_STORAGE;
        }
    }
    return 0;
}

int store_count(struct store_txn *t, enum store_table table, uint64_t *count)
{
    MDB_stat st;
    if (mdb_stat(t->txn, t->store->dbi[table], &st) != 0) {
        return USHER_STORAGE;
    }
    *count = st.ms_entries;
    return 0;
}

int store_cursor_open(struct store_txn *t, enum store_table table, struct store_cursor *c)
{
    MDB_cursor *cur = NULL;
    if (mdb_cursor_open(t->txn, t->store->dbi[table], &cur) != 0) {
        return USHER_STORAGE;
    }
    c->cursor = cur;
    return 0;
}

void store_cursor_close(struct store_cursor *c)
{
    if (c->cursor != NULL) {
        mdb_cursor_close(c->cursor);
        c->cursor = NULL;
    }
}

static int cursor_get(struct store_cursor *c, MDB_val *k, MDB_cursor_op op, const void **kp,
                      size_t *k_len, const void **v, size_t *v_len, bool *found)
{
    MDB_val val;
    int rc = mdb_cursor_get(c->cursor, k, &val, op);
    if (rc == MDB_NOTFOUND) {
        *found = false;
        return 0;
    }
    if (rc != 0) {
        return USHER_STORAGE;
    }
    *found = true;
    *kp = k->mv_data;
    *k_len = k->mv_size;
    *v = val.mv_data;
    *v_len = val.mv_size;
    return 0;
}

int store_cursor_seek(struct store_cursor *c, const void *key, size_t key_len, const void **k,
                      size_t *k_len, const void **v, size_t *v_len, bool *found)
{
    MDB_val kv = val_of(key, key_len);
    MDB_cursor_op op = key == NULL ? MDB_FIRST : MDB_SET_RANGE;
    return cursor_get(c, &kv, op, k, k_len, v, v_len, found);
}

int store_cursor_next(struct store_cursor *c, const void **k, size_t *k_len, const void **v,
                      size_t *v_len, bool *found)
{
    MDB_val kv = { 0, NULL };
    return cursor_get(c, &kv, MDB_NEXT, k, k_len, v, v_len, found);
}

int store_last_key(struct store_txn *t, enum store_table table, const void **k, size_t *k_len,
                   bool *found)
{
    struct store_cursor c = { NULL };
    int rc = store_cursor_open(t, table, &c);
    if (rc != 0) {
        return rc;
    }
    MDB_val kv = { 0, NULL };
    const void *v = NULL;
    size_t v_len = 0;
    rc = cursor_get(&c, &kv, MDB_LAST, k, k_len, &v, &v_len, found);
    store_cursor_close(&c);
    return rc;
}
