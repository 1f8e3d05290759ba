/* test_siblings.c — reconcile rules, sib_covers, the set codec, sib_digest, and a
 * randomized convergence property (seed fixed, override with KV_TEST_SEED). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "core/siblings.h"
#include "util/buf.h"
#include "util/val.h"
#include "util/varint.h"
#include "core/vclock.h"

#define PROPTEST_SEED 0xc0ffeeULL
#include "proptest.h"

static uint32_t N1, N2, N3;

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    return 0;
}

/* A version with value s (NULL = tombstone) and clock {N1:c1, N2:c2, N3:c3}
 * (0 = absent). */
static void mkver(struct version *v, const char *s, unsigned c1, unsigned c2, unsigned c3)
{
    version_init(v);
    if (s)
        v->val = val_create(s, strlen(s));
    const uint32_t ids[3] = { N1, N2, N3 };
    const unsigned cs[3] = { c1, c2, c3 };
    for (int i = 0; i < 3; i++)
        for (unsigned k = 0; k < cs[i]; k++)
            vc_increment(&v->vc, ids[i], 1000 + k);
}

static bool has_value(const struct sibset *s, const char *val)
{
    for (uint32_t i = 0; i < s->n; i++) {
        const struct val *v = s->v[i].val;
        if (val == NULL ? v == NULL
                        : (v && v->len == strlen(val) && memcmp(v->data, val, v->len) == 0))
            return true;
    }
    return false;
}

static void test_rules(void **state)
{
    (void)state;
    struct sibset s;
    struct version v1, v2, v2b, v3, c;
    sib_init(&s);
    mkver(&v1, "one", 1, 0, 0);
    mkver(&v2, "two", 2, 0, 0);
    mkver(&v2b, "other", 2, 0, 0); /* equal clock: the same write */
    mkver(&v3, "three", 2, 1, 0);
    mkver(&c, "conc", 1, 0, 1);

    assert_true(sib_add(&s, &v2));
    assert_int_equal(s.n, 1);
    assert_int_equal(v2.val->refs, 2); /* the set took a reference */
    /* dominated: ignored, repeatedly */
    assert_false(sib_add(&s, &v1));
    assert_false(sib_add(&s, &v1));
    /* equal: ignored, the stored one kept */
    assert_false(sib_add(&s, &v2));
    assert_false(sib_add(&s, &v2b));
    assert_int_equal(s.n, 1);
    assert_ptr_equal(s.v[0].val, v2.val);
    /* concurrent with {N1:2}: kept beside it */
    assert_true(sib_add(&s, &c));
    assert_int_equal(s.n, 2);
    assert_false(sib_add(&s, &c));
    assert_int_equal(s.n, 2);
    /* {N1:2,N2:1} dominates v2 but not c = {N1:1,N3:1} */
    assert_true(sib_add(&s, &v3));
    assert_int_equal(s.n, 2);
    assert_true(has_value(&s, "three") && has_value(&s, "conc"));
    assert_int_equal(v2.val->refs, 1); /* dropped version released its reference */
    /* one version dominating both */
    struct version all;
    mkver(&all, "all", 3, 1, 1);
    assert_true(sib_add(&s, &all));
    assert_int_equal(s.n, 1);
    assert_true(has_value(&s, "all"));

    version_fini(&v1);
    version_fini(&v2);
    version_fini(&v2b);
    version_fini(&v3);
    version_fini(&c);
    version_fini(&all);
    sib_fini(&s);
    sib_fini(&s);
    sib_fini(NULL);
}

/* The seed project's scenario: two blind writes coordinated by different
 * nodes become siblings; a write carrying the merged context, incremented
 * by its coordinator, resolves them. */
static void test_seed_scenario(void **state)
{
    (void)state;
    struct sibset s;
    struct version a, b, r;
    sib_init(&s);
    mkver(&a, "from-n1", 1, 0, 0);
    mkver(&b, "from-n2", 0, 1, 0);
    assert_true(sib_add(&s, &a));
    assert_true(sib_add(&s, &b));
    assert_int_equal(s.n, 2);
    assert_int_equal(sib_live_count(&s, 0), 2);

    struct vclock ctx;
    vc_init(&ctx);
    sib_context(&s, &ctx);
    assert_int_equal(vc_counter(&ctx, N1), 1);
    assert_int_equal(vc_counter(&ctx, N2), 1);
    version_init(&r);
    r.val = val_create("merged", 6);
    vc_copy(&r.vc, &ctx);
    vc_increment(&r.vc, N1, 5000);
    assert_true(sib_add(&s, &r));
    assert_int_equal(s.n, 1);
    assert_true(has_value(&s, "merged"));
    /* replaying the old writes changes nothing */
    assert_false(sib_add(&s, &a));
    assert_false(sib_add(&s, &b));
    assert_int_equal(s.n, 1);
    vc_fini(&ctx);
    version_fini(&a);
    version_fini(&b);
    version_fini(&r);
    sib_fini(&s);
}

static void test_tombstones_and_expiry(void **state)
{
    (void)state;
    struct sibset s;
    struct version v, t, e;
    sib_init(&s);
    mkver(&v, "val", 1, 0, 0);
    mkver(&t, NULL, 2, 0, 0); /* a delete that saw v */
    assert_true(sib_add(&s, &v));
    assert_true(sib_add(&s, &t));
    assert_int_equal(s.n, 1);
    assert_null(s.v[0].val);
    assert_int_equal(sib_live_count(&s, 0), 0);
    assert_false(sib_add(&s, &v)); /* a replayed old write does not resurrect */
    /* a concurrent write survives beside the tombstone */
    mkver(&e, "exp", 1, 1, 0);
    e.expire_ms = 500;
    assert_true(sib_add(&s, &e));
    assert_int_equal(s.n, 2);
    assert_int_equal(sib_live_count(&s, 100), 1);
    assert_int_equal(sib_live_count(&s, 500), 0); /* expired at 500 */
    assert_false(version_live(&t, 0));
    assert_true(version_live(&v, 1 << 30));
    version_fini(&v);
    version_fini(&t);
    version_fini(&e);
    sib_fini(&s);
}

static void test_add_move_and_merge(void **state)
{
    (void)state;
    struct sibset s, d;
    struct version v, w;
    sib_init(&s);
    sib_init(&d);
    mkver(&v, "a", 1, 0, 0);
    struct val *keep = val_ref(v.val);
    assert_true(sib_add_move(&s, &v));
    assert_null(v.val);
    assert_int_equal(v.vc.n, 0);
    assert_int_equal(keep->refs, 2);
    mkver(&w, "old", 0, 0, 0); /* empty clock: dominated by everything */
    assert_false(sib_add_move(&s, &w)); /* ignored: freed, not leaked */
    assert_null(w.val);
    mkver(&w, "b", 0, 1, 0);
    assert_true(sib_add_move(&s, &w));
    assert_true(sib_merge(&d, &s));
    assert_int_equal(d.n, 2);
    assert_false(sib_merge(&d, &s));
    /* version_copy replaces and refs */
    struct version cp;
    version_init(&cp);
    version_copy(&cp, &s.v[0]);
    version_copy(&cp, &s.v[1]);
    version_copy(&cp, &cp);
    assert_ptr_equal(cp.val, s.v[1].val);
    assert_int_equal(cp.vc.n, s.v[1].vc.n);
    version_fini(&cp);
    version_fini(&cp);
    sib_clear(&d);
    assert_int_equal(d.n, 0);
    val_unref(keep);
    sib_fini(&s);
    sib_fini(&d);
}

/* Concurrent versions that hold the same value stand for it (a write
 * applied twice after a coordinator failover); different values do not. */
static void test_agreed(void **state)
{
    (void)state;
    struct sibset s;
    sib_init(&s);
    assert_null(sib_agreed(&s));
    struct version a, b, c, t1, t2;
    mkver(&a, "same", 1, 0, 0);
    mkver(&b, "same", 0, 1, 0);
    mkver(&c, "other", 0, 0, 1);
    mkver(&t1, NULL, 2, 0, 0);
    mkver(&t2, NULL, 0, 2, 0);
    sib_add(&s, &a);
    assert_ptr_equal(sib_agreed(&s), &s.v[0]);
    sib_add(&s, &b);
    assert_int_equal(s.n, 2);
    assert_non_null(sib_agreed(&s));
    assert_true(has_value(&s, "same"));
    sib_add(&s, &c);
    assert_int_equal(s.n, 3);
    assert_null(sib_agreed(&s));
    sib_clear(&s);
    sib_add(&s, &t1);
    sib_add(&s, &t2);
    assert_int_equal(s.n, 2);
    assert_non_null(sib_agreed(&s)); /* two concurrent deletes agree */
    assert_null(sib_agreed(&s)->val);
    sib_clear(&s);
    sib_add(&s, &a);
    sib_add(&s, &t2);
    assert_null(sib_agreed(&s)); /* a value and a delete do not */
    version_fini(&a);
    version_fini(&b);
    version_fini(&c);
    version_fini(&t1);
    version_fini(&t2);
    sib_fini(&s);
}

static void test_covers(void **state)
{
    (void)state;
    struct sibset a, b, empty;
    struct version x1, x2, y1;
    sib_init(&a);
    sib_init(&b);
    sib_init(&empty);
    mkver(&x1, "x1", 1, 0, 0);
    mkver(&x2, "x2", 2, 0, 0);
    mkver(&y1, "y1", 0, 1, 0);
    assert_true(sib_covers(&empty, &empty));
    sib_add(&a, &x2);
    assert_true(sib_covers(&a, &empty));
    assert_false(sib_covers(&empty, &a));
    sib_add(&b, &x1);
    assert_true(sib_covers(&a, &b));  /* x2 dominates x1 */
    assert_false(sib_covers(&b, &a)); /* b is stale: read repair target */
    sib_add(&b, &y1);
    assert_false(sib_covers(&a, &b)); /* a lacks y1 */
    sib_add(&a, &y1);
    assert_true(sib_covers(&a, &b));
    assert_true(sib_covers(&a, &a));
    version_fini(&x1);
    version_fini(&x2);
    version_fini(&y1);
    sib_fini(&a);
    sib_fini(&b);
    sib_fini(&empty);
}

static bool set_equal(const struct sibset *a, const struct sibset *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        bool found = false;
        for (uint32_t j = 0; j < b->n && !found; j++) {
            const struct version *x = &a->v[i], *y = &b->v[j];
            if (vc_compare(&x->vc, &y->vc) != VC_EQUAL || x->expire_ms != y->expire_ms ||
                x->dot_actor != y->dot_actor || x->dot_base != y->dot_base ||
                x->epoch != y->epoch)
                continue;
            if ((x->val == NULL) != (y->val == NULL))
                continue;
            if (x->val && (x->val->len != y->val->len ||
                           memcmp(x->val->data, y->val->data, x->val->len) != 0))
                continue;
            found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

static void test_codec(void **state)
{
    (void)state;
    struct sibset s, d;
    struct version a, b, t;
    struct buf out;
    sib_init(&s);
    sib_init(&d);
    buf_init(&out);

    /* empty set */
    sib_encode(&s, &out);
    assert_int_equal(sib_decode(&d, out.data, out.len, 100), 0);
    assert_int_equal(d.n, 0);

    mkver(&a, NULL, 1, 0, 0);
    a.val = val_create("alpha\0\r\n", 8); /* binary-safe */
    a.expire_ms = 1764064490001;
    mkver(&b, "", 0, 2, 1);
    mkver(&t, NULL, 0, 0, 3);
    t.expire_ms = 77; /* tombstones may carry a reap time */
    sib_add(&s, &a);
    sib_add(&s, &b);
    sib_add(&s, &t);
    out.len = 0;
    sib_encode(&s, &out);
    assert_int_equal(sib_decode(&d, out.data, out.len, 100), 0);
    assert_true(set_equal(&s, &d));
    assert_null(d.v[2].val);
    assert_int_equal(d.v[2].expire_ms, 77);
    /* decoding into a non-empty set replaces it */
    assert_int_equal(sib_decode(&d, out.data, out.len, 100), 0);
    assert_int_equal(d.n, 3);

    /* max_val bounds a value's length */
    assert_int_equal(sib_decode(&d, out.data, out.len, 8), 0);
    assert_int_equal(sib_decode(&d, out.data, out.len, 7), KV_EPROTO);
    assert_int_equal(d.n, 0);
    /* every truncation and a trailing byte are refused */
    for (size_t cut = 0; cut < out.len; cut++) {
        int rc = sib_decode(&d, out.data, cut, 100);
        assert_true(rc == KV_EPROTO || rc == KV_EBADCTX);
        assert_int_equal(d.n, 0);
    }
    buf_putc(&out, 0);
    assert_int_equal(sib_decode(&d, out.data, out.len, 100), KV_EPROTO);
    out.len--;
    /* unknown flag bits */
    struct buf m;
    buf_init(&m);
    buf_put(&m, out.data, out.len);
    m.data[1] = (char)0x04;
    assert_int_equal(sib_decode(&d, m.data, m.len, 100), KV_EPROTO);
    /* a count larger than the input */
    m.data[0] = 0x7f;
    assert_int_equal(sib_decode(&d, m.data, m.len, 100), KV_EPROTO);
    /* expiry flag with a zero expiry */
    static const uint8_t zero_exp[] = { 1, 0x03, 0x00, 0x00 };
    assert_int_equal(sib_decode(&d, zero_exp, sizeof(zero_exp), 100), KV_EPROTO);
    static const uint8_t one_tomb[] = { 1, 0x01, 0x00 }; /* tombstone, empty clock */
    assert_int_equal(sib_decode(&d, one_tomb, sizeof(one_tomb), 100), 0);
    assert_int_equal(d.n, 1);
    /* a set that breaks the invariant (a dominated version) is refused */
    struct sibset bad;
    sib_init(&bad);
    bad.cap = bad.n = 2;
    bad.v = calloc(2, sizeof(*bad.v));
    mkver(&bad.v[0], "x", 1, 0, 0);
    mkver(&bad.v[1], "y", 2, 0, 0);
    m.len = 0;
    sib_encode(&bad, &m);
    assert_int_equal(sib_decode(&d, m.data, m.len, 100), KV_EPROTO);
    /* equal clocks twice are refused too */
    version_fini(&bad.v[1]);
    mkver(&bad.v[1], "y", 1, 0, 0);
    m.len = 0;
    sib_encode(&bad, &m);
    assert_int_equal(sib_decode(&d, m.data, m.len, 100), KV_EPROTO);
    version_fini(&bad.v[0]);
    version_fini(&bad.v[1]);
    free(bad.v);

    /* garbage never crashes */
    for (int it = 0; it < 20000; it++) {
        m.len = 0;
        size_t n = rnd() % 64;
        for (size_t i = 0; i < n; i++)
            buf_putc(&m, (char)(rnd() % 4 == 0 ? rnd() % 4 : rnd()));
        int rc = sib_decode(&d, m.data, m.len, 16);
        PROP(rc == 0 || rc == KV_EPROTO || rc == KV_EBADCTX);
        if (rc)
            PROP(d.n == 0);
    }
    buf_fini(&m);
    version_fini(&a);
    version_fini(&b);
    version_fini(&t);
    sib_fini(&s);
    sib_fini(&d);
    buf_fini(&out);
}

/* Convergence: every order of applying the same versions, and every split of
 * them into two replicas merged afterwards, ends in the same set.  The value
 * is derived from the clock: in Dynamo equal clocks mean the same write. */
static void random_version(struct version *v)
{
    version_init(v);
    const uint32_t ids[3] = { N1, N2, N3 };
    for (int i = 0; i < 3; i++) {
        unsigned c = (unsigned)(rnd() % 4);
        for (unsigned k = 0; k < c; k++)
            vc_increment(&v->vc, ids[i], 100 * (uint64_t)i + k);
    }
    uint64_t sum = 0;
    for (uint32_t i = 0; i < v->vc.n; i++)
        sum += v->vc.e[i].counter * (i + 1);
    if (sum % 5 == 1)
        return; /* a tombstone, also decided by the clock */
    struct buf b;
    buf_init(&b);
    vc_format(&v->vc, &b);
    v->val = val_create(b.data, b.len);
    buf_fini(&b);
}

static void test_convergence(void **state)
{
    (void)state;
    enum { NV = 12, ORDERS = 30 };
    struct version vs[NV];
    struct sibset ref, s, r1, r2;
    sib_init(&ref);
    sib_init(&s);
    sib_init(&r1);
    sib_init(&r2);
    unsigned multi = 0;
    for (int round = 0; round < 300; round++) {
        unsigned nv = 1 + (unsigned)(rnd() % NV);
        for (unsigned i = 0; i < nv; i++)
            random_version(&vs[i]);
        sib_clear(&ref);
        for (unsigned i = 0; i < nv; i++)
            sib_add(&ref, &vs[i]);
        multi += ref.n > 1;
        /* the invariant holds */
        for (uint32_t i = 0; i < ref.n; i++)
            for (uint32_t j = i + 1; j < ref.n; j++)
                PROP(vc_compare(&ref.v[i].vc, &ref.v[j].vc) == VC_CONCURRENT);
        /* nothing known is lost: every input is covered by the result */
        for (unsigned i = 0; i < nv; i++) {
            bool cov = false;
            for (uint32_t j = 0; j < ref.n; j++)
                cov |= vc_descends(&ref.v[j].vc, &vs[i].vc);
            PROP(cov);
        }
        unsigned perm[NV];
        for (int o = 0; o < ORDERS; o++) {
            for (unsigned i = 0; i < nv; i++)
                perm[i] = i;
            for (unsigned i = nv - 1; i > 0; i--) {
                unsigned j = (unsigned)(rnd() % (i + 1)), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            sib_clear(&s);
            for (unsigned i = 0; i < nv; i++)
                sib_add(&s, &vs[perm[i]]);
            PROP(set_equal(&s, &ref));
            /* two replicas that each saw part, anti-entropy merges them */
            sib_clear(&r1);
            sib_clear(&r2);
            for (unsigned i = 0; i < nv; i++)
                sib_add(rnd() % 2 ? &r1 : &r2, &vs[perm[i]]);
            sib_merge(&r1, &r2);
            PROP(set_equal(&r1, &ref));
            PROP(sib_covers(&r1, &ref) && sib_covers(&ref, &r1));
        }
        /* round trip through the wire codec preserves the set */
        struct buf out;
        buf_init(&out);
        sib_encode(&ref, &out);
        PROP(sib_decode(&s, out.data, out.len, 1 << 20) == 0);
        PROP(set_equal(&s, &ref));
        buf_fini(&out);
        for (unsigned i = 0; i < nv; i++)
            version_fini(&vs[i]);
    }
    PROP(multi > 30); /* siblings really occurred */
    sib_fini(&ref);
    sib_fini(&s);
    sib_fini(&r1);
    sib_fini(&r2);
}


/* ---- dotted version vectors (issue 11) ----
 *
 * A simulation of the coordinator's stamping (coord.c) over three replicas,
 * each also a coordinator actor: every write is stamped from its
 * coordinator's local set (dot = 1 + the highest counter of that actor in
 * the local clocks and the context), stored there, and its whole local set
 * is then merged into a random subset of the other replicas (state-based, as
 * coord_write sends it); anti-entropy merges whole sets.  Each write's
 * ground truth is the set of writes its client saw (the versions of the set
 * it read, and their histories).  The properties:
 *   - version_seen_by(x, y) is exactly "y's writer had seen x";
 *   - a blind write is concurrent with every version it did not see;
 *   - a write with the merged context of a set supersedes all of it;
 *   - merging sets is commutative, associative and idempotent;
 *   - a version with an equal dot is the same write (ignored);
 *   - clocks hold at most one entry per actor (3), whatever the conflicts. */
enum { SIM_MAXV = 256, SIM_W = SIM_MAXV / 64, SIM_R = 3 };

struct sim {
    struct sibset rep[SIM_R];
    struct version all[SIM_MAXV];
    uint64_t hist[SIM_MAXV][SIM_W]; /* ids each write had seen, itself included */
    unsigned nv;
    uint32_t actor[SIM_R];
};

static unsigned version_id(const struct version *v)
{
    char tmp[16];
    size_t n = v->val->len < 15 ? v->val->len : 15;
    memcpy(tmp, v->val->data, n);
    tmp[n] = '\0';
    return (unsigned)strtoul(tmp, NULL, 10);
}

static bool hist_has(const struct sim *m, unsigned y, unsigned x)
{
    return (m->hist[y][x / 64] >> (x % 64)) & 1;
}

/* A write coordinated by replica r whose client read set `read` (NULL =
 * blind; the context is the merge of read's clocks).  Returns its id. */
static unsigned sim_write(struct sim *m, int r, const struct sibset *read)
{
    unsigned id = m->nv++;
    struct vclock ctx;
    vc_init(&ctx);
    memset(m->hist[id], 0, sizeof(m->hist[id]));
    if (read) {
        sib_context(read, &ctx);
        for (uint32_t i = 0; i < read->n; i++) {
            unsigned x = version_id(&read->v[i]);
            for (int w = 0; w < SIM_W; w++)
                m->hist[id][w] |= m->hist[x][w];
        }
    }
    m->hist[id][id / 64] |= 1ull << (id % 64);
    uint32_t a = m->actor[r];
    const struct sibset *local = &m->rep[r];
    uint64_t top = vc_counter(&ctx, a);
    for (uint32_t i = 0; i < local->n; i++)
        if (vc_counter(&local->v[i].vc, a) > top)
            top = vc_counter(&local->v[i].vc, a);
    struct version *v = &m->all[id];
    version_init(v);
    char name[16];
    int len = snprintf(name, sizeof(name), "%u", id);
    v->val = val_create(name, (size_t)len);
    version_set_dot(v, &ctx, a, top + 1, 1000 + id);
    PROP(v->vc.n <= SIM_R);
    /* a blind write is concurrent with everything stored */
    if (!read)
        for (uint32_t i = 0; i < local->n; i++)
            PROP(version_compare(v, &local->v[i]) == VC_CONCURRENT);
    PROP(sib_add(&m->rep[r], v));
    /* a write with the merged context of the local set supersedes it all */
    if (read == local)
        PROP(m->rep[r].n == 1);
    /* state-based replication of the coordinator's whole set */
    for (int o = 0; o < SIM_R; o++)
        if (o != r && rnd() % 2)
            sib_merge(&m->rep[o], &m->rep[r]);
    vc_fini(&ctx);
    return id;
}

static void sim_check_order(const struct sim *m)
{
    for (unsigned x = 0; x < m->nv; x++)
        for (unsigned y = 0; y < m->nv; y++)
            PROP(version_seen_by(&m->all[x], &m->all[y]) == hist_has(m, y, x));
}

static void merged(struct sibset *out, const struct sibset *a, const struct sibset *b)
{
    sib_clear(out);
    sib_merge(out, a);
    sib_merge(out, b);
}

static void test_dvv_properties(void **state)
{
    (void)state;
    struct sim *m = calloc(1, sizeof(*m));
    assert_non_null(m);
    for (int r = 0; r < SIM_R; r++) {
        char name[16];
        int len = snprintf(name, sizeof(name), "dvv%d.1", r);
        m->actor[r] = vc_actor_intern(name, (size_t)len);
    }
    struct sibset ab, ba, abc1, abc2, t;
    sib_init(&ab);
    sib_init(&ba);
    sib_init(&abc1);
    sib_init(&abc2);
    sib_init(&t);
    unsigned siblings_seen = 0, blind = 0;
    for (int round = 0; round < 40; round++) {
        for (int r = 0; r < SIM_R; r++)
            sib_init(&m->rep[r]);
        m->nv = 0;
        while (m->nv < 120) {
            int r = (int)(rnd() % SIM_R);
            unsigned op = (unsigned)(rnd() % 10);
            if (op < 4) {
                sim_write(m, r, NULL); /* blind */
                blind++;
            } else if (op < 6) {
                sim_write(m, r, &m->rep[r]); /* SET: the local context */
            } else if (op < 8) {
                /* a client read another replica, then wrote through r */
                sib_clear(&t);
                sib_merge(&t, &m->rep[rnd() % SIM_R]);
                sim_write(m, r, &t);
            } else {
                sib_merge(&m->rep[rnd() % SIM_R], &m->rep[r]); /* anti-entropy */
            }
            for (int k = 0; k < SIM_R; k++)
                siblings_seen += m->rep[k].n > 1;
        }
        sim_check_order(m);
        /* merge laws on the replicas' sets */
        const struct sibset *A = &m->rep[0], *B = &m->rep[1], *C = &m->rep[2];
        merged(&ab, A, B);
        merged(&ba, B, A);
        PROP(set_equal(&ab, &ba));
        merged(&abc1, &ab, C);
        merged(&t, B, C);
        merged(&abc2, A, &t);
        PROP(set_equal(&abc1, &abc2));
        sib_clear(&t);
        sib_merge(&t, A);
        PROP(!sib_merge(&t, A) && set_equal(&t, A));
        PROP(sib_covers(&abc1, A) && sib_covers(&abc1, B) && sib_covers(&abc1, C));
        /* after anti-entropy every replica holds the same set */
        for (int k = 0; k < SIM_R; k++)
            sib_merge(&m->rep[k], &abc1);
        PROP(set_equal(&m->rep[0], &m->rep[1]) && set_equal(&m->rep[1], &m->rep[2]));
        for (uint32_t i = 0; i < abc1.n; i++) {
            PROP(abc1.v[i].vc.n <= SIM_R);
            /* equal dots: the same write, whatever else the copy says */
            struct version dup;
            version_init(&dup);
            version_copy(&dup, &abc1.v[i]);
            val_unref(dup.val);
            dup.val = val_create("other", 5);
            PROP(!sib_add(&m->rep[0], &dup));
            version_fini(&dup);
        }
        /* the merged context resolves every sibling everywhere */
        unsigned id = sim_write(m, 0, &m->rep[0]);
        PROP(m->rep[0].n == 1 && version_id(&m->rep[0].v[0]) == id);
        for (int k = 1; k < SIM_R; k++) {
            sib_merge(&m->rep[k], &m->rep[0]);
            PROP(m->rep[k].n == 1);
        }
        for (int r = 0; r < SIM_R; r++)
            sib_fini(&m->rep[r]);
        for (unsigned i = 0; i < m->nv; i++)
            version_fini(&m->all[i]);
    }
    PROP(siblings_seen > 100 && blind > 100);
    sib_fini(&ab);
    sib_fini(&ba);
    sib_fini(&abc1);
    sib_fini(&abc2);
    sib_fini(&t);
    free(m);
}

/* Old-format versions (no dot) compare as plain vector clocks, also against
 * dotted ones; the codec keeps a version's dot or its absence. */
static void test_dvv_old_format(void **state)
{
    (void)state;
    struct version old, d1, d2;
    mkver(&old, "old", 2, 0, 0); /* {N1:2}, no dot */
    struct vclock ctx;
    vc_init(&ctx);
    /* a SET over it: context {N1:2}, dot (N1,3): contiguous, dominates it */
    version_init(&d1);
    d1.val = val_create("d1", 2);
    version_set_dot(&d1, &old.vc, N1, 3, 5);
    assert_int_equal(version_compare(&old, &d1), VC_BEFORE);
    /* a blind write (N1,4) with empty context: concurrent with both */
    version_init(&d2);
    d2.val = val_create("d2", 2);
    version_set_dot(&d2, &ctx, N1, 4, 6);
    assert_int_equal(version_compare(&old, &d2), VC_CONCURRENT);
    assert_int_equal(version_compare(&d1, &d2), VC_CONCURRENT);
    /* an old version {N1:4} has seen (N1,3) and (N1,4), not the reverse */
    struct version old4;
    mkver(&old4, "old4", 4, 0, 0);
    assert_int_equal(version_compare(&d1, &old4), VC_BEFORE);
    assert_int_equal(version_compare(&d2, &old4), VC_BEFORE);
    /* a gapped dot does not cover the old {N1:3}: (N1,3) is not in d2's past */
    struct version old3;
    mkver(&old3, "old3", 3, 0, 0);
    assert_int_equal(version_compare(&old3, &d2), VC_CONCURRENT);
    assert_int_equal(version_compare(&old3, &d1), VC_EQUAL); /* same past */
    struct sibset s, t;
    sib_init(&s);
    sib_init(&t);
    sib_add(&s, &old);
    sib_add(&s, &d2);
    assert_int_equal(s.n, 2);
    struct buf out;
    buf_init(&out);
    sib_encode(&s, &out);
    assert_int_equal(sib_decode(&t, out.data, out.len, 1 << 20), 0);
    assert_true(set_equal(&s, &t));
    for (uint32_t i = 0; i < t.n; i++)
        assert_true(t.v[i].dot_actor == (t.v[i].val->len == 3 ? VERSION_NO_DOT : N1));
    /* the old wire format (no dot flag) still decodes: {N1:1} value "v" */
    static const uint8_t old_wire[] = { 1, 0, 1, 'v', 1, 4, 'n', '1', '.', '1', 1, 7 };
    assert_int_equal(sib_decode(&t, old_wire, sizeof(old_wire), 1 << 20), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.v[0].dot_actor, VERSION_NO_DOT);
    assert_int_equal(vc_counter(&t.v[0].vc, N1), 1);
    /* a dot naming an actor outside its clock, or not above dot_base: refused */
    static const uint8_t bad_dot[] = { 1, 4, 1, 'v', 1, 4, 'n', '1', '.', '1', 1, 7,
                                       4, 'n', '2', '.', '1', 0 };
    assert_int_equal(sib_decode(&t, bad_dot, sizeof(bad_dot), 1 << 20), KV_EPROTO);
    static const uint8_t bad_base[] = { 1, 4, 1, 'v', 1, 4, 'n', '1', '.', '1', 1, 7,
                                        4, 'n', '1', '.', '1', 1 };
    assert_int_equal(sib_decode(&t, bad_base, sizeof(bad_base), 1 << 20), KV_EPROTO);
    static const uint8_t good_dot[] = { 1, 4, 1, 'v', 1, 4, 'n', '1', '.', '1', 1, 7,
                                        4, 'n', '1', '.', '1', 0 };
    assert_int_equal(sib_decode(&t, good_dot, sizeof(good_dot), 1 << 20), 0);
    assert_int_equal(t.v[0].dot_actor, N1);
    /* the store's local form keeps dots too */
    for (uint32_t i = 0; i < s.n; i++) {
        struct version u;
        version_init(&u);
        out.len = 0;
        version_pack_clock(&s.v[i], &out);
        size_t used;
        assert_int_equal(version_unpack_clock(&u, out.data, out.len, &used), 0);
        assert_int_equal(used, out.len);
        assert_int_equal(u.dot_actor, s.v[i].dot_actor);
        assert_true(vc_compare(&u.vc, &s.v[i].vc) == VC_EQUAL);
        version_fini(&u);
    }
    buf_fini(&out);
    sib_fini(&s);
    sib_fini(&t);
    vc_fini(&ctx);
    version_fini(&old);
    version_fini(&old3);
    version_fini(&old4);
    version_fini(&d1);
    version_fini(&d2);
}

/* The encoder and the decoder share SIB_MAX_VERSIONS. */
static void test_version_limit(void **state)
{
    (void)state;
    struct sibset s, t;
    sib_init(&s);
    sib_init(&t);
    struct vclock none;
    vc_init(&none);
    for (uint64_t i = 1; i <= SIB_MAX_VERSIONS + 1; i++) {
        struct version v;
        version_init(&v);
        v.val = val_create("x", 1);
        version_set_dot(&v, &none, N2, i, 1);
        assert_true(sib_add(&s, &v));
        version_fini(&v);
        if (i == SIB_MAX_VERSIONS || i == SIB_MAX_VERSIONS + 1) {
            struct buf out;
            buf_init(&out);
            sib_encode(&s, &out);
            assert_int_equal(sib_decode(&t, out.data, out.len, 16) == 0,
                             i == SIB_MAX_VERSIONS);
            buf_fini(&out);
        }
    }
    sib_fini(&s);
    sib_fini(&t);
}

/* sib_digest: order-independent, 0 only for nothing, sensitive to the key,
 * values, tombstones, expiry and clocks, and pinned (nodes compare them:
 * the anti-entropy trees and the reaper's listings). */
static void test_digest(void **state)
{
    (void)state;
    struct version x, y, x2, t;
    mkver(&x, "x", 1, 0, 0);
    mkver(&y, "y", 0, 1, 0);
    mkver(&x2, "x", 2, 0, 0);
    mkver(&t, NULL, 1, 0, 0);
    struct version xy[2] = {x, y}, yx[2] = {y, x};
    struct sibset s_xy = {2, 2, xy}, s_yx = {2, 2, yx}; /* read-only views */
    struct sibset s_x = {1, 1, &x}, s_x2 = {1, 1, &x2}, s_t = {1, 1, &t}, empty;
    sib_init(&empty);
    assert_int_equal(sib_digest("k", 1, NULL), 0);
    assert_int_equal(sib_digest("k", 1, &empty), 0);
    uint64_t d = sib_digest("k", 1, &s_x);
    assert_int_not_equal(d, 0);
    assert_int_equal(sib_digest("k", 1, &s_xy), sib_digest("k", 1, &s_yx));
    assert_int_not_equal(sib_digest("k", 1, &s_xy), d);
    assert_int_not_equal(sib_digest("j", 1, &s_x), d);   /* the key counts */
    assert_int_not_equal(sib_digest("k", 1, &s_x2), d);  /* the clock counts */
    assert_int_not_equal(sib_digest("k", 1, &s_t), d);   /* a tombstone differs */
    x.expire_ms = 5;
    assert_int_not_equal(sib_digest("k", 1, &s_x), d);   /* expiry counts */
    x.expire_ms = 0;
    /* pinned: the value of the digest before it moved out of ae.c */
    assert_int_equal(d, 0x0fe3985267d83651ULL);
    version_fini(&x);
    version_fini(&y);
    version_fini(&x2);
    version_fini(&t);
}

/* Flush epochs (issue 16): codec, order, dropping, packing, digest. */
static void test_epochs(void **state)
{
    (void)state;
    struct version old, neu;
    mkver(&old, "old", 5, 0, 0); /* N1:5, stamped before the flush */
    mkver(&neu, "new", 1, 0, 0); /* N1:1, after it: counters restarted */
    neu.epoch = 1;
    /* a higher epoch dominates whatever the clocks say */
    assert_int_equal(version_compare(&old, &neu), VC_BEFORE);
    assert_int_equal(version_compare(&neu, &old), VC_AFTER);
    struct sibset s;
    sib_init(&s);
    assert_true(sib_add(&s, &old));
    assert_true(sib_add(&s, &neu));
    assert_int_equal(s.n, 1);
    assert_int_equal(s.v[0].epoch, 1);
    assert_false(sib_add(&s, &old)); /* an older epoch never comes back in */
    assert_int_equal(s.n, 1);

    /* codec: epoch 0 encodes as before (no flag), a non-zero one round-trips */
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    struct sibset one = {1, 1, &old}, d;
    sib_init(&d);
    sib_encode(&one, &a);
    assert_int_equal((unsigned char)a.data[1] & 0x08, 0);
    old.epoch = 300;
    sib_encode(&one, &b);
    assert_int_equal(b.len, a.len + 2); /* varint 300 */
    assert_int_equal((unsigned char)b.data[1], (unsigned char)a.data[1] | 0x08);
    assert_int_equal(sib_decode(&d, b.data, b.len, 100), 0);
    assert_int_equal(d.n, 1);
    assert_int_equal(d.v[0].epoch, 300);
    assert_true(set_equal(&one, &d));
    assert_int_equal(sib_decode(&d, a.data, a.len, 100), 0);
    assert_int_equal(d.v[0].epoch, 0);
    /* malformed: the flag with epoch 0, a truncated epoch, one past 32 bits */
    b.data[b.len - 2] = 0;
    b.len--;
    assert_int_equal(sib_decode(&d, b.data, b.len, 100), KV_EPROTO);
    b.len--;
    assert_int_equal(sib_decode(&d, b.data, b.len, 100), KV_EPROTO);
    buf_varint(&b, (uint64_t)UINT32_MAX + 1);
    assert_int_equal(sib_decode(&d, b.data, b.len, 100), KV_EPROTO);
    b.len = 0;
    buf_append(&b, a.data, a.len);
    b.data[1] |= 0x10; /* an unknown flag */
    assert_int_equal(sib_decode(&d, b.data, b.len, 100), KV_EPROTO);

    /* packed clock: round trip, and epoch 0 packs as before (dot-less: 0) */
    struct version u;
    version_init(&u);
    a.len = 0;
    old.epoch = 0;
    version_pack_clock(&old, &a);
    assert_int_equal((unsigned char)a.data[0], 0);
    size_t used;
    old.epoch = 7;
    b.len = 0;
    version_pack_clock(&old, &b);
    assert_int_equal(version_unpack_clock(&u, b.data, b.len, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(u.epoch, 7);
    assert_int_equal(version_compare(&u, &old), VC_EQUAL);
    struct vclock ctx;
    vc_init(&ctx);
    vc_copy(&ctx, &neu.vc);
    version_set_dot(&neu, &ctx, N2, 4, 99);
    vc_fini(&ctx);
    neu.epoch = 9;
    b.len = 0;
    version_pack_clock(&neu, &b);
    assert_int_equal(version_unpack_clock(&u, b.data, b.len, &used), 0);
    assert_int_equal(u.epoch, 9);
    assert_int_equal(u.dot_actor, N2);
    assert_int_equal(version_compare(&u, &neu), VC_EQUAL);

    /* sib_drop_before / sib_max_epoch */
    struct version x, y;
    mkver(&x, "x", 1, 0, 0);
    mkver(&y, "y", 0, 1, 0);
    x.epoch = y.epoch = 2;
    sib_clear(&s);
    sib_add(&s, &x);
    sib_add(&s, &y);
    assert_int_equal(sib_max_epoch(&s), 2);
    assert_int_equal(sib_drop_before(&s, 2), 0);
    assert_int_equal(s.n, 2);
    assert_int_equal(sib_drop_before(&s, 3), 2);
    assert_int_equal(s.n, 0);
    assert_int_equal(sib_max_epoch(&s), 0);

    /* digest: the epoch counts (epoch 0 keeps the pinned value, test_digest) */
    struct sibset sx = {1, 1, &x};
    uint64_t d2 = sib_digest("k", 1, &sx);
    x.epoch = 3;
    assert_int_not_equal(sib_digest("k", 1, &sx), d2);

    version_fini(&x);
    version_fini(&y);
    version_fini(&u);
    version_fini(&old);
    version_fini(&neu);
    sib_fini(&s);
    sib_fini(&d);
    buf_fini(&a);
    buf_fini(&b);
}

int main(void)
{
    proptest_seed_from_env();
    N1 = vc_actor_intern("n1.1", 4);
    N2 = vc_actor_intern("n2.1", 4);
    N3 = vc_actor_intern("n3.1", 4);
    print_message("test_siblings: seed %llu (set KV_TEST_SEED to change)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_rules, setup),
        cmocka_unit_test_setup(test_seed_scenario, setup),
        cmocka_unit_test_setup(test_tombstones_and_expiry, setup),
        cmocka_unit_test_setup(test_add_move_and_merge, setup),
        cmocka_unit_test_setup(test_agreed, setup),
        cmocka_unit_test_setup(test_covers, setup),
        cmocka_unit_test_setup(test_codec, setup),
        cmocka_unit_test_setup(test_convergence, setup),
        cmocka_unit_test_setup(test_dvv_properties, setup),
        cmocka_unit_test_setup(test_dvv_old_format, setup),
        cmocka_unit_test_setup(test_version_limit, setup),
        cmocka_unit_test_setup(test_digest, setup),
        cmocka_unit_test_setup(test_epochs, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
