/* typed_copy.c — the write half of COPY, RENAME and RENAMENX for a typed
 * key (hash, set, sorted set, counter; issue 14), see typed_copy.h.
 *
 * Dots are unique per key, so a copy never carries the source's entries:
 * it runs as a typed write of dst (cmd_typed, with the source as its one
 * source key) at dst's coordinator, which resets dst's state and re-creates
 * every element of the source with its own actor's dots:
 *   set     -> crdt_set_add of the member;
 *   hash    -> crdt_reg_set of the field's value as a read shows it
 *              (crdt_value: concurrent values of the source collapse to the
 *              one HGET returns, HINCRBY totals to the sum);
 *   zset    -> crdt_zset_add of the member's score (ZSCORE's);
 *   counter -> crdt_reg_set of the value as the new counter's base;
 * and the source's expiry (crdt_expire) as the copy's TTL.
 *
 * It is no client command: typed_copy runs the step on a scratch client
 * (defer_run) with the arguments "COPY src dst [REPLACE]", so when dst's
 * coordinator is another node cmd_typed forwards that ordinary COPY there
 * (which reads the source again and ends here on that node).
 *
 * Callers: cmd_keyspace.c (RENAME, RENAMENX, COPY).  Calls: cmd_typed and
 * its write handles (typed.h), defer_run.  O(source elements); nothing
 * blocks.
 */
#include "cmd/typed_copy.h"

#include <string.h>

#include "cmd/cmd.h"
#include "cmd/typed.h"
#include "core/resp.h"
#include "util/buf.h"
#include "util/val.h"

struct copy_ctx {
    struct typed_call *t;
    struct crdt *dst;
    enum crdt_type type;
    struct buf tmp;
};

/* One element of the source, re-created in dst with a fresh dot. */
static bool copy_elem(const struct crdt_elem *el, void *arg)
{
    struct copy_ctx *x = arg;
    const char *k = crdt_elem_key(el);
    struct crdt d;
    if (x->type == CRDT_SET) {
        crdt_set_add(x->dst, x->t->actor, k, el->klen, &d, NULL);
    } else if (x->type == CRDT_ZSET) {
        struct crdt_num num;
        double score = 0;
        if (crdt_num(el, CRDT_ZSET, &num) == 0)
            score = num.is_float ? (double)num.f : (double)num.i;
        crdt_zset_add(x->dst, x->t->actor, k, el->klen, score, &d, NULL);
    } else { /* hash field or counter: the value a read shows */
        x->tmp.len = 0;
        if (crdt_value(el, (uint8_t)x->type, &x->tmp) != 0) {
            /* an int64 sum out of range (only concurrent increments build
             * it): the picked register, as HGET would fail on the sum */
            x->tmp.len = 0;
            const struct crdt_entry *r = crdt_reg_pick(el, (uint8_t)x->type);
            if (r && r->u.val)
                buf_put(&x->tmp, r->u.val->data, r->u.val->len);
        }
        struct val *v = val_create(x->tmp.data ? x->tmp.data : "", x->tmp.len);
        crdt_reg_set(x->dst, x->t->actor, k, el->klen, v, &d, NULL);
        val_unref(v);
    }
    typed_took(x->t, &d);
    return true;
}

/* cmd_typed's fn on dst: argv is "COPY src dst [REPLACE]". */
static void copy_fn(struct typed_call *t)
{
    const struct crdt *src = t->src[0];
    bool replace = t->argc > 3;
    if (!src || (t->state && !replace)) {
        resp_add_int(&t->reply, 0);
        return;
    }
    if (t->state)
        typed_reset(t);
    struct copy_ctx x = {.t = t, .dst = typed_mut(t), .type = (enum crdt_type)src->type};
    buf_init(&x.tmp);
    crdt_each(src, copy_elem, &x);
    buf_fini(&x.tmp);
    int64_t exp = crdt_expire(src);
    if (exp > 0) {
        struct crdt d;
        crdt_expire_set(x.dst, t->actor, exp, &d);
        typed_took(t, &d);
    }
    resp_add_int(&t->reply, 1);
}

/* REPLACE (argc 4): dst may hold a string or another type, which the new
 * state supersedes (TYPED_OVERWRITE). */
static void copy_run(struct client *c, int argc, const struct arg *argv, enum crdt_type type)
{
    unsigned flags = TYPED_WRITE | (argc > 3 ? TYPED_OVERWRITE : 0);
    cmd_typed(c, argc, argv, &argv[2], type, flags, &argv[1], 1, copy_fn);
}

static void copy_counter(struct client *c, int argc, const struct arg *argv)
{
    copy_run(c, argc, argv, CRDT_COUNTER);
}

static void copy_set(struct client *c, int argc, const struct arg *argv)
{
    copy_run(c, argc, argv, CRDT_SET);
}

static void copy_hash(struct client *c, int argc, const struct arg *argv)
{
    copy_run(c, argc, argv, CRDT_HASH);
}

static void copy_zset(struct client *c, int argc, const struct arg *argv)
{
    copy_run(c, argc, argv, CRDT_ZSET);
}

void typed_copy(struct kv_node *node, const struct arg *src, const struct arg *dst,
                enum crdt_type type, bool replace, defer_call_fn done, void *arg)
{
    struct arg argv[4] = {{"COPY", 4}, *src, *dst, {"REPLACE", 7}};
    defer_handler_fn h = type == CRDT_SET    ? copy_set
                         : type == CRDT_HASH ? copy_hash
                         : type == CRDT_ZSET ? copy_zset
                                             : copy_counter;
    defer_run(node, replace ? 4 : 3, argv, h, done, arg);
}
