/* test_members.c — the preference-list decisions that cluster/members.c
 * asks (core/preflist.h), over a real ring and a liveness bitmap the tests
 * set: the key's list (N distinct members, clamped to the members there
 * are, nodes that left skipped), a node's rank in it, the write target
 * (first live node of the list, self when none is), and whether a write
 * quorum can be reached (sloppy: live ring members, capped at N). */
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

#define VNODES 64
#define NNODES 5
#define NKEYS 2000

static const char *names[NNODES] = {"n1", "n2", "n3", "n4", "n5"};
static const uint64_t ALL = (UINT64_C(1) << NNODES) - 1;

static size_t key_of(unsigned k, char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "key:%u", k);
}

static void test_preflist_is_the_ring_walk(void **state)
{
    (void)state;
    struct ring *r = ring_create(names, NNODES, VNODES, 1);
    assert_non_null(r);
    for (unsigned k = 0; k < NKEYS; k++) {
        char key[32];
        size_t kl = key_of(k, key, sizeof(key));
        unsigned pl[RING_MAX_NODES], want[RING_MAX_NODES];
        unsigned np = preflist_of(r, 3, key, kl, pl);
        assert_int_equal(np, 3);
        assert_int_equal(ring_preflist(r, key, kl, 3, want), 3);
        assert_memory_equal(pl, want, sizeof(unsigned) * 3);
        /* distinct */
        assert_true(pl[0] != pl[1] && pl[1] != pl[2] && pl[0] != pl[2]);
    }
    ring_destroy(r);
}

/* N above the member count: the list is every member, once. */
static void test_preflist_clamped_to_members(void **state)
{
    (void)state;
    bool member[NNODES] = {true, false, true, false, true}; /* n2, n4 left */
    struct ring *r = ring_create_members(names, NNODES, member, VNODES, 2);
    assert_non_null(r);
    for (unsigned k = 0; k < NKEYS; k++) {
        char key[32];
        size_t kl = key_of(k, key, sizeof(key));
        unsigned pl[RING_MAX_NODES];
        unsigned np = preflist_of(r, 5, key, kl, pl);
        assert_int_equal(np, 3);
        unsigned seen = 0;
        for (unsigned i = 0; i < np; i++) {
            assert_true(member[pl[i]]); /* nodes that left own nothing */
            seen |= 1u << pl[i];
        }
        assert_int_equal(seen, (1u << 0) | (1u << 2) | (1u << 4));
    }
    ring_destroy(r);
    /* An empty ring: an empty list. */
    struct ring *e = ring_create(names, 0, VNODES, 1);
    unsigned pl[RING_MAX_NODES];
    assert_int_equal(preflist_of(e, 3, "k", 1, pl), 0);
    ring_destroy(e);
}

static void test_rank(void **state)
{
    (void)state;
    const unsigned pl[3] = {4, 0, 2};
    assert_int_equal(preflist_rank(pl, 3, 4), 0);
    assert_int_equal(preflist_rank(pl, 3, 0), 1);
    assert_int_equal(preflist_rank(pl, 3, 2), 2);
    assert_int_equal(preflist_rank(pl, 3, 1), -1);
    assert_int_equal(preflist_rank(pl, 3, 3), -1);
    assert_int_equal(preflist_rank(pl, 0, 4), -1); /* empty list */
    /* Over a real ring: every node of a key's list has its position, the
     * others none. */
    struct ring *r = ring_create(names, NNODES, VNODES, 1);
    for (unsigned k = 0; k < 200; k++) {
        char key[32];
        size_t kl = key_of(k, key, sizeof(key));
        unsigned l[RING_MAX_NODES];
        unsigned np = preflist_of(r, 3, key, kl, l);
        int ranked = 0;
        for (int idx = 0; idx < NNODES; idx++) {
            int rk = preflist_rank(l, np, idx);
            if (rk >= 0) {
                assert_int_equal(l[rk], (unsigned)idx);
                ranked++;
            }
        }
        assert_int_equal(ranked, 3);
    }
    ring_destroy(r);
}

/* The write target is the first live node of the list: down nodes are
 * skipped in preference order; nobody alive = self coordinates. */
static void test_write_target_skips_down_nodes(void **state)
{
    (void)state;
    const unsigned pl[3] = {3, 1, 4};
    const int self = 0;
    assert_int_equal(preflist_write_target(pl, 3, ALL, self), 3);
    assert_int_equal(preflist_write_target(pl, 3, ALL & ~PREFLIST_BIT(3), self), 1);
    assert_int_equal(preflist_write_target(pl, 3, PREFLIST_BIT(4) | PREFLIST_BIT(0), self), 4);
    /* Only nodes outside the list are up: self. */
    assert_int_equal(preflist_write_target(pl, 3, PREFLIST_BIT(2), self), self);
    assert_int_equal(preflist_write_target(pl, 3, 0, 2), 2);
    assert_int_equal(preflist_write_target(pl, 0, ALL, self), self);
    /* Over a real ring: the target is always the first live node of the
     * key's list, whoever is down. */
    struct ring *r = ring_create(names, NNODES, VNODES, 1);
    for (uint64_t up = 0; up <= ALL; up++) {
        for (unsigned k = 0; k < 50; k++) {
            char key[32];
            size_t kl = key_of(k, key, sizeof(key));
            unsigned l[RING_MAX_NODES];
            unsigned np = preflist_of(r, 3, key, kl, l);
            int t = preflist_write_target(l, np, up, self);
            int want = self;
            for (unsigned i = 0; i < np; i++)
                if (up & PREFLIST_BIT(l[i])) {
                    want = (int)l[i];
                    break;
                }
            assert_int_equal(t, want);
            if (t != self)
                assert_true(up & PREFLIST_BIT(t)); /* never a down node */
        }
    }
    ring_destroy(r);
}

/* Sloppy quorum: min(live ring members, N) >= W. */
static void test_can_reach_quorum(void **state)
{
    (void)state;
    struct ring *r = ring_create(names, NNODES, VNODES, 1);
    /* N = 3, W = 2 */
    assert_true(preflist_can_reach_quorum(r, NNODES, ALL, 3, 2));
    assert_true(preflist_can_reach_quorum(r, NNODES, PREFLIST_BIT(0) | PREFLIST_BIT(4), 3, 2));
    assert_false(preflist_can_reach_quorum(r, NNODES, PREFLIST_BIT(2), 3, 2));
    assert_false(preflist_can_reach_quorum(r, NNODES, 0, 3, 2));
    /* W = 3 needs three live nodes; more than N live does not help W > N. */
    assert_false(preflist_can_reach_quorum(r, NNODES, PREFLIST_BIT(0) | PREFLIST_BIT(1), 3, 3));
    assert_true(preflist_can_reach_quorum(r, NNODES, ALL & ~PREFLIST_BIT(1), 3, 3));
    assert_false(preflist_can_reach_quorum(r, NNODES, ALL, 3, 4));
    /* Only the first nnodes slots are counted. */
    assert_false(preflist_can_reach_quorum(r, 1, ALL, 3, 2));
    ring_destroy(r);

    /* Live nodes that left the ring hold no copies: they do not count. */
    bool member[NNODES] = {true, false, true, false, true};
    struct ring *m = ring_create_members(names, NNODES, member, VNODES, 2);
    uint64_t left_up = PREFLIST_BIT(1) | PREFLIST_BIT(3);
    assert_false(preflist_can_reach_quorum(m, NNODES, left_up | PREFLIST_BIT(0), 3, 2));
    assert_true(preflist_can_reach_quorum(m, NNODES, left_up | PREFLIST_BIT(0) | PREFLIST_BIT(4),
                                          3, 2));
    assert_false(preflist_can_reach_quorum(m, NNODES, ALL, 3, 4));
    ring_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preflist_is_the_ring_walk),
        cmocka_unit_test(test_preflist_clamped_to_members),
        cmocka_unit_test(test_rank),
        cmocka_unit_test(test_write_target_skips_down_nodes),
        cmocka_unit_test(test_can_reach_quorum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
