/* handoff.c — hinted handoff (see handoff.h).
 *
 * Owns: the per-owner hint stores and the drain timer.  Callers: coord.c
 * (hh_add for its own substitute role), cmd_peer.c (hh_add for PHINT),
 * main.c (hh_create/hh_set_storage/destroy, and its log callbacks: hh_load
 * at replay, hh_foreach_store at rewrite; hh_drop_before at a flush and at
 * a flush record's replay), cluster.c (hh_stats), reaper.c (hh_holds),
 * coord.c and cmd_peer.c (hh_merge_hints: a substitute's answer to a read), cmd_info.c (INFO),
 * cmd_dynamo.c (DYNAMO HINTS).  Calls: store (a struct store per owner),
 * siblings, members (is the owner still a ring member), peer (PPUT to the owner),
 * aof (hints are logged), replica (a hint for a node that left becomes
 * local data; the flush epoch: hints stamped before it are never kept).
 * Never blocks; the drain sends at most
 * handoff-rate/10 hints per owner per 100 ms tick and waits for the acks of
 * a batch before sending the next one, so a long outage cannot flood the
 * returning node.
 */
#include "cluster/handoff.h"

#include <event2/event.h>
#include <string.h>

#include "cluster/members.h"
#include "core/config.h"
#include "storage/aof.h"
#include "util/errors.h"
#include "net/peer.h"
#include "storage/replica.h"
#include "core/ring.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"

#define HH_TICK_MS 100

struct owner_q {
    struct store *hints;     /* key -> versions owed to this owner */
    uint64_t cursor;         /* drain position (store_scan cursor) */
    int inflight;            /* hints of the current batch not yet acked */
    double credit;           /* hints this owner may be sent (handoff-rate pacing) */
    uint64_t delivered;
};

struct handoff {
    struct hh_deps d;
    struct aof *aof;         /* hh_set_storage */
    struct replica *replica;
    struct event *tick;
    struct owner_q q[CFG_MAX_NODES];
    uint64_t pending, stored, delivered, refused;
};

/* One hint on its way to its owner. */
struct hh_send {
    struct handoff *h;
    int owner;
    char *key;
    size_t klen;
    struct sibset sent;
};

static void on_tick(evutil_socket_t fd, short what, void *arg);

struct handoff *hh_create(const struct hh_deps *deps)
{
    struct handoff *h = mem_calloc(1, sizeof(*h));
    h->d = *deps;
    h->tick = event_new(deps->base, -1, EV_PERSIST, on_tick, h);
    struct timeval tv = {0, HH_TICK_MS * 1000};
    event_add(h->tick, &tv);
    return h;
}

void hh_set_storage(struct handoff *h, struct aof *aof, struct replica *replica)
{
    h->aof = aof;
    h->replica = replica;
}

void hh_destroy(struct handoff *h)
{
    if (!h)
        return;
    event_free(h->tick);
    for (int i = 0; i < CFG_MAX_NODES; i++)
        store_destroy(h->q[i].hints);
    mem_free(h);
}

static bool add(struct handoff *h, int owner, const void *key, size_t klen,
                const struct sibset *set);

bool hh_add(struct handoff *h, int owner, const void *key, size_t klen, const struct sibset *set)
{
    /* versions stamped before the flush epoch this node knows are gone
     * (replica.h): never kept as hints, accepted as if dominated */
    uint32_t epoch = replica_epoch(h->replica);
    bool flushed = false;
    for (uint32_t i = 0; i < set->n; i++)
        flushed |= set->v[i].epoch < epoch;
    if (!flushed)
        return add(h, owner, key, klen, set);
    struct sibset cur;
    sib_init(&cur);
    sib_merge(&cur, set);
    sib_drop_before(&cur, epoch);
    bool ok = cur.n == 0 || add(h, owner, key, klen, &cur);
    sib_fini(&cur);
    return ok;
}

static bool add(struct handoff *h, int owner, const void *key, size_t klen,
                const struct sibset *set)
{
    if (owner < 0 || owner >= CFG_MAX_NODES)
        return false;
    struct owner_q *q = &h->q[owner];
    if (!q->hints)
        q->hints = store_create();
    bool exists = store_find(q->hints, key, klen) != NULL;
    if (!exists && (long long)h->pending >= h->d.cfg->max_hints) {
        h->refused++;
        return false;
    }
    /* a hint that could not be logged is refused (not an ack) */
    int rc = !aof_writable(h->aof)                              ? KV_ELOG
             : !aof_fits_merge(h->aof, q->hints, key, klen, set) ? KV_ETOOBIG
                                                                       : store_put_set_checked(q->hints, key, klen, set);
    if (rc > 0 || rc == KV_EMAXSIB) /* (a set refused at the limit may be merged in part) */
        aof_log_hint(h->aof, h->d.cfg->nodes[owner].name, q->hints, key, klen);
    if (!exists && store_find(q->hints, key, klen))
        h->pending++;
    if (rc < 0) { /* past the hard sibling limit, too large or unloggable: not an ack */
        h->refused++;
        return false;
    }
    h->stored++;
    return true;
}

void hh_load(struct handoff *h, int owner, const void *key, size_t klen, const struct sibset *set)
{
    struct owner_q *q = &h->q[owner];
    if (!q->hints)
        q->hints = store_create();
    bool exists = store_find(q->hints, key, klen) != NULL;
    store_replace(q->hints, key, klen, set);
    bool now = set->n > 0;
    if (exists && !now)
        h->pending--;
    else if (!exists && now)
        h->pending++;
}

size_t hh_drop_before(struct handoff *h, uint32_t epoch)
{
    size_t dropped = 0;
    uint64_t pending = 0;
    for (int i = 0; i < CFG_MAX_NODES; i++) {
        if (!h->q[i].hints)
            continue;
        dropped += store_drop_before(h->q[i].hints, epoch);
        pending += store_count(h->q[i].hints);
    }
    h->pending = pending;
    return dropped;
}

void hh_foreach_store(struct handoff *h, hh_store_fn fn, void *arg)
{
    for (int i = 0; i < CFG_MAX_NODES; i++)
        if (h->q[i].hints && store_count(h->q[i].hints) > 0)
            fn(arg, i, h->q[i].hints);
}

static void on_delivered(void *arg, int err, const struct peer_reply *rep)
{
    struct hh_send *s = arg;
    struct handoff *h = s->h;
    struct owner_q *q = &h->q[s->owner];
    q->inflight--;
    if (!err && rep && rep->type != PEER_R_ERROR) {
        /* Delete only if nothing newer was hinted while this was in flight. */
        const struct store_entry *e = store_find(q->hints, s->key, s->klen);
        if (e) {
            struct sibset cur;
            sib_init(&cur);
            store_entry_load(e, &cur);
            if (sib_covers(&s->sent, &cur)) {
                store_remove(q->hints, s->key, s->klen);
                aof_log_hint(h->aof, h->d.cfg->nodes[s->owner].name, q->hints, s->key,
                             s->klen);
                h->pending--;
                h->delivered++;
                q->delivered++;
            }
            sib_fini(&cur);
        }
    }
    sib_fini(&s->sent);
    mem_free(s->key);
    mem_free(s);
}

struct batch {
    struct handoff *h;
    int owner;
    int room;
    struct hh_send *items[1024];
    int n;
};

static void collect(void *arg, const struct store_entry *e)
{
    struct batch *b = arg;
    if (b->n >= b->room)
        return;
    struct hh_send *s = mem_calloc(1, sizeof(*s));
    s->h = b->h;
    s->owner = b->owner;
    const char *k = store_entry_key(e, &s->klen);
    s->key = mem_memdup(k, s->klen);
    sib_init(&s->sent);
    store_entry_load(e, &s->sent);
    b->items[b->n++] = s;
}

static void drain_owner(struct handoff *h, int owner)
{
    struct owner_q *q = &h->q[owner];
    if (!q->hints || store_count(q->hints) == 0 || q->inflight > 0)
        return;
    if (owner == h->d.self_idx || !members_node_up(h->d.members, owner))
        return;
    struct batch b = {.h = h, .owner = owner};
    /* handoff-rate hints per second: each tick adds its share of credit
     * (fractions carry over, so 4/s means one hint every 250 ms). */
    q->credit += (double)h->d.cfg->handoff_rate * HH_TICK_MS / 1000.0;
    if (q->credit > 1024)
        q->credit = 1024;
    if (q->credit < 1)
        return;
    b.room = (int)q->credit;
    q->credit -= b.room;
    /* Visit buckets until the batch is full or the whole table was seen. */
    do
        q->cursor = store_scan(q->hints, q->cursor, (size_t)(b.room - b.n), collect, &b);
    while (b.n < b.room && q->cursor != 0);
    struct buf enc;
    buf_init(&enc);
    for (int i = 0; i < b.n; i++) {
        struct hh_send *s = b.items[i];
        enc.len = 0;
        sib_encode(&s->sent, &enc);
        const char *argv[3] = {"PPUT", s->key, enc.data ? enc.data : ""};
        size_t lens[3] = {4, s->klen, enc.len};
        q->inflight++;
        peers_send(h->d.peers, owner, PEER_CHAN_DATA, h->d.cfg->put_timeout_ms,
                   on_delivered, s, 3, argv, lens);
    }
    buf_fini(&enc);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct handoff *h = arg;
    const struct hh_deps *n = &h->d;
    for (int i = 0; i < n->cfg->nnodes; i++) {
        /* A hint that arrived for a node no longer in the ring (sent by a
         * node whose ring was older) is this node's data now; the transfer
         * hands it to the key's owners. */
        if (i != n->self_idx && !ring_is_member(members_ring(n->members), (unsigned)i) && h->q[i].hints &&
            store_count(h->q[i].hints) > 0 && h->q[i].inflight == 0) {
            size_t moved = hh_absorb(h, i);
            log_info("membership: %zu hint(s) for %s (not in the ring) are now local data",
                     moved, n->cfg->nodes[i].name);
        }
        drain_owner(h, i);
    }
}

struct absorb {
    char **keys;
    size_t *klens;
    size_t n, cap;
};

static void absorb_collect(void *arg, const struct store_entry *e)
{
    struct absorb *a = arg;
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 64;
        a->keys = mem_realloc(a->keys, a->cap * sizeof(*a->keys));
        a->klens = mem_realloc(a->klens, a->cap * sizeof(*a->klens));
    }
    size_t klen;
    const char *k = store_entry_key(e, &klen);
    a->keys[a->n] = mem_memdup(k, klen);
    a->klens[a->n++] = klen;
}

size_t hh_absorb(struct handoff *h, int owner)
{
    struct owner_q *q = &h->q[owner];
    if (!q->hints || store_count(q->hints) == 0)
        return 0;
    struct absorb a = {0};
    uint64_t cur = 0;
    do /* nothing changes the hint store during this loop */
        cur = store_scan(q->hints, cur, 1024, absorb_collect, &a);
    while (cur != 0);
    for (size_t i = 0; i < a.n; i++) {
        const struct store_entry *e = store_find(q->hints, a.keys[i], a.klens[i]);
        if (e) {
            struct sibset set;
            sib_init(&set);
            store_entry_load(e, &set);
            replica_put_set(h->replica, a.keys[i], a.klens[i], &set); /* logged first */
            sib_fini(&set);
            store_remove(q->hints, a.keys[i], a.klens[i]);
            aof_log_hint(h->aof, h->d.cfg->nodes[owner].name, q->hints, a.keys[i],
                         a.klens[i]);
            h->pending--;
        }
        mem_free(a.keys[i]);
    }
    mem_free(a.keys);
    mem_free(a.klens);
    q->cursor = 0;
    return a.n;
}

void hh_stats(const struct handoff *h, struct hh_stats *out)
{
    out->pending = h->pending;
    out->stored = h->stored;
    out->delivered = h->delivered;
    out->refused = h->refused;
}

void hh_merge_hints(const struct handoff *h, const void *key, size_t klen, struct sibset *out)
{
    for (int i = 0; i < CFG_MAX_NODES; i++) {
        const struct store_entry *e = h->q[i].hints ? store_find(h->q[i].hints, key, klen) : NULL;
        if (!e)
            continue;
        struct sibset set;
        sib_init(&set);
        store_entry_load(e, &set);
        sib_merge(out, &set);
        sib_fini(&set);
    }
}

bool hh_holds(const struct handoff *h, const void *key, size_t klen)
{
    for (int i = 0; i < CFG_MAX_NODES; i++)
        if (h->q[i].hints && store_find(h->q[i].hints, key, klen))
            return true;
    return false;
}

uint64_t hh_pending_for(const struct handoff *h, int owner)
{
    return h->q[owner].hints ? store_count(h->q[owner].hints) : 0;
}

uint64_t hh_delivered_to(const struct handoff *h, int owner)
{
    return h->q[owner].delivered;
}
