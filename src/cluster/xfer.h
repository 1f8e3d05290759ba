/* xfer.h — moving keys when the ring changes (Dynamo §4.9: "when a node is
 * added or removed, the key ranges move with their data").
 *
 * After a membership change, a pass over the local store finds the keys
 * this node no longer replicates (it is not among the first N nodes of the
 * key's preference list under the current ring: a node joined and took the
 * range over, or this node left).  Each such key's versions are written to
 * its current owners (PPUT, as a replica write); once every owner that is
 * up acknowledged them, and at least min(W, N) did, the local copy is
 * dropped — unless a newer version arrived meanwhile or the ring changed
 * back.  Keys this node still owns need no transfer: a joining node gets
 * them from the remaining replicas through anti-entropy (the trees are
 * rebuilt for the new ring) and read repair.
 *
 * Pacing: at most handoff-rate keys per second, one batch in flight.  A
 * pass that left keys behind (an owner down or slow) is repeated a second
 * later.  Stray keys written here later (a coordinator with an older ring)
 * are picked up by xfer_poke.
 */
#ifndef KV_XFER_H
#define KV_XFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg;
struct store;
struct replica;
struct peers;
struct members;
struct xfer;
struct buf;

/* What the transfer works with; all borrowed and outliving the xfer. */
struct xfer_deps {
    struct event_base *base;   /* the pass timer */
    const struct cfg *cfg;     /* read live: handoff-rate, W, put timeout */
    struct store *store;       /* the pass */
    struct replica *replica;   /* the conditional drop (replica_drop_if_covered) */
    struct peers *peers;       /* PPUT to the owners */
    struct members *members;   /* preference lists, liveness */
    int self_idx;              /* this node's index in cfg->nodes */
};

/* deps is copied; created once the replica exists (main.c). */
struct xfer *xfer_create(const struct xfer_deps *deps);
void xfer_destroy(struct xfer *x);   /* accepts NULL; after peers_destroy */

/* The ring changed: start a new pass at once. */
void xfer_ring_changed(struct xfer *x);
/* A key this node does not own was written here: pass again soon. */
void xfer_poke(struct xfer *x);

/* A replica write of key landed here: pokes when this node does not own it. */
void xfer_note_write(struct xfer *x, const void *key, size_t klen);

/* INFO fields (xfer_*). */
void xfer_info(const struct xfer *x, struct buf *out);
uint64_t xfer_moved(const struct xfer *x);
/* A pass is under way, due, or has a batch in flight. */
bool xfer_busy(const struct xfer *x);

/* The pass under way (or the last one), for DYNAMO STATUS and the status
 * page: store entries visited of those there were when it started, strays
 * found and sent, moved (acknowledged and dropped here), failed. */
struct xfer_progress {
    bool busy;                 /* xfer_busy */
    bool active;               /* a pass is scanning or waiting on its batch */
    uint64_t scanned, total;   /* entries visited / store size at pass start */
    uint64_t strays, moved, failed; /* this pass */
    int inflight;              /* keys of the batch awaiting their owners */
    int64_t started_ms;        /* monotonic; 0 = no pass yet */
    uint64_t moved_total;      /* since start */
};
void xfer_progress(const struct xfer *x, struct xfer_progress *out);

#endif
