/* cmd_set_algebra.c — the set algebra commands (issue 14): SINTER, SUNION,
 * SDIFF, SINTERSTORE, SUNIONSTORE, SDIFFSTORE, SINTERCARD.
 *
 * Each runs through cmd_typed (typed.h) with its source keys as the
 * command's srcs (read by the framework, each NULL when absent, a source
 * of another type failing the command with WRONGTYPE): the reads at the
 * first key's coordinator (TYPED_READ), the STORE forms at the
 * destination's coordinator (TYPED_WRITE | TYPED_OVERWRITE), which replace
 * the destination whatever it holds (as Redis overwrites it) with the
 * result's members, new dots.  The sources are read, not locked: a source
 * written meanwhile through its own coordinator may or may not be seen (in
 * Redis the command is atomic; here only the destination's write is).
 * At most TYPED_MAX_SRCS source keys per command (cmd_typed's error
 * beyond).
 *
 * Work: SINTER and SINTERCARD walk the smallest source and look each
 * member up in the others (O(smallest x sources)); SUNION walks every
 * source and keeps a member the first time it is seen (looked up in the
 * sources before it: O(total x sources)); SDIFF walks the first source.
 *
 * Owns: the result list of one command (struct mlist), borrowed pointers
 * into the sources, copied before a STORE form resets its destination
 * (which may be one of the sources).
 * Callers: cmd_set.c's table (cmd_set_priv.h).  fn callbacks run in
 * event-loop callbacks at the coordinator and never block.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd/cmd.h"
#include "cmd/cmd_set_priv.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "core/resp.h"
#include "util/buf.h"
#include "util/mem.h"

enum set_op {
    SET_OP_INTER = 0,
    SET_OP_UNION,
    SET_OP_DIFF,
    SET_OP_COUNT
};

/* The members of a result: borrowed from the sources (valid during fn). */
struct mlist {
    const struct crdt_elem **v;
    size_t n, cap;
    unsigned long long limit; /* stop at this many (0 = all) */
};

static void mlist_push(struct mlist *l, const struct crdt_elem *el)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = mem_realloc(l->v, l->cap * sizeof(*l->v));
    }
    l->v[l->n++] = el;
}

static bool mlist_full(const struct mlist *l)
{
    return l->limit && l->n >= l->limit;
}

/* A walk over one source: el is kept when the test passes. */
struct walk {
    struct mlist *out;
    const struct crdt *const *src;
    int nsrc;
    int self;       /* index of the walked source */
    enum set_op op;
};

static bool walk_elem(const struct crdt_elem *el, void *arg)
{
    struct walk *w = arg;
    const char *k = crdt_elem_key(el);
    switch (w->op) {
    case SET_OP_INTER: /* in every other source */
        for (int j = 0; j < w->nsrc; j++)
            if (j != w->self && w->src[j] != w->src[w->self] && !set_has(w->src[j], k, el->klen))
                return true;
        break;
    case SET_OP_UNION: /* not in a source walked before */
        for (int j = 0; j < w->self; j++)
            if (set_has(w->src[j], k, el->klen))
                return true;
        break;
    case SET_OP_DIFF: /* in no later source */
        for (int j = 1; j < w->nsrc; j++)
            if (set_has(w->src[j], k, el->klen))
                return true;
        break;
    default:
        return false;
    }
    mlist_push(w->out, el);
    return !mlist_full(w->out);
}

/* The result of op over the command's sources into out. */
static void compute(const struct typed_call *t, enum set_op op, struct mlist *out)
{
    struct walk w = {.out = out, .src = t->src, .nsrc = t->nsrc, .self = 0, .op = op};
    switch (op) {
    case SET_OP_INTER: {
        int small = -1;
        for (int i = 0; i < t->nsrc; i++) {
            if (!t->src[i] || crdt_count(t->src[i]) == 0)
                return; /* an empty source: an empty intersection */
            if (small < 0 || crdt_count(t->src[i]) < crdt_count(t->src[small]))
                small = i;
        }
        w.self = small;
        crdt_each(t->src[small], walk_elem, &w);
        break;
    }
    case SET_OP_UNION:
        for (int i = 0; i < t->nsrc && !mlist_full(out); i++) {
            if (!t->src[i])
                continue;
            w.self = i;
            crdt_each(t->src[i], walk_elem, &w);
        }
        break;
    case SET_OP_DIFF:
        if (t->src[0])
            crdt_each(t->src[0], walk_elem, &w);
        break;
    default:
        break;
    }
}

static enum set_op op_of(const struct arg *name)
{
    /* the command's name: s<inter|union|diff>[store|card] */
    if (name->len >= 6 && strncasecmp(name->p + 1, "inter", 5) == 0)
        return SET_OP_INTER;
    if (name->len >= 6 && (name->p[1] == 'u' || name->p[1] == 'U'))
        return SET_OP_UNION;
    return SET_OP_DIFF;
}

/* ---- SINTER / SUNION / SDIFF key [key ...] ---- */

static void algebra_read_fn(struct typed_call *t)
{
    struct mlist l = {0};
    compute(t, op_of(&t->argv[0]), &l);
    resp_add_set(&t->reply, t->proto, (long long)l.n);
    for (size_t i = 0; i < l.n; i++)
        set_add_member(&t->reply, l.v[i]);
    mem_free(l.v);
}

void cmd_salgebra(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, &argv[1], argc - 1,
              algebra_read_fn);
}

/* ---- SINTERSTORE / SUNIONSTORE / SDIFFSTORE destination key [key ...] ---- */

static void algebra_store_fn(struct typed_call *t)
{
    struct mlist l = {0};
    compute(t, op_of(&t->argv[0]), &l);
    /* copy the members out: the destination may be one of the sources */
    struct buf keys;
    buf_init(&keys);
    for (size_t i = 0; i < l.n; i++) {
        uint32_t klen = l.v[i]->klen;
        buf_put(&keys, &klen, sizeof(klen));
        buf_put(&keys, crdt_elem_key(l.v[i]), klen);
    }
    size_t n = l.n;
    mem_free(l.v);
    typed_reset(t);
    const char *p = keys.data;
    for (size_t i = 0; i < n; i++) {
        uint32_t klen;
        memcpy(&klen, p, sizeof(klen));
        p += sizeof(klen);
        struct crdt d;
        crdt_set_add(typed_mut(t), t->actor, p, klen, &d, NULL);
        typed_took(t, &d);
        p += klen;
    }
    buf_fini(&keys);
    resp_add_int(&t->reply, (long long)n);
}

/* The destination is replaced whatever it holds (TYPED_OVERWRITE), as
 * Redis overwrites a destination of any type; a source of another type
 * still answers WRONGTYPE and leaves the destination alone. */
void cmd_salgebra_store(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE | TYPED_OVERWRITE, &argv[2],
              argc - 2, algebra_store_fn);
}

/* ---- SINTERCARD numkeys key [key ...] [LIMIT limit] ---- */

static void sintercard_fn(struct typed_call *t)
{
    long long limit = 0;
    long long numkeys;
    cmd_arg_ll(&t->argv[1], &numkeys); /* checked by the handler */
    if (t->argc > 2 + numkeys)
        cmd_arg_ll(&t->argv[t->argc - 1], &limit);
    struct mlist l = {.limit = (unsigned long long)limit};
    compute(t, SET_OP_INTER, &l);
    resp_add_int(&t->reply, (long long)l.n);
    mem_free(l.v);
}

void cmd_sintercard(struct client *c, int argc, const struct arg *argv)
{
    long long numkeys;
    if (!cmd_arg_ll(&argv[1], &numkeys) || numkeys < 1) {
        cmd_reply_err(c, "numkeys should be greater than 0");
        return;
    }
    if (numkeys > argc - 2) {
        cmd_reply_err(c, "Number of keys can't be greater than number of args");
        return;
    }
    for (long long j = 2 + numkeys; j < argc; j++) {
        long long limit;
        if (cmd_arg_eq(&argv[j], "limit") && j + 1 < argc) {
            j++;
            if (!cmd_arg_ll(&argv[j], &limit) || limit < 0) {
                cmd_reply_err(c, "LIMIT can't be negative");
                return;
            }
        } else {
            cmd_reply_syntax(c);
            return;
        }
    }
    /* several LIMITs: the last one counts, as in Redis (sintercard_fn reads
     * the last argument) */
    cmd_typed(c, argc, argv, &argv[2], CRDT_SET, TYPED_READ, &argv[2], (int)numkeys,
              sintercard_fn);
}
