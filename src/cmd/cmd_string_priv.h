/* cmd_string_priv.h — what cmd_string.c shares with cmd_expire.c and
 * cmd_bits.c: the parameters a read-modify-write command hands to its
 * decide() callback (struct str_params, STR_O_* options), the helpers that
 * build them and a decide()'s or fmt()'s answer, and the value size limit.  Defined in cmd_string.c; private to
 * these three files, and cmd_hash.c (the value size limit, str_max_len). */
#ifndef KV_CMD_STRING_PRIV_H
#define KV_CMD_STRING_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "cmd/cmd.h"

#define STR_O_NX (1u << 0)      /* EXPIRE NX: only when the key has no TTL */
#define STR_O_XX (1u << 1)      /* EXPIRE XX: only when the key has a TTL */
#define STR_O_GT (1u << 2)      /* EXPIRE GT: only to a later time */
#define STR_O_LT (1u << 3)      /* EXPIRE LT: only to an earlier time */
#define STR_O_PERSIST (1u << 4) /* GETEX PERSIST: remove the TTL */
#define STR_O_EXPIRE (1u << 5)  /* GETEX EX/PX/EXAT/PXAT: set when_ms */
#define STR_O_ABS (1u << 6)     /* GETEX EXAT/PXAT: a past time deletes the key */

/* What a write command's decide() needs from its arguments. */
struct str_params {
    struct val *val;      /* the value argument (a copy) or NULL; owned */
    long long n;          /* INCRBY's increment, SETRANGE's offset */
    long double incr;     /* INCRBYFLOAT's increment */
    int64_t when_ms;      /* expiry time the command sets (absolute unix ms) */
    unsigned opts;        /* STR_O_* */
    long long max_len;    /* longest value allowed: proto-max-bulk-len, and
                           * what a struct val can hold */
    const char *err;      /* GETEX: its expiry's error (static text), replied
                           * only when the key exists, as Redis 7.0 does */
};

/* New params (free with str_params_free; usable as cmd_rmw's free_params);
 * value (borrowed, may be NULL) is copied.  NULL, with the error replied to
 * c, when value is longer than a value may be. */
struct str_params *str_params_new(struct client *c, const struct arg *value);
void str_params_free(void *arg);

/* The longest value c may create: proto-max-bulk-len, and what a struct val
 * can hold (4 GB - 1). */
long long str_max_len(const struct client *c);

/* cmd_rmw_current for a read (fmt()): the same siblings error, into reply. */
bool str_read_current(const struct sibset *set, int64_t now, struct buf *reply,
                      const struct version **live);

/* Makes out write v (reference taken) with expiry expire_ms. */
void str_write_val(struct cmd_rmw_out *out, struct val *v, int64_t expire_ms);

#endif
