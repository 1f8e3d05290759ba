/* cluster.c — gossip rounds and hinted-handoff wiring (see cluster.h).
 *
 * Owns: the gossip timer.  Every gossip-interval: bump our heartbeat,
 * re-evaluate every member's state, and exchange tables with one random
 * peer (PGOSSIP over the data channel; its reply is its table).  Calls:
 * gossip (pure membership), handoff, peer.  Gossip never calls the ring.
 */
#include "cluster.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "errors.h"
#include "gossip.h"
#include "handoff.h"
#include "node.h"
#include "peer.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

static struct event *gossip_timer;

static int64_t mono_ms(void)
{
    return kv_mono_us() / 1000;
}

static void on_change(void *arg, int idx, enum gossip_state from, enum gossip_state to)
{
    struct kv_node *node = arg;
    log_info("gossip: node %s is %s (was %s)", node->cfg.nodes[idx].name, gossip_state_name(to),
             gossip_state_name(from));
}

static void on_gossip_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct kv_node *node = arg;
    if (err || !rep || rep->type != PEER_R_BULK || !node->gossip)
        return;
    if (gossip_merge(node->gossip, rep->str, rep->len, mono_ms()) < 0)
        log_warn("gossip: malformed table in a PGOSSIP reply");
}

static void arm(struct kv_node *node)
{
    int ms = node->cfg.gossip_interval_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(gossip_timer, &tv);
}

static void on_gossip_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct kv_node *node = arg;
    struct gossip *g = node->gossip;
    gossip_set_timeouts(g, node->cfg.gossip_suspect_ms, node->cfg.gossip_dead_ms);
    gossip_tick(g, mono_ms());
    int peer = gossip_pick(g, (uint32_t)random());
    if (peer >= 0) {
        struct buf enc;
        buf_init(&enc);
        gossip_encode(g, &enc);
        const char *argv[2] = {"PGOSSIP", enc.data ? enc.data : ""};
        size_t lens[2] = {7, enc.len};
        peers_send(node->peers, peer, PEER_CHAN_DATA, node->cfg.gossip_interval_ms,
                   on_gossip_reply, node, 2, argv, lens);
        buf_fini(&enc);
    }
    arm(node); /* re-armed each round so CONFIG SET gossip-interval applies */
}

static bool hint_owner_up(void *arg, int owner)
{
    struct kv_node *node = arg;
    return owner != node->self_idx && coord_node_up(node->coord, owner);
}

void cluster_start(struct kv_node *node)
{
    node->gossip = gossip_create(node->cfg.nodes, node->cfg.nnodes, node->self_idx,
                                 node->incarnation, mono_ms());
    gossip_set_timeouts(node->gossip, node->cfg.gossip_suspect_ms, node->cfg.gossip_dead_ms);
    gossip_on_change(node->gossip, on_change, node);
    node->hh = hh_create(node, hint_owner_up, node);
    srandom((unsigned)(kv_mono_us() ^ (int64_t)node->incarnation));
    gossip_timer = evtimer_new(node->base, on_gossip_timer, node);
    arm(node);
}

void cluster_stop(struct kv_node *node)
{
    if (gossip_timer)
        event_free(gossip_timer);
    gossip_timer = NULL;
    hh_destroy(node->hh);
    node->hh = NULL;
    gossip_destroy(node->gossip);
    node->gossip = NULL;
}

int cluster_gossip_exchange(struct kv_node *node, const void *p, size_t len, struct buf *out)
{
    if (!node->gossip)
        return KV_EPROTO;
    int rc = gossip_merge(node->gossip, p, len, mono_ms());
    gossip_encode(node->gossip, out);
    return rc < 0 ? rc : 0;
}
