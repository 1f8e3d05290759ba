/* main.c — startup, signals and wiring: the only file that sees every module.
 *
 * Builds struct kv_node from the configuration, opens the listeners, runs the
 * event loop, and on SIGINT/SIGTERM stops accepting, closes connections and
 * frees everything (so valgrind and LeakSanitizer see a clean exit). */
#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "ae.h"
#include "aof.h"
#include "util/fs.h"
#include "cluster.h"
#include "config.h"
#include "coord.h"
#include "errors.h"
#include "node.h"
#include "peer.h"
#include "reaper.h"
#include "ring.h"
#include "server.h"
#include "store.h"
#include "util/log.h"
#include "util/mem.h"
#include "vclock.h"

int64_t kv_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int64_t kv_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    struct kv_node *node = arg;
    log_info("received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    node->shutdown_asap = 1;
    event_base_loopbreak(node->base);
}

static void make_run_id(char out[41])
{
    static const char hex[] = "0123456789abcdef";
    unsigned seed = (unsigned)(kv_mono_us() ^ getpid());
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
    node->incarnation = (uint64_t)kv_now_ms();
    int n = snprintf(name, sizeof(name), "%s.%llu", node->cfg.node_name,
                     (unsigned long long)node->incarnation);
    node->actor = vc_actor_intern(name, (size_t)n);
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
    node->ring = ring_create(names, nn, (unsigned)node->cfg.vnodes_per_node, 1);
    node->self_idx = 0;
    for (unsigned i = 0; i < nn; i++)
        if (strcmp(names[i], node->cfg.node_name) == 0)
            node->self_idx = (int)i;
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
        if (help)
            cfg_usage(&out);
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
    signal(SIGPIPE, SIG_IGN);
    node.start_time = time(NULL);
    make_run_id(node.run_id);
    make_actor(&node);
    node.base = event_base_new();
    node.store = store_create();
    build_ring(&node);
    node.coord = coord_create(&node);
    node.srv = srv_create(&node);
    int exit_code = 0;
    rc = srv_listen(node.srv, SRV_CLIENT, node.cfg.bind, node.cfg.port);
    if (rc != 0) {
        fprintf(stderr, "dynamo-node: cannot listen on %s:%d: %s\n", node.cfg.bind,
                node.cfg.port, kv_strerror(rc));
        exit_code = 1;
        goto out;
    }
    if (node.cfg.nnodes > 0) {
        rc = srv_listen(node.srv, SRV_PEER, node.cfg.bind, node.cfg.cluster_port);
        if (rc != 0) {
            fprintf(stderr, "dynamo-node: cannot listen on cluster port %s:%d: %s\n",
                    node.cfg.bind, node.cfg.cluster_port, kv_strerror(rc));
            exit_code = 1;
            goto out;
        }
        node.peers = peers_create(&node);
        cluster_start(&node);
    }
    if (node.cfg.appendonly) {
        struct buf aerr;
        buf_init(&aerr);
        node.aof = aof_open(&node, &aerr);
        if (!node.aof) {
            buf_putc(&aerr, '\0');
            fprintf(stderr, "dynamo-node: %s\n", aerr.data);
            buf_fini(&aerr);
            exit_code = 1;
            goto out;
        }
        buf_fini(&aerr);
        aof_set_resume(node.aof, srv_log_resumed, node.srv);
    }
    if (node.cfg.nnodes > 0)
        node.ae = ae_create(&node); /* after the log was replayed */
    node.reaper = reaper_create(&node);
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
    /* Peers first: their pending callbacks complete requests whose clients
     * still exist. */
    peers_destroy(node.peers);
    node.peers = NULL;
    reaper_destroy(node.reaper);
    node.reaper = NULL;
    ae_destroy(node.ae);
    node.ae = NULL;
    aof_close(node.aof);
    node.aof = NULL;
    cluster_stop(&node);
    srv_destroy(node.srv);
    coord_destroy(node.coord);
    ring_destroy(node.ring);
    store_destroy(node.store);
    event_base_free(node.base);
    log_info("bye");
    log_close();
    cfg_fini(&node.cfg);
    return exit_code;
}
