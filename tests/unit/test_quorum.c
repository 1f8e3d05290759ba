/* test_quorum.c — the Dynamo rules of the quorum core (core/quorum.h), one
 * test (at least) per rule: request accounting (met, missed, cannot be met
 * any more, late replies), stamping (blind writes, merged contexts, counters
 * above everything known, refusals), sloppy substitutes and hint counting,
 * read repair, and the stale-coordinator supersede decision.  No network:
 * liveness is a table the tests set. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/quorum.h"
#include "core/siblings.h"
#include "core/vclock.h"
#include "util/errors.h"
#include "util/val.h"

static uint32_t A1, A2, A3; /* clock actors of three coordinators */

static int setup(void **state)
{
    (void)state;
    A1 = vc_actor_intern("n1.1", 4);
    A2 = vc_actor_intern("n2.1", 4);
    A3 = vc_actor_intern("n3.1", 4);
    return 0;
}

/* ---- helpers ---- */

/* Liveness of nodes 0..QUORUM_MAX_NODES-1 as the tests set it. */
static bool alive[QUORUM_MAX_NODES];

static bool up(void *ctx, int idx)
{
    int *asked = ctx;
    if (asked)
        (*asked)++;
    return alive[idx];
}

static void set_alive(const int *nodes, unsigned n)
{
    memset(alive, 0, sizeof(alive));
    for (unsigned i = 0; i < n; i++)
        alive[nodes[i]] = true;
}

/* A version written by actor with dot counter `counter` over context ctx
 * (NULL = empty), holding value s (NULL = tombstone). */
static void mkdot(struct version *v, const char *s, const struct vclock *ctx, uint32_t actor,
                  uint64_t counter)
{
    struct vclock empty;
    vc_init(&empty);
    version_init(v);
    if (s)
        v->val = val_create(s, strlen(s));
    version_set_dot(v, ctx ? ctx : &empty, actor, counter, 1000 + counter);
    vc_fini(&empty);
}

static void add(struct sibset *s, const char *val, const struct vclock *ctx, uint32_t actor,
                uint64_t counter)
{
    struct version v;
    mkdot(&v, val, ctx, actor, counter);
    assert_true(sib_add_move(s, &v));
}

static bool has_value(const struct sibset *s, const char *val)
{
    for (uint32_t i = 0; i < s->n; i++) {
        const struct val *v = s->v[i].val;
        if (v && v->len == strlen(val) && memcmp(v->data, val, v->len) == 0)
            return true;
    }
    return false;
}

static struct quorum_stamp stamper(uint32_t actor, bool owner, uint64_t *floor)
{
    struct quorum_stamp st = {
        .actor = actor,
        .owner = owner,
        .client_ctx = false,
        .vclock_max_entries = VC_DEFAULT_MAX_ENTRIES,
        .max_siblings = 100,
        .now_ms = 5000,
        .sloppy_floor = floor,
    };
    return st;
}

/* ---- accounting ---- */

static void test_quorum_met(void **state)
{
    (void)state;
    struct quorum q;
    quorum_init(&q, 2, 3); /* W = 2 of N = 3 */
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT);
    quorum_ack(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT);
    assert_false(quorum_settled(&q));
    quorum_ack(&q);
    assert_true(quorum_settled(&q));
    /* met while still being sent: the caller is answered, the record stays
     * (the guard) */
    assert_int_equal(quorum_poll(&q), QUORUM_MET);
    assert_false(quorum_done(&q));
    quorum_seal(&q);
    assert_false(quorum_done(&q)); /* the third answer is still to come */
    /* a late reply, failed or not, changes no answer */
    quorum_fail(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT);
    assert_true(quorum_done(&q));
    assert_int_equal(q.acks, 2);
    assert_int_equal(q.fails, 1);
    assert_string_equal(quorum_verdict_name(QUORUM_MET), "met");
}

static void test_quorum_missed(void **state)
{
    (void)state;
    struct quorum q;
    quorum_init(&q, 2, 3);
    quorum_ack(&q);
    quorum_fail(&q);
    quorum_seal(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT); /* the last answer may still count */
    quorum_fail(&q);
    assert_true(quorum_settled(&q));
    assert_int_equal(quorum_poll(&q), QUORUM_MISSED);
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT); /* answered once */
    assert_true(quorum_done(&q));
    assert_string_equal(quorum_verdict_name(QUORUM_MISSED), "missed");
}

/* Missed as soon as it cannot be met any more, before every answer came;
 * the replies after that complete the record but change nothing. */
static void test_quorum_cannot_be_met(void **state)
{
    (void)state;
    struct quorum q;
    quorum_init(&q, 3, 3); /* W = N = 3 */
    quorum_seal(&q);
    quorum_fail(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_MISSED);
    assert_false(quorum_done(&q));
    quorum_ack(&q);
    quorum_ack(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT);
    assert_true(quorum_done(&q));
    assert_int_equal(q.acks, 2);
}

/* The guard: answers that arrive while the request is still being sent
 * (a peer that is down answers inside the send) do not declare it lost
 * before every replica was asked... */
static void test_quorum_guard(void **state)
{
    (void)state;
    struct quorum q;
    quorum_init(&q, 1, 1);
    quorum_fail(&q); /* the only replica failed at once */
    assert_int_equal(quorum_poll(&q), QUORUM_WAIT);
    assert_false(quorum_done(&q));
    quorum_seal(&q);
    assert_int_equal(quorum_poll(&q), QUORUM_MISSED);
    assert_true(quorum_done(&q));
    /* ...and a request with nobody to ask misses at the seal (R > 0) */
    quorum_init(&q, 1, 0);
    assert_false(quorum_settled(&q));
    quorum_seal(&q);
    assert_true(quorum_settled(&q));
    assert_int_equal(quorum_poll(&q), QUORUM_MISSED);
    assert_true(quorum_done(&q));
}

/* ---- stamping ---- */

/* A blind write (empty client context) onto a key holding another
 * coordinator's version is concurrent with it: both stay. */
static void test_stamp_blind_concurrent(void **state)
{
    (void)state;
    uint64_t floor = 0;
    struct sibset local;
    sib_init(&local);
    add(&local, "theirs", NULL, A2, 1);
    struct vclock ctx, reply;
    vc_init(&ctx);
    vc_init(&reply);
    struct version v;
    version_init(&v);
    v.val = val_create("mine", 4);
    struct quorum_stamp st = stamper(A1, true, &floor);
    st.client_ctx = true;
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), 0);
    assert_int_equal(v.dot_actor, A1);
    assert_int_equal(version_dot_counter(&v), 1);
    assert_int_equal(version_compare(&v, &local.v[0]), VC_CONCURRENT);
    assert_int_equal(st.siblings, 2);
    assert_int_equal(floor, 0); /* an owner does not touch the floor */
    assert_true(sib_add(&local, &v));
    assert_int_equal(local.n, 2);

    /* A second blind write by the same actor: its dot goes above the first
     * (counter 2) but stays concurrent with it, and the context handed back
     * leaves the dot out (it skipped counter 1, which the writer never saw). */
    struct version v2;
    version_init(&v2);
    v2.val = val_create("again", 5);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v2, &reply), 0);
    assert_int_equal(version_dot_counter(&v2), 2);
    assert_int_equal(v2.dot_base, 0);
    assert_int_equal(version_compare(&v2, &v), VC_CONCURRENT);
    assert_int_equal(st.siblings, 3);
    assert_int_equal(vc_counter(&reply, A1), 0);
    assert_int_equal(vc_counter(&v2.vc, A1), 2);
    version_fini(&v2);
    version_fini(&v);
    vc_fini(&ctx);
    vc_fini(&reply);
    sib_fini(&local);
}

/* A write with the merged context (SET: ctx NULL = every version stored
 * here) supersedes the whole set; the context back is its clock. */
static void test_stamp_merged_supersedes(void **state)
{
    (void)state;
    uint64_t floor = 0;
    struct sibset local;
    sib_init(&local);
    add(&local, "a", NULL, A1, 1);
    add(&local, "b", NULL, A2, 1);
    add(&local, "c", NULL, A3, 4);
    assert_int_equal(local.n, 3);
    struct vclock reply;
    vc_init(&reply);
    struct version v;
    version_init(&v);
    v.val = val_create("new", 3);
    struct quorum_stamp st = stamper(A1, true, &floor);
    assert_int_equal(quorum_stamp(&st, &local, NULL, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 2);
    assert_int_equal(v.dot_base, 1);
    for (uint32_t i = 0; i < local.n; i++)
        assert_true(version_seen_by(&local.v[i], &v));
    assert_int_equal(st.siblings, 1);
    assert_int_equal(vc_compare(&reply, &v.vc), VC_EQUAL);
    assert_true(sib_add(&local, &v));
    assert_int_equal(local.n, 1);
    assert_true(has_value(&local, "new"));
    version_fini(&v);
    vc_fini(&reply);
    sib_fini(&local);
}

/* The dot's counter is above every counter of this actor it knows: in the
 * stored versions, in the context, and (a key it does not own) the
 * node-wide floor, which every such write raises. */
static void test_stamp_counter_above_known(void **state)
{
    (void)state;
    uint64_t floor = 0;
    struct sibset local;
    sib_init(&local);
    add(&local, "x", NULL, A1, 7);
    struct vclock ctx, reply;
    vc_init(&ctx);
    vc_init(&reply);
    vc_increment(&ctx, A1, 1); /* a context the node built itself (not a client's) */
    ctx.e[0].counter = 9;      /* knowing more than the local copy (e.g. after FLUSHALL) */
    struct version v;
    version_init(&v);
    struct quorum_stamp st = stamper(A1, true, &floor);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 10);
    assert_int_equal(v.dot_base, 9);
    assert_int_equal(vc_compare(&reply, &v.vc), VC_EQUAL); /* nothing skipped */
    version_fini(&v);

    /* Not an owner: nothing stored here, the floor keeps dots unique. */
    struct sibset none;
    sib_init(&none);
    floor = 41;
    version_init(&v);
    st = stamper(A1, false, &floor);
    assert_int_equal(quorum_stamp(&st, &none, NULL, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 42);
    assert_int_equal(floor, 42);
    version_fini(&v);
    version_init(&v); /* another key, another write: still above */
    assert_int_equal(quorum_stamp(&st, &none, NULL, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 43);
    assert_int_equal(floor, 43);
    version_fini(&v);
    version_init(&v); /* a context above the floor wins, and raises it */
    assert_int_equal(quorum_stamp(&st, &none, &ctx, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 44);
    ctx.e[0].counter = 100;
    version_fini(&v);
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &none, &ctx, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 101);
    assert_int_equal(floor, 101);
    version_fini(&v);
    vc_fini(&ctx);
    vc_fini(&reply);
    sib_fini(&none);
    sib_fini(&local);
}

/* Refusals: a client context naming counters of this actor it never issued
 * for a key it holds (forged), one at the codec's cap, and max-siblings. */
static void test_stamp_refusals(void **state)
{
    (void)state;
    uint64_t floor = 0;
    struct sibset local;
    sib_init(&local);
    add(&local, "x", NULL, A1, 3);
    struct vclock ctx, reply;
    vc_init(&ctx);
    vc_init(&reply);
    vc_increment(&ctx, A1, 1);
    ctx.e[0].counter = 4; /* this node issued 3 */
    struct version v;
    version_init(&v);
    struct quorum_stamp st = stamper(A1, true, &floor);
    st.client_ctx = true;
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), KV_EBADCTX);
    assert_int_equal(st.siblings, 0);
    /* the same context from the node itself is taken */
    st.client_ctx = false;
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), 0);
    assert_int_equal(version_dot_counter(&v), 5);
    version_fini(&v);
    /* a counter at the cap: no dot can go above it */
    ctx.e[0].counter = VC_MAX_COUNTER;
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), KV_EBADCTX);
    version_fini(&v);

    /* max-siblings 2: a third concurrent version is refused, a resolving
     * write passes */
    add(&local, "y", NULL, A2, 1);
    assert_int_equal(local.n, 2);
    vc_clear(&ctx);
    st.max_siblings = 2;
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), KV_EMAXSIB);
    assert_int_equal(st.siblings, 3);
    version_fini(&v);
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &local, NULL, &v, &reply), 0);
    assert_int_equal(st.siblings, 1);
    version_fini(&v);
    /* A key already past max-siblings (lowered at runtime, or merged from
     * replicas): a write that does not add to it passes. */
    add(&local, "z", NULL, A3, 1);
    assert_int_equal(local.n, 3);
    vc_clear(&ctx);
    vc_increment(&ctx, A2, 1); /* resolves y only: x, z and the new one stay */
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), 0);
    assert_int_equal(st.siblings, 3);
    version_fini(&v);
    vc_clear(&ctx); /* a blind one adds to it: refused */
    version_init(&v);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &v, &reply), KV_EMAXSIB);
    assert_int_equal(st.siblings, 4);
    version_fini(&v);
    vc_fini(&ctx);
    vc_fini(&reply);
    sib_fini(&local);
}

/* The context is pruned to vclock-max-entries, never the dot. */
static void test_stamp_prunes_context_not_dot(void **state)
{
    (void)state;
    uint64_t floor = 0;
    struct sibset none;
    sib_init(&none);
    struct vclock ctx, reply;
    vc_init(&ctx);
    vc_init(&reply);
    vc_increment(&ctx, A2, 10);
    vc_increment(&ctx, A3, 20);
    struct version v;
    version_init(&v);
    struct quorum_stamp st = stamper(A1, true, &floor);
    st.vclock_max_entries = 2;
    assert_int_equal(quorum_stamp(&st, &none, &ctx, &v, &reply), 0);
    assert_int_equal(v.vc.n, 2);
    assert_int_equal(vc_counter(&v.vc, A1), 1);
    assert_int_equal(vc_counter(&v.vc, A2), 0); /* the oldest entry went */
    assert_int_equal(vc_counter(&v.vc, A3), 1);
    version_fini(&v);
    vc_fini(&ctx);
    vc_fini(&reply);
    sib_fini(&none);
}

/* ---- sloppy quorum ---- */

/* Owners 1 and 3 down: each gets its own substitute, the next healthy nodes
 * past the N owners, each used once; their copies count toward W. */
static void test_sloppy_substitutes(void **state)
{
    (void)state;
    const unsigned walk[] = {0, 1, 2, 3, 4, 5, 6};
    const int live[] = {0, 2, 4, 6}; /* 5 is down */
    set_alive(live, 4);
    struct quorum_write qw;
    quorum_write_init(&qw, 4, walk, 7, 4, 0, true); /* N = 4, W = 4, self = 0 */
    assert_true(qw.self_owner);
    struct quorum_act a[4];
    for (unsigned i = 0; i < 4; i++)
        a[i] = quorum_write_route(&qw, i, up, NULL);
    assert_int_equal(a[0].kind, QUORUM_ACT_NONE); /* self's own copy, counted */
    assert_int_equal(qw.acct.acks, 1);
    assert_int_equal(a[1].kind, QUORUM_ACT_HINT);
    assert_int_equal(a[1].target, 4);
    assert_int_equal(a[1].owner, 1);
    assert_int_equal(a[2].kind, QUORUM_ACT_PUT);
    assert_int_equal(a[2].target, 2);
    assert_int_equal(a[3].kind, QUORUM_ACT_HINT);
    assert_int_equal(a[3].target, 6); /* not 4 again, not the dead 5 */
    assert_int_equal(a[3].owner, 3);
    quorum_write_seal(&qw);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_WAIT);
    for (unsigned i = 1; i < 4; i++) {
        struct quorum_act next = quorum_write_reply(&qw, &a[i], true, NULL, up, NULL);
        assert_int_equal(next.kind, QUORUM_ACT_NONE);
    }
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET); /* hints counted */
    assert_true(quorum_done(&qw.acct));
    assert_string_equal(quorum_act_name(QUORUM_ACT_HINT), "hint");
    quorum_write_fini(&qw);
}

/* An owner that refuses its copy is replaced by the next substitute; once
 * none is left, the coordinator (an owner itself) keeps the hint without
 * counting it, and the write misses W. */
static void test_sloppy_refused_and_keep(void **state)
{
    (void)state;
    const unsigned walk[] = {0, 1, 2, 3};
    const int live[] = {0, 1, 2, 3};
    set_alive(live, 4);
    struct quorum_write qw;
    quorum_write_init(&qw, 3, walk, 4, 3, 0, true); /* N = W = 3 */
    struct quorum_act a0 = quorum_write_route(&qw, 0, up, NULL);
    struct quorum_act a1 = quorum_write_route(&qw, 1, up, NULL);
    struct quorum_act a2 = quorum_write_route(&qw, 2, up, NULL);
    quorum_write_seal(&qw);
    assert_int_equal(a0.kind, QUORUM_ACT_NONE);
    assert_int_equal(a1.kind, QUORUM_ACT_PUT);
    assert_int_equal(a2.kind, QUORUM_ACT_PUT);
    /* owner 1 refuses: substitute 3 gets it, still pending */
    int pending = qw.acct.pending;
    struct quorum_act s = quorum_write_reply(&qw, &a1, false, NULL, up, NULL);
    assert_int_equal(s.kind, QUORUM_ACT_HINT);
    assert_int_equal(s.target, 3);
    assert_int_equal(s.owner, 1);
    assert_int_equal(qw.acct.pending, pending);
    assert_int_equal(qw.acct.fails, 0);
    /* owner 2 refuses: no substitute left, self is an owner: keep, uncounted */
    struct quorum_act k = quorum_write_reply(&qw, &a2, false, NULL, up, NULL);
    assert_int_equal(k.kind, QUORUM_ACT_KEEP);
    assert_int_equal(k.target, 0);
    assert_int_equal(k.owner, 2);
    quorum_write_kept(&qw, &k, true);
    assert_int_equal(qw.acct.acks, 1);
    assert_int_equal(qw.acct.fails, 1);
    /* W = 3 cannot be met any more (one answer to come), so it is missed now */
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MISSED);
    assert_false(quorum_done(&qw.acct));
    /* the substitute's hint fails too: no second substitute for a hint */
    struct quorum_act none = quorum_write_reply(&qw, &s, false, NULL, up, NULL);
    assert_int_equal(none.kind, QUORUM_ACT_NONE);
    assert_int_equal(qw.acct.fails, 2);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_WAIT);
    assert_true(quorum_done(&qw.acct));
    quorum_write_fini(&qw);
}

/* A coordinator that does not own the key (its owners look down) is itself
 * a distinct node: its hint counts once; for the next owner with no
 * substitute left it keeps the hint without counting it. */
static void test_sloppy_coordinator_substitute(void **state)
{
    (void)state;
    const unsigned walk[] = {1, 2, 3, 0}; /* self 0 comes after the owners */
    const int live[] = {0};
    set_alive(live, 1);
    struct quorum_write qw;
    quorum_write_init(&qw, 2, walk, 4, 3, 0, true);
    assert_false(qw.self_owner);
    struct quorum_act a = quorum_write_route(&qw, 0, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_HINT);
    assert_int_equal(a.target, 0);
    assert_int_equal(a.owner, 1);
    quorum_write_kept(&qw, &a, true);
    assert_int_equal(qw.acct.acks, 1);
    struct quorum_act b = quorum_write_route(&qw, 1, up, NULL);
    assert_int_equal(b.kind, QUORUM_ACT_KEEP);
    assert_int_equal(b.owner, 2);
    quorum_write_kept(&qw, &b, true);
    struct quorum_act c = quorum_write_route(&qw, 2, up, NULL);
    assert_int_equal(c.kind, QUORUM_ACT_KEEP);
    quorum_write_kept(&qw, &c, true);
    quorum_write_seal(&qw);
    assert_int_equal(qw.acct.acks, 1); /* W = 2 missed: one distinct copy */
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MISSED);
    assert_true(quorum_done(&qw.acct));
    quorum_write_fini(&qw);

    /* The coordinator takes its turn in ring order (it is up without being
     * asked): first substitute for owner 1, the next healthy node for owner 2. */
    const unsigned walk5[] = {1, 2, 3, 0, 4};
    const int live4[] = {4};
    set_alive(live4, 1);
    quorum_write_init(&qw, 2, walk5, 5, 3, 0, true);
    a = quorum_write_route(&qw, 0, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_HINT);
    assert_int_equal(a.target, 0);
    b = quorum_write_route(&qw, 1, up, NULL);
    assert_int_equal(b.kind, QUORUM_ACT_HINT);
    assert_int_equal(b.target, 4);
    c = quorum_write_route(&qw, 2, up, NULL);
    assert_int_equal(c.kind, QUORUM_ACT_KEEP);
    quorum_write_fini(&qw);

    /* A coordinator outside the walk (not yet a ring member) substitutes
     * directly, once. */
    const unsigned walk3[] = {1, 2, 3};
    quorum_write_init(&qw, 1, walk3, 3, 3, 5, true);
    a = quorum_write_route(&qw, 0, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_HINT);
    assert_int_equal(a.target, 5);
    quorum_write_kept(&qw, &a, true);
    b = quorum_write_route(&qw, 1, up, NULL);
    assert_int_equal(b.kind, QUORUM_ACT_KEEP);
    quorum_write_kept(&qw, &b, false); /* could not keep it: a failure */
    assert_int_equal(qw.acct.fails, 1);
    quorum_write_fini(&qw);
}

/* Self's own copy refused (its log full) is not an ack; a lone node (no
 * ring) answers for itself at the seal. */
static void test_write_self_copy(void **state)
{
    (void)state;
    const unsigned walk[] = {0, 1};
    const int live[] = {0, 1};
    set_alive(live, 2);
    struct quorum_write qw;
    quorum_write_init(&qw, 1, walk, 2, 2, 0, false);
    struct quorum_act a = quorum_write_route(&qw, 0, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_NONE);
    assert_int_equal(qw.acct.fails, 1);
    struct quorum_act b = quorum_write_route(&qw, 1, up, NULL);
    quorum_write_seal(&qw);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_WAIT);
    quorum_write_reply(&qw, &b, true, NULL, up, NULL);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET);
    quorum_write_fini(&qw);

    quorum_write_init(&qw, 1, NULL, 0, 0, 0, true);
    assert_false(quorum_settled(&qw.acct));
    quorum_write_seal(&qw);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET);
    assert_true(quorum_done(&qw.acct));
    quorum_write_fini(&qw);
    quorum_write_init(&qw, 1, NULL, 0, 0, 0, false);
    quorum_write_seal(&qw);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MISSED);
    quorum_write_fini(&qw);
}

/* Liveness is asked when a copy is routed, not before: a substitute used
 * by an earlier owner's refusal is not offered again. */
static void test_sloppy_each_substitute_once(void **state)
{
    (void)state;
    const unsigned walk[] = {0, 1, 2, 3, 4};
    const int live[] = {0, 1, 3, 4};
    set_alive(live, 4);
    struct quorum_write qw;
    quorum_write_init(&qw, 3, walk, 5, 3, 0, true);
    int asked = 0;
    quorum_write_route(&qw, 0, up, &asked);
    assert_int_equal(asked, 0); /* self is up without asking */
    struct quorum_act a1 = quorum_write_route(&qw, 1, up, &asked);
    assert_int_equal(a1.kind, QUORUM_ACT_PUT);
    /* owner 1 refuses at once (answered inside the send): takes 3 */
    struct quorum_act s1 = quorum_write_reply(&qw, &a1, false, NULL, up, &asked);
    assert_int_equal(s1.target, 3);
    /* owner 2 is down: 3 is used, so 4 */
    struct quorum_act a2 = quorum_write_route(&qw, 2, up, &asked);
    assert_int_equal(a2.kind, QUORUM_ACT_HINT);
    assert_int_equal(a2.target, 4);
    quorum_write_seal(&qw);
    quorum_write_reply(&qw, &s1, true, NULL, up, NULL);
    quorum_write_reply(&qw, &a2, true, NULL, up, NULL);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET);
    assert_true(quorum_done(&qw.acct));
    quorum_write_fini(&qw);
}

/* ---- the stale coordinator ---- */

/* An owner answering PPUT with versions the write does not cover: kept for
 * the supersede decision (hints' answers are not). */
static void test_write_collects_newer(void **state)
{
    (void)state;
    const unsigned walk[] = {0, 1, 2, 3};
    const int live[] = {0, 1, 3};
    set_alive(live, 3);
    struct quorum_write qw;
    quorum_write_init(&qw, 2, walk, 4, 3, 0, true);
    quorum_write_route(&qw, 0, up, NULL);
    struct quorum_act a1 = quorum_write_route(&qw, 1, up, NULL);
    struct quorum_act a2 = quorum_write_route(&qw, 2, up, NULL);
    assert_int_equal(a2.kind, QUORUM_ACT_HINT);
    quorum_write_seal(&qw);
    struct sibset more;
    sib_init(&more);
    add(&more, "newer", NULL, A2, 5);
    quorum_write_reply(&qw, &a2, true, &more, up, NULL); /* a hint: ignored */
    assert_int_equal(qw.newer.n, 0);
    quorum_write_reply(&qw, &a1, true, &more, up, NULL);
    assert_int_equal(qw.newer.n, 1);
    assert_true(has_value(&qw.newer, "newer"));
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET);
    assert_true(quorum_done(&qw.acct));
    sib_fini(&more);
    quorum_write_fini(&qw);
}

static void test_supersede_decision(void **state)
{
    (void)state;
    /* The coordinator's stale copy had only "old" (A1:1); it wrote "w"
     * over it; an owner had "theirs" (A2:1), which the write did not see. */
    struct sibset local, newer;
    sib_init(&local);
    sib_init(&newer);
    struct version old;
    mkdot(&old, "old", NULL, A1, 1);
    struct version w;
    mkdot(&w, "w", &old.vc, A1, 2);
    assert_true(sib_add(&local, &w));
    add(&newer, "theirs", NULL, A2, 1);
    struct vclock ctx;
    vc_init(&ctx);
    assert_true(quorum_supersede(&local, &w.vc, &newer, &ctx));
    /* a write stamped with that context covers both */
    uint64_t floor = 0;
    struct quorum_stamp st = stamper(A1, true, &floor);
    struct version redo;
    version_init(&redo);
    redo.val = val_create("w", 1);
    struct vclock reply;
    vc_init(&reply);
    assert_int_equal(quorum_stamp(&st, &local, &ctx, &redo, &reply), 0);
    assert_true(version_seen_by(&w, &redo));
    assert_true(version_seen_by(&newer.v[0], &redo));
    assert_int_equal(st.siblings, 1);

    /* Not when something newer was stamped here meanwhile (it runs this
     * check itself): local's context is no longer the write's clock. */
    struct sibset later;
    sib_init(&later);
    add(&later, "later", &w.vc, A1, 3);
    assert_false(quorum_supersede(&later, &w.vc, &newer, &ctx));
    /* Not when local already holds what the owner reported. */
    struct sibset both;
    sib_init(&both);
    sib_add(&both, &w);
    sib_add(&both, &newer.v[0]);
    struct vclock bctx;
    vc_init(&bctx);
    sib_context(&both, &bctx);
    assert_false(quorum_supersede(&both, &bctx, &newer, &ctx));
    /* Not when nothing was reported. */
    struct sibset empty;
    sib_init(&empty);
    assert_false(quorum_supersede(&local, &w.vc, &empty, &ctx));
    /* A coordinator that stores nothing (not an owner) redoes it. */
    assert_true(quorum_supersede(&empty, &w.vc, &newer, &ctx));
    assert_true(vc_descends(&ctx, &w.vc));
    assert_true(vc_descends(&ctx, &newer.v[0].vc));

    vc_fini(&bctx);
    sib_fini(&both);
    sib_fini(&later);
    sib_fini(&empty);
    vc_fini(&reply);
    version_fini(&redo);
    vc_fini(&ctx);
    version_fini(&w);
    version_fini(&old);
    sib_fini(&newer);
    sib_fini(&local);
}

/* ---- reads and read repair ---- */

/* A read over n owners first..first+n-1, all asked, no PR. */
static void read_owners(struct quorum_read *qr, int r, unsigned n, unsigned first)
{
    unsigned t[QUORUM_MAX_NODES];
    bool p[QUORUM_MAX_NODES];
    for (unsigned i = 0; i < n; i++) {
        t[i] = first + i;
        p[i] = true;
    }
    quorum_read_init(qr, r, 0, t, p, n, n);
}

static void test_read_repair(void **state)
{
    (void)state;
    struct version v1, v2;
    mkdot(&v1, "v1", NULL, A1, 1);
    mkdot(&v2, "v2", &v1.vc, A2, 1); /* supersedes v1 */
    struct quorum_read qr;
    read_owners(&qr, 2, 4, 0);
    struct sibset s;
    sib_init(&s);
    sib_add(&s, &v2);
    quorum_read_answer(&qr, 0, &s); /* up to date; taken */
    assert_int_equal(s.n, 0);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_WAIT);
    sib_add(&s, &v1);
    quorum_read_answer(&qr, 1, &s); /* stale */
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MET);
    assert_int_equal(qr.merged.n, 1);
    assert_true(has_value(&qr.merged, "v2"));
    quorum_read_answer(&qr, 2, NULL); /* failed: nothing to repair */
    quorum_seal(&qr.acct);
    quorum_read_answer(&qr, 3, &s);   /* missing the key (late reply) */
    assert_true(quorum_done(&qr.acct));
    int nodes[QUORUM_MAX_NODES];
    assert_int_equal(quorum_read_repairs(&qr, nodes), 2);
    assert_int_equal(nodes[0], 1);
    assert_int_equal(nodes[1], 3);
    quorum_read_fini(&qr);

    /* Everyone up to date, or the key found nowhere: no repair. */
    read_owners(&qr, 1, 2, 0);
    sib_add(&s, &v2);
    quorum_read_answer(&qr, 0, &s);
    sib_add(&s, &v2);
    quorum_read_answer(&qr, 1, &s);
    assert_int_equal(quorum_read_repairs(&qr, nodes), 0);
    quorum_read_fini(&qr);
    read_owners(&qr, 1, 2, 0);
    quorum_read_answer(&qr, 0, &s);
    quorum_read_answer(&qr, 1, &s);
    assert_int_equal(qr.acct.acks, 2);
    assert_int_equal(quorum_read_repairs(&qr, nodes), 0);
    quorum_read_fini(&qr);

    /* Concurrent answers: each replica lacks the other's sibling. */
    struct version c;
    mkdot(&c, "c", &v1.vc, A3, 1);
    read_owners(&qr, 2, 3, 4);
    sib_add(&s, &v2);
    quorum_read_answer(&qr, 4, &s);
    sib_add(&s, &c);
    quorum_read_answer(&qr, 5, &s);
    sib_add(&s, &v2);
    sib_add(&s, &c);
    quorum_read_answer(&qr, 6, &s);
    assert_int_equal(qr.merged.n, 2);
    assert_int_equal(quorum_read_repairs(&qr, nodes), 2);
    assert_int_equal(nodes[0], 4);
    assert_int_equal(nodes[1], 5);
    quorum_read_fini(&qr);

    version_fini(&c);
    sib_fini(&s);
    version_fini(&v1);
    version_fini(&v2);
}

/* A read whose replicas fail misses R; a read with no replica at all
 * misses at the seal. */
static void test_read_missed(void **state)
{
    (void)state;
    struct quorum_read qr;
    read_owners(&qr, 2, 3, 0);
    struct sibset s;
    sib_init(&s);
    quorum_read_answer(&qr, 0, &s);
    quorum_read_answer(&qr, 1, NULL);
    quorum_read_answer(&qr, 2, NULL);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_WAIT); /* guard */
    quorum_seal(&qr.acct);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MISSED);
    assert_true(quorum_done(&qr.acct));
    quorum_read_fini(&qr);
    read_owners(&qr, 1, 0, 0);
    quorum_seal(&qr.acct);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MISSED);
    quorum_read_fini(&qr);
    sib_fini(&s);
}


/* Sloppy reads: every owner, and for each owner that looks down also the
 * next healthy node past the owners (owners first, in walk order). */
static void test_sloppy_read_targets(void **state)
{
    (void)state;
    const unsigned walk[5] = {0, 1, 2, 3, 4};
    unsigned t[QUORUM_MAX_NODES];
    bool p[QUORUM_MAX_NODES];
    set_alive((const int[]){0, 1, 2, 3, 4}, 5);
    assert_int_equal(quorum_read_targets(walk, 5, 3, 0, up, NULL, t, p), 3);
    assert_true(t[0] == 0 && t[1] == 1 && t[2] == 2 && p[0] && p[1] && p[2]);
    set_alive((const int[]){0, 3, 4}, 3); /* a 2|3 split seen from {0,3,4} */
    assert_int_equal(quorum_read_targets(walk, 5, 3, 0, up, NULL, t, p), 5);
    assert_true(t[0] == 0 && p[0] && t[1] == 1 && p[1] && t[2] == 2 && p[2]);
    assert_true(t[3] == 3 && !p[3] && t[4] == 4 && !p[4]);
    set_alive((const int[]){1, 2}, 2); /* self (4) is not an owner, 0 is down */
    assert_int_equal(quorum_read_targets(walk, 5, 3, 4, up, NULL, t, p), 4);
    assert_true(t[0] == 0 && p[0] && t[1] == 1 && p[1] && t[2] == 2 && p[2]);
    assert_true(t[3] == 4 && !p[3]);
    set_alive((const int[]){0}, 1); /* nobody else up: no substitute either */
    assert_int_equal(quorum_read_targets(walk, 5, 3, 0, up, NULL, t, p), 3);
    assert_true(t[0] == 0 && t[1] == 1 && t[2] == 2);
    set_alive((const int[]){0, 1, 2, 3, 4}, 5);
}

/* PR: a read that could meet R through substitutes still fails when too
 * few owners can answer; with enough owners it waits for them. */
static void test_read_primary_quorum(void **state)
{
    (void)state;
    const unsigned targets[3] = {0, 3, 4};
    const bool primary[3] = {true, false, false};
    struct quorum_read qr;
    struct sibset s;
    sib_init(&s);
    /* PR 2 with one owner asked: missed at once, before any answer */
    quorum_read_init(&qr, 2, 2, targets, primary, 3, 3);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MISSED);
    quorum_read_fini(&qr);
    /* PR 2 with all three owners asked (two look down, with substitutes):
     * missed once two owners failed, although R was met by substitutes */
    const unsigned all[5] = {0, 1, 2, 3, 4};
    const bool owner[5] = {true, true, true, false, false};
    quorum_read_init(&qr, 2, 2, all, owner, 5, 3);
    quorum_read_answer(&qr, 0, &s);
    quorum_read_answer(&qr, 3, &s);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_WAIT);
    quorum_read_answer(&qr, 1, NULL);
    quorum_read_answer(&qr, 2, NULL);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MISSED);
    quorum_read_fini(&qr);
    /* PR 0 (plain R 2): the substitutes' answers are enough */
    quorum_read_init(&qr, 2, 0, targets, primary, 3, 3);
    quorum_read_answer(&qr, 3, &s);
    quorum_read_answer(&qr, 4, &s);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MET);
    quorum_read_fini(&qr);
    /* PR 1: two substitutes answered, the owner's answer is still needed */
    quorum_read_init(&qr, 2, 1, targets, primary, 3, 3);
    quorum_read_answer(&qr, 3, &s);
    quorum_read_answer(&qr, 4, &s);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_WAIT);
    quorum_read_answer(&qr, 0, &s);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MET);
    quorum_read_fini(&qr);
    /* PR 1 and the owner fails: missed although R was met */
    quorum_read_init(&qr, 2, 1, targets, primary, 3, 3);
    quorum_read_answer(&qr, 3, &s);
    quorum_read_answer(&qr, 4, &s);
    quorum_read_answer(&qr, 0, NULL);
    assert_int_equal(quorum_poll(&qr.acct), QUORUM_MISSED);
    quorum_read_fini(&qr);
    sib_fini(&s);
}

/* Read repair writes owners only: a substitute's answer is hints. */
static void test_read_repair_owners_only(void **state)
{
    (void)state;
    struct version v1;
    mkdot(&v1, "v1", NULL, A1, 1);
    const unsigned targets[3] = {0, 3, 4};
    const bool primary[3] = {true, false, false};
    struct quorum_read qr;
    quorum_read_init(&qr, 1, 0, targets, primary, 3, 3);
    struct sibset s;
    sib_init(&s);
    quorum_read_answer(&qr, 3, &s); /* substitute without the key */
    sib_add(&s, &v1);
    quorum_read_answer(&qr, 4, &s); /* substitute holding a hint */
    quorum_read_answer(&qr, 0, &s); /* the owner, without the key */
    quorum_seal(&qr.acct);
    int nodes[QUORUM_MAX_NODES];
    assert_int_equal(quorum_read_repairs(&qr, nodes), 1);
    assert_int_equal(nodes[0], 0);
    assert_true(has_value(&qr.merged, "v1"));
    quorum_read_fini(&qr);
    sib_fini(&s);
    version_fini(&v1);
}

/* A flush epoch learnt mid-read: the older versions leave the reconciled
 * set and every answer kept, so neither the reply nor read repair has them.
 * (A newer-epoch version in an answer already dominates them in the merge;
 * this is for the replica that answers "nothing" because it flushed.) */
static void test_read_drop_before_epoch(void **state)
{
    (void)state;
    struct version old, fresh;
    mkdot(&old, "old", NULL, A1, 1);            /* epoch 0: from before the flush */
    mkdot(&fresh, "fresh", NULL, A2, 1);
    fresh.epoch = 2;                            /* stamped after flush epoch 2 */
    struct quorum_read qr;
    read_owners(&qr, 2, 3, 0);
    struct sibset s;
    sib_init(&s);
    sib_add(&s, &old);
    quorum_read_answer(&qr, 0, &s);             /* self, still holding the old one */
    quorum_read_answer(&qr, 1, &s);             /* a replica that flushed: nothing */
    assert_true(has_value(&qr.merged, "old"));
    quorum_read_drop_before(&qr, 2);
    assert_int_equal(qr.merged.n, 0);
    assert_int_equal(qr.ans_set[0].n, 0);
    int nodes[QUORUM_MAX_NODES];
    quorum_read_answer(&qr, 2, NULL);
    quorum_seal(&qr.acct);
    assert_int_equal(quorum_read_repairs(&qr, nodes), 0); /* nothing to spread */
    quorum_read_fini(&qr);
    /* a later version survives the drop, and only it */
    read_owners(&qr, 1, 2, 0);
    sib_add(&s, &old);
    quorum_read_answer(&qr, 0, &s);
    quorum_read_drop_before(&qr, 2);
    sib_add(&s, &fresh);
    quorum_read_answer(&qr, 1, &s);
    assert_int_equal(qr.merged.n, 1);
    assert_true(has_value(&qr.merged, "fresh"));
    quorum_read_fini(&qr);
    sib_fini(&s);
    version_fini(&old);
    version_fini(&fresh);
}

/* PW: substitutes' hints count toward W but not toward PW. */
static void test_write_primary_quorum(void **state)
{
    (void)state;
    const unsigned walk[5] = {0, 1, 2, 3, 4};
    set_alive((const int[]){0, 2, 3, 4}, 4); /* owner 1 down */
    struct quorum_write qw;
    /* PW 3 with an owner down: missed as soon as it is routed away */
    quorum_write_init(&qw, 2, walk, 5, 3, 0, true);
    quorum_write_need_primaries(&qw, 3);
    struct quorum_act a = quorum_write_route(&qw, 0, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_NONE);
    a = quorum_write_route(&qw, 1, up, NULL);
    assert_int_equal(a.kind, QUORUM_ACT_HINT);
    assert_int_equal(a.target, 3);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MISSED);
    quorum_write_fini(&qw);
    /* PW 2: the hint's ack makes W 2 but the write waits for owner 2 */
    quorum_write_init(&qw, 2, walk, 5, 3, 0, true);
    quorum_write_need_primaries(&qw, 2);
    a = quorum_write_route(&qw, 0, up, NULL);
    struct quorum_act hint = quorum_write_route(&qw, 1, up, NULL);
    struct quorum_act put = quorum_write_route(&qw, 2, up, NULL);
    assert_int_equal(put.kind, QUORUM_ACT_PUT);
    quorum_write_seal(&qw);
    a = quorum_write_reply(&qw, &hint, true, NULL, up, NULL);
    assert_int_equal(qw.acct.acks, 2);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_WAIT);
    a = quorum_write_reply(&qw, &put, true, NULL, up, NULL);
    assert_int_equal(quorum_poll(&qw.acct), QUORUM_MET);
    assert_true(quorum_done(&qw.acct));
    quorum_write_fini(&qw);
    set_alive((const int[]){0, 1, 2, 3, 4}, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_quorum_met, setup),
        cmocka_unit_test_setup(test_quorum_missed, setup),
        cmocka_unit_test_setup(test_quorum_cannot_be_met, setup),
        cmocka_unit_test_setup(test_quorum_guard, setup),
        cmocka_unit_test_setup(test_stamp_blind_concurrent, setup),
        cmocka_unit_test_setup(test_stamp_merged_supersedes, setup),
        cmocka_unit_test_setup(test_stamp_counter_above_known, setup),
        cmocka_unit_test_setup(test_stamp_refusals, setup),
        cmocka_unit_test_setup(test_stamp_prunes_context_not_dot, setup),
        cmocka_unit_test_setup(test_sloppy_substitutes, setup),
        cmocka_unit_test_setup(test_sloppy_refused_and_keep, setup),
        cmocka_unit_test_setup(test_sloppy_coordinator_substitute, setup),
        cmocka_unit_test_setup(test_sloppy_each_substitute_once, setup),
        cmocka_unit_test_setup(test_write_self_copy, setup),
        cmocka_unit_test_setup(test_write_collects_newer, setup),
        cmocka_unit_test_setup(test_supersede_decision, setup),
        cmocka_unit_test_setup(test_read_repair, setup),
        cmocka_unit_test_setup(test_read_missed, setup),
        cmocka_unit_test_setup(test_sloppy_read_targets, setup),
        cmocka_unit_test_setup(test_read_primary_quorum, setup),
        cmocka_unit_test_setup(test_read_repair_owners_only, setup),
        cmocka_unit_test_setup(test_write_primary_quorum, setup),
        cmocka_unit_test_setup(test_read_drop_before_epoch, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
