/* val.c — reference-counted immutable byte strings (see val.h). */
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
    if (v && --v->refs == 0)
        mem_free(v);
}
