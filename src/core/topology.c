/* topology.c — slot runs and shards of a ring for CLUSTER SLOTS / SHARDS /
 * NODES (see topology.h).
 *
 * Owns: one view, built whole and never changed: runs (slot range + owner
 * list, owners stored in one flat array of `width` bytes per run) and each
 * run's shard number (runs grouped by owner list through a small open
 * addressing table).  Callers: cmd/cmd_cluster.c.  Calls: ring (slot
 * walks).  Never blocks; memory O(runs * N).
 */
#include "core/topology.h"

#include <string.h>

#include "core/preflist.h"
#include "core/ring.h"
#include "core/slot.h"
#include "util/mem.h"

struct topo {
    unsigned width;       /* owner bytes per run: min(N, ring members) */
    unsigned nruns, cap;
    uint16_t *first, *last;
    uint8_t *nown;
    uint8_t *own;         /* nruns * width */
    unsigned *shard;      /* per run */
    unsigned nshards;
    unsigned master[RING_MAX_NODES];
};

/* The owners of one slot (see topology.h); returns their count. */
static unsigned slot_owners(const struct ring *r, unsigned n, uint64_t up, unsigned slot,
                            uint8_t *out)
{
    unsigned walk[RING_MAX_NODES];
    unsigned nlist = ring_slot_walk(r, slot, n, walk), got = 0;
    for (unsigned i = 0; i < nlist; i++)
        if (up & PREFLIST_BIT(walk[i]))
            out[got++] = (uint8_t)walk[i];
    if (got > 0)
        return got;
    /* none of the list is live: the walk goes on to a substitute (rare,
     * so only then is the whole ring walked) */
    unsigned nwalk = ring_slot_walk(r, slot, RING_MAX_NODES, walk);
    for (unsigned i = nlist; i < nwalk; i++)
        if (up & PREFLIST_BIT(walk[i])) {
            out[0] = (uint8_t)walk[i];
            return 1;
        }
    return 0;
}

static void add_run(struct topo *t, unsigned slot, const uint8_t *own, unsigned nown)
{
    if (t->nruns == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->first = mem_realloc(t->first, t->cap * sizeof(*t->first));
        t->last = mem_realloc(t->last, t->cap * sizeof(*t->last));
        t->nown = mem_realloc(t->nown, t->cap * sizeof(*t->nown));
        t->own = mem_realloc(t->own, (size_t)t->cap * (t->width ? t->width : 1));
    }
    unsigned i = t->nruns++;
    t->first[i] = t->last[i] = (uint16_t)slot;
    t->nown[i] = (uint8_t)nown;
    memset(t->own + (size_t)i * t->width, 0, t->width);
    memcpy(t->own + (size_t)i * t->width, own, nown);
}

static uint32_t list_hash(const uint8_t *p, unsigned n)
{
    uint32_t h = 2166136261u; /* FNV-1a: a table index, not a placement */
    for (unsigned i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Numbers the shards: runs with byte-equal owner lists (zero padded to
 * width, so equal counts are implied) share one. */
static void group_shards(struct topo *t)
{
    t->shard = mem_alloc((t->nruns ? t->nruns : 1) * sizeof(*t->shard));
    size_t size = 16;
    while (size < 2 * (size_t)t->nruns)
        size *= 2;
    unsigned *tab = mem_alloc(size * sizeof(*tab)); /* run index + 1, 0 = empty */
    memset(tab, 0, size * sizeof(*tab));
    for (unsigned i = 0; i < t->nruns; i++) {
        const uint8_t *li = t->own + (size_t)i * t->width;
        size_t h = list_hash(li, t->width) & (size - 1);
        for (;; h = (h + 1) & (size - 1)) {
            if (tab[h] == 0) {
                tab[h] = i + 1;
                t->shard[i] = t->nshards++;
                break;
            }
            unsigned j = tab[h] - 1;
            if (t->nown[j] == t->nown[i] &&
                memcmp(t->own + (size_t)j * t->width, li, t->width) == 0) {
                t->shard[i] = t->shard[j];
                break;
            }
        }
    }
    mem_free(tab);
}

struct topo *topo_build(const struct ring *r, unsigned n, uint64_t up)
{
    struct topo *t = mem_calloc(1, sizeof(*t));
    unsigned members = ring_nmembers(r);
    t->width = n < members ? n : members;
    if (t->width == 0 && members > 0)
        t->width = 1;
    uint8_t own[RING_MAX_NODES];
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        unsigned k = slot_owners(r, n, up, s, own);
        if (k == 0)
            continue;
        t->master[own[0]]++;
        unsigned p = t->nruns - 1;
        if (t->nruns > 0 && t->last[p] + 1u == s && t->nown[p] == k &&
            memcmp(t->own + (size_t)p * t->width, own, k) == 0)
            t->last[p] = (uint16_t)s;
        else
            add_run(t, s, own, k);
    }
    group_shards(t);
    return t;
}

void topo_destroy(struct topo *t)
{
    if (!t)
        return;
    mem_free(t->first);
    mem_free(t->last);
    mem_free(t->nown);
    mem_free(t->own);
    mem_free(t->shard);
    mem_free(t);
}

unsigned topo_nruns(const struct topo *t)
{
    return t->nruns;
}

const uint8_t *topo_run(const struct topo *t, unsigned i, unsigned *first, unsigned *last,
                        unsigned *nown)
{
    *first = t->first[i];
    *last = t->last[i];
    *nown = t->nown[i];
    return t->own + (size_t)i * t->width;
}

unsigned topo_run_shard(const struct topo *t, unsigned i)
{
    return t->shard[i];
}

unsigned topo_nshards(const struct topo *t)
{
    return t->nshards;
}

unsigned topo_master_slots(const struct topo *t, unsigned idx)
{
    return idx < RING_MAX_NODES ? t->master[idx] : 0;
}
