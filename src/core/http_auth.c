/* http_auth.c — the admin endpoint's password check (see http_auth.h).
 *
 * Owns nothing.  Callers: net/http.c (every admin request while
 * requirepass is set).  Calls: libsodium (base64 decoding, BLAKE2b,
 * sodium_memcmp).  Reads at most hlen bytes of the header; decodes into a
 * bounded stack buffer that is wiped afterwards.  Never blocks.
 */
#include "core/http_auth.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>

/* a and b (any lengths) are equal, compared in constant time per length */
static bool same_secret(const void *a, size_t alen, const char *b)
{
    unsigned char ha[32], hb[32];
    crypto_generichash(ha, sizeof(ha), a, alen, NULL, 0);
    crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, strlen(b), NULL, 0);
    return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

static bool scheme(const char *h, size_t hlen, const char *name, size_t *skip)
{
    size_t n = strlen(name);
    if (hlen <= n || strncasecmp(h, name, n) != 0 || h[n] != ' ')
        return false;
    *skip = n + 1;
    return true;
}

bool http_auth_ok(const char *header, size_t hlen, const char *password)
{
    if (!header || !password || !*password || hlen > HTTP_AUTH_MAX)
        return false;
    size_t skip;
    if (scheme(header, hlen, "Bearer", &skip))
        return same_secret(header + skip, hlen - skip, password);
    if (!scheme(header, hlen, "Basic", &skip))
        return false;
    unsigned char dec[HTTP_AUTH_MAX]; /* base64 decodes to fewer bytes */
    size_t dlen = 0;
    if (sodium_base642bin(dec, sizeof(dec), header + skip, hlen - skip, NULL, &dlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    const unsigned char *colon = memchr(dec, ':', dlen);
    bool ok = colon && same_secret(colon + 1, dlen - (size_t)(colon + 1 - dec), password);
    sodium_memzero(dec, sizeof(dec));
    return ok;
}
