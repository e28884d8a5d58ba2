/*
 * Reply payloads of the wire protocol (proto.h, docs/PROTOCOL.md "Replies").
 * Their layout belongs to the frame version (PROTO_VERSION): the payloads
 * carry no version of their own. Little-endian, no padding; a text is
 * u8 len | len bytes (no NUL inside, no terminator).
 *
 * Availability (24 + 2 + 16 * sections + 4 + ceil(seats / 8) bytes)
 *   u64 event_id (!= 0) | u64 applied_index | u64 now_ms |
 *   u16 section_count (<= USHER_EVENT_SECTIONS_MAX) |
 *   section_count x (u32 free | u32 held | u32 booked | u32 capacity) |
 *   u32 seat_count (<= USHER_EVENT_SEATS_MAX) |
 *   ceil(seat_count / 8) bytes free bitmap (seat i: byte i / 8, bit i % 8;
 *   the bits past seat_count are 0)
 *
 * Hold (62 + 4 * seats bytes)
 *   u64 id | u64 event_id | u64 customer_id (all != 0) | u8 state (1 .. 4) |
 *   u8 ga (0, 1) | u16 section (0 unless ga) | u16 seat_count (1 .. 64) |
 *   u64 created_at_ms | u64 expires_at_ms | u64 ended_at_ms |
 *   u64 booking_id (!= 0 exactly when state is BOOKED) |
 *   seat_count x u32 seat (seated holds only; none when ga)
 *
 * Booking (55 + ref_len + 4 * seats bytes)
 *   u64 id | u64 event_id | u64 customer_id | u64 hold_id (all != 0) |
 *   u8 state (1, 2) | u8 ga | u16 section (0 unless ga) | u16 seat_count (1 .. 64) |
 *   u64 booked_at_ms | u64 cancelled_at_ms | text payment_ref (<= 63) |
 *   seat_count x u32 seat (seated bookings only)
 *
 * Customer items (3 + 19 * count bytes)
 *   u16 count (<= USHER_CUSTOMER_ITEMS_MAX) | u8 more (0, 1) |
 *   count x (u8 is_booking (0, 1) | u64 id (!= 0) | u16 seat_count | u64 expires_at_ms)
 *
 * Seat history (3 + 25 * count bytes)
 *   u16 count (<= USHER_HISTORY_MAX) | u8 more (0, 1) |
 *   count x (u8 kind (1 .. 5) | u64 at_ms | u64 id | u64 customer_id)
 *
 * Node status (23 + version_len + 41 * listed bytes)
 *   u64 node_id | u64 cluster_id | u32 shard_count | text version (<= 15) |
 *   u16 listed (<= PROTO_STATUS_SHARDS_MAX and <= shard_count) |
 *   listed x (u32 shard (< shard_count) | u8 role (0 .. 3) | u64 term |
 *             u64 commit_index | u64 applied_index | u64 leader_id | u32 events)
 *
 * Event list: u32 n (<= PROTO_EVENT_LIST_MAX) | n x u64 event id (!= 0, ascending)
 *
 * Errors, by status: NOT_LEADER text address (<= PROTO_ADDR_LEN_MAX);
 * BUSY u32 retry_after_ms; any other text message (<= PROTO_MESSAGE_LEN_MAX).
 *
 * Every decoder reads its input twice: once to check it, writing nothing,
 * then, when it is whole and valid, into the caller's struct (zeroed first,
 * so unused array entries are 0). A refused input leaves the output as it
 * was. The encoders check the same rules (INVALID), so what we write reads
 * back.
 */
#include "proto.h"

#include <assert.h>
#include <stdbool.h>
#include <string.h>

#include "assertion.h"
#include "buf.h"

#define AVAIL_HEAD_BYTES    26u
#define AVAIL_SECTION_BYTES 16u
#define HOLD_HEAD_BYTES     62u
#define BOOKING_HEAD_BYTES  55u
#define LIST_HEAD_BYTES     3u
#define CUSTOMER_ITEM_BYTES 19u
#define HISTORY_ENTRY_BYTES 25u
#define STATUS_HEAD_BYTES   23u
#define STATUS_SHARD_BYTES  41u
#define VERSION_LEN_MAX     (sizeof(((struct proto_node_status *)0)->version) - 1)
#define PAYMENT_REF_CAP     (sizeof(((struct inv_booking *)0)->payment_ref))

/* The largest of each reply fits a frame (USHER_FRAME_BYTES_MAX). */
#define REPLY_ROOM (USHER_FRAME_BYTES_MAX - PROTO_LEN_BYTES - PROTO_HEADER_BYTES)
static_assert(AVAIL_HEAD_BYTES == 8 + 8 + 8 + 2, "availability layout");
static_assert(AVAIL_HEAD_BYTES + AVAIL_SECTION_BYTES * USHER_EVENT_SECTIONS_MAX + 4 +
                      USHER_EVENT_SEATS_MAX / 8 <=
                  REPLY_ROOM,
              "the largest availability fits a frame");
static_assert(HOLD_HEAD_BYTES == 3 * 8 + 1 + 1 + 2 + 2 + 4 * 8, "hold layout");
static_assert(BOOKING_HEAD_BYTES == 4 * 8 + 1 + 1 + 2 + 2 + 2 * 8 + 1, "booking layout");
static_assert(CUSTOMER_ITEM_BYTES == 1 + 8 + 2 + 8, "customer item layout");
static_assert(HISTORY_ENTRY_BYTES == 1 + 3 * 8, "history entry layout");
static_assert(STATUS_HEAD_BYTES == 8 + 8 + 4 + 1 + 2, "status layout");
static_assert(STATUS_SHARD_BYTES == 4 + 1 + 4 * 8 + 4, "status shard layout");
static_assert(STATUS_HEAD_BYTES + 15 + STATUS_SHARD_BYTES * PROTO_STATUS_SHARDS_MAX <= REPLY_ROOM,
              "the largest status fits a frame");
static_assert(USHER_EVENT_SECTIONS_MAX <= UINT16_MAX, "section count is a u16");
static_assert(USHER_CUSTOMER_ITEMS_MAX <= UINT16_MAX, "item count is a u16");
static_assert(USHER_HISTORY_MAX <= UINT16_MAX, "history count is a u16");
static_assert(PROTO_STATUS_SHARDS_MAX <= UINT16_MAX, "listed shards is a u16");
static_assert(USHER_EVENT_SEATS_MAX % 8 == 0, "the bitmap array has whole bytes");
static_assert(USHER_PAYMENT_REF_LEN_MAX <= UINT8_MAX, "payment ref length is a u8");
static_assert(PROTO_MESSAGE_LEN_MAX <= UINT8_MAX, "message length is a u8");
static_assert(PROTO_ADDR_LEN_MAX <= PROTO_MESSAGE_LEN_MAX, "an address fits the text");

/* Reads one reply payload from r: checks only when out is NULL, else fills
 * *out (only ever called so after a clean check of the same bytes). */
typedef bool (*reply_read_fn)(struct buf_reader *r, void *out);

/* Checks buf as a whole payload, then decodes it into out (STYLE.md 6.3). */
static int decode_checked(const uint8_t *buf, size_t len, reply_read_fn read, void *out)
{
    ASSERT(out != NULL);
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    if (!read(&r, NULL) || !r.ok || buf_reader_left(&r) != 0) {
        return USHER_BAD_REQUEST;
    }
    buf_reader_init(&r, buf, len);
    bool ok = read(&r, out);
    ASSERT(ok);
    ASSERT(r.ok);
    ASSERT(buf_reader_left(&r) == 0);
    return 0;
}

/* Returns 0 and *len when w holds the whole payload, else LIMIT_MSG_SIZE. */
static int finish(const struct buf_writer *w, size_t expected, size_t *len)
{
    if (!w->ok) {
        return USHER_LIMIT_MSG_SIZE;
    }
    ASSERT(w->pos == expected);
    *len = w->pos;
    return 0;
}

/* ---- Texts: u8 len | bytes ---- */

/* Length of the NUL-terminated text in an array of cap bytes, or cap when
 * it has no terminator. */
static size_t text_len(const char *s, size_t cap)
{
    return s == NULL ? 0 : strnlen(s, cap);
}

static void text_write(struct buf_writer *w, const char *s, size_t n)
{
    ASSERT(n <= UINT8_MAX);
    buf_write_u8(w, (uint8_t)n);
    if (n > 0) {
        buf_write_bytes(w, s, n);
    }
}

/* Reads a text of at most max bytes into out (room for max + 1), or only
 * checks it when out is NULL. */
static bool text_read(struct buf_reader *r, size_t max, char *out)
{
    uint8_t n = buf_read_u8(r);
    if (!r->ok || n > max) {
        return false;
    }
    if (n == 0) {
        if (out != NULL) {
            out[0] = '\0';
        }
        return true;
    }
    const uint8_t *p = buf_read_bytes(r, n);
    if (p == NULL || memchr(p, 0, n) != NULL) {
        return false;
    }
    if (out != NULL) {
        memcpy(out, p, n);
        out[n] = '\0';
    }
    return true;
}

/* ---- Availability ---- */

static size_t bitmap_bytes(uint32_t seat_count)
{
    return ((size_t)seat_count + 7u) / 8u;
}

/* Returns true when the bits of the last bitmap byte past seat_count are 0. */
static bool bitmap_tail_is_clear(const uint8_t *bitmap, uint32_t seat_count)
{
    if (seat_count % 8 == 0) {
        return true;
    }
    uint8_t last = bitmap[seat_count / 8];
    return (last >> (seat_count % 8)) == 0;
}

int codec_reply_availability_encode(const struct inv_availability *a, uint8_t *buf, size_t cap,
                                    size_t *len)
{
    ASSERT(a != NULL);
    ASSERT(len != NULL);
    if (a->event_id == 0 || a->section_count > USHER_EVENT_SECTIONS_MAX ||
        a->seat_count > USHER_EVENT_SEATS_MAX ||
        !bitmap_tail_is_clear(a->free_bitmap, a->seat_count)) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, a->event_id);
    buf_write_u64(&w, a->applied_index);
    buf_write_u64(&w, a->now_ms);
    buf_write_u16(&w, (uint16_t)a->section_count);
    for (uint32_t i = 0; i < a->section_count; i++) {
        const struct inv_section_avail *s = &a->sections[i];
        buf_write_u32(&w, s->free);
        buf_write_u32(&w, s->held);
        buf_write_u32(&w, s->booked);
        buf_write_u32(&w, s->capacity);
    }
    buf_write_u32(&w, a->seat_count);
    buf_write_bytes(&w, a->free_bitmap, bitmap_bytes(a->seat_count));
    size_t expected = AVAIL_HEAD_BYTES + AVAIL_SECTION_BYTES * (size_t)a->section_count + 4u +
                      bitmap_bytes(a->seat_count);
    return finish(&w, expected, len);
}

static bool availability_read(struct buf_reader *r, void *out)
{
    struct inv_availability *a = out;
    uint64_t event_id = buf_read_u64(r);
    uint64_t applied_index = buf_read_u64(r);
    uint64_t now_ms = buf_read_u64(r);
    uint16_t section_count = buf_read_u16(r);
    if (!r->ok || event_id == 0 || section_count > USHER_EVENT_SECTIONS_MAX) {
        return false;
    }
    if (a != NULL) {
        memset(a, 0, sizeof(*a));
        a->event_id = event_id;
        a->applied_index = applied_index;
        a->now_ms = now_ms;
        a->section_count = section_count;
    }
    for (uint32_t i = 0; i < section_count; i++) {
        struct inv_section_avail s;
        s.free = buf_read_u32(r);
        s.held = buf_read_u32(r);
        s.booked = buf_read_u32(r);
        s.capacity = buf_read_u32(r);
        if (a != NULL) {
            a->sections[i] = s;
        }
    }
    uint32_t seat_count = buf_read_u32(r);
    if (!r->ok || seat_count > USHER_EVENT_SEATS_MAX) {
        return false;
    }
    size_t n = bitmap_bytes(seat_count);
    const uint8_t *bitmap = buf_read_bytes(r, n);
    if (bitmap == NULL || (n > 0 && !bitmap_tail_is_clear(bitmap, seat_count))) {
        return false;
    }
    if (a != NULL) {
        a->seat_count = seat_count;
        if (n > 0) {
            memcpy(a->free_bitmap, bitmap, n);
        }
    }
    return true;
}

int codec_reply_availability_decode(const uint8_t *buf, size_t len, struct inv_availability *a)
{
    return decode_checked(buf, len, availability_read, a);
}

/* ---- Hold ---- */

static bool hold_is_valid(const struct inv_hold *h)
{
    if (h->id == 0 || h->event_id == 0 || h->customer_id == 0) {
        return false;
    }
    if (h->state < INV_HOLD_ACTIVE || h->state > INV_HOLD_BOOKED || h->ga > 1) {
        return false;
    }
    /* A seated hold may span sections: its section field is 0. */
    if ((h->ga == 0 && h->section != 0) || h->seat_count == 0 ||
        h->seat_count > USHER_HOLD_SEATS_MAX) {
        return false;
    }
    return (h->state == INV_HOLD_BOOKED) == (h->booking_id != 0);
}

int codec_reply_hold_encode(const struct inv_hold *h, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(h != NULL);
    ASSERT(len != NULL);
    if (!hold_is_valid(h)) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, h->id);
    buf_write_u64(&w, h->event_id);
    buf_write_u64(&w, h->customer_id);
    buf_write_u8(&w, h->state);
    buf_write_u8(&w, h->ga);
    buf_write_u16(&w, h->section);
    buf_write_u16(&w, h->seat_count);
    buf_write_u64(&w, h->created_at_ms);
    buf_write_u64(&w, h->expires_at_ms);
    buf_write_u64(&w, h->ended_at_ms);
    buf_write_u64(&w, h->booking_id);
    uint32_t listed = h->ga == 0 ? h->seat_count : 0;
    for (uint32_t i = 0; i < listed; i++) {
        buf_write_u32(&w, h->seats[i]);
    }
    return finish(&w, HOLD_HEAD_BYTES + 4u * (size_t)listed, len);
}

static bool hold_read(struct buf_reader *r, void *out)
{
    struct inv_hold h;
    memset(&h, 0, sizeof(h));
    h.id = buf_read_u64(r);
    h.event_id = buf_read_u64(r);
    h.customer_id = buf_read_u64(r);
    h.state = buf_read_u8(r);
    h.ga = buf_read_u8(r);
    h.section = buf_read_u16(r);
    h.seat_count = buf_read_u16(r);
    h.created_at_ms = buf_read_u64(r);
    h.expires_at_ms = buf_read_u64(r);
    h.ended_at_ms = buf_read_u64(r);
    h.booking_id = buf_read_u64(r);
    if (!r->ok || !hold_is_valid(&h)) {
        return false;
    }
    uint32_t listed = h.ga == 0 ? h.seat_count : 0;
    for (uint32_t i = 0; i < listed; i++) {
        h.seats[i] = buf_read_u32(r);
    }
    if (!r->ok) {
        return false;
    }
    if (out != NULL) {
        memcpy(out, &h, sizeof(h));
    }
    return true;
}

int codec_reply_hold_decode(const uint8_t *buf, size_t len, struct inv_hold *h)
{
    return decode_checked(buf, len, hold_read, h);
}

/* ---- Booking ---- */

static bool booking_is_valid(const struct inv_booking *b)
{
    if (b->id == 0 || b->event_id == 0 || b->customer_id == 0 || b->hold_id == 0) {
        return false;
    }
    if (b->state < INV_BOOKING_CONFIRMED || b->state > INV_BOOKING_CANCELLED || b->ga > 1) {
        return false;
    }
    return (b->ga == 1 || b->section == 0) && b->seat_count >= 1 &&
           b->seat_count <= USHER_HOLD_SEATS_MAX;
}

int codec_reply_booking_encode(const struct inv_booking *b, uint8_t *buf, size_t cap, size_t *len)
{
    ASSERT(b != NULL);
    ASSERT(len != NULL);
    size_t ref_len = text_len(b->payment_ref, PAYMENT_REF_CAP);
    if (!booking_is_valid(b) || ref_len > USHER_PAYMENT_REF_LEN_MAX) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, b->id);
    buf_write_u64(&w, b->event_id);
    buf_write_u64(&w, b->customer_id);
    buf_write_u64(&w, b->hold_id);
    buf_write_u8(&w, b->state);
    buf_write_u8(&w, b->ga);
    buf_write_u16(&w, b->section);
    buf_write_u16(&w, b->seat_count);
    buf_write_u64(&w, b->booked_at_ms);
    buf_write_u64(&w, b->cancelled_at_ms);
    text_write(&w, b->payment_ref, ref_len);
    uint32_t listed = b->ga == 0 ? b->seat_count : 0;
    for (uint32_t i = 0; i < listed; i++) {
        buf_write_u32(&w, b->seats[i]);
    }
    return finish(&w, BOOKING_HEAD_BYTES + ref_len + 4u * (size_t)listed, len);
}

static bool booking_read(struct buf_reader *r, void *out)
{
    struct inv_booking b;
    memset(&b, 0, sizeof(b));
    b.id = buf_read_u64(r);
    b.event_id = buf_read_u64(r);
    b.customer_id = buf_read_u64(r);
    b.hold_id = buf_read_u64(r);
    b.state = buf_read_u8(r);
    b.ga = buf_read_u8(r);
    b.section = buf_read_u16(r);
    b.seat_count = buf_read_u16(r);
    b.booked_at_ms = buf_read_u64(r);
    b.cancelled_at_ms = buf_read_u64(r);
    if (!r->ok || !booking_is_valid(&b) ||
        !text_read(r, USHER_PAYMENT_REF_LEN_MAX, b.payment_ref)) {
        return false;
    }
    uint32_t listed = b.ga == 0 ? b.seat_count : 0;
    for (uint32_t i = 0; i < listed; i++) {
        b.seats[i] = buf_read_u32(r);
    }
    if (!r->ok) {
        return false;
    }
    if (out != NULL) {
        memcpy(out, &b, sizeof(b));
    }
    return true;
}

int codec_reply_booking_decode(const uint8_t *buf, size_t len, struct inv_booking *b)
{
    return decode_checked(buf, len, booking_read, b);
}

/* ---- Customer items ---- */

static bool customer_item_is_valid(const struct inv_customer_item *it)
{
    return it->is_booking <= 1 && it->id != 0;
}

int codec_reply_customer_encode(const struct inv_customer_items *c, uint8_t *buf, size_t cap,
                                size_t *len)
{
    ASSERT(c != NULL);
    ASSERT(len != NULL);
    if (c->count > USHER_CUSTOMER_ITEMS_MAX || c->more > 1) {
        return USHER_INVALID;
    }
    for (uint32_t i = 0; i < c->count; i++) {
        if (!customer_item_is_valid(&c->items[i])) {
            return USHER_INVALID;
        }
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u16(&w, (uint16_t)c->count);
    buf_write_u8(&w, c->more);
    for (uint32_t i = 0; i < c->count; i++) {
        const struct inv_customer_item *it = &c->items[i];
        buf_write_u8(&w, it->is_booking);
        buf_write_u64(&w, it->id);
        buf_write_u16(&w, it->seat_count);
        buf_write_u64(&w, it->expires_at_ms);
    }
    return finish(&w, LIST_HEAD_BYTES + CUSTOMER_ITEM_BYTES * (size_t)c->count, len);
}

static bool customer_read(struct buf_reader *r, void *out)
{
    struct inv_customer_items *c = out;
    uint16_t count = buf_read_u16(r);
    uint8_t more = buf_read_u8(r);
    if (!r->ok || count > USHER_CUSTOMER_ITEMS_MAX || more > 1 ||
        buf_reader_left(r) != CUSTOMER_ITEM_BYTES * (size_t)count) {
        return false;
    }
    if (c != NULL) {
        memset(c, 0, sizeof(*c));
        c->count = count;
        c->more = more;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct inv_customer_item it;
        memset(&it, 0, sizeof(it));
        it.is_booking = buf_read_u8(r);
        it.id = buf_read_u64(r);
        it.seat_count = buf_read_u16(r);
        it.expires_at_ms = buf_read_u64(r);
        if (!r->ok || !customer_item_is_valid(&it)) {
            return false;
        }
        if (c != NULL) {
            c->items[i] = it;
        }
    }
    return true;
}

int codec_reply_customer_decode(const uint8_t *buf, size_t len, struct inv_customer_items *c)
{
    return decode_checked(buf, len, customer_read, c);
}

/* ---- Seat history ---- */

static bool history_entry_is_valid(const struct inv_history_entry *e)
{
    return e->kind >= INV_HISTORY_HOLD && e->kind <= INV_HISTORY_CANCEL;
}

int codec_reply_history_encode(const struct inv_seat_history *s, uint8_t *buf, size_t cap,
                               size_t *len)
{
    ASSERT(s != NULL);
    ASSERT(len != NULL);
    if (s->count > USHER_HISTORY_MAX || s->more > 1) {
        return USHER_INVALID;
    }
    for (uint32_t i = 0; i < s->count; i++) {
        if (!history_entry_is_valid(&s->entries[i])) {
            return USHER_INVALID;
        }
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u16(&w, (uint16_t)s->count);
    buf_write_u8(&w, s->more);
    for (uint32_t i = 0; i < s->count; i++) {
        const struct inv_history_entry *e = &s->entries[i];
        buf_write_u8(&w, e->kind);
        buf_write_u64(&w, e->at_ms);
        buf_write_u64(&w, e->id);
        buf_write_u64(&w, e->customer_id);
    }
    return finish(&w, LIST_HEAD_BYTES + HISTORY_ENTRY_BYTES * (size_t)s->count, len);
}

static bool history_read(struct buf_reader *r, void *out)
{
    struct inv_seat_history *s = out;
    uint16_t count = buf_read_u16(r);
    uint8_t more = buf_read_u8(r);
    if (!r->ok || count > USHER_HISTORY_MAX || more > 1 ||
        buf_reader_left(r) != HISTORY_ENTRY_BYTES * (size_t)count) {
        return false;
    }
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
        s->count = count;
        s->more = more;
    }
    for (uint32_t i = 0; i < count; i++) {
        struct inv_history_entry e;
        memset(&e, 0, sizeof(e));
        e.kind = buf_read_u8(r);
        e.at_ms = buf_read_u64(r);
        e.id = buf_read_u64(r);
        e.customer_id = buf_read_u64(r);
        if (!r->ok || !history_entry_is_valid(&e)) {
            return false;
        }
        if (s != NULL) {
            s->entries[i] = e;
        }
    }
    return true;
}

int codec_reply_history_decode(const uint8_t *buf, size_t len, struct inv_seat_history *s)
{
    return decode_checked(buf, len, history_read, s);
}

/* ---- Node status ---- */

static bool shard_status_is_valid(const struct proto_shard_status *sh, uint32_t shard_count)
{
    return sh->shard < shard_count && sh->role <= PROTO_ROLE_MAX;
}

/* Checks everything but the shard lines; *version_len gets the text length. */
static bool status_head_is_valid(const struct proto_node_status *s, size_t *version_len)
{
    *version_len = text_len(s->version, sizeof(s->version));
    return *version_len <= VERSION_LEN_MAX && s->listed <= PROTO_STATUS_SHARDS_MAX &&
           s->listed <= s->shard_count;
}

int codec_reply_status_encode(const struct proto_node_status *s, uint8_t *buf, size_t cap,
                              size_t *len)
{
    ASSERT(s != NULL);
    ASSERT(len != NULL);
    size_t version_len = 0;
    if (!status_head_is_valid(s, &version_len)) {
        return USHER_INVALID;
    }
    for (uint32_t i = 0; i < s->listed; i++) {
        if (!shard_status_is_valid(&s->shards[i], s->shard_count)) {
            return USHER_INVALID;
        }
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u64(&w, s->node_id);
    buf_write_u64(&w, s->cluster_id);
    buf_write_u32(&w, s->shard_count);
    text_write(&w, s->version, version_len);
    buf_write_u16(&w, (uint16_t)s->listed);
    for (uint32_t i = 0; i < s->listed; i++) {
        const struct proto_shard_status *sh = &s->shards[i];
        buf_write_u32(&w, sh->shard);
        buf_write_u8(&w, sh->role);
        buf_write_u64(&w, sh->term);
        buf_write_u64(&w, sh->commit_index);
        buf_write_u64(&w, sh->applied_index);
        buf_write_u64(&w, sh->leader_id);
        buf_write_u32(&w, sh->events);
    }
    size_t expected = STATUS_HEAD_BYTES + version_len + STATUS_SHARD_BYTES * (size_t)s->listed;
    return finish(&w, expected, len);
}

static bool status_read(struct buf_reader *r, void *out)
{
    struct proto_node_status *s = out;
    uint64_t node_id = buf_read_u64(r);
    uint64_t cluster_id = buf_read_u64(r);
    uint32_t shard_count = buf_read_u32(r);
    char version[VERSION_LEN_MAX + 1];
    if (!r->ok || !text_read(r, VERSION_LEN_MAX, version)) {
        return false;
    }
    uint16_t listed = buf_read_u16(r);
    if (!r->ok || listed > PROTO_STATUS_SHARDS_MAX || listed > shard_count ||
        buf_reader_left(r) != STATUS_SHARD_BYTES * (size_t)listed) {
        return false;
    }
    if (s != NULL) {
        memset(s, 0, sizeof(*s));
        s->node_id = node_id;
        s->cluster_id = cluster_id;
        s->shard_count = shard_count;
        s->listed = listed;
        memcpy(s->version, version, sizeof(version));
    }
    for (uint32_t i = 0; i < listed; i++) {
        struct proto_shard_status sh;
        memset(&sh, 0, sizeof(sh));
        sh.shard = buf_read_u32(r);
        sh.role = buf_read_u8(r);
        sh.term = buf_read_u64(r);
        sh.commit_index = buf_read_u64(r);
        sh.applied_index = buf_read_u64(r);
        sh.leader_id = buf_read_u64(r);
        sh.events = buf_read_u32(r);
        if (!r->ok || !shard_status_is_valid(&sh, shard_count)) {
            return false;
        }
        if (s != NULL) {
            s->shards[i] = sh;
        }
    }
    return true;
}

int codec_reply_status_decode(const uint8_t *buf, size_t len, struct proto_node_status *s)
{
    return decode_checked(buf, len, status_read, s);
}

/* ---- Event list ---- */

int codec_reply_event_list_encode(const uint64_t *ids, uint32_t n, uint8_t *buf, size_t cap,
                                  size_t *len)
{
    ASSERT(len != NULL);
    ERGO(n > 0, ids != NULL);
    if (n > PROTO_EVENT_LIST_MAX) {
        return USHER_INVALID;
    }
    for (uint32_t i = 0; i < n; i++) {
        if (ids[i] == 0 || (i > 0 && ids[i] <= ids[i - 1])) {
            return USHER_INVALID;
        }
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    buf_write_u32(&w, n);
    for (uint32_t i = 0; i < n; i++) {
        buf_write_u64(&w, ids[i]);
    }
    return finish(&w, 4u + 8u * (size_t)n, len);
}

/* Reads n ids after checking them, into ids when it is not NULL. */
static bool event_ids_read(struct buf_reader *r, uint32_t n, uint64_t *ids)
{
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t id = buf_read_u64(r);
        if (!r->ok || id <= prev) {
            return false;
        }
        if (ids != NULL) {
            ids[i] = id;
        }
        prev = id;
    }
    return true;
}

int codec_reply_event_list_decode(const uint8_t *buf, size_t len, uint64_t *ids, uint32_t cap,
                                  uint32_t *n)
{
    ASSERT(n != NULL);
    ERGO(cap > 0, ids != NULL);
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    uint32_t count = buf_read_u32(&r);
    if (!r.ok || count > PROTO_EVENT_LIST_MAX || count > cap ||
        buf_reader_left(&r) != 8u * (size_t)count || !event_ids_read(&r, count, NULL)) {
        return USHER_BAD_REQUEST;
    }
    buf_reader_init(&r, buf, len);
    (void)buf_read_u32(&r); /* the count, checked above */
    bool ok = event_ids_read(&r, count, ids);
    ASSERT(ok);
    ASSERT(buf_reader_left(&r) == 0);
    *n = count;
    return 0;
}

/* ---- Error payloads ---- */

int codec_reply_error_encode(int status, const char *text, uint32_t retry_after_ms, uint8_t *buf,
                             size_t cap, size_t *len)
{
    ASSERT(len != NULL);
    if (status <= 0 || status > UINT16_MAX) {
        return USHER_INVALID;
    }
    struct buf_writer w;
    buf_writer_init(&w, buf, cap);
    if (status == USHER_BUSY) {
        buf_write_u32(&w, retry_after_ms);
        return finish(&w, 4, len);
    }
    size_t max = status == USHER_NOT_LEADER ? PROTO_ADDR_LEN_MAX : PROTO_MESSAGE_LEN_MAX;
    size_t n = text_len(text, max + 1);
    if (n > max) {
        return USHER_INVALID;
    }
    text_write(&w, text, n);
    return finish(&w, 1u + n, len);
}

int codec_reply_error_decode(uint16_t status, const uint8_t *buf, size_t len, struct proto_error *e)
{
    ASSERT(e != NULL);
    if (status == 0) {
        return USHER_BAD_REQUEST;
    }
    struct proto_error out;
    memset(&out, 0, sizeof(out));
    out.status = status;
    struct buf_reader r;
    buf_reader_init(&r, buf, len);
    if (status == USHER_BUSY) {
        out.retry_after_ms = buf_read_u32(&r);
    } else {
        size_t max = status == USHER_NOT_LEADER ? PROTO_ADDR_LEN_MAX : PROTO_MESSAGE_LEN_MAX;
        if (!text_read(&r, max, out.text)) {
            return USHER_BAD_REQUEST;
        }
    }
    if (!r.ok || buf_reader_left(&r) != 0) {
        return USHER_BAD_REQUEST;
    }
    *e = out;
    return 0;
}
