/* accept.c — admission: listeners, the accept path and the limits that
 * hold before a connection is trusted.
 *
 * Owns: the listening sockets and their accept-pause timers, the pending
 * list of unauthenticated connections per port, the once-a-second cron,
 * the protected-mode refusal, and raising the open-files limit at start.
 * Invariants:
 *   - bounded before trust: a connection that must authenticate is on its
 *     port's pending list (at most max-pending-connections, oldest closed
 *     first) and is closed after auth-grace-period; the cluster port holds
 *     at most cluster-maxclients, the client port maxclients.
 *   - protected mode refuses remote clients of an unprotected node (bound
 *     beyond loopback, no requirepass) with a message saying what to set.
 *   - running out of file descriptors pauses accepting (retried on a timer,
 *     100 ms doubling to 1 s) instead of spinning on a listener that stays
 *     readable.
 *   - client-port connections idle for more than `timeout` seconds, and
 *     waiting for no reply, are closed by the cron.
 * Callers: main.c (srv_listen), server.c (srv_create: srv_cron and
 * srv_fd_limit_fit; srv_client_create: srv_pend_add and srv_fmt_addr;
 * srv_client_free: srv_pend_remove; srv_client_process: srv_pend_check),
 * reply.c (srv_slot_fill: srv_pend_check).
 * Never blocks: sockets are non-blocking; at most 64 accepts per wakeup; a
 * refusal message is one best-effort write to a new socket.
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "net/server_priv.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- connections not yet authenticated ----
 *
 * A connection that must still authenticate (requirepass on the client
 * port, the cluster secret on the cluster port) is on its port's pending
 * list, oldest first.  It leaves the list when it authenticates (checked
 * after each of its requests) or closes.  The list is bounded by
 * max-pending-connections (the oldest is closed to make room, so a flood
 * of silent connections cannot lock real clients out) and by auth-grace-period
 * (the cron closes those older than that). */

void srv_pend_add(struct srv *s, struct client *c)
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

void srv_pend_remove(struct srv *s, struct client *c)
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
void srv_pend_check(struct client *c)
{
    if ((c->flags & (CLI_F_PENDING | CLI_F_AUTHED)) == (CLI_F_PENDING | CLI_F_AUTHED))
        srv_pend_remove(c->srv, c);
}

/* Once a second: closes unauthenticated connections older than
 * auth-grace-period, reports evictions for max-pending-connections, and
 * closes client-port connections idle for more than `timeout` seconds
 * (Redis's option).  Connections waiting for a reply are not idle. */
void srv_cron(evutil_socket_t fd, short what, void *arg)
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
                srv_pend_remove(s, c);
                continue;
            }
            log_debug("closing %s: not authenticated within auth-grace-period", c->addr);
            s->st.auth_timeouts++;
            if (c->flags & CLI_F_IN_DISPATCH) {
                srv_pend_remove(s, c); /* cannot happen from the cron; be safe */
                c->flags |= CLI_F_CLOSE_AFTER_REPLY;
                continue;
            }
            srv_client_free(c);
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
            srv_client_free(c);
        }
    }
}

/* Raises the soft RLIMIT_NOFILE so that maxclients client connections and
 * cluster-maxclients cluster connections fit (as Redis does at start): a
 * shell's default of 1024 would otherwise run out long before maxclients.
 * When the hard limit is lower, uses what it allows and says so; running
 * out of fds then pauses accepting (on_accept) instead of failing. */
void srv_fd_limit_fit(const struct cfg *cfg)
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

void srv_fmt_addr(const struct sockaddr_in *sa, char *out, size_t n)
{
    char ip[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof(ip));
    snprintf(out, n, "%s:%d", ip, ntohs(sa->sin_port));
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
bool srv_protected_refuses(const struct cfg *cfg, const char *bound,
                           const struct sockaddr_in *peer)
{
    if (!cfg->protected_mode || (cfg->requirepass && *cfg->requirepass) ||
        bind_is_loopback(bound))
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
        if (l->kind == SRV_CLIENT && srv_protected_refuses(cfg, cfg->bind, &peer)) {
            char a[64];
            srv_fmt_addr(&peer, a, sizeof(a));
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
                    srv_pend_remove(s, old);
                    continue;
                }
                s->st.evicted_pending++;
                if (old->flags & CLI_F_IN_DISPATCH) {
                    srv_pend_remove(s, old);
                    old->flags |= CLI_F_CLOSE_AFTER_REPLY;
                    continue;
                }
                srv_client_free(old);
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
        srv_client_create(s, fd, l->kind);
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
