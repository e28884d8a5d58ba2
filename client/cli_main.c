/*
 * `usher`: the command-line tool for operators and for trying things by
 * hand (docs/CLIENT.md "usher"). main() parses the command line, finds the
 * command in the table below, checks that its options and arguments fit,
 * creates a blocking libusher client and runs the command.
 *
 * Exit codes: 0 done, 1 refused by the cluster (a domain or limit code),
 * 2 usage (bad command line or venue file), 3 unavailable (no node could be
 * reached or serve it in time), 4 any other error.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct command {
    const char *words[2];
    uint32_t args;    /* arguments after the words */
    uint32_t options; /* options beyond CLI_OPTS_COMMON */
    int (*run)(struct cli *cli);
    const char *usage;
    const char *help;
};

#define OPTS_CMD (CLI_OPT_CUSTOMER | CLI_OPT_KEY)

static const struct command commands[] = {
    { { "status", NULL },
      0,
      0,
      cli_cmd_status,
      "status",
      "Shows each node's id, cluster, version and its shards: role, term, commit and\n"
      "applied index, leader and event count. Asks every --node." },
    { { "ping", NULL }, 0, 0, cli_cmd_ping, "ping", "Round trip to each node." },
    { { "where", NULL },
      1,
      0,
      cli_cmd_where,
      "where EVENT",
      "Shows the shard that holds an event and the node that leads it (0: none known)." },
    { { "event", "create" },
      1,
      CLI_OPT_ID | CLI_OPT_KEY,
      cli_cmd_event_create,
      "event create FILE.json [--id ID] [--key KEY]",
      "Creates the event a venue file describes (docs/VENUE.md). The event id is --id,\n"
      "else the file's \"id\", else a random one; it is printed." },
    { { "event", "list" },
      0,
      CLI_OPT_AFTER | CLI_OPT_MAX,
      cli_cmd_event_list,
      "event list [--after ID] [--max N]",
      "Lists events (ids above --after, at most --max, default 100) with their names." },
    { { "event", "show" },
      1,
      CLI_OPT_STALE,
      cli_cmd_event_show,
      "event show EVENT [--stale DURATION]",
      "Shows an event: sale window, hold bounds, sections and rows." },
    { { "availability", NULL },
      1,
      CLI_OPT_SECTION | CLI_OPT_STALE,
      cli_cmd_availability,
      "availability EVENT [--section LABEL] [--stale DURATION]",
      "Prints the seat map: per section its counts, then one line per row and one\n"
      "character per seat: '.' free, 'h' held, 'B' booked ('x': held or booked).\n"
      "--stale 2s lets any replica answer with state at most about 2 s old (a\n"
      "follower read); the header line gives the log index and time it shows." },
    { { "hold", "show" }, 2, 0, cli_cmd_hold_show, "hold show EVENT HOLD", "Shows a hold." },
    { { "hold", NULL },
      1,
      OPTS_CMD | CLI_OPT_SEAT | CLI_OPT_BEST | CLI_OPT_GA | CLI_OPT_SECTION | CLI_OPT_TTL,
      cli_cmd_hold,
      "hold EVENT --customer C (--seat S[,S...] | --best N --section L | --ga N --section L)\n"
      "          [--ttl DURATION] [--key KEY]",
      "Holds seats for a customer: named seats (\"A-12\", \"Stalls/A-12\" or \"#17\" for a\n"
      "seat index), the best N adjacent seats of a seated section, or N places of a\n"
      "general-admission section. --ttl defaults to the event's maximum." },
    { { "extend", NULL },
      2,
      OPTS_CMD | CLI_OPT_TTL,
      cli_cmd_extend,
      "extend EVENT HOLD --customer C [--ttl DURATION] [--key KEY]",
      "Extends a hold to now + ttl, within the event's lifetime bound." },
    { { "book", NULL },
      2,
      OPTS_CMD | CLI_OPT_PAYMENT,
      cli_cmd_book,
      "book EVENT HOLD --customer C [--payment REF] [--key KEY]",
      "Books a live hold, recording a payment reference." },
    { { "release", NULL },
      2,
      OPTS_CMD,
      cli_cmd_release,
      "release EVENT HOLD --customer C [--key KEY]",
      "Releases a hold." },
    { { "cancel", NULL },
      2,
      OPTS_CMD,
      cli_cmd_cancel,
      "cancel EVENT BOOKING --customer C [--key KEY]",
      "Cancels a booking: its seats go back on sale." },
    { { "booking", "show" },
      2,
      0,
      cli_cmd_booking_show,
      "booking show EVENT BOOKING",
      "Shows a booking." },
    { { "customer", NULL },
      2,
      0,
      cli_cmd_customer,
      "customer EVENT CUSTOMER",
      "Lists a customer's live holds and confirmed bookings for an event." },
    { { "history", NULL },
      2,
      0,
      cli_cmd_history,
      "history EVENT SEAT",
      "Shows a seat's history, newest first (SEAT: \"A-12\", \"Stalls/A-12\", \"#17\")." },
};

#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static const char overview[] =
    "usher: the command-line client of usher, a seat-inventory store.\n"
    "\n"
    "Usage: usher [OPTIONS] COMMAND [ARGS]\n"
    "\n"
    "Options (anywhere on the line):\n"
    "  --node ADDR       a node's client address a.b.c.d:port (repeatable); default:\n"
    "                    the comma-separated USHER_NODES, else " CLI_NODE_DEFAULT "\n"
    "  --json            print JSON (errors too, as {\"error\": NAME, ...})\n"
    "  --timeout DUR     deadline of each call, retries included (default 10s)\n"
    "  --client-id ID    the client id of idempotency keys (default: random)\n"
    "  --key KEY         the idempotency key of a command: repeat a command with the\n"
    "                    client id and key it printed (--client-id C --key K) to\n"
    "                    learn its outcome without a second effect\n"
    "  -h, --help        this help, or a command's with COMMAND --help\n"
    "Durations: 600000 or 600000ms, 600s, 10m.\n"
    "\n"
    "Commands:\n";

static const char exit_codes[] =
    "\nExit codes: 0 done, 1 refused by the cluster (seat taken, hold expired, ...),\n"
    "2 usage error, 3 unavailable (no node reachable or able to serve in time),\n"
    "4 other error.\n";

static void help_write(FILE *f)
{
    (void)fputs(overview, f);
    for (size_t i = 0; i < COMMAND_COUNT; i++) {
        (void)fprintf(f, "  usher %s\n", commands[i].usage);
    }
    (void)fputs(exit_codes, f);
}

static void command_help_write(FILE *f, const struct command *cmd)
{
    (void)fprintf(f, "Usage: usher %s\n\n%s\n", cmd->usage, cmd->help);
    (void)fputs(exit_codes, f);
}

/* Finds the command named by the first words of pos (two words first). */
static const struct command *command_find(const char *const *pos, uint32_t count)
{
    const struct command *found = NULL;
    for (size_t i = 0; i < COMMAND_COUNT && count > 0; i++) {
        const struct command *c = &commands[i];
        if (strcmp(c->words[0], pos[0]) != 0) {
            continue;
        }
        if (c->words[1] == NULL) {
            found = found != NULL ? found : c;
        } else if (count > 1 && strcmp(c->words[1], pos[1]) == 0) {
            return c;
        }
    }
    return found;
}

static uint32_t command_words(const struct command *c)
{
    return c->words[1] == NULL ? 1u : 2u;
}

int cli_exit_code(int status)
{
    if (status == 0) {
        return CLI_EXIT_OK;
    }
    if (usher_is_refusal(status)) {
        return CLI_EXIT_REFUSED;
    }
    switch (status) {
    case USHER_UNAVAILABLE:
    case USHER_TIMEOUT:
    case USHER_BUSY:
    case USHER_NOT_LEADER:
    case USHER_WRONG_SHARD:
    case USHER_SHUTTING_DOWN:
    case USHER_CANCELLED:
        return CLI_EXIT_UNAVAILABLE;
    case USHER_INVALID:
        return CLI_EXIT_USAGE;
    default:
        return CLI_EXIT_ERROR;
    }
}

int cli_fail(struct cli *cli, const char *what, int status)
{
    const char *base = usher_strerror(status);
    const char *msg = cli->client != NULL ? usher_client_errmsg(cli->client) : base;
    if (strncmp(msg, base, strlen(base)) != 0) {
        msg = base; /* the client's message is about another call */
    }
    if (cli->args->json) {
        (void)cli_json_write(cli->out,
                             json_pack("{s:s, s:i, s:s, s:s}", "error", usher_errname(status),
                                       "code", status, "message", msg, "during", what));
    } else {
        (void)fprintf(cli->err, "usher: %s: %s (%s)\n", what, msg, usher_errname(status));
    }
    return cli_exit_code(status);
}

int cli_usage_error(struct cli *cli, const char *fmt, ...)
{
    char msg[CLI_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is fine. The analyzer loses va_start through the format
     * attribute: NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (cli->args != NULL && cli->args->json) {
        (void)cli_json_write(cli->out, json_pack("{s:s, s:i, s:s}", "error", "USAGE", "code",
                                                 CLI_EXIT_USAGE, "message", msg));
    } else {
        (void)fprintf(cli->err, "usher: %s\nTry 'usher --help'.\n", msg);
    }
    return CLI_EXIT_USAGE;
}

void cli_key_format(const struct cli *cli, uint64_t key, char *buf, size_t cap)
{
    (void)snprintf(buf, cap, "client %" PRIu64 ", key %" PRIu64, usher_client_id(cli->client), key);
}

int cli_event_id_arg(struct cli *cli, const char *s, uint64_t *id)
{
    if (cli_u64_parse(s, id) != 0 || *id == 0) {
        return cli_usage_error(cli, "'%s' is not an event id (a positive integer)", s);
    }
    return 0;
}

/* Checks the options and the argument count against the command. */
static int command_check(struct cli *cli, const struct command *cmd)
{
    const struct cli_args *a = cli->args;
    uint32_t extra = a->seen & ~(cmd->options | CLI_OPTS_COMMON);
    if (extra != 0) {
        uint32_t bit = extra & (~extra + 1u); /* the lowest one */
        return cli_usage_error(cli, "--%s does not apply here (usage: usher %s)", cli_opt_name(bit),
                               cmd->usage);
    }
    uint32_t want = command_words(cmd) + cmd->args;
    if (a->pos_count != want) {
        return cli_usage_error(cli, "'%s %s' takes %u argument%s (usage: usher %s)", cmd->words[0],
                               cmd->words[1] != NULL ? cmd->words[1] : "", cmd->args,
                               cmd->args == 1 ? "" : "s", cmd->usage);
    }
    return 0;
}

static int client_open(struct cli *cli)
{
    const struct cli_args *a = cli->args;
    struct usher_options o;
    memset(&o, 0, sizeof(o));
    o.nodes = a->nodes;
    o.node_count = a->node_count;
    o.client_id = a->client_id;
    o.call_timeout_ms = a->timeout_ms;
    int rc = usher_client_create(NULL, &o, &cli->client);
    if (rc != 0) {
        return rc == USHER_INVALID ? cli_usage_error(cli, "bad --node address (want a.b.c.d:port)")
                                   : cli_fail(cli, "start", rc);
    }
    memset(&cli->opts, 0, sizeof(cli->opts));
    cli->opts.idem_key = a->idem_key;
    cli->opts.max_stale_ms = a->stale_ms;
    return 0;
}

static int run(struct cli *cli, struct cli_args *a)
{
    if (a->pos_count == 0 || strcmp(a->pos[0], "help") == 0) {
        const struct command *cmd =
            a->pos_count > 1 ? command_find(a->pos + 1, a->pos_count - 1u) : NULL;
        if (cmd != NULL) {
            command_help_write(cli->out, cmd);
            return CLI_EXIT_OK;
        }
        help_write(a->help || a->pos_count > 0 ? cli->out : cli->err);
        return a->help || a->pos_count > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    const struct command *cmd = command_find(a->pos, a->pos_count);
    if (cmd == NULL) {
        return cli_usage_error(cli, "unknown command '%s'", a->pos[0]);
    }
    if (a->help) {
        command_help_write(cli->out, cmd);
        return CLI_EXIT_OK;
    }
    int rc = command_check(cli, cmd);
    if (rc != 0) {
        return rc;
    }
    char nodes_buf[4096];
    if (cli_args_nodes_default(a, getenv("USHER_NODES"), nodes_buf, sizeof(nodes_buf)) != 0) {
        return cli_usage_error(cli, "%s", a->err);
    }
    rc = client_open(cli);
    if (rc != 0) {
        return rc;
    }
    rc = cmd->run(cli);
    usher_client_destroy(cli->client, NULL, NULL);
    cli->client = NULL;
    return rc;
}

int main(int argc, char *argv[])
{
    struct cli_args args;
    struct cli cli = { .client = NULL, .args = &args, .out = stdout, .err = stderr };
    if (cli_args_parse(argc, argv, &args) != 0) {
        (void)fprintf(stderr, "usher: %s\nTry 'usher --help'.\n", args.err);
        return CLI_EXIT_USAGE;
    }
    int rc = run(&cli, &args);
    if (fflush(stdout) != 0) {
        return CLI_EXIT_ERROR;
    }
    return rc;
}
