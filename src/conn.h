/*
 * One client connection: reads length-prefixed frames (proto.h), hands each
 * request to dispatch, writes replies in any order.
 *
 * Bounds: a frame's length is checked against the node's frame limit before
 * it is buffered (too large: an error reply with request id 0, then close);
 * at most inflight_per_conn_max requests are in flight (beyond: BUSY at
 * once); when replies queue up faster than the peer reads them, reading
 * stops until the write queue drains.
 *
 * Lifetime: a connection is referenced by itself while open and by each
 * request in flight. Closing marks it closed (late replies are dropped);
 * the memory goes when the last reference does, after uv_close completed.
 *
 *   state:  OPEN --(peer EOF, error, bad frame, node stop)--> CLOSING --> (freed)
 */
#ifndef USHER_SRC_CONN_H
#define USHER_SRC_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "proto.h"

struct node;

/* Replies given while the frames of one read are handled are gathered in
 * the node's cork buffer (this many bytes) and leave in one write: a client
 * that pipelines sends many frames per read. */
#define CONN_CORK_BYTES_MAX 65536u

enum conn_state {
    CONN_OPEN = 1,
    CONN_CLOSING = 2,
};

struct conn {
    struct node *node;
    uv_tcp_t tcp;
    uint64_t id;
    uint8_t state; /* enum conn_state */
    struct conn *prev;
    struct conn *next;
    uint8_t *buf; /* bytes read, not yet handled */
    size_t buf_len;
    size_t buf_cap; /* grows to the frame limit only for a large frame */
    uint32_t inflight;
    uint32_t refs;   /* 1 while open + requests in flight + writes in flight */
    size_t cork_len; /* reply bytes gathered in the node's cork_buf */
    bool reading;
    bool handle_closed;
};

/* A request in flight: what its reply needs. Owned by dispatch. */
struct conn_request {
    struct conn *conn;
    uint64_t request_id;
    uint8_t op;
    uint8_t trace_id[PROTO_TRACE_ID_BYTES];
    uint64_t event_id;
    uint64_t arg; /* the second id of a read (hold, booking, customer, seat) */
    uint32_t shard;
    uint64_t start_ns; /* uv_hrtime() when the frame was dispatched */
};

/* Accepts one pending connection from the node's listener. */
void conn_accept(struct node *n);

/* Sends an OK or error reply to a request (payload borrowed for the call),
 * frees the request and drops its reference on the connection. A closed
 * connection drops the reply. */
void conn_reply(struct conn_request *req, uint16_t status, const uint8_t *payload, size_t len);

/* Sends an error reply with a message (<= PROTO_MESSAGE_LEN_MAX bytes). */
void conn_reply_error(struct conn_request *req, int status, const char *message);

/* Closes a connection (idempotent). */
void conn_close(struct conn *c);

#endif
