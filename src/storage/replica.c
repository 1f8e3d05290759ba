/* replica.c — the local replica's write path (see replica.h).
 * Owns nothing (the observer is main.c's, borrowed).  Calls store, aof,
 * siblings (digests), and the observer main.c registered — never the
 * cluster layer directly.  Never blocks beyond the log's write(2) (and
 * fdatasync with appendfsync always). */
#include "storage/replica.h"

#include "storage/aof.h"
#include "util/errors.h"
#include "node.h"
#include "core/siblings.h"
#include "storage/store.h"

void replica_set_observer(struct kv_node *n, const struct replica_observer *obs)
{
    n->replica_obs = obs;
}

static void load(struct kv_node *n, const void *key, size_t klen, struct sibset *out)
{
    const struct store_entry *e = store_find(n->store, key, klen);
    if (e)
        store_entry_load(e, out);
}

/* Whether the observer wants the digest before a change (only then is it
 * computed: one more decode per write). */
static bool wants_before(const struct kv_node *n)
{
    return n->replica_obs && n->replica_obs->on_change;
}

/* The digest of key's versions as stored now (0 = none). */
static uint64_t current_digest(struct kv_node *n, const void *key, size_t klen)
{
    struct sibset cur;
    sib_init(&cur);
    load(n, key, klen, &cur);
    uint64_t d = sib_digest(key, klen, &cur);
    sib_fini(&cur);
    return d;
}

/* Tells the observer key went from digest before to stored. */
static void notify(struct kv_node *n, const void *key, size_t klen, uint64_t before,
                   const struct sibset *stored)
{
    if (wants_before(n))
        n->replica_obs->on_change(n->replica_obs->arg, key, klen, before, stored);
}

/* After a change: the stored versions are loaded once, then logged and
 * handed to the observer.  stored (empty) receives them. */
static void changed(struct kv_node *n, const void *key, size_t klen, uint64_t before,
                    struct sibset *stored)
{
    load(n, key, klen, stored);
    aof_log_key(n->aof, key, klen, stored);
    notify(n, key, klen, before, stored);
}

/* Versions that came from elsewhere (a replica write, a repair, a pull)
 * may belong to a key this node no longer owns: the observer (the
 * transfer) takes them on. */
static void arrived(struct kv_node *n, const void *key, size_t klen)
{
    if (n->replica_obs && n->replica_obs->on_arrived)
        n->replica_obs->on_arrived(n->replica_obs->arg, key, klen);
}

int replica_put_set_stored(struct kv_node *n, const void *key, size_t klen,
                           const struct sibset *set, struct sibset *stored)
{
    if (!aof_writable(n->aof))
        return KV_ELOG; /* nothing enters the store that the log cannot hold */
    if (!aof_fits_merge(n->aof, n->store, key, klen, set))
        return KV_ETOOBIG; /* could not be logged: refused, never acked */
    uint64_t before = wants_before(n) ? current_digest(n, key, klen) : 0;
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
    uint64_t before = wants_before(n) ? current_digest(n, key, klen) : 0;
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
    notify(n, key, klen, d, &none);
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
        drop(n, key, klen, wants_before(n) ? sib_digest(key, klen, &cur) : 0);
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
    uint64_t d = sib_digest(key, klen, &cur);
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
    if (n->replica_obs && n->replica_obs->on_flush)
        n->replica_obs->on_flush(n->replica_obs->arg);
}
