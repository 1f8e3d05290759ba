/* peer_auth.c — the peer handshake's pure core, see peer_auth.h.
 *
 * Owns: nothing but the limiter table its caller passes in.  Called from
 * the event loop by peer.c (our side of the handshake) and cmd_peer.c
 * (the other side, the failure limiter), and once by main (pauth_init,
 * before the loop); every function is bounded work
 * (one HMAC over at most ~200 bytes, a scan of PAUTH_LIMIT_SLOTS slots) and
 * never blocks.  All crypto is libsodium's: HMAC-SHA256 (crypto_auth_
 * hmacsha256_*, key of any length, so an empty secret is a valid key),
 * randombytes_buf for nonces, sodium_memcmp for constant-time checks.
 */
#include "core/peer_auth.h"

#include <assert.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static_assert(PAUTH_MAC_LEN == crypto_auth_hmacsha256_BYTES, "proof is one HMAC-SHA256");

static const char *const role_label[PAUTH_ROLE_COUNT] = {"acceptor", "connector"};

bool pauth_init(void)
{
    return sodium_init() >= 0;
}

void pauth_nonce(uint8_t out[PAUTH_NONCE_LEN])
{
    randombytes_buf(out, PAUTH_NONCE_LEN);
}

void pauth_mac(const char *secret, size_t slen, enum pauth_role role,
               const uint8_t nonce_c[PAUTH_NONCE_LEN], const uint8_t nonce_a[PAUTH_NONCE_LEN],
               const char *name_c, size_t lc, const char *name_a, size_t la,
               uint8_t out[PAUTH_MAC_LEN])
{
    static const char label[] = "dynamo-node peer v1 ";
    crypto_auth_hmacsha256_state st;
    /* Names longer than a u8 cannot be framed: callers check pauth_name_ok
     * first; cut here too so the framing stays unambiguous. */
    if (lc > 255)
        lc = 255;
    if (la > 255)
        la = 255;
    uint8_t l8c = (uint8_t)lc, l8a = (uint8_t)la;
    const char *r = role_label[role < PAUTH_ROLE_COUNT ? role : 0];
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)(secret ? secret : ""),
                                secret ? slen : 0);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)label, sizeof(label) - 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)r, strlen(r) + 1);
    crypto_auth_hmacsha256_update(&st, nonce_c, PAUTH_NONCE_LEN);
    crypto_auth_hmacsha256_update(&st, nonce_a, PAUTH_NONCE_LEN);
    crypto_auth_hmacsha256_update(&st, &l8c, 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)name_c, lc);
    crypto_auth_hmacsha256_update(&st, &l8a, 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)name_a, la);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

bool pauth_mac_equal(const uint8_t want[PAUTH_MAC_LEN], const void *got, size_t glen)
{
    return glen == PAUTH_MAC_LEN && sodium_memcmp(want, got, PAUTH_MAC_LEN) == 0;
}

void pauth_wipe(void *p, size_t n)
{
    sodium_memzero(p, n);
}

bool pauth_name_ok(const void *p, size_t len)
{
    const unsigned char *s = p;
    if (len == 0 || len > PAUTH_NAME_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || (ch && strchr("._:@-", ch));
        if (!ok)
            return false;
    }
    return true;
}

void pauth_sanitize(char *dst, size_t cap, const void *p, size_t len)
{
    const unsigned char *s = p;
    size_t keep = len > 64 ? 64 : len;
    size_t k = 0;
    for (size_t i = 0; i < keep && k + 1 < cap; i++)
        dst[k++] = (s[i] > 0x20 && s[i] < 0x7f) ? (char)s[i] : '?';
    for (int i = 0; len > keep && i < 3 && k + 1 < cap; i++)
        dst[k++] = '.';
    dst[k] = '\0';
}

/* The slot of addr (its window renewed when over), or with create a free
 * one, else the one whose window started first. */
static struct pauth_slot *slot_of(struct pauth_limiter *l, const char *addr, int64_t now_ms,
                                  bool create)
{
    struct pauth_slot *pick = NULL;
    for (int i = 0; i < PAUTH_LIMIT_SLOTS; i++) {
        struct pauth_slot *s = &l->slot[i];
        if (s->addr[0] && strcmp(s->addr, addr) == 0) {
            if (now_ms - s->start_ms >= PAUTH_LIMIT_WINDOW_MS) {
                s->start_ms = now_ms; /* a new window */
                s->fails = 0;
                s->logged = false;
            }
            return s;
        }
        if (!pick || (pick->addr[0] && (!s->addr[0] || s->start_ms < pick->start_ms)))
            pick = s;
    }
    if (!create)
        return NULL;
    memset(pick, 0, sizeof(*pick));
    snprintf(pick->addr, sizeof(pick->addr), "%s", addr);
    pick->start_ms = now_ms;
    return pick;
}

bool pauth_limit_allowed(struct pauth_limiter *l, const char *addr, int64_t now_ms)
{
    struct pauth_slot *s = slot_of(l, addr, now_ms, false);
    return !s || s->fails < PAUTH_LIMIT_FAILS;
}

void pauth_limit_fail(struct pauth_limiter *l, const char *addr, int64_t now_ms)
{
    struct pauth_slot *s = slot_of(l, addr, now_ms, true);
    if (s->fails < PAUTH_LIMIT_FAILS)
        s->fails++;
}

bool pauth_limit_should_log(struct pauth_limiter *l, const char *addr, int64_t now_ms)
{
    struct pauth_slot *s = slot_of(l, addr, now_ms, false);
    if (!s || s->logged)
        return false;
    s->logged = true;
    return true;
}
