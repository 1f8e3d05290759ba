/* test_auth.c — the peer handshake's pure core (src/peer_auth.c): proofs
 * match an independent HMAC-SHA256 (Python's hmac, the vectors below; the
 * security tests' peer uses the same construction against the real
 * binary), every input and the role change the proof, comparisons are
 * exact, claimed names are checked, log text is sanitised and the limiter
 * refuses an address after PAUTH_LIMIT_FAILS failures for one window. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/peer_auth.h"

static uint8_t nc[PAUTH_NONCE_LEN], na[PAUTH_NONCE_LEN];

static int setup(void **state)
{
    (void)state;
    assert_true(pauth_init());
    memset(nc, 1, sizeof(nc));
    memset(na, 2, sizeof(na));
    return 0;
}

static void mac(const char *secret, enum pauth_role role, const char *c, const char *a,
                uint8_t out[PAUTH_MAC_LEN])
{
    pauth_mac(secret, strlen(secret), role, nc, na, c, strlen(c), a, strlen(a), out);
}

/* python3: hmac.new(key, b'dynamo-node peer v1 ' + role + b'\0' + nc + na
 *                   + bytes([2]) + b'n1' + bytes([2]) + b'n2', sha256) */
static void test_vectors(void **state)
{
    (void)state;
    static const uint8_t acceptor_s3cret[PAUTH_MAC_LEN] = {
        0x66, 0x19, 0xc2, 0x5c, 0x3d, 0x74, 0x67, 0xc5, 0x24, 0xeb, 0xa8, 0xab, 0x19, 0x7e, 0x7b, 0x94,
        0xa8, 0xe2, 0x57, 0xc6, 0x2c, 0xa0, 0xbd, 0x08, 0xac, 0x4f, 0xd8, 0x28, 0xee, 0xba, 0x4a, 0x0c};
    static const uint8_t connector_empty[PAUTH_MAC_LEN] = {
        0xc9, 0xe2, 0x8b, 0xff, 0x78, 0xb5, 0x68, 0x25, 0xda, 0xc3, 0x6b, 0x23, 0x61, 0x2a, 0x47, 0xc0,
        0xc9, 0x9c, 0xc3, 0xec, 0xbd, 0xa7, 0x31, 0x69, 0x8b, 0xad, 0x0c, 0xb4, 0x8b, 0xae, 0x10, 0xad};
    uint8_t out[PAUTH_MAC_LEN];
    mac("s3cret", PAUTH_ACCEPTOR, "n1", "n2", out);
    assert_memory_equal(out, acceptor_s3cret, PAUTH_MAC_LEN);
    mac("", PAUTH_CONNECTOR, "n1", "n2", out);
    assert_memory_equal(out, connector_empty, PAUTH_MAC_LEN);
    assert_true(pauth_mac_equal(connector_empty, out, sizeof(out)));
}

/* Each input matters: secret, role, either nonce, either name, and the
 * framing (moving a byte from one name to the other). */
static void test_every_input_counts(void **state)
{
    (void)state;
    uint8_t base[PAUTH_MAC_LEN], o[PAUTH_MAC_LEN];
    mac("s3cret", PAUTH_ACCEPTOR, "n1", "n2", base);
    mac("s3creT", PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    mac("", PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    mac("s3cret", PAUTH_CONNECTOR, "n1", "n2", o); /* no reflection */
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    mac("s3cret", PAUTH_ACCEPTOR, "n2", "n1", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    mac("s3cret", PAUTH_ACCEPTOR, "n1n", "2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    nc[5] ^= 1;
    mac("s3cret", PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    nc[5] ^= 1;
    na[31] ^= 0x80;
    mac("s3cret", PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
    na[31] ^= 0x80;
    mac("s3cret", PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_true(pauth_mac_equal(base, o, sizeof(o)));
    /* A long secret (over the 64-byte HMAC block) works too. */
    char longs[200];
    memset(longs, 'k', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    mac(longs, PAUTH_ACCEPTOR, "n1", "n2", o);
    assert_false(pauth_mac_equal(base, o, sizeof(o)));
}

static void test_mac_equal(void **state)
{
    (void)state;
    uint8_t a[PAUTH_MAC_LEN], b[PAUTH_MAC_LEN + 1];
    mac("x", PAUTH_ACCEPTOR, "n1", "n2", a);
    memcpy(b, a, PAUTH_MAC_LEN);
    b[PAUTH_MAC_LEN] = 0;
    assert_true(pauth_mac_equal(a, b, PAUTH_MAC_LEN));
    assert_false(pauth_mac_equal(a, b, PAUTH_MAC_LEN + 1));
    assert_false(pauth_mac_equal(a, b, PAUTH_MAC_LEN - 1));
    assert_false(pauth_mac_equal(a, b, 0));
    for (int i = 0; i < PAUTH_MAC_LEN * 8; i++) {
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
        assert_false(pauth_mac_equal(a, b, PAUTH_MAC_LEN));
        b[i / 8] ^= (uint8_t)(1u << (i % 8));
    }
}

static void test_nonces_differ(void **state)
{
    (void)state;
    uint8_t x[PAUTH_NONCE_LEN], y[PAUTH_NONCE_LEN];
    pauth_nonce(x);
    pauth_nonce(y);
    assert_true(memcmp(x, y, sizeof(x)) != 0);
}

static void test_names_and_sanitize(void **state)
{
    (void)state;
    assert_true(pauth_name_ok("n1", 2));
    assert_true(pauth_name_ok("127.0.0.1:7001", 14));
    assert_true(pauth_name_ok("a_b-c@d", 7));
    assert_false(pauth_name_ok("", 0));
    assert_false(pauth_name_ok("a b", 3));
    assert_false(pauth_name_ok("a\nb", 3));
    assert_false(pauth_name_ok("a\0b", 3));
    assert_false(pauth_name_ok("\x1b[31m", 5));
    char name64[64];
    memset(name64, 'a', sizeof(name64));
    assert_true(pauth_name_ok(name64, PAUTH_NAME_MAX));
    assert_false(pauth_name_ok(name64, PAUTH_NAME_MAX + 1));

    char out[80];
    pauth_sanitize(out, sizeof(out), "ev\x1bil\nFAKE", 10);
    assert_string_equal(out, "ev?il?FAKE");
    pauth_sanitize(out, sizeof(out), "a b\0c", 5);
    assert_string_equal(out, "a?b?c");
    char big[300];
    memset(big, 'z', sizeof(big));
    pauth_sanitize(out, sizeof(out), big, sizeof(big));
    assert_int_equal(strlen(out), 67);
    assert_string_equal(out + 64, "...");
    char tiny[4];
    pauth_sanitize(tiny, sizeof(tiny), "abcdef", 6);
    assert_string_equal(tiny, "abc");
}

static void test_limiter(void **state)
{
    (void)state;
    static struct pauth_limiter l;
    memset(&l, 0, sizeof(l));
    int64_t now = 1000000;
    for (int i = 0; i < PAUTH_LIMIT_FAILS; i++) {
        assert_true(pauth_limit_allowed(&l, "10.0.0.1", now));
        pauth_limit_fail(&l, "10.0.0.1", now);
    }
    assert_false(pauth_limit_allowed(&l, "10.0.0.1", now));
    assert_true(pauth_limit_allowed(&l, "10.0.0.2", now));
    /* Logged once per window. */
    assert_true(pauth_limit_should_log(&l, "10.0.0.1", now));
    assert_false(pauth_limit_should_log(&l, "10.0.0.1", now + 10));
    assert_false(pauth_limit_allowed(&l, "10.0.0.1", now + PAUTH_LIMIT_WINDOW_MS - 1));
    /* A new window: allowed again, and would be logged again. */
    assert_true(pauth_limit_allowed(&l, "10.0.0.1", now + PAUTH_LIMIT_WINDOW_MS));
    for (int i = 0; i < PAUTH_LIMIT_FAILS; i++)
        pauth_limit_fail(&l, "10.0.0.1", now + PAUTH_LIMIT_WINDOW_MS);
    assert_true(pauth_limit_should_log(&l, "10.0.0.1", now + PAUTH_LIMIT_WINDOW_MS));
    /* A full table reuses the slot whose window started first. */
    char addr[32];
    for (int i = 0; i < PAUTH_LIMIT_SLOTS; i++) {
        snprintf(addr, sizeof(addr), "10.1.0.%d", i);
        pauth_limit_fail(&l, addr, now + PAUTH_LIMIT_WINDOW_MS + 1 + i);
    }
    /* 10.0.0.1's window started before all of those: its slot was reused. */
    assert_true(pauth_limit_allowed(&l, "10.0.0.1", now + PAUTH_LIMIT_WINDOW_MS + 100));
    for (int i = 1; i < PAUTH_LIMIT_FAILS; i++)
        pauth_limit_fail(&l, "10.1.0.63", now + PAUTH_LIMIT_WINDOW_MS + 100);
    assert_false(pauth_limit_allowed(&l, "10.1.0.63", now + PAUTH_LIMIT_WINDOW_MS + 100));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_vectors, setup),
        cmocka_unit_test_setup(test_every_input_counts, setup),
        cmocka_unit_test_setup(test_mac_equal, setup),
        cmocka_unit_test_setup(test_nonces_differ, setup),
        cmocka_unit_test_setup(test_names_and_sanitize, setup),
        cmocka_unit_test_setup(test_limiter, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
