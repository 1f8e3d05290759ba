/* flush.c — FLUSHALL / FLUSHDB across the cluster (see flush.h).
 *
 * Owns: one struct flush_call per flush in progress (the PFLUSH replies it
 * waits for), freed when the last reply or timeout came back.  Callers:
 * cmd_keyspace.c (FLUSHALL, FLUSHDB).  Calls replica_flush_to (the local
 * pass, logged), members_node_up, peers_send.  Nothing blocks: the local
 * pass is one walk of the store (O(keys), store_flush when every version
 * is older), the rest is one peer request per member.
 */
#include "cluster/flush.h"

#include <event2/event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cluster/members.h"
#include "core/config.h"
#include "net/peer.h"
#include "storage/replica.h"
#include "util/errors.h"
#include "util/mem.h"

struct flush_call {
    flush_done_fn done;
    void *arg;
    struct replica *replica;
    uint32_t epoch;
    int w;        /* acks needed */
    int acks;     /* nodes that applied it, this one included */
    int waiting;  /* PFLUSH requests not answered yet, + 1 until this
                     node's own pass ran */
    bool told;    /* done was called */
};

static void settle(struct flush_call *f)
{
    if (!f->told && (f->acks >= f->w || f->waiting == 0)) {
        f->told = true;
        f->done(f->arg, f->acks >= f->w ? 0 : KV_ENOQUORUM);
    }
    if (f->waiting == 0)
        mem_free(f);
}

static void on_pflush(void *arg, int err, const struct peer_reply *rep)
{
    struct flush_call *f = arg;
    f->waiting--;
    if (!err && rep && rep->type == PEER_R_STATUS)
        f->acks++;
    settle(f);
}

/* This node's own pass: applied and logged (the reply waits for the log),
 * unless gossip brought the epoch first (then it was applied already). */
static void local_pass(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct flush_call *f = arg;
    replica_flush_to(f->replica, f->epoch, "FLUSHALL from a client");
    f->acks++;
    f->waiting--;
    settle(f);
}

int flush_cluster(const struct flush_deps *d, flush_done_fn done, void *arg)
{
    const struct cfg *cfg = d->cfg;
    int nnodes = d->peers ? cfg->nnodes : 0;
    int up = 1;
    for (int i = 0; i < nnodes; i++)
        up += i != d->self_idx && members_node_up(d->members, i);
    int w = cfg->w > 0 ? cfg->w : 1;
    uint32_t epoch = replica_epoch(d->replica);
    if (up < w || epoch == UINT32_MAX)
        return KV_ENOQUORUM; /* refused before anything changed, like a write */
    epoch++;
    struct flush_call *f = mem_calloc(1, sizeof(*f));
    f->done = done;
    f->arg = arg;
    f->w = w;
    f->replica = d->replica;
    f->epoch = epoch;
    f->waiting = 1; /* this node's own pass, which comes last */
    char num[16];
    int nl = snprintf(num, sizeof(num), "%u", epoch);
    const char *argv[2] = {"PFLUSH", num};
    size_t lens[2] = {6, (size_t)nl};
    /* The others first: the requests leave when control is back in the
     * loop, and this node's pass is deferred to the loop's next turn, so
     * the passes run at the same time (the reply comes at W, not after the
     * sum of two passes). */
    for (int i = 0; i < nnodes; i++) {
        if (i == d->self_idx)
            continue;
        f->waiting++;
        peers_send(d->peers, i, PEER_CHAN_DATA, cfg->put_timeout_ms, on_pflush, f, 2, argv,
                   lens);
    }
    struct timeval now = {0, 0};
    if (event_base_once(d->base, -1, EV_TIMEOUT, local_pass, f, &now) != 0)
        local_pass(-1, EV_TIMEOUT, f);
    return 0;
}
