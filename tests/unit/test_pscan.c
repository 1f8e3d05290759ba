/* test_pscan.c — cmd/pscan.c: SCAN cursor text (the whole uint64 range,
 * refusals of signs, spaces, empty and overflowing text), and the checks of
 * a peer's PSCAN answer (shape, types, a negative count, key bulks that do
 * not match the count or are cut short) before its keys are taken. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "cmd/pscan.h"
#include "net/peer.h"
#include "util/buf.h"

static bool u64(const char *s, uint64_t *out)
{
    return pscan_parse_u64(s, strlen(s), out);
}

static void test_parse_u64(void **state)
{
    (void)state;
    uint64_t v = 1;
    assert_true(u64("0", &v));
    assert_int_equal(v, 0);
    assert_true(u64("42", &v));
    assert_int_equal(v, 42);
    assert_true(u64("18446744073709551615", &v));
    assert_true(v == UINT64_MAX);
    assert_true(u64("00000000000000000007", &v)); /* 20 digits, leading zeros */
    assert_int_equal(v, 7);
    v = 99;
    assert_false(u64("18446744073709551616", &v)); /* 2^64 */
    assert_false(u64("99999999999999999999", &v));
    assert_false(u64("000000000000000000007", &v)); /* 21 digits */
    assert_false(u64("", &v));
    assert_false(u64("-1", &v));
    assert_false(u64("+1", &v));
    assert_false(u64(" 1", &v));
    assert_false(u64("1 ", &v));
    assert_false(u64("1x", &v));
    assert_int_equal(v, 99); /* untouched on refusal */
}

static void test_add_u64_bulk(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b);
    pscan_add_u64_bulk(&b, 0);
    pscan_add_u64_bulk(&b, UINT64_MAX);
    const char want[] = "$1\r\n0\r\n$20\r\n18446744073709551615\r\n";
    assert_int_equal(b.len, sizeof(want) - 1);
    assert_memory_equal(b.data, want, b.len);
    buf_fini(&b);
}

static bool bulks(const char *s, long long count)
{
    return pscan_bulks_valid(s, strlen(s), count);
}

static void test_bulks_valid(void **state)
{
    (void)state;
    assert_true(bulks("", 0));
    assert_true(bulks("$3\r\nkey\r\n", 1));
    assert_true(bulks("$0\r\n\r\n$2\r\nab\r\n", 2));
    assert_true(pscan_bulks_valid("$3\r\na\r\n\r\n", 9, 1)); /* CRLF inside a key */
    assert_false(bulks("$3\r\nkey\r\n", 2));              /* fewer than counted */
    assert_false(bulks("$3\r\nkey\r\n", 0));              /* more than counted */
    assert_false(bulks("$3\r\nke\r\n", 1));               /* cut short */
    assert_false(bulks("$3\r\nkey", 1));                  /* no final CRLF */
    assert_false(bulks("$3\r\nkeyXY", 1));
    assert_false(bulks("$\r\n\r\n", 1));                  /* no length */
    assert_false(bulks("$-1\r\n", 1));                    /* no null bulks */
    assert_false(bulks("+OK\r\n", 1));
    assert_false(bulks("$3\nkey\r\n", 1));
    assert_false(bulks("$9999999999999\r\nx\r\n", 1));    /* length too long */
}

/* A PSCAN answer [cursor, nkeys, keys]. */
static struct peer_reply elem[3];
static struct peer_reply answer(const char *cursor, long long nkeys, const char *keys)
{
    elem[0] = (struct peer_reply){.type = PEER_R_BULK, .str = cursor, .len = strlen(cursor)};
    elem[1] = (struct peer_reply){.type = PEER_R_INT, .integer = nkeys};
    elem[2] = (struct peer_reply){.type = PEER_R_BULK, .str = keys, .len = strlen(keys)};
    return (struct peer_reply){.type = PEER_R_ARRAY, .nelem = 3, .elem = elem};
}

static void test_pscan_reply(void **state)
{
    (void)state;
    uint64_t cur = 0;
    struct peer_reply r = answer("1234", 2, "$1\r\na\r\n$2\r\nbc\r\n");
    assert_true(pscan_reply_ok(&r, &cur));
    assert_int_equal(cur, 1234);

    struct buf keys;
    buf_init(&keys);
    buf_put(&keys, "$1\r\nz\r\n", 7);
    long long n = 1;
    pscan_take_keys(&r, &keys, &n);
    assert_int_equal(n, 3);
    const char want[] = "$1\r\nz\r\n$1\r\na\r\n$2\r\nbc\r\n";
    assert_int_equal(keys.len, sizeof(want) - 1);
    assert_memory_equal(keys.data, want, keys.len);
    buf_fini(&keys);

    assert_false(pscan_reply_ok(NULL, &cur));
    r = answer("0", 0, "");
    assert_true(pscan_reply_ok(&r, &cur));
    assert_int_equal(cur, 0);
    r = answer("x", 0, "");
    assert_false(pscan_reply_ok(&r, &cur)); /* cursor not a number */
    r = answer("0", -1, "");
    assert_false(pscan_reply_ok(&r, &cur)); /* negative count */
    r = answer("0", 2, "$1\r\na\r\n");
    assert_false(pscan_reply_ok(&r, &cur)); /* count does not match */
    r = answer("0", 0, "");
    r.nelem = 2;
    assert_false(pscan_reply_ok(&r, &cur)); /* wrong shape */
    r = answer("0", 0, "");
    r.type = PEER_R_BULK;
    assert_false(pscan_reply_ok(&r, &cur));
    r = answer("0", 0, "");
    elem[1].type = PEER_R_BULK;
    assert_false(pscan_reply_ok(&r, &cur)); /* count not an integer */
    r = answer("0", 0, "");
    elem[0].type = PEER_R_INT;
    assert_false(pscan_reply_ok(&r, &cur)); /* cursor not a bulk */
    r = answer("0", 0, "");
    elem[2].type = PEER_R_STATUS;
    assert_false(pscan_reply_ok(&r, &cur)); /* keys not a bulk */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_u64),
        cmocka_unit_test(test_add_u64_bulk),
        cmocka_unit_test(test_bulks_valid),
        cmocka_unit_test(test_pscan_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
