/* members.c — membership state and its queries (see members.h).
 *
 * Owns: the current ring snapshot (replaced whole, never changed in place).
 * Reads (handed over explicitly, never through struct kv_node): the member
 * table (cfg.nodes, cfg_node_index), peer links (peers_up) and gossip
 * states for liveness.  The preference-list decisions
 * are core/preflist.c's; this module feeds them the ring and a liveness
 * bitmap.
 * Callers: main.c (create/destroy), cluster.c (the ring's replacement,
 * liveness of hint owners), coord.c, ae.c, xfer.c, reaper.c, handoff.c and
 * cmd/ (preference lists, owner ranks, write targets, liveness).
 * Nothing here blocks or allocates on a query.
 */
#include "cluster/members.h"

#include "core/config.h"
#include "core/gossip.h"
#include "core/preflist.h"
#include "core/ring.h"
#include "core/slot.h"
#include "net/peer.h"
#include "util/mem.h"

struct members {
    const struct cfg *cfg;        /* member table, n, w (borrowed) */
    int self;                     /* this node's index */
    const struct peers *peers;    /* links; NULL without a cluster */
    const struct gossip *gossip;  /* failure detector; NULL without a cluster */
    struct ring *ring;            /* current immutable snapshot */
};

struct members *members_create(const struct cfg *cfg, int self, struct ring *ring)
{
    struct members *m = mem_calloc(1, sizeof(*m));
    m->cfg = cfg;
    m->self = self;
    m->ring = ring;
    return m;
}

void members_set_peers(struct members *m, const struct peers *peers)
{
    m->peers = peers;
}

void members_set_gossip(struct members *m, const struct gossip *gossip)
{
    m->gossip = gossip;
}

void members_destroy(struct members *m)
{
    if (!m)
        return;
    ring_destroy(m->ring);
    mem_free(m);
}

const struct ring *members_ring(const struct members *m)
{
    return m->ring;
}

void members_set_ring(struct members *m, struct ring *r)
{
    ring_destroy(m->ring);
    m->ring = r;
}

int members_index(const struct members *m, const char *name, size_t len)
{
    return cfg_node_index(m->cfg, name, len);
}

bool members_node_up(const struct members *m, int idx)
{
    if (idx == m->self)
        return true;
    if (!m->peers || !peers_up(m->peers, idx))
        return false;
    return !m->gossip || gossip_state(m->gossip, idx) != GOSSIP_DEAD;
}

/* HOT: every coordinated request asks. */
unsigned members_preflist(const struct members *m, const void *key, size_t klen, unsigned *out)
{
    return preflist_of(m->ring, (unsigned)m->cfg->n, key, klen, out);
}

unsigned members_slot_preflist(const struct members *m, unsigned slot, unsigned *out)
{
    unsigned n = (unsigned)m->cfg->n;
    return ring_slot_walk(m->ring, slot, n, out); /* at most the ring's members */
}

int members_owner_rank(const struct members *m, const void *key, size_t klen, int idx)
{
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(m, key, klen, pl);
    return preflist_rank(pl, np, idx);
}

int members_write_target(const struct members *m, const void *key, size_t klen)
{
    return members_slot_write_target(m, slot_of_key(key, klen));
}

int members_slot_write_target(const struct members *m, unsigned slot)
{
    if (!m->peers)
        return m->self;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_slot_preflist(m, slot, pl);
    uint64_t up = 0; /* only the list's nodes are asked */
    for (unsigned i = 0; i < np; i++)
        if (members_node_up(m, (int)pl[i]))
            up |= PREFLIST_BIT(pl[i]);
    return preflist_write_target(pl, np, up, m->self);
}

bool members_can_reach_quorum(const struct members *m, const void *key, size_t klen, int w)
{
    (void)key;
    (void)klen;
    if (!m->peers)
        return true;
    uint64_t up = 0;
    for (int i = 0; i < m->cfg->nnodes; i++)
        if (members_node_up(m, i))
            up |= PREFLIST_BIT(i);
    return preflist_can_reach_quorum(m->ring, (unsigned)m->cfg->nnodes, up, m->cfg->n,
                                     w > 0 ? w : m->cfg->w);
}
