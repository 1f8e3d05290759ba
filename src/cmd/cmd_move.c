/* cmd_move.c — RENAME, RENAMENX and COPY (moved out of cmd_keyspace.c,
 * whose table holds their rows).
 *
 * A quorum read of the source, then a coordinated write of the destination
 * (SET dst value [NX] [PXAT ttl], at dst's coordinator: the TTL moves with
 * the value), then for RENAME(NX) a causal delete of the source (VDEL src
 * <context read>).  Two keys, two coordinators: not atomic.  A reader can
 * see both keys or (between the steps) the value under both names; a crash
 * or lost quorum between the write and the delete leaves both keys (the
 * error says so).  A write to the source concurrent with the rename is not
 * lost: the delete covers only the versions the rename read, so the newer
 * write survives as a sibling of the tombstone.  RENAMENX and COPY without
 * REPLACE check the destination at its coordinator (SET NX), exact while
 * that coordinator is alive.  COPY's DB option accepts only 0 (there is one
 * key space); other indexes are an error.
 * A typed source (hash, set, sorted set, counter; issue 14) is not copied
 * as bytes: the write of dst is typed_copy (typed_copy.h), which builds a
 * new state at dst's coordinator with that coordinator's dots (dots are
 * unique per key) and the source's TTL.  On a node that is not dst's
 * coordinator that is the forwarded command "COPY src dst [REPLACE]"
 * (RENAME replaces, RENAMENX does not), which runs all of this again
 * there; with REPLACE the copy replaces whatever dst holds (a string,
 * another type: TYPED_OVERWRITE, one write); without it, on dst's
 * coordinator, a read of dst comes first: any live dst -> 0.
 * RENAME then deletes the source as above.  The same two-coordinator
 * caveats hold; a copy shows the source's concurrent values of a field the
 * way a read does (one of them); and a write to a typed source concurrent
 * with the rename keeps the source's whole state beside the tombstone (a
 * key-level delete of the versions the rename read, where DEL of a typed
 * key is an observed-remove clear), not only what that write added.
 *
 * Owns: struct move (a deferred reply, defer.h) per command.
 * Callers: cmd_keyspace.c's table (cmd_rename, cmd_renamenx, cmd_copy).
 * Calls: coord (quorum reads, routing), defer_call (SET and VDEL with
 * their client semantics), typed_copy.c (the write of a typed source),
 * typed_classify.  Nothing here blocks.
 */
#include <stdio.h>
#include <string.h>

#include "cluster/coord.h"
#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/node.h"
#include "cmd/typed.h"
#include "cmd/typed_copy.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "core/vclock.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"

enum move_kind {
    MOVE_RENAME = 0,
    MOVE_RENAMENX,
    MOVE_COPY,
    MOVE_KIND_COUNT
};

struct move {
    struct defer k;
    enum move_kind kind;
    bool replace;             /* COPY REPLACE */
    char *src, *dst;
    size_t slen, dlen;
    struct val *val;          /* the source's value */
    int64_t expire_ms;        /* and its expiry (0 = none) */
    struct buf ctx;           /* the source's context, for VDEL */
    enum crdt_type type;      /* a typed source's type (CRDT_NONE: bytes) */
};

static const char *move_name(const struct move *m)
{
    static const char *names[MOVE_KIND_COUNT] = {"RENAME", "RENAMENX", "COPY"};
    return names[m->kind];
}

static void move_fini(struct defer *k)
{
    struct move *m = (struct move *)k;
    mem_free(m->src);
    mem_free(m->dst);
    val_unref(m->val);
    buf_fini(&m->ctx);
}

static bool reply_is_error(const char *reply, size_t len)
{
    return len > 0 && reply[0] == '-';
}

static bool reply_is_nil(const char *reply, size_t len)
{
    return (len >= 3 && memcmp(reply, "$-1", 3) == 0) || (len >= 1 && reply[0] == '_');
}

static void move_del_done(void *arg, const char *reply, size_t len)
{
    struct move *m = arg;
    if (reply_is_error(reply, len)) {
        /* "-CODE message\r\n": keep the code, say what was done. */
        const char *body = reply + 1;
        size_t blen = len > 3 ? len - 3 : 0;
        const char *sp = memchr(body, ' ', blen);
        size_t cl = sp ? (size_t)(sp - body) : blen;
        char code[32];
        snprintf(code, sizeof(code), "%.*s", (int)(cl < 31 ? cl : 31), body);
        resp_add_errorf(&m->k.out, code,
                        "%s wrote the destination but could not delete the source (both keys "
                        "now exist): %.*s",
                        move_name(m), sp ? (int)(blen - cl - 1) : 0, sp ? sp + 1 : "");
    } else if (m->kind == MOVE_RENAMENX) {
        resp_add_int(&m->k.out, 1);
    } else {
        buf_put(&m->k.out, RESP_OK, 5);
    }
    defer_release(&m->k);
}

/* The write of dst ended: SET's reply, or typed_copy's (:1 / :0). */
static void move_set_done(void *arg, const char *reply, size_t len)
{
    struct move *m = arg;
    if (reply_is_error(reply, len)) {
        buf_put(&m->k.out, reply, len);
    } else if (reply_is_nil(reply, len) || (len >= 2 && memcmp(reply, ":0", 2) == 0)) {
        resp_add_int(&m->k.out, 0); /* NX: the destination exists */
    } else if (m->kind == MOVE_COPY) {
        resp_add_int(&m->k.out, 1);
    } else {
        /* Delete exactly the versions that were copied: a write to the
         * source since the read stays, as a sibling of the tombstone. */
        struct arg argv[3] = {{"VDEL", 4}, {m->src, m->slen}, {m->ctx.data ? m->ctx.data : "", m->ctx.len}};
        defer_call(m->k.node, 3, argv, move_del_done, m);
        return;
    }
    defer_release(&m->k);
}

static bool move_nx(const struct move *m)
{
    return m->kind == MOVE_RENAMENX || (m->kind == MOVE_COPY && !m->replace);
}

static void move_typed_copy(struct move *m)
{
    struct arg src = {m->src, m->slen}, dst = {m->dst, m->dlen};
    typed_copy(m->k.node, &src, &dst, m->type, !move_nx(m), move_set_done, m);
}

/* A typed source without REPLACE, on dst's coordinator: any live dst
 * (whatever its type) -> 0, as in Redis. */
static void move_dst_read(void *arg, int err, const struct sibset *set)
{
    struct move *m = arg;
    enum crdt_type t;
    const struct version *v;
    if (err) {
        m->k.err = err;
    } else if (typed_classify(set, clock_now_ms(), &t, &v) != TYPED_ABSENT) {
        resp_add_int(&m->k.out, 0);
    } else {
        move_typed_copy(m);
        return;
    }
    defer_release(&m->k);
}

static void move_read_done(void *arg, int err, const struct sibset *set)
{
    struct move *m = arg;
    int64_t now = clock_now_ms();
    enum crdt_type type = CRDT_NONE;
    const struct version *tv;
    int kind = err ? TYPED_ABSENT : typed_classify(set, now, &type, &tv);
    if (err) {
        m->k.err = err;
    } else if (kind == TYPED_CONFLICT) {
        resp_add_error(&m->k.out, "ERR",
                       "source key holds concurrent versions of different types (a partition "
                       "wrote both); read them with VGET, resolve with DEL or SET");
    } else if (kind == TYPED_STATE && !(m->kind != MOVE_COPY && m->slen == m->dlen &&
                                        memcmp(m->src, m->dst, m->slen) == 0)) {
        m->type = type;
        struct vclock vc;
        vc_init(&vc);
        sib_context(set, &vc);
        vc_to_context(&vc, &m->ctx);
        vc_fini(&vc);
        if (!move_nx(m) ||
            coord_route(m->k.node->coord, m->dst, m->dlen, false) != COORD_ROUTE_HERE)
            /* REPLACE overwrites whatever dst holds; elsewhere typed_copy
             * forwards "COPY src dst" to dst's coordinator, which reads
             * dst itself: no read here */
            move_typed_copy(m);
        else
            coord_read(m->k.node->coord, m->dst, m->dlen, 0, 0, move_dst_read, m);
        return;
    } else if (kind != TYPED_STATE && set->n > 1 && !sib_agreed(set)) {
        m->k.err = KV_ESIBLINGS;
        m->k.nsib = set->n;
    } else if (kind == TYPED_ABSENT) {
        if (m->kind == MOVE_COPY)
            resp_add_int(&m->k.out, 0);
        else
            resp_add_error(&m->k.out, "ERR", "no such key");
    } else if (m->kind != MOVE_COPY && m->slen == m->dlen && memcmp(m->src, m->dst, m->slen) == 0) {
        /* Redis: renaming a key to itself succeeds (RENAMENX: 0). */
        if (m->kind == MOVE_RENAMENX)
            resp_add_int(&m->k.out, 0);
        else
            buf_put(&m->k.out, RESP_OK, 5);
    } else {
        m->val = val_ref(set->v[0].val);
        m->expire_ms = set->v[0].expire_ms;
        struct vclock vc;
        vc_init(&vc);
        sib_context(set, &vc);
        vc_to_context(&vc, &m->ctx);
        vc_fini(&vc);
        struct arg argv[6];
        int argc = 0;
        char px[24];
        argv[argc++] = (struct arg){"SET", 3};
        argv[argc++] = (struct arg){m->dst, m->dlen};
        argv[argc++] = (struct arg){m->val->data, m->val->len};
        if (m->kind == MOVE_RENAMENX || (m->kind == MOVE_COPY && !m->replace))
            argv[argc++] = (struct arg){"NX", 2};
        if (m->expire_ms > 0) {
            int pl = snprintf(px, sizeof(px), "%lld", (long long)m->expire_ms);
            argv[argc++] = (struct arg){"PXAT", 4};
            argv[argc++] = (struct arg){px, (size_t)pl};
        }
        defer_call(m->k.node, argc, argv, move_set_done, m);
        return;
    }
    defer_release(&m->k);
}

static void move_start(struct client *c, const struct arg *src, const struct arg *dst,
                       enum move_kind kind, bool replace)
{
    struct move *m = defer_create(sizeof(*m), c, NULL, move_fini);
    m->kind = kind;
    m->replace = replace;
    m->src = mem_memdup(src->p, src->len);
    m->slen = src->len;
    m->dst = mem_memdup(dst->p, dst->len);
    m->dlen = dst->len;
    buf_init(&m->ctx);
    defer_hold_open(&m->k);
    coord_read(c->node->coord, m->src, m->slen, 0, 0, move_read_done, m);
    defer_dispatched(&m->k, c);
}

void cmd_rename(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    move_start(c, &argv[1], &argv[2], MOVE_RENAME, false);
}

void cmd_renamenx(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    move_start(c, &argv[1], &argv[2], MOVE_RENAMENX, false);
}

/* COPY source destination [DB destination-db] [REPLACE] */
void cmd_copy(struct client *c, int argc, const struct arg *argv)
{
    bool replace = false;
    for (int i = 3; i < argc; i++) {
        if (cmd_arg_eq(&argv[i], "REPLACE")) {
            replace = true;
        } else if (cmd_arg_eq(&argv[i], "DB") && i + 1 < argc) {
            long long db;
            if (!cmd_arg_ll(&argv[++i], &db)) {
                cmd_reply_not_int(c);
                return;
            }
            if (db != 0) {
                cmd_reply_err(c, "DB index is out of range (dynamo-node has one keyspace: DB 0)");
                return;
            }
        } else {
            cmd_reply_syntax(c);
            return;
        }
    }
    if (argv[1].len == argv[2].len && memcmp(argv[1].p, argv[2].p, argv[1].len) == 0) {
        cmd_reply_err(c, "source and destination objects are the same");
        return;
    }
    move_start(c, &argv[1], &argv[2], MOVE_COPY, replace);
}
