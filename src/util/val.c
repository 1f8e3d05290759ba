/* val.c — reference-counted immutable byte strings and typed values (see
 * val.h).  Callers: everything that holds a value. */
#include "util/val.h"

#include <string.h>

#include "util/mem.h"

struct val *val_create(const void *p, size_t n)
{
    struct val *v = mem_alloc(sizeof(*v) + n);
    v->refs = 1;
    v->len = (uint32_t)n;
    if (n)
        memcpy(v->data, p, n);
    return v;
}

struct val *val_alloc(size_t n)
{
    struct val *v = mem_calloc(1, sizeof(*v) + n);
    v->refs = 1;
    v->len = (uint32_t)n;
    return v;
}

void val_unref(struct val *v)
{
    if (!v || (--v->refs & ~VAL_TYPED) != 0)
        return;
    if (v->refs & VAL_TYPED) {
        val_fini_fn fini;
        memcpy(&fini, v->data, sizeof(fini));
        fini(val_typed_obj(v));
    }
    mem_free(v);
}

struct val *val_create_typed(size_t size, val_fini_fn fini)
{
    /* data: the destructor, padding to 16, then the object */
    struct val *v = mem_calloc(1, sizeof(*v) + 16 + size);
    v->refs = 1 | VAL_TYPED;
    v->len = 0;
    memcpy(v->data, &fini, sizeof(fini));
    return v;
}
