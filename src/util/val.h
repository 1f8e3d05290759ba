/* val.h — immutable, reference-counted values.
 *
 * A value is created once (from client bytes) and then shared without copying
 * by the store, sibling sets in flight, output buffers and the hint queue.
 * The event loop is single-threaded, so the count is a plain integer. */
#ifndef KV_VAL_H
#define KV_VAL_H

#include <stddef.h>
#include <stdint.h>

struct val {
    uint32_t refs;
    uint32_t len;
    char data[];
};

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

/* Drops one reference; frees at zero. Accepts NULL. */
void val_unref(struct val *v);

#endif
