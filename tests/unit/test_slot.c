/* test_slot.c — key -> hash slot exactly as Redis Cluster computes it:
 * CRC16-XMODEM check value, the slots Redis reports for known keys, and the
 * hash tag examples of the Redis Cluster specification. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "core/slot.h"

static unsigned ks(const char *k)
{
    return slot_of_key(k, strlen(k));
}

static void test_crc16_check_value(void **state)
{
    (void)state;
    /* The XMODEM check value (Redis cluster spec, appendix A). */
    assert_int_equal(slot_crc16("123456789", 9), 0x31C3);
    assert_int_equal(slot_crc16("", 0), 0);
}

static void test_known_slots(void **state)
{
    (void)state;
    /* CLUSTER KEYSLOT answers of a Redis 7 server. */
    assert_int_equal(ks("somekey"), 11058);
    assert_int_equal(ks("foo"), 12182);
    assert_int_equal(ks("bar"), 5061);
    assert_int_equal(ks("hello"), 866);
    assert_int_equal(ks(""), 0);
}

static void test_hash_tags(void **state)
{
    (void)state;
    /* The specification's examples. */
    assert_int_equal(ks("{user1000}.following"), ks("user1000"));
    assert_int_equal(ks("{user1000}.followers"), ks("user1000"));
    assert_int_equal(ks("{user1000}.following"), 3443);
    /* an empty tag: the whole key is hashed */
    assert_int_equal(ks("foo{}{bar}"), slot_crc16("foo{}{bar}", 10) & 16383);
    assert_int_equal(ks("foo{}{bar}"), 8363);
    /* the first '{' and the first '}' after it: "{bar" */
    assert_int_equal(ks("foo{{bar}}zap"), ks("{bar"));
    assert_int_equal(ks("foo{{bar}}zap"), 4015);
    /* only the first tag counts */
    assert_int_equal(ks("foo{bar}{zap}"), ks("bar"));
    /* no closing brace: the whole key */
    assert_int_equal(ks("a{b"), slot_crc16("a{b", 3) & 16383);
    assert_int_equal(ks("{}"), slot_crc16("{}", 2) & 16383);
    /* a tag may hold any bytes, NUL included; the key need not end in NUL */
    const char bin[] = {'x', '{', 'a', '\0', 'b', '}', 'y'};
    const char tag[] = {'a', '\0', 'b'};
    assert_int_equal(slot_of_key(bin, sizeof(bin)), slot_crc16(tag, 3) & 16383);
    assert_int_equal(slot_of_key("{ab}", 3), slot_crc16("{ab", 3) & 16383);
}

static void test_range(void **state)
{
    (void)state;
    char k[16];
    for (unsigned i = 0; i < 100000; i++) {
        size_t n = (size_t)snprintf(k, sizeof(k), "k%u", i);
        assert_true(slot_of_key(k, n) < SLOT_COUNT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc16_check_value),
        cmocka_unit_test(test_known_slots),
        cmocka_unit_test(test_hash_tags),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
