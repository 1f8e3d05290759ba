/* cluster.h — membership on the event loop: the gossip rounds (PGOSSIP
 * exchanges driving the pure table of core/gossip.c), the member list file,
 * and each new ring handed to members.c.  Started by main.c when the
 * configuration lists nodes. */
#ifndef KV_CLUSTER_H
#define KV_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg;
struct store;
struct peers;
struct members;
struct handoff;
struct gossip;
struct buf;
struct cluster;

/* What the gossip rounds work with; all borrowed, and all must outlive the
 * cluster (peers: until after peers_destroy). */
struct cluster_deps {
    struct event_base *base;   /* the gossip timer */
    struct cfg *cfg;           /* the member table cfg->nodes grows as gossip
                                  reports new members (and from the saved list) */
    struct store *store;       /* key count: a node that left and holds nothing is gone */
    struct peers *peers;       /* PGOSSIP links and seeds; grows with cfg->nodes */
    struct members *members;   /* gets each new ring and the gossip table */
    struct handoff *hh;        /* pending hints: a node that left and holds some is not gone */
    uint64_t incarnation;      /* this node's start, for its gossip heartbeat */
    int self_idx;              /* this node's index in cfg->nodes */
    /* What depends on the ring, told after each new one (main.c: the
     * anti-entropy trees and the transfer), and whether a transfer is still
     * moving keys away; both may be NULL. */
    void (*ring_changed)(void *arg);
    bool (*transfer_busy)(void *arg);
    void *arg;
};

/* Loads the saved member list, creates the gossip table (handed to
 * members), builds the first ring and arms the gossip timer.  deps is
 * copied. */
struct cluster *cluster_start(const struct cluster_deps *deps);
/* The membership table (for INFO, DYNAMO NODES, the reaper). */
struct gossip *cluster_gossip(const struct cluster *cl);
/* Frees it; call after peers_destroy (pending callbacks have run).
 * Accepts NULL. */
void cluster_stop(struct cluster *cl);

/* The calls below accept cl == NULL (a node without a cluster) and then
 * answer as a single node does. */

/* PGOSSIP: merges a peer's table (p, len borrowed) and appends this node's
 * table to out.  0, or KV_EPROTO for a malformed table. */
int cluster_gossip_exchange(struct cluster *cl, const void *p, size_t len, struct buf *out);

/* DYNAMO JOIN host:port: adds host:cport (a cluster port) as a seed and
 * gossips with it, so this node and the cluster there learn each other.
 * host must be numeric IPv4 (nothing is resolved at run time: getaddrinfo
 * would block the event loop).  0, KV_EINVAL without a cluster,
 * KV_ENOTFOUND for a host that is not numeric IPv4, KV_ETOOBIG when the
 * seed list is full. */
int cluster_join(struct cluster *cl, const char *host, int cport);
/* DYNAMO LEAVE: this node leaves the ring; its keys move to their new
 * owners (xfer.h).  It keeps serving (as a coordinator-less proxy) until
 * stopped; a restart joins again. */
void cluster_leave(struct cluster *cl);
/* DYNAMO REMOVE name: takes another node out of the ring (a dead node that
 * will not come back).  0, KV_ENOTFOUND, or KV_EINVAL for this node itself.
 * A removed node that is running puts itself back. */
int cluster_remove(struct cluster *cl, const char *name, size_t len);

#endif
