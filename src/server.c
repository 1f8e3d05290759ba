/* server.c — listeners and connections on the node's libevent loop.
 *
 * Owns: every connection (client port and cluster port), their query and
 * output buffers, and the id -> connection index.
 * Invariants:
 *   - qbuf[qstart..qlen) holds the bytes not yet consumed by the parser; the
 *     parser's state (c->req) describes the request starting at qstart.
 *   - replies leave in request order: a blocked connection parses nothing.
 *   - a connection whose unsent output exceeds SRV_OBUF_SOFT stops reading
 *     (TCP back-pressure reaches the sender); one whose output exceeds
 *     client-output-buffer-limit is closed.  So a client that sends and
 *     never reads cannot grow the server's memory without bound.
 *   - a connection is freed only from its own event callbacks after its
 *     handler returned (CLI_F_CLOSING), never from inside a handler.
 * Never blocks: sockets are non-blocking; work per wakeup is bounded by the
 * bytes one read() returns (SRV_READ_CHUNK, or one large bulk argument).
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aof.h"
#include "node.h"
#include "util/log.h"
#include "util/mem.h"

#define SRV_READ_CHUNK (16 * 1024)      /* bytes asked of read() at a time */
#define SRV_OBUF_SOFT (256 * 1024)      /* stop reading above this backlog */
#define SRV_QBUF_KEEP (64 * 1024)       /* idle buffers larger than this shrink */
#define SRV_MAX_LISTENERS 4

struct listener {
    struct srv *srv;
    enum srv_kind kind;
    int fd;
    struct event *ev;
};

struct srv {
    struct kv_node *node;
    struct client *clients;             /* all connections */
    unsigned nclients[SRV_KIND_COUNT];
    uint64_t next_id;
    struct client **idx;                /* id hash: power-of-two buckets */
    size_t idx_mask;
    struct listener lst[SRV_MAX_LISTENERS];
    int nlst;
    struct event *cron;                 /* once a second: idle timeouts */
};

static void client_free(struct client *c);
static bool client_flush(struct client *c);
static void client_process(struct client *c);

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

/* Closes client-port connections idle for more than `timeout` seconds
 * (Redis's option).  Connections waiting for a reply are not idle. */
static void on_cron(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct srv *s = arg;
    int timeout = s->node->cfg.timeout;
    if (timeout <= 0)
        return;
    int64_t now = kv_now_ms();
    struct client *next;
    for (struct client *c = s->clients; c; c = next) {
        next = c->next;
        if (c->kind == SRV_CLIENT && !c->slot_head && now - c->last_ms > (int64_t)timeout * 1000) {
            log_debug("closing idle client %s", c->addr);
            client_free(c);
        }
    }
}

struct srv *srv_create(struct kv_node *node)
{
    struct srv *s = mem_calloc(1, sizeof(*s));
    s->node = node;
    s->next_id = 1;
    s->idx_mask = 4096 - 1;
    s->idx = mem_calloc(s->idx_mask + 1, sizeof(*s->idx));
    s->cron = event_new(node->base, -1, EV_PERSIST, on_cron, s);
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
    c->node = s->node;
    c->id = s->next_id++;
    c->fd = fd;
    c->kind = kind;
    c->proto = 2;
    resp_req_init(&c->req);
    buf_init(&c->out);
    c->ctime_ms = c->last_ms = kv_now_ms();
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
    const struct cfg *cfg = &s->node->cfg;
    const char *secret = cfg->requirepass;
    if (kind == SRV_CLIENT && (!secret || !*secret))
        c->flags |= CLI_F_AUTHED;
    c->ev_read = event_new(s->node->base, fd, EV_READ | EV_PERSIST, on_read, c);
    c->ev_write = event_new(s->node->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
    event_add(c->ev_read, NULL);
    c->next = s->clients;
    if (s->clients)
        s->clients->prev = c;
    s->clients = c;
    s->nclients[kind]++;
    idx_insert(s, c);
    s->node->stats.connections_received++;
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
    cmd_client_gone(c);
    while (c->slot_head) {
        struct reply_slot *sl = c->slot_head;
        c->slot_head = sl->next;
        buf_fini(&sl->out);
        mem_free(sl);
    }
    idx_remove(s, c);
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

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    struct listener *l = arg;
    struct srv *s = l->srv;
    /* Bounded: at most 64 accepts per wakeup so a connection storm cannot
     * starve established clients. */
    for (int i = 0; i < 64; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                log_warn("accept: %s", strerror(errno));
            return;
        }
        if (l->kind == SRV_CLIENT &&
            s->nclients[SRV_CLIENT] >= (unsigned)s->node->cfg.maxclients) {
            static const char msg[] = "-ERR max number of clients reached\r\n";
            ssize_t w = write(fd, msg, sizeof(msg) - 1);
            (void)w;
            close(fd);
            s->node->stats.rejected_connections++;
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
        listen(fd, s->node->cfg.tcp_backlog) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    struct listener *l = &s->lst[s->nlst++];
    l->srv = s;
    l->kind = kind;
    l->fd = fd;
    l->ev = event_new(s->node->base, fd, EV_READ | EV_PERSIST, on_accept, l);
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
        c->last_ms = kv_now_ms();
        c->node->stats.net_input_bytes += (uint64_t)n;
        if ((long long)(c->qlen - c->qstart) > c->node->cfg.client_query_buffer_limit) {
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
static void dispatch(struct client *c, int argc, bool is_write)
{
    bool queued = c->slot_head != NULL;
    struct buf saved;
    if (queued) {
        saved = c->out;
        buf_init(&c->out);
    }
    c->slot_opened = NULL;
    c->flags |= CLI_F_IN_DISPATCH;
    cmd_dispatch(c, argc, c->argv);
    c->flags &= ~CLI_F_IN_DISPATCH;
    c->node->stats.commands_processed++;
    if (queued) {
        struct buf produced = c->out;
        c->out = saved;
        if (c->slot_opened) {
            buf_fini(&produced); /* the reply comes later, in its slot */
        } else {
            struct reply_slot *sl = slot_append(c, true);
            sl->out = produced;
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

/* HOT: parses and dispatches every complete request in the buffer. */
static void client_process(struct client *c)
{
    struct resp_limits lim = {
        .max_bulk = c->node->cfg.proto_max_bulk_len,
        .max_mbulk = c->node->cfg.max_multibulk_len,
        .max_inline = RESP_DEFAULT_MAX_INLINE,
    };
    while (!(c->flags & (CLI_F_BLOCKED | CLI_F_CLOSE_AFTER_REPLY | CLI_F_CLOSING))) {
        if (!(c->flags & CLI_F_HELD)) {
            if (c->qstart >= c->qlen)
                break;
            const char *err = NULL;
            enum resp_status st = resp_parse(&c->req, c->qbuf + c->qstart,
                                             c->qlen - c->qstart, &lim, &err);
            if (st == RESP_AGAIN)
                break;
            if (st == RESP_EPROTO) {
                c->node->stats.protocol_errors++;
                resp_add_errorf(&c->out, "ERR", "Protocol error: %s",
                                err ? err : "invalid request");
                log_debug("protocol error from %s: %s", c->addr, err ? err : "?");
                c->flags |= CLI_F_CLOSE_AFTER_REPLY;
                break;
            }
        }
        int argc = c->req.argc;
        const char *base = c->qbuf + c->qstart;
        bool is_write = false;
        if (argc > 0) {
            struct arg name = {base + c->req.args[0].off, c->req.args[0].len};
            is_write = cmd_is_write(&name);
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
        if (argc > 0)
            dispatch(c, argc, is_write);
        c->qstart += consumed;
        resp_req_reset(&c->req);
        /* Peers are trusted and their replies bounded by the protocol (an
         * anti-entropy key listing can be large): the limit is for clients. */
        if (c->kind == SRV_CLIENT && c->node->cfg.client_output_buffer_limit > 0 &&
            (long long)(c->out.len - c->out_sent) > c->node->cfg.client_output_buffer_limit) {
            log_warn("closing client %s: output buffer over client-output-buffer-limit",
                     c->addr);
            c->node->stats.output_limit_disconnections++;
            c->flags |= CLI_F_CLOSING;
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
    /* Whatever these replies acknowledge must be in the log first. */
    aof_flush(c->node->aof);
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
        c->node->stats.net_output_bytes += (uint64_t)n;
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
                      (c->flags & (CLI_F_BLOCKED | CLI_F_HELD | CLI_F_CLOSE_AFTER_REPLY)));
    return true;
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    client_flush(arg);
}

void srv_slot_fill(struct client *c, struct reply_slot *slot, srv_fill_fn fn, void *arg)
{
    struct buf saved = c->out;
    c->out = slot->out;
    fn(arg, c);
    slot->out = c->out;
    c->out = saved;
    slot->done = true;
    if (slot->write) {
        slot->write = false;
        c->pending_writes--;
    }
    if (c->flags & CLI_F_IN_DISPATCH)
        return; /* c->out is redirected now; dispatch() drains the slots */
    slots_drain(c);
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

void srv_client_close_after_reply(struct client *c)
{
    c->flags |= CLI_F_CLOSE_AFTER_REPLY;
}

/* ---- introspection ---- */

unsigned srv_nclients(const struct srv *s, enum srv_kind kind)
{
    return s->nclients[kind];
}

void srv_client_info(const struct client *c, struct buf *out)
{
    int64_t now = kv_now_ms();
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
