/*
 * http.c: libmicrohttpd in "external epoll" mode on the server's libuv loop. MHD owns an epoll
 * descriptor for its sockets; a uv_poll watches that one descriptor and a uv_timer follows
 * MHD_get_timeout, and both call MHD_run, which answers whatever is ready. Handlers run on the
 * loop thread, so they may use the index directly.
 *
 * A request's body arrives in pieces over several calls of on_request; it is gathered (up to
 * HTTP_MAX_BODY, else 413) and the handler runs once, on the last call. Percent-decoding
 * leaves "%2F" and "%00" encoded (see unescape).
 */
#include "http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "uri.h"
#include "util.h"

struct http_server {
    struct MHD_Daemon *d;
    uv_poll_t poll;
    uv_timer_t timer;
    http_handler_fn fn;
    void *ud;
    int open;
    void (*done)(void *);
    void *done_ud;
};

/* Per request: the body gathered so far. */
struct pending {
    struct buf body;
    bool too_large;
};

static void schedule(struct http_server *h);

static void drive(struct http_server *h)
{
    MHD_run(h->d);
    schedule(h);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    drive(p->data);
}

static void on_timer(uv_timer_t *t)
{
    drive(t->data);
}

/* Next MHD housekeeping deadline (connection timeouts). */
static void schedule(struct http_server *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;
    if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        uv_timer_start(&h->timer, on_timer, ms, 0);
    else
        uv_timer_stop(&h->timer);
}

const char *http_header(const struct http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_query(const struct http_request *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

/* Percent-decoding of the path and query arguments, in place. "%2F" and "%00" stay encoded: a
 * '/' inside an identifier must not become a path separator, nor a NUL its end. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = uri_hex_value((unsigned char)r[1])) >= 0 &&
            (lo = uri_hex_value((unsigned char)r[2])) >= 0 && hi * 16 + lo != '/' &&
            hi * 16 + lo != 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static enum MHD_Result respond(struct MHD_Connection *c, struct http_reply *r)
{
    struct MHD_Response *resp;
    if (r->fd >= 0) {
        free(r->body);
        resp = MHD_create_response_from_fd(r->fd_size, r->fd);
    } else {
        if (!r->body)
            r->body = xstrdup("");
        resp = MHD_create_response_from_buffer(r->body_len, r->body, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp) {
        if (r->fd >= 0)
            close(r->fd);
        return MHD_NO;
    }
    if (r->status != 304 && r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    if (r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r->cache_control)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache_control);
    if (r->www_authenticate)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, r->www_authenticate);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **state)
{
    struct http_server *h = cls;
    struct pending *p = *state;
    if (!p) { /* first call: headers only */
        p = xcalloc(1, sizeof *p);
        buf_init(&p->body, HTTP_MAX_BODY);
        *state = p;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!p->too_large && buf_append(&p->body, upload_data, *upload_size) != 0)
            p->too_large = true;
        *upload_size = 0;
        return MHD_YES;
    }
    struct http_reply r = {.status = 500, .content_type = "application/json", .fd = -1};
    if (p->too_large) {
        r.status = 413;
        r.body = xstrdup("{\"detail\":\"the request body is larger than 1 MiB\"}");
        r.body_len = strlen(r.body);
    } else {
        struct http_request rq = {method, url, p->body.data ? p->body.data : "", p->body.len, c};
        h->fn(h->ud, &rq, &r);
    }
    return respond(c, &r);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode code)
{
    struct pending *p = *state;
    if (!p)
        return;
    buf_cleanup(&p->body);
    free(p);
    *state = NULL;
}

struct http_server *http_start(uv_loop_t *loop, const char *host, int port, http_handler_fn fn,
                               void *ud, struct spoor_error *err)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        spoor_error_set(err, SPOOR_E_CONFIG, "listen address %s is not an IPv4 address", host);
        return NULL;
    }
    struct http_server *h = xcalloc(1, sizeof *h);
    h->fn = fn;
    h->ud = ud;
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL, (uint16_t)port, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
        (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, NULL, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
    if (!h->d) {
        spoor_error_set(err, SPOOR_E_CONFIG,
                        "cannot listen on %s:%d (in use, or not allowed); set SPOOR_PORT or "
                        "--port to another port",
                        host, port);
        free(h);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    uv_poll_init(loop, &h->poll, info->epoll_fd);
    uv_timer_init(loop, &h->timer);
    h->poll.data = h->timer.data = h;
    h->open = 2;
    uv_poll_start(&h->poll, UV_READABLE, on_poll);
    schedule(h);
    return h;
}

int http_port(const struct http_server *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    return info ? info->port : 0;
}

static void on_closed(uv_handle_t *handle)
{
    struct http_server *h = handle->data;
    if (--h->open > 0)
        return;
    MHD_stop_daemon(h->d);
    void (*done)(void *) = h->done;
    void *ud = h->done_ud;
    free(h);
    if (done)
        done(ud);
}

void http_stop(struct http_server *h, void (*done)(void *ud), void *ud)
{
    h->done = done;
    h->done_ud = ud;
    uv_poll_stop(&h->poll);
    uv_timer_stop(&h->timer);
    uv_close((uv_handle_t *)&h->poll, on_closed);
    uv_close((uv_handle_t *)&h->timer, on_closed);
}
