/* cmd.h — shared by the command modules (cmd.c: table and dispatch;
 * cmd_conn.c: connection and server commands; cmd_info.c: INFO;
 * cmd_dynamo.c: DYNAMO; cmd_cluster.c: CLUSTER (topology for cluster clients);
 * cmd_kv.c, cmd_fwd.c, cmd_vkv.c: key commands;
 * cmd_string.c: string commands; cmd_bits.c: bit commands and LCS;
 * cmd_hash.c: hash commands;
 * cmd_script.c: FUNCTION and SCRIPT; cmd_expire.c: EXPIRE, PERSIST and TTL
 * families; cmd_keyspace.c: cluster-wide key space; cmd_move.c:
 * RENAME/COPY; cmd_object.c: OBJECT, MEMORY; cmd_multi.c: the MULTI queue, EXEC;
 * cmd_peer.c: the cluster port's commands; defer.c: replies that come
 * later).  Not used outside them. */
#ifndef KV_CMD_H
#define KV_CMD_H

#include <stdbool.h>
#include <stddef.h>

#include "net/server.h"
#include "util/buf.h"

struct store;

#define CMD_F_WRITE (1u << 0)    /* modifies the key space */
#define CMD_F_READONLY (1u << 1) /* reads the key space */
#define CMD_F_NOAUTH (1u << 2)   /* allowed before AUTH */
#define CMD_F_ADMIN (1u << 3)    /* administrative */
#define CMD_F_FAST (1u << 4)     /* O(1) or O(log N) */
#define CMD_F_NOSCRIPT (1u << 5) /* Redis flag, reported by COMMAND INFO */
#define CMD_F_LOADING (1u << 6)  /* Redis flag, reported by COMMAND INFO */
#define CMD_F_STALE (1u << 7)    /* Redis flag, reported by COMMAND INFO */
/* the flags of most rows: an O(1) / O(log N) write or read */
#define CMD_F_WRITE_FAST (CMD_F_WRITE | CMD_F_FAST)
#define CMD_F_READ_FAST (CMD_F_READONLY | CMD_F_FAST)

#define DYNAMO_VERSION "0.1.0"
#define REDIS_COMPAT_VERSION "7.0.0"

typedef void (*cmd_fn)(struct client *c, int argc, const struct arg *argv);

struct cmd_def {
    const char *name;    /* lower case */
    int arity;           /* Redis convention: N exact, -N at least N */
    unsigned flags;
    int first_key, last_key, step;
    cmd_fn fn;
    const char *group;
    const char *summary;
    const char *args;    /* argument spec for COMMAND DOCS, see add_doc_args */
    const char *since;
};

/* Command tables, one per family, each ending with a {NULL} row. */
extern const struct cmd_def cmd_table[];          /* cmd.c */
extern const struct cmd_def cmd_string_table[];   /* cmd_string.c */
extern const struct cmd_def cmd_expire_table[];   /* cmd_expire.c */
extern const struct cmd_def cmd_keyspace_table[]; /* cmd_keyspace.c */
extern const struct cmd_def cmd_bits_table[];     /* cmd_bits.c */
extern const struct cmd_def cmd_script_table[];   /* cmd_script.c */
extern const struct cmd_def cmd_cluster_table[];  /* cmd_cluster.c */
extern const struct cmd_def cmd_set_table[];      /* cmd_set.c */
extern const struct cmd_def cmd_hash_table[];     /* cmd_hash.c */
extern const struct cmd_def cmd_zset_table[];     /* cmd_zset.c */
/* The cluster port's commands (cmd_peer.c), indexed apart from the client
 * commands.  There CMD_F_NOAUTH means "allowed before the handshake" and
 * CMD_F_WRITE "a replica write: refused (-MISCONF) while the log cannot
 * be written"; arity as for client commands. */
extern const struct cmd_def cmd_peer_table[];

/* OBJECT ENCODING of a hash state (cmd_hash.c): "listpack" while Redis
 * would keep the hash in one (at most max_entries fields, no field or value
 * longer than max_value: hash-max-listpack-entries/-value), else
 * "hashtable".  Redis never converts back; this answers from the current
 * content, O(fields). */
struct crdt;
const char *cmd_hash_encoding(const struct crdt *s, long long max_entries, long long max_value);

/* Reply helpers: each appends one reply to c->out in c's protocol. */
void cmd_reply_ok(struct client *c);
void cmd_reply_null(struct client *c);
void cmd_reply_err(struct client *c, const char *msg);      /* -ERR msg */
void cmd_reply_syntax(struct client *c);
void cmd_reply_not_int(struct client *c);
void cmd_reply_arity(struct client *c, const char *name);
void cmd_reply_kverr(struct client *c, int err);           /* a KV_E* code */
void cmd_reply_siblings(struct client *c, unsigned n);
void cmd_reply_siblings_buf(struct buf *out, unsigned n); /* the same into out */
/* A container command's HELP: one status line per entry of lines[0..n). */
void cmd_reply_help(struct client *c, const char *const *lines, size_t n);
/* -ERR unknown subcommand or wrong number of arguments for 'sub'. Try CMD HELP. */
void cmd_reply_unknown_sub(struct client *c, const char *cmd, const struct arg *sub);

/* Argument helpers. */
bool cmd_arg_eq(const struct arg *a, const char *lit);      /* case-insensitive */
bool cmd_arg_ll(const struct arg *a, long long *out);       /* canonical decimal */
char *cmd_arg_dup(const struct arg *a);                     /* new; mem_free it */

/* ---- read-modify-write commands (string and expiry families; cmd_kv.c) ----
 *
 * cmd_rmw runs at the key's coordinator (forwarding the whole command there
 * when that is another node): it reads the key as SET does, calls decide()
 * with the current versions, and writes what decide() chose.  decide() runs
 * with nothing else interleaved for that key on the coordinator, so
 * commands like INCR are exact while the coordinator is alive.  It appends
 * its reply (in `proto`) to out->reply; that reply is sent when the write
 * met W (an error such as NOQUORUM replaces it otherwise).  params is
 * owned by the rmw and freed with free_params (may be NULL). */
enum cmd_rmw_action {
    CMD_RMW_NONE = 0,   /* write nothing (conditions not met, errors) */
    CMD_RMW_WRITE,      /* write out->val (reference taken) with out->expire_ms */
    CMD_RMW_DELETE,     /* write a tombstone */
    CMD_RMW_EXPIRE,     /* set the TTL of the key's typed state (a hash, set,
                           sorted set or counter) to out->expire_ms (0 = none) */
    CMD_RMW_ACTION_COUNT
};

struct sibset;
struct version;
struct val;

struct cmd_rmw_out {
    enum cmd_rmw_action action;
    struct val *val;        /* CMD_RMW_WRITE: new value; rmw unrefs it */
    int64_t expire_ms;      /* absolute unix ms, 0 = none */
    struct buf reply;       /* the client reply */
};

typedef void (*cmd_rmw_fn)(void *params, const struct sibset *cur, int64_t now_ms, int proto,
                           struct cmd_rmw_out *out);
void cmd_rmw(struct client *c, int argc, const struct arg *argv, const struct arg *key,
             cmd_rmw_fn decide, void *params, void (*free_params)(void *));

/* For decide(): false (siblings error already in out->reply) when cur has
 * siblings; else *live = the live version or NULL (absent/deleted/expired). */
bool cmd_rmw_current(const struct sibset *cur, int64_t now, struct cmd_rmw_out *out,
                     const struct version **live);
/* The same for commands that act on a key of any type (the expiry family):
 * a typed state is *live itself (only its expire_ms may be read; *typed =
 * true); a string as cmd_rmw_current.  typed may be NULL. */
bool cmd_rmw_current_any(const struct sibset *cur, int64_t now, struct cmd_rmw_out *out,
                         const struct version **live, bool *typed);

/* A quorum read of key (like GET) whose reply fmt() appends to out
 * (cmd_vkv.c). */
typedef void (*cmd_read_fn)(void *params, const struct sibset *set, int64_t now_ms, int proto,
                            struct buf *out);
void cmd_read(struct client *c, const struct arg *key, cmd_read_fn fmt, void *params,
              void (*free_params)(void *));


/* OBJECT ENCODING of a set (cmd_set.c): "intset" when it has at most
 * max_intset members (set-max-intset-entries), all integers as Redis keeps
 * them in an intset, else "hashtable".  Derived from the members (the
 * representation is the same for every set), so unlike Redis a set that
 * held a non-integer reads as intset again once that member is removed.
 * O(members) up to max_intset. */
struct crdt;
const char *cmd_set_encoding(const struct crdt *s, long long max_intset);

/* Keys with at least one value version held by this node. */
size_t cmd_count_live(struct store *s);

/* Deferred replies (a command that answers later) and internal calls of
 * one command by another: defer.h. */
struct kv_node;

/* ---- keys a node reports for cluster-wide commands (cmd_peer.c) ----
 *
 * A node reports a key when it holds a live value of it (not only
 * tombstones, not expired) and is the first node of the key's preference
 * list that it sees alive (members_write_target); without a cluster, every
 * live key.  So, when the nodes agree on who is alive, every key is
 * reported by exactly one node.  The PSCAN/PDBSIZE/PRANDOMKEY peer
 * commands answer with these; cmd_keyspace.c calls them directly for self.
 *
 * cmd_primary_scan: one step of a store_scan from cursor over at least
 * count entries (0 = the whole store in one step, so each key is seen
 * once) appending each reported key matching pat (NULL or "*" = all) to
 * keys as a RESP bulk string and counting them in *nkeys.  Returns the next
 * cursor (0 = done). */
uint64_t cmd_primary_scan(struct kv_node *n, uint64_t cursor, size_t count, const char *pat,
                          size_t plen, struct buf *keys, long long *nkeys);
/* The same, reporting only keys whose type (TYPE's word: string, hash,
 * set, zset; case-insensitive) is *type (NULL = any). */
uint64_t cmd_primary_scan_type(struct kv_node *n, uint64_t cursor, size_t count, const char *pat,
                               size_t plen, const struct arg *type, struct buf *keys,
                               long long *nkeys);
/* Number of keys this node reports: O(SLOT_COUNT) from the store's per-slot
 * counts, a whole scan (O(keys held)) when a slot it coordinates holds keys
 * that may have expired. */
long long cmd_primary_count(struct kv_node *n);
/* Appends one random reported key's bytes to key; false when there is none. */
bool cmd_primary_random(struct kv_node *n, struct buf *key);

/* ---- MULTI (cmd_multi.c), hooked into cmd_dispatch_client ----
 * cmd_multi_queue: while c is in MULTI, queues the command (replying
 * +QUEUED) and returns true; returns false for the commands that run at
 * once (EXEC, DISCARD, MULTI, WATCH, QUIT) and outside MULTI.
 * cmd_multi_flag_error: a command of c was refused (unknown, arity, auth):
 * the open transaction, if any, fails at EXEC with EXECABORT.
 * cmd_multi_free: drops c's transaction state (disconnect). */
bool cmd_multi_queue(struct client *c, const struct cmd_def *d, int argc,
                     const struct arg *argv);
void cmd_multi_flag_error(struct client *c);
void cmd_multi_free(struct client *c);

/* Runs a client command on c (client connection, or a peer's PFWD): looks
 * argv[0] up, then cmd_run_client. */
void cmd_dispatch_client(struct client *c, int argc, const struct arg *argv);
/* Runs a client command already looked up (d from cmd_resolve; NULL =
 * unknown): the arity, AUTH, log and MULTI checks, then the handler. */
void cmd_run_client(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv);
/* Runs a cluster-port command already looked up in cmd_peer_table (NULL =
 * unknown): the handshake and log checks, then the handler (cmd_peer.c). */
void cmd_peer_run(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv);
/* Frees a cluster-port connection's handshake state (cmd_client_gone). */
void cmd_peer_gone(struct client *c);

/* The server's dispatcher (struct srv_dispatch, registered by main.c):
 * cmd_resolve looks a request's name up once in c's port's table (NULL =
 * unknown) and sets *is_write (a client-port write or EXEC: read-your-writes
 * holds); cmd_dispatch runs that command; cmd_client_gone frees the
 * per-connection state (MULTI queue, peer handshake). */
const struct cmd_def *cmd_resolve(const struct client *c, const struct arg *name, bool *is_write);
void cmd_dispatch(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv);
void cmd_client_gone(struct client *c);

/* A client command by name (case-insensitive), or NULL. */
const struct cmd_def *cmd_lookup(const char *p, size_t n);
/* Every client command, numbered 0 .. cmd_ncommands() - 1 in COMMAND's
 * order: cmd_nth(i) is number i, cmd_index(d) d's number (-1 when d is not
 * a client command).  O(1); per-command statistics are indexed by it. */
size_t cmd_ncommands(void);
const struct cmd_def *cmd_nth(size_t i);
int cmd_index(const struct cmd_def *d);

/* Handlers (argc/argv borrowed; see the table in cmd.c for arity). */
void cmd_ping(struct client *c, int argc, const struct arg *argv);
void cmd_echo(struct client *c, int argc, const struct arg *argv);
void cmd_quit(struct client *c, int argc, const struct arg *argv);
void cmd_select(struct client *c, int argc, const struct arg *argv);
void cmd_auth(struct client *c, int argc, const struct arg *argv);
void cmd_hello(struct client *c, int argc, const struct arg *argv);
void cmd_client(struct client *c, int argc, const struct arg *argv);
void cmd_get(struct client *c, int argc, const struct arg *argv);
void cmd_mget(struct client *c, int argc, const struct arg *argv);
void cmd_exists(struct client *c, int argc, const struct arg *argv);
void cmd_type(struct client *c, int argc, const struct arg *argv);
void cmd_set(struct client *c, int argc, const struct arg *argv);
void cmd_mset(struct client *c, int argc, const struct arg *argv);
void cmd_del(struct client *c, int argc, const struct arg *argv);
void cmd_dbsize(struct client *c, int argc, const struct arg *argv);
void cmd_flushall(struct client *c, int argc, const struct arg *argv);
void cmd_vget(struct client *c, int argc, const struct arg *argv);
void cmd_vput(struct client *c, int argc, const struct arg *argv);
void cmd_vdel(struct client *c, int argc, const struct arg *argv);
void cmd_vclock(struct client *c, int argc, const struct arg *argv);
void cmd_vstate(struct client *c, int argc, const struct arg *argv);
void cmd_config(struct client *c, int argc, const struct arg *argv);
void cmd_info(struct client *c, int argc, const struct arg *argv);
void cmd_bgrewriteaof(struct client *c, int argc, const struct arg *argv);
void cmd_shutdown(struct client *c, int argc, const struct arg *argv);
void cmd_dynamo(struct client *c, int argc, const struct arg *argv);
void cmd_debug(struct client *c, int argc, const struct arg *argv);
void cmd_object(struct client *c, int argc, const struct arg *argv);
void cmd_memory(struct client *c, int argc, const struct arg *argv);   /* cmd_object.c */
void cmd_rename(struct client *c, int argc, const struct arg *argv);   /* cmd_move.c */
void cmd_renamenx(struct client *c, int argc, const struct arg *argv); /* cmd_move.c */
void cmd_copy(struct client *c, int argc, const struct arg *argv);     /* cmd_move.c */
void cmd_latency(struct client *c, int argc, const struct arg *argv);   /* cmd_conn.c */
void cmd_slowlog(struct client *c, int argc, const struct arg *argv);   /* cmd_conn.c */

#endif
