/*
 * `usher` commands about nodes and events: status, ping, event create,
 * event list, event show, availability (the seat map).
 *
 * Held or booked: the availability bitmap marks only free seats, while the
 * section counts split the others into held and booked. A section with
 * only held (or only booked) seats is drawn from the counts; in a section
 * with both, the tool reads the history of each taken seat (its newest
 * entry says hold or booking), up to SEAT_LOOKUPS_MAX seats per map, and
 * draws the rest as 'x'.
 */
#include "cli.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Seat-history reads one seat map may make to tell held from booked. */
#define SEAT_LOOKUPS_MAX 2000u

/* Event ids listed when --max is not given. */
#define EVENT_LIST_DEFAULT 100u

static const char *role_name(uint8_t role)
{
    switch (role) {
    case USHER_ROLE_FOLLOWER:
        return "follower";
    case USHER_ROLE_CANDIDATE:
        return "candidate";
    case USHER_ROLE_LEADER:
        return "leader";
    default:
        return "unavailable";
    }
}

static json_t *status_json(const struct usher_node_status *s)
{
    json_t *shards = json_array();
    for (uint32_t i = 0; shards != NULL && i < s->listed; i++) {
        const struct usher_shard_status *sh = &s->shards[i];
        (void)json_array_append_new(
            shards, json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:I}", "shard", (json_int_t)sh->shard,
                              "role", role_name(sh->role), "term", cli_json_u64(sh->term),
                              "commit_index", cli_json_u64(sh->commit_index), "applied_index",
                              cli_json_u64(sh->applied_index), "leader_id",
                              cli_json_u64(sh->leader_id), "events", (json_int_t)sh->events));
    }
    return json_pack("{s:s, s:o, s:o, s:s, s:I, s:o}", "node", s->node, "node_id",
                     cli_json_u64(s->node_id), "cluster_id", cli_json_u64(s->cluster_id), "version",
                     s->version, "shard_count", (json_int_t)s->shard_count, "shards", shards);
}

static void status_text(FILE *f, const struct usher_node_status *s)
{
    (void)fprintf(f, "node %s  id %" PRIu64 "  cluster %016" PRIx64 "  version %s  shards %u\n",
                  s->node, s->node_id, s->cluster_id, s->version, s->shard_count);
    (void)fprintf(f, "  %5s  %-11s  %6s  %10s  %10s  %6s  %6s\n", "shard", "role", "term", "commit",
                  "applied", "leader", "events");
    for (uint32_t i = 0; i < s->listed; i++) {
        const struct usher_shard_status *sh = &s->shards[i];
        (void)fprintf(
            f, "  %5u  %-11s  %6" PRIu64 "  %10" PRIu64 "  %10" PRIu64 "  %6" PRIu64 "  %6u\n",
            sh->shard, role_name(sh->role), sh->term, sh->commit_index, sh->applied_index,
            sh->leader_id, sh->events);
    }
}

/* A node that did not answer: an entry of the JSON array, or a line on
 * stderr. Returns the exit code of its status. */
static int node_failed(struct cli *cli, json_t *all, const char *what, const char *node, int rc)
{
    if (!cli->args->json) {
        char ctx[96];
        (void)snprintf(ctx, sizeof(ctx), "%s %s", what, node);
        return cli_fail(cli, ctx, rc);
    }
    (void)json_array_append_new(all, json_pack("{s:s, s:s, s:i, s:s}", "node", node, "error",
                                               usher_errname(rc), "code", rc, "message",
                                               usher_strerror(rc)));
    return cli_exit_code(rc);
}

/* Asks every node; JSON: one array with an entry per node, errors included. */
int cli_cmd_status(struct cli *cli)
{
    struct usher_node_status *s = malloc(sizeof(*s));
    json_t *all = json_array();
    if (s == NULL || all == NULL) {
        free(s);
        json_decref(all);
        return cli_fail(cli, "status", USHER_NOMEM);
    }
    int worst = CLI_EXIT_OK;
    for (uint32_t i = 0; i < cli->args->node_count; i++) {
        struct usher_call_opts opts = cli->opts;
        opts.node = cli->args->nodes[i];
        int rc = usher_node_status_sync(cli->client, &opts, s);
        if (rc != 0) {
            int code = node_failed(cli, all, "status of", opts.node, rc);
            worst = code > worst ? code : worst;
        } else if (cli->args->json) {
            (void)json_array_append_new(all, status_json(s));
        } else {
            status_text(cli->out, s);
        }
    }
    free(s);
    if (cli->args->json) {
        return cli_json_write(cli->out, all) == 0 ? worst : CLI_EXIT_ERROR;
    }
    json_decref(all);
    return worst;
}

int cli_cmd_ping(struct cli *cli)
{
    json_t *all = json_array();
    int worst = CLI_EXIT_OK;
    for (uint32_t i = 0; i < cli->args->node_count; i++) {
        struct usher_call_opts opts = cli->opts;
        opts.node = cli->args->nodes[i];
        int rc = usher_ping_sync(cli->client, &opts);
        if (rc != 0) {
            int code = node_failed(cli, all, "ping", opts.node, rc);
            worst = code > worst ? code : worst;
        } else if (cli->args->json) {
            (void)json_array_append_new(all, json_pack("{s:s, s:b}", "node", opts.node, "ok", 1));
        } else {
            (void)fprintf(cli->out, "%s ok\n", opts.node);
        }
    }
    if (cli->args->json) {
        return cli_json_write(cli->out, all) == 0 ? worst : CLI_EXIT_ERROR;
    }
    json_decref(all);
    return worst;
}

/* Which shard holds the event and which node leads it, from the first node
 * whose status names a leader of that shard. */
int cli_cmd_where(struct cli *cli)
{
    uint64_t id = 0;
    if (cli_event_id_arg(cli, cli->args->pos[1], &id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_node_status *s = malloc(sizeof(*s));
    if (s == NULL) {
        return cli_fail(cli, "where", USHER_NOMEM);
    }
    int rc = USHER_UNAVAILABLE;
    uint32_t shard = 0;
    const struct usher_shard_status *line = NULL;
    for (uint32_t i = 0; i < cli->args->node_count && (line == NULL || line->leader_id == 0); i++) {
        struct usher_call_opts opts = cli->opts;
        opts.node = cli->args->nodes[i];
        rc = usher_node_status_sync(cli->client, &opts, s);
        if (rc != 0) {
            continue;
        }
        shard = usher_event_shard(id, s->shard_count);
        line = shard < s->listed ? &s->shards[shard] : NULL;
    }
    if (line == NULL) {
        free(s);
        return cli_fail(cli, "where", rc != 0 ? rc : USHER_UNAVAILABLE);
    }
    if (cli->args->json) {
        json_t *j = json_pack("{s:I, s:i, s:i, s:I, s:I}", "event", (json_int_t)id, "shard",
                              (int)shard, "shards", (int)s->shard_count, "leader_id",
                              (json_int_t)line->leader_id, "term", (json_int_t)line->term);
        free(s);
        return cli_json_write(cli->out, j) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    }
    (void)fprintf(cli->out,
                  "event %" PRIu64 ": shard %u of %u, leader node %" PRIu64 " (term %" PRIu64 ")\n",
                  id, shard, s->shard_count, line->leader_id, line->term);
    free(s);
    return CLI_EXIT_OK;
}

static uint64_t random_event_id(void)
{
    uint64_t id = 0;
    /* A random id below 2^53 stays exact in every JSON reader. */
    while (id == 0) {
        if (getrandom(&id, sizeof(id), 0) != (ssize_t)sizeof(id)) {
            return 0;
        }
        id &= (1ull << 53) - 1u;
    }
    return id;
}

int cli_cmd_event_create(struct cli *cli)
{
    const char *path = cli->args->pos[2];
    struct usher_event_spec *spec = NULL;
    char err[CLI_ERR_MAX];
    int rc = cli_venue_load(path, cli->args->event_id, random_event_id(), &spec, err, sizeof(err));
    if (rc != 0) {
        return cli_usage_error(cli, "%s", err);
    }
    struct usher_event_info info;
    usher_event_spec_info(spec, &info);
    struct usher_cmd_result r;
    rc = usher_event_create_sync(cli->client, &cli->opts, spec, &r);
    usher_event_spec_destroy(spec);
    if (rc != 0) {
        char what[128];
        char key[64];
        cli_key_format(cli, r.idem_key, key, sizeof(key));
        (void)snprintf(what, sizeof(what), "event create (%s)", key);
        return cli_fail(cli, what, rc);
    }
    if (cli->args->json) {
        (void)cli_json_write(cli->out, json_pack("{s:o, s:s, s:I, s:I, s:I, s:o, s:o}", "event_id",
                                                 cli_json_u64(r.id), "name", info.name, "sections",
                                                 (json_int_t)info.section_count, "rows",
                                                 (json_int_t)info.row_count, "seats",
                                                 (json_int_t)info.seat_count, "client_id",
                                                 cli_json_u64(usher_client_id(cli->client)),
                                                 "idem_key", cli_json_u64(r.idem_key)));
    } else {
        (void)fprintf(cli->out, "event %" PRIu64 " created: %u sections, %u rows, %u seats\n", r.id,
                      info.section_count, info.row_count, info.seat_count);
    }
    return CLI_EXIT_OK;
}

int cli_cmd_event_list(struct cli *cli)
{
    uint32_t max = cli->args->max != 0 ? cli->args->max : EVENT_LIST_DEFAULT;
    uint64_t *ids = calloc(max, sizeof(*ids));
    if (ids == NULL) {
        return cli_fail(cli, "event list", USHER_NOMEM);
    }
    uint32_t n = 0;
    int rc = usher_event_list_sync(cli->client, &cli->opts, cli->args->after, max, ids, max, &n);
    if (rc != 0) {
        free(ids);
        return cli_fail(cli, "event list", rc);
    }
    json_t *all = json_array();
    for (uint32_t i = 0; i < n; i++) {
        struct usher_event_spec *spec = NULL;
        struct usher_event_info info;
        memset(&info, 0, sizeof(info));
        if (usher_event_get_sync(cli->client, &cli->opts, ids[i], &spec) == 0) {
            usher_event_spec_info(spec, &info);
            usher_event_spec_destroy(spec);
        }
        if (cli->args->json) {
            (void)json_array_append_new(all, json_pack("{s:o, s:s, s:I}", "event_id",
                                                       cli_json_u64(ids[i]), "name", info.name,
                                                       "seats", (json_int_t)info.seat_count));
        } else {
            (void)fprintf(cli->out, "%" PRIu64 "  %-40s  %u seats\n", ids[i], info.name,
                          info.seat_count);
        }
    }
    free(ids);
    if (cli->args->json) {
        return cli_json_write(cli->out, all) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    }
    json_decref(all);
    return CLI_EXIT_OK;
}

static json_t *section_json(const struct usher_event_spec *spec, uint32_t i)
{
    struct usher_section_info sec;
    if (usher_event_spec_section(spec, i, &sec) != 0) {
        return NULL;
    }
    if (sec.kind == USHER_SECTION_GA) {
        return json_pack("{s:s, s:s, s:I}", "label", sec.label, "kind", "ga", "capacity",
                         (json_int_t)sec.ga_capacity);
    }
    json_t *rows = json_array();
    for (uint32_t r = 0; rows != NULL && r < sec.row_count; r++) {
        struct usher_row_info row;
        if (usher_event_spec_row(spec, sec.row_first + r, &row) == 0) {
            (void)json_array_append_new(rows,
                                        json_pack("{s:s, s:I, s:I, s:I}", "label", row.label,
                                                  "seats", (json_int_t)row.seat_count,
                                                  "first_number", (json_int_t)row.number_first,
                                                  "first_seat_index", (json_int_t)row.seat_first));
        }
    }
    return json_pack("{s:s, s:s, s:I, s:I, s:o}", "label", sec.label, "kind", "seated", "seats",
                     (json_int_t)sec.seat_count, "first_seat_index", (json_int_t)sec.seat_first,
                     "rows", rows);
}

static json_t *event_json(const struct usher_event_spec *spec)
{
    struct usher_event_info info;
    usher_event_spec_info(spec, &info);
    json_t *sections = json_array();
    for (uint32_t i = 0; sections != NULL && i < info.section_count; i++) {
        (void)json_array_append_new(sections, section_json(spec, i));
    }
    return json_pack(
        "{s:o, s:s, s:o, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:o}", "event_id",
        cli_json_u64(info.id), "name", info.name, "sale_start_ms", cli_json_u64(info.sale_start_ms),
        "sale_end_ms", cli_json_u64(info.sale_end_ms), "hold_ttl_min_ms",
        (json_int_t)info.hold_ttl_min_ms, "hold_ttl_max_ms", (json_int_t)info.hold_ttl_max_ms,
        "hold_lifetime_max_ms", (json_int_t)info.hold_lifetime_max_ms, "hold_seats_max",
        (json_int_t)info.hold_seats_max, "customer_seats_max", (json_int_t)info.customer_seats_max,
        "seats", (json_int_t)info.seat_count, "sections", sections);
}

static void event_text(FILE *f, const struct usher_event_spec *spec)
{
    struct usher_event_info info;
    usher_event_spec_info(spec, &info);
    char start[40];
    char end[40];
    cli_time_format(info.sale_start_ms, start, sizeof(start));
    cli_time_format(info.sale_end_ms, end, sizeof(end));
    (void)fprintf(f, "event %" PRIu64 " \"%s\"\n", info.id, info.name);
    (void)fprintf(f, "  on sale     %s .. %s\n", start, end);
    (void)fprintf(f,
                  "  holds       ttl %u..%u ms, lifetime %u ms, %u seats per hold, %u per "
                  "customer\n",
                  info.hold_ttl_min_ms, info.hold_ttl_max_ms, info.hold_lifetime_max_ms,
                  info.hold_seats_max, info.customer_seats_max);
    (void)fprintf(f, "  %u sections, %u rows, %u seats\n", info.section_count, info.row_count,
                  info.seat_count);
    for (uint32_t i = 0; i < info.section_count; i++) {
        struct usher_section_info sec;
        if (usher_event_spec_section(spec, i, &sec) != 0) {
            continue;
        }
        if (sec.kind == USHER_SECTION_GA) {
            (void)fprintf(f, "  [%u] %-15s GA      %u places\n", i, sec.label, sec.ga_capacity);
            continue;
        }
        char first[40] = "";
        char last[40] = "";
        (void)usher_event_spec_seat_label(spec, sec.seat_first, first, sizeof(first));
        (void)usher_event_spec_seat_label(spec, sec.seat_first + sec.seat_count - 1u, last,
                                          sizeof(last));
        (void)fprintf(f, "  [%u] %-15s seated  %u rows, %u seats (%s .. %s), seat index %u..%u\n",
                      i, sec.label, sec.row_count, sec.seat_count, first, last, sec.seat_first,
                      sec.seat_first + sec.seat_count - 1u);
    }
}

int cli_cmd_event_show(struct cli *cli)
{
    uint64_t id = 0;
    if (cli_event_id_arg(cli, cli->args->pos[2], &id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_event_spec *spec = NULL;
    int rc = usher_event_get_sync(cli->client, &cli->opts, id, &spec);
    if (rc != 0) {
        return cli_fail(cli, "event show", rc);
    }
    if (cli->args->json) {
        rc = cli_json_write(cli->out, event_json(spec)) == 0 ? CLI_EXIT_OK : CLI_EXIT_ERROR;
    } else {
        event_text(cli->out, spec);
    }
    usher_event_spec_destroy(spec);
    return rc;
}

/* Asks a taken seat's history whether it is held or booked. */
static char seat_lookup(struct cli *cli, uint64_t event_id, uint32_t seat,
                        struct usher_seat_history *h)
{
    if (usher_seat_history_sync(cli->client, &cli->opts, event_id, seat, h) != 0 || h->count == 0) {
        return CLI_SEAT_TAKEN;
    }
    switch (h->entries[0].kind) {
    case USHER_HISTORY_HOLD:
        return CLI_SEAT_HELD;
    case USHER_HISTORY_BOOK:
        return CLI_SEAT_BOOKED;
    default:
        return CLI_SEAT_TAKEN;
    }
}

/* Fills one character per seat (see the top of this file). */
static void states_fill(struct cli *cli, const struct usher_event_spec *spec,
                        const struct usher_availability *a, char *states)
{
    struct usher_seat_history *h = malloc(sizeof(*h));
    uint32_t lookups = 0;
    for (uint32_t i = 0; i < a->section_count; i++) {
        struct usher_section_info sec;
        if (usher_event_spec_section(spec, i, &sec) != 0 || sec.kind != USHER_SECTION_SEATED) {
            continue;
        }
        const struct usher_section_avail *sa = &a->sections[i];
        for (uint32_t k = sec.seat_first; k < sec.seat_first + sec.seat_count; k++) {
            if (k >= a->seat_count || usher_seat_is_free(a, k)) {
                states[k] = CLI_SEAT_FREE;
            } else if (sa->booked == 0 || sa->held == 0) {
                states[k] = sa->booked == 0 ? CLI_SEAT_HELD : CLI_SEAT_BOOKED;
            } else if (h != NULL && lookups < SEAT_LOOKUPS_MAX) {
                lookups++;
                states[k] = seat_lookup(cli, a->event_id, k, h);
            } else {
                states[k] = CLI_SEAT_TAKEN;
            }
        }
    }
    free(h);
}

int cli_cmd_availability(struct cli *cli)
{
    uint64_t id = 0;
    if (cli_event_id_arg(cli, cli->args->pos[1], &id) != 0) {
        return CLI_EXIT_USAGE;
    }
    struct usher_event_spec *spec = NULL;
    int rc = usher_event_get_sync(cli->client, &cli->opts, id, &spec);
    if (rc != 0) {
        return cli_fail(cli, "availability", rc);
    }
    uint32_t only = UINT32_MAX;
    if (cli->args->section != NULL &&
        usher_event_spec_section_find(spec, cli->args->section, &only) != 0) {
        usher_event_spec_destroy(spec);
        return cli_usage_error(cli, "event %" PRIu64 " has no section '%s'", id,
                               cli->args->section);
    }
    struct usher_availability *a = malloc(sizeof(*a));
    char *states = malloc(USHER_EVENT_SEATS_LIMIT + 1u);
    rc = a == NULL || states == NULL ? USHER_NOMEM
                                     : usher_availability_sync(cli->client, &cli->opts, id, a);
    if (rc == 0) {
        states_fill(cli, spec, a, states);
        if (cli->args->json) {
            rc = cli_json_write(cli->out, cli_seat_map_json(spec, a, states, only)) == 0
                     ? CLI_EXIT_OK
                     : CLI_EXIT_ERROR;
        } else {
            char now[40];
            cli_time_format(a->now_ms, now, sizeof(now));
            (void)fprintf(cli->out, "event %" PRIu64 " at log index %" PRIu64 ", %s\n", id,
                          a->applied_index, now);
            (void)fprintf(cli->out, "legend: . free  h held  B booked  x held or booked\n");
            cli_seat_map_write(cli->out, spec, a, states, 100u, only);
        }
    } else {
        rc = cli_fail(cli, "availability", rc);
    }
    free(a);
    free(states);
    usher_event_spec_destroy(spec);
    return rc;
}
