/* http_auth.h — the admin endpoint's password check, pure: does an HTTP
 * Authorization header value carry the password?
 *
 * Accepted forms (scheme names case-insensitive, as RFC 7235):
 *   "Bearer <password>"                  the password itself as the token
 *   "Basic base64(<user>:<password>)"    any user name (what a browser sends)
 * Everything is compared in constant time for a given length (both sides
 * hashed with BLAKE2b, digests compared with sodium_memcmp), so a wrong
 * guess learns nothing from timing.  The header comes from the network:
 * any bytes, any length; values over HTTP_AUTH_MAX bytes are refused.
 * net/http.c calls it; tests/unit/test_http_auth.c and
 * tests/fuzz/fuzz_http_auth.c check it alone. */
#ifndef KV_HTTP_AUTH_H
#define KV_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define HTTP_AUTH_MAX 1024 /* longest header value looked at */

/* True when the header value (hlen bytes, need not be NUL-terminated; NULL
 * = no header) carries password (NUL-terminated, non-empty).  Borrowed. */
bool http_auth_ok(const char *header, size_t hlen, const char *password);

#endif
