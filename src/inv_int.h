/*
 * Internals shared by the inv_*.c files: record layouts, key layouts and the
 * per-batch apply context. docs/STATE.md draws the same tables.
 *
 * Records are fixed-layout structs with explicit padding (zeroed before they
 * are written), stored in host byte order: usher runs on little-endian
 * x86_64/arm64 only, and a snapshot says its format version. Keys are
 * big-endian so that LMDB's byte order is numeric order.
 *
 *   table        key (big-endian)                   value
 *   meta         "state"                            struct meta_state
 *   events       event_id u64                       codec_event_encode() bytes
 *   seats        event_id u64 | chunk u32           struct seat_slot[64]
 *   ga           event_id u64 | section u32         struct ga_rec
 *   holds        hold_id u64                        struct hold_rec + u32 seats[n]
 *   expiry       time u64 | hold_id u64             (empty)
 *   bookings     booking_id u64                     struct booking_rec + u32 seats[n]
 *   customers    event u64 | customer u64 | id u64  struct cust_rec
 *   idem         client_id u64 | idem_key u64       struct idem_rec + result bytes
 *   idem_expiry  created_ms u64 | seq u64           client_id u64 | idem_key u64
 *   journal      seq u64                            struct journal_rec + journal_seat[n]
 *
 * The expiry table holds one key per hold: (expires_at, id) while the hold
 * is active, (ended_at + idempotency window, id) once it ended, when its
 * record is due to be purged. A sweep walks it in key order.
 */
#ifndef USHER_SRC_INV_INT_H
#define USHER_SRC_INV_INT_H

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "event.h"
#include "inv.h"
#include "limits.h"
#include "store.h"

#define INV_FORMAT      1u
#define SEATS_PER_CHUNK 64u

/* Seat owner: 0 when free, else a kind in the top two bits and an id. */
#define OWNER_HOLD      (1ull << 62)
#define OWNER_BOOKING   (2ull << 62)
#define OWNER_KIND_MASK (3ull << 62)
#define OWNER_ID_MASK   (~OWNER_KIND_MASK)

/* Bound on the customer items one limit check may scan (alive and
 * expired-unswept holds plus bookings); past it the hold is refused with
 * LIMIT_CUSTOMER_SEATS, deterministically. */
#define INV_CUSTOMER_SCAN_MAX 4096u

/* Bound on history entries followed when reading one seat's history. */
#define INV_HISTORY_SCAN_MAX USHER_HISTORY_MAX

struct meta_state {
    uint32_t format;
    uint32_t event_count;
    uint64_t applied_index;
    uint64_t now_ms;
    uint64_t journal_seq; /* last journal record written */
    uint64_t idem_seq;    /* last idempotency record written */
};

static_assert(sizeof(struct meta_state) == 40, "meta_state layout");

struct seat_slot {
    uint64_t owner;         /* 0, OWNER_HOLD | hold id, OWNER_BOOKING | booking id */
    uint64_t expires_at_ms; /* the holding hold's expiry; 0 otherwise */
    uint64_t last_journal;  /* newest journal record about this seat; 0 if none */
};

static_assert(sizeof(struct seat_slot) == 24, "seat_slot layout");

struct seat_chunk {
    struct seat_slot slots[SEATS_PER_CHUNK];
};

struct ga_rec {
    uint32_t capacity;
    uint32_t held; /* places of ACTIVE holds, swept or not */
    uint32_t booked;
    uint32_t reserved;
};

static_assert(sizeof(struct ga_rec) == 16, "ga_rec layout");

struct hold_rec {
    uint64_t event_id;
    uint64_t customer_id;
    uint64_t created_at_ms;
    uint64_t expires_at_ms;
    uint64_t ended_at_ms;
    uint64_t booking_id;
    uint8_t state; /* enum inv_hold_state */
    uint8_t ga;
    uint16_t section;
    uint16_t seat_count;
    uint16_t reserved;
    uint32_t seats[USHER_HOLD_SEATS_MAX]; /* only seat_count stored (seated holds) */
};

#define HOLD_REC_HEAD 56u
static_assert(sizeof(struct hold_rec) == HOLD_REC_HEAD + 4u * USHER_HOLD_SEATS_MAX, "hold_rec");

struct booking_rec {
    uint64_t event_id;
    uint64_t customer_id;
    uint64_t hold_id;
    uint64_t booked_at_ms;
    uint64_t cancelled_at_ms;
    uint8_t state; /* enum inv_booking_state */
    uint8_t ga;
    uint16_t section;
    uint16_t seat_count;
    uint8_t ref_len;
    uint8_t reserved;
    char payment_ref[USHER_PAYMENT_REF_LEN_MAX + 1];
    uint32_t seats[USHER_HOLD_SEATS_MAX];
};

#define BOOKING_REC_HEAD 112u
static_assert(sizeof(struct booking_rec) == BOOKING_REC_HEAD + 4u * USHER_HOLD_SEATS_MAX,
              "booking_rec");

struct cust_rec {
    uint8_t is_booking;
    uint8_t reserved;
    uint16_t count;
    uint32_t reserved2;
    uint64_t expires_at_ms; /* holds */
};

static_assert(sizeof(struct cust_rec) == 16, "cust_rec layout");

struct idem_rec {
    uint64_t created_at_ms;
    uint64_t digest;
    uint64_t seq;
    uint16_t result_len;
    uint16_t reserved[3];
    uint8_t result[USHER_RESULT_BYTES_MAX];
};

#define IDEM_REC_HEAD 32u

struct journal_seat {
    uint32_t seat;
    uint32_t reserved;
    uint64_t prev; /* previous journal record of this seat; 0 if none */
};

struct journal_rec {
    uint8_t kind; /* enum inv_history_kind */
    uint8_t reserved;
    uint16_t seat_count;
    uint32_t reserved2;
    uint64_t at_ms;
    uint64_t id;
    uint64_t customer_id;
    uint64_t event_id;
    struct journal_seat seats[USHER_HOLD_SEATS_MAX];
};

#define JOURNAL_REC_HEAD 40u
static_assert(sizeof(struct journal_seat) == 16, "journal_seat layout");

/* The open-addressing cache of decoded events (immutable once created). */
#define INV_EVENT_CACHE_SLOTS (2u * USHER_SHARD_EVENTS_MAX)

struct inv {
    struct store *store;
    uint64_t idem_window_ms;
    uint64_t applied_index; /* mirrors meta_state, for cheap reads */
    uint64_t now_ms;
    uint64_t cache_ids[INV_EVENT_CACHE_SLOTS];
    struct event *cache_events[INV_EVENT_CACHE_SLOTS];
    /* Per cached event, built on first use: seats with no owner per row.
     * Lets best-available skip full rows without reading them; exact
     * because every owner change goes through inv_seats_set(). */
    uint16_t *cache_row_free[INV_EVENT_CACHE_SLOTS];
    struct cmd *batch_cmds; /* USHER_BATCH_CMDS_MAX, for inv_apply_encoded() */
};

/* The state of one batch being applied. */
struct inv_txn {
    struct inv *inv;
    struct store_txn st;
    struct meta_state meta;
    uint64_t index; /* log index of the batch */
    uint64_t now;   /* time of the batch (time rule) */
    /* The last seat chunk read or written in this batch: a hold checks its
     * seats and then takes them, so the second read comes from here. Every
     * chunk write of the batch goes through inv_txn_chunk_store(). */
    bool chunk_valid;
    uint64_t chunk_event;
    uint32_t chunk_index;
    struct seat_chunk chunk;
};

/* ---- keys ---- */
void inv_key_u64(uint8_t key[8], uint64_t a);
void inv_key_u64_u32(uint8_t key[12], uint64_t a, uint32_t b);
void inv_key_u64_u64(uint8_t key[16], uint64_t a, uint64_t b);
void inv_key_u64_u64_u64(uint8_t key[24], uint64_t a, uint64_t b, uint64_t c);

/* The id of the object created by the command in `slot` of the batch. */
uint64_t inv_id_make(uint64_t index, uint32_t slot);

/* ---- events (inv_event.c) ---- */
/* Finds an event (cache, then store). *out is borrowed from the cache, valid
 * until the inv is closed or restored. Returns 0, EVENT_NOT_FOUND, STORAGE
 * or NOMEM. */
USHER_MUST_CHECK int inv_event_find(struct inv *inv, struct store_txn *st, uint64_t event_id,
                                    const struct event **out);
void inv_event_cache_clear(struct inv *inv);

/* Returns the per-row counts of seats with no owner for a cached event,
 * building them from the chunks on first use. Returns 0, NOMEM or STORAGE. */
USHER_MUST_CHECK int inv_event_row_free(struct inv *inv, struct store_txn *st,
                                        const struct event *e, uint16_t **out);

/* Adjusts the count of a seat's row by delta (+1 freed, -1 taken), if built. */
void inv_event_row_free_adjust(struct inv *inv, const struct event *e, uint32_t seat, int delta);

/* Returns the built counts of an event or NULL (for inv_check()). */
const uint16_t *inv_event_row_free_peek(struct inv *inv, uint64_t event_id);
USHER_MUST_CHECK int inv_event_apply_create(struct inv_txn *t, const struct cmd *cmd,
                                            struct cmd_result *res);

/* ---- holds (inv_hold.c) ---- */
USHER_MUST_CHECK int inv_hold_apply_seats(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                                          struct cmd_result *res);
/* The checks of a new hold (named seats, best available, general
 * admission) up to finding its seats or places free, with no write (a read
 * transaction will do): res->status gets the refusal, or 0 when the hold
 * may succeed (the customer's limit is not checked) or cmd is not a new
 * hold. */
USHER_MUST_CHECK int inv_hold_check(struct inv_txn *t, const struct cmd *cmd,
                                    struct cmd_result *res);
USHER_MUST_CHECK int inv_hold_apply_best(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                                         struct cmd_result *res);
USHER_MUST_CHECK int inv_hold_apply_ga(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                                       struct cmd_result *res);
USHER_MUST_CHECK int inv_hold_apply_extend(struct inv_txn *t, const struct cmd *cmd,
                                           struct cmd_result *res);
USHER_MUST_CHECK int inv_hold_apply_release(struct inv_txn *t, const struct cmd *cmd,
                                            struct cmd_result *res);

/* Loads a hold record; *found false when absent. */
USHER_MUST_CHECK int inv_hold_load(struct store_txn *st, uint64_t hold_id, struct hold_rec *h,
                                   bool *found);
USHER_MUST_CHECK int inv_hold_store(struct inv_txn *t, uint64_t hold_id, const struct hold_rec *h);

/* Ends an ACTIVE hold: frees its seats or places, journals `kind` at at_ms,
 * moves its expiry key to the purge time, drops its customer item, and sets
 * its state. Does not store the hold record (the caller does). */
USHER_MUST_CHECK int inv_hold_end(struct inv_txn *t, uint64_t hold_id, struct hold_rec *h,
                                  uint8_t state, uint8_t kind, uint64_t at_ms);

/* Checks that a hold may be acted on by cmd (exists, event, owner, alive). */
USHER_MUST_CHECK int inv_hold_check_live(struct inv_txn *t, const struct cmd *cmd, uint64_t hold_id,
                                         struct hold_rec *h, int *status);

/* ---- bookings (inv_book.c) ---- */
USHER_MUST_CHECK int inv_book_apply(struct inv_txn *t, const struct cmd *cmd, uint32_t slot,
                                    struct cmd_result *res);
USHER_MUST_CHECK int inv_book_apply_cancel(struct inv_txn *t, const struct cmd *cmd,
                                           struct cmd_result *res);
USHER_MUST_CHECK int inv_booking_load(struct store_txn *st, uint64_t booking_id,
                                      struct booking_rec *b, bool *found);

/* ---- seats (inv_hold.c) ---- */
/* Sets the owner and expiry of each of seats[0..n) (ascending) of an event,
 * journalling one record of `kind`, chunk by chunk. */
USHER_MUST_CHECK int inv_seats_set(struct inv_txn *t, uint64_t event_id, const uint32_t *seats,
                                   uint16_t n, uint64_t owner, uint64_t expires_at_ms, uint8_t kind,
                                   uint64_t journal_id, uint64_t customer_id, uint64_t at_ms);
USHER_MUST_CHECK int inv_chunk_load(struct store_txn *st, uint64_t event_id, uint32_t chunk,
                                    struct seat_chunk *c);
/* The same inside a batch, through the batch's chunk cache. */
USHER_MUST_CHECK int inv_txn_chunk_load(struct inv_txn *t, uint64_t event_id, uint32_t chunk,
                                        struct seat_chunk *c);
USHER_MUST_CHECK int inv_txn_chunk_store(struct inv_txn *t, uint64_t event_id, uint32_t chunk,
                                         const struct seat_chunk *c);
/* Is a seat free at `now`: no owner, or a hold that expired. */
bool inv_slot_is_free(const struct seat_slot *s, uint64_t now);

/* ---- GA counters ---- */
USHER_MUST_CHECK int inv_ga_load(struct store_txn *st, uint64_t event_id, uint32_t section,
                                 struct ga_rec *g);
USHER_MUST_CHECK int inv_ga_store(struct inv_txn *t, uint64_t event_id, uint32_t section,
                                  const struct ga_rec *g);

/* ---- journal ---- */
/* Appends a journal record without seats (GA holds and bookings). */
USHER_MUST_CHECK int inv_journal_note(struct inv_txn *t, uint8_t kind, uint64_t at_ms, uint64_t id,
                                      uint64_t customer_id, uint64_t event_id);

/* ---- customers ---- */
USHER_MUST_CHECK int inv_customer_put(struct inv_txn *t, uint64_t event_id, uint64_t customer_id,
                                      uint64_t id, const struct cust_rec *c);
USHER_MUST_CHECK int inv_customer_del(struct inv_txn *t, uint64_t event_id, uint64_t customer_id,
                                      uint64_t id);

/* ---- sweep (inv_sweep.c) ---- */
USHER_MUST_CHECK int inv_sweep_apply(struct inv_txn *t, const struct cmd *cmd,
                                     struct cmd_result *res);
/* Expires one ACTIVE hold (lazily, when its seat is wanted, or by a sweep). */
USHER_MUST_CHECK int inv_hold_expire(struct inv_txn *t, uint64_t hold_id, struct hold_rec *h);

/* ---- meta ---- */
USHER_MUST_CHECK int inv_meta_load(struct store_txn *st, struct meta_state *m);
USHER_MUST_CHECK int inv_meta_store(struct store_txn *st, const struct meta_state *m);

#endif
