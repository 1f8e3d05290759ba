/* cluster.h — wiring of the cluster's background machinery on the event
 * loop: the gossip rounds (PGOSSIP exchanges driving gossip.c) and hinted
 * handoff (handoff.c).  Started by main.c when the configuration lists
 * nodes. */
#ifndef KV_CLUSTER_H
#define KV_CLUSTER_H

#include <stddef.h>

struct kv_node;
struct buf;

/* Creates node->cluster (the rounds' state), node->gossip, node->hh and
 * node->xfer, and arms the gossip timer.  Needs
 * node->peers. */
void cluster_start(struct kv_node *node);
/* Frees them; call after peers_destroy (pending callbacks have run). */
void cluster_stop(struct kv_node *node);

/* PGOSSIP: merges a peer's table (p, len borrowed) and appends this node's
 * table to out.  0, or KV_EPROTO for a malformed table. */
int cluster_gossip_exchange(struct kv_node *node, const void *p, size_t len, struct buf *out);

/* DYNAMO JOIN host:port: adds host:cport (a cluster port) as a seed and
 * gossips with it, so this node and the cluster there learn each other.
 * host must be numeric IPv4 (nothing is resolved at run time: getaddrinfo
 * would block the event loop).  0, KV_EINVAL without a cluster,
 * KV_ENOTFOUND for a host that is not numeric IPv4, KV_ETOOBIG when the
 * seed list is full. */
int cluster_join(struct kv_node *node, const char *host, int cport);
/* DYNAMO LEAVE: this node leaves the ring; its keys move to their new
 * owners (xfer.h).  It keeps serving (as a coordinator-less proxy) until
 * stopped; a restart joins again. */
void cluster_leave(struct kv_node *node);
/* DYNAMO REMOVE name: takes another node out of the ring (a dead node that
 * will not come back).  0, KV_ENOTFOUND, or KV_EINVAL for this node itself.
 * A removed node that is running puts itself back. */
int cluster_remove(struct kv_node *node, const char *name, size_t len);

#endif
