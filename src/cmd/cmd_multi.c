/* cmd_multi.c — MULTI, DISCARD, WATCH, UNWATCH and the per-connection
 * queue MULTI fills (EXEC, which runs the queue through deferred replies,
 * is in cmd_keyspace.c).
 *
 * Owns: struct multi, hung on client->multi from MULTI until EXEC takes it
 * (and frees it when the run ends), DISCARD, or the connection closes
 * (cmd_multi_free); its queued bytes are bounded by
 * client-query-buffer-limit.
 * Callers: cmd.c (cmd_multi_queue while c->multi is set,
 * cmd_multi_flag_error when it refuses a command, cmd_multi_free on
 * disconnect), the command table in cmd_keyspace.c (the handlers),
 * cmd_keyspace.c's EXEC (struct multi, cmd_multi_destroy).
 * Every reply is written before the handler returns; nothing blocks.
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
#include "core/config.h"
#include "node.h"
#include "core/resp.h"
#include "net/server.h"
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
    /* EXEC by name: its handler is static in cmd_keyspace.c (cmd.c tests
     * for "exec" the same way). */
    if (!m || strcmp(d->name, "exec") == 0 || d->fn == cmd_discard || d->fn == cmd_multi ||
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
