/*
 * The client wire protocol of usherd (docs/PROTOCOL.md): TCP, length-prefixed
 * binary frames, many requests in flight per connection, answered in any
 * order and matched by request id. All integers little-endian.
 *
 *   frame  = u32 len | header (32 bytes) | payload (len - 32 bytes)
 *   header = u8 version (=1) | u8 op | u16 flags | u64 request_id |
 *            u8 trace_id[16] | u16 status | u16 reserved (=0)
 *
 * `len` counts the bytes after itself and is checked against
 * USHER_FRAME_BYTES_MAX before anything is read or allocated. A request has
 * flags 0 and status 0; a reply has PROTO_FLAG_REPLY and the request's op,
 * request id and trace id. A reply's payload depends on its status:
 *
 *   OK            the op's reply payload (below)
 *   NOT_LEADER    u8 len | leader client address "a.b.c.d:port" (len 0: unknown)
 *   BUSY          u32 retry_after_ms
 *   BAD_REQUEST and every other code: u8 len | message (may be empty)
 *
 * Ops and payloads (request -> OK reply):
 *
 *   COMMAND        encoded command (codec.h)       -> encoded result (codec.h)
 *   EVENT_GET      u64 event id                    -> encoded event description
 *   EVENT_LIST     u64 after | u32 max             -> u32 n | n * u64 event id
 *   AVAILABILITY   u64 event id                    -> availability (codec_reply.c)
 *   HOLD_GET       u64 event id | u64 hold id      -> hold
 *   BOOKING_GET    u64 event id | u64 booking id   -> booking
 *   CUSTOMER_LIST  u64 event id | u64 customer id  -> customer items
 *   SEAT_HISTORY   u64 event id | u32 seat index   -> seat history
 *   STATUS         (empty)                         -> node status
 *   PING           (empty)                         -> (empty)
 *
 * Every read names its event so it can be routed to the event's shard.
 */
#ifndef USHER_SRC_PROTO_H
#define USHER_SRC_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "inv.h"
#include "limits.h"

#define PROTO_VERSION           1u
#define PROTO_LEN_BYTES         4u
#define PROTO_HEADER_BYTES      32u
#define PROTO_FLAG_REPLY        1u
#define PROTO_TRACE_ID_BYTES    16u
#define PROTO_ADDR_LEN_MAX      63u
#define PROTO_MESSAGE_LEN_MAX   255u
#define PROTO_STATUS_SHARDS_MAX 1024u

enum proto_op {
    PROTO_OP_NONE = 0, /* replies only: the answer to a frame that could not be
                          decoded (request id 0), sent just before closing */
    PROTO_OP_COMMAND = 1,
    PROTO_OP_EVENT_GET = 2,
    PROTO_OP_EVENT_LIST = 3,
    PROTO_OP_AVAILABILITY = 4,
    PROTO_OP_HOLD_GET = 5,
    PROTO_OP_BOOKING_GET = 6,
    PROTO_OP_CUSTOMER_LIST = 7,
    PROTO_OP_SEAT_HISTORY = 8,
    PROTO_OP_STATUS = 9,
    PROTO_OP_PING = 10,
};

#define PROTO_OP_MAX 10u

struct proto_header {
    uint32_t len; /* bytes after the length field: PROTO_HEADER_BYTES + payload */
    uint8_t version;
    uint8_t op; /* enum proto_op */
    uint16_t flags;
    uint64_t request_id;
    uint8_t trace_id[PROTO_TRACE_ID_BYTES]; /* W3C trace id; zero: none */
    uint16_t status;                        /* replies: enum usher_err */
    uint16_t reserved;
};

/* One shard's line in a STATUS reply. */
struct proto_shard_status {
    uint32_t shard;
    uint8_t role; /* 0 unavailable, 1 follower, 2 candidate, 3 leader */
    uint8_t reserved[3];
    uint64_t term;
    uint64_t commit_index;
    uint64_t applied_index;
    uint64_t leader_id; /* 0: unknown */
    uint32_t events;
};

struct proto_node_status {
    uint64_t node_id;
    uint64_t cluster_id;
    uint32_t shard_count; /* shards of the cluster */
    uint32_t listed;      /* entries in shards[] */
    char version[16];     /* usherd version, NUL-terminated */
    struct proto_shard_status shards[PROTO_STATUS_SHARDS_MAX];
};

/*
 * Writes the length field and header for a frame with payload_len bytes of
 * payload into out (PROTO_LEN_BYTES + PROTO_HEADER_BYTES bytes); h->len is
 * computed. Returns 0, or LIMIT_MSG_SIZE when the frame would exceed
 * USHER_FRAME_BYTES_MAX, or INVALID for a header codec_frame_decode() would
 * refuse (version, op, flags, reserved, a request with a status).
 */
USHER_MUST_CHECK int codec_frame_header_encode(const struct proto_header *h, size_t payload_len,
                                               uint8_t *out);

/*
 * Reads a length field (4 bytes at buf) and checks it: returns 0 and the
 * frame's total size (length field included) in *frame_bytes, or
 * LIMIT_MSG_SIZE when over USHER_FRAME_BYTES_MAX, BAD_REQUEST when shorter
 * than a header. Call it as soon as 4 bytes are in, before buffering more.
 */
USHER_MUST_CHECK int codec_frame_length_decode(const uint8_t *buf, size_t *frame_bytes);

/*
 * Decodes the header of a whole frame of frame_bytes bytes at buf (length
 * field included). Checks version (BAD_VERSION), op range, flags, reserved
 * and length (BAD_REQUEST). *payload points into buf.
 * Op is 1 .. PROTO_OP_MAX, or 0 in a reply with request id 0 and a status
 * (the answer to a frame the server could not read); flags are 0 or
 * PROTO_FLAG_REPLY; a request's status is 0. Outputs untouched on failure.
 */
USHER_MUST_CHECK int codec_frame_decode(const uint8_t *buf, size_t frame_bytes,
                                        struct proto_header *h, const uint8_t **payload,
                                        size_t *payload_len);

/* Encoders of reply payloads (layouts: codec_reply.c, docs/PROTOCOL.md);
 * each returns 0, LIMIT_MSG_SIZE (does not fit cap) or INVALID (a value the
 * decoder would refuse: a count over its array, an enum out of range) and
 * sets *len. */
USHER_MUST_CHECK int codec_reply_availability_encode(const struct inv_availability *a, uint8_t *buf,
                                                     size_t cap, size_t *len);
USHER_MUST_CHECK int codec_reply_hold_encode(const struct inv_hold *h, uint8_t *buf, size_t cap,
                                             size_t *len);
USHER_MUST_CHECK int codec_reply_booking_encode(const struct inv_booking *b, uint8_t *buf,
                                                size_t cap, size_t *len);
USHER_MUST_CHECK int codec_reply_customer_encode(const struct inv_customer_items *c, uint8_t *buf,
                                                 size_t cap, size_t *len);
USHER_MUST_CHECK int codec_reply_history_encode(const struct inv_seat_history *s, uint8_t *buf,
                                                size_t cap, size_t *len);
USHER_MUST_CHECK int codec_reply_status_encode(const struct proto_node_status *s, uint8_t *buf,
                                               size_t cap, size_t *len);

/* The matching decoders: exactly len bytes; 0 or BAD_REQUEST. On failure
 * the output is left as it was. */
USHER_MUST_CHECK int codec_reply_availability_decode(const uint8_t *buf, size_t len,
                                                     struct inv_availability *a);
USHER_MUST_CHECK int codec_reply_hold_decode(const uint8_t *buf, size_t len, struct inv_hold *h);
USHER_MUST_CHECK int codec_reply_booking_decode(const uint8_t *buf, size_t len,
                                                struct inv_booking *b);
USHER_MUST_CHECK int codec_reply_customer_decode(const uint8_t *buf, size_t len,
                                                 struct inv_customer_items *c);
USHER_MUST_CHECK int codec_reply_history_decode(const uint8_t *buf, size_t len,
                                                struct inv_seat_history *s);
USHER_MUST_CHECK int codec_reply_status_decode(const uint8_t *buf, size_t len,
                                               struct proto_node_status *s);

/* ==== Helpers of the protocol codec (issue 3): shard roles, the payloads of
 * read and list requests, the EVENT_LIST reply and the error payloads. Used
 * by usherd and libusher alike. ==== */

/* proto_shard_status.role */
enum proto_role {
    PROTO_ROLE_UNAVAILABLE = 0,
    PROTO_ROLE_FOLLOWER = 1,
    PROTO_ROLE_CANDIDATE = 2,
    PROTO_ROLE_LEADER = 3,
};

#define PROTO_ROLE_MAX 3u

/* Event ids in one EVENT_LIST reply; the server caps a larger `max` to it. */
#define PROTO_EVENT_LIST_MAX USHER_SHARD_EVENTS_MAX

/* Largest error payload: u8 len + message. */
#define PROTO_ERROR_BYTES_MAX (1u + PROTO_MESSAGE_LEN_MAX)

/* The payload of a read request, by op:
 *   EVENT_GET, AVAILABILITY                 u64 event id
 *   HOLD_GET, BOOKING_GET, CUSTOMER_LIST    u64 event id | u64 id (!= 0)
 *   SEAT_HISTORY                            u64 event id | u32 seat index
 * optionally followed by u32 max_stale_ms (!= 0): the client accepts an
 * answer from any replica whose state is at most that old (docs/PROTOCOL.md
 * "Follower reads"); without it the read is linearizable, at the leader. */
struct proto_read {
    uint64_t event_id;     /* != 0 */
    uint64_t arg;          /* hold, booking or customer id; seat index; 0 for the others */
    uint32_t max_stale_ms; /* 0: linearizable */
};

/*
 * Encodes the payload of a read request for op. Returns 0, LIMIT_MSG_SIZE
 * (does not fit cap) or INVALID (op is not a read op, event id 0, an id 0,
 * a seat index over 32 bits, arg != 0 for EVENT_GET or AVAILABILITY).
 */
USHER_MUST_CHECK int codec_frame_read_encode(uint8_t op, const struct proto_read *r, uint8_t *buf,
                                             size_t cap, size_t *len);

/* Decodes a read request payload of exactly len bytes for op. Returns 0 or
 * BAD_REQUEST (also for an op that is not a read); *r is untouched on failure. */
USHER_MUST_CHECK int codec_frame_read_decode(uint8_t op, const uint8_t *buf, size_t len,
                                             struct proto_read *r);

/* Encodes an EVENT_LIST request: u64 after | u32 max (>= 1). Returns 0,
 * LIMIT_MSG_SIZE or INVALID (max 0). */
USHER_MUST_CHECK int codec_frame_list_encode(uint64_t after, uint32_t max, uint8_t *buf, size_t cap,
                                             size_t *len);

/* Decodes an EVENT_LIST request of exactly len bytes. Returns 0 or
 * BAD_REQUEST; outputs untouched on failure. */
USHER_MUST_CHECK int codec_frame_list_decode(const uint8_t *buf, size_t len, uint64_t *after,
                                             uint32_t *max);

/*
 * Encodes an EVENT_LIST reply: u32 n | n * u64 event id, ids != 0 and
 * strictly ascending, n <= PROTO_EVENT_LIST_MAX. Borrows ids. Returns 0,
 * LIMIT_MSG_SIZE or INVALID.
 */
USHER_MUST_CHECK int codec_reply_event_list_encode(const uint64_t *ids, uint32_t n, uint8_t *buf,
                                                   size_t cap, size_t *len);

/* Decodes an EVENT_LIST reply of exactly len bytes into ids (room for cap).
 * Returns 0 or BAD_REQUEST (also when n > cap); ids and *n untouched on
 * failure. */
USHER_MUST_CHECK int codec_reply_event_list_decode(const uint8_t *buf, size_t len, uint64_t *ids,
                                                   uint32_t cap, uint32_t *n);

/* A decoded error payload: the payload of a reply whose status is not OK. */
struct proto_error {
    uint16_t status;         /* the reply's status, != 0 */
    uint32_t retry_after_ms; /* BUSY: the server's hint; 0 for the others */
    /* NOT_LEADER: the leader's client address ("" when unknown); BUSY: "";
     * the others: the message (may be ""). NUL-terminated. */
    char text[PROTO_MESSAGE_LEN_MAX + 1];
};

/*
 * Encodes the error payload of status (proto.h top comment): NOT_LEADER
 * takes text as the leader address (at most PROTO_ADDR_LEN_MAX bytes), BUSY
 * takes retry_after_ms (text is ignored), every other code takes text as the
 * message (at most PROTO_MESSAGE_LEN_MAX bytes); retry_after_ms is ignored
 * but for BUSY and text may be NULL (empty). PROTO_ERROR_BYTES_MAX is always
 * enough room. Returns 0, LIMIT_MSG_SIZE or INVALID (status 0 or over 16
 * bits, text too long).
 */
USHER_MUST_CHECK int codec_reply_error_encode(int status, const char *text, uint32_t retry_after_ms,
                                              uint8_t *buf, size_t cap, size_t *len);

/* Decodes the error payload of exactly len bytes of a reply with status.
 * Returns 0 or BAD_REQUEST (status 0, a text over its bound or holding a
 * NUL, short or trailing bytes); *e untouched on failure. */
USHER_MUST_CHECK int codec_reply_error_decode(uint16_t status, const uint8_t *buf, size_t len,
                                              struct proto_error *e);

#endif
