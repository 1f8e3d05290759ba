/* coord.c — request coordination (Dynamo §4.5).
 *
 * Owns: one struct creq per quorum read or write in flight, and the
 * single-use actor sequence.  Callers: cmd.c.  Calls: ring (preference
 * lists), store/vclock/siblings (local replica), peer (remote replicas).
 *
 * A request asks every node of the key's preference list (itself directly,
 * the others over the peer channel, concurrently) and answers its caller as
 * soon as R (W) of them answered, or with KV_ENOQUORUM once so many failed or
 * timed out that the quorum cannot be met.  It stays alive until every
 * replica answered or timed out (peer.c guarantees one callback each), so
 * late replies land in a live record; they are merged into the read result
 * (for read repair) and otherwise ignored.
 *
 * Nothing here blocks; per-replica deadlines are peer.c's timers
 * (put-timeout / get-timeout).
 */
#include "coord.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "node.h"
#include "peer.h"
#include "ring.h"
#include "store.h"
#include "util/buf.h"
#include "util/mem.h"

struct coord {
    struct kv_node *node;
    uint64_t conflict_seq;   /* next single-use actor suffix */
    struct coord_stats stats;
};

enum creq_kind {
    CREQ_READ = 0,
    CREQ_WRITE,
    CREQ_KIND_COUNT
};

struct creq {
    struct coord *co;
    enum creq_kind kind;
    int needed;              /* R or W */
    int acks, fails, pending;
    bool answered;
    coord_read_cb rcb;
    coord_write_cb wcb;
    void *arg;
    struct sibset merged;    /* read: reconciled answers */
    struct vclock stamped;   /* write: the new version's clock */
    int64_t start_us;
};

struct coord *coord_create(struct kv_node *node)
{
    struct coord *co = mem_calloc(1, sizeof(*co));
    co->node = node;
    return co;
}

void coord_destroy(struct coord *co)
{
    mem_free(co);
}

const struct coord_stats *coord_stats(const struct coord *co)
{
    return &co->stats;
}

void coord_local_load(struct coord *co, const void *key, size_t klen, struct sibset *out)
{
    const struct store_entry *e = store_find(co->node->store, key, klen);
    if (e)
        store_entry_load(e, out);
}

unsigned coord_preflist(struct coord *co, const void *key, size_t klen, unsigned *out)
{
    struct kv_node *n = co->node;
    unsigned nrep = (unsigned)n->cfg.n;
    if (nrep > ring_nnodes(n->ring))
        nrep = ring_nnodes(n->ring);
    return ring_preflist(n->ring, key, klen, nrep, out);
}

int coord_write_target(struct coord *co, const void *key, size_t klen)
{
    struct kv_node *n = co->node;
    if (!n->peers)
        return n->self_idx;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    for (unsigned i = 0; i < np; i++)
        if (peers_up(n->peers, (int)pl[i]))
            return (int)pl[i];
    /* Nobody in the list looks alive: coordinate here; replication will
     * report the missing quorum. */
    return n->self_idx;
}

static struct creq *creq_create(struct coord *co, enum creq_kind kind, int needed)
{
    struct creq *q = mem_calloc(1, sizeof(*q));
    q->co = co;
    q->kind = kind;
    q->needed = needed;
    sib_init(&q->merged);
    vc_init(&q->stamped);
    q->start_us = kv_mono_us();
    return q;
}

static void creq_free(struct creq *q)
{
    sib_fini(&q->merged);
    vc_fini(&q->stamped);
    mem_free(q);
}

/* Answers the caller once the quorum is met or cannot be met any more;
 * frees the record when nothing is outstanding.  Returns true if freed. */
static bool creq_progress(struct creq *q)
{
    if (!q->answered) {
        bool met = q->acks >= q->needed;
        bool lost = !met && q->acks + q->pending < q->needed;
        if (met || lost) {
            int err = met ? 0 : KV_ENOQUORUM;
            q->answered = true;
            if (err)
                q->co->stats.quorum_failures++;
            if (q->kind == CREQ_READ)
                q->rcb(q->arg, err, err ? NULL : &q->merged);
            else
                q->wcb(q->arg, err, err ? NULL : &q->stamped);
        }
    }
    if (q->answered && q->pending == 0) {
        creq_free(q);
        return true;
    }
    return false;
}

static void record_latency(struct coord *co, int64_t start_us)
{
    co->stats.replica_answers++;
    co->stats.replica_latency_us += (uint64_t)(kv_mono_us() - start_us);
}

/* Nodes of a preference list other than this one. */
static unsigned remote_count(const struct coord *co, const unsigned *pl, unsigned np)
{
    unsigned n = 0;
    for (unsigned i = 0; i < np; i++)
        n += (int)pl[i] != co->node->self_idx;
    return n;
}

bool coord_can_reach_quorum(struct coord *co, const void *key, size_t klen, int w)
{
    struct kv_node *n = co->node;
    if (!n->peers)
        return true;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    int up = 0;
    for (unsigned i = 0; i < np; i++)
        up += peers_up(n->peers, (int)pl[i]);
    return up >= (w > 0 ? w : n->cfg.w);
}

/* ---- reads ---- */

static void on_replica_get(void *arg, int err, const struct peer_reply *rep)
{
    struct creq *q = arg;
    q->pending--;
    if (!err && rep && rep->type == PEER_R_BULK) {
        struct sibset set;
        sib_init(&set);
        if (sib_decode(&set, rep->str, rep->len,
                       (size_t)q->co->node->cfg.proto_max_bulk_len) == 0) {
            sib_merge(&q->merged, &set);
            q->acks++;
            record_latency(q->co, q->start_us);
        } else {
            q->fails++;
        }
        sib_fini(&set);
    } else {
        q->fails++;
    }
    creq_progress(q);
}

static int read_quorum(struct coord *co, const void *key, size_t klen, int r, int timeout_ms,
                       coord_read_cb cb, void *arg);

int coord_read(struct coord *co, const void *key, size_t klen, int r, coord_read_cb cb, void *arg)
{
    return read_quorum(co, key, klen, r, co->node->cfg.get_timeout_ms, cb, arg);
}

static int read_quorum(struct coord *co, const void *key, size_t klen, int r, int timeout_ms,
                       coord_read_cb cb, void *arg)
{
    struct kv_node *n = co->node;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    struct creq *q = creq_create(co, CREQ_READ, r > 0 ? r : n->cfg.r);
    q->rcb = cb;
    q->arg = arg;
    /* Every answer is expected before the first is counted: a peer that is
     * down answers inside peers_send, and the quorum test must already see
     * the replicas still to come.  The extra 1 guards against answering
     * before the loop is over. */
    q->pending = 1 + (int)remote_count(co, pl, np);
    for (unsigned i = 0; i < np; i++) {
        if ((int)pl[i] == n->self_idx) {
            struct sibset local;
            sib_init(&local);
            coord_local_load(co, key, klen, &local);
            sib_merge(&q->merged, &local);
            sib_fini(&local);
            q->acks++;
        }
    }
    const char *argv[2] = {"PGET", key};
    size_t lens[2] = {4, klen};
    for (unsigned i = 0; i < np; i++)
        if ((int)pl[i] != n->self_idx)
            peers_send(n->peers, (int)pl[i], PEER_CHAN_DATA, timeout_ms, on_replica_get, q, 2,
                       argv, lens);
    q->pending--;
    bool sync = q->answered || q->acks >= q->needed || q->acks + q->pending < q->needed;
    creq_progress(q);
    return sync ? 0 : 1;
}

int coord_read_for_write(struct coord *co, const void *key, size_t klen, coord_read_cb cb,
                         void *arg)
{
    struct kv_node *n = co->node;
    const struct store_entry *e = store_find(n->store, key, klen);
    unsigned pl[CFG_MAX_NODES];
    if (e || !n->peers || remote_count(co, pl, coord_preflist(co, key, klen, pl)) == 0) {
        struct sibset local;
        sib_init(&local);
        if (e)
            store_entry_load(e, &local);
        cb(arg, 0, &local);
        sib_fini(&local);
        return 0;
    }
    /* Half the write's budget: the write that follows gets the rest, so a
     * SET answers within put-timeout even when replicas do not answer. */
    int t = n->cfg.put_timeout_ms / 2;
    return read_quorum(co, key, klen, 0, t > 0 ? t : 1, cb, arg);
}

/* ---- writes ---- */

/* Builds the clock of a new write (see coord.h). */
static void stamp(struct coord *co, const struct sibset *local, const struct vclock *ctx,
                  struct vclock *out)
{
    struct kv_node *node = co->node;
    struct vclock l;
    vc_init(&l);
    sib_context(local, &l);
    if (!ctx || vc_descends(ctx, &l)) {
        vc_copy(out, ctx ? ctx : &l);
        vc_increment(out, node->actor, (uint64_t)kv_now_ms());
    } else {
        char name[VC_MAX_ACTOR_LEN + 1];
        size_t alen;
        const char *an = vc_actor_name(node->actor, &alen);
        int len = snprintf(name, sizeof(name), "%.*s.%llu", (int)alen, an,
                           (unsigned long long)++co->conflict_seq);
        vc_copy(out, ctx);
        vc_increment(out, vc_actor_intern(name, (size_t)len), (uint64_t)kv_now_ms());
    }
    vc_prune(out, (unsigned)node->cfg.vclock_max_entries);
    vc_fini(&l);
}

static void on_replica_put(void *arg, int err, const struct peer_reply *rep)
{
    struct creq *q = arg;
    q->pending--;
    if (!err && rep && rep->type != PEER_R_ERROR) {
        q->acks++;
        record_latency(q->co, q->start_us);
    } else {
        q->fails++;
    }
    creq_progress(q);
}

int coord_write(struct coord *co, const void *key, size_t klen, const struct vclock *ctx,
                struct val *val, int64_t expire_ms, int w, int timeout_ms, coord_write_cb cb,
                void *arg)
{
    struct kv_node *n = co->node;
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, key, klen, &local);
    struct creq *q = creq_create(co, CREQ_WRITE, w > 0 ? w : n->cfg.w);
    q->wcb = cb;
    q->arg = arg;
    struct sibset one;
    sib_init(&one);
    struct version v;
    version_init(&v);
    v.val = val_ref(val);
    v.expire_ms = expire_ms;
    stamp(co, &local, ctx, &v.vc);
    vc_copy(&q->stamped, &v.vc);
    sib_fini(&local);
    /* The coordinator always keeps the version it stamped: its own next
     * stamp for this key must see it. */
    store_put(n->store, key, klen, &v);
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    unsigned nremote = remote_count(co, pl, np);
    bool self_in_list = nremote < np;
    q->pending = 1 + (int)nremote; /* see coord_read */
    if (self_in_list || np == 0)
        q->acks++;
    if (np > 1 || !self_in_list) {
        sib_add_move(&one, &v);
        struct buf enc;
        buf_init(&enc);
        sib_encode(&one, &enc);
        const char *argv[3] = {"PPUT", key, enc.data ? enc.data : ""};
        size_t lens[3] = {4, klen, enc.len};
        for (unsigned i = 0; i < np; i++) {
            if ((int)pl[i] != n->self_idx)
                peers_send(n->peers, (int)pl[i], PEER_CHAN_DATA,
                           timeout_ms > 0 ? timeout_ms : n->cfg.put_timeout_ms, on_replica_put,
                           q, 3, argv, lens);
        }
        buf_fini(&enc);
    }
    version_fini(&v);
    sib_fini(&one);
    q->pending--;
    bool sync = q->answered || q->acks >= q->needed || q->acks + q->pending < q->needed;
    creq_progress(q);
    return sync ? 0 : 1;
}

/* ---- forwarding ---- */

void coord_forward(struct coord *co, int idx, int argc, const char **argv, const size_t *lens,
                   peer_reply_fn cb, void *arg)
{
    co->stats.forwarded++;
    /* A little past put-timeout, so the coordinator's own NOQUORUM (sent at
     * put-timeout) normally arrives before this side gives up. */
    int t = co->node->cfg.put_timeout_ms;
    peers_send(co->node->peers, idx, PEER_CHAN_FWD, t + (t / 10 < 200 ? t / 10 : 200), cb, arg,
               argc, argv, lens);
}
