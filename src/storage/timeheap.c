/* timeheap.c — min-heap of int64 times (see timeheap.h).
 *
 * Owns: the array h->v of each heap it is given (grown by doubling, from
 * 64 entries).
 * Callers: store.c (the expiry heaps behind store_count_live).
 * Pure: O(log n) per push/pop; never blocks.
 */
#include "storage/timeheap.h"

#include "util/mem.h"

void timeheap_push(struct timeheap *h, int64_t x)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = mem_realloc(h->v, h->cap * sizeof(*h->v));
    }
    size_t i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2] > x) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = x;
}

void timeheap_pop(struct timeheap *h)
{
    int64_t x = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c])
            c++;
        if (h->v[c] >= x)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n > 0)
        h->v[i] = x;
}

/* Pops every time <= now; returns how many. */
uint64_t timeheap_pop_le(struct timeheap *h, int64_t now)
{
    uint64_t k = 0;
    while (h->n > 0 && h->v[0] <= now) {
        timeheap_pop(h);
        k++;
    }
    return k;
}
