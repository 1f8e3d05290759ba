/* cmd_object.c — OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP, and
 * MEMORY USAGE / HELP.
 *
 * Owns nothing: ENCODING, REFCOUNT and MEMORY USAGE answer from a quorum
 * read of the key (cmd_read, the same read as GET: siblings are an error, a
 * missing or expired key is nil); IDLETIME and FREQ are refused (no access
 * times or frequencies are tracked).
 * Typed keys (issue 14) have one representation whatever their size (no
 * compact form for small collections, unlike Redis's listpacks and
 * intsets): ENCODING answers "hashtable" for a hash or a set, "skiplist"
 * for a sorted set, and for a counter what Redis would for its value's
 * text (int, embstr, raw).
 * MEMORY USAGE is this node's estimate of the bytes the key takes in a
 * replica's store: the key and per-version overhead, the value bytes or a
 * typed state's heap (crdt_mem_bytes), and the version clocks.  SAMPLES is
 * accepted and ignored (the count is exact, not sampled).
 * Callers: the command table in cmd_keyspace.c (cmd_object, cmd_memory).
 * Calls: cmd_read, cmd_rmw_current, typed_classify, cmd_arg_ll.  Nothing
 * blocks: the read answers later into the connection's reserved reply slot.
 */
#include <stdint.h>

#include "cmd/cmd.h"
#include "cmd/typed.h"
#include "core/crdt.h"
#include "core/resp.h"
#include "core/tval.h"
#include "net/server.h"
#include "core/siblings.h"
#include "util/buf.h"
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

/* A typed key's encoding (see the top). */
static const char *typed_encoding(const struct val *v)
{
    switch (tval_type(v)) {
    case CRDT_HASH:
    case CRDT_SET:
        return "hashtable";
    case CRDT_ZSET:
        return "skiplist";
    default: {
        struct val *s = typed_counter_string(v);
        const char *e = string_encoding(s);
        val_unref(s);
        return e;
    }
    }
}

static void object_fmt(void *params, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    enum obj_sub sub = (enum obj_sub)(intptr_t)params;
    enum crdt_type t;
    const struct version *tv;
    if (typed_classify(set, now, &t, &tv) == TYPED_STATE) {
        if (sub == OBJ_ENCODING)
            resp_add_cstr(out, typed_encoding(tv->val));
        else
            resp_add_int(out, 1);
        return;
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
    "    Return the kind of internal representation Redis would use for the value",
    "    stored at <key>: int, embstr or raw for a string or a counter, hashtable for",
    "    a hash or a set, skiplist for a sorted set (no compact forms are kept).",
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
    cmd_read(c, &argv[2], object_fmt, (void *)(intptr_t)(which == 0 ? OBJ_ENCODING : OBJ_REFCOUNT),
             NULL);
}

/* ---- MEMORY USAGE key [SAMPLES count] ---- */

/* Per key: the store entry's header and hash-table slot; per version: its
 * value header and packed clock (about 16 bytes an actor). */
#define MEM_KEY_OVERHEAD 48
#define MEM_VERSION_OVERHEAD 24
#define MEM_CLOCK_ENTRY 16

static void memory_fmt(void *params, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    size_t klen = (size_t)(uintptr_t)params;
    if (sib_live_count(set, now) == 0) {
        resp_add_null(out, proto);
        return;
    }
    size_t bytes = MEM_KEY_OVERHEAD + klen;
    for (uint32_t i = 0; i < set->n; i++) {
        const struct version *v = &set->v[i];
        bytes += MEM_VERSION_OVERHEAD + (size_t)v->vc.n * MEM_CLOCK_ENTRY;
        if (val_is_typed(v->val))
            bytes += sizeof(struct val) + 16 + sizeof(struct crdt) +
                     crdt_mem_bytes(tval_ccrdt(v->val));
        else if (v->val)
            bytes += sizeof(struct val) + v->val->len;
    }
    resp_add_int(out, (long long)bytes);
}

static const char *const memory_help[] = {
    "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "USAGE <key> [SAMPLES <count>]",
    "    Return this node's estimate of the bytes <key> and its value take in a",
    "    replica's store (exact count; SAMPLES is ignored).",
    "HELP",
    "    Print this help.",
};

void cmd_memory(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        size_t n = sizeof(memory_help) / sizeof(memory_help[0]);
        resp_add_array(&c->out, (long long)n);
        for (size_t i = 0; i < n; i++)
            resp_add_simple(&c->out, memory_help[i]);
        return;
    }
    if (!cmd_arg_eq(sub, "USAGE") || argc < 3) {
        cmd_reply_unknown_sub(c, "MEMORY", sub);
        return;
    }
    for (int i = 3; i < argc; i += 2) {
        long long samples;
        if (!cmd_arg_eq(&argv[i], "SAMPLES") || i + 1 >= argc) {
            cmd_reply_syntax(c);
            return;
        }
        if (!cmd_arg_ll(&argv[i + 1], &samples)) {
            cmd_reply_not_int(c);
            return;
        }
    }
    cmd_read(c, &argv[2], memory_fmt, (void *)(uintptr_t)argv[2].len, NULL);
}
