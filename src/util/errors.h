/* errors.h — the project's error codes.
 *
 * Functions that can fail return int: 0 on success, -errno for system
 * failures, or one of the negative KV_E* codes below.  kv_strerror() names
 * both kinds.  Codes are below -1000 so they never collide with -errno. */
#ifndef KV_ERRORS_H
#define KV_ERRORS_H

enum kv_error {
    KV_EPROTO = -1001,     /* malformed protocol input (RESP, context, peer reply) */
    KV_ETOOBIG = -1002,    /* a length exceeds a configured limit */
    KV_ENOQUORUM = -1003,  /* fewer than W (or R) replicas answered in time */
    KV_ETIMEDOUT = -1004,  /* a request's deadline passed */
    KV_EBADCTX = -1005,    /* a vector-clock context could not be decoded */
    KV_ECONFIG = -1006,    /* invalid configuration value or file */
    KV_ENOTFOUND = -1007,  /* no such key, node or option */
    KV_EDISCONN = -1008,   /* a peer connection went away mid-request */
    KV_EAUTH = -1009,      /* authentication required or failed */
    KV_ESIBLINGS = -1010,  /* a key holds concurrent versions; plain read refused */
    KV_EINVAL = -1011,     /* invalid argument (caller error with a message) */
    KV_EMAXSIB = -1012,    /* a write would leave a key with too many siblings */
    KV_ELOG = -1013,       /* the append-only log cannot be written: local writes refused */
    KV_ENOTNUM = -1014,    /* a value is not the number an operation needs (or NaN) */
    KV_EOVERFLOW = -1015,  /* an integer result would leave its range */
    KV_ELOST = -1016,      /* a peer connection went away with the request sent:
                              it may or may not have been applied */
};

/* Returns a static string for a KV_E* code or a -errno value. */
const char *kv_strerror(int err);

#endif
