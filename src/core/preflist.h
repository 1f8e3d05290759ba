/* preflist.h — the pure preference-list decisions (Dynamo §4.3, §4.6) over
 * a ring snapshot and a liveness bitmap: no sockets, no event loop.
 * cluster/members.c feeds them the current ring and what it sees alive;
 * tests/unit/test_members.c checks them alone.
 *
 * Liveness is a bitmap: bit i set = node index i looks reachable (index
 * into the ring / cfg.nodes; at most RING_MAX_NODES = 64 nodes). */
#ifndef KV_PREFLIST_H
#define KV_PREFLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ring;

#define PREFLIST_BIT(idx) ((uint64_t)1 << (unsigned)(idx))

/* Writes key's preference list (min(n, members of r) distinct node indices,
 * preference order) into out[RING_MAX_NODES]; returns its length.
 * r, key borrowed. */
unsigned preflist_of(const struct ring *r, unsigned n, const void *key, size_t klen,
                     unsigned *out);

/* idx's position in pl[0..np) (0 = first owner), or -1 when absent. */
int preflist_rank(const unsigned *pl, unsigned np, int idx);

/* The node that must coordinate a write: the first of pl[0..np) whose bit
 * is set in up; self when none is (replication then reports the missing
 * quorum). */
int preflist_write_target(const unsigned *pl, unsigned np, uint64_t up, int self);

/* Sloppy quorum: true when at least w of the N copies can be placed, i.e.
 * min(live ring members, n) >= w.  Owners or substitutes alike, so only
 * the number of reachable ring members counts.  r borrowed. */
bool preflist_can_reach_quorum(const struct ring *r, unsigned nnodes, uint64_t up, int n, int w);

#endif
