/* test_config.c — unit tests for the option table: defaults, file parsing,
 * every kind of bad file, flags, cross-field rules, CONFIG GET/SET, glob. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "util/errors.h"

/* ---- helpers ---------------------------------------------------------- */

static char tmp_path[64];

/* Writes text to a fresh temp file; returns its path (static storage). */
static const char *write_tmp(const char *text)
{
    snprintf(tmp_path, sizeof(tmp_path), "/tmp/test_config_XXXXXX");
    int fd = mkstemp(tmp_path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return tmp_path;
}

static const char *err_str(struct buf *err)
{
    buf_putc(err, '\0');
    err->len--;
    return err->data;
}

static void assert_contains(const char *hay, const char *needle)
{
    if (!hay || !strstr(hay, needle)) {
        print_error("expected \"%s\" in \"%s\"\n", needle, hay ? hay : "(null)");
        fail();
    }
}

static const char cluster_file[] =
    "# three local nodes\n"
    "n 3\n"
    "w 2\n"
    "r 2\n"
    "\n"
    "   # indented comment\n"
    "vnodes-per-node 64\n"
    "put-timeout 2500\n"
    "cluster-secret \"s3cret with spaces\"\n"
    "loglevel WARNING\n"
    "proto-max-bulk-len 1mb\n"
    "client-output-buffer-limit 0\n"
    "node n1 127.0.0.1:7001\n"
    "node n2 127.0.0.1:7002 27002\r\n"
    "\tnode   n3   127.0.0.1:7003\n";

/* Loads text as a config file; returns the rc, message in err. */
static int load_text(struct cfg *c, const char *text, struct buf *err)
{
    const char *path = write_tmp(text);
    int rc = cfg_load_file(c, path, err);
    unlink(path);
    return rc;
}

/* ---- CONFIG GET helper ------------------------------------------------ */

struct got {
    int count;
    char names[128][40];
    char values[128][96];
};

static void collect(void *arg, const char *name, const char *value)
{
    struct got *g = arg;
    assert_true(g->count < 128);
    snprintf(g->names[g->count], sizeof(g->names[0]), "%s", name);
    snprintf(g->values[g->count], sizeof(g->values[0]), "%s", value);
    g->count++;
}

static const char *get1(const struct cfg *c, const char *name)
{
    static struct got g;
    memset(&g, 0, sizeof(g));
    cfg_get(c, name, collect, &g);
    for (int i = 0; i < g.count; i++)
        if (strcmp(g.names[i], name) == 0)
            return g.values[i];
    return NULL;
}

/* ---- tests ------------------------------------------------------------ */

static void test_defaults(void **state)
{
    (void)state;
    struct cfg c;
    cfg_init(&c);
    assert_string_equal(c.bind, "127.0.0.1");
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.cluster_port, 0);
    assert_null(c.config_file);
    assert_string_equal(c.dir, ".");
    assert_string_equal(c.logfile, "");
    assert_int_equal(c.loglevel, 2);
    assert_string_equal(c.requirepass, "");
    assert_string_equal(c.cluster_secret, "");
    assert_int_equal(c.n, 1);
    assert_int_equal(c.w, 1);
    assert_int_equal(c.r, 1);
    assert_int_equal(c.vnodes_per_node, 128);
    assert_int_equal(c.put_timeout_ms, 5000);
    assert_int_equal(c.get_timeout_ms, 5000);
    assert_int_equal(c.gossip_interval_ms, 1000);
    assert_int_equal(c.vclock_max_entries, 50);
    assert_true(c.proto_max_bulk_len == 512LL * 1024 * 1024);
    assert_true(c.max_multibulk_len == 1024 * 1024);
    assert_true(c.client_query_buffer_limit == 1024LL * 1024 * 1024);
    assert_true(c.client_output_buffer_limit == 64LL * 1024 * 1024);
    assert_int_equal(c.maxclients, 10000);
    assert_int_equal(c.timeout, 0);
    assert_int_equal(c.tcp_backlog, 511);
    assert_int_equal(c.nnodes, 0);

    struct buf err;
    buf_init(&err);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_int_equal(c.cluster_port, 17001);
    assert_string_equal(c.node_name, "127.0.0.1:7001");
    buf_fini(&err);
    cfg_fini(&c);
    cfg_fini(&c); /* idempotent */

    struct cfg z;
    memset(&z, 0, sizeof(z));
    cfg_fini(&z); /* zeroed memory */
}

static void test_file_valid(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    cfg_init(&c);
    buf_init(&err);
    assert_int_equal(load_text(&c, cluster_file, &err), 0);
    assert_int_equal(err.len, 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.w, 2);
    assert_int_equal(c.r, 2);
    assert_int_equal(c.vnodes_per_node, 64);
    assert_int_equal(c.put_timeout_ms, 2500);
    assert_string_equal(c.cluster_secret, "s3cret with spaces");
    assert_int_equal(c.loglevel, 3);
    assert_true(c.proto_max_bulk_len == 1024 * 1024);
    assert_true(c.client_output_buffer_limit == 0);
    assert_non_null(c.config_file);
    assert_int_equal(c.nnodes, 3);
    assert_string_equal(c.nodes[0].name, "n1");
    assert_string_equal(c.nodes[0].host, "127.0.0.1");
    assert_int_equal(c.nodes[0].port, 7001);
    assert_int_equal(c.nodes[0].cport, 17001);
    assert_int_equal(c.nodes[1].port, 7002);
    assert_int_equal(c.nodes[1].cport, 27002);
    assert_string_equal(c.nodes[2].name, "n3");
    assert_int_equal(c.nodes[2].cport, 17003);

    /* Selecting n2 takes its address. */
    assert_int_equal(cfg_set(&c, "node", "n2", false, &err), 0);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_string_equal(c.node_name, "n2");
    assert_int_equal(c.port, 7002);
    assert_int_equal(c.cluster_port, 27002);
    assert_string_equal(c.bind, "127.0.0.1");
    buf_fini(&err);
    cfg_fini(&c);
}

static void test_quoting(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    cfg_init(&c);
    buf_init(&err);
    assert_int_equal(load_text(&c,
                               "requirepass \"a\\\"b\\\\c\\x41\\n\"\n"
                               "cluster-secret 'it\\'s'\n"
                               "logfile \"\"\n"
                               "dir \"/var/lib/dynamo node\"\n",
                               &err),
                     0);
    assert_string_equal(c.requirepass, "a\"b\\cA\n");
    assert_string_equal(c.cluster_secret, "it's");
    assert_string_equal(c.logfile, "");
    assert_string_equal(c.dir, "/var/lib/dynamo node");
    buf_fini(&err);
    cfg_fini(&c);
}

static void test_memory_units(void **state)
{
    (void)state;
    static const struct { const char *in; long long want; } ok[] = {
        {"1024", 1024}, {"1b", 1}, {"1k", 1000}, {"1kb", 1024}, {"2m", 2000000},
        {"512mb", 512LL << 20}, {"1g", 1000000000LL}, {"1GB", 1LL << 30}, {"3Mb", 3LL << 20},
    };
    static const char *const bad[] = {"", "mb", "1.5gb", "1 mb", "1tb", "-1", "12x",
                                      "99999999999gb", "+5"};
    struct cfg c;
    struct buf err;
    cfg_init(&c);
    buf_init(&err);
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(cfg_set(&c, "proto-max-bulk-len", ok[i].in, false, &err), 0);
        assert_true(c.proto_max_bulk_len == ok[i].want);
        char want[32];
        snprintf(want, sizeof(want), "%lld", ok[i].want);
        assert_string_equal(get1(&c, "proto-max-bulk-len"), want);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err.len = 0;
        assert_int_equal(cfg_set(&c, "proto-max-bulk-len", bad[i], false, &err), KV_ECONFIG);
        assert_contains(err_str(&err), "proto-max-bulk-len: ");
    }
    buf_fini(&err);
    cfg_fini(&c);
}

struct bad_case {
    const char *text;
    const char *want; /* substring of the message after "path:" */
};

static void test_file_errors(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"n 3\nbogus 1\n", ":2: unknown option 'bogus'"},
        {"port\n", ":1: port: missing value"},
        {"# c\n\nport 70x\n", ":3: port: '70x' is not an integer"},
        {"port 70000\n", ":1: port: 70000 is out of range (1..65535)"},
        {"port 0\n", ":1: port: 0 is out of range"},
        {"port 7001 7002\n", ":1: port: too many values"},
        {"n 0\n", ":1: n: 0 is out of range"},
        {"n 65\n", ":1: n: 65 is out of range"},
        {"put-timeout -5\n", ":1: put-timeout: -5 is out of range"},
        {"loglevel loud\n", ":1: loglevel: 'loud' is not one of debug, verbose, notice, warning"},
        {"proto-max-bulk-len 12xb\n", ":1: proto-max-bulk-len: '12xb' is not a size"},
        {"requirepass \"abc\n", ":1: unterminated quotes"},
        {"requirepass 'abc\n", ":1: unterminated quotes"},
        {"requirepass \"abc\"def\n", ":1: closing quote must be followed by a space"},
        {"config other.conf\n", ":1: config: only allowed as a command-line flag"},
        {"save 900 1\n", ":1: save: too many values"},
        {"save \"900 1\"\n", ":1: save: read-only option"},
        {"appendonly maybe\n", ":1: appendonly: 'maybe' is not one of no, yes"},
        {"appendfsync sometimes\n", ":1: appendfsync: 'sometimes' is not one of always, everysec, no"},
        {"dir \"\"\n", ":1: dir: must not be empty"},
        {"bind \"1.2.3.4 5\"\n", ":1: bind: '1.2.3.4 5' must not contain spaces"},
        {"node n1\n", ":1: node: expected 'node NAME HOST:PORT [CLUSTER-PORT]'"},
        {"node n1 127.0.0.1:7001 17001 extra\n", ":1: node: expected"},
        {"node n1 127.0.0.1\n", ":1: node n1: '127.0.0.1' is not HOST:PORT"},
        {"node n1 :7001\n", ":1: node n1: ':7001' is not HOST:PORT"},
        {"node n1 127.0.0.1:0\n", ":1: node n1: '0' is not a port"},
        {"node n1 127.0.0.1:abc\n", ":1: node n1: 'abc' is not a port"},
        {"node n1 127.0.0.1:7001 99999\n", ":1: node n1: cluster port '99999' is not a port"},
        {"node n1 127.0.0.1:60000\n", ":1: node n1: cluster port 60000 + 10000 exceeds 65535"},
        {"node n1 127.0.0.1:7001 7001\n", ":1: node n1: cluster port must differ"},
        {"node bad/name 127.0.0.1:7001\n", ":1: node: 'bad/name' is not a valid node name"},
        {"node n1 127.0.0.1:7001\nnode n1 127.0.0.1:7002\n", ":2: node n1: duplicate node name"},
        {"node n1 127.0.0.1:7001\nnode n2 127.0.0.1:7001\n",
         ":2: node n2: 127.0.0.1:7001/17001 clashes with node n1"},
        {"node n1 127.0.0.1:7001\nnode n2 127.0.0.1:17001\n", ":2: node n2: 127.0.0.1:17001"},
        {"seed\n", ":1: seed: expected 'seed HOST:PORT [CLUSTER-PORT]'"},
        {"seed 127.0.0.1\n", ":1: seed: '127.0.0.1' is not HOST:PORT"},
        {"seed 127.0.0.1:70000\n", ":1: seed: '70000' is not a port"},
        {"seed 127.0.0.1:7001 7001\n", ":1: seed: cluster port must differ"},
        {"n 2\na b c d e f g h i\n", ":2: too many arguments"},
        {"port \"7\x01\"\n", ":1: port: '7?' is not an integer"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct cfg c;
        struct buf err;
        cfg_init(&c);
        buf_init(&err);
        const char *path = write_tmp(cases[i].text);
        int rc = cfg_load_file(&c, path, &err);
        if (rc != KV_ECONFIG) {
            print_error("case %zu (%s) accepted\n", i, cases[i].text);
            fail();
        }
        const char *msg = err_str(&err);
        /* Starts with the path and names the line and reason. */
        assert_int_equal(strncmp(msg, path, strlen(path)), 0);
        assert_contains(msg + strlen(path), cases[i].want);
        assert_null(strchr(msg, '\n'));
        assert_null(strchr(msg, '\r'));
        unlink(path);
        buf_fini(&err);
        cfg_fini(&c);
    }

    /* Too many nodes. */
    struct buf text, err;
    buf_init(&text);
    buf_init(&err);
    for (int i = 0; i <= CFG_MAX_NODES; i++)
        buf_printf(&text, "node n%d 127.0.0.1:%d\n", i, 2000 + i);
    buf_putc(&text, '\0');
    struct cfg c;
    cfg_init(&c);
    assert_int_equal(load_text(&c, text.data, &err), KV_ECONFIG);
    assert_contains(err_str(&err), ":65: node: too many nodes (at most 64)");
    cfg_fini(&c);

    /* Missing file. */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(cfg_load_file(&c, "/nonexistent/x.conf", &err), KV_ECONFIG);
    assert_contains(err_str(&err), "/nonexistent/x.conf: cannot open");
    cfg_fini(&c);
    buf_fini(&text);
    buf_fini(&err);
}

static int run_args(struct cfg *c, struct buf *err, bool *help, bool *version, int argc,
                    const char **argv)
{
    return cfg_load_args(c, argc, (char **)argv, help, version, err);
}

#define ARGS(...) (int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)), \
                  (const char *[]){__VA_ARGS__}

static void test_flags_override_file(void **state)
{
    (void)state;
    const char *path = write_tmp(cluster_file);
    char cpath[64];
    snprintf(cpath, sizeof(cpath), "%s", path);
    struct cfg c;
    struct buf err;
    bool help, version;
    cfg_init(&c);
    buf_init(&err);
    /* --w comes before --config: the file must still not override it. */
    int rc = run_args(&c, &err, &help, &version,
                      ARGS("dynamo-node", "--w", "3", "--node=n3", "--config", cpath,
                           "--put-timeout=100", "--port", "9000", "--requirepass=", "--loglevel",
                           "debug"));
    assert_int_equal(rc, 0);
    assert_false(help);
    assert_false(version);
    assert_int_equal(c.w, 3);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.put_timeout_ms, 100);
    assert_int_equal(c.loglevel, 0);
    assert_string_equal(c.requirepass, "");
    assert_string_equal(c.config_file, cpath);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_string_equal(c.node_name, "n3");
    assert_int_equal(c.port, 9000);          /* flag beats node line */
    assert_int_equal(c.cluster_port, 17003); /* node line beats derivation */
    assert_string_equal(c.bind, "127.0.0.1");
    cfg_fini(&c);

    /* --cluster-port beats the node line too. */
    cfg_init(&c);
    rc = run_args(&c, &err, &help, &version,
                  ARGS("dynamo-node", "--config", cpath, "--node", "n1", "--cluster-port=30001"));
    assert_int_equal(rc, 0);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_int_equal(c.port, 7001);
    assert_int_equal(c.cluster_port, 30001);
    cfg_fini(&c);
    unlink(cpath);
    buf_fini(&err);
}

static void test_flag_errors(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    bool help = false, version = false;
    buf_init(&err);

    cfg_init(&c);
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--port", "1", "--bogus", "1")),
                     KV_ECONFIG);
    assert_contains(err_str(&err), "unknown option '--bogus'");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--bogus=2")), KV_ECONFIG);
    assert_contains(err_str(&err), "unknown option '--bogus'");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--port=70x")), KV_ECONFIG);
    assert_contains(err_str(&err), "--port: '70x' is not an integer");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--gossip-interval", "5")),
                     KV_ECONFIG);
    assert_contains(err_str(&err), "--gossip-interval: 5 is out of range (10..60000)");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--port")), KV_ECONFIG);
    assert_contains(err_str(&err), "--port: missing value");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "stray")), KV_ECONFIG);
    assert_contains(err_str(&err), "unexpected argument 'stray'");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--save", "")), KV_ECONFIG);
    assert_contains(err_str(&err), "--save: read-only option");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--config", "/nonexistent.conf")),
                     KV_ECONFIG);
    assert_contains(err_str(&err), "/nonexistent.conf: cannot open");
    cfg_fini(&c);

    /* --help / --version win even over bad flags, and load nothing. */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--bogus", "--config", "/nonexistent", "-h")), 0);
    assert_true(help);
    assert_false(version);
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--version")), 0);
    assert_false(help);
    assert_true(version);
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "-v")), 0);
    assert_true(version);
    assert_int_equal(err.len, 0);
    cfg_fini(&c);
    buf_fini(&err);
}

static void test_finish_rules(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    bool help, version;
    buf_init(&err);
    const char *path = write_tmp(cluster_file);
    char cpath[64];
    snprintf(cpath, sizeof(cpath), "%s", path);

    /* w > n */
    cfg_init(&c);
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n1", "--n", "2", "--w", "3")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "w (3) must be between 1 and n (2)");
    cfg_fini(&c);

    /* r > n */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n1", "--n", "2", "--w",
                                   "1", "--r", "3")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "r (3) must be between 1 and n (2)");
    cfg_fini(&c);

    /* n > nodes */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n1", "--n", "4")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "n (4) must not exceed the number of nodes (3)");
    cfg_fini(&c);

    /* node not in the file: lists the valid names */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n9")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "node 'n9' is not defined in");
    assert_contains(err_str(&err), "valid names: n1, n2, n3");
    assert_contains(err_str(&err), "to add a new node, also give --port");
    cfg_fini(&c);

    /* ... but with --port it is a new node joining through the listed ones:
     * appended to the node list with its own address. */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n9", "--bind", "127.0.0.9",
                                   "--port", "7009")), 0);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_int_equal(c.nnodes, 4);
    assert_string_equal(c.nodes[3].name, "n9");
    assert_string_equal(c.nodes[3].host, "127.0.0.9");
    assert_int_equal(c.nodes[3].port, 7009);
    assert_int_equal(c.nodes[3].cport, 17009);
    assert_int_equal(c.cluster_port, 17009);
    assert_int_equal(c.dead_node_evict_ms, 0); /* eviction is off by default */
    cfg_fini(&c);

    /* A new node may not take a listed node's address. */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--config", cpath, "--node", "n9", "--port", "7002")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "is taken by node 'n2'");
    cfg_fini(&c);

    /* Only seed lines: this node is the one node of its file, however large
     * n is (the cluster it joins is larger); without --node it is refused. */
    {
        const char *spath = write_tmp("seed 127.0.0.1:7001\nseed 10.0.0.2:7001 17999\nn 3\n");
        char sp[64];
        snprintf(sp, sizeof(sp), "%s", spath);
        cfg_init(&c);
        err.len = 0;
        assert_int_equal(run_args(&c, &err, &help, &version,
                                  ARGS("x", "--config", sp, "--node", "n7", "--port", "7007")), 0);
        assert_int_equal(cfg_finish(&c, &err), 0);
        assert_int_equal(c.nseeds, 2);
        assert_string_equal(c.seeds[1].host, "10.0.0.2");
        assert_int_equal(c.seeds[0].cport, 17001);
        assert_int_equal(c.seeds[1].cport, 17999);
        assert_int_equal(c.nnodes, 1);
        assert_string_equal(c.nodes[0].name, "n7");
        assert_int_equal(c.nodes[0].port, 7007);
        assert_int_equal(c.n, 3);
        cfg_fini(&c);
        cfg_init(&c);
        err.len = 0;
        assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--config", sp)), 0);
        assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
        assert_contains(err_str(&err), "seed lines need a name for this node");
        cfg_fini(&c);
        unlink(sp);
    }

    /* dead-node-evict-after: milliseconds, a runtime option. */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(cfg_set(&c, "dead-node-evict-after", "60000", true, &err), 0);
    assert_int_equal(c.dead_node_evict_ms, 60000);
    assert_int_equal(cfg_set(&c, "dead-node-evict-after", "-1", true, &err), KV_ECONFIG);
    cfg_fini(&c);

    /* no --node at all */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--config", cpath)), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "use --node NAME with one of: n1, n2, n3");
    cfg_fini(&c);

    /* invalid node name as a flag */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--node", "a b")), KV_ECONFIG);
    assert_contains(err_str(&err), "--node: 'a b' is not a valid node name");
    cfg_fini(&c);

    /* no nodes: w > n still refused; cluster port derivation overflow */
    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--w", "2")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "w (2) must be between 1 and n (1)");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version, ARGS("x", "--port", "60000")), 0);
    assert_int_equal(cfg_finish(&c, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "port 60000 + 10000 exceeds 65535");
    cfg_fini(&c);

    cfg_init(&c);
    err.len = 0;
    assert_int_equal(run_args(&c, &err, &help, &version,
                              ARGS("x", "--port", "60000", "--cluster-port", "60001", "--node",
                                   "solo", "--n", "3", "--w", "2", "--r", "2")), 0);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_string_equal(c.node_name, "solo");
    assert_int_equal(c.cluster_port, 60001);
    cfg_fini(&c);

    unlink(cpath);
    buf_fini(&err);
}

/* A cluster member without cluster-secret refuses CONFIG SET requirepass
 * (its cluster port would bypass the password); clearing it, the file and
 * single nodes are unaffected. */
static void test_requirepass_needs_secret(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    buf_init(&err);
    cfg_init(&c);
    assert_int_equal(load_text(&c, "node n1 127.0.0.1:7001\n", &err), 0);
    assert_int_equal(cfg_set(&c, "requirepass", "pw", true, &err), KV_ECONFIG);
    assert_non_null(strstr(err_str(&err), "cluster-secret"));
    assert_true(!c.requirepass || !c.requirepass[0]);
    err.len = 0;
    assert_int_equal(cfg_set(&c, "requirepass", "", true, &err), 0);
    assert_int_equal(cfg_set(&c, "requirepass", "pw", false, &err), 0); /* startup: main.c checks */
    assert_int_equal(cfg_set(&c, "cluster-secret", "k", false, &err), 0);
    assert_int_equal(cfg_set(&c, "requirepass", "pw2", true, &err), 0);
    cfg_fini(&c);
    cfg_init(&c); /* no cluster */
    assert_int_equal(cfg_set(&c, "requirepass", "pw", true, &err), 0);
    cfg_fini(&c);
    buf_fini(&err);
}

static void test_runtime_set_get(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    cfg_init(&c);
    buf_init(&err);
    assert_int_equal(load_text(&c, cluster_file, &err), 0);
    assert_int_equal(cfg_set(&c, "node", "n1", false, &err), 0);
    assert_int_equal(cfg_finish(&c, &err), 0);
    assert_false(c.changed_quorum);

    /* tunables */
    assert_int_equal(cfg_set(&c, "W", "3", true, &err), 0);
    assert_int_equal(c.w, 3);
    assert_true(c.changed_quorum);
    c.changed_quorum = false;
    assert_int_equal(cfg_set(&c, "get-timeout", "777", true, &err), 0);
    assert_true(c.changed_quorum);
    assert_string_equal(get1(&c, "get-timeout"), "777");
    c.changed_quorum = false;
    assert_int_equal(cfg_set(&c, "maxclients", "50", true, &err), 0);
    assert_false(c.changed_quorum);
    assert_int_equal(cfg_set(&c, "client-query-buffer-limit", "2mb", true, &err), 0);
    assert_string_equal(get1(&c, "client-query-buffer-limit"), "2097152");
    assert_int_equal(cfg_set(&c, "requirepass", "hunter2", true, &err), 0);
    assert_string_equal(get1(&c, "requirepass"), ""); /* never revealed (issue 11) */
    assert_string_equal(c.requirepass, "hunter2");
    assert_int_equal(cfg_set(&c, "loglevel", "verbose", true, &err), 0);
    assert_string_equal(get1(&c, "loglevel"), "verbose");
    assert_int_equal(err.len, 0);

    /* cross-field rules against current values (n 3, w 3, r 2) */
    assert_int_equal(cfg_set(&c, "n", "2", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "w (3) must be between 1 and n (2)");
    assert_int_equal(c.n, 3);
    err.len = 0;
    assert_int_equal(cfg_set(&c, "n", "4", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "n (4) must not exceed the number of nodes (3)");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "r", "4", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "r (4) must be between 1 and n (3)");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "w", "2", true, &err), 0);
    assert_int_equal(cfg_set(&c, "n", "2", true, &err), 0);

    /* refusals */
    c.changed_quorum = false;
    err.len = 0;
    assert_int_equal(cfg_set(&c, "port", "7005", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "port: can't be changed at runtime");
    assert_int_equal(c.port, 7001);
    err.len = 0;
    assert_int_equal(cfg_set(&c, "vnodes-per-node", "8", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "can't be changed at runtime");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "save", "", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "save: read-only option");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "nope", "1", true, &err), KV_ENOTFOUND);
    assert_contains(err_str(&err), "unknown option 'nope'");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "timeout", "-1", true, &err), KV_ECONFIG);
    assert_contains(err_str(&err), "timeout: -1 is out of range");
    err.len = 0;
    assert_int_equal(cfg_set(&c, "timeout", "1\r\nEVIL", true, &err), KV_ECONFIG);
    assert_null(strchr(err_str(&err), '\r'));
    assert_null(strchr(err_str(&err), '\n'));
    assert_false(c.changed_quorum);

    /* CONFIG GET formatting */
    assert_string_equal(get1(&c, "port"), "7001");
    assert_string_equal(get1(&c, "bind"), "127.0.0.1");
    assert_string_equal(get1(&c, "node"), "n1");
    /* Secrets are parsed but never reported (issue 11). */
    assert_string_equal(c.cluster_secret, "s3cret with spaces");
    assert_string_equal(get1(&c, "cluster-secret"), "");
    assert_string_equal(get1(&c, "requirepass"), "");
    assert_int_equal(cfg_set(&c, "requirepass", "pw", true, &err), 0);
    assert_string_equal(get1(&c, "requirepass"), "");
    assert_string_equal(c.requirepass, "pw");
    {
        struct got raw;
        memset(&raw, 0, sizeof(raw));
        cfg_get_raw(&c, "requirepass", collect, &raw);
        assert_int_equal(raw.count, 1);
        assert_string_equal(raw.values[0], "pw");
    }
    assert_string_equal(get1(&c, "cluster-bind"), "");
    assert_string_equal(cfg_cluster_bind(&c), c.bind);
    assert_string_equal(get1(&c, "proto-max-bulk-len"), "1048576");
    assert_string_equal(get1(&c, "save"), "");
    assert_string_equal(get1(&c, "appendonly"), "yes");
    assert_string_equal(get1(&c, "appendfsync"), "everysec");
    assert_int_equal(cfg_set(&c, "appendfsync", "always", true, &err), 0);
    assert_string_equal(get1(&c, "appendfsync"), "always");
    assert_int_not_equal(cfg_set(&c, "appendonly", "no", true, &err), 0);
    assert_string_equal(get1(&c, "databases"), "1");
    assert_string_equal(get1(&c, "logfile"), "");
    assert_non_null(get1(&c, "config"));

    struct got g;
    memset(&g, 0, sizeof(g));
    cfg_get(&c, "*", collect, &g);
    assert_true(g.count >= 28);
    memset(&g, 0, sizeof(g));
    cfg_get(&c, "*-TIMEOUT", collect, &g); /* case-insensitive */
    assert_int_equal(g.count, 2);
    assert_string_equal(g.names[0], "put-timeout");
    assert_string_equal(g.names[1], "get-timeout");
    memset(&g, 0, sizeof(g));
    cfg_get(&c, "[nwr]", collect, &g);
    assert_int_equal(g.count, 3);
    memset(&g, 0, sizeof(g));
    cfg_get(&c, "nosuch*", collect, &g);
    assert_int_equal(g.count, 0);

    buf_fini(&err);
    cfg_fini(&c);
}

/* Redis 7.0's older option names answer for the new ones, both ways. */
static void test_aliases(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    buf_init(&err);
    cfg_init(&c);
    assert_string_equal(get1(&c, "hash-max-listpack-value"), "64");
    assert_string_equal(get1(&c, "hash-max-ziplist-value"), "64");
    assert_string_equal(get1(&c, "hash-max-ziplist-entries"), "128");
    assert_int_equal(cfg_set(&c, "HASH-MAX-ZIPLIST-VALUE", "10", true, &err), 0);
    assert_int_equal(c.hash_max_listpack_value, 10);
    assert_string_equal(get1(&c, "hash-max-listpack-value"), "10");
    assert_int_equal(cfg_set(&c, "hash-max-listpack-entries", "5", true, &err), 0);
    assert_string_equal(get1(&c, "hash-max-ziplist-entries"), "5");
    assert_int_equal(cfg_set(&c, "hash-max-ziplist-entries", "-1", true, &err), KV_ECONFIG);
    struct got g;
    memset(&g, 0, sizeof(g));
    cfg_get(&c, "hash-max-*", collect, &g);
    assert_int_equal(g.count, 4);
    buf_fini(&err);
    cfg_fini(&c);
}

static void test_usage(void **state)
{
    (void)state;
    struct buf out;
    buf_init(&out);
    cfg_usage(&out);
    buf_putc(&out, '\0');
    static const char *const names[] = {
        "--node", "--bind", "--port", "--cluster-port", "--config", "--dir", "--logfile",
        "--loglevel", "--requirepass", "--cluster-secret", "--n ", "--w ", "--r ",
        "--vnodes-per-node", "--put-timeout", "--get-timeout", "--gossip-interval",
        "--vclock-max-entries", "--proto-max-bulk-len", "--max-multibulk-len",
        "--client-query-buffer-limit", "--client-output-buffer-limit", "--maxclients",
        "--timeout", "--tcp-backlog", "--help", "--version",
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_contains(out.data, names[i]);
    assert_contains(out.data, "(default: 7001)");
    assert_contains(out.data, "(default: 512mb)");
    assert_null(strstr(out.data, "--save"));
    buf_fini(&out);
}

struct glob_case {
    const char *pat, *str;
    bool nocase, want;
};

static void test_glob(void **state)
{
    (void)state;
    static const struct glob_case cases[] = {
        {"*", "", false, true},
        {"*", "anything", false, true},
        {"", "", false, true},
        {"", "a", false, false},
        {"a", "", false, false},
        {"p*t", "port", false, true},
        {"p*t", "put-timeout", false, true},
        {"p*t", "pt", false, true},
        {"p*t", "ports", false, false},
        {"*timeout", "get-timeout", false, true},
        {"h?llo", "hello", false, true},
        {"h?llo", "hllo", false, false},
        {"h*llo", "hllo", false, true},
        {"h[ae]llo", "hallo", false, true},
        {"h[ae]llo", "hillo", false, false},
        {"h[^e]llo", "hallo", false, true},
        {"h[^e]llo", "hello", false, false},
        {"[a-c]", "b", false, true},
        {"[a-c]", "d", false, false},
        {"[c-a]", "b", false, true},    /* reversed range */
        {"[a-c]", "B", false, false},
        {"[a-c]", "B", true, true},
        {"[A-C]", "b", true, true},
        {"HELLO", "hello", true, true},
        {"HELLO", "hello", false, false},
        {"\\*", "*", false, true},
        {"\\*", "a", false, false},
        {"a\\?c", "a?c", false, true},
        {"a\\?c", "abc", false, false},
        {"[\\]]", "]", false, true},
        {"[\\-]", "-", false, true},
        {"[a\\-z]", "b", false, false},
        {"ab\\", "ab\\", false, true},  /* trailing backslash is literal */
        {"[abc", "a", false, true},     /* unterminated set runs to the end */
        {"[abc", "d", false, false},
        {"[]", "a", false, false},
        {"x[]", "x", false, false},
        {"a*b*c", "aXbYc", false, true},
        {"a*b*c", "aXbY", false, false},
        {"*a*b", "aab", false, true},
        {"**a", "ba", false, true},
        {"a*", "a", false, true},
        {"*?", "", false, false},
        {"*?", "x", false, true},
        {"[*]", "*", false, true},
        {"[*]", "x", false, false},
        /* Redis orders a range before folding case: [B-^] nocase is b..^, empty. */
        {"[B-^]", "c", true, false},
        {"[B-^]", "C", false, true},
        {"[^bA-^]", "c", true, true},
        {"**", "", false, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct glob_case *t = &cases[i];
        bool got = cfg_glob_match(t->pat, strlen(t->pat), t->str, strlen(t->str), t->nocase);
        if (got != t->want) {
            print_error("glob '%s' vs '%s' (nocase %d): got %d want %d\n", t->pat, t->str,
                        t->nocase, got, t->want);
            fail();
        }
    }
    /* Binary-safe lengths. */
    assert_true(cfg_glob_match("a?c", 3, "a\0c", 3, false));
    assert_false(cfg_glob_match("a", 1, "a\0", 2, false));

    /* No exponential blowup: the classic pathological pattern. */
    char pat[256], str[4096];
    size_t pl = 0;
    for (int i = 0; i < 60; i++) {
        pat[pl++] = 'a';
        pat[pl++] = '*';
    }
    pat[pl++] = 'b';
    memset(str, 'a', sizeof(str));
    assert_false(cfg_glob_match(pat, pl, str, sizeof(str), false));
    str[sizeof(str) - 1] = 'b';
    assert_true(cfg_glob_match(pat, pl, str, sizeof(str), false));
}

/* cfg_node_index: exact, length-bounded (the name need not end in NUL),
 * -1 for a prefix, an extension, another case or an empty table. */
static void test_node_index(void **state)
{
    (void)state;
    struct cfg c;
    struct buf err;
    cfg_init(&c);
    buf_init(&err);
    assert_int_equal(cfg_node_index(&c, "n1", 2), -1);
    assert_int_equal(load_text(&c, cluster_file, &err), 0);
    assert_int_equal(cfg_node_index(&c, "n1", 2), 0);
    assert_int_equal(cfg_node_index(&c, "n2", 2), 1);
    assert_int_equal(cfg_node_index(&c, "n3", 2), 2);
    assert_int_equal(cfg_node_index(&c, "n3xyz", 2), 2); /* only len bytes count */
    assert_int_equal(cfg_node_index(&c, "n", 1), -1);
    assert_int_equal(cfg_node_index(&c, "n12", 3), -1);
    assert_int_equal(cfg_node_index(&c, "N1", 2), -1);
    assert_int_equal(cfg_node_index(&c, "", 0), -1);
    buf_fini(&err);
    cfg_fini(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_file_valid),
        cmocka_unit_test(test_quoting),
        cmocka_unit_test(test_memory_units),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_flags_override_file),
        cmocka_unit_test(test_flag_errors),
        cmocka_unit_test(test_finish_rules),
        cmocka_unit_test(test_runtime_set_get),
        cmocka_unit_test(test_requirepass_needs_secret),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_usage),
        cmocka_unit_test(test_glob),
        cmocka_unit_test(test_node_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
