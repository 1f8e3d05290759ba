/* cmd_set.c — the Redis set commands over the add-wins set (issue 14):
 * SADD, SREM, SMEMBERS, SISMEMBER, SMISMEMBER, SCARD, SPOP, SRANDMEMBER,
 * SMOVE, SSCAN, the command table (cmd_set_table), OBJECT ENCODING's name
 * for a set (cmd_set_encoding), and set_typed_to (one cmd_typed step of a
 * multi-step command, its reply redirected: SMOVE, the STORE forms).  The
 * set algebra (SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD) is in
 * cmd_set_algebra.c.
 *
 * Every command runs through the typed-key framework (typed.h): the
 * handler answers argument errors (as Redis orders them), then cmd_typed
 * runs the command's fn at the key's coordinator with the key's state, a
 * CRDT_SET (core/crdt.h).  Writes change the state only through crdt
 * operations whose deltas go to typed_took.
 *
 * Semantics where the convergent model differs from Redis (README "Data
 * types", sets):
 *   - SADD always mints a new dot for each member, also one already there
 *     (the reply still counts only new members): a SREM or SPOP of the
 *     member elsewhere that did not see this SADD cannot remove it
 *     (add-wins).
 *   - SREM and SPOP remove the entries of the member this coordinator has
 *     seen (observed remove): a concurrent SADD of the same member through
 *     another coordinator (a partition) survives the merge, so a popped
 *     member can come back.
 *   - SMOVE is two writes: SREM-like removal from the source at the
 *     source's coordinator (cmd_typed, which also type-checks the
 *     destination), then, when a member was removed, `SADD dst member` as
 *     an internal command (defer_call, as RENAME/COPY write their
 *     destination) at the destination's coordinator.  Not atomic across
 *     the two keys: a reader can see the member in neither set between the
 *     steps, and if the second write fails the member is gone from both
 *     (the error says so).  A missing source whose destination has the
 *     wrong type answers WRONGTYPE (Redis answers 0: it looks the source
 *     up first).
 *   - SSCAN's cursor is a slot index of the state's element table: a full
 *     scan returns every member present for the whole scan at least once
 *     while the table does not grow; a table that grows (members added
 *     during the scan) can move members behind the cursor.  COUNT bounds
 *     the slots visited (10 x COUNT, as Redis bounds buckets).
 *
 * Performance: SADD, SREM, SISMEMBER, SMISMEMBER, SCARD and SMOVE touch
 * only the members named (O(1) each, crdt_find); SPOP and SRANDMEMBER
 * without count pick random table slots until one holds a member
 * (uniform; slots / members draws expected); with a count, O(count) such
 * picks, or O(size) when count is a third of the set or more (and for a
 * negative count whose draws would visit more slots than the table has).
 *
 * Owns: SMOVE's state between its steps (struct smove, a deferred reply).
 * Callers: cmd.c (cmd_set_table), cmd_object.c (cmd_set_encoding),
 * cmd_set_algebra.c (set_typed_to, set_has, set_add_member).  fn callbacks
 * run in event-loop callbacks at the coordinator and never block.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_set_priv.h"
#include "cmd/defer.h"
#include "cmd/node.h"
#include "cmd/pscan.h"
#include "cmd/typed.h"
#include "core/config.h"
#include "core/crdt.h"
#include "core/resp.h"
#include "util/buf.h"
#include "util/mem.h"

/* Error texts, worded as Redis 7 words them (without "ERR "). */
static const char SET_ERR_POSITIVE[] = "value is out of range, must be positive";
static const char SET_ERR_RANGE[] =
    "value is out of range, value must between -9223372036854775807 and 9223372036854775807";

/* Longest reply SRANDMEMBER with a negative count builds (members may
 * repeat, so the set's size does not bound it): a larger count is refused
 * rather than exhausting memory. */
#define SET_MAX_REPEAT (1LL << 24)

/* ---- helpers shared with cmd_set_algebra.c ---- */

bool set_has(const struct crdt *s, const void *m, size_t mlen)
{
    if (!s)
        return false;
    const struct crdt_elem *el = crdt_find(s, m, mlen);
    return el && el->n > 0;
}

void set_add_member(struct buf *b, const struct crdt_elem *el)
{
    resp_add_bulk(b, crdt_elem_key(el), el->klen);
}

/* ---- OBJECT ENCODING ---- */

static bool int_member(const struct crdt_elem *el, void *arg)
{
    long long ignored;
    struct arg a = {crdt_elem_key(el), el->klen};
    bool *all = arg;
    *all = cmd_arg_ll(&a, &ignored);
    return *all;
}

const char *cmd_set_encoding(const struct crdt *s, long long max_intset)
{
    bool all = true;
    if (crdt_count(s) > (unsigned long long)max_intset)
        return "hashtable";
    crdt_each(s, int_member, &all);
    return all ? "intset" : "hashtable";
}

/* ---- random members ---- */

static uint64_t rnd(void)
{
    return ((uint64_t)random() << 31) ^ (uint64_t)random();
}

/* A uniformly random member of s (which has members): random slots until
 * one holds an element (rejection sampling: uniform, expected slots /
 * members draws, more in a table left sparse by removals; the table never
 * shrinks). */
static const struct crdt_elem *random_elem(const struct crdt *s)
{
    for (;;) {
        const struct crdt_elem *el = s->slot[rnd() & s->mask];
        if (el && el->n > 0)
            return el;
    }
}

static bool collect_elem(const struct crdt_elem *el, void *arg)
{
    const struct crdt_elem ***p = arg;
    *(*p)++ = el;
    return true;
}

/* count distinct random members of s (0 < count < size), in out
 * (count slots): a partial shuffle of all members when count is a third of
 * the set or more, else random draws with a set of the ones taken. */
static void random_distinct(const struct crdt *s, uint32_t count, const struct crdt_elem **out)
{
    uint32_t size = crdt_count(s);
    if ((uint64_t)count * 3 > size) {
        const struct crdt_elem **all = mem_alloc((size_t)size * sizeof(*all));
        const struct crdt_elem **p = all;
        crdt_each(s, collect_elem, &p);
        for (uint32_t i = 0; i < count; i++) {
            uint32_t j = i + (uint32_t)(rnd() % (size - i));
            const struct crdt_elem *tmp = all[i];
            all[i] = all[j];
            all[j] = tmp;
        }
        memcpy(out, all, (size_t)count * sizeof(*out));
        mem_free(all);
        return;
    }
    /* open addressing over the chosen pointers, load <= 1/2 */
    uint32_t cap = 4;
    while (cap < count * 2u)
        cap *= 2;
    const struct crdt_elem **seen = mem_calloc(cap, sizeof(*seen));
    uint32_t n = 0;
    while (n < count) {
        const struct crdt_elem *el = random_elem(s);
        uint32_t i = (uint32_t)(((uintptr_t)el >> 4) * 0x9E3779B1u) & (cap - 1);
        while (seen[i] && seen[i] != el)
            i = (i + 1) & (cap - 1);
        if (seen[i])
            continue;
        seen[i] = el;
        out[n++] = el;
    }
    mem_free(seen);
}

/* ---- a step of a multi-step command ---- */

void set_typed_to(struct client *c, defer_call_fn done, void *arg, int argc,
                  const struct arg *argv, const struct arg *key, unsigned flags,
                  const struct arg *srcs, int nsrc, typed_fn fn)
{
    /* the command's deferred reply takes the redirect (as BITOP's reads) */
    struct defer_to to = {.done = done, .arg = arg, .taken = false};
    struct defer_to *outer = c->defer_to;
    size_t before = c->out.len;
    c->defer_to = &to;
    cmd_typed(c, argc, argv, key, CRDT_SET, flags, srcs, nsrc, fn);
    c->defer_to = outer;
    if (!to.taken) { /* answered at once, into c->out: take it back */
        size_t n = c->out.len - before;
        char *r = mem_memdup(c->out.data + before, n ? n : 1);
        c->out.len = before;
        done(arg, r, n);
        mem_free(r);
    }
}

/* ---- SADD key member [member ...] ---- */

static void sadd_fn(struct typed_call *t)
{
    struct crdt *s = typed_mut(t);
    long long added = 0;
    for (int i = 2; i < t->argc; i++) {
        struct crdt d;
        bool was_added = false;
        crdt_set_add(s, t->actor, t->argv[i].p, t->argv[i].len, &d, &was_added);
        typed_took(t, &d);
        added += was_added;
    }
    resp_add_int(&t->reply, added);
}

static void cmd_sadd(struct client *c, int argc, const struct arg *argv)
{
    for (int i = 2; i < argc; i++) {
        if (argv[i].len > UINT32_MAX) { /* what an element's length holds */
            cmd_reply_err(c, "string exceeds maximum allowed size (4 GB for a set member)");
            return;
        }
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE, NULL, 0, sadd_fn);
}

/* ---- SREM key member [member ...] ---- */

static void srem_fn(struct typed_call *t)
{
    long long removed = 0;
    for (int i = 2; t->state && i < t->argc; i++) {
        if (!set_has(t->state, t->argv[i].p, t->argv[i].len))
            continue; /* nothing observed: no operation, no delta */
        struct crdt d;
        bool existed = false;
        crdt_remove(typed_mut(t), t->actor, t->argv[i].p, t->argv[i].len, &d, &existed);
        typed_took(t, &d);
        removed += existed;
    }
    resp_add_int(&t->reply, removed);
}

static void cmd_srem(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              srem_fn);
}

/* ---- SMEMBERS, SISMEMBER, SMISMEMBER, SCARD ---- */

static bool add_elem(const struct crdt_elem *el, void *arg)
{
    set_add_member(arg, el);
    return true;
}

static void smembers_fn(struct typed_call *t)
{
    uint32_t n = t->state ? crdt_count(t->state) : 0;
    resp_add_set(&t->reply, t->proto, n);
    if (n)
        crdt_each(t->state, add_elem, &t->reply);
}

static void cmd_smembers(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, smembers_fn);
}

static void sismember_fn(struct typed_call *t)
{
    resp_add_int(&t->reply, set_has(t->state, t->argv[2].p, t->argv[2].len));
}

static void cmd_sismember(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, sismember_fn);
}

static void smismember_fn(struct typed_call *t)
{
    resp_add_array(&t->reply, t->argc - 2);
    for (int i = 2; i < t->argc; i++)
        resp_add_int(&t->reply, set_has(t->state, t->argv[i].p, t->argv[i].len));
}

static void cmd_smismember(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, smismember_fn);
}

static void scard_fn(struct typed_call *t)
{
    resp_add_int(&t->reply, t->state ? crdt_count(t->state) : 0);
}

static void cmd_scard(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, scard_fn);
}

/* ---- SPOP key [count] ---- */

/* Removes member el (observed remove) from the state; el's key is copied
 * first since the removal frees el. */
static void pop_one(struct typed_call *t, const struct crdt_elem *el, struct buf *scratch)
{
    scratch->len = 0;
    buf_put(scratch, crdt_elem_key(el), el->klen);
    struct crdt d;
    crdt_remove(typed_mut(t), t->actor, scratch->data ? scratch->data : "", el->klen, &d, NULL);
    typed_took(t, &d);
}

static void spop_fn(struct typed_call *t)
{
    uint32_t size = t->state ? crdt_count(t->state) : 0;
    struct buf scratch;
    buf_init(&scratch);
    if (t->argc == 2) {
        if (!size) {
            resp_add_null(&t->reply, t->proto);
            return;
        }
        const struct crdt_elem *el = random_elem(t->state);
        set_add_member(&t->reply, el);
        pop_one(t, el, &scratch);
        buf_fini(&scratch);
        return;
    }
    long long count;
    cmd_arg_ll(&t->argv[2], &count); /* checked by the handler */
    if (!size || count == 0) {
        resp_add_set(&t->reply, t->proto, 0);
        return;
    }
    if ((unsigned long long)count >= size) { /* every member: clear */
        resp_add_set(&t->reply, t->proto, size);
        crdt_each(t->state, add_elem, &t->reply);
        struct crdt d;
        crdt_clear(typed_mut(t), t->actor, &d);
        typed_took(t, &d);
        return;
    }
    const struct crdt_elem **pick = mem_alloc((size_t)count * sizeof(*pick));
    random_distinct(t->state, (uint32_t)count, pick);
    resp_add_set(&t->reply, t->proto, count);
    for (long long i = 0; i < count; i++)
        set_add_member(&t->reply, pick[i]);
    /* removing one member frees only that element: the others stay valid */
    for (long long i = 0; i < count; i++)
        pop_one(t, pick[i], &scratch);
    mem_free(pick);
    buf_fini(&scratch);
}

static void cmd_spop(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 3) {
        cmd_reply_syntax(c);
        return;
    }
    long long count;
    if (argc == 3 && (!cmd_arg_ll(&argv[2], &count) || count < 0)) {
        cmd_reply_err(c, SET_ERR_POSITIVE);
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              spop_fn);
}

/* ---- SRANDMEMBER key [count] ---- */

static void srandmember_fn(struct typed_call *t)
{
    uint32_t size = t->state ? crdt_count(t->state) : 0;
    if (t->argc == 2) {
        if (size)
            set_add_member(&t->reply, random_elem(t->state));
        else
            resp_add_null(&t->reply, t->proto);
        return;
    }
    long long l;
    cmd_arg_ll(&t->argv[2], &l); /* checked by the handler */
    if (!size || l == 0) {
        resp_add_array(&t->reply, 0);
        return;
    }
    if (l < 0 || l == 1) { /* with repetition (or one member): independent draws */
        long long n = l < 0 ? -l : l;
        resp_add_array(&t->reply, n);
        const struct crdt *s = t->state;
        /* n draws visit about n x slots / size slots: up to n = size that is
         * no more than indexing the members (a walk of the slots) */
        if ((unsigned long long)n <= size) {
            while (n--)
                set_add_member(&t->reply, random_elem(s));
            return;
        }
        /* more draws than members: index the members once */
        const struct crdt_elem **all = mem_alloc((size_t)size * sizeof(*all));
        const struct crdt_elem **p = all;
        crdt_each(s, collect_elem, &p);
        while (n--)
            set_add_member(&t->reply, all[rnd() % size]);
        mem_free(all);
        return;
    }
    if ((unsigned long long)l >= size) {
        resp_add_array(&t->reply, size);
        crdt_each(t->state, add_elem, &t->reply);
        return;
    }
    const struct crdt_elem **pick = mem_alloc((size_t)l * sizeof(*pick));
    random_distinct(t->state, (uint32_t)l, pick);
    resp_add_array(&t->reply, l);
    for (long long i = 0; i < l; i++)
        set_add_member(&t->reply, pick[i]);
    mem_free(pick);
}

static void cmd_srandmember(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 3) {
        cmd_reply_syntax(c);
        return;
    }
    long long l;
    if (argc == 3) {
        if (!cmd_arg_ll(&argv[2], &l)) {
            cmd_reply_not_int(c);
            return;
        }
        if (l == LLONG_MIN) {
            cmd_reply_err(c, SET_ERR_RANGE);
            return;
        }
        if (l < -SET_MAX_REPEAT) {
            resp_add_errorf(&c->out, "ERR",
                            "count is out of range: at most %lld members with repetition",
                            SET_MAX_REPEAT);
            return;
        }
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, srandmember_fn);
}

/* ---- SMOVE source destination member ----
 * Step 1 (smove_fn, at the source's coordinator, the destination read for
 * its type): removes the member from the source and answers SMOVE_ADD, an
 * internal reply that never reaches a client; every other reply (0, 1 for
 * source == destination, errors) is final.  Step 2: `SADD dst member`
 * through defer_call.  When the source's coordinator is another node, the
 * whole SMOVE runs there (both steps) and its final reply comes back. */

static const char SMOVE_ADD[] = "+SMOVE-ADD\r\n";

struct smove {
    struct defer k;
    char *dst;
    size_t dlen;
    char *member;
    size_t mlen;
};

static void smove_fini(struct defer *k)
{
    struct smove *m = (struct smove *)k;
    mem_free(m->dst);
    mem_free(m->member);
}

static void smove_fn(struct typed_call *t)
{
    const struct arg *src = &t->argv[1], *dst = &t->argv[2], *mem = &t->argv[3];
    bool has = set_has(t->state, mem->p, mem->len);
    if (!has || (src->len == dst->len && memcmp(src->p, dst->p, src->len) == 0)) {
        resp_add_int(&t->reply, has); /* the same key: a no-op, as in Redis */
        return;
    }
    struct crdt d;
    crdt_remove(typed_mut(t), t->actor, mem->p, mem->len, &d, NULL);
    typed_took(t, &d);
    buf_put(&t->reply, SMOVE_ADD, sizeof(SMOVE_ADD) - 1);
}

static void smove_add_done(void *arg, const char *reply, size_t len)
{
    struct smove *m = arg;
    if (len > 0 && reply[0] == '-') {
        size_t blen = len >= 3 ? len - 3 : 0; /* "-CODE text\r\n" */
        resp_add_errorf(&m->k.out, "ERR",
                        "SMOVE removed the member from the source but could not add it to "
                        "the destination: %.*s",
                        (int)blen, reply + 1);
    } else {
        resp_add_int(&m->k.out, 1);
    }
    defer_release(&m->k);
}

static void smove_src_done(void *arg, const char *reply, size_t len)
{
    struct smove *m = arg;
    if (len != sizeof(SMOVE_ADD) - 1 || memcmp(reply, SMOVE_ADD, len) != 0) {
        buf_put(&m->k.out, reply, len);
        defer_release(&m->k);
        return;
    }
    struct arg argv[3] = {{"SADD", 4}, {m->dst, m->dlen}, {m->member, m->mlen}};
    defer_call(m->k.node, 3, argv, smove_add_done, m);
}

static void cmd_smove(struct client *c, int argc, const struct arg *argv)
{
    struct smove *m = defer_create(sizeof(*m), c, NULL, smove_fini);
    m->dst = mem_memdup(argv[2].p, argv[2].len);
    m->dlen = argv[2].len;
    m->member = mem_memdup(argv[3].p, argv[3].len);
    m->mlen = argv[3].len;
    defer_hold_open(&m->k); /* until the last step answered */
    set_typed_to(c, smove_src_done, m, argc, argv, &argv[1], TYPED_WRITE | TYPED_NOCREATE,
                 &argv[2], 1, smove_fn);
    defer_dispatched(&m->k, c);
}

/* ---- SSCAN key cursor [MATCH pattern] [COUNT count] ---- */

static void sscan_fn(struct typed_call *t)
{
    /* options are checked after the key's type and only when it exists, as
     * Redis checks them */
    if (!t->state) {
        resp_add_array(&t->reply, 2);
        resp_add_bulk(&t->reply, "0", 1);
        resp_add_array(&t->reply, 0);
        return;
    }
    long long count = 10;
    const struct arg *pat = NULL;
    for (int i = 3; i < t->argc; i += 2) {
        if (i + 1 >= t->argc) {
            resp_add_error(&t->reply, "ERR", "syntax error");
            return;
        }
        if (cmd_arg_eq(&t->argv[i], "count")) {
            if (!cmd_arg_ll(&t->argv[i + 1], &count)) {
                resp_add_error(&t->reply, "ERR", "value is not an integer or out of range");
                return;
            }
            if (count < 1) {
                resp_add_error(&t->reply, "ERR", "syntax error");
                return;
            }
        } else if (cmd_arg_eq(&t->argv[i], "match")) {
            pat = &t->argv[i + 1];
            if (pat->len == 1 && pat->p[0] == '*')
                pat = NULL;
        } else {
            resp_add_error(&t->reply, "ERR", "syntax error");
            return;
        }
    }
    uint64_t cursor;
    pscan_parse_u64(t->argv[2].p, t->argv[2].len, &cursor); /* checked by the handler */
    const struct crdt *s = t->state;
    struct buf items;
    buf_init(&items);
    long long n = 0;
    uint64_t next = 0;
    if (s && s->slot && cursor <= s->mask) {
        uint64_t budget = (uint64_t)count * 10;
        uint64_t i = cursor;
        for (; i <= s->mask && n < count && budget > 0; i++, budget--) {
            const struct crdt_elem *el = s->slot[i];
            if (!el || el->n == 0)
                continue;
            if (pat && !cfg_glob_match(pat->p, pat->len, crdt_elem_key(el), el->klen, false))
                continue;
            set_add_member(&items, el);
            n++;
        }
        next = i > s->mask ? 0 : i;
    }
    resp_add_array(&t->reply, 2);
    pscan_add_u64_bulk(&t->reply, next);
    resp_add_array(&t->reply, n);
    buf_put(&t->reply, items.data, items.len);
    buf_fini(&items);
}

static void cmd_sscan(struct client *c, int argc, const struct arg *argv)
{
    uint64_t cursor;
    if (!pscan_parse_u64(argv[2].p, argv[2].len, &cursor)) {
        cmd_reply_err(c, "invalid cursor");
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_READ, NULL, 0, sscan_fn);
}

/* ---- the table (arity, flags, key positions and since as Redis 7) ---- */

#define SET_WRITE_FAST (CMD_F_WRITE | CMD_F_FAST)
#define SET_READ_FAST (CMD_F_READONLY | CMD_F_FAST)

const struct cmd_def cmd_set_table[] = {
    {"sadd", -3, SET_WRITE_FAST, 1, 1, 1, cmd_sadd, "set",
     "Adds one or more members to a set. Creates the key if it doesn't exist.",
     "key member+", "1.0.0"},
    {"srem", -3, SET_WRITE_FAST, 1, 1, 1, cmd_srem, "set",
     "Removes one or more members from a set (those this coordinator has seen). Deletes the "
     "set if the last member was removed.",
     "key member+", "1.0.0"},
    {"smembers", 2, CMD_F_READONLY, 1, 1, 1, cmd_smembers, "set",
     "Returns all members of a set.", "key", "1.0.0"},
    {"sismember", 3, SET_READ_FAST, 1, 1, 1, cmd_sismember, "set",
     "Determines whether a member belongs to a set.", "key member", "1.0.0"},
    {"smismember", -3, SET_READ_FAST, 1, 1, 1, cmd_smismember, "set",
     "Determines whether multiple members belong to a set.", "key member+", "6.2.0"},
    {"scard", 2, SET_READ_FAST, 1, 1, 1, cmd_scard, "set",
     "Returns the number of members in a set.", "key", "1.0.0"},
    {"spop", -2, SET_WRITE_FAST, 1, 1, 1, cmd_spop, "set",
     "Returns one or more random members from a set after removing them. Deletes the set if "
     "the last member was popped.",
     "key count?", "1.0.0"},
    {"srandmember", -2, CMD_F_READONLY, 1, 1, 1, cmd_srandmember, "set",
     "Get one or multiple random members from a set", "key count?", "1.0.0"},
    {"smove", 4, SET_WRITE_FAST, 1, 2, 1, cmd_smove, "set",
     "Moves a member from one set to another (two writes, not atomic across the keys).",
     "source destination member", "1.0.0"},
    {"sinter", -2, CMD_F_READONLY, 1, -1, 1, cmd_sinter, "set",
     "Returns the intersect of multiple sets.", "key+", "1.0.0"},
    {"sintercard", -3, CMD_F_READONLY, 0, 0, 0, cmd_sintercard, "set",
     "Returns the number of members of the intersect of multiple sets.",
     "numkeys key+ limit?(LIMIT limit)", "7.0.0"},
    {"sinterstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_sinterstore, "set",
     "Stores the intersect of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sunion", -2, CMD_F_READONLY, 1, -1, 1, cmd_sunion, "set",
     "Returns the union of multiple sets.", "key+", "1.0.0"},
    {"sunionstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_sunionstore, "set",
     "Stores the union of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sdiff", -2, CMD_F_READONLY, 1, -1, 1, cmd_sdiff, "set",
     "Returns the difference of multiple sets.", "key+", "1.0.0"},
    {"sdiffstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_sdiffstore, "set",
     "Stores the difference of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sscan", -3, CMD_F_READONLY, 1, 1, 1, cmd_sscan, "set",
     "Iterates over members of a set.", "key cursor pattern?(MATCH pattern) count?(COUNT count)",
     "2.8.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
