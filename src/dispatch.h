/*
 * Routes each request of a connection to what serves it: commands to the
 * shard group of their event, reads to the shard after a leadership check,
 * node status and ping on the spot. The only place that knows the ops.
 */
#ifndef USHER_SRC_DISPATCH_H
#define USHER_SRC_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct conn;

/* Serves one decoded frame of c; payload is borrowed for the call. */
void dispatch_frame(struct conn *c, const struct proto_header *h, const uint8_t *payload,
                    size_t len);

/* Flow control of a connection's reads (implemented in conn.c). */
void dispatch_pause_reading(struct conn *c);
void dispatch_resume_reading(struct conn *c);

#endif
