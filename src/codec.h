/*
 * Binary formats of commands, batches, results and event descriptions.
 * The only code that parses bytes (STYLE.md 1.1). Full layout: docs/CODEC.md.
 *
 * All integers are little-endian. Every decoder checks every length and range
 * before it reads or allocates; malformed input returns USHER_BAD_REQUEST (or
 * BAD_VERSION, or a LIMIT_* code for a well-formed but oversized field) and
 * leaves the output as if never written (anything allocated is freed).
 *
 * Command:  u8 version (=1) | u8 type | u16 flags (=0) | u64 client_id |
 *           u64 idem_key | u64 event_id | u64 customer_id | body (per type)
 * Batch:    u8 magic 'B' | u8 version (=1) | u16 count | u32 reserved (=0) |
 *           u64 ts_ms | count * (u32 len | command bytes)
 * Result:   u8 version (=1) | u8 type | u16 status | u64 id | u64 expires_at_ms |
 *           u32 swept | u8 more | u8 reserved (=0) | u16 seat_count | seat_count * u32
 */
#ifndef USHER_SRC_CODEC_H
#define USHER_SRC_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "err.h"
#include "event.h"

#define CODEC_VERSION            1u
#define CODEC_BATCH_MAGIC        0x42u /* 'B' */
#define CODEC_CMD_HEADER_BYTES   36u
#define CODEC_BATCH_HEADER_BYTES 16u

/*
 * Encodes cmd into buf (capacity cap) and sets *len. Returns 0, or
 * LIMIT_MSG_SIZE when it does not fit cap or USHER_CMD_BYTES_MAX,
 * USHER_INVALID for a command that no decoder would accept (unknown type,
 * counts over the limits). Borrows cmd for the call.
 */
USHER_MUST_CHECK int codec_cmd_encode(const struct cmd *cmd, uint8_t *buf, size_t cap, size_t *len);

/*
 * Decodes one command of exactly len bytes into *cmd and sets cmd->digest
 * (xxh64 of the bytes). For CMD_EVENT_CREATE it allocates cmd->u.create.event,
 * which the caller frees with codec_cmd_release(). Checks structure and the
 * hard ceilings of limits.h; the rules of a valid event are checked at apply
 * (event_validate()). Returns 0, BAD_REQUEST, BAD_VERSION, LIMIT_* or NOMEM.
 */
USHER_MUST_CHECK int codec_cmd_decode(const uint8_t *buf, size_t len, struct cmd *cmd);

/* Frees what codec_cmd_decode() allocated in cmd (safe to call twice). */
void codec_cmd_release(struct cmd *cmd);

/*
 * Writes a batch header for count commands stamped ts_ms into buf (at least
 * CODEC_BATCH_HEADER_BYTES). The commands follow, each as u32 length plus
 * bytes (codec_batch_append()).
 */
void codec_batch_header_encode(uint8_t *buf, uint16_t count, uint64_t ts_ms);

/*
 * Appends one encoded command (u32 length + bytes) at buf + *used, within cap
 * and USHER_BATCH_BYTES_MAX, and advances *used. Returns 0 or LIMIT_MSG_SIZE.
 */
USHER_MUST_CHECK int codec_batch_append(uint8_t *buf, size_t cap, size_t *used,
                                        const uint8_t *cmd_bytes, size_t cmd_len);

/*
 * Encodes a whole batch of n commands stamped ts_ms. Returns 0, LIMIT_BATCH,
 * LIMIT_MSG_SIZE or INVALID.
 */
USHER_MUST_CHECK int codec_batch_encode(uint64_t ts_ms, const struct cmd *cmds, uint32_t n,
                                        uint8_t *buf, size_t cap, size_t *len);

/*
 * Decodes a batch of exactly len bytes: its stamp into *ts_ms and its commands
 * into cmds (room for cap), count into *n. On success the caller releases
 * each command with codec_cmd_release(); on failure nothing is left
 * allocated. Returns 0, BAD_REQUEST, BAD_VERSION, LIMIT_BATCH, LIMIT_* or NOMEM.
 */
USHER_MUST_CHECK int codec_batch_decode(const uint8_t *buf, size_t len, uint64_t *ts_ms,
                                        struct cmd *cmds, uint32_t cap, uint32_t *n);

/*
 * Walks the framing of a batch at buf (header, then count length-prefixed
 * commands) without decoding the commands, and sets *exact to the bytes it
 * spans, which may be fewer than len: Raft entries are padded to 8 bytes
 * (docs/RAFT.md). Returns 0, or BAD_REQUEST / BAD_VERSION / LIMIT_BATCH when
 * the framing does not hold within len.
 */
USHER_MUST_CHECK int codec_batch_framed_length(const uint8_t *buf, size_t len, size_t *exact);

/* Encodes a result. Returns 0 or LIMIT_MSG_SIZE. */
USHER_MUST_CHECK int codec_result_encode(const struct cmd_result *r, uint8_t *buf, size_t cap,
                                         size_t *len);

/* Decodes a result of exactly len bytes. Returns 0, BAD_REQUEST or BAD_VERSION. */
USHER_MUST_CHECK int codec_result_decode(const uint8_t *buf, size_t len, struct cmd_result *r);

/*
 * Encodes an event description (the body of CMD_EVENT_CREATE and the stored
 * event record). Derived fields are not encoded. Returns 0, LIMIT_MSG_SIZE or
 * INVALID.
 */
USHER_MUST_CHECK int codec_event_encode(const struct event *e, uint8_t *buf, size_t cap,
                                        size_t *len);

/*
 * Decodes an event description of exactly len bytes into a new event (with
 * its derived fields computed by event_layout()), owned by the caller
 * (event_destroy()). Returns 0, BAD_REQUEST, LIMIT_* or NOMEM.
 */
USHER_MUST_CHECK int codec_event_decode(const uint8_t *buf, size_t len, struct event **out);

#endif
