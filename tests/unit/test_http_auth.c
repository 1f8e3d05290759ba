/* test_http_auth.c — the admin endpoint's password check
 * (core/http_auth.c): Bearer and Basic (any user name, a password holding
 * ':'), scheme names case-insensitive, everything else refused: wrong or
 * prefixed/suffixed passwords, other schemes, broken base64, a Basic value
 * without ':', headers over HTTP_AUTH_MAX, a header not NUL-terminated. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>
#include <string.h>

#include "core/http_auth.h"

static bool ok(const char *h, const char *pass)
{
    return http_auth_ok(h, h ? strlen(h) : 0, pass);
}

static void basic(char *out, size_t n, const char *userpass)
{
    char b64[512];
    sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)userpass, strlen(userpass),
                      sodium_base64_VARIANT_ORIGINAL);
    snprintf(out, n, "Basic %s", b64);
}

static void test_bearer(void **state)
{
    (void)state;
    assert_true(ok("Bearer s3cret", "s3cret"));
    assert_true(ok("bearer s3cret", "s3cret"));
    assert_false(ok("Bearer s3cre", "s3cret"));
    assert_false(ok("Bearer s3cret ", "s3cret"));
    assert_false(ok("Bearer  s3cret", "s3cret"));
    assert_false(ok("Bearer", "s3cret"));
    assert_false(ok("Bearers3cret", "s3cret"));
    assert_false(ok("Token s3cret", "s3cret"));
    assert_false(ok(NULL, "s3cret"));
    assert_false(ok("Bearer ", ""));  /* an empty password is never "carried" */
    /* only hlen bytes count */
    assert_true(http_auth_ok("Bearer s3cretXYZ", 13, "s3cret"));
}

static void test_basic(void **state)
{
    (void)state;
    char h[600];
    basic(h, sizeof(h), "default:s3cret");
    assert_true(ok(h, "s3cret"));
    basic(h, sizeof(h), "anyone:s3cret");
    assert_true(ok(h, "s3cret"));
    basic(h, sizeof(h), ":a:b:c");       /* empty user; the password holds ':' */
    assert_true(ok(h, "a:b:c"));
    basic(h, sizeof(h), "default:wrong");
    assert_false(ok(h, "s3cret"));
    basic(h, sizeof(h), "s3cret");       /* no ':' */
    assert_false(ok(h, "s3cret"));
    assert_false(ok("Basic !!!notbase64", "s3cret"));
    assert_false(ok("Basic ", "s3cret"));
    basic(h, sizeof(h), "u:s3cret");
    h[0] = 'b';                          /* "basic": scheme case-insensitive */
    assert_true(ok(h, "s3cret"));
}

static void test_too_long(void **state)
{
    (void)state;
    char h[HTTP_AUTH_MAX + 64];
    memset(h, 'a', sizeof(h) - 1);
    h[sizeof(h) - 1] = '\0';
    memcpy(h, "Bearer ", 7);
    assert_false(ok(h, h + 7));
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bearer),
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_too_long),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
