/* cmd_conn.c — connection and server commands: PING, ECHO, QUIT, SELECT,
 * AUTH, HELLO, CLIENT, CONFIG, INFO.  Every reply is written before the
 * handler returns. */
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
#include "core/config.h"
#include "cluster/cluster.h"
#include "cluster/coord.h"
#include "util/clock.h"
#include "util/errors.h"
#include "node.h"
#include "net/peer.h"
#include "storage/aof.h"
#include "cluster/ae.h"
#include "core/gossip.h"
#include "cluster/handoff.h"
#include "core/siblings.h"
#include "cluster/reaper.h"
#include "core/ring.h"
#include "cluster/xfer.h"
#include <event2/event.h>
#include "core/resp.h"
#include "net/server.h"
#include "core/siblings.h"
#include "storage/store.h"
#include "util/log.h"
#include "util/mem.h"
#include "core/vclock.h"
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
        resp_add_array(&c->out, (long long)(sizeof(help) / sizeof(help[0])));
        for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++)
            resp_add_simple(&c->out, help[i]);
    } else {
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "CLIENT HELP.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
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
        cmd_reply_ok(c);
    } else if (cmd_arg_eq(sub, "REWRITE") && argc == 2) {
        cmd_reply_err(c, "CONFIG REWRITE is not supported: edit the config file");
    } else {
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. Try "
                        "CONFIG HELP.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
    }
}

/* ---- INFO ---- */

static void human_bytes(char *out, size_t n, size_t bytes)
{
    double b = (double)bytes;
    if (b < 1024)
        snprintf(out, n, "%zuB", bytes);
    else if (b < 1024.0 * 1024)
        snprintf(out, n, "%.2fK", b / 1024);
    else if (b < 1024.0 * 1024 * 1024)
        snprintf(out, n, "%.2fM", b / (1024.0 * 1024));
    else
        snprintf(out, n, "%.2fG", b / (1024.0 * 1024 * 1024));
}

static bool want_section(int argc, const struct arg *argv, const char *name, bool deflt)
{
    if (argc < 2)
        return deflt;
    for (int i = 1; i < argc; i++)
        if (cmd_arg_eq(&argv[i], name) || cmd_arg_eq(&argv[i], "all") || cmd_arg_eq(&argv[i], "everything") ||
            (deflt && cmd_arg_eq(&argv[i], "default")))
            return true;
    return false;
}

void cmd_info(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    int64_t now = clock_now_ms();
    if (want_section(argc, argv, "server", true)) {
        size_t alen;
        const char *an = vc_actor_name(n->actor, &alen);
        char actor_name[VC_MAX_ACTOR_LEN + 1];
        snprintf(actor_name, sizeof(actor_name), "%.*s", (int)alen, an);
        buf_printf(&b,
                   "# Server\r\nredis_version:%s\r\ndynamo_version:%s\r\nredis_mode:%s\r\n"
                   "os:Linux\r\narch_bits:64\r\nprocess_id:%d\r\nrun_id:%s\r\ntcp_port:%d\r\n"
                   "cluster_port:%d\r\nnode_name:%s\r\nclock_actor:%s\r\n"
                   "uptime_in_seconds:%lld\r\nuptime_in_days:%lld\r\nconfig_file:%s\r\n"
                   "clock_actors:%u\r\n\r\n",
                   REDIS_COMPAT_VERSION, DYNAMO_VERSION,
                   n->cfg.nnodes > 0 ? "cluster" : "standalone", (int)getpid(), n->run_id,
                   n->cfg.port, n->cfg.cluster_port, n->cfg.node_name,
                   actor_name, (long long)(time(NULL) - n->start_time),
                   (long long)(time(NULL) - n->start_time) / 86400,
                   n->cfg.config_file ? n->cfg.config_file : "", vc_actor_count());
    }
    if (want_section(argc, argv, "clients", true)) {
        const struct srv_stats *ss = srv_stats(n->srv);
        buf_printf(&b,
                   "# Clients\r\nconnected_clients:%u\r\ncluster_connections:%u\r\n"
                   "maxclients:%d\r\ncluster_maxclients:%d\r\n"
                   "pending_client_connections:%u\r\npending_cluster_connections:%u\r\n"
                   "max_pending_connections:%d\r\nmax_inflight_per_client:%d\r\n"
                   "inflight_peak_per_client:%llu\r\ninflight_waits:%llu\r\n"
                   "pending_evicted:%llu\r\nauth_timeouts:%llu\r\n"
                   "cluster_rejected_connections:%llu\r\nprotected_mode_denied:%llu\r\n"
                   "cross_protocol_closed:%llu\r\naccept_pauses:%llu\r\n\r\n",
                   srv_nclients(n->srv, SRV_CLIENT), srv_nclients(n->srv, SRV_PEER),
                   n->cfg.maxclients, n->cfg.cluster_maxclients,
                   srv_npending(n->srv, SRV_CLIENT), srv_npending(n->srv, SRV_PEER),
                   n->cfg.max_pending_connections, n->cfg.max_inflight_per_client,
                   (unsigned long long)ss->inflight_peak, (unsigned long long)ss->inflight_waits,
                   (unsigned long long)ss->evicted_pending, (unsigned long long)ss->auth_timeouts,
                   (unsigned long long)ss->cluster_rejected,
                   (unsigned long long)ss->protected_denied,
                   (unsigned long long)ss->cross_protocol, (unsigned long long)ss->accept_pauses);
    }
    if (want_section(argc, argv, "memory", true)) {
        size_t used = mem_used(), rss = mem_rss(), qb, ob;
        srv_buffer_totals(n->srv, &qb, &ob);
        char h1[32], h2[32];
        human_bytes(h1, sizeof(h1), used);
        human_bytes(h2, sizeof(h2), rss);
        buf_printf(&b,
                   "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\n"
                   "used_memory_rss:%zu\r\nused_memory_rss_human:%s\r\n"
                   "used_memory_store_overhead:%zu\r\nclients_query_buffers:%zu\r\n"
                   "clients_output_buffers:%zu\r\nmem_allocator:%s\r\n\r\n",
                   used, h1, rss, h2, store_overhead(n->store), qb, ob, mem_allocator());
    }
    if (want_section(argc, argv, "persistence", true)) {
        buf_printf(&b, "# Persistence\r\nloading:0\r\n");
        aof_info(n->aof, &b);
        buf_printf(&b, "\r\n");
    }
    if (want_section(argc, argv, "stats", true)) {
        const struct kv_stats *s = &n->stats;
        buf_printf(&b,
                   "# Stats\r\ntotal_connections_received:%llu\r\n"
                   "total_commands_processed:%llu\r\ntotal_net_input_bytes:%llu\r\n"
                   "total_net_output_bytes:%llu\r\nrejected_connections:%llu\r\n"
                   "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\n"
                   "protocol_errors:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n"
                   "sibling_reads:%llu\r\nexpired_keys:%llu\r\nsibling_warnings:%llu\r\n"
                   "sibling_writes_refused:%llu\r\n\r\n",
                   (unsigned long long)s->connections_received,
                   (unsigned long long)s->commands_processed,
                   (unsigned long long)s->net_input_bytes,
                   (unsigned long long)s->net_output_bytes,
                   (unsigned long long)s->rejected_connections,
                   (unsigned long long)s->keyspace_hits, (unsigned long long)s->keyspace_misses,
                   (unsigned long long)s->protocol_errors,
                   (unsigned long long)s->output_limit_disconnections,
                   (unsigned long long)s->sibling_reads, (unsigned long long)s->expired_keys,
                   (unsigned long long)coord_stats(n->coord)->sibling_warnings,
                   (unsigned long long)coord_stats(n->coord)->sibling_writes_refused);
    }
    if (want_section(argc, argv, "cluster", true)) {
        const struct coord_stats *cs = coord_stats(n->coord);
        struct hh_stats hs = {0, 0, 0, 0};
        if (n->hh)
            hh_stats(n->hh, &hs);
        unsigned long long sent = 0, failed = 0, answered = 0, lat = 0;
        if (n->peers)
            peers_stats(n->peers, &sent, &failed, &answered, &lat);
        int up = 0;
        for (int i = 0; i < n->cfg.nnodes; i++)
            up += coord_node_up(n->coord, i);
        buf_printf(&b,
                   "# Cluster\r\nring_version:%llu\r\nring_nodes:%u\r\nnodes_known:%d\r\n"
                   "nodes_reachable:%d\r\n"
                   "n:%d\r\nw:%d\r\nr:%d\r\nforwarded_requests:%llu\r\n"
                   "quorum_failures:%llu\r\npeer_requests:%llu\r\npeer_failures:%llu\r\n"
                   "replica_answers:%llu\r\nreplica_latency_avg_us:%llu\r\n"
                   "hinted_writes:%llu\r\nhints_pending:%llu\r\nhints_stored:%llu\r\n"
                   "hints_delivered:%llu\r\nhints_refused:%llu\r\nread_repairs:%llu\r\n",
                   (unsigned long long)ring_version(n->ring), ring_nmembers(n->ring),
                   n->cfg.nnodes > 0 ? n->cfg.nnodes : 1, n->cfg.nnodes > 0 ? up : 1, n->cfg.n, n->cfg.w, n->cfg.r,
                   (unsigned long long)cs->forwarded, (unsigned long long)cs->quorum_failures,
                   sent, failed, (unsigned long long)cs->replica_answers,
                   cs->replica_answers
                       ? (unsigned long long)(cs->replica_latency_us / cs->replica_answers)
                       : 0ULL,
                   (unsigned long long)cs->hinted_writes, (unsigned long long)hs.pending,
                   (unsigned long long)hs.stored, (unsigned long long)hs.delivered,
                   (unsigned long long)hs.refused, (unsigned long long)cs->read_repairs);
        ae_info(n->ae, &b);
        xfer_info(n->xfer, &b);
        reaper_info(n->reaper, &b);
        buf_printf(&b, "\r\n");
    }
    if (want_section(argc, argv, "keyspace", true)) {
        buf_printf(&b, "# Keyspace\r\n");
        size_t live = cmd_count_live(n->store);
        if (live > 0)
            buf_printf(&b, "db0:keys=%zu,expires=0,avg_ttl=0,stored_keys=%zu\r\n", live,
                       store_count(n->store));
        buf_printf(&b, "\r\n");
    }
    (void)now;
    if (b.len >= 2)
        b.len -= 2; /* no blank line after the last section */
    resp_add_verbatim(&c->out, c->proto, "txt", b.data ? b.data : "", b.len);
    buf_fini(&b);
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

/* ---- DYNAMO: cluster administration ---- */

static void dynamo_nodes(struct client *c)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    if (n->cfg.nnodes == 0) {
        resp_add_array(&c->out, 1);
        buf_printf(&b, "%s %s:%d link=self", n->cfg.node_name, n->cfg.bind, n->cfg.port);
        resp_add_bulk(&c->out, b.data, b.len);
    } else {
        resp_add_array(&c->out, n->cfg.nnodes);
        int64_t now = clock_mono_us() / 1000;
        for (int i = 0; i < n->cfg.nnodes; i++) {
            b.len = 0;
            peers_describe(n->peers, i, &b);
            if (n->gossip)
                buf_printf(&b, " gossip=%s generation=%llu heartbeat=%llu silent_ms=%lld",
                           gossip_state_name(gossip_state(n->gossip, i)),
                           (unsigned long long)gossip_generation(n->gossip, i),
                           (unsigned long long)gossip_heartbeat(n->gossip, i),
                           i == n->self_idx ? 0LL
                                            : (long long)gossip_silence_ms(n->gossip, i, now));
            buf_printf(&b, " up=%d ring=%s", coord_node_up(n->coord, i) ? 1 : 0,
                       n->gossip ? gossip_status_name(gossip_status(n->gossip, i))
                                 : "member");
            resp_add_bulk(&c->out, b.data, b.len);
        }
    }
    buf_fini(&b);
}

static void dynamo_ring(struct client *c)
{
    const struct ring *r = c->node->ring;
    struct buf b;
    buf_init(&b);
    unsigned nn = ring_nnodes(r);
    resp_add_array(&c->out, ring_nmembers(r) + 1);
    buf_printf(&b, "version=%llu nodes=%u vnodes-per-node=%u tokens=%zu",
               (unsigned long long)ring_version(r), ring_nmembers(r), ring_vnodes(r),
               ring_ntokens(r));
    resp_add_bulk(&c->out, b.data, b.len);
    for (unsigned i = 0; i < nn; i++) {
        if (!ring_is_member(r, i))
            continue;
        b.len = 0;
        buf_printf(&b, "%s ownership=%.4f", ring_node_name(r, i), ring_ownership(r, i));
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

static void dynamo_preflist(struct client *c, const struct arg *key)
{
    struct kv_node *n = c->node;
    unsigned pl[CFG_MAX_NODES];
    unsigned np = coord_preflist(n->coord, key->p, key->len, pl);
    int target = coord_write_target(n->coord, key->p, key->len);
    resp_add_array(&c->out, np);
    struct buf b;
    buf_init(&b);
    for (unsigned i = 0; i < np; i++) {
        b.len = 0;
        buf_printf(&b, "%s%s", ring_node_name(n->ring, pl[i]),
                   (int)pl[i] == target ? " coordinator" : "");
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

/* One line per node this node holds hints for. */
static void dynamo_hints(struct client *c)
{
    struct kv_node *n = c->node;
    struct buf b;
    buf_init(&b);
    int rows = 0;
    for (int i = 0; n->hh && i < n->cfg.nnodes; i++)
        rows += hh_pending_for(n->hh, i) > 0 || hh_delivered_to(n->hh, i) > 0;
    resp_add_array(&c->out, rows);
    for (int i = 0; n->hh && i < n->cfg.nnodes; i++) {
        uint64_t p = hh_pending_for(n->hh, i), d = hh_delivered_to(n->hh, i);
        if (!p && !d)
            continue;
        b.len = 0;
        buf_printf(&b, "%s pending=%llu delivered=%llu", n->cfg.nodes[i].name,
                   (unsigned long long)p, (unsigned long long)d);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
}

/* The versions this node itself holds for key, readable (no quorum). */
static void dynamo_local(struct client *c, const struct arg *key)
{
    struct sibset set;
    sib_init(&set);
    coord_local_load(c->node->coord, key->p, key->len, &set);
    resp_add_array(&c->out, set.n);
    struct buf b;
    buf_init(&b);
    int64_t now = clock_now_ms();
    for (uint32_t i = 0; i < set.n; i++) {
        const struct version *v = &set.v[i];
        b.len = 0;
        if (!v->val)
            buf_printf(&b, "tombstone ");
        else if (!version_live(v, now))
            buf_printf(&b, "expired ");
        else
            buf_printf(&b, "value=%.*s ", (int)(v->val->len > 64 ? 64 : v->val->len),
                       v->val->data);
        vc_format(&v->vc, &b);
        resp_add_bulk(&c->out, b.data, b.len);
    }
    buf_fini(&b);
    sib_fini(&set);
}

/* Divergence of this node's replicas from each peer's, as of the last
 * Merkle comparison (anti-entropy runs every anti-entropy-interval). */
static void dynamo_check(struct client *c)
{
    struct buf b;
    buf_init(&b);
    int lines = 0;
    ae_check(c->node->ae, &b, &lines);
    resp_add_array(&c->out, lines);
    const char *p = b.data;
    for (int i = 0; i < lines; i++) {
        const char *nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
        resp_add_bulk(&c->out, p, (size_t)(nl - p));
        p = nl + 1;
    }
    buf_fini(&b);
}

static void dynamo_join(struct client *c, int argc, const struct arg *argv)
{
    struct kv_node *n = c->node;
    if (!n->gossip) {
        resp_add_error(&c->out, "ERR", "this node runs without a cluster: start it with --node "
                                       "NAME and node or seed lines to join one");
        return;
    }
    char *hp = cmd_arg_dup(&argv[2]);
    char *cp = argc > 3 ? cmd_arg_dup(&argv[3]) : NULL;
    struct cfg_node addr;
    struct buf err;
    buf_init(&err);
    int rc;
    if (cfg_parse_address(hp, cp, &addr, &err) != 0) {
        buf_putc(&err, '\0');
        resp_add_errorf(&c->out, "ERR", "DYNAMO JOIN: %s", err.data);
    } else if ((rc = cluster_join(n, addr.host, addr.cport)) == KV_ENOTFOUND) {
        resp_add_error(&c->out, "ERR", "DYNAMO JOIN: give the address as numeric IPv4 "
                                       "(host names are not resolved at run time)");
    } else if (rc != 0) {
        resp_add_error(&c->out, "ERR", "DYNAMO JOIN: too many seeds");
    } else {
        log_info("DYNAMO JOIN %s:%d requested by client %s", addr.host, addr.port, c->addr);
        cmd_reply_ok(c);
    }
    buf_fini(&err);
    mem_free(hp);
    mem_free(cp);
}

static void dynamo_leave(struct client *c)
{
    struct kv_node *n = c->node;
    if (!n->gossip) {
        resp_add_error(&c->out, "ERR", "this node is not part of a cluster");
        return;
    }
    log_info("DYNAMO LEAVE requested by client %s", c->addr);
    cluster_leave(n);
    cmd_reply_ok(c);
}

static void dynamo_remove(struct client *c, const struct arg *name)
{
    struct kv_node *n = c->node;
    int rc = cluster_remove(n, name->p, name->len);
    if (rc == KV_ENOTFOUND)
        resp_add_errorf(&c->out, "ERR", "no node named '%.*s' in the membership table",
                        (int)(name->len > 64 ? 64 : name->len), name->p);
    else if (rc == KV_EINVAL)
        resp_add_error(&c->out, "ERR", "a node cannot remove itself: use DYNAMO LEAVE");
    else
        cmd_reply_ok(c);
}

void cmd_dynamo(struct client *c, int argc, const struct arg *argv)
{
    const struct arg *sub = &argv[1];
    if (cmd_arg_eq(sub, "NODES") && argc == 2)
        dynamo_nodes(c);
    else if (cmd_arg_eq(sub, "HINTS") && argc == 2)
        dynamo_hints(c);
    else if (cmd_arg_eq(sub, "LOCAL") && argc == 3)
        dynamo_local(c, &argv[2]);
    else if (cmd_arg_eq(sub, "CHECK") && argc == 2)
        dynamo_check(c);
    else if (cmd_arg_eq(sub, "RING") && argc == 2)
        dynamo_ring(c);
    else if (cmd_arg_eq(sub, "PREFLIST") && argc == 3)
        dynamo_preflist(c, &argv[2]);
    else if (cmd_arg_eq(sub, "LEAVE") && argc == 2)
        dynamo_leave(c);
    else if (cmd_arg_eq(sub, "JOIN") && (argc == 3 || argc == 4))
        dynamo_join(c, argc, argv);
    else if (cmd_arg_eq(sub, "REMOVE") && argc == 3)
        dynamo_remove(c, &argv[2]);
    else
        resp_add_errorf(&c->out, "ERR",
                        "unknown subcommand or wrong number of arguments for '%.*s'. "
                        "Try NODES, RING, PREFLIST key, HINTS, LOCAL key, CHECK, "
                        "JOIN host:port [cluster-port], LEAVE or REMOVE node.",
                        (int)(sub->len > 64 ? 64 : sub->len), sub->p);
}
