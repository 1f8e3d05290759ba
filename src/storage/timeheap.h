/* timeheap.h — a min-heap of int64 times, grown on demand (the store's
 * expiry counters, see store.c count_section).
 *
 * Zeroed memory is an empty heap; setting n = 0 empties it and keeps the
 * array; mem_free(h->v) releases it.  Not thread-safe; no callbacks.
 */
#ifndef KV_TIMEHEAP_H
#define KV_TIMEHEAP_H

#include <stddef.h>
#include <stdint.h>

struct timeheap {
    int64_t *v;      /* v[0] is the smallest; heap order below it */
    size_t n, cap;
};

/* Adds x (amortised O(1) allocation, O(log n) moves; aborts only if
 * memory runs out, like mem_realloc). */
void timeheap_push(struct timeheap *h, int64_t x);
/* Removes the smallest time; h must not be empty. */
void timeheap_pop(struct timeheap *h);
/* Pops every time <= now; returns how many. */
uint64_t timeheap_pop_le(struct timeheap *h, int64_t now);

#endif
