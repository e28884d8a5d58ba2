/*
 * JSON-lines logger with per-object context (STYLE.md section 9).
 *
 * Every line is one JSON object, written with one fwrite() and flushed:
 *
 *   {"ts":"2024-05-01T12:00:00.123Z","level":"info","msg":"shard started",
 *    "node":1,"shard":3,"term":7}
 *
 * "ts" (UTC, milliseconds), "level" and "msg" come first, then the context
 * fields of the logger (added by logger_child()), then the fields of the
 * call. A line is formatted into a LOGGER_LINE_BYTES stack buffer: nothing is
 * allocated per line. A line that does not fit is cut at a character
 * boundary, stays valid JSON and ends with "truncated":true.
 *
 * Call sites pass a message and typed fields, and nothing else:
 *
 *   logger_info(&g->log, "role changed", LOG_STR("role", "leader"), LOG_U64("term", t));
 *
 * Strings are escaped (quotes, backslash, control characters), and invalid
 * UTF-8 is replaced by U+FFFD, so outside bytes cannot break a line. Keys are
 * literals of our code: lower-case snake_case, checked by ASSERT.
 *
 * Secrets: there is no field type for bytes other than LOG_HEX, which takes at
 * most LOGGER_HEX_BYTES_MAX bytes (a trace id). Never pass a cluster key, a
 * pass or a payment reference to any field (STYLE.md 9.3).
 *
 * debug lines are compiled in. They are written when the level is debug, or
 * when the logger's subsystem is switched on (config "debug", or the
 * environment USHER_DEBUG=conn,raft). The time source is the caller's
 * (logger_init()), so tests are deterministic. Not thread-safe: one logger
 * tree per thread (usherd has one loop thread).
 */
#ifndef USHER_SRC_LOGGER_H
#define USHER_SRC_LOGGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Bytes of one formatted line, newline included (STYLE.md 7.1): bounds the
 * stack buffer; a longer line is cut and marked "truncated":true. */
#define LOGGER_LINE_BYTES 4096u

/* Bytes of a logger's rendered context fields. A child whose context does
 * not fit keeps the fields that fit; its lines say "truncated":true. */
#define LOGGER_CONTEXT_BYTES 512u

/* Bytes one LOG_HEX field may show (a W3C trace id is 16). */
#define LOGGER_HEX_BYTES_MAX 32u

/* Fields one call (or one logger_child()) may pass. */
#define LOGGER_FIELDS_MAX 16u

/* Bytes of a field key, without NUL. */
#define LOGGER_KEY_LEN_MAX 32u

/* Levels, most severe first; a logger writes levels <= its level. */
enum logger_level {
    LOGGER_FATAL = 0,
    LOGGER_ERROR = 1,
    LOGGER_WARN = 2,
    LOGGER_INFO = 3,
    LOGGER_DEBUG = 4,
};

/* Subsystems whose debug lines can be switched on one by one.
 * X(enum suffix, bit, name in USHER_DEBUG and in the config "debug" list) */
#define LOGGER_SUBSYSTEM_MAP(X) \
    X(NODE, 0, "node")          \
    X(CONN, 1, "conn")          \
    X(DISPATCH, 2, "dispatch")  \
    X(RAFT, 3, "raft")          \
    X(BATCH, 4, "batch")        \
    X(SNAPSHOT, 5, "snapshot")  \
    X(HTTP, 6, "http")          \
    X(CONFIG, 7, "config")

enum logger_subsystem {
    LOGGER_SUBSYSTEM_NONE = -1, /* logger_child(): keep the parent's */

#define LOGGER_SUBSYSTEM_ENUM(name, bit, text) LOGGER_SUBSYSTEM_##name = (bit),
    LOGGER_SUBSYSTEM_MAP(LOGGER_SUBSYSTEM_ENUM)
#undef LOGGER_SUBSYSTEM_ENUM
};

/* Every subsystem bit, for USHER_DEBUG=all. */
#define LOGGER_SUBSYSTEM_ALL 0xffu

enum logger_field_type {
    LOGGER_FIELD_END = 0, /* terminates a field list */
    LOGGER_FIELD_U64 = 1,
    LOGGER_FIELD_I64 = 2,
    LOGGER_FIELD_BOOL = 3,
    LOGGER_FIELD_STR = 4,  /* NUL-terminated; NULL is written as null */
    LOGGER_FIELD_STRN = 5, /* len bytes, may hold NUL */
    LOGGER_FIELD_HEX = 6,  /* bytes as lower-case hex, at most LOGGER_HEX_BYTES_MAX */
    LOGGER_FIELD_ERR = 7,  /* enum usher_err, written as its name */
};

/* One key/value; built with the LOG_* macros below, borrowed for the call. */
struct logger_field {
    const char *key;
    enum logger_field_type type;
    size_t len;

    union {
        uint64_t u64;
        int64_t i64;
        bool b;
        int err;
        const char *str;
        const uint8_t *bytes;
    } v;
};

#define LOG_U64(k, x) \
    ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_U64, .v.u64 = (uint64_t)(x) })
#define LOG_I64(k, x) \
    ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_I64, .v.i64 = (int64_t)(x) })
#define LOG_BOOL(k, x) ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_BOOL, .v.b = (x) })
#define LOG_STR(k, s)  ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_STR, .v.str = (s) })
#define LOG_STRN(k, s, n) \
    ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_STRN, .len = (n), .v.str = (s) })
#define LOG_HEX(k, p, n) \
    ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_HEX, .len = (n), .v.bytes = (p) })
/* An enum usher_err, written as its name: "code":"SEAT_TAKEN". */
#define LOG_ERR(k, code) \
    ((struct logger_field){ .key = (k), .type = LOGGER_FIELD_ERR, .v.err = (code) })
#define LOG_END ((struct logger_field){ .key = NULL, .type = LOGGER_FIELD_END })

/* Returns the wall-clock time in milliseconds since the Unix epoch. */
typedef uint64_t (*logger_clock_cb)(void *ctx);

struct logger {
    FILE *out;             /* borrowed */
    logger_clock_cb clock; /* NULL: the system's real-time clock */
    void *clock_ctx;
    uint8_t level;          /* enum logger_level: lines above it are dropped */
    uint32_t debug_mask;    /* subsystems whose debug lines are written */
    int subsystem;          /* enum logger_subsystem of this logger, or NONE */
    bool context_truncated; /* a context field did not fit */
    size_t context_len;
    char context[LOGGER_CONTEXT_BYTES]; /* ,"key":value... (rendered, no NUL) */
};

/* Repeated-warning limiter: lives in the object that owns the call site
 * (no static state), zero-initialised. */
struct logger_ratelimit {
    uint64_t next_ms;    /* earliest time of the next line */
    uint64_t suppressed; /* lines dropped since the last one written */
};

/*
 * Initialises a root logger writing to out (borrowed for the logger's life)
 * at level LOGGER_INFO, no debug subsystem, no context. clock (may be NULL:
 * real-time clock) gives the "ts" of every line.
 */
void logger_init(struct logger *log, FILE *out, logger_clock_cb clock, void *clock_ctx);

/* Sets the level and the debug subsystems (a mask of 1u << subsystem bits)
 * of log; children made afterwards inherit them. */
void logger_level_set(struct logger *log, enum logger_level level, uint32_t debug_mask);

/*
 * Initialises child as a copy of parent (output, clock, level, context) plus
 * the fields given, rendered once now: strings are copied, nothing borrowed
 * stays borrowed. subsystem is an enum logger_subsystem or
 * LOGGER_SUBSYSTEM_NONE to keep the parent's. child may not be parent.
 *
 *   logger_child(&c->log, &n->log, LOGGER_SUBSYSTEM_CONN, LOG_U64("conn", id));
 */
#define logger_child(child, ...) LOGGER_CHILD_CALL(child, __VA_ARGS__, LOG_END)
#define LOGGER_CHILD_CALL(child, parent, subsystem, ...) \
    logger_child_init((child), (parent), (subsystem), (const struct logger_field[]){ __VA_ARGS__ })
void logger_child_init(struct logger *child, const struct logger *parent, int subsystem,
                       const struct logger_field *fields);

/* True when a line of this level would be written (use it to skip costly
 * field preparation). */
bool logger_is_enabled(const struct logger *log, enum logger_level level);

/* Writes one line if the level is enabled. fields ends with LOG_END. */
void logger_write(const struct logger *log, enum logger_level level, const char *msg,
                  const struct logger_field *fields);

/* Writes a fatal line, flushes, and aborts (STYLE.md 4.7). */
_Noreturn __attribute__((noreturn)) void
logger_write_fatal(const struct logger *log, const char *msg, const struct logger_field *fields);

#define LOGGER_FIELDS(...) ((const struct logger_field[]){ __VA_ARGS__ })
#define LOGGER_CALL(log, level, msg, ...) \
    logger_write((log), (level), (msg), LOGGER_FIELDS(__VA_ARGS__))

#define logger_error(log, ...) LOGGER_CALL(log, LOGGER_ERROR, __VA_ARGS__, LOG_END)
#define logger_warn(log, ...)  LOGGER_CALL(log, LOGGER_WARN, __VA_ARGS__, LOG_END)
#define logger_info(log, ...)  LOGGER_CALL(log, LOGGER_INFO, __VA_ARGS__, LOG_END)
#define logger_debug(log, ...) LOGGER_CALL(log, LOGGER_DEBUG, __VA_ARGS__, LOG_END)
#define logger_fatal(log, ...) LOGGER_FATAL_CALL(log, __VA_ARGS__, LOG_END)
#define LOGGER_FATAL_CALL(log, msg, ...) \
    logger_write_fatal((log), (msg), LOGGER_FIELDS(__VA_ARGS__))

/*
 * Writes the line unless one went through rl less than interval_ms before
 * now_ms (the caller's clock, e.g. uv_now()). The first line after a quiet
 * spell carries "suppressed":N, the number of lines dropped. Returns true
 * when the line was written (or would have been, had its level been on).
 */
bool logger_write_limited(const struct logger *log, struct logger_ratelimit *rl, uint64_t now_ms,
                          uint32_t interval_ms, enum logger_level level, const char *msg,
                          const struct logger_field *fields);

/* logger_warn() at most once per interval_ms per rl (STYLE.md 9.3). */
#define logger_warn_limited(log, rl, now_ms, interval_ms, ...) \
    LOGGER_LIMITED_CALL(log, rl, now_ms, interval_ms, __VA_ARGS__, LOG_END)
#define LOGGER_LIMITED_CALL(log, rl, now_ms, interval_ms, msg, ...)                \
    logger_write_limited((log), (rl), (now_ms), (interval_ms), LOGGER_WARN, (msg), \
                         LOGGER_FIELDS(__VA_ARGS__))

/* Returns "fatal", "error", "warn", "info" or "debug". */
const char *logger_level_name(enum logger_level level);

/* Parses a level name into *out. Returns 0 or INVALID. */
USHER_MUST_CHECK int logger_level_parse(const char *text, enum logger_level *out);

/*
 * Parses a comma-separated subsystem list ("conn,raft", "all", or "" for
 * none) into a mask. Returns 0, or INVALID with errmsg
 * (USHER_ERRMSG_MAX bytes) naming the unknown subsystem.
 */
USHER_MUST_CHECK int logger_debug_parse(const char *list, uint32_t *mask_out, char *errmsg);

/* Returns the name of a subsystem ("conn"), or NULL when out of range. */
const char *logger_subsystem_name(int subsystem);

#endif
