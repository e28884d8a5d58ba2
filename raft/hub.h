/*
 * The node's one Raft peer port (DESIGN.md "Shape", RAFT-NOTES §2): every
 * shard group's Raft traffic to and from the other nodes goes through the
 * one listener of the hub.
 *
 *   node A                                          node B
 *   shard 3's raft_uv --dial--> TCP --preamble--> hub listener --shard 3--> raft_uv
 *
 * A group's transport (raft/transport.h) dials a peer's hub, writes a fixed
 * preamble naming the cluster, the shard, the shard count and the sender,
 * and hands the stream to raft_uv. The receiving hub reads exactly the
 * preamble (never a byte of Raft traffic), checks it and hands the stream to
 * that shard's raft_uv. A preamble that names another cluster, an unknown
 * sender, another shard count, or a shard not open here closes the
 * connection with a warning line; the dialer retries with backoff.
 *
 * Wire (big-endian, PREAMBLE bytes = 40):
 *   u64 magic "USHRAFT1" | u16 version 1 | u16 0 | u32 shard |
 *   u64 cluster id | u64 sender node id | u32 shard count | u32 0
 *
 * Raft configurations name servers "node-<id>" (group.c); the hub turns a
 * node id into its address from the member table, so a node can move to
 * another address by a configuration change of the operator, not of every
 * group.
 *
 * Bounds: at most HUB_MEMBERS_MAX members, HUB_HANDSHAKES_MAX connections
 * in their handshake (more are closed at accept), and a handshake must
 * finish within HUB_HANDSHAKE_TIMEOUT_MS. raft_uv trusts the bytes that
 * follow (it allocates the lengths a peer announces, RAFT-NOTES §1.7):
 * the Raft port belongs on a private network (docs/OPERATIONS.md).
 */
#ifndef USHER_RAFT_HUB_H
#define USHER_RAFT_HUB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "err.h"

#define HUB_MEMBERS_MAX          9u
#define HUB_HANDSHAKES_MAX       256u
#define HUB_HANDSHAKE_TIMEOUT_MS 5000u
#define HUB_PREAMBLE_BYTES       40u
#define HUB_MAGIC                0x5553485241465431ull /* "USHRAFT1" */
#define HUB_VERSION              1u

/* Dial backoff per peer: the first retry after HUB_BACKOFF_MIN_MS, doubling
 * up to HUB_BACKOFF_MAX_MS, with up to a quarter of jitter. */
#define HUB_BACKOFF_MIN_MS 50u
#define HUB_BACKOFF_MAX_MS 1000u

struct hub;
struct logger;

struct hub_member {
    uint64_t id;                  /* node id, != 0 */
    struct sockaddr_in raft_addr; /* its hub */
};

struct hub_options {
    uint64_t cluster_id; /* != 0 */
    uint64_t self_id;    /* this node; one of members */
    uint32_t shard_count;
    struct sockaddr_in listen_addr;   /* port 0: any free port (tests) */
    const struct hub_member *members; /* copied */
    uint32_t member_count;            /* 1 .. HUB_MEMBERS_MAX */
    const struct logger *log;         /* borrowed; NULL: no log lines */
};

struct hub_counters {
    uint64_t accepted; /* connections handed to a shard */
    uint64_t refused;  /* closed: bad preamble, unknown shard, timeout, full */
    uint64_t dialed;   /* outgoing connections handed to a shard */
    uint64_t dial_failed;
};

/* Binds and listens. Returns 0, or INVALID (bad options, address in use)
 * with errmsg filled. Stop with hub_stop() (after every group closed),
 * free with hub_destroy() once the loop has drained. */
USHER_MUST_CHECK int hub_start(uv_loop_t *loop, const struct hub_options *o, struct hub **out,
                               char *errmsg);

/* The address the hub listens on (the port chosen when 0 was asked). */
struct sockaddr_in hub_listen_addr(const struct hub *h);

/* Counters for metrics and tests. */
struct hub_counters hub_counters(const struct hub *h);

/* Closes the listener and the connections still in their handshake. Every
 * group's transport must be closed already. */
void hub_stop(struct hub *h);

/* Frees a stopped hub once its handles are closed (after uv_run returned). */
void hub_destroy(struct hub *h);

/* ---- For raft/transport.c only ---- */

struct transport;

uv_loop_t *hub_loop(const struct hub *h);

/* Routes accepted connections for shard to t (until hub_unregister()).
 * Returns 0, or INVALID when the shard is out of range or taken. */
USHER_MUST_CHECK int hub_register(struct hub *h, uint32_t shard, struct transport *t);
void hub_unregister(struct hub *h, uint32_t shard, struct transport *t);

/* The address of member id. Returns 0, or INVALID for an unknown id. */
USHER_MUST_CHECK int hub_member_addr(const struct hub *h, uint64_t id, struct sockaddr_in *out);

/* False while dials to id back off after a failure. */
bool hub_dial_allowed(struct hub *h, uint64_t id);

/* Records the outcome of a dial to id: a failure lengthens its backoff,
 * a success resets it. */
void hub_dial_done(struct hub *h, uint64_t id, bool ok);

/* Writes the preamble this node sends for shard. */
void hub_preamble(const struct hub *h, uint32_t shard, uint8_t out[HUB_PREAMBLE_BYTES]);

#endif
