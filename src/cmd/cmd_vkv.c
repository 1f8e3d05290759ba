/* cmd_vkv.c — the versioned commands of the Dynamo API (VGET, VPUT, VDEL,
 * VCLOCK: contexts and siblings exposed to the client, R and W per
 * request) and cmd_read, a quorum read whose reply a callback formats
 * (OBJECT, the string family's reads).
 *
 * Owns: nothing beyond the ops it creates (kv_op.h).
 * Callers: cmd.c (the table), cmd_string.c, cmd_expire.c, cmd_keyspace.c and
 * cmd_bits.c (cmd_read).  A cmd_read whose client leaves before the answer
 * frees its state through the op's extra_free.
 * Calls: cmd_kv.c (op_create, op_read, op_write), cmd_fwd.c
 * (op_forward_whole: VPUT/VDEL go to the key's coordinator).  Nothing here
 * blocks.
 */
#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/kv_op.h"
#include "cmd/typed.h"
#include "core/tval.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "core/vclock.h"
#include "net/server.h"
#include "cmd/node.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"

/* A quorum read whose reply a callback formats. */
struct cread {
    cmd_read_fn fmt;
    void *params;
    void (*free_params)(void *);
};

static void cread_free(void *arg)
{
    struct cread *r = arg;
    if (r->free_params)
        r->free_params(r->params);
    mem_free(r);
}

static void cread_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    struct cread *r = op->extra;
    if (s->err)
        cmd_reply_kverr(c, s->err);
    else
        r->fmt(r->params, &s->set, clock_now_ms(), c->proto, &c->out);
    cread_free(r);
    op->extra = NULL;
}

void cmd_read(struct client *c, const struct arg *key, cmd_read_fn fmt, void *params,
              void (*free_params)(void *))
{
    struct op *op = op_create(c, 1, cread_done);
    struct cread *r = mem_alloc(sizeof(*r));
    r->fmt = fmt;
    r->params = params;
    r->free_params = free_params;
    op->extra = r;
    op->extra_free = cread_free; /* when the client leaves before the reply */
    op_read(op, 0, key, 0);
    op_dispatched(op, c);
}

/* ---- versioned commands (the Dynamo API) ---- */

/* Parses trailing quorum overrides from argv[from..): "R n" and "PR n"
 * (reads) or "W n" and "PW n" (writes), each at most once, in any order;
 * q (n) and pq (PR/PW) stay 0 when not given.  False = replied with an
 * error. */
static bool parse_quorum_opts(struct client *c, int argc, const struct arg *argv, int from,
                              bool write, int *q, int *pq)
{
    const char *letter = write ? "W" : "R", *pletter = write ? "PW" : "PR";
    *q = *pq = 0;
    for (int i = from; i < argc; i += 2) {
        bool primary = cmd_arg_eq(&argv[i], pletter);
        if ((!primary && !cmd_arg_eq(&argv[i], letter)) || i + 1 >= argc ||
            (primary ? *pq : *q) != 0) {
            cmd_reply_syntax(c);
            return false;
        }
        long long v;
        if (!cmd_arg_ll(&argv[i + 1], &v)) {
            cmd_reply_not_int(c);
            return false;
        }
        if (v < 1 || v > c->node->cfg.n) {
            resp_add_errorf(&c->out, "ERR", "%s must be between 1 and n (%d)",
                            primary ? pletter : letter, c->node->cfg.n);
            return false;
        }
        *(primary ? pq : q) = (int)v;
    }
    return true;
}

static void vget_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    int64_t now = clock_now_ms();
    if (sib_live_count(&s->set, now) == 0 && s->set.n <= 1) {
        cmd_reply_null(c);
        return;
    }
    for (uint32_t i = 0; i < s->set.n; i++) {
        const struct version *v = &s->set.v[i];
        if (version_live(v, now) && val_is_typed(v->val) && tval_type(v->val) != CRDT_COUNTER) {
            typed_reply_wrongtype(&c->out); /* hashes, sets, sorted sets: their commands */
            return;
        }
    }
    struct vclock ctx;
    vc_init(&ctx);
    sib_context(&s->set, &ctx);
    struct buf tok;
    buf_init(&tok);
    vc_to_context(&ctx, &tok);
    resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, tok.data ? tok.data : "", tok.len);
    resp_add_array(&c->out, s->set.n);
    for (uint32_t i = 0; i < s->set.n; i++) {
        const struct version *v = &s->set.v[i];
        struct val *cs = version_live(v, now) ? typed_counter_string(v->val) : NULL;
        if (cs)
            resp_add_bulk(&c->out, cs->data, cs->len); /* a counter: its value */
        else if (version_live(v, now))
            resp_add_bulk(&c->out, v->val->data, v->val->len);
        else
            cmd_reply_null(c); /* a concurrent delete (tombstone sibling) */
        val_unref(cs);
    }
    buf_fini(&tok);
    vc_fini(&ctx);
}

void cmd_vget(struct client *c, int argc, const struct arg *argv)
{
    int r, pr;
    if (!parse_quorum_opts(c, argc, argv, 2, false, &r, &pr))
        return;
    struct op *op = op_create(c, 1, vget_done);
    op->pr = pr;
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}

static void vput_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    struct buf tok;
    buf_init(&tok);
    vc_to_context(&s->vc, &tok);
    resp_add_bulk(&c->out, tok.data ? tok.data : "", tok.len);
    buf_fini(&tok);
}

/* VPUT key context value [W n] [PW n] / VDEL key context [W n] [PW n] */
static void vwrite(struct client *c, int argc, const struct arg *argv, bool del)
{
    int w, pw;
    if (!parse_quorum_opts(c, argc, argv, del ? 3 : 4, true, &w, &pw))
        return;
    struct vclock ctx;
    vc_init(&ctx);
    if (vc_from_context(&ctx, argv[2].p, argv[2].len) != 0) {
        cmd_reply_kverr(c, KV_EBADCTX);
        vc_fini(&ctx);
        return;
    }
    if (op_forward_whole(c, argc, argv, &argv[1])) {
        vc_fini(&ctx);
        return;
    }
    struct op *op = op_create(c, 1, vput_done);
    op->pw = pw;
    struct val *v = del ? NULL : val_create(argv[3].p, argv[3].len);
    op_write(op, 0, &argv[1], &ctx, v, 0, w);
    val_unref(v);
    vc_fini(&ctx);
    op_dispatched(op, c);
}

void cmd_vput(struct client *c, int argc, const struct arg *argv)
{
    vwrite(c, argc, argv, false);
}

void cmd_vdel(struct client *c, int argc, const struct arg *argv)
{
    vwrite(c, argc, argv, true);
}

static void vclock_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    if (s->set.n == 0) {
        cmd_reply_null(c);
        return;
    }
    int64_t now = clock_now_ms();
    resp_add_array(&c->out, s->set.n);
    struct buf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->set.n; i++) {
        const struct version *v = &s->set.v[i];
        b.len = 0;
        if (val_is_typed(v->val)) {
            /* a state: its type, size and context (which identifies it;
             * the version clock says what its coordinators had seen) */
            const struct crdt *st = tval_ccrdt(v->val);
            buf_printf(&b, "%s elements=%u ", crdt_type_name((enum crdt_type)st->type),
                       crdt_count(st));
            if (v->expire_ms)
                buf_printf(&b, "expire_ms=%lld ", (long long)v->expire_ms);
            if (v->epoch)
                buf_printf(&b, "epoch=%u ", v->epoch);
            if (st->ncloud)
                buf_printf(&b, "cloud=%u ", st->ncloud);
            vc_format(&st->vc, &b);
            resp_add_bulk(&c->out, b.data, b.len);
            continue;
        }
        if (!v->val)
            buf_printf(&b, "tombstone ");
        else if (!version_live(v, now))
            buf_printf(&b, "expired len=%u ", v->val->len);
        else
            buf_printf(&b, "value len=%u ", v->val->len);
        if (v->expire_ms)
            buf_printf(&b, "expire_ms=%lld ", (long long)v->expire_ms);
        version_format_clock(v, &b);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

/* VSTATE: every entry of a typed key's state, one line each (debugging a
 * convergent type: which actor's total or register is where). */
struct vstate_walk {
    struct client *c;
    uint8_t type;
    struct buf *b;
    long long lines;
};

static bool vstate_elem(const struct crdt_elem *el, void *arg)
{
    struct vstate_walk *w = arg;
    static const char *const kinds[] = {"member", "reg", "int", "float"};
    for (uint32_t i = 0; i < el->n; i++) {
        const struct crdt_entry *e = &el->e[i];
        size_t nl;
        const char *an = vc_actor_name(e->actor, &nl);
        w->b->len = 0;
        buf_printf(w->b, "%.*s %s %.*s/%llu", (int)(el->klen > 64 ? 64 : el->klen),
                   crdt_elem_key(el), e->kind < 4 ? kinds[e->kind] : "?", (int)nl, an ? an : "?",
                   (unsigned long long)e->counter);
        if (e->kind == CRDT_K_CNT_INT)
            buf_printf(w->b, " %lld", (long long)e->u.i);
        else if (e->kind == CRDT_K_CNT_FLOAT || (e->kind == CRDT_K_REG && w->type == CRDT_ZSET))
            buf_printf(w->b, " %.17g", e->kind == CRDT_K_CNT_FLOAT ? e->u.f : e->u.score);
        else if (e->kind == CRDT_K_REG)
            buf_printf(w->b, " %.*s", (int)(e->u.val->len > 64 ? 64 : e->u.val->len),
                       e->u.val->data);
        resp_add_bulk(&w->c->out, w->b->data, w->b->len);
        w->lines++;
    }
    return true;
}

static void vstate_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    const struct version *v = NULL;
    for (uint32_t i = 0; i < s->set.n; i++)
        if (val_is_typed(s->set.v[i].val))
            v = &s->set.v[i];
    if (!v) {
        cmd_reply_null(c);
        return;
    }
    const struct crdt *st = tval_ccrdt(v->val);
    struct buf b;
    buf_init(&b);
    struct vstate_walk w = {c, st->type, &b, 0};
    size_t at = c->out.len;
    resp_add_array(&c->out, 0); /* patched below: the count is known after */
    size_t hdr = c->out.len - at;
    crdt_each(st, vstate_elem, &w);
    struct buf h;
    buf_init(&h);
    resp_add_array(&h, w.lines);
    /* replace the placeholder header by the real one */
    struct buf rest;
    buf_init(&rest);
    buf_append(&rest, c->out.data + at + hdr, c->out.len - at - hdr);
    c->out.len = at;
    buf_append(&c->out, h.data, h.len);
    buf_append(&c->out, rest.data, rest.len);
    buf_fini(&rest);
    buf_fini(&h);
    buf_fini(&b);
}

void cmd_vstate(struct client *c, int argc, const struct arg *argv)
{
    int r, pr;
    if (!parse_quorum_opts(c, argc, argv, 2, false, &r, &pr))
        return;
    struct op *op = op_create(c, 1, vstate_done);
    op->pr = pr;
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}

void cmd_vclock(struct client *c, int argc, const struct arg *argv)
{
    int r, pr;
    if (!parse_quorum_opts(c, argc, argv, 2, false, &r, &pr))
        return;
    struct op *op = op_create(c, 1, vclock_done);
    op->pr = pr;
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}
