/* server.c — connections on the node's libevent loop: reading, parsing,
 * dispatch and writing.
 *
 * Owns: every connection (client port and cluster port), their query and
 * output buffers, the id -> connection index, the durability barrier
 * main.c registered, and the traffic counters (srv_traffic).  Admission
 * (listeners, accept, protected mode, the pending list, the cron) is in
 * accept.c; replies in order, output limits and in-flight accounting are
 * in reply.c; server_priv.h is what the three share.
 * Invariants:
 *   - qbuf[qstart..qlen) holds the bytes not yet consumed by the parser; the
 *     parser's state (c->req) describes the request starting at qstart.
 *   - replies leave in request order: a blocked connection parses nothing.
 *   - a connection whose unsent output exceeds SRV_OBUF_SOFT stops reading
 *     (TCP back-pressure reaches the sender); over its output limit it is
 *     closed (reply.c).
 *   - a client-port connection stops parsing and reading at
 *     max-inflight-per-client coordinator requests (counted by cmd/defer.c).
 *   - before authentication a request is small (unauth-max-*); an HTTP
 *     request (POST / Host:) closes the connection.
 *   - a connection is freed only from its own event callbacks after its
 *     handler returned (CLI_F_CLOSING), never from inside a handler.
 *   - no output leaves before the durability barrier main.c registered
 *     (the log: srv_set_barrier) holds what it acknowledges.
 * Callers: main.c (srv_create, srv_listen, srv_set_barrier, srv_destroy,
 * srv_log_resumed through the log), cmd/ (srv_client_find, CLIENT LIST,
 * INFO figures); accept.c and reply.c (server_priv.h).  Calls up only
 * through the struct srv_dispatch main.c registered (cmd/).
 * Never blocks: sockets are non-blocking; work per wakeup is bounded by the
 * bytes one read() returns (SRV_READ_CHUNK, or one large bulk argument).
 */
#include "net/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/config.h"
#include "net/server_priv.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- durability barrier (srv_set_barrier; none = all durable) ---- */

void srv_set_barrier(struct srv *s, const struct srv_barrier *b)
{
    s->barrier = *b;
}

static bool barrier_flush(struct srv *s)
{
    return !s->barrier.flush || s->barrier.flush(s->barrier.arg);
}

unsigned long long srv_barrier_seq(struct srv *s)
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

/* ---- lifecycle ---- */

struct srv *srv_create(struct event_base *base, const struct cfg *cfg,
                       const struct srv_dispatch *disp, struct kv_node *app)
{
    srv_fd_limit_fit(cfg);
    struct srv *s = mem_calloc(1, sizeof(*s));
    s->base = base;
    s->cfg = cfg;
    s->disp = *disp;
    s->app = app;
    s->next_id = 1;
    s->idx_mask = 4096 - 1;
    s->idx = mem_calloc(s->idx_mask + 1, sizeof(*s->idx));
    s->cron = event_new(base, -1, EV_PERSIST, srv_cron, s);
    struct timeval tv = {1, 0};
    event_add(s->cron, &tv);
    return s;
}

void srv_destroy(struct srv *s)
{
    if (!s)
        return;
    while (s->clients)
        srv_client_free(s->clients);
    event_free(s->cron);
    for (int i = 0; i < s->nlst; i++) {
        event_free(s->lst[i].ev);
        event_free(s->lst[i].retry);
        close(s->lst[i].fd);
    }
    mem_free(s->idx);
    mem_free(s);
}

static void on_read(evutil_socket_t fd, short what, void *arg);
static void on_write(evutil_socket_t fd, short what, void *arg);

void srv_client_create(struct srv *s, int fd, enum srv_kind kind)
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
        srv_fmt_addr(&sa, c->addr, sizeof(c->addr));
    sl = sizeof(sa);
    if (getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        srv_fmt_addr(&sa, c->laddr, sizeof(c->laddr));
    /* Without a password a client connection starts authenticated; a
     * cluster-port connection never does: it must complete the peer
     * handshake (cmd_peer.c), whatever the secret. */
    const struct cfg *cfg = s->cfg;
    const char *secret = cfg->requirepass;
    if (kind == SRV_CLIENT && (!secret || !*secret))
        c->flags |= CLI_F_AUTHED;
    else
        srv_pend_add(s, c);
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

void srv_client_free(struct client *c)
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
    srv_pend_remove(s, c);
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
            srv_client_process(c);
        }
    }
    if (c->flags & CLI_F_CLOSING) {
        srv_client_free(c);
        return;
    }
    srv_client_flush(c);
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
    unsigned long long logged = srv_barrier_seq(c->srv);
    c->srv->disp.dispatch(c, d, argc, c->argv);
    c->flags &= ~CLI_F_IN_DISPATCH;
    /* the reply acknowledges what this request logged */
    if (srv_barrier_seq(c->srv) != logged)
        c->log_need = srv_barrier_seq(c->srv);
    c->srv->tr.commands_processed++;
    if (queued) {
        struct buf produced = c->out;
        c->out = saved;
        if (c->slot_opened) {
            buf_fini(&produced); /* the reply comes later, in its slot */
        } else {
            struct reply_slot *sl = srv_slot_append(c, true);
            sl->out = produced;
            c->slot_bytes += produced.len;
        }
        srv_slots_drain(c);
    }
    if (c->slot_opened && is_write) {
        c->slot_opened->write = true;
        c->pending_writes++;
    }
    c->slot_opened = NULL;
    if (c->nslots >= SRV_MAX_PENDING)
        c->flags |= CLI_F_BLOCKED;
}

/* HOT: parses and dispatches every complete request in the buffer. */
void srv_client_process(struct client *c)
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
            srv_pend_check(c);
        }
        c->qstart += consumed;
        resp_req_reset(&c->req);
        if (srv_over_output_limit(c, 0)) {
            srv_output_overflow(c);
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
bool srv_client_flush(struct client *c)
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
            srv_client_free(c);
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
            srv_client_free(c);
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
        srv_client_free(c);
        return;
    }
    srv_client_flush(c);
}

void srv_log_resumed(void *arg)
{
    struct srv *s = arg;
    struct client *next;
    for (struct client *c = s->clients; c; c = next) {
        next = c->next;
        if ((c->flags & CLI_F_LOG_WAIT) && !(c->flags & CLI_F_CLOSING))
            srv_client_flush(c);
    }
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
