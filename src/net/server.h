/* server.h — libevent listeners and connections (client port and cluster
 * port), query/output buffers, back-pressure.
 *
 * A connection parses requests with resp_parse() and hands each complete one
 * to the dispatcher main.c registered (struct srv_dispatch: cmd/).  Replies
 * are appended to c->out and written after each batch of input.  Replies are strictly in order, even though requests
 * that wait on other nodes complete out of order: a handler that answers
 * later reserves a reply slot (srv_slot_open); while any slot is pending,
 * the replies of the requests after it are kept in slots of their own and
 * reach c->out only when every slot before them is filled.  At most
 * SRV_MAX_PENDING slots per connection; beyond that parsing pauses.
 *
 * Requests in flight refer to a connection by its id (64-bit, never reused,
 * so it doubles as the generation): srv_client_find() returns NULL once that
 * connection is gone. */
#ifndef KV_SERVER_H
#define KV_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/resp.h"
#include "util/buf.h"

struct kv_node; /* opaque here: the command layer's (c->node) */
struct event;
struct event_base;
struct cfg;
struct srv;

enum srv_kind {
    SRV_CLIENT = 0, /* client port: Redis commands */
    SRV_PEER,       /* cluster port: peer commands, after the secret */
    SRV_KIND_COUNT
};

#define CLI_F_CLOSE_AFTER_REPLY (1u << 0) /* flush the output, then close */
#define CLI_F_BLOCKED (1u << 1)           /* too many pending replies: not parsing */
#define CLI_F_AUTHED (1u << 2)            /* passed AUTH / cluster secret */
#define CLI_F_CLOSING (1u << 3)           /* free when back in the loop */
#define CLI_F_READ_PAUSED (1u << 4)       /* output backlog: not reading */
#define CLI_F_IN_DISPATCH (1u << 5)       /* a handler of this client runs */
#define CLI_F_HELD (1u << 6)              /* a parsed request waits for earlier
                                             replies (read-your-writes) */
#define CLI_F_PENDING (1u << 7)           /* on its port's list of connections
                                             not yet authenticated */
#define CLI_F_LOG_WAIT (1u << 8)          /* output acknowledges changes the log
                                             could not write yet: held */

#define SRV_MAX_PENDING 512 /* reply slots per connection before parsing pauses */

struct reply_slot;
struct defer_to;
struct cmd_def;
struct cmd_lat;

/* Counters of the limits at work (INFO clients / stats). */
struct srv_stats {
    uint64_t evicted_pending;     /* unauthenticated, closed for max-pending-connections */
    uint64_t auth_timeouts;       /* unauthenticated, closed after auth-grace-period */
    uint64_t cluster_rejected;    /* refused: cluster-maxclients reached */
    uint64_t protected_denied;    /* refused by protected mode */
    uint64_t cross_protocol;      /* closed: HTTP (POST / Host:) on a RESP port */
    uint64_t accept_pauses;       /* accepting paused: no file descriptors left */
    uint64_t inflight_waits;      /* parsing paused: max-inflight-per-client reached */
    uint64_t inflight_peak;       /* most requests in flight on one connection */
};

/* Traffic counters (INFO stats; CONFIG RESETSTAT zeroes them). */
struct srv_traffic {
    uint64_t connections_received;
    uint64_t commands_processed;
    uint64_t rejected_connections;       /* maxclients / cluster-maxclients */
    uint64_t net_input_bytes;
    uint64_t net_output_bytes;
    uint64_t protocol_errors;
    uint64_t output_limit_disconnections;
};

struct arg {
    const char *p;
    size_t len;
};

struct client {
    struct client *next, *prev; /* all connections (intrusive) */
    struct client *hnext;       /* id hash chain */
    struct client *pnext, *pprev; /* not yet authenticated, oldest first */
    struct srv *srv;
    struct kv_node *node;
    uint64_t id;
    int fd;
    enum srv_kind kind;
    unsigned flags;
    int proto;                  /* 2 or 3 (HELLO) */
    struct event *ev_read;
    struct event *ev_write;
    /* query buffer: unparsed bytes are qbuf[qstart..qlen) */
    char *qbuf;
    size_t qcap, qlen, qstart;
    struct resp_req req;
    const struct cmd_def *req_cmd; /* req's command (cmd_resolve), kept while held */
    bool req_write;                /* and whether it writes */
    struct arg *argv;
    int argv_cap;
    /* output */
    struct buf out;
    size_t out_sent;
    /* identity */
    char *name;
    char *lib_name;
    char *lib_ver;
    char addr[64];
    char laddr[64];
    int64_t ctime_ms;
    int64_t last_ms;
    const char *last_cmd;
    void *multi;                /* MULTI queue state owned by cmd.c, or NULL */
    void *peer_hs;              /* peer handshake state owned by cmd_peer.c, or NULL */
    struct defer_to *defer_to;  /* cmd/defer.h: where the reply of the command now
                                   running goes if it answers later, or NULL */
    struct cmd_lat *lat;        /* cmd/cmd_latency.h: the command now running, timed */
    /* replies awaited, in request order */
    struct reply_slot *slot_head, *slot_tail;
    unsigned nslots;
    struct reply_slot *slot_opened; /* opened by the handler now running */
    unsigned pending_writes;        /* slots of write commands not yet filled */
    size_t slot_bytes;              /* bytes of finished replies waiting in slots */
    size_t held_bytes;              /* reply data gathered by requests in flight
                                       (srv_client_hold), not yet a reply */
    unsigned inflight;              /* coordinator requests in flight (cmd/defer.c) */
    unsigned long long log_need;    /* barrier queued_seq the output acknowledges */
};

/* The command layer, called by the server (main.c registers cmd/'s).  A
 * request's name is looked up once: resolve finds its command in c's port's
 * table (NULL = unknown) and sets *is_write (a client-port write or EXEC:
 * read-your-writes holds); dispatch runs that command (d from resolve, may
 * be NULL); client_gone frees the command layer's per-connection state.
 * All three are called from the server's event callbacks, never re-entered
 * for the same connection. */
struct srv_dispatch {
    const struct cmd_def *(*resolve)(const struct client *c, const struct arg *name,
                                     bool *is_write);
    void (*dispatch)(struct client *c, const struct cmd_def *d, int argc,
                     const struct arg *argv);
    void (*client_gone)(struct client *c);
};

/* Creates the server.  base and cfg are borrowed and must outlive it; cfg
 * is read live (CONFIG SET takes effect on the next use).  disp is copied.
 * app is opaque to the server: it is copied into each connection's
 * c->node for the command handlers. */
struct srv *srv_create(struct event_base *base, const struct cfg *cfg,
                       const struct srv_dispatch *disp, struct kv_node *app);
void srv_destroy(struct srv *s);        /* closes every connection; accepts NULL */

/* Opens a listening socket of the given kind. 0 or -errno. */
int srv_listen(struct srv *s, enum srv_kind kind, const char *host, int port);

/* Connection for an id, or NULL if it has gone away. */
struct client *srv_client_find(struct srv *s, uint64_t id);

/* Called from inside a handler that will answer later: reserves the place
 * of this request's reply.  The returned slot stays valid while the
 * connection exists (check with srv_client_find before using it). */
struct reply_slot *srv_slot_open(struct client *c);

/* Fills a reserved slot: calls fn(arg, c) with c->out redirected into the
 * slot, then writes every reply that is now in order and resumes parsing.
 * May free c: do not use c afterwards.  Call from event-loop callbacks. */
typedef void (*srv_fill_fn)(void *arg, struct client *c);
void srv_slot_fill(struct client *c, struct reply_slot *slot, srv_fill_fn fn, void *arg);

/* In-flight accounting (cmd/defer.c): one coordinator request of c started /
 * completed.  At max-inflight-per-client, c's parsing and reading pause. */
void srv_inflight_begin(struct client *c);
void srv_inflight_end(struct client *c);
/* c is a client-port connection at its in-flight cap. */
bool srv_inflight_full(const struct client *c);

/* Charges (delta > 0) or releases (delta < 0) bytes of reply data that a
 * request in flight gathers for c.  Everything queued for c (unsent output,
 * finished replies in slots, held data) counts against
 * client-output-buffer-limit; over it, c is closed (the close happens in
 * the loop: srv_client_find returns NULL from now on). */
void srv_client_hold(struct client *c, long long delta);

/* True when a reply of `more` bytes still fits c's output limit.  When it
 * does not, c is marked to close and the caller must not build the reply
 * (a peer connection always fits: peers are trusted). */
bool srv_reply_fits(struct client *c, size_t more);
/* The durability barrier every reply passes (main.c wires the append-only
 * log into it; without one, everything counts as durable at once):
 *   flush(arg)          before any output is written: writes what is
 *                       queued (one write per batch of requests: group
 *                       commit); true when everything queued is durable;
 *   queued_seq(arg)     a mark for "everything queued up to now", read
 *                       around each request and when a deferred write's
 *                       reply is filled: that reply acknowledges it;
 *   durable(arg, seq)   everything up to mark seq is durable.
 * A connection whose output acknowledges a mark that is not durable yet
 * (flush failed: the log is broken) is held, reading paused, until
 * srv_log_resumed.  All three set, or none.  b is copied. */
struct srv_barrier {
    bool (*flush)(void *arg);
    unsigned long long (*queued_seq)(void *arg);
    bool (*durable)(void *arg, unsigned long long seq);
    void *arg;
};
void srv_set_barrier(struct srv *s, const struct srv_barrier *b);
/* The barrier is durable again: writes out every connection held for it
 * (arg is the struct srv; main.c registers it with the log). */
void srv_log_resumed(void *srv);

/* Protected mode (accept.c), also for the admin endpoint (http.c): true
 * when a connection from peer to an address bound (`bound`) must be
 * refused: protected-mode yes, no requirepass, bound beyond loopback, and
 * peer not on loopback. */
struct sockaddr_in;
bool srv_protected_refuses(const struct cfg *cfg, const char *bound,
                           const struct sockaddr_in *peer);

/* Marks c to be closed once its output is flushed. */
void srv_client_close_after_reply(struct client *c);

unsigned srv_nclients(const struct srv *s, enum srv_kind kind);
/* Connections of that port not yet authenticated. */
unsigned srv_npending(const struct srv *s, enum srv_kind kind);
const struct srv_stats *srv_stats(const struct srv *s);
const struct srv_traffic *srv_traffic(const struct srv *s);
void srv_traffic_reset(struct srv *s);
/* Appends CLIENT LIST lines for every client-port connection. */
void srv_client_list(struct srv *s, struct buf *out);
void srv_client_info(const struct client *c, struct buf *out);
/* Total bytes buffered in query and output buffers (INFO memory). */
void srv_buffer_totals(const struct srv *s, size_t *qbuf, size_t *obuf);


#endif
