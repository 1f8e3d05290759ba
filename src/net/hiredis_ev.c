/* hiredis_ev.c — the event adapter of the peer links' hiredis contexts
 * (see hiredis_ev.h).  Caller: peer.c (every outgoing peer connection).
 *
 * Owns one struct hev per context: a persistent read event, a write event
 * armed only while the socket is full (or a connect is in progress), and a
 * fd-less "flush" event.  Why not hiredis's own libevent adapter: it
 * registers write interest for every queued command and drops it after the
 * write, and its read event is one-shot, so every message costs epoll_ctl
 * calls on top of its write and read (measured with perf stat: 2.1
 * epoll_ctl per SET on a 3-node cluster under loadgen -C).  Here a queued
 * command only activates the flush event (no system call); it runs after
 * the callbacks of the current loop iteration, so every command queued for
 * one peer in that iteration leaves in one write().
 *
 * hiredis may free the context (and call cleanup) from inside
 * redisAsyncHandleWrite; a struct hev is then freed by the callback that
 * made that call, after it returns (hev.in_write / hev.dead).
 */
#include "net/hiredis_ev.h"

#include <stdbool.h>

#include "util/mem.h"

struct hev {
    redisAsyncContext *ac;
    struct event *rev, *wev, *flush;
    bool wev_armed;   /* waiting for the socket to take more */
    bool in_write;    /* inside redisAsyncHandleWrite */
    bool dead;        /* cleaned up during in_write: free on return */
};

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hev *h = arg;
    redisAsyncHandleRead(h->ac);
}

/* Runs hiredis's write step; returns false when h was freed meanwhile. */
static bool handle_write(struct hev *h)
{
    h->in_write = true;
    redisAsyncHandleWrite(h->ac);
    if (h->dead) {
        mem_free(h);
        return false;
    }
    h->in_write = false;
    return true;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    handle_write(arg);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct hev *h = arg;
    if (!h->wev_armed) /* else the write event sends it when the socket can */
        handle_write(h);
}

static void add_read(void *priv)
{
    struct hev *h = priv;
    event_add(h->rev, NULL); /* persistent: a no-op while registered */
}

static void del_read(void *priv)
{
    struct hev *h = priv;
    event_del(h->rev);
}

static void add_write(void *priv)
{
    struct hev *h = priv;
    /* From inside the write step: the socket did not take everything (or
     * the connect is still in progress): wait until it is writable.
     * Before connecting completes, too: hiredis learns the outcome of a
     * non-blocking connect only from a writable socket. */
    if (h->in_write || !(h->ac->c.flags & REDIS_CONNECTED)) {
        if (!h->wev_armed) {
            event_add(h->wev, NULL);
            h->wev_armed = true;
        }
        return;
    }
    if (!h->wev_armed)
        event_active(h->flush, 0, 1);
}

static void del_write(void *priv)
{
    struct hev *h = priv;
    if (h->wev_armed) {
        event_del(h->wev);
        h->wev_armed = false;
    }
}

static void cleanup(void *priv)
{
    struct hev *h = priv;
    event_free(h->rev);
    event_free(h->wev);
    event_free(h->flush);
    h->ac->ev.data = NULL;
    if (h->in_write)
        h->dead = true;
    else
        mem_free(h);
}

int hiredis_ev_attach(redisAsyncContext *ac, struct event_base *base)
{
    if (ac->ev.data)
        return -1;
    struct hev *h = mem_calloc(1, sizeof(*h));
    h->ac = ac;
    h->rev = event_new(base, ac->c.fd, EV_READ | EV_PERSIST, on_read, h);
    h->wev = event_new(base, ac->c.fd, EV_WRITE | EV_PERSIST, on_writable, h);
    h->flush = event_new(base, -1, 0, on_flush, h);
    if (!h->rev || !h->wev || !h->flush) {
        if (h->rev)
            event_free(h->rev);
        if (h->wev)
            event_free(h->wev);
        if (h->flush)
            event_free(h->flush);
        mem_free(h);
        return -1;
    }
    ac->ev.addRead = add_read;
    ac->ev.delRead = del_read;
    ac->ev.addWrite = add_write;
    ac->ev.delWrite = del_write;
    ac->ev.cleanup = cleanup;
    ac->ev.data = h;
    return 0;
}
