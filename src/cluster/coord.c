/* coord.c — request coordination (Dynamo §4.5).
 *
 * Owns: one struct creq per quorum read or write in flight, the counter
 * floor for writes it coordinates without owning the key, and the
 * max-siblings warning rate limit.  Callers: cmd.c.  Calls: ring (preference
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
#include "cluster/coord.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/errors.h"
#include "core/gossip.h"
#include "cluster/handoff.h"
#include "storage/aof.h"
#include "storage/replica.h"
#include "node.h"
#include "net/peer.h"
#include "core/ring.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

struct coord {
    struct kv_node *node;
    uint64_t sloppy_floor;   /* highest dot counter issued for a key this node
                                does not own (and so does not store) */
    int64_t last_sib_warn_ms;/* siblings-warn log lines: at most one a second */
    uint64_t sib_warns_quiet;/* warnings not logged since the last line */
    struct coord_stats stats;
};

static_assert(SIB_MAX_SIBLINGS_CAP == 512, "config.c's max-siblings bound");
static_assert(SIB_MAX_SIBLINGS_CAP * 2 <= SIB_MAX_VERSIONS, "room above the cap");

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
    int timeout_ms;
    /* read repair: what each replica answered (index into cfg.nodes) */
    int nans;
    int ans_node[CFG_MAX_NODES];
    struct sibset *ans_set;  /* nans entries, allocated with the request */
    /* plain writes: versions replicas reported that the write did not cover */
    unsigned wflags;
    struct sibset newer;
    struct val *val;
    int64_t expire_ms;
    /* sloppy quorum: the key, the encoded version, the ring walk */
    char *key;
    size_t klen;
    struct buf enc;
    unsigned walk[CFG_MAX_NODES];
    unsigned nwalk;          /* nodes in ring order from the key */
    unsigned nowners;        /* the first nowners of walk are the owners */
    unsigned next_sub;       /* next walk position to try as a substitute */
    bool used[CFG_MAX_NODES];
};

/* One replica request of a write: which owner it serves. */
struct rput {
    struct creq *q;
    int owner;
    bool hint;               /* sent as PHINT to a substitute */
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
    if (nrep > ring_nmembers(n->ring))
        nrep = ring_nmembers(n->ring);
    return ring_preflist(n->ring, key, klen, nrep, out);
}

int coord_owner_rank(struct coord *co, const void *key, size_t klen, int idx)
{
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    for (unsigned i = 0; i < np; i++)
        if ((int)pl[i] == idx)
            return (int)i;
    return -1;
}

int coord_write_target(struct coord *co, const void *key, size_t klen)
{
    struct kv_node *n = co->node;
    if (!n->peers)
        return n->self_idx;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(co, key, klen, pl);
    for (unsigned i = 0; i < np; i++)
        if (coord_node_up(co, (int)pl[i]))
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
    sib_init(&q->newer);
    vc_init(&q->stamped);
    q->start_us = clock_mono_us();
    return q;
}

static void read_repair(struct creq *q);
static void supersede(struct creq *q);

static void creq_free(struct creq *q)
{
    if (q->kind == CREQ_READ && q->ans_set)
        read_repair(q);
    if (q->kind == CREQ_WRITE && q->newer.n > 0 && (q->wflags & COORD_W_SUPERSEDE))
        supersede(q);
    sib_fini(&q->newer);
    val_unref(q->val);
    for (int i = 0; i < q->nans; i++)
        sib_fini(&q->ans_set[i]);
    mem_free(q->ans_set);
    sib_fini(&q->merged);
    vc_fini(&q->stamped);
    buf_fini(&q->enc);
    mem_free(q->key);
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
    co->stats.replica_latency_us += (uint64_t)(clock_mono_us() - start_us);
}

/* Nodes of a preference list other than this one. */
static unsigned remote_count(const struct coord *co, const unsigned *pl, unsigned np)
{
    unsigned n = 0;
    for (unsigned i = 0; i < np; i++)
        n += (int)pl[i] != co->node->self_idx;
    return n;
}

bool coord_node_up(struct coord *co, int idx)
{
    struct kv_node *n = co->node;
    if (idx == n->self_idx)
        return true;
    if (!n->peers || !peers_up(n->peers, idx))
        return false;
    return !n->gossip || gossip_state(n->gossip, idx) != GOSSIP_DEAD;
}

bool coord_can_reach_quorum(struct coord *co, const void *key, size_t klen, int w)
{
    struct kv_node *n = co->node;
    (void)key;
    (void)klen;
    if (!n->peers)
        return true;
    /* Sloppy quorum: any healthy nodes can hold the N copies, owners or
     * substitutes, so what matters is how many nodes are reachable. */
    int up = 0;
    for (int i = 0; i < n->cfg.nnodes; i++)
        up += ring_is_member(n->ring, (unsigned)i) && coord_node_up(co, i);
    int reach = up < n->cfg.n ? up : n->cfg.n;
    return reach >= (w > 0 ? w : n->cfg.w);
}

/* ---- reads ---- */

static void on_replica_get(void *arg, int err, const struct peer_reply *rep)
{
    struct rput *rp = arg;
    struct creq *q = rp->q;
    q->pending--;
    if (!err && rep && rep->type == PEER_R_BULK) {
        struct sibset *set = &q->ans_set[q->nans];
        if (sib_decode(set, rep->str, rep->len,
                       (size_t)q->co->node->cfg.proto_max_bulk_len) == 0) {
            sib_merge(&q->merged, set);
            q->ans_node[q->nans++] = rp->owner;
            q->acks++;
            record_latency(q->co, q->start_us);
        } else {
            sib_clear(set);
            q->fails++;
        }
    } else {
        q->fails++;
    }
    mem_free(rp);
    creq_progress(q);
}

static void repair_done(void *arg, int err, const struct peer_reply *rep)
{
    (void)arg;
    (void)err;
    (void)rep;
}

/* Read repair (Dynamo §4.7): once every replica answered or timed out, the
 * replicas whose answer did not cover the reconciled set get it. */
static void read_repair(struct creq *q)
{
    struct kv_node *n = q->co->node;
    /* A union of replicas' sets past the codecs' limit would be refused by
     * every receiver (and by this node's store): nothing to repair with. */
    if (q->merged.n == 0 || q->merged.n > SIB_MAX_VERSIONS)
        return;
    struct buf enc;
    buf_init(&enc);
    for (int i = 0; i < q->nans; i++) {
        if (sib_covers(&q->ans_set[i], &q->merged))
            continue;
        q->co->stats.read_repairs++;
        if (q->ans_node[i] == n->self_idx) {
            replica_put_set(n, q->key, q->klen, &q->merged);
            continue;
        }
        if (enc.len == 0)
            sib_encode(&q->merged, &enc);
        const char *argv[3] = {"PPUT", q->key, enc.data};
        size_t lens[3] = {4, q->klen, enc.len};
        peers_send(n->peers, q->ans_node[i], PEER_CHAN_DATA, n->cfg.put_timeout_ms, repair_done,
                   NULL, 3, argv, lens);
    }
    buf_fini(&enc);
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
    q->key = mem_memdup(key, klen);
    q->klen = klen;
    q->ans_set = mem_alloc((np ? np : 1) * sizeof(*q->ans_set));
    for (unsigned i = 0; i < np; i++)
        sib_init(&q->ans_set[i]);
    for (unsigned i = 0; i < np; i++) {
        if ((int)pl[i] == n->self_idx) {
            struct sibset *local = &q->ans_set[q->nans];
            coord_local_load(co, key, klen, local);
            sib_merge(&q->merged, local);
            q->ans_node[q->nans++] = n->self_idx;
            q->acks++;
        }
    }
    const char *argv[2] = {"PGET", key};
    size_t lens[2] = {4, klen};
    for (unsigned i = 0; i < np; i++)
        if ((int)pl[i] != n->self_idx) {
            struct rput *rp = mem_calloc(1, sizeof(*rp));
            rp->q = q;
            rp->owner = (int)pl[i];
            peers_send(n->peers, (int)pl[i], PEER_CHAN_DATA, timeout_ms, on_replica_get, rp, 2,
                       argv, lens);
        }
    q->pending--;
    bool sync = q->answered || q->acks >= q->needed || q->acks + q->pending < q->needed;
    creq_progress(q);
    return sync ? 0 : 1;
}

int coord_read_for_write(struct coord *co, const void *key, size_t klen, bool fresh,
                         coord_read_cb cb, void *arg)
{
    struct kv_node *n = co->node;
    const struct store_entry *e = store_find(n->store, key, klen);
    unsigned pl[CFG_MAX_NODES];
    if ((e && !fresh) || !n->peers ||
        remote_count(co, pl, coord_preflist(co, key, klen, pl)) == 0) {
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

/* Builds the new version's clock and dot (see coord.h) into v, and the
 * context its writer is given back into reply.  Returns 0, KV_EBADCTX (a
 * context naming counters this node never issued) or KV_EMAXSIB.
 * Allocates v's clock and reply, which becomes the request's stamped
 * clock (the single-use-actor stamping it replaces allocated three). */
static int stamp(struct coord *co, const void *key, size_t klen, const struct sibset *local,
                 const struct vclock *ctx, bool owner, bool client_ctx, struct version *v,
                 struct vclock *reply)
{
    struct kv_node *node = co->node;
    uint32_t self = node->actor;
    /* The highest counter this actor issued for the key, as far as the
     * versions stored here tell (an owner stores every write it stamps). */
    uint64_t issued = 0;
    for (uint32_t i = 0; i < local->n; i++) {
        uint64_t c = vc_counter(&local->v[i].vc, self);
        if (c > issued)
            issued = c;
    }
    if (!ctx) {
        sib_context(local, reply); /* SET/DEL: everything stored here */
        ctx = reply;
    }
    uint64_t cself = vc_counter(ctx, self);
    /* A context claiming more of this actor's writes than it issued is
     * forged (or from a previous life of the key, which a stored copy
     * rules out): taking it would let this write cover writes still to
     * come here.  Without a stored copy nothing is known: the dot then goes
     * above the context, so it still cannot equal anything stored. */
    if (client_ctx && owner && local->n > 0 && cself > issued)
        return KV_EBADCTX;
    uint64_t counter = (issued > cself ? issued : cself) + 1;
    if (!owner) {
        /* Not stored here: a node-wide floor keeps the dots unique. */
        if (counter <= co->sloppy_floor)
            counter = co->sloppy_floor + 1;
        co->sloppy_floor = counter;
    }
    if (counter > VC_MAX_COUNTER)
        return KV_EBADCTX; /* only a context at the codec's cap gets here */
    uint64_t now = (uint64_t)clock_now_ms();
    version_set_dot(v, ctx, self, counter, now);
    /* Prune the context, never the dot: its entry is made the newest. */
    if (v->vc.n > (uint32_t)node->cfg.vclock_max_entries) {
        for (uint32_t i = 0; i < v->vc.n; i++)
            if (v->vc.e[i].actor == self)
                v->vc.e[i].ts_ms = UINT64_MAX;
        vc_prune(&v->vc, (unsigned)node->cfg.vclock_max_entries);
        for (uint32_t i = 0; i < v->vc.n; i++)
            if (v->vc.e[i].actor == self)
                v->vc.e[i].ts_ms = now;
        /* dot_base stays: a pruned actor is not the dot's (it was kept) */
    }
    /* max-siblings (siblings.h): versions left beside this one. */
    uint32_t left = 1;
    for (uint32_t i = 0; i < local->n; i++)
        left += !version_seen_by(&local->v[i], v);
    if (left > (uint32_t)node->cfg.siblings_warn) {
        co->stats.sibling_warnings++;
        int64_t ms = clock_mono_us() / 1000;
        if (ms - co->last_sib_warn_ms >= 1000) {
            char shown[65]; /* the key's first bytes, printable only */
            size_t k = 0;
            for (; k < klen && k < sizeof(shown) - 1; k++) {
                unsigned char ch = ((const unsigned char *)key)[k];
                shown[k] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
            }
            shown[k] = '\0';
            log_warn("key '%s' would hold %u siblings (siblings-warn %d, max-siblings %d); "
                     "%llu more such writes not logged",
                     shown, left,
                     node->cfg.siblings_warn, node->cfg.max_siblings,
                     (unsigned long long)co->sib_warns_quiet);
            co->last_sib_warn_ms = ms;
            co->sib_warns_quiet = 0;
        } else {
            co->sib_warns_quiet++;
        }
    }
    if (left > (uint32_t)node->cfg.max_siblings && left > local->n) {
        co->stats.sibling_writes_refused++;
        return KV_EMAXSIB;
    }
    /* The context handed back: the new clock when it names exactly what
     * the write saw; when the dot skipped counters (writes of this actor
     * the writer did not see, still siblings) the dot is left out, so a
     * later write with this context cannot cover them unseen. */
    vc_copy(reply, &v->vc);
    if (v->dot_base + 1 != counter) {
        uint32_t w = 0;
        for (uint32_t i = 0; i < reply->n; i++) {
            if (reply->e[i].actor == self) {
                if (!v->dot_base)
                    continue;
                reply->e[i].counter = v->dot_base;
            }
            reply->e[w++] = reply->e[i];
        }
        reply->n = w;
    }
    return 0;
}

/* The next node past the owners that is up and holds no copy of this write
 * yet (sloppy quorum); -1 when there is none. */
static int next_substitute(struct creq *q)
{
    while (q->next_sub < q->nwalk) {
        int cand = (int)q->walk[q->next_sub++];
        if (!q->used[cand] && coord_node_up(q->co, cand)) {
            q->used[cand] = true;
            return cand;
        }
    }
    return -1;
}

static void send_put(struct creq *q, int target, int owner);
static void hint_here(struct creq *q, int owner, bool counts);

static void ignore_write(void *arg, int err, const struct vclock *vc)
{
    (void)arg;
    (void)err;
    (void)vc;
}

/* A plain write (SET/DEL) met replicas holding versions it did not cover:
 * this coordinator's copy was stale (it was partitioned, or restarted, and
 * hints or anti-entropy had not caught up).  Redis semantics say the later
 * SET wins, so write the same value again with a context that covers them —
 * unless something newer was stamped here meanwhile (then that write runs
 * this same check itself). */
static void supersede(struct creq *q)
{
    struct coord *co = q->co;
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, q->key, q->klen, &local);
    struct vclock lctx;
    vc_init(&lctx);
    sib_context(&local, &lctx);
    bool unchanged = local.n == 0 || vc_compare(&lctx, &q->stamped) == VC_EQUAL;
    if (unchanged && !sib_covers(&local, &q->newer)) {
        struct vclock ctx;
        vc_init(&ctx);
        sib_context(&q->newer, &ctx);
        vc_merge(&ctx, &q->stamped);
        vc_merge(&ctx, &lctx);
        co->stats.superseding_writes++;
        coord_write(co, q->key, q->klen, &ctx, q->val, q->expire_ms, 0, 0, 0, ignore_write, NULL);
        vc_fini(&ctx);
    }
    vc_fini(&lctx);
    sib_fini(&local);
}

static void on_replica_put(void *arg, int err, const struct peer_reply *rep)
{
    struct rput *rp = arg;
    struct creq *q = rp->q;
    if (!err && rep && rep->type != PEER_R_ERROR) {
        q->pending--;
        q->acks++;
        record_latency(q->co, q->start_us);
        if (rep->type == PEER_R_BULK && !rp->hint) {
            /* the replica holds versions this write does not cover */
            struct sibset more;
            sib_init(&more);
            if (sib_decode(&more, rep->str, rep->len,
                           (size_t)q->co->node->cfg.proto_max_bulk_len) == 0)
                sib_merge(&q->newer, &more);
            sib_fini(&more);
        }
    } else if (!rp->hint && q->key) {
        /* The owner did not take it: hand it to a substitute with a hint
         * naming the owner.  (pending stays: the hint replaces this one.) */
        int sub = next_substitute(q);
        if (sub >= 0) {
            q->co->stats.hinted_writes++;
            send_put(q, sub, rp->owner);
        } else {
            hint_here(q, rp->owner, false);
        }
    } else {
        q->pending--;
        q->fails++;
    }
    mem_free(rp);
    creq_progress(q);
}

/* Keeps the write here as a hint for owner, answering one pending copy.
 * counts: this node is a distinct substitute, so the copy counts toward W.
 * When no node outside the owners is left (three nodes, N = 3), this node
 * still keeps the hint so the owner gets the write when it returns — but an
 * owner holding a second copy does not make the write more durable, so that
 * copy does not count. */
static void hint_here(struct creq *q, int owner, bool counts)
{
    struct kv_node *n = q->co->node;
    struct sibset set;
    sib_init(&set);
    bool ok = n->hh && sib_decode(&set, q->enc.data, q->enc.len, SIZE_MAX) == 0 &&
              hh_add(n->hh, owner, q->key, q->klen, &set);
    sib_fini(&set);
    if (ok && !counts)
        q->co->stats.hinted_writes++;
    q->pending--;
    if (ok && counts)
        q->acks++;
    else
        q->fails++;
}

/* Sends the write to target: as PPUT when target is the owner, else as
 * PHINT naming the owner.  The caller counted it in q->pending. */
static void send_put(struct creq *q, int target, int owner)
{
    struct kv_node *n = q->co->node;
    if (target == n->self_idx) {
        hint_here(q, owner, true);
        return;
    }
    struct rput *rp = mem_calloc(1, sizeof(*rp));
    rp->q = q;
    rp->owner = owner;
    rp->hint = target != owner;
    int t = q->timeout_ms;
    if (rp->hint) {
        const char *oname = n->cfg.nodes[owner].name;
        const char *argv[4] = {"PHINT", oname, q->key, q->enc.data};
        size_t lens[4] = {5, strlen(oname), q->klen, q->enc.len};
        peers_send(n->peers, target, PEER_CHAN_DATA, t, on_replica_put, rp, 4, argv, lens);
    } else {
        const char *argv[3] = {"PPUT", q->key, q->enc.data};
        size_t lens[3] = {4, q->klen, q->enc.len};
        peers_send(n->peers, target, PEER_CHAN_DATA, t, on_replica_put, rp, 3, argv, lens);
    }
}

int coord_write(struct coord *co, const void *key, size_t klen, const struct vclock *ctx,
                struct val *val, int64_t expire_ms, int w, int timeout_ms, unsigned flags,
                coord_write_cb cb, void *arg)
{
    struct kv_node *n = co->node;
    unsigned walk[CFG_MAX_NODES];
    /* The walk of the ring from the key: the first N distinct nodes own it;
     * the ones after them are the substitutes of the sloppy quorum. */
    unsigned nwalk = ring_walk(n->ring, ring_hash(key, klen), ring_nmembers(n->ring), walk);
    unsigned nowners = (unsigned)n->cfg.n < nwalk ? (unsigned)n->cfg.n : nwalk;
    bool self_owner = false;
    for (unsigned i = 0; i < nowners; i++)
        self_owner |= (int)walk[i] == n->self_idx;
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, key, klen, &local);
    struct version v;
    version_init(&v);
    v.val = val_ref(val);
    v.expire_ms = expire_ms;
    struct vclock reply;
    vc_init(&reply);
    int err = stamp(co, key, klen, &local, ctx, self_owner || nwalk == 0,
                    ctx && (flags & COORD_W_CLIENT_CTX), &v, &reply);
    if (err) {
        /* refused before anything was stored or sent */
        version_fini(&v);
        vc_fini(&reply);
        sib_fini(&local);
        cb(arg, err, NULL);
        return 0;
    }
    struct creq *q = creq_create(co, CREQ_WRITE, w > 0 ? w : n->cfg.w);
    q->wcb = cb;
    q->arg = arg;
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : n->cfg.put_timeout_ms;
    q->wflags = flags;
    q->val = val_ref(val);
    q->expire_ms = expire_ms;
    vc_move(&q->stamped, &reply);
    memcpy(q->walk, walk, sizeof(walk));
    q->nwalk = nwalk;
    q->nowners = nowners;
    q->next_sub = q->nowners;
    for (unsigned i = 0; i < q->nowners; i++)
        q->used[q->walk[i]] = true;
    /* The coordinator keeps what it stamped (its next stamp for this key
     * must see it) when it owns the key; otherwise it only coordinates
     * because the owners look down, and holds the write as a hint below. */
    int self_rc = 0; /* this node's own copy: refused (< 0) is not an ack */
    if (self_owner || q->nwalk == 0)
        self_rc = replica_put(n, key, klen, &v); /* logged before anyone hears of it */
    if (q->nwalk > 1 || !self_owner) {
        /* The replicas get the whole set as it is here after the write, not
         * the new version alone: a dot that skipped counters of this actor
         * must travel with the versions it skipped (or what covers them),
         * or a replica could hand out a context covering writes it never
         * held (siblings.h).  For a write that superseded everything this
         * is the one new version, as before. */
        sib_add_move(&local, &v);
        sib_encode(&local, &q->enc);
        q->key = mem_memdup(key, klen);
        q->klen = klen;
    }
    sib_fini(&local);
    version_fini(&v);
    q->pending = 1 + (int)q->nowners; /* every owner's answer, and a guard */
    for (unsigned i = 0; i < q->nowners; i++) {
        int owner = (int)q->walk[i];
        if (owner == n->self_idx) {
            q->pending--;
            if (self_rc < 0)
                q->fails++;
            else
                q->acks++;
        } else if (coord_node_up(co, owner)) {
            send_put(q, owner, owner);
        } else {
            int sub = next_substitute(q);
            if (sub < 0 && !self_owner && !q->used[n->self_idx]) {
                q->used[n->self_idx] = true; /* a distinct node: counts */
                sub = n->self_idx;
            }
            if (sub >= 0) {
                co->stats.hinted_writes++;
                send_put(q, sub, owner);
            } else {
                hint_here(q, owner, false);
            }
        }
    }
    if (q->nwalk == 0) {
        if (self_rc < 0)
            q->fails++;
        else
            q->acks++;
    }
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
