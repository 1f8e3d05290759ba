/* defer.h — the one deferred-reply mechanism of the command handlers: "a
 * request of client (id) whose reply comes later".
 *
 * A handler that cannot answer before it returns embeds a struct defer at
 * the start of its own state and:
 *   1. defer_init(d, c, reply, fini)        (or defer_create)
 *   2. starts its sub-requests, each counted: defer_sub_begin (a
 *      coordinator request: counts against max-inflight-per-client) or
 *      defer_hold_open (anything else: peer requests, internal calls);
 *      or, for many keys, defer_launch_all (at most the in-flight cap at
 *      once, the rest as earlier ones complete);
 *   3. defer_dispatched(d, c) before returning: answers now when every
 *      sub-request already ended, else reserves the reply's place
 *      (srv_slot_open);
 *   4. each completion collects its partial result into the embedding
 *      struct and calls defer_sub_end / defer_release.  The last one
 *      writes the reply: reply(d, c) with c->out redirected into the slot
 *      (srv_slot_fill), then fini(d) and the memory is freed.
 * The client is found again by id (srv_client_find) at every step, so one
 * that went away meanwhile is never written to; the reply is then dropped.
 *
 * Redirect: a command run on behalf of another one (EXEC running a queued
 * command on its client, defer_call running SET or VDEL for RENAME/COPY on
 * a scratch client) gets its reply passed to a callback instead of a slot:
 * the caller sets c->defer_to to a struct defer_to around one synchronous
 * cmd_dispatch_client, and the first defer_init on c takes it.
 *
 * Nothing here blocks.  Call from handlers and event-loop callbacks. */
#ifndef KV_DEFER_H
#define KV_DEFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cmd/cmd_latency.h"
#include "net/server.h"
#include "util/buf.h"

struct kv_node;
struct defer;

/* Writes the finished reply into c->out (c's protocol: c->proto). */
typedef void (*defer_reply_fn)(struct defer *d, struct client *c);
/* Frees what the embedding struct owns (not the struct itself). */
typedef void (*defer_fini_fn)(struct defer *d);
/* Starts sub-request i of a multi-key command (arguments in d->largv). */
typedef void (*defer_launch_fn)(struct defer *d, int i);
/* A redirected reply: bytes valid only during the call. */
typedef void (*defer_call_fn)(void *arg, const char *reply, size_t len);

struct defer_to {
    defer_call_fn done;
    void *arg;
    bool taken;                /* a deferred reply took the redirect */
};

struct defer {
    struct kv_node *node;
    struct srv *srv;           /* the client's server; NULL for a scratch client */
    uint64_t cid;              /* the client, found again with srv_client_find */
    int proto;                 /* the client's protocol */
    bool accounted;            /* cid is a real connection: its in-flight cap holds */
    int left;                  /* open sub-requests + the dispatch guard
                                  (+ the launch guard while launches wait) */
    int inflight;              /* coordinator sub-requests in flight */
    size_t held;               /* result bytes charged to the client (srv_client_hold) */
    struct reply_slot *slot;   /* reserved reply place when answered late */
    defer_call_fn call_done;   /* redirected: the reply goes here */
    void *call_arg;
    defer_reply_fn reply;      /* NULL: err (KV_E*), or else out, is the reply */
    defer_fini_fn fini;        /* may be NULL */
    int err;                   /* default reply: a KV_E* code (KV_ESIBLINGS: nsib) */
    unsigned nsib;
    struct buf out;            /* default reply: these bytes */
    /* sub-requests not launched yet (defer_launch_all) */
    defer_launch_fn launch;
    struct arg *largv;         /* the command's arguments, copied */
    char *lblob;
    int lnext, lend;
    bool pumping;              /* launching: completions only count */
    struct cmd_lat_taken lat;  /* the command's latency, recorded with its reply */
};

/* Sets up d (memory owned by the caller, freed by it after fini) for a
 * request of c (borrowed; only its id is kept). */
void defer_init(struct defer *d, struct client *c, defer_reply_fn reply, defer_fini_fn fini);
/* Allocates size bytes (a struct starting with struct defer), zeroed, and
 * defer_inits it; freed with mem_free after the reply. */
void *defer_create(size_t size, struct client *c, defer_reply_fn reply, defer_fini_fn fini);
/* Once created, d must reach defer_dispatched: under a redirect it took
 * the redirect, so a handler that replied into c->out itself instead would
 * leave the redirected caller waiting. */

/* d's connection, or NULL (gone, or a scratch client). */
struct client *defer_client(const struct defer *d);
/* The connection d was for is gone (a scratch client never is). */
bool defer_gone(const struct defer *d);

/* One more coordinator sub-request: counted in the client's in-flight
 * accounting (srv_inflight_begin) until defer_sub_end. */
void defer_sub_begin(struct defer *d);
/* It completed: srv_inflight_end, launch what waits, then defer_release
 * (may free d). */
void defer_sub_end(struct defer *d);
/* One more thing to wait for that is not a coordinator request (a peer
 * request, an internal call, the write half of a read-then-write): ended
 * by defer_release. */
void defer_hold_open(struct defer *d);
/* One wait ended (or the dispatch guard is dropped): the last one writes
 * the reply and frees d. */
void defer_release(struct defer *d);
/* Called by the handler once everything is under way. */
void defer_dispatched(struct defer *d, struct client *c);

/* Charges bytes of gathered results to the client's output limit until the
 * reply is written (srv_client_hold); nothing when the client is gone. */
void defer_hold_bytes(struct defer *d, size_t bytes);

/* Launches sub-requests 0..n-1 through launch(d, i), at most as many at
 * once as the connection's in-flight cap allows; argv[0..argc) is copied
 * into d->largv first (launches may happen after the handler returned).
 * A launch may complete at once.  When the connection goes away, the rest
 * are still passed to launch, which must fail them (see defer_gone). */
void defer_launch_all(struct defer *d, int n, int argc, const struct arg *argv,
                      defer_launch_fn launch);


/* Runs a client command (argv borrowed; typically SET or VDEL) on behalf of
 * another command (RENAME, COPY), with the same routing and quorum as for a
 * client, but for no connection: on a scratch client, redirected.  Its
 * RESP2 reply is passed to done(arg, reply, len) exactly once, possibly
 * before defer_call returns.  Callable from event-loop callbacks and
 * handlers. */
void defer_call(struct kv_node *node, int argc, const struct arg *argv, defer_call_fn done,
                void *arg);
/* defer_call with a given handler instead of the command table's (an
 * internal step that is no client command: typed_copy.c's copy of a typed
 * key, run through cmd_typed).  handler is e.g. a cmd_fn of cmd.h. */
typedef void (*defer_handler_fn)(struct client *c, int argc, const struct arg *argv);
void defer_run(struct kv_node *node, int argc, const struct arg *argv, defer_handler_fn handler,
               defer_call_fn done, void *arg);

#endif
