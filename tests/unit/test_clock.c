/* test_clock.c — util/clock: within one loop iteration (the iteration
 * source's value unchanged) every wall reading is the same instant, a real
 * reading of the system clock taken at the first; a new iteration reads
 * again; without a source (or when it says no iteration runs) each reading
 * is fresh; the test offset moves both clocks forward and never back. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/time.h>
#include <time.h>

#include "util/clock.h"

static int64_t iteration;
static int source_calls;

static int iteration_source(void *arg, int64_t *it)
{
    (void)arg;
    source_calls++;
    *it = iteration;
    return 0;
}

static int no_iteration(void *arg, int64_t *it)
{
    (void)arg;
    (void)it;
    return -1;
}

static int64_t system_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_cached_per_iteration(void **state)
{
    (void)state;
    int64_t off = clock_offset_ms();
    clock_set_iteration_source(iteration_source, NULL);
    iteration = 1;
    int64_t a = system_ms();
    int64_t first = clock_now_ms() - off;
    int64_t b = system_ms();
    assert_true(first >= a && first <= b); /* a real reading */
    sleep_ms(5);
    assert_int_equal(clock_now_ms() - off, first); /* same iteration, same instant */
    assert_true(source_calls >= 2);
    iteration = 2;
    a = system_ms();
    int64_t second = clock_now_ms() - off;
    assert_true(second >= a && second >= first + 5); /* a new iteration reads again */
    clock_set_iteration_source(no_iteration, NULL);
    a = system_ms();
    int64_t now = clock_now_ms() - off;
    b = system_ms();
    assert_true(now >= a && now <= b);
    clock_set_iteration_source(NULL, NULL);
    sleep_ms(2);
    a = system_ms();
    now = clock_now_ms() - off;
    b = system_ms();
    assert_true(now >= a && now <= b);
}

static void test_advance(void **state)
{
    (void)state;
    clock_set_iteration_source(iteration_source, NULL);
    iteration = 7;
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
    clock_set_iteration_source(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cached_per_iteration),
        cmocka_unit_test(test_advance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
