/* replica.c — the local replica's write path (see replica.h).
 * Owns nothing.  Calls store, aof, ae, xfer (a stray arrived).  Never blocks beyond the log's
 * write(2) (and fdatasync with appendfsync always). */
#include "storage/replica.h"

#include "cluster/ae.h"
#include "storage/aof.h"
#include "util/errors.h"
#include "node.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "cluster/xfer.h"

static void load(struct kv_node *n, const void *key, size_t klen, struct sibset *out)
{
    const struct store_entry *e = store_find(n->store, key, klen);
    if (e)
        store_entry_load(e, out);
}

/* The anti-entropy digest of key's versions as stored now (0 = none). */
static uint64_t current_digest(struct kv_node *n, const void *key, size_t klen)
{
    struct sibset cur;
    sib_init(&cur);
    load(n, key, klen, &cur);
    uint64_t d = ae_digest(key, klen, &cur);
    sib_fini(&cur);
    return d;
}

/* After a change: the stored versions are loaded once, then logged and
 * folded into the anti-entropy trees.  stored (empty) receives them. */
static void changed(struct kv_node *n, const void *key, size_t klen, uint64_t before,
                    struct sibset *stored)
{
    load(n, key, klen, stored);
    aof_log_key(n->aof, key, klen, stored);
    if (n->ae)
        ae_update(n->ae, key, klen, before, ae_digest(key, klen, stored));
}

/* Versions that came from elsewhere (a replica write, a repair, a pull)
 * may belong to a key this node no longer owns: the transfer takes them on. */
static void arrived(struct kv_node *n, const void *key, size_t klen)
{
    xfer_note_write(n->xfer, key, klen);
}

int replica_put_set_stored(struct kv_node *n, const void *key, size_t klen,
                           const struct sibset *set, struct sibset *stored)
{
    if (!aof_writable(n->aof))
        return KV_ELOG; /* nothing enters the store that the log cannot hold */
    if (!aof_fits_merge(n->aof, n->store, key, klen, set))
        return KV_ETOOBIG; /* could not be logged: refused, never acked */
    uint64_t before = n->ae ? current_digest(n, key, klen) : 0;
    int rc = store_put_set_checked(n->store, key, klen, set);
    if (rc == 0) {
        load(n, key, klen, stored);
        return 0;
    }
    /* changed, or perhaps in part when a version was refused (then logging
     * the unchanged set again is harmless) */
    changed(n, key, klen, before, stored);
    arrived(n, key, klen);
    return rc;
}

bool replica_put_set(struct kv_node *n, const void *key, size_t klen, const struct sibset *set)
{
    struct sibset stored;
    sib_init(&stored);
    int rc = replica_put_set_stored(n, key, klen, set, &stored);
    sib_fini(&stored);
    return rc > 0;
}

int replica_put(struct kv_node *n, const void *key, size_t klen, const struct version *v)
{
    if (!aof_writable(n->aof))
        return KV_ELOG; /* nothing enters the store that the log cannot hold */
    struct sibset one = {1, 1, (struct version *)v}; /* a read-only view of v */
    if (!aof_fits_merge(n->aof, n->store, key, klen, &one))
        return KV_ETOOBIG; /* could not be logged: refused, never acked */
    struct sibset stored;
    sib_init(&stored);
    uint64_t before = n->ae ? current_digest(n, key, klen) : 0;
    int rc = store_put_checked(n->store, key, klen, v);
    if (rc > 0)
        changed(n, key, klen, before, &stored);
    sib_fini(&stored);
    return rc;
}

/* Removes key (whose stored versions are cur, digest d) and logs it. */
static void drop(struct kv_node *n, const void *key, size_t klen, uint64_t d)
{
    store_remove(n->store, key, klen);
    struct sibset none;
    sib_init(&none);
    aof_log_key(n->aof, key, klen, &none);
    if (n->ae)
        ae_update(n->ae, key, klen, d, 0);
}

bool replica_drop_if_covered(struct kv_node *n, const void *key, size_t klen,
                             const struct sibset *sent)
{
    if (!aof_writable(n->aof))
        return false; /* kept until the removal can be logged */
    struct sibset cur;
    sib_init(&cur);
    load(n, key, klen, &cur);
    bool ok = cur.n > 0 && sib_covers(sent, &cur);
    if (ok)
        drop(n, key, klen, ae_digest(key, klen, &cur));
    sib_fini(&cur);
    return ok;
}

bool replica_drop_if_digest(struct kv_node *n, const void *key, size_t klen, uint64_t digest)
{
    if (!aof_writable(n->aof))
        return false; /* kept until the removal can be logged */
    struct sibset cur;
    sib_init(&cur);
    load(n, key, klen, &cur);
    uint64_t d = ae_digest(key, klen, &cur);
    bool ok = cur.n > 0 && d == digest;
    if (ok)
        drop(n, key, klen, d);
    sib_fini(&cur);
    return ok;
}

void replica_flush(struct kv_node *n)
{
    store_flush(n->store);
    aof_log_flush(n->aof);
    if (n->ae)
        ae_reset(n->ae);
}
