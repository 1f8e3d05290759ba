/* replica.h — the local replica's write path.
 *
 * Every change to this node's own copy of the data goes through here, so
 * the things that must follow a change always do: reconcile into the
 * store, append to the log (before the change is acknowledged; a write the
 * log cannot take is refused), and tell the observer registered from
 * main.c (which updates the anti-entropy hash trees and lets the transfer
 * pick up stray keys).  The storage layer calls nothing above it: what the
 * cluster does with a change it learns through the observer.  Callers:
 * coord (its own stamped writes and read repair), cmd_peer (PPUT, PFLUSH),
 * anti-entropy repairs, FLUSHALL (flush.c), gossip's flush epoch (main.c),
 * the reaper, hint absorption, and the
 * transfer of keys this node no longer owns (xfer).  main.c creates the
 * one struct replica (node->replica) once the log is open.
 */
#ifndef KV_REPLICA_H
#define KV_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aof;
struct replica;
struct sibset;
struct store;
struct version;

/* Told about every change made here, after it is stored and logged.  Any
 * callback may be NULL.  Pointers passed are valid only during the call;
 * the callbacks must not write through replica_* themselves. */
struct replica_observer {
    /* key's versions changed: before is the sib_digest of what was stored
     * before (0 = nothing), stored what is stored now (empty = removed).
     * The stored versions are decoded once per change and shared with the
     * log; when on_change is NULL the digest before is not computed. */
    void (*on_change)(void *arg, const void *key, size_t klen, uint64_t before,
                      const struct sibset *stored);
    /* Versions that came from elsewhere (a replica write, a repair, a pull)
     * changed key, which this node may no longer own. */
    void (*on_arrived)(void *arg, const void *key, size_t klen);
    /* A flush: every version stamped before epoch was dropped from the
     * store (FLUSHALL; the hint stores are the observer's). */
    void (*on_flush)(void *arg, uint32_t epoch);
    void *arg;
};

/* The write path over store, logging to log (NULL = no log: every write is
 * accepted and nothing is logged); both borrowed, and must outlive it.
 * Returned new, freed by replica_destroy; no observer until one is set. */
struct replica *replica_create(struct store *store, struct aof *log);
void replica_destroy(struct replica *r); /* accepts NULL */

/* Registers r's observer (main.c, once the modules it feeds exist); obs is
 * borrowed and must outlive r; NULL removes it.  Only one observer: main.c
 * fans out to the modules. */
void replica_set_observer(struct replica *r, const struct replica_observer *obs);

/* Reconciles set (borrowed) into key's versions.  True when they changed. */
bool replica_put_set(struct replica *r, const void *key, size_t klen, const struct sibset *set);
/* Same, and fills stored (empty on entry) with key's versions as they are
 * now, changed or not — what a replica reports back to its coordinator.
 * Returns 1 changed, 0 unchanged, or KV_EMAXSIB when some version was
 * refused because the key would exceed SIB_MAX_VERSIONS (siblings.h), or
 * KV_ETOOBIG when the key's versions would be too large for one log record
 * (aof_fits_merge; nothing changes), or KV_ELOG while the log cannot be
 * written (nothing changes): the replica must then answer an error, never
 * an ack. */
int replica_put_set_stored(struct replica *r, const void *key, size_t klen,
                           const struct sibset *set, struct sibset *stored);
/* Same for one version: 1, 0, KV_EMAXSIB, KV_ETOOBIG or KV_ELOG. */
int replica_put(struct replica *r, const void *key, size_t klen, const struct version *v);
/* The coordinator's write of a typed key (issue 14; cmd/typed.c): calls
 * fn with key's versions as stored (empty when absent; store_update: fn
 * may change the typed state among them in place); fn applies the
 * command's operations and fills delta (empty on entry) with what the
 * replicas need to get the same change — one typed version holding the
 * operations' delta, clocked with what the coordinator had seen.  fn
 * returns > 0 when it changed the set, 0 when not, or an error (nothing
 * changed).  A change is logged as delta (a merge record: O(change), not
 * O(state)) and told to the observer.  Returns fn's result, or KV_ELOG
 * (fn not called) while the log cannot be written. */
typedef int (*replica_update_fn)(void *arg, struct sibset *set, struct sibset *delta);
int replica_update(struct replica *r, const void *key, size_t klen, replica_update_fn fn,
                   void *arg, struct sibset *delta);
/* Removes key's versions from this node (they were handed to the key's
 * owners) if every version stored now is covered by sent; true if so. */
bool replica_drop_if_covered(struct replica *r, const void *key, size_t klen,
                             const struct sibset *sent);
/* Removes key when its versions' anti-entropy digest is still digest
 * (tombstone reaping); true if so. */
bool replica_drop_if_digest(struct replica *r, const void *key, size_t klen, uint64_t digest);
/* Changes made through r since it was created (each changed key, each
 * flush): INFO's rdb_changes_since_last_save, as this node never saves a
 * snapshot. */
uint64_t replica_changes(const struct replica *r);
/* ---- flush epochs (FLUSHALL in a cluster; see replica.c) ---- */

/* The flush epoch this node knows: every version stamped before it is gone
 * from the store and refused by every function above (as if dominated).
 * New writes are stamped with it (coord.c).  0 for NULL. */
uint32_t replica_epoch(const struct replica *r);
/* Learns flush epoch `epoch`: when it is above the known one, drops every
 * version stamped before it in one pass (store_drop_before), logs a flush
 * record, tells the observer (which drops the hints), logs a line naming
 * why (a short text: "FLUSHALL from a client", "PFLUSH from a peer",
 * "learnt through gossip") and returns the
 * number of keys dropped; -1 (nothing done) when epoch is not newer. */
int64_t replica_flush_to(struct replica *r, uint32_t epoch, const char *why);
/* Appends the INFO persistence fields of flushes (flush_epoch, flushes,
 * last_flush_time, last_flush_keys, last_flush_usec,
 * flush_refused_versions). */
struct buf;
void replica_info(const struct replica *r, struct buf *out);

#endif
