/*
 * http.h: the HTTP front of spoor-server: libmicrohttpd driven by the server's libuv loop
 * (MHD's epoll descriptor watched by one uv_poll, its timeouts by one uv_timer), so HTTP and
 * indexing share one loop and no second event loop competes with it. Requests are answered
 * by a handler function; routes and JSON live in the API module.
 */
#ifndef SPOOR_HTTP_H
#define SPOOR_HTTP_H

#include <spoor/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

struct http_reply {
    int status;
    const char *content_type;
    char *body; /* new: the server frees it */
    size_t body_len;
};

/* Fills reply for method and url (path only, percent-decoded by libmicrohttpd). */
typedef void (*http_handler_fn)(void *ud, const char *method, const char *url,
                                struct http_reply *reply);

struct http_server;

/* Listens on host:port (port 0: any free port) on loop. NULL and err filled when the address
 * cannot be used. */
struct http_server *http_start(uv_loop_t *loop, const char *host, int port, http_handler_fn fn,
                               void *ud, struct spoor_error *err);
int http_port(const struct http_server *h);
/* Stops listening and closes the handles; done (may be NULL) runs once they are closed. */
void http_stop(struct http_server *h, void (*done)(void *ud), void *ud);

#endif
