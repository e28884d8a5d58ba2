/*
 * Writes the seed corpus of the fuzz targets: a handful of valid inputs per
 * decoder, made with the encoders so they follow the format exactly.
 *
 *   gen_corpus DIR    writes DIR/{cmd,batch,event,result}/<name> (the
 *                     directories must exist)
 *
 * Run it after a format change and commit its output under
 * tests/fuzz/corpus/. Build (from the top of the tree):
 *   gcc -std=c11 -D_GNU_SOURCE -Isrc tests/fuzz/gen_corpus.c src/buf.c src/event.c \
 *       src/codec_*.c src/err.c src/mem.c src/assertion.c -lxxhash -o /tmp/gen_corpus
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "codec.h"
#include "event.h"
#include "limits.h"

#define OUT_BYTES_MAX ((size_t)USHER_BATCH_BYTES_MAX)

static void put_text(char *dst, size_t cap, const char *src)
{
    int n = snprintf(dst, cap, "%s", src);
    ASSERT(n >= 0);
    ASSERT((size_t)n < cap);
}

static void write_file(const char *dir, const char *kind, const char *name, const uint8_t *buf,
                       size_t len)
{
    char path[4096];
    int n = snprintf(path, sizeof(path), "%s/%s/%s", dir, kind, name);
    ASSERT(n > 0);
    ASSERT((size_t)n < sizeof(path));
    FILE *f = fopen(path, "wb");
    if (f == NULL) {
        perror(path);
        exit(1);
    }
    if (fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* A GA floor and two seated sections; rows_per_section rows of 20 seats. */
static struct event *make_event(uint64_t id, uint32_t rows_per_section)
{
    struct event *e = event_create(3, 2 * rows_per_section);
    ASSERT(e != NULL);
    e->id = id;
    put_text(e->name, sizeof(e->name), "Arena night");
    e->sale_start_ms = 1700000000000ull;
    e->hold_ttl_max_ms = 600000;
    put_text(e->sections[0].label, sizeof(e->sections[0].label), "FLOOR");
    e->sections[0].kind = EVENT_SECTION_GA;
    e->sections[0].ga_capacity = 2000;
    for (uint32_t s = 1; s <= 2; s++) {
        struct event_section *sec = &e->sections[s];
        put_text(sec->label, sizeof(sec->label), s == 1 ? "LOWER" : "UPPER");
        sec->kind = EVENT_SECTION_SEATED;
        sec->row_count = rows_per_section;
    }
    for (uint32_t i = 0; i < e->row_count; i++) {
        struct event_row *row = &e->rows[i];
        int n = snprintf(row->label, sizeof(row->label), "R%u", i % rows_per_section);
        ASSERT(n > 0);
        row->seat_count = 20;
        row->number_first = 1;
    }
    ASSERT(event_layout(e) == 0);
    return e;
}

/* One command of each type; create gets the given event (borrowed). */
static struct cmd make_cmd(uint8_t type, struct event *e)
{
    struct cmd c;
    memset(&c, 0, sizeof(c));
    c.type = type;
    if (type != CMD_SWEEP) {
        c.client_id = 11;
        c.idem_key = 100u + type;
        c.event_id = e->id;
        c.customer_id = type == CMD_EVENT_CREATE ? 0 : 501;
    }
    switch ((enum cmd_type)type) {
    case CMD_EVENT_CREATE:
        c.u.create.event = e;
        break;
    case CMD_HOLD_SEATS:
        c.u.hold_seats.ttl_ms = 120000;
        c.u.hold_seats.seat_count = 4;
        for (uint32_t i = 0; i < 4; i++) {
            c.u.hold_seats.seats[i] = 20 + i;
        }
        break;
    case CMD_HOLD_BEST:
    case CMD_HOLD_GA:
        c.u.hold_count.section = type == CMD_HOLD_GA ? 0 : 1;
        c.u.hold_count.count = 2;
        break;
    case CMD_HOLD_EXTEND:
        c.u.extend.hold_id = (7ull << USHER_ID_SLOT_BITS) | 3;
        c.u.extend.ttl_ms = 300000;
        break;
    case CMD_HOLD_RELEASE:
        c.u.release.hold_id = (7ull << USHER_ID_SLOT_BITS) | 3;
        break;
    case CMD_HOLD_BOOK:
        c.u.book.hold_id = (7ull << USHER_ID_SLOT_BITS) | 3;
        put_text(c.u.book.payment_ref, sizeof(c.u.book.payment_ref), "pi_3NfQ2k");
        break;
    case CMD_BOOKING_CANCEL:
        c.u.cancel.booking_id = (9ull << USHER_ID_SLOT_BITS) | 1;
        break;
    case CMD_SWEEP:
        c.u.sweep.max = USHER_SWEEP_MAX;
        break;
    }
    return c;
}

static const char *const cmd_names[CMD_TYPE_MAX + 1] = {
    [CMD_EVENT_CREATE] = "event_create",
    [CMD_HOLD_SEATS] = "hold_seats",
    [CMD_HOLD_BEST] = "hold_best",
    [CMD_HOLD_GA] = "hold_ga",
    [CMD_HOLD_EXTEND] = "hold_extend",
    [CMD_HOLD_RELEASE] = "hold_release",
    [CMD_HOLD_BOOK] = "hold_book",
    [CMD_BOOKING_CANCEL] = "booking_cancel",
    [CMD_SWEEP] = "sweep",
};

static void gen_cmds_and_batches(const char *dir, uint8_t *buf, struct event *e)
{
    struct cmd cmds[CMD_TYPE_MAX];
    for (uint8_t type = CMD_EVENT_CREATE; type <= CMD_TYPE_MAX; type++) {
        cmds[type - 1] = make_cmd(type, e);
        size_t len = 0;
        ASSERT(codec_cmd_encode(&cmds[type - 1], buf, OUT_BYTES_MAX, &len) == 0);
        write_file(dir, "cmd", cmd_names[type], buf, len);
    }
    size_t len = 0;
    ASSERT(codec_batch_encode(1700000000123ull, cmds, CMD_TYPE_MAX, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "batch", "every_type", buf, len);
    ASSERT(codec_batch_encode(1700000000456ull, NULL, 0, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "batch", "empty", buf, len);
    ASSERT(codec_batch_encode(1700000000789ull, &cmds[CMD_SWEEP - 1], 1, buf, OUT_BYTES_MAX,
                              &len) == 0);
    write_file(dir, "batch", "sweep", buf, len);
    ASSERT(codec_batch_encode(1700000001000ull, &cmds[CMD_HOLD_SEATS - 1], 4, buf, OUT_BYTES_MAX,
                              &len) == 0);
    write_file(dir, "batch", "holds", buf, len);
}

static void gen_events(const char *dir, uint8_t *buf, struct event *small)
{
    size_t len = 0;
    ASSERT(codec_event_encode(small, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "event", "small", buf, len);
    struct event *rows = make_event(2, 40);
    ASSERT(codec_event_encode(rows, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "event", "eighty_rows", buf, len);
    event_destroy(rows);
    struct event *ga = event_create(1, 0);
    ASSERT(ga != NULL);
    ga->id = 3;
    put_text(ga->sections[0].label, sizeof(ga->sections[0].label), "GA");
    ga->sections[0].kind = EVENT_SECTION_GA;
    ga->sections[0].ga_capacity = USHER_GA_CAPACITY_MAX;
    ASSERT(event_layout(ga) == 0);
    ASSERT(codec_event_encode(ga, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "event", "ga_only", buf, len);
    event_destroy(ga);
}

static void gen_results(const char *dir, uint8_t *buf)
{
    struct cmd_result r;
    memset(&r, 0, sizeof(r));
    r.type = CMD_HOLD_SEATS;
    r.id = (7ull << USHER_ID_SLOT_BITS) | 3;
    r.expires_at_ms = 1700000120000ull;
    r.seat_count = 4;
    for (uint32_t i = 0; i < 4; i++) {
        r.seats[i] = 20 + i;
    }
    size_t len = 0;
    ASSERT(codec_result_encode(&r, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "result", "hold_ok", buf, len);
    memset(&r, 0, sizeof(r));
    r.type = CMD_HOLD_SEATS;
    r.status = USHER_SEAT_TAKEN;
    ASSERT(codec_result_encode(&r, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "result", "seat_taken", buf, len);
    memset(&r, 0, sizeof(r));
    r.type = CMD_SWEEP;
    r.swept = USHER_SWEEP_MAX;
    r.more = 1;
    ASSERT(codec_result_encode(&r, buf, OUT_BYTES_MAX, &len) == 0);
    write_file(dir, "result", "sweep_more", buf, len);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        (void)fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    uint8_t *buf = malloc(OUT_BYTES_MAX);
    ASSERT(buf != NULL);
    struct event *e = make_event(1, 3);
    gen_cmds_and_batches(argv[1], buf, e);
    gen_events(argv[1], buf, e);
    gen_results(argv[1], buf);
    event_destroy(e);
    free(buf);
    return 0;
}
