/* cmd_latency.c — per-command latency histograms and the slow log (see
 * cmd_latency.h): INFO latencystats / commandstats, LATENCY, SLOWLOG.
 *
 * Owns: struct cmdstats (one struct lat_hist per client command that was
 * called at least once, allocated at its first call; the slow log, newest
 * first, at most slowlog-max-len entries).
 * Callers: cmd.c (cmd_lat_begin/end around every client command), defer.c
 * (cmd_lat_take, cmd_lat_finish), cmd_info.c (INFO sections), cmd_conn.c
 * (CONFIG RESETSTAT; the LATENCY and SLOWLOG handlers call in here),
 * main.c (create/destroy), the admin endpoint's /metrics (cmd_lat_each).
 * It never sees struct kv_node: the callers pass the struct cmdstats.  Calls: core/latency (the histogram), the
 * clock, resp encoders.
 * Cost on the hot path: two clock reads and one lat_record per command; a
 * reply still pending when its handler returns copies its arguments for
 * the slow log (only while it is on): into the defer itself when they fit
 * CMD_LAT_INLINE bytes, else at most SLOW_MAX_ARGS arguments of at most
 * SLOW_MAX_ARG bytes on the heap.
 * Nothing here blocks.
 */
#include "cmd/cmd_latency.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd/cmd.h"
#include "core/config.h"
#include "core/latency.h"
#include "core/resp.h"
#include "util/clock.h"
#include "util/mem.h"

#define SLOW_MAX_ARGS 32   /* arguments kept per slow log entry (as Redis) */
#define SLOW_MAX_ARG 128   /* bytes kept per argument (as Redis) */

struct slow_entry {
    struct slow_entry *next;   /* older */
    uint64_t id;
    int64_t time_s;            /* wall clock, when it was logged */
    uint64_t duration_us;
    int nargs;                 /* items packed in args */
    struct buf args;           /* packed: 4-byte length, bytes; per item */
    char addr[64];
    char name[64];
};

/* A subcommand's own histogram, named "parent|sub" as Redis 7 names them
 * (CONFIG GET is "config|get"), for commands whose argument spec starts
 * with a subcommand choice. */
#define LAT_MAX_SUBS 64
struct sub_hist {
    const struct cmd_def *d;    /* the parent */
    char name[48];              /* "parent|sub", lower case */
    struct lat_hist *h;
};

struct cmdstats {
    const struct cfg *cfg;      /* borrowed, read live: tracking on?, slow log limits */
    struct lat_hist *hist[256]; /* by cmd_index; NULL until the first call */
    struct sub_hist subs[LAT_MAX_SUBS]; /* in order of first call */
    int nsubs;
    struct slow_entry *slow;    /* newest first */
    unsigned nslow;
    uint64_t slow_next_id;
};

struct cmdstats *cmdstats_create(const struct cfg *cfg)
{
    struct cmdstats *s = mem_calloc(1, sizeof(struct cmdstats));
    s->cfg = cfg;
    return s;
}

static void slow_free(struct slow_entry *e)
{
    buf_fini(&e->args);
    mem_free(e);
}

static void slow_reset(struct cmdstats *s)
{
    while (s->slow) {
        struct slow_entry *e = s->slow;
        s->slow = e->next;
        slow_free(e);
    }
    s->nslow = 0;
}

void cmdstats_destroy(struct cmdstats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < sizeof(s->hist) / sizeof(s->hist[0]); i++)
        mem_free(s->hist[i]);
    for (int i = 0; i < s->nsubs; i++)
        mem_free(s->subs[i].h);
    slow_reset(s);
    mem_free(s);
}

/* ---- packing arguments for the slow log ---- */

static void pack_item(struct buf *b, const char *p, size_t n, size_t more)
{
    char tail[48];
    size_t tl = more ? (size_t)snprintf(tail, sizeof(tail), "... (%zu more bytes)", more) : 0;
    uint32_t len = (uint32_t)(n + tl);
    buf_put(b, &len, sizeof(len));
    buf_put(b, p, n);
    buf_put(b, tail, tl);
}

static bool arg_is(const struct arg *a, const char *lit)
{
    size_t n = strlen(lit);
    return a->len == n && strncasecmp(a->p, lit, n) == 0;
}

/* Commands whose arguments may hold a secret (as Redis redacts them). */
static bool sensitive(const struct cmd_def *d)
{
    return strcmp(d->name, "auth") == 0 || strcmp(d->name, "hello") == 0 ||
           strcmp(d->name, "config") == 0;
}

/* Argument i of d's argv is a secret: every AUTH argument, the two after
 * HELLO's AUTH, the value CONFIG SET gives requirepass or cluster-secret. */
static bool redacted(const struct cmd_def *d, int i, int argc, const struct arg *argv)
{
    if (i == 0 || !sensitive(d))
        return false;
    if (strcmp(d->name, "auth") == 0)
        return true;
    if (strcmp(d->name, "hello") == 0) {
        for (int j = 1; j < i; j++)
            if (arg_is(&argv[j], "AUTH") && i <= j + 2)
                return true;
        return false;
    }
    /* config set name value [name value ...] */
    return argc >= 4 && arg_is(&argv[1], "SET") && i >= 3 && i % 2 == 1 &&
           (arg_is(&argv[i - 1], "requirepass") || arg_is(&argv[i - 1], "cluster-secret"));
}

/* Packs argv as Redis's slow log keeps it (secrets as "(redacted)");
 * returns the item count. */
static int pack_args(struct buf *b, const struct cmd_def *d, int argc, const struct arg *argv)
{
    int keep = argc > SLOW_MAX_ARGS ? SLOW_MAX_ARGS - 1 : argc;
    for (int i = 0; i < keep; i++) {
        if (redacted(d, i, argc, argv)) {
            pack_item(b, "(redacted)", 10, 0);
            continue;
        }
        size_t n = argv[i].len > SLOW_MAX_ARG ? SLOW_MAX_ARG : argv[i].len;
        pack_item(b, argv[i].p, n, argv[i].len - n);
    }
    if (keep < argc) {
        char more[48];
        int m = snprintf(more, sizeof(more), "... (%d more arguments)", argc - keep);
        pack_item(b, more, (size_t)m, 0);
        keep++;
    }
    return keep;
}

/* ---- subcommands ---- */

/* d takes a subcommand first ("subcommand(A|B)" in its argument spec). */
static bool is_container(const struct cmd_def *d)
{
    /* HOT: the first byte rules out nearly every command without a call */
    return d->args && d->args[0] == 's' && strncmp(d->args, "subcommand", 10) == 0;
}

/* The subcommand slot of a call of d (created at its first call), or -1:
 * d has no subcommands, argv[1] is not one of those d lists, or the table
 * is full (then the call counts under d's own name). */
static int sub_slot_find(struct cmdstats *s, const struct cmd_def *d, int argc,
                         const struct arg *argv)
{
    if (argc < 2 || !is_container(d))
        return -1;
    const char *p = strchr(d->args, '(');
    const char *end = p ? strchr(p, ')') : NULL;
    bool listed = false;
    for (const char *q = p ? p + 1 : NULL; q && q < end && !listed;) {
        const char *bar = memchr(q, '|', (size_t)(end - q));
        size_t n = (size_t)((bar ? bar : end) - q);
        listed = n == argv[1].len && strncasecmp(q, argv[1].p, n) == 0;
        q = bar ? bar + 1 : end;
    }
    if (!listed)
        return -1;
    char name[48];
    int n = snprintf(name, sizeof(name), "%s|%.*s", d->name, (int)argv[1].len, argv[1].p);
    for (int i = 0; i < n && (size_t)i < sizeof(name); i++)
        name[i] = (char)tolower((unsigned char)name[i]);
    for (int i = 0; i < s->nsubs; i++)
        if (s->subs[i].d == d && strcmp(s->subs[i].name, name) == 0)
            return i;
    if (s->nsubs == LAT_MAX_SUBS)
        return -1;
    struct sub_hist *sh = &s->subs[s->nsubs];
    sh->d = d;
    snprintf(sh->name, sizeof(sh->name), "%s", name);
    sh->h = mem_calloc(1, sizeof(struct lat_hist));
    return s->nsubs++;
}

/* HOT: the check that rules out nearly every command stays inline */
static inline int sub_slot(struct cmdstats *s, const struct cmd_def *d, int argc,
                           const struct arg *argv)
{
    return d->args && d->args[0] == 's' ? sub_slot_find(s, d, argc, argv) : -1;
}

/* ---- recording ---- */

static bool slowlog_on(const struct cmdstats *s)
{
    return s->cfg->slowlog_log_slower_than >= 0;
}

/* Records one finished command: its histogram, and the slow log when it
 * took at least slowlog-log-slower-than.  Either argv (argc items) or a
 * packed copy (packed, npacked items) gives the arguments. */
static void record(struct cmdstats *s, const struct cmd_def *d, int sub, int64_t ns, int argc,
                   const struct arg *argv, const char *packed, size_t plen, int npacked,
                   const struct client *c)
{
    if (!s || ns < 0)
        return;
    if (s->cfg->latency_tracking && sub >= 0) {
        lat_record(s->subs[sub].h, (uint64_t)ns);
    } else if (s->cfg->latency_tracking) {
        int i = cmd_index(d);
        if (i >= 0 && (size_t)i < sizeof(s->hist) / sizeof(s->hist[0])) {
            if (!s->hist[i])
                s->hist[i] = mem_calloc(1, sizeof(struct lat_hist));
            lat_record(s->hist[i], (uint64_t)ns);
        }
    }
    long long slower = s->cfg->slowlog_log_slower_than;
    if (slower < 0 || slower > INT64_MAX / 1000 || ns < slower * 1000 ||
        s->cfg->slowlog_max_len <= 0)
        return;
    struct slow_entry *e = mem_calloc(1, sizeof(*e));
    e->id = s->slow_next_id++;
    e->time_s = (int64_t)time(NULL);
    e->duration_us = (uint64_t)ns / 1000;
    buf_init(&e->args);
    if (argv) {
        e->nargs = pack_args(&e->args, d, argc, argv);
    } else if (packed) {
        buf_put(&e->args, packed, plen);
        e->nargs = npacked;
    }
    if (c) {
        snprintf(e->addr, sizeof(e->addr), "%s", c->addr);
        snprintf(e->name, sizeof(e->name), "%s", c->name ? c->name : "");
    }
    e->next = s->slow;
    s->slow = e;
    s->nslow++;
    /* trim to slowlog-max-len (read live: CONFIG SET may have lowered it) */
    unsigned max = (unsigned)s->cfg->slowlog_max_len, k = 0;
    for (struct slow_entry **pp = &s->slow; *pp; k++) {
        if (k >= max) {
            struct slow_entry *old = *pp;
            *pp = old->next;
            slow_free(old);
            s->nslow--;
        } else {
            pp = &(*pp)->next;
        }
    }
}

/* HOT */
void cmd_lat_begin(struct cmdstats *s, struct client *c, struct cmd_lat *cur,
                   struct cmd_lat **prev, const struct cmd_def *d, int argc,
                   const struct arg *argv)
{
    *prev = c->lat;
    if (!c->srv || !s || (!s->cfg->latency_tracking && !slowlog_on(s))) {
        c->lat = NULL; /* nested commands of an untracked one stay untracked */
        return;
    }
    cur->stats = s;
    cur->d = d;
    cur->argc = argc;
    cur->argv = argv;
    cur->taken = false;
    cur->taker = NULL;
    cur->start_ns = clock_mono_ns();
    c->lat = cur;
}

/* A reply still pending when its handler returns: the slow log's copy of
 * the arguments is made now, while they are still in the query buffer
 * (into the defer itself when they fit CMD_LAT_INLINE bytes). */
static void copy_args(struct cmd_lat_taken *t, const struct cmd_lat *cur)
{
    if (!slowlog_on(cur->stats))
        return;
    size_t need = 0;
    bool fits = cur->argc <= SLOW_MAX_ARGS && !sensitive(cur->d);
    for (int i = 0; fits && i < cur->argc; i++) {
        need += sizeof(uint32_t) + cur->argv[i].len;
        fits = cur->argv[i].len <= SLOW_MAX_ARG && need <= sizeof(t->inl);
    }
    if (!fits) {
        t->argc = pack_args(&t->args, cur->d, cur->argc, cur->argv);
        return;
    }
    char *p = t->inl;
    for (int i = 0; i < cur->argc; i++) {
        uint32_t len = (uint32_t)cur->argv[i].len;
        memcpy(p, &len, sizeof(len));
        memcpy(p + sizeof(len), cur->argv[i].p, len);
        p += sizeof(len) + len;
    }
    t->inl_len = (uint32_t)need;
    t->argc = cur->argc;
}

/* HOT */
void cmd_lat_end(struct client *c, struct cmd_lat *cur, struct cmd_lat *prev)
{
    if (c->lat == cur) {
        if (!cur->taken) {
            int64_t ns = clock_mono_ns() - cur->start_ns;
            record(cur->stats, cur->d, sub_slot(cur->stats, cur->d, cur->argc, cur->argv), ns,
                   cur->argc, cur->argv, NULL, 0, 0, c);
        } else if (cur->taker) {
            copy_args(cur->taker, cur);
            cur->taker->cur = NULL;
        }
    }
    c->lat = prev;
}

/* HOT: no copy here; a reply written before its handler returns (a local
 * write on one node) never needs one. */
void cmd_lat_take(struct client *c, struct cmd_lat_taken *t)
{
    struct cmd_lat *cur = c->lat;
    if (!cur || cur->taken)
        return;
    cur->taken = true;
    cur->taker = t;
    t->cur = cur;
    t->stats = cur->stats;
    t->d = cur->d;
    t->sub = sub_slot(cur->stats, cur->d, cur->argc, cur->argv);
    t->start_ns = cur->start_ns;
    buf_init(&t->args);
    t->argc = 0;
    t->inl_len = 0;
}

void cmd_lat_finish(struct cmd_lat_taken *t, const struct client *c, bool record_it)
{
    if (record_it && t->d) {
        int64_t ns = clock_mono_ns() - t->start_ns;
        if (t->cur) /* still inside the handler: its arguments are at hand */
            record(t->stats, t->d, t->sub, ns, t->cur->argc, t->cur->argv, NULL, 0, 0, c);
        else
            record(t->stats, t->d, t->sub, ns, 0, NULL, t->inl_len ? t->inl : t->args.data,
                   t->inl_len ? t->inl_len : t->args.len, t->argc, c);
    }
    if (t->cur) {
        t->cur->taker = NULL;
        t->cur = NULL;
    }
    t->d = NULL;
    if (t->args.data) /* HOT: usually the copy, if any, is inline */
        buf_fini(&t->args);
}

/* ---- INFO, RESETSTAT, /metrics ---- */

void cmd_lat_each(struct cmdstats *s, cmd_lat_each_fn fn, void *arg)
{
    if (!s)
        return;
    size_t nc = cmd_ncommands();
    for (size_t i = 0; i < nc && i < sizeof(s->hist) / sizeof(s->hist[0]); i++) {
        const struct cmd_def *d = cmd_nth(i);
        if (s->hist[i] && s->hist[i]->count)
            fn(arg, d->name, s->hist[i]);
        for (int k = 0; k < s->nsubs; k++)
            if (s->subs[k].d == d && s->subs[k].h->count)
                fn(arg, s->subs[k].name, s->subs[k].h);
    }
}

static void info_latency_one(void *arg, const char *cmd, const struct lat_hist *h)
{
    buf_printf(arg, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,p99.9=%.3f\r\n", cmd,
               (double)lat_percentile(h, 50) / 1000.0, (double)lat_percentile(h, 99) / 1000.0,
               (double)lat_percentile(h, 99.9) / 1000.0);
}

void cmd_lat_info_latency(struct cmdstats *s, struct buf *out)
{
    buf_printf(out, "# Latencystats\r\n");
    cmd_lat_each(s, info_latency_one, out);
    buf_printf(out, "\r\n");
}

static void info_cmd_one(void *arg, const char *cmd, const struct lat_hist *h)
{
    buf_printf(arg, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=0,"
                    "failed_calls=0\r\n",
               cmd, (unsigned long long)h->count, (unsigned long long)(h->sum_ns / 1000),
               (double)h->sum_ns / 1000.0 / (double)h->count);
}

void cmd_lat_info_commands(struct cmdstats *s, struct buf *out)
{
    buf_printf(out, "# Commandstats\r\n");
    cmd_lat_each(s, info_cmd_one, out);
    buf_printf(out, "\r\n");
}

void cmd_lat_reset(struct cmdstats *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < sizeof(s->hist) / sizeof(s->hist[0]); i++)
        if (s->hist[i])
            lat_reset(s->hist[i]);
    for (int k = 0; k < s->nsubs; k++)
        lat_reset(s->subs[k].h);
}

/* ---- LATENCY ---- */

/* One command's entry of LATENCY HISTOGRAM, as Redis 7: a map of "calls"
 * and "histogram_usec", the latter mapping bucket bounds in µs (1.024 µs
 * times powers of two, printed as whole µs) to the cumulative count of
 * calls faster than the bound; bounds that add nothing are left out. */
static void add_histogram(struct client *c, const char *name, const struct lat_hist *h)
{
    uint64_t bounds[40], cum[40];
    int nb = 0;
    uint64_t prev = 0;
    for (int k = 0; k < 40 && prev < h->count; k++) {
        uint64_t b = (uint64_t)1024 << k;
        uint64_t n = k == 39 ? h->count : lat_count_le(h, b - 1);
        if (n > prev) {
            bounds[nb] = b / 1000;
            cum[nb++] = n;
        }
        prev = n;
    }
    resp_add_cstr(&c->out, name);
    resp_add_map(&c->out, c->proto, 2);
    resp_add_cstr(&c->out, "calls");
    resp_add_int(&c->out, (long long)h->count);
    resp_add_cstr(&c->out, "histogram_usec");
    resp_add_map(&c->out, c->proto, nb);
    for (int i = 0; i < nb; i++) {
        resp_add_int(&c->out, (long long)bounds[i]);
        resp_add_int(&c->out, (long long)cum[i]);
    }
}

struct hist_walk {
    struct client *c;
    int n;
    bool emit;
};

static void hist_one(void *arg, const char *cmd, const struct lat_hist *h)
{
    struct hist_walk *w = arg;
    w->n++;
    if (w->emit)
        add_histogram(w->c, cmd, h);
}

/* The series LATENCY HISTOGRAM names select, each once, with calls only:
 * "set", "config" (its own calls and every subcommand's), "config|get". */
struct pick {
    const char *name;
    const struct lat_hist *h;
};

static void pick_add(struct pick *out, int *n, int max, const char *name,
                     const struct lat_hist *h)
{
    if (!h || !h->count || *n == max)
        return;
    for (int i = 0; i < *n; i++)
        if (out[i].h == h)
            return;
    out[*n].name = name;
    out[(*n)++].h = h;
}

static void pick_named(struct cmdstats *s, const struct arg *a, struct pick *out, int *n, int max)
{
    if (!s)
        return;
    const char *bar = memchr(a->p, '|', a->len);
    size_t plen = bar ? (size_t)(bar - a->p) : a->len;
    const struct cmd_def *d = cmd_lookup(a->p, plen);
    if (!d)
        return;
    for (int k = 0; k < s->nsubs; k++) {
        if (s->subs[k].d != d)
            continue;
        if (!bar || (strlen(s->subs[k].name) == a->len &&
                     strncasecmp(s->subs[k].name, a->p, a->len) == 0))
            pick_add(out, n, max, s->subs[k].name, s->subs[k].h);
    }
    int i = cmd_index(d);
    if (!bar && i >= 0 && (size_t)i < sizeof(s->hist) / sizeof(s->hist[0]))
        pick_add(out, n, max, d->name, s->hist[i]);
}

void cmd_lat_latency(struct cmdstats *n, struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "HISTOGRAM")) {
        if (argc == 2) {
            struct hist_walk w = {c, 0, false};
            cmd_lat_each(n, hist_one, &w);
            resp_add_map(&c->out, c->proto, w.n);
            w.emit = true;
            cmd_lat_each(n, hist_one, &w);
            return;
        }
        /* named commands (or "parent|sub"), each once, those with calls only */
        struct pick picks[256 + LAT_MAX_SUBS];
        int found = 0;
        for (int i = 2; i < argc; i++)
            pick_named(n, &argv[i], picks, &found, (int)(sizeof(picks) / sizeof(picks[0])));
        resp_add_map(&c->out, c->proto, found);
        for (int i = 0; i < found; i++)
            add_histogram(c, picks[i].name, picks[i].h);
    } else if (cmd_arg_eq(sub, "LATEST") && argc == 2) {
        resp_add_array(&c->out, 0); /* no latency monitor events are kept */
    } else if (cmd_arg_eq(sub, "RESET")) {
        resp_add_int(&c->out, 0);
    } else if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        static const char *const lines[] = {
            "LATENCY <subcommand> [<arg> ...]. Subcommands are:",
            "HISTOGRAM [COMMAND ...]",
            "    Per-command latency: calls and cumulative counts per power-of-two bucket",
            "    of microseconds (latency-tracking yes). A command with subcommands is",
            "    reported per subcommand (config|get); naming it selects all of them.",
            "LATEST",
            "    Latency monitor events: none are kept (empty).",
            "RESET",
            "    Latency monitor events: nothing to reset (0); CONFIG RESETSTAT clears the",
            "    histograms.",
        };
        cmd_reply_help(c, lines, sizeof(lines) / sizeof(lines[0]));
    } else {
        cmd_reply_unknown_sub(c, "LATENCY", sub);
    }
}

/* ---- SLOWLOG ---- */

static void add_slow_entry(struct client *c, const struct slow_entry *e)
{
    resp_add_array(&c->out, 6);
    resp_add_int(&c->out, (long long)e->id);
    resp_add_int(&c->out, (long long)e->time_s);
    resp_add_int(&c->out, (long long)e->duration_us);
    resp_add_array(&c->out, e->nargs);
    const char *p = e->args.data;
    for (int i = 0; i < e->nargs; i++) {
        uint32_t len;
        memcpy(&len, p, sizeof(len));
        resp_add_bulk(&c->out, p + sizeof(len), len);
        p += sizeof(len) + len;
    }
    resp_add_cstr(&c->out, e->addr);
    resp_add_cstr(&c->out, e->name);
}

void cmd_lat_slowlog(struct cmdstats *s, struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "GET") && argc <= 3) {
        long long count = 10;
        if (argc == 3 && (!cmd_arg_ll(&argv[2], &count) || count < -1)) {
            cmd_reply_err(c, "count should be greater than or equal to -1");
            return;
        }
        unsigned have = s ? s->nslow : 0;
        unsigned n = count == -1 || (unsigned long long)count > have ? have : (unsigned)count;
        resp_add_array(&c->out, n);
        const struct slow_entry *e = s ? s->slow : NULL;
        for (unsigned i = 0; i < n && e; i++, e = e->next)
            add_slow_entry(c, e);
    } else if (cmd_arg_eq(sub, "LEN") && argc == 2) {
        resp_add_int(&c->out, s ? s->nslow : 0);
    } else if (cmd_arg_eq(sub, "RESET") && argc == 2) {
        if (s)
            slow_reset(s);
        cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        static const char *const lines[] = {
            "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "GET [<count>]",
            "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
            "    Entries are made of: id, timestamp, time in microseconds, arguments array,",
            "    client IP and port, client name. A command that waits on replicas is timed",
            "    until its reply is complete.",
            "LEN",
            "    Return the length of the slowlog.",
            "RESET",
            "    Reset the slowlog.",
        };
        cmd_reply_help(c, lines, sizeof(lines) / sizeof(lines[0]));
    } else {
        cmd_reply_unknown_sub(c, "SLOWLOG", sub);
    }
}
