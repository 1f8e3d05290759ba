/* aof.h — the append-only log: what a node stores survives kill -9.
 *
 * One file per node, <dir>/<node-name>.aol.  Every change to the node's
 * store or hint stores is appended as a record holding the key's complete
 * set of versions after the change (an empty set = the key is gone), so
 * replay is "last record per key wins" and needs no reconciliation.  Records
 * are queued and written with one write(2) per batch of requests, before any
 * reply of that batch leaves (aof_flush), so nothing is acknowledged to a
 * client or a coordinator before it is in the file: a process crash loses
 * nothing acknowledged;
 * appendfsync decides what a machine crash can lose: always (fdatasync
 * before the ack), everysec (a background thread fdatasyncs once a second),
 * no (the kernel decides).
 *
 * Record framing: aof_scan.h.  At start the file is replayed, and the log
 * never drops a record it wrote:
 *   - a torn tail (a write cut short by a crash) is cut off and reported,
 *     and a copy of the cut bytes is kept as <log>.torn.<ms>;
 *   - damaged bytes between good records are skipped (the scan finds the
 *     next whole record), reported, and a copy of the log is kept as
 *     <log>.corrupt.<ms>;
 *   - a record that passes its checksum but cannot be applied (written by a
 *     newer version, say) is reported, skipped, and kept: every rewrite
 *     carries it into the new file.
 *
 * Writing: a failed write or fdatasync makes the log "broken" (see aof.c):
 * replies that acknowledge unwritten changes are held (aof_durable), writes
 * are refused (aof_writable), retries back off, and all of it resumes by
 * itself once the disk takes the bytes again.
 *
 * Compaction (BGREWRITEAOF, or automatic when the file doubled past
 * auto-aof-rewrite-min-size): a forked child writes every live key and hint
 * to a new file from its copy-on-write snapshot while the parent keeps
 * appending, also into a rewrite buffer; when the child is done the parent
 * appends that buffer to the new file and renames it into place.  Clients
 * wait only for the fork itself.
 */
#ifndef KV_AOF_H
#define KV_AOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/aof_scan.h"

struct event_base;
struct cfg;
struct store;
struct sibset;
struct buf;
struct aof;

/* The hint stores, which the log records but does not own (they belong to
 * hinted handoff, a layer above): main.c fills this in.  Both functions
 * NULL = no hint stores (a single node). */
typedef void (*aof_hint_store_fn)(void *fn_arg, const char *owner, struct store *hints);
struct aof_hints {
    /* Replay: owner's hint for key becomes exactly set (empty = removed).
     * owner is a node name, olen bytes, not NUL-terminated; set is
     * borrowed.  false when owner is not known (or there are no hint
     * stores): the log then keeps non-empty versions as local data, which
     * the transfer hands to the key's owners. */
    bool (*load)(void *arg, const char *owner, size_t olen, const void *key, size_t klen,
                 const struct sibset *set);
    /* Rewrite (runs in the forked child, so it must only read memory):
     * calls fn(fn_arg, owner name, hints) for every non-empty hint store. */
    void (*foreach_store)(void *arg, aof_hint_store_fn fn, void *fn_arg);
    /* Replay of a flush record: drop every hint stamped before epoch.  May
     * be NULL. */
    void (*drop_before)(void *arg, uint32_t epoch);
    void *arg;
};

/* Opens (creating) the log <cfg->dir>/<cfg->node_name>.aol and replays it
 * into store and, through hints (copied; may be NULL), the hint stores.
 * base (its housekeeping timer runs there), store and cfg are borrowed and
 * must outlive the log; cfg is read live (appendfsync and the
 * auto-aof-rewrite settings may change at run time).  Returns NULL with a
 * reason in err when the file cannot be opened or created. */
struct aof *aof_open(struct event_base *base, struct store *store, const struct cfg *cfg,
                     const struct aof_hints *hints, struct buf *err);
void aof_close(struct aof *a);   /* final fsync; accepts NULL */

/* key's versions changed: log set, what is stored now (empty = removed). */
void aof_log_key(struct aof *a, const void *key, size_t klen, const struct sibset *set);
/* Queues a merge record: set, reconciled into the key's versions by
 * replay as it was live (a typed state's delta, issue 14: the record holds
 * the change, not the whole state). */
void aof_log_merge(struct aof *a, const void *key, size_t klen, const struct sibset *set);
/* The hint for key owed to the node named owner (NUL-terminated, at most
 * 255 bytes: a member name) changed: log its current versions in hints. */
void aof_log_hint(struct aof *a, const char *owner, struct store *hints, const void *key,
                  size_t klen);
/* A flush (FLUSHALL, replica.h): every version stamped before flush epoch
 * `epoch` was dropped.  The record carries the epoch (replay drops the
 * same versions, and every rewrite starts with the latest epoch, so it
 * survives compaction); epoch 0 is a plain "everything so far". */
void aof_log_flush(struct aof *a, uint32_t epoch);
/* The highest flush epoch logged or replayed (0 with no log). */
uint32_t aof_epoch(const struct aof *a);

/* Writes the queued records (and fdatasyncs with appendfsync always).
 * The server calls it before writing any reply; accepts NULL.  true when
 * everything queued so far is durable; false while the log is broken (the
 * records stay queued; retries are rate-limited to the back-off). */
bool aof_flush(struct aof *a);

/* false while the log is broken: commands that write must be refused.
 * NULL (no log) is always writable. */
bool aof_writable(const struct aof *a);
/* The reason the log is broken (strerror text), or NULL. */
const char *aof_error(const struct aof *a);
/* A mark for "everything queued up to now": a reply that acknowledges a
 * change may leave only once aof_durable(a, mark) holds. */
unsigned long long aof_queued_seq(const struct aof *a);
bool aof_durable(const struct aof *a, unsigned long long seq);
/* fn(arg) runs (on the loop) when a broken log has become writable again
 * and every held record is durable. */
typedef void (*aof_resume_fn)(void *arg);
void aof_set_resume(struct aof *a, aof_resume_fn fn, void *arg);
/* Whether key in store s could still be logged as one record after the
 * versions of in are merged into it (a conservative bound; always true
 * without a log).  The local write paths ask this first and refuse the
 * write (KV_ETOOBIG, never an ack) when it says no. */
bool aof_fits_merge(const struct aof *a, struct store *s, const void *key, size_t klen,
                    const struct sibset *in);

/* Starts a background compaction.  0, or -EBUSY when one runs, -errno. */
int aof_rewrite_start(struct aof *a);

/* Appends the INFO persistence fields. */
void aof_info(const struct aof *a, struct buf *out);

#endif
