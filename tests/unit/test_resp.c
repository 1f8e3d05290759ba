/* test_resp.c — unit tests for the RESP parser and encoder (resp.h).
 *
 * The parser is driven through a simulated connection (struct conn) that
 * appends incoming bytes to a query buffer and calls resp_parse() the way
 * server.c does.  Every request it returns is written to a transcript
 * string, "(arg|arg)(arg)!error", with unprintable bytes as \xHH, so a test
 * states its expectation as one string and the same input can be replayed
 * under every split into reads and every buffer-handling mode. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/resp.h"
#include "util/buf.h"
#include "util/mem.h"

/* ------------------------------------------------------------------ */
/* simulated connection                                                */

enum feed_mode {
    MODE_KEEP,    /* consumed bytes stay; the request start moves forward */
    MODE_COMPACT, /* consumed bytes are dropped after each request */
    MODE_EXACT,   /* like COMPACT, and each call gets an exact-size copy of
                   * the unconsumed bytes so ASan catches any over-read */
    MODE_COUNT
};

struct conn {
    struct buf q;        /* query buffer */
    size_t start;        /* first byte of the current request in q */
    struct resp_req req;
    struct resp_limits lim;
    enum feed_mode mode;
    bool failed;         /* a protocol error was seen */
    struct buf out;      /* transcript */
    int done;            /* requests returned */
};

static void conn_init(struct conn *c, enum feed_mode mode,
                      const struct resp_limits *lim)
{
    memset(c, 0, sizeof(*c));
    buf_init(&c->q);
    buf_init(&c->out);
    resp_req_init(&c->req);
    c->mode = mode;
    if (lim) {
        c->lim = *lim;
    } else {
        c->lim.max_bulk = RESP_DEFAULT_MAX_BULK;
        c->lim.max_mbulk = RESP_DEFAULT_MAX_MBULK;
        c->lim.max_inline = RESP_DEFAULT_MAX_INLINE;
    }
}

static void conn_fini(struct conn *c)
{
    buf_fini(&c->q);
    buf_fini(&c->out);
    resp_req_fini(&c->req);
}

/* Appends s[0..n) to b with '|', '(', ')', '!', '\\' and unprintable bytes
 * as \xHH, so transcripts compare as C strings. */
static void put_escaped(struct buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e || ch == '|' || ch == '(' || ch == ')' ||
            ch == '!' || ch == '\\') {
            static const char hex[] = "0123456789abcdef";
            char e[4] = {'\\', 'x', hex[ch >> 4], hex[ch & 15]};
            buf_put(b, e, 4);
        } else {
            buf_putc(b, (char)ch);
        }
    }
}

static void record_request(struct conn *c, const char *base)
{
    const struct resp_req *r = &c->req;
    assert_true(r->argc > 0);
    buf_putc(&c->out, '(');
    for (int i = 0; i < r->argc; i++) {
        /* every span lies inside the bytes this request consumed */
        assert_true(r->args[i].off <= r->consumed);
        assert_true(r->args[i].len <= r->consumed - r->args[i].off);
        if (i)
            buf_putc(&c->out, '|');
        put_escaped(&c->out, base + r->args[i].off, r->args[i].len);
    }
    buf_putc(&c->out, ')');
}

/* Calls resp_parse until it wants more bytes or fails. */
static void conn_pump(struct conn *c)
{
    while (!c->failed && c->q.data) {
        size_t avail = c->q.len - c->start;
        char *base = c->q.data + c->start;
        char *copy = NULL;
        const char *msg = NULL;

        if (c->mode == MODE_EXACT) {
            copy = mem_alloc(avail);
            memcpy(copy, base, avail);
            base = copy;
        }
        enum resp_status st = resp_parse(&c->req, base, avail, &c->lim, &msg);
        if (st == RESP_AGAIN) {
            /* a hint, when given, asks for more than is there */
            assert_true(c->req.need == 0 || c->req.need > avail);
            assert_true(c->req.consumed <= avail);
            mem_free(copy);
            /* skipped empty lines may be dropped (KEEP mode shows that
             * ignoring them works too) */
            if (c->req.consumed > 0 && c->mode != MODE_KEEP) {
                assert_int_equal(c->req.argc, 0);
                buf_consume(&c->q, c->start + c->req.consumed);
                c->start = 0;
                resp_req_reset(&c->req);
            }
            return;
        }
        if (st == RESP_EPROTO) {
            assert_non_null(msg);
            buf_putc(&c->out, '!');
            put_escaped(&c->out, msg, strlen(msg));
            c->failed = true;
            mem_free(copy);
            return;
        }
        assert_int_equal(st, RESP_DONE);
        assert_true(c->req.consumed > 0 && c->req.consumed <= avail);
        record_request(c, base);
        c->done++;
        c->start += c->req.consumed;
        resp_req_reset(&c->req);
        mem_free(copy);
        if (c->mode != MODE_KEEP) {
            buf_consume(&c->q, c->start);
            c->start = 0;
        }
    }
}

static void conn_feed(struct conn *c, const char *p, size_t n)
{
    if (n == 0)
        return;
    buf_append(&c->q, p, n);
    conn_pump(c);
}

/* Transcript as a NUL-terminated string owned by c->out. */
static const char *conn_transcript(struct conn *c)
{
    buf_putc(&c->out, '\0');
    c->out.len--;
    return c->out.data;
}

/* Feeds s in pieces cut at cuts[0..ncuts) (ascending) and checks the
 * transcript. */
static void check_cuts(const char *s, size_t n, const size_t *cuts,
                       size_t ncuts, enum feed_mode mode,
                       const struct resp_limits *lim, const char *expect)
{
    struct conn c;
    size_t at = 0;

    conn_init(&c, mode, lim);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;
        conn_feed(&c, s + at, to - at);
        at = to;
    }
    const char *got = conn_transcript(&c);
    if (strcmp(got, expect) != 0) {
        print_error("mode %d, cuts:", (int)mode);
        for (size_t i = 0; i < ncuts; i++)
            print_error(" %zu", cuts[i]);
        print_error("\n");
    }
    assert_string_equal(got, expect);
    conn_fini(&c);
}

/* Feeds s whole, in two pieces at every split point, one byte at a time,
 * and (for short inputs) in three pieces at every pair of points, in every
 * mode; the transcript must be `expect` each time. */
static void check_all_splits(const char *s, size_t n,
                             const struct resp_limits *lim, const char *expect)
{
    for (int mode = 0; mode < MODE_COUNT; mode++) {
        check_cuts(s, n, NULL, 0, (enum feed_mode)mode, lim, expect);
        for (size_t i = 0; i <= n; i++)
            check_cuts(s, n, &i, 1, (enum feed_mode)mode, lim, expect);
        size_t *cuts = mem_alloc((n ? n : 1) * sizeof(*cuts));
        for (size_t i = 0; i + 1 < n; i++)
            cuts[i] = i + 1;
        check_cuts(s, n, cuts, n ? n - 1 : 0, (enum feed_mode)mode, lim,
                   expect);
        mem_free(cuts);
        if (n <= 120 && mode == MODE_KEEP) {
            for (size_t i = 1; i < n; i++) {
                for (size_t j = i + 1; j < n; j++) {
                    size_t two[2] = {i, j};
                    check_cuts(s, n, two, 2, MODE_KEEP, lim, expect);
                }
            }
        }
    }
}

/* Feeds s in chunks of `chunk` bytes (for inputs too big for every split). */
static void check_chunked(const char *s, size_t n, size_t chunk,
                          const struct resp_limits *lim, const char *expect)
{
    struct conn c;
    conn_init(&c, MODE_KEEP, lim);
    for (size_t at = 0; at < n; at += chunk)
        conn_feed(&c, s + at, n - at < chunk ? n - at : chunk);
    assert_string_equal(conn_transcript(&c), expect);
    conn_fini(&c);
}

#define SPLITS(lit, expect) check_all_splits(lit, sizeof(lit) - 1, NULL, expect)
#define SPLITS_LIM(lit, lim, expect)                                        \
    check_all_splits(lit, sizeof(lit) - 1, lim, expect)

/* ------------------------------------------------------------------ */
/* parser: valid input                                                 */

static void test_multibulk_splits(void **state)
{
    (void)state;
    SPLITS("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"
           "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n",
           "(SET|key|value)(GET|key)");
    /* an incomplete trailing request is not returned */
    SPLITS("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$3\r\nke",
           "(PING)");
    /* empty bulk, and a 10-byte one */
    SPLITS("*3\r\n$0\r\n\r\n$10\r\n0123456789\r\n$1\r\nx\r\n",
           "(|0123456789|x)");
    /* "*0" and "*-1" are skipped like Redis, within and across calls */
    SPLITS("*0\r\n*1\r\n$4\r\nPING\r\n*-1\r\n*-7\r\n*1\r\n$0\r\n\r\n*0\r\n",
           "(PING)()");
}

static void test_pipeline_one_buffer(void **state)
{
    (void)state;
    struct buf in;
    struct buf expect;
    buf_init(&in);
    buf_init(&expect);
    for (int i = 0; i < 200; i++) {
        buf_printf(&in, "*3\r\n$3\r\nSET\r\n$%d\r\nkey:%d\r\n$3\r\nv%02d\r\n",
                   5 + (i >= 10) + (i >= 100), i, i % 100);
        buf_printf(&expect, "(SET|key:%d|v%02d)", i, i % 100);
        buf_printf(&in, "GET key:%d\r\n", i);
        buf_printf(&expect, "(GET|key:%d)", i);
    }
    buf_putc(&expect, '\0');
    for (int mode = 0; mode < MODE_COUNT; mode++) {
        struct conn c;
        conn_init(&c, (enum feed_mode)mode, NULL);
        conn_feed(&c, in.data, in.len);
        assert_int_equal(c.done, 400);
        assert_string_equal(conn_transcript(&c), expect.data);
        conn_fini(&c);
    }
    check_chunked(in.data, in.len, 7, NULL, expect.data);
    buf_fini(&in);
    buf_fini(&expect);
}

static void test_mixed_inline_multibulk(void **state)
{
    (void)state;
    SPLITS("PING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n\r\n\nset a \"b c\"\n",
           "(PING)(ECHO|hi)(set|a|b c)");
}

static void test_inline_quotes(void **state)
{
    (void)state;
    SPLITS("set \"a b\" 'c\\'d' \"\\x41\\n\\t\\\\\\\"\"\r\n",
           "(set|a b|c'd|A\\x0a\\x09\\x5c\")");
    /* \r \b \a, unknown escape, \x without hex digits, lower/upper hex */
    SPLITS("x \"\\r\\b\\a\" \"\\q\" \"\\xZZ\" \"\\x4a\\x4A\\xff\"\n",
           "(x|\\x0d\\x08\\x07|q|xZZ|JJ\\xff)");
    /* single quotes keep backslashes except before a quote */
    SPLITS("x 'a\\nb' 'it\\'s' '\"'\n", "(x|a\\x5cnb|it's|\")");
    /* empty quoted args, quotes starting mid-token */
    SPLITS("x \"\" '' a\"b c\" d'e f'\n", "(x|||ab c|de f)");
    /* blanks around and between args, tabs, \v inside a token */
    SPLITS("  get\tk \t \r\nx a\vb\n", "(get|k)(x|a\\x0bb)");
    /* NUL is an ordinary byte in an inline line */
    SPLITS("a\0b c\n", "(a\\x00b|c)");
    /* a CR inside the line separates; only the one before LF is stripped */
    SPLITS("a\rb\r\r\n", "(a|b)");
}

static void test_inline_line_endings(void **state)
{
    (void)state;
    SPLITS("PING\nPING\r\nPING\n", "(PING)(PING)(PING)");
    /* empty and blank lines are consumed without a request */
    SPLITS("\r\n\n  \r\n\t\nPING\r\n\n", "(PING)");
    SPLITS("\r\n\r\n", "");
}

static void test_skipped_bytes_droppable(void **state)
{
    (void)state;
    /* a client sending only newlines and "*0" does not grow the buffer */
    struct conn c;
    conn_init(&c, MODE_COMPACT, NULL);
    for (int i = 0; i < 10000; i++) {
        conn_feed(&c, i % 3 ? "\r\n" : "*0\r\n", i % 3 ? 2 : 4);
        assert_int_equal(c.q.len, 0);
    }
    conn_feed(&c, "\n*1\r\n$1\r\n", 9);
    assert_int_equal(c.q.len, 9); /* kept while a request is partial */
    conn_feed(&c, "x\r\n", 3);
    assert_string_equal(conn_transcript(&c), "(x)");
    conn_fini(&c);

    /* not reported while a request is partial */
    char b[] = "\r\n*1\r\n$1";
    struct resp_req r;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, b, 2, NULL, NULL), RESP_AGAIN);
    assert_int_equal(r.consumed, 2);
    assert_int_equal(resp_parse(&r, b, sizeof(b) - 1, NULL, NULL), RESP_AGAIN);
    assert_int_equal(r.consumed, 0);
    resp_req_fini(&r);
}

static void test_inline_in_place(void **state)
{
    (void)state;
    char line[] = "SET \"a\\x41b\" v\r\nrest";
    struct resp_req r;
    const char *msg = NULL;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, line, sizeof(line) - 1, NULL, &msg),
                     RESP_DONE);
    assert_int_equal(r.argc, 3);
    assert_int_equal(r.consumed, 16);
    /* spans point into the rewritten line itself, contiguous */
    for (int i = 0; i < r.argc; i++)
        assert_true(r.args[i].off + r.args[i].len <= 16);
    assert_memory_equal(line + r.args[0].off, "SET", 3);
    assert_int_equal(r.args[1].len, 3);
    assert_memory_equal(line + r.args[1].off, "aAb", 3);
    assert_memory_equal(line + r.args[2].off, "v", 1);
    assert_memory_equal(line + 16, "rest", 4); /* bytes after untouched */
    resp_req_fini(&r);
}

static void test_binary_bulk(void **state)
{
    (void)state;
    static const char in[] = "*3\r\n$4\r\nA\0\r\n\r\n$3\r\n\r\n\0\r\n$2\r\n\n\r\r\n";
    check_all_splits(in, sizeof(in) - 1, NULL,
                     "(A\\x00\\x0d\\x0a|\\x0d\\x0a\\x00|\\x0a\\x0d)");

    /* no copy: the spans are the payload positions in the buffer */
    char b[sizeof(in)];
    memcpy(b, in, sizeof(in));
    struct resp_req r;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, b, sizeof(in) - 1, NULL, NULL), RESP_DONE);
    assert_int_equal(r.argc, 3);
    assert_int_equal(r.args[0].off, 8);
    assert_int_equal(r.args[0].len, 4);
    assert_int_equal(r.args[1].off, 18);
    assert_int_equal(r.args[2].off, 27);
    assert_int_equal(r.consumed, sizeof(in) - 1);
    resp_req_fini(&r);
}

static void test_many_args(void **state)
{
    (void)state;
    /* more arguments than the count alone preallocates */
    struct buf in;
    buf_init(&in);
    buf_printf(&in, "*3000\r\n");
    for (int i = 0; i < 3000; i++)
        buf_printf(&in, "$1\r\n%c\r\n", 'a' + i % 26);
    struct resp_req r;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, in.data, in.len, NULL, NULL), RESP_DONE);
    assert_int_equal(r.argc, 3000);
    for (int i = 0; i < 3000; i++)
        assert_int_equal(in.data[r.args[i].off], 'a' + i % 26);
    /* a huge args array is released by reset, a small one kept */
    resp_req_reset(&r);
    assert_null(r.args);
    char small[] = "*1\r\n$1\r\nx\r\n";
    assert_int_equal(resp_parse(&r, small, sizeof(small) - 1, NULL, NULL),
                     RESP_DONE);
    struct resp_span *keep = r.args;
    resp_req_reset(&r);
    assert_ptr_equal(r.args, keep);
    resp_req_fini(&r);
    resp_req_fini(NULL);
    buf_fini(&in);
}

/* ------------------------------------------------------------------ */
/* parser: errors and limits                                           */

static void test_errors(void **state)
{
    (void)state;
    SPLITS("*abc\r\n", "!invalid multibulk length");
    SPLITS("*\r\n", "!invalid multibulk length");
    SPLITS("*01\r\n", "!invalid multibulk length");
    SPLITS("*+1\r\n", "!invalid multibulk length");
    SPLITS("*-0\r\n", "!invalid multibulk length");
    SPLITS("*1 \r\n", "!invalid multibulk length");
    SPLITS("*1\r\r\n", "!invalid multibulk length");
    SPLITS("*99999999999999999999\r\n", "!invalid multibulk length");
    SPLITS("*2000000\r\n", "!invalid multibulk length"); /* > 1M default */
    SPLITS("*9223372036854775807\r\n", "!invalid multibulk length");
    SPLITS("*9223372036854775808\r\n", "!invalid multibulk length");
    SPLITS("*-9223372036854775809\r\n", "!invalid multibulk length");
    SPLITS("*-9223372036854775808\r\n*1\r\n$1\r\nz\r\n", "(z)"); /* skipped */
    SPLITS("*1\r\n$9223372036854775807\r\n", "!invalid bulk length");
    SPLITS("*1\r\n$-9223372036854775808\r\n", "!invalid bulk length");
    SPLITS("*1\r\nx", "!expected '$', got 'x'");
    SPLITS("*2\r\n$1\r\na\r\n:1\r\n", "!expected '$', got ':'");
    SPLITS("*1\r\n\r\n", "!expected '$', got '\\x0d'");
    SPLITS("*1\r\n$3\r\nfoo\r\n*1\r\n\0", "(foo)!expected '$', got '");
    SPLITS("*1\r\n$-1\r\n", "!invalid bulk length");
    SPLITS("*1\r\n$abc\r\n", "!invalid bulk length");
    SPLITS("*1\r\n$\r\n", "!invalid bulk length");
    SPLITS("*1\r\n$03\r\nabc\r\n", "!invalid bulk length");
    SPLITS("*1\r\n$3\rX", "!invalid bulk length");
    SPLITS("*1\r\n$99999999999999999999\r\n", "!invalid bulk length");
    /* bulk data not followed by CRLF */
    SPLITS("*1\r\n$3\r\nabcd\r\n", "!expected CRLF after bulk data");
    SPLITS("*1\r\n$3\r\nabc\rX", "!expected CRLF after bulk data");
    SPLITS("*1\r\n$3\r\nabc\n\r", "!expected CRLF after bulk data");
    SPLITS("*2\r\n$1\r\na$1\r\nb\r\n", "!expected CRLF after bulk data");
    /* inline quoting */
    SPLITS("\"abc\r\n", "!unbalanced quotes in request");
    SPLITS("'abc\r\n", "!unbalanced quotes in request");
    SPLITS("\"abc\"def\r\n", "!unbalanced quotes in request");
    SPLITS("'a'b\r\n", "!unbalanced quotes in request");
    SPLITS("\"abc\\\"\r\n", "!unbalanced quotes in request");
    SPLITS("x \"abc\\\r\n", "!unbalanced quotes in request");
    /* requests before the error are still returned */
    SPLITS("PING\r\n*1\r\n$x\r\n", "(PING)!invalid bulk length");
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    char in[] = "*x\r\n*1\r\n$1\r\na\r\n";
    struct resp_req r;
    const char *msg = NULL;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, in, sizeof(in) - 1, NULL, &msg),
                     RESP_EPROTO);
    assert_string_equal(msg, "invalid multibulk length");
    assert_int_equal(resp_parse(&r, in, sizeof(in) - 1, NULL, &msg),
                     RESP_EPROTO);
    resp_req_reset(&r);
    assert_int_equal(resp_parse(&r, in + 4, sizeof(in) - 5, NULL, &msg),
                     RESP_DONE);
    /* a caller that forgets resp_req_reset() gets a fresh parse */
    assert_int_equal(resp_parse(&r, in + 4, sizeof(in) - 5, NULL, &msg),
                     RESP_DONE);
    assert_int_equal(r.argc, 1);
    resp_req_fini(&r);
}

static char *repeat(char ch, size_t n, const char *prefix, const char *suffix,
                    size_t *len)
{
    size_t pl = strlen(prefix), sl = strlen(suffix);
    char *s = mem_alloc(pl + n + sl + 1);
    memcpy(s, prefix, pl);
    memset(s + pl, ch, n);
    memcpy(s + pl + n, suffix, sl + 1);
    *len = pl + n + sl;
    return s;
}

static void test_too_big_headers(void **state)
{
    (void)state;
    size_t n;
    char *s;

    /* 64 KB of count digits without CR, then with a late CR */
    s = repeat('1', 70000, "*", "", &n);
    check_chunked(s, n, n, NULL, "!too big mbulk count string");
    check_chunked(s, n, 1000, NULL, "!too big mbulk count string");
    mem_free(s);
    s = repeat('1', 70000, "*", "\r\n", &n);
    check_chunked(s, n, n, NULL, "!too big mbulk count string");
    check_chunked(s, n, 4096, NULL, "!too big mbulk count string");
    mem_free(s);
    /* exactly at the limit: the header is merely invalid */
    s = repeat('1', 64 * 1024 - 1, "*", "\r\n", &n);
    check_chunked(s, n, n, NULL, "!invalid multibulk length");
    mem_free(s);
    s = repeat('1', 64 * 1024 - 1, "*", "", &n);
    check_chunked(s, n, n, NULL, "");
    mem_free(s);

    s = repeat('2', 70000, "*1\r\n$", "", &n);
    check_chunked(s, n, n, NULL, "!too big bulk count string");
    check_chunked(s, n, 999, NULL, "!too big bulk count string");
    mem_free(s);
    s = repeat('2', 70000, "PING\r\n*1\r\n$", "\r\n", &n);
    check_chunked(s, n, 333, NULL, "(PING)!too big bulk count string");
    mem_free(s);
}

static void test_inline_limit(void **state)
{
    (void)state;
    /* default 64 KB: one byte over is refused with or without newline */
    size_t n;
    char *s = repeat('a', 64 * 1024 + 1, "", "", &n);
    check_chunked(s, n, n, NULL, "!too big inline request");
    check_chunked(s, n, 1024, NULL, "!too big inline request");
    mem_free(s);
    s = repeat('a', 64 * 1024 + 1, "", "\n", &n);
    check_chunked(s, n, n, NULL, "!too big inline request");
    mem_free(s);
    /* exactly the limit is accepted */
    s = repeat('a', 64 * 1024, "", "\n", &n);
    for (size_t chunk = 4000; chunk <= n; chunk += n - 4000) {
        struct conn c;
        conn_init(&c, MODE_KEEP, NULL);
        for (size_t at = 0; at < n; at += chunk)
            conn_feed(&c, s + at, n - at < chunk ? n - at : chunk);
        assert_int_equal(c.done, 1);
        assert_int_equal(strlen(conn_transcript(&c)), 64 * 1024 + 2);
        conn_fini(&c);
    }
    mem_free(s);

    /* a small limit; the count includes a CR before the LF */
    struct resp_limits lim = {RESP_DEFAULT_MAX_BULK, RESP_DEFAULT_MAX_MBULK, 16};
    SPLITS_LIM("0123456789abcdef\n", &lim, "(0123456789abcdef)");
    SPLITS_LIM("0123456789abcde\r\n", &lim, "(0123456789abcde)");
    SPLITS_LIM("0123456789abcdef\r\n", &lim, "!too big inline request");
    SPLITS_LIM("0123456789abcdefg", &lim, "!too big inline request");
    SPLITS_LIM("0123456789abcdef", &lim, "");
}

static void test_count_limits(void **state)
{
    (void)state;
    struct resp_limits lim = {10, 4, RESP_DEFAULT_MAX_INLINE};
    SPLITS_LIM("*5\r\n", &lim, "!invalid multibulk length");
    SPLITS_LIM("*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$10\r\n0123456789\r\n",
               &lim, "(a|b|c|0123456789)");
    SPLITS_LIM("*1\r\n$11\r\n", &lim, "!invalid bulk length");
}

static void test_huge_bulk_refused_at_once(void **state)
{
    (void)state;
    struct resp_limits lim = {RESP_DEFAULT_MAX_BULK, RESP_DEFAULT_MAX_MBULK,
                              RESP_DEFAULT_MAX_INLINE};
    struct resp_req r;
    const char *msg = NULL;
    char in[] = "*1\r\n$2147483648\r\n";

    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, in, sizeof(in) - 1, &lim, &msg),
                     RESP_EPROTO);
    assert_string_equal(msg, "invalid bulk length");
    resp_req_fini(&r);

    /* one over the limit refused; exactly the limit waits for the payload */
    char over[] = "*1\r\n$536870913\r\n";
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, over, sizeof(over) - 1, &lim, &msg),
                     RESP_EPROTO);
    resp_req_fini(&r);
    char at[] = "*1\r\n$536870912\r\n";
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, at, sizeof(at) - 1, &lim, &msg),
                     RESP_AGAIN);
    assert_int_equal(r.need, 16 + 536870912 + 2);
    resp_req_fini(&r);
}

static void test_need_hint(void **state)
{
    (void)state;
    static const char in[] = "*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n";
    const size_t bulk_at = 18;
    char b[sizeof(in)];
    struct resp_req r;

    memcpy(b, in, sizeof(in));
    resp_req_init(&r);
    for (size_t len = 0; len < sizeof(in) - 1; len++) {
        assert_int_equal(resp_parse(&r, b, len, NULL, NULL), RESP_AGAIN);
        if (len >= bulk_at || (len >= 8 && len < 13))
            /* inside a payload (GET, or the 10-byte one) */
            assert_int_equal(r.need, len >= bulk_at ? bulk_at + 12 : 8 + 5);
        else
            assert_int_equal(r.need, 0);
    }
    assert_int_equal(resp_parse(&r, b, sizeof(in) - 1, NULL, NULL), RESP_DONE);
    assert_int_equal(r.need, 0);
    resp_req_fini(&r);
}

static void test_resume_state(void **state)
{
    (void)state;
    /* bytes already scanned are not scanned again: the scan mark advances */
    char b[] = "*1\r\n$12345";
    struct resp_req r;
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, b, sizeof(b) - 1, NULL, NULL), RESP_AGAIN);
    assert_int_equal(r.pos, 4);
    assert_int_equal(r.scan, sizeof(b) - 1);
    resp_req_fini(&r);

    char line[] = "GET somekey";
    resp_req_init(&r);
    assert_int_equal(resp_parse(&r, line, 5, NULL, NULL), RESP_AGAIN);
    assert_int_equal(r.scan, 5);
    assert_int_equal(resp_parse(&r, line, sizeof(line) - 1, NULL, NULL),
                     RESP_AGAIN);
    assert_int_equal(r.scan, sizeof(line) - 1);
    resp_req_fini(&r);
}

/* ------------------------------------------------------------------ */
/* parser: randomized round trip                                       */

static uint64_t rng_state;

static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t rnd(size_t n) /* 0..n-1 */
{
    return (size_t)(rng() % n);
}

static bool bare_ok(unsigned char ch)
{
    return ch > 0x20 && ch < 0x7f && ch != '"' && ch != '\'' && ch != '\\';
}

/* Appends one argument to an inline line in a random legal spelling. */
static void inline_arg(struct buf *line, const char *a, size_t n)
{
    bool bare = n > 0, has_bs = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)a[i];
        bare = bare && bare_ok(ch);
        has_bs = has_bs || ch == '\\' || ch == '\n' || ch == '\r';
    }
    size_t style = rnd(3);
    if (bare && style == 0) {
        buf_put(line, a, n);
    } else if (!has_bs && style == 1) {
        buf_putc(line, '\'');
        for (size_t i = 0; i < n; i++) {
            if (a[i] == '\'')
                buf_putc(line, '\\');
            buf_putc(line, a[i]);
        }
        buf_putc(line, '\'');
    } else {
        buf_putc(line, '"');
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)a[i];
            if (ch == '\n')
                buf_put(line, "\\n", 2);
            else if (ch == '\r')
                buf_put(line, "\\r", 2);
            else if (ch == '"' || ch == '\\') {
                buf_putc(line, '\\');
                buf_putc(line, (char)ch);
            } else if (rnd(4) == 0)
                buf_printf(line, rnd(2) ? "\\x%02x" : "\\x%02X", ch);
            else
                buf_putc(line, (char)ch);
        }
        buf_putc(line, '"');
    }
}

static void random_arg(struct buf *a)
{
    size_t kind = rnd(100), n;
    if (kind < 70)
        n = rnd(17);
    else if (kind < 95)
        n = 17 + rnd(300);
    else
        n = 300 + rnd(20000);
    bool printable = rnd(2);
    a->len = 0;
    for (size_t i = 0; i < n; i++)
        buf_putc(a, printable ? (char)(0x21 + rnd(94)) : (char)rnd(256));
}

#define RAND_MAX_ARGS 8

static void run_random_case(uint64_t seed, int iter)
{
    static const char *const filler[] = {"*0\r\n", "*-1\r\n", "\r\n", " \n"};
    struct buf in, expect, line, args[RAND_MAX_ARGS];
    buf_init(&in);
    buf_init(&expect);
    buf_init(&line);
    for (size_t i = 0; i < RAND_MAX_ARGS; i++)
        buf_init(&args[i]);

    size_t ncmd = 1 + rnd(10);
    for (size_t c = 0; c < ncmd; c++) {
        if (rnd(10) == 0) { /* bytes that yield no request */
            const char *f = filler[rnd(4)];
            buf_put(&in, f, strlen(f));
        }
        size_t argc = 1 + rnd(RAND_MAX_ARGS);
        buf_putc(&expect, '(');
        for (size_t i = 0; i < argc; i++) {
            random_arg(&args[i]);
            if (!args[i].data)
                buf_reserve(&args[i], 1);
            if (i)
                buf_putc(&expect, '|');
            put_escaped(&expect, args[i].data, args[i].len);
        }
        buf_putc(&expect, ')');

        /* one in four as an inline line, if it fits the inline limit */
        bool inl = rnd(4) == 0;
        if (inl) {
            line.len = 0;
            for (size_t i = 0; i < argc; i++) {
                if (i || rnd(3) == 0) {
                    size_t blanks = 1 + rnd(3);
                    for (size_t k = 0; k < blanks; k++)
                        buf_putc(&line, rnd(2) ? ' ' : '\t');
                }
                inline_arg(&line, args[i].data, args[i].len);
            }
            if (rnd(3) == 0)
                buf_putc(&line, ' ');
            inl = line.len + 3 <= RESP_DEFAULT_MAX_INLINE;
        }
        if (inl) {
            if (line.data[0] == '*') /* would read as multibulk */
                buf_putc(&in, ' ');
            buf_put(&in, line.data, line.len);
            if (rnd(2))
                buf_put(&in, "\r\n", 2);
            else
                buf_putc(&in, '\n');
        } else {
            buf_printf(&in, "*%zu\r\n", argc);
            for (size_t i = 0; i < argc; i++) {
                buf_printf(&in, "$%zu\r\n", args[i].len);
                buf_put(&in, args[i].data, args[i].len);
                buf_put(&in, "\r\n", 2);
            }
        }
    }
    buf_putc(&expect, '\0');

    enum feed_mode mode = (enum feed_mode)rnd(MODE_COUNT);
    size_t maxchunk = rnd(2) ? 1 + rnd(16) : 1 + rnd(in.len);
    if (mode == MODE_EXACT && maxchunk < 64)
        maxchunk = 64; /* exact mode copies per call; keep it near linear */
    struct conn c;
    conn_init(&c, mode, NULL);
    for (size_t at = 0; at < in.len;) {
        size_t k = 1 + rnd(maxchunk);
        if (k > in.len - at)
            k = in.len - at;
        conn_feed(&c, in.data + at, k);
        at += k;
    }
    const char *got = conn_transcript(&c);
    if (strcmp(got, expect.data) != 0 || c.done != (int)ncmd)
        print_error("random case failed: seed=%llu iteration=%d mode=%d "
                    "(rerun with RESP_TEST_SEED=%llu)\n",
                    (unsigned long long)seed, iter, (int)mode,
                    (unsigned long long)seed);
    assert_string_equal(got, expect.data);
    assert_int_equal(c.done, (int)ncmd);
    conn_fini(&c);

    buf_fini(&in);
    buf_fini(&expect);
    buf_fini(&line);
    for (size_t i = 0; i < RAND_MAX_ARGS; i++)
        buf_fini(&args[i]);
}

static void test_random_roundtrip(void **state)
{
    (void)state;
    uint64_t seed = 0x5eed2024;
    const char *env = getenv("RESP_TEST_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    rng_state = seed ? seed : 1;
    for (int iter = 0; iter < 3000; iter++)
        run_random_case(seed, iter);
}

/* ------------------------------------------------------------------ */
/* encoder                                                             */

#define ENC(call, expect)                                                   \
    do {                                                                    \
        struct buf b_;                                                      \
        buf_init(&b_);                                                      \
        call;                                                               \
        assert_int_equal(b_.len, sizeof(expect) - 1);                       \
        assert_memory_equal(b_.data, expect, sizeof(expect) - 1);           \
        buf_fini(&b_);                                                      \
    } while (0)

static void test_enc_simple_error(void **state)
{
    (void)state;
    ENC(resp_add_simple(&b_, "OK"), "+OK\r\n");
    ENC(resp_add_simple(&b_, "a\r\nb"), "+a  b\r\n");
    ENC(resp_add_error(&b_, "ERR", "unknown command 'x'"),
        "-ERR unknown command 'x'\r\n");
    ENC(resp_add_error(&b_, "NOQUORUM", "bad\r\nthing\n"),
        "-NOQUORUM bad  thing \r\n");
    ENC(resp_add_error(&b_, NULL, "x"), "-ERR x\r\n");
    ENC(resp_add_error(&b_, "TIMEOUT", ""), "-TIMEOUT\r\n");
    ENC(resp_add_error(&b_, "", "plain"), "-plain\r\n");
    ENC(resp_add_errorf(&b_, "WRONGTYPE", "n=%d s=%s", 5, "a\rb"),
        "-WRONGTYPE n=5 s=a b\r\n");

    /* a formatted message longer than the stack buffer */
    char big[600];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct buf b;
    buf_init(&b);
    resp_add_errorf(&b, "ERR", "%s!", big);
    assert_int_equal(b.len, 1 + 3 + 1 + 599 + 1 + 2);
    assert_memory_equal(b.data, "-ERR zzz", 8);
    assert_memory_equal(b.data + b.len - 4, "z!\r\n", 4);
    buf_fini(&b);
}

static void test_enc_int(void **state)
{
    (void)state;
    ENC(resp_add_int(&b_, 0), ":0\r\n");
    ENC(resp_add_int(&b_, -1), ":-1\r\n");
    ENC(resp_add_int(&b_, 1234567890123LL), ":1234567890123\r\n");
    ENC(resp_add_int(&b_, LLONG_MAX), ":9223372036854775807\r\n");
    ENC(resp_add_int(&b_, LLONG_MIN), ":-9223372036854775808\r\n");

    /* every digit count and boundary against snprintf */
    long long vals[200];
    size_t nv = 0;
    long long p = 1;
    for (int d = 0; d < 19; d++) {
        vals[nv++] = p;
        vals[nv++] = p - 1;
        vals[nv++] = -p;
        vals[nv++] = -(p - 1);
        vals[nv++] = p + 1;
        if (d < 18)
            p *= 10;
    }
    rng_state = 99;
    while (nv < 200)
        vals[nv++] = (long long)rng() >> rnd(63);
    for (size_t i = 0; i < nv; i++) {
        char want[32];
        int n = snprintf(want, sizeof(want), ":%lld\r\n", vals[i]);
        struct buf b;
        buf_init(&b);
        resp_add_int(&b, vals[i]);
        assert_int_equal(b.len, (size_t)n);
        assert_memory_equal(b.data, want, (size_t)n);
        buf_fini(&b);
    }
}

static void test_enc_bulk(void **state)
{
    (void)state;
    ENC(resp_add_bulk(&b_, "foo", 3), "$3\r\nfoo\r\n");
    ENC(resp_add_bulk(&b_, NULL, 0), "$0\r\n\r\n");
    ENC(resp_add_bulk(&b_, "a\0\r\n", 4), "$4\r\na\0\r\n\r\n");
    ENC(resp_add_cstr(&b_, "hello"), "$5\r\nhello\r\n");
    ENC(resp_add_cstr(&b_, ""), "$0\r\n\r\n");

    /* appends after existing content, across growth */
    struct buf b;
    buf_init(&b);
    char big[5000];
    memset(big, 'q', sizeof(big));
    resp_add_int(&b, 7);
    resp_add_bulk(&b, big, sizeof(big));
    assert_int_equal(b.len, 4 + 7 + 5000 + 2);
    assert_memory_equal(b.data, ":7\r\n$5000\r\nqq", 13);
    buf_fini(&b);
}

static void test_enc_aggregates(void **state)
{
    (void)state;
    ENC(resp_add_null(&b_, 2), "$-1\r\n");
    ENC(resp_add_null(&b_, 3), "_\r\n");
    ENC(resp_add_null_array(&b_, 2), "*-1\r\n");
    ENC(resp_add_null_array(&b_, 3), "_\r\n");
    ENC(resp_add_array(&b_, 0), "*0\r\n");
    ENC(resp_add_array(&b_, 12), "*12\r\n");
    ENC(resp_add_array(&b_, -1), "*-1\r\n");
    ENC(resp_add_map(&b_, 2, 3), "*6\r\n");
    ENC(resp_add_map(&b_, 3, 3), "%3\r\n");
    ENC(resp_add_set(&b_, 2, 4), "*4\r\n");
    ENC(resp_add_set(&b_, 3, 4), "~4\r\n");
    ENC(resp_add_bool(&b_, 2, true), ":1\r\n");
    ENC(resp_add_bool(&b_, 2, false), ":0\r\n");
    ENC(resp_add_bool(&b_, 3, true), "#t\r\n");
    ENC(resp_add_bool(&b_, 3, false), "#f\r\n");
}

static void test_enc_double(void **state)
{
    (void)state;
    ENC(resp_add_double(&b_, 3, 1.5), ",1.5\r\n");
    ENC(resp_add_double(&b_, 2, 1.5), "$3\r\n1.5\r\n");
    ENC(resp_add_double(&b_, 3, 0.1), ",0.10000000000000001\r\n");
    ENC(resp_add_double(&b_, 2, 0.1), "$19\r\n0.10000000000000001\r\n");
    ENC(resp_add_double(&b_, 3, 3.0), ",3\r\n");
    ENC(resp_add_double(&b_, 3, -0.0), ",-0\r\n");
    ENC(resp_add_double(&b_, 3, 1e300), ",1.0000000000000001e+300\r\n");
    ENC(resp_add_double(&b_, 3, INFINITY), ",inf\r\n");
    ENC(resp_add_double(&b_, 3, -INFINITY), ",-inf\r\n");
    ENC(resp_add_double(&b_, 3, NAN), ",nan\r\n");
    ENC(resp_add_double(&b_, 3, -NAN), ",nan\r\n");
    ENC(resp_add_double(&b_, 2, INFINITY), "$3\r\ninf\r\n");
    ENC(resp_add_double(&b_, 2, -INFINITY), "$4\r\n-inf\r\n");
    ENC(resp_add_double(&b_, 2, NAN), "$3\r\nnan\r\n");
}

static void test_enc_verbatim(void **state)
{
    (void)state;
    ENC(resp_add_verbatim(&b_, 3, "txt", "hello", 5), "=9\r\ntxt:hello\r\n");
    ENC(resp_add_verbatim(&b_, 2, "txt", "hello", 5), "$5\r\nhello\r\n");
    ENC(resp_add_verbatim(&b_, 3, "markdown", "x", 1), "=5\r\nmar:x\r\n");
    ENC(resp_add_verbatim(&b_, 3, "md", "a\r\nb", 4), "=8\r\nmd :a\r\nb\r\n");
    ENC(resp_add_verbatim(&b_, 3, NULL, "", 0), "=4\r\ntxt:\r\n");
}

static void test_shared_constants(void **state)
{
    (void)state;
    assert_string_equal(RESP_OK, "+OK\r\n");
    assert_string_equal(RESP_PONG, "+PONG\r\n");
    assert_string_equal(RESP_NULL2, "$-1\r\n");
    assert_string_equal(RESP_NULL3, "_\r\n");
    assert_string_equal(RESP_ZERO, ":0\r\n");
    assert_string_equal(RESP_ONE, ":1\r\n");
}

/* Encoder output parses back: an array of bulks is a multibulk request. */
static void test_enc_roundtrip(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    resp_add_array(&b, 3);
    resp_add_cstr(&b, "SET");
    resp_add_bulk(&b, "k\0", 2);
    resp_add_bulk(&b, "", 0);
    check_all_splits(b.data, b.len, NULL, "(SET|k\\x00|)");
    buf_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_splits),
        cmocka_unit_test(test_pipeline_one_buffer),
        cmocka_unit_test(test_mixed_inline_multibulk),
        cmocka_unit_test(test_inline_quotes),
        cmocka_unit_test(test_inline_line_endings),
        cmocka_unit_test(test_skipped_bytes_droppable),
        cmocka_unit_test(test_inline_in_place),
        cmocka_unit_test(test_binary_bulk),
        cmocka_unit_test(test_many_args),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_too_big_headers),
        cmocka_unit_test(test_inline_limit),
        cmocka_unit_test(test_count_limits),
        cmocka_unit_test(test_huge_bulk_refused_at_once),
        cmocka_unit_test(test_need_hint),
        cmocka_unit_test(test_resume_state),
        cmocka_unit_test(test_random_roundtrip),
        cmocka_unit_test(test_enc_simple_error),
        cmocka_unit_test(test_enc_int),
        cmocka_unit_test(test_enc_bulk),
        cmocka_unit_test(test_enc_aggregates),
        cmocka_unit_test(test_enc_double),
        cmocka_unit_test(test_enc_verbatim),
        cmocka_unit_test(test_shared_constants),
        cmocka_unit_test(test_enc_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
