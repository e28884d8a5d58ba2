/*
 * Logger tests: every line is one JSON object that jansson parses back to
 * the values given (escapes, invalid UTF-8, truncation at every cut point),
 * with ts/level/msg first, then the context of each child, then the fields.
 * The clock is a fixed value, so whole lines are compared byte for byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "logger.h"

/* 2024-05-01T12:00:00.123Z */
#define FIXED_MS 1714564800123ull

struct capture {
    char *buf;
    size_t len;
    size_t mark; /* bytes of buf already looked at */
    FILE *out;
    uint64_t now_ms;
    struct logger log;
};

static uint64_t fixed_clock(void *ctx)
{
    const struct capture *c = ctx;
    return c->now_ms;
}

static int capture_setup(void **state)
{
    struct capture *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->out = open_memstream(&c->buf, &c->len);
    assert_non_null(c->out);
    c->now_ms = FIXED_MS;
    logger_init(&c->log, c->out, fixed_clock, c);
    *state = c;
    return 0;
}

static int capture_teardown(void **state)
{
    struct capture *c = *state;
    assert_int_equal(fclose(c->out), 0);
    free(c->buf);
    free(c);
    return 0;
}

/* Forgets what was written so far. */
static void capture_reset(struct capture *c)
{
    assert_int_equal(fflush(c->out), 0);
    c->mark = c->len;
}

/* What was written since the last reset, after flushing. */
static const char *captured(struct capture *c)
{
    assert_int_equal(fflush(c->out), 0);
    return c->buf + c->mark;
}

/* Parses the single line written since the last reset; fails unless it is
 * one JSON object ending in one newline. */
static json_t *captured_json(struct capture *c)
{
    const char *text = captured(c);
    size_t len = strlen(text);
    assert_true(len > 0);
    assert_true(len <= LOGGER_LINE_BYTES);
    assert_int_equal(text[len - 1], '\n');
    assert_null(memchr(text, '\n', len - 1));
    json_error_t err;
    json_t *obj = json_loads(text, JSON_REJECT_DUPLICATES, &err);
    if (obj == NULL) {
        fail_msg("line is not JSON (%s): %s", err.text, text);
    }
    assert_true(json_is_object(obj));
    return obj;
}

static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    assert_non_null(v);
    assert_true(json_is_string(v));
    return json_string_value(v);
}

/* Goal: a line is ts (UTC, ms), level, msg, then the fields, in that order. */
static void test_logger_line_layout_is_ts_level_msg_fields(void **state)
{
    struct capture *c = *state;
    logger_info(&c->log, "shard started", LOG_U64("term", 7), LOG_STR("role", "leader"));
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\","
                                     "\"msg\":\"shard started\",\"term\":7,\"role\":\"leader\"}\n");
    capture_reset(c);
    c->now_ms = 5; /* ms below one second are zero-padded */
    logger_error(&c->log, "x");
    assert_string_equal(
        captured(c), "{\"ts\":\"1970-01-01T00:00:00.005Z\",\"level\":\"error\",\"msg\":\"x\"}\n");
}

/* Goal: every field type renders as documented, extremes included. */
static void test_logger_field_types_render_exactly(void **state)
{
    struct capture *c = *state;
    const uint8_t trace[16] = { 0x00, 0x01, 0xab, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f };
    logger_warn(&c->log, "m", LOG_U64("u", UINT64_MAX), LOG_I64("i", INT64_MIN),
                LOG_BOOL("b", true), LOG_STR("s", NULL), LOG_STRN("n", "a\0b", 3),
                LOG_HEX("trace_id", trace, sizeof(trace)), LOG_ERR("err", USHER_SEAT_TAKEN));
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"warn\","
                                     "\"msg\":\"m\",\"u\":18446744073709551615,"
                                     "\"i\":-9223372036854775808,\"b\":true,\"s\":null,"
                                     "\"n\":\"a\\u0000b\","
                                     "\"trace_id\":\"0001abff00000000000000000000007f\","
                                     "\"err\":\"SEAT_TAKEN\"}\n");
}

/* Goal: quotes, backslashes and control characters are escaped, and the
 * parsed value is the original string. */
static void test_logger_escapes_quotes_backslash_and_controls(void **state)
{
    struct capture *c = *state;
    const char *nasty = "a\"b\\c\nd\re\tf\bg\fh\x01i\x1fj\x7fk/";
    logger_info(&c->log, nasty, LOG_STR("v", nasty));
    const char *text = captured(c);
    assert_non_null(strstr(text, "\"msg\":\"a\\\"b\\\\c\\nd\\re\\tf\\bg\\fh\\u0001i\\u001fj"
                                 "\\u007fk/\""));
    json_t *obj = captured_json(c);
    assert_string_equal(json_str(obj, "msg"), nasty);
    assert_string_equal(json_str(obj, "v"), nasty);
    json_decref(obj);
}

/* Goal: valid UTF-8 passes through; every kind of invalid sequence becomes
 * U+FFFD, one per bad byte, and never breaks the line. */
static void test_logger_replaces_invalid_utf8(void **state)
{
    struct capture *c = *state;

    static const struct {
        const char *in;
        const char *out;
    } cases[] = {
        { "\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9", "\xe2\x82\xac \xf0\x9f\x98\x80 \xc3\xa9" },
        { "a\xff"
          "b",
          "a\xef\xbf\xbd"
          "b" },                                                    /* never a UTF-8 byte */
        { "\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd" },                 /* overlong '/' */
        { "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* surrogate */
        { "\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" }, /* > 10FFFF */
        { "x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd" }, /* cut short at the end */
        { "\x80"
          "z",
          "\xef\xbf\xbd"
          "z" }, /* lone continuation */
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        capture_reset(c);
        logger_info(&c->log, "utf8", LOG_STR("v", cases[i].in));
        json_t *obj = captured_json(c);
        assert_string_equal(json_str(obj, "v"), cases[i].out);
        json_decref(obj);
    }
}

/* Goal: children add their context after msg, grandchildren after their
 * parent's, and the parent's own lines stay as they were. */
static void test_logger_child_context_is_inherited_and_ordered(void **state)
{
    struct capture *c = *state;
    struct logger node;
    struct logger shard;
    struct logger conn;
    logger_child(&node, &c->log, LOGGER_SUBSYSTEM_NODE, LOG_U64("node", 1));
    logger_child(&shard, &node, LOGGER_SUBSYSTEM_RAFT, LOG_U64("shard", 3));
    logger_child(&conn, &shard, LOGGER_SUBSYSTEM_NONE, LOG_U64("conn", 42),
                 LOG_STR("peer", "127.0.0.1:9"));
    logger_info(&conn, "hello", LOG_U64("term", 2));
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\","
                                     "\"msg\":\"hello\",\"node\":1,\"shard\":3,\"conn\":42,"
                                     "\"peer\":\"127.0.0.1:9\",\"term\":2}\n");
    assert_int_equal(conn.subsystem, LOGGER_SUBSYSTEM_RAFT);
    capture_reset(c);
    logger_info(&node, "plain");
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\","
                                     "\"msg\":\"plain\",\"node\":1}\n");
}

/* Goal: a message longer than a line is cut inside its string, the line
 * stays within LOGGER_LINE_BYTES, valid, and says "truncated":true. */
static void test_logger_long_message_is_cut_and_marked(void **state)
{
    struct capture *c = *state;
    char msg[6000];
    memset(msg, 'a', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    logger_info(&c->log, msg, LOG_U64("after", 1));
    json_t *obj = captured_json(c);
    const char *got = json_str(obj, "msg");
    assert_true(strlen(got) > 3000);
    assert_true(strlen(got) < LOGGER_LINE_BYTES);
    assert_int_equal(strncmp(got, msg, strlen(got)), 0);
    assert_true(json_is_true(json_object_get(obj, "truncated")));
    assert_null(json_object_get(obj, "after"));
    json_decref(obj);
    const char *text = captured(c);
    assert_true(strlen(text) > LOGGER_LINE_BYTES - 64);
    assert_string_equal(text + strlen(text) - 20, "\",\"truncated\":true}\n");
}

/* Goal: wherever the cut falls (inside a multi-byte character, a \n escape
 * or a \u escape), the line is valid JSON. */
static void test_logger_cut_never_splits_a_character_or_escape(void **state)
{
    struct capture *c = *state;
    static const char *const units[] = { "\xe2\x82\xac", "\n", "\x01", "\xf0\x9f\x98\x80", "\xff" };
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        for (size_t shift = 0; shift < 8; shift++) {
            char value[LOGGER_LINE_BYTES + 64];
            size_t len = 0;
            memset(value, 'p', shift);
            len = shift;
            while (len + strlen(units[u]) < sizeof(value) - 1) {
                memcpy(value + len, units[u], strlen(units[u]));
                len += strlen(units[u]);
            }
            value[len] = '\0';
            capture_reset(c);
            logger_info(&c->log, "cut", LOG_STR("v", value));
            json_t *obj = captured_json(c);
            assert_true(json_is_true(json_object_get(obj, "truncated")));
            json_decref(obj);
        }
    }
}

/* Goal: a context field that does not fit is left out whole, later ones
 * that fit are kept, and every line of that logger says truncated. */
static void test_logger_context_overflow_keeps_whole_fields(void **state)
{
    struct capture *c = *state;
    char big[LOGGER_CONTEXT_BYTES + 10];
    memset(big, 'b', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct logger child;
    logger_child(&child, &c->log, LOGGER_SUBSYSTEM_NONE, LOG_U64("node", 1), LOG_STR("big", big),
                 LOG_U64("shard", 2));
    assert_true(child.context_truncated);
    logger_info(&child, "m");
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"info\","
                                     "\"msg\":\"m\",\"node\":1,\"shard\":2,\"truncated\":true}\n");
}

/* Goal: lines above the level are dropped; debug lines are written for the
 * subsystems switched on, and for all at level debug. */
static void test_logger_level_and_debug_subsystems_filter(void **state)
{
    struct capture *c = *state;
    logger_level_set(&c->log, LOGGER_WARN, 1u << LOGGER_SUBSYSTEM_CONN);
    struct logger conn;
    struct logger raft;
    logger_child(&conn, &c->log, LOGGER_SUBSYSTEM_CONN);
    logger_child(&raft, &c->log, LOGGER_SUBSYSTEM_RAFT);
    logger_info(&c->log, "dropped info");
    logger_debug(&raft, "dropped debug");
    logger_debug(&c->log, "dropped root debug");
    assert_string_equal(captured(c), "");
    logger_warn(&raft, "kept warn");
    logger_debug(&conn, "kept debug");
    const char *text = captured(c);
    assert_non_null(strstr(text, "\"msg\":\"kept warn\""));
    assert_non_null(strstr(text, "\"level\":\"debug\",\"msg\":\"kept debug\""));
    assert_false(logger_is_enabled(&raft, LOGGER_DEBUG));
    logger_level_set(&raft, LOGGER_DEBUG, 0);
    assert_true(logger_is_enabled(&raft, LOGGER_DEBUG));
}

/* Goal: a rate-limited warning is written at most once per interval per
 * limiter, and the next one counts what was dropped. */
static void test_logger_ratelimit_once_per_interval(void **state)
{
    struct capture *c = *state;
    struct logger_ratelimit rl = { 0 };
    assert_true(logger_warn_limited(&c->log, &rl, 1000, 1000, "full", LOG_U64("n", 1)));
    assert_false(logger_warn_limited(&c->log, &rl, 1500, 1000, "full", LOG_U64("n", 2)));
    assert_false(logger_warn_limited(&c->log, &rl, 1999, 1000, "full", LOG_U64("n", 3)));
    const char *text = captured(c);
    assert_non_null(strstr(text, "\"n\":1}\n"));
    assert_null(strstr(text, "\"n\":2"));
    capture_reset(c);
    assert_true(logger_warn_limited(&c->log, &rl, 2000, 1000, "full", LOG_U64("n", 4)));
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"warn\","
                                     "\"msg\":\"full\",\"n\":4,\"suppressed\":2}\n");
    capture_reset(c);
    assert_true(logger_warn_limited(&c->log, &rl, 3000, 1000, "full"));
    assert_null(strstr(captured(c), "suppressed"));
}

/* Goal: debug lists parse names, blanks and "all", and reject unknown names
 * with a message naming them. */
static void test_logger_debug_list_parses_and_rejects(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    uint32_t mask = 99;
    assert_int_equal(logger_debug_parse("", &mask, errmsg), 0);
    assert_int_equal(mask, 0);
    assert_int_equal(logger_debug_parse(" conn , raft,", &mask, errmsg), 0);
    assert_int_equal(mask, (1u << LOGGER_SUBSYSTEM_CONN) | (1u << LOGGER_SUBSYSTEM_RAFT));
    assert_int_equal(logger_debug_parse("all", &mask, errmsg), 0);
    assert_int_equal(mask, LOGGER_SUBSYSTEM_ALL);
    assert_int_equal(logger_debug_parse("conn,bogus", &mask, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "unknown debug subsystem: bogus"));
    assert_non_null(strstr(errmsg, "http"));
    assert_string_equal(logger_subsystem_name(LOGGER_SUBSYSTEM_HTTP), "http");
    assert_null(logger_subsystem_name(99));
}

/* Goal: level names round-trip and unknown ones are refused. */
static void test_logger_level_names_round_trip(void **state)
{
    (void)state;
    for (int i = LOGGER_FATAL; i <= LOGGER_DEBUG; i++) {
        enum logger_level level = LOGGER_INFO;
        assert_int_equal(logger_level_parse(logger_level_name((enum logger_level)i), &level), 0);
        assert_int_equal(level, i);
    }
    enum logger_level level = LOGGER_INFO;
    assert_int_equal(logger_level_parse("verbose", &level), USHER_INVALID);
    assert_int_equal(logger_level_parse("INFO", &level), USHER_INVALID);
}

/* Goal: a fatal-level line is formatted like any other (the abort of
 * logger_fatal() is not run here). */
static void test_logger_fatal_level_line(void **state)
{
    struct capture *c = *state;
    logger_write(&c->log, LOGGER_FATAL, "store commit failed",
                 (const struct logger_field[]){ LOG_ERR("code", USHER_STORAGE), LOG_END });
    assert_string_equal(captured(c), "{\"ts\":\"2024-05-01T12:00:00.123Z\",\"level\":\"fatal\","
                                     "\"msg\":\"store commit failed\",\"code\":\"STORAGE\"}\n");
}

#define T(name) cmocka_unit_test_setup_teardown(name, capture_setup, capture_teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_logger_line_layout_is_ts_level_msg_fields),
        T(test_logger_field_types_render_exactly),
        T(test_logger_escapes_quotes_backslash_and_controls),
        T(test_logger_replaces_invalid_utf8),
        T(test_logger_child_context_is_inherited_and_ordered),
        T(test_logger_long_message_is_cut_and_marked),
        T(test_logger_cut_never_splits_a_character_or_escape),
        T(test_logger_context_overflow_keeps_whole_fields),
        T(test_logger_level_and_debug_subsystems_filter),
        T(test_logger_ratelimit_once_per_interval),
        T(test_logger_debug_list_parses_and_rejects),
        T(test_logger_level_names_round_trip),
        T(test_logger_fatal_level_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
