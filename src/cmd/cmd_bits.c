/* cmd_bits.c — the bit commands of the string family (SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO) and LCS.  The arithmetic
 * is core/bits.c; this file parses arguments and reads and writes keys
 * with the string family's mechanisms:
 *   - SETBIT and BITFIELD with SET/INCRBY are read-modify-writes at the
 *     key's coordinator (cmd_rmw, as SETRANGE), so concurrent SETBITs and
 *     BITFIELD INCRBYs of one key through any nodes are exact while its
 *     coordinator is alive; a key with siblings is refused as GET refuses
 *     it; the TTL is kept.
 *   - GETBIT, BITCOUNT, BITPOS and BITFIELD with GETs only (and
 *     BITFIELD_RO) are quorum reads (cmd_read).
 *   - BITOP reads its sources as MGET does (struct op, op_launch_read: at
 *     most the connection's in-flight cap at once), then writes the
 *     destination as COPY does: `SET dest result` (or `DEL dest` for an
 *     empty result) through defer_call, at dest's coordinator.  Not atomic
 *     across keys: a source written meanwhile may or may not be seen.
 *   - LCS reads its two keys as MGET does (one op, two slots) and answers
 *     from them.
 * A missing key reads as the empty string, a counter as its number.  A
 * source or LCS key with siblings answers the siblings error (no silent
 * pick); one holding a hash, set or sorted set answers WRONGTYPE (LCS:
 * Redis's "The specified keys must contain string values").
 *
 * Owns: the per-command parameters (struct bit_params, struct bf_params,
 * struct bitop), heap copies since argv is gone once the handler returns.
 *
 * Invariants:
 *   - Argument errors are answered by the handler before anything is read
 *     or forwarded, worded as Redis 7 words them.
 *   - No value grows past str_max_len (proto-max-bulk-len, capped at what
 *     a struct val holds): SETBIT's and BITFIELD's offsets are refused
 *     before anything is read when the bytes they reach would not fit
 *     (BITFIELD checks the last byte of each written field, so it refuses
 *     up to 8 bytes below Redis's limit, which checks the first).
 *   - A write that changes no byte (SETBIT of the bit already there,
 *     BITFIELD SET of the same value) writes nothing: no new version, no
 *     write quorum spent.
 *   - LCS's work is bounded as Redis bounds it: the table it would need,
 *     (len1 + 1) x (len2 + 1) x 4 bytes, may not exceed proto-max-bulk-len;
 *     the table is allocated with a failure check (an error, not an abort).
 *
 * Callers: cmd.c (cmd_bits_table).  decide() and fmt() run in event-loop
 * callbacks and never block; values are rebuilt whole (struct val is
 * immutable), so SETBIT and BITFIELD writes cost O(value length) each.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_string_priv.h"
#include "cmd/defer.h"
#include "cmd/kv_op.h"
#include "cmd/typed.h"
#include "core/bits.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"
#include "util/val.h"

/* Error texts, worded as Redis 7 words them (without the "ERR " code). */
static const char BIT_ERR_OFFSET[] = "bit offset is not an integer or out of range";
static const char BIT_ERR_BIT[] = "bit is not an integer or out of range";
static const char BIT_ERR_POS_BIT[] = "The bit argument must be 1 or 0.";
static const char BIT_ERR_TYPE[] =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 "
    "is.";
static const char BIT_ERR_OVERFLOW[] = "Invalid OVERFLOW type specified";
static const char BIT_ERR_RO[] = "BITFIELD_RO only supports the GET subcommand";
static const char BIT_ERR_NOT[] = "BITOP NOT must be called with a single source key.";

/* A value of len bytes (len >= old's length): old's bytes, then zeros.
 * The caller fills it before anyone else holds it. */
static struct val *grown_copy(const struct val *old, size_t len)
{
    struct val *v = val_alloc(len);
    if (old && old->len)
        memcpy(v->data, old->data, old->len);
    return v;
}

/* A bit offset (BITFIELD: "#n" means n fields of width bits when width >
 * 0) whose bytes up to bit off + span - 1 fit in a value of max_len bytes.
 * False when it is not an integer, negative or too far. */
static bool parse_offset(const struct arg *a, unsigned width, unsigned span, long long max_len,
                         uint64_t *off)
{
    struct arg num = *a;
    bool fields = width > 0 && a->len > 0 && a->p[0] == '#';
    if (fields) {
        num.p++;
        num.len--;
    }
    long long v;
    if (!cmd_arg_ll(&num, &v) || v < 0)
        return false;
    if (fields && __builtin_mul_overflow(v, (long long)width, &v))
        return false;
    if (span == 0)
        span = 1;
    if ((unsigned long long)v > ULLONG_MAX - span ||
        ((unsigned long long)v + span - 1) >> 3 >= (unsigned long long)max_len)
        return false;
    *off = (uint64_t)v;
    return true;
}

/* ---- SETBIT key offset 0|1 / GETBIT key offset ---- */

struct bit_params {
    uint64_t off;
    int bit;
};

static void setbit_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                          struct cmd_rmw_out *out)
{
    (void)proto;
    const struct bit_params *p = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    const struct val *old = live ? live->val : NULL;
    size_t olen = old ? old->len : 0;
    int was = old ? bits_get_bit((const uint8_t *)old->data, olen, p->off) : 0;
    resp_add_int(&out->reply, was);
    size_t need = (size_t)(p->off >> 3) + 1;
    if (old && need <= olen && was == p->bit)
        return; /* nothing changes */
    struct val *v = grown_copy(old, need > olen ? need : olen);
    uint8_t m = (uint8_t)(1u << (7 - (p->off & 7)));
    if (p->bit)
        v->data[p->off >> 3] = (char)((uint8_t)v->data[p->off >> 3] | m);
    else
        v->data[p->off >> 3] = (char)((uint8_t)v->data[p->off >> 3] & (uint8_t)~m);
    str_write_val(out, v, live ? live->expire_ms : 0);
}

static void cmd_setbit(struct client *c, int argc, const struct arg *argv)
{
    struct bit_params p;
    if (!parse_offset(&argv[2], 0, 1, str_max_len(c), &p.off)) {
        cmd_reply_err(c, BIT_ERR_OFFSET);
        return;
    }
    long long b;
    if (!cmd_arg_ll(&argv[3], &b) || (b != 0 && b != 1)) {
        cmd_reply_err(c, BIT_ERR_BIT);
        return;
    }
    p.bit = (int)b;
    cmd_rmw(c, argc, argv, &argv[1], setbit_decide, mem_memdup(&p, sizeof(p)), mem_free);
}

static void getbit_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    (void)proto;
    const struct bit_params *p = arg;
    const struct version *live;
    if (str_read_current(set, now, out, &live))
        resp_add_int(out, live ? bits_get_bit((const uint8_t *)live->val->data,
                                              live->val->len, p->off)
                               : 0);
}

static void cmd_getbit(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct bit_params p = {0, 0};
    if (!parse_offset(&argv[2], 0, 1, str_max_len(c), &p.off)) {
        cmd_reply_err(c, BIT_ERR_OFFSET);
        return;
    }
    cmd_read(c, &argv[1], getbit_fmt, mem_memdup(&p, sizeof(p)), mem_free);
}

/* ---- BITCOUNT key [start end [BYTE|BIT]] / BITPOS key bit [start [end [BYTE|BIT]]] ---- */

struct range_params {
    long long start, end;
    bool has_start, has_end;
    bool in_bits;
    int bit; /* BITPOS */
};

/* Parses start, end and the unit from argv[from..argc); false = replied. */
static bool parse_range(struct client *c, int argc, const struct arg *argv, int from,
                        struct range_params *rp)
{
    if (argc > from) {
        if (!cmd_arg_ll(&argv[from], &rp->start)) {
            cmd_reply_not_int(c);
            return false;
        }
        rp->has_start = true;
    }
    if (argc > from + 1) {
        if (!cmd_arg_ll(&argv[from + 1], &rp->end)) {
            cmd_reply_not_int(c);
            return false;
        }
        rp->has_end = true;
    }
    if (argc > from + 2) {
        if (cmd_arg_eq(&argv[from + 2], "BIT")) {
            rp->in_bits = true;
        } else if (!cmd_arg_eq(&argv[from + 2], "BYTE")) {
            cmd_reply_syntax(c);
            return false;
        }
    }
    return true;
}

static void bitcount_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                         struct buf *out)
{
    (void)proto;
    const struct range_params *rp = arg;
    const struct version *live;
    if (!str_read_current(set, now, out, &live))
        return;
    if (!live) {
        resp_add_int(out, 0);
        return;
    }
    long long start = rp->has_start ? rp->start : 0, end = rp->has_start ? rp->end : -1;
    uint64_t first, last;
    /* Redis: two negative indexes the wrong way round count nothing */
    if ((start < 0 && end < 0 && start > end) ||
        !bits_range(start, end, rp->in_bits, live->val->len, &first, &last)) {
        resp_add_int(out, 0);
        return;
    }
    resp_add_int(out, (long long)bits_count((const uint8_t *)live->val->data, first, last));
}

static void cmd_bitcount(struct client *c, int argc, const struct arg *argv)
{
    struct range_params rp;
    memset(&rp, 0, sizeof(rp));
    if (argc == 3 || argc > 5) {
        cmd_reply_syntax(c);
        return;
    }
    if (!parse_range(c, argc, argv, 2, &rp))
        return;
    cmd_read(c, &argv[1], bitcount_fmt, mem_memdup(&rp, sizeof(rp)), mem_free);
}

static void bitpos_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    (void)proto;
    const struct range_params *rp = arg;
    const struct version *live;
    if (!str_read_current(set, now, out, &live))
        return;
    if (!live) { /* an endless run of zeros */
        resp_add_int(out, rp->bit ? -1 : 0);
        return;
    }
    long long start = rp->has_start ? rp->start : 0, end = rp->has_end ? rp->end : -1;
    uint64_t first, last;
    if (!bits_range(start, end, rp->in_bits, live->val->len, &first, &last)) {
        resp_add_int(out, -1);
        return;
    }
    int64_t pos = bits_pos((const uint8_t *)live->val->data, rp->bit, first, last);
    /* Without an end the string reads as followed by zeros, as Redis has it */
    if (pos < 0 && rp->bit == 0 && !rp->has_end)
        pos = (int64_t)last + 1;
    resp_add_int(out, pos);
}

static void cmd_bitpos(struct client *c, int argc, const struct arg *argv)
{
    struct range_params rp;
    memset(&rp, 0, sizeof(rp));
    long long bit;
    if (!cmd_arg_ll(&argv[2], &bit)) {
        cmd_reply_not_int(c);
        return;
    }
    if (bit != 0 && bit != 1) {
        cmd_reply_err(c, BIT_ERR_POS_BIT);
        return;
    }
    rp.bit = (int)bit;
    if (argc > 6) {
        cmd_reply_syntax(c);
        return;
    }
    if (!parse_range(c, argc, argv, 3, &rp))
        return;
    cmd_read(c, &argv[1], bitpos_fmt, mem_memdup(&rp, sizeof(rp)), mem_free);
}

/* ---- BITFIELD key [GET type offset | SET type offset value |
 *                    INCRBY type offset increment | OVERFLOW WRAP|SAT|FAIL]...
 *      BITFIELD_RO key [GET type offset]... ---- */

enum bf_kind {
    BF_GET = 0,
    BF_SET,
    BF_INCRBY,
    BF_KIND_COUNT
};

struct bf_op {
    enum bf_kind kind;
    enum bits_overflow ov;   /* the OVERFLOW in force when it was given */
    struct bits_type t;
    uint64_t off;
    int64_t v;               /* SET's value, INCRBY's increment */
};

struct bf_params {
    int nops;
    bool writes;             /* any SET or INCRBY */
    uint64_t need;           /* bytes the writes reach */
    struct bf_op ops[];
};

/* The field's reply after op (writing it into p, which holds the bytes the
 * writes reach); *changed when a byte changed. */
static void bf_apply(const struct bf_op *op, uint8_t *p, size_t len, int proto,
                     struct buf *out, bool *changed)
{
    int64_t old = bits_field_get(p, len, op->off, op->t), next;
    if (op->kind == BF_GET) {
        resp_add_int(out, old);
        return;
    }
    if (!bits_field_next(op->t, op->ov, old, op->v, op->kind == BF_SET, &next)) {
        resp_add_null(out, proto); /* OVERFLOW FAIL: nothing written */
        return;
    }
    resp_add_int(out, op->kind == BF_SET ? old : next);
    if (next != old) {
        bits_field_put(p, op->off, op->t, next);
        *changed = true;
    }
}

static void bitfield_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                            struct cmd_rmw_out *out)
{
    const struct bf_params *bp = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    const struct val *old = live ? live->val : NULL;
    size_t olen = old ? old->len : 0;
    size_t len = bp->need > olen ? (size_t)bp->need : olen;
    struct val *v = grown_copy(old, len);
    bool changed = !old || len != olen; /* Redis creates the key even if every op fails */
    resp_add_array(&out->reply, bp->nops);
    for (int i = 0; i < bp->nops; i++)
        bf_apply(&bp->ops[i], (uint8_t *)v->data, len, proto, &out->reply, &changed);
    if (changed)
        str_write_val(out, v, live ? live->expire_ms : 0);
    else
        val_unref(v);
}

static void bitfield_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                         struct buf *out)
{
    const struct bf_params *bp = arg;
    const struct version *live;
    if (!str_read_current(set, now, out, &live))
        return;
    const uint8_t *p = live ? (const uint8_t *)live->val->data : NULL;
    size_t len = live ? live->val->len : 0;
    resp_add_array(out, bp->nops);
    for (int i = 0; i < bp->nops; i++)
        resp_add_int(out, bits_field_get(p, len, bp->ops[i].off, bp->ops[i].t));
    (void)proto;
}

/* Parses the subcommands into new params (mem_free); NULL = replied. */
static struct bf_params *bitfield_parse(struct client *c, int argc, const struct arg *argv)
{
    long long max_len = str_max_len(c);
    struct bf_params *bp = mem_calloc(1, sizeof(*bp) + (size_t)argc / 3 * sizeof(struct bf_op));
    enum bits_overflow ov = BITS_OV_WRAP;
    const char *err = NULL;
    for (int i = 2; i < argc && !err; i++) {
        int left = argc - i - 1;
        struct bf_op op = {BF_GET, ov, {false, 0}, 0, 0};
        if (cmd_arg_eq(&argv[i], "GET") && left >= 2) {
            op.kind = BF_GET;
        } else if (cmd_arg_eq(&argv[i], "SET") && left >= 3) {
            op.kind = BF_SET;
        } else if (cmd_arg_eq(&argv[i], "INCRBY") && left >= 3) {
            op.kind = BF_INCRBY;
        } else if (cmd_arg_eq(&argv[i], "OVERFLOW") && left >= 1) {
            const struct arg *a = &argv[++i];
            if (cmd_arg_eq(a, "WRAP"))
                ov = BITS_OV_WRAP;
            else if (cmd_arg_eq(a, "SAT"))
                ov = BITS_OV_SAT;
            else if (cmd_arg_eq(a, "FAIL"))
                ov = BITS_OV_FAIL;
            else
                err = BIT_ERR_OVERFLOW;
            continue;
        } else {
            err = "syntax error";
            break;
        }
        if (!bits_type_parse(argv[i + 1].p, argv[i + 1].len, &op.t)) {
            err = BIT_ERR_TYPE;
            break;
        }
        /* a read may start anywhere a value could reach; a write must end there */
        if (!parse_offset(&argv[i + 2], op.t.width, op.kind == BF_GET ? 1 : op.t.width,
                          max_len, &op.off)) {
            err = BIT_ERR_OFFSET;
            break;
        }
        if (op.kind != BF_GET) {
            long long v;
            if (!cmd_arg_ll(&argv[i + 3], &v)) {
                err = "value is not an integer or out of range";
                break;
            }
            op.v = v;
            bp->writes = true;
            uint64_t end = ((op.off + op.t.width - 1) >> 3) + 1;
            if (end > bp->need)
                bp->need = end;
        }
        bp->ops[bp->nops++] = op;
        i += op.kind == BF_GET ? 2 : 3;
    }
    if (err) {
        cmd_reply_err(c, err);
        mem_free(bp);
        return NULL;
    }
    return bp;
}

static void cmd_bitfield(struct client *c, int argc, const struct arg *argv)
{
    struct bf_params *bp = bitfield_parse(c, argc, argv);
    if (!bp)
        return;
    if (bp->writes)
        cmd_rmw(c, argc, argv, &argv[1], bitfield_decide, bp, mem_free);
    else /* GETs only: a read, as Redis does it */
        cmd_read(c, &argv[1], bitfield_fmt, bp, mem_free);
}

static void cmd_bitfield_ro(struct client *c, int argc, const struct arg *argv)
{
    struct bf_params *bp = bitfield_parse(c, argc, argv);
    if (!bp)
        return;
    if (bp->writes) {
        cmd_reply_err(c, BIT_ERR_RO);
        mem_free(bp);
        return;
    }
    cmd_read(c, &argv[1], bitfield_fmt, bp, mem_free);
}

/* ---- reading several keys (BITOP's sources, LCS's two keys) ---- */

/* The live value of a read slot, a new reference (*v = NULL for a missing
 * key; a counter reads as its number): false (the error replied into out)
 * when the read failed, the key has siblings, or it holds a hash, set or
 * sorted set (typed_err, or WRONGTYPE when NULL). */
static bool slot_value(const struct op_slot *s, int64_t now, struct client *c,
                       const char *typed_err, struct val **v)
{
    *v = NULL;
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return false;
    }
    const struct version *agreed = sib_agreed(&s->set);
    if (s->set.n > 1 && !agreed) {
        cmd_reply_siblings(c, s->set.n);
        return false;
    }
    if (!agreed || !version_live(agreed, now))
        return true;
    if (!val_is_typed(agreed->val)) {
        *v = val_ref(agreed->val);
        return true;
    }
    *v = typed_counter_string(agreed->val);
    if (*v)
        return true;
    if (typed_err)
        cmd_reply_err(c, typed_err);
    else
        typed_reply_wrongtype(&c->out);
    return false;
}

/* ---- BITOP AND|OR|XOR|NOT destkey srckey [srckey ...] ---- */

/* The command's state: an outer deferred reply (the client's), and inside
 * it an op reading the sources whose reply is redirected to bitop_read_done
 * (as EXEC redirects the commands it runs). */
struct bitop {
    struct defer k;
    enum bits_op op;
    char *dst;
    size_t dlen;
    struct val *result; /* NULL: empty (the destination is deleted) */
    size_t len;         /* the result's length, the reply */
};

static void bitop_fini(struct defer *k)
{
    struct bitop *b = (struct bitop *)k;
    mem_free(b->dst);
    val_unref(b->result);
}

/* Every source read: computes the result into b (op->extra), or replies an
 * error (which bitop_read_done passes on). */
static void bitop_compute(struct op *op, struct client *c)
{
    struct bitop *b = op->extra;
    int64_t now = clock_now_ms();
    int n = op->nslots;
    const uint8_t **src = mem_calloc((size_t)n, sizeof(*src));
    size_t *len = mem_calloc((size_t)n, sizeof(*len));
    struct val **vals = mem_calloc((size_t)n, sizeof(*vals));
    size_t maxlen = 0;
    for (int i = 0; i < n; i++) {
        if (!slot_value(&op->slots[i], now, c, NULL, &vals[i]))
            goto out;
        const struct val *v = vals[i];
        src[i] = v ? (const uint8_t *)v->data : NULL;
        len[i] = v ? v->len : 0;
        if (len[i] > maxlen)
            maxlen = len[i];
    }
    if (maxlen > 0) {
        b->result = val_alloc(maxlen);
        bits_combine(b->op, src, len, (size_t)n, (uint8_t *)b->result->data, maxlen);
    }
    b->len = maxlen;
    cmd_reply_ok(c);
out:
    for (int i = 0; i < n; i++)
        val_unref(vals[i]);
    mem_free(vals);
    mem_free(src);
    mem_free(len);
}

static void bitop_write_done(void *arg, const char *reply, size_t len)
{
    struct bitop *b = arg;
    if (len > 0 && reply[0] == '-')
        buf_put(&b->k.out, reply, len);
    else
        resp_add_int(&b->k.out, (long long)b->len);
    defer_release(&b->k);
}

static void bitop_read_done(void *arg, const char *reply, size_t len)
{
    struct bitop *b = arg;
    if (len > 0 && reply[0] == '-') {
        buf_put(&b->k.out, reply, len);
        defer_release(&b->k);
        return;
    }
    /* Redis stores the result as a plain string (no TTL) or deletes the
     * destination when every source is empty. */
    if (b->result) {
        struct arg argv[3] = {{"SET", 3}, {b->dst, b->dlen}, {b->result->data, b->result->len}};
        defer_call(b->k.node, 3, argv, bitop_write_done, b);
    } else {
        struct arg argv[2] = {{"DEL", 3}, {b->dst, b->dlen}};
        defer_call(b->k.node, 2, argv, bitop_write_done, b);
    }
}

static void cmd_bitop(struct client *c, int argc, const struct arg *argv)
{
    enum bits_op bop;
    if (!bits_op_parse(argv[1].p, argv[1].len, &bop)) {
        cmd_reply_syntax(c);
        return;
    }
    if (bop == BITS_NOT && argc != 4) {
        cmd_reply_err(c, BIT_ERR_NOT);
        return;
    }
    struct bitop *b = defer_create(sizeof(*b), c, NULL, bitop_fini);
    b->op = bop;
    b->dst = mem_memdup(argv[2].p, argv[2].len);
    b->dlen = argv[2].len;
    defer_hold_open(&b->k); /* until the write answered */
    struct defer_to to = {.done = bitop_read_done, .arg = b, .taken = false};
    struct defer_to *outer = c->defer_to;
    c->defer_to = &to; /* the reads' op takes it: its reply goes to bitop_read_done */
    struct op *op = op_create(c, argc - 3, bitop_compute);
    c->defer_to = outer;
    op->extra = b;
    defer_launch_all(&op->d, argc - 3, argc - 3, argv + 3, op_launch_read);
    op_dispatched(op, c);
    defer_dispatched(&b->k, c);
}

/* ---- LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] ---- */

#define LCS_O_LEN (1 << 0)       /* LEN: the length only */
#define LCS_O_IDX (1 << 1)       /* IDX: the matching runs */
#define LCS_O_WITHLEN (1 << 2)   /* WITHMATCHLEN: each run's length too */

/* op->flags: LCS_O_*; op->count: MINMATCHLEN (kept in the op: nothing to
 * free when the client goes away before the reply). */
static void lcs_reply(struct op *op, struct client *c, const struct val *va,
                      const struct val *vb);

static void lcs_done(struct op *op, struct client *c)
{
    int64_t now = clock_now_ms();
    struct val *va = NULL, *vb = NULL;
    static const char typed_err[] = "The specified keys must contain string values";
    if (slot_value(&op->slots[0], now, c, typed_err, &va) &&
        slot_value(&op->slots[1], now, c, typed_err, &vb))
        lcs_reply(op, c, va, vb);
    val_unref(va);
    val_unref(vb);
}

static void lcs_reply(struct op *op, struct client *c, const struct val *va,
                      const struct val *vb)
{
    const uint8_t *a = va ? (const uint8_t *)va->data : (const uint8_t *)"";
    const uint8_t *b = vb ? (const uint8_t *)vb->data : (const uint8_t *)"";
    uint32_t alen = va ? va->len : 0, blen = vb ? vb->len : 0;
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        cmd_reply_err(c, "String too long for LCS");
        return;
    }
    if (lcs_table_bytes(alen, blen) > (uint64_t)str_max_len(c)) {
        cmd_reply_err(c, "Insufficient memory, transient memory for LCS exceeds "
                         "proto-max-bulk-len");
        return;
    }
    unsigned flags = (op->flags & LCS_O_IDX) ? LCS_F_IDX : (op->flags & LCS_O_LEN) ? 0 : LCS_F_STR;
    struct lcs l;
    if (!lcs_compute(a, alen, b, blen, flags, (uint64_t)op->count, &l)) {
        cmd_reply_err(c, "Insufficient memory, failed allocating transient memory for LCS");
        return;
    }
    if (op->flags & LCS_O_IDX) {
        bool withlen = op->flags & LCS_O_WITHLEN;
        resp_add_map(&c->out, c->proto, 2);
        resp_add_cstr(&c->out, "matches");
        resp_add_array(&c->out, (long long)l.nmatches);
        for (size_t i = 0; i < l.nmatches; i++) {
            const struct lcs_match *m = &l.matches[i];
            resp_add_array(&c->out, withlen ? 3 : 2);
            resp_add_array(&c->out, 2);
            resp_add_int(&c->out, m->a0);
            resp_add_int(&c->out, m->a1);
            resp_add_array(&c->out, 2);
            resp_add_int(&c->out, m->b0);
            resp_add_int(&c->out, m->b1);
            if (withlen)
                resp_add_int(&c->out, (long long)(m->a1 - m->a0) + 1);
        }
        resp_add_cstr(&c->out, "len");
        resp_add_int(&c->out, l.len);
    } else if (op->flags & LCS_O_LEN) {
        resp_add_int(&c->out, l.len);
    } else {
        resp_add_bulk(&c->out, l.str, l.len);
    }
    lcs_fini(&l);
}

static void cmd_lcs(struct client *c, int argc, const struct arg *argv)
{
    int flags = 0;
    long long minlen = 0;
    for (int i = 3; i < argc; i++) {
        if (cmd_arg_eq(&argv[i], "IDX")) {
            flags |= LCS_O_IDX;
        } else if (cmd_arg_eq(&argv[i], "LEN")) {
            flags |= LCS_O_LEN;
        } else if (cmd_arg_eq(&argv[i], "WITHMATCHLEN")) {
            flags |= LCS_O_WITHLEN;
        } else if (cmd_arg_eq(&argv[i], "MINMATCHLEN") && i + 1 < argc) {
            if (!cmd_arg_ll(&argv[++i], &minlen)) {
                cmd_reply_not_int(c);
                return;
            }
            if (minlen < 0)
                minlen = 0;
        } else {
            cmd_reply_syntax(c);
            return;
        }
    }
    if ((flags & LCS_O_LEN) && (flags & LCS_O_IDX)) {
        cmd_reply_err(c, "If you want both the length and indexes, please just use IDX.");
        return;
    }
    struct op *op = op_create(c, 2, lcs_done);
    op->flags = flags;
    op->count = minlen;
    op_read(op, 0, &argv[1], 0);
    op_read(op, 1, &argv[2], 0);
    op_dispatched(op, c);
}

/* ---- the table (arity, flags, key positions and since as Redis 7) ---- */

const struct cmd_def cmd_bits_table[] = {
    {"setbit", 4, CMD_F_WRITE, 1, 1, 1, cmd_setbit, "bitmap",
     "Sets or clears the bit at offset of the string value. Creates the key if it doesn't "
     "exist.",
     "key offset value", "2.2.0"},
    {"getbit", 3, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_getbit, "bitmap",
     "Returns a bit value by offset.", "key offset", "2.2.0"},
    {"bitcount", -2, CMD_F_READONLY, 1, 1, 1, cmd_bitcount, "bitmap",
     "Counts the number of set bits (population counting) in a string.",
     "key range?(start end) unit?(BYTE|BIT)", "2.6.0"},
    {"bitpos", -3, CMD_F_READONLY, 1, 1, 1, cmd_bitpos, "bitmap",
     "Finds the first set (1) or clear (0) bit in a string.",
     "key bit start? end? unit?(BYTE|BIT)", "2.8.7"},
    {"bitop", -4, CMD_F_WRITE, 2, -1, 1, cmd_bitop, "bitmap",
     "Performs bitwise operations on multiple strings, and stores the result (reads the "
     "sources, then sets the destination: not atomic across keys).",
     "operation(AND|OR|XOR|NOT) destkey key+", "2.6.0"},
    {"bitfield", -2, CMD_F_WRITE, 1, 1, 1, cmd_bitfield, "bitmap",
     "Performs arbitrary bitfield integer operations on strings.",
     "key get*(GET encoding-offset) set*(SET encoding-offset-value) "
     "incrby*(INCRBY encoding-offset-increment) overflow*(OVERFLOW WRAP-SAT-FAIL)",
     "3.2.0"},
    {"bitfield_ro", -2, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_bitfield_ro, "bitmap",
     "Performs arbitrary read-only bitfield integer operations on strings.",
     "key get*(GET encoding-offset)", "6.0.0"},
    {"lcs", -3, CMD_F_READONLY, 1, 2, 1, cmd_lcs, "string",
     "Finds the longest common substring.",
     "key key len?(LEN) idx?(IDX) min-match-len?(MINMATCHLEN len) "
     "withmatchlen?(WITHMATCHLEN)",
     "7.0.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
