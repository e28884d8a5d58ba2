/*
 * Venue files: the JSON description of an event that `usher event create`
 * reads (docs/VENUE.md), parsed with jansson into a libusher event
 * description. Every error names the field it is about, as a path:
 * `sections[2].rows[0].seats: want an integer 1..1024, got 0`.
 *
 *   { "id": 1001, "name": "...", "sale_start": "...Z", "sale_end": ...,
 *     "hold_ttl_min_ms": ..., "hold_ttl_max_ms": ..., "hold_lifetime_max_ms": ...,
 *     "hold_seats_max": ..., "customer_seats_max": ...,
 *     "sections": [ { "label": "Stalls", "kind": "seated",
 *                     "rows": [ { "label": "A", "seats": 20, "first_number": 1,
 *                                 "count": 26 } ] },
 *                   { "label": "Floor", "kind": "ga", "capacity": 500 } ] }
 *
 * Unknown keys are refused (a typo must not silently mean a default); a
 * "comment" key is allowed in every object.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Bytes of a venue file: the largest event (8192 rows) is far smaller. */
#define VENUE_FILE_BYTES_MAX ((size_t)16u * 1024u * 1024u)

/* The cluster's bounds (src/limits.h), repeated for messages. */
#define VENUE_TTL_MIN_MS         1000u
#define VENUE_TTL_MAX_MS         3600000u
#define VENUE_LIFETIME_MAX_MS    7200000u
#define VENUE_CUSTOMER_SEATS_MAX 1024u

struct venue {
    struct usher_event_spec *spec;
    char *err;
    size_t cap;
};

static int verr(struct venue *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int verr(struct venue *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    /* Truncation is fine. The analyzer loses va_start through the format
     * attribute: NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized) */
    (void)vsnprintf(v->err, v->cap, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* Refuses keys outside `allowed` (NULL-terminated) and "comment". */
static int keys_check(struct venue *v, json_t *obj, const char *path, const char *const *allowed)
{
    const char *key = NULL;
    json_t *value = NULL;
    json_object_foreach(obj, key, value)
    {
        bool known = strcmp(key, "comment") == 0;
        for (size_t i = 0; allowed[i] != NULL && !known; i++) {
            known = strcmp(key, allowed[i]) == 0;
        }
        if (!known) {
            return verr(v, "%s: unknown key \"%s\"", path, key);
        }
    }
    return 0;
}

/* Reads an optional unsigned integer in [min, max] (absent: *out unchanged). */
static int get_uint(struct venue *v, json_t *obj, const char *path, const char *key, uint64_t min,
                    uint64_t max, uint64_t *out)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return 0;
    }
    uint64_t value = 0;
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        value = (uint64_t)json_integer_value(j);
    } else if (!json_is_string(j) || cli_u64_parse(json_string_value(j), &value) != 0) {
        return verr(v, "%s.%s: want an integer %llu..%llu", path, key, (unsigned long long)min,
                    (unsigned long long)max);
    }
    if (value < min || value > max) {
        return verr(v, "%s.%s: want an integer %llu..%llu, got %llu", path, key,
                    (unsigned long long)min, (unsigned long long)max, (unsigned long long)value);
    }
    *out = value;
    return 0;
}

/* Reads a required string of 1..max bytes. */
static int get_label(struct venue *v, json_t *obj, const char *path, const char *key, size_t max,
                     const char **out)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return verr(v, "%s: missing \"%s\"", path, key);
    }
    size_t len = json_is_string(j) ? json_string_length(j) : 0;
    if (len == 0 || len > max || strlen(json_string_value(j)) != len) {
        return verr(v, "%s.%s: want a string of 1..%zu bytes", path, key, max);
    }
    *out = json_string_value(j);
    return 0;
}

/* Parses "YYYY-MM-DDTHH:MM:SS[.mmm]Z" into Unix ms. */
static int time_parse(const char *s, uint64_t *ms)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == NULL) {
        return -1;
    }
    uint64_t frac = 0;
    if (rest[0] == '.') {
        for (int i = 1; i <= 3; i++) {
            if (rest[i] < '0' || rest[i] > '9') {
                return -1;
            }
            frac = frac * 10u + (uint64_t)(rest[i] - '0');
        }
        rest += 4;
    }
    time_t t = timegm(&tm);
    if (strcmp(rest, "Z") != 0 || t < 0) {
        return -1;
    }
    *ms = (uint64_t)t * 1000u + frac;
    return 0;
}

/* Reads an optional time: Unix ms, or an RFC 3339 UTC string. */
static int get_time(struct venue *v, json_t *obj, const char *key, uint64_t *out)
{
    json_t *j = json_object_get(obj, key);
    if (j == NULL) {
        return 0;
    }
    if (json_is_integer(j) && json_integer_value(j) >= 0) {
        *out = (uint64_t)json_integer_value(j);
        return 0;
    }
    if (json_is_string(j) && time_parse(json_string_value(j), out) == 0) {
        return 0;
    }
    return verr(v, "%s: want Unix ms or a UTC time like \"2025-06-01T19:30:00Z\"", key);
}

int cli_venue_label_next(const char *label, char *out, size_t cap)
{
    size_t len = strlen(label);
    size_t digits = 0;
    while (digits < len && label[len - 1u - digits] >= '0' && label[len - 1u - digits] <= '9') {
        digits++;
    }
    if (len == 0 || len >= cap) {
        return -1;
    }
    if (digits > 0) {
        /* "R9" -> "R10", "07" -> "08": the number grows, its width stays. */
        unsigned long long n = strtoull(label + len - digits, NULL, 10) + 1u;
        int w = snprintf(out, cap, "%.*s%0*llu", (int)(len - digits), label, (int)digits, n);
        return w > 0 && (size_t)w < cap && (size_t)w <= USHER_LABEL_LEN_LIMIT ? 0 : -1;
    }
    char first = label[0] >= 'a' && label[0] <= 'z' ? 'a' : 'A';
    char last = (char)(first + 25);
    for (size_t i = 0; i < len; i++) {
        if (label[i] < first || label[i] > last) {
            return -1; /* only letters of one case, or a trailing number */
        }
    }
    /* Spreadsheet order: A .. Z, AA .. AZ, BA .. ZZ, AAA ... */
    memcpy(out, label, len + 1u);
    size_t i = len;
    while (i > 0 && out[i - 1u] == last) {
        out[i - 1u] = first;
        i--;
    }
    if (i > 0) {
        out[i - 1u]++;
        return 0;
    }
    if (len + 2u > cap || len + 1u > USHER_LABEL_LEN_LIMIT) {
        return -1;
    }
    memmove(out + 1, out, len + 1u);
    out[0] = first;
    return 0;
}

static const char *spec_code_text(int rc)
{
    switch (rc) {
    case USHER_LIMIT_EVENT_SEATS:
        return "the event would have more than 262144 seats";
    case USHER_LIMIT_EVENT_ROWS:
        return "the event would have more than 8192 rows";
    case USHER_LIMIT_EVENT_SECTIONS:
        return "the event would have more than 256 sections";
    case USHER_LIMIT_ROW_SEATS:
        return "a row has at most 1024 seats";
    case USHER_LIMIT_LABEL_LEN:
        return "a label has at most 15 bytes";
    case USHER_INVALID:
        return "seat numbers would pass 65535";
    default:
        return usher_strerror(rc);
    }
}

static int parse_row(struct venue *v, json_t *row, const char *path, json_t *labels)
{
    static const char *const keys[] = { "label", "seats", "first_number", "count", NULL };
    if (!json_is_object(row)) {
        return verr(v, "%s: want an object", path);
    }
    const char *label = NULL;
    uint64_t seats = 0;
    uint64_t first = 1;
    uint64_t count = 1;
    int rc = keys_check(v, row, path, keys);
    if (rc == 0) {
        rc = get_label(v, row, path, "label", USHER_LABEL_LEN_LIMIT, &label);
    }
    if (rc == 0 && json_object_get(row, "seats") == NULL) {
        rc = verr(v, "%s: missing \"seats\"", path);
    }
    if (rc == 0) {
        rc = get_uint(v, row, path, "seats", 1, USHER_ROW_SEATS_LIMIT, &seats);
    }
    if (rc == 0) {
        rc = get_uint(v, row, path, "first_number", 0, UINT16_MAX, &first);
    }
    if (rc == 0) {
        rc = get_uint(v, row, path, "count", 1, USHER_EVENT_ROWS_LIMIT, &count);
    }
    char cur[USHER_LABEL_LEN_LIMIT + 1];
    char next[USHER_LABEL_LEN_LIMIT + 1];
    (void)snprintf(cur, sizeof(cur), "%s", label != NULL ? label : "");
    for (uint64_t k = 0; rc == 0 && k < count; k++) {
        if (k > 0 && cli_venue_label_next(cur, next, sizeof(next)) != 0) {
            return verr(v,
                        "%s.label: cannot number %llu rows from \"%s\" (use letters like "
                        "\"A\" or a trailing number like \"R1\")",
                        path, (unsigned long long)count, label);
        }
        if (k > 0) {
            memcpy(cur, next, sizeof(cur));
        }
        if (json_object_get(labels, cur) != NULL) {
            return verr(v, "%s: row label \"%s\" is used twice in this section", path, cur);
        }
        if (json_object_set_new(labels, cur, json_true()) != 0) {
            return verr(v, "out of memory");
        }
        rc = usher_event_spec_row_add(v->spec, cur, (uint16_t)seats, (uint16_t)first);
        if (rc != 0) {
            return verr(v, "%s (row \"%s\"): %s", path, cur, spec_code_text(rc));
        }
    }
    return rc;
}

static int parse_rows(struct venue *v, json_t *rows, const char *path)
{
    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        return verr(v, "%s.rows: want a non-empty array of rows", path);
    }
    json_t *labels = json_object();
    if (labels == NULL) {
        return verr(v, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(rows); i++) {
        char row_path[96];
        (void)snprintf(row_path, sizeof(row_path), "%s.rows[%zu]", path, i);
        rc = parse_row(v, json_array_get(rows, i), row_path, labels);
    }
    json_decref(labels);
    return rc;
}

/* Returns the section's kind: the "kind" key, else what its keys imply. */
static int section_kind(struct venue *v, json_t *sec, const char *path, bool *ga)
{
    json_t *kind = json_object_get(sec, "kind");
    bool has_rows = json_object_get(sec, "rows") != NULL;
    bool has_capacity = json_object_get(sec, "capacity") != NULL;
    if (kind == NULL) {
        if (has_rows == has_capacity) {
            return verr(v, "%s: give \"rows\" (seated) or \"capacity\" (general admission)", path);
        }
        *ga = has_capacity;
        return 0;
    }
    const char *k = json_is_string(kind) ? json_string_value(kind) : "";
    if (strcmp(k, "seated") != 0 && strcmp(k, "ga") != 0) {
        return verr(v, "%s.kind: want \"seated\" or \"ga\"", path);
    }
    *ga = strcmp(k, "ga") == 0;
    if (*ga ? has_rows : has_capacity) {
        return verr(v, "%s: a %s section has no \"%s\"", path, k, *ga ? "rows" : "capacity");
    }
    return 0;
}

static int parse_section(struct venue *v, json_t *sec, size_t index, json_t *labels)
{
    static const char *const keys[] = { "label", "kind", "capacity", "rows", NULL };
    char path[32];
    (void)snprintf(path, sizeof(path), "sections[%zu]", index);
    if (!json_is_object(sec)) {
        return verr(v, "%s: want an object", path);
    }
    const char *label = NULL;
    bool ga = false;
    int rc = keys_check(v, sec, path, keys);
    if (rc == 0) {
        rc = get_label(v, sec, path, "label", USHER_LABEL_LEN_LIMIT, &label);
    }
    if (rc == 0) {
        rc = section_kind(v, sec, path, &ga);
    }
    if (rc != 0) {
        return rc;
    }
    if (json_object_get(labels, label) != NULL) {
        return verr(v, "%s: section label \"%s\" is used twice", path, label);
    }
    if (json_object_set_new(labels, label, json_true()) != 0) {
        return verr(v, "out of memory");
    }
    if (!ga) {
        rc = usher_event_spec_section_add(v->spec, label, NULL);
        return rc != 0 ? verr(v, "%s: %s", path, spec_code_text(rc))
                       : parse_rows(v, json_object_get(sec, "rows"), path);
    }
    uint64_t capacity = 0;
    rc = get_uint(v, sec, path, "capacity", 1, USHER_GA_CAPACITY_LIMIT, &capacity);
    if (rc == 0) {
        rc = usher_event_spec_ga_add(v->spec, label, (uint32_t)capacity, NULL);
        rc = rc != 0 ? verr(v, "%s: %s", path, spec_code_text(rc)) : 0;
    }
    return rc;
}

static int parse_sections(struct venue *v, json_t *root)
{
    json_t *sections = json_object_get(root, "sections");
    if (!json_is_array(sections) || json_array_size(sections) == 0) {
        return verr(v, "sections: want a non-empty array of sections");
    }
    if (json_array_size(sections) > USHER_EVENT_SECTIONS_LIMIT) {
        return verr(v, "sections: at most %u sections", USHER_EVENT_SECTIONS_LIMIT);
    }
    json_t *labels = json_object();
    if (labels == NULL) {
        return verr(v, "out of memory");
    }
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(sections); i++) {
        rc = parse_section(v, json_array_get(sections, i), i, labels);
    }
    json_decref(labels);
    return rc;
}

/* The hold bounds, each checked, then against each other with the
 * cluster's defaults for what the file leaves out. */
static int parse_holds(struct venue *v, json_t *root)
{
    uint64_t min = 0;
    uint64_t max = 0;
    uint64_t life = 0;
    uint64_t seats = 0;
    uint64_t customer = 0;
    int rc =
        get_uint(v, root, "event", "hold_ttl_min_ms", VENUE_TTL_MIN_MS, VENUE_TTL_MAX_MS, &min);
    if (rc == 0) {
        rc =
            get_uint(v, root, "event", "hold_ttl_max_ms", VENUE_TTL_MIN_MS, VENUE_TTL_MAX_MS, &max);
    }
    if (rc == 0) {
        rc = get_uint(v, root, "event", "hold_lifetime_max_ms", VENUE_TTL_MIN_MS,
                      VENUE_LIFETIME_MAX_MS, &life);
    }
    if (rc == 0) {
        rc = get_uint(v, root, "event", "hold_seats_max", 1, USHER_HOLD_SEATS_LIMIT, &seats);
    }
    if (rc == 0) {
        rc = get_uint(v, root, "event", "customer_seats_max", 1, VENUE_CUSTOMER_SEATS_MAX,
                      &customer);
    }
    if (rc != 0) {
        return rc;
    }
    uint64_t min_eff = min != 0 ? min : 60000u;
    uint64_t max_eff = max != 0 ? max : 600000u;
    uint64_t life_eff = life != 0 ? life : 1800000u;
    if (min_eff > max_eff || max_eff > life_eff) {
        return verr(v,
                    "event: want hold_ttl_min_ms (%llu) <= hold_ttl_max_ms (%llu) <= "
                    "hold_lifetime_max_ms (%llu); absent ones take the defaults 60000, "
                    "600000, 1800000",
                    (unsigned long long)min_eff, (unsigned long long)max_eff,
                    (unsigned long long)life_eff);
    }
    usher_event_spec_hold_ttl_set(v->spec, (uint32_t)min, (uint32_t)max, (uint32_t)life);
    usher_event_spec_limits_set(v->spec, (uint16_t)seats, (uint16_t)customer);
    return 0;
}

/* Creates the spec from the id and name, then reads the sale window. */
static int parse_head(struct venue *v, json_t *root, uint64_t id, uint64_t random_id)
{
    static const char *const keys[] = { "id",
                                        "name",
                                        "sale_start",
                                        "sale_end",
                                        "hold_ttl_min_ms",
                                        "hold_ttl_max_ms",
                                        "hold_lifetime_max_ms",
                                        "hold_seats_max",
                                        "customer_seats_max",
                                        "sections",
                                        NULL };
    int rc = keys_check(v, root, "event", keys);
    uint64_t file_id = 0;
    if (rc == 0) {
        rc = get_uint(v, root, "event", "id", 1, UINT64_MAX, &file_id);
    }
    json_t *name = json_object_get(root, "name");
    if (rc == 0 && name != NULL &&
        (!json_is_string(name) || json_string_length(name) > USHER_NAME_LEN_LIMIT)) {
        rc = verr(v, "event.name: want a string of at most %u bytes", USHER_NAME_LEN_LIMIT);
    }
    if (rc != 0) {
        return rc;
    }
    uint64_t event_id = id != 0 ? id : (file_id != 0 ? file_id : random_id);
    rc = usher_event_spec_create(event_id, name != NULL ? json_string_value(name) : NULL, &v->spec);
    if (rc != 0) {
        return verr(v, "event: %s", usher_strerror(rc));
    }
    uint64_t start = 0;
    uint64_t end = 0;
    rc = get_time(v, root, "sale_start", &start);
    if (rc == 0) {
        rc = get_time(v, root, "sale_end", &end);
    }
    if (rc == 0 && usher_event_spec_sale_window_set(v->spec, start, end) != 0) {
        rc = verr(v, "sale_end: must be after sale_start");
    }
    return rc;
}

int cli_venue_parse(const char *text, size_t len, uint64_t id, uint64_t random_id,
                    struct usher_event_spec **out, char *err, size_t cap)
{
    struct venue v = { .spec = NULL, .err = err, .cap = cap };
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        return verr(&v, "line %d, column %d: %s", je.line, je.column, je.text);
    }
    int rc = json_is_object(root) ? 0 : verr(&v, "the venue must be a JSON object");
    if (rc == 0) {
        rc = parse_head(&v, root, id, random_id);
    }
    if (rc == 0) {
        rc = parse_holds(&v, root);
    }
    if (rc == 0) {
        rc = parse_sections(&v, root);
    }
    json_decref(root);
    if (rc == 0) {
        int bad = usher_event_spec_validate(v.spec);
        rc = bad == 0 ? 0
                      : verr(&v, "the event breaks a rule of the cluster: %s (%s)",
                             usher_strerror(bad), usher_errname(bad));
    }
    if (rc != 0) {
        usher_event_spec_destroy(v.spec);
        return rc;
    }
    *out = v.spec;
    return 0;
}

int cli_venue_load(const char *path, uint64_t id, uint64_t random_id, struct usher_event_spec **out,
                   char *err, size_t cap)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        (void)snprintf(err, cap, "%s: %s", path, strerror(errno));
        return CLI_EXIT_USAGE;
    }
    char *text = malloc(VENUE_FILE_BYTES_MAX + 1);
    size_t len = text == NULL ? 0 : fread(text, 1, VENUE_FILE_BYTES_MAX + 1, f);
    bool failed = text == NULL || ferror(f) != 0;
    (void)fclose(f); /* read-only: nothing to lose */
    int rc = CLI_EXIT_USAGE;
    if (failed) {
        (void)snprintf(err, cap, "%s: cannot read the file", path);
    } else if (len > VENUE_FILE_BYTES_MAX) {
        (void)snprintf(err, cap, "%s: larger than %zu bytes", path, VENUE_FILE_BYTES_MAX);
    } else {
        char inner[CLI_ERR_MAX];
        rc = cli_venue_parse(text, len, id, random_id, out, inner, sizeof(inner));
        if (rc != 0) {
            (void)snprintf(err, cap, "%s: %s", path, inner);
        }
    }
    free(text);
    return rc;
}
