/* typed.c — the typed-key command framework (see typed.h): routing, the
 * read of the key and its sources, type checks, the coordinator's in-place
 * write (replica_update), the delta's replication (coord_write_delta) and
 * the reply.
 *
 * Owns one struct treq per command in flight (embedding the struct op of
 * the key commands, kv_op.h): the copied arguments, the reads' results and
 * the reply fn wrote.  Callers: the type command files (cmd_hash.c,
 * cmd_set.c, cmd_zset.c, cmd_counter.c) through cmd_typed; the string
 * commands use typed_classify to refuse or read typed keys.
 *
 * Steps of one command (all on the event loop):
 *   1. op_forward_whole: the key's coordinator is another node -> the whole
 *      command goes there (its reply comes back as is);
 *   2. one read per key (the key and each source): coord_read_for_write
 *      without `fresh` (this node's copy when it holds the key, else a
 *      quorum read), so a command sees everything its coordinator did;
 *   3. reads: fn runs on the merged states and its reply is sent;
 *      writes: replica_update runs fn on this node's own state in place
 *      (the read's versions merged in first when this node had none), the
 *      operations' joined delta is logged, then sent to the other replicas
 *      (coord_write_delta); the reply waits for W.
 */
#include "cmd/typed.h"

#include <string.h>

#include "cluster/coord.h"
#include "cmd/kv_op.h"
#include "cmd/node.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "core/tval.h"
#include "storage/replica.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"

struct typed_priv {
    struct crdt delta;      /* the joined deltas of fn's operations */
    bool has_delta;
    struct version *y;      /* write: the state fn changes (in the stored set) */
    struct sibset *stored;  /* write: the key's stored set */
    enum crdt_type type;
    struct val *conv;       /* TYPED_CONVERT: the string to convert (a reference) */
    int64_t conv_expire;    /* and its TTL */
};

struct treq {
    struct op *op;
    enum crdt_type type;
    unsigned flags;
    typed_fn fn;
    char *key;
    size_t klen;
    int argc;
    struct arg *argv;       /* copies, in blob */
    char *blob;
    int nsrc;
    int *src_arg;           /* argv index of each source */
    struct sibset *read;    /* [0]: the key, [1 + i]: source i */
    int pending;            /* reads in flight */
    int64_t start_us;
    struct buf reply;
    int err;                /* a KV_E* error instead of the reply */
};

static const char WRONGTYPE[] = "Operation against a key holding the wrong kind of value";

void typed_reply_wrongtype(struct buf *out)
{
    resp_add_error(out, "WRONGTYPE", WRONGTYPE);
}

/* ---- classifying a key's versions ---- */

const char *typed_type_name(enum crdt_type t)
{
    switch (t) {
    case CRDT_HASH:
        return "hash";
    case CRDT_SET:
        return "set";
    case CRDT_ZSET:
        return "zset";
    default:
        return "string";
    }
}

int typed_classify(const struct sibset *set, int64_t now, enum crdt_type *type,
                   const struct version **state)
{
    *type = CRDT_NONE;
    *state = NULL;
    unsigned strings = 0, states = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct version *v = &set->v[i];
        if (!version_live(v, now))
            continue;
        if (!val_is_typed(v->val)) {
            strings++;
            continue;
        }
        states++;
        *type = tval_type(v->val);
        *state = v;
    }
    if (strings + states > 1 && states > 0)
        return TYPED_CONFLICT;
    if (strings > 0)
        return TYPED_STRING;
    return states ? TYPED_STATE : TYPED_ABSENT;
}

struct val *typed_counter_string(const struct val *v)
{
    if (tval_type(v) != CRDT_COUNTER)
        return NULL;
    const struct crdt_elem *el = crdt_find(tval_ccrdt(v), "", 0);
    struct buf b;
    buf_init(&b);
    if (el && crdt_value(el, CRDT_COUNTER, &b) != 0)
        b.len = 0; /* an int64 sum out of range: only concurrent increments build it */
    struct val *s = val_create(b.data ? b.data : "", b.len);
    buf_fini(&b);
    return s;
}

static void reply_conflict(struct buf *out)
{
    resp_add_error(out, "ERR",
                   "key holds concurrent versions of different types (a partition wrote "
                   "both); read them with VGET, resolve with DEL or SET");
}

/* The state of key for a read (of type want, or also `also` unless that is
 * CRDT_NONE), or an error reply in out: false. */
static bool state_of2(const struct sibset *set, enum crdt_type want, enum crdt_type also,
                      int64_t now, const struct crdt **st, struct buf *out);

static bool state_of(const struct sibset *set, enum crdt_type want, int64_t now,
                     const struct crdt **st, struct buf *out)
{
    return state_of2(set, want, CRDT_NONE, now, st, out);
}

static bool state_of2(const struct sibset *set, enum crdt_type want, enum crdt_type also,
                      int64_t now, const struct crdt **st, struct buf *out)
{
    enum crdt_type t;
    const struct version *v;
    *st = NULL;
    switch (typed_classify(set, now, &t, &v)) {
    case TYPED_ABSENT:
        return true;
    case TYPED_STATE:
        if (t != want && (also == CRDT_NONE || t != also)) {
            typed_reply_wrongtype(out);
            return false;
        }
        *st = tval_ccrdt(v->val);
        return true;
    case TYPED_STRING:
        typed_reply_wrongtype(out);
        return false;
    default:
        reply_conflict(out);
        return false;
    }
}

/* ---- the handle fn writes through ---- */

struct crdt *typed_mut(struct typed_call *t)
{
    struct typed_priv *p = t->priv;
    if (p->y)
        return tval_crdt(p->y->val);
    /* the key is absent (or a deleted / expired / other-typed-and-dead
     * state): a new state that has seen every version stored */
    struct sibset *set = p->stored;
    struct val *nv = tval_new(p->type);
    struct crdt *c = tval_crdt(nv);
    struct vclock ctx;
    vc_init(&ctx);
    sib_context(set, &ctx);
    crdt_ctx_seed(c, &ctx);
    vc_fini(&ctx);
    /* an old state of this type that is dead (expired): cleared, so none of
     * its elements come back; the clear's delta reaches the replicas */
    for (uint32_t i = 0; i < set->n; i++) {
        struct version *o = &set->v[i];
        if (tval_type(o->val) == p->type) {
            struct crdt *oc = tval_crdt(o->val);
            crdt_join(c, oc);
            struct crdt d;
            crdt_clear(c, t->actor, &d);
            typed_took(t, &d);
            break;
        }
    }
    /* the new state replaces what it has seen (tombstones, dead states) */
    uint32_t w = 0;
    for (uint32_t r = 0; r < set->n; r++) {
        if (set->v[r].val == NULL || !version_live(&set->v[r], t->now_ms) ||
            (val_is_typed(set->v[r].val) && tval_empty(set->v[r].val))) {
            version_fini(&set->v[r]);
            continue;
        }
        if (w != r)
            set->v[w] = set->v[r];
        w++;
    }
    set->n = w;
    if (set->n == set->cap) {
        set->cap = set->cap ? set->cap * 2 : 2;
        set->v = mem_realloc(set->v, (size_t)set->cap * sizeof(*set->v));
    }
    struct version *y = &set->v[set->n++];
    version_init(y);
    y->val = nv;
    vc_copy(&y->vc, &c->vc);
    p->y = y;
    if (p->conv) { /* the string becomes the counter's base, TTL kept */
        struct crdt d;
        crdt_reg_set(c, t->actor, "", 0, p->conv, &d, NULL);
        typed_took(t, &d);
        if (p->conv_expire) {
            crdt_expire_set(c, t->actor, p->conv_expire, &d);
            typed_took(t, &d);
        }
        val_unref(p->conv);
        p->conv = NULL;
    }
    return c;
}

const struct val *typed_string(const struct typed_call *t)
{
    return t->priv->conv;
}

void typed_took(struct typed_call *t, struct crdt *delta)
{
    struct typed_priv *p = t->priv;
    if (delta->type == CRDT_NONE) {
        crdt_fini(delta);
        return;
    }
    if (!p->has_delta) { /* the first (often only) operation: its delta as is */
        memcpy(&p->delta, delta, sizeof(*delta));
        crdt_init(delta, CRDT_NONE);
        p->has_delta = true;
        return;
    }
    crdt_join(&p->delta, delta);
    crdt_fini(delta);
}

void typed_reset(struct typed_call *t)
{
    struct crdt *c = typed_mut(t);
    struct crdt d;
    crdt_clear(c, t->actor, &d);
    typed_took(t, &d);
}

/* ---- the request ---- */

static void treq_free(struct treq *q)
{
    for (int i = 0; i <= q->nsrc; i++)
        sib_fini(&q->read[i]);
    mem_free(q->read);
    mem_free(q->src_arg);
    mem_free(q->argv);
    mem_free(q->blob);
    mem_free(q->key);
    buf_fini(&q->reply);
    mem_free(q);
}

static void typed_finish(struct op *op, struct client *c)
{
    struct treq *q = op->extra;
    if (q->err)
        cmd_reply_kverr(c, q->err);
    else
        buf_put(&c->out, q->reply.data ? q->reply.data : "", q->reply.len);
}

static void extra_free(void *extra)
{
    treq_free(extra);
}

static void call_init(struct typed_call *t, struct treq *q, struct typed_priv *p)
{
    memset(t, 0, sizeof(*t));
    memset(p, 0, sizeof(*p));
    p->type = q->type;
    t->priv = p;
    t->actor = q->op->d.node->actor;
    t->proto = q->op->d.proto;
    t->now_ms = clock_now_ms();
    t->argc = q->argc;
    t->argv = q->argv;
    t->nsrc = q->nsrc;
    buf_init(&t->reply);
}

/* The sources' states into t; false with the error in t->reply. */
static bool load_srcs(struct typed_call *t, struct treq *q)
{
    enum crdt_type also = (q->flags & TYPED_SRCS_SETS) ? CRDT_SET : CRDT_NONE;
    for (int i = 0; i < q->nsrc; i++)
        if (!state_of2(&q->read[1 + i], q->type, also, t->now_ms, &t->src[i], &t->reply))
            return false;
    return true;
}

static void run_read(struct treq *q)
{
    struct typed_call t;
    struct typed_priv p;
    call_init(&t, q, &p);
    enum crdt_type also = (q->flags & TYPED_SRCS_SETS) ? CRDT_SET : CRDT_NONE;
    if (load_srcs(&t, q) && state_of2(&q->read[0], q->type, also, t.now_ms, &t.state, &t.reply))
        q->fn(&t);
    buf_fini(&q->reply);
    q->reply = t.reply;
}

struct upd {
    struct treq *q;
    struct typed_call *t;
};

/* y's state (in a set store_update loaded), this node's own to change in
 * place: copied first when a request in flight holds it too (the store
 * and the loaded set hold the other two references). */
static struct crdt *own_state(struct version *y)
{
    if (val_refs(y->val) > 2) {
        struct val *c = tval_copy(y->val);
        val_unref(y->val);
        y->val = c;
    }
    return tval_crdt(y->val);
}

/* Fills delta (empty) with what the replicas get: the operations' delta d
 * (taken), clocked with what this coordinator has seen (y, the state after
 * the change).  Appended as is: sib_add would make a full state of it. */
static void ship(struct sibset *delta, struct crdt *d, const struct version *y)
{
    struct version dv;
    version_init(&dv);
    dv.val = tval_wrap(d); /* stays a (scoped) delta */
    vc_copy(&dv.vc, &y->vc);
    dv.epoch = y->epoch;
    dv.expire_ms = crdt_expire(tval_ccrdt(dv.val));
    delta->v = mem_realloc(delta->v, sizeof(*delta->v));
    delta->cap = 1;
    delta->v[0] = dv;
    delta->n = 1;
}

/* replica_update's fn: the command on this node's own copy. */
static int update(void *arg, struct sibset *set, struct sibset *delta)
{
    struct upd *u = arg;
    struct treq *q = u->q;
    struct typed_call *t = u->t;
    struct typed_priv *p = t->priv;
    /* what the read brought from other replicas when this node had none */
    if (set->n == 0)
        for (uint32_t i = 0; i < q->read[0].n; i++)
            sib_add_shared(set, &q->read[0].v[i], 2);
    p->stored = set;
    const struct crdt *st = NULL;
    enum crdt_type kt;
    const struct version *kv;
    if ((q->flags & TYPED_CONVERT) &&
        typed_classify(set, t->now_ms, &kt, &kv) == TYPED_STRING) {
        const struct version *sv = sib_agreed(set);
        if (!sv || !version_live(sv, t->now_ms)) {
            cmd_reply_siblings_buf(&t->reply, set->n);
            return 0;
        }
        p->conv = val_ref(sv->val);
        p->conv_expire = sv->expire_ms;
    } else if (!state_of(set, q->type, t->now_ms, &st, &t->reply)) {
        if (!(q->flags & TYPED_OVERWRITE))
            return 0;
        /* a STORE form replaces whatever the key holds: the new state
         * (typed_mut) has seen every version and supersedes them */
        t->reply.len = 0;
        st = NULL;
    }
    t->state = st;
    /* the state fn changes: the live one, or an empty one of this type
     * (its context goes on; fn still sees the key as absent) */
    for (uint32_t i = 0; i < set->n; i++) {
        struct version *v = &set->v[i];
        if (tval_type(v->val) == q->type && v->epoch == replica_epoch(q->op->d.node->replica) &&
            (v->expire_ms == 0 || v->expire_ms > t->now_ms) &&
            (st == tval_ccrdt(v->val) || tval_empty(v->val)))
            p->y = v;
    }
    if (p->y) {
        struct crdt *own = own_state(p->y);
        if (st)
            t->state = own;
    }
    q->fn(t);
    val_unref(p->conv);
    p->conv = NULL;
    if (!p->has_delta)
        return 0;
    /* the state's clock and expiry follow what it now holds; its
     * timestamp says when it changed (the reaper ages deleted states) */
    struct crdt *c = tval_crdt(p->y->val);
    vc_merge(&p->y->vc, &c->vc);
    vc_stamp(&p->y->vc, t->actor, (uint64_t)t->now_ms);
    p->y->expire_ms = crdt_expire(c);
    p->y->epoch = replica_epoch(q->op->d.node->replica);
    /* what the state supersedes now (tombstones it has seen) */
    uint32_t w = 0;
    for (uint32_t r = 0; r < set->n; r++) {
        if (&set->v[r] != p->y && version_seen_by(&set->v[r], p->y)) {
            version_fini(&set->v[r]);
            continue;
        }
        if (w != r)
            set->v[w] = set->v[r];
        if (&set->v[r] == p->y)
            p->y = &set->v[w];
        w++;
    }
    set->n = w;
    ship(delta, &p->delta, p->y);
    p->has_delta = false;
    return 1;
}

static void write_done(void *arg, int err, const struct vclock *vc)
{
    (void)vc;
    struct treq *q = arg;
    if (err)
        q->err = err;
    defer_sub_end(&q->op->d);
}

static void run_write(struct treq *q)
{
    struct typed_call t;
    struct typed_priv p;
    call_init(&t, q, &p);
    struct kv_node *n = q->op->d.node;
    if (!load_srcs(&t, q)) {
        buf_fini(&q->reply);
        q->reply = t.reply;
        defer_sub_end(&q->op->d);
        return;
    }
    struct sibset delta;
    sib_init(&delta);
    struct upd u = {q, &t};
    int rc = replica_update(n->replica, q->key, q->klen, update, &u, &delta);
    if (p.has_delta)
        crdt_fini(&p.delta);
    buf_fini(&q->reply);
    q->reply = t.reply;
    if (rc < 0)
        q->err = rc;
    if (rc <= 0 || delta.n == 0) {
        sib_fini(&delta);
        defer_sub_end(&q->op->d);
        return;
    }
    int64_t spent_ms = (clock_mono_us() - q->start_us) / 1000;
    int left_ms = n->cfg.put_timeout_ms - (int)spent_ms;
    /* the read's sub-request goes on as the write (write_done ends it) */
    coord_write_delta(n->coord, q->key, q->klen, &delta, true, 0, q->op->pw,
                      left_ms > 0 ? left_ms : 1, write_done, q);
    sib_fini(&delta);
}

/* ---- the TTL of a typed key (EXPIRE, PERSIST; cmd_kv.c's rmw) ---- */

struct keyop {
    bool del;      /* DEL: clear the state; else EXPIRE/PERSIST to `when` */
    int64_t when;
    uint32_t actor;
    uint32_t epoch;
};

static int keyop_update(void *arg, struct sibset *set, struct sibset *delta)
{
    const struct keyop *e = arg;
    struct version *y = NULL;
    for (uint32_t i = 0; i < set->n; i++)
        if (val_is_typed(set->v[i].val) && set->v[i].epoch == e->epoch &&
            !tval_empty(set->v[i].val))
            y = &set->v[i];
    if (!y)
        return 0; /* gone meanwhile */
    struct crdt *c = own_state(y);
    struct crdt d;
    int rc = e->del ? crdt_clear(c, e->actor, &d) : crdt_expire_set(c, e->actor, e->when, &d);
    if (rc != 0) {
        crdt_fini(&d);
        return 0;
    }
    vc_merge(&y->vc, &c->vc);
    vc_stamp(&y->vc, e->actor, (uint64_t)clock_now_ms());
    y->expire_ms = crdt_expire(c);
    ship(delta, &d, y);
    return 1;
}

static int keyop(struct kv_node *n, const void *key, size_t klen, const struct keyop *e, int pw,
                 int timeout_ms, typed_write_cb cb, void *arg)
{
    struct sibset delta;
    sib_init(&delta);
    int rc = replica_update(n->replica, key, klen, keyop_update, (void *)e, &delta);
    if (rc <= 0) {
        sib_fini(&delta);
        cb(arg, rc < 0 ? rc : 0, NULL);
        return 0;
    }
    rc = coord_write_delta(n->coord, key, klen, &delta, true, 0, pw, timeout_ms, cb, arg);
    sib_fini(&delta);
    return rc;
}

int typed_set_expiry(struct kv_node *n, const void *key, size_t klen, int64_t expire_ms, int pw,
                     int timeout_ms, typed_write_cb cb, void *arg)
{
    struct keyop e = {false, expire_ms, n->actor, replica_epoch(n->replica)};
    return keyop(n, key, klen, &e, pw, timeout_ms, cb, arg);
}

int typed_delete(struct kv_node *n, const void *key, size_t klen, int pw, int timeout_ms,
                 typed_write_cb cb, void *arg)
{
    struct keyop e = {true, 0, n->actor, replica_epoch(n->replica)};
    return keyop(n, key, klen, &e, pw, timeout_ms, cb, arg);
}

static void read_done(void *arg, int err, const struct sibset *set);

struct tread {
    struct treq *q;
    int i;
};

static const char *key_of(const struct treq *q, int i, size_t *len)
{
    *len = i == 0 ? q->klen : q->argv[q->src_arg[i - 1]].len;
    return i == 0 ? q->key : q->argv[q->src_arg[i - 1]].p;
}

/* Every read is in: what this node holds now is merged in (a read that
 * went elsewhere took time), then the command runs. */
static void all_read(struct treq *q)
{
    for (int i = 0; i <= q->nsrc; i++) {
        size_t kl;
        const char *k = key_of(q, i, &kl);
        if (i == 0 && (q->flags & TYPED_WRITE)) {
            /* the write changes this node's copy in place: hold no other
             * reference to it (replica_update loads it) */
            if (store_find(q->op->d.node->store, k, kl))
                sib_clear(&q->read[0]);
            continue;
        }
        struct sibset local;
        sib_init(&local);
        coord_local_load(q->op->d.node->coord, k, kl, &local);
        sib_merge(&q->read[i], &local);
        sib_fini(&local);
    }
    if (q->flags & TYPED_WRITE) {
        run_write(q); /* the sub-request goes on as the write */
    } else {
        run_read(q);
        defer_sub_end(&q->op->d);
    }
}

static void read_done(void *arg, int err, const struct sibset *set)
{
    struct tread *r = arg;
    struct treq *q = r->q;
    /* a missed read quorum leaves this node's copy (merged in all_read) */
    if (!err && set)
        sib_merge(&q->read[r->i], set);
    mem_free(r);
    if (--q->pending > 0) {
        defer_sub_end(&q->op->d);
        return;
    }
    all_read(q);
}

void cmd_typed(struct client *c, int argc, const struct arg *argv, const struct arg *key,
               enum crdt_type type, unsigned flags, const struct arg *srcs, int nsrc,
               typed_fn fn)
{
    if (nsrc > TYPED_MAX_SRCS) {
        resp_add_errorf(&c->out, "ERR", "too many keys (at most %d)", TYPED_MAX_SRCS);
        return;
    }
    if (op_forward_whole(c, argc, argv, key))
        return;
    struct treq *q = mem_calloc(1, sizeof(*q));
    q->type = type;
    q->flags = flags;
    q->fn = fn;
    q->key = mem_memdup(key->p, key->len);
    q->klen = key->len;
    q->start_us = clock_mono_us();
    buf_init(&q->reply);
    /* the arguments, copied: fn runs after the query buffer moved on */
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += argv[i].len + 1;
    q->blob = mem_alloc(total ? total : 1);
    q->argv = mem_alloc((size_t)argc * sizeof(*q->argv));
    q->argc = argc;
    size_t off = 0;
    for (int i = 0; i < argc; i++) {
        memcpy(q->blob + off, argv[i].p, argv[i].len);
        q->blob[off + argv[i].len] = '\0';
        q->argv[i].p = q->blob + off;
        q->argv[i].len = argv[i].len;
        off += argv[i].len + 1;
    }
    q->nsrc = nsrc;
    q->src_arg = mem_calloc((size_t)(nsrc ? nsrc : 1), sizeof(int));
    for (int i = 0; i < nsrc; i++)
        q->src_arg[i] = (int)(srcs + i - argv);
    q->read = mem_calloc((size_t)nsrc + 1, sizeof(*q->read));
    struct op *op = op_create(c, 1, typed_finish);
    op->extra = q;
    op->extra_free = extra_free;
    q->op = op;
    /* Keys this node holds are read here (all_read); the others by a
     * quorum read (coord_read_for_write), each a counted sub-request. */
    bool remote[TYPED_MAX_SRCS + 1];
    q->pending = 0;
    for (int i = 0; i <= nsrc; i++) {
        size_t kl;
        const char *k = key_of(q, i, &kl);
        remote[i] = !store_find(c->node->store, k, kl);
        q->pending += remote[i];
    }
    defer_sub_begin(&op->d); /* the command itself */
    if (q->pending == 0) {
        all_read(q);
    } else {
        q->pending++; /* released below, once every read is launched */
        for (int i = 0; i <= nsrc; i++) {
            if (!remote[i])
                continue;
            struct tread *r = mem_alloc(sizeof(*r));
            r->q = q;
            r->i = i;
            defer_sub_begin(&op->d);
            size_t kl;
            const char *k = key_of(q, i, &kl);
            coord_read_for_write(op->d.node->coord, k, kl, false, read_done, r);
        }
        if (--q->pending == 0)
            all_read(q);
        else
            defer_sub_end(&op->d);
    }
    op_dispatched(op, c);
}
