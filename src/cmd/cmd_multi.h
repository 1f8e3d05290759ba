/* cmd_multi.h — PRIVATE to cmd_multi.c and cmd_keyspace.c (the table): the
 * per-connection MULTI queue and the transaction handlers of the command
 * table.  cmd.c reaches the queue only through cmd_multi_queue,
 * cmd_multi_flag_error and cmd_multi_free (cmd.h).
 */
#ifndef KV_CMD_MULTI_H
#define KV_CMD_MULTI_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"

/* One queued command: argv and the argument bytes in one allocation. */
struct queued {
    int argc;
    struct arg *argv;         /* points into the same allocation */
};

struct multi {
    struct queued *cmds;
    int n, cap;
    size_t bytes;             /* queued argument bytes, bounded like a query buffer */
    bool aborted;             /* a command was refused while queuing: EXECABORT */
};

/* Frees m (taken), its queued commands and their arguments; NULL is fine. */
void cmd_multi_destroy(struct multi *m);

/* Handlers for the table in cmd_keyspace.c (argc/argv borrowed). */
void cmd_multi(struct client *c, int argc, const struct arg *argv);
void cmd_exec(struct client *c, int argc, const struct arg *argv);
void cmd_discard(struct client *c, int argc, const struct arg *argv);
void cmd_watch(struct client *c, int argc, const struct arg *argv);
void cmd_unwatch(struct client *c, int argc, const struct arg *argv);

#endif
