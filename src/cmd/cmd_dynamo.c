/* cmd_dynamo.c — DYNAMO, the cluster administration command: NODES, RING,
 * PREFLIST key, HINTS, LOCAL key, CHECK, STATUS, JOIN, LEAVE, REMOVE; and
 * DEBUG, the test hooks (CLOCK-ADVANCE: util/clock.h), served only with
 * enable-debug-command yes.
 *
 * Owns nothing: every subcommand reads (or, for JOIN/LEAVE/REMOVE, asks
 * cluster.c to change) state owned elsewhere: the member table and liveness
 * (peers, gossip, members), the ring (members), the hint store (handoff),
 * this node's own versions (coord_local_load), the last Merkle comparison
 * (ae_check), the work under way (admin_status_lines: STATUS).
 * Callers: the command table in cmd.c (cmd_dynamo, cmd_debug).
 * Calls: peers_describe, gossip_* queries, members_node_up/preflist/
 * write_target/ring, coord_local_load, ring_* queries,
 * hh_pending_for/delivered_to, ae_check, cfg_parse_address, cluster_join/leave/remove.
 * Every reply is written before the handler returns; nothing blocks (each
 * subcommand is bounded by the member count, the ring's members or one
 * key's versions).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cmd/admin.h"
#include "cmd/cmd.h"
#include "core/config.h"
#include "cluster/cluster.h"
#include "cluster/coord.h"
#include "cluster/members.h"
#include "util/clock.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "net/peer.h"
#include "cluster/ae.h"
#include "core/gossip.h"
#include "cluster/handoff.h"
#include "core/ring.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "core/tval.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

static void dynamo_nodes(struct client *c)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    if (n->cfg.nnodes == 0) {
        resp_add_array(&c->out, 1);
        buf_printf(&b, "%s %s:%d link=self", n->cfg.node_name, n->cfg.bind, n->cfg.port);
        resp_add_bulk(&c->out, b.data, b.len);
    } else {
        resp_add_array(&c->out, n->cfg.nnodes);
        int64_t now = clock_mono_us() / 1000;
        for (int i = 0; i < n->cfg.nnodes; i++) {
            b.len = 0;
            peers_describe(n->peers, i, &b);
            if (n->gossip)
                buf_printf(&b, " gossip=%s generation=%llu heartbeat=%llu silent_ms=%lld",
                           gossip_state_name(gossip_state(n->gossip, i)),
                           (unsigned long long)gossip_generation(n->gossip, i),
                           (unsigned long long)gossip_heartbeat(n->gossip, i),
                           i == n->self_idx ? 0LL
                                            : (long long)gossip_silence_ms(n->gossip, i, now));
            buf_printf(&b, " up=%d ring=%s", members_node_up(n->members, i) ? 1 : 0,
                       n->gossip ? gossip_status_name(gossip_status(n->gossip, i))
                                 : "member");
            resp_add_bulk(&c->out, b.data, b.len);
        }
    }
    buf_fini(&b);
}

static void dynamo_ring(struct client *c)
{
    const struct ring *r = members_ring(c->node->members);
    struct buf b;
    buf_init(&b);
    unsigned nn = ring_nnodes(r);
    resp_add_array(&c->out, ring_nmembers(r) + 1);
    buf_printf(&b, "version=%llu nodes=%u vnodes-per-node=%u tokens=%zu",
               (unsigned long long)ring_version(r), ring_nmembers(r), ring_vnodes(r),
               ring_ntokens(r));
    resp_add_bulk(&c->out, b.data, b.len);
    for (unsigned i = 0; i < nn; i++) {
        if (!ring_is_member(r, i))
            continue;
        b.len = 0;
        buf_printf(&b, "%s ownership=%.4f slots=%u", ring_node_name(r, i), ring_ownership(r, i),
                   ring_slots_primary(r, i));
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

static void dynamo_preflist(struct client *c, const struct arg *key)
{
    struct kv_node *n = c->node;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(n->members, key->p, key->len, pl);
    int target = members_write_target(n->members, key->p, key->len);
    resp_add_array(&c->out, np);
    struct buf b;
    buf_init(&b);
    for (unsigned i = 0; i < np; i++) {
        b.len = 0;
        buf_printf(&b, "%s%s", ring_node_name(members_ring(n->members), pl[i]),
                   (int)pl[i] == target ? " coordinator" : "");
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

/* One line per node this node holds hints for. */
static void dynamo_hints(struct client *c)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    int rows = 0;
    for (int i = 0; n->hh && i < n->cfg.nnodes; i++)
        rows += hh_pending_for(n->hh, i) > 0 || hh_delivered_to(n->hh, i) > 0;
    resp_add_array(&c->out, rows);
    for (int i = 0; n->hh && i < n->cfg.nnodes; i++) {
        uint64_t p = hh_pending_for(n->hh, i), d = hh_delivered_to(n->hh, i);
        if (!p && !d)
            continue;
        b.len = 0;
        buf_printf(&b, "%s pending=%llu delivered=%llu", n->cfg.nodes[i].name,
                   (unsigned long long)p, (unsigned long long)d);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

/* The versions this node itself holds for key, readable (no quorum). */
static void dynamo_local(struct client *c, const struct arg *key)
{
    struct sibset set;
    sib_init(&set);
    coord_local_load(c->node->coord, key->p, key->len, &set);
    resp_add_array(&c->out, set.n);
    struct buf b;
    buf_init(&b);
    int64_t now = clock_now_ms();
    for (uint32_t i = 0; i < set.n; i++) {
        const struct version *v = &set.v[i];
        b.len = 0;
        if (!v->val)
            buf_printf(&b, "tombstone ");
        else if (val_is_typed(v->val)) /* a state: its type, size and context */
            buf_printf(&b, "%s%s elements=%u ctx=",
                       v->expire_ms && v->expire_ms <= now ? "expired " : "",
                       crdt_type_name(tval_type(v->val)), crdt_count(tval_ccrdt(v->val)));
        else if (!version_live(v, now))
            buf_printf(&b, "expired ");
        else
            buf_printf(&b, "value=%.*s ", (int)(v->val->len > 64 ? 64 : v->val->len),
                       v->val->data);
        vc_format(val_is_typed(v->val) ? &tval_ccrdt(v->val)->vc : &v->vc, &b);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
    sib_fini(&set);
}

static void reply_lines(struct client *c, struct buf *b, int lines);

/* Divergence of this node's replicas from each peer's, as of the last
 * Merkle comparison (anti-entropy runs every anti-entropy-interval). */
static void dynamo_check(struct client *c)
{
    struct buf b;
    buf_init(&b);
    int lines = 0;
    ae_check(c->node->ae, &b, &lines);
    reply_lines(c, &b, lines);
}

/* Work under way (admin.c): health, the transfer pass, hint drains, the
 * anti-entropy exchange, each with done / total, rate and finish estimate. */
static void dynamo_status(struct client *c)
{
    struct buf b;
    buf_init(&b);
    int lines = 0;
    admin_status_lines(c->node->admin, &b, &lines);
    reply_lines(c, &b, lines);
}

/* Replies with b's first `lines` newline-terminated lines as an array of
 * bulk strings, and frees b. */
static void reply_lines(struct client *c, struct buf *b0, int lines)
{
    struct buf b = *b0;
    resp_add_array(&c->out, lines);
    const char *p = b.data;
    for (int i = 0; i < lines; i++) {
        const char *nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
        resp_add_bulk(&c->out, p, (size_t)(nl - p));
        p = nl + 1;
    }
    buf_fini(&b);
}

static void dynamo_join(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    if (!n->gossip) {
        resp_add_error(&c->out, "ERR", "this node runs without a cluster: start it with --node "
                                       "NAME and node or seed lines to join one");
        return;
    }
    char *hp = cmd_arg_dup(&argv[2]);
    char *cp = argc > 3 ? cmd_arg_dup(&argv[3]) : NULL;
    struct cfg_node addr;
    struct buf err;
    buf_init(&err);
    int rc;
    if (cfg_parse_address(hp, cp, &addr, &err) != 0) {
        buf_putc(&err, '\0');
        resp_add_errorf(&c->out, "ERR", "DYNAMO JOIN: %s", err.data);
    } else if ((rc = cluster_join(n->cluster, addr.host, addr.cport)) == KV_ENOTFOUND) {
        resp_add_error(&c->out, "ERR", "DYNAMO JOIN: give the address as numeric IPv4 "
                                       "(host names are not resolved at run time)");
    } else if (rc != 0) {
        resp_add_error(&c->out, "ERR", "DYNAMO JOIN: too many seeds");
    } else {
        log_info("DYNAMO JOIN %s:%d requested by client %s", addr.host, addr.port, c->addr);
        cmd_reply_ok(c);
    }
    buf_fini(&err);
    mem_free(hp);
    mem_free(cp);
}

static void dynamo_leave(struct client *c)
{
    struct kv_node *n = c->node;
    if (!n->gossip) {
        resp_add_error(&c->out, "ERR", "this node is not part of a cluster");
        return;
    }
    log_info("DYNAMO LEAVE requested by client %s", c->addr);
    cluster_leave(n->cluster);
    cmd_reply_ok(c);
}

static void dynamo_remove(struct client *c, const struct arg *name)
{
    struct kv_node *n = c->node;
    int rc = cluster_remove(n->cluster, name->p, name->len);
    if (rc == KV_ENOTFOUND)
        resp_add_errorf(&c->out, "ERR", "no node named '%.*s' in the membership table",
                        (int)(name->len > 64 ? 64 : name->len), name->p);
    else if (rc == KV_EINVAL)
        resp_add_error(&c->out, "ERR", "a node cannot remove itself: use DYNAMO LEAVE");
    else
        cmd_reply_ok(c);
}

void cmd_dynamo(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "NODES") && argc == 2)
        dynamo_nodes(c);
    else if (cmd_arg_eq(sub, "HINTS") && argc == 2)
        dynamo_hints(c);
    else if (cmd_arg_eq(sub, "LOCAL") && argc == 3)
        dynamo_local(c, &argv[2]);
    else if (cmd_arg_eq(sub, "CHECK") && argc == 2)
        dynamo_check(c);
    else if (cmd_arg_eq(sub, "STATUS") && argc == 2)
        dynamo_status(c);
    else if (cmd_arg_eq(sub, "RING") && argc == 2)
        dynamo_ring(c);
    else if (cmd_arg_eq(sub, "PREFLIST") && argc == 3)
        dynamo_preflist(c, &argv[2]);
    else if (cmd_arg_eq(sub, "LEAVE") && argc == 2)
        dynamo_leave(c);
    else if (cmd_arg_eq(sub, "JOIN") && (argc == 3 || argc == 4))
        dynamo_join(c, argc, argv);
    else if (cmd_arg_eq(sub, "REMOVE") && argc == 3)
        dynamo_remove(c, &argv[2]);
    else
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try NODES, RING, PREFLIST key, HINTS, LOCAL key, CHECK, STATUS, "
                        "JOIN host:port [cluster-port], LEAVE or REMOVE node.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
}

/* DEBUG CLOCK-ADVANCE ms: both of this node's clocks jump ms forward (so a
 * test sees tombstones age or peers fall silent without waiting); replies
 * the total offset in ms.  Refused unless enable-debug-command is yes. */
void cmd_debug(struct client *c, int argc, const struct arg *argv)
{
    if (!c->node->cfg.enable_debug_command) {
        cmd_reply_err(c, "DEBUG is disabled on this node: start it with enable-debug-command "
                         "yes (a config file line or --enable-debug-command yes); it is meant "
                         "for tests");
        return;
    }
    if (cmd_arg_eq(&argv[1], "HELP") && argc == 2) {
        static const char *const lines[] = {
            "DEBUG <subcommand> [<arg> ...]. Subcommands are:",
            "CLOCK-ADVANCE <ms>",
            "    Move this node's wall and monotonic clocks <ms> forward (tests only).",
            "    Returns the total offset in milliseconds.",
            "HELP",
            "    Print this help.",
        };
        cmd_reply_help(c, lines, sizeof(lines) / sizeof(lines[0]));
        return;
    }
    long long ms;
    if (cmd_arg_eq(&argv[1], "CLOCK-ADVANCE") && argc == 3) {
        if (!cmd_arg_ll(&argv[2], &ms) || ms < 0 || ms > 100LL * 365 * 86400 * 1000) {
            cmd_reply_err(c, "CLOCK-ADVANCE takes a number of milliseconds from 0 to 100 "
                             "years");
            return;
        }
        int64_t total = clock_advance_ms(ms);
        log_info("DEBUG CLOCK-ADVANCE %lld: this node's clocks now run %lld ms ahead", ms,
                   (long long)total);
        resp_add_int(&c->out, total);
        return;
    }
    cmd_reply_unknown_sub(c, "DEBUG", &argv[1]);
}
