/* peer.c — outgoing peer connections (see peer.h).
 *
 * Owns: one hiredis async context per peer, the in-flight request records
 * and their deadline timers.  Invariants:
 *   - a request record lives until BOTH its deadline logic has answered the
 *     caller and hiredis has released its privdata (reply, or NULL on
 *     disconnect), so a late reply never touches freed memory;
 *   - the caller's callback runs exactly once;
 *   - hiredis contexts are freed only by hiredis (after the disconnect
 *     callback) or by peers_destroy; never from inside a reply callback;
 *   - a link sends nothing but PHELLO and PPROVE, and hands no reply to a
 *     caller, before the handshake completed both ways (LINK_UP): a seed
 *     or JOIN target that cannot prove the secret never gets our gossip
 *     nor has its table merged (peer_auth.h, cmd_peer.c).
 * Callers: coord.c (replica requests, forwarding), cluster.c (gossip,
 * seeds, links for new members), handoff.c, xfer.c, reaper.c, ae.c,
 * cmd_keyspace.c (PSCAN/PDBSIZE/PRANDOMKEY), main (create/destroy);
 * cmd_dynamo.c and cmd_info.c read link states and counters, and the
 * round-trip histogram of each member's data channel (peers_rtt: replica
 * requests and probes, answered ones; core/latency.h).  Calls: hiredis
 * (through hiredis_ev.c's event adapter: one write per peer per loop
 * iteration), peer_auth (the handshake), cfg_cluster_bind.
 * Never blocks: connects are non-blocking; reconnects are timer-driven.
 */
#include "net/peer.h"

#include <errno.h>
#include <event2/event.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/errors.h"
#include "core/config.h"
#include "core/latency.h"
#include "core/peer_auth.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "net/hiredis_ev.h"

#define PEER_BACKOFF_MIN_MS 100
#define PEER_BACKOFF_MAX_MS 1000
#define PEER_PROBE_MS 500         /* liveness probe period */
/* A connect with no answer this long is abandoned and retried: a SYN sent
 * into a partition would otherwise wait out TCP's retransmission back-off
 * (minutes) before the link could come back after the heal. */
#define PEER_CONNECT_TIMEOUT_MS 1000
#define PEER_PROBE_TIMEOUT_MS 1000 /* a probe unanswered this long marks the peer suspect */
#define PEER_MAX_ELEMS 64 /* reply elements converted on the stack (more: heap) */
#define PEER_MAX_SEEDS (CFG_MAX_SEEDS + 16) /* config seeds plus DYNAMO JOIN targets */

enum link_state {
    LINK_DOWN = 0,    /* waiting for the back-off timer */
    LINK_CONNECTING,  /* TCP connect under way */
    LINK_HANDSHAKE,   /* connected, PHELLO/PPROVE under way: nothing else sent */
    LINK_UP,          /* both sides proved the secret */
    LINK_STATE_COUNT
};

static const char *link_state_name(enum link_state s)
{
    static const char *names[] = {"down", "connecting", "handshake", "up"};
    return s < LINK_STATE_COUNT ? names[s] : "?";
}

struct peers;

struct link {
    struct peers *peers;
    int idx;                 /* index in cfg.nodes; -1 for a seed link */
    char host[64];           /* where it connects (copied when created) */
    int cport;
    char label[CFG_NAME_MAX + 80]; /* for logs: the node's name, or "seed host:port" */
    enum peer_chan chan;
    redisAsyncContext *ac;
    enum link_state state;
    int backoff_ms;
    struct event *retry;
    struct event *connect_deadline; /* a connect left unanswered is abandoned */
    unsigned long long fails;
    int64_t last_fail_ms;
    bool suspect;            /* a request timed out and nothing answered since */
    uint8_t nonce[PAUTH_NONCE_LEN]; /* ours, for the handshake under way */
    bool refused_logged;     /* the peer's failed proof was logged (once per run of them) */
    struct lat_hist *rtt;    /* answered requests' round trips (data channel of a
                                member); allocated at the first answer */
};

struct peers {
    struct event_base *base; /* borrowed: the node's loop */
    const struct cfg *cfg;   /* borrowed: members, secret, name (read live) */
    int self_idx;            /* this node's index in cfg->nodes: no link */
    struct event *probe;     /* periodic PPING of every link */
    int nlinks;              /* nodes; each has one link per channel */
    struct link links[PEER_CHAN_COUNT][CFG_MAX_NODES];
    int nseeds;              /* seed links (data channel only), by address */
    struct link seeds[PEER_MAX_SEEDS];
    unsigned long long sent, failed, answered, lat_us;
    bool destroying;
};

struct preq {
    struct peers *peers;
    struct link *link;
    peer_reply_fn cb;
    void *arg;
    struct event *timer;
    int64_t start_us;
    bool answered;           /* caller's callback has run */
    bool hiredis_done;       /* hiredis released privdata (or never had it) */
};

static void link_connect(struct link *l);
static void on_probe(evutil_socket_t fd, short what, void *arg);

static void preq_maybe_free(struct preq *r)
{
    if (r->answered && r->hiredis_done) {
        if (r->timer)
            event_free(r->timer);
        mem_free(r);
    }
}

static void preq_answer(struct preq *r, int err, const struct peer_reply *rep)
{
    if (r->answered)
        return;
    r->answered = true;
    if (r->timer)
        event_del(r->timer);
    if (err) {
        r->peers->failed++;
        if (err == KV_ETIMEDOUT && r->link)
            r->link->suspect = true;
    } else {
        if (r->link)
            r->link->suspect = false;
        r->peers->answered++;
        int64_t us = clock_mono_us() - r->start_us;
        r->peers->lat_us += (unsigned long long)us;
        struct link *l = r->link;
        if (l && l->idx >= 0 && l->chan == PEER_CHAN_DATA && us >= 0) {
            if (!l->rtt)
                l->rtt = mem_calloc(1, sizeof(*l->rtt));
            lat_record(l->rtt, (uint64_t)us * 1000);
        }
    }
    r->cb(r->arg, err, rep);
}

/* Elements of a reply tree below its root (every nested array's elements).
 * Recursion depth is bounded by hiredis's reader (at most 7 nested levels). */
static size_t count_elems(const redisReply *in)
{
    size_t n = 0;
    if (in->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < in->elements; i++)
            n += 1 + count_elems(in->element[i]);
    return n;
}

/* Converts a hiredis reply; each array's elements are taken from *pool
 * (consecutive slots, count_elems of them in all).  Arrays of any size
 * and nesting: a forwarded command's reply (SMEMBERS, SSCAN's
 * [cursor, [members]]) comes back whole. */
static void convert(const redisReply *in, struct peer_reply *out, struct peer_reply **pool)
{
    memset(out, 0, sizeof(*out));
    switch (in->type) {
    case REDIS_REPLY_STATUS:
        out->type = PEER_R_STATUS;
        break;
    case REDIS_REPLY_ERROR:
        out->type = PEER_R_ERROR;
        break;
    case REDIS_REPLY_INTEGER:
        out->type = PEER_R_INT;
        out->integer = in->integer;
        return;
    case REDIS_REPLY_STRING:
        out->type = PEER_R_BULK;
        break;
    case REDIS_REPLY_NIL:
        out->type = PEER_R_NIL;
        return;
    case REDIS_REPLY_ARRAY: {
        out->type = PEER_R_ARRAY;
        struct peer_reply *elems = *pool;
        *pool += in->elements;
        out->nelem = in->elements;
        out->elem = elems;
        for (size_t i = 0; i < in->elements; i++)
            convert(in->element[i], &elems[i], pool);
        return;
    }
    default:
        out->type = PEER_R_ERROR;
        out->str = "ERR unexpected peer reply";
        out->len = strlen(out->str);
        return;
    }
    out->str = in->str;
    out->len = in->len;
}

static void on_reply(redisAsyncContext *ac, void *reply, void *privdata)
{
    (void)ac;
    struct preq *r = privdata;
    r->hiredis_done = true;
    if (!r->answered) {
        if (!reply) { /* sent, then the link went: applied or not, nobody knows */
            preq_answer(r, KV_ELOST, NULL);
        } else {
            struct peer_reply rep;
            struct peer_reply small[PEER_MAX_ELEMS];
            size_t n = count_elems(reply);
            struct peer_reply *elems = n <= PEER_MAX_ELEMS ? small : mem_alloc(n * sizeof(*elems));
            struct peer_reply *pool = elems;
            convert(reply, &rep, &pool);
            preq_answer(r, 0, &rep);
            if (elems != small)
                mem_free(elems);
        }
    }
    preq_maybe_free(r);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct preq *r = arg;
    preq_answer(r, KV_ETIMEDOUT, NULL);
    preq_maybe_free(r);
}

/* Ends a handshake that failed: the connection is closed and retried with
 * back-off.  Called from a hiredis reply callback, where only
 * redisAsyncDisconnect is allowed (the disconnect callback follows). */
static void handshake_failed(struct link *l, redisAsyncContext *ac, const char *why)
{
    if (!l->refused_logged)
        log_warn("peer %s: handshake failed: %s (check cluster-secret on both nodes)", l->label,
                 why);
    l->refused_logged = true;
    redisAsyncDisconnect(ac);
}

/* PPROVE's reply: +OK completes the handshake, the link is up. */
static void on_prove(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct link *l = privdata;
    redisReply *rep = reply;
    if (!rep || l->ac != ac || l->state != LINK_HANDSHAKE)
        return; /* the connection is going away */
    if (rep->type != REDIS_REPLY_STATUS || strcmp(rep->str, "OK") != 0) {
        char shown[72];
        pauth_sanitize(shown, sizeof(shown), rep->str ? rep->str : "", rep->str ? rep->len : 0);
        handshake_failed(l, ac, shown);
        return;
    }
    event_del(l->connect_deadline);
    l->state = LINK_UP;
    l->suspect = false;
    l->backoff_ms = PEER_BACKOFF_MIN_MS;
    if (l->refused_logged)
        log_info("peer %s: handshake succeeded again", l->label);
    l->refused_logged = false;
    if (l->chan == PEER_CHAN_DATA)
        log_info("peer %s connected", l->label);
}

/* PHELLO's reply: [nonce_a, name_a, proof_a].  The peer must prove the
 * secret before we prove it in turn or send anything else. */
static void on_hello(redisAsyncContext *ac, void *reply, void *privdata)
{
    struct link *l = privdata;
    redisReply *rep = reply;
    if (!rep || l->ac != ac || l->state != LINK_HANDSHAKE)
        return;
    const struct cfg *cfg = l->peers->cfg;
    if (rep->type != REDIS_REPLY_ARRAY || rep->elements != 3 ||
        rep->element[0]->type != REDIS_REPLY_STRING || rep->element[0]->len != PAUTH_NONCE_LEN ||
        rep->element[1]->type != REDIS_REPLY_STRING ||
        !pauth_name_ok(rep->element[1]->str, rep->element[1]->len) ||
        rep->element[2]->type != REDIS_REPLY_STRING) {
        char shown[72];
        if (rep->type == REDIS_REPLY_ERROR)
            pauth_sanitize(shown, sizeof(shown), rep->str, rep->len);
        else
            snprintf(shown, sizeof(shown), "a malformed PHELLO reply");
        handshake_failed(l, ac, shown);
        return;
    }
    const char *secret = cfg->cluster_secret ? cfg->cluster_secret : "";
    const char *self = cfg->node_name;
    const uint8_t *na = (const uint8_t *)rep->element[0]->str;
    const char *name_a = rep->element[1]->str;
    size_t la = rep->element[1]->len;
    uint8_t want[PAUTH_MAC_LEN], proof[PAUTH_MAC_LEN];
    pauth_mac(secret, strlen(secret), PAUTH_ACCEPTOR, l->nonce, na, self, strlen(self), name_a, la,
              want);
    if (!pauth_mac_equal(want, rep->element[2]->str, rep->element[2]->len)) {
        handshake_failed(l, ac, "the peer could not prove the cluster secret");
        return;
    }
    pauth_mac(secret, strlen(secret), PAUTH_CONNECTOR, l->nonce, na, self, strlen(self), name_a,
              la, proof);
    const char *argv[2] = {"PPROVE", (const char *)proof};
    size_t lens[2] = {6, sizeof(proof)};
    redisAsyncCommandArgv(ac, on_prove, l, 2, argv, lens);
}

static void schedule_retry(struct link *l)
{
    if (l->peers->destroying)
        return;
    l->state = LINK_DOWN;
    struct timeval tv = {l->backoff_ms / 1000, (l->backoff_ms % 1000) * 1000};
    event_add(l->retry, &tv);
    l->backoff_ms *= 2;
    if (l->backoff_ms > PEER_BACKOFF_MAX_MS)
        l->backoff_ms = PEER_BACKOFF_MAX_MS;
}

static void on_connect(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;
    if (status != REDIS_OK) {
        event_del(l->connect_deadline);
        /* hiredis frees the context after this callback */
        log_debug("peer %s: connect failed: %s", l->label, ac->errstr);
        l->ac = NULL;
        l->fails++;
        l->last_fail_ms = clock_now_ms();
        schedule_retry(l);
        return;
    }
    /* The same deadline, re-armed, bounds the handshake: a peer that
     * accepts but never proves itself is dropped and retried. */
    l->state = LINK_HANDSHAKE;
    struct timeval tv = {PEER_CONNECT_TIMEOUT_MS / 1000, (PEER_CONNECT_TIMEOUT_MS % 1000) * 1000};
    event_add(l->connect_deadline, &tv);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct link *l = ac->data;
    (void)status;
    l->ac = NULL;
    if (l->peers->destroying)
        return;
    if (l->state == LINK_UP && l->chan == PEER_CHAN_DATA)
        log_info("peer %s disconnected", l->label);
    l->fails++;
    l->last_fail_ms = clock_now_ms();
    schedule_retry(l);
}

static void on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    link_connect(arg);
}

/* Runs outside hiredis callbacks, so freeing the context here is allowed;
 * an unconnected context calls no disconnect callback (the queued PHELLO's
 * callback gets NULL).  A connected one whose handshake did not finish in
 * time is freed too (redisAsyncDisconnect would wait for the unanswered
 * PHELLO forever); hiredis then calls the disconnect callback, which
 * schedules the retry. */
static void on_connect_deadline(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct link *l = arg;
    if (l->state == LINK_HANDSHAKE && l->ac) {
        log_debug("peer %s: handshake timed out", l->label);
        redisAsyncFree(l->ac); /* on_disconnect clears l->ac */
        return;
    }
    if (l->state != LINK_CONNECTING || !l->ac)
        return;
    redisAsyncContext *ac = l->ac;
    l->ac = NULL;
    redisAsyncFree(ac);
    log_debug("peer %s: connect timed out", l->label);
    l->fails++;
    l->last_fail_ms = clock_now_ms();
    schedule_retry(l);
}

static void link_connect(struct link *l)
{
    const struct cfg *cfg = l->peers->cfg;
    redisAsyncContext *ac = redisAsyncConnectBind(l->host, l->cport, cfg_cluster_bind(cfg));
    if (!ac || ac->err) {
        log_debug("peer %s: cannot start connect: %s", l->label, ac ? ac->errstr : "oom");
        if (ac)
            redisAsyncFree(ac);
        l->fails++;
        schedule_retry(l);
        return;
    }
    if (hiredis_ev_attach(ac, l->peers->base) != 0) {
        log_debug("peer %s: cannot attach the connection to the loop", l->label);
        redisAsyncFree(ac);
        l->fails++;
        schedule_retry(l);
        return;
    }
    ac->data = l;
    l->ac = ac;
    l->state = LINK_CONNECTING;
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    struct timeval tv = {PEER_CONNECT_TIMEOUT_MS / 1000, (PEER_CONNECT_TIMEOUT_MS % 1000) * 1000};
    event_add(l->connect_deadline, &tv);
    /* Queued now, sent once connected: the handshake's first step. */
    pauth_nonce(l->nonce);
    const char *argv[3] = {"PHELLO", (const char *)l->nonce, cfg->node_name};
    size_t lens[3] = {6, PAUTH_NONCE_LEN, strlen(cfg->node_name)};
    redisAsyncCommandArgv(ac, on_hello, l, 3, argv, lens);
}

static void link_init(struct peers *p, struct link *l, int idx, enum peer_chan chan,
                      const char *host, int cport, const char *label)
{
    l->peers = p;
    l->idx = idx;
    l->chan = chan;
    snprintf(l->host, sizeof(l->host), "%s", host);
    l->cport = cport;
    snprintf(l->label, sizeof(l->label), "%s", label);
    l->backoff_ms = PEER_BACKOFF_MIN_MS;
    l->retry = evtimer_new(p->base, on_retry, l);
    l->connect_deadline = evtimer_new(p->base, on_connect_deadline, l);
    link_connect(l);
}

void peers_add(struct peers *p, int nnodes)
{
    if (nnodes > CFG_MAX_NODES)
        nnodes = CFG_MAX_NODES;
    for (int i = p->nlinks; i < nnodes; i++) {
        const struct cfg_node *cn = &p->cfg->nodes[i];
        for (int ch = 0; ch < PEER_CHAN_COUNT; ch++) /* self too: failover may route here */
            link_init(p, &p->links[ch][i], i, (enum peer_chan)ch, cn->host, cn->cport,
                      cn->name);
    }
    if (nnodes > p->nlinks)
        p->nlinks = nnodes;
}

int peers_add_seed(struct peers *p, const char *host, int cport)
{
    for (int s = 0; s < p->nseeds; s++)
        if (p->seeds[s].cport == cport && strcmp(p->seeds[s].host, host) == 0)
            return s;
    if (p->nseeds == PEER_MAX_SEEDS)
        return -1;
    int s = p->nseeds++;
    char label[96];
    snprintf(label, sizeof(label), "seed %.63s:%d", host, cport);
    link_init(p, &p->seeds[s], -1, PEER_CHAN_DATA, host, cport, label);
    return s;
}

int peers_nseeds(const struct peers *p)
{
    return p->nseeds;
}

struct peers *peers_create(struct event_base *base, const struct cfg *cfg, int self_idx)
{
    struct peers *p = mem_calloc(1, sizeof(*p));
    p->base = base;
    p->cfg = cfg;
    p->self_idx = self_idx;
    peers_add(p, cfg->nnodes);
    for (int i = 0; i < cfg->nseeds; i++)
        peers_add_seed(p, cfg->seeds[i].host, cfg->seeds[i].cport);
    p->probe = event_new(base, -1, EV_PERSIST, on_probe, p);
    struct timeval tv = {0, PEER_PROBE_MS * 1000};
    event_add(p->probe, &tv);
    return p;
}

static void probe_done(void *arg, int err, const struct peer_reply *reply)
{
    (void)arg;
    (void)err;
    (void)reply; /* preq_answer already updated the link's suspect flag */
}

/* Until gossip exists this is the failure detector: every PEER_PROBE_MS each
 * connected link gets a PPING; a timeout marks it suspect (routed around),
 * any answer clears that. */
static void on_probe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct peers *p = arg;
    static const char *argv[1] = {"PPING"};
    static const size_t lens[1] = {5};
    for (int i = 0; i < p->nlinks; i++)
        if (i != p->self_idx && p->links[PEER_CHAN_DATA][i].state == LINK_UP)
            peers_send(p, i, PEER_CHAN_DATA, PEER_PROBE_TIMEOUT_MS, probe_done, NULL, 1, argv,
                       lens);
}

static void link_free(struct link *l)
{
    if (l->ac) {
        redisAsyncContext *ac = l->ac;
        l->ac = NULL;
        redisAsyncFree(ac); /* runs pending callbacks with NULL replies */
    }
    event_free(l->retry);
    event_free(l->connect_deadline);
    mem_free(l->rtt);
}

void peers_destroy(struct peers *p)
{
    if (!p)
        return;
    p->destroying = true;
    if (p->probe)
        event_free(p->probe);
    for (int ch = 0; ch < PEER_CHAN_COUNT; ch++)
        for (int i = 0; i < p->nlinks; i++)
            link_free(&p->links[ch][i]);
    for (int i = 0; i < p->nseeds; i++)
        link_free(&p->seeds[i]);
    mem_free(p);
}

bool peers_up(const struct peers *p, int idx)
{
    if (idx == p->self_idx)
        return true;
    if (idx < 0 || idx >= p->nlinks)
        return false;
    const struct link *l = &p->links[PEER_CHAN_DATA][idx];
    return l->state == LINK_UP && !l->suspect;
}

static void send_on(struct peers *p, struct link *l, int timeout_ms, peer_reply_fn cb, void *arg,
                    int argc, const char **argv, const size_t *argvlen)
{
    struct preq *r = mem_calloc(1, sizeof(*r));
    r->peers = p;
    r->cb = cb;
    r->arg = arg;
    r->start_us = clock_mono_us();
    p->sent++;
    r->link = l;
    if (!l || l->state != LINK_UP || !l->ac ||
        redisAsyncCommandArgv(l->ac, on_reply, r, argc, argv, argvlen) != REDIS_OK) {
        r->hiredis_done = true;
        preq_answer(r, KV_EDISCONN, NULL);
        preq_maybe_free(r);
        return;
    }
    r->timer = evtimer_new(p->base, on_deadline, r);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    event_add(r->timer, &tv);
}

void peers_send(struct peers *p, int idx, enum peer_chan chan, int timeout_ms, peer_reply_fn cb,
                void *arg, int argc, const char **argv, const size_t *argvlen)
{
    struct link *l = (idx >= 0 && idx < p->nlinks) ? &p->links[chan][idx] : NULL;
    send_on(p, l, timeout_ms, cb, arg, argc, argv, argvlen);
}

void peers_send_seed(struct peers *p, int seed, int timeout_ms, peer_reply_fn cb, void *arg,
                     int argc, const char **argv, const size_t *argvlen)
{
    struct link *l = (seed >= 0 && seed < p->nseeds) ? &p->seeds[seed] : NULL;
    send_on(p, l, timeout_ms, cb, arg, argc, argv, argvlen);
}

void peers_stats(const struct peers *p, unsigned long long *sent, unsigned long long *failed,
                 unsigned long long *answered, unsigned long long *lat_us)
{
    *sent = p->sent;
    *failed = p->failed;
    *answered = p->answered;
    *lat_us = p->lat_us;
}

const struct lat_hist *peers_rtt(const struct peers *p, int idx)
{
    if (!p || idx < 0 || idx >= p->nlinks || idx == p->self_idx)
        return NULL;
    return p->links[PEER_CHAN_DATA][idx].rtt;
}

void peers_describe(const struct peers *p, int idx, struct buf *out)
{
    const struct cfg_node *cn = &p->cfg->nodes[idx];
    const struct link *l = &p->links[PEER_CHAN_DATA][idx];
    const char *state = idx == p->self_idx ? "self"
                        : (l->state == LINK_UP && l->suspect) ? "suspect"
                                                              : link_state_name(l->state);
    buf_printf(out, "%s %s:%d cport=%d link=%s fails=%llu", cn->name, cn->host, cn->port,
               cn->cport, state, idx == p->self_idx ? 0ULL : l->fails);
}
