/* pscan.h — SCAN cursor text and PSCAN answer checks (pscan.c), for
 * cmd_keyspace.c.  Pure: no node, no I/O. */
#ifndef KV_CMD_PSCAN_H
#define KV_CMD_PSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct peer_reply;

/* An unsigned 64-bit decimal p[0..n) (SCAN cursors go up to 2^64 - 1):
 * digits only, no sign, at most 20 of them, no overflow. */
bool pscan_parse_u64(const char *p, size_t n, uint64_t *out);
/* Appends v as a RESP bulk string of its decimal text. */
void pscan_add_u64_bulk(struct buf *b, uint64_t v);
/* True when p[0..n) is exactly `count` RESP bulk strings ("$3\r\nkey\r\n"). */
bool pscan_bulks_valid(const char *p, size_t n, long long count);
/* A PSCAN answer: [cursor, nkeys, keys] with a decimal cursor and keys as
 * nkeys RESP bulk strings in one bulk; sets *cursor when true. */
bool pscan_reply_ok(const struct peer_reply *rep, uint64_t *cursor);
/* Appends a valid (pscan_reply_ok) PSCAN answer's keys (already RESP
 * bulks) to keys and adds their number to *nkeys. */
void pscan_take_keys(const struct peer_reply *rep, struct buf *keys, long long *nkeys);

#endif
