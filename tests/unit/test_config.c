/*
 * Config tests: defaults, file and flag precedence, every numeric bound at
 * its limit and one past it (from the file and from the flag), bad lines
 * reported with their line number, address parsing, the cross-option
 * checks, --help, and docs/OPERATIONS.md against the option table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <inttypes.h>

#include "config.h"
#include "limits.h"
#include "logger.h"
#include "tempdir.h"

/* The documented options, written out here on purpose: a change of a
 * default or a bound in config.c must be made here too, knowingly. */
struct expect {
    const char *key;
    const char *flag;
    uint64_t def;
    uint64_t min;
    uint64_t max;
    size_t offset;
    size_t size;
};

#define E(key, flag, def, min, max)                                                                \
    {                                                                                              \
#key, flag, def, min, max, offsetof(struct config, key), sizeof(((struct config *)0)->key) \
    }

static const struct expect numeric[] = {
    E(node_id, "node-id", 0, 1, UINT64_MAX),
    E(shard_count, "shards", 16, 1, 1024),
    E(connections_max, "connections-max", 4096, 1, 65536),
    E(inflight_per_conn_max, "inflight-per-conn-max", 1024, 1, 16384),
    E(frame_bytes_max, "frame-bytes-max", USHER_FRAME_BYTES_MAX, 4096, USHER_FRAME_BYTES_MAX),
    E(batch_cmds_max, "batch-cmds-max", USHER_BATCH_CMDS_MAX, 1, USHER_BATCH_CMDS_MAX),
    E(entries_in_flight_max, "entries-in-flight-max", 16, 1, 256),
    E(queue_max, "queue-max", 8192, 1, 65536),
    E(snapshot_threshold, "snapshot-threshold", 65536, 16, 16777216),
    E(snapshot_trailing, "snapshot-trailing", 8192, 0, 16777216),
    E(map_bytes, "map-bytes", 4294967296ull, 67108864ull, 1099511627776ull),
    E(sweep_interval_ms, "sweep-interval-ms", 1000, 10, 60000),
    E(election_timeout_ms, "election-timeout-ms", 1000, 100, 60000),
    E(heartbeat_timeout_ms, "heartbeat-timeout-ms", 100, 10, 60000),
    E(lease_percent, "lease-percent", 50, 0, 50),
    E(rejoin, "rejoin", 0, 0, 1),
};

#define NUMERIC_COUNT (sizeof(numeric) / sizeof(numeric[0]))

static const char *const text_flags[] = { "data", "listen", "raft", "http", "log-level", "debug" };

static uint64_t field_get(const struct config *c, const struct expect *e)
{
    if (e->size == sizeof(uint32_t)) {
        uint32_t v = 0;
        memcpy(&v, (const char *)c + e->offset, sizeof(v));
        return v;
    }
    uint64_t v = 0;
    memcpy(&v, (const char *)c + e->offset, sizeof(v));
    return v;
}

/* Writable copies of argument strings, as main() gets them. */
#define ARGS_MAX 8

struct args {
    int argc;
    char *argv[ARGS_MAX];
    char text[ARGS_MAX][TEMPDIR_PATH_MAX + 32];
};

static char *const *args_fill(struct args *a, int argc, const char *const *src)
{
    assert_true(argc <= ARGS_MAX);
    a->argc = argc;
    for (int i = 0; i < argc; i++) {
        assert_true(strlen(src[i]) < sizeof(a->text[i]));
        (void)snprintf(a->text[i], sizeof(a->text[i]), "%s", src[i]);
        a->argv[i] = a->text[i];
    }
    return a->argv;
}

#define ARGV(a, ...)                                                                      \
    args_fill((a), (int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(const char *)), \
              (const char *const[]){ __VA_ARGS__ })

static int parse_text(struct config *c, const char *text, char *errmsg)
{
    return config_file_parse(c, text, strlen(text), "t.conf", errmsg);
}

static void addr_expect(const struct sockaddr_in *a, const char *text)
{
    char out[CONFIG_ADDR_BYTES];
    config_addr_format(a, out);
    assert_string_equal(out, text);
}

/* Goal: every option starts at its documented default. */
static void test_config_defaults_are_documented_values(void **state)
{
    (void)state;
    struct config c;
    config_defaults(&c);
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        if (field_get(&c, &numeric[i]) != numeric[i].def) {
            fail_msg("%s default %" PRIu64, numeric[i].key, field_get(&c, &numeric[i]));
        }
    }
    assert_string_equal(c.data_dir, "");
    addr_expect(&c.listen_addr, "127.0.0.1:7400");
    addr_expect(&c.raft_addr, "127.0.0.1:7401");
    addr_expect(&c.http_addr, "127.0.0.1:7402");
    assert_int_equal(c.log_level, LOGGER_INFO);
    assert_int_equal(c.debug_mask, 0);
    assert_int_equal(c.action, CONFIG_RUN);
}

/* Goal: each numeric option takes its minimum and maximum, and refuses one
 * past either end with "key out of range: v (min..max)", from the file. */
static void test_config_file_bounds_at_limit_and_past_it(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    char line[128];
    char want[USHER_ERRMSG_MAX];
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        const struct expect *e = &numeric[i];
        struct config c;
        config_defaults(&c);
        (void)snprintf(line, sizeof(line), "%s = %" PRIu64 "\n", e->key, e->min);
        assert_int_equal(parse_text(&c, line, errmsg), 0);
        assert_true(field_get(&c, e) == e->min);
        (void)snprintf(line, sizeof(line), "# max\n%s = %" PRIu64 "\n", e->key, e->max);
        config_defaults(&c);
        assert_int_equal(parse_text(&c, line, errmsg), 0);
        assert_true(field_get(&c, e) == e->max);
        if (e->max < UINT64_MAX) {
            (void)snprintf(line, sizeof(line), "%s = %" PRIu64, e->key, e->max + 1);
            assert_int_equal(parse_text(&c, line, errmsg), USHER_INVALID);
            (void)snprintf(want, sizeof(want),
                           "t.conf:1: %s out of range: %" PRIu64 " (%" PRIu64 "..%" PRIu64 ")",
                           e->key, e->max + 1, e->min, e->max);
            assert_string_equal(errmsg, want);
        }
        if (e->min > 0) {
            (void)snprintf(line, sizeof(line), "\n\n%s=%" PRIu64, e->key, e->min - 1);
            assert_int_equal(parse_text(&c, line, errmsg), USHER_INVALID);
            (void)snprintf(want, sizeof(want),
                           "t.conf:3: %s out of range: %" PRIu64 " (%" PRIu64 "..%" PRIu64 ")",
                           e->key, e->min - 1, e->min, e->max);
            assert_string_equal(errmsg, want);
        }
    }
}

/* Goal: the same bounds hold for the flags, and the message names the flag. */
static void test_config_flag_bounds_at_limit_and_past_it(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    char flag[64];
    char value[32];
    char want[USHER_ERRMSG_MAX];
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        const struct expect *e = &numeric[i];
        struct config c;
        config_defaults(&c);
        (void)snprintf(flag, sizeof(flag), "--%s", e->flag);
        (void)snprintf(value, sizeof(value), "%" PRIu64, e->max);
        struct args a;
        assert_int_equal(config_args_parse(&c, 3, ARGV(&a, "usherd", flag, value), errmsg), 0);
        assert_true(field_get(&c, e) == e->max);
        if (e->min == 0) {
            continue;
        }
        (void)snprintf(value, sizeof(value), "%" PRIu64, e->min - 1);
        assert_int_equal(config_args_parse(&c, 3, ARGV(&a, "usherd", flag, value), errmsg),
                         USHER_INVALID);
        (void)snprintf(want, sizeof(want),
                       "--%s: %s out of range: %" PRIu64 " (%" PRIu64 "..%" PRIu64 ")", e->flag,
                       e->key, e->min - 1, e->min, e->max);
        assert_string_equal(errmsg, want);
    }
}

/* Goal: the brief's example message, word for word. */
static void test_config_shard_count_zero_message(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    config_defaults(&c);
    struct args a;
    assert_int_equal(config_args_parse(&c, 3, ARGV(&a, "usherd", "--shards", "0"), errmsg),
                     USHER_INVALID);
    assert_string_equal(errmsg, "--shards: shard_count out of range: 0 (1..1024)");
}

/* Goal: each kind of bad line is refused with its file name and line
 * number. */
static void test_config_bad_lines_name_their_line(void **state)
{
    (void)state;

    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        { "node_id = 1\n\nbogus = 3\n", "t.conf:3: unknown option: bogus" },
        { "# c\nshard_count 16\n", "t.conf:2: expected key = value: shard_count 16" },
        { "shard_count = 8\nshard_count = 9\n",
          "t.conf:2: shard_count set twice (first on line 1)" },
        { "shard_count = 1x\n", "t.conf:1: shard_count is not a decimal integer: 1x" },
        { "shard_count = -1\n", "t.conf:1: shard_count is not a decimal integer: -1" },
        { "shard_count = +1\n", "t.conf:1: shard_count is not a decimal integer: +1" },
        { "shard_count = 16 # sixteen\n", "t.conf:1: shard_count is not a decimal integer: "
                                          "16 # sixteen" },
        { "shard_count =\n", "t.conf:1: shard_count is not a decimal integer: " },
        { "node_id = 99999999999999999999\n",
          "t.conf:1: node_id is not a decimal integer: 99999999999999999999" },
        { "data_dir =   \n", "t.conf:1: data_dir is empty" },
        { "x\n= 1\n", "t.conf:1: expected key = value: x" },
        { "listen_addr = localhost:7400\n",
          "t.conf:1: listen_addr: bad address: localhost:7400 (want a.b.c.d:port)" },
        { "log_level = loud\n",
          "t.conf:1: log_level: unknown level: loud (fatal error warn info debug)" },
        { "\n\n\n\ndebug = conn,nope\n",
          "t.conf:5: debug: unknown debug subsystem: nope (one of: "
          "node conn dispatch raft batch snapshot http config all)" },
    };

    char errmsg[USHER_ERRMSG_MAX];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config c;
        config_defaults(&c);
        assert_int_equal(parse_text(&c, cases[i].text, errmsg), USHER_INVALID);
        assert_string_equal(errmsg, cases[i].want);
    }
}

/* Goal: comments, blank lines, CRLF endings, blanks around '=' and a last
 * line without newline are all fine, and every value type is applied. */
static void test_config_file_format_accepts_comments_and_blanks(void **state)
{
    (void)state;
    const char *text = "# usherd config\r\n"
                       "\n"
                       "   # indented comment\n"
                       "node_id=7\r\n"
                       "  data_dir   =  /var/lib/usher dir  \n"
                       "listen_addr = 0.0.0.0:9000\n"
                       "log_level = debug\n"
                       "debug = conn, raft\n"
                       "map_bytes = 67108864";
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    config_defaults(&c);
    assert_int_equal(parse_text(&c, text, errmsg), 0);
    assert_int_equal(c.node_id, 7);
    assert_string_equal(c.data_dir, "/var/lib/usher dir");
    addr_expect(&c.listen_addr, "0.0.0.0:9000");
    assert_int_equal(c.log_level, LOGGER_DEBUG);
    assert_int_equal(c.debug_mask, (1u << LOGGER_SUBSYSTEM_CONN) | (1u << LOGGER_SUBSYSTEM_RAFT));
    assert_int_equal(c.map_bytes, 67108864u);
    assert_int_equal(c.shard_count, 16);
}

/* Goal: a line of CONFIG_LINE_BYTES - 1 bytes is read, one byte more is
 * refused with its length; a path too long for its buffer is refused. */
static void test_config_line_length_limit(void **state)
{
    (void)state;
    static char text[CONFIG_LINE_BYTES + 16];
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    config_defaults(&c);
    size_t head = strlen("shard_count = ");
    memcpy(text, "shard_count = ", head);
    memset(text + head, ' ', CONFIG_LINE_BYTES - 1 - head - 2);
    memcpy(text + CONFIG_LINE_BYTES - 3, "12\n", 4);
    assert_int_equal(strlen(text), CONFIG_LINE_BYTES);
    assert_int_equal(parse_text(&c, text, errmsg), 0);
    assert_int_equal(c.shard_count, 12);
    memcpy(text + CONFIG_LINE_BYTES - 3, " 12\n", 5);
    assert_int_equal(parse_text(&c, text, errmsg), USHER_INVALID);
    assert_string_equal(errmsg, "t.conf:1: line too long: 2048 bytes (at most 2047)");
    memcpy(text, "data_dir = /", 12);
    memset(text + 12, 'd', CONFIG_PATH_BYTES);
    text[12 + CONFIG_PATH_BYTES] = '\0';
    assert_int_equal(parse_text(&c, text, errmsg), USHER_INVALID);
    assert_string_equal(errmsg, "t.conf:1: data_dir too long: 1025 bytes (at most 1023)");
}

static void file_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Goal: the file overrides the defaults, the flags override the file
 * (before or after --config), USHER_DEBUG adds subsystems. */
static void test_config_load_flags_override_file(void **state)
{
    (void)state;
    char dir[TEMPDIR_PATH_MAX];
    assert_int_equal(tempdir_make("config", dir, sizeof(dir)), 0);
    char path[TEMPDIR_PATH_MAX + 16];
    (void)snprintf(path, sizeof(path), "%s/usherd.conf", dir);
    file_write(path, "node_id = 3\ndata_dir = /from/file\nshard_count = 8\n"
                     "connections_max = 100\ndebug = raft\n");
    struct args a;
    char *const *argv = ARGV(&a, "usherd", "--shards", "32", "--config", path, "--data=/from/flag",
                             "--http", "127.0.0.1:0");
    char errmsg[USHER_ERRMSG_MAX] = "";
    struct config c;
    assert_int_equal(config_load(&c, 8, argv, "conn", errmsg), 0);
    assert_int_equal(c.action, CONFIG_RUN);
    assert_int_equal(c.node_id, 3);
    assert_string_equal(c.data_dir, "/from/flag");
    assert_int_equal(c.shard_count, 32);
    assert_int_equal(c.connections_max, 100);
    addr_expect(&c.http_addr, "127.0.0.1:0");
    assert_int_equal(c.debug_mask, (1u << LOGGER_SUBSYSTEM_CONN) | (1u << LOGGER_SUBSYSTEM_RAFT));
    assert_string_equal(c.config_path, path);
    assert_int_equal(config_load(&c, 8, argv, "bogus", errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "USHER_DEBUG: unknown debug subsystem: bogus"));
    file_write(path, "node_id = 3\nqueue_max = 0\n");
    assert_int_equal(config_load(&c, 8, argv, NULL, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "usherd.conf:2: queue_max out of range: 0 (1..65536)"));
    assert_int_equal(tempdir_remove(dir), 0);
}

/* Goal: a missing config file and a file past CONFIG_FILE_BYTES_MAX are
 * refused with the path in the message. */
static void test_config_file_missing_or_too_large(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    config_defaults(&c);
    assert_int_equal(config_file_read(&c, "/nonexistent/usherd.conf", errmsg), USHER_INVALID);
    assert_string_equal(errmsg,
                        "open config file /nonexistent/usherd.conf: No such file or directory");
    char dir[TEMPDIR_PATH_MAX];
    assert_int_equal(tempdir_make("config", dir, sizeof(dir)), 0);
    char path[TEMPDIR_PATH_MAX + 16];
    (void)snprintf(path, sizeof(path), "%s/big.conf", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (uint32_t i = 0; i <= CONFIG_FILE_BYTES_MAX / 8; i++) {
        assert_true(fputs("#comment\n", f) >= 0);
    }
    assert_int_equal(fclose(f), 0);
    assert_int_equal(config_file_read(&c, path, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "big.conf: larger than 65536 bytes"));
    assert_int_equal(tempdir_remove(dir), 0);
}

/* Goal: node_id and data_dir are required; the messages say how to give
 * them. */
static void test_config_required_options(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    struct args a;
    assert_int_equal(config_load(&c, 3, ARGV(&a, "usherd", "--data", "/d"), NULL, errmsg),
                     USHER_INVALID);
    assert_string_equal(errmsg,
                        "node_id is required (--node-id ID or node_id = ID in the config file)");
    assert_int_equal(config_load(&c, 3, ARGV(&a, "usherd", "--node-id", "1"), NULL, errmsg),
                     USHER_INVALID);
    assert_string_equal(errmsg,
                        "data_dir is required (--data DIR or data_dir = DIR in the config file)");
    assert_int_equal(
        config_load(&c, 5, ARGV(&a, "usherd", "--node-id", "1", "--data", "/d"), NULL, errmsg), 0);
}

/* Goal: flag syntax errors are reported: unknown flag, missing value,
 * positional argument, a flag twice, a second --config. */
static void test_config_flag_errors(void **state)
{
    (void)state;

    static const struct {
        int argc;
        const char *argv[4];
        const char *want;
    } cases[] = {
        { 3, { "usherd", "--bogus", "1" }, "unknown flag: --bogus (see --help)" },
        { 2, { "usherd", "--shards" }, "--shards: missing value" },
        { 2, { "usherd", "extra" }, "unexpected argument: extra (see --help)" },
        { 4, { "usherd", "--shards=2", "--shards", "3" }, "--shards given twice" },
        { 3, { "usherd", "--config=a", "--config=b" }, "--config given twice" },
        { 2, { "usherd", "--config" }, "--config: missing value" },
        { 3,
          { "usherd", "--listen", "1.2.3.4" },
          "--listen: listen_addr: bad address: 1.2.3.4 (want a.b.c.d:port)" },
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char errmsg[USHER_ERRMSG_MAX] = "";
        struct config c;
        struct args a;
        char *const *argv = args_fill(&a, cases[i].argc, cases[i].argv);
        assert_int_equal(config_load(&c, cases[i].argc, argv, NULL, errmsg), USHER_INVALID);
        assert_string_equal(errmsg, cases[i].want);
    }
}

/* Goal: --help and --version win over anything else on the line. */
static void test_config_help_and_version_actions(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    struct args a;
    assert_int_equal(config_load(&c, 3, ARGV(&a, "usherd", "--bogus", "--help"), NULL, errmsg), 0);
    assert_int_equal(c.action, CONFIG_HELP);
    assert_int_equal(config_load(&c, 2, ARGV(&a, "usherd", "--version"), NULL, errmsg), 0);
    assert_int_equal(c.action, CONFIG_VERSION);
}

/* Goal: addresses parse at both port ends and refuse everything else. */
static void test_config_addr_parse_bounds(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct sockaddr_in a;
    assert_int_equal(config_addr_parse("10.1.2.3:0", &a, errmsg), 0);
    addr_expect(&a, "10.1.2.3:0");
    assert_int_equal(a.sin_family, AF_INET);
    assert_int_equal(config_addr_parse("255.255.255.255:65535", &a, errmsg), 0);
    addr_expect(&a, "255.255.255.255:65535");
    assert_int_equal(ntohs(a.sin_port), 65535);
    static const char *const bad[] = { "1.2.3.4:65536", "1.2.3.4",  "1.2.3.4:",   ":80",
                                       "256.1.1.1:80",  "1.2.3:80", "1.2.3.4:-1", "1.2.3.4:8a",
                                       "[::1]:80",      "",         "a.b.c.d:1",  "1.2.3.4 :80" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (config_addr_parse(bad[i], &a, errmsg) != USHER_INVALID) {
            fail_msg("accepted %s", bad[i]);
        }
        assert_non_null(strstr(errmsg, "want a.b.c.d:port"));
    }
}

/* Goal: the checks across options: heartbeat below election, all stores
 * within the address space (at the bound and one byte past), three
 * different addresses (port 0 may repeat). */
static void test_config_check_across_options(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    config_defaults(&c);
    c.node_id = 1;
    memcpy(c.data_dir, "/d", 3);
    assert_int_equal(config_check(&c, errmsg), 0);
    c.heartbeat_timeout_ms = c.election_timeout_ms;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_string_equal(errmsg, "heartbeat_timeout_ms (1000) must be below election_timeout_ms "
                                "(1000)");
    c.heartbeat_timeout_ms = 100;
    c.shard_count = 64;
    c.map_bytes = CONFIG_MAP_BYTES_TOTAL_MAX / 64; /* at the bound */
    assert_int_equal(config_check(&c, errmsg), 0);
    c.map_bytes++;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_string_equal(errmsg, "shard_count x map_bytes too large: 64 x 1099511627777 (at most "
                                "70368744177664 bytes in all)");
    c.map_bytes = USHER_STORE_MAP_BYTES_DEFAULT;
    c.http_addr = c.raft_addr;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_string_equal(errmsg,
                        "listen_addr, raft_addr and http_addr must be three different addresses");
    assert_int_equal(config_addr_parse("127.0.0.1:0", &c.listen_addr, errmsg), 0);
    c.raft_addr = c.listen_addr;
    c.http_addr = c.listen_addr;
    assert_int_equal(config_check(&c, errmsg), 0);
}

static char *stream_text(void (*write_fn)(FILE *), size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_non_null(f);
    write_fn(f);
    assert_int_equal(fclose(f), 0);
    return text;
}

/* Goal: --help lists every flag with its default and range, within 100
 * columns. */
/* Goal: the peers option parses every member, and config_check() holds a
 * cluster to one id, this node listed with its own addresses, no member
 * twice; each refusal names the problem. */
static void test_config_peers_and_cluster_id(void **state)
{
    (void)state;
    char errmsg[USHER_ERRMSG_MAX];
    struct config c;
    const char *peers = "1=127.0.0.1:7401/127.0.0.1:7400,2=127.0.0.2:7401/127.0.0.2:7400,"
                        "3=127.0.0.3:7401/127.0.0.3:7400";
    char text[512];
    (void)snprintf(text, sizeof(text),
                   "node_id = 2\ndata_dir = /d\ncluster_id = 00ff\npeers = %s\n"
                   "raft_addr = 127.0.0.2:7401\nlisten_addr = 127.0.0.2:7400\n"
                   "http_addr = 127.0.0.2:7402\n",
                   peers);
    config_defaults(&c);
    assert_int_equal(config_file_parse(&c, text, strlen(text), "f", errmsg), 0);
    assert_int_equal(config_check(&c, errmsg), 0);
    assert_int_equal(c.cluster_id, 0xff);
    assert_int_equal(c.peer_count, 3);
    assert_int_equal(c.peers[2].id, 3);
    char addr[CONFIG_ADDR_BYTES];
    config_addr_format(&c.peers[1].client_addr, addr);
    assert_string_equal(addr, "127.0.0.2:7400");
    /* Another node's addresses for this node. */
    c.node_id = 3;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "give the same --raft and --listen"));
    c.node_id = 4;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "does not list this node"));
    c.node_id = 2;
    c.cluster_id = 0;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "needs cluster_id"));
    c.cluster_id = 1;
    c.peers[2].id = 1;
    assert_int_equal(config_check(&c, errmsg), USHER_INVALID);
    assert_non_null(strstr(errmsg, "share an id or an address"));
    /* Values that do not parse. */
    static const char too_many[] = /* over CONFIG_PEERS_MAX */
        "peers = 1=1.1.1.1:1/1.1.1.1:2,2=1.1.1.2:1/1.1.1.2:2,3=1.1.1.3:1/1.1.1.3:2,"
        "4=1.1.1.4:1/1.1.1.4:2,5=1.1.1.5:1/1.1.1.5:2,6=1.1.1.6:1/1.1.1.6:2,"
        "7=1.1.1.7:1/1.1.1.7:2,8=1.1.1.8:1/1.1.1.8:2,9=1.1.1.9:1/1.1.1.9:2,"
        "10=1.1.1.10:1/1.1.1.10:2\n";
    static const char *const bad[] = {
        "peers = 1=127.0.0.1:7401\n",                 /* no client address */
        "peers = 0=127.0.0.1:7401/127.0.0.1:7400\n",  /* id 0 */
        "peers = 1=127.0.0.1:99999/127.0.0.1:7400\n", /* port */
        "peers = x=127.0.0.1:7401/127.0.0.1:7400\n",  /* id */
        "cluster_id = 0\n",                           /* zero */
        "cluster_id = 12345678901234567\n",           /* 17 digits */
        "cluster_id = 12g\n",                         /* not hex */
        too_many,
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        config_defaults(&c);
        assert_int_equal(config_file_parse(&c, bad[i], strlen(bad[i]), "f", errmsg), USHER_INVALID);
        assert_non_null(strstr(errmsg, "f:1: "));
    }
}

static void test_config_help_lists_every_option(void **state)
{
    (void)state;
    size_t len = 0;
    char *help = stream_text(config_help_write, &len);
    char want[128];
    for (size_t i = 0; i < NUMERIC_COUNT; i++) {
        (void)snprintf(want, sizeof(want), "  --%s ", numeric[i].flag);
        assert_non_null(strstr(help, want));
        (void)snprintf(want, sizeof(want), "range: %" PRIu64 "..%" PRIu64 "\n", numeric[i].min,
                       numeric[i].max);
        assert_non_null(strstr(help, want));
    }
    for (size_t i = 0; i < sizeof(text_flags) / sizeof(text_flags[0]); i++) {
        (void)snprintf(want, sizeof(want), "  --%s ", text_flags[i]);
        assert_non_null(strstr(help, want));
    }
    assert_non_null(strstr(help, "default: 127.0.0.1:7400\n"));
    assert_non_null(strstr(help, "  --help\n"));
    const char *line = help;
    while (*line != '\0') {
        size_t n = strcspn(line, "\n");
        assert_true(n <= 100);
        line += n + (line[n] == '\n' ? 1 : 0);
    }
    free(help);
}

static char *file_read(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        return NULL;
    }
    char *buf = calloc(1, 1u << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1u << 20) - 1, f);
    (void)n;
    assert_int_equal(fclose(f), 0);
    return buf;
}

/* Goal: docs/OPERATIONS.md holds the option table exactly as the code
 * generates it (so the doc cannot drift from the defaults and bounds). */
static void test_config_doc_table_matches_options(void **state)
{
    (void)state;
    const char *srcdir = getenv("USHER_SRCDIR");
    char path[1024];
    (void)snprintf(path, sizeof(path), "%s/docs/OPERATIONS.md", srcdir != NULL ? srcdir : ".");
    char *doc = file_read(path);
    if (doc == NULL) {
        fail_msg("cannot read %s (set USHER_SRCDIR)", path);
    }
    size_t len = 0;
    char *table = stream_text(config_doc_write, &len);
    if (strstr(doc, table) == NULL) {
        fail_msg("docs/OPERATIONS.md lacks the option table; it should read:\n%s", table);
    }
    free(table);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_are_documented_values),
        cmocka_unit_test(test_config_file_bounds_at_limit_and_past_it),
        cmocka_unit_test(test_config_flag_bounds_at_limit_and_past_it),
        cmocka_unit_test(test_config_shard_count_zero_message),
        cmocka_unit_test(test_config_bad_lines_name_their_line),
        cmocka_unit_test(test_config_file_format_accepts_comments_and_blanks),
        cmocka_unit_test(test_config_line_length_limit),
        cmocka_unit_test(test_config_load_flags_override_file),
        cmocka_unit_test(test_config_file_missing_or_too_large),
        cmocka_unit_test(test_config_required_options),
        cmocka_unit_test(test_config_flag_errors),
        cmocka_unit_test(test_config_help_and_version_actions),
        cmocka_unit_test(test_config_addr_parse_bounds),
        cmocka_unit_test(test_config_check_across_options),
        cmocka_unit_test(test_config_peers_and_cluster_id),
        cmocka_unit_test(test_config_help_lists_every_option),
        cmocka_unit_test(test_config_doc_table_matches_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
