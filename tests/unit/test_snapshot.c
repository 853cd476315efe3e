/*
 * test_snapshot.c: snapshots of the index in a local bucket store, through the router:
 * Burr's key format (newest first), a restored snapshot holds the same rows, an unchanged
 * index is not snapshotted again, and retention keeps this server's newest N (also those of an
 * earlier run) while other servers' snapshots stay.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/router.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "filestore.h"
#include "snapshot.h"

static char dir[256], store[300];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "%s/spoor-snap-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    snprintf(store, sizeof store, "%s/objects", dir);
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, store, "local", &err);
    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = "b"};
    struct spoor_s3_result res;
    int rc = filestore_exec(fs, &mk, &res, &err);
    spoor_s3_result_cleanup(&res);
    filestore_free(fs);
    return rc;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_key_format(void **state)
{
    char key[300];
    snapshot_key(1748736000LL * 1000000 + 123456, "srv-1", key, sizeof key);
    assert_string_equal(key, "snapshots/2546231296-2025-06-01T00:00:00.123456+00:00/srv-1/"
                             "snapshot.db");
    char later[300];
    snapshot_key(1748736001LL * 1000000, "srv-1", later, sizeof later);
    assert_true(strcmp(later, key) < 0); /* newer sorts first */
}

struct env {
    uv_loop_t loop;
    struct spoor_router *r;
    struct idx *x;
    struct snapshotter *s;
};

static void open_env(struct env *e, const char *db, const char *server_id, int keep)
{
    uv_loop_init(&e->loop);
    struct spoor_router_opts ro = {.routes_path = "", .local_root = store};
    struct spoor_error err;
    e->r = spoor_router_new(&e->loop, &ro, &err);
    assert_non_null(e->r);
    assert_int_equal(idx_open(db, &e->x, &err), 0);
    struct snapshot_opts o = {.bucket = "b", .server_id = server_id, .keep = keep, .work_dir = dir};
    e->s = snapshotter_new(e->r, e->x, &o);
}

static void close_env(struct env *e)
{
    snapshotter_free(e->s);
    idx_close(e->x);
    spoor_router_close(e->r, NULL, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
}

struct taken {
    bool done, skipped;
    int status;
};

static void on_taken(int status, bool skipped, void *ud)
{
    struct taken *t = ud;
    t->done = true;
    t->status = status;
    t->skipped = skipped;
}

static bool take(struct env *e)
{
    struct taken t = {0};
    struct spoor_error err;
    assert_int_equal(snapshot_take(e->s, on_taken, &t, &err), 0);
    assert_false(t.done);
    while (!t.done)
        uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(t.status, 0);
    return !t.skipped;
}

static void add_object(struct env *e, const char *key)
{
    int64_t p;
    char *wm;
    struct spoor_error err;
    assert_int_equal(idx_project_ensure(e->x, "p", &p, &wm, &err), 0);
    free(wm);
    struct idx_object o = {.key = key, .kind = IDX_SKIPPED, .skip_reason = "test"};
    assert_int_equal(idx_commit_batch(e->x, p, &o, 1, key, &err), 0);
}

static size_t count_snapshots(const char *server_id)
{
    struct spoor_error err;
    struct filestore *fs = filestore_new(NULL, store, "local", &err);
    struct spoor_s3_op ls = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "b", .prefix = "snapshots/"};
    struct spoor_s3_result res;
    assert_int_equal(filestore_exec(fs, &ls, &res, &err), 0);
    size_t n = 0;
    for (size_t i = 0; i < res.list.nobjects; i++)
        n += strstr(res.list.objects[i].key, server_id) != NULL;
    spoor_s3_result_cleanup(&res);
    filestore_free(fs);
    return n;
}

static void test_take_restore_retain(void **state)
{
    char db[300], db2[300], key[1024];
    snprintf(db, sizeof db, "%s/db.sqlite3", dir);
    snprintf(db2, sizeof db2, "%s/restored.sqlite3", dir);
    struct env e;
    open_env(&e, db, "other-server", 5);
    add_object(&e, "data/p/x0");
    assert_true(take(&e)); /* another server's snapshot, which retention must not touch */
    close_env(&e);

    open_env(&e, db, "srv-a", 2);
    assert_true(take(&e));
    assert_false(take(&e)); /* nothing changed: skipped */
    for (int i = 1; i <= 3; i++) {
        char k[64];
        snprintf(k, sizeof k, "data/p/x%d", i);
        add_object(&e, k);
        struct timespec pause = {1, 10 * 1000000}; /* distinct seconds: distinct order */
        nanosleep(&pause, NULL);
        assert_true(take(&e));
    }
    assert_int_equal(count_snapshots("srv-a"), 2);
    assert_int_equal(count_snapshots("other-server"), 1);

    bool found = false;
    struct spoor_error err;
    assert_int_equal(snapshot_restore_newest(&e.loop, e.r, "b", db2, &found, key, sizeof key, &err),
                     0);
    assert_true(found);
    assert_non_null(strstr(key, "srv-a"));
    close_env(&e);
    struct idx *x;
    assert_int_equal(idx_open(db2, &x, &err), 0);
    int64_t n;
    assert_int_equal(idx_count(x, "object", &n, &err), 0);
    assert_int_equal(n, 4); /* the newest snapshot has all four objects */
    idx_close(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_format),
        cmocka_unit_test_setup_teardown(test_take_restore_retain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
