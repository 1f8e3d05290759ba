/* test_crdt.c — the convergent types (core/crdt.h): semantics per type,
 * the join laws and delta delivery as randomized property tests, and the
 * codec (round trips, canonical bytes, malformed and oversized input).
 *
 * Property tests run thousands of random operation histories per type over
 * three replicas (actors n1, n2, n3) with deltas delivered in random order,
 * duplicated, or not at all, plus occasional full-state syncs, and check:
 *   - every operation's result equals state-before ⊔ its delta;
 *   - join is commutative, associative and idempotent on the replicas'
 *     states;
 *   - delivering every delta to every replica (random order, some twice),
 *     or to an empty state, gives the full-state join of all replicas;
 *   - the surviving entries are exactly the ones created by operations
 *     minus the ones some operation observed and superseded (nothing
 *     acknowledged is lost, nothing removed comes back): an add concurrent
 *     with a remove is kept;
 *   - counters without resets add up every increment of every replica;
 *   - encode/decode round trips, the bytes and digests are equal on every
 *     converged replica.
 * The seed is fixed; KV_TEST_SEED=<n> replays another one, and every failure
 * names the seed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crdt.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/mem.h"
#include "util/val.h"

#define NREP 3
#define HISTORIES 600 /* per type */
#define STEPS 120     /* per history */
#define NELEM 6       /* small universe: operations collide often */

static unsigned long long seed = 0xc4d7e5eedULL;
static uint64_t rng_state;
static uint32_t actor[NREP];

#define PROP(cond)                                                                    \
    do {                                                                              \
        if (!(cond))                                                                  \
            fail_msg("property failed: %s (line %d, seed %llu; rerun with "          \
                     "KV_TEST_SEED=%llu)", #cond, __LINE__, seed, seed);             \
    } while (0)

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    return 0;
}

/* ---------------------------------------------------------------- */
/* helpers                                                            */

static bool same_bytes(const struct crdt *a, const struct crdt *b)
{
    struct buf x, y;
    buf_init(&x);
    buf_init(&y);
    crdt_encode(a, &x);
    crdt_encode(b, &y);
    bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    buf_fini(&x);
    buf_fini(&y);
    return same;
}

/* crdt_equal plus the canonical bytes: both notions must agree. */
static bool same(const struct crdt *a, const struct crdt *b)
{
    bool eq = crdt_equal(a, b);
    PROP(eq == same_bytes(a, b));
    return eq;
}

static void join_into(struct crdt *dst, const struct crdt *src)
{
    assert_int_equal(crdt_join(dst, src), 0);
}

static void joined(struct crdt *out, const struct crdt *a, const struct crdt *b)
{
    crdt_init(out, CRDT_NONE);
    crdt_copy(out, a);
    join_into(out, b);
}

static void roundtrip(const struct crdt *c)
{
    struct buf b;
    buf_init(&b);
    crdt_encode(c, &b);
    struct crdt d;
    PROP(crdt_decode(&d, b.data, b.len, 1u << 20, 1u << 20) == 0);
    PROP(same(c, &d));
    PROP(crdt_digest("k", 1, c) == crdt_digest("k", 1, &d));
    struct buf b2;
    buf_init(&b2);
    crdt_encode(&d, &b2);
    PROP(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
    buf_fini(&b2);
    crdt_fini(&d);
    buf_fini(&b);
}

static bool contains(const struct crdt *c, const char *m)
{
    const struct crdt_elem *el = crdt_find(c, m, strlen(m));
    return el && el->n > 0;
}

static void value_is(const struct crdt *c, const char *f, const char *want)
{
    const struct crdt_elem *el = crdt_find(c, f, strlen(f));
    assert_non_null(el);
    struct buf b;
    buf_init(&b);
    assert_int_equal(crdt_value(el, c->type, &b), 0);
    buf_putc(&b, '\0');
    assert_string_equal(b.data, want);
    buf_fini(&b);
}

static void hset(struct crdt *c, int r, const char *f, const char *v, struct crdt *delta)
{
    struct val *x = val_create(v, strlen(v));
    assert_int_equal(crdt_reg_set(c, actor[r], f, strlen(f), x, delta, NULL), 0);
    val_unref(x);
}

/* ---------------------------------------------------------------- */
/* semantics per type                                                 */

static void test_set_add_wins(void **state)
{
    (void)state;
    struct crdt a, b, d;
    crdt_init(&a, CRDT_SET);
    crdt_init(&b, CRDT_SET);
    bool added;
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, &d, &added), 0);
    assert_true(added);
    join_into(&b, &d);
    crdt_fini(&d);
    assert_true(contains(&b, "x"));
    /* partition: b removes x, a re-adds x concurrently */
    bool existed;
    assert_int_equal(crdt_remove(&b, "x", 1, NULL, &existed), 0);
    assert_true(existed);
    assert_false(contains(&b, "x"));
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, NULL, &added), 0);
    assert_false(added);
    /* and b removes y that a added without b seeing it */
    assert_int_equal(crdt_set_add(&a, actor[0], "y", 1, NULL, NULL), 0);
    assert_int_equal(crdt_remove(&b, "y", 1, NULL, &existed), 0);
    assert_false(existed);
    struct crdt ab, ba;
    joined(&ab, &a, &b);
    joined(&ba, &b, &a);
    assert_true(same(&ab, &ba));
    assert_true(contains(&ab, "x")); /* the add b did not see wins */
    assert_true(contains(&ab, "y"));
    /* a remove that saw the add removes it for good */
    assert_int_equal(crdt_remove(&ab, "x", 1, &d, NULL), 0);
    join_into(&ba, &d);
    crdt_fini(&d);
    assert_false(contains(&ba, "x"));
    join_into(&ba, &a); /* an old state cannot bring it back */
    assert_false(contains(&ba, "x"));
    assert_int_equal(crdt_count(&ba), 1);
    /* no residue: the removed member leaves nothing but context */
    assert_null(crdt_find(&ba, "x", 1));
    crdt_fini(&a);
    crdt_fini(&b);
    crdt_fini(&ab);
    crdt_fini(&ba);
}

static void test_counter_partition(void **state)
{
    (void)state;
    struct crdt r[2], d;
    crdt_init(&r[0], CRDT_COUNTER);
    crdt_init(&r[1], CRDT_COUNTER);
    int64_t v;
    assert_int_equal(crdt_incr_int(&r[0], actor[0], "", 0, 10, &d, &v), 0);
    assert_int_equal(v, 10);
    join_into(&r[1], &d);
    crdt_fini(&d);
    for (int i = 0; i < 3; i++)
        assert_int_equal(crdt_incr_int(&r[0], actor[0], "", 0, 5, NULL, &v), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(crdt_incr_int(&r[1], actor[1], "", 0, -2, NULL, &v), 0);
    assert_int_equal(v, 2);
    join_into(&r[0], &r[1]);
    join_into(&r[1], &r[0]);
    assert_true(same(&r[0], &r[1]));
    value_is(&r[0], "", "17"); /* 10 + 15 - 8: both sides count */
    /* INCRBY on a SET base, then INCRBYFLOAT; INCR refuses the float */
    struct val *ten = val_create("10", 2);
    assert_int_equal(crdt_reg_set(&r[0], actor[0], "", 0, ten, NULL, NULL), 0);
    val_unref(ten);
    value_is(&r[0], "", "10");
    assert_int_equal(crdt_incr_int(&r[0], actor[2], "", 0, 1, NULL, &v), 0);
    assert_int_equal(v, 11);
    long double f;
    assert_int_equal(crdt_incr_float(&r[0], actor[2], "", 0, 0.5L, NULL, &f), 0);
    assert_true(f == 11.5L);
    value_is(&r[0], "", "11.5");
    assert_int_equal(crdt_incr_int(&r[0], actor[0], "", 0, 1, NULL, &v), KV_ENOTNUM);
    /* overflow is refused and changes nothing */
    struct crdt big;
    crdt_init(&big, CRDT_COUNTER);
    assert_int_equal(crdt_incr_int(&big, actor[0], "", 0, INT64_MAX, NULL, &v), 0);
    struct crdt before;
    crdt_init(&before, CRDT_NONE);
    crdt_copy(&before, &big);
    assert_int_equal(crdt_incr_int(&big, actor[1], "", 0, 1, &d, &v), KV_EOVERFLOW);
    assert_true(same(&before, &big));
    assert_int_equal(crdt_count(&d), 0);
    crdt_fini(&d);
    /* concurrent increments each in range can sum out of it: reads say so */
    struct crdt other;
    crdt_init(&other, CRDT_COUNTER);
    assert_int_equal(crdt_incr_int(&other, actor[1], "", 0, 5, NULL, &v), 0);
    join_into(&big, &other);
    struct buf b;
    buf_init(&b);
    assert_int_equal(crdt_value(crdt_find(&big, "", 0), CRDT_COUNTER, &b), KV_EOVERFLOW);
    buf_fini(&b);
    /* a counter has one element, the empty key */
    assert_int_equal(crdt_incr_int(&big, actor[1], "f", 1, 5, NULL, &v), KV_EINVAL);
    crdt_fini(&other);
    crdt_fini(&before);
    crdt_fini(&big);
    crdt_fini(&r[0]);
    crdt_fini(&r[1]);
}

static void test_hash_fields(void **state)
{
    (void)state;
    struct crdt a, b, d;
    crdt_init(&a, CRDT_HASH);
    crdt_init(&b, CRDT_HASH);
    hset(&a, 0, "name", "alice", &d);
    join_into(&b, &d);
    crdt_fini(&d);
    /* concurrent assignments stay side by side; reads pick the greatest */
    hset(&a, 0, "name", "bob", NULL);
    hset(&b, 1, "name", "carol", NULL);
    join_into(&a, &b);
    const struct crdt_elem *el = crdt_find(&a, "name", 4);
    assert_int_equal(crdt_reg_count(el), 2);
    value_is(&a, "name", "carol");
    /* an assignment that saw both resolves them */
    hset(&a, 2, "name", "dave", NULL);
    assert_int_equal(crdt_reg_count(crdt_find(&a, "name", 4)), 1);
    value_is(&a, "name", "dave");
    /* HINCRBY adds to the field's value; concurrent ones both count */
    hset(&a, 0, "n", "10", &d);
    join_into(&b, &a);
    crdt_fini(&d);
    int64_t v;
    assert_int_equal(crdt_incr_int(&a, actor[0], "n", 1, 5, NULL, &v), 0);
    assert_int_equal(v, 15);
    assert_int_equal(crdt_incr_int(&b, actor[1], "n", 1, 3, NULL, &v), 0);
    assert_int_equal(v, 13);
    join_into(&a, &b);
    value_is(&a, "n", "18");
    assert_int_equal(crdt_incr_int(&a, actor[0], "name", 4, 1, NULL, &v), KV_ENOTNUM);
    long double f;
    assert_int_equal(crdt_incr_float(&a, actor[1], "n", 1, 0.25L, NULL, &f), 0);
    value_is(&a, "n", "18.25");
    /* HDEL removes what it saw; a concurrent HINCRBY survives */
    crdt_fini(&b);
    crdt_init(&b, CRDT_NONE);
    crdt_copy(&b, &a);
    bool existed;
    assert_int_equal(crdt_remove(&a, "n", 1, NULL, &existed), 0);
    assert_true(existed);
    assert_null(crdt_find(&a, "n", 1));
    assert_int_equal(crdt_incr_int(&b, actor[2], "n", 1, 1, NULL, &v), KV_ENOTNUM); /* float */
    assert_int_equal(crdt_incr_float(&b, actor[2], "n", 1, 1.0L, NULL, &f), 0);
    join_into(&a, &b);
    value_is(&a, "n", "1"); /* only the unseen increment remains (actor 2's total) */
    assert_int_equal(crdt_count(&a), 2);
    crdt_fini(&a);
    crdt_fini(&b);
}

static void test_zset_scores(void **state)
{
    (void)state;
    struct crdt a, b, d;
    crdt_init(&a, CRDT_ZSET);
    crdt_init(&b, CRDT_ZSET);
    assert_int_equal(crdt_zset_add(&a, actor[0], "m", 1, 1.0, &d, NULL), 0);
    join_into(&b, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_zset_add(&a, actor[0], "m", 1, 1.5, NULL, NULL), 0);
    assert_int_equal(crdt_zset_add(&b, actor[1], "m", 1, 5.0, NULL, NULL), 0);
    join_into(&a, &b);
    double s;
    assert_int_equal(crdt_zset_score(&a, "m", 1, &s), 0);
    assert_true(s == 5.0); /* the largest concurrent score */
    assert_int_equal(crdt_reg_count(crdt_find(&a, "m", 1)), 2);
    join_into(&b, &a);
    long double r;
    assert_int_equal(crdt_incr_float(&a, actor[0], "m", 1, 2.0L, NULL, &r), 0);
    assert_true(r == 7.0L);
    assert_int_equal(crdt_incr_float(&b, actor[1], "m", 1, 3.0L, NULL, &r), 0);
    join_into(&a, &b);
    assert_int_equal(crdt_zset_score(&a, "m", 1, &s), 0);
    assert_true(s == 10.0);
    value_is(&a, "m", "10");
    assert_int_equal(crdt_zset_add(&a, actor[0], "m", 1, NAN, NULL, NULL), KV_ENOTNUM);
    assert_int_equal(crdt_zset_add(&a, actor[0], "inf", 3, INFINITY, NULL, NULL), 0);
    value_is(&a, "inf", "inf");
    assert_int_equal(crdt_incr_float(&a, actor[0], "inf", 3, -INFINITY, NULL, &r), KV_ENOTNUM);
    /* ZINCRBY on a new member starts from 0 */
    assert_int_equal(crdt_incr_float(&a, actor[2], "new", 3, 2.5L, NULL, &r), 0);
    assert_true(r == 2.5L);
    assert_int_equal(crdt_zset_score(&a, "new", 3, &s), 0);
    assert_true(s == 2.5);
    assert_int_equal(crdt_zset_score(&a, "none", 4, &s), KV_ENOTFOUND);
    /* wrong-type operations are refused */
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, NULL, NULL), KV_EINVAL);
    struct crdt set;
    crdt_init(&set, CRDT_SET);
    assert_int_equal(crdt_join(&set, &a), KV_EINVAL);
    crdt_fini(&set);
    crdt_fini(&a);
    crdt_fini(&b);
}

static void test_clear(void **state)
{
    (void)state;
    struct crdt a, b, d;
    crdt_init(&a, CRDT_SET);
    crdt_init(&b, CRDT_SET);
    char m[8];
    for (int i = 0; i < 50; i++) {
        int n = snprintf(m, sizeof(m), "m%d", i);
        assert_int_equal(crdt_set_add(&a, actor[0], m, (size_t)n, NULL, NULL), 0);
    }
    join_into(&b, &a);
    assert_int_equal(crdt_set_add(&b, actor[1], "late", 4, NULL, NULL), 0);
    assert_int_equal(crdt_clear(&a, &d), 0); /* DEL, concurrent with "late" */
    assert_int_equal(crdt_count(&a), 0);
    join_into(&b, &d);
    assert_int_equal(crdt_count(&b), 1);
    assert_true(contains(&b, "late"));
    roundtrip(&d);
    crdt_fini(&d);
    /* clearing a scoped delta leaves a context that covers anything: the
     * result must join as a full state */
    struct crdt c, e;
    crdt_init(&c, CRDT_NONE);
    crdt_copy(&c, &b);
    assert_int_equal(crdt_set_add(&b, actor[1], "later", 5, &d, NULL), 0);
    join_into(&d, &b); /* a scoped delta that has seen everything b holds */
    assert_int_equal(crdt_clear(&d, &e), 0);
    assert_false(d.scoped);
    join_into(&c, &d);
    assert_int_equal(crdt_count(&c), 0);
    crdt_fini(&e);
    crdt_fini(&d);
    crdt_fini(&c);
    crdt_fini(&a);
    crdt_fini(&b);
}

/* ---------------------------------------------------------------- */
/* random histories                                                   */

struct dotv {
    struct crdt_dot *d;
    size_t n, cap;
};

static void dv_add(struct dotv *v, uint32_t a, uint64_t k)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 64;
        v->d = mem_realloc(v->d, v->cap * sizeof(*v->d));
    }
    v->d[v->n++] = (struct crdt_dot){ .actor = a, .counter = k };
}

static int dot_qcmp(const void *pa, const void *pb)
{
    const struct crdt_dot *a = pa, *b = pb;
    if (a->actor != b->actor)
        return a->actor < b->actor ? -1 : 1;
    return (a->counter > b->counter) - (a->counter < b->counter);
}

static void dv_sort_unique(struct dotv *v)
{
    if (v->n == 0)
        return;
    qsort(v->d, v->n, sizeof(*v->d), dot_qcmp);
    size_t w = 0;
    for (size_t i = 0; i < v->n; i++)
        if (w == 0 || dot_qcmp(&v->d[w - 1], &v->d[i]) != 0)
            v->d[w++] = v->d[i];
    v->n = w;
}

static bool dv_has(const struct dotv *v, const struct crdt_dot *x)
{
    return v->n && bsearch(x, v->d, v->n, sizeof(*v->d), dot_qcmp) != NULL;
}

static bool collect_entries(const struct crdt_elem *el, void *arg)
{
    for (uint32_t i = 0; i < el->n; i++)
        dv_add(arg, el->e[i].actor, el->e[i].counter);
    return true;
}

struct history {
    struct crdt rep[NREP];
    struct crdt *delta; /* every delta produced */
    size_t nd, capd;
    struct dotv created, removed;
    int64_t incr_sum;   /* counters without resets */
    bool resets;        /* some operation could reset a counter */
};

static void record_delta(struct history *h, struct crdt *d)
{
    /* the op's new dot vs the dots it superseded */
    struct dotv mine = { 0 };
    crdt_each(d, collect_entries, &mine);
    for (size_t i = 0; i < mine.n; i++)
        dv_add(&h->created, mine.d[i].actor, mine.d[i].counter);
    dv_sort_unique(&mine);
    for (uint32_t i = 0; i < d->vc.n; i++)
        for (uint64_t k = 1; k <= d->vc.e[i].counter; k++) {
            struct crdt_dot x = { .actor = d->vc.e[i].actor, .counter = k };
            if (!dv_has(&mine, &x))
                dv_add(&h->removed, x.actor, x.counter);
        }
    for (uint32_t i = 0; i < d->ncloud; i++)
        if (!dv_has(&mine, &d->cloud[i]))
            dv_add(&h->removed, d->cloud[i].actor, d->cloud[i].counter);
    mem_free(mine.d);
    if (h->nd == h->capd) {
        h->capd = h->capd ? h->capd * 2 : 64;
        h->delta = mem_realloc(h->delta, h->capd * sizeof(*h->delta));
    }
    h->delta[h->nd++] = *d; /* moved */
}

static void elem_name(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "e%u", i);
}

/* One random operation of type t at replica r; its delta is recorded and
 * checked against state-before ⊔ delta. */
static void random_op(struct history *h, uint8_t t, int r)
{
    struct crdt *c = &h->rep[r];
    struct crdt before, d;
    crdt_init(&before, CRDT_NONE);
    crdt_copy(&before, c);
    char key[16];
    elem_name(key, sizeof(key), rnd_below(NELEM));
    size_t kl = strlen(key);
    unsigned p = rnd_below(100);
    int rc;
    if (p < 3) {
        rc = crdt_clear(c, &d);
        h->resets = true;
    } else if (t == CRDT_SET) {
        rc = p < 65 ? crdt_set_add(c, actor[r], key, kl, &d, NULL)
                    : crdt_remove(c, key, kl, &d, NULL);
    } else if (t == CRDT_COUNTER) {
        int64_t by = (int64_t)rnd_below(11) - 5, res;
        if (p < 8) {
            struct val *v = val_create("7", 1);
            rc = crdt_reg_set(c, actor[r], "", 0, v, &d, NULL);
            val_unref(v);
            h->resets = true;
        } else {
            rc = crdt_incr_int(c, actor[r], "", 0, by, &d, &res);
            if (rc == 0)
                h->incr_sum += by;
        }
    } else if (t == CRDT_HASH) {
        if (p < 40) {
            char v[16];
            int n = snprintf(v, sizeof(v), "%u", rnd_below(1000));
            struct val *x = val_create(v, (size_t)n);
            rc = crdt_reg_set(c, actor[r], key, kl, x, &d, NULL);
            val_unref(x);
        } else if (p < 60) {
            rc = crdt_remove(c, key, kl, &d, NULL);
        } else if (p < 95) {
            int64_t res;
            rc = crdt_incr_int(c, actor[r], key, kl, (int64_t)rnd_below(7) - 3, &d, &res);
        } else {
            long double res;
            rc = crdt_incr_float(c, actor[r], key, kl, 0.5L, &d, &res);
        }
    } else {
        if (p < 45) {
            rc = crdt_zset_add(c, actor[r], key, kl, (double)rnd_below(20) - 5, &d, NULL);
        } else if (p < 75) {
            long double res;
            rc = crdt_incr_float(c, actor[r], key, kl, (long double)rnd_below(5) - 2, &d, &res);
        } else {
            rc = crdt_remove(c, key, kl, &d, NULL);
        }
    }
    if (rc == 0) {
        struct crdt expect;
        joined(&expect, &before, &d);
        PROP(same(&expect, c));
        crdt_fini(&expect);
        record_delta(h, &d);
    } else {
        PROP(rc == KV_ENOTNUM); /* a hash field holding a float refuses HINCRBY */
        PROP(same(&before, c));
        crdt_fini(&d);
    }
    crdt_fini(&before);
}

static void check_laws(const struct crdt *s)
{
    struct crdt ab, ba, x, y, ii;
    for (int i = 0; i < NREP; i++) {
        joined(&ii, &s[i], &s[i]);
        PROP(same(&ii, &s[i])); /* idempotent */
        crdt_fini(&ii);
        for (int j = i + 1; j < NREP; j++) {
            joined(&ab, &s[i], &s[j]);
            joined(&ba, &s[j], &s[i]);
            PROP(same(&ab, &ba)); /* commutative */
            joined(&ii, &ab, &s[i]);
            PROP(same(&ii, &ab)); /* absorbs what it already holds */
            crdt_fini(&ii);
            crdt_fini(&ab);
            crdt_fini(&ba);
        }
    }
    joined(&ab, &s[0], &s[1]);
    joined(&x, &ab, &s[2]);
    joined(&ba, &s[1], &s[2]);
    joined(&y, &s[0], &ba);
    PROP(same(&x, &y)); /* associative */
    crdt_fini(&ab);
    crdt_fini(&ba);
    crdt_fini(&x);
    crdt_fini(&y);
}

static void run_history(uint8_t t)
{
    struct history h;
    memset(&h, 0, sizeof(h));
    for (int i = 0; i < NREP; i++)
        crdt_init(&h.rep[i], t);
    /* delivered[i] bit r: delta i reached replica r */
    for (int step = 0; step < STEPS; step++) {
        unsigned p = rnd_below(100);
        if (p < 45 || h.nd == 0) {
            random_op(&h, t, (int)rnd_below(NREP));
        } else if (p < 92) { /* deliver a random delta (maybe again, maybe never) */
            join_into(&h.rep[rnd_below(NREP)], &h.delta[rnd_below((unsigned)h.nd)]);
        } else { /* anti-entropy: a full state */
            int x = (int)rnd_below(NREP), y = (int)rnd_below(NREP);
            join_into(&h.rep[y], &h.rep[x]);
        }
    }
    check_laws(h.rep);
    for (int i = 0; i < NREP; i++)
        roundtrip(&h.rep[i]);

    struct crdt full, tmp;
    joined(&tmp, &h.rep[0], &h.rep[1]);
    joined(&full, &tmp, &h.rep[2]);
    crdt_fini(&tmp);
    for (int i = 0; i < NREP; i++)
        PROP(crdt_ctx_covers(&full, &h.rep[i]));

    /* deltas alone: every delta, random order, some twice, to each replica
     * and to an empty state */
    struct crdt fresh;
    crdt_init(&fresh, t);
    size_t *order = mem_alloc(h.nd * 2 * sizeof(*order) + 1);
    for (int r = 0; r <= NREP; r++) {
        size_t n = 0;
        for (size_t i = 0; i < h.nd; i++) {
            order[n++] = i;
            if (rnd_below(4) == 0)
                order[n++] = i;
        }
        for (size_t i = n; i > 1; i--) {
            size_t j = rnd_below((unsigned)i);
            size_t s = order[i - 1];
            order[i - 1] = order[j];
            order[j] = s;
        }
        struct crdt *dst = r < NREP ? &h.rep[r] : &fresh;
        for (size_t i = 0; i < n; i++)
            join_into(dst, &h.delta[order[i]]);
        PROP(same(dst, &full));
        PROP(crdt_digest("k", 1, dst) == crdt_digest("k", 1, &full));
    }
    mem_free(order);

    /* surviving entries = created - observed-removed */
    dv_sort_unique(&h.removed);
    struct dotv want = { 0 }, have = { 0 };
    for (size_t i = 0; i < h.created.n; i++)
        if (!dv_has(&h.removed, &h.created.d[i]))
            dv_add(&want, h.created.d[i].actor, h.created.d[i].counter);
    crdt_each(&full, collect_entries, &have);
    dv_sort_unique(&want);
    dv_sort_unique(&have);
    PROP(want.n == have.n);
    for (size_t i = 0; i < want.n; i++)
        PROP(dot_qcmp(&want.d[i], &have.d[i]) == 0);
    if (t == CRDT_COUNTER && !h.resets && h.nd) {
        struct crdt_num num;
        PROP(crdt_num(crdt_find(&full, "", 0), t, &num) == 0);
        PROP(!num.is_float && num.i == h.incr_sum);
    }
    /* the context has caught up: no dot left out of order */
    PROP(full.ncloud == 0);
    roundtrip(&full);

    mem_free(want.d);
    mem_free(have.d);
    mem_free(h.created.d);
    mem_free(h.removed.d);
    for (size_t i = 0; i < h.nd; i++)
        crdt_fini(&h.delta[i]);
    mem_free(h.delta);
    for (int i = 0; i < NREP; i++)
        crdt_fini(&h.rep[i]);
    crdt_fini(&fresh);
    crdt_fini(&full);
}

static void test_prop_set(void **state)
{
    (void)state;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_SET);
}

static void test_prop_counter(void **state)
{
    (void)state;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_COUNTER);
}

static void test_prop_hash(void **state)
{
    (void)state;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_HASH);
}

static void test_prop_zset(void **state)
{
    (void)state;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_ZSET);
}

/* ---------------------------------------------------------------- */
/* codec                                                              */

/* A small state of each type with several actors, a cloud and values. */
static void sample(struct crdt *c, uint8_t t)
{
    crdt_init(c, t);
    struct crdt other, d;
    crdt_init(&other, t);
    for (int i = 0; i < 8; i++) {
        char key[8];
        elem_name(key, sizeof(key), (unsigned)i % 4);
        size_t kl = t == CRDT_COUNTER ? 0 : strlen(key);
        /* each actor writes at one replica only: dots stay unique */
        struct crdt *dst = i % 2 ? &other : c;
        int r = i % 2 ? 2 : (i / 2) % 2;
        if (t == CRDT_SET)
            crdt_set_add(dst, actor[r], key, kl, &d, NULL);
        else if (t == CRDT_ZSET)
            crdt_zset_add(dst, actor[r], key, kl, i * 1.25, &d, NULL);
        else if (i % 3 == 0)
            hset(dst, r, t == CRDT_COUNTER ? "" : key, "12", &d);
        else {
            int64_t v;
            crdt_incr_int(dst, actor[r], key, kl, -3 * i, &d, &v);
        }
        if (i == 5)
            join_into(c, &d); /* leaves a dot of `other` out of order in c */
        crdt_fini(&d);
    }
    crdt_fini(&other);
}

static void test_codec_roundtrip(void **state)
{
    (void)state;
    for (uint8_t t = CRDT_COUNTER; t < CRDT_TYPE_COUNT; t++) {
        struct crdt c;
        sample(&c, t);
        roundtrip(&c);
        struct crdt d;
        assert_int_equal(crdt_remove(&c, "e1", 2, &d, NULL), 0);
        roundtrip(&d); /* a scoped delta, maybe with an empty element */
        crdt_fini(&d);
        crdt_fini(&c);
    }
    struct crdt e;
    crdt_init(&e, CRDT_SET);
    roundtrip(&e);
    crdt_fini(&e);
}

/* Every truncation is refused, and every single-byte change is either
 * refused or decodes to a state that re-encodes to exactly those bytes. */
static void test_codec_malformed(void **state)
{
    (void)state;
    for (uint8_t t = CRDT_COUNTER; t < CRDT_TYPE_COUNT; t++) {
        struct crdt c, d;
        sample(&c, t);
        struct buf b, r;
        buf_init(&b);
        buf_init(&r);
        crdt_encode(&c, &b);
        for (size_t n = 0; n < b.len; n++) {
            PROP(crdt_decode(&d, b.data, n, 1u << 20, 1u << 20) != 0);
            PROP(d.type == CRDT_NONE && d.nelem == 0);
        }
        uint8_t *m = mem_alloc(b.len);
        for (size_t i = 0; i < b.len; i++) {
            for (int k = 0; k < 24; k++) {
                memcpy(m, b.data, b.len);
                m[i] = k < 8 ? (uint8_t)(m[i] ^ (1u << k)) : (uint8_t)rnd();
                int rc = crdt_decode(&d, m, b.len, 1u << 20, 1u << 20);
                if (rc == 0) {
                    r.len = 0;
                    crdt_encode(&d, &r);
                    PROP(r.len == b.len && memcmp(r.data, m, b.len) == 0);
                    struct crdt j;
                    joined(&j, &d, &d);
                    PROP(same(&j, &d));
                    crdt_fini(&j);
                } else {
                    PROP(rc == KV_EPROTO || rc == KV_EBADCTX);
                }
                crdt_fini(&d);
            }
        }
        mem_free(m);
        /* limits: a key or value longer than the caller allows */
        PROP(crdt_decode(&d, b.data, b.len, 1, 1u << 20) == (t == CRDT_COUNTER ? 0 : KV_EPROTO));
        crdt_fini(&d);
        PROP(crdt_decode(&d, b.data, b.len, 1u << 20, 1) ==
             (t == CRDT_HASH || t == CRDT_COUNTER ? KV_EPROTO : 0));
        crdt_fini(&d);
        buf_fini(&b);
        buf_fini(&r);
        crdt_fini(&c);
    }
    /* counts far beyond the input are refused before any allocation */
    const uint8_t huge_actors[] = { 1, CRDT_SET, 0, 0xff, 0xff, 0xff, 0xff, 0x0f };
    const uint8_t huge_elems[] = { 1, CRDT_SET, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f };
    const uint8_t bad_type[] = { 1, 9, 0, 0, 0, 0, 0 };
    const uint8_t bad_flag[] = { 1, CRDT_SET, 2, 0, 0, 0, 0 };
    const uint8_t empty_ok[] = { 1, CRDT_SET, 0, 0, 0, 0, 0 };
    const uint8_t empty_elem[] = { 1, CRDT_SET, 0, 0, 0, 0, 1, 1, 'x', 0 };
    const uint8_t unused_actor[] = { 1, CRDT_SET, 0, 1, 2, 'n', '9', 0, 0, 0 };
    const uint8_t dot_outside[] = { 1, CRDT_SET, 0, 1, 2, 'n', '9', 1, 0, 1, 0,
                                    1, 1, 'x', 1, CRDT_K_MEMBER, 0, 2 };
    const uint8_t dot_twice[] = { 1, CRDT_SET, 0, 1, 2, 'n', '9', 1, 0, 1, 0,
                                  2, 1, 'x', 1, CRDT_K_MEMBER, 0, 1,
                                  1, 'y', 1, CRDT_K_MEMBER, 0, 1 };
    const uint8_t dot_ok[] = { 1, CRDT_SET, 0, 1, 2, 'n', '9', 1, 0, 1, 0,
                               1, 1, 'x', 1, CRDT_K_MEMBER, 0, 1 };
    struct crdt d;
    PROP(crdt_decode(&d, huge_actors, sizeof(huge_actors), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, huge_elems, sizeof(huge_elems), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, bad_type, sizeof(bad_type), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, bad_flag, sizeof(bad_flag), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, empty_elem, sizeof(empty_elem), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, unused_actor, sizeof(unused_actor), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, dot_outside, sizeof(dot_outside), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, dot_twice, sizeof(dot_twice), 64, 64) == KV_EPROTO);
    PROP(crdt_decode(&d, empty_ok, sizeof(empty_ok), 64, 64) == 0);
    crdt_fini(&d);
    PROP(crdt_decode(&d, dot_ok, sizeof(dot_ok), 64, 64) == 0);
    PROP(contains(&d, "x"));
    crdt_fini(&d);
}

/* The digest ignores actor ids and table order, and sees every change. */
static void test_digest(void **state)
{
    (void)state;
    struct crdt a, b;
    crdt_init(&a, CRDT_SET);
    crdt_init(&b, CRDT_SET);
    const char *m[] = { "a", "b", "c", "d" };
    for (int i = 0; i < 4; i++)
        crdt_set_add(&a, actor[0], m[i], 1, NULL, NULL);
    struct buf enc;
    buf_init(&enc);
    crdt_encode(&a, &enc);
    crdt_fini(&b);
    assert_int_equal(crdt_decode(&b, enc.data, enc.len, 64, 64), 0);
    assert_int_equal(crdt_digest("k", 1, &a), crdt_digest("k", 1, &b));
    assert_int_not_equal(crdt_digest("k", 1, &a), crdt_digest("j", 1, &a));
    crdt_remove(&b, "c", 1, NULL, NULL);
    assert_int_not_equal(crdt_digest("k", 1, &a), crdt_digest("k", 1, &b));
    crdt_set_add(&b, actor[0], "c", 1, NULL, NULL); /* same members, new dot */
    assert_int_not_equal(crdt_digest("k", 1, &a), crdt_digest("k", 1, &b));
    buf_fini(&enc);
    crdt_fini(&a);
    crdt_fini(&b);
}

/* Deltas stay O(element): a SADD to a big set ships one member. */
static void test_delta_size(void **state)
{
    (void)state;
    struct crdt c, d;
    crdt_init(&c, CRDT_SET);
    char m[16];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(m, sizeof(m), "member:%d", i);
        crdt_set_add(&c, actor[i % NREP], m, (size_t)n, NULL, NULL);
    }
    assert_int_equal(crdt_set_add(&c, actor[0], "new", 3, &d, NULL), 0);
    struct buf b;
    buf_init(&b);
    crdt_encode(&d, &b);
    assert_int_equal(crdt_count(&d), 1);
    assert_true(b.len < 40);
    struct crdt copy;
    crdt_init(&copy, CRDT_NONE);
    crdt_copy(&copy, &c);
    crdt_fini(&d);
    assert_int_equal(crdt_remove(&c, "member:7", 8, &d, NULL), 0);
    b.len = 0;
    crdt_encode(&d, &b);
    assert_true(b.len < 40);
    join_into(&copy, &d);
    assert_true(same(&copy, &c));
    assert_int_equal(crdt_count(&copy), 20000);
    buf_fini(&b);
    crdt_fini(&d);
    crdt_fini(&copy);
    crdt_fini(&c);
}

int main(void)
{
    const char *env = getenv("KV_TEST_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 0);
    /* interned in reverse name order, so ids and names disagree */
    actor[2] = vc_actor_intern("n3.1764064488300", 16);
    actor[1] = vc_actor_intern("n2.1764064488200", 16);
    actor[0] = vc_actor_intern("n1.1764064488100", 16);
    print_message("test_crdt: seed %llu (set KV_TEST_SEED to change)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_set_add_wins, setup),
        cmocka_unit_test_setup(test_counter_partition, setup),
        cmocka_unit_test_setup(test_hash_fields, setup),
        cmocka_unit_test_setup(test_zset_scores, setup),
        cmocka_unit_test_setup(test_clear, setup),
        cmocka_unit_test_setup(test_prop_set, setup),
        cmocka_unit_test_setup(test_prop_counter, setup),
        cmocka_unit_test_setup(test_prop_hash, setup),
        cmocka_unit_test_setup(test_prop_zset, setup),
        cmocka_unit_test_setup(test_codec_roundtrip, setup),
        cmocka_unit_test_setup(test_codec_malformed, setup),
        cmocka_unit_test_setup(test_digest, setup),
        cmocka_unit_test_setup(test_delta_size, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
