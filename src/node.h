/*
 * A usherd node: one libuv loop running the client listener, every shard's
 * Raft group and the connections (DESIGN.md "Shape"). main() only parses the
 * configuration; node.c owns everything that runs.
 *
 *   node ──┬── listener (uv_tcp) ── conn ── conn ── ...   (conn.c)
 *          ├── groups[shard_count]  (raft/group.h)        (dispatch.c routes)
 *          └── signals: SIGTERM/SIGINT stop it cleanly
 */
#ifndef USHER_SRC_NODE_H
#define USHER_SRC_NODE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "conn.h"
#include "err.h"
#include "group.h"
#include "http.h"
#include "hub.h"
#include "logger.h"
#include "metrics.h"

struct conn;
struct logger;
struct node;

/* One member of the cluster (the peers option, config.h). */
struct node_member {
    uint64_t id;
    struct sockaddr_in raft_addr;
    struct sockaddr_in client_addr;
};

/* Members at most; also the voters of a shard group. */
#define NODE_MEMBERS_MAX 9u

struct node_options {
    uint64_t node_id;    /* != 0 */
    uint64_t cluster_id; /* 0: none given (allowed for a one-node cluster) */
    struct node_member members[NODE_MEMBERS_MAX];
    uint32_t member_count;          /* 0: this node alone */
    struct sockaddr_in raft_addr;   /* the Raft port of every shard (raft/hub.h) */
    const char *data_dir;           /* must exist or be creatable; borrowed */
    struct sockaddr_in listen_addr; /* client protocol */
    struct sockaddr_in http_addr;   /* metrics, health, status */
    uint32_t shard_count;           /* 1 .. CONFIG_SHARDS_MAX (config.h) */
    uint32_t connections_max;       /* client connections at once */
    uint32_t inflight_per_conn_max; /* requests in flight per connection */
    uint32_t frame_bytes_max;       /* <= USHER_FRAME_BYTES_MAX */
    struct group_options group;     /* template for every shard (shard, dir set per shard) */
};

enum node_state {
    NODE_STARTING = 1,
    NODE_RUNNING = 2,
    NODE_STOPPING = 3,
    NODE_STOPPED = 4,
};

typedef void (*node_stop_cb)(struct node *n, void *ctx);

struct node_counters {
    uint64_t conns_accepted;
    uint64_t conns_refused; /* over connections_max */
    uint64_t frames_in;
    uint64_t frames_bad; /* malformed frames (connection closed) */
    uint64_t replies_out;
    uint64_t busy;          /* BUSY answers */
    uint64_t commands;      /* COMMAND requests submitted */
    uint64_t reads;         /* read requests */
    uint64_t stale_reads;   /* of those, answered from this replica (follower reads) */
    uint64_t leased_reads;  /* of those, answered by the leader under its lease */
    uint64_t local_answers; /* commands answered by the leader under its lease
                               (refusals, replays), without a log entry */
};

/* The metric families a node registers (docs/OPERATIONS.md "Metrics"). */
struct node_metrics {
    struct metric *connections;
    struct metric *counters; /* one series per enum node_counter */
    struct metric *shard_role;
    struct metric *shard_term;
    struct metric *shard_commit;
    struct metric *shard_applied;
    struct metric *shard_entries;   /* counter: entries proposed */
    struct metric *shard_commands;  /* counter: commands proposed */
    struct metric *shard_in_flight; /* gauge */
    struct metric *shard_queued;    /* gauge */
    struct metric *raft_conns;      /* counter: the hub's connections by kind */
    struct metric *request_ms;      /* histogram per op: dispatch to reply */
    struct metric *replies;         /* counter per reply status code */
    struct metric *outcomes;        /* counter per command outcome code */
    struct metric *shard_snapshots; /* counter */
    struct metric *shard_restores;  /* counter */
    struct metric *shard_snap_ms;   /* gauge: the last export's loop time */
    struct metric *shard_snap_bytes;
    struct metric *shard_restore_ms;
    struct metric *shard_rejoin_pending; /* gauge: 1 while the vote guard waits */
    uint64_t last[11];                   /* counter values already added */
    uint64_t *shard_last; /* SHARD_COUNTERS per shard: counter values already added */
    uint64_t hub_last[4];
};

struct node {
    uv_loop_t *loop;
    struct node_options opts;
    struct logger *log;
    struct logger req_log; /* the dispatch subsystem's: refused requests, at debug */
    uint64_t cluster_id;
    struct hub *hub;
    struct group **groups;
    uint32_t groups_open;
    uint32_t transfers_out; /* leadership transfers of a stop still running */
    uv_tcp_t listener;
    uv_signal_t sigterm;
    uv_signal_t sigint;
    struct conn *conns;                    /* doubly linked list of open connections */
    struct conn *cork_owner;               /* the connection whose read is being handled */
    uint8_t cork_buf[CONN_CORK_BYTES_MAX]; /* its replies until then (conn.h) */
    uint32_t conn_count;
    uint64_t conn_seq;
    struct node_counters counters;
    struct metrics metrics;
    struct node_metrics m;
    struct http_server http;
    void (*http_then)(struct node *n);
    node_stop_cb stop_cb;
    void *stop_ctx;
    /* Small fields last, to keep the struct packed. */
    uint8_t state; /* enum node_state */
    bool listener_open;
    bool signals_started;
    bool http_started;
};

/*
 * Starts a node on loop: checks or writes the data folder's identity
 * (refusing a folder of another node or cluster shape), creates and starts
 * every shard's group, listens for clients and installs SIGTERM/SIGINT
 * handlers. Returns 0, or INVALID / STORAGE with errmsg filled. After a
 * failure past the identity check, call node_stop() and run the loop until
 * its callback, which releases what had started. log is borrowed for the
 * node's life.
 */
USHER_MUST_CHECK int node_start(struct node *n, uv_loop_t *loop, const struct node_options *o,
                                struct logger *log, char *errmsg);

/* Stops the node: stops accepting, answers or fails requests in flight,
 * closes connections and groups, then calls cb. Safe to call twice. */
void node_stop(struct node *n, node_stop_cb cb, void *ctx);

/* Frees what a stopped node still holds (the closed groups). Call it after
 * uv_run() returned. */
void node_destroy(struct node *n);

/* Starts the HTTP port (metrics, health, status) of a started node.
 * Returns 0, or INVALID / NOMEM with errmsg. (node_http.c) */
USHER_MUST_CHECK int node_http_start(struct node *n, char *errmsg);

/* Stops the HTTP port, then calls then(n) (maybe at once). */
void node_http_stop(struct node *n, void (*then)(struct node *n));

/* Records a reply: its latency (start_ns from uv_hrtime()) by op and its
 * status code, in the metrics (node_http.c; nothing once they are closed). */
void node_request_done(struct node *n, uint8_t op, uint16_t status, uint64_t start_ns);

/* Records the outcome code of an applied command (OK, SEAT_TAKEN, ...). */
void node_command_outcome(struct node *n, int status);

/* Returns the group of a shard (< shard_count). */
struct group *node_group(struct node *n, uint32_t shard);

/* Writes the client address of shard's leader as this node knows it into
 * out ("" when unknown, or when it is this node, still confirming). */
void node_leader_hint(struct node *n, uint32_t shard, char *out, size_t size);

#endif
