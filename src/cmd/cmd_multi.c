/* cmd_multi.c — MULTI, EXEC, DISCARD, WATCH, UNWATCH and the
 * per-connection queue MULTI fills.
 *
 * Owns: struct multi, hung on client->multi from MULTI until EXEC takes it
 * (and frees it when the run ends), DISCARD, or the connection closes
 * (cmd_multi_free); its queued bytes are bounded by
 * client-query-buffer-limit.  struct execq: an EXEC in progress, a
 * deferred reply (defer.h) that runs the queue.
 * Callers: cmd.c (cmd_multi_queue while c->multi is set,
 * cmd_multi_flag_error when it refuses a command, cmd_multi_free on
 * disconnect), the command table in cmd_keyspace.c (the handlers).
 * Calls: cmd_dispatch_client (EXEC's queued commands, each with its reply
 * redirected through c->defer_to), defer.c.
 * Every reply but EXEC's is written before the handler returns; EXEC's
 * comes when its last queued command has answered.  Nothing blocks.
 *
 * MULTI queues commands (+QUEUED); an unknown command, a wrong arity or a
 * NOAUTH refusal while queuing makes EXEC fail with EXECABORT, as in Redis.
 * EXEC runs the queued commands one after the other (each starts when the
 * one before has its reply, so SET k then GET k inside one EXEC reads the
 * write even when different nodes answer them) and replies with the array
 * of their replies, in order.  There is no isolation and no atomicity across
 * keys: other clients' commands can interleave, and a failing command does
 * not undo the others (Redis does not roll back either).  So clients that
 * use MULTI as an ordered batch (redis-py's pipeline(), transaction=True)
 * work.  The server counts EXEC as a write (cmd_resolve): requests
 * pipelined after it on the same connection start only when its reply is
 * complete, so they see its writes.  A connection that closes during EXEC
 * stops it: the commands not started yet are not run.
 * WATCH is refused with an error: optimistic locking needs a check-and-set
 * over all watched keys at EXEC time, which an eventually consistent store
 * with per-key coordinators cannot give; code built on WATCH must fail
 * loudly rather than run without the protection it relies on.  Conditional
 * updates of one key use VGET/VPUT contexts.  UNWATCH is accepted (+OK).
 */
#include <stdbool.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmd_multi.h"
#include "cmd/defer.h"
#include "core/config.h"
#include "cmd/node.h"
#include "core/resp.h"
#include "net/server.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"

void cmd_multi_destroy(struct multi *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->n; i++)
        mem_free(m->cmds[i].argv);
    mem_free(m->cmds);
    mem_free(m);
}

void cmd_multi_free(struct client *c)
{
    cmd_multi_destroy(c->multi);
    c->multi = NULL;
}

void cmd_multi_flag_error(struct client *c)
{
    struct multi *m = c->multi;
    if (m)
        m->aborted = true;
}

bool cmd_multi_queue(struct client *c, const struct cmd_def *d, int argc, const struct arg *argv)
{
    struct multi *m = c->multi;
    if (!m || d->fn == cmd_exec || d->fn == cmd_discard || d->fn == cmd_multi ||
        d->fn == cmd_watch || d->fn == cmd_quit)
        return false;
    size_t bytes = (size_t)argc * sizeof(struct arg);
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len;
    if ((long long)(m->bytes + bytes) > c->node->cfg.client_query_buffer_limit) {
        cmd_reply_err(c, "MULTI queue over client-query-buffer-limit; the transaction is "
                         "discarded at EXEC");
        m->aborted = true;
        return true;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cmds = mem_realloc(m->cmds, (size_t)m->cap * sizeof(*m->cmds));
    }
    /* One allocation: the argument array, then the argument bytes. */
    struct arg *copy = mem_alloc(bytes ? bytes : 1);
    char *p = (char *)(copy + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].p, argv[i].len);
        copy[i].p = p;
        copy[i].len = argv[i].len;
        p += argv[i].len;
    }
    m->cmds[m->n].argc = argc;
    m->cmds[m->n].argv = copy;
    m->n++;
    m->bytes += bytes;
    resp_add_simple(&c->out, "QUEUED");
    return true;
}

void cmd_multi(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    if (c->multi) {
        cmd_reply_err(c, "MULTI calls can not be nested");
        return;
    }
    if (c->kind != SRV_CLIENT) {
        cmd_reply_err(c, "MULTI is only available on the client port");
        return;
    }
    c->multi = mem_calloc(1, sizeof(struct multi));
    cmd_reply_ok(c);
}

void cmd_discard(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    if (!c->multi) {
        cmd_reply_err(c, "DISCARD without MULTI");
        return;
    }
    cmd_multi_free(c);
    cmd_reply_ok(c);
}

void cmd_watch(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    if (c->multi) {
        cmd_reply_err(c, "WATCH inside MULTI is not allowed");
        return;
    }
    cmd_reply_err(c, "WATCH is not supported: dynamo-node is eventually consistent and cannot "
                     "give EXEC a check-and-set over the watched keys (optimistic locking); "
                     "use VGET and VPUT with its context for conditional updates of a key");
}

void cmd_unwatch(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    cmd_reply_ok(c); /* nothing is ever watched */
}

/* ---- EXEC ---- */

/* EXEC in progress: the queued commands run one after the other, each
 * started when the one before has its reply (so SET k then GET k reads
 * what was written, even when the two are answered by different nodes). */
struct execq {
    struct defer k;            /* EXEC's own reply */
    struct multi *m;
    int next;                 /* the next queued command to run */
    struct buf body;          /* the replies so far */
    bool running;             /* inside exec_run's loop */
    bool answered;            /* the command just run has its reply */
};

static void exec_fini(struct defer *k)
{
    struct execq *e = (struct execq *)k;
    cmd_multi_destroy(e->m);
    buf_fini(&e->body);
}

static void exec_reply(struct defer *k, struct client *c)
{
    struct execq *e = (struct execq *)k;
    if (e->next < e->m->n)
        return; /* the client went away: nobody to answer */
    resp_add_array(&c->out, e->m->n);
    buf_put(&c->out, e->body.data ? e->body.data : "", e->body.len);
}

static void exec_run(struct execq *e);

/* A redirected command's reply (maybe from inside its own dispatch). */
static void exec_cmd_done(void *arg, const char *reply, size_t len)
{
    struct execq *e = arg;
    buf_put(&e->body, reply, len);
    if (e->running) {
        e->answered = true;
        return;
    }
    exec_run(e);
}

/* Runs queued commands from e->next on until one answers later (its reply
 * then calls exec_cmd_done, which resumes here) or all are done.  Each runs
 * on the client itself (CLIENT SETNAME and the like act on it) with its
 * output and any deferred reply redirected into e->body (c->defer_to). */
static void exec_run(struct execq *e)
{
    e->running = true;
    while (e->next < e->m->n) {
        struct client *c = srv_client_find(e->k.node->srv, e->k.cid);
        if (!c) {
            log_debug("EXEC: client gone, %d queued commands not run", e->m->n - e->next);
            break;
        }
        const struct queued *q = &e->m->cmds[e->next++];
        struct buf saved = c->out;
        struct reply_slot *opened = c->slot_opened;
        void *multi = c->multi; /* a MULTI pipelined after this EXEC */
        buf_init(&c->out);
        c->slot_opened = NULL;
        c->multi = NULL;
        e->answered = false;
        struct defer_to to = {.done = exec_cmd_done, .arg = e, .taken = false};
        struct defer_to *outer = c->defer_to;
        c->defer_to = &to;
        cmd_dispatch_client(c, q->argc, q->argv);
        c->defer_to = outer;
        struct buf produced = c->out;
        bool slot_used = c->slot_opened != NULL;
        c->out = saved;
        c->slot_opened = opened;
        c->multi = multi;
        if (!to.taken) {
            if (slot_used) /* a reply slot opened despite the redirect */
                resp_add_error(&e->body, "ERR", "this command cannot run inside EXEC");
            else
                buf_put(&e->body, produced.data ? produced.data : "", produced.len);
        }
        buf_fini(&produced);
        if (to.taken && !e->answered) {
            e->running = false;
            return; /* exec_cmd_done resumes */
        }
    }
    e->running = false;
    defer_release(&e->k);
}

void cmd_exec(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    struct multi *m = c->multi;
    if (!m) {
        cmd_reply_err(c, "EXEC without MULTI");
        return;
    }
    c->multi = NULL; /* the queued commands run for real */
    if (m->aborted) {
        resp_add_error(&c->out, "EXECABORT", "Transaction discarded because of previous errors.");
        cmd_multi_destroy(m);
        return;
    }
    struct execq *e = defer_create(sizeof(*e), c, exec_reply, exec_fini);
    e->m = m;
    buf_init(&e->body);
    defer_hold_open(&e->k); /* held by the run until the last command has answered */
    exec_run(e);
    c->last_cmd = "exec";
    defer_dispatched(&e->k, c);
}
