/* ae.h — Merkle-tree anti-entropy (Dynamo §4.7).
 *
 * For every peer P this node keeps a hash tree over the keys both of them
 * replicate (keys whose preference list holds both): 4096 leaves by the top
 * 12 bits of the key's ring position, each the XOR of the digests of its
 * keys, so a write updates one leaf per peer in O(1) (XOR the old digest
 * out, the new one in).  64 groups of 64 leaves and a root are hashed from
 * the leaves on demand (MurmurHash3).
 *
 * Every anti-entropy-interval the node exchanges with its next peer in turn:
 * compare roots; if they differ, fetch P's 64 group hashes and descend only
 * into differing groups (64 leaf hashes each); then fetch P's (key, digest)
 * list for the differing leaves, and repair every key that differs in both
 * directions (pull P's versions with PGET, push ours with PPUT; reconcile
 * makes this idempotent).  At most AE_INFLIGHT repairs are in flight, so it
 * never floods the peer; a round that repaired something is followed at
 * once by the next round until the trees match.
 */
#ifndef KV_AE_H
#define KV_AE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg;
struct store;
struct replica;
struct peers;
struct members;
struct buf;
struct arg;
struct ae;

/* What anti-entropy works with; all borrowed, and all must outlive the ae
 * (peers: until after peers_destroy, whose callbacks may still reach it). */
struct ae_deps {
    struct event_base *base;   /* the exchange timer */
    const struct cfg *cfg;     /* read live: names, timeouts, interval, nnodes */
    struct store *store;       /* scanned to build trees and serve key lists */
    struct replica *replica;   /* repairs are written through it */
    struct peers *peers;       /* PAE/PGET/PPUT to the partner */
    struct members *members;   /* preference lists, liveness, name -> index */
    int self_idx;              /* this node's index in cfg->nodes */
};

/* Builds the trees from the current store (after the log was replayed) and
 * arms the exchange timer.  deps is copied. */
struct ae *ae_create(const struct ae_deps *deps);
void ae_destroy(struct ae *ae);    /* accepts NULL */

/* key's digest (sib_digest, core/siblings.h) went from old to new (0 =
 * absent).  Called by main's replica observer after every local change. */
void ae_update(struct ae *ae, const void *key, size_t klen, uint64_t old, uint64_t new_digest);
/* The ring changed (members joined or left): rebuilds every tree. */
void ae_ring_changed(struct ae *ae);
/* The store was emptied (main's replica observer). */
void ae_reset(struct ae *ae);

/* Serves a PAE command from peer (argv[0] = "PAE"); appends the reply. */
void ae_serve(struct ae *ae, int argc, const struct arg *argv, struct buf *out);

/* INFO fields and the DYNAMO CHECK report (per peer: differing leaves now
 * known from the last exchange, keys repaired, last full pass). */
void ae_info(const struct ae *ae, struct buf *out);
void ae_check(const struct ae *ae, struct buf *out, int *lines);

/* Per peer, for the status page: agreement at the last comparison. */
struct ae_peer_view {
    int last_diff_leaves;      /* leaves that differed at the last comparison */
    int64_t compared_ms_ago;   /* -1 = never compared */
    int64_t in_sync_ms_ago;    /* -1 = never found in sync */
    uint64_t exchanges, repaired;
};
/* false for self or an unknown index. */
bool ae_peer(const struct ae *ae, int idx, struct ae_peer_view *out);
/* The exchange under way: the peer (-1 = none), its stage ("idle", "root",
 * "groups", "leaves", "keys", "repair"), keys repaired of those found to
 * differ this round; leaves total per tree in *leaves. */
struct ae_progress {
    int peer;
    const char *stage;
    uint64_t repair_done, repair_total;
    uint64_t keys_repaired_total;  /* since start */
    int leaves;
};
void ae_progress(const struct ae *ae, struct ae_progress *out);

#endif
