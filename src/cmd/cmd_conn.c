/* cmd_conn.c — connection and server commands: PING, ECHO, QUIT, SELECT,
 * AUTH, HELLO, CLIENT, CONFIG, BGREWRITEAOF, SHUTDOWN, LATENCY and SLOWLOG
 * (answered by cmd_latency.c with the node's statistics; INFO is in
 * cmd_info.c, DYNAMO in cmd_dynamo.c).
 * Owns nothing but the connection's own fields these commands set (name,
 * protocol, authenticated).
 * Callers: the command table in cmd.c.
 * Calls: cfg_get_raw/cfg_get/cfg_set (CONFIG; the modules read the changed
 * options themselves), srv_client_list/info (CLIENT), aof_rewrite_start
 * (BGREWRITEAOF), event_base_loopexit (SHUTDOWN).
 * Every reply is written before the handler returns; nothing blocks. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmd_latency.h"
#include "core/config.h"
#include "util/errors.h"
#include "cmd/node.h"
#include "storage/aof.h"
#include <event2/event.h>
#include "core/resp.h"
#include "net/server.h"
#include "util/log.h"
#include "util/mem.h"

/* ---- connection commands ---- */

void cmd_ping(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 2) {
        cmd_reply_arity(c, "ping");
        return;
    }
    if (argc == 2)
        resp_add_bulk(&c->out, argv[1].p, argv[1].len);
    else
        buf_put(&c->out, RESP_PONG, 7);
}

void cmd_echo(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    resp_add_bulk(&c->out, argv[1].p, argv[1].len);
}

void cmd_quit(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    cmd_reply_ok(c);
    srv_client_close_after_reply(c);
}

void cmd_select(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    long long db;
    if (!cmd_arg_ll(&argv[1], &db)) {
        cmd_reply_not_int(c);
        return;
    }
    if (db != 0) {
        cmd_reply_err(c, "DB index is out of range (dynamo-node has one keyspace: SELECT 0)");
        return;
    }
    cmd_reply_ok(c);
}

static bool check_password(struct client *c, const struct arg *pass)
{
    const char *want = c->node->cfg.requirepass;
    size_t wl = strlen(want);
    /* constant-time over the configured length */
    unsigned diff = (unsigned)(pass->len ^ wl);
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned)(want[i] ^ (i < pass->len ? pass->p[i] : 0));
    return diff == 0;
}

void cmd_auth(struct client *c, int argc, const struct arg *argv)
{
    if (argc > 3) {
        cmd_reply_syntax(c);
        return;
    }
    const char *want = c->node->cfg.requirepass;
    if (!want || !*want) {
        cmd_reply_err(c, "AUTH <password> called without any password configured for the default "
                     "user. Are you sure your configuration is correct?");
        return;
    }
    const struct arg *pass = &argv[argc - 1];
    if (argc == 3 && !cmd_arg_eq(&argv[1], "default")) {
        resp_add_error(&c->out, "WRONGPASS",
                       "invalid username-password pair or user is disabled.");
        return;
    }
    if (!check_password(c, pass)) {
        resp_add_error(&c->out, "WRONGPASS",
                       "invalid username-password pair or user is disabled.");
        return;
    }
    c->flags |= CLI_F_AUTHED;
    cmd_reply_ok(c);
}

static void set_str(char **dst, const struct arg *a)
{
    mem_free(*dst);
    *dst = a->len ? cmd_arg_dup(a) : NULL;
}

static bool valid_client_name(const struct arg *a)
{
    for (size_t i = 0; i < a->len; i++)
        if (a->p[i] < '!' || a->p[i] > '~')
            return false;
    return true;
}

static void hello_reply(struct client *c)
{
    struct kv_node *n = c->node;
    resp_add_map(&c->out, c->proto, 7);
    resp_add_cstr(&c->out, "server");
    resp_add_cstr(&c->out, "redis");
    resp_add_cstr(&c->out, "version");
    resp_add_cstr(&c->out, REDIS_COMPAT_VERSION);
    resp_add_cstr(&c->out, "proto");
    resp_add_int(&c->out, c->proto);
    resp_add_cstr(&c->out, "id");
    resp_add_int(&c->out, (long long)c->id);
    resp_add_cstr(&c->out, "mode");
    resp_add_cstr(&c->out, n->cfg.nnodes > 0 ? "cluster" : "standalone");
    resp_add_cstr(&c->out, "role");
    resp_add_cstr(&c->out, "master");
    resp_add_cstr(&c->out, "modules");
    resp_add_array(&c->out, 0);
}

void cmd_hello(struct client *c, int argc, const struct arg *argv)
{
    int proto = c->proto;
    int i = 1;
    if (argc >= 2) {
        long long v;
        if (!cmd_arg_ll(&argv[1], &v)) {
            cmd_reply_err(c, "Protocol version is not an integer or out of range");
            return;
        }
        if (v != 2 && v != 3) {
            resp_add_error(&c->out, "NOPROTO", "unsupported protocol version");
            return;
        }
        proto = (int)v;
        i = 2;
    }
    const struct arg *setname = NULL;
    bool authed_now = false;
    for (; i < argc; i++) {
        if (cmd_arg_eq(&argv[i], "AUTH") && i + 2 < argc) {
            const char *want = c->node->cfg.requirepass;
            if (!want || !*want || !cmd_arg_eq(&argv[i + 1], "default") ||
                !check_password(c, &argv[i + 2])) {
                resp_add_error(&c->out, "WRONGPASS",
                               "invalid username-password pair or user is disabled.");
                return;
            }
            authed_now = true;
            i += 2;
        } else if (cmd_arg_eq(&argv[i], "SETNAME") && i + 1 < argc) {
            if (!valid_client_name(&argv[i + 1])) {
                cmd_reply_err(c, "Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            setname = &argv[++i];
        } else {
            resp_add_errorf(&c->out, "ERR", "Syntax error in HELLO option '%.*s'",
                            (int)(argv[i].len > 64 ? 64 : argv[i].len), argv[i].p);
            return;
        }
    }
    if (authed_now)
        c->flags |= CLI_F_AUTHED;
    if (!(c->flags & CLI_F_AUTHED)) {
        resp_add_error(&c->out, "NOAUTH", "HELLO must be called with the client already "
                                          "authenticated, otherwise the HELLO <proto> AUTH "
                                          "<user> <pass> option can be used to authenticate "
                                          "the client and select the RESP protocol version at "
                                          "the same time");
        return;
    }
    if (setname)
        set_str(&c->name, setname);
    c->proto = proto;
    hello_reply(c);
}

void cmd_client(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "SETNAME") && argc == 3) {
        if (!valid_client_name(&argv[2])) {
            cmd_reply_err(c, "Client names cannot contain spaces, newlines or special characters.");
            return;
        }
        set_str(&c->name, &argv[2]);
        cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "GETNAME") && argc == 2) {
        if (c->name)
            resp_add_cstr(&c->out, c->name);
        else
            cmd_reply_null(c);
    } else if (cmd_arg_eq(sub, "ID") && argc == 2) {
        resp_add_int(&c->out, (long long)c->id);
    } else if (cmd_arg_eq(sub, "SETINFO") && argc == 4) {
        if (cmd_arg_eq(&argv[2], "LIB-NAME")) {
            if (!valid_client_name(&argv[3])) {
                cmd_reply_err(c, "lib-name cannot contain spaces, newlines or special characters.");
                return;
            }
            set_str(&c->lib_name, &argv[3]);
        } else if (cmd_arg_eq(&argv[2], "LIB-VER")) {
            if (!valid_client_name(&argv[3])) {
                cmd_reply_err(c, "lib-ver cannot contain spaces, newlines or special characters.");
                return;
            }
            set_str(&c->lib_ver, &argv[3]);
        } else {
            resp_add_errorf(&c->out, "ERR", "Unrecognized option '%.*s'",
                            (int)(argv[2].len > 64 ? 64 : argv[2].len), argv[2].p);
            return;
        }
        cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "LIST") && argc == 2) {
        struct buf b;
        buf_init(&b);
        srv_client_list(c->srv, &b);
        resp_add_verbatim(&c->out, c->proto, "txt", b.data, b.len);
        buf_fini(&b);
    } else if (cmd_arg_eq(sub, "INFO") && argc == 2) {
        struct buf b;
        buf_init(&b);
        srv_client_info(c, &b);
        resp_add_verbatim(&c->out, c->proto, "txt", b.data, b.len);
        buf_fini(&b);
    } else if (cmd_arg_eq(sub, "HELP") && argc == 2) {
        static const char *help[] = {
            "CLIENT <subcommand> [<arg> ...]. Subcommands are:",
            "GETNAME", "    Return the name of the current connection.",
            "ID", "    Return the ID of the current connection.",
            "INFO", "    Return information about the current client connection.",
            "LIST", "    Return information about client connections.",
            "SETINFO <LIB-NAME|LIB-VER> <value>", "    Set client library name or version.",
            "SETNAME <name>", "    Assign the name <name> to the current connection.",
        };
        cmd_reply_help(c, help, sizeof(help) / sizeof(help[0]));
    } else {
        cmd_reply_unknown_sub(c, "CLIENT", sub);
    }
}

/* ---- CONFIG ---- */

struct cfg_get_ctx {
    struct buf items;
    long long n;
};

static void config_get_one(void *arg, const char *name, const char *value)
{
    (void)name;
    char **out = arg;
    if (!*out)
        *out = mem_strdup(value);
}

/* CONFIG SET name value [name value ...]: all or nothing, as in Redis 7 —
 * on the first failure the options already applied get their old values. */
static void config_set(struct client *c, int argc, const struct arg *argv)
{
    struct cfg *cfg = &c->node->cfg;
    int npairs = (argc - 2) / 2;
    char **names = mem_calloc((size_t)npairs, sizeof(*names));
    char **olds = mem_calloc((size_t)npairs, sizeof(*olds));
    struct buf err;
    buf_init(&err);
    int applied = 0, rc = 0;
    for (int i = 0; i < npairs && rc == 0; i++) {
        names[i] = cmd_arg_dup(&argv[2 + 2 * i]);
        for (char *p = names[i]; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        for (int j = 0; j < i; j++)
            if (strcmp(names[j], names[i]) == 0) {
                buf_printf(&err, "duplicate parameter '%s'", names[i]);
                rc = KV_EINVAL;
            }
        if (rc)
            break;
        cfg_get_raw(cfg, names[i], config_get_one, &olds[i]); /* secrets too */
        char *value = cmd_arg_dup(&argv[3 + 2 * i]);
        rc = cfg_set(cfg, names[i], value, true, &err);
        mem_free(value);
        if (rc == 0)
            applied++;
    }
    if (rc != 0) {
        struct buf ignore;
        buf_init(&ignore);
        for (int i = applied - 1; i >= 0; i--)
            if (olds[i])
                cfg_set(cfg, names[i], olds[i], true, &ignore);
        buf_fini(&ignore);
        buf_putc(&err, '\0');
        resp_add_errorf(&c->out, "ERR", "CONFIG SET failed: %s", err.data);
    } else {
        log_set_level(cfg->loglevel);
        cmd_reply_ok(c);
    }
    for (int i = 0; i < npairs; i++) {
        mem_free(names[i]);
        mem_free(olds[i]);
    }
    mem_free(names);
    mem_free(olds);
    buf_fini(&err);
}

static void config_get_item(void *arg, const char *name, const char *value)
{
    struct cfg_get_ctx *g = arg;
    resp_add_cstr(&g->items, name);
    resp_add_cstr(&g->items, value);
    g->n++;
}

void cmd_config(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "GET") && argc >= 3) {
        struct cfg_get_ctx g = {.n = 0};
        buf_init(&g.items);
        for (int i = 2; i < argc; i++) {
            char *pat = cmd_arg_dup(&argv[i]);
            cfg_get(&c->node->cfg, pat, config_get_item, &g);
            mem_free(pat);
        }
        resp_add_map(&c->out, c->proto, g.n);
        buf_put(&c->out, g.items.data ? g.items.data : "", g.items.len);
        buf_fini(&g.items);
    } else if (cmd_arg_eq(sub, "SET") && argc >= 4 && argc % 2 == 0) {
        config_set(c, argc, argv);
    } else if (cmd_arg_eq(sub, "RESETSTAT") && argc == 2) {
        memset(&c->node->stats, 0, sizeof(c->node->stats));
        srv_traffic_reset(c->node->srv);
        cmd_lat_reset(c->node->cmdstats);
        cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "REWRITE") && argc == 2) {
        cmd_reply_err(c, "CONFIG REWRITE is not supported: edit the config file");
    } else {
        cmd_reply_unknown_sub(c, "CONFIG", sub);
    }
}

/* ---- LATENCY, SLOWLOG (cmd_latency.c answers) ---- */

void cmd_latency(struct client *c, int argc, const struct arg *argv)
{
    cmd_lat_latency(c->node->cmdstats, c, argc, argv);
}

void cmd_slowlog(struct client *c, int argc, const struct arg *argv)
{
    cmd_lat_slowlog(c->node->cmdstats, c, argc, argv);
}

/* ---- BGREWRITEAOF ---- */

void cmd_bgrewriteaof(struct client *c, int argc, const struct arg *argv)
{
    (void)argc;
    (void)argv;
    if (!c->node->aof) {
        cmd_reply_err(c, "the append-only log is off (appendonly no)");
        return;
    }
    int rc = aof_rewrite_start(c->node->aof);
    if (rc == -EBUSY)
        cmd_reply_err(c, "Background append only file rewriting already in progress");
    else if (rc < 0)
        resp_add_errorf(&c->out, "ERR", "cannot start the rewrite: %s", strerror(-rc));
    else
        resp_add_simple(&c->out, "Background append only file rewriting started");
}

/* ---- SHUTDOWN ---- */

void cmd_shutdown(struct client *c, int argc, const struct arg *argv)
{
    for (int i = 1; i < argc; i++)
        if (!cmd_arg_eq(&argv[i], "NOSAVE") && !cmd_arg_eq(&argv[i], "SAVE") &&
            !cmd_arg_eq(&argv[i], "NOW") && !cmd_arg_eq(&argv[i], "FORCE")) {
            cmd_reply_syntax(c);
            return;
        }
    log_info("SHUTDOWN requested by client %s", c->addr);
    c->node->shutdown_asap = 1;
    event_base_loopexit(c->node->base, NULL);
    /* Redis closes the connection without a reply on success. */
    srv_client_close_after_reply(c);
}
