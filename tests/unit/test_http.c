/*
 * test_http.c: the HTTP front on a libuv loop: a real client (libcurl, on another thread)
 * gets the handler's status, content type and body through libmicrohttpd driven by the loop;
 * many requests on kept-alive connections; stopping leaves no handle open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "util.h"

static void handler(void *ud, const char *method, const char *url, struct http_reply *r)
{
    ++*(int *)ud;
    if (strcmp(url, "/ready") == 0) {
        r->status = 200;
        r->body = xstrdup("{\"ready\":true}");
    } else {
        r->status = 404;
        char buf[300];
        snprintf(buf, sizeof buf, "{\"detail\":\"no route %s %s\"}", method, url);
        r->body = xstrdup(buf);
    }
    r->body_len = strlen(r->body);
}

struct client {
    int port;
    uv_async_t done;
    long status[3];
    char body[3][128];
    char type[64];
};

static size_t collect(char *p, size_t size, size_t n, void *ud)
{
    size_t len = strlen(ud);
    snprintf((char *)ud + len, 128 - len, "%.*s", (int)(size * n), p);
    return size * n;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    CURL *h = curl_easy_init();
    const char *paths[3] = {"/ready", "/nope", "/ready"};
    for (int i = 0; i < 3; i++) {
        char url[128];
        snprintf(url, sizeof url, "http://127.0.0.1:%d%s", c->port, paths[i]);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, c->body[i]);
        curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &c->status[i]);
        char *ct = NULL;
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ct);
        if (ct)
            snprintf(c->type, sizeof c->type, "%s", ct);
    }
    curl_easy_cleanup(h);
    uv_async_send(&c->done);
    return NULL;
}

static void on_done(uv_async_t *a)
{
    uv_close((uv_handle_t *)a, NULL);
}

static void on_stopped(void *ud)
{
    ++*(int *)ud;
}

static void test_requests_on_the_loop(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int calls = 0;
    struct spoor_error err;
    struct http_server *h = http_start(&loop, "127.0.0.1", 0, handler, &calls, &err);
    assert_non_null(h);
    struct client c;
    memset(&c, 0, sizeof c);
    c.port = http_port(h);
    assert_true(c.port > 0);
    uv_async_init(&loop, &c.done, on_done);
    pthread_t th;
    pthread_create(&th, NULL, client_main, &c);
    while (uv_is_active((uv_handle_t *)&c.done) && !uv_is_closing((uv_handle_t *)&c.done))
        uv_run(&loop, UV_RUN_ONCE);
    pthread_join(th, NULL);
    assert_int_equal(calls, 3);
    assert_int_equal(c.status[0], 200);
    assert_string_equal(c.body[0], "{\"ready\":true}");
    assert_int_equal(c.status[1], 404);
    assert_string_equal(c.body[1], "{\"detail\":\"no route GET /nope\"}");
    assert_string_equal(c.type, "application/json");
    int stopped = 0;
    http_stop(h, on_stopped, &stopped);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(stopped, 1);
    assert_int_equal(uv_loop_close(&loop), 0);

    /* the address in use is a clear error */
    uv_loop_init(&loop);
    struct http_server *a = http_start(&loop, "127.0.0.1", 0, handler, &calls, &err);
    struct http_server *b = http_start(&loop, "127.0.0.1", http_port(a), handler, &calls, &err);
    assert_null(b);
    assert_non_null(strstr(err.message, "--port"));
    http_stop(a, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_null(http_start(&loop, "not-an-ip", 0, handler, &calls, &err));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_requests_on_the_loop)};
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
