/* cluster.c — gossip rounds and membership changes (see cluster.h).
 *
 * Owns: struct cluster (the gossip table, the gossip timer, the round
 * count, the seeds that never answered, whether the ring must be rebuilt)
 * and the membership file; the ring snapshot itself is members.c's.  Every
 * gossip-interval: bump our heartbeat, re-evaluate every member's state, and exchange
 * tables with one random peer (PGOSSIP over the data channel; its reply is
 * its table).  When gossip reports a new member or a ring status change,
 * the node list grows (cfg.nodes, peer links) and, once the merge or tick
 * is over, a new ring snapshot replaces the old one; then the anti-entropy
 * trees are rebuilt and the transfer of keys this node no longer owns
 * starts (hints for nodes that left become local data on handoff.c's next
 * tick, and the transfer takes them on).  The member list is
 * saved to <dir>/<node>.members so a restart knows the nodes that joined
 * (and their hints in the log) before gossip tells it again.
 * Callers: main (cluster_start/stop, cluster_gossip), cmd_peer.c (PGOSSIP:
 * cluster_gossip_exchange), cmd_dynamo.c (DYNAMO JOIN/LEAVE/REMOVE).
 * Calls: gossip (pure membership), ring, handoff (stats), peer (links,
 * seeds), members (the ring's replacement, liveness, name -> index), store
 * (key count); the anti-entropy trees and the transfer only through the
 * ring_changed / transfer_busy hooks main.c hands it (cluster_deps), so
 * this file knows neither.  Gossip never calls the ring.
 */
#include "cluster/cluster.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster/members.h"
#include "core/config.h"
#include "util/clock.h"
#include "util/errors.h"
#include "core/gossip.h"
#include "cluster/handoff.h"
#include "net/peer.h"
#include "core/ring.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/mem.h"

/* The gossip rounds' state: created by cluster_start, freed by
 * cluster_stop. */
struct cluster {
    struct cluster_deps d;
    struct gossip *gossip;   /* the membership table (core/gossip.h) */
    struct event *gossip_timer;
    bool ring_dirty; /* membership changed: rebuild the ring when the merge is over */
    unsigned gossip_round;
    uint64_t seeds_unanswered; /* bit s: seed s never answered a PGOSSIP */
};
/* Every this many rounds a random seed is gossiped with even when others
 * are known, so clusters that formed apart (a logical partition) merge. */
#define SEED_EVERY_ROUNDS 10

static void on_change(void *arg, int idx, enum gossip_state from, enum gossip_state to)
{
    struct cluster *cl = arg;
    log_info("gossip: node %s is %s (was %s)", cl->d.cfg->nodes[idx].name, gossip_state_name(to),
             gossip_state_name(from));
}

static void on_member(void *arg, int idx, bool added)
{
    struct cluster *cl = arg;
    struct cfg *c = cl->d.cfg;
    if (added) {
        if (idx != c->nnodes || idx >= CFG_MAX_NODES)
            return; /* cannot happen: gossip and cfg.nodes grow together */
        gossip_member(cl->gossip, idx, &c->nodes[idx]);
        c->nnodes = idx + 1;
        peers_add(cl->d.peers, c->nnodes);
        log_info("membership: node %s (%s:%d, cluster port %d) is new, %s", c->nodes[idx].name,
                 c->nodes[idx].host, c->nodes[idx].port, c->nodes[idx].cport,
                 gossip_status_name(gossip_status(cl->gossip, idx)));
    } else {
        log_info("membership: node %s is now %s", c->nodes[idx].name,
                 gossip_status_name(gossip_status(cl->gossip, idx)));
    }
    cl->ring_dirty = true;
}

static char *members_path(const struct cluster *cl)
{
    struct buf p;
    buf_init(&p);
    buf_printf(&p, "%s/%s.members", cl->d.cfg->dir, cl->d.cfg->node_name);
    buf_putc(&p, '\0');
    return p.data;
}

/* Writes the member list (tmp file, then rename: never half a file). */
static void save_members(struct cluster *cl)
{
    if (!cl->d.cfg->appendonly)
        return; /* without persistence a restart starts from cluster.conf */
    char *path = members_path(cl);
    struct buf tmp;
    buf_init(&tmp);
    buf_printf(&tmp, "%s.tmp", path);
    buf_putc(&tmp, '\0');
    FILE *f = fopen(tmp.data, "w");
    if (f) {
        fprintf(f, "# dynamo-node member list, rewritten on every change\n");
        for (int i = 0; i < cl->d.cfg->nnodes; i++) {
            const struct cfg_node *cn = &cl->d.cfg->nodes[i];
            fprintf(f, "member %s %s %d %d %s %llu\n", cn->name, cn->host, cn->port, cn->cport,
                    gossip_status_name(gossip_status(cl->gossip, i)),
                    (unsigned long long)gossip_status_version(cl->gossip, i));
        }
        bool ok = fflush(f) == 0 && fsync(fileno(f)) == 0;
        ok = (fclose(f) == 0) && ok;
        if (!ok || rename(tmp.data, path) != 0)
            log_warn("cannot write %s: %s", path, strerror(errno));
        else if (fs_fsync_dir_of(path) < 0) /* the rename survives a crash */
            log_warn("cannot fsync the directory of %s: %s", path, strerror(errno));
    } else {
        log_warn("cannot write %s: %s", tmp.data, strerror(errno));
    }
    buf_fini(&tmp);
    mem_free(path);
}

/* Reads the saved member list: nodes that joined after cluster.conf was
 * written are appended to cfg.nodes; ring statuses are restored after the
 * table exists (status[] / sversion[] by index).  A missing file is normal;
 * a malformed line is skipped with a warning (gossip will tell again). */
static void load_members(struct cluster *cl, int *status, unsigned long long *sversion)
{
    char *path = members_path(cl);
    FILE *f = fopen(path, "r");
    if (!f) {
        mem_free(path);
        return;
    }
    char line[512];
    int lineno = 0;
    while (fgets(line, sizeof(line), f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        struct cfg_node cn;
        memset(&cn, 0, sizeof(cn));
        char st[16];
        unsigned long long sv;
        if (sscanf(line, "member %63s %63s %d %d %15s %llu", cn.name, cn.host, &cn.port,
                   &cn.cport, st, &sv) != 6 ||
            cn.port < 1 || cn.port > 65535 || cn.cport < 1 || cn.cport > 65535) {
            log_warn("%s:%d: malformed member line, skipped", path, lineno);
            continue;
        }
        int idx = members_index(cl->d.members, cn.name, strlen(cn.name));
        struct in_addr a;
        if (idx < 0 && inet_pton(AF_INET, cn.host, &a) != 1) {
            /* peer links never resolve names on the loop (main.c) */
            log_warn("%s:%d: member %s has a non-numeric address, skipped (gossip will tell "
                     "again)", path, lineno, cn.name);
            continue;
        }
        if (idx < 0 && cl->d.cfg->nnodes < CFG_MAX_NODES) {
            idx = cl->d.cfg->nnodes++;
            cl->d.cfg->nodes[idx] = cn;
        }
        if (idx >= 0) {
            status[idx] = strcmp(st, "gone") == 0   ? GOSSIP_GONE
                          : strcmp(st, "left") == 0 ? GOSSIP_LEFT
                                                    : GOSSIP_MEMBER;
            sversion[idx] = sv;
        }
    }
    fclose(f);
    mem_free(path);
}

/* After membership changed: a new ring, then what depends on it. */
static void apply_membership(struct cluster *cl)
{
    if (!cl->ring_dirty)
        return;
    cl->ring_dirty = false;
    const char *names[CFG_MAX_NODES];
    bool member[CFG_MAX_NODES];
    int n = cl->d.cfg->nnodes;
    bool same = ring_nnodes(members_ring(cl->d.members)) == (unsigned)n;
    for (int i = 0; i < n; i++) {
        names[i] = cl->d.cfg->nodes[i].name;
        member[i] = gossip_status(cl->gossip, i) == GOSSIP_MEMBER;
        same = same && member[i] == ring_is_member(members_ring(cl->d.members), (unsigned)i);
    }
    save_members(cl);
    if (same)
        return;
    struct ring *r = ring_create_members(names, (unsigned)n, member,
                                         (unsigned)cl->d.cfg->vnodes_per_node,
                                         ring_version(members_ring(cl->d.members)) + 1);
    if (!r)
        return;
    members_set_ring(cl->d.members, r);
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < n; i++)
        if (member[i])
            buf_printf(&b, " %s", names[i]);
    buf_putc(&b, '\0');
    log_info("ring version %llu: %u member(s):%s", (unsigned long long)ring_version(r),
             ring_nmembers(r), b.data);
    buf_fini(&b);
    if (cl->d.ring_changed) /* the trees, the transfer (hints for nodes that left:
                               handoff.c's next tick) */
        cl->d.ring_changed(cl->d.arg);
}

static void on_gossip_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct cluster *cl = arg;
    if (err || !rep || rep->type != PEER_R_BULK)
        return;
    if (gossip_merge(cl->gossip, rep->str, rep->len, clock_mono_ms()) < 0)
        log_warn("gossip: malformed table in a PGOSSIP reply");
    apply_membership(cl);
}

struct seed_call {
    struct cluster *cl;
    int seed;
};

static void on_seed_reply(void *arg, int err, const struct peer_reply *rep)
{
    struct seed_call *sc = arg;
    if (!err && rep && rep->type == PEER_R_BULK && sc->seed < 64 && sc->cl)
        sc->cl->seeds_unanswered &= ~((uint64_t)1 << sc->seed);
    struct cluster *cl = sc->cl;
    mem_free(sc);
    on_gossip_reply(cl, err, rep);
}

static void gossip_to_seed(struct cluster *cl, int seed)
{
    struct buf enc;
    buf_init(&enc);
    gossip_encode(cl->gossip, &enc);
    const char *argv[2] = {"PGOSSIP", enc.data ? enc.data : ""};
    size_t lens[2] = {7, enc.len};
    struct seed_call *sc = mem_alloc(sizeof(*sc));
    sc->cl = cl;
    sc->seed = seed;
    peers_send_seed(cl->d.peers, seed, cl->d.cfg->gossip_interval_ms, on_seed_reply, sc, 2, argv,
                    lens);
    buf_fini(&enc);
}

/* Seeds: every round, each one that never answered yet (a configured seed
 * at start, a DYNAMO JOIN target); besides, one random seed every
 * SEED_EVERY_ROUNDS rounds. */
static void gossip_seeds(struct cluster *cl)
{
    int ns = peers_nseeds(cl->d.peers);
    for (int s = 0; s < ns && s < 64; s++)
        if (cl->seeds_unanswered & ((uint64_t)1 << s))
            gossip_to_seed(cl, s);
    if (ns > 0 && cl->gossip_round % SEED_EVERY_ROUNDS == 0)
        gossip_to_seed(cl, (int)((uint32_t)random() % (uint32_t)ns));
}

static void arm(struct cluster *cl)
{
    int ms = cl->d.cfg->gossip_interval_ms;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(cl->gossip_timer, &tv);
}

static void on_gossip_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct cluster *cl = arg;
    struct gossip *g = cl->gossip;
    gossip_set_timeouts(g, cl->d.cfg->gossip_suspect_ms, cl->d.cfg->gossip_dead_ms);
    gossip_set_evict(g, cl->d.cfg->dead_node_evict_ms);
    gossip_tick(g, clock_mono_ms());
    /* A node that left and has handed everything over says so: GONE nodes
     * hold no data, so they do not hold back tombstone reaping. */
    struct hh_stats hs = {0, 0, 0, 0};
    if (cl->d.hh)
        hh_stats(cl->d.hh, &hs);
    if (gossip_status(g, cl->d.self_idx) == GOSSIP_LEFT && store_count(cl->d.store) == 0 &&
        hs.pending == 0 && !(cl->d.transfer_busy && cl->d.transfer_busy(cl->d.arg)) && gossip_mark_gone(g))
        log_info("membership: this node left and holds no data any more: gone");
    apply_membership(cl);
    /* random() gives 31 bits; gossip_pick wants 32 */
    uint32_t rnd = (uint32_t)random() ^ ((uint32_t)random() << 16);
    int peer = gossip_pick(g, rnd);
    if (peer >= 0) {
        struct buf enc;
        buf_init(&enc);
        gossip_encode(g, &enc);
        const char *argv[2] = {"PGOSSIP", enc.data ? enc.data : ""};
        size_t lens[2] = {7, enc.len};
        peers_send(cl->d.peers, peer, PEER_CHAN_DATA, cl->d.cfg->gossip_interval_ms,
                   on_gossip_reply, cl, 2, argv, lens);
        buf_fini(&enc);
    }
    cl->gossip_round++;
    gossip_seeds(cl);
    arm(cl); /* re-armed each round so CONFIG SET gossip-interval applies */
}

struct cluster *cluster_start(const struct cluster_deps *deps)
{
    struct cluster *cl = mem_calloc(1, sizeof(*cl));
    cl->d = *deps;
    int status[CFG_MAX_NODES];
    unsigned long long sversion[CFG_MAX_NODES];
    for (int i = 0; i < CFG_MAX_NODES; i++) {
        status[i] = -1;
        sversion[i] = 0;
    }
    load_members(cl, status, sversion);
    peers_add(cl->d.peers, cl->d.cfg->nnodes);
    cl->gossip = gossip_create(cl->d.cfg->nodes, cl->d.cfg->nnodes, cl->d.self_idx,
                                 cl->d.incarnation, clock_mono_ms());
    members_set_gossip(cl->d.members, cl->gossip);
    gossip_set_timeouts(cl->gossip, cl->d.cfg->gossip_suspect_ms, cl->d.cfg->gossip_dead_ms);
    gossip_set_evict(cl->gossip, cl->d.cfg->dead_node_evict_ms);
    gossip_on_change(cl->gossip, on_change, cl);
    for (int i = 0; i < cl->d.cfg->nnodes; i++)
        if (status[i] >= 0 && i != cl->d.self_idx)
            gossip_restore(cl->gossip, i, (enum gossip_status)status[i], sversion[i]);
        else if (i == cl->d.self_idx)
            gossip_restore(cl->gossip, i, GOSSIP_MEMBER, sversion[i]);
    gossip_on_member(cl->gossip, on_member, cl);
    cl->ring_dirty = true;
    apply_membership(cl);
    cl->seeds_unanswered = 0;
    for (int s = 0; s < peers_nseeds(cl->d.peers) && s < 64; s++)
        cl->seeds_unanswered |= (uint64_t)1 << s;
    srandom((unsigned)(clock_mono_us() ^ (int64_t)cl->d.incarnation));
    cl->gossip_timer = evtimer_new(cl->d.base, on_gossip_timer, cl);
    arm(cl);
    return cl;
}

struct gossip *cluster_gossip(const struct cluster *cl)
{
    return cl ? cl->gossip : NULL;
}

void cluster_stop(struct cluster *cl)
{
    if (!cl)
        return;
    if (cl->gossip_timer)
        event_free(cl->gossip_timer);
    members_set_gossip(cl->d.members, NULL);
    gossip_destroy(cl->gossip);
    mem_free(cl);
}

int cluster_gossip_exchange(struct cluster *cl, const void *p, size_t len, struct buf *out)
{
    if (!cl)
        return KV_EPROTO;
    int rc = gossip_merge(cl->gossip, p, len, clock_mono_ms());
    gossip_encode(cl->gossip, out);
    apply_membership(cl);
    return rc < 0 ? rc : 0;
}

int cluster_join(struct cluster *cl, const char *host, int cport)
{
    struct in_addr a;
    if (!cl)
        return KV_EINVAL;
    if (inet_pton(AF_INET, host, &a) != 1)
        return KV_ENOTFOUND; /* a name: resolving it would block the loop */
    int s = peers_add_seed(cl->d.peers, host, cport);
    if (s < 0)
        return KV_ETOOBIG;
    log_info("membership: joining through %s:%d", host, cport);
    if (s < 64)
        cl->seeds_unanswered |= (uint64_t)1 << s;
    gossip_to_seed(cl, s); /* at once if its link is up; every round until it answers */
    return 0;
}

void cluster_leave(struct cluster *cl)
{
    if (!cl)
        return;
    gossip_leave(cl->gossip);
    apply_membership(cl);
}

int cluster_remove(struct cluster *cl, const char *name, size_t len)
{
    if (!cl)
        return KV_ENOTFOUND;
    int i = members_index(cl->d.members, name, len);
    if (i < 0)
        return KV_ENOTFOUND;
    if (i == cl->d.self_idx)
        return KV_EINVAL;
    if (gossip_remove(cl->gossip, i))
        apply_membership(cl);
    return 0;
}
