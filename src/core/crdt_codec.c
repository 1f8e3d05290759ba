/* crdt_codec.c — the canonical encoding of a convergent type's state or
 * delta (format in crdt.h), its strict decoder, and its digest.
 *
 * Owns nothing beyond a call.  The encoding is used between nodes (deltas,
 * read answers, transfers), in the log and for anti-entropy, so the
 * decoder treats every byte as hostile: counts are checked against the
 * bytes left and the limits of crdt.h before anything is allocated, names
 * reach the actor table only after the whole input has been validated
 * (vc_actor_intern_wire), and every invariant of crdt.c (context normal
 * form, dots covered and unique, entries sorted) is re-established or the
 * input is refused.  Canonical form (one encoding per state) is enforced
 * too, so decode(encode(x)) == x and encode(decode(b)) == b.
 *
 * Size: a member added by one of a few actors costs its length + 1, one
 * byte of entry count, one kind byte, one byte of actor index and the dot's
 * counter (1 to 4 bytes up to 2^28 writes): about key + 6 bytes.
 *
 * Callers: tests and the fuzz target now; the store, peers and the log
 * next.  Encode is O(n log n) (sorting elements by key), decode O(n log n)
 * (the dot uniqueness check), digest O(n), context digest O(actors +
 * cloud + holes).
 */
#include "core/crdt_priv.h"
#include "util/hash.h"
#include "util/varint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

#define CRDT_CODEC_VERSION 1
#define CRDT_F_SCOPED (1u << 0) /* a delta (crdt.h) */
#define CRDT_F_HOLES (1u << 1)  /* a holes section follows the cloud */
#define CRDT_F_EXPIRY (1u << 2) /* an expiry section follows the holes */
#define CRDT_F_ALL (CRDT_F_SCOPED | CRDT_F_HOLES | CRDT_F_EXPIRY)

/* The expiry section is present: a delta's expiry is in scope, or a full
 * state has entries. */
static bool exp_section(const struct crdt *c)
{
    return c->scoped ? c->exp_scoped : c->nexp > 0;
}

/* ------------------------------------------------------------------ */
/* encode                                                               */

struct actor_ix {
    uint32_t id;
    uint32_t ix; /* position in the name-sorted table */
};

struct enc {
    struct actor_ix *a; /* sorted by id */
    uint32_t n, cap;
};

static uint32_t ix_lower(const struct enc *t, uint32_t id)
{
    uint32_t lo = 0, hi = t->n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->a[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void note_actor(struct enc *t, uint32_t id)
{
    uint32_t i = ix_lower(t, id);
    if (i < t->n && t->a[i].id == id)
        return;
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 8;
        t->a = mem_realloc(t->a, t->cap * sizeof(*t->a));
    }
    memmove(&t->a[i + 1], &t->a[i], (t->n - i) * sizeof(*t->a));
    t->a[i] = (struct actor_ix){ .id = id };
    t->n++;
}

static uint32_t ix_of(const struct enc *t, uint32_t id)
{
    return t->a[ix_lower(t, id)].ix;
}

static int name_cmp(uint32_t a, uint32_t b)
{
    size_t la, lb;
    const char *x = vc_actor_name(a, &la), *y = vc_actor_name(b, &lb);
    size_t m = la < lb ? la : lb;
    int c = m ? memcmp(x, y, m) : 0;
    return c ? c : (la > lb) - (la < lb);
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct crdt_elem *x = *(const struct crdt_elem *const *)pa;
    const struct crdt_elem *y = *(const struct crdt_elem *const *)pb;
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = m ? memcmp(crdt_elem_key(x), crdt_elem_key(y), m) : 0;
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

struct ixdot {
    uint32_t ix;
    uint64_t counter;
    const struct crdt_entry *e;
};

static int ixdot_cmp(const void *pa, const void *pb)
{
    const struct ixdot *a = pa, *b = pb;
    if (a->ix != b->ix)
        return a->ix < b->ix ? -1 : 1;
    return (a->counter > b->counter) - (a->counter < b->counter);
}

static void put_double(struct buf *out, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    buf_reserve(out, 8);
    le64_put((uint8_t *)out->data + out->len, bits);
    out->len += 8;
}

static uint64_t zigzag(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

void crdt_encode(const struct crdt *c, struct buf *out)
{
    struct enc t = { 0 };
    for (uint32_t i = 0; i < c->vc.n; i++)
        note_actor(&t, c->vc.e[i].actor);
    for (uint32_t i = 0; i < c->ncloud; i++)
        note_actor(&t, c->cloud[i].actor);
    uint32_t nel = 0;
    for (uint32_t i = 0; c->slot && i <= c->mask; i++) {
        const struct crdt_elem *el = c->slot[i];
        if (!el)
            continue;
        nel++;
        for (uint32_t k = 0; k < el->n; k++)
            note_actor(&t, el->e[k].actor);
    }
    /* table order = name order */
    uint32_t *byname = mem_alloc((t.n ? t.n : 1) * sizeof(*byname));
    for (uint32_t i = 0; i < t.n; i++) {
        uint32_t j = i;
        while (j > 0 && name_cmp(byname[j - 1], t.a[i].id) > 0) {
            byname[j] = byname[j - 1];
            j--;
        }
        byname[j] = t.a[i].id;
    }
    for (uint32_t i = 0; i < t.n; i++)
        t.a[ix_lower(&t, byname[i])].ix = i;

    buf_putc(out, CRDT_CODEC_VERSION);
    buf_putc(out, (char)c->type);
    buf_putc(out, (char)((c->scoped ? CRDT_F_SCOPED : 0) | (c->nhole ? CRDT_F_HOLES : 0) |
                         (exp_section(c) ? CRDT_F_EXPIRY : 0)));
    buf_varint(out, t.n);
    for (uint32_t i = 0; i < t.n; i++) {
        size_t len;
        const char *name = vc_actor_name(byname[i], &len);
        buf_putc(out, (char)len);
        buf_put(out, name, len);
    }

    uint32_t ndots = c->vc.n > c->ncloud ? c->vc.n : c->ncloud;
    if (c->nhole > ndots)
        ndots = c->nhole;
    if (c->nexp > ndots)
        ndots = c->nexp;
    struct ixdot *d = mem_alloc((ndots ? ndots : 1) * sizeof(*d));
    for (uint32_t i = 0; i < c->vc.n; i++)
        d[i] = (struct ixdot){ ix_of(&t, c->vc.e[i].actor), c->vc.e[i].counter, NULL };
    qsort(d, c->vc.n, sizeof(*d), ixdot_cmp);
    buf_varint(out, c->vc.n);
    for (uint32_t i = 0; i < c->vc.n; i++) {
        buf_varint(out, d[i].ix);
        buf_varint(out, d[i].counter);
    }
    for (uint32_t i = 0; i < c->ncloud; i++)
        d[i] = (struct ixdot){ ix_of(&t, c->cloud[i].actor), c->cloud[i].counter, NULL };
    qsort(d, c->ncloud, sizeof(*d), ixdot_cmp);
    buf_varint(out, c->ncloud);
    for (uint32_t i = 0; i < c->ncloud; i++) {
        buf_varint(out, d[i].ix);
        buf_varint(out, d[i].counter);
    }
    if (c->nhole) {
        for (uint32_t i = 0; i < c->nhole; i++)
            d[i] = (struct ixdot){ ix_of(&t, c->hole[i].actor), c->hole[i].counter, NULL };
        qsort(d, c->nhole, sizeof(*d), ixdot_cmp);
        buf_varint(out, c->nhole);
        for (uint32_t i = 0; i < c->nhole; i++) {
            buf_varint(out, d[i].ix);
            buf_varint(out, d[i].counter);
        }
    }
    if (exp_section(c)) {
        for (uint32_t i = 0; i < c->nexp; i++)
            d[i] = (struct ixdot){ ix_of(&t, c->exp[i].actor), c->exp[i].counter, NULL };
        qsort(d, c->nexp, sizeof(*d), ixdot_cmp);
        buf_varint(out, c->nexp);
        for (uint32_t i = 0; i < c->nexp; i++) {
            buf_varint(out, d[i].ix);
            buf_varint(out, d[i].counter);
            for (uint32_t k = 0; k < c->nexp; k++) /* 0 or 1 entries, rarely more */
                if (c->exp[k].counter == d[i].counter && ix_of(&t, c->exp[k].actor) == d[i].ix)
                    buf_varint(out, (uint64_t)c->exp[k].ms);
        }
    }
    mem_free(d);

    const struct crdt_elem **els = mem_alloc((nel ? nel : 1) * sizeof(*els));
    nel = 0;
    for (uint32_t i = 0; c->slot && i <= c->mask; i++)
        if (c->slot[i])
            els[nel++] = c->slot[i];
    qsort(els, nel, sizeof(*els), key_cmp);
    buf_varint(out, nel);
    uint32_t maxn = 1;
    for (uint32_t i = 0; i < nel; i++)
        if (els[i]->n > maxn)
            maxn = els[i]->n;
    struct ixdot *ed = mem_alloc(maxn * sizeof(*ed));
    for (uint32_t i = 0; i < nel; i++) {
        const struct crdt_elem *el = els[i];
        buf_varint(out, el->klen);
        buf_put(out, crdt_elem_key(el), el->klen);
        uint32_t n = el->n;
        for (uint32_t k = 0; k < n; k++)
            ed[k] = (struct ixdot){ ix_of(&t, el->e[k].actor), el->e[k].counter, &el->e[k] };
        if (t.n > 1)
            qsort(ed, n, sizeof(ed[0]), ixdot_cmp);
        buf_varint(out, n);
        for (uint32_t k = 0; k < n; k++) {
            const struct crdt_entry *e = ed[k].e;
            buf_putc(out, (char)e->kind);
            buf_varint(out, ed[k].ix);
            buf_varint(out, e->counter);
            switch (e->kind) {
            case CRDT_K_REG:
                if (c->type == CRDT_ZSET) {
                    put_double(out, e->u.score);
                } else {
                    buf_varint(out, e->u.val->len);
                    buf_put(out, e->u.val->data, e->u.val->len);
                }
                break;
            case CRDT_K_CNT_INT:
                buf_varint(out, zigzag(e->u.i));
                break;
            case CRDT_K_CNT_FLOAT:
                put_double(out, e->u.f);
                break;
            default:
                break;
            }
        }
    }
    mem_free(ed);
    mem_free(els);
    mem_free(byname);
    mem_free(t.a);
}

/* ------------------------------------------------------------------ */
/* decode                                                               */

struct dec {
    const uint8_t *p;
    size_t len, pos;
    uint32_t nactors;
    uint64_t *prefix;     /* per table index: the context's prefix */
    struct crdt_dot *cloud; /* (index, counter), sorted: c's own cloud */
    uint32_t ncloud;
    const struct crdt *c;   /* its holes, (index, counter) until mapped */
};

static bool get(struct dec *d, uint64_t *v)
{
    return varint_get(d->p, d->len, &d->pos, v);
}

static bool get_double(struct dec *d, double *v)
{
    if (d->len - d->pos < 8)
        return false;
    uint64_t bits = le64_get(d->p + d->pos);
    d->pos += 8;
    memcpy(v, &bits, sizeof(*v));
    return true;
}

static bool kind_allowed(uint8_t type, uint64_t kind)
{
    switch (type) {
    case CRDT_SET: return kind == CRDT_K_MEMBER;
    case CRDT_COUNTER:
    case CRDT_HASH:
        return kind == CRDT_K_REG || kind == CRDT_K_CNT_INT || kind == CRDT_K_CNT_FLOAT;
    case CRDT_ZSET: return kind == CRDT_K_REG || kind == CRDT_K_CNT_FLOAT;
    default: return false;
    }
}

static bool dec_ctx_has(const struct dec *d, uint32_t ix, uint64_t counter)
{
    if (counter <= d->prefix[ix])
        return true;
    uint32_t lo = 0, hi = d->ncloud;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        const struct crdt_dot *x = &d->cloud[mid];
        if (x->actor < ix || (x->actor == ix && x->counter < counter))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < d->ncloud && d->cloud[lo].actor == ix && d->cloud[lo].counter == counter;
}

static int u64_cmp(const void *pa, const void *pb)
{
    uint64_t a = *(const uint64_t *)pa, b = *(const uint64_t *)pb;
    return (a > b) - (a < b);
}

static int entry_dot_cmp(const void *pa, const void *pb)
{
    const struct crdt_entry *a = pa, *b = pb;
    if (a->actor != b->actor)
        return a->actor < b->actor ? -1 : 1;
    return (a->counter > b->counter) - (a->counter < b->counter);
}

static int dot_cmp_q(const void *pa, const void *pb)
{
    const struct crdt_dot *a = pa, *b = pb;
    if (a->actor != b->actor)
        return a->actor < b->actor ? -1 : 1;
    return (a->counter > b->counter) - (a->counter < b->counter);
}

static int exp_dot_cmp(const void *pa, const void *pb)
{
    const struct crdt_expiry *a = pa, *b = pb;
    if (a->actor != b->actor)
        return a->actor < b->actor ? -1 : 1;
    return (a->counter > b->counter) - (a->counter < b->counter);
}

static int vce_cmp(const void *pa, const void *pb)
{
    const struct vc_entry *a = pa, *b = pb;
    return (a->actor > b->actor) - (a->actor < b->actor);
}

/* Elements are read into c with table indexes in place of actor ids;
 * decode() maps them once everything is valid. */
static int decode_elems(struct crdt *c, struct dec *d, size_t max_key, size_t max_val,
                        uint8_t *used, uint64_t **dots, uint64_t *ndots)
{
    uint64_t nel;
    if (!get(d, &nel) || nel > CRDT_MAX_ELEMS || nel > (d->len - d->pos) / 2)
        return KV_EPROTO;
    if (c->type == CRDT_COUNTER && nel > 1)
        return KV_EPROTO;
    size_t cap_dots = 0;
    const uint8_t *prev = NULL;
    size_t prevlen = 0;
    for (uint64_t i = 0; i < nel; i++) {
        uint64_t klen, n;
        if (!get(d, &klen) || klen > max_key || klen > d->len - d->pos)
            return KV_EPROTO;
        const uint8_t *key = d->p + d->pos;
        d->pos += klen;
        if (c->type == CRDT_COUNTER && klen != 0)
            return KV_EPROTO;
        if (prev) { /* strictly increasing keys */
            size_t m = prevlen < klen ? prevlen : klen;
            int cmp = m ? memcmp(prev, key, m) : 0;
            if (cmp > 0 || (cmp == 0 && prevlen >= klen))
                return KV_EPROTO;
        }
        prev = key;
        prevlen = klen;
        if (!get(d, &n) || n > CRDT_MAX_ENTRIES || n > (d->len - d->pos) / 3 ||
            (n == 0 && !c->scoped))
            return KV_EPROTO;
        uint32_t si = crdt_slot_get(c, key, klen);
        uint64_t pix = 0, pctr = 0;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t ix, ctr;
            if (d->pos >= d->len)
                return KV_EPROTO;
            uint8_t kind = d->p[d->pos++];
            if (!kind_allowed(c->type, kind) || !get(d, &ix) || ix >= d->nactors ||
                !get(d, &ctr) || ctr == 0 || ctr > VC_MAX_COUNTER)
                return KV_EPROTO;
            if (k > 0 && (ix < pix || (ix == pix && ctr <= pctr)))
                return KV_EPROTO;
            pix = ix;
            pctr = ctr;
            if (!dec_ctx_has(d, (uint32_t)ix, ctr) || crdt_hole_has(d->c, (uint32_t)ix, ctr))
                return KV_EPROTO;
            struct crdt_entry e = { .actor = (uint32_t)ix, .kind = kind, .counter = ctr };
            if (kind == CRDT_K_REG && c->type == CRDT_ZSET) {
                if (!get_double(d, &e.u.score) || isnan(e.u.score))
                    return KV_EPROTO;
            } else if (kind == CRDT_K_REG) {
                uint64_t vlen;
                if (!get(d, &vlen) || vlen > max_val || vlen > d->len - d->pos ||
                    vlen > UINT32_MAX)
                    return KV_EPROTO;
                e.u.val = val_create(d->p + d->pos, vlen);
                d->pos += vlen;
            } else if (kind == CRDT_K_CNT_INT) {
                uint64_t z;
                if (!get(d, &z))
                    return KV_EPROTO;
                e.u.i = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
            } else if (kind == CRDT_K_CNT_FLOAT) {
                if (!get_double(d, &e.u.f) || !isfinite(e.u.f))
                    return KV_EPROTO;
            }
            crdt_entry_insert(c, si, &e); /* appends: input order is sorted */
            used[ix] = 1;
            if (*ndots == cap_dots) {
                cap_dots = cap_dots ? cap_dots * 2 : 64;
                *dots = mem_realloc(*dots, cap_dots * sizeof(**dots));
            }
            (*dots)[(*ndots)++] = ix << 49 | ctr; /* ix < 2^12, ctr <= 2^48 */
        }
    }
    return 0;
}

int crdt_decode(struct crdt *c, const void *ptr, size_t len, size_t max_key, size_t max_val)
{
    crdt_init(c, CRDT_NONE);
    struct dec d = { .p = ptr, .len = len };
    int rc = KV_EPROTO;
    size_t *name_at = NULL;
    uint8_t *used = NULL;
    uint64_t *dots = NULL, ndots = 0;
    uint32_t *ids = NULL;

    if (len < 3 || d.p[0] != CRDT_CODEC_VERSION || d.p[1] == CRDT_NONE ||
        d.p[1] >= CRDT_TYPE_COUNT || (d.p[2] & ~CRDT_F_ALL))
        goto fail;
    c->type = d.p[1];
    c->scoped = d.p[2] & CRDT_F_SCOPED;
    d.pos = 3;

    uint64_t na;
    if (!get(&d, &na) || na > CRDT_MAX_ACTORS || na > (d.len - d.pos) / 2)
        goto fail;
    d.nactors = (uint32_t)na;
    name_at = mem_alloc((na ? na : 1) * sizeof(*name_at));
    for (uint64_t i = 0; i < na; i++) {
        if (d.pos >= d.len)
            goto fail;
        size_t nl = d.p[d.pos];
        if (nl > d.len - d.pos - 1 || !vc_actor_name_ok(d.p + d.pos + 1, nl))
            goto fail;
        if (i > 0) { /* strictly increasing names */
            const uint8_t *q = d.p + name_at[i - 1];
            size_t ql = q[0], m = ql < nl ? ql : nl;
            int cmp = memcmp(q + 1, d.p + d.pos + 1, m);
            if (cmp > 0 || (cmp == 0 && ql >= nl))
                goto fail;
        }
        name_at[i] = d.pos;
        d.pos += 1 + nl;
    }
    d.prefix = mem_calloc(na ? na : 1, sizeof(*d.prefix));
    used = mem_calloc(na ? na : 1, 1);

    uint64_t nvc;
    if (!get(&d, &nvc) || nvc > na)
        goto fail;
    vc_init(&c->vc);
    c->vc.e = mem_alloc((nvc ? nvc : 1) * sizeof(*c->vc.e));
    c->vc.cap = (uint32_t)(nvc ? nvc : 1);
    for (uint64_t i = 0; i < nvc; i++) {
        uint64_t ix, ctr;
        if (!get(&d, &ix) || ix >= na || (i > 0 && ix <= c->vc.e[i - 1].actor) ||
            !get(&d, &ctr) || ctr == 0 || ctr > VC_MAX_COUNTER)
            goto fail;
        c->vc.e[i] = (struct vc_entry){ .actor = (uint32_t)ix, .counter = ctr };
        c->vc.n = (uint32_t)i + 1;
        d.prefix[ix] = ctr;
        used[ix] = 1;
    }

    uint64_t ncl;
    if (!get(&d, &ncl) || ncl > CRDT_MAX_CLOUD || ncl > (d.len - d.pos) / 2)
        goto fail;
    c->cloud = mem_alloc((ncl ? ncl : 1) * sizeof(*c->cloud));
    c->capcloud = (uint32_t)(ncl ? ncl : 1);
    for (uint64_t i = 0; i < ncl; i++) {
        uint64_t ix, ctr;
        if (!get(&d, &ix) || ix >= na || !get(&d, &ctr) || ctr > VC_MAX_COUNTER ||
            ctr <= d.prefix[ix] + 1)
            goto fail;
        if (i > 0) {
            const struct crdt_dot *q = &c->cloud[i - 1];
            if (ix < q->actor || (ix == q->actor && ctr <= q->counter))
                goto fail;
        }
        c->cloud[i] = (struct crdt_dot){ .actor = (uint32_t)ix, .counter = ctr };
        c->ncloud = (uint32_t)i + 1;
        used[ix] = 1;
    }
    d.cloud = c->cloud;
    d.ncloud = c->ncloud;
    d.c = c;

    if (d.p[2] & CRDT_F_HOLES) {
        uint64_t nh;
        if (!get(&d, &nh) || nh == 0 || nh > CRDT_MAX_CLOUD || nh > (d.len - d.pos) / 2)
            goto fail;
        c->hole = mem_alloc(nh * sizeof(*c->hole));
        for (uint64_t i = 0; i < nh; i++) {
            uint64_t ix, ctr;
            if (!get(&d, &ix) || ix >= na || !get(&d, &ctr) || ctr == 0 ||
                ctr > VC_MAX_COUNTER || !dec_ctx_has(&d, (uint32_t)ix, ctr))
                goto fail;
            if (i > 0) {
                const struct crdt_dot *q = &c->hole[i - 1];
                if (ix < q->actor || (ix == q->actor && ctr <= q->counter))
                    goto fail;
            }
            c->hole[i] = (struct crdt_dot){ .actor = (uint32_t)ix, .counter = ctr };
            c->nhole = (uint32_t)i + 1;
        }
    }

    if (d.p[2] & CRDT_F_EXPIRY) {
        uint64_t ne;
        if (!get(&d, &ne) || (ne == 0 && !c->scoped) || ne > CRDT_MAX_ENTRIES ||
            ne > (d.len - d.pos) / 3)
            goto fail;
        c->exp_scoped = c->scoped;
        c->exp = mem_alloc((ne ? ne : 1) * sizeof(*c->exp));
        for (uint64_t i = 0; i < ne; i++) {
            uint64_t ix, ctr, ms;
            if (!get(&d, &ix) || ix >= na || !get(&d, &ctr) || ctr == 0 ||
                ctr > VC_MAX_COUNTER || !dec_ctx_has(&d, (uint32_t)ix, ctr) ||
                crdt_hole_has(c, (uint32_t)ix, ctr) || !get(&d, &ms) || ms == 0 ||
                ms > (uint64_t)INT64_MAX)
                goto fail;
            if (i > 0) {
                const struct crdt_expiry *q = &c->exp[i - 1];
                if (ix < q->actor || (ix == q->actor && ctr <= q->counter))
                    goto fail;
            }
            c->exp[i] = (struct crdt_expiry){ .actor = (uint32_t)ix, .counter = ctr,
                                              .ms = (int64_t)ms };
            c->nexp = (uint32_t)i + 1;
        }
    }

    rc = decode_elems(c, &d, max_key, max_val, used, &dots, &ndots);
    if (rc)
        goto fail;
    rc = KV_EPROTO;
    if (d.pos != d.len)
        goto fail;
    for (uint64_t i = 0; i < na; i++)
        if (!used[i])
            goto fail;
    if (ndots > 1) { /* each dot names one write: once per state */
        qsort(dots, ndots, sizeof(*dots), u64_cmp);
        for (uint64_t i = 1; i < ndots; i++)
            if (dots[i] == dots[i - 1])
                goto fail;
    }
    for (uint32_t i = 0; i < c->nexp && ndots; i++) { /* nor on an element */
        uint64_t key = (uint64_t)c->exp[i].actor << 49 | c->exp[i].counter;
        if (bsearch(&key, dots, ndots, sizeof(*dots), u64_cmp))
            goto fail;
    }

    /* valid: now names become ids (the only step that touches the table) */
    ids = mem_alloc((na ? na : 1) * sizeof(*ids));
    for (uint64_t i = 0; i < na; i++) {
        const uint8_t *q = d.p + name_at[i];
        if (vc_actor_intern_wire((const char *)q + 1, q[0], &ids[i]) != 0) {
            rc = KV_EBADCTX;
            goto fail;
        }
    }
    for (uint32_t i = 0; i < c->vc.n; i++)
        c->vc.e[i].actor = ids[c->vc.e[i].actor];
    qsort(c->vc.e, c->vc.n, sizeof(*c->vc.e), vce_cmp);
    for (uint32_t i = 0; i < c->ncloud; i++)
        c->cloud[i].actor = ids[c->cloud[i].actor];
    qsort(c->cloud, c->ncloud, sizeof(*c->cloud), dot_cmp_q);
    for (uint32_t i = 0; i < c->nhole; i++)
        c->hole[i].actor = ids[c->hole[i].actor];
    if (c->nhole > 1)
        qsort(c->hole, c->nhole, sizeof(*c->hole), dot_cmp_q);
    for (uint32_t i = 0; i < c->nexp; i++)
        c->exp[i].actor = ids[c->exp[i].actor];
    if (c->nexp > 1)
        qsort(c->exp, c->nexp, sizeof(*c->exp), exp_dot_cmp);
    if (c->nexp == 0) {
        mem_free(c->exp);
        c->exp = NULL;
    }
    for (uint32_t i = 0; c->slot && i <= c->mask; i++) {
        struct crdt_elem *el = c->slot[i];
        if (!el)
            continue;
        for (uint32_t k = 0; k < el->n; k++)
            el->e[k].actor = ids[el->e[k].actor];
        if (el->n > 1)
            qsort(el->e, el->n, sizeof(el->e[0]), entry_dot_cmp);
    }
    rc = 0;
    goto out;
fail:
    crdt_fini(c);
out:
    mem_free(ids);
    mem_free(dots);
    mem_free(used);
    mem_free(d.prefix);
    mem_free(name_at);
    return rc;
}

/* ------------------------------------------------------------------ */
/* digest                                                               */

static uint64_t actor_hash(uint32_t id, uint32_t seed)
{
    size_t len;
    const char *name = vc_actor_name(id, &len);
    return hash_bytes(name, len, seed);
}

/* The expiry register's part of a digest: 0 when a full state has none
 * (so digests of states without expiry are those of before it existed). */
static uint64_t exp_hash(const struct crdt *c, uint32_t seed)
{
    uint64_t h = c->exp_scoped ? hash_mix(seed) : 0;
    for (uint32_t i = 0; i < c->nexp; i++)
        h += hash_mix(actor_hash(c->exp[i].actor, seed) ^ hash_mix(c->exp[i].counter) ^
                      hash_mix((uint64_t)c->exp[i].ms + seed));
    return h;
}

uint64_t crdt_digest(const void *key, size_t klen, const struct crdt *c)
{
    uint64_t ctx = 0, els = 0;
    for (uint32_t i = 0; i < c->vc.n; i++)
        ctx += hash_mix(actor_hash(c->vc.e[i].actor, 11) ^ c->vc.e[i].counter);
    for (uint32_t i = 0; i < c->ncloud; i++)
        ctx += hash_mix(actor_hash(c->cloud[i].actor, 12) ^ c->cloud[i].counter);
    for (uint32_t i = 0; i < c->nhole; i++)
        ctx += hash_mix(actor_hash(c->hole[i].actor, 17) ^ c->hole[i].counter);
    ctx += exp_hash(c, 18);
    for (uint32_t i = 0; c->slot && i <= c->mask; i++) {
        const struct crdt_elem *el = c->slot[i];
        if (!el)
            continue;
        uint64_t sum = 0;
        for (uint32_t k = 0; k < el->n; k++) {
            const struct crdt_entry *e = &el->e[k];
            uint64_t pay = 0;
            if (e->kind == CRDT_K_REG && c->type != CRDT_ZSET)
                pay = hash_bytes(e->u.val->data, e->u.val->len, 13);
            else if (e->kind == CRDT_K_CNT_INT)
                pay = (uint64_t)e->u.i;
            else if (e->kind != CRDT_K_MEMBER)
                memcpy(&pay, e->kind == CRDT_K_REG ? &e->u.score : &e->u.f, sizeof(pay));
            sum += hash_mix(actor_hash(e->actor, 14) ^ hash_mix(e->counter) ^
                            hash_mix(pay + ((uint64_t)e->kind << 56)));
        }
        els += hash_mix(hash_bytes(crdt_elem_key(el), el->klen, 15) ^ sum);
    }
    uint64_t d = hash_mix(hash_bytes(key, klen, 16) ^ hash_mix(ctx + c->type) ^
                          hash_mix(els ^ (c->scoped ? 0x5c0bedULL : 0)));
    return d ? d : 1;
}

uint64_t crdt_ctx_digest(const struct crdt *c)
{
    /* HOT: anti-entropy asks it per typed key; O(actors + cloud + holes) */
    uint64_t ctx = 0;
    for (uint32_t i = 0; i < c->vc.n; i++)
        ctx += hash_mix(actor_hash(c->vc.e[i].actor, 21) ^ c->vc.e[i].counter);
    for (uint32_t i = 0; i < c->ncloud; i++)
        ctx += hash_mix(actor_hash(c->cloud[i].actor, 22) ^ c->cloud[i].counter);
    for (uint32_t i = 0; i < c->nhole; i++)
        ctx += hash_mix(actor_hash(c->hole[i].actor, 23) ^ c->hole[i].counter);
    ctx += exp_hash(c, 24);
    uint64_t d = hash_mix(ctx ^ hash_mix(((uint64_t)c->type << 8) | (c->scoped ? 1u : 0u)));
    return d ? d : 1;
}
