/* cmd_hash.c — the Redis hash commands (HSET/HMSET, HGET, HMGET, HGETALL,
 * HDEL, HEXISTS, HKEYS, HVALS, HLEN, HSTRLEN, HSETNX, HINCRBY,
 * HINCRBYFLOAT, HRANDFIELD, HSCAN) and VHGET, over the convergent hash
 * type (core/crdt.h, CRDT_HASH) through the typed-key framework (typed.h).
 *
 * Owns: the argument checks of every hash command (in the order Redis 7.0
 * makes them, with its error texts) and the fns that run at the key's
 * coordinator with the key's state and write the reply.  Nothing else:
 * routing, reads, WRONGTYPE, replication and W acks are typed.c's; HDEL,
 * HRANDFIELD's checks and picks and HSCAN's step are the ones the set and
 * sorted-set commands use too (cmd_elems.c).
 *
 * Invariants:
 *   - A field's value is what crdt_value shows: the picked register
 *     (crdt_reg_pick: the greatest in byte order among concurrent HSETs)
 *     plus the counters of HINCRBY/HINCRBYFLOAT; VHGET lists every
 *     concurrent register and the counters apart.
 *   - HINCRBY/HINCRBYFLOAT add to the actor's running total
 *     (crdt_incr_int/crdt_incr_float): increments on both sides of a
 *     partition both count; they are not read-modify-writes of the text.
 *   - Point commands (HSET, HGET, HDEL, HEXISTS, HSTRLEN, HINCRBY...) touch
 *     only their fields: O(fields named), never O(hash).  HLEN is O(1).
 *   - A write that changes nothing (HSETNX on an existing field, HDEL of
 *     absent fields, a refused increment) performs no crdt operation, so it
 *     ships no delta.
 *   - Replies are built whole in t->reply; a read error met half way
 *     (a field whose concurrent increments overflow int64) replaces the
 *     partial reply by the error.
 *
 * Callers: cmd.c dispatches through cmd_hash_table.  The fns run in
 * event-loop callbacks (typed.c) and never block.  HRANDFIELD with a
 * negative count is the only reply not bounded by the hash: it stops at
 * HASH_REPLY_MAX bytes with an error.
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_elems.h"
#include "cmd/cmd_string_priv.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "core/resp.h"
#include "util/buf.h"
#include "util/errors.h"
#include "util/mem.h"
#include "util/val.h"

/* Error texts as Redis 7.0 words them (without the "ERR " code). */
static const char HASH_ERR_NOT_INT[] = "hash value is not an integer";
static const char HASH_ERR_NOT_FLOAT[] = "hash value is not a float";
static const char HASH_ERR_OVERFLOW[] = "increment or decrement would overflow";
static const char HASH_ERR_NAN_INCR[] = "value is NaN or Infinity";
static const char HASH_ERR_NAN[] = "increment would produce NaN or Infinity";
static const char HASH_ERR_BAD_FLOAT[] = "value is not a valid float";
static const char HASH_ERR_TOO_BIG[] = "string exceeds maximum allowed size (proto-max-bulk-len)";
/* Not in Redis: concurrent HINCRBYs, each within range, whose sum is not. */
static const char HASH_ERR_SUM[] = "hash value is out of range: concurrent increments "
                                   "overflow a 64-bit integer (HSET the field to resolve)";

/* HRANDFIELD key -count: the reply is not bounded by the hash. */
#define HASH_REPLY_MAX (64u << 20)

/* ---- shared helpers ---- */

static void add_err(struct buf *b, const char *msg)
{
    resp_add_error(b, "ERR", msg);
}

static const struct crdt_elem *field(const struct crdt *s, const struct arg *f)
{
    if (!s)
        return NULL;
    const struct crdt_elem *el = crdt_find(s, f->p, f->len);
    return el && el->n > 0 ? el : NULL;
}

/* True when el holds registers only: its value is then the picked
 * register's bytes as written (crdt_value's first case), which is sent
 * without a copy through a scratch buffer. */
static bool regs_only(const struct crdt_elem *el)
{
    return crdt_reg_count(el) == el->n;
}

/* Appends el's value as a bulk string.  0, or crdt_value's error (nothing
 * appended).  scratch: reused between calls. */
static int put_value(struct buf *out, const struct crdt_elem *el, struct buf *scratch)
{
    if (regs_only(el)) {
        const struct val *v = crdt_reg_pick(el, CRDT_HASH)->u.val;
        resp_add_bulk(out, v->data, v->len);
        return 0;
    }
    scratch->len = 0;
    int rc = crdt_value(el, CRDT_HASH, scratch);
    if (rc == 0)
        resp_add_bulk(out, scratch->data ? scratch->data : "", scratch->len);
    return rc;
}

static void put_field(struct buf *out, const struct crdt_elem *el)
{
    resp_add_bulk(out, crdt_elem_key(el), el->klen);
}

/* Replaces whatever the fn appended since mark by the error for rc. */
static void fail_at(struct typed_call *t, size_t mark, int rc)
{
    t->reply.len = mark;
    add_err(&t->reply, rc == KV_EOVERFLOW ? HASH_ERR_SUM : kv_strerror(rc));
}

/* Field and value arguments longer than a value may be (proto-max-bulk-len
 * may be set past the 4 GB a struct val holds). */
static bool args_fit(struct client *c, int from, int argc, const struct arg *argv)
{
    long long lim = str_max_len(c);
    for (int i = from; i < argc; i++) {
        if ((long long)argv[i].len > lim) {
            cmd_reply_err(c, HASH_ERR_TOO_BIG);
            return false;
        }
    }
    return true;
}

/* ---- HSET / HMSET key field value [field value ...] ---- */

/* Sets the pairs argv[2..argc); returns the fields created, or -1 with the
 * error replied (only KV_EOVERFLOW: the actor's dots are used up). */
static long long set_pairs(struct typed_call *t)
{
    struct crdt *s = typed_mut(t);
    long long created = 0;
    for (int i = 2; i + 1 < t->argc; i += 2) {
        const struct arg *f = &t->argv[i], *v = &t->argv[i + 1];
        struct val *val = val_create(v->p, v->len);
        struct crdt d;
        bool added;
        int rc = crdt_reg_set(s, t->actor, f->p, f->len, val, &d, &added);
        val_unref(val);
        typed_took(t, &d);
        if (rc) {
            add_err(&t->reply, kv_strerror(rc));
            return -1;
        }
        created += added;
    }
    return created;
}

static void hset_fn(struct typed_call *t)
{
    long long created = set_pairs(t);
    if (created >= 0)
        resp_add_int(&t->reply, created);
}

static void hmset_fn(struct typed_call *t)
{
    if (set_pairs(t) >= 0)
        resp_add_simple(&t->reply, "OK");
}

static void hset_common(struct client *c, int argc, const struct arg *argv, const char *name,
                        typed_fn fn)
{
    if (argc % 2 == 1) {
        cmd_reply_arity(c, name);
        return;
    }
    if (args_fit(c, 2, argc, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_WRITE, NULL, 0, fn);
}

static void cmd_hset(struct client *c, int argc, const struct arg *argv)
{
    hset_common(c, argc, argv, "hset", hset_fn);
}

static void cmd_hmset(struct client *c, int argc, const struct arg *argv)
{
    hset_common(c, argc, argv, "hmset", hmset_fn);
}

/* ---- HSETNX key field value ---- */

static void hsetnx_fn(struct typed_call *t)
{
    if (field(t->state, &t->argv[2])) {
        resp_add_int(&t->reply, 0);
        return;
    }
    if (set_pairs(t) >= 0)
        resp_add_int(&t->reply, 1);
}

static void cmd_hsetnx(struct client *c, int argc, const struct arg *argv)
{
    if (args_fit(c, 2, argc, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_WRITE, NULL, 0, hsetnx_fn);
}

/* ---- HGET key field / HMGET key field [field ...] ---- */

static void hget_fn(struct typed_call *t)
{
    const struct crdt_elem *el = field(t->state, &t->argv[2]);
    if (!el) {
        resp_add_null(&t->reply, t->proto);
        return;
    }
    struct buf scratch;
    buf_init(&scratch);
    size_t mark = t->reply.len;
    int rc = put_value(&t->reply, el, &scratch);
    if (rc)
        fail_at(t, mark, rc);
    buf_fini(&scratch);
}

static void hmget_fn(struct typed_call *t)
{
    struct buf scratch;
    buf_init(&scratch);
    size_t mark = t->reply.len;
    resp_add_array(&t->reply, t->argc - 2);
    for (int i = 2; i < t->argc; i++) {
        const struct crdt_elem *el = field(t->state, &t->argv[i]);
        int rc = el ? put_value(&t->reply, el, &scratch) : 0;
        if (!el)
            resp_add_null(&t->reply, t->proto);
        if (rc) {
            fail_at(t, mark, rc);
            break;
        }
    }
    buf_fini(&scratch);
}

static void cmd_hget(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hget_fn);
}

static void cmd_hmget(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hmget_fn);
}

/* ---- HGETALL / HKEYS / HVALS key ---- */

#define ALL_KEYS (1u << 0) /* the fields */
#define ALL_VALS (1u << 1) /* the values */

struct all_walk {
    struct typed_call *t;
    unsigned what;  /* ALL_* */
    struct buf scratch;
    int err;        /* the first crdt_value error */
};

static bool all_one(const struct crdt_elem *el, void *arg)
{
    struct all_walk *w = arg;
    if (w->what & ALL_KEYS)
        put_field(&w->t->reply, el);
    if (w->what & ALL_VALS)
        w->err = put_value(&w->t->reply, el, &w->scratch);
    return w->err == 0;
}

static void all_reply(struct typed_call *t, unsigned what)
{
    uint32_t n = t->state ? crdt_count(t->state) : 0;
    size_t mark = t->reply.len;
    if (what == (ALL_KEYS | ALL_VALS))
        resp_add_map(&t->reply, t->proto, n);
    else
        resp_add_array(&t->reply, n);
    if (n == 0)
        return;
    struct all_walk w = {.t = t, .what = what, .err = 0};
    buf_init(&w.scratch);
    crdt_each(t->state, all_one, &w);
    if (w.err)
        fail_at(t, mark, w.err);
    buf_fini(&w.scratch);
}

/* HGETALL, HKEYS or HVALS by name (argv[0]; the table routes only these
 * here). */
static void all_fn(struct typed_call *t)
{
    const struct arg *name = &t->argv[0];
    all_reply(t, cmd_arg_eq(name, "hkeys")   ? ALL_KEYS
                 : cmd_arg_eq(name, "hvals") ? ALL_VALS
                                             : ALL_KEYS | ALL_VALS);
}

static void cmd_hall(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, all_fn);
}

/* ---- HDEL key field [field ...] ---- */

static void cmd_hdel(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              elems_remove_args_fn);
}

/* ---- HEXISTS key field / HLEN key / HSTRLEN key field ---- */

static void hexists_fn(struct typed_call *t)
{
    resp_add_int(&t->reply, field(t->state, &t->argv[2]) != NULL);
}

static void hlen_fn(struct typed_call *t)
{
    resp_add_int(&t->reply, t->state ? crdt_count(t->state) : 0);
}

static void hstrlen_fn(struct typed_call *t)
{
    const struct crdt_elem *el = field(t->state, &t->argv[2]);
    if (!el) {
        resp_add_int(&t->reply, 0);
        return;
    }
    if (regs_only(el)) {
        resp_add_int(&t->reply, (long long)crdt_reg_pick(el, CRDT_HASH)->u.val->len);
        return;
    }
    struct buf scratch;
    buf_init(&scratch);
    int rc = crdt_value(el, CRDT_HASH, &scratch);
    if (rc)
        fail_at(t, t->reply.len, rc);
    else
        resp_add_int(&t->reply, (long long)scratch.len);
    buf_fini(&scratch);
}

static void cmd_hexists(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hexists_fn);
}

static void cmd_hlen(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hlen_fn);
}

static void cmd_hstrlen(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hstrlen_fn);
}

/* ---- HINCRBY key field increment / HINCRBYFLOAT key field increment ---- */

/* Largest magnitude a double (a float total) holds exactly as an integer. */
#define HASH_EXACT_INT (1LL << 53)

/* Whether el, whose value has a float part, reads as an integer text that
 * HINCRBY by may add to exactly: Redis adds to the text, so the "3" that
 * HINCRBYFLOAT 1.5 twice left takes an HINCRBY, while "3.5" or a register
 * written "3.0" does not.  *cur = the value when true. */
static bool float_reads_as_int(const struct crdt_elem *el, long long by, long long *cur)
{
    struct buf text;
    buf_init(&text);
    bool ok = crdt_value(el, CRDT_HASH, &text) == 0 && text.len > 0;
    if (ok) {
        struct arg a = {text.data, text.len};
        ok = cmd_arg_ll(&a, cur) && *cur > -HASH_EXACT_INT && *cur < HASH_EXACT_INT &&
             by > -HASH_EXACT_INT && by < HASH_EXACT_INT && *cur + by > -HASH_EXACT_INT &&
             *cur + by < HASH_EXACT_INT;
    }
    buf_fini(&text);
    return ok;
}

static void hincrby_fn(struct typed_call *t)
{
    const struct arg *f = &t->argv[2];
    long long by, cur = 0;
    cmd_arg_ll(&t->argv[3], &by); /* the handler checked it */
    const struct crdt_elem *el = field(t->state, f);
    bool as_float = false;
    if (el) { /* Redis's checks on the current value, before any change */
        struct crdt_num num;
        int rc = crdt_num(el, CRDT_HASH, &num);
        if (rc == KV_EOVERFLOW) {
            add_err(&t->reply, HASH_ERR_SUM);
            return;
        }
        if (rc || (num.is_float && !float_reads_as_int(el, by, &cur))) {
            add_err(&t->reply, HASH_ERR_NOT_INT);
            return;
        }
        as_float = num.is_float;
    }
    struct crdt d;
    int rc;
    if (as_float) { /* exact: every figure is an integer below 2^53 */
        rc = crdt_incr_float(typed_mut(t), t->actor, f->p, f->len, (long double)by, &d, NULL);
        typed_took(t, &d);
        if (rc == 0) {
            resp_add_int(&t->reply, cur + by);
            return;
        }
    } else {
        int64_t result;
        rc = crdt_incr_int(typed_mut(t), t->actor, f->p, f->len, by, &d, &result);
        typed_took(t, &d);
        if (rc == 0) {
            resp_add_int(&t->reply, result);
            return;
        }
    }
    add_err(&t->reply, rc == KV_EOVERFLOW ? HASH_ERR_OVERFLOW
                       : rc == KV_ENOTNUM ? HASH_ERR_NOT_INT
                                          : kv_strerror(rc));
}

static void cmd_hincrby(struct client *c, int argc, const struct arg *argv)
{
    long long by;
    if (!cmd_arg_ll(&argv[3], &by)) {
        cmd_reply_not_int(c);
        return;
    }
    if (args_fit(c, 2, 3, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_WRITE, NULL, 0, hincrby_fn);
}

static void hincrbyfloat_fn(struct typed_call *t)
{
    const struct arg *f = &t->argv[2];
    long double by;
    crdt_parse_float(t->argv[3].p, t->argv[3].len, &by); /* the handler checked it */
    const struct crdt_elem *el = field(t->state, f);
    if (el) {
        struct crdt_num num;
        int rc = crdt_num(el, CRDT_HASH, &num);
        if (rc) {
            add_err(&t->reply, rc == KV_EOVERFLOW ? HASH_ERR_SUM : HASH_ERR_NOT_FLOAT);
            return;
        }
    }
    struct crdt *s = typed_mut(t);
    struct crdt d;
    int rc = crdt_incr_float(s, t->actor, f->p, f->len, by, &d, NULL);
    typed_took(t, &d);
    if (rc) {
        /* the value parsed above: what is left is a result out of range */
        add_err(&t->reply, rc == KV_ENOTNUM ? HASH_ERR_NAN : kv_strerror(rc));
        return;
    }
    /* the reply is the value every read now shows (crdt_value) */
    struct buf scratch;
    buf_init(&scratch);
    rc = put_value(&t->reply, crdt_find(s, f->p, f->len), &scratch);
    if (rc)
        fail_at(t, t->reply.len, rc);
    buf_fini(&scratch);
}

static void cmd_hincrbyfloat(struct client *c, int argc, const struct arg *argv)
{
    long double by;
    if (!crdt_parse_float(argv[3].p, argv[3].len, &by)) {
        cmd_reply_err(c, HASH_ERR_BAD_FLOAT);
        return;
    }
    if (isnan(by) || isinf(by)) {
        cmd_reply_err(c, HASH_ERR_NAN_INCR);
        return;
    }
    if (args_fit(c, 2, 3, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_WRITE, NULL, 0, hincrbyfloat_fn);
}

/* ---- HRANDFIELD key [count [WITHVALUES]] ---- */

struct rand_walk {
    struct typed_call *t;
    bool withvalues;
    bool toobig;     /* stopped at HASH_REPLY_MAX */
    int err;         /* the first crdt_value error */
    struct buf scratch;
};

static bool rand_one(const struct crdt_elem *el, void *arg)
{
    struct rand_walk *w = arg;
    struct buf *out = &w->t->reply;
    if (out->len > HASH_REPLY_MAX) {
        w->toobig = true;
        return false;
    }
    if (w->withvalues && w->t->proto == 3)
        resp_add_array(out, 2);
    put_field(out, el);
    if (w->withvalues)
        w->err = put_value(out, el, &w->scratch);
    return w->err == 0;
}

static void hrandfield_fn(struct typed_call *t)
{
    uint64_t rng = elems_rng();
    uint32_t size = t->state ? crdt_count(t->state) : 0;
    struct rand_walk w = {.t = t, .withvalues = t->argc == 4};
    if (t->argc == 2) { /* one field, as a bulk string */
        if (size == 0)
            resp_add_null(&t->reply, t->proto);
        else
            crdt_pick(t->state, 1, false, &rng, rand_one, &w);
        return;
    }
    long long l;
    cmd_arg_ll(&t->argv[2], &l); /* the handler checked it (> LLONG_MIN) */
    if (size == 0 || l == 0) {
        resp_add_array(&t->reply, 0);
        return;
    }
    /* negative: |l| independent picks; positive: distinct fields */
    uint64_t count = l < 0 ? (uint64_t)-l : (uint64_t)l;
    uint64_t n = l < 0 || count < size ? count : size;
    size_t mark = t->reply.len;
    resp_add_array(&t->reply, (long long)(w.withvalues && t->proto == 2 ? n * 2 : n));
    buf_init(&w.scratch);
    crdt_pick(t->state, count, l > 0, &rng, rand_one, &w);
    buf_fini(&w.scratch);
    if (w.err) {
        fail_at(t, mark, w.err);
    } else if (w.toobig) {
        t->reply.len = mark;
        resp_add_errorf(&t->reply, "ERR",
                        "HRANDFIELD reply would exceed %u MB; ask for fewer fields",
                        HASH_REPLY_MAX >> 20);
    }
}

static void cmd_hrandfield(struct client *c, int argc, const struct arg *argv)
{
    /* a negative count's reply is bounded by its bytes (HASH_REPLY_MAX) */
    if (elems_rand_args(c, argc, argv, "withvalues", 0))
        cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, hrandfield_fn);
}

/* ---- HSCAN key cursor [MATCH pattern] [COUNT count] ---- */

static int scan_put(struct buf *items, const struct crdt_elem *el, void *scratch)
{
    put_field(items, el);
    int rc = put_value(items, el, scratch);
    return rc ? rc : 2;
}

static void hscan_fn(struct typed_call *t)
{
    struct buf scratch;
    buf_init(&scratch);
    int rc = elems_scan(t, scan_put, &scratch);
    if (rc)
        fail_at(t, t->reply.len, rc);
    buf_fini(&scratch);
}

static void cmd_hscan(struct client *c, int argc, const struct arg *argv)
{
    elems_scan_cmd(c, argc, argv, CRDT_HASH, hscan_fn);
}

/* ---- VHGET key field: every concurrent value of a field ---- */

/* Descending byte order, a longer value winning a common prefix: the
 * order in which crdt_reg_pick's choice comes first. */
static int reg_desc(const void *pa, const void *pb)
{
    const struct val *x = (*(const struct crdt_entry *const *)pa)->u.val;
    const struct val *y = (*(const struct crdt_entry *const *)pb)->u.val;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = m ? memcmp(x->data, y->data, m) : 0;
    if (c == 0)
        c = (x->len > y->len) - (x->len < y->len);
    return -c;
}

/* [[register, ...], counters]: the concurrent HSET values, the one reads
 * show first, then the sum of the HINCRBY/HINCRBYFLOAT totals as text ("0"
 * when none), which reads add to the first register when it is a number. */
static void vhget_fn(struct typed_call *t)
{
    const struct crdt_elem *el = field(t->state, &t->argv[2]);
    if (!el) {
        resp_add_null(&t->reply, t->proto);
        return;
    }
    uint32_t nr = crdt_reg_count(el), nc = el->n - nr;
    const struct crdt_entry **regs = mem_alloc(((size_t)nr + 1) * sizeof(*regs));
    /* the counters alone, as an element of their own for crdt_value */
    struct crdt_elem *cnt = mem_alloc(sizeof(*cnt) + ((size_t)nc + 1) * sizeof(cnt->e[0]));
    cnt->klen = 0;
    cnt->n = 0;
    uint32_t k = 0;
    for (uint32_t i = 0; i < el->n; i++) {
        if (el->e[i].kind == CRDT_K_REG)
            regs[k++] = &el->e[i];
        else
            cnt->e[cnt->n++] = el->e[i]; /* counters hold no references */
    }
    qsort(regs, nr, sizeof(*regs), reg_desc);
    struct buf sum;
    buf_init(&sum);
    int rc = nc ? crdt_value(cnt, CRDT_HASH, &sum) : 0;
    if (rc) {
        add_err(&t->reply, rc == KV_EOVERFLOW ? HASH_ERR_SUM : kv_strerror(rc));
    } else {
        resp_add_array(&t->reply, 2);
        resp_add_array(&t->reply, nr);
        for (uint32_t i = 0; i < nr; i++)
            resp_add_bulk(&t->reply, regs[i]->u.val->data, regs[i]->u.val->len);
        if (nc)
            resp_add_bulk(&t->reply, sum.data, sum.len);
        else
            resp_add_bulk(&t->reply, "0", 1);
    }
    buf_fini(&sum);
    mem_free(cnt);
    mem_free(regs);
}

static void cmd_vhget(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_HASH, TYPED_READ, NULL, 0, vhget_fn);
}

/* ---- OBJECT ENCODING ---- */

struct enc_walk {
    long long max_len;
    bool small;
    struct buf scratch;
};

static bool enc_one(const struct crdt_elem *el, void *arg)
{
    struct enc_walk *w = arg;
    size_t vlen;
    if (regs_only(el)) {
        vlen = crdt_reg_pick(el, CRDT_HASH)->u.val->len;
    } else {
        w->scratch.len = 0;
        crdt_value(el, CRDT_HASH, &w->scratch); /* an error leaves it short */
        vlen = w->scratch.len;
    }
    w->small = (long long)el->klen <= w->max_len && (long long)vlen <= w->max_len;
    return w->small;
}

const char *cmd_hash_encoding(const struct crdt *s, long long max_entries, long long max_value)
{
    if ((long long)crdt_count(s) > max_entries)
        return "hashtable";
    struct enc_walk w = {.max_len = max_value, .small = true};
    buf_init(&w.scratch);
    crdt_each(s, enc_one, &w);
    buf_fini(&w.scratch);
    return w.small ? "listpack" : "hashtable";
}

/* ---- the table (arity, flags, key positions and since as Redis 7.0) ---- */

const struct cmd_def cmd_hash_table[] = {
    {"hset", -4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hset, "hash",
     "Sets fields of a hash to values; replies how many fields are new.",
     "key data+(field value)", "2.0.0"},
    {"hmset", -4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hmset, "hash",
     "Sets fields of a hash to values (older form of HSET, replies OK).",
     "key data+(field value)", "2.0.0"},
    {"hsetnx", 4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hsetnx, "hash",
     "Sets a field of a hash only when the field does not exist yet.", "key field value",
     "2.0.0"},
    {"hget", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_hget, "hash", "Returns the value of a hash field.",
     "key field", "2.0.0"},
    {"hmget", -3, CMD_F_READ_FAST, 1, 1, 1, cmd_hmget, "hash",
     "Returns the values of hash fields (nil for each missing one).", "key field+", "2.0.0"},
    {"hgetall", 2, CMD_F_READONLY, 1, 1, 1, cmd_hall, "hash",
     "Returns every field of a hash with its value.", "key", "2.0.0"},
    {"hkeys", 2, CMD_F_READONLY, 1, 1, 1, cmd_hall, "hash", "Returns every field of a hash.",
     "key", "2.0.0"},
    {"hvals", 2, CMD_F_READONLY, 1, 1, 1, cmd_hall, "hash",
     "Returns every value of a hash.", "key", "2.0.0"},
    {"hdel", -3, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hdel, "hash",
     "Removes fields from a hash; the key goes when its last field does.", "key field+",
     "2.0.0"},
    {"hexists", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_hexists, "hash",
     "Tells whether a hash has a field.", "key field", "2.0.0"},
    {"hlen", 2, CMD_F_READ_FAST, 1, 1, 1, cmd_hlen, "hash",
     "Returns the number of fields of a hash.", "key", "2.0.0"},
    {"hstrlen", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_hstrlen, "hash",
     "Returns the length of a hash field's value.", "key field", "3.2.0"},
    {"hincrby", 4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hincrby, "hash",
     "Adds an integer to a hash field (increments on every replica add up).",
     "key field increment", "2.0.0"},
    {"hincrbyfloat", 4, CMD_F_WRITE_FAST, 1, 1, 1, cmd_hincrbyfloat, "hash",
     "Adds a float to a hash field (increments on every replica add up).",
     "key field increment", "2.6.0"},
    {"hrandfield", -2, CMD_F_READONLY, 1, 1, 1, cmd_hrandfield, "hash",
     "Returns random fields of a hash (distinct for a positive count).",
     "key count? withvalues?(WITHVALUES)", "6.2.0"},
    {"hscan", -3, CMD_F_READONLY, 1, 1, 1, cmd_hscan, "hash",
     "Iterates the fields and values of a hash with a cursor.",
     "key cursor pattern?(MATCH pattern) count?(COUNT count)", "2.8.0"},
    {"vhget", 3, CMD_F_READONLY, 1, 1, 1, cmd_vhget, "dynamo",
     "Returns every concurrent value of a hash field and the sum of its increments.",
     "key field", "0.1.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
