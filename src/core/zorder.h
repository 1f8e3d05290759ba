/* zorder.h — Redis's order of a sorted set over a CRDT_ZSET state (issue
 * 14), and the score and lex ranges its commands take.  Pure: no I/O.
 *
 * A zset state (crdt.h) is a hash table of members without an order index,
 * so a command that needs the order (ZRANGE, ZRANK, ZPOPMIN, the range
 * removals, ZUNION's reply...) builds it here per command: zorder_sort is
 * O(n log n) in the members of the key, zorder_top O(n log k) for the k
 * first, zorder_rank and zorder_count_srange O(n) without sorting.
 *
 * Order (Redis's zslCompare): score ascending (-0 equals 0, -inf and inf
 * at the ends), then member bytes as memcmp compares them, a shorter member
 * first on a common prefix.  A member's score is crdt_zset_score's (the
 * largest concurrent register plus every actor's increments).
 *
 * Items borrow the member bytes from the state: valid until the state
 * changes (copy them before removing members).
 *
 * Callers: cmd_zset*.c; tests/unit/test_zorder.c.
 */
#ifndef KV_ZORDER_H
#define KV_ZORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/crdt.h"

struct zorder_item {
    double score;
    const char *m; /* borrowed from the state */
    size_t mlen;
};

/* <0, 0, >0 as a sorts before, with, after b in Redis's order. */
int zorder_cmp(const struct zorder_item *a, const struct zorder_item *b);
/* The score a member of el reads as (crdt_zset_score without the lookup). */
double zorder_elem_score(const struct crdt_elem *el);

/* Every member of z (a CRDT_ZSET state, or NULL = empty) in order
 * (crdt_zset_sorted's): *out is a new array (mem_free it; NULL when
 * empty); returns its length. */
size_t zorder_sort(const struct crdt *z, struct zorder_item **out);
/* The k first members in order (the k last, highest first, when rev) into
 * out[0..k) (caller memory); returns how many (min(k, members)). */
size_t zorder_top(const struct crdt *z, size_t k, bool rev, struct zorder_item *out);
/* Members of z that sort strictly before (score, m). */
size_t zorder_rank(const struct crdt *z, double score, const void *m, size_t mlen);

/* ---- score ranges: "1.5", "(1.5" (exclusive), "-inf", "+inf" ---- */
struct zorder_srange {
    double min, max;
    bool minex, maxex; /* exclusive */
};
/* Redis's zslParseRange (strtod over the text after an optional '(', a NaN
 * refused).  false: "min or max is not a float". */
bool zorder_parse_srange(const char *min, size_t minlen, const char *max, size_t maxlen,
                         struct zorder_srange *r);
bool zorder_in_srange(const struct zorder_srange *r, double score);
/* No score can be in r (min above max, or equal with an exclusive end). */
bool zorder_srange_empty(const struct zorder_srange *r);

/* ---- lex ranges: "[a" (inclusive), "(a" (exclusive), "-", "+" ---- */
struct zorder_lrange {
    const char *min, *max; /* borrowed from the arguments */
    size_t minlen, maxlen;
    bool minex, maxex;
    int8_t mininf, maxinf; /* -1: "-", +1: "+", 0: a string */
};
/* Redis's zslParseLexRange.  false: "min or max not valid string range
 * item". */
bool zorder_parse_lrange(const char *min, size_t minlen, const char *max, size_t maxlen,
                         struct zorder_lrange *r);
bool zorder_in_lrange(const struct zorder_lrange *r, const char *m, size_t mlen);
/* Each end alone (Redis's zslLexValueGteMin / zslLexValueLteMax). */
bool zorder_lex_gte_min(const struct zorder_lrange *r, const char *m, size_t mlen);
bool zorder_lex_lte_max(const struct zorder_lrange *r, const char *m, size_t mlen);
bool zorder_lrange_empty(const struct zorder_lrange *r);

/* Members of z in the score range: O(n), no sorting (ZCOUNT). */
size_t zorder_count_srange(const struct crdt *z, const struct zorder_srange *r);

#endif
