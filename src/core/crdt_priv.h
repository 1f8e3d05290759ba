/* crdt_priv.h — what the files of the convergent types share: the
 * context and element-table primitives of crdt.c, used by the operations
 * (crdt_ops.c), the codec (crdt_codec.c) and the scans and random picks
 * (crdt_iter.c).  Private to those files. */
#ifndef KV_CRDT_PRIV_H
#define KV_CRDT_PRIV_H

#include "core/crdt.h"

/* The register payload of type t is a struct val reference (counter, hash)
 * rather than a score (zset). */
static inline bool crdt_entry_has_val(uint8_t type, const struct crdt_entry *e)
{
    return e->kind == CRDT_K_REG && type != CRDT_ZSET;
}

/* Adds the dot to c's context (folding it into the prefix when contiguous). */
void crdt_ctx_add(struct crdt *c, uint32_t actor, uint64_t counter);
/* Re-establishes the context invariant after the prefix or the cloud
 * changed in bulk: cloud sorted and unique, no dot at or just above the
 * prefix. */
void crdt_ctx_normalize(struct crdt *c);

/* Adds the dot (in c's context) to c's holes. */
void crdt_hole_add(struct crdt *c, uint32_t actor, uint64_t counter);
/* Index of the first dot >= (actor, counter) in the sorted v[0..n). */
uint32_t crdt_dots_lower(const struct crdt_dot *v, uint32_t n, uint32_t actor, uint64_t counter);

uint32_t crdt_key_hash(const void *key, size_t klen);
/* Slot of element key, or UINT32_MAX when absent. */
uint32_t crdt_slot_find(const struct crdt *c, const void *key, size_t klen, uint32_t h);
/* Slot of element key, creating an empty element when absent. */
uint32_t crdt_slot_get(struct crdt *c, const void *key, size_t klen);
/* Frees the element in slot si and empties the slot (backward shift, so
 * other slots may move: never call while iterating the table). */
void crdt_slot_remove(struct crdt *c, uint32_t si);
/* Inserts e into the element of slot si, keeping entries sorted; takes e's
 * value reference.  The element may move (c->slot[si] is updated). */
void crdt_entry_insert(struct crdt *c, uint32_t si, const struct crdt_entry *e);
/* Removes entry i of el, dropping its value reference. */
void crdt_entry_remove(const struct crdt *c, struct crdt_elem *el, uint32_t i);

#endif
