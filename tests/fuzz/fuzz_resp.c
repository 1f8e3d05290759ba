/* fuzz_resp.c — libFuzzer target for the RESP request parser.
 *
 * Each input is parsed twice: whole (in one writable copy, requests taken
 * in a loop while resp_parse says RESP_DONE) and as a connection that
 * receives it in two reads cut at a point chosen by the first byte, where
 * every call gets an exact-size heap copy of the unconsumed bytes so ASan
 * sees any read past `len` (and skipped empty lines reported in `consumed`
 * after RESP_AGAIN are dropped, which the whole run does not do).  Both runs must return the same requests and
 * the same verdict (the parser promises split-independence).  Each request
 * must have spans inside the bytes it consumed, and re-encoding it with the
 * encoder must parse back to the same arguments.  Limits are small so the
 * limit paths are reachable with short inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/resp.h"
#include "util/buf.h"
#include "util/mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct resp_limits fuzz_limits = {
    .max_bulk = 1024 * 1024,
    .max_mbulk = 1024,
    .max_inline = 1024,
};

static void fail(const char *what)
{
    fprintf(stderr, "fuzz_resp: %s\n", what);
    abort();
}

/* Checks a finished request and appends it to the log. */
static void take_request(const struct resp_req *r, const char *base,
                         size_t avail, struct buf *log)
{
    if (r->argc <= 0 || r->consumed == 0 || r->consumed > avail)
        fail("bad argc/consumed after RESP_DONE");
    buf_put(log, "R", 1);
    buf_put(log, &r->argc, sizeof(r->argc));
    for (int i = 0; i < r->argc; i++) {
        const struct resp_span *s = &r->args[i];
        if (s->off > r->consumed || s->len > r->consumed - s->off)
            fail("span outside the consumed bytes");
        buf_put(log, &s->len, sizeof(s->len));
        if (s->len)
            buf_put(log, base + s->off, s->len);
    }
}

/* Re-encodes the request as multibulk and checks it parses back equal. */
static void check_reencode(const struct resp_req *r, const char *base)
{
    struct buf enc;
    struct resp_req back;
    const char *msg = NULL;

    buf_init(&enc);
    resp_add_array(&enc, r->argc);
    for (int i = 0; i < r->argc; i++)
        resp_add_bulk(&enc, base + r->args[i].off, r->args[i].len);
    resp_req_init(&back);
    if (resp_parse(&back, enc.data, enc.len, NULL, &msg) != RESP_DONE ||
        back.consumed != enc.len || back.argc != r->argc)
        fail("re-encoded request does not parse back");
    for (int i = 0; i < r->argc; i++) {
        if (back.args[i].len != r->args[i].len ||
            memcmp(enc.data + back.args[i].off, base + r->args[i].off,
                   r->args[i].len) != 0)
            fail("re-encoded argument differs");
    }
    resp_req_fini(&back);
    buf_fini(&enc);
}

static void take_error(const char *msg, struct buf *log)
{
    if (!msg || !msg[0])
        fail("RESP_EPROTO without a message");
    buf_put(log, "E", 1);
    buf_put(log, msg, strlen(msg));
}

/* The whole input in one writable buffer. */
static void run_whole(const uint8_t *data, size_t size, struct buf *log)
{
    char *b = mem_alloc(size);
    struct resp_req r;
    size_t start = 0;

    memcpy(b, data, size);
    resp_req_init(&r);
    for (;;) {
        const char *msg = NULL;
        size_t avail = size - start;
        enum resp_status st =
            resp_parse(&r, b + start, avail, &fuzz_limits, &msg);
        if (st == RESP_DONE) {
            take_request(&r, b + start, avail, log);
            check_reencode(&r, b + start);
            start += r.consumed;
            resp_req_reset(&r);
            continue;
        }
        if (st == RESP_AGAIN) {
            if (r.need != 0 && r.need <= avail)
                fail("need hint does not ask for more bytes");
            break;
        }
        if (st != RESP_EPROTO)
            fail("unknown status");
        take_error(msg, log);
        break;
    }
    resp_req_fini(&r);
    mem_free(b);
}

/* Two reads, data[0..cut) then the rest; exact-size copies per call. */
static void run_split(const uint8_t *data, size_t size, size_t cut,
                      struct buf *log)
{
    struct resp_req r;
    size_t start = 0;

    resp_req_init(&r);
    for (int phase = 0; phase < 2; phase++) {
        size_t have = phase == 0 ? cut : size;
        for (;;) {
            const char *msg = NULL;
            size_t avail = have - start;
            char *b = mem_alloc(avail);
            memcpy(b, data + start, avail);
            enum resp_status st = resp_parse(&r, b, avail, &fuzz_limits, &msg);
            if (st == RESP_DONE) {
                take_request(&r, b, avail, log);
                start += r.consumed;
                resp_req_reset(&r);
                mem_free(b);
                continue;
            }
            mem_free(b);
            if (st == RESP_AGAIN) {
                if (r.need != 0 && r.need <= avail)
                    fail("need hint does not ask for more bytes");
                if (r.consumed > avail || (r.consumed && r.argc != 0))
                    fail("bad consumed after RESP_AGAIN");
                if (r.consumed) { /* drop skipped empty lines */
                    start += r.consumed;
                    resp_req_reset(&r);
                }
                break;
            }
            take_error(msg, log);
            goto out;
        }
    }
out:
    resp_req_fini(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf whole, split;
    size_t cut = size ? (size_t)data[0] * size / 255 : 0;

    buf_init(&whole);
    buf_init(&split);
    run_whole(data, size, &whole);
    run_split(data, size, cut, &split);
    if (whole.len != split.len ||
        (whole.len && memcmp(whole.data, split.data, whole.len) != 0))
        fail("whole and split parses differ");
    buf_fini(&whole);
    buf_fini(&split);
    return 0;
}
