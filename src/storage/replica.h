/* replica.h — the local replica's write path.
 *
 * Every change to this node's own copy of the data goes through here, so
 * the three things that must follow a change always do: reconcile into the
 * store, append to the log (before the change is acknowledged), and update
 * the anti-entropy hash trees.  Callers: coord (its own stamped writes and
 * read repair), cmd_peer (PPUT), anti-entropy repairs, FLUSHALL, and the
 * transfer of keys this node no longer owns (xfer).
 */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kv_node;
struct sibset;
struct version;

/* Reconciles set (borrowed) into key's versions.  True when they changed. */
bool replica_put_set(struct kv_node *n, const void *key, size_t klen, const struct sibset *set);
/* Same, and fills stored (empty on entry) with key's versions as they are
 * now, changed or not — what a replica reports back to its coordinator.
 * Returns 1 changed, 0 unchanged, or KV_EMAXSIB when some version was
 * refused because the key would exceed SIB_MAX_VERSIONS (siblings.h), or
 * KV_ETOOBIG when the key's versions would be too large for one log record
 * (aof_fits_merge; nothing changes), or KV_ELOG while the log cannot be
 * written (nothing changes): the replica must then answer an error, never
 * an ack. */
int replica_put_set_stored(struct kv_node *n, const void *key, size_t klen,
                           const struct sibset *set, struct sibset *stored);
/* Same for one version: 1, 0, KV_EMAXSIB, KV_ETOOBIG or KV_ELOG. */
int replica_put(struct kv_node *n, const void *key, size_t klen, const struct version *v);
/* Removes key's versions from this node (they were handed to the key's
 * owners) if every version stored now is covered by sent; true if so. */
bool replica_drop_if_covered(struct kv_node *n, const void *key, size_t klen,
                             const struct sibset *sent);
/* Removes key when its versions' anti-entropy digest is still digest
 * (tombstone reaping); true if so. */
bool replica_drop_if_digest(struct kv_node *n, const void *key, size_t klen, uint64_t digest);
/* Empties the store (FLUSHALL). */
void replica_flush(struct kv_node *n);

#endif
