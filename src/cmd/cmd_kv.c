/* cmd_kv.c — key commands (GET/SET/DEL/MGET/MSET/EXISTS/TYPE, VGET/VPUT/
 * VDEL/VCLOCK, DBSIZE/FLUSHALL) and the aggregation of their sub-requests.
 *
 * Owns: struct op, one per client command that waits on the coordinator.
 * A handler either writes its whole reply before it returns, or creates an
 * op; the op writes the reply into the request's reserved slot when its
 * last key completes.  Handlers copy what they keep: argv points into the
 * connection's query buffer.
 *
 * Every coordinator request an op starts counts against its connection's
 * max-inflight-per-client (see op_pump); multi-key commands launch their
 * keys as earlier ones complete.  Read results gathered for a later reply
 * are charged to the client's output limit (srv_client_hold).
 *
 * Also owns the reply capture (cmd.h): an op created while its client's
 * dispatch is captured (EXEC running a queued command, cmd_call running SET
 * or VDEL for RENAME/COPY) hands its finished reply to the capturer instead
 * of a reply slot.
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

#include "storage/replica.h"
#include "cmd/cmd.h"
#include "core/config.h"
#include "cluster/coord.h"
#include "util/clock.h"
#include "util/errors.h"
#include "node.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

/* ---- async aggregation ---- */

struct op;
typedef void (*op_finish_fn)(struct op *op, struct client *c);

struct op_slot {
    int err;
    struct sibset set;      /* read result */
    struct vclock vc;       /* write result */
    bool forwarded;         /* answered by the key's coordinator elsewhere */
    struct buf raw;         /* forwarded: the reply, encoded for the client */
    long long ival;         /* forwarded: an integer reply's value */
    bool remote_err;        /* forwarded: the reply was an error */
};

struct op;
/* Starts sub-request i of a multi-key command, from op->largv. */
typedef void (*op_launch_fn)(struct op *op, int i);

struct op {
    struct kv_node *node;
    uint64_t cid;
    bool accounted;         /* cid is a real connection: its in-flight cap holds */
    bool via_peer;          /* the command came on the cluster port (PFWD) */
    int left;               /* outstanding completions + the dispatch guard
                               + the launch guard while sub-requests wait */
    int inflight;           /* sub-requests of this op in flight */
    size_t held;            /* result bytes charged to the client (srv_client_hold) */
    /* sub-requests not launched yet (multi-key commands over the cap) */
    op_launch_fn launch;
    struct arg *largv;      /* the command's arguments, copied (argv is transient) */
    char *lblob;
    int lnext, lend;        /* next sub-request to launch, and how many */
    bool pumping;           /* op_pump is on the stack: completions only count */
    struct reply_slot *slot; /* reserved reply place when answered late */
    op_finish_fn finish;
    int nslots;
    long long count;        /* DEL/EXISTS tally */
    int flags;
    int proto;              /* the client's protocol, for forwarded replies */
    bool skipped;           /* SET NX/XX: condition not met, nothing written */
    struct val *oldval;     /* SET GET */
    void *extra;            /* per-command state (cmd_read) */
    cmd_call_fn call_done;  /* captured (cmd_capture_take): the reply goes here */
    void *call_arg;
    struct op_slot slots[];
};

/* ---- reply capture (cmd.h) ---- */

/* The innermost capture: begin/end bracket one synchronous dispatch. */
static struct cmd_capture *capture_top;

void cmd_capture_begin(struct cmd_capture *cap, struct client *c, cmd_call_fn done, void *arg)
{
    cap->c = c;
    cap->done = done;
    cap->arg = arg;
    cap->taken = false;
    cap->outer = capture_top;
    capture_top = cap;
}

void cmd_capture_end(struct cmd_capture *cap)
{
    capture_top = cap->outer;
}

bool cmd_capture_take(struct client *c, cmd_call_fn *done, void **arg)
{
    struct cmd_capture *cap = capture_top;
    if (!cap || cap->c != c || cap->taken)
        return false;
    cap->taken = true;
    *done = cap->done;
    *arg = cap->arg;
    return true;
}

static struct op *op_create(struct client *c, int nslots, op_finish_fn finish)
{
    struct op *op = mem_calloc(1, sizeof(*op) + (size_t)nslots * sizeof(struct op_slot));
    op->node = c->node;
    op->cid = c->id;
    op->left = 1;
    op->finish = finish;
    op->nslots = nslots;
    op->proto = c->proto;
    op->accounted = srv_client_find(c->node->srv, c->id) == c;
    cmd_capture_take(c, &op->call_done, &op->call_arg);
    for (int i = 0; i < nslots; i++) {
        sib_init(&op->slots[i].set);
        vc_init(&op->slots[i].vc);
        buf_init(&op->slots[i].raw);
    }
    return op;
}

static void op_destroy(struct op *op)
{
    for (int i = 0; i < op->nslots; i++) {
        sib_fini(&op->slots[i].set);
        vc_fini(&op->slots[i].vc);
        buf_fini(&op->slots[i].raw);
    }
    val_unref(op->oldval);
    mem_free(op->largv);
    mem_free(op->lblob);
    mem_free(op);
}

static void op_fill(void *arg, struct client *c)
{
    struct op *op = arg;
    op->finish(op, c);
}

void cmd_scratch_init(struct client *c, struct kv_node *node, int proto)
{
    memset(c, 0, sizeof(*c));
    c->node = node;
    c->proto = proto;
    c->kind = SRV_CLIENT;
    c->flags = CLI_F_AUTHED;
    buf_init(&c->out);
}

/* A captured op is complete: its reply goes to the capturer. */
static void op_call_finish(struct op *op)
{
    struct client tmp;
    cmd_scratch_init(&tmp, op->node, op->proto);
    op->finish(op, &tmp);
    op->call_done(op->call_arg, tmp.out.data ? tmp.out.data : "", tmp.out.len);
    buf_fini(&tmp.out);
}

/* The op's connection, or NULL (gone, or a scratch client). */
static struct client *op_client(struct op *op)
{
    return op->accounted ? srv_client_find(op->node->srv, op->cid) : NULL;
}

/* One completion arrived (or the dispatch guard is dropped). */
static void op_release(struct op *op)
{
    if (--op->left > 0)
        return;
    if (op->held) {
        struct client *hc = op_client(op);
        if (hc)
            srv_client_hold(hc, -(long long)op->held);
        op->held = 0;
    }
    if (op->call_done) {
        op_call_finish(op);
        op_destroy(op);
        return;
    }
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
    if (op->left > 1 && !op->call_done)
        op->slot = srv_slot_open(c);
    op_release(op);
}

struct op_ref {
    struct op *op;
    int slot;
};

/* ---- the in-flight cap (max-inflight-per-client) ----
 *
 * Every coordinator request an op starts counts against its connection
 * (c->inflight); the server stops parsing that connection's requests at the
 * cap.  A multi-key command launches its keys while the connection is
 * under the cap and the rest as its earlier keys complete (op_pump), so
 * MGET of 100 000 keys has at most the cap in flight, not 100 000.  An op
 * with nothing in flight always launches one, so it cannot wait forever
 * on capacity held by its own connection's other ops (MULTI/EXEC). */

static void op_sub_begin(struct op *op)
{
    op->left++;
    op->inflight++;
    struct client *c = op_client(op);
    if (c)
        srv_inflight_begin(c);
}

static void op_pump(struct op *op);

/* A sub-request completed: launch what waits, then count the completion. */
static void op_sub_end(struct op *op)
{
    op->inflight--;
    struct client *c = op_client(op);
    if (c)
        srv_inflight_end(c);
    if (op->lnext < op->lend)
        op_pump(op);
    op_release(op);
}

/* Launches waiting sub-requests while the connection has room.  When the
 * connection is gone, the rest are abandoned (their slots fail). */
static void op_pump(struct op *op)
{
    if (op->pumping)
        return; /* a launch completed at once: the loop below goes on */
    op->pumping = true;
    while (op->lnext < op->lend) {
        struct client *c = op_client(op);
        if (op->accounted && !c) {
            for (int i = op->lnext; i < op->lend; i++)
                op->slots[i].err = KV_ETIMEDOUT;
            op->lnext = op->lend;
            break;
        }
        if (c && srv_inflight_full(c) && op->inflight > 0)
            break;
        op->launch(op, op->lnext++);
    }
    op->pumping = false;
    if (op->lnext == op->lend && op->launch) {
        op->launch = NULL;
        op_release(op); /* the launch guard; may free op */
    }
}

/* Launches sub-requests 0..n-1 of a multi-key command through launch(op, i),
 * at most as many at once as the connection's cap allows.  argv[first..]
 * is copied: launches may happen after the handler returned. */
static void op_launch_all(struct op *op, int n, int argc, const struct arg *argv,
                          op_launch_fn launch)
{
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += argv[i].len;
    op->lblob = mem_alloc(total ? total : 1);
    op->largv = mem_alloc((size_t)argc * sizeof(*op->largv));
    char *p = op->lblob;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].p, argv[i].len);
        op->largv[i].p = p;
        op->largv[i].len = argv[i].len;
        p += argv[i].len;
    }
    op->launch = launch;
    op->lnext = 0;
    op->lend = n;
    op->left++; /* the launch guard, dropped by op_pump after the last launch */
    op_pump(op);
}

/* Charges a read result to its connection's output limit while the op
 * gathers the rest (a reply built from it comes later). */
static void op_hold_result(struct op *op, const struct sibset *set)
{
    size_t bytes = 0;
    for (uint32_t i = 0; i < set->n; i++)
        if (set->v[i].val)
            bytes += set->v[i].val->len;
    struct client *c = op_client(op);
    if (!c || bytes == 0)
        return;
    op->held += bytes;
    srv_client_hold(c, (long long)bytes);
}

static void op_read_cb(void *arg, int err, const struct sibset *set)
{
    struct op_ref *ref = arg;
    struct op_slot *s = &ref->op->slots[ref->slot];
    s->err = err;
    struct op *op = ref->op;
    if (!err && set && (!op->accounted || op_client(op))) {
        sib_merge(&s->set, set);
        op_hold_result(op, set);
    }
    mem_free(ref);
    op_sub_end(op);
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
    op_sub_end(op);
}

static struct op_ref *op_ref(struct op *op, int slot)
{
    struct op_ref *r = mem_alloc(sizeof(*r));
    r->op = op;
    r->slot = slot;
    op_sub_begin(op);
    return r;
}

/* The write half of a read-then-write: the same request in flight, so it
 * is not counted again (its completion ends it). */
static struct op_ref *op_ref_continued(struct op *op, int slot)
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
    coord_write(op->node->coord, key->p, key->len, ctx, v, expire_ms, w, 0, COORD_W_CLIENT_CTX,
                op_write_cb, op_ref(op, slot));
}

/* ---- forwarding writes to their coordinator ---- */

/* A command on its way to the key's coordinator: the candidates are the
 * preference list from the chosen coordinator on; a candidate that cannot
 * be reached (disconnected, or no answer before put-timeout) passes the
 * command to the next one. */
struct fwd {
    struct op *op;
    int slot;
    int cands[CFG_MAX_NODES];
    int ncand, next;
    int argc;
    const char **argv;      /* "PFWD" deadline-ms command...; point into blob */
    size_t *lens;
    char *blob;
    char deadline[24];
};

static void encode_peer_reply(struct buf *out, int proto, const struct peer_reply *r)
{
    switch (r->type) {
    case PEER_R_STATUS:
        buf_putc(out, '+');
        buf_put(out, r->str, r->len);
        buf_put(out, "\r\n", 2);
        break;
    case PEER_R_ERROR:
        buf_putc(out, '-');
        buf_put(out, r->str, r->len);
        buf_put(out, "\r\n", 2);
        break;
    case PEER_R_INT:
        resp_add_int(out, r->integer);
        break;
    case PEER_R_BULK:
        resp_add_bulk(out, r->str, r->len);
        break;
    case PEER_R_NIL:
        resp_add_null(out, proto);
        break;
    case PEER_R_ARRAY:
        resp_add_array(out, (long long)r->nelem);
        for (size_t i = 0; i < r->nelem; i++)
            encode_peer_reply(out, proto, &r->elem[i]);
        break;
    default:
        resp_add_error(out, "ERR", "unexpected reply from the coordinator");
    }
}

static void fwd_send(struct fwd *f);

/* Failover rule: the next candidate is tried only when this one certainly
 * did not coordinate the write: its connection was down (KV_EDISCONN), or it
 * declined (-NOTCOORD, it cannot reach a write quorum).  A timeout is not
 * such a proof: the coordinator may be slow, not gone, and a write sent on
 * to the next node would then be applied twice.  The client gets NOQUORUM
 * (outcome unknown), and the deadline carried by PFWD stops a coordinator
 * that wakes up later from applying it. */
static bool declined(const struct peer_reply *rep)
{
    return rep && rep->type == PEER_R_ERROR && rep->len >= 8 &&
           memcmp(rep->str, "NOTCOORD", 8) == 0;
}

static void fwd_done(void *arg, int err, const struct peer_reply *rep)
{
    struct fwd *f = arg;
    if ((err == KV_EDISCONN || (!err && declined(rep))) && f->next + 1 < f->ncand) {
        f->next++;
        fwd_send(f);
        return;
    }
    struct op_slot *s = &f->op->slots[f->slot];
    s->forwarded = true;
    if (err) {
        s->err = KV_ENOQUORUM;
        s->remote_err = true;
        resp_add_errorf(&s->raw, "NOQUORUM",
                        "coordinator %s did not answer in time; the write may or may not "
                        "have been applied",
                        f->op->node->cfg.nodes[f->cands[f->next]].name);
    } else if (declined(rep)) {
        /* every candidate declined: nothing was written anywhere */
        s->err = KV_ENOQUORUM;
        s->remote_err = true;
        resp_add_error(&s->raw, "NOQUORUM",
                       "no node can reach a write quorum for this key; nothing was written");
    } else {
        encode_peer_reply(&s->raw, f->op->proto, rep);
        s->ival = rep->type == PEER_R_INT ? rep->integer : 0;
        s->remote_err = rep->type == PEER_R_ERROR;
    }
    struct op *op = f->op;
    mem_free(f->blob);
    mem_free(f->argv);
    mem_free(f->lens);
    mem_free(f);
    op_sub_end(op);
}

static void fwd_send(struct fwd *f)
{
    struct kv_node *n = f->op->node;
    /* The coordinator refuses the command once this deadline has passed
     * (wall clock: nodes of a cluster share one well enough for this). */
    int len = snprintf(f->deadline, sizeof(f->deadline), "%lld",
                       (long long)(clock_now_ms() + n->cfg.put_timeout_ms));
    f->argv[1] = f->deadline;
    f->lens[1] = (size_t)len;
    coord_forward(n->coord, f->cands[f->next], f->argc, f->argv, f->lens, fwd_done, f);
}

/* Forwards argv (a whole client command for one key) to target. */
static void op_forward(struct op *op, int slot, const struct arg *key, int target, int argc,
                       const struct arg *argv)
{
    struct fwd *f = mem_calloc(1, sizeof(*f));
    f->op = op;
    f->slot = slot;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(op->node->coord, key->p, key->len, pl);
    bool on = false;
    for (unsigned i = 0; i < np; i++) {
        on |= (int)pl[i] == target;
        if (on)
            f->cands[f->ncand++] = (int)pl[i];
    }
    if (f->ncand == 0)
        f->cands[f->ncand++] = target;
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += argv[i].len;
    f->argc = argc + 2;
    f->argv = mem_alloc((size_t)f->argc * sizeof(*f->argv));
    f->lens = mem_alloc((size_t)f->argc * sizeof(*f->lens));
    f->blob = mem_alloc(total ? total : 1);
    f->argv[0] = "PFWD";
    f->lens[0] = 4;
    char *p = f->blob;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].p, argv[i].len);
        f->argv[i + 2] = p;
        f->lens[i + 2] = argv[i].len;
        p += argv[i].len;
    }
    op_sub_begin(op);
    fwd_send(f);
}

#define ROUTE_HERE (-1)     /* coordinate the write on this node */
#define ROUTE_DECLINE (-2)  /* asked to coordinate (PFWD) but cannot reach W */

/* The node that must coordinate a write of key (>= 0), or ROUTE_HERE, or
 * ROUTE_DECLINE.  A command that arrived as PFWD was sent here to be
 * coordinated: it is never forwarded again, but declined when this node
 * cannot reach a write quorum (then nothing was stamped or stored, and the
 * sender safely tries the next node). */
static int write_target(struct client *c, const struct arg *key)
{
    struct kv_node *n = c->node;
    if (!n->peers)
        return ROUTE_HERE;
    if (c->kind != SRV_CLIENT)
        return coord_can_reach_quorum(n->coord, key->p, key->len, 0) ? ROUTE_HERE
                                                                     : ROUTE_DECLINE;
    int t = coord_write_target(n->coord, key->p, key->len);
    return t == n->self_idx ? ROUTE_HERE : t;
}

static void reply_decline(struct client *c)
{
    resp_add_error(&c->out, "NOTCOORD", "this node cannot reach a write quorum for the key");
}

static void forwarded_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err)
        cmd_reply_kverr(c, s->err);
    else
        buf_put(&c->out, s->raw.data ? s->raw.data : "", s->raw.len);
}

/* Sends the whole command to key's coordinator when that is another node.
 * Returns true when it did (the reply will come from there). */
static bool forward_whole(struct client *c, int argc, const struct arg *argv,
                          const struct arg *key)
{
    int t = write_target(c, key);
    if (t == ROUTE_HERE)
        return false;
    if (t == ROUTE_DECLINE) {
        reply_decline(c);
        return true;
    }
    struct op *op = op_create(c, 1, forwarded_done);
    op_forward(op, 0, key, t, argc, argv);
    op_dispatched(op, c);
    return true;
}

void cmd_call(struct kv_node *node, int argc, const struct arg *argv, cmd_call_fn done,
              void *arg)
{
    struct client tmp;
    cmd_scratch_init(&tmp, node, 2);
    struct cmd_capture cap;
    cmd_capture_begin(&cap, &tmp, done, arg);
    cmd_dispatch_client(&tmp, argc, argv);
    cmd_capture_end(&cap);
    if (!cap.taken) /* the handler answered at once, into tmp.out */
        done(arg, tmp.out.data ? tmp.out.data : "", tmp.out.len);
    buf_fini(&tmp.out);
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
    if (v && version_live(v, now)) {
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
            if (vr.val && (vr.expire_ms == 0 || vr.expire_ms > clock_now_ms())) {
                n->stats.keyspace_hits++;
                if (srv_reply_fits(c, vr.val->len + 32))
                    resp_add_bulk(&c->out, vr.val->data, vr.val->len);
                return;
            }
        }
        if (nv <= 1) {
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
        size += 16 + (v && version_live(v, now) ? v->val->len : 0);
    }
    if (!srv_reply_fits(c, size))
        return;
    resp_add_array(&c->out, op->nslots);
    for (int i = 0; i < op->nslots; i++) {
        const struct op_slot *s = &op->slots[i];
        /* MGET has no per-key error slot in Redis: a key that failed or
         * has siblings reads as nil, like a missing key. */
        const struct version *v = s->err ? NULL : sib_agreed(&s->set);
        if (v && version_live(v, now))
            resp_add_bulk(&c->out, v->val->data, v->val->len);
        else
            cmd_reply_null(c);
    }
}

static void launch_read(struct op *op, int i)
{
    op_read(op, i, &op->largv[i], 0);
}

void cmd_mget(struct client *c, int argc, const struct arg *argv)
{
    struct op *op = op_create(c, argc - 1, mget_done);
    op_launch_all(op, argc - 1, argc - 1, argv + 1, launch_read);
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
    op_launch_all(op, argc - 1, argc - 1, argv + 1, launch_read);
    op_dispatched(op, c);
}

static void type_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    if (s->err) {
        cmd_reply_kverr(c, s->err);
        return;
    }
    resp_add_simple(&c->out, sib_live_count(&s->set, clock_now_ms()) > 0 ? "string" : "none");
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
        coord_local_load(op->node->coord, w->key, w->klen, &local);
        set = &local; /* pre-read missed its quorum: W may still be met */
    } else if (!w->reading) {
        coord_local_load(op->node->coord, w->key, w->klen, &local);
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
        w->decide(w->params, set, now, op->proto, &out);
        buf_fini(&s->raw);
        s->raw = out.reply;
        s->forwarded = true; /* the reply is in raw */
        if (out.action == CMD_RMW_NONE) {
            val_unref(out.val);
            goto out;
        }
        val_unref(val);
        val = out.action == CMD_RMW_WRITE ? out.val : (val_unref(out.val), NULL);
        expire_ms = out.expire_ms;
    } else if (w->mode == RMW_DEL) {
        if (live == 0)
            goto out;
        op->count++;
    } else if (op->flags & (SET_NX | SET_XX | SET_GET | SET_KEEPTTL)) {
        if ((op->flags & SET_GET) && set->n > 1) {
            s->err = KV_ESIBLINGS;
            s->ival = set->n;
            goto out;
        }
        for (uint32_t i = 0; i < set->n && live == 1; i++)
            if (version_live(&set->v[i], now)) {
                val_unref(op->oldval);
                op->oldval = val_ref(set->v[i].val);
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
    int left_ms = op->node->cfg.put_timeout_ms - (int)spent_ms;
    unsigned wflags = w->mode == RMW_CUSTOM || (op->flags & SET_CONDITIONAL)
                          ? 0
                          : COORD_W_SUPERSEDE;
    coord_write(op->node->coord, w->key, w->klen, &ctx, val, expire_ms, 0,
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
        op_release(op); /* the request goes on as the write (op_write_cb ends it) */
    else
        op_sub_end(op);
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
    op_sub_begin(op);
    w->reading = true;
    /* What a conditional SET does depends on the value: read a quorum. */
    bool fresh = mode == RMW_SET && (op->flags & SET_CONDITIONAL);
    if (coord_read_for_write(op->node->coord, w->key, w->klen, fresh, rmw_read_done, w) != 0)
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
    if (forward_whole(c, argc, argv, key)) {
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
    op_sub_begin(op);
    w->reading = true;
    /* decide() computes from the current value: read a quorum, not just
     * this node's copy, which may be stale. */
    if (coord_read_for_write(op->node->coord, w->key, w->klen, true, rmw_read_done, w) != 0)
        w->reading = false;
    op_dispatched(op, c);
}

bool cmd_rmw_current(const struct sibset *cur, int64_t now, struct cmd_rmw_out *out,
                     const struct version **live)
{
    *live = NULL;
    const struct version *v = sib_agreed(cur);
    if (cur->n > 1 && !v) {
        resp_add_errorf(&out->reply, "ERR",
                        "key has %u siblings (concurrent versions); use VGET to read them and "
                        "VPUT with the returned context to resolve",
                        cur->n);
        return false;
    }
    if (v && version_live(v, now))
        *live = v;
    return true;
}

/* A quorum read whose reply a callback formats. */
struct cread {
    cmd_read_fn fmt;
    void *params;
    void (*free_params)(void *);
};

static void cread_done(struct op *op, struct client *c)
{
    const struct op_slot *s = &op->slots[0];
    struct cread *r = op->extra;
    if (s->err)
        cmd_reply_kverr(c, s->err);
    else
        r->fmt(r->params, &s->set, clock_now_ms(), c->proto, &c->out);
    if (r->free_params)
        r->free_params(r->params);
    mem_free(r);
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
    op_read(op, 0, key, 0);
    op_dispatched(op, c);
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
    if (forward_whole(c, argc, argv, &argv[1]))
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

/* The routing of a key launched after its handler returned: as
 * write_target, from what the op remembers of its connection's port. */
static int op_write_target(struct op *op, const struct arg *key)
{
    struct client tmp;
    cmd_scratch_init(&tmp, op->node, op->proto);
    tmp.kind = op->via_peer ? SRV_PEER : SRV_CLIENT;
    return write_target(&tmp, key);
}

static void launch_mset(struct op *op, int i)
{
    const struct arg *key = &op->largv[2 * i], *val = &op->largv[2 * i + 1];
    int t = op_write_target(op, key);
    if (t == ROUTE_DECLINE) {
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
    op_launch_all(op, (argc - 1) / 2, argc - 1, argv + 1, launch_mset);
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

static void launch_del(struct op *op, int i)
{
    const struct arg *key = &op->largv[i];
    int t = op_write_target(op, key);
    if (t == ROUTE_DECLINE) {
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
    op_launch_all(op, argc - 1, argc - 1, argv + 1, launch_del);
    op_dispatched(op, c);
}

void cmd_flushall(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 2 || (argc == 2 && !cmd_arg_eq(&argv[1], "SYNC") && !cmd_arg_eq(&argv[1], "ASYNC"))) {
        cmd_reply_syntax(c);
        return;
    }
    replica_flush(c->node);
    cmd_reply_ok(c);
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
    if (argc != from + 2 || !cmd_arg_eq(&argv[from], letter)) {
        cmd_reply_syntax(c);
        return false;
    }
    if (!cmd_arg_ll(&argv[from + 1], &v)) {
        cmd_reply_not_int(c);
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
        cmd_reply_kverr(c, s->err);
        return;
    }
    int64_t now = clock_now_ms();
    if (sib_live_count(&s->set, now) == 0 && s->set.n <= 1) {
        cmd_reply_null(c);
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
            cmd_reply_null(c); /* a concurrent delete (tombstone sibling) */
    }
    buf_fini(&tok);
    vc_fini(&ctx);
}

void cmd_vget(struct client *c, int argc, const struct arg *argv)
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
        cmd_reply_kverr(c, s->err);
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
        cmd_reply_kverr(c, KV_EBADCTX);
        vc_fini(&ctx);
        return;
    }
    if (forward_whole(c, argc, argv, &argv[1])) {
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

void cmd_vclock(struct client *c, int argc, const struct arg *argv)
{
    int r;
    if (!parse_quorum_opt(c, argc, argv, 2, "R", &r))
        return;
    struct op *op = op_create(c, 1, vclock_done);
    op_read(op, 0, &argv[1], r);
    op_dispatched(op, c);
}

