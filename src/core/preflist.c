/* preflist.c — pure preference-list decisions (see preflist.h).
 *
 * Owns nothing: functions of (ring snapshot, liveness bitmap).
 * Callers: cluster/members.c (the live node's queries), tests/unit.
 * Calls: ring (the walk).  Never blocks.
 */
#include "core/preflist.h"

#include <assert.h>

#include "core/config.h"
#include "core/ring.h"

static_assert(RING_MAX_NODES <= 64, "liveness is a 64-bit map");
static_assert(CFG_MAX_NODES <= RING_MAX_NODES, "every member has a ring slot");

unsigned preflist_of(const struct ring *r, unsigned n, const void *key, size_t klen,
                     unsigned *out)
{
    if (n > ring_nmembers(r))
        n = ring_nmembers(r);
    return ring_preflist(r, key, klen, n, out);
}

int preflist_rank(const unsigned *pl, unsigned np, int idx)
{
    for (unsigned i = 0; i < np; i++)
        if ((int)pl[i] == idx)
            return (int)i;
    return -1;
}

int preflist_write_target(const unsigned *pl, unsigned np, uint64_t up, int self)
{
    for (unsigned i = 0; i < np; i++)
        if (pl[i] < 64 && (up & PREFLIST_BIT(pl[i])))
            return (int)pl[i];
    return self;
}

bool preflist_can_reach_quorum(const struct ring *r, unsigned nnodes, uint64_t up, int n, int w)
{
    int live = 0;
    for (unsigned i = 0; i < nnodes && i < 64; i++)
        live += ring_is_member(r, i) && (up & PREFLIST_BIT(i));
    int reach = live < n ? live : n;
    return reach >= w;
}
