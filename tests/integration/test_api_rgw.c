/*
 * test_api_rgw.c: spoor-server's HTTP API (server/api.h, burr-compat.md sections 2, 5 and 6)
 * over HTTP, against a real spoor-server process indexing a real Ceph RGW on 127.0.0.1
 * (started by tests/run.sh), with data written the way applications write it: by the tracker
 * (spoor/tracker.h) into a bucket of its own (the harness and seed are in api_rgw.h).
 *
 * What a user of the UI or of the API checks: every endpoint answers with Burr's models field
 * by field (names and JSON types, datetimes as ISO 8601 strings); partitions and pages of
 * applications; a 1,000-step application with spans, nested spans, attributes, a stream and a
 * failing step comes back whole and in order; fork and spawn pointers appear on the child and
 * as children of the parent; state values come back byte for byte (unicode, "0.1"); ETags
 * answer 304 and change when new steps are indexed; indexing jobs and /metrics. Bad input,
 * annotations and the token: test_api_rgw_input.c.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api_rgw.h"

/* ---- 2. service endpoints -------------------------------------------------------------- */

static void test_service_endpoints(void **state)
{
    struct http_res r = getf("/ready");
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(json_is_true(JF(j, "ready", JK_BOOL, "/ready")), "/ready: %s", r.body);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/ready");
    j = EXPECT_JSON(&r, 200);
    CHECK(json_is_true(j), "/api/v0/ready is %s, want true", r.body);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/version");
    j = EXPECT_JSON(&r, 200);
    const char *v = jstr(JF(j, "version", JK_STR, "version"));
    CHECK(v && *v, "version is empty");
    json_decref(j), res_free(&r);

    r = getf("/api/v0/metadata/app_spec");
    j = EXPECT_JSON(&r, 200);
    static const struct {
        const char *name;
        bool want;
    } spec[] = {{"indexing", true},
                {"snapshotting", true},
                {"supports_demos", false},
                {"supports_annotations", true}};
    for (size_t i = 0; i < 4; i++) {
        json_t *f = JF(j, spec[i].name, JK_BOOL, "app_spec");
        CHECK(f && json_is_true(f) == spec[i].want, "app_spec.%s is %s", spec[i].name, jtext(f));
    }
    CHECK(json_object_size(j) == 4, "app_spec has %zu fields, want 4: %s", json_object_size(j),
          r.body);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 3. projects ----------------------------------------------------------------------- */

static void test_projects(void **state)
{
    struct http_res r = getf("/api/v0/projects");
    json_t *j = EXPECT_JSON(&r, 200), *p;
    CHECK(json_is_array(j), "projects is not an array: %.200s", r.body);
    size_t i;
    const char *prev = NULL;
    json_array_foreach(j, i, p)
    {
        const char *name = jstr(JF(p, "name", JK_STR, "project"));
        CHECK(streq(jstr(JF(p, "id", JK_STR, "project")), name), "project %s: id differs", name);
        const char *lw = jstr(JF(p, "last_written", JK_TIME, "project"));
        JF(p, "created", JK_TIME, "project");
        JF(p, "num_apps", JK_INT, "project");
        JF(p, "uri", JK_STR, "project");
        CHECK(!prev || !lw || strcmp(prev, lw) >= 0, "projects not newest first: %s before %s",
              prev, lw);
        prev = lw;
    }
    CHECK(json_array_size(j) == 2, "%zu projects, want 2", json_array_size(j));
    static const struct {
        const char *name;
        int apps;
    } want[] = {{PROJECT_A, (int)NAPPS_A}, {PROJECT_B, NPAGED}};
    for (size_t k = 0; k < 2; k++) {
        p = find_by(j, "name", want[k].name);
        CHECK(p != NULL, "project %s missing", want[k].name);
        char uri[200];
        snprintf(uri, sizeof uri, "s3://%s/data/%s/", W.bucket, want[k].name);
        CHECK(json_integer_value(json_object_get(p, "num_apps")) == want[k].apps,
              "%s: num_apps %s, want %d", want[k].name, jtext(json_object_get(p, "num_apps")),
              want[k].apps);
        CHECK(streq(jstr(json_object_get(p, "uri")), uri), "%s: uri %s, want %s", want[k].name,
              jtext(json_object_get(p, "uri")), uri);
    }
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 4. applications: partitions, summaries, pages ------------------------------------- */

/* A PointerModel: {"type":"pointer_data","app_id","sequence_id","partition_key"}. */
static void check_pointer(json_t *p, const char *ctx, const char *app_id, const char *pk,
                          int64_t seq)
{
    CHECK(streq(jstr(JF(p, "type", JK_STR, ctx)), "pointer_data"), "%s.type", ctx);
    CHECK(streq(jstr(JF(p, "app_id", JK_STR, ctx)), app_id), "%s.app_id is not %s", ctx, app_id);
    json_t *s = JF(p, "sequence_id", JK_INT_NULL, ctx);
    CHECK(json_integer_value(s) == seq, "%s.sequence_id %s, want %lld", ctx, jtext(s),
          (long long)seq);
    json_t *k = JF(p, "partition_key", JK_STR_NULL, ctx);
    CHECK(pk ? streq(jstr(k), pk) : json_is_null(k), "%s.partition_key %s", ctx, jtext(k));
}

/* An ApplicationSummary's fields and types; its app_id. */
static const char *check_summary(json_t *s)
{
    const char *id = jstr(JF(s, "app_id", JK_STR, "summary"));
    char ctx[80];
    snprintf(ctx, sizeof ctx, "summary %s", id ? id : "?");
    JF(s, "partition_key", JK_STR_NULL, ctx);
    const char *fw = jstr(JF(s, "first_written", JK_TIME, ctx));
    const char *lw = jstr(JF(s, "last_written", JK_TIME, ctx));
    CHECK(!fw || !lw || strcmp(fw, lw) <= 0, "%s: first_written %s after last_written %s", ctx, fw,
          lw);
    JF(s, "num_steps", JK_INT, ctx);
    json_t *tags = JF(s, "tags", JK_OBJ, ctx);
    CHECK(json_object_size(tags) == 0, "%s: tags %s, want {}", ctx, jtext(tags));
    JF(s, "parent_pointer", JK_OBJ_NULL, ctx);
    JF(s, "spawning_parent_pointer", JK_OBJ_NULL, ctx);
    return id;
}

/* An ApplicationPage with nrows rows of total, has_another_page more; its applications. */
static json_t *check_page(json_t *page, const char *ctx, size_t nrows, int total, bool more)
{
    json_t *apps = JF(page, "applications", JK_ARR, ctx);
    json_t *t = JF(page, "total", JK_INT, ctx), *m = JF(page, "has_another_page", JK_BOOL, ctx);
    CHECK(json_array_size(apps) == nrows, "%s: %zu applications, want %zu", ctx,
          json_array_size(apps), nrows);
    CHECK(json_integer_value(t) == total, "%s: total %s, want %d", ctx, jtext(t), total);
    CHECK(m && json_is_true(m) == more, "%s: has_another_page %s", ctx, jtext(m));
    CHECK(json_object_size(page) == 3, "%s: %zu fields, want 3", ctx, json_object_size(page));
    const char *prev = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(apps, i, s)
    {
        check_summary(s);
        const char *lw = jstr(json_object_get(s, "last_written"));
        CHECK(!prev || !lw || strcmp(prev, lw) >= 0, "%s: not newest first (%s before %s)", ctx,
              prev, lw);
        prev = lw;
    }
    return apps;
}

static void test_apps_partitions(void **state)
{
    struct http_res r = getf("/api/v0/%s/user_1/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200), *s;
    json_t *apps = check_page(j, "user_1 page", 3, 3, false);
    size_t i;
    json_array_foreach(apps, i, s)
    {
        const char *id = jstr(json_object_get(s, "app_id"));
        CHECK(id && strncmp(id, "u1-", 3) == 0, "user_1 lists %s", id);
        CHECK(streq(jstr(json_object_get(s, "partition_key")), "user_1"), "%s: partition_key %s",
              id, jtext(json_object_get(s, "partition_key")));
    }
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    apps = check_page(j, "__none__ page", NAPPS_A, NAPPS_A, false);
    for (size_t k = 0; k < NAPPS_A; k++) {
        const struct seed_app *a = &APPS_A[k];
        s = find_by(apps, "app_id", a->id);
        CHECK(s != NULL, "__none__ does not list %s", a->id);
        if (!s)
            continue;
        char ctx[80];
        json_t *pk = json_object_get(s, "partition_key");
        CHECK(a->pk ? streq(jstr(pk), a->pk) : json_is_null(pk), "%s: partition_key %s", a->id,
              jtext(pk));
        CHECK(json_integer_value(json_object_get(s, "num_steps")) == a->nsteps,
              "%s: num_steps %s, want %d", a->id, jtext(json_object_get(s, "num_steps")),
              a->nsteps);
        json_t *pp = json_object_get(s, "parent_pointer");
        json_t *sp = json_object_get(s, "spawning_parent_pointer");
        snprintf(ctx, sizeof ctx, "%s.parent_pointer", a->id);
        if (a->parent)
            check_pointer(pp, ctx, "big", NULL, a->parent->sequence_id);
        else
            CHECK(json_is_null(pp), "%s is %s, want null", ctx, jtext(pp));
        snprintf(ctx, sizeof ctx, "%s.spawning_parent_pointer", a->id);
        if (a->spawn)
            check_pointer(sp, ctx, "big", NULL, a->spawn->sequence_id);
        else
            CHECK(json_is_null(sp), "%s is %s, want null", ctx, jtext(sp));
    }
    json_decref(j), res_free(&r);
    checks_done();
}

static void test_apps_paging(void **state)
{
    static const struct {
        int offset;
        size_t rows;
        bool more;
    } pages[] = {{0, 10, true}, {10, 10, true}, {20, 5, false}};
    char seen[NPAGED] = {0};
    const char *floor_lw = NULL;
    json_t *keep[3] = {NULL};
    for (size_t p = 0; p < 3; p++) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "page offset=%d", pages[p].offset);
        struct http_res r =
            getf("/api/v0/%s/__none__/apps?limit=10&offset=%d", PROJECT_B, pages[p].offset);
        keep[p] = EXPECT_JSON(&r, 200);
        json_t *apps = check_page(keep[p], ctx, pages[p].rows, NPAGED, pages[p].more), *s;
        size_t i;
        json_array_foreach(apps, i, s)
        {
            const char *id = jstr(json_object_get(s, "app_id"));
            int n = id && strncmp(id, "page-", 5) == 0 ? atoi(id + 5) : -1;
            CHECK(n >= 0 && n < NPAGED, "%s lists %s", ctx, id);
            if (n >= 0 && n < NPAGED) {
                CHECK(!seen[n], "%s: %s was on an earlier page too", ctx, id);
                seen[n] = 1;
                json_t *pk = json_object_get(s, "partition_key");
                CHECK(n % 2 ? streq(jstr(pk), "p_odd") : json_is_null(pk), "%s: partition_key %s",
                      id, jtext(pk));
            }
            const char *lw = jstr(json_object_get(s, "last_written"));
            CHECK(!floor_lw || !lw || strcmp(floor_lw, lw) >= 0,
                  "%s: %s written %s, after the previous page's last %s", ctx, id, lw, floor_lw);
            if (i + 1 == json_array_size(apps))
                floor_lw = lw;
        }
        res_free(&r);
    }
    int nseen = 0;
    for (int i = 0; i < NPAGED; i++)
        nseen += seen[i];
    CHECK(nseen == NPAGED, "the three pages list %d distinct apps, want %d", nseen, NPAGED);
    for (size_t p = 0; p < 3; p++)
        json_decref(keep[p]);

    struct http_res r = getf("/api/v0/%s/__none__/apps", PROJECT_B); /* limit 100 by default */
    json_t *j = EXPECT_JSON(&r, 200);
    check_page(j, "default limit", NPAGED, NPAGED, false);
    json_decref(j), res_free(&r);
    r = getf("/api/v0/%s/p_odd/apps?limit=5&offset=10", PROJECT_B);
    j = EXPECT_JSON(&r, 200);
    check_page(j, "p_odd offset=10", 2, NPAGED / 2, false);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 5. the application view ----------------------------------------------------------- */

enum cat { C_ORDER, C_START, C_END, C_EXC, C_SPANS, C_NESTED, C_ATTRS, C_STREAMS, NCAT };
static const char *const CAT_NAME[NCAT] = {"order",      "step_start_log",  "step_end_log",
                                           "exception",  "spans",           "nested spans",
                                           "attributes", "streaming_events"};
struct tally {
    int bad[NCAT], first[NCAT];
    char why[NCAT][200];
};

static void tally(struct tally *t, enum cat c, int step, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void tally(struct tally *t, enum cat c, int step, bool ok, const char *fmt, ...)
{
    if (ok || t->bad[c]++)
        return;
    t->first[c] = step;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why[c], sizeof t->why[c], fmt, ap);
    va_end(ap);
}

static bool sv(json_t *o, const char *name, const char *want)
{
    return streq(jstr(json_object_get(o, name)), want);
}

static bool iv(json_t *o, const char *name, json_int_t want)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) && json_integer_value(v) == want;
}

static bool tv(json_t *o, const char *name)
{
    return jk_is(json_object_get(o, name), JK_TIME);
}

/* A span of step s: begin_span/end_span with span_id id, name, parent (NULL: null). */
static bool span_ok(json_t *sp, int s, const char *id, const char *name, const char *parent)
{
    json_t *b = json_object_get(sp, "begin_entry"), *e = json_object_get(sp, "end_entry");
    json_t *par = json_object_get(b, "parent_span_id");
    return sv(b, "type", "begin_span") && tv(b, "start_time") && iv(b, "action_sequence_id", s) &&
           sv(b, "span_id", id) && sv(b, "span_name", name) &&
           (parent ? streq(jstr(par), parent) : json_is_null(par)) &&
           json_is_array(json_object_get(b, "span_dependencies")) && sv(e, "type", "end_span") &&
           tv(e, "end_time") && iv(e, "action_sequence_id", s) && sv(e, "span_id", id);
}

/* Step s of the big app as big_step() logged it. */
static void check_big_step(json_t *st, int s, struct tally *t)
{
    char in[32], id[32], nid[32];
    const char *action = s == 7 ? "fail" : "work";
    snprintf(id, sizeof id, "%d:0", s);
    snprintf(nid, sizeof nid, "%d:0.0", s);
    json_t *b = json_object_get(st, "step_start_log"), *e = json_object_get(st, "step_end_log");
    tally(t, C_ORDER, s, iv(b, "sequence_id", s), "steps[%d] has sequence_id %s", s,
          jtext(json_object_get(b, "sequence_id")));
    char *inputs = json_dumps(json_object_get(b, "inputs"), JSON_COMPACT);
    snprintf(in, sizeof in, "{\"i\":%d}", s);
    tally(t, C_START, s,
          sv(b, "type", "begin_entry") && tv(b, "start_time") && sv(b, "action", action) &&
              streq(inputs, in) && json_object_size(st) == 5,
          "%s", jtext(b));
    free(inputs);
    json_t *res = json_object_get(e, "result"), *state = json_object_get(e, "state");
    tally(t, C_END, s,
          sv(e, "type", "end_entry") && tv(e, "end_time") && sv(e, "action", action) &&
              iv(e, "sequence_id", s) && iv(state, "n", s) &&
              (s == 7 ? json_is_null(res) : iv(res, "n", s)),
          "%s", jtext(e));
    json_t *exc = json_object_get(e, "exception");
    tally(t, C_EXC, s, s == 7 ? streq(jstr(exc), BOOM) : json_is_null(exc), "exception %s",
          jtext(exc));
    json_t *spans = json_object_get(st, "spans");
    bool nested = s % 100 == 50;
    tally(t, C_SPANS, s,
          json_array_size(spans) == (nested ? 2u : 1u) &&
              span_ok(json_array_get(spans, 0), s, id, "work.inner", NULL),
          "%s", jtext(spans));
    if (nested)
        tally(t, C_NESTED, s, span_ok(json_array_get(spans, 1), s, nid, "nested", id), "%s",
              jtext(json_array_get(spans, 1)));
    json_t *attrs = json_object_get(st, "attributes"), *a = json_array_get(attrs, 0);
    tally(t, C_ATTRS, s,
          json_array_size(attrs) == 1 && sv(a, "type", "attribute") && sv(a, "key", "n") &&
              iv(a, "action_sequence_id", s) && sv(a, "span_id", id) && iv(a, "value", s) &&
              sv(json_object_get(a, "tags"), "unit", "count") && tv(a, "time_logged"),
          "%s", jtext(attrs));
    json_t *ev = json_object_get(st, "streaming_events");
    bool streams_ok = json_is_array(ev) && json_array_size(ev) == (s == 3 ? 3u : 0u);
    if (s == 3 && streams_ok) {
        json_t *e0 = json_array_get(ev, 0), *e1 = json_array_get(ev, 1),
               *e2 = json_array_get(ev, 2);
        streams_ok = sv(e0, "type", "begin_stream") && tv(e0, "stream_init_time") &&
                     iv(e0, "action_sequence_id", 3) && sv(e1, "type", "first_item_stream") &&
                     tv(e1, "first_item_time") && sv(e2, "type", "end_stream") &&
                     tv(e2, "end_time") && iv(e2, "items_streamed", 5);
    }
    tally(t, C_STREAMS, s, streams_ok, "%s", jtext(ev));
}

/* The top of an ApplicationLogs: application equal to GRAPH, the five fields. */
static void check_logs_top(json_t *j, const char *ctx)
{
    json_t *app = JF(j, "application", JK_OBJ, ctx);
    json_t *graph = json_loads(GRAPH, 0, NULL);
    CHECK(json_equal(app, graph), "%s: application is not the graph written: %s", ctx, jtext(app));
    json_decref(graph);
    CHECK(sv(app, "type", "application") && sv(app, "entrypoint", "work"), "%s: application", ctx);
    json_t *acts = json_object_get(app, "actions"), *tr = json_object_get(app, "transitions");
    CHECK(json_array_size(acts) == 2 && sv(json_array_get(acts, 1), "name", "fail") &&
              sv(json_array_get(tr, 0), "from_", "work") &&
              sv(json_array_get(tr, 0), "condition", "n == 7"),
          "%s: actions/transitions %s %s", ctx, jtext(acts), jtext(tr));
    JF(j, "children", JK_ARR, ctx);
    JF(j, "steps", JK_ARR, ctx);
    JF(j, "parent_pointer", JK_OBJ_NULL, ctx);
    JF(j, "spawning_parent_pointer", JK_OBJ_NULL, ctx);
    CHECK(json_object_size(j) == 5, "%s: %zu fields, want 5", ctx, json_object_size(j));
}

static void test_app_view_big(void **state)
{
    int64_t t0 = now_ms();
    struct http_res r = getf("/api/v0/%s/big/__none__/apps", PROJECT_A);
    int64_t took = now_ms() - t0;
    json_t *j = EXPECT_JSON(&r, 200);
    print_message("app view of %d steps: %zu bytes in %lld ms\n", BIG_STEPS, r.len,
                  (long long)took);
    check_logs_top(j, "big");
    json_t *steps = json_object_get(j, "steps");
    CHECK(json_array_size(steps) == BIG_STEPS, "big: %zu steps, want %d", json_array_size(steps),
          BIG_STEPS);
    struct tally t;
    memset(&t, 0, sizeof t);
    for (int s = 0; s < BIG_STEPS && s < (int)json_array_size(steps); s++)
        check_big_step(json_array_get(steps, (size_t)s), s, &t);
    for (int c = 0; c < NCAT; c++)
        CHECK(t.bad[c] == 0, "big: %s wrong in %d steps; first step %d: %s", CAT_NAME[c], t.bad[c],
              t.first[c], t.why[c]);
    CHECK(json_is_null(json_object_get(j, "parent_pointer")) &&
              json_is_null(json_object_get(j, "spawning_parent_pointer")),
          "big: pointers should be null");
    /* Events embedded verbatim: Burr's field order, type first. */
    CHECK(r.body && strstr(r.body, "\"step_start_log\":{\"type\":\"begin_entry\",\"start_time\":"),
          "big: step_start_log is not the logged line verbatim");
    CHECK(r.body && strstr(r.body, "\"exception\":\"Traceback (most recent call last):\\n"),
          "big: the exception text is not verbatim");
    json_decref(j), res_free(&r);
    checks_done();
}

/* A ChildApplicationModel of big. */
static void check_child(json_t *children, const char *app_id, const char *event, int64_t seq)
{
    json_t *c = NULL, *e;
    size_t i;
    json_array_foreach(children, i, e)
    {
        if (streq(jstr(json_object_get(json_object_get(e, "child"), "app_id")), app_id))
            c = e;
    }
    CHECK(c != NULL, "big's children do not list %s: %s", app_id, jtext(children));
    if (!c)
        return;
    char ctx[64];
    snprintf(ctx, sizeof ctx, "child %s", app_id);
    CHECK(sv(c, "type", "child_application_data"), "%s: type %s", ctx,
          jtext(json_object_get(c, "type")));
    CHECK(streq(jstr(JF(c, "event_type", JK_STR, ctx)), event), "%s: event_type is not %s", ctx,
          event);
    JF(c, "event_time", JK_TIME, ctx);
    json_t *s = JF(c, "sequence_id", JK_INT_NULL, ctx);
    CHECK(json_integer_value(s) == seq, "%s: sequence_id %s, want %lld", ctx, jtext(s),
          (long long)seq);
    json_t *p = JF(c, "child", JK_OBJ, ctx);
    CHECK(sv(p, "type", "pointer_data") && sv(p, "app_id", app_id) &&
              json_is_null(json_object_get(p, "partition_key")) &&
              jk_is(json_object_get(p, "sequence_id"), JK_INT_NULL),
          "%s: child pointer %s", ctx, jtext(p));
}

static void test_app_view_family(void **state)
{
    struct http_res r = getf("/api/v0/%s/big/__none__/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    json_t *children = json_object_get(j, "children");
    CHECK(json_array_size(children) == 2, "big: %zu children, want 2: %s",
          json_array_size(children), jtext(children));
    check_child(children, "big-fork", "fork", FORK_PTR.sequence_id);
    check_child(children, "big-spawn", "spawn_start", SPAWN_PTR.sequence_id);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/big-fork/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    check_logs_top(j, "big-fork");
    check_pointer(json_object_get(j, "parent_pointer"), "big-fork.parent_pointer", "big", NULL,
                  FORK_PTR.sequence_id);
    CHECK(json_is_null(json_object_get(j, "spawning_parent_pointer")),
          "big-fork.spawning_parent_pointer is not null");
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "big-fork: not 2 steps");
    CHECK(json_array_size(json_object_get(j, "children")) == 0, "big-fork: has children");
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/big-spawn/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    check_pointer(json_object_get(j, "spawning_parent_pointer"),
                  "big-spawn.spawning_parent_pointer", "big", NULL, SPAWN_PTR.sequence_id);
    CHECK(json_is_null(json_object_get(j, "parent_pointer")),
          "big-spawn.parent_pointer is not null");
    json_decref(j), res_free(&r);

    /* A partitioned app: by its key, or by "__none__" (none without a key: the newest with
     * that id); another key is another app, here none. */
    r = getf("/api/v0/%s/u1-b/user_1/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "u1-b: not 2 steps");
    json_decref(j), res_free(&r);
    r = getf("/api/v0/%s/u1-b/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "u1-b by __none__: not 2 steps");
    json_decref(j), res_free(&r);
    EXPECT_ERROR(getf("/api/v0/%s/u1-b/user_2/apps", PROJECT_A), 404, NULL);
    checks_done();
}

static void test_state_verbatim(void **state)
{
    struct http_res r = getf("/api/v0/%s/plain/__none__/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(r.body && strstr(r.body, "\"state\":" PLAIN_STATE),
          "the state is not byte-identical: "
          "want \"state\":%s in %.400s",
          PLAIN_STATE, r.body ? strstr(r.body, "\"state\"") : "");
    CHECK(r.body && strstr(r.body, "\"x\":0.1}"), "0.1 was re-serialized");
    json_t *st = json_object_get(
        json_object_get(json_array_get(json_object_get(j, "steps"), 0), "step_end_log"), "state");
    CHECK(streq(jstr(json_object_get(st, "greeting")),
                "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80"),
          "greeting is %s", jtext(json_object_get(st, "greeting")));
    CHECK(json_is_real(json_object_get(st, "x")) &&
              json_real_value(json_object_get(st, "x")) == 0.1,
          "x is %s", jtext(json_object_get(st, "x")));
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 6. ETags -------------------------------------------------------------------------- */

static void test_etag(void **state)
{
    char path[200], etag[128] = "", inm[200], tag2[128] = "";
    snprintf(path, sizeof path, "/api/v0/%s/plain/__none__/apps", PROJECT_A);
    struct http_res r = req("GET", path, NULL);
    CHECK(r.status == 200, "%s: %ld", r.what, r.status);
    CHECK(header(&r, "ETag", etag, sizeof etag) &&
              (etag[0] == '"' || strncmp(etag, "W/\"", 3) == 0),
          "%s: ETag %s, want a quoted value", r.what, etag[0] ? etag : "(none)");
    res_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *hdrs[] = {inm, NULL};
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 304 && r.len == 0,
          "If-None-Match %s: %ld with %zu bytes, want 304 and "
          "nothing",
          etag, r.status, r.len);
    res_free(&r);

    /* A new step of plain, indexed: a new ETag, and the old one no longer matches. */
    int bad = 0;
    small_step(W.plain, 1, NULL, &bad);
    assert_int_equal(bad, 0);
    tracker_flush(W.trk);
    size_t nsteps = 0;
    int64_t t0 = now_ms();
    for (; nsteps != 2 && now_ms() - t0 < INDEX_WAIT_MS; sleep_ms(100)) {
        r = req("GET", path, NULL);
        json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        nsteps = json_array_size(json_object_get(j, "steps"));
        if (nsteps == 2)
            header(&r, "ETag", tag2, sizeof tag2);
        json_decref(j), res_free(&r);
    }
    CHECK(nsteps == 2, "the new step was not shown within %d ms", INDEX_WAIT_MS);
    print_message("new step shown %lld ms after the flush\n", (long long)(now_ms() - t0));
    CHECK(tag2[0] && strcmp(tag2, etag) != 0, "ETag %s did not change (now %s)", etag, tag2);
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 200 && r.len > 0, "old If-None-Match after a change: %ld", r.status);
    res_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", tag2);
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 304 && r.len == 0, "new If-None-Match: %ld", r.status);
    res_free(&r);
    checks_done();
}

/* ---- 7. indexing jobs ------------------------------------------------------------------ */

static void check_job(json_t *job, bool nonempty)
{
    json_t *id = JF(job, "id", JK_INT, "job");
    char ctx[64];
    snprintf(ctx, sizeof ctx, "job %lld", (long long)json_integer_value(id));
    JF(job, "start_time", JK_TIME, ctx);
    JF(job, "end_time", JK_TIME_NULL, ctx);
    const char *st = jstr(JF(job, "status", JK_STR, ctx));
    CHECK(streq(st, "SUCCESS") || streq(st, "FAILURE") || streq(st, "RUNNING"), "%s: status %s",
          ctx, st);
    json_t *n = JF(job, "records_processed", JK_INT, ctx);
    CHECK(!nonempty || json_integer_value(n) > 0, "%s: records_processed %s with filter_empty", ctx,
          jtext(n));
    json_t *m = JF(job, "metadata", JK_OBJ, ctx);
    JF(m, "project", JK_STR, ctx);
    JF(m, "s3_highwatermark", JK_STR, ctx);
}

/* GET path: the jobs (new), checked. */
static json_t *jobs(const char *query, bool nonempty)
{
    struct http_res r = getf("/api/v0/indexing_jobs%s", query);
    json_t *j = EXPECT_JSON(&r, 200), *job;
    CHECK(json_is_array(j), "%s: not an array", r.what);
    size_t i;
    json_int_t prev = INT64_MAX;
    json_array_foreach(j, i, job)
    {
        check_job(job, nonempty);
        json_int_t id = json_integer_value(json_object_get(job, "id"));
        CHECK(id < prev, "%s: not newest first (id %lld after %lld)", r.what, (long long)id,
              (long long)prev);
        prev = id;
    }
    res_free(&r);
    return j;
}

static void test_indexing_jobs(void **state)
{
    json_t *all = jobs("", true); /* filter_empty=true by default */
    CHECK(json_array_size(all) >= 2, "%zu non-empty jobs, want one per project at least",
          json_array_size(all));
    bool saw_a = false;
    size_t i;
    json_t *job;
    json_array_foreach(all, i, job)
    {
        json_t *m = json_object_get(job, "metadata");
        if (sv(m, "project", PROJECT_A) && sv(job, "status", "SUCCESS")) {
            saw_a = true;
            const char *w = jstr(json_object_get(m, "s3_highwatermark"));
            CHECK(w && strncmp(w, "data/" PROJECT_A "/", strlen("data/" PROJECT_A "/")) == 0,
                  "s3_highwatermark %s is not a key of the project", w);
        }
    }
    CHECK(saw_a, "no successful non-empty job of %s", PROJECT_A);
    /* Ticks with nothing new leave empty jobs: within a second there are some. */
    json_t *every = NULL;
    size_t empty = 0;
    for (int64_t t0 = now_ms(); !empty && now_ms() - t0 < 3000; sleep_ms(empty ? 0 : 100)) {
        json_decref(every);
        every = jobs("?filter_empty=false&limit=1000", false);
        json_array_foreach(every, i, job)
        {
            empty += json_integer_value(json_object_get(job, "records_processed")) == 0;
        }
    }
    CHECK(json_array_size(every) > json_array_size(all) && empty > 0,
          "filter_empty=false: %zu jobs (%zu empty) vs %zu non-empty", json_array_size(every),
          empty, json_array_size(all));
    json_decref(every);
    /* Pages: offset/limit slice the same newest-first list. Ticks add jobs every 200 ms, so
     * the three reads are retried when a job landed between them. */
    bool same = false;
    for (int attempt = 0; attempt < 10 && !same; attempt++) {
        sleep_ms(attempt ? 37 : 0);
        json_t *six = jobs("?filter_empty=false&limit=6", false);
        json_t *p1 = jobs("?filter_empty=false&limit=3&offset=0", false);
        json_t *p2 = jobs("?filter_empty=false&limit=3&offset=3", false);
        same = json_array_size(six) == 6 && json_array_size(p1) == 3 && json_array_size(p2) == 3;
        for (size_t k = 0; same && k < 6; k++)
            same = json_equal(json_object_get(json_array_get(six, k), "id"),
                              json_object_get(json_array_get(k < 3 ? p1 : p2, k % 3), "id"));
        json_decref(six), json_decref(p1), json_decref(p2);
    }
    CHECK(same, "limit=3 at offsets 0 and 3 are not the newest six jobs, in 10 tries");
    json_t *one = jobs("?limit=1", true);
    CHECK(json_array_size(one) == 1 && json_equal(json_object_get(json_array_get(one, 0), "id"),
                                                  json_object_get(json_array_get(all, 0), "id")),
          "limit=1 is not the newest non-empty job");
    json_decref(one);
    json_decref(all);
    checks_done();
}

/* ---- 8. metrics ------------------------------------------------------------------------ */

/* The first line of text that is metric name (with or without labels) containing label. */
static const char *metric_line(const char *text, const char *name, const char *label)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '{'))
            continue;
        if (!label || memmem(p, len, label, strlen(label)))
            return p;
    }
    return NULL;
}

/* The value of the sample line at p (its last field). */
static double sample_value(const char *p)
{
    const char *end = strchr(p, '\n') ? strchr(p, '\n') : p + strlen(p), *v = end;
    while (v > p && v[-1] != ' ')
        v--;
    return strtod(v, NULL);
}

/* The sum of every sample of metric name (labels or not). */
static double metric_sum(const char *text, const char *name)
{
    double sum = 0;
    for (const char *p = text; (p = metric_line(p, name, NULL)); p++)
        sum += sample_value(p);
    return sum;
}

/* The first sample of name with label (NULL: any); -1 when there is none. */
static double metric_value(const char *text, const char *name, const char *label)
{
    const char *p = metric_line(text, name, label);
    return p ? sample_value(p) : -1;
}

static void test_metrics(void **state)
{
    struct http_res r = getf("/metrics");
    char ct[200];
    CHECK(r.status == 200, "/metrics: %ld", r.status);
    const char *t = header(&r, "Content-Type", ct, sizeof ct);
    CHECK(t && strncmp(t, "text/plain", 10) == 0 && strstr(t, "version=0.0.4"),
          "/metrics: Content-Type %s, want text/plain; version=0.0.4", t ? t : "(none)");
    const char *text = r.body ? r.body : "";
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++) {
        char type[200];
        size_t base = strlen(METRICS[i]);
        if (strstr(METRICS[i], "_seconds_count"))
            base -= strlen("_count"); /* a histogram's TYPE line names the family */
        snprintf(type, sizeof type, "# TYPE %.*s ", (int)base, METRICS[i]);
        CHECK(metric_line(text, METRICS[i], NULL) != NULL, "/metrics has no %s sample", METRICS[i]);
        CHECK(strstr(text, type) != NULL, "/metrics has no \"%s\" line", type);
    }
    /* The values say what happened: the seed's apps and events, one malformed key, requests,
     * S3 traffic, a fresh index for both projects. */
    CHECK(metric_value(text, "spoor_up", NULL) == 1, "spoor_up is not 1");
    CHECK(metric_value(text, "spoor_index_projects", NULL) == 2, "spoor_index_projects %g",
          metric_value(text, "spoor_index_projects", NULL));
    CHECK(metric_value(text, "spoor_index_applications", NULL) == NAPPS_A + NPAGED,
          "spoor_index_applications %g, want %d",
          metric_value(text, "spoor_index_applications", NULL), (int)(NAPPS_A + NPAGED));
    double events = metric_sum(text, "spoor_indexed_events_total");
    CHECK(events >= BIG_STEPS * 5, "spoor_indexed_events_total %g, want the seed's events", events);
    CHECK(metric_sum(text, "spoor_indexed_objects_total") >= NAPPS_A * 3 + NPAGED * 3,
          "spoor_indexed_objects_total %g", metric_sum(text, "spoor_indexed_objects_total"));
    CHECK(metric_sum(text, "spoor_http_requests_total") > 10, "spoor_http_requests_total %g",
          metric_sum(text, "spoor_http_requests_total"));
    CHECK(metric_line(text, "spoor_http_requests_total", "code=\"200\"") != NULL,
          "no spoor_http_requests_total{code=\"200\"}");
    CHECK(metric_sum(text, "spoor_s3_requests_total") > 0, "spoor_s3_requests_total is 0");
    CHECK(metric_value(text, "spoor_index_skipped_total", "reason=\"malformed key\"") >= 1,
          "spoor_index_skipped_total{reason=\"malformed key\"} is %g",
          metric_value(text, "spoor_index_skipped_total", "reason=\"malformed key\""));
    static const char *const projects[] = {"project=\"" PROJECT_A "\"",
                                           "project=\"" PROJECT_B "\""};
    for (size_t i = 0; i < 2; i++) {
        double lag = metric_value(text, "spoor_index_lag_seconds", projects[i]);
        CHECK(lag >= 0 && lag < 30, "spoor_index_lag_seconds{%s} is %g, want a few seconds",
              projects[i], lag);
    }
    if (W.failed)
        print_error("---- /metrics\n%.4000s\n----\n", text);
    res_free(&r);
    checks_done();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_seed_and_index, test_setup),
        cmocka_unit_test_setup(test_service_endpoints, test_setup),
        cmocka_unit_test_setup(test_projects, test_setup),
        cmocka_unit_test_setup(test_apps_partitions, test_setup),
        cmocka_unit_test_setup(test_apps_paging, test_setup),
        cmocka_unit_test_setup(test_app_view_big, test_setup),
        cmocka_unit_test_setup(test_app_view_family, test_setup),
        cmocka_unit_test_setup(test_state_verbatim, test_setup),
        cmocka_unit_test_setup(test_indexing_jobs, test_setup),
        cmocka_unit_test_setup(test_metrics, test_setup),
        cmocka_unit_test_setup(test_etag, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
