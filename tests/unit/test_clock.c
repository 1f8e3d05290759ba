/* test_clock.c — util/clock: the wall source (the loop's cached time) is
 * what clock_now_ms reads, a source that fails falls back to the system
 * clock, and the test offset moves both clocks forward and never back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/time.h>

#include "util/clock.h"

static int64_t fixed_us;
static int source_calls;

static int fixed_source(void *arg, int64_t *us)
{
    (void)arg;
    source_calls++;
    *us = fixed_us;
    return 0;
}

static int failing_source(void *arg, int64_t *us)
{
    (void)arg;
    (void)us;
    return -1;
}

static int64_t system_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void test_wall_source(void **state)
{
    (void)state;
    fixed_us = 1700000000123456LL;
    clock_set_wall_source(fixed_source, NULL);
    int64_t off = clock_offset_ms();
    assert_int_equal(clock_now_ms(), 1700000000123LL + off);
    assert_int_equal(clock_now_ms(), 1700000000123LL + off); /* one instant */
    assert_true(source_calls >= 2);
    fixed_us += 5000;
    assert_int_equal(clock_now_ms(), 1700000000128LL + off);
    clock_set_wall_source(failing_source, NULL);
    int64_t a = system_ms(), now = clock_now_ms() - off, b = system_ms();
    assert_true(now >= a && now <= b);
    clock_set_wall_source(NULL, NULL);
    a = system_ms(), now = clock_now_ms() - off, b = system_ms();
    assert_true(now >= a && now <= b);
}

static void test_advance(void **state)
{
    (void)state;
    fixed_us = 1000000;
    clock_set_wall_source(fixed_source, NULL);
    int64_t off0 = clock_offset_ms();
    int64_t wall0 = clock_now_ms();
    int64_t mono0 = clock_mono_ms();
    assert_int_equal(clock_advance_ms(3600000), off0 + 3600000);
    assert_int_equal(clock_offset_ms(), off0 + 3600000);
    assert_int_equal(clock_now_ms(), wall0 + 3600000);
    int64_t mono1 = clock_mono_ms();
    assert_true(mono1 >= mono0 + 3600000 && mono1 < mono0 + 3600000 + 10000);
    assert_int_equal(clock_advance_ms(-50), off0 + 3600000); /* never backwards */
    assert_int_equal(clock_advance_ms(0), off0 + 3600000);
    assert_true(clock_mono_us() / 1000 >= mono1);
    clock_set_wall_source(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wall_source),
        cmocka_unit_test(test_advance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
