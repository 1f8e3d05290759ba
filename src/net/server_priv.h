/* server_priv.h — what the files of the client/cluster-port server share
 * (server.c, accept.c, reply.c): struct srv, the listener, the reply slot,
 * and the few functions one of them calls in another.  Not for use outside
 * net/: everything else goes through server.h.
 *
 *   server.c  connections: create/free, id index, reading, parsing and
 *             dispatch, writing (behind the durability barrier), INFO and
 *             CLIENT LIST figures.
 *   accept.c  admission and limits before trust: listeners and the accept
 *             path (fd exhaustion, maxclients, cluster-maxclients),
 *             protected mode, the pending list of unauthenticated
 *             connections, the once-a-second cron (auth-grace-period,
 *             timeout), the open-files limit.
 *   reply.c   replies in request order (reply slots), the per-connection
 *             output limit and held bytes, in-flight accounting. */
#ifndef KV_SERVER_PRIV_H
#define KV_SERVER_PRIV_H

#include <event2/util.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/server.h"
#include "util/buf.h"

#define SRV_READ_CHUNK (16 * 1024)      /* bytes asked of read() at a time */
#define SRV_OBUF_SOFT (256 * 1024)      /* stop reading above this backlog */
#define SRV_QBUF_KEEP (64 * 1024)       /* idle buffers larger than this shrink */
#define SRV_MAX_LISTENERS 4
#define SRV_FD_RESERVE 256              /* fds beyond both maxclients: log, peers */
#define SRV_ACCEPT_RETRY_MIN_MS 100     /* first pause after accept ran out of fds */
#define SRV_ACCEPT_RETRY_MAX_MS 1000    /* longest pause (doubling from the first) */

struct listener {
    struct srv *srv;
    enum srv_kind kind;
    int fd;
    struct event *ev;
    struct event *retry;                /* re-arms ev after a pause (no fds) */
    int backoff_ms;                     /* next pause; 0 = not paused lately */
};

struct srv {
    struct event_base *base;            /* borrowed: the node's loop */
    const struct cfg *cfg;              /* borrowed: read live (CONFIG SET) */
    struct kv_node *app;                /* opaque: copied into each c->node */
    struct srv_dispatch disp;           /* the command layer (main.c) */
    struct srv_traffic tr;              /* INFO stats counters */
    struct client *clients;             /* all connections */
    unsigned nclients[SRV_KIND_COUNT];
    uint64_t next_id;
    struct client **idx;                /* id hash: power-of-two buckets */
    size_t idx_mask;
    struct listener lst[SRV_MAX_LISTENERS];
    int nlst;
    struct event *cron;                 /* once a second: idle timeouts */
    /* connections not yet authenticated, per port, oldest first */
    struct client *pend_head[SRV_KIND_COUNT], *pend_tail[SRV_KIND_COUNT];
    unsigned npending[SRV_KIND_COUNT];
    struct srv_stats st;
    uint64_t evicted_logged;            /* st.evicted_pending when last logged */
    struct srv_barrier barrier;         /* durability before replies (main.c) */
};

struct reply_slot {
    struct reply_slot *next;
    struct buf out;
    bool done;
    bool write;            /* the reply of a write command */
};

/* ---- server.c ---- */

/* A new connection on fd (taken: closed by srv_client_free). */
void srv_client_create(struct srv *s, int fd, enum srv_kind kind);
/* Frees c now: only from c's own event callbacks or the cron, never from
 * inside one of its handlers (CLI_F_IN_DISPATCH). */
void srv_client_free(struct client *c);
/* Parses and dispatches every complete request in c's buffer. */
void srv_client_process(struct client *c);
/* Writes what the socket takes; false when c was freed meanwhile. */
bool srv_client_flush(struct client *c);
/* The barrier's mark for "everything queued up to now" (0 without one). */
unsigned long long srv_barrier_seq(struct srv *s);

/* ---- accept.c ---- */

/* The pending list of unauthenticated connections: add, remove (no-op when
 * c is not on it), and remove once a request authenticated c. */
void srv_pend_add(struct srv *s, struct client *c);
void srv_pend_remove(struct srv *s, struct client *c);
void srv_pend_check(struct client *c);
/* The once-a-second timer of struct srv (arg is the struct srv). */
void srv_cron(evutil_socket_t fd, short what, void *arg);
/* Raises RLIMIT_NOFILE for maxclients + cluster-maxclients (srv_create). */
void srv_fd_limit_fit(const struct cfg *cfg);
/* "ip:port" of sa into out (n bytes). */
void srv_fmt_addr(const struct sockaddr_in *sa, char *out, size_t n);

/* ---- reply.c ---- */

/* Appends a slot to c's queue (done: already filled, by dispatch). */
struct reply_slot *srv_slot_append(struct client *c, bool done);
/* Moves the filled slots at the head of c's queue to c->out. */
void srv_slots_drain(struct client *c);
/* c's queued bytes plus `more` exceed its output limit (client port only). */
bool srv_over_output_limit(const struct client *c, size_t more);
/* Marks c to close for its output limit (freed back in the loop). */
void srv_output_overflow(struct client *c);

#endif
