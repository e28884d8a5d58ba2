/*
 * `usher` commands about holds and bookings: hold, extend, book, release,
 * cancel, and the reads hold show, booking show, customer, history.
 *
 * Seats are named as people read them ("A-12", or "Stalls/A-12" when row
 * labels repeat across sections) or by dense index ("#17"); the tool reads
 * the event's description to turn names into indexes and back.
 * Every command prints the client id and idempotency key it used: running
 * it again with --client-id C --key K returns the first outcome and has no
 * second effect.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

int cli_seat_arg(struct cli *cli, const struct usher_event_spec *s, const char *arg,
                 uint32_t *seat_index)
{
    struct usher_event_info info;
    usher_event_spec_info(s, &info);
    if (arg[0] == '#') {
        uint64_t v = 0;
        if (cli_u64_parse(arg + 1, &v) != 0 || v >= info.seat_count) {
            return cli_usage_error(cli, "seat '%s': the event's seat indexes are #0..#%u", arg,
                                   info.seat_count > 0 ? info.seat_count - 1u : 0);
        }
        *seat_index = (uint32_t)v;
        return 0;
    }
    int rc = usher_event_spec_seat_find(s, arg, seat_index);
    if (rc == USHER_INVALID) {
        return cli_usage_error(cli,
                               "'%s' is not a seat (want ROW-NUMBER, SECTION/ROW-NUMBER or "
                               "#INDEX)",
                               arg);
    }
    if (rc != 0) {
        return cli_usage_error(cli,
                               "event %" PRIu64 " has no seat '%s' (if the row label is in "
                               "several sections, write SECTION/%s)",
                               info.id, arg, arg);
    }
    return 0;
}

static json_t *seats_json(const struct usher_event_spec *spec, const uint32_t *seats,
                          uint16_t count)
{
    json_t *list = json_array();
    for (uint16_t i = 0; list != NULL && i < count; i++) {
        char label[40] = "";
        if (spec != NULL) {
            (void)usher_event_spec_seat_label(spec, seats[i], label, sizeof(label));
        }
        (void)json_array_append_new(
            list, json_pack("{s:I, s:s}", "index", (json_int_t)seats[i], "label", label));
    }
    return list;
}

static void seats_text(FILE *f, const struct usher_event_spec *spec, const uint32_t *seats,
                       uint16_t count)
{
    for (uint16_t i = 0; i < count; i++) {
        char label[40] = "?";
        if (spec != NULL) {
            (void)usher_event_spec_seat_label(spec, seats[i], label, sizeof(label));
        }
        (void)fprintf(f, "%s%s (#%u)", i > 0 ? ", " : "", label, seats[i]);
    }
}

/* Prints a command's result; `noun` names its id ("hold", "booking"). */
static int cmd_report(struct cli *cli, const char *what, const char *noun, int rc,
                      const struct usher_cmd_result *r, const struct usher_event_spec *spec)
{
    if (rc != 0) {
        char ctx[160];
        char key[64];
        cli_key_format(cli, r->idem_key, key, sizeof(key));
        (void)snprintf(ctx, sizeof(ctx), "%s (%s)", what, key);
        return cli_fail(cli, ctx, rc);
    }
    char expires[40] = "";
    if (r->expires_at_ms != 0) {
        cli_time_format(r->expires_at_ms, expires, sizeof(expires));
    }
    if (cli->args->json) {
        json_t *j = json_pack("{s:s, s:o, s:o, s:s, s:o, s:o, s:b, s:b, s:I, s:o}", "result", what,
                              "id", cli_json_u64(r->id), "expires_at_ms",
                              cli_json_u64(r->expires_at_ms), "expires_at", expires, "client_id",
                              cli_json_u64(usher_client_id(cli->client)), "idem_key",
                              cli_json_u64(r->idem_key), "replayed", r->replayed, "ga", r->ga,
                              "seat_count", (json_int_t)r->seat_count, "seats",
                              seats_json(spec, r->seats, r->ga ? 0 : r->seat_count));
        return cli_json_write(cli->out, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    }
    (void)fprintf(cli->out, "%s: %s %" PRIu64, what, noun, r->id);
    if (r->ga) {
        (void)fprintf(cli->out, ", %u %s", r->seat_count, r->seat_count == 1 ? "place" : "places");
    } else if (r->seat_count > 0) {
        (void)fprintf(cli->out, ", %u %s: ", r->seat_count, r->seat_count == 1 ? "seat" : "seats");
        seats_text(cli->out, spec, r->seats, r->seat_count);
    }
    if (expires[0] != '\0') {
        (void)fprintf(cli->out, ", expires %s", expires);
    }
    char key[64];
    cli_key_format(cli, r->idem_key, key, sizeof(key));
    (void)fprintf(cli->out, "%s (%s)\n", r->replayed ? ", replayed" : "", key);
    return CLI_EXIT_OK;
}

static int need_customer(struct cli *cli)
{
    if (cli->args->customer_id == 0) {
        return cli_usage_error(cli, "--customer ID is required");
    }
    return 0;
}

/* Parses a positional id (hold, booking, customer). */
static int id_arg(struct cli *cli, const char *what, const char *s, uint64_t *id)
{
    if (cli_u64_parse(s, id) != 0 || *id == 0) {
        return cli_usage_error(cli, "'%s' is not a %s id (a positive integer)", s, what);
    }
    return 0;
}

/* The section of --best / --ga: --section (label, else index), or the only
 * section of the right kind. */
static int section_arg(struct cli *cli, const struct usher_event_spec *spec, uint8_t kind,
                       uint16_t *out)
{
    struct usher_event_info info;
    usher_event_spec_info(spec, &info);
    uint32_t found = UINT32_MAX;
    uint32_t matches = 0;
    const char *label = cli->args->section;
    if (label != NULL && usher_event_spec_section_find(spec, label, &found) != 0) {
        uint64_t v = 0;
        found = cli_u64_parse(label, &v) == 0 && v < info.section_count ? (uint32_t)v : found;
    }
    for (uint32_t i = 0; label == NULL && i < info.section_count; i++) {
        struct usher_section_info sec;
        if (usher_event_spec_section(spec, i, &sec) == 0 && sec.kind == kind) {
            found = i;
            matches++;
        }
    }
    if (found == UINT32_MAX || (label == NULL && matches != 1)) {
        return cli_usage_error(cli,
                               label != NULL ? "the event has no section '%s'"
                                             : "say which section with --section LABEL%s",
                               label != NULL ? label : "");
    }
    *out = (uint16_t)found;
    return 0;
}

static int hold_run(struct cli *cli, const struct usher_event_spec *spec, uint64_t event_id,
                    struct usher_cmd_result *r)
{
    const struct cli_args *a = cli->args;
    if (a->seat_count > 0) {
        uint32_t seats[CLI_SEATS_MAX];
        for (uint32_t i = 0; i < a->seat_count; i++) {
            if (cli_seat_arg(cli, spec, a->seats[i], &seats[i]) != 0) {
                return -1;
            }
        }
        return usher_hold_seats_sync(cli->client, &cli->opts, event_id, a->customer_id, seats,
                                     (uint16_t)a->seat_count, a->ttl_ms, r);
    }
    uint8_t kind = a->best > 0 ? USHER_SECTION_SEATED : USHER_SECTION_GA;
    uint16_t section = 0;
    if (section_arg(cli, spec, kind, &section) != 0) {
        return -1;
    }
    if (a->best > 0) {
        return usher_hold_best_sync(cli->client, &cli->opts, event_id, a->customer_id, section,
                                    a->best, a->ttl_ms, r);
    }
    return usher_hold_ga_sync(cli->client, &cli->opts, event_id, a->customer_id, section, a->ga,
                              a->ttl_ms, r);
}

int cli_cmd_hold(struct cli *cli)
{
    const struct cli_args *a = cli->args;
    uint64_t event_id = 0;
    if (cli_event_id_arg(cli, a->pos[1], &event_id) != 0 || need_customer(cli) != 0) {
        return CLI_EXIT_USAGE;
    }
    int ways = (a->seat_count > 0) + (a->best > 0) + (a->ga > 0);
    if (ways != 1) {
        return cli_usage_error(cli, "give exactly one of --seat, --best N, --ga N");
    }
    struct usher_event_spec *spec = NULL;
    int rc = usher_event_get_sync(cli->client, &cli->opts, event_id, &spec);
    if (rc != 0) {
        return cli_fail(cli, "hold", rc);
    }
    struct usher_cmd_result r;
    memset(&r, 0, sizeof(r));
    rc = hold_run(cli, spec, event_id, &r);
    rc = rc < 0 ? CLI_EXIT_USAGE : cmd_report(cli, "hold", "hold", rc, &r, spec);
    usher_event_spec_destroy(spec);
    return rc;
}

/* Reads EVENT and the id after it, and checks --customer. */
static int event_and_id(struct cli *cli, const char *what, uint64_t *event_id, uint64_t *id)
{
    if (cli_event_id_arg(cli, cli->args->pos[1], event_id) != 0 ||
        id_arg(cli, what, cli->args->pos[2], id) != 0) {
        return CLI_EXIT_USAGE;
    }
    return need_customer(cli);
}

int cli_cmd_extend(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t hold_id = 0;
    if (event_and_id(cli, "hold", &event_id, &hold_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_cmd_result r;
    int rc = usher_hold_extend_sync(cli->client, &cli->opts, event_id, cli->args->customer_id,
                                    hold_id, cli->args->ttl_ms, &r);
    return cmd_report(cli, "extend", "hold", rc, &r, NULL);
}

int cli_cmd_book(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t hold_id = 0;
    if (event_and_id(cli, "hold", &event_id, &hold_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_cmd_result r;
    int rc = usher_hold_book_sync(cli->client, &cli->opts, event_id, cli->args->customer_id,
                                  hold_id, cli->args->payment_ref, &r);
    return cmd_report(cli, "book", "booking", rc, &r, NULL);
}

int cli_cmd_release(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t hold_id = 0;
    if (event_and_id(cli, "hold", &event_id, &hold_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_cmd_result r;
    int rc = usher_hold_release_sync(cli->client, &cli->opts, event_id, cli->args->customer_id,
                                     hold_id, &r);
    return cmd_report(cli, "release", "hold", rc, &r, NULL);
}

int cli_cmd_cancel(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t booking_id = 0;
    if (event_and_id(cli, "booking", &event_id, &booking_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_cmd_result r;
    int rc = usher_booking_cancel_sync(cli->client, &cli->opts, event_id, cli->args->customer_id,
                                       booking_id, &r);
    return cmd_report(cli, "cancel", "booking", rc, &r, NULL);
}

static const char *hold_state_name(uint8_t state)
{
    switch (state) {
    case USHER_HOLD_STATE_ACTIVE:
        return "active";
    case USHER_HOLD_STATE_RELEASED:
        return "released";
    case USHER_HOLD_STATE_EXPIRED:
        return "expired";
    case USHER_HOLD_STATE_BOOKED:
        return "booked";
    default:
        return "unknown";
    }
}

/* Reads EVENT and the id after it, and the event's description (for seat
 * labels; NULL if it cannot be read). */
static int read_args(struct cli *cli, const char *what, uint64_t *event_id, uint64_t *id,
                     struct usher_event_spec **spec)
{
    if (cli_event_id_arg(cli, cli->args->pos[2], event_id) != 0 ||
        id_arg(cli, what, cli->args->pos[3], id) != 0) {
        return CLI_EXIT_USAGE;
    }
    *spec = NULL;
    if (usher_event_get_sync(cli->client, &cli->opts, *event_id, spec) != 0) {
        *spec = NULL; /* the read itself will say what is wrong */
    }
    return 0;
}

int cli_cmd_hold_show(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t hold_id = 0;
    struct usher_event_spec *spec = NULL;
    if (read_args(cli, "hold", &event_id, &hold_id, &spec) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_hold_info h;
    int rc = usher_hold_get_sync(cli->client, &cli->opts, event_id, hold_id, &h);
    if (rc != 0) {
        usher_event_spec_destroy(spec);
        return cli_fail(cli, "hold show", rc);
    }
    char created[40];
    char expires[40];
    char ended[40] = "-";
    cli_time_format(h.created_at_ms, created, sizeof(created));
    cli_time_format(h.expires_at_ms, expires, sizeof(expires));
    if (h.ended_at_ms != 0) {
        cli_time_format(h.ended_at_ms, ended, sizeof(ended));
    }
    if (cli->args->json) {
        json_t *j = json_pack(
            "{s:o, s:o, s:o, s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:o, s:o}", "hold_id",
            cli_json_u64(h.id), "event_id", cli_json_u64(h.event_id), "customer_id",
            cli_json_u64(h.customer_id), "state", hold_state_name(h.state), "ga", h.ga, "section",
            (json_int_t)h.section, "seat_count", (json_int_t)h.seat_count, "created_at", created,
            "expires_at", expires, "ended_at", ended, "booking_id", cli_json_u64(h.booking_id),
            "seats", seats_json(spec, h.seats, h.ga ? 0 : h.seat_count));
        rc = cli_json_write(cli->out, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    } else {
        (void)fprintf(cli->out, "hold %" PRIu64 " of event %" PRIu64 ", customer %" PRIu64 ": %s\n",
                      h.id, h.event_id, h.customer_id, hold_state_name(h.state));
        if (h.ga) {
            (void)fprintf(cli->out, "  %u places of section %u\n", h.seat_count, h.section);
        } else {
            (void)fprintf(cli->out, "  seats ");
            seats_text(cli->out, spec, h.seats, h.seat_count);
            (void)fprintf(cli->out, "\n");
        }
        (void)fprintf(cli->out, "  created %s, expires %s, ended %s\n", created, expires, ended);
        if (h.booking_id != 0) {
            (void)fprintf(cli->out, "  booking %" PRIu64 "\n", h.booking_id);
        }
    }
    usher_event_spec_destroy(spec);
    return rc;
}

int cli_cmd_booking_show(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t booking_id = 0;
    struct usher_event_spec *spec = NULL;
    if (read_args(cli, "booking", &event_id, &booking_id, &spec) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_booking_info b;
    int rc = usher_booking_get_sync(cli->client, &cli->opts, event_id, booking_id, &b);
    if (rc != 0) {
        usher_event_spec_destroy(spec);
        return cli_fail(cli, "booking show", rc);
    }
    bool cancelled = b.state == USHER_BOOKING_STATE_CANCELLED;
    char booked[40];
    char cancelled_at[40] = "-";
    cli_time_format(b.booked_at_ms, booked, sizeof(booked));
    if (cancelled) {
        cli_time_format(b.cancelled_at_ms, cancelled_at, sizeof(cancelled_at));
    }
    if (cli->args->json) {
        json_t *j =
            json_pack("{s:o, s:o, s:o, s:o, s:s, s:b, s:I, s:I, s:s, s:s, s:s, s:o}", "booking_id",
                      cli_json_u64(b.id), "event_id", cli_json_u64(b.event_id), "customer_id",
                      cli_json_u64(b.customer_id), "hold_id", cli_json_u64(b.hold_id), "state",
                      cancelled ? "cancelled" : "confirmed", "ga", b.ga, "section",
                      (json_int_t)b.section, "seat_count", (json_int_t)b.seat_count, "booked_at",
                      booked, "cancelled_at", cancelled_at, "payment_ref", b.payment_ref, "seats",
                      seats_json(spec, b.seats, b.ga ? 0 : b.seat_count));
        rc = cli_json_write(cli->out, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    } else {
        (void)fprintf(cli->out,
                      "booking %" PRIu64 " of event %" PRIu64 ", customer %" PRIu64
                      ", hold %" PRIu64 ": %s\n",
                      b.id, b.event_id, b.customer_id, b.hold_id,
                      cancelled ? "cancelled" : "confirmed");
        if (b.ga) {
            (void)fprintf(cli->out, "  %u places of section %u\n", b.seat_count, b.section);
        } else {
            (void)fprintf(cli->out, "  seats ");
            seats_text(cli->out, spec, b.seats, b.seat_count);
            (void)fprintf(cli->out, "\n");
        }
        (void)fprintf(cli->out, "  booked %s, cancelled %s, payment \"%s\"\n", booked, cancelled_at,
                      b.payment_ref);
    }
    usher_event_spec_destroy(spec);
    return rc;
}

int cli_cmd_customer(struct cli *cli)
{
    uint64_t event_id = 0;
    uint64_t customer_id = 0;
    if (cli_event_id_arg(cli, cli->args->pos[1], &event_id) != 0 ||
        id_arg(cli, "customer", cli->args->pos[2], &customer_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_customer_items *items = malloc(sizeof(*items));
    int rc = items == NULL
                 ? USHER_NOMEM
                 : usher_customer_list_sync(cli->client, &cli->opts, event_id, customer_id, items);
    if (rc != 0) {
        free(items);
        return cli_fail(cli, "customer", rc);
    }
    json_t *list = json_array();
    for (uint32_t i = 0; i < items->count; i++) {
        const struct usher_customer_item *it = &items->items[i];
        char expires[40] = "";
        if (!it->is_booking) {
            cli_time_format(it->expires_at_ms, expires, sizeof(expires));
        }
        if (cli->args->json) {
            (void)json_array_append_new(
                list, json_pack("{s:s, s:o, s:I, s:s}", "kind", it->is_booking ? "booking" : "hold",
                                "id", cli_json_u64(it->id), "seat_count",
                                (json_int_t)it->seat_count, "expires_at", expires));
        } else {
            (void)fprintf(cli->out, "%-7s %" PRIu64 "  %u seats%s%s\n",
                          it->is_booking ? "booking" : "hold", it->id, it->seat_count,
                          it->is_booking ? "" : ", expires ", expires);
        }
    }
    if (!cli->args->json && items->more) {
        (void)fprintf(cli->out, "(more not shown)\n");
    }
    rc = CLI_EXIT_OK;
    if (cli->args->json) {
        rc = cli_json_write(cli->out,
                            json_pack("{s:o, s:b}", "items", list, "more", items->more)) == 0
                 ? CLI_EXIT_OK
                 : CLI_EXIT_ERROR;
    } else {
        json_decref(list);
    }
    free(items);
    return rc;
}

static const char *history_kind_name(uint8_t kind)
{
    switch (kind) {
    case USHER_HISTORY_HOLD:
        return "hold";
    case USHER_HISTORY_RELEASE:
        return "release";
    case USHER_HISTORY_EXPIRE:
        return "expire";
    case USHER_HISTORY_BOOK:
        return "book";
    case USHER_HISTORY_CANCEL:
        return "cancel";
    default:
        return "unknown";
    }
}

static int history_write(struct cli *cli, const struct usher_seat_history *h, const char *seat)
{
    json_t *list = json_array();
    if (!cli->args->json) {
        (void)fprintf(cli->out, "seat %s, newest first:\n", seat);
    }
    for (uint32_t i = 0; i < h->count; i++) {
        const struct usher_history_entry *e = &h->entries[i];
        char at[40];
        cli_time_format(e->at_ms, at, sizeof(at));
        if (cli->args->json) {
            (void)json_array_append_new(list, json_pack("{s:s, s:s, s:o, s:o}", "kind",
                                                        history_kind_name(e->kind), "at", at, "id",
                                                        cli_json_u64(e->id), "customer_id",
                                                        cli_json_u64(e->customer_id)));
        } else {
            (void)fprintf(cli->out, "  %s  %-7s  id %" PRIu64 "  customer %" PRIu64 "\n", at,
                          history_kind_name(e->kind), e->id, e->customer_id);
        }
    }
    if (cli->args->json) {
        return cli_json_write(cli->out, json_pack("{s:s, s:o, s:b}", "seat", seat, "entries", list,
                                                  "more", h->more)) == 0
                   ? CLI_EXIT_OK
                   : CLI_EXIT_ERROR;
    }
    json_decref(list);
    if (h->more) {
        (void)fprintf(cli->out, "  (older entries not shown)\n");
    }
    return CLI_EXIT_OK;
}

int cli_cmd_history(struct cli *cli)
{
    uint64_t event_id = 0;
    if (cli_event_id_arg(cli, cli->args->pos[1], &event_id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_event_spec *spec = NULL;
    int rc = usher_event_get_sync(cli->client, &cli->opts, event_id, &spec);
    if (rc != 0) {
        return cli_fail(cli, "history", rc);
    }
    uint32_t seat = 0;
    if (cli_seat_arg(cli, spec, cli->args->pos[2], &seat) != 0) {
        usher_event_spec_destroy(spec);
        return CLI_EXIT_USAGE;
    }
    char label[40] = "";
    (void)usher_event_spec_seat_label(spec, seat, label, sizeof(label));
    usher_event_spec_destroy(spec);
    struct usher_seat_history *h = malloc(sizeof(*h));
    rc = h == NULL ? USHER_NOMEM
                   : usher_seat_history_sync(cli->client, &cli->opts, event_id, seat, h);
    rc = rc != 0 ? cli_fail(cli, "history", rc) : history_write(cli, h, label);
    free(h);
    return rc;
}
