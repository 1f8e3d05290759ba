/* crdt.c — the dot store under every convergent type: causal context,
 * element table, join, copy and equality (crdt.h explains the model).
 *
 * Owns: the context (vc prefix + cloud) and holes, the element table and
 * each element's entries, and the expiry register of a struct crdt.  Operations on the types are in
 * crdt_ops.c, the codec and digest in crdt_codec.c; both reach the table
 * and the context only through crdt_priv.h.
 *
 * Invariants:
 *   - context: vc entries have counter >= 1 and ts 0; the cloud is sorted
 *     by (actor, counter), unique, and every cloud dot (a, k) has
 *     k > vc[a] + 1 (so equal knowledge has one representation);
 *   - every entry's dot is in the context and appears once in the state;
 *   - holes: sorted, unique, in the context, carried by no entry;
 *   - expiry entries: sorted by dot, ms > 0, their dots in the context and
 *     used once in the state like any entry's; exp_scoped only when
 *     scoped (a full state's expiry is always "in scope"), and a scoped
 *     state holds expiry entries only when exp_scoped;
 *   - entries of an element are sorted by (actor, counter);
 *   - an element has >= 1 entry unless the state is a scoped delta.
 *
 * Callers: crdt_ops.c, crdt_codec.c, and (next) the store and the command
 * handlers of hashes, sets, sorted sets and counters.  Pure CPU work; a
 * join visits the elements of a scoped delta only, or all elements of
 * both sides for a full state (O(state)).
 *
 * Table: open addressing with linear probing over element pointers, load
 * at most 3/4, backward-shift deletion (no tombstone slots).  One
 * allocation per element (8-byte header, entries, key), so a 1 M-member
 * set costs about one small allocation and 1.3 to 2.7 slots per member;
 * hashes are recomputed from the keys when the table grows or shifts.
 */
#include "core/crdt_priv.h"

#include <assert.h>
#include <murmurhash.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

static_assert(sizeof(struct crdt_entry) == 24, "crdt_entry layout");
static_assert(sizeof(struct crdt_elem) == 8, "crdt_elem header");

#define KEY_HASH_SEED 0x2c1b3c6du

const char *crdt_type_name(enum crdt_type t)
{
    switch (t) {
    case CRDT_NONE: return "none";
    case CRDT_COUNTER: return "counter";
    case CRDT_SET: return "set";
    case CRDT_HASH: return "hash";
    case CRDT_ZSET: return "zset";
    case CRDT_TYPE_COUNT: break;
    }
    return "?";
}

/* ------------------------------------------------------------------ */
/* context                                                              */

/* vc[actor] = counter (counter above the current prefix).  A new actor
 * grows the array by one entry, not vclock's default four: most keys see
 * one or two coordinators, and a small collection pays this per key. */
static void vc_raise(struct vclock *vc, uint32_t actor, uint64_t counter)
{
    uint32_t i = 0;
    while (i < vc->n && vc->e[i].actor < actor)
        i++;
    if (i < vc->n && vc->e[i].actor == actor) {
        vc->e[i].counter = counter;
        return;
    }
    if (vc->n == vc->cap) {
        vc->e = mem_realloc(vc->e, ((size_t)vc->n + 1) * sizeof(*vc->e));
        vc->cap = vc->n + 1;
    }
    memmove(&vc->e[i + 1], &vc->e[i], (size_t)(vc->n - i) * sizeof(*vc->e));
    vc->e[i] = (struct vc_entry){ .actor = actor, .counter = counter, .ts_ms = 0 };
    vc->n++;
}

static int dot_cmp(uint32_t a1, uint64_t k1, uint32_t a2, uint64_t k2)
{
    if (a1 != a2)
        return a1 < a2 ? -1 : 1;
    return (k1 > k2) - (k1 < k2);
}

uint32_t crdt_dots_lower(const struct crdt_dot *v, uint32_t n, uint32_t actor, uint64_t counter)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (dot_cmp(v[mid].actor, v[mid].counter, actor, counter) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Index of the first cloud dot >= (actor, counter). */
static uint32_t cloud_lower(const struct crdt *c, uint32_t actor, uint64_t counter)
{
    return crdt_dots_lower(c->cloud, c->ncloud, actor, counter);
}

bool crdt_ctx_has(const struct crdt *c, uint32_t actor, uint64_t counter)
{
    if (counter <= vc_counter(&c->vc, actor))
        return true;
    uint32_t i = cloud_lower(c, actor, counter);
    return i < c->ncloud && c->cloud[i].actor == actor && c->cloud[i].counter == counter;
}

uint64_t crdt_next_counter(const struct crdt *c, uint32_t actor)
{
    uint64_t k = vc_counter(&c->vc, actor);
    uint32_t i = cloud_lower(c, actor + 1, 0); /* one past actor's last cloud dot */
    if (i > 0 && c->cloud[i - 1].actor == actor && c->cloud[i - 1].counter > k)
        k = c->cloud[i - 1].counter;
    return k + 1;
}

static void cloud_reserve(struct crdt *c, uint32_t n)
{
    if (n <= c->capcloud)
        return;
    uint32_t cap = c->capcloud ? c->capcloud : 4;
    while (cap < n)
        cap *= 2;
    c->cloud = mem_realloc(c->cloud, (size_t)cap * sizeof(*c->cloud));
    c->capcloud = cap;
}

void crdt_ctx_normalize(struct crdt *c)
{
    uint32_t w = 0, r = 0;
    while (r < c->ncloud) {
        uint32_t a = c->cloud[r].actor;
        uint64_t prefix = vc_counter(&c->vc, a), start = prefix;
        uint64_t last = 0;
        for (; r < c->ncloud && c->cloud[r].actor == a; r++) {
            uint64_t k = c->cloud[r].counter;
            if (k <= prefix || k == last)
                continue;
            if (k == prefix + 1) {
                prefix = k;
                continue;
            }
            c->cloud[w++] = c->cloud[r];
            last = k;
        }
        if (prefix != start)
            vc_raise(&c->vc, a, prefix);
    }
    c->ncloud = w;
    /* Folding into the prefix can make earlier-kept dots of the same actor
     * contiguous only if they were below it, which the sorted walk rules
     * out; but a dot kept before the prefix grew past it must go. */
    w = 0;
    for (r = 0; r < c->ncloud; r++)
        if (c->cloud[r].counter > vc_counter(&c->vc, c->cloud[r].actor) + 1)
            c->cloud[w++] = c->cloud[r];
    c->ncloud = w;
}

void crdt_ctx_add(struct crdt *c, uint32_t actor, uint64_t counter)
{
    if (crdt_ctx_has(c, actor, counter))
        return;
    if (counter == vc_counter(&c->vc, actor) + 1) {
        vc_raise(&c->vc, actor, counter);
        crdt_ctx_normalize(c); /* the next cloud dots may now be contiguous */
        return;
    }
    uint32_t i = cloud_lower(c, actor, counter);
    cloud_reserve(c, c->ncloud + 1);
    memmove(&c->cloud[i + 1], &c->cloud[i], (size_t)(c->ncloud - i) * sizeof(*c->cloud));
    c->cloud[i] = (struct crdt_dot){ .actor = actor, .counter = counter };
    c->ncloud++;
}

/* dst's context ∪= src's. */
static void ctx_join(struct crdt *dst, const struct crdt *src)
{
    vc_merge(&dst->vc, &src->vc);
    if (src->ncloud) {
        /* merge the two sorted clouds (normalize drops duplicates) */
        uint32_t n = dst->ncloud, m = src->ncloud;
        cloud_reserve(dst, n + m);
        int64_t i = (int64_t)n - 1, j = (int64_t)m - 1, k = (int64_t)(n + m) - 1;
        while (j >= 0) {
            if (i >= 0 && dot_cmp(dst->cloud[i].actor, dst->cloud[i].counter,
                                  src->cloud[j].actor, src->cloud[j].counter) > 0)
                dst->cloud[k--] = dst->cloud[i--];
            else
                dst->cloud[k--] = src->cloud[j--];
        }
        dst->ncloud = n + m;
    }
    crdt_ctx_normalize(dst);
}

bool crdt_hole_has(const struct crdt *c, uint32_t actor, uint64_t counter)
{
    uint32_t i = crdt_dots_lower(c->hole, c->nhole, actor, counter);
    return i < c->nhole && c->hole[i].actor == actor && c->hole[i].counter == counter;
}

void crdt_hole_add(struct crdt *c, uint32_t actor, uint64_t counter)
{
    uint32_t i = crdt_dots_lower(c->hole, c->nhole, actor, counter);
    if (i < c->nhole && c->hole[i].actor == actor && c->hole[i].counter == counter)
        return;
    c->hole = mem_realloc(c->hole, ((size_t)c->nhole + 1) * sizeof(*c->hole));
    memmove(&c->hole[i + 1], &c->hole[i], (size_t)(c->nhole - i) * sizeof(*c->hole));
    c->hole[i] = (struct crdt_dot){ .actor = actor, .counter = counter };
    c->nhole++;
}

/* dst's holes for dst ⊔ src, from both sides' holes and contexts (call
 * before the contexts unite): a hole stays where the other side has not
 * seen the dot or has it as a hole too; one side's applied dot fills it. */
static void holes_join(struct crdt *dst, const struct crdt *src)
{
    if (!dst->nhole && !src->nhole)
        return;
    struct crdt_dot *out = mem_alloc(((size_t)dst->nhole + src->nhole) * sizeof(*out));
    uint32_t n = 0, i = 0, j = 0;
    while (i < dst->nhole || j < src->nhole) {
        int cmp = i == dst->nhole ? 1
                  : j == src->nhole
                      ? -1
                      : dot_cmp(dst->hole[i].actor, dst->hole[i].counter, src->hole[j].actor,
                                src->hole[j].counter);
        if (cmp == 0) {
            out[n++] = dst->hole[i++];
            j++;
        } else if (cmp < 0) {
            if (!crdt_ctx_has(src, dst->hole[i].actor, dst->hole[i].counter))
                out[n++] = dst->hole[i];
            i++;
        } else {
            if (!crdt_ctx_has(dst, src->hole[j].actor, src->hole[j].counter))
                out[n++] = src->hole[j];
            j++;
        }
    }
    mem_free(dst->hole);
    dst->hole = n ? out : NULL;
    dst->nhole = n;
    if (!n)
        mem_free(out);
}

bool crdt_ctx_covers(const struct crdt *a, const struct crdt *b)
{
    for (uint32_t i = 0; i < b->vc.n; i++) {
        uint32_t actor = b->vc.e[i].actor;
        uint64_t have = vc_counter(&a->vc, actor), want = b->vc.e[i].counter;
        if (have >= want)
            continue;
        if (want - have > a->ncloud) /* the cloud cannot fill the gap */
            return false;
        for (uint64_t k = have + 1; k <= want; k++)
            if (!crdt_ctx_has(a, actor, k))
                return false;
    }
    for (uint32_t i = 0; i < b->ncloud; i++)
        if (!crdt_ctx_has(a, b->cloud[i].actor, b->cloud[i].counter))
            return false;
    return true;
}

/* ------------------------------------------------------------------ */
/* element table                                                        */

uint32_t crdt_key_hash(const void *key, size_t klen)
{
    /* HOT: a counter's one element has the empty key, whose hash is a
     * constant: the library's answer, asked once */
    static uint32_t empty_hash;
    static bool empty_known;
    if (klen == 0) {
        if (!empty_known) {
            lmmh_x86_32("", 0, KEY_HASH_SEED, &empty_hash);
            empty_known = true;
        }
        return empty_hash;
    }
    uint32_t h;
    lmmh_x86_32(key, (unsigned)klen, KEY_HASH_SEED, &h);
    return h;
}

/* An element without entries but with room for nent of them (the key
 * bytes sit at e[0] while n is 0; crdt_entry_insert moves them up). */
static struct crdt_elem *elem_new(const void *key, size_t klen, uint32_t nent)
{
    struct crdt_elem *el = mem_alloc(sizeof(*el) + (size_t)nent * sizeof(el->e[0]) + klen);
    el->klen = (uint32_t)klen;
    el->n = 0;
    if (klen)
        memcpy((char *)el->e, key, klen);
    return el;
}

static uint32_t elem_hash(const struct crdt_elem *el)
{
    return crdt_key_hash(crdt_elem_key(el), el->klen);
}

static void elem_free(const struct crdt *c, struct crdt_elem *el)
{
    for (uint32_t i = 0; i < el->n; i++)
        if (crdt_entry_has_val(c->type, &el->e[i]))
            val_unref(el->e[i].u.val);
    mem_free(el);
}

uint32_t crdt_slot_find(const struct crdt *c, const void *key, size_t klen, uint32_t h)
{
    /* HOT: each probe costs one element's first bytes; the load stays at
     * most 3/4, so a miss probes a few slots on average */
    if (!c->slot)
        return UINT32_MAX;
    for (uint32_t i = h & c->mask;; i = (i + 1) & c->mask) {
        const struct crdt_elem *el = c->slot[i];
        if (!el)
            return UINT32_MAX;
        if (el->klen == klen && memcmp(crdt_elem_key(el), key, klen) == 0)
            return i;
    }
}

static uint32_t slot_free_for(const struct crdt *c, uint32_t h)
{
    uint32_t i = h & c->mask;
    while (c->slot[i])
        i = (i + 1) & c->mask;
    return i;
}

static void table_grow(struct crdt *c)
{
    uint32_t old = c->slot ? c->mask + 1 : 0;
    /* a delta (scoped) usually names one element: 2 slots hold it at load
     * 1/2; a full state starts at 8 */
    uint32_t nslots = old ? old * 2 : c->scoped ? 2 : 8;
    struct crdt_elem **prev = c->slot;
    c->slot = mem_calloc(nslots, sizeof(*c->slot));
    c->mask = nslots - 1;
    for (uint32_t i = 0; i < old; i++)
        if (prev[i])
            c->slot[slot_free_for(c, elem_hash(prev[i]))] = prev[i];
    if (prev)
        mem_free(prev);
}

/* A free slot for a new element of hash h, the table grown first when the
 * element would take its load above 3/4; counts the element. */
static uint32_t slot_claim(struct crdt *c, uint32_t h)
{
    if (!c->slot || ((uint64_t)c->nelem + 1) * 4 > ((uint64_t)c->mask + 1) * 3)
        table_grow(c);
    c->nelem++;
    return slot_free_for(c, h);
}

uint32_t crdt_slot_get_h(struct crdt *c, const void *key, size_t klen, uint32_t h, uint32_t room)
{
    uint32_t si = crdt_slot_find(c, key, klen, h);
    if (si != UINT32_MAX)
        return si;
    si = slot_claim(c, h);
    c->slot[si] = elem_new(key, klen, room);
    return si;
}

uint32_t crdt_slot_get(struct crdt *c, const void *key, size_t klen)
{
    return crdt_slot_get_h(c, key, klen, crdt_key_hash(key, klen), 0);
}

void crdt_slot_remove(struct crdt *c, uint32_t si)
{
    elem_free(c, c->slot[si]);
    c->slot[si] = NULL;
    c->nelem--;
    /* backward shift: move later members of the probe run into the hole */
    uint32_t hole = si;
    for (uint32_t i = (si + 1) & c->mask; c->slot[i]; i = (i + 1) & c->mask) {
        uint32_t home = elem_hash(c->slot[i]) & c->mask;
        /* i may move to hole when home is not cyclically in (hole, i] */
        bool stays = hole <= i ? (home > hole && home <= i) : (home > hole || home <= i);
        if (!stays) {
            c->slot[hole] = c->slot[i];
            c->slot[i] = NULL;
            hole = i;
        }
    }
}

void crdt_entry_insert(struct crdt *c, uint32_t si, const struct crdt_entry *e)
{
    struct crdt_elem *el = c->slot[si];
    el = mem_realloc(el, sizeof(*el) + ((size_t)el->n + 1) * sizeof(el->e[0]) + el->klen);
    c->slot[si] = el;
    crdt_entry_insert_room(el, e);
}

void crdt_entry_insert_room(struct crdt_elem *el, const struct crdt_entry *e)
{
    memmove(&el->e[el->n + 1], &el->e[el->n], el->klen); /* the key moves up */
    uint32_t i = el->n;
    while (i > 0 && dot_cmp(el->e[i - 1].actor, el->e[i - 1].counter, e->actor, e->counter) > 0) {
        el->e[i] = el->e[i - 1];
        i--;
    }
    el->e[i] = *e;
    el->n++;
}

void crdt_entry_remove(const struct crdt *c, struct crdt_elem *el, uint32_t i)
{
    if (crdt_entry_has_val(c->type, &el->e[i]))
        val_unref(el->e[i].u.val);
    /* entries after i, then the key, move down one entry (the allocation
     * keeps its size until the next insert resizes it) */
    memmove(&el->e[i], &el->e[i + 1],
            (size_t)(el->n - i - 1) * sizeof(el->e[0]) + el->klen);
    el->n--;
}

/* Index of the entry with dot (actor, counter) in el, or UINT32_MAX. */
static uint32_t entry_find(const struct crdt_elem *el, uint32_t actor, uint64_t counter)
{
    for (uint32_t i = 0; i < el->n; i++)
        if (el->e[i].actor == actor && el->e[i].counter == counter)
            return i;
    return UINT32_MAX;
}

/* ------------------------------------------------------------------ */
/* life cycle                                                           */

void crdt_init(struct crdt *c, enum crdt_type t)
{
    memset(c, 0, sizeof(*c));
    c->type = (uint8_t)t;
    vc_init(&c->vc);
}

void crdt_fini(struct crdt *c)
{
    if (!c)
        return;
    if (c->slot) {
        for (uint32_t i = 0; i <= c->mask; i++)
            if (c->slot[i])
                elem_free(c, c->slot[i]);
        mem_free(c->slot);
    }
    vc_fini(&c->vc);
    mem_free(c->cloud);
    mem_free(c->hole);
    mem_free(c->exp);
    crdt_init(c, CRDT_NONE);
}

void crdt_copy(struct crdt *dst, const struct crdt *src)
{
    if (dst == src)
        return;
    crdt_fini(dst);
    dst->type = src->type;
    dst->scoped = src->scoped;
    dst->exp_scoped = src->exp_scoped;
    vc_copy(&dst->vc, &src->vc);
    if (src->ncloud) {
        cloud_reserve(dst, src->ncloud);
        memcpy(dst->cloud, src->cloud, (size_t)src->ncloud * sizeof(*src->cloud));
        dst->ncloud = src->ncloud;
    }
    if (src->nhole) {
        dst->hole = mem_memdup(src->hole, (size_t)src->nhole * sizeof(*src->hole));
        dst->nhole = src->nhole;
    }
    if (src->nexp) {
        dst->exp = mem_memdup(src->exp, (size_t)src->nexp * sizeof(*src->exp));
        dst->nexp = src->nexp;
    }
    if (!src->slot)
        return;
    dst->slot = mem_calloc((size_t)src->mask + 1, sizeof(*dst->slot));
    dst->mask = src->mask;
    dst->nelem = src->nelem;
    for (uint32_t i = 0; i <= src->mask; i++) {
        const struct crdt_elem *el = src->slot[i];
        if (!el)
            continue;
        size_t sz = sizeof(*el) + (size_t)el->n * sizeof(el->e[0]) + el->klen;
        struct crdt_elem *d = mem_memdup(el, sz);
        for (uint32_t k = 0; k < d->n; k++)
            if (crdt_entry_has_val(src->type, &d->e[k]))
                val_ref(d->e[k].u.val);
        dst->slot[i] = d;
    }
}

/* ------------------------------------------------------------------ */
/* join                                                                 */

/* Pass 1 on dst's element in slot si: drop the entries src's context has
 * seen and src's copy of the element (sel, may be NULL) no longer holds. */
static void join_filter(struct crdt *dst, uint32_t si, const struct crdt *src,
                        const struct crdt_elem *sel)
{
    struct crdt_elem *el = dst->slot[si];
    for (uint32_t i = 0; i < el->n;) {
        const struct crdt_entry *e = &el->e[i];
        if ((sel && entry_find(sel, e->actor, e->counter) != UINT32_MAX) ||
            !crdt_ctx_has(src, e->actor, e->counter))
            i++;
        else
            crdt_entry_remove(dst, el, i);
    }
}

static const struct crdt_elem *find_elem(const struct crdt *c, const struct crdt_elem *like)
{
    uint32_t si = crdt_slot_find(c, crdt_elem_key(like), like->klen, elem_hash(like));
    return si == UINT32_MAX ? NULL : c->slot[si];
}

/* Frees every element without entries: one O(table) rebuild, since
 * removing one by one while scanning would shift slots under the scan. */
static void drop_empty(struct crdt *c)
{
    bool any = false;
    for (uint32_t i = 0; c->slot && i <= c->mask && !any; i++)
        any = c->slot[i] && c->slot[i]->n == 0;
    if (!any)
        return;
    struct crdt_elem **prev = c->slot;
    c->slot = mem_calloc((size_t)c->mask + 1, sizeof(*c->slot));
    for (uint32_t i = 0; i <= c->mask; i++) {
        if (!prev[i])
            continue;
        if (prev[i]->n == 0) {
            elem_free(c, prev[i]);
            c->nelem--;
        } else {
            c->slot[slot_free_for(c, elem_hash(prev[i]))] = prev[i];
        }
    }
    mem_free(prev);
}

static bool exp_held(const struct crdt *c, uint32_t actor, uint64_t counter)
{
    for (uint32_t i = 0; i < c->nexp; i++)
        if (c->exp[i].actor == actor && c->exp[i].counter == counter)
            return true;
    return false;
}

/* The expiry register's part of dst ⊔ src (call before the contexts
 * unite).  Entries join like an element's; a scoped src without the
 * expiry in scope says nothing about it, so dst's entries stay. */
static void exp_join(struct crdt *dst, const struct crdt *src)
{
    if (!src->scoped || src->exp_scoped) {
        uint32_t w = 0;
        for (uint32_t i = 0; i < dst->nexp; i++) {
            const struct crdt_expiry *e = &dst->exp[i];
            if (exp_held(src, e->actor, e->counter) || !crdt_ctx_has(src, e->actor, e->counter))
                dst->exp[w++] = *e;
        }
        dst->nexp = w;
    }
    uint32_t add = 0;
    for (uint32_t i = 0; i < src->nexp; i++)
        add += !crdt_ctx_has(dst, src->exp[i].actor, src->exp[i].counter);
    if (add) {
        dst->exp = mem_realloc(dst->exp, ((size_t)dst->nexp + add) * sizeof(*dst->exp));
        for (uint32_t i = 0; i < src->nexp; i++) {
            const struct crdt_expiry *e = &src->exp[i];
            if (crdt_ctx_has(dst, e->actor, e->counter))
                continue;
            uint32_t k = dst->nexp++;
            while (k > 0 && dot_cmp(dst->exp[k - 1].actor, dst->exp[k - 1].counter, e->actor,
                                    e->counter) > 0) {
                dst->exp[k] = dst->exp[k - 1];
                k--;
            }
            dst->exp[k] = *e;
        }
    } else if (dst->nexp == 0) {
        mem_free(dst->exp);
        dst->exp = NULL;
    }
}

int crdt_join(struct crdt *dst, const struct crdt *src)
{
    if (dst->type != src->type)
        return KV_EINVAL;
    if (dst == src)
        return 0;
    /* pass 1: entries dst holds that src has seen removed */
    if (src->scoped) {
        for (uint32_t i = 0; src->slot && i <= src->mask; i++) {
            const struct crdt_elem *sel = src->slot[i];
            if (!sel)
                continue;
            uint32_t si = crdt_slot_find(dst, crdt_elem_key(sel), sel->klen, elem_hash(sel));
            if (si == UINT32_MAX)
                continue;
            join_filter(dst, si, src, sel);
            /* safe: the loop walks src's table, not dst's */
            if (!dst->scoped && dst->slot[si]->n == 0)
                crdt_slot_remove(dst, si);
        }
    } else {
        for (uint32_t i = 0; dst->slot && i <= dst->mask; i++)
            if (dst->slot[i])
                join_filter(dst, i, src, find_elem(src, dst->slot[i]));
    }
    /* pass 2: entries of src that dst has never seen (dst's context is
     * still its own here) */
    for (uint32_t i = 0; src->slot && i <= src->mask; i++) {
        const struct crdt_elem *sel = src->slot[i];
        if (!sel)
            continue;
        /* a scoped dst keeps the scope: the element may have no entries */
        uint32_t nnew = 0;
        for (uint32_t k = 0; k < sel->n; k++)
            nnew += !crdt_ctx_has(dst, sel->e[k].actor, sel->e[k].counter);
        if (!nnew && !dst->scoped)
            continue;
        /* an element dst lacks is made with room for exactly its new
         * entries: one allocation, not one per entry */
        uint32_t nelem = dst->nelem;
        uint32_t si = crdt_slot_get_h(dst, crdt_elem_key(sel), sel->klen, elem_hash(sel), nnew);
        bool room = dst->nelem != nelem;
        for (uint32_t k = 0; k < sel->n; k++) {
            const struct crdt_entry *e = &sel->e[k];
            if (crdt_ctx_has(dst, e->actor, e->counter))
                continue;
            struct crdt_entry copy = *e;
            if (crdt_entry_has_val(src->type, &copy))
                val_ref(copy.u.val);
            if (room)
                crdt_entry_insert_room(dst->slot[si], &copy);
            else
                crdt_entry_insert(dst, si, &copy);
        }
    }
    exp_join(dst, src);
    holes_join(dst, src);
    ctx_join(dst, src);
    bool was_scoped = dst->scoped;
    dst->scoped = dst->scoped && src->scoped;
    dst->exp_scoped = dst->scoped && (dst->exp_scoped || src->exp_scoped);
    if (!dst->scoped && (was_scoped || !src->scoped))
        drop_empty(dst);
    return 0;
}

void crdt_ctx_seed(struct crdt *c, const struct vclock *vc)
{
    /* the empty full state that has seen vc: what a deletion that saw
     * those dots leaves */
    struct crdt seen;
    crdt_init(&seen, (enum crdt_type)c->type);
    for (uint32_t i = 0; i < vc->n; i++)
        if (vc->e[i].counter > 0)
            vc_raise(&seen.vc, vc->e[i].actor, vc->e[i].counter);
    crdt_join(c, &seen); /* same type: cannot fail */
    crdt_fini(&seen);
}

size_t crdt_mem_bytes(const struct crdt *c)
{
    size_t n = (size_t)c->vc.cap * sizeof(*c->vc.e) + (size_t)c->capcloud * sizeof(*c->cloud) +
               (size_t)c->nhole * sizeof(*c->hole) + (size_t)c->nexp * sizeof(*c->exp);
    if (!c->slot)
        return n;
    n += ((size_t)c->mask + 1) * sizeof(*c->slot);
    for (uint32_t i = 0; i <= c->mask; i++) {
        const struct crdt_elem *el = c->slot[i];
        if (!el)
            continue;
        n += sizeof(*el) + (size_t)el->n * sizeof(el->e[0]) + el->klen;
        for (uint32_t k = 0; k < el->n; k++)
            if (crdt_entry_has_val(c->type, &el->e[k]))
                n += sizeof(struct val) + el->e[k].u.val->len;
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* reading the table                                                    */

const struct crdt_elem *crdt_find(const struct crdt *c, const void *key, size_t klen)
{
    uint32_t si = crdt_slot_find(c, key, klen, crdt_key_hash(key, klen));
    return si == UINT32_MAX ? NULL : c->slot[si];
}

uint32_t crdt_count(const struct crdt *c)
{
    if (!c->scoped)
        return c->nelem; /* full states keep no empty element */
    uint32_t n = 0;
    for (uint32_t i = 0; c->slot && i <= c->mask; i++)
        n += c->slot[i] && c->slot[i]->n > 0;
    return n;
}

void crdt_each(const struct crdt *c, crdt_elem_fn fn, void *arg)
{
    for (uint32_t i = 0; c->slot && i <= c->mask; i++)
        if (c->slot[i] && c->slot[i]->n > 0 && !fn(c->slot[i], arg))
            return;
}

static bool entry_same(uint8_t type, const struct crdt_entry *x, const struct crdt_entry *y)
{
    if (x->actor != y->actor || x->counter != y->counter || x->kind != y->kind)
        return false;
    switch (x->kind) {
    case CRDT_K_MEMBER:
        return true;
    case CRDT_K_REG:
        if (type == CRDT_ZSET)
            return memcmp(&x->u.score, &y->u.score, sizeof(double)) == 0;
        return x->u.val->len == y->u.val->len &&
               memcmp(x->u.val->data, y->u.val->data, x->u.val->len) == 0;
    case CRDT_K_CNT_INT:
        return x->u.i == y->u.i;
    case CRDT_K_CNT_FLOAT:
        return memcmp(&x->u.f, &y->u.f, sizeof(double)) == 0;
    default:
        return false;
    }
}

bool crdt_equal(const struct crdt *a, const struct crdt *b)
{
    if (a->type != b->type || a->scoped != b->scoped || a->nelem != b->nelem ||
        a->vc.n != b->vc.n || vc_compare(&a->vc, &b->vc) != VC_EQUAL ||
        a->ncloud != b->ncloud || a->nhole != b->nhole || a->exp_scoped != b->exp_scoped ||
        a->nexp != b->nexp)
        return false;
    for (uint32_t i = 0; i < a->nexp; i++)
        if (a->exp[i].actor != b->exp[i].actor || a->exp[i].counter != b->exp[i].counter ||
            a->exp[i].ms != b->exp[i].ms)
            return false;
    for (uint32_t i = 0; i < a->ncloud; i++)
        if (a->cloud[i].actor != b->cloud[i].actor || a->cloud[i].counter != b->cloud[i].counter)
            return false;
    for (uint32_t i = 0; i < a->nhole; i++)
        if (a->hole[i].actor != b->hole[i].actor || a->hole[i].counter != b->hole[i].counter)
            return false;
    for (uint32_t i = 0; a->slot && i <= a->mask; i++) {
        const struct crdt_elem *x = a->slot[i];
        if (!x)
            continue;
        const struct crdt_elem *y = find_elem(b, x);
        if (!y || x->n != y->n)
            return false;
        for (uint32_t k = 0; k < x->n; k++)
            if (!entry_same(a->type, &x->e[k], &y->e[k]))
                return false;
    }
    return true;
}
