/*
 * libFuzzer target: the frame decoder and the request payload decoders
 * (codec_frame.c; tests/fuzz/run.sh).
 *
 * The input is one frame, length field included. Any input must decode or
 * be refused without a crash or undefined behaviour. An accepted header must
 * re-encode to the same 36 bytes and decode again to an equal header; the
 * payload of an accepted read or EVENT_LIST request goes through the same
 * decode, re-encode, compare, decode-again cycle.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "assertion.h"
#include "fuzz_proto_equal.h"
#include "limits.h"
#include "proto.h"

#define HEAD_BYTES (PROTO_LEN_BYTES + PROTO_HEADER_BYTES)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_read_request(uint8_t op, const uint8_t *payload, size_t len)
{
    struct proto_read first;
    if (codec_frame_read_decode(op, payload, len, &first) != 0) {
        return;
    }
    uint8_t again[20]; /* the longest read payload, with its staleness bound */
    size_t again_len = 0;
    ASSERT(codec_frame_read_encode(op, &first, again, sizeof(again), &again_len) == 0);
    ASSERT(again_len == len);
    ASSERT(memcmp(again, payload, len) == 0);
    struct proto_read second;
    ASSERT(codec_frame_read_decode(op, again, again_len, &second) == 0);
    ASSERT(first.event_id == second.event_id);
    ASSERT(first.arg == second.arg);
    ASSERT(first.max_stale_ms == second.max_stale_ms);
}

static void check_list_request(const uint8_t *payload, size_t len)
{
    uint64_t after = 0;
    uint32_t max = 0;
    if (codec_frame_list_decode(payload, len, &after, &max) != 0) {
        return;
    }
    uint8_t again[12];
    size_t again_len = 0;
    ASSERT(codec_frame_list_encode(after, max, again, sizeof(again), &again_len) == 0);
    ASSERT(again_len == len);
    ASSERT(memcmp(again, payload, len) == 0);
    uint64_t after2 = 0;
    uint32_t max2 = 0;
    ASSERT(codec_frame_list_decode(again, again_len, &after2, &max2) == 0);
    ASSERT(after == after2);
    ASSERT(max == max2);
}

/* A length field that passes gives a frame size within the bounds. */
static void check_length(const uint8_t *data, size_t size)
{
    size_t frame_bytes = 0;
    if (size < PROTO_LEN_BYTES || codec_frame_length_decode(data, &frame_bytes) != 0) {
        return;
    }
    ASSERT(frame_bytes >= HEAD_BYTES);
    ASSERT(frame_bytes <= USHER_FRAME_BYTES_MAX);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_length(data, size);
    struct proto_header first;
    const uint8_t *payload = NULL;
    size_t payload_len = 0;
    if (codec_frame_decode(data, size, &first, &payload, &payload_len) != 0) {
        return 0;
    }
    ASSERT(payload == data + HEAD_BYTES);
    ASSERT(payload_len + HEAD_BYTES == size);
    ASSERT((size_t)first.len + PROTO_LEN_BYTES == size);
    uint8_t *again = malloc(size);
    ASSERT(again != NULL);
    ASSERT(codec_frame_header_encode(&first, payload_len, again) == 0);
    ASSERT(memcmp(again, data, HEAD_BYTES) == 0);
    memcpy(again + HEAD_BYTES, payload, payload_len);
    struct proto_header second;
    const uint8_t *payload2 = NULL;
    size_t payload_len2 = 0;
    ASSERT(codec_frame_decode(again, size, &second, &payload2, &payload_len2) == 0);
    ASSERT(proto_header_equal(&first, &second));
    ASSERT(payload_len2 == payload_len);
    free(again);
    if ((first.flags & PROTO_FLAG_REPLY) != 0) {
        return 0;
    }
    if (first.op == PROTO_OP_EVENT_LIST) {
        check_list_request(payload, payload_len);
    } else {
        check_read_request(first.op, payload, payload_len);
    }
    return 0;
}
