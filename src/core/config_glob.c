/* config_glob.c — cfg_glob_match, the Redis glob rules (* ? [set] \\x)
 * used by CONFIG GET's pattern and KEYS/SCAN MATCH.
 *
 * Owns nothing (a pure function of its arguments).
 * Callers: config.c (cfg_get, cfg_get_raw), cmd_peer.c (the key filter
 * behind KEYS and SCAN MATCH, for this node and for PSCAN from others), the
 * unit tests.  Never blocks: O(pattern length x string length) at worst, never
 * exponential (see cfg_glob_match).
 */
#include "core/config.h"

#include <ctype.h>
#include <stdint.h>

static int fold(int ch, bool nocase)
{
    return nocase ? tolower(ch) : ch;
}

/* Matches one non-'*' pattern element at p (plen > 0) against ch.  Sets
 * *used to the element's length.  Semantics follow Redis stringmatchlen:
 * '?' any byte; '\x' literal x (a trailing '\' is literal); "[...]" a set
 * with '^' negation, "a-z" ranges (reversed ends swapped), '\' escapes, and
 * an unterminated set running to the end of the pattern. */
static bool match_elem(const unsigned char *p, size_t plen, unsigned char ch, bool nocase,
                       size_t *used)
{
    if (p[0] == '?') {
        *used = 1;
        return true;
    }
    if (p[0] == '\\' && plen >= 2) {
        *used = 2;
        return fold(p[1], nocase) == fold(ch, nocase);
    }
    if (p[0] != '[') {
        *used = 1;
        return fold(p[0], nocase) == fold(ch, nocase);
    }
    size_t i = 1;
    bool neg = i < plen && p[i] == '^';
    if (neg)
        i++;
    bool hit = false;
    for (;;) {
        if (i >= plen) {
            /* Unterminated set: it takes the rest of the pattern. */
            i = plen;
            break;
        }
        if (p[i] == '\\' && plen - i >= 2) {
            i++;
            if (p[i] == ch) /* Redis compares escaped set members exactly */
                hit = true;
        } else if (p[i] == ']') {
            i++; /* consume the ']' */
            break;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            int lo = p[i], hi = p[i + 2];
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            /* Folded after ordering, as Redis does: [B-^] with nocase
             * becomes b..^, an empty range. */
            lo = fold(lo, nocase);
            hi = fold(hi, nocase);
            int c = fold(ch, nocase);
            if (c >= lo && c <= hi)
                hit = true;
            i += 2;
        } else if (fold(p[i], nocase) == fold(ch, nocase)) {
            hit = true;
        }
        i++;
    }
    *used = i;
    return neg ? !hit : hit;
}

/* Iterative: on a mismatch, resume after the most recent '*' with one more
 * byte consumed by it.  Only the last star ever needs to backtrack, so the
 * cost is O(plen * slen) at worst, never exponential.  Agrees with Redis's
 * stringmatchlen (checked by differential fuzzing) except that an all-'*'
 * pattern matches the empty string (Redis's loop never runs for an empty
 * string; KEYS and SCAN special-case "*" to hide that), and bytes >= 0x80
 * compare as unsigned in ranges (Redis uses plain, usually signed, char). */
bool cfg_glob_match(const char *pat, size_t plen, const char *str, size_t slen, bool nocase)
{
    const unsigned char *p = (const unsigned char *)pat, *s = (const unsigned char *)str;
    size_t pi = 0, si = 0;
    size_t star_p = SIZE_MAX, star_s = 0;
    while (si < slen) {
        if (pi < plen && p[pi] == '*') {
            while (pi < plen && p[pi] == '*')
                pi++;
            if (pi == plen)
                return true;
            star_p = pi;
            star_s = si;
            continue;
        }
        size_t used;
        if (pi < plen && match_elem(p + pi, plen - pi, s[si], nocase, &used)) {
            pi += used;
            si++;
            continue;
        }
        if (star_p == SIZE_MAX)
            return false;
        pi = star_p;
        si = ++star_s;
    }
    while (pi < plen && p[pi] == '*')
        pi++;
    return pi == plen;
}
