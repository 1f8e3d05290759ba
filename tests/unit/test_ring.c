/* test_ring.c — unit tests for the consistent hash ring: balance,
 * determinism, distinct preference lists, minimal movement on join, and
 * rings where only some slots are members (nodes that left keep their index). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/ring.h"
#include "core/slot.h"

#define VNODES 128
#define NKEYS 100000

static char names_store[RING_MAX_NODES + 1][16];
static const char *names[RING_MAX_NODES + 1];

static void make_names(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        snprintf(names_store[i], sizeof(names_store[i]), "n%u", i + 1);
        names[i] = names_store[i];
    }
}

/* Deterministic key stream (splitmix64), so figures are reproducible. */
static uint64_t rng_state;

static uint64_t next_rand(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t next_key(char *out, size_t cap)
{
    return (size_t)snprintf(out, cap, "key:%016llx", (unsigned long long)next_rand());
}

static void test_balance(void **state)
{
    (void)state;
    const unsigned sizes[] = {3, 5, 10};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        unsigned n = sizes[s];
        make_names(n);
        struct ring *r = ring_create(names, n, VNODES, 1);
        assert_non_null(r);
        assert_int_equal(ring_ntokens(r), (size_t)n * VNODES);

        double sum = 0, max = 0, min = 1;
        for (unsigned i = 0; i < n; i++) {
            double o = ring_ownership(r, i);
            sum += o;
            if (o > max)
                max = o;
            if (o < min)
                min = o;
        }
        assert_true(sum > 0.999999 && sum < 1.000001);
        double mean = sum / n;
        printf("# balance %2u nodes x %u vnodes: ownership max/mean %.3f min/mean %.3f\n",
               n, VNODES, max / mean, min / mean);
        assert_true(max / mean < 1.5);

        unsigned counts[RING_MAX_NODES] = {0};
        rng_state = 42;
        for (unsigned k = 0; k < NKEYS; k++) {
            char key[32];
            size_t klen = next_key(key, sizeof(key));
            unsigned out[1];
            assert_int_equal(ring_preflist(r, key, klen, 1, out), 1);
            counts[out[0]]++;
        }
        printf("# keys per node (%u keys):", NKEYS);
        unsigned kmax = 0;
        for (unsigned i = 0; i < n; i++) {
            printf(" %s=%u", names[i], counts[i]);
            if (counts[i] > kmax)
                kmax = counts[i];
        }
        printf("  max/mean %.3f\n", (double)kmax / ((double)NKEYS / n));
        assert_true((double)kmax / ((double)NKEYS / n) < 1.5);
        ring_destroy(r);
    }
}

static void test_determinism(void **state)
{
    (void)state;
    const char *a[] = {"alpha", "bravo", "charlie", "delta", "echo"};
    const char *b[] = {"delta", "echo", "alpha", "charlie", "bravo"};
    struct ring *ra = ring_create(a, 5, VNODES, 7);
    struct ring *rb = ring_create(b, 5, VNODES, 7);
    assert_non_null(ra);
    assert_non_null(rb);
    assert_int_equal(ring_version(ra), 7);
    assert_int_equal(ring_nnodes(ra), 5);
    assert_int_equal(ring_vnodes(ra), VNODES);

    /* Same token sequence, by name. */
    assert_int_equal(ring_ntokens(ra), ring_ntokens(rb));
    for (size_t i = 0; i < ring_ntokens(ra); i++) {
        uint64_t ta, tb;
        unsigned na, nb;
        ring_token(ra, i, &ta, &na);
        ring_token(rb, i, &tb, &nb);
        assert_true(ta == tb);
        assert_string_equal(ring_node_name(ra, na), ring_node_name(rb, nb));
        if (i > 0) {
            uint64_t prev;
            unsigned pn;
            ring_token(ra, i - 1, &prev, &pn);
            assert_true(prev <= ta);
        }
    }

    rng_state = 7;
    for (unsigned k = 0; k < 10000; k++) {
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        unsigned pa[5], pb[5];
        assert_int_equal(ring_preflist(ra, key, klen, 3, pa), 3);
        assert_int_equal(ring_preflist(rb, key, klen, 3, pb), 3);
        for (unsigned i = 0; i < 3; i++)
            assert_string_equal(ring_node_name(ra, pa[i]), ring_node_name(rb, pb[i]));
    }
    for (unsigned i = 0; i < 5; i++) {
        /* Ownership follows the name, not the index. */
        for (unsigned j = 0; j < 5; j++)
            if (strcmp(a[i], b[j]) == 0)
                assert_true(ring_ownership(ra, i) == ring_ownership(rb, j));
    }
    ring_destroy(ra);
    ring_destroy(rb);
}

/* The hash is fixed by the header's contract; pin it so a library or
 * seed change that would split a mixed-version cluster is caught.  Keys
 * reach the ring through their hash slot (issue 13). */
static void test_hash_stable(void **state)
{
    (void)state;
    /* the middle of the slot's 1/16384 arc */
    assert_true(ring_slot_pos(0) == UINT64_C(0x0002000000000000));
    assert_true(ring_slot_pos(12182) == UINT64_C(0xbe5a000000000000));
    assert_true(ring_slot_pos(16383) == UINT64_C(0xfffe000000000000));
    /* "foo" is slot 12182; a hash tag places a key with its tag's slot */
    assert_true(ring_key_pos("foo", 3) == ring_slot_pos(12182));
    assert_true(ring_key_pos("{foo}.bar", 9) == ring_key_pos("foo", 3));
    assert_true(ring_key_pos("foo", 3) != ring_key_pos("fop", 3));
    assert_true(ring_key_pos("", 0) == ring_slot_pos(0));
}

/* Slots per node for 3, 5 and 10 nodes (N = 3): as coordinator (first of
 * the preference list) and as any replica.  Printed for the README. */
static void test_slot_balance(void **state)
{
    (void)state;
    const unsigned sizes[] = {3, 5, 10};
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        unsigned n = sizes[s], nrep = 3;
        make_names(n);
        struct ring *r = ring_create(names, n, VNODES, 1);
        assert_non_null(r);
        unsigned first[RING_MAX_NODES] = {0}, any[RING_MAX_NODES] = {0};
        for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
            unsigned out[3];
            assert_int_equal(ring_slot_walk(r, slot, nrep, out), nrep);
            first[out[0]]++;
            for (unsigned i = 0; i < nrep; i++)
                any[out[i]]++;
        }
        /* owner lists change only at token boundaries: count the runs of
         * consecutive slots with one preference list (CLUSTER SLOTS rows) */
        unsigned runs = 0, prev[3] = {RING_MAX_NODES, 0, 0};
        for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
            unsigned out[3];
            ring_slot_walk(r, slot, nrep, out);
            runs += memcmp(out, prev, sizeof(out)) != 0;
            memcpy(prev, out, sizeof(prev));
        }
        printf("# slots %2u nodes: %u runs of one preference list (%zu tokens)\n", n, runs,
               ring_ntokens(r));
        assert_true(runs <= ring_ntokens(r) + 1);
        unsigned fmax = 0, amax = 0, fsum = 0;
        for (unsigned i = 0; i < n; i++) {
            assert_int_equal(first[i], ring_slots_primary(r, i));
            fsum += first[i];
            fmax = first[i] > fmax ? first[i] : fmax;
            amax = any[i] > amax ? any[i] : amax;
        }
        assert_int_equal(fsum, SLOT_COUNT);
        double fmean = (double)SLOT_COUNT / n, amean = (double)SLOT_COUNT * nrep / n;
        printf("# slots %2u nodes x %u vnodes, N=3: coordinator max/mean %.3f (max %u, "
               "mean %.1f); any replica max/mean %.3f (max %u, mean %.1f)\n",
               n, VNODES, fmax / fmean, fmax, fmean, amax / amean, amax, amean);
        assert_true(fmax / fmean < 1.5);
        assert_true(amax / amean <= 1.5);
        ring_destroy(r);
    }
}

static void test_distinct(void **state)
{
    (void)state;
    make_names(10);
    struct ring *r = ring_create(names, 10, VNODES, 1);
    assert_non_null(r);
    rng_state = 99;
    for (unsigned k = 0; k < 20000; k++) {
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        for (unsigned n = 0; n <= 12; n++) {
            unsigned out[12];
            unsigned got = ring_preflist(r, key, klen, n, out);
            assert_int_equal(got, n < 10 ? n : 10);
            uint64_t seen = 0;
            for (unsigned i = 0; i < got; i++) {
                assert_true(out[i] < 10);
                assert_false(seen & (UINT64_C(1) << out[i]));
                seen |= UINT64_C(1) << out[i];
            }
        }
        /* preflist_at(position) == slot walk == preflist(key); longer
         * lists extend shorter. */
        unsigned p3[3], p5[5], s5[5];
        ring_preflist(r, key, klen, 3, p3);
        ring_preflist_at(r, ring_key_pos(key, klen), 5, p5);
        ring_slot_walk(r, slot_of_key(key, klen), 5, s5);
        assert_memory_equal(p3, p5, sizeof(p3));
        assert_memory_equal(p5, s5, sizeof(p5));
    }
    ring_destroy(r);
}

static void test_token_boundaries(void **state)
{
    (void)state;
    make_names(3);
    struct ring *r = ring_create(names, 3, 4, 1);
    assert_non_null(r);
    size_t nt = ring_ntokens(r);
    for (size_t i = 0; i < nt; i++) {
        uint64_t tok;
        unsigned node, out[1];
        ring_token(r, i, &tok, &node);
        /* A position equal to a token belongs to that token. */
        assert_int_equal(ring_preflist_at(r, tok, 1, out), 1);
        assert_int_equal(out[0], node);
    }
    /* Past the last token wraps to the first. */
    uint64_t last, first;
    unsigned lnode, fnode, out[1];
    ring_token(r, nt - 1, &last, &lnode);
    ring_token(r, 0, &first, &fnode);
    if (last != UINT64_MAX) {
        ring_preflist_at(r, last + 1, 1, out);
        assert_int_equal(out[0], fnode);
    }
    ring_preflist_at(r, UINT64_MAX, 1, out);
    assert_int_equal(out[0], last == UINT64_MAX ? lnode : fnode);
    ring_destroy(r);
}

static void check_movement(unsigned nold)
{
    make_names(nold + 1);
    struct ring *before = ring_create(names, nold, VNODES, 1);
    struct ring *after = ring_create(names, nold + 1, VNODES, 2);
    assert_non_null(before);
    assert_non_null(after);
    unsigned newbie = nold, moved = 0, n = 3;
    rng_state = 1234;
    for (unsigned k = 0; k < NKEYS; k++) {
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        unsigned pb[3], pa[3];
        unsigned nb = ring_preflist(before, key, klen, n, pb);
        unsigned na = ring_preflist(after, key, klen, n, pa);
        assert_int_equal(nb, n < nold ? n : nold);
        assert_int_equal(na, n < nold + 1 ? n : nold + 1);
        if (pa[0] != pb[0]) {
            /* Only the new node can take over a primary range. */
            assert_int_equal(pa[0], newbie);
            moved++;
        }
        /* The new list is the old one with the new node inserted
         * (and the old tail dropped): nothing else reorders. */
        unsigned j = 0;
        for (unsigned i = 0; i < na; i++) {
            if (pa[i] == newbie)
                continue;
            assert_true(j < nb);
            assert_int_equal(pa[i], pb[j]);
            j++;
        }
    }
    double frac = (double)moved / NKEYS;
    printf("# movement %2u -> %2u nodes: %.4f of primaries moved (ideal %.4f)\n",
           nold, nold + 1, frac, 1.0 / (nold + 1));
    assert_true(frac > 0);
    assert_true(frac < 2.0 / (nold + 1));
    ring_destroy(before);
    ring_destroy(after);
}

static void test_minimal_movement(void **state)
{
    (void)state;
    check_movement(3);
    check_movement(5);
    check_movement(10);
}

static void test_walk_all(void **state)
{
    (void)state;
    make_names(RING_MAX_NODES);
    struct ring *r = ring_create(names, RING_MAX_NODES, 16, 1);
    assert_non_null(r);
    rng_state = 5;
    for (unsigned k = 0; k < 1000; k++) {
        unsigned out[RING_MAX_NODES + 8];
        unsigned got = ring_walk(r, next_rand(), RING_MAX_NODES + 8, out);
        assert_int_equal(got, RING_MAX_NODES);
        uint64_t seen = 0;
        for (unsigned i = 0; i < got; i++)
            seen |= UINT64_C(1) << out[i];
        assert_true(seen == UINT64_MAX);
    }
    ring_destroy(r);
}

static void test_single_node(void **state)
{
    (void)state;
    const char *one[] = {"solo"};
    struct ring *r = ring_create(one, 1, VNODES, 3);
    assert_non_null(r);
    assert_true(ring_ownership(r, 0) > 0.999999);
    unsigned out[3];
    assert_int_equal(ring_preflist(r, "k", 1, 3, out), 1);
    assert_int_equal(out[0], 0);
    assert_int_equal(ring_walk(r, 0, 5, out), 1);
    assert_string_equal(ring_node_name(r, 0), "solo");
    assert_null(ring_node_name(r, 1));
    ring_destroy(r);

    /* One token: it owns the whole circle. */
    r = ring_create(one, 1, 1, 1);
    assert_true(ring_ownership(r, 0) == 1.0);
    ring_destroy(r);
}

static void test_bad_input(void **state)
{
    (void)state;
    const char *dup[] = {"a", "b", "a"};
    assert_null(ring_create(dup, 3, 8, 1));
    assert_null(ring_create(dup, 2, 0, 1));
    make_names(RING_MAX_NODES + 1);
    assert_null(ring_create(names, RING_MAX_NODES + 1, 1, 1));
    ring_destroy(NULL);

    struct ring *r = ring_create(NULL, 0, 8, 1);
    assert_non_null(r);
    unsigned out[1];
    assert_int_equal(ring_preflist(r, "k", 1, 1, out), 0);
    assert_int_equal(ring_ntokens(r), 0);
    ring_destroy(r);
}

/* ---------------------------------------------------------------- */
/* rings whose slots are not all members                            */

/* Checks that no token, preference list or walk of r ever names a slot
 * outside `members` (a bit set), and that the member count matches. */
static void check_only_members(const struct ring *r, uint64_t members, unsigned vnodes)
{
    unsigned nm = 0;
    for (unsigned i = 0; i < ring_nnodes(r); i++) {
        bool want = (members >> i) & 1;
        assert_int_equal(ring_is_member(r, i), want);
        nm += want;
        if (!want)
            assert_true(ring_ownership(r, i) == 0.0);
        else
            assert_true(ring_ownership(r, i) > 0.0);
    }
    assert_int_equal(ring_nmembers(r), nm);
    assert_int_equal(ring_ntokens(r), (size_t)nm * vnodes);
    uint64_t owners = 0;
    for (size_t i = 0; i < ring_ntokens(r); i++) {
        uint64_t tok;
        unsigned node;
        ring_token(r, i, &tok, &node);
        assert_true(node < ring_nnodes(r));
        owners |= UINT64_C(1) << node;
    }
    assert_true(owners == members);
    rng_state = 77;
    for (unsigned k = 0; k < 2000; k++) {
        unsigned out[RING_MAX_NODES + 4];
        unsigned got = ring_walk(r, next_rand(), RING_MAX_NODES + 4, out);
        assert_int_equal(got, nm);
        uint64_t seen = 0;
        for (unsigned i = 0; i < got; i++) {
            assert_false(seen & (UINT64_C(1) << out[i]));
            seen |= UINT64_C(1) << out[i];
        }
        assert_true(seen == members);
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        got = ring_preflist(r, key, klen, 3, out);
        assert_int_equal(got, nm < 3 ? nm : 3);
        for (unsigned i = 0; i < got; i++)
            assert_true((members >> out[i]) & 1);
    }
}

static void test_members_basic(void **state)
{
    (void)state;
    make_names(5);
    const bool member[5] = {true, false, true, true, false};
    struct ring *r = ring_create_members(names, 5, member, 16, 9);
    assert_non_null(r);
    assert_int_equal(ring_version(r), 9);
    assert_int_equal(ring_nnodes(r), 5);
    assert_int_equal(ring_nmembers(r), 3);
    assert_int_equal(ring_vnodes(r), 16);
    /* Slots keep their names (and indices), members or not. */
    for (unsigned i = 0; i < 5; i++)
        assert_string_equal(ring_node_name(r, i), names[i]);
    assert_null(ring_node_name(r, 5));
    assert_false(ring_is_member(r, 5));
    assert_false(ring_is_member(r, 63));
    assert_false(ring_is_member(r, 64));
    assert_false(ring_is_member(r, 1000));
    check_only_members(r, 0x0d, 16);
    double sum = 0;
    for (unsigned i = 0; i < 5; i++)
        sum += ring_ownership(r, i);
    assert_true(sum > 0.999999 && sum < 1.000001);
    ring_destroy(r);

    /* member NULL = every slot; so does an all-true array.  Both are the
     * very same ring as ring_create. */
    const bool all[5] = {true, true, true, true, true};
    struct ring *plain = ring_create(names, 5, 16, 1);
    struct ring *rn = ring_create_members(names, 5, NULL, 16, 1);
    struct ring *ra = ring_create_members(names, 5, all, 16, 1);
    assert_non_null(plain);
    assert_non_null(rn);
    assert_non_null(ra);
    struct ring *rs[2] = {rn, ra};
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ring_nmembers(rs[k]), 5);
        check_only_members(rs[k], 0x1f, 16);
        assert_int_equal(ring_ntokens(rs[k]), ring_ntokens(plain));
        for (size_t i = 0; i < ring_ntokens(plain); i++) {
            uint64_t ta, tb;
            unsigned na, nb;
            ring_token(plain, i, &ta, &na);
            ring_token(rs[k], i, &tb, &nb);
            assert_true(ta == tb);
            assert_int_equal(na, nb);
        }
    }
    assert_int_equal(ring_nmembers(plain), 5);
    for (unsigned i = 0; i < 5; i++)
        assert_true(ring_is_member(plain, i));
    ring_destroy(plain);
    ring_destroy(rn);
    ring_destroy(ra);

    /* Bad input is refused as for ring_create, non-member slots included:
     * a name stays reserved after its node left. */
    const char *dup[] = {"a", "b", "a"};
    const bool only_first_two[3] = {true, true, false};
    assert_null(ring_create_members(dup, 3, only_first_two, 8, 1));
    assert_null(ring_create_members(names, 5, member, 0, 1));
    make_names(RING_MAX_NODES + 1);
    bool none[RING_MAX_NODES + 1] = {false};
    assert_null(ring_create_members(names, RING_MAX_NODES + 1, none, 8, 1));
}

/* A ring of slots {n1,n2,n3,n4} with n3 not a member is the ring of
 * {n1,n2,n4}: same tokens, same preference lists, by name. */
static void test_members_equivalence(void **state)
{
    (void)state;
    const char *slots[] = {"n1", "n2", "n3", "n4"};
    const char *three[] = {"n1", "n2", "n4"};
    const bool member[4] = {true, true, false, true};
    struct ring *rm = ring_create_members(slots, 4, member, VNODES, 2);
    struct ring *r3 = ring_create(three, 3, VNODES, 2);
    struct ring *r4 = ring_create(slots, 4, VNODES, 1);
    assert_non_null(rm);
    assert_non_null(r3);
    assert_non_null(r4);
    assert_int_equal(ring_nnodes(rm), 4);
    assert_int_equal(ring_nmembers(rm), 3);
    assert_int_equal(ring_ntokens(rm), ring_ntokens(r3));
    for (size_t i = 0; i < ring_ntokens(rm); i++) {
        uint64_t ta, tb;
        unsigned na, nb;
        ring_token(rm, i, &ta, &na);
        ring_token(r3, i, &tb, &nb);
        assert_true(ta == tb);
        assert_string_equal(ring_node_name(rm, na), ring_node_name(r3, nb));
        assert_int_not_equal(na, 2);
    }
    for (unsigned i = 0; i < 3; i++) {
        unsigned j = i < 2 ? i : 3; /* n4 is slot 3 in rm, index 2 in r3 */
        assert_true(ring_ownership(rm, j) == ring_ownership(r3, i));
    }
    assert_true(ring_ownership(rm, 2) == 0.0);

    rng_state = 4242;
    unsigned moved = 0;
    for (unsigned k = 0; k < 20000; k++) {
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        for (unsigned n = 1; n <= 5; n++) {
            unsigned pm[5], p3[5];
            unsigned gm = ring_preflist(rm, key, klen, n, pm);
            unsigned g3 = ring_preflist(r3, key, klen, n, p3);
            assert_int_equal(gm, n < 3 ? n : 3);
            assert_int_equal(gm, g3);
            for (unsigned i = 0; i < gm; i++) {
                assert_true(pm[i] < 4);
                assert_int_not_equal(pm[i], 2);
                assert_string_equal(ring_node_name(rm, pm[i]), ring_node_name(r3, p3[i]));
            }
        }
        /* Against the full ring: n3 leaving only removes n3 from each
         * list; the others keep their order. */
        unsigned p4[4], pm[3];
        assert_int_equal(ring_preflist(r4, key, klen, 4, p4), 4);
        assert_int_equal(ring_preflist(rm, key, klen, 3, pm), 3);
        unsigned j = 0;
        for (unsigned i = 0; i < 4; i++)
            if (p4[i] != 2)
                assert_int_equal(pm[j++], p4[i]);
        assert_int_equal(j, 3);
        moved += p4[0] == 2;
        uint64_t pos = next_rand();
        unsigned w1[8], w2[8];
        assert_int_equal(ring_walk(rm, pos, 8, w1), 3);
        assert_int_equal(ring_walk(r3, pos, 8, w2), 3);
        for (unsigned i = 0; i < 3; i++)
            assert_string_equal(ring_node_name(rm, w1[i]), ring_node_name(r3, w2[i]));
        assert_int_equal(ring_preflist_at(rm, pos, 2, w1), 2);
        assert_int_not_equal(w1[0], 2);
        assert_int_not_equal(w1[1], 2);
    }
    assert_true(moved > 0); /* n3 was a primary somewhere before */
    ring_destroy(rm);
    ring_destroy(r3);
    ring_destroy(r4);
}

static void test_members_none(void **state)
{
    (void)state;
    make_names(3);
    const bool none[3] = {false, false, false};
    struct ring *r = ring_create_members(names, 3, none, VNODES, 4);
    assert_non_null(r);
    assert_int_equal(ring_nnodes(r), 3);
    assert_int_equal(ring_nmembers(r), 0);
    assert_int_equal(ring_ntokens(r), 0);
    unsigned out[4] = {99, 99, 99, 99};
    assert_int_equal(ring_preflist(r, "k", 1, 3, out), 0);
    assert_int_equal(ring_preflist_at(r, 0, 3, out), 0);
    assert_int_equal(ring_preflist_at(r, UINT64_MAX, 3, out), 0);
    assert_int_equal(ring_walk(r, 12345, 4, out), 0);
    assert_int_equal(out[0], 99); /* nothing written */
    for (unsigned i = 0; i < 3; i++) {
        assert_false(ring_is_member(r, i));
        assert_true(ring_ownership(r, i) == 0.0);
        assert_string_equal(ring_node_name(r, i), names[i]);
    }
    ring_destroy(r);

    /* No slots at all, with or without a member array. */
    r = ring_create_members(NULL, 0, NULL, 8, 1);
    assert_non_null(r);
    assert_int_equal(ring_nmembers(r), 0);
    assert_int_equal(ring_preflist(r, "k", 1, 1, out), 0);
    assert_false(ring_is_member(r, 0));
    ring_destroy(r);

    /* A single member among many slots owns everything. */
    make_names(RING_MAX_NODES);
    bool one[RING_MAX_NODES] = {false};
    one[RING_MAX_NODES - 1] = true;
    r = ring_create_members(names, RING_MAX_NODES, one, 8, 1);
    assert_non_null(r);
    assert_int_equal(ring_nmembers(r), 1);
    assert_true(ring_ownership(r, RING_MAX_NODES - 1) > 0.999999);
    check_only_members(r, UINT64_C(1) << (RING_MAX_NODES - 1), 8);
    assert_int_equal(ring_preflist(r, "k", 1, 3, out), 1);
    assert_int_equal(out[0], RING_MAX_NODES - 1);
    ring_destroy(r);
}

/* Every other slot of a full-size ring: indices are slot positions. */
static void test_members_sparse(void **state)
{
    (void)state;
    make_names(RING_MAX_NODES);
    bool member[RING_MAX_NODES];
    const char *odd[RING_MAX_NODES / 2];
    for (unsigned i = 0; i < RING_MAX_NODES; i++) {
        member[i] = i % 2 == 1;
        if (member[i])
            odd[i / 2] = names[i];
    }
    struct ring *r = ring_create_members(names, RING_MAX_NODES, member, 16, 1);
    struct ring *ro = ring_create(odd, RING_MAX_NODES / 2, 16, 1);
    assert_non_null(r);
    assert_non_null(ro);
    check_only_members(r, UINT64_C(0xaaaaaaaaaaaaaaaa), 16);
    rng_state = 31;
    for (unsigned k = 0; k < 2000; k++) {
        char key[32];
        size_t klen = next_key(key, sizeof(key));
        unsigned a[5], b[5];
        assert_int_equal(ring_preflist(r, key, klen, 5, a), 5);
        assert_int_equal(ring_preflist(ro, key, klen, 5, b), 5);
        for (unsigned i = 0; i < 5; i++)
            assert_int_equal(a[i], 2 * b[i] + 1); /* odd[j] is slot 2j+1 */
    }
    ring_destroy(r);
    ring_destroy(ro);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balance),
        cmocka_unit_test(test_determinism),
        cmocka_unit_test(test_hash_stable),
        cmocka_unit_test(test_slot_balance),
        cmocka_unit_test(test_distinct),
        cmocka_unit_test(test_token_boundaries),
        cmocka_unit_test(test_minimal_movement),
        cmocka_unit_test(test_walk_all),
        cmocka_unit_test(test_single_node),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_members_basic),
        cmocka_unit_test(test_members_equivalence),
        cmocka_unit_test(test_members_none),
        cmocka_unit_test(test_members_sparse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
