/* reply.c — replies in request order, and the per-connection bounds on
 * what waits to be sent.
 *
 * Owns: each connection's queue of reply slots (struct reply_slot), its
 * count of bytes held for replies still being gathered, and its count of
 * coordinator requests in flight.
 * Invariants:
 *   - a reply reaches c->out only when every slot before it is filled; at
 *     SRV_MAX_PENDING slots the connection stops parsing (CLI_F_BLOCKED)
 *     until the head drains.
 *   - a client-port connection whose queued bytes (unsent output + finished
 *     replies in slots + results its requests in flight gathered) exceed
 *     client-output-buffer-limit is closed, and handlers check a large
 *     reply fits before building it (srv_reply_fits).  So a client that
 *     sends and never reads cannot grow the server's memory without bound.
 *     Peer connections are exempt (trusted, bounded by the protocol).
 *   - a filled slot of a deferred write makes its connection's output
 *     acknowledge everything logged so far (the durability barrier).
 * Callers: cmd/ (srv_slot_open, srv_slot_fill, srv_client_hold,
 * srv_reply_fits, srv_inflight_*, srv_client_close_after_reply: cmd/defer.c
 * and the handlers), server.c (srv_slot_append, srv_slots_drain,
 * srv_over_output_limit, srv_output_overflow).
 * Never blocks: filling a slot writes what is now in order with one
 * non-blocking flush; closing for the output limit happens in the loop.
 */
#include "net/server.h"

#include <event2/event.h>
#include <string.h>

#include "core/config.h"
#include "net/server_priv.h"
#include "util/log.h"
#include "util/mem.h"

struct reply_slot *srv_slot_append(struct client *c, bool done)
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
void srv_slots_drain(struct client *c)
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
    struct reply_slot *sl = srv_slot_append(c, false);
    c->slot_opened = sl;
    return sl;
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
bool srv_over_output_limit(const struct client *c, size_t more)
{
    if (!c->srv) /* defer_call's scratch client: no connection, no limit */
        return false;
    long long lim = c->srv->cfg->client_output_buffer_limit;
    return c->kind == SRV_CLIENT && lim > 0 && (long long)(queued_bytes(c) + more) > lim;
}

/* Closes c for its output limit: now if control is in one of its own
 * callbacks (they free a CLI_F_CLOSING client on return), else through
 * its write event. */
void srv_output_overflow(struct client *c)
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
    if (delta > 0 && srv_over_output_limit(c, 0))
        srv_output_overflow(c);
}

bool srv_reply_fits(struct client *c, size_t more)
{
    if (!c->srv || !srv_over_output_limit(c, more)) /* !srv: defer_call's scratch client */
        return true;
    srv_output_overflow(c);
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
        c->log_need = srv_barrier_seq(c->srv);
    srv_pend_check(c); /* a handshake may complete late */
    c->slot_bytes += slot->out.len;
    if (slot->write) {
        slot->write = false;
        c->pending_writes--;
    }
    if (c->flags & CLI_F_IN_DISPATCH)
        return; /* c->out is redirected now; dispatch() drains the slots */
    srv_slots_drain(c);
    if (srv_over_output_limit(c, 0))
        srv_output_overflow(c);
    if (c->flags & CLI_F_CLOSING) {
        srv_client_free(c);
        return;
    }
    srv_client_process(c);
    if (c->flags & CLI_F_CLOSING) {
        srv_client_free(c);
        return;
    }
    srv_client_flush(c);
}

void srv_client_close_after_reply(struct client *c)
{
    c->flags |= CLI_F_CLOSE_AFTER_REPLY;
}
