/* config_opt.h — PRIVATE to core/config*.c: the option-table entry and the
 * helpers that the option table (config.c) shares with the file, flag and
 * node-line parsers (config_load.c).  No other file includes it: the rest
 * of the program sees only config.h.
 *
 * Messages: every helper that can fail appends "<where><what>: <reason>"
 * to err (when err is not NULL) and returns the code; values echoed in a
 * message go through cfg_show first, so no CR/LF or control byte reaches a
 * reply.
 */
#ifndef KV_CONFIG_OPT_H
#define KV_CONFIG_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "util/buf.h"
#include "util/errors.h"

enum opt_type {
    OPT_INT,      /* int, plain decimal */
    OPT_LL,       /* long long, plain decimal */
    OPT_MEM,      /* long long, decimal with optional unit b k kb m mb g gb */
    OPT_STR,      /* char * owned by struct cfg */
    OPT_FIXSTR,   /* char array inside struct cfg */
    OPT_ENUM,     /* int index into the option's names[] */
    OPT_CONST,    /* CONFIG GET-only pseudo option; its value is def */
};

#define OPT_F_RUNTIME (1u << 0)  /* CONFIG SET may change it while running */
#define OPT_F_FLAGONLY (1u << 1) /* command line only, not a file directive */
#define OPT_F_READONLY (1u << 2) /* reported by CONFIG GET, never set */
#define OPT_F_QUORUM (1u << 3)   /* a runtime change sets cfg->changed_quorum */
#define OPT_F_NAME (1u << 4)     /* value must be a valid node name (or empty) */
#define OPT_F_NONEMPTY (1u << 5) /* empty string refused */
#define OPT_F_SECRET (1u << 6)   /* CONFIG GET reports "" (cfg_get) */

struct opt {
    const char *name;
    enum opt_type type;
    size_t off;       /* offsetof(struct cfg, field); unused for OPT_CONST */
    size_t size;      /* sizeof(field) */
    long long min, max;
    const char *def;  /* default as the user would write it; NULL = unset */
    unsigned flags;
    const char *arg;  /* placeholder in --help */
    const char *help;
    const char *const *names; /* OPT_ENUM: accepted words, NULL-terminated */
};
/* Room for a value echoed by cfg_show ("..." appended past 64 bytes). */
#define SHOW_MAX 80

/* Makes s safe to echo in a message: at most ~64 bytes, control bytes and
 * non-ASCII replaced by '?'.  s borrowed; returns out. */
const char *cfg_show(const char *s, char out[SHOW_MAX]);

/* Appends a formatted message to err (if not NULL) and returns code. */
int cfg_fail_code(struct buf *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same with KV_ECONFIG, the code of every load-time error. */
#define cfg_fail(err, ...) cfg_fail_code((err), KV_ECONFIG, __VA_ARGS__)

/* The table entry named name (len bytes, case-insensitive), or NULL.
 * Returns a pointer into the static table (never freed). */
const struct opt *cfg_opt_find_n(const char *name, size_t len);
const struct opt *cfg_opt_find(const char *name);
/* o's position in the table: bit cfg_opt_index(o) of cfg.flag_set. */
unsigned cfg_opt_index(const struct opt *o);
/* The flag_set bit of the option named name (which must exist). */
uint64_t cfg_opt_bit(const char *name);

/* Parses value for option o and stores it in c.  Messages read
 * "<where><shown>: <reason>"; runtime adds the CONFIG SET rules.
 * 0 or KV_ECONFIG. */
int cfg_opt_set(struct cfg *c, const struct opt *o, const char *value, bool runtime,
                const char *where, const char *shown, struct buf *err);

/* Strict decimal: optional '-', digits, nothing else. */
bool cfg_parse_ll(const char *s, long long *out);
/* A valid node name: 1 to CFG_NAME_MAX - 1 of A-Z a-z 0-9 . _ : @ - */
bool cfg_valid_name(const char *s);
/* s holds a blank, a control byte or a non-ASCII byte. */
bool cfg_has_space_or_ctl(const char *s);
/* The quorum rules (n <= nnodes when nnodes > 0, 1 <= w,r <= n), shared by
 * cfg_finish and runtime cfg_set.  where is a message prefix (may be "").
 * 0 or KV_ECONFIG. */
/* The quorum settings, checked together (n, w, r, pr, pw). */
enum { CFG_Q_N, CFG_Q_W, CFG_Q_R, CFG_Q_PR, CFG_Q_PW, CFG_Q_COUNT };
void cfg_quorum(const struct cfg *c, int q[CFG_Q_COUNT]);
int cfg_check_quorum(const int q[CFG_Q_COUNT], int nnodes, const char *where, struct buf *err);

#endif
