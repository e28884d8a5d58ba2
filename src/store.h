/*
 * The LMDB store of one shard: environment sizing, the tables, and thin
 * checked wrappers over LMDB. The only file that includes lmdb.h
 * (STYLE.md 1.3); the key layouts live with their users in inv_int.h.
 *
 * One environment per shard, one named database per table. Writes happen
 * in one write transaction per batch. Unless opened durable, commits do not
 * fsync: the Raft log is the durable copy and the store is synced on close
 * (RAFT-NOTES.md §3).
 */
#ifndef USHER_SRC_STORE_H
#define USHER_SRC_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The tables, in dump and snapshot order. Values never change: snapshots
 * name tables by number. */
enum store_table {
    STORE_META = 0,        /* "state" -> struct meta_state */
    STORE_EVENTS = 1,      /* event id -> encoded description */
    STORE_SEATS = 2,       /* event id, chunk -> 64 seat slots */
    STORE_GA = 3,          /* event id, section -> GA counters */
    STORE_HOLDS = 4,       /* hold id -> hold record */
    STORE_EXPIRY = 5,      /* time, hold id -> (empty): expiry or purge time */
    STORE_BOOKINGS = 6,    /* booking id -> booking record */
    STORE_CUSTOMERS = 7,   /* event, customer, id -> customer item */
    STORE_IDEM = 8,        /* client id, key -> stored result */
    STORE_IDEM_EXPIRY = 9, /* created time, seq -> client id, key */
    STORE_JOURNAL = 10,    /* seq -> seat history record */
};

#define STORE_TABLE_COUNT 11u

/* Longest key any table uses (LMDB's default maximum is 511). */
#define STORE_KEY_MAX 64u

struct store;

struct store_txn {
    struct store *store;
    void *txn; /* MDB_txn */
    bool write;
};

struct store_cursor {
    void *cursor; /* MDB_cursor */
};

/* Opens or creates the environment in dir (which must exist) with a map of
 * map_bytes. Returns 0, or STORAGE/INVALID with errmsg filled. */
USHER_MUST_CHECK int store_open(const char *dir, uint64_t map_bytes, bool durable,
                                struct store **out, char *errmsg);

/* Syncs to disk and closes; NULL is fine. */
void store_close(struct store *s);

/* Returns the table's name ("holds"). */
const char *store_table_name(enum store_table t);

/* Reports the bytes in use (last page used * page size) and the map size. */
USHER_MUST_CHECK int store_usage(struct store *s, uint64_t *used_bytes, uint64_t *map_bytes);

/* Flushes committed writes to disk (fsync). Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_sync(struct store *s);

/* Makes sure the data file has disk blocks for `bytes` past the last page
 * in use, and allocates one reserve step more when it must allocate
 * (stores written through the map only; see store.c), so a full disk is an
 * error here rather than a SIGBUS in a write. Every write
 * transaction reserves USHER_STORE_RESERVE_BYTES at begin; a bulk load
 * (snapshot restore) reserves its size first. Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_reserve(struct store *s, uint64_t bytes);

USHER_MUST_CHECK int store_txn_begin(struct store *s, bool write, struct store_txn *t);
USHER_MUST_CHECK int store_txn_commit(struct store_txn *t);
void store_txn_abort(struct store_txn *t);

/* Looks key up. On found, *val points into the map, valid until the next
 * write in the txn or its end: copy it first. Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_get(struct store_txn *t, enum store_table table, const void *key,
                               size_t key_len, const void **val, size_t *val_len, bool *found);

/* Flags of store_put(). */
#define STORE_PUT_APPEND 1u /* key is above every key of the table (asserted by LMDB) */

/* Inserts or replaces. Returns 0 or STORAGE (including MDB_MAP_FULL). */
USHER_MUST_CHECK int store_put(struct store_txn *t, enum store_table table, const void *key,
                               size_t key_len, const void *val, size_t val_len, unsigned flags);

/* Deletes key; *found (may be NULL) says whether it existed. Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_del(struct store_txn *t, enum store_table table, const void *key,
                               size_t key_len, bool *found);

/* Empties every table (for snapshot restore). Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_clear_all(struct store_txn *t);

/* Returns the number of records of a table. */
USHER_MUST_CHECK int store_count(struct store_txn *t, enum store_table table, uint64_t *count);

USHER_MUST_CHECK int store_cursor_open(struct store_txn *t, enum store_table table,
                                       struct store_cursor *c);
void store_cursor_close(struct store_cursor *c);

/* Positions at the first key >= key (key NULL: the first key of the table).
 * Returns 0 or STORAGE; *found is false when no such key exists. */
USHER_MUST_CHECK int store_cursor_seek(struct store_cursor *c, const void *key, size_t key_len,
                                       const void **k, size_t *k_len, const void **v, size_t *v_len,
                                       bool *found);

/* Reads the last (largest) key of a table; *found false when it is empty.
 * *k is valid as store_get()'s value is. Returns 0 or STORAGE. */
USHER_MUST_CHECK int store_last_key(struct store_txn *t, enum store_table table, const void **k,
                                    size_t *k_len, bool *found);

/* Moves to the next key. Returns 0 or STORAGE; *found false at the end. */
USHER_MUST_CHECK int store_cursor_next(struct store_cursor *c, const void **k, size_t *k_len,
                                       const void **v, size_t *v_len, bool *found);

#endif
