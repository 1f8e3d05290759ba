/* latency.c — the fixed-bucket latency histogram (see latency.h).
 *
 * Owns nothing but the bucket arithmetic; the histograms live in their
 * users (cmd/cmd_latency.c, net/peer.c).  Pure: no clock, no I/O, nothing
 * that blocks. */
#include "core/latency.h"

#include <assert.h>
#include <string.h>

static_assert(LAT_NBUCKETS == (LAT_MAX_EXP - LAT_SUB_BITS + 2) * LAT_SUB, "bucket count");

void lat_reset(struct lat_hist *h)
{
    memset(h, 0, sizeof(*h));
}

uint64_t lat_bucket_low(unsigned i)
{
    if (i < LAT_SUB)
        return i;
    unsigned e = i / LAT_SUB + LAT_SUB_BITS - 1;
    uint64_t sub = i % LAT_SUB;
    return (LAT_SUB + sub) << (e - LAT_SUB_BITS);
}

uint64_t lat_bucket_high(unsigned i)
{
    if (i < LAT_SUB)
        return i;
    if (i >= LAT_NBUCKETS - 1)
        return UINT64_MAX; /* the clamp bucket */
    unsigned e = i / LAT_SUB + LAT_SUB_BITS - 1;
    return lat_bucket_low(i) + ((uint64_t)1 << (e - LAT_SUB_BITS)) - 1;
}

uint64_t lat_percentile(const struct lat_hist *h, double p)
{
    if (h->count == 0)
        return 0;
    if (p > 100)
        p = 100;
    double want = p / 100.0 * (double)h->count;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want)
        rank++;
    if (rank == 0)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LAT_NBUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t hi = lat_bucket_high(i);
            return hi < h->max_ns ? hi : h->max_ns; /* never above what was seen */
        }
    }
    return h->max_ns;
}

uint64_t lat_count_le(const struct lat_hist *h, uint64_t limit_ns)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < LAT_NBUCKETS && lat_bucket_high(i) <= limit_ns; i++)
        n += h->b[i];
    return n;
}

void lat_merge(struct lat_hist *dst, const struct lat_hist *src)
{
    for (unsigned i = 0; i < LAT_NBUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum_ns += src->sum_ns;
    if (src->max_ns > dst->max_ns)
        dst->max_ns = src->max_ns;
}
