/* loadgen.c — closed-loop load generator for the replication benchmark.
 *
 * redis-benchmark cannot express "every SET followed by WAIT 1 0", so this
 * tool does: C connections spread round-robin over the given servers, each
 * with one request in flight (SET, or SET+WAIT as one pipelined pair that
 * counts as one operation), until N operations completed.  Prints ops/s and
 * latency percentiles in one line of key=value pairs.
 *
 *   loadgen -s host:port[,host:port...] -c 50 -n 100000 -r 100000 -d 64
 *           [-t set|get] [-w]          (-w: append WAIT 1 0 to every SET)
 */
#include <event2/event.h>
#include <hiredis/adapters/libevent.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 16

struct conn {
    struct bench *b;
    redisAsyncContext *ac;
    long long t0;
    int waiting;       /* replies still expected for the current op */
    unsigned seed;
};

struct bench {
    struct event_base *base;
    long long total, sent, done, errors;
    int keyspace, dsize, wait, get;
    char *value;
    long long *lat;    /* per-op latency, us */
    int nconn_open;
};

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void send_op(struct conn *c);

static void on_reply(redisAsyncContext *ac, void *r, void *priv)
{
    struct conn *c = priv;
    struct bench *b = c->b;
    redisReply *reply = r;
    (void)ac;
    if (!reply) {
        return;
    }
    if (reply->type == REDIS_REPLY_ERROR) {
        b->errors++;
        if (b->errors < 5)
            fprintf(stderr, "loadgen: error reply: %s\n", reply->str);
    }
    if (--c->waiting > 0)
        return;
    b->lat[b->done++] = now_us() - c->t0;
    if (b->done == b->total) {
        event_base_loopbreak(b->base);
        return;
    }
    send_op(c);
}

static void send_op(struct conn *c)
{
    struct bench *b = c->b;
    if (b->sent >= b->total)
        return;
    b->sent++;
    char key[32];
    int klen = snprintf(key, sizeof(key), "key:%012d", (int)(rand_r(&c->seed) % b->keyspace));
    c->t0 = now_us();
    if (b->get) {
        const char *argv[2] = {"GET", key};
        size_t lens[2] = {3, (size_t)klen};
        c->waiting = 1;
        redisAsyncCommandArgv(c->ac, on_reply, c, 2, argv, lens);
        return;
    }
    const char *argv[3] = {"SET", key, b->value};
    size_t lens[3] = {3, (size_t)klen, (size_t)b->dsize};
    c->waiting = b->wait ? 2 : 1;
    redisAsyncCommandArgv(c->ac, on_reply, c, 3, argv, lens);
    if (b->wait)
        redisAsyncCommand(c->ac, on_reply, c, "WAIT 1 0");
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    char servers[MAX_SERVERS][64];
    int ports[MAX_SERVERS], nserv = 0;
    int nconn = 50;
    struct bench b = {.total = 100000, .keyspace = 100000, .dsize = 64};
    int opt;
    while ((opt = getopt(argc, argv, "s:c:n:r:d:t:w")) != -1) {
        switch (opt) {
        case 's': {
            char *list = strdup(optarg), *save = NULL;
            for (char *tok = strtok_r(list, ",", &save); tok && nserv < MAX_SERVERS;
                 tok = strtok_r(NULL, ",", &save)) {
                char *colon = strrchr(tok, ':');
                if (!colon) {
                    fprintf(stderr, "loadgen: bad server %s\n", tok);
                    return 2;
                }
                *colon = '\0';
                snprintf(servers[nserv], sizeof(servers[nserv]), "%s", tok);
                ports[nserv++] = atoi(colon + 1);
            }
            free(list);
            break;
        }
        case 'c': nconn = atoi(optarg); break;
        case 'n': b.total = atoll(optarg); break;
        case 'r': b.keyspace = atoi(optarg); break;
        case 'd': b.dsize = atoi(optarg); break;
        case 't': b.get = strcmp(optarg, "get") == 0; break;
        case 'w': b.wait = 1; break;
        default:
            fprintf(stderr, "usage: loadgen -s host:port[,...] [-c conns] [-n ops] [-r keyspace] "
                            "[-d bytes] [-t set|get] [-w]\n");
            return 2;
        }
    }
    if (nserv == 0 || nconn < 1 || b.total < 1 || b.keyspace < 1 || b.dsize < 1) {
        fprintf(stderr, "loadgen: need -s and positive numbers\n");
        return 2;
    }
    b.value = malloc((size_t)b.dsize);
    memset(b.value, 'x', (size_t)b.dsize);
    b.lat = calloc((size_t)b.total, sizeof(*b.lat));
    b.base = event_base_new();
    struct conn *conns = calloc((size_t)nconn, sizeof(*conns));
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->b = &b;
        c->seed = (unsigned)i * 7919u + 1;
        c->ac = redisAsyncConnect(servers[i % nserv], ports[i % nserv]);
        if (!c->ac || c->ac->err) {
            fprintf(stderr, "loadgen: cannot connect to %s:%d\n", servers[i % nserv],
                    ports[i % nserv]);
            return 1;
        }
        redisLibeventAttach(c->ac, b.base);
    }
    long long t0 = now_us();
    for (int i = 0; i < nconn; i++)
        send_op(&conns[i]);
    event_base_dispatch(b.base);
    long long elapsed = now_us() - t0;
    qsort(b.lat, (size_t)b.done, sizeof(*b.lat), cmp_ll);
    double ops = b.done * 1e6 / (double)(elapsed ? elapsed : 1);
    long long p50 = b.done ? b.lat[b.done / 2] : 0;
    long long p99 = b.done ? b.lat[(b.done * 99) / 100] : 0;
    long long p999 = b.done ? b.lat[(b.done * 999) / 1000] : 0;
    printf("ops=%lld errors=%lld seconds=%.3f ops_per_sec=%.0f p50_us=%lld p99_us=%lld "
           "p999_us=%lld\n",
           b.done, b.errors, elapsed / 1e6, ops, p50, p99, p999);
    for (int i = 0; i < nconn; i++)
        redisAsyncFree(conns[i].ac);
    free(conns);
    free(b.lat);
    free(b.value);
    event_base_free(b.base);
    return b.errors ? 1 : 0;
}
