/* cmd_zset_priv.h — what the sorted-set command files share (cmd_zset.c:
 * the table, point commands and these helpers; cmd_zset_range.c: ranges,
 * counts and range removals; cmd_zset_pick.c: ZPOP*, ZRANDMEMBER, ZSCAN;
 * cmd_zset_algebra.c: ZUNION/ZINTER/ZDIFF and their STORE forms,
 * ZINTERCARD).  Not used outside them. */
#ifndef KV_CMD_ZSET_PRIV_H
#define KV_CMD_ZSET_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "cmd/cmd.h"
#include "cmd/typed.h"
#include "core/zorder.h"
#include "util/buf.h"

/* Error texts, worded as Redis 7.0 words them (without "ERR "). */
extern const char ZS_ERR_FLOAT[];     /* value is not a valid float */
extern const char ZS_ERR_INT[];       /* value is not an integer or out of range */
extern const char ZS_ERR_RANGE[];     /* min or max is not a float */
extern const char ZS_ERR_LEX[];       /* min or max not valid string range item */
extern const char ZS_ERR_SYNTAX[];    /* syntax error */

/* Redis's getDoubleFromObject (string2d): the whole text, no leading
 * space, no NaN, no overflow. */
bool zs_parse_double(const struct arg *a, double *out);

/* The reply of n items in Redis's range shape: an array of members, with
 * WITHSCORES [member, score] pairs (nested in RESP3, flat in RESP2). */
void zs_reply_items(struct buf *b, int proto, const struct zorder_item *a, size_t n,
                    bool withscores);

/* Makes the items' member bytes the caller's: one new block (mem_free it)
 * holding them all, the items re-pointed into it; NULL when n == 0.  For a
 * write that removes or replaces members after choosing them. */
char *zs_items_own(struct zorder_item *a, size_t n);

/* Replaces the key's content by the items (typed_reset then one ZADD per
 * item); the STORE forms.  Returns the key's new cardinality. */
long long zs_store(struct typed_call *t, const struct zorder_item *a, size_t n);

/* Handlers of the other files, for the table in cmd_zset.c. */
/* ZRANGE, ZREVRANGE, Z[REV]RANGEBYSCORE, Z[REV]RANGEBYLEX (by argv[0]) */
void cmd_zrange(struct client *c, int argc, const struct arg *argv);
void cmd_zrangestore(struct client *c, int argc, const struct arg *argv);
void cmd_zcount(struct client *c, int argc, const struct arg *argv);
void cmd_zlexcount(struct client *c, int argc, const struct arg *argv);
/* ZREMRANGEBYSCORE, ZREMRANGEBYRANK, ZREMRANGEBYLEX (by argv[0]) */
void cmd_zremrange(struct client *c, int argc, const struct arg *argv);
void cmd_zpop(struct client *c, int argc, const struct arg *argv); /* ZPOPMIN/MAX, argv[0] */
void cmd_zrandmember(struct client *c, int argc, const struct arg *argv);
void cmd_zscan(struct client *c, int argc, const struct arg *argv);
/* ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD (by argv[0]) */
void cmd_zalgebra(struct client *c, int argc, const struct arg *argv);

#endif
