/*
 * test_http.c: the HTTP front on a libuv loop: a real client (libcurl, on another thread)
 * gets the handler's status, content type, headers and body through libmicrohttpd driven by
 * the loop; request bodies, headers and query arguments reach the handler; an oversized body is
 * refused with 413 before the handler runs; a file answer sends the file's bytes; kept-alive
 * connections; stopping leaves no handle open.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"
#include "support/http_calls.h"
#include "util.h"

static char file_path[64];

static void handler(void *ud, const struct http_request *rq, struct http_reply *r)
{
    ++*(int *)ud;
    char buf[600];
    r->status = 200;
    if (strcmp(rq->url, "/ready") == 0) {
        snprintf(buf, sizeof buf, "{\"ready\":true}");
    } else if (strcmp(rq->url, "/echo") == 0) {
        const char *q = http_query(rq, "q"), *h = http_header(rq, "x-test");
        snprintf(buf, sizeof buf, "%s q=%s h=%s len=%zu body=%.64s", rq->method, q ? q : "-",
                 h ? h : "-", rq->body_len, rq->body);
        r->content_type = "text/plain";
    } else if (strcmp(rq->url, "/file") == 0) {
        r->fd = open(file_path, O_RDONLY | O_CLOEXEC);
        r->fd_size = 5; /* the first 5 bytes of "hello world" */
        r->content_type = "text/plain";
        r->cache_control = "no-cache";
        return;
    } else if (strcmp(rq->url, "/etag") == 0) {
        snprintf(r->etag, sizeof r->etag, "\"v1\"");
        const char *inm = http_header(rq, "If-None-Match");
        if (inm && strcmp(inm, r->etag) == 0) {
            r->status = 304;
            return;
        }
        snprintf(buf, sizeof buf, "fresh");
    } else {
        r->status = 404;
        snprintf(buf, sizeof buf, "{\"detail\":\"no route %s %s\"}", rq->method, rq->url);
    }
    r->body = xstrdup(buf);
    r->body_len = strlen(buf);
}

static void on_stopped(void *ud)
{
    ++*(int *)ud;
}

/* Serves calls[0..n) on a fresh loop, then stops; returns the handler's calls. */
static int serve(struct http_call *calls, size_t n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int handled = 0;
    struct spoor_error err;
    struct http_server *h = http_start(&loop, "127.0.0.1", 0, handler, &handled, &err);
    assert_non_null(h);
    assert_true(http_port(h) > 0);
    http_calls_run(&loop, http_port(h), calls, n);
    int stopped = 0;
    http_stop(h, on_stopped, &stopped);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(stopped, 1);
    assert_int_equal(uv_loop_close(&loop), 0);
    return handled;
}

static void test_requests_on_the_loop(void **state)
{
    size_t big = HTTP_MAX_BODY + 1;
    char *xs = malloc(big);
    memset(xs, 'x', big);
    struct http_call calls[] = {
        {.method = "GET", .path = "/ready"},
        {.method = "GET", .path = "/nope"},
        {.method = "GET", .path = "/echo?q=a%20b%2Fc&other=1", .header = "X-Test: yes"},
        {.method = "GET", .path = "/a%2Fb%00c%41"},
        {.method = "POST", .path = "/echo", .body = xs, .body_len = 100000},
        {.method = "PUT", .path = "/echo", .body = xs, .body_len = big},
        {.method = "GET", .path = "/file"},
        {.method = "GET", .path = "/etag"},
        {.method = "GET", .path = "/etag", .header = "If-None-Match: \"v1\""},
        {.method = "GET", .path = "/ready"},
    };
    int handled = serve(calls, sizeof calls / sizeof *calls);
    assert_int_equal(handled, 9); /* all but the oversized body */
    assert_int_equal(calls[0].status, 200);
    assert_string_equal(calls[0].got.data, "{\"ready\":true}");
    assert_string_equal(calls[0].type, "application/json");
    assert_int_equal(calls[1].status, 404);
    assert_string_equal(calls[1].got.data, "{\"detail\":\"no route GET /nope\"}");
    assert_string_equal(calls[2].got.data, "GET q=a b%2Fc h=yes len=0 body=");
    assert_string_equal(calls[2].type, "text/plain");
    /* an encoded '/' or NUL is never decoded into the path */
    assert_string_equal(calls[3].got.data, "{\"detail\":\"no route GET /a%2Fb%00cA\"}");
    assert_int_equal(calls[4].status, 200);
    assert_string_equal(
        calls[4].got.data,
        "POST q=- h=- len=100000 body=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
        "xxxxxxxxxxxxxxxxxx");
    assert_int_equal(calls[5].status, 413);
    assert_non_null(strstr(calls[5].got.data, "larger than 1 MiB"));
    assert_int_equal(calls[6].status, 200);
    assert_string_equal(calls[6].got.data, "hello");
    assert_string_equal(calls[6].cache, "no-cache");
    assert_int_equal(calls[7].status, 200);
    assert_string_equal(calls[7].etag, "\"v1\"");
    assert_string_equal(calls[7].got.data, "fresh");
    assert_int_equal(calls[8].status, 304);
    assert_string_equal(calls[8].got.data, "");
    assert_int_equal(calls[9].status, 200); /* the connection survived the 413 and the 304 */
    http_calls_free(calls, sizeof calls / sizeof *calls);
    free(xs);
}

static void test_listen_errors(void **state)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    int calls = 0;
    struct spoor_error err;
    struct http_server *a = http_start(&loop, "127.0.0.1", 0, handler, &calls, &err);
    struct http_server *b = http_start(&loop, "127.0.0.1", http_port(a), handler, &calls, &err);
    assert_null(b);
    assert_non_null(strstr(err.message, "--port"));
    http_stop(a, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_null(http_start(&loop, "not-an-ip", 0, handler, &calls, &err));
    assert_non_null(strstr(err.message, "not-an-ip"));
}

static int make_file(void **state)
{
    snprintf(file_path, sizeof file_path, "/tmp/spoor-http-XXXXXX");
    int fd = mkstemp(file_path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello world", 11), 11);
    close(fd);
    return 0;
}

static int remove_file(void **state)
{
    unlink(file_path);
    return 0;
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_requests_on_the_loop),
                                       cmocka_unit_test(test_listen_errors)};
    int rc = cmocka_run_group_tests(tests, make_file, remove_file);
    curl_global_cleanup();
    return rc;
}
