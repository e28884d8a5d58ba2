/*
 * libusher: the C client of usher, a seat-inventory store for ticket on-sales.
 * The only installed header of the project (docs/CLIENT.md is the guide).
 *
 * A client keeps one TCP connection per node, many requests in flight on
 * each, matched by request id. It routes every request that names an event
 * to the leader of the event's shard, follows NOT_LEADER redirects, retries
 * BUSY answers after the hint the node gives, and retries transport failures
 * with exponential backoff and full jitter, all under a per-call deadline.
 * A command (hold, book, ...) carries an idempotency key that stays the same
 * on every retry, so a command takes effect at most once and the caller
 * learns its one outcome (docs/STATE.md "Idempotency").
 *
 * Two faces, one implementation:
 *
 *   asynchronous   usher_client_create(loop, ...) on the caller's libuv loop;
 *                  each operation returns at once and calls its callback
 *                  later, on the loop thread.
 *   blocking       usher_client_create(NULL, ...) gives the client a private
 *                  loop; the usher_*_sync() functions start the same
 *                  asynchronous operation and run that loop until it ends.
 *
 * Conventions (as in libuv and LMDB):
 *
 * - Every fallible function returns an int: 0 (USHER_OK) or a USHER_* code
 *   of enum usher_err. libusher never aborts or exits on a runtime error.
 * - An asynchronous operation returns 0 when it started: its callback will
 *   then be called exactly once, later, never from inside the starting
 *   function. Any other return means it did not start and the callback will
 *   not be called. Codes returned at start: INVALID (bad argument), BUSY
 *   (the client's in-flight bound is reached), NOMEM, CANCELLED (the client
 *   is being destroyed) and the LIMIT_* code of an argument over a limit.
 * - A callback's status is 0 or a code. For a command, a domain code
 *   (SEAT_TAKEN, HOLD_EXPIRED, ... 20-89, see usher_is_refusal()) means the
 *   cluster refused it and nothing changed. UNAVAILABLE, TIMEOUT and
 *   CANCELLED mean the outcome is unknown: the command may or may not have
 *   taken effect. Starting it again with the same idempotency key (the
 *   result's idem_key, through usher_call_opts.idem_key) returns the first
 *   outcome and has no second effect, for the idempotency window (24 h), as
 *   long as the client id is the same (usher_options.client_id).
 * - Pointers passed to a callback are borrowed: valid only during the call.
 *   Arguments passed to a starting function are borrowed for that call
 *   only (copied when needed later).
 * - A client is not thread-safe: use it from its loop's thread only.
 * - Writing to a connection the peer closed never raises SIGPIPE: libusher
 *   sends with MSG_NOSIGNAL and changes no signal disposition.
 */
#ifndef USHER_CLIENT_USHER_H
#define USHER_CLIENT_USHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

#define USHER_EXTERN __attribute__((visibility("default")))

#define USHER_VERSION_MAJOR  0
#define USHER_VERSION_MINOR  1
#define USHER_VERSION_PATCH  0
#define USHER_VERSION_STRING "0.1.0"

/* ---- Error codes ------------------------------------------------------- */

/*
 * X(name, value) for every code, with the values of the wire and of
 * docs/ERRORS.md: they never change. Groups: 0-19 request-level and client
 * outcomes, 20-59 domain refusals, 60-89 limits, 90- faults of a node.
 */
#define USHER_ERRNO_MAP(X)      \
    X(OK, 0)                    \
    X(BAD_REQUEST, 1)           \
    X(BAD_VERSION, 2)           \
    X(NOT_LEADER, 3)            \
    X(WRONG_SHARD, 4)           \
    X(BUSY, 5)                  \
    X(SHUTTING_DOWN, 6)         \
    X(STALE_INDEX, 7)           \
    X(INVALID, 8)               \
    X(UNAVAILABLE, 9)           \
    X(TIMEOUT, 10)              \
    X(CANCELLED, 11)            \
    X(EVENT_EXISTS, 20)         \
    X(EVENT_NOT_FOUND, 21)      \
    X(SALE_CLOSED, 22)          \
    X(SEAT_TAKEN, 23)           \
    X(NO_ADJACENT_SEATS, 24)    \
    X(SOLD_OUT, 25)             \
    X(HOLD_NOT_FOUND, 26)       \
    X(HOLD_EXPIRED, 27)         \
    X(HOLD_RELEASED, 28)        \
    X(HOLD_BOOKED, 29)          \
    X(NOT_OWNER, 30)            \
    X(BOOKING_NOT_FOUND, 31)    \
    X(BOOKING_CANCELLED, 32)    \
    X(IDEM_KEY_REUSED, 33)      \
    X(NO_SUCH_SEAT, 34)         \
    X(NO_SUCH_SECTION, 35)      \
    X(WRONG_SECTION_KIND, 36)   \
    X(DUPLICATE_LABEL, 37)      \
    X(DUPLICATE_SEAT, 38)       \
    X(TTL_OUT_OF_RANGE, 39)     \
    X(LIMIT_EVENT_SEATS, 60)    \
    X(LIMIT_EVENT_SECTIONS, 61) \
    X(LIMIT_EVENT_ROWS, 62)     \
    X(LIMIT_ROW_SEATS, 63)      \
    X(LIMIT_GA_CAPACITY, 64)    \
    X(LIMIT_LABEL_LEN, 65)      \
    X(LIMIT_HOLD_SEATS, 66)     \
    X(LIMIT_CUSTOMER_SEATS, 67) \
    X(LIMIT_SHARD_EVENTS, 68)   \
    X(LIMIT_MSG_SIZE, 69)       \
    X(LIMIT_BATCH, 70)          \
    X(LIMIT_HOLD_LIFETIME, 71)  \
    X(LIMIT_STORE_FULL, 72)     \
    X(LIMIT_PAYMENT_REF, 73)    \
    X(STORAGE, 90)              \
    X(NOMEM, 91)                \
    X(INTERNAL, 92)

/* The project's own sources define the same enum in src/err.h; the
 * guard keeps one definition when both headers meet inside libusher. */
#ifndef USHER_SRC_ERR_H
enum usher_err {

#define USHER_ERRNO_ENUM(name, value) USHER_##name = (value),
    USHER_ERRNO_MAP(USHER_ERRNO_ENUM)
#undef USHER_ERRNO_ENUM
};
#endif

/* Returns the one-line message of a code ("seat already held or booked"),
 * or "unknown error". The string is static. */
USHER_EXTERN const char *usher_strerror(int code);

/* Returns the stable name of a code ("SEAT_TAKEN"), or "UNKNOWN". Static. */
USHER_EXTERN const char *usher_errname(int code);

/*
 * The shard that holds event_id in a cluster of shard_count shards
 * (docs/PROTOCOL.md "Shards": XXH64 of the id's 8 little-endian bytes,
 * modulo the count). shard_count comes from a node's status. Returns 0 when
 * shard_count is 0.
 */
USHER_EXTERN uint32_t usher_event_shard(uint64_t event_id, uint32_t shard_count);

/* Returns true when code is a refusal by the cluster: a domain outcome
 * (20-59) or a limit (60-89). Nothing changed; retrying the same command
 * gives the same answer unless the state changed meanwhile. */
USHER_EXTERN bool usher_is_refusal(int code);

/* Returns the library version string, USHER_VERSION_STRING at build time. */
USHER_EXTERN const char *usher_version(void);

/* ---- Limits (the cluster's bounds, from src/limits.h) ------------------ */

#define USHER_EVENT_SEATS_LIMIT     262144u /* seated seats in one event */
#define USHER_EVENT_SECTIONS_LIMIT  256u    /* sections in one event */
#define USHER_EVENT_ROWS_LIMIT      8192u   /* rows in one event */
#define USHER_ROW_SEATS_LIMIT       1024u   /* seats in one row */
#define USHER_GA_CAPACITY_LIMIT     1000000u
#define USHER_LABEL_LEN_LIMIT       15u    /* bytes of a section or row label */
#define USHER_NAME_LEN_LIMIT        63u    /* bytes of an event name */
#define USHER_PAYMENT_REF_LEN_LIMIT 63u    /* bytes of a payment reference */
#define USHER_HOLD_SEATS_LIMIT      64u    /* seats or places in one hold */
#define USHER_HISTORY_LIMIT         256u   /* entries of one seat-history read */
#define USHER_CUSTOMER_ITEMS_LIMIT  256u   /* items of one customer read */
#define USHER_SHARDS_LIMIT          1024u  /* shards listed by a status read */
#define USHER_NODES_LIMIT           64u    /* nodes one client knows (given + learned) */
#define USHER_ADDR_LEN_LIMIT        63u    /* bytes of "a.b.c.d:port" */
#define USHER_INFLIGHT_LIMIT        65536u /* ceiling of usher_options.inflight_max */
#define USHER_TRACE_ID_BYTES        16u
#define USHER_ERRMSG_LEN_LIMIT      255u

/* ---- Client ------------------------------------------------------------ */

struct usher_client;

/*
 * Client options. Zero-initialise, set nodes, and change what you need;
 * every 0 means the default stated here.
 */
struct usher_options {
    const char *const *nodes;    /* node_count client addresses "a.b.c.d:port"; copied at create */
    uint32_t node_count;         /* 1 .. USHER_NODES_LIMIT */
    uint64_t client_id;          /* names this client in idempotency records; 0: random.
                                    Keep it stable across restarts to retry keys of a past run */
    uint32_t connect_timeout_ms; /* 0: 1000. A connection not up by then has failed */
    uint32_t attempt_timeout_ms; /* 0: 2000. An attempt not answered by then has failed and
                                    is retried (same key) */
    uint32_t call_timeout_ms;    /* 0: 10000. Deadline of a call, all retries included */
    uint32_t attempts_max;       /* 0: 32. Attempts per call, the first included; 1: no retry */
    uint32_t backoff_base_ms;    /* 0: 10. Retry n waits a uniform random time in
                                    [0, min(backoff_max_ms, backoff_base_ms * 2^n)] */
    uint32_t backoff_max_ms;     /* 0: 1000 */
    uint32_t inflight_max;       /* 0: 4096. Calls in flight at once, <= USHER_INFLIGHT_LIMIT;
                                    beyond it an operation returns BUSY at start */
};

/*
 * Per-call options; pass NULL for all defaults, or a zero-initialised struct.
 */
struct usher_call_opts {
    uint64_t idem_key;   /* commands: the idempotency key; 0: a new one from usher_key_next().
                            Pass the key of an earlier call to learn its outcome */
    uint32_t timeout_ms; /* 0: the client's call_timeout_ms */
    uint8_t trace_id[USHER_TRACE_ID_BYTES]; /* W3C trace id sent with the request; all zero:
                                               a random one */
    const char *node;      /* usher_node_status, usher_ping, usher_event_list: ask this node
                              ("a.b.c.d:port", added to the client's nodes if new); NULL: any.
                              Reads: the first attempt goes to this node, which answers or
                              names the leader (then followed as usual). Ignored by commands */
    uint32_t max_stale_ms; /* reads (event, availability, hold, booking, customer, history):
                              0: linearizable, answered by the shard's leader; N: any
                              replica whose state is at most about N ms old may answer
                              (a follower read; availability says which log position and
                              leader time it shows). Go above the cluster's
                              sweep_interval_ms (1 s) for followers to qualify */
};

typedef void (*usher_destroy_cb)(void *ctx);

/*
 * Creates a client. With a loop, the client runs on it (asynchronous API);
 * the loop must outlive the client. With loop NULL, the client makes a
 * private loop and is meant for the usher_*_sync() functions. Connections
 * open lazily, on the first call that needs one. Borrows o for the call
 * (the addresses are copied). On success *out is the client, to be freed
 * with usher_client_destroy().
 *
 * Returns 0, INVALID (no nodes, an address that is not "a.b.c.d:port", an
 * option over its ceiling), NOMEM, or INTERNAL (a libuv handle failed).
 */
USHER_EXTERN int usher_client_create(uv_loop_t *loop, const struct usher_options *o,
                                     struct usher_client **out);

/*
 * Destroys a client: every call still in flight gets CANCELLED (its
 * callback runs inside this function), connections close, and the memory
 * goes. Safe to call from inside a callback of the client (asynchronous
 * clients). With a caller's loop, the memory goes once the loop has run the
 * handles' close callbacks, then cb(ctx) is called (cb may be NULL). With
 * a private loop, it runs that loop until everything is closed, calls cb
 * and returns; do not call it from inside a callback then.
 */
USHER_EXTERN void usher_client_destroy(struct usher_client *c, void *ctx, usher_destroy_cb cb);

/* Returns the client id in use (the given one, or the random one). */
USHER_EXTERN uint64_t usher_client_id(const struct usher_client *c);

/*
 * Returns a new idempotency key, larger than every key this client made
 * before: (Unix time in ms << 20) | counter. Take one to remember before
 * the call (usher_call_opts.idem_key) when the program itself may retry
 * after a crash.
 */
USHER_EXTERN uint64_t usher_key_next(struct usher_client *c);

/*
 * Returns the message of the last call that failed or was refused: the
 * node's text when it sent one ("command does not decode"), otherwise the
 * code's message. Valid until the next callback of this client or the next
 * call into it. Never NULL.
 */
USHER_EXTERN const char *usher_client_errmsg(const struct usher_client *c);

/* ---- Event descriptions (builder and reader) ---------------------------- */

/*
 * An event description: sections (seated or general admission), rows of
 * seats, sale window, hold bounds. Build one to create an event; usher_event_get()
 * gives one to read. Seats have a dense index 0 .. seat_count-1, assigned
 * section by section, row by row; a seat's label is "<row label>-<number>".
 * docs/VENUE.md describes the same model as JSON.
 */
struct usher_event_spec;

enum usher_section_kind {
    USHER_SECTION_SEATED = 1,
    USHER_SECTION_GA = 2,
};

/* The event's fields. In a spec being built, 0 means "the cluster's
 * default"; an event read back from the cluster has its defaults filled in
 * (sale_end_ms UINT64_MAX for no end). */
struct usher_event_info {
    uint64_t id;
    char name[USHER_NAME_LEN_LIMIT + 1];
    uint64_t sale_start_ms;        /* holds accepted while start <= now < end (Unix ms) */
    uint64_t sale_end_ms;          /* 0 in a new spec: no end */
    uint32_t hold_ttl_min_ms;      /* 0 in a new spec: the cluster default (60 s) */
    uint32_t hold_ttl_max_ms;      /* 0: default (600 s) */
    uint32_t hold_lifetime_max_ms; /* 0: default (30 min) */
    uint16_t hold_seats_max;       /* seats per hold; 0: default (10) */
    uint16_t customer_seats_max;   /* seats per customer and event; 0: default (10) */
    uint32_t section_count;
    uint32_t row_count;
    uint32_t seat_count; /* seated seats, all sections */
};

struct usher_section_info {
    char label[USHER_LABEL_LEN_LIMIT + 1];
    uint8_t kind;         /* enum usher_section_kind */
    uint32_t row_first;   /* index of its first row (seated) */
    uint32_t row_count;   /* 0 for GA */
    uint32_t seat_first;  /* dense index of its first seat (seated) */
    uint32_t seat_count;  /* 0 for GA */
    uint32_t ga_capacity; /* places (GA); 0 for seated */
};

struct usher_row_info {
    char label[USHER_LABEL_LEN_LIMIT + 1];
    uint32_t section;    /* index of its section */
    uint32_t seat_first; /* dense index of its first seat */
    uint16_t seat_count;
    uint16_t number_first; /* seat j of the row is numbered number_first + j */
};

/*
 * Creates an empty description of event event_id (!= 0) named name (may be
 * "" or NULL, at most USHER_NAME_LEN_LIMIT bytes; copied). Free it with
 * usher_event_spec_destroy(). Returns 0, INVALID (id 0), LIMIT_LABEL_LEN
 * or NOMEM.
 */
USHER_EXTERN int usher_event_spec_create(uint64_t event_id, const char *name,
                                         struct usher_event_spec **out);

/* Frees a description; NULL is fine. */
USHER_EXTERN void usher_event_spec_destroy(struct usher_event_spec *s);

/* Sets the sale window (Unix ms; end 0: no end). Returns 0 or INVALID
 * (end not after start). */
USHER_EXTERN int usher_event_spec_sale_window_set(struct usher_event_spec *s, uint64_t start_ms,
                                                  uint64_t end_ms);

/* Sets the hold time-to-live bounds and the lifetime across extensions (0:
 * the cluster default for each). The cluster checks them at create
 * (TTL_OUT_OF_RANGE); usher_event_spec_validate() checks them earlier. */
USHER_EXTERN void usher_event_spec_hold_ttl_set(struct usher_event_spec *s, uint32_t min_ms,
                                                uint32_t max_ms, uint32_t lifetime_max_ms);

/* Sets the seats allowed per hold and per customer (0: defaults). */
USHER_EXTERN void usher_event_spec_limits_set(struct usher_event_spec *s, uint16_t hold_seats_max,
                                              uint16_t customer_seats_max);

/*
 * Appends a seated section labelled label (copied) and sets *index (may be
 * NULL) to its index. Rows are then added to it with usher_event_spec_row_add().
 * Returns 0, INVALID (empty label), LIMIT_LABEL_LEN, LIMIT_EVENT_SECTIONS or NOMEM.
 */
USHER_EXTERN int usher_event_spec_section_add(struct usher_event_spec *s, const char *label,
                                              uint32_t *index);

/* Appends a general-admission section of capacity places (1 ..
 * USHER_GA_CAPACITY_LIMIT). Returns 0, INVALID, LIMIT_LABEL_LEN,
 * LIMIT_GA_CAPACITY, LIMIT_EVENT_SECTIONS or NOMEM. */
USHER_EXTERN int usher_event_spec_ga_add(struct usher_event_spec *s, const char *label,
                                         uint32_t capacity, uint32_t *index);

/*
 * Appends a row of seat_count seats (1 .. USHER_ROW_SEATS_LIMIT) numbered
 * from number_first to the last section added, which must be seated.
 * Returns 0, INVALID (no seated section last, empty label, numbers past
 * 65535), LIMIT_LABEL_LEN, LIMIT_ROW_SEATS, LIMIT_EVENT_ROWS,
 * LIMIT_EVENT_SEATS or NOMEM.
 */
USHER_EXTERN int usher_event_spec_row_add(struct usher_event_spec *s, const char *label,
                                          uint16_t seat_count, uint16_t number_first);

/*
 * Checks the description with the cluster's own rules (defaults applied):
 * labels non-empty and unique (sections; rows inside a section), TTL bounds
 * inside the cluster's limits with min <= max <= lifetime, seat limits,
 * sale window. Returns 0 or the code the cluster would answer
 * (DUPLICATE_LABEL, TTL_OUT_OF_RANGE, LIMIT_*, INVALID).
 */
USHER_EXTERN int usher_event_spec_validate(const struct usher_event_spec *s);

/* Fills *out with the event's fields and counts. */
USHER_EXTERN void usher_event_spec_info(const struct usher_event_spec *s,
                                        struct usher_event_info *out);

/* Fills *out with section i. Returns 0 or INVALID (i out of range). */
USHER_EXTERN int usher_event_spec_section(const struct usher_event_spec *s, uint32_t i,
                                          struct usher_section_info *out);

/* Fills *out with row i (rows of all sections, in seat order). Returns 0
 * or INVALID. */
USHER_EXTERN int usher_event_spec_row(const struct usher_event_spec *s, uint32_t i,
                                      struct usher_row_info *out);

/* Sets *row to the index of the row holding seat seat_index. Returns 0 or
 * NO_SUCH_SEAT. */
USHER_EXTERN int usher_event_spec_seat_row(const struct usher_event_spec *s, uint32_t seat_index,
                                           uint32_t *row);

/* Writes the label of a seat, "<row label>-<number>", into buf (cap bytes,
 * NUL-terminated). Returns 0, NO_SUCH_SEAT, or LIMIT_LABEL_LEN (cap too small). */
USHER_EXTERN int usher_event_spec_seat_label(const struct usher_event_spec *s, uint32_t seat_index,
                                             char *buf, size_t cap);

/*
 * Finds a seat by label: "<row>-<number>", or "<section>/<row>-<number>"
 * when row labels repeat across sections. Sets *seat_index. Returns 0,
 * NO_SUCH_SEAT (no such seat, or the label is ambiguous without its
 * section) or INVALID (not a seat label).
 */
USHER_EXTERN int usher_event_spec_seat_find(const struct usher_event_spec *s, const char *label,
                                            uint32_t *seat_index);

/* Finds a section by label. Returns 0 and *index, or NO_SUCH_SECTION. */
USHER_EXTERN int usher_event_spec_section_find(const struct usher_event_spec *s, const char *label,
                                               uint32_t *index);

/* ---- Results ----------------------------------------------------------- */

/* The result of a command (create event, holds, extend, release, book,
 * cancel). A command callback always gets one, whatever its status. */
struct usher_cmd_result {
    uint64_t idem_key;      /* the key the command was sent with (always set) */
    uint64_t id;            /* event id (create), hold id (holds, extend, release),
                               booking id (book, cancel); 0 unless status is 0 */
    uint64_t expires_at_ms; /* holds and extend: the hold's expiry (cluster time, Unix ms) */
    bool replayed;          /* true: the first outcome of this key, answered again from
                               the node's idempotency table (a retry, or a reused key) */
    bool ga;                /* a general-admission hold: seat_count counts places and
                               seats[] is empty */
    uint16_t seat_count;    /* holds: seats (or GA places) held */
    uint32_t seats[USHER_HOLD_SEATS_LIMIT]; /* seated holds: the seats, ascending */
};

struct usher_section_avail {
    uint32_t free; /* seats free now; GA: capacity - held - booked */
    uint32_t held; /* held by live holds */
    uint32_t booked;
    uint32_t capacity; /* seats of the section, or its GA capacity */
};

/* Availability of an event (about 33 KiB: allocate it). */
struct usher_availability {
    uint64_t event_id;
    uint64_t applied_index; /* log position the answer reflects */
    uint64_t now_ms;        /* the cluster time it was computed at */
    uint32_t section_count;
    uint32_t seat_count;
    struct usher_section_avail sections[USHER_EVENT_SECTIONS_LIMIT];
    /* bit i (byte i / 8, bit i % 8) set when seat i is free; see usher_seat_is_free() */
    uint8_t free_bitmap[USHER_EVENT_SEATS_LIMIT / 8];
};

/* Returns true when seat i is free in a. A seat that is not free is held or
 * booked: the bitmap does not tell which (usher_seat_history() does). */
USHER_EXTERN bool usher_seat_is_free(const struct usher_availability *a, uint32_t seat_index);

enum usher_hold_state {
    USHER_HOLD_STATE_ACTIVE = 1, /* alive until expires_at_ms */
    USHER_HOLD_STATE_RELEASED = 2,
    USHER_HOLD_STATE_EXPIRED = 3,
    USHER_HOLD_STATE_BOOKED = 4,
};

struct usher_hold_info {
    uint64_t id;
    uint64_t event_id;
    uint64_t customer_id;
    uint8_t state;       /* enum usher_hold_state */
    bool ga;             /* true: places of a GA section, false: seats */
    uint16_t section;    /* GA holds: the section */
    uint16_t seat_count; /* seats or places */
    uint64_t created_at_ms;
    uint64_t expires_at_ms;
    uint64_t ended_at_ms; /* release, expiry or booking time; 0 while active */
    uint64_t booking_id;  /* when booked */
    uint32_t seats[USHER_HOLD_SEATS_LIMIT];
};

enum usher_booking_state {
    USHER_BOOKING_STATE_CONFIRMED = 1,
    USHER_BOOKING_STATE_CANCELLED = 2,
};

struct usher_booking_info {
    uint64_t id;
    uint64_t event_id;
    uint64_t customer_id;
    uint64_t hold_id;
    uint8_t state; /* enum usher_booking_state */
    bool ga;
    uint16_t section;
    uint16_t seat_count;
    uint64_t booked_at_ms;
    uint64_t cancelled_at_ms;
    char payment_ref[USHER_PAYMENT_REF_LEN_LIMIT + 1];
    uint32_t seats[USHER_HOLD_SEATS_LIMIT];
};

struct usher_customer_item {
    bool is_booking; /* false: an active hold, true: a confirmed booking */
    uint64_t id;
    uint16_t seat_count;
    uint64_t expires_at_ms; /* holds */
};

struct usher_customer_items {
    uint32_t count;
    bool more; /* true when more than USHER_CUSTOMER_ITEMS_LIMIT exist */
    struct usher_customer_item items[USHER_CUSTOMER_ITEMS_LIMIT];
};

enum usher_history_kind {
    USHER_HISTORY_HOLD = 1,
    USHER_HISTORY_RELEASE = 2,
    USHER_HISTORY_EXPIRE = 3,
    USHER_HISTORY_BOOK = 4,
    USHER_HISTORY_CANCEL = 5,
};

struct usher_history_entry {
    uint8_t kind;   /* enum usher_history_kind */
    uint64_t at_ms; /* when it happened (expiry: the hold's expiry) */
    uint64_t id;    /* hold id, or booking id (BOOK, CANCEL) */
    uint64_t customer_id;
};

struct usher_seat_history {
    uint32_t count;
    bool more;                                               /* older entries exist */
    struct usher_history_entry entries[USHER_HISTORY_LIMIT]; /* newest first */
};

enum usher_shard_role {
    USHER_ROLE_UNAVAILABLE = 0,
    USHER_ROLE_FOLLOWER = 1,
    USHER_ROLE_CANDIDATE = 2,
    USHER_ROLE_LEADER = 3,
};

struct usher_shard_status {
    uint32_t shard;
    uint8_t role; /* enum usher_shard_role */
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t leader_id; /* node id of the leader; 0: unknown */
    uint32_t events;
};

/* Status of one node (about 48 KiB: allocate it). */
struct usher_node_status {
    char node[USHER_ADDR_LEN_LIMIT + 1]; /* the address that answered */
    uint64_t node_id;
    uint64_t cluster_id;
    uint32_t shard_count; /* shards of the cluster */
    uint32_t listed;      /* entries of shards[] */
    char version[16];
    struct usher_shard_status shards[USHER_SHARDS_LIMIT];
};

/* ---- Asynchronous operations ------------------------------------------- */

/* Callbacks. Result pointers are NULL unless status is 0, except for
 * usher_cmd_cb, whose result is never NULL (its idem_key is always set). */
typedef void (*usher_cmd_cb)(void *ctx, int status, const struct usher_cmd_result *r);
typedef void (*usher_event_cb)(void *ctx, int status, const struct usher_event_spec *e);
typedef void (*usher_event_list_cb)(void *ctx, int status, const uint64_t *ids, uint32_t count);
typedef void (*usher_availability_cb)(void *ctx, int status, const struct usher_availability *a);
typedef void (*usher_hold_info_cb)(void *ctx, int status, const struct usher_hold_info *h);
typedef void (*usher_booking_info_cb)(void *ctx, int status, const struct usher_booking_info *b);
typedef void (*usher_customer_cb)(void *ctx, int status, const struct usher_customer_items *c);
typedef void (*usher_history_cb)(void *ctx, int status, const struct usher_seat_history *h);
typedef void (*usher_status_cb)(void *ctx, int status, const struct usher_node_status *s);
typedef void (*usher_done_cb)(void *ctx, int status);

/*
 * Creates the event described by spec (borrowed for the call: it is
 * encoded at once). Result: id = the event id. Refusals: EVENT_EXISTS,
 * DUPLICATE_LABEL, TTL_OUT_OF_RANGE, LIMIT_EVENT_*, LIMIT_SHARD_EVENTS.
 * Starting fails with INVALID (an empty event) or LIMIT_MSG_SIZE.
 */
USHER_EXTERN int usher_event_create(struct usher_client *c, const struct usher_call_opts *opts,
                                    const struct usher_event_spec *spec, void *ctx,
                                    usher_cmd_cb cb);

/* Reads an event's description (EVENT_NOT_FOUND). */
USHER_EXTERN int usher_event_get(struct usher_client *c, const struct usher_call_opts *opts,
                                 uint64_t event_id, void *ctx, usher_event_cb cb);

/*
 * Lists up to max (1 .. 1024) event ids above `after`, ascending, as one
 * node knows them (opts->node, or any node). Page with after = the last id.
 */
USHER_EXTERN int usher_event_list(struct usher_client *c, const struct usher_call_opts *opts,
                                  uint64_t after, uint32_t max, void *ctx, usher_event_list_cb cb);

/* Reads the availability of an event at the cluster's time (EVENT_NOT_FOUND). */
USHER_EXTERN int usher_availability(struct usher_client *c, const struct usher_call_opts *opts,
                                    uint64_t event_id, void *ctx, usher_availability_cb cb);

/*
 * Holds the named seats (dense indexes, 1 .. USHER_HOLD_SEATS_LIMIT of
 * them; copied) for customer_id (!= 0), all or nothing, for ttl_ms (0: the
 * event's maximum TTL). Result: hold id, expiry, seats. Refusals:
 * SEAT_TAKEN, NO_SUCH_SEAT, DUPLICATE_SEAT, SALE_CLOSED, TTL_OUT_OF_RANGE,
 * LIMIT_HOLD_SEATS, LIMIT_CUSTOMER_SEATS, EVENT_NOT_FOUND.
 */
USHER_EXTERN int usher_hold_seats(struct usher_client *c, const struct usher_call_opts *opts,
                                  uint64_t event_id, uint64_t customer_id, const uint32_t *seats,
                                  uint16_t seat_count, uint32_t ttl_ms, void *ctx, usher_cmd_cb cb);

/* Holds the best block of `count` adjacent free seats in one row of a
 * seated section (NO_ADJACENT_SEATS when there is none). */
USHER_EXTERN int usher_hold_best(struct usher_client *c, const struct usher_call_opts *opts,
                                 uint64_t event_id, uint64_t customer_id, uint16_t section,
                                 uint16_t count, uint32_t ttl_ms, void *ctx, usher_cmd_cb cb);

/* Holds `count` places of a general-admission section (SOLD_OUT). */
USHER_EXTERN int usher_hold_ga(struct usher_client *c, const struct usher_call_opts *opts,
                               uint64_t event_id, uint64_t customer_id, uint16_t section,
                               uint16_t count, uint32_t ttl_ms, void *ctx, usher_cmd_cb cb);

/* Extends a hold to now + ttl_ms, within the event's lifetime bound
 * (LIMIT_HOLD_LIFETIME). Refusals also: HOLD_NOT_FOUND, HOLD_EXPIRED,
 * HOLD_RELEASED, HOLD_BOOKED, NOT_OWNER. */
USHER_EXTERN int usher_hold_extend(struct usher_client *c, const struct usher_call_opts *opts,
                                   uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                   uint32_t ttl_ms, void *ctx, usher_cmd_cb cb);

/* Releases a hold: its seats go back on sale. */
USHER_EXTERN int usher_hold_release(struct usher_client *c, const struct usher_call_opts *opts,
                                    uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                    void *ctx, usher_cmd_cb cb);

/*
 * Books a live hold, for good, recording payment_ref (NULL or at most
 * USHER_PAYMENT_REF_LEN_LIMIT bytes; copied). Result: id = the booking id.
 * A hold that expired is refused (HOLD_EXPIRED) even if no sweep freed it.
 */
USHER_EXTERN int usher_hold_book(struct usher_client *c, const struct usher_call_opts *opts,
                                 uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                 const char *payment_ref, void *ctx, usher_cmd_cb cb);

/* Cancels a booking: its seats go back on sale (BOOKING_NOT_FOUND,
 * BOOKING_CANCELLED, NOT_OWNER). */
USHER_EXTERN int usher_booking_cancel(struct usher_client *c, const struct usher_call_opts *opts,
                                      uint64_t event_id, uint64_t customer_id, uint64_t booking_id,
                                      void *ctx, usher_cmd_cb cb);

/* Reads a hold (HOLD_NOT_FOUND; kept for the idempotency window after it ends). */
USHER_EXTERN int usher_hold_get(struct usher_client *c, const struct usher_call_opts *opts,
                                uint64_t event_id, uint64_t hold_id, void *ctx,
                                usher_hold_info_cb cb);

/* Reads a booking (BOOKING_NOT_FOUND). */
USHER_EXTERN int usher_booking_get(struct usher_client *c, const struct usher_call_opts *opts,
                                   uint64_t event_id, uint64_t booking_id, void *ctx,
                                   usher_booking_info_cb cb);

/* Lists a customer's live holds and confirmed bookings for an event. */
USHER_EXTERN int usher_customer_list(struct usher_client *c, const struct usher_call_opts *opts,
                                     uint64_t event_id, uint64_t customer_id, void *ctx,
                                     usher_customer_cb cb);

/* Reads the history of one seat, newest first (NO_SUCH_SEAT). */
USHER_EXTERN int usher_seat_history(struct usher_client *c, const struct usher_call_opts *opts,
                                    uint64_t event_id, uint32_t seat_index, void *ctx,
                                    usher_history_cb cb);

/* Reads the status of one node (opts->node, or any node) and its shards. */
USHER_EXTERN int usher_node_status(struct usher_client *c, const struct usher_call_opts *opts,
                                   void *ctx, usher_status_cb cb);

/* Round trip to one node (opts->node, or any node). */
USHER_EXTERN int usher_ping(struct usher_client *c, const struct usher_call_opts *opts, void *ctx,
                            usher_done_cb cb);

/* ---- Blocking operations ----------------------------------------------- */

/*
 * The same operations for a client created with a NULL loop: each starts
 * the asynchronous operation and runs the private loop until it ends, then
 * returns its status and copies its result into the caller's memory. A
 * client with a caller's loop gets INVALID. The out structs are written
 * when the status is 0, except usher_cmd_result, which is always written.
 */
USHER_EXTERN int usher_event_create_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                         const struct usher_event_spec *spec,
                                         struct usher_cmd_result *out);

/* On success *out is a new description owned by the caller
 * (usher_event_spec_destroy()). */
USHER_EXTERN int usher_event_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                      uint64_t event_id, struct usher_event_spec **out);

/* Copies up to cap ids into ids and their number into *count. */
USHER_EXTERN int usher_event_list_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                       uint64_t after, uint32_t max, uint64_t *ids, uint32_t cap,
                                       uint32_t *count);

USHER_EXTERN int usher_availability_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                         uint64_t event_id, struct usher_availability *out);

USHER_EXTERN int usher_hold_seats_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                       uint64_t event_id, uint64_t customer_id,
                                       const uint32_t *seats, uint16_t seat_count, uint32_t ttl_ms,
                                       struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_best_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                      uint64_t event_id, uint64_t customer_id, uint16_t section,
                                      uint16_t count, uint32_t ttl_ms,
                                      struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_ga_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                    uint64_t event_id, uint64_t customer_id, uint16_t section,
                                    uint16_t count, uint32_t ttl_ms, struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_extend_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                        uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                        uint32_t ttl_ms, struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_release_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                         uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                         struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_book_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                      uint64_t event_id, uint64_t customer_id, uint64_t hold_id,
                                      const char *payment_ref, struct usher_cmd_result *out);

USHER_EXTERN int usher_booking_cancel_sync(struct usher_client *c,
                                           const struct usher_call_opts *opts, uint64_t event_id,
                                           uint64_t customer_id, uint64_t booking_id,
                                           struct usher_cmd_result *out);

USHER_EXTERN int usher_hold_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                     uint64_t event_id, uint64_t hold_id,
                                     struct usher_hold_info *out);

USHER_EXTERN int usher_booking_get_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                        uint64_t event_id, uint64_t booking_id,
                                        struct usher_booking_info *out);

USHER_EXTERN int usher_customer_list_sync(struct usher_client *c,
                                          const struct usher_call_opts *opts, uint64_t event_id,
                                          uint64_t customer_id, struct usher_customer_items *out);

USHER_EXTERN int usher_seat_history_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                         uint64_t event_id, uint32_t seat_index,
                                         struct usher_seat_history *out);

USHER_EXTERN int usher_node_status_sync(struct usher_client *c, const struct usher_call_opts *opts,
                                        struct usher_node_status *out);

USHER_EXTERN int usher_ping_sync(struct usher_client *c, const struct usher_call_opts *opts);

#ifdef __cplusplus
}
#endif

#endif
