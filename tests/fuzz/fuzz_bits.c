/* fuzz_bits.c — libFuzzer target for core/bits.c, which works on bytes that
 * come from clients: stored values (SETBIT, BITCOUNT, BITPOS, BITOP,
 * BITFIELD, LCS) and the BITFIELD type and BITOP operation arguments.
 *
 * Input: one control byte, 16 bytes of range arguments, a field type text
 * of up to 4 bytes, then two strings (split by the control byte).  Checks:
 *   - bits_type_parse accepts exactly "i1".."i64" and "u1".."u63";
 *     bits_op_parse exactly AND/OR/XOR/NOT in any case;
 *   - a resolved range lies inside the string, and bits_count / bits_pos
 *     agree with a bit-by-bit count and search;
 *   - bits_combine agrees with a byte-by-byte model;
 *   - a field written with bits_field_put reads back (bits_field_get) as
 *     the value's low bits in its type, and no other bit changes;
 *     bits_field_next stores a value inside the type, equal to the exact
 *     result when that fits, and refuses (FAIL) only when it does not;
 *   - LCS: the subsequence is common to both strings, as long as the
 *     length-only computation says, and its runs are real matches that
 *     cover it, right to left.
 * Strings are cut to 300 bytes (LCS to 80) so one input stays fast.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_bits tests/fuzz/corpus/bits */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                            \
    do {                                                                                    \
        if (!(c)) {                                                                         \
            fprintf(stderr, "fuzz_bits: check failed at line %d: %s\n", __LINE__, #c);      \
            abort();                                                                        \
        }                                                                                   \
    } while (0)

static int bit_at(const uint8_t *p, size_t len, uint64_t off)
{
    return off / 8 < len ? (p[off / 8] >> (7 - off % 8)) & 1 : 0;
}

static int64_t read_i64(const uint8_t *p)
{
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u = u << 8 | p[i];
    int64_t v;
    memcpy(&v, &u, sizeof(v));
    return v;
}

static void check_parsers(const uint8_t *t, size_t n)
{
    struct bits_type ty;
    if (bits_type_parse((const char *)t, n, &ty)) {
        char want[8];
        int l = snprintf(want, sizeof(want), "%c%u", ty.sign ? 'i' : 'u', ty.width);
        CHECK((size_t)l == n && memcmp(want, t, n) == 0);
        CHECK(ty.width >= 1 && ty.width <= (ty.sign ? 64u : 63u));
    }
    enum bits_op op;
    if (bits_op_parse((const char *)t, n, &op)) {
        static const char *const names[] = {"AND", "OR", "XOR", "NOT"};
        CHECK(op < BITS_OP_COUNT && strlen(names[op]) == n);
        for (size_t i = 0; i < n; i++)
            CHECK((t[i] & ~0x20) == (uint8_t)names[op][i]);
    }
}

static void check_ranges(const uint8_t *a, size_t alen, const uint8_t *args, uint8_t ctl)
{
    uint64_t first, last;
    bool in_bits = ctl & 1;
    if (!bits_range(read_i64(args), read_i64(args + 8), in_bits, alen, &first, &last))
        return;
    CHECK(first <= last && last < alen * 8);
    if (!in_bits)
        CHECK(first % 8 == 0 && last % 8 == 7);
    uint64_t count = 0;
    int64_t pos[2] = {-1, -1};
    for (uint64_t b = first; b <= last; b++) {
        int v = bit_at(a, alen, b);
        count += (uint64_t)v;
        if (pos[v] < 0)
            pos[v] = (int64_t)b;
    }
    CHECK(bits_count(a, first, last) == count);
    CHECK(bits_pos(a, 0, first, last) == pos[0]);
    CHECK(bits_pos(a, 1, first, last) == pos[1]);
}

static void check_combine(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen,
                          uint8_t ctl)
{
    enum bits_op op = (enum bits_op)((ctl >> 1) % BITS_OP_COUNT);
    const uint8_t *src[2] = {a, b};
    size_t len[2] = {alen, blen};
    size_t n = op == BITS_NOT ? 1 : 2;
    size_t out_len = op == BITS_NOT ? alen : (alen > blen ? alen : blen);
    uint8_t out[300];
    bits_combine(op, src, len, n, out, out_len);
    for (size_t j = 0; j < out_len; j++) {
        uint8_t x = j < alen ? a[j] : 0, y = j < blen ? b[j] : 0;
        uint8_t want = op == BITS_AND   ? (uint8_t)(x & y)
                       : op == BITS_OR  ? (uint8_t)(x | y)
                       : op == BITS_XOR ? (uint8_t)(x ^ y)
                                        : (uint8_t)~x;
        CHECK(out[j] == want);
    }
}

static void check_field(const uint8_t *a, size_t alen, const uint8_t *args, uint8_t ctl)
{
    struct bits_type t = {(ctl & 8) != 0, 0};
    t.width = 1 + args[0] % (t.sign ? 64u : 63u);
    if (alen * 8 < t.width)
        return;
    uint64_t off = (uint64_t)read_i64(args) % (alen * 8 - t.width + 1);
    int64_t v = read_i64(args + 8);
    uint8_t buf[300];
    memcpy(buf, a, alen);
    int64_t old = bits_field_get(buf, alen, off, t);
    /* the reference reading */
    uint64_t u = 0;
    for (unsigned k = 0; k < t.width; k++)
        u = u << 1 | (uint64_t)bit_at(a, alen, off + k);
    if (t.sign && t.width < 64 && (u >> (t.width - 1)) & 1)
        u |= UINT64_MAX << t.width;
    CHECK((uint64_t)old == u);
    int64_t lo = t.sign ? (t.width == 64 ? INT64_MIN : -(INT64_C(1) << (t.width - 1))) : 0;
    int64_t hi = t.sign ? (t.width == 64 ? INT64_MAX : (INT64_C(1) << (t.width - 1)) - 1)
                        : (int64_t)((UINT64_C(1) << t.width) - 1);
    CHECK(old >= lo && old <= hi);
    bool is_set = ctl & 16;
    int64_t exact;
    bool fits = is_set ? (t.sign || v >= 0) && v >= lo && v <= hi
                       : !__builtin_add_overflow(old, v, &exact) && exact >= lo && exact <= hi;
    if (is_set)
        exact = v;
    for (int ov = 0; ov < BITS_OV_COUNT; ov++) {
        int64_t next;
        bool ok = bits_field_next(t, (enum bits_overflow)ov, old, v, is_set, &next);
        CHECK(ok == (fits || ov != BITS_OV_FAIL));
        if (!ok)
            continue;
        CHECK(next >= lo && next <= hi);
        if (fits)
            CHECK(next == exact);
        bits_field_put(buf, off, t, next);
        CHECK(bits_field_get(buf, alen, off, t) == next);
        for (uint64_t b = 0; b < alen * 8; b++)
            if (b < off || b >= off + t.width)
                CHECK(bit_at(buf, alen, b) == bit_at(a, alen, b));
    }
}

static bool subsequence(const char *s, uint32_t n, const uint8_t *p, size_t pl)
{
    uint32_t j = 0;
    for (size_t i = 0; i < pl && j < n; i++)
        if ((uint8_t)s[j] == p[i])
            j++;
    return j == n;
}

static void check_lcs(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, uint8_t ctl)
{
    if (alen > 80)
        alen = 80;
    if (blen > 80)
        blen = 80;
    struct lcs full, len;
    uint64_t minmatch = ctl >> 5;
    CHECK(lcs_compute(a, (uint32_t)alen, b, (uint32_t)blen, LCS_F_STR | LCS_F_IDX, 0, &full));
    CHECK(lcs_compute(a, (uint32_t)alen, b, (uint32_t)blen, 0, 0, &len));
    CHECK(full.len == len.len);
    CHECK(subsequence(full.str, full.len, a, alen) && subsequence(full.str, full.len, b, blen));
    uint64_t covered = 0, kept = 0;
    for (size_t i = 0; i < full.nmatches; i++) {
        const struct lcs_match *m = &full.matches[i];
        CHECK(m->a0 <= m->a1 && m->a1 < alen && m->b1 < blen && m->a1 - m->a0 == m->b1 - m->b0);
        CHECK(memcmp(a + m->a0, b + m->b0, m->a1 - m->a0 + 1) == 0);
        if (i > 0)
            CHECK(m->a1 < full.matches[i - 1].a0 && m->b1 < full.matches[i - 1].b0);
        covered += m->a1 - m->a0 + 1;
        kept += m->a1 - m->a0 + 1 >= minmatch;
    }
    CHECK(covered == full.len);
    struct lcs some;
    CHECK(lcs_compute(a, (uint32_t)alen, b, (uint32_t)blen, LCS_F_IDX, minmatch, &some));
    CHECK(some.nmatches == kept && some.str == NULL);
    lcs_fini(&some);
    lcs_fini(&full);
    lcs_fini(&len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 + 16 + 4)
        return 0;
    uint8_t ctl = data[0];
    const uint8_t *args = data + 1;
    const uint8_t *type = data + 17;
    size_t tlen = 1 + (ctl >> 6); /* 1..4 bytes of type / operation text */
    check_parsers(type, tlen);
    const uint8_t *rest = data + 21;
    size_t rlen = size - 21;
    size_t cut = rlen ? (size_t)ctl * rlen / 255 : 0;
    const uint8_t *a = rest, *b = rest + cut;
    size_t alen = cut, blen = rlen - cut;
    if (alen > 300)
        alen = 300;
    if (blen > 300)
        blen = 300;
    check_ranges(a, alen, args, ctl);
    check_combine(a, alen, b, blen, ctl);
    check_field(a, alen, args, ctl);
    check_lcs(a, alen, b, blen, ctl);
    return 0;
}
