/* test_bits.c — unit tests for core/bits.c: range resolution on Redis's
 * examples, counting and searching against a bit-by-bit reference on random
 * strings and ranges, BITOP against a reference, BITFIELD read/write round
 * trips and overflow policies (Redis's examples plus randomized checks
 * against exact arithmetic), and LCS (Redis's example with its match list,
 * and randomized checks that the result is a common subsequence of the
 * longest length and its runs match). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/bits.h"

/* Deterministic random stream (splitmix64). */
static uint64_t rng_state = 42;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Random bytes, often runs of 0x00 / 0xff so searches cross whole words. */
static void fill(uint8_t *p, size_t n)
{
    int kind = (int)(rnd() % 4);
    for (size_t i = 0; i < n; i++) {
        if (kind == 0)
            p[i] = (uint8_t)rnd();
        else if (kind == 1)
            p[i] = rnd() % 50 ? 0x00 : (uint8_t)rnd();
        else if (kind == 2)
            p[i] = rnd() % 50 ? 0xff : (uint8_t)rnd();
        else
            p[i] = (uint8_t)(rnd() % 4);
    }
}

static int ref_bit(const uint8_t *p, size_t len, uint64_t off)
{
    return off / 8 < len ? (p[off / 8] >> (7 - off % 8)) & 1 : 0;
}

/* ---- ranges (BITCOUNT/BITPOS start end [BYTE|BIT]) ---- */

static void test_range_examples(void **state)
{
    (void)state;
    const uint8_t *s = (const uint8_t *)"foobar";
    uint64_t f, l;
    /* whole string */
    assert_true(bits_range(0, -1, false, 6, &f, &l));
    assert_int_equal(f, 0);
    assert_int_equal(l, 47);
    assert_int_equal(bits_count(s, f, l), 26);
    /* bytes 1..-2 = "ooba" */
    assert_true(bits_range(1, -2, false, 6, &f, &l));
    assert_int_equal(bits_count(s, f, l), 6 + 6 + 3 + 3);
    /* start after end */
    assert_false(bits_range(-2, 1, false, 6, &f, &l));
    assert_false(bits_range(-2, 1, true, 6, &f, &l));
    /* end clamped */
    assert_true(bits_range(0, 1000, false, 6, &f, &l));
    assert_int_equal(l, 47);
    /* bits 10..-34 = 10..14 */
    assert_true(bits_range(10, -34, true, 6, &f, &l));
    assert_int_equal(f, 10);
    assert_int_equal(l, 14);
    /* out of range start */
    assert_false(bits_range(4, 10, false, 4, &f, &l));
    assert_false(bits_range(32, 87, true, 4, &f, &l));
    /* empty string */
    assert_false(bits_range(0, -1, false, 0, &f, &l));
    /* huge indexes do not overflow */
    assert_true(bits_range(-9223372036854775807LL - 1, 9223372036854775807LL, true, 3, &f, &l));
    assert_int_equal(f, 0);
    assert_int_equal(l, 23);
}

static void test_count_pos_random(void **state)
{
    (void)state;
    uint8_t buf[80];
    for (int it = 0; it < 20000; it++) {
        size_t len = 1 + rnd() % sizeof(buf);
        fill(buf, len);
        uint64_t total = len * 8;
        uint64_t f = rnd() % total, l = rnd() % total;
        if (f > l) {
            uint64_t t = f;
            f = l;
            l = t;
        }
        uint64_t want = 0;
        int64_t pos0 = -1, pos1 = -1;
        for (uint64_t b = f; b <= l; b++) {
            int v = ref_bit(buf, len, b);
            want += (uint64_t)v;
            if (v && pos1 < 0)
                pos1 = (int64_t)b;
            if (!v && pos0 < 0)
                pos0 = (int64_t)b;
        }
        assert_int_equal(bits_count(buf, f, l), want);
        assert_int_equal(bits_pos(buf, 1, f, l), pos1);
        assert_int_equal(bits_pos(buf, 0, f, l), pos0);
    }
}

static void test_pos_examples(void **state)
{
    (void)state;
    const uint8_t a[] = {0xff, 0xf0, 0x00};
    assert_int_equal(bits_pos(a, 0, 0, 23), 12);
    assert_int_equal(bits_pos(a, 1, 0, 23), 0);
    const uint8_t b[] = {0x00, 0xff, 0x00};
    assert_int_equal(bits_pos(b, 1, 16, 23), -1);
    assert_int_equal(bits_pos(b, 0, 8, 15), -1);
    assert_int_equal(bits_pos(b, 1, 8, 8), 8);
    assert_int_equal(bits_get_bit(b, 3, 8), 1);
    assert_int_equal(bits_get_bit(b, 3, 7), 0);
    assert_int_equal(bits_get_bit(b, 3, 1000), 0);
}

/* ---- BITOP ---- */

static void test_combine(void **state)
{
    (void)state;
    enum bits_op op;
    assert_true(bits_op_parse("aNd", 3, &op));
    assert_int_equal(op, BITS_AND);
    assert_true(bits_op_parse("NOT", 3, &op));
    assert_int_equal(op, BITS_NOT);
    assert_false(bits_op_parse("nand", 4, &op));
    assert_false(bits_op_parse("an", 2, &op));

    uint8_t bufs[5][40], out[40];
    const uint8_t *src[5];
    size_t len[5];
    for (int it = 0; it < 2000; it++) {
        size_t n = 1 + rnd() % 5, maxlen = 0;
        for (size_t i = 0; i < n; i++) {
            len[i] = rnd() % 41;
            fill(bufs[i], len[i]);
            src[i] = bufs[i];
            if (len[i] > maxlen)
                maxlen = len[i];
        }
        op = (enum bits_op)(rnd() % BITS_OP_COUNT);
        bits_combine(op, src, len, n, out, maxlen);
        for (size_t j = 0; j < maxlen; j++) {
            unsigned want = j < len[0] ? bufs[0][j] : 0;
            if (op == BITS_NOT)
                want = ~want & 0xff;
            for (size_t i = 1; op != BITS_NOT && i < n; i++) {
                unsigned b = j < len[i] ? bufs[i][j] : 0;
                want = op == BITS_AND ? (want & b) : op == BITS_OR ? (want | b) : (want ^ b);
            }
            assert_int_equal(out[j], want);
        }
    }
}

/* ---- BITFIELD ---- */

static void test_type_parse(void **state)
{
    (void)state;
    struct bits_type t;
    assert_true(bits_type_parse("i8", 2, &t));
    assert_true(t.sign);
    assert_int_equal(t.width, 8);
    assert_true(bits_type_parse("u63", 3, &t));
    assert_false(t.sign);
    assert_true(bits_type_parse("i64", 3, &t));
    assert_false(bits_type_parse("u64", 3, &t));
    assert_false(bits_type_parse("i65", 3, &t));
    assert_false(bits_type_parse("i0", 2, &t));
    assert_false(bits_type_parse("i08", 3, &t));
    assert_false(bits_type_parse("x8", 2, &t));
    assert_false(bits_type_parse("i", 1, &t));
    assert_false(bits_type_parse("I8", 2, &t));
    assert_false(bits_type_parse("i-1", 3, &t));
}

static void test_field_roundtrip(void **state)
{
    (void)state;
    uint8_t buf[24];
    for (int it = 0; it < 20000; it++) {
        fill(buf, sizeof(buf));
        uint8_t before[24];
        memcpy(before, buf, sizeof(buf));
        struct bits_type t = {rnd() % 2 == 0, 0};
        t.width = 1 + (unsigned)(rnd() % (t.sign ? 64 : 63));
        uint64_t off = rnd() % (sizeof(buf) * 8 - t.width + 1);
        int64_t v = (int64_t)rnd();
        bits_field_put(buf, off, t, v);
        /* the field reads back as v's low bits, in the type */
        uint64_t low = t.width == 64 ? (uint64_t)v : (uint64_t)v & ((UINT64_C(1) << t.width) - 1);
        int64_t got = bits_field_get(buf, sizeof(buf), off, t);
        if (t.sign && t.width < 64 && (low >> (t.width - 1)) & 1)
            assert_int_equal((uint64_t)got, low | (UINT64_MAX << t.width));
        else
            assert_int_equal((uint64_t)got, low);
        /* and no other bit changed */
        for (uint64_t b = 0; b < sizeof(buf) * 8; b++)
            if (b < off || b >= off + t.width)
                assert_int_equal(ref_bit(buf, sizeof(buf), b), ref_bit(before, sizeof(before), b));
    }
    /* past the end reads zeros */
    const uint8_t one[] = {0xff};
    struct bits_type u8 = {false, 8};
    assert_int_equal(bits_field_get(one, 1, 4, u8), 0xf0);
    assert_int_equal(bits_field_get(one, 0, 0, u8), 0);
    /* Redis #3221: "1" is 0x31, its first bit is 0 */
    struct bits_type u1 = {false, 1};
    assert_int_equal(bits_field_get((const uint8_t *)"1", 1, 0, u1), 0);
}

static void test_field_examples(void **state)
{
    (void)state;
    struct bits_type u8 = {false, 8}, i8 = {true, 8}, i64 = {true, 64}, u63 = {false, 63};
    int64_t r;
    /* bitfield.tcl: unsigned / signed wrap and sat */
    assert_true(bits_field_next(u8, BITS_OV_WRAP, 100, 257, false, &r));
    assert_int_equal(r, 101);
    assert_true(bits_field_next(u8, BITS_OV_WRAP, 101, 255, false, &r));
    assert_int_equal(r, 100);
    assert_true(bits_field_next(u8, BITS_OV_SAT, 100, 257, false, &r));
    assert_int_equal(r, 255);
    assert_true(bits_field_next(u8, BITS_OV_SAT, 255, -255 - 1, false, &r));
    assert_int_equal(r, 0);
    assert_true(bits_field_next(i8, BITS_OV_WRAP, 100, 257, false, &r));
    assert_int_equal(r, 101);
    assert_true(bits_field_next(i8, BITS_OV_SAT, 100, 257, false, &r));
    assert_int_equal(r, 127);
    assert_true(bits_field_next(i8, BITS_OV_SAT, 127, -255, false, &r));
    assert_int_equal(r, -128);
    assert_false(bits_field_next(i8, BITS_OV_FAIL, 127, 1, false, &r));
    /* SET i8 255 wraps to -1; SET of an in-range value is itself */
    assert_true(bits_field_next(i8, BITS_OV_WRAP, 0, 255, true, &r));
    assert_int_equal(r, -1);
    assert_true(bits_field_next(i8, BITS_OV_FAIL, 0, -100, true, &r));
    assert_int_equal(r, -100);
    /* unsigned SET takes a negative value as its 64-bit pattern: too big */
    assert_true(bits_field_next(u8, BITS_OV_SAT, 0, -1, true, &r));
    assert_int_equal(r, 255);
    assert_true(bits_field_next(u8, BITS_OV_WRAP, 0, -1, true, &r));
    assert_int_equal(r, 255);
    assert_false(bits_field_next(u8, BITS_OV_FAIL, 0, -1, true, &r));
    /* 64-bit limits */
    assert_true(bits_field_next(i64, BITS_OV_WRAP, INT64_MAX, 1, false, &r));
    assert_int_equal(r, INT64_MIN);
    assert_true(bits_field_next(i64, BITS_OV_SAT, INT64_MIN, INT64_MIN, false, &r));
    assert_int_equal(r, INT64_MIN);
    assert_false(bits_field_next(i64, BITS_OV_FAIL, INT64_MAX, INT64_MAX, false, &r));
    assert_true(bits_field_next(u63, BITS_OV_SAT, INT64_MAX, INT64_MAX, false, &r));
    assert_int_equal(r, INT64_MAX);
    assert_true(bits_field_next(u63, BITS_OV_WRAP, INT64_MAX, 1, false, &r));
    assert_int_equal(r, 0);
}

/* Random types, values and increments against exact 64-bit arithmetic
 * (checked adds): a result that fits is stored as is under every policy;
 * one that does not is refused by FAIL, clamped by SAT and reduced modulo
 * 2^width by WRAP. */
static void test_field_random(void **state)
{
    (void)state;
    for (int it = 0; it < 100000; it++) {
        struct bits_type t = {rnd() % 2 == 0, 0};
        t.width = 1 + (unsigned)(rnd() % (t.sign ? 64 : 63));
        int64_t lo = t.sign ? (t.width == 64 ? INT64_MIN : -(INT64_C(1) << (t.width - 1))) : 0;
        int64_t hi = t.sign ? (t.width == 64 ? INT64_MAX : (INT64_C(1) << (t.width - 1)) - 1)
                            : (int64_t)((UINT64_C(1) << t.width) - 1);
        /* old: a value of the type; v: anything, often near the bounds */
        uint64_t span = (uint64_t)hi - (uint64_t)lo;
        int64_t old = (int64_t)((uint64_t)lo + (span == UINT64_MAX ? rnd() : rnd() % (span + 1)));
        int64_t v = (int64_t)rnd();
        if (rnd() % 2)
            v >>= rnd() % 64;
        bool is_set = rnd() % 3 == 0;
        bool fits;
        int64_t exact = 0;
        if (is_set) {
            fits = t.sign ? (v >= lo && v <= hi) : (v >= 0 && v <= hi);
            exact = v;
        } else {
            fits = !__builtin_add_overflow(old, v, &exact) && exact >= lo && exact <= hi;
        }
        int64_t r;
        if (fits) {
            for (int ov = 0; ov < BITS_OV_COUNT; ov++) {
                assert_true(bits_field_next(t, (enum bits_overflow)ov, old, v, is_set, &r));
                assert_int_equal(r, exact);
            }
            continue;
        }
        assert_false(bits_field_next(t, BITS_OV_FAIL, old, v, is_set, &r));
        assert_true(bits_field_next(t, BITS_OV_SAT, old, v, is_set, &r));
        assert_true(r == lo || r == hi);
        /* wrap: congruent to old + v (or v) modulo 2^width, inside the type */
        assert_true(bits_field_next(t, BITS_OV_WRAP, old, v, is_set, &r));
        assert_true(r >= lo && r <= hi);
        uint64_t want = is_set ? (uint64_t)v : (uint64_t)old + (uint64_t)v;
        uint64_t mask = t.width == 64 ? UINT64_MAX : (UINT64_C(1) << t.width) - 1;
        assert_int_equal((uint64_t)r & mask, want & mask);
    }
}

/* ---- LCS ---- */

static const char RNA1[] =
    "CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCG"
    "GCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAG"
    "GCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG";
static const char RNA2[] =
    "ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTG"
    "TGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTC"
    "TATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";
static const char RNALCS[] =
    "ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGG"
    "CTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGG"
    "CTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT";

static void test_lcs_redis_example(void **state)
{
    (void)state;
    const uint8_t *a = (const uint8_t *)RNA1, *b = (const uint8_t *)RNA2;
    uint32_t al = (uint32_t)strlen(RNA1), bl = (uint32_t)strlen(RNA2);
    struct lcs l;
    assert_true(lcs_compute(a, al, b, bl, LCS_F_STR | LCS_F_IDX, 0, &l));
    assert_int_equal(l.len, strlen(RNALCS));
    assert_memory_equal(l.str, RNALCS, l.len);
    /* unit/type/string.tcl "LCS indexes" */
    const struct lcs_match want[] = {
        {238, 238, 239, 239}, {236, 236, 238, 238}, {229, 230, 236, 237},
        {224, 224, 235, 235}, {1, 222, 13, 234},
    };
    assert_int_equal(l.nmatches, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(l.matches[i].a0, want[i].a0);
        assert_int_equal(l.matches[i].a1, want[i].a1);
        assert_int_equal(l.matches[i].b0, want[i].b0);
        assert_int_equal(l.matches[i].b1, want[i].b1);
    }
    lcs_fini(&l);
    assert_true(lcs_compute(a, al, b, bl, LCS_F_IDX, 5, &l));
    assert_int_equal(l.nmatches, 1);
    assert_int_equal(l.matches[0].a1, 222);
    assert_null(l.str);
    lcs_fini(&l);
    assert_true(lcs_compute(a, al, b, bl, 0, 0, &l));
    assert_int_equal(l.len, strlen(RNALCS));
    lcs_fini(&l);
    /* empty inputs */
    assert_true(lcs_compute(a, 0, b, bl, LCS_F_STR | LCS_F_IDX, 0, &l));
    assert_int_equal(l.len, 0);
    assert_int_equal(l.nmatches, 0);
    lcs_fini(&l);
}

static bool is_subsequence(const char *s, uint32_t n, const uint8_t *p, uint32_t pl)
{
    uint32_t j = 0;
    for (uint32_t i = 0; i < pl && j < n; i++)
        if ((uint8_t)s[j] == p[i])
            j++;
    return j == n;
}

static void test_lcs_random(void **state)
{
    (void)state;
    uint8_t a[60], b[60];
    for (int it = 0; it < 3000; it++) {
        uint32_t al = (uint32_t)(rnd() % 60), bl = (uint32_t)(rnd() % 60);
        unsigned alpha = 1 + (unsigned)(rnd() % 4);
        for (uint32_t i = 0; i < al; i++)
            a[i] = (uint8_t)('a' + rnd() % alpha);
        for (uint32_t i = 0; i < bl; i++)
            b[i] = (uint8_t)('a' + rnd() % alpha);
        struct lcs full, len;
        assert_true(lcs_compute(a, al, b, bl, LCS_F_STR | LCS_F_IDX, 0, &full));
        assert_true(lcs_compute(a, al, b, bl, 0, 0, &len));
        assert_int_equal(full.len, len.len);
        assert_true(is_subsequence(full.str, full.len, a, al));
        assert_true(is_subsequence(full.str, full.len, b, bl));
        /* the runs cover the subsequence, right to left, each a real match */
        uint64_t covered = 0;
        for (size_t i = 0; i < full.nmatches; i++) {
            const struct lcs_match *m = &full.matches[i];
            assert_true(m->a0 <= m->a1 && m->a1 < al && m->b1 < bl);
            assert_int_equal(m->a1 - m->a0, m->b1 - m->b0);
            assert_memory_equal(a + m->a0, b + m->b0, m->a1 - m->a0 + 1);
            if (i > 0)
                assert_true(m->a1 < full.matches[i - 1].a0 && m->b1 < full.matches[i - 1].b0);
            covered += m->a1 - m->a0 + 1;
        }
        assert_int_equal(covered, full.len);
        /* a length limit alone drops exactly the shorter runs */
        struct lcs min3;
        assert_true(lcs_compute(a, al, b, bl, LCS_F_IDX, 3, &min3));
        size_t want = 0;
        for (size_t i = 0; i < full.nmatches; i++)
            want += full.matches[i].a1 - full.matches[i].a0 + 1 >= 3;
        assert_int_equal(min3.nmatches, want);
        lcs_fini(&min3);
        lcs_fini(&full);
        lcs_fini(&len);
    }
    /* an exact length: identical strings */
    struct lcs l;
    assert_true(lcs_compute((const uint8_t *)"abcabc", 6, (const uint8_t *)"abcabc", 6,
                            LCS_F_STR | LCS_F_IDX, 0, &l));
    assert_int_equal(l.len, 6);
    assert_int_equal(l.nmatches, 1);
    lcs_fini(&l);
    assert_int_equal(lcs_table_bytes(0, 0), 4);
    assert_int_equal(lcs_table_bytes(UINT32_MAX, UINT32_MAX), UINT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_range_examples),
        cmocka_unit_test(test_count_pos_random),
        cmocka_unit_test(test_pos_examples),
        cmocka_unit_test(test_combine),
        cmocka_unit_test(test_type_parse),
        cmocka_unit_test(test_field_roundtrip),
        cmocka_unit_test(test_field_examples),
        cmocka_unit_test(test_field_random),
        cmocka_unit_test(test_lcs_redis_example),
        cmocka_unit_test(test_lcs_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
