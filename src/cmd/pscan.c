/* pscan.c — the pure text handling of the cluster-wide key listing
 * (cmd_keyspace.c): SCAN cursors as unsigned 64-bit decimals, and the
 * checks of a peer's PSCAN answer (cmd_peer.c writes it) before its keys are
 * copied into a KEYS or SCAN reply.
 *
 * Owns: nothing (no state; every function works on its arguments).
 * Callers: cmd_keyspace.c (KEYS, SCAN); tests/unit/test_pscan.c.
 * Nothing here blocks; each call is O(length of its input).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cmd/pscan.h"
#include "core/resp.h"
#include "net/peer.h"
#include "util/buf.h"

/* An unsigned 64-bit decimal (SCAN cursors go up to 2^64 - 1). */
bool pscan_parse_u64(const char *p, size_t n, uint64_t *out)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

void pscan_add_u64_bulk(struct buf *b, uint64_t v)
{
    char tmp[24];
    int len = snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
    resp_add_bulk(b, tmp, (size_t)len);
}

/* True when p[0..n) is exactly `count` RESP bulk strings ("$3\r\nkey\r\n"). */
bool pscan_bulks_valid(const char *p, size_t n, long long count)
{
    size_t i = 0;
    long long seen = 0;
    while (i < n) {
        if (p[i++] != '$')
            return false;
        size_t len = 0, digits = 0;
        while (i < n && p[i] >= '0' && p[i] <= '9' && digits < 12) {
            len = len * 10 + (size_t)(p[i++] - '0');
            digits++;
        }
        if (digits == 0 || n - i < 2 || p[i] != '\r' || p[i + 1] != '\n')
            return false;
        i += 2;
        if (n - i < len || n - i - len < 2 || p[i + len] != '\r' || p[i + len + 1] != '\n')
            return false;
        i += len + 2;
        seen++;
    }
    return seen == count;
}

/* A PSCAN answer: [cursor, nkeys, keys] with a decimal cursor and keys as
 * nkeys RESP bulk strings in one bulk (see cmd_peer.c). */
bool pscan_reply_ok(const struct peer_reply *rep, uint64_t *cursor)
{
    if (!rep || rep->type != PEER_R_ARRAY || rep->nelem != 3 ||
        rep->elem[0].type != PEER_R_BULK || rep->elem[1].type != PEER_R_INT ||
        rep->elem[2].type != PEER_R_BULK || rep->elem[1].integer < 0)
        return false;
    return pscan_parse_u64(rep->elem[0].str, rep->elem[0].len, cursor) &&
           pscan_bulks_valid(rep->elem[2].str, rep->elem[2].len, rep->elem[1].integer);
}

/* Appends a valid PSCAN answer's keys (already RESP bulks) to keys. */
void pscan_take_keys(const struct peer_reply *rep, struct buf *keys, long long *nkeys)
{
    buf_put(keys, rep->elem[2].str, rep->elem[2].len);
    *nkeys += rep->elem[1].integer;
}
