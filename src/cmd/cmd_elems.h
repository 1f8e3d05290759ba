/* cmd_elems.h — what the hash, set and sorted-set commands share when they
 * walk a key's elements (cmd_elems.c): the HSCAN/SSCAN/ZSCAN step over
 * crdt_scan, the generator state their random picks (HRANDFIELD,
 * SRANDMEMBER, SPOP, ZRANDMEMBER) hand to crdt_pick, and the observed
 * remove of named members (HDEL, SREM, ZREM, the pops).  Private to the
 * hash, set and sorted-set command files. */
#ifndef KV_CMD_ELEMS_H
#define KV_CMD_ELEMS_H

#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "util/buf.h"

/* Longest reply of SRANDMEMBER / ZRANDMEMBER with a negative count
 * (members may repeat, so the key's size does not bound it; one reply is
 * built whole in memory first): a larger count is refused rather than
 * exhausting memory (Redis bounds it only by the client's output limit). */
#define ELEMS_REPEAT_MAX (1LL << 24)

/* The argument checks of SRANDMEMBER key [count], ZRANDMEMBER key [count
 * [WITHSCORES]] and HRANDFIELD key [count [WITHVALUES]], in Redis 7.0's
 * order and words: with is the word allowed after the count (NULL: none,
 * and more than one argument after the key is a syntax error before the
 * count is read, as SRANDMEMBER checks); a count below -max_repeat is
 * refused (max_repeat 0: no bound).  Returns false when it answered c an
 * error. */
bool elems_rand_args(struct client *c, int argc, const struct arg *argv, const char *with,
                     long long max_repeat);

/* The argument checks of SPOP and ZPOPMIN/ZPOPMAX key [count] (Redis's
 * order and words): more than one argument after the key is a syntax
 * error, a count must be a non-negative integer.  Returns false when it
 * answered c an error. */
bool elems_pop_args(struct client *c, int argc, const struct arg *argv);

/* A fresh crdt_pick generator state (64 bits of random(), which the node
 * seeds). */
uint64_t elems_rng(void);

/* Appends one scanned element (its member bulk string, and for a hash or
 * a sorted set its value or score) to items; returns how many bulk
 * strings it added, or a negative KV_ code that ends the scan. */
typedef int (*elems_put_fn)(struct buf *items, const struct crdt_elem *el, void *arg);

/* Removes member m from t's state (observed remove: the entries this
 * coordinator has seen; crdt_remove with t->actor, its delta to
 * typed_took); returns whether m had entries.  A member with none is left
 * alone: no operation, no delta.  m must not point into the state (the
 * removal frees the element). */
bool elems_remove(struct typed_call *t, const char *m, size_t mlen);
/* The fn of HDEL, SREM and ZREM key member [member ...]: elems_remove of
 * each argument from argv[2], the reply the number removed. */
void elems_remove_args_fn(struct typed_call *t);

/* The handler of HSCAN/SSCAN/ZSCAN key cursor [MATCH p] [COUNT n]:
 * answers "invalid cursor" for a cursor Redis refuses (strtoul over the
 * whole text: "-1" is 2^64 - 1, "+5" is 5, "" is 0; no leading
 * space, no overflow), else cmd_typed(type, TYPED_READ, fn). */
void elems_scan_cmd(struct client *c, int argc, const struct arg *argv, enum crdt_type type,
                    typed_fn fn);

/* The fn's part: one crdt_scan step of t->state from the cursor, the
 * options parsed after the key's lookup as Redis does (an absent key
 * answers the empty scan whatever follows), put(items, el, arg) for each
 * element the MATCH pattern keeps; the reply [next cursor, items] (or the
 * option's error) goes to t->reply.  Returns 0, or put's negative code
 * with nothing added to t->reply (the caller answers it). */
int elems_scan(struct typed_call *t, elems_put_fn put, void *arg);

#endif
