/* typed.h — running the commands of the convergent types (hashes, sets,
 * sorted sets, counters; issue 14) at a key's coordinator.  Private to the
 * command layer: cmd_hash.c, cmd_set.c, cmd_zset.c, cmd_counter.c use it,
 * typed.c implements it.
 *
 * A typed key's state is a struct crdt (core/crdt.h) held inside one
 * version of the key (siblings.h: a "typed version"); replicas join the
 * deltas the coordinator ships, so nothing acknowledged is lost whatever
 * the order of delivery.  A command handler never sees versions, replicas
 * or the log: it parses its arguments, then calls cmd_typed, and its fn
 * runs later (at the key's coordinator, after the read) with the key's
 * state.  A write fn changes the state only through crdt operations on
 * typed_mut(t), handing every operation's delta to typed_took; typed.c
 * logs the joined delta, ships it to the replicas, waits for W and only
 * then sends the reply fn wrote (or -NOQUORUM...).
 *
 * What typed.c does before fn runs (fn never needs to):
 *   - forwards the whole command to the key's coordinator when that is
 *     another node (the reply comes back from there);
 *   - reads the key (its local copy when it holds one, else a quorum read);
 *     for TYPED_READ with r > 1 a quorum read merged with the local copy;
 *   - type checks: the key holds a string (or a typed state of another
 *     type) -> "-WRONGTYPE Operation against a key holding the wrong kind
 *     of value", as Redis words it; concurrent versions of different types
 *     (a partition wrote a string on one side and a set on the other) ->
 *     an error telling to read them with VGET / resolve with DEL or SET;
 *   - an expired or deleted state reads as absent (t->state == NULL).
 * The srcs of a command (SINTER's keys, ZUNIONSTORE's sources...) are
 * quorum-read the same way (each can be NULL = absent); a source of the
 * wrong type fails the command with WRONGTYPE before fn runs.
 *
 * Syntax errors: check them in the handler before calling cmd_typed (as
 * Redis does, a syntax error wins over WRONGTYPE and over an absent key);
 * fn may assume its arguments parse.
 *
 * Atomicity: fn runs with nothing else interleaved on this node.  Two
 * coordinators (a partition) can each run fn on their own state; their
 * deltas join by the type's rules (README "Data types").
 */
#ifndef KV_CMD_TYPED_H
#define KV_CMD_TYPED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "core/crdt.h"
#include "util/buf.h"

#define TYPED_READ 0u
#define TYPED_WRITE (1u << 0)   /* fn may change the key's state */
#define TYPED_NOCREATE (1u << 1) /* a write that never creates the key (SREM,
                                   HDEL, ZREM...): fn gets state NULL when
                                   absent and typed_mut is not called */

#define TYPED_CONVERT (1u << 2) /* counters (INCR...): a key holding one string
                                   becomes a counter whose base is that string;
                                   fn sees state NULL and typed_string(t) */

#define TYPED_OVERWRITE (1u << 3) /* STORE forms: a key holding a string or
                                   another type is replaced (fn sees state
                                   NULL, typed_reset/typed_mut build the new
                                   state, which supersedes the old versions) */

#define TYPED_SRCS_SETS (1u << 4) /* the srcs may also be sets (ZUNION and co. score
                                   a set's members 1, as Redis does): fn
                                   checks t->src[i]->type */

#define TYPED_MAX_SRCS 64       /* source keys of one command (more: the
                                   handler replies an error) */

struct typed_call {
    /* the key's state: NULL when absent (or expired / deleted).  For a
     * write it is the coordinator's own state: do not change it except
     * through typed_mut's pointer and crdt operations. */
    const struct crdt *state;
    /* the states of the srcs passed to cmd_typed (NULL = absent) */
    const struct crdt *src[TYPED_MAX_SRCS];
    int nsrc;
    uint32_t actor;       /* this coordinator's actor (the crdt ops' actor) */
    int proto;            /* the client's protocol (2 or 3) for the reply */
    int64_t now_ms;       /* the wall clock of this request (clock.h) */
    struct buf reply;     /* fn appends the whole client reply here (RESP) */
    /* the command's arguments (copies owned by typed.c: valid during fn) */
    int argc;
    const struct arg *argv;
    /* private to typed.c */
    struct typed_priv *priv;
};

/* fn of a command: reads t->state / t->src, appends the reply to
 * t->reply; a write fn changes the state via typed_mut + typed_took. */
typedef void (*typed_fn)(struct typed_call *t);

/* Runs a command on key (one of argv) of type `type` with flags
 * TYPED_READ / TYPED_WRITE [| TYPED_NOCREATE].  srcs: nsrc keys (pointing
 * into argv, may include key itself) read before fn runs; NULL/0 for none.
 * Replies to c (now, or later). */
void cmd_typed(struct client *c, int argc, const struct arg *argv, const struct arg *key,
               enum crdt_type type, unsigned flags, const struct arg *srcs, int nsrc,
               typed_fn fn);

/* A write fn's handle on the key's state: the state itself, created empty
 * (of the command's type) on the first call when the key is absent.  Only
 * for TYPED_WRITE commands.  Every change must be a crdt_* operation given
 * t->actor whose delta (caller memory the operation initialises) is then
 * passed to typed_took. */
struct crdt *typed_mut(struct typed_call *t);

/* Hands over an operation's delta (joined into the command's delta, then
 * finied).  Call it after every crdt operation on typed_mut's state, also
 * when the operation failed (its delta is then empty). */
void typed_took(struct typed_call *t, struct crdt *delta);

/* TYPED_CONVERT: the string the key holds (borrowed, valid during fn)
 * until typed_mut converts it; NULL when it holds none. */
const struct val *typed_string(const struct typed_call *t);

/* Replaces the key's whole content (the STORE forms: SINTERSTORE,
 * ZUNIONSTORE...): clears every observed element and the TTL (crdt_clear),
 * as Redis overwrites the destination.  Then add the new elements through
 * typed_mut.  When the result is empty the key is left cleared (absent). */
void typed_reset(struct typed_call *t);

/* A state without elements reads as an absent key everywhere (EXISTS,
 * TYPE, DBSIZE, SCAN): a set whose last member SREM removed is gone, as in
 * Redis, while its context stays until the key's tombstone is reaped. */

/* The reply of WRONGTYPE, for handlers that find it themselves. */
void typed_reply_wrongtype(struct buf *out);

/* What a key's versions hold at now (for the string commands and the key
 * space commands): */
#define TYPED_ABSENT 0   /* nothing live (a typed state without elements too) */
#define TYPED_STRING 1   /* byte strings only (siblings possibly) */
#define TYPED_STATE 2    /* one live typed state: *type, *state */
#define TYPED_CONFLICT 3 /* a live typed state beside other live versions */
struct sibset;
struct version;
/* A counter's value as the string GET shows (new reference), or NULL when
 * v is not a counter. */
struct val *typed_counter_string(const struct val *v);
/* TYPE's word for a typed key: "hash", "set", "zset", "string" (a counter). */
const char *typed_type_name(enum crdt_type t);
int typed_classify(const struct sibset *set, int64_t now, enum crdt_type *type,
                   const struct version **state);

/* EXPIRE / PERSIST on a typed key held here (cmd_rmw's CMD_RMW_EXPIRE):
 * sets its state's TTL (expire_ms, 0 = none; crdt_expire_set), logs it,
 * sends the change to the replicas; cb as coord_write's, exactly once. */
struct kv_node;
typedef void (*typed_write_cb)(void *arg, int err, const struct vclock *stored);
int typed_set_expiry(struct kv_node *n, const void *key, size_t klen, int64_t expire_ms, int pw,
                     int timeout_ms, typed_write_cb cb, void *arg);
/* DEL of a typed key held here: clears its state (crdt_clear: every
 * element and TTL the coordinator saw goes, an add it did not see stays —
 * a key-level tombstone would hide or bring back the whole state), logs
 * and replicates the clear; the emptied state is reaped like a tombstone
 * (reaper.c).  cb as coord_write's, exactly once. */
int typed_delete(struct kv_node *n, const void *key, size_t klen, int pw, int timeout_ms,
                 typed_write_cb cb, void *arg);

#endif
