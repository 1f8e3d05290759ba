/* typed_copy.h — COPY / RENAME of a typed key (a hash, set, sorted set or
 * counter; issue 14): the destination gets a NEW state built at its own
 * coordinator with fresh dots (typed_copy.c).  For cmd_keyspace.c. */
#ifndef KV_CMD_TYPED_COPY_H
#define KV_CMD_TYPED_COPY_H

#include <stdbool.h>

#include "cmd/defer.h"
#include "core/crdt.h"
#include "net/server.h"

struct kv_node;

/* Copies the typed key src (of type `type`, as a read found it) to dst,
 * at dst's coordinator (the command "COPY src dst [REPLACE]" is forwarded
 * there when that is another node): the source is read again there; with
 * replace whatever dst holds (its state, a string, another type) is
 * replaced, and every element of the source is re-created with dots of
 * dst's coordinator, the source's TTL too.  Without replace, a dst of the
 * same type that exists there is left alone (and one of another type is
 * WRONGTYPE: the caller checks dst first).  The RESP2 reply goes to done
 * exactly once: :1 copied, :0 not (dst exists without replace, or the
 * source is gone), or an error. */
void typed_copy(struct kv_node *node, const struct arg *src, const struct arg *dst,
                enum crdt_type type, bool replace, defer_call_fn done, void *arg);

#endif
