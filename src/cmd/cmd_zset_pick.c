/* cmd_zset_pick.c — the sorted-set commands that pick members rather than
 * ranges (issue 14): ZPOPMIN / ZPOPMAX [count], ZRANDMEMBER [count
 * [WITHSCORES]] and ZSCAN.
 *
 * ZPOP* chooses its k members with zorder_top (O(n log k); no order index
 * in the state) and removes them as ZREM does (observed remove: a ZADD of
 * the same member elsewhere, concurrent with the pop, survives it).
 * ZRANDMEMBER and ZSCAN walk the state's hash table as the hash and set
 * commands do (cmd_elems.c over crdt_pick and crdt_scan): uniform draws,
 * O(count) expected (O(n) once when the draws would visit more slots than
 * the table has or most members are wanted); Redis's reverse-binary scan
 * cursor, which returns every member present for the whole scan also
 * when the table was resized between calls (a scan that moves to another
 * coordinator may still repeat or miss members).
 * Scores print as Redis's listpack/ZSCAN text ("%.17g", "inf", "-inf").
 *
 * Callers: the table in cmd_zset.c.  Fns run in event-loop callbacks.
 */
#include <math.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "cmd/cmd_elems.h"
#include "cmd/cmd_zset_priv.h"
#include "cmd/typed.h"
#include "core/resp.h"
#include "core/zorder.h"
#include "util/mem.h"

/* ---- ZPOPMIN / ZPOPMAX key [count] ---- */

/* ZPOPMIN or ZPOPMAX by name (argv[0]) */
static void pop_fn(struct typed_call *t)
{
    bool max = cmd_arg_eq(&t->argv[0], "zpopmax");
    long long count = -1; /* none given: one member, flat reply */
    if (t->argc == 3)
        cmd_arg_ll(&t->argv[2], &count); /* checked by the handler */
    bool nested = t->proto >= 3 && count != -1;
    if (!t->state || count == 0) {
        resp_add_array(&t->reply, 0);
        return;
    }
    size_t n = crdt_count(t->state);
    size_t k = count == -1 ? 1 : ((unsigned long long)count > n ? n : (size_t)count);
    struct zorder_item *a = mem_alloc((k ? k : 1) * sizeof(*a));
    k = zorder_top(t->state, k, max, a);
    char *own = zs_items_own(a, k);
    resp_add_array(&t->reply, (long long)(nested ? k : 2 * k));
    for (size_t i = 0; i < k; i++) {
        if (nested)
            resp_add_array(&t->reply, 2);
        resp_add_bulk(&t->reply, a[i].m, a[i].mlen);
        resp_add_double(&t->reply, t->proto, a[i].score);
        elems_remove(t, a[i].m, a[i].mlen);
    }
    mem_free(own);
    mem_free(a);
}

void cmd_zpop(struct client *c, int argc, const struct arg *argv)
{
    if (elems_pop_args(c, argc, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
                  pop_fn);
}

/* ---- ZRANDMEMBER key [count [WITHSCORES]] ---- */

static void add_pick(struct typed_call *t, const struct zorder_item *it, bool withscores)
{
    if (withscores && t->proto >= 3)
        resp_add_array(&t->reply, 2);
    resp_add_bulk(&t->reply, it->m, it->mlen);
    if (withscores)
        resp_add_double(&t->reply, t->proto, it->score);
}

struct rand_walk {
    struct typed_call *t;
    bool withscores;
};

static bool rand_one(const struct crdt_elem *el, void *arg)
{
    struct rand_walk *w = arg;
    struct zorder_item it = { .score = zorder_elem_score(el), .m = crdt_elem_key(el),
                              .mlen = el->klen };
    add_pick(w->t, &it, w->withscores);
    return true;
}

static void zrandmember_fn(struct typed_call *t)
{
    const struct crdt *z = t->state;
    uint64_t rng = elems_rng();
    struct rand_walk w = { .t = t, .withscores = t->argc == 4 };
    if (t->argc == 2) {
        if (z && crdt_count(z))
            crdt_pick(z, 1, false, &rng, rand_one, &w);
        else
            resp_add_null(&t->reply, t->proto);
        return;
    }
    long long l;
    cmd_arg_ll(&t->argv[2], &l);
    if (!z || crdt_count(z) == 0 || l == 0) {
        resp_add_array(&t->reply, 0);
        return;
    }
    size_t size = crdt_count(z);
    bool uniq = l > 0;
    unsigned long long count = uniq ? (unsigned long long)l : (unsigned long long)-l;
    if (uniq && count > size)
        count = size;
    resp_add_array(&t->reply, (long long)(w.withscores && t->proto < 3 ? 2 * count : count));
    crdt_pick(z, count, uniq, &rng, rand_one, &w);
}

void cmd_zrandmember(struct client *c, int argc, const struct arg *argv)
{
    if (elems_rand_args(c, argc, argv, "withscores", ELEMS_REPEAT_MAX))
        cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zrandmember_fn);
}

/* ---- ZSCAN key cursor [MATCH pattern] [COUNT count] ---- */

static int scan_put(struct buf *items, const struct crdt_elem *el, void *arg)
{
    (void)arg;
    double s = zorder_elem_score(el);
    char tmp[40];
    int len = isinf(s) ? snprintf(tmp, sizeof(tmp), "%s", s > 0 ? "inf" : "-inf")
                       : snprintf(tmp, sizeof(tmp), "%.17g", s);
    resp_add_bulk(items, crdt_elem_key(el), el->klen);
    resp_add_bulk(items, tmp, (size_t)len);
    return 2;
}

static void zscan_fn(struct typed_call *t)
{
    elems_scan(t, scan_put, NULL);
}

void cmd_zscan(struct client *c, int argc, const struct arg *argv)
{
    elems_scan_cmd(c, argc, argv, CRDT_ZSET, zscan_fn);
}
