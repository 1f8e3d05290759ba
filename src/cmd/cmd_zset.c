/* cmd_zset.c — the Redis sorted-set commands (issue 14): the command table
 * cmd_zset_table, the point commands (ZADD, ZINCRBY, ZREM, ZSCORE,
 * ZMSCORE, ZCARD, ZRANK, ZREVRANK) and the helpers the other sorted-set
 * files share (cmd_zset_priv.h).  Ranges are in cmd_zset_range.c, ZPOP*,
 * ZRANDMEMBER and ZSCAN in cmd_zset_pick.c, the multi-key algebra in
 * cmd_zset_algebra.c.
 *
 * Every command runs on the typed framework (typed.h): the handler checks
 * syntax the way Redis 7.0 does, before the key is read, then cmd_typed runs
 * its fn at the key's coordinator with the key's state, a CRDT_ZSET
 * (crdt.h).  A member's score is crdt_zset_score's: the largest concurrent
 * ZADD register plus every actor's ZINCRBY total.  ZADD is crdt_zset_add
 * (it supersedes the member's observed registers and increments); ZINCRBY
 * and ZADD INCR are crdt_incr_float (increments on both sides of a
 * partition add up), except an infinite increment, which is the ZADD of
 * the resulting infinity (the counters must stay finite).
 *
 * Invariants: a fn changes nothing when Redis would change nothing (ZADD of
 * a member's current score, NX on an existing member...): no delta, no
 * write quorum.  Point commands cost O(entries of the members they name),
 * never a scan of the set.
 *
 * Callers: cmd.c (cmd_zset_table).  Handlers and fns run in event-loop
 * callbacks and never block.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_elems.h"
#include "cmd/cmd_zset_priv.h"
#include "cmd/typed.h"
#include "core/resp.h"
#include "core/zorder.h"
#include "util/errors.h"
#include "util/mem.h"

const char ZS_ERR_FLOAT[] = "value is not a valid float";
const char ZS_ERR_INT[] = "value is not an integer or out of range";
const char ZS_ERR_RANGE[] = "min or max is not a float";
const char ZS_ERR_LEX[] = "min or max not valid string range item";
const char ZS_ERR_SYNTAX[] = "syntax error";
static const char ZS_ERR_NAN[] = "resulting score is not a number (NaN)";

/* ---- shared helpers ---- */

bool zs_parse_double(const struct arg *a, double *out)
{
    if (a->len == 0 || a->len > 5120)
        return false;
    char stackbuf[128];
    char *tmp = a->len < sizeof(stackbuf) ? stackbuf : mem_alloc(a->len + 1);
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    bool ok = !(tmp[0] == ' ' || (tmp[0] >= '\t' && tmp[0] <= '\r')) &&
              (size_t)(end - tmp) == a->len &&
              !(errno == ERANGE && (isinf(v) || fpclassify(v) == FP_ZERO)) && !isnan(v);
    if (tmp != stackbuf)
        mem_free(tmp);
    if (ok)
        *out = v;
    return ok;
}

void zs_reply_items(struct buf *b, int proto, const struct zorder_item *a, size_t n,
                    bool withscores)
{
    resp_add_array(b, (long long)(withscores && proto < 3 ? 2 * n : n));
    for (size_t i = 0; i < n; i++) {
        if (withscores && proto >= 3)
            resp_add_array(b, 2);
        resp_add_bulk(b, a[i].m, a[i].mlen);
        if (withscores)
            resp_add_double(b, proto, a[i].score);
    }
}

char *zs_items_own(struct zorder_item *a, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += a[i].mlen;
    if (n == 0)
        return NULL;
    char *block = mem_alloc(total ? total : 1);
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].mlen)
            memcpy(block + off, a[i].m, a[i].mlen);
        a[i].m = block + off;
        off += a[i].mlen;
    }
    return block;
}

long long zs_store(struct typed_call *t, const struct zorder_item *a, size_t n)
{
    typed_reset(t);
    if (n == 0)
        return 0;
    struct crdt *s = typed_mut(t);
    for (size_t i = 0; i < n; i++) {
        struct crdt d;
        crdt_zset_add(s, t->actor, a[i].m, a[i].mlen, a[i].score == 0 ? 0 : a[i].score, &d,
                      NULL);
        typed_took(t, &d);
    }
    return crdt_count(s);
}

/* ---- ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
 *      ZINCRBY key increment member ---- */

#define ZADD_NX (1u << 0)   /* only add new members */
#define ZADD_XX (1u << 1)   /* only update existing ones */
#define ZADD_GT (1u << 2)   /* update only to a greater score */
#define ZADD_LT (1u << 3)   /* update only to a smaller score */
#define ZADD_CH (1u << 4)   /* reply added + changed */
#define ZADD_INCR (1u << 5) /* ZINCRBY semantics */

/* Redis's option loop and checks; *first = the first score's index.
 * NULL or the error text. */
static const char *zadd_parse(int argc, const struct arg *argv, unsigned base, unsigned *flags,
                              int *first)
{
    unsigned f = base;
    int i = 2;
    for (; i < argc; i++) {
        if (cmd_arg_eq(&argv[i], "nx"))
            f |= ZADD_NX;
        else if (cmd_arg_eq(&argv[i], "xx"))
            f |= ZADD_XX;
        else if (cmd_arg_eq(&argv[i], "ch"))
            f |= ZADD_CH;
        else if (cmd_arg_eq(&argv[i], "incr"))
            f |= ZADD_INCR;
        else if (cmd_arg_eq(&argv[i], "gt"))
            f |= ZADD_GT;
        else if (cmd_arg_eq(&argv[i], "lt"))
            f |= ZADD_LT;
        else
            break;
    }
    int elems = argc - i;
    if (elems % 2 || elems == 0)
        return ZS_ERR_SYNTAX;
    if ((f & ZADD_NX) && (f & ZADD_XX))
        return "XX and NX options at the same time are not compatible";
    if (((f & ZADD_GT) && (f & ZADD_NX)) || ((f & ZADD_LT) && (f & ZADD_NX)) ||
        ((f & ZADD_GT) && (f & ZADD_LT)))
        return "GT, LT, and/or NX options at the same time are not compatible";
    if ((f & ZADD_INCR) && elems > 2)
        return "INCR option supports a single increment-element pair";
    for (int j = i; j < argc; j += 2) {
        double d;
        if (!zs_parse_double(&argv[j], &d))
            return ZS_ERR_FLOAT;
    }
    *flags = f;
    *first = i;
    return NULL;
}

/* Adds by to member m (ZINCRBY), the new score reading as want: an
 * increment of the actor's total, or where that cannot hold it (an
 * infinite step or total) the assignment of want. */
static void zadd_incr(struct typed_call *t, const struct arg *m, double by, double want)
{
    struct crdt *s = typed_mut(t);
    struct crdt d;
    int rc = KV_ENOTNUM;
    if (isfinite(by)) {
        rc = crdt_incr_float(s, t->actor, m->p, m->len, by, &d, NULL);
        typed_took(t, &d);
    }
    if (rc != 0) {
        crdt_zset_add(s, t->actor, m->p, m->len, want, &d, NULL);
        typed_took(t, &d);
    }
}

static void zadd_run(struct typed_call *t, unsigned base)
{
    unsigned f;
    int first;
    zadd_parse(t->argc, t->argv, base, &f, &first);
    long long added = 0, updated = 0, processed = 0;
    double last = 0;
    /* the state as it is now: created by the first write when absent */
    const struct crdt *st = t->state;
    for (int j = first; j < t->argc; j += 2) {
        double score;
        zs_parse_double(&t->argv[j], &score);
        if (score == 0)
            score = 0; /* -0 reads back as 0, as Redis's listpack stores it */
        const struct arg *m = &t->argv[j + 1];
        double cur;
        bool exists = st && crdt_zset_score(st, m->p, m->len, &cur) == 0;
        if (exists) {
            if (f & ZADD_NX)
                continue;
            double want = score;
            if (f & ZADD_INCR) {
                want = cur + score;
                if (isnan(want)) {
                    resp_add_error(&t->reply, "ERR", ZS_ERR_NAN);
                    return;
                }
            }
            if (((f & ZADD_LT) && want >= cur) || ((f & ZADD_GT) && want <= cur))
                continue;
            processed++;
            last = want;
            if (want == cur)
                continue;
            updated++;
            if (f & ZADD_INCR) {
                zadd_incr(t, m, score, want);
                st = typed_mut(t);
                crdt_zset_score(st, m->p, m->len, &last);
            } else {
                struct crdt *s = typed_mut(t);
                struct crdt d;
                crdt_zset_add(s, t->actor, m->p, m->len, want, &d, NULL);
                typed_took(t, &d);
                st = s;
            }
        } else if (!(f & ZADD_XX)) {
            processed++;
            added++;
            last = score;
            if (f & ZADD_INCR) {
                zadd_incr(t, m, score, score);
                st = typed_mut(t);
            } else {
                struct crdt *s = typed_mut(t);
                struct crdt d;
                crdt_zset_add(s, t->actor, m->p, m->len, score, &d, NULL);
                typed_took(t, &d);
                st = s;
            }
        }
    }
    if (f & ZADD_INCR) {
        if (processed)
            resp_add_double(&t->reply, t->proto, last);
        else
            resp_add_null(&t->reply, t->proto);
    } else {
        resp_add_int(&t->reply, (f & ZADD_CH) ? added + updated : added);
    }
}

static void zadd_fn(struct typed_call *t)
{
    zadd_run(t, 0);
}

static void zincrby_fn(struct typed_call *t)
{
    zadd_run(t, ZADD_INCR);
}

static void zadd_common(struct client *c, int argc, const struct arg *argv, unsigned base,
                        typed_fn fn)
{
    unsigned f;
    int first;
    const char *err = zadd_parse(argc, argv, base, &f, &first);
    if (err) {
        cmd_reply_err(c, err);
        return;
    }
    unsigned flags = TYPED_WRITE | ((f & ZADD_XX) ? TYPED_NOCREATE : 0);
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, flags, NULL, 0, fn);
}

static void cmd_zadd(struct client *c, int argc, const struct arg *argv)
{
    zadd_common(c, argc, argv, 0, zadd_fn);
}

static void cmd_zincrby(struct client *c, int argc, const struct arg *argv)
{
    zadd_common(c, argc, argv, ZADD_INCR, zincrby_fn);
}

/* ---- ZREM key member [member ...] ---- */

static void cmd_zrem(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              elems_remove_args_fn);
}

/* ---- ZSCORE key member, ZMSCORE key member [member ...] ---- */

static void add_score_of(struct typed_call *t, const struct arg *m)
{
    double s;
    if (t->state && crdt_zset_score(t->state, m->p, m->len, &s) == 0)
        resp_add_double(&t->reply, t->proto, s);
    else
        resp_add_null(&t->reply, t->proto);
}

static void zscore_fn(struct typed_call *t)
{
    add_score_of(t, &t->argv[2]);
}

static void zmscore_fn(struct typed_call *t)
{
    resp_add_array(&t->reply, t->argc - 2);
    for (int i = 2; i < t->argc; i++)
        add_score_of(t, &t->argv[i]);
}

static void cmd_zscore(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zscore_fn);
}

static void cmd_zmscore(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zmscore_fn);
}

/* ---- ZCARD key ---- */

static void zcard_fn(struct typed_call *t)
{
    resp_add_int(&t->reply, t->state ? (long long)crdt_count(t->state) : 0);
}

static void cmd_zcard(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zcard_fn);
}

/* ---- ZRANK / ZREVRANK key member: O(n), no sorting ---- */

/* ZRANK or ZREVRANK by name (argv[0]) */
static void rank_fn(struct typed_call *t)
{
    const struct arg *m = &t->argv[2];
    double s;
    if (!t->state || crdt_zset_score(t->state, m->p, m->len, &s) != 0) {
        resp_add_null(&t->reply, t->proto);
        return;
    }
    size_t r = zorder_rank(t->state, s, m->p, m->len);
    bool rev = cmd_arg_eq(&t->argv[0], "zrevrank");
    resp_add_int(&t->reply, (long long)(rev ? crdt_count(t->state) - 1 - r : r));
}

static void cmd_zrank(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, rank_fn);
}

/* ---- the table ---- */

#define G "sorted-set"

const struct cmd_def cmd_zset_table[] = {
    {"zadd", -4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_zadd, G,
     "Adds one or more members to a sorted set, or updates their scores. Creates the key if it "
     "doesn't exist.",
     "key condition?(NX|XX) comparison?(GT|LT) change?(CH) increment?(INCR) data+(score member)",
     "1.2.0"},
    {"zincrby", 4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_zincrby, G,
     "Increments the score of a member in a sorted set.", "key increment member", "1.2.0"},
    {"zrem", -3, CMD_F_WRITE_FAST, 1, 1, 1, cmd_zrem, G,
     "Removes one or more members from a sorted set. Deletes the sorted set if all members "
     "were removed.",
     "key member+", "1.2.0"},
    {"zscore", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_zscore, G,
     "Returns the score of a member in a sorted set.",
     "key member", "1.2.0"},
    {"zmscore", -3, CMD_F_READ_FAST, 1, 1, 1, cmd_zmscore, G,
     "Returns the score of one or more members in a sorted set.", "key member+", "6.2.0"},
    {"zcard", 2, CMD_F_READ_FAST, 1, 1, 1, cmd_zcard, G,
     "Returns the number of members in a sorted set.",
     "key", "1.2.0"},
    {"zcount", 4, CMD_F_READ_FAST, 1, 1, 1, cmd_zcount, G,
     "Returns the count of members in a sorted set that have scores within a range.",
     "key min max", "2.0.0"},
    {"zlexcount", 4, CMD_F_READ_FAST, 1, 1, 1, cmd_zlexcount, G,
     "Returns the number of members in a sorted set within a lexicographical range.",
     "key min max", "2.8.9"},
    {"zrank", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_zrank, G,
     "Returns the index of a member in a sorted set ordered by ascending scores.",
     "key member", "2.0.0"},
    {"zrevrank", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_zrank, G,
     "Returns the index of a member in a sorted set ordered by descending scores.",
     "key member", "2.0.0"},
    {"zrange", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a range of indexes.",
     "key start stop sortby?(BYSCORE|BYLEX) rev?(REV) limit?(LIMIT offset count) "
     "withscores?(WITHSCORES)",
     "1.2.0"},
    {"zrangestore", -5, CMD_F_WRITE, 1, 2, 1, cmd_zrangestore, G,
     "Stores a range of members from sorted set in a key.",
     "dst src min max sortby?(BYSCORE|BYLEX) rev?(REV) limit?(LIMIT offset count)", "6.2.0"},
    {"zrevrange", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a range of indexes in reverse order.",
     "key start stop withscores?(WITHSCORES)", "1.2.0"},
    {"zrangebyscore", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a range of scores.",
     "key min max withscores?(WITHSCORES) limit?(LIMIT offset count)", "1.0.5"},
    {"zrevrangebyscore", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a range of scores in reverse order.",
     "key max min withscores?(WITHSCORES) limit?(LIMIT offset count)", "2.2.0"},
    {"zrangebylex", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a lexicographical range.",
     "key min max limit?(LIMIT offset count)", "2.8.9"},
    {"zrevrangebylex", -4, CMD_F_READONLY, 1, 1, 1, cmd_zrange, G,
     "Returns members in a sorted set within a lexicographical range in reverse order.",
     "key max min limit?(LIMIT offset count)", "2.8.9"},
    {"zremrangebyscore", 4, CMD_F_WRITE, 1, 1, 1, cmd_zremrange, G,
     "Removes members in a sorted set within a range of scores. Deletes the sorted set if all "
     "members were removed.",
     "key min max", "1.2.0"},
    {"zremrangebyrank", 4, CMD_F_WRITE, 1, 1, 1, cmd_zremrange, G,
     "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all "
     "members were removed.",
     "key start stop", "2.0.0"},
    {"zremrangebylex", 4, CMD_F_WRITE, 1, 1, 1, cmd_zremrange, G,
     "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if "
     "all members were removed.",
     "key min max", "2.8.9"},
    {"zpopmin", -2, CMD_F_WRITE_FAST, 1, 1, 1, cmd_zpop, G,
     "Returns the lowest-scoring members from a sorted set after removing them. Deletes the "
     "sorted set if the last member was popped.",
     "key count?", "5.0.0"},
    {"zpopmax", -2, CMD_F_WRITE_FAST, 1, 1, 1, cmd_zpop, G,
     "Returns the highest-scoring members from a sorted set after removing them. Deletes the "
     "sorted set if the last member was popped.",
     "key count?", "5.0.0"},
    {"zrandmember", -2, CMD_F_READONLY, 1, 1, 1, cmd_zrandmember, G,
     "Returns one or more random members from a sorted set.",
     "key options?(count withscores?(WITHSCORES))", "6.2.0"},
    {"zscan", -3, CMD_F_READONLY, 1, 1, 1, cmd_zscan, G,
     "Iterates over members and scores of a sorted set.",
     "key cursor pattern?(MATCH pattern) count?(COUNT count)", "2.8.0"},
    {"zunion", -3, CMD_F_READONLY, 0, 0, 0, cmd_zalgebra, G,
     "Returns the union of multiple sorted sets.",
     "numkeys key+ weight?(WEIGHTS weight) aggregate?(AGGREGATE SUM|MIN|MAX) "
     "withscores?(WITHSCORES)",
     "6.2.0"},
    {"zinter", -3, CMD_F_READONLY, 0, 0, 0, cmd_zalgebra, G,
     "Returns the intersect of multiple sorted sets.",
     "numkeys key+ weight?(WEIGHTS weight) aggregate?(AGGREGATE SUM|MIN|MAX) "
     "withscores?(WITHSCORES)",
     "6.2.0"},
    {"zdiff", -3, CMD_F_READONLY, 0, 0, 0, cmd_zalgebra, G,
     "Returns the difference between multiple sorted sets.",
     "numkeys key+ withscores?(WITHSCORES)", "6.2.0"},
    {"zunionstore", -4, CMD_F_WRITE, 1, 1, 1, cmd_zalgebra, G,
     "Stores the union of multiple sorted sets in a key.",
     "destination numkeys key+ weight?(WEIGHTS weight) aggregate?(AGGREGATE SUM|MIN|MAX)",
     "2.0.0"},
    {"zinterstore", -4, CMD_F_WRITE, 1, 1, 1, cmd_zalgebra, G,
     "Stores the intersect of multiple sorted sets in a key.",
     "destination numkeys key+ weight?(WEIGHTS weight) aggregate?(AGGREGATE SUM|MIN|MAX)",
     "2.0.0"},
    {"zdiffstore", -4, CMD_F_WRITE, 1, 1, 1, cmd_zalgebra, G,
     "Stores the difference of multiple sorted sets in a key.", "destination numkeys key+",
     "6.2.0"},
    {"zintercard", -3, CMD_F_READONLY, 0, 0, 0, cmd_zalgebra, G,
     "Returns the number of members of the intersect of multiple sorted sets.",
     "numkeys key+ limit?(LIMIT limit)", "7.0.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
