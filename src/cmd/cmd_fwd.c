/* cmd_fwd.c — the command side of forwarding a key command to the key's
 * coordinator.
 *
 * Owns: turning a client command into the argv coord_forward_cmd sends,
 * and the coordinator's answer into the client's reply (encoded into the
 * op's slot, kv_op.h), with the NOQUORUM and NOTCOORD texts.  Which node
 * coordinates, the PFWD deadline and the failover rule are coord's
 * (coord_route, coord_forward_cmd in cluster/coord.h).
 * Callers: cmd_kv.c (SET, MSET, DEL, cmd_rmw), cmd_vkv.c (VPUT, VDEL).
 * Calls: coord (coord_route, coord_forward_cmd), defer (sub-request
 * accounting).  Nothing here blocks.
 */
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/kv_op.h"
#include "cluster/coord.h"
#include "core/resp.h"
#include "net/peer.h"
#include "net/server.h"
#include "cmd/node.h"
#include "util/errors.h"
#include "util/mem.h"

/* One forwarded command: the op slot its reply lands in. */
struct fwd {
    struct op *op;
    int slot;
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

static void fwd_done(void *arg, const struct coord_fwd_result *res)
{
    struct fwd *f = arg;
    struct op *op = f->op;
    struct op_slot *s = &op->slots[f->slot];
    mem_free(f);
    s->forwarded = true;
    if (res->err && res->unknown) {
        s->err = res->err;
        s->remote_err = true;
        resp_add_errorf(&s->raw, "NOQUORUM",
                        "coordinator %s did not answer in time; the write may or may not "
                        "have been applied",
                        op->d.node->cfg.nodes[res->node].name);
    } else if (res->err) {
        s->err = res->err;
        s->remote_err = true;
        resp_add_error(&s->raw, "NOQUORUM",
                       "no node can reach a write quorum for this key; nothing was written");
    } else if (res->rep->type == PEER_R_BULK) {
        /* PFWDR: the reply as the coordinator encoded it for the client */
        buf_put(&s->raw, res->rep->str, res->rep->len);
        s->remote_err = res->rep->len > 0 && res->rep->str[0] == '-';
        s->ival = 0;
        if (res->rep->len > 1 && res->rep->str[0] == ':') {
            struct arg a = {res->rep->str + 1, 0};
            while (a.len + 1 < res->rep->len && a.p[a.len] != '\r')
                a.len++;
            long long v;
            if (cmd_arg_ll(&a, &v))
                s->ival = v;
        }
    } else { /* an error the coordinator's peer port gave itself */
        encode_peer_reply(&s->raw, op->d.proto, res->rep);
        s->ival = res->rep->type == PEER_R_INT ? res->rep->integer : 0;
        s->remote_err = res->rep->type == PEER_R_ERROR;
    }
    defer_sub_end(&op->d);
}

/* Commands that change a value by how many times they ran (a second run
 * at another coordinator after a lost link would count twice). */
static bool counts(const struct arg *name)
{
    static const char *const names[] = {
        "incr",   "decr",  "incrby",  "decrby",  "incrbyfloat", "hincrby", "hincrbyfloat",
        "zincrby", "zadd", "append", "spop", "zpopmin", "zpopmax", "smove", "bitfield",
        "rename", "renamenx", "getdel", "copy",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (cmd_arg_eq(name, names[i]))
            return true;
    return false;
}

void op_forward(struct op *op, int slot, const struct arg *key, int target, int argc,
                const struct arg *argv)
{
    struct fwd *f = mem_alloc(sizeof(*f));
    f->op = op;
    f->slot = slot;
    const char **av = mem_alloc((size_t)argc * sizeof(*av));
    size_t *lens = mem_alloc((size_t)argc * sizeof(*lens));
    for (int i = 0; i < argc; i++) {
        av[i] = argv[i].p;
        lens[i] = argv[i].len;
    }
    defer_sub_begin(&op->d);
    coord_forward_cmd(op->d.node->coord, key->p, key->len, target, op->d.proto,
                      counts(&argv[0]), argc, av, lens, fwd_done, f);
    mem_free(av);
    mem_free(lens);
}

/* The node that must coordinate a write of key (coord_route): a command
 * that arrived as PFWD is never forwarded again. */
int op_route(struct client *c, const struct arg *key)
{
    return coord_route(c->node->coord, key->p, key->len, c->kind != SRV_CLIENT);
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
    if (t == COORD_ROUTE_HERE)
        return false;
    if (t == COORD_ROUTE_DECLINE) {
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
    return coord_route(op->d.node->coord, key->p, key->len, op->via_peer);
}
