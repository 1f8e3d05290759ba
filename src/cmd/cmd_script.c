/* cmd_script.c — FUNCTION and SCRIPT for a server that has no scripting
 * engine: the answers that are true of such a server (no libraries, no
 * cached scripts, nothing running), so tools and test suites that flush or
 * list them before they start work unchanged.  Loading a function or a
 * script is refused with an error saying there is no engine; EVAL, EVALSHA
 * and FCALL stay unknown commands.
 *
 * Owns nothing.  Callers: cmd.c (cmd_script_table).  Every reply is written
 * before the handler returns.
 */
#include <stdio.h>

#include "cmd/cmd.h"
#include "core/resp.h"
#include "net/server.h"

static const char NO_ENGINE[] = "dynamo-node has no scripting engine (no functions, no scripts)";

/* FLUSH's only options, as Redis checks them. */
static bool flush_args_ok(struct client *c, int argc, const struct arg *argv, const char *cmd)
{
    if (argc == 2 || (argc == 3 && (cmd_arg_eq(&argv[2], "SYNC") || cmd_arg_eq(&argv[2], "ASYNC"))))
        return true;
    char msg[96];
    snprintf(msg, sizeof(msg), "%s FLUSH only supports SYNC|ASYNC option", cmd);
    cmd_reply_err(c, msg);
    return false;
}

static void unknown_sub(struct client *c, const struct arg *sub, const char *cmd)
{
    char msg[160];
    snprintf(msg, sizeof(msg), "unknown subcommand '%.*s'. Try %s HELP.",
             (int)(sub->len > 64 ? 64 : sub->len), sub->p, cmd);
    cmd_reply_err(c, msg);
}

/* FUNCTION FLUSH [ASYNC|SYNC] | LIST [LIBRARYNAME pattern] [WITHCODE] |
 * STATS | DELETE name | KILL | LOAD/RESTORE/DUMP (refused) */
static void cmd_function(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "FLUSH")) {
        if (flush_args_ok(c, argc, argv, "FUNCTION"))
            cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "LIST")) {
        for (int i = 2; i < argc; i++) {
            if (cmd_arg_eq(&argv[i], "LIBRARYNAME") && i + 1 < argc) {
                i++;
            } else if (!cmd_arg_eq(&argv[i], "WITHCODE")) {
                cmd_reply_syntax(c);
                return;
            }
        }
        resp_add_array(&c->out, 0); /* no libraries */
    } else if (cmd_arg_eq(sub, "STATS") && argc == 2) {
        resp_add_map(&c->out, c->proto, 2);
        resp_add_cstr(&c->out, "running_script");
        resp_add_null(&c->out, c->proto);
        resp_add_cstr(&c->out, "engines");
        resp_add_map(&c->out, c->proto, 0);
    } else if (cmd_arg_eq(sub, "DELETE") && argc == 3) {
        cmd_reply_err(c, "Library not found");
    } else if (cmd_arg_eq(sub, "KILL") && argc == 2) {
        resp_add_error(&c->out, "NOTBUSY", "No scripts in execution right now.");
    } else if (cmd_arg_eq(sub, "LOAD") || cmd_arg_eq(sub, "RESTORE") ||
               cmd_arg_eq(sub, "DUMP")) {
        cmd_reply_err(c, NO_ENGINE);
    } else {
        unknown_sub(c, sub, "FUNCTION");
    }
}

/* SCRIPT FLUSH [ASYNC|SYNC] | EXISTS sha1 [sha1 ...] | KILL | LOAD (refused) */
static void cmd_script(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "FLUSH")) {
        if (flush_args_ok(c, argc, argv, "SCRIPT"))
            cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "EXISTS") && argc >= 3) {
        resp_add_array(&c->out, argc - 2);
        for (int i = 2; i < argc; i++)
            resp_add_int(&c->out, 0); /* no script is cached */
    } else if (cmd_arg_eq(sub, "KILL") && argc == 2) {
        resp_add_error(&c->out, "NOTBUSY", "No scripts in execution right now.");
    } else if (cmd_arg_eq(sub, "LOAD")) {
        cmd_reply_err(c, NO_ENGINE);
    } else {
        unknown_sub(c, sub, "SCRIPT");
    }
}

const struct cmd_def cmd_script_table[] = {
    {"function", -2, CMD_F_NOSCRIPT, 0, 0, 0, cmd_function, "scripting",
     "A container for function commands (there is no scripting engine: no libraries).",
     "subcommand(FLUSH|LIST|STATS|DELETE|KILL|LOAD|RESTORE|DUMP) arg*", "7.0.0"},
    {"script", -2, CMD_F_NOSCRIPT, 0, 0, 0, cmd_script, "scripting",
     "A container for Lua scripts management commands (there is no scripting engine: no "
     "cached scripts).",
     "subcommand(FLUSH|EXISTS|KILL|LOAD) arg*", "2.6.0"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL},
};
