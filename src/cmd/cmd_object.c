/* cmd_object.c — OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP, and
 * MEMORY USAGE / HELP.
 *
 * Owns nothing: ENCODING and REFCOUNT answer from a quorum read of the key
 * (cmd_read, the same read as GET: siblings are an error, a missing or
 * expired key is nil; a typed key answers the encoding Redis would give it:
 * a set's is cmd_set_encoding's (intset or hashtable), a hash's by
 * hash-max-listpack-entries/-value); IDLETIME and FREQ are refused (no
 * access times or frequencies are tracked).  MEMORY USAGE estimates the
 * bytes of the key's versions from the same read (value bytes and the
 * headers of each value, element and entry; not the allocator's rounding).
 * Callers: the command table in cmd_keyspace.c (cmd_object).
 * Calls: cmd_read, cmd_rmw_current, cmd_arg_ll, typed_classify,
 * cmd_set_encoding.  Nothing blocks: the read
 * answers later into the connection's reserved reply slot.
 */
#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/node.h"
#include "cmd/typed.h"
#include "core/tval.h"
#include "util/mem.h"
#include "core/resp.h"
#include "core/tval.h"
#include "net/server.h"
#include "core/siblings.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/val.h"

enum obj_sub {
    OBJ_ENCODING = 0,
    OBJ_REFCOUNT,
    OBJ_SUB_COUNT
};

/* Redis's string encodings, derived from the bytes (the store keeps every
 * value as bytes): "int" for a canonical 64-bit integer of at most 20
 * characters, "embstr" up to 44 bytes, "raw" beyond. */
static const char *string_encoding(const struct val *v)
{
    struct arg a = {v->data, v->len};
    long long ignored;
    if (v->len <= 20 && cmd_arg_ll(&a, &ignored))
        return "int";
    return v->len <= 44 ? "embstr" : "raw";
}

/* What object_fmt needs: the subcommand and, for a hash, the encoding
 * thresholds as configured when the command came. */
struct obj_params {
    enum obj_sub sub;
    long long hash_entries, hash_value; /* hash-max-listpack-entries/-value */
    long long set_max_intset;           /* set-max-intset-entries */
    long long zset_entries, zset_value; /* zset-max-listpack-entries/-value */
};

struct zshort {
    long long max;
    bool small;
};

static bool member_short(const struct crdt_elem *el, void *arg)
{
    struct zshort *w = arg;
    w->small = (long long)el->klen <= w->max;
    return w->small;
}

/* Every member of a sorted set at most max bytes long (Redis's listpack
 * condition besides the count). */
static bool zset_small(const struct crdt *st, long long max)
{
    struct zshort w = {max, true};
    crdt_each(st, member_short, &w);
    return w.small;
}

/* ENCODING of a typed key: a hash's from its content (cmd_hash_encoding), a
 * counter's as the string it reads as; sets and sorted sets by the
 * encodings Redis gives large ones. */
static void typed_encoding(const struct obj_params *p, const struct version *v, struct buf *out)
{
    const struct crdt *st = tval_ccrdt(v->val);
    switch ((enum crdt_type)st->type) {
    case CRDT_HASH:
        resp_add_cstr(out, cmd_hash_encoding(st, p->hash_entries, p->hash_value));
        return;
    case CRDT_COUNTER: {
        struct val *s = typed_counter_string(v->val);
        resp_add_cstr(out, string_encoding(s));
        val_unref(s);
        return;
    }
    case CRDT_SET:
        resp_add_cstr(out, cmd_set_encoding(st, p->set_max_intset));
        return;
    default:
        resp_add_cstr(out, zset_small(st, p->zset_value) &&
                                   (long long)crdt_count(st) <= p->zset_entries
                               ? "listpack"
                               : "skiplist");
        return;
    }
}

static void object_fmt(void *params, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    const struct obj_params *p = params;
    enum obj_sub sub = p->sub;
    enum crdt_type type;
    const struct version *tv;
    switch (typed_classify(set, now, &type, &tv)) {
    case TYPED_STATE:
        if (sub == OBJ_ENCODING)
            typed_encoding(p, tv, out);
        else
            resp_add_int(out, 1);
        return;
    case TYPED_CONFLICT:
        typed_reply_wrongtype(out);
        return;
    default:
        break;
    }
    /* cmd_rmw_current writes GET's siblings error (one wording) into o.reply. */
    struct cmd_rmw_out o = {.action = CMD_RMW_NONE, .val = NULL, .expire_ms = 0, .reply = *out};
    const struct version *live;
    bool one = cmd_rmw_current(set, now, &o, &live);
    *out = o.reply;
    if (!one)
        return;
    if (!live)
        resp_add_null(out, proto);
    else if (sub == OBJ_ENCODING)
        resp_add_cstr(out, string_encoding(live->val));
    else
        resp_add_int(out, 1); /* values are not shared between keys */
}

static const char *const object_help[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation Redis would use for the string",
    "    stored at <key>: int, embstr or raw.",
    "REFCOUNT <key>",
    "    Return the number of references of the value stored at <key> (always 1).",
    "IDLETIME <key>",
    "    Not supported: dynamo-node does not track access times.",
    "FREQ <key>",
    "    Not supported: dynamo-node does not track access frequencies.",
    "HELP",
    "    Print this help.",
};

void cmd_object(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        size_t n = sizeof(object_help) / sizeof(object_help[0]);
        resp_add_array(&c->out, (long long)n);
        for (size_t i = 0; i < n; i++)
            resp_add_simple(&c->out, object_help[i]);
        return;
    }
    static const char *const keyed[] = {"ENCODING", "REFCOUNT", "IDLETIME", "FREQ"};
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (cmd_arg_eq(sub, keyed[i]))
            which = i;
    if (which < 0 || (cmd_arg_eq(sub, "HELP") && argc != 2)) {
        cmd_reply_unknown_sub(c, "OBJECT", sub);
        return;
    }
    if (argc != 3) {
        resp_add_errorf(&c->out, "ERR", "wrong number of arguments for 'object|%s' command",
                        which == 0 ? "encoding" : which == 1 ? "refcount" : which == 2 ? "idletime"
                                                                                   : "freq");
        return;
    }
    if (which == 2) {
        cmd_reply_err(c, "OBJECT IDLETIME is not supported: dynamo-node does not track when "
                         "keys were last accessed");
        return;
    }
    if (which == 3) {
        cmd_reply_err(c, "OBJECT FREQ is not supported: dynamo-node does not track how often "
                         "keys are accessed (there is no LFU maxmemory policy)");
        return;
    }
    struct obj_params *p = mem_calloc(1, sizeof(*p));
    p->sub = which == 0 ? OBJ_ENCODING : OBJ_REFCOUNT;
    p->hash_entries = c->node->cfg.hash_max_listpack_entries;
    p->hash_value = c->node->cfg.hash_max_listpack_value;
    p->set_max_intset = c->node->cfg.set_max_intset_entries;
    p->zset_entries = c->node->cfg.zset_max_listpack_entries;
    p->zset_value = c->node->cfg.zset_max_listpack_value;
    cmd_read(c, &argv[2], object_fmt, p, mem_free);
}

/* ---- MEMORY USAGE key [SAMPLES count] / MEMORY HELP ---- */

#define MEM_KEY_OVERHEAD 64 /* the key's store entry and version headers */

static void memory_fmt(void *params, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    size_t klen = (size_t)(uintptr_t)params;
    uint64_t sum = 0;
    bool any = false;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct version *v = &set->v[i];
        if (!version_live(v, now))
            continue;
        any = true;
        sum += sizeof(struct val) + (val_is_typed(v->val) ? crdt_mem_bytes(tval_ccrdt(v->val))
                                                           : v->val->len);
    }
    if (!any)
        resp_add_null(out, proto);
    else
        resp_add_int(out, (long long)(sum + klen + MEM_KEY_OVERHEAD));
}

static const char *const memory_help[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return an estimate of the bytes the key's versions take on this node (the",
    "    values, the headers of each value, element and entry). SAMPLES is accepted",
    "    and ignored: every element is counted.",
    "HELP",
    "    Print this help.",
};

void cmd_memory(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        cmd_reply_help(c, memory_help, sizeof(memory_help) / sizeof(memory_help[0]));
        return;
    }
    if (!cmd_arg_eq(sub, "USAGE") || argc < 3) {
        cmd_reply_unknown_sub(c, "MEMORY", sub);
        return;
    }
    for (int j = 3; j < argc; j += 2) {
        long long samples;
        if (!cmd_arg_eq(&argv[j], "SAMPLES") || j + 1 >= argc) {
            cmd_reply_syntax(c);
            return;
        }
        if (!cmd_arg_ll(&argv[j + 1], &samples)) {
            cmd_reply_not_int(c);
            return;
        }
        if (samples < 0) {
            cmd_reply_syntax(c);
            return;
        }
    }
    cmd_read(c, &argv[2], memory_fmt, (void *)(uintptr_t)argv[2].len, NULL);
}
