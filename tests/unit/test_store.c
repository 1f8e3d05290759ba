/* test_store.c — key space: CRUD, reconcile parity with siblings.c,
 * incremental rehashing, SCAN guarantees across resizes, RANDOMKEY, and a
 * printed memory/speed figure (1M keys, 64-byte values).
 * Randomized parts use a fixed seed; override with KV_TEST_SEED. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/siblings.h"
#include "util/errors.h"
#include "core/slot.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/val.h"
#include "core/vclock.h"

#define PROPTEST_SEED 0x51043ULL
#include "proptest.h"

static uint32_t A[3];

static int setup(void **state)
{
    (void)state;
    rng_state = seed;
    return 0;
}

static size_t mkkey(char *buf, unsigned i)
{
    return (size_t)snprintf(buf, 32, "key:%012u", i);
}

/* A version holding a new value s (NULL: tombstone) and clock {A0:c0,...}. */
static void mkver(struct version *v, const char *s, unsigned c0, unsigned c1, unsigned c2)
{
    version_init(v);
    if (s)
        v->val = val_create(s, strlen(s));
    const unsigned cs[3] = { c0, c1, c2 };
    for (int i = 0; i < 3; i++)
        for (unsigned k = 0; k < cs[i]; k++)
            vc_increment(&v->vc, A[i], 1764064488000 + k);
}

/* The entry holds exactly ref's versions, in order, sharing its values. */
static bool entry_matches(const struct store_entry *e, const struct sibset *ref)
{
    if (!e)
        return ref->n == 0;
    if (store_entry_nversions(e) != ref->n)
        return false;
    struct sibset got;
    sib_init(&got);
    store_entry_load(e, &got);
    bool ok = got.n == ref->n;
    struct version vr;
    version_init(&vr);
    for (uint32_t i = 0; ok && i < ref->n; i++) {
        struct store_vref r;
        store_entry_version(e, i, &r);
        size_t used = 0;
        ok = r.val == ref->v[i].val && r.expire_ms == ref->v[i].expire_ms &&
             got.v[i].val == ref->v[i].val && got.v[i].expire_ms == ref->v[i].expire_ms &&
             vc_identical(&got.v[i].vc, &ref->v[i].vc) &&
             got.v[i].dot_actor == ref->v[i].dot_actor &&
             got.v[i].dot_base == ref->v[i].dot_base &&
             version_unpack_clock(&vr, r.clock, r.clock_len, &used) == 0 &&
             used == r.clock_len && vc_identical(&vr.vc, &ref->v[i].vc) &&
             vr.dot_actor == ref->v[i].dot_actor && vr.dot_base == ref->v[i].dot_base;
    }
    version_fini(&vr);
    sib_fini(&got);
    return ok;
}

static void test_basic(void **state)
{
    (void)state;
    struct store *s = store_create();
    struct version v1, v2, c, t;
    mkver(&v1, "hello", 1, 0, 0);
    mkver(&v2, "world", 2, 0, 0);
    mkver(&c, "conc", 0, 1, 0);
    mkver(&t, NULL, 3, 1, 0);
    v2.expire_ms = 1764064499999;

    assert_null(store_find(s, "k", 1));
    assert_true(store_put(s, "k", 1, &v1));
    assert_int_equal(store_count(s), 1);
    const struct store_entry *e = store_find(s, "k", 1);
    assert_non_null(e);
    size_t klen;
    assert_memory_equal(store_entry_key(e, &klen), "k", 1);
    assert_int_equal(klen, 1);
    assert_int_equal(store_entry_nversions(e), 1);
    struct store_vref r;
    store_entry_version(e, 0, &r);
    assert_ptr_equal(r.val, v1.val);
    assert_int_equal(v1.val->refs, 2);
    assert_int_equal(r.expire_ms, 0);
    assert_null(store_find(s, "K", 1));
    assert_null(store_find(s, "kk", 2));
    assert_null(store_find(s, "", 0));

    /* idempotent replay, dominated, dominating, concurrent, tombstone */
    assert_false(store_put(s, "k", 1, &v1));
    assert_true(store_put(s, "k", 1, &v2));
    assert_int_equal(v1.val->refs, 1); /* the replaced version let go */
    assert_false(store_put(s, "k", 1, &v1));
    assert_true(store_put(s, "k", 1, &c));
    e = store_find(s, "k", 1);
    assert_int_equal(store_entry_nversions(e), 2);
    store_entry_version(e, 0, &r);
    assert_int_equal(r.expire_ms, 1764064499999);
    assert_true(store_put(s, "k", 1, &t));
    e = store_find(s, "k", 1);
    assert_int_equal(store_entry_nversions(e), 1);
    store_entry_version(e, 0, &r);
    assert_null(r.val);
    assert_int_equal(store_count(s), 1); /* tombstone-only keys count */

    /* empty keys and binary keys are keys */
    assert_true(store_put(s, "", 0, &v1));
    assert_true(store_put(s, "a\0b", 3, &v1));
    assert_non_null(store_find(s, "", 0));
    assert_non_null(store_find(s, "a\0b", 3));
    assert_null(store_find(s, "a\0c", 3));

    /* replace: exactly the given set; the empty set removes */
    struct sibset set;
    sib_init(&set);
    sib_add(&set, &v1);
    sib_add(&set, &c);
    store_replace(s, "k", 1, &set);
    assert_true(entry_matches(store_find(s, "k", 1), &set));
    store_replace(s, "new", 3, &set);
    assert_true(entry_matches(store_find(s, "new", 3), &set));
    assert_false(store_put_set(s, "new", 3, &set));
    sib_clear(&set);
    store_replace(s, "k", 1, &set);
    assert_null(store_find(s, "k", 1));
    assert_true(store_remove(s, "new", 3));
    assert_false(store_remove(s, "new", 3));
    assert_int_equal(store_count(s), 2);
    assert_true(store_overhead(s) > 0);

    sib_add(&set, &v2);
    assert_true(store_put_set(s, "ps", 2, &set));
    assert_true(entry_matches(store_find(s, "ps", 2), &set));

    store_flush(s);
    assert_int_equal(store_count(s), 0);
    assert_null(store_find(s, "", 0));
    assert_null(store_random(s));
    assert_true(store_put(s, "again", 5, &v1));
    assert_int_equal(store_count(s), 1);

    sib_fini(&set);
    store_destroy(s);
    store_destroy(NULL);
    assert_int_equal(v1.val->refs, 1);
    version_fini(&v1);
    version_fini(&v2);
    version_fini(&c);
    version_fini(&t);
}

/* store_put implements sib_add's rules directly on packed entries; check it
 * against sib_add on random version streams, including shared values. */
static void test_reconcile_parity(void **state)
{
    (void)state;
    enum { KEYS = 64, OPS = 20000 };
    struct store *s = store_create();
    struct sibset ref[KEYS];
    for (int i = 0; i < KEYS; i++)
        sib_init(&ref[i]);
    struct val *shared = val_create("shared", 6);
    static const char payload[200] = "some bytes";
    unsigned changed = 0, multi = 0;
    for (int op = 0; op < OPS; op++) {
        unsigned k = (unsigned)(rnd() % KEYS);
        char key[32];
        size_t kl = mkkey(key, k);
        unsigned what = (unsigned)(rnd() % 100);
        if (what < 2) {
            PROP(store_remove(s, key, kl) == (ref[k].n > 0));
            sib_clear(&ref[k]);
        } else if (what < 5) {
            store_replace(s, key, kl, &ref[k]); /* same content, rewritten */
        } else {
            struct version v;
            version_init(&v);
            for (int a = 0; a < 3; a++)
                for (unsigned c = (unsigned)(rnd() % 4); c; c--)
                    vc_increment(&v.vc, A[a], rnd() % 1000000);
            if (rnd() % 2) { /* a dotted version (DVV), maybe skipping counters */
                struct vclock ctx;
                vc_init(&ctx);
                vc_copy(&ctx, &v.vc);
                uint32_t da = A[rnd() % 3];
                version_set_dot(&v, &ctx, da, vc_counter(&ctx, da) + 1 + rnd() % 3,
                                rnd() % 1000000);
                vc_fini(&ctx);
            }
            unsigned kind = (unsigned)(rnd() % 6);
            if (kind == 0)
                v.val = NULL;
            else if (kind == 1)
                v.val = val_ref(shared);
            else
                v.val = val_create(payload, (size_t)(rnd() % sizeof(payload)));
            if (rnd() % 3 == 0)
                v.expire_ms = (int64_t)(rnd() % 5000000000000ULL);
            bool want = sib_add(&ref[k], &v);
            PROP(store_put(s, key, kl, &v) == want);
            changed += want;
            version_fini(&v);
        }
        multi += ref[k].n > 1;
        PROP(entry_matches(store_find(s, key, kl), &ref[k]));
    }
    size_t live = 0;
    for (int i = 0; i < KEYS; i++) {
        char key[32];
        size_t kl = mkkey(key, (unsigned)i);
        PROP(entry_matches(store_find(s, key, kl), &ref[i]));
        live += ref[i].n > 0;
    }
    PROP(store_count(s) == live);
    PROP(changed > OPS / 10 && multi > OPS / 10);
    store_destroy(s);
    for (int i = 0; i < KEYS; i++)
        sib_fini(&ref[i]);
    PROP(shared->refs == 1);
    val_unref(shared);
}

static void test_many_keys(void **state)
{
    (void)state;
    enum { N = 200000 };
    struct store *s = store_create();
    struct version v;
    mkver(&v, "value", 1, 0, 0);
    char key[32];
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        PROP(store_put(s, key, kl, &v));
        PROP(store_count(s) == i + 1);
        /* keys inserted earlier stay findable while the table grows */
        unsigned probes[3] = { i, i / 2, (unsigned)(rnd() % (i + 1)) };
        for (int p = 0; p < 3; p++) {
            kl = mkkey(key, probes[p]);
            const struct store_entry *e = store_find(s, key, kl);
            PROP(e != NULL);
            size_t el;
            const char *ek = store_entry_key(e, &el);
            PROP(el == kl && memcmp(ek, key, kl) == 0);
        }
        kl = mkkey(key, i + 1);
        PROP(store_find(s, key, kl) == NULL);
    }
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        PROP(store_find(s, key, kl) != NULL);
    }
    size_t full = store_overhead(s);
    /* remove most keys: the table shrinks, incrementally, and stays correct */
    for (unsigned i = 0; i < N; i++) {
        if (i % 16 == 0)
            continue;
        size_t kl = mkkey(key, i);
        PROP(store_remove(s, key, kl));
        if (i % 7 == 0) {
            unsigned j = (unsigned)(rnd() % N) & ~15u;
            kl = mkkey(key, j);
            PROP(store_find(s, key, kl) != NULL);
        }
    }
    PROP(store_count(s) == N / 16);
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        PROP((store_find(s, key, kl) != NULL) == (i % 16 == 0));
    }
    PROP(store_overhead(s) < full / 8);
    store_destroy(s);
    PROP(v.val->refs == 1);
    version_fini(&v);
}

/* ---- scan ---- */

struct scan_state {
    unsigned *seen;  /* visits per key number */
    unsigned limit;  /* key numbers tracked */
    struct store *s; /* for finds from inside the callback */
    size_t calls;
};

static void scan_cb(void *arg, const struct store_entry *e)
{
    struct scan_state *st = arg;
    size_t kl;
    const char *k = store_entry_key(e, &kl);
    char buf[32];
    memcpy(buf, k, kl);
    buf[kl] = '\0';
    unsigned n = (unsigned)strtoul(buf + 4, NULL, 10);
    if (n < st->limit)
        st->seen[n]++;
    st->calls++;
    if (st->s) /* reading from a callback is allowed (and must not rehash) */
        assert_ptr_equal(store_find(st->s, k, kl), e);
}

static void put_key(struct store *s, unsigned i, const struct version *v)
{
    char key[32];
    size_t kl = mkkey(key, i);
    store_put(s, key, kl, v);
}

static void del_key(struct store *s, unsigned i)
{
    char key[32];
    size_t kl = mkkey(key, i);
    store_remove(s, key, kl);
}

static void test_scan_plain(void **state)
{
    (void)state;
    enum { N = 3000 };
    struct store *s = store_create();
    struct version v;
    mkver(&v, "v", 1, 0, 0);
    struct scan_state st = { calloc(N, sizeof(unsigned)), N, NULL, 0 };
    assert_int_equal(store_scan(s, 0, 10, scan_cb, &st), 0); /* empty */
    for (unsigned i = 0; i < N; i++)
        put_key(s, i, &v);
    for (unsigned i = 0; i < N; i++) /* finish any rehash: exact-once holds */
        store_find(s, "x", 1);
    for (size_t count = 1; count <= 1000; count *= 10) {
        memset(st.seen, 0, N * sizeof(unsigned));
        st.calls = 0;
        uint64_t cur = 0;
        size_t rounds = 0;
        do {
            size_t before = st.calls;
            cur = store_scan(s, cur, count, scan_cb, &st);
            /* at least count per call while that many remain */
            if (cur)
                PROP(st.calls - before >= count);
            rounds++;
        } while (cur);
        for (unsigned i = 0; i < N; i++)
            PROP(st.seen[i] == 1);
        PROP(rounds <= N / count + 1);
    }
    free(st.seen);
    store_destroy(s);
    version_fini(&v);
}

/* Keys present for the whole scan are returned at least once even though
 * the table doubles several times (inserts) or halves (deletes) between
 * calls, and while a rehash is in flight. */
static void test_scan_resizing(void **state)
{
    (void)state;
    enum { ORIG = 5000, EXTRA = 200000 };
    struct version v;
    mkver(&v, "v", 1, 0, 0);
    for (int mode = 0; mode < 3; mode++) {
        struct store *s = store_create();
        struct scan_state st = { calloc(ORIG, sizeof(unsigned)), ORIG, s, 0 };
        for (unsigned i = 0; i < ORIG; i++)
            put_key(s, i, &v);
        unsigned next_extra = ORIG, del_extra = ORIG;
        if (mode == 1) /* grow a lot first, then delete the extras during the scan */
            for (; next_extra < ORIG + EXTRA; next_extra++)
                put_key(s, next_extra, &v);
        uint64_t cur = 0;
        size_t rounds = 0;
        do {
            cur = store_scan(s, cur, 1 + (size_t)(rnd() % 20), scan_cb, &st);
            rounds++;
            if (mode == 0) { /* grow: inserts during the scan */
                for (int k = 0; k < 150 && next_extra < ORIG + EXTRA; k++)
                    put_key(s, next_extra++, &v);
            } else if (mode == 1) { /* shrink: deletes during the scan */
                for (int k = 0; k < 400 && del_extra < next_extra; k++)
                    del_key(s, del_extra++);
            } else { /* churn: insert and delete extras, and read */
                for (int k = 0; k < 100; k++) {
                    put_key(s, next_extra++, &v);
                    if (rnd() % 2 && del_extra < next_extra)
                        del_key(s, del_extra++);
                }
                store_random(s);
            }
        } while (cur);
        for (unsigned i = 0; i < ORIG; i++)
            PROP(st.seen[i] >= 1);
        print_message("scan mode %d: %zu calls, %zu callbacks for %u stable keys, %zu keys at end\n",
                      mode, rounds, st.calls, (unsigned)ORIG, store_count(s));
        free(st.seen);
        store_destroy(s);
    }
    version_fini(&v);
}

static void test_random(void **state)
{
    (void)state;
    enum { N = 40 };
    struct store *s = store_create();
    assert_null(store_random(s));
    struct version v;
    mkver(&v, "v", 1, 0, 0);
    for (unsigned i = 0; i < N; i++)
        put_key(s, i, &v);
    unsigned seen[N] = { 0 };
    for (int it = 0; it < 20000; it++) {
        const struct store_entry *e = store_random(s);
        PROP(e != NULL);
        size_t kl;
        const char *k = store_entry_key(e, &kl);
        char buf[32];
        memcpy(buf, k, kl);
        buf[kl] = '\0';
        unsigned n = (unsigned)strtoul(buf + 4, NULL, 10);
        PROP(n < N || (n >= 1000 && n < 1200));
        if (n < N)
            seen[n]++;
        if (it == 10000) /* half-way: grow so picks happen during a rehash */
            for (unsigned i = 1000; i < 1200; i++)
                put_key(s, i, &v);
        if (it == 10500)
            for (unsigned i = 1000; i < 1200; i++)
                del_key(s, i);
    }
    for (unsigned i = 0; i < N; i++)
        PROP(seen[i] > 0);
    store_flush(s);
    assert_null(store_random(s));
    put_key(s, 7, &v);
    assert_non_null(store_random(s));
    store_destroy(s);
    version_fini(&v);
}

/* ---- O(1) counts (store_count_valued, store_count_live) ---- */

struct live_ref {
    int64_t now;
    size_t valued, live;
    uint32_t *slots;    /* 2 * SLOT_COUNT: valued keys per hash slot, then
                           those whose every value expires */
};

static void live_cb(void *arg, const struct store_entry *e)
{
    struct live_ref *r = arg;
    bool valued = false, live = false;
    for (unsigned i = 0; i < store_entry_nversions(e); i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        if (!vr.val)
            continue;
        valued = true;
        live |= vr.expire_ms == 0 || vr.expire_ms > r->now;
    }
    r->valued += valued;
    r->live += live;
    size_t kl;
    const char *key = store_entry_key(e, &kl);
    r->slots[slot_of_key(key, kl)] += valued;
    bool forever = false;
    for (unsigned i = 0; i < store_entry_nversions(e); i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        forever |= vr.val && vr.expire_ms <= 0;
    }
    r->slots[SLOT_COUNT + slot_of_key(key, kl)] += valued && !forever;
}

/* Random puts (values, tombstones, expiring or not, concurrent or
 * superseding), replaces, removes and flushes, with time moving on: the
 * counters (total, live and per hash slot) always equal what a full scan counts, also across the rebuilds
 * of the expiry heaps that many rewrites of expiring keys cause. */
static void test_counts(void **state)
{
    (void)state;
    enum { NKEYS = 300 };
    static uint32_t slots[2 * SLOT_COUNT];
    struct store *s = store_create();
    int64_t now = 1000000;
    unsigned clock[NKEYS] = { 0 };
    for (int it = 0; it < 60000; it++) {
        unsigned k = (unsigned)(rnd() % NKEYS);
        char key[32];
        size_t kl = mkkey(key, k);
        if (k % 3 == 0) /* a third share hash tags: several keys per slot */
            kl = (size_t)snprintf(key, sizeof(key), "{t%u}%u", k % 7, k);
        unsigned op = (unsigned)(rnd() % 100);
        struct version v;
        if (op < 70) {
            /* mostly a successor, sometimes a concurrent sibling */
            bool sibling = rnd() % 4 == 0;
            mkver(&v, rnd() % 5 == 0 ? NULL : "v", sibling ? 0 : ++clock[k], 0,
                  sibling ? (unsigned)(rnd() % 3) + 1 : 0);
            v.expire_ms = rnd() % 2 ? 0 : now + (int64_t)(rnd() % 2000) - 200;
            store_put(s, key, kl, &v);
            version_fini(&v);
        } else if (op < 80) {
            struct sibset set;
            sib_init(&set);
            mkver(&v, "r", ++clock[k], 0, 0);
            v.expire_ms = rnd() % 2 ? 0 : now + (int64_t)(rnd() % 1000);
            sib_add(&set, &v);
            version_fini(&v);
            store_replace(s, key, kl, &set);
            sib_fini(&set);
        } else if (op < 97) {
            store_remove(s, key, kl);
        } else if (op < 98 && rnd() % 50 == 0) {
            store_flush(s);
        } else {
            now += (int64_t)(rnd() % 300);
        }
        if (it % 97 == 0) {
            struct live_ref r = { .now = now, .slots = slots };
            memset(slots, 0, sizeof(slots));
            uint64_t cur = 0;
            do
                cur = store_scan(s, cur, 64, live_cb, &r);
            while (cur != 0);
            PROP(store_count_valued(s) == r.valued);
            PROP(store_count_live(s, now) == r.live);
            for (unsigned sl = 0; sl < SLOT_COUNT; sl++) {
                size_t exp;
                PROP(store_count_slot(s, sl, &exp) == slots[sl]);
                PROP(exp == slots[SLOT_COUNT + sl]);
            }
        }
    }
    store_destroy(s);
}

/* ---- memory and speed figure (printed, not asserted) ---- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* jemalloc's size classes: 8, then multiples of 16 up to 128, then four
 * classes per doubling (160, 192, 224, 256, 320, ...). */
static size_t jemalloc_class(size_t n)
{
    if (n <= 8)
        return 8;
    if (n <= 128)
        return (n + 15) & ~(size_t)15;
    size_t base = 128;
    while (base * 2 < n)
        base *= 2;
    size_t step = base / 4;
    return (n + step - 1) / step * step;
}

static void test_memory_figure(void **state)
{
    (void)state;
    enum { N = 1000000, VLEN = 64 };
    char payload[VLEN];
    memset(payload, 'x', sizeof(payload));
    struct mallinfo2 mi0 = mallinfo2();
    size_t used0 = mem_used();
    struct store *s = store_create();
    struct version v;
    version_init(&v);
    uint32_t me = vc_actor_intern("n1.1764064488123", 16);
    vc_increment(&v.vc, me, 1764064490001);
    char key[32];
    double t0 = now_s();
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        v.val = val_create(payload, VLEN);
        store_put(s, key, kl, &v);
        val_unref(v.val); /* the store holds the only reference */
        v.val = NULL;
    }
    double t1 = now_s();
    size_t used1 = mem_used();
    struct mallinfo2 mi1 = mallinfo2();
    size_t found = 0;
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        found += store_find(s, key, kl) != NULL;
    }
    double t2 = now_s();
    vc_increment(&v.vc, me, 1764064490002); /* sequential SETs: overwrite */
    struct val *nv = val_create(payload, VLEN);
    v.val = nv;
    for (unsigned i = 0; i < N; i++) {
        size_t kl = mkkey(key, i);
        store_put(s, key, kl, &v);
    }
    double t3 = now_s();
    assert_int_equal(found, N);

    double overhead = (double)store_overhead(s) / N;
    size_t val_req = sizeof(struct val) + VLEN;
    /* Every entry has the same shape here: rebuild its size from the
     * layout in store.c to apply the allocator's size classes. */
    struct buf clk;
    buf_init(&clk);
    version_pack_clock(&v, &clk);
    size_t entry_req = 16 + 16 /* key */ + 1 /* nver */ + 8 /* val * */ + 1 /* expire */ +
                       1 /* clock len */ + clk.len;
    buf_fini(&clk);
    size_t buckets = 1;
    while (buckets < N)
        buckets *= 2;
    double est = (double)jemalloc_class(entry_req) + (double)jemalloc_class(val_req) +
                 (double)buckets * sizeof(void *) / N;
    print_message("memory: %u keys, 16-byte keys, %d-byte values, 1-entry clocks\n",
                  (unsigned)N, VLEN);
    print_message("  store_overhead (buckets + entries, requested): %.1f B/key\n", overhead);
    print_message("  entry %zu B + value %zu B requested; with jemalloc size classes "
                  "%zu + %zu + buckets %.1f = %.1f B/key all-in\n",
                  entry_req, val_req, jemalloc_class(entry_req), jemalloc_class(val_req),
                  (double)buckets * sizeof(void *) / N, est);
    if (used1 > used0)
        print_message("  measured (jemalloc stats.allocated): %.1f B/key\n",
                      (double)(used1 - used0) / N);
    else if (mi1.uordblks > mi0.uordblks)
        print_message("  measured (glibc malloc, mallinfo2): %.1f B/key\n",
                      (double)(mi1.uordblks - mi0.uordblks) / N);
    else
        print_message("  measured: unavailable with this allocator (sanitizer build)\n");
    print_message("speed: put(new) %.0f ns, find %.0f ns, put(overwrite) %.0f ns per op\n",
                  (t1 - t0) * 1e9 / N, (t2 - t1) * 1e9 / N, (t3 - t2) * 1e9 / N);
    assert_int_equal(nv->refs, N + 1);
    store_destroy(s);
    assert_int_equal(nv->refs, 1);
    version_fini(&v);
}

/* A set is never stored past SIB_MAX_VERSIONS, the codecs' limit: the
 * version that would exceed it is refused and nothing changes. */
static void test_version_limit(void **state)
{
    (void)state;
    struct store *s = store_create();
    struct vclock none;
    vc_init(&none);
    for (uint64_t i = 1; i <= SIB_MAX_VERSIONS + 1; i++) {
        struct version v;
        version_init(&v);
        v.val = val_create("x", 1);
        version_set_dot(&v, &none, A[0], i, 1); /* blind: all concurrent */
        int rc = store_put_checked(s, "k", 1, &v);
        assert_int_equal(rc, i <= SIB_MAX_VERSIONS ? 1 : KV_EMAXSIB);
        version_fini(&v);
    }
    const struct store_entry *e = store_find(s, "k", 1);
    assert_int_equal(store_entry_nversions(e), SIB_MAX_VERSIONS);
    /* a write covering them all is still taken, and leaves one */
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    struct vclock ctx;
    vc_init(&ctx);
    sib_context(&set, &ctx);
    struct version w;
    version_init(&w);
    version_set_dot(&w, &ctx, A[0], SIB_MAX_VERSIONS + 2, 2);
    assert_int_equal(store_put_checked(s, "k", 1, &w), 1);
    assert_int_equal(store_entry_nversions(store_find(s, "k", 1)), 1);
    version_fini(&w);
    vc_fini(&ctx);
    vc_fini(&none);
    sib_fini(&set);
    store_destroy(s);
}

/* store_drop_before (issue 16): the fast way when every version is older,
 * one pass keeping the newer keys otherwise; counts follow. */
static void test_drop_before(void **state)
{
    (void)state;
    struct store *s = store_create();
    struct version v, w;
    mkver(&v, "old", 1, 0, 0);
    for (unsigned i = 0; i < 1000; i++)
        put_key(s, i, &v);
    assert_int_equal(store_drop_before(s, 1), 1000); /* all older: store_flush */
    assert_int_equal(store_count(s), 0);
    assert_int_equal(store_count_valued(s), 0);
    /* newer versions present: only the older keys go */
    for (unsigned i = 0; i < 1000; i++)
        put_key(s, i, &v);
    mkver(&w, "new", 0, 1, 0);
    w.epoch = 1;
    for (unsigned i = 0; i < 1000; i += 3)
        put_key(s, i, &w); /* supersedes the older version (higher epoch) */
    assert_int_equal(store_drop_before(s, 1), 1000 - 334);
    assert_int_equal(store_count(s), 334);
    assert_int_equal(store_count_valued(s), 334);
    for (unsigned i = 0; i < 1000; i++) {
        char key[32];
        size_t kl = mkkey(key, i);
        const struct store_entry *e = store_find(s, key, kl);
        if (i % 3) {
            assert_null(e);
            continue;
        }
        assert_non_null(e);
        assert_int_equal(store_entry_nversions(e), 1);
        struct sibset got;
        sib_init(&got);
        store_entry_load(e, &got);
        assert_int_equal(got.v[0].epoch, 1);
        sib_fini(&got);
    }
    /* a set stored as given (replay) that mixes epochs keeps the newer part */
    struct version x;
    mkver(&x, "x", 0, 0, 1);
    struct version mix[2];
    version_init(&mix[0]);
    version_init(&mix[1]);
    version_copy(&mix[0], &x);
    version_copy(&mix[1], &w);
    struct sibset ms = {2, 2, mix};
    store_replace(s, "m", 1, &ms);
    assert_int_equal(store_drop_before(s, 1), 0);
    const struct store_entry *e = store_find(s, "m", 1);
    assert_non_null(e);
    assert_int_equal(store_entry_nversions(e), 1);
    assert_int_equal(store_drop_before(s, 2), 335);
    assert_int_equal(store_count(s), 0);
    version_fini(&mix[0]);
    version_fini(&mix[1]);
    version_fini(&x);
    version_fini(&v);
    version_fini(&w);
    store_destroy(s);
}

int main(void)
{
    proptest_seed_from_env();
    A[0] = vc_actor_intern("n1.1764064488123", 16);
    A[1] = vc_actor_intern("n2.1764064488200", 16);
    A[2] = vc_actor_intern("n3.1764064488300", 16);
    print_message("test_store: seed %llu (set KV_TEST_SEED to change)\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_basic, setup),
        cmocka_unit_test_setup(test_reconcile_parity, setup),
        cmocka_unit_test_setup(test_many_keys, setup),
        cmocka_unit_test_setup(test_scan_plain, setup),
        cmocka_unit_test_setup(test_scan_resizing, setup),
        cmocka_unit_test_setup(test_random, setup),
        cmocka_unit_test_setup(test_counts, setup),
        cmocka_unit_test_setup(test_memory_figure, setup),
        cmocka_unit_test_setup(test_version_limit, setup),
        cmocka_unit_test_setup(test_drop_before, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
