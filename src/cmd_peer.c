/* cmd_peer.c — commands of the cluster port.
 *
 *   PAUTH secret node-name   prove the cluster secret (required first)
 *   PPING                    liveness probe
 *   PGET key                 this replica's versions: bulk of sib_encode
 *   PPUT key versions        reconcile sib_encode'd versions into the store
 *   PHINT owner key versions keep versions for an unreachable owner (handoff)
 *   PGOSSIP table            merge a membership table; reply: ours
 *   PFWD deadline-ms cmd...  run a client command here, as its coordinator,
 *                            unless the sender's deadline has passed
 *
 * None of these exist on the client port, and none but PAUTH run before the
 * secret was proved.  Input from peers is validated like client input: a
 * malformed encoding is an error reply, never a crash.
 */
#include <string.h>

#include "aof.h"
#include "cluster.h"
#include "cmd.h"
#include "handoff.h"
#include "errors.h"
#include "node.h"
#include "resp.h"
#include "siblings.h"
#include "store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

static void peer_auth(struct client *c, int argc, const struct arg *argv)
{
    const char *secret = c->node->cfg.cluster_secret ? c->node->cfg.cluster_secret : "";
    size_t sl = strlen(secret);
    if (argc != 3) {
        cmd_reply_arity(c, "pauth");
        return;
    }
    unsigned diff = (unsigned)(argv[1].len ^ sl);
    for (size_t i = 0; i < sl; i++)
        diff |= (unsigned)(secret[i] ^ (i < argv[1].len ? argv[1].p[i] : 0));
    if (diff) {
        log_warn("peer %s (claims node %.*s) sent a wrong cluster secret", c->addr,
                 (int)(argv[2].len > 64 ? 64 : argv[2].len), argv[2].p);
        resp_add_error(&c->out, "ERR", "invalid cluster secret");
        srv_client_close_after_reply(c);
        return;
    }
    c->flags |= CLI_F_AUTHED;
    mem_free(c->name);
    c->name = cmd_arg_dup(&argv[2]);
    cmd_reply_ok(c);
}

static void peer_get(struct client *c, const struct arg *key)
{
    struct sibset set;
    sib_init(&set);
    const struct store_entry *e = store_find(c->node->store, key->p, key->len);
    if (e)
        store_entry_load(e, &set);
    struct buf enc;
    buf_init(&enc);
    sib_encode(&set, &enc);
    resp_add_bulk(&c->out, enc.data ? enc.data : "", enc.len);
    buf_fini(&enc);
    sib_fini(&set);
}

static void peer_put(struct client *c, const struct arg *key, const struct arg *enc)
{
    struct sibset set;
    sib_init(&set);
    int rc = sib_decode(&set, enc->p, enc->len, (size_t)c->node->cfg.proto_max_bulk_len);
    if (rc != 0) {
        resp_add_error(&c->out, "ERR", "malformed versions in PPUT");
        sib_fini(&set);
        return;
    }
    bool changed = store_put_set(c->node->store, key->p, key->len, &set);
    if (changed) /* logged before the coordinator hears the ack */
        aof_log_key(c->node->aof, c->node->store, key->p, key->len);
    resp_add_int(&c->out, changed);
    sib_fini(&set);
}

static void peer_hint(struct client *c, const struct arg *argv)
{
    struct kv_node *n = c->node;
    int owner = -1;
    for (int i = 0; i < n->cfg.nnodes; i++)
        if (strlen(n->cfg.nodes[i].name) == argv[1].len &&
            memcmp(n->cfg.nodes[i].name, argv[1].p, argv[1].len) == 0)
            owner = i;
    struct sibset set;
    sib_init(&set);
    if (owner < 0 || owner == n->self_idx) {
        resp_add_error(&c->out, "ERR", "PHINT: unknown owner");
    } else if (sib_decode(&set, argv[3].p, argv[3].len, (size_t)n->cfg.proto_max_bulk_len) != 0) {
        resp_add_error(&c->out, "ERR", "malformed versions in PHINT");
    } else if (!n->hh || !hh_add(n->hh, owner, argv[2].p, argv[2].len, &set)) {
        resp_add_error(&c->out, "ERR", "hint store full (max-hints)");
    } else {
        resp_add_int(&c->out, 1);
    }
    sib_fini(&set);
}

void cmd_peer_dispatch(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *name = &argv[0];
    if (cmd_arg_eq(name, "PAUTH")) {
        peer_auth(c, argc, argv);
        return;
    }
    if (!(c->flags & CLI_F_AUTHED)) {
        resp_add_error(&c->out, "NOAUTH", "prove the cluster secret with PAUTH first");
        return;
    }
    if (cmd_arg_eq(name, "PPING")) {
        resp_add_simple(&c->out, "PONG");
    } else if (cmd_arg_eq(name, "PGET") && argc == 2) {
        peer_get(c, &argv[1]);
    } else if (cmd_arg_eq(name, "PPUT") && argc == 3) {
        peer_put(c, &argv[1], &argv[2]);
    } else if (cmd_arg_eq(name, "PHINT") && argc == 4) {
        peer_hint(c, argv);
    } else if (cmd_arg_eq(name, "PGOSSIP") && argc == 2) {
        struct buf out;
        buf_init(&out);
        if (cluster_gossip_exchange(c->node, argv[1].p, argv[1].len, &out) != 0)
            resp_add_error(&c->out, "ERR", "malformed gossip table");
        else
            resp_add_bulk(&c->out, out.data ? out.data : "", out.len);
        buf_fini(&out);
    } else if (cmd_arg_eq(name, "PFWD") && argc >= 3) {
        long long deadline;
        if (!cmd_arg_ll(&argv[1], &deadline)) {
            resp_add_error(&c->out, "ERR", "PFWD: bad deadline");
        } else if (kv_now_ms() > deadline) {
            /* The sender has given up on this write (told its client the
             * outcome is unknown); applying it now would resurrect it. */
            resp_add_error(&c->out, "EXPIRED", "forwarded command arrived after its deadline");
        } else {
            cmd_dispatch_client(c, argc - 2, argv + 2);
        }
    } else {
        resp_add_errorf(&c->out, "ERR", "unknown peer command '%.*s' or wrong arity",
                        (int)(name->len > 32 ? 32 : name->len), name->p);
    }
}
