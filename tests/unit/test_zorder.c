/* test_zorder.c — unit tests for core/zorder.c: Redis's sorted-set order
 * (score, then member bytes; -0 equal to 0; infinities at the ends) over a
 * CRDT_ZSET state with registers and increments, against a reference sort
 * of random sets; zorder_top against the sorted array's ends; ranks; score
 * and lex range parsing and membership on Redis's own examples. */
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
#include "core/vclock.h"
#include "core/zorder.h"
#include "util/mem.h"

#define PROPTEST_SEED 0x20e5e7ULL
#include "proptest.h"

static uint32_t actor1, actor2;

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    actor1 = vc_actor_intern("z2.1764064488200", 16);
    actor2 = vc_actor_intern("z1.1764064488100", 16);
    return 0;
}

static void add(struct crdt *z, const char *m, double s)
{
    assert_int_equal(crdt_zset_add(z, actor1, m, strlen(m), s, NULL, NULL), 0);
}

static void check_sorted(const struct zorder_item *a, size_t n)
{
    for (size_t i = 1; i < n; i++)
        assert_true(zorder_cmp(&a[i - 1], &a[i]) < 0);
}

static void test_order_examples(void **state)
{
    (void)state;
    struct crdt z;
    crdt_init(&z, CRDT_ZSET);
    add(&z, "b", 1);
    add(&z, "a", 1);
    add(&z, "ab", 1);
    add(&z, "x", -INFINITY);
    add(&z, "y", INFINITY);
    add(&z, "neg0", -0.0);
    add(&z, "pos0", 0.0);
    add(&z, "c", -2.5);
    /* an increment on top of a register: 1 + 10 = 11 */
    add(&z, "inc", 1);
    assert_int_equal(crdt_incr_float(&z, actor2, "inc", 3, 10, NULL, NULL), 0);
    struct zorder_item *a;
    size_t n = zorder_sort(&z, &a);
    const char *want[] = {"x", "c", "neg0", "pos0", "a", "ab", "b", "inc", "y"};
    assert_int_equal(n, 9);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(a[i].mlen, strlen(want[i]));
        assert_memory_equal(a[i].m, want[i], a[i].mlen);
    }
    assert_true(a[7].score == 11);
    check_sorted(a, n);
    /* ranks: strictly before */
    for (size_t i = 0; i < n; i++)
        assert_int_equal(zorder_rank(&z, a[i].score, a[i].m, a[i].mlen), i);
    /* top 3 and bottom 3 */
    struct zorder_item t[3];
    assert_int_equal(zorder_top(&z, 3, false, t), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(zorder_cmp(&t[i], &a[i]), 0);
    assert_int_equal(zorder_top(&z, 3, true, t), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(zorder_cmp(&t[i], &a[n - 1 - i]), 0);
    mem_free(a);
    /* empty and NULL */
    assert_int_equal(zorder_sort(NULL, &a), 0);
    assert_null(a);
    assert_int_equal(zorder_top(NULL, 3, false, t), 0);
    assert_int_equal(zorder_rank(NULL, 0, "a", 1), 0);
    crdt_fini(&z);
}

static void test_order_random(void **state)
{
    (void)state;
    for (int round = 0; round < 50; round++) {
        struct crdt z;
        crdt_init(&z, CRDT_ZSET);
        size_t want = rnd() % 300;
        for (size_t i = 0; i < want; i++) {
            char m[16];
            int len = snprintf(m, sizeof(m), "%x", (unsigned)(rnd() % 1000));
            double s = (double)(int)(rnd() % 20) - 10;
            assert_int_equal(crdt_zset_add(&z, actor1, m, (size_t)len, s, NULL, NULL), 0);
            if (rnd() % 4 == 0)
                assert_int_equal(crdt_incr_float(&z, actor2, m, (size_t)len, 0.5, NULL, NULL), 0);
        }
        struct zorder_item *a;
        size_t n = zorder_sort(&z, &a);
        assert_int_equal(n, crdt_count(&z));
        check_sorted(a, n);
        for (size_t i = 0; i < n; i++) {
            double s;
            assert_int_equal(crdt_zset_score(&z, a[i].m, a[i].mlen, &s), 0);
            assert_true(s == a[i].score);
        }
        size_t k = n ? rnd() % (n + 2) : 2;
        struct zorder_item *t = mem_alloc((k + 1) * sizeof(*t));
        size_t got = zorder_top(&z, k, false, t);
        assert_int_equal(got, k < n ? k : n);
        for (size_t i = 0; i < got; i++)
            assert_int_equal(zorder_cmp(&t[i], &a[i]), 0);
        got = zorder_top(&z, k, true, t);
        for (size_t i = 0; i < got; i++)
            assert_int_equal(zorder_cmp(&t[i], &a[n - 1 - i]), 0);
        if (n) {
            size_t i = rnd() % n;
            assert_int_equal(zorder_rank(&z, a[i].score, a[i].m, a[i].mlen), i);
        }
        /* counts against the sorted array */
        struct zorder_srange r = { .min = -3, .max = 4, .minex = rnd() % 2, .maxex = rnd() % 2 };
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += (r.minex ? a[i].score > -3 : a[i].score >= -3) &&
                 (r.maxex ? a[i].score < 4 : a[i].score <= 4);
        assert_int_equal(zorder_count_srange(&z, &r), c);
        mem_free(t);
        mem_free(a);
        crdt_fini(&z);
    }
}

static bool srange(const char *a, const char *b, struct zorder_srange *r)
{
    return zorder_parse_srange(a, strlen(a), b, strlen(b), r);
}

static void test_score_ranges(void **state)
{
    (void)state;
    struct zorder_srange r;
    assert_true(srange("-inf", "+inf", &r));
    assert_true(isinf(r.min) && r.min < 0 && isinf(r.max) && r.max > 0);
    assert_true(zorder_in_srange(&r, INFINITY) && zorder_in_srange(&r, -INFINITY));
    assert_true(srange("(1", "2", &r));
    assert_true(r.minex && !r.maxex && r.min == 1 && r.max == 2);
    assert_false(zorder_in_srange(&r, 1));
    assert_true(zorder_in_srange(&r, 2));
    assert_true(zorder_in_srange(&r, 1.5));
    assert_false(zorder_srange_empty(&r));
    assert_true(srange("(1", "1", &r));
    assert_true(zorder_srange_empty(&r));
    assert_true(srange("1", "1", &r));
    assert_false(zorder_srange_empty(&r));
    assert_true(srange("3", "1", &r));
    assert_true(zorder_srange_empty(&r));
    assert_true(srange("-0", "0", &r)); /* -0 equals 0 */
    assert_true(zorder_in_srange(&r, 0.0) && zorder_in_srange(&r, -0.0));
    /* as Redis's strtod: empty and "(" read as 0, leading space accepted */
    assert_true(srange("", "(", &r));
    assert_true(r.min == 0 && r.max == 0 && r.maxex);
    assert_true(srange(" 5", "6", &r));
    assert_false(srange("nan", "1", &r));
    assert_false(srange("1", "abc", &r));
    assert_false(srange("1x", "2", &r));
    assert_false(srange("((1", "2", &r));
}

static bool lrange(const char *a, const char *b, struct zorder_lrange *r)
{
    return zorder_parse_lrange(a, strlen(a), b, strlen(b), r);
}

static bool in_l(const struct zorder_lrange *r, const char *m)
{
    return zorder_in_lrange(r, m, strlen(m));
}

static void test_lex_ranges(void **state)
{
    (void)state;
    struct zorder_lrange r;
    assert_true(lrange("-", "+", &r));
    assert_true(in_l(&r, "") && in_l(&r, "zzz"));
    assert_false(zorder_lrange_empty(&r));
    assert_true(lrange("[b", "(d", &r));
    assert_true(in_l(&r, "b") && in_l(&r, "c") && in_l(&r, "cz"));
    assert_false(in_l(&r, "a") || in_l(&r, "d") || in_l(&r, "da"));
    assert_true(lrange("(b", "[b", &r));
    assert_true(zorder_lrange_empty(&r));
    assert_true(lrange("[b", "[b", &r));
    assert_false(zorder_lrange_empty(&r));
    assert_true(in_l(&r, "b"));
    assert_true(lrange("+", "-", &r));
    assert_true(zorder_lrange_empty(&r));
    assert_true(lrange("-", "-", &r));
    assert_true(zorder_lrange_empty(&r));
    assert_true(lrange("+", "+", &r));
    assert_true(zorder_lrange_empty(&r));
    assert_true(lrange("[", "[a", &r)); /* the empty string */
    assert_true(in_l(&r, "") && in_l(&r, "a"));
    assert_false(lrange("a", "[b", &r));
    assert_false(lrange("[a", "", &r));
    assert_false(lrange("+x", "[b", &r));
    assert_false(lrange("[a", "-1", &r));
}

int main(void)
{
    proptest_seed_from_env();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_order_examples, setup),
        cmocka_unit_test_setup(test_order_random, setup),
        cmocka_unit_test(test_score_ranges),
        cmocka_unit_test(test_lex_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
