/* http.h — the admin HTTP endpoint's transport: libevent's evhttp on the
 * node's own event loop (no second loop, no new dependency), GET and HEAD
 * only (other methods get 501), answering from a table of routes that a
 * higher layer hands down.
 *
 * What is served is not known here: each route is a path and a callback
 * that writes the body (cmd/admin.c builds /metrics, /health, /status and
 * /status.json).  Access: when requirepass is set (read live from cfg),
 * every request must carry it, either as a bearer token
 * ("Authorization: Bearer <password>") or with HTTP Basic authentication
 * (any user name, the password as password: what a browser asks for);
 * otherwise the answer is 401 with a Basic challenge.  Passwords are
 * compared in constant time (libsodium).  Requests are bounded: headers up
 * to 8 KB, no body, 10 s to send a request.
 *
 * Nothing here blocks; routes run on the event loop and must be bounded. */
#ifndef KV_HTTP_H
#define KV_HTTP_H

#include <stdint.h>

#include "util/buf.h"

struct event_base;
struct cfg;
struct http;

/* Writes the body of a route into body and sets *content_type (a static
 * string); returns the HTTP status (200, 503 ...).  query is the part of
 * the URI after '?' (NULL when none), borrowed. */
typedef int (*http_route_fn)(void *arg, const char *query, struct buf *body,
                             const char **content_type);

struct http_route {
    const char *path;    /* exact match, e.g. "/metrics" */
    http_route_fn fn;
    void *arg;
};

struct http_stats {
    uint64_t requests;       /* answered, any status */
    uint64_t unauthorized;   /* answered 401 */
    uint64_t not_found;      /* answered 404 */
};

/* Creates the endpoint on base; cfg borrowed and read live (requirepass).
 * routes[0..nroutes) is copied (paths and args borrowed for its life). */
struct http *http_create(struct event_base *base, const struct cfg *cfg,
                         const struct http_route *routes, int nroutes);
/* Listens on host:port.  0, or -errno (the address could not be bound). */
int http_listen(struct http *h, const char *host, int port);
const struct http_stats *http_stats(const struct http *h);
void http_destroy(struct http *h);   /* closes every connection; accepts NULL */

#endif
