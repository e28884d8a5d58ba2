/*
 * One error enum for the whole project (STYLE.md 4.2).
 *
 * The values go on the wire, into stored idempotency results and into
 * docs/ERRORS.md: never renumber or reuse one. Add new codes at the end of
 * their group. 0 is success.
 *
 * Groups:   0- 19  transport and request-level outcomes
 *          20- 59  domain outcomes of inventory commands (data, not failures)
 *          60- 89  limits: each bound has its own code
 *          90-     local faults of the node (storage, internal)
 */
#ifndef USHER_SRC_ERR_H
#define USHER_SRC_ERR_H

#include <stdbool.h>
#include <stddef.h>

#define USHER_MUST_CHECK __attribute__((warn_unused_result))

/* X(name, value, message) */
#define USHER_ERR_MAP(X)                                                            \
    X(OK, 0, "ok")                                                                  \
    X(BAD_REQUEST, 1, "malformed request")                                          \
    X(BAD_VERSION, 2, "unsupported format version")                                 \
    X(NOT_LEADER, 3, "this node is not the shard leader")                           \
    X(WRONG_SHARD, 4, "the event does not belong to this shard")                    \
    X(BUSY, 5, "overloaded, retry later")                                           \
    X(SHUTTING_DOWN, 6, "the node is shutting down")                                \
    X(STALE_INDEX, 7, "log index not above the applied index")                      \
    X(INVALID, 8, "invalid argument")                                               \
    X(UNAVAILABLE, 9, "no node could be reached")                                   \
    X(TIMEOUT, 10, "no answer before the deadline")                                 \
    X(CANCELLED, 11, "the call was cancelled: the client is closing")               \
    X(EVENT_EXISTS, 20, "event already exists")                                     \
    X(EVENT_NOT_FOUND, 21, "no such event")                                         \
    X(SALE_CLOSED, 22, "the event is not on sale at this time")                     \
    X(SEAT_TAKEN, 23, "seat already held or booked")                                \
    X(NO_ADJACENT_SEATS, 24, "no block of adjacent free seats of that size")        \
    X(SOLD_OUT, 25, "not enough general-admission places left")                     \
    X(HOLD_NOT_FOUND, 26, "no such hold")                                           \
    X(HOLD_EXPIRED, 27, "the hold has expired")                                     \
    X(HOLD_RELEASED, 28, "the hold was released")                                   \
    X(HOLD_BOOKED, 29, "the hold is already booked")                                \
    X(NOT_OWNER, 30, "the hold or booking belongs to another customer")             \
    X(BOOKING_NOT_FOUND, 31, "no such booking")                                     \
    X(BOOKING_CANCELLED, 32, "the booking is already cancelled")                    \
    X(IDEM_KEY_REUSED, 33, "idempotency key reused for a different command")        \
    X(NO_SUCH_SEAT, 34, "seat index out of range for the event")                    \
    X(NO_SUCH_SECTION, 35, "section index out of range for the event")              \
    X(WRONG_SECTION_KIND, 36, "operation does not fit the section kind")            \
    X(DUPLICATE_LABEL, 37, "duplicate section or row label")                        \
    X(DUPLICATE_SEAT, 38, "a seat is named twice in one request")                   \
    X(TTL_OUT_OF_RANGE, 39, "hold ttl outside the event's bounds")                  \
    X(LIMIT_EVENT_SEATS, 60, "too many seats in the event")                         \
    X(LIMIT_EVENT_SECTIONS, 61, "too many sections in the event")                   \
    X(LIMIT_EVENT_ROWS, 62, "too many rows in the event or section")                \
    X(LIMIT_ROW_SEATS, 63, "too many seats in one row")                             \
    X(LIMIT_GA_CAPACITY, 64, "general-admission capacity too large")                \
    X(LIMIT_LABEL_LEN, 65, "label or name too long")                                \
    X(LIMIT_HOLD_SEATS, 66, "too many seats in one hold")                           \
    X(LIMIT_CUSTOMER_SEATS, 67, "customer seat limit for the event reached")        \
    X(LIMIT_SHARD_EVENTS, 68, "too many events on this shard")                      \
    X(LIMIT_MSG_SIZE, 69, "message too large")                                      \
    X(LIMIT_BATCH, 70, "too many commands in one batch")                            \
    X(LIMIT_HOLD_LIFETIME, 71, "hold cannot be extended past its maximum lifetime") \
    X(LIMIT_STORE_FULL, 72, "the shard's store is full")                            \
    X(LIMIT_PAYMENT_REF, 73, "payment reference too long")                          \
    X(STORAGE, 90, "storage failure")                                               \
    X(NOMEM, 91, "out of memory")                                                   \
    X(INTERNAL, 92, "internal error")

enum usher_err {

#define USHER_ERR_ENUM(name, value, msg) USHER_##name = (value),
    USHER_ERR_MAP(USHER_ERR_ENUM)
#undef USHER_ERR_ENUM
};

/* Returns the stable upper-case name of a code ("SEAT_TAKEN"), or "UNKNOWN". */
const char *err_name(int code);

/* Returns the one-line message of a code, or "unknown error". */
const char *err_message(int code);

/* Returns true if code is a value of enum usher_err. */
bool err_is_known(int code);

/* Maximum length of an errmsg buffer carried by objects that can fail (STYLE.md 4.6). */
#define USHER_ERRMSG_MAX 256

#endif
