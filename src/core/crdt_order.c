/* crdt_order.c — ordered views of a convergent sorted set (crdt.h): its
 * members sorted by (score, member bytes) as Redis orders a zset, or by
 * member bytes alone, for ZRANGE, ZRANK, ZPOP* and the lex commands.
 *
 * Owns nothing: fills the caller's array with borrowed element pointers
 * and their scores (crdt_num, the value ZSCORE shows), then sorts it.  The
 * element table is unordered (crdt.c), so each view costs a walk and a
 * sort, O(n log n); a command that needs one rank pays that until an index
 * is kept beside the table.
 *
 * Callers: the sorted-set command handlers (next) and tests.  Pure CPU
 * work, no allocation. */
#include "core/crdt.h"

#include <stdlib.h>
#include <string.h>

struct fill {
    struct crdt_zmember *out;
    uint32_t n;
};

static bool fill_one(const struct crdt_elem *el, void *arg)
{
    struct fill *f = arg;
    struct crdt_num num;
    /* a zset's value is always a float sum: crdt_num cannot fail on it
     * (no byte register to parse, no integer to overflow) */
    double score = crdt_num(el, CRDT_ZSET, &num) == 0 ? (double)num.f : 0;
    f->out[f->n++] = (struct crdt_zmember){ .el = el, .score = score };
    return true;
}

static int member_cmp(const struct crdt_elem *x, const struct crdt_elem *y)
{
    size_t m = x->klen < y->klen ? x->klen : y->klen;
    int c = m ? memcmp(crdt_elem_key(x), crdt_elem_key(y), m) : 0;
    return c ? c : (x->klen > y->klen) - (x->klen < y->klen);
}

static int score_cmp(const void *pa, const void *pb)
{
    const struct crdt_zmember *a = pa, *b = pb;
    if (a->score < b->score)
        return -1;
    if (a->score > b->score)
        return 1;
    return member_cmp(a->el, b->el);
}

static int lex_cmp(const void *pa, const void *pb)
{
    const struct crdt_zmember *a = pa, *b = pb;
    return member_cmp(a->el, b->el);
}

static uint32_t sorted(const struct crdt *c, struct crdt_zmember *out,
                       int (*cmp)(const void *, const void *))
{
    if (c->type != CRDT_ZSET)
        return 0;
    struct fill f = { .out = out };
    crdt_each(c, fill_one, &f);
    if (f.n > 1)
        qsort(out, f.n, sizeof(*out), cmp);
    return f.n;
}

uint32_t crdt_zset_sorted(const struct crdt *c, struct crdt_zmember *out)
{
    return sorted(c, out, score_cmp);
}

uint32_t crdt_zset_sorted_lex(const struct crdt *c, struct crdt_zmember *out)
{
    return sorted(c, out, lex_cmp);
}
