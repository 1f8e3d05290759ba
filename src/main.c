/* main.c — startup, signals and wiring: the only file that sees every module.
 *
 * Builds struct kv_node from the configuration, opens the listeners, runs the
 * event loop, and on SIGINT/SIGTERM stops accepting, closes connections and
 * frees everything (so valgrind and LeakSanitizer see a clean exit).
 *
 * Startup checks (before the loop runs):
 *  - libsodium initialises (peer handshake nonces and proofs);
 *  - protected mode for cluster members: a node with a cluster whose bind or
 *    cluster-bind is not loopback refuses to start when cluster-secret is
 *    empty or is the placeholder shipped in cluster.conf (PLACEHOLDER_SECRET)
 *    and says what to set.  On loopback both are accepted, so the README's
 *    local cluster starts as shipped; but never an empty secret together
 *    with requirepass (the cluster port's PFWD would skip the password);
 *  - host names: node and seed lines given by name are resolved here, once,
 *    to numeric IPv4 (a name that does not resolve stops the start).  At
 *    run time nothing is resolved: peer.c connects to numeric addresses
 *    only, DYNAMO JOIN and gossip refuse names (cluster.c, gossip.c), since
 *    getaddrinfo would block the event loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "cluster/ae.h"
#include "cmd/cmd.h"
#include "cmd/admin.h"
#include "cmd/cmd_latency.h"
#include "net/http.h"
#include "storage/aof.h"
#include "cluster/handoff.h"
#include "storage/replica.h"
#include "core/siblings.h"
#include "cluster/xfer.h"
#include "util/clock.h"
#include "util/fs.h"
#include "cluster/cluster.h"
#include "core/config.h"
#include "cluster/coord.h"
#include "cluster/members.h"
#include "core/gossip.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "net/peer.h"
#include "core/peer_auth.h"
#include "cluster/reaper.h"
#include "core/ring.h"
#include "net/server.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct kv_node *node = arg;
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    node->shutdown_asap = 1;
    event_base_loopbreak(node->base);
}

/* ---- wiring: the layers below learn about the ones above only here ---- */

/* The replica observer: a local change updates the anti-entropy trees, and
 * versions that arrived for a key this node no longer owns wake the
 * transfer. */
static void on_local_change(void *arg, const void *key, size_t klen, uint64_t before,
                            const struct sibset *stored)
{
    struct kv_node *n = arg;
    if (n->ae)
        ae_update(n->ae, key, klen, before, sib_digest(key, klen, stored));
}

static void on_local_arrived(void *arg, const void *key, size_t klen)
{
    struct kv_node *n = arg;
    xfer_note_write(n->xfer, key, klen);
}

/* The cluster's hooks: what depends on the ring is told of each new one. */
static void on_ring_changed(void *arg)
{
    struct kv_node *n = arg;
    ae_ring_changed(n->ae);
    xfer_ring_changed(n->xfer);
}

static bool on_transfer_busy(void *arg)
{
    return xfer_busy(((struct kv_node *)arg)->xfer);
}

/* A flush (replica_flush_to) dropped the store's older versions: the
 * trees are rebuilt, the hints stamped before it go too, and gossip
 * spreads the epoch. */
static void on_local_flush(void *arg, uint32_t epoch)
{
    struct kv_node *n = arg;
    if (n->ae)
        ae_reset(n->ae);
    if (n->hh)
        hh_drop_before(n->hh, epoch);
    if (n->gossip)
        gossip_set_flush_epoch(n->gossip, epoch);
}

/* Gossip brought a higher flush epoch (a flush this node missed). */
static void on_gossip_flush(void *arg, uint32_t epoch)
{
    struct kv_node *n = arg;
    replica_flush_to(n->replica, epoch, "learnt through gossip");
}

/* Replay of a flush record: the hints go as the store's versions did. */
static void hint_drop_before(void *arg, uint32_t epoch)
{
    struct kv_node *n = arg;
    if (n->hh)
        hh_drop_before(n->hh, epoch);
}

/* The log's view of the hint stores (replay and rewrite). */
static bool hint_load(void *arg, const char *owner, size_t olen, const void *key, size_t klen,
                      const struct sibset *set)
{
    struct kv_node *n = arg;
    int i = n->hh ? members_index(n->members, owner, olen) : -1;
    if (i < 0)
        return false; /* an owner no longer in the table: the log keeps it as local data */
    hh_load(n->hh, i, key, klen, set);
    return true;
}

struct hint_walk {
    struct kv_node *n;
    aof_hint_store_fn fn;
    void *fn_arg;
};

static void hint_walk_one(void *arg, int owner, struct store *hints)
{
    struct hint_walk *w = arg;
    w->fn(w->fn_arg, w->n->cfg.nodes[owner].name, hints);
}

static void hint_foreach_store(void *arg, aof_hint_store_fn fn, void *fn_arg)
{
    struct kv_node *n = arg;
    struct hint_walk w = {n, fn, fn_arg};
    if (n->hh)
        hh_foreach_store(n->hh, hint_walk_one, &w);
}

/* The clock's iteration source: libevent's cached time, refreshed once
 * per loop iteration (util/clock.h). */
static int loop_iteration(void *arg, int64_t *iteration)
{
    struct timeval tv;
    if (event_base_gettimeofday_cached(arg, &tv) != 0)
        return -1;
    *iteration = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
    return 0;
}

/* The server's reply barrier is the log. */
static bool barrier_flush(void *arg)
{
    return aof_flush(arg);
}

static unsigned long long barrier_queued_seq(void *arg)
{
    return aof_queued_seq(arg);
}

static bool barrier_durable(void *arg, unsigned long long seq)
{
    return aof_durable(arg, seq);
}

static void make_run_id(char out[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned seed = (unsigned)(clock_mono_us() ^ getpid());
    for (int i = 0; i < 40; i++) {
        seed = seed * 1103515245u + 12345u;
        out[i] = hex[(seed >> 16) & 15];
    }
    out[40] = '\0';
}

/* The clock identity: node name plus this process's incarnation (start
 * time in ms), so a restarted node never reuses counters of its past self. */
static void make_actor(struct kv_node *node)
{
    char name[VC_MAX_ACTOR_LEN + 1];
    node->incarnation = (uint64_t)clock_now_ms();
    int n = snprintf(name, sizeof(name), "%s.%llu", node->cfg.node_name,
                     (unsigned long long)node->incarnation);
    node->actor = vc_actor_intern(name, (size_t)n);
}

/* The cluster-secret value shipped in cluster.conf for the local cluster. */
#define PLACEHOLDER_SECRET "change-me-local-cluster"
/* Beyond loopback a shorter secret is accepted with a warning. */
#define MIN_SECRET_LEN 16

/* True for addresses only this host can reach: 127.0.0.0/8, ::1, localhost. */
static bool is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, addr, &a6) == 1)
        return IN6_IS_ADDR_LOOPBACK(&a6);
    return strcmp(addr, "localhost") == 0;
}

/* Protected mode for cluster members (see the top comment).  0, or 1 with
 * the reason printed. */
static int protected_mode_check(const struct cfg *c)
{
    if (c->nnodes == 0)
        return 0;
    if (c->requirepass && *c->requirepass && (!c->cluster_secret || !*c->cluster_secret)) {
        fprintf(stderr,
                "dynamo-node: protected mode: node %s has requirepass set but cluster-secret is "
                "empty, so anyone who can reach its cluster port (even on this host) could run "
                "commands there without the password.  Set cluster-secret to a long random "
                "value, the same on every node (a `cluster-secret VALUE` line in the config "
                "file or --cluster-secret VALUE).\n",
                c->node_name);
        return 1;
    }
    const char *cbind = cfg_cluster_bind(c);
    const char *open_addr = !is_loopback(c->bind) ? c->bind : !is_loopback(cbind) ? cbind : NULL;
    if (!open_addr)
        return 0;
    const char *secret = c->cluster_secret ? c->cluster_secret : "";
    const char *what = !*secret ? "cluster-secret is empty"
                       : strcmp(secret, PLACEHOLDER_SECRET) == 0
                           ? "cluster-secret is the placeholder '" PLACEHOLDER_SECRET
                             "' shipped in cluster.conf"
                           : NULL;
    if (!what)
        return 0;
    fprintf(stderr,
            "dynamo-node: protected mode: node %s is a cluster member listening on %s (not "
            "loopback) and %s, so anyone who can reach it could join the cluster.  Set "
            "cluster-secret to a long random value, the same on every node (for example the "
            "output of `openssl rand -hex 32`, as a `cluster-secret VALUE` line in the config "
            "file or --cluster-secret VALUE), or bind both ports to loopback (bind and "
            "cluster-bind 127.0.0.1).\n",
            c->node_name, open_addr, what);
    return 1;
}

/* Replaces a host name by its first IPv4 address (blocking: startup only).
 * 0, or -1 with the reason printed. */
static int resolve_host(char *host, size_t cap, const char *what)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1)
        return 0;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0 || !res) {
        fprintf(stderr, "dynamo-node: cannot resolve %s host '%s': %s\n", what, host,
                rc ? gai_strerror(rc) : "no IPv4 address");
        return -1;
    }
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, ip, sizeof(ip));
    freeaddrinfo(res);
    snprintf(host, cap, "%s", ip);
    return 0;
}

static int resolve_config_hosts(struct cfg *c)
{
    for (int i = 0; i < c->nnodes; i++)
        if (resolve_host(c->nodes[i].host, sizeof(c->nodes[i].host), "node") != 0)
            return -1;
    for (int i = 0; i < c->nseeds; i++)
        if (resolve_host(c->seeds[i].host, sizeof(c->seeds[i].host), "seed") != 0)
            return -1;
    return 0;
}

static int build_ring(struct kv_node *node)
{
    const char *names[CFG_MAX_NODES];
    unsigned nn = 0;
    if (node->cfg.nnodes == 0) {
        names[nn++] = node->cfg.node_name;
    } else {
        for (int i = 0; i < node->cfg.nnodes; i++)
            names[nn++] = node->cfg.nodes[i].name;
    }
    node->self_idx = 0;
    for (unsigned i = 0; i < nn; i++)
        if (strcmp(names[i], node->cfg.node_name) == 0)
            node->self_idx = (int)i;
    node->members = members_create(&node->cfg, node->self_idx,
                                   ring_create(names, nn, (unsigned)node->cfg.vnodes_per_node, 1));
    return 0;
}

int main(int argc, char **argv)
{
    struct kv_node node;
    memset(&node, 0, sizeof(node));
    cfg_init(&node.cfg);
    struct buf err;
    buf_init(&err);
    bool help = false, version = false;
    int rc = cfg_load_args(&node.cfg, argc, argv, &help, &version, &err);
    if (rc == 0 && !help && !version)
        rc = cfg_finish(&node.cfg, &err);
    if (help || version) {
        struct buf out;
        buf_init(&out);
        if (help) {
            cfg_usage(&out);
            admin_help(&out);
        }
        else
            buf_printf(&out, "dynamo-node 0.1.0\n");
        fwrite(out.data, 1, out.len, stdout);
        buf_fini(&out);
        buf_fini(&err);
        cfg_fini(&node.cfg);
        return 0;
    }
    if (rc != 0) {
        buf_putc(&err, '\0');
        fprintf(stderr, "dynamo-node: %s\n", err.data);
        fprintf(stderr, "dynamo-node: try --help\n");
        buf_fini(&err);
        cfg_fini(&node.cfg);
        return 1;
    }
    buf_fini(&err);
    if (!pauth_init()) {
        fprintf(stderr, "dynamo-node: libsodium failed to initialise\n");
        cfg_fini(&node.cfg);
        return 1;
    }
    if (protected_mode_check(&node.cfg) != 0 || resolve_config_hosts(&node.cfg) != 0) {
        cfg_fini(&node.cfg);
        return 1;
    }
    if (log_open(node.cfg.logfile, node.cfg.loglevel) != 0) {
        fprintf(stderr, "dynamo-node: cannot open logfile %s: %s\n", node.cfg.logfile,
                strerror(errno));
        cfg_fini(&node.cfg);
        return 1;
    }
    if (node.cfg.appendonly) {
        /* a missing data directory is created, as etcd and Cassandra do */
        rc = fs_mkdir_p(node.cfg.dir);
        if (rc < 0) {
            fprintf(stderr, "dynamo-node: cannot create the data directory %s (dir): %s\n",
                    node.cfg.dir, strerror(-rc));
            cfg_fini(&node.cfg);
            return 1;
        }
    }
    if (node.cfg.nnodes > 0 &&
        !(is_loopback(node.cfg.bind) && is_loopback(cfg_cluster_bind(&node.cfg))) &&
        strlen(node.cfg.cluster_secret ? node.cfg.cluster_secret : "") < MIN_SECRET_LEN)
        log_warn("cluster-secret is shorter than %d characters: anyone who can reach the "
                 "cluster port can get one handshake proof and guess a short secret offline; "
                 "use a long random one (e.g. `openssl rand -hex 32`)", MIN_SECRET_LEN);
    signal(SIGPIPE, SIG_IGN);
    node.start_time = time(NULL);
    make_run_id(node.run_id);
    make_actor(&node);
    /* A precise monotonic clock (not CLOCK_MONOTONIC_COARSE, libevent's
     * default): timers fire on time, and the cached time that names a loop
     * iteration for util/clock changes from one iteration to the next. */
    struct event_config *ecfg = event_config_new();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    node.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    clock_set_iteration_source(loop_iteration, node.base);
    node.store = store_create();
    build_ring(&node);
    node.cmdstats = cmdstats_create(&node.cfg);
    struct srv_dispatch disp = {cmd_resolve, cmd_dispatch, cmd_client_gone};
    node.srv = srv_create(node.base, &node.cfg, &disp, &node);
    int exit_code = 0;
    rc = srv_listen(node.srv, SRV_CLIENT, node.cfg.bind, node.cfg.port);
    if (rc != 0) {
        fprintf(stderr, "dynamo-node: cannot listen on %s:%d: %s\n", node.cfg.bind,
                node.cfg.port, kv_strerror(rc));
        exit_code = 1;
        goto out;
    }
    if (node.cfg.nnodes > 0) {
        rc = srv_listen(node.srv, SRV_PEER, cfg_cluster_bind(&node.cfg), node.cfg.cluster_port);
        if (rc != 0) {
            fprintf(stderr, "dynamo-node: cannot listen on cluster port %s:%d: %s\n",
                    cfg_cluster_bind(&node.cfg), node.cfg.cluster_port, kv_strerror(rc));
            exit_code = 1;
            goto out;
        }
        node.peers = peers_create(node.base, &node.cfg, node.self_idx);
        members_set_peers(node.members, node.peers);
        /* before the log: its replay loads hints into it */
        struct hh_deps hd = {.base = node.base, .cfg = &node.cfg, .peers = node.peers,
                             .members = node.members, .self_idx = node.self_idx};
        node.hh = hh_create(&hd);
        struct cluster_deps cd = {.base = node.base, .cfg = &node.cfg, .store = node.store,
                                  .peers = node.peers, .members = node.members, .hh = node.hh,
                                  .incarnation = node.incarnation, .self_idx = node.self_idx,
                                  .ring_changed = on_ring_changed,
                                  .transfer_busy = on_transfer_busy, .arg = &node};
        node.cluster = cluster_start(&cd);
        node.gossip = cluster_gossip(node.cluster);
    }
    if (node.cfg.appendonly) {
        struct buf aerr;
        buf_init(&aerr);
        struct aof_hints hints = {hint_load, hint_foreach_store, hint_drop_before, &node};
        node.aof = aof_open(node.base, node.store, &node.cfg, &hints, &aerr);
        if (!node.aof) {
            buf_putc(&aerr, '\0');
            fprintf(stderr, "dynamo-node: %s\n", aerr.data);
            buf_fini(&aerr);
            exit_code = 1;
            goto out;
        }
        buf_fini(&aerr);
        aof_set_resume(node.aof, srv_log_resumed, node.srv);
        struct srv_barrier barrier = {barrier_flush, barrier_queued_seq, barrier_durable,
                                      node.aof};
        srv_set_barrier(node.srv, &barrier);
    }
    node.replica = replica_create(node.store, node.aof);
    if (node.hh)
        hh_set_storage(node.hh, node.aof, node.replica);
    struct coord_deps cod = {.cfg = &node.cfg, .store = node.store, .replica = node.replica,
                             .peers = node.peers, .members = node.members, .hh = node.hh,
                             .actor = node.actor, .self_idx = node.self_idx};
    node.coord = coord_create(&cod);
    if (node.cfg.nnodes > 0) { /* after the log was replayed */
        struct ae_deps ad = {.base = node.base, .cfg = &node.cfg, .store = node.store,
                             .replica = node.replica, .peers = node.peers,
                             .members = node.members, .self_idx = node.self_idx};
        node.ae = ae_create(&ad);
        struct xfer_deps xd = {.base = node.base, .cfg = &node.cfg, .store = node.store,
                               .replica = node.replica, .peers = node.peers,
                               .members = node.members, .self_idx = node.self_idx};
        node.xfer = xfer_create(&xd);
    }
    /* the trees are told only when there are trees: the digest before a
     * change is computed only then */
    struct replica_observer observer = {
        .on_change = node.ae ? on_local_change : NULL,
        .on_arrived = on_local_arrived,
        .on_flush = on_local_flush,
        .arg = &node,
    };
    replica_set_observer(node.replica, &observer);
    if (node.gossip) { /* the epoch the log holds; later ones come both ways */
        gossip_set_flush_epoch(node.gossip, replica_epoch(node.replica));
        gossip_on_flush(node.gossip, on_gossip_flush, &node);
    }
    struct reaper_deps rd = {.base = node.base, .cfg = &node.cfg, .store = node.store,
                             .replica = node.replica, .peers = node.peers,
                             .members = node.members, .hh = node.hh, .gossip = node.gossip,
                             .self_idx = node.self_idx};
    node.reaper = reaper_create(&rd);
    struct admin_deps admd = {.base = node.base, .cfg = &node.cfg, .store = node.store,
                              .members = node.members, .peers = node.peers,
                              .gossip = node.gossip, .hh = node.hh, .ae = node.ae,
                              .xfer = node.xfer, .coord = node.coord, .srv = node.srv,
                              .aof = node.aof, .cmdstats = node.cmdstats,
                              .self_idx = node.self_idx, .start_time = node.start_time,
                              .run_id = node.run_id};
    node.admin = admin_create(&admd);
    if (node.cfg.admin_port > 0) {
        struct http_route routes[8];
        int nr = admin_routes(node.admin, routes, 8);
        node.http = http_create(node.base, &node.cfg, routes, nr);
        const char *ahost = node.cfg.admin_bind[0] ? node.cfg.admin_bind : node.cfg.bind;
        rc = http_listen(node.http, ahost, node.cfg.admin_port);
        if (rc != 0) {
            fprintf(stderr, "dynamo-node: cannot listen on admin port %s:%d: %s\n", ahost,
                    node.cfg.admin_port, kv_strerror(rc));
            exit_code = 1;
            goto out;
        }
        log_info("admin endpoint: http://%s:%d/status (also /status.json, /metrics, /health)",
                 ahost, node.cfg.admin_port);
    }
    struct event *sigint = evsignal_new(node.base, SIGINT, on_signal, &node);
    struct event *sigterm = evsignal_new(node.base, SIGTERM, on_signal, &node);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    log_info("dynamo-node %s ready: node %s, clients on %s:%d, cluster port %d, %d node(s) "
             "(N=%d W=%d R=%d), pid %d",
             "0.1.0", node.cfg.node_name, node.cfg.bind, node.cfg.port, node.cfg.cluster_port,
             node.cfg.nnodes > 0 ? node.cfg.nnodes : 1, node.cfg.n, node.cfg.w, node.cfg.r,
             (int)getpid());
    event_base_dispatch(node.base);
    event_free(sigint);
    event_free(sigterm);
out:
    http_destroy(node.http); /* nothing is served from here on */
    node.http = NULL;
    admin_destroy(node.admin);
    node.admin = NULL;
    /* Peers first: their pending callbacks complete requests whose clients
     * still exist. */
    peers_destroy(node.peers);
    node.peers = NULL;
    members_set_peers(node.members, NULL);
    reaper_destroy(node.reaper);
    node.reaper = NULL;
    xfer_destroy(node.xfer);
    node.xfer = NULL;
    ae_destroy(node.ae);
    node.ae = NULL;
    replica_destroy(node.replica);
    node.replica = NULL;
    aof_close(node.aof);
    node.aof = NULL;
    cluster_stop(node.cluster);
    node.cluster = NULL;
    node.gossip = NULL;
    hh_destroy(node.hh);
    node.hh = NULL;
    srv_destroy(node.srv);
    coord_destroy(node.coord);
    members_destroy(node.members);
    cmdstats_destroy(node.cmdstats); /* after every deferred reply ended */
    store_destroy(node.store);
    clock_set_iteration_source(NULL, NULL);
    event_base_free(node.base);
    log_info("bye");
    log_close();
    cfg_fini(&node.cfg);
    return exit_code;
}
