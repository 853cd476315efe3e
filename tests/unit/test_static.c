/*
 * test_static.c: the web UI's files (server/static.h) from a temporary folder:
 *
 *   <base>/secret                      outside the UI folder: must never be served
 *   <base>/ui-evil/file.txt            outside, in a sibling whose name starts like the root's
 *   <base>/empty/                      a folder without index.html
 *   <base>/ui/                         the root: index.html, app.js, style.css, Upper.MJS,
 *                                      logo.png (binary), data.xyz, "with space.txt",
 *                                      sub/dir/page.json, .hidden, .git/HEAD, pipe.txt (a FIFO),
 *                                      in.css -> style.css, out.js -> ../secret,
 *                                      outdir -> .., evil.txt -> ../ui-evil/file.txt
 *
 * Every reply is checked for status and content type; files for the exact bytes read from the
 * descriptor, the Cache-Control and the ETag; refusals for fd -1, a JSON {"detail"} body and no
 * descriptor left open. Every descriptor a test gets is closed; the folder is removed after.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <spoor/error.h>

#include "static.h"

static char base[PATH_MAX], root[PATH_MAX];

static const char INDEX[] = "<!doctype html><title>t</title>INDEX\n";
static const char APP_JS[] = "console.log('app');\n";
static const char STYLE[] = "body { color: red }\n";
static const char PAGE[] = "{\"page\":1}\n";
static const char SECRET[] = "SECRET\n";
static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/* ---- the folder ------------------------------------------------------------------------ */

/* out[PATH_MAX] = a + "/" + b (b may be ""). */
static void join(char *out, const char *a, const char *b)
{
    assert_true(snprintf(out, PATH_MAX, "%s/%s", a, b) < PATH_MAX);
}

static void put(const char *rel, const void *data, size_t len)
{
    char p[PATH_MAX];
    join(p, base, rel);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
}

static void put_str(const char *rel, const char *s)
{
    put(rel, s, strlen(s));
}

static void dir(const char *rel)
{
    char p[PATH_MAX];
    join(p, base, rel);
    assert_int_equal(mkdir(p, 0755), 0);
}

static void link_to(const char *target, const char *rel)
{
    char p[PATH_MAX];
    join(p, base, rel);
    assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state)
{
    strcpy(base, "/tmp/spoor-static-XXXXXX");
    assert_non_null(mkdtemp(base));
    put_str("secret", SECRET);
    dir("ui-evil");
    put_str("ui-evil/file.txt", SECRET);
    dir("empty");
    dir("ui");
    put_str("ui/index.html", INDEX);
    put_str("ui/app.js", APP_JS);
    put_str("ui/style.css", STYLE);
    put_str("ui/Upper.MJS", APP_JS);
    put("ui/logo.png", PNG, sizeof PNG - 1);
    put_str("ui/data.xyz", "xyz");
    put_str("ui/with space.txt", "spaced out\n");
    dir("ui/sub");
    dir("ui/sub/dir");
    put_str("ui/sub/dir/page.json", PAGE);
    put_str("ui/.hidden", SECRET);
    dir("ui/.git");
    put_str("ui/.git/HEAD", SECRET);
    char p[PATH_MAX];
    join(p, base, "ui/pipe.txt");
    assert_int_equal(mkfifo(p, 0644), 0);
    link_to("style.css", "ui/in.css");
    join(p, base, "secret");
    link_to(p, "ui/out.js"); /* absolute */
    link_to("..", "ui/outdir");
    link_to("../ui-evil/file.txt", "ui/evil.txt");

    join(p, base, "ui");
    assert_non_null(realpath(p, root));
    return 0;
}

static int rm(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int teardown(void **state)
{
    assert_int_equal(nftw(base, rm, 16, FTW_DEPTH | FTW_PHYS), 0);
    return 0;
}

/* ---- checks ------------------------------------------------------------------------------ */

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static struct http_reply serve_in(const char *dir_path, const char *path, bool head)
{
    struct http_reply r;
    memset(&r, 0, sizeof r);
    r.fd = -1;
    static_serve(dir_path, path, head, &r);
    return r;
}

/* A 200 with type, exactly want[0..len) from the descriptor, and cache; closes the fd. */
static void expect_file_n(const char *path, bool head, const char *type, const void *want,
                          size_t len, const char *cache)
{
    struct http_reply r = serve_in(root, path, head);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, type);
    assert_null(r.body);
    assert_true(r.fd >= 0);
    assert_int_equal(r.fd_size, len);
    char got[256];
    assert_true(len < sizeof got);
    assert_int_equal(pread(r.fd, got, sizeof got, 0), (ssize_t)len);
    assert_memory_equal(got, want, len);
    assert_string_equal(r.cache_control, cache);
    assert_true(r.etag[0] == '"' && r.etag[strlen(r.etag) - 1] == '"');
    assert_int_equal(fcntl(r.fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    assert_int_equal(close(r.fd), 0);
}

static void expect_file(const char *path, const char *type, const char *want)
{
    expect_file_n(path, false, type, want, strlen(want), "no-cache");
}

static void expect_index(const char *path)
{
    expect_file_n(path, false, "text/html; charset=utf-8", INDEX, strlen(INDEX), "no-cache");
}

/* A 404 from dir_path with {"detail": detail}, no descriptor handed over or left open. */
static void expect_404_in(const char *dir_path, const char *path, const char *detail)
{
    int before = open_fds();
    struct http_reply r = serve_in(dir_path, path, false);
    assert_int_equal(open_fds(), before);
    assert_int_equal(r.status, 404);
    assert_int_equal(r.fd, -1);
    assert_string_equal(r.content_type, "application/json");
    assert_non_null(r.body);
    assert_int_equal(r.body_len, strlen(r.body));
    json_error_t e;
    json_t *j = json_loads(r.body, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_object_size(j), 1);
    assert_string_equal(json_string_value(json_object_get(j, "detail")), detail);
    json_decref(j);
    free(r.body);
}

static void expect_404(const char *path)
{
    char detail[PATH_MAX + 64];
    snprintf(detail, sizeof detail, "no file %s in the UI folder", path);
    expect_404_in(root, path, detail);
}

/* ---- static_serve ---------------------------------------------------------------------- */

static void test_files(void **state)
{
    expect_file("/app.js", "text/javascript; charset=utf-8", APP_JS);
    expect_file("/style.css", "text/css; charset=utf-8", STYLE);
    expect_file("/Upper.MJS", "text/javascript; charset=utf-8", APP_JS);
    expect_file("/sub/dir/page.json", "application/json", PAGE);
    expect_file("/sub//dir/page.json", "application/json", PAGE);
    expect_file("/with space.txt", "text/plain; charset=utf-8", "spaced out\n");
    expect_file("/data.xyz", "application/octet-stream", "xyz");
    expect_file("/in.css", "text/css; charset=utf-8", STYLE); /* a symlink inside the root */
    expect_file_n("/logo.png", false, "image/png", PNG, sizeof PNG - 1, "no-cache");
    /* HEAD: the same descriptor and size; the HTTP layer leaves the body out. */
    expect_file_n("/app.js", true, "text/javascript; charset=utf-8", APP_JS, strlen(APP_JS),
                  "no-cache");
}

static void test_spa_fallback(void **state)
{
    expect_index("/");
    expect_index("/index.html");
    expect_index("/sub");
    expect_index("/sub/dir/");
    expect_index("/projects/demo/app-1");
    expect_index("/app.js/more"); /* through a file: no such path, no extension */
    expect_file_n("/", true, "text/html; charset=utf-8", INDEX, strlen(INDEX), "no-cache");
}

static void test_missing_asset(void **state)
{
    expect_404("/static/app.js");
    expect_404("/missing.css");
    expect_404("/sub/dir/nope.json");
    expect_404("/pipe.txt"); /* a FIFO: refused without blocking */
    /* A path that is not UTF-8 cannot be named in the JSON detail. */
    expect_404_in(root, "/\xff\xfe.js", "no such file in the UI folder");
    /* A root without index.html has nothing to fall back to. */
    char empty[PATH_MAX];
    join(empty, base, "empty");
    expect_404_in(empty, "/", "no file /index.html in the UI folder");
    expect_404_in(empty, "/some/route", "no file /index.html in the UI folder");
}

static void test_traversal(void **state)
{
    expect_404("/../secret");
    expect_404("/sub/../../secret");
    expect_404("/sub/dir/../../../secret");
    expect_404("/../");
    expect_404("/..");
    expect_404("/../ui/app.js");
    expect_404("/a\\..\\b");
    expect_404("/sub\\..\\..\\secret");
    expect_404("");
    expect_404("secret");
    /* Symlinks that lead out, to a file, a folder, and a sibling named like the root. */
    expect_404("/out.js");
    expect_404("/outdir");
    expect_404("/outdir/secret");
    expect_404("/evil.txt");
}

static void test_dotfiles(void **state)
{
    expect_404("/.hidden");
    expect_404("/.git/HEAD");
    expect_404("/.git");
    expect_404("/./app.js");
    expect_404("/sub/./dir/page.json");
}

static void test_etag(void **state)
{
    char p[PATH_MAX];
    join(p, root, "app.js");
    struct timespec times[2] = {{1, 7}, {1, 7}}; /* mtime 1.000000007 s = 0x3b9aca07 ns */
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    struct http_reply r = serve_in(root, "/app.js", false);
    assert_string_equal(r.etag, "\"14-3b9aca07\""); /* 20 bytes */
    close(r.fd);

    times[0].tv_nsec = times[1].tv_nsec = 8;
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    r = serve_in(root, "/app.js", false);
    assert_string_equal(r.etag, "\"14-3b9aca08\"");
    close(r.fd);
}

/* ---- static_ui_dir ----------------------------------------------------------------------- */

static void expect_dir_error(const char *rel, const char *why)
{
    char p[PATH_MAX], out[PATH_MAX];
    struct spoor_error err;
    join(p, base, rel);
    assert_int_equal(static_ui_dir(p, out, sizeof out, &err), SPOOR_E_CONFIG);
    assert_int_equal(err.code, SPOOR_E_CONFIG);
    assert_non_null(strstr(err.message, p));
    assert_non_null(strstr(err.message, why));
    assert_non_null(strstr(err.message, "SPOOR_UI_DIR"));
    assert_non_null(strstr(err.message, "--ui-dir"));
}

static void test_ui_dir(void **state)
{
    expect_dir_error("nope", "No such file or directory");
    expect_dir_error("empty", "no index.html");
    expect_dir_error("secret", "not a directory");

    /* A good folder, named through "..", comes back as its realpath. */
    char p[PATH_MAX], out[PATH_MAX];
    struct spoor_error err;
    join(p, base, "empty/../ui/");
    assert_int_equal(static_ui_dir(p, out, sizeof out, &err), 0);
    assert_string_equal(out, root);

    char tiny[8];
    assert_int_equal(static_ui_dir(p, tiny, sizeof tiny, &err), -ENAMETOOLONG);

    /* Unconfigured from the build tree: no installed folder beside the test, so the source
     * tree's ui/, which holds index.html. */
    for (int i = 0; i < 2; i++) {
        assert_int_equal(static_ui_dir(i ? NULL : "", out, sizeof out, &err), 0);
        assert_string_equal(strrchr(out, '/'), "/ui");
        char index[PATH_MAX];
        struct stat st;
        join(index, out, "index.html");
        assert_int_equal(stat(index, &st), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_files),         cmocka_unit_test(test_spa_fallback),
        cmocka_unit_test(test_missing_asset), cmocka_unit_test(test_traversal),
        cmocka_unit_test(test_dotfiles),      cmocka_unit_test(test_etag),
        cmocka_unit_test(test_ui_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
