/* reaper.c — tombstone reaping (see reaper.h for when and why it is safe).
 *
 * Owns: the pass state (store cursor, the batch being checked) and a
 * timer.  Calls: members (preference lists, liveness), gossip (ring status),
 * store (the pass), peer (PCHECK, PREAP), handoff (hints held here),
 * replica (the conditional removal), siblings (digests); main hands all of
 * them to reaper_create (struct reaper_deps).  Callers: main
 * (create/destroy), cmd_peer.c (serving PCHECK/PREAP), cmd_info.c (INFO).
 *
 * Every REAP_TICK_MS, when no batch is in flight, the pass visits up to
 * REAP_VISIT store entries and takes the candidates among them (at most
 * REAP_BATCH): keys this node is the first owner of whose versions are all
 * tombstones older than tombstone-reap-after.  The batch's keys go in one
 * PCHECK to every other node of the membership table; when all answered,
 * each key whose answers meet the rules is removed here and PREAPed at its
 * other owners.  A node that is not up, or does not answer, stops the
 * batch: nothing is reaped then.
 */
#include "cluster/reaper.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster/members.h"
#include "core/config.h"
#include "core/gossip.h"
#include "cluster/handoff.h"
#include "net/peer.h"
#include "storage/replica.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "core/tval.h"
#include "storage/store.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/varint.h"

#define REAP_TICK_MS 200
#define REAP_VISIT 4096       /* store entries examined per tick */
#define REAP_BATCH 256        /* keys per PCHECK */
#define REAP_ROW 9            /* PCHECK answer per key: digest (8) + hint flag (1) */

struct cand {
    char *key;
    size_t klen;
    uint64_t digest;          /* our tombstones' digest */
    bool ok;                  /* every answer so far allows reaping */
};

struct reaper {
    struct reaper_deps d;     /* collaborators, borrowed (reaper_create) */
    struct event *tick;
    uint64_t cursor;
    struct cand *c;           /* the batch in flight */
    int nc, cap;
    int waiting;              /* PCHECK answers outstanding */
    bool failed;              /* a node did not answer: reap nothing */
    uint64_t reaped, checked, blocked;
};

struct check_call {
    struct reaper *r;
    int node;
};

static void free_batch(struct reaper *r)
{
    for (int i = 0; i < r->nc; i++)
        mem_free(r->c[i].key);
    r->nc = 0;
}

/* A candidate: first owner here, tombstones only (or a hash/set/zset/
 * counter state DEL emptied: a context without elements, stamped when it
 * changed), all older than the reap delay, no hint for it held here. */
static void consider(void *arg, const struct store_entry *e)
{
    struct reaper *r = arg;
    const struct reaper_deps *n = &r->d;
    if (r->nc >= REAP_BATCH)
        return; /* the next pass sees it */
    unsigned nv = store_entry_nversions(e);
    if (nv == 0)
        return;
    for (unsigned i = 0; i < nv; i++) {
        struct store_vref vr;
        store_entry_version(e, i, &vr);
        /* a typed state emptied by DEL (its context only) ages like one */
        if (vr.val && !(val_is_typed(vr.val) && tval_empty(vr.val) && vr.expire_ms == 0))
            return;
    }
    size_t klen;
    const char *key = store_entry_key(e, &klen);
    if (members_owner_rank(n->members, key, klen, n->self_idx) != 0)
        return;
    struct sibset set;
    sib_init(&set);
    store_entry_load(e, &set);
    uint64_t newest = 0;
    for (uint32_t i = 0; i < set.n; i++)
        if (version_newest_ts(&set.v[i]) > newest)
            newest = version_newest_ts(&set.v[i]);
    int64_t age = clock_now_ms() - (int64_t)newest;
    bool old = age > n->cfg->tombstone_reap_ms;
    uint64_t d = old ? sib_digest(key, klen, &set) : 0;
    sib_fini(&set);
    if (!old || (n->hh && hh_holds(n->hh, key, klen)))
        return;
    if (r->nc == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->c = mem_realloc(r->c, (size_t)r->cap * sizeof(*r->c));
    }
    r->c[r->nc++] = (struct cand){mem_memdup(key, klen), klen, d, true};
}

static void reap_done(void *arg, int err, const struct peer_reply *rep)
{
    (void)arg;
    (void)err;
    (void)rep; /* an owner that kept its copy gets it removed on a later pass */
}

/* Every node answered: reap what all answers allow. */
static void finish(struct reaper *r)
{
    const struct reaper_deps *n = &r->d;
    if (!r->failed) {
        for (int i = 0; i < r->nc; i++) {
            struct cand *c = &r->c[i];
            r->checked++;
            if (!c->ok) {
                r->blocked++;
                continue;
            }
            if (!replica_drop_if_digest(n->replica, c->key, c->klen, c->digest))
                continue; /* changed meanwhile */
            r->reaped++;
            char hex[17];
            snprintf(hex, sizeof(hex), "%016llx", (unsigned long long)c->digest);
            unsigned pl[CFG_MAX_NODES];
            unsigned np = members_preflist(n->members, c->key, c->klen, pl);
            for (unsigned k = 0; k < np; k++) {
                if ((int)pl[k] == n->self_idx)
                    continue;
                const char *argv[3] = {"PREAP", c->key, hex};
                size_t lens[3] = {5, c->klen, 16};
                peers_send(n->peers, (int)pl[k], PEER_CHAN_DATA, n->cfg->put_timeout_ms,
                           reap_done, NULL, 3, argv, lens);
            }
        }
    }
    free_batch(r);
}

static void on_check(void *arg, int err, const struct peer_reply *rep)
{
    struct check_call *cc = arg;
    struct reaper *r = cc->r;
    const struct reaper_deps *n = &r->d;
    if (err || !rep || rep->type != PEER_R_BULK || rep->len != (size_t)r->nc * REAP_ROW) {
        r->failed = true;
    } else {
        const unsigned char *p = (const unsigned char *)rep->str;
        for (int i = 0; i < r->nc; i++) {
            struct cand *c = &r->c[i];
            uint64_t d = le64_get(p + (size_t)i * REAP_ROW);
            bool hint = p[(size_t)i * REAP_ROW + 8] != 0;
            bool owner = members_owner_rank(n->members, c->key, c->klen, cc->node) >= 0;
            if (hint || d != (owner ? c->digest : 0))
                c->ok = false;
        }
    }
    mem_free(cc);
    if (--r->waiting == 0)
        finish(r);
}

static bool gone(const struct reaper_deps *n, int idx)
{
    return n->gossip && idx != n->self_idx && gossip_status(n->gossip, idx) == GOSSIP_GONE;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct reaper *r = arg;
    const struct reaper_deps *n = &r->d;
    if (r->waiting > 0 || n->cfg->tombstone_reap_ms <= 0)
        return;
    /* Every node of the table must be reachable, or nothing can be reaped;
     * nodes that left and said they hold nothing (GONE) are not asked. */
    for (int i = 0; i < n->cfg->nnodes; i++)
        if (!gone(n, i) && !members_node_up(n->members, i))
            return;
    size_t visited = 0;
    do {
        r->cursor = store_scan(n->store, r->cursor, 64, consider, r);
        visited += 64;
    } while (r->cursor != 0 && visited < REAP_VISIT && r->nc < REAP_BATCH);
    if (r->nc == 0)
        return;
    const char **argv = mem_alloc((size_t)(r->nc + 1) * sizeof(*argv));
    size_t *lens = mem_alloc((size_t)(r->nc + 1) * sizeof(*lens));
    argv[0] = "PCHECK";
    lens[0] = 6;
    for (int i = 0; i < r->nc; i++) {
        argv[i + 1] = r->c[i].key;
        lens[i + 1] = r->c[i].klen;
    }
    r->failed = false;
    r->waiting = 1; /* guard: answers may come back inside peers_send */
    for (int i = 0; n->peers && i < n->cfg->nnodes; i++) {
        if (i == n->self_idx || gone(n, i))
            continue;
        struct check_call *cc = mem_alloc(sizeof(*cc));
        cc->r = r;
        cc->node = i;
        r->waiting++;
        peers_send(n->peers, i, PEER_CHAN_DATA, n->cfg->get_timeout_ms, on_check, cc, r->nc + 1,
                   argv, lens);
    }
    mem_free(argv);
    mem_free(lens);
    if (--r->waiting == 0)
        finish(r);
}

struct reaper *reaper_create(const struct reaper_deps *deps)
{
    struct reaper *r = mem_calloc(1, sizeof(*r));
    r->d = *deps;
    r->tick = event_new(deps->base, -1, EV_PERSIST, on_tick, r);
    struct timeval tv = {0, REAP_TICK_MS * 1000};
    event_add(r->tick, &tv);
    return r;
}

void reaper_destroy(struct reaper *r)
{
    if (!r)
        return;
    event_free(r->tick);
    free_batch(r);
    mem_free(r->c);
    mem_free(r);
}

void reaper_serve_check(struct reaper *r, int nkeys, const struct arg *keys, struct buf *out)
{
    struct buf b;
    buf_init(&b);
    for (int i = 0; i < nkeys; i++) {
        struct sibset set;
        sib_init(&set);
        const struct store_entry *e = store_find(r->d.store, keys[i].p, keys[i].len);
        if (e)
            store_entry_load(e, &set);
        char row[REAP_ROW];
        le64_put((uint8_t *)row, sib_digest(keys[i].p, keys[i].len, &set));
        row[8] = (char)(r->d.hh && hh_holds(r->d.hh, keys[i].p, keys[i].len));
        buf_append(&b, row, REAP_ROW);
        sib_fini(&set);
    }
    resp_add_bulk(out, b.data ? b.data : "", b.len);
    buf_fini(&b);
}

void reaper_serve_reap(struct reaper *r, const struct arg *key, const struct arg *digest,
                       struct buf *out)
{
    char hex[17];
    if (digest->len != 16) {
        resp_add_error(out, "ERR", "PREAP: digest must be 16 hex digits");
        return;
    }
    memcpy(hex, digest->p, 16);
    hex[16] = '\0';
    char *end;
    unsigned long long d = strtoull(hex, &end, 16);
    if (*end) {
        resp_add_error(out, "ERR", "PREAP: digest must be 16 hex digits");
        return;
    }
    resp_add_int(out, replica_drop_if_digest(r->d.replica, key->p, key->len, (uint64_t)d));
}

void reaper_info(const struct reaper *r, struct buf *out)
{
    if (!r)
        return;
    buf_printf(out, "tombstones_reaped:%llu\r\ntombstones_checked:%llu\r\ntombstones_kept:%llu\r\n",
               (unsigned long long)r->reaped, (unsigned long long)r->checked,
               (unsigned long long)r->blocked);
}
