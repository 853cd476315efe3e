/*
 * test_migrate.c: the schema migrations on real SQLite files: a fresh index gets every table,
 * a second start changes nothing, a failing migration leaves the previous version intact and
 * names its file, and an index newer than the server, or a gap in versions, is refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "migrate.h"

static char path[256];

static int setup(void **state)
{
    snprintf(path, sizeof path, "%s/spoor-migrate-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    unlink(path); /* SQLite makes it */
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    *state = db;
    return 0;
}

static int teardown(void **state)
{
    sqlite3_close(*state);
    unlink(path);
    return 0;
}

static int version(sqlite3 *db)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    sqlite3_step(st);
    int v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return v;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", -1, &st,
                       NULL);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
    return found;
}

static void test_fresh_index_gets_every_table(void **state)
{
    sqlite3 *db = *state;
    int from = -1, to = -1;
    struct spoor_error err;
    assert_true(spoor_nmigrations >= 1);
    assert_int_equal(migrate_apply(db, spoor_migrations, spoor_nmigrations, &from, &to, &err), 0);
    assert_int_equal(from, 0);
    assert_int_equal(to, (int)spoor_nmigrations);
    assert_int_equal(version(db), (int)spoor_nmigrations);
    const char *tables[] = {"project",    "application",  "object",  "event",       "child",
                            "annotation", "indexing_job", "skipped", "server_state"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (!has_table(db, tables[i]))
            fail_msg("table %s missing", tables[i]);
    /* the same app id in two projects is two applications (Burr collides them) */
    assert_int_equal(
        sqlite3_exec(db,
                     "INSERT INTO project(name, created_at) VALUES ('a', 'x'), ('b', 'x');"
                     "INSERT INTO application(project_id, app_id, partition_key, "
                     "first_written, last_written) VALUES (1, 'app', '__none__', 'x', "
                     "'x'), (2, 'app', '__none__', 'x', 'x');",
                     NULL, NULL, NULL),
        SQLITE_OK);
    /* a key is indexed once */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO object(project_id, key, kind, indexed_at) "
                                  "VALUES (1, 'k', 'log', 'x')",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO object(project_id, key, kind, indexed_at) "
                                  "VALUES (1, 'k', 'log', 'x')",
                                  NULL, NULL, NULL),
                     SQLITE_CONSTRAINT);
    /* a second start is a no-op */
    assert_int_equal(migrate_apply(db, spoor_migrations, spoor_nmigrations, &from, &to, &err), 0);
    assert_int_equal(from, to);
}

static void test_failing_migration_rolls_back(void **state)
{
    sqlite3 *db = *state;
    const struct migration m[] = {
        {1, "0001_ok.sql", "CREATE TABLE t1 (x INTEGER);"},
        {2, "0002_broken.sql", "CREATE TABLE t2 (x INTEGER); INSERT INTO nowhere VALUES (1);"},
    };
    struct spoor_error err;
    int to = -1;
    assert_int_equal(migrate_apply(db, m, 2, NULL, &to, &err), SPOOR_E_CONFIG);
    assert_non_null(strstr(err.message, "0002_broken.sql"));
    assert_non_null(strstr(err.message, "nowhere"));
    assert_int_equal(version(db), 1);
    assert_true(has_table(db, "t1"));
    assert_false(has_table(db, "t2")); /* the failing file left nothing behind */
}

static void test_newer_index_and_gaps_refused(void **state)
{
    sqlite3 *db = *state;
    struct spoor_error err;
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(migrate_apply(db, spoor_migrations, spoor_nmigrations, NULL, NULL, &err),
                     SPOOR_E_CONFIG);
    assert_non_null(strstr(err.message, "newer"));
    assert_int_equal(version(db), 99);
    const struct migration gap[] = {{1, "0001_a.sql", "SELECT 1;"}, {3, "0003_c.sql", "SELECT 1;"}};
    assert_int_equal(migrate_apply(db, gap, 2, NULL, NULL, &err), SPOOR_E_CONFIG);
    assert_non_null(strstr(err.message, "0003_c.sql"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fresh_index_gets_every_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_migration_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newer_index_and_gaps_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
