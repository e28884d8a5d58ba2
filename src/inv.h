/*
 * The inventory state machine: one shard's seats, holds, bookings and
 * idempotency records in one LMDB environment (docs/STATE.md).
 *
 * It is deterministic: it reads no clock, no randomness and no network, and
 * does not log (STYLE.md 1.2). Time, the log position and the commands come
 * in as arguments, so every replica that applies the same batches reaches the
 * same state, byte for byte (inv_dump()).
 *
 * Time rule (DESIGN guarantee 3): a batch is applied at now = max(ts_ms of the
 * batch, now of the previous batch). A hold with expiry E is alive while
 * now < E and expired from now >= E on; an expired hold is never honoured,
 * whether or not a sweep has freed it yet.
 *
 * Ids: a command in slot s (0-based) of the batch at log index i gets the id
 * (i << USHER_ID_SLOT_BITS) | s for the hold or booking it creates.
 */
#ifndef USHER_SRC_INV_H
#define USHER_SRC_INV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd.h"
#include "err.h"
#include "event.h"
#include "limits.h"

struct inv;

struct inv_options {
    uint64_t map_bytes;      /* LMDB map size; 0: USHER_STORE_MAP_BYTES_DEFAULT */
    uint64_t idem_window_ms; /* 0: USHER_IDEM_WINDOW_DEFAULT_MS; same on every replica */
    bool durable;            /* true: fsync every commit; false: the Raft log is the
                                durable copy and LMDB syncs on close (RAFT-NOTES §3) */
};

/*
 * Opens (creating if needed) the store in directory dir, which must exist.
 * Returns 0 and *out, or USHER_STORAGE / USHER_INVALID / USHER_NOMEM with a
 * message in errmsg (USHER_ERRMSG_MAX bytes). Close with inv_close().
 */
USHER_MUST_CHECK int inv_open(const char *dir, const struct inv_options *opts, struct inv **out,
                              char *errmsg);

/* Syncs and closes the store and frees inv; NULL is fine. */
void inv_close(struct inv *inv);

/*
 * Applies a batch of n commands at log index `index` with the leader stamp
 * ts_ms, in one LMDB write transaction (cmds and results may be NULL when n
 * is 0: an empty batch advances the index and time). results must have room for n; each
 * command gets its own result and a refused command changes nothing. Borrows
 * cmds for the call.
 *
 * Returns 0 when the batch was applied; USHER_STALE_INDEX when index is not
 * above the applied index (nothing changes: a replay after restart);
 * USHER_LIMIT_BATCH when n > USHER_BATCH_CMDS_MAX; USHER_STORAGE when LMDB
 * failed (the caller must stop: STYLE.md 4.7).
 */
USHER_MUST_CHECK int inv_apply(struct inv *inv, uint64_t index, uint64_t ts_ms,
                               const struct cmd *cmds, uint32_t n, struct cmd_result *results);

/*
 * Decodes an encoded batch (codec.h) and applies it as inv_apply() does;
 * *n gets the command count. A batch that does not decode is applied as an
 * empty batch (the index advances, nothing else) and returns its decode code
 * in *decode_status, so a bad entry in the log cannot wedge a replica.
 */
USHER_MUST_CHECK int inv_apply_encoded(struct inv *inv, uint64_t index, const uint8_t *buf,
                                       size_t len, struct cmd_result *results, uint32_t *n,
                                       int *decode_status);

/*
 * Says, without changing anything, whether applying cmd now (at time now_ms,
 * or the state machine's time if later) to the current state would give a
 * final answer that needs no log entry: the first result of an earlier
 * command with the same client id and idempotency key (replayed), or a
 * refusal of a new hold (a seat taken, no adjacent seats, sold out, a bad
 * seat or section, a closed sale, an unknown event...). Sets *decided and fills *res (as
 * inv_apply() would) in those cases; otherwise *decided is false and *res undefined. The caller
 * must know the store is the current state (the leader lease) and that no
 * command with the same key is on its way to the log. Returns 0 or STORAGE.
 */
USHER_MUST_CHECK int inv_precheck(struct inv *inv, const struct cmd *cmd, uint64_t now_ms,
                                  struct cmd_result *res, bool *decided);

/* Returns the log index of the last applied batch (0 for a new store). */
uint64_t inv_applied_index(struct inv *inv);

/* Returns the state machine's time: the largest batch stamp applied. */
uint64_t inv_now(struct inv *inv);

/*
 * Reports the store's bytes in use and its map size. The daemon calls
 * inv_store_is_full() before it admits a command and answers LIMIT_STORE_FULL
 * when fewer than USHER_STORE_RESERVE_BYTES remain: admission, not apply,
 * decides, so replicas never diverge on it and MDB_MAP_FULL never happens in
 * apply. Returns 0 or STORAGE.
 */
USHER_MUST_CHECK int inv_usage(struct inv *inv, uint64_t *used_bytes, uint64_t *map_bytes);

/* Returns true when fewer than USHER_STORE_RESERVE_BYTES of the map remain
 * (or the usage cannot be read). */
bool inv_store_is_full(struct inv *inv);

/* ---- Reads. Each runs in its own read transaction; none changes state. ---- */

/* Copies the description of an event into *out (caller frees with
 * event_destroy()). Returns 0, EVENT_NOT_FOUND, NOMEM or STORAGE. */
USHER_MUST_CHECK int inv_event_get(struct inv *inv, uint64_t event_id, struct event **out);

/* Lists up to cap event ids in ascending order, starting after `after`. */
USHER_MUST_CHECK int inv_event_list(struct inv *inv, uint64_t after, uint64_t *ids, uint32_t cap,
                                    uint32_t *n);

struct inv_section_avail {
    uint32_t free; /* seats free at now_ms; GA: capacity - held - booked */
    uint32_t held; /* seats held by holds alive at now_ms; GA: places of
                      active holds until a sweep expires them */
    uint32_t booked;
    uint32_t capacity; /* seats in the section, or GA capacity */
};

struct inv_availability {
    uint64_t event_id;
    uint64_t applied_index; /* position the answer reflects */
    uint64_t now_ms;        /* the time used: the state machine's time */
    uint32_t section_count;
    uint32_t seat_count;
    struct inv_section_avail sections[USHER_EVENT_SECTIONS_MAX];
    /* bit i (byte i / 8, bit i % 8) set when seat i is free */
    uint8_t free_bitmap[USHER_EVENT_SEATS_MAX / 8];
};

/* Fills *out (caller-owned, large: allocate it) with the availability of an
 * event at the state machine's time. Returns 0, EVENT_NOT_FOUND or STORAGE. */
USHER_MUST_CHECK int inv_availability(struct inv *inv, uint64_t event_id,
                                      struct inv_availability *out);

enum inv_hold_state {
    INV_HOLD_ACTIVE = 1, /* alive while now < expires_at */
    INV_HOLD_RELEASED = 2,
    INV_HOLD_EXPIRED = 3,
    INV_HOLD_BOOKED = 4,
};

struct inv_hold {
    uint64_t id;
    uint64_t event_id;
    uint64_t customer_id;
    uint8_t state;       /* enum inv_hold_state as stored (an ACTIVE hold past its
                            expiry is reported EXPIRED by reads) */
    uint8_t ga;          /* 1: GA places of `section`, 0: seats */
    uint16_t section;    /* GA holds only (seated holds may span sections): 0 */
    uint16_t seat_count; /* seats or places */
    uint64_t created_at_ms;
    uint64_t expires_at_ms;
    uint64_t ended_at_ms; /* release, expiry or booking time; 0 while active */
    uint64_t booking_id;  /* when BOOKED */
    uint32_t seats[USHER_HOLD_SEATS_MAX];
};

/* Reads a hold (kept for the idempotency window after it ends). Returns 0,
 * HOLD_NOT_FOUND or STORAGE. */
USHER_MUST_CHECK int inv_hold_get(struct inv *inv, uint64_t hold_id, struct inv_hold *out);

enum inv_booking_state {
    INV_BOOKING_CONFIRMED = 1,
    INV_BOOKING_CANCELLED = 2,
};

struct inv_booking {
    uint64_t id;
    uint64_t event_id;
    uint64_t customer_id;
    uint64_t hold_id;
    uint8_t state; /* enum inv_booking_state */
    uint8_t ga;
    uint16_t section;
    uint16_t seat_count;
    uint64_t booked_at_ms;
    uint64_t cancelled_at_ms;
    char payment_ref[USHER_PAYMENT_REF_LEN_MAX + 1];
    uint32_t seats[USHER_HOLD_SEATS_MAX];
};

/* Reads a booking (kept forever). Returns 0, BOOKING_NOT_FOUND or STORAGE. */
USHER_MUST_CHECK int inv_booking_get(struct inv *inv, uint64_t booking_id, struct inv_booking *out);

struct inv_customer_item {
    uint8_t is_booking; /* 0: an active hold, 1: a confirmed booking */
    uint64_t id;
    uint16_t seat_count;
    uint64_t expires_at_ms; /* holds */
};

struct inv_customer_items {
    uint32_t count;
    uint8_t more; /* 1 when more than USHER_CUSTOMER_ITEMS_MAX exist */
    struct inv_customer_item items[USHER_CUSTOMER_ITEMS_MAX];
};

/* Lists a customer's active (unexpired) holds and confirmed bookings for an
 * event, in id order. Returns 0, EVENT_NOT_FOUND or STORAGE. */
USHER_MUST_CHECK int inv_customer_list(struct inv *inv, uint64_t event_id, uint64_t customer_id,
                                       struct inv_customer_items *out);

enum inv_history_kind {
    INV_HISTORY_HOLD = 1,
    INV_HISTORY_RELEASE = 2,
    INV_HISTORY_EXPIRE = 3,
    INV_HISTORY_BOOK = 4,
    INV_HISTORY_CANCEL = 5,
};

struct inv_history_entry {
    uint8_t kind;   /* enum inv_history_kind */
    uint64_t at_ms; /* when it happened (expiry: the hold's expiry time) */
    uint64_t id;    /* hold id (HOLD, RELEASE, EXPIRE), booking id (BOOK, CANCEL) */
    uint64_t customer_id;
};

struct inv_seat_history {
    uint32_t count;
    uint8_t more; /* 1 when older entries exist beyond USHER_HISTORY_MAX */
    struct inv_history_entry entries[USHER_HISTORY_MAX]; /* newest first */
};

/* Reads the history of one seat, newest first. Returns 0, EVENT_NOT_FOUND,
 * NO_SUCH_SEAT or STORAGE. */
USHER_MUST_CHECK int inv_seat_history(struct inv *inv, uint64_t event_id, uint32_t seat_index,
                                      struct inv_seat_history *out);

/* ---- Whole-state operations ---- */

/*
 * Writes a canonical text dump of the whole state (every table in key order,
 * one record per line, hex) to f. Two stores that applied the same batches
 * give identical dumps. Returns 0 or STORAGE.
 */
USHER_MUST_CHECK int inv_dump(struct inv *inv, FILE *f);

/*
 * Exports the whole state as one byte stream (docs/STATE.md "Snapshot")
 * into a buffer allocated with mem_alloc(), owned by the caller (mem_free()).
 * Returns 0, NOMEM or STORAGE.
 */
USHER_MUST_CHECK int inv_snapshot_export(struct inv *inv, uint8_t **out, size_t *len);

/*
 * The same export in three steps, so that the bytes can be written on
 * another thread while the store keeps applying (raft/fsm.c): begin opens a
 * read transaction fixed at the current applied index (on the store's
 * thread); write serialises that state into a mem_alloc()'d buffer and may
 * run on any one thread at a time (the environment is MDB_NOTLS, and write
 * touches nothing of inv but the transaction); end closes it (on the
 * store's thread, before inv_close()). begin returns 0, NOMEM or STORAGE;
 * write returns 0, NOMEM or STORAGE.
 */
struct inv_snapshot;
USHER_MUST_CHECK int inv_snapshot_begin(struct inv *inv, struct inv_snapshot **out);
USHER_MUST_CHECK int inv_snapshot_write(struct inv_snapshot *s, uint8_t **out, size_t *len);
void inv_snapshot_end(struct inv_snapshot *s);

/* The applied index the snapshot's state is at. */
uint64_t inv_snapshot_index(const struct inv_snapshot *s);

/*
 * Replaces the whole state by a stream from inv_snapshot_export(). The stream
 * is checked (magic, version, checksum, record framing) before anything
 * changes; a bad stream returns BAD_REQUEST or BAD_VERSION and changes
 * nothing. Borrows buf for the call. Returns 0, BAD_*, or STORAGE.
 */
USHER_MUST_CHECK int inv_snapshot_restore(struct inv *inv, const uint8_t *buf, size_t len);

/*
 * Checks the invariants of the whole state (seats against holds and
 * bookings, counters, indexes). Returns 0, or USHER_INTERNAL with the first
 * broken invariant described in errmsg. For tests, the demo and debugging.
 */
USHER_MUST_CHECK int inv_check(struct inv *inv, char *errmsg);

#endif
