/* config.c — configuration from one option table (see config.h).
 *
 * Owns: the option table below, which is the single description of every
 * setting: its name (file directive, --flag, CONFIG GET/SET name), type,
 * place in struct cfg, range, default, whether CONFIG SET may change it, and
 * its help text.  cfg_init, the file parser, the flag parser, cfg_set,
 * cfg_get and cfg_usage all walk this table; no option is handled anywhere
 * else except `node` lines, which describe cluster members, not settings.
 *
 * Invariants: after cfg_init every char * option except `config` is a
 * non-NULL heap string owned by struct cfg; inline strings are always
 * NUL-terminated; values stored in struct cfg are always within their
 * table range.  Cross-field rules (w <= n ...) are checked by cfg_finish
 * after loading (file order is free) and by cfg_set when runtime is true.
 *
 * Callers: main.c at startup (cfg_init, cfg_load_args, cfg_finish), the
 * CONFIG command (cfg_get, cfg_set with runtime = true), KEYS/SCAN MATCH
 * (cfg_glob_match).  Pure: the only I/O is reading the config file at
 * startup; nothing here runs on the event loop except cfg_get/cfg_set,
 * which are bounded by the table size.
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

#include "util/errors.h"
#include "util/mem.h"

enum opt_type {
    OPT_INT,      /* int, plain decimal */
    OPT_LL,       /* long long, plain decimal */
    OPT_MEM,      /* long long, decimal with optional unit b k kb m mb g gb */
    OPT_STR,      /* char * owned by struct cfg */
    OPT_FIXSTR,   /* char array inside struct cfg */
    OPT_ENUM,     /* int index into the option's names[] */
    OPT_CONST,    /* CONFIG GET-only pseudo option; its value is def */
};

#define OPT_F_RUNTIME (1u << 0)  /* CONFIG SET may change it while running */
#define OPT_F_FLAGONLY (1u << 1) /* command line only, not a file directive */
#define OPT_F_READONLY (1u << 2) /* reported by CONFIG GET, never set */
#define OPT_F_QUORUM (1u << 3)   /* a runtime change sets cfg->changed_quorum */
#define OPT_F_NAME (1u << 4)     /* value must be a valid node name (or empty) */
#define OPT_F_NONEMPTY (1u << 5) /* empty string refused */
#define OPT_F_SECRET (1u << 6)   /* CONFIG GET reports "" (cfg_get) */

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;       /* offsetof(struct cfg, field); unused for OPT_CONST */
    size_t size;      /* sizeof(field) */
    long long min, max;
    const char *def;  /* default as the user would write it; NULL = unset */
    unsigned flags;
    const char *arg;  /* placeholder in --help */
    const char *help;
    const char *const *names; /* OPT_ENUM: accepted words, NULL-terminated */
};

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
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))
static_assert(NOPTS <= 64, "cfg.flag_set has one bit per option");


#define SHOW_MAX 80
#define MSG_MAX 1024

/* Makes s safe to echo in a message: at most ~64 bytes, control bytes and
 * non-ASCII replaced by '?'.  Returns out. */
static const char *show(const char *s, char out[SHOW_MAX])
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
static int fail_code(struct buf *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail_code(struct buf *err, int code, const char *fmt, ...)
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

#define fail(err, ...) fail_code((err), KV_ECONFIG, __VA_ARGS__)

static const struct opt *opt_find_n(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncasecmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static const struct opt *opt_find(const char *name)
{
    return opt_find_n(name, strlen(name));
}

static unsigned opt_index(const struct opt *o)
{
    return (unsigned)(o - opts);
}

static uint64_t opt_bit(const char *name)
{
    const struct opt *o = opt_find(name);
    assert(o);
    return UINT64_C(1) << opt_index(o);
}

/* Strict decimal: optional '-', digits, nothing else (no spaces, no '+'). */
static bool parse_ll(const char *s, long long *out)
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
    if (!parse_ll(num, &v))
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
static bool valid_name(const char *s)
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

static bool has_space_or_ctl(const char *s)
{
    for (; *s; s++)
        if (!isgraph((unsigned char)*s))
            return true;
    return false;
}

/* The quorum rules, shared by cfg_finish and runtime cfg_set.  where is a
 * message prefix (may be ""). */
static int check_quorum(int n, int w, int r, int nnodes, const char *where, struct buf *err)
{
    if (nnodes > 0 && n > nnodes)
        return fail(err, "%sn (%d) must not exceed the number of nodes (%d)", where, n, nnodes);
    if (w < 1 || w > n)
        return fail(err, "%sw (%d) must be between 1 and n (%d)", where, w, n);
    if (r < 1 || r > n)
        return fail(err, "%sr (%d) must be between 1 and n (%d)", where, r, n);
    return 0;
}

/* Parses value for option o and stores it.  Messages read
 * "<where><shown>: <reason>", e.g. "cluster.conf:3: port: ..." or
 * "--port: ...".  runtime adds the CONFIG SET rules. */
static int opt_set(struct cfg *c, const struct opt *o, const char *value, bool runtime,
                   const char *where, const char *shown, struct buf *err)
{
    char sv[SHOW_MAX];
    char *field = (char *)c + o->off;

    if (o->flags & OPT_F_READONLY)
        return fail(err, "%s%s: read-only option", where, shown);
    if (runtime && !(o->flags & OPT_F_RUNTIME))
        return fail(err, "%s%s: can't be changed at runtime", where, shown);
    /* A cluster member without a secret lets anyone who reaches its
     * cluster port run commands (PFWD): a password would be bypassed. */
    if (runtime && o->off == offsetof(struct cfg, requirepass) && value[0] && c->nnodes > 0 &&
        (!c->cluster_secret || !c->cluster_secret[0]))
        return fail(err, "%s%s: set cluster-secret first (in the config file, then restart): "
                         "without it the cluster port would bypass the password", where, shown);

    switch (o->type) {
    case OPT_INT:
    case OPT_LL:
    case OPT_MEM: {
        long long v;
        bool ok = o->type == OPT_MEM ? parse_mem(value, &v) : parse_ll(value, &v);
        if (!ok && o->type == OPT_MEM)
            return fail(err, "%s%s: '%s' is not a size (a number with optional unit b, k, kb, m, mb, "
                        "g, gb)", where, shown, show(value, sv));
        if (!ok)
            return fail(err, "%s%s: '%s' is not an integer", where, shown, show(value, sv));
        if (v < o->min || v > o->max)
            return fail(err, "%s%s: %lld is out of range (%lld..%lld)", where, shown, v, o->min,
                        o->max);
        if (o->type != OPT_INT) {
            *(long long *)(void *)field = v;
            return 0;
        }
        int iv = (int)v;
        int *ip = (int *)(void *)field;
        if (runtime && (o->flags & OPT_F_QUORUM)) {
            int n = c->n, w = c->w, r = c->r;
            if (ip == &c->n)
                n = iv;
            else if (ip == &c->w)
                w = iv;
            else if (ip == &c->r)
                r = iv;
            int rc = check_quorum(n, w, r, c->nnodes, where, err);
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
        return fail(err, "%s%s: '%s' is not one of %s", where, shown, show(value, sv), choices);
    }
    case OPT_STR:
    case OPT_FIXSTR:
        if ((o->flags & OPT_F_NONEMPTY) && !value[0])
            return fail(err, "%s%s: must not be empty", where, shown);
        if ((o->flags & OPT_F_NAME) && value[0] && !valid_name(value))
            return fail(err, "%s%s: '%s' is not a valid node name (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                        where, shown, show(value, sv), CFG_NAME_MAX - 1);
        if (o->type == OPT_STR) {
            char **sp = (char **)(void *)field;
            mem_free(*sp);
            *sp = mem_strdup(value);
            return 0;
        }
        if (strlen(value) >= o->size)
            return fail(err, "%s%s: value is too long (at most %zu bytes)", where, shown, o->size - 1);
        if (has_space_or_ctl(value))
            return fail(err, "%s%s: '%s' must not contain spaces or control characters", where,
                        shown, show(value, sv));
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case OPT_CONST:
        break;
    }
    return fail(err, "%s%s: read-only option", where, shown);
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
        int rc = opt_set(c, &opts[i], opts[i].def, false, "", opts[i].name, NULL);
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

/* ---- config file ------------------------------------------------------ */

#define MAX_ARGS 8

/* Splits line into at most MAX_ARGS words in place (every word is shorter
 * than its source text, so unquoting never overtakes the reader).  Words
 * are separated by blanks; "double" and 'single' quoted words may hold
 * blanks; inside double quotes \n \r \t \" \\ and \xHH are escapes, inside
 * single quotes only \'.  A closing quote must end the word.  Returns the
 * word count, or -1 with the reason in why. */
static int split_words(char *line, char **argv, const char **why)
{
    char *rd = line, *wr = line;
    int argc = 0;
    for (;;) {
        while (*rd && isspace((unsigned char)*rd))
            rd++;
        if (!*rd)
            return argc;
        if (argc == MAX_ARGS) {
            *why = "too many arguments";
            return -1;
        }
        argv[argc++] = wr;
        char q = (*rd == '"' || *rd == '\'') ? *rd++ : 0;
        for (;;) {
            if (!*rd) {
                if (q) {
                    *why = "unterminated quotes";
                    return -1;
                }
                *wr++ = '\0';
                break;
            }
            if (!q && isspace((unsigned char)*rd)) {
                rd++;
                *wr++ = '\0';
                break;
            }
            if (q && *rd == q) {
                rd++;
                if (*rd && !isspace((unsigned char)*rd)) {
                    *why = "closing quote must be followed by a space";
                    return -1;
                }
                *wr++ = '\0';
                break;
            }
            if (q == '"' && rd[0] == '\\' && rd[1]) {
                char e = rd[1];
                if (e == 'x' && isxdigit((unsigned char)rd[2]) && isxdigit((unsigned char)rd[3])) {
                    char hex[3] = {rd[2], rd[3], 0};
                    *wr++ = (char)strtol(hex, NULL, 16);
                    rd += 4;
                    continue;
                }
                *wr++ = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
                rd += 2;
                continue;
            }
            if (q == '\'' && rd[0] == '\\' && rd[1] == '\'') {
                *wr++ = '\'';
                rd += 2;
                continue;
            }
            *wr++ = *rd++;
        }
    }
}

/* Splits "HOST:PORT" at its last ':' (host may not hold one). */
static bool parse_port(const char *s, int *port)
{
    long long v;
    if (!parse_ll(s, &v) || v < 1 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

/* HOST:PORT [CLUSTER-PORT] of a node or seed line into nd (name kept).
 * what names the line in messages ("node n1", "seed"). */
static int parse_address(struct cfg_node *nd, const char *hostport, const char *cport,
                         const char *what, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport)
        return fail(err, "%s%s: '%s' is not HOST:PORT", where, what, show(hostport, sv));
    size_t hlen = (size_t)(colon - hostport);
    if (hlen >= sizeof(nd->host))
        return fail(err, "%s%s: host is too long (at most %zu bytes)", where, what,
                    sizeof(nd->host) - 1);
    memcpy(nd->host, hostport, hlen);
    nd->host[hlen] = '\0';
    if (has_space_or_ctl(nd->host))
        return fail(err, "%s%s: host must not contain spaces or control characters", where, what);
    if (!parse_port(colon + 1, &nd->port))
        return fail(err, "%s%s: '%s' is not a port (1..65535)", where, what, show(colon + 1, sv));
    if (cport) {
        if (!parse_port(cport, &nd->cport))
            return fail(err, "%s%s: cluster port '%s' is not a port (1..65535)", where, what,
                        show(cport, sv));
    } else if (nd->port + 10000 > 65535) {
        return fail(err, "%s%s: cluster port %d + 10000 exceeds 65535; give it explicitly",
                    where, what, nd->port);
    } else {
        nd->cport = nd->port + 10000;
    }
    if (nd->cport == nd->port)
        return fail(err, "%s%s: cluster port must differ from the client port", where, what);
    return 0;
}

/* The listed node whose ports on nd's host overlap nd's, or -1. */
static int address_clash(const struct cfg *c, const struct cfg_node *nd)
{
    for (int i = 0; i < c->nnodes; i++) {
        const struct cfg_node *o = &c->nodes[i];
        if (strcmp(o->host, nd->host) == 0 &&
            (o->port == nd->port || o->port == nd->cport || o->cport == nd->port ||
             o->cport == nd->cport))
            return i;
    }
    return -1;
}

static int add_node(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    if (argc != 3 && argc != 4)
        return fail(err, "%snode: expected 'node NAME HOST:PORT [CLUSTER-PORT]'", where);
    const char *name = argv[1];
    if (!valid_name(name))
        return fail(err, "%snode: '%s' is not a valid node name (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                    where, show(name, sv), CFG_NAME_MAX - 1);
    if (c->nnodes == CFG_MAX_NODES)
        return fail(err, "%snode: too many nodes (at most %d)", where, CFG_MAX_NODES);

    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    snprintf(nd.name, sizeof(nd.name), "%s", name);
    char what[CFG_NAME_MAX + 8];
    snprintf(what, sizeof(what), "node %s", name);
    int rc = parse_address(&nd, argv[2], argc == 4 ? argv[3] : NULL, what, where, err);
    if (rc)
        return rc;

    for (int i = 0; i < c->nnodes; i++)
        if (strcmp(c->nodes[i].name, nd.name) == 0)
            return fail(err, "%snode %s: duplicate node name", where, name);
    int k = address_clash(c, &nd);
    if (k >= 0) {
        const struct cfg_node *o = &c->nodes[k];
        return fail(err, "%snode %s: %s:%d/%d clashes with node %s (%s:%d/%d)", where, name,
                    nd.host, nd.port, nd.cport, o->name, o->host, o->port, o->cport);
    }
    c->nodes[c->nnodes++] = nd;
    return 0;
}

int cfg_parse_address(const char *hostport, const char *cport, struct cfg_node *out,
                      struct buf *err)
{
    memset(out, 0, sizeof(*out));
    return parse_address(out, hostport, cport, "address", "", err);
}

/* seed HOST:PORT [CLUSTER-PORT]: a node of the cluster to contact, by
 * address only (its name is learnt from its gossip). */
static int add_seed(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    if (argc != 2 && argc != 3)
        return fail(err, "%sseed: expected 'seed HOST:PORT [CLUSTER-PORT]'", where);
    if (c->nseeds == CFG_MAX_SEEDS)
        return fail(err, "%sseed: too many seeds (at most %d)", where, CFG_MAX_SEEDS);
    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    int rc = parse_address(&nd, argv[1], argc == 3 ? argv[2] : NULL, "seed", where, err);
    if (rc)
        return rc;
    c->seeds[c->nseeds++] = nd;
    return 0;
}

static int apply_directive(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    if (strcasecmp(argv[0], "node") == 0)
        return add_node(c, argc, argv, where, err);
    if (strcasecmp(argv[0], "seed") == 0)
        return add_seed(c, argc, argv, where, err);
    const struct opt *o = opt_find(argv[0]);
    if (!o)
        return fail(err, "%sunknown option '%s'", where, show(argv[0], sv));
    if (o->flags & OPT_F_FLAGONLY)
        return fail(err, "%s%s: only allowed as a command-line flag (--%s)", where, o->name, o->name);
    if (argc == 1)
        return fail(err, "%s%s: missing value", where, o->name);
    if (argc > 2)
        return fail(err, "%s%s: too many values (quote a value that contains spaces)", where,
                    o->name);
    return opt_set(c, o, argv[1], false, where, o->name, err);
}

int cfg_load_file(struct cfg *c, const char *path, struct buf *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail(err, "%s: cannot open: %s", path, strerror(errno));

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%d: ", path, lineno);
        if (memchr(line, '\0', (size_t)len)) {
            rc = fail(err, "%sNUL byte in line", where);
            break;
        }
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || *p == '\0')
            continue;
        char *argv[MAX_ARGS];
        const char *why = NULL;
        int argc = split_words(p, argv, &why);
        if (argc < 0) {
            rc = fail(err, "%s%s", where, why);
            break;
        }
        rc = apply_directive(c, argc, argv, where, err);
        if (rc)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = fail(err, "%s: read error: %s", path, strerror(errno));
    free(line); /* from getline, not mem_alloc */
    fclose(f);
    if (rc == 0 && (!c->config_file || strcmp(c->config_file, path) != 0)) {
        mem_free(c->config_file);
        c->config_file = mem_strdup(path);
    }
    return rc;
}

/* ---- command line ----------------------------------------------------- */

struct flag_arg {
    const struct opt *o;
    const char *value;
};

int cfg_load_args(struct cfg *c, int argc, char **argv, bool *want_help, bool *want_version,
                  struct buf *err)
{
    char sv[SHOW_MAX];
    bool help = false, version = false;
    struct buf first;   /* first parse error, reported unless --help/--version */
    buf_init(&first);
    int rc = 0;
    struct flag_arg *fl = mem_calloc(argc > 0 ? (size_t)argc : 1, sizeof(*fl));
    int nfl = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help = true;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            version = true;
            continue;
        }
        if (rc)
            continue; /* after an error, only look for --help/--version */
        if (strncmp(a, "--", 2) != 0) {
            rc = fail(&first, "unexpected argument '%s' (options are --name value)", show(a, sv));
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = opt_find_n(name, nlen);
        if (!o) {
            char nm[SHOW_MAX + 8];
            snprintf(nm, sizeof(nm), "%.*s", (int)(nlen < 64 ? nlen : 64), name);
            rc = fail(&first, "unknown option '--%s'", show(nm, sv));
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                rc = fail(&first, "--%s: missing value", o->name);
                continue;
            }
            value = argv[++i];
        }
        fl[nfl].o = o;
        fl[nfl].value = value;
        nfl++;
    }
    if (want_help)
        *want_help = help;
    if (want_version)
        *want_version = version;
    if (help || version) {
        rc = 0;
        goto out;
    }
    if (rc) {
        buf_append(err, first.data, first.len);
        goto out;
    }

    /* The file first, wherever --config appears, so flags override it. */
    for (int i = 0; i < nfl; i++) {
        if (fl[i].o->flags & OPT_F_FLAGONLY) {
            if (!fl[i].value[0]) {
                rc = fail(err, "--%s: must not be empty", fl[i].o->name);
                goto out;
            }
            rc = cfg_load_file(c, fl[i].value, err);
            if (rc)
                goto out;
        }
    }
    for (int i = 0; i < nfl; i++) {
        const struct opt *o = fl[i].o;
        if (o->flags & OPT_F_FLAGONLY)
            continue;
        char shown[64];
        snprintf(shown, sizeof(shown), "--%s", o->name);
        rc = opt_set(c, o, fl[i].value, false, "", shown, err);
        if (rc)
            goto out;
        c->flag_set |= UINT64_C(1) << opt_index(o);
    }
out:
    mem_free(fl);
    buf_fini(&first);
    return rc;
}

/* ---- cross-field rules ------------------------------------------------ */

static void list_names(const struct cfg *c, struct buf *err)
{
    for (int i = 0; i < c->nnodes; i++)
        buf_printf(err, "%s%s", i ? ", " : "", c->nodes[i].name);
}

/* --node NAME not among the node lines, with --port: append it, so it is
 * a member of its own table; the listed nodes learn of it through gossip. */
static int add_joining_node(struct cfg *c, struct buf *err)
{
    if (c->nnodes == CFG_MAX_NODES)
        return fail(err, "node: the cluster already has %d nodes", CFG_MAX_NODES);
    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    snprintf(nd.name, sizeof(nd.name), "%s", c->node_name);
    snprintf(nd.host, sizeof(nd.host), "%s", c->bind);
    nd.port = c->port;
    nd.cport = c->cluster_port ? c->cluster_port : c->port + 10000;
    if (nd.cport > 65535)
        return fail(err, "cluster-port: port %d + 10000 exceeds 65535; set cluster-port",
                    c->port);
    int k = address_clash(c, &nd);
    if (k >= 0)
        return fail(err, "node '%s': address %s:%d/%d is taken by node '%s'", nd.name, nd.host,
                    nd.port, nd.cport, c->nodes[k].name);
    c->nodes[c->nnodes++] = nd;
    return 0;
}

int cfg_finish(struct cfg *c, struct buf *err)
{
    if (c->nnodes == 0 && c->nseeds > 0) {
        /* Only seeds: this node is the one node its file lists. */
        if (!c->node_name[0])
            return fail(err, "seed lines need a name for this node: use --node NAME");
        int rc = add_joining_node(c, err);
        if (rc)
            return rc;
    }
    if (c->nnodes > 0) {
        const struct cfg_node *me = NULL;
        for (int i = 0; i < c->nnodes && !me; i++)
            if (strcmp(c->nodes[i].name, c->node_name) == 0)
                me = &c->nodes[i];
        if (!me && c->node_name[0] && ((c->flag_set & opt_bit("port")) || c->nseeds > 0)) {
            /* A new node: the listed nodes are its seeds. */
            int rc = add_joining_node(c, err);
            if (rc)
                return rc;
            me = &c->nodes[c->nnodes - 1];
        }
        if (!me) {
            char sv[SHOW_MAX];
            if (c->node_name[0])
                fail(err, "node '%s' is not defined in %s (to add a new node, also give --port "
                          "and --bind: it joins through the listed nodes); valid names: ",
                     show(c->node_name, sv), c->config_file ? c->config_file : "the config file");
            else
                fail(err, "no node selected: use --node NAME with one of: ");
            if (err)
                list_names(c, err);
            return KV_ECONFIG;
        }
        /* Flags beat the node line; the node line beats file-level values. */
        if (!(c->flag_set & opt_bit("bind")))
            snprintf(c->bind, sizeof(c->bind), "%s", me->host);
        if (!(c->flag_set & opt_bit("port")))
            c->port = me->port;
        if (!(c->flag_set & opt_bit("cluster-port")))
            c->cluster_port = me->cport;
    }
    if (c->cluster_port == 0) {
        if (c->port + 10000 > 65535)
            return fail(err, "cluster-port: port %d + 10000 exceeds 65535; set cluster-port",
                        c->port);
        c->cluster_port = c->port + 10000;
    }
    if (c->cluster_port == c->port)
        return fail(err, "cluster-port (%d) must differ from port", c->port);
    if (!c->node_name[0]) {
        char name[CFG_NAME_MAX + 80];
        snprintf(name, sizeof(name), "%s:%d", c->bind, c->port);
        if (!valid_name(name))
            return fail(err, "node: default name '%s' is not a valid node name; set --node", name);
        memcpy(c->node_name, name, strlen(name) + 1);
    }
    /* With seeds the cluster is larger than the nodes this file lists. */
    return check_quorum(c->n, c->w, c->r, c->nseeds > 0 ? 0 : c->nnodes, "", err);
}

/* ---- runtime ---------------------------------------------------------- */

int cfg_set(struct cfg *c, const char *name, const char *value, bool runtime, struct buf *err)
{
    char sv[SHOW_MAX];
    const struct opt *o = opt_find(name);
    if (!o)
        return fail_code(err, KV_ENOTFOUND, "unknown option '%s'", show(name, sv));
    return opt_set(c, o, value, runtime, "", o->name, err);
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

/* ---- glob ------------------------------------------------------------- */

static int fold(int ch, bool nocase)
{
    return nocase ? tolower(ch) : ch;
}

/* Matches one non-'*' pattern element at p (plen > 0) against ch.  Sets
 * *used to the element's length.  Semantics follow Redis stringmatchlen:
 * '?' any byte; '\x' literal x (a trailing '\' is literal); "[...]" a set
 * with '^' negation, "a-z" ranges (reversed ends swapped), '\' escapes, and
 * an unterminated set running to the end of the pattern. */
static bool match_elem(const unsigned char *p, size_t plen, unsigned char ch, bool nocase,
                       size_t *used)
{
    if (p[0] == '?') {
        *used = 1;
        return true;
    }
    if (p[0] == '\\' && plen >= 2) {
        *used = 2;
        return fold(p[1], nocase) == fold(ch, nocase);
    }
    if (p[0] != '[') {
        *used = 1;
        return fold(p[0], nocase) == fold(ch, nocase);
    }
    size_t i = 1;
    bool neg = i < plen && p[i] == '^';
    if (neg)
        i++;
    bool hit = false;
    for (;;) {
        if (i >= plen) {
            /* Unterminated set: it takes the rest of the pattern. */
            i = plen;
            break;
        }
        if (p[i] == '\\' && plen - i >= 2) {
            i++;
            if (p[i] == ch) /* Redis compares escaped set members exactly */
                hit = true;
        } else if (p[i] == ']') {
            i++; /* consume the ']' */
            break;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            int lo = p[i], hi = p[i + 2];
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            /* Folded after ordering, as Redis does: [B-^] with nocase
             * becomes b..^, an empty range. */
            lo = fold(lo, nocase);
            hi = fold(hi, nocase);
            int c = fold(ch, nocase);
            if (c >= lo && c <= hi)
                hit = true;
            i += 2;
        } else if (fold(p[i], nocase) == fold(ch, nocase)) {
            hit = true;
        }
        i++;
    }
    *used = i;
    return neg ? !hit : hit;
}

/* Iterative: on a mismatch, resume after the most recent '*' with one more
 * byte consumed by it.  Only the last star ever needs to backtrack, so the
 * cost is O(plen * slen) at worst, never exponential.  Agrees with Redis's
 * stringmatchlen (checked by differential fuzzing) except that an all-'*'
 * pattern matches the empty string (Redis's loop never runs for an empty
 * string; KEYS and SCAN special-case "*" to hide that), and bytes >= 0x80
 * compare as unsigned in ranges (Redis uses plain, usually signed, char). */
bool cfg_glob_match(const char *pat, size_t plen, const char *str, size_t slen, bool nocase)
{
    const unsigned char *p = (const unsigned char *)pat, *s = (const unsigned char *)str;
    size_t pi = 0, si = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            while (pi < plen && p[pi] == '*')
                pi++;
            if (pi == plen)
                return true;
            star_p = pi;
            star_s = si;
            continue;
        }
        size_t used;
        if (pi < plen && match_elem(p + pi, plen - pi, s[si], nocase, &used)) {
            pi += used;
            si++;
            continue;
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}
