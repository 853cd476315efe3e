/*
 * test_s3_rgw.c: the S3 client against a real Ceph RGW on 127.0.0.1 (started by tests/run.sh).
 *
 * Every operation of spoor/s3.h is exercised for what a user would check: bytes and metadata
 * round-trip, listings return each key exactly once in byte order across pages, keys that
 * break naive clients survive, a 20 MiB file goes up in parts, wrong credentials and a dead
 * endpoint give errors that say what happened and where. Each run uses fresh buckets.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/s3.h>

#include <curl/curl.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <time.h>
#include <unistd.h>

#include "support/files.h"
#include "support/s3_env.h"

struct fx {
    struct spoor_s3_engine *engine;
    struct spoor_s3_client *client;
    char bucket[64];
};

static struct fx g;

static int exec(const struct spoor_s3_op *op, struct spoor_s3_result *res, struct spoor_error *err)
{
    return spoor_s3_exec(g.client, op, res, err);
}

/* Runs op and asserts success, printing the error otherwise. */
static void ok(const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    struct spoor_error err;
    int rc = exec(op, res, &err);
    if (rc)
        fail_msg("%s", err.message);
}

static void put_str(const char *bucket, const char *key, const char *body)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = bucket,
                             .key = key,
                             .body = {.data = body, .len = strlen(body)}};
    struct spoor_s3_result res;
    ok(&op, &res);
    spoor_s3_result_cleanup(&res);
}

static int group_setup(void **state)
{
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    g.engine = spoor_s3_engine_new(NULL, &(struct spoor_s3_engine_opts){.max_concurrency = 16});
    struct spoor_error err;
    g.client = spoor_s3_client_new(g.engine, &cfg, &err);
    if (!g.client)
        return -1;
    s3_env_bucket_name(g.bucket, sizeof g.bucket, "spoor-it");
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = g.bucket};
    struct spoor_s3_result res;
    int rc = exec(&op, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (rc)
        fprintf(stderr, "cannot create bucket: %s\n", err.message);
    return rc;
}

static int group_teardown(void **state)
{
    spoor_s3_client_free(g.client);
    spoor_s3_engine_close(g.engine, NULL, NULL);
    return 0;
}

/* ---- buckets --------------------------------------------------------------------------- */

static void test_buckets(void **state)
{
    struct spoor_s3_result res;
    struct spoor_error err;
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_BUCKET, .bucket = g.bucket};
    ok(&op, &res);
    assert_int_equal(res.http_status, 200);
    spoor_s3_result_cleanup(&res);

    op.bucket = "spoor-no-such-bucket-here";
    assert_int_equal(exec(&op, &res, &err), SPOOR_E_S3);
    assert_int_equal(err.http_status, 404);
    assert_string_equal(err.s3_code, "NoSuchBucket");
    assert_int_equal(err.attempts, 1);
    spoor_s3_result_cleanup(&res);
}

/* ---- single objects -------------------------------------------------------------------- */

static void test_put_head_get_delete(void **state)
{
    const char *body = "0123456789abcdefghij";
    struct spoor_s3_meta meta[] = {{"min_sequence_id", "3"}, {"tracker_id", "t-1"}};
    struct spoor_s3_op put = {.kind = SPOOR_S3_PUT_OBJECT,
                              .bucket = g.bucket,
                              .key = "obj/one.jsonl",
                              .body = {.data = body, .len = strlen(body)},
                              .content_type = "application/x-ndjson",
                              .meta = meta,
                              .nmeta = 2,
                              .content_md5 = true};
    struct spoor_s3_result res;
    ok(&put, &res);
    /* A single-part ETag is the quoted hex MD5 of the body. */
    unsigned char md[16];
    EVP_Digest(body, strlen(body), md, NULL, EVP_md5(), NULL);
    char want[40] = "\"";
    for (int i = 0; i < 16; i++)
        snprintf(want + 1 + 2 * i, 3, "%02x", md[i]);
    want[33] = '"';
    assert_non_null(res.etag);
    assert_string_equal(res.etag, want);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op head = {
        .kind = SPOOR_S3_HEAD_OBJECT, .bucket = g.bucket, .key = "obj/one.jsonl"};
    ok(&head, &res);
    assert_int_equal(res.object_size, 20);
    assert_string_equal(res.content_type, "application/x-ndjson");
    assert_string_equal(spoor_s3_result_meta(&res, "min_sequence_id"), "3");
    assert_string_equal(spoor_s3_result_meta(&res, "tracker_id"), "t-1");
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op get = {
        .kind = SPOOR_S3_GET_OBJECT, .bucket = g.bucket, .key = "obj/one.jsonl"};
    ok(&get, &res);
    assert_int_equal(res.body_len, 20);
    assert_memory_equal(res.body, body, 20);
    assert_string_equal(spoor_s3_result_meta(&res, "tracker_id"), "t-1");
    spoor_s3_result_cleanup(&res);

    get.has_range = true;
    get.range_first = 2;
    get.range_last = 5;
    ok(&get, &res);
    assert_int_equal(res.http_status, 206);
    assert_int_equal(res.body_len, 4);
    assert_memory_equal(res.body, "2345", 4);
    assert_int_equal(res.object_size, 20);
    spoor_s3_result_cleanup(&res);

    get.range_first = 15;
    get.range_last = -1;
    ok(&get, &res);
    assert_int_equal(res.body_len, 5);
    assert_memory_equal(res.body, "fghij", 5);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECT, .bucket = g.bucket, .key = "obj/one.jsonl"};
    ok(&del, &res);
    assert_int_equal(res.http_status, 204);
    spoor_s3_result_cleanup(&res);

    struct spoor_error err;
    assert_int_equal(exec(&head, &res, &err), SPOOR_E_S3);
    assert_int_equal(err.http_status, 404);
    assert_string_equal(err.s3_code, "NoSuchKey");
    spoor_s3_result_cleanup(&res);
    assert_int_equal(exec(&get, &res, &err), SPOOR_E_S3);
    assert_string_equal(err.s3_code, "NoSuchKey");
    assert_non_null(strstr(err.message, g.bucket));
    spoor_s3_result_cleanup(&res);
}

struct collect {
    char data[64];
    size_t len;
    int calls;
};

static int collect_cb(const void *data, size_t len, void *ud)
{
    struct collect *c = ud;
    if (c->len + len > sizeof c->data)
        return -1;
    memcpy(c->data + c->len, data, len);
    c->len += len;
    c->calls++;
    return 0;
}

static void test_get_sinks(void **state)
{
    put_str(g.bucket, "sinks/x", "the quick brown fox");
    struct spoor_s3_result res;
    struct spoor_error err;

    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT,
                              .bucket = g.bucket,
                              .key = "sinks/x",
                              .sink = {.max_bytes = 10}};
    assert_int_equal(exec(&get, &res, &err), SPOOR_E_TOO_LARGE);
    assert_int_equal(err.attempts, 1);
    assert_null(res.body);
    spoor_s3_result_cleanup(&res);

    struct collect c = {0};
    get.sink = (struct spoor_s3_sink){.data_cb = collect_cb, .data_ud = &c};
    ok(&get, &res);
    assert_int_equal(c.len, 19);
    assert_memory_equal(c.data, "the quick brown fox", 19);
    assert_null(res.body);
    spoor_s3_result_cleanup(&res);

    char dir[] = "/tmp/spoor-it-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/out.bin", dir);
    get.sink = (struct spoor_s3_sink){.path = path};
    ok(&get, &res);
    spoor_s3_result_cleanup(&res);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char got[64] = {0};
    assert_int_equal(fread(got, 1, sizeof got, f), 19);
    fclose(f);
    assert_string_equal(got, "the quick brown fox");

    /* A failed GET into a file leaves no file behind. */
    snprintf(path, sizeof path, "%s/missing.bin", dir);
    get.key = "sinks/absent";
    get.sink = (struct spoor_s3_sink){.path = path};
    assert_int_equal(exec(&get, &res, &err), SPOOR_E_S3);
    spoor_s3_result_cleanup(&res);
    assert_int_not_equal(access(path, F_OK), 0);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* ---- listings -------------------------------------------------------------------------- */

struct fill {
    int submitted, done, failed;
    int total;
    char bucket[64];
    char (*keys)[64];
};

static void on_put(int status, struct spoor_s3_result *res, const struct spoor_error *err, void *ud)
{
    struct fill *f = ud;
    f->done++;
    if (status) {
        f->failed++;
        fprintf(stderr, "PUT failed: %s\n", err->message);
    }
}

/* PUTs n keys with the async API, 16 in flight, on a loop of its own. */
static void put_many(const char *bucket, char (*keys)[64], int n)
{
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct spoor_s3_engine *e =
        spoor_s3_engine_new(&loop, &(struct spoor_s3_engine_opts){.max_concurrency = 16});
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(e, &cfg, &err);
    struct fill f = {.total = n};
    for (int i = 0; i < n; i++) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                                 .bucket = bucket,
                                 .key = keys[i],
                                 .body = {.data = keys[i], .len = strlen(keys[i])}};
        assert_int_equal(spoor_s3_submit(c, &op, on_put, &f, &err), 0);
    }
    assert_int_equal(f.done, 0); /* no callback from inside submit */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(f.done, n);
    assert_int_equal(f.failed, 0);
    spoor_s3_client_free(c);
    spoor_s3_engine_close(e, NULL, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int cmp_bytes(const void *a, const void *b)
{
    return strcmp(a, b); /* strcmp compares as unsigned char: byte order */
}

/* Lists bucket/prefix page by page; returns the keys in the order received. */
static int list_all(const char *bucket, const char *prefix, const char *start_after, int max_keys,
                    char (*out)[64], int cap, int *pages)
{
    char token[1024] = "";
    int n = 0;
    *pages = 0;
    for (;;) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = bucket,
                                 .prefix = prefix,
                                 .start_after = start_after,
                                 .max_keys = max_keys,
                                 .continuation_token = token[0] ? token : NULL};
        struct spoor_s3_result res;
        ok(&op, &res);
        (*pages)++;
        assert_true(res.list.nobjects <= (size_t)(max_keys ? max_keys : 1000));
        for (size_t i = 0; i < res.list.nobjects && n < cap; i++)
            snprintf(out[n++], 64, "%s", res.list.objects[i].key);
        bool more = res.list.is_truncated;
        if (more) {
            assert_non_null(res.list.next_continuation_token);
            snprintf(token, sizeof token, "%s", res.list.next_continuation_token);
        }
        spoor_s3_result_cleanup(&res);
        if (!more)
            return n;
    }
}

static void test_list_pagination(void **state)
{
    enum { N = 2600 };
    char bucket[64];
    s3_env_bucket_name(bucket, sizeof bucket, "spoor-page");
    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = bucket};
    struct spoor_s3_result res;
    ok(&mk, &res);
    spoor_s3_result_cleanup(&res);

    char(*keys)[64] = calloc(N, 64);
    /* Keys whose byte order differs from naive orders: prefixes of each other, '.', ' ', '-',
     * upper case, and numbers without padding. */
    static const char *const odd[] = {"a",   "a b",   "a-b",   "a.b", "a/b", "ab",
                                      "abc", "abc/d", "abc-x", "abd", "A",   "Z",
                                      "_",   "~",     "0",     "10",  "9"};
    int nodd = (int)(sizeof odd / sizeof odd[0]);
    for (int i = 0; i < nodd; i++)
        snprintf(keys[i], 64, "p/%s", odd[i]);
    for (int i = nodd; i < N; i++)
        snprintf(keys[i], 64, "p/k%d", (i * 7919) % 100000);
    put_many(bucket, keys, N);
    qsort(keys, N, 64, cmp_bytes);

    char(*got)[64] = calloc(N + 10, 64);
    int pages;
    int n = list_all(bucket, "p/", NULL, 1000, got, N + 10, &pages);
    assert_int_equal(n, N);
    assert_int_equal(pages, 3);
    for (int i = 0; i < N; i++)
        assert_string_equal(got[i], keys[i]);

    /* start-after in the middle, small pages: exactly the keys after it, once, in order. */
    n = list_all(bucket, "p/", keys[1234], 7, got, N + 10, &pages);
    assert_int_equal(n, N - 1235);
    assert_int_equal(pages, (N - 1235 + 6) / 7);
    for (int i = 0; i < n; i++)
        assert_string_equal(got[i], keys[1235 + i]);
    free(got);

    /* Clean up with DeleteObjects in batches of 1000. */
    for (int i = 0; i < N; i += 1000) {
        const char *batch[1000];
        int m = N - i < 1000 ? N - i : 1000;
        for (int j = 0; j < m; j++)
            batch[j] = keys[i + j];
        struct spoor_s3_op del = {.kind = SPOOR_S3_DELETE_OBJECTS,
                                  .bucket = bucket,
                                  .keys = batch,
                                  .nkeys = (size_t)m,
                                  .quiet = true};
        ok(&del, &res);
        assert_int_equal(res.ndelete_errors, 0);
        spoor_s3_result_cleanup(&res);
    }
    n = list_all(bucket, "", NULL, 0, (char(*)[64])keys, N, &pages);
    assert_int_equal(n, 0);
    free(keys);
}

static void test_list_delimiter(void **state)
{
    const char *keys[] = {"d/2026/01/a", "d/2026/02/b", "d/2027/x", "d/top", "d/top2"};
    for (size_t i = 0; i < 5; i++)
        put_str(g.bucket, keys[i], "x");
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = g.bucket, .prefix = "d/", .delimiter = "/"};
    struct spoor_s3_result res;
    ok(&op, &res);
    assert_int_equal(res.list.nprefixes, 2);
    assert_string_equal(res.list.common_prefixes[0], "d/2026/");
    assert_string_equal(res.list.common_prefixes[1], "d/2027/");
    assert_int_equal(res.list.nobjects, 2);
    assert_string_equal(res.list.objects[0].key, "d/top");
    assert_string_equal(res.list.objects[1].key, "d/top2");
    assert_int_equal(res.list.objects[0].size, 1);
    assert_false(res.list.is_truncated);
    spoor_s3_result_cleanup(&res);
}

/* ---- keys are bytes -------------------------------------------------------------------- */

static const char *const torture[] = {
    "tk/space in name",       "tk/plus+sign",        "tk/100%",
    "tk/pct%2Fencoded",       "tk/double//slash",    "tk/./dot-segment",
    "tk/../dotdot",           "tk/x/./y/../z",       "tk/trailing.",
    "tk/unicode/日本語/ключ", "tk/emoji/😀🚀",         "tk/quote\"'`",
    "tk/xml<&>amp;lt;",       "tk/query?x=1&y=2#f",  "tk/semi;colon,comma=eq",
    "tk/tilde~under_score",   "tk/tab\there",        "tk/UPPER/lower",
    "tk/ends-with-slash/",    "tk/*star*(paren)[b]", "tk/back\\slash",
    "tk/caret^pipe|brace{}",  "tk/dollar$at@bang!",  "tk/combining é vs é",
};

static void test_key_torture(void **state)
{
    size_t n = sizeof torture / sizeof torture[0];
    for (size_t i = 0; i < n; i++)
        put_str(g.bucket, torture[i], torture[i]);

    char(*got)[64] = calloc(64, 64);
    int pages;
    int m = list_all(g.bucket, "tk/", NULL, 0, got, 64, &pages);
    assert_int_equal(m, (int)n);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (int j = 0; j < m; j++)
            found |= strcmp(got[j], torture[i]) == 0;
        if (!found)
            fail_msg("key \"%s\" did not come back from LIST", torture[i]);
    }
    for (int j = 1; j < m; j++)
        assert_true(strcmp(got[j - 1], got[j]) < 0);
    free(got);

    for (size_t i = 0; i < n; i++) {
        struct spoor_s3_op get = {
            .kind = SPOOR_S3_GET_OBJECT, .bucket = g.bucket, .key = torture[i]};
        struct spoor_s3_result res;
        ok(&get, &res);
        assert_int_equal(res.body_len, strlen(torture[i]));
        assert_memory_equal(res.body, torture[i], res.body_len);
        spoor_s3_result_cleanup(&res);
    }

    /* Batch delete of the torture set (XML escaping, Content-MD5) reports every key. */
    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECTS, .bucket = g.bucket, .keys = torture, .nkeys = n};
    struct spoor_s3_result res;
    ok(&del, &res);
    assert_int_equal(res.ndeleted, n);
    assert_int_equal(res.ndelete_errors, 0);
    for (size_t i = 0; i < n; i++) {
        bool found = false;
        for (size_t j = 0; j < res.ndeleted; j++)
            found |= strcmp(res.deleted[j], torture[i]) == 0;
        assert_true(found);
    }
    spoor_s3_result_cleanup(&res);
}

/* ---- multipart, copy ------------------------------------------------------------------- */

static void test_multipart_file(void **state)
{
    char dir[] = "/tmp/spoor-mp-XXXXXX", src[128], dst[128];
    assert_non_null(mkdtemp(dir));
    snprintf(src, sizeof src, "%s/src.bin", dir);
    snprintf(dst, sizeof dst, "%s/dst.bin", dir);
    const size_t size = 20 * 1024 * 1024 + 12345;
    write_random_file(src, size, 42);

    struct spoor_s3_meta meta[] = {{"origin", "test"}};
    struct spoor_s3_upload_opts o = {.part_size_bytes = 5 * 1024 * 1024,
                                     .content_type = "application/octet-stream",
                                     .meta = meta,
                                     .nmeta = 1};
    struct spoor_s3_result res;
    struct spoor_error err;
    int rc = spoor_s3_upload_file_exec(g.client, g.bucket, "mp/big.bin", src, &o, &res, &err);
    if (rc)
        fail_msg("%s", err.message);
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op head = {
        .kind = SPOOR_S3_HEAD_OBJECT, .bucket = g.bucket, .key = "mp/big.bin"};
    ok(&head, &res);
    assert_int_equal(res.object_size, (int64_t)size);
    assert_non_null(strstr(res.etag, "-5")); /* 5 parts: 4 x 5 MiB + the rest */
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "test");
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT,
                              .bucket = g.bucket,
                              .key = "mp/big.bin",
                              .sink = {.path = dst}};
    ok(&get, &res);
    spoor_s3_result_cleanup(&res);
    assert_true(files_equal(src, dst));

    /* Server-side copy keeps bytes and metadata; REPLACE swaps the metadata. */
    struct spoor_s3_op cp = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = g.bucket,
                             .key = "mp/copy of big+.bin",
                             .src_bucket = g.bucket,
                             .src_key = "mp/big.bin"};
    ok(&cp, &res);
    spoor_s3_result_cleanup(&res);
    head.key = "mp/copy of big+.bin";
    ok(&head, &res);
    assert_int_equal(res.object_size, (int64_t)size);
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "test");
    spoor_s3_result_cleanup(&res);

    struct spoor_s3_meta meta2[] = {{"origin", "replaced"}};
    cp.key = "mp/copy2";
    cp.src_key = "mp/copy of big+.bin";
    cp.replace_meta = true;
    cp.meta = meta2;
    cp.nmeta = 1;
    cp.content_type = "text/plain";
    ok(&cp, &res);
    spoor_s3_result_cleanup(&res);
    head.key = "mp/copy2";
    ok(&head, &res);
    assert_string_equal(spoor_s3_result_meta(&res, "origin"), "replaced");
    assert_string_equal(res.content_type, "text/plain");
    spoor_s3_result_cleanup(&res);

    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_multipart_steps_and_abort(void **state)
{
    struct spoor_s3_op create = {
        .kind = SPOOR_S3_CREATE_MULTIPART, .bucket = g.bucket, .key = "mp/steps"};
    struct spoor_s3_result res;
    struct spoor_error err;
    ok(&create, &res);
    assert_non_null(res.upload_id);
    char *upload_id = res.upload_id;
    res.upload_id = NULL;
    spoor_s3_result_cleanup(&res);

    size_t psize = 5 * 1024 * 1024;
    char *part = malloc(psize);
    memset(part, 'p', psize);
    struct spoor_s3_part parts[2];
    char *etags[2];
    for (int i = 0; i < 2; i++) {
        struct spoor_s3_op up = {.kind = SPOOR_S3_UPLOAD_PART,
                                 .bucket = g.bucket,
                                 .key = "mp/steps",
                                 .upload_id = upload_id,
                                 .part_number = i + 1,
                                 .body = {.data = part, .len = i == 0 ? psize : 100}};
        ok(&up, &res);
        assert_non_null(res.etag);
        etags[i] = res.etag;
        res.etag = NULL;
        parts[i] = (struct spoor_s3_part){i + 1, etags[i]};
        spoor_s3_result_cleanup(&res);
    }
    struct spoor_s3_op done = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                               .bucket = g.bucket,
                               .key = "mp/steps",
                               .upload_id = upload_id,
                               .parts = parts,
                               .nparts = 2};
    ok(&done, &res);
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op head = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = g.bucket, .key = "mp/steps"};
    ok(&head, &res);
    assert_int_equal(res.object_size, (int64_t)psize + 100);
    spoor_s3_result_cleanup(&res);
    free(upload_id);

    /* Abort: the upload is gone, a part sent to it afterwards fails with NoSuchUpload. */
    create.key = "mp/aborted";
    ok(&create, &res);
    upload_id = res.upload_id;
    res.upload_id = NULL;
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op abort_op = {.kind = SPOOR_S3_ABORT_MULTIPART,
                                   .bucket = g.bucket,
                                   .key = "mp/aborted",
                                   .upload_id = upload_id};
    ok(&abort_op, &res);
    assert_int_equal(res.http_status, 204);
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op late = {.kind = SPOOR_S3_UPLOAD_PART,
                               .bucket = g.bucket,
                               .key = "mp/aborted",
                               .upload_id = upload_id,
                               .part_number = 1,
                               .body = {.data = part, .len = 10}};
    assert_int_equal(exec(&late, &res, &err), SPOOR_E_S3);
    assert_string_equal(err.s3_code, "NoSuchUpload");
    assert_int_equal(err.http_status, 404);
    spoor_s3_result_cleanup(&res);
    head.key = "mp/aborted";
    assert_int_equal(exec(&head, &res, &err), SPOOR_E_S3);
    assert_string_equal(err.s3_code, "NoSuchKey");
    spoor_s3_result_cleanup(&res);
    free(upload_id);
    free(etags[0]);
    free(etags[1]);
    free(part);
}

/* ---- credentials and endpoints --------------------------------------------------------- */

static void test_wrong_secret(void **state)
{
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    snprintf(cfg.creds.secret_access_key, sizeof cfg.creds.secret_access_key, "not-the-secret");
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(g.engine, &cfg, &err);
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = g.bucket};
    struct spoor_s3_result res;
    assert_int_equal(spoor_s3_exec(c, &op, &res, &err), SPOOR_E_S3);
    assert_string_equal(err.s3_code, "SignatureDoesNotMatch");
    assert_int_equal(err.http_status, 403);
    assert_int_equal(err.attempts, 1); /* a 4xx is never retried */
    assert_non_null(strstr(err.message, "SignatureDoesNotMatch"));
    assert_non_null(strstr(err.message, "endpoint rgw"));
    assert_non_null(strstr(err.message, cfg.endpoint_url + 7));
    assert_non_null(strstr(err.message, "secret access key"));
    assert_null(strstr(err.message, "not-the-secret"));
    assert_non_null(strstr(err.endpoint, "rgw"));
    spoor_s3_result_cleanup(&res);
    spoor_s3_client_free(c);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&a, sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd); /* nothing listens there now */
    return ntohs(a.sin_port);
}

static void test_connection_refused(void **state)
{
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "http://127.0.0.1:%d", closed_port());
    cfg.max_attempts = 3;
    cfg.retry_base_ms = 20;
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(g.engine, &cfg, &err);
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = g.bucket, .key = "x"};
    struct spoor_s3_result res;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(spoor_s3_exec(c, &op, &res, &err), SPOOR_E_NET);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(s < 5.0); /* bounded: 3 attempts with short backoff, not a hang */
    assert_int_equal(err.attempts, 3);
    assert_int_equal(err.http_status, 0);
    assert_string_equal(err.s3_code, "");
    assert_non_null(strstr(err.message, "after 3 attempts"));
    assert_non_null(strstr(err.message, cfg.endpoint_url + 7));
    spoor_s3_result_cleanup(&res);
    spoor_s3_client_free(c);
}

static size_t count_bytes(char *p, size_t size, size_t n, void *ud)
{
    *(size_t *)ud += size * n;
    return size * n;
}

static void test_presigned_url(void **state)
{
    put_str(g.bucket, "pre/signed file.txt", "presigned body");
    char *url = NULL;
    struct spoor_error err;
    assert_int_equal(
        spoor_s3_presign(g.client, "GET", g.bucket, "pre/signed file.txt", 300, 0, &url, &err), 0);
    assert_non_null(strstr(url, "X-Amz-Signature="));
    CURL *h = curl_easy_init();
    size_t got = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, count_bytes);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &got);
    assert_int_equal(curl_easy_perform(h), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 200);
    assert_int_equal(got, strlen("presigned body"));
    curl_easy_cleanup(h);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buckets),         cmocka_unit_test(test_put_head_get_delete),
        cmocka_unit_test(test_get_sinks),       cmocka_unit_test(test_list_delimiter),
        cmocka_unit_test(test_list_pagination), cmocka_unit_test(test_key_torture),
        cmocka_unit_test(test_multipart_file),  cmocka_unit_test(test_multipart_steps_and_abort),
        cmocka_unit_test(test_wrong_secret),    cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_presigned_url),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
