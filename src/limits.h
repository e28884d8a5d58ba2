/*
 * Every bound of usher in one place (STYLE.md section 7).
 *
 * Each limit says what it bounds, why it has its value, and what a client
 * sees when it is reached. Reaching a bound changes nothing: the command is
 * answered with the named code and the state stays as it was.
 */
#ifndef USHER_SRC_LIMITS_H
#define USHER_SRC_LIMITS_H

#include <assert.h>

/* Seats (seated places) in one event. The brief asks for at least 200,000;
 * 2^18 keeps a dense seat index in 18 bits. Client sees LIMIT_EVENT_SEATS. */
#define USHER_EVENT_SEATS_MAX 262144u

/* Sections in one event; each has a label and a kind. LIMIT_EVENT_SECTIONS. */
#define USHER_EVENT_SECTIONS_MAX 256u

/* Rows in one event (all sections together). Large arenas have ~2,000 rows.
 * LIMIT_EVENT_ROWS. */
#define USHER_EVENT_ROWS_MAX 8192u

/* Seats in one row. Bounds a best-available scan of one row. LIMIT_ROW_SEATS. */
#define USHER_ROW_SEATS_MAX 1024u

/* Places of one general-admission section. LIMIT_GA_CAPACITY. */
#define USHER_GA_CAPACITY_MAX 1000000u

/* Bytes of a section or row label (without NUL). LIMIT_LABEL_LEN. */
#define USHER_LABEL_LEN_MAX 15u

/* Bytes of an event name (without NUL). LIMIT_LABEL_LEN. */
#define USHER_NAME_LEN_MAX 63u

/* Bytes of a payment reference stored with a booking. LIMIT_PAYMENT_REF. */
#define USHER_PAYMENT_REF_LEN_MAX 63u

/* Hard ceiling on seats (or GA places) in one hold; an event sets its own
 * limit at or below it (default USHER_HOLD_SEATS_DEFAULT). Keeps a hold
 * record and its result small and bounded. LIMIT_HOLD_SEATS. */
#define USHER_HOLD_SEATS_MAX     64u
#define USHER_HOLD_SEATS_DEFAULT 10u

/* Hard ceiling on the seats one customer may hold and book in one event;
 * default when the event says 0. LIMIT_CUSTOMER_SEATS. */
#define USHER_CUSTOMER_SEATS_MAX     1024u
#define USHER_CUSTOMER_SEATS_DEFAULT 10u

/* Events stored by one shard. Bounds the event cache and the store size.
 * LIMIT_SHARD_EVENTS. */
#define USHER_SHARD_EVENTS_MAX 1024u

/* Hold time to live: an event's bounds must lie inside [MIN, MAX]; defaults
 * are used when the creator gives 0. Shoppers pay within 5 to 10 minutes.
 * TTL_OUT_OF_RANGE. */
#define USHER_HOLD_TTL_MIN_MS         1000u
#define USHER_HOLD_TTL_MAX_MS         3600000u
#define USHER_HOLD_TTL_DEFAULT_MIN_MS 60000u
#define USHER_HOLD_TTL_DEFAULT_MAX_MS 600000u
/* Total lifetime of a hold across extensions; default 30 minutes, ceiling
 * 2 hours. LIMIT_HOLD_LIFETIME. */
#define USHER_HOLD_LIFETIME_DEFAULT_MS 1800000u
#define USHER_HOLD_LIFETIME_MAX_MS     7200000u

/* Commands in one batch (one Raft entry). Ids are (index << 12 | slot), so
 * a batch may never hold more than 4096. LIMIT_BATCH. */
#define USHER_BATCH_CMDS_MAX 1024u
#define USHER_ID_SLOT_BITS   12u

/* Bytes of one encoded command: the largest is an event create with the
 * maximum rows and labels (~8192 * 20 bytes). LIMIT_MSG_SIZE. */
#define USHER_CMD_BYTES_MAX 262144u /* 256 KiB; a literal so size_t comparisons do not widen */

/* Bytes of one encoded batch. LIMIT_MSG_SIZE. */
#define USHER_BATCH_BYTES_MAX 1048576u /* 1 MiB */

/* Bytes of one client frame (length field included): a command plus the
 * header, or the largest reply (availability of the largest event: a 32 KiB
 * bitmap and 256 sections). Checked on the length field before anything is
 * buffered; a larger frame closes the connection (LIMIT_MSG_SIZE). */
#define USHER_FRAME_BYTES_MAX 327680u /* 320 KiB */

/* Holds one sweep command may expire or purge, so a mass expiry at one
 * instant cannot stall a shard: the rest wait for the next sweep. */
#define USHER_SWEEP_MAX 1024u

/* Entries returned by one seat-history read; older ones are reported as
 * "more". */
#define USHER_HISTORY_MAX 256u

/* Holds and bookings listed by one customer read ("more" past it). */
#define USHER_CUSTOMER_ITEMS_MAX 256u

/* Idempotency window: default 24 h, ceiling 7 days. Results of mutating
 * commands are kept this long, and so are the records of ended holds. */
#define USHER_IDEM_WINDOW_DEFAULT_MS (24ull * 3600u * 1000u)
#define USHER_IDEM_WINDOW_MAX_MS     (7ull * 24u * 3600u * 1000u)

/* Bytes of a stored command result (the largest is a hold with the maximum
 * seats). */
#define USHER_RESULT_BYTES_MAX 512u

/* LMDB map size of one shard store: bounded, sparse file. Commands are
 * refused with LIMIT_STORE_FULL when less than USHER_STORE_RESERVE_BYTES
 * would remain, so MDB_MAP_FULL never happens inside apply. */
#define USHER_STORE_MAP_BYTES_DEFAULT (4ull * 1024u * 1024u * 1024u)
#define USHER_STORE_MAP_BYTES_MIN     (64ull * 1024u * 1024u)
#define USHER_STORE_RESERVE_BYTES     (32ull * 1024u * 1024u)

static_assert(USHER_BATCH_CMDS_MAX <= (1u << USHER_ID_SLOT_BITS), "slot bits hold a batch");
static_assert(USHER_HOLD_SEATS_DEFAULT <= USHER_HOLD_SEATS_MAX, "default under ceiling");
static_assert(USHER_HOLD_TTL_DEFAULT_MAX_MS <= USHER_HOLD_LIFETIME_DEFAULT_MS, "ttl fits lifetime");
static_assert(USHER_ROW_SEATS_MAX <= 65535u, "row seat count is a u16");
static_assert(USHER_EVENT_SEATS_MAX >= 200000u, "brief: 200,000 seats per event");
static_assert(USHER_FRAME_BYTES_MAX >= USHER_CMD_BYTES_MAX + 4096u, "a command fits a frame");

#endif
