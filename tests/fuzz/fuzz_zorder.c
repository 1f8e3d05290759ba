/* fuzz_zorder.c — libFuzzer target for core/zorder.c: the score and lex
 * range parsers (client arguments of ZRANGEBYSCORE, ZCOUNT, ZRANGEBYLEX...)
 * and the order built over a zset state.
 *
 * Input: byte 0 = length a of the first range bound (mod the rest), the
 * next a bytes and the following up to 64 bytes are the two bounds (parsed
 * both as score and as lex bounds); the bytes after are members of a zset
 * state (chunks of 1..8 bytes, each score from its first byte, some with an
 * increment).  Checks:
 *   - an accepted range that reads as empty holds no member of the state;
 *   - zorder_sort is strictly ordered and lists every member once with
 *     crdt_zset_score's score; zorder_top gives both ends of it; each
 *     member's zorder_rank is its index;
 *   - zorder_count_srange equals the count over the sorted array.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_zorder tests/fuzz/corpus/zorder */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/crdt.h"
#include "core/vclock.h"
#include "core/zorder.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t actor;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!actor)
        actor = vc_actor_intern("fz.1", 4);
    if (size < 1)
        return 0;
    size_t rest = size - 1;
    size_t alen = rest ? data[0] % (rest + 1) : 0;
    const char *a = (const char *)data + 1;
    const char *b = a + alen;
    size_t blen = rest - alen < 64 ? rest - alen : 64;
    const uint8_t *m = (const uint8_t *)b + blen;
    size_t mlen = size - (size_t)(m - data);

    struct crdt z;
    crdt_init(&z, CRDT_ZSET);
    for (size_t i = 0; i < mlen && i < 4096;) {
        size_t n = 1 + m[i] % 8;
        if (i + n > mlen)
            n = mlen - i;
        double s = (double)(int8_t)m[i] / 4;
        if (m[i] == 0x7f)
            s = INFINITY;
        else if (m[i] == 0x80)
            s = -INFINITY;
        crdt_zset_add(&z, actor, m + i, n, s, NULL, NULL);
        if (m[i] & 1)
            crdt_incr_float(&z, actor, m + i, n, 0.5, NULL, NULL);
        i += n;
    }

    struct zorder_item *arr;
    size_t n = zorder_sort(&z, &arr);
    if (n != crdt_count(&z))
        abort();
    for (size_t i = 0; i < n; i++) {
        double s;
        if (crdt_zset_score(&z, arr[i].m, arr[i].mlen, &s) != 0 || !(s == arr[i].score))
            abort();
        if (i && zorder_cmp(&arr[i - 1], &arr[i]) >= 0)
            abort();
        if (zorder_rank(&z, arr[i].score, arr[i].m, arr[i].mlen) != i)
            abort();
    }
    size_t k = n ? (size_t)data[0] % (n + 1) : 0;
    struct zorder_item *top = mem_alloc((k + 1) * sizeof(*top));
    if (zorder_top(&z, k, false, top) != k)
        abort();
    for (size_t i = 0; i < k; i++)
        if (zorder_cmp(&top[i], &arr[i]) != 0)
            abort();
    if (zorder_top(&z, k, true, top) != k)
        abort();
    for (size_t i = 0; i < k; i++)
        if (zorder_cmp(&top[i], &arr[n - 1 - i]) != 0)
            abort();
    mem_free(top);

    struct zorder_srange sr;
    if (zorder_parse_srange(a, alen, b, blen, &sr)) {
        size_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += zorder_in_srange(&sr, arr[i].score);
        if (zorder_srange_empty(&sr) && c)
            abort();
        if (zorder_count_srange(&z, &sr) != c)
            abort();
    }
    struct zorder_lrange lr;
    if (zorder_parse_lrange(a, alen, b, blen, &lr) && zorder_lrange_empty(&lr))
        for (size_t i = 0; i < n; i++)
            if (zorder_in_lrange(&lr, arr[i].m, arr[i].mlen))
                abort();
    mem_free(arr);
    crdt_fini(&z);
    return 0;
}
