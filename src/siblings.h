/* siblings.h — a key's set of versions (Dynamo §4.4). Pure module.
 *
 * A version is (value or tombstone, expiry, clock).  A sibling set holds
 * versions none of which dominates another.  Reconciling an incoming version:
 *   - equal to or dominated by a stored version  -> ignored (idempotent replays)
 *   - dominates stored versions                  -> those are dropped
 *   - concurrent with every remaining version    -> kept beside them
 * Two versions with EQUAL clocks are the same write; the stored one is kept.
 *
 * Ownership: a sibset owns its versions; each version owns one reference to
 * its value (NULL = tombstone) and its clock. */
#ifndef KV_SIBLINGS_H
#define KV_SIBLINGS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/val.h"
#include "vclock.h"

struct version {
    struct val *val;    /* NULL = tombstone */
    int64_t expire_ms;  /* absolute unix ms; 0 = never */
    struct vclock vc;
};

struct sibset {
    uint32_t n;
    uint32_t cap;
    struct version *v;
};

/* A version is live when it holds a value that has not expired at now_ms. */
static inline bool version_live(const struct version *v, int64_t now_ms)
{
    return v->val && (v->expire_ms == 0 || v->expire_ms > now_ms);
}

void version_init(struct version *v);
void version_fini(struct version *v);                 /* unrefs val, finis clock */
void version_copy(struct version *dst, const struct version *src); /* refs val */

void sib_init(struct sibset *s);
void sib_fini(struct sibset *s);
void sib_clear(struct sibset *s);
/* Reconciles a copy of v into s (v is borrowed). Returns true when s changed. */
bool sib_add(struct sibset *s, const struct version *v);
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

/* Number of live versions at now_ms. */
unsigned sib_live_count(const struct sibset *s, int64_t now_ms);
/* True when every version of b is equal to or dominated by some version of a
 * (a holds everything b knows). Used by read repair to find stale replicas. */
bool sib_covers(const struct sibset *a, const struct sibset *b);

/* Wire codec for a whole set (between nodes): count, then per version a flag
 * byte (tombstone / has expiry), expiry, value length + bytes, vc_encode'd
 * clock.  Decoding validates every length against len and max_val; returns
 * 0 or KV_EPROTO / KV_EBADCTX. */
void sib_encode(const struct sibset *s, struct buf *out);
int sib_decode(struct sibset *s, const void *p, size_t len, size_t max_val);

#endif
