/* xfer.c — hands keys this node no longer owns to their owners (xfer.h).
 *
 * Owns: the pass state (store cursor, the batch in flight) and its timer.
 * Calls: members (preference lists, liveness), ring, store (the pass), peer
 * (PPUT), replica (the conditional drop); main hands them to xfer_create
 * (struct xfer_deps).  Callers: main (create/destroy; its replica observer:
 * xfer_note_write, a write to a stray), cluster.c (ring changes, xfer_busy),
 * cmd_peer.c (pokes), cmd_info.c (INFO).
 *
 * A tick (every 100 ms) visits up to XFER_VISIT entries of the store and
 * collects the strays among them, at most the tick's share of
 * handoff-rate; each stray goes to every owner that is up, and the next
 * tick waits until the whole batch has answered.  The local copy is only
 * dropped by replica_drop_if_covered, i.e. never while it holds a version
 * the owners were not sent, and only while the key is still a stray.
 */
#include "cluster/xfer.h"

#include <event2/event.h>
#include <string.h>

#include "cluster/members.h"
#include "core/config.h"
#include "net/peer.h"
#include "storage/replica.h"
#include "core/ring.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

#define XFER_TICK_MS 100
#define XFER_VISIT 20000       /* store entries examined per tick */
#define XFER_MAX_BATCH 1024   /* credit cap: keys per tick */
#define XFER_STEP 32           /* entries per scan step */
#define XFER_RETRY_MS 1000     /* an incomplete pass runs again this much later */

struct xfer {
    struct xfer_deps d;        /* collaborators, borrowed (xfer_create) */
    struct event *tick;
    bool active;               /* a pass is under way */
    bool again;                /* another pass is due at again_at_ms */
    int64_t again_at_ms;
    bool incomplete;           /* this pass left strays behind */
    bool scan_done;            /* the store was visited; the pass ends when its last batch answered */
    uint64_t cursor;
    int inflight;              /* items of the batch not yet finished */
    double credit;
    /* stats */
    uint64_t moved, passes, strays_seen, failed;
    /* the pass under way or the last one (xfer_progress) */
    uint64_t pass_scanned, pass_total, pass_strays, pass_moved0, pass_failed0;
    int64_t pass_started_ms;
};

struct item {
    struct xfer *x;
    char *key;
    size_t klen;
    struct sibset sent;
    int waiting;               /* owner answers outstanding */
    int acks, errors;
    int needed;                /* acks required: min(W, owners) */
};

/* True when this node is not among key's owners (an empty ring owns
 * nothing: then the data stays). */
static bool is_stray(const struct xfer_deps *n, const void *key, size_t klen)
{
    return ring_nmembers(members_ring(n->members)) > 0 && members_owner_rank(n->members, key, klen, n->self_idx) < 0;
}

static void item_done(struct item *it)
{
    struct xfer *x = it->x;
    const struct xfer_deps *n = &x->d;
    if (it->errors > 0 || it->acks < it->needed) {
        x->failed++;
        x->incomplete = true;
    } else if (is_stray(n, it->key, it->klen)) {
        if (replica_drop_if_covered(n->replica, it->key, it->klen, &it->sent))
            x->moved++;
        else if (store_find(n->store, it->key, it->klen))
            x->incomplete = true; /* a newer version arrived: send that too */
    }
    x->inflight--;
    sib_fini(&it->sent);
    mem_free(it->key);
    mem_free(it);
}

static void on_put(void *arg, int err, const struct peer_reply *rep)
{
    struct item *it = arg;
    if (!err && rep && rep->type != PEER_R_ERROR)
        it->acks++;
    else
        it->errors++;
    if (--it->waiting == 0)
        item_done(it);
}

static void send_item(struct xfer *x, struct item *it, struct buf *enc)
{
    const struct xfer_deps *n = &x->d;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(n->members, it->key, it->klen, pl);
    it->needed = n->cfg->w < (int)np ? n->cfg->w : (int)np;
    enc->len = 0;
    sib_encode(&it->sent, enc);
    it->waiting = 1; /* guard: callbacks may run inside peers_send */
    x->inflight++;
    for (unsigned i = 0; i < np; i++) {
        if (!members_node_up(n->members, (int)pl[i]))
            continue;
        const char *argv[3] = {"PPUT", it->key, enc->data ? enc->data : ""};
        size_t lens[3] = {4, it->klen, enc->len};
        it->waiting++;
        peers_send(n->peers, (int)pl[i], PEER_CHAN_DATA, n->cfg->put_timeout_ms, on_put, it, 3,
                   argv, lens);
    }
    if (--it->waiting == 0)
        item_done(it);
}

/* Every stray of the buckets a scan step visits is taken (a step may run
 * past room: skipping some would lose them from this pass). */
struct batch {
    struct xfer *x;
    struct item **items;
    int n, cap;
};

static void collect(void *arg, const struct store_entry *e)
{
    struct batch *b = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    b->x->pass_scanned++;
    if (!is_stray(&b->x->d, key, klen))
        return;
    struct item *it = mem_calloc(1, sizeof(*it));
    it->x = b->x;
    it->key = mem_memdup(key, klen);
    it->klen = klen;
    sib_init(&it->sent);
    store_entry_load(e, &it->sent);
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 64;
        b->items = mem_realloc(b->items, (size_t)b->cap * sizeof(*b->items));
    }
    b->items[b->n++] = it;
}

static void pass_end(struct xfer *x)
{
    x->active = false;
    x->scan_done = false;
    x->passes++;
    if (x->incomplete && !x->again) {
        x->again = true;
        x->again_at_ms = clock_mono_ms() + XFER_RETRY_MS;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct xfer *x = arg;
    if (x->inflight > 0)
        return;
    if (x->active && x->scan_done)
        pass_end(x); /* only now: the last batch's failures count */
    if (!x->active) {
        if (!x->again || clock_mono_ms() < x->again_at_ms)
            return;
        x->again = false;
        x->active = true;
        x->scan_done = false;
        x->incomplete = false;
        x->cursor = 0;
        x->credit = 0;
        x->pass_scanned = x->pass_strays = 0;
        x->pass_total = store_count(x->d.store);
        x->pass_moved0 = x->moved;
        x->pass_failed0 = x->failed;
        x->pass_started_ms = clock_mono_ms();
    }
    x->credit += (double)x->d.cfg->handoff_rate * XFER_TICK_MS / 1000.0;
    if (x->credit > XFER_MAX_BATCH)
        x->credit = XFER_MAX_BATCH;
    if (x->credit < 1)
        return;
    struct batch b = {.x = x};
    int room = (int)x->credit;
    size_t visited = 0;
    do {
        x->cursor = store_scan(x->d.store, x->cursor, XFER_STEP, collect, &b);
        visited += XFER_STEP;
    } while (b.n < room && x->cursor != 0 && visited < XFER_VISIT);
    x->credit -= b.n;
    x->strays_seen += (uint64_t)b.n;
    x->pass_strays += (uint64_t)b.n;
    if (x->cursor == 0)
        x->scan_done = true;
    struct buf enc;
    buf_init(&enc);
    for (int i = 0; i < b.n; i++)
        send_item(x, b.items[i], &enc);
    buf_fini(&enc);
    mem_free(b.items);
}

struct xfer *xfer_create(const struct xfer_deps *deps)
{
    struct xfer *x = mem_calloc(1, sizeof(*x));
    x->d = *deps;
    x->tick = event_new(deps->base, -1, EV_PERSIST, on_tick, x);
    struct timeval tv = {0, XFER_TICK_MS * 1000};
    event_add(x->tick, &tv);
    /* A restarted node may hold keys the ring gave away while it was down. */
    x->again = true;
    x->again_at_ms = clock_mono_ms();
    return x;
}

void xfer_destroy(struct xfer *x)
{
    if (!x)
        return;
    event_free(x->tick);
    mem_free(x);
}

void xfer_ring_changed(struct xfer *x)
{
    if (!x)
        return;
    /* Restart from the top: keys already visited may be strays now. */
    x->active = false;
    x->scan_done = false;
    x->again = true;
    x->again_at_ms = clock_mono_ms();
}

void xfer_poke(struct xfer *x)
{
    if (!x || x->again)
        return;
    x->again = true;
    x->again_at_ms = clock_mono_ms() + XFER_RETRY_MS;
}

void xfer_note_write(struct xfer *x, const void *key, size_t klen)
{
    if (x && !x->again && is_stray(&x->d, key, klen))
        xfer_poke(x);
}

void xfer_info(const struct xfer *x, struct buf *out)
{
    if (!x)
        return;
    buf_printf(out,
               "xfer_keys_moved:%llu\r\nxfer_passes:%llu\r\nxfer_pass_in_progress:%d\r\n"
               "xfer_strays_sent:%llu\r\nxfer_failed:%llu\r\n",
               (unsigned long long)x->moved, (unsigned long long)x->passes,
               xfer_busy(x), (unsigned long long)x->strays_seen,
               (unsigned long long)x->failed);
}

bool xfer_busy(const struct xfer *x)
{
    return x && (x->active || x->again || x->inflight > 0);
}

void xfer_progress(const struct xfer *x, struct xfer_progress *out)
{
    memset(out, 0, sizeof(*out));
    if (!x)
        return;
    out->busy = xfer_busy(x);
    out->active = x->active;
    out->scanned = x->pass_scanned;
    out->total = x->pass_total > x->pass_scanned ? x->pass_total : x->pass_scanned;
    out->strays = x->pass_strays;
    out->moved = x->moved - x->pass_moved0;
    out->failed = x->failed - x->pass_failed0;
    out->inflight = x->inflight;
    out->started_ms = x->pass_started_ms;
    out->moved_total = x->moved;
}

uint64_t xfer_moved(const struct xfer *x)
{
    return x ? x->moved : 0;
}
