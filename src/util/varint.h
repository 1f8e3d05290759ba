/* varint.h — unsigned LEB128 varints, shared by every codec (clocks, sibling
 * sets, the store's packed entries, gossip tables, the append-only log),
 * and fixed 8-byte little-endian integers.
 *
 * varint_get is for bytes from outside (network, disk): bounded by len and
 * canonical only (no overlong forms, at most 64 bits).  varint_read trusts
 * its input: only for bytes this process wrote itself (the store's packed
 * entries). */
#ifndef KV_VARINT_H
#define KV_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define VARINT_MAX 10 /* bytes of the longest 64-bit varint */

/* Writes x at p (room for VARINT_MAX bytes); returns the bytes written. */
static inline size_t varint_put(uint8_t *p, uint64_t x)
{
    size_t n = 0;
    while (x >= 0x80) {
        p[n++] = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    p[n++] = (uint8_t)x;
    return n;
}

/* Appends x to b. */
static inline void buf_varint(struct buf *b, uint64_t x)
{
    buf_reserve(b, VARINT_MAX);
    b->len += varint_put((uint8_t *)b->data + b->len, x);
}

/* Reads a canonical varint at p[*pos], bounded by len, advancing *pos.
 * false on truncation, a value over 64 bits or an overlong form. */
static inline bool varint_get(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
    size_t i = *pos;
    if (i < len && p[i] < 0x80) { /* HOT: one-byte values dominate */
        *out = p[i];
        *pos = i + 1;
        return true;
    }
    uint64_t x = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (i >= len)
            return false;
        uint8_t b = p[i++];
        if (shift == 63 && b > 1)
            return false;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            if (b == 0 && shift != 0)
                return false;
            *out = x;
            *pos = i;
            return true;
        }
    }
    return false;
}

/* Fixed 8-byte little-endian integers (digests and hashes on the wire). */
static inline void le64_put(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint64_t le64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Trusted read of bytes this process wrote; returns the next byte. */
static inline const uint8_t *varint_read(const uint8_t *p, uint64_t *out)
{
    uint64_t x = 0;
    unsigned shift = 0;
    while (*p & 0x80) {
        x |= (uint64_t)(*p++ & 0x7f) << shift;
        shift += 7;
    }
    *out = x | (uint64_t)*p++ << shift;
    return p;
}

#endif
