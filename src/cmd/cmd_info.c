/* cmd_info.c — INFO: the server, clients, memory, persistence, stats,
 * cpu (getrusage), cluster and keyspace sections, in Redis's "field:value"
 * format.
 *
 * Owns nothing: it formats counters owned elsewhere (struct kv_stats in
 * node.h, srv_stats, srv_traffic, coord_stats, hh_stats, peers_stats,
 * aof_info, ae_info, members (liveness, the ring), xfer_info, reaper_info,
 * the store's counts, the allocator's figures, cmd_latency.c's
 * commandstats and latencystats).
 * Callers: the command table in cmd.c (cmd_info).
 * The reply is written before the handler returns; nothing blocks (the
 * cluster section is bounded by the member count).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_latency.h"
#include "core/config.h"
#include "core/latency.h"
#include "cluster/coord.h"
#include "cluster/members.h"
#include "util/clock.h"
#include "cmd/node.h"
#include "net/peer.h"
#include "storage/aof.h"
#include "storage/replica.h"
#include "cluster/ae.h"
#include "cluster/handoff.h"
#include "cluster/reaper.h"
#include "core/ring.h"
#include "cluster/xfer.h"
#include "core/resp.h"
#include "net/server.h"
#include "storage/store.h"
#include "util/mem.h"
#include "core/vclock.h"

static void human_bytes(char *out, size_t n, size_t bytes)
{
    double b = (double)bytes;
    if (b < 1024)
        snprintf(out, n, "%zuB", bytes);
    else if (b < 1024.0 * 1024)
        snprintf(out, n, "%.2fK", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(out, n, "%.2fM", b / (1024.0 * 1024));
    else
        snprintf(out, n, "%.2fG", b / (1024.0 * 1024 * 1024));
}

static bool want_section(int argc, const struct arg *argv, const char *name, bool deflt)
{
    if (argc < 2)
        return deflt;
    for (int i = 1; i < argc; i++)
        if (cmd_arg_eq(&argv[i], name) || cmd_arg_eq(&argv[i], "all") || cmd_arg_eq(&argv[i], "everything") ||
            (deflt && cmd_arg_eq(&argv[i], "default")))
            return true;
    return false;
}

void cmd_info(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    int64_t now = clock_now_ms();
    if (want_section(argc, argv, "server", true)) {
        size_t alen;
        const char *an = vc_actor_name(n->actor, &alen);
        char actor_name[VC_MAX_ACTOR_LEN + 1];
        snprintf(actor_name, sizeof(actor_name), "%.*s", (int)alen, an);
        buf_printf(&b,
                   "# Server\r\nredis_version:%s\r\ndynamo_version:%s\r\nredis_mode:%s\r\n"
                   "os:Linux\r\narch_bits:64\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\n"
                   "cluster_port:%d\r\nnode_name:%s\r\nclock_actor:%s\r\n"
                   "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nconfig_file:%s\r\n"
                   "clock_actors:%u\r\n\r\n",
                   REDIS_COMPAT_VERSION, DYNAMO_VERSION,
                   n->cfg.nnodes > 0 ? "cluster" : "standalone", (int)getpid(), n->run_id,
                   n->cfg.port, n->cfg.cluster_port, n->cfg.node_name,
                   actor_name, (long long)(time(NULL) - n->start_time),
                   (long long)(time(NULL) - n->start_time) / 86400,
                   n->cfg.config_file ? n->cfg.config_file : "", vc_actor_count());
    }
    if (want_section(argc, argv, "clients", true)) {
        const struct srv_stats *ss = srv_stats(n->srv);
        buf_printf(&b,
                   "# Clients\r\nconnected_clients:%u\r\ncluster_connections:%u\r\n"
                   "maxclients:%d\r\ncluster_maxclients:%d\r\n"
                   "pending_client_connections:%u\r\npending_cluster_connections:%u\r\n"
                   "max_pending_connections:%d\r\nmax_inflight_per_client:%d\r\n"
                   "inflight_peak_per_client:%llu\r\ninflight_waits:%llu\r\n"
                   "pending_evicted:%llu\r\nauth_timeouts:%llu\r\n"
                   "cluster_rejected_connections:%llu\r\nprotected_mode_denied:%llu\r\n"
                   "cross_protocol_closed:%llu\r\naccept_pauses:%llu\r\n\r\n",
                   srv_nclients(n->srv, SRV_CLIENT), srv_nclients(n->srv, SRV_PEER),
                   n->cfg.maxclients, n->cfg.cluster_maxclients,
                   srv_npending(n->srv, SRV_CLIENT), srv_npending(n->srv, SRV_PEER),
                   n->cfg.max_pending_connections, n->cfg.max_inflight_per_client,
                   (unsigned long long)ss->inflight_peak, (unsigned long long)ss->inflight_waits,
                   (unsigned long long)ss->evicted_pending, (unsigned long long)ss->auth_timeouts,
                   (unsigned long long)ss->cluster_rejected,
                   (unsigned long long)ss->protected_denied,
                   (unsigned long long)ss->cross_protocol, (unsigned long long)ss->accept_pauses);
    }
    if (want_section(argc, argv, "memory", true)) {
        size_t used = mem_used(), rss = mem_rss(), qb, ob;
        srv_buffer_totals(n->srv, &qb, &ob);
        char h1[32], h2[32];
        human_bytes(h1, sizeof(h1), used);
        human_bytes(h2, sizeof(h2), rss);
        buf_printf(&b,
                   "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\n"
                   "used_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n"
                   "used_memory_store_overhead:%zu\r\nclients_query_buffers:%zu\r\n"
                   "clients_output_buffers:%zu\r\nmem_allocator:%s\r\n\r\n",
                   used, h1, rss, h2, store_overhead(n->store), qb, ob, mem_allocator());
    }
    if (want_section(argc, argv, "persistence", true)) {
        /* No snapshots here: changes count from the start, as in a Redis
         * that never saved */
        buf_printf(&b, "# Persistence\r\nloading:0\r\nrdb_changes_since_last_save:%llu\r\n",
                   (unsigned long long)replica_changes(n->replica));
        aof_info(n->aof, &b);
        replica_info(n->replica, &b);
        buf_printf(&b, "\r\n");
    }
    if (want_section(argc, argv, "stats", true)) {
        const struct kv_stats *s = &n->stats;
        const struct srv_traffic *t = srv_traffic(n->srv);
        buf_printf(&b,
                   "# Stats\r\ntotal_connections_received:%llu\r\n"
                   "total_commands_processed:%llu\r\ntotal_net_input_bytes:%llu\r\n"
                   "total_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
                   "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
                   "protocol_errors:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n"
                   "sibling_reads:%llu\r\nexpired_keys:%llu\r\nsibling_warnings:%llu\r\n"
                   "sibling_writes_refused:%llu\r\n\r\n",
                   (unsigned long long)t->connections_received,
                   (unsigned long long)t->commands_processed,
                   (unsigned long long)t->net_input_bytes,
                   (unsigned long long)t->net_output_bytes,
                   (unsigned long long)t->rejected_connections,
                   (unsigned long long)s->keyspace_hits, (unsigned long long)s->keyspace_misses,
                   (unsigned long long)t->protocol_errors,
                   (unsigned long long)t->output_limit_disconnections,
                   (unsigned long long)s->sibling_reads, (unsigned long long)s->expired_keys,
                   (unsigned long long)coord_stats(n->coord)->sibling_warnings,
                   (unsigned long long)coord_stats(n->coord)->sibling_writes_refused);
    }
    if (want_section(argc, argv, "cpu", true)) {
        /* getrusage's CPU times, in Redis's "seconds.microseconds" form */
        struct rusage self, children;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &children);
        buf_printf(&b,
                   "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\n"
                   "used_cpu_sys_children:%ld.%06ld\r\nused_cpu_user_children:%ld.%06ld\r\n"
                   "\r\n",
                   (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec,
                   (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec,
                   (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
                   (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec);
    }
    if (want_section(argc, argv, "cluster", true)) {
        const struct coord_stats *cs = coord_stats(n->coord);
        struct hh_stats hs = {0, 0, 0, 0};
        if (n->hh)
            hh_stats(n->hh, &hs);
        unsigned long long sent = 0, failed = 0, answered = 0, lat = 0;
        if (n->peers)
            peers_stats(n->peers, &sent, &failed, &answered, &lat);
        int up = 0;
        for (int i = 0; i < n->cfg.nnodes; i++)
            up += members_node_up(n->members, i);
        buf_printf(&b,
                   "# Cluster\r\ncluster_enabled:1\r\nring_version:%llu\r\nring_nodes:%u\r\nnodes_known:%d\r\n"
                   "nodes_reachable:%d\r\n"
                   "n:%d\r\nw:%d\r\nr:%d\r\nforwarded_requests:%llu\r\n"
                   "quorum_failures:%llu\r\npeer_requests:%llu\r\npeer_failures:%llu\r\n"
                   "replica_answers:%llu\r\nreplica_latency_avg_us:%llu\r\n"
                   "hinted_writes:%llu\r\nhints_pending:%llu\r\nhints_stored:%llu\r\n"
                   "hints_delivered:%llu\r\nhints_refused:%llu\r\nread_repairs:%llu\r\n",
                   (unsigned long long)ring_version(members_ring(n->members)),
                   ring_nmembers(members_ring(n->members)),
                   n->cfg.nnodes > 0 ? n->cfg.nnodes : 1, n->cfg.nnodes > 0 ? up : 1, n->cfg.n, n->cfg.w, n->cfg.r,
                   (unsigned long long)cs->forwarded, (unsigned long long)cs->quorum_failures,
                   sent, failed, (unsigned long long)cs->replica_answers,
                   cs->replica_answers
                       ? (unsigned long long)(cs->replica_latency_us / cs->replica_answers)
                       : 0ULL,
                   (unsigned long long)cs->hinted_writes, (unsigned long long)hs.pending,
                   (unsigned long long)hs.stored, (unsigned long long)hs.delivered,
                   (unsigned long long)hs.refused, (unsigned long long)cs->read_repairs);
        for (int i = 0; n->peers && i < n->cfg.nnodes; i++) {
            const struct lat_hist *h = peers_rtt(n->peers, i);
            if (h && h->count)
                buf_printf(&b, "peer_rtt_usec_%s:count=%llu,p50=%.3f,p99=%.3f,p99.9=%.3f\r\n",
                           n->cfg.nodes[i].name, (unsigned long long)h->count,
                           (double)lat_percentile(h, 50) / 1000.0,
                           (double)lat_percentile(h, 99) / 1000.0,
                           (double)lat_percentile(h, 99.9) / 1000.0);
        }
        ae_info(n->ae, &b);
        xfer_info(n->xfer, &b);
        reaper_info(n->reaper, &b);
        buf_printf(&b, "\r\n");
    }
    if (want_section(argc, argv, "commandstats", false))
        cmd_lat_info_commands(n->cmdstats, &b);
    if (want_section(argc, argv, "latencystats", false))
        cmd_lat_info_latency(n->cmdstats, &b);
    if (want_section(argc, argv, "keyspace", true)) {
        buf_printf(&b, "# Keyspace\r\n");
        size_t live = cmd_count_live(n->store);
        if (live > 0)
            buf_printf(&b, "db0:keys=%zu,expires=0,avg_ttl=0,stored_keys=%zu\r\n", live,
                       store_count(n->store));
        buf_printf(&b, "\r\n");
    }
    (void)now;
    if (b.len >= 2)
        b.len -= 2; /* no blank line after the last section */
    resp_add_verbatim(&c->out, c->proto, "txt", b.data ? b.data : "", b.len);
    buf_fini(&b);
}
