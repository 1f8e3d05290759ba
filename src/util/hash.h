/* hash.h — the 64-bit hashing that digests share (sib_digest, crdt_digest):
 * MurmurHash3 x64_128's first half of a byte string, and MurmurHash3's
 * 64-bit finalizer to mix integers.  Nodes exchange the digests built from
 * these, so neither function may ever change. */
#ifndef KV_HASH_H
#define KV_HASH_H

#include <murmurhash.h>
#include <stddef.h>
#include <stdint.h>

static inline uint64_t hash_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t hash_bytes(const void *p, size_t n, uint32_t seed)
{
    uint64_t out[2];
    lmmh_x64_128(p, (unsigned)n, seed, out);
    return out[0];
}

#endif
