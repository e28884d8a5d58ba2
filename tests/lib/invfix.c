/*
 * Fixture helpers for the inventory state machine tests (invfix.h).
 */
#include "invfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"

/* ---- Life cycle ---- */

static struct inv *open_store(char *dir, const struct inv_options *opts)
{
    assert_int_equal(tempdir_make("inv", dir, TEMPDIR_PATH_MAX), 0);
    struct inv *inv = NULL;
    char errmsg[USHER_ERRMSG_MAX] = { 0 };
    int rc = inv_open(dir, opts, &inv, errmsg);
    if (rc != 0) {
        print_error("inv_open %s: %s (%s)\n", dir, err_name(rc), errmsg);
    }
    assert_int_equal(rc, 0);
    assert_non_null(inv);
    return inv;
}

void invfix_open(struct invfix *f, const struct inv_options *opts, bool twin)
{
    struct inv_options defaults = { .map_bytes = INVFIX_MAP_BYTES,
                                    .idem_window_ms = 0,
                                    .durable = false };
    if (opts == NULL) {
        opts = &defaults;
    }
    memset(f, 0, sizeof *f);
    f->client_id = INVFIX_CLIENT_ID;
    f->inv = open_store(f->dir, opts);
    if (twin) {
        f->twin = open_store(f->twin_dir, opts);
    }
}

void invfix_close(struct invfix *f)
{
    inv_close(f->inv);
    f->inv = NULL;
    if (f->dir[0] != '\0') {
        assert_int_equal(tempdir_remove(f->dir), 0);
    }
    inv_close(f->twin);
    f->twin = NULL;
    if (f->twin_dir[0] != '\0') {
        assert_int_equal(tempdir_remove(f->twin_dir), 0);
    }
}

static int setup_with(void **state, bool twin)
{
    struct invfix *f = calloc(1, sizeof *f);
    assert_non_null(f);
    invfix_open(f, NULL, twin);
    *state = f;
    return 0;
}

int invfix_setup(void **state)
{
    return setup_with(state, true);
}

int invfix_setup_single(void **state)
{
    return setup_with(state, false);
}

int invfix_teardown(void **state)
{
    struct invfix *f = *state;
    invfix_close(f);
    free(f);
    return 0;
}

/* ---- Events ---- */

static uint32_t rows_in(const struct invfix_section *sections, uint32_t n)
{
    uint32_t rows = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (sections[i].kind == EVENT_SECTION_SEATED) {
            rows += sections[i].row_count;
        }
    }
    return rows;
}

static void label_set(char *label, const char *prefix, uint32_t i)
{
    int len = snprintf(label, USHER_LABEL_LEN_MAX + 1, "%s%u", prefix, i);
    assert_true(len > 0 && (size_t)len <= USHER_LABEL_LEN_MAX);
}

static void name_set(struct event *e, uint64_t id)
{
    int len = snprintf(e->name, sizeof e->name, "event-%llu", (unsigned long long)id);
    assert_true(len > 0 && (size_t)len < sizeof e->name);
}

struct event *invfix_event_make(uint64_t id, const struct invfix_section *sections, uint32_t n)
{
    struct event *e = event_create(n, rows_in(sections, n));
    assert_non_null(e);
    e->id = id;
    name_set(e, id);
    uint32_t row = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct event_section *s = &e->sections[i];
        label_set(s->label, "S", i);
        s->kind = sections[i].kind;
        if (s->kind == EVENT_SECTION_GA) {
            s->ga_capacity = sections[i].ga_capacity;
            continue;
        }
        s->row_count = sections[i].row_count;
        for (uint32_t j = 0; j < s->row_count; j++, row++) {
            label_set(e->rows[row].label, "R", j);
            e->rows[row].seat_count = sections[i].row_seats;
            e->rows[row].number_first = 1;
        }
    }
    assert_int_equal(event_layout(e), 0);
    return e;
}

struct event *invfix_event_seated(uint64_t id, uint32_t row_count, uint16_t row_seats)
{
    struct invfix_section s = { .kind = EVENT_SECTION_SEATED,
                                .row_count = row_count,
                                .row_seats = row_seats };
    return invfix_event_make(id, &s, 1);
}

struct event *invfix_event_rows(uint64_t id, const uint16_t *row_seats, uint32_t row_count)
{
    struct invfix_section s = { .kind = EVENT_SECTION_SEATED, .row_count = row_count };
    struct event *e = event_create(1, row_count);
    assert_non_null(e);
    e->id = id;
    name_set(e, id);
    label_set(e->sections[0].label, "S", 0);
    e->sections[0].kind = s.kind;
    e->sections[0].row_count = row_count;
    for (uint32_t j = 0; j < row_count; j++) {
        label_set(e->rows[j].label, "R", j);
        e->rows[j].seat_count = row_seats[j];
        e->rows[j].number_first = 1;
    }
    assert_int_equal(event_layout(e), 0);
    return e;
}

int invfix_event_add(struct invfix *f, uint64_t ts, struct event *e)
{
    struct cmd c = invfix_cmd_create(f, e);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    if (r.status == USHER_OK) {
        assert_int_equal(r.id, e->id);
    }
    event_destroy(e);
    return r.status;
}

/* ---- Commands ---- */

void invfix_cmd_seal(struct cmd *c)
{
    uint8_t *buf = malloc((size_t)USHER_CMD_BYTES_MAX);
    assert_non_null(buf);
    size_t len = 0;
    int rc = codec_cmd_encode(c, buf, (size_t)USHER_CMD_BYTES_MAX, &len);
    if (rc != 0) {
        print_error("codec_cmd_encode type %u: %s\n", c->type, err_name(rc));
    }
    assert_int_equal(rc, 0);
    struct cmd d;
    memset(&d, 0, sizeof d);
    rc = codec_cmd_decode(buf, len, &d);
    if (rc != 0) {
        print_error("codec_cmd_decode type %u: %s\n", c->type, err_name(rc));
    }
    assert_int_equal(rc, 0);
    c->digest = d.digest;
    codec_cmd_release(&d);
    free(buf);
}

uint64_t invfix_id(uint64_t index, uint32_t slot)
{
    return (index << USHER_ID_SLOT_BITS) | slot;
}

static struct cmd cmd_keyed(struct invfix *f, uint8_t type, uint64_t event_id, uint64_t customer_id)
{
    struct cmd c;
    memset(&c, 0, sizeof c);
    c.type = type;
    c.client_id = f->client_id;
    f->next_key++;
    c.idem_key = f->next_key;
    c.event_id = event_id;
    c.customer_id = customer_id;
    return c;
}

struct cmd invfix_cmd_create(struct invfix *f, struct event *e)
{
    struct cmd c = cmd_keyed(f, CMD_EVENT_CREATE, e->id, 0);
    c.u.create.event = e;
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_hold_seats(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                                 uint32_t ttl_ms, const uint32_t *seats, uint16_t seat_count)
{
    assert_true(seat_count <= USHER_HOLD_SEATS_MAX);
    struct cmd c = cmd_keyed(f, CMD_HOLD_SEATS, event_id, customer_id);
    c.u.hold_seats.ttl_ms = ttl_ms;
    c.u.hold_seats.seat_count = seat_count;
    if (seat_count > 0) {
        memcpy(c.u.hold_seats.seats, seats, seat_count * sizeof *seats);
    }
    invfix_cmd_seal(&c);
    return c;
}

static struct cmd cmd_count(struct invfix *f, uint8_t type, uint64_t event_id, uint64_t customer_id,
                            uint32_t ttl_ms, uint16_t section, uint16_t count)
{
    struct cmd c = cmd_keyed(f, type, event_id, customer_id);
    c.u.hold_count.ttl_ms = ttl_ms;
    c.u.hold_count.section = section;
    c.u.hold_count.count = count;
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_hold_best(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                                uint32_t ttl_ms, uint16_t section, uint16_t count)
{
    return cmd_count(f, CMD_HOLD_BEST, event_id, customer_id, ttl_ms, section, count);
}

struct cmd invfix_cmd_hold_ga(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                              uint32_t ttl_ms, uint16_t section, uint16_t count)
{
    return cmd_count(f, CMD_HOLD_GA, event_id, customer_id, ttl_ms, section, count);
}

struct cmd invfix_cmd_extend(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                             uint64_t hold_id, uint32_t ttl_ms)
{
    struct cmd c = cmd_keyed(f, CMD_HOLD_EXTEND, event_id, customer_id);
    c.u.extend.hold_id = hold_id;
    c.u.extend.ttl_ms = ttl_ms;
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_release(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                              uint64_t hold_id)
{
    struct cmd c = cmd_keyed(f, CMD_HOLD_RELEASE, event_id, customer_id);
    c.u.release.hold_id = hold_id;
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_book(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                           uint64_t hold_id, const char *payment_ref)
{
    struct cmd c = cmd_keyed(f, CMD_HOLD_BOOK, event_id, customer_id);
    c.u.book.hold_id = hold_id;
    size_t len = strlen(payment_ref);
    assert_true(len <= USHER_PAYMENT_REF_LEN_MAX);
    memcpy(c.u.book.payment_ref, payment_ref, len + 1);
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_cancel(struct invfix *f, uint64_t event_id, uint64_t customer_id,
                             uint64_t booking_id)
{
    struct cmd c = cmd_keyed(f, CMD_BOOKING_CANCEL, event_id, customer_id);
    c.u.cancel.booking_id = booking_id;
    invfix_cmd_seal(&c);
    return c;
}

struct cmd invfix_cmd_sweep(uint32_t max)
{
    struct cmd c;
    memset(&c, 0, sizeof c);
    c.type = CMD_SWEEP;
    c.u.sweep.max = max;
    invfix_cmd_seal(&c);
    return c;
}

/* ---- Applying ---- */

void invfix_assert_result_equal(const struct cmd_result *a, const struct cmd_result *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->replayed, b->replayed);
    assert_int_equal(a->id, b->id);
    assert_int_equal(a->expires_at_ms, b->expires_at_ms);
    assert_int_equal(a->swept, b->swept);
    assert_int_equal(a->more, b->more);
    assert_int_equal(a->seat_count, b->seat_count);
    uint32_t seats = a->seat_count;
    if (a->type == CMD_HOLD_GA || seats > USHER_HOLD_SEATS_MAX) {
        seats = 0; /* GA results leave seats unused */
    }
    for (uint32_t i = 0; i < seats; i++) {
        assert_int_equal(a->seats[i], b->seats[i]);
    }
}

static void apply_one_store(struct inv *inv, uint64_t index, uint64_t ts, const struct cmd *cmds,
                            uint32_t n, struct cmd_result *results)
{
    int rc = inv_apply(inv, index, ts, cmds, n, results);
    if (rc != 0) {
        print_error("inv_apply index %llu: %s\n", (unsigned long long)index, err_name(rc));
    }
    assert_int_equal(rc, 0);
}

void invfix_apply(struct invfix *f, uint64_t ts, const struct cmd *cmds, uint32_t n,
                  struct cmd_result *results)
{
    struct cmd_result *mine = calloc(n + 1u, sizeof *mine);
    struct cmd_result *theirs = calloc(n + 1u, sizeof *theirs);
    assert_non_null(mine);
    assert_non_null(theirs);
    f->index++;
    apply_one_store(f->inv, f->index, ts, cmds, n, mine);
    if (f->twin != NULL) {
        apply_one_store(f->twin, f->index, ts, cmds, n, theirs);
        for (uint32_t i = 0; i < n; i++) {
            invfix_assert_result_equal(&mine[i], &theirs[i]);
        }
    }
    if (n > 0) {
        memcpy(results, mine, n * sizeof *mine);
    }
    free(mine);
    free(theirs);
}

struct cmd_result invfix_apply1(struct invfix *f, uint64_t ts, const struct cmd *c)
{
    struct cmd_result r;
    invfix_apply(f, ts, c, 1, &r);
    return r;
}

struct cmd_result invfix_apply1_alone(struct invfix *f, uint64_t ts, const struct cmd *c)
{
    struct cmd_result r[2];
    memset(r, 0, sizeof r);
    f->index++;
    apply_one_store(f->inv, f->index, ts, c, 1, &r[0]);
    if (f->twin != NULL) {
        apply_one_store(f->twin, f->index, ts, c, 0, &r[1]);
    }
    return r[0];
}

void invfix_refuse(struct invfix *f, uint64_t ts, const struct cmd *c, int code)
{
    assert_non_null(f->twin);
    struct cmd_result r = invfix_apply1_alone(f, ts, c);
    if (r.status != code) {
        print_error("expected %s, got %s\n", err_name(code), err_name(r.status));
    }
    assert_int_equal(r.status, code);
    assert_int_equal(r.type, c->type);
    assert_int_equal(r.replayed, 0);
    assert_int_equal(r.id, 0);
    invfix_assert_twin_state_equal(f);
}

uint64_t invfix_hold_ok(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                        uint32_t ttl_ms, const uint32_t *seats, uint16_t seat_count)
{
    struct cmd c = invfix_cmd_hold_seats(f, event_id, customer_id, ttl_ms, seats, seat_count);
    struct cmd_result r = invfix_apply1(f, ts, &c);
    if (r.status != USHER_OK) {
        print_error("hold: %s\n", err_name(r.status));
    }
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.id, invfix_id(f->index, 0));
    return r.id;
}

uint64_t invfix_hold_one(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                         uint32_t ttl_ms, uint32_t seat_index)
{
    return invfix_hold_ok(f, ts, event_id, customer_id, ttl_ms, &seat_index, 1);
}

uint64_t invfix_book_ok(struct invfix *f, uint64_t ts, uint64_t event_id, uint64_t customer_id,
                        uint64_t hold_id)
{
    struct cmd c = invfix_cmd_book(f, event_id, customer_id, hold_id, "pay-ok");
    struct cmd_result r = invfix_apply1(f, ts, &c);
    if (r.status != USHER_OK) {
        print_error("book: %s\n", err_name(r.status));
    }
    assert_int_equal(r.status, USHER_OK);
    assert_int_equal(r.id, invfix_id(f->index, 0));
    return r.id;
}

void invfix_tick(struct invfix *f, uint64_t ts)
{
    struct cmd unused;
    memset(&unused, 0, sizeof unused);
    invfix_apply(f, ts, &unused, 0, NULL);
}

/* ---- Reads ---- */

struct inv_hold invfix_hold(struct invfix *f, uint64_t hold_id)
{
    struct inv_hold h;
    memset(&h, 0, sizeof h);
    assert_int_equal(inv_hold_get(f->inv, hold_id, &h), 0);
    assert_int_equal(h.id, hold_id);
    return h;
}

struct inv_booking invfix_booking(struct invfix *f, uint64_t booking_id)
{
    struct inv_booking b;
    memset(&b, 0, sizeof b);
    assert_int_equal(inv_booking_get(f->inv, booking_id, &b), 0);
    assert_int_equal(b.id, booking_id);
    return b;
}

struct inv_availability *invfix_avail(struct invfix *f, uint64_t event_id)
{
    struct inv_availability *a = calloc(1, sizeof *a);
    assert_non_null(a);
    assert_int_equal(inv_availability(f->inv, event_id, a), 0);
    assert_int_equal(a->event_id, event_id);
    return a;
}

bool invfix_bit_is_free(const struct inv_availability *a, uint32_t seat_index)
{
    assert_true(seat_index < a->seat_count);
    return (a->free_bitmap[seat_index / 8u] & (1u << (seat_index % 8u))) != 0;
}

bool invfix_seat_is_free(struct invfix *f, uint64_t event_id, uint32_t seat_index)
{
    struct inv_availability *a = invfix_avail(f, event_id);
    bool free_now = invfix_bit_is_free(a, seat_index);
    free(a);
    return free_now;
}

/* ---- Whole state ---- */

char *invfix_dump(struct inv *inv)
{
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    assert_non_null(mem);
    int rc = inv_dump(inv, mem);
    assert_int_equal(fclose(mem), 0);
    assert_int_equal(rc, 0);
    assert_non_null(text);
    return text;
}

/*
 * The dump (inv_dump()) is a series of tables, each a header line
 * "table <name> <count>" followed by one line per record. Left out of the
 * state comparison: the idempotency tables ("idem", "idem_expiry"), since
 * refusals are stored too, and "meta", which counts idempotency records;
 * the applied index and time it also holds are compared through the API.
 */
static bool table_is_left_out(const char *line, size_t len)
{
    static const char *const names[] = { "table idem ", "table idem_expiry ", "table meta " };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n = strlen(names[i]);
        if (len >= n && memcmp(line, names[i], n) == 0) {
            return true;
        }
    }
    return false;
}

char *invfix_dump_state(struct inv *inv)
{
    char *all = invfix_dump(inv);
    size_t len = strlen(all);
    char *out = malloc(len + 1);
    assert_non_null(out);
    size_t used = 0;
    bool skipping = false;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(all + pos, '\n', len - pos);
        size_t line_len = nl == NULL ? len - pos : (size_t)(nl - (all + pos)) + 1;
        if (line_len >= 6 && memcmp(all + pos, "table ", 6) == 0) {
            skipping = table_is_left_out(all + pos, line_len);
        }
        if (!skipping) {
            memcpy(out + used, all + pos, line_len);
            used += line_len;
        }
        pos += line_len;
    }
    out[used] = '\0';
    free(all);
    return out;
}

static size_t line_end(const char *s, size_t from)
{
    const char *nl = strchr(s + from, '\n');
    return nl == NULL ? strlen(s) : (size_t)(nl - s);
}

void invfix_assert_text_equal(const char *a, const char *b)
{
    if (strcmp(a, b) == 0) {
        return;
    }
    size_t i = 0;
    size_t start = 0;
    while (a[i] != '\0' && a[i] == b[i]) {
        if (a[i] == '\n') {
            start = i + 1;
        }
        i++;
    }
    size_t end_a = line_end(a, start);
    size_t end_b = line_end(b, start);
    print_error("dumps differ at byte %zu:\n  < %.*s\n  > %.*s\n", i, (int)(end_a - start),
                a + start, (int)(end_b - start), b + start);
    fail_msg("dumps differ");
}

void invfix_assert_twin_equal(struct invfix *f)
{
    assert_non_null(f->twin);
    char *a = invfix_dump(f->inv);
    char *b = invfix_dump(f->twin);
    invfix_assert_text_equal(a, b);
    free(a);
    free(b);
}

void invfix_assert_twin_state_equal(struct invfix *f)
{
    assert_non_null(f->twin);
    assert_int_equal(inv_applied_index(f->inv), inv_applied_index(f->twin));
    assert_int_equal(inv_now(f->inv), inv_now(f->twin));
    char *a = invfix_dump_state(f->inv);
    char *b = invfix_dump_state(f->twin);
    invfix_assert_text_equal(a, b);
    free(a);
    free(b);
}

void invfix_check(struct inv *inv)
{
    char errmsg[USHER_ERRMSG_MAX] = { 0 };
    int rc = inv_check(inv, errmsg);
    if (rc != 0) {
        print_error("inv_check: %s: %s\n", err_name(rc), errmsg);
    }
    assert_int_equal(rc, 0);
}

void invfix_twin_reopen(struct invfix *f)
{
    assert_non_null(f->twin);
    inv_close(f->twin);
    f->twin = NULL;
    struct inv_options opts = { .map_bytes = INVFIX_MAP_BYTES,
                                .idem_window_ms = 0,
                                .durable = false };
    char errmsg[USHER_ERRMSG_MAX] = { 0 };
    int rc = inv_open(f->twin_dir, &opts, &f->twin, errmsg);
    if (rc != 0) {
        print_error("inv_open %s again: %s (%s)\n", f->twin_dir, err_name(rc), errmsg);
    }
    assert_int_equal(rc, 0);
}

/* ---- Random workload ---- */

/* Customers and client ids the generator uses. */
#define GEN_CUSTOMERS 10u
#define GEN_CLIENTS   3u
#define GEN_HOUR      3600000ull

bool invfix_seed_env(uint64_t *seed)
{
    const char *s = getenv("USHER_SEED");
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    char *end = NULL;
    *seed = strtoull(s, &end, 0);
    assert_true(end != NULL && *end == '\0');
    return true;
}

struct invfix_gen *invfix_gen_create(uint64_t seed)
{
    struct invfix_gen *g = calloc(1, sizeof *g);
    assert_non_null(g);
    g->rng = seed;
    g->ts = INVFIX_T0;
    return g;
}

void invfix_gen_destroy(struct invfix_gen *g)
{
    if (g == NULL) {
        return;
    }
    for (uint32_t i = 0; i < g->owned_count; i++) {
        event_destroy(g->owned[i]);
    }
    free(g);
}

uint64_t invfix_gen_next(struct invfix_gen *g)
{
    g->rng += 0x9E3779B97F4A7C15ull;
    uint64_t z = g->rng;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Returns a number in [0, n). */
static uint32_t gen_below(struct invfix_gen *g, uint32_t n)
{
    return (uint32_t)(invfix_gen_next(g) % n);
}

/* Returns a number in [lo, hi]. */
static uint64_t gen_range(struct invfix_gen *g, uint64_t lo, uint64_t hi)
{
    return lo + invfix_gen_next(g) % (hi - lo + 1);
}

/* Remembers an event the generator is about to create. */
static void gen_event_note(struct invfix_gen *g, const struct event *e)
{
    for (uint32_t i = 0; i < g->event_count; i++) {
        if (g->events[i].id == e->id) {
            return;
        }
    }
    if (g->event_count == INVFIX_GEN_EVENTS) {
        return;
    }
    struct invfix_gen_event *ge = &g->events[g->event_count++];
    ge->id = e->id;
    ge->seat_count = e->seat_count;
    ge->section_count = e->section_count;
    ge->ttl_min_ms = e->hold_ttl_min_ms != 0 ? e->hold_ttl_min_ms : INVFIX_TTL_MIN;
    ge->ttl_max_ms = e->hold_ttl_max_ms != 0 ? e->hold_ttl_max_ms : INVFIX_TTL_MAX;
}

/* Adds a create command for e (owned by the batch until learn). */
static struct cmd gen_create(struct invfix_gen *g, struct invfix *f, struct event *e)
{
    assert_true(g->owned_count < INVFIX_GEN_BATCH_MAX);
    g->owned[g->owned_count++] = e;
    gen_event_note(g, e);
    return invfix_cmd_create(f, e);
}

/* The three base events: seated + GA; two seated sections with tight
 * limits and short TTLs; GA + seated with a sale window. */
static uint32_t gen_base_events(struct invfix_gen *g, struct invfix *f, struct cmd *cmds)
{
    struct invfix_section s1[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 4, .row_seats = 12 },
        { .kind = EVENT_SECTION_GA, .ga_capacity = 30 },
    };
    struct invfix_section s2[2] = {
        { .kind = EVENT_SECTION_SEATED, .row_count = 3, .row_seats = 8 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 5 },
    };
    struct invfix_section s3[2] = {
        { .kind = EVENT_SECTION_GA, .ga_capacity = 10 },
        { .kind = EVENT_SECTION_SEATED, .row_count = 2, .row_seats = 6 },
    };
    struct event *e2 = invfix_event_make(2, s2, 2);
    e2->hold_seats_max = 6;
    e2->customer_seats_max = 8;
    e2->hold_ttl_min_ms = 5000;
    e2->hold_ttl_max_ms = 120000;
    e2->hold_lifetime_max_ms = 300000;
    struct event *e3 = invfix_event_make(3, s3, 2);
    e3->sale_start_ms = INVFIX_T0 + 200000;
    e3->sale_end_ms = INVFIX_T0 + 20000000;
    cmds[0] = gen_create(g, f, invfix_event_make(1, s1, 2));
    cmds[1] = gen_create(g, f, e2);
    cmds[2] = gen_create(g, f, e3);
    return 3;
}

static void gen_time_step(struct invfix_gen *g)
{
    uint32_t roll = gen_below(g, 100);
    if (roll < 70) {
        g->ts += gen_range(g, 0, 20000);
    } else if (roll < 80) {
        g->ts -= gen_range(g, 0, 30000); /* the time rule keeps the previous now */
    } else if (roll < 95) {
        g->ts += gen_range(g, 20000, 400000);
    } else if (roll < 99) {
        g->ts += gen_range(g, 400000, 2000000);
    } else {
        g->ts += 25 * GEN_HOUR; /* past the idempotency window */
    }
}

static const struct invfix_gen_event *gen_pick_event(struct invfix_gen *g)
{
    return &g->events[gen_below(g, g->event_count)];
}

static uint32_t gen_ttl(struct invfix_gen *g, const struct invfix_gen_event *e)
{
    uint32_t roll = gen_below(g, 20);
    if (roll == 0) {
        return 0;
    }
    if (roll == 1) {
        return e->ttl_min_ms - 1;
    }
    if (roll == 2) {
        return e->ttl_max_ms + 1;
    }
    return (uint32_t)gen_range(g, e->ttl_min_ms, e->ttl_max_ms);
}

static uint64_t gen_customer(struct invfix_gen *g)
{
    return 1 + gen_below(g, GEN_CUSTOMERS);
}

static struct cmd gen_hold_seats(struct invfix_gen *g, struct invfix *f)
{
    const struct invfix_gen_event *e = gen_pick_event(g);
    uint32_t seats[8];
    uint16_t n = (uint16_t)(1 + gen_below(g, gen_below(g, 8) == 0 ? 8 : 3));
    uint32_t base = gen_below(g, e->seat_count + 1);
    for (uint16_t i = 0; i < n; i++) {
        seats[i] = gen_below(g, 6) == 0 ? gen_below(g, e->seat_count + 1) : base + i;
    }
    return invfix_cmd_hold_seats(f, e->id, gen_customer(g), gen_ttl(g, e), seats, n);
}

static struct cmd gen_hold_count(struct invfix_gen *g, struct invfix *f, bool ga)
{
    const struct invfix_gen_event *e = gen_pick_event(g);
    uint16_t section = (uint16_t)gen_below(g, e->section_count + (gen_below(g, 10) == 0));
    uint16_t count = (uint16_t)(1 + gen_below(g, gen_below(g, 6) == 0 ? 12 : 4));
    if (ga) {
        return invfix_cmd_hold_ga(f, e->id, gen_customer(g), gen_ttl(g, e), section, count);
    }
    return invfix_cmd_hold_best(f, e->id, gen_customer(g), gen_ttl(g, e), section, count);
}

/* Picks a remembered hold or booking, mostly a recent one. */
static struct invfix_gen_ref gen_pick_ref(struct invfix_gen *g, const struct invfix_gen_ref *ring,
                                          uint32_t total)
{
    struct invfix_gen_ref none = { .id = 1, .event_id = 1, .customer_id = 1 };
    if (total == 0) {
        return none;
    }
    uint32_t kept = total < INVFIX_GEN_IDS ? total : INVFIX_GEN_IDS;
    uint32_t back = gen_below(g, 2) == 0 ? gen_below(g, kept < 16 ? kept : 16) : gen_below(g, kept);
    struct invfix_gen_ref r = ring[(total - 1 - back) % INVFIX_GEN_IDS];
    if (gen_below(g, 10) == 0) {
        r.customer_id = gen_customer(g); /* often another customer */
    }
    if (gen_below(g, 25) == 0) {
        r.event_id = gen_pick_event(g)->id;
    }
    return r;
}

static struct cmd gen_on_hold(struct invfix_gen *g, struct invfix *f, uint32_t roll)
{
    struct invfix_gen_ref h = gen_pick_ref(g, g->holds, g->hold_count);
    if (roll < 10) {
        uint32_t ttl = (uint32_t)gen_range(g, 0, 700000);
        return invfix_cmd_extend(f, h.event_id, h.customer_id, h.id, ttl);
    }
    if (roll < 20) {
        return invfix_cmd_release(f, h.event_id, h.customer_id, h.id);
    }
    return invfix_cmd_book(f, h.event_id, h.customer_id, h.id, "gen-pay");
}

static struct cmd gen_replay(struct invfix_gen *g, struct invfix *f, bool reuse)
{
    if (g->past_count == 0) {
        return invfix_cmd_sweep(1);
    }
    uint32_t kept = g->past_count < INVFIX_GEN_PAST ? g->past_count : INVFIX_GEN_PAST;
    struct cmd c = g->past[gen_below(g, kept)];
    (void)f;
    if (reuse) {
        c.customer_id += 1; /* same key, another payload */
        invfix_cmd_seal(&c);
    }
    return c;
}

static struct cmd gen_odd(struct invfix_gen *g, struct invfix *f)
{
    uint32_t roll = gen_below(g, 4);
    if (roll == 0) {
        return invfix_cmd_hold_best(f, 999, gen_customer(g), 0, 0, 1);
    }
    if (roll == 1) {
        uint64_t id = invfix_gen_next(g) >> 8;
        return invfix_cmd_release(f, gen_pick_event(g)->id, gen_customer(g), id);
    }
    if (roll == 2) {
        return invfix_cmd_cancel(f, gen_pick_event(g)->id, gen_customer(g), 77);
    }
    uint64_t id = 10 + gen_below(g, 30);
    return gen_create(g, f, invfix_event_seated(id, 1 + gen_below(g, 2), 4));
}

static struct cmd gen_one(struct invfix_gen *g, struct invfix *f)
{
    f->client_id = INVFIX_CLIENT_ID + gen_below(g, GEN_CLIENTS);
    uint32_t roll = gen_below(g, 100);
    if (roll < 22) {
        return gen_hold_seats(g, f);
    }
    if (roll < 42) {
        return gen_hold_count(g, f, roll >= 34);
    }
    if (roll < 74) {
        return gen_on_hold(g, f, roll - 42);
    }
    if (roll < 80) {
        struct invfix_gen_ref b = gen_pick_ref(g, g->bookings, g->booking_count);
        return invfix_cmd_cancel(f, b.event_id, b.customer_id, b.id);
    }
    if (roll < 86) {
        return invfix_cmd_sweep(1 + gen_below(g, 40));
    }
    if (roll < 96) {
        return gen_replay(g, f, roll >= 93);
    }
    return gen_odd(g, f);
}

uint32_t invfix_gen_batch(struct invfix_gen *g, struct invfix *f, struct cmd *cmds, uint64_t *ts)
{
    g->owned_count = 0;
    g->batches++;
    if (g->batches == 1) {
        *ts = g->ts;
        return gen_base_events(g, f, cmds);
    }
    gen_time_step(g);
    uint32_t n = gen_below(g, 8) == 0 ? 0 : 1 + gen_below(g, INVFIX_GEN_BATCH_MAX);
    for (uint32_t i = 0; i < n; i++) {
        cmds[i] = gen_one(g, f);
    }
    *ts = g->ts;
    return n;
}

static void gen_ring_add(struct invfix_gen_ref *ring, uint32_t *total, uint64_t id,
                         const struct cmd *c)
{
    struct invfix_gen_ref r = { .id = id, .event_id = c->event_id, .customer_id = c->customer_id };
    ring[*total % INVFIX_GEN_IDS] = r;
    (*total)++;
}

static void gen_count(struct invfix_gen_stats *st, const struct cmd_result *r)
{
    st->commands++;
    if (r->replayed) {
        st->replayed++;
    } else if (r->status == USHER_OK) {
        st->ok_by_type[r->type <= CMD_TYPE_MAX ? r->type : 0]++;
    } else {
        st->refused++;
    }
    st->expired_refusals += r->status == USHER_HOLD_EXPIRED;
    st->key_reused += r->status == USHER_IDEM_KEY_REUSED;
    if (r->type == CMD_SWEEP) {
        st->swept += r->swept;
    }
}

void invfix_gen_learn(struct invfix_gen *g, const struct cmd *cmds,
                      const struct cmd_result *results, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        const struct cmd *c = &cmds[i];
        const struct cmd_result *r = &results[i];
        gen_count(&g->stats, r);
        bool created = r->status == USHER_OK && r->replayed == 0;
        if (created &&
            (c->type == CMD_HOLD_SEATS || c->type == CMD_HOLD_BEST || c->type == CMD_HOLD_GA)) {
            gen_ring_add(g->holds, &g->hold_count, r->id, c);
        }
        if (created && c->type == CMD_HOLD_BOOK) {
            gen_ring_add(g->bookings, &g->booking_count, r->id, c);
        }
        if (c->type != CMD_SWEEP && c->type != CMD_EVENT_CREATE) {
            g->past[g->past_count % INVFIX_GEN_PAST] = *c;
            g->past_count++;
        }
    }
    for (uint32_t i = 0; i < g->owned_count; i++) {
        event_destroy(g->owned[i]);
    }
    g->owned_count = 0;
}

void invfix_gen_run(struct invfix_gen *g, struct invfix *f, uint32_t batches, bool check)
{
    struct cmd cmds[INVFIX_GEN_BATCH_MAX];
    struct cmd_result results[INVFIX_GEN_BATCH_MAX];
    for (uint32_t b = 0; b < batches; b++) {
        uint64_t ts = 0;
        uint32_t n = invfix_gen_batch(g, f, cmds, &ts);
        invfix_apply(f, ts, cmds, n, results);
        if (check) {
            invfix_check(f->inv);
        }
        invfix_gen_learn(g, cmds, results, n);
    }
}
