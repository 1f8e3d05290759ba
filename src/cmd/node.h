/* node.h — struct kv_node: what the command layer runs against, the one
 * place that holds a node's modules and global state.  Filled in by main.c
 * and handed to the command handlers (cmd/), which reach every module
 * through it; the layers below never see it (each module gets only its own
 * collaborators, through its *_deps struct), and nothing reaches it through
 * a global variable. */
#ifndef KV_NODE_H
#define KV_NODE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/config.h"
#include "util/clock.h"

struct event_base;
struct store;
struct members;
struct cluster;
struct srv;
struct coord;
struct peers;
struct gossip;
struct handoff;
struct aof;
struct ae;
struct xfer;
struct reaper;
struct replica;
struct cmdstats;
struct admin;
struct http;

/* The connection layer's counters are the server's (srv_traffic). */
struct kv_stats {
    uint64_t keyspace_hits;
    uint64_t keyspace_misses;
    uint64_t sibling_reads;       /* GETs refused because of siblings */
    uint64_t expired_keys;
};

struct kv_node {
    struct event_base *base;
    struct cfg cfg;
    struct store *store;
    struct members *members; /* ring snapshot, member table, liveness (members.h) */
    struct srv *srv;         /* client + cluster listeners and connections */
    struct coord *coord;     /* request coordination */
    struct peers *peers;     /* outgoing peer connections; NULL without a cluster */
    struct gossip *gossip;   /* membership; NULL without a cluster */
    struct cluster *cluster; /* gossip rounds' state (cluster.c); NULL without a cluster */
    struct handoff *hh;      /* hints held for unreachable nodes; NULL without a cluster */
    struct aof *aof;         /* append-only log; NULL with appendonly no */
    struct ae *ae;           /* anti-entropy trees; NULL without a cluster */
    struct xfer *xfer;       /* moves keys after ring changes; NULL without a cluster */
    struct reaper *reaper;   /* removes tombstones once that is safe */
    struct replica *replica; /* the local write path (main.c, once the log is open) */
    struct cmdstats *cmdstats; /* per-command latency, slow log (cmd/cmd_latency.h) */
    struct admin *admin;     /* status, metrics, health (cmd/admin.h) */
    struct http *http;       /* the admin HTTP endpoint (net/http.h); NULL with admin-port 0 */
    uint32_t actor;          /* interned clock identity "name.incarnation" */
    uint64_t incarnation;    /* start time in ms: distinguishes restarts */
    int self_idx;            /* this node's index in the ring */
    time_t start_time;
    char run_id[41];
    struct kv_stats stats;
    volatile int shutdown_asap;
};


#endif
