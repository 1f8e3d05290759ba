/* admin.h — what the admin HTTP endpoint serves (the transport is
 * net/http.c): /status (a self-contained page that redraws itself from
 * /status.json every second), /status.json, /metrics (Prometheus text
 * exposition), /health (200 "ok" while this node can serve, else 503 with
 * the reason); and the same progress as text for DYNAMO STATUS.
 *
 * Built from the node's modules, each handed in at creation (struct
 * admin_deps); it owns only a 1 s sampler of the counters that rates and
 * finish estimates are computed from.  Every route is bounded by the
 * member count, the ring's tokens and the command table; nothing blocks.
 *
 * States and numbers, as the page, --help and the README explain them:
 *   state   alive: heartbeats advance; suspect: silent gossip-suspect-after;
 *           dead: silent gossip-dead-after (routed around, keeps its ring
 *           place); leaving: left the ring (LEAVE, REMOVE, eviction), still
 *           handing data over; gone: left and holds nothing.
 *   link    this node's peer connection: up, suspect (a probe timed out),
 *           handshake, connecting, down.
 *   arcs    the ring positions whose keys the node is first owner of.
 *   hints   versions held here for a node that was down, per target, with
 *           the delivery rate and an estimated finish.
 *   AE      per peer: leaves (of 4096) whose hashes differed at the last
 *           Merkle comparison, when the trees last matched.
 *   transfer keys of the store scanned of its size, keys moved to their
 *           new owners, the scan rate and an estimated finish. */
#ifndef KV_ADMIN_H
#define KV_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "net/http.h"
#include "util/buf.h"

struct event_base;
struct cfg;
struct store;
struct members;
struct peers;
struct gossip;
struct handoff;
struct ae;
struct xfer;
struct coord;
struct srv;
struct aof;
struct cmdstats;
struct admin;

/* Everything borrowed, outliving the admin; NULL where the node has none
 * (no cluster: peers, gossip, hh, ae, xfer; appendonly no: aof). */
struct admin_deps {
    struct event_base *base;   /* the sampler timer */
    const struct cfg *cfg;     /* names, addresses, quorum, ports: read live */
    struct store *store;
    struct members *members;
    struct peers *peers;
    struct gossip *gossip;
    struct handoff *hh;
    struct ae *ae;
    struct xfer *xfer;
    struct coord *coord;
    struct srv *srv;
    struct aof *aof;
    struct cmdstats *cmdstats;
    int self_idx;
    time_t start_time;
    const char *run_id;
};

struct admin *admin_create(const struct admin_deps *deps);   /* deps copied */
void admin_destroy(struct admin *a);                         /* accepts NULL */

/* The endpoint's routes (for http_create): writes up to max into out and
 * returns how many. */
int admin_routes(struct admin *a, struct http_route *out, int max);

/* DYNAMO STATUS: one line per item of work under way (transfer, hint
 * drains, anti-entropy exchange), plus one saying whether this node can
 * serve; appended to out as separate lines (count in *lines). */
void admin_status_lines(struct admin *a, struct buf *out, int *lines);

/* /health's verdict: true when serving; else why in reason. */
bool admin_health(struct admin *a, char *reason, size_t rlen);

/* The --help section on operating a node: the endpoint, what each state
 * and number of the status page and DYNAMO STATUS means, latency. */
void admin_help(struct buf *out);

/* The JSON document of /status.json (admin_json.c). */
void admin_status_json(struct admin *a, struct buf *out);
/* The Prometheus text of /metrics (admin_metrics.c). */
void admin_metrics(struct admin *a, struct buf *out);
/* The page of /status (admin_page.c): constant, self-contained; its lines,
 * NULL-terminated (no C string literal over the 4095 bytes C11 promises). */
extern const char *const admin_page_html[];

#endif
