/* test_replica.c — the local write path tells its observer about every
 * change and nothing else: on_change with the digest before and the set
 * stored after (once per change, never for a write that changed nothing),
 * on_arrived for versions from elsewhere, on_flush for FLUSHALL.  Runs
 * without a log (node.aof NULL: always writable) and without a cluster. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "core/siblings.h"
#include "core/vclock.h"
#include "node.h"
#include "storage/replica.h"
#include "storage/store.h"
#include "util/val.h"

struct seen {
    int changes, arrivals, flushes;
    uint64_t before, after; /* digests of the last change */
    uint32_t stored_n;      /* versions stored after the last change */
    char key[16];
};

static void on_change(void *arg, const void *key, size_t klen, uint64_t before,
                      const struct sibset *stored)
{
    struct seen *s = arg;
    s->changes++;
    s->before = before;
    s->after = sib_digest(key, klen, stored);
    s->stored_n = stored->n;
    memcpy(s->key, key, klen < sizeof(s->key) - 1 ? klen : sizeof(s->key) - 1);
}

static void on_arrived(void *arg, const void *key, size_t klen)
{
    (void)key;
    (void)klen;
    ((struct seen *)arg)->arrivals++;
}

static void on_flush(void *arg)
{
    ((struct seen *)arg)->flushes++;
}

static uint32_t A1, A2;

static void mkver(struct version *v, const char *val, uint32_t actor, unsigned counter)
{
    version_init(v);
    v->val = val_create(val, strlen(val));
    for (unsigned k = 0; k < counter; k++)
        vc_increment(&v->vc, actor, 1000 + k);
}

/* The digest of what the store holds for key now. */
static uint64_t stored_digest(struct kv_node *n, const char *key)
{
    struct sibset cur;
    sib_init(&cur);
    const struct store_entry *e = store_find(n->store, key, strlen(key));
    if (e)
        store_entry_load(e, &cur);
    uint64_t d = sib_digest(key, strlen(key), &cur);
    sib_fini(&cur);
    return d;
}

static void test_observer(void **state)
{
    (void)state;
    struct kv_node n;
    memset(&n, 0, sizeof(n));
    n.store = store_create();
    struct seen s = {0};
    struct replica_observer obs = {on_change, on_arrived, on_flush, &s};
    replica_set_observer(&n, &obs);

    struct version v1, v2, w;
    mkver(&v1, "a", A1, 1);
    mkver(&v2, "b", A1, 2); /* descends v1 */
    mkver(&w, "c", A2, 1);  /* concurrent with both */

    /* a coordinator's own write: a change, not an arrival */
    assert_int_equal(replica_put(&n, "k", 1, &v1), 1);
    assert_int_equal(s.changes, 1);
    assert_int_equal(s.arrivals, 0);
    assert_int_equal(s.before, 0);
    assert_int_equal(s.after, stored_digest(&n, "k"));
    assert_int_equal(s.stored_n, 1);
    assert_string_equal(s.key, "k");
    uint64_t d1 = s.after;

    /* the same version again changes nothing: nobody is told */
    assert_int_equal(replica_put(&n, "k", 1, &v1), 0);
    assert_int_equal(s.changes, 1);

    /* versions from elsewhere: a change and an arrival; stored is filled */
    struct sibset in, stored;
    sib_init(&in);
    sib_init(&stored);
    sib_add(&in, &v2);
    sib_add(&in, &w);
    assert_int_equal(replica_put_set_stored(&n, "k", 1, &in, &stored), 1);
    assert_int_equal(stored.n, 2);
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.arrivals, 1);
    assert_int_equal(s.before, d1);
    assert_int_equal(s.after, sib_digest("k", 1, &stored));
    assert_int_equal(s.stored_n, 2);
    uint64_t d2 = s.after;
    sib_clear(&stored);
    /* again: unchanged, stored still reports what is there, nobody told */
    assert_int_equal(replica_put_set_stored(&n, "k", 1, &in, &stored), 0);
    assert_int_equal(stored.n, 2);
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.arrivals, 1);

    /* reaping with a stale digest keeps the key; with the right one the
     * observer sees it go from d2 to nothing */
    assert_false(replica_drop_if_digest(&n, "k", 1, d1));
    assert_int_equal(s.changes, 2);
    assert_true(replica_drop_if_digest(&n, "k", 1, d2));
    assert_int_equal(s.changes, 3);
    assert_int_equal(s.before, d2);
    assert_int_equal(s.after, 0);
    assert_int_equal(s.stored_n, 0);
    assert_null(store_find(n.store, "k", 1));

    /* a handed-over key goes only when what was sent covers it */
    assert_true(replica_put_set(&n, "h", 1, &in));
    assert_int_equal(s.arrivals, 2);
    struct sibset part;
    sib_init(&part);
    sib_add(&part, &w);
    assert_false(replica_drop_if_covered(&n, "h", 1, &part));
    assert_true(replica_drop_if_covered(&n, "h", 1, &in));
    assert_int_equal(s.before, sib_digest("h", 1, &in));
    assert_int_equal(s.after, 0);

    assert_int_equal(replica_put(&n, "k", 1, &v1), 1);
    replica_flush(&n);
    assert_int_equal(s.flushes, 1);
    assert_int_equal(store_count(n.store), 0);

    /* without on_change the writes still land; arrivals are still told */
    struct replica_observer only_arrivals = {NULL, on_arrived, NULL, &s};
    replica_set_observer(&n, &only_arrivals);
    int changes = s.changes;
    assert_true(replica_put_set(&n, "k", 1, &in));
    assert_int_equal(s.changes, changes);
    assert_int_equal(s.arrivals, 3);
    replica_flush(&n);
    assert_int_equal(s.flushes, 1);
    /* and without any observer */
    replica_set_observer(&n, NULL);
    assert_int_equal(replica_put(&n, "k", 1, &v1), 1);
    assert_int_equal(s.changes, changes);

    sib_fini(&part);
    sib_fini(&in);
    sib_fini(&stored);
    version_fini(&v1);
    version_fini(&v2);
    version_fini(&w);
    store_destroy(n.store);
}

int main(void)
{
    A1 = vc_actor_intern("n1.1", 4);
    A2 = vc_actor_intern("n2.1", 4);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
