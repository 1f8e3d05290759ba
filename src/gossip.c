/* gossip.c — membership table and heartbeat failure detector, see gossip.h.
 *
 * Owns: one row per configured member (a copy of its name, its latest known
 * (generation, heartbeat) pair, when that pair last advanced as seen here,
 * and the locally judged state).  Nothing else; the caller moves encoded
 * tables between nodes and supplies the clock and the randomness.
 *
 * Invariants: the member set and its order never change after create (they
 * are cfg.nodes, the ring's indices); a row's (generation, heartbeat) pair
 * never decreases; only gossip_tick changes self's row (heartbeat + 1), so
 * no received bytes can ever speak for this node; self is always alive.
 * A row about self that claims a higher generation than ours is ignored
 * rather than adopted: only this process may start a new incarnation of
 * itself, so such a row is forged or stale configuration, not news.
 *
 * Decoding is all-or-nothing: gossip_merge parses and validates the whole
 * table into a bounded scratch array before touching a single row, so a
 * malformed table (the bytes come straight from the network) changes
 * nothing and fires no callback.  Bounds: at most GOSSIP_MAX_ROWS rows,
 * names of 1..GOSSIP_NAME_MAX bytes, canonical varints of at most 10 bytes,
 * and no bytes after the last row.
 *
 * Callers: the event loop's gossip timer (tick, pick, encode) and the
 * PGOSSIP handler (merge).  Everything is bounded CPU work — at most
 * GOSSIP_MAX_ROWS x CFG_MAX_NODES name comparisons per merge — and nothing
 * blocks or allocates outside create.  The change callback runs with the
 * member's new state already stored; it may read the table but must not
 * destroy it (style §4).
 */
#include "gossip.h"
#include "util/varint.h"

#include <assert.h>
#include <string.h>

#include "errors.h"
#include "util/mem.h"

/* Largest row count gossip_merge accepts: several times CFG_MAX_NODES, so
 * a peer with a somewhat different configuration is still heard, while the
 * scratch array stays small enough for the stack. */
#define GOSSIP_MAX_ROWS 256
/* Longest name on the wire: a cfg_node name without its NUL. */
#define GOSSIP_NAME_MAX (CFG_NAME_MAX - 1)
#define GOSSIP_DEFAULT_SUSPECT_MS 3000
#define GOSSIP_DEFAULT_DEAD_MS 8000
/* Smallest possible row: length byte, 1-byte name, two 1-byte varints. */
#define GOSSIP_MIN_ROW_BYTES 4
/* Largest possible row: length byte, name, two 10-byte varints. */
#define GOSSIP_MAX_ROW_BYTES (1 + GOSSIP_NAME_MAX + 10 + 10)

static_assert(GOSSIP_NAME_MAX <= 255, "name length travels as a u8");
static_assert(CFG_MAX_NODES <= GOSSIP_MAX_ROWS, "a full table must be decodable");
static_assert(CFG_MAX_NODES <= 64, "gossip_merge keeps a 64-bit member set");

struct member {
    char name[CFG_NAME_MAX];  /* NUL-terminated copy of cfg_node.name */
    size_t nlen;
    uint64_t generation;
    uint64_t heartbeat;
    int64_t last_advance_ms;  /* when (generation, heartbeat) last grew here */
    enum gossip_state state;
};

struct gossip {
    struct member *m;         /* nmembers rows, in configuration order */
    int nmembers;
    int self;
    int suspect_ms;
    int dead_ms;
    gossip_change_fn on_change;  /* may be NULL */
    void *on_change_arg;
};

/* One parsed row of a received table; member is -1 for unknown names. */
struct row {
    int member;
    uint64_t generation;
    uint64_t heartbeat;
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
    g->m = mem_calloc((size_t)nnodes, sizeof(*g->m));
    g->nmembers = nnodes;
    g->self = self_idx;
    g->suspect_ms = GOSSIP_DEFAULT_SUSPECT_MS;
    g->dead_ms = GOSSIP_DEFAULT_DEAD_MS;
    for (int i = 0; i < nnodes; i++) {
        struct member *m = &g->m[i];
        m->nlen = strnlen(nodes[i].name, GOSSIP_NAME_MAX);
        memcpy(m->name, nodes[i].name, m->nlen);
        m->name[m->nlen] = '\0';
        m->last_advance_ms = now_ms;
        m->state = GOSSIP_ALIVE;
    }
    g->m[self_idx].generation = generation;
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

void gossip_on_change(struct gossip *g, gossip_change_fn fn, void *arg)
{
    g->on_change = fn;
    g->on_change_arg = arg;
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
    }
}

/* Uniform over the nmembers - 1 others; the modulo bias is below
 * CFG_MAX_NODES / 2^32, far beneath anything gossip could notice. */
int gossip_pick(const struct gossip *g, uint32_t rnd)
{
    int others = g->nmembers - 1;
    if (others <= 0)
        return -1;
    int k = (int)(rnd % (uint32_t)others);
    return k < g->self ? k : k + 1;
}

void gossip_encode(const struct gossip *g, struct buf *out)
{
    buf_reserve(out, 10 + (size_t)g->nmembers * GOSSIP_MAX_ROW_BYTES);
    uint8_t *p = (uint8_t *)out->data + out->len;
    size_t k = varint_put(p, (uint64_t)g->nmembers);
    for (int i = 0; i < g->nmembers; i++) {
        const struct member *m = &g->m[i];
        p[k++] = (uint8_t)m->nlen;
        memcpy(p + k, m->name, m->nlen);
        k += m->nlen;
        k += varint_put(p + k, m->generation);
        k += varint_put(p + k, m->heartbeat);
    }
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
                       struct row rows[GOSSIP_MAX_ROWS])
{
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
        rows[i].member = find_member(g, p + pos, nlen);
        pos += nlen;
        if (!varint_get(p, len, &pos, &rows[i].generation) ||
            !varint_get(p, len, &pos, &rows[i].heartbeat))
            return KV_EPROTO;
    }
    if (pos != len)
        return KV_EPROTO;
    return (int)n;
}

int gossip_merge(struct gossip *g, const void *ptr, size_t len, int64_t now_ms)
{
    struct row rows[GOSSIP_MAX_ROWS];
    int n = parse_table(g, ptr, len, rows);
    if (n < 0)
        return n;
    /* Pass 2: apply.  Counts members, not rows, so a table naming a member
     * twice still reports each advance once. */
    uint64_t seen = 0;
    int advanced = 0;
    for (int i = 0; i < n; i++) {
        int idx = rows[i].member;
        if (idx < 0 || idx == g->self)
            continue; /* unknown name, or a claim about us (see the top comment) */
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

int64_t gossip_silence_ms(const struct gossip *g, int idx, int64_t now_ms)
{
    assert(idx >= 0 && idx < g->nmembers);
    if (idx < 0 || idx >= g->nmembers)
        return 0;
    return now_ms - g->m[idx].last_advance_ms;
}
