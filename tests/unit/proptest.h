/* proptest.h — what the seeded randomized property tests of the cmocka
 * suites share: one splitmix64 stream (rnd), PROP(cond), whose failure names
 * the seed, and the seed itself, PROPTEST_SEED unless KV_TEST_SEED says
 * otherwise (proptest_seed_from_env, called first in main).  Each including
 * test defines PROPTEST_SEED before the include and resets rng_state = seed
 * where a run starts.  Included by test_vclock.c, test_siblings.c,
 * test_store.c, test_gossip.c and crdt_testlib.h. */
#ifndef KV_PROPTEST_H
#define KV_PROPTEST_H

#include <stdint.h>
#include <stdlib.h>

static unsigned long long seed = PROPTEST_SEED;
static uint64_t rng_state;

#define PROP(cond)                                                                    \
    do {                                                                              \
        if (!(cond))                                                                  \
            fail_msg("property failed: %s (line %d, seed %llu; rerun with "          \
                     "KV_TEST_SEED=%llu)", #cond, __LINE__, seed, seed);             \
    } while (0)

/* splitmix64 */
static inline uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static inline void proptest_seed_from_env(void)
{
    const char *env = getenv("KV_TEST_SEED");
    if (env && *env)
        seed = strtoull(env, NULL, 0);
}

#endif
