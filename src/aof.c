/* aof.c — the append-only log (see aof.h).
 *
 * Owns: the log file descriptor, the fsync thread (everysec), the rewrite
 * child and its buffer, the 100 ms housekeeping timer.  Callers: coord,
 * cmd_peer, cmd_kv (FLUSHALL), handoff, main.  Calls: store, siblings.
 * Blocking: write(2) of one record per change (page cache); fdatasync only
 * with appendfsync always; fork() when a compaction starts.  The fsync
 * thread touches nothing but the descriptor number and two atomics.
 */
#include "aof.h"
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
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "errors.h"
#include "handoff.h"
#include "node.h"
#include "siblings.h"
#include "store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

#define AOF_HDR 9                    /* u32 len, u32 checksum, u8 type */
#define AOF_MAX_RECORD (1u << 30)    /* a longer length field is corruption */
#define AOF_SEED 0xa0f1u
#define AOF_TICK_MS 100

enum aof_type {
    AOF_KEY = 1,   /* varint klen, key, sib_encode'd versions (none = removed) */
    AOF_HINT = 2,  /* u8 owner-name length, name, varint klen, key, versions */
    AOF_FLUSH = 3, /* the store was emptied */
};

struct aof {
    struct kv_node *node;
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
    /* load report */
    long long loaded_records;
    long long truncated_bytes;
    struct event *tick;
    struct buf rec;                  /* scratch for one record */
    struct buf pending;              /* records not yet written (aof_flush) */
    long long write_errors;
};

static int64_t mono_ms(void)
{
    return kv_mono_us() / 1000;
}

/* ---- encoding ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Starts a record in a->rec: header placeholder + type. */
static void rec_begin(struct aof *a, enum aof_type type)
{
    a->rec.len = 0;
    buf_reserve(&a->rec, AOF_HDR);
    memset(a->rec.data, 0, AOF_HDR);
    a->rec.data[8] = (char)type;
    a->rec.len = AOF_HDR;
}

static void rec_finish(struct buf *rec)
{
    uint32_t sum;
    lmmh_x86_32(rec->data + 8, (unsigned)(rec->len - 8), AOF_SEED, &sum);
    put_u32((uint8_t *)rec->data, (uint32_t)(rec->len - AOF_HDR));
    put_u32((uint8_t *)rec->data + 4, sum);
}

static void write_all(struct aof *a, int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            /* Disk full or I/O error: the change stays in memory (and on
             * the other replicas); say so loudly, keep serving. */
            if (a->write_errors++ % 1000 == 0)
                log_warn("append-only log write failed: %s", strerror(errno));
            return;
        }
        p += w;
        n -= (size_t)w;
    }
}

/* Appends the record in a->rec (before the change it describes is acked). */
/* Queues the record in a->rec.  It reaches the file in aof_flush, which
 * the server calls before it writes any reply, so a change is in the log
 * before anyone hears of it, with one write(2) (and, with appendfsync
 * always, one fdatasync) per batch of requests — group commit. */
static void rec_append(struct aof *a)
{
    rec_finish(&a->rec);
    buf_append(&a->pending, a->rec.data, a->rec.len);
    if (a->child > 0)
        buf_append(&a->rewrite_buf, a->rec.data, a->rec.len);
}

void aof_flush(struct aof *a)
{
    if (!a || a->pending.len == 0)
        return;
    write_all(a, a->fd, a->pending.data, a->pending.len);
    a->size += (long long)a->pending.len;
    atomic_fetch_add(&a->written, (long long)a->pending.len);
    a->pending.len = 0;
    buf_trim(&a->pending, 1 << 20);
    if (a->node->cfg.appendfsync == CFG_FSYNC_ALWAYS) {
        fdatasync(a->fd);
        atomic_store(&a->synced, atomic_load(&a->written));
        atomic_store(&a->last_sync_ms, mono_ms());
    }
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
    rec_begin(a, AOF_KEY);
    buf_varint(&a->rec, klen);
    buf_append(&a->rec, key, klen);
    sib_encode(set, &a->rec);
    rec_append(a);
}

void aof_log_hint(struct aof *a, int owner, struct store *hints, const void *key, size_t klen)
{
    if (!a)
        return;
    const char *name = a->node->cfg.nodes[owner].name;
    rec_begin(a, AOF_HINT);
    buf_putc(&a->rec, (char)strlen(name));
    buf_append(&a->rec, name, strlen(name));
    buf_varint(&a->rec, klen);
    buf_append(&a->rec, key, klen);
    add_versions(&a->rec, hints, key, klen);
    rec_append(a);
}

void aof_log_flush(struct aof *a)
{
    if (!a)
        return;
    rec_begin(a, AOF_FLUSH);
    rec_append(a);
}

/* ---- replay ---- */

static int owner_index(const struct kv_node *n, const uint8_t *name, size_t len)
{
    for (int i = 0; i < n->cfg.nnodes; i++)
        if (strlen(n->cfg.nodes[i].name) == len && memcmp(n->cfg.nodes[i].name, name, len) == 0)
            return i;
    return -1;
}

/* Applies one record; false when its payload does not decode. */
static bool apply(struct aof *a, int type, const uint8_t *p, size_t len)
{
    struct kv_node *n = a->node;
    size_t pos = 0;
    int owner = -1;
    if (type == AOF_FLUSH) {
        store_flush(n->store);
        return len == 0;
    }
    if (type == AOF_HINT) {
        if (len < 1 || (size_t)p[0] + 1 > len)
            return false;
        owner = owner_index(n, p + 1, p[0]);
        pos = 1 + (size_t)p[0];
    } else if (type != AOF_KEY) {
        return false;
    }
    uint64_t klen;
    if (!varint_get(p, len, &pos, &klen) || klen > len - pos)
        return false;
    const uint8_t *key = p + pos;
    pos += klen;
    struct sibset set;
    sib_init(&set);
    bool ok = sib_decode(&set, p + pos, len - pos, (size_t)n->cfg.proto_max_bulk_len) == 0;
    if (ok) {
        if (type == AOF_KEY)
            store_replace(n->store, key, (size_t)klen, &set);
        else if (owner >= 0 && n->hh)
            hh_load(n->hh, owner, key, (size_t)klen, &set);
        /* hints for a node no longer configured are dropped */
    }
    sib_fini(&set);
    return ok;
}

static int replay(struct aof *a)
{
    struct stat st;
    if (fstat(a->fd, &st) < 0)
        return -errno;
    size_t total = (size_t)st.st_size;
    size_t good = 0;
    const size_t chunk = 1 << 20;
    struct buf b;
    buf_init(&b);
    size_t file_off = 0; /* file offset of b.data[0] */
    bool eof = false;
    const char *why = NULL;
    while (!why) {
        size_t at = good - file_off;
        /* need at least a header, then the whole record */
        size_t need = AOF_HDR;
        if (b.len - at >= AOF_HDR) {
            uint32_t plen = get_u32((const uint8_t *)b.data + at);
            if (plen > AOF_MAX_RECORD) {
                why = "impossible record length";
                break;
            }
            need = AOF_HDR + plen;
        }
        if (b.len - at < need) {
            if (eof) {
                if (b.len - at > 0)
                    why = "truncated record";
                break;
            }
            /* drop consumed bytes, read more */
            buf_consume(&b, at);
            file_off = good;
            buf_reserve(&b, need > chunk ? need : chunk);
            ssize_t r = pread(a->fd, b.data + b.len, b.cap - b.len, (off_t)(file_off + b.len));
            if (r < 0) {
                int e = errno;
                buf_fini(&b);
                return -e;
            }
            if (r == 0)
                eof = true;
            b.len += (size_t)r;
            continue;
        }
        const uint8_t *rec = (const uint8_t *)b.data + at;
        uint32_t sum;
        lmmh_x86_32(rec + 8, (unsigned)(need - 8), AOF_SEED, &sum);
        if (sum != get_u32(rec + 4)) {
            why = "checksum mismatch";
            break;
        }
        if (!apply(a, rec[8], rec + AOF_HDR, need - AOF_HDR)) {
            why = "undecodable record";
            break;
        }
        a->loaded_records++;
        good += need;
    }
    buf_fini(&b);
    if (good < total) {
        a->truncated_bytes = (long long)(total - good);
        log_warn("append-only log %s: %s at offset %zu; dropping the last %zu bytes "
                 "(%lld records loaded)",
                 a->path, why ? why : "trailing garbage", good, total - good,
                 a->loaded_records);
        if (ftruncate(a->fd, (off_t)good) < 0)
            return -errno;
    }
    a->size = a->base_size = (long long)good;
    return 0;
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
        if (a->node->cfg.appendfsync != CFG_FSYNC_EVERYSEC)
            continue;
        long long w = atomic_load(&a->written);
        if (w == atomic_load(&a->synced) || mono_ms() - atomic_load(&a->last_sync_ms) < 1000)
            continue;
        int fd = atomic_load(&a->sync_fd);
        if (fd >= 0 && fdatasync(fd) == 0) {
            atomic_store(&a->synced, w);
            atomic_store(&a->last_sync_ms, mono_ms());
        }
    }
    return NULL;
}

/* ---- compaction ---- */

struct rw_ctx {
    struct aof *a;
    int fd;
    struct buf rec;
    struct buf out;         /* batched writes of the child */
    int owner;          /* -1 = main store */
    struct store *s;
};

static void rw_entry(void *arg, const struct store_entry *e)
{
    struct rw_ctx *w = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    w->rec.len = 0;
    buf_reserve(&w->rec, AOF_HDR);
    memset(w->rec.data, 0, AOF_HDR);
    w->rec.len = AOF_HDR;
    if (w->owner < 0) {
        w->rec.data[8] = AOF_KEY;
    } else {
        const char *name = w->a->node->cfg.nodes[w->owner].name;
        w->rec.data[8] = AOF_HINT;
        buf_putc(&w->rec, (char)strlen(name));
        buf_append(&w->rec, name, strlen(name));
    }
    buf_varint(&w->rec, klen);
    buf_append(&w->rec, key, klen);
    sib_encode(&set, &w->rec);
    sib_fini(&set);
    rec_finish(&w->rec);
    buf_append(&w->out, w->rec.data, w->rec.len);
    if (w->out.len >= (1 << 20)) {
        write_all(w->a, w->fd, w->out.data, w->out.len);
        w->out.len = 0;
    }
}

static void rw_store(struct rw_ctx *w, struct store *s, int owner)
{
    w->owner = owner;
    uint64_t cur = 0;
    do
        cur = store_scan(s, cur, 1024, rw_entry, w);
    while (cur != 0);
}

static void rw_hint_store(void *arg, int owner, struct store *s)
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
    rw_store(&w, a->node->store, -1);
    if (a->node->hh)
        hh_foreach_store(a->node->hh, rw_hint_store, &w);
    write_all(a, fd, w.out.data ? w.out.data : "", w.out.len);
    if (fsync(fd) < 0 || close(fd) < 0 || a->write_errors)
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
    int64_t t0 = kv_mono_us();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0)
        rewrite_child(a);
    a->child = pid;
    a->rewrite_started_ms = mono_ms();
    log_info("append-only log compaction started (pid %d, fork took %lld us)", (int)pid,
             (long long)(kv_mono_us() - t0));
    return 0;
}

static void rewrite_finish(struct aof *a, bool child_ok)
{
    aof_flush(a); /* the old file gets them too, in case the swap fails */
    a->child = 0;
    a->last_rewrite_ms = mono_ms() - a->rewrite_started_ms;
    a->last_rewrite_at = time(NULL);
    bool ok = child_ok;
    int fd = -1;
    if (ok) {
        fd = open(a->tmp_path, O_WRONLY | O_APPEND | O_CLOEXEC);
        ok = fd >= 0;
    }
    if (ok) {
        long long before = a->write_errors;
        write_all(a, fd, a->rewrite_buf.data ? a->rewrite_buf.data : "", a->rewrite_buf.len);
        ok = a->write_errors == before && fdatasync(fd) == 0 && rename(a->tmp_path, a->path) == 0;
    }
    if (ok) {
        struct stat st;
        int old = a->fd;
        a->fd = fd;
        atomic_store(&a->sync_fd, fd);
        close(old);
        a->size = a->base_size = fstat(fd, &st) == 0 ? (long long)st.st_size : a->size;
        a->rewrites++;
        log_info("append-only log compacted: %lld bytes, %lld ms", a->size,
                 a->last_rewrite_ms);
    } else {
        if (fd >= 0)
            close(fd);
        unlink(a->tmp_path);
        log_warn("append-only log compaction failed; keeping the old log");
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
    const struct cfg *c = &a->node->cfg;
    if (c->aof_rewrite_pct > 0 && a->size >= c->aof_rewrite_min &&
        a->size >= a->base_size + a->base_size / 100 * c->aof_rewrite_pct)
        aof_rewrite_start(a);
}

/* ---- lifecycle ---- */

struct aof *aof_open(struct kv_node *node, struct buf *err)
{
    struct aof *a = mem_calloc(1, sizeof(*a));
    a->node = node;
    buf_init(&a->rec);
    buf_init(&a->pending);
    buf_init(&a->rewrite_buf);
    struct buf p;
    buf_init(&p);
    buf_printf(&p, "%s/%s.aol", node->cfg.dir, node->cfg.node_name);
    buf_putc(&p, '\0');
    a->path = mem_strdup(p.data);
    p.len = 0;
    buf_printf(&p, "%s/%s.aol.rewrite.tmp", node->cfg.dir, node->cfg.node_name);
    buf_putc(&p, '\0');
    a->tmp_path = mem_strdup(p.data);
    buf_fini(&p);
    a->fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (a->fd < 0) {
        buf_printf(err, "cannot open append-only log %s: %s", a->path, strerror(errno));
        goto fail;
    }
    unlink(a->tmp_path); /* leftover of a compaction that did not finish */
    int64_t t0 = kv_mono_us();
    int rc = replay(a);
    if (rc < 0) {
        buf_printf(err, "cannot read append-only log %s: %s", a->path, strerror(-rc));
        goto fail;
    }
    log_info("append-only log %s: %lld records, %lld bytes loaded in %lld ms%s", a->path,
             a->loaded_records, a->size, (long long)((kv_mono_us() - t0) / 1000),
             a->truncated_bytes ? " (corrupt tail dropped)" : "");
    atomic_store(&a->sync_fd, a->fd);
    atomic_store(&a->last_sync_ms, mono_ms());
    if (pthread_create(&a->thread, NULL, fsync_main, a) == 0)
        a->thread_running = true;
    a->tick = event_new(node->base, -1, EV_PERSIST, on_tick, a);
    struct timeval tv = {0, AOF_TICK_MS * 1000};
    event_add(a->tick, &tv);
    return a;
fail:
    if (a->fd >= 0)
        close(a->fd);
    buf_fini(&a->rec);
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
    if (a->node->cfg.appendfsync != CFG_FSYNC_NO)
        fdatasync(a->fd);
    close(a->fd);
    buf_fini(&a->rec);
    buf_fini(&a->pending);
    buf_fini(&a->rewrite_buf);
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
    long long lag = w == s ? 0 : mono_ms() - atomic_load(&a->last_sync_ms);
    buf_printf(out,
               "aof_enabled:1\r\naof_file:%s\r\naof_fsync:%s\r\naof_current_size:%lld\r\n"
               "aof_base_size:%lld\r\naof_unsynced_bytes:%lld\r\naof_fsync_lag_ms:%lld\r\n"
               "aof_rewrite_in_progress:%d\r\naof_rewrites:%lld\r\n"
               "aof_last_rewrite_time_ms:%lld\r\naof_last_rewrite_at:%lld\r\n"
               "aof_last_bgrewrite_status:%s\r\naof_loaded_records:%lld\r\n"
               "aof_load_truncated_bytes:%lld\r\naof_write_errors:%lld\r\n",
               a->path, fs[a->node->cfg.appendfsync % 3], a->size, a->base_size, w - s, lag,
               a->child > 0, a->rewrites, a->last_rewrite_ms, (long long)a->last_rewrite_at,
               a->last_rewrite_at == 0 || a->last_rewrite_ok ? "ok" : "err", a->loaded_records,
               a->truncated_bytes, a->write_errors);
}
