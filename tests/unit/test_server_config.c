/*
 * test_server_config.c: the server's configuration (server/config.h) from a fake environment
 * (an array of "NAME=value" strings) and argv: defaults, every variable, flags over the
 * environment, both flag forms, every kind of problem with its name and bad value, several
 * problems at once, boolean spellings, '~' expansion and the composed paths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <spoor/error.h>

#include "config.h"

/* The fake getenv: ud is a NULL-terminated array of "NAME=value". */
static const char *fake_getenv(const char *name, void *ud)
{
    const char *const *env = ud;
    size_t n = strlen(name);
    for (; *env; env++)
        if (strncmp(*env, name, n) == 0 && (*env)[n] == '=')
            return *env + n + 1;
    return NULL;
}

/* Loads with env and argv (argv without the program name, NULL-terminated). */
static int load(struct server_config *c, const char **env, const char **args, char **probs)
{
    char *argv[32] = {"spoor-server"};
    int argc = 1;
    for (; args && args[argc - 1]; argc++)
        argv[argc] = (char *)args[argc - 1];
    return server_config_load(c, fake_getenv, (void *)env, argc, argv, probs);
}

/* Loads and expects failure; returns the problems (new). */
static char *load_bad(const char **env, const char **args)
{
    struct server_config c;
    char *probs = NULL;
    assert_int_equal(load(&c, env, args, &probs), SPOOR_E_CONFIG);
    assert_non_null(probs);
    return probs;
}

static void load_ok(struct server_config *c, const char **env, const char **args)
{
    char *probs = (char *)"unset";
    int rc = load(c, env, args, &probs);
    if (rc != 0)
        fprintf(stderr, "problems:\n%s", probs);
    assert_int_equal(rc, 0);
    assert_null(probs);
}

static void test_defaults(void **state)
{
    (void)state;
    const char *env[] = {"HOME=/home/u", NULL};
    struct server_config c;
    load_ok(&c, env, NULL);
    assert_string_equal(c.bucket, "");
    assert_int_equal(c.update_interval_ms, 120000);
    assert_int_equal(c.max_concurrency, 100);
    assert_int_equal(c.snapshot_interval_ms, 3600000);
    assert_true(c.load_snapshot_on_start);
    assert_int_equal(c.prior_snapshots_to_keep, 5);
    assert_string_equal(c.server_root, "/home/u/.burr_server");
    assert_string_equal(c.db_filename, "db.sqlite3");
    assert_string_equal(c.db_path, "/home/u/.burr_server/db.sqlite3");
    assert_string_equal(c.store_root, "/home/u/.burr_server/objects");
    assert_string_equal(c.routes_path, "");
    assert_int_equal(c.lookback_s, 600);
    assert_string_equal(c.host, "127.0.0.1");
    assert_int_equal(c.port, 7241);
    assert_string_equal(c.ui_dir, "");
    assert_string_equal(c.server_id, "");
    assert_int_equal(c.batch_cap, 1000);
    assert_false(c.snapshot_on_exit);
    assert_false(c.once);
    assert_false(c.help);
}

static void test_every_variable(void **state)
{
    (void)state;
    const char *env[] = {"HOME=/home/u",
                         "BURR_S3_BUCKET=my-bucket",
                         "BURR_UPDATE_INTERVAL_MILLISECONDS=150000",
                         "BURR_AWS_MAX_CONCURRENCY=7",
                         "BURR_SNAPSHOT_INTERVAL_MILLISECONDS=60000",
                         "BURR_LOAD_SNAPSHOT_ON_START=false",
                         "BURR_PRIOR_SNAPSHOTS_TO_KEEP=2",
                         "BURR_SERVER_ROOT=/srv/burr",
                         "BURR_DB_FILENAME=index.db",
                         "SPOOR_ROUTES=/etc/spoor/routes.toml",
                         "SPOOR_LOOKBACK_SECONDS=0",
                         "SPOOR_HOST=0.0.0.0",
                         "SPOOR_PORT=8080",
                         "SPOOR_UI_DIR=/opt/ui",
                         "SPOOR_SERVER_ID=node-a",
                         "SPOOR_BATCH_CAP=50",
                         "SPOOR_SNAPSHOT_ON_EXIT=yes",
                         NULL};
    struct server_config c;
    load_ok(&c, env, NULL);
    assert_string_equal(c.bucket, "my-bucket");
    assert_int_equal(c.update_interval_ms, 150000);
    assert_int_equal(c.max_concurrency, 7);
    assert_int_equal(c.snapshot_interval_ms, 60000);
    assert_false(c.load_snapshot_on_start);
    assert_int_equal(c.prior_snapshots_to_keep, 2);
    assert_string_equal(c.server_root, "/srv/burr");
    assert_string_equal(c.db_filename, "index.db");
    assert_string_equal(c.db_path, "/srv/burr/index.db");
    assert_string_equal(c.store_root, "/srv/burr/objects");
    assert_string_equal(c.routes_path, "/etc/spoor/routes.toml");
    assert_int_equal(c.lookback_s, 0);
    assert_string_equal(c.host, "0.0.0.0");
    assert_int_equal(c.port, 8080);
    assert_string_equal(c.ui_dir, "/opt/ui");
    assert_string_equal(c.server_id, "node-a");
    assert_int_equal(c.batch_cap, 50);
    assert_true(c.snapshot_on_exit);
}

static void test_flags_override_env(void **state)
{
    (void)state;
    const char *env[] = {"HOME=/home/u",
                         "SPOOR_PORT=8080",
                         "SPOOR_HOST=0.0.0.0",
                         "BURR_S3_BUCKET=env-b",
                         "SPOOR_ROUTES=env",
                         "BURR_SERVER_ROOT=/env",
                         NULL};
    const char *args[] = {"--port",
                          "9000",
                          "--host=::1",
                          "--bucket",
                          "flag-b",
                          "--routes=r.toml",
                          "--root",
                          "/flag",
                          "--ui-dir=ui",
                          "--server-id",
                          "s1",
                          "--interval-ms=500",
                          "--lookback-seconds",
                          "30",
                          "--batch-cap=10",
                          "--snapshot-interval-ms",
                          "1000",
                          "--snapshot-on-exit",
                          "--once",
                          NULL};
    struct server_config c;
    load_ok(&c, env, args);
    assert_int_equal(c.port, 9000);
    assert_string_equal(c.host, "::1");
    assert_string_equal(c.bucket, "flag-b");
    assert_string_equal(c.routes_path, "r.toml");
    assert_string_equal(c.server_root, "/flag");
    assert_string_equal(c.db_path, "/flag/db.sqlite3");
    assert_string_equal(c.ui_dir, "ui");
    assert_string_equal(c.server_id, "s1");
    assert_int_equal(c.update_interval_ms, 500);
    assert_int_equal(c.lookback_s, 30);
    assert_int_equal(c.batch_cap, 10);
    assert_int_equal(c.snapshot_interval_ms, 1000);
    assert_true(c.snapshot_on_exit);
    assert_true(c.once);
    assert_false(c.help);
}

static void test_flag_forms(void **state)
{
    (void)state;
    const char *env[] = {"HOME=/h", "SPOOR_SNAPSHOT_ON_EXIT=true", NULL};
    const char *a1[] = {"--port=1", "--help", "--snapshot-on-exit=no", NULL};
    const char *a2[] = {"--port", "65535", "--host", "", NULL};
    struct server_config c;
    load_ok(&c, env, a1);
    assert_int_equal(c.port, 1);
    assert_true(c.help);
    assert_false(c.snapshot_on_exit);
    /* "--flag value" takes the next argument even when empty; an empty host is refused. */
    char *p = load_bad(env, a2);
    assert_non_null(strstr(p, "--host: expected a non-empty value, found \"\""));
    free(p);
    const char *a3[] = {"--port", "65535", "--bucket=", NULL};
    load_ok(&c, env, a3);
    assert_int_equal(c.port, 65535);
    assert_string_equal(c.bucket, "");
}

static void expect_one(const char **env, const char **args, const char *line)
{
    char *p = load_bad(env, args);
    char want[512];
    snprintf(want, sizeof(want), "%s\n", line);
    if (strcmp(p, want) != 0)
        fprintf(stderr, "want: %sgot:  %s", want, p);
    assert_string_equal(p, want);
    free(p);
}

static void test_each_error(void **state)
{
    (void)state;
    const char *e1[] = {"HOME=/h", "BURR_UPDATE_INTERVAL_MILLISECONDS=2m", NULL};
    expect_one(e1, NULL,
               "BURR_UPDATE_INTERVAL_MILLISECONDS: expected a positive integer (milliseconds), "
               "found \"2m\"");
    const char *e2[] = {"HOME=/h", "BURR_SNAPSHOT_INTERVAL_MILLISECONDS=99", NULL};
    expect_one(e2, NULL,
               "BURR_SNAPSHOT_INTERVAL_MILLISECONDS: expected a positive integer (milliseconds) "
               ">= 100, found \"99\"");
    const char *e3[] = {"HOME=/h", "BURR_AWS_MAX_CONCURRENCY=1001", NULL};
    expect_one(e3, NULL,
               "BURR_AWS_MAX_CONCURRENCY: expected a positive integer (parallel requests) from 1 "
               "to 1000, found \"1001\"");
    const char *e4[] = {"HOME=/h", "BURR_PRIOR_SNAPSHOTS_TO_KEEP=0", NULL};
    expect_one(e4, NULL,
               "BURR_PRIOR_SNAPSHOTS_TO_KEEP: expected a positive integer (snapshots) >= 1, found "
               "\"0\"");
    const char *e5[] = {"HOME=/h", "SPOOR_PORT=65536", NULL};
    expect_one(e5, NULL, "SPOOR_PORT: expected a port number from 1 to 65535, found \"65536\"");
    const char *e6[] = {"HOME=/h", "BURR_LOAD_SNAPSHOT_ON_START=maybe", NULL};
    expect_one(e6, NULL,
               "BURR_LOAD_SNAPSHOT_ON_START: expected true or false (also 1/0, yes/no, on/off), "
               "found \"maybe\"");
    const char *e7[] = {"HOME=/h", "BURR_DB_FILENAME=sub/db.sqlite3", NULL};
    expect_one(e7, NULL,
               "BURR_DB_FILENAME: expected a file name without '/', found \"sub/db.sqlite3\"");
    const char *e8[] = {"HOME=/h", NULL};
    const char *a8[] = {"--verbose=1", NULL};
    expect_one(e8, a8, "--verbose: expected a known flag (see --help), found an unknown flag");
    const char *a9[] = {"--port", NULL};
    expect_one(e8, a9, "--port: expected a value, found the end of the arguments");
    const char *a10[] = {"stray", NULL};
    expect_one(e8, a10, "argument \"stray\": expected a flag (see --help), found a bare value");
    const char *a11[] = {"--port=0", NULL};
    expect_one(e8, a11, "--port: expected a port number from 1 to 65535, found \"0\"");
    const char *a12[] = {"--lookback-seconds", "-5", NULL};
    expect_one(e8, a12,
               "--lookback-seconds: expected a non-negative integer (seconds) >= 0, found \"-5\"");
    const char *a13[] = {"--once=perhaps", NULL};
    expect_one(e8, a13,
               "--once: expected true or false (also 1/0, yes/no, on/off), found \"perhaps\"");
}

static void test_strict_numbers(void **state)
{
    (void)state;
    static const char *bad[] = {
        "", " 8080", "8080 ", "+8080", "8080x", "0x1F", "1e3", "--1", "99999999999999999999999",
        "-"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char var[64];
        snprintf(var, sizeof(var), "SPOOR_PORT=%s", bad[i]);
        const char *env[] = {"HOME=/h", var, NULL};
        char *p = load_bad(env, NULL);
        char want[128];
        snprintf(want, sizeof(want), "found \"%s\"\n", bad[i]);
        assert_non_null(strstr(p, "SPOOR_PORT: expected a port number"));
        assert_non_null(strstr(p, want));
        free(p);
    }
    const char *big[] = {"HOME=/h", "BURR_UPDATE_INTERVAL_MILLISECONDS=2147483648", NULL};
    char *p = load_bad(big, NULL);
    assert_non_null(strstr(p, ">= 100, found \"2147483648\""));
    free(p);
}

static void test_many_problems(void **state)
{
    (void)state;
    const char *env[] = {"HOME=/h",
                         "SPOOR_PORT=http",
                         "BURR_AWS_MAX_CONCURRENCY=0",
                         "BURR_LOAD_SNAPSHOT_ON_START=2",
                         "BURR_DB_FILENAME=../x",
                         NULL};
    const char *args[] = {"--bogus", "--interval-ms=10", NULL};
    struct server_config c;
    char *p = NULL;
    assert_int_equal(load(&c, env, args, &p), SPOOR_E_CONFIG);
    assert_non_null(p);
    assert_non_null(strstr(p, "SPOOR_PORT: expected a port number, found \"http\"\n"));
    assert_non_null(strstr(p, "BURR_AWS_MAX_CONCURRENCY: "));
    assert_non_null(strstr(p, "found \"0\"\n"));
    assert_non_null(strstr(p, "BURR_LOAD_SNAPSHOT_ON_START: "));
    assert_non_null(strstr(p, "BURR_DB_FILENAME: expected a file name without '/', found "
                              "\"../x\"\n"));
    assert_non_null(strstr(p, "--bogus: "));
    assert_non_null(strstr(p, "--interval-ms: "));
    assert_non_null(strstr(p, "found \"10\"\n"));
    int lines = 0;
    for (const char *s = p; *s; s++)
        lines += *s == '\n';
    assert_int_equal(lines, 6);
    free(p);
    /* Refused values leave the defaults in place, and NULL problems is allowed. */
    assert_int_equal(c.port, 7241);
    assert_int_equal(c.max_concurrency, 100);
    assert_int_equal(load(&c, env, args, NULL), SPOOR_E_CONFIG);
}

static void test_bool_spellings(void **state)
{
    (void)state;
    static const char *t[] = {"true", "TRUE", "True", "1", "yes", "YES", "on", "t", "Y"};
    static const char *f[] = {"false", "FALSE", "False", "0", "no", "No", "off", "F", "n"};
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        char v1[64], v2[64];
        snprintf(v1, sizeof(v1), "BURR_LOAD_SNAPSHOT_ON_START=%s", f[i]);
        snprintf(v2, sizeof(v2), "SPOOR_SNAPSHOT_ON_EXIT=%s", t[i]);
        const char *env[] = {"HOME=/h", v1, v2, NULL};
        struct server_config c;
        load_ok(&c, env, NULL);
        assert_false(c.load_snapshot_on_start);
        assert_true(c.snapshot_on_exit);
    }
    static const char *bad[] = {"", "truee", "2", "yess", " true"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char v[64];
        snprintf(v, sizeof(v), "BURR_LOAD_SNAPSHOT_ON_START=%s", bad[i]);
        const char *env[] = {"HOME=/h", v, NULL};
        free(load_bad(env, NULL));
    }
}

static void test_paths(void **state)
{
    (void)state;
    struct server_config c;
    const char *e1[] = {"HOME=/home/u", "BURR_SERVER_ROOT=~/idx", "BURR_DB_FILENAME=a.db", NULL};
    load_ok(&c, e1, NULL);
    assert_string_equal(c.server_root, "/home/u/idx");
    assert_string_equal(c.db_path, "/home/u/idx/a.db");
    assert_string_equal(c.store_root, "/home/u/idx/objects");
    const char *e2[] = {"HOME=/home/u", "BURR_SERVER_ROOT=~", NULL};
    load_ok(&c, e2, NULL);
    assert_string_equal(c.db_path, "/home/u/db.sqlite3");
    const char *e3[] = {"HOME=/home/u", NULL};
    const char *a3[] = {"--root=/", NULL};
    load_ok(&c, e3, a3);
    assert_string_equal(c.db_path, "/db.sqlite3");
    assert_string_equal(c.store_root, "/objects");
    /* "~user" is not expanded; a relative root stays relative. */
    const char *e4[] = {"HOME=/home/u", "BURR_SERVER_ROOT=~bob/x", NULL};
    load_ok(&c, e4, NULL);
    assert_string_equal(c.db_path, "~bob/x/db.sqlite3");
    /* No HOME: the default root cannot be expanded, and the message says so. */
    const char *e5[] = {NULL};
    char *p = load_bad(e5, NULL);
    assert_non_null(strstr(p, "BURR_SERVER_ROOT: expected HOME to be set"));
    free(p);
    const char *a6[] = {"--root", "~/r", NULL};
    p = load_bad(e5, a6);
    assert_non_null(strstr(p, "--root: expected HOME to be set to expand '~' in \"~/r\""));
    free(p);
    /* But no HOME is fine when the root needs none. */
    const char *e7[] = {"BURR_SERVER_ROOT=/abs", NULL};
    load_ok(&c, e7, NULL);
    assert_string_equal(c.db_path, "/abs/db.sqlite3");
}

static void test_length_limits(void **state)
{
    (void)state;
    char v[400];
    memset(v, 'b', sizeof(v));
    memcpy(v, "BURR_S3_BUCKET=", 15);
    v[sizeof(v) - 1] = '\0';
    const char *env[] = {"HOME=/h", v, NULL};
    char *p = load_bad(env, NULL);
    assert_non_null(strstr(p, "BURR_S3_BUCKET: expected at most 255 bytes, found 384 bytes"));
    free(p);
    char root[1100];
    memset(root, 'r', sizeof(root));
    memcpy(root, "BURR_SERVER_ROOT=/", 18);
    root[17 + 1023] = '\0'; /* the longest root that fits: 1023 bytes */
    const char *e2[] = {"HOME=/h", root, NULL};
    struct server_config c;
    load_ok(&c, e2, NULL);
    assert_int_equal(strlen(c.db_path), 1023 + 1 + strlen("db.sqlite3"));
    assert_int_equal(strlen(c.store_root), 1023 + strlen("/objects"));
    root[17 + 1023] = 'r';
    root[17 + 1024] = '\0';
    p = load_bad(e2, NULL);
    assert_string_equal(p, "BURR_SERVER_ROOT: expected at most 1023 bytes, found 1024 bytes\n");
    free(p);
}

static void test_usage(void **state)
{
    (void)state;
    const char *u = server_config_usage();
    static const char *flags[] = {"--bucket",
                                  "--port",
                                  "--host",
                                  "--routes",
                                  "--root",
                                  "--ui-dir",
                                  "--server-id",
                                  "--interval-ms",
                                  "--lookback-seconds",
                                  "--batch-cap",
                                  "--snapshot-interval-ms",
                                  "--snapshot-on-exit",
                                  "--once",
                                  "--help"};
    for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
        assert_non_null(strstr(u, flags[i]));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_variable),
        cmocka_unit_test(test_flags_override_env),
        cmocka_unit_test(test_flag_forms),
        cmocka_unit_test(test_each_error),
        cmocka_unit_test(test_strict_numbers),
        cmocka_unit_test(test_many_problems),
        cmocka_unit_test(test_bool_spellings),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_length_limits),
        cmocka_unit_test(test_usage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
