/* cmd_fwd.c — forwarding a key command to the key's coordinator.
 *
 * Owns: the routing decision of a write (op_route: coordinate here, send
 * to the key's coordinator, or decline a PFWD this node cannot serve) and
 * struct fwd, one command on its way to a coordinator over PFWD, with the
 * failover rule (see declined()) and the put-timeout deadline it carries.
 * The reply of the coordinator lands, encoded for the client, in the op's
 * slot (kv_op.h).
 * Callers: cmd_kv.c (SET, MSET, DEL, cmd_rmw), cmd_vkv.c (VPUT, VDEL).
 * Calls: members (preference list, write target, quorum reachability),
 * coord (coord_forward), defer (sub-request accounting).  Nothing here blocks.
 */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/kv_op.h"
#include "cluster/coord.h"
#include "cluster/members.h"
#include "core/config.h"
#include "core/resp.h"
#include "net/peer.h"
#include "net/server.h"
#include "node.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/mem.h"

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
                        f->op->d.node->cfg.nodes[f->cands[f->next]].name);
    } else if (declined(rep)) {
        /* every candidate declined: nothing was written anywhere */
        s->err = KV_ENOQUORUM;
        s->remote_err = true;
        resp_add_error(&s->raw, "NOQUORUM",
                       "no node can reach a write quorum for this key; nothing was written");
    } else {
        encode_peer_reply(&s->raw, f->op->d.proto, rep);
        s->ival = rep->type == PEER_R_INT ? rep->integer : 0;
        s->remote_err = rep->type == PEER_R_ERROR;
    }
    struct op *op = f->op;
    mem_free(f->blob);
    mem_free(f->argv);
    mem_free(f->lens);
    mem_free(f);
    defer_sub_end(&op->d);
}

static void fwd_send(struct fwd *f)
{
    struct kv_node *n = f->op->d.node;
    /* The coordinator refuses the command once this deadline has passed
     * (wall clock: nodes of a cluster share one well enough for this). */
    int len = snprintf(f->deadline, sizeof(f->deadline), "%lld",
                       (long long)(clock_now_ms() + n->cfg.put_timeout_ms));
    f->argv[1] = f->deadline;
    f->lens[1] = (size_t)len;
    coord_forward(n->coord, f->cands[f->next], f->argc, f->argv, f->lens, fwd_done, f);
}

void op_forward(struct op *op, int slot, const struct arg *key, int target, int argc,
                       const struct arg *argv)
{
    struct fwd *f = mem_calloc(1, sizeof(*f));
    f->op = op;
    f->slot = slot;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(op->d.node->members, key->p, key->len, pl);
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
    defer_sub_begin(&op->d);
    fwd_send(f);
}

/* The node that must coordinate a write of key (>= 0), or ROUTE_HERE, or
 * ROUTE_DECLINE.  A command that arrived as PFWD was sent here to be
 * coordinated: it is never forwarded again, but declined when this node
 * cannot reach a write quorum (then nothing was stamped or stored, and the
 * sender safely tries the next node). */
int op_route(struct client *c, const struct arg *key)
{
    struct kv_node *n = c->node;
    if (!n->peers)
        return ROUTE_HERE;
    if (c->kind != SRV_CLIENT)
        return members_can_reach_quorum(n->members, key->p, key->len, 0) ? ROUTE_HERE
                                                                         : ROUTE_DECLINE;
    int t = members_write_target(n->members, key->p, key->len);
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

bool op_forward_whole(struct client *c, int argc, const struct arg *argv,
                      const struct arg *key)
{
    int t = op_route(c, key);
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

/* The routing of a key launched after its handler returned: as op_route,
 * from what the op remembers of its connection's port. */
int op_route_later(struct op *op, const struct arg *key)
{
    struct client tmp;
    defer_scratch_init(&tmp, op->d.node, op->d.proto);
    tmp.kind = op->via_peer ? SRV_PEER : SRV_CLIENT;
    return op_route(&tmp, key);
}
