/*
 * Whole-state operations: the canonical dump and the snapshot stream.
 *
 * Snapshot stream (little-endian), every table in order, keys ascending:
 *
 *   magic "USHRSNAP" (8) | u32 version (=1) | u32 table_count |
 *   u64 applied_index | u64 now_ms |
 *   per table: u32 table | u64 record_count | records: u16 key_len | u32 val_len | key | value
 *   u64 xxh64 of everything before it
 *
 * Restore checks the whole stream (checksum, framing, key order, lengths)
 * before it changes anything, then replaces every table in one write
 * transaction: a bad stream changes nothing.
 */
#include <stdio.h>
#include <string.h>
#include <xxhash.h>

#include "assertion.h"
#include "buf.h"
#include "inv_int.h"
#include "mem.h"

static const char snap_magic[8] = { 'U', 'S', 'H', 'R', 'S', 'N', 'A', 'P' };
#define SNAP_VERSION      1u
#define SNAP_HEADER_BYTES 32u
#define SNAP_TABLE_BYTES  12u
#define SNAP_RECORD_BYTES 6u
#define SNAP_VALUE_MAX    1048576u /* 1 MiB */

static void dump_hex(FILE *f, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        (void)fprintf(f, "%02x", b[i]);
    }
}

/* Walks every record of a table, calling fn for each; stops at its error. */
typedef int (*record_fn)(void *ctx, const void *k, size_t kl, const void *v, size_t vl);

static int table_walk(struct store_txn *st, enum store_table table, record_fn fn, void *ctx)
{
    struct store_cursor c = { NULL };
    int rc = store_cursor_open(st, table, &c);
    const void *k = NULL;
    const void *v = NULL;
    size_t kl = 0;
    size_t vl = 0;
    bool found = false;
    if (rc == 0) {
        rc = store_cursor_seek(&c, NULL, 0, &k, &kl, &v, &vl, &found);
    }
    while (rc == 0 && found) {
        rc = fn(ctx, k, kl, v, vl);
        if (rc == 0) {
            rc = store_cursor_next(&c, &k, &kl, &v, &vl, &found);
        }
    }
    store_cursor_close(&c);
    return rc;
}

static int dump_record(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    FILE *f = ctx;
    dump_hex(f, k, kl);
    (void)fputc(' ', f);
    dump_hex(f, v, vl);
    return fputc('\n', f) == EOF ? USHER_STORAGE : 0;
}

int inv_dump(struct inv *inv, FILE *f)
{
    struct store_txn st;
    int rc = store_txn_begin(inv->store, false, &st);
    if (rc != 0) {
        return rc;
    }
    for (unsigned t = 0; rc == 0 && t < STORE_TABLE_COUNT; t++) {
        uint64_t count = 0;
        rc = store_count(&st, (enum store_table)t, &count);
        if (rc == 0) {
            (void)fprintf(f, "table %s %llu\n", store_table_name((enum store_table)t),
                          (unsigned long long)count);
            rc = table_walk(&st, (enum store_table)t, dump_record, f);
        }
    }
    store_txn_abort(&st);
    return rc;
}

struct export_ctx {
    uint8_t *buf;
    size_t cap;
    size_t used;
};

static int export_reserve(struct export_ctx *x, size_t more)
{
    if (x->cap - x->used >= more) {
        return 0;
    }
    size_t cap = x->cap * 2;
    while (cap - x->used < more) {
        cap *= 2;
    }
    uint8_t *p = mem_alloc(cap);
    if (p == NULL) {
        return USHER_NOMEM;
    }
    memcpy(p, x->buf, x->used);
    mem_free(x->buf);
    x->buf = p;
    x->cap = cap;
    return 0;
}

static int export_record(void *ctx, const void *k, size_t kl, const void *v, size_t vl)
{
    struct export_ctx *x = ctx;
    ASSERT(kl <= STORE_KEY_MAX);
    if (vl > SNAP_VALUE_MAX) {
        return USHER_STORAGE;
    }
    int rc = export_reserve(x, SNAP_RECORD_BYTES + kl + vl);
    if (rc != 0) {
        return rc;
    }
    struct buf_writer w;
    buf_writer_init(&w, x->buf + x->used, x->cap - x->used);
    buf_write_u16(&w, (uint16_t)kl);
    buf_write_u32(&w, (uint32_t)vl);
    buf_write_bytes(&w, k, kl);
    buf_write_bytes(&w, v, vl);
    ASSERT(w.ok);
    x->used += w.pos;
    return 0;
}

static int export_tables(struct store_txn *st, struct export_ctx *x)
{
    for (unsigned t = 0; t < STORE_TABLE_COUNT; t++) {
        uint64_t count = 0;
        int rc = store_count(st, (enum store_table)t, &count);
        if (rc == 0) {
            rc = export_reserve(x, SNAP_TABLE_BYTES);
        }
        if (rc != 0) {
            return rc;
        }
        struct buf_writer w;
        buf_writer_init(&w, x->buf + x->used, x->cap - x->used);
        buf_write_u32(&w, t);
        buf_write_u64(&w, count);
        x->used += w.pos;
        rc = table_walk(st, (enum store_table)t, export_record, x);
        if (rc != 0) {
            return rc;
        }
    }
    return 0;
}

/* A snapshot being taken: a read transaction fixed at one applied index. */
struct inv_snapshot {
    struct store_txn st;
    struct meta_state m;
};

int inv_snapshot_begin(struct inv *inv, struct inv_snapshot **out)
{
    struct inv_snapshot *s = mem_alloc(sizeof(*s));
    if (s == NULL) {
        return USHER_NOMEM;
    }
    int rc = store_txn_begin(inv->store, false, &s->st);
    if (rc == 0) {
        rc = inv_meta_load(&s->st, &s->m);
        if (rc != 0) {
            store_txn_abort(&s->st);
        }
    }
    if (rc != 0) {
        mem_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

uint64_t inv_snapshot_index(const struct inv_snapshot *s)
{
    return s->m.applied_index;
}

int inv_snapshot_write(struct inv_snapshot *s, uint8_t **out, size_t *len)
{
    struct export_ctx x = { .cap = 1048576u };
    x.buf = mem_alloc(x.cap);
    if (x.buf == NULL) {
        return USHER_NOMEM;
    }
    struct buf_writer w;
    buf_writer_init(&w, x.buf, x.cap);
    buf_write_bytes(&w, snap_magic, sizeof(snap_magic));
    buf_write_u32(&w, SNAP_VERSION);
    buf_write_u32(&w, STORE_TABLE_COUNT);
    buf_write_u64(&w, s->m.applied_index);
    buf_write_u64(&w, s->m.now_ms);
    x.used = w.pos;
    ASSERT(x.used == SNAP_HEADER_BYTES);
    int rc = export_tables(&s->st, &x);
    if (rc == 0) {
        rc = export_reserve(&x, 8);
    }
    if (rc != 0) {
        mem_free(x.buf);
        return rc;
    }
    uint64_t sum = XXH64(x.buf, x.used, 0);
    buf_writer_init(&w, x.buf + x.used, 8);
    buf_write_u64(&w, sum);
    *out = x.buf;
    *len = x.used + 8;
    return 0;
}

void inv_snapshot_end(struct inv_snapshot *s)
{
    if (s != NULL) {
        store_txn_abort(&s->st);
        mem_free(s);
    }
}

int inv_snapshot_export(struct inv *inv, uint8_t **out, size_t *len)
{
    struct inv_snapshot *s = NULL;
    int rc = inv_snapshot_begin(inv, &s);
    if (rc == 0) {
        rc = inv_snapshot_write(s, out, len);
        inv_snapshot_end(s);
    }
    return rc;
}

/* The meta record must be ours: right key, size and format. */
static bool meta_record_is_valid(const uint8_t *k, size_t kl, const uint8_t *v, size_t vl)
{
    struct meta_state m;
    if (kl != 5 || memcmp(k, "state", 5) != 0 || vl != sizeof(m)) {
        return false;
    }
    memcpy(&m, v, sizeof(m));
    return m.format == INV_FORMAT;
}

/* One pass over the stream: checks framing and key order; with a txn it
 * also writes each record. */
static int restore_pass(struct buf_reader *r, struct store_txn *st)
{
    for (unsigned t = 0; t < STORE_TABLE_COUNT; t++) {
        uint32_t table = buf_read_u32(r);
        uint64_t count = buf_read_u64(r);
        if (!r->ok || table != t || count > buf_reader_left(r) / SNAP_RECORD_BYTES) {
            return USHER_BAD_REQUEST;
        }
        if (t == STORE_META && count > 1) {
            return USHER_BAD_REQUEST; /* the one state record (none in a new store) */
        }
        uint8_t prev[STORE_KEY_MAX] = { 0 };
        size_t prev_len = 0;
        for (uint64_t i = 0; i < count; i++) {
            uint16_t kl = buf_read_u16(r);
            uint32_t vl = buf_read_u32(r);
            if (!r->ok || kl == 0 || kl > STORE_KEY_MAX || vl > SNAP_VALUE_MAX) {
                return USHER_BAD_REQUEST;
            }
            const uint8_t *k = buf_read_bytes(r, kl);
            const uint8_t *v = buf_read_bytes(r, vl);
            if (!r->ok) {
                return USHER_BAD_REQUEST;
            }
            size_t common = kl < prev_len ? kl : prev_len;
            int cmp = memcmp(k, prev, common);
            if (i > 0 && (cmp < 0 || (cmp == 0 && kl <= prev_len))) {
                return USHER_BAD_REQUEST; /* keys must be strictly ascending */
            }
            if (t == STORE_META && !meta_record_is_valid(k, kl, v, vl)) {
                return USHER_BAD_REQUEST;
            }
            memcpy(prev, k, kl);
            prev_len = kl;
            if (st != NULL &&
                store_put(st, (enum store_table)t, k, kl, v, vl, STORE_PUT_APPEND) != 0) {
                return USHER_STORAGE;
            }
        }
    }
    return buf_reader_left(r) == 0 ? 0 : USHER_BAD_REQUEST;
}

static int restore_check(const uint8_t *buf, size_t len, struct buf_reader *body)
{
    if (len < SNAP_HEADER_BYTES + 8) {
        return USHER_BAD_REQUEST;
    }
    struct buf_reader r;
    buf_reader_init(&r, buf + len - 8, 8);
    if (buf_read_u64(&r) != XXH64(buf, len - 8, 0)) {
        return USHER_BAD_REQUEST;
    }
    buf_reader_init(&r, buf, len - 8);
    const uint8_t *magic = buf_read_bytes(&r, sizeof(snap_magic));
    uint32_t version = buf_read_u32(&r);
    uint32_t tables = buf_read_u32(&r);
    (void)buf_read_u64(&r); /* applied index: informational, meta has it */
    (void)buf_read_u64(&r);
    if (!r.ok || memcmp(magic, snap_magic, sizeof(snap_magic)) != 0) {
        return USHER_BAD_REQUEST;
    }
    if (version != SNAP_VERSION || tables != STORE_TABLE_COUNT) {
        return USHER_BAD_VERSION;
    }
    *body = r;
    struct buf_reader dry = r;
    return restore_pass(&dry, NULL);
}

int inv_snapshot_restore(struct inv *inv, const uint8_t *buf, size_t len)
{
    struct buf_reader body;
    int rc = restore_check(buf, len, &body);
    if (rc != 0) {
        return rc;
    }
    /* The restored store takes about what the snapshot does, twice over
     * with LMDB's page overhead: have the blocks before writing. */
    rc = store_reserve(inv->store, 2u * (uint64_t)len);
    if (rc != 0) {
        return rc;
    }
    struct store_txn st;
    rc = store_txn_begin(inv->store, true, &st);
    if (rc != 0) {
        return rc;
    }
    rc = store_clear_all(&st);
    if (rc == 0) {
        rc = restore_pass(&body, &st);
    }
    struct meta_state m;
    if (rc == 0) {
        rc = inv_meta_load(&st, &m);
    }
    if (rc != 0) {
        store_txn_abort(&st);
        /* The stream passed every check, so a failure here is local storage. */
        return USHER_STORAGE;
    }
    rc = store_txn_commit(&st);
    inv_event_cache_clear(inv);
    if (rc == 0) {
        inv->applied_index = m.applied_index;
        inv->now_ms = m.now_ms;
    }
    return rc;
}
