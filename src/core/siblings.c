/* siblings.c — a key's set of versions and the Dynamo reconcile rules.
 *
 * Owns: the versions of a struct sibset (each holds one value reference and
 * its clock and dot).  Invariant: no version is equal to or dominated by
 * another (siblings.h gives the order); sib_add and sib_decode are the only
 * ways in and both keep it.
 *
 * Callers: store.c (loading and reconciling entries), quorum.c (merging
 * replica answers, read repair, stamping) and coord.c (contexts), the wire format (sib_encode/
 * decode) wherever versions cross a node or the log: cmd_peer.c, aof.c,
 * ae.c, handoff.c, xfer.c; the key digest (sib_digest): replica, ae,
 * reaper, main's observer; flush epochs (sib_drop_before): replica.c,
 * coord.c (replica answers), handoff.c, aof.c (replay); replica.c,
 * reaper.c and the command handlers
 * (cmd_kv.c, cmd_keyspace.c, cmd_string.c, cmd_dynamo.c) read sets.
 * Pure CPU work; nothing blocks.  Reconciling is O(n) clock comparisons per
 * added version, and sets are tiny in practice (Dynamo saw > 1 version for
 * well under 1% of reads).
 *
 * Wire format (sib_encode):
 *   varint count
 *   per version: u8 flags (SIB_F_TOMBSTONE, SIB_F_EXPIRE)
 *                [varint expire_ms]          when SIB_F_EXPIRE
 *                [varint length, bytes]      unless SIB_F_TOMBSTONE
 *                vc_encode'd clock
 *                [u8 name length, dot actor name, varint dot_base]
 *                                            when SIB_F_DOT
 *                [varint epoch, >= 1]        when SIB_F_EPOCH
 * SIB_F_TYPED (issue 14): the value is a hash/set/zset/counter state,
 * varint length + crdt_encode bytes (a full state, or a coordinator's
 * delta); never with SIB_F_TOMBSTONE or SIB_F_DOT, and its expire_ms must
 * be the state's expiry register (crdt_expire).
 * Varints are canonical unsigned LEB128 (the same rules as vclock.c).
 * SIB_F_DOT is new with dotted versions: sets written before it (old logs)
 * have no dot and decode as old-format versions; a node of the previous
 * release refuses a set holding dots (its decoder rejects unknown flags).
 * SIB_F_EPOCH is new with cluster-wide FLUSHALL (issue 16): a version of
 * epoch 0 (every version until the first flush) is encoded exactly as
 * before, so logs and peers of the previous release read it.
 */
#include "core/siblings.h"
#include "core/tval.h"
#include "util/hash.h"
#include "util/varint.h"

#include <murmurhash.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

#define SIB_F_TOMBSTONE (1u << 0) /* no value bytes follow */
#define SIB_F_EXPIRE (1u << 1)    /* a non-zero expire_ms follows */
#define SIB_F_DOT (1u << 2)       /* the dot follows the clock */
#define SIB_F_EPOCH (1u << 3)     /* a non-zero flush epoch follows the dot */
#define SIB_F_TYPED (1u << 4)     /* the value is a crdt_encode'd state */

void version_init(struct version *v)
{
    v->val = NULL;
    v->expire_ms = 0;
    vc_init(&v->vc);
    v->dot_actor = VERSION_NO_DOT;
    v->epoch = 0;
    v->dot_base = 0;
}

void version_fini(struct version *v)
{
    if (!v)
        return;
    val_unref(v->val);
    v->val = NULL;
    v->expire_ms = 0;
    vc_fini(&v->vc);
    v->dot_actor = VERSION_NO_DOT;
    v->epoch = 0;
    v->dot_base = 0;
}

void version_copy(struct version *dst, const struct version *src)
{
    if (dst == src)
        return;
    struct val *old = dst->val;
    dst->val = val_ref(src->val);
    val_unref(old);
    dst->expire_ms = src->expire_ms;
    vc_copy(&dst->vc, &src->vc);
    dst->dot_actor = src->dot_actor;
    dst->epoch = src->epoch;
    dst->dot_base = src->dot_base;
}

void version_set_dot(struct version *v, const struct vclock *ctx, uint32_t actor,
                     uint64_t counter, uint64_t now_ms)
{
    uint64_t base = vc_counter(ctx, actor);
    vc_copy(&v->vc, ctx);
    /* vc_increment adds the entry at 1 or bumps it; then set the counter */
    vc_increment(&v->vc, actor, now_ms);
    for (uint32_t i = 0; i < v->vc.n; i++)
        if (v->vc.e[i].actor == actor)
            v->vc.e[i].counter = counter > base ? counter : base + 1;
    v->dot_actor = actor;
    v->dot_base = base;
}

uint64_t version_dot_counter(const struct version *v)
{
    return v->dot_actor == VERSION_NO_DOT ? 0 : vc_counter(&v->vc, v->dot_actor);
}

/* Event (a, c) is in y's causal past. */
static inline bool event_seen(const struct version *y, uint32_t a, uint64_t c)
{
    uint64_t yc = vc_counter(&y->vc, a);
    if (c > yc)
        return false;
    return a != y->dot_actor || c <= y->dot_base || c == yc;
}

/* Events (a, 1..c) are all in y's causal past. */
static inline bool prefix_seen(const struct version *y, uint32_t a, uint64_t c)
{
    uint64_t yc = vc_counter(&y->vc, a);
    if (c > yc)
        return false;
    return a != y->dot_actor || c <= y->dot_base || y->dot_base + 1 == yc;
}

bool version_same_type(const struct version *a, const struct version *b)
{
    return val_is_typed(a->val) && val_is_typed(b->val) &&
           tval_ccrdt(a->val)->type == tval_ccrdt(b->val)->type;
}

bool version_seen_by(const struct version *x, const struct version *y)
{
    /* Flush epochs first: the flush of epoch E removed every version stamped
     * before it, and a version of epoch E was stamped after its coordinator
     * learnt of that flush, so it supersedes every older-epoch version
     * (whose clocks may hold counters from before the flush that the new
     * epoch reuses). */
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch;
    if (version_same_type(x, y)) /* two states of one type: by their contexts */
        return crdt_ctx_covers(tval_ccrdt(y->val), tval_ccrdt(x->val));
    if (x->dot_actor != VERSION_NO_DOT)
        return event_seen(y, x->dot_actor, vc_counter(&x->vc, x->dot_actor));
    for (uint32_t i = 0; i < x->vc.n; i++)
        if (!prefix_seen(y, x->vc.e[i].actor, x->vc.e[i].counter))
            return false;
    return true;
}

/* HOT: store_put and every reconcile run this. */
enum vc_order version_compare(const struct version *a, const struct version *b)
{
    bool ab = version_seen_by(a, b), ba = version_seen_by(b, a);
    if (ab)
        return ba ? VC_EQUAL : VC_BEFORE;
    return ba ? VC_AFTER : VC_CONCURRENT;
}

void version_pack_clock(const struct version *v, struct buf *out)
{
    uint64_t da = v->dot_actor == VERSION_NO_DOT ? 0 : (uint64_t)v->dot_actor + 1;
    buf_varint(out, da * 2 + (v->epoch != 0));
    if (v->epoch)
        buf_varint(out, v->epoch);
    if (da)
        buf_varint(out, v->dot_base);
    vc_pack(&v->vc, out);
}

int version_unpack_clock(struct version *v, const void *ptr, size_t len, size_t *used)
{
    const uint8_t *p = ptr;
    size_t pos = 0, vused;
    uint64_t x, da, base = 0, epoch = 0;
    if (!varint_get(p, len, &pos, &x))
        return KV_EPROTO;
    da = x / 2;
    if (da > UINT32_MAX || ((x & 1) && (!varint_get(p, len, &pos, &epoch) || epoch == 0 ||
                                        epoch > UINT32_MAX)) ||
        (da && !varint_get(p, len, &pos, &base)))
        return KV_EPROTO;
    if (vc_unpack(&v->vc, p + pos, len - pos, &vused) != 0)
        return KV_EPROTO;
    v->dot_actor = da ? (uint32_t)(da - 1) : VERSION_NO_DOT;
    v->epoch = (uint32_t)epoch;
    v->dot_base = base;
    if (da && base >= vc_counter(&v->vc, v->dot_actor))
        return KV_EPROTO;
    if (used)
        *used = pos + vused;
    return 0;
}

uint64_t version_newest_ts(const struct version *v)
{
    uint64_t newest = 0;
    for (uint32_t j = 0; j < v->vc.n; j++)
        if (v->vc.e[j].ts_ms > newest)
            newest = v->vc.e[j].ts_ms;
    return newest;
}

void version_format_clock(const struct version *v, struct buf *out)
{
    uint64_t c = version_dot_counter(v);
    if (c && v->dot_base + 1 != c) { /* a gap: the clock alone would hide it */
        size_t nl;
        const char *name = vc_actor_name(v->dot_actor, &nl);
        buf_printf(out, "dot=%.*s/%llu skips=%llu..%llu ", (int)nl, name ? name : "?",
                   (unsigned long long)c, (unsigned long long)v->dot_base + 1,
                   (unsigned long long)c - 1);
    }
    vc_format(&v->vc, out);
}

void sib_init(struct sibset *s)
{
    s->n = 0;
    s->cap = 0;
    s->v = NULL;
}

void sib_fini(struct sibset *s)
{
    if (!s)
        return;
    sib_clear(s);
    mem_free(s->v);
    sib_init(s);
}

void sib_clear(struct sibset *s)
{
    for (uint32_t i = 0; i < s->n; i++)
        version_fini(&s->v[i]);
    s->n = 0;
}

/* Returns a fresh, initialised slot at the end of s. */
static struct version *append_slot(struct sibset *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 2;
        s->v = mem_realloc(s->v, (size_t)s->cap * sizeof(*s->v));
    }
    struct version *v = &s->v[s->n++];
    version_init(v);
    return v;
}

/* Applies the reconcile rules for an incoming clock.  Returns false when v
 * is equal to or dominated by a stored version (nothing changes);
 * otherwise drops the stored versions v dominates and returns true, and the
 * caller appends v. */
static bool make_room(struct sibset *s, const struct version *nv)
{
    uint32_t dominated = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        enum vc_order o = version_compare(nv, &s->v[i]);
        if (o == VC_EQUAL || o == VC_BEFORE)
            return false;
        dominated += o == VC_AFTER;
    }
    if (dominated) {
        uint32_t w = 0;
        for (uint32_t r = 0; r < s->n; r++) {
            if (version_compare(nv, &s->v[r]) == VC_AFTER) {
                version_fini(&s->v[r]);
            } else {
                if (w != r)
                    s->v[w] = s->v[r]; /* moves ownership */
                w++;
            }
        }
        s->n = w;
    }
    return true;
}

/* The stored state of v's type and epoch, when v is a typed version and s
 * holds one (at most one: two would have been joined). */
static struct version *typed_peer(struct sibset *s, const struct version *v)
{
    if (!val_is_typed(v->val))
        return NULL;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].epoch == v->epoch && version_same_type(&s->v[i], v))
            return &s->v[i];
    return NULL;
}

/* Joins typed version v into its concurrent peer y of s (the join of two
 * states replaces both: nothing is kept side by side); then drops the
 * versions the joined clock now dominates.  y's state is changed in place
 * when the caller's own references are all there are (own_refs), else
 * copied first. */
static void join_into(struct sibset *s, struct version *y, const struct version *v,
                      uint32_t own_refs)
{
    if (val_refs(y->val) > own_refs) {
        struct val *c = tval_copy(y->val);
        val_unref(y->val);
        y->val = c;
    }
    struct crdt *st = tval_crdt(y->val);
    crdt_join(st, tval_ccrdt(v->val));
    vc_merge(&y->vc, &v->vc);
    y->expire_ms = crdt_expire(st);
    struct version *keep = y;
    uint32_t w = 0;
    for (uint32_t r = 0; r < s->n; r++) {
        if (&s->v[r] != keep && version_seen_by(&s->v[r], keep)) {
            version_fini(&s->v[r]);
            continue;
        }
        if (w != r)
            s->v[w] = s->v[r]; /* moves ownership */
        w++;
    }
    s->n = w;
}

/* A typed version about to be kept on its own: a delta (scoped state)
 * becomes a full state, so stored states never hold a delta's empty
 * elements. */
static void own_full(struct version *slot)
{
    if (val_is_typed(slot->val) && tval_ccrdt(slot->val)->scoped) {
        struct val *full = tval_new(tval_type(slot->val));
        crdt_join(tval_crdt(full), tval_ccrdt(slot->val));
        val_unref(slot->val);
        slot->val = full;
        slot->expire_ms = crdt_expire(tval_ccrdt(full));
    }
}

bool sib_add_shared(struct sibset *s, const struct version *v, uint32_t own_refs)
{
    if (!make_room(s, v))
        return false;
    struct version *y = typed_peer(s, v);
    if (y) {
        join_into(s, y, v, own_refs);
        return true;
    }
    struct version *slot = append_slot(s);
    version_copy(slot, v);
    own_full(slot);
    return true;
}

bool sib_add(struct sibset *s, const struct version *v)
{
    return sib_add_shared(s, v, 1);
}

bool sib_add_move(struct sibset *s, struct version *v)
{
    if (!make_room(s, v)) {
        version_fini(v);
        return false;
    }
    struct version *y = typed_peer(s, v);
    if (y) {
        join_into(s, y, v, 1);
        version_fini(v);
        return true;
    }
    struct version *slot = append_slot(s);
    *slot = *v; /* slot was freshly initialised and owns nothing */
    version_init(v);
    own_full(slot);
    return true;
}

bool sib_merge(struct sibset *dst, const struct sibset *src)
{
    bool changed = false;
    if (dst == src) /* every version is equal to itself */
        return false;
    for (uint32_t i = 0; i < src->n; i++)
        changed |= sib_add(dst, &src->v[i]);
    return changed;
}

void sib_context(const struct sibset *s, struct vclock *out)
{
    vc_clear(out);
    for (uint32_t i = 0; i < s->n; i++)
        vc_merge(out, &s->v[i].vc);
}

unsigned sib_drop_before(struct sibset *s, uint32_t epoch)
{
    uint32_t w = 0;
    for (uint32_t r = 0; r < s->n; r++) {
        if (s->v[r].epoch < epoch) {
            version_fini(&s->v[r]);
        } else {
            if (w != r)
                s->v[w] = s->v[r]; /* moves ownership */
            w++;
        }
    }
    unsigned dropped = s->n - w;
    s->n = w;
    return dropped;
}

uint32_t sib_max_epoch(const struct sibset *s)
{
    uint32_t e = 0;
    for (uint32_t i = 0; i < s->n; i++)
        if (s->v[i].epoch > e)
            e = s->v[i].epoch;
    return e;
}

unsigned sib_live_count(const struct sibset *s, int64_t now_ms)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < s->n; i++)
        n += version_live(&s->v[i], now_ms);
    return n;
}

bool sib_covers(const struct sibset *a, const struct sibset *b)
{
    for (uint32_t j = 0; j < b->n; j++) {
        bool covered = false;
        for (uint32_t i = 0; i < a->n && !covered; i++)
            covered = version_seen_by(&b->v[j], &a->v[i]);
        if (!covered)
            return false;
    }
    return true;
}

void sib_encode(const struct sibset *s, struct buf *out)
{
    buf_varint(out, s->n);
    for (uint32_t i = 0; i < s->n; i++) {
        const struct version *v = &s->v[i];
        unsigned flags = (v->val ? 0 : SIB_F_TOMBSTONE) | (v->expire_ms ? SIB_F_EXPIRE : 0) |
                         (v->dot_actor != VERSION_NO_DOT ? SIB_F_DOT : 0) |
                         (v->epoch ? SIB_F_EPOCH : 0) | (val_is_typed(v->val) ? SIB_F_TYPED : 0);
        buf_putc(out, (char)flags);
        if (v->expire_ms)
            buf_varint(out, (uint64_t)v->expire_ms);
        if (val_is_typed(v->val)) {
            size_t at = out->len;
            buf_varint(out, 0); /* length placeholder: rewritten below */
            size_t start = out->len;
            crdt_encode(tval_ccrdt(v->val), out);
            size_t n = out->len - start;
            struct buf lenb;
            buf_init(&lenb);
            buf_varint(&lenb, n);
            /* move the state right by the varint's real size */
            buf_reserve(out, lenb.len - 1);
            memmove(out->data + at + lenb.len, out->data + start, n);
            memcpy(out->data + at, lenb.data, lenb.len);
            out->len = at + lenb.len + n;
            buf_fini(&lenb);
        } else if (v->val) {
            buf_varint(out, v->val->len);
            buf_put(out, v->val->data, v->val->len);
        }
        vc_encode(&v->vc, out);
        if (v->dot_actor != VERSION_NO_DOT) {
            size_t nl;
            const char *name = vc_actor_name(v->dot_actor, &nl);
            buf_putc(out, (char)nl);
            buf_put(out, name, nl);
            buf_varint(out, v->dot_base);
        }
        if (v->epoch)
            buf_varint(out, v->epoch);
    }
}

int sib_decode(struct sibset *s, const void *ptr, size_t len, size_t max_val)
{
    const uint8_t *p = ptr;
    size_t pos = 0;
    uint64_t n;
    int rc = KV_EPROTO;
    sib_clear(s);
    /* A version takes >= 2 bytes (flags, empty clock). */
    if (!varint_get(p, len, &pos, &n) || n > SIB_MAX_VERSIONS || n > (len - pos) / 2)
        goto fail;
    for (uint64_t i = 0; i < n; i++) {
        if (pos >= len)
            goto fail;
        unsigned flags = p[pos++];
        if ((flags & ~(SIB_F_TOMBSTONE | SIB_F_EXPIRE | SIB_F_DOT | SIB_F_EPOCH | SIB_F_TYPED)) ||
            ((flags & SIB_F_TYPED) && (flags & (SIB_F_TOMBSTONE | SIB_F_DOT))))
            goto fail;
        struct version *v = append_slot(s);
        if (flags & SIB_F_EXPIRE) {
            uint64_t x;
            if (!varint_get(p, len, &pos, &x) || x == 0 || x > INT64_MAX)
                goto fail;
            v->expire_ms = (int64_t)x;
        }
        if (flags & SIB_F_TYPED) {
            /* a state: its elements and registers are bounded by max_val
             * each (a member is a value), the whole by the record */
            uint64_t vl;
            if (!varint_get(p, len, &pos, &vl) || vl > len - pos)
                goto fail;
            struct crdt st;
            int err = crdt_decode(&st, p + pos, (size_t)vl, max_val, max_val);
            if (err || st.type == CRDT_NONE) {
                crdt_fini(&st);
                rc = err ? err : KV_EPROTO;
                goto fail;
            }
            v->val = tval_wrap(&st); /* a delta stays one (joins visit its scope) */
            pos += (size_t)vl;
            /* a state's TTL is its expiry register's, never a second truth */
            if (v->expire_ms != crdt_expire(tval_ccrdt(v->val)))
                goto fail;
        } else if (!(flags & SIB_F_TOMBSTONE)) {
            uint64_t vl;
            if (!varint_get(p, len, &pos, &vl) || vl > max_val || vl > UINT32_MAX ||
                vl > len - pos)
                goto fail;
            v->val = val_create(p + pos, (size_t)vl);
            pos += (size_t)vl;
        }
        size_t used;
        int err = vc_decode(&v->vc, p + pos, len - pos, &used);
        if (err) {
            rc = err;
            goto fail;
        }
        pos += used;
        if (flags & SIB_F_DOT) {
            /* the dot's actor is one of the clock's (already interned) */
            uint64_t base;
            size_t nl = pos < len ? p[pos] : 0;
            if (pos >= len || nl == 0 || nl > len - pos - 1 ||
                !vc_actor_find((const char *)p + pos + 1, nl, &v->dot_actor))
                goto fail;
            pos += 1 + nl;
            if (!varint_get(p, len, &pos, &base) || base >= vc_counter(&v->vc, v->dot_actor))
                goto fail;
            v->dot_base = base;
        }
        if (flags & SIB_F_EPOCH) {
            uint64_t e;
            if (!varint_get(p, len, &pos, &e) || e == 0 || e > UINT32_MAX)
                goto fail;
            v->epoch = (uint32_t)e;
        }
    }
    if (pos != len)
        goto fail;
    /* An honest peer only ever sends reconciled sets (where two states of
     * one type and epoch are joined into one). */
    for (uint32_t i = 0; i < s->n; i++)
        for (uint32_t j = i + 1; j < s->n; j++)
            if (version_compare(&s->v[i], &s->v[j]) != VC_CONCURRENT ||
                (s->v[i].epoch == s->v[j].epoch && version_same_type(&s->v[i], &s->v[j])))
                goto fail;
    return 0;
fail:
    sib_clear(s);
    return rc;
}

const struct version *sib_agreed(const struct sibset *s)
{
    if (s->n == 0)
        return NULL;
    const struct version *a = &s->v[0];
    for (uint32_t i = 1; i < s->n; i++) {
        const struct version *b = &s->v[i];
        if (val_is_typed(a->val) || val_is_typed(b->val))
            return NULL; /* a state beside anything else is a conflict */
        if (!a->val != !b->val || a->expire_ms != b->expire_ms)
            return NULL;
        if (a->val && (a->val->len != b->val->len ||
                       memcmp(a->val->data, b->val->data, a->val->len) != 0))
            return NULL;
    }
    return a;
}

size_t sib_encoded_bound(const struct sibset *s)
{
    size_t total = 16;
    for (uint32_t i = 0; i < s->n; i++)
        total += SIB_VERSION_BOUND(s->v[i].val ? s->v[i].val->len : 0, s->v[i].vc.n);
    return total;
}

/* ---- digest (moved from ae.c unchanged: nodes compare these) ---- */

uint64_t sib_digest(const void *key, size_t klen, const struct sibset *set)
{
    if (!set || set->n == 0)
        return 0;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct version *v = &set->v[i];
        if (val_is_typed(v->val)) {
            /* a state: by its context (which identifies it, crdt.h) and
             * epoch, not by the version clock, which only says what its
             * coordinators had seen */
            uint64_t th = crdt_ctx_digest(tval_ccrdt(v->val));
            sum += hash_mix(th ^ hash_mix(0x7e57a7e0ULL + v->epoch));
            continue;
        }
        uint64_t h = v->val ? hash_bytes(v->val->data, v->val->len, 1) : 0x7f0b5700eULL;
        h ^= hash_mix((uint64_t)v->expire_ms + 0x9e3779b97f4a7c15ULL);
        uint64_t clock = 0;
        for (uint32_t j = 0; j < v->vc.n; j++) {
            size_t alen;
            const char *an = vc_actor_name(v->vc.e[j].actor, &alen);
            clock += hash_mix(hash_bytes(an, alen, 2) ^ v->vc.e[j].counter);
        }
        if (v->dot_actor != VERSION_NO_DOT) { /* the dot and what it skipped */
            size_t alen;
            const char *an = vc_actor_name(v->dot_actor, &alen);
            clock ^= hash_mix(hash_bytes(an, alen, 6) ^ v->dot_base);
        }
        if (v->epoch) /* epoch 0 leaves the digest as it always was */
            clock ^= hash_mix(0x5eed0f1a5bULL + v->epoch);
        sum += hash_mix(h ^ clock);
    }
    uint64_t d = hash_mix(hash_bytes(key, klen, 3) ^ sum);
    return d ? d : 1;
}
