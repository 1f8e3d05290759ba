/* test_crdt_iter.c — the cursor scan and the random picks over a state's
 * elements (core/crdt_iter.c) and crdt_parse_float: a scan returns every
 * element present throughout, also when the table grows and elements move
 * (deletions shift runs) between steps; picks are distinct when asked,
 * uniform (chi-square against a fixed bound, seeded so the verdict is
 * reproducible), and cheap on a table that lost most of its elements.
 * Also the two number texts the hash commands rely on: crdt_parse_float
 * (Redis's string2ld) and how a float value prints (crdt_value). */
#include "crdt_testlib.h"

#define N 2000

static int mkey(char *m, size_t cap, unsigned i)
{
    return snprintf(m, cap, "m:%u", i);
}

static void add(struct crdt *c, unsigned i)
{
    char m[16];
    int n = mkey(m, sizeof(m), i);
    assert_int_equal(crdt_set_add(c, actor[0], m, (size_t)n, NULL, NULL), 0);
}

static void del(struct crdt *c, unsigned i)
{
    char m[16];
    int n = mkey(m, sizeof(m), i);
    assert_int_equal(crdt_remove(c, actor[0], m, (size_t)n, NULL, NULL), 0);
}

static unsigned index_of(const struct crdt_elem *el)
{
    char m[16];
    assert_true(el->klen < sizeof(m));
    memcpy(m, crdt_elem_key(el), el->klen);
    m[el->klen] = '\0';
    assert_true(strncmp(m, "m:", 2) == 0);
    return (unsigned)strtoul(m + 2, NULL, 10);
}

struct seen {
    unsigned hits[N * 4];
    unsigned calls;
};

static bool note(const struct crdt_elem *el, void *arg)
{
    struct seen *s = arg;
    unsigned i = index_of(el);
    assert_true(i < N * 4);
    s->hits[i]++;
    s->calls++;
    return true;
}

static void test_scan_whole(void **state)
{
    (void)state;
    struct crdt c;
    crdt_init(&c, CRDT_SET);
    struct seen *s = mem_calloc(1, sizeof(*s));
    /* empty state: done at once */
    assert_int_equal(crdt_scan(&c, 0, 10, note, s), 0);
    assert_int_equal(s->calls, 0);
    for (unsigned i = 0; i < N; i++)
        add(&c, i);
    uint64_t cur = 0;
    unsigned steps = 0;
    do {
        unsigned before = s->calls;
        cur = crdt_scan(&c, cur, 1 + rnd_below(30), note, s);
        PROP(s->calls >= before); /* a step may find nothing, never fails */
        steps++;
    } while (cur != 0);
    /* a stable table: every element exactly once */
    for (unsigned i = 0; i < N; i++)
        PROP(s->hits[i] == 1);
    PROP(steps > 10);
    crdt_fini(&c);
    mem_free(s);
}

static void test_scan_while_changing(void **state)
{
    (void)state;
    for (int round = 0; round < 20; round++) {
        struct crdt c;
        crdt_init(&c, CRDT_SET);
        struct seen *s = mem_calloc(1, sizeof(*s));
        /* 0..N-1 stay; N..2N-1 come and go; 2N.. arrive (the table doubles
         * more than once while the scan runs) */
        unsigned stable = 50 + rnd_below(N - 50);
        for (unsigned i = 0; i < stable; i++)
            add(&c, i);
        for (unsigned i = N; i < N + stable / 2; i++)
            add(&c, i);
        unsigned next_new = 2 * N;
        uint64_t cur = 0;
        do {
            cur = crdt_scan(&c, cur, 1 + rnd_below(20), note, s);
            for (int k = 0; k < 8; k++) {
                unsigned j = N + rnd_below(N);
                if (rnd_below(2))
                    add(&c, j);
                else
                    del(&c, j); /* shifts the runs after it */
            }
            if (next_new < 4 * N - 40)
                for (int k = 0; k < 40; k++)
                    add(&c, next_new++);
        } while (cur != 0);
        for (unsigned i = 0; i < stable; i++)
            PROP(s->hits[i] >= 1);
        crdt_fini(&c);
        mem_free(s);
    }
}

struct picks {
    unsigned hits[N];
    unsigned n;
    unsigned stop_after; /* 0 = never stop */
};

static bool pick_note(const struct crdt_elem *el, void *arg)
{
    struct picks *p = arg;
    unsigned i = index_of(el);
    assert_true(i < N);
    p->hits[i]++;
    p->n++;
    return p->stop_after == 0 || p->n < p->stop_after;
}

/* Pearson's chi-square of the hits of elements lo..hi-1 (equal weights). */
static double chi_square(const struct picks *p, unsigned lo, unsigned hi)
{
    double total = 0;
    for (unsigned i = lo; i < hi; i++)
        total += p->hits[i];
    double expect = total / (hi - lo), x = 0;
    for (unsigned i = lo; i < hi; i++)
        x += (p->hits[i] - expect) * (p->hits[i] - expect) / expect;
    return x;
}

static void test_pick(void **state)
{
    (void)state;
    uint64_t rng = seed;
    struct crdt c;
    crdt_init(&c, CRDT_SET);
    struct picks *p = mem_calloc(1, sizeof(*p));
    crdt_pick(&c, 5, false, &rng, pick_note, p); /* empty: nothing */
    assert_int_equal(p->n, 0);
    for (unsigned i = 0; i < 10; i++)
        add(&c, i);
    /* distinct, count reaching the size: every element once */
    crdt_pick(&c, 20, true, &rng, pick_note, p);
    assert_int_equal(p->n, 10);
    for (unsigned i = 0; i < 10; i++)
        assert_int_equal(p->hits[i], 1);
    /* repeated picks: uniform over the 10 (df 9: 40 is p < 0.00001) */
    memset(p, 0, sizeof(*p));
    crdt_pick(&c, 10000, false, &rng, pick_note, p);
    assert_int_equal(p->n, 10000);
    PROP(chi_square(p, 0, 10) < 40);
    /* the callback stops the picks */
    memset(p, 0, sizeof(*p));
    p->stop_after = 3;
    crdt_pick(&c, 1000, false, &rng, pick_note, p);
    assert_int_equal(p->n, 3);
    /* distinct samples of every size, on a large table: no repeats, and
     * each element as likely as the others across many samples */
    for (unsigned i = 10; i < 1000; i++)
        add(&c, i);
    unsigned sizes[] = {1, 2, 100, 300, 333, 334, 600, 999};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        memset(p, 0, sizeof(*p));
        unsigned total = 0;
        for (int rep = 0; rep < 20; rep++) {
            unsigned before[1000];
            memcpy(before, p->hits, sizeof(before));
            crdt_pick(&c, sizes[k], true, &rng, pick_note, p);
            for (unsigned i = 0; i < 1000; i++)
                PROP(p->hits[i] - before[i] <= 1);
            total += sizes[k];
            PROP(p->n == total);
        }
    }
    memset(p, 0, sizeof(*p));
    for (int rep = 0; rep < 400; rep++)
        crdt_pick(&c, 50, true, &rng, pick_note, p);
    /* df 999: mean 999, sd 44.7; 1300 is > 6 sd */
    PROP(chi_square(p, 0, 1000) < 1300);
    /* a sparse table (most elements removed, the table keeps its size):
     * picks still find the few left, uniformly */
    for (unsigned i = 5; i < 1000; i++)
        del(&c, i);
    assert_int_equal(crdt_count(&c), 5);
    memset(p, 0, sizeof(*p));
    crdt_pick(&c, 5000, false, &rng, pick_note, p);
    assert_int_equal(p->n, 5000);
    PROP(chi_square(p, 0, 5) < 30);
    memset(p, 0, sizeof(*p));
    crdt_pick(&c, 3, true, &rng, pick_note, p);
    assert_int_equal(p->n, 3);
    for (unsigned i = 0; i < 5; i++)
        PROP(p->hits[i] <= 1);
    /* one pick at a time (SRANDMEMBER, SPOP without count: rejection
     * sampling on the sparse table), repeated or distinct: uniform too
     * (df 4: 30 is p < 0.00001) */
    for (int distinct = 0; distinct < 2; distinct++) {
        memset(p, 0, sizeof(*p));
        for (int rep = 0; rep < 5000; rep++)
            crdt_pick(&c, 1, distinct, &rng, pick_note, p);
        assert_int_equal(p->n, 5000);
        PROP(chi_square(p, 0, 5) < 30);
    }
    crdt_fini(&c);
    mem_free(p);
}

static void test_parse_float(void **state)
{
    (void)state;
    long double v;
    assert_true(crdt_parse_float("1.5", 3, &v));
    assert_true(v == 1.5L);
    assert_true(crdt_parse_float("-3e2", 4, &v));
    assert_true(v == -300.0L);
    assert_true(crdt_parse_float("inf", 3, &v)); /* as string2ld: callers refuse it */
    assert_false(crdt_parse_float("1\0" "2", 3, &v)); /* NUL inside */
    assert_false(crdt_parse_float(" 1", 2, &v));
    assert_false(crdt_parse_float("1 ", 2, &v));
    assert_false(crdt_parse_float("nan", 3, &v));
    assert_false(crdt_parse_float("", 0, &v));
    assert_false(crdt_parse_float("1e99999", 7, &v));
    assert_false(crdt_parse_float("abc", 3, &v));
    /* a register holding such bytes is not a number either */
    struct crdt c;
    crdt_init(&c, CRDT_HASH);
    struct val *v1 = val_create("1\0" "2", 3);
    assert_int_equal(crdt_reg_set(&c, actor[0], "f", 1, v1, NULL, NULL), 0);
    val_unref(v1);
    long double r;
    assert_int_equal(crdt_incr_float(&c, actor[0], "f", 1, 1.0L, NULL, &r), KV_ENOTNUM);
    crdt_fini(&c);
}

/* HINCRBYFLOAT f by each of incrs (actors in turn when several, else
 * actor 0), then the value's text. */
static void float_text_is(const char *const *incrs, size_t n, bool actors, const char *want)
{
    struct crdt c;
    crdt_init(&c, CRDT_HASH);
    for (size_t i = 0; i < n; i++) {
        long double by;
        assert_true(crdt_parse_float(incrs[i], strlen(incrs[i]), &by));
        assert_int_equal(crdt_incr_float(&c, actor[actors ? i % NREP : 0], "f", 1, by, NULL, NULL), 0);
    }
    struct buf b;
    buf_init(&b);
    assert_int_equal(crdt_value(crdt_find(&c, "f", 1), CRDT_HASH, &b), 0);
    buf_putc(&b, '\0');
    assert_string_equal(b.data, want);
    buf_fini(&b);
    crdt_fini(&c);
}

/* Float values print as Redis prints its long double results for these
 * (redis-server 7.0 replies, checked side by side in test_hash.py): the
 * fewest decimals that give back the stored double, never an exponent. */
static void test_float_text(void **state)
{
    (void)state;
    const char *a[] = {"1.23"}, *b[] = {"1.23", "0.77"}, *c[] = {"1.23", "0.77", "-0.1"};
    float_text_is(a, 1, false, "1.23");
    float_text_is(b, 2, false, "2");
    float_text_is(c, 3, false, "1.9");
    const char *d[] = {"3.0e3", "1e-5", "-3000.00001"}, *e[] = {"-0.0"};
    float_text_is(d, 3, false, "0"); /* as Redis: the totals are their decimals */
    float_text_is(d, 3, true, "0");
    const char *k[] = {"1.23", "0.77", "-0.1", "3.0e3", "1e-5", "-3000.00001"};
    float_text_is(k, 6, false, "1.9");
    const char *l[] = {"0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1", "0.1"};
    float_text_is(l, 10, false, "1");
    float_text_is(e, 1, false, "0");
    const char *f[] = {"1e20"}, *g[] = {"1e-7"}, *h[] = {"17179869184", "17179869184"};
    float_text_is(f, 1, false, "100000000000000000000");
    float_text_is(g, 1, false, "0.0000001");
    float_text_is(h, 2, false, "34359738368");
    const char *i[] = {"0.1", "0.2"}, *j[] = {"-2.5"};
    float_text_is(i, 2, true, "0.3"); /* two actors' totals add up */
    float_text_is(j, 1, false, "-2.5");
}

int main(void)
{
    crdt_test_init("test_crdt_iter");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scan_whole, setup),
        cmocka_unit_test_setup(test_scan_while_changing, setup),
        cmocka_unit_test_setup(test_pick, setup),
        cmocka_unit_test_setup(test_parse_float, setup),
        cmocka_unit_test_setup(test_float_text, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
