/*
 * A blocking client of the wire protocol for tests that must send bytes a
 * real client never would (malformed or oversized frames). Built on the
 * codec (proto.h, codec.h); every receive is bounded by a socket timeout.
 */
#ifndef USHER_TESTS_LIB_WIRE_H
#define USHER_TESTS_LIB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "cmd.h"
#include "proto.h"

/* Connects to 127.0.0.1:port with a 10 s receive timeout; -1 on failure. */
int wire_connect(uint16_t port);

/* Sends raw bytes; 0 or -1. */
int wire_send_raw(int fd, const void *bytes, size_t len);

/* Sends one well-formed request frame. */
int wire_send(int fd, uint8_t op, uint64_t request_id, const uint8_t *payload, size_t len);

/* Encodes cmd and sends it as a COMMAND request. */
int wire_send_cmd(int fd, uint64_t request_id, const struct cmd *cmd);

/* Receives one frame: header into *h, payload into buf (cap bytes), its
 * length into *len. Returns 0, or -1 on EOF, timeout or a bad frame. */
int wire_recv(int fd, struct proto_header *h, uint8_t *buf, size_t cap, size_t *len);

/* Returns 1 when the peer closed the connection (EOF) within the timeout. */
int wire_is_closed(int fd);

#endif
