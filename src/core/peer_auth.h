/* peer_auth.h — the peer handshake's pure core (no sockets, no event loop):
 * nonces, the two proofs, name checks for names peers claim, log
 * sanitising and the per-address limiter of failed handshakes.  Used by
 * peer.c (connecting side) and cmd_peer.c (accepting side), which describe
 * the exchange; crypto comes from libsodium only.
 *
 *   proof(role) = HMAC-SHA256(key = cluster secret (may be empty),
 *                             "dynamo-node peer v1 " role NUL
 *                             nonce_c nonce_a
 *                             u8 len(name_c) name_c u8 len(name_a) name_a)
 *   role = "acceptor" for the acceptor's proof, "connector" for the
 *   connector's, so neither proof can be reflected as the other.
 */
#ifndef KV_PEER_AUTH_H
#define KV_PEER_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAUTH_NONCE_LEN 32
#define PAUTH_MAC_LEN 32  /* crypto_auth_hmacsha256_BYTES */
#define PAUTH_NAME_MAX 63 /* CFG_NAME_MAX - 1 */

enum pauth_role {
    PAUTH_ACCEPTOR = 0,
    PAUTH_CONNECTOR,
    PAUTH_ROLE_COUNT
};

/* sodium_init(); call once at startup.  false when libsodium cannot work
 * (no randomness): the node must not start then. */
bool pauth_init(void);

/* Fills out with PAUTH_NONCE_LEN bytes from libsodium's CSPRNG. */
void pauth_nonce(uint8_t out[PAUTH_NONCE_LEN]);

/* The proof of role over both nonces and both names (all borrowed). */
void pauth_mac(const char *secret, size_t slen, enum pauth_role role,
               const uint8_t nonce_c[PAUTH_NONCE_LEN], const uint8_t nonce_a[PAUTH_NONCE_LEN],
               const char *name_c, size_t lc, const char *name_a, size_t la,
               uint8_t out[PAUTH_MAC_LEN]);

/* Constant-time comparison of a received proof (got, glen) with the
 * expected one; false for a wrong length. */
bool pauth_mac_equal(const uint8_t want[PAUTH_MAC_LEN], const void *got, size_t glen);

/* A claimed node name: 1..PAUTH_NAME_MAX of A-Z a-z 0-9 . _ : @ - (the
 * config rule for node names). */
bool pauth_name_ok(const void *p, size_t len);

/* Copies at most 64 bytes of peer-supplied p into dst (NUL-terminated,
 * cap >= 1) with every byte outside 0x21..0x7e written as '?', and "..."
 * appended when cut: safe to put in a log line. */
void pauth_sanitize(char *dst, size_t cap, const void *p, size_t len);

/* Overwrites n bytes at p with zeros (not optimised away). */
void pauth_wipe(void *p, size_t n);

/* ---- failed handshakes per source address ---- */

#define PAUTH_LIMIT_SLOTS 64        /* addresses tracked; the oldest is reused */
#define PAUTH_LIMIT_FAILS 5         /* failures per window before refusing */
#define PAUTH_LIMIT_WINDOW_MS 60000 /* a window; refusal lasts to its end */

struct pauth_limiter {
    struct pauth_slot {
        char addr[48];     /* "" = free */
        int64_t start_ms;  /* window start */
        unsigned fails;
        bool logged;       /* the refusal was logged in this window */
    } slot[PAUTH_LIMIT_SLOTS];
};

/* True when addr (an IP, borrowed) may try a handshake at now_ms. */
bool pauth_limit_allowed(struct pauth_limiter *l, const char *addr, int64_t now_ms);
/* Counts a failure of addr. */
void pauth_limit_fail(struct pauth_limiter *l, const char *addr, int64_t now_ms);
/* True once per window for a refused addr: the caller logs then. */
bool pauth_limit_should_log(struct pauth_limiter *l, const char *addr, int64_t now_ms);

#endif
