/* fuzz_ae.c — libFuzzer target for the anti-entropy key listing decoder
 * (ae_listing_decode: the bytes of a peer's PAE KEYS reply).
 *
 * The decoder must never crash or over-read; what it accepts must point
 * inside the input and re-encode (ae_listing_put) to exactly the input;
 * what it refuses returns nothing.  A prefix of an accepted listing cut
 * inside a pair must be refused.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_ae tests/fuzz/corpus/ae */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/ae_listing.h"
#include "util/buf.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ae_kd *kd = NULL;
    size_t n = 0;
    if (ae_listing_decode(data, size, &kd, &n) != 0)
        return 0; /* refused: nothing to check (outputs untouched or unused) */
    if (n > size / 16 || (n == 0) != (kd == NULL))
        abort();
    struct buf out;
    buf_init(&out);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *k = (const uint8_t *)kd[i].key;
        if (k < data || k > data + size || kd[i].klen > (size_t)(data + size - k))
            abort();
        ae_listing_put(&out, kd[i].key, kd[i].klen, kd[i].digest);
    }
    if (out.len != size || (size && memcmp(out.data, data, size) != 0))
        abort();
    if (n > 0) {
        /* cut inside the last pair: refused */
        struct ae_kd *k2;
        size_t n2;
        if (ae_listing_decode(data, size - 1, &k2, &n2) == 0)
            abort();
    }
    buf_fini(&out);
    mem_free(kd);
    return 0;
}
