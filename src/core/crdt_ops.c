/* crdt_ops.c — the operations a coordinator applies to a convergent type,
 * each producing its delta, and the reads of a value (crdt.h).
 *
 * Owns no state: works on the struct crdt it is given, through the table
 * and context primitives of crdt.c (crdt_priv.h).
 *
 * Every operation follows one pattern (put_entry / crdt_remove): the
 * entries it supersedes are the ones the coordinator's state holds for the
 * element (all of them, or for an increment only the actor's own running
 * total); their dots go into the delta's context and holes; the operation
 * mints the actor's next dot, which the new entry (if any) carries.  So
 * what an operation removes is exactly what it
 * observed, and the delta carries O(entries of one element), never the
 * collection.
 *
 * Numbers follow Redis: integers parse as string2ll does (optional '-', no
 * '+', no leading zeros or spaces), floats as string2ld (strtold, no
 * leading space, no NaN); floats print as INCRBYFLOAT prints them (fixed
 * notation without trailing zeros, the fewest decimals that read back as
 * the same double: put_long_double), scores as ZSCORE ("%.17g", "inf", "-inf").
 * Float totals of several actors are added in ascending order of value so
 * every replica computes the same bits whatever its actor ids.
 *
 * Callers: tests now; the command handlers of the types next.  Pure CPU
 * work, O(entries of the element) per operation or read.
 */
#include "core/crdt_priv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

#define MAX_LONG_DOUBLE_CHARS 5120 /* Redis's limit for a float's text */

static void begin_delta(struct crdt *delta, uint8_t type)
{
    if (!delta)
        return;
    crdt_init(delta, type);
    delta->scoped = true;
}

/* The next dot of actor on c, or KV_EOVERFLOW when the actor has used
 * every counter the codecs accept. */
static int next_dot(const struct crdt *c, uint32_t actor, uint64_t *k)
{
    *k = crdt_next_counter(c, actor);
    return *k > VC_MAX_COUNTER ? KV_EOVERFLOW : 0;
}

enum supersede {
    SUP_ALL,      /* every entry of the element (assignments, removals) */
    SUP_OWN_CNT,  /* the actor's own counter entries (increments) */
};

static bool superseded(const struct crdt_entry *e, enum supersede what, uint32_t actor)
{
    if (what == SUP_ALL)
        return true;
    return e->actor == actor && (e->kind == CRDT_K_CNT_INT || e->kind == CRDT_K_CNT_FLOAT);
}

/* Replaces the superseded entries of element key by *e (kind and payload
 * set by the caller, its value reference taken) with actor's next dot.
 * KV_EOVERFLOW (nothing changes, e's reference dropped) when the actor has
 * used every counter the codecs accept. */
static int put_entry(struct crdt *c, const void *key, size_t klen, uint32_t actor,
                     enum supersede what, struct crdt_entry *e, struct crdt *delta)
{
    uint64_t k;
    if (next_dot(c, actor, &k) != 0) {
        if (crdt_entry_has_val(c->type, e))
            val_unref(e->u.val);
        return KV_EOVERFLOW;
    }
    uint32_t si = crdt_slot_get(c, key, klen);
    struct crdt_elem *el = c->slot[si];
    for (uint32_t i = 0; i < el->n;) {
        if (superseded(&el->e[i], what, actor)) {
            if (delta) {
                crdt_ctx_add(delta, el->e[i].actor, el->e[i].counter);
                crdt_hole_add(delta, el->e[i].actor, el->e[i].counter);
            }
            crdt_entry_remove(c, el, i);
        } else {
            i++;
        }
    }
    e->actor = actor;
    e->counter = k;
    crdt_entry_insert(c, si, e);
    crdt_ctx_add(c, actor, k);
    if (delta) {
        crdt_ctx_add(delta, actor, k);
        struct crdt_entry copy = *e;
        if (crdt_entry_has_val(c->type, &copy))
            val_ref(copy.u.val);
        crdt_entry_insert(delta, crdt_slot_get(delta, key, klen), &copy);
    }
    return 0;
}

static bool has_entries(const struct crdt *c, const void *key, size_t klen)
{
    const struct crdt_elem *el = crdt_find(c, key, klen);
    return el && el->n > 0;
}

int crdt_clear(struct crdt *c, uint32_t actor, struct crdt *delta)
{
    uint64_t k;
    if (next_dot(c, actor, &k) != 0) {
        begin_delta(delta, c->type);
        return KV_EOVERFLOW;
    }
    /* keep the context (it is what makes the removal stick) and the holes */
    struct crdt keep;
    crdt_init(&keep, c->type);
    vc_move(&keep.vc, &c->vc);
    keep.cloud = c->cloud;
    keep.ncloud = c->ncloud;
    keep.capcloud = c->capcloud;
    keep.hole = c->hole;
    keep.nhole = c->nhole;
    c->cloud = NULL;
    c->ncloud = c->capcloud = 0;
    c->hole = NULL;
    c->nhole = 0;
    crdt_fini(c);
    *c = keep; /* unscoped: the context may cover dots of any element */
    crdt_ctx_add(c, actor, k);
    if (delta) {
        crdt_init(delta, c->type);
        vc_copy(&delta->vc, &c->vc);
        if (c->ncloud) {
            delta->cloud = mem_memdup(c->cloud, (size_t)c->ncloud * sizeof(*c->cloud));
            delta->ncloud = delta->capcloud = c->ncloud;
        }
        /* the clear applied every dot c applied: its holes are c's */
        if (c->nhole) {
            delta->hole = mem_memdup(c->hole, (size_t)c->nhole * sizeof(*c->hole));
            delta->nhole = c->nhole;
        }
    }
    return 0;
}

int crdt_remove(struct crdt *c, uint32_t actor, const void *key, size_t klen,
                struct crdt *delta, bool *existed)
{
    begin_delta(delta, c->type);
    if (existed)
        *existed = false;
    uint32_t si = crdt_slot_find(c, key, klen, crdt_key_hash(key, klen));
    if (si == UINT32_MAX || c->slot[si]->n == 0)
        return 0; /* nothing observed: no change, no dot, an empty delta */
    uint64_t k;
    if (next_dot(c, actor, &k) != 0)
        return KV_EOVERFLOW;
    struct crdt_elem *el = c->slot[si];
    if (existed)
        *existed = true;
    if (delta) {
        crdt_slot_get(delta, key, klen); /* the scope, even with no entries */
        for (uint32_t i = 0; i < el->n; i++) {
            crdt_ctx_add(delta, el->e[i].actor, el->e[i].counter);
            crdt_hole_add(delta, el->e[i].actor, el->e[i].counter);
        }
        crdt_ctx_add(delta, actor, k);
    }
    if (c->scoped) {
        while (el->n)
            crdt_entry_remove(c, el, el->n - 1);
    } else {
        crdt_slot_remove(c, si);
    }
    crdt_ctx_add(c, actor, k);
    return 0;
}

int crdt_set_add(struct crdt *c, uint32_t actor, const void *m, size_t mlen,
                 struct crdt *delta, bool *added)
{
    begin_delta(delta, c->type);
    if (c->type != CRDT_SET)
        return KV_EINVAL;
    bool was = has_entries(c, m, mlen);
    struct crdt_entry e = { .kind = CRDT_K_MEMBER };
    int rc = put_entry(c, m, mlen, actor, SUP_ALL, &e, delta);
    if (added)
        *added = rc == 0 && !was;
    return rc;
}

int crdt_reg_set(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                 struct val *v, struct crdt *delta, bool *added)
{
    begin_delta(delta, c->type);
    if ((c->type != CRDT_HASH && c->type != CRDT_COUNTER) ||
        (c->type == CRDT_COUNTER && flen != 0))
        return KV_EINVAL;
    bool was = has_entries(c, f, flen);
    struct crdt_entry e = { .kind = CRDT_K_REG, .u.val = val_ref(v) };
    int rc = put_entry(c, f, flen, actor, SUP_ALL, &e, delta);
    if (added)
        *added = rc == 0 && !was;
    return rc;
}

int crdt_zset_add(struct crdt *c, uint32_t actor, const void *m, size_t mlen,
                  double score, struct crdt *delta, bool *added)
{
    begin_delta(delta, c->type);
    if (c->type != CRDT_ZSET)
        return KV_EINVAL;
    if (isnan(score))
        return KV_ENOTNUM;
    bool was = has_entries(c, m, mlen);
    struct crdt_entry e = { .kind = CRDT_K_REG, .u.score = score };
    int rc = put_entry(c, m, mlen, actor, SUP_ALL, &e, delta);
    if (added)
        *added = rc == 0 && !was;
    return rc;
}

int crdt_expire_set(struct crdt *c, uint32_t actor, int64_t expire_ms, struct crdt *delta)
{
    begin_delta(delta, c->type);
    if (c->type == CRDT_NONE || c->type >= CRDT_TYPE_COUNT || expire_ms < 0)
        return KV_EINVAL;
    uint64_t k;
    if (next_dot(c, actor, &k) != 0)
        return KV_EOVERFLOW;
    if (delta) {
        delta->exp_scoped = true;
        for (uint32_t i = 0; i < c->nexp; i++) {
            crdt_ctx_add(delta, c->exp[i].actor, c->exp[i].counter);
            crdt_hole_add(delta, c->exp[i].actor, c->exp[i].counter);
        }
        crdt_ctx_add(delta, actor, k);
    }
    struct crdt_expiry e = { .actor = actor, .counter = k, .ms = expire_ms };
    c->nexp = 0;
    if (expire_ms > 0) {
        c->exp = mem_realloc(c->exp, sizeof(*c->exp));
        c->exp[0] = e;
        c->nexp = 1;
        if (delta) {
            delta->exp = mem_memdup(&e, sizeof(e));
            delta->nexp = 1;
        }
    } else {
        mem_free(c->exp);
        c->exp = NULL;
    }
    crdt_ctx_add(c, actor, k);
    if (c->scoped)
        c->exp_scoped = true; /* its context now covers expiry dots */
    return 0;
}

int64_t crdt_expire(const struct crdt *c)
{
    int64_t ms = 0;
    for (uint32_t i = 0; i < c->nexp; i++)
        if (c->exp[i].ms > ms)
            ms = c->exp[i].ms;
    return ms;
}

/* ------------------------------------------------------------------ */
/* numbers                                                              */

/* Redis's string2ll. */
static bool parse_ll(const char *s, size_t n, int64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    size_t i = 0;
    bool neg = s[0] == '-';
    if (neg && ++i == n)
        return false;
    if (s[i] == '0') { /* "0" only: no leading zeros, no "-0" */
        if (n == 1) {
            *out = 0;
            return true;
        }
        return false;
    }
    uint64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

/* Redis's string2ld. */
static bool parse_ld(const char *s, size_t n, long double *out)
{
    if (n == 0 || n >= MAX_LONG_DOUBLE_CHARS)
        return false;
    char stackbuf[128];
    char *buf = n < sizeof(stackbuf) ? stackbuf : mem_alloc(n + 1);
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    char *end;
    long double v = strtold(buf, &end);
    /* end must reach n: a NUL inside the text ends strtold early */
    bool ok = !isspace((unsigned char)buf[0]) && end == buf + n &&
              !(errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) &&
              !isnan(v);
    if (buf != stackbuf)
        mem_free(buf);
    if (ok)
        *out = v;
    return ok;
}

bool crdt_parse_float(const char *s, size_t n, long double *out)
{
    return parse_ld(s, n, out);
}

static int entry_reg_cmp(uint8_t type, const struct crdt_entry *a, const struct crdt_entry *b)
{
    if (type == CRDT_ZSET)
        return (a->u.score > b->u.score) - (a->u.score < b->u.score);
    const struct val *x = a->u.val, *y = b->u.val;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->data, y->data, m) : 0;
    if (c)
        return c;
    return (x->len > y->len) - (x->len < y->len);
}

const struct crdt_entry *crdt_reg_pick(const struct crdt_elem *el, uint8_t type)
{
    const struct crdt_entry *best = NULL;
    for (uint32_t i = 0; i < el->n; i++)
        if (el->e[i].kind == CRDT_K_REG && (!best || entry_reg_cmp(type, &el->e[i], best) > 0))
            best = &el->e[i];
    return best;
}

uint32_t crdt_reg_count(const struct crdt_elem *el)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < el->n; i++)
        n += el->e[i].kind == CRDT_K_REG;
    return n;
}

/* The decimal a float total stands for.  Totals travel and are kept as
 * doubles (8 bytes in the codec), so 10.5 + 0.1 is kept as
 * 10.5999999999999996447; Redis keeps a long double and shows 10.6.  The
 * shortest decimal that reads back as the same double is what was meant,
 * and is what is shown (as a long double, printed as Redis prints).  It is
 * also what a total adds to a value (crdt_num) and to the next increment:
 * Redis parses the text it printed again, so 3001.90001 - 3000.00001 gives
 * it 1.9, where adding the doubles would give 1.9000000000000909.  Not for
 * zset scores, which are doubles in Redis too. */
static long double shortest_decimal(long double v)
{
    double d = (double)v;
    if (!isfinite(d))
        return v;
    char tmp[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(tmp, sizeof(tmp), "%.*e", p - 1, d);
        if (strtod(tmp, NULL) == d)
            return strtold(tmp, NULL);
    }
    return v;
}

static int double_cmp(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static bool is_total(const struct crdt_entry *e)
{
    return e->kind == CRDT_K_CNT_INT || e->kind == CRDT_K_CNT_FLOAT;
}

/* One running total per actor counts: the latest.  An actor's later total
 * was made over its earlier one (an increment supersedes the actor's own
 * total; one that did not see it saw a removal of it), so both standing
 * (the delta that superseded the earlier has not arrived — or never will,
 * when the node that made it lost its hints with its data) must not add
 * the earlier part twice.  Entries are sorted by (actor, counter). */
static bool superseded_total(const struct crdt_elem *el, uint32_t i)
{
    if (!is_total(&el->e[i]))
        return false;
    for (uint32_t j = i + 1; j < el->n && el->e[j].actor == el->e[i].actor; j++)
        if (is_total(&el->e[j]))
            return true;
    return false;
}

int crdt_num(const struct crdt_elem *el, uint8_t type, struct crdt_num *out)
{
    *out = (struct crdt_num){ .is_float = type == CRDT_ZSET };
    long double base_f = 0;
    int64_t base_i = 0;
    const struct crdt_entry *r = crdt_reg_pick(el, type);
    if (r && type == CRDT_ZSET) {
        base_f = r->u.score;
    } else if (r && !parse_ll(r->u.val->data, r->u.val->len, &base_i)) {
        if (!parse_ld(r->u.val->data, r->u.val->len, &base_f))
            return KV_ENOTNUM;
        out->is_float = true;
    }
    /* integers: positives and negatives apart, so the order of additions
     * (actor ids differ between nodes) cannot change an overflow verdict */
    uint64_t pos = base_i > 0 ? (uint64_t)base_i : 0;
    uint64_t neg = base_i < 0 ? (uint64_t)-(base_i + 1) + 1 : 0;
    double stackfl[32];
    double *fl = el->n <= 32 ? stackfl : mem_alloc(el->n * sizeof(*fl));
    uint32_t nf = 0;
    for (uint32_t i = 0; i < el->n; i++) {
        const struct crdt_entry *e = &el->e[i];
        if (superseded_total(el, i))
            continue;
        if (e->kind == CRDT_K_CNT_FLOAT) {
            fl[nf++] = e->u.f;
        } else if (e->kind == CRDT_K_CNT_INT) {
            uint64_t mag = e->u.i >= 0 ? (uint64_t)e->u.i : (uint64_t)-(e->u.i + 1) + 1;
            uint64_t *acc = e->u.i >= 0 ? &pos : &neg;
            if (__builtin_add_overflow(*acc, mag, acc)) {
                if (fl != stackfl)
                    mem_free(fl);
                return KV_EOVERFLOW;
            }
        }
    }
    if (nf)
        out->is_float = true;
    long double f = base_f + (long double)pos - (long double)neg; /* base_i is in pos or neg */
    qsort(fl, nf, sizeof(fl[0]), double_cmp);
    for (uint32_t i = 0; i < nf; i++)
        f += type == CRDT_ZSET ? (long double)fl[i] : shortest_decimal(fl[i]);
    if (fl != stackfl)
        mem_free(fl);
    if (!out->is_float) {
        if (pos >= neg) {
            if (pos - neg > (uint64_t)INT64_MAX)
                return KV_EOVERFLOW;
            out->i = (int64_t)(pos - neg);
        } else {
            if (neg - pos > (uint64_t)INT64_MAX + 1)
                return KV_EOVERFLOW;
            uint64_t m = neg - pos;
            out->i = m == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)m;
        }
        return 0;
    }
    out->f = f;
    return 0;
}

/* Redis's ld2string in its human-friendly mode (INCRBYFLOAT's reply). */
static void put_long_double(struct buf *out, long double v)
{
    v = shortest_decimal(v);
    char tmp[MAX_LONG_DOUBLE_CHARS];
    int n = snprintf(tmp, sizeof(tmp), "%.17Lf", v);
    if (n <= 0 || (size_t)n >= sizeof(tmp))
        return;
    if (memchr(tmp, '.', (size_t)n)) {
        while (n > 0 && tmp[n - 1] == '0')
            n--;
        if (n > 0 && tmp[n - 1] == '.')
            n--;
    }
    if (n == 2 && memcmp(tmp, "-0", 2) == 0)
        buf_put(out, "0", 1);
    else
        buf_put(out, tmp, (size_t)n);
}

/* ZSCORE's form of a score. */
static void put_score(struct buf *out, double d)
{
    if (isinf(d))
        buf_printf(out, "%s", d > 0 ? "inf" : "-inf");
    else
        buf_printf(out, "%.17g", d);
}

int crdt_value(const struct crdt_elem *el, uint8_t type, struct buf *out)
{
    if (type == CRDT_SET || el->n == 0)
        return KV_EINVAL;
    bool counters = false;
    for (uint32_t i = 0; i < el->n && !counters; i++)
        counters = el->e[i].kind != CRDT_K_REG;
    const struct crdt_entry *r = crdt_reg_pick(el, type);
    struct crdt_num num;
    int rc = counters ? crdt_num(el, type, &num) : KV_ENOTNUM;
    if (rc == KV_ENOTNUM) { /* the register as written */
        if (type == CRDT_ZSET)
            put_score(out, r->u.score);
        else
            buf_put(out, r->u.val->data, r->u.val->len);
        return 0;
    }
    if (rc)
        return rc;
    if (type == CRDT_ZSET)
        put_score(out, (double)num.f);
    else if (num.is_float)
        put_long_double(out, num.f);
    else
        buf_printf(out, "%lld", (long long)num.i);
    return 0;
}

int crdt_zset_score(const struct crdt *c, const void *m, size_t mlen, double *score)
{
    const struct crdt_elem *el = crdt_find(c, m, mlen);
    if (c->type != CRDT_ZSET || !el || el->n == 0)
        return KV_ENOTFOUND;
    struct crdt_num num;
    int rc = crdt_num(el, c->type, &num);
    if (rc)
        return rc;
    *score = (double)num.f;
    return 0;
}

/* ------------------------------------------------------------------ */
/* increments                                                           */

static bool counter_type(const struct crdt *c, size_t flen, bool float_ok)
{
    if (c->type == CRDT_COUNTER)
        return flen == 0;
    return c->type == CRDT_HASH || (float_ok && c->type == CRDT_ZSET);
}

int crdt_incr_int(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                  int64_t by, struct crdt *delta, int64_t *result)
{
    begin_delta(delta, c->type);
    if (!counter_type(c, flen, false))
        return KV_EINVAL;
    const struct crdt_elem *el = crdt_find(c, f, flen);
    int64_t cur = 0, own = 0, sum, total;
    if (el && el->n) {
        struct crdt_num num;
        int rc = crdt_num(el, c->type, &num);
        if (rc)
            return rc;
        if (num.is_float)
            return KV_ENOTNUM;
        cur = num.i;
        for (uint32_t i = 0; i < el->n; i++) /* the actor's latest total */
            if (superseded(&el->e[i], SUP_OWN_CNT, actor) && !superseded_total(el, i))
                own = el->e[i].u.i;
    }
    if (__builtin_add_overflow(cur, by, &sum) || __builtin_add_overflow(own, by, &total))
        return KV_EOVERFLOW;
    struct crdt_entry e = { .kind = CRDT_K_CNT_INT, .u.i = total };
    int rc = put_entry(c, f, flen, actor, SUP_OWN_CNT, &e, delta);
    if (rc == 0 && result)
        *result = sum;
    return rc;
}

int crdt_incr_float(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                    long double by, struct crdt *delta, long double *result)
{
    begin_delta(delta, c->type);
    if (!counter_type(c, flen, true))
        return KV_EINVAL;
    if (!isfinite(by))
        return KV_ENOTNUM;
    const struct crdt_elem *el = crdt_find(c, f, flen);
    long double cur = 0, own = 0;
    if (el && el->n) {
        struct crdt_num num;
        int rc = crdt_num(el, c->type, &num);
        if (rc)
            return rc;
        cur = num.is_float ? num.f : (long double)num.i;
        for (uint32_t i = 0; i < el->n; i++) /* the actor's latest total */
            if (superseded(&el->e[i], SUP_OWN_CNT, actor) && !superseded_total(el, i))
                own = el->e[i].kind == CRDT_K_CNT_INT ? (long double)el->e[i].u.i
                      : c->type == CRDT_ZSET          ? (long double)el->e[i].u.f
                                                      : shortest_decimal(el->e[i].u.f);
    }
    /* The actor's total must stay finite (the codec refuses others); the
     * value may be infinite in a zset (ZINCRBY on an "inf" score gives
     * inf, as in Redis) but never NaN, and never infinite elsewhere
     * (INCRBYFLOAT refuses it). */
    double total = (double)(own + by);
    long double val = cur + by;
    if (!isfinite(total) || isnan(val) || (c->type != CRDT_ZSET && !isfinite(val)))
        return KV_ENOTNUM;
    struct crdt_entry e = { .kind = CRDT_K_CNT_FLOAT, .u.f = total };
    int rc = put_entry(c, f, flen, actor, SUP_OWN_CNT, &e, delta);
    if (rc)
        return rc;
    if (result) {
        struct crdt_num num;
        rc = crdt_num(crdt_find(c, f, flen), c->type, &num);
        if (rc)
            return rc;
        *result = num.f;
    }
    return 0;
}
