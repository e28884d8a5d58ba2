/*
 * Command-line parsing of `usher` (cli.h). Options are long only
 * (`--name value` or `--name=value`, plus -h), may appear anywhere, and
 * `--` ends them. Values are checked here, so a command starts only with
 * well-formed arguments; whether an option fits the command is checked by
 * the command table (cli_main.c).
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct opt_def {
    const char *name;
    uint32_t bit;
    bool takes_value;
    bool repeats;
};

static const struct opt_def opt_defs[] = {
    { "node", CLI_OPT_NODE, true, true },        { "json", CLI_OPT_JSON, false, false },
    { "timeout", CLI_OPT_TIMEOUT, true, false }, { "customer", CLI_OPT_CUSTOMER, true, false },
    { "seat", CLI_OPT_SEAT, true, true },        { "best", CLI_OPT_BEST, true, false },
    { "ga", CLI_OPT_GA, true, false },           { "section", CLI_OPT_SECTION, true, false },
    { "ttl", CLI_OPT_TTL, true, false },         { "payment", CLI_OPT_PAYMENT, true, false },
    { "key", CLI_OPT_KEY, true, false },         { "client-id", CLI_OPT_CLIENT_ID, true, false },
    { "after", CLI_OPT_AFTER, true, false },     { "max", CLI_OPT_MAX, true, false },
    { "id", CLI_OPT_ID, true, false },           { "help", CLI_OPT_HELP, false, false },
    { "stale", CLI_OPT_STALE, true, false },
};

#define OPT_DEF_COUNT (sizeof(opt_defs) / sizeof(opt_defs[0]))

static int fail(struct cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct cli_args *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is fine. The analyzer loses va_start through the format
     * attribute: NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(a->err, sizeof(a->err), fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_u64_parse(const char *s, uint64_t *out)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return -1; /* strtoull would take "-1" and " 1" */
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno != 0 || end == s || *end != '\0') {
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_duration_parse(const char *s, uint32_t *ms)
{
    if (s == NULL || s[0] < '0' || s[0] > '9') {
        return -1;
    }
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned long long unit = 0;
    if (strcmp(end, "") == 0 || strcmp(end, "ms") == 0) {
        unit = 1;
    } else if (strcmp(end, "s") == 0) {
        unit = 1000;
    } else if (strcmp(end, "m") == 0) {
        unit = 60000;
    }
    if (errno != 0 || unit == 0 || v > UINT32_MAX / unit) {
        return -1;
    }
    *ms = (uint32_t)(v * unit);
    return 0;
}

/* Splits a --seat value at commas into the seat list. */
static int add_seats(struct cli_args *a, const char *value)
{
    size_t len = strlen(value);
    if (len + 1u > sizeof(a->seat_buf) - a->seat_buf_used) {
        return fail(a, "--seat: too many seat labels");
    }
    char *copy = a->seat_buf + a->seat_buf_used;
    memcpy(copy, value, len + 1u);
    a->seat_buf_used += len + 1u;
    char *p = copy;
    for (size_t i = 0; i <= len; i++) {
        if (copy[i] != ',' && copy[i] != '\0') {
            continue;
        }
        copy[i] = '\0';
        if (*p == '\0') {
            return fail(a, "--seat: empty seat label in '%s'", value);
        }
        if (a->seat_count >= CLI_SEATS_MAX) {
            return fail(a, "--seat: at most %u seats in one hold", CLI_SEATS_MAX);
        }
        a->seats[a->seat_count++] = p;
        p = copy + i + 1;
    }
    return 0;
}

static int id_value(struct cli_args *a, const char *name, const char *value, uint64_t *out)
{
    if (cli_u64_parse(value, out) != 0 || *out == 0) {
        return fail(a, "--%s: want a positive integer, got '%s'", name, value);
    }
    return 0;
}

static int count_value(struct cli_args *a, const char *name, const char *value, uint32_t max,
                       uint32_t *out)
{
    uint64_t v = 0;
    if (cli_u64_parse(value, &v) != 0 || v == 0 || v > max) {
        return fail(a, "--%s: want an integer 1..%u, got '%s'", name, max, value);
    }
    *out = (uint32_t)v;
    return 0;
}

static int duration_value(struct cli_args *a, const char *name, const char *value, uint32_t *out)
{
    if (cli_duration_parse(value, out) != 0) {
        return fail(a, "--%s: want a duration (600000, 600000ms, 600s, 10m), got '%s'", name,
                    value);
    }
    return 0;
}

/* Counts 1 .. USHER_HOLD_SEATS_LIMIT (--best, --ga). */
static int seats_value(struct cli_args *a, const char *name, const char *value, uint16_t *out)
{
    uint32_t v = 0;
    int rc = count_value(a, name, value, CLI_SEATS_MAX, &v);
    *out = (uint16_t)v;
    return rc;
}

static int apply_value(struct cli_args *a, const struct opt_def *d, const char *value)
{
    switch ((enum cli_opt)d->bit) {
    case CLI_OPT_NODE:
        if (a->node_count >= USHER_NODES_LIMIT) {
            return fail(a, "--node: at most %u nodes", USHER_NODES_LIMIT);
        }
        a->nodes[a->node_count++] = value;
        return 0;
    case CLI_OPT_TIMEOUT:
        return duration_value(a, d->name, value, &a->timeout_ms);
    case CLI_OPT_CUSTOMER:
        return id_value(a, d->name, value, &a->customer_id);
    case CLI_OPT_SEAT:
        return add_seats(a, value);
    case CLI_OPT_BEST:
        return seats_value(a, d->name, value, &a->best);
    case CLI_OPT_GA:
        return seats_value(a, d->name, value, &a->ga);
    case CLI_OPT_SECTION:
        a->section = value;
        return 0;
    case CLI_OPT_TTL:
        return duration_value(a, d->name, value, &a->ttl_ms);
    case CLI_OPT_PAYMENT:
        if (strlen(value) > USHER_PAYMENT_REF_LEN_LIMIT) {
            return fail(a, "--payment: at most %u bytes", USHER_PAYMENT_REF_LEN_LIMIT);
        }
        a->payment_ref = value;
        return 0;
    case CLI_OPT_KEY:
        return id_value(a, d->name, value, &a->idem_key);
    case CLI_OPT_CLIENT_ID:
        return id_value(a, d->name, value, &a->client_id);
    case CLI_OPT_AFTER:
        return cli_u64_parse(value, &a->after) == 0 ? 0 : fail(a, "--after: bad id '%s'", value);
    case CLI_OPT_MAX:
        return count_value(a, d->name, value, 1024u, &a->max);
    case CLI_OPT_ID:
        return id_value(a, d->name, value, &a->event_id);
    case CLI_OPT_STALE:
        return duration_value(a, d->name, value, &a->stale_ms);
    case CLI_OPT_JSON:
    case CLI_OPT_HELP:
        break;
    }
    return fail(a, "--%s takes no value", d->name);
}

static const struct opt_def *opt_find(const char *name, size_t len)
{
    for (size_t i = 0; i < OPT_DEF_COUNT; i++) {
        if (strlen(opt_defs[i].name) == len && strncmp(opt_defs[i].name, name, len) == 0) {
            return &opt_defs[i];
        }
    }
    return NULL;
}

/* Handles argv[*i], an option; may consume the next word as its value. */
static int parse_option(struct cli_args *a, int argc, char *const argv[], int *i)
{
    const char *arg = argv[*i];
    if (strcmp(arg, "-h") == 0) {
        arg = "--help";
    }
    if (strncmp(arg, "--", 2) != 0) {
        return fail(a, "unknown option '%s' (options are long: --name)", arg);
    }
    const char *name = arg + 2;
    const char *eq = strchr(name, '=');
    size_t name_len = eq != NULL ? (size_t)(eq - name) : strlen(name);
    const struct opt_def *d = opt_find(name, name_len);
    if (d == NULL) {
        return fail(a, "unknown option '--%.*s'", (int)name_len, name);
    }
    if ((a->seen & d->bit) != 0 && !d->repeats) {
        return fail(a, "--%s given twice", d->name);
    }
    a->seen |= d->bit;
    if (!d->takes_value) {
        a->json = a->json || d->bit == CLI_OPT_JSON;
        a->help = a->help || d->bit == CLI_OPT_HELP;
        return eq == NULL ? 0 : fail(a, "--%s takes no value", d->name);
    }
    const char *value = eq != NULL ? eq + 1 : NULL;
    if (value == NULL) {
        if (*i + 1 >= argc) {
            return fail(a, "--%s needs a value", d->name);
        }
        *i += 1;
        value = argv[*i];
    }
    return apply_value(a, d, value);
}

int cli_args_parse(int argc, char *const argv[], struct cli_args *a)
{
    memset(a, 0, sizeof(*a));
    bool options_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!options_done && strcmp(arg, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && arg[0] == '-' && arg[1] != '\0') {
            int rc = parse_option(a, argc, argv, &i);
            if (rc != 0) {
                return rc;
            }
            continue;
        }
        if (a->pos_count >= CLI_POS_MAX) {
            return fail(a, "too many arguments ('%s')", arg);
        }
        a->pos[a->pos_count++] = arg;
    }
    return 0;
}

int cli_args_nodes_default(struct cli_args *a, const char *env, char *buf, size_t cap)
{
    if (a->node_count > 0) {
        return 0;
    }
    if (env == NULL || env[0] == '\0') {
        a->nodes[a->node_count++] = CLI_NODE_DEFAULT;
        return 0;
    }
    size_t len = strlen(env);
    if (len + 1u > cap) {
        return fail(a, "USHER_NODES is too long");
    }
    memcpy(buf, env, len + 1u);
    char *p = buf;
    for (size_t i = 0; i <= len; i++) {
        if (buf[i] != ',' && buf[i] != '\0') {
            continue;
        }
        buf[i] = '\0';
        if (*p != '\0') {
            if (a->node_count >= USHER_NODES_LIMIT) {
                return fail(a, "USHER_NODES: at most %u nodes", USHER_NODES_LIMIT);
            }
            a->nodes[a->node_count++] = p;
        }
        p = buf + i + 1;
    }
    return a->node_count > 0 ? 0 : fail(a, "USHER_NODES names no node");
}

const char *cli_opt_name(uint32_t bit)
{
    for (size_t i = 0; i < OPT_DEF_COUNT; i++) {
        if (opt_defs[i].bit == bit) {
            return opt_defs[i].name;
        }
    }
    return "?";
}
