/* clock.c — see clock.h.  Owns the wall source (set by main.c) and the test
 * offset (clock_advance_ms, called by the DEBUG command). */
#include "util/clock.h"

#include <sys/time.h>
#include <time.h>

static clock_wall_fn wall_fn;
static void *wall_arg;
static int64_t offset_us;

void clock_set_wall_source(clock_wall_fn fn, void *arg)
{
    wall_fn = fn;
    wall_arg = arg;
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

int64_t clock_now_ms(void)
{
    int64_t us;
    if (!wall_fn || wall_fn(wall_arg, &us) != 0) {
        struct timeval tv;
        gettimeofday(&tv, NULL);
        us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    }
    return (us + offset_us) / 1000;
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
