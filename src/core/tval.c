/* tval.c — typed values (see tval.h).  Owns nothing beyond the values it
 * creates; the state inside is finalised by val_unref through fini(). */
#include "core/tval.h"

#include <string.h>

static void fini(void *obj)
{
    crdt_fini(obj);
}

struct val *tval_new(enum crdt_type t)
{
    struct val *v = val_create_typed(sizeof(struct crdt), fini);
    crdt_init(tval_crdt(v), t);
    return v;
}

struct val *tval_take(struct crdt *c)
{
    struct val *v = tval_new((enum crdt_type)c->type);
    struct crdt *s = tval_crdt(v);
    if (c->scoped) {
        /* a full state drops the delta's empty elements */
        crdt_join(s, c);
        crdt_fini(c);
    } else {
        memcpy(s, c, sizeof(*s));
        crdt_init(c, CRDT_NONE);
    }
    return v;
}

struct val *tval_wrap(struct crdt *c)
{
    struct val *v = val_create_typed(sizeof(struct crdt), fini);
    memcpy(tval_crdt(v), c, sizeof(*c));
    crdt_init(c, CRDT_NONE);
    return v;
}

struct val *tval_copy(const struct val *v)
{
    struct val *n = tval_new(tval_type(v));
    crdt_copy(tval_crdt(n), tval_ccrdt(v));
    return n;
}

bool tval_empty(const struct val *v)
{
    return crdt_count(tval_ccrdt(v)) == 0;
}
