/* admin_json.c — /status.json: this node's view of the cluster as one JSON
 * document (see admin.h for what each state and number means); the status
 * page draws itself from it.
 *
 * Owns nothing: it reads members (ring, liveness), gossip (state, ring
 * status, heartbeats), peers (links, round trips), handoff (hints per
 * target), ae (agreement per peer, the exchange under way), xfer (the
 * transfer pass), coord (quorum failures ...), cmd_latency (per-command
 * percentiles), and the sampled rates of admin.c.
 * Callers: admin.c (the /status.json route).  Bounded by the member count,
 * the ring's tokens (arcs of one owner are merged) and the command table.
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
#include "core/gossip.h"
#include "core/latency.h"
#include "core/ring.h"
#include "net/peer.h"
#include "net/server.h"
#include "storage/store.h"
#include "util/clock.h"

/* A JSON string (names and addresses are validated already; escape anyway). */
static void jstr(struct buf *b, const char *s)
{
    buf_putc(b, '"');
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            buf_printf(b, "\\%c", ch);
        else if (ch < 0x20 || ch >= 0x7f)
            buf_printf(b, "\\u%04x", ch);
        else
            buf_putc(b, (char)ch);
    }
    buf_putc(b, '"');
}

static void jnum(struct buf *b, double v)
{
    if (v < 0)
        buf_printf(b, "null"); /* unknown */
    else
        buf_printf(b, "%.3f", v);
}

static void jhist(struct buf *b, const struct lat_hist *h)
{
    if (!h || !h->count) {
        buf_printf(b, "null");
        return;
    }
    buf_printf(b, "{\"count\":%llu,\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f}",
               (unsigned long long)h->count, (double)lat_percentile(h, 50) / 1000.0,
               (double)lat_percentile(h, 99) / 1000.0, (double)lat_percentile(h, 99.9) / 1000.0);
}

/* Arcs of the ring as [from, to, node] in fractions of the hash space:
 * token i's node owns (token[i-1], token[i]]; positions past the last
 * token wrap around to the first token's node.  Consecutive tokens of one
 * node make one arc. */
static void ring_arcs(struct buf *b, const struct ring *r)
{
    size_t nt = ring_ntokens(r);
    buf_printf(b, "[");
    if (nt == 0) {
        buf_printf(b, "]");
        return;
    }
    const double scale = 1.0 / 18446744073709551616.0;
    uint64_t tok, prev_tok = 0;
    unsigned node, first_node, cur;
    ring_token(r, 0, &tok, &first_node);
    cur = first_node;
    double start = 0;
    bool first = true;
    for (size_t i = 0; i < nt; i++) {
        ring_token(r, i, &tok, &node);
        if (node != cur) {
            double end = (double)prev_tok * scale;
            buf_printf(b, "%s[%.6f,%.6f,%u]", first ? "" : ",", start, end, cur);
            first = false;
            start = end;
            cur = node;
        }
        prev_tok = tok;
    }
    double last = (double)prev_tok * scale;
    buf_printf(b, "%s[%.6f,%.6f,%u],[%.6f,1.0,%u]]", first ? "" : ",", start, last, cur, last,
               first_node);
}

struct lat_walk {
    struct buf *b;
    bool first;
};

static void lat_one(void *arg, const char *cmd, const struct lat_hist *h)
{
    struct lat_walk *w = arg;
    buf_printf(w->b, "%s{\"cmd\":", w->first ? "" : ",");
    jstr(w->b, cmd);
    buf_printf(w->b, ",\"latency_us\":");
    jhist(w->b, h);
    buf_printf(w->b, "}");
    w->first = false;
}

void admin_status_json(struct admin *a, struct buf *b)
{
    const struct admin_deps *d = &a->d;
    const struct cfg *cfg = d->cfg;
    const struct ring *r = members_ring(d->members);
    char reason[256];
    bool ok = admin_health(a, reason, sizeof(reason));
    buf_printf(b, "{\"node\":");
    jstr(b, cfg->node_name);
    buf_printf(b, ",\"self\":%d,\"version\":\"%s\",\"run_id\":", d->self_idx, DYNAMO_VERSION);
    jstr(b, d->run_id ? d->run_id : "");
    buf_printf(b, ",\"time_ms\":%lld,\"uptime_s\":%lld,\"refresh_ms\":1000",
               (long long)clock_now_ms(), (long long)(time(NULL) - d->start_time));
    buf_printf(b, ",\"health\":{\"ok\":%s,\"reason\":", ok ? "true" : "false");
    jstr(b, reason);
    buf_printf(b, "},\"quorum\":{\"n\":%d,\"w\":%d,\"r\":%d}", cfg->n, cfg->w, cfg->r);
    buf_printf(b, ",\"timeouts_ms\":{\"suspect\":%d,\"dead\":%d}", cfg->gossip_suspect_ms,
               cfg->gossip_dead_ms);
    buf_printf(b, ",\"ring\":{\"version\":%llu,\"members\":%u,\"vnodes\":%u,\"arcs\":",
               (unsigned long long)ring_version(r), ring_nmembers(r), ring_vnodes(r));
    ring_arcs(b, r);
    buf_printf(b, "}");
    /* nodes */
    int nn = cfg->nnodes > 0 ? cfg->nnodes : 1;
    buf_printf(b, ",\"nodes\":[");
    for (int i = 0; i < nn; i++) {
        const struct cfg_node *cn = cfg->nnodes > 0 ? &cfg->nodes[i] : NULL;
        char link[32];
        admin_node_link(a, i, link, sizeof(link));
        buf_printf(b, "%s{\"idx\":%d,\"name\":", i ? "," : "", i);
        jstr(b, cn ? cn->name : cfg->node_name);
        buf_printf(b, ",\"host\":");
        jstr(b, cn ? cn->host : cfg->bind);
        buf_printf(b, ",\"port\":%d,\"cport\":%d,\"self\":%s,\"state\":\"%s\",\"link\":",
                   cn ? cn->port : cfg->port, cn ? cn->cport : cfg->cluster_port,
                   i == d->self_idx ? "true" : "false", admin_node_state(a, i));
        jstr(b, link);
        bool member = (unsigned)i < ring_nnodes(r) && ring_is_member(r, (unsigned)i);
        buf_printf(b, ",\"ring\":\"%s\",\"owned\":%.4f",
                   d->gossip && i < gossip_nmembers(d->gossip)
                       ? gossip_status_name(gossip_status(d->gossip, i))
                       : member ? "member" : "left",
                   member ? ring_ownership(r, (unsigned)i) : 0.0);
        if (d->gossip && i < gossip_nmembers(d->gossip))
            buf_printf(b, ",\"heartbeat\":%llu,\"silent_ms\":%lld",
                       (unsigned long long)gossip_heartbeat(d->gossip, i),
                       i == d->self_idx ? 0LL
                                        : (long long)gossip_silence_ms(d->gossip, i,
                                                                       clock_mono_ms()));
        uint64_t pending = d->hh ? hh_pending_for(d->hh, i) : 0;
        double hr = i < CFG_MAX_NODES ? a->rate.hints[i] : 0;
        buf_printf(b, ",\"hints\":{\"pending\":%llu,\"delivered\":%llu,\"rate\":%.1f,\"eta_s\":",
                   (unsigned long long)pending,
                   (unsigned long long)(d->hh ? hh_delivered_to(d->hh, i) : 0), hr);
        jnum(b, admin_eta((double)pending, hr));
        buf_printf(b, "},\"rtt_us\":");
        jhist(b, d->peers ? peers_rtt(d->peers, i) : NULL);
        struct ae_peer_view av;
        buf_printf(b, ",\"ae\":");
        if (ae_peer(d->ae, i, &av))
            buf_printf(b, "{\"diff_leaves\":%d,\"compared_ms_ago\":%lld,\"in_sync_ms_ago\":%lld,"
                          "\"exchanges\":%llu,\"repaired\":%llu}",
                       av.last_diff_leaves, (long long)av.compared_ms_ago,
                       (long long)av.in_sync_ms_ago, (unsigned long long)av.exchanges,
                       (unsigned long long)av.repaired);
        else
            buf_printf(b, "null");
        buf_printf(b, "}");
    }
    buf_printf(b, "]");
    /* work under way */
    struct xfer_progress xp;
    xfer_progress(d->xfer, &xp);
    buf_printf(b, ",\"transfer\":{\"state\":\"%s\",\"scanned\":%llu,\"total\":%llu,"
                  "\"strays\":%llu,\"moved\":%llu,\"failed\":%llu,\"inflight\":%d,"
                  "\"scan_rate\":%.1f,\"move_rate\":%.1f,\"moved_total\":%llu,\"eta_s\":",
               !d->xfer ? "none" : xp.active ? "running" : xp.busy ? "due" : "idle",
               (unsigned long long)xp.scanned, (unsigned long long)xp.total,
               (unsigned long long)xp.strays, (unsigned long long)xp.moved,
               (unsigned long long)xp.failed, xp.inflight, a->rate.xfer_scanned,
               a->rate.xfer_moved, (unsigned long long)xp.moved_total);
    jnum(b, xp.active ? admin_eta((double)(xp.total - xp.scanned), a->rate.xfer_scanned) : 0);
    struct ae_progress ap;
    ae_progress(d->ae, &ap);
    buf_printf(b, "},\"antientropy\":{\"enabled\":%s,\"stage\":\"%s\",\"peer\":",
               d->ae ? "true" : "false", ap.stage);
    jstr(b, ap.peer >= 0 && ap.peer < cfg->nnodes ? cfg->nodes[ap.peer].name : "");
    buf_printf(b, ",\"repair_done\":%llu,\"repair_total\":%llu,\"rate\":%.1f,"
                  "\"repaired_total\":%llu,\"leaves\":%d}",
               (unsigned long long)ap.repair_done, (unsigned long long)ap.repair_total,
               a->rate.ae_repaired, (unsigned long long)ap.keys_repaired_total, ap.leaves);
    const struct coord_stats *cs = coord_stats(d->coord);
    buf_printf(b, ",\"stats\":{\"commands_per_s\":%.1f,\"commands\":%llu,\"clients\":%u,"
                  "\"keys\":%zu,\"quorum_failures\":%llu,\"forwarded\":%llu,"
                  "\"hinted_writes\":%llu,\"read_repairs\":%llu}",
               a->rate.commands, (unsigned long long)srv_traffic(d->srv)->commands_processed,
               srv_nclients(d->srv, SRV_CLIENT), store_count(d->store),
               (unsigned long long)cs->quorum_failures, (unsigned long long)cs->forwarded,
               (unsigned long long)cs->hinted_writes, (unsigned long long)cs->read_repairs);
    buf_printf(b, ",\"latency\":[");
    struct lat_walk w = {b, true};
    cmd_lat_each(d->cmdstats, lat_one, &w);
    buf_printf(b, "]}");
}
