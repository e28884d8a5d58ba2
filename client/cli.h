/*
 * The `usher` command-line tool: shared declarations of its files.
 *
 *   cli_main.c    main(): options, the command table, help, exit codes
 *   cli_args.c    argument parsing (no I/O: unit-tested)
 *   cli_venue.c   venue JSON files (docs/VENUE.md) into event descriptions
 *   cli_print.c   text and JSON output: times, seat maps, results
 *   cli_event.c   status, ping, event create/list/show, availability
 *   cli_hold.c    hold, extend, book, release, cancel and their reads
 *
 * It uses libusher's blocking API only (a client with a private loop).
 */
#ifndef USHER_CLIENT_CLI_H
#define USHER_CLIENT_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "usher.h"

/* Exit codes (docs/CLIENT.md "usher"). */
#define CLI_EXIT_OK          0 /* done */
#define CLI_EXIT_REFUSED     1 /* the cluster refused it: a domain or limit code */
#define CLI_EXIT_USAGE       2 /* bad command line or input file */
#define CLI_EXIT_UNAVAILABLE 3 /* no node answered in time, or none could serve it */
#define CLI_EXIT_ERROR       4 /* anything else: a node's fault, out of memory */

#define CLI_NODE_DEFAULT "127.0.0.1:7400"
#define CLI_POS_MAX      8u /* words and arguments after the options */
#define CLI_SEATS_MAX    USHER_HOLD_SEATS_LIMIT
#define CLI_ERR_MAX      512u

/* Options, as bits of cli_args.seen and of a command's allowed set. */
enum cli_opt {
    CLI_OPT_NODE = 1u << 0,
    CLI_OPT_JSON = 1u << 1,
    CLI_OPT_TIMEOUT = 1u << 2,
    CLI_OPT_CUSTOMER = 1u << 3,
    CLI_OPT_SEAT = 1u << 4,
    CLI_OPT_BEST = 1u << 5,
    CLI_OPT_GA = 1u << 6,
    CLI_OPT_SECTION = 1u << 7,
    CLI_OPT_TTL = 1u << 8,
    CLI_OPT_PAYMENT = 1u << 9,
    CLI_OPT_KEY = 1u << 10,
    CLI_OPT_CLIENT_ID = 1u << 11,
    CLI_OPT_AFTER = 1u << 12,
    CLI_OPT_MAX = 1u << 13,
    CLI_OPT_ID = 1u << 14,
    CLI_OPT_HELP = 1u << 15,
    CLI_OPT_STALE = 1u << 16,
};

/* Options every command takes. */
#define CLI_OPTS_COMMON \
    (CLI_OPT_NODE | CLI_OPT_JSON | CLI_OPT_TIMEOUT | CLI_OPT_CLIENT_ID | CLI_OPT_HELP)

struct cli_args {
    const char *nodes[USHER_NODES_LIMIT];
    uint32_t node_count;
    uint32_t seen; /* enum cli_opt bits given */
    bool json;
    bool help;
    uint32_t timeout_ms;
    uint32_t stale_ms; /* --stale: follower reads (usher_call_opts.max_stale_ms) */
    uint64_t customer_id;
    const char *seats[CLI_SEATS_MAX]; /* labels "A-1", "Stalls/A-1" or "#17" */
    uint32_t seat_count;
    uint16_t best;
    uint16_t ga;
    const char *section;
    uint32_t ttl_ms;
    const char *payment_ref;
    uint64_t idem_key;
    uint64_t client_id;
    uint64_t after;
    uint32_t max;
    uint64_t event_id; /* --id: the id of `event create` */
    const char *pos[CLI_POS_MAX];
    uint32_t pos_count;
    char seat_buf[1024]; /* the split --seat lists */
    size_t seat_buf_used;
    char err[CLI_ERR_MAX];
};

/*
 * Parses argv[1..argc) into *a (options may come before or after the
 * command words). Returns 0, or CLI_EXIT_USAGE with a message in a->err.
 * Borrows argv for a's life.
 */
int cli_args_parse(int argc, char *const argv[], struct cli_args *a);

/* Returns the name of an option bit ("seat"), or "?". */
const char *cli_opt_name(uint32_t bit);

/* Adds the nodes of a comma-separated list (USHER_NODES) when no --node was
 * given, or CLI_NODE_DEFAULT when env is NULL or empty. Returns 0 or
 * CLI_EXIT_USAGE. The list is copied into buf (cap bytes). */
int cli_args_nodes_default(struct cli_args *a, const char *env, char *buf, size_t cap);

/* Parses a u64 (decimal, or hex with 0x). Returns 0 or -1. */
int cli_u64_parse(const char *s, uint64_t *out);

/* Parses a duration: "600000" or "600000ms" (ms), "600s", "10m". Returns 0
 * or -1 (not a duration, or over UINT32_MAX ms). */
int cli_duration_parse(const char *s, uint32_t *ms);

/* ---- Venue files (cli_venue.c) ---- */

/*
 * Parses a venue JSON text of len bytes into a new event description.
 * The event id is id when != 0, else the file's "id", else random_id.
 * Returns 0 and *out (usher_event_spec_destroy()), or CLI_EXIT_USAGE with
 * a message naming the bad field in err (cap bytes).
 */
int cli_venue_parse(const char *text, size_t len, uint64_t id, uint64_t random_id,
                    struct usher_event_spec **out, char *err, size_t cap);

/* Reads and parses a venue file (at most 16 MiB). Same returns. */
int cli_venue_load(const char *path, uint64_t id, uint64_t random_id, struct usher_event_spec **out,
                   char *err, size_t cap);

/* Next row label for `count` rows: "A" -> "B", "Z" -> "AA", "R9" -> "R10".
 * Returns 0, or -1 when label cannot be numbered or the result is too long. */
int cli_venue_label_next(const char *label, char *out, size_t cap);

/* ---- Output (cli_print.c) ---- */

/* Seat states of a seat map. */
enum cli_seat {
    CLI_SEAT_FREE = '.',
    CLI_SEAT_HELD = 'h',
    CLI_SEAT_BOOKED = 'B',
    CLI_SEAT_TAKEN = 'x', /* held or booked, not known which */
};

/* Formats Unix ms as "2025-06-01T10:00:00.000Z" ("never" for UINT64_MAX). */
void cli_time_format(uint64_t ms, char *buf, size_t cap);

/*
 * Writes the seat map of an event: per section a line with its counts, then
 * per row its label and one character per seat (enum cli_seat), wrapped at
 * `width` seats. states holds one enum cli_seat per seat (a->seat_count).
 * only: one section's index, or UINT32_MAX for all.
 */
void cli_seat_map_write(FILE *f, const struct usher_event_spec *s,
                        const struct usher_availability *a, const char *states, uint32_t width,
                        uint32_t only);

/* Returns the availability as JSON (sections with counts and row maps). */
json_t *cli_seat_map_json(const struct usher_event_spec *s, const struct usher_availability *a,
                          const char *states, uint32_t only);

/* Writes j to f (indented) and frees it. Returns 0 or -1. */
int cli_json_write(FILE *f, json_t *j);

/* JSON for a u64: an integer when it fits jansson's, else a string. */
json_t *cli_json_u64(uint64_t v);

/* ---- Commands (cli_event.c, cli_hold.c) ---- */

struct cli {
    struct usher_client *client;
    const struct cli_args *args;
    struct usher_call_opts opts;
    FILE *out;
    FILE *err;
};

/* Maps a status to an exit code. */
int cli_exit_code(int status);

/* Reports a failed call (text on err, or JSON on out) and returns its exit code. */
int cli_fail(struct cli *cli, const char *what, int status);

/* Reports a usage error and returns CLI_EXIT_USAGE. */
int cli_usage_error(struct cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Writes "client C, key K": what repeats a command (--client-id C --key K). */
void cli_key_format(const struct cli *cli, uint64_t key, char *buf, size_t cap);

/* Parses an event id argument, reporting a usage error. */
int cli_event_id_arg(struct cli *cli, const char *s, uint64_t *id);

/* Resolves a seat argument ("A-1", "Stalls/A-1", "#17") against s. */
int cli_seat_arg(struct cli *cli, const struct usher_event_spec *s, const char *arg,
                 uint32_t *seat_index);

int cli_cmd_status(struct cli *cli);
int cli_cmd_ping(struct cli *cli);
int cli_cmd_where(struct cli *cli);
int cli_cmd_event_create(struct cli *cli);
int cli_cmd_event_list(struct cli *cli);
int cli_cmd_event_show(struct cli *cli);
int cli_cmd_availability(struct cli *cli);
int cli_cmd_hold(struct cli *cli);
int cli_cmd_extend(struct cli *cli);
int cli_cmd_book(struct cli *cli);
int cli_cmd_release(struct cli *cli);
int cli_cmd_cancel(struct cli *cli);
int cli_cmd_hold_show(struct cli *cli);
int cli_cmd_booking_show(struct cli *cli);
int cli_cmd_customer(struct cli *cli);
int cli_cmd_history(struct cli *cli);

#endif
