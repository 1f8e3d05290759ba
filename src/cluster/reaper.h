/* reaper.h — removing tombstones once that is safe.
 *
 * A tombstone (DEL/VDEL) must stay as long as an older version of its key
 * could still reach a replica: that version would come back ("deleted key
 * returns").  Older versions can hide in four places: a replica that
 * missed the delete, a hint on any node, a stray copy on a node that no
 * longer owns the key (a transfer in progress), and a node that is down
 * (it would push them through anti-entropy when it returns).  So the key's
 * first owner reaps a key only when
 *   - every version it holds is a tombstone, the newest clock entry older
 *     than tombstone-reap-after (0 = never);
 *   - EVERY node in the membership table (members and nodes that left,
 *     except nodes that left and declared they hold nothing: GONE) is
 *     up and answers PCHECK: each owner holds exactly the same tombstones
 *     (equal digests), every other node holds nothing for the key, and no
 *     node holds a hint for it;
 * then it removes its own copy and tells the other owners to remove theirs
 * (PREAP), each only if its copy is still exactly those tombstones.  A
 * write that races with this is newer than the tombstones (or concurrent
 * with them), so it is a new version, never the deleted one coming back.
 * The one case this cannot see is a node that is no longer in any table
 * (removed and forgotten) coming back with old data, as with Cassandra's
 * gc_grace: such a node must come back wiped.
 */
#ifndef KV_REAPER_H
#define KV_REAPER_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct cfg;
struct store;
struct replica;
struct peers;
struct members;
struct handoff;
struct gossip;
struct reaper;
struct arg;
struct buf;

/* What the reaper works with; all borrowed and outliving the reaper.
 * peers, hh and gossip are NULL without a cluster. */
struct reaper_deps {
    struct event_base *base;   /* the pass timer */
    const struct cfg *cfg;     /* read live: tombstone-reap-after, timeouts, nnodes */
    struct store *store;       /* the pass; PCHECK digests */
    struct replica *replica;   /* the conditional removal (replica_drop_if_digest) */
    struct peers *peers;       /* PCHECK, PREAP */
    struct members *members;   /* preference lists, liveness */
    struct handoff *hh;        /* hints held here */
    struct gossip *gossip;     /* which nodes left with nothing (GONE) */
    int self_idx;              /* this node's index in cfg->nodes */
};

/* deps is copied. */
struct reaper *reaper_create(const struct reaper_deps *deps);
void reaper_destroy(struct reaper *r);   /* accepts NULL; after peers_destroy */

/* PCHECK key...: per key, this node's digest (8 bytes little-endian, 0 =
 * nothing) and whether it holds a hint for it (1 byte); one bulk. */
void reaper_serve_check(struct reaper *r, int nkeys, const struct arg *keys, struct buf *out);
/* PREAP key digest-hex: removes key when its digest is still that;
 * replies :1 when removed, :0 otherwise. */
void reaper_serve_reap(struct reaper *r, const struct arg *key, const struct arg *digest,
                       struct buf *out);

void reaper_info(const struct reaper *r, struct buf *out);

#endif
