/*
 * test_idx.c: the index module on real SQLite files: a batch of graph, metadata, log and
 * skipped objects commits with its watermark; the same keys again change nothing (indexed
 * once); applications are per project; skip counters add up; jobs are recorded; a snapshot
 * holds the same rows; a failing batch leaves nothing behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "idx.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "%s/spoor-idx-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char path[300];
    snprintf(path, sizeof path, "%s/db.sqlite3", dir);
    struct idx *x;
    struct spoor_error err;
    if (idx_open(path, &x, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    *state = x;
    return 0;
}

static int teardown(void **state)
{
    idx_close(*state);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int64_t count(struct idx *x, const char *table)
{
    int64_t n = -1;
    struct spoor_error err;
    assert_int_equal(idx_count(x, table, &n, &err), 0);
    return n;
}

static struct ingest_event ev(int line, const char *type, int64_t seq, const char *raw)
{
    struct ingest_event e = {.raw = raw,
                             .raw_len = strlen(raw),
                             .line_no = line,
                             .has_sequence_id = true,
                             .sequence_id = seq};
    snprintf(e.type, sizeof e.type, "%s", type);
    return e;
}

static const char graph[] = "{\"type\":\"application\",\"entrypoint\":\"a\",\"actions\":[],"
                            "\"transitions\":[]}";
static const char meta[] = "{\"type\":\"application_metadata\",\"partition_key\":null,"
                           "\"parent_pointer\":null,\"spawning_parent_pointer\":null}";

static void batch(struct idx *x, int64_t project, const char *prefix, const char *watermark)
{
    struct ingest_event events[] = {
        ev(1, "begin_entry", 0, "{\"type\":\"begin_entry\",\"sequence_id\":0}"),
        ev(2, "end_entry", 0, "{\"type\":\"end_entry\",\"sequence_id\":0}"),
        ev(4, "begin_entry", 1, "{\"type\":\"begin_entry\",\"sequence_id\":1}"),
    };
    struct ingest_log log = {events, 3, {.bad_json = 1, .unknown_type = 2}};
    struct ingest_metadata m = {0};
    char k[4][200];
    for (int i = 0; i < 4; i++)
        snprintf(k[i], sizeof k[i], "%s/%d", prefix, i);
    struct idx_object objs[] = {
        {.key = k[0],
         .kind = IDX_GRAPH,
         .app_id = "app-1",
         .size = 10,
         .last_modified = "2026-11-21T10:00:00Z",
         .body = graph,
         .body_len = strlen(graph)},
        {.key = k[1],
         .kind = IDX_METADATA,
         .app_id = "app-1",
         .size = 10,
         .last_modified = "2026-11-21T10:00:01Z",
         .body = meta,
         .body_len = strlen(meta),
         .metadata = &m},
        {.key = k[2],
         .kind = IDX_LOG,
         .app_id = "app-1",
         .size = 10,
         .last_modified = "2026-11-21T10:00:02Z",
         .tracker_id = "t",
         .has_seq_range = true,
         .min_sequence_id = 0,
         .max_sequence_id = 1,
         .log = &log},
        {.key = k[3], .kind = IDX_SKIPPED, .skip_reason = "malformed key"},
    };
    struct spoor_error err;
    if (idx_commit_batch(x, project, objs, 4, watermark, &err) != 0)
        fail_msg("%s", err.message);
}

static void test_batch_indexed_once(void **state)
{
    struct idx *x = *state;
    int64_t p1, p2;
    char *wm;
    struct spoor_error err;
    assert_int_equal(idx_project_ensure(x, "alpha", &p1, &wm, &err), 0);
    assert_string_equal(wm, "");
    free(wm);
    batch(x, p1, "data/alpha/k", "data/alpha/k/3");
    assert_int_equal(count(x, "object"), 4);
    assert_int_equal(count(x, "event"), 3);
    assert_int_equal(count(x, "application"), 1);
    bool known;
    assert_int_equal(idx_object_known(x, "data/alpha/k/2", &known, &err), 0);
    assert_true(known);
    /* the same keys again: nothing new, the watermark never goes back */
    batch(x, p1, "data/alpha/k", "data/alpha/a");
    assert_int_equal(count(x, "object"), 4);
    assert_int_equal(count(x, "event"), 3);
    assert_int_equal(idx_project_ensure(x, "alpha", &p1, &wm, &err), 0);
    assert_string_equal(wm, "data/alpha/k/3");
    free(wm);
    /* the same app id in another project is another application */
    assert_int_equal(idx_project_ensure(x, "beta", &p2, &wm, &err), 0);
    free(wm);
    assert_true(p2 != p1);
    batch(x, p2, "data/beta/k", "data/beta/k/3");
    assert_int_equal(count(x, "application"), 2);
    assert_int_equal(count(x, "event"), 6);
}

static int64_t scalar(const char *db_path, const char *q)
{
    sqlite3 *db;
    sqlite3_open(db_path, &db);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_counters_jobs_snapshot(void **state)
{
    struct idx *x = *state;
    int64_t p, job;
    char *wm;
    struct spoor_error err;
    assert_int_equal(idx_project_ensure(x, "alpha", &p, &wm, &err), 0);
    free(wm);
    assert_int_equal(idx_job_start(x, p, &job, &err), 0);
    batch(x, p, "data/alpha/k", "data/alpha/k/3");
    assert_int_equal(idx_job_finish(x, job, true, 4, 4, "data/alpha/k/3", NULL, &err), 0);
    char db[300], snap[300];
    snprintf(db, sizeof db, "%s/db.sqlite3", dir);
    snprintf(snap, sizeof snap, "%s/snapshot.db", dir);
    assert_int_equal(scalar(db, "SELECT count FROM skipped WHERE reason = 'unknown event type'"),
                     2);
    assert_int_equal(scalar(db, "SELECT count FROM skipped WHERE reason = 'malformed key'"), 1);
    assert_int_equal(scalar(db, "SELECT num_steps FROM application"), 2);
    assert_int_equal(scalar(db, "SELECT count(*) FROM indexing_job WHERE status = 'SUCCESS' AND "
                                "records_processed = 4"),
                     1);
    assert_int_equal(idx_snapshot(x, snap, &err), 0);
    assert_int_equal(scalar(snap, "SELECT count(*) FROM event"), 3);
    assert_int_equal(scalar(snap, "SELECT count(*) FROM object"), 4);
    assert_int_equal(scalar(snap, "PRAGMA user_version"), scalar(db, "PRAGMA user_version"));
    assert_int_not_equal(idx_snapshot(x, snap, &err), 0); /* never over an existing file */
}

/* num_steps counts distinct sequence ids with a begin_entry across every object of the app:
 * a repeated begin (a retried flush, a second object) is not a new step. */
static void test_steps_across_objects(void **state)
{
    struct idx *x = *state;
    int64_t p;
    char *wm;
    struct spoor_error err;
    assert_int_equal(idx_project_ensure(x, "alpha", &p, &wm, &err), 0);
    free(wm);
    batch(x, p, "data/alpha/k", "data/alpha/k/3"); /* steps 0 and 1 */
    struct ingest_event events[] = {
        ev(1, "begin_entry", 1, "{\"type\":\"begin_entry\",\"sequence_id\":1}"),
        ev(2, "begin_entry", 2, "{\"type\":\"begin_entry\",\"sequence_id\":2}"),
        ev(3, "begin_entry", 2, "{\"type\":\"begin_entry\",\"sequence_id\":2}"),
        ev(4, "end_entry", 3, "{\"type\":\"end_entry\",\"sequence_id\":3}"),
    };
    struct ingest_log log = {events, 4, {0}};
    struct idx_object o = {.key = "data/alpha/k/9",
                           .kind = IDX_LOG,
                           .app_id = "app-1",
                           .last_modified = "2026-11-21T10:00:09Z",
                           .log = &log};
    assert_int_equal(idx_commit_batch(x, p, &o, 1, "data/alpha/k/9", &err), 0);
    char db[300];
    snprintf(db, sizeof db, "%s/db.sqlite3", dir);
    assert_int_equal(scalar(db, "SELECT num_steps FROM application"), 3);
}

/* Pruning jobs: empty successful ones before the time go, except each project's newest; jobs
 * that indexed something, failures and jobs after the time stay. */
static void test_jobs_pruned(void **state)
{
    struct idx *x = *state;
    int64_t p1, p2, job, removed;
    char *wm;
    struct spoor_error err;
    assert_int_equal(idx_project_ensure(x, "alpha", &p1, &wm, &err), 0);
    free(wm);
    assert_int_equal(idx_project_ensure(x, "beta", &p2, &wm, &err), 0);
    free(wm);
    /* alpha: empty, 5 records, failure, empty, empty (newest); beta: one empty job */
    const struct {
        int64_t project;
        bool ok;
        int64_t records;
    } jobs[] = {{p1, true, 0}, {p1, true, 5}, {p1, false, 0},
                {p1, true, 0}, {p1, true, 0}, {p2, true, 0}};
    for (size_t i = 0; i < sizeof jobs / sizeof jobs[0]; i++) {
        assert_int_equal(idx_job_start(x, jobs[i].project, &job, &err), 0);
        assert_int_equal(idx_job_finish(x, job, jobs[i].ok, jobs[i].records, 0, NULL,
                                        jobs[i].ok ? NULL : "boom", &err),
                         0);
    }
    assert_int_equal(idx_jobs_prune(x, "2000-01-01T00:00:00Z", &removed, &err), 0);
    assert_int_equal(removed, 0); /* all are newer */
    assert_int_equal(idx_jobs_prune(x, "9999-01-01T00:00:00Z", &removed, &err), 0);
    assert_int_equal(removed, 2); /* alpha's first and fourth */
    char db[300];
    snprintf(db, sizeof db, "%s/db.sqlite3", dir);
    assert_int_equal(scalar(db, "SELECT count(*) FROM indexing_job"), 4);
    assert_int_equal(scalar(db, "SELECT count(*) FROM indexing_job WHERE records_processed = 5"),
                     1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM indexing_job WHERE status = 'FAILURE'"), 1);
    assert_int_equal(scalar(db, "SELECT count(*) FROM indexing_job WHERE records_processed = 0 "
                                "AND status = 'SUCCESS'"),
                     2); /* each project's newest */
}

static void test_failed_batch_leaves_nothing(void **state)
{
    struct idx *x = *state;
    struct spoor_error err;
    struct idx_object objs[] = {
        {.key = "data/p/ok",
         .kind = IDX_GRAPH,
         .app_id = "a",
         .body = graph,
         .body_len = strlen(graph),
         .last_modified = "x"},
    };
    /* project 999 does not exist: the foreign key fails, the whole batch rolls back */
    assert_int_not_equal(idx_commit_batch(x, 999, objs, 1, "data/p/ok", &err), 0);
    assert_non_null(strstr(err.message, "rolled back"));
    assert_int_equal(count(x, "object"), 0);
    assert_int_equal(count(x, "application"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_batch_indexed_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters_jobs_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_steps_across_objects, setup, teardown),
        cmocka_unit_test_setup_teardown(test_jobs_pruned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_batch_leaves_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
