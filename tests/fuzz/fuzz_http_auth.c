/* fuzz_http_auth.c — libFuzzer target for the admin endpoint's password
 * check (http_auth_ok), which reads the Authorization header straight
 * from the network.
 *
 * Input: the first byte picks the password's length (1..16), taken from the
 * bytes after it; the rest is the header value.  The check must never crash
 * or over-read (the header is copied into a buffer of exactly its size),
 * and must never accept a header that does not carry the password: an
 * accepted Bearer value is exactly it, an accepted Basic value decodes to
 * something ending in ':' followed by it.
 *
 * Build: CC=clang meson setup build-fuzz -Dfuzz=true (tests/fuzz/run.sh).
 * Run:   ./fuzz_http_auth tests/fuzz/corpus/http_auth */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/http_auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (sodium_init() < 0)
            abort();
        ready = 1;
    }
    if (size < 2)
        return 0;
    size_t plen = 1 + data[0] % 16;
    if (size < 1 + plen)
        return 0;
    char pass[17];
    memcpy(pass, data + 1, plen);
    pass[plen] = '\0';
    if (strlen(pass) == 0)
        return 0;
    size_t hlen = size - 1 - plen;
    char *h = malloc(hlen ? hlen : 1);
    memcpy(h, data + 1 + plen, hlen);
    if (http_auth_ok(h, hlen, pass)) {
        size_t n = strlen(pass);
        if (hlen > 7 && strncasecmp(h, "Bearer ", 7) == 0) {
            if (hlen - 7 != n || memcmp(h + 7, pass, n) != 0)
                abort();
        } else if (hlen > 6 && strncasecmp(h, "Basic ", 6) == 0) {
            unsigned char dec[HTTP_AUTH_MAX];
            size_t dlen = 0;
            if (sodium_base642bin(dec, sizeof(dec), h + 6, hlen - 6, NULL, &dlen, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) != 0 ||
                dlen < n + 1 || memcmp(dec + dlen - n, pass, n) != 0 ||
                memchr(dec, ':', dlen - n) == NULL)
                abort();
        } else {
            abort();
        }
    }
    free(h);
    return 0;
}
