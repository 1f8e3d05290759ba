/* cmd_elems.h — what the hash, set and sorted-set commands share when they
 * walk a key's elements (cmd_elems.c): the HSCAN/SSCAN/ZSCAN step over
 * crdt_scan, and the generator state their random picks (HRANDFIELD,
 * SRANDMEMBER, SPOP, ZRANDMEMBER) hand to crdt_pick.  Private to
 * cmd_hash.c, cmd_set.c and cmd_zset_pick.c. */
#ifndef KV_CMD_ELEMS_H
#define KV_CMD_ELEMS_H

#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "util/buf.h"

/* A fresh crdt_pick generator state (64 bits of random(), which the node
 * seeds). */
uint64_t elems_rng(void);

/* Appends one scanned element (its member bulk string, and for a hash or
 * a sorted set its value or score) to items; returns how many bulk
 * strings it added, or a negative KV_ code that ends the scan. */
typedef int (*elems_put_fn)(struct buf *items, const struct crdt_elem *el, void *arg);

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
