/* test_timeheap.c — the min-heap behind the store's expiry counts: pops
 * come out in order against a sorted copy (random input with duplicates,
 * growth past the first allocation), pop_le stops at the first time above
 * now and counts what it popped. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "storage/timeheap.h"
#include "util/mem.h"

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_order(void **state)
{
    (void)state;
    enum { N = 1000 };
    int64_t ref[N];
    struct timeheap h = {NULL, 0, 0};
    srand(12);
    for (int i = 0; i < N; i++) {
        ref[i] = (int64_t)(rand() % 300) - 100; /* duplicates and negatives */
        timeheap_push(&h, ref[i]);
    }
    assert_int_equal(h.n, N);
    assert_true(h.cap >= N);
    qsort(ref, N, sizeof(ref[0]), cmp_i64);
    for (int i = 0; i < N; i++) {
        assert_int_equal(h.v[0], ref[i]);
        timeheap_pop(&h);
    }
    assert_int_equal(h.n, 0);
    mem_free(h.v);
}

static void test_pop_le(void **state)
{
    (void)state;
    struct timeheap h = {NULL, 0, 0};
    assert_int_equal(timeheap_pop_le(&h, 100), 0); /* empty */
    const int64_t t[] = {50, 10, 30, 30, 70, 20};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        timeheap_push(&h, t[i]);
    assert_int_equal(timeheap_pop_le(&h, 9), 0);
    assert_int_equal(timeheap_pop_le(&h, 30), 4); /* 10 20 30 30 */
    assert_int_equal(h.n, 2);
    assert_int_equal(h.v[0], 50);
    assert_int_equal(timeheap_pop_le(&h, 30), 0);
    assert_int_equal(timeheap_pop_le(&h, 1000), 2);
    assert_int_equal(h.n, 0);
    mem_free(h.v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order),
        cmocka_unit_test(test_pop_le),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
