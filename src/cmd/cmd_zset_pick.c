/* cmd_zset_pick.c — the sorted-set commands that pick members rather than
 * ranges (issue 14): ZPOPMIN / ZPOPMAX [count], ZRANDMEMBER [count
 * [WITHSCORES]] and ZSCAN.
 *
 * ZPOP* chooses its k members with zorder_top (O(n log k); no order index
 * in the state) and removes them as ZREM does (observed remove: a ZADD of
 * the same member elsewhere, concurrent with the pop, survives it).
 * ZRANDMEMBER draws from the state's hash table: one random slot after
 * another (O(1) expected while the table is not sparse, bounded, then a
 * pass over it); with a count, one pass (O(n)) and a partial shuffle.
 * ZSCAN's cursor is a slot index of the table: elements present during
 * the whole scan are returned at least once while the table is not
 * resized; a resize between calls (the set grew or shrank a lot) or a
 * scan that moves to another coordinator may repeat or miss members.
 * Scores print as Redis's listpack/ZSCAN text ("%.17g", "inf", "-inf").
 *
 * Callers: the table in cmd_zset.c.  Fns run in event-loop callbacks.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_zset_priv.h"
#include "cmd/pscan.h"
#include "cmd/typed.h"
#include "core/config.h"
#include "core/resp.h"
#include "core/zorder.h"
#include "util/mem.h"

/* Most members one ZRANDMEMBER with a negative count answers (Redis's is
 * bounded only by the client's output limit; one reply here is built
 * whole in memory first). */
#define ZS_RAND_MAX (1LL << 24)

/* ---- ZPOPMIN / ZPOPMAX key [count] ---- */

static const char ZS_ERR_POSITIVE[] = "value is out of range, must be positive";

static bool pop_count(int argc, const struct arg *argv, long long *count)
{
    *count = -1; /* none given: one member, flat reply */
    if (argc == 3 && (!cmd_arg_ll(&argv[2], count) || *count < 0))
        return false;
    return true;
}

static void pop_run(struct typed_call *t, bool max)
{
    long long count;
    pop_count(t->argc, t->argv, &count);
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
        zs_remove(t, a[i].m, a[i].mlen);
    }
    mem_free(own);
    mem_free(a);
}

static void zpopmin_fn(struct typed_call *t)
{
    pop_run(t, false);
}

static void zpopmax_fn(struct typed_call *t)
{
    pop_run(t, true);
}

static void pop_handler(struct client *c, int argc, const struct arg *argv, typed_fn fn)
{
    long long count;
    if (argc > 3) {
        cmd_reply_syntax(c);
        return;
    }
    if (!pop_count(argc, argv, &count)) {
        cmd_reply_err(c, ZS_ERR_POSITIVE);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0, fn);
}

void cmd_zpopmin(struct client *c, int argc, const struct arg *argv)
{
    pop_handler(c, argc, argv, zpopmin_fn);
}

void cmd_zpopmax(struct client *c, int argc, const struct arg *argv)
{
    pop_handler(c, argc, argv, zpopmax_fn);
}

/* ---- ZRANDMEMBER key [count [WITHSCORES]] ---- */

static uint64_t rnd64(void)
{
    return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

/* One member drawn uniformly: random slots of the table, then (a sparse
 * table) a pass choosing the i-th member. */
static const struct crdt_elem *random_elem(const struct crdt *z)
{
    for (int tries = 0; tries < 64 && z->slot; tries++) {
        const struct crdt_elem *el = z->slot[rnd64() & z->mask];
        if (el && el->n)
            return el;
    }
    uint32_t n = crdt_count(z), want = (uint32_t)(rnd64() % n);
    for (uint32_t i = 0, seen = 0; z->slot && i <= z->mask; i++) {
        const struct crdt_elem *el = z->slot[i];
        if (el && el->n && seen++ == want)
            return el;
    }
    return NULL;
}

static void add_pick(struct typed_call *t, const struct zorder_item *it, bool withscores)
{
    if (withscores && t->proto >= 3)
        resp_add_array(&t->reply, 2);
    resp_add_bulk(&t->reply, it->m, it->mlen);
    if (withscores)
        resp_add_double(&t->reply, t->proto, it->score);
}

struct gather {
    struct zorder_item *a;
    size_t n;
};

static bool gather_one(const struct crdt_elem *el, void *arg)
{
    struct gather *g = arg;
    g->a[g->n++] = (struct zorder_item){ .score = zorder_elem_score(el), .m = crdt_elem_key(el),
                                         .mlen = el->klen };
    return true;
}

static void zrandmember_fn(struct typed_call *t)
{
    const struct crdt *z = t->state;
    if (t->argc == 2) {
        const struct crdt_elem *el = z ? random_elem(z) : NULL;
        if (el)
            resp_add_bulk(&t->reply, crdt_elem_key(el), el->klen);
        else
            resp_add_null(&t->reply, t->proto);
        return;
    }
    long long l;
    cmd_arg_ll(&t->argv[2], &l);
    bool withscores = t->argc == 4;
    if (!z || l == 0) {
        resp_add_array(&t->reply, 0);
        return;
    }
    size_t size = crdt_count(z);
    bool uniq = l > 0;
    unsigned long long count = uniq ? (unsigned long long)l : (unsigned long long)-l;
    if (uniq && count > size)
        count = size;
    resp_add_array(&t->reply, (long long)(withscores && t->proto < 3 ? 2 * count : count));
    if (!uniq) {
        for (unsigned long long i = 0; i < count; i++) {
            const struct crdt_elem *el = random_elem(z);
            struct zorder_item it = { .score = zorder_elem_score(el), .m = crdt_elem_key(el),
                                      .mlen = el->klen };
            add_pick(t, &it, withscores);
        }
        return;
    }
    struct gather g = { .a = mem_alloc(size * sizeof(*g.a)), .n = 0 };
    crdt_each(z, gather_one, &g);
    for (size_t i = 0; i < count; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)(rnd64() % (g.n - i));
        struct zorder_item tmp = g.a[i];
        g.a[i] = g.a[j];
        g.a[j] = tmp;
        add_pick(t, &g.a[i], withscores);
    }
    mem_free(g.a);
}

void cmd_zrandmember(struct client *c, int argc, const struct arg *argv)
{
    if (argc >= 3) {
        long long l;
        if (!cmd_arg_ll(&argv[2], &l)) {
            cmd_reply_err(c, ZS_ERR_INT);
            return;
        }
        if (l == LLONG_MIN) {
            cmd_reply_err(c, "value is out of range, value must between -9223372036854775807 "
                             "and 9223372036854775807");
            return;
        }
        if (argc > 4 || (argc == 4 && !cmd_arg_eq(&argv[3], "withscores"))) {
            cmd_reply_syntax(c);
            return;
        }
        if (argc == 4 && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            cmd_reply_err(c, "value is out of range");
            return;
        }
        if (l < -ZS_RAND_MAX) {
            resp_add_errorf(&c->out, "ERR",
                            "count is out of range: at most %lld members with repetition",
                            ZS_RAND_MAX);
            return;
        }
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zrandmember_fn);
}

/* ---- ZSCAN key cursor [MATCH pattern] [COUNT count] ---- */

/* Redis's parseScanCursorOrReply: strtoul over the whole text, so "-1"
 * is 2^64 - 1 and "+5" is 5; no leading space, no overflow. */
static bool parse_cursor(const struct arg *a, uint64_t *out)
{
    char tmp[32];
    if (a->len == 0 || a->len >= sizeof(tmp))
        return false;
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    if (tmp[0] == ' ' || (tmp[0] >= '\t' && tmp[0] <= '\r'))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 10);
    if (*end != '\0' || errno == ERANGE || end == tmp)
        return false;
    *out = v;
    return true;
}

/* Redis parses the options after the key's lookup: an absent key answers
 * an empty scan whatever follows the cursor. */
static void zscan_fn(struct typed_call *t)
{
    uint64_t cursor = 0;
    parse_cursor(&t->argv[2], &cursor);
    if (!t->state) {
        resp_add_array(&t->reply, 2);
        resp_add_bulk(&t->reply, "0", 1);
        resp_add_array(&t->reply, 0);
        return;
    }
    long long count = 10;
    const struct arg *pat = NULL;
    for (int i = 3; i < t->argc; i += 2) {
        int left = t->argc - i;
        if (cmd_arg_eq(&t->argv[i], "count") && left >= 2) {
            if (!cmd_arg_ll(&t->argv[i + 1], &count)) {
                resp_add_error(&t->reply, "ERR", ZS_ERR_INT);
                return;
            }
            if (count < 1) {
                resp_add_error(&t->reply, "ERR", ZS_ERR_SYNTAX);
                return;
            }
        } else if (cmd_arg_eq(&t->argv[i], "match") && left >= 2) {
            pat = &t->argv[i + 1];
        } else {
            resp_add_error(&t->reply, "ERR", ZS_ERR_SYNTAX);
            return;
        }
    }
    bool all = !pat || (pat->len == 1 && pat->p[0] == '*');
    const struct crdt *z = t->state;
    uint64_t slots = (uint64_t)z->mask + 1;
    struct buf items;
    buf_init(&items);
    long long n = 0, seen = 0;
    uint64_t i = cursor;
    /* at least count members, at most 10 * count empty slots (as Redis) */
    for (long long empty = 0; i < slots && seen < count && empty < 10 * count; i++) {
        const struct crdt_elem *el = z->slot ? z->slot[i] : NULL;
        if (!el || !el->n) {
            empty++;
            continue;
        }
        seen++;
        const char *m = crdt_elem_key(el);
        if (!all && !cfg_glob_match(pat->p, pat->len, m, el->klen, false))
            continue;
        double s = zorder_elem_score(el);
        char tmp[40];
        int len = isinf(s) ? snprintf(tmp, sizeof(tmp), "%s", s > 0 ? "inf" : "-inf")
                           : snprintf(tmp, sizeof(tmp), "%.17g", s);
        resp_add_bulk(&items, m, el->klen);
        resp_add_bulk(&items, tmp, (size_t)len);
        n += 2;
    }
    resp_add_array(&t->reply, 2);
    pscan_add_u64_bulk(&t->reply, i >= slots ? 0 : i);
    resp_add_array(&t->reply, n);
    buf_put(&t->reply, items.data, items.len);
    buf_fini(&items);
}

void cmd_zscan(struct client *c, int argc, const struct arg *argv)
{
    uint64_t cursor;
    if (!parse_cursor(&argv[2], &cursor)) {
        cmd_reply_err(c, "invalid cursor");
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_ZSET, TYPED_READ, NULL, 0, zscan_fn);
}
