/* cmd_cluster.c — the Redis Cluster topology protocol on the client port
 * (issue 13): CLUSTER SLOTS / SHARDS / NODES / MYID / INFO / KEYSLOT /
 * COUNTKEYSINSLOT / GETKEYSINSLOT / HELP, and READONLY, READWRITE, ASKING.
 *
 * What clients are told: every ring member is a "master" (Redis's word)
 * for the slots it coordinates and a replica for the others of its
 * preference lists; core/topology.c decides who owns what from the ring
 * and this node's view of liveness, so the answers change as soon as a
 * node is seen down or membership changes.  Cluster-aware clients then
 * send each key to its coordinator.  Nothing is ever refused with MOVED or
 * ASK: every node still takes every key (a client with a stale map costs
 * one forwarding hop), so ASKING, READONLY and READWRITE only answer OK.
 * A node without a cluster answers as a one-node cluster owning every slot
 * (what cluster clients cope with; INFO says cluster_enabled:1 either way).
 * Node IDs are 40 hex digits: BLAKE2b-160 (libsodium crypto_generichash) of
 * the node's name, so they are stable across restarts and equal on every
 * node.  Addresses are the members' client host:port (cluster.conf, or
 * bind:port without one).
 *
 * COUNTKEYSINSLOT and GETKEYSINSLOT answer for the keys this node holds
 * (with a value; each key is held by its N replicas, so any replica of the
 * slot answers), from the store's per-slot counts: COUNTKEYSINSLOT is O(1);
 * GETKEYSINSLOT scans the store until it has the count asked or all the
 * slot's keys (O(keys held) at worst: there is no per-slot key list).
 *
 * Owns nothing.  Callers: the command table (cmd.c gathers
 * cmd_cluster_table).  Calls: node.h (the node's cfg, members, store), topology, members
 * (ring, liveness, preference lists), store (per-slot counts, scan), slot.
 * Every reply is written before the handler returns; the work is bounded by
 * SLOT_COUNT walks of the ring (topo_build) or one store scan.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cluster/members.h"
#include "cmd/cmd.h"
#include "cmd/node.h"
#include "core/config.h"
#include "core/preflist.h"
#include "core/resp.h"
#include "core/ring.h"
#include "core/slot.h"
#include "core/topology.h"
#include "net/server.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/clock.h"

#define NODE_ID_HEX 40

/* One member as announced. */
struct ann {
    char id[NODE_ID_HEX + 1];
    const char *host;
    int port, cport;
    bool up;
};

static void node_id(const char *name, char out[NODE_ID_HEX + 1])
{
    unsigned char h[NODE_ID_HEX / 2];
    crypto_generichash(h, sizeof(h), (const unsigned char *)name, strlen(name), NULL, 0);
    sodium_bin2hex(out, NODE_ID_HEX + 1, h, sizeof(h));
}

static void announce(const struct kv_node *v, int i, struct ann *a)
{
    const struct ring *r = members_ring(v->members);
    node_id(ring_node_name(r, (unsigned)i), a->id);
    if (v->cfg.nnodes == 0) {
        a->host = v->cfg.bind;
        a->port = v->cfg.port;
        a->cport = v->cfg.cluster_port;
    } else {
        a->host = v->cfg.nodes[i].host;
        a->port = v->cfg.nodes[i].port;
        a->cport = v->cfg.nodes[i].cport;
    }
    a->up = members_node_up(v->members, i);
}

/* The liveness bitmap of the ring's members as this node sees it. */
static uint64_t live_map(const struct kv_node *v)
{
    const struct ring *r = members_ring(v->members);
    uint64_t up = 0;
    for (unsigned i = 0; i < ring_nnodes(r); i++)
        if (ring_is_member(r, i) && members_node_up(v->members, (int)i))
            up |= PREFLIST_BIT(i);
    return up;
}

static struct topo *build(const struct kv_node *v)
{
    return topo_build(members_ring(v->members), (unsigned)v->cfg.n, live_map(v));
}

/* [ip, port, id, {}] as Redis 7 writes a CLUSTER SLOTS node. */
static void add_slots_node(struct client *c, const struct ann *a)
{
    resp_add_array(&c->out, 4);
    resp_add_cstr(&c->out, a->host);
    resp_add_int(&c->out, a->port);
    resp_add_cstr(&c->out, a->id);
    resp_add_map(&c->out, c->proto, 0);
}

static void cluster_slots(struct client *c, const struct kv_node *v)
{
    struct topo *t = build(v);
    unsigned nruns = topo_nruns(t);
    resp_add_array(&c->out, nruns);
    for (unsigned i = 0; i < nruns; i++) {
        unsigned first, last, k;
        const uint8_t *own = topo_run(t, i, &first, &last, &k);
        resp_add_array(&c->out, 2 + k);
        resp_add_int(&c->out, first);
        resp_add_int(&c->out, last);
        for (unsigned j = 0; j < k; j++) {
            struct ann a;
            announce(v, own[j], &a);
            add_slots_node(c, &a);
        }
    }
    topo_destroy(t);
}

static void add_shard_node(struct client *c, const struct ann *a, bool master)
{
    resp_add_map(&c->out, c->proto, 7);
    resp_add_cstr(&c->out, "id");
    resp_add_cstr(&c->out, a->id);
    resp_add_cstr(&c->out, "port");
    resp_add_int(&c->out, a->port);
    resp_add_cstr(&c->out, "ip");
    resp_add_cstr(&c->out, a->host);
    resp_add_cstr(&c->out, "endpoint");
    resp_add_cstr(&c->out, a->host);
    resp_add_cstr(&c->out, "role");
    resp_add_cstr(&c->out, master ? "master" : "replica");
    resp_add_cstr(&c->out, "replication-offset");
    resp_add_int(&c->out, 0);
    resp_add_cstr(&c->out, "health");
    resp_add_cstr(&c->out, a->up ? "online" : "failed");
}

/* One entry per distinct owner list: its slot ranges, then its nodes. */
static void cluster_shards(struct client *c, const struct kv_node *v)
{
    struct topo *t = build(v);
    unsigned nruns = topo_nruns(t), nsh = topo_nshards(t);
    resp_add_array(&c->out, nsh);
    /* Shards are numbered in order of their first run, so shard s starts
     * at the first run whose number is s; later runs of s follow. */
    unsigned next = 0;
    for (unsigned i = 0; i < nruns; i++) {
        if (topo_run_shard(t, i) != next)
            continue;
        next++;
        unsigned nranges = 0;
        for (unsigned j = i; j < nruns; j++)
            nranges += topo_run_shard(t, j) == topo_run_shard(t, i);
        resp_add_map(&c->out, c->proto, 2);
        resp_add_cstr(&c->out, "slots");
        resp_add_array(&c->out, 2 * (long long)nranges);
        for (unsigned j = i; j < nruns; j++) {
            if (topo_run_shard(t, j) != topo_run_shard(t, i))
                continue;
            unsigned first, last, k;
            topo_run(t, j, &first, &last, &k);
            resp_add_int(&c->out, first);
            resp_add_int(&c->out, last);
        }
        unsigned first, last, k;
        const uint8_t *own = topo_run(t, i, &first, &last, &k);
        resp_add_cstr(&c->out, "nodes");
        resp_add_array(&c->out, k);
        for (unsigned j = 0; j < k; j++) {
            struct ann a;
            announce(v, own[j], &a);
            add_shard_node(c, &a, j == 0);
        }
    }
    topo_destroy(t);
}

/* Redis's line format: id addr@cport flags master ping pong epoch link
 * slots...  Each member is a master of the slots it coordinates (a node is
 * a replica of several masters at once, which this format cannot say:
 * SLOTS and SHARDS carry the replicas). */
static void cluster_nodes(struct client *c, const struct kv_node *v)
{
    const struct ring *r = members_ring(v->members);
    struct topo *t = build(v);
    unsigned nruns = topo_nruns(t);
    struct buf b;
    buf_init(&b);
    long long now_ms = (long long)clock_now_ms();
    for (unsigned i = 0; i < ring_nnodes(r); i++) {
        if (!ring_is_member(r, i))
            continue;
        struct ann a;
        announce(v, (int)i, &a);
        bool self = (int)i == v->self_idx;
        buf_printf(&b, "%s %s:%d@%d %s%s%s - 0 %lld %u %s", a.id, a.host, a.port, a.cport,
                   self ? "myself," : "", "master", a.up ? "" : ",fail",
                   a.up ? now_ms : 0LL, i + 1, a.up ? "connected" : "disconnected");
        /* its master ranges: consecutive runs it masters merge */
        bool open = false;
        unsigned from = 0, to = 0;
        for (unsigned j = 0; j <= nruns; j++) {
            unsigned first = 0, last = 0, k = 0;
            const uint8_t *own = j < nruns ? topo_run(t, j, &first, &last, &k) : NULL;
            bool mine = own && own[0] == i;
            if (open && (!mine || first != to + 1)) {
                if (from == to)
                    buf_printf(&b, " %u", from);
                else
                    buf_printf(&b, " %u-%u", from, to);
                open = false;
            }
            if (mine && open)
                to = last;
            else if (mine) {
                open = true;
                from = first;
                to = last;
            }
        }
        buf_printf(&b, "\n");
    }
    topo_destroy(t);
    resp_add_verbatim(&c->out, c->proto, "txt", b.data ? b.data : "", b.len);
    buf_fini(&b);
}

static void cluster_info(struct client *c, const struct kv_node *v)
{
    const struct ring *r = members_ring(v->members);
    struct topo *t = build(v);
    unsigned covered = 0, masters = 0, known = 0;
    for (unsigned i = 0; i < topo_nruns(t); i++) {
        unsigned first, last, k;
        topo_run(t, i, &first, &last, &k);
        covered += last - first + 1;
    }
    for (unsigned i = 0; i < ring_nnodes(r); i++) {
        known += ring_is_member(r, i);
        masters += topo_master_slots(t, i) > 0;
    }
    topo_destroy(t);
    struct buf b;
    buf_init(&b);
    buf_printf(&b,
               "cluster_state:%s\r\ncluster_slots_assigned:%u\r\ncluster_slots_ok:%u\r\n"
               "cluster_slots_pfail:0\r\ncluster_slots_fail:%u\r\n"
               "cluster_known_nodes:%u\r\ncluster_size:%u\r\n"
               "cluster_current_epoch:%llu\r\ncluster_my_epoch:%llu\r\n"
               "cluster_stats_messages_sent:0\r\ncluster_stats_messages_received:0\r\n"
               "total_cluster_links_buffer_limit_exceeded:0\r\n",
               covered == SLOT_COUNT ? "ok" : "fail", SLOT_COUNT, covered,
               SLOT_COUNT - covered, known, masters,
               (unsigned long long)ring_version(r), (unsigned long long)ring_version(r));
    resp_add_verbatim(&c->out, c->proto, "txt", b.data, b.len);
    buf_fini(&b);
}

/* A slot argument: a canonical integer in [0, SLOT_COUNT). */
static bool slot_arg(struct client *c, const struct arg *a, unsigned *slot)
{
    long long v;
    if (!cmd_arg_ll(a, &v) || v < 0 || v >= SLOT_COUNT) {
        cmd_reply_err(c, "Invalid slot");
        return false;
    }
    *slot = (unsigned)v;
    return true;
}

struct slot_keys {
    unsigned slot;
    size_t want, got;
    struct buf *out;
};

static void slot_key(void *arg, const struct store_entry *e)
{
    struct slot_keys *sk = arg;
    if (sk->got >= sk->want)
        return;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    if (slot_of_key(key, klen) != sk->slot)
        return;
    unsigned nv = store_entry_nversions(e);
    for (unsigned i = 0; i < nv; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        if (vr.val) { /* the keys store_count_slot counts */
            resp_add_bulk(sk->out, key, klen);
            sk->got++;
            return;
        }
    }
}

static void cluster_getkeysinslot(struct client *c, const struct kv_node *v,
                                  const struct arg *argv)
{
    unsigned slot;
    long long count;
    if (!slot_arg(c, &argv[2], &slot))
        return;
    if (!cmd_arg_ll(&argv[3], &count) || count < 0) {
        cmd_reply_err(c, "Invalid number of keys");
        return;
    }
    size_t have = store_count_slot(v->store, slot, NULL);
    struct buf keys;
    buf_init(&keys);
    struct slot_keys sk = {.slot = slot, .want = (size_t)count < have ? (size_t)count : have,
                           .out = &keys};
    uint64_t cur = 0;
    if (sk.want > 0)
        do /* in steps, stopping once the slot's keys are all found */
            cur = store_scan(v->store, cur, 1024, slot_key, &sk);
        while (cur != 0 && sk.got < sk.want);
    resp_add_array(&c->out, (long long)sk.got);
    buf_append(&c->out, keys.data ? keys.data : "", keys.len);
    buf_fini(&keys);
}

static const char *const cluster_help[] = {
    "CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "SLOTS",
    "    Slot ranges with their coordinator (master) and the rest of their preference list",
    "    (replicas), as this node sees liveness.",
    "SHARDS",
    "    The same, grouped by owner list.",
    "NODES",
    "    Every member, in Redis's CLUSTER NODES format (masters of the slots they coordinate).",
    "MYID",
    "    This node's ID.",
    "INFO",
    "    Slot coverage and membership.",
    "KEYSLOT <key>",
    "    The hash slot of <key>.",
    "COUNTKEYSINSLOT <slot>",
    "    Keys with a value this node holds in <slot>.",
    "GETKEYSINSLOT <slot> <count>",
    "    Up to <count> of those keys.",
    "HELP",
    "    Prints this help.",
};

static void cmd_cluster(struct client *c, int argc, const struct arg *argv)
{
    const struct kv_node *v = c->node;
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "SLOTS") && argc == 2) {
        cluster_slots(c, v);
    } else if (cmd_arg_eq(sub, "SHARDS") && argc == 2) {
        cluster_shards(c, v);
    } else if (cmd_arg_eq(sub, "NODES") && argc == 2) {
        cluster_nodes(c, v);
    } else if (cmd_arg_eq(sub, "MYID") && argc == 2) {
        char id[NODE_ID_HEX + 1];
        node_id(v->cfg.node_name, id); /* the ring's name for this node */
        resp_add_cstr(&c->out, id);
    } else if (cmd_arg_eq(sub, "INFO") && argc == 2) {
        cluster_info(c, v);
    } else if (cmd_arg_eq(sub, "KEYSLOT") && argc == 3) {
        resp_add_int(&c->out, slot_of_key(argv[2].p, argv[2].len));
    } else if (cmd_arg_eq(sub, "COUNTKEYSINSLOT") && argc == 3) {
        unsigned slot;
        if (slot_arg(c, &argv[2], &slot))
            resp_add_int(&c->out, (long long)store_count_slot(v->store, slot, NULL));
    } else if (cmd_arg_eq(sub, "GETKEYSINSLOT") && argc == 4) {
        cluster_getkeysinslot(c, v, argv);
    } else if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        cmd_reply_help(c, cluster_help, sizeof(cluster_help) / sizeof(cluster_help[0]));
    } else {
        cmd_reply_unknown_sub(c, "CLUSTER", sub);
    }
}

/* READONLY, READWRITE, ASKING: every node serves every key and every read,
 * so there is no mode to change. */
static void cmd_cluster_ok(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    cmd_reply_ok(c);
}

const struct cmd_def cmd_cluster_table[] = {
    {"cluster", -2, CMD_F_STALE, 0, 0, 0, cmd_cluster, "cluster",
     "The Redis Cluster topology of this Dynamo ring (every node takes every key).",
     "subcommand(SLOTS|SHARDS|NODES|MYID|INFO|KEYSLOT|COUNTKEYSINSLOT|GETKEYSINSLOT|HELP) arg*",
     "3.0.0"},
    {"readonly", 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_cluster_ok, "cluster",
     "Accepted for cluster clients: every node serves reads.", "", "3.0.0"},
    {"readwrite", 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_cluster_ok,
     "cluster", "Accepted for cluster clients: every node serves writes.", "", "3.0.0"},
    {"asking", 1, CMD_F_FAST, 0, 0, 0, cmd_cluster_ok, "cluster",
     "Accepted for cluster clients: no slot is ever migrating.", "", "3.0.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
