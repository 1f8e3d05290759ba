/* cmd_kv.c — key commands (GET/SET/DEL/MGET/MSET/EXISTS/TYPE, UNLINK and
 * TOUCH through them, INFO's live-key count), the read-then-write
 * at the coordinator behind SET/DEL/MSET and cmd_rmw, and struct op
 * (kv_op.h), the per-request state of the key commands.
 *
 * A handler either writes its whole reply before it returns, or creates an
 * op: a deferred reply (defer.h) with one result slot per key, answered
 * into the request's reserved slot when its last key completes.  Every
 * coordinator request an op starts counts against its connection's
 * max-inflight-per-client, and multi-key commands launch their keys as
 * earlier ones complete (defer_launch_all).  Read results gathered for a
 * later reply are charged to the client's output limit (defer_hold_bytes).
 * Handlers copy what they keep: argv points into the connection's query
 * buffer.
 *
 * Callers: cmd.c (the table), cmd_string.c, cmd_expire.c and cmd_bits.c (cmd_rmw,
 * cmd_rmw_current; cmd_bits.c also op_* for BITOP's and LCS's reads),
 * cmd_keyspace.c (UNLINK/TOUCH; RENAME/COPY run SET through defer_call),
 * cmd_conn.c (cmd_count_live for INFO), cmd_fwd.c and cmd_vkv.c (op_*).
 * Calls: coord (reads, writes, local loads), cmd_fwd.c (routing and
 * forwarding), defer.c, replica, the store (GET's fast path).
 * Nothing here blocks.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/kv_op.h"
#include "cmd/typed.h"
#include "core/tval.h"
#include "core/config.h"
#include "cluster/coord.h"
#include "util/clock.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

/* ---- struct op (kv_op.h) ---- */

static void op_reply(struct defer *d, struct client *c)
{
    struct op *op = (struct op *)d;
    op->finish(op, c);
}

static void op_fini(struct defer *d)
{
    struct op *op = (struct op *)d;
    for (int i = 0; i < op->nslots; i++) {
        sib_fini(&op->slots[i].set);
        vc_fini(&op->slots[i].vc);
        buf_fini(&op->slots[i].raw);
    }
    val_unref(op->oldval);
    if (op->extra && op->extra_free)
        op->extra_free(op->extra);
}

struct op *op_create(struct client *c, int nslots, op_finish_fn finish)
{
    struct op *op = defer_create(sizeof(*op) + (size_t)nslots * sizeof(struct op_slot), c,
                                 op_reply, op_fini);
    op->finish = finish;
    op->nslots = nslots;
    for (int i = 0; i < nslots; i++) {
        sib_init(&op->slots[i].set);
        vc_init(&op->slots[i].vc);
        buf_init(&op->slots[i].raw);
    }
    return op;
}

void op_dispatched(struct op *op, struct client *c)
{
    defer_dispatched(&op->d, c);
}

bool op_abandoned(struct op *op, int i)
{
    if (!defer_gone(&op->d))
        return false;
    op->slots[i].err = KV_ETIMEDOUT;
    return true;
}

struct op_ref {
    struct op *op;
    int slot;
};

/* Charges a read result to its connection's output limit while the op
 * gathers the rest (a reply built from it comes later). */
static void op_hold_result(struct op *op, const struct sibset *set)
{
    size_t bytes = 0;
    for (uint32_t i = 0; i < set->n; i++)
        if (set->v[i].val)
            bytes += set->v[i].val->len;
    defer_hold_bytes(&op->d, bytes);
}

static void op_read_cb(void *arg, int err, const struct sibset *set)
{
    struct op_ref *ref = arg;
    struct op_slot *s = &ref->op->slots[ref->slot];
    s->err = err;
    struct op *op = ref->op;
    if (!err && set && !defer_gone(&op->d)) {
        sib_merge(&s->set, set);
        op_hold_result(op, set);
    }
    mem_free(ref);
    defer_sub_end(&op->d);
}

static void op_write_cb(void *arg, int err, const struct vclock *vc)
{
    struct op_ref *ref = arg;
    struct op_slot *s = &ref->op->slots[ref->slot];
    s->err = err;
    if (!err && vc)
        vc_copy(&s->vc, vc);
    struct op *op = ref->op;
    mem_free(ref);
    defer_sub_end(&op->d);
}

static struct op_ref *op_ref(struct op *op, int slot)
{
    struct op_ref *r = mem_alloc(sizeof(*r));
    r->op = op;
    r->slot = slot;
    defer_sub_begin(&op->d);
    return r;
}

/* The write half of a read-then-write: the same request in flight, so it
 * is not counted again (its completion ends it). */
static struct op_ref *op_ref_continued(struct op *op, int slot)
{
    struct op_ref *r = mem_alloc(sizeof(*r));
    r->op = op;
    r->slot = slot;
    defer_hold_open(&op->d);
    return r;
}

void op_read(struct op *op, int slot, const struct arg *key, int r)
{
    coord_read(op->d.node->coord, key->p, key->len, r, op->pr, op_read_cb, op_ref(op, slot));
}

void op_write(struct op *op, int slot, const struct arg *key, const struct vclock *ctx,
              struct val *v, int64_t expire_ms, int w)
{
    coord_write(op->d.node->coord, key->p, key->len, ctx, v, expire_ms, w, op->pw, 0,
                COORD_W_CLIENT_CTX, op_write_cb, op_ref(op, slot));
}

/* Reply for a plain read of one reconciled set (GET semantics). */
static void reply_plain_value(struct client *c, const struct op_slot *s)
{
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    int64_t now = clock_now_ms();
    const struct sibset *set = &s->set;
    const struct version *v = sib_agreed(set);
    if (set->n > 1 && !v) {
        c->node->stats.sibling_reads++;
        cmd_reply_siblings(c, set->n);
        return;
    }
    if (v && version_live(v, now) && val_is_typed(v->val)) {
        struct val *cs = typed_counter_string(v->val);
        if (cs) {
            c->node->stats.keyspace_hits++;
            resp_add_bulk(&c->out, cs->data, cs->len);
            val_unref(cs);
        } else {
            typed_reply_wrongtype(&c->out); /* a hash, set, sorted set */
        }
        return;
    }
    if (v && version_live(v, now) && !val_is_typed(v->val)) {
        c->node->stats.keyspace_hits++;
        if (srv_reply_fits(c, v->val->len + 32))
            resp_add_bulk(&c->out, v->val->data, v->val->len);
        return;
    }
    c->node->stats.keyspace_misses++;
    cmd_reply_null(c);
}

/* Keys with at least one value version (tombstone-only keys excluded):
 * the store keeps the count, so INFO costs O(1). */
size_t cmd_count_live(struct store *s)
{
    return store_count_valued(s);
}

/* ---- keyspace commands ---- */

static void get_done(struct op *op, struct client *c)
{
    reply_plain_value(c, &op->slots[0]);
}

static struct val *vr_val(const struct store_entry *e)
{
    struct store_vref vr;
    store_entry_version(e, 0, &vr);
    return vr.val;
}

/* HOT: GET.  With R = 1 and the key held here, answers from the local store
 * without decoding any clock. */
void cmd_get(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct kv_node *n = c->node;
    if (n->cfg.r == 1 && n->cfg.nnodes <= 1) {
        const struct store_entry *e = store_find(n->store, argv[1].p, argv[1].len);
        unsigned nv = e ? store_entry_nversions(e) : 0;
        if (nv == 1) {
            struct store_vref vr;
            store_entry_version(e, 0, &vr);
            if (vr.val && !val_is_typed(vr.val) &&
                (vr.expire_ms == 0 || vr.expire_ms > clock_now_ms())) {
                n->stats.keyspace_hits++;
                if (srv_reply_fits(c, vr.val->len + 32))
                    resp_add_bulk(&c->out, vr.val->data, vr.val->len);
                return;
            }
        }
        if (nv == 0 || (nv == 1 && !val_is_typed(vr_val(e)))) {
            n->stats.keyspace_misses++;
            cmd_reply_null(c);
            return;
        }
        /* siblings: the general path decides whether they agree */
    }
    struct op *op = op_create(c, 1, get_done);
    op_read(op, 0, &argv[1], 0);
    op_dispatched(op, c);
}

static void mget_done(struct op *op, struct client *c)
{
    int64_t now = clock_now_ms();
    /* The whole reply's size first: one that would exceed the output limit
     * is never built (the client is closed instead, as Redis closes a
     * client over its limit). */
    size_t size = 16;
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        const struct version *v = s->err ? NULL : sib_agreed(&s->set);
        size += 16 + (v && version_live(v, now) ? v->val->len : 0); /* typed: 0 */
    }
    if (!srv_reply_fits(c, size))
        return;
    resp_add_array(&c->out, op->nslots);
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        /* MGET has no per-key error slot in Redis: a key that failed or
         * has siblings reads as nil, like a missing key. */
        const struct version *v = s->err ? NULL : sib_agreed(&s->set);
        struct val *cs = v && version_live(v, now) ? typed_counter_string(v->val) : NULL;
        if (cs)
            resp_add_bulk(&c->out, cs->data, cs->len);
        else if (v && version_live(v, now) && !val_is_typed(v->val)) /* other types: nil */
            resp_add_bulk(&c->out, v->val->data, v->val->len);
        else
            cmd_reply_null(c);
        val_unref(cs);
    }
}

void op_launch_read(struct defer *d, int i)
{
    struct op *op = (struct op *)d;
    if (op_abandoned(op, i))
        return;
    op_read(op, i, &op->d.largv[i], 0);
}

void cmd_mget(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, mget_done);
    defer_launch_all(&op->d, argc - 1, argc - 1, argv + 1, op_launch_read);
    op_dispatched(op, c);
}

static void exists_done(struct op *op, struct client *c)
{
    int64_t now = clock_now_ms();
    long long n = 0;
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        if (s->err) {
            cmd_reply_kverr(c, s->err);
            return;
        }
        if (sib_live_count(&s->set, now) > 0)
            n++;
    }
    resp_add_int(&c->out, n);
}

void cmd_exists(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, exists_done);
    defer_launch_all(&op->d, argc - 1, argc - 1, argv + 1, op_launch_read);
    op_dispatched(op, c);
}

static void type_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    enum crdt_type t;
    const struct version *v;
    int k = typed_classify(&s->set, clock_now_ms(), &t, &v);
    resp_add_simple(&c->out, k == TYPED_ABSENT  ? "none"
                             : k == TYPED_STATE ? typed_type_name(t)
                                                : "string");
}

void cmd_type(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct op *op = op_create(c, 1, type_done);
    op_read(op, 0, &argv[1], 0);
    op_dispatched(op, c);
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */

#define SET_NX (1 << 0)
#define SET_XX (1 << 1)
#define SET_GET (1 << 2)
#define SET_KEEPTTL (1 << 3)
#define SET_EXPIRE (1 << 4)
#define SET_CONDITIONAL (SET_NX | SET_XX | SET_GET | SET_KEEPTTL) /* depend on the value */

/* ---- read-then-write at the coordinator ----
 *
 * SET, DEL and MSET first read the key here, then write with what they read
 * as the context, so a plain write supersedes exactly the versions its
 * coordinator knows.  The read is local when this node holds the key; when
 * it does not (a fresh key, or this node restarted empty), it is a quorum
 * read, so a SET through a restarted node still supersedes the value the
 * other replicas kept instead of becoming its sibling. */
enum rmw_mode {
    RMW_SET = 0,   /* write val; SET's conditions in op->flags */
    RMW_DEL,       /* tombstone, only when a live value exists (counted) */
    RMW_CUSTOM,    /* a cmd_rmw_fn decides (string and expiry commands) */
    RMW_MODE_COUNT
};

struct rmw {
    struct op *op;
    int slot;
    enum rmw_mode mode;
    char *key;
    size_t klen;
    struct val *val;
    int64_t expire_ms;
    int64_t start_us;      /* the pre-read and the write share put-timeout */
    bool reading;          /* inside coord_read_for_write: the read was local */
    cmd_rmw_fn decide;     /* RMW_CUSTOM */
    void *params;
    void (*free_params)(void *);
};

static void rmw_read_done(void *arg, int err, const struct sibset *set)
{
    struct rmw *w = arg;
    struct op *op = w->op;
    struct op_slot *s = &op->slots[w->slot];
    int64_t now = clock_now_ms();
    bool wrote = false;
    struct sibset local;
    sib_init(&local);
    /* What the command acts on: what it read, plus — when the read went to
     * other replicas, so time passed — what this coordinator stored since.
     * From here to the stamp nothing yields, so read-modify-write commands
     * of one key are serialised at its coordinator (INCR is exact). */
    if (err) {
        coord_local_load(op->d.node->coord, w->key, w->klen, &local);
        set = &local; /* pre-read missed its quorum: W may still be met */
    } else if (!w->reading) {
        coord_local_load(op->d.node->coord, w->key, w->klen, &local);
        if (local.n > 0) {
            sib_merge(&local, set);
            set = &local;
        }
    }
    unsigned live = sib_live_count(set, now);
    struct val *val = val_ref(w->val);
    int64_t expire_ms = w->expire_ms;
    if (w->mode == RMW_CUSTOM) {
        struct cmd_rmw_out out = {.action = CMD_RMW_NONE, .val = NULL, .expire_ms = 0};
        buf_init(&out.reply);
        w->decide(w->params, set, now, op->d.proto, &out);
        buf_fini(&s->raw);
        s->raw = out.reply;
        s->forwarded = true; /* the reply is in raw */
        if (out.action == CMD_RMW_NONE) {
            val_unref(out.val);
            goto out;
        }
        if (out.action == CMD_RMW_EXPIRE) { /* a typed key's TTL */
            val_unref(out.val);
            int64_t spent_ms = (clock_mono_us() - w->start_us) / 1000;
            int left_ms = op->d.node->cfg.put_timeout_ms - (int)spent_ms;
            typed_set_expiry(op->d.node, w->key, w->klen, out.expire_ms, op->pw,
                             left_ms > 0 ? left_ms : 1, op_write_cb,
                             op_ref_continued(op, w->slot));
            wrote = true;
            goto out;
        }
        val_unref(val);
        val = out.action == CMD_RMW_WRITE ? out.val : (val_unref(out.val), NULL);
        expire_ms = out.expire_ms;
    } else if (w->mode == RMW_DEL) {
        if (live == 0)
            goto out;
        op->count++;
        enum crdt_type tt;
        const struct version *tv;
        if (typed_classify(set, now, &tt, &tv) == TYPED_STATE && set->n == 1 &&
            store_find(op->d.node->store, w->key, w->klen)) {
            /* a typed key held here: an observed-remove clear (typed.h) */
            int64_t spent_ms = (clock_mono_us() - w->start_us) / 1000;
            int left_ms = op->d.node->cfg.put_timeout_ms - (int)spent_ms;
            typed_delete(op->d.node, w->key, w->klen, op->pw, left_ms > 0 ? left_ms : 1,
                         op_write_cb, op_ref_continued(op, w->slot));
            wrote = true;
            goto out;
        }
    } else if (op->flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL)) {
        if ((op->flags & SET_GET) && set->n > 1) {
            s->err = KV_ESIBLINGS;
            s->ival = set->n;
            goto out;
        }
        for (uint32_t i = 0; i < set->n && live == 1; i++)
            if (version_live(&set->v[i], now)) {
                /* a typed key's old value: a counter's number; a hash,
                 * set or sorted set has none GET could return (Redis:
                 * WRONGTYPE, nothing written) */
                struct val *cs = typed_counter_string(set->v[i].val);
                if ((op->flags & SET_GET) && val_is_typed(set->v[i].val) && !cs) {
                    typed_reply_wrongtype(&s->raw);
                    s->forwarded = true; /* the reply is in raw */
                    goto out;
                }
                val_unref(op->oldval);
                op->oldval = cs ? cs : val_ref(set->v[i].val);
                if (op->flags & SET_KEEPTTL)
                    expire_ms = set->v[i].expire_ms;
            }
        if (((op->flags & SET_NX) && live > 0) || ((op->flags & SET_XX) && live == 0)) {
            op->skipped = true;
            goto out;
        }
    }
    struct vclock ctx;
    vc_init(&ctx);
    sib_context(set, &ctx);
    int64_t spent_ms = (clock_mono_us() - w->start_us) / 1000;
    int left_ms = op->d.node->cfg.put_timeout_ms - (int)spent_ms;
    unsigned wflags = w->mode == RMW_CUSTOM || (op->flags & SET_CONDITIONAL)
                          ? 0
                          : COORD_W_SUPERSEDE;
    coord_write(op->d.node->coord, w->key, w->klen, &ctx, val, expire_ms, 0, op->pw,
                left_ms > 0 ? left_ms : 1, wflags, op_write_cb, op_ref_continued(op, w->slot));
    vc_fini(&ctx);
    wrote = true;
out:
    val_unref(val);
    sib_fini(&local);
    if (w->free_params)
        w->free_params(w->params);
    mem_free(w->key);
    val_unref(w->val);
    mem_free(w);
    if (wrote)
        defer_release(&op->d); /* the request goes on as the write (op_write_cb ends it) */
    else
        defer_sub_end(&op->d);
}

/* Starts a read-then-write of key into slot (val borrowed; NULL for DEL). */
static void op_rmw(struct op *op, int slot, const struct arg *key, enum rmw_mode mode,
                   struct val *val, int64_t expire_ms)
{
    struct rmw *w = mem_calloc(1, sizeof(*w));
    w->op = op;
    w->slot = slot;
    w->mode = mode;
    w->key = mem_memdup(key->p, key->len);
    w->klen = key->len;
    w->val = val_ref(val);
    w->expire_ms = expire_ms;
    w->start_us = clock_mono_us();
    defer_sub_begin(&op->d);
    w->reading = true;
    /* What a conditional SET does depends on the value: read a quorum. */
    bool fresh = mode == RMW_SET && (op->flags & SET_CONDITIONAL);
    if (coord_read_for_write(op->d.node->coord, w->key, w->klen, fresh, rmw_read_done, w) != 0)
        w->reading = false; /* w is still alive: the read is in flight */
}

/* Reply of a custom read-modify-write: an error, or what decide() wrote. */
static void custom_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err)
        cmd_reply_kverr(c, s->err);
    else
        buf_put(&c->out, s->raw.data ? s->raw.data : "", s->raw.len);
}

void cmd_rmw(struct client *c, int argc, const struct arg *argv, const struct arg *key,
             cmd_rmw_fn decide, void *params, void (*free_params)(void *))
{
    if (op_forward_whole(c, argc, argv, key)) {
        if (free_params)
            free_params(params);
        return;
    }
    struct op *op = op_create(c, 1, custom_done);
    struct rmw *w = mem_calloc(1, sizeof(*w));
    w->op = op;
    w->slot = 0;
    w->mode = RMW_CUSTOM;
    w->key = mem_memdup(key->p, key->len);
    w->klen = key->len;
    w->decide = decide;
    w->params = params;
    w->free_params = free_params;
    w->start_us = clock_mono_us();
    defer_sub_begin(&op->d);
    w->reading = true;
    /* decide() computes from the current value: read a quorum, not just
     * this node's copy, which may be stale. */
    if (coord_read_for_write(op->d.node->coord, w->key, w->klen, true, rmw_read_done, w) != 0)
        w->reading = false;
    op_dispatched(op, c);
}

bool cmd_rmw_current_any(const struct sibset *cur, int64_t now, struct cmd_rmw_out *out,
                         const struct version **live, bool *typed)
{
    enum crdt_type t;
    const struct version *st;
    if (typed)
        *typed = false;
    if (typed_classify(cur, now, &t, &st) == TYPED_STATE) {
        *live = st;
        if (typed)
            *typed = true;
        return true;
    }
    return cmd_rmw_current(cur, now, out, live);
}

bool cmd_rmw_current(const struct sibset *cur, int64_t now, struct cmd_rmw_out *out,
                     const struct version **live)
{
    *live = NULL;
    const struct version *v = sib_agreed(cur);
    if (cur->n > 1 && !v) {
        cmd_reply_siblings_buf(&out->reply, cur->n);
        return false;
    }
    if (v && version_live(v, now) && val_is_typed(v->val)) {
        /* a counter reads as the string of its value (one view at a time:
         * valid until the next call) */
        static struct version view;
        struct val *cs = typed_counter_string(v->val);
        if (!cs) {
            typed_reply_wrongtype(&out->reply);
            return false;
        }
        version_copy(&view, v);
        val_unref(view.val);
        view.val = cs;
        *live = &view;
        return true;
    }
    if (v && version_live(v, now))
        *live = v;
    return true;
}

static void set_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err == KV_ESIBLINGS) {
        cmd_reply_siblings(c, (unsigned)s->ival);
        return;
    }
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    if (s->forwarded) {
        buf_put(&c->out, s->raw.data ? s->raw.data : "", s->raw.len);
        return;
    }
    if (op->skipped && !(op->flags & SET_GET)) {
        cmd_reply_null(c);
        return;
    }
    if (op->flags & SET_GET) {
        if (op->oldval)
            resp_add_bulk(&c->out, op->oldval->data, op->oldval->len);
        else
            cmd_reply_null(c);
    } else {
        cmd_reply_ok(c);
    }
}

/* Parses SET's options into flags and an absolute expiry; false = replied. */
static bool parse_set_opts(struct client *c, int argc, const struct arg *argv, int *flags,
                           int64_t *expire_ms)
{
    char exp_kind[2] = {0, 0}; /* E or P, and whether it is the ...AT form */
    int64_t now = clock_now_ms();
    for (int i = 3; i < argc; i++) {
        const struct arg *a = &argv[i];
        bool has_next = i + 1 < argc;
        if (cmd_arg_eq(a, "NX") && !(*flags & SET_XX)) {
            *flags |= SET_NX;
        } else if (cmd_arg_eq(a, "XX") && !(*flags & SET_NX)) {
            *flags |= SET_XX;
        } else if (cmd_arg_eq(a, "GET")) {
            *flags |= SET_GET;
        } else if (cmd_arg_eq(a, "KEEPTTL") && !(*flags & SET_EXPIRE)) {
            *flags |= SET_KEEPTTL;
        } else if ((cmd_arg_eq(a, "EX") || cmd_arg_eq(a, "PX") || cmd_arg_eq(a, "EXAT") ||
                    cmd_arg_eq(a, "PXAT")) &&
                   !(*flags & SET_KEEPTTL) && has_next &&
                   (!(*flags & SET_EXPIRE) || (exp_kind[0] == toupper((unsigned char)a->p[0]) &&
                                               exp_kind[1] == (a->len > 2)))) {
            /* the same option repeated: the last one wins, as in Redis */
            exp_kind[0] = (char)toupper((unsigned char)a->p[0]);
            exp_kind[1] = a->len > 2;
            long long v;
            if (!cmd_arg_ll(&argv[i + 1], &v)) {
                cmd_reply_not_int(c);
                return false;
            }
            bool secs = cmd_arg_eq(a, "EX") || cmd_arg_eq(a, "EXAT");
            bool abs = cmd_arg_eq(a, "EXAT") || cmd_arg_eq(a, "PXAT");
            if (v <= 0 || (secs && v > LLONG_MAX / 1000)) {
                cmd_reply_err(c, "invalid expire time in 'set' command");
                return false;
            }
            long long ms = secs ? v * 1000 : v;
            if (!abs && ms > LLONG_MAX - now) {
                cmd_reply_err(c, "invalid expire time in 'set' command");
                return false;
            }
            *expire_ms = abs ? ms : now + ms;
            *flags |= SET_EXPIRE;
            i++;
        } else {
            cmd_reply_syntax(c);
            return false;
        }
    }
    return true;
}

void cmd_set(struct client *c, int argc, const struct arg *argv)
{
    int flags = 0;
    int64_t expire_ms = 0;
    if (argc > 3 && !parse_set_opts(c, argc, argv, &flags, &expire_ms))
        return;
    struct kv_node *n = c->node;
    if ((long long)argv[2].len > n->cfg.proto_max_bulk_len) {
        cmd_reply_err(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    if (op_forward_whole(c, argc, argv, &argv[1]))
        return;
    struct op *op = op_create(c, 1, set_done);
    op->flags = flags;
    struct val *v = val_create(argv[2].p, argv[2].len);
    op_rmw(op, 0, &argv[1], RMW_SET, v, expire_ms);
    val_unref(v);
    op_dispatched(op, c);
}

/* The first failure among the keys of a multi-key write, written as the
 * reply; false when every key succeeded. */
static bool reply_first_failure(struct op *op, struct client *c)
{
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        if (s->err) {
            cmd_reply_kverr(c, s->err);
            return true;
        }
        if (s->remote_err) {
            buf_put(&c->out, s->raw.data, s->raw.len);
            return true;
        }
    }
    return false;
}

static void mset_done(struct op *op, struct client *c)
{
    if (!reply_first_failure(op, c))
        cmd_reply_ok(c);
}

static void launch_mset(struct defer *d, int i)
{
    struct op *op = (struct op *)d;
    if (op_abandoned(op, i))
        return;
    const struct arg *key = &op->d.largv[2 * i], *val = &op->d.largv[2 * i + 1];
    int t = op_route_later(op, key);
    if (t == COORD_ROUTE_DECLINE) {
        op->slots[i].err = KV_ENOQUORUM;
        return;
    }
    if (t >= 0) {
        struct arg sub[3] = {{"SET", 3}, *key, *val};
        op_forward(op, i, key, t, 3, sub);
        return;
    }
    struct val *v = val_create(val->p, val->len);
    op_rmw(op, i, key, RMW_SET, v, 0);
    val_unref(v);
}

void cmd_mset(struct client *c, int argc, const struct arg *argv)
{
    if (argc % 2 == 0) {
        cmd_reply_arity(c, "mset");
        return;
    }
    struct op *op = op_create(c, (argc - 1) / 2, mset_done);
    op->via_peer = c->kind != SRV_CLIENT;
    defer_launch_all(&op->d, (argc - 1) / 2, argc - 1, argv + 1, launch_mset);
    op_dispatched(op, c);
}

static void del_done(struct op *op, struct client *c)
{
    if (reply_first_failure(op, c))
        return;
    long long n = op->count;
    for (int i = 0; i < op->nslots; i++)
        n += op->slots[i].ival;
    resp_add_int(&c->out, n);
}

static void launch_del(struct defer *d, int i)
{
    struct op *op = (struct op *)d;
    if (op_abandoned(op, i))
        return;
    const struct arg *key = &op->d.largv[i];
    int t = op_route_later(op, key);
    if (t == COORD_ROUTE_DECLINE) {
        op->slots[i].err = KV_ENOQUORUM;
        return;
    }
    if (t >= 0) {
        struct arg sub[2] = {{"DEL", 3}, *key};
        op_forward(op, i, key, t, 2, sub);
        return;
    }
    /* Only keys that hold a live value get a tombstone (and count). */
    op_rmw(op, i, key, RMW_DEL, NULL, 0);
}

void cmd_del(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, del_done);
    op->via_peer = c->kind != SRV_CLIENT;
    defer_launch_all(&op->d, argc - 1, argc - 1, argv + 1, launch_del);
    op_dispatched(op, c);
}


