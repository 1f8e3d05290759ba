/* replica.c — the local replica's write path (see replica.h).
 * Owns nothing.  Calls store, aof, ae.  Never blocks beyond the log's
 * write(2) (and fdatasync with appendfsync always). */
#include "replica.h"

#include "ae.h"
#include "aof.h"
#include "node.h"
#include "siblings.h"
#include "store.h"

/* The anti-entropy digest of key's versions as stored now (0 = none). */
static uint64_t current_digest(struct kv_node *n, const void *key, size_t klen)
{
    const struct store_entry *e = store_find(n->store, key, klen);
    if (!e)
        return 0;
    struct sibset cur;
    sib_init(&cur);
    store_entry_load(e, &cur);
    uint64_t d = ae_digest(key, klen, &cur);
    sib_fini(&cur);
    return d;
}

static void changed(struct kv_node *n, const void *key, size_t klen, uint64_t before)
{
    aof_log_key(n->aof, n->store, key, klen);
    if (n->ae)
        ae_update(n->ae, key, klen, before, current_digest(n, key, klen));
}

bool replica_put_set(struct kv_node *n, const void *key, size_t klen, const struct sibset *set)
{
    uint64_t before = n->ae ? current_digest(n, key, klen) : 0;
    if (!store_put_set(n->store, key, klen, set))
        return false;
    changed(n, key, klen, before);
    return true;
}

bool replica_put(struct kv_node *n, const void *key, size_t klen, const struct version *v)
{
    uint64_t before = n->ae ? current_digest(n, key, klen) : 0;
    if (!store_put(n->store, key, klen, v))
        return false;
    changed(n, key, klen, before);
    return true;
}

void replica_flush(struct kv_node *n)
{
    store_flush(n->store);
    aof_log_flush(n->aof);
    if (n->ae)
        ae_reset(n->ae);
}
