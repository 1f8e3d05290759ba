/* quorum.h — the Dynamo quorum rules (§4.5–4.7, §4.4 for the clocks) as a
 * pure state machine: no sockets, no event loop, no store, no peers.
 *
 * The coordinator shell (cluster/coord.c) builds the inputs (the ring walk
 * of the key, which nodes look alive, the versions stored here), feeds this
 * module every answer it gets, and performs the actions it is handed back
 * (send the write to a node, keep a hint, answer the caller, repair a
 * replica).  Splitting it this way (as hiredis splits read.c from async.c)
 * lets tests/unit/test_quorum.c check each rule without a network.
 *
 * The rules:
 *   - accounting (struct quorum): a request expects one answer per replica;
 *     it answers its caller as soon as R (W) of them counted, or with
 *     KV_ENOQUORUM as soon as so many failed that R (W) cannot be reached
 *     any more; exactly once; later answers only complete the record.
 *   - stamping (quorum_stamp): the new version's dot and context, with the
 *     refusals (forged context, max-siblings); see cluster/coord.h.
 *   - sloppy quorum (struct quorum_write): an owner that looks down, or
 *     refuses its copy, is replaced by the next healthy node of the ring
 *     walk past the N owners that holds no copy of this write yet; each is
 *     used once and its copy (a hint naming the owner) counts toward W.
 *     When there is none, the coordinator keeps the hint itself, counted
 *     only when it is a distinct node (not an owner already holding a copy).
 *   - primary quorums (PR / PW, as Riak has them): a request may also
 *     need that many of its answers from the key's owners themselves
 *     (primaries), not from substitutes; it fails as soon as too few owners
 *     are left to give them.
 *   - sloppy reads (quorum_read_targets): a read asks the first N healthy
 *     nodes of the ring walk, like a write: each owner, and for each that
 *     looks down also the next healthy node past the owners.
 *   - read repair (struct quorum_read): once every replica answered, the
 *     owners whose answer did not cover the reconciled set get that set
 *     (substitutes are not written: what they hold are hints).
 *   - supersede (quorum_supersede): a plain write whose owners reported
 *     versions it did not cover (a stale coordinator) is written again over
 *     them, unless the coordinator stamped something newer meanwhile.
 *
 * Ownership: each struct is owned by the caller (init/fini); sets handed to
 * quorum_read_answer / quorum_write_reply are borrowed unless said otherwise.  Nothing here calls
 * back into the caller except the liveness predicate passed in.
 */
#ifndef KV_QUORUM_H
#define KV_QUORUM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/siblings.h"
#include "core/vclock.h"

/* Node indices are below this (equals CFG_MAX_NODES and RING_MAX_NODES). */
#define QUORUM_MAX_NODES 64

/* ---- request accounting ---- */

struct quorum {
    int needed;    /* R or W */
    int acks;      /* answers that count toward needed */
    int fails;     /* answers that do not (errors, timeouts, refusals) */
    int pending;   /* answers still expected, plus a guard until sealed */
    int pneeded;   /* PR or PW: acks needed from primaries (owners); 0 = none */
    int packs;     /* primaries' answers that counted */
    int ppending;  /* primaries' answers still possible */
    bool answered; /* the caller has had its answer */
};

enum quorum_verdict {
    QUORUM_WAIT = 0, /* nothing to tell the caller now */
    QUORUM_MET,      /* answer the caller: success */
    QUORUM_MISSED,   /* answer the caller: KV_ENOQUORUM */
    QUORUM_VERDICT_COUNT
};
const char *quorum_verdict_name(enum quorum_verdict v);

/* Starts a request that expects `expected` answers and needs `needed` of
 * them.  Until quorum_seal a guard answer is also pending, so a request
 * whose replicas answer while it is still being sent (a peer that is down
 * answers inside the send) is neither declared lost early nor finished. */
void quorum_init(struct quorum *q, int needed, int expected);
/* Also needs pneeded of the answers from primaries, of which pexpected
 * are expected (call right after quorum_init). */
void quorum_need_primaries(struct quorum *q, int pneeded, int pexpected);
/* One expected answer arrived and counts / does not count. */
void quorum_ack(struct quorum *q);
void quorum_fail(struct quorum *q);
/* One expected primary answer arrived and counts / does not count, or a
 * primary will not be asked (it looks down): only the primary tally. */
void quorum_primary_ack(struct quorum *q);
void quorum_primary_fail(struct quorum *q);
/* Every expected answer has been asked for: drops the guard. */
void quorum_seal(struct quorum *q);
/* MET or MISSED exactly once, the moment the caller must be answered
 * (marks the request answered); WAIT before and after. */
enum quorum_verdict quorum_poll(struct quorum *q);
/* True when the caller has been answered or can be answered now (the
 * request completes before the call that started it returns). */
bool quorum_settled(const struct quorum *q);
/* True when the caller was answered and no answer is outstanding: the
 * record can go. */
bool quorum_done(const struct quorum *q);

/* ---- stamping a new write ---- */

struct quorum_stamp {
    /* in */
    uint32_t actor;              /* this node's clock actor */
    bool owner;                  /* this node stores the key, so `local` holds
                                    every write it stamped for it */
    bool client_ctx;             /* ctx came from a client (VPUT/VDEL) */
    unsigned vclock_max_entries; /* the context is pruned to this many entries */
    unsigned max_siblings;       /* refuse a write leaving more versions than
                                    this (and more than the key has now) */
    uint64_t now_ms;             /* wall clock of the dot */
    uint32_t epoch;              /* the flush epoch this node knows: the
                                    version is stamped with it (siblings.h) */
    uint64_t *sloppy_floor;      /* in/out: the highest counter issued for a key
                                    this node does not own (node-wide) */
    /* out */
    uint32_t siblings;           /* versions the key holds after the write,
                                    counting the new one; 0 when refused
                                    before they were counted */
};

/* Stamps a new version (coord.h): the dot is (actor, k) with k = 1 + the
 * highest counter of actor in local's clocks and in ctx (and above
 * *sloppy_floor when not owner); the context is ctx, or the merge of
 * local's clocks when ctx is NULL (SET/DEL).  v: its value and expiry set
 * by the caller; its clock and dot are written.  reply: the context handed
 * back to the writer (the new clock, without the dot when the dot skipped
 * counters the writer did not see).  local, ctx: borrowed.
 * Returns 0, KV_EBADCTX (a client context naming counters this node never
 * issued for the key it holds, or a counter at VC_MAX_COUNTER) or
 * KV_EMAXSIB. */
int quorum_stamp(struct quorum_stamp *st, const struct sibset *local, const struct vclock *ctx,
                 struct version *v, struct vclock *reply);

/* ---- writes: owners, substitutes, hints ---- */

enum quorum_act_kind {
    QUORUM_ACT_NONE = 0, /* nothing to do: the copy is accounted for */
    QUORUM_ACT_PUT,      /* send the write to its owner `target` (PPUT) */
    QUORUM_ACT_HINT,     /* hand the write to substitute `target` as a hint
                            for `owner` (PHINT; kept here when target is this
                            node); counts toward W */
    QUORUM_ACT_KEEP,     /* no substitute left: this node keeps the hint for
                            `owner` so it gets the write back; not counted */
    QUORUM_ACT_KIND_COUNT
};
const char *quorum_act_name(enum quorum_act_kind k);

struct quorum_act {
    enum quorum_act_kind kind;
    int target; /* the node to send to (PUT, HINT) */
    int owner;  /* the owner the copy stands for */
};

/* Liveness as the caller sees it now (self is always up). */
typedef bool (*quorum_up_fn)(void *ctx, int idx);

struct quorum_write {
    struct quorum acct;
    int self;                /* this node's index */
    bool self_owner;         /* self is one of the N owners */
    bool self_stored;        /* self's own copy was stored (when it takes one) */
    unsigned nwalk;          /* nodes in ring order from the key */
    unsigned nowners;        /* the first nowners of walk own the key */
    unsigned next_sub;       /* next walk position to try as a substitute */
    unsigned walk[QUORUM_MAX_NODES];
    bool used[QUORUM_MAX_NODES]; /* holds (or was sent) a copy of this write */
    struct sibset newer;     /* versions owners hold that the write does not cover */
};

/* True when self is among the first nowners nodes of walk. */
bool quorum_owns(const unsigned *walk, unsigned nowners, int self);

/* Starts a write of W = needed over the ring walk of its key (walk[0..nwalk),
 * node indices below QUORUM_MAX_NODES, borrowed and copied; the first
 * nowners own the key).  self_stored: whether the coordinator's own copy was
 * stored, which counts when it is an owner or when there is no ring
 * (nwalk == 0: a lone node). */
void quorum_write_init(struct quorum_write *qw, int needed, const unsigned *walk, unsigned nwalk,
                       unsigned nowners, int self, bool self_stored);
void quorum_write_fini(struct quorum_write *qw); /* accepts zeroed memory */
/* PW: the write also needs pw acks from owners themselves (their PUT, or
 * self's own copy as an owner); substitutes' hints do not count toward it.
 * Call right after quorum_write_init. */
void quorum_write_need_primaries(struct quorum_write *qw, int pw);

/* Where the copy of owner i (0 <= i < nowners) goes: self's own copy is
 * accounted (NONE); an owner that looks up gets it (PUT); for one that
 * looks down, the next substitute (HINT) — this node itself when it is not
 * an owner and no other is left (a distinct node: it counts) — or else
 * KEEP.  Call once per owner, in order, performing each action before
 * routing the next (a send may be answered at once, which can use up
 * substitutes), then quorum_write_seal. */
struct quorum_act quorum_write_route(struct quorum_write *qw, unsigned i, quorum_up_fn up,
                                     void *ctx);
/* Every owner routed: accounts a lone node's copy and drops the guard. */
void quorum_write_seal(struct quorum_write *qw);

/* The answer to a PUT or HINT sent to another node.  ok: it stored the copy.
 * newer (borrowed, may be NULL): the versions an owner answered with, which
 * the write does not cover; ignored for hints.  Returns the next action: an
 * owner that did not take its copy is replaced by a substitute (HINT) or by
 * a hint kept here (KEEP) and stays pending; otherwise NONE. */
struct quorum_act quorum_write_reply(struct quorum_write *qw, const struct quorum_act *sent, bool ok,
                                     const struct sibset *newer, quorum_up_fn up, void *ctx);
/* The result of keeping a hint here: a HINT whose target is self (counts
 * when kept) or a KEEP (never counts). */
void quorum_write_kept(struct quorum_write *qw, const struct quorum_act *a, bool ok);

/* The stale-coordinator decision, once every owner answered.  local: the
 * versions stored here now; stamped: the clock the write was given; newer:
 * what owners reported that it did not cover.  True when the write must be
 * redone with the context written to ctx (the merge of newer's, stamped's
 * and local's clocks): local did not change since this write (or holds
 * nothing) and does not already cover newer.  False when a later write was
 * stamped here meanwhile (it runs this check itself) or nothing is stale.
 * All borrowed; ctx is overwritten. */
bool quorum_supersede(const struct sibset *local, const struct vclock *stamped,
                      const struct sibset *newer, struct vclock *ctx);

/* ---- reads and read repair ---- */

struct quorum_read {
    struct quorum acct;
    struct sibset merged;    /* every answer reconciled */
    unsigned cap;            /* answers expected */
    unsigned nans;           /* answers that counted */
    int ans_node[QUORUM_MAX_NODES];
    struct sibset *ans_set;  /* what each of them answered (cap entries) */
    bool primary[QUORUM_MAX_NODES]; /* by node: an owner of the key */
};

/* The nodes a read asks: every owner of the key (walk[0..nwalk), the first
 * nowners own it), and for each owner that looks down the next node past
 * the owners that looks up (self always does) — Dynamo's "first N healthy
 * nodes", plus the owners that look down, which cost one message (a link
 * that is down fails at once) and may answer after all (a node just back,
 * not yet seen up by gossip).  Writes them to targets (and whether each is
 * an owner to primary), owners first in walk order; returns how many (at
 * most 2 * nowners). */
unsigned quorum_read_targets(const unsigned *walk, unsigned nwalk, unsigned nowners, int self,
                             quorum_up_fn up, void *ctx, unsigned *targets, bool *primary);

/* Starts a read of R = needed over the ntargets nodes of targets (from
 * quorum_read_targets; primary[i]: targets[i] is an owner) of a key with
 * nowners owners, of which pr must answer (PR; 0 = no such rule; owners
 * not among the targets count as failed at once). */
void quorum_read_init(struct quorum_read *qr, int needed, int pr, const unsigned *targets,
                      const bool *primary, unsigned ntargets, unsigned nowners);
void quorum_read_fini(struct quorum_read *qr); /* accepts zeroed memory */
/* Replica node answered with set (taken: left empty), or failed (set NULL:
 * an error, a timeout, or an answer that did not decode). */
void quorum_read_answer(struct quorum_read *qr, int node, struct sibset *set);
/* A flush epoch learnt while the read runs (an answer said so): drops the
 * versions stamped before it from the reconciled set and from every answer
 * kept so far (siblings.h, sib_drop_before). */
void quorum_read_drop_before(struct quorum_read *qr, uint32_t epoch);
/* Read repair: writes to nodes[QUORUM_MAX_NODES] the owners whose answer
 * does not cover the reconciled set (stale or missing the key), in answer
 * order; returns how many.  None when nothing was found, or when the
 * reconciled set is past SIB_MAX_VERSIONS (every receiver would refuse it).
 * Call once every replica answered. */
unsigned quorum_read_repairs(const struct quorum_read *qr, int *nodes);

#endif
