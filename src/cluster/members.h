/* members.h — membership as the rest of the node sees it: the current ring
 * snapshot (and its replacement when membership changes), the member table
 * (names and addresses in cfg.nodes, name -> index), liveness (a node looks
 * up when its peer link is up and gossip does not consider it dead) and the
 * preference-list queries built on them.  ae, xfer, reaper, handoff, the
 * coordinator and the command files ask here; the decisions themselves are
 * pure (core/preflist.h).
 *
 * Index = a node's slot in cfg.nodes and in the ring (stable across
 * membership changes).  Every query may be called from inside a callback
 * and never blocks. */
#ifndef KV_MEMBERS_H
#define KV_MEMBERS_H

#include <stdbool.h>
#include <stddef.h>

struct cfg;
struct gossip;
struct peers;
struct ring;
struct members;

/* Creates the members state, taking ring (the first snapshot; freed by
 * members_destroy or when replaced).  cfg borrowed for the members' life:
 * its member table (nodes, nnodes: it grows in place as members join), n
 * and w are read at query time.  self: this node's index. */
struct members *members_create(const struct cfg *cfg, int self, struct ring *ring);
void members_destroy(struct members *m);       /* accepts NULL; frees the ring */

/* The liveness sources, borrowed; NULL (the default) = none: without peer
 * links only self is up (and there is no cluster: write target = self,
 * quorum always reachable); without gossip a live link is enough.  Set by
 * main.c (peers) and cluster.c (gossip), and cleared before they are
 * destroyed. */
void members_set_peers(struct members *m, const struct peers *peers);
void members_set_gossip(struct members *m, const struct gossip *gossip);

/* The current immutable ring snapshot (borrowed: valid until the next
 * members_set_ring, i.e. do not keep it across event-loop turns). */
const struct ring *members_ring(const struct members *m);
/* Replaces the snapshot with r (taken) and frees the old one. */
void members_set_ring(struct members *m, struct ring *r);

/* Member table (cfg.nodes): the index of a name (name borrowed, not
 * NUL-terminated; -1 when unknown). */
int members_index(const struct members *m, const char *name, size_t len);

/* True when node idx looks reachable: self, or a live peer link that gossip
 * does not consider dead. */
bool members_node_up(const struct members *m, int idx);

/* Writes the key's preference list (N distinct node indices, indices into
 * cfg.nodes / the ring) into out[CFG_MAX_NODES]; returns its length. */
unsigned members_preflist(const struct members *m, const void *key, size_t klen, unsigned *out);

/* The same for a hash slot (slot.h): every key of the slot has this list. */
unsigned members_slot_preflist(const struct members *m, unsigned slot, unsigned *out);

/* idx's position in key's preference list (0 = first owner), or -1 when
 * idx does not replicate key. */
int members_owner_rank(const struct members *m, const void *key, size_t klen, int idx);

/* The node that must coordinate a write of key: the first node of its
 * preference list that looks alive (self when it is that node, or when
 * none is, or without a cluster). */
int members_write_target(const struct members *m, const void *key, size_t klen);

/* The same for every key of a hash slot. */
int members_slot_write_target(const struct members *m, unsigned slot);

/* True when at least w (0 = configured w) nodes of the ring look alive
 * from here, up to N (sloppy quorum: owners or substitutes).  A node asked
 * to coordinate (PFWD) that cannot reach a write quorum declines, so the
 * sender can try the next node.  key is not used (any healthy nodes can
 * hold the copies); it stays for a per-key rule.  Without a cluster: true. */
bool members_can_reach_quorum(const struct members *m, const void *key, size_t klen, int w);

#endif
