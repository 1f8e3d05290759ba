/* aof.c — the append-only log (see aof.h).
 *
 * Owns: the log file descriptor, the fsync thread (everysec), the rewrite
 * child and its buffer, the 100 ms housekeeping timer, the records replay
 * could not apply (kept and carried into every rewrite), and the log's
 * health (whether what was queued reached the file).  Record framing and
 * the tolerant scan are aof_scan.c's.  Callers: replica, handoff, cmd_conn
 * (INFO, BGREWRITEAOF), cmd (refuses writes while the log is broken), main
 * (opens it with the event base, the store and the config it reads; wires
 * aof_flush / aof_durable into the server's reply barrier, and the hint
 * stores into replay and rewrite: struct aof_hints).  Calls: store,
 * siblings, and the hint callbacks main.c gave it; hint records name their
 * owner as handoff passes it (aof_log_hint), so the log knows no member
 * table.
 * Blocking: one write(2) per batch of requests (page cache); fdatasync only
 * with appendfsync always; fork() when a compaction starts; at start-up the
 * replay (mmap of the file).  The fsync thread touches nothing but the
 * descriptor number and atomics.
 *
 * A write that fails (ENOSPC, EIO): the bytes of the failed batch are cut
 * off again (ftruncate to the last good size, so the file never holds half
 * a record), the records stay queued in memory, the log is "broken": the
 * server holds every reply that depends on them (aof_durable), commands
 * that write are refused (aof_writable), and the housekeeping timer retries
 * with back-off (100 ms doubling to 1 s).  When a retry succeeds the held
 * replies go out (the resume callback) and writes are accepted again.
 */
#include "storage/aof.h"
#include "core/aof_scan.h"
#include "util/clock.h"
#include "util/fs.h"
#include "util/varint.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <murmurhash.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "util/errors.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

#define AOF_TICK_MS 100
#define AOF_RETRY_MIN_MS 100         /* first retry of a failed write */
#define AOF_RETRY_MAX_MS 1000        /* retries back off to this */
#define AOF_REWRITE_BACKOFF_MAX_MS (5 * 60 * 1000) /* failed compactions back off to this */

struct aof {
    const struct cfg *cfg;           /* borrowed: the live settings (CONFIG SET) */
    struct store *store;             /* borrowed: the node's own data */
    struct aof_hints hints;          /* the hint stores (main.c's callbacks) */
    uint32_t epoch;                  /* the flush epoch last logged or replayed */
    char *path;
    char *tmp_path;
    int fd;
    /* fsync bookkeeping, shared with the fsync thread */
    atomic_int sync_fd;
    atomic_llong written;            /* bytes appended (monotonic counter) */
    atomic_llong synced;             /* value of `written` at the last fsync */
    atomic_llong last_sync_ms;
    atomic_bool stop;
    pthread_t thread;
    bool thread_running;
    /* sizes */
    long long size;                  /* current file size */
    long long base_size;             /* size after the last load or rewrite */
    /* compaction */
    pid_t child;
    struct buf rewrite_buf;          /* records appended while the child runs */
    int64_t rewrite_started_ms;
    long long rewrites;
    long long last_rewrite_ms;       /* duration of the last one */
    time_t last_rewrite_at;
    bool last_rewrite_ok;
    unsigned rewrite_failures;       /* in a row: automatic retries back off */
    int64_t rewrite_not_before_ms;   /* no automatic compaction before this */
    /* load report */
    long long loaded_records;
    long long truncated_bytes;       /* torn tail cut off (a copy is kept) */
    long long unreadable_records;    /* checksummed but not applicable: kept */
    long long corrupt_bytes;         /* damaged stretches skipped by resync */
    struct buf retained;             /* the unreadable records, written into every rewrite */
    struct event *tick;
    struct buf rec;                  /* scratch for one record */
    struct buf pending;              /* records not yet in the file (aof_flush) */
    /* health: everything queued before durable_seq is in the file (and
     * synced with appendfsync always) */
    unsigned long long queued_seq;   /* bytes ever queued */
    unsigned long long durable_seq;  /* bytes ever made durable */
    bool broken;                     /* the last write or sync failed */
    bool unsynced;                   /* written, but the fdatasync failed */
    int last_errno;
    int retry_ms;                    /* current back-off */
    int64_t retry_at_ms;             /* no retry before this */
    long long write_errors;          /* failed attempts */
    long long oversize_records;      /* changes too large for a record (never written) */
    aof_resume_fn resume;
    void *resume_arg;
};

/* ---- writing ---- */

bool aof_fits_merge(const struct aof *a, struct store *s, const void *key, size_t klen,
                    const struct sibset *in)
{
    if (!a)
        return true;
    size_t have = store_entry_encoded_bound(store_find(s, key, klen));
    return aof_fits(klen, have + sib_encoded_bound(in));
}

/* Writes all of p[0..n) to fd.  0, or -errno (some bytes may be written). */
static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Queues the record in a->rec.  It reaches the file in aof_flush, which
 * the server calls before it writes any reply, so a change is in the log
 * before anyone hears of it, with one write(2) (and, with appendfsync
 * always, one fdatasync) per batch of requests — group commit. */
static void rec_append(struct aof *a)
{
    if (!aof_rec_frame(&a->rec)) {
        /* The write path refuses changes this large before they happen
         * (aof_fits); reaching here is a bug, never a silent loss. */
        a->oversize_records++;
        log_warn("append-only log: a change of %zu bytes is too large for one record; "
                 "not logged", a->rec.len);
        return;
    }
    buf_append(&a->pending, a->rec.data, a->rec.len);
    a->queued_seq += a->rec.len;
    if (a->child > 0)
        buf_append(&a->rewrite_buf, a->rec.data, a->rec.len);
}

static void set_broken(struct aof *a, int err, const char *what)
{
    a->write_errors++;
    if (!a->broken || a->last_errno != err)
        log_warn("append-only log %s failed: %s; writes are refused until it succeeds "
                 "(retrying)", what, strerror(err));
    a->broken = true;
    a->last_errno = err;
    a->retry_at_ms = clock_mono_ms() + a->retry_ms;
    a->retry_ms = a->retry_ms * 2 > AOF_RETRY_MAX_MS ? AOF_RETRY_MAX_MS : a->retry_ms * 2;
}

bool aof_flush(struct aof *a)
{
    if (!a)
        return true;
    if (a->pending.len == 0 && !a->unsynced)
        return !a->broken;
    if (a->broken && clock_mono_ms() < a->retry_at_ms)
        return false;
    if (a->pending.len > 0) {
        int rc = write_all(a->fd, a->pending.data, a->pending.len);
        if (rc < 0) {
            /* Cut what part of the batch got in: the file never holds half
             * a record, and the retry writes the whole batch again. */
            if (ftruncate(a->fd, (off_t)a->size) < 0)
                log_warn("append-only log: cannot cut a failed write back: %s", strerror(errno));
            set_broken(a, -rc, "write");
            return false;
        }
        a->size += (long long)a->pending.len;
        atomic_fetch_add(&a->written, (long long)a->pending.len);
        a->pending.len = 0;
        buf_trim(&a->pending, 1 << 20);
        a->unsynced = a->cfg->appendfsync == CFG_FSYNC_ALWAYS;
    }
    if (a->unsynced) {
        if (fdatasync(a->fd) < 0) {
            set_broken(a, errno, "fdatasync");
            return false;
        }
        a->unsynced = false;
        atomic_store(&a->synced, atomic_load(&a->written));
        atomic_store(&a->last_sync_ms, clock_mono_ms());
    }
    a->durable_seq = a->queued_seq;
    if (a->broken) {
        a->broken = false;
        a->retry_ms = AOF_RETRY_MIN_MS;
        log_info("append-only log is writable again after %lld failed attempt(s); "
                 "accepting writes", a->write_errors);
        if (a->resume)
            a->resume(a->resume_arg);
    }
    return true;
}

bool aof_writable(const struct aof *a)
{
    return !a || !a->broken;
}

const char *aof_error(const struct aof *a)
{
    return a && a->broken ? strerror(a->last_errno) : NULL;
}

unsigned long long aof_queued_seq(const struct aof *a)
{
    return a ? a->queued_seq : 0;
}

bool aof_durable(const struct aof *a, unsigned long long seq)
{
    return !a || a->durable_seq >= seq;
}

void aof_set_resume(struct aof *a, aof_resume_fn fn, void *arg)
{
    if (!a)
        return;
    a->resume = fn;
    a->resume_arg = arg;
}

static void add_versions(struct buf *b, struct store *s, const void *key, size_t klen)
{
    struct sibset set;
    sib_init(&set);
    const struct store_entry *e = store_find(s, key, klen);
    if (e)
        store_entry_load(e, &set);
    sib_encode(&set, b);
    sib_fini(&set);
}

void aof_log_key(struct aof *a, const void *key, size_t klen, const struct sibset *set)
{
    if (!a)
        return;
    aof_rec_begin(&a->rec, AOF_KEY);
    buf_varint(&a->rec, klen);
    buf_append(&a->rec, key, klen);
    sib_encode(set, &a->rec);
    rec_append(a);
}

void aof_log_merge(struct aof *a, const void *key, size_t klen, const struct sibset *set)
{
    if (!a)
        return;
    aof_rec_begin(&a->rec, AOF_MERGE);
    buf_varint(&a->rec, klen);
    buf_append(&a->rec, key, klen);
    sib_encode(set, &a->rec);
    rec_append(a);
}

void aof_log_hint(struct aof *a, const char *owner, struct store *hints, const void *key,
                  size_t klen)
{
    if (!a)
        return;
    aof_rec_begin(&a->rec, AOF_HINT);
    buf_putc(&a->rec, (char)strlen(owner));
    buf_append(&a->rec, owner, strlen(owner));
    buf_varint(&a->rec, klen);
    buf_append(&a->rec, key, klen);
    add_versions(&a->rec, hints, key, klen);
    rec_append(a);
}

void aof_log_flush(struct aof *a, uint32_t epoch)
{
    if (!a)
        return;
    if (epoch > a->epoch)
        a->epoch = epoch;
    aof_rec_begin(&a->rec, AOF_FLUSH);
    if (epoch)
        buf_varint(&a->rec, epoch);
    rec_append(a);
}

uint32_t aof_epoch(const struct aof *a)
{
    return a ? a->epoch : 0;
}

/* ---- replay ---- */

/* Applies one record (aof_record_fn); false when its payload does not
 * decode.  The record passed its checksum, so its values are taken at the
 * size they were written with (no client limit applies to them). */
static bool apply(void *arg, int type, const uint8_t *p, size_t len, size_t off)
{
    (void)off;
    struct aof *a = arg;
    if (type == AOF_FLUSH) {
        /* empty: a local flush of an older release (everything so far);
         * else the cluster's flush epoch */
        uint32_t e;
        if (!aof_flush_parse(p, len, &e))
            return false;
        if (e == 0) {
            store_flush(a->store);
            return true;
        }
        if (e > a->epoch)
            a->epoch = e;
        store_drop_before(a->store, a->epoch);
        if (a->hints.drop_before)
            a->hints.drop_before(a->hints.arg, a->epoch);
        return true;
    }
    struct aof_rec r;
    if (!aof_rec_parse(type, p, len, &r))
        return false;
    struct sibset set;
    sib_init(&set);
    bool ok = sib_decode(&set, r.versions, r.vlen, SIZE_MAX) == 0;
    if (ok) {
        sib_drop_before(&set, a->epoch); /* never logged so; cheap to be sure */
        if (type == AOF_MERGE)
            store_put_set(a->store, r.key, r.klen, &set); /* reconciled as it was live */
        else if (!r.owner)
            store_replace(a->store, r.key, r.klen, &set);
        else if (a->hints.load && a->hints.load(a->hints.arg, (const char *)r.owner,
                                                r.owner_len, r.key, r.klen, &set))
            ; /* taken by its hint store */
        else if (set.n > 0)
            /* a hint for a node no longer in the table: keep it as local
             * data, which the transfer hands to the key's owners */
            store_put_set(a->store, r.key, r.klen, &set);
    }
    sib_fini(&set);
    return ok;
}

/* Replay's callback: applies, and keeps a copy of what cannot be applied so
 * that no rewrite ever drops it. */
static bool replay_record(void *arg, int type, const uint8_t *p, size_t len, size_t off)
{
    struct aof *a = arg;
    if (apply(a, type, p, len, off))
        return true;
    const uint8_t *rec = p - AOF_HDR;
    buf_append(&a->retained, rec, AOF_HDR + len);
    if (a->unreadable_records++ < 10)
        log_warn("append-only log %s: record at offset %zu (type %d, %zu bytes) passed its "
                 "checksum but cannot be applied; kept in the log, skipped",
                 a->path, off, type, len);
    return false;
}

/* Writes img[0..n) to a new file <log>.<what>.<unix ms> next to the log, so
 * that nothing replay cuts or skips is destroyed.  Its name goes to err. */
static int save_copy(struct aof *a, const char *what, const uint8_t *img, size_t n,
                     struct buf *name)
{
    buf_printf(name, "%s.%s.%lld", a->path, what, (long long)clock_now_ms());
    buf_putc(name, '\0');
    int fd = open(name->data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return -errno;
    int rc = write_all(fd, (const char *)img, n);
    if (rc == 0 && fsync(fd) < 0)
        rc = -errno;
    close(fd);
    if (rc == 0)
        rc = fs_fsync_dir_of(name->data);
    return rc;
}

static int replay(struct aof *a)
{
    struct stat st;
    if (fstat(a->fd, &st) < 0)
        return -errno;
    size_t total = (size_t)st.st_size;
    const uint8_t *img = NULL;
    if (total > 0) {
        void *m = mmap(NULL, total, PROT_READ, MAP_PRIVATE, a->fd, 0);
        if (m == MAP_FAILED)
            return -errno;
        madvise(m, total, MADV_SEQUENTIAL);
        img = m;
    }
    struct aof_scan_report rep;
    aof_scan(img, total, replay_record, a, &rep);
    a->loaded_records = (long long)rep.records;
    a->corrupt_bytes = (long long)rep.corrupt_bytes;
    int rc = 0;
    if (rep.corrupt_regions > 0) {
        /* Damaged stretches between good records: every record after them
         * was read; the bytes stay in the log until the next rewrite, and a
         * copy of the whole log is kept beside it for inspection. */
        struct buf name;
        buf_init(&name);
        int src = save_copy(a, "corrupt", img, total, &name);
        log_warn("append-only log %s: %zu damaged stretch(es), %zu bytes, first at offset %zu, "
                 "skipped; the records after them were loaded; copy of the log: %s%s",
                 a->path, rep.corrupt_regions, rep.corrupt_bytes, rep.first_corrupt,
                 src == 0 ? name.data : "(not saved: ", src == 0 ? "" : strerror(-src));
        buf_fini(&name);
    }
    if (rep.torn > 0) {
        struct buf name;
        buf_init(&name);
        int src = save_copy(a, "torn", img + rep.end, rep.torn, &name);
        if (src < 0) {
            /* Never cut what could not be kept: refuse to start instead. */
            log_warn("append-only log %s: cannot save the %zu-byte torn tail at offset %zu "
                     "(%s); not cutting it", a->path, rep.torn, rep.end, strerror(-src));
            rc = src;
        } else {
            a->truncated_bytes = (long long)rep.torn;
            log_warn("append-only log %s: torn tail of %zu bytes at offset %zu (a write cut "
                     "short); cut off, copy kept in %s (%zu records loaded)",
                     a->path, rep.torn, rep.end, name.data, rep.records);
            if (ftruncate(a->fd, (off_t)rep.end) < 0)
                rc = -errno;
        }
        buf_fini(&name);
    }
    if (img)
        munmap((void *)img, total);
    a->size = a->base_size = (long long)rep.end;
    return rc;
}

/* ---- fsync thread (everysec) ---- */

static void *fsync_main(void *arg)
{
    struct aof *a = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    while (!atomic_load(&a->stop)) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (a->cfg->appendfsync != CFG_FSYNC_EVERYSEC)
            continue;
        long long w = atomic_load(&a->written);
        if (w == atomic_load(&a->synced) || clock_mono_ms() - atomic_load(&a->last_sync_ms) < 1000)
            continue;
        int fd = atomic_load(&a->sync_fd);
        if (fd >= 0 && fdatasync(fd) == 0) {
            atomic_store(&a->synced, w);
            atomic_store(&a->last_sync_ms, clock_mono_ms());
        }
    }
    return NULL;
}

/* ---- compaction ---- */

struct rw_ctx {
    struct aof *a;
    int fd;
    int err;                /* first failure (-errno), or 1 for a record that does not fit */
    struct buf rec;
    struct buf out;         /* batched writes of the child */
    const char *owner;  /* NULL = main store, else the hints' owner */
};

static void rw_entry(void *arg, const struct store_entry *e)
{
    struct rw_ctx *w = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    if (!w->owner) {
        aof_rec_begin(&w->rec, AOF_KEY);
    } else {
        const char *name = w->owner;
        aof_rec_begin(&w->rec, AOF_HINT);
        buf_putc(&w->rec, (char)strlen(name));
        buf_append(&w->rec, name, strlen(name));
    }
    buf_varint(&w->rec, klen);
    buf_append(&w->rec, key, klen);
    sib_encode(&set, &w->rec);
    sib_fini(&set);
    if (!aof_rec_frame(&w->rec)) {
        w->err = w->err ? w->err : 1;
        return;
    }
    buf_append(&w->out, w->rec.data, w->rec.len);
    if (w->out.len >= (1 << 20)) {
        int rc = write_all(w->fd, w->out.data, w->out.len);
        w->err = w->err ? w->err : rc;
        w->out.len = 0;
    }
}

static void rw_store(struct rw_ctx *w, struct store *s, const char *owner)
{
    w->owner = owner;
    uint64_t cur = 0;
    do
        cur = store_scan(s, cur, 1024, rw_entry, w);
    while (cur != 0);
}

static void rw_hint_store(void *arg, const char *owner, struct store *s)
{
    rw_store(arg, s, owner);
}

/* The child: a consistent snapshot (copy-on-write) of store and hints. */
static void rewrite_child(struct aof *a)
{
    /* Hold nothing of the parent's: its listening and client sockets must
     * close when it dies (or a restarted node could not bind its port), and
     * the child dies with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(1); /* the parent died before prctl took effect */
    if (close_range(3, ~0U, 0) != 0) /* kernels before 5.9 */
        for (int fd = 3; fd < 65536; fd++)
            close(fd);
    int fd = open(a->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        _exit(1);
    struct rw_ctx w = {.a = a, .fd = fd};
    buf_init(&w.rec);
    buf_init(&w.out);
    if (a->epoch) { /* the flush epoch outlives the keys it dropped */
        aof_rec_begin(&w.rec, AOF_FLUSH);
        buf_varint(&w.rec, a->epoch);
        if (!aof_rec_frame(&w.rec))
            _exit(1);
        buf_append(&w.out, w.rec.data, w.rec.len);
    }
    rw_store(&w, a->store, NULL);
    if (a->hints.foreach_store)
        a->hints.foreach_store(a->hints.arg, rw_hint_store, &w);
    /* records replay could not apply stay in the log, whatever rewrites */
    buf_append(&w.out, a->retained.data ? a->retained.data : "", a->retained.len);
    int rc = write_all(fd, w.out.data ? w.out.data : "", w.out.len);
    if (w.err || rc < 0 || fsync(fd) < 0 || close(fd) < 0)
        _exit(1);
    _exit(0);
}

int aof_rewrite_start(struct aof *a)
{
    if (!a)
        return -ENOENT;
    if (a->child > 0)
        return -EBUSY;
    a->rewrite_buf.len = 0;
    int64_t t0 = clock_mono_us();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        rewrite_child(a);
    a->child = pid;
    a->rewrite_started_ms = clock_mono_ms();
    log_info("append-only log compaction started (pid %d, fork took %lld us)", (int)pid,
             (long long)(clock_mono_us() - t0));
    return 0;
}

static void rewrite_finish(struct aof *a, bool child_ok)
{
    aof_flush(a); /* the old file gets them too, in case the swap fails */
    a->child = 0;
    a->last_rewrite_ms = clock_mono_ms() - a->rewrite_started_ms;
    a->last_rewrite_at = time(NULL);
    bool ok = child_ok;
    int fd = -1;
    if (ok) {
        fd = open(a->tmp_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ok = fd >= 0;
    }
    if (ok) {
        /* With the log broken the old file lacks what is still queued, and
         * so would the new one: keep the old file (the queue is written to
         * it when the disk comes back). */
        ok = !a->broken &&
             write_all(fd, a->rewrite_buf.data ? a->rewrite_buf.data : "",
                       a->rewrite_buf.len) == 0 &&
             fdatasync(fd) == 0 && rename(a->tmp_path, a->path) == 0;
        /* the rename is durable only once the directory is */
        if (ok && fs_fsync_dir_of(a->path) < 0)
            log_warn("append-only log: fsync of its directory failed: %s", strerror(errno));
    }
    if (ok) {
        struct stat st;
        int old = a->fd;
        a->fd = fd;
        atomic_store(&a->sync_fd, fd);
        close(old);
        a->size = a->base_size = fstat(fd, &st) == 0 ? (long long)st.st_size : a->size;
        a->rewrites++;
        a->rewrite_failures = 0;
        log_info("append-only log compacted: %lld bytes, %lld ms", a->size,
                 a->last_rewrite_ms);
    } else {
        if (fd >= 0)
            close(fd);
        unlink(a->tmp_path);
        /* automatic retries back off: 1 s, 2 s, 4 s ... up to 5 minutes */
        int64_t wait = 1000LL << (a->rewrite_failures < 20 ? a->rewrite_failures : 20);
        if (wait > AOF_REWRITE_BACKOFF_MAX_MS)
            wait = AOF_REWRITE_BACKOFF_MAX_MS;
        a->rewrite_failures++;
        a->rewrite_not_before_ms = clock_mono_ms() + wait;
        log_warn("append-only log compaction failed (%u in a row); keeping the old log, "
                 "next automatic attempt in %lld s", a->rewrite_failures,
                 (long long)(wait / 1000));
    }
    a->last_rewrite_ok = ok;
    buf_fini(&a->rewrite_buf);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct aof *a = arg;
    aof_flush(a); /* changes no reply flushed (hint deliveries, repairs) */
    if (a->child > 0) {
        int status;
        pid_t r = waitpid(a->child, &status, WNOHANG);
        if (r == a->child)
            rewrite_finish(a, WIFEXITED(status) && WEXITSTATUS(status) == 0);
        return;
    }
    const struct cfg *c = a->cfg;
    if (a->broken || clock_mono_ms() < a->rewrite_not_before_ms)
        return;
    if (c->aof_rewrite_pct > 0 && a->size >= c->aof_rewrite_min &&
        a->size >= a->base_size + a->base_size / 100 * c->aof_rewrite_pct)
        aof_rewrite_start(a);
}

/* ---- lifecycle ---- */

struct aof *aof_open(struct event_base *base, struct store *store, const struct cfg *cfg,
                     const struct aof_hints *hints, struct buf *err)
{
    struct aof *a = mem_calloc(1, sizeof(*a));
    a->cfg = cfg;
    a->store = store;
    if (hints)
        a->hints = *hints;
    buf_init(&a->rec);
    buf_init(&a->pending);
    buf_init(&a->rewrite_buf);
    buf_init(&a->retained);
    a->retry_ms = AOF_RETRY_MIN_MS;
    struct buf p;
    buf_init(&p);
    buf_printf(&p, "%s/%s.aol", cfg->dir, cfg->node_name);
    buf_putc(&p, '\0');
    a->path = mem_strdup(p.data);
    p.len = 0;
    buf_printf(&p, "%s/%s.aol.rewrite.tmp", cfg->dir, cfg->node_name);
    buf_putc(&p, '\0');
    a->tmp_path = mem_strdup(p.data);
    buf_fini(&p);
    a->fd = open(a->path, O_RDWR | O_APPEND | O_CLOEXEC);
    if (a->fd < 0 && errno == ENOENT) {
        /* a new log: its directory entry must survive a crash too */
        a->fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (a->fd >= 0 && fs_fsync_dir_of(a->path) < 0)
            log_warn("append-only log: fsync of its directory failed: %s", strerror(errno));
    }
    if (a->fd < 0) {
        buf_printf(err, "cannot open append-only log %s: %s", a->path, strerror(errno));
        goto fail;
    }
    unlink(a->tmp_path); /* leftover of a compaction that did not finish */
    int64_t t0 = clock_mono_us();
    int rc = replay(a);
    if (rc < 0) {
        buf_printf(err, "cannot read append-only log %s: %s", a->path, strerror(-rc));
        goto fail;
    }
    log_info("append-only log %s: %lld records, %lld bytes loaded in %lld ms%s%s", a->path,
             a->loaded_records, a->size, (long long)((clock_mono_us() - t0) / 1000),
             a->truncated_bytes ? " (torn tail cut, copy kept)" : "",
             a->unreadable_records ? " (unreadable records kept)" : "");
    atomic_store(&a->sync_fd, a->fd);
    atomic_store(&a->last_sync_ms, clock_mono_ms());
    if (pthread_create(&a->thread, NULL, fsync_main, a) == 0)
        a->thread_running = true;
    a->tick = event_new(base, -1, EV_PERSIST, on_tick, a);
    struct timeval tv = {0, AOF_TICK_MS * 1000};
    event_add(a->tick, &tv);
    return a;
fail:
    if (a->fd >= 0)
        close(a->fd);
    buf_fini(&a->rec);
    buf_fini(&a->retained);
    mem_free(a->path);
    mem_free(a->tmp_path);
    mem_free(a);
    return NULL;
}

void aof_close(struct aof *a)
{
    if (!a)
        return;
    if (a->tick)
        event_free(a->tick);
    if (a->child > 0) {
        kill(a->child, SIGKILL);
        waitpid(a->child, NULL, 0);
        unlink(a->tmp_path);
    }
    aof_flush(a);
    atomic_store(&a->stop, true);
    if (a->thread_running)
        pthread_join(a->thread, NULL);
    if (a->cfg->appendfsync != CFG_FSYNC_NO)
        fdatasync(a->fd);
    if (a->pending.len > 0)
        log_warn("append-only log: %zu bytes of changes could not be written before exit: %s",
                 a->pending.len, strerror(a->last_errno));
    close(a->fd);
    buf_fini(&a->rec);
    buf_fini(&a->pending);
    buf_fini(&a->rewrite_buf);
    buf_fini(&a->retained);
    mem_free(a->path);
    mem_free(a->tmp_path);
    mem_free(a);
}

void aof_info(const struct aof *a, struct buf *out)
{
    if (!a) {
        buf_printf(out, "aof_enabled:0\r\n");
        return;
    }
    static const char *fs[] = {"always", "everysec", "no"};
    long long w = atomic_load(&a->written), s = atomic_load(&a->synced);
    long long lag = w == s ? 0 : clock_mono_ms() - atomic_load(&a->last_sync_ms);
    buf_printf(out,
               "aof_enabled:1\r\naof_file:%s\r\naof_fsync:%s\r\naof_current_size:%lld\r\n"
               "aof_base_size:%lld\r\naof_unsynced_bytes:%lld\r\naof_fsync_lag_ms:%lld\r\n"
               "aof_rewrite_in_progress:%d\r\naof_rewrites:%lld\r\n"
               "aof_last_rewrite_time_ms:%lld\r\naof_last_rewrite_at:%lld\r\n"
               "aof_last_bgrewrite_status:%s\r\naof_loaded_records:%lld\r\n"
               "aof_load_truncated_bytes:%lld\r\naof_load_unreadable_records:%lld\r\n"
               "aof_load_corrupt_bytes:%lld\r\naof_write_errors:%lld\r\n"
               "aof_last_write_status:%s\r\naof_last_write_error:%s\r\n"
               "aof_pending_bytes:%zu\r\naof_oversize_records:%lld\r\n",
               a->path, fs[a->cfg->appendfsync % 3], a->size, a->base_size, w - s, lag,
               a->child > 0, a->rewrites, a->last_rewrite_ms, (long long)a->last_rewrite_at,
               a->last_rewrite_at == 0 || a->last_rewrite_ok ? "ok" : "err", a->loaded_records,
               a->truncated_bytes, a->unreadable_records, a->corrupt_bytes, a->write_errors,
               a->broken ? "err" : "ok", a->broken ? strerror(a->last_errno) : "",
               a->pending.len, a->oversize_records);
}
