/* cmd_peer.c — commands of the cluster port.
 *
 *   PHELLO nonce node-name   handshake, step 1 (see below)
 *   PPROVE proof             handshake, step 2
 *   PPING                    liveness probe
 *   PGET key [epoch]         this replica's versions and the hints it keeps
 *                            for the key: bulk of sib_encode; [bulk, its
 *                            flush epoch] when that is above the asker's
 *   PPUT key versions        reconcile sib_encode'd versions into the store;
 *                            reply :changed, or (when this replica holds
 *                            versions the write does not cover) their set
 *   PHINT owner key versions keep versions for an unreachable owner (handoff)
 *   PGOSSIP table            merge a membership table; reply: ours
 *   PFLUSH epoch             apply a cluster flush (flush.h): drop every
 *                            version stamped before epoch, logged; +OK
 *   PCHECK key...            per key: this node's digest and whether it holds
 *                            a hint for it (tombstone reaping, reaper.h)
 *   PREAP key digest         remove key if its digest is still that
 *   PFWDR deadline-ms proto cmd...  as PFWD, the reply encoded for the
 *                            client's protocol inside one bulk string
 *   PFWD deadline-ms cmd...  run a client command here, as its coordinator,
 *                            unless the sender's deadline has passed
 *   PSCAN cursor count pattern [type]
 *                            one scan step over the keys this node reports
 *                            (see cmd_primary_scan in cmd.h; count 0 = all;
 *                            type: only keys TYPE would call that):
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
 * The handshake (mutual challenge-response; the secret never travels).
 * Every cluster-port connection starts unauthenticated, whatever the
 * secret; the connecting node (peer.c) and this side each contribute a fresh
 * 32-byte nonce from libsodium's CSPRNG:
 *   connector -> PHELLO nonce_c name_c
 *   acceptor  <- [nonce_a, name_a, proof_a]        proof_a = P("acceptor")
 *   connector    checks proof_a; on a mismatch it closes, sends nothing more
 *   connector -> PPROVE proof_c                    proof_c = P("connector")
 *   acceptor  <- +OK, or -ERR and the connection closes
 * where P(role) = HMAC-SHA256 keyed with cluster-secret over a fixed label,
 * the role, both nonces and both names (peer_auth.h).  The roles differ, so
 * one side's proof is never valid as the other's; both nonces are fresh, so
 * bytes captured from one exchange prove nothing on another connection.
 * Before PPROVE succeeded anything but PHELLO/PPROVE gets -NOAUTH and the
 * connection closes; the connecting side sends its first peer command, and
 * merges nothing, only after it checked proof_a and got +OK.  An empty
 * cluster-secret is an empty HMAC key: allowed only where protected mode
 * (main.c) lets a node start, i.e. both ports on loopback.
 * What it does not do: it authenticates the two ends once; it neither
 * encrypts nor MACs the traffic after it, so across an untrusted network
 * run the cluster port inside a private network or a tunnel (WireGuard,
 * stunnel).  A weak secret can be guessed offline from one exchange
 * observed or provoked: use a long random one.
 * Failures (a malformed PHELLO, a wrong proof) count against the source
 * address; after PAUTH_LIMIT_FAILS in a window it is refused until the
 * window ends, and the refusal is logged once per window.  Names a peer
 * claims are checked (node-name rules) and sanitised before any log line.
 *
 * Input from peers is validated like client input: a malformed encoding is
 * an error reply, never a crash.
 *
 * Owns: cmd_peer_table (name, arity, flags, handler: looked up once per
 * request by cmd_resolve) and the handshake state of each cluster-port
 * connection.  Callers: cmd.c (cmd_dispatch -> cmd_peer_run, the table),
 * cmd_keyspace.c (cmd_primary_*).  Nothing here blocks; KEYS-style PSCAN
 * with count 0 walks the whole store in one step (bounded by TOOBIG).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/ae.h"
#include "storage/aof.h"
#include "cluster/reaper.h"
#include "storage/replica.h"
#include "cluster/cluster.h"
#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/typed.h"
#include "core/config.h"
#include "cluster/members.h"
#include "cluster/handoff.h"
#include "util/clock.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "core/peer_auth.h"
#include "core/resp.h"
#include "core/slot.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

/* Handshake state of one cluster-port connection (c->peer_hs), freed once
 * the handshake completed or when the connection goes (cmd_peer_gone). */
struct peer_hs {
    uint8_t want[PAUTH_MAC_LEN]; /* the connector's expected proof */
    char name[PAUTH_NAME_MAX + 1];
};

static struct pauth_limiter limiter; /* failed handshakes per source address */

/* The IP part of c->addr ("ip:port"). */
static void source_ip(const struct client *c, char *out, size_t cap)
{
    snprintf(out, cap, "%s", c->addr);
    char *colon = strrchr(out, ':');
    if (colon)
        *colon = '\0';
}

static void hs_refuse(struct client *c, const char *ip, const char *why)
{
    pauth_limit_fail(&limiter, ip, clock_now_ms());
    resp_add_errorf(&c->out, "ERR", "peer handshake failed: %s", why);
    srv_client_close_after_reply(c);
}

static void peer_hello(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    char ip[64], shown[72];
    source_ip(c, ip, sizeof(ip));
    int64_t now = clock_now_ms();
    if (!pauth_limit_allowed(&limiter, ip, now)) {
        if (pauth_limit_should_log(&limiter, ip, now))
            log_warn("too many failed peer handshakes from %s: refusing it for up to %d s", ip,
                     PAUTH_LIMIT_WINDOW_MS / 1000);
        resp_add_error(&c->out, "ERR", "too many failed peer handshakes from this address");
        srv_client_close_after_reply(c);
        return;
    }
    if (c->peer_hs || (c->flags & CLI_F_AUTHED)) {
        hs_refuse(c, ip, "PHELLO sent twice");
        return;
    }
    if (argc != 3 || argv[1].len != PAUTH_NONCE_LEN || !pauth_name_ok(argv[2].p, argv[2].len)) {
        pauth_sanitize(shown, sizeof(shown), argc >= 3 ? argv[2].p : "", argc >= 3 ? argv[2].len : 0);
        log_warn("peer %s sent a malformed PHELLO (claims node %s)", c->addr, shown);
        hs_refuse(c, ip, "malformed PHELLO (expected nonce of 32 bytes and a node name)");
        return;
    }
    const char *secret = n->cfg.cluster_secret ? n->cfg.cluster_secret : "";
    const char *self = n->cfg.node_name;
    uint8_t na[PAUTH_NONCE_LEN], proof[PAUTH_MAC_LEN];
    pauth_nonce(na);
    const uint8_t *nc = (const uint8_t *)argv[1].p;
    struct peer_hs *hs = mem_calloc(1, sizeof(*hs));
    memcpy(hs->name, argv[2].p, argv[2].len);
    pauth_mac(secret, strlen(secret), PAUTH_ACCEPTOR, nc, na, argv[2].p, argv[2].len, self,
              strlen(self), proof);
    pauth_mac(secret, strlen(secret), PAUTH_CONNECTOR, nc, na, argv[2].p, argv[2].len, self,
              strlen(self), hs->want);
    c->peer_hs = hs;
    resp_add_array(&c->out, 3);
    resp_add_bulk(&c->out, na, sizeof(na));
    resp_add_bulk(&c->out, self, strlen(self));
    resp_add_bulk(&c->out, proof, sizeof(proof));
}

static void peer_prove(struct client *c, int argc, const struct arg *argv)
{
    struct peer_hs *hs = c->peer_hs;
    char ip[64];
    source_ip(c, ip, sizeof(ip));
    if (!hs || (c->flags & CLI_F_AUTHED)) {
        hs_refuse(c, ip, "PPROVE without PHELLO");
        return;
    }
    if (argc != 2 || !pauth_mac_equal(hs->want, argv[1].p, argv[1].len)) {
        log_warn("peer %s (claims node %s) failed the handshake: wrong cluster secret", c->addr,
                 hs->name);
        hs_refuse(c, ip, "invalid cluster secret proof");
        return;
    }
    c->flags |= CLI_F_AUTHED;
    mem_free(c->name);
    c->name = mem_strdup(hs->name);
    cmd_peer_gone(c);
    cmd_reply_ok(c);
}

void cmd_peer_gone(struct client *c)
{
    if (c->peer_hs) {
        pauth_wipe(c->peer_hs, sizeof(struct peer_hs));
        mem_free(c->peer_hs);
        c->peer_hs = NULL;
    }
}

/* PGET key [epoch]: with the asker's flush epoch, an answer from a node
 * that knows a higher one is [versions, epoch], so the asker learns of a
 * flush it missed before it answers a read (it may hold what the flush
 * removed).  Otherwise the versions alone. */
static void peer_get(struct client *c, const struct arg *key, const struct arg *asker_epoch)
{
    struct sibset set;
    sib_init(&set);
    const struct store_entry *e = store_find(c->node->store, key->p, key->len);
    if (e)
        store_entry_load(e, &set);
    if (c->node->hh) /* a substitute answers with what it keeps for the owners */
        hh_merge_hints(c->node->hh, key->p, key->len, &set);
    struct buf enc;
    buf_init(&enc);
    sib_encode(&set, &enc);
    long long theirs;
    uint32_t mine = replica_epoch(c->node->replica);
    bool tell = asker_epoch && cmd_arg_ll(asker_epoch, &theirs) && theirs >= 0 &&
                (unsigned long long)theirs < mine;
    if (tell)
        resp_add_array(&c->out, 2);
    resp_add_bulk(&c->out, enc.data ? enc.data : "", enc.len);
    if (tell)
        resp_add_int(&c->out, (long long)mine);
    buf_fini(&enc);
    sib_fini(&set);
}

/* A typed state's delta (issue 14) is joined, never superseded: the
 * coordinator needs no list of what this replica holds beside it (which
 * would be the whole state). */
static bool typed_delta(const struct sibset *set)
{
    for (uint32_t i = 0; i < set->n; i++)
        if (val_is_typed(set->v[i].val))
            return true;
    return false;
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
    int changed = replica_put_set_stored(c->node->replica, key->p, key->len, &set, &stored);
    /* When this replica holds versions the write does not cover, the
     * coordinator's copy was stale: say which (it may supersede them). */
    if (changed < 0) {
        /* past the hard sibling limit (siblings.h): never acked */
        resp_add_error(&c->out, "ERR", kv_strerror(changed));
    } else if (stored.n > 0 && !typed_delta(&set) && !sib_covers(&set, &stored)) {
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
    int owner = members_index(n->members, argv[1].p, argv[1].len);
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

/* A stored version that holds a live value at now (a typed state without
 * elements does not: an emptied set is gone, as in Redis). */
static bool vref_live(const struct store_vref *vr, int64_t now)
{
    return vr->val && (vr->expire_ms == 0 || vr->expire_ms > now) &&
           !(val_is_typed(vr->val) && tval_empty(vr->val));
}

/* What TYPE answers for e's live versions: "string" when one is bytes
 * (concurrent versions of different types included), else the typed
 * state's type (typed_type_name); NULL when none is live. */
static const char *entry_type(const struct store_entry *e, int64_t now)
{
    unsigned nv = store_entry_nversions(e);
    const char *name = NULL;
    for (unsigned i = 0; i < nv; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        if (!vref_live(&vr, now))
            continue;
        if (!val_is_typed(vr.val) || name)
            return "string";
        name = typed_type_name(tval_type(vr.val));
    }
    return name;
}

/* True when e has a live value and this node is the first node of its
 * preference list that it sees alive (every live key without a cluster). */
static bool reports(struct kv_node *n, const struct store_entry *e, int64_t now)
{
    unsigned nv = store_entry_nversions(e);
    bool live = false;
    for (unsigned i = 0; i < nv && !live; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        live = vref_live(&vr, now);
    }
    if (!live)
        return false;
    if (!n->peers)
        return true;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    return members_write_target(n->members, key, klen) == n->self_idx;
}

struct pscan {
    struct kv_node *n;
    int64_t now;
    const char *pat; /* NULL = every key */
    size_t plen;
    const struct arg *type; /* NULL = every type */
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
    const char *tn = ps->type ? entry_type(e, ps->now) : NULL;
    if (ps->type && (!tn || !cmd_arg_eq(ps->type, tn)))
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
    return cmd_primary_scan_type(n, cursor, count, pat, plen, NULL, keys, nkeys);
}

uint64_t cmd_primary_scan_type(struct kv_node *n, uint64_t cursor, size_t count, const char *pat,
                               size_t plen, const struct arg *type, struct buf *keys,
                               long long *nkeys)
{
    struct pscan ps = {
        .n = n, .now = clock_now_ms(), .pat = pat, .plen = plen, .type = type, .keys = keys};
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
    /* From the store's per-slot counts: the slots this node coordinates,
     * O(SLOT_COUNT).  A slot holding keys whose every value has an expiry
     * may hold expired ones the counts include: then a scan, as before. */
    long long total = 0;
    for (unsigned slot = 0; slot < SLOT_COUNT; slot++) {
        size_t expiring, keys = store_count_slot(n->store, slot, &expiring);
        if (keys == 0 || members_slot_write_target(n->members, slot) != n->self_idx)
            continue;
        if (expiring > 0) {
            total = 0;
            cmd_primary_scan(n, 0, 0, NULL, 0, NULL, &total);
            return total;
        }
        total += (long long)keys;
    }
    return total;
}

bool cmd_primary_random(struct kv_node *n, struct buf *key)
{
    int64_t now = clock_now_ms();
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

/* PSCAN cursor count pattern [type] -> [next-cursor, nkeys, "$len\r\nkey\r\n..."] */
static void peer_scan(struct client *c, int argc, const struct arg *argv)
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
    if (argc > 5) {
        resp_add_error(&c->out, "ERR", "PSCAN: too many arguments");
        return;
    }
    uint64_t next = cmd_primary_scan_type(c->node, (uint64_t)cursor, (size_t)count, argv[3].p,
                                          argv[3].len, argc == 5 ? &argv[4] : NULL, &keys,
                                          &nkeys);
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

/* ---- handlers with the table's signature ---- */

static void peer_ping(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    resp_add_simple(&c->out, "PONG");
}

static void peer_get_cmd(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 3) {
        resp_add_error(&c->out, "ERR", "PGET takes a key and an optional epoch");
        return;
    }
    peer_get(c, &argv[1], argc == 3 ? &argv[2] : NULL);
}

static void peer_put_cmd(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    peer_put(c, &argv[1], &argv[2]);
}

static void peer_ae(struct client *c, int argc, const struct arg *argv)
{
    ae_serve(c->node->ae, argc, argv, &c->out);
}

static void peer_hint_cmd(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    peer_hint(c, argv);
}

static void peer_gossip(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    struct buf out;
    buf_init(&out);
    if (cluster_gossip_exchange(c->node->cluster, argv[1].p, argv[1].len, &out) != 0)
        resp_add_error(&c->out, "ERR", "malformed gossip table");
    else
        resp_add_bulk(&c->out, out.data ? out.data : "", out.len);
    buf_fini(&out);
}

static void peer_flush(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    long long e;
    if (!cmd_arg_ll(&argv[1], &e) || e < 1 || e > (long long)UINT32_MAX) {
        resp_add_error(&c->out, "ERR", "PFLUSH: bad epoch");
        return;
    }
    replica_flush_to(c->node->replica, (uint32_t)e, "PFLUSH from a peer");
    cmd_reply_ok(c); /* after the flush record: replies wait for the log */
}

static void peer_check(struct client *c, int argc, const struct arg *argv)
{
    reaper_serve_check(c->node->reaper, argc - 1, argv + 1, &c->out);
}

static void peer_reap(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    reaper_serve_reap(c->node->reaper, &argv[1], &argv[2], &c->out);
}

static void peer_scan_cmd(struct client *c, int argc, const struct arg *argv)
{
    peer_scan(c, argc, argv);
}

static void peer_dbsize(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    resp_add_int(&c->out, cmd_primary_count(c->node));
}

static void peer_randomkey_cmd(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    peer_randomkey(c);
}

static void peer_fwd(struct client *c, int argc, const struct arg *argv)
{
    long long deadline;
    if (!cmd_arg_ll(&argv[1], &deadline)) {
        resp_add_error(&c->out, "ERR", "PFWD: bad deadline");
    } else if (clock_now_ms() > deadline) {
        /* The sender has given up on this write (told its client the
         * outcome is unknown); applying it now would resurrect it. */
        resp_add_error(&c->out, "EXPIRED", "forwarded command arrived after its deadline");
    } else {
        cmd_dispatch_client(c, argc - 2, argv + 2);
    }
}

/* PFWDR deadline-ms proto cmd...: PFWD whose reply is the command's reply
 * encoded in protocol `proto` (the forwarding node's client's), sent back
 * as one bulk string that node passes on as it is.  A decline (-NOTCOORD)
 * and the deadline's errors stay plain errors: the forwarding node reads
 * them.  A reply that comes later is caught by redirecting it (defer_to)
 * and goes into this connection's reserved reply slot. */
struct rawfwd {
    struct srv *srv;
    uint64_t cid;
    struct reply_slot *slot; /* NULL until the command returned */
    bool answered;           /* the reply came before the command returned */
    struct buf early;
};

struct raw_bytes {
    const char *p;
    size_t len;
};

static void rawfwd_fill(void *arg, struct client *c)
{
    const struct raw_bytes *b = arg;
    resp_add_bulk(&c->out, b->p, b->len);
}

static void rawfwd_done(void *arg, const char *reply, size_t len)
{
    struct rawfwd *f = arg;
    if (!f->slot) { /* still inside the dispatch: peer_fwd_raw writes it */
        f->answered = true;
        buf_put(&f->early, reply, len);
        return;
    }
    struct client *c = srv_client_find(f->srv, f->cid);
    if (c) {
        struct raw_bytes b = {reply, len};
        srv_slot_fill(c, f->slot, rawfwd_fill, &b);
    }
    mem_free(f);
}

static void peer_fwd_raw(struct client *c, int argc, const struct arg *argv)
{
    long long deadline, proto;
    if (!cmd_arg_ll(&argv[1], &deadline) || !cmd_arg_ll(&argv[2], &proto) ||
        (proto != 2 && proto != 3)) {
        resp_add_error(&c->out, "ERR", "PFWDR: bad deadline or protocol");
        return;
    }
    if (clock_now_ms() > deadline) {
        resp_add_error(&c->out, "EXPIRED", "forwarded command arrived after its deadline");
        return;
    }
    struct rawfwd *f = mem_calloc(1, sizeof(*f));
    f->srv = c->srv;
    f->cid = c->id;
    buf_init(&f->early);
    int saved_proto = c->proto;
    struct defer_to to = {.done = rawfwd_done, .arg = f, .taken = false};
    struct defer_to *outer = c->defer_to;
    size_t mark = c->out.len;
    c->proto = (int)proto;
    c->defer_to = &to;
    cmd_dispatch_client(c, argc - 3, argv + 3);
    c->defer_to = outer;
    c->proto = saved_proto;
    if (to.taken && !f->answered) {
        f->slot = srv_slot_open(c); /* rawfwd_done fills it */
        return;
    }
    struct buf body;
    buf_init(&body);
    if (to.taken)
        buf_put(&body, f->early.data ? f->early.data : "", f->early.len);
    else
        buf_put(&body, c->out.data + mark, c->out.len - mark);
    c->out.len = mark;
    if (body.len >= 9 && memcmp(body.data, "-NOTCOORD", 9) == 0)
        buf_put(&c->out, body.data, body.len); /* the sender tries the next node */
    else
        resp_add_bulk(&c->out, body.data ? body.data : "", body.len);
    buf_fini(&body);
    buf_fini(&f->early);
    mem_free(f);
}

/* ---- the table (cmd.h: CMD_F_NOAUTH = before the handshake, CMD_F_WRITE =
 * refused while the log cannot be written) ---- */

#define PEER_ROW(name, arity, flags, fn) \
    {name, arity, flags, 0, 0, 0, fn, NULL, NULL, NULL, NULL}

const struct cmd_def cmd_peer_table[] = {
    /* the handshake checks its own arguments: a malformed one is a failure */
    PEER_ROW("phello", -1, CMD_F_NOAUTH, peer_hello),
    PEER_ROW("pprove", -1, CMD_F_NOAUTH, peer_prove),
    PEER_ROW("pping", -1, 0, peer_ping),
    PEER_ROW("pget", -2, 0, peer_get_cmd),
    PEER_ROW("pput", 3, CMD_F_WRITE, peer_put_cmd),
    PEER_ROW("pae", -3, 0, peer_ae),
    PEER_ROW("phint", 4, CMD_F_WRITE, peer_hint_cmd),
    PEER_ROW("pgossip", 2, 0, peer_gossip),
    PEER_ROW("pflush", 2, CMD_F_WRITE, peer_flush),
    PEER_ROW("pcheck", -2, 0, peer_check),
    PEER_ROW("preap", 3, CMD_F_WRITE, peer_reap),
    PEER_ROW("pscan", -4, 0, peer_scan_cmd),
    PEER_ROW("pdbsize", 1, 0, peer_dbsize),
    PEER_ROW("prandomkey", 1, 0, peer_randomkey_cmd),
    PEER_ROW("pfwd", -3, 0, peer_fwd),
    PEER_ROW("pfwdr", -4, 0, peer_fwd_raw),
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};

/* HOT: d is argv[0]'s row of cmd_peer_table (cmd_resolve), or NULL. */
void cmd_peer_run(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv)
{
    const struct arg *name = &argv[0];
    if (d && (d->flags & CMD_F_NOAUTH)) {
        d->fn(c, argc, argv);
        return;
    }
    if (!(c->flags & CLI_F_AUTHED)) {
        resp_add_error(&c->out, "NOAUTH", "complete the peer handshake (PHELLO, PPROVE) first");
        srv_client_close_after_reply(c);
        return;
    }
    if (d && (d->flags & CMD_F_WRITE) && !aof_writable(c->node->aof)) {
        /* a replica write here could not be logged: the coordinator counts
         * this as a failed replica and goes on to another (sloppy quorum) */
        resp_add_error(&c->out, "MISCONF", "this node's append-only log cannot be written; "
                                           "replica writes are refused until it can");
        return;
    }
    if (!d || (d->arity > 0 && argc != d->arity) || (d->arity < 0 && argc < -d->arity)) {
        resp_add_errorf(&c->out, "ERR", "unknown peer command '%.*s' or wrong arity",
                        (int)(name->len > 32 ? 32 : name->len), name->p);
        return;
    }
    d->fn(c, argc, argv);
}
