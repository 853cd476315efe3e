/*
 * test_tracker_local.c: the tracker end to end on this machine only: Burr's local layout
 * (log.jsonl, graph.json and metadata.json in json.dump style, children.jsonl in the parent's
 * folder), the S3 layout into a local file store through the router, the spool (files whole,
 * damaged ones left alone, an earlier run's leftovers sent at start), and the queue-full
 * policy with its counters.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "support/files.h"

#include <spoor/router.h>
#include <spoor/tracker.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filestore.h"
#include "spool.h"
#include "util.h"

static char dir[256];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "%s/spoor-trk-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static const char graph[] =
    "{ \"type\": \"application\", \"entrypoint\": \"counter\",\n"
    "  \"actions\": [{\"type\": \"action\", \"name\": \"counter\", \"reads\": [\"counter\"],\n"
    "    \"writes\": [\"counter\"], \"code\": \"def counter(): ...\", \"inputs\": [],\n"
    "    \"optional_inputs\": []}],\n"
    "  \"transitions\": [{\"type\": \"transition\", \"from_\": \"counter\", \"to\": \"counter\",\n"
    "    \"condition\": \"counter < 10\"}] }";

static void test_local_layout(void **state)
{
    char root[300], path[600];
    snprintf(root, sizeof root, "%s/burr", dir);
    struct spoor_tracker_opts o = {
        .project = "demo_counter", .local_root = root, .flush_interval_ms = 60000};
    struct spoor_tracker *t;
    struct spoor_error err;
    assert_int_equal(spoor_tracker_new(&o, &t, &err), 0);
    struct spoor_app *parent, *child, *again;
    assert_int_equal(spoor_app_new(t, "parent-1", "user_0", graph, NULL, NULL, &parent, &err), 0);
    assert_int_equal(spoor_app_new(t, "parent-1", "user_0", graph, NULL, NULL, &again, &err), 0);
    assert_ptr_equal(parent, again);
    struct spoor_pointer from = {"parent-1", "user_0", 2, true};
    assert_int_equal(spoor_app_new(t, "child-1", NULL, graph, NULL, &from, &child, &err), 0);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(spoor_step_begin(parent, i, "counter", "{\"x\": \"é\"}"), 0);
        assert_int_equal(spoor_step_end(parent, i, "counter", "{}", "{\"counter\": 1}", NULL), 0);
    }
    assert_int_equal(spoor_step_begin(child, 0, "work", "{}"), 0);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);

    snprintf(path, sizeof path, "%s/demo_counter/parent-1/graph.json", root);
    char *g = slurp(path);
    assert_non_null(g);
    /* json.dump style: ", " and ": " separators, on one line */
    assert_non_null(
        strstr(g, "{\"type\": \"application\", \"entrypoint\": \"counter\", \"actions\": [{"));
    assert_non_null(strstr(g, "\"from_\": \"counter\""));
    free(g);
    snprintf(path, sizeof path, "%s/demo_counter/child-1/metadata.json", root);
    char *m = slurp(path);
    assert_string_equal(m, "{\"type\": \"application_metadata\", \"partition_key\": null, "
                           "\"parent_pointer\": null, \"spawning_parent_pointer\": {\"type\": "
                           "\"pointer_data\", \"app_id\": \"parent-1\", \"sequence_id\": 2, "
                           "\"partition_key\": \"user_0\"}}");
    free(m);
    snprintf(path, sizeof path, "%s/demo_counter/parent-1/log.jsonl", root);
    char *log = slurp(path);
    assert_int_equal(count_lines(log), 6);
    assert_true(log[strlen(log) - 1] == '\n');
    assert_true(str_has_prefix(log, "{\"type\":\"begin_entry\",\"start_time\":\""));
    assert_non_null(strstr(log, "\"inputs\":{\"x\":\"é\"},\"sequence_id\":0}\n"));
    free(log);
    snprintf(path, sizeof path, "%s/demo_counter/parent-1/children.jsonl", root);
    char *children = slurp(path);
    assert_non_null(children);
    assert_true(str_has_prefix(children, "{\"type\":\"child_application_data\",\"child\":{\"type\":"
                                         "\"pointer_data\",\"app_id\":\"child-1\",\"sequence_id\""
                                         ":null,\"partition_key\":null},\"event_time\":\""));
    assert_non_null(strstr(children, "\"event_type\":\"spawn_start\",\"sequence_id\":2}\n"));
    free(children);
}

static void test_invalid_input_refused(void **state)
{
    char root[300];
    snprintf(root, sizeof root, "%s/burr2", dir);
    struct spoor_tracker_opts o = {.project = "p", .local_root = root};
    struct spoor_tracker *t;
    struct spoor_error err;
    struct spoor_tracker_opts bad = {.project = "no/slash", .local_root = root};
    assert_int_equal(spoor_tracker_new(&bad, &t, &err), SPOOR_E_INVALID);
    assert_non_null(strstr(err.message, "no/slash"));
    struct spoor_tracker_opts both = {.project = "p", .local_root = root, .bucket = "b"};
    assert_int_equal(spoor_tracker_new(&both, &t, &err), SPOOR_E_CONFIG);
    assert_int_equal(spoor_tracker_new(&o, &t, &err), 0);
    struct spoor_app *a;
    assert_int_equal(spoor_app_new(t, "a/b", NULL, graph, NULL, NULL, &a, &err), SPOOR_E_INVALID);
    assert_int_equal(spoor_app_new(t, "ok", "pk/with/slash", graph, NULL, NULL, &a, &err),
                     SPOOR_E_INVALID);
    assert_non_null(strstr(err.message, "partition key"));
    assert_int_equal(spoor_app_new(t, "ok", NULL, "[1,2]", NULL, NULL, &a, &err), SPOOR_E_INVALID);
    assert_int_equal(spoor_app_new(t, "ok", NULL, graph, NULL, NULL, &a, &err), 0);
    assert_int_equal(spoor_step_begin(a, 0, "x", "{\"a\": }"), SPOOR_E_INVALID);
    assert_int_equal(spoor_step_begin(a, 0, "x", "[]"), SPOOR_E_INVALID);
    assert_int_equal(spoor_step_end(a, 0, "x", "{}", "{\"s\": \"\xff\"}", NULL), SPOOR_E_INVALID);
    assert_int_equal(spoor_attribute(a, 0, NULL, "k", "1", "{\"tag\": 2}"), SPOOR_E_INVALID);
    assert_int_equal(spoor_attribute(a, 0, NULL, "k", "1", "{\"tag\": \"v\"}"), 0);
    struct spoor_tracker_stats s;
    spoor_tracker_stats(t, &s);
    assert_int_equal(s.events_refused, 4);
    assert_int_equal(s.events_enqueued, 1);
    assert_int_equal(spoor_tracker_free(t, 5000), 0);
}

static void test_queue_full_drops_are_counted(void **state)
{
    char root[300];
    snprintf(root, sizeof root, "%s/burr3", dir);
    struct spoor_tracker_opts o = {.project = "p",
                                   .local_root = root,
                                   .queue_bytes = 8192,
                                   .full_policy = SPOOR_FULL_DROP,
                                   .flush_interval_ms = 60000,
                                   .max_batch_events = 1000000};
    struct spoor_tracker *t;
    struct spoor_error err;
    assert_int_equal(spoor_tracker_new(&o, &t, &err), 0);
    struct spoor_app *a;
    assert_int_equal(spoor_app_new(t, "a", NULL, graph, NULL, NULL, &a, &err), 0);
    int ok = 0, dropped = 0;
    for (int i = 0; i < 1000; i++) {
        int rc = spoor_attribute(a, i, NULL, "k", "\"0123456789\"", NULL);
        ok += rc == 0;
        dropped += rc == SPOOR_E_QUEUE_FULL;
    }
    assert_int_equal(ok + dropped, 1000);
    assert_true(dropped > 0);
    struct spoor_tracker_stats s;
    spoor_tracker_stats(t, &s);
    assert_int_equal(s.events_dropped, dropped);
    assert_int_equal(spoor_tracker_flush(t, 5000, &err), 0);
    spoor_tracker_stats(t, &s);
    assert_int_equal(s.events_written, ok); /* what was accepted is written */
    assert_int_equal(spoor_tracker_free(t, 5000), 0);
}

/* The S3 layout into a local bucket store, and the spool: leftovers of an earlier run go
 * out at start, a damaged spool file stays where it is. */
static void test_store_and_spool(void **state)
{
    char store[300], spool[300], path[700];
    snprintf(store, sizeof store, "%s/store", dir);
    snprintf(spool, sizeof spool, "%s/spool", dir);
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, store, "local", &err);
    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = "bkt"};
    struct spoor_s3_result res;
    assert_int_equal(filestore_exec(fs, &mk, &res, &err), 0);
    spoor_s3_result_cleanup(&res);
    assert_int_equal(spool_mkdirs(spool, &err), 0);
    struct spool_obj left = {
        .bucket = "bkt", .key = "data/p/left/over", .body = "kept", .body_len = 4};
    assert_int_equal(spool_write(spool, &left, &err), 0);
    free(left.path);
    snprintf(path, sizeof path, "%s/00000000000000000001-damaged.spool", spool);
    FILE *f = fopen(path, "w");
    fputs("not a spool file", f);
    fclose(f);

    struct spoor_tracker_opts o = {.project = "p",
                                   .bucket = "bkt",
                                   .store_root = store,
                                   .spool_dir = spool,
                                   .flush_interval_ms = 60000};
    struct spoor_tracker *t;
    assert_int_equal(spoor_tracker_new(&o, &t, &err), 0);
    struct spoor_app *a;
    assert_int_equal(spoor_app_new(t, "app-1", NULL, graph, NULL, NULL, &a, &err), 0);
    assert_int_equal(spoor_step_begin(a, 0, "counter", "{}"), 0);
    assert_int_equal(spoor_tracker_flush(t, 10000, &err), 0);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);

    struct spoor_s3_op get = {
        .kind = SPOOR_S3_GET_OBJECT, .bucket = "bkt", .key = "data/p/left/over"};
    assert_int_equal(filestore_exec(fs, &get, &res, &err), 0);
    assert_string_equal(res.body, "kept");
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op ls = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "bkt", .prefix = "data/p/2"};
    assert_int_equal(filestore_exec(fs, &ls, &res, &err), 0);
    assert_int_equal(res.list.nobjects, 3); /* graph.json, metadata.json, one log object */
    int logs = 0;
    for (size_t i = 0; i < res.list.nobjects; i++) {
        const char *k = res.list.objects[i].key;
        assert_non_null(strstr(k, "/__none__/app-1/"));
        logs += str_has_suffix(k, "__log.jsonl");
    }
    assert_int_equal(logs, 1);
    spoor_s3_result_cleanup(&res);
    char **names;
    size_t n;
    assert_int_equal(spool_list(spool, &names, &n), 0);
    assert_int_equal(n, 0); /* sent, and the damaged file set aside */
    free(names);
    snprintf(path, sizeof path, "%s/00000000000000000001-damaged.spool.damaged", spool);
    assert_int_equal(access(path, F_OK), 0); /* kept for a person to look at */
    filestore_free(fs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_local_layout),
        cmocka_unit_test(test_invalid_input_refused),
        cmocka_unit_test(test_queue_full_drops_are_counted),
        cmocka_unit_test(test_store_and_spool),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
