/*
 * usherd's options (config.h). The table `options` below is the only list of
 * options: parsing a file line, parsing a flag, the defaults, the bounds,
 * --help and the docs table all walk it. Each entry names its struct config
 * field; the OPT_* macros check at compile time that the field has the type
 * the parser writes.
 */
#include "config.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "assertion.h"
#include "limits.h"
#include "logger.h"
#include "mem.h"

enum opt_type {
    OPT_U32 = 1,
    OPT_U64 = 2,
    OPT_PATH = 3,
    OPT_ADDR = 4,
    OPT_LEVEL = 5,
    OPT_DEBUG = 6,
    OPT_HEX64 = 7,
    OPT_PEERS = 8,
};

struct option_def {
    const char *key;  /* config file key */
    const char *flag; /* command-line flag, without "--" */
    const char *arg;  /* name of the value in --help */
    size_t offset;    /* of the struct config field */
    uint64_t def;     /* integers */
    uint64_t min;
    uint64_t max;
    const char *def_text; /* other types ("" when required or empty) */
    const char *help;
    enum opt_type type;
    bool required;
};

/* 0 when struct config's field has type T; a compile error otherwise. A
 * type name cannot be parenthesised in a _Generic association. */
#define FIELD_IS(field, T) \
    (0 * sizeof(char[_Generic(((struct config *)0)->field, T : 1, default : -1)])) /* NOLINT */
#define FIELD(field, T) (offsetof(struct config, field) + FIELD_IS(field, T))

#define OPT_INT(field, T, opt_type, flag_name, def_value, min_value, max_value, text)          \
    {                                                                                          \
        .key = #field, .flag = (flag_name), .arg = "N", .type = (opt_type),                    \
        .offset = FIELD(field, T), .def = (def_value), .min = (min_value), .max = (max_value), \
        .help = (text)                                                                         \
    }
#define OPT_U32_DEF(field, flag_name, def_value, min_value, max_value, text) \
    OPT_INT(field, uint32_t, OPT_U32, flag_name, def_value, min_value, max_value, text)
#define OPT_U64_DEF(field, flag_name, def_value, min_value, max_value, text) \
    OPT_INT(field, uint64_t, OPT_U64, flag_name, def_value, min_value, max_value, text)
#define OPT_TEXT(field, T, opt_type, flag_name, arg_name, def_value, is_required, text) \
    {                                                                                   \
        .key = #field, .flag = (flag_name), .arg = (arg_name), .type = (opt_type),      \
        .offset = FIELD(field, T), .def_text = (def_value), .required = (is_required),  \
        .help = (text)                                                                  \
    }

static const struct option_def options[] = {
    {
        .key = "node_id",
        .flag = "node-id",
        .arg = "ID",
        .type = OPT_U64,
        .offset = FIELD(node_id, uint64_t),
        .min = 1,
        .max = UINT64_MAX,
        .required = true,
        .help = "this node's id in the cluster; never reuse the id of another node",
    },
    OPT_TEXT(data_dir, char *, OPT_PATH, "data", "DIR", "", true,
             "data folder: identity file and one folder per shard"),
    OPT_TEXT(listen_addr, struct sockaddr_in, OPT_ADDR, "listen", "ADDR", "127.0.0.1:7400", false,
             "client protocol address (a.b.c.d:port)"),
    OPT_TEXT(raft_addr, struct sockaddr_in, OPT_ADDR, "raft", "ADDR", "127.0.0.1:7401", false,
             "Raft peer address (a.b.c.d:port)"),
    OPT_TEXT(http_addr, struct sockaddr_in, OPT_ADDR, "http", "ADDR", "127.0.0.1:7402", false,
             "HTTP address for /metrics, /health and /status"),
    OPT_TEXT(cluster_id, uint64_t, OPT_HEX64, "cluster-id", "HEX", "", false,
             "the cluster's id (1 to 16 hex digits), the same on every node; required with peers"),
    OPT_TEXT(peers, struct config_peer *, OPT_PEERS, "peers", "LIST", "", false,
             "every member as ID=RAFT_ADDR/CLIENT_ADDR, comma-separated, this node too; "
             "empty: one node"),
    OPT_U32_DEF(shard_count, "shards", 16, 1, CONFIG_SHARDS_MAX,
                "shards (Raft groups); fixed when the cluster is created"),
    OPT_U32_DEF(connections_max, "connections-max", 4096, 1, CONFIG_CONNECTIONS_MAX,
                "client connections open at once; more are closed at accept"),
    OPT_U32_DEF(inflight_per_conn_max, "inflight-per-conn-max", 1024, 1,
                CONFIG_INFLIGHT_PER_CONN_MAX,
                "requests in flight on one connection; more get BUSY"),
    OPT_U32_DEF(frame_bytes_max, "frame-bytes-max", USHER_FRAME_BYTES_MAX, 4096,
                USHER_FRAME_BYTES_MAX,
                "bytes of one client frame; a larger one closes the connection"),
    OPT_U32_DEF(batch_cmds_max, "batch-cmds-max", USHER_BATCH_CMDS_MAX, 1, USHER_BATCH_CMDS_MAX,
                "commands in one Raft entry (group commit)"),
    OPT_U32_DEF(entries_in_flight_max, "entries-in-flight-max", 16, 1, CONFIG_ENTRIES_IN_FLIGHT_MAX,
                "Raft entries proposed and not yet applied, per shard"),
    OPT_U32_DEF(queue_max, "queue-max", 8192, 1, CONFIG_QUEUE_MAX,
                "commands waiting for an entry, per shard; more get BUSY"),
    OPT_U64_DEF(snapshot_threshold, "snapshot-threshold", 65536, 16, CONFIG_SNAPSHOT_ENTRIES_MAX,
                "Raft entries between two snapshots"),
    OPT_U64_DEF(snapshot_trailing, "snapshot-trailing", 8192, 0, CONFIG_SNAPSHOT_ENTRIES_MAX,
                "Raft entries kept after a snapshot, for followers that lag"),
    OPT_U64_DEF(map_bytes, "map-bytes", USHER_STORE_MAP_BYTES_DEFAULT, USHER_STORE_MAP_BYTES_MIN,
                CONFIG_MAP_BYTES_MAX, "LMDB map size of each shard store (a sparse file)"),
    OPT_U32_DEF(sweep_interval_ms, "sweep-interval-ms", 1000, 10, CONFIG_TIMEOUT_MS_MAX,
                "how often a shard leader proposes a sweep of expired holds"),
    OPT_U32_DEF(election_timeout_ms, "election-timeout-ms", 1000, 100, CONFIG_TIMEOUT_MS_MAX,
                "Raft election timeout (randomised up to twice this)"),
    OPT_U32_DEF(heartbeat_timeout_ms, "heartbeat-timeout-ms", 100, 10, CONFIG_TIMEOUT_MS_MAX,
                "Raft heartbeat interval; below election_timeout_ms"),
    OPT_U32_DEF(lease_percent, "lease-percent", 50, 0, 50,
                "leader lease in % of election_timeout_ms: reads, refusals without a log entry"),
    OPT_U32_DEF(rejoin, "rejoin", 0, 0, 1,
                "1: this node lost its data; no votes until a leader caught it up"),
    OPT_TEXT(log_level, uint32_t, OPT_LEVEL, "log-level", "LEVEL", "info", false,
             "fatal, error, warn, info or debug"),
    {
        /* The file key is "debug"; the field says what it holds. */
        .key = "debug",
        .flag = "debug",
        .arg = "LIST",
        .type = OPT_DEBUG,
        .offset = FIELD(debug_mask, uint32_t),
        .def_text = "",
        .help = "comma-separated subsystems whose debug lines are written, or all",
    },
};

#define OPTION_COUNT (sizeof(options) / sizeof(options[0]))

static_assert(OPTION_COUNT <= 64, "options fit the seen-mask of one source");
static_assert(CONFIG_SHARDS_MAX <= 1024u, "proto.h reports at most 1024 shards");

static void *field_of(struct config *c, const struct option_def *o)
{
    return (char *)c + o->offset;
}

/* Parses a decimal integer of digits only into *out; false on anything
 * else or on overflow. */
static bool u64_parse(const char *text, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; text[i] != '\0'; i++) {
        if (text[i] < '0' || text[i] > '9' || i >= 20) {
            return false;
        }
        uint64_t digit = (uint64_t)(text[i] - '0');
        if (v > (UINT64_MAX - digit) / 10u) {
            return false;
        }
        v = v * 10u + digit;
    }
    *out = v;
    return i > 0;
}

static int int_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    uint64_t v = 0;
    if (!u64_parse(value, &v)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s is not a decimal integer: %.64s", o->key,
                       value);
        return USHER_INVALID;
    }
    if (v < o->min || v > o->max) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "%s out of range: %" PRIu64 " (%" PRIu64 "..%" PRIu64 ")", o->key, v, o->min,
                       o->max);
        return USHER_INVALID;
    }
    if (o->type == OPT_U32) {
        ASSERT(v <= UINT32_MAX);
        uint32_t v32 = (uint32_t)v;
        memcpy(field_of(c, o), &v32, sizeof(v32));
    } else {
        memcpy(field_of(c, o), &v, sizeof(v));
    }
    return 0;
}

static int path_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    size_t len = strlen(value);
    if (len == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s is empty", o->key);
        return USHER_INVALID;
    }
    if (len >= CONFIG_PATH_BYTES) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s too long: %zu bytes (at most %u)", o->key, len,
                       CONFIG_PATH_BYTES - 1);
        return USHER_INVALID;
    }
    memcpy(field_of(c, o), value, len + 1);
    return 0;
}

static int hex64_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    uint64_t v = 0;
    size_t i = 0;
    for (; value[i] != '\0'; i++) {
        char ch = value[i];
        int digit = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
        if (digit < 0 || i >= 16) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s is not 1 to 16 hex digits: %.64s", o->key,
                           value);
            return USHER_INVALID;
        }
        v = v << 4 | (uint64_t)digit;
    }
    if (i > 0 && v == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s may not be 0", o->key);
        return USHER_INVALID;
    }
    memcpy(field_of(c, o), &v, sizeof(v));
    return 0;
}

/* Parses one "ID=RAFT_ADDR/CLIENT_ADDR" of the peers option. */
static int peer_parse(const char *text, size_t len, struct config_peer *out, char *errmsg)
{
    char item[CONFIG_LINE_BYTES];
    if (len >= sizeof(item)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "peer entry too long");
        return USHER_INVALID;
    }
    memcpy(item, text, len);
    item[len] = '\0';
    char *eq = strchr(item, '=');
    char *slash = eq == NULL ? NULL : strchr(eq, '/');
    if (eq == NULL || slash == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "peer %.64s is not ID=RAFT_ADDR/CLIENT_ADDR",
                       item);
        return USHER_INVALID;
    }
    *eq = '\0';
    *slash = '\0';
    char inner[USHER_ERRMSG_MAX];
    if (!u64_parse(item, &out->id) || out->id == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "peer id %.64s is not a node id", item);
        return USHER_INVALID;
    }
    if (config_addr_parse(eq + 1, &out->raft_addr, inner) != 0 ||
        config_addr_parse(slash + 1, &out->client_addr, inner) != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "peer %" PRIu64 ": %.200s", out->id, inner);
        return USHER_INVALID;
    }
    return 0;
}

static int peers_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    ASSERT(o->offset == offsetof(struct config, peers));
    char inner[USHER_ERRMSG_MAX];
    uint32_t n = 0;
    const char *p = value;
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        size_t len = comma == NULL ? strlen(p) : (size_t)(comma - p);
        if (n == CONFIG_PEERS_MAX) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s: more than %u members", o->key,
                           CONFIG_PEERS_MAX);
            return USHER_INVALID;
        }
        if (peer_parse(p, len, &c->peers[n], inner) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s: %.200s", o->key, inner);
            return USHER_INVALID;
        }
        n++;
        p += len;
        if (*p == ',') {
            p++;
        }
    }
    c->peer_count = n;
    return 0;
}

static int text_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    char inner[USHER_ERRMSG_MAX];
    uint32_t v = 0;
    if (o->type == OPT_ADDR) {
        struct sockaddr_in addr;
        if (config_addr_parse(value, &addr, inner) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s: %.200s", o->key, inner);
            return USHER_INVALID;
        }
        memcpy(field_of(c, o), &addr, sizeof(addr));
        return 0;
    }
    if (o->type == OPT_LEVEL) {
        enum logger_level level = LOGGER_INFO;
        if (logger_level_parse(value, &level) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                           "%s: unknown level: %.64s (fatal error warn info debug)", o->key, value);
            return USHER_INVALID;
        }
        v = (uint32_t)level;
    } else {
        ASSERT(o->type == OPT_DEBUG);
        if (logger_debug_parse(value, &v, inner) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s: %.200s", o->key, inner);
            return USHER_INVALID;
        }
    }
    memcpy(field_of(c, o), &v, sizeof(v));
    return 0;
}

/* Sets one option from its text value. */
static int option_set(struct config *c, const struct option_def *o, const char *value, char *errmsg)
{
    switch (o->type) {
    case OPT_U32:
    case OPT_U64:
        return int_set(c, o, value, errmsg);
    case OPT_PATH:
        return path_set(c, o, value, errmsg);
    case OPT_ADDR:
    case OPT_LEVEL:
    case OPT_DEBUG:
        return text_set(c, o, value, errmsg);
    case OPT_HEX64:
        return hex64_set(c, o, value, errmsg);
    case OPT_PEERS:
        return peers_set(c, o, value, errmsg);
    }
    UNREACHABLE();
}

/* Sets one option to its default. */
static int default_set(struct config *c, const struct option_def *o, char *errmsg)
{
    if (o->type == OPT_U32 || o->type == OPT_U64) {
        char text[24];
        (void)snprintf(text, sizeof(text), "%" PRIu64, o->def);
        return option_set(c, o, text, errmsg);
    }
    return option_set(c, o, o->def_text, errmsg);
}

void config_defaults(struct config *c)
{
    memset(c, 0, sizeof(*c));
    char errmsg[USHER_ERRMSG_MAX];
    for (uint32_t i = 0; i < OPTION_COUNT; i++) {
        if (options[i].required) {
            continue; /* Left 0 or "": config_check() asks for them. */
        }
        int rc = default_set(c, &options[i], errmsg);
        ASSERT(rc == 0); /* The table's defaults lie within its bounds. */
    }
    c->action = CONFIG_RUN;
}

static const struct option_def *option_by_key(const char *key, size_t len)
{
    for (uint32_t i = 0; i < OPTION_COUNT; i++) {
        if (strlen(options[i].key) == len && memcmp(options[i].key, key, len) == 0) {
            return &options[i];
        }
    }
    return NULL;
}

static const struct option_def *option_by_flag(const char *flag, size_t len)
{
    for (uint32_t i = 0; i < OPTION_COUNT; i++) {
        if (strlen(options[i].flag) == len && memcmp(options[i].flag, flag, len) == 0) {
            return &options[i];
        }
    }
    return NULL;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r';
}

/* Trims blanks off both ends of s[0..*len); returns the new start. */
static const char *trim(const char *s, size_t *len)
{
    while (*len > 0 && is_blank(s[0])) {
        s++;
        (*len)--;
    }
    while (*len > 0 && is_blank(s[*len - 1])) {
        (*len)--;
    }
    return s;
}

struct file_ctx {
    const char *name;
    uint32_t line_no;
    uint32_t seen_line[OPTION_COUNT]; /* line of each key already set, 0: not yet */
};

/* Applies one line (without its newline) of a config file. Writes the
 * message without the "name:line: " prefix. */
static int line_apply(struct config *c, struct file_ctx *f, const char *line, size_t len,
                      char *errmsg)
{
    const char *s = trim(line, &len);
    if (len == 0 || s[0] == '#') {
        return 0;
    }
    if (memchr(s, '\0', len) != NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "NUL byte in line");
        return USHER_INVALID;
    }
    const char *eq = memchr(s, '=', len);
    if (eq == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "expected key = value: %.*s",
                       (int)(len > 64 ? 64 : len), s);
        return USHER_INVALID;
    }
    size_t key_len = (size_t)(eq - s);
    const char *key = trim(s, &key_len);
    const struct option_def *o = option_by_key(key, key_len);
    if (o == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "unknown option: %.*s",
                       (int)(key_len > 64 ? 64 : key_len), key);
        return USHER_INVALID;
    }
    size_t index = (size_t)(o - options);
    if (f->seen_line[index] != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%s set twice (first on line %" PRIu32 ")", o->key,
                       f->seen_line[index]);
        return USHER_INVALID;
    }
    f->seen_line[index] = f->line_no;
    size_t value_len = (size_t)(s + len - (eq + 1));
    const char *value = trim(eq + 1, &value_len);
    char text[CONFIG_LINE_BYTES];
    ASSERT(value_len < sizeof(text)); /* The caller bounds lines. */
    memcpy(text, value, value_len);
    text[value_len] = '\0';
    return option_set(c, o, text, errmsg);
}

int config_file_parse(struct config *c, const char *text, size_t len, const char *name,
                      char *errmsg)
{
    struct file_ctx f = { .name = name, .line_no = 0 };
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t line_len = nl != NULL ? (size_t)(nl - (text + pos)) : len - pos;
        f.line_no++;
        char inner[USHER_ERRMSG_MAX];
        int rc = 0;
        if (line_len >= CONFIG_LINE_BYTES) {
            (void)snprintf(inner, sizeof(inner), "line too long: %zu bytes (at most %u)", line_len,
                           CONFIG_LINE_BYTES - 1);
            rc = USHER_INVALID;
        } else {
            rc = line_apply(c, &f, text + pos, line_len, inner);
        }
        if (rc != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "%.64s:%" PRIu32 ": %.180s", name, f.line_no,
                           inner);
            return rc;
        }
        pos += line_len + 1;
    }
    return 0;
}

int config_file_read(struct config *c, const char *path, char *errmsg)
{
    FILE *file = fopen(path, "rb");
    if (file == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "open config file %.128s: %s", path,
                       strerror(errno));
        return USHER_INVALID;
    }
    int rc = USHER_INVALID;
    char *text = mem_alloc(CONFIG_FILE_BYTES_MAX + 1);
    if (text == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "read config file %.128s: out of memory", path);
        goto err_after_open;
    }
    size_t len = fread(text, 1, CONFIG_FILE_BYTES_MAX + 1, file);
    if (ferror(file) != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "read config file %.128s: read error", path);
    } else if (len > CONFIG_FILE_BYTES_MAX) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "config file %.128s: larger than %u bytes", path,
                       CONFIG_FILE_BYTES_MAX);
    } else {
        rc = config_file_parse(c, text, len, path, errmsg);
    }
    mem_free(text);
err_after_open:
    (void)fclose(file); /* Read only: nothing to lose on close. */
    return rc;
}

/* Finds the option of argv[*i] and its value (the rest after '=', or the
 * next argument), advancing *i past what it used. */
static int flag_split(int argc, char *const argv[], int *i, const struct option_def **o_out,
                      const char **value_out, char *errmsg)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "unexpected argument: %.64s (see --help)", arg);
        return USHER_INVALID;
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const struct option_def *o = option_by_flag(name, name_len);
    if (o == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "unknown flag: --%.*s (see --help)",
                       (int)(name_len > 64 ? 64 : name_len), name);
        return USHER_INVALID;
    }
    if (eq != NULL) {
        *value_out = eq + 1;
    } else if (*i + 1 < argc) {
        (*i)++;
        *value_out = argv[*i];
    } else {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--%s: missing value", o->flag);
        return USHER_INVALID;
    }
    *o_out = o;
    return 0;
}

static bool is_flag(const char *arg, const char *flag)
{
    size_t len = strlen(flag);
    return strncmp(arg, flag, len) == 0 && (arg[len] == '\0' || arg[len] == '=');
}

int config_args_parse(struct config *c, int argc, char *const argv[], char *errmsg)
{
    uint64_t seen = 0;
    for (int i = 1; i < argc; i++) {
        if (is_flag(argv[i], "--help") || is_flag(argv[i], "--version")) {
            continue;
        }
        if (is_flag(argv[i], "--config")) {
            i += strchr(argv[i], '=') != NULL ? 0 : 1; /* config_load() read it. */
            continue;
        }
        const struct option_def *o = NULL;
        const char *value = NULL;
        int rc = flag_split(argc, argv, &i, &o, &value, errmsg);
        if (rc != 0) {
            return rc;
        }
        uint64_t bit = 1ull << (size_t)(o - options);
        char inner[USHER_ERRMSG_MAX];
        if ((seen & bit) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--%s given twice", o->flag);
            return USHER_INVALID;
        }
        seen |= bit;
        if (strlen(value) >= CONFIG_LINE_BYTES) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--%s: value too long", o->flag);
            return USHER_INVALID;
        }
        rc = option_set(c, o, value, inner);
        if (rc != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--%s: %.200s", o->flag, inner);
            return rc;
        }
    }
    return 0;
}

static bool addr_equal(const struct sockaddr_in *a, const struct sockaddr_in *b)
{
    return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port &&
           a->sin_port != 0;
}

/* The peers option names this node with its own addresses, once each. */
static int peers_check(const struct config *c, char *errmsg)
{
    if (c->peer_count == 0) {
        return 0;
    }
    if (c->cluster_id == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "peers needs cluster_id (--cluster-id HEX), the same on every node");
        return USHER_INVALID;
    }
    const struct config_peer *self = NULL;
    for (uint32_t i = 0; i < c->peer_count; i++) {
        const struct config_peer *p = &c->peers[i];
        for (uint32_t j = 0; j < i; j++) {
            const struct config_peer *q = &c->peers[j];
            if (p->id == q->id || addr_equal(&p->raft_addr, &q->raft_addr) ||
                addr_equal(&p->client_addr, &q->client_addr)) {
                (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                               "peers: nodes %" PRIu64 " and %" PRIu64 " share an id or an address",
                               q->id, p->id);
                return USHER_INVALID;
            }
        }
        if (p->id == c->node_id) {
            self = p;
        }
    }
    if (self == NULL) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "peers does not list this node (node_id %" PRIu64 ")", c->node_id);
        return USHER_INVALID;
    }
    if (!addr_equal(&self->raft_addr, &c->raft_addr) ||
        !addr_equal(&self->client_addr, &c->listen_addr)) {
        char raft[CONFIG_ADDR_BYTES];
        char client[CONFIG_ADDR_BYTES];
        config_addr_format(&self->raft_addr, raft);
        config_addr_format(&self->client_addr, client);
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "peers lists node %" PRIu64 " at raft %s / client %s: give the same "
                       "--raft and --listen",
                       c->node_id, raft, client);
        return USHER_INVALID;
    }
    return 0;
}

int config_check(const struct config *c, char *errmsg)
{
    if (c->node_id == 0) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "node_id is required (--node-id ID or node_id = ID in the config file)");
        return USHER_INVALID;
    }
    if (c->data_dir[0] == '\0') {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "data_dir is required (--data DIR or data_dir = DIR in the config file)");
        return USHER_INVALID;
    }
    if (c->heartbeat_timeout_ms >= c->election_timeout_ms) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "heartbeat_timeout_ms (%" PRIu32
                       ") must be below election_timeout_ms (%" PRIu32 ")",
                       c->heartbeat_timeout_ms, c->election_timeout_ms);
        return USHER_INVALID;
    }
    if (c->map_bytes > CONFIG_MAP_BYTES_TOTAL_MAX / c->shard_count) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "shard_count x map_bytes too large: %" PRIu32 " x %" PRIu64
                       " (at most %" PRIu64 " bytes in all)",
                       c->shard_count, c->map_bytes, (uint64_t)CONFIG_MAP_BYTES_TOTAL_MAX);
        return USHER_INVALID;
    }
    if (addr_equal(&c->listen_addr, &c->raft_addr) || addr_equal(&c->listen_addr, &c->http_addr) ||
        addr_equal(&c->raft_addr, &c->http_addr)) {
        (void)snprintf(errmsg, USHER_ERRMSG_MAX,
                       "listen_addr, raft_addr and http_addr must be three different addresses");
        return USHER_INVALID;
    }
    return peers_check(c, errmsg);
}

/* Scans argv for --help, --version and --config FILE. */
static int args_prescan(struct config *c, int argc, char *const argv[], const char **path,
                        char *errmsg)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            c->action = CONFIG_HELP;
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            c->action = CONFIG_VERSION;
        }
        if (!is_flag(argv[i], "--config")) {
            continue;
        }
        if (*path != NULL) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--config given twice");
            return USHER_INVALID;
        }
        const char *eq = strchr(argv[i], '=');
        if (eq == NULL && i + 1 >= argc) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--config: missing value");
            return USHER_INVALID;
        }
        *path = eq != NULL ? eq + 1 : argv[i + 1];
    }
    return 0;
}

int config_load(struct config *c, int argc, char *const argv[], const char *env_debug, char *errmsg)
{
    config_defaults(c);
    const char *path = NULL;
    int rc = args_prescan(c, argc, argv, &path, errmsg);
    if (rc != 0 || c->action != CONFIG_RUN) {
        return rc;
    }
    if (path != NULL) {
        size_t len = strlen(path);
        if (len == 0 || len >= sizeof(c->config_path)) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "--config: bad path length %zu", len);
            return USHER_INVALID;
        }
        memcpy(c->config_path, path, len + 1);
        rc = config_file_read(c, path, errmsg);
        if (rc != 0) {
            return rc;
        }
    }
    rc = config_args_parse(c, argc, argv, errmsg);
    if (rc != 0) {
        return rc;
    }
    if (env_debug != NULL) {
        char inner[USHER_ERRMSG_MAX];
        uint32_t mask = 0;
        if (logger_debug_parse(env_debug, &mask, inner) != 0) {
            (void)snprintf(errmsg, USHER_ERRMSG_MAX, "USHER_DEBUG: %.200s", inner);
            return USHER_INVALID;
        }
        c->debug_mask |= mask;
    }
    return config_check(c, errmsg);
}

int config_addr_parse(const char *text, struct sockaddr_in *out, char *errmsg)
{
    const char *colon = strrchr(text, ':');
    size_t host_len = colon != NULL ? (size_t)(colon - text) : 0;
    uint64_t port = 0;
    char host[INET_ADDRSTRLEN];
    struct in_addr addr;
    if (colon == NULL || host_len == 0 || host_len >= sizeof(host) ||
        !u64_parse(colon + 1, &port) || port > 65535u) {
        goto err_bad;
    }
    memcpy(host, text, host_len);
    host[host_len] = '\0';
    if (inet_pton(AF_INET, host, &addr) != 1) {
        goto err_bad;
    }
    memset(out, 0, sizeof(*out));
    out->sin_family = AF_INET;
    out->sin_addr = addr;
    out->sin_port = htons((uint16_t)port);
    return 0;
err_bad:
    (void)snprintf(errmsg, USHER_ERRMSG_MAX, "bad address: %.64s (want a.b.c.d:port)", text);
    return USHER_INVALID;
}

void config_addr_format(const struct sockaddr_in *addr, char *out)
{
    char host[INET_ADDRSTRLEN];
    const char *p = inet_ntop(AF_INET, &addr->sin_addr, host, sizeof(host));
    ASSERT(p != NULL); /* An IPv4 address always fits INET_ADDRSTRLEN. */
    int n = snprintf(out, CONFIG_ADDR_BYTES, "%s:%u", host, (unsigned)ntohs(addr->sin_port));
    ASSERT(n > 0 && (size_t)n < CONFIG_ADDR_BYTES);
}

/* "16", "1..1024", or the text default; "required" for required options. */
static void default_text(const struct option_def *o, char *out, size_t size)
{
    if (o->required) {
        (void)snprintf(out, size, "required");
    } else if (o->type == OPT_U32 || o->type == OPT_U64) {
        (void)snprintf(out, size, "%" PRIu64, o->def);
    } else if (o->def_text[0] == '\0') {
        (void)snprintf(out, size, "(none)");
    } else {
        (void)snprintf(out, size, "%s", o->def_text);
    }
}

static void range_text(const struct option_def *o, char *out, size_t size)
{
    if (o->type == OPT_U32 || o->type == OPT_U64) {
        (void)snprintf(out, size, "%" PRIu64 "..%" PRIu64, o->min, o->max);
    } else {
        (void)snprintf(out, size, "-");
    }
}

void config_help_write(FILE *out)
{
    (void)fprintf(out,
                  "usage: usherd --node-id ID --data DIR [--OPTION VALUE ...]\n"
                  "       usherd --config FILE [--OPTION VALUE ...]\n"
                  "\n"
                  "Every option can be set in the config file (key = value, one per line,\n"
                  "'#' comments) or by its flag; flags win over the file. USHER_DEBUG=LIST in\n"
                  "the environment adds debug subsystems. See docs/OPERATIONS.md.\n"
                  "\n"
                  "  --config FILE\n"
                  "      read options from FILE\n");
    for (uint32_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *o = &options[i];
        char def[32];
        char range[48];
        default_text(o, def, sizeof(def));
        range_text(o, range, sizeof(range));
        (void)fprintf(out, "  --%s %s  (%s)\n      %s\n      default: %s", o->flag, o->arg, o->key,
                      o->help, def);
        if (o->type == OPT_U32 || o->type == OPT_U64) {
            (void)fprintf(out, ", range: %s", range);
        }
        (void)fprintf(out, "\n");
    }
    (void)fprintf(out, "  --help\n      print this help and exit\n"
                       "  --version\n      print the version and exit\n");
}

void config_doc_write(FILE *out)
{
    (void)fprintf(out, "| Key | Flag | Default | Range | Meaning |\n"
                       "| --- | --- | --- | --- | --- |\n");
    for (uint32_t i = 0; i < OPTION_COUNT; i++) {
        const struct option_def *o = &options[i];
        char def[32];
        char range[48];
        default_text(o, def, sizeof(def));
        range_text(o, range, sizeof(range));
        (void)fprintf(out, "| `%s` | `--%s %s` | %s | %s | %s |\n", o->key, o->flag, o->arg, def,
                      range, o->help);
    }
}
