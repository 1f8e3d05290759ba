/* crdt_iter.c — walking a state's elements a few at a time: the cursor
 * scan under HSCAN (and SSCAN, ZSCAN) and the random picks under
 * HRANDFIELD (and SRANDMEMBER, SPOP, ZRANDMEMBER); crdt.h documents both.
 *
 * Owns no state: reads the element table of crdt.c through crdt_priv.h
 * (slots, the key hash).  The caller's generator state is the only thing
 * written.
 *
 * Scan: the cursor is Redis's reverse-binary counter over *home* buckets
 * (hash & mask), not over slots.  With linear probing an element lives in
 * the probe run that starts at its home bucket (no empty slot in between:
 * backward-shift deletion keeps that true), so visiting bucket b means
 * walking the run from b and taking the elements whose home is b.  Where an
 * element sits inside its run (it moves on deletions) therefore never
 * matters, and the reverse-binary order keeps Redis's guarantee across a
 * table that doubled between two calls: an element present during the
 * whole scan is returned at least once (possibly more than once).
 *
 * Picks: rejection sampling of random slots (each element holds exactly
 * one slot, so a hit is uniform, also in a table left sparse by removals:
 * the table never shrinks).  A pick costs about slots / n draws, so
 * rejection is used while all the picks together draw no more than the
 * table has slots (or the table is dense: a few draws each); otherwise the
 * elements are listed once and picked from the list.  No call costs more
 * than about one pass over the table plus O(count).
 *
 * Callers: the command handlers of the types (cmd/cmd_hash.c ...).  Pure
 * CPU work: a scan step visits at most 10 * count buckets (plus their
 * runs); a pick of count elements costs O(count) probes on a dense table,
 * at most O(table) (expected) otherwise.
 */
#include "core/crdt_priv.h"

#include "util/mem.h"

/* splitmix64: the caller seeds *rng; every value of it is a valid state */
static uint64_t next_rand(uint64_t *rng)
{
    uint64_t z = (*rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rand_below(uint64_t *rng, uint64_t n)
{
    return next_rand(rng) % n; /* bias below 2^-40 for n < 2^24 */
}

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
    v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
    return (v >> 32) | (v << 32);
}

static uint32_t home_of(const struct crdt *c, const struct crdt_elem *el)
{
    return crdt_key_hash(crdt_elem_key(el), el->klen) & c->mask;
}

uint64_t crdt_scan(const struct crdt *c, uint64_t cursor, size_t count, crdt_elem_fn fn,
                   void *arg)
{
    if (!c->slot)
        return 0;
    if (count == 0)
        count = 1;
    uint64_t mask = c->mask, v = cursor;
    size_t taken = 0, buckets = 0;
    size_t max_buckets = count > SIZE_MAX / 10 ? SIZE_MAX : count * 10;
    do {
        uint32_t b = (uint32_t)(v & mask);
        /* the run from b ends at an empty slot: the load stays below 1 */
        for (uint32_t i = b; c->slot[i]; i = (i + 1) & c->mask) {
            const struct crdt_elem *el = c->slot[i];
            if (el->n > 0 && home_of(c, el) == b) {
                fn(el, arg);
                taken++;
            }
        }
        /* next bucket: increment the reversed bits of the masked cursor */
        v |= ~mask;
        v = rev64(v);
        v++;
        v = rev64(v);
        buckets++;
    } while (v != 0 && taken < count && buckets < max_buckets);
    return v;
}

/* Every element with entries, in table order (n = crdt_count(c)). */
static const struct crdt_elem **list_elems(const struct crdt *c, uint32_t n)
{
    const struct crdt_elem **all = mem_alloc((size_t)n * sizeof(*all));
    uint32_t k = 0;
    for (uint32_t i = 0; i <= c->mask && k < n; i++)
        if (c->slot[i] && c->slot[i]->n > 0)
            all[k++] = c->slot[i];
    return all;
}

/* Dense enough for rejection sampling whatever the count: at least one
 * slot in 8 holds an element (a full table holds one in 1.33 to 2.7). */
static bool dense(const struct crdt *c, uint32_t n)
{
    return (uint64_t)n * 8 >= (uint64_t)c->mask + 1;
}

/* A random slot holding an element (n > 0; slots / n draws expected). */
static uint32_t random_slot(const struct crdt *c, uint64_t *rng)
{
    for (;;) {
        uint32_t i = (uint32_t)(next_rand(rng) & c->mask);
        if (c->slot[i] && c->slot[i]->n > 0)
            return i;
    }
}

/* Slots already picked (distinct picks by rejection): open addressing
 * over slot numbers + 1 (0 = empty), at most half full. */
struct picked {
    uint32_t *s;
    uint32_t mask;
};

static bool picked_add(struct picked *p, uint32_t slot)
{
    uint32_t h = (slot * 2654435761u) & p->mask;
    while (p->s[h]) {
        if (p->s[h] == slot + 1)
            return false;
        h = (h + 1) & p->mask;
    }
    p->s[h] = slot + 1;
    return true;
}

void crdt_pick(const struct crdt *c, uint64_t count, bool distinct, uint64_t *rng,
               crdt_elem_fn fn, void *arg)
{
    uint32_t n = crdt_count(c);
    if (n == 0 || count == 0)
        return;
    if (distinct && count >= n) {
        crdt_each(c, fn, arg);
        return;
    }
    /* rejection draws about count x slots / n slots in all (1.5 x that
     * for distinct picks with count <= n / 3): no more than listing */
    bool draw = distinct ? count * 3 <= n : (count <= n || dense(c, n));
    if (draw) {
        if (!distinct) {
            for (uint64_t k = 0; k < count; k++)
                if (!fn(c->slot[random_slot(c, rng)], arg))
                    return;
            return;
        }
        /* count <= n / 3: a fresh element is found in at most 1.5 x the
         * draws of a first one */
        uint32_t cap = 4;
        while (cap < count * 2)
            cap *= 2;
        struct picked p = {mem_calloc(cap, sizeof(uint32_t)), cap - 1};
        for (uint64_t k = 0; k < count;) {
            uint32_t i = random_slot(c, rng);
            if (!picked_add(&p, i))
                continue;
            k++;
            if (!fn(c->slot[i], arg))
                break;
        }
        mem_free(p.s);
        return;
    }
    /* more picks than elements on a sparse table, or most of the elements
     * wanted: pick from a list */
    const struct crdt_elem **all = list_elems(c, n);
    if (!distinct) {
        for (uint64_t k = 0; k < count; k++)
            if (!fn(all[rand_below(rng, n)], arg))
                break;
    } else {
        /* partial Fisher-Yates: all[0..count) become a uniform sample */
        for (uint32_t k = 0; k < count; k++) {
            uint32_t j = k + (uint32_t)rand_below(rng, n - k);
            const struct crdt_elem *t = all[k];
            all[k] = all[j];
            all[j] = t;
            if (!fn(all[k], arg))
                break;
        }
    }
    mem_free(all);
}
