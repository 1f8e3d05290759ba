/* hiredis_client.c — hiredis compatibility client for dynamo-node.
 *
 * Talks to one node through hiredis's synchronous API (redisConnect,
 * redisCommand, redisAppendCommand + redisGetReply pipelining) and its
 * asynchronous API on libevent, and checks every reply against what Redis
 * documents.  Keys are prefixed with "hiredis:<pid>:" so that runs never
 * collide.  Exits 0 only if every check passed; each failed check prints
 * one "FAIL" line saying what was expected and what came back.
 *
 *   hiredis_client [-s section,...] [-n count] host:port [host:port ...]
 *
 * The checks run against the first address; values written there are also
 * read back through every further address (other nodes of the cluster).
 * Sections (default: all): basic, incr, pipeline, errors, large, async.
 */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define MAX_ADDRS 8

struct addr {
    char host[256];
    int port;
};

static struct addr addrs[MAX_ADDRS];
static int naddrs;
static char prefix[64];
static int failures, checks;
static const char *section = "";

/* ---- reporting ---------------------------------------------------------- */

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void fail(const char *fmt, ...)
{
    va_list ap;
    failures++;
    printf("FAIL [%s] ", section);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

static const char *type_name(int type)
{
    switch (type) {
    case REDIS_REPLY_STRING: return "string";
    case REDIS_REPLY_ARRAY: return "array";
    case REDIS_REPLY_INTEGER: return "integer";
    case REDIS_REPLY_NIL: return "nil";
    case REDIS_REPLY_STATUS: return "status";
    case REDIS_REPLY_ERROR: return "error";
    default: return "unknown";
    }
}

/* A short printable description of a reply, for FAIL lines. */
static const char *describe(const redisReply *r)
{
    static char buf[256];
    if (!r)
        return "(no reply: connection error)";
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
        snprintf(buf, sizeof(buf), "%s \"%.*s\"%s", type_name(r->type),
                 (int)(r->len > 160 ? 160 : r->len), r->str, r->len > 160 ? "..." : "");
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(buf, sizeof(buf), "integer %lld", r->integer);
        break;
    case REDIS_REPLY_ARRAY:
        snprintf(buf, sizeof(buf), "array of %zu", r->elements);
        break;
    default:
        snprintf(buf, sizeof(buf), "%s", type_name(r->type));
    }
    return buf;
}

/* ---- reply checks (each counts one check; false + FAIL line on mismatch) - */

static int is_status(const redisReply *r, const char *want, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, want) == 0)
        return 1;
    fail("%s: expected status %s, got %s", what, want, describe(r));
    return 0;
}

static int is_bulk(const redisReply *r, const char *want, size_t wlen, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_STRING && r->len == wlen && memcmp(r->str, want, wlen) == 0)
        return 1;
    fail("%s: expected bulk of %zu bytes \"%.*s\", got %s", what, wlen,
         (int)(wlen > 60 ? 60 : wlen), want, describe(r));
    return 0;
}

static int is_str(const redisReply *r, const char *want, const char *what)
{
    return is_bulk(r, want, strlen(want), what);
}

static int is_int(const redisReply *r, long long want, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_INTEGER && r->integer == want)
        return 1;
    fail("%s: expected integer %lld, got %s", what, want, describe(r));
    return 0;
}

static int is_nil(const redisReply *r, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_NIL)
        return 1;
    fail("%s: expected nil, got %s", what, describe(r));
    return 0;
}

static int is_error(const redisReply *r, const char *needle, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_ERROR && (!needle || strstr(r->str, needle)))
        return 1;
    fail("%s: expected an error reply%s%s, got %s", what, needle ? " containing " : "",
         needle ? needle : "", describe(r));
    return 0;
}

static int is_array(const redisReply *r, size_t n, const char *what)
{
    checks++;
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == n)
        return 1;
    fail("%s: expected array of %zu, got %s", what, n, describe(r));
    return 0;
}

/* ---- connections -------------------------------------------------------- */

static redisContext *connect_to(const struct addr *a)
{
    struct timeval tv = {10, 0};
    redisContext *c = redisConnectWithTimeout(a->host, a->port, tv);
    checks++;
    if (!c || c->err) {
        fail("connect %s:%d: %s", a->host, a->port, c ? c->errstr : "out of memory");
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* Runs one command, returns its reply (caller frees; NULL on I/O error,
 * which is reported). */
static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r)
        fail("I/O error on \"%s\": %s", fmt, c->errstr);
    return r;
}

static void key(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s%s", prefix, name);
}

/* Reads key through every further address and checks it holds want
 * (NULL = absent). */
static void read_back_elsewhere(const char *k, const char *want)
{
    for (int i = 1; i < naddrs; i++) {
        redisContext *c = connect_to(&addrs[i]);
        if (!c)
            continue;
        char what[300];
        snprintf(what, sizeof(what), "GET %s through %s:%d", k, addrs[i].host, addrs[i].port);
        redisReply *r = cmd(c, "GET %s", k);
        if (want)
            is_str(r, want, what);
        else
            is_nil(r, what);
        if (r)
            freeReplyObject(r);
        redisFree(c);
    }
}

/* ---- sections ----------------------------------------------------------- */

static void sec_basic(redisContext *c)
{
    char k1[128], k2[128], k3[128], kb[128];
    key(k1, sizeof(k1), "a");
    key(k2, sizeof(k2), "b");
    key(k3, sizeof(k3), "missing");
    key(kb, sizeof(kb), "binary");
    redisReply *r;

    r = cmd(c, "PING");
    is_status(r, "PONG", "PING");
    freeReplyObject(r);

    r = cmd(c, "SET %s %s", k1, "hello");
    is_status(r, "OK", "SET a");
    freeReplyObject(r);
    r = cmd(c, "GET %s", k1);
    is_str(r, "hello", "GET a");
    freeReplyObject(r);
    r = cmd(c, "GET %s", k3);
    is_nil(r, "GET missing");
    freeReplyObject(r);

    /* binary-safe values: %b with NUL, CR, LF inside */
    static const char bin[] = "x\0y\r\nz\xff";
    r = cmd(c, "SET %s %b", kb, bin, sizeof(bin) - 1);
    is_status(r, "OK", "SET binary");
    freeReplyObject(r);
    r = cmd(c, "GET %s", kb);
    is_bulk(r, bin, sizeof(bin) - 1, "GET binary");
    freeReplyObject(r);

    r = cmd(c, "MSET %s %s %s %s", k1, "one", k2, "two");
    is_status(r, "OK", "MSET a b");
    freeReplyObject(r);
    r = cmd(c, "MGET %s %s %s", k1, k3, k2);
    if (is_array(r, 3, "MGET a missing b")) {
        is_str(r->element[0], "one", "MGET [0]");
        is_nil(r->element[1], "MGET [1]");
        is_str(r->element[2], "two", "MGET [2]");
    }
    freeReplyObject(r);
    read_back_elsewhere(k1, "one");
    read_back_elsewhere(k2, "two");

    r = cmd(c, "EXISTS %s %s %s", k1, k2, k3);
    is_int(r, 2, "EXISTS a b missing");
    freeReplyObject(r);

    r = cmd(c, "DEL %s %s %s", k1, k2, k3);
    is_int(r, 2, "DEL a b missing");
    freeReplyObject(r);
    r = cmd(c, "GET %s", k1);
    is_nil(r, "GET a after DEL");
    freeReplyObject(r);
    r = cmd(c, "DEL %s", k1);
    is_int(r, 0, "DEL a again");
    freeReplyObject(r);
    read_back_elsewhere(k1, NULL);
}

static void sec_incr(redisContext *c)
{
    char k[128], ks[128];
    key(k, sizeof(k), "counter");
    key(ks, sizeof(ks), "notanumber");
    redisReply *r;

    for (int i = 1; i <= 10; i++) {
        char what[64];
        snprintf(what, sizeof(what), "INCR counter (#%d)", i);
        r = cmd(c, "INCR %s", k);
        int ok = is_int(r, i, what);
        if (r)
            freeReplyObject(r);
        if (!ok)
            break;
    }
    r = cmd(c, "GET %s", k);
    is_str(r, "10", "GET counter after 10 INCR");
    freeReplyObject(r);
    read_back_elsewhere(k, "10");

    r = cmd(c, "SET %s %s", ks, "abc");
    is_status(r, "OK", "SET notanumber");
    freeReplyObject(r);
    r = cmd(c, "INCR %s", ks);
    is_error(r, "not an integer", "INCR on a non-integer value");
    freeReplyObject(r);
}

/* redisAppendCommand queues; redisGetReply sends everything on the first
 * call and returns the replies in order. */
static void sec_pipeline(redisContext *c)
{
    enum { N = 500 };
    char k[128], name[64], val[64];
    int rc = REDIS_OK;

    for (int i = 0; i < N && rc == REDIS_OK; i++) {
        snprintf(name, sizeof(name), "pipe:%d", i);
        key(k, sizeof(k), name);
        snprintf(val, sizeof(val), "value-%d", i);
        rc = redisAppendCommand(c, "SET %s %s", k, val);
    }
    for (int i = 0; i < N && rc == REDIS_OK; i++) {
        snprintf(name, sizeof(name), "pipe:%d", i);
        key(k, sizeof(k), name);
        rc = redisAppendCommand(c, "GET %s", k);
    }
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "NOSUCHCOMMAND %s", "x");  /* an error in mid-pipeline */
    if (rc == REDIS_OK)
        rc = redisAppendCommand(c, "PING");
    checks++;
    if (rc != REDIS_OK) {
        fail("redisAppendCommand: %s", c->errstr);
        return;
    }
    for (int i = 0; i < 2 * N + 2; i++) {
        void *rv = NULL;
        if (redisGetReply(c, &rv) != REDIS_OK) {
            fail("redisGetReply #%d: %s", i, c->errstr);
            return;
        }
        redisReply *r = rv;
        char what[64];
        if (i < N) {
            snprintf(what, sizeof(what), "pipelined SET #%d", i);
            is_status(r, "OK", what);
        } else if (i < 2 * N) {
            snprintf(what, sizeof(what), "pipelined GET #%d", i - N);
            snprintf(val, sizeof(val), "value-%d", i - N);
            is_str(r, val, what);
        } else if (i == 2 * N) {
            is_error(r, "unknown command", "pipelined unknown command");
        } else {
            is_status(r, "PONG", "pipelined PING after the error");
        }
        freeReplyObject(r);
    }
    snprintf(name, sizeof(name), "pipe:%d", N - 1);
    key(k, sizeof(k), name);
    snprintf(val, sizeof(val), "value-%d", N - 1);
    read_back_elsewhere(k, val);
}

static void sec_errors(redisContext *c)
{
    char k[128];
    key(k, sizeof(k), "err");
    redisReply *r;

    r = cmd(c, "NOSUCHCOMMAND %s", "arg");
    is_error(r, "unknown command", "unknown command");
    freeReplyObject(r);
    r = cmd(c, "GET");
    is_error(r, "wrong number of arguments", "GET without a key");
    freeReplyObject(r);
    r = cmd(c, "SET %s", k);
    is_error(r, "wrong number of arguments", "SET without a value");
    freeReplyObject(r);
    r = cmd(c, "MSET %s", k);
    is_error(r, "wrong number of arguments", "MSET with an odd argument count");
    freeReplyObject(r);
    r = cmd(c, "SET %s %s BOGUSOPTION", k, "v");
    is_error(r, "syntax error", "SET with an unknown option");
    freeReplyObject(r);
    /* the connection is still usable after error replies */
    r = cmd(c, "PING");
    is_status(r, "PONG", "PING after error replies");
    freeReplyObject(r);
    r = cmd(c, "ECHO %s", "still here");
    is_str(r, "still here", "ECHO after error replies");
    freeReplyObject(r);
}

static void sec_large(redisContext *c)
{
    static const size_t sizes[] = {16 * 1024, 1024 * 1024, 8 * 1024 * 1024};
    char k[128];
    key(k, sizeof(k), "large");
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        size_t n = sizes[s];
        char *v = malloc(n);
        for (size_t i = 0; i < n; i++)
            v[i] = (char)('a' + (i * 7 + i / 4096) % 26);
        char what[64];
        snprintf(what, sizeof(what), "SET of %zu bytes", n);
        redisReply *r = cmd(c, "SET %s %b", k, v, n);
        is_status(r, "OK", what);
        if (r)
            freeReplyObject(r);
        snprintf(what, sizeof(what), "GET of %zu bytes", n);
        r = cmd(c, "GET %s", k);
        is_bulk(r, v, n, what);
        if (r)
            freeReplyObject(r);
        free(v);
    }
    redisReply *r = cmd(c, "DEL %s", k);
    is_int(r, 1, "DEL large");
    freeReplyObject(r);
}

/* ---- async (libevent) --------------------------------------------------- */

struct async_run {
    struct event_base *base;
    redisAsyncContext *ac;
    int n;
    int sets_done, gets_done, errs_done;
    int connected, disconnected, finished;
    struct event *deadline;
};

static void async_key(char *out, size_t cap, int i)
{
    snprintf(out, cap, "%sasync:%d", prefix, i);
}

static void async_val(char *out, size_t cap, int i)
{
    snprintf(out, cap, "async-value-%d-%s", i, i % 3 ? "x" : "a somewhat longer value");
}

static void on_get(redisAsyncContext *ac, void *rv, void *priv);
static void on_error_reply(redisAsyncContext *ac, void *rv, void *priv);

static void on_set(redisAsyncContext *ac, void *rv, void *priv)
{
    struct async_run *run = ac->data;
    int i = (int)(long)priv;
    char what[64];
    snprintf(what, sizeof(what), "async SET #%d", i);
    if (!rv) {
        if (!run->finished)
            fail("%s: no reply (connection error: %s)", what, ac->errstr);
        return;
    }
    is_status(rv, "OK", what);
    if (i != run->sets_done)
        fail("async SET replies out of order: #%d arrived as reply %d", i, run->sets_done);
    if (++run->sets_done < run->n)
        return;
    /* every SET answered: now read them all back, all in flight at once */
    for (int j = 0; j < run->n; j++) {
        char k[160];
        async_key(k, sizeof(k), j);
        if (redisAsyncCommand(ac, on_get, (void *)(long)j, "GET %s", k) != REDIS_OK) {
            fail("redisAsyncCommand GET #%d failed", j);
            return;
        }
    }
    redisAsyncCommand(ac, on_error_reply, NULL, "NOSUCHCOMMAND");
}

static void on_get(redisAsyncContext *ac, void *rv, void *priv)
{
    struct async_run *run = ac->data;
    int i = (int)(long)priv;
    char what[64], val[96];
    snprintf(what, sizeof(what), "async GET #%d", i);
    if (!rv) {
        if (!run->finished)
            fail("%s: no reply (connection error: %s)", what, ac->errstr);
        return;
    }
    async_val(val, sizeof(val), i);
    is_str(rv, val, what);
    if (i != run->gets_done)
        fail("async GET replies out of order: #%d arrived as reply %d", i, run->gets_done);
    run->gets_done++;
}

static void on_error_reply(redisAsyncContext *ac, void *rv, void *priv)
{
    struct async_run *run = ac->data;
    (void)priv;
    if (!rv) {
        if (!run->finished)
            fail("async unknown command: no reply (connection error: %s)", ac->errstr);
        return;
    }
    is_error(rv, "unknown command", "async unknown command");
    run->errs_done++;
    if (run->gets_done != run->n)
        fail("async: error reply came before all %d GETs were answered (%d)", run->n,
             run->gets_done);
    run->finished = 1;
    redisAsyncDisconnect(ac);  /* the loop ends once the disconnect completes */
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct async_run *run = ac->data;
    checks++;
    if (status != REDIS_OK) {
        fail("async connect: %s", ac->errstr);
        event_base_loopbreak(run->base);
        return;
    }
    run->connected = 1;
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct async_run *run = ac->data;
    run->disconnected = 1;
    if (status != REDIS_OK && !run->finished)
        fail("async connection lost: %s", ac->errstr);
    if (run->deadline)
        event_del(run->deadline);
    event_base_loopbreak(run->base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    struct async_run *run = arg;
    (void)fd;
    (void)what;
    fail("async: timed out (SET replies %d/%d, GET replies %d/%d, error replies %d/1)",
         run->sets_done, run->n, run->gets_done, run->n, run->errs_done);
    run->finished = 1;  /* the callbacks of what is still pending report nothing more */
    event_base_loopbreak(run->base);
}

static void sec_async(int n)
{
    struct async_run run = {.n = n};
    run.base = event_base_new();
    redisAsyncContext *ac = redisAsyncConnect(addrs[0].host, addrs[0].port);
    checks++;
    if (!ac || ac->err) {
        fail("redisAsyncConnect: %s", ac ? ac->errstr : "out of memory");
        if (ac)
            redisAsyncFree(ac);
        event_base_free(run.base);
        return;
    }
    run.ac = ac;
    ac->data = &run;
    redisLibeventAttach(ac, run.base);
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);

    /* N SETs queued before the connection is even up: hiredis sends them
     * as one pipelined burst once it connects. */
    for (int i = 0; i < n; i++) {
        char k[160], v[96];
        async_key(k, sizeof(k), i);
        async_val(v, sizeof(v), i);
        if (redisAsyncCommand(ac, on_set, (void *)(long)i, "SET %s %s", k, v) != REDIS_OK) {
            fail("redisAsyncCommand SET #%d failed", i);
            break;
        }
    }
    struct timeval limit = {30, 0};
    run.deadline = evtimer_new(run.base, on_deadline, &run);
    evtimer_add(run.deadline, &limit);
    event_base_dispatch(run.base);

    checks++;
    if (run.sets_done != n || run.gets_done != n || run.errs_done != 1)
        fail("async: incomplete run (SET replies %d/%d, GET replies %d/%d, error replies %d/1)",
             run.sets_done, n, run.gets_done, n, run.errs_done);
    if (!run.disconnected)
        redisAsyncFree(ac);  /* timed out: still connected */
    event_free(run.deadline);
    event_base_free(run.base);

    /* a sample read back through the other nodes */
    for (int i = 0; i < n; i += n / 4 > 0 ? n / 4 : 1) {
        char k[160], v[96];
        async_key(k, sizeof(k), i);
        async_val(v, sizeof(v), i);
        read_back_elsewhere(k, v);
    }
}

/* ---- main --------------------------------------------------------------- */

static int parse_addr(const char *s, struct addr *a)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof(a->host))
        return -1;
    memcpy(a->host, s, (size_t)(colon - s));
    a->host[colon - s] = '\0';
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p < 1 || p > 65535)
        return -1;
    a->port = (int)p;
    return 0;
}

static int wanted(const char *sections, const char *name)
{
    if (!sections)
        return 1;
    size_t len = strlen(name);
    for (const char *p = sections; *p;) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        if (l == len && strncmp(p, name, len) == 0)
            return 1;
        p += l + (comma ? 1 : 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *sections = NULL;
    int n_async = 2000;
    int opt;
    while ((opt = getopt(argc, argv, "s:n:")) != -1) {
        switch (opt) {
        case 's': sections = optarg; break;
        case 'n': n_async = atoi(optarg); break;
        default: goto usage;
        }
    }
    if (optind >= argc || n_async < 1)
        goto usage;
    for (int i = optind; i < argc; i++) {
        if (naddrs == MAX_ADDRS || parse_addr(argv[i], &addrs[naddrs++]) != 0) {
            fprintf(stderr, "hiredis_client: bad address %s (want host:port)\n", argv[i]);
            return 2;
        }
    }
    snprintf(prefix, sizeof(prefix), "hiredis:%ld:", (long)getpid());

    static const struct {
        const char *name;
        void (*fn)(redisContext *);
    } sync_sections[] = {
        {"basic", sec_basic},       {"incr", sec_incr},   {"pipeline", sec_pipeline},
        {"errors", sec_errors},     {"large", sec_large},
    };
    for (size_t s = 0; s < sizeof(sync_sections) / sizeof(sync_sections[0]); s++) {
        if (!wanted(sections, sync_sections[s].name))
            continue;
        section = sync_sections[s].name;
        int before = failures;
        redisContext *c = connect_to(&addrs[0]);
        if (c) {
            sync_sections[s].fn(c);
            redisFree(c);
        }
        printf("%s %s\n", failures == before ? "ok" : "FAILED", section);
        fflush(stdout);
    }
    if (wanted(sections, "async")) {
        section = "async";
        int before = failures;
        sec_async(n_async);
        printf("%s %s\n", failures == before ? "ok" : "FAILED", section);
    }
    printf("%d checks, %d failed\n", checks, failures);
    return failures ? 1 : 0;

usage:
    fprintf(stderr, "usage: hiredis_client [-s basic,incr,pipeline,errors,large,async] "
                    "[-n async-count] host:port [host:port ...]\n");
    return 2;
}
