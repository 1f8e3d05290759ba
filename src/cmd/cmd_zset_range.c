/* cmd_zset_range.c — the sorted-set range commands (issue 14): ZRANGE with
 * BYSCORE/BYLEX/REV/LIMIT/WITHSCORES, ZRANGESTORE, ZREVRANGE,
 * Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX, ZCOUNT, ZLEXCOUNT and
 * ZREMRANGEBYSCORE/BYRANK/BYLEX.
 *
 * The state has no order index (crdt.h), so a range is chosen from the
 * order zorder.c builds for the command: the whole sorted array
 * (O(n log n)), or for a rank range that starts at one end the first k
 * (O(n log k)); ZCOUNT counts in O(n) without sorting, ZLEXCOUNT walks the
 * sorted members as the lex ranges do.
 *
 * Option parsing follows Redis 7.0's zrangeGenericCommand: the handler
 * answers every syntax error before the key is read; the fn parses the
 * same (copied) arguments again, knowing they are valid.
 *
 * Callers: the table in cmd_zset.c.  Fns run in event-loop callbacks.
 */
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_elems.h"
#include "cmd/cmd_zset_priv.h"
#include "cmd/typed.h"
#include "core/resp.h"
#include "core/zorder.h"
#include "util/mem.h"

enum zr_type { ZR_AUTO = 0, ZR_RANK, ZR_SCORE, ZR_LEX };
enum zr_dir { ZR_DIR_AUTO = 0, ZR_FWD, ZR_REV };

struct zr_opts {
    enum zr_type type;
    bool rev, withscores;
    long long start, end;       /* ZR_RANK */
    long long offset, limit;    /* LIMIT (limit -1 = none) */
    struct zorder_srange sr;    /* ZR_SCORE */
    struct zorder_lrange lr;    /* ZR_LEX */
};

/* Redis's zrangeGenericCommand steps 1 and 2: the key at argv[at], its
 * range at at+1, at+2, options after.  NULL or the error text. */
static const char *zr_parse(int argc, const struct arg *argv, int at, bool store,
                            enum zr_type type, enum zr_dir dir, struct zr_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->limit = -1;
    for (int j = at + 3; j < argc; j++) {
        int left = argc - j - 1;
        if (!store && cmd_arg_eq(&argv[j], "withscores")) {
            o->withscores = true;
        } else if (cmd_arg_eq(&argv[j], "limit") && left >= 2) {
            if (!cmd_arg_ll(&argv[j + 1], &o->offset) || !cmd_arg_ll(&argv[j + 2], &o->limit))
                return ZS_ERR_INT;
            j += 2;
        } else if (dir == ZR_DIR_AUTO && cmd_arg_eq(&argv[j], "rev")) {
            dir = ZR_REV;
        } else if (type == ZR_AUTO && cmd_arg_eq(&argv[j], "bylex")) {
            type = ZR_LEX;
        } else if (type == ZR_AUTO && cmd_arg_eq(&argv[j], "byscore")) {
            type = ZR_SCORE;
        } else {
            return ZS_ERR_SYNTAX;
        }
    }
    if (dir == ZR_DIR_AUTO)
        dir = ZR_FWD;
    if (type == ZR_AUTO)
        type = ZR_RANK;
    if (o->limit != -1 && type == ZR_RANK)
        return "syntax error, LIMIT is only supported in combination with either BYSCORE or "
               "BYLEX";
    if (o->withscores && type == ZR_LEX)
        return "syntax error, WITHSCORES not supported in combination with BYLEX";
    o->type = type;
    o->rev = dir == ZR_REV;
    const struct arg *lo = &argv[at + 1], *hi = &argv[at + 2];
    if (o->rev && type != ZR_RANK) { /* given as max, min */
        const struct arg *tmp = lo;
        lo = hi;
        hi = tmp;
    }
    switch (type) {
    case ZR_SCORE:
        if (!zorder_parse_srange(lo->p, lo->len, hi->p, hi->len, &o->sr))
            return ZS_ERR_RANGE;
        break;
    case ZR_LEX:
        if (!zorder_parse_lrange(lo->p, lo->len, hi->p, hi->len, &o->lr))
            return ZS_ERR_LEX;
        break;
    default:
        if (!cmd_arg_ll(lo, &o->start) || !cmd_arg_ll(hi, &o->end))
            return ZS_ERR_INT;
        break;
    }
    return NULL;
}

/* Redis's rank sanitising: false when the range is empty, else [*s, *e]
 * within 0..n-1. */
static bool rank_range(long long start, long long end, long long n, long long *s, long long *e)
{
    if (start < 0)
        start += n;
    if (end < 0)
        end += n;
    if (start < 0)
        start = 0;
    if (start > end || start >= n)
        return false;
    if (end >= n)
        end = n - 1;
    *s = start;
    *e = end;
    return true;
}

static void reverse(struct zorder_item *a, size_t n)
{
    for (size_t i = 0; i < n / 2; i++) {
        struct zorder_item tmp = a[i];
        a[i] = a[n - 1 - i];
        a[n - 1 - i] = tmp;
    }
}

static bool gte_min(const struct zorder_lrange *r, const struct zorder_item *it)
{
    return zorder_lex_gte_min(r, it->m, it->mlen);
}

static bool lte_max(const struct zorder_lrange *r, const struct zorder_item *it)
{
    return zorder_lex_lte_max(r, it->m, it->mlen);
}

/* A lex range over a[0..n) in (score, member) order, chosen as Redis 7.0
 * walks a small (listpack) sorted set: from the end the direction starts
 * at, the first member past the near bound must be within the far one;
 * then OFFSET members are skipped unchecked and members are taken while
 * the far bound holds.  With equal scores (what lex ranges are for) this
 * is exactly the members in range; with mixed scores it is Redis's answer
 * for sets of up to 128 members.  The chosen items are moved to a[0..k). */
static size_t lex_select(const struct zr_opts *o, struct zorder_item *a, size_t n)
{
    const struct zorder_lrange *r = &o->lr;
    if (n == 0 || !gte_min(r, &a[n - 1]) || !lte_max(r, &a[0]))
        return 0;
    size_t k = 0;
    long long left = o->limit;
    if (!o->rev) {
        size_t i = 0;
        while (i < n && !gte_min(r, &a[i]))
            i++;
        if (i == n || !lte_max(r, &a[i]))
            return 0;
        i += (size_t)o->offset;
        for (; i < n && left != 0 && lte_max(r, &a[i]); i++, left--)
            a[k++] = a[i];
        return k;
    }
    size_t i = n; /* one past the candidate */
    while (i > 0 && !lte_max(r, &a[i - 1]))
        i--;
    if (i == 0 || !gte_min(r, &a[i - 1]))
        return 0;
    if ((size_t)o->offset >= i)
        return 0;
    i -= (size_t)o->offset;
    struct zorder_item *tmp = mem_alloc(i * sizeof(*tmp));
    for (; i > 0 && left != 0 && gte_min(r, &a[i - 1]); i--, left--)
        tmp[k++] = a[i - 1];
    memcpy(a, tmp, k * sizeof(*a));
    mem_free(tmp);
    return k;
}

/* The chosen items of z in reply order: *out new (mem_free), its length
 * returned. */
static size_t zr_select(const struct crdt *z, const struct zr_opts *o, struct zorder_item **out)
{
    *out = NULL;
    long long n = z ? crdt_count(z) : 0;
    if (n == 0)
        return 0;
    if (o->type == ZR_RANK) {
        long long s, e;
        if (!rank_range(o->start, o->end, n, &s, &e))
            return 0;
        struct zorder_item *a;
        size_t got;
        if (e + 1 < n) { /* the first e + 1 from the end the range counts from */
            a = mem_alloc((size_t)(e + 1) * sizeof(*a));
            got = zorder_top(z, (size_t)(e + 1), o->rev, a);
        } else {
            got = zorder_sort(z, &a);
            if (o->rev)
                reverse(a, got);
        }
        size_t len = (size_t)(e - s + 1);
        memmove(a, a + s, len * sizeof(*a));
        (void)got;
        *out = a;
        return len;
    }
    if ((o->type == ZR_SCORE && zorder_srange_empty(&o->sr)) ||
        (o->type == ZR_LEX && zorder_lrange_empty(&o->lr)))
        return 0;
    if (o->offset > 0 && o->offset >= n)
        return 0;
    if (o->offset < 0 || o->limit == 0) /* Redis skips everything then */
        return 0;
    struct zorder_item *a;
    size_t got = zorder_sort(z, &a), k = 0;
    if (o->type == ZR_LEX) {
        k = lex_select(o, a, got);
    } else {
        if (o->rev)
            reverse(a, got);
        long long skip = o->offset, left = o->limit;
        for (size_t i = 0; i < got && left != 0; i++) {
            if (!zorder_in_srange(&o->sr, a[i].score))
                continue;
            if (skip > 0) {
                skip--;
                continue;
            }
            a[k++] = a[i]; /* k <= i: compacting in place */
            if (left > 0)
                left--;
        }
    }
    *out = a;
    return k;
}

/* ---- ZRANGE and friends (read) ---- */

static void zr_read(struct typed_call *t, int at, enum zr_type type, enum zr_dir dir)
{
    struct zr_opts o;
    zr_parse(t->argc, t->argv, at, false, type, dir, &o);
    struct zorder_item *a;
    size_t n = zr_select(t->state, &o, &a);
    zs_reply_items(&t->reply, t->proto, a, n, o.withscores);
    mem_free(a);
}

/* The read range commands by name (argv[0]; the table in cmd_zset.c
 * routes only these to cmd_zrange): the range type and direction each
 * fixes, ZRANGE leaving both to its options. */
static const struct zr_kind {
    const char *name;
    enum zr_type type;
    enum zr_dir dir;
} ZR_KINDS[] = {
    {"zrange", ZR_AUTO, ZR_DIR_AUTO},    {"zrevrange", ZR_RANK, ZR_REV},
    {"zrangebyscore", ZR_SCORE, ZR_FWD}, {"zrevrangebyscore", ZR_SCORE, ZR_REV},
    {"zrangebylex", ZR_LEX, ZR_FWD},     {"zrevrangebylex", ZR_LEX, ZR_REV},
};

static const struct zr_kind *zr_kind(const struct arg *name)
{
    for (size_t i = 1; i < sizeof(ZR_KINDS) / sizeof(ZR_KINDS[0]); i++)
        if (cmd_arg_eq(name, ZR_KINDS[i].name))
            return &ZR_KINDS[i];
    return &ZR_KINDS[0];
}

static void zrange_fn(struct typed_call *t)
{
    const struct zr_kind *k = zr_kind(&t->argv[0]);
    zr_read(t, 1, k->type, k->dir);
}

void cmd_zrange(struct client *c, int argc, const struct arg *argv)
{
    const struct zr_kind *k = zr_kind(&argv[0]);
    struct zr_opts o;
    const char *err = zr_parse(argc, argv, 1, false, k->type, k->dir, &o);
    if (err) {
        cmd_reply_err(c, err);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zrange_fn);
}

/* ---- ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT o c] ---- */

static void zrangestore_fn(struct typed_call *t)
{
    struct zr_opts o;
    zr_parse(t->argc, t->argv, 2, true, ZR_AUTO, ZR_DIR_AUTO, &o);
    struct zorder_item *a;
    size_t n = zr_select(t->src[0], &o, &a);
    char *own = zs_items_own(a, n); /* dst may be src: reset clears it */
    resp_add_int(&t->reply, zs_store(t, a, n));
    mem_free(own);
    mem_free(a);
}

void cmd_zrangestore(struct client *c, int argc, const struct arg *argv)
{
    struct zr_opts o;
    const char *err = zr_parse(argc, argv, 2, true, ZR_AUTO, ZR_DIR_AUTO, &o);
    if (err) {
        cmd_reply_err(c, err);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_WRITE | TYPED_OVERWRITE, &argv[2], 1, zrangestore_fn);
}

/* ---- ZCOUNT / ZLEXCOUNT key min max: O(n) ---- */

static void zcount_fn(struct typed_call *t)
{
    struct zorder_srange r;
    zorder_parse_srange(t->argv[2].p, t->argv[2].len, t->argv[3].p, t->argv[3].len, &r);
    resp_add_int(&t->reply, (long long)zorder_count_srange(t->state, &r));
}

void cmd_zcount(struct client *c, int argc, const struct arg *argv)
{
    struct zorder_srange r;
    if (!zorder_parse_srange(argv[2].p, argv[2].len, argv[3].p, argv[3].len, &r)) {
        cmd_reply_err(c, ZS_ERR_RANGE);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zcount_fn);
}

/* Through the lex walk (O(n log n)): with mixed scores Redis counts the run
 * its walk finds, not every member in range. */
static void zlexcount_fn(struct typed_call *t)
{
    struct zr_opts o;
    memset(&o, 0, sizeof(o));
    o.type = ZR_LEX;
    o.limit = -1;
    zorder_parse_lrange(t->argv[2].p, t->argv[2].len, t->argv[3].p, t->argv[3].len, &o.lr);
    struct zorder_item *a;
    size_t n = zr_select(t->state, &o, &a);
    mem_free(a);
    resp_add_int(&t->reply, (long long)n);
}

void cmd_zlexcount(struct client *c, int argc, const struct arg *argv)
{
    struct zorder_lrange r;
    if (!zorder_parse_lrange(argv[2].p, argv[2].len, argv[3].p, argv[3].len, &r)) {
        cmd_reply_err(c, ZS_ERR_LEX);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zlexcount_fn);
}

/* ---- ZREMRANGEBYSCORE / BYRANK / BYLEX key a b ---- */

static const char *zrem_parse(const struct arg *argv, enum zr_type type, struct zr_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->type = type;
    o->limit = -1;
    const struct arg *lo = &argv[2], *hi = &argv[3];
    if (type == ZR_SCORE)
        return zorder_parse_srange(lo->p, lo->len, hi->p, hi->len, &o->sr) ? NULL
                                                                            : ZS_ERR_RANGE;
    if (type == ZR_LEX)
        return zorder_parse_lrange(lo->p, lo->len, hi->p, hi->len, &o->lr) ? NULL : ZS_ERR_LEX;
    return cmd_arg_ll(lo, &o->start) && cmd_arg_ll(hi, &o->end) ? NULL : ZS_ERR_INT;
}

/* ZREMRANGEBYSCORE, ZREMRANGEBYLEX or ZREMRANGEBYRANK, by name (argv[0];
 * the table in cmd_zset.c routes only these to cmd_zremrange). */
static enum zr_type zrem_type(const struct arg *name)
{
    if (cmd_arg_eq(name, "zremrangebyscore"))
        return ZR_SCORE;
    return cmd_arg_eq(name, "zremrangebylex") ? ZR_LEX : ZR_RANK;
}

static void zremrange_fn(struct typed_call *t)
{
    struct zr_opts o;
    zrem_parse(t->argv, zrem_type(&t->argv[0]), &o);
    struct zorder_item *a;
    size_t n = zr_select(t->state, &o, &a);
    char *own = zs_items_own(a, n); /* removals free the state's copies */
    long long removed = 0;
    for (size_t i = 0; i < n; i++)
        removed += elems_remove(t, a[i].m, a[i].mlen);
    resp_add_int(&t->reply, removed);
    mem_free(own);
    mem_free(a);
}

void cmd_zremrange(struct client *c, int argc, const struct arg *argv)
{
    struct zr_opts o;
    const char *err = zrem_parse(argv, zrem_type(&argv[0]), &o);
    if (err) {
        cmd_reply_err(c, err);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              zremrange_fn);
}
