/* ae.c — Merkle-tree anti-entropy (see ae.h).
 *
 * Owns: the per-peer leaf arrays, the exchange state (one exchange in flight
 * at a time) and its timer.  Key listings (PAE KEYS, bytes from peers) are
 * encoded and decoded by ae_listing.c, which the fuzz target also drives;
 * the digests are sib_digest's (core/siblings.c).  Callers: main (the
 * replica observer: ae_update, ae_reset; create/destroy), cluster.c
 * (ae_ring_changed), cmd_peer.c (PAE: ae_serve), cmd_info.c (INFO),
 * cmd_dynamo.c (DYNAMO CHECK).  Calls: members (preference lists, liveness,
 * name -> index), ring, store, siblings, peer (PAE to the partner), replica
 * (repairs through replica_put_set), ae_listing; all handed to ae_create
 * (struct ae_deps), none reached through struct kv_node.
 * Work per call: ae_update O(N); serving PAE KEYS scans the store once
 * (O(keys)); an exchange keeps at most AE_INFLIGHT repairs outstanding.
 */
#include "cluster/ae.h"

#include <assert.h>
#include <event2/event.h>
#include <murmurhash.h>
#include <stdlib.h>
#include <string.h>

#include "core/ae_listing.h"
#include "core/config.h"
#include "cluster/members.h"
#include "net/peer.h"
#include "storage/replica.h"
#include "core/ring.h"
#include "core/slot.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/varint.h"
#include "core/vclock.h"

#define AE_LEAF_BITS 12
#define AE_LEAVES (1u << AE_LEAF_BITS)     /* 4096 */
#define AE_GROUPS 64
#define AE_PER_GROUP 64                     /* AE_LEAVES / AE_GROUPS */
_Static_assert(AE_PER_GROUP * AE_GROUPS == AE_LEAVES, "tree shape");
#define AE_INFLIGHT 256                    /* repairs outstanding per exchange */
#define AE_SEED 0xae5eedu

enum ae_stage {
    AE_IDLE = 0,
    AE_ROOT,
    AE_GROUPS_STAGE,
    AE_LEAVES_STAGE,
    AE_KEYS,
    AE_REPAIR,
    AE_STAGE_COUNT
};

struct ae_peer_stats {
    uint64_t exchanges;
    uint64_t repaired;
    int last_diff_leaves;        /* differing leaves at the last comparison */
    int64_t last_compare_ms;     /* monotonic */
    int64_t last_in_sync_ms;     /* when roots last matched */
};

#define kd ae_kd                 /* a (key, digest) pair of a leaf listing */

struct ae {
    struct ae_deps d;            /* collaborators, borrowed (ae_create) */
    int nnodes;
    uint64_t *leaf;              /* nnodes * AE_LEAVES */
    struct event *timer;
    int next_peer;
    /* the exchange in flight */
    enum ae_stage stage;
    int peer;
    uint8_t diff_groups[AE_GROUPS];
    uint8_t diff_leaves[AE_LEAVES / 8];
    int ndiff_leaves;
    int groups_pending;
    char *theirs_blob;           /* KEYS reply kept while repairing */
    struct kd *todo;             /* keys to repair */
    size_t ntodo, todo_next;
    int inflight;
    bool in_repair;              /* repair_more's loop is running */
    uint64_t round_repaired;
    /* stats */
    struct ae_peer_stats ps[CFG_MAX_NODES];
    uint64_t exchanges, keys_repaired, bytes_exchanged;
    int64_t last_full_pass_ms;   /* wall clock of the last pass with all peers in sync */
    uint64_t synced_mask;        /* peers found in sync since the last full pass */
};

/* ---- digests and trees ---- */

static uint64_t h64(const void *p, size_t n, uint32_t seed)
{
    uint64_t out[2];
    lmmh_x64_128(p, (unsigned)n, seed, out);
    return out[0];
}

/* A leaf is 4 consecutive hash slots, so all keys of a slot (one
 * preference list) fall in one leaf. */
static_assert(AE_LEAVES * 4 == SLOT_COUNT, "a leaf covers 4 slots");
static unsigned leaf_of(const void *key, size_t klen)
{
    return slot_of_key(key, klen) >> 2;
}

/* Peers (other than self) that replicate key together with this node;
 * returns their count, 0 when this node does not replicate key. */
static unsigned sharing_peers(struct ae *ae, const void *key, size_t klen, unsigned *out)
{
    unsigned pl[CFG_MAX_NODES];
    unsigned np = members_preflist(ae->d.members, key, klen, pl);
    bool self = false;
    unsigned n = 0;
    for (unsigned i = 0; i < np; i++) {
        if ((int)pl[i] == ae->d.self_idx)
            self = true;
        else
            out[n++] = pl[i];
    }
    return self ? n : 0;
}

static bool shares(struct ae *ae, const void *key, size_t klen, int peer)
{
    unsigned ps[CFG_MAX_NODES];
    unsigned n = sharing_peers(ae, key, klen, ps);
    for (unsigned i = 0; i < n; i++)
        if ((int)ps[i] == peer)
            return true;
    return false;
}

void ae_update(struct ae *ae, const void *key, size_t klen, uint64_t old, uint64_t new_digest)
{
    if (old == new_digest)
        return;
    unsigned ps[CFG_MAX_NODES];
    unsigned n = sharing_peers(ae, key, klen, ps);
    unsigned leaf = leaf_of(key, klen);
    for (unsigned i = 0; i < n; i++)
        ae->leaf[(size_t)ps[i] * AE_LEAVES + leaf] ^= old ^ new_digest;
}

void ae_reset(struct ae *ae)
{
    memset(ae->leaf, 0, (size_t)ae->nnodes * AE_LEAVES * sizeof(*ae->leaf));
}

static void build_entry(void *arg, const struct store_entry *e)
{
    struct ae *ae = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    ae_update(ae, key, klen, 0, sib_digest(key, klen, &set));
    sib_fini(&set);
}

static uint64_t group_hash(const struct ae *ae, int peer, int g)
{
    return h64(&ae->leaf[(size_t)peer * AE_LEAVES + (size_t)g * AE_PER_GROUP],
               AE_PER_GROUP * sizeof(uint64_t), 4);
}

static uint64_t root_hash(const struct ae *ae, int peer)
{
    uint64_t g[AE_GROUPS];
    for (int i = 0; i < AE_GROUPS; i++)
        g[i] = group_hash(ae, peer, i);
    return h64(g, sizeof(g), 5);
}

/* ---- serving a peer's requests ---- */

static void put_u64(struct buf *b, uint64_t v)
{
    uint8_t tmp[8];
    le64_put(tmp, v);
    buf_append(b, tmp, 8);
}

struct keys_ctx {
    struct ae *ae;
    int peer;
    const uint8_t *bitmap;
    struct buf *out;
};

static bool in_bitmap(const uint8_t *bm, unsigned leaf)
{
    return bm[leaf >> 3] & (1u << (leaf & 7));
}

static void list_entry(void *arg, const struct store_entry *e)
{
    struct keys_ctx *k = arg;
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    if (!in_bitmap(k->bitmap, leaf_of(key, klen)) || !shares(k->ae, key, klen, k->peer))
        return;
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    uint64_t d = sib_digest(key, klen, &set);
    sib_fini(&set);
    ae_listing_put(k->out, key, klen, d);
}

/* Lists (klen, key, digest) of every key in the bitmap's leaves shared with
 * peer, appended to out. */
static void list_keys(struct ae *ae, int peer, const uint8_t *bitmap, struct buf *out)
{
    struct keys_ctx k = {ae, peer, bitmap, out};
    uint64_t cur = 0;
    do
        cur = store_scan(ae->d.store, cur, 1024, list_entry, &k);
    while (cur != 0);
}

/*   PAE ROOT name          -> bulk: 8-byte root of our tree for `name`
 *   PAE GROUPS name        -> bulk: 64 x 8-byte group hashes
 *   PAE LEAVES name g      -> bulk: 64 x 8-byte leaf hashes of group g
 *   PAE KEYS name bitmap   -> bulk: (u64 klen, key, u64 digest)* for the
 *                             512-byte leaf bitmap */
void ae_serve(struct ae *ae, int argc, const struct arg *argv, struct buf *out)
{
    struct buf b;
    buf_init(&b);
    int peer = argc >= 3 && ae ? members_index(ae->d.members, argv[2].p, argv[2].len) : -1;
    const struct arg *sub = argc >= 2 ? &argv[1] : NULL;
    if (peer < 0 || peer == ae->d.self_idx || peer >= ae->nnodes) {
        resp_add_error(out, "ERR", "PAE: unknown peer or anti-entropy off");
    } else if (sub->len == 4 && memcmp(sub->p, "ROOT", 4) == 0 && argc == 3) {
        put_u64(&b, root_hash(ae, peer));
        resp_add_bulk(out, b.data, b.len);
    } else if (sub->len == 6 && memcmp(sub->p, "GROUPS", 6) == 0 && argc == 3) {
        for (int g = 0; g < AE_GROUPS; g++)
            put_u64(&b, group_hash(ae, peer, g));
        resp_add_bulk(out, b.data, b.len);
    } else if (sub->len == 6 && memcmp(sub->p, "LEAVES", 6) == 0 && argc == 4) {
        int g = argv[3].len == 1 || argv[3].len == 2 ? atoi(argv[3].p) : -1;
        if (g < 0 || g >= AE_GROUPS) {
            resp_add_error(out, "ERR", "PAE LEAVES: bad group");
        } else {
            for (int i = 0; i < AE_PER_GROUP; i++)
                put_u64(&b, ae->leaf[(size_t)peer * AE_LEAVES + (size_t)g * AE_PER_GROUP + i]);
            resp_add_bulk(out, b.data, b.len);
        }
    } else if (sub->len == 4 && memcmp(sub->p, "KEYS", 4) == 0 && argc == 4 &&
               argv[3].len == AE_LEAVES / 8) {
        list_keys(ae, peer, (const uint8_t *)argv[3].p, &b);
        resp_add_bulk(out, b.data ? b.data : "", b.len);
    } else {
        resp_add_error(out, "ERR", "PAE: bad request");
    }
    buf_fini(&b);
}

/* ---- the exchange (requesting side) ---- */

static void exchange_end(struct ae *ae, bool in_sync);
static void send_pae(struct ae *ae, peer_reply_fn cb, void *arg, const char *sub,
                     const char *extra, size_t extra_len);

static void on_root(void *arg, int err, const struct peer_reply *rep);
static void leaves_done(struct ae *ae);
static void on_groups(void *arg, int err, const struct peer_reply *rep);
static void on_leaves(void *arg, int err, const struct peer_reply *rep);
static void on_keys(void *arg, int err, const struct peer_reply *rep);

static void exchange_start(struct ae *ae, int peer)
{
    ae->stage = AE_ROOT;
    ae->peer = peer;
    ae->round_repaired = 0;
    ae->exchanges++;
    ae->ps[peer].exchanges++;
    send_pae(ae, on_root, ae, "ROOT", NULL, 0);
}

static void send_pae(struct ae *ae, peer_reply_fn cb, void *arg, const char *sub,
                     const char *extra, size_t extra_len)
{
    const struct ae_deps *n = &ae->d;
    const char *self = n->cfg->node_name;
    const char *argv[4] = {"PAE", sub, self, extra};
    size_t lens[4] = {3, strlen(sub), strlen(self), extra_len};
    ae->bytes_exchanged += 16 + strlen(self) + extra_len;
    peers_send(n->peers, ae->peer, PEER_CHAN_DATA, n->cfg->get_timeout_ms, cb, arg, extra ? 4 : 3,
               argv, lens);
}

static bool reply_ok(struct ae *ae, int err, const struct peer_reply *rep, size_t want)
{
    if (err || !rep || rep->type != PEER_R_BULK || (want && rep->len != want))
        return false;
    ae->bytes_exchanged += rep->len;
    return true;
}

static void on_root(void *arg, int err, const struct peer_reply *rep)
{
    struct ae *ae = arg;
    if (!reply_ok(ae, err, rep, 8)) {
        exchange_end(ae, false);
        return;
    }
    ae->ps[ae->peer].last_compare_ms = clock_mono_ms();
    if (le64_get((const uint8_t *)rep->str) == root_hash(ae, ae->peer)) {
        ae->ps[ae->peer].last_diff_leaves = 0;
        exchange_end(ae, true);
        return;
    }
    ae->stage = AE_GROUPS_STAGE;
    send_pae(ae, on_groups, ae, "GROUPS", NULL, 0);
}

static void on_groups(void *arg, int err, const struct peer_reply *rep)
{
    struct ae *ae = arg;
    if (!reply_ok(ae, err, rep, AE_GROUPS * 8)) {
        exchange_end(ae, false);
        return;
    }
    memset(ae->diff_leaves, 0, sizeof(ae->diff_leaves));
    ae->ndiff_leaves = 0;
    ae->groups_pending = 1; /* guard: answers may come inside peers_send */
    ae->stage = AE_LEAVES_STAGE;
    for (int g = 0; g < AE_GROUPS; g++) {
        if (le64_get((const uint8_t *)rep->str + 8 * g) == group_hash(ae, ae->peer, g))
            continue;
        char num[8];
        int len = snprintf(num, sizeof(num), "%d", g);
        ae->groups_pending++;
        ae->diff_groups[g] = 1;
        /* the group index travels in the reply callback's arg */
        struct ae **slot = mem_alloc(sizeof(*slot) + sizeof(int));
        *slot = ae;
        memcpy(slot + 1, &g, sizeof(int));
        send_pae(ae, on_leaves, slot, "LEAVES", num, (size_t)len);
    }
    if (--ae->groups_pending == 0)
        leaves_done(ae);
}

static void on_leaves(void *arg, int err, const struct peer_reply *rep)
{
    struct ae **slot = arg;
    struct ae *ae = *slot;
    int g;
    memcpy(&g, slot + 1, sizeof(int));
    mem_free(slot);
    if (reply_ok(ae, err, rep, AE_PER_GROUP * 8)) {
        for (int i = 0; i < AE_PER_GROUP; i++) {
            unsigned leaf = (unsigned)(g * AE_PER_GROUP + i);
            if (le64_get((const uint8_t *)rep->str + 8 * i) !=
                ae->leaf[(size_t)ae->peer * AE_LEAVES + leaf]) {
                ae->diff_leaves[leaf >> 3] |= (uint8_t)(1u << (leaf & 7));
                ae->ndiff_leaves++;
            }
        }
    }
    if (--ae->groups_pending == 0)
        leaves_done(ae);
}

static void leaves_done(struct ae *ae)
{
    ae->ps[ae->peer].last_diff_leaves = ae->ndiff_leaves;
    if (ae->ndiff_leaves == 0) {
        exchange_end(ae, false);
        return;
    }
    ae->stage = AE_KEYS;
    send_pae(ae, on_keys, ae, "KEYS", (const char *)ae->diff_leaves, sizeof(ae->diff_leaves));
}

static int kd_cmp(const void *pa, const void *pb)
{
    const struct kd *a = pa, *b = pb;
    size_t m = a->klen < b->klen ? a->klen : b->klen;
    int c = memcmp(a->key, b->key, m);
    if (c)
        return c;
    return (a->klen > b->klen) - (a->klen < b->klen);
}

static void repair_more(struct ae *ae);

static void on_keys(void *arg, int err, const struct peer_reply *rep)
{
    struct ae *ae = arg;
    if (!reply_ok(ae, err, rep, 0)) {
        exchange_end(ae, false);
        return;
    }
    /* Ours and theirs for the differing leaves, sorted, merged: every key
     * whose digests differ (or that one side lacks) needs repair. */
    ae->theirs_blob = mem_memdup(rep->str, rep->len ? rep->len : 1);
    size_t nt;
    struct kd *theirs;
    if (ae_listing_decode(ae->theirs_blob, rep->len, &theirs, &nt) != 0) {
        log_warn("anti-entropy: malformed key listing from %s",
                 ae->d.cfg->nodes[ae->peer].name);
        mem_free(ae->theirs_blob);
        ae->theirs_blob = NULL;
        exchange_end(ae, false);
        return;
    }
    struct buf mine_blob;
    buf_init(&mine_blob);
    list_keys(ae, ae->peer, ae->diff_leaves, &mine_blob);
    size_t nm;
    struct kd *mine;
    int rc = ae_listing_decode(mine_blob.data, mine_blob.len, &mine, &nm);
    assert(rc == 0); /* written just above by ae_listing_put */
    (void)rc;
    if (nt > 1)
        qsort(theirs, nt, sizeof(*theirs), kd_cmp);
    if (nm > 1)
        qsort(mine, nm, sizeof(*mine), kd_cmp);
    ae->todo = mem_alloc((nt + nm + 1) * sizeof(*ae->todo));
    ae->ntodo = 0;
    size_t i = 0, j = 0;
    while (i < nt || j < nm) {
        int c = i == nt ? 1 : j == nm ? -1 : kd_cmp(&theirs[i], &mine[j]);
        const struct kd *pick = NULL;
        if (c < 0) {
            pick = &theirs[i++];
        } else if (c > 0) {
            pick = &mine[j++];
        } else {
            if (theirs[i].digest != mine[j].digest)
                pick = &theirs[i];
            i++;
            j++;
        }
        if (pick) { /* todo owns a copy of the key: both listings go away */
            ae->todo[ae->ntodo] = *pick;
            if (c > 0)
                ae->todo[ae->ntodo].digest = 0; /* the peer lacks it: push only */
            ae->todo[ae->ntodo++].key = mem_memdup(pick->key, pick->klen);
        }
    }
    mem_free(theirs);
    mem_free(mine);
    buf_fini(&mine_blob);
    mem_free(ae->theirs_blob);
    ae->theirs_blob = NULL;
    ae->todo_next = 0;
    ae->stage = AE_REPAIR;
    if (ae->ntodo == 0) {
        exchange_end(ae, false);
        return;
    }
    repair_more(ae);
}

struct rep_ctx {
    struct ae *ae;
    char *key;
    size_t klen;
};

static void repair_one_done(struct ae *ae)
{
    ae->inflight--;
    if (ae->in_repair)
        return; /* answered inside repair_more's loop: it carries on */
    if (ae->todo_next < ae->ntodo)
        repair_more(ae);
    else if (ae->inflight == 0)
        exchange_end(ae, false);
}

static void on_pulled(void *arg, int err, const struct peer_reply *rep)
{
    struct rep_ctx *r = arg;
    struct ae *ae = r->ae;
    const struct ae_deps *n = &ae->d;
    if (reply_ok(ae, err, rep, 0)) {
        struct sibset set;
        sib_init(&set);
        if (sib_decode(&set, rep->str, rep->len, (size_t)n->cfg->proto_max_bulk_len) == 0 &&
            replica_put_set(n->replica, r->key, r->klen, &set)) {
            ae->keys_repaired++;
            ae->ps[ae->peer].repaired++;
            ae->round_repaired++;
        }
        sib_fini(&set);
    }
    mem_free(r->key);
    mem_free(r);
    repair_one_done(ae);
}

static void on_pushed(void *arg, int err, const struct peer_reply *rep)
{
    struct ae *ae = arg;
    if (!err && rep && rep->type == PEER_R_INT && rep->integer == 1) {
        ae->keys_repaired++;
        ae->ps[ae->peer].repaired++;
        ae->round_repaired++;
    }
    repair_one_done(ae);
}

/* Keeps up to AE_INFLIGHT pulls/pushes outstanding. */
static void repair_more(struct ae *ae)
{
    const struct ae_deps *n = &ae->d;
    struct buf enc;
    buf_init(&enc);
    ae->in_repair = true;
    while (ae->todo_next < ae->ntodo && ae->inflight < AE_INFLIGHT) {
        struct kd *k = &ae->todo[ae->todo_next++];
        if (k->digest != 0) { /* pull theirs (digest 0: they have none) */
            struct rep_ctx *r = mem_alloc(sizeof(*r));
            r->ae = ae;
            r->key = mem_memdup(k->key, k->klen);
            r->klen = k->klen;
            const char *gargv[2] = {"PGET", k->key};
            size_t glens[2] = {4, k->klen};
            ae->inflight++;
            ae->bytes_exchanged += k->klen + 16;
            peers_send(n->peers, ae->peer, PEER_CHAN_DATA, n->cfg->get_timeout_ms, on_pulled, r, 2,
                       gargv, glens);
        }
        /* push ours */
        const struct store_entry *e = store_find(n->store, k->key, k->klen);
        if (e) {
            struct sibset set;
            sib_init(&set);
            store_entry_load(e, &set);
            enc.len = 0;
            sib_encode(&set, &enc);
            sib_fini(&set);
            const char *pargv[3] = {"PPUT", k->key, enc.data};
            size_t plens[3] = {4, k->klen, enc.len};
            ae->inflight++;
            ae->bytes_exchanged += k->klen + enc.len + 16;
            peers_send(n->peers, ae->peer, PEER_CHAN_DATA, n->cfg->put_timeout_ms, on_pushed, ae,
                       3, pargv, plens);
        }
    }
    buf_fini(&enc);
    ae->in_repair = false;
    if (ae->todo_next >= ae->ntodo && ae->inflight == 0)
        exchange_end(ae, false);
}

static void free_todo(struct ae *ae)
{
    for (size_t i = 0; i < ae->ntodo; i++)
        mem_free((void *)ae->todo[i].key);
    mem_free(ae->todo);
    ae->todo = NULL;
    ae->ntodo = ae->todo_next = 0;
}

static void arm(struct ae *ae, int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ae->timer, &tv);
}

static void exchange_end(struct ae *ae, bool in_sync)
{
    int peer = ae->peer;
    free_todo(ae);
    ae->stage = AE_IDLE;
    if (in_sync) {
        ae->ps[peer].last_in_sync_ms = clock_mono_ms();
        ae->synced_mask |= 1ull << peer;
        uint64_t want = 0;
        for (int i = 0; i < ae->nnodes; i++)
            if (i != ae->d.self_idx && ring_is_member(members_ring(ae->d.members), (unsigned)i))
                want |= 1ull << i;
        if ((ae->synced_mask & want) == want) {
            ae->last_full_pass_ms = clock_now_ms();
            ae->synced_mask = 0;
        }
    }
    /* Something was repaired: go again with the same peer right away. */
    if (ae->round_repaired > 0) {
        ae->next_peer = peer;
        arm(ae, 1);
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct ae *ae = arg;
    const struct ae_deps *n = &ae->d;
    int interval = n->cfg->anti_entropy_interval_ms;
    if (ae->stage == AE_IDLE && interval > 0 && ae->nnodes > 1) {
        for (int tries = 0; tries < ae->nnodes; tries++) {
            int p = ae->next_peer % ae->nnodes;
            ae->next_peer = p + 1;
            if (p != n->self_idx && ring_is_member(members_ring(n->members), (unsigned)p) &&
                members_node_up(n->members, p)) {
                exchange_start(ae, p);
                break;
            }
        }
    }
    if (!evtimer_pending(ae->timer, NULL))
        arm(ae, interval > 0 ? interval : 1000);
}

struct ae *ae_create(const struct ae_deps *deps)
{
    struct ae *ae = mem_calloc(1, sizeof(*ae));
    ae->d = *deps;
    ae->nnodes = deps->cfg->nnodes;
    ae->leaf = mem_calloc((size_t)(ae->nnodes ? ae->nnodes : 1) * AE_LEAVES, sizeof(*ae->leaf));
    uint64_t cur = 0;
    do
        cur = store_scan(deps->store, cur, 1024, build_entry, ae);
    while (cur != 0);
    ae->next_peer = deps->self_idx + 1;
    ae->timer = evtimer_new(deps->base, on_timer, ae);
    arm(ae, deps->cfg->anti_entropy_interval_ms > 0 ? deps->cfg->anti_entropy_interval_ms : 1000);
    return ae;
}

void ae_ring_changed(struct ae *ae)
{
    if (!ae)
        return;
    int nn = ae->d.cfg->nnodes;
    if (nn > ae->nnodes) {
        mem_free(ae->leaf);
        ae->leaf = mem_calloc((size_t)nn * AE_LEAVES, sizeof(*ae->leaf));
        ae->nnodes = nn;
    } else {
        ae_reset(ae);
    }
    /* Which peers share a key depends on the ring: rebuild every tree.
     * An exchange in flight compares against the new trees from here on;
     * at worst it repairs a key needlessly (repairs are idempotent). */
    uint64_t cur = 0;
    do
        cur = store_scan(ae->d.store, cur, 1024, build_entry, ae);
    while (cur != 0);
    ae->synced_mask = 0;
}

void ae_destroy(struct ae *ae)
{
    if (!ae)
        return;
    event_free(ae->timer);
    free_todo(ae);
    mem_free(ae->theirs_blob);
    mem_free(ae->leaf);
    mem_free(ae);
}

void ae_info(const struct ae *ae, struct buf *out)
{
    if (!ae)
        return;
    buf_printf(out,
               "ae_exchanges:%llu\r\nae_keys_repaired:%llu\r\nae_bytes_exchanged:%llu\r\n"
               "ae_last_full_pass:%lld\r\nae_exchange_in_progress:%d\r\n",
               (unsigned long long)ae->exchanges, (unsigned long long)ae->keys_repaired,
               (unsigned long long)ae->bytes_exchanged, (long long)ae->last_full_pass_ms / 1000,
               ae->stage != AE_IDLE);
}

void ae_check(const struct ae *ae, struct buf *out, int *lines)
{
    *lines = 0;
    if (!ae)
        return;
    int64_t now = clock_mono_ms();
    for (int i = 0; i < ae->nnodes; i++) {
        if (i == ae->d.self_idx)
            continue;
        const struct ae_peer_stats *s = &ae->ps[i];
        uint64_t ours = root_hash(ae, i);
        buf_printf(out, "%s differing_leaves=%d of %u compared_ms_ago=%lld in_sync_ms_ago=%lld "
                        "exchanges=%llu keys_repaired=%llu root=%016llx\n",
                   ae->d.cfg->nodes[i].name, s->last_diff_leaves, AE_LEAVES,
                   s->last_compare_ms ? (long long)(now - s->last_compare_ms) : -1LL,
                   s->last_in_sync_ms ? (long long)(now - s->last_in_sync_ms) : -1LL,
                   (unsigned long long)s->exchanges, (unsigned long long)s->repaired,
                   (unsigned long long)ours);
        (*lines)++;
    }
}

bool ae_peer(const struct ae *ae, int idx, struct ae_peer_view *out)
{
    memset(out, 0, sizeof(*out));
    if (!ae || idx < 0 || idx >= ae->nnodes || idx == ae->d.self_idx)
        return false;
    const struct ae_peer_stats *s = &ae->ps[idx];
    int64_t now = clock_mono_ms();
    out->last_diff_leaves = s->last_diff_leaves;
    out->compared_ms_ago = s->last_compare_ms ? now - s->last_compare_ms : -1;
    out->in_sync_ms_ago = s->last_in_sync_ms ? now - s->last_in_sync_ms : -1;
    out->exchanges = s->exchanges;
    out->repaired = s->repaired;
    return true;
}

void ae_progress(const struct ae *ae, struct ae_progress *out)
{
    static const char *const names[] = {"idle", "root", "groups", "leaves", "keys", "repair"};
    static_assert(sizeof(names) / sizeof(names[0]) == AE_STAGE_COUNT, "a name per stage");
    memset(out, 0, sizeof(*out));
    out->peer = -1;
    out->stage = "idle";
    out->leaves = AE_LEAVES;
    if (!ae)
        return;
    out->keys_repaired_total = ae->keys_repaired;
    if (ae->stage == AE_IDLE)
        return;
    out->peer = ae->peer;
    out->stage = names[ae->stage];
    out->repair_total = ae->ntodo;
    out->repair_done = ae->todo_next > (size_t)ae->inflight ? ae->todo_next - (size_t)ae->inflight
                                                            : 0;
}
