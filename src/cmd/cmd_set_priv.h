/* cmd_set_priv.h — what cmd_set.c (the set commands and their table) and
 * cmd_set_algebra.c (SINTER, SUNION, SDIFF, their STORE forms,
 * SINTERCARD) share.  Private to those two files. */
#ifndef KV_CMD_SET_PRIV_H
#define KV_CMD_SET_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "cmd/defer.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "util/buf.h"

/* s (NULL = absent) has member m. O(1). */
bool set_has(const struct crdt *s, const void *m, size_t mlen);
/* Appends el's key to b as a RESP bulk string. */
void set_add_member(struct buf *b, const struct crdt_elem *el);

/* cmd_typed on a set key (argv, key, flags, srcs, nsrc, fn as there) for
 * a command of several steps whose deferred reply is already created on
 * c: the step's reply goes to done(arg, reply, len) (RESP2 or c's
 * protocol; valid during the call), never to c, exactly once, possibly
 * before this returns. */
void set_typed_to(struct client *c, defer_call_fn done, void *arg, int argc,
                  const struct arg *argv, const struct arg *key, unsigned flags,
                  const struct arg *srcs, int nsrc, typed_fn fn);

/* Handlers of cmd_set_algebra.c (rows of cmd_set_table); the operation
 * is the command's name (argv[0]). */
void cmd_salgebra(struct client *c, int argc, const struct arg *argv);       /* SINTER... */
void cmd_salgebra_store(struct client *c, int argc, const struct arg *argv); /* S*STORE */
void cmd_sintercard(struct client *c, int argc, const struct arg *argv);

#endif
