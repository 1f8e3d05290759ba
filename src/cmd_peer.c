/* cmd_peer.c — commands of the cluster port.
 *
 *   PAUTH secret node-name   prove the cluster secret (required first)
 *   PPING                    liveness probe
 *   PGET key                 this replica's versions: bulk of sib_encode
 *   PPUT key versions        reconcile sib_encode'd versions into the store;
 *                            reply :changed, or (when this replica holds
 *                            versions the write does not cover) their set
 *   PHINT owner key versions keep versions for an unreachable owner (handoff)
 *   PGOSSIP table            merge a membership table; reply: ours
 *   PCHECK key...            per key: this node's digest and whether it holds
 *                            a hint for it (tombstone reaping, reaper.h)
 *   PREAP key digest         remove key if its digest is still that
 *   PFWD deadline-ms cmd...  run a client command here, as its coordinator,
 *                            unless the sender's deadline has passed
 *   PSCAN cursor count pattern
 *                            one scan step over the keys this node reports
 *                            (see cmd_primary_scan in cmd.h; count 0 = all):
 *                            [next-cursor, nkeys, keys] where keys is one bulk
 *                            holding the nkeys keys as RESP bulk strings
 *                            (peer replies carry at most 64 array elements);
 *                            -TOOBIG when count 0 would exceed half of
 *                            client-output-buffer-limit
 *   PDBSIZE                  how many keys this node reports
 *   PRANDOMKEY               one random key this node reports, or nil
 *
 * The last three serve KEYS, SCAN, DBSIZE and RANDOMKEY (cmd_keyspace.c),
 * which gather them from every node.  A node reports a key when it is the
 * first live node of the key's preference list, as it sees it.
 *
 * None of these exist on the client port, and none but PAUTH run before the
 * secret was proved.  Input from peers is validated like client input: a
 * malformed encoding is an error reply, never a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ae.h"
#include "reaper.h"
#include "replica.h"
#include "cluster.h"
#include "cmd.h"
#include "config.h"
#include "coord.h"
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
    /* logged before the coordinator hears the ack */
    struct sibset stored;
    sib_init(&stored);
    int changed = replica_put_set_stored(c->node, key->p, key->len, &set, &stored);
    /* When this replica holds versions the write does not cover, the
     * coordinator's copy was stale: say which (it may supersede them). */
    if (changed < 0) {
        /* past the hard sibling limit (siblings.h): never acked */
        resp_add_error(&c->out, "ERR", kv_strerror(changed));
    } else if (stored.n > 0 && !sib_covers(&set, &stored)) {
        struct buf more;
        buf_init(&more);
        sib_encode(&stored, &more);
        resp_add_bulk(&c->out, more.data, more.len);
        buf_fini(&more);
    } else {
        resp_add_int(&c->out, changed);
    }
    sib_fini(&stored);
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

/* ---- keys this node reports (cmd.h: cmd_primary_*) ---- */

/* True when e has a live value and this node is the first node of its
 * preference list that it sees alive (every live key without a cluster). */
static bool reports(struct kv_node *n, const struct store_entry *e, int64_t now)
{
    unsigned nv = store_entry_nversions(e);
    bool live = false;
    for (unsigned i = 0; i < nv && !live; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        live = vr.val && (vr.expire_ms == 0 || vr.expire_ms > now);
    }
    if (!live)
        return false;
    if (!n->peers)
        return true;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    return coord_write_target(n->coord, key, klen) == n->self_idx;
}

struct pscan {
    struct kv_node *n;
    int64_t now;
    const char *pat; /* NULL = every key */
    size_t plen;
    struct buf *keys;
    long long nkeys;
    const struct store_entry *pick; /* cmd_primary_random's fallback */
};

static void pscan_entry(void *arg, const struct store_entry *e)
{
    struct pscan *ps = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    if (ps->pat && !cfg_glob_match(ps->pat, ps->plen, key, klen, false))
        return;
    if (!reports(ps->n, e, ps->now))
        return;
    if (ps->keys)
        resp_add_bulk(ps->keys, key, klen);
    if (!ps->pick)
        ps->pick = e;
    ps->nkeys++;
}

uint64_t cmd_primary_scan(struct kv_node *n, uint64_t cursor, size_t count, const char *pat,
                          size_t plen, struct buf *keys, long long *nkeys)
{
    struct pscan ps = {.n = n, .now = kv_now_ms(), .pat = pat, .plen = plen, .keys = keys};
    if (pat && plen == 1 && pat[0] == '*')
        ps.pat = NULL;
    /* count 0: the whole store in this one call.  Nothing can change the
     * store between buckets then, so every key is visited exactly once. */
    uint64_t next = store_scan(n->store, cursor, count ? count : SIZE_MAX, pscan_entry, &ps);
    *nkeys += ps.nkeys;
    return next;
}

long long cmd_primary_count(struct kv_node *n)
{
    long long total = 0;
    cmd_primary_scan(n, 0, 0, NULL, 0, NULL, &total);
    return total;
}

bool cmd_primary_random(struct kv_node *n, struct buf *key)
{
    int64_t now = kv_now_ms();
    const struct store_entry *e = NULL;
    /* A node reports about 1/N of the keys it holds (N = replicas), so a
     * few random picks nearly always find one.  When they do not (mostly
     * tombstones, or keys this node is not first for), one whole scan
     * takes the first reported key: correct, but O(keys) and not uniform. */
    for (int i = 0; i < 64; i++) {
        const struct store_entry *x = store_random(n->store);
        if (!x)
            return false;
        if (reports(n, x, now)) {
            e = x;
            break;
        }
    }
    if (!e) {
        struct pscan ps = {.n = n, .now = now};
        store_scan(n->store, 0, SIZE_MAX, pscan_entry, &ps);
        e = ps.pick;
    }
    if (!e)
        return false;
    size_t klen;
    const char *k = store_entry_key(e, &klen);
    buf_put(key, k, klen);
    return true;
}

/* PSCAN cursor count pattern -> [next-cursor, nkeys, "$len\r\nkey\r\n..."] */
static void peer_scan(struct client *c, const struct arg *argv)
{
    long long cursor, count;
    if (!cmd_arg_ll(&argv[1], &cursor) || cursor < 0 || !cmd_arg_ll(&argv[2], &count) ||
        count < 0) {
        resp_add_error(&c->out, "ERR", "PSCAN: bad cursor or count");
        return;
    }
    struct buf keys;
    buf_init(&keys);
    long long nkeys = 0;
    uint64_t next = cmd_primary_scan(c->node, (uint64_t)cursor, (size_t)count, argv[3].p,
                                     argv[3].len, &keys, &nkeys);
    long long limit = c->node->cfg.client_output_buffer_limit;
    if (limit > 0 && (long long)keys.len > limit / 2) {
        /* The reply would close this peer connection (and fail every
         * request queued on it): refuse instead. */
        resp_add_error(&c->out, "TOOBIG", "too many keys for one reply; use SCAN");
        buf_fini(&keys);
        return;
    }
    char tmp[24];
    int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)next);
    resp_add_array(&c->out, 3);
    resp_add_bulk(&c->out, tmp, (size_t)len);
    resp_add_int(&c->out, nkeys);
    resp_add_bulk(&c->out, keys.data ? keys.data : "", keys.len);
    buf_fini(&keys);
}

static void peer_randomkey(struct client *c)
{
    struct buf key;
    buf_init(&key);
    if (cmd_primary_random(c->node, &key))
        resp_add_bulk(&c->out, key.data ? key.data : "", key.len);
    else
        resp_add_null(&c->out, 2);
    buf_fini(&key);
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
    } else if (cmd_arg_eq(name, "PAE") && argc >= 3) {
        ae_serve(c->node->ae, argc, argv, &c->out);
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
    } else if (cmd_arg_eq(name, "PCHECK") && argc >= 2) {
        reaper_serve_check(c->node, argc - 1, argv + 1, &c->out);
    } else if (cmd_arg_eq(name, "PREAP") && argc == 3) {
        reaper_serve_reap(c->node, &argv[1], &argv[2], &c->out);
    } else if (cmd_arg_eq(name, "PSCAN") && argc == 4) {
        peer_scan(c, argv);
    } else if (cmd_arg_eq(name, "PDBSIZE") && argc == 1) {
        resp_add_int(&c->out, cmd_primary_count(c->node));
    } else if (cmd_arg_eq(name, "PRANDOMKEY") && argc == 1) {
        peer_randomkey(c);
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
