/*
 * Output of the `usher` tool: times, seat maps (text and JSON) and JSON
 * helpers. A seat map prints one line per row and one character per seat:
 *
 *   Stalls           seated   free 38  held 2  booked 2  of 42
 *     A   ....hh..............   1-20
 *     B   ..BB..................   1-22
 *   Floor            GA       free 480  held 12  booked 8  of 500
 *
 * Legend: `.` free, `h` held, `B` booked, `x` taken (held or booked: the
 * availability bitmap says only "not free"; see cli_event.c for how the
 * tool tells them apart).
 */
#include "cli.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

void cli_time_format(uint64_t ms, char *buf, size_t cap)
{
    if (ms == UINT64_MAX) {
        (void)snprintf(buf, cap, "never");
        return;
    }
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL) {
        (void)snprintf(buf, cap, "%" PRIu64 " ms", ms);
        return;
    }
    char day[32];
    size_t n = strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0) {
        (void)snprintf(buf, cap, "%" PRIu64 " ms", ms);
        return;
    }
    (void)snprintf(buf, cap, "%s.%03uZ", day, (unsigned)(ms % 1000u));
}

/* Width of the longest row label of a section, for alignment. */
static int row_label_width(const struct usher_event_spec *s, const struct usher_section_info *sec)
{
    size_t width = 1;
    for (uint32_t r = 0; r < sec->row_count; r++) {
        struct usher_row_info row;
        if (usher_event_spec_row(s, sec->row_first + r, &row) == 0 && strlen(row.label) > width) {
            width = strlen(row.label);
        }
    }
    return (int)width;
}

static void row_write(FILE *f, const struct usher_row_info *row, int label_width,
                      const char *states, uint32_t width)
{
    (void)fprintf(f, "  %-*s  ", label_width, row->label);
    for (uint32_t j = 0; j < row->seat_count; j++) {
        if (j > 0 && j % width == 0) {
            (void)fprintf(f, "\n  %-*s  ", label_width, "");
        }
        (void)fputc(states[row->seat_first + j], f);
    }
    (void)fprintf(f, "   %u-%u\n", (unsigned)row->number_first,
                  (unsigned)row->number_first + row->seat_count - 1u);
}

void cli_seat_map_write(FILE *f, const struct usher_event_spec *s,
                        const struct usher_availability *a, const char *states, uint32_t width,
                        uint32_t only)
{
    struct usher_event_info info;
    usher_event_spec_info(s, &info);
    width = width == 0 ? 100u : width;
    for (uint32_t i = 0; i < info.section_count && i < a->section_count; i++) {
        struct usher_section_info sec;
        if ((only != UINT32_MAX && i != only) || usher_event_spec_section(s, i, &sec) != 0) {
            continue;
        }
        const struct usher_section_avail *sa = &a->sections[i];
        (void)fprintf(f, "%-15s  %-6s  free %u  held %u  booked %u  of %u\n", sec.label,
                      sec.kind == USHER_SECTION_GA ? "GA" : "seated", sa->free, sa->held,
                      sa->booked, sa->capacity);
        int label_width = row_label_width(s, &sec);
        for (uint32_t r = 0; r < sec.row_count; r++) {
            struct usher_row_info row;
            if (usher_event_spec_row(s, sec.row_first + r, &row) == 0 &&
                row.seat_first + row.seat_count <= a->seat_count) {
                row_write(f, &row, label_width, states, width);
            }
        }
    }
}

static json_t *rows_json(const struct usher_event_spec *s, const struct usher_section_info *sec,
                         const struct usher_availability *a, const char *states)
{
    json_t *rows = json_array();
    for (uint32_t r = 0; rows != NULL && r < sec->row_count; r++) {
        struct usher_row_info row;
        if (usher_event_spec_row(s, sec->row_first + r, &row) != 0 ||
            row.seat_first + row.seat_count > a->seat_count) {
            continue;
        }
        json_t *j = json_pack("{s:s, s:i, s:s%}", "label", row.label, "first_number",
                              (json_int_t)row.number_first, "map", states + row.seat_first,
                              (size_t)row.seat_count);
        if (j == NULL || json_array_append_new(rows, j) != 0) {
            json_decref(rows);
            return NULL;
        }
    }
    return rows;
}

json_t *cli_seat_map_json(const struct usher_event_spec *s, const struct usher_availability *a,
                          const char *states, uint32_t only)
{
    json_t *sections = json_array();
    for (uint32_t i = 0; sections != NULL && i < a->section_count; i++) {
        struct usher_section_info sec;
        if (usher_event_spec_section(s, i, &sec) != 0) {
            break;
        }
        if (only != UINT32_MAX && i != only) {
            continue;
        }
        const struct usher_section_avail *sa = &a->sections[i];
        json_t *j =
            json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "label", sec.label, "kind",
                      sec.kind == USHER_SECTION_GA ? "ga" : "seated", "free", (json_int_t)sa->free,
                      "held", (json_int_t)sa->held, "booked", (json_int_t)sa->booked, "capacity",
                      (json_int_t)sa->capacity, "rows", rows_json(s, &sec, a, states));
        if (j == NULL || json_array_append_new(sections, j) != 0) {
            json_decref(sections);
            return NULL;
        }
    }
    if (sections == NULL) {
        return NULL;
    }
    return json_pack("{s:o, s:o, s:o, s:I, s:s, s:o}", "event_id", cli_json_u64(a->event_id),
                     "applied_index", cli_json_u64(a->applied_index), "now_ms",
                     cli_json_u64(a->now_ms), "seat_count", (json_int_t)a->seat_count, "legend",
                     ". free, h held, B booked, x held or booked", "sections", sections);
}

json_t *cli_json_u64(uint64_t v)
{
    if (v <= (uint64_t)INT64_MAX) {
        return json_integer((json_int_t)v);
    }
    char buf[24];
    (void)snprintf(buf, sizeof(buf), "%" PRIu64, v);
    return json_string(buf);
}

int cli_json_write(FILE *f, json_t *j)
{
    if (j == NULL) {
        return -1;
    }
    int rc = json_dumpf(j, f, JSON_INDENT(2));
    json_decref(j);
    if (rc != 0 || fputc('\n', f) == EOF) {
        return -1;
    }
    return 0;
}
