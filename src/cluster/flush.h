/* flush.h — FLUSHALL / FLUSHDB across the cluster (issue 16).
 *
 * A flush is a new cluster flush epoch E = the epoch this node knows + 1.
 * Every version carries the epoch its coordinator knew when it stamped it
 * (siblings.h); a node that knows E drops every version stamped before E
 * and refuses them from then on (replica.h), so one local pass per node
 * replaces a replicated delete per key.  The node the client sent FLUSHALL
 * to applies E itself, sends PFLUSH E to every other node of its member
 * table, and answers once W nodes (itself included) applied it and logged
 * it; gossip carries E to the ones that missed it (gossip.h), and each
 * node's log keeps it (aof.h).
 *
 * Two flushes at once through different nodes may pick the same E: they
 * are then one flush (the epoch is a cut, not an identity), and the higher
 * of two different ones wins everywhere.  A write stamped by a coordinator
 * before it learnt E is flushed, one stamped after is kept: the epoch is in
 * the version, so every replica decides the same for it.
 */
#ifndef KV_FLUSH_H
#define KV_FLUSH_H

struct cfg;
struct event_base;
struct members;
struct peers;
struct replica;

struct flush_deps {
    struct event_base *base;  /* this node's pass runs on the loop's next turn */
    struct replica *replica;  /* this node's write path: applies E here */
    struct peers *peers;      /* NULL: a single node (no PFLUSH to send) */
    struct members *members;  /* liveness */
    const struct cfg *cfg;    /* w, put-timeout, the member table */
    int self_idx;
};

/* Called once with 0 (W nodes applied the flush) or KV_ENOQUORUM (the
 * replies or timeouts came back with fewer: the flush may still reach the
 * others through gossip, as a write answered NOQUORUM may be applied). */
typedef void (*flush_done_fn)(void *arg, int err);

/* Flushes the cluster (d's members borrowed; base, replica and peers must
 * outlive the flush).  Returns KV_ENOQUORUM at once, having done nothing,
 * when fewer than W nodes (itself included) are up as this node sees them;
 * else 0: the PFLUSH requests are sent, this node's own pass runs on the
 * loop's next turn, and done runs once, later (never before this
 * returns). */
int flush_cluster(const struct flush_deps *d, flush_done_fn done, void *arg);

#endif
