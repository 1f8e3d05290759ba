/* coord.c — request coordination (Dynamo §4.5): the I/O shell around the
 * quorum core (core/quorum.h).
 *
 * Owns: one struct creq per quorum read or write in flight (the core's
 * state plus what its I/O needs: the key, the encoded copy, the caller's
 * callback), the counter floor for writes it coordinates without owning
 * the key, and the siblings-warn log rate limit; and forwarding (one
 * struct cfwd per client command sent to its key's coordinator as PFWD:
 * which node coordinates, the deadline it carries, the failover rule).
 * Callers: cmd/ (cmd_kv reads and writes, cmd_keyspace, cmd_conn, cmd_peer,
 * cmd_fwd forwarding),
 * main.c (create/destroy).  Preference lists, owner ranks and liveness are
 * members.h's (ae, xfer, reaper and cmd/ ask there).
 * Calls: quorum (every rule: accounting, stamping, substitutes, hints, read
 * repair, supersede), members (preference lists, liveness, the ring), ring
 * (the walk), store / replica
 * (the local copy), handoff (hints kept here), peer (remote replicas).
 *
 * The shell builds the core's inputs (the ring walk of the key, liveness
 * through members_node_up, the versions stored here), feeds it every answer,
 * and performs what it decides: send PPUT/PHINT, keep a hint, answer the
 * caller, repair a replica, redo a write over a stale coordinator's copy.
 * A request asks every node of the key's preference list (itself directly,
 * the others over the peer channel, concurrently).  It stays alive until
 * every replica answered or timed out (peer.c guarantees one callback
 * each), so late replies land in a live record; they are merged into the
 * read result (for read repair) and otherwise ignored.
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
#include "core/quorum.h"
#include "cluster/handoff.h"
#include "cluster/members.h"
#include "core/config.h"
#include "storage/aof.h"
#include "storage/replica.h"
#include "net/peer.h"
#include "core/ring.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

struct coord {
    struct coord_deps d;
    uint64_t sloppy_floor;   /* highest dot counter issued for a key this node
                                does not own (and so does not store) */
    int64_t last_sib_warn_ms;/* siblings-warn log lines: at most one a second */
    uint64_t sib_warns_quiet;/* warnings not logged since the last line */
    struct coord_stats stats;
};

static_assert(SIB_MAX_SIBLINGS_CAP == 512, "config.c's max-siblings bound");
static_assert(SIB_MAX_SIBLINGS_CAP * 2 <= SIB_MAX_VERSIONS, "room above the cap");

static_assert(QUORUM_MAX_NODES == CFG_MAX_NODES, "the quorum core's node bound");

enum creq_kind {
    CREQ_READ = 0,
    CREQ_WRITE,
    CREQ_KIND_COUNT
};

/* The I/O side of one request; its rules live in rd / wr (core/quorum.h). */
struct creq {
    struct coord *co;
    enum creq_kind kind;
    coord_read_cb rcb;
    coord_write_cb wcb;
    void *arg;
    union {
        struct quorum_read rd;   /* CREQ_READ */
        struct quorum_write wr;  /* CREQ_WRITE */
    };
    struct vclock stamped;   /* write: the new version's clock */
    int64_t start_us;
    int timeout_ms;
    /* plain writes: what a superseding write needs */
    unsigned wflags;
    struct val *val;
    int64_t expire_ms;
    /* the key, and (writes) the encoded set every copy carries */
    char *key;
    size_t klen;
    struct buf enc;
};

/* One replica request: what was sent to which node. */
struct rput {
    struct creq *q;
    struct quorum_act a;     /* reads: target only */
};

struct coord *coord_create(const struct coord_deps *deps)
{
    struct coord *co = mem_calloc(1, sizeof(*co));
    co->d = *deps;
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
    const struct store_entry *e = store_find(co->d.store, key, klen);
    if (e)
        store_entry_load(e, out);
}

static struct creq *creq_create(struct coord *co, enum creq_kind kind)
{
    struct creq *q = mem_calloc(1, sizeof(*q));
    q->co = co;
    q->kind = kind;
    vc_init(&q->stamped);
    q->start_us = clock_mono_us();
    return q;
}

static struct quorum *creq_acct(struct creq *q)
{
    return q->kind == CREQ_READ ? &q->rd.acct : &q->wr.acct;
}

static void read_repair(struct creq *q);
static void supersede(struct creq *q);

static void creq_free(struct creq *q)
{
    if (q->kind == CREQ_READ) {
        read_repair(q);
        quorum_read_fini(&q->rd);
    } else {
        if (q->wr.newer.n > 0 && (q->wflags & COORD_W_SUPERSEDE))
            supersede(q);
        quorum_write_fini(&q->wr);
    }
    val_unref(q->val);
    vc_fini(&q->stamped);
    buf_fini(&q->enc);
    mem_free(q->key);
    mem_free(q);
}

/* Answers the caller when the quorum core says so; frees the record when
 * nothing is outstanding.  Returns true if freed. */
static bool creq_progress(struct creq *q)
{
    struct quorum *acct = creq_acct(q);
    enum quorum_verdict v = quorum_poll(acct);
    if (v != QUORUM_WAIT) {
        int err = v == QUORUM_MET ? 0 : KV_ENOQUORUM;
        if (err)
            q->co->stats.quorum_failures++;
        if (q->kind == CREQ_READ)
            q->rcb(q->arg, err, err ? NULL : &q->rd.merged);
        else
            q->wcb(q->arg, err, err ? NULL : &q->stamped);
    }
    if (quorum_done(acct)) {
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
        n += (int)pl[i] != co->d.self_idx;
    return n;
}

/* members_node_up as the quorum core's liveness predicate. */
static bool node_up(void *co, int idx)
{
    return members_node_up(((struct coord *)co)->d.members, idx);
}

/* ---- reads ---- */

static void on_replica_get(void *arg, int err, const struct peer_reply *rep)
{
    struct rput *rp = arg;
    struct creq *q = rp->q;
    struct replica *local = q->co->d.replica;
    /* [versions, epoch]: the replica knows a flush this node missed (PGET in
     * cmd_peer.c).  Learn it first: this node drops what it holds from
     * before it, and so does the read, before anything is answered. */
    if (!err && rep && rep->type == PEER_R_ARRAY && rep->nelem == 2 &&
        rep->elem[1].type == PEER_R_INT && rep->elem[1].integer > 0 &&
        rep->elem[1].integer <= UINT32_MAX) {
        uint32_t e = (uint32_t)rep->elem[1].integer;
        if (e > replica_epoch(local))
            replica_flush_to(local, e, "learnt from a replica's answer");
        quorum_read_drop_before(&q->rd, replica_epoch(local));
        rep = &rep->elem[0];
    }
    struct sibset set;
    sib_init(&set);
    if (!err && rep && rep->type == PEER_R_BULK &&
        sib_decode(&set, rep->str, rep->len, (size_t)q->co->d.cfg->proto_max_bulk_len) == 0) {
        /* a replica that has not learnt of a flush yet may still hold
         * what it removed: never read back, never repaired onto others */
        sib_drop_before(&set, replica_epoch(local));
        quorum_read_answer(&q->rd, rp->a.target, &set);
        record_latency(q->co, q->start_us);
    } else {
        quorum_read_answer(&q->rd, rp->a.target, NULL);
    }
    sib_fini(&set);
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
 * replicas the quorum core names (their answer did not cover the reconciled
 * set) get it. */
static void read_repair(struct creq *q)
{
    const struct coord_deps *n = &q->co->d;
    int stale[QUORUM_MAX_NODES];
    unsigned nstale = quorum_read_repairs(&q->rd, stale);
    struct buf enc;
    buf_init(&enc);
    for (unsigned i = 0; i < nstale; i++) {
        q->co->stats.read_repairs++;
        if (stale[i] == n->self_idx) {
            replica_put_set(n->replica, q->key, q->klen, &q->rd.merged);
            continue;
        }
        if (enc.len == 0)
            sib_encode(&q->rd.merged, &enc);
        const char *argv[3] = {"PPUT", q->key, enc.data};
        size_t lens[3] = {4, q->klen, enc.len};
        peers_send(n->peers, stale[i], PEER_CHAN_DATA, n->cfg->put_timeout_ms, repair_done, NULL,
                   3, argv, lens);
    }
    buf_fini(&enc);
}

static int read_quorum(struct coord *co, const void *key, size_t klen, int r, int pr,
                       int timeout_ms, coord_read_cb cb, void *arg);

int coord_read(struct coord *co, const void *key, size_t klen, int r, int pr, coord_read_cb cb,
               void *arg)
{
    return read_quorum(co, key, klen, r, pr, co->d.cfg->get_timeout_ms, cb, arg);
}

/* The walk of the ring from the key's slot: the first nowners (N) distinct nodes
 * own it; the ones after them are the substitutes of the sloppy quorum.
 * Returns nwalk (0 without a ring: a lone node). */
static unsigned key_walk(const struct coord *co, const void *key, size_t klen, unsigned *walk,
                         unsigned *nowners)
{
    const struct ring *ring = members_ring(co->d.members);
    unsigned nwalk = ring_preflist(ring, key, klen, ring_nmembers(ring), walk); /* by its slot */
    *nowners = (unsigned)co->d.cfg->n < nwalk ? (unsigned)co->d.cfg->n : nwalk;
    return nwalk;
}

/* This node's versions of key for a read: its store, and the hints it
 * keeps for the key's owners (a substitute answers with what it holds in
 * their place). */
static void local_read(struct coord *co, const void *key, size_t klen, struct sibset *out)
{
    coord_local_load(co, key, klen, out);
    if (co->d.hh)
        hh_merge_hints(co->d.hh, key, klen, out);
}

static int read_quorum(struct coord *co, const void *key, size_t klen, int r, int pr,
                       int timeout_ms, coord_read_cb cb, void *arg)
{
    const struct coord_deps *n = &co->d;
    unsigned walk[CFG_MAX_NODES], targets[CFG_MAX_NODES], nowners;
    bool primary[CFG_MAX_NODES];
    unsigned nwalk = key_walk(co, key, klen, walk, &nowners);
    /* Sloppy reads: the first N healthy nodes of the walk (quorum.h). */
    unsigned nt = quorum_read_targets(walk, nwalk, nowners, n->self_idx, node_up, co, targets,
                                      primary);
    if (nwalk == 0) { /* a lone node owns every key */
        targets[0] = (unsigned)n->self_idx;
        primary[0] = true;
        nt = nowners = 1;
    }
    struct creq *q = creq_create(co, CREQ_READ);
    q->rcb = cb;
    q->arg = arg;
    /* Every answer is expected before the first is counted: a peer that is
     * down answers inside peers_send, and the quorum test must already see
     * the replicas still to come (the core's guard keeps the record until
     * the loop is over). */
    quorum_read_init(&q->rd, r > 0 ? r : n->cfg->r, pr > 0 ? pr : n->cfg->pr, targets, primary,
                     nt, nowners);
    q->key = mem_memdup(key, klen);
    q->klen = klen;
    for (unsigned i = 0; i < nt; i++) {
        if ((int)targets[i] == n->self_idx) {
            struct sibset mine;
            sib_init(&mine);
            local_read(co, key, klen, &mine);
            quorum_read_answer(&q->rd, n->self_idx, &mine);
            sib_fini(&mine);
        }
    }
    /* with this node's flush epoch: a replica that knows a later one says so */
    char ep[16];
    int eplen = snprintf(ep, sizeof(ep), "%u", replica_epoch(n->replica));
    const char *argv[3] = {"PGET", key, ep};
    size_t lens[3] = {4, klen, (size_t)eplen};
    for (unsigned i = 0; i < nt; i++)
        if ((int)targets[i] != n->self_idx) {
            struct rput *rp = mem_calloc(1, sizeof(*rp));
            rp->q = q;
            rp->a.target = (int)targets[i];
            peers_send(n->peers, (int)targets[i], PEER_CHAN_DATA, timeout_ms, on_replica_get,
                       rp, 3, argv, lens);
        }
    quorum_seal(&q->rd.acct);
    bool sync = quorum_settled(&q->rd.acct);
    creq_progress(q);
    return sync ? 0 : 1;
}

int coord_read_for_write(struct coord *co, const void *key, size_t klen, bool fresh,
                         coord_read_cb cb, void *arg)
{
    const struct coord_deps *n = &co->d;
    const struct store_entry *e = store_find(n->store, key, klen);
    unsigned pl[CFG_MAX_NODES];
    if ((e && !fresh) || !n->peers ||
        remote_count(co, pl, members_preflist(n->members, key, klen, pl)) == 0) {
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
    int t = n->cfg->put_timeout_ms / 2;
    return read_quorum(co, key, klen, 0, 0, t > 0 ? t : 1, cb, arg);
}

/* ---- writes ---- */

/* siblings-warn (siblings.h): a write leaving `left` versions is counted
 * and logged, at most one line a second. */
static void warn_siblings(struct coord *co, const void *key, size_t klen, uint32_t left)
{
    const struct coord_deps *node = &co->d;
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
                 node->cfg->siblings_warn, node->cfg->max_siblings,
                 (unsigned long long)co->sib_warns_quiet);
        co->last_sib_warn_ms = ms;
        co->sib_warns_quiet = 0;
    } else {
        co->sib_warns_quiet++;
    }
}

static void perform(struct creq *q, struct quorum_act a);

static void ignore_write(void *arg, int err, const struct vclock *vc)
{
    (void)arg;
    (void)err;
    (void)vc;
}

/* A plain write (SET/DEL) met replicas holding versions it did not cover:
 * this coordinator's copy was stale (it was partitioned, or restarted, and
 * hints or anti-entropy had not caught up).  Redis semantics say the later
 * SET wins, so when the quorum core says so (quorum_supersede) the same
 * value is written again with a context that covers them. */
static void supersede(struct creq *q)
{
    struct coord *co = q->co;
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, q->key, q->klen, &local);
    struct vclock ctx;
    vc_init(&ctx);
    if (quorum_supersede(&local, &q->stamped, &q->wr.newer, &ctx)) {
        co->stats.superseding_writes++;
        coord_write(co, q->key, q->klen, &ctx, q->val, q->expire_ms, 0, 0, 0, 0, ignore_write,
                    NULL);
    }
    vc_fini(&ctx);
    sib_fini(&local);
}

static void on_replica_put(void *arg, int err, const struct peer_reply *rep)
{
    struct rput *rp = arg;
    struct creq *q = rp->q;
    bool ok = !err && rep && rep->type != PEER_R_ERROR;
    struct sibset more; /* an owner holding versions this write does not cover */
    sib_init(&more);
    bool has_more = false;
    if (ok) {
        record_latency(q->co, q->start_us);
        if (rep->type == PEER_R_BULK && rp->a.kind == QUORUM_ACT_PUT &&
            sib_decode(&more, rep->str, rep->len,
                       (size_t)q->co->d.cfg->proto_max_bulk_len) == 0) {
            sib_drop_before(&more, replica_epoch(q->co->d.replica)); /* flushed */
            has_more = more.n > 0;
        }
    }
    struct quorum_act next =
        quorum_write_reply(&q->wr, &rp->a, ok, has_more ? &more : NULL, node_up, q->co);
    sib_fini(&more);
    mem_free(rp);
    perform(q, next);
    creq_progress(q);
}

/* Keeps the write here as a hint for owner (handoff.c delivers it when the
 * owner is back).  Returns false when it could not be kept. */
static bool hint_here(struct creq *q, int owner)
{
    const struct coord_deps *n = &q->co->d;
    struct sibset set;
    sib_init(&set);
    bool ok = n->hh && sib_decode(&set, q->enc.data, q->enc.len, SIZE_MAX) == 0 &&
              hh_add(n->hh, owner, q->key, q->klen, &set);
    sib_fini(&set);
    return ok;
}

/* Sends the write to a.target: as PPUT to its owner, else as PHINT naming
 * the owner. */
static void send_copy(struct creq *q, struct quorum_act a)
{
    const struct coord_deps *n = &q->co->d;
    struct rput *rp = mem_calloc(1, sizeof(*rp));
    rp->q = q;
    rp->a = a;
    int t = q->timeout_ms;
    if (a.kind == QUORUM_ACT_HINT) {
        const char *oname = n->cfg->nodes[a.owner].name;
        const char *argv[4] = {"PHINT", oname, q->key, q->enc.data};
        size_t lens[4] = {5, strlen(oname), q->klen, q->enc.len};
        peers_send(n->peers, a.target, PEER_CHAN_DATA, t, on_replica_put, rp, 4, argv, lens);
    } else {
        const char *argv[3] = {"PPUT", q->key, q->enc.data};
        size_t lens[3] = {4, q->klen, q->enc.len};
        peers_send(n->peers, a.target, PEER_CHAN_DATA, t, on_replica_put, rp, 3, argv, lens);
    }
}

/* Performs one action of the quorum core for a write.  A send may be
 * answered before it returns (a peer that is down), which feeds the core
 * again (on_replica_put). */
static void perform(struct creq *q, struct quorum_act a)
{
    struct coord *co = q->co;
    switch (a.kind) {
    case QUORUM_ACT_PUT:
        send_copy(q, a);
        break;
    case QUORUM_ACT_HINT: /* a substitute: counts toward W */
        co->stats.hinted_writes++;
        if (a.target == co->d.self_idx)
            quorum_write_kept(&q->wr, &a, hint_here(q, a.owner));
        else
            send_copy(q, a);
        break;
    case QUORUM_ACT_KEEP: { /* no substitute: kept here, not counted */
        bool ok = hint_here(q, a.owner);
        if (ok)
            co->stats.hinted_writes++;
        quorum_write_kept(&q->wr, &a, ok);
        break;
    }
    case QUORUM_ACT_NONE:
    case QUORUM_ACT_KIND_COUNT:
        break;
    }
}

/* The second half of every write: this node's own copy is done (self_ok:
 * it was taken, or this node is not an owner), q is set up; sends set
 * (encoded once) to the owners or their substitutes by the quorum core's
 * routes and answers through q's callback.  0 when answered already. */
static int fan_out(struct creq *q, const void *key, size_t klen, const struct sibset *set,
                   const unsigned *walk, unsigned nwalk, unsigned nowners, bool self_ok, int w,
                   int pw)
{
    struct coord *co = q->co;
    const struct coord_deps *n = &co->d;
    bool self_owner = quorum_owns(walk, nowners, n->self_idx);
    quorum_write_init(&q->wr, w > 0 ? w : n->cfg->w, walk, nwalk, nowners, n->self_idx,
                      self_ok);
    quorum_write_need_primaries(&q->wr, pw > 0 ? pw : n->cfg->pw);
    if (nwalk > 1 || !self_owner) {
        sib_encode(set, &q->enc);
        q->key = mem_memdup(key, klen);
        q->klen = klen;
    }
    /* One owner at a time: a send answered at once may use up substitutes
     * before the next owner is routed. */
    for (unsigned i = 0; i < nowners; i++)
        perform(q, quorum_write_route(&q->wr, i, node_up, co));
    quorum_write_seal(&q->wr);
    bool sync = quorum_settled(&q->wr.acct);
    creq_progress(q);
    return sync ? 0 : 1;
}

int coord_write(struct coord *co, const void *key, size_t klen, const struct vclock *ctx,
                struct val *val, int64_t expire_ms, int w, int pw, int timeout_ms,
                unsigned flags, coord_write_cb cb, void *arg)
{
    const struct coord_deps *n = &co->d;
    unsigned walk[CFG_MAX_NODES], nowners;
    unsigned nwalk = key_walk(co, key, klen, walk, &nowners);
    bool self_owner = quorum_owns(walk, nowners, n->self_idx);
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, key, klen, &local);
    struct version v;
    version_init(&v);
    v.val = val_ref(val);
    v.expire_ms = expire_ms;
    struct vclock reply;
    vc_init(&reply);
    struct quorum_stamp st = {
        .actor = n->actor,
        .owner = self_owner || nwalk == 0,
        .client_ctx = ctx && (flags & COORD_W_CLIENT_CTX),
        .vclock_max_entries = (unsigned)n->cfg->vclock_max_entries,
        .max_siblings = (unsigned)n->cfg->max_siblings,
        .now_ms = (uint64_t)clock_now_ms(),
        .epoch = replica_epoch(n->replica),
        .sloppy_floor = &co->sloppy_floor,
    };
    int err = quorum_stamp(&st, &local, ctx, &v, &reply);
    if (st.siblings > (uint32_t)n->cfg->siblings_warn)
        warn_siblings(co, key, klen, st.siblings);
    if (err == KV_EMAXSIB)
        co->stats.sibling_writes_refused++;
    if (err) {
        /* refused before anything was stored or sent */
        version_fini(&v);
        vc_fini(&reply);
        sib_fini(&local);
        cb(arg, err, NULL);
        return 0;
    }
    struct creq *q = creq_create(co, CREQ_WRITE);
    q->wcb = cb;
    q->arg = arg;
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : n->cfg->put_timeout_ms;
    q->wflags = flags;
    q->val = val_ref(val);
    q->expire_ms = expire_ms;
    vc_move(&q->stamped, &reply);
    /* The coordinator keeps what it stamped (its next stamp for this key
     * must see it) when it owns the key; otherwise it only coordinates
     * because the owners look down, and holds the write as a hint below. */
    int self_rc = 0; /* this node's own copy: refused (< 0) is not an ack */
    if (self_owner || nwalk == 0)
        self_rc = replica_put(n->replica, key, klen, &v); /* logged before anyone hears of it */
    if (nwalk > 1 || !self_owner)
        /* The replicas get the whole set as it is here after the write, not
         * the new version alone: a dot that skipped counters of this actor
         * must travel with the versions it skipped (or what covers them),
         * or a replica could hand out a context covering writes it never
         * held (siblings.h).  For a write that superseded everything this
         * is the one new version, as before. */
        sib_add_move(&local, &v);
    version_fini(&v);
    int rc = fan_out(q, key, klen, &local, walk, nwalk, nowners, self_rc >= 0, w, pw);
    sib_fini(&local);
    return rc;
}

int coord_write_delta(struct coord *co, const void *key, size_t klen, const struct sibset *delta,
                      bool self_ok, int w, int pw, int timeout_ms, coord_write_cb cb, void *arg)
{
    const struct coord_deps *n = &co->d;
    unsigned walk[CFG_MAX_NODES], nowners;
    unsigned nwalk = key_walk(co, key, klen, walk, &nowners);
    struct creq *q = creq_create(co, CREQ_WRITE);
    q->wcb = cb;
    q->arg = arg;
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : n->cfg->put_timeout_ms;
    return fan_out(q, key, klen, delta, walk, nwalk, nowners, self_ok, w, pw);
}

/* ---- forwarding a command to its coordinator ---- */

/* A command on its way to the key's coordinator: the candidates are the
 * preference list from the chosen coordinator on; a candidate that cannot
 * be reached (disconnected) or declines passes the command to the next one
 * (see declined()). */
struct cfwd {
    struct coord *co;
    coord_forward_cb cb;
    void *arg;
    int cands[CFG_MAX_NODES];
    int ncand, next;
    int argc;
    const char **argv;      /* "PFWDR" deadline-ms proto command...; point into blob */
    size_t *lens;
    char *blob;
    char deadline[24];
    bool counts;            /* applying it twice would count twice (INCRBY...) */
};

int coord_route(struct coord *co, const void *key, size_t klen, bool via_peer)
{
    const struct coord_deps *n = &co->d;
    if (!n->peers)
        return COORD_ROUTE_HERE;
    if (via_peer)
        return members_can_reach_quorum(n->members, key, klen, 0) ? COORD_ROUTE_HERE
                                                                   : COORD_ROUTE_DECLINE;
    int t = members_write_target(n->members, key, klen);
    return t == n->self_idx ? COORD_ROUTE_HERE : t;
}

/* Failover rule: the next candidate is tried only when this one certainly
 * did not coordinate the write: its connection was down when the command
 * was to be sent (KV_EDISCONN), or it declined (-NOTCOORD, it cannot reach
 * a write quorum).  A connection lost after the send (KV_ELOST) is passed
 * on too (most often a link left half-open by a peer that restarted, which
 * never got the command), except for a command that counts (an INCRBY
 * applied by both would count twice).  A timeout is no proof at all: the coordinator may be slow, not gone, and a write sent on
 * to the next node would then be applied twice.  The caller gets
 * KV_ENOQUORUM with the outcome unknown, and the deadline carried by PFWD
 * stops a coordinator that wakes up later from applying it. */
static bool declined(const struct peer_reply *rep)
{
    return rep && rep->type == PEER_R_ERROR && rep->len >= 8 &&
           memcmp(rep->str, "NOTCOORD", 8) == 0;
}

static void cfwd_send(struct cfwd *f);

static void cfwd_done(void *arg, int err, const struct peer_reply *rep)
{
    struct cfwd *f = arg;
    if ((err == KV_EDISCONN || (err == KV_ELOST && !f->counts) || (!err && declined(rep))) &&
        f->next + 1 < f->ncand) {
        f->next++;
        cfwd_send(f);
        return;
    }
    struct coord_fwd_result res = {.node = f->cands[f->next]};
    if (err) {
        res.err = KV_ENOQUORUM;
        res.unknown = true;
    } else if (declined(rep)) {
        /* every candidate declined: nothing was written anywhere */
        res.err = KV_ENOQUORUM;
    } else {
        res.rep = rep;
    }
    f->cb(f->arg, &res);
    mem_free(f->blob);
    mem_free(f->argv);
    mem_free(f->lens);
    mem_free(f);
}

static void cfwd_send(struct cfwd *f)
{
    struct coord *co = f->co;
    int t = co->d.cfg->put_timeout_ms;
    /* The coordinator refuses the command once this deadline has passed
     * (wall clock: nodes of a cluster share one well enough for this). */
    int len = snprintf(f->deadline, sizeof(f->deadline), "%lld",
                       (long long)(clock_now_ms() + t));
    f->argv[1] = f->deadline;
    f->lens[1] = (size_t)len;
    co->stats.forwarded++;
    /* A little past put-timeout, so the coordinator's own NOQUORUM (sent at
     * put-timeout) normally arrives before this side gives up. */
    peers_send(co->d.peers, f->cands[f->next], PEER_CHAN_FWD,
               t + (t / 10 < 200 ? t / 10 : 200), cfwd_done, f, f->argc, f->argv, f->lens);
}

void coord_forward_cmd(struct coord *co, const void *key, size_t klen, int target, int proto,
                       bool counts, int argc, const char *const *argv, const size_t *lens,
                       coord_forward_cb cb, void *arg)
{
    struct cfwd *f = mem_calloc(1, sizeof(*f));
    f->co = co;
    f->counts = counts;
    f->cb = cb;
    f->arg = arg;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(co->d.members, key, klen, pl);
    bool on = false;
    for (unsigned i = 0; i < np; i++) {
        on |= (int)pl[i] == target;
        if (on)
            f->cands[f->ncand++] = (int)pl[i];
    }
    if (f->ncand == 0)
        f->cands[f->ncand++] = target;
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += lens[i];
    f->argc = argc + 3;
    f->argv = mem_alloc((size_t)f->argc * sizeof(*f->argv));
    f->lens = mem_alloc((size_t)f->argc * sizeof(*f->lens));
    f->blob = mem_alloc(total ? total : 1);
    f->argv[0] = "PFWDR";
    f->lens[0] = 5;
    f->argv[2] = proto == 3 ? "3" : "2";
    f->lens[2] = 1;
    char *p = f->blob;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i], lens[i]);
        f->argv[i + 3] = p;
        f->lens[i + 3] = lens[i];
        p += lens[i];
    }
    cfwd_send(f);
}
