/* coord.c — request coordination.
 *
 * Owns: the single-use actor sequence and (later) in-flight request state.
 * Callers: cmd.c.  Calls: store, vclock, siblings (and ring, peer for
 * replication).  Nothing here blocks; waiting happens on the event loop.
 *
 * With one node (N = W = R = 1) every request completes locally before the
 * call returns.
 */
#include "coord.h"

#include <stdio.h>
#include <string.h>

#include "errors.h"
#include "node.h"
#include "store.h"
#include "util/mem.h"

struct coord {
    struct kv_node *node;
    uint64_t conflict_seq;   /* next single-use actor suffix */
};

struct coord *coord_create(struct kv_node *node)
{
    struct coord *co = mem_calloc(1, sizeof(*co));
    co->node = node;
    return co;
}

void coord_destroy(struct coord *co)
{
    mem_free(co);
}

void coord_local_load(struct coord *co, const void *key, size_t klen, struct sibset *out)
{
    const struct store_entry *e = store_find(co->node->store, key, klen);
    if (e)
        store_entry_load(e, out);
}

int coord_read(struct coord *co, const void *key, size_t klen, int r, coord_read_cb cb, void *arg)
{
    (void)r;
    struct sibset set;
    sib_init(&set);
    coord_local_load(co, key, klen, &set);
    cb(arg, 0, &set);
    sib_fini(&set);
    return 0;
}

/* Builds the clock of a new write (see coord.h). */
static void stamp(struct coord *co, const struct sibset *local, const struct vclock *ctx,
                  struct vclock *out)
{
    struct kv_node *node = co->node;
    struct vclock l;
    vc_init(&l);
    sib_context(local, &l);
    if (!ctx || vc_descends(ctx, &l)) {
        vc_copy(out, ctx ? ctx : &l);
        vc_increment(out, node->actor, (uint64_t)kv_now_ms());
    } else {
        char name[VC_MAX_ACTOR_LEN + 1];
        size_t alen;
        const char *an = vc_actor_name(node->actor, &alen);
        int n = snprintf(name, sizeof(name), "%.*s.%llu", (int)alen, an,
                         (unsigned long long)++co->conflict_seq);
        vc_copy(out, ctx);
        vc_increment(out, vc_actor_intern(name, (size_t)n), (uint64_t)kv_now_ms());
    }
    vc_prune(out, (unsigned)node->cfg.vclock_max_entries);
    vc_fini(&l);
}

int coord_write(struct coord *co, const void *key, size_t klen, const struct vclock *ctx,
                struct val *val, int64_t expire_ms, int w, coord_write_cb cb, void *arg)
{
    (void)w;
    struct sibset local;
    sib_init(&local);
    coord_local_load(co, key, klen, &local);
    struct version v;
    version_init(&v);
    v.val = val_ref(val);
    v.expire_ms = expire_ms;
    stamp(co, &local, ctx, &v.vc);
    store_put(co->node->store, key, klen, &v);
    cb(arg, 0, &v.vc);
    version_fini(&v);
    sib_fini(&local);
    return 0;
}
