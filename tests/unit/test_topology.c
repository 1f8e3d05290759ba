/* test_topology.c — the Redis Cluster view of a ring: runs cover the slots
 * in order, are merged as far as the owner lists allow, owners are the live
 * nodes of each slot's preference list (a substitute when none is live),
 * and shards group exactly the runs with one owner list. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/preflist.h"
#include "core/ring.h"
#include "core/slot.h"
#include "core/topology.h"

static char names_store[16][16];
static const char *names[16];

static struct ring *make_ring(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        snprintf(names_store[i], sizeof(names_store[i]), "n%u", i + 1);
        names[i] = names_store[i];
    }
    return ring_create(names, n, 128, 1);
}

/* The owners topology.h promises for one slot, computed the long way. */
static unsigned want_owners(const struct ring *r, unsigned n, uint64_t up, unsigned slot,
                            unsigned *out)
{
    unsigned walk[RING_MAX_NODES];
    unsigned nw = ring_slot_walk(r, slot, RING_MAX_NODES, walk), got = 0;
    for (unsigned i = 0; i < nw && i < n; i++)
        if (up & PREFLIST_BIT(walk[i]))
            out[got++] = walk[i];
    for (unsigned i = n; got == 0 && i < nw; i++)
        if (up & PREFLIST_BIT(walk[i]))
            out[got++] = walk[i];
    return got;
}

/* Checks every property against the ring; returns the number of runs. */
static unsigned check_view(const struct ring *r, unsigned n, uint64_t up)
{
    struct topo *t = topo_build(r, n, up);
    unsigned nruns = topo_nruns(t), next = 0, masters[RING_MAX_NODES] = {0};
    const uint8_t *prev = NULL;
    unsigned prev_n = 0, prev_last = 0;
    for (unsigned i = 0; i < nruns; i++) {
        unsigned first, last, k;
        const uint8_t *own = topo_run(t, i, &first, &last, &k);
        assert_true(first <= last && last < SLOT_COUNT);
        assert_true(k >= 1);
        /* slots without owners are skipped only when nothing is live */
        assert_int_equal(first, next);
        next = last + 1;
        for (unsigned s = first; s <= last; s++) {
            unsigned w[RING_MAX_NODES];
            unsigned wn = want_owners(r, n, up, s, w);
            assert_int_equal(wn, k);
            for (unsigned j = 0; j < k; j++) {
                assert_int_equal(own[j], w[j]);
                assert_true(up & PREFLIST_BIT(own[j]));
            }
            masters[own[0]]++;
        }
        /* maximal: a run never continues its neighbour's owner list */
        if (prev && prev_last + 1 == first)
            assert_false(prev_n == k && memcmp(prev, own, k) == 0);
        prev = own;
        prev_n = k;
        prev_last = last;
        /* shards: equal lists <=> equal shard numbers */
        for (unsigned j = 0; j < i; j++) {
            unsigned f2, l2, k2;
            const uint8_t *o2 = topo_run(t, j, &f2, &l2, &k2);
            bool same = k2 == k && memcmp(o2, own, k) == 0;
            assert_int_equal(same, topo_run_shard(t, j) == topo_run_shard(t, i));
        }
        assert_true(topo_run_shard(t, i) < topo_nshards(t));
    }
    if (up & ((UINT64_C(1) << ring_nnodes(r)) - 1))
        assert_int_equal(next, SLOT_COUNT);
    else
        assert_int_equal(nruns, 0);
    for (unsigned i = 0; i < ring_nnodes(r); i++)
        assert_int_equal(topo_master_slots(t, i), masters[i]);
    topo_destroy(t);
    return nruns;
}

static void test_all_live(void **state)
{
    (void)state;
    for (unsigned n = 3; n <= 10; n += 7) {
        struct ring *r = make_ring(n);
        uint64_t up = (UINT64_C(1) << n) - 1;
        unsigned runs = check_view(r, 3, up);
        struct topo *t = topo_build(r, 3, up);
        printf("# %u nodes N=3: %u runs, %u shards\n", n, runs, topo_nshards(t));
        for (unsigned i = 0; i < n; i++) /* the master is the first owner */
            assert_int_equal(topo_master_slots(t, i), ring_slots_primary(r, i));
        topo_destroy(t);
        ring_destroy(r);
    }
}

static void test_dead_nodes(void **state)
{
    (void)state;
    struct ring *r = make_ring(5);
    /* one dead: it owns nothing; its slots go to the next live owner */
    check_view(r, 3, 0x1f & ~PREFLIST_BIT(2));
    struct topo *t = topo_build(r, 3, 0x1f & ~PREFLIST_BIT(2));
    assert_int_equal(topo_master_slots(t, 2), 0);
    topo_destroy(t);
    /* three dead: some slots have no live owner in their list and take a
     * substitute; still every slot is covered */
    check_view(r, 3, PREFLIST_BIT(0) | PREFLIST_BIT(4));
    /* only one live node: it masters everything */
    t = topo_build(r, 3, PREFLIST_BIT(3));
    assert_int_equal(topo_master_slots(t, 3), SLOT_COUNT);
    assert_int_equal(topo_nruns(t), 1);
    topo_destroy(t);
    check_view(r, 3, PREFLIST_BIT(3));
    /* none live: no runs */
    check_view(r, 3, 0);
    /* N larger than the ring */
    check_view(r, 7, 0x1f);
    ring_destroy(r);
}

static void test_single_node(void **state)
{
    (void)state;
    const char *one[] = {"127.0.0.1:7001"};
    struct ring *r = ring_create(one, 1, 128, 1);
    struct topo *t = topo_build(r, 1, PREFLIST_BIT(0));
    unsigned first, last, k;
    assert_int_equal(topo_nruns(t), 1);
    const uint8_t *own = topo_run(t, 0, &first, &last, &k);
    assert_int_equal(first, 0);
    assert_int_equal(last, SLOT_COUNT - 1);
    assert_int_equal(k, 1);
    assert_int_equal(own[0], 0);
    topo_destroy(t);
    ring_destroy(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_live),
        cmocka_unit_test(test_dead_nodes),
        cmocka_unit_test(test_single_node),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
