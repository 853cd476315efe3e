/*
 * test_filestore.c: the `file` endpoint (client/lib/filestore.h) as a user of the S3 API sees
 * it: every operation and the result fields the S3 engine fills, S3's errors, keys that break
 * naive stores (round-tripped by PUT, LIST and GET, with nothing created outside the root),
 * ListObjectsV2 order and pagination checked against a reference roll-up of qsort(strcmp)
 * order, multipart of a 20 MiB file, copies, writes that fail half-way, and the async
 * contract on a uv loop.
 *
 * Each test gets a fresh root under $TMPDIR (or /tmp): <tmp>/spoor-fs-XXXXXX/root, so that the
 * parent directory shows whether anything was written beside the root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "support/files.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <dirent.h>

#include <spoor/s3.h>

#include "filestore.h"

struct fx {
    char parent[PATH_MAX - 64];
    char root[PATH_MAX];
    char other[64]; /* a directory outside parent to remove at teardown, or "" */
    struct filestore *fs;
};

static struct fx g;

static struct spoor_error g_err;

static int exec(const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    return filestore_exec(g.fs, op, res, &g_err);
}

static void ok(const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    if (exec(op, res) != 0)
        fail_msg("%s", g_err.message);
}

static void run_ok(const struct spoor_s3_op *op)
{
    struct spoor_s3_result res;
    ok(op, &res);
    spoor_s3_result_cleanup(&res);
}

/* Runs op, expects the S3 error code with its status, and returns nothing else. */
static void expect_s3(const struct spoor_s3_op *op, const char *code, long status)
{
    struct spoor_s3_result res;
    int rc = exec(op, &res);
    if (rc != SPOOR_E_S3)
        fail_msg("expected %s, got %d: %s", code, rc, g_err.message);
    assert_string_equal(g_err.s3_code, code);
    assert_int_equal(g_err.http_status, status);
    assert_int_equal(g_err.code, SPOOR_E_S3);
    assert_int_equal(g_err.attempts, 1);
    assert_non_null(strstr(g_err.message, "endpoint disk"));
    assert_non_null(strstr(g_err.endpoint, "disk"));
    spoor_s3_result_cleanup(&res);
}

static void put(const char *bucket, const char *key, const void *data, size_t len)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = bucket,
                             .key = key,
                             .body = {.data = data, .len = len}};
    run_ok(&op);
}

static void put_str(const char *key, const char *body)
{
    put("b", key, body, strlen(body));
}

static void make_bucket(const char *name)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = name};
    run_ok(&op);
}

static int setup(void **state)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(g.parent, sizeof g.parent, "%s/spoor-fs-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    if (!mkdtemp(g.parent))
        return -1;
    snprintf(g.root, sizeof g.root, "%s/root", g.parent);
    struct spoor_error err;
    g.fs = filestore_new(NULL, g.root, "disk", &err);
    if (!g.fs) {
        fprintf(stderr, "%s\n", err.message);
        return -1;
    }
    make_bucket("b");
    return 0;
}

static int teardown(void **state)
{
    filestore_free(g.fs);
    g.fs = NULL;
    rm_tree(g.parent);
    if (g.other[0])
        rm_tree(g.other);
    g.other[0] = '\0';
    return 0;
}

static void md5_etag(const void *data, size_t len, char out[35])
{
    unsigned char md[16];
    EVP_Digest(data, len, md, NULL, EVP_md5(), NULL);
    out[0] = '"';
    for (int i = 0; i < 16; i++)
        snprintf(out + 1 + 2 * i, 3, "%02x", md[i]);
    out[33] = '"';
    out[34] = '\0';
}

/* Seconds between an HTTP date ("Sat, 21 Nov 2026 21:26:07 GMT") and now. */
static double http_date_age(const char *s)
{
    struct tm tm = {0};
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    assert_non_null(end);
    assert_int_equal(*end, '\0');
    return difftime(time(NULL), timegm(&tm));
}

/* ---- single objects -------------------------------------------------------------------- */

static void test_put_head_get_delete(void **state)
{
    const char *body = "0123456789abcdefghij";
    struct spoor_s3_meta meta[] = {{"Min_Sequence_ID", "3"}, {"tracker-id", "t-1"}};
    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT,
                            .bucket = "b",
                            .key = "obj/one.jsonl",
                            .body = {.data = body, .len = 20},
                            .content_type = "application/x-ndjson",
                            .meta = meta,
                            .nmeta = 2,
                            .content_md5 = true};
    struct spoor_s3_result res;
    char want[35];
    md5_etag(body, 20, want);
    ok(&p, &res);
    assert_int_equal(res.http_status, 200);
    assert_string_equal(res.etag, want);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op h = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "obj/one.jsonl"};
    ok(&h, &res);
    assert_int_equal(res.http_status, 200);
    assert_int_equal(res.object_size, 20);
    assert_int_equal(res.content_length, 20);
    assert_string_equal(res.etag, want);
    assert_string_equal(res.content_type, "application/x-ndjson");
    assert_true(http_date_age(res.last_modified) < 120);
    assert_int_equal(res.nmeta, 2);
    assert_string_equal(res.meta[0].name, "min_sequence_id"); /* names lower-case, as S3 */
    assert_string_equal(spoor_s3_result_meta(&res, "min_sequence_id"), "3");
    assert_string_equal(spoor_s3_result_meta(&res, "tracker_id"), "t-1");
    assert_null(res.body);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "obj/one.jsonl"};
    ok(&get, &res);
    assert_int_equal(res.http_status, 200);
    assert_int_equal(res.body_len, 20);
    assert_memory_equal(res.body, body, 20);
    assert_int_equal(res.body[20], '\0');
    assert_int_equal(res.content_length, 20);
    assert_string_equal(res.etag, want);
    assert_string_equal(spoor_s3_result_meta(&res, "tracker-id"), "t-1");
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECT, .bucket = "b", .key = "obj/one.jsonl"};
    ok(&del, &res);
    assert_int_equal(res.http_status, 204);
    spoor_s3_result_cleanup(&res);
    expect_s3(&h, "NoSuchKey", 404);
    expect_s3(&get, "NoSuchKey", 404);
    assert_non_null(strstr(g_err.message, "s3://b/obj/one.jsonl"));
    assert_non_null(strstr(g_err.message, g.root));
    ok(&del, &res); /* deleting what is not there succeeds, as on S3 */
    assert_int_equal(res.http_status, 204);
    spoor_s3_result_cleanup(&res);
}

static void test_get_range_and_if_match(void **state)
{
    put_str("obj/one.jsonl", "0123456789abcdefghij");
    char want[35];
    md5_etag("0123456789abcdefghij", 20, want);
    struct spoor_s3_result res;
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "obj/one.jsonl"};
    get.has_range = true;
    get.range_first = 2;
    get.range_last = 5;
    ok(&get, &res);
    assert_int_equal(res.http_status, 206);
    assert_int_equal(res.body_len, 4);
    assert_memory_equal(res.body, "2345", 4);
    assert_int_equal(res.content_length, 4);
    assert_int_equal(res.object_size, 20);
    spoor_s3_result_cleanup(&res);

    get.range_first = 15;
    get.range_last = -1;
    ok(&get, &res);
    assert_int_equal(res.body_len, 5);
    assert_memory_equal(res.body, "fghij", 5);
    spoor_s3_result_cleanup(&res);

    get.range_first = 10;
    get.range_last = 1000; /* clamped to the end, as S3 does */
    ok(&get, &res);
    assert_int_equal(res.body_len, 10);
    spoor_s3_result_cleanup(&res);

    get.range_first = 20;
    expect_s3(&get, "InvalidRange", 416);
    get.has_range = false;

    get.if_match = "\"0000\"";
    expect_s3(&get, "PreconditionFailed", 412);
    get.if_match = want;
    run_ok(&get);
    get.if_match = NULL;
}

static void test_defaults_and_empty_object(void **state)
{
    put_str("empty", "");
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "empty"};
    struct spoor_s3_result res;
    ok(&get, &res);
    assert_non_null(res.body);
    assert_int_equal(res.body_len, 0);
    assert_string_equal(res.content_type, "binary/octet-stream");
    assert_string_equal(res.etag, "\"d41d8cd98f00b204e9800998ecf8427e\"");
    assert_int_equal(res.nmeta, 0);
    spoor_s3_result_cleanup(&res);

    /* Overwrite replaces bytes, type and metadata together. */
    struct spoor_s3_meta meta[] = {{"k", "v"}};
    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT,
                            .bucket = "b",
                            .key = "empty",
                            .body = {.data = "x", .len = 1},
                            .content_type = "text/plain",
                            .meta = meta,
                            .nmeta = 1};
    run_ok(&p);
    ok(&get, &res);
    assert_string_equal(res.body, "x");
    assert_string_equal(res.content_type, "text/plain");
    assert_string_equal(spoor_s3_result_meta(&res, "k"), "v");
    spoor_s3_result_cleanup(&res);
}

struct collect {
    char data[4096];
    size_t len;
    int calls;
    int stop_after; /* 0: never stop */
    pthread_t thread;
};

static int collect_cb(const void *data, size_t len, void *ud)
{
    struct collect *c = ud;
    c->thread = pthread_self();
    c->calls++;
    if (c->stop_after && c->calls >= c->stop_after)
        return 1;
    size_t n = len < sizeof c->data - c->len ? len : sizeof c->data - c->len;
    memcpy(c->data + c->len, data, n);
    c->len += len;
    return 0;
}

static bool dir_has_temp(const char *dir)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    bool found = false;
    while ((de = readdir(d)) != NULL)
        found |= strstr(de->d_name, "spoor-tmp") != NULL;
    closedir(d);
    return found;
}

static void test_get_sinks(void **state)
{
    put_str("sinks/x", "the quick brown fox");
    struct spoor_s3_result res;
    struct spoor_s3_op get = {
        .kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "sinks/x", .sink = {.max_bytes = 10}};
    assert_int_equal(exec(&get, &res), SPOOR_E_TOO_LARGE);
    assert_null(res.body);
    assert_non_null(strstr(g_err.message, "limit"));
    spoor_s3_result_cleanup(&res);

    struct collect c = {0};
    get.sink = (struct spoor_s3_sink){.data_cb = collect_cb, .data_ud = &c};
    ok(&get, &res);
    assert_int_equal(c.len, 19);
    assert_memory_equal(c.data, "the quick brown fox", 19);
    assert_null(res.body);
    assert_int_equal(res.content_length, 19);
    spoor_s3_result_cleanup(&res);

    struct collect stop = {.stop_after = 1};
    get.sink = (struct spoor_s3_sink){.data_cb = collect_cb, .data_ud = &stop};
    assert_int_equal(exec(&get, &res), SPOOR_E_CALLBACK);
    spoor_s3_result_cleanup(&res);

    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/out.bin", g.parent);
    get.sink = (struct spoor_s3_sink){.path = path};
    get.has_range = true;
    get.range_first = 4;
    get.range_last = 8;
    ok(&get, &res);
    spoor_s3_result_cleanup(&res);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char got[64] = {0};
    assert_int_equal(fread(got, 1, sizeof got, f), 5);
    fclose(f);
    assert_string_equal(got, "quick");
    unlink(path);

    /* A failed GET into a file leaves no file and no temporary file behind. */
    get.key = "sinks/absent";
    expect_s3(&get, "NoSuchKey", 404);
    assert_int_not_equal(access(path, F_OK), 0);
    assert_false(dir_has_temp(g.parent));
}

/* ---- buckets ------------------------------------------------------------------------------- */

static void test_buckets(void **state)
{
    struct spoor_s3_result res;
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_BUCKET, .bucket = "b"};
    ok(&op, &res);
    assert_int_equal(res.http_status, 200);
    spoor_s3_result_cleanup(&res);
    op.bucket = "nope";
    expect_s3(&op, "NoSuchBucket", 404);
    assert_non_null(strstr(g_err.message, "nope"));

    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = "b"};
    expect_s3(&mk, "BucketAlreadyOwnedByYou", 409);

    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT, .bucket = "nope", .key = "k"};
    expect_s3(&p, "NoSuchBucket", 404);
    struct spoor_s3_op l = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "nope"};
    expect_s3(&l, "NoSuchBucket", 404);

    const char *bad[] = {".", "..", "#uploads", "a/b", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        mk.bucket = bad[i];
        assert_int_equal(exec(&mk, &res), SPOOR_E_INVALID);
        spoor_s3_result_cleanup(&res);
        p.bucket = bad[i];
        assert_int_equal(exec(&p, &res), SPOOR_E_INVALID);
        spoor_s3_result_cleanup(&res);
    }
    /* Nothing was made beside the root. */
    DIR *d = opendir(g.parent);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    closedir(d);
    assert_int_equal(n, 1);
}

static void test_new_errors(void **state)
{
    struct spoor_error err;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/a-file", g.parent);
    FILE *f = fopen(path, "w");
    fclose(f);
    assert_null(filestore_new(NULL, path, "x", &err));
    assert_non_null(strstr(err.message, path));
    snprintf(path, sizeof path, "%s/a-file/below", g.parent);
    assert_null(filestore_new(NULL, path, "x", &err));

    snprintf(path, sizeof path, "%s/deep/er/root", g.parent); /* parents are made */
    struct filestore *fs = filestore_new(NULL, path, "x", &err);
    assert_non_null(fs);
    assert_string_equal(filestore_root(fs), path);
    filestore_free(fs);
    filestore_free(NULL);
}

/* ---- keys are bytes ------------------------------------------------------------------------ */

struct strv {
    char **v;
    size_t n;
};

static void strv_add(struct strv *s, const char *str)
{
    s->v = realloc(s->v, (s->n + 1) * sizeof *s->v);
    s->v[s->n++] = strdup(str);
}

static void strv_free(struct strv *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b); /* unsigned bytes: S3's order */
}

/* Lists page by page; checks each page's shape and returns objects and prefixes merged in
 * byte order, as S3 orders them. */
static int list_pages(const char *bucket, const char *prefix, const char *delim,
                      const char *start_after, int max_keys, struct strv *out)
{
    char *token = NULL;
    int pages = 0;
    for (;;) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = bucket,
                                 .prefix = prefix,
                                 .delimiter = delim,
                                 .start_after = start_after,
                                 .max_keys = max_keys,
                                 .continuation_token = token};
        struct spoor_s3_result res;
        ok(&op, &res);
        pages++;
        struct spoor_s3_list *l = &res.list;
        assert_int_equal(res.http_status, 200);
        assert_int_equal(l->key_count, (int)(l->nobjects + l->nprefixes));
        assert_true(l->key_count <= (max_keys ? max_keys : 1000));
        assert_string_equal(l->name, bucket);
        size_t i = 0, j = 0, start = out->n;
        while (i < l->nobjects || j < l->nprefixes) {
            bool obj = j == l->nprefixes ||
                       (i < l->nobjects && strcmp(l->objects[i].key, l->common_prefixes[j]) < 0);
            strv_add(out, obj ? l->objects[i++].key : l->common_prefixes[j++]);
        }
        /* Entries only move forward, across pages too: a listing that repeats itself fails
         * here instead of running forever. */
        for (size_t k = start ? start : 1; k < out->n; k++)
            if (strcmp(out->v[k - 1], out->v[k]) >= 0)
                fail_msg("page %d: \"%s\" then \"%s\"", pages, out->v[k - 1], out->v[k]);
        free(token);
        token = NULL;
        if (l->is_truncated) {
            assert_non_null(l->next_continuation_token);
            assert_true(l->key_count == (max_keys ? max_keys : 1000));
            token = strdup(l->next_continuation_token);

        } else {
            assert_null(l->next_continuation_token);
        }
        spoor_s3_result_cleanup(&res);
        if (!token)
            return pages;
    }
}

/* What ListObjectsV2 must return for sorted unique keys: keys after start_after under
 * prefix, those holding the delimiter after the prefix rolled up into common prefixes. */
static void ref_list(char **keys, size_t n, const char *prefix, const char *delim,
                     const char *start_after, struct strv *out)
{
    size_t plen = strlen(prefix);
    char last_cp[2048] = "";
    for (size_t i = 0; i < n; i++) {
        const char *k = keys[i];
        if (strncmp(k, prefix, plen) != 0 || (start_after && strcmp(k, start_after) <= 0))
            continue;
        const char *hit = delim && delim[0] ? strstr(k + plen, delim) : NULL;
        if (!hit) {
            strv_add(out, k);
            continue;
        }
        size_t cplen = (size_t)(hit - k) + strlen(delim);
        if (strlen(last_cp) == cplen && strncmp(last_cp, k, cplen) == 0)
            continue;
        snprintf(last_cp, sizeof last_cp, "%.*s", (int)cplen, k);
        strv_add(out, last_cp);
    }
}

static void assert_strv_equal(const struct strv *got, const struct strv *want)
{
    for (size_t i = 0; i < got->n && i < want->n; i++)
        if (strcmp(got->v[i], want->v[i]) != 0)
            fail_msg("entry %zu: got \"%s\", want \"%s\"", i, got->v[i], want->v[i]);
    assert_int_equal(got->n, want->n);
}

static char g_walk_root[PATH_MAX];
static char g_walk_real[PATH_MAX];
static int g_walk_count;
static int g_walk_temp;

static int walk_check(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    size_t n = strlen(g_walk_root);
    if (strncmp(path, g_walk_root, n) != 0 || (path[n] != '/' && path[n] != '\0'))
        fail_msg("%s is outside the root", path);
    char real[PATH_MAX];
    assert_non_null(realpath(path, real));
    size_t m = strlen(g_walk_real);
    if (strncmp(real, g_walk_real, m) != 0)
        fail_msg("%s resolves outside the root", path);
    assert_false(S_ISLNK(st->st_mode));
    const char *base = path + ftw->base;
    g_walk_temp += strncmp(base, "#t", 2) == 0;
    g_walk_count++;
    return 0;
}

/* Everything under the root stays under it; the parent holds the root and nothing else. */
static int check_tree(void)
{
    snprintf(g_walk_root, sizeof g_walk_root, "%s", g.root);
    assert_non_null(realpath(g.root, g_walk_real));
    g_walk_count = g_walk_temp = 0;
    assert_int_equal(nftw(g.root, walk_check, 16, FTW_PHYS), 0);
    assert_int_equal(g_walk_temp, 0);
    DIR *d = opendir(g.parent);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            assert_string_equal(de->d_name, "root");
            n++;
        }
    closedir(d);
    assert_int_equal(n, 1);
    return g_walk_count;
}

static const char *const torture[] = {
    "a",
    "a/b",
    "a/",
    "a//b",
    "a-c",
    "a0",
    "ab",
    ".",
    "..",
    "./x",
    "../x",
    "../../../../escape",
    "x/./y/../z",
    "/etc/passwd",
    "/",
    "//",
    "%",
    "%2F",
    "%25",
    "#",
    "#uploads",
    "#uploads/x",
    "a#m",
    "a#d0123456789abcdef",
    "#t0123",
    "\x01"
    "ctl",
    "tab\there",
    "del\x7f",
    "space in name",
    "plus+sign",
    "q?x=1&y=2#f",
    "unicode/日本語/ключ",
    "emoji/😀🚀",
    "combining é vs é",
    "back\\slash",
    "trailing.",
    "prefix",
    "prefix-longer",
    "prefix/child",
    "~tilde",
    "..a/..b",
    "...",
    "a/./b/../c/.",
};

static void test_key_torture(void **state)
{
    size_t n = sizeof torture / sizeof torture[0];
    char longseg[256] = "long/";
    for (int i = 0; i < 100; i++) /* 200 bytes of UTF-8 in one segment */
        memcpy(longseg + 5 + 2 * i, "é", 3);
    struct strv keys = {0};
    for (size_t i = 0; i < n; i++)
        strv_add(&keys, torture[i]);
    strv_add(&keys, longseg);
    for (size_t i = 0; i < keys.n; i++)
        put_str(keys.v[i], keys.v[i]);
    qsort(keys.v, keys.n, sizeof *keys.v, cmp_str);

    struct strv got = {0};
    list_pages("b", NULL, NULL, NULL, 7, &got);
    assert_strv_equal(&got, &keys);
    strv_free(&got);

    for (size_t i = 0; i < keys.n; i++) {
        struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = keys.v[i]};
        struct spoor_s3_result res;
        ok(&get, &res);
        assert_int_equal(res.body_len, strlen(keys.v[i]));
        assert_memory_equal(res.body, keys.v[i], res.body_len);
        spoor_s3_result_cleanup(&res);
    }
    assert_true(check_tree() > (int)keys.n);

    /* DeleteObjects reports every key; the directories go with the objects. */
    struct spoor_s3_op del = {.kind = SPOOR_S3_DELETE_OBJECTS,
                              .bucket = "b",
                              .keys = (const char *const *)keys.v,
                              .nkeys = keys.n};
    struct spoor_s3_result res;
    ok(&del, &res);
    assert_int_equal(res.ndeleted, keys.n);
    assert_int_equal(res.ndelete_errors, 0);
    for (size_t i = 0; i < keys.n; i++)
        assert_string_equal(res.deleted[i], keys.v[i]);
    spoor_s3_result_cleanup(&res);
    list_pages("b", NULL, NULL, NULL, 0, &got);
    assert_int_equal(got.n, 0);
    assert_int_equal(check_tree(), 2); /* the root and the empty bucket directory */
    strv_free(&keys);
}

static void test_segment_limits(void **state)
{
    char key[600] = "ok/";
    memset(key + 3, 'x', 237); /* the longest segment: 237 bytes */
    put_str(key, "fits");
    key[3 + 237] = 'y';
    struct spoor_s3_result res;
    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT, .bucket = "b", .key = key};
    assert_int_equal(exec(&p, &res), SPOOR_E_INVALID);
    assert_non_null(strstr(g_err.message, "ENAMETOOLONG"));
    spoor_s3_result_cleanup(&res);
    /* 80 '%' are 240 bytes once escaped; as a directory segment too. */
    memset(key, '%', 80);
    memcpy(key + 80, "/x", 3);
    p.key = key;
    assert_int_equal(exec(&p, &res), SPOOR_E_INVALID);
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = key};
    assert_int_equal(exec(&get, &res), SPOOR_E_INVALID);
    spoor_s3_result_cleanup(&res);
    /* A list prefix no object can have is an empty listing, not an error. */
    struct strv got = {0};
    list_pages("b", key, "/", NULL, 0, &got);
    assert_int_equal(got.n, 0);
    /* Such a key cannot exist, so DeleteObjects reports it deleted. */
    const char *keys[] = {key};
    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECTS, .bucket = "b", .keys = keys, .nkeys = 1};
    ok(&del, &res);
    assert_int_equal(res.ndeleted, 1);
    spoor_s3_result_cleanup(&res);
}

/* ---- listings ------------------------------------------------------------------------------ */

static uint32_t rng_state = 2463534242u;

static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}

/* ~500 distinct keys from pieces whose byte order differs from naive orders: '/' against
 * '-', '.', ' ', '#', '%', '~', '\x01', upper case, UTF-8, prefixes of one another. */
static void random_keys(struct strv *keys, size_t want)
{
    static const char *const pieces[] = {"a", "b", "A", "0", "9",    "-", ".",  "/", " ",  "#",
                                         "%", "~", "_", "é", "\x01", "+", "ab", "/", "a/", "z"};
    size_t npieces = sizeof pieces / sizeof pieces[0];
    while (keys->n < want) {
        char key[64] = "";
        size_t used = 0;
        int len = 1 + (int)(rng() % 8);
        for (int i = 0; i < len; i++)
            used += (size_t)snprintf(key + used, sizeof key - used, "%s", pieces[rng() % npieces]);
        bool dup = false;
        for (size_t i = 0; i < keys->n && !dup; i++)
            dup = strcmp(keys->v[i], key) == 0;
        if (!dup)
            strv_add(keys, key);
    }
    qsort(keys->v, keys->n, sizeof *keys->v, cmp_str);
}

static void check_listing(struct strv *keys, const char *prefix, const char *delim,
                          const char *start_after, int max_keys)
{
    struct strv want = {0}, got = {0};
    ref_list(keys->v, keys->n, prefix ? prefix : "", delim, start_after, &want);
    int pages = list_pages("b", prefix, delim, start_after, max_keys, &got);
    assert_strv_equal(&got, &want);
    int per = max_keys ? max_keys : 1000;
    assert_int_equal(pages, want.n ? (int)(want.n + (size_t)per - 1) / per : 1);
    strv_free(&want);
    strv_free(&got);
}

static void test_list_order_500(void **state)
{
    struct strv keys = {0};
    random_keys(&keys, 500);
    for (size_t i = 0; i < keys.n; i++)
        put_str(keys.v[i], "v");

    check_listing(&keys, NULL, NULL, NULL, 7);
    check_listing(&keys, NULL, NULL, NULL, 0);
    check_listing(&keys, NULL, NULL, keys.v[250], 7);
    check_listing(&keys, NULL, NULL, "a/", 7); /* start-after that is not a key */
    check_listing(&keys, "a", NULL, NULL, 7);
    check_listing(&keys, "a/", NULL, "a/b", 5);
    /* Delimiters: '/', others, several bytes; pagination across common prefixes. */
    const char *delims[] = {"/", "-", "a/", "é", "/a", "#"};
    const char *prefixes[] = {NULL, "a", "a/", "b/", "%", "é"};
    for (size_t d = 0; d < sizeof delims / sizeof delims[0]; d++)
        for (size_t p = 0; p < sizeof prefixes / sizeof prefixes[0]; p++) {
            check_listing(&keys, prefixes[p], delims[d], NULL, 3);
            check_listing(&keys, prefixes[p], delims[d], NULL, 1000);
        }
    /* start-after inside a common prefix: the prefix comes back if a key after it is in it. */
    for (size_t i = 0; i < keys.n; i += 37) {
        check_listing(&keys, NULL, "/", keys.v[i], 4);
        check_listing(&keys, "a", "/", keys.v[i], 2);
    }
    strv_free(&keys);
}

static void test_list_delimiter(void **state)
{
    const char *keys[] = {"d/2026/01/a", "d/2026/02/b", "d/2027/x", "d/top", "d/top2"};
    for (size_t i = 0; i < 5; i++)
        put_str(keys[i], "x");
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = "b", .prefix = "d/", .delimiter = "/"};
    struct spoor_s3_result res;
    ok(&op, &res);
    struct spoor_s3_list *l = &res.list;
    assert_int_equal(l->nprefixes, 2);
    assert_string_equal(l->common_prefixes[0], "d/2026/");
    assert_string_equal(l->common_prefixes[1], "d/2027/");
    assert_int_equal(l->nobjects, 2);
    assert_string_equal(l->objects[0].key, "d/top");
    assert_string_equal(l->objects[1].key, "d/top2");
    assert_int_equal(l->objects[0].size, 1);
    assert_string_equal(l->objects[0].etag, "\"9dd4e461268c8034f5c8564e155c67a6\"");
    assert_string_equal(l->objects[0].storage_class, "STANDARD");
    const char *lm = l->objects[0].last_modified; /* 2026-11-21T21:26:07.611Z */
    assert_int_equal(strlen(lm), 24);
    assert_true(lm[4] == '-' && lm[10] == 'T' && lm[19] == '.' && lm[23] == 'Z');
    assert_false(l->is_truncated);
    assert_int_equal(l->key_count, 4);
    assert_int_equal(l->max_keys, 1000);
    assert_string_equal(l->prefix, "d/");
    assert_string_equal(l->delimiter, "/");
    assert_null(l->start_after);
    spoor_s3_result_cleanup(&res);

    /* One entry per page; resuming after a common prefix skips every key under it. */
    op.max_keys = 1;
    const char *want[] = {"d/2026/", "d/2027/", "d/top", "d/top2"};
    for (int i = 0; i < 4; i++) {
        ok(&op, &res);
        assert_int_equal(res.list.key_count, 1);
        const char *e = res.list.nprefixes ? res.list.common_prefixes[0] : res.list.objects[0].key;
        assert_string_equal(e, want[i]);
        assert_int_equal(res.list.is_truncated, i < 3);
        free((char *)op.continuation_token);
        op.continuation_token = res.list.next_continuation_token;
        res.list.next_continuation_token = NULL;
        spoor_s3_result_cleanup(&res);
    }
}

static void test_list_tokens(void **state)
{
    const char *keys[] = {"d/2026/01/a", "d/2026/02/b", "d/2027/x", "d/top", "d/top2"};
    for (size_t i = 0; i < 5; i++)
        put_str(keys[i], "x");
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = "b", .prefix = "d/", .delimiter = "/"};
    struct spoor_s3_result res;
    /* The token wins over start-after; a token not made here is InvalidArgument. */
    op.max_keys = 2;
    ok(&op, &res);
    assert_string_equal(res.list.common_prefixes[1], "d/2027/");
    op.continuation_token = res.list.next_continuation_token;
    res.list.next_continuation_token = NULL;
    spoor_s3_result_cleanup(&res);
    op.start_after = "d/2026/01/a";
    ok(&op, &res);
    assert_int_equal(res.list.key_count, 2);
    assert_string_equal(res.list.objects[0].key, "d/top");
    assert_false(res.list.is_truncated);
    assert_string_equal(res.list.start_after, "d/2026/01/a");
    assert_string_equal(res.list.continuation_token, op.continuation_token);
    spoor_s3_result_cleanup(&res);
    free((char *)op.continuation_token);
    op.continuation_token = "not a token!";
    expect_s3(&op, "InvalidArgument", 400);
    op.continuation_token = NULL;
    op.max_keys = 5000; /* at most 1000, as S3 */
    ok(&op, &res);
    assert_int_equal(res.list.max_keys, 1000);
    spoor_s3_result_cleanup(&res);
}

static void test_list_ignores_foreign_files(void **state)
{
    put_str("k/v", "x");
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/b/README", g.root);
    FILE *f = fopen(path, "w");
    fclose(f);
    snprintf(path, sizeof path, "%s/b/k%%41", g.root); /* not a canonical escape */
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/b/k%%41/obj#m", g.root);
    f = fopen(path, "w");
    fputs("{}", f);
    fclose(f);
    /* An empty directory (left by a crash, or being pruned) holds no keys. */
    snprintf(path, sizeof path, "%s/b/empty", g.root);
    mkdir(path, 0777);
    snprintf(path, sizeof path, "%s/b/empty/deeper", g.root);
    mkdir(path, 0777);
    struct strv got = {0};
    list_pages("b", NULL, NULL, NULL, 0, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0], "k/v");
    strv_free(&got);
    list_pages("b", NULL, "/", NULL, 0, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0], "k/");
    strv_free(&got);
}

/* ---- multipart ----------------------------------------------------------------------------- */

/* MD5 of a file range, raw. */
static void md5_range(const char *path, int64_t off, int64_t len, unsigned char md[16])
{
    FILE *f = fopen(path, "rb");
    fseek(f, (long)off, SEEK_SET);
    char *buf = malloc((size_t)len);
    assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    EVP_Digest(buf, (size_t)len, md, NULL, EVP_md5(), NULL);
    free(buf);
}

static char *create_upload(const char *key, const struct spoor_s3_meta *meta, size_t nmeta)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_MULTIPART,
                             .bucket = "b",
                             .key = key,
                             .content_type = meta ? "application/octet-stream" : NULL,
                             .meta = meta,
                             .nmeta = nmeta};
    struct spoor_s3_result res;
    ok(&op, &res);
    assert_int_equal(res.http_status, 200);
    assert_non_null(res.upload_id);
    char *id = res.upload_id;
    res.upload_id = NULL;
    spoor_s3_result_cleanup(&res);
    return id;
}

static char *upload_part(const char *key, const char *id, int n, const struct spoor_s3_body *b)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_UPLOAD_PART,
                             .bucket = "b",
                             .key = key,
                             .upload_id = id,
                             .part_number = n,
                             .body = *b};
    struct spoor_s3_result res;
    ok(&op, &res);
    assert_int_equal(res.http_status, 200);
    char *etag = res.etag;
    res.etag = NULL;
    spoor_s3_result_cleanup(&res);
    return etag;
}

/* Uploads path in 5 parts of 5 MiB (the last is the rest) from file ranges, checking each
 * part's ETag is the quoted MD5 of its range. */
static void upload_file_parts(const char *path, int64_t size, const char *id,
                              struct spoor_s3_part parts[5], char *etags[5],
                              unsigned char mds[5][16])
{
    const int64_t psize = 5 * 1024 * 1024;
    for (int i = 0; i < 5; i++) {
        int64_t off = i * psize, len = size - off < psize ? size - off : psize;
        struct spoor_s3_body b = {.path = path, .offset = off, .length = i == 4 ? -1 : len};
        etags[i] = upload_part("mp/big.bin", id, i + 1, &b);
        md5_range(path, off, len, mds[i]);
        char want[35], hex[33];
        for (int k = 0; k < 16; k++)
            snprintf(hex + 2 * k, 3, "%02x", mds[i][k]);
        snprintf(want, sizeof want, "\"%s\"", hex);
        assert_string_equal(etags[i], want);
        parts[i] = (struct spoor_s3_part){i + 1, etags[i]};
    }
}

static void test_multipart_20mib(void **state)
{
    char src[PATH_MAX + 32], dst[PATH_MAX + 32];
    snprintf(src, sizeof src, "%s/src.bin", g.parent);
    snprintf(dst, sizeof dst, "%s/dst.bin", g.parent);
    const int64_t size = 20 * 1024 * 1024 + 12345;
    write_random_file(src, (size_t)size, 42);

    struct spoor_s3_meta meta[] = {{"Origin", "test"}};
    char *id = create_upload("mp/big.bin", meta, 1);
    struct spoor_s3_part parts[5];
    char *etags[5];
    unsigned char mds[5][16];
    upload_file_parts(src, size, id, parts, etags, mds);
    struct spoor_s3_op done = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                               .bucket = "b",
                               .key = "mp/big.bin",
                               .upload_id = id,
                               .parts = parts,
                               .nparts = 5};
    struct spoor_s3_result res;
    ok(&done, &res);
    /* "<md5 of the parts' md5s>-5", quoted as S3 quotes it. */
    unsigned char all[16];
    EVP_Digest(mds, sizeof mds, all, NULL, EVP_md5(), NULL);
    char want[48] = "\"";
    for (int k = 0; k < 16; k++)
        snprintf(want + 1 + 2 * k, 3, "%02x", all[k]);
    snprintf(want + 33, sizeof want - 33, "-5\"");
    assert_string_equal(res.etag, want);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op head = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "mp/big.bin"};
    ok(&head, &res);
    assert_int_equal(res.object_size, size);
    assert_string_equal(res.etag, want);
    assert_string_equal(res.content_type, "application/octet-stream");
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "test");
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op get = {
        .kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "mp/big.bin", .sink = {.path = dst}};
    run_ok(&get);
    assert_true(files_equal(src, dst));

    /* The upload is gone: completing it again is NoSuchUpload; nothing is left of it. */
    expect_s3(&done, "NoSuchUpload", 404);
    char dir[PATH_MAX + 64];
    snprintf(dir, sizeof dir, "%s/b/#uploads", g.root);
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        assert_true(de->d_name[0] == '.');
    closedir(d);
    /* The upload directory is not a key. */
    struct strv got = {0};
    list_pages("b", NULL, NULL, NULL, 0, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0], "mp/big.bin");
    strv_free(&got);
    for (int i = 0; i < 5; i++)
        free(etags[i]);
    free(id);
    unlink(src);
    unlink(dst);
}

static void test_multipart_errors(void **state)
{
    size_t psize = 5 * 1024 * 1024;
    char *big = malloc(psize);
    memset(big, 'p', psize);
    struct spoor_s3_body small = {.data = "tail", .len = 4}, full = {.data = big, .len = psize};
    char *id = create_upload("mp/e", NULL, 0);
    char *e1 = upload_part("mp/e", id, 1, &small);
    char *e2 = upload_part("mp/e", id, 2, &small);
    struct spoor_s3_part parts[2] = {{2, e2}, {1, e1}};
    struct spoor_s3_op done = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                               .bucket = "b",
                               .key = "mp/e",
                               .upload_id = id,
                               .parts = parts,
                               .nparts = 2};
    expect_s3(&done, "InvalidPartOrder", 400);
    parts[0] = (struct spoor_s3_part){1, e1};
    parts[1] = (struct spoor_s3_part){2, "\"00000000000000000000000000000000\""};
    expect_s3(&done, "InvalidPart", 400);
    parts[1] = (struct spoor_s3_part){3, e2};
    expect_s3(&done, "InvalidPart", 400);
    parts[1] = (struct spoor_s3_part){2, e2};
    expect_s3(&done, "EntityTooSmall", 400); /* part 1 is not the last and under 5 MiB */
    free(e1);
    e1 = upload_part("mp/e", id, 1, &full); /* re-uploaded: replaces part 1 */
    parts[0].etag = e1;
    done.key = "mp/other"; /* an upload belongs to its key */
    expect_s3(&done, "NoSuchUpload", 404);
    done.key = "mp/e";
    struct spoor_s3_result res;
    ok(&done, &res);
    assert_non_null(strstr(res.etag, "-2\""));
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op head = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "mp/e"};
    ok(&head, &res);
    assert_int_equal(res.object_size, (int64_t)psize + 4);
    assert_string_equal(res.content_type, "binary/octet-stream");
    spoor_s3_result_cleanup(&res);

    /* Ids that are not ours never become paths. */
    const char *bogus[] = {"../../../etc", "0123", "#uploads", "ffffffffffffffffffffffffffffffff"};
    for (size_t i = 0; i < 4; i++) {
        struct spoor_s3_op up = {.kind = SPOOR_S3_UPLOAD_PART,
                                 .bucket = "b",
                                 .key = "mp/e",
                                 .upload_id = bogus[i],
                                 .part_number = 1,
                                 .body = small};
        expect_s3(&up, "NoSuchUpload", 404);
    }

    /* A single small part is a valid upload. */
    char *id3 = create_upload("mp/one", NULL, 0);
    char *e4 = upload_part("mp/one", id3, 7, &small);
    struct spoor_s3_part one = {7, e4};
    struct spoor_s3_op d3 = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                             .bucket = "b",
                             .key = "mp/one",
                             .upload_id = id3,
                             .parts = &one,
                             .nparts = 1};
    run_ok(&d3);
    check_tree();
    free(e1), free(e2), free(e4), free(id), free(id3), free(big);
}

static void test_multipart_abort(void **state)
{
    struct spoor_s3_body small = {.data = "tail", .len = 4};
    struct spoor_s3_result res;
    /* Abort: 204, then the upload is gone for parts, completes and aborts. */
    char *id2 = create_upload("mp/aborted", NULL, 0);
    char *e3 = upload_part("mp/aborted", id2, 1, &small);
    struct spoor_s3_op ab = {
        .kind = SPOOR_S3_ABORT_MULTIPART, .bucket = "b", .key = "mp/aborted", .upload_id = id2};
    ok(&ab, &res);
    assert_int_equal(res.http_status, 204);
    spoor_s3_result_cleanup(&res);
    expect_s3(&ab, "NoSuchUpload", 404);
    struct spoor_s3_op late = {.kind = SPOOR_S3_UPLOAD_PART,
                               .bucket = "b",
                               .key = "mp/aborted",
                               .upload_id = id2,
                               .part_number = 1,
                               .body = small};
    expect_s3(&late, "NoSuchUpload", 404);
    struct spoor_s3_op h2 = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "mp/aborted"};
    expect_s3(&h2, "NoSuchKey", 404);
    check_tree();
    free(e3), free(id2);
}

/* ---- copy ---------------------------------------------------------------------------------- */

static char *get_body(const char *bucket, const char *key)
{
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = bucket, .key = key};
    struct spoor_s3_result res;
    ok(&get, &res);
    char *b = res.body;
    res.body = NULL;
    spoor_s3_result_cleanup(&res);
    return b;
}

static void test_copy(void **state)
{
    struct spoor_s3_meta meta[] = {{"origin", "test"}};
    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT,
                            .bucket = "b",
                            .key = "src",
                            .body = {.data = "source bytes", .len = 12},
                            .content_type = "text/csv",
                            .meta = meta,
                            .nmeta = 1};
    run_ok(&p);
    char want[35];
    md5_etag("source bytes", 12, want);

    struct spoor_s3_op cp = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = "b",
                             .key = "dir/copy of+",
                             .src_bucket = "b",
                             .src_key = "src"};
    struct spoor_s3_result res;
    ok(&cp, &res);
    assert_int_equal(res.http_status, 200);
    assert_string_equal(res.etag, want);
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op head = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "dir/copy of+"};
    ok(&head, &res);
    assert_string_equal(res.content_type, "text/csv");
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "test");
    assert_int_equal(res.object_size, 12);
    spoor_s3_result_cleanup(&res);

    /* Across buckets, with REPLACE. */
    make_bucket("b2");
    struct spoor_s3_meta meta2[] = {{"origin", "replaced"}};
    cp.bucket = "b2";
    cp.key = "x";
    cp.replace_meta = true;
    cp.meta = meta2;
    cp.nmeta = 1;
    cp.content_type = "text/plain";
    run_ok(&cp);
    head.bucket = "b2";
    head.key = "x";
    ok(&head, &res);
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "replaced");
    assert_string_equal(res.content_type, "text/plain");
    spoor_s3_result_cleanup(&res);

    /* Copies do not follow later changes to the source. */
    put_str("src", "changed");
    char *b = get_body("b", "dir/copy of+");
    assert_string_equal(b, "source bytes");
    free(b);
    struct spoor_s3_op del = {.kind = SPOOR_S3_DELETE_OBJECT, .bucket = "b", .key = "src"};
    run_ok(&del);
    b = get_body("b2", "x");
    assert_string_equal(b, "source bytes");
    free(b);

    check_tree();
}

/* ---- writes that fail ---------------------------------------------------------------------- */

static int g_orphans;

/* Every data file is the one its object's metadata names. */
static int data_check(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    const char *hash = strstr(path + ftw->base, "#d");
    if (flag != FTW_F || !hash)
        return 0;
    char meta[PATH_MAX + 8], text[4096] = "", want[64];
    snprintf(meta, sizeof meta, "%.*s#m", (int)(hash - path), path);
    snprintf(want, sizeof want, "\"data\":\"%s\"", hash + 2);
    FILE *f = fopen(meta, "r");
    if (f) {
        size_t n = fread(text, 1, sizeof text - 1, f);
        text[n] = '\0';
        fclose(f);
    }
    g_orphans += strstr(text, want) == NULL;
    return 0;
}

static int orphans(void)
{
    g_orphans = 0;
    nftw(g.root, data_check, 16, FTW_PHYS);
    return g_orphans;
}

static void test_copy_self_and_errors(void **state)
{
    put_str("x", "source bytes");
    char *b;
    struct spoor_s3_op cp = {
        .kind = SPOOR_S3_COPY_OBJECT, .bucket = "b", .key = "y", .src_bucket = "b", .src_key = "x"};
    /* Onto itself: refused without REPLACE (as S3), allowed with it. */
    struct spoor_s3_op self = {
        .kind = SPOOR_S3_COPY_OBJECT, .bucket = "b", .key = "x", .src_bucket = "b", .src_key = "x"};
    expect_s3(&self, "InvalidRequest", 400);
    self.replace_meta = true;
    run_ok(&self);
    b = get_body("b", "x");
    assert_string_equal(b, "source bytes");
    free(b);

    cp.src_key = "missing";
    expect_s3(&cp, "NoSuchKey", 404);
    cp.src_bucket = "gone";
    expect_s3(&cp, "NoSuchBucket", 404);
    check_tree();
}

/* A bucket that is a symbolic link to another file system (tmpfs): no hard link is possible
 * there, so the copy is streamed. Skipped where /dev/shm is missing or on the same device. */
static void test_copy_across_filesystems(void **state)
{
    char *other = g.other, link[PATH_MAX + 16];
    snprintf(other, sizeof g.other, "/dev/shm/spoor-fs-XXXXXX");
    struct stat a, b;
    if (!mkdtemp(other)) {
        other[0] = '\0';
        skip();
    }
    if (stat(other, &a) != 0 || stat(g.root, &b) != 0 || a.st_dev == b.st_dev)
        skip();
    snprintf(link, sizeof link, "%s/shm", g.root);
    assert_int_equal(symlink(other, link), 0);
    size_t n = 3 * 1024 * 1024 + 1;
    char *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i % 251);
    put("b", "big/src", data, n);
    struct spoor_s3_op cp = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = "shm",
                             .key = "dst/copy",
                             .src_bucket = "b",
                             .src_key = "big/src"};
    run_ok(&cp);
    cp = (struct spoor_s3_op){.kind = SPOOR_S3_COPY_OBJECT,
                              .bucket = "b",
                              .key = "back",
                              .src_bucket = "shm",
                              .src_key = "dst/copy"};
    run_ok(&cp);
    char *got = get_body("b", "back");
    assert_memory_equal(got, data, n);
    free(got);
    got = get_body("shm", "dst/copy");
    assert_memory_equal(got, data, n);
    free(got);
    free(data);
}

static void test_failed_write_keeps_old(void **state)
{
    put_str("keep/me", "old contents");
    size_t big = 1024 * 1024;
    char *data = calloc(1, big);
    struct spoor_s3_result res;
    struct spoor_s3_op p = {.kind = SPOOR_S3_PUT_OBJECT,
                            .bucket = "b",
                            .key = "keep/me",
                            .body = {.data = data, .len = big}};
    /* A file size limit makes the data write fail half-way (EFBIG). */
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = (struct rlimit){64 * 1024, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = exec(&p, &res);
    spoor_s3_result_cleanup(&res);
    p.key = "new/deep/key";
    int rc2 = exec(&p, &res);
    spoor_s3_result_cleanup(&res);
    setrlimit(RLIMIT_FSIZE, &old);
    assert_int_equal(rc, -EFBIG);
    assert_int_equal(rc2, -EFBIG);
    assert_non_null(strstr(g_err.message, g.root));
    char *b = get_body("b", "keep/me");
    assert_string_equal(b, "old contents");
    free(b);
    struct spoor_s3_op h = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "new/deep/key"};
    expect_s3(&h, "NoSuchKey", 404);
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/b/new", g.root); /* directories made for it are gone */
    assert_int_not_equal(access(dir, F_OK), 0);

    /* A body range outside its file is refused before anything is written. */
    char src[PATH_MAX + 16];
    snprintf(src, sizeof src, "%s/small", g.parent);
    write_random_file(src, 100, 7);
    p.key = "keep/me";
    p.body = (struct spoor_s3_body){.path = src, .offset = 50, .length = 51};
    assert_int_equal(exec(&p, &res), SPOOR_E_INVALID);
    spoor_s3_result_cleanup(&res);
    p.body.path = "/nonexistent/file";
    assert_int_equal(exec(&p, &res), -ENOENT);
    spoor_s3_result_cleanup(&res);
    unlink(src);
    b = get_body("b", "keep/me");
    assert_string_equal(b, "old contents");
    free(b);

    /* Overwrites leave one data file per object. */
    for (int i = 0; i < 5; i++)
        put_str("keep/me", "again");
    assert_int_equal(orphans(), 0);
    check_tree();
    free(data);
}

static void test_failed_complete_keeps_upload(void **state)
{
    size_t psize = 5 * 1024 * 1024;
    char *big = calloc(1, psize);
    struct spoor_s3_body full = {.data = big, .len = psize};
    char *id = create_upload("mp/limit", NULL, 0);
    struct spoor_s3_part parts[2];
    char *e[2];
    for (int i = 0; i < 2; i++) {
        e[i] = upload_part("mp/limit", id, i + 1, &full);
        parts[i] = (struct spoor_s3_part){i + 1, e[i]};
    }
    struct spoor_s3_op done = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                               .bucket = "b",
                               .key = "mp/limit",
                               .upload_id = id,
                               .parts = parts,
                               .nparts = 2};
    struct spoor_s3_result res;
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = (struct rlimit){psize + psize / 2, old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    int rc = exec(&done, &res);
    setrlimit(RLIMIT_FSIZE, &old);
    spoor_s3_result_cleanup(&res);
    assert_int_equal(rc, -EFBIG);
    struct spoor_s3_op h = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = "mp/limit"};
    expect_s3(&h, "NoSuchKey", 404);
    run_ok(&done); /* the upload is still there to complete */
    ok(&h, &res);
    assert_int_equal(res.object_size, (int64_t)(2 * psize));
    spoor_s3_result_cleanup(&res);
    assert_int_equal(orphans(), 0);
    check_tree();
    free(e[0]), free(e[1]), free(id), free(big);
}

static void test_delete_objects(void **state)
{
    put_str("x/y/z", "1");
    put_str("x/y", "2");
    put_str("keep", "3");
    const char *keys[] = {"x/y/z", "missing/key", "x/y", ""};
    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECTS, .bucket = "b", .keys = keys, .nkeys = 4};
    struct spoor_s3_result res;
    ok(&del, &res);
    assert_int_equal(res.http_status, 200);
    assert_int_equal(res.ndeleted, 3);
    assert_string_equal(res.deleted[1], "missing/key");
    assert_int_equal(res.ndelete_errors, 1);
    assert_string_equal(res.delete_errors[0].key, "");
    assert_string_equal(res.delete_errors[0].code, "InvalidArgument");
    spoor_s3_result_cleanup(&res);
    char dir[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/b/x", g.root);
    assert_int_not_equal(access(dir, F_OK), 0);

    put_str("q", "1");
    del.quiet = true;
    del.nkeys = 1;
    keys[0] = "q";
    ok(&del, &res);
    assert_int_equal(res.ndeleted, 0); /* quiet: only errors are reported */
    assert_int_equal(res.ndelete_errors, 0);
    spoor_s3_result_cleanup(&res);
    struct strv got = {0};
    list_pages("b", NULL, NULL, NULL, 0, &got);
    assert_int_equal(got.n, 1);
    assert_string_equal(got.v[0], "keep");
    strv_free(&got);
}

/* ---- async --------------------------------------------------------------------------------- */

struct tally {
    int done, failed;
    int last_status;
    char last_code[64];
    int list_count;
    char *body;
};

static void on_done(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct tally *t = ud;
    t->done++;
    t->last_status = status;
    snprintf(t->last_code, sizeof t->last_code, "%s", status ? err->s3_code : "");
    if (status)
        t->failed++;
    if (res->list.name)
        t->list_count = res->list.key_count;
    if (res->body) { /* a callback may take a field */
        free(t->body);
        t->body = res->body;
        res->body = NULL;
    }
}

struct bigcollect {
    char *data;
    size_t len;
    int calls;
    int stop_after;
    bool off_thread;
    pthread_t loop_thread;
};

static int big_cb(const void *data, size_t len, void *ud)
{
    struct bigcollect *c = ud;
    c->off_thread |= !pthread_equal(pthread_self(), c->loop_thread);
    if (++c->calls == c->stop_after)
        return 1;
    c->data = realloc(c->data, c->len + len);
    memcpy(c->data + c->len, data, len);
    c->len += len;
    return 0;
}

static void test_async_puts(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_error err;
    struct filestore *fs = filestore_new(&loop, g.root, "async", &err);
    assert_non_null(fs);
    struct tally t = {0};
    char keys[20][16];
    for (int i = 0; i < 20; i++) {
        snprintf(keys[i], sizeof keys[i], "k%02d", i);
        struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                                 .bucket = "b",
                                 .key = keys[i],
                                 .body = {.data = keys[i], .len = strlen(keys[i])}};
        assert_int_equal(filestore_submit(fs, &op, on_done, &t, &err), 0);
    }
    /* The same key from many threads at once: one version wins, whole, with one data file. */
    static char bodies[16][32];
    for (int i = 0; i < 16; i++) {
        snprintf(bodies[i], sizeof bodies[i], "version %d of the same key", i);
        struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                                 .bucket = "b",
                                 .key = "same",
                                 .body = {.data = bodies[i], .len = strlen(bodies[i])}};
        assert_int_equal(filestore_submit(fs, &op, on_done, &t, &err), 0);
    }
    assert_int_equal(t.done, 0); /* never from inside submit */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(t.done, 36);
    assert_int_equal(t.failed, 0);
    assert_int_equal(orphans(), 0);
    char *same = get_body("b", "same");
    assert_memory_equal(same, "version ", 8);
    free(same);

    filestore_free(fs);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static void test_async_get_and_errors(void **state)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_error err;
    struct filestore *fs = filestore_new(&loop, g.root, "async", &err);
    assert_non_null(fs);
    struct tally t = {0};
    put_str("k03", "k03");
    /* A data_cb GET: pieces delivered on the loop thread. */
    size_t n = 1024 * 1024 + 7;
    char *big = malloc(n);
    for (size_t i = 0; i < n; i++)
        big[i] = (char)(i * 31 + 7);
    put("b", "big", big, n);
    struct bigcollect c = {.loop_thread = pthread_self()};
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT,
                              .bucket = "b",
                              .key = "big",
                              .sink = {.data_cb = big_cb, .data_ud = &c}};
    assert_int_equal(filestore_submit(fs, &get, on_done, &t, &err), 0);
    struct bigcollect stop = {.loop_thread = pthread_self(), .stop_after = 2};
    struct tally t2 = {0};
    get.sink.data_ud = &stop;
    assert_int_equal(filestore_submit(fs, &get, on_done, &t2, &err), 0);
    struct tally t3 = {0};
    struct spoor_s3_op missing = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "nope"};
    assert_int_equal(filestore_submit(fs, &missing, on_done, &t3, &err), 0);
    struct tally t4 = {0};
    struct spoor_s3_op list = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "b"};
    assert_int_equal(filestore_submit(fs, &list, on_done, &t4, &err), 0);
    struct tally t5 = {0};
    struct spoor_s3_op buf_get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = "k03"};
    assert_int_equal(filestore_submit(fs, &buf_get, on_done, &t5, &err), 0);
    /* Invalid arguments fail in submit, and then there is no callback. */
    struct spoor_s3_op bad = {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b", .key = ""};
    assert_int_equal(filestore_submit(fs, &bad, on_done, &t, &err), SPOOR_E_INVALID);
    assert_int_equal(filestore_submit(g.fs, &get, on_done, &t, &err), SPOOR_E_INVALID);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);

    assert_int_equal(t.done, 1);
    assert_int_equal(t.failed, 0);
    assert_int_equal(c.len, n);
    assert_memory_equal(c.data, big, n);
    assert_true(c.calls >= 4);
    assert_false(c.off_thread);
    assert_int_equal(t2.done, 1);
    assert_int_equal(t2.last_status, SPOOR_E_CALLBACK);
    assert_int_equal(stop.calls, 2);
    assert_int_equal(t3.last_status, SPOOR_E_S3);
    assert_string_equal(t3.last_code, "NoSuchKey");
    assert_int_equal(t4.done, 1);
    assert_int_equal(t4.list_count, 2); /* k03 and big */
    assert_string_equal(t5.body, "k03");

    filestore_free(fs);
    assert_int_equal(uv_loop_close(&loop), 0);
    free(c.data);
    free(stop.data);
    free(t5.body);
    free(big);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_put_head_get_delete),
        T(test_get_range_and_if_match),
        T(test_defaults_and_empty_object),
        T(test_get_sinks),
        T(test_buckets),
        T(test_new_errors),
        T(test_key_torture),
        T(test_segment_limits),
        T(test_list_order_500),
        T(test_list_delimiter),
        T(test_list_tokens),
        T(test_list_ignores_foreign_files),
        T(test_multipart_20mib),
        T(test_multipart_errors),
        T(test_multipart_abort),
        T(test_copy),
        T(test_copy_self_and_errors),
        T(test_copy_across_filesystems),
        T(test_failed_write_keeps_old),
        T(test_failed_complete_keeps_upload),
        T(test_delete_objects),
        T(test_async_puts),
        T(test_async_get_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
