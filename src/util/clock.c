/* clock.c — see clock.h.  Owns the iteration source (set by main.c), the
 * wall reading cached for the current iteration, and the test offset
 * (clock_advance_ms, called by the DEBUG command). */
#include "util/clock.h"

#include <stdbool.h>
#include <sys/time.h>
#include <time.h>

static clock_iteration_fn iter_fn;
static void *iter_arg;
static bool cached;        /* wall_us holds the reading of iteration iter */
static int64_t iter;
static int64_t wall_us;
static int64_t offset_us;

void clock_set_iteration_source(clock_iteration_fn fn, void *arg)
{
    iter_fn = fn;
    iter_arg = arg;
    cached = false;
}

int64_t clock_advance_ms(int64_t ms)
{
    if (ms > 0)
        offset_us += ms * 1000;
    return offset_us / 1000;
}

int64_t clock_offset_ms(void)
{
    return offset_us / 1000;
}

static int64_t system_wall_us(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t clock_now_ms(void)
{
    int64_t it;
    if (!iter_fn || iter_fn(iter_arg, &it) != 0) {
        cached = false;
        return (system_wall_us() + offset_us) / 1000;
    }
    if (!cached || it != iter) {
        wall_us = system_wall_us();
        iter = it;
        cached = true;
    }
    return (wall_us + offset_us) / 1000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + offset_us;
}

int64_t clock_mono_ms(void)
{
    return clock_mono_us() / 1000;
}

int64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec + offset_us * 1000;
}
