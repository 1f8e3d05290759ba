/* test_crdt_laws.c — the convergent types' join laws and delta delivery
 * as randomized property tests (core/crdt.h; semantics and codec cases are
 * in test_crdt.c, the context, holes and expiry in test_crdt_ctx.c).
 *
 * Property tests run thousands of random operation histories per type over
 * three replicas (actors n1, n2, n3) with deltas delivered in random order,
 * duplicated, or not at all, plus occasional full-state syncs, and check:
 *   - every operation's result equals state-before ⊔ its delta, and
 *     every operation that changes the state mints exactly one dot (the
 *     actor's next, in the state's and the delta's context), a no-op
 *     removal none (empty delta);
 *   - the state is a function of its context and holes: every replica,
 *     and every state joined from a random subset of the deltas (in
 *     random order, so often not causally), equals the empty state joined,
 *     in another random order, with exactly the deltas whose minted dot it
 *     has seen and not as a hole — same context, same holes, same state;
 *   - join is commutative, associative and idempotent on the replicas'
 *     states;
 *   - delivering every delta to every replica (random order, some twice),
 *     or to an empty state, or some of them joined into one delta group
 *     first, gives the full-state join of all replicas;
 *   - the surviving entries (of elements and of the expiry register, which
 *     EXPIRE/PERSIST set) are exactly the ones created by operations
 *     minus the ones some operation observed and superseded (nothing
 *     acknowledged is lost, nothing removed comes back): an add concurrent
 *     with a remove is kept;
 *   - counters without resets add up every increment of every replica;
 *   - encode/decode round trips, the bytes and digests are equal on every
 *     converged replica.
 * The seed is fixed; KV_TEST_SEED=<n> replays another one, and every failure
 * names the seed. */
#include "crdt_testlib.h"

#define HISTORIES 600 /* per type */
#define STEPS 120     /* per history */
#define NELEM 6       /* small universe: operations collide often */

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

/* The expiry register's entries count as entries (their dots likewise). */
static void collect_expiry(const struct crdt *c, struct dotv *v)
{
    for (uint32_t i = 0; i < c->nexp; i++)
        dv_add(v, c->exp[i].actor, c->exp[i].counter);
}

static unsigned concurrent_expiry; /* histories ending with concurrent EXPIREs */

struct history {
    struct crdt rep[NREP];
    struct crdt *delta; /* every delta produced */
    struct crdt_dot *mint; /* per delta: the dot its operation minted */
    size_t nd, capd;
    struct dotv created, removed;
    int64_t incr_sum;   /* counters without resets */
    bool resets;        /* some operation could reset a counter */
};

static void record_delta(struct history *h, struct crdt *d, uint32_t ma, uint64_t mk)
{
    /* the op's new dot vs the dots it superseded */
    struct dotv mine = { 0 };
    crdt_each(d, collect_entries, &mine);
    collect_expiry(d, &mine);
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
        h->mint = mem_realloc(h->mint, h->capd * sizeof(*h->mint));
    }
    h->mint[h->nd] = (struct crdt_dot){ .actor = ma, .counter = mk };
    h->delta[h->nd++] = *d; /* moved */
}

/* Dots in c's context. */
static uint64_t ctx_size(const struct crdt *c)
{
    uint64_t n = c->ncloud;
    for (uint32_t i = 0; i < c->vc.n; i++)
        n += c->vc.e[i].counter;
    return n;
}

static bool ctx_equal(const struct crdt *a, const struct crdt *b)
{
    return crdt_ctx_covers(a, b) && crdt_ctx_covers(b, a);
}

/* One random operation of type t at replica r; its delta is recorded and
 * checked against state-before ⊔ delta, and the dots it minted counted. */
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
    uint64_t next = crdt_next_counter(c, actor[r]);
    bool existed = true; /* false: a removal of an absent element */
    int rc;
    if (p < 3) {
        rc = crdt_clear(c, actor[r], &d);
        h->resets = true;
    } else if (p < 7) { /* EXPIRE (a few distinct times) or PERSIST */
        int64_t ms = rnd_below(3) ? 1000 + (int64_t)rnd_below(4) : 0;
        rc = crdt_expire_set(c, actor[r], ms, &d);
        PROP(rc != 0 || crdt_expire(c) == ms);
    } else if (t == CRDT_SET) {
        rc = p < 65 ? crdt_set_add(c, actor[r], key, kl, &d, NULL)
                    : crdt_remove(c, actor[r], key, kl, &d, &existed);
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
            rc = crdt_remove(c, actor[r], key, kl, &d, &existed);
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
            rc = crdt_remove(c, actor[r], key, kl, &d, &existed);
        }
    }
    if (rc == 0) {
        struct crdt expect;
        joined(&expect, &before, &d);
        PROP(same(&expect, c));
        crdt_fini(&expect);
        if (!existed) { /* no change, no dot, nothing to ship */
            PROP(same(&before, c));
            PROP(crdt_count(&d) == 0 && d.nelem == 0 && d.vc.n == 0 && d.ncloud == 0);
            crdt_fini(&d);
        } else { /* exactly one new dot: the actor's next */
            PROP(ctx_size(c) == ctx_size(&before) + 1);
            PROP(!crdt_ctx_has(&before, actor[r], next) && crdt_ctx_has(c, actor[r], next));
            PROP(crdt_ctx_has(&d, actor[r], next) && crdt_ctx_covers(c, &d));
            record_delta(h, &d, actor[r], next);
        }
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

static void shuffle(size_t *v, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = rnd_below((unsigned)i);
        size_t x = v[i - 1];
        v[i - 1] = v[j];
        v[j] = x;
    }
}

/* s (a full state of h's key) equals the empty state joined, in random
 * order, with exactly the deltas whose minted dot s has applied (in its
 * context, not a hole): s is a function of its context and holes. */
static void check_ctx_determines(const struct history *h, const struct crdt *s, uint8_t t)
{
    size_t *order = mem_alloc(h->nd * sizeof(*order) + 1), n = 0;
    for (size_t i = 0; i < h->nd; i++)
        if (crdt_ctx_has(s, h->mint[i].actor, h->mint[i].counter) &&
            !crdt_hole_has(s, h->mint[i].actor, h->mint[i].counter))
            order[n++] = i;
    shuffle(order, n);
    struct crdt f;
    crdt_init(&f, t);
    for (size_t i = 0; i < n; i++)
        join_into(&f, &h->delta[order[i]]);
    PROP(ctx_equal(&f, s));
    PROP(same(&f, s)); /* holes included */
    crdt_fini(&f);
    mem_free(order);
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

    /* the context and holes determine the state: each replica, and states
     * joined from random subsets of the deltas (once with a replica) */
    for (int i = 0; i < NREP; i++)
        check_ctx_determines(&h, &h.rep[i], t);
    for (int k = 0; k < 4; k++) {
        struct crdt sub;
        crdt_init(&sub, t);
        if (k == 3)
            join_into(&sub, &h.rep[rnd_below(NREP)]);
        size_t *order = mem_alloc(h.nd * sizeof(*order) + 1), n = 0;
        for (size_t i = 0; i < h.nd; i++)
            if (rnd_below(2))
                order[n++] = i;
        shuffle(order, n);
        for (size_t i = 0; i < n; i++)
            join_into(&sub, &h.delta[order[i]]);
        mem_free(order);
        check_ctx_determines(&h, &sub, t);
        crdt_fini(&sub);
    }


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
        PROP(crdt_ctx_digest(dst) == crdt_ctx_digest(&full));
    }
    /* delta groups: a random subset joined into one scoped delta (its
     * scope, expiry scope and holes the union of theirs), applied among
     * the other deltas, gives the same state */
    if (h.nd) {
        struct crdt group, g2;
        crdt_init(&group, CRDT_NONE);
        crdt_init(&g2, t);
        size_t n = 0;
        for (size_t i = 0; i < h.nd; i++)
            order[n++] = i;
        shuffle(order, n);
        size_t cut = rnd_below((unsigned)n) + 1;
        crdt_copy(&group, &h.delta[order[0]]);
        for (size_t i = 1; i < cut; i++)
            join_into(&group, &h.delta[order[i]]);
        roundtrip(&group);
        size_t when = cut + rnd_below((unsigned)(n - cut + 1));
        for (size_t i = cut; i <= n; i++) {
            if (i == when)
                join_into(&g2, &group);
            if (i < n)
                join_into(&g2, &h.delta[order[i]]);
        }
        PROP(same(&g2, &full));
        crdt_fini(&group);
        crdt_fini(&g2);
    }
    mem_free(order);

    /* surviving entries = created - observed-removed */
    dv_sort_unique(&h.removed);
    struct dotv want = { 0 }, have = { 0 };
    for (size_t i = 0; i < h.created.n; i++)
        if (!dv_has(&h.removed, &h.created.d[i]))
            dv_add(&want, h.created.d[i].actor, h.created.d[i].counter);
    crdt_each(&full, collect_entries, &have);
    collect_expiry(&full, &have);
    dv_sort_unique(&want);
    dv_sort_unique(&have);
    PROP(want.n == have.n);
    for (size_t i = 0; i < want.n; i++)
        PROP(dot_qcmp(&want.d[i], &have.d[i]) == 0);
    concurrent_expiry += full.nexp > 1;
    if (t == CRDT_COUNTER && !h.resets && h.nd) {
        struct crdt_num num;
        PROP(crdt_num(crdt_find(&full, "", 0), t, &num) == 0);
        PROP(!num.is_float && num.i == h.incr_sum);
    }
    /* the context has caught up: no dot left out of order, no hole */
    PROP(full.ncloud == 0 && full.nhole == 0);
    roundtrip(&full);

    mem_free(want.d);
    mem_free(have.d);
    mem_free(h.created.d);
    mem_free(h.removed.d);
    for (size_t i = 0; i < h.nd; i++)
        crdt_fini(&h.delta[i]);
    mem_free(h.delta);
    mem_free(h.mint);
    for (int i = 0; i < NREP; i++)
        crdt_fini(&h.rep[i]);
    crdt_fini(&fresh);
    crdt_fini(&full);
}

static void test_prop_set(void **state)
{
    (void)state;
    concurrent_expiry = 0;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_SET);
    PROP(concurrent_expiry > 0); /* the histories exercised them */
}

static void test_prop_counter(void **state)
{
    (void)state;
    concurrent_expiry = 0;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_COUNTER);
    PROP(concurrent_expiry > 0); /* the histories exercised them */
}

static void test_prop_hash(void **state)
{
    (void)state;
    concurrent_expiry = 0;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_HASH);
    PROP(concurrent_expiry > 0); /* the histories exercised them */
}

static void test_prop_zset(void **state)
{
    (void)state;
    concurrent_expiry = 0;
    for (int i = 0; i < HISTORIES; i++)
        run_history(CRDT_ZSET);
    PROP(concurrent_expiry > 0); /* the histories exercised them */
}

int main(void)
{
    crdt_test_init("test_crdt_laws");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_prop_set, setup),
        cmocka_unit_test_setup(test_prop_counter, setup),
        cmocka_unit_test_setup(test_prop_hash, setup),
        cmocka_unit_test_setup(test_prop_zset, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
