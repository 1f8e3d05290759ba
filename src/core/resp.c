/* resp.c — incremental RESP request parser and reply encoder (see resp.h).
 *
 * Owns: the args span array of each struct resp_req, nothing else.  Pure: no
 * I/O, no event loop, no copies of argument bytes.  The parser is called by
 * server.c (one struct resp_req per connection), the unit tests and the
 * fuzzer; the encoders (resp_add_*) by everything that writes a reply:
 * server.c, the command handlers (cmd/), and ae.c and reaper.c, which
 * answer peers' PAE/PCHECK/PREAP.
 * Nothing here blocks; a resp_parse() call does work proportional to the
 * bytes it has not seen before.
 *
 * Parser invariants:
 *  - bytes before r->pos are accepted and never read again; an incomplete
 *    inline line is read once more when its '\n' arrives (to split it), and
 *    an incomplete header's digits (at most 19) are retried by fast_len;
 *  - while a header or inline line is incomplete, [pos, scan) is known to
 *    hold no CR (headers) / LF (inline), so memchr resumes at scan;
 *  - every limit is checked as soon as the header holding the number is
 *    complete, before the caller is asked for more bytes;
 *  - the requests and the verdict for a byte stream do not depend on how it
 *    was split into calls (the unit tests and the fuzzer check this);
 *  - after RESP_AGAIN, consumed > 0 only in PS_START: bytes that held no
 *    request (empty lines, "*0") and may be dropped by the caller.
 *
 * Departures from Redis's processMultibulkBuffer/processInlineBuffer, all
 * stricter: a header line must end in "\r\n" (Redis skips any byte after
 * the CR); bulk data must be followed by "\r\n"; a header whose CR lies more
 * than 64 KB out is "too big" even if it arrived in one read; an inline
 * line longer than max_inline is refused even if its '\n' arrived in the
 * same read; NUL is an ordinary byte in inline lines (Redis's strchr stops
 * there). */
#include "core/resp.h"

#include <assert.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/mem.h"

/* Parser states (private; r->state). */
enum parse_state {
    PS_START = 0,  /* at a request boundary: r->pos is its first byte */
    PS_MBULK_HDR,  /* reading "*<count>\r\n" that starts at pos */
    PS_BULK_HDR,   /* reading "$<len>\r\n" that starts at pos */
    PS_BULK_DATA,  /* waiting for bulklen bytes + CRLF starting at pos */
    PS_INLINE,     /* waiting for the '\n' of the inline line at pos */
    PS_DONE,       /* a request was returned; resp_req_reset() comes next */
    PS_ERROR,      /* a protocol error was returned; sticky */
    PS_COUNT
};

/* Longest "*<n>" / "$<n>" line before its CR (Redis: PROTO_INLINE_MAX_SIZE). */
#define MAX_HDR_LEN (64u * 1024)
/* A multibulk count alone never reserves more spans than this; the array
 * grows as arguments really arrive (a client announcing 1M arguments and
 * sending none costs 16 KB, not 16 MB). */
#define ARGS_PREALLOC 1024
/* resp_req_reset() frees an args array larger than this. */
#define ARGS_KEEP 1024

static_assert(PS_START == 0, "resp_req_init relies on zeroed state == start");

static const struct resp_limits default_limits = {
    .max_bulk = RESP_DEFAULT_MAX_BULK,
    .max_mbulk = RESP_DEFAULT_MAX_MBULK,
    .max_inline = RESP_DEFAULT_MAX_INLINE,
};

/* "expected '$', got 'X'" for every byte X, as static strings (errmsg must
 * be static).  Byte 0 truncates the text after "got '", as in Redis. */
#define EXP_MSG(n)                                                          \
    { 'e', 'x', 'p', 'e', 'c', 't', 'e', 'd', ' ', '\'', '$', '\'', ',',    \
      ' ', 'g', 'o', 't', ' ', '\'', (char)(n), '\'', '\0' }
#define EXP_R4(n) EXP_MSG(n), EXP_MSG((n) + 1), EXP_MSG((n) + 2), EXP_MSG((n) + 3)
#define EXP_R16(n) EXP_R4(n), EXP_R4((n) + 4), EXP_R4((n) + 8), EXP_R4((n) + 12)
#define EXP_R64(n) EXP_R16(n), EXP_R16((n) + 16), EXP_R16((n) + 32), EXP_R16((n) + 48)
static const char expect_msg[256][22] = {
    EXP_R64(0), EXP_R64(64), EXP_R64(128), EXP_R64(192),
};

const char RESP_OK[] = "+OK\r\n";
const char RESP_PONG[] = "+PONG\r\n";
const char RESP_NULL2[] = "$-1\r\n";
const char RESP_NULL3[] = "_\r\n";
const char RESP_ZERO[] = ":0\r\n";
const char RESP_ONE[] = ":1\r\n";

/* ------------------------------------------------------------------ */
/* parser                                                              */

void resp_req_init(struct resp_req *r)
{
    memset(r, 0, sizeof(*r));
    r->args = NULL;
    r->state = PS_START;
    r->mbulk = -1;
    r->bulklen = -1;
}

void resp_req_fini(struct resp_req *r)
{
    if (!r)
        return;
    mem_free(r->args);
    r->args = NULL;
    r->args_cap = 0;
    r->argc = 0;
}

void resp_req_reset(struct resp_req *r)
{
    if (r->args_cap > ARGS_KEEP) {
        mem_free(r->args);
        r->args = NULL;
        r->args_cap = 0;
    }
    r->argc = 0;
    r->consumed = 0;
    r->need = 0;
    r->state = PS_START;
    r->pos = 0;
    r->scan = 0;
    r->mbulk = -1;
    r->bulklen = -1;
}

/* Grows the span array to hold at least `want` spans.  want is bounded by
 * max_mbulk (multibulk) or by the inline line length, both checked limits. */
static void args_grow(struct resp_req *r, size_t want)
{
    size_t cap = r->args_cap ? (size_t)r->args_cap : 8;
    while (cap < want)
        cap *= 2;
    if (cap > INT_MAX)
        cap = INT_MAX;
    r->args = mem_realloc(r->args, cap * sizeof(*r->args));
    r->args_cap = (int)cap;
}

/* HOT */
static inline void args_push(struct resp_req *r, size_t off, size_t len)
{
    if (r->argc == r->args_cap)
        args_grow(r, (size_t)r->argc + 1);
    r->args[r->argc].off = off;
    r->args[r->argc].len = len;
    r->argc++;
}

/* Redis's string2ll on s[0..n): optional '-', no '+', no leading zeros,
 * no spaces, no overflow.  Returns false if s is not such a number. */
static bool parse_ll(const char *s, size_t n, long long *out)
{
    const unsigned char *p = (const unsigned char *)s;
    bool neg = false;
    unsigned long long v = 0;

    if (n == 1 && p[0] == '0') {
        *out = 0;
        return true;
    }
    if (n > 0 && p[0] == '-') {
        neg = true;
        p++;
        n--;
    }
    /* 19 digits cannot overflow 64 unsigned bits; more never fit a long long */
    if (n == 0 || n > 19 || p[0] < '1' || p[0] > '9')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)p[i] - '0';
        if (d > 9)
            return false;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (unsigned long long)LLONG_MAX + 1)
            return false;
        *out = (long long)(0 - v); /* two's complement; LLONG_MIN included */
    } else {
        if (v > (unsigned long long)LLONG_MAX)
            return false;
        *out = (long long)v;
    }
    return true;
}

enum hdr_result { HDR_OK, HDR_AGAIN, HDR_TOOBIG, HDR_BADEOL };

/* HOT: finds the "\r\n" ending the header line that starts at r->pos,
 * resuming the search at r->scan.  HDR_TOOBIG when the line (up to its CR)
 * is longer than MAX_HDR_LEN, whether or not the CR has arrived; HDR_BADEOL
 * when the CR is followed by something other than LF. */
static enum hdr_result header_end(struct resp_req *r, const char *buf,
                                  size_t len, size_t *crp)
{
    const char *cr = NULL;
    if (r->scan < len)
        cr = memchr(buf + r->scan, '\r', len - r->scan);
    if (!cr) {
        if (len - r->pos > MAX_HDR_LEN)
            return HDR_TOOBIG;
        r->scan = len;
        return HDR_AGAIN;
    }
    size_t at = (size_t)(cr - buf);
    if (at - r->pos > MAX_HDR_LEN)
        return HDR_TOOBIG;
    if (at + 1 >= len) {
        r->scan = at; /* find this CR again when its LF may be here */
        return HDR_AGAIN;
    }
    if (buf[at + 1] != '\n')
        return HDR_BADEOL;
    *crp = at;
    return HDR_OK;
}

/* HOT: the common case of a header, "<1-18 digits, no leading 0>\r\n" or
 * "0\r\n", complete in the buffer at buf[at..].  Accepts only what the
 * general path (header_end + parse_ll) accepts, with the same value, so it
 * changes speed, not verdicts; anything else returns false. */
static inline bool fast_len(const char *buf, size_t at, size_t len,
                            size_t *crp, long long *out)
{
    size_t i = at;
    long long v = 0;

    while (i < len && i - at < 18 && (unsigned)(buf[i] - '0') <= 9)
        v = v * 10 + (buf[i++] - '0');
    if (i == at || i + 1 >= len || buf[i] != '\r' || buf[i + 1] != '\n' ||
        (buf[at] == '0' && i - at > 1))
        return false;
    *crp = i;
    *out = v;
    return true;
}

/* HOT: the length on the header line at r->pos ("*N" or "$N"): fast_len,
 * else header_end + parse_ll.  HDR_OK with *crp and *out set, HDR_AGAIN, or
 * an error with *msg naming it (bulk: the "$" header's words, else the
 * "*" header's). */
static enum hdr_result header_len(struct resp_req *r, const char *buf, size_t len, bool bulk,
                                  size_t *crp, long long *out, const char **msg)
{
    if (fast_len(buf, r->pos + 1, len, crp, out))
        return HDR_OK;
    enum hdr_result h = header_end(r, buf, len, crp);
    if (h == HDR_OK && !parse_ll(buf + r->pos + 1, *crp - r->pos - 1, out))
        h = HDR_BADEOL;
    if (h == HDR_TOOBIG)
        *msg = bulk ? "too big bulk count string" : "too big mbulk count string";
    else if (h == HDR_BADEOL)
        *msg = bulk ? "invalid bulk length" : "invalid multibulk length";
    return h;
}

/* isspace() in the C locale, as sdssplitargs uses it. */
static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

static inline int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Splits the inline line buf[start, end) like Redis's sdssplitargs, writing
 * the unquoted/unescaped arguments back into the same bytes.  Safe in place
 * because the write cursor w never passes the read cursor p: every quote or
 * escape produces fewer bytes than it consumes.  Returns false on unbalanced
 * quotes (unterminated, or a closing quote followed by a non-space). */
static bool split_inline(struct resp_req *r, char *buf, size_t start,
                         size_t end)
{
    size_t p = start, w = start;

    for (;;) {
        while (p < end && is_space(buf[p]))
            p++;
        if (p == end)
            return true;

        size_t arg = w;
        bool inq = false, insq = false, done = false;
        while (!done) {
            if (p == end) {
                if (inq || insq)
                    return false; /* unterminated quotes */
                break;
            }
            char c = buf[p];
            if (inq) {
                if (c == '\\' && p + 3 < end && buf[p + 1] == 'x' &&
                    hex_val(buf[p + 2]) >= 0 && hex_val(buf[p + 3]) >= 0) {
                    buf[w++] = (char)(hex_val(buf[p + 2]) * 16 +
                                      hex_val(buf[p + 3]));
                    p += 4;
                } else if (c == '\\' && p + 1 < end) {
                    char e = buf[p + 1];
                    switch (e) {
                    case 'n': e = '\n'; break;
                    case 'r': e = '\r'; break;
                    case 't': e = '\t'; break;
                    case 'b': e = '\b'; break;
                    case 'a': e = '\a'; break;
                    default: break;
                    }
                    buf[w++] = e;
                    p += 2;
                } else if (c == '"') {
                    /* a closing quote must be followed by a space or the end */
                    if (p + 1 < end && !is_space(buf[p + 1]))
                        return false;
                    p++;
                    done = true;
                } else {
                    buf[w++] = c;
                    p++;
                }
            } else if (insq) {
                if (c == '\\' && p + 1 < end && buf[p + 1] == '\'') {
                    buf[w++] = '\'';
                    p += 2;
                } else if (c == '\'') {
                    if (p + 1 < end && !is_space(buf[p + 1]))
                        return false;
                    p++;
                    done = true;
                } else {
                    buf[w++] = c;
                    p++;
                }
            } else {
                switch (c) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                    done = true;
                    break;
                case '"':
                    inq = true;
                    break;
                case '\'':
                    insq = true;
                    break;
                default:
                    buf[w++] = c;
                    break;
                }
                p++;
            }
        }
        args_push(r, arg, w - arg);
    }
}

/* HOT: the main loop.  Each state either returns or moves to a later state
 * having accepted bytes, so the loop ends. */
enum resp_status resp_parse(struct resp_req *r, char *buf, size_t len,
                            const struct resp_limits *lim, const char **errmsg)
{
    const char *msg;
    size_t cr, at, end;
    long long ll;

    if (!lim)
        lim = &default_limits;
    if (r->state == PS_DONE) /* the caller skipped resp_req_reset() */
        resp_req_reset(r);
    r->need = 0;
    r->consumed = 0;

    for (;;) {
        switch (r->state) {
        case PS_START:
            if (r->pos >= len) {
                r->consumed = r->pos; /* only skipped bytes so far */
                return RESP_AGAIN;
            }
            if (buf[r->pos] == '*') {
                r->state = PS_MBULK_HDR;
                r->scan = r->pos + 1;
            } else {
                r->state = PS_INLINE;
                r->scan = r->pos;
            }
            break;

        case PS_MBULK_HDR:
            switch (header_len(r, buf, len, false, &cr, &ll, &msg)) {
            case HDR_OK:
                break;
            case HDR_AGAIN:
                return RESP_AGAIN;
            default:
                goto proto;
            }
            if (ll > lim->max_mbulk || ll > INT_MAX) {
                msg = "invalid multibulk length";
                goto proto;
            }
            r->pos = cr + 2;
            if (ll <= 0) { /* "*0" and "*-1": skipped, as Redis does */
                r->state = PS_START;
                break;
            }
            r->mbulk = ll;
            if (r->args_cap < ARGS_PREALLOC && r->args_cap < ll)
                args_grow(r, ll < ARGS_PREALLOC ? (size_t)ll : ARGS_PREALLOC);
            r->state = PS_BULK_HDR;
            r->scan = r->pos + 1;
            break;

        case PS_BULK_HDR:
            if (r->pos >= len)
                return RESP_AGAIN;
            if (buf[r->pos] != '$') {
                msg = expect_msg[(unsigned char)buf[r->pos]];
                goto proto;
            }
            switch (header_len(r, buf, len, true, &cr, &ll, &msg)) {
            case HDR_OK:
                break;
            case HDR_AGAIN:
                return RESP_AGAIN;
            default:
                goto proto;
            }
            if (ll < 0 || ll > lim->max_bulk) {
                msg = "invalid bulk length";
                goto proto;
            }
            r->bulklen = ll;
            r->pos = cr + 2;
            r->state = PS_BULK_DATA;
            /* fall through */

        case PS_BULK_DATA:
            end = r->pos + (size_t)r->bulklen; /* the CR after the payload */
            if (len < end + 2) {
                if (len > end && buf[end] != '\r') {
                    msg = "expected CRLF after bulk data";
                    goto proto;
                }
                r->need = end + 2;
                return RESP_AGAIN;
            }
            if (buf[end] != '\r' || buf[end + 1] != '\n') {
                msg = "expected CRLF after bulk data";
                goto proto;
            }
            args_push(r, r->pos, (size_t)r->bulklen);
            r->pos = end + 2;
            r->bulklen = -1;
            if (--r->mbulk == 0) {
                r->consumed = r->pos;
                r->state = PS_DONE;
                return RESP_DONE;
            }
            r->state = PS_BULK_HDR;
            r->scan = r->pos + 1;
            break;

        case PS_INLINE: {
            const char *nl = NULL;
            if (r->scan < len)
                nl = memchr(buf + r->scan, '\n', len - r->scan);
            if (!nl) {
                if (len - r->pos > lim->max_inline) {
                    msg = "too big inline request";
                    goto proto;
                }
                r->scan = len;
                return RESP_AGAIN;
            }
            at = (size_t)(nl - buf);
            if (at - r->pos > lim->max_inline) {
                msg = "too big inline request";
                goto proto;
            }
            end = at;
            if (end > r->pos && buf[end - 1] == '\r')
                end--;
            if (!split_inline(r, buf, r->pos, end)) {
                msg = "unbalanced quotes in request";
                goto proto;
            }
            r->pos = at + 1;
            if (r->argc == 0) { /* empty or blank line: skipped */
                r->state = PS_START;
                break;
            }
            r->consumed = r->pos;
            r->state = PS_DONE;
            return RESP_DONE;
        }

        case PS_ERROR:
            msg = "protocol error (request already failed)";
            goto proto;

        default: /* PS_DONE is handled above; anything else is corruption */
            msg = "invalid parser state";
            goto proto;
        }
    }

proto:
    r->state = PS_ERROR;
    if (errmsg)
        *errmsg = msg;
    return RESP_EPROTO;
}

/* ------------------------------------------------------------------ */
/* encoder                                                             */

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline size_t digits10(uint64_t v)
{
    size_t n = 1;
    for (;;) {
        if (v < 10) return n;
        if (v < 100) return n + 1;
        if (v < 1000) return n + 2;
        if (v < 10000) return n + 3;
        v /= 10000;
        n += 4;
    }
}

/* HOT: writes v in decimal to dst (room for 20 bytes), returns the length. */
static inline size_t u64_str(char *dst, uint64_t v)
{
    size_t n = digits10(v);
    size_t i = n - 1;
    while (v >= 100) {
        size_t k = (size_t)(v % 100) * 2;
        v /= 100;
        dst[i] = digit_pairs[k + 1];
        dst[i - 1] = digit_pairs[k];
        i -= 2;
    }
    if (v < 10) {
        dst[i] = (char)('0' + v);
    } else {
        dst[i] = digit_pairs[v * 2 + 1];
        dst[i - 1] = digit_pairs[v * 2];
    }
    return n;
}

/* Longest "<type>-<20 digits>\r\n". */
#define HDR_MAX 24

/* HOT: appends "<type><v>\r\n". */
static inline void put_hdr(struct buf *b, char type, bool neg, uint64_t v)
{
    if (b->cap - b->len < HDR_MAX)
        buf_reserve(b, HDR_MAX);
    char *p = b->data + b->len;
    *p++ = type;
    if (neg)
        *p++ = '-';
    p += u64_str(p, v);
    *p++ = '\r';
    *p++ = '\n';
    b->len = (size_t)(p - b->data);
}

static inline void put_hdr_ll(struct buf *b, char type, long long v)
{
    if (v < 0)
        put_hdr(b, type, true, 0 - (uint64_t)v);
    else
        put_hdr(b, type, false, (uint64_t)v);
}

static inline void put_crlf(struct buf *b)
{
    buf_put(b, "\r\n", 2);
}

/* Appends s[0..n) with CR and LF turned into spaces (line-based replies). */
static void put_clean(struct buf *b, const char *s, size_t n)
{
    if (n == 0)
        return;
    buf_reserve(b, n);
    char *d = b->data + b->len;
    for (size_t i = 0; i < n; i++)
        d[i] = (s[i] == '\r' || s[i] == '\n') ? ' ' : s[i];
    b->len += n;
}

void resp_add_simple(struct buf *b, const char *s)
{
    buf_putc(b, '+');
    put_clean(b, s, strlen(s));
    put_crlf(b);
}

void resp_add_error(struct buf *b, const char *code, const char *msg)
{
    if (!code)
        code = "ERR";
    size_t cl = strlen(code), ml = msg ? strlen(msg) : 0;
    buf_putc(b, '-');
    put_clean(b, code, cl);
    if (ml) {
        if (cl)
            buf_putc(b, ' ');
        put_clean(b, msg, ml);
    }
    put_crlf(b);
}

void resp_add_errorf(struct buf *b, const char *code, const char *fmt, ...)
{
    char small[256];
    char *msg = small;
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        small[0] = '\0';
    } else if ((size_t)n >= sizeof(small)) {
        msg = mem_alloc((size_t)n + 1);
        va_start(ap, fmt);
        vsnprintf(msg, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    resp_add_error(b, code, msg);
    if (msg != small)
        mem_free(msg);
}

/* HOT */
void resp_add_int(struct buf *b, long long v)
{
    put_hdr_ll(b, ':', v);
}

/* HOT */
void resp_add_bulk(struct buf *b, const void *p, size_t n)
{
    buf_reserve(b, HDR_MAX + n + 2);
    put_hdr(b, '$', false, n);
    if (n) /* p may be NULL for an empty bulk */
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
}

void resp_add_cstr(struct buf *b, const char *s)
{
    resp_add_bulk(b, s, strlen(s));
}

void resp_add_null(struct buf *b, int proto)
{
    if (proto >= 3)
        buf_put(b, RESP_NULL3, sizeof(RESP_NULL3) - 1);
    else
        buf_put(b, RESP_NULL2, sizeof(RESP_NULL2) - 1);
}

void resp_add_null_array(struct buf *b, int proto)
{
    if (proto >= 3)
        buf_put(b, RESP_NULL3, sizeof(RESP_NULL3) - 1);
    else
        buf_put(b, "*-1\r\n", 5);
}

void resp_add_array(struct buf *b, long long n)
{
    put_hdr_ll(b, '*', n);
}

void resp_add_map(struct buf *b, int proto, long long npairs)
{
    if (proto >= 3)
        put_hdr_ll(b, '%', npairs);
    else
        put_hdr_ll(b, '*', npairs * 2);
}

void resp_add_set(struct buf *b, int proto, long long n)
{
    put_hdr_ll(b, proto >= 3 ? '~' : '*', n);
}

void resp_add_double(struct buf *b, int proto, double d)
{
    char tmp[48];
    const char *s = tmp;
    size_t n;

    /* spelled out: libc's %g gives "-nan" for some NaNs; Redis says "nan" */
    if (isinf(d)) {
        s = d > 0 ? "inf" : "-inf";
        n = strlen(s);
    } else if (isnan(d)) {
        s = "nan";
        n = 3;
    } else {
        int k = snprintf(tmp, sizeof(tmp), "%.17g", d);
        n = k > 0 ? (size_t)k : 0;
    }
    if (proto >= 3) {
        buf_putc(b, ',');
        buf_put(b, s, n);
        put_crlf(b);
    } else {
        resp_add_bulk(b, s, n);
    }
}

void resp_add_bool(struct buf *b, int proto, bool v)
{
    if (proto >= 3)
        buf_put(b, v ? "#t\r\n" : "#f\r\n", 4);
    else
        buf_put(b, v ? RESP_ONE : RESP_ZERO, 4);
}

void resp_add_verbatim(struct buf *b, int proto, const char *fmt3,
                       const void *p, size_t n)
{
    if (proto < 3) {
        resp_add_bulk(b, p, n);
        return;
    }
    /* "=<n+4>\r\nfmt:<p>\r\n"; the format is exactly 3 bytes, padded with
     * spaces or cut, as Redis's addReplyVerbatim does */
    char fmt[4] = {' ', ' ', ' ', ':'};
    if (!fmt3)
        fmt3 = "txt";
    for (size_t i = 0; i < 3 && fmt3[i]; i++)
        fmt[i] = fmt3[i];
    buf_reserve(b, HDR_MAX + 4 + n + 2);
    put_hdr(b, '=', false, (uint64_t)n + 4);
    buf_put(b, fmt, 4);
    if (n)
        buf_put(b, p, n);
    put_crlf(b);
}
