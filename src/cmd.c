/* cmd.c — the command table and the handlers of client commands.
 *
 * Owns: the command table (name, arity, flags, key positions, docs) and the
 * per-request aggregation state (struct op) of commands that wait on the
 * coordinator.  Callers: server.c (cmd_dispatch).  Calls: coord for every
 * key operation, config, store (counts), resp encoders.
 *
 * Reply discipline: a handler either writes its whole reply before it
 * returns, or starts an op; the op writes the reply when its last key
 * completes and unblocks the connection.  Handlers copy what they keep:
 * argv points into the connection's query buffer.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "coord.h"
#include "errors.h"
#include "node.h"
#include "resp.h"
#include "server.h"
#include "siblings.h"
#include "store.h"
#include "util/log.h"
#include "util/mem.h"
#include "vclock.h"

#define CMD_F_WRITE (1u << 0)    /* modifies the key space */
#define CMD_F_READONLY (1u << 1) /* reads the key space */
#define CMD_F_NOAUTH (1u << 2)   /* allowed before AUTH */
#define CMD_F_ADMIN (1u << 3)    /* administrative */
#define CMD_F_FAST (1u << 4)     /* O(1) or O(log N) */
#define CMD_F_NOSCRIPT (1u << 5) /* Redis flag, reported by COMMAND INFO */
#define CMD_F_LOADING (1u << 6)  /* Redis flag, reported by COMMAND INFO */
#define CMD_F_STALE (1u << 7)    /* Redis flag, reported by COMMAND INFO */

#define DYNAMO_VERSION "0.1.0"
#define REDIS_COMPAT_VERSION "7.0.0"

typedef void (*cmd_fn)(struct client *c, int argc, const struct arg *argv);

struct cmd_def {
    const char *name;    /* lower case */
    int arity;           /* Redis convention: N exact, -N at least N */
    unsigned flags;
    int first_key, last_key, step;
    cmd_fn fn;
    const char *group;
    const char *summary;
    const char *args;    /* argument spec for COMMAND DOCS, see add_doc_args */
    const char *since;
};

/* ---- small reply helpers ---- */

static void reply_ok(struct client *c)
{
    buf_put(&c->out, RESP_OK, 5);
}

static void reply_null(struct client *c)
{
    if (c->proto == 3)
        buf_put(&c->out, RESP_NULL3, 3);
    else
        buf_put(&c->out, RESP_NULL2, 5);
}

static void reply_err(struct client *c, const char *msg)
{
    resp_add_error(&c->out, "ERR", msg);
}

static void reply_syntax(struct client *c)
{
    reply_err(c, "syntax error");
}

static void reply_not_int(struct client *c)
{
    reply_err(c, "value is not an integer or out of range");
}

static void reply_arity(struct client *c, const char *name)
{
    resp_add_errorf(&c->out, "ERR", "wrong number of arguments for '%s' command", name);
}

static void reply_kverr(struct client *c, int err)
{
    switch (err) {
    case KV_ENOQUORUM:
        resp_add_error(&c->out, "NOQUORUM", "not enough replicas answered in time");
        break;
    case KV_ETIMEDOUT:
        resp_add_error(&c->out, "TIMEOUT", "request timed out");
        break;
    case KV_EBADCTX:
        reply_err(c, "invalid context: pass the context string exactly as VGET returned it, "
                     "or \"\" for a blind write");
        break;
    default:
        resp_add_errorf(&c->out, "ERR", "%s", kv_strerror(err));
    }
}

static void reply_siblings(struct client *c, unsigned n)
{
    resp_add_errorf(&c->out, "ERR",
                    "key has %u siblings (concurrent versions); use VGET to read them and "
                    "VPUT with the returned context to resolve",
                    n);
}

static bool arg_eq(const struct arg *a, const char *lit)
{
    size_t n = strlen(lit);
    return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* Parses a whole argument as a signed 64-bit decimal integer. */
static bool arg_ll(const struct arg *a, long long *out)
{
    if (a->len == 0 || a->len > 20)
        return false;
    char tmp[24];
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    if (tmp[0] == '+' || isspace((unsigned char)tmp[0]))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end)
        return false;
    /* Redis refuses "007" and "-0": keep the canonical form only. */
    if ((tmp[0] == '0' && a->len > 1) || (tmp[0] == '-' && (a->len == 1 || tmp[1] == '0')))
        return false;
    *out = v;
    return true;
}

static char *arg_dup(const struct arg *a)
{
    return mem_strndup(a->p, a->len);
}

/* ---- async aggregation ---- */

struct op;
typedef void (*op_finish_fn)(struct op *op, struct client *c);

struct op_slot {
    int err;
    struct sibset set;      /* read result */
    struct vclock vc;       /* write result */
    bool found;
};

struct op {
    struct kv_node *node;
    uint64_t cid;
    int left;               /* outstanding completions + the dispatch guard */
    struct reply_slot *slot; /* reserved reply place when answered late */
    op_finish_fn finish;
    int nslots;
    long long count;        /* DEL/EXISTS tally */
    int flags;
    struct val *oldval;     /* SET GET */
    struct op_slot slots[];
};

static struct op *op_create(struct client *c, int nslots, op_finish_fn finish)
{
    struct op *op = mem_calloc(1, sizeof(*op) + (size_t)nslots * sizeof(struct op_slot));
    op->node = c->node;
    op->cid = c->id;
    op->left = 1;
    op->finish = finish;
    op->nslots = nslots;
    for (int i = 0; i < nslots; i++) {
        sib_init(&op->slots[i].set);
        vc_init(&op->slots[i].vc);
    }
    return op;
}

static void op_destroy(struct op *op)
{
    for (int i = 0; i < op->nslots; i++) {
        sib_fini(&op->slots[i].set);
        vc_fini(&op->slots[i].vc);
    }
    val_unref(op->oldval);
    mem_free(op);
}

static void op_fill(void *arg, struct client *c)
{
    struct op *op = arg;
    op->finish(op, c);
}

/* One completion arrived (or the dispatch guard is dropped). */
static void op_release(struct op *op)
{
    if (--op->left > 0)
        return;
    struct client *c = srv_client_find(op->node->srv, op->cid);
    if (c) {
        if (op->slot)
            srv_slot_fill(c, op->slot, op_fill, op);
        else
            op->finish(op, c);
    }
    op_destroy(op);
}

/* Called by the handler after issuing every sub-request: answers now when
 * everything completed, else reserves the reply's place. */
static void op_dispatched(struct op *op, struct client *c)
{
    if (op->left > 1)
        op->slot = srv_slot_open(c);
    op_release(op);
}

struct op_ref {
    struct op *op;
    int slot;
};

static void op_read_cb(void *arg, int err, const struct sibset *set)
{
    struct op_ref *ref = arg;
    struct op_slot *s = &ref->op->slots[ref->slot];
    s->err = err;
    if (!err && set)
        sib_merge(&s->set, set);
    struct op *op = ref->op;
    mem_free(ref);
    op_release(op);
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
    op_release(op);
}

static struct op_ref *op_ref(struct op *op, int slot)
{
    struct op_ref *r = mem_alloc(sizeof(*r));
    r->op = op;
    r->slot = slot;
    op->left++;
    return r;
}

static void op_read(struct op *op, int slot, const struct arg *key, int r)
{
    coord_read(op->node->coord, key->p, key->len, r, op_read_cb, op_ref(op, slot));
}

static void op_write(struct op *op, int slot, const struct arg *key, const struct vclock *ctx,
                     struct val *v, int64_t expire_ms, int w)
{
    coord_write(op->node->coord, key->p, key->len, ctx, v, expire_ms, w, op_write_cb,
                op_ref(op, slot));
}

/* Reply for a plain read of one reconciled set (GET semantics). */
static void reply_plain_value(struct client *c, const struct op_slot *s)
{
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    int64_t now = kv_now_ms();
    const struct sibset *set = &s->set;
    if (set->n > 1) {
        c->node->stats.sibling_reads++;
        reply_siblings(c, set->n);
        return;
    }
    if (set->n == 1 && version_live(&set->v[0], now)) {
        c->node->stats.keyspace_hits++;
        resp_add_bulk(&c->out, set->v[0].val->data, set->v[0].val->len);
        return;
    }
    c->node->stats.keyspace_misses++;
    reply_null(c);
}

/* Keys with at least one value version (tombstone-only keys excluded). */
static void count_live_entry(void *arg, const struct store_entry *e)
{
    size_t *n = arg;
    unsigned nv = store_entry_nversions(e);
    for (unsigned i = 0; i < nv; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        if (vr.val) {
            (*n)++;
            return;
        }
    }
}

static size_t store_count_live(struct store *s)
{
    size_t n = 0;
    uint64_t cursor = 0;
    do
        cursor = store_scan(s, cursor, 1024, count_live_entry, &n);
    while (cursor != 0);
    return n;
}

/* ---- connection commands ---- */

static void cmd_ping(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 2) {
        reply_arity(c, "ping");
        return;
    }
    if (argc == 2)
        resp_add_bulk(&c->out, argv[1].p, argv[1].len);
    else
        buf_put(&c->out, RESP_PONG, 7);
}

static void cmd_echo(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    resp_add_bulk(&c->out, argv[1].p, argv[1].len);
}

static void cmd_quit(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    reply_ok(c);
    srv_client_close_after_reply(c);
}

static void cmd_select(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    long long db;
    if (!arg_ll(&argv[1], &db)) {
        reply_not_int(c);
        return;
    }
    if (db != 0) {
        reply_err(c, "DB index is out of range (dynamo-node has one keyspace: SELECT 0)");
        return;
    }
    reply_ok(c);
}

static bool check_password(struct client *c, const struct arg *pass)
{
    const char *want = c->node->cfg.requirepass;
    size_t wl = strlen(want);
    /* constant-time over the configured length */
    unsigned diff = (unsigned)(pass->len ^ wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned)(want[i] ^ (i < pass->len ? pass->p[i] : 0));
    return diff == 0;
}

static void cmd_auth(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 3) {
        reply_syntax(c);
        return;
    }
    const char *want = c->node->cfg.requirepass;
    if (!want || !*want) {
        reply_err(c, "AUTH <password> called without any password configured for the default "
                     "user. Are you sure your configuration is correct?");
        return;
    }
    const struct arg *pass = &argv[argc - 1];
    if (argc == 3 && !arg_eq(&argv[1], "default")) {
        resp_add_error(&c->out, "WRONGPASS",
                       "invalid username-password pair or user is disabled.");
        return;
    }
    if (!check_password(c, pass)) {
        resp_add_error(&c->out, "WRONGPASS",
                       "invalid username-password pair or user is disabled.");
        return;
    }
    c->flags |= CLI_F_AUTHED;
    reply_ok(c);
}

static void set_str(char **dst, const struct arg *a)
{
    mem_free(*dst);
    *dst = a->len ? arg_dup(a) : NULL;
}

static bool valid_client_name(const struct arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] < '!' || a->p[i] > '~')
            return false;
    return true;
}

static void hello_reply(struct client *c)
{
    struct kv_node *n = c->node;
    resp_add_map(&c->out, c->proto, 7);
    resp_add_cstr(&c->out, "server");
    resp_add_cstr(&c->out, "redis");
    resp_add_cstr(&c->out, "version");
    resp_add_cstr(&c->out, REDIS_COMPAT_VERSION);
    resp_add_cstr(&c->out, "proto");
    resp_add_int(&c->out, c->proto);
    resp_add_cstr(&c->out, "id");
    resp_add_int(&c->out, (long long)c->id);
    resp_add_cstr(&c->out, "mode");
    resp_add_cstr(&c->out, n->cfg.nnodes > 0 ? "cluster" : "standalone");
    resp_add_cstr(&c->out, "role");
    resp_add_cstr(&c->out, "master");
    resp_add_cstr(&c->out, "modules");
    resp_add_array(&c->out, 0);
}

static void cmd_hello(struct client *c, int argc, const struct arg *argv)
{
    int proto = c->proto;
    int i = 1;
    if (argc >= 2) {
        long long v;
        if (!arg_ll(&argv[1], &v)) {
            reply_err(c, "Protocol version is not an integer or out of range");
            return;
        }
        if (v != 2 && v != 3) {
            resp_add_error(&c->out, "NOPROTO", "unsupported protocol version");
            return;
        }
        proto = (int)v;
        i = 2;
    }
    const struct arg *setname = NULL;
    bool authed_now = false;
    for (; i < argc; i++) {
        if (arg_eq(&argv[i], "AUTH") && i + 2 < argc) {
            const char *want = c->node->cfg.requirepass;
            if (!want || !*want || !arg_eq(&argv[i + 1], "default") ||
                !check_password(c, &argv[i + 2])) {
                resp_add_error(&c->out, "WRONGPASS",
                               "invalid username-password pair or user is disabled.");
                return;
            }
            authed_now = true;
            i += 2;
        } else if (arg_eq(&argv[i], "SETNAME") && i + 1 < argc) {
            if (!valid_client_name(&argv[i + 1])) {
                reply_err(c, "Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            setname = &argv[++i];
        } else {
            resp_add_errorf(&c->out, "ERR", "Syntax error in HELLO option '%.*s'",
                            (int)(argv[i].len > 64 ? 64 : argv[i].len), argv[i].p);
            return;
        }
    }
    if (authed_now)
        c->flags |= CLI_F_AUTHED;
    if (!(c->flags & CLI_F_AUTHED)) {
        resp_add_error(&c->out, "NOAUTH", "HELLO must be called with the client already "
                                          "authenticated, otherwise the HELLO <proto> AUTH "
                                          "<user> <pass> option can be used to authenticate "
                                          "the client and select the RESP protocol version at "
                                          "the same time");
        return;
    }
    if (setname)
        set_str(&c->name, setname);
    c->proto = proto;
    hello_reply(c);
}

static void cmd_client(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (arg_eq(sub, "SETNAME") && argc == 3) {
        if (!valid_client_name(&argv[2])) {
            reply_err(c, "Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        set_str(&c->name, &argv[2]);
        reply_ok(c);
    } else if (arg_eq(sub, "GETNAME") && argc == 2) {
        if (c->name)
            resp_add_cstr(&c->out, c->name);
        else
            reply_null(c);
    } else if (arg_eq(sub, "ID") && argc == 2) {
        resp_add_int(&c->out, (long long)c->id);
    } else if (arg_eq(sub, "SETINFO") && argc == 4) {
        if (arg_eq(&argv[2], "LIB-NAME")) {
            if (!valid_client_name(&argv[3])) {
                reply_err(c, "lib-name cannot contain spaces, newlines or special characters.");
                return;
            }
            set_str(&c->lib_name, &argv[3]);
        } else if (arg_eq(&argv[2], "LIB-VER")) {
            if (!valid_client_name(&argv[3])) {
                reply_err(c, "lib-ver cannot contain spaces, newlines or special characters.");
                return;
            }
            set_str(&c->lib_ver, &argv[3]);
        } else {
            resp_add_errorf(&c->out, "ERR", "Unrecognized option '%.*s'",
                            (int)(argv[2].len > 64 ? 64 : argv[2].len), argv[2].p);
            return;
        }
        reply_ok(c);
    } else if (arg_eq(sub, "LIST") && argc == 2) {
        struct buf b;
        buf_init(&b);
        srv_client_list(c->srv, &b);
        resp_add_verbatim(&c->out, c->proto, "txt", b.data, b.len);
        buf_fini(&b);
    } else if (arg_eq(sub, "INFO") && argc == 2) {
        struct buf b;
        buf_init(&b);
        srv_client_info(c, &b);
        resp_add_verbatim(&c->out, c->proto, "txt", b.data, b.len);
        buf_fini(&b);
    } else if (arg_eq(sub, "HELP") && argc == 2) {
        static const char *help[] = {
            "CLIENT <subcommand> [<arg> ...]. Subcommands are:",
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "LIST", "    Return information about client connections.",
            "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
        };
        resp_add_array(&c->out, (long long)(sizeof(help) / sizeof(help[0])));
        for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
            resp_add_simple(&c->out, help[i]);
    } else {
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "CLIENT HELP.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
    }
}

/* ---- keyspace commands ---- */

static void get_done(struct op *op, struct client *c)
{
    reply_plain_value(c, &op->slots[0]);
}

/* HOT: GET.  With R = 1 and the key held here, answers from the local store
 * without decoding any clock. */
static void cmd_get(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct kv_node *n = c->node;
    if (n->cfg.r == 1 && n->cfg.nnodes <= 1) {
        const struct store_entry *e = store_find(n->store, argv[1].p, argv[1].len);
        unsigned nv = e ? store_entry_nversions(e) : 0;
        if (nv == 1) {
            struct store_vref vr;
            store_entry_version(e, 0, &vr);
            if (vr.val && (vr.expire_ms == 0 || vr.expire_ms > kv_now_ms())) {
                n->stats.keyspace_hits++;
                resp_add_bulk(&c->out, vr.val->data, vr.val->len);
                return;
            }
        } else if (nv > 1) {
            n->stats.sibling_reads++;
            reply_siblings(c, nv);
            return;
        }
        n->stats.keyspace_misses++;
        reply_null(c);
        return;
    }
    struct op *op = op_create(c, 1, get_done);
    op_read(op, 0, &argv[1], 0);
    op_dispatched(op, c);
}

static void mget_done(struct op *op, struct client *c)
{
    int64_t now = kv_now_ms();
    resp_add_array(&c->out, op->nslots);
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        /* MGET has no per-key error slot in Redis: a key that failed or
         * has siblings reads as nil, like a missing key. */
        if (!s->err && s->set.n == 1 && version_live(&s->set.v[0], now))
            resp_add_bulk(&c->out, s->set.v[0].val->data, s->set.v[0].val->len);
        else
            reply_null(c);
    }
}

static void cmd_mget(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, mget_done);
    for (int i = 1; i < argc; i++)
        op_read(op, i - 1, &argv[i], 0);
    op_dispatched(op, c);
}

static void exists_done(struct op *op, struct client *c)
{
    int64_t now = kv_now_ms();
    long long n = 0;
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        if (s->err) {
            reply_kverr(c, s->err);
            return;
        }
        if (sib_live_count(&s->set, now) > 0)
            n++;
    }
    resp_add_int(&c->out, n);
}

static void cmd_exists(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, exists_done);
    for (int i = 1; i < argc; i++)
        op_read(op, i - 1, &argv[i], 0);
    op_dispatched(op, c);
}

static void type_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    resp_add_simple(&c->out, sib_live_count(&s->set, kv_now_ms()) > 0 ? "string" : "none");
}

static void cmd_type(struct client *c, int argc, const struct arg *argv)
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

static void set_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    if (op->flags & SET_GET) {
        if (op->oldval)
            resp_add_bulk(&c->out, op->oldval->data, op->oldval->len);
        else
            reply_null(c);
    } else {
        reply_ok(c);
    }
}

/* Parses SET's options into flags and an absolute expiry; false = replied. */
static bool parse_set_opts(struct client *c, int argc, const struct arg *argv, int *flags,
                           int64_t *expire_ms)
{
    int64_t now = kv_now_ms();
    for (int i = 3; i < argc; i++) {
        const struct arg *a = &argv[i];
        bool has_next = i + 1 < argc;
        if (arg_eq(a, "NX") && !(*flags & SET_XX)) {
            *flags |= SET_NX;
        } else if (arg_eq(a, "XX") && !(*flags & SET_NX)) {
            *flags |= SET_XX;
        } else if (arg_eq(a, "GET")) {
            *flags |= SET_GET;
        } else if (arg_eq(a, "KEEPTTL") && !(*flags & SET_EXPIRE)) {
            *flags |= SET_KEEPTTL;
        } else if ((arg_eq(a, "EX") || arg_eq(a, "PX") || arg_eq(a, "EXAT") ||
                    arg_eq(a, "PXAT")) &&
                   !(*flags & (SET_EXPIRE | SET_KEEPTTL)) && has_next) {
            long long v;
            if (!arg_ll(&argv[i + 1], &v)) {
                reply_not_int(c);
                return false;
            }
            bool secs = arg_eq(a, "EX") || arg_eq(a, "EXAT");
            bool abs = arg_eq(a, "EXAT") || arg_eq(a, "PXAT");
            if (v <= 0 || (secs && v > LLONG_MAX / 1000)) {
                reply_err(c, "invalid expire time in 'set' command");
                return false;
            }
            long long ms = secs ? v * 1000 : v;
            if (!abs && ms > LLONG_MAX - now) {
                reply_err(c, "invalid expire time in 'set' command");
                return false;
            }
            *expire_ms = abs ? ms : now + ms;
            *flags |= SET_EXPIRE;
            i++;
        } else {
            reply_syntax(c);
            return false;
        }
    }
    return true;
}

static void cmd_set(struct client *c, int argc, const struct arg *argv)
{
    int flags = 0;
    int64_t expire_ms = 0;
    if (argc > 3 && !parse_set_opts(c, argc, argv, &flags, &expire_ms))
        return;
    struct kv_node *n = c->node;
    if ((long long)argv[2].len > n->cfg.proto_max_bulk_len) {
        reply_err(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return;
    }
    /* Conditions, GET and KEEPTTL look at the coordinator's own versions. */
    struct val *old = NULL;
    if (flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL)) {
        struct sibset local;
        sib_init(&local);
        coord_local_load(n->coord, argv[1].p, argv[1].len, &local);
        int64_t now = kv_now_ms();
        unsigned live = sib_live_count(&local, now);
        if ((flags & SET_GET) && local.n > 1) {
            reply_siblings(c, local.n);
            sib_fini(&local);
            return;
        }
        if (live == 1)
            for (uint32_t i = 0; i < local.n; i++)
                if (version_live(&local.v[i], now)) {
                    old = val_ref(local.v[i].val);
                    if (flags & SET_KEEPTTL)
                        expire_ms = local.v[i].expire_ms;
                }
        sib_fini(&local);
        if (((flags & SET_NX) && live > 0) || ((flags & SET_XX) && live == 0)) {
            if (flags & SET_GET) {
                if (old)
                    resp_add_bulk(&c->out, old->data, old->len);
                else
                    reply_null(c);
            } else {
                reply_null(c);
            }
            val_unref(old);
            return;
        }
    }
    struct op *op = op_create(c, 1, set_done);
    op->flags = flags;
    op->oldval = old;
    struct val *v = val_create(argv[2].p, argv[2].len);
    op_write(op, 0, &argv[1], NULL, v, expire_ms, 0);
    val_unref(v);
    op_dispatched(op, c);
}

static void mset_done(struct op *op, struct client *c)
{
    for (int i = 0; i < op->nslots; i++)
        if (op->slots[i].err) {
            reply_kverr(c, op->slots[i].err);
            return;
        }
    reply_ok(c);
}

static void cmd_mset(struct client *c, int argc, const struct arg *argv)
{
    if (argc % 2 == 0) {
        reply_arity(c, "mset");
        return;
    }
    struct op *op = op_create(c, (argc - 1) / 2, mset_done);
    for (int i = 1; i < argc; i += 2) {
        struct val *v = val_create(argv[i + 1].p, argv[i + 1].len);
        op_write(op, (i - 1) / 2, &argv[i], NULL, v, 0, 0);
        val_unref(v);
    }
    op_dispatched(op, c);
}

static void del_done(struct op *op, struct client *c)
{
    for (int i = 0; i < op->nslots; i++)
        if (op->slots[i].err) {
            reply_kverr(c, op->slots[i].err);
            return;
        }
    resp_add_int(&c->out, op->count);
}

static void cmd_del(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    struct op *op = op_create(c, argc - 1, del_done);
    int64_t now = kv_now_ms();
    for (int i = 1; i < argc; i++) {
        /* Only keys that hold a live value get a tombstone (and count). */
        struct sibset local;
        sib_init(&local);
        coord_local_load(n->coord, argv[i].p, argv[i].len, &local);
        bool live = sib_live_count(&local, now) > 0;
        sib_fini(&local);
        if (!live)
            continue;
        op->count++;
        op_write(op, i - 1, &argv[i], NULL, NULL, 0, 0);
    }
    op_dispatched(op, c);
}

static void cmd_dbsize(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    resp_add_int(&c->out, (long long)store_count_live(c->node->store));
}

static void cmd_flushall(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 2 || (argc == 2 && !arg_eq(&argv[1], "SYNC") && !arg_eq(&argv[1], "ASYNC"))) {
        reply_syntax(c);
        return;
    }
    store_flush(c->node->store);
    reply_ok(c);
}

/* ---- versioned commands (the Dynamo API) ---- */

/* Parses a trailing "R n" / "W n" override; false = replied with an error. */
static bool parse_quorum_opt(struct client *c, int argc, const struct arg *argv, int from,
                             const char *letter, int *out)
{
    *out = 0;
    if (argc == from)
        return true;
    long long v;
    if (argc != from + 2 || !arg_eq(&argv[from], letter)) {
        reply_syntax(c);
        return false;
    }
    if (!arg_ll(&argv[from + 1], &v)) {
        reply_not_int(c);
        return false;
    }
    if (v < 1 || v > c->node->cfg.n) {
        resp_add_errorf(&c->out, "ERR", "%s must be between 1 and n (%d)", letter,
                        c->node->cfg.n);
        return false;
    }
    *out = (int)v;
    return true;
}

static void vget_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    int64_t now = kv_now_ms();
    if (sib_live_count(&s->set, now) == 0 && s->set.n <= 1) {
        reply_null(c);
        return;
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
        if (version_live(v, now))
            resp_add_bulk(&c->out, v->val->data, v->val->len);
        else
            reply_null(c); /* a concurrent delete (tombstone sibling) */
    }
    buf_fini(&tok);
    vc_fini(&ctx);
}

static void cmd_vget(struct client *c, int argc, const struct arg *argv)
{
    int r;
    if (!parse_quorum_opt(c, argc, argv, 2, "R", &r))
        return;
    struct op *op = op_create(c, 1, vget_done);
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}

static void vput_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    struct buf tok;
    buf_init(&tok);
    vc_to_context(&s->vc, &tok);
    resp_add_bulk(&c->out, tok.data ? tok.data : "", tok.len);
    buf_fini(&tok);
}

/* VPUT key context value [W n] / VDEL key context [W n] */
static void vwrite(struct client *c, int argc, const struct arg *argv, bool del)
{
    int w;
    if (!parse_quorum_opt(c, argc, argv, del ? 3 : 4, "W", &w))
        return;
    struct vclock ctx;
    vc_init(&ctx);
    if (vc_from_context(&ctx, argv[2].p, argv[2].len) != 0) {
        reply_kverr(c, KV_EBADCTX);
        vc_fini(&ctx);
        return;
    }
    struct op *op = op_create(c, 1, vput_done);
    struct val *v = del ? NULL : val_create(argv[3].p, argv[3].len);
    op_write(op, 0, &argv[1], &ctx, v, 0, w);
    val_unref(v);
    vc_fini(&ctx);
    op_dispatched(op, c);
}

static void cmd_vput(struct client *c, int argc, const struct arg *argv)
{
    vwrite(c, argc, argv, false);
}

static void cmd_vdel(struct client *c, int argc, const struct arg *argv)
{
    vwrite(c, argc, argv, true);
}

static void vclock_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        reply_kverr(c, s->err);
        return;
    }
    if (s->set.n == 0) {
        reply_null(c);
        return;
    }
    int64_t now = kv_now_ms();
    resp_add_array(&c->out, s->set.n);
    struct buf b;
    buf_init(&b);
    for (uint32_t i = 0; i < s->set.n; i++) {
        const struct version *v = &s->set.v[i];
        b.len = 0;
        if (!v->val)
            buf_printf(&b, "tombstone ");
        else if (!version_live(v, now))
            buf_printf(&b, "expired len=%u ", v->val->len);
        else
            buf_printf(&b, "value len=%u ", v->val->len);
        if (v->expire_ms)
            buf_printf(&b, "expire_ms=%lld ", (long long)v->expire_ms);
        vc_format(&v->vc, &b);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

static void cmd_vclock(struct client *c, int argc, const struct arg *argv)
{
    int r;
    if (!parse_quorum_opt(c, argc, argv, 2, "R", &r))
        return;
    struct op *op = op_create(c, 1, vclock_done);
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}

/* ---- CONFIG ---- */

struct cfg_get_ctx {
    struct buf items;
    long long n;
};

static void config_get_item(void *arg, const char *name, const char *value)
{
    struct cfg_get_ctx *g = arg;
    resp_add_cstr(&g->items, name);
    resp_add_cstr(&g->items, value);
    g->n++;
}

static void cmd_config(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (arg_eq(sub, "GET") && argc >= 3) {
        struct cfg_get_ctx g = {.n = 0};
        buf_init(&g.items);
        for (int i = 2; i < argc; i++) {
            char *pat = arg_dup(&argv[i]);
            cfg_get(&c->node->cfg, pat, config_get_item, &g);
            mem_free(pat);
        }
        resp_add_map(&c->out, c->proto, g.n);
        buf_put(&c->out, g.items.data ? g.items.data : "", g.items.len);
        buf_fini(&g.items);
    } else if (arg_eq(sub, "SET") && argc >= 4 && argc % 2 == 0) {
        struct buf err;
        buf_init(&err);
        for (int i = 2; i < argc; i += 2) {
            char *name = arg_dup(&argv[i]);
            char *value = arg_dup(&argv[i + 1]);
            for (char *p = name; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            int rc = cfg_set(&c->node->cfg, name, value, true, &err);
            mem_free(name);
            mem_free(value);
            if (rc != 0) {
                buf_putc(&err, '\0');
                resp_add_errorf(&c->out, "ERR", "CONFIG SET failed: %s", err.data);
                buf_fini(&err);
                return;
            }
        }
        buf_fini(&err);
        log_set_level(c->node->cfg.loglevel);
        reply_ok(c);
    } else if (arg_eq(sub, "RESETSTAT") && argc == 2) {
        memset(&c->node->stats, 0, sizeof(c->node->stats));
        reply_ok(c);
    } else if (arg_eq(sub, "REWRITE") && argc == 2) {
        reply_err(c, "CONFIG REWRITE is not supported: edit the config file");
    } else {
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "CONFIG HELP.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
    }
}

/* ---- INFO ---- */

static void human_bytes(char *out, size_t n, size_t bytes)
{
    double b = (double)bytes;
    if (b < 1024)
        snprintf(out, n, "%zuB", bytes);
    else if (b < 1024.0 * 1024)
        snprintf(out, n, "%.2fK", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(out, n, "%.2fM", b / (1024.0 * 1024));
    else
        snprintf(out, n, "%.2fG", b / (1024.0 * 1024 * 1024));
}

static bool want_section(int argc, const struct arg *argv, const char *name, bool deflt)
{
    if (argc < 2)
        return deflt;
    for (int i = 1; i < argc; i++)
        if (arg_eq(&argv[i], name) || arg_eq(&argv[i], "all") || arg_eq(&argv[i], "everything") ||
            (deflt && arg_eq(&argv[i], "default")))
            return true;
    return false;
}

static void cmd_info(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    int64_t now = kv_now_ms();
    if (want_section(argc, argv, "server", true)) {
        size_t alen;
        const char *an = vc_actor_name(n->actor, &alen);
        char actor_name[VC_MAX_ACTOR_LEN + 1];
        snprintf(actor_name, sizeof(actor_name), "%.*s", (int)alen, an);
        buf_printf(&b,
                   "# Server\r\nredis_version:%s\r\ndynamo_version:%s\r\nredis_mode:%s\r\n"
                   "os:Linux\r\narch_bits:64\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\n"
                   "cluster_port:%d\r\nnode_name:%s\r\nclock_actor:%s\r\n"
                   "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nconfig_file:%s\r\n\r\n",
                   REDIS_COMPAT_VERSION, DYNAMO_VERSION,
                   n->cfg.nnodes > 0 ? "cluster" : "standalone", (int)getpid(), n->run_id,
                   n->cfg.port, n->cfg.cluster_port, n->cfg.node_name,
                   actor_name, (long long)(time(NULL) - n->start_time),
                   (long long)(time(NULL) - n->start_time) / 86400,
                   n->cfg.config_file ? n->cfg.config_file : "");
    }
    if (want_section(argc, argv, "clients", true)) {
        buf_printf(&b,
                   "# Clients\r\nconnected_clients:%u\r\ncluster_connections:%u\r\n"
                   "maxclients:%d\r\n\r\n",
                   srv_nclients(n->srv, SRV_CLIENT), srv_nclients(n->srv, SRV_PEER),
                   n->cfg.maxclients);
    }
    if (want_section(argc, argv, "memory", true)) {
        size_t used = mem_used(), rss = mem_rss(), qb, ob;
        srv_buffer_totals(n->srv, &qb, &ob);
        char h1[32], h2[32];
        human_bytes(h1, sizeof(h1), used);
        human_bytes(h2, sizeof(h2), rss);
        buf_printf(&b,
                   "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\n"
                   "used_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n"
                   "used_memory_store_overhead:%zu\r\nclients_query_buffers:%zu\r\n"
                   "clients_output_buffers:%zu\r\nmem_allocator:%s\r\n\r\n",
                   used, h1, rss, h2, store_overhead(n->store), qb, ob, mem_allocator());
    }
    if (want_section(argc, argv, "stats", true)) {
        const struct kv_stats *s = &n->stats;
        buf_printf(&b,
                   "# Stats\r\ntotal_connections_received:%llu\r\n"
                   "total_commands_processed:%llu\r\ntotal_net_input_bytes:%llu\r\n"
                   "total_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
                   "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
                   "protocol_errors:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n"
                   "sibling_reads:%llu\r\nexpired_keys:%llu\r\n\r\n",
                   (unsigned long long)s->connections_received,
                   (unsigned long long)s->commands_processed,
                   (unsigned long long)s->net_input_bytes,
                   (unsigned long long)s->net_output_bytes,
                   (unsigned long long)s->rejected_connections,
                   (unsigned long long)s->keyspace_hits, (unsigned long long)s->keyspace_misses,
                   (unsigned long long)s->protocol_errors,
                   (unsigned long long)s->output_limit_disconnections,
                   (unsigned long long)s->sibling_reads, (unsigned long long)s->expired_keys);
    }
    if (want_section(argc, argv, "keyspace", true)) {
        buf_printf(&b, "# Keyspace\r\n");
        size_t live = store_count_live(n->store);
        if (live > 0)
            buf_printf(&b, "db0:keys=%zu,expires=0,avg_ttl=0,stored_keys=%zu\r\n", live,
                       store_count(n->store));
        buf_printf(&b, "\r\n");
    }
    (void)now;
    if (b.len >= 2)
        b.len -= 2; /* no blank line after the last section */
    resp_add_verbatim(&c->out, c->proto, "txt", b.data ? b.data : "", b.len);
    buf_fini(&b);
}

/* ---- COMMAND ---- */

static void cmd_command(struct client *c, int argc, const struct arg *argv);

/* The table.  Arity and key positions follow Redis's COMMAND INFO. */
static const struct cmd_def cmd_table[] = {
    {"get", 2, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_get, "string",
     "Returns the string value of a key.", "key", "1.0.0"},
    {"set", -3, CMD_F_WRITE, 1, 1, 1, cmd_set, "string",
     "Sets the string value of a key, ignoring its type. The key is created if it doesn't "
     "exist.",
     "key value condition?(NX|XX) get?(GET) expiration?(EX seconds|PX milliseconds|EXAT "
     "unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL)",
     "1.0.0"},
    {"del", -2, CMD_F_WRITE, 1, -1, 1, cmd_del, "generic", "Deletes one or more keys.",
     "key+", "1.0.0"},
    {"exists", -2, CMD_F_READONLY | CMD_F_FAST, 1, -1, 1, cmd_exists, "generic",
     "Determines whether one or more keys exist.", "key+", "1.0.0"},
    {"mget", -2, CMD_F_READONLY | CMD_F_FAST, 1, -1, 1, cmd_mget, "string",
     "Atomically returns the string values of one or more keys.", "key+", "1.0.0"},
    {"mset", -3, CMD_F_WRITE, 1, -1, 2, cmd_mset, "string",
     "Sets the string values of one or more keys (each key coordinated on its own).",
     "data+(key value)", "1.0.1"},
    {"type", 2, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_type, "generic",
     "Determines the type of value stored at a key.", "key", "1.0.0"},
    {"dbsize", 1, CMD_F_READONLY | CMD_F_FAST, 0, 0, 0, cmd_dbsize, "server",
     "Returns the number of keys held by this node.", "", "1.0.0"},
    {"flushall", -1, CMD_F_WRITE, 0, 0, 0, cmd_flushall, "server",
     "Removes all keys held by this node.", "flush-type?(ASYNC|SYNC)", "1.0.0"},
    {"flushdb", -1, CMD_F_WRITE, 0, 0, 0, cmd_flushall, "server",
     "Removes all keys held by this node.", "flush-type?(ASYNC|SYNC)", "1.0.0"},
    {"vget", -2, CMD_F_READONLY, 1, 1, 1, cmd_vget, "dynamo",
     "Returns every sibling of a key and the context to write back with VPUT.",
     "key quorum?(R n)", "0.1.0"},
    {"vput", -4, CMD_F_WRITE, 1, 1, 1, cmd_vput, "dynamo",
     "Writes a value that supersedes every version in the context (\"\" = blind write).",
     "key context value quorum?(W n)", "0.1.0"},
    {"vdel", -3, CMD_F_WRITE, 1, 1, 1, cmd_vdel, "dynamo",
     "Deletes (tombstones) every version in the context.", "key context quorum?(W n)",
     "0.1.0"},
    {"vclock", -2, CMD_F_READONLY, 1, 1, 1, cmd_vclock, "dynamo",
     "Shows each sibling of a key with its vector clock, readable.", "key quorum?(R n)",
     "0.1.0"},
    {"ping", -1, CMD_F_FAST | CMD_F_STALE, 0, 0, 0, cmd_ping, "connection",
     "Returns the server's liveliness response.", "message?", "1.0.0"},
    {"echo", 2, CMD_F_FAST, 0, 0, 0, cmd_echo, "connection", "Returns the given string.",
     "message", "1.0.0"},
    {"quit", -1, CMD_F_NOAUTH | CMD_F_FAST, 0, 0, 0, cmd_quit, "connection",
     "Closes the connection.", "", "1.0.0"},
    {"select", 2, CMD_F_FAST | CMD_F_LOADING, 0, 0, 0, cmd_select, "connection",
     "Changes the selected database (only 0 exists).", "index", "1.0.0"},
    {"auth", -2, CMD_F_NOAUTH | CMD_F_FAST | CMD_F_NOSCRIPT, 0, 0, 0, cmd_auth, "connection",
     "Authenticates the connection.", "username? password", "1.0.0"},
    {"hello", -1, CMD_F_NOAUTH | CMD_F_FAST | CMD_F_NOSCRIPT, 0, 0, 0, cmd_hello,
     "connection", "Handshakes with the server.",
     "protover? auth?(AUTH username password) setname?(SETNAME clientname)", "6.0.0"},
    {"client", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_client, "connection",
     "A container for client connection commands.",
     "subcommand(SETNAME|GETNAME|ID|SETINFO|LIST|INFO|HELP) arg*", "2.4.0"},
    {"command", -1, CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_command, "server",
     "Returns detailed information about all commands.",
     "subcommand?(COUNT|DOCS|INFO|LIST) command-name*", "2.8.13"},
    {"config", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_config, "server",
     "A container for server configuration commands.",
     "subcommand(GET|SET|RESETSTAT) parameter*", "2.0.0"},
    {"info", -1, CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_info, "server",
     "Returns information and statistics about the server.", "section*", "1.0.0"},
};

#define CMD_COUNT (sizeof(cmd_table) / sizeof(cmd_table[0]))

/* Name lookup: open addressing over lower-cased names. */
#define CMD_HASH_SIZE 256
static const struct cmd_def *cmd_hash[CMD_HASH_SIZE];

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint32_t)tolower((unsigned char)p[i])) * 16777619u;
    return h;
}

static void cmd_hash_init(void)
{
    static bool done;
    if (done)
        return;
    static_assert(CMD_COUNT < CMD_HASH_SIZE / 2, "command hash too full");
    for (size_t i = 0; i < CMD_COUNT; i++) {
        uint32_t h = name_hash(cmd_table[i].name, strlen(cmd_table[i].name)) & (CMD_HASH_SIZE - 1);
        while (cmd_hash[h])
            h = (h + 1) & (CMD_HASH_SIZE - 1);
        cmd_hash[h] = &cmd_table[i];
    }
    done = true;
}

/* HOT: finds a command by name, case-insensitively. */
static const struct cmd_def *cmd_lookup(const char *p, size_t n)
{
    if (n == 0 || n > 32)
        return NULL;
    uint32_t h = name_hash(p, n) & (CMD_HASH_SIZE - 1);
    for (const struct cmd_def *d; (d = cmd_hash[h]) != NULL; h = (h + 1) & (CMD_HASH_SIZE - 1))
        if (strlen(d->name) == n && strncasecmp(d->name, p, n) == 0)
            return d;
    return NULL;
}

static void add_flags(struct client *c, const struct cmd_def *d)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {CMD_F_WRITE, "write"},     {CMD_F_READONLY, "readonly"}, {CMD_F_ADMIN, "admin"},
        {CMD_F_NOAUTH, "no_auth"},  {CMD_F_FAST, "fast"},         {CMD_F_NOSCRIPT, "noscript"},
        {CMD_F_LOADING, "loading"}, {CMD_F_STALE, "stale"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        n += (d->flags & names[i].bit) != 0;
    resp_add_set(&c->out, c->proto, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (d->flags & names[i].bit)
            resp_add_simple(&c->out, names[i].name);
}

static void add_info(struct client *c, const struct cmd_def *d)
{
    resp_add_array(&c->out, 10);
    resp_add_cstr(&c->out, d->name);
    resp_add_int(&c->out, d->arity);
    add_flags(c, d);
    resp_add_int(&c->out, d->first_key);
    resp_add_int(&c->out, d->last_key);
    resp_add_int(&c->out, d->step);
    resp_add_set(&c->out, c->proto, 0);  /* ACL categories */
    resp_add_set(&c->out, c->proto, 0);  /* tips */
    resp_add_array(&c->out, 0);          /* key specs */
    resp_add_array(&c->out, 0);          /* subcommands */
}

/* Appends one argument map for COMMAND DOCS from a spec token:
 *   name          a required string argument ("key" is typed key)
 *   name?         optional       name+  one or more     name*  zero or more
 *   name?(A|B)    optional one-of tokens;  name(X y)  a block "X y" */
static void add_doc_arg(struct client *c, const char *tok, size_t len)
{
    const char *paren = memchr(tok, '(', len);
    size_t nlen = paren ? (size_t)(paren - tok) : len;
    bool optional = false, multiple = false;
    while (nlen > 0 && strchr("?+*", tok[nlen - 1])) {
        optional |= tok[nlen - 1] == '?' || tok[nlen - 1] == '*';
        multiple |= tok[nlen - 1] == '+' || tok[nlen - 1] == '*';
        nlen--;
    }
    const char *type = "string";
    if (paren)
        type = memchr(paren, '|', len - (size_t)(paren - tok)) ? "oneof" : "pure-token";
    else if (nlen == 3 && memcmp(tok, "key", 3) == 0)
        type = "key";
    int nfields = 2 + (optional || multiple ? 1 : 0) + (paren && type[0] == 'p' ? 1 : 0);
    resp_add_map(&c->out, c->proto, nfields);
    resp_add_cstr(&c->out, "name");
    resp_add_bulk(&c->out, tok, nlen);
    resp_add_cstr(&c->out, "type");
    resp_add_cstr(&c->out, type);
    if (paren && type[0] == 'p') {
        resp_add_cstr(&c->out, "token");
        resp_add_bulk(&c->out, paren + 1, len - nlen - 2 - (size_t)(optional + multiple));
    }
    if (optional || multiple) {
        resp_add_cstr(&c->out, "flags");
        resp_add_set(&c->out, c->proto, optional + multiple);
        if (optional)
            resp_add_simple(&c->out, "optional");
        if (multiple)
            resp_add_simple(&c->out, "multiple");
    }
}

/* Splits a spec on spaces outside parentheses. */
static int doc_tokens(const char *spec, const char **starts, size_t *lens, int max)
{
    int n = 0, depth = 0;
    const char *start = NULL;
    for (const char *p = spec;; p++) {
        if (*p == '\0' || (*p == ' ' && depth == 0)) {
            if (start && n < max) {
                starts[n] = start;
                lens[n++] = (size_t)(p - start);
            }
            start = NULL;
            if (*p == '\0')
                break;
            continue;
        }
        if (!start)
            start = p;
        depth += *p == '(';
        depth -= *p == ')';
    }
    return n;
}

static void add_doc(struct client *c, const struct cmd_def *d)
{
    const char *starts[16];
    size_t lens[16];
    int nargs = doc_tokens(d->args, starts, lens, 16);
    resp_add_cstr(&c->out, d->name);
    resp_add_map(&c->out, c->proto, nargs ? 5 : 4);
    resp_add_cstr(&c->out, "summary");
    resp_add_cstr(&c->out, d->summary);
    resp_add_cstr(&c->out, "since");
    resp_add_cstr(&c->out, d->since);
    resp_add_cstr(&c->out, "group");
    resp_add_cstr(&c->out, d->group);
    resp_add_cstr(&c->out, "complexity");
    resp_add_cstr(&c->out, d->flags & CMD_F_FAST ? "O(1)" : "O(N)");
    if (nargs) {
        resp_add_cstr(&c->out, "arguments");
        resp_add_array(&c->out, nargs);
        for (int i = 0; i < nargs; i++)
            add_doc_arg(c, starts[i], lens[i]);
    }
}

static void cmd_command(struct client *c, int argc, const struct arg *argv)
{
    if (argc == 1) {
        resp_add_array(&c->out, (long long)CMD_COUNT);
        for (size_t i = 0; i < CMD_COUNT; i++)
            add_info(c, &cmd_table[i]);
        return;
    }
    const struct arg *sub = &argv[1];
    if (arg_eq(sub, "COUNT") && argc == 2) {
        resp_add_int(&c->out, (long long)CMD_COUNT);
    } else if (arg_eq(sub, "LIST") && argc == 2) {
        resp_add_array(&c->out, (long long)CMD_COUNT);
        for (size_t i = 0; i < CMD_COUNT; i++)
            resp_add_cstr(&c->out, cmd_table[i].name);
    } else if (arg_eq(sub, "INFO")) {
        if (argc == 2) {
            resp_add_array(&c->out, (long long)CMD_COUNT);
            for (size_t i = 0; i < CMD_COUNT; i++)
                add_info(c, &cmd_table[i]);
            return;
        }
        resp_add_array(&c->out, argc - 2);
        for (int i = 2; i < argc; i++) {
            const struct cmd_def *d = cmd_lookup(argv[i].p, argv[i].len);
            if (d)
                add_info(c, d);
            else
                resp_add_null_array(&c->out, c->proto);
        }
    } else if (arg_eq(sub, "DOCS")) {
        if (argc == 2) {
            resp_add_map(&c->out, c->proto, (long long)CMD_COUNT);
            for (size_t i = 0; i < CMD_COUNT; i++)
                add_doc(c, &cmd_table[i]);
            return;
        }
        int found = 0;
        for (int i = 2; i < argc; i++)
            found += cmd_lookup(argv[i].p, argv[i].len) != NULL;
        resp_add_map(&c->out, c->proto, found);
        for (int i = 2; i < argc; i++) {
            const struct cmd_def *d = cmd_lookup(argv[i].p, argv[i].len);
            if (d)
                add_doc(c, d);
        }
    } else {
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "COMMAND HELP.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
    }
}

/* ---- dispatch ---- */

static void reply_unknown(struct client *c, int argc, const struct arg *argv)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "unknown command '%.*s', with args beginning with: ",
               (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].p);
    for (int i = 1; i < argc && b.len < 256; i++)
        buf_printf(&b, "'%.*s' ", (int)(argv[i].len > 64 ? 64 : argv[i].len), argv[i].p);
    buf_putc(&b, '\0');
    reply_err(c, b.data);
    buf_fini(&b);
}

/* HOT: one complete request. */
void cmd_dispatch(struct client *c, int argc, const struct arg *argv)
{
    cmd_hash_init();
    const struct cmd_def *d = cmd_lookup(argv[0].p, argv[0].len);
    if (!d) {
        c->last_cmd = "unknown";
        reply_unknown(c, argc, argv);
        return;
    }
    c->last_cmd = d->name;
    if ((d->arity > 0 && argc != d->arity) || (d->arity < 0 && argc < -d->arity)) {
        reply_arity(c, d->name);
        return;
    }
    if (!(c->flags & CLI_F_AUTHED) && !(d->flags & CMD_F_NOAUTH)) {
        resp_add_error(&c->out, "NOAUTH", "Authentication required.");
        return;
    }
    d->fn(c, argc, argv);
}

void cmd_client_gone(struct client *c)
{
    (void)c;
}
