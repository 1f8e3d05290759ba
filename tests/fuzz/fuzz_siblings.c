/* fuzz_siblings.c — libFuzzer target for sib_decode, the decoder of sibling
 * sets from peers (PPUT, PHINT, PGET replies, transfers) and from the log.
 *
 * Whatever sib_decode accepts must:
 *   - hold at most SIB_MAX_VERSIONS pairwise concurrent versions whose dots
 *     (when present) name an entry of their own clock above dot_base;
 *   - re-encode to bytes that decode to an equal set (values, expiry,
 *     clocks, dots), and re-encode canonically (the same bytes again);
 *   - survive the store's local clock codec (version_pack_clock) unchanged;
 *   - reconcile as a set: merging it into itself or into a copy changes
 *     nothing, it covers itself, and adding its versions one by one to an
 *     empty set rebuilds it.
 * Anything refused must leave the set empty.  Inputs are also tried with a
 * tiny max_val, so value-length limits are exercised.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_siblings tests/fuzz/corpus/siblings */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/siblings.h"
#include "util/buf.h"
#include "util/mem.h"
#include "core/vclock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VAL (1u << 20)

static bool version_same(const struct version *x, const struct version *y)
{
    if (x->expire_ms != y->expire_ms || !vc_identical(&x->vc, &y->vc) ||
        x->dot_actor != y->dot_actor || x->dot_base != y->dot_base || x->epoch != y->epoch)
        return false;
    if ((x->val == NULL) != (y->val == NULL))
        return false;
    return !x->val || (x->val->len == y->val->len &&
                       memcmp(x->val->data, y->val->data, x->val->len) == 0);
}

static bool sib_same(const struct sibset *a, const struct sibset *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (!version_same(&a->v[i], &b->v[i]))
            return false;
    return true;
}

static void check_set(const struct sibset *s)
{
    if (s->n > SIB_MAX_VERSIONS)
        abort();
    for (uint32_t i = 0; i < s->n; i++) {
        const struct version *v = &s->v[i];
        if (v->dot_actor != VERSION_NO_DOT &&
            version_dot_counter(v) <= v->dot_base)
            abort();
        for (uint32_t j = i + 1; j < s->n; j++)
            if (version_compare(v, &s->v[j]) != VC_CONCURRENT ||
                version_compare(&s->v[j], v) != VC_CONCURRENT)
                abort();
        if (!version_seen_by(v, v) || version_compare(v, v) != VC_EQUAL)
            abort();
    }

    /* wire round trip, canonical */
    struct buf a, b;
    buf_init(&a);
    buf_init(&b);
    sib_encode(s, &a);
    struct sibset t;
    sib_init(&t);
    if (sib_decode(&t, a.data, a.len, MAX_VAL) != 0 || !sib_same(s, &t))
        abort();
    sib_encode(&t, &b);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) != 0)
        abort();

    /* the store's local clock codec */
    for (uint32_t i = 0; i < s->n; i++) {
        struct version u;
        version_init(&u);
        b.len = 0;
        version_pack_clock(&s->v[i], &b);
        size_t used = 0;
        if (version_unpack_clock(&u, b.data, b.len, &used) != 0 || used != b.len ||
            !vc_identical(&u.vc, &s->v[i].vc) || u.dot_actor != s->v[i].dot_actor ||
            u.dot_base != s->v[i].dot_base)
            abort();
        version_fini(&u);
    }

    /* reconcile laws on the set itself */
    if (sib_merge(&t, s) || !sib_same(s, &t) || !sib_covers(s, &t) || !sib_covers(&t, s))
        abort();
    struct sibset r;
    sib_init(&r);
    for (uint32_t i = 0; i < s->n; i++)
        if (!sib_add(&r, &s->v[i]))
            abort();
    if (!sib_same(s, &r) || sib_merge(&r, s))
        abort();

    struct vclock ctx;
    vc_init(&ctx);
    sib_context(s, &ctx);
    for (uint32_t i = 0; i < s->n; i++)
        if (!vc_descends(&ctx, &s->v[i].vc))
            abort();
    b.len = 0;
    for (uint32_t i = 0; i < s->n; i++)
        version_format_clock(&s->v[i], &b);

    vc_fini(&ctx);
    sib_fini(&r);
    sib_fini(&t);
    buf_fini(&a);
    buf_fini(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sibset s;
    sib_init(&s);
    if (sib_decode(&s, data, size, MAX_VAL) == 0)
        check_set(&s);
    else if (s.n != 0)
        abort();
    if (sib_decode(&s, data, size, 3) == 0) {
        for (uint32_t i = 0; i < s.n; i++)
            if (s.v[i].val && s.v[i].val->len > 3)
                abort();
    } else if (s.n != 0) {
        abort();
    }
    sib_fini(&s);
    return 0;
}
