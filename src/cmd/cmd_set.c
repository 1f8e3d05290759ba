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
 *   - SSCAN's cursor is Redis's reverse-binary cursor over the state's
 *     element table (crdt_scan, shared with HSCAN and ZSCAN through
 *     cmd_elems.c): a full scan returns every member present for the
 *     whole scan at least once, also when the table grew or shrank
 *     between steps.  COUNT bounds the buckets visited (10 x COUNT).
 *
 * Performance: SADD, SREM, SISMEMBER, SMISMEMBER, SCARD and SMOVE touch
 * only the members named (O(1) each, crdt_find); SPOP and SRANDMEMBER
 * draw with crdt_pick (random table slots until one holds a member:
 * uniform, slots / members draws expected; O(size) once when the draws
 * would visit more slots than the table has).
 *
 * Owns: SMOVE's state between its steps (struct smove, a deferred reply).
 * Callers: cmd.c (cmd_set_table), cmd_object.c (cmd_set_encoding),
 * cmd_set_algebra.c (set_typed_to, set_has, set_add_member).  fn callbacks
 * run in event-loop callbacks at the coordinator and never block.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_elems.h"
#include "cmd/cmd_set_priv.h"
#include "cmd/defer.h"
#include "cmd/node.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "core/resp.h"
#include "util/buf.h"
#include "util/mem.h"

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

/* ---- random members (crdt_pick: uniform, also in a sparse table) ---- */

struct picks {
    const struct crdt_elem **el;
    uint64_t n;
};

static bool take_pick(const struct crdt_elem *el, void *arg)
{
    struct picks *p = arg;
    p->el[p->n++] = el;
    return true;
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

static void cmd_srem(struct client *c, int argc, const struct arg *argv)
{
    cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
              elems_remove_args_fn);
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

/* Removes member el (observed remove); el's key is copied first since
 * the removal frees el. */
static void pop_one(struct typed_call *t, const struct crdt_elem *el, struct buf *scratch)
{
    scratch->len = 0;
    buf_put(scratch, crdt_elem_key(el), el->klen);
    elems_remove(t, scratch->data ? scratch->data : "", el->klen);
}

static void spop_fn(struct typed_call *t)
{
    uint32_t size = t->state ? crdt_count(t->state) : 0;
    uint64_t rng = elems_rng();
    long long count = 1; /* without a count: one member, flat reply */
    if (t->argc == 3)
        cmd_arg_ll(&t->argv[2], &count); /* checked by the handler */
    if (!size || count == 0) {
        if (t->argc == 2)
            resp_add_null(&t->reply, t->proto);
        else
            resp_add_set(&t->reply, t->proto, 0);
        return;
    }
    if (t->argc == 3 && (unsigned long long)count >= size) { /* every member: clear */
        resp_add_set(&t->reply, t->proto, size);
        crdt_each(t->state, add_elem, &t->reply);
        struct crdt d;
        crdt_clear(typed_mut(t), t->actor, &d);
        typed_took(t, &d);
        return;
    }
    struct picks p = {mem_alloc((size_t)count * sizeof(*p.el)), 0};
    crdt_pick(t->state, (uint64_t)count, true, &rng, take_pick, &p);
    if (t->argc == 3)
        resp_add_set(&t->reply, t->proto, count);
    for (uint64_t i = 0; i < p.n; i++)
        set_add_member(&t->reply, p.el[i]);
    /* removing one member frees only that element: the others stay valid */
    struct buf scratch;
    buf_init(&scratch);
    for (uint64_t i = 0; i < p.n; i++)
        pop_one(t, p.el[i], &scratch);
    buf_fini(&scratch);
    mem_free(p.el);
}

static void cmd_spop(struct client *c, int argc, const struct arg *argv)
{
    if (elems_pop_args(c, argc, argv))
        cmd_typed(c, argc, argv, &argv[1], CRDT_SET, TYPED_WRITE | TYPED_NOCREATE, NULL, 0,
                  spop_fn);
}

/* ---- SRANDMEMBER key [count] ---- */

static void srandmember_fn(struct typed_call *t)
{
    uint32_t size = t->state ? crdt_count(t->state) : 0;
    uint64_t rng = elems_rng();
    if (t->argc == 2) {
        if (size)
            crdt_pick(t->state, 1, false, &rng, add_elem, &t->reply);
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
    /* negative: |l| independent draws; positive: distinct members */
    uint64_t n = l < 0 ? (uint64_t)-l : (uint64_t)l;
    if (l > 0 && n > size)
        n = size;
    resp_add_array(&t->reply, (long long)n);
    crdt_pick(t->state, n, l > 0, &rng, add_elem, &t->reply);
}

static void cmd_srandmember(struct client *c, int argc, const struct arg *argv)
{
    if (elems_rand_args(c, argc, argv, NULL, ELEMS_REPEAT_MAX))
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
    elems_remove(t, mem->p, mem->len);
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

static int scan_put(struct buf *items, const struct crdt_elem *el, void *arg)
{
    (void)arg;
    set_add_member(items, el);
    return 1;
}

static void sscan_fn(struct typed_call *t)
{
    elems_scan(t, scan_put, NULL);
}

static void cmd_sscan(struct client *c, int argc, const struct arg *argv)
{
    elems_scan_cmd(c, argc, argv, CRDT_SET, sscan_fn);
}

/* ---- the table (arity, flags, key positions and since as Redis 7) ---- */

const struct cmd_def cmd_set_table[] = {
    {"sadd", -3, CMD_F_WRITE_FAST, 1, 1, 1, cmd_sadd, "set",
     "Adds one or more members to a set. Creates the key if it doesn't exist.",
     "key member+", "1.0.0"},
    {"srem", -3, CMD_F_WRITE_FAST, 1, 1, 1, cmd_srem, "set",
     "Removes one or more members from a set (those this coordinator has seen). Deletes the "
     "set if the last member was removed.",
     "key member+", "1.0.0"},
    {"smembers", 2, CMD_F_READONLY, 1, 1, 1, cmd_smembers, "set",
     "Returns all members of a set.", "key", "1.0.0"},
    {"sismember", 3, CMD_F_READ_FAST, 1, 1, 1, cmd_sismember, "set",
     "Determines whether a member belongs to a set.", "key member", "1.0.0"},
    {"smismember", -3, CMD_F_READ_FAST, 1, 1, 1, cmd_smismember, "set",
     "Determines whether multiple members belong to a set.", "key member+", "6.2.0"},
    {"scard", 2, CMD_F_READ_FAST, 1, 1, 1, cmd_scard, "set",
     "Returns the number of members in a set.", "key", "1.0.0"},
    {"spop", -2, CMD_F_WRITE_FAST, 1, 1, 1, cmd_spop, "set",
     "Returns one or more random members from a set after removing them. Deletes the set if "
     "the last member was popped.",
     "key count?", "1.0.0"},
    {"srandmember", -2, CMD_F_READONLY, 1, 1, 1, cmd_srandmember, "set",
     "Get one or multiple random members from a set", "key count?", "1.0.0"},
    {"smove", 4, CMD_F_WRITE_FAST, 1, 2, 1, cmd_smove, "set",
     "Moves a member from one set to another (two writes, not atomic across the keys).",
     "source destination member", "1.0.0"},
    {"sinter", -2, CMD_F_READONLY, 1, -1, 1, cmd_salgebra, "set",
     "Returns the intersect of multiple sets.", "key+", "1.0.0"},
    {"sintercard", -3, CMD_F_READONLY, 0, 0, 0, cmd_sintercard, "set",
     "Returns the number of members of the intersect of multiple sets.",
     "numkeys key+ limit?(LIMIT limit)", "7.0.0"},
    {"sinterstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_salgebra_store, "set",
     "Stores the intersect of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sunion", -2, CMD_F_READONLY, 1, -1, 1, cmd_salgebra, "set",
     "Returns the union of multiple sets.", "key+", "1.0.0"},
    {"sunionstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_salgebra_store, "set",
     "Stores the union of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sdiff", -2, CMD_F_READONLY, 1, -1, 1, cmd_salgebra, "set",
     "Returns the difference of multiple sets.", "key+", "1.0.0"},
    {"sdiffstore", -3, CMD_F_WRITE, 1, -1, 1, cmd_salgebra_store, "set",
     "Stores the difference of multiple sets in a key.", "destination key+", "1.0.0"},
    {"sscan", -3, CMD_F_READONLY, 1, 1, 1, cmd_sscan, "set",
     "Iterates over members of a set.", "key cursor pattern?(MATCH pattern) count?(COUNT count)",
     "2.8.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
