/* ring.c — consistent hash ring (Dynamo §4.2), see ring.h.
 *
 * Owns: one immutable snapshot of the token space.  Tokens live in two
 * parallel arrays sorted by (token, node name): tokens[] (searched) and
 * owner[] (node index per token), so a binary search touches only the
 * 8-byte keys.  Per-node primary ownership is computed once at build time.
 * Keys reach the ring only through their hash slot (ring_key_pos).
 *
 * Invariants: ntokens == nmembers * vnodes; tokens[] is non-decreasing;
 * every member owns at least one token, so a walk over all tokens meets
 * every member; slots that are not members (nodes that left) keep their
 * index and name but own no token;
 * nnodes <= RING_MAX_NODES so a 64-bit word can record "seen" nodes.
 *
 * Callers: coord (preference lists on every request), cluster.c (a new
 * snapshot on every membership change; gossip never calls the ring),
 * main (the first snapshot), ae/handoff/xfer (membership and hashing),
 * cmd_dynamo.c (DYNAMO RING/PREFLIST), cmd_info.c (INFO).  Lookups never allocate,
 * lock or block; a snapshot is never modified after ring_create returns, so
 * any number of readers may share it.
 */
#include "core/ring.h"

#include <assert.h>
#include <limits.h>
#include <murmurhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/slot.h"
#include "util/mem.h"

static_assert(RING_MAX_NODES <= 64, "the walk's seen-set is one uint64_t");
static_assert(RING_MAX_NODES <= 256, "owner[] stores node indices as uint8_t");

struct ring {
    uint64_t version;
    unsigned nnodes;     /* slots: indices 0..nnodes-1 name nodes */
    unsigned nmembers;   /* slots that own tokens */
    uint64_t members;    /* bit i: slot i owns tokens */
    unsigned vnodes;
    size_t ntokens;
    char **names;        /* nnodes copies */
    uint64_t *tokens;    /* ntokens, sorted */
    uint8_t *owner;      /* ntokens, node index of tokens[i] */
    double *ownership;   /* nnodes, primary-range fraction */
    uint32_t *slot_first; /* SLOT_COUNT: index of each slot's first token */
    unsigned *slot_primary; /* nnodes: slots whose first owner is the node */
};

/* Build-time only: one token with what the sort needs to break ties. */
struct tok {
    uint64_t token;
    const char *name;
    unsigned node;
};

static int tok_cmp(const void *a, const void *b)
{
    const struct tok *x = a, *y = b;
    if (x->token != y->token)
        return x->token < y->token ? -1 : 1;
    /* Equal tokens of different nodes: order by name, never by array
     * position, so every process builds the same ring from the same set.
     * Equal tokens of the same node are interchangeable. */
    return strcmp(x->name, y->name);
}

/* The first 64 bits of MurmurHash3_x64_128.  libmurmurhash takes an
 * unsigned int length; longer inputs hash their first UINT_MAX bytes,
 * which is still the same on every node (keys are far below that anyway,
 * bounded by proto-max-bulk-len / client-query-buffer-limit). */
static uint64_t hash64(const void *p, size_t len)
{
    uint64_t out[2];
    lmmh_x64_128(p, len > UINT_MAX ? UINT_MAX : (unsigned)len, RING_SEED, out);
    return out[0];
}

uint64_t ring_slot_pos(unsigned slot)
{
    /* The middle of the slot's arc: slot s covers [s, s+1) * 2^64/16384. */
    static_assert(SLOT_COUNT == 1u << 14, "a slot is 2^50 ring positions");
    return (uint64_t)(slot & (SLOT_COUNT - 1)) << 50 | UINT64_C(1) << 49;
}

uint64_t ring_key_pos(const void *key, size_t klen)
{
    return ring_slot_pos(slot_of_key(key, klen));
}

static void compute_ownership(struct ring *r)
{
    /* Token i is the primary for (tokens[i-1], tokens[i]]; token 0 also
     * takes the wrap-around range (tokens[last], 2^64).  Unsigned
     * subtraction gives the length modulo 2^64 in both cases. */
    const double space = 18446744073709551616.0; /* 2^64 */
    for (unsigned i = 0; i < r->nnodes; i++)
        r->ownership[i] = 0.0;
    if (r->ntokens == 0)
        return;
    if (r->tokens[0] == r->tokens[r->ntokens - 1]) {
        /* A lone token (or all tokens equal): every position maps to
         * token 0, directly or by wrapping. */
        r->ownership[r->owner[0]] = 1.0;
        return;
    }
    for (size_t i = 0; i < r->ntokens; i++) {
        uint64_t prev = r->tokens[i ? i - 1 : r->ntokens - 1];
        r->ownership[r->owner[i]] += (double)(uint64_t)(r->tokens[i] - prev);
    }
    for (unsigned i = 0; i < r->nnodes; i++)
        r->ownership[i] /= space;
}

static size_t first_at_or_after(const struct ring *r, uint64_t pos);

/* Each slot's first token, looked up once per snapshot (16384 binary
 * searches), so a key's lookup is its CRC16 and a table read. */
static void compute_slots(struct ring *r)
{
    r->slot_first = mem_calloc(SLOT_COUNT, sizeof(*r->slot_first));
    r->slot_primary = mem_calloc(r->nnodes ? r->nnodes : 1, sizeof(*r->slot_primary));
    if (r->ntokens == 0)
        return;
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        size_t i = first_at_or_after(r, ring_slot_pos(s));
        r->slot_first[s] = (uint32_t)i;
        r->slot_primary[r->owner[i]]++;
    }
}

struct ring *ring_create(const char *const *names, unsigned nnodes, unsigned vnodes, uint64_t version)
{
    return ring_create_members(names, nnodes, NULL, vnodes, version);
}

struct ring *ring_create_members(const char *const *names, unsigned nnodes, const bool *member,
                                 unsigned vnodes, uint64_t version)
{
    if (vnodes == 0 || nnodes > RING_MAX_NODES)
        return NULL;
    for (unsigned i = 0; i < nnodes; i++)
        for (unsigned j = i + 1; j < nnodes; j++)
            if (strcmp(names[i], names[j]) == 0)
                return NULL;

    struct ring *r = mem_calloc(1, sizeof(*r));
    r->version = version;
    r->nnodes = nnodes;
    r->vnodes = vnodes;
    for (unsigned i = 0; i < nnodes; i++)
        if (!member || member[i]) {
            r->members |= UINT64_C(1) << i;
            r->nmembers++;
        }
    r->ntokens = (size_t)r->nmembers * vnodes;
    r->names = mem_calloc(nnodes ? nnodes : 1, sizeof(*r->names));
    r->tokens = mem_alloc((r->ntokens ? r->ntokens : 1) * sizeof(*r->tokens));
    r->owner = mem_alloc((r->ntokens ? r->ntokens : 1) * sizeof(*r->owner));
    r->ownership = mem_calloc(nnodes ? nnodes : 1, sizeof(*r->ownership));

    struct tok *toks = mem_alloc((r->ntokens ? r->ntokens : 1) * sizeof(*toks));
    size_t t = 0;
    for (unsigned n = 0; n < nnodes; n++) {
        r->names[n] = mem_strdup(names[n]);
        if (!(r->members & UINT64_C(1) << n))
            continue;
        /* "NAME#i": the name, '#', up to 10 digits, NUL. */
        size_t cap = strlen(names[n]) + 12;
        char *label = mem_alloc(cap);
        for (unsigned v = 0; v < vnodes; v++) {
            int len = snprintf(label, cap, "%s#%u", names[n], v);
            toks[t].token = hash64(label, (size_t)len);
            toks[t].name = r->names[n];
            toks[t].node = n;
            t++;
        }
        mem_free(label);
    }
    qsort(toks, r->ntokens, sizeof(*toks), tok_cmp);
    for (size_t i = 0; i < r->ntokens; i++) {
        r->tokens[i] = toks[i].token;
        r->owner[i] = (uint8_t)toks[i].node;
    }
    mem_free(toks);
    compute_ownership(r);
    compute_slots(r);
    return r;
}

void ring_destroy(struct ring *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->nnodes; i++)
        mem_free(r->names[i]);
    mem_free(r->names);
    mem_free(r->tokens);
    mem_free(r->owner);
    mem_free(r->ownership);
    mem_free(r->slot_first);
    mem_free(r->slot_primary);
    mem_free(r);
}

uint64_t ring_version(const struct ring *r)
{
    return r->version;
}

unsigned ring_nnodes(const struct ring *r)
{
    return r->nnodes;
}

unsigned ring_nmembers(const struct ring *r)
{
    return r->nmembers;
}

bool ring_is_member(const struct ring *r, unsigned idx)
{
    return idx < r->nnodes && (r->members & UINT64_C(1) << idx);
}

unsigned ring_vnodes(const struct ring *r)
{
    return r->vnodes;
}

const char *ring_node_name(const struct ring *r, unsigned idx)
{
    return idx < r->nnodes ? r->names[idx] : NULL;
}

/* HOT: index of the first token >= pos, wrapping to 0 past the end. */
static size_t first_at_or_after(const struct ring *r, uint64_t pos)
{
    size_t lo = 0, hi = r->ntokens;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->tokens[mid] < pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == r->ntokens ? 0 : lo;
}

/* HOT: clockwise walk from pos collecting distinct nodes.  Visits at most
 * ntokens tokens (fewer once `want` nodes are found); no allocation. */
static unsigned walk_from(const struct ring *r, size_t i, unsigned max, unsigned *out)
{
    unsigned want = max < r->nmembers ? max : r->nmembers;
    if (want == 0)
        return 0;
    uint64_t seen = 0;
    unsigned got = 0;
    for (size_t k = 0; k < r->ntokens && got < want; k++) {
        unsigned node = r->owner[i];
        uint64_t bit = UINT64_C(1) << node;
        if (!(seen & bit)) {
            seen |= bit;
            out[got++] = node;
        }
        if (++i == r->ntokens)
            i = 0;
    }
    return got;
}

unsigned ring_walk(const struct ring *r, uint64_t pos, unsigned max, unsigned *out)
{
    return r->ntokens ? walk_from(r, first_at_or_after(r, pos), max, out) : 0;
}

unsigned ring_slot_walk(const struct ring *r, unsigned slot, unsigned max, unsigned *out)
{
    return r->ntokens ? walk_from(r, r->slot_first[slot & (SLOT_COUNT - 1)], max, out) : 0;
}

unsigned ring_preflist_at(const struct ring *r, uint64_t pos, unsigned n, unsigned *out)
{
    return ring_walk(r, pos, n, out);
}

unsigned ring_preflist(const struct ring *r, const void *key, size_t klen, unsigned n, unsigned *out)
{
    return ring_slot_walk(r, slot_of_key(key, klen), n, out);
}

unsigned ring_slots_primary(const struct ring *r, unsigned idx)
{
    return idx < r->nnodes ? r->slot_primary[idx] : 0;
}

double ring_ownership(const struct ring *r, unsigned idx)
{
    return idx < r->nnodes ? r->ownership[idx] : 0.0;
}

size_t ring_ntokens(const struct ring *r)
{
    return r->ntokens;
}

void ring_token(const struct ring *r, size_t i, uint64_t *token, unsigned *node)
{
    assert(i < r->ntokens);
    *token = r->tokens[i];
    *node = r->owner[i];
}
