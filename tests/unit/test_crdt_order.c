/* test_crdt_order.c — the ordered views of a convergent sorted set
 * (core/crdt_order.c): a hand-checked example with ties, infinities, -0,
 * prefixes and a NUL byte, and random zsets built by two replicas
 * (concurrent ZADDs and ZINCRBYs, removals, joins) whose views are checked
 * against a reference order computed from ZSCORE of every member. */
#include "crdt_testlib.h"

#include <math.h>

static void member_is(const struct crdt_zmember *z, const char *m, size_t len, double score)
{
    assert_int_equal(z->el->klen, len);
    assert_memory_equal(crdt_elem_key(z->el), m, len);
    assert_true(z->score == score);
}

static void test_order_example(void **state)
{
    (void)state;
    struct crdt c;
    crdt_init(&c, CRDT_ZSET);
    const struct {
        const char *m;
        size_t len;
        double s;
    } in[] = {
        { "b", 1, 1 },  { "a", 1, 1 },       { "ab", 2, 1 },        { "a\0", 2, 1 },
        { "c", 1, -0.0 }, { "d", 1, 0 },     { "x", 1, -INFINITY }, { "y", 1, INFINITY },
        { "", 0, 1 },   { "z", 1, -1.5 },
    };
    for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
        assert_int_equal(crdt_zset_add(&c, actor[i % NREP], in[i].m, in[i].len, in[i].s, NULL,
                                       NULL), 0);
    /* ZINCRBY moves z from -1.5 to 1: it then sorts among the 1s */
    long double r;
    assert_int_equal(crdt_incr_float(&c, actor[0], "z", 1, 2.5L, NULL, &r), 0);
    struct crdt_zmember out[10];
    assert_int_equal(crdt_zset_sorted(&c, out), 10);
    member_is(&out[0], "x", 1, -INFINITY);
    member_is(&out[1], "c", 1, 0); /* -0 ties with 0: member order */
    member_is(&out[2], "d", 1, 0);
    member_is(&out[3], "", 0, 1);
    member_is(&out[4], "a", 1, 1);
    member_is(&out[5], "a\0", 2, 1); /* a prefix first */
    member_is(&out[6], "ab", 2, 1);
    member_is(&out[7], "b", 1, 1);
    member_is(&out[8], "z", 1, 1);
    member_is(&out[9], "y", 1, INFINITY);
    assert_int_equal(crdt_zset_sorted_lex(&c, out), 10);
    const char *lex[] = { "", "a", "a\0", "ab", "b", "c", "d", "x", "y", "z" };
    const size_t lexlen[] = { 0, 1, 2, 2, 1, 1, 1, 1, 1, 1 };
    for (int i = 0; i < 10; i++) {
        assert_int_equal(out[i].el->klen, lexlen[i]);
        assert_memory_equal(crdt_elem_key(out[i].el), lex[i], lexlen[i]);
    }
    /* other types have no zset view */
    struct crdt set;
    crdt_init(&set, CRDT_SET);
    assert_int_equal(crdt_set_add(&set, actor[0], "a", 1, NULL, NULL), 0);
    assert_int_equal(crdt_zset_sorted(&set, out), 0);
    crdt_fini(&set);
    crdt_fini(&c);
}

/* reference: scores from ZSCORE, insertion sort with Redis's rule */
struct ref {
    char m[8];
    size_t len;
    double score;
};

static int ref_cmp(const struct ref *a, const struct ref *b, bool lex)
{
    if (!lex && a->score != b->score)
        return a->score < b->score ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->m, b->m, n);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

static void check_views(const struct crdt *c)
{
    enum { U = 40 };
    struct ref ref[U];
    uint32_t n = 0;
    for (unsigned i = 0; i < U; i++) {
        char m[8];
        int len = snprintf(m, sizeof(m), "m%u", i);
        double s;
        if (crdt_zset_score(c, m, (size_t)len, &s) != 0)
            continue;
        memcpy(ref[n].m, m, (size_t)len);
        ref[n].len = (size_t)len;
        ref[n].score = s;
        n++;
    }
    PROP(n == crdt_count(c));
    struct crdt_zmember out[U];
    for (int lex = 0; lex < 2; lex++) {
        struct ref sorted[U];
        memcpy(sorted, ref, n * sizeof(ref[0]));
        for (uint32_t i = 1; i < n; i++)
            for (uint32_t j = i; j > 0 && ref_cmp(&sorted[j - 1], &sorted[j], lex) > 0; j--) {
                struct ref t = sorted[j];
                sorted[j] = sorted[j - 1];
                sorted[j - 1] = t;
            }
        uint32_t got = lex ? crdt_zset_sorted_lex(c, out) : crdt_zset_sorted(c, out);
        PROP(got == n);
        for (uint32_t i = 0; i < n; i++) {
            PROP(out[i].el->klen == sorted[i].len);
            PROP(memcmp(crdt_elem_key(out[i].el), sorted[i].m, sorted[i].len) == 0);
            PROP(out[i].score == sorted[i].score);
        }
    }
}

static void test_order_random(void **state)
{
    (void)state;
    for (int round = 0; round < 300; round++) {
        struct crdt r[2];
        crdt_init(&r[0], CRDT_ZSET);
        crdt_init(&r[1], CRDT_ZSET);
        for (int step = 0; step < 80; step++) {
            int w = (int)rnd_below(2);
            char m[8];
            int len = snprintf(m, sizeof(m), "m%u", rnd_below(40));
            unsigned p = rnd_below(100);
            if (p < 50) { /* few distinct scores: many ties */
                double s = (double)rnd_below(5) - 2;
                if (rnd_below(20) == 0)
                    s = rnd_below(2) ? INFINITY : -INFINITY;
                crdt_zset_add(&r[w], actor[w], m, (size_t)len, s, NULL, NULL);
            } else if (p < 75) {
                long double res;
                crdt_incr_float(&r[w], actor[w], m, (size_t)len, (long double)rnd_below(3) - 1,
                                NULL, &res);
            } else if (p < 90) {
                crdt_remove(&r[w], actor[w], m, (size_t)len, NULL, NULL);
            } else {
                join_into(&r[w], &r[1 - w]);
            }
        }
        check_views(&r[0]);
        join_into(&r[0], &r[1]); /* concurrent scores: the largest register plus counters */
        check_views(&r[0]);
        crdt_fini(&r[0]);
        crdt_fini(&r[1]);
    }
}

int main(void)
{
    crdt_test_init("test_crdt_order");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_order_example, setup),
        cmocka_unit_test_setup(test_order_random, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
