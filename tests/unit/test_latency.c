/* test_latency.c — the fixed-bucket latency histogram (core/latency.c):
 * buckets tile the value range with no gap or overlap and are at most
 * 1/16 of their lower bound wide; percentiles of random samples are within
 * that bound above the exact order statistic (a sorted copy) and never
 * below it; lat_count_le is exact at bucket edges; clamping and merge. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "core/latency.h"
#include "util/mem.h"

static void test_buckets_tile(void **state)
{
    (void)state;
    assert_int_equal(lat_bucket_low(0), 0);
    for (unsigned i = 0; i + 1 < LAT_NBUCKETS; i++) {
        uint64_t lo = lat_bucket_low(i), hi = lat_bucket_high(i);
        assert_true(lo <= hi);
        assert_int_equal(lat_bucket_low(i + 1), hi + 1); /* no gap, no overlap */
        assert_int_equal(lat_bucket(lo), i);
        assert_int_equal(lat_bucket(hi), i);
        if (lo >= LAT_SUB)
            assert_true((hi - lo + 1) * LAT_SUB <= lo); /* width <= lo / 16 */
        else
            assert_int_equal(lo, hi);
    }
    /* the last bucket takes everything from its low bound up */
    assert_int_equal(lat_bucket(UINT64_MAX), LAT_NBUCKETS - 1);
    assert_int_equal(lat_bucket((uint64_t)1 << 50), LAT_NBUCKETS - 1);
    assert_int_equal(lat_bucket(lat_bucket_low(LAT_NBUCKETS - 1)), LAT_NBUCKETS - 1);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void test_percentiles_against_sorted(void **state)
{
    (void)state;
    enum { N = 20000 };
    uint64_t *v = mem_alloc(N * sizeof(*v));
    struct lat_hist *h = mem_alloc(sizeof(*h));
    lat_reset(h);
    srand(7);
    for (int i = 0; i < N; i++) {
        /* log-uniform-ish from 100 ns to ~100 ms */
        int e = 7 + rand() % 20;
        v[i] = ((uint64_t)1 << e) + (uint64_t)rand() % ((uint64_t)1 << e);
        lat_record(h, v[i]);
    }
    qsort(v, N, sizeof(v[0]), cmp_u64);
    assert_int_equal(h->count, N);
    assert_int_equal(h->max_ns, v[N - 1]);
    const double ps[] = {1, 50, 90, 99, 99.9, 100};
    for (size_t k = 0; k < sizeof(ps) / sizeof(ps[0]); k++) {
        size_t rank = (size_t)((ps[k] / 100.0) * N + 0.999999);
        uint64_t exact = v[rank - 1];
        uint64_t got = lat_percentile(h, ps[k]);
        assert_true(got >= exact);
        assert_true((double)got <= (double)exact * (1.0 + 1.0 / LAT_SUB));
    }
    assert_int_equal(lat_percentile(h, 100), v[N - 1]);
    /* count_le at bucket edges is exact */
    for (unsigned i = 20; i < 400; i += 37) {
        uint64_t edge = lat_bucket_high(i);
        size_t exact = 0;
        while (exact < N && v[exact] <= edge)
            exact++;
        assert_int_equal(lat_count_le(h, edge), exact);
    }
    assert_int_equal(lat_count_le(h, UINT64_MAX - 1), N);
    mem_free(h);
    mem_free(v);
}

static void test_empty_clamp_merge(void **state)
{
    (void)state;
    struct lat_hist *a = mem_alloc(sizeof(*a)), *b = mem_alloc(sizeof(*b));
    lat_reset(a);
    lat_reset(b);
    assert_int_equal(lat_percentile(a, 50), 0);
    assert_int_equal(lat_count_le(a, 1000), 0);
    lat_record(a, 0);
    lat_record(a, 15);
    assert_int_equal(lat_percentile(a, 50), 0);  /* small values are exact */
    assert_int_equal(lat_percentile(a, 100), 15);
    lat_record(b, UINT64_MAX);                     /* clamped, still counted */
    lat_record(b, 1000);
    lat_merge(a, b);
    assert_int_equal(a->count, 4);
    assert_int_equal(a->max_ns, UINT64_MAX);
    assert_int_equal(a->b[LAT_NBUCKETS - 1], 1);
    assert_int_equal(lat_count_le(a, 999), 2);
    assert_int_equal(lat_count_le(a, lat_bucket_high(lat_bucket(1000))), 3);
    assert_int_equal(lat_percentile(a, 75), lat_bucket_high(lat_bucket(1000)));
    mem_free(a);
    mem_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets_tile),
        cmocka_unit_test(test_percentiles_against_sorted),
        cmocka_unit_test(test_empty_clamp_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
