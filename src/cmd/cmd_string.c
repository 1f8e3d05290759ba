/* cmd_string.c — the Redis string family beyond GET/SET (APPEND, INCR...,
 * GETRANGE, SETRANGE, GETDEL, GETEX...).  Writes are read-modify-writes at
 * the key's coordinator (cmd_rmw); reads are quorum reads (cmd_read).  The
 * expiry commands (EXPIRE family, TTL family, PERSIST) are in cmd_expire.c.
 *
 * Owns: the per-command parameters (struct str_params, struct range_params)
 * that a handler parses from argv and hands to its decide()/fmt() callback;
 * they are heap copies because argv points into the connection's query
 * buffer and is gone once the handler returns.  struct str_params and its
 * helpers (str_params_new/free, str_read_current, str_write_val,
 * str_max_len) are shared with cmd_expire.c and cmd_bits.c through
 * cmd_string_priv.h.
 *
 * Invariants:
 *   - Every argument error is answered by the handler, before anything is
 *     read or forwarded, in the order Redis 7 checks them; decide() only
 *     sees well-formed parameters and answers what depends on the value.
 *   - decide() writes nothing (CMD_RMW_NONE) when the command would not
 *     change the key (GETEX PERSIST without a TTL, SETRANGE/APPEND of
 *     nothing on an existing key, INCRBY 0 ...), so such
 *     commands cost no write quorum and create no new version.
 *   - A key with siblings is refused with the same error GET gives by every
 *     command that needs to know "the" value (cmd_rmw_current).  SETEX and
 *     SETNX behave like SET EX and SET NX: a blind SETEX supersedes the
 *     siblings, SETNX sees the key as existing.
 *   - Expiry times are absolute unix ms; 0 means none and is never stored
 *     as a time (a time at or before now deletes the key instead).
 *
 * Callers: cmd.c dispatches through cmd_string_table; cmd_expire.c calls
 * the cmd_string_priv.h helpers.  decide() and fmt()
 * run in event-loop callbacks and never block; values are rebuilt whole
 * (struct val is immutable), so APPEND and SETRANGE cost O(length) each.
 *
 * Not here: MSETNX (it needs atomicity across keys that have different
 * coordinators: it answers "unknown command"); the bit commands and LCS
 * (cmd_bits.c).
 */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_string_priv.h"
#include "cmd/typed.h"
#include "cmd/node.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"
#include "util/val.h"

/* Error texts, worded as Redis 7 words them (without the "ERR " code). */
static const char STR_ERR_NOT_INT[] = "value is not an integer or out of range";
static const char STR_ERR_NOT_FLOAT[] = "value is not a valid float";
static const char STR_ERR_OVERFLOW[] = "increment or decrement would overflow";
static const char STR_ERR_NAN[] = "increment would produce NaN or Infinity";
static const char STR_ERR_TOO_BIG[] = "string exceeds maximum allowed size (proto-max-bulk-len)";
static const char STR_ERR_OFFSET[] = "offset is out of range";

/* Returns new params (free with str_params_free); value (borrowed) is copied
 * when not NULL.  NULL (with the error replied) when value is longer than
 * a value may be: the parser bounds it by proto-max-bulk-len already, but
 * that may be configured past the 4 GB a struct val holds. */
long long str_max_len(const struct client *c)
{
    long long lim = c->node->cfg.proto_max_bulk_len;
    return lim > (long long)UINT32_MAX ? (long long)UINT32_MAX : lim;
}

struct str_params *str_params_new(struct client *c, const struct arg *value)
{
    long long lim = str_max_len(c);
    if (value && (long long)value->len > lim) {
        cmd_reply_err(c, STR_ERR_TOO_BIG);
        return NULL;
    }
    struct str_params *p = mem_calloc(1, sizeof(*p));
    p->max_len = lim;
    if (value)
        p->val = val_create(value->p, value->len);
    return p;
}

void str_params_free(void *arg)
{
    struct str_params *p = arg;
    if (!p)
        return;
    val_unref(p->val);
    mem_free(p);
}

/* ---- helpers shared by decide() and fmt() ---- */

static void add_err(struct buf *b, const char *msg)
{
    resp_add_error(b, "ERR", msg);
}

/* cmd_rmw_current for a read: the same siblings error, into a reply buffer
 * (moved into a cmd_rmw_out and back, so the wording lives in one place). */
bool str_read_current(const struct sibset *set, int64_t now, struct buf *reply,
                      const struct version **live)
{
    struct cmd_rmw_out o = {.action = CMD_RMW_NONE, .val = NULL, .expire_ms = 0,
                            .reply = *reply};
    bool ok = cmd_rmw_current(set, now, &o, live);
    *reply = o.reply;
    return ok;
}

/* Makes out write v (reference taken) with expiry expire_ms. */
void str_write_val(struct cmd_rmw_out *out, struct val *v, int64_t expire_ms)
{
    out->action = CMD_RMW_WRITE;
    out->val = v;
    out->expire_ms = expire_ms;
}

/* A new value: old (may be NULL) overwritten at off by add, zero-padded
 * when off is past its end.  The caller checked off + add->len against the
 * size limit.  A value that grows is built in a scratch buffer, because
 * val_create copies its bytes from somewhere (two copies: val.h has no
 * "allocate n bytes to fill"); one that does not grow is copied once and
 * patched before anyone else holds it. */
static struct val *splice(const struct val *old, size_t off, const struct val *add)
{
    size_t olen = old ? old->len : 0;
    size_t end = off + add->len;
    if (old && end <= olen) {
        struct val *v = val_create(old->data, olen);
        memcpy(v->data + off, add->data, add->len);
        return v;
    }
    size_t n = end > olen ? end : olen;
    char *tmp = mem_alloc(n ? n : 1);
    if (olen)
        memcpy(tmp, old->data, olen);
    if (off > olen)
        memset(tmp + olen, 0, off - olen);
    if (add->len)
        memcpy(tmp + off, add->data, add->len);
    struct val *v = val_create(tmp, n);
    mem_free(tmp);
    return v;
}

/* A stored value as a 64-bit integer, as strictly as Redis (no spaces, no
 * '+', no leading zeros). */
static bool val_ll(const struct val *v, long long *out)
{
    struct arg a = {v->data, v->len};
    return cmd_arg_ll(&a, out);
}

/* Redis's getExpireMillisecondsOrReply for SETEX, PSETEX and GETEX: a
 * positive time, in seconds when secs, relative to now when relative.
 * Returns NULL and *when = absolute unix ms, or the error text (without
 * "ERR "; STR_ERR_NOT_INT or a static "invalid expire time" for cmd). */
static const char *parse_set_expire(const struct arg *a, bool secs, bool relative,
                                    const char *bad, int64_t *when)
{
    long long v;
    if (!cmd_arg_ll(a, &v))
        return STR_ERR_NOT_INT;
    if (v <= 0 || (secs && v > LLONG_MAX / 1000))
        return bad;
    if (secs)
        v *= 1000;
    if (relative) {
        int64_t now = clock_now_ms();
        if (v > LLONG_MAX - now)
            return bad;
        v += now;
    }
    *when = v;
    return NULL;
}

/* ---- APPEND key value ---- */

static void append_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                          struct cmd_rmw_out *out)
{
    (void)proto;
    const struct str_params *p = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    if (!live) { /* Redis creates the key even for an empty value */
        resp_add_int(&out->reply, p->val->len);
        str_write_val(out, val_ref(p->val), 0);
        return;
    }
    size_t olen = live->val->len;
    if ((long long)olen + p->val->len > p->max_len) {
        add_err(&out->reply, STR_ERR_TOO_BIG);
        return;
    }
    resp_add_int(&out->reply, (long long)(olen + p->val->len));
    if (p->val->len > 0) /* the TTL is kept, as Redis keeps it */
        str_write_val(out, splice(live->val, olen, p->val), live->expire_ms);
}

static void cmd_append(struct client *c, int argc, const struct arg *argv)
{
    struct str_params *p = str_params_new(c, &argv[2]);
    if (p)
        cmd_rmw(c, argc, argv, &argv[1], append_decide, p, str_params_free);
}

/* ---- SETRANGE key offset value ---- */

static void setrange_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                            struct cmd_rmw_out *out)
{
    (void)proto;
    const struct str_params *p = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    size_t olen = live ? live->val->len : 0;
    if (p->val->len == 0) { /* nothing to set: the current length */
        resp_add_int(&out->reply, (long long)olen);
        return;
    }
    /* offset <= LLONG_MAX and len < 4 GB: the unsigned sum cannot wrap */
    if ((unsigned long long)p->n + p->val->len > (unsigned long long)p->max_len) {
        add_err(&out->reply, STR_ERR_TOO_BIG);
        return;
    }
    struct val *v = splice(live ? live->val : NULL, (size_t)p->n, p->val);
    resp_add_int(&out->reply, v->len);
    str_write_val(out, v, live ? live->expire_ms : 0);
}

static void cmd_setrange(struct client *c, int argc, const struct arg *argv)
{
    long long off;
    if (!cmd_arg_ll(&argv[2], &off)) {
        cmd_reply_not_int(c);
        return;
    }
    if (off < 0) {
        cmd_reply_err(c, STR_ERR_OFFSET);
        return;
    }
    struct str_params *p = str_params_new(c, &argv[3]);
    if (!p)
        return;
    p->n = off;
    cmd_rmw(c, argc, argv, &argv[1], setrange_decide, p, str_params_free);
}

/* ---- INCR / DECR / INCRBY / DECRBY key [n], INCRBYFLOAT key incr ----
 *
 * Counters (issue 14): increments that add up across partitions, not
 * read-modify-writes.  The key becomes a counter state (core/crdt.h,
 * CRDT_COUNTER) whose value is its base (the string it held, if any) plus
 * every coordinator's running total; GET and the other string commands
 * read that value as a string, SET replaces the counter by a string. */

/* The increment of t's command (its syntax was checked by the handler). */
static long long incr_amount(const struct typed_call *t)
{
    long long n = 1;
    if (t->argc > 2)
        cmd_arg_ll(&t->argv[2], &n);
    const struct arg *name = &t->argv[0];
    return name->len >= 4 && (name->p[0] | 0x20) == 'd' ? -n : n;
}

static void incr_fn(struct typed_call *t)
{
    long long by = incr_amount(t);
    const struct val *from = typed_string(t);
    long long cur;
    if (from && !val_ll(from, &cur)) { /* converted only when it is a number */
        add_err(&t->reply, STR_ERR_NOT_INT);
        return;
    }
    if (by == 0 && (from || t->state)) { /* + 0: the value, nothing written */
        struct crdt_num num;
        const struct crdt_elem *el = t->state ? crdt_find(t->state, "", 0) : NULL;
        if (from)
            resp_add_int(&t->reply, cur);
        else if (el && crdt_num(el, CRDT_COUNTER, &num) == 0 && !num.is_float)
            resp_add_int(&t->reply, num.i);
        else
            add_err(&t->reply, STR_ERR_NOT_INT);
        return;
    }
    struct crdt d;
    int64_t res = 0;
    int rc = crdt_incr_int(typed_mut(t), t->actor, "", 0, by, &d, &res);
    typed_took(t, &d);
    if (rc == KV_EOVERFLOW)
        add_err(&t->reply, STR_ERR_OVERFLOW);
    else if (rc)
        add_err(&t->reply, STR_ERR_NOT_INT);
    else
        resp_add_int(&t->reply, res);
}

static void incr_by(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_COUNTER, TYPED_WRITE | TYPED_CONVERT, NULL, 0,
              incr_fn);
}

static void cmd_incr(struct client *c, int argc, const struct arg *argv)
{
    incr_by(c, argc, argv);
}

static void cmd_decr(struct client *c, int argc, const struct arg *argv)
{
    incr_by(c, argc, argv);
}

static void cmd_incrby(struct client *c, int argc, const struct arg *argv)
{
    long long n;
    if (!cmd_arg_ll(&argv[2], &n)) {
        cmd_reply_not_int(c);
        return;
    }
    incr_by(c, argc, argv);
}

static void cmd_decrby(struct client *c, int argc, const struct arg *argv)
{
    long long n;
    if (!cmd_arg_ll(&argv[2], &n)) {
        cmd_reply_not_int(c);
        return;
    }
    if (n == LLONG_MIN) { /* -n does not exist */
        cmd_reply_err(c, "decrement would overflow");
        return;
    }
    incr_by(c, argc, argv);
}

static void incrbyfloat_fn(struct typed_call *t)
{
    long double by, cur;
    crdt_parse_float(t->argv[2].p, t->argv[2].len, &by);
    const struct val *from = typed_string(t);
    if (from && !crdt_parse_float(from->data, from->len, &cur)) {
        add_err(&t->reply, STR_ERR_NOT_FLOAT);
        return;
    }
    struct crdt d;
    long double res = 0;
    struct crdt *st = typed_mut(t);
    int rc = crdt_incr_float(st, t->actor, "", 0, by, &d, &res);
    typed_took(t, &d);
    if (rc) {
        /* the value is not a number, or the result is one Redis refuses
         * (NaN, infinite) */
        const struct crdt_elem *el = t->state ? crdt_find(t->state, "", 0) : NULL;
        struct crdt_num num;
        bool numeric = !el || crdt_num(el, CRDT_COUNTER, &num) == 0;
        add_err(&t->reply, numeric ? STR_ERR_NAN : STR_ERR_NOT_FLOAT);
    } else { /* the value as GET shows it */
        struct buf b;
        buf_init(&b);
        crdt_value(crdt_find(st, "", 0), CRDT_COUNTER, &b);
        resp_add_bulk(&t->reply, b.data ? b.data : "", b.len);
        buf_fini(&b);
    }
}

static void cmd_incrbyfloat(struct client *c, int argc, const struct arg *argv)
{
    long double incr;
    if (!crdt_parse_float(argv[2].p, argv[2].len, &incr)) {
        cmd_reply_err(c, STR_ERR_NOT_FLOAT);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_COUNTER, TYPED_WRITE | TYPED_CONVERT, NULL, 0,
              incrbyfloat_fn);
}

/* ---- SETNX key value / SETEX key seconds value / PSETEX ---- */

/* SET NX: any live version (a sibling too) means the key exists. */
static void setnx_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                         struct cmd_rmw_out *out)
{
    (void)proto;
    const struct str_params *p = arg;
    if (sib_live_count(cur, now) > 0) {
        resp_add_int(&out->reply, 0);
        return;
    }
    resp_add_int(&out->reply, 1);
    str_write_val(out, val_ref(p->val), 0);
}

static void cmd_setnx(struct client *c, int argc, const struct arg *argv)
{
    struct str_params *p = str_params_new(c, &argv[2]);
    if (p)
        cmd_rmw(c, argc, argv, &argv[1], setnx_decide, p, str_params_free);
}

/* SET EX: a blind write that supersedes whatever the key held. */
static void setex_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                         struct cmd_rmw_out *out)
{
    (void)cur;
    (void)now;
    (void)proto;
    const struct str_params *p = arg;
    resp_add_simple(&out->reply, "OK");
    str_write_val(out, val_ref(p->val), p->when_ms);
}

static void setex_common(struct client *c, int argc, const struct arg *argv, bool secs,
                         const char *bad)
{
    int64_t when;
    const char *err = parse_set_expire(&argv[2], secs, true, bad, &when);
    if (err) {
        cmd_reply_err(c, err);
        return;
    }
    struct str_params *p = str_params_new(c, &argv[3]);
    if (!p)
        return;
    p->when_ms = when;
    cmd_rmw(c, argc, argv, &argv[1], setex_decide, p, str_params_free);
}

static void cmd_setex(struct client *c, int argc, const struct arg *argv)
{
    setex_common(c, argc, argv, true, "invalid expire time in 'setex' command");
}

static void cmd_psetex(struct client *c, int argc, const struct arg *argv)
{
    setex_common(c, argc, argv, false, "invalid expire time in 'psetex' command");
}

/* ---- GETSET key value / GETDEL key ---- */

static void getset_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                          struct cmd_rmw_out *out)
{
    const struct str_params *p = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    if (live)
        resp_add_bulk(&out->reply, live->val->data, live->val->len);
    else
        resp_add_null(&out->reply, proto);
    str_write_val(out, val_ref(p->val), 0); /* like SET: the TTL goes */
}

static void cmd_getset(struct client *c, int argc, const struct arg *argv)
{
    struct str_params *p = str_params_new(c, &argv[2]);
    if (p)
        cmd_rmw(c, argc, argv, &argv[1], getset_decide, p, str_params_free);
}

static void getdel_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                          struct cmd_rmw_out *out)
{
    (void)arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    if (!live) {
        resp_add_null(&out->reply, proto);
        return;
    }
    resp_add_bulk(&out->reply, live->val->data, live->val->len);
    out->action = CMD_RMW_DELETE;
}

static void cmd_getdel(struct client *c, int argc, const struct arg *argv)
{
    cmd_rmw(c, argc, argv, &argv[1], getdel_decide, NULL, NULL);
}

/* ---- GETEX key [EX s | PX ms | EXAT ts | PXAT ms-ts | PERSIST] ---- */

static void getex_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                         struct cmd_rmw_out *out)
{
    const struct str_params *p = arg;
    const struct version *live;
    if (!cmd_rmw_current(cur, now, out, &live))
        return;
    if (!live) {
        resp_add_null(&out->reply, proto);
        return;
    }
    if (p->err) {
        add_err(&out->reply, p->err);
        return;
    }
    resp_add_bulk(&out->reply, live->val->data, live->val->len);
    if ((p->opts & STR_O_ABS) && p->when_ms <= now)
        out->action = CMD_RMW_DELETE;
    else if ((p->opts & STR_O_EXPIRE) && p->when_ms != live->expire_ms)
        str_write_val(out, val_ref(live->val), p->when_ms);
    else if ((p->opts & STR_O_PERSIST) && live->expire_ms != 0)
        str_write_val(out, val_ref(live->val), 0);
}

/* Options as Redis parses them: one kind of expiry or PERSIST; the same
 * option may repeat (the last time given counts, and only it is parsed).
 * A syntax error is answered here; a bad time only when the key exists. */
static void cmd_getex(struct client *c, int argc, const struct arg *argv)
{
    static const char *const kinds[] = {"EX", "PX", "EXAT", "PXAT"};
    int kind = -1, at = 0;
    bool persist = false;
    for (int i = 2; i < argc; i++) {
        int k = -1;
        for (int j = 0; j < 4 && k < 0; j++)
            if (cmd_arg_eq(&argv[i], kinds[j]))
                k = j;
        if (k < 0 && cmd_arg_eq(&argv[i], "PERSIST") && kind < 0) {
            persist = true;
        } else if (k >= 0 && !persist && (kind < 0 || kind == k) && i + 1 < argc) {
            kind = k;
            at = ++i;
        } else {
            cmd_reply_syntax(c);
            return;
        }
    }
    int64_t when = 0;
    const char *err = NULL;
    if (kind >= 0)
        err = parse_set_expire(&argv[at], kind == 0 || kind == 2, kind < 2,
                               "invalid expire time in 'getex' command", &when);
    struct str_params *p = str_params_new(c, NULL);
    p->err = err;
    p->when_ms = when;
    p->opts = (persist ? STR_O_PERSIST : 0) | (kind >= 0 ? STR_O_EXPIRE : 0) |
              (kind >= 2 ? STR_O_ABS : 0);
    cmd_rmw(c, argc, argv, &argv[1], getex_decide, p, str_params_free);
}

/* ---- reads: STRLEN, GETRANGE/SUBSTR, TTL family ---- */

static void strlen_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    (void)arg;
    (void)proto;
    const struct version *live;
    if (str_read_current(set, now, out, &live))
        resp_add_int(out, live ? (long long)live->val->len : 0);
}

static void cmd_strlen(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    cmd_read(c, &argv[1], strlen_fmt, NULL, NULL);
}

struct range_params {
    long long start, end;
};

/* Redis's index rules: negative counts from the end, clamped to the
 * string; a missing key reads as the empty string. */
static void getrange_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                         struct buf *out)
{
    (void)proto;
    const struct range_params *rp = arg;
    const struct version *live;
    if (!str_read_current(set, now, out, &live))
        return;
    long long len = live ? (long long)live->val->len : 0;
    long long start = rp->start, end = rp->end;
    if (start < 0 && end < 0 && start > end) {
        resp_add_bulk(out, "", 0);
        return;
    }
    if (start < 0)
        start += len;
    if (end < 0)
        end += len;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= len)
        end = len - 1;
    if (start > end || len == 0)
        resp_add_bulk(out, "", 0);
    else
        resp_add_bulk(out, live->val->data + start, (size_t)(end - start + 1));
}

static void cmd_getrange(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct range_params rp;
    if (!cmd_arg_ll(&argv[2], &rp.start) || !cmd_arg_ll(&argv[3], &rp.end)) {
        cmd_reply_not_int(c);
        return;
    }
    cmd_read(c, &argv[1], getrange_fmt, mem_memdup(&rp, sizeof(rp)), mem_free);
}

/* ---- the table (arity, flags, key positions and since as Redis 7) ---- */

#define STR_WRITE_FAST (CMD_F_WRITE | CMD_F_FAST)
#define STR_READ_FAST (CMD_F_READONLY | CMD_F_FAST)

const struct cmd_def cmd_string_table[] = {
    {"append", 3, STR_WRITE_FAST, 1, 1, 1, cmd_append, "string",
     "Appends a string to the value of a key. Creates the key if it doesn't exist.",
     "key value", "2.0.0"},
    {"setrange", 4, CMD_F_WRITE, 1, 1, 1, cmd_setrange, "string",
     "Overwrites a part of a string value with another by an offset. Creates the key if it "
     "doesn't exist.",
     "key offset value", "2.2.0"},
    {"incr", 2, STR_WRITE_FAST, 1, 1, 1, cmd_incr, "string",
     "Increments the integer value of a key by one. Uses 0 as initial value if the key "
     "doesn't exist.",
     "key", "1.0.0"},
    {"decr", 2, STR_WRITE_FAST, 1, 1, 1, cmd_decr, "string",
     "Decrements the integer value of a key by one. Uses 0 as initial value if the key "
     "doesn't exist.",
     "key", "1.0.0"},
    {"incrby", 3, STR_WRITE_FAST, 1, 1, 1, cmd_incrby, "string",
     "Increments the integer value of a key by a number. Uses 0 as initial value if the key "
     "doesn't exist.",
     "key increment", "1.0.0"},
    {"decrby", 3, STR_WRITE_FAST, 1, 1, 1, cmd_decrby, "string",
     "Decrements a number from the integer value of a key. Uses 0 as initial value if the "
     "key doesn't exist.",
     "key decrement", "1.0.0"},
    {"incrbyfloat", 3, STR_WRITE_FAST, 1, 1, 1, cmd_incrbyfloat, "string",
     "Increment the floating point value of a key by a number. Uses 0 as initial value if "
     "the key doesn't exist.",
     "key increment", "2.6.0"},
    {"setnx", 3, STR_WRITE_FAST, 1, 1, 1, cmd_setnx, "string",
     "Set the string value of a key only when the key doesn't exist.", "key value", "1.0.0"},
    {"setex", 4, CMD_F_WRITE, 1, 1, 1, cmd_setex, "string",
     "Sets the string value and expiration time of a key. Creates the key if it doesn't "
     "exist.",
     "key seconds value", "2.0.0"},
    {"psetex", 4, CMD_F_WRITE, 1, 1, 1, cmd_psetex, "string",
     "Sets both string value and expiration time in milliseconds of a key. The key is "
     "created if it doesn't exist.",
     "key milliseconds value", "2.6.0"},
    {"getset", 3, STR_WRITE_FAST, 1, 1, 1, cmd_getset, "string",
     "Returns the previous string value of a key after setting it to a new value.",
     "key value", "1.0.0"},
    {"getdel", 2, STR_WRITE_FAST, 1, 1, 1, cmd_getdel, "string",
     "Returns the string value of a key after deleting the key.", "key", "6.2.0"},
    {"getex", -2, STR_WRITE_FAST, 1, 1, 1, cmd_getex, "string",
     "Returns the string value of a key after setting its expiration time.",
     "key expiration?(EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT "
     "unix-time-milliseconds|PERSIST)",
     "6.2.0"},
    {"strlen", 2, STR_READ_FAST, 1, 1, 1, cmd_strlen, "string",
     "Returns the length of a string value.", "key", "2.2.0"},
    {"getrange", 4, CMD_F_READONLY, 1, 1, 1, cmd_getrange, "string",
     "Returns a substring of the string stored at a key.", "key start end", "2.4.0"},
    {"substr", 4, CMD_F_READONLY, 1, 1, 1, cmd_getrange, "string",
     "Returns a substring from a string value.", "key start end", "1.0.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
