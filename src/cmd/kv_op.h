/* kv_op.h — struct op, the per-request state of the key commands (private
 * to cmd_kv.c, cmd_fwd.c, cmd_vkv.c and cmd_bits.c).
 *
 * An op is a deferred reply (struct defer, defer.h) with one result slot per
 * key: each sub-request (a coordinator read or write, or the command
 * forwarded to the key's coordinator) fills its slot, and finish() builds
 * the client reply from the slots when the last one ended.  Handlers copy
 * what they keep: argv points into the connection's query buffer. */
#ifndef KV_CMD_KV_OP_H
#define KV_CMD_KV_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/defer.h"
#include "core/siblings.h"
#include "core/vclock.h"
#include "net/server.h"
#include "util/buf.h"

struct op;
/* Writes the reply from the op's slots into c->out. */
typedef void (*op_finish_fn)(struct op *op, struct client *c);

struct op_slot {
    int err;
    struct sibset set;      /* read result */
    struct vclock vc;       /* write result */
    bool forwarded;         /* the reply is in raw (forwarded, or decide()'s) */
    struct buf raw;         /* forwarded: the reply, encoded for the client */
    long long ival;         /* forwarded: an integer reply's value */
    bool remote_err;        /* forwarded: the reply was an error */
};

struct op {
    struct defer d;         /* first: the request whose reply comes later */
    op_finish_fn finish;
    int nslots;
    bool via_peer;          /* the command came on the cluster port (PFWD) */
    long long count;        /* DEL/EXISTS tally */
    int flags;
    bool skipped;           /* SET NX/XX: condition not met, nothing written */
    struct val *oldval;     /* SET GET */
    void *extra;            /* per-command state (cmd_read) */
    void (*extra_free)(void *extra); /* frees extra when the op ends without
                                        finish() having run (client gone) */
    int pr, pw;             /* PR / PW of the request (VGET, VPUT...); 0 = configured */
    struct op_slot slots[];
};

/* cmd_kv.c */
struct op *op_create(struct client *c, int nslots, op_finish_fn finish);
/* The handler issued every sub-request (defer_dispatched). */
void op_dispatched(struct op *op, struct client *c);
/* Launch of key i of a multi-key command after its connection went away:
 * the slot fails (KV_ETIMEDOUT) and true is returned. */
bool op_abandoned(struct op *op, int i);
/* A quorum read / write of key into slot (a counted sub-request), with
 * the op's pr / pw. */
void op_read(struct op *op, int slot, const struct arg *key, int r);
void op_write(struct op *op, int slot, const struct arg *key, const struct vclock *ctx,
              struct val *v, int64_t expire_ms, int w);
/* defer_launch_all's launch for reads: a quorum read of d->largv[i] into
 * slot i (MGET, EXISTS, BITOP's sources). */
void op_launch_read(struct defer *d, int i);

/* cmd_fwd.c: forwarding a write to the key's coordinator (coord.h) */
/* The node that must coordinate a write of key (>= 0), or COORD_ROUTE_HERE,
 * or COORD_ROUTE_DECLINE (c arrived as PFWD and this node cannot reach W). */
int op_route(struct client *c, const struct arg *key);
/* As op_route, for a key launched after the handler returned. */
int op_route_later(struct op *op, const struct arg *key);
/* Forwards argv (a whole client command for one key) to target; the reply
 * lands in slot (forwarded, raw). */
void op_forward(struct op *op, int slot, const struct arg *key, int target, int argc,
                const struct arg *argv);
/* Sends the whole command to key's coordinator when that is another node
 * (or declines it): true when the reply will come from there. */
bool op_forward_whole(struct client *c, int argc, const struct arg *argv,
                      const struct arg *key);

#endif
