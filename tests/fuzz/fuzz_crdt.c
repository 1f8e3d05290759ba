/* fuzz_crdt.c — libFuzzer target for crdt_decode, the decoder of the
 * convergent types' states and deltas (from peers and the log, next).
 *
 * The first input byte picks the limits (tiny or generous key and value
 * lengths); the rest is the encoding.  Whatever crdt_decode accepts must:
 *   - re-encode to exactly the input bytes (the format is canonical) and
 *     decode again to an equal state with the same digest;
 *   - join as a lattice: with itself (no change), and with a fixed sample
 *     state of the same type in both orders (equal results);
 *   - be readable: every element's value, number and register pick, its
 *     heap size, and for a zset both sorted views (each member once, in
 *     order, no NaN score);
 *   - accept an operation by a new actor, then an EXPIRE, a removal and a
 *     DEL by it, each of whose result equals the state before joined with
 *     the operation's delta (holes and expiry included).
 * Anything refused must leave an empty state of type CRDT_NONE.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_crdt tests/fuzz/corpus/crdt */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crdt.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/val.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t fz_actor, sample_actor;
static struct crdt sample[CRDT_TYPE_COUNT];

static void init_once(void)
{
    if (sample[CRDT_SET].type)
        return;
    fz_actor = vc_actor_intern("fz.1", 4);
    /* a name no input can carry (a space): the sample's dots never collide
     * with the input's, which only forged states could make them do */
    sample_actor = vc_actor_intern("sample actor", 12);
    for (int t = CRDT_COUNTER; t < CRDT_TYPE_COUNT; t++)
        crdt_init(&sample[t], (enum crdt_type)t);
    struct val *v = val_create("5", 1);
    crdt_set_add(&sample[CRDT_SET], sample_actor, "e0", 2, NULL, NULL);
    crdt_set_add(&sample[CRDT_SET], sample_actor, "e1", 2, NULL, NULL);
    crdt_reg_set(&sample[CRDT_HASH], sample_actor, "e0", 2, v, NULL, NULL);
    crdt_incr_int(&sample[CRDT_HASH], sample_actor, "e1", 2, 3, NULL, NULL);
    crdt_zset_add(&sample[CRDT_ZSET], sample_actor, "e0", 2, 1.5, NULL, NULL);
    crdt_incr_float(&sample[CRDT_ZSET], sample_actor, "e1", 2, 2.0L, NULL, NULL);
    crdt_reg_set(&sample[CRDT_COUNTER], sample_actor, "", 0, v, NULL, NULL);
    crdt_incr_int(&sample[CRDT_COUNTER], sample_actor, "", 0, 2, NULL, NULL);
    crdt_expire_set(&sample[CRDT_SET], sample_actor, 1000, NULL);
    crdt_expire_set(&sample[CRDT_HASH], sample_actor, 2000, NULL);
    val_unref(v);
}

static void encode(const struct crdt *c, struct buf *b)
{
    b->len = 0;
    crdt_encode(c, b);
}

static bool same(const struct crdt *a, const struct crdt *b, struct buf *x, struct buf *y)
{
    encode(a, x);
    encode(b, y);
    bool bytes = x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
    if (bytes != crdt_equal(a, b))
        abort();
    return bytes;
}

static bool read_elem(const struct crdt_elem *el, void *arg)
{
    const struct crdt *c = arg;
    struct buf b;
    buf_init(&b);
    if (c->type != CRDT_SET) {
        struct crdt_num num;
        (void)crdt_num(el, c->type, &num);
        (void)crdt_value(el, c->type, &b);
        (void)crdt_reg_pick(el, c->type);
    }
    buf_fini(&b);
    return true;
}

static int key_cmp(const struct crdt_elem *x, const struct crdt_elem *y)
{
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int r = m ? memcmp(crdt_elem_key(x), crdt_elem_key(y), m) : 0;
    return r ? r : (x->klen > y->klen) - (x->klen < y->klen);
}

/* A zset's sorted views hold every member once, in order, no NaN. */
static void check_order(const struct crdt *c)
{
    if (c->type != CRDT_ZSET)
        return;
    uint32_t n = crdt_count(c);
    struct crdt_zmember *z = mem_alloc((n ? n : 1) * sizeof(*z));
    if (crdt_zset_sorted(c, z) != n)
        abort();
    for (uint32_t i = 0; i < n; i++)
        if (z[i].score != z[i].score ||
            (i > 0 && (z[i - 1].score > z[i].score ||
                       (z[i - 1].score == z[i].score && key_cmp(z[i - 1].el, z[i].el) >= 0))))
            abort();
    if (crdt_zset_sorted_lex(c, z) != n)
        abort();
    for (uint32_t i = 1; i < n; i++)
        if (key_cmp(z[i - 1].el, z[i].el) >= 0)
            abort();
    mem_free(z);
}

/* An operation's result equals the state before joined with its delta
 * (or, when it failed, the state before); before catches up with c. */
static void op_result(const struct crdt *c, struct crdt *before, struct crdt *delta, int rc,
                      struct buf *x, struct buf *y)
{
    if (rc == 0) {
        if (crdt_join(before, delta) != 0 || !same(before, c, x, y))
            abort();
    } else if (!same(before, c, x, y)) {
        abort();
    }
    crdt_fini(delta);
    crdt_copy(before, c);
}

static void check(struct crdt *c, const uint8_t *in, size_t len, size_t max_key, size_t max_val)
{
    struct buf x, y;
    buf_init(&x);
    buf_init(&y);
    encode(c, &x);
    if (x.len != len || memcmp(x.data, in, len) != 0)
        abort();
    struct crdt d, j, k;
    if (crdt_decode(&d, x.data, x.len, max_key, max_val) != 0 || !same(c, &d, &x, &y) ||
        crdt_digest("k", 1, c) != crdt_digest("k", 1, &d))
        abort();

    crdt_init(&j, CRDT_NONE);
    crdt_copy(&j, c);
    if (crdt_join(&j, c) != 0 || !same(&j, c, &x, &y))
        abort();

    const struct crdt *s = &sample[c->type];
    crdt_init(&k, CRDT_NONE);
    crdt_copy(&k, s);
    crdt_copy(&j, c);
    if (crdt_join(&j, s) != 0 || crdt_join(&k, c) != 0)
        abort();
    if (!same(&j, &k, &x, &y))
        abort();

    crdt_each(c, read_elem, c);
    (void)crdt_mem_bytes(c);
    check_order(c);

    /* an operation by an actor that never wrote here */
    struct crdt before, delta;
    crdt_init(&before, CRDT_NONE);
    crdt_copy(&before, c);
    int rc;
    if (c->type == CRDT_SET) {
        rc = crdt_set_add(c, fz_actor, "e0", 2, &delta, NULL);
    } else if (c->type == CRDT_ZSET) {
        long double r;
        rc = crdt_incr_float(c, fz_actor, "e0", 2, 1.0L, &delta, &r);
    } else {
        int64_t r;
        rc = crdt_incr_int(c, fz_actor, "", 0, 1, &delta, &r);
    }
    op_result(c, &before, &delta, rc, &x, &y);
    (void)crdt_expire(c);
    rc = crdt_expire_set(c, fz_actor, (int64_t)(len & 0xff) * 1000, &delta);
    op_result(c, &before, &delta, rc, &x, &y);
    bool existed;
    bool member = c->type == CRDT_SET || c->type == CRDT_ZSET; /* the key used above */
    rc = crdt_remove(c, fz_actor, "e0", member ? 2 : 0, &delta, &existed);
    op_result(c, &before, &delta, rc, &x, &y);
    rc = crdt_clear(c, fz_actor, &delta);
    op_result(c, &before, &delta, rc, &x, &y);
    crdt_fini(&before);
    crdt_fini(&k);
    crdt_fini(&j);
    crdt_fini(&d);
    buf_fini(&x);
    buf_fini(&y);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    if (size < 1)
        return 0;
    size_t max_key = data[0] & 1 ? 4 : 1u << 20;
    size_t max_val = data[0] & 2 ? 2 : 1u << 20;
    struct crdt c;
    int rc = crdt_decode(&c, data + 1, size - 1, max_key, max_val);
    if (rc == 0)
        check(&c, data + 1, size - 1, max_key, max_val);
    else if (c.type != CRDT_NONE || c.nelem != 0 || c.vc.n != 0 || c.ncloud != 0)
        abort();
    crdt_fini(&c);
    return 0;
}
