/*
 * test_api.c: the API (server/api.h) over real HTTP (libmicrohttpd on a libuv loop, libcurl
 * on another thread) against a real SQLite index in a temporary folder, filled through the
 * indexer's own path (ingest + idx_commit_batch). Shapes and values of every read endpoint,
 * pagination and partitions, children from pointers, ETag/304 and the ETag changing with new
 * events, annotations (validation naming the field, floats written as Python writes them,
 * update, filters), the bearer token, 503 before the index is attached, and the errors.
 * (tests/integration/test_api_rgw.c does the same end to end against RGW and the real server.)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "buf.h"
#include "http.h"
#include "support/http_calls.h"
#include "idx.h"
#include "ingest.h"
#include "util.h"

static char dir[64];
static const char *serve_ui = ""; /* the UI folder serve() gives the api */
static struct idx *x;
static int64_t project_id;

/* ---- filling the index ---------------------------------------------------------------- */

static const char graph[] =
    "{\"type\":\"application\",\"entrypoint\":\"a\",\"actions\":[{\"type\":\"action\",\"name\":"
    "\"a\",\"reads\":[],\"writes\":[\"x\"],\"code\":\"\",\"inputs\":[],\"optional_inputs\":[]}],"
    "\"transitions\":[{\"type\":\"transition\",\"from_\":\"a\",\"to\":\"a\",\"condition\":"
    "\"default\"}]}";

/* Commits one object of kind for (app, pk) with body, last modified at lm. */
static void commit(const char *key, const char *lm, enum idx_kind kind, const char *app,
                   const char *pk, const char *body)
{
    struct ingest_log log = {0};
    struct ingest_metadata md = {0};
    struct idx_object o = {.key = key,
                           .kind = kind,
                           .app_id = app,
                           .partition_key = pk,
                           .size = (int64_t)strlen(body),
                           .last_modified = lm,
                           .body = body,
                           .body_len = strlen(body)};
    if (kind == IDX_LOG) {
        assert_int_equal(ingest_parse_log(body, strlen(body), 1 << 20, &log), 0);
        o.log = &log;
    } else if (kind == IDX_METADATA) {
        assert_int_equal(ingest_parse_metadata(body, strlen(body), &md, NULL), 0);
        o.metadata = &md;
    }
    struct spoor_error err;
    assert_int_equal(idx_commit_batch(x, project_id, &o, 1, key, &err), 0);
    ingest_log_cleanup(&log);
    ingest_metadata_cleanup(&md);
}

/* A log body of steps first..first+n-1 of action a, with a span each and 0.1 in the state. */
static char *steps_body(int first, int n)
{
    struct buf b;
    buf_init(&b, SIZE_MAX);
    for (int i = first; i < first + n; i++)
        buf_printf(&b,
                   "%s{\"type\":\"begin_entry\",\"start_time\":\"2026-11-21T10:00:00\",\"action\":"
                   "\"a\",\"inputs\":{},\"sequence_id\":%d}\n"
                   "{\"type\":\"begin_span\",\"start_time\":\"2026-11-21T10:00:00\","
                   "\"action_sequence_id\":%d,\"span_id\":\"%d:0\",\"span_name\":\"s\","
                   "\"parent_span_id\":null,\"span_dependencies\":[]}\n"
                   "{\"type\":\"end_span\",\"end_time\":\"2026-11-21T10:00:01\","
                   "\"action_sequence_id\":%d,\"span_id\":\"%d:0\"}\n"
                   "{\"type\":\"end_entry\",\"end_time\":\"2026-11-21T10:00:01\",\"action\":\"a\","
                   "\"result\":{},\"exception\":null,\"state\":{\"x\":0.1},\"sequence_id\":%d}",
                   i ? "\n" : "", i, i, i, i, i, i);
    return buf_take(&b, NULL);
}

static void app_objects(const char *app, const char *pk, const char *meta, int minute)
{
    char key[256], lm[64];
    const char *seg = pk ? pk : "__none__";
    snprintf(lm, sizeof lm, "2026-11-21T10:%02d:00.000Z", minute);
    snprintf(key, sizeof key, "data/p/2026/11/21/10/%02d:00.000001/%s/%s/graph.json", minute, seg,
             app);
    commit(key, lm, IDX_GRAPH, app, pk, graph);
    snprintf(key, sizeof key, "data/p/2026/11/21/10/%02d:00.000001/%s/%s/metadata.json", minute,
             seg, app);
    commit(key, lm, IDX_METADATA, app, pk, meta);
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/spoor-api-XXXXXX");
    assert_non_null(mkdtemp(dir));
    char path[128], *wm;
    snprintf(path, sizeof path, "%s/db.sqlite3", dir);
    struct spoor_error err;
    assert_int_equal(idx_open(path, &x, &err), 0);
    assert_int_equal(idx_project_ensure(x, "p", &project_id, &wm, &err), 0);
    free(wm);
    static const char none[] = "{\"type\":\"application_metadata\",\"partition_key\":null,"
                               "\"parent_pointer\":null,\"spawning_parent_pointer\":null}";
    /* 12 apps without a partition key, 3 in partition u1 */
    for (int i = 0; i < 15; i++) {
        char app[32];
        snprintf(app, sizeof app, "app-%02d", i);
        app_objects(app, i < 12 ? NULL : "u1", none, i);
    }
    /* parent: 5 steps; a forked child and a spawned child */
    app_objects("parent", NULL, none, 20);
    char *body = steps_body(0, 5);
    commit("data/p/2026/11/21/10/20:01.000001/__none__/parent/1__log.jsonl",
           "2026-11-21T10:20:01.000Z", IDX_LOG, "parent", NULL, body);
    free(body);
    app_objects("forked", NULL,
                "{\"type\":\"application_metadata\",\"partition_key\":null,\"parent_pointer\":"
                "{\"type\":\"pointer_data\",\"app_id\":\"parent\",\"sequence_id\":2,"
                "\"partition_key\":null},\"spawning_parent_pointer\":null}",
                21);
    app_objects("spawned", NULL,
                "{\"type\":\"application_metadata\",\"partition_key\":null,\"parent_pointer\":"
                "null,\"spawning_parent_pointer\":{\"type\":\"pointer_data\",\"app_id\":"
                "\"parent\",\"sequence_id\":4,\"partition_key\":null}}",
                22);
    return 0;
}

static int teardown(void **state)
{
    idx_close(x);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

/* ---- HTTP round trips ----------------------------------------------------------------- */

/* Answers calls[0..n) with an api (token may be NULL; attached to the index unless detached). */
static void serve(struct http_call *calls, size_t n, const char *token, bool attached)
{
    struct api_opts o = {
        .bucket = "bkt", .ui_dir = serve_ui, .auth_token = token, .version = "9.9"};
    struct api *a = api_new(&o);
    if (attached)
        api_attach(a, x, NULL, NULL, NULL);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct spoor_error err;
    struct http_server *h = http_start(&loop, "127.0.0.1", 0, api_handle, a, &err);
    assert_non_null(h);
    http_calls_run(&loop, http_port(h), calls, n);
    http_stop(h, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    api_free(a);
}

/* The body of c as JSON (the test owns it). */
static json_t *json_of(const struct http_call *c)
{
    json_error_t e;
    json_t *j = json_loadb(c->got.data ? c->got.data : "", c->got.len, 0, &e);
    if (!j)
        fail_msg("%s %s: not JSON (%s): %.200s", c->method ? c->method : "GET", c->path, e.text,
                 c->got.data);
    return j;
}

static const char *str_at(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    if (!json_is_string(v))
        fail_msg("field %s is not a string", k);
    return json_string_value(v);
}

/* Asserts c answered status with {"detail": "...needle..."}. */
static void assert_detail(const struct http_call *c, long status, const char *needle)
{
    if (c->status != status)
        fail_msg("%s: status %ld, want %ld (%.300s)", c->path, c->status, status, c->got.data);
    json_t *j = json_of(c);
    assert_int_equal(json_object_size(j), 1);
    if (!strstr(str_at(j, "detail"), needle))
        fail_msg("%s: detail \"%s\" lacks \"%s\"", c->path, str_at(j, "detail"), needle);
    json_decref(j);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_reads(void **state)
{
    struct http_call c[] = {
        {.path = "/api/v0/projects"},
        {.path = "/api/v0/p/__none__/apps?limit=10"},
        {.path = "/api/v0/p/__none__/apps?limit=10&offset=10"},
        {.path = "/api/v0/p/u1/apps"},
        {.path = "/api/v0/p/parent/__none__/apps"},
        {.path = "/api/v0/p/forked/__none__/apps"},
        {.path = "/api/v0/metadata/app_spec"},
        {.path = "/api/v0/version"},
        {.path = "/api/v0/ready"},
        {.path = "/ready"},
        {.path = "/api/v0/indexing_jobs"},
        {.path = "/metrics"},
        {.path = "/api/v0/p/parent/__none__/apps"}, /* again: from the rendered cache */
        {.path = "/metrics"},
    };
    serve(c, sizeof c / sizeof *c, NULL, true);
    for (size_t i = 0; i < sizeof c / sizeof *c; i++)
        if (c[i].status != 200)
            fail_msg("%s: %ld %.300s", c[i].path, c[i].status, c[i].got.data);

    json_t *j = json_of(&c[0]);
    assert_int_equal(json_array_size(j), 1);
    json_t *p = json_array_get(j, 0);
    assert_string_equal(str_at(p, "name"), "p");
    assert_string_equal(str_at(p, "id"), "p");
    assert_string_equal(str_at(p, "uri"), "s3://bkt/data/p/");
    assert_int_equal(json_integer_value(json_object_get(p, "num_apps")), 18);
    str_at(p, "created");
    str_at(p, "last_written");
    json_decref(j);

    /* pages of 10 over 18 apps, newest first, each app once */
    json_t *p1 = json_of(&c[1]), *p2 = json_of(&c[2]);
    assert_int_equal(json_integer_value(json_object_get(p1, "total")), 18);
    assert_true(json_is_true(json_object_get(p1, "has_another_page")));
    assert_true(json_is_false(json_object_get(p2, "has_another_page")));
    json_t *a1 = json_object_get(p1, "applications"), *a2 = json_object_get(p2, "applications");
    assert_int_equal(json_array_size(a1), 10);
    assert_int_equal(json_array_size(a2), 8);
    assert_string_equal(str_at(json_array_get(a1, 0), "app_id"), "spawned");
    assert_string_equal(str_at(json_array_get(a2, 7), "app_id"), "app-00");
    json_t *first = json_array_get(a1, 0);
    static const char *const fields[] = {
        "app_id",    "partition_key", "first_written",  "last_written",
        "num_steps", "tags",          "parent_pointer", "spawning_parent_pointer"};
    assert_int_equal(json_object_size(first), 8);
    for (size_t i = 0; i < 8; i++)
        assert_non_null(json_object_get(first, fields[i]));
    assert_true(json_is_null(json_object_get(first, "partition_key")));
    json_t *sp = json_object_get(first, "spawning_parent_pointer");
    assert_string_equal(str_at(sp, "type"), "pointer_data");
    assert_string_equal(str_at(sp, "app_id"), "parent");
    assert_int_equal(json_integer_value(json_object_get(sp, "sequence_id")), 4);
    json_decref(p1);
    json_decref(p2);

    j = json_of(&c[3]); /* partition u1: its 3 apps */
    assert_int_equal(json_integer_value(json_object_get(j, "total")), 3);
    assert_string_equal(
        str_at(json_array_get(json_object_get(j, "applications"), 0), "partition_key"), "u1");
    json_decref(j);

    /* the app view: graph, 5 steps with their spans, children from the pointers */
    j = json_of(&c[4]);
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(str_at(json_object_get(j, "application"), "entrypoint"), "a");
    json_t *steps = json_object_get(j, "steps");
    assert_int_equal(json_array_size(steps), 5);
    json_t *s4 = json_array_get(steps, 4);
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(s4, "step_start_log"), "sequence_id")),
        4);
    assert_int_equal(json_array_size(json_object_get(s4, "spans")), 1);
    assert_non_null(strstr(c[4].got.data, "\"state\":{\"x\":0.1}")); /* verbatim */
    json_t *kids = json_object_get(j, "children");
    assert_int_equal(json_array_size(kids), 2);
    assert_string_equal(str_at(json_array_get(kids, 0), "event_type"), "fork");
    assert_string_equal(str_at(json_object_get(json_array_get(kids, 0), "child"), "app_id"),
                        "forked");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(kids, 0), "sequence_id")),
                     2);
    assert_string_equal(str_at(json_array_get(kids, 1), "event_type"), "spawn_start");
    assert_true(json_is_null(json_object_get(j, "parent_pointer")));
    assert_true(c[4].etag[0] == '"');
    json_decref(j);
    j = json_of(&c[5]);
    assert_string_equal(str_at(json_object_get(j, "parent_pointer"), "app_id"), "parent");
    assert_int_equal(json_array_size(json_object_get(j, "steps")), 0);
    json_decref(j);

    assert_string_equal(c[6].got.data, "{\"indexing\":true,\"snapshotting\":true,"
                                       "\"supports_demos\":false,\"supports_annotations\":true}");
    assert_string_equal(c[7].got.data, "{\"version\":\"9.9\"}");
    assert_string_equal(c[8].got.data, "true");
    assert_string_equal(c[9].got.data, "{\"ready\":true}");
    j = json_of(&c[10]);
    assert_true(json_is_array(j)); /* no jobs recorded in this index */
    json_decref(j);
    assert_non_null(strstr(c[11].got.data, "spoor_http_requests_total{code=\"200\"} 11\n"));
    assert_non_null(strstr(c[11].got.data, "spoor_index_applications 18\n"));
    assert_non_null(strstr(c[11].got.data, "spoor_index_lag_seconds{project=\"p\"} NaN\n"));
    assert_string_equal(c[11].type, "text/plain; version=0.0.4; charset=utf-8");
    assert_non_null(strstr(c[11].got.data, "spoor_http_view_cache_hits_total 0\n"));
    assert_int_equal(c[12].got.len, c[4].got.len);
    assert_memory_equal(c[12].got.data, c[4].got.data, c[4].got.len);
    assert_string_equal(c[12].etag, c[4].etag);
    assert_non_null(strstr(c[13].got.data, "spoor_http_view_cache_hits_total 1\n"));
    assert_non_null(strstr(c[13].got.data, "spoor_http_view_cache_misses_total 2\n"));
    http_calls_free(c, sizeof c / sizeof *c);
}

static void test_etag(void **state)
{
    struct http_call a[] = {{.path = "/api/v0/p/parent/__none__/apps"}};
    serve(a, 1, NULL, true);
    char h[128];
    snprintf(h, sizeof h, "If-None-Match: %s", a[0].etag);
    struct http_call b[] = {{.path = "/api/v0/p/parent/__none__/apps", .header = h}};
    serve(b, 1, NULL, true);
    assert_int_equal(b[0].status, 304);
    assert_int_equal(b[0].got.len, 0);
    char *body = steps_body(5, 1); /* a new step: the view and its ETag change */
    commit("data/p/2026/11/21/10/20:02.000001/__none__/parent/2__log.jsonl",
           "2026-11-21T10:20:02.000Z", IDX_LOG, "parent", NULL, body);
    free(body);
    struct http_call d[] = {{.path = "/api/v0/p/parent/__none__/apps", .header = h}};
    serve(d, 1, NULL, true);
    assert_int_equal(d[0].status, 200);
    assert_string_not_equal(d[0].etag, a[0].etag);
    json_t *j = json_of(&d[0]);
    assert_int_equal(json_array_size(json_object_get(j, "steps")), 6);
    json_decref(j);
    http_calls_free(a, 1);
    http_calls_free(b, 1);
    http_calls_free(d, 1);
}

static void test_annotations(void **state)
{
    struct http_call c[] = {
        {.method = "POST",
         .path = "/api/v0/p/parent/__none__/3/annotations",
         .body = "{\"span_id\":\"3:0\",\"step_name\":\"a\",\"tags\":[\"t\"],\"extra\":1,"
                 "\"observations\":[{\"data_fields\":{\"a\":0.1,\"b\":2e10,\"c\":1e16,"
                 "\"d\":1.5e-5,\"e\":123.456,\"f\":1e-4,\"g\":[1,\"\\u00e9\"]},"
                 "\"data_pointers\":[{\"type\":\"state_field\",\"field_name\":\"x\"}]}]}"},
        {.method = "POST",
         .path = "/api/v0/p/app-12/u1/0/annotations",
         .body = "{\"step_name\":\"b\",\"tags\":[],\"observations\":[]}"},
        {.method = "PUT",
         .path = "/api/v0/p/1/update_annotations",
         .body = "{\"step_name\":\"a2\",\"observations\":[{\"data_fields\":{},"
                 "\"thumbs_up_thumbs_down\":false,\"data_pointers\":[]}]}"},
        {.path = "/api/v0/p/annotations"},
        {.path = "/api/v0/p/annotations?app_id=app-12&partition_key=u1"},
        {.path = "/api/v0/p/annotations?partition_key=__none__&step_sequence_id=3"},
        {.path = "/api/v0/p/annotations?step_sequence_id=7"},
    };
    serve(c, sizeof c / sizeof *c, NULL, true);
    for (size_t i = 0; i < sizeof c / sizeof *c; i++)
        if (c[i].status != 200)
            fail_msg("%s: %ld %.300s", c[i].path, c[i].status, c[i].got.data);
    /* field order of AnnotationOut, the normalized observation, Python's float spelling */
    const char *want_prefix =
        "{\"span_id\":\"3:0\",\"step_name\":\"a\",\"tags\":[\"t\"],\"observations\":[{"
        "\"data_fields\":{\"a\":0.1,\"b\":20000000000.0,\"c\":1e+16,\"d\":1.5e-05,"
        "\"e\":123.456,\"f\":0.0001,\"g\":[1,\"\xc3\xa9\"]},\"thumbs_up_thumbs_down\":null,"
        "\"data_pointers\":[{\"type\":\"state_field\",\"field_name\":\"x\",\"span_id\":null}]}],"
        "\"id\":1,\"project_id\":\"p\",\"app_id\":\"parent\",\"partition_key\":null,"
        "\"step_sequence_id\":3,\"created\":";
    if (strncmp(c[0].got.data, want_prefix, strlen(want_prefix)) != 0)
        fail_msg("got  %s\nwant %s", c[0].got.data, want_prefix);
    json_t *one = json_of(&c[0]), *upd = json_of(&c[2]);
    assert_string_equal(str_at(upd, "step_name"), "a2");
    assert_true(json_is_null(json_object_get(upd, "span_id")));
    assert_int_equal(json_array_size(json_object_get(upd, "tags")), 0);
    assert_string_equal(str_at(upd, "created"), str_at(one, "created"));
    assert_true(strcmp(str_at(upd, "updated"), str_at(one, "updated")) > 0);
    json_decref(one);
    json_decref(upd);
    size_t want_n[] = {2, 1, 1, 0};
    for (size_t i = 0; i < 4; i++) {
        json_t *l = json_of(&c[3 + i]);
        if (json_array_size(l) != want_n[i])
            fail_msg("%s: %zu annotations, want %zu", c[3 + i].path, json_array_size(l), want_n[i]);
        json_decref(l);
    }
    assert_non_null(strstr(c[4].got.data, "\"partition_key\":\"u1\""));
    http_calls_free(c, sizeof c / sizeof *c);
}

static void test_errors(void **state)
{
    struct http_call c[] = {
        {.path = "/api/v0/a%20b/__none__/apps"},
        {.path = "/api/v0/x%2Fy/__none__/apps"},
        {.path = "/api/v0/../p/__none__/apps"},
        {.path = "/api/v0/nope/__none__/apps"},
        {.path = "/api/v0/p/none-such/__none__/apps"},
        {.path = "/api/v0/p/app-12/other/apps"},
        {.path = "/api/v0/p/__none__/apps?limit=0"},
        {.path = "/api/v0/p/__none__/apps?limit=abc"},
        {.path = "/api/v0/p/__none__/apps?offset=-1"},
        {.path = "/api/v0/indexing_jobs?filter_empty=maybe"},
        {.path = "/api/v0/p/bad%01key/apps"},
        {.method = "POST", .path = "/api/v0/projects"},
        {.method = "POST", .path = "/api/v0/p/parent/__none__/x/annotations", .body = "{}"},
        {.method = "POST", .path = "/api/v0/p/parent/__none__/1/annotations", .body = "{"},
        {.method = "POST",
         .path = "/api/v0/p/parent/__none__/1/annotations",
         .body = "{\"tags\":[],\"observations\":[]}"},
        {.method = "POST",
         .path = "/api/v0/p/parent/__none__/1/annotations",
         .body = "{\"step_name\":\"a\",\"tags\":\"t\",\"observations\":[]}"},
        {.method = "POST",
         .path = "/api/v0/p/parent/__none__/1/annotations",
         .body = "{\"step_name\":\"a\",\"tags\":[],\"observations\":[{\"data_fields\":{},"
                 "\"data_pointers\":[{\"type\":\"cell\",\"field_name\":\"x\"}]}]}"},
        {.method = "POST",
         .path = "/api/v0/p/ghost/__none__/1/annotations",
         .body = "{\"step_name\":\"a\",\"tags\":[],\"observations\":[]}"},
        {.method = "PUT",
         .path = "/api/v0/p/999/update_annotations",
         .body = "{\"step_name\":\"a\",\"observations\":[]}"},
        {.path = "/api/v0/p/x/y/z/w/v/w/u/t"},
        {.path = "/somewhere"},
    };
    serve(c, sizeof c / sizeof *c, NULL, true);
    assert_detail(&c[0], 400, "invalid project id \"a b\"");
    assert_detail(&c[1], 400, "invalid project id \"x%2Fy\"");
    assert_detail(&c[2], 400, "invalid project id \"..\"");
    assert_detail(&c[3], 404, "project nope not found");
    assert_detail(&c[4], 404, "app none-such not found in project p");
    assert_detail(&c[5], 404, "app app-12 with partition key other not found");
    assert_detail(&c[6], 400, "limit must be an integer from 1 to 1000, not \"0\"");
    assert_detail(&c[7], 400, "not \"abc\"");
    assert_detail(&c[8], 400, "offset must be an integer");
    assert_detail(&c[9], 400, "filter_empty must be true or false");
    assert_detail(&c[10], 400, "invalid partition key");
    assert_detail(&c[11], 405, "this route takes GET");
    assert_detail(&c[12], 400, "sequence id must be an integer");
    assert_detail(&c[13], 400, "the body is not JSON");
    assert_detail(&c[14], 400, "step_name is required");
    assert_detail(&c[15], 400, "tags must be a list of strings");
    assert_detail(&c[16], 400, "observations[0].data_pointers[0].type must be");
    assert_detail(&c[17], 404, "app ghost not found in project p");
    assert_detail(&c[18], 404, "annotation 999 not found in project p");
    assert_detail(&c[19], 404, "no API route");
    assert_detail(&c[20], 404, "no UI folder is configured");
    http_calls_free(c, sizeof c / sizeof *c);
}

static void test_token_and_readiness(void **state)
{
    struct http_call c[] = {
        {.path = "/api/v0/projects"},
        {.path = "/metrics", .header = "Authorization: Bearer wrong"},
        {.path = "/ready", .header = "Authorization: Bearer s3cret-but-longer"},
        {.path = "/api/v0/projects", .header = "Authorization: Bearer s3cret"},
        {.path = "/ready", .header = "authorization: bearer s3cret"},
    };
    serve(c, sizeof c / sizeof *c, "s3cret", true);
    for (int i = 0; i < 3; i++) {
        assert_detail(&c[i], 401, "Authorization: Bearer");
        assert_string_equal(c[i].auth, "Bearer");
    }
    assert_int_equal(c[3].status, 200);
    assert_int_equal(c[4].status, 200);
    http_calls_free(c, sizeof c / sizeof *c);

    struct http_call d[] = {
        {.path = "/ready"}, {.path = "/api/v0/projects"}, {.path = "/api/v0/version"}};
    serve(d, 3, NULL, false); /* the index is still opening */
    assert_detail(&d[0], 503, "not ready");
    assert_detail(&d[1], 503, "still opening");
    assert_int_equal(d[2].status, 200);
    http_calls_free(d, 3);
}

/* The UI's files: public with a token, revalidated with their ETag (304), index.html for
 * app routes, and the API still guarded. */
static void test_ui_files(void **state)
{
    char ui[128], path[160], real[PATH_MAX];
    snprintf(ui, sizeof ui, "%s/ui", dir);
    assert_int_equal(mkdir(ui, 0755), 0);
    const char *files[][2] = {{"index.html", "<!doctype html><title>t</title>"},
                              {"app.js", "export const x = 1;"}};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", ui, files[i][0]);
        FILE *f = fopen(path, "w");
        fputs(files[i][1], f);
        fclose(f);
    }
    assert_non_null(realpath(ui, real));
    serve_ui = real;
    struct http_call a[] = {
        {.path = "/app.js"}, {.path = "/project/p/__none__/parent"}, {.path = "/api/v0/projects"}};
    serve(a, 3, "tok", true);
    char h[128];
    snprintf(h, sizeof h, "If-None-Match: %s", a[0].etag);
    struct http_call b[] = {{.path = "/app.js", .header = h}};
    serve(b, 1, "tok", true);
    serve_ui = "";
    assert_int_equal(a[0].status, 200);
    assert_string_equal(a[0].got.data, "export const x = 1;");
    assert_string_equal(a[0].type, "text/javascript; charset=utf-8");
    assert_int_equal(a[1].status, 200);
    assert_non_null(strstr(a[1].got.data, "<title>t</title>"));
    assert_int_equal(a[2].status, 401);
    assert_int_equal(b[0].status, 304);
    assert_int_equal(b[0].got.len, 0);
    http_calls_free(a, 3);
    http_calls_free(b, 1);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads),
        cmocka_unit_test(test_etag),
        cmocka_unit_test(test_annotations),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_token_and_readiness),
        cmocka_unit_test(test_ui_files),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
