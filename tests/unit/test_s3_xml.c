/*
 * test_s3_xml.c: s3_xml against answers captured from Ceph RGW 16.2.15 and written after AWS's
 * (tests/data/s3_xml/, see its README), against malformed and hostile answers (one table, one
 * runner), and the two request builders by exact bytes and by a round trip through libxml2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support/files.h"
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "s3_xml.h"

#define S3_NS "http://s3.amazonaws.com/doc/2006-03-01/"

/* ---- helpers ------------------------------------------------------------------------------ */

static char *load(const char *name, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/s3_xml/%s", SPOOR_TEST_DATA, name);
    char *data = slurp_n(path, len);
    if (!data)
        fail_msg("cannot open %s", path);
    return data;
}

static int parse_list_file(const char *name, struct spoor_s3_list *l, struct spoor_error *err)
{
    size_t len;
    char *body = load(name, &len);
    int rc = s3_xml_parse_list(body, len, l, err);
    free(body);
    return rc;
}

static void list_ok(const char *name, struct spoor_s3_list *l)
{
    struct spoor_error err = {0};
    int rc = parse_list_file(name, l, &err);
    if (rc)
        fail_msg("%s: %d %s", name, rc, err.message);
}

static char *etag_file(const char *name, int expect_rc, struct s3_xml_error *s3err,
                       struct spoor_error *err)
{
    size_t len;
    char *body = load(name, &len);
    char *etag = (char *)1;
    int rc = s3_xml_parse_etag_result(body, len, &etag, s3err, err);
    free(body);
    if (rc != expect_rc)
        fail_msg("%s: got %d (%s), want %d", name, rc, err->message, expect_rc);
    return etag;
}

static bool all_zero(const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

/* ---- ListObjectsV2 ------------------------------------------------------------------------ */

static void test_list_aws(void **state)
{
    struct spoor_s3_list l;
    list_ok("aws_list.xml", &l);
    assert_string_equal(l.name, "example-bucket");
    assert_string_equal(l.prefix, "photos/2024/");
    assert_string_equal(l.delimiter, "/");
    assert_null(l.start_after);
    assert_null(l.continuation_token);
    assert_null(l.next_continuation_token);
    assert_false(l.is_truncated);
    assert_int_equal(l.key_count, 4);
    assert_int_equal(l.max_keys, 1000);
    assert_int_equal(l.nobjects, 2);
    assert_string_equal(l.objects[0].key, "photos/2024/cover.jpg");
    assert_string_equal(l.objects[0].etag, "\"9b2cf535f27731c974343645a3985328\"");
    assert_string_equal(l.objects[0].last_modified, "2024-03-01T10:15:42.000Z");
    assert_string_equal(l.objects[0].storage_class, "STANDARD");
    assert_int_equal(l.objects[0].size, 102400);
    assert_string_equal(l.objects[1].key, "photos/2024/video.mp4");
    assert_string_equal(l.objects[1].etag, "\"d41d8cd98f00b204e9800998ecf8427e-12\"");
    assert_string_equal(l.objects[1].storage_class, "INTELLIGENT_TIERING");
    assert_true(l.objects[1].size == INT64_C(6442450944)); /* past 32 bits */
    assert_int_equal(l.nprefixes, 2);
    assert_string_equal(l.common_prefixes[0], "photos/2024/january/");
    assert_string_equal(l.common_prefixes[1], "photos/2024/march/");
    s3_xml_list_cleanup(&l);
    assert_true(all_zero(&l, sizeof l));
}

static void test_list_aws_truncated(void **state)
{
    struct spoor_s3_list l;
    list_ok("aws_list_truncated.xml", &l);
    assert_true(l.is_truncated);
    assert_string_equal(l.next_continuation_token, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
    assert_string_equal(l.continuation_token,
                        "1w41l63U0xa8q7smH50vCxyTQqdxo69O3EmK28Bi5PcROI4wI/EyIJg==");
    assert_string_equal(l.start_after, "logs/2024-01-01.log");
    assert_int_equal(l.key_count, 2);
    assert_int_equal(l.max_keys, 2);
    assert_int_equal(l.nobjects, 2);
    assert_string_equal(l.objects[1].key, "logs/2024-01-03.log");
    assert_int_equal(l.objects[1].size, 0);
    assert_int_equal(l.nprefixes, 0);
    assert_null(l.common_prefixes);
    s3_xml_list_cleanup(&l);
}

/* The same four keys, encoded AWS's way (space as '+') and RGW's way (space as %20, '/' as %2F). */
static const char *const url_keys[] = {
    "dir one/my file.txt",
    "dir one/c++ notes",
    "dir one/100% done",
    "dir one/r\xC3\xA9sum\xC3\xA9 \xE2\x9C\x93.pdf",
};

static void test_list_aws_url(void **state)
{
    struct spoor_s3_list l;
    list_ok("aws_list_url.xml", &l);
    assert_int_equal(l.nobjects, 4);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(l.objects[i].key, url_keys[i]);
    assert_string_equal(l.prefix, "dir one/");
    assert_string_equal(l.delimiter, "/");
    assert_string_equal(l.start_after, "dir one/a b");
    assert_int_equal(l.nprefixes, 1);
    assert_string_equal(l.common_prefixes[0], "dir one/sub dir/");
    /* opaque: a base64 token keeps its '+' */
    assert_string_equal(l.next_continuation_token, "1Z+q8dF2/kd9Ab+cD==");
    s3_xml_list_cleanup(&l);
}

static void test_list_rgw_url(void **state)
{
    struct spoor_s3_list l;
    list_ok("rgw_list_url.xml", &l);
    assert_string_equal(l.name, "spoor-test");
    assert_int_equal(l.key_count, 5);
    assert_int_equal(l.nobjects, 4);
    /* RGW lists in byte order: "100%" < "c++" < "my" < "r\xC3" */
    assert_string_equal(l.objects[0].key, url_keys[2]);
    assert_string_equal(l.objects[1].key, url_keys[1]);
    assert_string_equal(l.objects[2].key, url_keys[0]);
    assert_string_equal(l.objects[3].key, url_keys[3]);
    assert_string_equal(l.objects[0].etag, "\"0cc175b9c0f1b6a831c399e269772661\"");
    assert_string_equal(l.objects[0].last_modified, "2026-11-21T21:25:46.160Z");
    assert_int_equal(l.objects[0].size, 1);
    assert_int_equal(l.nprefixes, 1);
    assert_string_equal(l.common_prefixes[0], "dir one/sub dir/");
    assert_string_equal(l.prefix, "dir one/"); /* echoed unencoded by RGW */
    s3_xml_list_cleanup(&l);
}

/* RGW echoes Prefix/StartAfter unencoded; "100%/" does not decode, so they are kept as sent. */
static void test_list_rgw_raw_echo(void **state)
{
    struct spoor_s3_list l;
    list_ok("rgw_list_url_echo.xml", &l);
    assert_string_equal(l.prefix, "c++ 100%/");
    assert_string_equal(l.start_after, "c++ 100%/a b+");
    assert_string_equal(l.delimiter, "/");
    assert_int_equal(l.nprefixes, 1);
    assert_string_equal(l.common_prefixes[0], "c++ 100%/sub dir+/");
    assert_true(l.is_truncated);
    assert_string_equal(l.next_continuation_token, "c++ 100%/sub dir+/");
    assert_int_equal(l.max_keys, 1);
    s3_xml_list_cleanup(&l);
}

static void test_list_rgw_paging(void **state)
{
    struct spoor_s3_list l;
    list_ok("rgw_list_truncated.xml", &l);
    assert_true(l.is_truncated);
    assert_string_equal(l.next_continuation_token, "abc");
    assert_null(l.continuation_token);
    assert_string_equal(l.prefix, "");
    assert_int_equal(l.nobjects, 3);
    assert_string_equal(l.objects[0].key, "a b");
    assert_string_equal(l.objects[1].key, "a.b");
    assert_string_equal(l.objects[2].key, "abc");
    s3_xml_list_cleanup(&l);

    list_ok("rgw_list_page2.xml", &l);
    assert_string_equal(l.continuation_token, "abc");
    assert_string_equal(l.start_after, "a");
    assert_string_equal(l.next_continuation_token, "dir one/c++ notes"); /* raw, not decoded */
    assert_int_equal(l.nobjects, 3);
    assert_string_equal(l.objects[0].key, "abc/d");
    assert_string_equal(l.objects[1].key, "dir one/100% done");
    assert_string_equal(l.objects[2].key, "dir one/c++ notes");
    s3_xml_list_cleanup(&l);
}

static void test_list_empty(void **state)
{
    static const char *const files[] = {"aws_list_empty.xml", "rgw_list_empty.xml"};
    for (size_t i = 0; i < 2; i++) {
        struct spoor_s3_list l;
        list_ok(files[i], &l);
        assert_int_equal(l.nobjects, 0);
        assert_null(l.objects);
        assert_int_equal(l.nprefixes, 0);
        assert_null(l.common_prefixes);
        assert_int_equal(l.key_count, 0);
        assert_int_equal(l.max_keys, 1000);
        assert_false(l.is_truncated);
        assert_null(l.next_continuation_token);
        assert_non_null(l.prefix);
        s3_xml_list_cleanup(&l);
    }
}

/* No namespace, a comment, a CDATA key, leading zeros, and a token that a complete listing
 * should not carry (dropped: next_continuation_token is NULL when not truncated). */
static void test_list_edges(void **state)
{
    static const char doc[] = "<ListBucketResult><!-- proxy --><Name>b</Name>"
                              "<IsTruncated>false</IsTruncated>"
                              "<NextContinuationToken>stale</NextContinuationToken>"
                              "<Contents><Key><![CDATA[a<b>&c]]></Key><Size>007</Size></Contents>"
                              "<Unknown><Nested>ignored</Nested></Unknown></ListBucketResult>";
    struct spoor_s3_list l;
    struct spoor_error err = {0};
    assert_int_equal(s3_xml_parse_list(doc, sizeof doc - 1, &l, &err), 0);
    assert_string_equal(l.name, "b");
    assert_null(l.next_continuation_token);
    assert_int_equal(l.nobjects, 1);
    assert_string_equal(l.objects[0].key, "a<b>&c");
    assert_int_equal(l.objects[0].size, 7);
    assert_null(l.objects[0].etag);
    assert_null(l.prefix);
    s3_xml_list_cleanup(&l);
}

/* ---- <Error> ------------------------------------------------------------------------------ */

static void error_file(const char *name, struct s3_xml_error *e)
{
    size_t len;
    char *body = load(name, &len);
    int rc = s3_xml_parse_error(body, len, e);
    free(body);
    if (rc)
        fail_msg("%s: %d", name, rc);
}

static void test_error_documents(void **state)
{
    struct s3_xml_error e;
    error_file("aws_error_nosuchkey.xml", &e);
    assert_string_equal(e.code, "NoSuchKey");
    assert_string_equal(e.message, "The specified key does not exist.");
    assert_string_equal(e.key, "reports/2024/q1.csv");
    assert_string_equal(e.request_id, "4442587FB7D0A2F9");
    assert_string_equal(e.bucket_name, "");

    error_file("aws_error_signature.xml", &e);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_true(strncmp(e.message, "The request signature we calculated", 35) == 0);
    assert_string_equal(e.request_id, "9GHGZ0XAKQ9E2B3C");

    error_file("rgw_error_nosuchkey.xml", &e);
    assert_string_equal(e.code, "NoSuchKey");
    assert_string_equal(e.message, "");
    assert_string_equal(e.bucket_name, "spoor-test");
    assert_string_equal(e.request_id, "tx000007c6428b3b5c9a7de-006b020c6f-100e-default");

    error_file("rgw_error_signature.xml", &e);
    assert_string_equal(e.code, "SignatureDoesNotMatch");
    assert_string_equal(e.request_id, "tx00000bb33b322119efb09-006b020c5c-100e-default");

    /* indented, with a blank line after the declaration */
    error_file("aws_complete_error_in_200.xml", &e);
    assert_string_equal(e.code, "InternalError");
    assert_string_equal(e.message, "We encountered an internal error. Please try again.");
}

static void test_error_not_an_error(void **state)
{
    size_t len;
    char *body = load("aws_list.xml", &len);
    struct s3_xml_error e;
    memset(&e, 0x5a, sizeof e);
    assert_int_equal(s3_xml_parse_error(body, len, &e), SPOOR_E_PARSE);
    assert_true(all_zero(&e, sizeof e));
    assert_int_equal(s3_xml_parse_error("", 0, &e), SPOOR_E_PARSE);
    free(body);
}

/* ---- multipart, copy, delete -------------------------------------------------------------- */

static void test_initiate(void **state)
{
    static const struct {
        const char *file, *id;
    } cases[] = {
        {"aws_initiate.xml", "VXBsb2FkIElEIGZvciA2aWWpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA--"},
        {"rgw_initiate.xml", "2~RqYuzcRIVFzKWUm7xRbt62qc6DL8H6P"},
    };
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        char *body = load(cases[i].file, &len), *id = NULL;
        struct spoor_error err = {0};
        assert_int_equal(s3_xml_parse_initiate(body, len, &id, &err), 0);
        assert_string_equal(id, cases[i].id);
        free(id);
        free(body);
    }
}

static void test_etag_results(void **state)
{
    static const struct {
        const char *file, *etag;
    } cases[] = {
        {"aws_complete.xml", "\"3858f62230ac3c915f300c664312c11f-9\""},
        {"rgw_complete_empty_etag.xml", ""},
        {"aws_copy.xml", "\"9b2cf535f27731c974343645a3985328\""},
        {"rgw_copy.xml", "0c62823571cff39c8dddcc6a74e2569f-2"},
        {"aws_copy_part.xml", "\"b54357faf0632cce46e942fa68356b38\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct s3_xml_error s3err;
        struct spoor_error err = {0};
        char *etag = etag_file(cases[i].file, 0, &s3err, &err);
        assert_non_null(etag);
        assert_string_equal(etag, cases[i].etag);
        assert_string_equal(s3err.code, "");
        free(etag);
    }
}

static void test_etag_error_in_200(void **state)
{
    struct s3_xml_error s3err;
    struct spoor_error err = {0};
    char *etag = etag_file("aws_complete_error_in_200.xml", SPOOR_E_S3, &s3err, &err);
    assert_null(etag);
    assert_string_equal(s3err.code, "InternalError");
    assert_string_equal(s3err.message, "We encountered an internal error. Please try again.");
    assert_string_equal(s3err.request_id, "656c76696e6727732072657175657374");
    assert_int_equal(err.code, SPOOR_E_S3);
    assert_string_equal(err.s3_code, "InternalError");
    assert_string_equal(err.request_id, "656c76696e6727732072657175657374");
    assert_non_null(strstr(err.message, "InternalError"));

    /* an error in a copy answer looks the same (RGW's NoSuchKey body) */
    size_t len;
    char *body = load("rgw_error_nosuchkey.xml", &len);
    assert_int_equal(s3_xml_parse_etag_result(body, len, &etag, &s3err, &err), SPOOR_E_S3);
    assert_null(etag);
    assert_string_equal(err.s3_code, "NoSuchKey");
    assert_string_equal(s3err.bucket_name, "spoor-test");
    free(body);
}

static void delete_file(const char *name, char ***deleted, size_t *nd,
                        struct spoor_s3_delete_error **errors, size_t *ne)
{
    size_t len;
    char *body = load(name, &len);
    struct spoor_error err = {0};
    int rc = s3_xml_parse_delete_result(body, len, deleted, nd, errors, ne, &err);
    free(body);
    if (rc)
        fail_msg("%s: %d %s", name, rc, err.message);
}

static void delete_free(char **deleted, size_t nd, struct spoor_s3_delete_error *errors, size_t ne)
{
    for (size_t i = 0; i < nd; i++)
        free(deleted[i]);
    free(deleted);
    for (size_t i = 0; i < ne; i++) {
        free(errors[i].key);
        free(errors[i].code);
        free(errors[i].message);
    }
    free(errors);
}

static void test_delete_results(void **state)
{
    char **deleted;
    struct spoor_s3_delete_error *errors;
    size_t nd, ne;

    delete_file("aws_delete.xml", &deleted, &nd, &errors, &ne);
    assert_int_equal(nd, 3);
    assert_string_equal(deleted[0], "logs/2024-01-01.log");
    assert_string_equal(deleted[1], "a&b <c> \"d\"");
    assert_string_equal(deleted[2], "versioned.txt");
    assert_int_equal(ne, 1);
    assert_string_equal(errors[0].key, "legal-hold/contract.pdf");
    assert_string_equal(errors[0].code, "AccessDenied");
    assert_string_equal(errors[0].message, "Access Denied");
    delete_free(deleted, nd, errors, ne);

    delete_file("rgw_delete.xml", &deleted, &nd, &errors, &ne);
    assert_int_equal(nd, 3);
    assert_string_equal(deleted[0], "never-existed");
    assert_string_equal(deleted[1], "a b");
    assert_string_equal(deleted[2], "abc");
    assert_int_equal(ne, 0);
    assert_null(errors);
    delete_free(deleted, nd, errors, ne);

    delete_file("aws_delete_quiet.xml", &deleted, &nd, &errors, &ne);
    assert_int_equal(nd, 0);
    assert_null(deleted);
    assert_int_equal(ne, 0);
    assert_null(errors);
}

/* ---- malformed and hostile answers: one table, one runner ---------------------------------- */

enum parser { P_LIST, P_ERROR, P_INITIATE, P_ETAG, P_DELETE };

static const struct bad_case {
    const char *file;
    enum parser parser;
    const char *needle; /* must appear in err.message */
} bad_cases[] = {
    {"bad_not_xml.txt", P_LIST, "not well-formed XML"},
    {"bad_not_xml.txt", P_ETAG, "not well-formed XML"},
    {"bad_html_gateway.html", P_LIST, "not well-formed XML"},
    {"bad_truncated.xml", P_LIST, "not well-formed XML"},
    {"bad_wrong_root.xml", P_LIST, "expected <ListBucketResult>, got <ListAllMyBucketsResult>"},
    {"aws_list.xml", P_INITIATE, "expected <InitiateMultipartUploadResult>"},
    {"aws_list.xml", P_ETAG, "expected <CompleteMultipartUploadResult>"},
    {"aws_error_nosuchkey.xml", P_LIST, "got <Error>"},
    {"aws_list.xml", P_DELETE, "expected <DeleteResult>"},
    {"bad_size_not_number.xml", P_LIST, "<Size> is not a number from 0 to"},
    {"bad_size_negative.xml", P_LIST, "<Size> is not a number"},
    {"bad_size_huge.xml", P_LIST, "<Size> is not a number"},
    {"bad_size_hex.xml", P_LIST, "\"0x10\""},
    {"bad_size_empty.xml", P_LIST, "<Size> is not a number"},
    {"bad_maxkeys_huge.xml", P_LIST, "<MaxKeys> is not a number from 0 to 2147483647"},
    {"bad_keycount_sign.xml", P_LIST, "<KeyCount> is not a number"},
    {"bad_url_escape.xml", P_LIST, "<Key> is not valid url-encoding: \"bad%zzkey\""},
    {"bad_url_escape_short.xml", P_LIST, "<Key> is not valid url-encoding"},
    {"bad_url_nul.xml", P_LIST, "<Prefix> is not valid url-encoding"},
    {"bad_encoding_type.xml", P_LIST, "unknown <EncodingType> \"base64\""},
    {"bad_truncated_flag.xml", P_LIST, "<IsTruncated> is not true or false"},
    {"bad_contents_no_key.xml", P_LIST, "<Contents> without <Key>"},
    {"bad_contents_no_size.xml", P_LIST, "<Contents> without <Size>"},
    {"bad_prefix_missing.xml", P_LIST, "<CommonPrefixes> without <Prefix>"},
    {"bad_key_element.xml", P_LIST, "<Key> holds an element"},
    {"bad_billion_laughs.xml", P_LIST, "S3 answer"},
    {"bad_xxe.xml", P_ERROR, NULL},
    {"bad_xxe.xml", P_ETAG, "DOCTYPE"},
    {"bad_entity_in_text.xml", P_ETAG, "DOCTYPE"},
    {"bad_initiate_no_id.xml", P_INITIATE, "without <UploadId>"},
    {"bad_delete_no_key.xml", P_DELETE, "<Deleted> without <Key>"},
    {"bad_delete_error_no_key.xml", P_DELETE, "<Error> without <Key>"},
};

/* Runs one parser on body; checks the error code and that every out-parameter is empty. */
static int run_parser(enum parser p, const char *body, size_t len, struct spoor_error *err)
{
    struct spoor_s3_list l;
    struct s3_xml_error e;
    char *s = (char *)1, **deleted = (char **)1;
    struct spoor_s3_delete_error *errors = (void *)1;
    size_t nd = 1, ne = 1;
    int rc = 0;
    switch (p) {
    case P_LIST:
        rc = s3_xml_parse_list(body, len, &l, err);
        assert_true(rc == 0 || all_zero(&l, sizeof l));
        if (rc == 0)
            s3_xml_list_cleanup(&l);
        return rc;
    case P_ERROR:
        rc = s3_xml_parse_error(body, len, &e);
        assert_true(rc == 0 || all_zero(&e, sizeof e));
        return rc;
    case P_INITIATE:
        rc = s3_xml_parse_initiate(body, len, &s, err);
        break;
    case P_ETAG:
        rc = s3_xml_parse_etag_result(body, len, &s, &e, err);
        assert_true(rc == 0 || all_zero(&e, sizeof e));
        break;
    case P_DELETE:
        rc = s3_xml_parse_delete_result(body, len, &deleted, &nd, &errors, &ne, err);
        assert_true(rc == 0 || (!deleted && !nd && !errors && !ne));
        if (rc == 0)
            delete_free(deleted, nd, errors, ne);
        return rc;
    }
    assert_true(rc == 0 || s == NULL);
    if (rc == 0)
        free(s);
    return rc;
}

static void test_malformed(void **state)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const struct bad_case *c = &bad_cases[i];
        size_t len;
        char *body = load(c->file, &len);
        struct spoor_error err = {0};
        int rc = run_parser(c->parser, body, len, &err);
        free(body);
        if (rc != SPOOR_E_PARSE)
            fail_msg("%s (parser %d): got %d, want SPOOR_E_PARSE", c->file, c->parser, rc);
        if (c->parser == P_ERROR)
            continue; /* s3_xml_parse_error has no error detail */
        assert_int_equal(err.code, SPOOR_E_PARSE);
        if (!strstr(err.message, c->needle))
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->file, err.message, c->needle);
    }
}

static void test_empty_and_oversized_bodies(void **state)
{
    for (enum parser p = P_LIST; p <= P_DELETE; p++) {
        struct spoor_error err = {0};
        assert_int_equal(run_parser(p, "", 0, &err), SPOOR_E_PARSE);
        assert_int_equal(run_parser(p, NULL, 0, &err), SPOOR_E_PARSE);
        if (p != P_ERROR)
            assert_non_null(strstr(err.message, "empty body"));
    }
    size_t big = S3_XML_MAX_BYTES + 1;
    char *body = calloc(1, big);
    assert_non_null(body);
    struct spoor_error err = {0};
    struct spoor_s3_list l;
    assert_int_equal(s3_xml_parse_list(body, big, &l, &err), SPOOR_E_TOO_LARGE);
    assert_true(all_zero(&l, sizeof l));
    assert_non_null(strstr(err.message, "limit"));
    free(body);
}

/* A body that is not NUL-terminated: the parser must stay within len. */
static void test_unterminated_body(void **state)
{
    static const char doc[] = "<InitiateMultipartUploadResult><UploadId>u-1</UploadId>"
                              "</InitiateMultipartUploadResult>";
    size_t len = sizeof doc - 1;
    char *body = malloc(len);
    assert_non_null(body);
    memcpy(body, doc, len);
    char *id = NULL;
    struct spoor_error err = {0};
    assert_int_equal(s3_xml_parse_initiate(body, len, &id, &err), 0);
    assert_string_equal(id, "u-1");
    free(id);
    assert_int_equal(s3_xml_parse_initiate(body, len - 1, &id, &err), SPOOR_E_PARSE);
    free(body);
}

/* ---- builders ----------------------------------------------------------------------------- */

/* Parses xml with libxml2 and returns the text of every element named name, in order. */
static size_t texts_of(const char *xml, size_t len, const char *name, char **out, size_t max)
{
    xmlDoc *doc = xmlReadMemory(xml, (int)len, NULL, NULL, XML_PARSE_NONET);
    assert_non_null(doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    assert_non_null(root->ns);
    assert_string_equal((const char *)root->ns->href, S3_NS);
    size_t n = 0;
    for (xmlNode *c = root->children; c; c = c->next) {
        for (xmlNode *g = c->children; g; g = g->next) {
            if (g->type == XML_ELEMENT_NODE && strcmp((const char *)g->name, name) == 0) {
                assert_true(n < max);
                xmlChar *t = xmlNodeGetContent(g);
                out[n++] = strdup((const char *)t);
                xmlFree(t);
            }
        }
    }
    xmlFreeDoc(doc);
    return n;
}

static void test_build_delete_bytes(void **state)
{
    const char *keys[] = {"a.txt", "x&y<z>\"q'"};
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(s3_xml_build_delete(&b, keys, 2, true), 0);
    assert_string_equal(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                "<Delete xmlns=\"" S3_NS "\"><Quiet>true</Quiet>"
                                "<Object><Key>a.txt</Key></Object>"
                                "<Object><Key>x&amp;y&lt;z&gt;&quot;q&apos;</Key></Object>"
                                "</Delete>");
    assert_int_equal(b.len, strlen(b.data));
    buf_reset(&b);
    assert_int_equal(s3_xml_build_delete(&b, keys, 1, false), 0);
    assert_string_equal(b.data, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                                "<Delete xmlns=\"" S3_NS "\">"
                                "<Object><Key>a.txt</Key></Object></Delete>");
    buf_cleanup(&b);
}

static void test_build_delete_roundtrip(void **state)
{
    const char *keys[] = {
        "dir one/my file.txt",
        "c++ 100%",
        "tab\there",
        "line\nbreak",
        "carriage\rreturn",
        "crlf\r\n",
        "r\xC3\xA9sum\xC3\xA9 \xE2\x9C\x93 \xF0\x9F\x90\xBE",
        "]]>",
        "&amp;",
        "//double//./slash",
        "  spaces  ",
    };
    size_t n = sizeof keys / sizeof keys[0];
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(s3_xml_build_delete(&b, keys, n, false), 0);
    char *got[16];
    assert_int_equal(texts_of(b.data, b.len, "Key", got, 16), n);
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(got[i], keys[i]);
        free(got[i]);
    }
    buf_cleanup(&b);
}

static void test_build_delete_refused(void **state)
{
    static const char *const bad[] = {
        "bell\a",           "unit-sep\x1f", "esc\x1b[0m", "", "\xC3",
        "\xC3\x28",         "\x80",         "\xC0\xAF", /* overlong '/' */
        "\xED\xA0\x80",                                 /* surrogate */
        "\xF4\x90\x80\x80",                             /* past U+10FFFF */
        "\xEF\xBF\xBE",                                 /* U+FFFE */
    };
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_append_str(&b, "before"), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *keys[] = {"fine", bad[i]};
        assert_int_equal(s3_xml_build_delete(&b, keys, 2, true), SPOOR_E_INVALID);
        assert_string_equal(b.data, "before");
    }
    const char *null_key[] = {NULL};
    assert_int_equal(s3_xml_build_delete(&b, null_key, 1, true), SPOOR_E_INVALID);
    assert_int_equal(s3_xml_build_delete(&b, null_key, 0, true), SPOOR_E_INVALID);
    const char **many = calloc(1001, sizeof *many);
    for (size_t i = 0; i < 1001; i++)
        many[i] = "k";
    assert_int_equal(s3_xml_build_delete(&b, many, 1001, true), SPOOR_E_INVALID);
    assert_int_equal(s3_xml_build_delete(&b, many, 1000, true), 0);
    free(many);
    assert_true(strncmp(b.data, "before<?xml", 11) == 0);
    buf_cleanup(&b);
}

static void test_build_ceiling(void **state)
{
    const char *keys[] = {"a-key-that-does-not-fit"};
    struct spoor_s3_part parts[] = {{1, "\"0cc175b9c0f1b6a831c399e269772661\""}};
    struct buf b;
    buf_init(&b, 100);
    assert_int_equal(buf_append_str(&b, "kept"), 0);
    assert_int_equal(s3_xml_build_delete(&b, keys, 1, true), SPOOR_E_TOO_LARGE);
    assert_string_equal(b.data, "kept");
    assert_int_equal(b.len, 4);
    assert_int_equal(s3_xml_build_complete(&b, parts, 1), SPOOR_E_TOO_LARGE);
    assert_string_equal(b.data, "kept");
    buf_cleanup(&b);
}

static void test_build_complete(void **state)
{
    struct spoor_s3_part parts[] = {
        {1, "\"0cc175b9c0f1b6a831c399e269772661\""},
        {2, "\"a&b\""},
        {10000, ""},
    };
    struct buf b;
    buf_init(&b, 1 << 20);
    assert_int_equal(s3_xml_build_complete(&b, parts, 2), 0);
    assert_string_equal(b.data, "<CompleteMultipartUpload xmlns=\"" S3_NS "\">"
                                "<Part><PartNumber>1</PartNumber>"
                                "<ETag>&quot;0cc175b9c0f1b6a831c399e269772661&quot;</ETag></Part>"
                                "<Part><PartNumber>2</PartNumber>"
                                "<ETag>&quot;a&amp;b&quot;</ETag></Part>"
                                "</CompleteMultipartUpload>");
    buf_reset(&b);
    assert_int_equal(s3_xml_build_complete(&b, parts, 3), 0);
    char *etags[4], *numbers[4];
    assert_int_equal(texts_of(b.data, b.len, "ETag", etags, 4), 3);
    assert_int_equal(texts_of(b.data, b.len, "PartNumber", numbers, 4), 3);
    for (size_t i = 0; i < 3; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d", parts[i].part_number);
        assert_string_equal(etags[i], parts[i].etag);
        assert_string_equal(numbers[i], want);
        free(etags[i]);
        free(numbers[i]);
    }
    buf_cleanup(&b);
}

static void test_build_complete_refused(void **state)
{
    struct spoor_s3_part bad[][1] = {
        {{0, "\"e\""}}, {{10001, "\"e\""}}, {{-1, "\"e\""}}, {{1, NULL}}, {{1, "\"e\x01\""}},
    };
    struct buf b;
    buf_init(&b, 1 << 20);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(s3_xml_build_complete(&b, bad[i], 1), SPOOR_E_INVALID);
        assert_int_equal(b.len, 0);
    }
    assert_int_equal(s3_xml_build_complete(&b, bad[0], 0), SPOOR_E_INVALID);
    buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_aws),
        cmocka_unit_test(test_list_aws_truncated),
        cmocka_unit_test(test_list_aws_url),
        cmocka_unit_test(test_list_rgw_url),
        cmocka_unit_test(test_list_rgw_raw_echo),
        cmocka_unit_test(test_list_rgw_paging),
        cmocka_unit_test(test_list_empty),
        cmocka_unit_test(test_list_edges),
        cmocka_unit_test(test_error_documents),
        cmocka_unit_test(test_error_not_an_error),
        cmocka_unit_test(test_initiate),
        cmocka_unit_test(test_etag_results),
        cmocka_unit_test(test_etag_error_in_200),
        cmocka_unit_test(test_delete_results),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_empty_and_oversized_bodies),
        cmocka_unit_test(test_unterminated_body),
        cmocka_unit_test(test_build_delete_bytes),
        cmocka_unit_test(test_build_delete_roundtrip),
        cmocka_unit_test(test_build_delete_refused),
        cmocka_unit_test(test_build_ceiling),
        cmocka_unit_test(test_build_complete),
        cmocka_unit_test(test_build_complete_refused),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    xmlCleanupParser();
    return rc;
}
