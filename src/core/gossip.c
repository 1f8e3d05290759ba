/* gossip.c — membership table and heartbeat failure detector, see gossip.h.
 *
 * Owns: one row per member, configured or learnt (a copy of its name and
 * address, its latest known (generation, heartbeat) pair, when that pair
 * last advanced as seen here, the locally judged state, and its ring status
 * with the status version).  Nothing else; the caller moves encoded
 * tables between nodes and supplies the clock and the randomness.
 *
 * Invariants: members are only ever appended, never removed or reordered
 * (indices are the ring's, see gossip.h); a row's (generation, heartbeat) pair
 * never decreases; gossip_tick bumps self's heartbeat, and received
 * bytes can only raise self's status version (merge_status) and its
 * heartbeat (to an in-bounds claim for its own generation, which the next
 * tick then overtakes), never change its status or generation; self is
 * always alive.
 * A row about self that claims a higher generation than ours is ignored
 * rather than adopted: only this process may start a new incarnation of
 * itself, so such a row is forged or stale configuration, not news.
 *
 * Decoding is all-or-nothing: gossip_merge parses and validates the whole
 * table into a bounded scratch array before touching a single row, so a
 * malformed table (the bytes come straight from the network) changes
 * nothing and fires no callback.  Bounds: at most GOSSIP_MAX_ROWS rows,
 * names of 1..GOSSIP_NAME_MAX bytes, canonical varints of at most 10 bytes,
 * and after the last row nothing but the optional flush epoch.
 *
 * The flush epoch (issue 16, replica.h) rides after the rows as one varint,
 * only when it is not 0 (so a table is byte for byte what it was until the
 * first flush, and nodes of the previous release read it).  The higher
 * epoch wins; an epoch more than GOSSIP_MAX_EPOCH_STEP above ours is
 * ignored (the rows still merge), as out-of-bounds rows are.
 *
 * A row for an unknown name that carries an address adds a member
 * (pass 2, after the whole table validated); the callback announces it.
 *
 * Callers: cluster.c (its gossip timer: tick, pick, encode; the PGOSSIP
 * exchange: merge; JOIN/LEAVE/REMOVE, restore at start), coord.c
 * (gossip_state: liveness), reaper.c (gossip_status), cmd_dynamo.c
 * (DYNAMO NODES), main.c (the flush epoch: gossip_set_flush_epoch,
 * gossip_on_flush), the fuzz target.  Everything is bounded CPU work — at most
 * GOSSIP_MAX_ROWS x CFG_MAX_NODES name comparisons per merge — and nothing
 * blocks or allocates outside create.  The change callback runs with the
 * member's new state already stored; it may read the table but must not
 * destroy it (style §4).
 */
#include "core/gossip.h"
#include "util/varint.h"

#include <arpa/inet.h>
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/errors.h"
#include "util/mem.h"

/* Largest row count gossip_merge accepts: several times CFG_MAX_NODES, so
 * a peer with a somewhat different configuration is still heard, while the
 * scratch array stays small enough for the stack. */
#define GOSSIP_MAX_ROWS 256
/* Longest name on the wire: a cfg_node name without its NUL. */
#define GOSSIP_NAME_MAX (CFG_NAME_MAX - 1)
#define GOSSIP_DEFAULT_SUSPECT_MS 3000
#define GOSSIP_DEFAULT_DEAD_MS 8000
#define GOSSIP_HOST_MAX 63
/* Status versions grow by one per membership event; a larger one on the
 * wire is malformed, so version + 1 can never wrap (2^48 events is beyond
 * any real cluster's life). */
#define GOSSIP_MAX_SVERSION ((uint64_t)1 << 48)
/* Rows outside these bounds are refused (skipped; the rest of the table
 * still merges), so one buggy or hostile peer cannot push a value no real
 * row can beat afterwards (evicting or killing the named node for good):
 *  - a generation is a start time in ms: at most GOSSIP_MAX_AHEAD_MS ahead
 *    of this node's clock (estimated as its own generation plus the
 *    monotonic time since create);
 *  - a heartbeat grows at most once per GOSSIP_MIN_BEAT_MS (gossip-
 *    interval's minimum) since its generation began, by the same clock;
 *  - a status version at most GOSSIP_MAX_SVERSION_STEP above the one known
 *    here (0 for a new member).
 * And a row about self with our generation and a higher heartbeat (still in
 * bounds) makes self jump to it, so the next tick is news again. */
#define GOSSIP_MAX_AHEAD_MS ((uint64_t)3600 * 1000)
#define GOSSIP_MIN_BEAT_MS 10
#define GOSSIP_MAX_SVERSION_STEP ((uint64_t)1 << 20)
/* A flush epoch grows by one per FLUSHALL: a jump beyond this is refused. */
#define GOSSIP_MAX_EPOCH_STEP ((uint64_t)1 << 20)
/* Smallest possible row: length byte, 1-byte name, two 1-byte varints,
 * status, 1-byte version, empty host, two 1-byte ports. */
#define GOSSIP_MIN_ROW_BYTES 9
/* Largest possible row: length byte, name, two 10-byte varints, status,
 * 10-byte version, host, two 3-byte ports. */
#define GOSSIP_MAX_ROW_BYTES (1 + GOSSIP_NAME_MAX + 10 + 10 + 1 + 10 + 1 + GOSSIP_HOST_MAX + 3 + 3)

static_assert(GOSSIP_NAME_MAX <= 255, "name length travels as a u8");
static_assert(CFG_MAX_NODES <= GOSSIP_MAX_ROWS, "a full table must be decodable");
static_assert(CFG_MAX_NODES <= 64, "gossip_merge keeps a 64-bit member set");

struct member {
    char name[CFG_NAME_MAX];  /* NUL-terminated copy of cfg_node.name */
    size_t nlen;
    char host[GOSSIP_HOST_MAX + 1];
    int port, cport;
    enum gossip_status status;
    uint64_t sversion;        /* status version: higher wins, LEFT wins ties */
    uint64_t generation;
    uint64_t heartbeat;
    int64_t last_advance_ms;  /* when (generation, heartbeat) last grew here */
    enum gossip_state state;
};

struct gossip {
    struct member *m;         /* CFG_MAX_NODES rows; nmembers in use */
    int nmembers;
    int self;
    int suspect_ms;
    int dead_ms;
    int64_t evict_ms;         /* 0 = never */
    uint64_t wall0;           /* self's generation: its start, wall-clock ms */
    int64_t mono0;            /* now_ms at create */
    bool left;                /* this process was told to leave */
    gossip_change_fn on_change;  /* may be NULL */
    void *on_change_arg;
    gossip_member_fn on_member;  /* may be NULL */
    void *on_member_arg;
    uint32_t flush_epoch;        /* the highest flush epoch known */
    gossip_flush_fn on_flush;    /* may be NULL */
    void *on_flush_arg;
};

/* One parsed row of a received table; member is -1 for unknown names. */
struct row {
    int member;
    const uint8_t *name;      /* points into the received bytes */
    size_t nlen;
    uint64_t generation;
    uint64_t heartbeat;
    enum gossip_status status;
    uint64_t sversion;
    const uint8_t *host;
    size_t hlen;
    uint64_t port, cport;
};

/* ------------------------------------------------------------------ */

const char *gossip_state_name(enum gossip_state s)
{
    switch (s) {
    case GOSSIP_ALIVE: return "alive";
    case GOSSIP_SUSPECT: return "suspect";
    case GOSSIP_DEAD: return "dead";
    case GOSSIP_STATE_COUNT: break;
    }
    return "?";
}

const char *gossip_status_name(enum gossip_status s)
{
    return s == GOSSIP_GONE ? "gone" : s == GOSSIP_LEFT ? "left" : "member";
}

static void set_address(struct member *m, const char *host, size_t hlen, int port, int cport)
{
    if (hlen > GOSSIP_HOST_MAX)
        hlen = GOSSIP_HOST_MAX;
    memcpy(m->host, host, hlen);
    m->host[hlen] = '\0';
    m->port = port;
    m->cport = cport;
}

/* Invalid arguments are a wiring bug (config validates the node list), so
 * they are asserted; release builds get NULL rather than a corrupt table. */
struct gossip *gossip_create(const struct cfg_node *nodes, int nnodes, int self_idx,
                             uint64_t generation, int64_t now_ms)
{
    assert(nodes && nnodes > 0 && nnodes <= CFG_MAX_NODES);
    assert(self_idx >= 0 && self_idx < nnodes);
    if (!nodes || nnodes <= 0 || nnodes > CFG_MAX_NODES || self_idx < 0 || self_idx >= nnodes)
        return NULL;
    struct gossip *g = mem_calloc(1, sizeof(*g));
    g->m = mem_calloc(CFG_MAX_NODES, sizeof(*g->m));
    g->nmembers = nnodes;
    g->self = self_idx;
    g->suspect_ms = GOSSIP_DEFAULT_SUSPECT_MS;
    g->dead_ms = GOSSIP_DEFAULT_DEAD_MS;
    for (int i = 0; i < nnodes; i++) {
        struct member *m = &g->m[i];
        m->nlen = strnlen(nodes[i].name, GOSSIP_NAME_MAX);
        memcpy(m->name, nodes[i].name, m->nlen);
        m->name[m->nlen] = '\0';
        set_address(m, nodes[i].host, strnlen(nodes[i].host, GOSSIP_HOST_MAX), nodes[i].port,
                    nodes[i].cport);
        m->last_advance_ms = now_ms;
        m->state = GOSSIP_ALIVE;
    }
    g->m[self_idx].generation = generation;
    g->wall0 = generation;
    g->mono0 = now_ms;
    return g;
}

void gossip_destroy(struct gossip *g)
{
    if (!g)
        return;
    mem_free(g->m);
    mem_free(g);
}

/* Out-of-range values are clamped (suspect >= 1 ms, dead >= suspect) so the
 * state machine always stays alive -> suspect -> dead. */
void gossip_set_timeouts(struct gossip *g, int suspect_ms, int dead_ms)
{
    if (suspect_ms < 1)
        suspect_ms = 1;
    if (dead_ms < suspect_ms)
        dead_ms = suspect_ms;
    g->suspect_ms = suspect_ms;
    g->dead_ms = dead_ms;
}

void gossip_set_evict(struct gossip *g, int64_t evict_ms)
{
    g->evict_ms = evict_ms > 0 ? evict_ms : 0;
}

void gossip_on_change(struct gossip *g, gossip_change_fn fn, void *arg)
{
    g->on_change = fn;
    g->on_change_arg = arg;
}

void gossip_on_member(struct gossip *g, gossip_member_fn fn, void *arg)
{
    g->on_member = fn;
    g->on_member_arg = arg;
}

void gossip_on_flush(struct gossip *g, gossip_flush_fn fn, void *arg)
{
    g->on_flush = fn;
    g->on_flush_arg = arg;
}

void gossip_set_flush_epoch(struct gossip *g, uint32_t epoch)
{
    if (epoch > g->flush_epoch)
        g->flush_epoch = epoch;
}

uint32_t gossip_flush_epoch(const struct gossip *g)
{
    return g->flush_epoch;
}

static void set_status(struct gossip *g, int idx, enum gossip_status st, uint64_t version)
{
    struct member *m = &g->m[idx];
    bool changed = m->status != st;
    m->status = st;
    m->sversion = version;
    if (changed && g->on_member)
        g->on_member(g->on_member_arg, idx, false);
}

void gossip_restore(struct gossip *g, int idx, enum gossip_status st, uint64_t version)
{
    if (idx < 0 || idx >= g->nmembers)
        return;
    g->m[idx].status = st;
    g->m[idx].sversion = version;
}

void gossip_leave(struct gossip *g)
{
    g->left = true;
    struct member *self = &g->m[g->self];
    if (self->status != GOSSIP_LEFT)
        set_status(g, g->self, GOSSIP_LEFT, self->sversion + 1);
}

bool gossip_mark_gone(struct gossip *g)
{
    struct member *self = &g->m[g->self];
    if (!g->left || self->status != GOSSIP_LEFT)
        return false;
    set_status(g, g->self, GOSSIP_GONE, self->sversion + 1);
    return true;
}

bool gossip_remove(struct gossip *g, int idx)
{
    if (idx < 0 || idx >= g->nmembers || idx == g->self || g->m[idx].status != GOSSIP_MEMBER)
        return false;
    set_status(g, idx, GOSSIP_LEFT, g->m[idx].sversion + 1);
    return true;
}

static void set_state(struct gossip *g, int idx, enum gossip_state to)
{
    enum gossip_state from = g->m[idx].state;
    if (from == to)
        return;
    g->m[idx].state = to;
    if (g->on_change)
        g->on_change(g->on_change_arg, idx, from, to);
}

void gossip_tick(struct gossip *g, int64_t now_ms)
{
    struct member *self = &g->m[g->self];
    /* Saturates: 2^64 ticks cannot happen, but a wrap to 0 would make every
     * peer ignore this node until it restarted. */
    if (self->heartbeat != UINT64_MAX)
        self->heartbeat++;
    self->last_advance_ms = now_ms;
    for (int i = 0; i < g->nmembers; i++) {
        if (i == g->self)
            continue;
        int64_t silence = now_ms - g->m[i].last_advance_ms;
        if (silence > g->dead_ms)
            set_state(g, i, GOSSIP_DEAD);
        else if (silence > g->suspect_ms && g->m[i].state == GOSSIP_ALIVE)
            set_state(g, i, GOSSIP_SUSPECT);
        if (g->evict_ms > 0 && g->m[i].state == GOSSIP_DEAD && silence > g->evict_ms &&
            g->m[i].status == GOSSIP_MEMBER)
            set_status(g, i, GOSSIP_LEFT, g->m[i].sversion + 1);
    }
}

/* Uniform over the other members that are not dead; one round in four
 * (by rnd's top bits) goes to a dead one instead, when there is any, so a
 * node that comes back is heard even if it cannot reach us first.  Rounds
 * spent on dead or departed nodes are wasted, so they are the exception.
 * The modulo bias is below CFG_MAX_NODES / 2^30, far beneath anything
 * gossip could notice. */
int gossip_pick(const struct gossip *g, uint32_t rnd)
{
    int live[CFG_MAX_NODES], dead[CFG_MAX_NODES];
    int nl = 0, nd = 0;
    for (int i = 0; i < g->nmembers; i++) {
        if (i == g->self)
            continue;
        if (g->m[i].state == GOSSIP_DEAD)
            dead[nd++] = i;
        else
            live[nl++] = i;
    }
    bool to_dead = nd > 0 && (nl == 0 || (rnd >> 30) == 0);
    if (to_dead)
        return dead[(rnd & 0x3fffffffu) % (uint32_t)nd];
    if (nl == 0)
        return -1;
    return live[(rnd & 0x3fffffffu) % (uint32_t)nl];
}

void gossip_encode(const struct gossip *g, struct buf *out)
{
    buf_reserve(out, 20 + (size_t)g->nmembers * GOSSIP_MAX_ROW_BYTES);
    uint8_t *p = (uint8_t *)out->data + out->len;
    size_t k = varint_put(p, (uint64_t)g->nmembers);
    for (int i = 0; i < g->nmembers; i++) {
        const struct member *m = &g->m[i];
        p[k++] = (uint8_t)m->nlen;
        memcpy(p + k, m->name, m->nlen);
        k += m->nlen;
        k += varint_put(p + k, m->generation);
        k += varint_put(p + k, m->heartbeat);
        p[k++] = (uint8_t)m->status;
        k += varint_put(p + k, m->sversion);
        size_t hlen = strlen(m->host);
        p[k++] = (uint8_t)hlen;
        memcpy(p + k, m->host, hlen);
        k += hlen;
        k += varint_put(p + k, (uint64_t)m->port);
        k += varint_put(p + k, (uint64_t)m->cport);
    }
    if (g->flush_epoch)
        k += varint_put(p + k, g->flush_epoch);
    out->len += k;
}

static int find_member(const struct gossip *g, const uint8_t *name, size_t nlen)
{
    for (int i = 0; i < g->nmembers; i++)
        if (g->m[i].nlen == nlen && memcmp(g->m[i].name, name, nlen) == 0)
            return i;
    return -1;
}

/* Pass 1 of gossip_merge: syntax and bounds only, into rows[].  Touches
 * nothing in g.  Returns the row count, or KV_EPROTO. */
static int parse_table(const struct gossip *g, const uint8_t *p, size_t len,
                       struct row rows[GOSSIP_MAX_ROWS], uint64_t *epoch)
{
    *epoch = 0;
    size_t pos = 0;
    uint64_t n;
    if (!varint_get(p, len, &pos, &n) || n > GOSSIP_MAX_ROWS ||
        n > (len - pos) / GOSSIP_MIN_ROW_BYTES)
        return KV_EPROTO;
    for (uint64_t i = 0; i < n; i++) {
        if (pos >= len)
            return KV_EPROTO;
        size_t nlen = p[pos++];
        if (nlen == 0 || nlen > GOSSIP_NAME_MAX || nlen > len - pos)
            return KV_EPROTO;
        struct row *r = &rows[i];
        r->member = find_member(g, p + pos, nlen);
        r->name = p + pos;
        r->nlen = nlen;
        pos += nlen;
        if (!varint_get(p, len, &pos, &r->generation) ||
            !varint_get(p, len, &pos, &r->heartbeat) || pos >= len || p[pos] > GOSSIP_GONE)
            return KV_EPROTO;
        r->status = (enum gossip_status)p[pos++];
        if (!varint_get(p, len, &pos, &r->sversion) || r->sversion > GOSSIP_MAX_SVERSION ||
            pos >= len)
            return KV_EPROTO;
        r->hlen = p[pos++];
        if (r->hlen > GOSSIP_HOST_MAX || r->hlen > len - pos)
            return KV_EPROTO;
        r->host = p + pos;
        pos += r->hlen;
        if (!varint_get(p, len, &pos, &r->port) || !varint_get(p, len, &pos, &r->cport) ||
            r->port > 65535 || r->cport > 65535)
            return KV_EPROTO;
    }
    if (pos < len && (!varint_get(p, len, &pos, epoch) || *epoch == 0 || *epoch > UINT32_MAX))
        return KV_EPROTO;
    if (pos != len)
        return KV_EPROTO;
    return (int)n;
}

/* The bounds above (see GOSSIP_MAX_AHEAD_MS). */
static bool row_sane(const struct gossip *g, const struct row *r, int idx, int64_t now_ms)
{
    int64_t since = now_ms - g->mono0;
    uint64_t limit = g->wall0 + (since > 0 ? (uint64_t)since : 0) + GOSSIP_MAX_AHEAD_MS;
    if (r->generation > limit)
        return false;
    if (r->heartbeat > (limit - r->generation) / GOSSIP_MIN_BEAT_MS + 1)
        return false;
    uint64_t known = idx >= 0 ? g->m[idx].sversion : 0;
    return r->sversion <= known + GOSSIP_MAX_SVERSION_STEP;
}

/* An address given as dotted-quad IPv4: nothing learnt from the network is
 * ever resolved (DNS would block the event loop). */
static bool numeric_host(const uint8_t *h, size_t len)
{
    char tmp[GOSSIP_HOST_MAX + 1];
    struct in_addr a;
    if (len == 0 || len > GOSSIP_HOST_MAX)
        return false;
    memcpy(tmp, h, len);
    tmp[len] = '\0';
    return inet_pton(AF_INET, tmp, &a) == 1;
}

/* A row naming a node not in the table: a joining node.  Needs a usable
 * address; returns its new index, or -1. */
static int add_member(struct gossip *g, const struct row *r, int64_t now_ms)
{
    if (g->nmembers >= CFG_MAX_NODES || r->hlen == 0 || r->port == 0 || r->cport == 0)
        return -1;
    for (size_t i = 0; i < r->nlen; i++)
        if (r->name[i] <= ' ' || r->name[i] >= 0x7f)
            return -1; /* names are printable words (config rule) */
    if (!numeric_host(r->host, r->hlen))
        return -1;
    int idx = g->nmembers++;
    struct member *m = &g->m[idx];
    memset(m, 0, sizeof(*m));
    memcpy(m->name, r->name, r->nlen);
    m->name[r->nlen] = '\0';
    m->nlen = r->nlen;
    set_address(m, (const char *)r->host, r->hlen, (int)r->port, (int)r->cport);
    m->status = r->status;
    m->sversion = r->sversion;
    /* Heard of, not heard from: alive until its heartbeat stalls, like
     * every member at start (the merge below records the pair). */
    m->last_advance_ms = now_ms;
    m->state = GOSSIP_ALIVE;
    if (g->on_member)
        g->on_member(g->on_member_arg, idx, true);
    return idx;
}

/* Ring status: the higher version wins; on a tie the later status in
 * MEMBER < LEFT < GONE.  About self, this process's own wish wins: it
 * answers a differing claim with a higher version (a running node that was
 * not told to leave stays a member; one that left keeps its LEFT/GONE). */
static void merge_status(struct gossip *g, int idx, const struct row *r)
{
    struct member *m = &g->m[idx];
    if (idx == g->self) {
        enum gossip_status want = g->left ? m->status : GOSSIP_MEMBER;
        if (r->status != want && r->sversion >= m->sversion)
            m->sversion = r->sversion + 1;
        else if (r->status == want && r->sversion > m->sversion)
            m->sversion = r->sversion;
        return;
    }
    if (r->sversion > m->sversion || (r->sversion == m->sversion && r->status > m->status))
        set_status(g, idx, r->status, r->sversion);
}

int gossip_merge(struct gossip *g, const void *ptr, size_t len, int64_t now_ms)
{
    struct row rows[GOSSIP_MAX_ROWS];
    uint64_t epoch;
    int n = parse_table(g, ptr, len, rows, &epoch);
    if (n < 0)
        return n;
    /* Pass 2: apply.  Counts members, not rows, so a table naming a member
     * twice still reports each advance once. */
    uint64_t seen = 0;
    int advanced = 0;
    for (int i = 0; i < n; i++) {
        int idx = rows[i].member;
        if (idx < 0) /* maybe added by an earlier row of this table */
            idx = find_member(g, rows[i].name, rows[i].nlen);
        if (!row_sane(g, &rows[i], idx, now_ms))
            continue; /* out of bounds: refused, the named node unharmed */
        if (idx < 0)
            idx = add_member(g, &rows[i], now_ms);
        if (idx < 0)
            continue; /* no address, an invalid one, or no room */
        merge_status(g, idx, &rows[i]);
        if (idx == g->self) {
            /* A claim about us (see the top comment); a heartbeat of ours
             * from the future is overtaken rather than left to win. */
            struct member *me = &g->m[idx];
            if (rows[i].generation == me->generation && rows[i].heartbeat > me->heartbeat)
                me->heartbeat = rows[i].heartbeat;
            continue;
        }
        struct member *m = &g->m[idx];
        bool newer = rows[i].generation > m->generation ||
                     (rows[i].generation == m->generation && rows[i].heartbeat > m->heartbeat);
        if (!newer)
            continue;
        m->generation = rows[i].generation;
        m->heartbeat = rows[i].heartbeat;
        m->last_advance_ms = now_ms;
        if (!(seen & (uint64_t)1 << idx))
            advanced++;
        seen |= (uint64_t)1 << idx;
        set_state(g, idx, GOSSIP_ALIVE);
    }
    if (epoch > g->flush_epoch && epoch - g->flush_epoch <= GOSSIP_MAX_EPOCH_STEP) {
        g->flush_epoch = (uint32_t)epoch;
        if (g->on_flush)
            g->on_flush(g->on_flush_arg, g->flush_epoch);
    }
    return advanced;
}

int gossip_nmembers(const struct gossip *g)
{
    return g->nmembers;
}

/* Accessors: idx out of range is a caller bug; asserted, and release
 * builds get a harmless answer (dead, zero) instead of a stray read. */
enum gossip_state gossip_state(const struct gossip *g, int idx)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return GOSSIP_DEAD;
    return g->m[idx].state;
}

uint64_t gossip_generation(const struct gossip *g, int idx)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return 0;
    return g->m[idx].generation;
}

uint64_t gossip_heartbeat(const struct gossip *g, int idx)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return 0;
    return g->m[idx].heartbeat;
}

enum gossip_status gossip_status(const struct gossip *g, int idx)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return GOSSIP_LEFT;
    return g->m[idx].status;
}

uint64_t gossip_status_version(const struct gossip *g, int idx)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return 0;
    return g->m[idx].sversion;
}

void gossip_member(const struct gossip *g, int idx, struct cfg_node *out)
{
    memset(out, 0, sizeof(*out));
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return;
    const struct member *m = &g->m[idx];
    memcpy(out->name, m->name, m->nlen + 1);
    snprintf(out->host, sizeof(out->host), "%s", m->host);
    out->port = m->port;
    out->cport = m->cport;
}

int64_t gossip_silence_ms(const struct gossip *g, int idx, int64_t now_ms)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return 0;
    return now_ms - g->m[idx].last_advance_ms;
}
