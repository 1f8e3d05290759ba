/* val.h — immutable, reference-counted values.
 *
 * A value is created once (from client bytes) and then shared without copying
 * by the store, sibling sets in flight, output buffers and the hint queue.
 * The event loop is single-threaded, so the count is a plain integer.
 *
 * A TYPED value (issue 14) carries a decoded object instead of bytes: the
 * state of a hash, set, sorted set or counter (siblings.h, typed versions).
 * Its len is 0 and data[] holds the object's destructor then the object,
 * which val_unref finalises with the last reference.  Unlike bytes, the
 * object may be changed in place, but only by the holder of the only
 * reference (val_refs() == 1; otherwise copy it first): that is how a
 * coordinator applies an operation to a 1 M-member set without copying it.
 * The flag lives in the top bit of refs. */
#ifndef KV_VAL_H
#define KV_VAL_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

struct val {
    uint32_t refs; /* count, | VAL_TYPED for a typed value */
    uint32_t len;
    char data[];
};

#define VAL_TYPED 0x80000000u

typedef void (*val_fini_fn)(void *obj);

/* Returns a new value (refs = 1) holding a copy of p[0..n). n < 4 GB. */
struct val *val_create(const void *p, size_t n);
/* Returns a new value of n zero bytes (refs = 1) for its creator to fill
 * before anyone else holds it.  n < 4 GB. */
struct val *val_alloc(size_t n);

static inline struct val *val_ref(struct val *v)
{
    if (v)
        v->refs++;
    return v;
}

/* Drops one reference; frees at zero (finalising a typed value's object
 * first). Accepts NULL. */
void val_unref(struct val *v);

/* A new typed value (refs = 1) holding a zeroed object of size bytes that
 * fini (not NULL) finalises when the last reference goes. */
struct val *val_create_typed(size_t size, val_fini_fn fini);

static inline bool val_is_typed(const struct val *v)
{
    return v && (v->refs & VAL_TYPED);
}

static inline uint32_t val_refs(const struct val *v)
{
    return v->refs & ~VAL_TYPED;
}

/* The object of a typed value (aligned for any type). */
static inline void *val_typed_obj(struct val *v)
{
    return v->data + 16;
}
static inline const void *val_typed_cobj(const struct val *v)
{
    return v->data + 16;
}

#endif
