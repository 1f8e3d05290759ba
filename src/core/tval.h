/* tval.h — typed values: the state of a hash, set, sorted set or counter
 * (a struct crdt, core/crdt.h) carried in a struct val (util/val.h), so a
 * key's typed state rides in an ordinary version (siblings.h) through the
 * store, the log, replicas, hints, anti-entropy and transfers.
 *
 * Callers: siblings.c (reconcile, codec, digest), store.c, the typed-key
 * command framework (cmd/typed.c) and readers of typed versions.  Pure. */
#ifndef KV_TVAL_H
#define KV_TVAL_H

#include <stdbool.h>

#include "core/crdt.h"
#include "util/val.h"

/* A new typed value holding an empty full state of type t (refs = 1). */
struct val *tval_new(enum crdt_type t);
/* A new typed value that takes c's contents (c is left an empty state of
 * type CRDT_NONE).  A scoped c (a delta) becomes a full state. */
struct val *tval_take(struct crdt *c);
/* A new typed value that takes c's contents as they are (a delta stays
 * scoped: what a coordinator ships). */
struct val *tval_wrap(struct crdt *c);
/* A new typed value holding a copy of v's state (copy-on-write). */
struct val *tval_copy(const struct val *v);

static inline struct crdt *tval_crdt(struct val *v)
{
    return (struct crdt *)val_typed_obj(v);
}
static inline const struct crdt *tval_ccrdt(const struct val *v)
{
    return (const struct crdt *)val_typed_cobj(v);
}
/* The crdt type of v: CRDT_NONE for a byte string, NULL or a tombstone. */
static inline enum crdt_type tval_type(const struct val *v)
{
    return val_is_typed(v) ? (enum crdt_type)tval_ccrdt(v)->type : CRDT_NONE;
}
/* A typed value with no element (a deleted or emptied typed key). */
bool tval_empty(const struct val *v);

#endif
