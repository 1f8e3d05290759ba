/* siblings.h — a key's set of versions (Dynamo §4.4) with dotted version
 * vectors (Preguiça et al.; Riak 2.0's DVV). Pure module.
 *
 * A version is (value or tombstone, expiry, clock, dot).  The dot (actor,
 * counter) names the one write that made the version: the coordinator's
 * actor and a counter above every counter of that actor it knows for the
 * key (coord.h).  The clock `vc` is the version's causal context with the
 * dot merged in, so merging the clocks of a set gives the client context
 * as before.  `dot_base` is what the context said for the dot's actor; the
 * counters between dot_base and the dot are writes of that actor the new
 * version did NOT see (they stay its siblings).  So the version's causal
 * past is: every event (a, 1..vc[a]) for a != dot actor, and for the dot
 * actor the events 1..dot_base plus the dot itself.
 *
 * Order: x is dominated by y ("y has seen x") iff
 *   - x's flush epoch is below y's (whatever the clocks say: the flush of
 *     y's epoch removed x, and counters restart after a flush); else, at
 *     equal epochs:
 *   - x has a dot: x's dot is in y's past;
 *   - x has no dot (an OLD-FORMAT version, written before dots existed, as
 *     read from an old log or peer): every event of x's clock is in y's
 *     past — that is, x compares as a plain vector clock, exactly as before,
 *     so a node restarted on an old log keeps its data and orders it as it
 *     did.  Old versions keep having no dot when re-encoded.
 * Equal dots = the same write (the stored copy is kept); two versions each
 * dominated by the other are treated as equal too (only forged contexts can
 * build that).  A blind write gets a fresh dot and a context that does not
 * cover the versions it did not see, so it is concurrent with them; a write
 * with the merged context covers every dot and supersedes the whole set.
 * Clocks therefore hold one entry per coordinator incarnation, however many
 * concurrent writes a key receives.
 *
 * Reconciling an incoming version:
 *   - equal to or dominated by a stored version  -> ignored (idempotent replays)
 *   - dominates stored versions                  -> those are dropped
 *   - concurrent with every remaining version    -> kept beside them, except
 *     that a typed version (the state of a hash, set, sorted set or counter,
 *     core/tval.h; issue 14) is JOINED into the stored state of its type and
 *     epoch (crdt_join): states merge, they are never siblings of each
 *     other.  Typed versions carry no dot; their clock is what their
 *     coordinators had seen when they made them (the state's context for a
 *     full state), which orders them against strings and tombstones (a SET
 *     or DEL that saw the state supersedes it); between two states of one
 *     type the contexts decide (version_seen_by).
 *
 * Limits (issue 11): SIB_MAX_VERSIONS bounds a set for the wire decoder
 * and for the store, with the same number on both sides, so the node never
 * logs a set it would refuse to read back, nor sends one from its store
 * (read repair skips a union of replicas' sets past it).  max-siblings (config,
 * at most SIB_MAX_SIBLINGS_CAP, far below SIB_MAX_VERSIONS) is enforced
 * by the coordinator only: it refuses a NEW write that would leave a key
 * with more versions than that (coord.h).  Replicas always merge what peers
 * send (refusing would lose writes other nodes acknowledged) up to the hard
 * limit; several partitioned coordinators each stopping at max-siblings
 * cannot reach it.  Past it a replica refuses the new version (the sender
 * keeps its copy and the refusal is an error, never a silent ack).
 *
 * Ownership: a sibset owns its versions; each version owns one reference to
 * its value (NULL = tombstone) and its clock. */
#ifndef KV_SIBLINGS_H
#define KV_SIBLINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/val.h"
#include "core/tval.h"
#include "core/vclock.h"

#define SIB_MAX_VERSIONS 1024       /* hard limit of a set: encode, decode and store */
#define SIB_MAX_SIBLINGS_CAP 512    /* largest max-siblings setting */
#define VERSION_NO_DOT UINT32_MAX   /* dot_actor of an old-format version */

struct version {
    struct val *val;    /* NULL = tombstone */
    int64_t expire_ms;  /* absolute unix ms; 0 = never */
    struct vclock vc;   /* causal context with the dot merged in */
    uint32_t dot_actor; /* interned actor of the dot; VERSION_NO_DOT = none */
    uint32_t epoch;     /* the cluster's flush epoch its coordinator knew when it
                           stamped it (0 = before any flush, and old formats);
                           a node that knows flush epoch E drops every version
                           with epoch < E (replica.h) */
    uint64_t dot_base;  /* the context's counter for dot_actor (< the dot's) */
};

struct sibset {
    uint32_t n;
    uint32_t cap;
    struct version *v;
};

/* A version is live when it holds a value that has not expired at now_ms
 * (a typed state without elements is not: a set whose last member went is
 * gone, as in Redis). */
static inline bool version_live(const struct version *v, int64_t now_ms)
{
    return v->val && (v->expire_ms == 0 || v->expire_ms > now_ms) &&
           (!val_is_typed(v->val) || !tval_empty(v->val));
}

void version_init(struct version *v);
void version_fini(struct version *v);                 /* unrefs val, finis clock */
void version_copy(struct version *dst, const struct version *src); /* refs val */
/* Sets v's dot: v->vc becomes ctx with actor's counter set to counter (ts
 * now_ms); counter must be above ctx's counter for actor. */
void version_set_dot(struct version *v, const struct vclock *ctx, uint32_t actor,
                     uint64_t counter, uint64_t now_ms);
/* The dot's counter (0 when v has no dot). */
uint64_t version_dot_counter(const struct version *v);
/* True when a and b hold states of one convergent type (typed values,
 * tval.h). */
bool version_same_type(const struct version *a, const struct version *b);
/* True when y has seen x (x is equal to or dominated by y).  Two states
 * of one type and epoch: y's context covers x's (crdt_ctx_covers). */
bool version_seen_by(const struct version *x, const struct version *y);
/* HOT: the order of two versions by the rules above (VC_EQUAL = the same
 * write, VC_BEFORE = a is dominated by b). */
enum vc_order version_compare(const struct version *a, const struct version *b);
/* Local compact form of clock + dot + epoch (actor ids; never leaves the
 * process): varint ((dot actor + 1) * 2 + has_epoch, dot actor + 1 = 0 for
 * none), [varint epoch when has_epoch], [varint dot_base when a dot],
 * vc_pack'ed clock.  A version of epoch 0 packs as before plus nothing. */
void version_pack_clock(const struct version *v, struct buf *out);
/* Decodes what version_pack_clock wrote into v's clock and dot; *used =
 * bytes read.  0 or KV_EPROTO. */
int version_unpack_clock(struct version *v, const void *p, size_t len, size_t *used);
/* Newest timestamp of v's clock (its dot's, for versions with one). */
uint64_t version_newest_ts(const struct version *v);
/* Appends the readable clock (vc_format), preceded by "dot=actor/counter
 * skips=from..to " when the dot skipped counters of its actor (the clock
 * alone then overstates what the version saw). */
void version_format_clock(const struct version *v, struct buf *out);

void sib_init(struct sibset *s);
void sib_fini(struct sibset *s);
void sib_clear(struct sibset *s);
/* Reconciles a copy of v into s (v is borrowed). Returns true when s changed. */
bool sib_add(struct sibset *s, const struct version *v);
/* sib_add for a caller that holds own_refs references of its own to the
 * values of s (the store's load: 2); a typed state joined into is changed
 * in place only when nobody else holds it, else copied (sib_add: 1). */
bool sib_add_shared(struct sibset *s, const struct version *v, uint32_t own_refs);
/* Like sib_add but takes ownership of *v (leaves it zeroed). */
bool sib_add_move(struct sibset *s, struct version *v);
/* Reconciles every version of src into dst. Returns true when dst changed. */
bool sib_merge(struct sibset *dst, const struct sibset *src);
/* out = merge of every version's clock (the context a client gets). */
void sib_context(const struct sibset *s, struct vclock *out);
/* The version that stands for the whole set when its versions agree: the
 * only one, or — when several concurrent versions hold the same value (or
 * are all deletes) with the same expiry, as when one write was applied twice
 * after a coordinator failover — the first of them.  NULL when the set is
 * empty or its versions hold different values: a real conflict. */
const struct version *sib_agreed(const struct sibset *s);

/* Removes every version of s stamped before flush epoch `epoch` (epoch
 * field < epoch); returns how many were removed.  What is left still
 * satisfies the set invariant (a subset of a reconciled set). */
unsigned sib_drop_before(struct sibset *s, uint32_t epoch);
/* The highest epoch of s's versions (0 for an empty set). */
uint32_t sib_max_epoch(const struct sibset *s);

/* Number of live versions at now_ms. */
unsigned sib_live_count(const struct sibset *s, int64_t now_ms);
/* True when every version of b is equal to or dominated by some version of a
 * (a holds everything b knows). Used by read repair to find stale replicas,
 * and wherever a copy may only go once others hold all of it (handoff,
 * stray transfer, replica drops, PPUT's answer). */
bool sib_covers(const struct sibset *a, const struct sibset *b);

/* Wire codec for a whole set (between nodes and in the log): count, then
 * per version a flag byte (tombstone / has expiry / has dot / has epoch),
 * expiry, value length + bytes, vc_encode'd clock, the dot (actor name,
 * dot_base), the flush epoch (varint, only when not 0).
 * Decoding validates every length against len and max_val, at most
 * SIB_MAX_VERSIONS versions, pairwise concurrent; returns 0 or KV_EPROTO /
 * KV_EBADCTX.  A version without the dot flag (the old format) decodes as
 * an old-format version (see the order above). */
void sib_encode(const struct sibset *s, struct buf *out);
/* An upper bound of what sib_encode writes for s (values plus the longest
 * clock encoding of each version).  O(versions). */
size_t sib_encoded_bound(const struct sibset *s);
/* The same bound for one version whose value is vlen bytes and whose clock
 * has n entries (or, for a packed clock, at most n bytes). */
#define SIB_VERSION_BOUND(vlen, n) \
    ((size_t)(vlen) + 64 + ((size_t)(n) + 1) * (VC_MAX_ACTOR_LEN + 1 + 20))
int sib_decode(struct sibset *s, const void *p, size_t len, size_t max_val);

/* A digest of key's versions that is equal on every node holding the same
 * versions, whatever their order (0 for none or a NULL set, never 0
 * otherwise): values, tombstones, expiry, clock counters and the dot by
 * actor name, and the flush epoch when not 0 (so versions of epoch 0 hash
 * as they always did).  The anti-entropy trees XOR these (ae.h), the reaper
 * compares them (replica_drop_if_digest); nodes exchange them, so the
 * function must never change for what it already hashes.
 * O(versions + clock entries); MurmurHash3. */
uint64_t sib_digest(const void *key, size_t klen, const struct sibset *s);

#endif
