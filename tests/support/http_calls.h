/*
 * http_calls.h: a real HTTP client for tests of servers that run on the test's own libuv loop
 * (http.c, api.c): a list of requests is sent by libcurl from another thread, one after the
 * other on one kept-alive connection, while the loop serves them. Header-only; include after
 * <cmocka.h>; link libcurl and pthreads.
 */
#ifndef SPOOR_TEST_HTTP_CALLS_H
#define SPOOR_TEST_HTTP_CALLS_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "buf.h"

/* One request and what came back. */
struct http_call {
    const char *method; /* NULL: GET */
    const char *path;   /* with the query, sent as is */
    const char *header; /* one extra request header, or NULL */
    const char *body;   /* request body, or NULL */
    size_t body_len;    /* bytes of body; 0: strlen(body) */
    long status;
    struct buf got; /* the response body, NUL-terminated ("" when empty) */
    char type[80], etag[64], cache[64], auth[64];
};

struct http_calls {
    int port;
    uv_async_t done;
    struct http_call *calls;
    size_t n;
};

static inline size_t http_calls_collect(char *p, size_t size, size_t n, void *ud)
{
    buf_append(ud, p, size * n);
    return size * n;
}

/* Keeps the response headers the tests look at. */
static inline size_t http_calls_header(char *p, size_t size, size_t n, void *ud)
{
    static const struct {
        const char *name;
        size_t off, cap;
    } keep[] = {{"ETag: ", offsetof(struct http_call, etag), 64},
                {"Cache-Control: ", offsetof(struct http_call, cache), 64},
                {"WWW-Authenticate: ", offsetof(struct http_call, auth), 64}};
    int len = (int)(size * n);
    while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
        int k = (int)strlen(keep[i].name);
        if (len > k && strncasecmp(p, keep[i].name, (size_t)k) == 0)
            snprintf((char *)ud + keep[i].off, keep[i].cap, "%.*s", len - k, p + k);
    }
    return size * n;
}

static inline void *http_calls_thread(void *arg)
{
    struct http_calls *cl = arg;
    CURL *h = curl_easy_init(); /* one handle: the connection is kept alive between calls */
    for (size_t i = 0; i < cl->n; i++) {
        struct http_call *c = &cl->calls[i];
        char url[1024];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", cl->port, c->path);
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, c->method ? c->method : "GET");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_calls_collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->got);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, http_calls_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
        struct curl_slist *hs = curl_slist_append(NULL, "Expect:");
        if (c->header)
            hs = curl_slist_append(hs, c->header);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hs);
        if (c->body) {
            curl_easy_setopt(h, CURLOPT_POSTFIELDS, c->body);
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                             (curl_off_t)(c->body_len ? c->body_len : strlen(c->body)));
        }
        curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status);
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        snprintf(c->type, sizeof c->type, "%s", ct ? ct : "");
        curl_slist_free_all(hs);
    }
    curl_easy_cleanup(h);
    uv_async_send(&cl->done);
    return NULL;
}

static inline void http_calls_done(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
}

/* Sends calls[0..n) to 127.0.0.1:port while running loop; returns once all are answered. */
static inline void http_calls_run(uv_loop_t *loop, int port, struct http_call *calls, size_t n)
{
    struct http_calls cl = {.port = port, .calls = calls, .n = n};
    for (size_t i = 0; i < n; i++)
        buf_init(&calls[i].got, SIZE_MAX);
    uv_async_init(loop, &cl.done, http_calls_done);
    pthread_t th;
    pthread_create(&th, NULL, http_calls_thread, &cl);
    while (uv_is_active((uv_handle_t *)&cl.done) && !uv_is_closing((uv_handle_t *)&cl.done))
        uv_run(loop, UV_RUN_ONCE);
    pthread_join(th, NULL);
    for (size_t i = 0; i < n; i++)
        if (!calls[i].got.data) { /* an empty body reads as "" */
            buf_append_byte(&calls[i].got, '\0');
            calls[i].got.len = 0;
        }
}

static inline void http_calls_free(struct http_call *calls, size_t n)
{
    for (size_t i = 0; i < n; i++)
        buf_cleanup(&calls[i].got);
}

#endif
