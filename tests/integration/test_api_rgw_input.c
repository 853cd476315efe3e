/*
 * test_api_rgw_input.c: spoor-server's HTTP API against what users send it, over HTTP, against
 * a real spoor-server process indexing the test RGW (the harness and seed of api_rgw.h): bad
 * ids, parameters, methods, bodies and annotation fields get 400/404/405/413 JSON naming the
 * problem (never 500) and store nothing; annotations round-trip (create, update, filters) and
 * survive a restart through the snapshot the first server took on SIGTERM; a bearer token
 * guards /ready, /metrics and /api while the UI's files stay public.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api_rgw.h"

/* ---- 9. bad input ---------------------------------------------------------------------- */

#define GOOD_ANN "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[],\"observations\":[]}"

static void test_bad_input(void **state)
{
    char longid[514], path[1200];
    static const struct {
        const char *method, *path, *body;
        long status;
        const char *word;
    } bad[] = {
        {"GET", "/api/v0/../__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/a%20b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/x%2Fy/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/a.b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/x%2Fy/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/a%20b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/../__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/a%01b/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/a%5Cb/apps", NULL, 400, NULL},
        {"GET", "/api/v0/nope/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/nope/big/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/" PROJECT_A "/nope/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/nothing/here/x/y/z", NULL, 404, NULL},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=0", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=abc", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=1001", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?offset=-1", NULL, 400, "offset"},
        {"GET", "/api/v0/indexing_jobs?filter_empty=maybe", NULL, 400, "filter_empty"},
        {"GET", "/api/v0/indexing_jobs?limit=0", NULL, 400, "limit"},
        {"GET", "/api/v0/indexing_jobs?offset=-1", NULL, 400, "offset"},
        {"GET", "/api/v0/" PROJECT_A "/annotations?step_sequence_id=x", NULL, 400,
         "step_sequence_id"},
        {"POST", "/api/v0/" PROJECT_A "/big/__none__/abc/annotations", GOOD_ANN, 400, NULL},
        {"POST", "/api/v0/" PROJECT_A "/big/__none__/-1/annotations", GOOD_ANN, 400, NULL},
        {"POST", "/api/v0/" PROJECT_A "/nope/__none__/0/annotations", GOOD_ANN, 404, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/abc/update_annotations", GOOD_ANN, 400, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/999999/update_annotations", GOOD_ANN, 404, NULL},
        {"POST", "/api/v0/projects", "{}", 405, NULL},
        {"DELETE", "/api/v0/projects", NULL, 405, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/__none__/apps", "{}", 405, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/__none__/5/annotations", NULL, 405, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/big/__none__/5/annotations", GOOD_ANN, 405, NULL},
        {"GET", "/api/v0/" PROJECT_A "/0/update_annotations", NULL, 405, NULL},
        {"POST", "/api/v0/" PROJECT_A "/annotations", GOOD_ANN, 405, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_ERROR(req(bad[i].method, bad[i].path, bad[i].body), bad[i].status, bad[i].word);
    /* Ids of up to 512 bytes are valid (300: well-formed and unknown), 513 are not. */
    static const struct {
        size_t len;
        long status;
    } lens[] = {{300, 404}, {513, 400}};
    for (size_t i = 0; i < 2; i++) {
        memset(longid, 'x', lens[i].len);
        longid[lens[i].len] = '\0';
        snprintf(path, sizeof path, "/api/v0/%s/__none__/apps", longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
        snprintf(path, sizeof path, "/api/v0/%s/%s/__none__/apps", PROJECT_A, longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
        snprintf(path, sizeof path, "/api/v0/%s/big/%s/apps", PROJECT_A, longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
    }

    /* Annotation bodies: the field at fault is named. */
    static const struct {
        const char *body, *word;
    } bodies[] = {
        {"not json{", NULL},
        {"", NULL},
        {"[]", NULL},
        {"{\"span_id\":null,\"tags\":[],\"observations\":[]}", "step_name"},
        {"{\"span_id\":null,\"step_name\":5,\"tags\":[],\"observations\":[]}", "step_name"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":\"x\",\"observations\":[]}", "tags"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[1],\"observations\":[]}", "tags"},
        {"{\"span_id\":7,\"step_name\":\"w\",\"tags\":[],\"observations\":[]}", "span_id"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":{}}", "observations"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "[],\"thumbs_up_thumbs_down\":null,\"data_pointers\":[]}]}",
         "data_fields"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":\"yes\",\"data_pointers\":[]}]}",
         "thumbs_up_thumbs_down"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":\"bogus\","
         "\"field_name\":\"n\",\"span_id\":null}]}]}",
         "type"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":\"attribute\","
         "\"span_id\":null}]}]}",
         "field_name"},
    };
    snprintf(path, sizeof path, "/api/v0/%s/big/__none__/5/annotations", PROJECT_A);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct http_res r =
            http_at(W.srv.port, "POST", path, NULL, bodies[i].body, strlen(bodies[i].body));
        snprintf(r.what, sizeof r.what, "POST annotation %.200s", bodies[i].body);
        EXPECT_ERROR(r, 400, bodies[i].word);
    }
    struct http_res r =
        req("PUT", "/api/v0/" PROJECT_A "/0/update_annotations", "{\"observations\":[]}");
    EXPECT_ERROR(r, 400, "step_name");
    size_t big = 2 * 1024 * 1024;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    memcpy(huge, "{\"step_name\":\"", 14);
    memcpy(huge + big - 2, "\"}", 2);
    huge[big] = '\0';
    r = http_at(W.srv.port, "POST", path, NULL, huge, big);
    free(huge);
    EXPECT_ERROR(r, 413, NULL);

    /* Nothing of that was stored. */
    r = getf("/api/v0/%s/annotations", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(json_is_array(j) && json_array_size(j) == 0, "annotations after bad input: %s", r.body);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 10. annotations, and their survival through the snapshot --------------------------- */

#define ANN1                                                                                       \
    "{\"span_id\":\"5:0\",\"step_name\":\"work\",\"tags\":[\"good\",\"reviewed\"],"                \
    "\"observations\":[{\"data_fields\":{\"note\":\"fine \xe2\x9c\x93\",\"score\":0.5,"            \
    "\"nested\":{\"k\":[1,2]}},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":"       \
    "\"state_field\",\"field_name\":\"n\",\"span_id\":null},{\"type\":\"attribute\","              \
    "\"field_name\":\"n\",\"span_id\":\"5:0\"}]}]}"
#define ANN2                                                                                       \
    "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[],\"observations\":[{\"data_fields\":"     \
    "{},\"thumbs_up_thumbs_down\":null,\"data_pointers\":[]}]}"
#define ANN3 "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[\"user\"],\"observations\":[]}"
#define ANN1_PUT                                                                                   \
    "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[\"changed\"],\"observations\":"            \
    "[{\"data_fields\":{\"note\":\"second look\"},\"thumbs_up_thumbs_down\":false,"                \
    "\"data_pointers\":[]}]}"
#define ANN2_PUT "{\"step_name\":\"work again\",\"observations\":[]}"

/* An AnnotationOut for body (AnnotationCreate/Update, defaults filled) on app/pk/seq. */
static void check_ann(json_t *out, const char *body, const char *app, const char *pk, int seq)
{
    char ctx[64];
    json_t *want = json_loads(body, 0, NULL);
    assert_non_null(want);
    if (!json_object_get(want, "span_id"))
        json_object_set_new(want, "span_id", json_null());
    if (!json_object_get(want, "tags"))
        json_object_set_new(want, "tags", json_array());
    snprintf(ctx, sizeof ctx, "annotation on %s/%d", app, seq);
    JF(out, "id", JK_INT, ctx);
    CHECK(streq(jstr(JF(out, "project_id", JK_STR, ctx)), PROJECT_A), "%s: project_id", ctx);
    CHECK(streq(jstr(JF(out, "app_id", JK_STR, ctx)), app), "%s: app_id", ctx);
    json_t *k = JF(out, "partition_key", JK_STR_NULL, ctx);
    CHECK(pk ? streq(jstr(k), pk) : json_is_null(k), "%s: partition_key %s", ctx, jtext(k));
    CHECK(json_integer_value(JF(out, "step_sequence_id", JK_INT, ctx)) == seq,
          "%s: step_sequence_id", ctx);
    JF(out, "created", JK_TIME, ctx);
    JF(out, "updated", JK_TIME, ctx);
    JF(out, "span_id", JK_STR_NULL, ctx);
    JF(out, "step_name", JK_STR, ctx);
    JF(out, "tags", JK_ARR, ctx);
    JF(out, "observations", JK_ARR, ctx);
    static const char *const echoed[] = {"span_id", "step_name", "tags", "observations"};
    for (size_t i = 0; i < 4; i++)
        CHECK(json_equal(json_object_get(out, echoed[i]), json_object_get(want, echoed[i])),
              "%s: %s is %s, want %s", ctx, echoed[i], jtext(json_object_get(out, echoed[i])),
              jtext(json_object_get(want, echoed[i])));
    CHECK(json_object_size(out) == 11, "%s: %zu fields, want 11", ctx, json_object_size(out));
    json_decref(want);
}

static json_t *ann_post(const char *app, const char *pk, int seq, const char *body)
{
    char path[300];
    snprintf(path, sizeof path, "/api/v0/%s/%s/%s/%d/annotations", PROJECT_A, app,
             pk ? pk : "__none__", seq);
    struct http_res r = req("POST", path, body);
    json_t *j = EXPECT_JSON(&r, 200);
    check_ann(j, body, app, pk, seq);
    res_free(&r);
    return j;
}

static json_t *ann_put(json_t *old, const char *body, const char *app, const char *pk, int seq)
{
    char path[300];
    json_int_t id = json_integer_value(json_object_get(old, "id"));
    snprintf(path, sizeof path, "/api/v0/%s/%lld/update_annotations", PROJECT_A, (long long)id);
    struct http_res r = req("PUT", path, body);
    json_t *j = EXPECT_JSON(&r, 200);
    check_ann(j, body, app, pk, seq);
    CHECK(json_integer_value(json_object_get(j, "id")) == id, "PUT changed the id");
    CHECK(json_equal(json_object_get(j, "created"), json_object_get(old, "created")),
          "PUT changed created: %s -> %s", jtext(json_object_get(old, "created")),
          jtext(json_object_get(j, "created")));
    const char *u0 = jstr(json_object_get(old, "updated")),
               *u1 = jstr(json_object_get(j, "updated"));
    CHECK(u0 && u1 && strcmp(u1, u0) > 0, "PUT: updated %s -> %s, want later", u0, u1);
    res_free(&r);
    return j;
}

/* GET annotations with query: the array (new), and it equals want (by id, whole objects). */
static json_t *ann_list(const char *query, json_t *const *want, size_t nwant)
{
    struct http_res r = getf("/api/v0/%s/annotations%s", PROJECT_A, query);
    json_t *j = EXPECT_JSON(&r, 200);
    bool same = json_is_array(j) && json_array_size(j) == nwant;
    for (size_t i = 0; same && i < nwant; i++)
        same = json_equal(json_array_get(j, i), want[i]);
    CHECK(same, "annotations%s: %zu, want %zu by id: %.600s", query, json_array_size(j), nwant,
          r.body);
    res_free(&r);
    return j;
}

static void test_annotations_survive_restart(void **state)
{
    json_t *a1 = ann_post("big", NULL, 5, ANN1);
    json_t *a2 = ann_post("big", NULL, 6, ANN2);
    json_t *a3 = ann_post("u1-a", "user_1", 0, ANN3);
    json_int_t i1 = json_integer_value(json_object_get(a1, "id"));
    json_int_t i2 = json_integer_value(json_object_get(a2, "id"));
    json_int_t i3 = json_integer_value(json_object_get(a3, "id"));
    CHECK(i1 < i2 && i2 < i3, "ids %lld %lld %lld do not increase", (long long)i1, (long long)i2,
          (long long)i3);
    sleep_ms(1100); /* "updated" must be able to differ even at a resolution of seconds */
    json_t *b1 = ann_put(a1, ANN1_PUT, "big", NULL, 5);
    json_t *b2 = ann_put(a2, ANN2_PUT, "big", NULL, 6);
    json_decref(a1), json_decref(a2);

    json_t *all[] = {b1, b2, a3}, *big[] = {b1, b2}, *u1[] = {a3};
    json_t *before = ann_list("", all, 3);
    json_decref(ann_list("?app_id=big", big, 2));
    json_decref(ann_list("?app_id=big&partition_key=__none__", big, 2));
    json_decref(ann_list("?partition_key=__none__", big, 2));
    json_decref(ann_list("?app_id=big&step_sequence_id=6", &b2, 1));
    json_decref(ann_list("?app_id=u1-a&partition_key=user_1", u1, 1));
    json_decref(ann_list("?partition_key=user_1", u1, 1));
    json_decref(ann_list("?step_sequence_id=0", u1, 1));
    json_decref(ann_list("?app_id=u1-a&partition_key=__none__", NULL, 0));
    json_decref(ann_list("?app_id=nope", NULL, 0));

    /* SIGTERM with a snapshot on exit; a second server with an empty root restores it. */
    int rc = server_stop(&W.srv);
    CHECK(rc == 0, "the first server exited with %d after SIGTERM", rc);
    const char *extra[] = {"BURR_LOAD_SNAPSHOT_ON_START=true", NULL};
    server_start(&W.srv, "restored", extra, NULL);
    CHECK(log_has(&W.srv, "restored snapshot"), "the second server restored no snapshot");
    json_t *after = ann_list("", all, 3);
    CHECK(json_equal(before, after), "annotations changed across the restart");
    json_decref(ann_list("?app_id=big&step_sequence_id=5", &b1, 1));
    json_decref(before), json_decref(after);
    json_decref(b1), json_decref(b2), json_decref(a3);
    if (W.failed)
        print_log_tail(&W.srv);
    checks_done();
}

/* ---- 11. bearer token ------------------------------------------------------------------ */

static void test_token(void **state)
{
    const char *extra[] = {"BURR_LOAD_SNAPSHOT_ON_START=false", NULL};
    server_start(&W.guard, "token", extra, TOKEN);
    static const char *const paths[] = {"/api/v0/projects", "/metrics", "/ready",
                                        "/api/v0/metadata/app_spec", "/api/v0/indexing_jobs"};
    const char *none[] = {NULL}, *wrong[] = {"Authorization: Bearer wrong", NULL},
               *other[] = {"Authorization: Basic c2VjcmV0", NULL},
               *right[] = {"Authorization: Bearer " TOKEN, NULL};
    const char *const *denied[] = {none, wrong, other};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (size_t d = 0; d < 3; d++) {
            struct http_res r = http_at(W.guard.port, "GET", paths[i], denied[d], NULL, 0);
            char wa[200];
            snprintf(r.what, sizeof r.what, "GET %s with %s", paths[i],
                     denied[d][0] ? denied[d][0] : "no Authorization");
            const char *h = header(&r, "WWW-Authenticate", wa, sizeof wa);
            CHECK(h && strncmp(h, "Bearer", 6) == 0, "%s: WWW-Authenticate %s", r.what,
                  h ? h : "(none)");
            EXPECT_ERROR(r, 401, NULL);
        }
        struct http_res r = http_at(W.guard.port, "GET", paths[i], right, NULL, 0);
        CHECK(r.status == 200, "GET %s with the token: %ld %.200s", paths[i], r.status, r.body);
        res_free(&r);
    }
    struct http_res r = http_at(W.guard.port, "GET", "/", NULL, NULL, 0);
    CHECK(r.status != 401, "the UI's index is not public: %ld", r.status);
    res_free(&r);
    int rc = server_stop(&W.guard);
    CHECK(rc == 0, "the token server exited with %d after SIGTERM", rc);
    checks_done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_seed_and_index, test_setup),
        cmocka_unit_test_setup(test_bad_input, test_setup),
        cmocka_unit_test_setup(test_annotations_survive_restart, test_setup),
        cmocka_unit_test_setup(test_token, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
