/* handoff.h — hinted handoff (Dynamo §4.6): versions kept on behalf of
 * replicas that could not be reached, delivered when they come back.
 *
 * Hints live beside the data, one key space per intended owner (a struct
 * store, so repeated writes of one key while its owner is down reconcile
 * into one hint instead of queueing).  They are bounded by max-hints keys in
 * all; beyond that a hint is refused (the write then does not count it
 * toward W).  A drain timer (every 100 ms) sends each reachable owner at
 * most handoff-rate/10 hints per tick as ordinary replica writes (PPUT), one
 * batch in flight per owner, and deletes a hint only after the owner acked
 * it and only if no newer version was added to it meanwhile.
 */
#ifndef KV_HANDOFF_H
#define KV_HANDOFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siblings.h"
#include "util/buf.h"

struct event_base;
struct cfg;
struct peers;
struct members;
struct aof;
struct replica;
struct handoff;

/* What hinted handoff works with; all borrowed, and all must outlive it
 * (peers: until after peers_destroy, whose callbacks may still reach it). */
struct hh_deps {
    struct event_base *base;   /* the drain timer */
    const struct cfg *cfg;     /* read live: names, max-hints, handoff-rate, put-timeout */
    struct peers *peers;       /* PPUT to the owners */
    struct members *members;   /* is an owner up / still a ring member */
    int self_idx;              /* this node's index in cfg->nodes */
};

/* Created by main.c before the log is replayed (the replay loads hints
 * into it); deps is copied.  The drain timer is armed at once but only
 * fires from the event loop. */
struct handoff *hh_create(const struct hh_deps *deps);
/* The log hints are written to (NULL with appendonly no) and the local
 * write path a node-that-left's hints are absorbed into: known only once
 * the log is open, so main.c hands them over then, before the loop runs. */
void hh_set_storage(struct handoff *h, struct aof *aof, struct replica *replica);
void hh_destroy(struct handoff *h);        /* accepts NULL */

/* Stores (reconciles) set as a hint for owner.  set borrowed.  Returns false
 * when max-hints is reached and the key is not already hinted. */
bool hh_add(struct handoff *h, int owner, const void *key, size_t klen, const struct sibset *set);

/* Replay of the append-only log: key's hint for owner becomes exactly set
 * (an empty set removes it). */
void hh_load(struct handoff *h, int owner, const void *key, size_t klen, const struct sibset *set);

/* A flush (replica_flush_to): removes every hint stamped before flush
 * epoch `epoch`, for every owner (the log's flush record covers them).
 * Returns the number of hinted keys removed. */
size_t hh_drop_before(struct handoff *h, uint32_t epoch);

/* Calls fn for every owner that has a hint store (log compaction). */
struct store;
typedef void (*hh_store_fn)(void *arg, int owner, struct store *hints);
void hh_foreach_store(struct handoff *h, hh_store_fn fn, void *arg);

/* owner is not in the ring (called by the drain tick): its hints become
 * this node's own versions (logged),
 * which the transfer of keys (xfer.h) then hands to the keys' current
 * owners.  Returns how many keys moved. */
size_t hh_absorb(struct handoff *h, int owner);

struct hh_stats {
    uint64_t pending;     /* keys hinted now, all owners */
    uint64_t stored;      /* hints accepted since start */
    uint64_t delivered;   /* hints acked by their owner and deleted */
    uint64_t refused;     /* hints refused because max-hints was reached */
};
void hh_stats(const struct handoff *h, struct hh_stats *out);
uint64_t hh_pending_for(const struct handoff *h, int owner);
/* Merges into out every hint held for key, whichever owner it is for (a
 * substitute's answer to a sloppy read). */
void hh_merge_hints(const struct handoff *h, const void *key, size_t klen, struct sibset *out);
/* True when a hint for key is held for any owner. */
bool hh_holds(const struct handoff *h, const void *key, size_t klen);
uint64_t hh_delivered_to(const struct handoff *h, int owner);

#endif
