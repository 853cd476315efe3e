/*
 * http.h: the HTTP front of spoor-server: libmicrohttpd driven by the server's libuv loop
 * (MHD's epoll descriptor watched by one uv_poll, its timeouts by one uv_timer), so HTTP and
 * indexing share one loop and no second event loop competes with it. Requests are answered
 * by a handler function on the loop thread; routes and JSON live in the API module.
 *
 * Every handler answers at once from the index, so no connection is ever suspended: there is
 * nothing to wait for. A request body larger than HTTP_MAX_BODY is refused with 413 before the
 * handler runs.
 */
#ifndef SPOOR_HTTP_H
#define SPOOR_HTTP_H

#include <spoor/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define HTTP_MAX_BODY (1024 * 1024)

/* One request, valid during the handler call. */
struct http_request {
    const char *method;
    const char *url;  /* path only, percent-decoded except %2F and %00, which stay as written */
    const char *body; /* NUL-terminated; "" when there is none */
    size_t body_len;
    void *conn; /* libmicrohttpd's connection, for the lookups below */
};

/* A request header (case-insensitive name) or query argument (decoded), NULL when absent. */
const char *http_header(const struct http_request *rq, const char *name);
const char *http_query(const struct http_request *rq, const char *name);

struct http_reply {
    int status;
    const char *content_type; /* static string */
    char *body;               /* new: the server frees it (NULL: empty) */
    size_t body_len;
    int fd; /* >= 0: the body is this file's first fd_size bytes (closed after) */
    size_t fd_size;
    char etag[48];                /* "" or the ETag value, quotes included */
    const char *cache_control;    /* static string or NULL */
    const char *www_authenticate; /* static string or NULL */
};

typedef void (*http_handler_fn)(void *ud, const struct http_request *rq, struct http_reply *reply);

struct http_server;

/* Listens on host:port (port 0: any free port) on loop. NULL and err filled when the address
 * cannot be used. */
struct http_server *http_start(uv_loop_t *loop, const char *host, int port, http_handler_fn fn,
                               void *ud, struct spoor_error *err);
int http_port(const struct http_server *h);
/* Stops listening and closes the handles; done (may be NULL) runs once they are closed. */
void http_stop(struct http_server *h, void (*done)(void *ud), void *ud);

#endif
