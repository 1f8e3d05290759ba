/* cmd_elems.c — the walks over a key's elements that the hash, set and
 * sorted-set commands share: one SCAN step (HSCAN, SSCAN, ZSCAN: cursor
 * and options parsed as Redis parses them, crdt_scan's reverse-binary
 * cursor, MATCH, the [cursor, items] reply) and the generator state of
 * their random picks (crdt_pick) and the checks of their arguments, and
 * the observed remove of named
 * members (HDEL, SREM, ZREM, SPOP, ZPOP*, ZREMRANGEBY*).  The per-type
 * part of a scan is only how an element prints (elems_put_fn).
 *
 * Owns: nothing beyond one call.  Callers: cmd_hash.c, cmd_set.c,
 * cmd_zset.c, cmd_zset_pick.c, cmd_zset_range.c.  A step visits at most 10 x COUNT buckets of the
 * table (core/crdt_iter.c); nothing blocks.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd_elems.h"
#include "cmd/pscan.h"
#include "core/config.h"
#include "core/resp.h"

bool elems_remove(struct typed_call *t, const char *m, size_t mlen)
{
    const struct crdt_elem *el = t->state ? crdt_find(t->state, m, mlen) : NULL;
    if (!el || el->n == 0)
        return false; /* nothing observed: no operation, no delta */
    struct crdt d;
    bool existed = false;
    crdt_remove(typed_mut(t), t->actor, m, mlen, &d, &existed);
    typed_took(t, &d);
    return existed;
}

void elems_remove_args_fn(struct typed_call *t)
{
    long long removed = 0;
    for (int i = 2; i < t->argc; i++)
        removed += elems_remove(t, t->argv[i].p, t->argv[i].len);
    resp_add_int(&t->reply, removed);
}

bool elems_rand_args(struct client *c, int argc, const struct arg *argv, const char *with,
                     long long max_repeat)
{
    if (!with && argc > 3) {
        cmd_reply_syntax(c);
        return false;
    }
    if (argc < 3)
        return true;
    long long l;
    if (!cmd_arg_ll(&argv[2], &l)) {
        cmd_reply_not_int(c);
        return false;
    }
    if (l == LLONG_MIN) {
        cmd_reply_err(c, "value is out of range, value must between -9223372036854775807 and "
                         "9223372036854775807");
        return false;
    }
    if (with && (argc > 4 || (argc == 4 && !cmd_arg_eq(&argv[3], with)))) {
        cmd_reply_syntax(c);
        return false;
    }
    if (argc == 4 && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
        cmd_reply_err(c, "value is out of range");
        return false;
    }
    if (max_repeat && l < -max_repeat) {
        resp_add_errorf(&c->out, "ERR",
                        "count is out of range: at most %lld members with repetition",
                        max_repeat);
        return false;
    }
    return true;
}

bool elems_pop_args(struct client *c, int argc, const struct arg *argv)
{
    long long count;
    if (argc > 3) {
        cmd_reply_syntax(c);
        return false;
    }
    if (argc == 3 && (!cmd_arg_ll(&argv[2], &count) || count < 0)) {
        cmd_reply_err(c, "value is out of range, must be positive");
        return false;
    }
    return true;
}

uint64_t elems_rng(void)
{
    return (uint64_t)random() << 33 ^ (uint64_t)random() << 11 ^ (uint64_t)random();
}

/* Redis's parseScanCursorOrReply: strtoul over the whole text, so "-1"
 * is 2^64 - 1, "+5" is 5 and "" is 0; no leading space, no overflow. */
static bool parse_cursor(const struct arg *a, uint64_t *out)
{
    char tmp[32];
    if (a->len >= sizeof(tmp))
        return false;
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    if (tmp[0] == ' ' || (tmp[0] >= '\t' && tmp[0] <= '\r'))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(tmp, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return false;
    *out = v;
    return true;
}

void elems_scan_cmd(struct client *c, int argc, const struct arg *argv, enum crdt_type type,
                    typed_fn fn)
{
    uint64_t cursor;
    if (!parse_cursor(&argv[2], &cursor)) {
        cmd_reply_err(c, "invalid cursor");
        return;
    }
    cmd_typed(c, argc, argv, &argv[1], type, TYPED_READ, NULL, 0, fn);
}

struct scan_walk {
    const struct arg *pat; /* NULL: every element */
    elems_put_fn put;
    void *arg;
    struct buf items;
    long long n; /* bulk strings in items */
    int err;     /* put's first error */
};

static bool scan_one(const struct crdt_elem *el, void *arg)
{
    struct scan_walk *w = arg;
    if (w->err || (w->pat && !cfg_glob_match(w->pat->p, w->pat->len, crdt_elem_key(el),
                                             el->klen, false)))
        return true;
    int added = w->put(&w->items, el, w->arg);
    if (added < 0)
        w->err = added;
    else
        w->n += added;
    return true;
}

int elems_scan(struct typed_call *t, elems_put_fn put, void *arg)
{
    uint64_t cursor = 0;
    parse_cursor(&t->argv[2], &cursor); /* the handler checked it */
    if (!t->state || crdt_count(t->state) == 0) {
        resp_add_array(&t->reply, 2);
        resp_add_bulk(&t->reply, "0", 1);
        resp_add_array(&t->reply, 0);
        return 0;
    }
    struct scan_walk w = {.pat = NULL, .put = put, .arg = arg, .n = 0, .err = 0};
    long long count = 10;
    for (int i = 3; i < t->argc; i += 2) {
        bool pair = t->argc - i >= 2;
        if (pair && cmd_arg_eq(&t->argv[i], "count")) {
            if (!cmd_arg_ll(&t->argv[i + 1], &count)) {
                resp_add_error(&t->reply, "ERR", "value is not an integer or out of range");
                return 0;
            }
            if (count < 1) {
                resp_add_error(&t->reply, "ERR", "syntax error");
                return 0;
            }
        } else if (pair && cmd_arg_eq(&t->argv[i], "match")) {
            const struct arg *p = &t->argv[i + 1];
            w.pat = p->len == 1 && p->p[0] == '*' ? NULL : p;
        } else {
            resp_add_error(&t->reply, "ERR", "syntax error");
            return 0;
        }
    }
    buf_init(&w.items);
    uint64_t next = crdt_scan(t->state, cursor, (size_t)count, scan_one, &w);
    if (!w.err) {
        resp_add_array(&t->reply, 2);
        pscan_add_u64_bulk(&t->reply, next);
        resp_add_array(&t->reply, w.n);
        if (w.items.len)
            buf_put(&t->reply, w.items.data, w.items.len);
    }
    buf_fini(&w.items);
    return w.err;
}
