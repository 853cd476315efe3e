/*
 * test_router_rgw.c: the router against two independent Ceph RGW clusters (tests/run.sh
 * starts both, with different users and keys), the second laid out as a lakeFS gateway would
 * be: bucket = repository, keys under the branch "main/". Project "alpha" is routed there;
 * everything else stays on the first endpoint. The same listing tests run again with a local
 * `file` endpoint in place of the second cluster.
 *
 * What a user would check: keys come back exactly as written, whichever endpoint holds them;
 * a listing of data/ spans both endpoints, paged and resumed, each key once in byte order,
 * with objects hidden by a more specific route left out; each endpoint is reached with its
 * own credentials (requests signed with the other cluster's keys would be refused there);
 * a 20 MiB copy crosses endpoints; a write to a read-only route is refused without a request.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/router.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filestore.h"
#include "support/files.h"
#include "support/s3_env.h"
#include "util.h"

enum { LAKE_RGW, LAKE_FILE };

struct world {
    int lake_kind;
    char bucket[64]; /* the caller's bucket, on endpoint A */
    char repo[64];   /* the "repository" holding alpha: a bucket on B, or a directory */
    char dir[128];   /* temporary directory: routes file, file endpoint root, files */
    char routes[256];
    struct spoor_router *router;
    struct spoor_s3_engine *engine; /* direct clients, to look behind the router */
    struct spoor_s3_client *a, *b;
    struct filestore *fs;
};

static struct world W;

/* ---- helpers --------------------------------------------------------------------------- */

static int router_exec(const struct spoor_s3_op *op, struct spoor_s3_result *res,
                       struct spoor_error *err)
{
    return spoor_router_exec(W.router, op, res, err);
}

static void rok(const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    struct spoor_error err;
    int rc = router_exec(op, res, &err);
    if (rc)
        fail_msg("%s", err.message);
}

static void rput(const char *key, const char *body)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = W.bucket,
                             .key = key,
                             .body = {.data = body, .len = strlen(body)}};
    struct spoor_s3_result res;
    rok(&op, &res);
    spoor_s3_result_cleanup(&res);
}

static int direct(struct spoor_s3_client *c, const struct spoor_s3_op *op,
                  struct spoor_s3_result *res)
{
    struct spoor_error err;
    int rc = spoor_s3_exec(c, op, res, &err);
    if (rc && rc != SPOOR_E_S3)
        fail_msg("%s", err.message);
    return rc;
}

static bool exists_on(struct spoor_s3_client *c, const char *bucket, const char *key)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = bucket, .key = key};
    struct spoor_s3_result res;
    int rc = direct(c, &op, &res);
    spoor_s3_result_cleanup(&res);
    return rc == 0;
}

/* Runs op on the second endpoint directly: the other RGW, or the file store's directory. */
static int behind_b(const struct spoor_s3_op *op, struct spoor_s3_result *res)
{
    if (W.lake_kind == LAKE_RGW)
        return direct(W.b, op, res);
    struct spoor_error err;
    int rc = filestore_exec(W.fs, op, res, &err);
    if (rc && rc != SPOOR_E_S3)
        fail_msg("%s", err.message);
    return rc;
}

static bool exists_on_b(const char *key)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = W.repo, .key = key};
    struct spoor_s3_result res;
    int rc = behind_b(&op, &res);
    spoor_s3_result_cleanup(&res);
    return rc == 0;
}

static void write_routes(void)
{
    FILE *f = fopen(W.routes, "w");
    assert_non_null(f);
    fprintf(
        f,
        "{\"endpoints\": {\n"
        "  \"aws\": {\"type\": \"s3\", \"url\": \"%s\", \"addressing\": \"path\",\n"
        "           \"credentials\": {\"access_key_id_env\": \"SPOOR_TEST_S3_ACCESS_KEY\",\n"
        "                           \"secret_access_key_env\": \"SPOOR_TEST_S3_SECRET_KEY\"}},\n",
        getenv("SPOOR_TEST_S3_ENDPOINT"));
    if (W.lake_kind == LAKE_RGW)
        fprintf(
            f,
            "  \"lake\": {\"type\": \"lakefs\", \"url\": \"%s\",\n"
            "           \"credentials\": {\"access_key_id_env\": \"SPOOR_TEST_S3B_ACCESS_KEY\",\n"
            "                           \"secret_access_key_env\": "
            "\"SPOOR_TEST_S3B_SECRET_KEY\"}}\n",
            getenv("SPOOR_TEST_S3B_ENDPOINT"));
    else
        fprintf(f, "  \"lake\": {\"type\": \"file\", \"root\": \"%s/store\"}\n", W.dir);
    fprintf(f,
            "},\n\"routes\": [\n"
            "  {\"from\": \"s3://%s/data/alpha/\", \"to\": \"lake://%s/main/data/alpha/\"},\n"
            "  {\"from\": \"s3://golden-%s/\", \"to\": \"lake://%s/v1.2.0/golden/\", "
            "\"read_only\": true},\n"
            "  {\"from\": \"s3://*/\", \"to\": \"aws://*/\"}\n]}\n",
            W.bucket, W.repo, W.bucket, W.repo);
    fclose(f);
}

static int setup_world(int lake_kind)
{
    memset(&W, 0, sizeof W);
    W.lake_kind = lake_kind;
    struct spoor_s3_config ca, cb;
    s3_env_config(&ca);
    s3_env_config(&cb);
    const char *b_ep = getenv("SPOOR_TEST_S3B_ENDPOINT");
    if (!b_ep) {
        fprintf(stderr, "the router tests need the second RGW of tests/run.sh "
                        "(SPOOR_TEST_S3B_* variables)\n");
        return -1;
    }
    snprintf(cb.endpoint_url, sizeof cb.endpoint_url, "%s", b_ep);
    snprintf(cb.creds.access_key_id, sizeof cb.creds.access_key_id, "%s",
             getenv("SPOOR_TEST_S3B_ACCESS_KEY"));
    snprintf(cb.creds.secret_access_key, sizeof cb.creds.secret_access_key, "%s",
             getenv("SPOOR_TEST_S3B_SECRET_KEY"));
    s3_env_bucket_name(W.bucket, sizeof W.bucket, lake_kind == LAKE_RGW ? "burr-r" : "burr-f");
    s3_env_bucket_name(W.repo, sizeof W.repo, lake_kind == LAKE_RGW ? "alpha-r" : "alpha-f");
    snprintf(W.dir, sizeof W.dir, "%s/spoor-router-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(W.dir))
        return -1;
    snprintf(W.routes, sizeof W.routes, "%s/routes.json", W.dir);
    write_routes();
    W.engine = spoor_s3_engine_new(NULL, NULL);
    struct spoor_error err;
    W.a = spoor_s3_client_new(W.engine, &ca, &err);
    W.b = spoor_s3_client_new(W.engine, &cb, &err);
    struct spoor_router_opts opts = {.routes_path = W.routes};
    W.router = spoor_router_new(NULL, &opts, &err);
    if (!W.router) {
        fprintf(stderr, "router: %s\n", err.message);
        return -1;
    }
    struct spoor_s3_result res;
    struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = W.bucket};
    if (direct(W.a, &mk, &res) != 0)
        return -1;
    spoor_s3_result_cleanup(&res);
    if (lake_kind == LAKE_FILE) {
        char root[200];
        snprintf(root, sizeof root, "%s/store", W.dir);
        W.fs = filestore_new(NULL, root, "lake", &err);
        if (!W.fs)
            return -1;
    }
    mk.bucket = W.repo;
    if (behind_b(&mk, &res) != 0)
        return -1;
    spoor_s3_result_cleanup(&res);
    return 0;
}

static int setup_rgw(void **state)
{
    return setup_world(LAKE_RGW);
}

static int setup_file(void **state)
{
    return setup_world(LAKE_FILE);
}

static int teardown_world(void **state)
{
    if (W.router)
        spoor_router_close(W.router, NULL, NULL);
    if (W.engine)
        spoor_s3_engine_close(W.engine, NULL, NULL);
    spoor_s3_client_free(W.a);
    spoor_s3_client_free(W.b);
    filestore_free(W.fs);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", W.dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- the tests ------------------------------------------------------------------------- */

static const char *const alpha_keys[] = {
    "data/alpha/2026/11/21/20/52:58.951270/__none__/app-1/graph.json",
    "data/alpha/2026/11/21/20/52:59.971685/__none__/app-1/3ffe601c__log.jsonl",
    "data/alpha/2026/11/21/20/53:00.000001/user 7/app+2/a b%c.jsonl",
    "data/alpha/2026/11/21/21/00:00/__none__/app-3/metadata.json",
    "data/alpha/x//y/./z",
    "data/alpha/ünïcødé/ключ",
};
static const char *const beta_keys[] = {
    "data/alp",      "data/alpha-other/k", "data/alpha.dot/k", "data/alphaz",      "data/beta/a",
    "data/beta/b/c", "data/beta/b/d",      "data/beta/e e",    "data/gamma/1",     "data/gamma/2",
    "data/zeta",     "data/Alpha/upper",   "data/0first",      "data/beta/z+plus", "notdata/x",
};
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void seed(void)
{
    for (size_t i = 0; i < N(alpha_keys); i++)
        rput(alpha_keys[i], alpha_keys[i]);
    for (size_t i = 0; i < N(beta_keys); i++)
        rput(beta_keys[i], beta_keys[i]);
    /* An old copy left on the default endpoint under the rerouted prefix: shadowed. */
    struct spoor_s3_op stale = {.kind = SPOOR_S3_PUT_OBJECT,
                                .bucket = W.bucket,
                                .key = "data/alpha/stale-on-default",
                                .body = {.data = "x", .len = 1}};
    struct spoor_s3_result res;
    assert_int_equal(direct(W.a, &stale, &res), 0);
    spoor_s3_result_cleanup(&res);
}

/* Writes land where the routes say, with keys translated; reads give them back as written. */
static void test_write_route_read(void **state)
{
    seed();
    char where[1200];
    for (size_t i = 0; i < N(alpha_keys); i++) {
        snprintf(where, sizeof where, "main/%s", alpha_keys[i]);
        assert_true(exists_on_b(where));
        assert_false(exists_on(W.a, W.bucket, alpha_keys[i]));
    }
    for (size_t i = 0; i < N(beta_keys); i++)
        assert_true(exists_on(W.a, W.bucket, beta_keys[i]));
    const char *all[N(alpha_keys) + N(beta_keys)];
    memcpy(all, alpha_keys, sizeof alpha_keys);
    memcpy(all + N(alpha_keys), beta_keys, sizeof beta_keys);
    for (size_t i = 0; i < N(all); i++) {
        struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT, .bucket = W.bucket, .key = all[i]};
        struct spoor_s3_result res;
        rok(&get, &res);
        assert_int_equal(res.body_len, strlen(all[i]));
        assert_memory_equal(res.body, all[i], res.body_len);
        spoor_s3_result_cleanup(&res);
    }
}

/* Pages through a router listing; fails on any duplicate or order violation. */
static size_t list_pages(const char *prefix, const char *delimiter, const char *start_after,
                         int max_keys, char **out, size_t cap, int *pages)
{
    char *token = NULL;
    size_t n = 0;
    *pages = 0;
    do {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = W.bucket,
                                 .prefix = prefix,
                                 .delimiter = delimiter,
                                 .start_after = start_after,
                                 .max_keys = max_keys,
                                 .continuation_token = token};
        struct spoor_s3_result res;
        rok(&op, &res);
        free(token);
        token = NULL;
        (*pages)++;
        const struct spoor_s3_list *l = &res.list;
        assert_true(l->nobjects + l->nprefixes <= (size_t)max_keys);
        assert_string_equal(l->name, W.bucket);
        for (size_t i = 0; i < l->nobjects && n < cap; i++)
            out[n++] = strdup(l->objects[i].key);
        for (size_t i = 0; i < l->nprefixes && n < cap; i++)
            out[n++] = strdup(l->common_prefixes[i]);
        if (l->is_truncated) {
            assert_non_null(l->next_continuation_token);
            token = strdup(l->next_continuation_token);
        }
        spoor_s3_result_cleanup(&res);
        assert_true(*pages < 1000);
    } while (token);
    return n;
}

static void expect_listing(char **got, size_t n, const char **want, size_t nwant)
{
    for (size_t i = 0; i < n && i < nwant; i++)
        if (strcmp(got[i], want[i]) != 0)
            fail_msg("entry %zu: got \"%s\", want \"%s\"", i, got[i], want[i]);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++)
        free(got[i]);
}

static size_t expected_data_keys(const char **want, const char *after)
{
    size_t n = 0;
    for (size_t i = 0; i < N(alpha_keys); i++)
        if (!after || strcmp(alpha_keys[i], after) > 0)
            want[n++] = alpha_keys[i];
    for (size_t i = 0; i < N(beta_keys); i++)
        if (str_has_prefix(beta_keys[i], "data/") && (!after || strcmp(beta_keys[i], after) > 0))
            want[n++] = beta_keys[i];
    qsort(want, n, sizeof *want, cmp_str);
    return n;
}

/* A recursive listing of data/ spans both endpoints: merged in byte order, paged with
 * max-keys 7, the shadowed stale copy left out, each key exactly once. */
static void test_list_spanning_recursive(void **state)
{
    const char *want[64];
    char *got[64];
    int pages;
    size_t nwant = expected_data_keys(want, NULL);
    size_t n = list_pages("data/", NULL, NULL, 7, got, 64, &pages);
    assert_int_equal(pages, (int)((nwant + 6) / 7));
    expect_listing(got, n, want, nwant);

    /* StartAfter inside the rerouted range, and one before it. */
    const char *afters[] = {alpha_keys[2], "data/alp", "data/aaa", "data/beta/b/c"};
    for (size_t a = 0; a < N(afters); a++) {
        nwant = expected_data_keys(want, afters[a]);
        n = list_pages("data/", NULL, afters[a], 7, got, 64, &pages);
        expect_listing(got, n, want, nwant);
    }
}

/* With delimiter "/": the rerouted project is one common prefix beside the others. */
static void test_list_spanning_delimiter(void **state)
{
    const char *want[] = {"data/0first",     "data/Alpha/", "data/alp",    "data/alpha-other/",
                          "data/alpha.dot/", "data/alpha/", "data/alphaz", "data/beta/",
                          "data/gamma/",     "data/zeta"};
    char *got[32];
    int pages;
    size_t n = list_pages("data/", "/", NULL, 1000, got, 32, &pages);
    /* list_pages appends prefixes after keys per page; sort to compare as a set in order. */
    qsort(got, n, sizeof *got, cmp_str);
    expect_listing(got, n, want, N(want));
    n = list_pages("data/", "/", NULL, 3, got, 32, &pages);
    qsort(got, n, sizeof *got, cmp_str);
    expect_listing(got, n, want, N(want));
    assert_int_equal(pages, 4);
}

/* Inside the rerouted project: one endpoint, keys translated back, resumable pages. */
static void test_list_inside_route(void **state)
{
    const char *want[N(alpha_keys)];
    memcpy(want, alpha_keys, sizeof alpha_keys);
    qsort(want, N(want), sizeof *want, cmp_str);
    char *got[32];
    int pages;
    size_t n = list_pages("data/alpha/", NULL, NULL, 2, got, 32, &pages);
    expect_listing(got, n, want, N(want));
    assert_int_equal(pages, 3);

    struct spoor_s3_op bad = {.kind = SPOOR_S3_LIST_OBJECTS,
                              .bucket = W.bucket,
                              .prefix = "data/alpha/",
                              .continuation_token = "bm90LWEtdG9rZW4"};
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(router_exec(&bad, &res, &err), SPOOR_E_INVALID);
    assert_non_null(strstr(err.message, "continuation token"));
    spoor_s3_result_cleanup(&res);
}

/* Each endpoint is reached with its own keys: explain names them, and the requests above
 * could only have succeeded on the other cluster when signed with that cluster's keys. */
static void test_credentials_kept_apart(void **state)
{
    struct spoor_route_explain x;
    assert_int_equal(spoor_router_explain(W.router, W.bucket, "data/beta/a", &x), 0);
    assert_string_equal(x.endpoint, "aws");
    assert_non_null(strstr(x.credentials, "SPOOR_TEST_S3_ACCESS_KEY"));
    assert_null(strstr(x.credentials, "S3B"));
    assert_null(strstr(x.credentials, getenv("SPOOR_TEST_S3_SECRET_KEY")));
    assert_int_equal(spoor_router_explain(W.router, W.bucket, alpha_keys[0], &x), 0);
    assert_string_equal(x.endpoint, "lake");
    assert_int_equal(x.route_index, 0);
    char target[1200];
    snprintf(target, sizeof target, "lake://%s/main/%s", W.repo, alpha_keys[0]);
    assert_string_equal(x.target, target);
    if (W.lake_kind == LAKE_RGW) {
        assert_non_null(strstr(x.credentials, "SPOOR_TEST_S3B_ACCESS_KEY"));
        assert_string_equal(x.endpoint_type, "lakefs");
        assert_string_equal(x.region, "us-east-1");
        assert_null(strstr(x.endpoint_url, "/api/v1")); /* lakeFS: the server root */
    }
}

/* A write to a read-only route is refused before any request; nothing appears behind it. */
static void test_read_only_refused(void **state)
{
    char ro_bucket[80];
    snprintf(ro_bucket, sizeof ro_bucket, "golden-%s", W.bucket);
    struct spoor_s3_op put = {.kind = SPOOR_S3_PUT_OBJECT,
                              .bucket = ro_bucket,
                              .key = "g/1",
                              .body = {.data = "x", .len = 1}};
    struct spoor_error err;
    assert_int_equal(spoor_router_submit(W.router, &put, NULL, NULL, &err), SPOOR_E_READ_ONLY);
    assert_non_null(strstr(err.message, "read-only"));
    assert_non_null(strstr(err.message, "no request was sent"));
    struct spoor_s3_op del = {.kind = SPOOR_S3_DELETE_OBJECT, .bucket = ro_bucket, .key = "g/1"};
    assert_int_equal(spoor_router_submit(W.router, &del, NULL, NULL, &err), SPOOR_E_READ_ONLY);
    assert_false(exists_on_b("v1.2.0/golden/g/1"));
}

/* 20 MiB from the default endpoint to the rerouted project: a streamed multipart copy. */
static void test_copy_across_endpoints(void **state)
{
    char src[200], back[200];
    snprintf(src, sizeof src, "%s/big.bin", W.dir);
    snprintf(back, sizeof back, "%s/big.back", W.dir);
    write_random_file(src, 20 * 1024 * 1024 + 777, 0);
    struct spoor_s3_result res;
    struct spoor_error err;
    struct spoor_s3_meta meta[] = {{"tracker_id", "t-9"}};
    struct spoor_s3_upload_opts o = {.meta = meta, .nmeta = 1};
    assert_int_equal(
        spoor_router_upload_file_exec(W.router, W.bucket, "data/beta/big.bin", src, &o, &res, &err),
        0);
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op cp = {.kind = SPOOR_S3_COPY_OBJECT,
                             .bucket = W.bucket,
                             .key = "data/alpha/copied/big.bin",
                             .src_bucket = W.bucket,
                             .src_key = "data/beta/big.bin"};
    rok(&cp, &res);
    spoor_s3_result_cleanup(&res);
    assert_true(exists_on_b("main/data/alpha/copied/big.bin"));
    struct spoor_s3_op head = {
        .kind = SPOOR_S3_HEAD_OBJECT, .bucket = W.bucket, .key = "data/alpha/copied/big.bin"};
    rok(&head, &res);
    assert_int_equal(res.object_size, 20 * 1024 * 1024 + 777);
    assert_string_equal(spoor_s3_result_meta(&res, "tracker_id"), "t-9");
    spoor_s3_result_cleanup(&res);
    struct spoor_s3_op get = {.kind = SPOOR_S3_GET_OBJECT,
                              .bucket = W.bucket,
                              .key = "data/alpha/copied/big.bin",
                              .sink = {.path = back}};
    rok(&get, &res);
    spoor_s3_result_cleanup(&res);
    assert_true(files_equal(src, back));

    /* And a small one back the other way. */
    cp.key = "data/beta/from-alpha";
    cp.src_key = alpha_keys[1];
    rok(&cp, &res);
    spoor_s3_result_cleanup(&res);
    assert_true(exists_on(W.a, W.bucket, "data/beta/from-alpha"));
}

/* DeleteObjects across routes: split per endpoint, keys reported as the caller wrote them. */
static void test_delete_across_routes(void **state)
{
    const char *keys[] = {alpha_keys[4], beta_keys[9], "data/alpha/copied/big.bin"};
    struct spoor_s3_op del = {
        .kind = SPOOR_S3_DELETE_OBJECTS, .bucket = W.bucket, .keys = keys, .nkeys = 3};
    struct spoor_s3_result res;
    rok(&del, &res);
    assert_int_equal(res.ndeleted, 3);
    assert_int_equal(res.ndelete_errors, 0);
    for (size_t i = 0; i < 3; i++) {
        bool found = false;
        for (size_t j = 0; j < res.ndeleted; j++)
            found |= strcmp(res.deleted[j], keys[i]) == 0;
        assert_true(found);
    }
    spoor_s3_result_cleanup(&res);
    assert_false(exists_on_b("main/data/alpha/x//y/./z"));
    assert_false(exists_on(W.a, W.bucket, beta_keys[9]));
}

#define T(name) cmocka_unit_test(name)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_route_read),        T(test_list_spanning_recursive),
        T(test_list_spanning_delimiter), T(test_list_inside_route),
        T(test_credentials_kept_apart),  T(test_read_only_refused),
        T(test_copy_across_endpoints),   T(test_delete_across_routes),
    };
    int failed = cmocka_run_group_tests_name("router, second endpoint on RGW (lakeFS layout)",
                                             tests, setup_rgw, teardown_world);
    failed += cmocka_run_group_tests_name("router, second endpoint a file store", tests, setup_file,
                                          teardown_world);
    return failed;
}
