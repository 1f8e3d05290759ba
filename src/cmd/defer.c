/* defer.c — the one deferred-reply mechanism (see defer.h): a request of
 * client (id) whose reply comes later.
 *
 * Owns: struct defer's life (sub-request counting, the reply slot, the
 * redirect of a reply to a callback, freeing), the in-flight accounting of
 * coordinator sub-requests (srv_inflight_begin/end: a connection pauses at
 * max-inflight-per-client; a multi-key command launches its keys as
 * earlier ones complete, so MGET of 100 000 keys has at most the cap in
 * flight, and a defer with nothing in flight always launches one, so it
 * cannot wait forever on capacity held by its own connection's other
 * requests, as in MULTI/EXEC), and the output-limit charge of results
 * gathered for a later reply (srv_client_hold).
 * Invariants: the reply is written exactly once, when d->left drops to 0;
 * a connection is reached only through srv_client_find(d->cid), so one
 * that went away is never written to; d is freed right after its reply.
 * Callers: cmd_kv.c, cmd_fwd.c, cmd_vkv.c (struct op embeds a defer),
 * cmd_keyspace.c (KEYS/SCAN/DBSIZE/RANDOMKEY, RENAME/COPY, EXEC).
 * Calls: server.c (slots, in-flight, hold), cmd_latency.c (a command
 * answered here is timed until its reply), cmd.c (dispatch, reply
 * helpers).  Nothing here blocks.
 */
#include <string.h>

#include "cmd/defer.h"

#include "cmd/cmd.h"
#include "util/errors.h"
#include "util/mem.h"

/* The connection of id d->cid, or NULL: gone, or d is for a scratch client
 * (no server). */
static struct client *find(const struct defer *d)
{
    return d->srv ? srv_client_find(d->srv, d->cid) : NULL;
}

void defer_init(struct defer *d, struct client *c, defer_reply_fn reply, defer_fini_fn fini)
{
    memset(d, 0, sizeof(*d));
    d->node = c->node;
    d->cid = c->id;
    d->proto = c->proto;
    d->left = 1; /* the dispatch guard, dropped by defer_dispatched */
    d->reply = reply;
    d->fini = fini;
    d->srv = c->srv;
    d->accounted = find(d) == c;
    buf_init(&d->out);
    cmd_lat_take(c, &d->lat);
    struct defer_to *to = c->defer_to;
    if (to && !to->taken) {
        to->taken = true;
        d->call_done = to->done;
        d->call_arg = to->arg;
    }
}

void *defer_create(size_t size, struct client *c, defer_reply_fn reply, defer_fini_fn fini)
{
    struct defer *d = mem_calloc(1, size);
    defer_init(d, c, reply, fini);
    return d;
}

static void defer_destroy(struct defer *d)
{
    if (d->fini)
        d->fini(d);
    cmd_lat_finish(&d->lat, NULL, false); /* frees; recorded in finish() */
    buf_fini(&d->out);
    mem_free(d->largv);
    mem_free(d->lblob);
    mem_free(d);
}

struct client *defer_client(const struct defer *d)
{
    return d->accounted ? find(d) : NULL;
}

bool defer_gone(const struct defer *d)
{
    return d->accounted && !find(d);
}

/* Writes d's reply into c->out. */
static void deliver(void *arg, struct client *c)
{
    struct defer *d = arg;
    if (d->reply)
        d->reply(d, c);
    else if (d->err == KV_ESIBLINGS)
        cmd_reply_siblings(c, d->nsib);
    else if (d->err)
        cmd_reply_kverr(c, d->err);
    else
        buf_put(&c->out, d->out.data ? d->out.data : "", d->out.len);
}

/* A connection-less client (node borrowed, protocol 2 or 3) that handlers
 * and reply helpers can run on: only node, proto, kind, flags, last_cmd and
 * out are set.  buf_fini(&c->out) when done. */
static void defer_scratch_init(struct client *c, struct kv_node *node, int proto)
{
    memset(c, 0, sizeof(*c));
    c->node = node;
    c->proto = proto;
    c->kind = SRV_CLIENT;
    c->flags = CLI_F_AUTHED;
    buf_init(&c->out);
}


/* Everything ended: the reply goes to the redirect, or to c (given: inside
 * the handler), or into the reserved slot of the client if it is still
 * there.  Frees d. */
static void finish(struct defer *d, struct client *now)
{
    /* the command's latency ends here, just before its reply is written */
    cmd_lat_finish(&d->lat, now ? now : find(d), true);
    if (d->held) {
        struct client *hc = defer_client(d);
        if (hc)
            srv_client_hold(hc, -(long long)d->held);
        d->held = 0;
    }
    if (d->call_done) {
        struct client tmp;
        defer_scratch_init(&tmp, d->node, d->proto);
        deliver(d, &tmp);
        d->call_done(d->call_arg, tmp.out.data ? tmp.out.data : "", tmp.out.len);
        buf_fini(&tmp.out);
    } else if (now) {
        deliver(d, now);
    } else if ((now = find(d)) != NULL) {
        if (d->slot)
            srv_slot_fill(now, d->slot, deliver, d);
        else
            deliver(d, now);
    }
    defer_destroy(d);
}

void defer_release(struct defer *d)
{
    if (--d->left > 0)
        return;
    finish(d, NULL);
}

void defer_dispatched(struct defer *d, struct client *c)
{
    if (d->left == 1) {
        finish(d, c);
        return;
    }
    if (!d->call_done)
        d->slot = srv_slot_open(c);
    defer_release(d);
}

void defer_hold_open(struct defer *d)
{
    d->left++;
}

void defer_sub_begin(struct defer *d)
{
    d->left++;
    d->inflight++;
    struct client *c = defer_client(d);
    if (c)
        srv_inflight_begin(c);
}

static void pump(struct defer *d);

void defer_sub_end(struct defer *d)
{
    d->inflight--;
    struct client *c = defer_client(d);
    if (c)
        srv_inflight_end(c);
    if (d->lnext < d->lend)
        pump(d);
    defer_release(d);
}

void defer_hold_bytes(struct defer *d, size_t bytes)
{
    struct client *c = defer_client(d);
    if (!c || bytes == 0)
        return;
    d->held += bytes;
    srv_client_hold(c, (long long)bytes);
}

/* Launches waiting sub-requests while the connection has room.  When the
 * connection is gone, every remaining launch runs at once (and fails). */
static void pump(struct defer *d)
{
    if (d->pumping)
        return; /* a launch completed at once: the loop below goes on */
    d->pumping = true;
    while (d->lnext < d->lend) {
        struct client *c = defer_client(d);
        if (c && srv_inflight_full(c) && d->inflight > 0)
            break;
        d->launch(d, d->lnext++);
    }
    d->pumping = false;
    if (d->lnext == d->lend && d->launch) {
        d->launch = NULL;
        defer_release(d); /* the launch guard; may free d */
    }
}

void defer_launch_all(struct defer *d, int n, int argc, const struct arg *argv,
                      defer_launch_fn launch)
{
    size_t total = 0;
    for (int i = 0; i < argc; i++)
        total += argv[i].len;
    d->lblob = mem_alloc(total ? total : 1);
    d->largv = mem_alloc((size_t)(argc ? argc : 1) * sizeof(*d->largv));
    char *p = d->lblob;
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].p, argv[i].len);
        d->largv[i].p = p;
        d->largv[i].len = argv[i].len;
        p += argv[i].len;
    }
    d->launch = launch;
    d->lnext = 0;
    d->lend = n;
    d->left++; /* the launch guard, dropped by pump after the last launch */
    pump(d);
}


void defer_call(struct kv_node *node, int argc, const struct arg *argv, defer_call_fn done,
                void *arg)
{
    defer_run(node, argc, argv, cmd_dispatch_client, done, arg);
}

void defer_run(struct kv_node *node, int argc, const struct arg *argv, defer_handler_fn handler,
               defer_call_fn done, void *arg)
{
    struct client tmp;
    defer_scratch_init(&tmp, node, 2);
    struct defer_to to = {.done = done, .arg = arg, .taken = false};
    tmp.defer_to = &to;
    handler(&tmp, argc, argv);
    if (!to.taken) /* the handler answered at once, into tmp.out */
        done(arg, tmp.out.data ? tmp.out.data : "", tmp.out.len);
    buf_fini(&tmp.out);
}
