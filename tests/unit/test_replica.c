/* test_replica.c — the local write path tells its observer about every
 * change and nothing else: on_change with the digest before and the set
 * stored after (once per change, never for a write that changed nothing),
 * on_arrived for versions from elsewhere, on_flush for FLUSHALL (run
 * without a log: always writable).  With a log: a change is logged before
 * the observer hears of it, and while the log is broken (a write refused by
 * the disk) every write is refused and nobody is told; the writes resume
 * once the disk takes the bytes again, and a reopened log replays them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/siblings.h"
#include "core/vclock.h"
#include "core/config.h"
#include "storage/aof.h"
#include "storage/replica.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/errors.h"
#include "util/val.h"

struct seen {
    int changes, arrivals, flushes;
    uint32_t epoch;         /* of the last flush */
    uint64_t before, after; /* digests of the last change */
    uint32_t stored_n;      /* versions stored after the last change */
    char key[16];
    const struct aof *log;    /* when set: how much it had queued at the last change */
    unsigned long long queued;
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
    if (s->log)
        s->queued = aof_queued_seq(s->log);
}

static void on_arrived(void *arg, const void *key, size_t klen)
{
    (void)key;
    (void)klen;
    ((struct seen *)arg)->arrivals++;
}

static void on_flush(void *arg, uint32_t epoch)
{
    ((struct seen *)arg)->flushes++;
    ((struct seen *)arg)->epoch = epoch;
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
static uint64_t stored_digest(struct store *st, const char *key)
{
    struct sibset cur;
    sib_init(&cur);
    const struct store_entry *e = store_find(st, key, strlen(key));
    if (e)
        store_entry_load(e, &cur);
    uint64_t d = sib_digest(key, strlen(key), &cur);
    sib_fini(&cur);
    return d;
}

static void test_observer(void **state)
{
    (void)state;
    struct store *st = store_create();
    struct replica *r = replica_create(st, NULL);
    struct seen s = {0};
    struct replica_observer obs = {on_change, on_arrived, on_flush, &s};
    replica_set_observer(r, &obs);

    struct version v1, v2, w;
    mkver(&v1, "a", A1, 1);
    mkver(&v2, "b", A1, 2); /* descends v1 */
    mkver(&w, "c", A2, 1);  /* concurrent with both */

    /* a coordinator's own write: a change, not an arrival */
    assert_int_equal(replica_put(r, "k", 1, &v1), 1);
    assert_int_equal(s.changes, 1);
    assert_int_equal(s.arrivals, 0);
    assert_int_equal(s.before, 0);
    assert_int_equal(s.after, stored_digest(st, "k"));
    assert_int_equal(s.stored_n, 1);
    assert_string_equal(s.key, "k");
    uint64_t d1 = s.after;

    /* the same version again changes nothing: nobody is told */
    assert_int_equal(replica_put(r, "k", 1, &v1), 0);
    assert_int_equal(s.changes, 1);

    /* versions from elsewhere: a change and an arrival; stored is filled */
    struct sibset in, stored;
    sib_init(&in);
    sib_init(&stored);
    sib_add(&in, &v2);
    sib_add(&in, &w);
    assert_int_equal(replica_put_set_stored(r, "k", 1, &in, &stored), 1);
    assert_int_equal(stored.n, 2);
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.arrivals, 1);
    assert_int_equal(s.before, d1);
    assert_int_equal(s.after, sib_digest("k", 1, &stored));
    assert_int_equal(s.stored_n, 2);
    uint64_t d2 = s.after;
    sib_clear(&stored);
    /* again: unchanged, stored still reports what is there, nobody told */
    assert_int_equal(replica_put_set_stored(r, "k", 1, &in, &stored), 0);
    assert_int_equal(stored.n, 2);
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.arrivals, 1);

    /* reaping with a stale digest keeps the key; with the right one the
     * observer sees it go from d2 to nothing */
    assert_false(replica_drop_if_digest(r, "k", 1, d1));
    assert_int_equal(s.changes, 2);
    assert_true(replica_drop_if_digest(r, "k", 1, d2));
    assert_int_equal(s.changes, 3);
    assert_int_equal(s.before, d2);
    assert_int_equal(s.after, 0);
    assert_int_equal(s.stored_n, 0);
    assert_null(store_find(st, "k", 1));

    /* a handed-over key goes only when what was sent covers it */
    assert_true(replica_put_set(r, "h", 1, &in));
    assert_int_equal(s.arrivals, 2);
    struct sibset part;
    sib_init(&part);
    sib_add(&part, &w);
    assert_false(replica_drop_if_covered(r, "h", 1, &part));
    assert_true(replica_drop_if_covered(r, "h", 1, &in));
    assert_int_equal(s.before, sib_digest("h", 1, &in));
    assert_int_equal(s.after, 0);

    assert_int_equal(replica_put(r, "k", 1, &v1), 1);
    assert_int_equal(replica_epoch(r), 0);
    assert_int_equal(replica_flush_to(r, 1, "test"), 1); /* "k" */
    assert_int_equal(s.flushes, 1);
    assert_int_equal(s.epoch, 1);
    assert_int_equal(replica_epoch(r), 1);
    assert_int_equal(store_count(st), 0);
    assert_int_equal(replica_flush_to(r, 1, "again"), -1); /* not newer: nothing */
    assert_int_equal(s.flushes, 1);
    /* versions stamped before the flush are refused from then on (issue 16) */
    int changes0 = s.changes;
    assert_int_equal(replica_put(r, "k", 1, &v1), 0);
    assert_false(replica_put_set(r, "k", 1, &in));
    assert_null(store_find(st, "k", 1));
    assert_int_equal(s.changes, changes0);
    /* the same writes stamped in the new epoch are taken again */
    v1.epoch = 1;
    for (uint32_t i = 0; i < in.n; i++)
        in.v[i].epoch = 1;

    /* without on_change the writes still land; arrivals are still told */
    struct replica_observer only_arrivals = {NULL, on_arrived, NULL, &s};
    replica_set_observer(r, &only_arrivals);
    int changes = s.changes;
    assert_true(replica_put_set(r, "k", 1, &in));
    assert_int_equal(s.changes, changes);
    assert_int_equal(s.arrivals, 3);
    assert_int_equal(replica_flush_to(r, 2, "test"), 1);
    assert_int_equal(s.flushes, 1);
    v1.epoch = 2;
    /* and without any observer */
    replica_set_observer(r, NULL);
    assert_int_equal(replica_put(r, "k", 1, &v1), 1);
    assert_int_equal(s.changes, changes);

    sib_fini(&part);
    sib_fini(&in);
    sib_fini(&stored);
    version_fini(&v1);
    version_fini(&v2);
    version_fini(&w);
    replica_destroy(r);
    store_destroy(st);
}

/* aof_flush until it succeeds: a broken log retries only after its back-off
 * (100 ms at first).  Polls against a deadline. */
static bool flush_within(struct aof *log, int64_t ms)
{
    int64_t deadline = clock_mono_ms() + ms;
    while (!aof_flush(log)) {
        if (clock_mono_ms() > deadline)
            return false;
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return true;
}

static void test_broken_log(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_replica.XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct cfg cfg;
    cfg_init(&cfg);
    struct buf err;
    buf_init(&err);
    assert_int_equal(cfg_set(&cfg, "dir", dir, false, &err), 0);
    snprintf(cfg.node_name, sizeof(cfg.node_name), "n1");
    char path[64];
    snprintf(path, sizeof(path), "%s/n1.aol", dir);
    struct event_base *base = event_base_new();
    struct store *st = store_create();
    struct aof *log = aof_open(base, st, &cfg, NULL, &err);
    assert_non_null(log);
    struct replica *r = replica_create(st, log);
    struct seen s = {.log = log};
    struct replica_observer obs = {on_change, on_arrived, on_flush, &s};
    replica_set_observer(r, &obs);

    struct version v1, v2;
    mkver(&v1, "a", A1, 1);
    mkver(&v2, "b", A2, 1);
    struct sibset in;
    sib_init(&in);
    sib_add(&in, &v2);

    /* the change is queued in the log before the observer hears of it */
    unsigned long long q0 = aof_queued_seq(log);
    assert_int_equal(replica_put(r, "k", 1, &v1), 1);
    assert_int_equal(s.changes, 1);
    assert_true(s.queued > q0);
    assert_true(aof_flush(log));
    assert_true(aof_durable(log, aof_queued_seq(log)));

    /* the disk refuses more bytes: the file may not grow (EFBIG) */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_true(sb.st_size > 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)sb.st_size;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    /* accepted (the log is not broken yet), then the batch's write fails */
    assert_int_equal(replica_put(r, "k2", 2, &v1), 1);
    assert_int_equal(s.changes, 2);
    unsigned long long held = aof_queued_seq(log);
    assert_false(aof_flush(log));
    assert_false(aof_writable(log));
    assert_non_null(aof_error(log));
    assert_false(aof_durable(log, held));

    /* while it is broken nothing enters the store and nobody is told */
    assert_int_equal(replica_put(r, "k3", 2, &v1), KV_ELOG);
    struct sibset stored;
    sib_init(&stored);
    assert_int_equal(replica_put_set_stored(r, "k3", 2, &in, &stored), KV_ELOG);
    assert_int_equal(stored.n, 0);
    assert_false(replica_put_set(r, "k3", 2, &in));
    assert_null(store_find(st, "k3", 2));
    assert_false(replica_drop_if_digest(r, "k", 1, stored_digest(st, "k")));
    struct sibset sent;
    sib_init(&sent);
    sib_add(&sent, &v1);
    assert_false(replica_drop_if_covered(r, "k", 1, &sent));
    assert_non_null(store_find(st, "k", 1));
    assert_int_equal(s.changes, 2);
    assert_int_equal(s.arrivals, 0);
    assert_int_equal(aof_queued_seq(log), held);

    /* the disk takes bytes again: the held record goes in, writes resume */
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    assert_true(flush_within(log, 10000));
    assert_true(aof_writable(log));
    assert_null(aof_error(log));
    assert_true(aof_durable(log, held));
    assert_int_equal(replica_put_set_stored(r, "k3", 2, &in, &stored), 1);
    assert_int_equal(s.changes, 3);
    assert_int_equal(s.arrivals, 1);
    assert_true(replica_drop_if_covered(r, "k", 1, &sent));
    assert_int_equal(s.changes, 4);
    assert_true(aof_flush(log));
    uint64_t d2 = stored_digest(st, "k2"), d3 = stored_digest(st, "k3");

    /* what was acknowledged is what a reopened log replays */
    replica_destroy(r);
    aof_close(log);
    store_destroy(st);
    st = store_create();
    log = aof_open(base, st, &cfg, NULL, &err);
    assert_non_null(log);
    assert_int_equal(store_count(st), 2);
    assert_null(store_find(st, "k", 1));
    assert_int_equal(stored_digest(st, "k2"), d2);
    assert_int_equal(stored_digest(st, "k3"), d3);

    aof_close(log);
    store_destroy(st);
    event_base_free(base);
    unlink(path);
    assert_int_equal(rmdir(dir), 0);
    sib_fini(&sent);
    sib_fini(&stored);
    sib_fini(&in);
    version_fini(&v1);
    version_fini(&v2);
    buf_fini(&err);
    cfg_fini(&cfg);
}

int main(void)
{
    A1 = vc_actor_intern("n1.1", 4);
    A2 = vc_actor_intern("n2.1", 4);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_observer),
        cmocka_unit_test(test_broken_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
