/*
 * Event description format (codec.h, docs/CODEC.md "Event description").
 *
 *   u64 id | u8 name_len | name | u64 sale_start_ms | u64 sale_end_ms |
 *   u32 hold_ttl_min_ms | u32 hold_ttl_max_ms | u32 hold_lifetime_max_ms |
 *   u16 hold_seats_max | u16 customer_seats_max | u16 section_count |
 *   section_count x section
 *
 *   section: u8 label_len | label | u8 kind |
 *            SEATED: u16 row_count | row_count x (u8 label_len | label |
 *                                                 u16 seat_count | u16 number_first)
 *            GA:     u32 ga_capacity
 *
 * The decoder works in two passes over the bytes. The first reads and checks
 * every length, count and limit without allocating, and counts the sections
 * and rows; the second allocates exactly that with event_create() and fills
 * it. Both passes run the same walker, so they cannot disagree. Limits are
 * checked as soon as their field is read (STYLE.md 7.2), so the code returned
 * is that of the first problem in reading order.
 *
 * Only structure and the hard ceilings are the decoder's business; the rules
 * of a valid event (non-empty unique labels, TTL bounds, ...) are checked at
 * apply by event_validate().
 */
#include "codec.h"

#include <assert.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"
#include "event.h"

/* The limits as sizes: they are compared with in-memory lengths. */
#define CMD_BYTES_MAX ((size_t)USHER_CMD_BYTES_MAX)

/* Fixed part of a description: id, name_len, the two sale stamps, three TTLs,
 * two seat limits and section_count. */
#define EVENT_HEAD_BYTES        (8u + 1u + 8u + 8u + 4u + 4u + 4u + 2u + 2u + 2u)
#define EVENT_SECTION_BYTES_MAX (1u + USHER_LABEL_LEN_MAX + 1u + 4u)
#define EVENT_ROW_BYTES_MAX     (1u + USHER_LABEL_LEN_MAX + 2u + 2u)
#define EVENT_BYTES_MAX                                                                           \
    (EVENT_HEAD_BYTES + USHER_NAME_LEN_MAX + USHER_EVENT_SECTIONS_MAX * EVENT_SECTION_BYTES_MAX + \
     USHER_EVENT_ROWS_MAX * EVENT_ROW_BYTES_MAX)

/* An event the encoder accepts always fits in an event-create command, so a
 * valid event is never refused for its size. */
static_assert(EVENT_BYTES_MAX + CODEC_CMD_HEADER_BYTES <= USHER_CMD_BYTES_MAX,
              "largest event fits a command");
static_assert(USHER_EVENT_SECTIONS_MAX <= UINT16_MAX, "section_count is a u16");
static_assert(USHER_EVENT_ROWS_MAX <= UINT16_MAX, "a section's row_count is a u16");

/* What the first pass learns: the counts to allocate. */
struct event_scan {
    uint32_t section_count;
    uint32_t row_count;
    uint32_t seat_count;
};

/* ---- Decoding ---- */

/*
 * Reads u8 len | len bytes, checks len <= max and that no byte is NUL, and
 * copies the text NUL-terminated into out (room for max + 1) unless out is
 * NULL. Returns 0, BAD_REQUEST (short or NUL inside) or LIMIT_LABEL_LEN.
 */
static int read_text(struct buf_reader *r, size_t max, char *out)
{
    uint8_t len = buf_read_u8(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (len > max) {
        return USHER_LIMIT_LABEL_LEN;
    }
    const uint8_t *text = buf_read_bytes(r, len);
    if (text == NULL) {
        return USHER_BAD_REQUEST;
    }
    if (len > 0 && memchr(text, 0, len) != NULL) {
        return USHER_BAD_REQUEST;
    }
    if (out != NULL) {
        memcpy(out, text, len);
        out[len] = '\0';
    }
    return 0;
}

/* Reads the fixed head into e (the name too); e->section_count gets the
 * count read, checked against the limit. */
static int read_head(struct buf_reader *r, struct event *e)
{
    e->id = buf_read_u64(r);
    int rc = read_text(r, USHER_NAME_LEN_MAX, e->name);
    if (rc != 0) {
        return rc;
    }
    e->sale_start_ms = buf_read_u64(r);
    e->sale_end_ms = buf_read_u64(r);
    e->hold_ttl_min_ms = buf_read_u32(r);
    e->hold_ttl_max_ms = buf_read_u32(r);
    e->hold_lifetime_max_ms = buf_read_u32(r);
    e->hold_seats_max = buf_read_u16(r);
    e->customer_seats_max = buf_read_u16(r);
    e->section_count = buf_read_u16(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (e->section_count > USHER_EVENT_SECTIONS_MAX) {
        return USHER_LIMIT_EVENT_SECTIONS;
    }
    return 0;
}

/* Reads the rows of one seated section; fills rows (room for row_count)
 * unless NULL. Adds the seats to scan->seat_count. */
static int read_rows(struct buf_reader *r, uint16_t row_count, struct event_row *rows,
                     struct event_scan *scan)
{
    for (uint32_t j = 0; j < row_count; j++) {
        struct event_row *row = rows == NULL ? NULL : &rows[j];
        int rc = read_text(r, USHER_LABEL_LEN_MAX, row == NULL ? NULL : row->label);
        if (rc != 0) {
            return rc;
        }
        uint16_t seat_count = buf_read_u16(r);
        uint16_t number_first = buf_read_u16(r);
        if (!r->ok) {
            return USHER_BAD_REQUEST;
        }
        if (seat_count > USHER_ROW_SEATS_MAX) {
            return USHER_LIMIT_ROW_SEATS;
        }
        scan->seat_count += seat_count;
        if (scan->seat_count > USHER_EVENT_SEATS_MAX) {
            return USHER_LIMIT_EVENT_SEATS;
        }
        if (row != NULL) {
            row->seat_count = seat_count;
            row->number_first = number_first;
        }
    }
    return 0;
}

/* Where pass two puts the rows of the section being read: NULL in pass one. */
struct row_sink {
    struct event_row *rows;
    uint32_t room;
};

/* Reads the body of a seated section after its kind byte into sec. */
static int read_seated(struct buf_reader *r, struct event_section *sec, const struct row_sink *sink,
                       struct event_scan *scan)
{
    uint16_t row_count = buf_read_u16(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (row_count > USHER_EVENT_ROWS_MAX - scan->row_count) {
        return USHER_LIMIT_EVENT_ROWS;
    }
    ERGO(sink->rows != NULL, row_count <= sink->room); /* pass one counted them */
    sec->row_count = row_count;
    scan->row_count += row_count;
    return read_rows(r, row_count, sink->rows, scan);
}

/* Reads one section into sec, and its rows into the sink. */
static int read_section(struct buf_reader *r, struct event_section *sec,
                        const struct row_sink *sink, struct event_scan *scan)
{
    int rc = read_text(r, USHER_LABEL_LEN_MAX, sec->label);
    if (rc != 0) {
        return rc;
    }
    sec->kind = buf_read_u8(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (sec->kind == EVENT_SECTION_SEATED) {
        return read_seated(r, sec, sink, scan);
    }
    if (sec->kind != EVENT_SECTION_GA) {
        return USHER_BAD_REQUEST;
    }
    sec->ga_capacity = buf_read_u32(r);
    if (!r->ok) {
        return USHER_BAD_REQUEST;
    }
    if (sec->ga_capacity > USHER_GA_CAPACITY_MAX) {
        return USHER_LIMIT_GA_CAPACITY;
    }
    return 0;
}

/*
 * Walks section_count sections and checks that nothing follows. With e NULL
 * it only checks and counts (pass one); otherwise it fills e (pass two).
 */
static int read_sections(struct buf_reader *r, uint32_t section_count, struct event *e,
                         struct event_scan *scan)
{
    ASSERT(section_count <= USHER_EVENT_SECTIONS_MAX);
    ERGO(e != NULL, e->section_count == section_count);
    memset(scan, 0, sizeof(*scan));
    for (uint32_t s = 0; s < section_count; s++) {
        struct event_section sec;
        memset(&sec, 0, sizeof(sec));
        struct row_sink sink = { .rows = NULL, .room = 0 };
        if (e != NULL) {
            sink.rows = e->rows + scan->row_count;
            sink.room = e->row_count - scan->row_count;
        }
        int rc = read_section(r, &sec, &sink, scan);
        if (rc != 0) {
            return rc;
        }
        if (e != NULL) {
            e->sections[s] = sec;
        }
    }
    scan->section_count = section_count;
    if (buf_reader_left(r) != 0) {
        return USHER_BAD_REQUEST;
    }
    return 0;
}

/* Copies the head fields read in pass one into the allocated event. */
static void copy_head(struct event *e, const struct event *head)
{
    e->id = head->id;
    memcpy(e->name, head->name, sizeof(e->name));
    e->sale_start_ms = head->sale_start_ms;
    e->sale_end_ms = head->sale_end_ms;
    e->hold_ttl_min_ms = head->hold_ttl_min_ms;
    e->hold_ttl_max_ms = head->hold_ttl_max_ms;
    e->hold_lifetime_max_ms = head->hold_lifetime_max_ms;
    e->hold_seats_max = head->hold_seats_max;
    e->customer_seats_max = head->customer_seats_max;
}

int codec_event_decode(const uint8_t *buf, size_t len, struct event **out)
{
    ASSERT(out != NULL);
    if (len > CMD_BYTES_MAX) {
        return USHER_LIMIT_MSG_SIZE;
    }
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    struct event head;
    memset(&head, 0, sizeof(head));
    int rc = read_head(&r, &head);
    if (rc != 0) {
        return rc;
    }
    size_t sections_pos = r.pos;
    struct event_scan scan;
    rc = read_sections(&r, head.section_count, NULL, &scan);
    if (rc != 0) {
        return rc;
    }
    struct event *e = event_create(scan.section_count, scan.row_count);
    if (e == NULL) {
        return USHER_NOMEM;
    }
    copy_head(e, &head);
    struct event_scan fill;
    buf_reader_init(&r, buf + sections_pos, len - sections_pos);
    rc = read_sections(&r, head.section_count, e, &fill);
    ASSERT(rc == 0); /* pass one accepted these very bytes */
    ASSERT(fill.row_count == scan.row_count);
    rc = event_layout(e);
    if (rc != 0) {
        event_destroy(e);
        return rc;
    }
    ASSERT(e->seat_count == scan.seat_count);
    *out = e;
    return 0;
}

/* ---- Encoding ---- */

/* Returns the length of a NUL-terminated text of at most max bytes held in an
 * array of max + 1, or -1 when the array holds no terminator or a NUL-free
 * text longer than max. */
static int text_len(const char *text, size_t max)
{
    size_t len = strnlen(text, max + 1);
    if (len > max) {
        return -1;
    }
    return (int)len;
}

/* Checks that a seated section's rows can be encoded; *row_next advances. */
static int check_rows(const struct event *e, const struct event_section *sec, uint32_t *row_next,
                      uint32_t *seats)
{
    if (sec->ga_capacity != 0 || sec->row_count > e->row_count - *row_next) {
        return USHER_INVALID;
    }
    for (uint32_t j = 0; j < sec->row_count; j++) {
        const struct event_row *row = &e->rows[*row_next + j];
        if (text_len(row->label, USHER_LABEL_LEN_MAX) < 0 ||
            row->seat_count > USHER_ROW_SEATS_MAX) {
            return USHER_INVALID;
        }
        *seats += row->seat_count;
        if (*seats > USHER_EVENT_SEATS_MAX) {
            return USHER_INVALID;
        }
    }
    *row_next += sec->row_count;
    return 0;
}

/*
 * Returns 0 when the decoder would accept the encoding of e, else INVALID:
 * texts terminated and in bounds, counts and capacities within the limits,
 * GA sections without rows, and section row counts adding up to e->row_count.
 */
static int check_encodable(const struct event *e)
{
    if (text_len(e->name, USHER_NAME_LEN_MAX) < 0 || e->section_count > USHER_EVENT_SECTIONS_MAX ||
        e->row_count > USHER_EVENT_ROWS_MAX) {
        return USHER_INVALID;
    }
    uint32_t row_next = 0;
    uint32_t seats = 0;
    for (uint32_t s = 0; s < e->section_count; s++) {
        const struct event_section *sec = &e->sections[s];
        if (text_len(sec->label, USHER_LABEL_LEN_MAX) < 0) {
            return USHER_INVALID;
        }
        if (sec->kind == EVENT_SECTION_GA) {
            if (sec->row_count != 0 || sec->ga_capacity > USHER_GA_CAPACITY_MAX) {
                return USHER_INVALID;
            }
            continue;
        }
        if (sec->kind != EVENT_SECTION_SEATED) {
            return USHER_INVALID;
        }
        int rc = check_rows(e, sec, &row_next, &seats);
        if (rc != 0) {
            return rc;
        }
    }
    if (row_next != e->row_count) {
        return USHER_INVALID;
    }
    return 0;
}

static void write_text(struct buf_writer *w, const char *text, size_t max)
{
    int len = text_len(text, max);
    ASSERT(len >= 0); /* check_encodable() passed */
    buf_write_u8(w, (uint8_t)len);
    buf_write_bytes(w, text, (size_t)len);
}

static void write_sections(struct buf_writer *w, const struct event *e)
{
    uint32_t row_next = 0;
    for (uint32_t s = 0; s < e->section_count; s++) {
        const struct event_section *sec = &e->sections[s];
        write_text(w, sec->label, USHER_LABEL_LEN_MAX);
        buf_write_u8(w, sec->kind);
        if (sec->kind == EVENT_SECTION_GA) {
            buf_write_u32(w, sec->ga_capacity);
            continue;
        }
        ASSERT(sec->row_count <= UINT16_MAX);
        buf_write_u16(w, (uint16_t)sec->row_count);
        for (uint32_t j = 0; j < sec->row_count; j++) {
            const struct event_row *row = &e->rows[row_next + j];
            write_text(w, row->label, USHER_LABEL_LEN_MAX);
            buf_write_u16(w, row->seat_count);
            buf_write_u16(w, row->number_first);
        }
        row_next += sec->row_count;
    }
    ASSERT(row_next == e->row_count);
}

int codec_event_encode(const struct event *e, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(e != NULL);
    ASSERT(len != NULL);
    int rc = check_encodable(e);
    if (rc != 0) {
        return rc;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, e->id);
    write_text(&w, e->name, USHER_NAME_LEN_MAX);
    buf_write_u64(&w, e->sale_start_ms);
    buf_write_u64(&w, e->sale_end_ms);
    buf_write_u32(&w, e->hold_ttl_min_ms);
    buf_write_u32(&w, e->hold_ttl_max_ms);
    buf_write_u32(&w, e->hold_lifetime_max_ms);
    buf_write_u16(&w, e->hold_seats_max);
    buf_write_u16(&w, e->customer_seats_max);
    buf_write_u16(&w, (uint16_t)e->section_count);
    write_sections(&w, e);
    if (!w.ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(w.pos <= (size_t)EVENT_BYTES_MAX);
    *len = w.pos;
    return 0;
}
