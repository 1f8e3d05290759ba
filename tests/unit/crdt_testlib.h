/* crdt_testlib.h — what test_crdt.c, test_crdt_ctx.c and test_crdt_laws.c
 * share: the seeded generator, PROP (failures name the seed), three actors
 * interned in reverse name order (so ids and names disagree, as on
 * different nodes), and state helpers that check crdt_equal against the
 * canonical bytes.  Everything is static inline: each test uses a subset. */
#ifndef KV_CRDT_TESTLIB_H
#define KV_CRDT_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/crdt.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/mem.h"
#include "util/val.h"

#define NREP 3

#define PROPTEST_SEED 0xc4d7e5eedULL
#include "proptest.h"

static uint32_t actor[NREP];

static inline unsigned rnd_below(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static inline int setup(void **state)
{
    (void)state;
    rng_state = seed;
    return 0;
}

/* ---------------------------------------------------------------- */
/* helpers                                                            */

static inline bool same_bytes(const struct crdt *a, const struct crdt *b)
{
    struct buf x, y;
    buf_init(&x);
    buf_init(&y);
    crdt_encode(a, &x);
    crdt_encode(b, &y);
    bool same = x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    buf_fini(&x);
    buf_fini(&y);
    return same;
}

/* crdt_equal plus the canonical bytes: both notions must agree. */
static inline bool same(const struct crdt *a, const struct crdt *b)
{
    bool eq = crdt_equal(a, b);
    PROP(eq == same_bytes(a, b));
    return eq;
}

static inline void join_into(struct crdt *dst, const struct crdt *src)
{
    assert_int_equal(crdt_join(dst, src), 0);
}

static inline void joined(struct crdt *out, const struct crdt *a, const struct crdt *b)
{
    crdt_init(out, CRDT_NONE);
    crdt_copy(out, a);
    join_into(out, b);
}

static inline void roundtrip(const struct crdt *c)
{
    struct buf b;
    buf_init(&b);
    crdt_encode(c, &b);
    struct crdt d;
    PROP(crdt_decode(&d, b.data, b.len, 1u << 20, 1u << 20) == 0);
    PROP(same(c, &d));
    PROP(crdt_digest("k", 1, c) == crdt_digest("k", 1, &d));
    struct buf b2;
    buf_init(&b2);
    crdt_encode(&d, &b2);
    PROP(b.len == b2.len && memcmp(b.data, b2.data, b.len) == 0);
    buf_fini(&b2);
    crdt_fini(&d);
    buf_fini(&b);
}

static inline bool contains(const struct crdt *c, const char *m)
{
    const struct crdt_elem *el = crdt_find(c, m, strlen(m));
    return el && el->n > 0;
}

static inline void value_is(const struct crdt *c, const char *f, const char *want)
{
    const struct crdt_elem *el = crdt_find(c, f, strlen(f));
    assert_non_null(el);
    struct buf b;
    buf_init(&b);
    assert_int_equal(crdt_value(el, c->type, &b), 0);
    buf_putc(&b, '\0');
    assert_string_equal(b.data, want);
    buf_fini(&b);
}

static inline void hset(struct crdt *c, int r, const char *f, const char *v, struct crdt *delta)
{
    struct val *x = val_create(v, strlen(v));
    assert_int_equal(crdt_reg_set(c, actor[r], f, strlen(f), x, delta, NULL), 0);
    val_unref(x);
}

static inline void elem_name(char *buf, size_t cap, unsigned i)
{
    snprintf(buf, cap, "e%u", i);
}

/* Reads KV_TEST_SEED and interns the actors; call first in main. */
static inline void crdt_test_init(const char *name)
{
    proptest_seed_from_env();
    actor[2] = vc_actor_intern("n3.1764064488300", 16);
    actor[1] = vc_actor_intern("n2.1764064488200", 16);
    actor[0] = vc_actor_intern("n1.1764064488100", 16);
    print_message("%s: seed %llu (set KV_TEST_SEED to change)\n", name, seed);
}

#endif
