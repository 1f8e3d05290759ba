/* cmd_set_priv.h — what cmd_set.c (the set commands and their table) and
 * cmd_set_algebra.c (SINTER, SUNION, SDIFF, their STORE forms,
 * SINTERCARD) share.  Private to those two files. */
#ifndef KV_CMD_SET_PRIV_H
#define KV_CMD_SET_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "core/crdt.h"
#include "util/buf.h"

/* s (NULL = absent) has member m. O(1). */
bool set_has(const struct crdt *s, const void *m, size_t mlen);
/* Appends el's key to b as a RESP bulk string. */
void set_add_member(struct buf *b, const struct crdt_elem *el);

/* Handlers of cmd_set_algebra.c (rows of cmd_set_table). */
void cmd_sinter(struct client *c, int argc, const struct arg *argv);
void cmd_sintercard(struct client *c, int argc, const struct arg *argv);
void cmd_sinterstore(struct client *c, int argc, const struct arg *argv);
void cmd_sunion(struct client *c, int argc, const struct arg *argv);
void cmd_sunionstore(struct client *c, int argc, const struct arg *argv);
void cmd_sdiff(struct client *c, int argc, const struct arg *argv);
void cmd_sdiffstore(struct client *c, int argc, const struct arg *argv);

#endif
