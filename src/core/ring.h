/* ring.h — consistent hash ring (Dynamo §4.2). Pure module.
 *
 * Each physical node gets vnodes tokens: token i of node NAME is the first
 * 64 bits of MurmurHash3_x64_128("NAME#i", seed 0x5eed).  Keys are not
 * hashed onto the ring themselves: a key belongs to its Redis Cluster hash
 * slot (slot.h), and the ring's 2^64 positions are cut into SLOT_COUNT equal
 * arcs, slot s being arc s (the paper's strategy 3: Q equal-sized
 * partitions, tokens only decide who owns them).  A slot's position is the
 * middle of its arc, so every key of a slot shares one preference list, and
 * consecutive slots fall between the same tokens: owners change only at
 * the ~nodes*vnodes token boundaries, so CLUSTER SLOTS merges the 16384
 * slots into about that many ranges (hashing each slot to a random position
 * would give nearly 16384 one-slot ranges).  The
 * preference list of a slot (and of each of its keys) = the first N
 * distinct physical nodes met walking clockwise from the first token >= the
 * slot's position (wrapping around).
 *
 * A ring is an immutable snapshot with a version number: membership changes
 * build a new ring and swap the pointer.  Lookups take no lock and allocate
 * nothing.  Every node computes the same ring from the same member list
 * (tokens depend only on names; ties are broken by node name).
 */
#ifndef KV_RING_H
#define KV_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RING_SEED 0x5eedu
/* Lookups record visited nodes in one 64-bit word; equals CFG_MAX_NODES. */
#define RING_MAX_NODES 64

struct ring;

/* Builds a ring of nnodes members named names[i] (borrowed; copied).  Node
 * indices in results are positions in that names array.  vnodes >= 1.
 * Returns new (free with ring_destroy), or NULL when vnodes == 0,
 * nnodes > RING_MAX_NODES or two names are equal.  nnodes == 0 gives an
 * empty ring whose lookups return 0. */
struct ring *ring_create(const char *const *names, unsigned nnodes, unsigned vnodes, uint64_t version);
/* Same, but only slots with member[i] true own tokens (member NULL = all).
 * The others keep their index and name (nodes that left or were evicted),
 * so indices stay stable across membership changes. */
struct ring *ring_create_members(const char *const *names, unsigned nnodes, const bool *member,
                                 unsigned vnodes, uint64_t version);
void ring_destroy(struct ring *r);               /* accepts NULL */

uint64_t ring_version(const struct ring *r);
unsigned ring_nnodes(const struct ring *r);      /* slots, members or not */
unsigned ring_nmembers(const struct ring *r);    /* slots owning tokens */
bool ring_is_member(const struct ring *r, unsigned idx);
unsigned ring_vnodes(const struct ring *r);
const char *ring_node_name(const struct ring *r, unsigned idx);

/* HOT: the ring position of a hash slot (slot < SLOT_COUNT). */
uint64_t ring_slot_pos(unsigned slot);
/* HOT: the ring position of a key = ring_slot_pos(slot_of_key(key)): the one
 * key -> slot -> position function that placement, transfer, anti-entropy
 * and reaping all go through. */
uint64_t ring_key_pos(const void *key, size_t klen);

/* HOT: writes up to n distinct node indices (preference order) for the key
 * (its slot) into out[] and returns how many were written (min(n, nmembers)). */
unsigned ring_preflist(const struct ring *r, const void *key, size_t klen, unsigned n, unsigned *out);
/* Same, starting from a ring position. */
unsigned ring_preflist_at(const struct ring *r, uint64_t pos, unsigned n, unsigned *out);
/* Like ring_preflist but walks past the first n: writes up to max distinct
 * nodes in clockwise order (for sloppy-quorum fallbacks). */
unsigned ring_walk(const struct ring *r, uint64_t pos, unsigned max, unsigned *out);

/* HOT: ring_walk from a hash slot's position (slot < SLOT_COUNT), through
 * the snapshot's per-slot table (no hashing, no search). */
unsigned ring_slot_walk(const struct ring *r, unsigned slot, unsigned max, unsigned *out);
/* How many of the SLOT_COUNT slots have node idx as their first owner. */
unsigned ring_slots_primary(const struct ring *r, unsigned idx);

/* Fraction of the hash space for which node idx is the FIRST owner (primary
 * ranges), in [0,1].  Used for balance reports. */
double ring_ownership(const struct ring *r, unsigned idx);

/* Token access for DYNAMO RING: i in [0, ring_ntokens). */
size_t ring_ntokens(const struct ring *r);
void ring_token(const struct ring *r, size_t i, uint64_t *token, unsigned *node);

#endif
