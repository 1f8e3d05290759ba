/* config.h — configuration: one option table drives the config file, the
 * command-line flags, CONFIG GET and CONFIG SET. Pure module (no sockets).
 *
 * File format (cluster.conf), Redis-style, one directive per line:
 *     # comment
 *     n 3
 *     put-timeout 5000
 *     cluster-secret s3cret
 *     node n1 127.0.0.1:7001            (cluster port = port + 10000)
 *     node n2 127.0.0.1:7002 17002      (explicit cluster port)
 *     seed 127.0.0.1:7001               (a node to join through, by address)
 * Values may be quoted with "double quotes".  Every option key is also a
 * command-line flag: --port 7001 or --port=7001.  Precedence: defaults <
 * file < flags.  --node NAME selects which `node` line this process is; its
 * host/port become bind/port unless flags override them.  A NAME that no
 * node line names, given with --port, is a new node joining the cluster:
 * it is appended to the list (the listed nodes are its seeds).
 *
 * Errors name the place: "cluster.conf:12: unknown option 'foo'",
 * "--port: '70x' is not an integer", "w (3) must be between 1 and n (2)".
 * Messages are appended to err as plain text without a RESP code ("ERR");
 * the caller adds one.  Echoed values are truncated and stripped of control
 * bytes, so they are safe to put in a reply.
 */
#ifndef KV_CONFIG_H
#define KV_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define CFG_MAX_NODES 64
#define CFG_NAME_MAX 64
#define CFG_MAX_SEEDS 16

enum cfg_fsync {
    CFG_FSYNC_ALWAYS = 0,
    CFG_FSYNC_EVERYSEC,
    CFG_FSYNC_NO,
    CFG_FSYNC_COUNT
};

struct cfg_node {
    char name[CFG_NAME_MAX];
    char host[64];     /* IPv4 dotted quad or hostname */
    int port;          /* client port */
    int cport;         /* cluster port */
};

struct cfg {
    /* identity and listeners */
    char node_name[CFG_NAME_MAX]; /* --node; default "<bind>:<port>" when no cluster file */
    char bind[64];                /* default 127.0.0.1 */
    char cluster_bind[64];        /* cluster port's address; "" = bind (cfg_cluster_bind) */
    int port;                     /* default 7001 */
    int cluster_port;             /* default port + 10000 (0 = derive) */
    char *config_file;            /* --config path, NULL if none */
    char *dir;                    /* data directory, default "." */
    char *logfile;                /* "" = stderr */
    int loglevel;                 /* 0 debug,1 verbose,2 notice,3 warning */
    char *requirepass;            /* NULL/"" = no auth */
    char *cluster_secret;         /* shared secret for peers; default "" */
    /* quorum */
    int n, w, r;                  /* default 1/1/1 when no nodes configured */
    int pr, pw;                   /* answers needed from owners themselves, not
                                     substitutes (Riak's PR/PW); 0 = no such rule */
    int vnodes_per_node;          /* 128 */
    int put_timeout_ms;           /* 5000 */
    int get_timeout_ms;           /* 5000 */
    int gossip_interval_ms;       /* 1000 */
    int gossip_suspect_ms;        /* 3000 */
    int gossip_dead_ms;           /* 8000 */
    long long dead_node_evict_ms; /* dead-node-evict-after; 0 = never (default) */
    long long tombstone_reap_ms;  /* tombstone-reap-after; 0 = never; 1 hour */
    long long max_hints;          /* 1000000 */
    int anti_entropy_interval_ms; /* 5000; 0 = off */
    int handoff_rate;             /* hints/s per owner, 5000 */
    /* durability */
    int appendonly;               /* 1 = yes (default) */
    int appendfsync;              /* CFG_FSYNC_* (default everysec) */
    int aof_rewrite_pct;          /* auto-aof-rewrite-percentage, 100 */
    long long aof_rewrite_min;    /* auto-aof-rewrite-min-size, 64 MB */
    int vclock_max_entries;       /* 50 */
    int siblings_warn;            /* 25: log and count writes leaving more versions */
    int max_siblings;             /* 100: refuse new writes leaving more (<= 512) */
    /* client limits (Redis names and defaults) */
    long long proto_max_bulk_len;        /* 512 MB */
    long long max_multibulk_len;         /* 1M elements */
    long long client_query_buffer_limit; /* 1 GB */
    long long client_output_buffer_limit;/* 64 MB; 0 = unlimited */
    int maxclients;               /* 10000 */
    int timeout;                  /* idle client timeout, seconds, 0 = never */
    int tcp_backlog;              /* 511 */
    long long set_max_intset_entries; /* 512: OBJECT ENCODING of a set (cmd_set.c) */
    /* bounded before trust, bounded per client (server.c) */
    int enable_debug_command;     /* 1 = DEBUG is served (tests); 0 (default) = refused */
    int protected_mode;           /* 1 = yes (default): refuse remote clients
                                     when bound beyond loopback without requirepass */
    int auth_grace_period;        /* seconds an unauthenticated connection lives, 10 */
    long long unauth_max_bulk_len;      /* 16 KB: largest argument before auth */
    long long unauth_max_multibulk_len; /* 10: most arguments before auth */
    int cluster_maxclients;       /* cluster-port connections, 1024 */
    int max_pending_connections;  /* unauthenticated connections per port, 1024 */
    int max_inflight_per_client;  /* coordinator requests in flight per connection, 256 */
    /* operating it (issue 15) */
    int latency_tracking;         /* 1 = yes (default): per-command latency histograms */
    long long slowlog_log_slower_than; /* µs; -1 = off, 0 = every command; 10000 */
    int slowlog_max_len;          /* slow log entries kept, 128 */
    int admin_port;               /* admin HTTP endpoint (net/http.c); 0 = off (default) */
    char admin_bind[64];          /* its address; "" = bind */
    /* Redis's hash encoding thresholds (also under their older ziplist
     * names): OBJECT ENCODING reports "listpack" for a hash of at most
     * this many fields whose fields and values are at most this long, else
     * "hashtable"; the stored form does not depend on them */
    long long hash_max_listpack_entries; /* 128 */
    long long hash_max_listpack_value;   /* 64 bytes */
    long long zset_max_listpack_entries; /* 128: the same for sorted sets */
    long long zset_max_listpack_value;   /* 64 bytes (members) */
    /* cluster members from `node` lines (then nodes learnt at run time) */
    int nnodes;
    struct cfg_node nodes[CFG_MAX_NODES];
    /* `seed HOST:PORT [CPORT]` lines: contacted by address (name empty) */
    int nseeds;
    struct cfg_node seeds[CFG_MAX_SEEDS];
    /* set by cfg_set when something changed that needs applying (e.g. ring) */
    bool changed_quorum;
    /* config*.c only: bit i = option table entry i was given as a flag, so
     * cfg_finish lets --bind/--port/--cluster-port beat the node line. */
    uint64_t flag_set;
};

/* Fills every field with its default. */
void cfg_init(struct cfg *c);
void cfg_fini(struct cfg *c);  /* frees the strings; accepts zeroed memory */

/* Loads a file. On error returns KV_ECONFIG with "path:line: reason" in err. */
int cfg_load_file(struct cfg *c, const char *path, struct buf *err);

/* Applies argv flags (argv[0] skipped).  --config is applied first (file),
 * then the rest, so flags override the file.  --help / --version set
 * *want_help / *want_version and return 0.  On error returns KV_ECONFIG with
 * the flag named in err. */
int cfg_load_args(struct cfg *c, int argc, char **argv, bool *want_help,
                  bool *want_version, struct buf *err);

/* Checks cross-field rules after loading (1 <= w,r <= n <= nodes, the named
 * node exists when nodes are configured, ports in range...) and fills derived
 * fields (cluster_port, node_name, bind/port from the node line).  0 or
 * KV_ECONFIG with the reason in err. */
int cfg_finish(struct cfg *c, struct buf *err);

/* Sets one option by name (file key, flag without "--", CONFIG SET name).
 * runtime = true refuses options that cannot change while running.  Validates
 * the value; with runtime = true also the cross-field rules (w <= n ...)
 * against the current values (otherwise cfg_finish checks them, since file
 * order is free).  0 or KV_ECONFIG/KV_ENOTFOUND with a message in err. */
int cfg_set(struct cfg *c, const char *name, const char *value, bool runtime, struct buf *err);

/* CONFIG GET: calls fn(name, value) for every option whose name matches the
 * glob pattern (Redis glob rules: * ? [abc] and \ escapes, case-insensitive). */
typedef void (*cfg_get_fn)(void *arg, const char *name, const char *value);
/* Secrets (requirepass, cluster-secret) are reported as "": CONFIG GET
 * never reveals them.  cfg_get_raw reports their values (CONFIG SET's
 * rollback); never send its output to a client. */
void cfg_get(const struct cfg *c, const char *pattern, cfg_get_fn fn, void *arg);
void cfg_get_raw(const struct cfg *c, const char *pattern, cfg_get_fn fn, void *arg);
/* The address the cluster port listens on and peer links leave from:
 * cluster-bind, or bind when that is empty. */
const char *cfg_cluster_bind(const struct cfg *c);

/* Writes --help text (every option, its default and meaning). */
void cfg_usage(struct buf *out);

/* Parses "HOST:PORT" and an optional cluster port (NULL = PORT + 10000) as
 * a node line does, into out (name empty).  0 or KV_ECONFIG with a message. */
int cfg_parse_address(const char *hostport, const char *cport, struct cfg_node *out,
                      struct buf *err);

/* The index in c->nodes of the member named name (len bytes, need not be
 * NUL-terminated; exact, case-sensitive), or -1.  The one name-to-index
 * lookup of the member table: O(nnodes), at most CFG_MAX_NODES. */
int cfg_node_index(const struct cfg *c, const char *name, size_t len);

/* Redis-style glob match (config_glob.c), exposed for KEYS/SCAN MATCH too. */
bool cfg_glob_match(const char *pat, size_t plen, const char *str, size_t slen, bool nocase);

#endif
