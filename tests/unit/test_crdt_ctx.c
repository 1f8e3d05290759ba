/* test_crdt_ctx.c — the convergent types' causal context beyond the join
 * laws (core/crdt.h): removals minting their dot, holes left by deltas
 * applied out of order, the context digest (across actor interning orders,
 * in a forked child), crdt_ctx_seed, and the expiry register with its
 * codec.  Semantics per type and the codec of elements are in test_crdt.c,
 * the random histories in test_crdt_laws.c. */
#include "crdt_testlib.h"

#include <sys/wait.h>
#include <unistd.h>

/* Removals mint a dot like every other change (crdt.h "operations"):
 * SREM and DEL move the context by exactly the actor's next dot, which no
 * entry carries; a removal of an absent member changes nothing. */
static void test_removal_mints_dot(void **state)
{
    (void)state;
    struct crdt a, b, d1, d2, d3;
    crdt_init(&a, CRDT_SET);
    crdt_init(&b, CRDT_SET);
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, &d1, NULL), 0);
    assert_int_equal(crdt_next_counter(&a, actor[0]), 2);
    bool existed;
    assert_int_equal(crdt_remove(&a, actor[0], "x", 1, &d2, &existed), 0);
    assert_true(existed);
    assert_true(crdt_ctx_has(&a, actor[0], 2) && crdt_ctx_has(&d2, actor[0], 2));
    assert_true(crdt_ctx_has(&d2, actor[0], 1)); /* the superseded dot */
    assert_int_equal(crdt_count(&d2), 0);
    assert_int_equal(crdt_next_counter(&a, actor[0]), 3);
    /* the state that saw both dots is the remover's, in either order */
    join_into(&b, &d2);
    join_into(&b, &d1);
    assert_true(same(&a, &b));
    assert_true(crdt_ctx_covers(&a, &d1) && crdt_ctx_covers(&b, &a));
    /* a no-op removal: no dot, an empty delta */
    assert_int_equal(crdt_remove(&a, actor[0], "x", 1, &d3, &existed), 0);
    assert_false(existed);
    assert_int_equal(crdt_next_counter(&a, actor[0]), 3);
    assert_true(d3.scoped && d3.nelem == 0 && d3.vc.n == 0 && d3.ncloud == 0);
    assert_true(same(&a, &b));
    crdt_fini(&d3);
    /* DEL mints one dot too, even of an empty state */
    crdt_fini(&d1);
    assert_int_equal(crdt_clear(&a, actor[1], &d1), 0);
    assert_int_equal(crdt_next_counter(&a, actor[1]), 2);
    assert_true(crdt_ctx_has(&d1, actor[1], 1) && !d1.scoped);
    join_into(&b, &d1);
    assert_true(same(&a, &b));
    crdt_fini(&d1);
    crdt_fini(&d2);
    crdt_fini(&a);
    crdt_fini(&b);
}

/* Deltas applied out of order: x added (dot 1), re-added (dot 2, which
 * supersedes 1), removed (dot 3).  {delta3, delta1} and {delta2, delta3}
 * reach the same context {1,2,3} with different states; the holes tell
 * them apart, and the missing delta fills them. */
static void test_holes_out_of_order(void **state)
{
    (void)state;
    struct crdt a, s1, s2, d[3];
    crdt_init(&a, CRDT_SET);
    crdt_init(&s1, CRDT_SET);
    crdt_init(&s2, CRDT_SET);
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, &d[0], NULL), 0);
    assert_int_equal(crdt_set_add(&a, actor[0], "x", 1, &d[1], NULL), 0);
    assert_int_equal(crdt_remove(&a, actor[0], "x", 1, &d[2], NULL), 0);
    assert_int_equal(a.nhole, 0);
    assert_true(crdt_hole_has(&d[1], actor[0], 1) && crdt_hole_has(&d[2], actor[0], 2));
    join_into(&s1, &d[2]);
    join_into(&s1, &d[0]);
    join_into(&s2, &d[1]);
    join_into(&s2, &d[2]);
    assert_true(crdt_ctx_covers(&s1, &s2) && crdt_ctx_covers(&s2, &s1));
    assert_true(contains(&s1, "x")); /* delta2's removal of dot 1 has not come */
    assert_false(contains(&s2, "x"));
    assert_true(s1.nhole == 1 && crdt_hole_has(&s1, actor[0], 2));
    assert_true(s2.nhole == 1 && crdt_hole_has(&s2, actor[0], 1));
    assert_false(same(&s1, &s2));
    struct crdt x;
    joined(&x, &s1, &s2); /* each side's applied dot fills the other's hole */
    assert_true(same(&x, &a));
    crdt_fini(&x);
    join_into(&s1, &d[1]);
    join_into(&s2, &d[0]);
    assert_true(same(&s1, &a) && same(&s2, &a));
    roundtrip(&d[1]);
    for (int i = 0; i < 3; i++)
        crdt_fini(&d[i]);
    crdt_fini(&a);
    crdt_fini(&s1);
    crdt_fini(&s2);
}

/* A fixed history over two actors interned by the caller: adds, a
 * replacement, a removal, with two deltas held back so the result has a
 * hole and a cloud. */
static void ctx_history(struct crdt *out, uint32_t a, uint32_t b)
{
    struct crdt ra, rb, d;
    crdt_init(&ra, CRDT_SET);
    crdt_init(&rb, CRDT_SET);
    crdt_init(out, CRDT_SET);
    crdt_set_add(&ra, a, "x", 1, &d, NULL);
    join_into(out, &d);
    crdt_fini(&d);
    crdt_set_add(&ra, a, "x", 1, &d, NULL); /* held back: supersedes dot 1 */
    crdt_fini(&d);
    crdt_remove(&ra, a, "x", 1, &d, NULL);   /* a hole at a:2 in out */
    join_into(out, &d);
    crdt_fini(&d);
    const char *y[] = { "y0", "y1", "y2" };
    for (int i = 0; i < 3; i++) {
        crdt_set_add(&rb, b, y[i], 2, &d, NULL);
        if (i != 1) /* b:3 without b:2: a cloud */
            join_into(out, &d);
        crdt_fini(&d);
    }
    crdt_fini(&ra);
    crdt_fini(&rb);
}

/* The context digest: equal for equal contexts and holes whatever the
 * order of deltas or of actor interning (a child process interns the same
 * names the other way round), different when one dot or one hole differs. */
static void test_ctx_digest(void **state)
{
    (void)state;
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) { /* "zz" gets the smaller id here, "aa" in the parent */
        uint32_t z = vc_actor_intern("zz.1764064488999", 16);
        uint32_t a = vc_actor_intern("aa.1764064488000", 16);
        struct crdt c;
        ctx_history(&c, a, z);
        uint64_t dig[2] = { crdt_ctx_digest(&c), crdt_digest("k", 1, &c) };
        _exit(write(fd[1], dig, sizeof(dig)) == (ssize_t)sizeof(dig) ? 0 : 1);
    }
    close(fd[1]);
    uint32_t a = vc_actor_intern("aa.1764064488000", 16);
    uint32_t z = vc_actor_intern("zz.1764064488999", 16);
    assert_true(a < z);
    struct crdt c;
    ctx_history(&c, a, z);
    assert_true(c.ncloud > 0 && c.nhole == 1);
    uint64_t child[2];
    assert_int_equal(read(fd[0], child, sizeof(child)), (ssize_t)sizeof(child));
    close(fd[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_true(child[0] == crdt_ctx_digest(&c));
    assert_true(child[1] == crdt_digest("k", 1, &c));
    assert_true(crdt_ctx_digest(&c) != 0 && crdt_ctx_digest(&c) != crdt_digest("k", 1, &c));

    /* decoded copy, and the same deltas joined in another order */
    struct buf b;
    buf_init(&b);
    crdt_encode(&c, &b);
    struct crdt e;
    assert_int_equal(crdt_decode(&e, b.data, b.len, 64, 64), 0);
    assert_true(crdt_ctx_digest(&e) == crdt_ctx_digest(&c));
    buf_fini(&b);
    crdt_fini(&e);
    struct crdt r, s1, s2, d[3];
    crdt_init(&r, CRDT_HASH);
    crdt_init(&s1, CRDT_HASH);
    crdt_init(&s2, CRDT_HASH);
    hset(&r, 0, "f", "1", &d[0]);
    hset(&r, 0, "f", "2", &d[1]);
    assert_int_equal(crdt_remove(&r, actor[0], "f", 1, &d[2], NULL), 0);
    for (int i = 0; i < 3; i++)
        join_into(&s1, &d[i]);
    for (int i = 2; i >= 0; i--)
        join_into(&s2, &d[i]);
    assert_true(same(&s1, &s2) && same(&s1, &r));
    assert_true(crdt_ctx_digest(&s1) == crdt_ctx_digest(&s2));
    assert_true(crdt_ctx_digest(&s1) == crdt_ctx_digest(&r));
    /* one dot more, or one hole different, changes it */
    uint64_t before = crdt_ctx_digest(&s1);
    hset(&s1, 1, "g", "v", NULL);
    assert_true(crdt_ctx_digest(&s1) != before);
    struct crdt h1, h2; /* equal contexts {1,2,3}, holes {2} and {1} */
    crdt_init(&h1, CRDT_HASH);
    crdt_init(&h2, CRDT_HASH);
    join_into(&h1, &d[2]);
    join_into(&h1, &d[0]);
    join_into(&h2, &d[1]);
    join_into(&h2, &d[2]);
    assert_true(crdt_ctx_covers(&h1, &h2) && crdt_ctx_covers(&h2, &h1));
    assert_true(crdt_ctx_digest(&h1) != crdt_ctx_digest(&h2));
    assert_true(crdt_ctx_digest(&h1) != crdt_ctx_digest(&r));
    join_into(&h1, &d[1]);
    assert_true(crdt_ctx_digest(&h1) == crdt_ctx_digest(&r));
    /* the type counts */
    struct crdt empty_set, empty_hash;
    crdt_init(&empty_set, CRDT_SET);
    crdt_init(&empty_hash, CRDT_HASH);
    assert_true(crdt_ctx_digest(&empty_set) != crdt_ctx_digest(&empty_hash));
    for (int i = 0; i < 3; i++)
        crdt_fini(&d[i]);
    crdt_fini(&h1);
    crdt_fini(&h2);
    crdt_fini(&r);
    crdt_fini(&s1);
    crdt_fini(&s2);
    crdt_fini(&c);
}

/* crdt_ctx_seed: a state created over a tombstone whose clock is vc
 * continues above it, and the seed is a join (it commutes with deltas,
 * drops the entries and fills the holes vc covers). */
static void test_ctx_seed(void **state)
{
    (void)state;
    struct vclock vc;
    vc_init(&vc);
    for (int i = 0; i < 5; i++)
        vc_increment(&vc, actor[0], 1000 + (uint64_t)i);
    for (int i = 0; i < 3; i++)
        vc_increment(&vc, actor[1], 2000);
    struct crdt c, d;
    crdt_init(&c, CRDT_SET);
    crdt_ctx_seed(&c, &vc);
    assert_int_equal(crdt_next_counter(&c, actor[0]), 6);
    assert_int_equal(crdt_next_counter(&c, actor[1]), 4);
    assert_int_equal(crdt_next_counter(&c, actor[2]), 1);
    assert_true(crdt_ctx_has(&c, actor[0], 5) && !crdt_ctx_has(&c, actor[0], 6));
    assert_int_equal(c.vc.n, 2);
    for (uint32_t i = 0; i < c.vc.n; i++)
        assert_true(c.vc.e[i].ts_ms == 0); /* the context keeps no time */
    assert_int_equal(crdt_set_add(&c, actor[0], "x", 1, &d, NULL), 0);
    assert_true(crdt_ctx_has(&d, actor[0], 6));
    crdt_fini(&d);
    roundtrip(&c);
    crdt_fini(&c);

    /* entries the seed covers go, others stay; in either order */
    struct crdt r, s1, s2, dl[4];
    crdt_init(&r, CRDT_SET);
    crdt_init(&s1, CRDT_SET);
    crdt_init(&s2, CRDT_SET);
    const char *m[] = { "a", "b", "c", "d" };
    for (int i = 0; i < 4; i++)
        assert_int_equal(crdt_set_add(&r, actor[1], m[i], 1, &dl[i], NULL), 0);
    for (int i = 0; i < 4; i++)
        join_into(&s1, &dl[i]);
    crdt_ctx_seed(&s1, &vc); /* actor[1] up to 3 */
    crdt_ctx_seed(&s2, &vc);
    for (int i = 3; i >= 0; i--)
        join_into(&s2, &dl[i]);
    assert_true(same(&s1, &s2));
    assert_int_equal(crdt_count(&s1), 1);
    assert_true(contains(&s1, "d"));
    /* a cloud dot becomes contiguous; a covered hole is filled */
    struct crdt h, rem;
    crdt_init(&h, CRDT_SET);
    crdt_init(&rem, CRDT_SET);
    assert_int_equal(crdt_set_add(&r, actor[1], "a", 1, NULL, NULL), 0);     /* 5 */
    assert_int_equal(crdt_remove(&r, actor[1], "a", 1, &rem, NULL), 0);      /* 6 */
    join_into(&h, &rem); /* context {5, 6}, hole 5 */
    assert_true(h.ncloud == 2 && crdt_hole_has(&h, actor[1], 5));
    struct vclock v4;
    vc_init(&v4);
    for (int i = 0; i < 4; i++)
        vc_increment(&v4, actor[1], 1);
    crdt_ctx_seed(&h, &v4);
    assert_true(h.ncloud == 0 && crdt_next_counter(&h, actor[1]) == 7);
    assert_true(crdt_hole_has(&h, actor[1], 5)); /* 4 does not cover 5 */
    vc_increment(&v4, actor[1], 1);
    crdt_ctx_seed(&h, &v4);
    assert_int_equal(h.nhole, 0);
    roundtrip(&h);
    vc_fini(&v4);
    crdt_fini(&rem);
    crdt_fini(&h);
    for (int i = 0; i < 4; i++)
        crdt_fini(&dl[i]);
    crdt_fini(&r);
    crdt_fini(&s1);
    crdt_fini(&s2);
    vc_fini(&vc);
}

/* The expiry register: EXPIRE/PERSIST supersede what they saw, concurrent
 * EXPIREs keep the longest, DEL clears it, deltas of other operations
 * leave it alone, and it travels through the codec. */
static void test_expiry(void **state)
{
    (void)state;
    struct crdt a, b, d;
    crdt_init(&a, CRDT_HASH);
    crdt_init(&b, CRDT_HASH);
    assert_int_equal(crdt_expire(&a), 0);
    hset(&a, 0, "f", "v", &d);
    join_into(&b, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire_set(&a, actor[0], 5000, &d), 0);
    assert_int_equal(crdt_expire(&a), 5000);
    assert_true(d.scoped && d.exp_scoped && d.nelem == 0 && d.nexp == 1);
    roundtrip(&d);
    join_into(&b, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire(&b), 5000);
    /* an HSET's delta does not touch the expiry */
    hset(&a, 0, "g", "w", &d);
    assert_false(d.exp_scoped);
    join_into(&b, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire(&b), 5000);
    assert_true(same(&a, &b));
    /* concurrent EXPIREs: both kept, the longest life wins, both ways */
    assert_int_equal(crdt_expire_set(&a, actor[0], 3000, NULL), 0);
    assert_int_equal(crdt_expire_set(&b, actor[1], 9000, NULL), 0);
    struct crdt ab, ba;
    joined(&ab, &a, &b);
    joined(&ba, &b, &a);
    assert_true(same(&ab, &ba));
    assert_int_equal(ab.nexp, 2);
    assert_int_equal(crdt_expire(&ab), 9000);
    roundtrip(&ab);
    /* an EXPIRE that saw both replaces them, even by a shorter one */
    assert_int_equal(crdt_expire_set(&ab, actor[2], 2000, &d), 0);
    assert_int_equal(ab.nexp, 1);
    join_into(&ba, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire(&ba), 2000);
    /* PERSIST: no entry, but a dot; a concurrent EXPIRE it did not see wins */
    uint64_t next = crdt_next_counter(&ab, actor[2]);
    assert_int_equal(crdt_expire_set(&ab, actor[2], 0, &d), 0);
    assert_true(crdt_ctx_has(&ab, actor[2], next) && crdt_expire(&ab) == 0);
    assert_true(d.exp_scoped && d.nexp == 0);
    roundtrip(&d); /* a PERSIST delta: expiry in scope, no entry */
    assert_int_equal(crdt_expire_set(&ba, actor[1], 7000, NULL), 0);
    join_into(&ba, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire(&ba), 7000);
    join_into(&ab, &ba);
    assert_int_equal(crdt_expire(&ab), 7000);
    /* DEL clears the expiry it saw, keeps one it did not */
    crdt_fini(&a);
    crdt_init(&a, CRDT_NONE);
    crdt_copy(&a, &ab);
    assert_int_equal(crdt_expire_set(&a, actor[0], 8000, NULL), 0);
    assert_int_equal(crdt_clear(&ab, actor[1], &d), 0);
    assert_int_equal(crdt_expire(&ab), 0);
    join_into(&a, &d);
    crdt_fini(&d);
    assert_int_equal(crdt_expire(&a), 8000);
    assert_int_equal(a.nexp, 1);
    assert_int_equal(crdt_expire_set(&a, actor[0], -1, &d), KV_EINVAL);
    assert_true(d.scoped && !d.exp_scoped);
    crdt_fini(&d);
    /* digests see it */
    crdt_fini(&b);
    crdt_init(&b, CRDT_NONE);
    crdt_copy(&b, &a);
    uint64_t dg = crdt_digest("k", 1, &b), cd = crdt_ctx_digest(&b);
    assert_int_equal(crdt_expire_set(&b, actor[0], 8000, NULL), 0); /* same time, new dot */
    assert_true(crdt_digest("k", 1, &b) != dg && crdt_ctx_digest(&b) != cd);
    crdt_fini(&ab);
    crdt_fini(&ba);
    crdt_fini(&a);
    crdt_fini(&b);
}

/* Hand-made encodings: a scoped delta covers the expiry only with the
 * flag; expiry entries are validated like element entries. */
static void test_expiry_codec(void **state)
{
    (void)state;
    /* full state: context n9:1, expiry (n9:1, 300) */
    const uint8_t full[] = { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 1, 0, 1, 0, 1, 0xac, 0x02, 0 };
    /* scoped, context n9:1..2, no element: without / with the expiry in scope */
    const uint8_t no_scope[] = { 1, CRDT_SET, 1, 1, 2, 'n', '9', 1, 0, 2, 0, 0 };
    const uint8_t in_scope[] = { 1, CRDT_SET, 5, 1, 2, 'n', '9', 1, 0, 2, 0, 0, 0 };
    /* context n9:1..2, expiry (n9:1, 5), element x at n9:2 */
    const uint8_t with_elem[] = { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 2, 0, 1, 0, 1, 5,
                                  1, 1, 'x', 1, CRDT_K_MEMBER, 0, 2 };
    const uint8_t bad[][22] = {
        { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 1, 0, 0, 0 },                  /* full, 0 entries */
        { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 1, 0, 1, 0, 2, 0xac, 0x02, 0 }, /* dot outside */
        { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 1, 0, 1, 0, 1, 0, 0 },          /* ms 0 */
        { 1, CRDT_SET, 4, 1, 2, 'n', '9', 1, 0, 2, 0, 1, 0, 1, 5,
          1, 1, 'x', 1, CRDT_K_MEMBER, 0, 1 },                                 /* dot on x too */
        { 1, CRDT_SET, 0, 1, 2, 'n', '9', 1, 0, 2, 0, 1, 0, 1, 5,
          1, 1, 'x', 1, CRDT_K_MEMBER, 0, 2 },                                 /* no flag */
    };
    const size_t badlen[] = { 13, 17, 16, 22, 22 };
    struct crdt c, s1, s2;
    assert_int_equal(crdt_decode(&c, with_elem, sizeof(with_elem), 64, 64), 0);
    assert_true(crdt_expire(&c) == 5 && contains(&c, "x"));
    roundtrip(&c);
    crdt_fini(&c);
    assert_int_equal(crdt_decode(&c, full, sizeof(full), 64, 64), 0);
    assert_int_equal(crdt_expire(&c), 300);
    roundtrip(&c);
    assert_int_equal(crdt_decode(&s1, no_scope, sizeof(no_scope), 64, 64), 0);
    assert_int_equal(crdt_decode(&s2, in_scope, sizeof(in_scope), 64, 64), 0);
    assert_true(!s1.exp_scoped && s2.exp_scoped);
    roundtrip(&s1);
    roundtrip(&s2);
    struct crdt x;
    joined(&x, &c, &s1); /* not in scope: the entry stays */
    assert_int_equal(crdt_expire(&x), 300);
    crdt_fini(&x);
    joined(&x, &c, &s2); /* in scope, seen, not held: superseded */
    assert_int_equal(crdt_expire(&x), 0);
    crdt_fini(&x);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        PROP(crdt_decode(&x, bad[i], badlen[i], 64, 64) == KV_EPROTO);
        PROP(x.type == CRDT_NONE && x.nexp == 0);
    }
    crdt_fini(&c);
    crdt_fini(&s1);
    crdt_fini(&s2);
}

int main(void)
{
    crdt_test_init("test_crdt_ctx");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_removal_mints_dot, setup),
        cmocka_unit_test_setup(test_holes_out_of_order, setup),
        cmocka_unit_test_setup(test_ctx_digest, setup),
        cmocka_unit_test_setup(test_ctx_seed, setup),
        cmocka_unit_test_setup(test_expiry, setup),
        cmocka_unit_test_setup(test_expiry_codec, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
