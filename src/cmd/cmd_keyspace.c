/* cmd_keyspace.c — commands over the key space of the whole cluster (KEYS,
 * SCAN, DBSIZE, RANDOMKEY, FLUSHALL/FLUSHDB: flush.h), key-moving commands
 * (RENAME, RENAMENX, COPY: their rows; cmd_move.c runs them),
 * UNLINK, TOUCH; the command table rows of OBJECT (cmd_object.c) and
 * MULTI/EXEC/DISCARD/WATCH/UNWATCH (cmd_multi.c).
 *
 * Owns: the state of its commands that wait on other nodes (struct
 * gather: a deferred reply, defer.h).
 * Callers: cmd.c (the table: cmd_keyspace_table).
 * Calls: peers (PSCAN/PDBSIZE/PRANDOMKEY on other nodes' cluster ports),
 * cmd_peer.c's cmd_primary_* for this node, pscan.c (cursor text, PSCAN
 * answer checks), the store's live-key count
 * (DBSIZE on a single node, O(1)).  Nothing here blocks; the only
 * unbounded work is what Redis also does at once: KEYS scans each node's
 * whole store (O(keys held)), each node in one step, and so does DBSIZE in
 * a cluster when keys with a TTL are in the slots a node reports (without
 * them it sums the store's per-slot counts, O(16384)).
 *
 * ---- Cluster-wide key listing (KEYS, SCAN, DBSIZE, RANDOMKEY) ----
 * There is no global index.  Every node reports the keys for which it is
 * the first node of the preference list that it sees alive, and holds a
 * live value (tombstoned and expired keys are left out); the command's node
 * gathers the reports of all nodes (PSCAN/PDBSIZE/PRANDOMKEY).
 * Exact: when every node is reachable and the nodes agree on who is alive,
 * each live key is reported exactly once: KEYS has no duplicates, a full
 * SCAN returns each key present for the whole scan at least once (Redis's
 * guarantee; exactly once unless a node's table shrinks mid-scan), and
 * DBSIZE counts each key once.
 * Approximate:
 *  - nodes that disagree on liveness (a failure not yet detected by all,
 *    a one-way partition) can both report a key or neither does;
 *  - a node that cannot be reached is skipped (KEYS, DBSIZE and SCAN carry
 *    on with the others; this is not an error, in keeping with an
 *    always-available store): the keys it is first for are missing unless
 *    the other nodes already route around it, in which case the next live
 *    replica reports them;
 *  - a key whose primary changes during a SCAN (a node fails or returns)
 *    may be returned twice or not at all;
 *  - a key whose first live node does not hold it (that node missed the
 *    writes and hinted handoff or read repair has not delivered them yet)
 *    is not reported;
 *  - RANDOMKEY asks the live nodes in random order for one of their keys:
 *    every key can come back, but not with equal probability.
 * KEYS answers an error (use SCAN) rather than a reply that one node's part
 * or the whole would push past half of client-output-buffer-limit (that
 * would close the peer connection, or the client's).
 * SCAN's cursor encodes (node index, that node's store cursor) as
 * local << 6 | node (CFG_MAX_NODES = 64) and walks the nodes in cluster.conf
 * order; one SCAN call asks one node.  COUNT is passed to that node (it
 * counts entries visited there, so a call returns about COUNT / N keys with
 * N replicas).  Any node can continue a cursor another node issued.  TYPE t
 * keeps the keys TYPE would call t (string — counters and keys holding
 * concurrent versions of different types included —, hash, set, zset;
 * case-insensitive; any other word matches none, as in Redis 7.0), each
 * node filtering its own keys (PSCAN's type argument).  Without a
 * cluster, the cursor is the store's own.
 *
 * RENAME, RENAMENX and COPY: cmd_move.c.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_multi.h"
#include "cmd/defer.h"
#include "cmd/pscan.h"
#include "core/config.h"
#include "cluster/coord.h"
#include "cluster/flush.h"
#include "cluster/members.h"
#include "storage/replica.h"
#include "util/clock.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "net/peer.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

/* ---- gathering from every node: KEYS, SCAN, DBSIZE, RANDOMKEY ---- */

enum gather_kind {
    GATHER_KEYS = 0,
    GATHER_SCAN,
    GATHER_DBSIZE,
    GATHER_RANDOMKEY,
    GATHER_KIND_COUNT
};

struct gather {
    struct defer k;
    enum gather_kind kind;
    struct buf keys;          /* RESP bulks (KEYS, SCAN) */
    long long nkeys;
    long long total;          /* DBSIZE */
    int scan_node;            /* SCAN: the node asked */
    uint64_t cursor;          /* SCAN: the cursor to return */
    int order[CFG_MAX_NODES]; /* RANDOMKEY: nodes to ask, in order */
    int norder, next;
    bool found;               /* RANDOMKEY: keys holds the key's bytes */
    bool toobig;              /* KEYS: a node's part would not fit one reply */
};

/* Per-node request of a gather (KEYS, DBSIZE): which node, for the log. */
struct gather_ref {
    struct gather *g;
    int idx;
};

static void gather_fini(struct defer *k)
{
    struct gather *g = (struct gather *)k;
    buf_fini(&g->keys);
}

static void gather_reply(struct defer *k, struct client *c)
{
    struct gather *g = (struct gather *)k;
    switch (g->kind) {
    case GATHER_KEYS:
        if (g->toobig || (k->node->cfg.client_output_buffer_limit > 0 &&
                          (long long)g->keys.len > k->node->cfg.client_output_buffer_limit / 2)) {
            resp_add_error(&c->out, "ERR", "too many keys for one KEYS reply "
                                           "(client-output-buffer-limit); use SCAN");
            break;
        }
        resp_add_array(&c->out, g->nkeys);
        buf_put(&c->out, g->keys.data ? g->keys.data : "", g->keys.len);
        break;
    case GATHER_SCAN:
        resp_add_array(&c->out, 2);
        pscan_add_u64_bulk(&c->out, g->cursor);
        resp_add_array(&c->out, g->nkeys);
        buf_put(&c->out, g->keys.data ? g->keys.data : "", g->keys.len);
        break;
    case GATHER_DBSIZE:
        resp_add_int(&c->out, g->total);
        break;
    case GATHER_RANDOMKEY:
        if (g->found)
            resp_add_bulk(&c->out, g->keys.data ? g->keys.data : "", g->keys.len);
        else
            resp_add_null(&c->out, c->proto);
        break;
    default:
        break;
    }
}

static const char *node_name(struct kv_node *n, int idx)
{
    return n->cfg.nodes[idx].name;
}

static void gather_node_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct gather_ref *ref = arg;
    struct gather *g = ref->g;
    uint64_t cursor;
    if (!err && g->kind == GATHER_KEYS && pscan_reply_ok(rep, &cursor)) {
        pscan_take_keys(rep, &g->keys, &g->nkeys);
    } else if (!err && rep->type == PEER_R_ERROR && rep->len >= 6 &&
               memcmp(rep->str, "TOOBIG", 6) == 0) {
        g->toobig = true;
    } else if (!err && g->kind == GATHER_DBSIZE && rep->type == PEER_R_INT && rep->integer >= 0) {
        g->total += rep->integer;
    } else {
        log_info("%s: node %s skipped (%s)", g->kind == GATHER_KEYS ? "KEYS" : "DBSIZE",
                 node_name(g->k.node, ref->idx), err ? kv_strerror(err) : "unexpected reply");
    }
    mem_free(ref);
    defer_release(&g->k);
}

/* KEYS and DBSIZE: this node's part at once, every other live node's by
 * one request; unreachable nodes are skipped. */
static void gather_all(struct client *c, enum gather_kind kind, const struct arg *pattern)
{
    struct kv_node *n = c->node;
    struct gather *g = defer_create(sizeof(*g), c, gather_reply, gather_fini);
    g->kind = kind;
    buf_init(&g->keys);
    if (kind == GATHER_KEYS)
        cmd_primary_scan(n, 0, 0, pattern->p, pattern->len, &g->keys, &g->nkeys);
    else if (!n->peers) /* every live key: counted by the store, O(1) */
        g->total = (long long)store_count_live(n->store, clock_now_ms());
    else /* the keys this node coordinates: depends on the ring and on
            which nodes are up; summed over its slots (or a scan when
            some of them hold keys that may have expired) */
        g->total = cmd_primary_count(n);
    for (int i = 0; n->peers && i < n->cfg.nnodes; i++) {
        if (i == n->self_idx)
            continue;
        if (!members_node_up(n->members, i)) {
            log_debug("%s: node %s is down, skipped", kind == GATHER_KEYS ? "KEYS" : "DBSIZE",
                      node_name(n, i));
            continue;
        }
        struct gather_ref *ref = mem_alloc(sizeof(*ref));
        ref->g = g;
        ref->idx = i;
        defer_hold_open(&g->k);
        if (kind == GATHER_KEYS) {
            const char *argv[4] = {"PSCAN", "0", "0", pattern->p};
            size_t lens[4] = {5, 1, 1, pattern->len};
            peers_send(n->peers, i, PEER_CHAN_DATA, n->cfg.get_timeout_ms, gather_node_reply, ref,
                       4, argv, lens);
        } else {
            const char *argv[1] = {"PDBSIZE"};
            size_t lens[1] = {7};
            peers_send(n->peers, i, PEER_CHAN_DATA, n->cfg.get_timeout_ms, gather_node_reply, ref,
                       1, argv, lens);
        }
    }
    defer_dispatched(&g->k, c);
}

static void cmd_keys(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    gather_all(c, GATHER_KEYS, &argv[1]);
}

void cmd_dbsize(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    gather_all(c, GATHER_DBSIZE, NULL);
}

/* SCAN cursors: local << SCAN_NODE_BITS | node index. */
#define SCAN_NODE_BITS 6
static_assert(CFG_MAX_NODES <= (1 << SCAN_NODE_BITS), "SCAN cursor node field too narrow");

/* The client cursor after node idx answered local (0 = that node is done:
 * go on with the next node, or 0 when it was the last). */
static uint64_t scan_cursor_after(const struct kv_node *n, int idx, uint64_t local)
{
    if (local == 0)
        return idx + 1 < n->cfg.nnodes ? (uint64_t)(idx + 1) : 0;
    /* Store cursors stay below the table size, far under 2^58. */
    return local << SCAN_NODE_BITS | (uint64_t)idx;
}

static void scan_node_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct gather *g = arg;
    uint64_t local;
    if (!err && pscan_reply_ok(rep, &local) && local >> (64 - SCAN_NODE_BITS) == 0) {
        pscan_take_keys(rep, &g->keys, &g->nkeys);
        g->cursor = scan_cursor_after(g->k.node, g->scan_node, local);
    } else {
        /* Skip the node: its keys are missing from this scan (see the top). */
        log_info("SCAN: node %s skipped (%s)", node_name(g->k.node, g->scan_node),
                 err ? kv_strerror(err) : "unexpected reply");
        g->cursor = scan_cursor_after(g->k.node, g->scan_node, 0);
    }
    defer_release(&g->k);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
static void cmd_scan(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    uint64_t cursor;
    if (!pscan_parse_u64(argv[1].p, argv[1].len, &cursor)) {
        cmd_reply_err(c, "invalid cursor");
        return;
    }
    const struct arg *pat = NULL, *type = NULL;
    long long count = 10;
    for (int i = 2; i < argc; i += 2) {
        if (i + 1 >= argc) {
            cmd_reply_syntax(c);
            return;
        }
        if (cmd_arg_eq(&argv[i], "COUNT")) {
            if (!cmd_arg_ll(&argv[i + 1], &count)) {
                cmd_reply_not_int(c);
                return;
            }
            if (count < 1) {
                cmd_reply_syntax(c);
                return;
            }
        } else if (cmd_arg_eq(&argv[i], "MATCH")) {
            pat = &argv[i + 1];
        } else if (cmd_arg_eq(&argv[i], "TYPE")) {
            type = &argv[i + 1];
        } else {
            cmd_reply_syntax(c);
            return;
        }
    }
    const char *pp = pat ? pat->p : "*";
    size_t plen = pat ? pat->len : 1;
    int idx = (int)(cursor & ((1u << SCAN_NODE_BITS) - 1));
    uint64_t local = cursor >> SCAN_NODE_BITS;
    /* refused before the deferred reply exists: under EXEC, one created
     * takes the redirect, and a reply given at once would never reach it */
    if (n->peers && idx >= n->cfg.nnodes) {
        cmd_reply_err(c, "invalid cursor");
        return;
    }
    struct gather *g = defer_create(sizeof(*g), c, gather_reply, gather_fini);
    g->kind = GATHER_SCAN;
    buf_init(&g->keys);
    if (!n->peers) {
        g->cursor = cmd_primary_scan_type(n, cursor, (size_t)count, pp, plen, type, &g->keys,
                                          &g->nkeys);
        defer_dispatched(&g->k, c);
        return;
    }
    /* Nodes that look down are passed over at once (like a failed one). */
    while (idx != n->self_idx && !members_node_up(n->members, idx)) {
        log_debug("SCAN: node %s is down, skipped", node_name(n, idx));
        local = 0;
        if (++idx == n->cfg.nnodes)
            break;
    }
    g->scan_node = idx;
    if (idx == n->cfg.nnodes) {
        g->cursor = 0;
    } else if (idx == n->self_idx) {
        uint64_t next = cmd_primary_scan_type(n, local, (size_t)count, pp, plen, type, &g->keys,
                                              &g->nkeys);
        g->cursor = scan_cursor_after(n, idx, next);
    } else {
        char lc[24], cc[24];
        int ll = snprintf(lc, sizeof(lc), "%llu", (unsigned long long)local);
        int cl = snprintf(cc, sizeof(cc), "%lld", count);
        const char *pargv[5] = {"PSCAN", lc, cc, pp, type ? type->p : ""};
        size_t lens[5] = {5, (size_t)ll, (size_t)cl, plen, type ? type->len : 0};
        defer_hold_open(&g->k);
        peers_send(n->peers, idx, PEER_CHAN_DATA, n->cfg.get_timeout_ms, scan_node_reply, g,
                   type ? 5 : 4, pargv, lens);
    }
    defer_dispatched(&g->k, c);
}

static void randomkey_next(struct gather *g);

static void randomkey_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct gather *g = arg;
    if (!err && rep->type == PEER_R_BULK) {
        buf_put(&g->keys, rep->str, rep->len);
        g->found = true;
    } else {
        if (err || rep->type != PEER_R_NIL)
            log_info("RANDOMKEY: node %s skipped (%s)",
                     node_name(g->k.node, g->order[g->next - 1]),
                     err ? kv_strerror(err) : "unexpected reply");
        randomkey_next(g);
    }
    defer_release(&g->k);
}

/* Asks the next node in g->order, until one has a key. */
static void randomkey_next(struct gather *g)
{
    struct kv_node *n = g->k.node;
    while (g->next < g->norder) {
        int idx = g->order[g->next++];
        if (idx == n->self_idx) {
            if ((g->found = cmd_primary_random(n, &g->keys)))
                return;
            continue;
        }
        const char *argv[1] = {"PRANDOMKEY"};
        size_t lens[1] = {10};
        defer_hold_open(&g->k);
        peers_send(n->peers, idx, PEER_CHAN_DATA, n->cfg.get_timeout_ms, randomkey_reply, g, 1,
                   argv, lens);
        return;
    }
}

static void cmd_randomkey(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    struct kv_node *n = c->node;
    struct gather *g = defer_create(sizeof(*g), c, gather_reply, gather_fini);
    g->kind = GATHER_RANDOMKEY;
    buf_init(&g->keys);
    if (!n->peers) {
        g->order[g->norder++] = n->self_idx;
    } else {
        for (int i = 0; i < n->cfg.nnodes; i++)
            if (members_node_up(n->members, i))
                g->order[g->norder++] = i;
        for (int i = g->norder - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)((unsigned long)random() % (unsigned long)(i + 1));
            int t = g->order[i];
            g->order[i] = g->order[j];
            g->order[j] = t;
        }
    }
    randomkey_next(g);
    defer_dispatched(&g->k, c);
}

/* ---- UNLINK, TOUCH ---- */

/* UNLINK is DEL: a tombstone costs the same whenever it is written. */
static void cmd_unlink(struct client *c, int argc, const struct arg *argv)
{
    cmd_del(c, argc, argv);
}

/* TOUCH counts the keys that exist; there is no access time to update. */
static void cmd_touch(struct client *c, int argc, const struct arg *argv)
{
    cmd_exists(c, argc, argv);
}

/* ---- the table ---- */

/* ---- FLUSHALL / FLUSHDB [ASYNC|SYNC]: the whole cluster (flush.h) ----
 * One key space, so FLUSHDB is FLUSHALL.  ASYNC and SYNC are accepted as
 * Redis accepts them and mean the same here: the OK comes once W nodes
 * dropped the keys (each node's pass is one walk of its table). */

struct flush_req {
    struct defer k;
};

static void flush_done(void *arg, int err)
{
    struct flush_req *f = arg;
    if (err)
        f->k.err = err;
    else
        buf_append(&f->k.out, "+OK\r\n", 5);
    defer_release(&f->k);
}

void cmd_flushall(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 2 ||
        (argc == 2 && !cmd_arg_eq(&argv[1], "SYNC") && !cmd_arg_eq(&argv[1], "ASYNC"))) {
        cmd_reply_syntax(c);
        return;
    }
    struct kv_node *n = c->node;
    struct flush_deps deps = {n->base, n->replica, n->peers, n->members, &n->cfg, n->self_idx};
    struct flush_req *f = defer_create(sizeof(*f), c, NULL, NULL);
    defer_hold_open(&f->k);
    int rc = flush_cluster(&deps, flush_done, f);
    if (rc < 0) { /* refused before anything changed */
        f->k.err = rc;
        defer_release(&f->k);
    }
    defer_dispatched(&f->k, c);
}

const struct cmd_def cmd_keyspace_table[] = {
    {"keys", 2, CMD_F_READONLY, 0, 0, 0, cmd_keys, "generic",
     "Returns all key names that match a pattern, gathered from every node.", "pattern",
     "1.0.0"},
    {"scan", -2, CMD_F_READONLY, 0, 0, 0, cmd_scan, "generic",
     "Iterates over the key names of the cluster, node by node.",
     "cursor pattern?(MATCH pattern) count?(COUNT count) type?(TYPE type)", "2.8.0"},
    {"randomkey", 1, CMD_F_READONLY, 0, 0, 0, cmd_randomkey, "generic",
     "Returns a random key name from the cluster.", "", "1.0.0"},
    {"unlink", -2, CMD_F_WRITE | CMD_F_FAST, 1, -1, 1, cmd_unlink, "generic",
     "Deletes one or more keys (the same as DEL).", "key+", "4.0.0"},
    {"touch", -2, CMD_F_READONLY | CMD_F_FAST, 1, -1, 1, cmd_touch, "generic",
     "Returns the number of existing keys out of those specified.", "key+", "3.2.1"},
    {"rename", 3, CMD_F_WRITE, 1, 2, 1, cmd_rename, "generic",
     "Renames a key (copy, then delete the source: not atomic across the two keys).",
     "key newkey", "1.0.0"},
    {"renamenx", 3, CMD_F_WRITE | CMD_F_FAST, 1, 2, 1, cmd_renamenx, "generic",
     "Renames a key only when the new key name doesn't exist (not atomic across the keys).",
     "key newkey", "1.0.0"},
    {"copy", -3, CMD_F_WRITE, 1, 2, 1, cmd_copy, "generic", "Copies the value of a key to a new key.",
     "source destination destination-db?(DB destination-db) replace?(REPLACE)", "6.2.0"},
    {"object", -2, CMD_F_READONLY, 2, 2, 1, cmd_object, "generic",
     "A container for object introspection commands (ENCODING, REFCOUNT).",
     "subcommand(ENCODING|REFCOUNT|IDLETIME|FREQ|HELP) key?", "2.2.3"},
    {"memory", -2, CMD_F_READONLY, 2, 2, 1, cmd_memory, "server",
     "Estimates the bytes a key takes on this node (USAGE), or shows help.",
     "subcommand(USAGE|HELP) key? count?(SAMPLES count)", "4.0.0"},
    {"multi", 1, CMD_F_FAST | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_multi,
     "transactions", "Starts a transaction (commands are queued, then run in order by EXEC).",
     "", "1.2.0"},
    {"exec", 1, CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_exec, "transactions",
     "Runs the queued commands in order (no isolation across keys) and returns their replies.",
     "", "1.2.0"},
    {"discard", 1, CMD_F_FAST | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0,
     cmd_discard, "transactions", "Discards a transaction.", "", "2.0.0"},
    {"watch", -2, CMD_F_FAST | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 1, -1, 1, cmd_watch,
     "transactions", "Not supported (optimistic locking needs strong consistency): an error.",
     "key+", "2.2.0"},
    {"unwatch", 1, CMD_F_FAST | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0,
     cmd_unwatch, "transactions", "Forgets watched keys (none can be watched).", "", "2.2.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
