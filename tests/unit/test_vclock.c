/* test_vclock.c — vector clock algebra, pruning and codecs.
 *
 * The algebra is checked with randomized property tests over thousands of
 * clocks drawn from a small actor set (so EQUAL/BEFORE/AFTER occur often,
 * not only CONCURRENT), against a dense reference model.  The seed is
 * fixed; override it with KV_TEST_SEED=<n>.  Every failure message names the
 * seed so a failing run can be replayed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <murmurhash.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/buf.h"
#include "core/vclock.h"

#define NACTORS 6
#define ITERS 4000

#define PROPTEST_SEED 0x5eed1234ULL
#include "proptest.h"

static uint32_t actor_ids[NACTORS];

static unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    return 0;
}

/* A random clock over the small actor set; counters 1..3 so relations
 * other than CONCURRENT are common. */
static void rand_clock(struct vclock *vc)
{
    vc_clear(vc);
    for (int i = 0; i < NACTORS; i++) {
        if (rnd_below(2) == 0)
            continue;
        unsigned c = 1 + rnd_below(3);
        uint64_t ts = 1000 + rnd_below(100);
        for (unsigned k = 0; k < c; k++)
            vc_increment(vc, actor_ids[i], ts);
    }
}

static bool vc_sorted(const struct vclock *a)
{
    for (uint32_t i = 0; i < a->n; i++) {
        if (a->e[i].counter == 0)
            return false;
        if (i && a->e[i].actor <= a->e[i - 1].actor)
            return false;
    }
    return true;
}

/* Reference model: pointwise comparison over every actor id in use. */
static enum vc_order ref_compare(const struct vclock *a, const struct vclock *b)
{
    bool lt = false, gt = false;
    for (int i = 0; i < NACTORS; i++) {
        uint64_t x = vc_counter(a, actor_ids[i]), y = vc_counter(b, actor_ids[i]);
        lt |= x < y;
        gt |= x > y;
    }
    if (lt && gt)
        return VC_CONCURRENT;
    if (lt)
        return VC_BEFORE;
    return gt ? VC_AFTER : VC_EQUAL;
}

static enum vc_order flip(enum vc_order o)
{
    return o == VC_BEFORE ? VC_AFTER : o == VC_AFTER ? VC_BEFORE : o;
}

/* ---------------------------------------------------------------- */

static void test_intern(void **state)
{
    (void)state;
    uint32_t a = vc_actor_intern("n1.100", 6);
    uint32_t b = vc_actor_intern("n2.100", 6);
    assert_int_not_equal(a, b);
    assert_int_equal(vc_actor_intern("n1.100", 6), a);
    assert_int_equal(vc_actor_intern("n1.100xyz", 6), a); /* length, not NUL, delimits */
    size_t len;
    const char *name = vc_actor_name(a, &len);
    assert_int_equal(len, 6);
    assert_memory_equal(name, "n1.100", 6);
    assert_null(vc_actor_name(0xfffffff0u, &len));
    assert_int_equal(len, 0);
    /* The table grows; earlier names keep their ids and their storage. */
    char buf[32];
    uint32_t ids[5000];
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof(buf), "grow.%d", i);
        ids[i] = vc_actor_intern(buf, (size_t)n);
    }
    for (int i = 0; i < 5000; i++) {
        int n = snprintf(buf, sizeof(buf), "grow.%d", i);
        assert_int_equal(vc_actor_intern(buf, (size_t)n), ids[i]);
        name = vc_actor_name(ids[i], &len);
        assert_int_equal(len, (size_t)n);
        assert_memory_equal(name, buf, len);
    }
    assert_memory_equal(vc_actor_name(a, NULL), "n1.100", 6);
}

static void test_basics(void **state)
{
    (void)state;
    struct vclock a, b;
    vc_init(&a);
    vc_init(&b);
    assert_int_equal(vc_compare(&a, &b), VC_EQUAL);
    vc_increment(&a, actor_ids[2], 10);
    vc_increment(&a, actor_ids[0], 11);
    vc_increment(&a, actor_ids[2], 12);
    assert_true(vc_sorted(&a));
    assert_int_equal(vc_counter(&a, actor_ids[2]), 2);
    assert_int_equal(vc_counter(&a, actor_ids[1]), 0);
    assert_int_equal(vc_compare(&a, &b), VC_AFTER);
    assert_int_equal(vc_compare(&b, &a), VC_BEFORE);
    assert_true(vc_descends(&a, &b));
    assert_false(vc_descends(&b, &a));
    vc_copy(&b, &a);
    assert_true(vc_identical(&a, &b));
    vc_copy(&b, &b);
    assert_true(vc_identical(&a, &b));
    vc_merge(&b, &b);
    assert_true(vc_identical(&a, &b));
    vc_clear(&b);
    assert_int_equal(b.n, 0);
    vc_move(&b, &a);
    assert_int_equal(a.n, 0);
    assert_null(a.e);
    assert_int_equal(b.n, 2);
    assert_int_equal(vc_order_name(VC_CONCURRENT)[0], 'c');
    vc_fini(&a);
    vc_fini(&b);
    vc_fini(&b); /* fini twice / on zeroed memory is fine */
    struct vclock z = { 0 };
    vc_fini(&z);
    vc_fini(NULL);
}

static void test_prop_compare(void **state)
{
    (void)state;
    struct vclock a, b, c;
    vc_init(&a);
    vc_init(&b);
    vc_init(&c);
    unsigned seen[VC_ORDER_COUNT] = { 0 };
    for (int it = 0; it < ITERS; it++) {
        rand_clock(&a);
        if (rnd_below(2)) {
            rand_clock(&b);
        } else { /* related clocks, so EQUAL/BEFORE/AFTER are frequent */
            vc_copy(&b, &a);
            for (unsigned k = rnd_below(3); k; k--)
                vc_increment(rnd_below(2) ? &a : &b, actor_ids[rnd_below(NACTORS)], 1500);
        }
        PROP(vc_sorted(&a));
        enum vc_order ab = vc_compare(&a, &b), ba = vc_compare(&b, &a);
        seen[ab]++;
        /* reflexive */
        PROP(vc_compare(&a, &a) == VC_EQUAL);
        vc_copy(&c, &a);
        PROP(vc_compare(&a, &c) == VC_EQUAL);
        /* agrees with the pointwise definition */
        PROP(ab == ref_compare(&a, &b));
        /* antisymmetric */
        PROP(ba == flip(ab));
        if (vc_descends(&a, &b) && vc_descends(&b, &a))
            PROP(ab == VC_EQUAL);
        PROP(vc_descends(&a, &b) == (ab == VC_EQUAL || ab == VC_AFTER));
        /* transitive: chains built so a <= b <= c, plus random triples */
        rand_clock(&c);
        enum vc_order bc = vc_compare(&b, &c), ac = vc_compare(&a, &c);
        if (vc_descends(&b, &a) && vc_descends(&c, &b))
            PROP(vc_descends(&c, &a));
        if (ab == VC_BEFORE && bc == VC_BEFORE)
            PROP(ac == VC_BEFORE);
        vc_copy(&b, &a);
        if (rnd_below(2))
            vc_increment(&b, actor_ids[rnd_below(NACTORS)], 2000);
        vc_copy(&c, &b);
        vc_increment(&c, actor_ids[rnd_below(NACTORS)], 2001);
        PROP(vc_compare(&a, &c) == VC_BEFORE);
        PROP(vc_descends(&c, &a) && vc_descends(&c, &b) && vc_descends(&b, &a));
    }
    /* the generator really exercises every outcome */
    for (int o = 0; o < VC_ORDER_COUNT; o++)
        PROP(seen[o] > ITERS / 50);
    vc_fini(&a);
    vc_fini(&b);
    vc_fini(&c);
}

static void test_prop_merge(void **state)
{
    (void)state;
    struct vclock a, b, c, x, y;
    vc_init(&a);
    vc_init(&b);
    vc_init(&c);
    vc_init(&x);
    vc_init(&y);
    for (int it = 0; it < ITERS; it++) {
        rand_clock(&a);
        rand_clock(&b);
        rand_clock(&c);
        /* commutative (counters and timestamps) */
        vc_copy(&x, &a);
        vc_merge(&x, &b);
        vc_copy(&y, &b);
        vc_merge(&y, &a);
        PROP(vc_identical(&x, &y));
        PROP(vc_sorted(&x));
        /* pointwise max */
        for (int i = 0; i < NACTORS; i++) {
            uint64_t p = vc_counter(&a, actor_ids[i]), q = vc_counter(&b, actor_ids[i]);
            PROP(vc_counter(&x, actor_ids[i]) == (p > q ? p : q));
        }
        /* dominates or equals both inputs */
        PROP(vc_descends(&x, &a) && vc_descends(&x, &b));
        enum vc_order xa = vc_compare(&x, &a);
        PROP(xa == VC_AFTER || xa == VC_EQUAL);
        /* idempotent */
        vc_copy(&y, &x);
        vc_merge(&y, &x);
        PROP(vc_identical(&x, &y));
        vc_merge(&y, &a);
        PROP(vc_identical(&x, &y));
        /* associative */
        vc_merge(&x, &c); /* (a b) c */
        vc_copy(&y, &b);
        vc_merge(&y, &c);
        struct vclock z;
        vc_init(&z);
        vc_copy(&z, &a);
        vc_merge(&z, &y); /* a (b c) */
        PROP(vc_identical(&x, &z));
        vc_fini(&z);
        /* increment strictly advances */
        vc_copy(&y, &a);
        vc_increment(&y, actor_ids[rnd_below(NACTORS)], 3000);
        PROP(vc_compare(&y, &a) == VC_AFTER);
        PROP(vc_compare(&a, &y) == VC_BEFORE);
        PROP(vc_sorted(&y));
        /* the Dynamo write rule: merge then increment dominates both */
        vc_copy(&y, &a);
        vc_merge(&y, &b);
        vc_increment(&y, actor_ids[0], 3001);
        PROP(vc_compare(&y, &a) == VC_AFTER && vc_compare(&y, &b) == VC_AFTER);
    }
    vc_fini(&a);
    vc_fini(&b);
    vc_fini(&c);
    vc_fini(&x);
    vc_fini(&y);
}

static void test_prop_codecs(void **state)
{
    (void)state;
    struct vclock a, b;
    struct buf out;
    vc_init(&a);
    vc_init(&b);
    buf_init(&out);
    for (int it = 0; it < ITERS; it++) {
        rand_clock(&a);
        if (rnd_below(4) == 0) /* large counters (up to the cap) and timestamps too */
            for (uint32_t i = 0; i < a.n; i++) {
                a.e[i].counter = (rnd() % VC_MAX_COUNTER) | 1;
                a.e[i].ts_ms = rnd();
            }
        size_t used;
        /* pack: with a trailing byte, which `used` must exclude */
        out.len = 0;
        vc_pack(&a, &out);
        size_t plen = out.len;
        buf_putc(&out, 'x');
        rand_clock(&b);
        PROP(vc_unpack(&b, out.data, out.len, &used) == 0);
        PROP(used == plen);
        PROP(vc_identical(&a, &b));
        for (size_t cut = 0; cut < plen; cut++)
            PROP(vc_unpack(&b, out.data, cut, &used) == KV_EPROTO && b.n == 0);
        /* wire */
        out.len = 0;
        vc_encode(&a, &out);
        size_t elen = out.len;
        buf_putc(&out, 'x');
        PROP(vc_decode(&b, out.data, out.len, &used) == 0);
        PROP(used == elen);
        PROP(vc_identical(&a, &b));
        for (size_t cut = 0; cut < elen; cut++)
            PROP(vc_decode(&b, out.data, cut, &used) == KV_EBADCTX && b.n == 0);
        /* context */
        out.len = 0;
        vc_to_context(&a, &out);
        PROP((out.len == 0) == (a.n == 0));
        for (size_t i = 0; i < out.len; i++) {
            char ch = out.data[i];
            PROP((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '_');
        }
        rand_clock(&b);
        PROP(vc_from_context(&b, out.data, out.len) == 0);
        PROP(vc_identical(&a, &b));
    }
    vc_fini(&a);
    vc_fini(&b);
    buf_fini(&out);
}

/* ---- contexts built by hand, to reach every validation branch ---- */

static void b64(struct buf *out, const uint8_t *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < chars; k++)
            buf_putc(out, al[(v >> (18 - 6 * k)) & 63]);
    }
}

/* Wraps wire bytes as a context with the given version byte. */
static void make_ctx(struct buf *out, uint8_t version, const uint8_t *wire, size_t n)
{
    uint8_t raw[1024];
    assert_true(n + 5 <= sizeof(raw));
    raw[0] = version;
    memcpy(raw + 1, wire, n);
    uint32_t h;
    lmmh_x86_32(raw, (unsigned)(n + 1), 0, &h);
    for (size_t i = 0; i < 4; i++)
        raw[n + 1 + i] = (uint8_t)(h >> (8 * i));
    out->len = 0;
    b64(out, raw, n + 5);
}

static int ctx_rc(const uint8_t *wire, size_t n, uint8_t version)
{
    struct buf b;
    struct vclock vc;
    buf_init(&b);
    vc_init(&vc);
    make_ctx(&b, version, wire, n);
    int rc = vc_from_context(&vc, b.data, b.len);
    if (rc)
        assert_int_equal(vc.n, 0);
    vc_fini(&vc);
    buf_fini(&b);
    return rc;
}

static void test_context_validation(void **state)
{
    (void)state;
    /* {"ab":1@5} */
    static const uint8_t ok[] = { 1, 2, 'a', 'b', 1, 5 };
    assert_int_equal(ctx_rc(ok, sizeof(ok), 1), 0);
    assert_int_equal(ctx_rc(ok, sizeof(ok), 2), KV_EBADCTX);          /* unknown version */
    static const uint8_t zero_entries[] = { 0 };
    assert_int_equal(ctx_rc(zero_entries, 1, 1), KV_EBADCTX);         /* empty clock must be "" */
    static const uint8_t trailing[] = { 1, 2, 'a', 'b', 1, 5, 0 };
    assert_int_equal(ctx_rc(trailing, sizeof(trailing), 1), KV_EBADCTX);
    static const uint8_t zero_counter[] = { 1, 2, 'a', 'b', 0, 5 };
    assert_int_equal(ctx_rc(zero_counter, sizeof(zero_counter), 1), KV_EBADCTX);
    static const uint8_t dup[] = { 2, 2, 'a', 'b', 1, 5, 2, 'a', 'b', 2, 5 };
    assert_int_equal(ctx_rc(dup, sizeof(dup), 1), KV_EBADCTX);
    static const uint8_t two[] = { 2, 2, 'a', 'b', 1, 5, 2, 'a', 'c', 2, 5 };
    assert_int_equal(ctx_rc(two, sizeof(two), 1), 0);
    /* issue 11: names out of canonical order are refused; names this
     * process never interned are dropped, never added to the actor table */
    static const uint8_t unsorted[] = { 2, 2, 'a', 'c', 1, 5, 2, 'a', 'b', 2, 5 };
    assert_int_equal(ctx_rc(unsorted, sizeof(unsorted), 1), KV_EBADCTX);
    uint32_t before = vc_actor_count();
    static const uint8_t fresh[] = { 2, 5, 'n', 'e', 'w', '.', '1', 7, 5,
                                     5, 'n', 'e', 'w', '.', '2', 9, 5 };
    struct buf fb;
    struct vclock fv;
    buf_init(&fb);
    vc_init(&fv);
    make_ctx(&fb, 1, fresh, sizeof(fresh));
    assert_int_equal(vc_from_context(&fv, fb.data, fb.len), 0);
    assert_int_equal(fv.n, 0);
    assert_int_equal(vc_actor_count(), before);
    uint32_t known = vc_actor_intern("new.2", 5);
    assert_int_equal(vc_from_context(&fv, fb.data, fb.len), 0);
    assert_int_equal(fv.n, 1);
    assert_int_equal(fv.e[0].actor, known);
    assert_true(vc_counter(&fv, known) == 9);
    assert_int_equal(vc_actor_count(), before + 1);
    vc_fini(&fv);
    buf_fini(&fb);
    static const uint8_t empty_name[] = { 1, 0, 1, 5 };
    assert_int_equal(ctx_rc(empty_name, sizeof(empty_name), 1), KV_EBADCTX);
    static const uint8_t space_name[] = { 1, 2, 'a', ' ', 1, 5 };
    assert_int_equal(ctx_rc(space_name, sizeof(space_name), 1), KV_EBADCTX);
    static const uint8_t name_past_end[] = { 1, 9, 'a', 'b', 1, 5 };
    assert_int_equal(ctx_rc(name_past_end, sizeof(name_past_end), 1), KV_EBADCTX);
    static const uint8_t overlong[] = { 1, 2, 'a', 'b', 0x81, 0x00, 5 };
    assert_int_equal(ctx_rc(overlong, sizeof(overlong), 1), KV_EBADCTX);
    static const uint8_t too_wide[] = { 1, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff, 0xff,
                                        0xff, 0xff, 0xff, 0xff, 0x02, 5 };
    assert_int_equal(ctx_rc(too_wide, sizeof(too_wide), 1), KV_EBADCTX);
    /* issue 11: counters above VC_MAX_COUNTER (2^48) are refused, so a
     * forged context can never push a counter to saturation */
    static const uint8_t max_counter[] = { 1, 2, 'a', 'b', 0xff, 0xff, 0xff, 0xff, 0xff,
                                           0xff, 0xff, 0xff, 0xff, 0x01, 5 };
    assert_int_equal(ctx_rc(max_counter, sizeof(max_counter), 1), KV_EBADCTX);
    static const uint8_t at_cap[] = { 1, 2, 'a', 'b', 0x80, 0x80, 0x80, 0x80, 0x80,
                                      0x80, 0x40, 5 }; /* 2^48 */
    assert_int_equal(ctx_rc(at_cap, sizeof(at_cap), 1), 0);
    static const uint8_t above_cap[] = { 1, 2, 'a', 'b', 0x81, 0x80, 0x80, 0x80, 0x80,
                                         0x80, 0x40, 5 }; /* 2^48 + 1 */
    assert_int_equal(ctx_rc(above_cap, sizeof(above_cap), 1), KV_EBADCTX);
    static const uint8_t huge_n[] = { 0x81, 0x40, 2, 'a', 'b', 1, 5 }; /* 8193 > limit */
    assert_int_equal(ctx_rc(huge_n, sizeof(huge_n), 1), KV_EBADCTX);
    static const uint8_t n_past_end[] = { 3, 2, 'a', 'b', 1, 5 };
    assert_int_equal(ctx_rc(n_past_end, sizeof(n_past_end), 1), KV_EBADCTX);

    /* alphabet, padding and length checks */
    struct vclock vc;
    vc_init(&vc);
    assert_int_equal(vc_from_context(&vc, "", 0), 0);
    assert_int_equal(vc.n, 0);
    const char *bad[] = { "A", "AAAAA", "AA==", "AB+/", "AB/A", "AA AA", "AAAA\n",
                          "AQ", "AQA", "AQAA", "\xff\xfe\xfd", "AAAAAAAAAAAAAAAAAAAAAAAA" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(vc_from_context(&vc, bad[i], strlen(bad[i])), KV_EBADCTX);
    /* non-canonical trailing bits: same bytes, different spelling */
    struct buf b;
    buf_init(&b);
    make_ctx(&b, 1, ok, sizeof(ok)); /* 11 raw bytes: 15 chars, 2 spare bits */
    assert_int_equal(b.len % 4, 3);
    assert_int_equal(vc_from_context(&vc, b.data, b.len), 0);
    char last = b.data[b.len - 1];
    b.data[b.len - 1] = (char)(last + 1); /* sets a spare bit (or leaves the alphabet) */
    assert_int_equal(vc_from_context(&vc, b.data, b.len), KV_EBADCTX);
    buf_fini(&b);
    vc_fini(&vc);
}

static void test_context_corruption(void **state)
{
    (void)state;
    struct vclock a, b;
    struct buf ctx, mut;
    vc_init(&a);
    vc_init(&b);
    buf_init(&ctx);
    buf_init(&mut);
    for (int it = 0; it < 200; it++) {
        do
            rand_clock(&a);
        while (a.n == 0);
        ctx.len = 0;
        vc_to_context(&a, &ctx);
        /* every single byte changed, to several other values */
        for (size_t i = 0; i < ctx.len; i++) {
            for (int x = 1; x < 256; x += 37) {
                mut.len = 0;
                buf_put(&mut, ctx.data, ctx.len);
                mut.data[i] = (char)(mut.data[i] ^ x);
                PROP(vc_from_context(&b, mut.data, mut.len) == KV_EBADCTX);
                PROP(b.n == 0);
            }
        }
        /* every truncation (length 0 is the empty clock) */
        for (size_t cut = 1; cut < ctx.len; cut++)
            PROP(vc_from_context(&b, ctx.data, cut) == KV_EBADCTX);
        PROP(vc_from_context(&b, ctx.data, 0) == 0 && b.n == 0);
        /* extension */
        mut.len = 0;
        buf_put(&mut, ctx.data, ctx.len);
        buf_putc(&mut, 'A');
        PROP(vc_from_context(&b, mut.data, mut.len) == KV_EBADCTX);
    }
    /* garbage: random bytes and random alphabet strings */
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int it = 0; it < 20000; it++) {
        mut.len = 0;
        size_t n = 1 + rnd_below(200);
        bool alpha = rnd_below(2);
        for (size_t i = 0; i < n; i++)
            buf_putc(&mut, alpha ? al[rnd_below(64)] : (char)rnd());
        int rc = vc_from_context(&b, mut.data, mut.len);
        PROP(rc == KV_EBADCTX || rc == 0);
        if (rc == 0) /* only with a matching checksum: ~never */
            PROP(vc_sorted(&b));
        rc = vc_decode(&b, mut.data, mut.len, &n);
        PROP(rc == KV_EBADCTX || (rc == 0 && n <= mut.len && vc_sorted(&b)));
    }
    /* a very long token is refused without decoding it */
    mut.len = 0;
    for (int i = 0; i < 4 * 1024 * 1024; i++)
        buf_putc(&mut, 'A');
    assert_int_equal(vc_from_context(&b, mut.data, mut.len), KV_EBADCTX);
    vc_fini(&a);
    vc_fini(&b);
    buf_fini(&ctx);
    buf_fini(&mut);
}

static void test_format(void **state)
{
    (void)state;
    struct vclock a;
    struct buf out;
    vc_init(&a);
    buf_init(&out);
    vc_format(&a, &out);
    assert_int_equal(out.len, 2);
    assert_memory_equal(out.data, "[]", 2);
    uint32_t x = vc_actor_intern("n1.1764064488123", 16);
    uint32_t y = vc_actor_intern("n2.1764064488200", 16);
    vc_increment(&a, x, 1764064490000);
    vc_increment(&a, x, 1764064490001);
    vc_increment(&a, x, 1764064490001);
    vc_increment(&a, y, 1764064490005);
    out.len = 0;
    vc_format(&a, &out);
    buf_putc(&out, '\0');
    assert_string_equal(out.data,
                        "[n1.1764064488123:3@1764064490001, n2.1764064488200:1@1764064490005]");
    vc_fini(&a);
    buf_fini(&out);
}

/* ---- pruning ---- */

static void test_prune_bound(void **state)
{
    (void)state;
    struct vclock a, orig;
    vc_init(&a);
    vc_init(&orig);
    char name[32];
    uint32_t ids[120];
    for (int i = 0; i < 120; i++) {
        int n = snprintf(name, sizeof(name), "prune.%d", i);
        ids[i] = vc_actor_intern(name, (size_t)n);
    }
    for (int it = 0; it < 500; it++) {
        vc_clear(&a);
        unsigned n = rnd_below(120);
        for (unsigned i = 0; i < n; i++)
            vc_increment(&a, ids[rnd_below(120)], rnd_below(20)); /* many ts ties */
        vc_copy(&orig, &a);
        unsigned max = rnd_below(60);
        unsigned dropped = vc_prune(&a, max);
        PROP(a.n <= max);
        PROP(dropped == orig.n - a.n);
        PROP(dropped == (orig.n > max ? orig.n - max : 0));
        PROP(vc_sorted(&a));
        /* pruning only forgets: the original descends from the result */
        PROP(vc_descends(&orig, &a));
        /* kept entries are unchanged and none is older than a dropped one
         * (ties: the dropped one has the smaller name) */
        uint64_t newest_dropped = 0;
        for (uint32_t i = 0; i < orig.n; i++) {
            uint64_t c = vc_counter(&a, orig.e[i].actor);
            PROP(c == 0 || c == orig.e[i].counter);
            if (c == 0 && orig.e[i].ts_ms > newest_dropped)
                newest_dropped = orig.e[i].ts_ms;
        }
        for (uint32_t i = 0; i < a.n && dropped; i++) {
            PROP(a.e[i].ts_ms >= newest_dropped);
            if (a.e[i].ts_ms == newest_dropped) {
                size_t kl, dl;
                const char *kn = vc_actor_name(a.e[i].actor, &kl);
                for (uint32_t j = 0; j < orig.n; j++) {
                    if (orig.e[j].ts_ms != newest_dropped || vc_counter(&a, orig.e[j].actor))
                        continue;
                    const char *dn = vc_actor_name(orig.e[j].actor, &dl);
                    int c = memcmp(dn, kn, dl < kl ? dl : kl);
                    PROP(c < 0 || (c == 0 && dl < kl));
                }
            }
        }
        /* deterministic: pruning the same clock again gives the same result */
        struct vclock again;
        vc_init(&again);
        vc_copy(&again, &orig);
        vc_prune(&again, max);
        PROP(vc_identical(&again, &a));
        vc_fini(&again);
    }
    vc_fini(&a);
    vc_fini(&orig);
}

/* The documented trade-off, as a property: a prune that drops nothing
 * leaves every order unchanged, and pruning a clock never moves it ahead of
 * anything (a BEFORE b stays BEFORE b). */
static void test_prune_order_property(void **state)
{
    (void)state;
    struct vclock a, b, p;
    vc_init(&a);
    vc_init(&b);
    vc_init(&p);
    unsigned changed_only_when_dropped = 0;
    for (int it = 0; it < ITERS; it++) {
        rand_clock(&a);
        rand_clock(&b);
        enum vc_order before = vc_compare(&a, &b);
        vc_copy(&p, &a);
        unsigned max = rnd_below(NACTORS + 1);
        unsigned dropped = vc_prune(&p, max);
        enum vc_order after = vc_compare(&p, &b);
        if (dropped == 0) {
            PROP(vc_identical(&p, &a));
            PROP(after == before);
        } else if (after != before) {
            changed_only_when_dropped++;
        }
        if (before == VC_BEFORE || before == VC_EQUAL)
            PROP(after == VC_BEFORE || after == VC_EQUAL);
        if (before == VC_CONCURRENT)
            PROP(after == VC_CONCURRENT || after == VC_BEFORE);
    }
    PROP(changed_only_when_dropped > 0); /* the trade-off is real, see below */
    vc_fini(&a);
    vc_fini(&b);
    vc_fini(&p);
}

/* Where pruning does change the order: a was written by B after seeing A's
 * first write, b is A's concurrent second write.  With a limit of 1, a loses
 * its oldest entry (B's) and now looks BEFORE b, so b would supersede a —
 * the silent loss vclock.c's header warns about.  Conversely pruning the
 * newer clock can turn AFTER into CONCURRENT, a spurious sibling. */
static void test_prune_changes_order(void **state)
{
    (void)state;
    uint32_t A = vc_actor_intern("demo.A", 6), B = vc_actor_intern("demo.B", 6);
    struct vclock a, b;
    vc_init(&a);
    vc_init(&b);
    vc_increment(&a, B, 100); /* B's entry is the oldest */
    vc_increment(&a, A, 200);
    vc_increment(&b, A, 200);
    vc_increment(&b, A, 300);
    assert_int_equal(vc_compare(&a, &b), VC_CONCURRENT);
    assert_int_equal(vc_prune(&a, 2), 0);
    assert_int_equal(vc_compare(&a, &b), VC_CONCURRENT);
    assert_int_equal(vc_prune(&a, 1), 1);
    assert_int_equal(vc_counter(&a, B), 0);
    assert_int_equal(vc_compare(&a, &b), VC_BEFORE); /* was CONCURRENT */

    /* AFTER -> CONCURRENT */
    struct vclock c, d;
    vc_init(&c);
    vc_init(&d);
    vc_increment(&c, A, 100);
    vc_increment(&d, A, 100);
    vc_increment(&d, B, 200);
    vc_increment(&d, B, 200);
    vc_increment(&c, B, 300); /* c = {A:1@100, B:1@300}, d = {A:1@100, B:2@200} */
    assert_int_equal(vc_compare(&d, &c), VC_AFTER);
    vc_prune(&d, 1); /* drops A (oldest) */
    assert_int_equal(vc_compare(&d, &c), VC_CONCURRENT);
    vc_fini(&a);
    vc_fini(&b);
    vc_fini(&c);
    vc_fini(&d);
}

static void test_increment_saturates(void **state)
{
    (void)state;
    struct vclock a;
    vc_init(&a);
    vc_increment(&a, actor_ids[0], 1);
    a.e[0].counter = UINT64_MAX;
    vc_increment(&a, actor_ids[0], 2);
    assert_true(a.e[0].counter == UINT64_MAX);
    assert_int_equal(a.e[0].ts_ms, 2);
    vc_fini(&a);
}

int main(void)
{
    proptest_seed_from_env();
    char name[16];
    for (int i = 0; i < NACTORS; i++) {
        int n = snprintf(name, sizeof(name), "a%d.1", i);
        actor_ids[i] = vc_actor_intern(name, (size_t)n);
    }
    print_message("test_vclock: seed %llu (set KV_TEST_SEED to change)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_intern, setup),
        cmocka_unit_test_setup(test_basics, setup),
        cmocka_unit_test_setup(test_prop_compare, setup),
        cmocka_unit_test_setup(test_prop_merge, setup),
        cmocka_unit_test_setup(test_prop_codecs, setup),
        cmocka_unit_test_setup(test_context_validation, setup),
        cmocka_unit_test_setup(test_context_corruption, setup),
        cmocka_unit_test_setup(test_format, setup),
        cmocka_unit_test_setup(test_prune_bound, setup),
        cmocka_unit_test_setup(test_prune_order_property, setup),
        cmocka_unit_test_setup(test_prune_changes_order, setup),
        cmocka_unit_test_setup(test_increment_saturates, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
