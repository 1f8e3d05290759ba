/* server.c — listeners and connections on the node's libevent loop.
 *
 * Owns: every connection (client port and cluster port), their query and
 * output buffers, and the id -> connection index.
 * Invariants:
 *   - qbuf[qstart..qlen) holds the bytes not yet consumed by the parser; the
 *     parser's state (c->req) describes the request starting at qstart.
 *   - replies leave in request order: a blocked connection parses nothing.
 *   - a connection whose unsent output exceeds SRV_OBUF_SOFT stops reading
 *     (TCP back-pressure reaches the sender); one whose queued bytes
 *     (unsent output + finished replies in slots + results its requests in
 *     flight gathered) exceed client-output-buffer-limit is closed, and
 *     handlers check a large reply fits before building it
 *     (srv_reply_fits).  So a client that sends and never reads cannot grow
 *     the server's memory without bound.
 *   - a client-port connection stops parsing and reading at
 *     max-inflight-per-client coordinator requests (counted by cmd/defer.c).
 *   - bounded before trust: a connection that must authenticate gets small
 *     request limits (unauth-max-*), is on its port's pending list (at most
 *     max-pending-connections, oldest closed first) and is closed after
 *     auth-grace-period; the cluster port holds at most cluster-maxclients;
 *     protected mode refuses remote clients of an unprotected node; an HTTP
 *     request (POST / Host:) closes the connection.
 *   - running out of file descriptors pauses accepting (retried on a timer)
 *     instead of spinning on a listener that stays readable.
 *   - a connection is freed only from its own event callbacks after its
 *     handler returned (CLI_F_CLOSING), never from inside a handler.
 *   - no output leaves before the durability barrier main.c registered
 *     (the log: srv_set_barrier) holds what it acknowledges.
 * Never blocks: sockets are non-blocking; work per wakeup is bounded by the
 * bytes one read() returns (SRV_READ_CHUNK, or one large bulk argument).
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

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

static void client_free(struct client *c);
static bool client_flush(struct client *c);
static void client_process(struct client *c);

/* ---- durability barrier (srv_set_barrier; none = all durable) ---- */

void srv_set_barrier(struct srv *s, const struct srv_barrier *b)
{
    s->barrier = *b;
}

static bool barrier_flush(struct srv *s)
{
    return !s->barrier.flush || s->barrier.flush(s->barrier.arg);
}

static unsigned long long barrier_seq(struct srv *s)
{
    return s->barrier.queued_seq ? s->barrier.queued_seq(s->barrier.arg) : 0;
}

static bool barrier_durable(struct srv *s, unsigned long long seq)
{
    return !s->barrier.durable || s->barrier.durable(s->barrier.arg, seq);
}

/* ---- id index ---- */

static void idx_insert(struct srv *s, struct client *c)
{
    size_t b = c->id & s->idx_mask;
    c->hnext = s->idx[b];
    s->idx[b] = c;
}

static void idx_remove(struct srv *s, struct client *c)
{
    struct client **pp = &s->idx[c->id & s->idx_mask];
    while (*pp && *pp != c)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = c->hnext;
}

struct client *srv_client_find(struct srv *s, uint64_t id)
{
    for (struct client *c = s->idx[id & s->idx_mask]; c; c = c->hnext)
        if (c->id == id)
            return (c->flags & CLI_F_CLOSING) ? NULL : c;
    return NULL;
}

/* ---- connections not yet authenticated ----
 *
 * A connection that must still authenticate (requirepass on the client
 * port, the cluster secret on the cluster port) is on its port's pending
 * list, oldest first.  It leaves the list when it authenticates (checked
 * after each of its requests) or closes.  The list is bounded by
 * max-pending-connections (the oldest is closed to make room, so a flood
 * of silent connections cannot lock real clients out) and by auth-grace-period
 * (the cron closes those older than that). */

static void pend_add(struct srv *s, struct client *c)
{
    c->pprev = s->pend_tail[c->kind];
    c->pnext = NULL;
    if (c->pprev)
        c->pprev->pnext = c;
    else
        s->pend_head[c->kind] = c;
    s->pend_tail[c->kind] = c;
    s->npending[c->kind]++;
    c->flags |= CLI_F_PENDING;
}

static void pend_remove(struct srv *s, struct client *c)
{
    if (!(c->flags & CLI_F_PENDING))
        return;
    if (c->pprev)
        c->pprev->pnext = c->pnext;
    else
        s->pend_head[c->kind] = c->pnext;
    if (c->pnext)
        c->pnext->pprev = c->pprev;
    else
        s->pend_tail[c->kind] = c->pprev;
    c->pnext = c->pprev = NULL;
    s->npending[c->kind]--;
    c->flags &= ~CLI_F_PENDING;
}

/* A request of c may have authenticated it. */
static void pend_check(struct client *c)
{
    if ((c->flags & (CLI_F_PENDING | CLI_F_AUTHED)) == (CLI_F_PENDING | CLI_F_AUTHED))
        pend_remove(c->srv, c);
}

/* ---- lifecycle ---- */

/* Closes client-port connections idle for more than `timeout` seconds
 * (Redis's option).  Connections waiting for a reply are not idle. */
static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct srv *s = arg;
    int64_t now = clock_now_ms();
    struct client *next;
    /* Unauthenticated connections: the list is in connect order, so the
     * walk stops at the first one still within its time. */
    int64_t auth_ms = (int64_t)s->cfg->auth_grace_period * 1000;
    for (int k = 0; k < SRV_KIND_COUNT; k++) {
        struct client *c;
        while ((c = s->pend_head[k]) && now - c->ctime_ms > auth_ms) {
            if (c->flags & CLI_F_AUTHED) {
                pend_remove(s, c);
                continue;
            }
            log_debug("closing %s: not authenticated within auth-grace-period", c->addr);
            s->st.auth_timeouts++;
            if (c->flags & CLI_F_IN_DISPATCH) {
                pend_remove(s, c); /* cannot happen from the cron; be safe */
                c->flags |= CLI_F_CLOSE_AFTER_REPLY;
                continue;
            }
            client_free(c);
        }
    }
    if (s->st.evicted_pending > s->evicted_logged) {
        log_warn("%llu unauthenticated connections closed to stay within "
                 "max-pending-connections (%d) since the last report",
                 (unsigned long long)(s->st.evicted_pending - s->evicted_logged),
                 s->cfg->max_pending_connections);
        s->evicted_logged = s->st.evicted_pending;
    }
    int timeout = s->cfg->timeout;
    if (timeout <= 0)
        return;
    for (struct client *c = s->clients; c; c = next) {
        next = c->next;
        if (c->kind == SRV_CLIENT && !c->slot_head && now - c->last_ms > (int64_t)timeout * 1000) {
            log_debug("closing idle client %s", c->addr);
            client_free(c);
        }
    }
}

/* Raises the soft RLIMIT_NOFILE so that maxclients client connections and
 * cluster-maxclients cluster connections fit (as Redis does at start): a
 * shell's default of 1024 would otherwise run out long before maxclients.
 * When the hard limit is lower, uses what it allows and says so; running
 * out of fds then pauses accepting (on_accept) instead of failing. */
static void fd_limit_fit(const struct cfg *cfg)
{
    rlim_t want = (rlim_t)cfg->maxclients + (rlim_t)cfg->cluster_maxclients + SRV_FD_RESERVE;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rlim_t to = (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want) ? rl.rlim_max : want;
    rlim_t had = rl.rlim_cur;
    if (to > had) {
        rl.rlim_cur = to;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            rl.rlim_cur = had;
    }
    if (rl.rlim_cur < want)
        log_warn("open files limit is %llu, below maxclients + cluster-maxclients + %d = %llu "
                 "(raise it with ulimit -n or LimitNOFILE): when it runs out, new connections "
                 "wait until others close",
                 (unsigned long long)rl.rlim_cur, SRV_FD_RESERVE, (unsigned long long)want);
    else
        log_info("open files limit raised from %llu to %llu", (unsigned long long)had,
                 (unsigned long long)rl.rlim_cur);
}

struct srv *srv_create(struct event_base *base, const struct cfg *cfg,
                       const struct srv_dispatch *disp, struct kv_node *app)
{
    fd_limit_fit(cfg);
    struct srv *s = mem_calloc(1, sizeof(*s));
    s->base = base;
    s->cfg = cfg;
    s->disp = *disp;
    s->app = app;
    s->next_id = 1;
    s->idx_mask = 4096 - 1;
    s->idx = mem_calloc(s->idx_mask + 1, sizeof(*s->idx));
    s->cron = event_new(base, -1, EV_PERSIST, on_cron, s);
    struct timeval tv = {1, 0};
    event_add(s->cron, &tv);
    return s;
}

void srv_destroy(struct srv *s)
{
    if (!s)
        return;
    while (s->clients)
        client_free(s->clients);
    event_free(s->cron);
    for (int i = 0; i < s->nlst; i++) {
        event_free(s->lst[i].ev);
        event_free(s->lst[i].retry);
        close(s->lst[i].fd);
    }
    mem_free(s->idx);
    mem_free(s);
}

static void fmt_addr(const struct sockaddr_in *sa, char *out, size_t n)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
    snprintf(out, n, "%s:%d", ip, ntohs(sa->sin_port));
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

static void client_create(struct srv *s, int fd, enum srv_kind kind)
{
    struct client *c = mem_calloc(1, sizeof(*c));
    c->srv = s;
    c->node = s->app;
    c->id = s->next_id++;
    c->fd = fd;
    c->kind = kind;
    c->proto = 2;
    resp_req_init(&c->req);
    buf_init(&c->out);
    c->ctime_ms = c->last_ms = clock_now_ms();
    struct sockaddr_in sa;
    socklen_t sl = sizeof(sa);
    if (getpeername(fd, (struct sockaddr *)&sa, &sl) == 0)
        fmt_addr(&sa, c->addr, sizeof(c->addr));
    sl = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        fmt_addr(&sa, c->laddr, sizeof(c->laddr));
    /* Without a password a client connection starts authenticated; a
     * cluster-port connection never does: it must complete the peer
     * handshake (cmd_peer.c), whatever the secret. */
    const struct cfg *cfg = s->cfg;
    const char *secret = cfg->requirepass;
    if (kind == SRV_CLIENT && (!secret || !*secret))
        c->flags |= CLI_F_AUTHED;
    else
        pend_add(s, c);
    c->ev_read = event_new(s->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->ev_write = event_new(s->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    event_add(c->ev_read, NULL);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients[kind]++;
    idx_insert(s, c);
    s->tr.connections_received++;
}

struct reply_slot {
    struct reply_slot *next;
    struct buf out;
    bool done;
    bool write;            /* the reply of a write command */
};

static struct reply_slot *slot_append(struct client *c, bool done)
{
    struct reply_slot *sl = mem_calloc(1, sizeof(*sl));
    sl->done = done;
    if (c->slot_tail)
        c->slot_tail->next = sl;
    else
        c->slot_head = sl;
    c->slot_tail = sl;
    c->nslots++;
    return sl;
}

/* Moves the filled slots at the head of the queue to the output. */
static void slots_drain(struct client *c)
{
    struct reply_slot *sl;
    while ((sl = c->slot_head) && sl->done) {
        buf_put(&c->out, sl->out.data ? sl->out.data : "", sl->out.len);
        c->slot_bytes -= sl->out.len;
        c->slot_head = sl->next;
        if (!c->slot_head)
            c->slot_tail = NULL;
        c->nslots--;
        buf_fini(&sl->out);
        mem_free(sl);
    }
    if (c->nslots < SRV_MAX_PENDING)
        c->flags &= ~CLI_F_BLOCKED;
}

struct reply_slot *srv_slot_open(struct client *c)
{
    struct reply_slot *sl = slot_append(c, false);
    c->slot_opened = sl;
    return sl;
}

static void client_free(struct client *c)
{
    struct srv *s = c->srv;
    s->disp.client_gone(c);
    while (c->slot_head) {
        struct reply_slot *sl = c->slot_head;
        c->slot_head = sl->next;
        buf_fini(&sl->out);
        mem_free(sl);
    }
    idx_remove(s, c);
    pend_remove(s, c);
    if (c->prev)
        c->prev->next = c->next;
    else
        s->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    s->nclients[c->kind]--;
    event_free(c->ev_read);
    event_free(c->ev_write);
    close(c->fd);
    resp_req_fini(&c->req);
    buf_fini(&c->out);
    mem_free(c->qbuf);
    mem_free(c->argv);
    mem_free(c->name);
    mem_free(c->lib_name);
    mem_free(c->lib_ver);
    mem_free(c);
}

/* 127.0.0.0/8: the peer is on this machine's loopback. */
static bool is_loopback_v4(const struct in_addr *a)
{
    return (ntohl(a->s_addr) >> 24) == 127;
}

/* The configured bind address is a loopback one (nothing off the machine
 * can connect). */
static bool bind_is_loopback(const char *bind)
{
    struct in_addr a;
    if (strcasecmp(bind, "localhost") == 0)
        return true;
    return inet_pton(AF_INET, bind, &a) == 1 && is_loopback_v4(&a);
}

/* Protected mode (Redis's): bound beyond loopback with no password, only
 * loopback clients are served; others learn what to configure. */
static bool protected_refuses(const struct cfg *cfg, const struct sockaddr_in *peer)
{
    if (!cfg->protected_mode || (cfg->requirepass && *cfg->requirepass) ||
        bind_is_loopback(cfg->bind))
        return false;
    return peer->sin_family != AF_INET || !is_loopback_v4(&peer->sin_addr);
}

static const char protected_msg[] =
    "-DENIED dynamo-node is running in protected mode: it listens beyond loopback and no "
    "password is set, so only clients on the loopback interface are served. To serve this "
    "client, do one of: 1) set a password (requirepass in the config file, or CONFIG SET "
    "requirepass from loopback) and have clients AUTH with it; 2) bind to 127.0.0.1 if only "
    "local clients need the node; 3) turn protection off with 'protected-mode no' (config "
    "file, --protected-mode no, or CONFIG SET from loopback) only if the network is trusted."
    "\r\n";

/* Best effort: a refusal message on a new connection, then close. */
static void refuse(int fd, const char *msg, size_t len)
{
    ssize_t w = write(fd, msg, len);
    (void)w;
    close(fd);
}

static void on_accept_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct listener *l = arg;
    event_add(l->ev, NULL);
}

/* No file descriptor for a new connection (EMFILE, ENFILE) or no kernel
 * memory: the pending connection stays in the backlog and the listener
 * would wake again at once, spinning.  Stop listening for a while instead
 * (100 ms, doubling to 1 s while it keeps happening). */
static void accept_pause(struct listener *l, int err)
{
    struct srv *s = l->srv;
    if (l->backoff_ms == 0) {
        l->backoff_ms = SRV_ACCEPT_RETRY_MIN_MS;
        log_warn("accept on the %s port: %s; not accepting for a while (retrying up to every "
                 "%d ms)", l->kind == SRV_CLIENT ? "client" : "cluster", strerror(err),
                 SRV_ACCEPT_RETRY_MAX_MS);
    }
    s->st.accept_pauses++;
    event_del(l->ev);
    struct timeval tv = {l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000};
    evtimer_add(l->retry, &tv);
    l->backoff_ms *= 2;
    if (l->backoff_ms > SRV_ACCEPT_RETRY_MAX_MS)
        l->backoff_ms = SRV_ACCEPT_RETRY_MAX_MS;
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct listener *l = arg;
    struct srv *s = l->srv;
    const struct cfg *cfg = s->cfg;
    /* Bounded: at most 64 accepts per wakeup so a connection storm cannot
     * starve established clients. */
    for (int i = 0; i < 64; i++) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        memset(&peer, 0, sizeof(peer));
        int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
                accept_pause(l, err);
            } else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR &&
                       err != ECONNABORTED) {
                log_warn("accept: %s", strerror(err));
            }
            return;
        }
        l->backoff_ms = 0;
        if (l->kind == SRV_CLIENT && protected_refuses(cfg, &peer)) {
            char a[64];
            fmt_addr(&peer, a, sizeof(a));
            log_warn("protected mode: refused client %s (bind %s, no requirepass)", a, cfg->bind);
            s->st.protected_denied++;
            refuse(fd, protected_msg, sizeof(protected_msg) - 1);
            continue;
        }
        /* A connection that will have to authenticate: make room on the
         * pending list by closing the oldest one still silent. */
        const char *secret = l->kind == SRV_CLIENT ? cfg->requirepass : cfg->cluster_secret;
        if (secret && *secret) {
            struct client *old;
            while (s->npending[l->kind] >= (unsigned)cfg->max_pending_connections &&
                   (old = s->pend_head[l->kind])) {
                if (old->flags & CLI_F_AUTHED) {
                    pend_remove(s, old);
                    continue;
                }
                s->st.evicted_pending++;
                if (old->flags & CLI_F_IN_DISPATCH) {
                    pend_remove(s, old);
                    old->flags |= CLI_F_CLOSE_AFTER_REPLY;
                    continue;
                }
                client_free(old);
            }
        }
        if (l->kind == SRV_CLIENT && s->nclients[SRV_CLIENT] >= (unsigned)cfg->maxclients) {
            static const char msg[] = "-ERR max number of clients reached\r\n";
            refuse(fd, msg, sizeof(msg) - 1);
            s->tr.rejected_connections++;
            continue;
        }
        if (l->kind == SRV_PEER && s->nclients[SRV_PEER] >= (unsigned)cfg->cluster_maxclients) {
            static const char msg[] = "-ERR max number of cluster connections reached "
                                      "(cluster-maxclients)\r\n";
            refuse(fd, msg, sizeof(msg) - 1);
            s->st.cluster_rejected++;
            s->tr.rejected_connections++;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        client_create(s, fd, l->kind);
    }
}

int srv_listen(struct srv *s, enum srv_kind kind, const char *host, int port)
{
    if (s->nlst >= SRV_MAX_LISTENERS)
        return -ENOSPC;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, s->cfg->tcp_backlog) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct listener *l = &s->lst[s->nlst++];
    l->srv = s;
    l->kind = kind;
    l->fd = fd;
    l->ev = event_new(s->base, fd, EV_READ | EV_PERSIST, on_accept, l);
    l->retry = evtimer_new(s->base, on_accept_retry, l);
    l->backoff_ms = 0;
    event_add(l->ev, NULL);
    return 0;
}

/* ---- input ---- */

/* Makes room for at least want more bytes after qlen, compacting first. */
static void qbuf_reserve(struct client *c, size_t want)
{
    if (c->qstart > 0 && (c->qstart == c->qlen || c->qcap - c->qlen < want)) {
        memmove(c->qbuf, c->qbuf + c->qstart, c->qlen - c->qstart);
        c->qlen -= c->qstart;
        c->qstart = 0;
    }
    if (c->qcap - c->qlen < want) {
        size_t cap = c->qcap ? c->qcap : SRV_READ_CHUNK;
        while (cap - c->qlen < want)
            cap *= 2;
        c->qbuf = mem_realloc(c->qbuf, cap);
        c->qcap = cap;
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    struct client *c = arg;
    /* A large bulk argument: size the buffer once for the whole of it. */
    size_t want = SRV_READ_CHUNK;
    size_t have = c->qlen - c->qstart;
    if (c->req.need > have && c->req.need - have > want)
        want = c->req.need - have;
    qbuf_reserve(c, want);
    ssize_t n = read(fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        c->flags |= CLI_F_CLOSING;
    } else if (n == 0) {
        c->flags |= CLI_F_CLOSING;
    } else {
        c->qlen += (size_t)n;
        c->last_ms = clock_now_ms();
        c->srv->tr.net_input_bytes += (uint64_t)n;
        if ((long long)(c->qlen - c->qstart) > c->srv->cfg->client_query_buffer_limit) {
            log_warn("closing client %s: query buffer over client-query-buffer-limit", c->addr);
            c->flags |= CLI_F_CLOSING;
        } else {
            client_process(c);
        }
    }
    if (c->flags & CLI_F_CLOSING) {
        client_free(c);
        return;
    }
    client_flush(c);
}

/* Runs one request.  While replies are pending, this request's reply is
 * collected in a slot of its own so it cannot overtake them. */
static void dispatch(struct client *c, const struct cmd_def *d, int argc, bool is_write)
{
    bool queued = c->slot_head != NULL;
    struct buf saved;
    if (queued) {
        saved = c->out;
        buf_init(&c->out);
    }
    c->slot_opened = NULL;
    c->flags |= CLI_F_IN_DISPATCH;
    unsigned long long logged = barrier_seq(c->srv);
    c->srv->disp.dispatch(c, d, argc, c->argv);
    c->flags &= ~CLI_F_IN_DISPATCH;
    /* the reply acknowledges what this request logged */
    if (barrier_seq(c->srv) != logged)
        c->log_need = barrier_seq(c->srv);
    c->srv->tr.commands_processed++;
    if (queued) {
        struct buf produced = c->out;
        c->out = saved;
        if (c->slot_opened) {
            buf_fini(&produced); /* the reply comes later, in its slot */
        } else {
            struct reply_slot *sl = slot_append(c, true);
            sl->out = produced;
            c->slot_bytes += produced.len;
        }
        slots_drain(c);
    }
    if (c->slot_opened && is_write) {
        c->slot_opened->write = true;
        c->pending_writes++;
    }
    c->slot_opened = NULL;
    if (c->nslots >= SRV_MAX_PENDING)
        c->flags |= CLI_F_BLOCKED;
}

/* ---- bounded per client ---- */

/* Everything queued for c: unsent output, finished replies waiting in
 * slots, and reply data gathered by its requests in flight. */
static size_t queued_bytes(const struct client *c)
{
    return (c->out.len - c->out_sent) + c->slot_bytes + c->held_bytes;
}

/* Peers are trusted and their replies bounded by the protocol (an
 * anti-entropy key listing can be large): the limit is for clients. */
static bool over_output_limit(const struct client *c, size_t more)
{
    if (!c->srv) /* defer_call's scratch client: no connection, no limit */
        return false;
    long long lim = c->srv->cfg->client_output_buffer_limit;
    return c->kind == SRV_CLIENT && lim > 0 && (long long)(queued_bytes(c) + more) > lim;
}

/* Closes c for its output limit: now if control is in one of its own
 * callbacks (they free a CLI_F_CLOSING client on return), else through
 * its write event. */
static void output_overflow(struct client *c)
{
    if (c->flags & CLI_F_CLOSING)
        return;
    log_warn("closing client %s: output over client-output-buffer-limit (%lld bytes)", c->addr,
             c->srv->cfg->client_output_buffer_limit);
    c->srv->tr.output_limit_disconnections++;
    c->flags |= CLI_F_CLOSING;
    event_active(c->ev_write, EV_WRITE, 1);
}

void srv_client_hold(struct client *c, long long delta)
{
    if (delta < 0 && (size_t)(-delta) > c->held_bytes)
        c->held_bytes = 0;
    else
        c->held_bytes = (size_t)((long long)c->held_bytes + delta);
    if (delta > 0 && over_output_limit(c, 0))
        output_overflow(c);
}

bool srv_reply_fits(struct client *c, size_t more)
{
    if (!c->srv || !over_output_limit(c, more)) /* !srv: defer_call's scratch client */
        return true;
    output_overflow(c);
    return false;
}

void srv_inflight_begin(struct client *c)
{
    c->inflight++;
    if (c->inflight > c->srv->st.inflight_peak)
        c->srv->st.inflight_peak = c->inflight;
}

void srv_inflight_end(struct client *c)
{
    if (c->inflight > 0)
        c->inflight--;
}

/* Peer connections are exempt: their requests (PFWD) wait on replicas that
 * may answer over the same links, and pausing those could stall two nodes
 * on each other; peers are trusted like for the output limit. */
bool srv_inflight_full(const struct client *c)
{
    return c->kind == SRV_CLIENT && c->srv &&
           c->inflight >= (unsigned)c->srv->cfg->max_inflight_per_client;
}

/* HOT: parses and dispatches every complete request in the buffer. */
static void client_process(struct client *c)
{
    const struct cfg *cfg = c->srv->cfg;
    while (!(c->flags & (CLI_F_BLOCKED | CLI_F_CLOSE_AFTER_REPLY | CLI_F_CLOSING))) {
        /* Before authentication a request is small (AUTH, HELLO, the peer
         * handshake): Redis's limits since CVE-2021-32675. */
        bool authed = c->flags & CLI_F_AUTHED;
        struct resp_limits lim = {
            .max_bulk = authed ? cfg->proto_max_bulk_len : cfg->unauth_max_bulk_len,
            .max_mbulk = authed ? cfg->max_multibulk_len : cfg->unauth_max_multibulk_len,
            .max_inline = authed ? RESP_DEFAULT_MAX_INLINE : (size_t)cfg->unauth_max_bulk_len,
        };
        /* Back-pressure: no new request while this connection has as many
         * coordinator requests in flight as it may; completions resume it. */
        if (srv_inflight_full(c)) {
            c->srv->st.inflight_waits++;
            break;
        }
        if (!(c->flags & CLI_F_HELD)) {
            if (c->qstart >= c->qlen)
                break;
            const char *err = NULL;
            enum resp_status st = resp_parse(&c->req, c->qbuf + c->qstart,
                                             c->qlen - c->qstart, &lim, &err);
            if (st == RESP_AGAIN)
                break;
            if (st == RESP_EPROTO) {
                c->srv->tr.protocol_errors++;
                if (authed)
                    resp_add_errorf(&c->out, "ERR", "Protocol error: %s",
                                    err ? err : "invalid request");
                else
                    resp_add_errorf(&c->out, "ERR",
                                    "Protocol error: %s (unauthenticated connections may send "
                                    "at most %lld arguments of at most %lld bytes)",
                                    err ? err : "invalid request", lim.max_mbulk, lim.max_bulk);
                log_debug("protocol error from %s: %s", c->addr, err ? err : "?");
                c->flags |= CLI_F_CLOSE_AFTER_REPLY;
                break;
            }
        }
        int argc = c->req.argc;
        const char *base = c->qbuf + c->qstart;
        bool is_write = false;
        const struct cmd_def *d = NULL;
        if (argc > 0) {
            struct arg name = {base + c->req.args[0].off, c->req.args[0].len};
            /* Cross-protocol scripting: a web page can make a browser send
             * an HTTP request here whose body holds commands.  Its first
             * line is "POST ..." or a header "Host: ..." (Redis's guard):
             * close at once, before any later line runs. */
            if ((name.len == 4 && strncasecmp(name.p, "post", 4) == 0) ||
                (name.len == 5 && strncasecmp(name.p, "host:", 5) == 0)) {
                log_warn("possible SECURITY ATTACK (cross-protocol scripting): %s sent an HTTP "
                         "request to the %s port; connection closed", c->addr,
                         c->kind == SRV_CLIENT ? "client" : "cluster");
                c->srv->st.cross_protocol++;
                c->flags |= CLI_F_CLOSING;
                return;
            }
            /* one lookup per request: a held one keeps what it resolved */
            if (!(c->flags & CLI_F_HELD))
                c->req_cmd = c->srv->disp.resolve(c, &name, &c->req_write);
            d = c->req_cmd;
            is_write = c->req_write;
        }
        /* Read-your-writes on one connection, as Redis gives it: while a
         * write is pending, nothing after it starts; a write waits for
         * everything before it.  Reads still overlap with reads. */
        if (argc > 0 && c->kind == SRV_CLIENT && c->slot_head &&
            (is_write || c->pending_writes > 0)) {
            c->flags |= CLI_F_HELD;
            break;
        }
        c->flags &= ~CLI_F_HELD;
        /* argv is built now: the buffer may have moved while it was held */
        if (argc > c->argv_cap) {
            c->argv_cap = argc < 16 ? 16 : argc;
            c->argv = mem_realloc(c->argv, (size_t)c->argv_cap * sizeof(*c->argv));
        }
        for (int i = 0; i < argc; i++) {
            c->argv[i].p = base + c->req.args[i].off;
            c->argv[i].len = c->req.args[i].len;
        }
        size_t consumed = c->req.consumed;
        if (argc > 0) {
            dispatch(c, d, argc, is_write);
            pend_check(c);
        }
        c->qstart += consumed;
        resp_req_reset(&c->req);
        if (over_output_limit(c, 0)) {
            output_overflow(c);
            return;
        }
    }
    if (c->qstart == c->qlen) {
        c->qstart = c->qlen = 0;
        if (c->qcap > SRV_QBUF_KEEP) {
            mem_free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        }
    }
}

/* ---- output ---- */

static void read_pause(struct client *c, bool pause)
{
    if (pause && !(c->flags & CLI_F_READ_PAUSED)) {
        event_del(c->ev_read);
        c->flags |= CLI_F_READ_PAUSED;
    } else if (!pause && (c->flags & CLI_F_READ_PAUSED)) {
        event_add(c->ev_read, NULL);
        c->flags &= ~CLI_F_READ_PAUSED;
    }
}

/* Writes as much output as the socket takes; arms the write event for the
 * rest.  Pauses reading while the backlog is large or a reply is awaited.
 * Returns false when c was freed (write error, or closed after its reply). */
static bool client_flush(struct client *c)
{
    /* Whatever these replies acknowledge must be in the log first.  While
     * the log cannot be written, a connection whose output acknowledges an
     * unwritten change is held (srv_log_resumed releases it). */
    if (!barrier_flush(c->srv) && !barrier_durable(c->srv, c->log_need)) {
        c->flags |= CLI_F_LOG_WAIT;
        read_pause(c, true);
        return true;
    }
    c->flags &= ~CLI_F_LOG_WAIT;
    while (c->out_sent < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            if (errno == EINTR)
                continue;
            client_free(c);
            return false;
        }
        c->out_sent += (size_t)n;
        c->srv->tr.net_output_bytes += (uint64_t)n;
    }
    size_t backlog = c->out.len - c->out_sent;
    if (backlog == 0) {
        c->out.len = 0;
        c->out_sent = 0;
        buf_trim(&c->out, SRV_QBUF_KEEP);
        event_del(c->ev_write);
        if ((c->flags & CLI_F_CLOSE_AFTER_REPLY) && !c->slot_head) {
            client_free(c);
            return false;
        }
    } else {
        event_add(c->ev_write, NULL);
    }
    read_pause(c, backlog > SRV_OBUF_SOFT ||
                      srv_inflight_full(c) ||
                      (c->flags & (CLI_F_BLOCKED | CLI_F_HELD | CLI_F_CLOSE_AFTER_REPLY |
                                   CLI_F_LOG_WAIT)));
    return true;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct client *c = arg;
    if (c->flags & CLI_F_CLOSING) { /* closed from outside its callbacks */
        client_free(c);
        return;
    }
    client_flush(c);
}

void srv_slot_fill(struct client *c, struct reply_slot *slot, srv_fill_fn fn, void *arg)
{
    struct buf saved = c->out;
    c->out = slot->out;
    fn(arg, c);
    slot->out = c->out;
    c->out = saved;
    slot->done = true;
    /* a deferred write's reply acknowledges whatever its coordination
     * logged meanwhile (conservatively: everything logged so far) */
    if (slot->write || c->kind == SRV_PEER)
        c->log_need = barrier_seq(c->srv);
    pend_check(c); /* a handshake may complete late */
    c->slot_bytes += slot->out.len;
    if (slot->write) {
        slot->write = false;
        c->pending_writes--;
    }
    if (c->flags & CLI_F_IN_DISPATCH)
        return; /* c->out is redirected now; dispatch() drains the slots */
    slots_drain(c);
    if (over_output_limit(c, 0))
        output_overflow(c);
    if (c->flags & CLI_F_CLOSING) {
        client_free(c);
        return;
    }
    client_process(c);
    if (c->flags & CLI_F_CLOSING) {
        client_free(c);
        return;
    }
    client_flush(c);
}

void srv_log_resumed(void *arg)
{
    struct srv *s = arg;
    struct client *next;
    for (struct client *c = s->clients; c; c = next) {
        next = c->next;
        if ((c->flags & CLI_F_LOG_WAIT) && !(c->flags & CLI_F_CLOSING))
            client_flush(c);
    }
}

void srv_client_close_after_reply(struct client *c)
{
    c->flags |= CLI_F_CLOSE_AFTER_REPLY;
}

/* ---- introspection ---- */

unsigned srv_nclients(const struct srv *s, enum srv_kind kind)
{
    return s->nclients[kind];
}

unsigned srv_npending(const struct srv *s, enum srv_kind kind)
{
    return s->npending[kind];
}

const struct srv_stats *srv_stats(const struct srv *s)
{
    return &s->st;
}

const struct srv_traffic *srv_traffic(const struct srv *s)
{
    return &s->tr;
}

void srv_traffic_reset(struct srv *s)
{
    memset(&s->tr, 0, sizeof(s->tr));
}

void srv_client_info(const struct client *c, struct buf *out)
{
    int64_t now = clock_now_ms();
    buf_printf(out,
               "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=0 "
               "qbuf=%zu qbuf-free=%zu obl=%zu resp=%d lib-name=%s lib-ver=%s cmd=%s\n",
               (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
               (long long)((now - c->ctime_ms) / 1000), (long long)((now - c->last_ms) / 1000),
               (c->flags & CLI_F_BLOCKED) ? "b" : "N", c->qlen - c->qstart, c->qcap - c->qlen,
               c->out.len - c->out_sent, c->proto, c->lib_name ? c->lib_name : "",
               c->lib_ver ? c->lib_ver : "", c->last_cmd ? c->last_cmd : "NULL");
}

void srv_client_list(struct srv *s, struct buf *out)
{
    for (struct client *c = s->clients; c; c = c->next)
        if (c->kind == SRV_CLIENT)
            srv_client_info(c, out);
}

void srv_buffer_totals(const struct srv *s, size_t *qbuf, size_t *obuf)
{
    size_t q = 0, o = 0;
    for (const struct client *c = s->clients; c; c = c->next) {
        q += c->qcap;
        o += c->out.cap;
    }
    *qbuf = q;
    *obuf = o;
}
