/* bits.h — the arithmetic behind Redis's bit commands (SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITOP, BITFIELD) and LCS, over plain byte strings.
 * Pure: no I/O, no store; cmd/cmd_bits.c parses arguments, reads and
 * writes keys, and calls these.
 *
 * Bit numbering is Redis's: bit 0 is the most significant bit of byte 0,
 * so offset k is bit 7 - (k & 7) of byte k >> 3.  Bits past a string's end
 * read as 0. */
#ifndef KV_BITS_H
#define KV_BITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- ranges, counting, searching ---- */

/* Resolves BITCOUNT/BITPOS's [start, end] over a string of len bytes (len <
 * 2^60): indexes count bytes, or bits when in_bits; a negative index counts
 * from the end; both are clamped to the string.  On success *first and *last
 * are absolute bit offsets (inclusive) and true is returned; false when the
 * range is empty. */
bool bits_range(long long start, long long end, bool in_bits, uint64_t len, uint64_t *first,
                uint64_t *last);

/* Number of 1 bits in p's bits [first, last] (p holds at least
 * last / 8 + 1 bytes). */
uint64_t bits_count(const uint8_t *p, uint64_t first, uint64_t last);

/* The first offset in [first, last] whose bit equals bit (0 or 1), or -1
 * when there is none (p holds at least last / 8 + 1 bytes). */
int64_t bits_pos(const uint8_t *p, int bit, uint64_t first, uint64_t last);

/* The value of bit off of p[0..len) (0 past the end). */
int bits_get_bit(const uint8_t *p, size_t len, uint64_t off);

/* ---- BITOP ---- */

enum bits_op {
    BITS_AND = 0,
    BITS_OR,
    BITS_XOR,
    BITS_NOT,
    BITS_OP_COUNT
};

/* Parses AND/OR/XOR/NOT (any case); false when it is none of them. */
bool bits_op_parse(const char *p, size_t n, enum bits_op *op);

/* out[0..outlen) = op over the n sources src[i][0..len[i]) (n >= 1; NOT uses
 * src[0] only), each source zero-padded to outlen (the longest length). */
void bits_combine(enum bits_op op, const uint8_t *const *src, const size_t *len, size_t n,
                  uint8_t *out, size_t outlen);

/* ---- BITFIELD ---- */

/* An integer field: signed (i1..i64) or unsigned (u1..u63). */
struct bits_type {
    bool sign;
    unsigned width;
};

enum bits_overflow {
    BITS_OV_WRAP = 0,   /* modulo 2^width (two's complement for signed) */
    BITS_OV_SAT,        /* clamped to the type's minimum or maximum */
    BITS_OV_FAIL,       /* refused: nothing written, nil replied */
    BITS_OV_COUNT
};

/* Parses "i<1..64>" or "u<1..63>" (Redis cannot reply u64 as an integer). */
bool bits_type_parse(const char *p, size_t n, struct bits_type *t);

/* The field at bit off of p[0..len) (bits past the end read 0), sign-extended
 * for a signed type. */
int64_t bits_field_get(const uint8_t *p, size_t len, uint64_t off, struct bits_type t);

/* Writes v's low t.width bits at bit off of p (p holds at least
 * (off + t.width - 1) / 8 + 1 bytes). */
void bits_field_put(uint8_t *p, uint64_t off, struct bits_type t, int64_t v);

/* What SET (is_set: v is the new value; an unsigned type takes it as the
 * 64-bit pattern of v, as Redis does) or INCRBY (old + v) stores in a field
 * of type t whose current value is old, under overflow policy ov.  Returns
 * false (nothing to store) only for BITS_OV_FAIL when the result does not
 * fit; otherwise true with *out the value to store. */
bool bits_field_next(struct bits_type t, enum bits_overflow ov, int64_t old, int64_t v, bool is_set,
                     int64_t *out);

/* ---- LCS ---- */

/* One run of consecutive matching bytes: a[a0..a1] == b[b0..b1]. */
struct lcs_match {
    uint32_t a0, a1, b0, b1;
};

struct lcs {
    uint32_t len;              /* the longest common subsequence's length */
    char *str;                 /* LCS_F_STR: the subsequence (len bytes); mem_free */
    struct lcs_match *matches; /* LCS_F_IDX: runs, last first (as Redis lists them) */
    size_t nmatches;
};

#define LCS_F_STR (1u << 0) /* build the subsequence itself */
#define LCS_F_IDX (1u << 1) /* list the matching runs */

/* Bytes of the table lcs_compute allocates for strings of alen and blen
 * bytes when it needs one (LCS_F_STR or LCS_F_IDX); a length alone needs
 * O(blen).  Both ways it takes alen * blen steps: callers bound that
 * (Redis: the table's size against proto-max-bulk-len). */
uint64_t lcs_table_bytes(uint32_t alen, uint32_t blen);

/* Computes the LCS of a and b into out (lcs_fini it).  Runs shorter than
 * minmatch are left out of matches.  Where several subsequences are longest,
 * the one Redis 7 reports is chosen (walking back from the ends, a mismatch
 * drops the last byte of b unless dropping a's gives a longer LCS).
 * Returns false (out empty) when the table cannot be allocated. */
bool lcs_compute(const uint8_t *a, uint32_t alen, const uint8_t *b, uint32_t blen, unsigned flags,
                 uint64_t minmatch, struct lcs *out);
void lcs_fini(struct lcs *l);

#endif
