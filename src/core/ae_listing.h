/* ae_listing.h — the anti-entropy key listing codec (PAE KEYS replies).
 * Pure module: no I/O, no allocation besides the returned array.
 *
 * A listing is a sequence of (u64 LE key length, key bytes, u64 LE digest)
 * triples for the keys of some Merkle leaves (ae.h).  It arrives from a peer,
 * so the decoder checks every length against the input and refuses anything
 * that does not parse exactly to its end.
 */
#ifndef KV_AE_LISTING_H
#define KV_AE_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct ae_kd {                   /* one (key, digest) pair of a listing */
    const char *key;             /* points into the decoded bytes */
    size_t klen;
    uint64_t digest;
};

/* Appends one (key, digest) pair to out. */
void ae_listing_put(struct buf *out, const void *key, size_t klen, uint64_t digest);

/* Decodes p[0..len) into a new array (free with mem_free; NULL when the
 * listing is empty) of *n pairs pointing into p.  Returns 0, or KV_EPROTO
 * (nothing returned) when a length runs past the end or bytes are left
 * over.  At most len / 16 pairs: the allocation is bounded by the input. */
int ae_listing_decode(const void *p, size_t len, struct ae_kd **out, size_t *n);

#endif
