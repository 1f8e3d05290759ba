/* store.h — the node's in-memory key space: key -> sibling set. Pure module.
 *
 * Memory layout (the point of this module): each key is ONE allocation
 * holding the chain link, hash, key bytes and a packed array of versions
 * (value pointer, expiry, packed clock and dot).  Values are shared struct val
 * references.  A single-version key with a small clock costs roughly
 * 16 + klen + 30 bytes plus its value.  The hash table is chained and grows
 * by doubling with incremental rehashing (a bounded number of buckets moved
 * per operation), so no single operation stalls on a large table.
 *
 * Readers get a borrowed view of an entry valid until the next mutation of
 * the store.  Writers reconcile through the siblings rules (siblings.h).
 * Hashing: MurmurHash3 (libmurmurhash, lmmh_x86_32).
 */
#ifndef KV_STORE_H
#define KV_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siblings.h"

struct store;
struct store_entry; /* opaque */

/* Borrowed view of one stored version. */
struct store_vref {
    struct val *val;         /* borrowed; NULL = tombstone */
    int64_t expire_ms;
    const uint8_t *clock;    /* version_pack_clock bytes, borrowed */
    size_t clock_len;
};

struct store *store_create(void);
void store_destroy(struct store *s);                     /* accepts NULL */

size_t store_count(const struct store *s);               /* keys held, tombstone-only keys included */
size_t store_count_valued(const struct store *s);        /* keys with a value version, O(1) */
/* Keys with a value version in hash slot `slot` (slot.h; < SLOT_COUNT),
 * expired ones not yet removed included; *expiring (may be NULL) = those
 * of them whose every value has an expiry, so when it is 0 every key
 * counted is live.  O(1). */
size_t store_count_slot(const struct store *s, unsigned slot, size_t *expiring);
/* Keys with a value version that has not expired at now (ms): amortised
 * O(1) (pops the expiry times that passed since the last call). */
size_t store_count_live(struct store *s, int64_t now);
void store_flush(struct store *s);                       /* removes everything */
/* A bound of the flush epochs of every version ever stored (>= each). */
uint32_t store_max_epoch(const struct store *s);
/* A cluster flush (replica.h; store_epoch.c): removes every version stamped
 * before flush epoch `epoch` (store_flush when store_max_epoch says every
 * version is older, else one scan).  Returns the number of keys removed.
 * O(keys); not for use inside a scan callback. */
size_t store_drop_before(struct store *s, uint32_t epoch);

/* HOT: returns the entry for key or NULL. Borrowed until the next mutation. */
const struct store_entry *store_find(struct store *s, const void *key, size_t klen);
unsigned store_entry_nversions(const struct store_entry *e);
void store_entry_version(const struct store_entry *e, unsigned i, struct store_vref *out);
const char *store_entry_key(const struct store_entry *e, size_t *klen);
/* An upper bound of sib_encode's output for e's versions (see
 * sib_encoded_bound); 0 for NULL. */
size_t store_entry_encoded_bound(const struct store_entry *e);
/* Decodes every version of e into out (out must be empty; takes val refs). */
void store_entry_load(const struct store_entry *e, struct sibset *out);

/* Reconciles one version into key's set (v borrowed).  Returns 1 when the
 * stored set changed, 0 when v was equal to or dominated by a stored one,
 * KV_EMAXSIB when keeping v would leave more than SIB_MAX_VERSIONS versions
 * (nothing changes: a set the codecs would refuse is never stored). */
int store_put_checked(struct store *s, const void *key, size_t klen, const struct version *v);
/* The read-modify-write of a key's versions in place (typed states,
 * issue 14): loads key's versions into a set (empty when absent) and calls
 * fn, which may change a typed state of the set in place when the set and
 * the store hold its only references (val_refs() == 2; sib_add_shared with
 * own_refs 2 does so).  fn returns > 0 when it changed the set (which is
 * then stored; an empty set removes the key), 0 for no change, or an error
 * (< 0, and it must not have changed anything).  Returns fn's result.
 * store_put_checked of a typed version goes through here. */
typedef int (*store_update_fn)(void *arg, struct sibset *set);
int store_update(struct store *s, const void *key, size_t klen, store_update_fn fn, void *arg);
/* store_put_checked() > 0. */
bool store_put(struct store *s, const void *key, size_t klen, const struct version *v);
/* Reconciles a whole set (each version as store_put_checked): 1 changed, 0
 * unchanged, KV_EMAXSIB when some version was refused (the others apply). */
int store_put_set_checked(struct store *s, const void *key, size_t klen,
                          const struct sibset *set);
/* store_put_set_checked() > 0, kept for callers that only care about change. */
bool store_put_set(struct store *s, const void *key, size_t klen, const struct sibset *set);
/* Replaces key's set with exactly set (no reconcile; used after the caller
 * reconciled itself).  An empty set removes the key. */
void store_replace(struct store *s, const void *key, size_t klen, const struct sibset *set);
/* Physically removes key (FLUSHALL, tombstone reaping). Returns true if present. */
bool store_remove(struct store *s, const void *key, size_t klen);

/* Iteration that tolerates mutations between calls (Redis SCAN's reverse
 * binary cursor): calls fn for the entries of some buckets, visiting at least
 * `count` entries when that many remain, and returns the next cursor
 * (0 = done).  Every key present for the whole scan is visited at least once. */
typedef void (*store_scan_fn)(void *arg, const struct store_entry *e);
uint64_t store_scan(struct store *s, uint64_t cursor, size_t count, store_scan_fn fn, void *arg);

/* Picks a random entry (RANDOMKEY); NULL when empty. */
const struct store_entry *store_random(struct store *s);

/* Bytes of bookkeeping (tables + entries, values excluded) for INFO. */
size_t store_overhead(const struct store *s);

#endif
