/*
 * usherd's configuration: one option table (config.c) drives the defaults,
 * the bounds, the config file parser, the command-line flags, `usherd
 * --help` and the option table of docs/OPERATIONS.md (test_config checks the
 * doc against it).
 *
 * Sources, later ones winning:
 *
 *   defaults  <  config file (--config FILE)  <  flags (--shards 8)
 *
 * and the environment's USHER_DEBUG adds debug subsystems to the "debug"
 * option. The config file format, one option per line:
 *
 *   # a comment: the whole line, after optional blanks
 *   key = value       blanks around key and value are dropped
 *
 * Values are decimal integers (no sign, no suffix), IPv4 addresses
 * "a.b.c.d:port", paths, a level name or a comma-separated list. Every
 * integer is checked against its range when it is read, with a message such
 * as "cluster.conf:3: shard_count out of range: 0 (1..1024)".
 */
#ifndef USHER_SRC_CONFIG_H
#define USHER_SRC_CONFIG_H

#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* Bytes of a path option (data folder, config file), NUL included. The data
 * folder's shard paths ("/shards/1023/raft/...") must still fit PATH_MAX. */
#define CONFIG_PATH_BYTES 1024u

/* Bytes of a config file: it is read whole. A larger file is refused. */
#define CONFIG_FILE_BYTES_MAX 65536u

/* Bytes of one config file line, or of one flag value, NUL included. */
#define CONFIG_LINE_BYTES 2048u

/* Bytes of "255.255.255.255:65535" with its NUL. */
#define CONFIG_ADDR_BYTES 22u

/* Hard ceilings of the options that size the node (STYLE.md 7.1). Each is
 * explained in docs/OPERATIONS.md; the lead may move them to limits.h. */
#define CONFIG_SHARDS_MAX            1024u
#define CONFIG_CONNECTIONS_MAX       65536u
#define CONFIG_INFLIGHT_PER_CONN_MAX 16384u
#define CONFIG_ENTRIES_IN_FLIGHT_MAX 256u
#define CONFIG_QUEUE_MAX             65536u
#define CONFIG_SNAPSHOT_ENTRIES_MAX  16777216u
#define CONFIG_MAP_BYTES_MAX         (1ull << 40) /* 1 TiB of address space per shard */
/* shard_count x map_bytes: every store is mapped at once, and x86-64 gives
 * a process 128 TiB of address space; keep half of it for the rest. */
#define CONFIG_MAP_BYTES_TOTAL_MAX (1ull << 46)
#define CONFIG_TIMEOUT_MS_MAX      60000u

/* Members of a cluster at most (peers option; a Raft group's voters). */
#define CONFIG_PEERS_MAX 9u

/* One member of the cluster: "ID=RAFT_ADDR/CLIENT_ADDR" in the peers option. */
struct config_peer {
    uint64_t id;
    struct sockaddr_in raft_addr;
    struct sockaddr_in client_addr;
};

/* What main() should do after config_load(). */
enum config_action {
    CONFIG_RUN = 0,
    CONFIG_HELP = 1,    /* --help: print config_help_write() to stdout, exit 0 */
    CONFIG_VERSION = 2, /* --version: print the version, exit 0 */
};

struct config {
    uint64_t node_id;                 /* required, != 0 */
    char data_dir[CONFIG_PATH_BYTES]; /* required */
    struct sockaddr_in listen_addr;   /* client protocol */
    struct sockaddr_in raft_addr;     /* Raft peers */
    struct sockaddr_in http_addr;     /* metrics, health, status */
    uint64_t cluster_id;              /* 0: none given (a one-node cluster makes one) */
    struct config_peer peers[CONFIG_PEERS_MAX];
    uint32_t peer_count;  /* 0: this node alone */
    uint32_t shard_count; /* fixed when the cluster is created */
    uint32_t connections_max;
    uint32_t inflight_per_conn_max;
    uint32_t frame_bytes_max; /* <= USHER_FRAME_BYTES_MAX */
    uint32_t batch_cmds_max;  /* <= USHER_BATCH_CMDS_MAX */
    uint32_t entries_in_flight_max;
    uint32_t queue_max;
    uint64_t snapshot_threshold;
    uint64_t snapshot_trailing;
    uint64_t map_bytes;
    uint32_t sweep_interval_ms;
    uint32_t election_timeout_ms;
    uint32_t lease_percent;
    uint32_t rejoin; /* 1: the node lost its data (raft/vote_guard.h) */
    uint32_t heartbeat_timeout_ms;
    uint32_t log_level;                  /* enum logger_level */
    uint32_t debug_mask;                 /* logger subsystems (1u << LOGGER_SUBSYSTEM_*) */
    uint32_t action;                     /* enum config_action */
    char config_path[CONFIG_PATH_BYTES]; /* "" when no --config */
};

/* Fills c with every option's default (node_id 0 and data_dir "", which
 * config_check() then refuses). */
void config_defaults(struct config *c);

/*
 * Loads the configuration: defaults, then the --config file, then the other
 * flags of argv (argv[0] is the program), then env_debug (USHER_DEBUG's
 * value, or NULL), then config_check(). With --help or --version anywhere in
 * argv, sets c->action and returns 0 without reading anything else.
 * Borrows argv for the call. Returns 0, or INVALID with errmsg
 * (USHER_ERRMSG_MAX bytes) naming the file and line, or the flag, and the
 * problem.
 */
USHER_MUST_CHECK int config_load(struct config *c, int argc, char *const argv[],
                                 const char *env_debug, char *errmsg);

/*
 * Applies the lines of a config file held in text[0..len) (name is used in
 * messages) over c. Returns 0, or INVALID with errmsg ("name:line: ...") at
 * the first bad line: an unknown key, a line without '=', a duplicate key, a
 * value that does not parse or is out of range.
 */
USHER_MUST_CHECK int config_file_parse(struct config *c, const char *text, size_t len,
                                       const char *name, char *errmsg);

/* Reads the file at path (at most CONFIG_FILE_BYTES_MAX bytes) and applies
 * it with config_file_parse(). Returns 0 or INVALID with errmsg. */
USHER_MUST_CHECK int config_file_read(struct config *c, const char *path, char *errmsg);

/* Applies the flags of argv[1..argc) over c (--config, --help and --version
 * are skipped; config_load() handles them). Accepts "--flag VALUE" and
 * "--flag=VALUE". Returns 0 or INVALID with errmsg. */
USHER_MUST_CHECK int config_args_parse(struct config *c, int argc, char *const argv[],
                                       char *errmsg);

/* Checks what single options cannot: required options are set, heartbeat is
 * below the election timeout, the three addresses differ, all shard stores
 * fit the address space (CONFIG_MAP_BYTES_TOTAL_MAX); with peers: a cluster
 * id is given, this node is a peer with its own raft and client addresses,
 * and no id or address is listed twice. Returns 0 or INVALID
 * with errmsg. */
USHER_MUST_CHECK int config_check(const struct config *c, char *errmsg);

/* Parses "a.b.c.d:port" (port 0..65535; 0 asks the kernel for one) into
 * *out. Returns 0 or INVALID with errmsg. */
USHER_MUST_CHECK int config_addr_parse(const char *text, struct sockaddr_in *out, char *errmsg);

/* Formats an address as "a.b.c.d:port" into out (CONFIG_ADDR_BYTES). */
void config_addr_format(const struct sockaddr_in *addr, char *out);

/* Writes `usherd --help` (usage and every option with default and range). */
void config_help_write(FILE *out);

/* Writes the option table of docs/OPERATIONS.md, one Markdown row per
 * option. */
void config_doc_write(FILE *out);

#endif
