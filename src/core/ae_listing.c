/* ae_listing.c — the anti-entropy key listing codec (see ae_listing.h).
 *
 * Owns nothing: the decoded array is the caller's.  Callers: ae.c (serving
 * PAE KEYS and reading a peer's reply) and tests/fuzz/fuzz_ae.c.  Pure CPU
 * work, O(len).
 */
#include "core/ae_listing.h"

#include "util/errors.h"
#include "util/mem.h"
#include "util/varint.h"

void ae_listing_put(struct buf *out, const void *key, size_t klen, uint64_t digest)
{
    uint8_t tmp[8];
    le64_put(tmp, klen);
    buf_append(out, tmp, 8);
    buf_append(out, key, klen);
    le64_put(tmp, digest);
    buf_append(out, tmp, 8);
}

int ae_listing_decode(const void *ptr, size_t len, struct ae_kd **out, size_t *n)
{
    const uint8_t *p = ptr;
    size_t cnt = 0, pos = 0;
    /* Pass 1: validate and count (a pair takes at least 16 bytes). */
    while (pos < len) {
        if (len - pos < 16)
            return KV_EPROTO;
        uint64_t klen = le64_get(p + pos);
        pos += 8;
        if (klen > len - pos - 8)
            return KV_EPROTO;
        pos += (size_t)klen + 8;
        cnt++;
    }
    *n = cnt;
    *out = NULL;
    if (cnt == 0)
        return 0;
    struct ae_kd *v = mem_alloc(cnt * sizeof(*v));
    pos = 0;
    for (size_t i = 0; i < cnt; i++) {
        size_t klen = (size_t)le64_get(p + pos);
        pos += 8;
        v[i].key = (const char *)p + pos;
        v[i].klen = klen;
        pos += klen;
        v[i].digest = le64_get(p + pos);
        pos += 8;
    }
    *out = v;
    return 0;
}
