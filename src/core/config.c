/* config.c — configuration from one option table (see config.h).
 *
 * Owns: the option table below, which is the single description of every
 * setting: its name (file directive, --flag, CONFIG GET/SET name), type,
 * place in struct cfg, range, default, whether CONFIG SET may change it, and
 * its help text.  cfg_init, the file and flag parsers (config_load.c),
 * cfg_set, cfg_get and cfg_usage all walk this table; no option is handled
 * anywhere else except `node` and `seed` lines (config_load.c), which
 * describe cluster members, not settings.  Also the one lookup of a member
 * by name (cfg_node_index).  The helpers shared with config_load.c are
 * declared in config_opt.h, private to these files.
 *
 * Invariants: after cfg_init every char * option except `config` is a
 * non-NULL heap string owned by struct cfg; inline strings are always
 * NUL-terminated; values stored in struct cfg are always within their
 * table range.  Cross-field rules (w <= n ...) are checked by cfg_finish
 * after loading (file order is free) and by cfg_set when runtime is true.
 *
 * Callers: main.c at startup (cfg_init, cfg_usage, cfg_fini), the CONFIG
 * command (cfg_get, cfg_get_raw, cfg_set with runtime = true), main.c and
 * net/peer.c (cfg_cluster_bind), every module that maps a member name to its
 * index (cfg_node_index).  Pure: nothing here does I/O; cfg_get/cfg_set run
 * on the event loop, bounded by the table size, and cfg_node_index by the
 * member count (CFG_MAX_NODES).
 *
 * Error messages never carry a RESP code ("ERR"); the caller adds it.
 * Values echoed in messages are truncated and have control bytes replaced,
 * so a hostile CONFIG SET cannot inject CR/LF into a reply.
 */
#include "core/config.h"

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_opt.h"
#include "util/errors.h"
#include "util/mem.h"

#define FLD(f) offsetof(struct cfg, f), sizeof(((struct cfg *)0)->f)
#define NOFLD 0, 0

static const char *const loglevel_names[] = {"debug", "verbose", "notice", "warning", NULL};
static const char *const yesno_names[] = {"no", "yes", NULL};
static const char *const fsync_names[] = {"always", "everysec", "no", NULL};

static const struct opt opts[] = {
    {"node", OPT_FIXSTR, FLD(node_name), 0, 0, "", OPT_F_NAME, "NAME",
     "the `node` line this process is; with no node lines, its name "
     "(empty = \"<bind>:<port>\")", NULL},
    {"config", OPT_STR, FLD(config_file), 0, 0, NULL, OPT_F_FLAGONLY | OPT_F_NONEMPTY, "FILE",
     "config file, loaded before all other flags", NULL},
    {"bind", OPT_FIXSTR, FLD(bind), 0, 0, "127.0.0.1", OPT_F_NONEMPTY, "ADDR",
     "address both ports listen on; the selected node line's host wins over the file", NULL},
    {"port", OPT_INT, FLD(port), 1, 65535, "7001", 0, "PORT",
     "client port (Redis protocol); the selected node line's port wins over the file", NULL},
    {"cluster-port", OPT_INT, FLD(cluster_port), 0, 65535, "0", 0, "PORT",
     "node-to-node port; 0 = port + 10000", NULL},
    {"dir", OPT_STR, FLD(dir), 0, 0, ".", OPT_F_NONEMPTY, "PATH", "data directory", NULL},
    {"logfile", OPT_STR, FLD(logfile), 0, 0, "", 0, "PATH", "log file; empty = stderr", NULL},
    {"loglevel", OPT_ENUM, FLD(loglevel), 0, 3, "notice", OPT_F_RUNTIME,
     "debug|verbose|notice|warning", "log verbosity", loglevel_names},
    {"requirepass", OPT_STR, FLD(requirepass), 0, 0, "", OPT_F_RUNTIME | OPT_F_SECRET,
     "PASSWORD", "password clients must AUTH with; empty = no authentication", NULL},
    {"cluster-secret", OPT_STR, FLD(cluster_secret), 0, 0, "", OPT_F_SECRET, "SECRET",
     "shared secret peers prove to each other (HMAC challenge-response, never sent); "
     "required, and not the cluster.conf placeholder, when a port binds beyond loopback", NULL},
    {"cluster-bind", OPT_FIXSTR, FLD(cluster_bind), 0, 0, "", 0, "ADDR",
     "address the cluster port listens on and peer links leave from; empty = bind", NULL},
    {"n", OPT_INT, FLD(n), 1, CFG_MAX_NODES, "1", OPT_F_RUNTIME | OPT_F_QUORUM, "N",
     "replicas per key (N); at most the number of nodes", NULL},
    {"w", OPT_INT, FLD(w), 1, CFG_MAX_NODES, "1", OPT_F_RUNTIME | OPT_F_QUORUM, "W",
     "write quorum (W), 1 <= W <= N", NULL},
    {"r", OPT_INT, FLD(r), 1, CFG_MAX_NODES, "1", OPT_F_RUNTIME | OPT_F_QUORUM, "R",
     "read quorum (R), 1 <= R <= N; R + W > N gives read-your-writes", NULL},
    {"pr", OPT_INT, FLD(pr), 0, CFG_MAX_NODES, "0", OPT_F_RUNTIME | OPT_F_QUORUM, "PR",
     "answers a read needs from the key's owners themselves, not substitutes (0 <= PR <= N; "
     "0 = none: reads are fully sloppy)", NULL},
    {"pw", OPT_INT, FLD(pw), 0, CFG_MAX_NODES, "0", OPT_F_RUNTIME | OPT_F_QUORUM, "PW",
     "acks a write needs from the key's owners themselves, not substitutes' hints "
     "(0 <= PW <= N; 0 = none)", NULL},
    {"vnodes-per-node", OPT_INT, FLD(vnodes_per_node), 1, 4096, "128", 0, "COUNT",
     "virtual nodes (ring tokens) per node; must match on every node", NULL},
    {"put-timeout", OPT_INT, FLD(put_timeout_ms), 1, 3600000, "5000",
     OPT_F_RUNTIME | OPT_F_QUORUM, "MS", "milliseconds a write waits for W replicas", NULL},
    {"get-timeout", OPT_INT, FLD(get_timeout_ms), 1, 3600000, "5000",
     OPT_F_RUNTIME | OPT_F_QUORUM, "MS", "milliseconds a read waits for R replicas", NULL},
    {"gossip-interval", OPT_INT, FLD(gossip_interval_ms), 10, 60000, "1000", OPT_F_RUNTIME, "MS",
     "milliseconds between gossip rounds", NULL},
    {"gossip-suspect-after", OPT_INT, FLD(gossip_suspect_ms), 10, 3600000, "3000",
     OPT_F_RUNTIME, "MS", "a peer whose heartbeat stalls this long is suspect", NULL},
    {"gossip-dead-after", OPT_INT, FLD(gossip_dead_ms), 10, 86400000, "8000", OPT_F_RUNTIME,
     "MS", "a peer whose heartbeat stalls this long is dead (routed around; keeps its ring place)", NULL},
    {"dead-node-evict-after", OPT_LL, FLD(dead_node_evict_ms), 0, 31536000000LL, "0",
     OPT_F_RUNTIME, "MS", "a node dead this long leaves the ring and its key ranges move to "
     "the others (0 = never: temporary failure is not departure)", NULL},
    {"tombstone-reap-after", OPT_LL, FLD(tombstone_reap_ms), 0, 31536000000LL, "3600000",
     OPT_F_RUNTIME, "MS", "a deleted key's tombstone is removed this long after the delete, once "
     "every node is up and agrees nothing older can return (0 = never)", NULL},
    {"anti-entropy-interval", OPT_INT, FLD(anti_entropy_interval_ms), 0, 86400000, "5000",
     OPT_F_RUNTIME, "MS", "milliseconds between Merkle-tree exchanges with the next peer "
     "(0 = off)", NULL},
    {"max-hints", OPT_LL, FLD(max_hints), 0, LLONG_MAX, "1000000", OPT_F_RUNTIME, "COUNT",
     "hinted-handoff keys held for unreachable nodes before new hints are refused", NULL},
    {"handoff-rate", OPT_INT, FLD(handoff_rate), 1, 10000000, "5000", OPT_F_RUNTIME, "PER-SEC",
     "hints delivered per second to one returning node (paces the drain)", NULL},
    {"vclock-max-entries", OPT_INT, FLD(vclock_max_entries), 1, 100000, "50", OPT_F_RUNTIME,
     "COUNT", "vector clock entries kept before the oldest are pruned", NULL},
    {"siblings-warn", OPT_INT, FLD(siblings_warn), 1, 1024, "25", OPT_F_RUNTIME, "COUNT",
     "a write leaving a key with more versions than this is logged (rate-limited) and "
     "counted in INFO sibling_warnings", NULL},
    {"max-siblings", OPT_INT, FLD(max_siblings), 1, 512, "100", OPT_F_RUNTIME, "COUNT",
     "a new write that would leave a key with more versions than this is refused "
     "(resolve them with VGET + VPUT); replicas still merge what peers send", NULL},
    {"proto-max-bulk-len", OPT_MEM, FLD(proto_max_bulk_len), 1, LLONG_MAX, "512mb",
     OPT_F_RUNTIME, "BYTES", "largest bulk string a client may send", NULL},
    {"max-multibulk-len", OPT_LL, FLD(max_multibulk_len), 1, LLONG_MAX, "1048576",
     OPT_F_RUNTIME, "COUNT", "most elements in one client command", NULL},
    {"client-query-buffer-limit", OPT_MEM, FLD(client_query_buffer_limit), 1, LLONG_MAX, "1gb",
     OPT_F_RUNTIME, "BYTES", "largest unparsed input buffered per client", NULL},
    {"client-output-buffer-limit", OPT_MEM, FLD(client_output_buffer_limit), 0, LLONG_MAX,
     "64mb", OPT_F_RUNTIME, "BYTES",
     "pending output per client before it is disconnected; 0 = unlimited", NULL},
    {"maxclients", OPT_INT, FLD(maxclients), 1, 1000000, "10000", OPT_F_RUNTIME, "COUNT",
     "most simultaneous client connections", NULL},
    {"timeout", OPT_INT, FLD(timeout), 0, INT_MAX, "0", OPT_F_RUNTIME, "SECONDS",
     "close clients idle this long; 0 = never", NULL},
    {"tcp-backlog", OPT_INT, FLD(tcp_backlog), 0, 65535, "511", 0, "COUNT", "listen() backlog", NULL},
    {"set-max-intset-entries", OPT_LL, FLD(set_max_intset_entries), 0, LLONG_MAX, "512",
     OPT_F_RUNTIME, "COUNT", "OBJECT ENCODING names a set of at most this many integer members "
     "intset, as Redis would store it (Redis's option; the representation here is the same "
     "for every set)", NULL},
    /* Read-only answers that Redis tools ask for (redis-benchmark warns
     * unless persistence looks off; clients check the database count). */
    {"save", OPT_CONST, NOFLD, 0, 0, "", OPT_F_READONLY, NULL, NULL, NULL},
    {"appendonly", OPT_ENUM, FLD(appendonly), 0, 1, "yes", 0, "yes|no",
     "keep an append-only log in dir and replay it at start", yesno_names},
    {"appendfsync", OPT_ENUM, FLD(appendfsync), 0, 2, "everysec", OPT_F_RUNTIME,
     "always|everysec|no", "when the log is fsynced: before each ack, once a second, never",
     fsync_names},
    {"auto-aof-rewrite-percentage", OPT_INT, FLD(aof_rewrite_pct), 0, 100000, "100",
     OPT_F_RUNTIME, "PERCENT", "compact the log when it grew by this much since the last "
     "compaction (0 = never)", NULL},
    {"auto-aof-rewrite-min-size", OPT_MEM, FLD(aof_rewrite_min), 0, LLONG_MAX, "64mb",
     OPT_F_RUNTIME, "BYTES", "no automatic compaction below this log size", NULL},
    {"databases", OPT_CONST, NOFLD, 0, 0, "1", OPT_F_READONLY, NULL, NULL, NULL},
    /* limits for connections not yet trusted and per connection (server.c) */
    {"enable-debug-command", OPT_ENUM, FLD(enable_debug_command), 0, 1, "no", 0, "yes|no",
     "serve DEBUG (CLOCK-ADVANCE moves this node's clocks forward: tests only)", yesno_names},
    {"protected-mode", OPT_ENUM, FLD(protected_mode), 0, 1, "yes", OPT_F_RUNTIME, "yes|no",
     "when bind is not a loopback address and requirepass is empty, refuse clients that do "
     "not connect from loopback (with an error saying what to configure)", yesno_names},
    {"auth-grace-period", OPT_INT, FLD(auth_grace_period), 1, 3600, "10", OPT_F_RUNTIME, "SECONDS",
     "close a connection (either port) that has not authenticated this long after it "
     "connected", NULL},
    {"unauth-max-bulk-len", OPT_MEM, FLD(unauth_max_bulk_len), 64, 512LL * 1024 * 1024, "16kb",
     OPT_F_RUNTIME, "BYTES", "largest argument accepted before a connection authenticated",
     NULL},
    {"unauth-max-multibulk-len", OPT_LL, FLD(unauth_max_multibulk_len), 4, 1048576, "10",
     OPT_F_RUNTIME, "COUNT", "most arguments in one request before a connection "
     "authenticated", NULL},
    {"cluster-maxclients", OPT_INT, FLD(cluster_maxclients), 1, 1000000, "1024", OPT_F_RUNTIME,
     "COUNT", "most simultaneous connections on the cluster port", NULL},
    {"max-pending-connections", OPT_INT, FLD(max_pending_connections), 1, 1000000, "1024",
     OPT_F_RUNTIME, "COUNT", "unauthenticated connections kept per port; beyond it the oldest "
     "is closed", NULL},
    {"max-inflight-per-client", OPT_INT, FLD(max_inflight_per_client), 1, 1000000, "256",
     OPT_F_RUNTIME, "COUNT", "coordinator requests one connection may have in flight "
     "(multi-key commands included); beyond it the connection waits", NULL},
    /* operating it: latency and the slow log (cmd/cmd_latency.c) */
    {"latency-tracking", OPT_ENUM, FLD(latency_tracking), 0, 1, "yes", OPT_F_RUNTIME, "yes|no",
     "keep a latency histogram per command (INFO latencystats, LATENCY HISTOGRAM, /metrics); "
     "a command that waits on replicas is timed until its reply is complete", yesno_names},
    {"slowlog-log-slower-than", OPT_LL, FLD(slowlog_log_slower_than), -1, LLONG_MAX, "10000",
     OPT_F_RUNTIME, "MICROSECONDS", "log commands that took at least this long in the slow "
     "log (SLOWLOG GET); -1 = off, 0 = every command", NULL},
    {"slowlog-max-len", OPT_INT, FLD(slowlog_max_len), 0, 1000000, "128", OPT_F_RUNTIME,
     "COUNT", "slow log entries kept (the oldest are dropped)", NULL},
    {"admin-port", OPT_INT, FLD(admin_port), 0, 65535, "0", 0, "PORT",
     "admin HTTP endpoint: /status (live page), /status.json, /metrics (Prometheus), /health; "
     "0 = off.  With requirepass set it asks for the password (Bearer token or HTTP Basic, "
     "any user name)", NULL},
    {"admin-bind", OPT_FIXSTR, FLD(admin_bind), 0, 0, "", 0, "ADDR",
     "address the admin endpoint listens on; empty = bind", NULL},
    /* Redis's encoding thresholds, for OBJECT ENCODING (cmd/cmd_hash.c) */
    {"hash-max-listpack-entries", OPT_LL, FLD(hash_max_listpack_entries), 0, LLONG_MAX, "128",
     OPT_F_RUNTIME, "COUNT", "OBJECT ENCODING reports a hash with more fields as hashtable "
     "(as Redis would encode it; the stored form does not change)", NULL},
    {"hash-max-listpack-value", OPT_MEM, FLD(hash_max_listpack_value), 0, LLONG_MAX, "64",
     OPT_F_RUNTIME, "BYTES", "OBJECT ENCODING reports a hash with a longer field or value as "
     "hashtable", NULL},
    {"zset-max-listpack-entries", OPT_LL, FLD(zset_max_listpack_entries), 0, LLONG_MAX, "128",
     OPT_F_RUNTIME, "COUNT", "OBJECT ENCODING reports a sorted set with more members as skiplist "
     "(as Redis would encode it; the stored form does not change)", NULL},
    {"zset-max-listpack-value", OPT_MEM, FLD(zset_max_listpack_value), 0, LLONG_MAX, "64",
     OPT_F_RUNTIME, "BYTES", "OBJECT ENCODING reports a sorted set with a longer member as "
     "skiplist", NULL},
};

/* Older names of options, as Redis 7.0 still answers to them: CONFIG
 * GET/SET, the file and flags accept both; CONFIG GET lists both. */
static const struct {
    const char *alias, *name;
} opt_aliases[] = {
    {"hash-max-ziplist-entries", "hash-max-listpack-entries"},
    {"hash-max-ziplist-value", "hash-max-listpack-value"},
    {"zset-max-ziplist-entries", "zset-max-listpack-entries"},
    {"zset-max-ziplist-value", "zset-max-listpack-value"},
};
#define NALIASES (sizeof(opt_aliases) / sizeof(opt_aliases[0]))

#define NOPTS (sizeof(opts) / sizeof(opts[0]))
static_assert(NOPTS <= 64, "cfg.flag_set has one bit per option");

#define MSG_MAX 1024

/* Makes s safe to echo in a message: at most ~64 bytes, control bytes and
 * non-ASCII replaced by '?'.  Returns out. */
const char *cfg_show(const char *s, char out[SHOW_MAX])
{
    size_t i = 0;
    for (; s[i] && i < 64; i++) {
        unsigned char ch = (unsigned char)s[i];
        out[i] = (ch < 0x20 || ch >= 0x7f) ? '?' : (char)ch;
    }
    if (s[i]) {
        memcpy(out + i, "...", 4);
    } else {
        out[i] = '\0';
    }
    return out;
}

/* Appends a formatted message to err (if any) and returns code. */
int cfg_fail_code(struct buf *err, int code, const char *fmt, ...)
{
    if (err) {
        char msg[MSG_MAX];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (n > 0)
            buf_append(err, msg, strlen(msg));
    }
    return code;
}

const struct opt *cfg_opt_find_n(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncasecmp(opts[i].name, name, len) == 0)
            return &opts[i];
    for (size_t i = 0; i < NALIASES; i++)
        if (strlen(opt_aliases[i].alias) == len &&
            strncasecmp(opt_aliases[i].alias, name, len) == 0)
            return cfg_opt_find(opt_aliases[i].name);
    return NULL;
}

const struct opt *cfg_opt_find(const char *name)
{
    return cfg_opt_find_n(name, strlen(name));
}

unsigned cfg_opt_index(const struct opt *o)
{
    return (unsigned)(o - opts);
}

uint64_t cfg_opt_bit(const char *name)
{
    const struct opt *o = cfg_opt_find(name);
    assert(o);
    return UINT64_C(1) << cfg_opt_index(o);
}

/* Strict decimal: optional '-', digits, nothing else (no spaces, no '+'). */
bool cfg_parse_ll(const char *s, long long *out)
{
    const char *d = s[0] == '-' ? s + 1 : s;
    if (!isdigit((unsigned char)d[0]))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* Redis memtoll: a decimal number with an optional case-insensitive unit,
 * b = 1, k = 1000, kb = 1024, m = 1000^2, mb = 1024^2, g = 1000^3,
 * gb = 1024^3.  False on junk or overflow. */
static bool parse_mem(const char *s, long long *out)
{
    static const struct { const char *unit; long long mul; } units[] = {
        {"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000 * 1000},
        {"mb", 1024 * 1024}, {"g", 1000LL * 1000 * 1000}, {"gb", 1024LL * 1024 * 1024},
    };
    const char *p = s[0] == '-' ? s + 1 : s;
    while (isdigit((unsigned char)*p))
        p++;
    size_t numlen = (size_t)(p - s);
    char num[32];
    if (numlen == 0 || numlen >= sizeof(num))
        return false;
    memcpy(num, s, numlen);
    num[numlen] = '\0';
    long long v;
    if (!cfg_parse_ll(num, &v))
        return false;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcasecmp(p, units[i].unit) == 0) {
            long long r;
            if (__builtin_mul_overflow(v, units[i].mul, &r))
                return false;
            *out = r;
            return true;
        }
    }
    return false;
}

/* Node names appear in ring tokens ("NAME#i"), vector clocks and logs. */
bool cfg_valid_name(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len >= CFG_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && !strchr("._:@-", ch))
            return false;
    }
    return true;
}

bool cfg_has_space_or_ctl(const char *s)
{
    for (; *s; s++)
        if (!isgraph((unsigned char)*s))
            return true;
    return false;
}

/* The quorum rules, shared by cfg_finish and runtime cfg_set.  where is a
 * message prefix (may be ""). */
int cfg_check_quorum(const int q[CFG_Q_COUNT], int nnodes, const char *where, struct buf *err)
{
    int n = q[CFG_Q_N];
    if (nnodes > 0 && n > nnodes)
        return cfg_fail(err, "%sn (%d) must not exceed the number of nodes (%d)", where, n, nnodes);
    if (q[CFG_Q_W] < 1 || q[CFG_Q_W] > n)
        return cfg_fail(err, "%sw (%d) must be between 1 and n (%d)", where, q[CFG_Q_W], n);
    if (q[CFG_Q_R] < 1 || q[CFG_Q_R] > n)
        return cfg_fail(err, "%sr (%d) must be between 1 and n (%d)", where, q[CFG_Q_R], n);
    if (q[CFG_Q_PR] > n)
        return cfg_fail(err, "%spr (%d) must be between 0 and n (%d)", where, q[CFG_Q_PR], n);
    if (q[CFG_Q_PW] > n)
        return cfg_fail(err, "%spw (%d) must be between 0 and n (%d)", where, q[CFG_Q_PW], n);
    return 0;
}

void cfg_quorum(const struct cfg *c, int q[CFG_Q_COUNT])
{
    q[CFG_Q_N] = c->n;
    q[CFG_Q_W] = c->w;
    q[CFG_Q_R] = c->r;
    q[CFG_Q_PR] = c->pr;
    q[CFG_Q_PW] = c->pw;
}

/* Parses value for option o and stores it.  Messages read
 * "<where><shown>: <reason>", e.g. "cluster.conf:3: port: ..." or
 * "--port: ...".  runtime adds the CONFIG SET rules. */
int cfg_opt_set(struct cfg *c, const struct opt *o, const char *value, bool runtime,
                   const char *where, const char *shown, struct buf *err)
{
    char sv[SHOW_MAX];
    char *field = (char *)c + o->off;

    if (o->flags & OPT_F_READONLY)
        return cfg_fail(err, "%s%s: read-only option", where, shown);
    if (runtime && !(o->flags & OPT_F_RUNTIME))
        return cfg_fail(err, "%s%s: can't be changed at runtime", where, shown);
    /* A cluster member without a secret lets anyone who reaches its
     * cluster port run commands (PFWD): a password would be bypassed. */
    if (runtime && o->off == offsetof(struct cfg, requirepass) && value[0] && c->nnodes > 0 &&
        (!c->cluster_secret || !c->cluster_secret[0]))
        return cfg_fail(err, "%s%s: set cluster-secret first (in the config file, then restart): "
                         "without it the cluster port would bypass the password", where, shown);

    switch (o->type) {
    case OPT_INT:
    case OPT_LL:
    case OPT_MEM: {
        long long v;
        bool ok = o->type == OPT_MEM ? parse_mem(value, &v) : cfg_parse_ll(value, &v);
        if (!ok && o->type == OPT_MEM)
            return cfg_fail(err, "%s%s: '%s' is not a size (a number with optional unit b, k, kb, m, mb, "
                        "g, gb)", where, shown, cfg_show(value, sv));
        if (!ok)
            return cfg_fail(err, "%s%s: '%s' is not an integer", where, shown, cfg_show(value, sv));
        if (v < o->min || v > o->max)
            return cfg_fail(err, "%s%s: %lld is out of range (%lld..%lld)", where, shown, v, o->min,
                        o->max);
        if (o->type != OPT_INT) {
            *(long long *)(void *)field = v;
            return 0;
        }
        int iv = (int)v;
        int *ip = (int *)(void *)field;
        if (runtime && (o->flags & OPT_F_QUORUM)) {
            int q[CFG_Q_COUNT];
            cfg_quorum(c, q);
            int *const fields[CFG_Q_COUNT] = {&c->n, &c->w, &c->r, &c->pr, &c->pw};
            for (int k = 0; k < CFG_Q_COUNT; k++)
                if (ip == fields[k])
                    q[k] = iv;
            int rc = cfg_check_quorum(q, c->nnodes, where, err);
            if (rc)
                return rc;
            if (*ip != iv)
                c->changed_quorum = true;
        }
        *ip = iv;
        return 0;
    }
    case OPT_ENUM: {
        char choices[128] = "";
        for (size_t i = 0; o->names[i]; i++) {
            if (strcasecmp(value, o->names[i]) == 0) {
                *(int *)(void *)field = (int)i;
                return 0;
            }
            size_t used = strlen(choices);
            snprintf(choices + used, sizeof(choices) - used, "%s%s", i ? ", " : "", o->names[i]);
        }
        return cfg_fail(err, "%s%s: '%s' is not one of %s", where, shown, cfg_show(value, sv), choices);
    }
    case OPT_STR:
    case OPT_FIXSTR:
        if ((o->flags & OPT_F_NONEMPTY) && !value[0])
            return cfg_fail(err, "%s%s: must not be empty", where, shown);
        if ((o->flags & OPT_F_NAME) && value[0] && !cfg_valid_name(value))
            return cfg_fail(err, "%s%s: '%s' is not a valid node name (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                        where, shown, cfg_show(value, sv), CFG_NAME_MAX - 1);
        if (o->type == OPT_STR) {
            char **sp = (char **)(void *)field;
            mem_free(*sp);
            *sp = mem_strdup(value);
            return 0;
        }
        if (strlen(value) >= o->size)
            return cfg_fail(err, "%s%s: value is too long (at most %zu bytes)", where, shown, o->size - 1);
        if (cfg_has_space_or_ctl(value))
            return cfg_fail(err, "%s%s: '%s' must not contain spaces or control characters", where,
                        shown, cfg_show(value, sv));
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case OPT_CONST:
        break;
    }
    return cfg_fail(err, "%s%s: read-only option", where, shown);
}

void cfg_init(struct cfg *c)
{
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NOPTS; i++) {
        if (!opts[i].def || opts[i].type == OPT_CONST)
            continue;
        if (opts[i].type == OPT_FIXSTR) {
            /* Skips OPT_F_NAME/NONEMPTY checks: "" is a valid "unset". */
            assert(strlen(opts[i].def) < opts[i].size);
            strcpy((char *)c + opts[i].off, opts[i].def);
            continue;
        }
        int rc = cfg_opt_set(c, &opts[i], opts[i].def, false, "", opts[i].name, NULL);
        assert(rc == 0 && "option table default must parse");
        (void)rc;
    }
}

void cfg_fini(struct cfg *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < NOPTS; i++) {
        if (opts[i].type == OPT_STR) {
            char **sp = (char **)(void *)((char *)c + opts[i].off);
            mem_free(*sp);
            *sp = NULL;
        }
    }
}

/* ---- runtime ---------------------------------------------------------- */

int cfg_set(struct cfg *c, const char *name, const char *value, bool runtime, struct buf *err)
{
    char sv[SHOW_MAX];
    const struct opt *o = cfg_opt_find(name);
    if (!o)
        return cfg_fail_code(err, KV_ENOTFOUND, "unknown option '%s'", cfg_show(name, sv));
    return cfg_opt_set(c, o, value, runtime, "", o->name, err);
}

static const char *opt_format(const struct cfg *c, const struct opt *o, char tmp[32])
{
    const char *field = (const char *)c + o->off;
    switch (o->type) {
    case OPT_INT:
        snprintf(tmp, 32, "%d", *(const int *)(const void *)field);
        return tmp;
    case OPT_LL:
    case OPT_MEM:
        snprintf(tmp, 32, "%lld", *(const long long *)(const void *)field);
        return tmp;
    case OPT_STR: {
        const char *s = *(char *const *)(const void *)field;
        return s ? s : "";
    }
    case OPT_FIXSTR:
        return field;
    case OPT_ENUM: {
        int v = *(const int *)(const void *)field;
        return v >= 0 && v <= (int)o->max ? o->names[v] : "";
    }
    case OPT_CONST:
        return o->def;
    }
    return "";
}

static void get_opts(const struct cfg *c, const char *pattern, cfg_get_fn fn, void *arg,
                     bool redact)
{
    size_t plen = strlen(pattern);
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        if (!cfg_glob_match(pattern, plen, o->name, strlen(o->name), true))
            continue;
        char tmp[32];
        fn(arg, o->name, redact && (o->flags & OPT_F_SECRET) ? "" : opt_format(c, o, tmp));
    }
    for (size_t i = 0; i < NALIASES; i++) {
        const char *alias = opt_aliases[i].alias;
        if (!cfg_glob_match(pattern, plen, alias, strlen(alias), true))
            continue;
        char tmp[32];
        fn(arg, alias, opt_format(c, cfg_opt_find(opt_aliases[i].name), tmp));
    }
}

void cfg_get(const struct cfg *c, const char *pattern, cfg_get_fn fn, void *arg)
{
    get_opts(c, pattern, fn, arg, true);
}

void cfg_get_raw(const struct cfg *c, const char *pattern, cfg_get_fn fn, void *arg)
{
    get_opts(c, pattern, fn, arg, false);
}

const char *cfg_cluster_bind(const struct cfg *c)
{
    return c->cluster_bind[0] ? c->cluster_bind : c->bind;
}

void cfg_usage(struct buf *out)
{
    buf_printf(out,
               "Usage: dynamo-node [--config FILE] [--node NAME] [--OPTION VALUE]...\n"
               "\n"
               "Every option may be given as --OPTION VALUE or --OPTION=VALUE and (except\n"
               "--config) as an \"OPTION VALUE\" line in the config file, where\n"
               "\"node NAME HOST:PORT [CLUSTER-PORT]\" lines list the cluster's members.\n"
               "Precedence: defaults < config file < flags.  Options marked * can be\n"
               "changed at run time with CONFIG SET.\n"
               "\n");
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        if (o->flags & OPT_F_READONLY)
            continue;
        buf_printf(out, "  --%s %s", o->name, o->arg);
        if (o->def)
            buf_printf(out, "  (default: %s%s%s)", o->def[0] ? "" : "\"", o->def,
                       o->def[0] ? "" : "\"");
        buf_printf(out, "%s\n      %s\n", (o->flags & OPT_F_RUNTIME) ? "  *" : "", o->help);
    }
    buf_printf(out, "  -h, --help\n      show this help\n");
    buf_printf(out, "  -v, --version\n      show the version\n");
}

int cfg_node_index(const struct cfg *c, const char *name, size_t len)
{
    for (int i = 0; i < c->nnodes; i++)
        if (strlen(c->nodes[i].name) == len && memcmp(c->nodes[i].name, name, len) == 0)
            return i;
    return -1;
}
