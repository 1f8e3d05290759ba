/* http.c — the admin endpoint's HTTP transport (see http.h).
 *
 * Owns: the evhttp server, its listening socket, the route table.
 * Callers: main.c (create, listen, destroy; the routes come from
 * cmd/admin.c).  Calls: libevent's evhttp, libsodium (password check),
 * the routes.
 * Invariants: every request gets exactly one reply before its callback
 * returns; a request that is not GET/HEAD is refused by evhttp (501); the
 * password is never echoed or logged.  Nothing blocks.
 */
#include "net/http.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <sodium.h>
#include <string.h>
#include <strings.h>

#include "core/config.h"
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
};

/* Constant-time equality of two byte strings of any lengths: both are
 * hashed (BLAKE2b) and the digests compared with sodium_memcmp. */
static bool same_secret(const void *a, size_t alen, const char *b)
{
    unsigned char ha[32], hb[32];
    crypto_generichash(ha, sizeof(ha), a, alen, NULL, 0);
    crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, strlen(b), NULL, 0);
    return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

/* True when the request may be answered: no password set, or it carries
 * the password (Bearer token, or Basic with any user name). */
static bool authorized(const struct http *h, struct evhttp_request *req)
{
    const char *pass = h->cfg->requirepass;
    if (!pass || !*pass)
        return true;
    const char *a = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!a)
        return false;
    if (strncasecmp(a, "Bearer ", 7) == 0)
        return same_secret(a + 7, strlen(a + 7), pass);
    if (strncasecmp(a, "Basic ", 6) != 0)
        return false;
    const char *b64 = a + 6;
    size_t blen = strlen(b64);
    if (blen > 1024)
        return false;
    unsigned char dec[800];
    size_t dlen = 0;
    if (sodium_base642bin(dec, sizeof(dec), b64, blen, NULL, &dlen, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return false;
    unsigned char *colon = memchr(dec, ':', dlen);
    if (!colon)
        return false;
    size_t plen = dlen - (size_t)(colon + 1 - dec);
    bool ok = same_secret(colon + 1, plen, pass);
    sodium_memzero(dec, sizeof(dec));
    return ok;
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
