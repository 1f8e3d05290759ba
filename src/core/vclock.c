/* vclock.c — vector clocks: algebra, pruning and the three codecs.
 *
 * Owns: the process-wide actor interning table, and nothing else; every
 * struct vclock belongs to its caller.
 *
 * Invariants: a clock's entries are sorted by actor id with no duplicates,
 * and every counter is >= 1 (so an entry's presence alone means "ahead of a
 * clock that lacks it").  Every decoder re-establishes both invariants or
 * fails; nothing else can break them.
 *
 * Callers: siblings.c (compare, pack/unpack, encode/decode: the store and
 * the wire reach clocks through it), crdt*.c (the convergent types' causal
 * contexts: merge, counters, actor names in their codec), coord.c (merge,
 * prune, counters), the command handlers (cmd_kv.c, cmd_keyspace.c: contexts; cmd_dynamo.c:
 * format; cmd_info.c: actor names), ae.c (actor names), main (interns this
 * node's actor).  Everything here is pure CPU work on the event
 * loop thread; nothing blocks.  The actor table is not locked: all
 * interning happens on the event loop thread.
 *
 * Why the actor table is a module global: it is a symbol table, like string
 * interning in a compiler.  An actor id is meaningful only through it, ids
 * are handed out once and never reused or freed (so a clock holding an id
 * stays valid for the process lifetime), and every clock in the process must
 * agree on the mapping.  Threading one table through every call that
 * compares or decodes a clock would buy nothing.  It grows with the number
 * of distinct actors ever seen (node incarnations, normally a few dozen:
 * with dotted versions, siblings.h, concurrent writes no longer mint actors);
 * names arriving from the network are syntax-checked before they are
 * interned and capped at ACTOR_WIRE_LIMIT so a hostile client cannot grow it
 * without bound.
 *
 * Pruning trade-off (Dynamo §4.4): vc_prune drops the entries with the
 * oldest timestamps once a clock exceeds vclock-max-entries.  Dropping an
 * entry forgets causal history, so two versions that were CONCURRENT can
 * afterwards compare as BEFORE/AFTER: a genuinely concurrent version could
 * then be superseded and discarded, exactly the silent loss the design
 * otherwise forbids.  Equally, a version that was AFTER another can become
 * CONCURRENT (a spurious sibling, which is harmless).  That is why the
 * limit is large (50, far above the number of coordinators a key normally
 * sees) and why the entries dropped are the ones whose actor has not
 * coordinated a write for the longest time — the least likely to be
 * concurrent with anything still in flight.  Ties on timestamp are broken by
 * actor name so every node prunes a given clock identically.  When vc_prune
 * drops nothing the clock is unchanged, so no order changes.
 *
 * Codecs:
 *   pack (local):  varint n, then per entry varint actor id, counter, ts.
 *                  Ids are process-local, so packed clocks never leave the
 *                  process (the store keeps them in its entries).
 *   wire (peers):  varint n, then per entry u8 name length, name bytes,
 *                  varint counter, varint ts.  Decoding re-sorts by the local
 *                  ids of the names.
 *   context:       base64url (no padding) of [u8 version = 1][wire][u32 LE
 *                  lmmh_x86_32 of everything before it].  The checksum only
 *                  catches corruption and typos; it is not a MAC (a client may
 *                  forge any context).  Counters above VC_MAX_COUNTER are
 *                  refused by every decoder, and the coordinator refuses
 *                  counters of its own actor it never issued (coord.h), so a
 *                  forged context cannot make later writes collide with
 *                  stored ones.
 * Varints are unsigned LEB128; decoders reject overlong forms so that every
 * value has exactly one encoding.
 */
#include "core/vclock.h"
#include "util/varint.h"

#include <assert.h>
#include <murmurhash.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

static_assert(sizeof(struct vc_entry) == 24, "vc_entry layout");

/* Distinct actor names the wire decoders may add to the table.  Legitimate
 * actors are node incarnations (tens to hundreds over a cluster's life);
 * past this a clock naming an unknown actor is refused. */
#define ACTOR_WIRE_LIMIT (1u << 16)
#define ACTOR_HASH_SEED 0x5bd1e995u
#define CONTEXT_VERSION 1
/* Largest wire clock vc_decode accepts, and so the longest context worth
 * decoding: varint n (2 bytes for 4096) + entries of at most
 * 1 + 255 + 10 + 10 bytes. */
#define WIRE_MAX_BYTES (2 + (size_t)VC_MAX_DECODE_ENTRIES * (1 + VC_MAX_ACTOR_LEN + 10 + 10))
#define CONTEXT_MAX_RAW (1 + WIRE_MAX_BYTES + 4)
#define CONTEXT_MAX_CHARS ((CONTEXT_MAX_RAW + 2) / 3 * 4)

/* ------------------------------------------------------------------ */
/* actor interning                                                      */

struct actor {
    char *name;    /* NUL-terminated copy; never moved or freed */
    uint32_t len;
    uint32_t hash;
};

static struct {
    struct actor *v;  /* indexed by id */
    uint32_t n, cap;
    uint32_t *slot;   /* open addressing, id + 1 (0 = empty), load <= 1/2 */
    uint32_t mask;    /* slots - 1 */
} actors;

static uint32_t name_hash(const char *name, size_t len)
{
    uint32_t h;
    lmmh_x86_32(name, (unsigned)len, ACTOR_HASH_SEED, &h);
    return h;
}

static bool actor_lookup(const char *name, size_t len, uint32_t h, uint32_t *id)
{
    if (!actors.slot)
        return false;
    for (uint32_t i = h & actors.mask;; i = (i + 1) & actors.mask) {
        uint32_t s = actors.slot[i];
        if (!s)
            return false;
        const struct actor *a = &actors.v[s - 1];
        if (a->hash == h && a->len == len && memcmp(a->name, name, len) == 0) {
            *id = s - 1;
            return true;
        }
    }
}

static void slot_insert(uint32_t id)
{
    for (uint32_t i = actors.v[id].hash & actors.mask;; i = (i + 1) & actors.mask) {
        if (!actors.slot[i]) {
            actors.slot[i] = id + 1;
            return;
        }
    }
}

static uint32_t actor_add(const char *name, size_t len, uint32_t h)
{
    if (actors.n == actors.cap) {
        actors.cap = actors.cap ? actors.cap * 2 : 16;
        actors.v = mem_realloc(actors.v, actors.cap * sizeof(*actors.v));
    }
    uint32_t id = actors.n++;
    actors.v[id] = (struct actor){ mem_strndup(name, len), (uint32_t)len, h };
    if ((size_t)actors.n * 2 > (size_t)actors.mask + 1 || !actors.slot) {
        uint32_t nslots = actors.slot ? (actors.mask + 1) * 2 : 64;
        mem_free(actors.slot);
        actors.slot = mem_calloc(nslots, sizeof(*actors.slot));
        actors.mask = nslots - 1;
        for (uint32_t i = 0; i < actors.n; i++)
            slot_insert(i);
    } else {
        slot_insert(id);
    }
    return id;
}

uint32_t vc_actor_intern(const char *name, size_t len)
{
    assert(len <= VC_MAX_ACTOR_LEN);
    if (len > VC_MAX_ACTOR_LEN) /* release builds: the codecs carry at most this much */
        len = VC_MAX_ACTOR_LEN;
    uint32_t h = name_hash(name, len);
    uint32_t id;
    if (actor_lookup(name, len, h, &id))
        return id;
    return actor_add(name, len, h);
}

bool vc_actor_find(const char *name, size_t len, uint32_t *id)
{
    if (len > VC_MAX_ACTOR_LEN)
        return false;
    return actor_lookup(name, len, name_hash(name, len), id);
}

uint32_t vc_actor_count(void)
{
    return actors.n;
}

const char *vc_actor_name(uint32_t id, size_t *len)
{
    if (id >= actors.n) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = actors.v[id].len;
    return actors.v[id].name;
}

/* Names from the network: non-empty, printable ASCII without spaces, so
 * vc_format output stays readable and garbage never reaches the table. */
static bool name_valid(const uint8_t *p, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x21 || p[i] > 0x7e)
            return false;
    return true;
}

bool vc_actor_name_ok(const void *name, size_t len)
{
    return len <= VC_MAX_ACTOR_LEN && name_valid(name, len);
}

int vc_actor_intern_wire(const char *name, size_t len, uint32_t *id)
{
    if (!vc_actor_name_ok(name, len))
        return KV_EBADCTX;
    uint32_t h = name_hash(name, len);
    if (actor_lookup(name, len, h, id))
        return 0;
    if (actors.n >= ACTOR_WIRE_LIMIT)
        return KV_EBADCTX;
    *id = actor_add(name, len, h);
    return 0;
}

static int actor_cmp_names(uint32_t a, uint32_t b)
{
    const struct actor *x = &actors.v[a], *y = &actors.v[b];
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

/* ------------------------------------------------------------------ */
/* algebra                                                              */

const char *vc_order_name(enum vc_order o)
{
    switch (o) {
    case VC_EQUAL: return "equal";
    case VC_BEFORE: return "before";
    case VC_AFTER: return "after";
    case VC_CONCURRENT: return "concurrent";
    case VC_ORDER_COUNT: break;
    }
    return "?";
}

static void vc_reserve(struct vclock *vc, uint32_t n)
{
    if (n <= vc->cap)
        return;
    uint32_t cap = vc->cap ? vc->cap : 4;
    while (cap < n)
        cap *= 2;
    vc->e = mem_realloc(vc->e, (size_t)cap * sizeof(*vc->e));
    vc->cap = cap;
}

void vc_init(struct vclock *vc)
{
    vc->n = 0;
    vc->cap = 0;
    vc->e = NULL;
}

void vc_fini(struct vclock *vc)
{
    if (!vc)
        return;
    mem_free(vc->e);
    vc_init(vc);
}

void vc_clear(struct vclock *vc)
{
    vc->n = 0;
}

void vc_copy(struct vclock *dst, const struct vclock *src)
{
    if (dst == src)
        return;
    vc_reserve(dst, src->n);
    if (src->n)
        memcpy(dst->e, src->e, (size_t)src->n * sizeof(*src->e));
    dst->n = src->n;
}

void vc_move(struct vclock *dst, struct vclock *src)
{
    if (dst == src)
        return;
    vc_fini(dst);
    *dst = *src;
    vc_init(src);
}

/* Index of actor in vc, or the insertion point with *found = false. */
static uint32_t find_actor(const struct vclock *vc, uint32_t actor, bool *found)
{
    uint32_t lo = 0, hi = vc->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (vc->e[mid].actor < actor)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < vc->n && vc->e[lo].actor == actor;
    return lo;
}

bool vc_identical(const struct vclock *a, const struct vclock *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->e[i].actor != b->e[i].actor || a->e[i].counter != b->e[i].counter ||
            a->e[i].ts_ms != b->e[i].ts_ms)
            return false;
    return true;
}

void vc_increment(struct vclock *vc, uint32_t actor, uint64_t now_ms)
{
    bool found;
    uint32_t i = find_actor(vc, actor, &found);
    if (found) {
        /* Saturates rather than wrapping to 0 (which would break the
         * counter >= 1 invariant); 2^64 writes by one actor cannot happen
         * honestly, only through a forged context. */
        if (vc->e[i].counter != UINT64_MAX)
            vc->e[i].counter++;
        vc->e[i].ts_ms = now_ms;
        return;
    }
    vc_reserve(vc, vc->n + 1);
    memmove(&vc->e[i + 1], &vc->e[i], (size_t)(vc->n - i) * sizeof(*vc->e));
    vc->e[i] = (struct vc_entry){ .actor = actor, .counter = 1, .ts_ms = now_ms };
    vc->n++;
}

void vc_stamp(struct vclock *vc, uint32_t actor, uint64_t now_ms)
{
    for (uint32_t i = 0; i < vc->n; i++)
        if (vc->e[i].actor == actor && vc->e[i].ts_ms < now_ms)
            vc->e[i].ts_ms = now_ms;
}

void vc_merge(struct vclock *dst, const struct vclock *src)
{
    if (dst == src || src->n == 0)
        return;
    /* Size of the union, then merge from the back so the work is in place. */
    uint32_t i = 0, j = 0, u = 0;
    while (i < dst->n && j < src->n) {
        uint32_t a = dst->e[i].actor, b = src->e[j].actor;
        i += a <= b;
        j += b <= a;
        u++;
    }
    u += (dst->n - i) + (src->n - j);
    vc_reserve(dst, u);
    struct vc_entry *d = dst->e;
    const struct vc_entry *s = src->e;
    int64_t di = (int64_t)dst->n - 1, sj = (int64_t)src->n - 1, k = (int64_t)u - 1;
    while (sj >= 0) {
        if (di >= 0 && d[di].actor > s[sj].actor) {
            d[k--] = d[di--];
        } else if (di >= 0 && d[di].actor == s[sj].actor) {
            struct vc_entry m = d[di];
            if (s[sj].counter > m.counter)
                m.counter = s[sj].counter;
            if (s[sj].ts_ms > m.ts_ms)
                m.ts_ms = s[sj].ts_ms;
            d[k--] = m;
            di--;
            sj--;
        } else {
            d[k--] = s[sj--];
        }
    }
    assert(k == di);
    dst->n = u;
}

/* HOT: every reconcile and every store_put runs this. */
enum vc_order vc_compare(const struct vclock *a, const struct vclock *b)
{
    const struct vc_entry *x = a->e, *y = b->e;
    uint32_t i = 0, j = 0, na = a->n, nb = b->n;
    bool a_ahead = false, b_ahead = false;
    while (i < na && j < nb) {
        if (x[i].actor == y[j].actor) {
            a_ahead |= x[i].counter > y[j].counter;
            b_ahead |= y[j].counter > x[i].counter;
            i++;
            j++;
        } else if (x[i].actor < y[j].actor) {
            a_ahead = true; /* counters are >= 1, absent means 0 */
            i++;
        } else {
            b_ahead = true;
            j++;
        }
        if (a_ahead && b_ahead)
            return VC_CONCURRENT;
    }
    a_ahead |= i < na;
    b_ahead |= j < nb;
    if (a_ahead)
        return b_ahead ? VC_CONCURRENT : VC_AFTER;
    return b_ahead ? VC_BEFORE : VC_EQUAL;
}

bool vc_descends(const struct vclock *a, const struct vclock *b)
{
    enum vc_order o = vc_compare(a, b);
    return o == VC_EQUAL || o == VC_AFTER;
}

struct prune_item {
    uint64_t ts;
    uint32_t actor;
    uint32_t pos;
};

static int prune_cmp(const void *pa, const void *pb)
{
    const struct prune_item *a = pa, *b = pb;
    if (a->ts != b->ts)
        return a->ts < b->ts ? -1 : 1;
    return actor_cmp_names(a->actor, b->actor);
}

unsigned vc_prune(struct vclock *vc, unsigned max_entries)
{
    if (vc->n <= max_entries)
        return 0;
    unsigned drop = vc->n - max_entries;
    struct prune_item *it = mem_alloc((size_t)vc->n * sizeof(*it));
    for (uint32_t i = 0; i < vc->n; i++)
        it[i] = (struct prune_item){ vc->e[i].ts_ms, vc->e[i].actor, i };
    qsort(it, vc->n, sizeof(*it), prune_cmp);
    for (unsigned k = 0; k < drop; k++)
        vc->e[it[k].pos].counter = 0; /* marks the entry; compacted below */
    mem_free(it);
    uint32_t w = 0;
    for (uint32_t r = 0; r < vc->n; r++)
        if (vc->e[r].counter)
            vc->e[w++] = vc->e[r];
    vc->n = w;
    return drop;
}

/* ------------------------------------------------------------------ */
/* local pack                                                           */

void vc_pack(const struct vclock *vc, struct buf *out)
{
    buf_reserve(out, 10 + (size_t)vc->n * 30);
    uint8_t *p = (uint8_t *)out->data + out->len;
    size_t k = varint_put(p, vc->n);
    for (uint32_t i = 0; i < vc->n; i++) {
        k += varint_put(p + k, vc->e[i].actor);
        k += varint_put(p + k, vc->e[i].counter);
        k += varint_put(p + k, vc->e[i].ts_ms);
    }
    out->len += k;
}

int vc_unpack(struct vclock *vc, const void *ptr, size_t len, size_t *used)
{
    const uint8_t *p = ptr;
    size_t pos = 0;
    uint64_t n;
    vc->n = 0;
    if (!varint_get(p, len, &pos, &n) || n > (len - pos) / 3) /* entries take >= 3 bytes */
        return KV_EPROTO;
    vc_reserve(vc, (uint32_t)n);
    uint64_t prev = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t actor, counter, ts;
        if (!varint_get(p, len, &pos, &actor) || !varint_get(p, len, &pos, &counter) ||
            !varint_get(p, len, &pos, &ts))
            return KV_EPROTO;
        if (actor >= actors.n || (i && actor <= prev) || counter == 0)
            return KV_EPROTO;
        vc->e[i] = (struct vc_entry){ .actor = (uint32_t)actor, .counter = counter, .ts_ms = ts };
        prev = actor;
    }
    vc->n = (uint32_t)n;
    if (used)
        *used = pos;
    return 0;
}

/* ------------------------------------------------------------------ */
/* wire codec                                                           */

void vc_encode(const struct vclock *vc, struct buf *out)
{
    size_t need = 10;
    for (uint32_t i = 0; i < vc->n; i++)
        need += 1 + actors.v[vc->e[i].actor].len + 20;
    buf_reserve(out, need);
    /* Canonical order (by actor name, not by this process's ids), so equal
     * clocks encode to the same bytes — and the same context — on every node. */
    uint32_t stack_order[64];
    uint32_t *order = vc->n <= 64 ? stack_order : mem_alloc(vc->n * sizeof(*order));
    for (uint32_t i = 0; i < vc->n; i++) {
        uint32_t j = i;
        const struct actor *ai = &actors.v[vc->e[i].actor];
        while (j > 0) {
            const struct actor *aj = &actors.v[vc->e[order[j - 1]].actor];
            size_t m = ai->len < aj->len ? ai->len : aj->len;
            int c = memcmp(ai->name, aj->name, m);
            if (c > 0 || (c == 0 && ai->len >= aj->len))
                break;
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    uint8_t *p = (uint8_t *)out->data + out->len;
    size_t k = varint_put(p, vc->n);
    for (uint32_t oi = 0; oi < vc->n; oi++) {
        const struct vc_entry *e = &vc->e[order[oi]];
        const struct actor *a = &actors.v[e->actor];
        p[k++] = (uint8_t)a->len;
        memcpy(p + k, a->name, a->len);
        k += a->len;
        k += varint_put(p + k, e->counter);
        k += varint_put(p + k, e->ts_ms);
    }
    out->len += k;
    if (order != stack_order)
        mem_free(order);
}

static int entry_actor_cmp(const void *pa, const void *pb)
{
    const struct vc_entry *a = pa, *b = pb;
    return (a->actor > b->actor) - (a->actor < b->actor);
}

static int decode(struct vclock *vc, const void *ptr, size_t len, size_t *used,
                  bool known_only);

int vc_decode(struct vclock *vc, const void *ptr, size_t len, size_t *used)
{
    return decode(vc, ptr, len, used, false);
}

/* known_only: names not interned yet are dropped instead of added. */
static int decode(struct vclock *vc, const void *ptr, size_t len, size_t *used,
                  bool known_only)
{
    const uint8_t *p = ptr;
    size_t pos = 0;
    uint64_t n;
    vc->n = 0;
    /* An entry takes >= 4 bytes (length, 1-byte name, counter, ts), which
     * bounds the allocation by the input size as well as by the limit. */
    if (!varint_get(p, len, &pos, &n) || n > VC_MAX_DECODE_ENTRIES || n > (len - pos) / 4)
        return KV_EBADCTX;
    vc_reserve(vc, (uint32_t)n);
    /* Pass 1: syntax only; actor temporarily holds the name's offset and
     * pad_ its length, so malformed input never touches the actor table. */
    for (uint32_t i = 0; i < n; i++) {
        if (pos >= len)
            return KV_EBADCTX;
        size_t nl = p[pos++];
        if (nl > len - pos || !name_valid(p + pos, nl))
            return KV_EBADCTX;
        struct vc_entry *e = &vc->e[i];
        if (known_only && i > 0) {
            /* contexts come from vc_encode: names strictly increasing,
             * which also rules out duplicates among names dropped below */
            const struct vc_entry *q = &vc->e[i - 1];
            size_t m = q->pad_ < nl ? q->pad_ : nl;
            int c = memcmp(p + q->actor, p + pos, m);
            if (c > 0 || (c == 0 && q->pad_ >= nl))
                return KV_EBADCTX;
        }
        e->actor = (uint32_t)pos; /* < WIRE_MAX_BYTES, see the n bound */
        e->pad_ = (uint32_t)nl;
        pos += nl;
        if (!varint_get(p, len, &pos, &e->counter) || e->counter == 0 ||
            e->counter > VC_MAX_COUNTER || !varint_get(p, len, &pos, &e->ts_ms))
            return KV_EBADCTX;
    }
    /* Pass 2: names to ids. */
    uint32_t w = 0;
    for (uint32_t i = 0; i < n; i++) {
        struct vc_entry *e = &vc->e[i];
        const char *name = (const char *)p + e->actor;
        size_t nl = e->pad_;
        uint32_t h = name_hash(name, nl), id;
        if (!actor_lookup(name, nl, h, &id)) {
            if (known_only)
                continue;
            if (actors.n >= ACTOR_WIRE_LIMIT)
                return KV_EBADCTX;
            id = actor_add(name, nl, h);
        }
        vc->e[w] = *e;
        vc->e[w].actor = id;
        vc->e[w++].pad_ = 0;
    }
    n = w;
    if (n > 1)
        qsort(vc->e, n, sizeof(*vc->e), entry_actor_cmp);
    for (uint32_t i = 1; i < n; i++)
        if (vc->e[i].actor == vc->e[i - 1].actor)
            return KV_EBADCTX;
    vc->n = (uint32_t)n;
    if (used)
        *used = pos;
    return 0;
}

/* ------------------------------------------------------------------ */
/* client context                                                       */

static const char b64url[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static inline int b64_val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '-')
        return 62;
    if (c == '_')
        return 63;
    return -1;
}

static void b64_encode(struct buf *out, const uint8_t *p, size_t n)
{
    buf_reserve(out, (n + 2) / 3 * 4);
    char *o = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
        *o++ = b64url[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)p[i] << 16;
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
        *o++ = b64url[v >> 18];
        *o++ = b64url[(v >> 12) & 63];
        *o++ = b64url[(v >> 6) & 63];
    }
    out->len = (size_t)(o - out->data);
}

/* Strict: only the alphabet, no padding, and the unused low bits of a
 * trailing group must be zero (one encoding per byte string).  out holds at
 * least n / 4 * 3 + 2 bytes.  Returns the decoded length, or -1. */
static long b64_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    if (n % 4 == 1)
        return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= n; i += 4) {
        int a = b64_val(in[i]), b = b64_val(in[i + 1]);
        int c = b64_val(in[i + 2]), d = b64_val(in[i + 3]);
        if ((a | b | c | d) < 0)
            return -1;
        uint32_t v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | (uint32_t)d;
        out[o++] = (uint8_t)(v >> 16);
        out[o++] = (uint8_t)(v >> 8);
        out[o++] = (uint8_t)v;
    }
    if (n - i == 2) {
        int a = b64_val(in[i]), b = b64_val(in[i + 1]);
        if ((a | b) < 0 || (b & 0x0f))
            return -1;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
    } else if (n - i == 3) {
        int a = b64_val(in[i]), b = b64_val(in[i + 1]), c = b64_val(in[i + 2]);
        if ((a | b | c) < 0 || (c & 0x03))
            return -1;
        out[o++] = (uint8_t)(a << 2 | b >> 4);
        out[o++] = (uint8_t)((b & 0x0f) << 4 | c >> 2);
    }
    return (long)o;
}

static uint32_t checksum(const uint8_t *p, size_t n)
{
    uint32_t h;
    lmmh_x86_32(p, (unsigned)n, 0, &h);
    return h;
}

void vc_to_context(const struct vclock *vc, struct buf *out)
{
    if (vc->n == 0)
        return;
    struct buf raw;
    buf_init(&raw);
    buf_putc(&raw, CONTEXT_VERSION);
    vc_encode(vc, &raw);
    uint32_t h = checksum((const uint8_t *)raw.data, raw.len);
    uint8_t le[4] = { (uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), (uint8_t)(h >> 24) };
    buf_put(&raw, le, 4);
    b64_encode(out, (const uint8_t *)raw.data, raw.len);
    buf_fini(&raw);
}

int vc_from_context(struct vclock *vc, const void *p, size_t len)
{
    vc->n = 0;
    if (len == 0)
        return 0;
    if (len > CONTEXT_MAX_CHARS)
        return KV_EBADCTX;
    uint8_t stackbuf[512];
    size_t cap = len / 4 * 3 + 2;
    uint8_t *raw = cap <= sizeof(stackbuf) ? stackbuf : mem_alloc(cap);
    int rc = KV_EBADCTX;
    long n = b64_decode(p, len, raw);
    /* version + at least one entry's worth of wire bytes + checksum */
    if (n < 1 + 1 + 4 || raw[0] != CONTEXT_VERSION)
        goto out;
    size_t body = (size_t)n - 4;
    const uint8_t *ck = raw + body;
    uint32_t want = (uint32_t)ck[0] | (uint32_t)ck[1] << 8 | (uint32_t)ck[2] << 16 |
                    (uint32_t)ck[3] << 24;
    if (checksum(raw, body) != want)
        goto out;
    size_t used;
    /* The empty clock is only ever the empty string: a zero-entry token is
     * refused so each clock has one context. */
    /* Actors this process never heard of are dropped, not interned: a
     * context can then neither grow the actor table (a client could
     * otherwise fill it with invented names until peers refuse new node
     * incarnations) nor cover a version this node never held (dropping an
     * entry only leaves more siblings, never fewer).  A context naming only
     * such actors becomes the empty one. */
    if (decode(vc, raw + 1, body - 1, &used, true) != 0 || used != body - 1)
        goto out;
    if (vc->n == 0 && (body - 1 < 1 || raw[1] == 0))
        goto out;
    rc = 0;
out:
    if (rc)
        vc->n = 0;
    if (raw != stackbuf)
        mem_free(raw);
    return rc;
}

/* ------------------------------------------------------------------ */
/* readable form                                                        */

void vc_format(const struct vclock *vc, struct buf *out)
{
    buf_putc(out, '[');
    for (uint32_t i = 0; i < vc->n; i++) {
        size_t nl;
        const char *name = vc_actor_name(vc->e[i].actor, &nl);
        if (i)
            buf_put(out, ", ", 2);
        if (name)
            buf_put(out, name, nl);
        else
            buf_printf(out, "#%u", vc->e[i].actor);
        buf_printf(out, ":%llu@%llu", (unsigned long long)vc->e[i].counter,
                   (unsigned long long)vc->e[i].ts_ms);
    }
    buf_putc(out, ']');
}
