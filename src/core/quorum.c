/* quorum.c — the Dynamo quorum rules as a pure state machine (quorum.h).
 *
 * Owns: the accounting of one request (struct quorum), the substitute walk
 * and the uncovered versions of a write (struct quorum_write), the answers
 * of a read (struct quorum_read).  Invariants: acks + fails + pending is
 * the number of answers expected (plus the guard until sealed); a request
 * answers its caller exactly once; a node gets at most one copy of a write.
 *
 * Callers: cluster/coord.c (the coordinator shell) and
 * tests/unit/test_quorum.c.  Calls siblings/vclock only; no I/O, no clock
 * (the caller passes the time), nothing blocks.  Work per call is bounded by
 * the ring walk (QUORUM_MAX_NODES) and the sizes of the sets involved.
 */
#include "core/quorum.h"

#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

/* ---- request accounting ---- */

const char *quorum_verdict_name(enum quorum_verdict v)
{
    static const char *const names[QUORUM_VERDICT_COUNT] = {"wait", "met", "missed"};
    return (unsigned)v < QUORUM_VERDICT_COUNT ? names[v] : "?";
}

void quorum_init(struct quorum *q, int needed, int expected)
{
    memset(q, 0, sizeof(*q));
    q->needed = needed;
    q->pending = expected + 1; /* the guard */
}

void quorum_need_primaries(struct quorum *q, int pneeded, int pexpected)
{
    q->pneeded = pneeded;
    q->ppending = pexpected;
}

void quorum_primary_ack(struct quorum *q)
{
    q->ppending--;
    q->packs++;
}

void quorum_primary_fail(struct quorum *q)
{
    q->ppending--;
}

void quorum_ack(struct quorum *q)
{
    q->pending--;
    q->acks++;
}

void quorum_fail(struct quorum *q)
{
    q->pending--;
    q->fails++;
}

void quorum_seal(struct quorum *q)
{
    q->pending--;
}

static bool met(const struct quorum *q)
{
    return q->acks >= q->needed && q->packs >= q->pneeded;
}

/* Even if every answer still expected counts, too few would. */
static bool lost(const struct quorum *q)
{
    return !met(q) &&
           (q->acks + q->pending < q->needed || q->packs + q->ppending < q->pneeded);
}

enum quorum_verdict quorum_poll(struct quorum *q)
{
    if (q->answered)
        return QUORUM_WAIT;
    if (met(q)) {
        q->answered = true;
        return QUORUM_MET;
    }
    if (lost(q)) {
        q->answered = true;
        return QUORUM_MISSED;
    }
    return QUORUM_WAIT;
}

bool quorum_settled(const struct quorum *q)
{
    return q->answered || met(q) || lost(q);
}

bool quorum_done(const struct quorum *q)
{
    return q->answered && q->pending == 0;
}

/* ---- stamping ---- */

int quorum_stamp(struct quorum_stamp *st, const struct sibset *local, const struct vclock *ctx,
                 struct version *v, struct vclock *reply)
{
    uint32_t self = st->actor;
    st->siblings = 0;
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
    if (st->client_ctx && st->owner && local->n > 0 && cself > issued)
        return KV_EBADCTX;
    uint64_t counter = (issued > cself ? issued : cself) + 1;
    if (!st->owner) {
        /* Not stored here: a node-wide floor keeps the dots unique. */
        if (counter <= *st->sloppy_floor)
            counter = *st->sloppy_floor + 1;
        *st->sloppy_floor = counter;
    }
    if (counter > VC_MAX_COUNTER)
        return KV_EBADCTX; /* only a context at the codec's cap gets here */
    uint64_t now = st->now_ms;
    version_set_dot(v, ctx, self, counter, now);
    v->epoch = st->epoch;
    /* Prune the context, never the dot: its entry is made the newest. */
    if (v->vc.n > st->vclock_max_entries) {
        for (uint32_t i = 0; i < v->vc.n; i++)
            if (v->vc.e[i].actor == self)
                v->vc.e[i].ts_ms = UINT64_MAX;
        vc_prune(&v->vc, st->vclock_max_entries);
        for (uint32_t i = 0; i < v->vc.n; i++)
            if (v->vc.e[i].actor == self)
                v->vc.e[i].ts_ms = now;
        /* dot_base stays: a pruned actor is not the dot's (it was kept) */
    }
    /* max-siblings (siblings.h): versions left beside this one. */
    uint32_t left = 1;
    for (uint32_t i = 0; i < local->n; i++)
        left += !version_seen_by(&local->v[i], v);
    st->siblings = left;
    if (left > st->max_siblings && left > local->n)
        return KV_EMAXSIB;
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

/* ---- writes ---- */

const char *quorum_act_name(enum quorum_act_kind k)
{
    static const char *const names[QUORUM_ACT_KIND_COUNT] = {"none", "put", "hint", "keep"};
    return (unsigned)k < QUORUM_ACT_KIND_COUNT ? names[k] : "?";
}

bool quorum_owns(const unsigned *walk, unsigned nowners, int self)
{
    for (unsigned i = 0; i < nowners; i++)
        if ((int)walk[i] == self)
            return true;
    return false;
}

void quorum_write_init(struct quorum_write *qw, int needed, const unsigned *walk, unsigned nwalk,
                       unsigned nowners, int self, bool self_stored)
{
    memset(qw, 0, sizeof(*qw));
    if (nwalk > QUORUM_MAX_NODES)
        nwalk = QUORUM_MAX_NODES;
    if (nowners > nwalk)
        nowners = nwalk;
    /* Every owner's answer (self's own copy included); a lone node (no
     * ring) answers for itself at the seal. */
    quorum_init(&qw->acct, needed, (int)nowners + (nwalk == 0));
    quorum_need_primaries(&qw->acct, 0, (int)nowners + (nwalk == 0));
    qw->self = self;
    qw->self_stored = self_stored;
    qw->nwalk = nwalk;
    qw->nowners = nowners;
    qw->next_sub = nowners;
    if (nwalk)
        memcpy(qw->walk, walk, nwalk * sizeof(*walk));
    for (unsigned i = 0; i < nowners; i++)
        qw->used[walk[i]] = true;
    qw->self_owner = quorum_owns(walk, nowners, self);
    sib_init(&qw->newer);
}

void quorum_write_need_primaries(struct quorum_write *qw, int pw)
{
    qw->acct.pneeded = pw;
}

void quorum_write_fini(struct quorum_write *qw)
{
    sib_fini(&qw->newer);
}

/* The next node past the owners that is up and holds no copy of this write
 * yet (sloppy quorum); -1 when there is none. */
static int next_substitute(struct quorum_write *qw, quorum_up_fn up, void *ctx)
{
    while (qw->next_sub < qw->nwalk) {
        int cand = (int)qw->walk[qw->next_sub++];
        if (!qw->used[cand] && (cand == qw->self || up(ctx, cand))) {
            qw->used[cand] = true;
            return cand;
        }
    }
    return -1;
}

static struct quorum_act act(enum quorum_act_kind kind, int target, int owner)
{
    struct quorum_act a = {kind, target, owner};
    return a;
}

struct quorum_act quorum_write_route(struct quorum_write *qw, unsigned i, quorum_up_fn up,
                                     void *ctx)
{
    int owner = (int)qw->walk[i];
    if (owner == qw->self) {
        if (qw->self_stored) {
            quorum_ack(&qw->acct);
            quorum_primary_ack(&qw->acct);
        } else {
            quorum_fail(&qw->acct); /* refused here (its log) is not an ack */
            quorum_primary_fail(&qw->acct);
        }
        return act(QUORUM_ACT_NONE, owner, owner);
    }
    if (up(ctx, owner))
        return act(QUORUM_ACT_PUT, owner, owner);
    quorum_primary_fail(&qw->acct); /* its copy goes elsewhere */
    int sub = next_substitute(qw, up, ctx);
    if (sub < 0 && !qw->self_owner && !qw->used[qw->self]) {
        qw->used[qw->self] = true; /* a distinct node: counts */
        sub = qw->self;
    }
    if (sub >= 0)
        return act(QUORUM_ACT_HINT, sub, owner);
    return act(QUORUM_ACT_KEEP, qw->self, owner);
}

void quorum_write_seal(struct quorum_write *qw)
{
    if (qw->nwalk == 0) { /* a lone node is the key's only owner */
        if (qw->self_stored) {
            quorum_ack(&qw->acct);
            quorum_primary_ack(&qw->acct);
        } else {
            quorum_fail(&qw->acct);
            quorum_primary_fail(&qw->acct);
        }
    }
    quorum_seal(&qw->acct);
}

struct quorum_act quorum_write_reply(struct quorum_write *qw, const struct quorum_act *sent, bool ok,
                                     const struct sibset *newer, quorum_up_fn up, void *ctx)
{
    if (ok) {
        quorum_ack(&qw->acct);
        if (sent->kind == QUORUM_ACT_PUT)
            quorum_primary_ack(&qw->acct);
        /* an owner holds versions this write does not cover */
        if (sent->kind == QUORUM_ACT_PUT && newer)
            sib_merge(&qw->newer, newer);
        return act(QUORUM_ACT_NONE, sent->target, sent->owner);
    }
    if (sent->kind == QUORUM_ACT_PUT) {
        quorum_primary_fail(&qw->acct);
        /* The owner did not take it: hand it to a substitute with a hint
         * naming the owner.  (pending stays: the hint replaces this one.) */
        int sub = next_substitute(qw, up, ctx);
        if (sub >= 0)
            return act(QUORUM_ACT_HINT, sub, sent->owner);
        return act(QUORUM_ACT_KEEP, qw->self, sent->owner);
    }
    quorum_fail(&qw->acct);
    return act(QUORUM_ACT_NONE, sent->target, sent->owner);
}

void quorum_write_kept(struct quorum_write *qw, const struct quorum_act *a, bool ok)
{
    /* An owner holding a second copy does not make the write more durable:
     * only a distinct substitute's copy counts. */
    if (ok && a->kind == QUORUM_ACT_HINT)
        quorum_ack(&qw->acct);
    else
        quorum_fail(&qw->acct);
}

bool quorum_supersede(const struct sibset *local, const struct vclock *stamped,
                      const struct sibset *newer, struct vclock *ctx)
{
    if (newer->n == 0)
        return false;
    struct vclock lctx;
    vc_init(&lctx);
    sib_context(local, &lctx);
    bool unchanged = local->n == 0 || vc_compare(&lctx, stamped) == VC_EQUAL;
    bool redo = unchanged && !sib_covers(local, newer);
    if (redo) {
        sib_context(newer, ctx);
        vc_merge(ctx, stamped);
        vc_merge(ctx, &lctx);
    }
    vc_fini(&lctx);
    return redo;
}

/* ---- reads ---- */

unsigned quorum_read_targets(const unsigned *walk, unsigned nwalk, unsigned nowners, int self,
                             quorum_up_fn up, void *ctx, unsigned *targets, bool *primary)
{
    if (nwalk > QUORUM_MAX_NODES)
        nwalk = QUORUM_MAX_NODES;
    if (nowners > nwalk)
        nowners = nwalk;
    unsigned n = 0, down = 0;
    for (unsigned i = 0; i < nowners; i++) {
        int node = (int)walk[i];
        targets[n] = walk[i];
        primary[n++] = true;
        if (node != self && !up(ctx, node))
            down++;
    }
    for (unsigned i = nowners; i < nwalk && down > 0; i++) {
        int node = (int)walk[i];
        if (node == self || up(ctx, node)) {
            targets[n] = walk[i];
            primary[n++] = false;
            down--;
        }
    }
    return n;
}

void quorum_read_init(struct quorum_read *qr, int needed, int pr, const unsigned *targets,
                      const bool *primary, unsigned ntargets, unsigned nowners)
{
    memset(qr, 0, sizeof(*qr));
    if (ntargets > QUORUM_MAX_NODES)
        ntargets = QUORUM_MAX_NODES;
    quorum_init(&qr->acct, needed, (int)ntargets);
    unsigned nprimary = 0;
    for (unsigned i = 0; i < ntargets; i++)
        if (primary[i] && targets[i] < QUORUM_MAX_NODES) {
            qr->primary[targets[i]] = true;
            nprimary++;
        }
    /* owners that were not asked (down) can give no primary answer */
    quorum_need_primaries(&qr->acct, pr, (int)(nprimary < nowners ? nprimary : nowners));
    sib_init(&qr->merged);
    qr->cap = ntargets;
    qr->ans_set = mem_alloc((ntargets ? ntargets : 1) * sizeof(*qr->ans_set));
    for (unsigned i = 0; i < ntargets; i++)
        sib_init(&qr->ans_set[i]);
}

void quorum_read_fini(struct quorum_read *qr)
{
    if (qr->ans_set)
        for (unsigned i = 0; i < qr->nans; i++)
            sib_fini(&qr->ans_set[i]);
    mem_free(qr->ans_set);
    qr->ans_set = NULL;
    sib_fini(&qr->merged);
}

void quorum_read_answer(struct quorum_read *qr, int node, struct sibset *set)
{
    bool primary = node >= 0 && node < QUORUM_MAX_NODES && qr->primary[node];
    if (!set || qr->nans >= qr->cap) {
        quorum_fail(&qr->acct);
        if (primary)
            quorum_primary_fail(&qr->acct);
        return;
    }
    if (primary)
        quorum_primary_ack(&qr->acct);
    sib_merge(&qr->merged, set);
    qr->ans_set[qr->nans] = *set; /* taken */
    sib_init(set);
    qr->ans_node[qr->nans++] = node;
    quorum_ack(&qr->acct);
}

void quorum_read_drop_before(struct quorum_read *qr, uint32_t epoch)
{
    sib_drop_before(&qr->merged, epoch);
    for (unsigned i = 0; i < qr->nans; i++)
        sib_drop_before(&qr->ans_set[i], epoch);
}

unsigned quorum_read_repairs(const struct quorum_read *qr, int *nodes)
{
    /* A union of replicas' sets past the codecs' limit would be refused by
     * every receiver (and by this node's store): nothing to repair with. */
    if (qr->merged.n == 0 || qr->merged.n > SIB_MAX_VERSIONS)
        return 0;
    unsigned k = 0;
    for (unsigned i = 0; i < qr->nans; i++)
        if (qr->primary[qr->ans_node[i]] && !sib_covers(&qr->ans_set[i], &qr->merged))
            nodes[k++] = qr->ans_node[i];
    return k;
}
