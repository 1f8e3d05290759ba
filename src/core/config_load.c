/* config_load.c — filling struct cfg at startup: the config file, the
 * command-line flags, `node` and `seed` lines, and the cross-field rules
 * checked once everything is loaded (see config.h for the file format).
 *
 * Owns: the member and seed tables of struct cfg as the file gives them
 * (cfg.nodes, cfg.seeds: names unique, no two members sharing a port on
 * one host), and the precedence defaults < file < flags: the file named by
 * --config is read first wherever the flag appears, and cfg.flag_set
 * records which options came as flags so cfg_finish lets them beat the
 * selected node line.  Every option itself is parsed by the option table
 * in config.c (cfg_opt_set, through config_opt.h).
 *
 * Callers: main.c at startup (cfg_load_args, cfg_load_file through
 * --config, cfg_finish), DYNAMO JOIN (cfg_parse_address), the unit tests.
 * Not on the event loop except cfg_parse_address (bounded by one address):
 * cfg_load_file reads the file with blocking stdio, once, before the loop
 * starts.
 */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/config_opt.h"
#include "util/errors.h"
#include "util/mem.h"

/* ---- config file ------------------------------------------------------ */

#define MAX_ARGS 8

/* Splits line into at most MAX_ARGS words in place (every word is shorter
 * than its source text, so unquoting never overtakes the reader).  Words
 * are separated by blanks; "double" and 'single' quoted words may hold
 * blanks; inside double quotes \n \r \t \" \\ and \xHH are escapes, inside
 * single quotes only \'.  A closing quote must end the word.  Returns the
 * word count, or -1 with the reason in why. */
static int split_words(char *line, char **argv, const char **why)
{
    char *rd = line, *wr = line;
    int argc = 0;
    for (;;) {
        while (*rd && isspace((unsigned char)*rd))
            rd++;
        if (!*rd)
            return argc;
        if (argc == MAX_ARGS) {
            *why = "too many arguments";
            return -1;
        }
        argv[argc++] = wr;
        char q = (*rd == '"' || *rd == '\'') ? *rd++ : 0;
        for (;;) {
            if (!*rd) {
                if (q) {
                    *why = "unterminated quotes";
                    return -1;
                }
                *wr++ = '\0';
                break;
            }
            if (!q && isspace((unsigned char)*rd)) {
                rd++;
                *wr++ = '\0';
                break;
            }
            if (q && *rd == q) {
                rd++;
                if (*rd && !isspace((unsigned char)*rd)) {
                    *why = "closing quote must be followed by a space";
                    return -1;
                }
                *wr++ = '\0';
                break;
            }
            if (q == '"' && rd[0] == '\\' && rd[1]) {
                char e = rd[1];
                if (e == 'x' && isxdigit((unsigned char)rd[2]) && isxdigit((unsigned char)rd[3])) {
                    char hex[3] = {rd[2], rd[3], 0};
                    *wr++ = (char)strtol(hex, NULL, 16);
                    rd += 4;
                    continue;
                }
                *wr++ = e == 'n' ? '\n' : e == 'r' ? '\r' : e == 't' ? '\t' : e;
                rd += 2;
                continue;
            }
            if (q == '\'' && rd[0] == '\\' && rd[1] == '\'') {
                *wr++ = '\'';
                rd += 2;
                continue;
            }
            *wr++ = *rd++;
        }
    }
}

/* Splits "HOST:PORT" at its last ':' (host may not hold one). */
static bool parse_port(const char *s, int *port)
{
    long long v;
    if (!cfg_parse_ll(s, &v) || v < 1 || v > 65535)
        return false;
    *port = (int)v;
    return true;
}

/* HOST:PORT [CLUSTER-PORT] of a node or seed line into nd (name kept).
 * what names the line in messages ("node n1", "seed"). */
static int parse_address(struct cfg_node *nd, const char *hostport, const char *cport,
                         const char *what, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport)
        return cfg_fail(err, "%s%s: '%s' is not HOST:PORT", where, what, cfg_show(hostport, sv));
    size_t hlen = (size_t)(colon - hostport);
    if (hlen >= sizeof(nd->host))
        return cfg_fail(err, "%s%s: host is too long (at most %zu bytes)", where, what,
                    sizeof(nd->host) - 1);
    memcpy(nd->host, hostport, hlen);
    nd->host[hlen] = '\0';
    if (cfg_has_space_or_ctl(nd->host))
        return cfg_fail(err, "%s%s: host must not contain spaces or control characters", where, what);
    if (!parse_port(colon + 1, &nd->port))
        return cfg_fail(err, "%s%s: '%s' is not a port (1..65535)", where, what, cfg_show(colon + 1, sv));
    if (cport) {
        if (!parse_port(cport, &nd->cport))
            return cfg_fail(err, "%s%s: cluster port '%s' is not a port (1..65535)", where, what,
                        cfg_show(cport, sv));
    } else if (nd->port + 10000 > 65535) {
        return cfg_fail(err, "%s%s: cluster port %d + 10000 exceeds 65535; give it explicitly",
                    where, what, nd->port);
    } else {
        nd->cport = nd->port + 10000;
    }
    if (nd->cport == nd->port)
        return cfg_fail(err, "%s%s: cluster port must differ from the client port", where, what);
    return 0;
}

/* The listed node whose ports on nd's host overlap nd's, or -1. */
static int address_clash(const struct cfg *c, const struct cfg_node *nd)
{
    for (int i = 0; i < c->nnodes; i++) {
        const struct cfg_node *o = &c->nodes[i];
        if (strcmp(o->host, nd->host) == 0 &&
            (o->port == nd->port || o->port == nd->cport || o->cport == nd->port ||
             o->cport == nd->cport))
            return i;
    }
    return -1;
}

static int add_node(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    if (argc != 3 && argc != 4)
        return cfg_fail(err, "%snode: expected 'node NAME HOST:PORT [CLUSTER-PORT]'", where);
    const char *name = argv[1];
    if (!cfg_valid_name(name))
        return cfg_fail(err, "%snode: '%s' is not a valid node name (1 to %d of A-Z a-z 0-9 . _ : @ -)",
                    where, cfg_show(name, sv), CFG_NAME_MAX - 1);
    if (c->nnodes == CFG_MAX_NODES)
        return cfg_fail(err, "%snode: too many nodes (at most %d)", where, CFG_MAX_NODES);

    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    snprintf(nd.name, sizeof(nd.name), "%s", name);
    char what[CFG_NAME_MAX + 8];
    snprintf(what, sizeof(what), "node %s", name);
    int rc = parse_address(&nd, argv[2], argc == 4 ? argv[3] : NULL, what, where, err);
    if (rc)
        return rc;

    if (cfg_node_index(c, nd.name, strlen(nd.name)) >= 0)
        return cfg_fail(err, "%snode %s: duplicate node name", where, name);
    int k = address_clash(c, &nd);
    if (k >= 0) {
        const struct cfg_node *o = &c->nodes[k];
        return cfg_fail(err, "%snode %s: %s:%d/%d clashes with node %s (%s:%d/%d)", where, name,
                    nd.host, nd.port, nd.cport, o->name, o->host, o->port, o->cport);
    }
    c->nodes[c->nnodes++] = nd;
    return 0;
}

int cfg_parse_address(const char *hostport, const char *cport, struct cfg_node *out,
                      struct buf *err)
{
    memset(out, 0, sizeof(*out));
    return parse_address(out, hostport, cport, "address", "", err);
}

/* seed HOST:PORT [CLUSTER-PORT]: a node of the cluster to contact, by
 * address only (its name is learnt from its gossip). */
static int add_seed(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    if (argc != 2 && argc != 3)
        return cfg_fail(err, "%sseed: expected 'seed HOST:PORT [CLUSTER-PORT]'", where);
    if (c->nseeds == CFG_MAX_SEEDS)
        return cfg_fail(err, "%sseed: too many seeds (at most %d)", where, CFG_MAX_SEEDS);
    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    int rc = parse_address(&nd, argv[1], argc == 3 ? argv[2] : NULL, "seed", where, err);
    if (rc)
        return rc;
    c->seeds[c->nseeds++] = nd;
    return 0;
}

static int apply_directive(struct cfg *c, int argc, char **argv, const char *where, struct buf *err)
{
    char sv[SHOW_MAX];
    if (strcasecmp(argv[0], "node") == 0)
        return add_node(c, argc, argv, where, err);
    if (strcasecmp(argv[0], "seed") == 0)
        return add_seed(c, argc, argv, where, err);
    const struct opt *o = cfg_opt_find(argv[0]);
    if (!o)
        return cfg_fail(err, "%sunknown option '%s'", where, cfg_show(argv[0], sv));
    if (o->flags & OPT_F_FLAGONLY)
        return cfg_fail(err, "%s%s: only allowed as a command-line flag (--%s)", where, o->name, o->name);
    if (argc == 1)
        return cfg_fail(err, "%s%s: missing value", where, o->name);
    if (argc > 2)
        return cfg_fail(err, "%s%s: too many values (quote a value that contains spaces)", where,
                    o->name);
    return cfg_opt_set(c, o, argv[1], false, where, o->name, err);
}

int cfg_load_file(struct cfg *c, const char *path, struct buf *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cfg_fail(err, "%s: cannot open: %s", path, strerror(errno));

    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        char where[PATH_MAX + 32];
        snprintf(where, sizeof(where), "%s:%d: ", path, lineno);
        if (memchr(line, '\0', (size_t)len)) {
            rc = cfg_fail(err, "%sNUL byte in line", where);
            break;
        }
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '#' || *p == '\0')
            continue;
        char *argv[MAX_ARGS];
        const char *why = NULL;
        int argc = split_words(p, argv, &why);
        if (argc < 0) {
            rc = cfg_fail(err, "%s%s", where, why);
            break;
        }
        rc = apply_directive(c, argc, argv, where, err);
        if (rc)
            break;
    }
    if (rc == 0 && ferror(f))
        rc = cfg_fail(err, "%s: read error: %s", path, strerror(errno));
    free(line); /* from getline, not mem_alloc */
    fclose(f);
    if (rc == 0 && (!c->config_file || strcmp(c->config_file, path) != 0)) {
        mem_free(c->config_file);
        c->config_file = mem_strdup(path);
    }
    return rc;
}

/* ---- command line ----------------------------------------------------- */

struct flag_arg {
    const struct opt *o;
    const char *value;
};

int cfg_load_args(struct cfg *c, int argc, char **argv, bool *want_help, bool *want_version,
                  struct buf *err)
{
    char sv[SHOW_MAX];
    bool help = false, version = false;
    struct buf first;   /* first parse error, reported unless --help/--version */
    buf_init(&first);
    int rc = 0;
    struct flag_arg *fl = mem_calloc(argc > 0 ? (size_t)argc : 1, sizeof(*fl));
    int nfl = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            help = true;
            continue;
        }
        if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
            version = true;
            continue;
        }
        if (rc)
            continue; /* after an error, only look for --help/--version */
        if (strncmp(a, "--", 2) != 0) {
            rc = cfg_fail(&first, "unexpected argument '%s' (options are --name value)", cfg_show(a, sv));
            continue;
        }
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = cfg_opt_find_n(name, nlen);
        if (!o) {
            char nm[SHOW_MAX + 8];
            snprintf(nm, sizeof(nm), "%.*s", (int)(nlen < 64 ? nlen : 64), name);
            rc = cfg_fail(&first, "unknown option '--%s'", cfg_show(nm, sv));
            continue;
        }
        const char *value = eq ? eq + 1 : NULL;
        if (!value) {
            if (i + 1 >= argc) {
                rc = cfg_fail(&first, "--%s: missing value", o->name);
                continue;
            }
            value = argv[++i];
        }
        fl[nfl].o = o;
        fl[nfl].value = value;
        nfl++;
    }
    if (want_help)
        *want_help = help;
    if (want_version)
        *want_version = version;
    if (help || version) {
        rc = 0;
        goto out;
    }
    if (rc) {
        buf_append(err, first.data, first.len);
        goto out;
    }

    /* The file first, wherever --config appears, so flags override it. */
    for (int i = 0; i < nfl; i++) {
        if (fl[i].o->flags & OPT_F_FLAGONLY) {
            if (!fl[i].value[0]) {
                rc = cfg_fail(err, "--%s: must not be empty", fl[i].o->name);
                goto out;
            }
            rc = cfg_load_file(c, fl[i].value, err);
            if (rc)
                goto out;
        }
    }
    for (int i = 0; i < nfl; i++) {
        const struct opt *o = fl[i].o;
        if (o->flags & OPT_F_FLAGONLY)
            continue;
        char shown[64];
        snprintf(shown, sizeof(shown), "--%s", o->name);
        rc = cfg_opt_set(c, o, fl[i].value, false, "", shown, err);
        if (rc)
            goto out;
        c->flag_set |= UINT64_C(1) << cfg_opt_index(o);
    }
out:
    mem_free(fl);
    buf_fini(&first);
    return rc;
}

/* ---- cross-field rules ------------------------------------------------ */

static void list_names(const struct cfg *c, struct buf *err)
{
    for (int i = 0; i < c->nnodes; i++)
        buf_printf(err, "%s%s", i ? ", " : "", c->nodes[i].name);
}

/* --node NAME not among the node lines, with --port: append it, so it is
 * a member of its own table; the listed nodes learn of it through gossip. */
static int add_joining_node(struct cfg *c, struct buf *err)
{
    if (c->nnodes == CFG_MAX_NODES)
        return cfg_fail(err, "node: the cluster already has %d nodes", CFG_MAX_NODES);
    struct cfg_node nd;
    memset(&nd, 0, sizeof(nd));
    snprintf(nd.name, sizeof(nd.name), "%s", c->node_name);
    snprintf(nd.host, sizeof(nd.host), "%s", c->bind);
    nd.port = c->port;
    nd.cport = c->cluster_port ? c->cluster_port : c->port + 10000;
    if (nd.cport > 65535)
        return cfg_fail(err, "cluster-port: port %d + 10000 exceeds 65535; set cluster-port",
                    c->port);
    int k = address_clash(c, &nd);
    if (k >= 0)
        return cfg_fail(err, "node '%s': address %s:%d/%d is taken by node '%s'", nd.name, nd.host,
                    nd.port, nd.cport, c->nodes[k].name);
    c->nodes[c->nnodes++] = nd;
    return 0;
}

int cfg_finish(struct cfg *c, struct buf *err)
{
    if (c->nnodes == 0 && c->nseeds > 0) {
        /* Only seeds: this node is the one node its file lists. */
        if (!c->node_name[0])
            return cfg_fail(err, "seed lines need a name for this node: use --node NAME");
        int rc = add_joining_node(c, err);
        if (rc)
            return rc;
    }
    if (c->nnodes > 0) {
        int self = cfg_node_index(c, c->node_name, strlen(c->node_name));
        const struct cfg_node *me = self >= 0 ? &c->nodes[self] : NULL;
        if (!me && c->node_name[0] && ((c->flag_set & cfg_opt_bit("port")) || c->nseeds > 0)) {
            /* A new node: the listed nodes are its seeds. */
            int rc = add_joining_node(c, err);
            if (rc)
                return rc;
            me = &c->nodes[c->nnodes - 1];
        }
        if (!me) {
            char sv[SHOW_MAX];
            if (c->node_name[0])
                cfg_fail(err, "node '%s' is not defined in %s (to add a new node, also give --port "
                          "and --bind: it joins through the listed nodes); valid names: ",
                     cfg_show(c->node_name, sv), c->config_file ? c->config_file : "the config file");
            else
                cfg_fail(err, "no node selected: use --node NAME with one of: ");
            if (err)
                list_names(c, err);
            return KV_ECONFIG;
        }
        /* Flags beat the node line; the node line beats file-level values. */
        if (!(c->flag_set & cfg_opt_bit("bind")))
            snprintf(c->bind, sizeof(c->bind), "%s", me->host);
        if (!(c->flag_set & cfg_opt_bit("port")))
            c->port = me->port;
        if (!(c->flag_set & cfg_opt_bit("cluster-port")))
            c->cluster_port = me->cport;
    }
    if (c->cluster_port == 0) {
        if (c->port + 10000 > 65535)
            return cfg_fail(err, "cluster-port: port %d + 10000 exceeds 65535; set cluster-port",
                        c->port);
        c->cluster_port = c->port + 10000;
    }
    if (c->cluster_port == c->port)
        return cfg_fail(err, "cluster-port (%d) must differ from port", c->port);
    if (!c->node_name[0]) {
        char name[CFG_NAME_MAX + 80];
        snprintf(name, sizeof(name), "%s:%d", c->bind, c->port);
        if (!cfg_valid_name(name))
            return cfg_fail(err, "node: default name '%s' is not a valid node name; set --node", name);
        memcpy(c->node_name, name, strlen(name) + 1);
    }
    /* With seeds the cluster is larger than the nodes this file lists. */
    int q[CFG_Q_COUNT];
    cfg_quorum(c, q);
    return cfg_check_quorum(q, c->nseeds > 0 ? 0 : c->nnodes, "", err);
}
