/* errors.c — names for KV_E* codes and -errno values. */
#include "util/errors.h"

#include <string.h>

const char *kv_strerror(int err)
{
    switch (err) {
    case 0: return "success";
    case KV_EPROTO: return "protocol error";
    case KV_ETOOBIG: return "length exceeds the configured limit";
    case KV_ENOQUORUM: return "not enough replicas answered";
    case KV_ETIMEDOUT: return "request timed out";
    case KV_EBADCTX: return "invalid vector clock context";
    case KV_ECONFIG: return "invalid configuration";
    case KV_ENOTFOUND: return "not found";
    case KV_EDISCONN: return "peer disconnected";
    case KV_EAUTH: return "authentication required";
    case KV_ESIBLINGS: return "key has siblings";
    case KV_EINVAL: return "invalid argument";
    case KV_EMAXSIB: return "too many siblings for key; resolve them with VGET + VPUT";
    case KV_ELOG: return "the append-only log cannot be written";
    case KV_ENOTNUM: return "value is not a number";
    case KV_EOVERFLOW: return "increment or decrement would overflow";
    case KV_ELOST: return "peer connection lost with the request in flight";
    default:
        if (err < 0 && err > -4096)
            return strerror(-err);
        return "unknown error";
    }
}
