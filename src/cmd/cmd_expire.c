/* cmd_expire.c — the expiry commands: EXPIRE, PEXPIRE, EXPIREAT,
 * PEXPIREAT (with NX|XX|GT|LT), PERSIST, and the reads TTL, PTTL,
 * EXPIRETIME, PEXPIRETIME.  Writes are read-modify-writes at the key's
 * coordinator (cmd_rmw) with the string family's parameters and helpers
 * (cmd_string_priv.h, defined in cmd_string.c); reads are quorum reads
 * (cmd_read).
 *
 * Invariants (as for cmd_string.c):
 *   - Every argument error is answered by the handler, in the order Redis 7
 *     checks them (options first, then the time), before anything is read
 *     or forwarded.
 *   - decide() writes nothing (CMD_RMW_NONE) when the key would not change
 *     (PERSIST without a TTL, EXPIRE NX on a key with one, the same time
 *     again), so such commands cost no write quorum.
 *   - A key with siblings is refused with the error GET gives.
 *   - Expiry times are absolute unix ms; 0 means none and is never stored as
 *     a time: a time at or before now deletes the key instead.
 *
 * Callers: cmd.c dispatches through cmd_expire_table.  decide() and fmt()
 * run in event-loop callbacks and never block.
 */
#include <limits.h>
#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/cmd_string_priv.h"
#include "core/resp.h"
#include "core/siblings.h"
#include "util/clock.h"
#include "util/val.h"

/* ---- EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT] ---- */

static void expire_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                          struct cmd_rmw_out *out)
{
    (void)proto;
    const struct str_params *p = arg;
    const struct version *live;
    bool typed;
    if (!cmd_rmw_current_any(cur, now, out, &live, &typed))
        return;
    if (!live) {
        resp_add_int(&out->reply, 0);
        return;
    }
    /* Redis's view: no TTL is -1, an infinite TTL for GT and LT */
    int64_t ttl = live->expire_ms ? live->expire_ms : -1;
    int64_t when = p->when_ms;
    if (((p->opts & STR_O_NX) && ttl != -1) || ((p->opts & STR_O_XX) && ttl == -1) ||
        ((p->opts & STR_O_GT) && (ttl == -1 || when <= ttl)) ||
        ((p->opts & STR_O_LT) && ttl != -1 && when >= ttl)) {
        resp_add_int(&out->reply, 0);
        return;
    }
    resp_add_int(&out->reply, 1);
    if (when <= now) {
        out->action = CMD_RMW_DELETE;
    } else if (when != live->expire_ms && typed) {
        out->action = CMD_RMW_EXPIRE;
        out->expire_ms = when;
    } else if (when != live->expire_ms) {
        str_write_val(out, val_ref(live->val), when);
    }
}

/* Options first, then the time, as Redis checks them. */
static void expire_common(struct client *c, int argc, const struct arg *argv, bool secs,
                          bool relative, const char *cmd)
{
    unsigned opts = 0;
    for (int i = 3; i < argc; i++) {
        const struct arg *a = &argv[i];
        if (cmd_arg_eq(a, "NX")) {
            opts |= STR_O_NX;
        } else if (cmd_arg_eq(a, "XX")) {
            opts |= STR_O_XX;
        } else if (cmd_arg_eq(a, "GT")) {
            opts |= STR_O_GT;
        } else if (cmd_arg_eq(a, "LT")) {
            opts |= STR_O_LT;
        } else {
            resp_add_errorf(&c->out, "ERR", "Unsupported option %.*s",
                            (int)(a->len > 128 ? 128 : a->len), a->p);
            return;
        }
    }
    if ((opts & STR_O_NX) && (opts & (STR_O_XX | STR_O_GT | STR_O_LT))) {
        cmd_reply_err(c, "NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((opts & STR_O_GT) && (opts & STR_O_LT)) {
        cmd_reply_err(c, "GT and LT options at the same time are not compatible");
        return;
    }
    long long when;
    if (!cmd_arg_ll(&argv[2], &when)) {
        cmd_reply_not_int(c);
        return;
    }
    /* Negative times are allowed (they delete); only overflow is refused. */
    long long base = relative ? clock_now_ms() : 0;
    if ((secs && (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000)) ||
        (secs ? when * 1000 : when) > LLONG_MAX - base) {
        resp_add_errorf(&c->out, "ERR", "invalid expire time in '%s' command", cmd);
        return;
    }
    struct str_params *p = str_params_new(c, NULL);
    p->when_ms = (secs ? when * 1000 : when) + base;
    p->opts = opts;
    cmd_rmw(c, argc, argv, &argv[1], expire_decide, p, str_params_free);
}

static void cmd_expire(struct client *c, int argc, const struct arg *argv)
{
    expire_common(c, argc, argv, true, true, "expire");
}

static void cmd_pexpire(struct client *c, int argc, const struct arg *argv)
{
    expire_common(c, argc, argv, false, true, "pexpire");
}

static void cmd_expireat(struct client *c, int argc, const struct arg *argv)
{
    expire_common(c, argc, argv, true, false, "expireat");
}

static void cmd_pexpireat(struct client *c, int argc, const struct arg *argv)
{
    expire_common(c, argc, argv, false, false, "pexpireat");
}

/* ---- PERSIST key ---- */

static void persist_decide(void *arg, const struct sibset *cur, int64_t now, int proto,
                           struct cmd_rmw_out *out)
{
    (void)arg;
    (void)proto;
    const struct version *live;
    bool typed;
    if (!cmd_rmw_current_any(cur, now, out, &live, &typed))
        return;
    if (!live || live->expire_ms == 0) {
        resp_add_int(&out->reply, 0);
        return;
    }
    resp_add_int(&out->reply, 1);
    if (typed) {
        out->action = CMD_RMW_EXPIRE;
        out->expire_ms = 0;
    } else {
        str_write_val(out, val_ref(live->val), 0);
    }
}

static void cmd_persist(struct client *c, int argc, const struct arg *argv)
{
    cmd_rmw(c, argc, argv, &argv[1], persist_decide, NULL, NULL);
}

/* -2 missing, -1 no expiry; else the remaining time (ms, or seconds
 * rounded to nearest as Redis rounds) or the absolute time. */
static void ttl_reply(const struct sibset *set, int64_t now, struct buf *out, bool ms, bool abs)
{
    const struct version *live;
    struct cmd_rmw_out o = {.action = CMD_RMW_NONE, .val = NULL, .expire_ms = 0, .reply = *out};
    bool ok = cmd_rmw_current_any(set, now, &o, &live, NULL); /* any type has a TTL */
    *out = o.reply;
    if (!ok)
        return;
    if (!live) {
        resp_add_int(out, -2);
        return;
    }
    if (live->expire_ms == 0) {
        resp_add_int(out, -1);
        return;
    }
    long long t = abs ? live->expire_ms : live->expire_ms - now;
    if (t < 0)
        t = 0;
    resp_add_int(out, ms ? t : (t + 500) / 1000);
}

static void ttl_fmt(void *arg, const struct sibset *set, int64_t now, int proto, struct buf *out)
{
    (void)arg;
    (void)proto;
    ttl_reply(set, now, out, false, false);
}

static void pttl_fmt(void *arg, const struct sibset *set, int64_t now, int proto, struct buf *out)
{
    (void)arg;
    (void)proto;
    ttl_reply(set, now, out, true, false);
}

static void expiretime_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                           struct buf *out)
{
    (void)arg;
    (void)proto;
    ttl_reply(set, now, out, false, true);
}

static void pexpiretime_fmt(void *arg, const struct sibset *set, int64_t now, int proto,
                            struct buf *out)
{
    (void)arg;
    (void)proto;
    ttl_reply(set, now, out, true, true);
}

static void cmd_ttl(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    cmd_read(c, &argv[1], ttl_fmt, NULL, NULL);
}

static void cmd_pttl(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    cmd_read(c, &argv[1], pttl_fmt, NULL, NULL);
}

static void cmd_expiretime(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    cmd_read(c, &argv[1], expiretime_fmt, NULL, NULL);
}

static void cmd_pexpiretime(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    cmd_read(c, &argv[1], pexpiretime_fmt, NULL, NULL);
}
/* ---- the table (arity, flags, key positions and since as Redis 7) ---- */

#define STR_WRITE_FAST (CMD_F_WRITE | CMD_F_FAST)
#define STR_READ_FAST (CMD_F_READONLY | CMD_F_FAST)
#define STR_EXPIRE_COND "condition?(NX|XX|GT|LT)"

const struct cmd_def cmd_expire_table[] = {
    {"expire", -3, STR_WRITE_FAST, 1, 1, 1, cmd_expire, "generic",
     "Sets the expiration time of a key in seconds.", "key seconds " STR_EXPIRE_COND, "1.0.0"},
    {"pexpire", -3, STR_WRITE_FAST, 1, 1, 1, cmd_pexpire, "generic",
     "Sets the expiration time of a key in milliseconds.", "key milliseconds " STR_EXPIRE_COND,
     "2.6.0"},
    {"expireat", -3, STR_WRITE_FAST, 1, 1, 1, cmd_expireat, "generic",
     "Sets the expiration time of a key to a Unix timestamp.",
     "key unix-time-seconds " STR_EXPIRE_COND, "1.2.0"},
    {"pexpireat", -3, STR_WRITE_FAST, 1, 1, 1, cmd_pexpireat, "generic",
     "Sets the expiration time of a key to a Unix milliseconds timestamp.",
     "key unix-time-milliseconds " STR_EXPIRE_COND, "2.6.0"},
    {"persist", 2, STR_WRITE_FAST, 1, 1, 1, cmd_persist, "generic",
     "Removes the expiration time of a key.", "key", "2.2.0"},
    {"ttl", 2, STR_READ_FAST, 1, 1, 1, cmd_ttl, "generic",
     "Returns the expiration time in seconds of a key.", "key", "1.0.0"},
    {"pttl", 2, STR_READ_FAST, 1, 1, 1, cmd_pttl, "generic",
     "Returns the expiration time in milliseconds of a key.", "key", "2.6.0"},
    {"expiretime", 2, STR_READ_FAST, 1, 1, 1, cmd_expiretime, "generic",
     "Returns the expiration time of a key as a Unix timestamp.", "key", "7.0.0"},
    {"pexpiretime", 2, STR_READ_FAST, 1, 1, 1, cmd_pexpiretime, "generic",
     "Returns the expiration time of a key as a Unix milliseconds timestamp.", "key",
     "7.0.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
