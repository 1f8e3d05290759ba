/* topology.h — the Redis Cluster view of a Dynamo ring (issue 13), pure.
 *
 * Cluster-aware clients (CLUSTER SLOTS / SHARDS / NODES) expect each hash
 * slot to have one "master" and some "replicas".  Here a slot's owners are
 * the live nodes of its preference list, in preference order: the first is
 * the slot's coordinator (the node a write is coordinated by, so a client
 * that sends the key there saves the forwarding hop) and is announced as
 * master, the others as its replicas.  When none of the N nodes of the list
 * is live, the first live node further along the ring (the sloppy quorum's
 * substitute) is the only owner, so every slot stays covered while any
 * ring member is live.  Consecutive slots with the same owner list form
 * one run (a CLUSTER SLOTS row); runs with the same owner list form one
 * shard (a CLUSTER SHARDS entry).
 *
 * Inputs: a ring snapshot, N and a liveness bitmap (bit i = node index i
 * looks live, as PREFLIST_BIT); nothing is read from elsewhere, so every
 * node that sees the same ring and liveness announces the same map.
 * Callers: cmd/cmd_cluster.c (per CLUSTER command), tests/unit/test_topology.c.
 */
#ifndef KV_TOPOLOGY_H
#define KV_TOPOLOGY_H

#include <stdint.h>

struct ring;
struct topo;

/* Builds the view: O(SLOT_COUNT * N) walks plus the grouping.  r borrowed
 * (not kept).  Returns new; free with topo_destroy. */
struct topo *topo_build(const struct ring *r, unsigned n, uint64_t up);
void topo_destroy(struct topo *t);               /* accepts NULL */

/* Runs in ascending slot order, covering every slot that has an owner
 * (slots without one, possible only when no ring member is live, are in
 * no run). */
unsigned topo_nruns(const struct topo *t);
/* Run i: its slots [*first, *last], its owners (node indices, master
 * first; borrowed, valid until topo_destroy) and their count (>= 1). */
const uint8_t *topo_run(const struct topo *t, unsigned i, unsigned *first, unsigned *last,
                        unsigned *nown);
/* The shard of run i: shards are numbered 0.. in order of their first run;
 * runs of one shard have equal owner lists. */
unsigned topo_run_shard(const struct topo *t, unsigned i);
unsigned topo_nshards(const struct topo *t);
/* Slots whose master (first owner) is node idx. */
unsigned topo_master_slots(const struct topo *t, unsigned idx);

#endif
