/* admin_metrics.c — /metrics: the Prometheus text exposition format
 * (version 0.0.4): every family with # HELP and # TYPE, counters named
 * dynamo_..._total, durations in seconds, histograms with cumulative
 * `le` buckets, _sum and _count.
 *
 * Owns nothing: it formats counters owned elsewhere (the server's
 * traffic, coord_stats, hints, transfers, anti-entropy, gossip states, the
 * per-command and per-peer latency histograms).  Bucket counts come from
 * the fixed-bucket histograms (core/latency.h): a bound that falls inside
 * one of their buckets counts that bucket's values as above it, so a
 * bucket can be short by at most the values within 6.25 % below its
 * bound; +Inf and _count are exact.
 * Callers: admin.c (the /metrics route).  Bounded by the command table and
 * the member count.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cluster/ae.h"
#include "cluster/coord.h"
#include "cluster/handoff.h"
#include "cluster/members.h"
#include "cluster/xfer.h"
#include "cmd/admin_priv.h"
#include "cmd/cmd.h"
#include "cmd/cmd_latency.h"
#include "core/latency.h"
#include "core/ring.h"
#include "net/peer.h"
#include "net/server.h"
#include "storage/aof.h"
#include "storage/store.h"
#include "util/mem.h"

/* Bucket bounds in seconds (100 us .. 10 s). */
static const double bounds_s[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                  0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5,
                                  5,      10};

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void hist_series(struct buf *b, const char *name, const char *label, const char *value,
                        const struct lat_hist *h)
{
    for (size_t i = 0; i < sizeof(bounds_s) / sizeof(bounds_s[0]); i++)
        buf_printf(b, "%s_bucket{%s=\"%s\",le=\"%g\"} %llu\n", name, label, value, bounds_s[i],
                   (unsigned long long)lat_count_le(h, (uint64_t)(bounds_s[i] * 1e9)));
    buf_printf(b, "%s_bucket{%s=\"%s\",le=\"+Inf\"} %llu\n", name, label, value,
               (unsigned long long)h->count);
    buf_printf(b, "%s_sum{%s=\"%s\"} %.9f\n", name, label, value, (double)h->sum_ns / 1e9);
    buf_printf(b, "%s_count{%s=\"%s\"} %llu\n", name, label, value,
               (unsigned long long)h->count);
}

struct each {
    struct buf *b;
    int pass;   /* 0: counters, 1: histograms */
};

static void cmd_one(void *arg, const char *cmd, const struct lat_hist *h)
{
    struct each *e = arg;
    if (e->pass == 0)
        buf_printf(e->b, "dynamo_commands_total{cmd=\"%s\"} %llu\n", cmd,
                   (unsigned long long)h->count);
    else
        hist_series(e->b, "dynamo_command_duration_seconds", "cmd", cmd, h);
}

void admin_metrics(struct admin *a, struct buf *b)
{
    const struct admin_deps *d = &a->d;
    const struct cfg *cfg = d->cfg;
    const struct srv_traffic *t = srv_traffic(d->srv);
    family(b, "dynamo_build_info", "gauge", "Version of this node (always 1).");
    buf_printf(b, "dynamo_build_info{version=\"%s\",node=\"%s\"} 1\n", DYNAMO_VERSION,
               cfg->node_name);
    family(b, "dynamo_uptime_seconds", "gauge", "Seconds since this node started.");
    buf_printf(b, "dynamo_uptime_seconds %lld\n", (long long)(time(NULL) - d->start_time));
    char reason[256];
    family(b, "dynamo_healthy", "gauge",
           "1 when this node can serve (as /health answers 200), else 0.");
    buf_printf(b, "dynamo_healthy %d\n", admin_health(a, reason, sizeof(reason)) ? 1 : 0);
    family(b, "dynamo_connected_clients", "gauge", "Client connections open now.");
    buf_printf(b, "dynamo_connected_clients %u\n", srv_nclients(d->srv, SRV_CLIENT));
    family(b, "dynamo_connections_received_total", "counter", "Client connections accepted.");
    buf_printf(b, "dynamo_connections_received_total %llu\n",
               (unsigned long long)t->connections_received);
    family(b, "dynamo_commands_processed_total", "counter",
           "Requests processed on both ports (as INFO total_commands_processed).");
    buf_printf(b, "dynamo_commands_processed_total %llu\n",
               (unsigned long long)t->commands_processed);
    family(b, "dynamo_net_input_bytes_total", "counter", "Bytes read from clients and peers.");
    buf_printf(b, "dynamo_net_input_bytes_total %llu\n", (unsigned long long)t->net_input_bytes);
    family(b, "dynamo_net_output_bytes_total", "counter", "Bytes written to clients and peers.");
    buf_printf(b, "dynamo_net_output_bytes_total %llu\n",
               (unsigned long long)t->net_output_bytes);
    family(b, "dynamo_keys", "gauge", "Keys this node holds (tombstone-only keys included).");
    buf_printf(b, "dynamo_keys %zu\n", store_count(d->store));
    family(b, "dynamo_memory_used_bytes", "gauge", "Bytes allocated by this node.");
    buf_printf(b, "dynamo_memory_used_bytes %zu\n", mem_used());
    family(b, "dynamo_aof_writable", "gauge",
           "1 when the append-only log can be written (or there is none), else 0.");
    buf_printf(b, "dynamo_aof_writable %d\n", !d->aof || aof_writable(d->aof));
    const struct coord_stats *cs = coord_stats(d->coord);
    family(b, "dynamo_quorum_failures_total", "counter",
           "Requests answered NOQUORUM (W or R replicas did not answer in time).");
    buf_printf(b, "dynamo_quorum_failures_total %llu\n", (unsigned long long)cs->quorum_failures);
    family(b, "dynamo_forwarded_requests_total", "counter",
           "Writes forwarded to their coordinator.");
    buf_printf(b, "dynamo_forwarded_requests_total %llu\n", (unsigned long long)cs->forwarded);
    family(b, "dynamo_hinted_writes_total", "counter",
           "Replica copies sent to a substitute (sloppy quorum).");
    buf_printf(b, "dynamo_hinted_writes_total %llu\n", (unsigned long long)cs->hinted_writes);
    family(b, "dynamo_read_repairs_total", "counter",
           "Stale replicas sent the reconciled versions after a read.");
    buf_printf(b, "dynamo_read_repairs_total %llu\n", (unsigned long long)cs->read_repairs);
    /* per command */
    struct each e = {b, 0};
    family(b, "dynamo_commands_total", "counter",
           "Client commands completed, per command (latency-tracking yes).");
    cmd_lat_each(d->cmdstats, cmd_one, &e);
    family(b, "dynamo_command_duration_seconds", "histogram",
           "Time from a client command's dispatch to its complete reply (replicas included).");
    e.pass = 1;
    cmd_lat_each(d->cmdstats, cmd_one, &e);
    if (cfg->nnodes == 0)
        return;
    /* the cluster */
    const struct ring *r = members_ring(d->members);
    family(b, "dynamo_ring_version", "gauge", "Version of this node's ring.");
    buf_printf(b, "dynamo_ring_version %llu\n", (unsigned long long)ring_version(r));
    family(b, "dynamo_node_state", "gauge",
           "1 for the state this node sees each member in (alive, suspect, dead, leaving, "
           "gone).");
    static const char *const states[] = {"alive", "suspect", "dead", "leaving", "gone"};
    for (int i = 0; i < cfg->nnodes; i++) {
        const char *st = admin_node_state(a, i);
        for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
            buf_printf(b, "dynamo_node_state{node=\"%s\",state=\"%s\"} %d\n", cfg->nodes[i].name,
                       states[k], strcmp(st, states[k]) == 0);
    }
    family(b, "dynamo_ring_ownership_ratio", "gauge",
           "Fraction of the hash space each member is first owner of.");
    for (int i = 0; i < cfg->nnodes; i++)
        buf_printf(b, "dynamo_ring_ownership_ratio{node=\"%s\"} %.6f\n", cfg->nodes[i].name,
                   (unsigned)i < ring_nnodes(r) && ring_is_member(r, (unsigned)i)
                       ? ring_ownership(r, (unsigned)i)
                       : 0.0);
    if (d->hh) {
        family(b, "dynamo_hints_pending", "gauge", "Hinted keys held here, per target node.");
        for (int i = 0; i < cfg->nnodes; i++)
            buf_printf(b, "dynamo_hints_pending{target=\"%s\"} %llu\n", cfg->nodes[i].name,
                       (unsigned long long)hh_pending_for(d->hh, i));
        family(b, "dynamo_hints_delivered_total", "counter",
               "Hints acknowledged by their target and deleted here.");
        for (int i = 0; i < cfg->nnodes; i++)
            buf_printf(b, "dynamo_hints_delivered_total{target=\"%s\"} %llu\n",
                       cfg->nodes[i].name, (unsigned long long)hh_delivered_to(d->hh, i));
    }
    struct xfer_progress xp;
    xfer_progress(d->xfer, &xp);
    family(b, "dynamo_transfer_keys_moved_total", "counter",
           "Keys handed to their new owners after ring changes.");
    buf_printf(b, "dynamo_transfer_keys_moved_total %llu\n", (unsigned long long)xp.moved_total);
    family(b, "dynamo_transfer_in_progress", "gauge", "1 while a transfer pass is under way or due.");
    buf_printf(b, "dynamo_transfer_in_progress %d\n", xp.busy ? 1 : 0);
    struct ae_progress ap;
    ae_progress(d->ae, &ap);
    family(b, "dynamo_antientropy_keys_repaired_total", "counter",
           "Keys repaired by Merkle anti-entropy exchanges.");
    buf_printf(b, "dynamo_antientropy_keys_repaired_total %llu\n",
               (unsigned long long)ap.keys_repaired_total);
    family(b, "dynamo_antientropy_differing_leaves", "gauge",
           "Merkle leaves (of 4096) that differed at the last comparison with each peer.");
    for (int i = 0; i < cfg->nnodes; i++) {
        struct ae_peer_view av;
        if (ae_peer(d->ae, i, &av))
            buf_printf(b, "dynamo_antientropy_differing_leaves{peer=\"%s\"} %d\n",
                       cfg->nodes[i].name, av.last_diff_leaves);
    }
    family(b, "dynamo_peer_rtt_seconds", "histogram",
           "Round trips of requests answered by each peer on the replica channel (replica "
           "reads and writes, probes).");
    for (int i = 0; d->peers && i < cfg->nnodes; i++) {
        const struct lat_hist *h = peers_rtt(d->peers, i);
        if (h && h->count)
            hist_series(b, "dynamo_peer_rtt_seconds", "peer", cfg->nodes[i].name, h);
    }
}
