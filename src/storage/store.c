/* store.c — the node's in-memory key space: key -> sibling set.
 *
 * Owns: every entry (one allocation per key) and one value reference per
 * stored version; the two bucket arrays; scratch buffers reused by writers.
 *
 * Entry layout (one malloc, 16-byte header, then unaligned packed bytes, so
 * multi-byte fields inside data[] are read with memcpy or byte-wise):
 *     next | hash u32 | klen u32 | key bytes | varint nver |
 *     nver x ( struct val * (8 bytes, NULL = tombstone) | varint expire_ms |
 *              varint clock_len | version_pack_clock bytes )
 * A one-version key with a one-actor clock costs 16 + klen + 20 bytes (the
 * packed clock is ~9 of those) plus its value: about 150 bytes per key all
 * in for 16-byte keys and 64-byte values, counting allocator size classes
 * and the bucket pointer.
 *
 * Invariants:
 *   - the versions of an entry satisfy the siblings.h invariant (none equal
 *     to or dominated by another), because every write reconciles with the
 *     same rules as sib_add, except store_replace whose caller reconciled;
 *   - an entry has >= 1 version (an empty set removes the key);
 *   - t[1].b != NULL exactly while rehashing, and then t[0] buckets below
 *     rehash_idx are empty; t[0].used + t[1].used is the key count;
 *   - entries never move during rehashing (only their next links change),
 *     so a pointer from store_find stays valid across later store_find
 *     calls; only a write to the same key (put/replace/remove/flush)
 *     invalidates it.
 *
 * Hash table: chained, power-of-two sizes, grows (x2) when the load factor
 * reaches 1, shrinks when it falls under 1/8.  Resizing is incremental as in
 * Redis's dict: a second table is allocated and every find/put/remove moves
 * at most REHASH_STEP non-empty buckets (visiting at most 10x that many
 * empty ones), so no operation stalls on a large table.  store_scan uses the
 * reverse-binary cursor so it survives resizes between calls.
 *
 * Counts: the number of keys holding a value (INFO), per hash slot
 * (CLUSTER COUNTKEYSINSLOT) and of those not yet
 * expired (DBSIZE) are kept by every insert/rewrite/remove, so none
 * needs a scan (see count_section; the min-heaps are timeheap.c).
 *
 * Callers, all on the event loop thread: writes come through replica.c
 * (the local write engine: store_put_checked, store_put_set_checked,
 * store_remove), store_epoch.c (a flush), aof.c (replay and rewrite) and
 * handoff.c (its own hint
 * store, a second struct store); reads from coord.c, cluster.c, the
 * command handlers (cmd_kv.c, cmd_peer.c, cmd_keyspace.c, cmd_info.c) and
 * the cluster tasks
 * that walk the key space with store_scan (xfer.c, ae.c, reaper.c,
 * handoff.c); main.c creates and destroys the node's store.
 * Pure: nothing blocks; the only unbounded work is store_flush/destroy,
 * which are O(keys) by nature.  Scan callbacks must not modify the store.
 */
#include "storage/store.h"
#include "util/varint.h"

#include <assert.h>
#include <murmurhash.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "core/slot.h"
#include "core/tval.h"
#include "storage/timeheap.h"
#include "util/errors.h"
#include "util/mem.h"

#define STORE_MIN_BUCKETS 16
#define REHASH_STEP 1 /* non-empty buckets moved per operation (Redis: 1) */

struct store_entry {
    struct store_entry *next;
    uint32_t hash;
    uint32_t klen;
    uint8_t data[]; /* key, then the packed versions */
};
static_assert(sizeof(struct store_entry) == 16, "entry header is 16 bytes");
static_assert(sizeof(struct val *) == 8, "packed versions store 8-byte pointers");

struct table {
    struct store_entry **b;
    size_t size; /* power of two */
    size_t mask;
    size_t used; /* entries */
};

struct store {
    struct table t[2];   /* t[1] is only allocated while rehashing */
    size_t rehash_idx;   /* next t[0] bucket to move */
    unsigned pause;      /* > 0 while scan callbacks run: no rehashing */
    uint32_t seed;       /* hash seed, random per store */
    uint64_t rng;        /* xorshift64* state for store_random */
    size_t entry_bytes;  /* sum of entry allocation sizes */
    size_t nvalued;      /* entries with at least one value (not only
                            tombstones): kept by insert/rewrite/remove so
                            INFO and DBSIZE need no scan */
    uint32_t *slot_valued; /* nvalued per hash slot, then per slot those
                              whose every value expires (2 * SLOT_COUNT) */
    /* Expiry count (store_count_live): every valued entry whose values all
     * expire adds its last expiry time to exp_add when it is written, and
     * to exp_del when it is rewritten or removed.  Keys expired by time T
     * = (entries of exp_add <= T) - (entries of exp_del <= T); each heap
     * is popped as time passes, into add_le / del_le. */
    struct timeheap exp_add, exp_del;
    uint64_t add_le, del_le;
    int64_t exp_now;     /* latest time counted (never goes back) */
    /* Scratch reused by writers so a put does not allocate besides the
     * entry itself once these have grown. */
    struct version tmp;  /* one stored version's clock and dot, unpacked */
    struct buf sec;      /* versions section being built */
    struct buf clk;      /* one packed clock (version_pack_clock) */
    uint8_t *drop;       /* per stored version: dominated by the new one */
    size_t drop_cap;
    uint32_t max_epoch;  /* >= the flush epoch of every version ever stored */
};

/* ------------------------------------------------------------------ */
/* packed-version helpers (the bytes were written by this file)          */

static inline const uint8_t *version_read(const uint8_t *p, struct store_vref *out)
{
    uint64_t x;
    memcpy(&out->val, p, sizeof(out->val));
    p = varint_read(p + sizeof(out->val), &x);
    out->expire_ms = (int64_t)x;
    p = varint_read(p, &x);
    out->clock = p;
    out->clock_len = (size_t)x;
    return p + x;
}

static inline const uint8_t *section(const struct store_entry *e)
{
    return e->data + e->klen;
}

/* Bytes of the versions section starting at sec (nver included). */
static size_t section_len(const uint8_t *sec)
{
    uint64_t n;
    const uint8_t *p = varint_read(sec, &n);
    struct store_vref r;
    while (n--)
        p = version_read(p, &r);
    return (size_t)(p - sec);
}

static inline size_t entry_size(const struct store_entry *e)
{
    return sizeof(*e) + e->klen + section_len(section(e));
}

/* Appends one packed version to b. */
static void version_write(struct buf *b, struct val *val, int64_t expire_ms,
                          const void *clock, size_t clen)
{
    buf_reserve(b, sizeof(val) + 20 + clen);
    uint8_t *p = (uint8_t *)b->data + b->len;
    memcpy(p, &val, sizeof(val));
    size_t k = sizeof(val);
    k += varint_put(p + k, (uint64_t)expire_ms);
    k += varint_put(p + k, clen);
    memcpy(p + k, clock, clen);
    b->len += k + clen;
}

/* Drops the value references of a versions section. */
static void section_unref(const uint8_t *sec)
{
    uint64_t n;
    const uint8_t *p = varint_read(sec, &n);
    struct store_vref r;
    while (n--) {
        p = version_read(p, &r);
        val_unref(r.val);
    }
}

/* Whether the packed section holds a value version (not only tombstones,
 * nor a typed state without elements), and *eff: when the last of its
 * values expires (0 = one never does).  Reads the stored pointers, and of
 * a typed state its element count (so a state changed in place is
 * uncounted before and counted after: store_update). */
static bool section_valued(const uint8_t *sec, int64_t *eff)
{
    uint64_t n;
    const uint8_t *p = varint_read(sec, &n);
    bool valued = false;
    int64_t last = 0;
    bool forever = false;
    for (uint64_t i = 0; i < n; i++) {
        struct store_vref r;
        p = version_read(p, &r);
        if (!r.val || (val_is_typed(r.val) && tval_empty(r.val)))
            continue;
        valued = true;
        if (r.expire_ms <= 0)
            forever = true;
        else if (r.expire_ms > last)
            last = r.expire_ms;
    }
    *eff = forever ? 0 : last;
    return valued;
}

static void count_rebuild(struct store *s);

/* A section enters (+1) or leaves (-1) the store: keeps nvalued and the
 * expiry heaps.  The heaps hold one time per write of an expiring key
 * until that time passes; past 2x the key count (+1024) they are rebuilt
 * from the entries, so they stay O(keys) and the rebuild is amortised
 * over at least that many writes. */
static void count_section(struct store *s, const void *key, size_t klen, const uint8_t *sec,
                          int sign)
{
    int64_t eff;
    if (!section_valued(sec, &eff))
        return;
    s->nvalued += (size_t)(ptrdiff_t)sign;
    unsigned slot = slot_of_key(key, klen);
    s->slot_valued[slot] += (uint32_t)sign;
    if (eff > 0)
        s->slot_valued[SLOT_COUNT + slot] += (uint32_t)sign;
    if (eff > 0)
        timeheap_push(sign > 0 ? &s->exp_add : &s->exp_del, eff);
}

static void count_maybe_rebuild(struct store *s)
{
    if (s->exp_add.n + s->exp_del.n > 2 * (s->t[0].used + s->t[1].used) + 1024)
        count_rebuild(s);
}

static size_t entry_free(struct store_entry *e)
{
    size_t sz = entry_size(e);
    section_unref(section(e));
    mem_free(e);
    return sz;
}

/* ------------------------------------------------------------------ */
/* hash table                                                           */

static inline bool rehashing(const struct store *s)
{
    return s->t[1].b != NULL;
}

static inline uint32_t key_hash(const struct store *s, const void *key, size_t klen)
{
    uint32_t h;
    lmmh_x86_32(key, (unsigned)klen, s->seed, &h);
    return h;
}

static inline bool entry_is(const struct store_entry *e, uint32_t h, const void *key, size_t klen)
{
    return e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0;
}

static void table_alloc(struct table *t, size_t size)
{
    t->b = mem_calloc(size, sizeof(*t->b));
    t->size = size;
    t->mask = size - 1;
    t->used = 0;
}

/* Moves up to `buckets` non-empty buckets from t[0] to t[1]. */
static void rehash_step(struct store *s, unsigned buckets)
{
    if (!rehashing(s) || s->pause)
        return;
    struct table *from = &s->t[0], *to = &s->t[1];
    unsigned empty_visits = buckets * 10;
    while (buckets-- && from->used) {
        while (!from->b[s->rehash_idx]) { /* some bucket >= idx is non-empty */
            s->rehash_idx++;
            if (--empty_visits == 0)
                return;
        }
        struct store_entry *e = from->b[s->rehash_idx];
        while (e) {
            struct store_entry *next = e->next;
            size_t i = e->hash & to->mask;
            e->next = to->b[i];
            to->b[i] = e;
            from->used--;
            to->used++;
            e = next;
        }
        from->b[s->rehash_idx++] = NULL;
    }
    if (from->used == 0) {
        mem_free(from->b);
        *from = *to;
        *to = (struct table){ 0 };
        s->rehash_idx = 0;
    }
}

static void resize_start(struct store *s, size_t size)
{
    assert(!rehashing(s));
    table_alloc(&s->t[1], size);
    s->rehash_idx = 0;
}

static void maybe_shrink(struct store *s)
{
    struct table *t = &s->t[0];
    if (rehashing(s) || t->size <= STORE_MIN_BUCKETS || t->used * 8 >= t->size)
        return;
    size_t size = STORE_MIN_BUCKETS;
    while (size < t->used)
        size *= 2;
    resize_start(s, size);
}

/* Returns the link pointing at key's entry (and its table in *ti), or NULL. */
static struct store_entry **find_link(struct store *s, const void *key, size_t klen,
                                      uint32_t h, int *ti)
{
    for (int t = 0; t < 1 + rehashing(s); t++) {
        struct store_entry **l = &s->t[t].b[h & s->t[t].mask];
        for (; *l; l = &(*l)->next) {
            if (entry_is(*l, h, key, klen)) {
                *ti = t;
                return l;
            }
        }
    }
    return NULL;
}

/* Adds a new entry holding key and the section in s->sec. */
static void entry_insert(struct store *s, uint32_t h, const void *key, size_t klen)
{
    if (!rehashing(s) && s->t[0].used >= s->t[0].size && s->t[0].size < ((size_t)1 << 32))
        resize_start(s, s->t[0].size * 2); /* 32-bit hashes address at most 2^32 buckets */
    struct table *t = &s->t[rehashing(s)];
    size_t sz = sizeof(struct store_entry) + klen + s->sec.len;
    struct store_entry *e = mem_alloc(sz);
    e->hash = h;
    e->klen = (uint32_t)klen;
    memcpy(e->data, key, klen);
    memcpy(e->data + klen, s->sec.data, s->sec.len);
    size_t i = h & t->mask;
    e->next = t->b[i];
    t->b[i] = e;
    t->used++;
    s->entry_bytes += sz;
    count_section(s, key, klen, (const uint8_t *)s->sec.data, +1);
    count_maybe_rebuild(s);
}

/* Replaces the versions section of *link's entry (old_len bytes) with
 * s->sec, in place when the size is unchanged (the common overwrite).  The
 * old section was uncounted by the caller (count_section -1) while its
 * values were still alive: counting reads a typed value's size. */
static void entry_rewrite(struct store *s, struct store_entry **link, size_t old_len)
{
    struct store_entry *e = *link;
    count_section(s, e->data, e->klen, (const uint8_t *)s->sec.data, +1);
    if (s->sec.len != old_len) {
        size_t base = sizeof(*e) + e->klen;
        e = mem_realloc(e, base + s->sec.len);
        *link = e;
        s->entry_bytes = s->entry_bytes - old_len + s->sec.len;
    }
    memcpy(e->data + e->klen, s->sec.data, s->sec.len);
    count_maybe_rebuild(s);
}

static uint64_t rng_next(struct store *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1DULL;
}

/* ------------------------------------------------------------------ */
/* public API                                                           */

struct store *store_create(void)
{
    struct store *s = mem_calloc(1, sizeof(*s));
    table_alloc(&s->t[0], STORE_MIN_BUCKETS);
    s->slot_valued = mem_calloc(2 * SLOT_COUNT, sizeof(*s->slot_valued));
    uint64_t r[2] = { 0, 0 };
    /* A per-process random seed makes bucket collisions hard to aim at;
     * without entropy the store still works with a weaker, time-based seed. */
    if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        r[0] = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(uintptr_t)s;
        r[1] = (uint64_t)ts.tv_sec ^ 0x5851F42D4C957F2DULL;
    }
    s->seed = (uint32_t)r[0];
    s->rng = r[1] | 1;
    version_init(&s->tmp);
    buf_init(&s->sec);
    buf_init(&s->clk);
    return s;
}

static void free_entries(struct store *s)
{
    for (int t = 0; t < 2; t++) {
        struct table *tb = &s->t[t];
        for (size_t i = 0; tb->b && i < tb->size; i++) {
            struct store_entry *e = tb->b[i];
            while (e) {
                struct store_entry *next = e->next;
                entry_free(e);
                e = next;
            }
        }
        mem_free(tb->b);
        *tb = (struct table){ 0 };
    }
    s->rehash_idx = 0;
    s->entry_bytes = 0;
    s->nvalued = 0;
    memset(s->slot_valued, 0, 2 * SLOT_COUNT * sizeof(*s->slot_valued));
    s->exp_add.n = s->exp_del.n = 0;
    s->add_le = s->del_le = 0;
}

/* The expiry heaps from the entries themselves (see count_section). */
static void count_rebuild(struct store *s)
{
    s->exp_add.n = s->exp_del.n = 0;
    s->add_le = s->del_le = 0;
    for (int t = 0; t < 2; t++)
        for (size_t i = 0; s->t[t].b && i < s->t[t].size; i++)
            for (struct store_entry *e = s->t[t].b[i]; e; e = e->next) {
                int64_t eff;
                if (section_valued(section(e), &eff) && eff > 0)
                    timeheap_push(&s->exp_add, eff);
            }
    s->add_le = timeheap_pop_le(&s->exp_add, s->exp_now);
}

void store_destroy(struct store *s)
{
    if (!s)
        return;
    free_entries(s);
    version_fini(&s->tmp);
    buf_fini(&s->sec);
    buf_fini(&s->clk);
    mem_free(s->drop);
    mem_free(s->exp_add.v);
    mem_free(s->exp_del.v);
    mem_free(s->slot_valued);
    mem_free(s);
}

size_t store_count(const struct store *s)
{
    return s->t[0].used + s->t[1].used;
}

size_t store_count_valued(const struct store *s)
{
    return s->nvalued;
}

size_t store_count_slot(const struct store *s, unsigned slot, size_t *expiring)
{
    slot &= SLOT_COUNT - 1;
    if (expiring)
        *expiring = s->slot_valued[SLOT_COUNT + slot];
    return s->slot_valued[slot];
}

size_t store_count_live(struct store *s, int64_t now)
{
    if (now > s->exp_now)
        s->exp_now = now;
    s->add_le += timeheap_pop_le(&s->exp_add, s->exp_now);
    s->del_le += timeheap_pop_le(&s->exp_del, s->exp_now);
    return s->nvalued - (size_t)(s->add_le - s->del_le);
}

void store_flush(struct store *s)
{
    free_entries(s);
    table_alloc(&s->t[0], STORE_MIN_BUCKETS);
}

uint32_t store_max_epoch(const struct store *s)
{
    return s->max_epoch;
}

/* HOT: GET. One hash, a chain walk comparing hashes first, no allocation. */
const struct store_entry *store_find(struct store *s, const void *key, size_t klen)
{
    if (rehashing(s))
        rehash_step(s, REHASH_STEP);
    uint32_t h = key_hash(s, key, klen);
    for (struct store_entry *e = s->t[0].b[h & s->t[0].mask]; e; e = e->next)
        if (entry_is(e, h, key, klen))
            return e;
    if (rehashing(s))
        for (struct store_entry *e = s->t[1].b[h & s->t[1].mask]; e; e = e->next)
            if (entry_is(e, h, key, klen))
                return e;
    return NULL;
}

unsigned store_entry_nversions(const struct store_entry *e)
{
    uint64_t n;
    varint_read(section(e), &n);
    return (unsigned)n;
}

void store_entry_version(const struct store_entry *e, unsigned i, struct store_vref *out)
{
    uint64_t n;
    const uint8_t *p = varint_read(section(e), &n);
    assert(i < n);
    for (;;) {
        p = version_read(p, out);
        if (i-- == 0)
            return;
    }
}

size_t store_entry_encoded_bound(const struct store_entry *e)
{
    if (!e)
        return 0;
    uint64_t n;
    const uint8_t *p = varint_read(section(e), &n);
    size_t total = 16;
    for (uint64_t i = 0; i < n; i++) {
        struct store_vref r;
        p = version_read(p, &r);
        total += SIB_VERSION_BOUND(r.val ? r.val->len : 0, r.clock_len);
    }
    return total;
}

const char *store_entry_key(const struct store_entry *e, size_t *klen)
{
    if (klen)
        *klen = e->klen;
    return (const char *)e->data;
}

void store_entry_load(const struct store_entry *e, struct sibset *out)
{
    assert(out->n == 0);
    uint64_t n;
    const uint8_t *p = varint_read(section(e), &n);
    if (out->cap < n) {
        out->v = mem_realloc(out->v, (size_t)n * sizeof(*out->v));
        out->cap = (uint32_t)n;
    }
    for (uint64_t i = 0; i < n; i++) {
        struct store_vref r;
        p = version_read(p, &r);
        struct version *v = &out->v[out->n++];
        version_init(v);
        v->val = val_ref(r.val);
        v->expire_ms = r.expire_ms;
        size_t used;
        int rc = version_unpack_clock(v, r.clock, r.clock_len, &used);
        assert(rc == 0 && used == r.clock_len); /* packed by this process */
        (void)rc;
    }
}

/* Writes set as the versions section in s->sec (new value references). */
static void section_build(struct store *s, const struct sibset *set)
{
    s->sec.len = 0;
    buf_varint(&s->sec, set->n);
    for (uint32_t i = 0; i < set->n; i++) {
        const struct version *v = &set->v[i];
        if (v->epoch > s->max_epoch)
            s->max_epoch = v->epoch;
        s->clk.len = 0;
        version_pack_clock(v, &s->clk);
        version_write(&s->sec, val_ref(v->val), v->expire_ms, s->clk.data, s->clk.len);
    }
}

int store_update(struct store *s, const void *key, size_t klen, store_update_fn fn, void *arg)
{
    uint32_t h = key_hash(s, key, klen);
    rehash_step(s, REHASH_STEP);
    int ti;
    struct store_entry **link = find_link(s, key, klen, h, &ti);
    struct sibset set;
    sib_init(&set);
    if (link) {
        /* uncounted as it is now: fn may change a typed state in place */
        count_section(s, key, klen, section(*link), -1);
        store_entry_load(*link, &set);
    }
    int rc = fn(arg, &set);
    if (!link) {
        if (rc > 0 && set.n > 0) {
            section_build(s, &set);
            entry_insert(s, h, key, klen);
        }
        sib_fini(&set);
        return rc;
    }
    struct store_entry *e = *link;
    if (rc <= 0) {
        count_section(s, key, klen, section(e), +1);
    } else if (set.n == 0) {
        *link = e->next;
        s->t[ti].used--;
        s->entry_bytes -= entry_free(e);
        maybe_shrink(s);
    } else {
        section_build(s, &set);
        const uint8_t *sec = section(e);
        size_t old_len = section_len(sec);
        section_unref(sec); /* after the refs above: shared values survive */
        entry_rewrite(s, link, old_len); /* uncounted above, before fn */
    }
    sib_fini(&set);
    return rc;
}

/* store_update's fn for a typed version: reconcile (joining into the
 * stored state of its type in place: the store and set hold its only two
 * references). */
static int put_typed(void *arg, struct sibset *set)
{
    const struct version *v = arg;
    if (set->n + 1 > SIB_MAX_VERSIONS) {
        struct sibset probe;
        sib_init(&probe);
        sib_merge(&probe, set);
        bool grows = sib_add(&probe, v) && probe.n > SIB_MAX_VERSIONS;
        sib_fini(&probe);
        if (grows)
            return KV_EMAXSIB;
    }
    return sib_add_shared(set, v, 2) ? 1 : 0;
}

/* HOT: SET.  Reconciles v against the packed versions directly (the same
 * rules as sib_add, checked against it by test_store), without building a
 * sibset: one clock unpack into reused scratch per stored version, then the
 * new section is written in place when its size is unchanged. */
int store_put_checked(struct store *s, const void *key, size_t klen, const struct version *v)
{
    if (val_is_typed(v->val))
        return store_update(s, key, klen, put_typed, (void *)v);
    uint32_t h = key_hash(s, key, klen);
    rehash_step(s, REHASH_STEP);
    int ti;
    struct store_entry **link = find_link(s, key, klen, h, &ti);
    s->clk.len = 0;
    version_pack_clock(v, &s->clk);
    s->sec.len = 0;
    if (v->epoch > s->max_epoch)
        s->max_epoch = v->epoch;
    if (!link) {
        buf_varint(&s->sec, 1);
        version_write(&s->sec, val_ref(v->val), v->expire_ms, s->clk.data, s->clk.len);
        entry_insert(s, h, key, klen);
        return 1;
    }

    const uint8_t *sec = section(*link), *p;
    uint64_t n, dropped = 0;
    p = varint_read(sec, &n);
    if (s->drop_cap < n) {
        s->drop_cap = (size_t)n;
        s->drop = mem_realloc(s->drop, s->drop_cap);
    }
    for (uint64_t i = 0; i < n; i++) {
        struct store_vref r;
        p = version_read(p, &r);
        size_t used;
        int rc = version_unpack_clock(&s->tmp, r.clock, r.clock_len, &used);
        assert(rc == 0 && used == r.clock_len);
        (void)rc;
        enum vc_order o = version_compare(v, &s->tmp);
        if (o == VC_EQUAL || o == VC_BEFORE)
            return 0; /* already known: idempotent */
        s->drop[i] = o == VC_AFTER;
        dropped += s->drop[i];
    }
    size_t old_len = (size_t)(p - sec);
    if (n - dropped + 1 > SIB_MAX_VERSIONS)
        return KV_EMAXSIB; /* the set could not be logged or sent: unchanged */
    count_section(s, key, klen, sec, -1); /* before any value goes */

    buf_varint(&s->sec, n - dropped + 1);
    p = varint_read(sec, &n);
    for (uint64_t i = 0; i < n; i++) {
        struct store_vref r;
        const uint8_t *q = version_read(p, &r);
        if (s->drop[i])
            val_unref(r.val); /* v is borrowed, so a value it shares stays alive */
        else
            buf_put(&s->sec, p, (size_t)(q - p));
        p = q;
    }
    version_write(&s->sec, val_ref(v->val), v->expire_ms, s->clk.data, s->clk.len);
    entry_rewrite(s, link, old_len);
    return 1;
}

bool store_put(struct store *s, const void *key, size_t klen, const struct version *v)
{
    return store_put_checked(s, key, klen, v) > 0;
}

int store_put_set_checked(struct store *s, const void *key, size_t klen,
                          const struct sibset *set)
{
    int changed = 0, full = 0;
    for (uint32_t i = 0; i < set->n; i++) {
        int rc = store_put_checked(s, key, klen, &set->v[i]);
        if (rc < 0)
            full = rc;
        else
            changed |= rc;
    }
    return full ? full : changed;
}

bool store_put_set(struct store *s, const void *key, size_t klen, const struct sibset *set)
{
    bool changed = false;
    for (uint32_t i = 0; i < set->n; i++)
        changed |= store_put(s, key, klen, &set->v[i]);
    return changed;
}

void store_replace(struct store *s, const void *key, size_t klen, const struct sibset *set)
{
    if (set->n == 0) {
        store_remove(s, key, klen);
        return;
    }
    uint32_t h = key_hash(s, key, klen);
    rehash_step(s, REHASH_STEP);
    int ti;
    struct store_entry **link = find_link(s, key, klen, h, &ti);
    section_build(s, set);
    if (!link) {
        entry_insert(s, h, key, klen);
        return;
    }
    const uint8_t *sec = section(*link);
    size_t old_len = section_len(sec);
    count_section(s, key, klen, sec, -1);
    section_unref(sec); /* after the refs above: values shared with set survive */
    entry_rewrite(s, link, old_len);
}

bool store_remove(struct store *s, const void *key, size_t klen)
{
    uint32_t h = key_hash(s, key, klen);
    rehash_step(s, REHASH_STEP);
    int ti;
    struct store_entry **link = find_link(s, key, klen, h, &ti);
    if (!link)
        return false;
    struct store_entry *e = *link;
    *link = e->next;
    s->t[ti].used--;
    count_section(s, e->data, e->klen, section(e), -1);
    s->entry_bytes -= entry_free(e);
    maybe_shrink(s);
    return true;
}

/* ---- scan: reverse-binary cursor (the algorithm of Redis's dictScan) ----
 *
 * The cursor's bits are incremented from the top (reverse binary), so the
 * buckets already visited are, for a table of any power-of-two size, exactly
 * the ones whose index's low bits are "before" the cursor in that reversed
 * order.  Doubling a table splits bucket i into i and i + size: both share
 * i's low bits, so both are already visited or both still ahead.  Halving
 * merges them back the same way.  Hence every key present for the whole
 * scan is returned at least once across any resizes between calls (a
 * shrink can return some twice).  While rehashing, each step visits a
 * bucket of the smaller table and all the buckets of the larger table that
 * expand from it, which covers keys in either table. */

static uint64_t rev64(uint64_t v)
{
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
    return __builtin_bswap64(v);
}

/* Sets the bits outside mask and adds one in reversed bit order. */
static inline uint64_t cursor_next(uint64_t v, uint64_t mask)
{
    v |= ~mask;
    v = rev64(v);
    v++;
    return rev64(v);
}

static size_t emit_bucket(const struct store_entry *e, store_scan_fn fn, void *arg)
{
    size_t n = 0;
    while (e) {
        const struct store_entry *next = e->next;
        fn(arg, e);
        n++;
        e = next;
    }
    return n;
}

uint64_t store_scan(struct store *s, uint64_t cursor, size_t count, store_scan_fn fn, void *arg)
{
    size_t emitted = 0;
    if (store_count(s) == 0)
        return 0;
    s->pause++; /* callbacks may call store_find, which must not rehash */
    do {
        if (!rehashing(s)) {
            const struct table *t = &s->t[0];
            emitted += emit_bucket(t->b[cursor & t->mask], fn, arg);
            cursor = cursor_next(cursor, t->mask);
        } else {
            const struct table *small = &s->t[0], *large = &s->t[1];
            if (small->size > large->size) {
                small = &s->t[1];
                large = &s->t[0];
            }
            uint64_t m0 = small->mask, m1 = large->mask;
            emitted += emit_bucket(small->b[cursor & m0], fn, arg);
            do {
                emitted += emit_bucket(large->b[cursor & m1], fn, arg);
                cursor = cursor_next(cursor, m1);
            } while (cursor & (m0 ^ m1));
        }
    } while (cursor != 0 && emitted < count);
    s->pause--;
    return cursor;
}

const struct store_entry *store_random(struct store *s)
{
    if (store_count(s) == 0)
        return NULL;
    rehash_step(s, REHASH_STEP);
    struct store_entry *e;
    /* The load factor stays >= 1/8 (shrinking), so this takes a few tries. */
    if (rehashing(s)) {
        size_t lo = s->rehash_idx, span = s->t[0].size - lo + s->t[1].size;
        do {
            size_t i = lo + (size_t)(rng_next(s) % span);
            e = i < s->t[0].size ? s->t[0].b[i] : s->t[1].b[i - s->t[0].size];
        } while (!e);
    } else {
        do {
            e = s->t[0].b[rng_next(s) & s->t[0].mask];
        } while (!e);
    }
    size_t len = 0;
    for (const struct store_entry *x = e; x; x = x->next)
        len++;
    for (size_t k = (size_t)(rng_next(s) % len); k; k--)
        e = e->next;
    return e;
}

size_t store_overhead(const struct store *s)
{
    return sizeof(*s) + (s->t[0].size + s->t[1].size) * sizeof(struct store_entry *) +
           s->entry_bytes;
}
