/*
 * Fixture helpers for the unit tests of the inventory state machine (inv.h).
 *
 * A fixture is a store in a temporary directory, optionally with a twin: a
 * second store that is given the same batches. The twin is the reference
 * for "changes nothing": a refused command goes to the store under test and
 * an empty batch at the same index and time goes to the twin, and then their
 * dumps must match (the refusal's idempotency record aside, since the rules
 * store refusals too).
 *
 * Every helper fails the current cmocka test (it asserts) when a call it
 * makes does not succeed, so tests read as the behaviour they check.
 * Commands are built with the fixture's client id and an idempotency key
 * that goes up by one per command, and sealed: their digest is set by
 * encoding and decoding them with the codec, as the daemon would.
 */
#ifndef USHER_TESTS_LIB_INVFIX_H
#define USHER_TESTS_LIB_INVFIX_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd.h"
#include "event.h"
#include "inv.h"
#include "tempdir.h"

/* A plausible leader time (ms since the epoch) that tests start from. */
#define INVFIX_T0 1700000000000ull

/* LMDB map of a fixture store (STYLE.md 3.5: never the library default).
 * Small, since valgrind's cost grows with the mapping (4 GiB: ~10 s per
 * open), yet room for the largest test (a 200,000-seat event). */
#define INVFIX_MAP_BYTES (128ull * 1024u * 1024u)

/* Client id of the commands built by a fixture. */
#define INVFIX_CLIENT_ID 4242u

/* Default rules of an event created with zeros (limits.h). */
#define INVFIX_TTL_MIN  USHER_HOLD_TTL_DEFAULT_MIN_MS
#define INVFIX_TTL_MAX  USHER_HOLD_TTL_DEFAULT_MAX_MS
#define INVFIX_LIFETIME USHER_HOLD_LIFETIME_DEFAULT_MS
#define INVFIX_WINDOW   USHER_IDEM_WINDOW_DEFAULT_MS

struct invfix {
    char dir[TEMPDIR_PATH_MAX];
    char twin_dir[TEMPDIR_PATH_MAX];
    struct inv *inv;    /* the store under test */
    struct inv *twin;   /* NULL, or a second store given the same batches */
    uint64_t index;     /* log index of the last batch the fixture applied */
    uint64_t client_id; /* client id of the commands built */
    uint64_t next_key;  /* idempotency key of the last command built */
};

/* ---- Life cycle ---- */

/* Opens a store (and a twin when `twin`) in fresh temp dirs; opts NULL means
 * INVFIX_MAP_BYTES, the default window and durable = false. */
void invfix_open(struct invfix *f, const struct inv_options *opts, bool twin);

/* Closes the stores and removes their directories. */
void invfix_close(struct invfix *f);

/* cmocka setup/teardown: a heap fixture with a twin and default options. */
int invfix_setup(void **state);
int invfix_setup_single(void **state);
int invfix_teardown(void **state);

/* ---- Events ---- */

struct invfix_section {
    uint8_t kind;         /* EVENT_SECTION_SEATED or EVENT_SECTION_GA */
    uint32_t row_count;   /* SEATED: rows */
    uint16_t row_seats;   /* SEATED: seats in each row */
    uint32_t ga_capacity; /* GA: places */
};

/* Builds an event of the given sections (labels "S<i>", rows "R<j>", seats
 * numbered from 1), all optional fields 0, laid out. Caller owns it. */
struct event *invfix_event_make(uint64_t id, const struct invfix_section *sections, uint32_t n);

/* One seated section of row_count rows of row_seats seats. */
struct event *invfix_event_seated(uint64_t id, uint32_t row_count, uint16_t row_seats);

/* One seated section whose row j has row_seats[j] seats. */
struct event *invfix_event_rows(uint64_t id, const uint16_t *row_seats, uint32_t row_count);

/* Applies a create command for e as its own batch at time ts, then destroys
 * e. Returns the command's status; on success asserts result.id == e->id. */
int invfix_event_add(struct invfix *f, uint64_t ts, struct event *e);

/* ---- Commands ---- */

/* Sets c->digest the way codec_cmd_decode() does (encode, decode). */
void invfix_cmd_seal(struct cmd *c);

/* Returns the id made by slot `slot` of the batch at log index `index`. */
uint64_t invfix_id(uint64_t index, uint32_t slot);

struct cmd invfix_cmd_create(struct invfix *f, struct event *e); /* borrows e */
struct cmd invfix_cmd_hold_seats(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                                 uint32_t ttl_ms, const uint32_t *seats, uint16_t seat_count);
struct cmd invfix_cmd_hold_best(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                                uint32_t ttl_ms, uint16_t section, uint16_t count);
struct cmd invfix_cmd_hold_ga(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                              uint32_t ttl_ms, uint16_t section, uint16_t count);
struct cmd invfix_cmd_extend(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                             uint64_t hold_id, uint32_t ttl_ms);
struct cmd invfix_cmd_release(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                              uint64_t hold_id);
struct cmd invfix_cmd_book(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                           uint64_t hold_id, const char *payment_ref);
struct cmd invfix_cmd_cancel(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                             uint64_t booking_id);
struct cmd invfix_cmd_sweep(uint32_t max);

/* ---- Applying ---- */

/* Applies cmds as one batch at the next index stamped ts, on the store and
 * the twin; asserts both return 0 and give equal results. results: room
 * for n (may be NULL when n == 0). */
void invfix_apply(struct invfix *f, uint64_t ts, const struct cmd *cmds, uint32_t n,
                  struct cmd_result *results);

/* Applies one command as its own batch (invfix_apply) and returns its result. */
struct cmd_result invfix_apply1(struct invfix *f, uint64_t ts, const struct cmd *c);

/* Applies one command as its own batch on the store only; the twin gets an
 * empty batch at the same index and time. Returns the result. */
struct cmd_result invfix_apply1_alone(struct invfix *f, uint64_t ts, const struct cmd *c);

/* Applies c alone (invfix_apply1_alone) and asserts that it is refused with
 * `code`, with id 0, and that the state matches the twin's (idempotency
 * records aside). Needs a twin. */
void invfix_refuse(struct invfix *f, uint64_t ts, const struct cmd *c, int code);

/* Holds the seats as its own batch at ts, asserts success and returns the
 * hold id. */
uint64_t invfix_hold_ok(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                        uint32_t ttl_ms, const uint32_t *seats, uint16_t seat_count);

/* Holds one seat (invfix_hold_ok). */
uint64_t invfix_hold_one(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                         uint32_t ttl_ms, uint32_t seat_index);

/* Books a hold as its own batch at ts, asserts success and returns the
 * booking id. */
uint64_t invfix_book_ok(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                        uint64_t hold_id);

/* Applies an empty batch at the next index (time moves, nothing else). */
void invfix_tick(struct invfix *f, uint64_t ts);

/* Asserts two results are equal field by field (seats up to seat_count). */
void invfix_assert_result_equal(const struct cmd_result *a, const struct cmd_result *b);

/* ---- Reads ---- */

struct inv_hold invfix_hold(struct invfix *f, uint64_t hold_id);            /* must exist */
struct inv_booking invfix_booking(struct invfix *f, uint64_t booking_id);   /* must exist */
struct inv_availability *invfix_avail(struct invfix *f, uint64_t event_id); /* free() it */
bool invfix_bit_is_free(const struct inv_availability *a, uint32_t seat_index);

/* Returns true when the seat is free in the availability bitmap. */
bool invfix_seat_is_free(struct invfix *f, uint64_t event_id, uint32_t seat_index);

/* ---- Random workload (determinism and snapshot tests) ---- */

#define INVFIX_GEN_EVENTS    48u  /* events the generator knows at most */
#define INVFIX_GEN_IDS       512u /* holds and bookings remembered (a ring) */
#define INVFIX_GEN_PAST      128u /* past commands kept for replays (a ring) */
#define INVFIX_GEN_BATCH_MAX 16u

struct invfix_gen_event {
    uint64_t id;
    uint32_t seat_count;
    uint32_t section_count;
    uint32_t ttl_min_ms;
    uint32_t ttl_max_ms;
};

struct invfix_gen_ref {
    uint64_t id;
    uint64_t event_id;
    uint64_t customer_id;
};

/* Counts of what the applied batches did, to check the mix is not
 * degenerate. */
struct invfix_gen_stats {
    uint32_t commands;
    uint32_t ok_by_type[CMD_TYPE_MAX + 1];
    uint32_t refused;
    uint32_t replayed;
    uint32_t expired_refusals;
    uint32_t key_reused;
    uint32_t swept;
};

/*
 * A seeded generator of random batches of every command type, with random
 * times (sometimes earlier than the previous batch, sometimes jumps past
 * expiries and past the idempotency window), valid and invalid arguments,
 * replays and reused keys. It learns hold and booking ids from results.
 * Deterministic: the same seed gives the same batches.
 */
struct invfix_gen {
    uint64_t rng;
    uint64_t ts;
    uint32_t batches;
    uint32_t event_count;
    struct invfix_gen_event events[INVFIX_GEN_EVENTS];
    uint32_t hold_count; /* total learned; the ring keeps the last INVFIX_GEN_IDS */
    struct invfix_gen_ref holds[INVFIX_GEN_IDS];
    uint32_t booking_count;
    struct invfix_gen_ref bookings[INVFIX_GEN_IDS];
    uint32_t past_count;
    struct cmd past[INVFIX_GEN_PAST];
    uint32_t owned_count; /* events owned by the create commands of the batch */
    struct event *owned[INVFIX_GEN_BATCH_MAX];
    struct invfix_gen_stats stats;
};

/* Reads USHER_SEED (a seed to replay) into *seed; false when it is not set. */
bool invfix_seed_env(uint64_t *seed);

/* Returns a heap generator seeded with seed (free with invfix_gen_destroy()). */
struct invfix_gen *invfix_gen_create(uint64_t seed);
void invfix_gen_destroy(struct invfix_gen *g);

/* Returns a random number (splitmix64 step). */
uint64_t invfix_gen_next(struct invfix_gen *g);

/* Fills cmds (room for INVFIX_GEN_BATCH_MAX) with the next batch, built with
 * f's client ids and keys; returns the count and sets *ts. The first batch
 * creates the three base events. Commands stay valid until
 * invfix_gen_learn(). */
uint32_t invfix_gen_batch(struct invfix_gen *g, struct invfix *f, struct cmd *cmds, uint64_t *ts);

/* Learns ids and counts from the results of the batch, and frees what the
 * batch owned. */
void invfix_gen_learn(struct invfix_gen *g, const struct cmd *cmds,
                      const struct cmd_result *results, uint32_t n);

/* Applies `batches` generated batches to f (and its twin) with
 * invfix_apply(); with `check`, runs inv_check() after every batch. */
void invfix_gen_run(struct invfix_gen *g, struct invfix *f, uint32_t batches, bool check);

/* Closes the twin and opens it again from its directory (a restart). */
void invfix_twin_reopen(struct invfix *f);

/* ---- Whole state ---- */

/* Returns the text of inv_dump() (malloc'd, caller frees). */
char *invfix_dump(struct inv *inv);

/* Returns the dump without the idempotency tables and the meta record that
 * counts them (malloc'd). */
char *invfix_dump_state(struct inv *inv);

/* Asserts two dumps are equal; prints the first differing lines if not. */
void invfix_assert_text_equal(const char *a, const char *b);

/* Asserts the store's and the twin's dumps are byte-identical. */
void invfix_assert_twin_equal(struct invfix *f);

/* Asserts the dumps are identical once idempotency records are left out,
 * and that applied index and time are equal. */
void invfix_assert_twin_state_equal(struct invfix *f);

/* Asserts inv_check() == 0, printing its message if not. */
void invfix_check(struct inv *inv);

#endif
