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
 * (generation, heartbeat) pair; rows for names not in the configured
 * cluster are ignored (membership changes go through configuration).
 * States are never gossiped: each node judges liveness from heartbeat
 * progress it observed itself.  Self is always alive.
 *
 * Member indices are positions in the configured node list (cfg.nodes),
 * the same indices the ring uses.
 */
#ifndef KV_GOSSIP_H
#define KV_GOSSIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "util/buf.h"

enum gossip_state {
    GOSSIP_ALIVE = 0,
    GOSSIP_SUSPECT,
    GOSSIP_DEAD,
    GOSSIP_STATE_COUNT
};
const char *gossip_state_name(enum gossip_state s);

struct gossip;

/* Called when a member's state changes (from gossip_tick or gossip_merge). */
typedef void (*gossip_change_fn)(void *arg, int idx, enum gossip_state from,
                                 enum gossip_state to);

/* nodes[0..nnodes) borrowed (copied); self_idx is this node; generation is
 * this node's incarnation; now_ms a monotonic clock.  Every other member
 * starts alive with heartbeat 0, as if heard from at now_ms. */
struct gossip *gossip_create(const struct cfg_node *nodes, int nnodes, int self_idx,
                             uint64_t generation, int64_t now_ms);
void gossip_destroy(struct gossip *g);  /* accepts NULL */

void gossip_set_timeouts(struct gossip *g, int suspect_ms, int dead_ms);
void gossip_on_change(struct gossip *g, gossip_change_fn fn, void *arg);

/* Bumps this node's heartbeat and re-evaluates every member's state. */
void gossip_tick(struct gossip *g, int64_t now_ms);

/* A random member other than self to gossip with (any state: talking to a
 * dead node is how its return is noticed); -1 when there is none.
 * rnd is a random number supplied by the caller. */
int gossip_pick(const struct gossip *g, uint32_t rnd);

/* Appends this node's view of the table (wire format: varint count, then per
 * row: u8 name length + name, varint generation, varint heartbeat). */
void gossip_encode(const struct gossip *g, struct buf *out);

/* Merges a received table.  Validates everything (lengths, counts <= 256);
 * returns the number of rows that advanced, or KV_EPROTO on malformed input
 * (nothing merged then). */
int gossip_merge(struct gossip *g, const void *p, size_t len, int64_t now_ms);

int gossip_nmembers(const struct gossip *g);
enum gossip_state gossip_state(const struct gossip *g, int idx);
uint64_t gossip_generation(const struct gossip *g, int idx);
uint64_t gossip_heartbeat(const struct gossip *g, int idx);
/* Milliseconds since idx's heartbeat last advanced (as seen here). */
int64_t gossip_silence_ms(const struct gossip *g, int idx, int64_t now_ms);

#endif
