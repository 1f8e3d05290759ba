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
 * Record: u32 payload length, u32 checksum (MurmurHash3 x86_32 of type and
 * payload), u8 type, payload.  At start the file is replayed; a torn or
 * corrupt tail (crash mid-write, damaged bytes) is detected by length and
 * checksum, truncated to the last good record and reported — never a refusal
 * to start.
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

struct kv_node;
struct store;
struct sibset;
struct buf;
struct aof;

/* Opens (creating) the node's log and replays it into node->store and
 * node->hh (when present).  Returns NULL with a reason in err when the file
 * cannot be opened or created. */
struct aof *aof_open(struct kv_node *node, struct buf *err);
void aof_close(struct aof *a);   /* final fsync; accepts NULL */

/* key's versions changed: log set, what is stored now (empty = removed). */
void aof_log_key(struct aof *a, const void *key, size_t klen, const struct sibset *set);
/* owner's hint for key changed: log its current versions in hints. */
void aof_log_hint(struct aof *a, int owner, struct store *hints, const void *key, size_t klen);
/* The whole store was emptied (FLUSHALL). */
void aof_log_flush(struct aof *a);

/* Writes the queued records (and fdatasyncs with appendfsync always).
 * The server calls it before writing any reply; accepts NULL. */
void aof_flush(struct aof *a);

/* Starts a background compaction.  0, or -EBUSY when one runs, -errno. */
int aof_rewrite_start(struct aof *a);

/* Appends the INFO persistence fields. */
void aof_info(const struct aof *a, struct buf *out);

#endif
