/* aof_scan.c — record framing and the tolerant log scanner (see aof_scan.h).
 *
 * Owns nothing: pure functions over caller memory.  Callers: aof.c and the
 * log fuzz target.  Nothing here blocks or allocates except in the caller's
 * buffer.
 */
#include "core/aof_scan.h"
#include "util/varint.h"

#include <murmurhash.h>
#include <string.h>

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checksum of the type byte and payload.  lmmh_x86_32 takes an int length,
 * so long records are hashed in chained pieces (each piece seeded with the
 * previous hash); the writer and the reader both go through here. */
static uint32_t checksum(const uint8_t *typed, size_t n)
{
    uint32_t h = AOF_SEED;
    const size_t piece = (size_t)1 << 30;
    do {
        size_t k = n < piece ? n : piece;
        lmmh_x86_32(typed, (unsigned)k, h, &h);
        typed += k;
        n -= k;
    } while (n > 0);
    return h;
}

void aof_rec_begin(struct buf *rec, enum aof_type type)
{
    rec->len = 0;
    buf_reserve(rec, AOF_HDR);
    memset(rec->data, 0, AOF_HDR);
    rec->data[8] = (char)type;
    rec->len = AOF_HDR;
}

bool aof_fits(size_t klen, size_t set_bytes)
{
    /* record payload: u8 + owner name (<= 255) + varint klen + key + set */
    return set_bytes <= AOF_MAX_PAYLOAD - 266 && klen <= AOF_MAX_PAYLOAD - 266 - set_bytes;
}

bool aof_rec_frame(struct buf *rec)
{
    size_t plen = rec->len - AOF_HDR;
    if (plen > AOF_MAX_PAYLOAD)
        return false;
    uint8_t *p = (uint8_t *)rec->data;
    put_u32(p, (uint32_t)plen);
    put_u32(p + 4, checksum(p + 8, plen + 1));
    return true;
}

/* Length of the whole record at img[at..len) when one with a valid header
 * and checksum starts there, else 0.  *hashed counts the bytes hashed. */
static size_t record_at(const uint8_t *img, size_t len, size_t at, size_t *hashed)
{
    if (len - at < AOF_HDR)
        return 0;
    const uint8_t *r = img + at;
    size_t plen = get_u32(r);
    if (plen > len - at - AOF_HDR || r[8] == 0 || r[8] >= AOF_TYPE_COUNT)
        return 0;
    *hashed += plen + 1;
    if (checksum(r + 8, plen + 1) != get_u32(r + 4))
        return 0;
    return AOF_HDR + plen;
}

void aof_scan(const uint8_t *img, size_t len, aof_record_fn fn, void *arg,
              struct aof_scan_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    size_t budget = AOF_SCAN_RESYNC_BUDGET + len;
    size_t pos = 0;
    while (pos < len) {
        size_t hashed = 0; /* a record read in order is not resync work */
        size_t n = record_at(img, len, pos, &hashed);
        if (n == 0) {
            /* Damage at pos: find where the next whole record starts. */
            size_t next = pos + 1, spent = 0;
            bool found = false;
            for (; next < len && spent < budget; next++)
                if (record_at(img, len, next, &spent) > 0) {
                    found = true;
                    break;
                }
            budget -= spent < budget ? spent : budget;
            if (!found)
                break; /* nothing whole after it (or the budget ran out): torn tail */
            if (rep->corrupt_regions++ == 0)
                rep->first_corrupt = pos;
            rep->corrupt_bytes += next - pos;
            pos = next;
            continue;
        }
        const uint8_t *r = img + pos;
        if (fn(arg, r[8], r + AOF_HDR, n - AOF_HDR, pos))
            rep->records++;
        else
            rep->unreadable++;
        pos += n;
        rep->end = pos;
    }
    rep->torn = len - rep->end;
}

bool aof_flush_parse(const uint8_t *p, size_t len, uint32_t *epoch)
{
    uint64_t e = 0;
    size_t pos = 0;
    if (len != 0 && (!varint_get(p, len, &pos, &e) || pos != len || e == 0 || e > UINT32_MAX))
        return false;
    *epoch = (uint32_t)e;
    return true;
}

bool aof_rec_parse(int type, const uint8_t *p, size_t len, struct aof_rec *out)
{
    size_t pos = 0;
    memset(out, 0, sizeof(*out));
    if (type == AOF_HINT) {
        if (len < 1 || (size_t)p[0] + 1 > len)
            return false;
        out->owner = p + 1;
        out->owner_len = p[0];
        pos = 1 + (size_t)p[0];
    } else if (type != AOF_KEY && type != AOF_MERGE) {
        return false;
    }
    uint64_t klen;
    if (!varint_get(p, len, &pos, &klen) || klen > len - pos)
        return false;
    out->key = p + pos;
    out->klen = (size_t)klen;
    pos += (size_t)klen;
    out->versions = p + pos;
    out->vlen = len - pos;
    return true;
}
