/* cmd.c — the command table, the name index of both ports' tables, the
 * one lookup per request, dispatch, COMMAND, and the reply helpers.
 *
 * Owns: the core command table (name, arity, flags, key positions, docs),
 * the list of every client command (this table, cmd_string_table,
 * cmd_expire_table, cmd_keyspace_table, cmd_bits_table, cmd_script_table,
 * cmd_cluster_table, cmd_set_table, cmd_hash_table)
 * and two name indexes (client port, cluster port: cmd_peer_table).  Each request's name is looked up once: server.c calls
 * cmd_resolve (which also tells it whether the command writes, for
 * read-your-writes) and passes the result to cmd_dispatch; the client
 * checks (arity, AUTH, the log's MISCONF, MULTI queueing) run in
 * cmd_run_client, the cluster port's in cmd_peer_run.
 * Callers: net/server.c through the struct srv_dispatch main.c registers
 * (cmd_resolve, cmd_dispatch, cmd_client_gone), every
 * cmd_*.c (reply and argument helpers), cmd_peer.c (PFWD) and
 * cmd_multi.c (EXEC) and defer.c (defer_call) through
 * cmd_dispatch_client; cmd_latency.c (command numbers: cmd_index).
 * Calls: the handlers, aof (writable?), config, resp encoders,
 * cmd_latency.c (every client command is timed around its handler).
 *
 * Reply discipline: a handler either writes its whole reply before it
 * returns, or creates a deferred reply (defer.h) that writes it into the
 * request's reserved slot when its last sub-request ends.  Handlers copy
 * what they keep: argv points into the connection's query buffer.
 */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_latency.h"

#include "storage/aof.h"
#include "core/config.h"
#include "cluster/coord.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"

/* ---- small reply helpers ---- */

void cmd_reply_ok(struct client *c)
{
    buf_put(&c->out, RESP_OK, 5);
}

void cmd_reply_null(struct client *c)
{
    if (c->proto == 3)
        buf_put(&c->out, RESP_NULL3, 3);
    else
        buf_put(&c->out, RESP_NULL2, 5);
}

void cmd_reply_err(struct client *c, const char *msg)
{
    resp_add_error(&c->out, "ERR", msg);
}

void cmd_reply_syntax(struct client *c)
{
    cmd_reply_err(c, "syntax error");
}

void cmd_reply_not_int(struct client *c)
{
    cmd_reply_err(c, "value is not an integer or out of range");
}

void cmd_reply_arity(struct client *c, const char *name)
{
    resp_add_errorf(&c->out, "ERR", "wrong number of arguments for '%s' command", name);
}

void cmd_reply_kverr(struct client *c, int err)
{
    switch (err) {
    case KV_ENOQUORUM:
        resp_add_error(&c->out, "NOQUORUM", "not enough replicas answered in time");
        break;
    case KV_ETIMEDOUT:
        resp_add_error(&c->out, "TIMEOUT", "request timed out");
        break;
    case KV_EMAXSIB:
        resp_add_errorf(&c->out, "ERR",
                        "too many siblings (%d) for key; resolve them with VGET + VPUT "
                        "(max-siblings)",
                        c->node->cfg.max_siblings);
        break;
    case KV_EBADCTX:
        cmd_reply_err(c, "invalid context: pass the context string exactly as VGET returned it, "
                     "or \"\" for a blind write");
        break;
    default:
        resp_add_errorf(&c->out, "ERR", "%s", kv_strerror(err));
    }
}

void cmd_reply_siblings_buf(struct buf *out, unsigned n)
{
    resp_add_errorf(out, "ERR",
                    "key has %u siblings (concurrent versions); use VGET to read them and "
                    "VPUT with the returned context to resolve",
                    n);
}

void cmd_reply_siblings(struct client *c, unsigned n)
{
    cmd_reply_siblings_buf(&c->out, n);
}

void cmd_reply_help(struct client *c, const char *const *lines, size_t n)
{
    resp_add_array(&c->out, (long long)n);
    for (size_t i = 0; i < n; i++)
        resp_add_simple(&c->out, lines[i]);
}

void cmd_reply_unknown_sub(struct client *c, const char *cmd, const struct arg *sub)
{
    resp_add_errorf(&c->out, "ERR",
                    "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                    (int)(sub->len > 64 ? 64 : sub->len), sub->p, cmd);
}

bool cmd_arg_eq(const struct arg *a, const char *lit)
{
    size_t n = strlen(lit);
    return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* Parses a whole argument as a signed 64-bit decimal integer. */
bool cmd_arg_ll(const struct arg *a, long long *out)
{
    if (a->len == 0 || a->len > 20)
        return false;
    char tmp[24];
    memcpy(tmp, a->p, a->len);
    tmp[a->len] = '\0';
    if (tmp[0] == '+' || isspace((unsigned char)tmp[0]))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end)
        return false;
    /* Redis refuses "007" and "-0": keep the canonical form only. */
    if ((tmp[0] == '0' && a->len > 1) || (tmp[0] == '-' && (a->len == 1 || tmp[1] == '0')))
        return false;
    *out = v;
    return true;
}

char *cmd_arg_dup(const struct arg *a)
{
    return mem_strndup(a->p, a->len);
}

/* ---- COMMAND ---- */

static void cmd_command(struct client *c, int argc, const struct arg *argv);

/* The table.  Arity and key positions follow Redis's COMMAND INFO. */
const struct cmd_def cmd_table[] = {
    {"get", 2, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_get, "string",
     "Returns the string value of a key.", "key", "1.0.0"},
    {"set", -3, CMD_F_WRITE, 1, 1, 1, cmd_set, "string",
     "Sets the string value of a key, ignoring its type. The key is created if it doesn't "
     "exist.",
     "key value condition?(NX|XX) get?(GET) expiration?(EX seconds|PX milliseconds|EXAT "
     "unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL)",
     "1.0.0"},
    {"del", -2, CMD_F_WRITE, 1, -1, 1, cmd_del, "generic", "Deletes one or more keys.",
     "key+", "1.0.0"},
    {"exists", -2, CMD_F_READONLY | CMD_F_FAST, 1, -1, 1, cmd_exists, "generic",
     "Determines whether one or more keys exist.", "key+", "1.0.0"},
    {"mget", -2, CMD_F_READONLY | CMD_F_FAST, 1, -1, 1, cmd_mget, "string",
     "Atomically returns the string values of one or more keys.", "key+", "1.0.0"},
    {"mset", -3, CMD_F_WRITE, 1, -1, 2, cmd_mset, "string",
     "Sets the string values of one or more keys (each key coordinated on its own).",
     "data+(key value)", "1.0.1"},
    {"type", 2, CMD_F_READONLY | CMD_F_FAST, 1, 1, 1, cmd_type, "generic",
     "Determines the type of value stored at a key.", "key", "1.0.0"},
    {"dbsize", 1, CMD_F_READONLY, 0, 0, 0, cmd_dbsize, "server",
     "Returns the number of keys in the cluster (each node counts the keys it is the first "
     "live preference-list node of).",
     "", "1.0.0"},
    {"flushall", -1, CMD_F_WRITE, 0, 0, 0, cmd_flushall, "server",
     "Removes every key in the cluster.", "flush-type?(ASYNC|SYNC)", "1.0.0"},
    {"flushdb", -1, CMD_F_WRITE, 0, 0, 0, cmd_flushall, "server",
     "Removes every key in the cluster.", "flush-type?(ASYNC|SYNC)", "1.0.0"},
    {"vget", -2, CMD_F_READONLY, 1, 1, 1, cmd_vget, "dynamo",
     "Returns every sibling of a key and the context to write back with VPUT.",
     "key quorum?(R n) primaries?(PR n)", "0.1.0"},
    {"vput", -4, CMD_F_WRITE, 1, 1, 1, cmd_vput, "dynamo",
     "Writes a value that supersedes every version in the context (\"\" = blind write).",
     "key context value quorum?(W n) primaries?(PW n)", "0.1.0"},
    {"vdel", -3, CMD_F_WRITE, 1, 1, 1, cmd_vdel, "dynamo",
     "Deletes (tombstones) every version in the context.", "key context quorum?(W n) primaries?(PW n)",
     "0.1.0"},
    {"vstate", -2, CMD_F_READONLY, 1, 1, 1, cmd_vstate, "dynamo",
     "Lists every entry of a hash, set, sorted set or counter state: element, kind, dot, payload.",
     "key quorum?(R n) primaries?(PR n)", "0.1.0"},
    {"vclock", -2, CMD_F_READONLY, 1, 1, 1, cmd_vclock, "dynamo",
     "Shows each sibling of a key with its vector clock, readable.", "key quorum?(R n) primaries?(PR n)",
     "0.1.0"},
    {"ping", -1, CMD_F_FAST | CMD_F_STALE, 0, 0, 0, cmd_ping, "connection",
     "Returns the server's liveliness response.", "message?", "1.0.0"},
    {"echo", 2, CMD_F_FAST, 0, 0, 0, cmd_echo, "connection", "Returns the given string.",
     "message", "1.0.0"},
    {"quit", -1, CMD_F_NOAUTH | CMD_F_FAST, 0, 0, 0, cmd_quit, "connection",
     "Closes the connection.", "", "1.0.0"},
    {"select", 2, CMD_F_FAST | CMD_F_LOADING, 0, 0, 0, cmd_select, "connection",
     "Changes the selected database (only 0 exists).", "index", "1.0.0"},
    {"auth", -2, CMD_F_NOAUTH | CMD_F_FAST | CMD_F_NOSCRIPT, 0, 0, 0, cmd_auth, "connection",
     "Authenticates the connection.", "username? password", "1.0.0"},
    {"hello", -1, CMD_F_NOAUTH | CMD_F_FAST | CMD_F_NOSCRIPT, 0, 0, 0, cmd_hello,
     "connection", "Handshakes with the server.",
     "protover? auth?(AUTH username password) setname?(SETNAME clientname)", "6.0.0"},
    {"client", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_client, "connection",
     "A container for client connection commands.",
     "subcommand(SETNAME|GETNAME|ID|SETINFO|LIST|INFO|HELP) arg*", "2.4.0"},
    {"command", -1, CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_command, "server",
     "Returns detailed information about all commands.",
     "subcommand?(COUNT|DOCS|INFO|LIST) command-name*", "2.8.13"},
    {"config", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_config, "server",
     "A container for server configuration commands.",
     "subcommand(GET|SET|RESETSTAT) parameter*", "2.0.0"},
    {"bgrewriteaof", 1, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_bgrewriteaof, "server",
     "Compacts this node's append-only log in the background.", "", "1.0.0"},
    {"shutdown", -1, CMD_F_ADMIN | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0,
     cmd_shutdown, "server", "Stops this node (no data is saved: the store is in memory).",
     "save-selector?(NOSAVE|SAVE) now?(NOW) force?(FORCE)", "1.0.0"},
    {"dynamo", -2, CMD_F_ADMIN, 0, 0, 0, cmd_dynamo, "dynamo",
     "Cluster administration: NODES, RING, PREFLIST key, HINTS, LOCAL key, CHECK, STATUS.",
     "subcommand(NODES|RING|PREFLIST|HINTS|LOCAL|CHECK|STATUS) key?", "0.1.0"},
    {"debug", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT, 0, 0, 0, cmd_debug, "server",
     "Test hooks (only with enable-debug-command yes): CLOCK-ADVANCE ms.",
     "subcommand(CLOCK-ADVANCE|HELP) arg*", "1.0.0"},
    {"info", -1, CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_info, "server",
     "Returns information and statistics about the server.", "section*", "1.0.0"},
    {"latency", -2, CMD_F_ADMIN | CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0,
     cmd_latency, "server", "Per-command latency histograms (HISTOGRAM); LATEST and RESET "
     "answer for Redis's latency monitor, which is not kept.",
     "subcommand(HISTOGRAM|LATEST|RESET|HELP) command*", "2.8.13"},
    {"slowlog", -2, CMD_F_ADMIN | CMD_F_LOADING | CMD_F_STALE, 0, 0, 0, cmd_slowlog, "server",
     "The slow log: commands that took at least slowlog-log-slower-than microseconds "
     "(until their reply was complete).",
     "subcommand(GET|LEN|RESET|HELP) count?", "2.2.12"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};

/* Every command, gathered once from the per-family tables (each ends with a
 * {NULL} row): the core table above, cmd_string.c, cmd_expire.c,
 * cmd_keyspace.c, cmd_bits.c, cmd_script.c, cmd_cluster.c, cmd_set.c, cmd_hash.c,
 * cmd_zset.c. */
static const struct cmd_def *const cmd_tables[] = {cmd_table, cmd_string_table,
                                                   cmd_expire_table, cmd_keyspace_table,
                                                   cmd_bits_table, cmd_script_table, cmd_cluster_table,
                                                   cmd_set_table, cmd_hash_table, cmd_zset_table};
#define CMD_MAX 256
static const struct cmd_def *cmd_all[CMD_MAX];
static size_t cmd_count;
/* cmd_tables[t] holds numbers table_base[t] .. + table_len[t] - 1 */
#define CMD_NTABLES (sizeof(cmd_tables) / sizeof(cmd_tables[0]))
static size_t table_base[CMD_NTABLES], table_len[CMD_NTABLES];

#define CMD_COUNT cmd_count

/* Name lookup: open addressing over lower-cased names, one index for the
 * client port's commands and one for the cluster port's (cmd_peer.c). */
#define CMD_HASH_SIZE 512
struct name_index {
    const struct cmd_def *slot[CMD_HASH_SIZE];
};
static struct name_index client_index, peer_index;

static uint32_t name_hash(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint32_t)tolower((unsigned char)p[i])) * 16777619u;
    return h;
}

static void index_add(struct name_index *ix, const struct cmd_def *d)
{
    uint32_t h = name_hash(d->name, strlen(d->name)) & (CMD_HASH_SIZE - 1);
    while (ix->slot[h])
        h = (h + 1) & (CMD_HASH_SIZE - 1);
    ix->slot[h] = d;
}

/* HOT: finds a command by name, case-insensitively. */
static const struct cmd_def *index_find(const struct name_index *ix, const char *p, size_t n)
{
    if (n == 0 || n > 32)
        return NULL;
    uint32_t h = name_hash(p, n) & (CMD_HASH_SIZE - 1);
    for (const struct cmd_def *d; (d = ix->slot[h]) != NULL; h = (h + 1) & (CMD_HASH_SIZE - 1))
        if (strlen(d->name) == n && strncasecmp(d->name, p, n) == 0)
            return d;
    return NULL;
}

static void cmd_hash_init(void)
{
    static bool done;
    if (done)
        return;
    static_assert(CMD_MAX <= CMD_HASH_SIZE / 2, "command hash too full");
    for (size_t t = 0; t < CMD_NTABLES; t++) {
        table_base[t] = cmd_count;
        for (const struct cmd_def *d = cmd_tables[t]; d->name; d++) {
            assert(cmd_count < CMD_MAX);
            cmd_all[cmd_count++] = d;
        }
        table_len[t] = cmd_count - table_base[t];
    }
    for (size_t i = 0; i < cmd_count; i++)
        index_add(&client_index, cmd_all[i]);
    size_t npeer = 0;
    for (const struct cmd_def *d = cmd_peer_table; d->name; d++, npeer++)
        index_add(&peer_index, d);
    assert(npeer <= CMD_HASH_SIZE / 2);
    done = true;
}

const struct cmd_def *cmd_lookup(const char *p, size_t n)
{
    cmd_hash_init();
    return index_find(&client_index, p, n);
}

size_t cmd_ncommands(void)
{
    cmd_hash_init();
    return cmd_count;
}

const struct cmd_def *cmd_nth(size_t i)
{
    cmd_hash_init();
    return i < cmd_count ? cmd_all[i] : NULL;
}

/* HOT: which table d is a row of, by address (at most CMD_NTABLES compares). */
int cmd_index(const struct cmd_def *d)
{
    cmd_hash_init();
    uintptr_t a = (uintptr_t)d;
    for (size_t t = 0; t < CMD_NTABLES; t++) {
        uintptr_t lo = (uintptr_t)cmd_tables[t];
        if (a >= lo && a < lo + table_len[t] * sizeof(*d))
            return (int)(table_base[t] + (a - lo) / sizeof(*d));
    }
    return -1;
}

static void add_flags(struct client *c, const struct cmd_def *d)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {
        {CMD_F_WRITE, "write"},     {CMD_F_READONLY, "readonly"}, {CMD_F_ADMIN, "admin"},
        {CMD_F_NOAUTH, "no_auth"},  {CMD_F_FAST, "fast"},         {CMD_F_NOSCRIPT, "noscript"},
        {CMD_F_LOADING, "loading"}, {CMD_F_STALE, "stale"},
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        n += (d->flags & names[i].bit) != 0;
    resp_add_set(&c->out, c->proto, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (d->flags & names[i].bit)
            resp_add_simple(&c->out, names[i].name);
}

static void add_info(struct client *c, const struct cmd_def *d)
{
    resp_add_array(&c->out, 10);
    resp_add_cstr(&c->out, d->name);
    resp_add_int(&c->out, d->arity);
    add_flags(c, d);
    resp_add_int(&c->out, d->first_key);
    resp_add_int(&c->out, d->last_key);
    resp_add_int(&c->out, d->step);
    resp_add_set(&c->out, c->proto, 0);  /* ACL categories */
    resp_add_set(&c->out, c->proto, 0);  /* tips */
    resp_add_array(&c->out, 0);          /* key specs */
    resp_add_array(&c->out, 0);          /* subcommands */
}

/* Type of a plain argument name in the doc specs. */
static const char *doc_type(const char *name, size_t n)
{
    static const char *ints[] = {"seconds", "milliseconds", "unix-time-seconds",
                                 "unix-time-milliseconds", "n", "index", "protover", "count",
                                 "offset", "increment", "decrement", "start", "end"};
    if (n == 3 && memcmp(name, "key", 3) == 0)
        return "key";
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
        if (strlen(ints[i]) == n && memcmp(ints[i], name, n) == 0)
            return "integer";
    return "string";
}

static void add_lower_bulk(struct client *c, const char *p, size_t n)
{
    char tmp[64];
    if (n > sizeof(tmp))
        n = sizeof(tmp);
    for (size_t i = 0; i < n; i++)
        tmp[i] = (char)tolower((unsigned char)p[i]);
    resp_add_bulk(&c->out, tmp, n);
}

/* Writes the map of one argument form with `extra` more fields to follow:
 *   "NX"          a pure token
 *   "EX seconds"  an argument introduced by a token
 *   "key value"   (lower case) a block of plain arguments
 * name (nlen > 0) overrides the derived name. */
static void add_doc_form(struct client *c, const char *name, size_t nlen, const char *p,
                         size_t n, int extra)
{
    const char *sp = memchr(p, ' ', n);
    resp_add_map(&c->out, c->proto, 3 + extra);
    resp_add_cstr(&c->out, "name");
    if (nlen)
        resp_add_bulk(&c->out, name, nlen);
    else if (!sp)
        add_lower_bulk(c, p, n);
    else if (islower((unsigned char)p[0]))
        resp_add_cstr(&c->out, "data");
    else
        resp_add_bulk(&c->out, sp + 1, n - (size_t)(sp - p) - 1);
    resp_add_cstr(&c->out, "type");
    if (!sp) {
        resp_add_cstr(&c->out, "pure-token");
        resp_add_cstr(&c->out, "token");
        resp_add_bulk(&c->out, p, n);
    } else if (islower((unsigned char)p[0])) {
        int parts = 1;
        for (size_t i = 0; i < n; i++)
            parts += p[i] == ' ';
        resp_add_cstr(&c->out, "block");
        resp_add_cstr(&c->out, "arguments");
        resp_add_array(&c->out, parts);
        const char *q = p;
        for (int i = 0; i < parts; i++) {
            const char *e = memchr(q, ' ', (size_t)(p + n - q));
            size_t wl = e ? (size_t)(e - q) : (size_t)(p + n - q);
            resp_add_map(&c->out, c->proto, 2);
            resp_add_cstr(&c->out, "name");
            resp_add_bulk(&c->out, q, wl);
            resp_add_cstr(&c->out, "type");
            resp_add_cstr(&c->out, doc_type(q, wl));
            q += wl + 1;
        }
    } else {
        size_t tl = (size_t)(sp - p);
        resp_add_cstr(&c->out, doc_type(sp + 1, n - tl - 1));
        resp_add_cstr(&c->out, "token");
        resp_add_bulk(&c->out, p, tl);
    }
}

/* Appends one argument map for COMMAND DOCS from a spec token:
 *   name          a required argument ("key" is typed key, counts integer)
 *   name?         optional       name+  one or more     name*  zero or more
 *   name?(A|B c)  one of: a pure token A, or argument c introduced by B
 *   name(X y)     argument y introduced by token X;  name+(a b)  a block
 * Shapes follow Redis's COMMAND DOCS, which redis-cli reads for its hints
 * (a "oneof" without its "arguments" list crashes redis-cli 7.0). */
static void add_doc_arg(struct client *c, const char *tok, size_t len)
{
    const char *paren = memchr(tok, '(', len);
    size_t nlen = paren ? (size_t)(paren - tok) : len;
    bool optional = false, multiple = false;
    while (nlen > 0 && strchr("?+*", tok[nlen - 1])) {
        optional |= tok[nlen - 1] == '?' || tok[nlen - 1] == '*';
        multiple |= tok[nlen - 1] == '+' || tok[nlen - 1] == '*';
        nlen--;
    }
    int nflags = optional + multiple;
    int extra = nflags ? 1 : 0;
    if (!paren) {
        resp_add_map(&c->out, c->proto, 2 + extra);
        resp_add_cstr(&c->out, "name");
        resp_add_bulk(&c->out, tok, nlen);
        resp_add_cstr(&c->out, "type");
        resp_add_cstr(&c->out, doc_type(tok, nlen));
    } else {
        const char *in = paren + 1;
        size_t inl = (size_t)(tok + len - in) - 1; /* without ')' */
        int nchoices = 1;
        for (size_t i = 0; i < inl; i++)
            nchoices += in[i] == '|';
        if (nchoices == 1) {
            add_doc_form(c, tok, nlen, in, inl, extra);
        } else {
            resp_add_map(&c->out, c->proto, 3 + extra);
            resp_add_cstr(&c->out, "name");
            resp_add_bulk(&c->out, tok, nlen);
            resp_add_cstr(&c->out, "type");
            resp_add_cstr(&c->out, "oneof");
            resp_add_cstr(&c->out, "arguments");
            resp_add_array(&c->out, nchoices);
            const char *q = in;
            for (int i = 0; i < nchoices; i++) {
                const char *e = memchr(q, '|', (size_t)(in + inl - q));
                size_t cl = e ? (size_t)(e - q) : (size_t)(in + inl - q);
                add_doc_form(c, NULL, 0, q, cl, 0);
                q += cl + 1;
            }
        }
    }
    if (nflags) {
        resp_add_cstr(&c->out, "flags");
        resp_add_set(&c->out, c->proto, nflags);
        if (optional)
            resp_add_simple(&c->out, "optional");
        if (multiple)
            resp_add_simple(&c->out, "multiple");
    }
}

/* Splits a spec on spaces outside parentheses. */
static int doc_tokens(const char *spec, const char **starts, size_t *lens, int max)
{
    int n = 0, depth = 0;
    const char *start = NULL;
    for (const char *p = spec;; p++) {
        if (*p == '\0' || (*p == ' ' && depth == 0)) {
            if (start && n < max) {
                starts[n] = start;
                lens[n++] = (size_t)(p - start);
            }
            start = NULL;
            if (*p == '\0')
                break;
            continue;
        }
        if (!start)
            start = p;
        depth += *p == '(';
        depth -= *p == ')';
    }
    return n;
}

static void add_doc(struct client *c, const struct cmd_def *d)
{
    const char *starts[16];
    size_t lens[16];
    int nargs = doc_tokens(d->args, starts, lens, 16);
    resp_add_cstr(&c->out, d->name);
    resp_add_map(&c->out, c->proto, nargs ? 5 : 4);
    resp_add_cstr(&c->out, "summary");
    resp_add_cstr(&c->out, d->summary);
    resp_add_cstr(&c->out, "since");
    resp_add_cstr(&c->out, d->since);
    resp_add_cstr(&c->out, "group");
    resp_add_cstr(&c->out, d->group);
    resp_add_cstr(&c->out, "complexity");
    resp_add_cstr(&c->out, d->flags & CMD_F_FAST ? "O(1)" : "O(N)");
    if (nargs) {
        resp_add_cstr(&c->out, "arguments");
        resp_add_array(&c->out, nargs);
        for (int i = 0; i < nargs; i++)
            add_doc_arg(c, starts[i], lens[i]);
    }
}

static void cmd_command(struct client *c, int argc, const struct arg *argv)
{
    if (argc == 1) {
        resp_add_array(&c->out, (long long)CMD_COUNT);
        for (size_t i = 0; i < CMD_COUNT; i++)
            add_info(c, cmd_all[i]);
        return;
    }
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "COUNT") && argc == 2) {
        resp_add_int(&c->out, (long long)CMD_COUNT);
    } else if (cmd_arg_eq(sub, "LIST") && argc == 2) {
        resp_add_array(&c->out, (long long)CMD_COUNT);
        for (size_t i = 0; i < CMD_COUNT; i++)
            resp_add_cstr(&c->out, cmd_all[i]->name);
    } else if (cmd_arg_eq(sub, "INFO")) {
        if (argc == 2) {
            resp_add_array(&c->out, (long long)CMD_COUNT);
            for (size_t i = 0; i < CMD_COUNT; i++)
                add_info(c, cmd_all[i]);
            return;
        }
        resp_add_array(&c->out, argc - 2);
        for (int i = 2; i < argc; i++) {
            const struct cmd_def *d = cmd_lookup(argv[i].p, argv[i].len);
            if (d)
                add_info(c, d);
            else
                resp_add_null_array(&c->out, c->proto);
        }
    } else if (cmd_arg_eq(sub, "DOCS")) {
        if (argc == 2) {
            resp_add_map(&c->out, c->proto, (long long)CMD_COUNT);
            for (size_t i = 0; i < CMD_COUNT; i++)
                add_doc(c, cmd_all[i]);
            return;
        }
        int found = 0;
        for (int i = 2; i < argc; i++)
            found += cmd_lookup(argv[i].p, argv[i].len) != NULL;
        resp_add_map(&c->out, c->proto, found);
        for (int i = 2; i < argc; i++) {
            const struct cmd_def *d = cmd_lookup(argv[i].p, argv[i].len);
            if (d)
                add_doc(c, d);
        }
    } else {
        cmd_reply_unknown_sub(c, "COMMAND", sub);
    }
}

/* ---- dispatch ---- */

static void reply_unknown(struct client *c, int argc, const struct arg *argv)
{
    struct buf b;
    buf_init(&b);
    buf_printf(&b, "unknown command '%.*s', with args beginning with: ",
               (int)(argv[0].len > 128 ? 128 : argv[0].len), argv[0].p);
    for (int i = 1; i < argc && b.len < 256; i++)
        buf_printf(&b, "'%.*s' ", (int)(argv[i].len > 64 ? 64 : argv[i].len), argv[i].p);
    buf_putc(&b, '\0');
    cmd_reply_err(c, b.data);
    buf_fini(&b);
}

/* A client-port command that writes, or EXEC (it runs queued writes). */
static bool def_writes(const struct cmd_def *d)
{
    return d && ((d->flags & CMD_F_WRITE) || strcmp(d->name, "exec") == 0);
}

/* HOT: the one lookup of a request's name, in its port's table. */
const struct cmd_def *cmd_resolve(const struct client *c, const struct arg *name, bool *is_write)
{
    cmd_hash_init();
    if (c->kind == SRV_PEER) {
        *is_write = false; /* read-your-writes ordering is for client ports */
        return index_find(&peer_index, name->p, name->len);
    }
    const struct cmd_def *d = index_find(&client_index, name->p, name->len);
    *is_write = def_writes(d);
    return d;
}

void cmd_dispatch(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv)
{
    if (c->kind == SRV_PEER)
        cmd_peer_run(c, d, argc, argv);
    else
        cmd_run_client(c, d, argc, argv);
}

/* A client command by name (a peer's PFWD, EXEC's queued commands, defer_call). */
void cmd_dispatch_client(struct client *c, int argc, const struct arg *argv)
{
    cmd_run_client(c, cmd_lookup(argv[0].p, argv[0].len), argc, argv);
}

/* HOT: a client command already looked up (d NULL: unknown). */
void cmd_run_client(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv)
{
    if (!d) {
        c->last_cmd = "unknown";
        reply_unknown(c, argc, argv);
        cmd_multi_flag_error(c);
        return;
    }
    c->last_cmd = d->name;
    if ((d->arity > 0 && argc != d->arity) || (d->arity < 0 && argc < -d->arity)) {
        cmd_reply_arity(c, d->name);
        cmd_multi_flag_error(c);
        return;
    }
    if (!(c->flags & CLI_F_AUTHED) && !(d->flags & CMD_F_NOAUTH)) {
        resp_add_error(&c->out, "NOAUTH", "Authentication required.");
        cmd_multi_flag_error(c);
        return;
    }
    if (!aof_writable(c->node->aof) && def_writes(d)) {
        /* as Redis's MISCONF: nothing is changed that could not be logged.
         * A write forwarded by a peer (PFWD) is declined instead: nothing
         * was written, so the sender safely tries the next coordinator and
         * the cluster stays writable. */
        if (c->kind == SRV_PEER) {
            resp_add_error(&c->out, "NOTCOORD", "this node's append-only log cannot be written");
            cmd_multi_flag_error(c);
            return;
        }
        struct buf b;
        buf_init(&b);
        buf_printf(&b, "Errors writing to the append-only log (%s): write commands are refused "
                   "until it can be written again (free disk space or fix the device); reads "
                   "still work", aof_error(c->node->aof));
        buf_putc(&b, '\0');
        resp_add_error(&c->out, "MISCONF", b.data);
        buf_fini(&b);
        cmd_multi_flag_error(c);
        return;
    }
    if (c->multi && cmd_multi_queue(c, d, argc, argv))
        return;
    struct cmd_lat cur, *prev;
    cmd_lat_begin(c->node->cmdstats, c, &cur, &prev, d, argc, argv);
    d->fn(c, argc, argv);
    cmd_lat_end(c, &cur, prev);
}

void cmd_client_gone(struct client *c)
{
    cmd_peer_gone(c);
    cmd_multi_free(c);
}