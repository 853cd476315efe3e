/*
 * test_indexer.c: indexing ticks over a local bucket store filled by the tracker (the demo
 * data), through the router, into a real SQLite index: every object and event indexed, a
 * second tick adds nothing, a small batch cap still takes everything, malformed keys and lines
 * are counted while the rest is indexed, and an object written below the watermark but inside
 * the lookback window is picked up.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/router.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"
#include "filestore.h"
#include "indexer.h"

static char dir[256], store[300], db[300];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "%s/spoor-ix-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(store, sizeof store, "%s/objects", dir);
    snprintf(db, sizeof db, "%s/db.sqlite3", dir);
    char spool[300];
    snprintf(spool, sizeof spool, "%s/spool", dir);
    struct spoor_demo_target t = {.bucket = "demo", .store_root = store, .spool_dir = spool};
    struct spoor_error err;
    if (spoor_demo_seed(&t, NULL, &err) != 0) {
        fprintf(stderr, "seed: %s\n", err.message);
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t scalar(const char *q)
{
    sqlite3 *h;
    sqlite3_open(db, &h);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(h, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

struct run {
    bool done;
    int status;
};

static void on_tick(int status, void *ud)
{
    struct run *r = ud;
    r->done = true;
    r->status = status;
}

/* One tick with batch cap cap through routes (NULL: the local store); returns its status. */
static int tick_via(int cap, const char *routes)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct spoor_router_opts ro = {.routes_path = routes ? routes : "",
                                   .local_root = routes ? NULL : store};
    struct spoor_error err;
    struct spoor_router *r = spoor_router_new(&loop, &ro, &err);
    assert_non_null(r);
    struct idx *x;
    assert_int_equal(idx_open(db, &x, &err), 0);
    struct indexer_opts o = {.bucket = "demo", .batch_cap = cap};
    struct indexer *ix = indexer_new(&loop, r, x, &o);
    struct run run = {0};
    assert_int_equal(indexer_tick(ix, on_tick, &run), 0);
    assert_false(run.done); /* never from inside the call */
    while (!run.done)
        uv_run(&loop, UV_RUN_ONCE);
    indexer_free(ix);
    idx_close(x);
    spoor_router_close(r, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return run.status;
}

static int tick(int cap)
{
    return tick_via(cap, NULL);
}

static int64_t objects_in_store(void)
{
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, store, "local", &err);
    int64_t n = 0;
    char token[1024] = "";
    for (;;) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = "demo",
                                 .prefix = "data/",
                                 .continuation_token = token[0] ? token : NULL};
        struct spoor_s3_result res;
        assert_int_equal(filestore_exec(fs, &op, &res, &err), 0);
        n += (int64_t)res.list.nobjects;
        bool more = res.list.is_truncated;
        if (more)
            snprintf(token, sizeof token, "%s", res.list.next_continuation_token);
        spoor_s3_result_cleanup(&res);
        if (!more)
            break;
    }
    filestore_free(fs);
    return n;
}

static void put_raw(const char *key, const char *body)
{
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, store, "local", &err);
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = "demo",
                             .key = key,
                             .body = {.data = body, .len = strlen(body)}};
    struct spoor_s3_result res;
    assert_int_equal(filestore_exec(fs, &op, &res, &err), 0);
    spoor_s3_result_cleanup(&res);
    filestore_free(fs);
}

static void test_everything_once(void **state)
{
    int64_t objects = objects_in_store();
    assert_true(objects > 20);
    assert_int_equal(tick(0), 0);
    assert_int_equal(scalar("SELECT count(*) FROM object"), objects);
    assert_int_equal(scalar("SELECT count(*) FROM project"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM application WHERE graph_json IS NULL"), 0);
    assert_int_equal(scalar("SELECT num_steps FROM application WHERE app_id = 'count-to-10'"), 11);
    assert_int_equal(scalar("SELECT count(*) FROM event e JOIN application a ON a.id = "
                            "e.application_id WHERE a.app_id = 'count-to-42'"),
                     86);
    assert_int_equal(scalar("SELECT count(*) FROM application WHERE spawn_app_id IS NOT NULL"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM indexing_job WHERE status = 'SUCCESS'"), 2);
    int64_t events = scalar("SELECT count(*) FROM event");
    assert_int_equal(tick(0), 0); /* nothing new: nothing indexed twice */
    assert_int_equal(scalar("SELECT count(*) FROM object"), objects);
    assert_int_equal(scalar("SELECT count(*) FROM event"), events);
}

static void test_small_cap_takes_everything(void **state)
{
    int64_t objects = objects_in_store();
    assert_int_equal(tick(3), 0);
    assert_int_equal(scalar("SELECT count(*) FROM object"), objects);
    /* the watermark is the largest key taken, and each project had one job */
    assert_int_equal(scalar("SELECT count(*) FROM project p WHERE watermark = (SELECT max(key) "
                            "FROM object o WHERE o.project_id = p.id)"),
                     2);
    assert_int_equal(scalar("SELECT count(*) FROM indexing_job"), 2);
}

static void test_malformed_counted_rest_indexed(void **state)
{
    put_raw("data/demo_counter/not/a/valid/key", "x");
    put_raw("data/demo_counter/2026/11/21/20/52:58.951270/__none__/bad-app/"
            "0000__log.jsonl",
            "{\"type\":\"begin_entry\",\"start_time\":\"2026-11-21T20:52:58\",\"action\":\"a\","
            "\"inputs\":{},\"sequence_id\":0}\n{broken\n\xff\xfe\n{\"type\":\"nope\"}");
    int64_t objects = objects_in_store();
    assert_int_equal(tick(0), 0);
    assert_int_equal(scalar("SELECT count(*) FROM object"), objects);
    assert_int_equal(scalar("SELECT count FROM skipped WHERE reason = 'malformed key'"), 1);
    assert_int_equal(scalar("SELECT count FROM skipped WHERE reason = 'malformed JSON line'"), 1);
    assert_int_equal(scalar("SELECT count FROM skipped WHERE reason = 'invalid UTF-8 line'"), 1);
    assert_int_equal(scalar("SELECT count FROM skipped WHERE reason = 'unknown event type'"), 1);
    assert_int_equal(scalar("SELECT count(*) FROM event e JOIN application a ON a.id = "
                            "e.application_id WHERE a.app_id = 'bad-app'"),
                     1);
}

static void test_late_writer_inside_lookback(void **state)
{
    assert_int_equal(tick(0), 0);
    /* a key that sorts below the watermark (an earlier minute) but is recent enough */
    time_t t = time(NULL) - 120;
    struct tm tm;
    gmtime_r(&t, &tm);
    char key[300];
    snprintf(key, sizeof key,
             "data/demo_counter/%04d/%02d/%02d/%02d/%02d:00.000001/__none__/late-app/"
             "1111__log.jsonl",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    put_raw(key, "{\"type\":\"begin_entry\",\"start_time\":\"2026-11-21T20:52:58\",\"action\":"
                 "\"a\",\"inputs\":{},\"sequence_id\":0}");
    assert_int_equal(tick(0), 0);
    assert_int_equal(scalar("SELECT count(*) FROM application WHERE app_id = 'late-app'"), 1);
}

/* Burr's local children.jsonl, when present in the bucket (an import of local data), fills
 * the child table; its malformed lines are counted. */
static void test_children_understood(void **state)
{
    put_raw("data/demo_chatbot/2026/11/21/20/52:58.000001/__none__/chat-3-physics/children.jsonl",
            "{\"type\":\"child_application_data\",\"child\":{\"type\":\"pointer_data\","
            "\"app_id\":\"kid\",\"sequence_id\":null,\"partition_key\":null},\"event_time\":"
            "\"2026-11-21T12:52:58\",\"event_type\":\"spawn_start\",\"sequence_id\":3}\n"
            "not json\n");
    assert_int_equal(tick(0), 0);
    assert_int_equal(scalar("SELECT count(*) FROM child c JOIN application a ON a.id = "
                            "c.application_id WHERE a.app_id = 'chat-3-physics' AND c.raw LIKE "
                            "'%\"app_id\":\"kid\"%'"),
                     1);
    assert_int_equal(scalar("SELECT count FROM skipped WHERE reason = 'malformed children line'"),
                     1);
}

static void make_bucket(const char *root, const char *bucket)
{
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, root, "local", &err);
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = bucket};
    struct spoor_s3_result res;
    filestore_exec(fs, &op, &res, &err);
    spoor_s3_result_cleanup(&res);
    filestore_free(fs);
}

/* A project that lives on another endpoint (a lakeFS-like layout: repository bucket, keys
 * under main/) is discovered and indexed through the router like any other. */
static void test_project_routed_elsewhere(void **state)
{
    char routes[400], store2[300], spool[300];
    snprintf(store2, sizeof store2, "%s/other", dir);
    snprintf(spool, sizeof spool, "%s/spool2", dir);
    snprintf(routes, sizeof routes, "%s/routes.json", dir);
    make_bucket(store2, "repo");
    make_bucket(store, "routed");
    FILE *f = fopen(routes, "w");
    fprintf(f,
            "{\"endpoints\": {\"one\": {\"type\": \"file\", \"root\": \"%s\"},"
            " \"two\": {\"type\": \"file\", \"root\": \"%s\"}},"
            " \"routes\": [{\"from\": \"s3://routed/data/demo_chatbot/\","
            " \"to\": \"two://repo/main/data/demo_chatbot/\"},"
            " {\"from\": \"s3://*/\", \"to\": \"one://*/\"}]}",
            store, store2);
    fclose(f);
    struct spoor_demo_target t = {.bucket = "routed", .routes_path = routes, .spool_dir = spool};
    struct spoor_error err;
    assert_int_equal(spoor_demo_seed(&t, NULL, &err), 0);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct spoor_router_opts ro = {.routes_path = routes};
    struct spoor_router *r = spoor_router_new(&loop, &ro, &err);
    assert_non_null(r);
    struct idx *x;
    assert_int_equal(idx_open(db, &x, &err), 0);
    struct indexer_opts o = {.bucket = "routed"};
    struct indexer *ix = indexer_new(&loop, r, x, &o);
    struct run run = {0};
    assert_int_equal(indexer_tick(ix, on_tick, &run), 0);
    while (!run.done)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(run.status, 0);
    indexer_free(ix);
    idx_close(x);
    spoor_router_close(r, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(scalar("SELECT count(*) FROM project"), 2);
    assert_int_equal(scalar("SELECT count(*) FROM application a JOIN project p ON p.id = "
                            "a.project_id WHERE p.name = 'demo_chatbot'"),
                     5);
    /* keys are stored as the caller names them, not the endpoint's main/... */
    assert_int_equal(scalar("SELECT count(*) FROM object WHERE key LIKE 'main/%'"), 0);
}

/* An endpoint that does not answer fails the tick with its reason in the job row; the next
 * tick, with the endpoint back, indexes everything. */
static void test_s3_failure_fails_job_then_retries(void **state)
{
    char routes[400];
    snprintf(routes, sizeof routes, "%s/dead.json", dir);
    FILE *f = fopen(routes, "w");
    fprintf(f, "{\"endpoints\": {\"dead\": {\"type\": \"s3\", \"url\": \"http://127.0.0.1:9\","
               " \"addressing\": \"path\", \"credentials\": {\"access_key_id_env\": \"HOME\","
               " \"secret_access_key_env\": \"HOME\"}}},"
               " \"routes\": [{\"from\": \"s3://*/\", \"to\": \"dead://*/\"}]}");
    fclose(f);
    assert_int_not_equal(tick_via(0, routes), 0);
    assert_int_equal(scalar("SELECT count(*) FROM object"), 0);
    assert_int_equal(scalar("SELECT count(*) FROM indexing_job WHERE status = 'FAILURE' AND "
                            "error LIKE '%127.0.0.1:9%'"),
                     1);
    assert_int_equal(tick(0), 0);
    assert_int_equal(scalar("SELECT count(*) FROM object"), objects_in_store());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_everything_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_cap_takes_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_malformed_counted_rest_indexed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_writer_inside_lookback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_s3_failure_fails_job_then_retries, setup, teardown),
        cmocka_unit_test_setup_teardown(test_children_understood, setup, teardown),
        cmocka_unit_test_setup_teardown(test_project_routed_elsewhere, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
