/* store_epoch.c — a cluster flush over one store (store_drop_before,
 * store.h): every version stamped before a flush epoch goes.
 *
 * Owns nothing beyond one call.  Callers: replica.c (the node's store at a
 * flush), handoff.c (each hint store), aof.c (a flush record's replay).
 * Uses only store.h's public functions: when the store's epoch bound says
 * every version is older (every flush but one racing with writes of the
 * new epoch), store_flush frees the table at once; otherwise one scan
 * lists the keys holding older versions (scan callbacks must not modify
 * the store), then each is rewritten without them.  Pure: nothing blocks;
 * O(keys).
 */
#include "storage/store.h"

#include "core/siblings.h"
#include "util/buf.h"
#include "util/varint.h"

struct older {
    uint32_t epoch;
    struct sibset set; /* scratch */
    struct buf keys;   /* varint klen, key bytes; one per key to rewrite */
    size_t n;
};

static void find_older(void *arg, const struct store_entry *e)
{
    struct older *o = arg;
    sib_clear(&o->set);
    store_entry_load(e, &o->set);
    for (uint32_t i = 0; i < o->set.n; i++) {
        if (o->set.v[i].epoch < o->epoch) {
            size_t klen;
            const char *key = store_entry_key(e, &klen);
            buf_varint(&o->keys, klen);
            buf_append(&o->keys, key, klen);
            o->n++;
            return;
        }
    }
}

size_t store_drop_before(struct store *s, uint32_t epoch)
{
    if (store_max_epoch(s) < epoch) {
        size_t keys = store_count(s);
        store_flush(s);
        return keys;
    }
    struct older o = {.epoch = epoch};
    sib_init(&o.set);
    buf_init(&o.keys);
    uint64_t cur = 0;
    do
        cur = store_scan(s, cur, 1024, find_older, &o);
    while (cur != 0);
    size_t removed = 0;
    const uint8_t *p = (const uint8_t *)o.keys.data;
    for (size_t i = 0; i < o.n; i++) {
        uint64_t klen;
        p = varint_read(p, &klen);
        const struct store_entry *e = store_find(s, p, (size_t)klen);
        sib_clear(&o.set);
        if (e) /* a shrink during the scan may list a key twice */
            store_entry_load(e, &o.set);
        sib_drop_before(&o.set, epoch);
        if (e && o.set.n == 0)
            removed++;
        if (e)
            store_replace(s, p, (size_t)klen, &o.set); /* empty: removed */
        p += klen;
    }
    sib_fini(&o.set);
    buf_fini(&o.keys);
    return removed;
}
