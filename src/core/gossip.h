/* gossip.h — membership and failure detection (Dynamo §4.8). Pure module:
 * no sockets, no event loop; the caller drives it with the time and moves
 * its encoded tables between nodes (PGOSSIP over the peer channel).
 *
 * Every member of the configured cluster has a row: name, address,
 * generation (the node's incarnation: its start time in ms, so a restarted
 * node is recognised as new), heartbeat (bumped by the node itself every
 * gossip interval) and a locally computed state:
 *   alive   -> suspect  when its heartbeat has not advanced for suspect_ms
 *   suspect -> dead     when it has not advanced for dead_ms
 *   any     -> alive    as soon as a higher (generation, heartbeat) arrives
 * Merging a received table keeps, per member, the row with the higher
 * (generation, heartbeat) pair.  States are never gossiped: each node
 * judges liveness from heartbeat progress it observed itself.  Self is
 * always alive.
 *
 * Membership.  Every row also carries the member's address and a ring
 * status, MEMBER, LEFT or GONE, with a status version: the higher version
 * wins, and on a tie GONE beats LEFT beats MEMBER.  GONE is set by a node
 * itself once it left and handed all its data over (gossip_mark_gone), so
 * the others know it holds nothing.  A row naming a node this table does not know, and
 * giving its address, adds that node as a new member (this is how a node
 * started outside cluster.conf's node list joins through the listed nodes,
 * the seeds).  A node marks itself LEFT when told to leave (gossip_leave);
 * other nodes mark a member LEFT when an operator removes it or when it was
 * dead for longer than the eviction timeout (off unless set).  A node that
 * is running and has not been told to leave is a member: when a table says
 * otherwise about it, it answers with a higher status version, so an
 * evicted node that comes back rejoins.  Ring membership is the set of
 * MEMBER rows, read by the caller after each membership callback.
 *
 * Member indices are positions in the table: the configured node list
 * (cfg.nodes) first, then nodes learnt from gossip in the order they were
 * learnt.  Indices never change or get reused, so they are the ring's
 * indices too.
 */
#ifndef KV_GOSSIP_H
#define KV_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "util/buf.h"

enum gossip_state {
    GOSSIP_ALIVE = 0,
    GOSSIP_SUSPECT,
    GOSSIP_DEAD,
    GOSSIP_STATE_COUNT
};
const char *gossip_state_name(enum gossip_state s);

enum gossip_status {
    GOSSIP_MEMBER = 0,  /* owns a place in the ring */
    GOSSIP_LEFT,        /* left, removed or evicted: keeps its index only */
    GOSSIP_GONE         /* left and handed everything over: holds no data */
};
const char *gossip_status_name(enum gossip_status s);

struct gossip;

/* Called when a member's state changes (from gossip_tick or gossip_merge). */
typedef void (*gossip_change_fn)(void *arg, int idx, enum gossip_state from,
                                 enum gossip_state to);

/* Called when a member was added (added = true; its index is the new
 * gossip_nmembers() - 1) or its ring status changed. */
typedef void (*gossip_member_fn)(void *arg, int idx, bool added);

/* nodes[0..nnodes) borrowed (copied); self_idx is this node; generation is
 * this node's incarnation; now_ms a monotonic clock.  Every other member
 * starts alive with heartbeat 0, as if heard from at now_ms. */
struct gossip *gossip_create(const struct cfg_node *nodes, int nnodes, int self_idx,
                             uint64_t generation, int64_t now_ms);
void gossip_destroy(struct gossip *g);  /* accepts NULL */

void gossip_set_timeouts(struct gossip *g, int suspect_ms, int dead_ms);
/* A member dead for longer than evict_ms is marked LEFT; 0 = never. */
void gossip_set_evict(struct gossip *g, int64_t evict_ms);
void gossip_on_change(struct gossip *g, gossip_change_fn fn, void *arg);
void gossip_on_member(struct gossip *g, gossip_member_fn fn, void *arg);

/* ---- the cluster's flush epoch (FLUSHALL; replica.h) ---- */
/* Called by gossip_merge when a table carried a higher flush epoch (now
 * gossip_flush_epoch). */
typedef void (*gossip_flush_fn)(void *arg, uint32_t epoch);
void gossip_on_flush(struct gossip *g, gossip_flush_fn fn, void *arg);
/* Raises the epoch this table carries (a local or peer flush, the log's
 * epoch at start); a lower one is ignored.  No callback. */
void gossip_set_flush_epoch(struct gossip *g, uint32_t epoch);
uint32_t gossip_flush_epoch(const struct gossip *g);

/* Sets a member's ring status as saved before a restart (no callback). */
void gossip_restore(struct gossip *g, int idx, enum gossip_status st, uint64_t version);
/* This node leaves the ring (DYNAMO LEAVE).  Lasts for this process. */
void gossip_leave(struct gossip *g);
/* Marks another member LEFT (operator removal); false for self or a
 * member already LEFT or GONE. */
bool gossip_remove(struct gossip *g, int idx);
/* This node, which left, holds nothing any more: LEFT -> GONE.  False when
 * it did not leave or is GONE already. */
bool gossip_mark_gone(struct gossip *g);

/* Bumps this node's heartbeat and re-evaluates every member's state. */
void gossip_tick(struct gossip *g, int64_t now_ms);

/* A random member other than self to gossip with: one that is not dead,
 * except one time in four when some are dead (talking to a dead node is
 * one way its return is noticed); -1 when there is none.  rnd is a random
 * 32-bit number supplied by the caller. */
int gossip_pick(const struct gossip *g, uint32_t rnd);

/* Appends this node's view of the table (wire format: varint count, then per
 * row: u8 name length + name, varint generation, varint heartbeat, u8
 * status, varint status version, u8 host length + host, varint client port,
 * varint cluster port; then, only when not 0, varint flush epoch).  An empty
 * host means "address unknown": such a row never adds a member. */
void gossip_encode(const struct gossip *g, struct buf *out);

/* Merges a received table.  Validates everything (lengths, counts <= 256,
 * ports <= 65535, status 0..2); returns the number of rows that advanced,
 * or KV_EPROTO on malformed input (nothing merged then).  New members are
 * added while there is room (CFG_MAX_NODES rows in all). */
int gossip_merge(struct gossip *g, const void *p, size_t len, int64_t now_ms);

int gossip_nmembers(const struct gossip *g);
enum gossip_state gossip_state(const struct gossip *g, int idx);
uint64_t gossip_generation(const struct gossip *g, int idx);
uint64_t gossip_heartbeat(const struct gossip *g, int idx);
/* Milliseconds since idx's heartbeat last advanced (as seen here). */
int64_t gossip_silence_ms(const struct gossip *g, int idx, int64_t now_ms);
enum gossip_status gossip_status(const struct gossip *g, int idx);
uint64_t gossip_status_version(const struct gossip *g, int idx);
/* Name and address of member idx (out->name, host, port, cport). */
void gossip_member(const struct gossip *g, int idx, struct cfg_node *out);

#endif
