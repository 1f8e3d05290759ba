/* zorder.c — Redis's sorted-set order built per command over a zset state,
 * and score / lex ranges (zorder.h).
 *
 * Owns nothing beyond the arrays it returns.  There is no order index in
 * the state (crdt.h keeps members in a hash table), so ordered reads cost
 * O(n log n) (zorder_sort, over crdt_order.c's crdt_zset_sorted) or
 * O(n log k) (zorder_top, a bounded heap) per command, and counts and ranks
 * O(n); README "Data types" says so.
 *
 * Callers: cmd_zset.c, cmd_zset_range.c, cmd_zset_algebra.c and the unit
 * test.  Pure CPU work.
 */
#include "core/zorder.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

int zorder_cmp(const struct zorder_item *a, const struct zorder_item *b)
{
    if (a->score < b->score)
        return -1;
    if (a->score > b->score)
        return 1;
    size_t n = a->mlen < b->mlen ? a->mlen : b->mlen;
    int c = n ? memcmp(a->m, b->m, n) : 0;
    if (c)
        return c;
    return (a->mlen > b->mlen) - (a->mlen < b->mlen);
}

double zorder_elem_score(const struct crdt_elem *el)
{
    /* HOT: one register, no increments (the common case) */
    if (el->n == 1 && el->e[0].kind == CRDT_K_REG)
        return el->e[0].u.score;
    if (el->n > 0 && el->e[0].kind == CRDT_K_MEMBER)
        return 1.0; /* a set's member as a source of ZUNION and co., as Redis scores it */
    struct crdt_num num;
    if (crdt_num(el, CRDT_ZSET, &num) != 0) /* only integer sums fail: none here */
        return 0;
    return (double)num.f;
}

static struct zorder_item item_of(const struct crdt_elem *el)
{
    return (struct zorder_item){ .score = zorder_elem_score(el), .m = crdt_elem_key(el),
                                 .mlen = el->klen };
}

size_t zorder_sort(const struct crdt *z, struct zorder_item **out)
{
    *out = NULL;
    uint32_t n = z ? crdt_count(z) : 0;
    if (n == 0)
        return 0;
    /* the order itself is crdt_order.c's; here only the item form the
     * commands use (member bytes, which a write can re-point at a copy) */
    struct crdt_zmember *zm = mem_alloc((size_t)n * sizeof(*zm));
    n = crdt_zset_sorted(z, zm);
    struct zorder_item *a = mem_alloc((size_t)(n ? n : 1) * sizeof(*a));
    for (uint32_t i = 0; i < n; i++)
        a[i] = (struct zorder_item){ .score = zm[i].score, .m = crdt_elem_key(zm[i].el),
                                     .mlen = zm[i].el->klen };
    mem_free(zm);
    *out = a;
    return n;
}

/* A binary heap of the k best so far whose root is the worst of them:
 * for ascending order a max-heap, for rev a min-heap. */
struct top {
    struct zorder_item *h;
    size_t n, k;
    int sign; /* +1: keep the smallest (root = largest); -1: the largest */
};

static bool worse(const struct top *t, const struct zorder_item *a, const struct zorder_item *b)
{
    return t->sign * zorder_cmp(a, b) > 0;
}

static void sift_down(struct top *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < t->n && worse(t, &t->h[l], &t->h[w]))
            w = l;
        if (r < t->n && worse(t, &t->h[r], &t->h[w]))
            w = r;
        if (w == i)
            return;
        struct zorder_item tmp = t->h[i];
        t->h[i] = t->h[w];
        t->h[w] = tmp;
        i = w;
    }
}

static bool top_one(const struct crdt_elem *el, void *arg)
{
    struct top *t = arg;
    struct zorder_item it = item_of(el);
    if (t->n < t->k) {
        size_t i = t->n++;
        t->h[i] = it;
        while (i > 0 && worse(t, &t->h[i], &t->h[(i - 1) / 2])) {
            struct zorder_item tmp = t->h[i];
            t->h[i] = t->h[(i - 1) / 2];
            t->h[(i - 1) / 2] = tmp;
            i = (i - 1) / 2;
        }
    } else if (worse(t, &t->h[0], &it)) {
        t->h[0] = it;
        sift_down(t, 0);
    }
    return true;
}

size_t zorder_top(const struct crdt *z, size_t k, bool rev, struct zorder_item *out)
{
    if (!z || k == 0)
        return 0;
    struct top t = { .h = out, .n = 0, .k = k, .sign = rev ? -1 : 1 };
    crdt_each(z, top_one, &t);
    /* heap sort in place: the root (worst) goes to the end each time */
    size_t n = t.n;
    while (t.n > 1) {
        struct zorder_item tmp = t.h[0];
        t.h[0] = t.h[t.n - 1];
        t.h[t.n - 1] = tmp;
        t.n--;
        sift_down(&t, 0);
    }
    return n;
}

struct rank {
    struct zorder_item at;
    size_t n;
};

static bool rank_one(const struct crdt_elem *el, void *arg)
{
    struct rank *r = arg;
    struct zorder_item it = item_of(el);
    if (zorder_cmp(&it, &r->at) < 0)
        r->n++;
    return true;
}

size_t zorder_rank(const struct crdt *z, double score, const void *m, size_t mlen)
{
    struct rank r = { .at = { .score = score, .m = m, .mlen = mlen }, .n = 0 };
    if (z)
        crdt_each(z, rank_one, &r);
    return r.n;
}

/* ---- score ranges ---- */

/* strtod over the whole text (its first NUL ends it, as Redis's C string
 * does); an empty text reads as 0, as in Redis. */
static bool parse_bound(const char *p, size_t n, double *out, bool *ex)
{
    *ex = n > 0 && p[0] == '(';
    if (*ex) {
        p++;
        n--;
    }
    char stackbuf[128];
    char *tmp = n < sizeof(stackbuf) ? stackbuf : mem_alloc(n + 1);
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    bool ok = *end == '\0' && !isnan(v);
    if (tmp != stackbuf)
        mem_free(tmp);
    *out = v;
    return ok;
}

bool zorder_parse_srange(const char *min, size_t minlen, const char *max, size_t maxlen,
                         struct zorder_srange *r)
{
    return parse_bound(min, minlen, &r->min, &r->minex) &&
           parse_bound(max, maxlen, &r->max, &r->maxex);
}

bool zorder_in_srange(const struct zorder_srange *r, double s)
{
    bool gte = r->minex ? s > r->min : s >= r->min;
    bool lte = r->maxex ? s < r->max : s <= r->max;
    return gte && lte;
}

bool zorder_srange_empty(const struct zorder_srange *r)
{
    return r->min > r->max || (r->min == r->max && (r->minex || r->maxex));
}

/* ---- lex ranges ---- */

static bool parse_lex_item(const char *p, size_t n, const char **s, size_t *len, bool *ex,
                           int8_t *inf)
{
    *s = NULL;
    *len = 0;
    *ex = false;
    *inf = 0;
    if (n == 0)
        return false;
    switch (p[0]) {
    case '+':
        if (n != 1)
            return false;
        *inf = 1;
        *ex = true; /* as Redis: the infinities are exclusive */
        return true;
    case '-':
        if (n != 1)
            return false;
        *inf = -1;
        *ex = true;
        return true;
    case '(':
    case '[':
        *ex = p[0] == '(';
        *s = p + 1;
        *len = n - 1;
        return true;
    default:
        return false;
    }
}

bool zorder_parse_lrange(const char *min, size_t minlen, const char *max, size_t maxlen,
                         struct zorder_lrange *r)
{
    return parse_lex_item(min, minlen, &r->min, &r->minlen, &r->minex, &r->mininf) &&
           parse_lex_item(max, maxlen, &r->max, &r->maxlen, &r->maxex, &r->maxinf);
}

static int bytes_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int c = n ? memcmp(a, b, n) : 0;
    if (c)
        return c;
    return (alen > blen) - (alen < blen);
}

/* A bound as a point on the line -inf < every string < +inf. */
static int bound_cmp(const char *m, size_t mlen, int8_t inf, const char *b, size_t blen,
                     int8_t binf)
{
    if (inf || binf)
        return (inf > binf) - (inf < binf);
    return bytes_cmp(m, mlen, b, blen);
}

bool zorder_lex_gte_min(const struct zorder_lrange *r, const char *m, size_t mlen)
{
    int lo = bound_cmp(m, mlen, 0, r->min, r->minlen, r->mininf);
    return r->minex ? lo > 0 : lo >= 0;
}

bool zorder_lex_lte_max(const struct zorder_lrange *r, const char *m, size_t mlen)
{
    int hi = bound_cmp(m, mlen, 0, r->max, r->maxlen, r->maxinf);
    return r->maxex ? hi < 0 : hi <= 0;
}

bool zorder_in_lrange(const struct zorder_lrange *r, const char *m, size_t mlen)
{
    return zorder_lex_gte_min(r, m, mlen) && zorder_lex_lte_max(r, m, mlen);
}

bool zorder_lrange_empty(const struct zorder_lrange *r)
{
    int c = bound_cmp(r->min, r->minlen, r->mininf, r->max, r->maxlen, r->maxinf);
    return c > 0 || (c == 0 && (r->minex || r->maxex));
}

struct count {
    const struct zorder_srange *s;
    size_t n;
};

static bool count_one(const struct crdt_elem *el, void *arg)
{
    struct count *c = arg;
    if (zorder_in_srange(c->s, zorder_elem_score(el)))
        c->n++;
    return true;
}

size_t zorder_count_srange(const struct crdt *z, const struct zorder_srange *r)
{
    struct count c = { .s = r, .n = 0 };
    if (z && !zorder_srange_empty(r))
        crdt_each(z, count_one, &c);
    return c.n;
}
