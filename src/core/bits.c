/* bits.c — bit arithmetic over byte strings and the longest common
 * subsequence, as Redis's bit commands and LCS define them (bits.h).
 *
 * Owns nothing beyond what it returns (struct lcs's arrays).  Pure: no I/O;
 * called by cmd/cmd_bits.c from event-loop callbacks, so its cost is what
 * the caller lets through: counting and searching are O(range bytes), BITOP
 * O(longest source x sources), LCS O(alen x blen) steps (the caller bounds
 * it).  Offsets arrive checked: every byte touched lies inside the buffer
 * the caller passed.
 */
#include "core/bits.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/mem.h"

/* GCC/Clang's 128-bit integers: BITFIELD's sums of two 64-bit values and
 * its limits (2^64 - 1) fit without overflow tricks. */
__extension__ typedef __int128 i128;
__extension__ typedef unsigned __int128 u128;

/* ---- ranges, counting, searching ---- */

bool bits_range(long long start, long long end, bool in_bits, uint64_t len, uint64_t *first,
                uint64_t *last)
{
    long long total = (long long)(in_bits ? len * 8 : len);
    if (start < 0)
        start += total;
    if (end < 0)
        end += total;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if (end >= total)
        end = total - 1;
    if (start > end)
        return false;
    *first = in_bits ? (uint64_t)start : (uint64_t)start * 8;
    *last = in_bits ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return true;
}

/* Bits of a byte from bit (first & 7) on, and up to bit (last & 7). */
static uint8_t mask_from(uint64_t first)
{
    return (uint8_t)(0xffu >> (first & 7));
}

static uint8_t mask_upto(uint64_t last)
{
    return (uint8_t)(0xffu << (7 - (last & 7)));
}

static uint64_t popcount_bytes(const uint8_t *p, uint64_t n)
{
    uint64_t count = 0;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        count += (uint64_t)__builtin_popcountll(w);
        p += 8;
        n -= 8;
    }
    while (n-- > 0)
        count += (uint64_t)__builtin_popcount(*p++);
    return count;
}

uint64_t bits_count(const uint8_t *p, uint64_t first, uint64_t last)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    if (fb == lb)
        return (uint64_t)__builtin_popcount(p[fb] & mask_from(first) & mask_upto(last));
    return (uint64_t)__builtin_popcount(p[fb] & mask_from(first)) +
           popcount_bytes(p + fb + 1, lb - fb - 1) +
           (uint64_t)__builtin_popcount(p[lb] & mask_upto(last));
}

int64_t bits_pos(const uint8_t *p, int bit, uint64_t first, uint64_t last)
{
    uint64_t fb = first >> 3, lb = last >> 3;
    uint8_t flip = bit ? 0 : 0xff; /* look for 1s in p ^ flip */
    uint64_t wflip = bit ? 0 : UINT64_MAX;
    for (uint64_t i = fb; i <= lb; i++) {
        /* whole 8-byte words with nothing to find are skipped at once */
        while (i > fb && i + 8 <= lb) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if ((w ^ wflip) != 0)
                break;
            i += 8;
        }
        uint8_t x = (uint8_t)(p[i] ^ flip);
        if (i == fb)
            x &= mask_from(first);
        if (i == lb)
            x &= mask_upto(last);
        if (x)
            return (int64_t)(i * 8 + (uint64_t)(__builtin_clz(x) - 24));
    }
    return -1;
}

int bits_get_bit(const uint8_t *p, size_t len, uint64_t off)
{
    uint64_t byte = off >> 3;
    if (byte >= len)
        return 0;
    return (p[byte] >> (7 - (off & 7))) & 1;
}

/* ---- BITOP ---- */

bool bits_op_parse(const char *p, size_t n, enum bits_op *op)
{
    static const char *const names[BITS_OP_COUNT] = {"and", "or", "xor", "not"};
    for (int i = 0; i < BITS_OP_COUNT; i++) {
        size_t l = strlen(names[i]);
        if (n == l && strncasecmp(p, names[i], l) == 0) {
            *op = (enum bits_op)i;
            return true;
        }
    }
    return false;
}

void bits_combine(enum bits_op op, const uint8_t *const *src, const size_t *len, size_t n,
                  uint8_t *out, size_t outlen)
{
    for (size_t j = 0; j < outlen; j++) {
        uint8_t o = j < len[0] ? src[0][j] : 0;
        if (op == BITS_NOT) {
            out[j] = (uint8_t)~o;
            continue;
        }
        for (size_t i = 1; i < n; i++) {
            uint8_t b = j < len[i] ? src[i][j] : 0;
            if (op == BITS_AND)
                o &= b;
            else if (op == BITS_OR)
                o |= b;
            else
                o ^= b;
        }
        out[j] = o;
    }
}

/* ---- BITFIELD ---- */

bool bits_type_parse(const char *p, size_t n, struct bits_type *t)
{
    if (n < 2 || n > 3 || (p[0] != 'i' && p[0] != 'u'))
        return false;
    unsigned w = 0;
    for (size_t i = 1; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        w = w * 10 + (unsigned)(p[i] - '0');
    }
    if (p[1] == '0' || w < 1 || w > (p[0] == 'i' ? 64u : 63u))
        return false;
    t->sign = p[0] == 'i';
    t->width = w;
    return true;
}

int64_t bits_field_get(const uint8_t *p, size_t len, uint64_t off, struct bits_type t)
{
    uint64_t v = 0;
    for (unsigned k = 0; k < t.width; k++)
        v = (v << 1) | (uint64_t)bits_get_bit(p, len, off + k);
    if (t.sign && t.width < 64 && (v >> (t.width - 1)) & 1)
        v |= UINT64_MAX << t.width; /* sign extension */
    int64_t s;
    memcpy(&s, &v, sizeof(s)); /* two's complement, without an out-of-range cast */
    return s;
}

void bits_field_put(uint8_t *p, uint64_t off, struct bits_type t, int64_t v)
{
    uint64_t u = (uint64_t)v;
    for (unsigned k = 0; k < t.width; k++) {
        uint64_t o = off + k;
        uint8_t m = (uint8_t)(1u << (7 - (o & 7)));
        if ((u >> (t.width - 1 - k)) & 1)
            p[o >> 3] |= m;
        else
            p[o >> 3] &= (uint8_t)~m;
    }
}

bool bits_field_next(struct bits_type t, enum bits_overflow ov, int64_t old, int64_t v, bool is_set,
                     int64_t *out)
{
    i128 lo, hi, r;
    if (t.sign) {
        hi = ((i128)1 << (t.width - 1)) - 1;
        lo = -hi - 1;
    } else {
        lo = 0;
        hi = ((i128)1 << t.width) - 1;
    }
    if (is_set)
        r = t.sign ? (i128)v : (i128)(uint64_t)v;
    else
        r = (i128)old + v;
    if (r < lo || r > hi) {
        if (ov == BITS_OV_FAIL)
            return false;
        if (ov == BITS_OV_SAT) {
            r = r < lo ? lo : hi;
        } else { /* wrap: the low width bits, read back in the type */
            u128 u = (u128)r & (((u128)1 << t.width) - 1);
            r = (i128)u;
            if (t.sign && (u >> (t.width - 1)) & 1)
                r -= (i128)1 << t.width;
        }
    }
    *out = (int64_t)r;
    return true;
}

/* ---- LCS ---- */

uint64_t lcs_table_bytes(uint32_t alen, uint32_t blen)
{
    uint64_t cells, bytes;
    if (__builtin_mul_overflow((uint64_t)alen + 1, (uint64_t)blen + 1, &cells) ||
        __builtin_mul_overflow(cells, (uint64_t)sizeof(uint32_t), &bytes))
        return UINT64_MAX;
    return bytes;
}

/* The length alone: two rows of the table. */
static uint32_t lcs_length(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen)
{
    uint32_t *prev = mem_calloc((size_t)blen + 1, sizeof(uint32_t));
    uint32_t *cur = mem_calloc((size_t)blen + 1, sizeof(uint32_t));
    for (uint32_t i = 1; i <= alen; i++) {
        for (uint32_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1])
                cur[j] = prev[j - 1] + 1;
            else
                cur[j] = prev[j] > cur[j - 1] ? prev[j] : cur[j - 1];
        }
        uint32_t *t = prev;
        prev = cur;
        cur = t;
    }
    uint32_t len = prev[blen];
    mem_free(prev);
    mem_free(cur);
    return len;
}

static void add_match(struct lcs *l, size_t *cap, const struct lcs_match *m, uint64_t minmatch)
{
    if ((uint64_t)(m->a1 - m->a0) + 1 < minmatch)
        return;
    if (l->nmatches == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        l->matches = mem_realloc(l->matches, *cap * sizeof(*l->matches));
    }
    l->matches[l->nmatches++] = *m;
}

bool lcs_compute(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen, unsigned flags,
                 uint64_t minmatch, struct lcs *out)
{
    memset(out, 0, sizeof(*out));
    if (!(flags & (LCS_F_STR | LCS_F_IDX))) {
        out->len = lcs_length(a, alen, b, blen);
        return true;
    }
    uint64_t bytes = lcs_table_bytes(alen, blen);
    if (bytes > SIZE_MAX)
        return false;
    /* The one allocation a client can size (up to the caller's bound):
     * refused instead of aborting when memory is short. */
    uint32_t *t = malloc((size_t)bytes);
    if (!t)
        return false;
    size_t w = (size_t)blen + 1;
#define L(i, j) t[(size_t)(i) * w + (j)]
    for (uint32_t j = 0; j <= blen; j++)
        L(0, j) = 0;
    for (uint32_t i = 1; i <= alen; i++) {
        L(i, 0) = 0;
        for (uint32_t j = 1; j <= blen; j++) {
            if (a[i - 1] == b[j - 1])
                L(i, j) = L(i - 1, j - 1) + 1;
            else
                L(i, j) = L(i - 1, j) > L(i, j - 1) ? L(i - 1, j) : L(i, j - 1);
        }
    }
    out->len = L(alen, blen);
    if (flags & LCS_F_STR)
        out->str = mem_alloc(out->len ? out->len : 1);
    /* Walk back from the ends, collecting the subsequence right to left and
     * the runs of consecutive matches as they close. */
    uint32_t i = alen, j = blen, k = out->len;
    size_t cap = 0;
    bool open = false;
    struct lcs_match m = {0, 0, 0, 0};
    while (i > 0 && j > 0) {
        if (a[i - 1] == b[j - 1]) {
            if (out->str)
                out->str[--k] = (char)a[i - 1];
            if (!open) {
                open = true;
                m.a1 = i - 1;
                m.b1 = j - 1;
            }
            m.a0 = i - 1;
            m.b0 = j - 1;
            i--;
            j--;
            if ((i == 0 || j == 0) && (flags & LCS_F_IDX)) {
                add_match(out, &cap, &m, minmatch);
                open = false;
            }
        } else {
            if (L(i - 1, j) > L(i, j - 1))
                i--;
            else
                j--;
            if (open && (flags & LCS_F_IDX))
                add_match(out, &cap, &m, minmatch);
            open = false;
        }
    }
#undef L
    free(t);
    return true;
}

void lcs_fini(struct lcs *l)
{
    if (!l)
        return;
    mem_free(l->str);
    mem_free(l->matches);
    memset(l, 0, sizeof(*l));
}
