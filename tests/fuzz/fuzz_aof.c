/* fuzz_aof.c — libFuzzer target for log replay: the record scanner
 * (aof_scan), the record payload parsers (aof_rec_parse, aof_flush_parse:
 * flush epochs) and the sibling-set
 * decoder as replay calls it (no value-size limit), applied to a store.
 *
 * Two passes per input:
 *   1. the input as a log file: every byte must be accounted for (records,
 *      damaged stretches, torn tail), records come in order without
 *      overlapping, and nothing crashes or over-reads;
 *   2. the input cut into payloads (u8 type, u8 length, bytes), each framed
 *      with aof_rec_frame, concatenated: the scan must find every one of
 *      them, with no damage and no torn tail, so the decoders behind the
 *      checksum get exercised with arbitrary payloads.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_aof tests/fuzz/corpus/aof */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/aof_scan.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    struct store *store;
    size_t calls;
    size_t last_end;
    const uint8_t *img;
};

static bool on_record(void *arg, int type, const uint8_t *p, size_t len, size_t off)
{
    struct seen *s = arg;
    /* records arrive in order, inside the image, never overlapping */
    if (off < s->last_end || p != s->img + off + AOF_HDR)
        abort();
    s->last_end = off + AOF_HDR + len;
    s->calls++;
    if (type == AOF_FLUSH) {
        uint32_t e;
        if (!aof_flush_parse(p, len, &e))
            return false;
        if (e == 0)
            store_flush(s->store);
        else
            store_drop_before(s->store, e);
        return true;
    }
    struct aof_rec r;
    if (!aof_rec_parse(type, p, len, &r))
        return false;
    if (r.key + r.klen > p + len || r.versions + r.vlen != p + len)
        abort();
    struct sibset set;
    sib_init(&set);
    bool ok = sib_decode(&set, r.versions, r.vlen, SIZE_MAX) == 0;
    if (ok && !r.owner)
        store_replace(s->store, r.key, r.klen, &set);
    sib_fini(&set);
    return ok;
}

static void scan_checked(const uint8_t *img, size_t len, struct aof_scan_report *rep,
                         struct seen *s)
{
    s->store = store_create();
    s->img = img;
    aof_scan(img, len, on_record, s, rep);
    if (rep->end + rep->torn != len || rep->records + rep->unreadable != s->calls ||
        rep->corrupt_bytes > rep->end || s->last_end != rep->end)
        abort();
    store_destroy(s->store);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct aof_scan_report rep;
    struct seen s = {0};
    scan_checked(data, size, &rep, &s);

    struct buf img, rec;
    buf_init(&img);
    buf_init(&rec);
    size_t framed = 0;
    for (size_t i = 0; i + 2 <= size;) {
        int type = 1 + data[i] % (AOF_TYPE_COUNT - 1);
        size_t n = data[i + 1];
        i += 2;
        if (n > size - i)
            n = size - i;
        aof_rec_begin(&rec, (enum aof_type)type);
        buf_append(&rec, data + i, n);
        i += n;
        if (!aof_rec_frame(&rec))
            abort();
        buf_append(&img, rec.data, rec.len);
        framed++;
    }
    struct seen s2 = {0};
    scan_checked((const uint8_t *)img.data, img.len, &rep, &s2);
    if (rep.records + rep.unreadable != framed || rep.torn || rep.corrupt_regions)
        abort();
    buf_fini(&img);
    buf_fini(&rec);
    return 0;
}
