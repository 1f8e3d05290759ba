/* cmd_latency.h — per-command latency (INFO latencystats and
 * commandstats, LATENCY HISTOGRAM, /metrics) and the slow log (SLOWLOG),
 * recorded where a command's reply is complete.
 *
 * A command answered before its handler returns is timed around the
 * handler (cmd_run_client: cmd_lat_begin / cmd_lat_end).  A command that
 * answers later (cmd/defer.h) is timed until its reply is written: the
 * first defer_init during the handler takes the measurement
 * (cmd_lat_take) and defer.c ends it when the reply is written
 * (cmd_lat_finish).  The slow log keeps a command's arguments with
 * secrets redacted (AUTH, HELLO AUTH, CONFIG SET requirepass /
 * cluster-secret).  Connection-less scratch clients (defer_call) and
 * `latency-tracking no` record nothing; the slow log follows
 * slowlog-log-slower-than (µs; -1 = off, 0 = every command) and
 * slowlog-max-len.  Times are monotonic nanoseconds.
 *
 * Nothing here blocks; all of it runs on the event loop. */
#ifndef KV_CMD_LATENCY_H
#define KV_CMD_LATENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "net/server.h"
#include "util/buf.h"

struct cfg;
struct cmd_def;
struct cmdstats;
struct lat_hist;

/* The command now running on a connection (c->lat points at it while its
 * handler runs; nested commands such as EXEC's save and restore it). */
struct cmd_lat_taken;

struct cmd_lat {
    struct cmdstats *stats;
    const struct cmd_def *d;
    int64_t start_ns;
    int argc;
    const struct arg *argv;    /* borrowed: the query buffer, during the handler */
    bool taken;                /* a deferred reply took the measurement */
    struct cmd_lat_taken *taker; /* that reply while it is pending and the
                                    handler runs (it copies argv at the end) */
};

/* A measurement carried by a deferred reply (embedded in struct defer).
 * The slow log's copy of the arguments (4-byte length, bytes; per item)
 * sits in inl when it fits (no allocation on the hot path), else in args. */
#define CMD_LAT_INLINE 96
struct cmd_lat_taken {
    struct cmd_lat *cur;       /* the handler still running, or NULL */
    struct cmdstats *stats;
    const struct cmd_def *d;   /* NULL: nothing to record */
    int sub;                   /* its subcommand's slot, or -1 */
    int64_t start_ns;
    int argc;                  /* items copied (0: none, the slow log is off) */
    uint32_t inl_len;          /* bytes used in inl; 0 = the copy is in args */
    struct buf args;
    char inl[CMD_LAT_INLINE];
};

/* The node's command statistics and slow log; cfg is borrowed and read
 * live (latency-tracking, slowlog-*).  destroy accepts NULL; call it after
 * every deferred reply ended. */
struct cmdstats *cmdstats_create(const struct cfg *cfg);
void cmdstats_destroy(struct cmdstats *s);

/* HOT: around a handler.  begin saves c->lat in *prev and points it at cur
 * (when latency tracking or the slow log is on and c is a connection);
 * end records an answered-at-once command into s and restores c->lat.
 * s may be NULL (nothing recorded). */
void cmd_lat_begin(struct cmdstats *s, struct client *c, struct cmd_lat *cur,
                   struct cmd_lat **prev, const struct cmd_def *d, int argc,
                   const struct arg *argv);
void cmd_lat_end(struct client *c, struct cmd_lat *cur, struct cmd_lat *prev);

/* defer_init: takes the running command's measurement into t (zeroed by
 * the caller) unless another deferred reply took it already.  Nothing is
 * copied here: if the reply is still pending when the handler returns,
 * cmd_lat_end copies the arguments the slow log needs into t. */
void cmd_lat_take(struct client *c, struct cmd_lat_taken *t);
/* defer.c, when the reply is written (c: the connection, or NULL when it
 * went away): records t when record_it, and frees what it holds. */
void cmd_lat_finish(struct cmd_lat_taken *t, const struct client *c, bool record_it);

/* INFO sections: "# Latencystats" (p50, p99, p99.9 per command, µs) and
 * "# Commandstats" (calls, usec, usec_per_call). */
void cmd_lat_info_latency(struct cmdstats *s, struct buf *out);
void cmd_lat_info_commands(struct cmdstats *s, struct buf *out);
/* CONFIG RESETSTAT: zeroes every command's histogram (not the slow log). */
void cmd_lat_reset(struct cmdstats *s);
/* Calls fn for every command with at least one call (for /metrics). */
typedef void (*cmd_lat_each_fn)(void *arg, const char *cmd, const struct lat_hist *h);
void cmd_lat_each(struct cmdstats *s, cmd_lat_each_fn fn, void *arg);

/* LATENCY and SLOWLOG, answered into c->out (the handlers cmd_latency and
 * cmd_slowlog of cmd_conn.c pass the node's struct cmdstats). */
void cmd_lat_latency(struct cmdstats *s, struct client *c, int argc, const struct arg *argv);
void cmd_lat_slowlog(struct cmdstats *s, struct client *c, int argc, const struct arg *argv);

#endif
