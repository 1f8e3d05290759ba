/* resp.h — incremental RESP request parser and reply encoder. Pure: no I/O,
 * no allocation of argument copies.
 *
 * PARSER
 * A connection owns one struct resp_req and a query buffer.  It calls
 * resp_parse() with the bytes of the buffer starting at the first byte of
 * the current (not yet complete) request.  The parser keeps its progress in
 * the struct, so a request that arrives one byte at a time is scanned once
 * (it never re-reads bytes it already accepted).  Arguments are returned as
 * (offset, length) spans relative to that buffer start, so the caller may
 * realloc/compact its buffer between calls as long as the unconsumed bytes
 * keep their positions relative to the request start.
 *
 * Both RESP2 multibulk ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n") and inline
 * commands ("GET k\r\n", split on spaces/tabs, with Redis-style "double" and
 * 'single' quotes and \xHH escapes in double quotes) are accepted.  An inline
 * line that is empty (just "\r\n" or "\n") is skipped: resp_parse consumes it
 * and returns RESP_AGAIN with argc == 0 (or continues to the next request).
 * Inline arguments with escapes cannot be spans into the input, so the parser
 * rewrites an inline line in place (the buffer is writable for that reason):
 * each unquoted/unescaped argument ends up contiguous in the buffer and the
 * spans point at the rewritten bytes.
 *
 * Limits (checked before any wait, so a client announcing a 2 GB bulk that
 * exceeds the limit is refused immediately):
 *   max_bulk     — proto-max-bulk-len, default 512 MB
 *   max_mbulk    — max elements in one multibulk, default 1024*1024
 *   max_inline   — max length of an inline line, default 64 KB
 * Errors return RESP_EPROTO and set *errmsg to a static string worded like
 * Redis's, WITHOUT the "ERR Protocol error: " prefix, e.g.
 *   "invalid multibulk length", "invalid bulk length", "expected '$', got 'x'",
 *   "too big inline request", "unbalanced quotes in request",
 *   "too big mbulk count string", "too big bulk count string",
 *   "expected CRLF after bulk data" (Redis does not check; we do).
 *
 * ENCODER
 * resp_add_* append one reply element to a struct buf.  `proto` is 2 or 3;
 * in RESP2 the RESP3-only types degrade the way Redis degrades them (map ->
 * flat array of 2n, null -> $-1 or *-1, double -> bulk string, bool -> :0/:1,
 * set -> array, verbatim -> bulk, push -> array).
 */
#ifndef KV_RESP_H
#define KV_RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct resp_span {
    size_t off; /* offset from the request start */
    size_t len;
};

struct resp_limits {
    long long max_bulk;   /* proto-max-bulk-len */
    long long max_mbulk;  /* max multibulk element count */
    size_t max_inline;    /* max inline line length */
};

#define RESP_DEFAULT_MAX_BULK (512LL * 1024 * 1024)
#define RESP_DEFAULT_MAX_MBULK (1024LL * 1024)
#define RESP_DEFAULT_MAX_INLINE (64u * 1024)

enum resp_status {
    RESP_DONE = 0,     /* a complete request: argc/args/consumed are set */
    RESP_AGAIN = 1,    /* need more bytes; `need` says how many at least */
    RESP_EPROTO = -1,  /* malformed input; errmsg set; close the connection */
};

struct resp_req {
    /* results (valid after RESP_DONE) */
    int argc;
    struct resp_span *args; /* owned by the struct: array of argc spans */
    size_t consumed;        /* bytes of the buffer this request used.  Also
                             * set after RESP_AGAIN when only skipped bytes
                             * (empty lines, "*0") precede the end: the
                             * caller may drop them and reset, so a client
                             * sending only newlines does not grow the
                             * buffer; ignoring it is also correct. */
    /* hint (valid after RESP_AGAIN): total bytes the buffer (counted from the
     * request start) must hold before the parser can make progress; lets the
     * caller size its buffer once for a large bulk argument. 0 = unknown. */
    size_t need;
    /* private parser state */
    int state;
    size_t pos;          /* start of the unaccepted part (header or line) */
    size_t scan;         /* memchr resumes here: bytes in [pos, scan) hold
                          * no CR (headers) or LF (inline) already */
    long long mbulk;     /* elements left to read, -1 = not started */
    long long bulklen;   /* current bulk length, -1 = reading header */
    int args_cap;
};

void resp_req_init(struct resp_req *r);
void resp_req_fini(struct resp_req *r);
/* Forget a finished or abandoned request (keeps the args allocation unless
 * one huge request grew it past 1024 spans, so an idle connection does not
 * pin megabytes). */
void resp_req_reset(struct resp_req *r);

/* HOT: parse one request from buf[0..len).  buf is writable (inline commands
 * are unescaped in place).  Returns RESP_DONE, RESP_AGAIN or RESP_EPROTO
 * (with *errmsg set to a static message).  After RESP_DONE the caller uses
 * args, then calls resp_req_reset() and passes buf+consumed next time. */
enum resp_status resp_parse(struct resp_req *r, char *buf, size_t len,
                            const struct resp_limits *lim, const char **errmsg);

/* ---- encoder ---- */
void resp_add_simple(struct buf *b, const char *s);            /* +s */
void resp_add_error(struct buf *b, const char *code, const char *msg);
                                     /* -CODE msg ; CR/LF in msg become spaces */
void resp_add_errorf(struct buf *b, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void resp_add_int(struct buf *b, long long v);                 /* :v */
void resp_add_bulk(struct buf *b, const void *p, size_t n);    /* $n p */
void resp_add_cstr(struct buf *b, const char *s);              /* bulk of strlen */
void resp_add_null(struct buf *b, int proto);                  /* _ or $-1 */
void resp_add_null_array(struct buf *b, int proto);            /* _ or *-1 */
void resp_add_array(struct buf *b, long long n);               /* *n */
void resp_add_map(struct buf *b, int proto, long long npairs); /* %n or *2n */
void resp_add_set(struct buf *b, int proto, long long n);      /* ~n or *n */
void resp_add_double(struct buf *b, int proto, double d);      /* ,d or $ */
void resp_add_bool(struct buf *b, int proto, bool v);          /* #t/#f or :1/:0 */
void resp_add_verbatim(struct buf *b, int proto, const char *fmt3,
                       const void *p, size_t n);              /* =n fmt:p or $ */

/* Shared constant replies (pre-encoded bytes), for the hot path. */
extern const char RESP_OK[];      /* "+OK\r\n" */
extern const char RESP_PONG[];    /* "+PONG\r\n" */
extern const char RESP_NULL2[];   /* "$-1\r\n" */
extern const char RESP_NULL3[];   /* "_\r\n" */
extern const char RESP_ZERO[];    /* ":0\r\n" */
extern const char RESP_ONE[];     /* ":1\r\n" */

#endif
