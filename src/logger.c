/*
 * JSON-lines logger (logger.h). A line is built in a bounded stack buffer by
 * a small writer that refuses any piece that would not fit: once a piece is
 * refused the line is "truncated", later pieces are skipped, and the tail
 * (closing quote, "truncated":true, brace, newline) goes into bytes held in
 * reserve, so every line is valid JSON whatever its inputs.
 *
 *   buf: [ {"ts":..,"level":..,"msg":"..." | context | fields | reserve ]
 *          <------------------ cap ------------------>  <- LINE_RESERVE ->
 */
#include "logger.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "assertion.h"

/* Closing quote + ,"truncated":true + }\n, rounded up. */
#define LINE_RESERVE 32u
#define TS_BYTES     32u
#define SCALAR_BYTES 96u /* ,"<key up to 32>":<up to 20 digits or a bool> */

struct line {
    char *buf;
    size_t len;
    size_t cap;  /* bytes usable by ordinary pieces */
    size_t size; /* bytes of buf, reserve included */
    bool truncated;
};

static const char *const level_names[] = { "fatal", "error", "warn", "info", "debug" };

static const char *const subsystem_names[] = {
#define SUBSYSTEM_NAME(name, bit, text) [bit] = (text),
    LOGGER_SUBSYSTEM_MAP(SUBSYSTEM_NAME)
#undef SUBSYSTEM_NAME
};

#define SUBSYSTEM_COUNT (sizeof(subsystem_names) / sizeof(subsystem_names[0]))

static_assert(SUBSYSTEM_COUNT <= 8, "LOGGER_SUBSYSTEM_ALL covers every subsystem");
static_assert(LOGGER_CONTEXT_BYTES + 256u < LOGGER_LINE_BYTES, "a context fits a line");

/* Appends n bytes unless they do not fit; then marks the line truncated. */
static bool line_put(struct line *l, const char *s, size_t n)
{
    if (l->truncated || n > l->cap - l->len) {
        l->truncated = true;
        return false;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    return true;
}

/* Appends into the reserve: only for the tail of a line. */
static void line_put_reserved(struct line *l, const char *s, size_t n)
{
    ASSERT(n <= l->size - l->len);
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

static void line_puts(struct line *l, const char *s)
{
    (void)line_put(l, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (2..4 bytes), or 0 when the bytes
 * are not one (overlong forms, surrogates and code points past U+10FFFF are
 * not). s[0] >= 0x80. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    uint8_t lo = 0x80;
    uint8_t hi = 0xbf;
    size_t len = 0;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80;
        hi = c == 0xed ? 0x9f : 0xbf;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80;
        hi = c == 0xf4 ? 0x8f : 0xbf;
    }
    if (len == 0 || n < len || s[1] < lo || s[1] > hi) {
        return 0;
    }
    for (size_t i = 2; i < len; i++) {
        if (s[i] < 0x80 || s[i] > 0xbf) {
            return 0;
        }
    }
    return len;
}

/* Escaped form of one ASCII byte into out (at least 7 bytes); returns its
 * length. */
static size_t escape_ascii(uint8_t c, char *out)
{
    static const char hex[] = "0123456789abcdef";
    const char *short_form = NULL;
    switch (c) {
    case '"':
        short_form = "\\\"";
        break;
    case '\\':
        short_form = "\\\\";
        break;
    case '\n':
        short_form = "\\n";
        break;
    case '\r':
        short_form = "\\r";
        break;
    case '\t':
        short_form = "\\t";
        break;
    case '\b':
        short_form = "\\b";
        break;
    case '\f':
        short_form = "\\f";
        break;
    default:
        break;
    }
    if (short_form != NULL) {
        memcpy(out, short_form, 2);
        return 2;
    }
    if (c >= 0x20 && c < 0x7f) {
        out[0] = (char)c;
        return 1;
    }
    out[0] = '\\';
    out[1] = 'u';
    out[2] = '0';
    out[3] = '0';
    out[4] = hex[c >> 4];
    out[5] = hex[c & 0xf];
    return 6;
}

/* Appends s[0..n) JSON-escaped, one whole character at a time, until one
 * does not fit. Invalid UTF-8 bytes become U+FFFD. */
static void line_put_escaped(struct line *l, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < n && !l->truncated) {
        char unit[8];
        size_t step = 1;
        size_t unit_len = 0;
        if (p[i] < 0x80) {
            unit_len = escape_ascii(p[i], unit);
            (void)line_put(l, unit, unit_len);
        } else {
            step = utf8_len(p + i, n - i);
            if (step == 0) {
                step = 1;
                line_puts(l, "\\ufffd");
            } else {
                (void)line_put(l, s + i, step);
            }
        }
        i += step;
    }
}

/* Keys are literals of our code (logger.h): snake_case, bounded. */
static void key_check(const char *key)
{
    ASSERT(key != NULL);
    size_t len = strlen(key);
    ASSERT(len >= 1 && len <= LOGGER_KEY_LEN_MAX);
    ASSERT(key[0] >= 'a' && key[0] <= 'z');
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        ASSERT((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_');
    }
}

/* Renders a field whose value has no string part into out; returns its
 * length, or 0 for a string field. */
static size_t scalar_format(const struct logger_field *f, char *out, size_t size)
{
    int n = 0;
    switch (f->type) {
    case LOGGER_FIELD_U64:
        n = snprintf(out, size, ",\"%s\":%" PRIu64, f->key, f->v.u64);
        break;
    case LOGGER_FIELD_I64:
        n = snprintf(out, size, ",\"%s\":%" PRId64, f->key, f->v.i64);
        break;
    case LOGGER_FIELD_BOOL:
        n = snprintf(out, size, ",\"%s\":%s", f->key, f->v.b ? "true" : "false");
        break;
    case LOGGER_FIELD_STR:
        if (f->v.str == NULL) {
            n = snprintf(out, size, ",\"%s\":null", f->key);
        }
        break;
    case LOGGER_FIELD_ERR:
        n = snprintf(out, size, ",\"%s\":\"%s\"", f->key, err_name(f->v.err));
        break;
    case LOGGER_FIELD_STRN:
    case LOGGER_FIELD_HEX:
        break;
    case LOGGER_FIELD_END:
        UNREACHABLE();
    }
    ASSERT(n >= 0 && (size_t)n < size);
    return (size_t)n;
}

static void hex_put(struct line *l, const uint8_t *bytes, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    ASSERT(len <= LOGGER_HEX_BYTES_MAX);
    char text[2 * LOGGER_HEX_BYTES_MAX];
    for (size_t i = 0; i < len; i++) {
        text[2 * i] = hex[bytes[i] >> 4];
        text[2 * i + 1] = hex[bytes[i] & 0xf];
    }
    (void)line_put(l, text, 2 * len);
}

/*
 * Appends one field. With partial, a string that does not fit is cut and
 * closed in the reserve (a line); without, the caller rolls the field back
 * (a context, which keeps whole fields only).
 */
static void field_put(struct line *l, const struct logger_field *f, bool partial)
{
    key_check(f->key);
    char scalar[SCALAR_BYTES];
    size_t scalar_len = scalar_format(f, scalar, sizeof(scalar));
    if (scalar_len > 0) {
        (void)line_put(l, scalar, scalar_len);
        return;
    }
    char head[LOGGER_KEY_LEN_MAX + 8];
    int head_len = snprintf(head, sizeof(head), ",\"%s\":\"", f->key);
    ASSERT(head_len > 0 && (size_t)head_len < sizeof(head));
    if (!line_put(l, head, (size_t)head_len)) {
        return;
    }
    if (f->type == LOGGER_FIELD_HEX) {
        hex_put(l, f->v.bytes, f->len);
    } else {
        ERGO(f->type == LOGGER_FIELD_STRN && f->len > 0, f->v.str != NULL);
        size_t len = f->type == LOGGER_FIELD_STR ? strlen(f->v.str) : f->len;
        line_put_escaped(l, f->v.str, len);
    }
    if (!l->truncated) {
        (void)line_put(l, "\"", 1);
    } else if (partial) {
        line_put_reserved(l, "\"", 1);
    }
}

static uint64_t clock_realtime_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) {
        return 0; /* Cannot fail with CLOCK_REALTIME; 1970 marks it if it does. */
    }
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Formats ms since the epoch as 2024-05-01T12:00:00.123Z. */
static void ts_format(uint64_t ms, char *out, size_t size)
{
    time_t secs = (time_t)(ms / 1000u);
    struct tm tm;
    if (gmtime_r(&secs, &tm) == NULL) {
        memset(&tm, 0, sizeof(tm)); /* Only for years past int; never in practice. */
    }
    int n =
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
                 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(ms % 1000u));
    ASSERT(n > 0 && (size_t)n < size);
}

static void line_head(const struct logger *log, struct line *l, enum logger_level level,
                      const char *msg)
{
    char ts[TS_BYTES];
    ts_format(log->clock != NULL ? log->clock(log->clock_ctx) : clock_realtime_ms(), ts,
              sizeof(ts));
    line_puts(l, "{\"ts\":\"");
    line_puts(l, ts);
    line_puts(l, "\",\"level\":\"");
    line_puts(l, logger_level_name(level));
    line_puts(l, "\",\"msg\":\"");
    ASSERT(msg != NULL);
    line_put_escaped(l, msg, strlen(msg));
    if (l->truncated) {
        line_put_reserved(l, "\"", 1);
    } else {
        (void)line_put(l, "\"", 1);
    }
}

/* Formats and writes one line; suppressed > 0 adds "suppressed":N. */
static void emit(const struct logger *log, enum logger_level level, const char *msg,
                 const struct logger_field *fields, uint64_t suppressed)
{
    char buf[LOGGER_LINE_BYTES];
    struct line l = { buf, 0, sizeof(buf) - LINE_RESERVE, sizeof(buf), false };
    line_head(log, &l, level, msg);
    (void)line_put(&l, log->context, log->context_len);
    for (uint32_t i = 0; fields[i].type != LOGGER_FIELD_END; i++) {
        ASSERT(i < LOGGER_FIELDS_MAX);
        field_put(&l, &fields[i], true);
    }
    if (suppressed > 0) {
        field_put(&l, &LOG_U64("suppressed", suppressed), true);
    }
    if (l.truncated || log->context_truncated) {
        line_put_reserved(&l, ",\"truncated\":true", 17);
    }
    line_put_reserved(&l, "}\n", 2);
    /* A logger has nowhere to report its own failure: a short write or a
     * failed flush loses this line only. */
    (void)fwrite(buf, 1, l.len, log->out);
    (void)fflush(log->out);
}

void logger_init(struct logger *log, FILE *out, logger_clock_cb clock, void *clock_ctx)
{
    ASSERT(log != NULL);
    ASSERT(out != NULL);
    memset(log, 0, sizeof(*log));
    log->out = out;
    log->clock = clock;
    log->clock_ctx = clock_ctx;
    log->level = LOGGER_INFO;
    log->subsystem = LOGGER_SUBSYSTEM_NONE;
}

void logger_level_set(struct logger *log, enum logger_level level, uint32_t debug_mask)
{
    ASSERT(level <= LOGGER_DEBUG);
    ASSERT((debug_mask & ~(uint32_t)LOGGER_SUBSYSTEM_ALL) == 0);
    log->level = (uint8_t)level;
    log->debug_mask = debug_mask;
}

void logger_child_init(struct logger *child, const struct logger *parent, int subsystem,
                       const struct logger_field *fields)
{
    ASSERT(child != parent);
    ASSERT(subsystem >= LOGGER_SUBSYSTEM_NONE && subsystem < (int)SUBSYSTEM_COUNT);
    *child = *parent;
    if (subsystem != LOGGER_SUBSYSTEM_NONE) {
        child->subsystem = subsystem;
    }
    struct line l = { child->context, child->context_len, sizeof(child->context),
                      sizeof(child->context), false };
    for (uint32_t i = 0; fields[i].type != LOGGER_FIELD_END; i++) {
        ASSERT(i < LOGGER_FIELDS_MAX);
        size_t before = l.len;
        field_put(&l, &fields[i], false);
        if (l.truncated) {
            /* Keep whole fields only; a later, shorter one may still fit. */
            l.len = before;
            l.truncated = false;
            child->context_truncated = true;
        }
    }
    child->context_len = l.len;
}

bool logger_is_enabled(const struct logger *log, enum logger_level level)
{
    if (level <= log->level) {
        return true;
    }
    return level == LOGGER_DEBUG && log->subsystem >= 0 &&
           (log->debug_mask & (1u << (uint32_t)log->subsystem)) != 0;
}

void logger_write(const struct logger *log, enum logger_level level, const char *msg,
                  const struct logger_field *fields)
{
    ASSERT(level <= LOGGER_DEBUG);
    if (logger_is_enabled(log, level)) {
        emit(log, level, msg, fields, 0);
    }
}

void logger_write_fatal(const struct logger *log, const char *msg,
                        const struct logger_field *fields)
{
    emit(log, LOGGER_FATAL, msg, fields, 0);
    abort();
}

bool logger_write_limited(const struct logger *log, struct logger_ratelimit *rl, uint64_t now_ms,
                          uint32_t interval_ms, enum logger_level level, const char *msg,
                          const struct logger_field *fields)
{
    if (now_ms < rl->next_ms) {
        rl->suppressed++;
        return false;
    }
    if (logger_is_enabled(log, level)) {
        emit(log, level, msg, fields, rl->suppressed);
    }
    rl->suppressed = 0;
    rl->next_ms = now_ms + interval_ms;
    return true;
}

const char *logger_level_name(enum logger_level level)
{
    ASSERT(level <= LOGGER_DEBUG);
    return level_names[level];
}

int logger_level_parse(const char *text, enum logger_level *out)
{
    for (uint32_t i = 0; i <= LOGGER_DEBUG; i++) {
        if (strcmp(text, level_names[i]) == 0) {
            *out = (enum logger_level)i;
            return 0;
        }
    }
    return USHER_INVALID;
}

const char *logger_subsystem_name(int subsystem)
{
    if (subsystem < 0 || subsystem >= (int)SUBSYSTEM_COUNT) {
        return NULL;
    }
    return subsystem_names[subsystem];
}

/* Mask of one subsystem name of len bytes, or 0 when unknown. */
static uint32_t subsystem_bit(const char *name, size_t len)
{
    if (len == 3 && memcmp(name, "all", 3) == 0) {
        return LOGGER_SUBSYSTEM_ALL;
    }
    for (uint32_t i = 0; i < SUBSYSTEM_COUNT; i++) {
        if (strlen(subsystem_names[i]) == len && memcmp(name, subsystem_names[i], len) == 0) {
            return 1u << i;
        }
    }
    return 0;
}

/* "unknown debug subsystem: x (one of: node conn ... all)" */
static void debug_error(const char *name, size_t name_len, char *errmsg)
{
    char names[128];
    size_t len = 0;
    for (uint32_t i = 0; i < SUBSYSTEM_COUNT; i++) {
        int n = snprintf(names + len, sizeof(names) - len, "%s ", subsystem_names[i]);
        ASSERT(n > 0 && (size_t)n < sizeof(names) - len);
        len += (size_t)n;
    }
    (void)snprintf(errmsg, USHER_ERRMSG_MAX, "unknown debug subsystem: %.*s (one of: %sall)",
                   (int)(name_len > 64 ? 64 : name_len), name, names);
}

int logger_debug_parse(const char *list, uint32_t *mask_out, char *errmsg)
{
    uint32_t mask = 0;
    const char *p = list;
    while (*p != '\0') {
        size_t len = strcspn(p, ",");
        const char *name = p;
        size_t name_len = len;
        while (name_len > 0 && (*name == ' ' || *name == '\t')) {
            name++;
            name_len--;
        }
        while (name_len > 0 && (name[name_len - 1] == ' ' || name[name_len - 1] == '\t')) {
            name_len--;
        }
        uint32_t bit = subsystem_bit(name, name_len);
        if (name_len > 0 && bit == 0) {
            debug_error(name, name_len, errmsg);
            return USHER_INVALID;
        }
        mask |= bit;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    *mask_out = mask;
    return 0;
}
