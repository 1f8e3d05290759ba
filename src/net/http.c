/* http.c — the admin endpoint's HTTP transport (see http.h).
 *
 * Owns: the evhttp server, its listening socket, the route table.
 * Callers: main.c (create, listen, destroy; the routes come from
 * cmd/admin.c).  Calls: libevent's evhttp, core/http_auth (the password
 * check), the routes.
 * Invariants: every request gets exactly one reply before its callback
 * returns; protected mode holds as on the client port (403 to a remote
 * client of an endpoint bound beyond loopback without requirepass); a request that is not GET/HEAD is refused by evhttp (501); the
 * password is never echoed or logged.  Nothing blocks.
 */
#include "net/http.h"

#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
#include "core/http_auth.h"
#include "net/server.h"
#include "util/log.h"
#include "util/mem.h"

#define HTTP_MAX_ROUTES 16
#define HTTP_MAX_HEADERS 8192
#define HTTP_TIMEOUT_S 10

struct http {
    struct event_base *base;
    const struct cfg *cfg;
    struct evhttp *ev;
    struct http_route routes[HTTP_MAX_ROUTES];
    int nroutes;
    struct http_stats stats;
    char bound[64];          /* the address it listens on (protected mode) */
};

/* True when the request may be answered: no password set, or it carries
 * the password (core/http_auth.h: Bearer token, or Basic, any user name). */
static bool authorized(const struct http *h, struct evhttp_request *req)
{
    const char *pass = h->cfg->requirepass;
    if (!pass || !*pass)
        return true;
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    return a && http_auth_ok(a, strlen(a), pass);
}

/* Protected mode, as on the client port (net/accept.c). */
static bool refused_by_protected_mode(const struct http *h, struct evhttp_request *req)
{
    struct evhttp_connection *con = evhttp_request_get_connection(req);
    int fd = con ? bufferevent_getfd(evhttp_connection_get_bufferevent(con)) : -1;
    struct sockaddr_in peer;
    socklen_t len = sizeof(peer);
    memset(&peer, 0, sizeof(peer));
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&peer, &len) != 0)
        return true; /* cannot tell: refuse rather than serve */
    return srv_protected_refuses(h->cfg, h->bound, &peer);
}

static void reply_text(struct evhttp_request *req, int code, const char *reason,
                       const char *text)
{
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, text, strlen(text));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; charset=utf-8");
    evhttp_send_reply(req, code, reason, out);
    evbuffer_free(out);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct http *h = arg;
    h->stats.requests++;
    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Cache-Control", "no-store");
    evhttp_add_header(oh, "X-Content-Type-Options", "nosniff");
    if (refused_by_protected_mode(h, req)) {
        h->stats.unauthorized++;
        reply_text(req, 403, "Forbidden",
                   "dynamo-node is running in protected mode: the admin endpoint listens beyond "
                   "loopback and no password is set, so only loopback clients are served. Set "
                   "requirepass (then send it as a Bearer token or with HTTP Basic), bind "
                   "admin-bind to 127.0.0.1, or set protected-mode no if the network is "
                   "trusted.\n");
        return;
    }
    if (!authorized(h, req)) {
        h->stats.unauthorized++;
        evhttp_add_header(oh, "WWW-Authenticate", "Basic realm=\"dynamo-node\", charset=\"UTF-8\"");
        reply_text(req, 401, "Unauthorized",
                   "requirepass is set: send it as 'Authorization: Bearer <password>' or with "
                   "HTTP Basic authentication (any user name)\n");
        return;
    }
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    if (!path || !*path)
        path = "/";
    for (int i = 0; i < h->nroutes; i++) {
        if (strcmp(h->routes[i].path, path) != 0)
            continue;
        struct buf body;
        buf_init(&body);
        const char *ctype = "text/plain; charset=utf-8";
        int code = h->routes[i].fn(h->routes[i].arg, query, &body, &ctype);
        struct evbuffer *out = evbuffer_new();
        evbuffer_add(out, body.data ? body.data : "", body.len);
        buf_fini(&body);
        evhttp_add_header(oh, "Content-Type", ctype);
        evhttp_send_reply(req, code, code == 200 ? "OK" : code == 503 ? "Service Unavailable" : "",
                          out);
        evbuffer_free(out);
        return;
    }
    h->stats.not_found++;
    reply_text(req, 404, "Not Found",
               "not found; try /status, /status.json, /metrics or /health\n");
}

struct http *http_create(struct event_base *base, const struct cfg *cfg,
                         const struct http_route *routes, int nroutes)
{
    struct http *h = mem_calloc(1, sizeof(*h));
    h->base = base;
    h->cfg = cfg;
    h->nroutes = nroutes < HTTP_MAX_ROUTES ? nroutes : HTTP_MAX_ROUTES;
    memcpy(h->routes, routes, (size_t)h->nroutes * sizeof(*routes));
    h->ev = evhttp_new(base);
    evhttp_set_allowed_methods(h->ev, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
    evhttp_set_max_headers_size(h->ev, HTTP_MAX_HEADERS);
    evhttp_set_max_body_size(h->ev, 0);
    evhttp_set_timeout(h->ev, HTTP_TIMEOUT_S);
    evhttp_set_gencb(h->ev, on_request, h);
    return h;
}

int http_listen(struct http *h, const char *host, int port)
{
    snprintf(h->bound, sizeof(h->bound), "%s", host);
    errno = 0;
    if (!evhttp_bind_socket_with_handle(h->ev, host, (ev_uint16_t)port))
        return errno ? -errno : -EADDRNOTAVAIL;
    return 0;
}

const struct http_stats *http_stats(const struct http *h)
{
    return &h->stats;
}

void http_destroy(struct http *h)
{
    if (!h)
        return;
    evhttp_free(h->ev);
    mem_free(h);
}
