/* cmd_zset_algebra.c — the multi-key sorted-set commands (issue 14):
 * ZUNION, ZINTER, ZDIFF [WEIGHTS] [AGGREGATE] [WITHSCORES], their STORE
 * forms and ZINTERCARD [LIMIT].
 *
 * The sources are read by the typed framework (quorum reads, WRONGTYPE
 * before the fn runs) and the fn computes as Redis 7.0 does: union and
 * intersection over the sources ordered by cardinality (smallest first),
 * weighted scores whose NaN (0 * inf) counts as 0, a SUM whose NaN
 * (inf + -inf) counts as 0; difference keeps the first source's members
 * found in no other.  The result is sorted (zorder_cmp) for the reply; a
 * STORE form replaces the destination's content (typed_reset) with plain
 * score registers.  Cost O(sum of the sources) plus O(r log r) for the r
 * members of the result.
 *
 * The union accumulates in a small open-addressing table of borrowed
 * member pointers (the sources' states stay unchanged while the fn runs).
 *
 * Not as Redis: a source holding a plain set (Redis scores its members 1)
 * is refused with WRONGTYPE by the framework; more than TYPED_MAX_SRCS
 * sources are refused.
 *
 * Callers: the table in cmd_zset.c.  Fns run in event-loop callbacks.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_zset_priv.h"
#include "cmd/typed.h"
#include "core/resp.h"
#include "core/zorder.h"
#include "util/mem.h"

enum zop { ZOP_UNION, ZOP_INTER, ZOP_DIFF };
enum zagg { ZAGG_SUM, ZAGG_MIN, ZAGG_MAX };

struct zalg {
    enum zop op;
    bool store, card, withscores;
    int nkeys, first;           /* sources at argv[first .. first + nkeys) */
    double weight[TYPED_MAX_SRCS];
    enum zagg agg;
    long long limit;            /* ZINTERCARD, 0 = none */
};

/* Redis's zunionInterDiffGenericCommand argument checks.  at = the index of
 * numkeys.  NULL or the error (*formatted: written into err). */
static const char *zalg_parse(int argc, const struct arg *argv, int at, enum zop op, bool store,
                              bool card, struct zalg *z, char *err, size_t errlen)
{
    memset(z, 0, sizeof(*z));
    z->op = op;
    z->store = store;
    z->card = card;
    long long n;
    if (!cmd_arg_ll(&argv[at], &n))
        return ZS_ERR_INT;
    if (n < 1) {
        char name[24];
        size_t l = argv[0].len < sizeof(name) - 1 ? argv[0].len : sizeof(name) - 1;
        for (size_t i = 0; i < l; i++)
            name[i] = (char)(argv[0].p[i] | 0x20);
        name[l] = '\0';
        snprintf(err, errlen, "at least 1 input key is needed for '%s' command", name);
        return err;
    }
    if (n > argc - (at + 1))
        return ZS_ERR_SYNTAX;
    if (n > TYPED_MAX_SRCS) {
        snprintf(err, errlen, "too many keys: at most %d sorted sets per command",
                 TYPED_MAX_SRCS);
        return err;
    }
    z->nkeys = (int)n;
    z->first = at + 1;
    for (int i = 0; i < z->nkeys; i++)
        z->weight[i] = 1;
    int j = z->first + z->nkeys;
    while (j < argc) {
        int left = argc - j;
        if (op != ZOP_DIFF && !card && left >= z->nkeys + 1 && cmd_arg_eq(&argv[j], "weights")) {
            j++;
            for (int i = 0; i < z->nkeys; i++, j++)
                if (!zs_parse_double(&argv[j], &z->weight[i]))
                    return "weight value is not a float";
        } else if (op != ZOP_DIFF && !card && left >= 2 && cmd_arg_eq(&argv[j], "aggregate")) {
            j++;
            if (cmd_arg_eq(&argv[j], "sum"))
                z->agg = ZAGG_SUM;
            else if (cmd_arg_eq(&argv[j], "min"))
                z->agg = ZAGG_MIN;
            else if (cmd_arg_eq(&argv[j], "max"))
                z->agg = ZAGG_MAX;
            else
                return ZS_ERR_SYNTAX;
            j++;
        } else if (!store && !card && cmd_arg_eq(&argv[j], "withscores")) {
            j++;
            z->withscores = true;
        } else if (card && left >= 2 && cmd_arg_eq(&argv[j], "limit")) {
            j++;
            if (!cmd_arg_ll(&argv[j], &z->limit) || z->limit < 0)
                return "LIMIT can't be negative";
            j++;
        } else {
            return ZS_ERR_SYNTAX;
        }
    }
    return NULL;
}

static void aggregate(enum zagg agg, double *target, double val)
{
    if (agg == ZAGG_SUM) {
        *target += val;
        if (isnan(*target))
            *target = 0;
    } else if (agg == ZAGG_MIN) {
        *target = val < *target ? val : *target;
    } else {
        *target = val > *target ? val : *target;
    }
}

/* ---- the union's accumulator: member -> score, members borrowed ---- */

struct acc {
    struct zorder_item *slot; /* m == NULL: empty */
    size_t mask, n;
};

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h ^ (h >> 29);
}

static void acc_init(struct acc *a, size_t want)
{
    size_t cap = 8;
    while (cap < want * 2)
        cap *= 2;
    a->slot = mem_calloc(cap, sizeof(*a->slot));
    a->mask = cap - 1;
    a->n = 0;
}

static struct zorder_item *acc_get(struct acc *a, const char *m, size_t mlen, bool *fresh);

static void acc_grow(struct acc *a)
{
    struct acc b;
    acc_init(&b, (a->mask + 1));
    for (size_t i = 0; i <= a->mask; i++)
        if (a->slot[i].m) {
            bool fresh;
            *acc_get(&b, a->slot[i].m, a->slot[i].mlen, &fresh) = a->slot[i];
        }
    mem_free(a->slot);
    *a = b;
}

static struct zorder_item *acc_get(struct acc *a, const char *m, size_t mlen, bool *fresh)
{
    if ((a->n + 1) * 2 > a->mask + 1)
        acc_grow(a);
    size_t i = hash_bytes(m, mlen) & a->mask;
    while (a->slot[i].m) {
        if (a->slot[i].mlen == mlen && memcmp(a->slot[i].m, m, mlen) == 0) {
            *fresh = false;
            return &a->slot[i];
        }
        i = (i + 1) & a->mask;
    }
    *fresh = true;
    a->n++;
    a->slot[i].m = m;
    a->slot[i].mlen = mlen;
    return &a->slot[i];
}

/* ---- computing ---- */

struct src {
    const struct crdt *z; /* NULL = absent */
    double w;
    size_t card;
};

static int src_card_cmp(const void *pa, const void *pb)
{
    const struct src *a = pa, *b = pb;
    return (a->card > b->card) - (a->card < b->card);
}

struct walk {
    const struct zalg *za;
    struct src *s;
    int ns;
    struct acc *acc;         /* union */
    struct zorder_item *out; /* inter, diff */
    size_t n;
    long long limit;
};

static bool union_one(const struct crdt_elem *el, void *arg)
{
    struct walk *w = arg;
    double score = w->s[0].w * zorder_elem_score(el);
    if (isnan(score))
        score = 0;
    bool fresh;
    struct zorder_item *it = acc_get(w->acc, crdt_elem_key(el), el->klen, &fresh);
    if (fresh)
        it->score = score;
    else
        aggregate(w->za->agg, &it->score, score);
    return true;
}

static bool inter_one(const struct crdt_elem *el, void *arg)
{
    struct walk *w = arg;
    double score = w->s[0].w * zorder_elem_score(el);
    if (isnan(score))
        score = 0;
    const char *m = crdt_elem_key(el);
    for (int j = 1; j < w->ns; j++) {
        const struct crdt_elem *o = crdt_find(w->s[j].z, m, el->klen);
        if (!o || !o->n)
            return true;
        aggregate(w->za->agg, &score, zorder_elem_score(o) * w->s[j].w);
    }
    if (w->out)
        w->out[w->n] = (struct zorder_item){ .score = score, .m = m, .mlen = el->klen };
    w->n++;
    return !(w->limit && (long long)w->n >= w->limit);
}

static bool diff_one(const struct crdt_elem *el, void *arg)
{
    struct walk *w = arg;
    const char *m = crdt_elem_key(el);
    for (int j = 1; j < w->ns; j++) {
        const struct crdt_elem *o = w->s[j].z ? crdt_find(w->s[j].z, m, el->klen) : NULL;
        if (o && o->n)
            return true;
    }
    w->out[w->n++] = (struct zorder_item){ .score = zorder_elem_score(el), .m = m,
                                           .mlen = el->klen };
    return true;
}

static int item_cmp(const void *a, const void *b)
{
    return zorder_cmp(a, b);
}

/* The result of the operation on t->src: *out new (mem_free; members
 * borrowed from the sources), its length returned; sorted unless card. */
static size_t zalg_compute(struct typed_call *t, const struct zalg *za, struct zorder_item **out)
{
    struct src s[TYPED_MAX_SRCS];
    for (int i = 0; i < za->nkeys; i++)
        s[i] = (struct src){ .z = t->src[i], .w = za->weight[i],
                             .card = t->src[i] ? crdt_count(t->src[i]) : 0 };
    struct walk w = { .za = za, .s = s, .ns = za->nkeys, .acc = NULL, .out = NULL, .n = 0,
                      .limit = za->card ? za->limit : 0 };
    *out = NULL;
    if (za->op == ZOP_DIFF) {
        if (!s[0].card)
            return 0;
        w.out = mem_alloc(s[0].card * sizeof(*w.out));
        crdt_each(s[0].z, diff_one, &w);
    } else {
        /* stable by cardinality (insertion sort: at most 64 sources) */
        for (int i = 1; i < za->nkeys; i++)
            for (int j = i; j > 0 && src_card_cmp(&s[j - 1], &s[j]) > 0; j--) {
                struct src tmp = s[j];
                s[j] = s[j - 1];
                s[j - 1] = tmp;
            }
        if (za->op == ZOP_INTER) {
            if (!s[0].card)
                return 0;
            if (!za->card)
                w.out = mem_alloc(s[0].card * sizeof(*w.out));
            crdt_each(s[0].z, inter_one, &w);
        } else {
            struct acc acc;
            acc_init(&acc, s[za->nkeys - 1].card);
            w.acc = &acc;
            for (int i = 0; i < za->nkeys; i++) {
                if (!s[i].card)
                    continue;
                w.s = &s[i]; /* union_one weighs by w.s[0] */
                crdt_each(s[i].z, union_one, &w);
            }
            w.out = mem_alloc((acc.n ? acc.n : 1) * sizeof(*w.out));
            for (size_t i = 0; i <= acc.mask; i++)
                if (acc.slot[i].m)
                    w.out[w.n++] = acc.slot[i];
            mem_free(acc.slot);
        }
    }
    if (w.out && w.n > 1)
        qsort(w.out, w.n, sizeof(*w.out), item_cmp);
    *out = w.out;
    return w.n;
}

/* The commands by name (argv[0]; the table in cmd_zset.c routes only
 * these to cmd_zalgebra): the operation, whether the result is stored
 * (the destination at argv[1], numkeys after it) or only counted. */
static const struct zalg_kind {
    const char *name;
    enum zop op;
    bool store, card;
} ZALG_KINDS[] = {
    {"zunion", ZOP_UNION, false, false},     {"zinter", ZOP_INTER, false, false},
    {"zdiff", ZOP_DIFF, false, false},       {"zunionstore", ZOP_UNION, true, false},
    {"zinterstore", ZOP_INTER, true, false}, {"zdiffstore", ZOP_DIFF, true, false},
    {"zintercard", ZOP_INTER, false, true},
};

static const struct zalg_kind *zalg_kind(const struct arg *name)
{
    for (size_t i = 1; i < sizeof(ZALG_KINDS) / sizeof(ZALG_KINDS[0]); i++)
        if (cmd_arg_eq(name, ZALG_KINDS[i].name))
            return &ZALG_KINDS[i];
    return &ZALG_KINDS[0];
}

static void zalg_fn(struct typed_call *t)
{
    const struct zalg_kind *k = zalg_kind(&t->argv[0]);
    bool store = k->store, card = k->card;
    struct zalg za;
    char err[128];
    zalg_parse(t->argc, t->argv, store ? 2 : 1, k->op, store, card, &za, err, sizeof(err));
    struct zorder_item *a;
    size_t n = zalg_compute(t, &za, &a);
    if (card) {
        resp_add_int(&t->reply, (long long)n);
    } else if (store) {
        char *own = zs_items_own(a, n); /* the destination may be a source */
        resp_add_int(&t->reply, zs_store(t, a, n));
        mem_free(own);
    } else {
        zs_reply_items(&t->reply, t->proto, a, n, za.withscores);
    }
    mem_free(a);
}

void cmd_zalgebra(struct client *c, int argc, const struct arg *argv)
{
    const struct zalg_kind *k = zalg_kind(&argv[0]);
    bool store = k->store;
    struct zalg za;
    char err[128];
    const char *e = zalg_parse(argc, argv, store ? 2 : 1, k->op, store, k->card, &za, err,
                               sizeof(err));
    if (e) {
        cmd_reply_err(c, e);
        return;
    }
    const struct arg *srcs = &argv[za.first];
    cmd_typed(c, argc, argv, store ? &argv[1] : srcs, CRDT_ZSET,
              (store ? TYPED_WRITE | TYPED_OVERWRITE : TYPED_READ) | TYPED_SRCS_SETS, srcs,
              za.nkeys, zalg_fn);
}
