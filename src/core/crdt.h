/* crdt.h — convergent data types for Redis counters, sets, hashes and
 * sorted sets (issue 14).  Pure module: no I/O, no event loop.
 *
 * One representation serves all four types, the "dot store" of the
 * delta-state CRDT papers (Almeida, Shoker, Baquero) as Riak's ORSWOT and
 * map use it:
 *
 *   state = (causal context, elements)
 *   context = every write event (dot) this state has seen: a struct vclock
 *             (vclock.h, the same interned actors "name.incarnation" and
 *             counters as the key-level versions; timestamps unused, 0) for
 *             the contiguous prefix 1..n of each actor, plus a sorted "cloud"
 *             of the dots above that prefix seen out of order;
 *   element = key bytes (set member, hash field, zset member; the counter
 *             type has one element with the empty key) -> a few entries,
 *             each tagged with the dot (actor, counter) of the write that
 *             made it.
 *
 * Entry kinds: MEMBER (set presence), REG (a register value: bytes for
 * hashes and counters, a double for zset scores), CNT_INT / CNT_FLOAT (one
 * actor's running total of increments of the element).  An element exists
 * while it has an entry; nothing else marks a removed element (no
 * tombstones: its dots stay only in the context, which is O(actors) once
 * delivery catches up).
 *
 * Join (merge) of (s1, c1) and (s2, c2): an entry survives when both sides
 * hold it, or when one side holds it and the other side's context has not
 * seen its dot (so the other side cannot have removed it); the contexts
 * unite.  Commutative, associative, idempotent.  Operations run at a
 * coordinator with its actor: each mints the next dot of that actor
 * (above every counter of the actor the state knows), which its new entry
 * carries if it makes one, and the entries the operation supersedes are
 * exactly the ones the coordinator's state holds ("observed remove"): a
 * concurrent add that it did not see survives (add-wins).  Each operation
 * returns a delta: a small state of the same type (the new entry if any,
 * and a context of the new dot plus the removed dots) that joins like a
 * full state, so replicas can receive deltas in any order, twice, or not
 * at all (then a full-state join repairs).
 *
 * Per type (README "Data types (in progress)" has the user-facing rules):
 *   counter: per actor one CNT entry with its running total; an increment
 *     replaces the actor's entry by one with a new dot, so the join keeps the
 *     newest per actor, and totals of different actors add up (a PN-counter
 *     with dots, as Riak's embedded counter).  A REG entry is an optional
 *     base (SET k 10 then INCR k: 10 + increments).  INCRBYFLOAT turns the
 *     actor's total into a CNT_FLOAT; a value with any float part reads as
 *     a float, as Redis's INCRBYFLOAT result is a string INCR refuses.
 *   set: MEMBER entries; SADD replaces the observed dots of the member by a
 *     new one, SREM drops the observed ones (add-wins observed-remove set).
 *   hash: each field is a multi-value register (REG entries; concurrent
 *     HSETs stay side by side) plus per-actor counters (HINCRBY adds to the
 *     field's value without replacing it); HSET/HDEL supersede the observed
 *     entries of the field, registers and counters alike.
 *   zset: each member is a register of scores (REG, concurrent ZADDs kept)
 *     plus per-actor float counters (ZINCRBY); the score reads as the
 *     largest concurrent register score (0 when none) plus the counters.
 *   Reset vs increment: a removal (HDEL, HSET, ZADD, ZREM, DEL) concurrent
 *   with an increment by actor A keeps A's whole running total (A's entry
 *   carries a dot the removal did not see): increments are never lost, at
 *   the price that a concurrent reset does not subtract A's earlier part.
 *
 * Expiry (Redis EXPIRE / PERSIST on a whole key of any of these types): a
 * register beside the elements (not an element, so no member or field can
 * collide with it) of entries (dot, absolute ms), joined like the entries
 * of an element; concurrent EXPIREs stay side by side and the effective
 * expiry is the largest (the longest life wins: deterministic, no wall
 * clock order).  EXPIRE and PERSIST supersede the observed entries; DEL
 * (crdt_clear) too.
 *
 * Deltas are "scoped": they list (possibly with no entries) every element
 * whose dots their context covers, and say whether the expiry register is
 * in scope (exp_scoped), so joining one into a state visits only those
 * elements (and the expiry only when in scope: a SADD's delta leaves the
 * state's expiry alone, an EXPIRE's replaces the entries it observed) —
 * O(delta), not O(state) — which is what lets a SADD to a 1 M-member set
 * ship and apply one member.  A full state is unscoped and
 * a join with it visits everything.  A delta's scope cannot be checked (a
 * dot does not say its element); a peer that sends a false one can only
 * fail to remove entries, which the next full-state join (anti-entropy)
 * repairs.
 *
 * Holes.  A delta's context holds the dots its operation superseded, not
 * what those operations superseded in turn, so a replica that applies a
 * delta before the ones it superseded has seen dots whose effect it has
 * not had (x added at dot 1, replaced at dot 2, removed at dot 3: applying
 * delta3 then delta1 holds x with context {1,2,3}; delta2 would remove it).
 * Each state therefore keeps, beside its context, the holes: the dots it
 * has seen only through another delta's context.  An operation's delta
 * has its superseded dots as holes (a clear's: the coordinator's holes);
 * a join keeps a hole only where the other side has not seen the dot or
 * has it as a hole too, so applying the missing delta, or joining a state
 * that applied it, fills it.  Holes are a subset of the context, no entry
 * carries one, and a state whose deltas all arrived has none.  With every
 * change minting a dot (see "operations"), a state of a key is a function
 * of (context, holes): two states built from one key's operations by any
 * joins of deltas and states, in any order, with equal contexts and equal
 * holes are crdt_equal (test_crdt_laws.c checks it on random histories),
 * which is what lets crdt_ctx_digest stand for the state.  crdt_ctx_seed
 * keeps this when its clock holds a dot that no delta carries (the
 * deletion's own): then every state that has seen that dot has had the
 * seed's removals too.
 *
 * Dots must be unique per key: an actor's coordinator must hold all the
 * dots it issued for the key when it applies an operation (the same rule as
 * the key-level dots, coord.h); the decoder refuses states that reuse one.
 *
 * Ownership: a struct crdt owns its context, elements and values
 * (register bytes are struct val references).  crdt_fini accepts zeroed
 * memory.  Elements returned by crdt_find are borrowed and valid until the
 * next change of that state. */
#ifndef KV_CRDT_H
#define KV_CRDT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/val.h"
#include "core/vclock.h"

enum crdt_type {
    CRDT_NONE = 0,
    CRDT_COUNTER,
    CRDT_SET,
    CRDT_HASH,
    CRDT_ZSET,
    CRDT_TYPE_COUNT
};
const char *crdt_type_name(enum crdt_type t);

enum crdt_kind {
    CRDT_K_MEMBER = 0, /* set presence, no payload */
    CRDT_K_REG,        /* register: u.val (counter, hash) or u.score (zset) */
    CRDT_K_CNT_INT,    /* the actor's running total, u.i */
    CRDT_K_CNT_FLOAT,  /* the actor's running total, u.f */
    CRDT_K_COUNT
};

/* Limits of the codec (and so of a state that must survive a round trip). */
#define CRDT_MAX_ELEMS (1u << 26)   /* elements of one state */
/* Entries of one element: one per concurrent register or actor total,
 * more only while removals are in flight; the bound is for the decoder. */
#define CRDT_MAX_ENTRIES (1u << 16)
#define CRDT_MAX_CLOUD (1u << 20)   /* out-of-order dots of one context */
#define CRDT_MAX_ACTORS VC_MAX_DECODE_ENTRIES

struct crdt_dot {
    uint32_t actor;   /* interned (vc_actor_intern) */
    uint32_t pad_;
    uint64_t counter; /* 1..VC_MAX_COUNTER */
};

struct crdt_entry {
    uint32_t actor;   /* the dot */
    uint8_t kind;     /* enum crdt_kind */
    uint8_t pad_[3];
    uint64_t counter;
    union {
        struct val *val; /* REG of a counter or hash: owned reference */
        double score;    /* REG of a zset */
        int64_t i;       /* CNT_INT */
        double f;        /* CNT_FLOAT */
    } u;
};

/* One element, one allocation: its entries sorted by (actor id, counter),
 * then its key.  Sized for exactly n entries (an insert reallocates; an
 * element rarely holds more than one or two), and without a stored hash:
 * both would cost 8 bytes on every member of a large set. */
struct crdt_elem {
    uint32_t klen;
    uint32_t n;       /* entries; 0 only in a scoped delta */
    struct crdt_entry e[];
    /* key bytes follow e[n] */
};

static inline const char *crdt_elem_key(const struct crdt_elem *el)
{
    return (const char *)&el->e[el->n];
}

/* One entry of the expiry register (EXPIRE on a whole key, see
 * crdt_expire_set): an absolute unix time in ms, tagged with the dot of
 * the EXPIRE that set it. */
struct crdt_expiry {
    uint32_t actor;
    uint32_t pad_;
    uint64_t counter;
    int64_t ms;       /* > 0 */
};

struct crdt {
    uint8_t type;     /* enum crdt_type */
    bool scoped;      /* a delta: see above */
    bool exp_scoped;  /* a scoped delta whose scope includes the expiry
                         register (always false in a full state) */
    uint8_t pad_;
    uint32_t nelem;   /* elements in the table */
    struct vclock vc; /* context: contiguous prefix per actor */
    struct crdt_dot *cloud; /* context: dots above the prefix, sorted, none
                               contiguous with it */
    uint32_t ncloud, capcloud;
    struct crdt_elem **slot; /* open addressing, NULL = empty */
    uint32_t mask;           /* slots - 1 (0 with no table) */
    uint32_t nhole;
    struct crdt_dot *hole;   /* context dots whose own delta this state has
                                not applied (see "Holes"), sorted, sized
                                exactly: usually none */
    struct crdt_expiry *exp; /* the expiry register's entries, sorted by
                                dot: usually 0 or 1 */
    uint32_t nexp;
    uint32_t pad2_;
};

/* ---- life cycle ---- */
void crdt_init(struct crdt *c, enum crdt_type t); /* an empty full state */
void crdt_fini(struct crdt *c);
void crdt_copy(struct crdt *dst, const struct crdt *src); /* dst: inited or finied */
/* dst ⊔= src (src borrowed).  0, or KV_EINVAL when the types differ (nothing
 * changes; concurrent creation of a key as two types is the caller's
 * conflict).  A scoped dst stays scoped only if src is. */
int crdt_join(struct crdt *dst, const struct crdt *src);
/* Merges vc's counters (each the prefix 1..n of its actor; timestamps
 * ignored) into c's context: c joins the empty full state whose context is
 * vc, as if it had applied a deletion that saw those dots.  For a state
 * created over an older deleted version (a tombstone with clock vc): each
 * actor's next dot goes above vc, and a late delta of the deleted version
 * cannot revive anything.  Being a join, it also drops c's entries whose
 * dot vc covers, fills c's holes that vc covers, and makes a scoped c a
 * full state; it commutes with every other join.  vc borrowed.
 * O(state) (O(vc) for a new, empty state). */
void crdt_ctx_seed(struct crdt *c, const struct vclock *vc);
/* True when a has seen every dot b has (b's context included in a's). */
bool crdt_ctx_covers(const struct crdt *a, const struct crdt *b);
/* True when the dot is in c's context. */
bool crdt_ctx_has(const struct crdt *c, uint32_t actor, uint64_t counter);
/* True when the dot is one of c's holes (seen, its delta not applied). */
bool crdt_hole_has(const struct crdt *c, uint32_t actor, uint64_t counter);
/* The next dot counter actor would use for an operation on c. */
uint64_t crdt_next_counter(const struct crdt *c, uint32_t actor);
/* Same contents (type, context, elements, entries, payload bytes). */
bool crdt_equal(const struct crdt *a, const struct crdt *b);

/* Heap bytes c holds, as requested from the allocator (its rounding not
 * counted): the context (prefix array, cloud), holes, expiry entries, the
 * slot table, each element (header, entries, key) and each register value
 * (a value shared with other holders counts in full here), not struct
 * crdt itself.  For MEMORY USAGE; O(state). */
size_t crdt_mem_bytes(const struct crdt *c);

/* ---- elements ---- */
const struct crdt_elem *crdt_find(const struct crdt *c, const void *key, size_t klen);
/* Elements that hold at least one entry (the type's cardinality). */
uint32_t crdt_count(const struct crdt *c);
/* Calls fn for each element with entries, in table order (not sorted);
 * fn must not change c.  Stops early when fn returns false. */
typedef bool (*crdt_elem_fn)(const struct crdt_elem *el, void *arg);
void crdt_each(const struct crdt *c, crdt_elem_fn fn, void *arg);

/* ---- walking a few elements at a time (crdt_iter.c) ---- */
/* One step of a cursor scan (HSCAN, SSCAN, ZSCAN): calls fn for the
 * elements with entries of the buckets visited from cursor (0 = start)
 * until at least count were passed or 10 * count buckets were visited;
 * returns the next cursor (0 = done).  Redis's SCAN guarantee: an element
 * present from the first call to the last is passed at least once, also
 * when the table grew or shrank in between; some may be passed twice.
 * fn's return value is ignored (a bucket is always finished); fn must not
 * change c. */
uint64_t crdt_scan(const struct crdt *c, uint64_t cursor, size_t count, crdt_elem_fn fn,
                   void *arg);
/* Random elements with entries (HRANDFIELD, SRANDMEMBER, SPOP,
 * ZRANDMEMBER): distinct — min(count, crdt_count) different elements, a
 * uniform sample (all of them, in table order, when count reaches the
 * count); else count independent uniform picks.  fn is called per element
 * and stops the picks by returning false; it must not change c.  *rng is
 * the caller's generator state (any seed), advanced by the call. */
void crdt_pick(const struct crdt *c, uint64_t count, bool distinct, uint64_t *rng,
               crdt_elem_fn fn, void *arg);

/* ---- operations at a coordinator ----
 * Each takes the coordinator's state c (changed in place), its actor, and
 * delta: NULL, or caller memory that the call initialises (even on error)
 * with the operation's delta — free it with crdt_fini.  An operation that
 * fails changes nothing and its delta is an empty scoped state.  All return
 * KV_EINVAL when c's type does not have the operation, and KV_EOVERFLOW
 * (nothing changes) when the actor has used every counter the codecs
 * accept (VC_MAX_COUNTER).
 *
 * Every operation that changes c mints exactly one new dot, the actor's
 * next (crdt_next_counter): it enters c's context and the delta's, on the
 * new entry when the operation makes one, on no entry for a removal
 * (crdt_remove, crdt_clear, PERSIST).  So every change of a state is the
 * effect of a dot, and (with the holes, above) the context identifies the
 * state.  An operation that changes nothing (removing an absent element)
 * mints nothing.  An operation leaves c's holes as they are. */

/* Removes every observed entry of every element and of the expiry (DEL, or
 * an overwrite by another type), and mints a dot.  c keeps its context
 * (plus the dot) and becomes (or stays) a full state; the delta is
 * unscoped too: context = c's new one, no entries. */
int crdt_clear(struct crdt *c, uint32_t actor, struct crdt *delta);
/* Drops the observed entries of element key (SREM, HDEL, ZREM) and mints a
 * dot that no entry carries.  *existed (may be NULL) = the element had
 * entries.  Removing an element without entries is a no-op: c does not
 * change, no dot is minted, and the delta is an empty scoped state (no
 * element, empty context). */
int crdt_remove(struct crdt *c, uint32_t actor, const void *key, size_t klen,
                struct crdt *delta, bool *existed);

/* SADD: a new MEMBER dot replaces the member's observed ones; *added = the
 * member was absent. */
int crdt_set_add(struct crdt *c, uint32_t actor, const void *m, size_t mlen,
                 struct crdt *delta, bool *added);

/* HSET field (CRDT_HASH) or SET of the counter's base (CRDT_COUNTER, key
 * ""): a REG entry holding a new reference to v replaces every observed
 * entry of the field.  *added = the field was absent. */
int crdt_reg_set(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                 struct val *v, struct crdt *delta, bool *added);
/* ZADD member score (CRDT_ZSET): like crdt_reg_set with a score; NaN is
 * refused with KV_ENOTNUM. */
int crdt_zset_add(struct crdt *c, uint32_t actor, const void *m, size_t mlen,
                  double score, struct crdt *delta, bool *added);

/* INCRBY / HINCRBY (counter, hash): adds by to actor's running total of
 * element f.  KV_ENOTNUM when the element's value (crdt_num) is not an
 * integer, KV_EOVERFLOW when the value or the actor's total would leave
 * int64; then nothing changes.  *result (may be NULL) = the new value. */
int crdt_incr_int(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                  int64_t by, struct crdt *delta, int64_t *result);
/* INCRBYFLOAT / HINCRBYFLOAT / ZINCRBY (counter, hash, zset): adds by to
 * actor's total as a float.  KV_ENOTNUM when the value is not a number, by
 * is infinite (a ZINCRBY by inf is a ZADD of inf to Redis; here the
 * caller's choice), the actor's total would be infinite, or the result is
 * NaN (or infinite, outside a zset).  *result (may be NULL) = the new
 * value. */
int crdt_incr_float(struct crdt *c, uint32_t actor, const void *f, size_t flen,
                    long double by, struct crdt *delta, long double *result);

/* EXPIRE (expire_ms > 0, an absolute unix time in ms) or PERSIST
 * (expire_ms == 0) of the whole key, any type: mints the actor's next dot
 * and supersedes the observed expiry entries (their dots into the delta's
 * context and holes) with, for expire_ms > 0, one entry (that dot,
 * expire_ms).  PERSIST leaves no entry but still mints a dot (the caller
 * skips it when crdt_expire(c) is 0, as Redis's PERSIST then answers 0).
 * The delta is scoped with the expiry in scope and no element.  KV_EINVAL
 * for expire_ms < 0 or a state of type CRDT_NONE. */
int crdt_expire_set(struct crdt *c, uint32_t actor, int64_t expire_ms, struct crdt *delta);

/* ---- reads ---- */
/* The effective expiry: 0 (never) without expiry entries, else the largest
 * of the concurrent ones. */
int64_t crdt_expire(const struct crdt *c);
struct crdt_num {
    bool is_float; /* some part is a float (or the base reads as one) */
    int64_t i;     /* the value when !is_float */
    long double f; /* the value when is_float */
};
/* The register a read shows when concurrent ones exist: for bytes the
 * greatest in byte order (a longer value wins a common prefix), for scores
 * the largest.  NULL when el has no REG entry. */
const struct crdt_entry *crdt_reg_pick(const struct crdt_elem *el, uint8_t type);
/* Number of REG entries (concurrent values: > 1 is a conflict a V-command
 * lists, each entry with its dot). */
uint32_t crdt_reg_count(const struct crdt_elem *el);
/* The numeric value of el: the picked register (0 when none; bytes parsed
 * as Redis parses an integer, else as a float) plus every actor's total.
 * 0, KV_ENOTNUM (the picked register is not a number), or KV_EOVERFLOW (an
 * integer sum outside int64; only concurrent increments each within range
 * can build it). */
int crdt_num(const struct crdt_elem *el, uint8_t type, struct crdt_num *out);
/* Appends the value a Redis read shows for el: the picked register's bytes
 * when el has no counter entries (or when they cannot apply to it:
 * KV_ENOTNUM, the counters stay in the state), else the number (integer in
 * decimal, float as Redis's INCRBYFLOAT prints it).  A zset score prints
 * as ZSCORE does.  0 or the errors of crdt_num except KV_ENOTNUM. */
int crdt_value(const struct crdt_elem *el, uint8_t type, struct buf *out);
/* Parses a float as Redis's string2ld does (HINCRBYFLOAT's increment, a
 * register read as a number): strtold over exactly s[0..n), no leading
 * space, no NaN, no overflow; false when the text is not such a float. */
bool crdt_parse_float(const char *s, size_t n, long double *out);
/* ZSCORE: the member's score (crdt_num as a double). 0 or KV_ENOTFOUND. */
int crdt_zset_score(const struct crdt *c, const void *m, size_t mlen, double *score);

/* ---- ordered views of a sorted set (crdt_order.c) ---- */
struct crdt_zmember {
    const struct crdt_elem *el; /* borrowed (crdt_find rules): the member
                                   is its key */
    double score;               /* as crdt_zset_score reads it */
};
/* Fills out[0..n) with the members of zset c that have entries, sorted as
 * Redis orders a sorted set (ZRANGE, ZRANK, ZPOPMIN): by score, then by
 * member bytes (memcmp, a prefix first); -0 and 0 tie.  Returns n (=
 * crdt_count(c)); out must have room for crdt_count(c) members.  0 when c
 * is not a CRDT_ZSET.  O(n log n), no allocation. */
uint32_t crdt_zset_sorted(const struct crdt *c, struct crdt_zmember *out);
/* Same members, sorted by member bytes only (ZRANGEBYLEX, ZLEXCOUNT: the
 * order Redis gives members of equal score). */
uint32_t crdt_zset_sorted_lex(const struct crdt *c, struct crdt_zmember *out);

/* ---- codec (crdt_codec.c) ----
 * Canonical: equal states encode to the same bytes on every node (actors by
 * name, elements by key bytes, entries by (actor name, counter)).
 *   u8 version (1), u8 type, u8 flags (bit 0: scoped, bit 1: holes follow,
 *          bit 2: expiry follows)
 *   varint actors, per actor u8 name length + name (strictly increasing)
 *   varint vc entries, per entry varint actor index (increasing), varint counter
 *   varint cloud dots, per dot varint actor index, varint counter (sorted,
 *          each above the actor's prefix + 1)
 *   with flag bit 1: varint holes (>= 1), per dot varint actor index,
 *          varint counter (sorted, each in the context)
 *   with flag bit 2 (set when a scoped state's expiry is in scope, or a
 *          full state has expiry entries): varint entries (>= 1 in a full
 *          state), per entry varint actor index, varint counter (sorted,
 *          in the context, not a hole), varint ms (>= 1, <= INT64_MAX)
 *   varint elements, per element varint key length, key bytes (strictly
 *          increasing), varint entries, per entry u8 kind, varint actor
 *          index, varint counter, payload (REG bytes: varint length + bytes;
 *          REG score and CNT_FLOAT: 8-byte LE IEEE double; CNT_INT: zigzag
 *          varint)
 */
void crdt_encode(const struct crdt *c, struct buf *out);
/* Decodes what crdt_encode wrote, validating everything: limits above,
 * key length <= max_key and register length <= max_val, canonical order,
 * every dot in the context and used once, kinds allowed by the type, at
 * most one counter entry per actor per element, no NaN, every actor of the
 * table used, holes in the context and on no entry.  0, KV_EPROTO (malformed) or KV_EBADCTX (an actor name the
 * clock codec refuses); on error c is an empty state of type CRDT_NONE.
 * c: caller memory, initialised by the call (free with crdt_fini). */
int crdt_decode(struct crdt *c, const void *p, size_t len, size_t max_key, size_t max_val);
/* Digest for anti-entropy: equal on every node holding the same state,
 * whatever the order of operations or actor ids; never 0. O(state). */
uint64_t crdt_digest(const void *key, size_t klen, const struct crdt *c);
/* Digest of the type, the scoped flag, the context and the holes only:
 * O(actors + cloud + holes), actors by name, so equal on every node holding
 * the same context and holes whatever the order of operations or actor
 * ids; never 0.  Since a key's state is a function of its context and
 * holes ("Holes" above), it identifies the state among the states of one
 * key's history: the anti-entropy digest of a typed key.  Not a digest of
 * arbitrary decoded bytes: a forged state can pair a context with any
 * entries (crdt_digest covers those, at O(state)). */
uint64_t crdt_ctx_digest(const struct crdt *c);

#endif
