/* fuzz_context.c — libFuzzer target for every decoder of untrusted clock and
 * sibling bytes: vc_from_context (client contexts), vc_decode (peer clocks),
 * sib_decode (peer sibling sets) and vc_unpack.
 *
 * Each decoder must never crash or over-read, and whatever it accepts must
 * survive a re-encode/decode round trip unchanged.  Because a context is
 * checksummed, random mutations almost never get past the checksum, so the
 * input is also wrapped into a well-formed context (version byte + input +
 * checksum, base64url) to drive the whole context path into vc_decode.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true, or directly
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -std=c11 -Isrc \
 *     tests/fuzz/fuzz_context.c src/vclock.c src/siblings.c src/util/mem.c \
 *     src/util/buf.c src/util/val.c src/errors.c -lmurmurhash
 * Run:   ./fuzz_context tests/fuzz/corpus/context */
#include <murmurhash.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/siblings.h"
#include "util/buf.h"
#include "util/mem.h"
#include "core/vclock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VAL (1u << 20)

/* Identical, and the decoder's invariants hold: counters >= 1, sorted. */
static bool vc_same(const struct vclock *a, const struct vclock *b)
{
    if (!vc_identical(a, b))
        return false;
    for (uint32_t i = 0; i < a->n; i++)
        if (a->e[i].counter == 0 || (i && a->e[i].actor <= a->e[i - 1].actor))
            return false;
    return true;
}

static bool sib_same(const struct sibset *a, const struct sibset *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct version *x = &a->v[i], *y = &b->v[i];
        if (x->expire_ms != y->expire_ms || !vc_same(&x->vc, &y->vc) ||
            x->dot_actor != y->dot_actor || x->dot_base != y->dot_base || x->epoch != y->epoch)
            return false;
        if ((x->val == NULL) != (y->val == NULL))
            return false;
        if (x->val && (x->val->len != y->val->len ||
                       memcmp(x->val->data, y->val->data, x->val->len) != 0))
            return false;
    }
    return true;
}

/* Checks that a decoded clock survives every codec unchanged. */
static void check_clock(const struct vclock *a)
{
    struct vclock b;
    struct buf out;
    size_t used = 0;
    vc_init(&b);
    buf_init(&out);

    vc_encode(a, &out);
    if (vc_decode(&b, out.data, out.len, &used) != 0 || used != out.len || !vc_same(a, &b))
        abort();
    out.len = 0;
    vc_pack(a, &out);
    if (vc_unpack(&b, out.data, out.len, &used) != 0 || used != out.len || !vc_same(a, &b))
        abort();
    out.len = 0;
    vc_to_context(a, &out);
    if (vc_from_context(&b, out.data, out.len) != 0 || !vc_same(a, &b))
        abort();
    out.len = 0;
    vc_format(a, &out);

    vc_fini(&b);
    buf_fini(&out);
}

static void b64url(struct buf *out, const uint8_t *p, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < chars; k++)
            buf_putc(out, al[(v >> (18 - 6 * k)) & 63]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vclock a;
    struct sibset s, t;
    struct buf out;
    size_t used = 0;
    vc_init(&a);
    sib_init(&s);
    sib_init(&t);
    buf_init(&out);

    /* 1. the input as a context a client typed */
    if (vc_from_context(&a, data, size) == 0)
        check_clock(&a);
    else if (a.n != 0)
        abort();

    /* 2. the input as a peer's wire clock (possibly followed by more bytes) */
    if (vc_decode(&a, data, size, &used) == 0) {
        if (used > size)
            abort();
        check_clock(&a);
    } else if (a.n != 0) {
        abort();
    }

    /* 3. the input as the payload of a correctly checksummed context */
    if (size < 64 * 1024) {
        struct buf raw;
        buf_init(&raw);
        buf_putc(&raw, 1);
        buf_put(&raw, data, size);
        uint32_t h;
        lmmh_x86_32(raw.data, (unsigned)raw.len, 0, &h);
        uint8_t le[4] = { (uint8_t)h, (uint8_t)(h >> 8), (uint8_t)(h >> 16), (uint8_t)(h >> 24) };
        buf_put(&raw, le, 4);
        b64url(&out, (const uint8_t *)raw.data, raw.len);
        /* decoded as a peer clock first, so its actors are interned and the
         * context (which drops actors never interned) keeps them all */
        struct vclock w;
        vc_init(&w);
        bool whole = vc_decode(&w, data, size, &used) == 0 && used == size && w.n > 0;
        int rc = vc_from_context(&a, out.data, out.len);
        /* accepted only when the payload is one whole non-empty clock with
         * names in canonical order (what vc_encode writes) */
        if ((rc == 0 && !whole) || (rc == 0 && !vc_same(&a, &w)))
            abort();
        if (whole && rc != 0) {
            struct buf canon;
            buf_init(&canon);
            vc_encode(&w, &canon);
            if (canon.len == size && memcmp(canon.data, data, size) == 0)
                abort(); /* a canonical clock must be accepted */
            buf_fini(&canon);
        }
        if (rc == 0)
            check_clock(&a);
        vc_fini(&w);
        buf_fini(&raw);
    }

    /* 4. the input as a peer's sibling set */
    if (sib_decode(&s, data, size, MAX_VAL) == 0) {
        out.len = 0;
        sib_encode(&s, &out);
        if (sib_decode(&t, out.data, out.len, MAX_VAL) != 0 || !sib_same(&s, &t))
            abort();
        for (uint32_t i = 0; i < s.n; i++)
            for (uint32_t j = i + 1; j < s.n; j++)
                if (version_compare(&s.v[i], &s.v[j]) != VC_CONCURRENT)
                    abort();
    } else if (s.n != 0) {
        abort();
    }

    /* 5. the local codec must also fail cleanly on foreign bytes */
    if (vc_unpack(&a, data, size, &used) == 0 && used > size)
        abort();

    vc_fini(&a);
    sib_fini(&s);
    sib_fini(&t);
    buf_fini(&out);
    return 0;
}
