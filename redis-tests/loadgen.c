/* loadgen.c — closed-loop load generator for the replication and cluster
 * benchmarks (redis-tests/bench.py).
 *
 * redis-benchmark cannot express "every SET followed by WAIT 1 0", so this
 * tool does: C clients spread round-robin over the given servers, each with
 * one request in flight (SET, or SET+WAIT as one pipelined pair that counts
 * as one operation), until N operations completed.  Prints ops/s and latency
 * percentiles (p50, p99, p99.9) in one line of key=value pairs.  Its
 * connections use the node's event adapter (src/net/hiredis_ev.c), which
 * costs fewer system calls per request than hiredis's stock one.
 *
 * Cluster mode (-C) is what a cluster-aware client does: CLUSTER SLOTS from
 * the first server at start, then every client holds one connection to each
 * slot master and sends each request straight to its key's master (key ->
 * slot by CRC16 mod 16384 with the {hash tag} rule, the same computation as
 * src/core/slot.c).  Still one request in flight per client.
 *
 *   loadgen -s host:port[,host:port...] -c 50 -n 100000 -r 100000 -d 64
 *           [-t set|get] [-w] [-C]   (-w: append WAIT 1 0 to every SET;
 *                                     -C: cluster-aware routing)
 */
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net/hiredis_ev.h"

#define MAX_SERVERS 16
#define SLOT_COUNT 16384

struct conn {
    struct bench *b;
    redisAsyncContext *ac[MAX_SERVERS]; /* one per server (cluster mode), else ac[0] */
    long long t0;
    int waiting;       /* replies still expected for the current op */
    unsigned seed;
};

struct bench {
    struct event_base *base;
    long long total, sent, done, errors;
    int keyspace, dsize, wait, get, cluster;
    unsigned char slot_master[SLOT_COUNT]; /* cluster mode: slot -> server index */
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

/* CRC16-CCITT (XMODEM), bit by bit: the function Redis Cluster hashes keys
 * with, as src/core/slot.c computes it with a table. */
static unsigned crc16(const char *p, size_t len)
{
    unsigned crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (unsigned)(unsigned char)p[i] << 8;
        for (int bit = 0; bit < 8; bit++)
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
}

/* The slot rule of src/core/slot.c: hash only a non-empty {tag} if any. */
static unsigned key_slot(const char *k, size_t klen)
{
    const char *open = klen ? memchr(k, '{', klen) : NULL;
    if (open) {
        size_t from = (size_t)(open - k) + 1;
        const char *close = memchr(open + 1, '}', klen - from);
        if (close && close > open + 1)
            return crc16(open + 1, (size_t)(close - open - 1)) & (SLOT_COUNT - 1);
    }
    return crc16(k, klen) & (SLOT_COUNT - 1);
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
    redisAsyncContext *ac = c->ac[b->cluster ? b->slot_master[key_slot(key, (size_t)klen)] : 0];
    c->t0 = now_us();
    if (b->get) {
        const char *argv[2] = {"GET", key};
        size_t lens[2] = {3, (size_t)klen};
        c->waiting = 1;
        redisAsyncCommandArgv(ac, on_reply, c, 2, argv, lens);
        return;
    }
    const char *argv[3] = {"SET", key, b->value};
    size_t lens[3] = {3, (size_t)klen, (size_t)b->dsize};
    c->waiting = b->wait ? 2 : 1;
    redisAsyncCommandArgv(ac, on_reply, c, 3, argv, lens);
    if (b->wait)
        redisAsyncCommand(ac, on_reply, c, "WAIT 1 0");
}

/* Cluster mode: read CLUSTER SLOTS from servers[0] and replace the server
 * list by the slot masters it names; fills b->slot_master.  Returns 0, or -1
 * with a message on stderr (a slot without a master is an error: the
 * benchmark would silently route it nowhere). */
static int load_slots(struct bench *b, char servers[][64], int *ports, int *nserv)
{
    redisContext *rc = redisConnect(servers[0], ports[0]);
    if (!rc || rc->err) {
        fprintf(stderr, "loadgen: cannot connect to %s:%d\n", servers[0], ports[0]);
        return -1;
    }
    redisReply *r = redisCommand(rc, "CLUSTER SLOTS");
    int ok = r && r->type == REDIS_REPLY_ARRAY;
    char (*found)[64] = calloc(MAX_SERVERS, 64);
    int fports[MAX_SERVERS], nfound = 0;
    static unsigned char covered[SLOT_COUNT];
    memset(covered, 0, sizeof(covered));
    for (size_t i = 0; ok && i < r->elements; i++) {
        redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 3 ||
            e->element[2]->type != REDIS_REPLY_ARRAY || e->element[2]->elements < 2) {
            ok = 0;
            break;
        }
        long long lo = e->element[0]->integer, hi = e->element[1]->integer;
        const char *host = e->element[2]->element[0]->str;
        int port = (int)e->element[2]->element[1]->integer;
        if (!host || lo < 0 || hi >= SLOT_COUNT || lo > hi) {
            ok = 0;
            break;
        }
        int idx = -1;
        for (int j = 0; j < nfound; j++)
            if (fports[j] == port && strcmp(found[j], host) == 0)
                idx = j;
        if (idx < 0) {
            if (nfound == MAX_SERVERS) {
                ok = 0;
                break;
            }
            idx = nfound++;
            snprintf(found[idx], 64, "%s", host);
            fports[idx] = port;
        }
        for (long long s = lo; s <= hi; s++) {
            b->slot_master[s] = (unsigned char)idx;
            covered[s] = 1;
        }
    }
    for (int s = 0; ok && s < SLOT_COUNT; s++)
        if (!covered[s]) {
            fprintf(stderr, "loadgen: CLUSTER SLOTS leaves slot %d without a master\n", s);
            ok = 0;
        }
    if (ok) {
        for (int j = 0; j < nfound; j++) {
            snprintf(servers[j], 64, "%s", found[j]);
            ports[j] = fports[j];
        }
        *nserv = nfound;
    } else {
        fprintf(stderr, "loadgen: unusable CLUSTER SLOTS reply from %s:%d%s%s\n", servers[0],
                ports[0], r && r->type == REDIS_REPLY_ERROR ? ": " : "",
                r && r->type == REDIS_REPLY_ERROR ? r->str : "");
    }
    free(found);
    if (r)
        freeReplyObject(r);
    redisFree(rc);
    return ok ? 0 : -1;
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
    while ((opt = getopt(argc, argv, "s:c:n:r:d:t:wC")) != -1) {
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
        case 'C': b.cluster = 1; break;
        default:
            fprintf(stderr, "usage: loadgen -s host:port[,...] [-c conns] [-n ops] [-r keyspace] "
                            "[-d bytes] [-t set|get] [-w] [-C]\n");
            return 2;
        }
    }
    if (nserv == 0 || nconn < 1 || b.total < 1 || b.keyspace < 1 || b.dsize < 1) {
        fprintf(stderr, "loadgen: need -s and positive numbers\n");
        return 2;
    }
    if (b.cluster && load_slots(&b, servers, ports, &nserv) != 0)
        return 1;
    b.value = malloc((size_t)b.dsize);
    memset(b.value, 'x', (size_t)b.dsize);
    b.lat = calloc((size_t)b.total, sizeof(*b.lat));
    b.base = event_base_new();
    struct conn *conns = calloc((size_t)nconn, sizeof(*conns));
    for (int i = 0; i < nconn; i++) {
        struct conn *c = &conns[i];
        c->b = &b;
        c->seed = (unsigned)i * 7919u + 1;
        /* cluster mode: one connection to every master; else one to server i mod n */
        int first = b.cluster ? 0 : i % nserv, count = b.cluster ? nserv : 1;
        for (int j = 0; j < count; j++) {
            int s = first + j;
            redisAsyncContext *ac = redisAsyncConnect(servers[s], ports[s]);
            if (!ac || ac->err) {
                fprintf(stderr, "loadgen: cannot connect to %s:%d\n", servers[s], ports[s]);
                return 1;
            }
            if (hiredis_ev_attach(ac, b.base) != 0) {
                fprintf(stderr, "loadgen: cannot attach a connection to the loop\n");
                return 1;
            }
            c->ac[j] = ac;
        }
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
           "p999_us=%lld servers=%d\n",
           b.done, b.errors, elapsed / 1e6, ops, p50, p99, p999, nserv);
    for (int i = 0; i < nconn; i++)
        for (int j = 0; j < MAX_SERVERS; j++)
            if (conns[i].ac[j])
                redisAsyncFree(conns[i].ac[j]);
    free(conns);
    free(b.lat);
    free(b.value);
    event_base_free(b.base);
    return b.errors ? 1 : 0;
}
