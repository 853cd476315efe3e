/*
 * test_s3_request.c: how an operation becomes an HTTP request (s3_request.c), without a
 * network: addressing style per endpoint and bucket, the once-encoded path that keeps key bytes
 * as they are, the sorted query string, the headers each operation signs, and argument checks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "s3_int.h"

struct built {
    struct spoor_s3_engine *engine;
    struct spoor_s3_client *client;
    struct s3_req r;
};

static struct spoor_s3_client *client_for(struct spoor_s3_engine *e, const char *url,
                                          enum spoor_s3_addressing addressing)
{
    struct spoor_s3_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "%s", url);
    cfg.addressing = addressing;
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(e, &cfg, &err);
    assert_non_null(c);
    return c;
}

/* Builds op for an endpoint; the caller inspects b->r and calls done(). */
static int build(struct built *b, const char *url, enum spoor_s3_addressing addressing,
                 const struct spoor_s3_op *op, struct spoor_error *err)
{
    memset(b, 0, sizeof *b);
    b->engine = spoor_s3_engine_new(NULL, NULL);
    b->client = client_for(b->engine, url, addressing);
    b->r.c = b->client;
    b->r.e = b->engine;
    arena_init(&b->r.arena);
    buf_init(&b->r.xml_body, 0);
    int rc = s3_op_validate(op, err);
    if (rc)
        return rc;
    s3_op_copy(&b->r.arena, &b->r.op, op);
    return s3_request_build(&b->r, err);
}

static void done(struct built *b)
{
    buf_cleanup(&b->r.xml_body);
    arena_cleanup(&b->r.arena);
    spoor_s3_client_free(b->client);
    spoor_s3_engine_close(b->engine, NULL, NULL);
}

static const char *header(const struct s3_req *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

static void test_addressing(void **state)
{
    static const struct {
        const char *endpoint;
        enum spoor_s3_addressing addressing;
        const char *bucket;
        const char *url;
        const char *host;
    } cases[] = {
        {"https://s3.eu-west-1.amazonaws.com", SPOOR_S3_ADDRESSING_AUTO, "logs",
         "https://logs.s3.eu-west-1.amazonaws.com/k", "logs.s3.eu-west-1.amazonaws.com"},
        /* a dotted bucket never goes virtual (TLS wildcard covers one label) */
        {"https://s3.eu-west-1.amazonaws.com", SPOOR_S3_ADDRESSING_AUTO, "my.logs",
         "https://s3.eu-west-1.amazonaws.com/my.logs/k", "s3.eu-west-1.amazonaws.com"},
        {"https://s3.eu-west-1.amazonaws.com", SPOOR_S3_ADDRESSING_VIRTUAL, "my.logs",
         "https://s3.eu-west-1.amazonaws.com/my.logs/k", "s3.eu-west-1.amazonaws.com"},
        /* not AWS: path style unless told otherwise */
        {"http://127.0.0.1:7480", SPOOR_S3_ADDRESSING_AUTO, "logs", "http://127.0.0.1:7480/logs/k",
         "127.0.0.1:7480"},
        {"http://minio.local:9000/", SPOOR_S3_ADDRESSING_VIRTUAL, "logs",
         "http://logs.minio.local:9000/k", "logs.minio.local:9000"},
        {"https://s3.amazonaws.com", SPOOR_S3_ADDRESSING_PATH, "logs",
         "https://s3.amazonaws.com/logs/k", "s3.amazonaws.com"},
        /* upper case is not DNS-safe */
        {"https://s3.amazonaws.com", SPOOR_S3_ADDRESSING_AUTO, "Logs",
         "https://s3.amazonaws.com/Logs/k", "s3.amazonaws.com"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct built b;
        struct spoor_error err;
        struct spoor_s3_op op = {
            .kind = SPOOR_S3_GET_OBJECT, .bucket = cases[i].bucket, .key = "k"};
        assert_int_equal(build(&b, cases[i].endpoint, cases[i].addressing, &op, &err), 0);
        assert_string_equal(b.r.url, cases[i].url);
        assert_string_equal(b.r.host, cases[i].host);
        done(&b);
    }
}

static void test_default_endpoint_is_regional_aws(void **state)
{
    struct spoor_s3_engine *e = spoor_s3_engine_new(NULL, NULL);
    struct spoor_s3_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.region, sizeof cfg.region, "ap-south-1");
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(e, &cfg, &err);
    assert_non_null(c);
    assert_string_equal(c->hostport, "s3.ap-south-1.amazonaws.com");
    assert_true(c->is_aws);
    spoor_s3_client_free(c);
    spoor_s3_engine_close(e, NULL, NULL);
}

static void test_bad_endpoint(void **state)
{
    struct spoor_s3_engine *e = spoor_s3_engine_new(NULL, NULL);
    const char *bad[] = {"127.0.0.1:9000", "ftp://host", "http://", "http://host/path"};
    for (size_t i = 0; i < 4; i++) {
        struct spoor_s3_config cfg;
        memset(&cfg, 0, sizeof cfg);
        snprintf(cfg.name, sizeof cfg.name, "minio");
        snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "%s", bad[i]);
        struct spoor_error err;
        assert_null(spoor_s3_client_new(e, &cfg, &err));
        assert_int_equal(err.code, SPOOR_E_CONFIG);
        assert_non_null(strstr(err.message, "minio"));
        assert_non_null(strstr(err.message, bad[i]));
    }
    spoor_s3_engine_close(e, NULL, NULL);
}

static void test_key_bytes_encoded_once(void **state)
{
    static const struct {
        const char *key, *path;
    } cases[] = {
        {"a b+c%d", "/b/a%20b%2Bc%25d"},
        {"x//y/./z/../w", "/b/x//y/./z/../w"},
        {"日本", "/b/%E6%97%A5%E6%9C%AC"},
        {"q?x=1#f", "/b/q%3Fx%3D1%23f"},
        {"~_-.", "/b/~_-."},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct built b;
        struct spoor_error err;
        struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = "b", .key = cases[i].key};
        assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &op, &err), 0);
        assert_string_equal(b.r.path, cases[i].path);
        assert_string_equal(b.r.method, "HEAD");
        done(&b);
    }
}

static void test_list_query(void **state)
{
    struct built b;
    struct spoor_error err;
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = "b",
                             .prefix = "data/a b/",
                             .delimiter = "/",
                             .start_after = "data/a b/x+y",
                             .continuation_token = "tok/en=",
                             .max_keys = 7};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &op, &err), 0);
    assert_string_equal(b.r.url, "http://h:1/b?continuation-token=tok%2Fen%3D&delimiter=%2F"
                                 "&encoding-type=url&list-type=2&max-keys=7"
                                 "&prefix=data%2Fa%20b%2F&start-after=data%2Fa%20b%2Fx%2By");
    done(&b);
}

static void test_operation_shapes(void **state)
{
    struct built b;
    struct spoor_error err;
    struct spoor_s3_meta meta[] = {{"Tracker_ID", "t1"}};
    struct spoor_s3_op put = {.kind = SPOOR_S3_PUT_OBJECT,
                              .bucket = "b",
                              .key = "k",
                              .body = {.data = "hello", .len = 5},
                              .content_type = "text/plain",
                              .meta = meta,
                              .nmeta = 1,
                              .content_md5 = true};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &put, &err), 0);
    assert_string_equal(b.r.method, "PUT");
    assert_string_equal(header(&b.r, "content-type"), "text/plain");
    assert_string_equal(header(&b.r, "x-amz-meta-tracker_id"), "t1");
    assert_string_equal(header(&b.r, "content-md5"), "XUFAKrxLKna5cZ2REBfFkg==");
    assert_string_equal(b.r.payload_hash,
                        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    assert_int_equal(b.r.body_len, 5);
    done(&b);

    struct spoor_s3_op cp = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = "dst",
                             .key = "k2",
                             .src_bucket = "src",
                             .src_key = "dir/a+b c"};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &cp, &err), 0);
    assert_string_equal(header(&b.r, "x-amz-copy-source"), "/src/dir/a%2Bb%20c");
    assert_null(header(&b.r, "x-amz-metadata-directive"));
    done(&b);

    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT,
                              .bucket = "b",
                              .key = "k",
                              .has_range = true,
                              .range_first = 10,
                              .range_last = -1};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &get, &err), 0);
    assert_string_equal(header(&b.r, "range"), "bytes=10-");
    assert_string_equal(b.r.payload_hash, SIGV4_EMPTY_SHA256);
    done(&b);

    struct spoor_s3_op create = {.kind = SPOOR_S3_CREATE_MULTIPART, .bucket = "b", .key = "k"};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &create, &err), 0);
    assert_string_equal(b.r.method, "POST");
    assert_string_equal(b.r.url, "http://h:1/b/k?uploads=");
    done(&b);

    struct spoor_s3_op part = {.kind = SPOOR_S3_UPLOAD_PART,
                               .bucket = "b",
                               .key = "k",
                               .upload_id = "2~abc",
                               .part_number = 3,
                               .body = {.data = "x", .len = 1}};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &part, &err), 0);
    assert_string_equal(b.r.url, "http://h:1/b/k?partNumber=3&uploadId=2~abc");
    done(&b);

    const char *keys[] = {"a", "b<&>"};
    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECTS, .bucket = "b", .keys = keys, .nkeys = 2, .quiet = true};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &del, &err), 0);
    assert_string_equal(b.r.url, "http://h:1/b?delete=");
    assert_non_null(header(&b.r, "content-md5"));
    assert_non_null(strstr(b.r.body_data, "<Key>b&lt;&amp;&gt;</Key>"));
    assert_non_null(strstr(b.r.body_data, "<Quiet>true</Quiet>"));
    done(&b);
}

static void test_invalid_ops(void **state)
{
    static const struct spoor_s3_op bad[] = {
        {.kind = SPOOR_S3_GET_OBJECT, .bucket = "b"},
        {.kind = SPOOR_S3_GET_OBJECT, .bucket = "", .key = "k"},
        {.kind = SPOOR_S3_GET_OBJECT, .bucket = "a/b", .key = "k"},
        {.kind = SPOOR_S3_UPLOAD_PART, .bucket = "b", .key = "k", .upload_id = "u"},
        {.kind = SPOOR_S3_UPLOAD_PART, .bucket = "b", .key = "k", .part_number = 1},
        {.kind = SPOOR_S3_COMPLETE_MULTIPART, .bucket = "b", .key = "k", .upload_id = "u"},
        {.kind = SPOOR_S3_COPY_OBJECT, .bucket = "b", .key = "k"},
        {.kind = SPOOR_S3_DELETE_OBJECTS, .bucket = "b"},
        {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "b", .max_keys = -1},
        {.kind = SPOOR_S3_GET_OBJECT,
         .bucket = "b",
         .key = "k",
         .has_range = true,
         .range_first = 5,
         .range_last = 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct spoor_error err;
        memset(&err, 0, sizeof err);
        assert_int_equal(s3_op_validate(&bad[i], &err), SPOOR_E_INVALID);
        assert_true(strlen(err.message) > 10);
    }
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT, .bucket = "b", .key = longkey};
    struct spoor_error err;
    assert_int_equal(s3_op_validate(&op, &err), SPOOR_E_INVALID);
    assert_non_null(strstr(err.message, "1024"));
}

static void test_missing_upload_file(void **state)
{
    struct built b;
    struct spoor_error err;
    struct spoor_s3_op put = {.kind = SPOOR_S3_PUT_OBJECT,
                              .bucket = "b",
                              .key = "k",
                              .body = {.path = "/nonexistent/spoor/file", .length = -1}};
    assert_int_equal(build(&b, "http://h:1", SPOOR_S3_ADDRESSING_PATH, &put, &err), -ENOENT);
    assert_non_null(strstr(err.message, "/nonexistent/spoor/file"));
    done(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addressing),
        cmocka_unit_test(test_default_endpoint_is_regional_aws),
        cmocka_unit_test(test_bad_endpoint),
        cmocka_unit_test(test_key_bytes_encoded_once),
        cmocka_unit_test(test_list_query),
        cmocka_unit_test(test_operation_shapes),
        cmocka_unit_test(test_invalid_ops),
        cmocka_unit_test(test_missing_upload_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
