/* cmd_object.c — OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP.
 *
 * Owns nothing: ENCODING and REFCOUNT answer from a quorum read of the key
 * (cmd_read, the same read as GET: siblings are an error, a missing or
 * expired key is nil); IDLETIME and FREQ are refused (no access times or
 * frequencies are tracked).
 * Callers: the command table in cmd_keyspace.c (cmd_object).
 * Calls: cmd_read, cmd_rmw_current, cmd_arg_ll.  Nothing blocks: the read
 * answers later into the connection's reserved reply slot.
 */
#include <stdint.h>

#include "cmd/cmd.h"
#include "core/resp.h"
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

static void object_fmt(void *params, const struct sibset *set, int64_t now, int proto,
                       struct buf *out)
{
    enum obj_sub sub = (enum obj_sub)(intptr_t)params;
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
    cmd_read(c, &argv[2], object_fmt, (void *)(intptr_t)(which == 0 ? OBJ_ENCODING : OBJ_REFCOUNT),
             NULL);
}
