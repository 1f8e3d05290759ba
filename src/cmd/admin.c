/* admin.c — the admin endpoint's content (see admin.h): routes, /health,
 * DYNAMO STATUS lines, and the 1 s sampler of the counters that rates and
 * finish estimates come from.  /status.json is admin_json.c, /metrics
 * admin_metrics.c, the page admin_page.c.
 *
 * Owns: struct admin (its collaborators are borrowed: struct admin_deps),
 * the sampler timer.  Callers: main.c (create, routes for net/http.c,
 * destroy), cmd_dynamo.c (DYNAMO STATUS through admin_status_lines).
 * Calls: read-only queries of members, peers, gossip, handoff, ae, xfer,
 * coord, aof.  Nothing blocks; every route is bounded by the member count
 * and the ring's tokens.
 */
#include "cmd/admin.h"

#include <event2/event.h>
#include <stdio.h>
#include <string.h>

#include "cluster/ae.h"
#include "cluster/handoff.h"
#include "cluster/members.h"
#include "cluster/xfer.h"
#include "cmd/admin_priv.h"
#include "core/gossip.h"
#include "net/peer.h"
#include "net/server.h"
#include "storage/aof.h"
#include "util/mem.h"

#define ADMIN_SAMPLE_MS 1000

/* Half the weight on the newest second; a rate that was 0 (work just
 * started) takes the new second whole, so an estimate is right at once. */
static double smooth(double old, double now, bool first)
{
    return first || old == 0 ? now : old * 0.5 + now * 0.5;
}

static void on_sample(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct admin *a = arg;
    const struct admin_deps *d = &a->d;
    bool first = !a->sampled;
    double secs = ADMIN_SAMPLE_MS / 1000.0;
    int nn = d->cfg->nnodes < CFG_MAX_NODES ? d->cfg->nnodes : CFG_MAX_NODES;
    for (int i = 0; d->hh && i < nn; i++) {
        uint64_t v = hh_delivered_to(d->hh, i);
        if (!first)
            a->rate.hints[i] = smooth(a->rate.hints[i], (double)(v - a->prev_hints[i]) / secs,
                                      false);
        a->prev_hints[i] = v;
    }
    struct xfer_progress xp;
    xfer_progress(d->xfer, &xp);
    struct ae_progress ap;
    ae_progress(d->ae, &ap);
    uint64_t cmds = srv_traffic(d->srv)->commands_processed;
    if (!first) {
        a->rate.xfer_moved = smooth(a->rate.xfer_moved, (double)(xp.moved_total - a->prev_moved) / secs, false);
        /* the scan restarts with each pass: count only forward progress */
        double scanned = xp.scanned >= a->prev_scanned ? (double)(xp.scanned - a->prev_scanned)
                                                       : (double)xp.scanned;
        a->rate.xfer_scanned = smooth(a->rate.xfer_scanned, scanned / secs, false);
        a->rate.ae_repaired = smooth(a->rate.ae_repaired,
                                     (double)(ap.keys_repaired_total - a->prev_repaired) / secs,
                                     false);
        a->rate.commands = smooth(a->rate.commands,
                                  cmds >= a->prev_commands ? (double)(cmds - a->prev_commands) / secs
                                                           : 0.0,
                                  false);
    }
    a->prev_moved = xp.moved_total;
    a->prev_scanned = xp.scanned;
    a->prev_repaired = ap.keys_repaired_total;
    a->prev_commands = cmds;
    a->sampled = true;
}

struct admin *admin_create(const struct admin_deps *deps)
{
    struct admin *a = mem_calloc(1, sizeof(*a));
    a->d = *deps;
    a->sampler = event_new(deps->base, -1, EV_PERSIST, on_sample, a);
    struct timeval tv = {ADMIN_SAMPLE_MS / 1000, (ADMIN_SAMPLE_MS % 1000) * 1000};
    event_add(a->sampler, &tv);
    on_sample(-1, 0, a);
    return a;
}

void admin_destroy(struct admin *a)
{
    if (!a)
        return;
    event_free(a->sampler);
    mem_free(a);
}

double admin_eta(double left, double rate)
{
    if (left <= 0)
        return 0;
    return rate > 0 ? left / rate : -1;
}

const char *admin_node_state(const struct admin *a, int idx)
{
    const struct admin_deps *d = &a->d;
    if (d->gossip && idx < gossip_nmembers(d->gossip)) {
        enum gossip_status st = gossip_status(d->gossip, idx);
        if (st == GOSSIP_GONE)
            return "gone";
        if (st == GOSSIP_LEFT)
            return "leaving";
        if (idx == d->self_idx)
            return "alive";
        return gossip_state_name(gossip_state(d->gossip, idx));
    }
    return members_node_up(d->members, idx) ? "alive" : "dead";
}

void admin_node_link(const struct admin *a, int idx, char *out, size_t n)
{
    const struct admin_deps *d = &a->d;
    if (idx == d->self_idx || !d->peers) {
        snprintf(out, n, "self");
        return;
    }
    /* peers_describe's "link=" word is the one DYNAMO NODES shows */
    struct buf b;
    buf_init(&b);
    peers_describe(d->peers, idx, &b);
    buf_putc(&b, '\0');
    const char *l = strstr(b.data, " link=");
    const char *w = l ? l + 6 : "?";
    size_t len = strcspn(w, " ");
    snprintf(out, n, "%.*s", (int)len, w);
    buf_fini(&b);
}

bool admin_health(struct admin *a, char *reason, size_t rlen)
{
    const struct admin_deps *d = &a->d;
    if (d->aof && !aof_writable(d->aof)) {
        snprintf(reason, rlen, "the append-only log cannot be written (%s): writes are refused",
                 aof_error(d->aof));
        return false;
    }
    if (d->gossip && d->self_idx >= 0 && gossip_status(d->gossip, d->self_idx) != GOSSIP_MEMBER) {
        snprintf(reason, rlen, "this node left the ring (%s)",
                 gossip_status_name(gossip_status(d->gossip, d->self_idx)));
        return false;
    }
    if (d->cfg->nnodes > 0 && !members_can_reach_quorum(d->members, NULL, 0, 0)) {
        int up = 0;
        for (int i = 0; i < d->cfg->nnodes; i++)
            up += members_node_up(d->members, i);
        snprintf(reason, rlen, "cannot reach a write quorum: %d node(s) up, W=%d", up,
                 d->cfg->w);
        return false;
    }
    snprintf(reason, rlen, "ok");
    return true;
}

void admin_status_lines(struct admin *a, struct buf *out, int *lines)
{
    const struct admin_deps *d = &a->d;
    *lines = 0;
    char reason[256];
    bool ok = admin_health(a, reason, sizeof(reason));
    buf_printf(out, "health %s%s%s\n", ok ? "ok" : "unavailable", ok ? "" : ": ",
               ok ? "" : reason);
    (*lines)++;
    struct xfer_progress xp;
    xfer_progress(d->xfer, &xp);
    if (d->xfer) {
        double left = (double)(xp.total - xp.scanned);
        buf_printf(out,
                   "transfer %s scanned=%llu/%llu strays=%llu moved=%llu failed=%llu "
                   "inflight=%d rate=%.0f/s eta_s=%.0f moved_total=%llu\n",
                   xp.active ? "running" : xp.busy ? "due" : "idle",
                   (unsigned long long)xp.scanned, (unsigned long long)xp.total,
                   (unsigned long long)xp.strays, (unsigned long long)xp.moved,
                   (unsigned long long)xp.failed, xp.inflight, a->rate.xfer_scanned,
                   xp.active ? admin_eta(left, a->rate.xfer_scanned) : 0.0,
                   (unsigned long long)xp.moved_total);
        (*lines)++;
    }
    for (int i = 0; d->hh && i < d->cfg->nnodes && i < CFG_MAX_NODES; i++) {
        uint64_t pending = hh_pending_for(d->hh, i);
        uint64_t done = hh_delivered_to(d->hh, i);
        if (pending == 0 && done == 0)
            continue;
        buf_printf(out, "hints %s pending=%llu delivered=%llu rate=%.0f/s eta_s=%.0f\n",
                   d->cfg->nodes[i].name, (unsigned long long)pending, (unsigned long long)done,
                   a->rate.hints[i], admin_eta((double)pending, a->rate.hints[i]));
        (*lines)++;
    }
    if (d->ae) {
        struct ae_progress ap;
        ae_progress(d->ae, &ap);
        buf_printf(out, "anti-entropy %s peer=%s repaired=%llu/%llu rate=%.0f/s "
                        "repaired_total=%llu\n",
                   ap.stage, ap.peer >= 0 ? d->cfg->nodes[ap.peer].name : "-",
                   (unsigned long long)ap.repair_done, (unsigned long long)ap.repair_total,
                   a->rate.ae_repaired, (unsigned long long)ap.keys_repaired_total);
        (*lines)++;
    }
}

/* ---- routes ---- */

static int route_health(void *arg, const char *query, struct buf *body, const char **ctype)
{
    (void)query;
    char reason[256];
    bool ok = admin_health(arg, reason, sizeof(reason));
    *ctype = "text/plain; charset=utf-8";
    buf_printf(body, "%s\n", reason);
    return ok ? 200 : 503;
}

static int route_json(void *arg, const char *query, struct buf *body, const char **ctype)
{
    (void)query;
    *ctype = "application/json";
    admin_status_json(arg, body);
    return 200;
}

static int route_metrics(void *arg, const char *query, struct buf *body, const char **ctype)
{
    (void)query;
    *ctype = "text/plain; version=0.0.4; charset=utf-8";
    admin_metrics(arg, body);
    return 200;
}

static int route_page(void *arg, const char *query, struct buf *body, const char **ctype)
{
    (void)arg;
    (void)query;
    *ctype = "text/html; charset=utf-8";
    for (const char *const *l = admin_page_html; *l; l++)
        buf_append(body, *l, strlen(*l));
    return 200;
}

int admin_routes(struct admin *a, struct http_route *out, int max)
{
    const struct http_route r[] = {
        {"/", route_page, a},           {"/status", route_page, a},
        {"/status.json", route_json, a}, {"/metrics", route_metrics, a},
        {"/health", route_health, a},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]) && n < max; i++)
        out[n++] = r[i];
    return n;
}

void admin_help(struct buf *out)
{
    buf_printf(out,
        "\n"
        "Operating a node (admin-port > 0 serves these over HTTP on admin-bind):\n"
        "  /status       live page: the ring, members, work under way, latency\n"
        "  /status.json  the same as JSON, for scripts\n"
        "  /metrics      Prometheus text format (dynamo_* counters, gauges, histograms)\n"
        "  /health       200 \"ok\" while this node can serve; 503 and the reason when\n"
        "                its log cannot be written, it left the ring, or it cannot\n"
        "                reach W nodes\n"
        "  With requirepass set, send it as \"Authorization: Bearer <password>\" or with\n"
        "  HTTP Basic authentication (any user name).\n"
        "States of a member, as this node sees it:\n"
        "  alive    its gossip heartbeat advances\n"
        "  suspect  no heartbeat for gossip-suspect-after\n"
        "  dead     none for gossip-dead-after: routed around, keeps its ring place\n"
        "  leaving  left the ring (DYNAMO LEAVE/REMOVE, eviction); may still hand data over\n"
        "  gone     left and holds nothing\n"
        "  link     this node's connection to it: up, suspect (a probe went unanswered),\n"
        "           handshake, connecting, down\n"
        "Numbers:\n"
        "  owns          share of the hash space the node is first owner of (its arcs)\n"
        "  hints         versions held here for a node that was unreachable, per target,\n"
        "                delivered at handoff-rate once it is back (rate, time to finish)\n"
        "  anti-entropy  per peer: Merkle leaves (of 4096) that differed at the last\n"
        "                comparison, when the trees last matched\n"
        "  transfer      after a ring change: keys scanned of all, keys moved to their\n"
        "                new owners, scan rate, time to finish\n"
        "  p50/p99/p99.9 half, 99%% and 99.9%% of calls took at most this long; a command\n"
        "                is timed from dispatch to its complete reply (replicas included)\n"
        "  quorum failures  requests answered NOQUORUM (W or R replicas not in time)\n"
        "Commands: DYNAMO STATUS (work under way with done/total, rate, finish),\n"
        "INFO latencystats | commandstats, LATENCY HISTOGRAM [cmd...], SLOWLOG GET [n] |\n"
        "LEN | RESET; INFO cluster has peer_rtt_usec_<node> (replica round trips).\n");
}
