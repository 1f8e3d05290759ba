/* latency.h — a fixed-bucket latency histogram (HdrHistogram's log-linear
 * layout, fixed precision): pure, no clock, no I/O.
 *
 * Values are nanoseconds.  Below 16 every value has its own bucket; above,
 * each power of two [2^e, 2^(e+1)) is cut into LAT_SUB = 16 equal
 * sub-buckets, so a bucket is at most 1/16 (6.25 %) of its lower bound
 * wide and every percentile read back is within 6.25 % above the true
 * value.  Values from 2^LAT_MAX_EXP ns (about 18 minutes) up share the
 * last bucket.  Recording is a bit scan, a shift and two adds: no
 * allocation, no branch on the data beyond the clamp.
 *
 * Users: cmd/cmd_latency.c (per command: INFO latencystats, LATENCY
 * HISTOGRAM, /metrics), net/peer.c (per peer replica round trips: INFO
 * cluster, /metrics).  tests/unit/test_latency.c checks the bucket edges,
 * percentiles and the cumulative counts. */
#ifndef KV_LATENCY_H
#define KV_LATENCY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LAT_SUB_BITS 4
#define LAT_SUB (1u << LAT_SUB_BITS) /* sub-buckets per power of two */
#define LAT_MAX_EXP 40               /* 2^40 ns ~ 18 min: larger values clamp */
#define LAT_NBUCKETS ((LAT_MAX_EXP - LAT_SUB_BITS + 2) * LAT_SUB)

struct lat_hist {
    uint64_t count;          /* values recorded */
    uint64_t sum_ns;         /* their sum (Prometheus _sum) */
    uint64_t max_ns;         /* the largest (clamped) */
    uint64_t b[LAT_NBUCKETS];
};

/* Zeroes h (memory owned by the caller). */
void lat_reset(struct lat_hist *h);

/* The bucket of value ns (clamped to the last bucket). */
static inline unsigned lat_bucket(uint64_t ns)
{
    if (ns < LAT_SUB)
        return (unsigned)ns;
    if (ns >= ((uint64_t)1 << (LAT_MAX_EXP + 1)))
        return LAT_NBUCKETS - 1;
    unsigned e = 63u - (unsigned)__builtin_clzll(ns); /* >= LAT_SUB_BITS */
    unsigned sub = (unsigned)(ns >> (e - LAT_SUB_BITS)) & (LAT_SUB - 1);
    return (e - LAT_SUB_BITS + 1) * LAT_SUB + sub;
}

/* HOT: records one value. */
static inline void lat_record(struct lat_hist *h, uint64_t ns)
{
    h->b[lat_bucket(ns)]++;
    h->count++;
    h->sum_ns += ns;
    if (ns > h->max_ns)
        h->max_ns = ns;
}

/* The smallest and the largest value of bucket i (inclusive). */
uint64_t lat_bucket_low(unsigned i);
uint64_t lat_bucket_high(unsigned i);

/* The value at percentile p (0 < p <= 100): the highest value of the
 * bucket holding the ceil(p/100 * count)-th smallest value, as
 * HdrHistogram's value_at_percentile, but never above the largest value
 * recorded; 0 when h is empty. */
uint64_t lat_percentile(const struct lat_hist *h, double p);

/* How many recorded values are <= limit_ns, counting whole buckets: a
 * bucket counts when its highest value is <= limit_ns, so the answer is
 * exact at bucket edges and otherwise leaves out at most the one bucket
 * that straddles limit_ns. */
uint64_t lat_count_le(const struct lat_hist *h, uint64_t limit_ns);

/* Adds src's counts to dst. */
void lat_merge(struct lat_hist *dst, const struct lat_hist *src);

#endif
