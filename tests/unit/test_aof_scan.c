/* test_aof_scan.c — the log's record framing and tolerant scan: every
 * record of an intact image is found; a torn tail is reported as torn and
 * nothing else; damage in the middle costs only the damaged record (the scan
 * resynchronises); a record the callback refuses is counted unreadable and
 * the scan goes on; payload parsing of key and hint records. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/aof_scan.h"
#include "util/buf.h"

struct calls {
    int n;
    size_t offs[64];
    int refuse_at; /* index of a record the callback refuses, or -1 */
};

static bool on_rec(void *arg, int type, const uint8_t *p, size_t len, size_t off)
{
    (void)type;
    (void)p;
    (void)len;
    struct calls *c = arg;
    c->offs[c->n] = off;
    return c->n++ != c->refuse_at;
}

/* An image of k key records "key<i>" with payloads of growing size;
 * offs[i] receives each record's offset. */
static void build(struct buf *img, int k, size_t *offs)
{
    struct buf rec;
    buf_init(&rec);
    img->len = 0;
    for (int i = 0; i < k; i++) {
        aof_rec_begin(&rec, AOF_KEY);
        char key[16];
        int kl = snprintf(key, sizeof(key), "key%d", i);
        buf_putc(&rec, (char)kl);
        buf_append(&rec, key, (size_t)kl);
        for (int j = 0; j < 10 + i; j++)
            buf_putc(&rec, (char)('a' + j % 26));
        assert_true(aof_rec_frame(&rec));
        offs[i] = img->len;
        buf_append(img, rec.data, rec.len);
    }
    buf_fini(&rec);
}

static void test_intact(void **state)
{
    (void)state;
    struct buf img;
    buf_init(&img);
    size_t offs[20];
    build(&img, 20, offs);
    struct calls c = {.refuse_at = -1};
    struct aof_scan_report rep;
    aof_scan((const uint8_t *)img.data, img.len, on_rec, &c, &rep);
    assert_int_equal(rep.records, 20);
    assert_int_equal(rep.torn, 0);
    assert_int_equal(rep.corrupt_regions, 0);
    assert_int_equal(rep.end, img.len);
    for (int i = 0; i < 20; i++)
        assert_int_equal(c.offs[i], offs[i]);
    buf_fini(&img);
}

static void test_torn_tail_every_cut(void **state)
{
    (void)state;
    struct buf img;
    buf_init(&img);
    size_t offs[5];
    build(&img, 5, offs);
    /* every cut inside the last record is a torn tail of exactly that size */
    for (size_t cut = offs[4] + 1; cut < img.len; cut++) {
        struct calls c = {.refuse_at = -1};
        struct aof_scan_report rep;
        aof_scan((const uint8_t *)img.data, cut, on_rec, &c, &rep);
        assert_int_equal(rep.records, 4);
        assert_int_equal(rep.end, offs[4]);
        assert_int_equal(rep.torn, cut - offs[4]);
        assert_int_equal(rep.corrupt_regions, 0);
    }
    buf_fini(&img);
}

static void test_damage_in_the_middle(void **state)
{
    (void)state;
    struct buf img;
    buf_init(&img);
    size_t offs[20];
    build(&img, 20, offs);
    /* damage each byte of record 7 in turn: only record 7 is lost */
    size_t len7 = offs[8] - offs[7];
    for (size_t b = 0; b < len7; b++) {
        img.data[offs[7] + b] ^= 0x5a;
        struct calls c = {.refuse_at = -1};
        struct aof_scan_report rep;
        aof_scan((const uint8_t *)img.data, img.len, on_rec, &c, &rep);
        assert_int_equal(rep.records, 19);
        assert_int_equal(rep.torn, 0);
        assert_int_equal(rep.corrupt_regions, 1);
        assert_int_equal(rep.first_corrupt, offs[7]);
        assert_int_equal(rep.corrupt_bytes, len7);
        assert_int_equal(c.offs[7], offs[8]);
        img.data[offs[7] + b] ^= 0x5a;
    }
    buf_fini(&img);
}

static void test_unreadable_goes_on(void **state)
{
    (void)state;
    struct buf img;
    buf_init(&img);
    size_t offs[10];
    build(&img, 10, offs);
    struct calls c = {.refuse_at = 3};
    struct aof_scan_report rep;
    aof_scan((const uint8_t *)img.data, img.len, on_rec, &c, &rep);
    assert_int_equal(rep.records, 9);
    assert_int_equal(rep.unreadable, 1);
    assert_int_equal(rep.end, img.len);
    assert_int_equal(rep.torn, 0);
    buf_fini(&img);
}

static void test_garbage_only(void **state)
{
    (void)state;
    uint8_t junk[300];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    struct calls c = {.refuse_at = -1};
    struct aof_scan_report rep;
    aof_scan(junk, sizeof(junk), on_rec, &c, &rep);
    assert_int_equal(rep.records, 0);
    assert_int_equal(rep.end, 0);
    assert_int_equal(rep.torn, sizeof(junk));
    aof_scan(NULL, 0, on_rec, &c, &rep);
    assert_int_equal(rep.torn, 0);
}

static void test_parse(void **state)
{
    (void)state;
    const uint8_t hint[] = {2, 'n', '1', 3, 'a', 'b', 'c', 9, 9};
    struct aof_rec r;
    assert_true(aof_rec_parse(AOF_HINT, hint, sizeof(hint), &r));
    assert_int_equal(r.owner_len, 2);
    assert_memory_equal(r.owner, "n1", 2);
    assert_int_equal(r.klen, 3);
    assert_memory_equal(r.key, "abc", 3);
    assert_int_equal(r.vlen, 2);
    assert_true(aof_rec_parse(AOF_KEY, hint + 3, sizeof(hint) - 3, &r));
    assert_null(r.owner);
    /* key longer than the payload; owner name past the end; other types */
    const uint8_t bad[] = {5, 'a', 'b'};
    assert_false(aof_rec_parse(AOF_KEY, bad, sizeof(bad), &r));
    assert_false(aof_rec_parse(AOF_HINT, bad, sizeof(bad), &r));
    assert_false(aof_rec_parse(AOF_FLUSH, hint, sizeof(hint), &r));
    assert_false(aof_rec_parse(AOF_KEY, bad, 0, &r));
}

static void test_fits(void **state)
{
    (void)state;
    assert_true(aof_fits(10, 1000));
    assert_true(aof_fits(0, AOF_MAX_PAYLOAD - 266));
    assert_false(aof_fits(1, AOF_MAX_PAYLOAD - 266));
    assert_false(aof_fits(0, AOF_MAX_PAYLOAD));
    assert_false(aof_fits(0, SIZE_MAX));
    assert_false(aof_fits(SIZE_MAX, 0));
    /* what fits can be framed */
    struct buf rec;
    buf_init(&rec);
    aof_rec_begin(&rec, AOF_KEY);
    assert_true(aof_rec_frame(&rec));
    buf_fini(&rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_intact),
        cmocka_unit_test(test_torn_tail_every_cut),
        cmocka_unit_test(test_damage_in_the_middle),
        cmocka_unit_test(test_unreadable_goes_on),
        cmocka_unit_test(test_garbage_only),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_fits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
