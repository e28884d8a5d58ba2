/*
 * Unit tests of the `usher` tool's parts that need no server: argument
 * parsing (client/cli_args.c), venue files (client/cli_venue.c) and the
 * seat map (client/cli_print.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cli.h"

/* Parses a NULL-terminated word list as argv (argv[0] is the program). */
static int parse(struct cli_args *a, const char *const *words)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t) "usher";
    for (size_t i = 0; words[i] != NULL; i++) {
        argv[argc++] = (char *)(uintptr_t)words[i];
    }
    argv[argc] = NULL;
    return cli_args_parse(argc, argv, a);
}

/* Goal: options may come anywhere, in both spellings, repeat where they may,
 * and a --seat list splits at commas. */
static void test_args_take_options_anywhere(void **state)
{
    (void)state;
    struct cli_args *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    const char *words[] = { "--node",       "127.0.0.1:1", "hold",    "42",
                            "--customer=7", "--seat",      "A-1,A-2", "--node=127.0.0.1:2",
                            "--seat",       "#5",          "--ttl",   "10m",
                            "--json",       "--key",       "0x10",    NULL };
    assert_int_equal(parse(a, words), 0);
    assert_int_equal(a->pos_count, 2);
    assert_string_equal(a->pos[0], "hold");
    assert_string_equal(a->pos[1], "42");
    assert_int_equal(a->node_count, 2);
    assert_string_equal(a->nodes[1], "127.0.0.1:2");
    assert_int_equal(a->customer_id, 7);
    assert_int_equal(a->seat_count, 3);
    assert_string_equal(a->seats[0], "A-1");
    assert_string_equal(a->seats[1], "A-2");
    assert_string_equal(a->seats[2], "#5");
    assert_int_equal(a->ttl_ms, 600000);
    assert_true(a->json);
    assert_int_equal(a->idem_key, 16);
    assert_int_equal(a->seen, CLI_OPT_NODE | CLI_OPT_CUSTOMER | CLI_OPT_SEAT | CLI_OPT_TTL |
                                  CLI_OPT_JSON | CLI_OPT_KEY);
    const char *dashdash[] = { "history", "--", "--json", NULL };
    assert_int_equal(parse(a, dashdash), 0);
    assert_int_equal(a->pos_count, 2);
    assert_string_equal(a->pos[1], "--json");
    assert_false(a->json);
    free(a);
}

/* Goal: every malformed command line is a usage error with a message that
 * names the problem. */
static void test_args_refuse_bad_command_lines(void **state)
{
    (void)state;
    struct cli_args *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    const char *cases[][4] = {
        { "--ttl", "10x", NULL },
        { "--customer", "0", NULL },
        { "--best", "65", NULL },
        { "--bogus", NULL },
        { "--ttl", NULL },
        { "--json=1", NULL },
        { "-x", NULL },
        { "--ttl", "1", "--ttl", "2" },
        { "--seat", "A-1,,A-2", NULL },
        { "--max", "0", NULL },
        { "--customer", "-3", NULL },
        { "--timeout", "", NULL },
    };
    const char *expect[] = { "--ttl",         "--customer",     "--best",         "unknown option",
                             "needs a value", "takes no value", "unknown option", "given twice",
                             "empty seat",    "--max",          "--customer",     "--timeout" };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *words[6] = { NULL };
        for (size_t j = 0; j < 4 && cases[i][j] != NULL; j++) {
            words[j] = cases[i][j];
        }
        assert_int_equal(parse(a, words), CLI_EXIT_USAGE);
        if (strstr(a->err, expect[i]) == NULL) {
            fail_msg("case %zu: message '%s' lacks '%s'", i, a->err, expect[i]);
        }
    }
    const char *many[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", NULL };
    assert_int_equal(parse(a, many), CLI_EXIT_USAGE);
    free(a);
}

/* Goal: at most 64 seats in one hold, counted across --seat lists. */
static void test_args_bound_seats_per_hold(void **state)
{
    (void)state;
    struct cli_args *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    char list[512] = "";
    size_t used = 0;
    for (int i = 0; i < 64; i++) {
        int n = snprintf(list + used, sizeof(list) - used, "%sA-%d", i > 0 ? "," : "", i);
        assert_true(n > 0 && (size_t)n < sizeof(list) - used);
        used += (size_t)n;
    }
    const char *ok[] = { "--seat", list, NULL };
    assert_int_equal(parse(a, ok), 0);
    assert_int_equal(a->seat_count, 64);
    const char *over[] = { "--seat", list, "--seat", "B-1", NULL };
    assert_int_equal(parse(a, over), CLI_EXIT_USAGE);
    assert_non_null(strstr(a->err, "at most 64"));
    free(a);
}

/* Goal: nodes come from --node, else USHER_NODES (commas, empty parts
 * skipped), else the default address. */
static void test_args_nodes_default_from_env(void **state)
{
    (void)state;
    struct cli_args *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    char buf[128];
    const char *none[] = { "status", NULL };
    assert_int_equal(parse(a, none), 0);
    assert_int_equal(cli_args_nodes_default(a, NULL, buf, sizeof(buf)), 0);
    assert_int_equal(a->node_count, 1);
    assert_string_equal(a->nodes[0], CLI_NODE_DEFAULT);
    assert_int_equal(parse(a, none), 0);
    assert_int_equal(cli_args_nodes_default(a, "1.1.1.1:1,,2.2.2.2:2,", buf, sizeof(buf)), 0);
    assert_int_equal(a->node_count, 2);
    assert_string_equal(a->nodes[1], "2.2.2.2:2");
    assert_int_equal(parse(a, none), 0);
    assert_int_equal(cli_args_nodes_default(a, ",,", buf, sizeof(buf)), CLI_EXIT_USAGE);
    const char *given[] = { "--node", "3.3.3.3:3", "status", NULL };
    assert_int_equal(parse(a, given), 0);
    assert_int_equal(cli_args_nodes_default(a, "1.1.1.1:1", buf, sizeof(buf)), 0);
    assert_int_equal(a->node_count, 1);
    assert_string_equal(a->nodes[0], "3.3.3.3:3");
    free(a);
}

/* Goal: durations and ids parse exactly, with their bounds. */
static void test_args_numbers_and_durations(void **state)
{
    (void)state;
    uint32_t ms = 0;
    assert_int_equal(cli_duration_parse("600s", &ms), 0);
    assert_int_equal(ms, 600000);
    assert_int_equal(cli_duration_parse("10m", &ms), 0);
    assert_int_equal(ms, 600000);
    assert_int_equal(cli_duration_parse("250ms", &ms), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(cli_duration_parse("4294967295", &ms), 0);
    assert_int_equal(cli_duration_parse("4294967296", &ms), -1);
    assert_int_equal(cli_duration_parse("4294968s", &ms), -1);
    assert_int_equal(cli_duration_parse("-1", &ms), -1);
    assert_int_equal(cli_duration_parse("5h", &ms), -1);
    uint64_t v = 0;
    assert_int_equal(cli_u64_parse("18446744073709551615", &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(cli_u64_parse("18446744073709551616", &v), -1);
    assert_int_equal(cli_u64_parse("0x2a", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(cli_u64_parse(" 1", &v), -1);
    assert_int_equal(cli_u64_parse("1 ", &v), -1);
    assert_int_equal(cli_u64_parse("", &v), -1);
}

/* Goal: row labels number on as people expect, and refuse what they cannot
 * number or what would pass 15 bytes. */
static void test_venue_row_labels_count_on(void **state)
{
    (void)state;
    const char *cases[][2] = { { "A", "B" },      { "Z", "AA" },       { "AZ", "BA" },
                               { "ZZ", "AAA" },   { "a", "b" },        { "z", "aa" },
                               { "R9", "R10" },   { "09", "10" },      { "007", "008" },
                               { "R-9", "R-10" }, { "Row 1", "Row 2" } };
    char out[16];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(cli_venue_label_next(cases[i][0], out, sizeof(out)), 0);
        assert_string_equal(out, cases[i][1]);
    }
    const char *bad[] = { "A1B", "Ab", "ZZZZZZZZZZZZZZZ", "999999999999999", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(cli_venue_label_next(bad[i], out, sizeof(out)), -1);
    }
}

static const char venue_ok[] =
    "{ \"id\": 1001, \"name\": \"Royal Hall\", \"comment\": \"test\",\n"
    "  \"sale_start\": \"2025-06-01T10:00:00Z\", \"sale_end\": 1900000000000,\n"
    "  \"hold_ttl_max_ms\": 300000, \"hold_seats_max\": 8,\n"
    "  \"sections\": [\n"
    "    { \"label\": \"Stalls\", \"rows\": [ { \"label\": \"A\", \"seats\": 20, \"count\": 3 },\n"
    "                                     { \"label\": \"R1\", \"seats\": 5,\n"
    "                                       \"first_number\": 101 } ] },\n"
    "    { \"label\": \"Floor\", \"capacity\": 500 },\n"
    "    { \"label\": \"Box\", \"kind\": \"seated\", \"rows\": [ { \"label\": \"A\", \"seats\": 4 "
    "} ] }\n"
    "  ] }\n";

/* Goal: a venue file becomes the event it describes: ids, times, row
 * counts expanded, kinds inferred, numbers as given. */
static void test_venue_parses_a_whole_file(void **state)
{
    (void)state;
    struct usher_event_spec *s = NULL;
    char err[CLI_ERR_MAX] = "";
    int rc = cli_venue_parse(venue_ok, sizeof(venue_ok) - 1, 0, 99, &s, err, sizeof(err));
    if (rc != 0) {
        fail_msg("%s", err);
    }
    struct usher_event_info info;
    usher_event_spec_info(s, &info);
    assert_int_equal(info.id, 1001);
    assert_string_equal(info.name, "Royal Hall");
    assert_true(info.sale_start_ms == 1748772000000ull);
    assert_true(info.sale_end_ms == 1900000000000ull);
    assert_int_equal(info.hold_ttl_max_ms, 300000);
    assert_int_equal(info.hold_seats_max, 8);
    assert_int_equal(info.section_count, 3);
    assert_int_equal(info.row_count, 5);
    assert_int_equal(info.seat_count, 20 * 3 + 5 + 4);
    char label[32];
    assert_int_equal(usher_event_spec_seat_label(s, 59, label, sizeof(label)), 0);
    assert_string_equal(label, "C-20");
    assert_int_equal(usher_event_spec_seat_label(s, 60, label, sizeof(label)), 0);
    assert_string_equal(label, "R1-101");
    struct usher_section_info sec;
    assert_int_equal(usher_event_spec_section(s, 1, &sec), 0);
    assert_int_equal(sec.kind, USHER_SECTION_GA);
    assert_int_equal(sec.ga_capacity, 500);
    usher_event_spec_destroy(s);
    /* --id wins over the file's id. */
    assert_int_equal(cli_venue_parse(venue_ok, sizeof(venue_ok) - 1, 5, 99, &s, err, sizeof(err)),
                     0);
    usher_event_spec_info(s, &info);
    assert_int_equal(info.id, 5);
    usher_event_spec_destroy(s);
}

/* Parses text and checks that it fails with a message containing want. */
static void venue_fails(const char *text, const char *want)
{
    struct usher_event_spec *s = NULL;
    char err[CLI_ERR_MAX] = "";
    int rc = cli_venue_parse(text, strlen(text), 0, 99, &s, err, sizeof(err));
    if (rc != CLI_EXIT_USAGE || strstr(err, want) == NULL) {
        fail_msg("venue %s: rc %d, message '%s', want '%s'", text, rc, err, want);
    }
    assert_null(s);
}

#define ROWS_A "\"rows\": [ { \"label\": \"A\", \"seats\": 2 } ]"

/* Goal: each kind of mistake in a venue file is refused with a message that
 * names the field at fault. */
static void test_venue_refuses_mistakes_by_name(void **state)
{
    (void)state;
    venue_fails("{ \"sections\": [ ", "line 1");
    venue_fails("[]", "JSON object");
    venue_fails("{ \"sections\": [] }", "sections: want a non-empty array");
    venue_fails("{ \"sectoins\": [] }", "unknown key \"sectoins\"");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"rows\": [ { \"label\": \"A\" } ] } ] }",
                "sections[0].rows[0]: missing \"seats\"");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"rows\": [ { \"label\": \"A\", "
                "\"seats\": 0 } ] } ] }",
                "sections[0].rows[0].seats: want an integer 1..1024, got 0");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", " ROWS_A " }, { \"label\": \"S\", "
                "\"capacity\": 5 } ] }",
                "sections[1]: section label \"S\" is used twice");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"rows\": [ { \"label\": \"A\", "
                "\"seats\": 2, \"count\": 2 }, { \"label\": \"B\", \"seats\": 2 } ] } ] }",
                "sections[0].rows[1]: row label \"B\" is used twice");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"kind\": \"box\", " ROWS_A " } ] }",
                "sections[0].kind");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"kind\": \"ga\", \"capacity\": 3, " ROWS_A
                " } ] }",
                "a ga section has no \"rows\"");
    venue_fails("{ \"sections\": [ { \"label\": \"S\" } ] }", "give \"rows\"");
    venue_fails("{ \"hold_ttl_min_ms\": 700000, \"sections\": [ { \"label\": \"S\", " ROWS_A
                " } ] }",
                "hold_ttl_min_ms (700000) <= hold_ttl_max_ms (600000)");
    venue_fails("{ \"hold_ttl_max_ms\": 999, \"sections\": [] }", "event.hold_ttl_max_ms");
    venue_fails(
        "{ \"sale_start\": 20, \"sale_end\": 10, \"sections\": [ { \"label\": \"S\", " ROWS_A
        " } ] }",
        "sale_end: must be after sale_start");
    venue_fails("{ \"sale_start\": \"tomorrow\", \"sections\": [] }", "sale_start: want");
    venue_fails("{ \"name\": \"0123456789012345678901234567890123456789012345678901234567890123\","
                " \"sections\": [] }",
                "event.name");
    venue_fails("{ \"sections\": [ { \"label\": \"0123456789abcdef\", " ROWS_A " } ] }",
                "sections[0].label: want a string of 1..15 bytes");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"rows\": [ { \"label\": \"A1B\", "
                "\"seats\": 2, \"count\": 2 } ] } ] }",
                "cannot number 2 rows from \"A1B\"");
    venue_fails("{ \"sections\": [ { \"label\": \"S\", \"rows\": [ { \"label\": \"A\", "
                "\"seats\": 1000, \"count\": 300 } ] } ] }",
                "more than 262144 seats");
    venue_fails("{ \"id\": 0, \"sections\": [] }", "event.id");
    venue_fails("{ \"id\": 1, \"id\": 2, \"sections\": [] }", "duplicate");
}

/* Goal: the seat map prints one line per row and one character per seat,
 * with the section counts and seat numbers. */
static void test_seat_map_draws_one_char_per_seat(void **state)
{
    (void)state;
    struct usher_event_spec *s = NULL;
    char err[CLI_ERR_MAX] = "";
    const char venue[] =
        "{ \"id\": 3, \"sections\": [ { \"label\": \"Stalls\", \"rows\": [ "
        "{ \"label\": \"A\", \"seats\": 6 }, { \"label\": \"BB\", \"seats\": 4, "
        "\"first_number\": 10 } ] }, { \"label\": \"Floor\", \"capacity\": 50 } ] }";
    assert_int_equal(cli_venue_parse(venue, sizeof(venue) - 1, 0, 1, &s, err, sizeof(err)), 0);
    struct usher_availability *a = calloc(1, sizeof(*a));
    assert_non_null(a);
    a->event_id = 3;
    a->section_count = 2;
    a->seat_count = 10;
    a->sections[0] =
        (struct usher_section_avail){ .free = 7, .held = 2, .booked = 1, .capacity = 10 };
    a->sections[1] =
        (struct usher_section_avail){ .free = 40, .held = 6, .booked = 4, .capacity = 50 };
    const char states[] = "..hB....h.";
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    cli_seat_map_write(f, s, a, states, 4, UINT32_MAX);
    assert_int_equal(fclose(f), 0);
    const char want[] = "Stalls           seated  free 7  held 2  booked 1  of 10\n"
                        "  A   ..hB\n"
                        "      ..   1-6\n"
                        "  BB  ..h.   10-13\n"
                        "Floor            GA      free 40  held 6  booked 4  of 50\n";
    assert_string_equal(text, want);
    free(text);
    json_t *j = cli_seat_map_json(s, a, states, 1);
    assert_non_null(j);
    json_t *sections = json_object_get(j, "sections");
    assert_int_equal(json_array_size(sections), 1);
    assert_string_equal(json_string_value(json_object_get(json_array_get(sections, 0), "label")),
                        "Floor");
    json_decref(j);
    j = cli_seat_map_json(s, a, states, UINT32_MAX);
    json_t *rows = json_object_get(json_array_get(json_object_get(j, "sections"), 0), "rows");
    assert_string_equal(json_string_value(json_object_get(json_array_get(rows, 1), "map")), "..h.");
    json_decref(j);
    free(a);
    usher_event_spec_destroy(s);
}

/* Goal: times print as RFC 3339 UTC with milliseconds; "no end" as never. */
static void test_time_format_is_utc_with_ms(void **state)
{
    (void)state;
    char buf[40];
    cli_time_format(1748772000123ull, buf, sizeof(buf));
    assert_string_equal(buf, "2025-06-01T10:00:00.123Z");
    cli_time_format(UINT64_MAX, buf, sizeof(buf));
    assert_string_equal(buf, "never");
    cli_time_format(0, buf, sizeof(buf));
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_args_take_options_anywhere),
        cmocka_unit_test(test_args_refuse_bad_command_lines),
        cmocka_unit_test(test_args_bound_seats_per_hold),
        cmocka_unit_test(test_args_nodes_default_from_env),
        cmocka_unit_test(test_args_numbers_and_durations),
        cmocka_unit_test(test_venue_row_labels_count_on),
        cmocka_unit_test(test_venue_parses_a_whole_file),
        cmocka_unit_test(test_venue_refuses_mistakes_by_name),
        cmocka_unit_test(test_seat_map_draws_one_char_per_seat),
        cmocka_unit_test(test_time_format_is_utc_with_ms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
