/* coord.h — request coordination (Dynamo §4.5): one request record per
 * quorum read or write over the key's preference list.  The rules below
 * (accounting, stamping, substitutes, hints, read repair, supersede) are
 * the pure quorum core's (core/quorum.h, unit-tested alone); this module is
 * its I/O shell.
 *
 * Callbacks: every coord_* call either completes before returning (returns 0,
 * the callback has already run) or later from the event loop (returns 1).
 * Pointers handed to a callback are valid only during it.
 *
 * Stamping a write (the coordinator's job), with dotted version vectors
 * (siblings.h):
 *   L = the versions stored locally for the key
 *   C = the client's context (VPUT/VDEL), or the merge of L's clocks for
 *       SET/DEL
 *   the new version's dot is (this node's actor, k) with k = 1 + the
 *   highest counter of that actor in L's clocks and in C; its context is C.
 *   It supersedes exactly the versions whose dot C covers; everything else
 *   stays its sibling.  So a blind write onto an existing key is concurrent
 *   with what it did not see, without minting a new clock actor: a key's
 *   clock holds one entry per coordinator incarnation.  (The previous
 *   design stamped such writes on a fresh single-use actor per write, which
 *   grew the actor table without bound.)
 * Refusals, before anything is stored or sent (the callback gets the error):
 *   - KV_EBADCTX: a client's C (COORD_W_CLIENT_CTX) names a counter of this
 *     node's actor above the highest one it issued for the key (known when
 *     it owns and holds the key), or any C reaches VC_MAX_COUNTER (the
 *     codecs refuse above it).  Contexts the node built itself (SET's read,
 *     a supersede) may legitimately know more than the local copy, e.g.
 *     after a FLUSHALL of this node: the dot then just goes above them.  A forged
 *     context can then never make a later write equal to a stored one.
 *   - KV_EMAXSIB: the write would leave the key with more than max-siblings
 *     versions, and more than it has now (resolving writes always pass).
 *     Above siblings-warn the write is logged (at most a line a second)
 *     and counted (INFO sibling_warnings).
 * The replicas are sent the coordinator's whole set after the write (the
 * new version alone when it superseded everything).  A coordinator that
 * does not own the key (its owners look down) stores nothing, so its
 * counters come from a node-wide floor instead, which keeps dots unique.
 * Known limit: such a coordinator cannot send along the earlier writes its
 * dot skips, so a reader that meets only the later of two such writes of
 * one key (both made while every owner looked down) gets a context that
 * also covers the earlier one.
 * The context returned to the writer is the new clock, without the dot
 * when the dot skipped counters the writer did not see.
 */
#ifndef KV_COORD_H
#define KV_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/siblings.h"
#include "core/vclock.h"

#include "net/peer.h"

struct cfg;
struct store;
struct replica;
struct peers;
struct members;
struct handoff;
struct coord;

/* What the coordinator works with; all borrowed, and all must outlive it
 * (peers: until after peers_destroy, whose callbacks may still reach it). */
struct coord_deps {
    const struct cfg *cfg;     /* read live: N/W/R, timeouts, sibling limits */
    struct store *store;       /* this node's versions (read directly) */
    struct replica *replica;   /* this node's copy of a write (logged first) */
    struct peers *peers;       /* replica requests; NULL without a cluster */
    struct members *members;   /* preference lists, liveness */
    struct handoff *hh;        /* hints this node keeps as a substitute; NULL without a cluster */
    uint32_t actor;            /* this node's clock identity (name.incarnation) */
    int self_idx;              /* this node's index in cfg->nodes */
};

struct coord_stats {
    uint64_t forwarded;          /* writes sent to their coordinator */
    uint64_t quorum_failures;    /* requests answered KV_ENOQUORUM */
    uint64_t replica_answers;    /* remote replica answers received */
    uint64_t replica_latency_us; /* summed latency of those answers */
    uint64_t hinted_writes;      /* replica copies sent to substitutes */
    uint64_t read_repairs;       /* stale replicas sent the reconciled set */
    uint64_t superseding_writes; /* plain writes redone over versions a stale
                                    coordinator had not seen */
    uint64_t sibling_warnings;   /* writes leaving more than siblings-warn versions */
    uint64_t sibling_writes_refused; /* writes refused by max-siblings */
};

/* set: the reconciled versions (borrowed; empty when not found). */
typedef void (*coord_read_cb)(void *arg, int err, const struct sibset *set);
/* stored: the written version's clock (borrowed). */
typedef void (*coord_write_cb)(void *arg, int err, const struct vclock *stored);

/* Created by main.c once the log was replayed (deps is copied). */
struct coord *coord_create(const struct coord_deps *deps);
void coord_destroy(struct coord *co);          /* accepts NULL */

/* Quorum read of key with r answers (0 = configured r), pr of them from
 * the key's owners (0 = configured pr).  Sloppy: it asks the first N
 * healthy nodes of the key's ring walk (a substitute stands in for each
 * owner that looks down and answers with its store and the hints it keeps
 * for the key), so it succeeds whenever r of them answer; pr > 0 asks for
 * that many answers from owners themselves (Riak's PR), for callers who
 * want R + W > N to hold among owners.  Read repair writes owners only. */
int coord_read(struct coord *co, const void *key, size_t klen, int r, int pr, coord_read_cb cb,
               void *arg);

/* The read a coordinator does before a write that depends on the current
 * value.  fresh = false (plain SET/DEL): its own versions when it holds the
 * key (a stale copy is corrected after the write, see COORD_W_SUPERSEDE),
 * else a quorum read (a fresh key, or this node restarted without its
 * data).  fresh = true (INCR, SET NX, GETDEL...): always a quorum read,
 * merged with the local copy.  Bounded by half of put-timeout. */
int coord_read_for_write(struct coord *co, const void *key, size_t klen, bool fresh,
                         coord_read_cb cb, void *arg);

/* coord_write flags */
#define COORD_W_SUPERSEDE (1u << 0) /* a plain SET/DEL: if replicas report versions
                                       the write did not cover (this coordinator's
                                       copy was stale), write again over them */
#define COORD_W_CLIENT_CTX (1u << 1) /* ctx came from a client (VPUT/VDEL): refuse
                                       counters of this node's actor it never
                                       issued for the key (KV_EBADCTX) */

/* Coordinated write.  ctx NULL = the local context (SET/DEL semantics).
 * val: borrowed (a reference is taken); NULL writes a tombstone.
 * w: 0 = configured w.  pw: acks needed from the key's owners themselves,
 * not counting substitutes' hints (0 = configured pw).  timeout_ms: 0 =
 * put-timeout. */
int coord_write(struct coord *co, const void *key, size_t klen, const struct vclock *ctx,
                struct val *val, int64_t expire_ms, int w, int pw, int timeout_ms,
                unsigned flags, coord_write_cb cb, void *arg);

/* A typed key's write (issue 14): the coordinator already applied it to
 * its own copy (replica_update; self_ok = that was taken, or this node is
 * not one of the key's owners); sends delta (borrowed: the operation's
 * delta, a typed version replicas join into their state) to the key's
 * owners or their substitutes (hints) and answers cb when W (pw of them
 * owners) acked, as coord_write.  stored in cb is an empty clock. */
int coord_write_delta(struct coord *co, const void *key, size_t klen, const struct sibset *delta,
                      bool self_ok, int w, int pw, int timeout_ms, coord_write_cb cb, void *arg);

const struct coord_stats *coord_stats(const struct coord *co);

/* ---- forwarding a command to the key's coordinator ----
 * A write is coordinated by the first live node of its key's preference
 * list (members_write_target).  A node that is not it forwards the whole
 * client command there as PFWDR deadline-ms proto command..., and a node
 * that got one coordinates it or declines it (-NOTCOORD) when it cannot
 * reach a write quorum, never forwarding it again.  The coordinator answers
 * with the command's reply encoded in the client's protocol (2 or 3), as
 * one bulk string the forwarding node passes on byte for byte: RESP3 maps,
 * sets and doubles, nested and large replies all arrive as the client would
 * have had them from the coordinator. */
#define COORD_ROUTE_HERE (-1)    /* coordinate the command on this node */
#define COORD_ROUTE_DECLINE (-2) /* asked to coordinate (PFWD) but cannot reach W */

/* Where a write of key is coordinated: COORD_ROUTE_HERE, COORD_ROUTE_DECLINE
 * (via_peer: the command arrived as PFWD, and this node cannot reach a
 * write quorum for key: nothing may be stamped or stored, the sender tries
 * the next node), or the index of the node to forward it to (>= 0). */
int coord_route(struct coord *co, const void *key, size_t klen, bool via_peer);

struct coord_fwd_result {
    int err;                     /* 0, or KV_ENOQUORUM */
    bool unknown;                /* err: the last coordinator tried did not answer
                                    in time (the command may or may not have been
                                    applied); false: every candidate declined
                                    (nothing was written) */
    int node;                    /* the last coordinator tried (config index) */
    const struct peer_reply *rep;/* err == 0: its reply (borrowed) */
};
/* res and what it points to are valid only during the call. */
typedef void (*coord_forward_cb)(void *arg, const struct coord_fwd_result *res);

/* Forwards a client command (argv[0..argc), borrowed: copied) on key to
 * target, the node coord_route chose, with the put-timeout deadline.
 * counts: applying the command twice would count twice (INCRBY, ZINCRBY,
 * SPOP...): it is then never passed on after a link lost with it sent.  The
 * candidates are key's preference list from target on: the next one is
 * tried only when one certainly did not apply it (disconnected, or
 * -NOTCOORD); a timeout ends with err KV_ENOQUORUM, unknown set.  cb runs
 * exactly once, possibly before this returns. */
void coord_forward_cmd(struct coord *co, const void *key, size_t klen, int target, int proto,
                       bool counts, int argc, const char *const *argv, const size_t *lens,
                       coord_forward_cb cb, void *arg);

/* Local versions of key (coordinator-side read for read-modify-write
 * commands). out must be empty. */
void coord_local_load(struct coord *co, const void *key, size_t klen, struct sibset *out);

#endif
