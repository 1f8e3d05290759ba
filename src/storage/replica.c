/* replica.c — the local replica's write path (see replica.h).
 * Owns only struct replica itself (store, log and observer are borrowed,
 * given by main.c).  Callers: see replica.h.  Calls store, aof, siblings
 * (digests), and the observer main.c registered — never the cluster layer
 * directly.  Never blocks beyond the log's write(2) (and fdatasync with
 * appendfsync always).
 *
 * Flush epochs (issue 16; README "FLUSHALL in a cluster"): the replica
 * knows the cluster's flush epoch E (from its log at start, then from
 * FLUSHALL, PFLUSH and gossip through replica_flush_to).  Invariant: no
 * version stamped before E is in the store after replica_flush_to returns,
 * and none enters it afterwards: every write path below drops such
 * versions from what it is given (a replica write, read repair, a hint, a
 * transfer, an anti-entropy repair all come through here). */
#include "storage/replica.h"

#include "storage/aof.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/siblings.h"
#include "storage/store.h"

#include <time.h>

struct replica {
    struct store *store;
    struct aof *log;                    /* NULL: no log */
    const struct replica_observer *obs; /* NULL: nobody listens */
    uint64_t changes;                   /* changes made (replica_changes) */
    uint32_t epoch;                     /* the flush epoch this node knows */
    uint64_t flushes;                   /* flushes applied since start */
    int64_t last_flush_at;              /* unix seconds; 0 = none since start */
    uint64_t last_flush_keys;           /* keys the last one dropped */
    int64_t last_flush_us;              /* how long its local pass took */
    uint64_t refused_versions;          /* older-epoch versions refused since start */
};

struct replica *replica_create(struct store *store, struct aof *log)
{
    struct replica *r = mem_calloc(1, sizeof(*r));
    r->store = store;
    r->log = log;
    r->epoch = aof_epoch(log); /* the replay already dropped what it flushed */
    return r;
}

uint32_t replica_epoch(const struct replica *r)
{
    return r ? r->epoch : 0;
}

/* set without the versions stamped before the known epoch: set itself when
 * it has none (the common case: no copy), else a filtered copy in *tmp. */
static const struct sibset *current_only(struct replica *r, const struct sibset *set,
                                         struct sibset *tmp)
{
    uint32_t i = 0;
    while (i < set->n && set->v[i].epoch >= r->epoch)
        i++;
    if (i == set->n)
        return set;
    for (i = 0; i < set->n; i++)
        if (set->v[i].epoch >= r->epoch)
            sib_add(tmp, &set->v[i]);
    r->refused_versions += set->n - tmp->n;
    return tmp;
}

void replica_destroy(struct replica *r)
{
    mem_free(r);
}

void replica_set_observer(struct replica *r, const struct replica_observer *obs)
{
    r->obs = obs;
}

static void load(struct replica *r, const void *key, size_t klen, struct sibset *out)
{
    const struct store_entry *e = store_find(r->store, key, klen);
    if (e)
        store_entry_load(e, out);
}

/* Whether the observer wants the digest before a change (only then is it
 * computed: one more decode per write). */
static bool wants_before(const struct replica *r)
{
    return r->obs && r->obs->on_change;
}

/* The digest of key's versions as stored now (0 = none). */
static uint64_t current_digest(struct replica *r, const void *key, size_t klen)
{
    struct sibset cur;
    sib_init(&cur);
    load(r, key, klen, &cur);
    uint64_t d = sib_digest(key, klen, &cur);
    sib_fini(&cur);
    return d;
}

/* Tells the observer key went from digest before to stored. */
static void notify(struct replica *r, const void *key, size_t klen, uint64_t before,
                   const struct sibset *stored)
{
    if (wants_before(r))
        r->obs->on_change(r->obs->arg, key, klen, before, stored);
}

/* Whether set holds a typed state (then what is logged is the change
 * itself, a merge record, never the whole state: a SADD to a 1 M-member
 * set logs one member). */
static bool has_typed(const struct sibset *set)
{
    for (uint32_t i = 0; i < set->n; i++)
        if (val_is_typed(set->v[i].val))
            return true;
    return false;
}

/* After a change made by reconciling `in` into the store: the stored
 * versions are loaded once, then logged and handed to the observer.
 * stored (empty) receives them.  Logged is the key's whole set, or `in`
 * as a merge record when it holds a typed state: replay reconciles it
 * into what the earlier records rebuilt, which is what happened here. */
static void changed(struct replica *r, const void *key, size_t klen, uint64_t before,
                    const struct sibset *in, struct sibset *stored)
{
    r->changes++;
    load(r, key, klen, stored);
    if (in && has_typed(in))
        aof_log_merge(r->log, key, klen, in);
    else
        aof_log_key(r->log, key, klen, stored);
    notify(r, key, klen, before, stored);
}

/* Versions that came from elsewhere (a replica write, a repair, a pull)
 * may belong to a key this node no longer owns: the observer (the
 * transfer) takes them on. */
static void arrived(struct replica *r, const void *key, size_t klen)
{
    if (r->obs && r->obs->on_arrived)
        r->obs->on_arrived(r->obs->arg, key, klen);
}

static int put_set_stored(struct replica *r, const void *key, size_t klen,
                          const struct sibset *set, struct sibset *stored)
{
    if (set->n == 0) { /* nothing current was given */
        load(r, key, klen, stored);
        return 0;
    }
    if (!aof_fits_merge(r->log, r->store, key, klen, set))
        return KV_ETOOBIG; /* could not be logged: refused, never acked */
    uint64_t before = wants_before(r) ? current_digest(r, key, klen) : 0;
    int rc = store_put_set_checked(r->store, key, klen, set);
    if (rc == 0) {
        load(r, key, klen, stored);
        return 0;
    }
    /* changed, or perhaps in part when a version was refused (then logging
     * the unchanged set again is harmless) */
    changed(r, key, klen, before, set, stored);
    arrived(r, key, klen);
    return rc;
}

int replica_put_set_stored(struct replica *r, const void *key, size_t klen,
                           const struct sibset *set, struct sibset *stored)
{
    if (!aof_writable(r->log))
        return KV_ELOG; /* nothing enters the store that the log cannot hold */
    struct sibset tmp;
    sib_init(&tmp);
    int rc = put_set_stored(r, key, klen, current_only(r, set, &tmp), stored);
    sib_fini(&tmp);
    return rc;
}

bool replica_put_set(struct replica *r, const void *key, size_t klen, const struct sibset *set)
{
    struct sibset stored;
    sib_init(&stored);
    int rc = replica_put_set_stored(r, key, klen, set, &stored);
    sib_fini(&stored);
    return rc > 0;
}

int replica_put(struct replica *r, const void *key, size_t klen, const struct version *v)
{
    if (!aof_writable(r->log))
        return KV_ELOG; /* nothing enters the store that the log cannot hold */
    if (v->epoch < r->epoch) {
        r->refused_versions++;
        return 0; /* flushed: as if dominated */
    }
    struct sibset one = {1, 1, (struct version *)v}; /* a read-only view of v */
    if (!aof_fits_merge(r->log, r->store, key, klen, &one))
        return KV_ETOOBIG; /* could not be logged: refused, never acked */
    struct sibset stored;
    sib_init(&stored);
    uint64_t before = wants_before(r) ? current_digest(r, key, klen) : 0;
    int rc = store_put_checked(r->store, key, klen, v);
    if (rc > 0)
        changed(r, key, klen, before, &one, &stored);
    sib_fini(&stored);
    return rc;
}

struct update {
    struct replica *r;
    const void *key;
    size_t klen;
    replica_update_fn fn;
    void *arg;
    struct sibset *delta;
};

/* store_update's fn: the change, then (the set being what will be stored)
 * the log record and the observer, without loading the key again. */
static int update_fn(void *arg, struct sibset *set)
{
    struct update *u = arg;
    struct replica *r = u->r;
    uint64_t before = wants_before(r) ? sib_digest(u->key, u->klen, set) : 0;
    int rc = u->fn(u->arg, set, u->delta);
    if (rc > 0) {
        r->changes++;
        aof_log_merge(r->log, u->key, u->klen, u->delta);
        notify(r, u->key, u->klen, before, set);
    }
    return rc;
}

int replica_update(struct replica *r, const void *key, size_t klen, replica_update_fn fn,
                   void *arg, struct sibset *delta)
{
    if (!aof_writable(r->log))
        return KV_ELOG; /* nothing changes that the log cannot hold */
    struct update u = {r, key, klen, fn, arg, delta};
    return store_update(r->store, key, klen, update_fn, &u);
}

/* Removes key (whose stored versions are cur, digest d) and logs it. */
static void drop(struct replica *r, const void *key, size_t klen, uint64_t d)
{
    store_remove(r->store, key, klen);
    struct sibset none;
    sib_init(&none);
    aof_log_key(r->log, key, klen, &none);
    notify(r, key, klen, d, &none);
}

bool replica_drop_if_covered(struct replica *r, const void *key, size_t klen,
                             const struct sibset *sent)
{
    if (!aof_writable(r->log))
        return false; /* kept until the removal can be logged */
    struct sibset cur;
    sib_init(&cur);
    load(r, key, klen, &cur);
    bool ok = cur.n > 0 && sib_covers(sent, &cur);
    if (ok)
        drop(r, key, klen, wants_before(r) ? sib_digest(key, klen, &cur) : 0);
    sib_fini(&cur);
    return ok;
}

bool replica_drop_if_digest(struct replica *r, const void *key, size_t klen, uint64_t digest)
{
    if (!aof_writable(r->log))
        return false; /* kept until the removal can be logged */
    struct sibset cur;
    sib_init(&cur);
    load(r, key, klen, &cur);
    uint64_t d = sib_digest(key, klen, &cur);
    bool ok = cur.n > 0 && d == digest;
    if (ok)
        drop(r, key, klen, d);
    sib_fini(&cur);
    return ok;
}

uint64_t replica_changes(const struct replica *r)
{
    return r->changes;
}

int64_t replica_flush_to(struct replica *r, uint32_t epoch, const char *why)
{
    if (epoch <= r->epoch)
        return -1;
    int64_t t0 = clock_mono_us();
    r->changes++;
    r->epoch = epoch;
    size_t keys = store_drop_before(r->store, epoch);
    aof_log_flush(r->log, epoch);
    if (r->obs && r->obs->on_flush)
        r->obs->on_flush(r->obs->arg, epoch);
    r->flushes++;
    r->last_flush_at = (int64_t)time(NULL);
    r->last_flush_keys = keys;
    r->last_flush_us = clock_mono_us() - t0;
    log_info("flush: epoch %u (%s): dropped %zu key(s) stamped before it in %lld us", epoch,
             why, keys, (long long)r->last_flush_us);
    return (int64_t)keys;
}

void replica_info(const struct replica *r, struct buf *out)
{
    buf_printf(out,
               "flush_epoch:%u\r\nflushes:%llu\r\nlast_flush_time:%lld\r\n"
               "last_flush_keys:%llu\r\nlast_flush_usec:%lld\r\nflush_refused_versions:%llu\r\n",
               r->epoch, (unsigned long long)r->flushes, (long long)r->last_flush_at,
               (unsigned long long)r->last_flush_keys, (long long)r->last_flush_us,
               (unsigned long long)r->refused_versions);
}
