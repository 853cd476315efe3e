/*
 * api.c: routing, the bearer token, errors, and the read endpoints of api.h. Every answer is
 * built from the index on the loop thread: a page view costs SQLite reads and no S3 request.
 * Application views are kept rendered for their ETag (a few, least recently used out), so a
 * view asked again before anything of it changes (live refresh, many readers) costs one
 * version query and a copy.
 *
 *   request --> token? --> /api/... or /ready or /metrics: route by literal path, then by the
 *               number of segments after /api/v0/ and the last one --> handler --> JSON
 *           --> anything else: the UI folder (static.c)
 */
#include "api.h"

#include <spoor/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api_int.h"
#include "idx.h"
#include "json.h"
#include "keys.h"
#include "static.h"
#include "steps.h"
#include "util.h"

#define MAX_ID 512
#define MAX_SEGMENTS 8
#define MAX_PAGE 1000
#define MAX_VIEW_BYTES ((size_t)512 << 20)

struct api *api_new(const struct api_opts *o)
{
    struct api *a = xcalloc(1, sizeof *a);
    a->bucket = xstrdup(o->bucket ? o->bucket : "");
    a->ui_dir = xstrdup(o->ui_dir ? o->ui_dir : "");
    a->token = xstrdup(o->auth_token ? o->auth_token : "");
    a->version = xstrdup(o->version ? o->version : "unknown");
    a->started = (int64_t)time(NULL);
    return a;
}

void api_free(struct api *a)
{
    if (!a)
        return;
    for (int i = 0; i < API_VIEW_CACHE; i++)
        free(a->views[i].body);
    free(a->bucket);
    free(a->ui_dir);
    free(a->token);
    free(a->version);
    free(a);
}

void api_attach(struct api *a, struct idx *x, struct indexer *ix, struct snapshotter *snap,
                struct spoor_router *r)
{
    a->x = x;
    a->ix = ix;
    a->snap = snap;
    a->r = r;
}

/* ---- replies ------------------------------------------------------------------------------ */

void api_json(struct http_reply *r, int status, struct buf *b)
{
    r->status = status;
    r->content_type = "application/json";
    r->cache_control = "no-cache";
    r->body = buf_take(b, &r->body_len);
}

void api_put_str(struct buf *b, const char *s)
{
    if (!s)
        buf_append_str(b, "null");
    else if (json_put_string(b, s, strlen(s), JSON_STYLE_COMPACT) != 0)
        buf_append_str(b, "\"?\""); /* not valid UTF-8: the index never holds such text */
}

void api_put_strn(struct buf *b, const char *s, size_t len)
{
    if (json_put_string(b, s, len, JSON_STYLE_COMPACT) != 0)
        buf_append_str(b, "\"?\"");
}

void api_put_field(struct buf *b, const char *name, const char *s)
{
    buf_printf(b, ",\"%s\":", name);
    api_put_str(b, s);
}

void api_error(struct http_reply *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!json_utf8_valid(msg, strlen(msg)))
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
    struct buf b;
    buf_init(&b, SIZE_MAX);
    buf_append_str(&b, "{\"detail\":");
    api_put_str(&b, msg);
    buf_append_byte(&b, '}');
    api_json(r, status, &b);
}

void api_index_error(struct http_reply *r, const char *what, const char *message)
{
    api_error(r, 500, "%s failed in the index: %s (see the server's log)", what, message);
}

/* ---- input checks ------------------------------------------------------------------------- */

bool api_id_ok(const char *s)
{
    size_t n = strlen(s);
    return n <= MAX_ID && key_id_valid(s, n);
}

bool api_partition_ok(const char *s)
{
    size_t n = strlen(s);
    if (n > MAX_ID || !key_partition_valid(s, n))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7F || *p == '\\')
            return false;
    return true;
}

bool api_uint_ok(const char *s, int64_t *out)
{
    if (!s || !*s || strlen(s) > 18)
        return false;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return true;
}

/* Query argument name as an integer in [lo, hi], def when absent. false: r holds the 400. */
static bool query_int(const struct http_request *rq, const char *name, int64_t def, int64_t lo,
                      int64_t hi, int64_t *out, struct http_reply *r)
{
    const char *v = http_query(rq, name);
    *out = def;
    if (!v)
        return true;
    if (api_uint_ok(v, out) && *out >= lo && *out <= hi)
        return true;
    api_error(r, 400, "query parameter %s must be an integer from %lld to %lld, not \"%.80s\"",
              name, (long long)lo, (long long)hi, v);
    return false;
}

static bool query_bool(const struct http_request *rq, const char *name, bool def, bool *out,
                       struct http_reply *r)
{
    static const char *const yes[] = {"true", "1", "yes", "on"}, *const no[] = {"false", "0", "no",
                                                                                "off"};
    const char *v = http_query(rq, name);
    *out = def;
    if (!v)
        return true;
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = true, true;
        if (strcasecmp(v, no[i]) == 0)
            return *out = false, true;
    }
    api_error(r, 400, "query parameter %s must be true or false, not \"%.80s\"", name, v);
    return false;
}

/* The project's row id; false when r holds the 400, 404 or 500 to send. */
static bool project_of(struct api *a, const char *name, int64_t *id, struct http_reply *r)
{
    struct spoor_error err;
    if (!api_id_ok(name)) {
        api_error(r, 400,
                  "invalid project id \"%.200s\": use letters, digits, '_', '-' and ':' "
                  "(at most %d bytes)",
                  name, MAX_ID);
        return false;
    }
    if (idx_project_find(a->x, name, id, &err) != 0) {
        api_index_error(r, "finding the project", err.message);
        return false;
    }
    if (*id == 0) {
        api_error(r, 404,
                  "project %s not found: nothing of it has been indexed (see "
                  "/api/v0/projects)",
                  name);
        return false;
    }
    return true;
}

/* Checks a path's app id and partition key ("__none__" becomes NULL in *pk). */
static bool app_ids_ok(const char *app_id, const char *partition, const char **pk,
                       struct http_reply *r)
{
    if (!api_id_ok(app_id)) {
        api_error(r, 400, "invalid app id \"%.200s\": use letters, digits, '_', '-' and ':'",
                  app_id);
        return false;
    }
    if (!api_partition_ok(partition)) {
        api_error(r, 400,
                  "invalid partition key \"%.200s\": use valid UTF-8 without '/', '\\' or "
                  "control characters, or __none__ for none",
                  partition);
        return false;
    }
    *pk = strcmp(partition, "__none__") == 0 ? NULL : partition;
    return true;
}

/* ---- read endpoints ----------------------------------------------------------------------- */

struct list {
    struct api *a;
    struct buf b;
    int n;
};

static void list_start(struct list *l, struct api *a, const char *open)
{
    l->a = a;
    l->n = 0;
    buf_init(&l->b, SIZE_MAX);
    buf_append_str(&l->b, open);
}

static void list_sep(struct list *l)
{
    if (l->n++)
        buf_append_byte(&l->b, ',');
}

static int project_row(void *ud, const struct idx_project_row *p)
{
    struct list *l = ud;
    list_sep(l);
    buf_append_str(&l->b, "{\"name\":");
    api_put_str(&l->b, p->name);
    api_put_field(&l->b, "id", p->name);
    api_put_field(&l->b, "last_written", p->last_written);
    api_put_field(&l->b, "created", p->created);
    buf_printf(&l->b, ",\"num_apps\":%lld,\"uri\":", (long long)p->num_apps);
    char uri[1200];
    snprintf(uri, sizeof uri, "s3://%s/data/%s/", l->a->bucket, p->name);
    api_put_str(&l->b, uri);
    buf_append_byte(&l->b, '}');
    return 0;
}

static void get_projects(struct api *a, struct http_reply *r)
{
    struct list l;
    struct spoor_error err;
    list_start(&l, a, "[");
    if (idx_projects(a->x, project_row, &l, &err) != 0) {
        buf_cleanup(&l.b);
        return api_index_error(r, "listing projects", err.message);
    }
    buf_append_byte(&l.b, ']');
    api_json(r, 200, &l.b);
}

static void put_pointer(struct buf *b, const char *name, const struct idx_pointer *p)
{
    buf_printf(b, ",\"%s\":", name);
    if (!p->app_id) {
        buf_append_str(b, "null");
        return;
    }
    buf_append_str(b, "{\"type\":\"pointer_data\",\"app_id\":");
    api_put_str(b, p->app_id);
    if (p->has_sequence_id)
        buf_printf(b, ",\"sequence_id\":%lld", (long long)p->sequence_id);
    else
        buf_append_str(b, ",\"sequence_id\":null");
    api_put_field(b, "partition_key", p->partition_key);
    buf_append_byte(b, '}');
}

static int app_row(void *ud, const struct idx_app_row *app)
{
    struct list *l = ud;
    list_sep(l);
    buf_append_str(&l->b, "{\"app_id\":");
    api_put_str(&l->b, app->app_id);
    api_put_field(&l->b, "partition_key", app->partition_key);
    api_put_field(&l->b, "first_written", app->first_written);
    api_put_field(&l->b, "last_written", app->last_written);
    buf_printf(&l->b, ",\"num_steps\":%lld,\"tags\":{}", (long long)app->num_steps);
    put_pointer(&l->b, "parent_pointer", &app->parent);
    put_pointer(&l->b, "spawning_parent_pointer", &app->spawning);
    buf_append_byte(&l->b, '}');
    return 0;
}

static void get_apps(struct api *a, const struct http_request *rq, const char *project,
                     const char *partition, struct http_reply *r)
{
    int64_t pid, limit, offset, total;
    if (!project_of(a, project, &pid, r) || !query_int(rq, "limit", 100, 1, MAX_PAGE, &limit, r) ||
        !query_int(rq, "offset", 0, 0, INT64_MAX / 2, &offset, r))
        return;
    if (!api_partition_ok(partition))
        return api_error(r, 400,
                         "invalid partition key \"%.200s\": use valid UTF-8 without '/', '\\' "
                         "or control characters, or __none__ for every partition",
                         partition);
    const char *pk = strcmp(partition, "__none__") == 0 ? NULL : partition;
    struct list l;
    struct spoor_error err;
    list_start(&l, a, "{\"applications\":[");
    if (idx_apps(a->x, pid, pk, limit, offset, app_row, &l, &total, &err) != 0) {
        buf_cleanup(&l.b);
        return api_index_error(r, "listing applications", err.message);
    }
    buf_printf(&l.b, "],\"total\":%lld,\"has_another_page\":%s}", (long long)total,
               total > offset + limit ? "true" : "false");
    api_json(r, 200, &l.b);
}

/* ---- the application view ----------------------------------------------------------------- */

struct view {
    struct api *a;
    int64_t project_id;
    const struct http_request *rq;
    struct http_reply *r;
    bool found;
};

static int child_row(void *ud, const struct idx_child_row *c)
{
    struct list *l = ud;
    list_sep(l);
    if (c->raw) {
        buf_append_str(&l->b, c->raw);
        return 0;
    }
    buf_append_str(&l->b, "{\"type\":\"child_application_data\",\"child\":{\"type\":"
                          "\"pointer_data\",\"app_id\":");
    api_put_str(&l->b, c->app_id);
    buf_append_str(&l->b, ",\"sequence_id\":null");
    api_put_field(&l->b, "partition_key", c->partition_key);
    buf_append_byte(&l->b, '}');
    api_put_field(&l->b, "event_time", c->event_time);
    api_put_field(&l->b, "event_type", c->event_type);
    if (c->has_sequence_id)
        buf_printf(&l->b, ",\"sequence_id\":%lld}", (long long)c->sequence_id);
    else
        buf_append_str(&l->b, ",\"sequence_id\":null}");
    return 0;
}

/* 64-bit FNV-1a: the ETag is a digest of the index's version text of the application. */
static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* Whether If-None-Match (a list of entity tags, or "*") holds etag. */
static bool etag_matches(const char *inm, const char *etag)
{
    if (!inm)
        return false;
    if (strcmp(inm, "*") == 0)
        return true;
    size_t n = strlen(etag);
    for (const char *p = strstr(inm, etag); p; p = strstr(p + 1, etag)) {
        char after = p[n];
        if (after == '\0' || after == ',' || after == ' ')
            return true;
    }
    return false;
}

/* The cached rendering of application app at etag, or NULL. */
static struct api_view *view_cached(struct api *a, int64_t app, const char *etag)
{
    for (int i = 0; i < API_VIEW_CACHE; i++) {
        struct api_view *v = &a->views[i];
        if (v->app == app && strcmp(v->etag, etag) == 0) {
            v->used = ++a->view_clock;
            return v;
        }
    }
    return NULL;
}

/* Keeps a copy of body as the rendering of app at etag, in the least recently used slot (one
 * application has one slot: an older rendering of it is replaced). */
static void view_keep(struct api *a, int64_t app, const char *etag, const char *body, size_t len)
{
    if (len > API_VIEW_CACHE_MAX)
        return;
    struct api_view *slot = &a->views[0];
    for (int i = 0; i < API_VIEW_CACHE; i++) {
        struct api_view *v = &a->views[i];
        if (v->app == app) {
            slot = v;
            break;
        }
        if (v->used < slot->used)
            slot = v;
    }
    free(slot->body);
    slot->app = app;
    str_copy(slot->etag, sizeof slot->etag, etag);
    slot->body = xmalloc(len);
    memcpy(slot->body, body, len);
    slot->len = len;
    slot->used = ++a->view_clock;
}

static int view_app(void *ud, const struct idx_app_row *app, const char *version)
{
    struct view *v = ud;
    struct http_reply *r = v->r;
    struct spoor_error err;
    v->found = true;
    if (!app->graph_json) {
        api_error(r, 404,
                  "application %s has no graph.json indexed yet (its events are); it appears "
                  "once the tracker's graph object is indexed",
                  app->app_id);
        return 0;
    }
    snprintf(r->etag, sizeof r->etag, "\"%016llx\"", (unsigned long long)fnv1a(version));
    if (etag_matches(http_header(v->rq, "If-None-Match"), r->etag)) {
        r->status = 304;
        r->cache_control = "no-cache";
        return 0;
    }
    struct api_view *hit = view_cached(v->a, app->id, r->etag);
    if (hit) {
        v->a->view_hits++;
        struct buf b;
        buf_init(&b, SIZE_MAX);
        buf_append(&b, hit->body, hit->len);
        api_json(r, 200, &b);
        return 0;
    }
    v->a->view_misses++;
    struct list l;
    list_start(&l, v->a, "{\"application\":");
    l.b.max_bytes = MAX_VIEW_BYTES;
    buf_append_str(&l.b, app->graph_json);
    buf_append_str(&l.b, ",\"children\":[");
    if (idx_app_children(v->a->x, v->project_id, app, child_row, &l, &err) != 0) {
        buf_cleanup(&l.b);
        api_index_error(r, "reading children", err.message);
        return 0;
    }
    buf_append_str(&l.b, "],\"steps\":");
    struct steps_line *lines;
    size_t n;
    char *text;
    if (idx_app_events(v->a->x, app->id, &lines, &n, &text, &err) != 0) {
        buf_cleanup(&l.b);
        api_index_error(r, "reading events", err.message);
        return 0;
    }
    int rc = steps_build(lines, n, &l.b);
    free(lines);
    free(text);
    if (rc != 0) {
        buf_cleanup(&l.b);
        api_error(r, 500, "application %s is larger than %zu MiB as JSON", app->app_id,
                  MAX_VIEW_BYTES >> 20);
        return 0;
    }
    put_pointer(&l.b, "parent_pointer", &app->parent);
    put_pointer(&l.b, "spawning_parent_pointer", &app->spawning);
    if (buf_append_byte(&l.b, '}') != 0) {
        buf_cleanup(&l.b);
        api_error(r, 500, "application %s is too large as JSON", app->app_id);
        return 0;
    }
    view_keep(v->a, app->id, r->etag, l.b.data, l.b.len);
    api_json(r, 200, &l.b);
    return 0;
}

static void get_app(struct api *a, const struct http_request *rq, const char *project,
                    const char *app_id, const char *partition, struct http_reply *r)
{
    int64_t pid;
    const char *pk;
    if (!project_of(a, project, &pid, r) || !app_ids_ok(app_id, partition, &pk, r))
        return;
    struct view v = {a, pid, rq, r, false};
    struct spoor_error err;
    if (idx_app_find(a->x, pid, app_id, pk, view_app, &v, &err) != 0)
        return api_index_error(r, "finding the application", err.message);
    if (!v.found)
        api_error(r, 404, "app %s%s%s not found in project %s", app_id,
                  pk ? " with partition key " : "", pk ? pk : "", project);
}

/* ---- jobs, spec, readiness ------------------------------------------------------------------ */

static int job_row(void *ud, const struct idx_job_row *j)
{
    struct list *l = ud;
    list_sep(l);
    buf_printf(&l->b, "{\"id\":%lld", (long long)j->id);
    api_put_field(&l->b, "start_time", j->start_time);
    api_put_field(&l->b, "end_time", j->end_time);
    api_put_field(&l->b, "status", j->status);
    buf_printf(&l->b, ",\"records_processed\":%lld,\"metadata\":{\"project\":",
               (long long)j->records_processed);
    api_put_str(&l->b, j->project ? j->project : "unknown");
    api_put_field(&l->b, "s3_highwatermark", j->watermark ? j->watermark : "unknown");
    buf_append_str(&l->b, "}}");
    return 0;
}

static void get_jobs(struct api *a, const struct http_request *rq, struct http_reply *r)
{
    int64_t offset, limit;
    bool filter_empty;
    if (!query_int(rq, "offset", 0, 0, INT64_MAX / 2, &offset, r) ||
        !query_int(rq, "limit", 100, 1, MAX_PAGE, &limit, r) ||
        !query_bool(rq, "filter_empty", true, &filter_empty, r))
        return;
    struct list l;
    struct spoor_error err;
    list_start(&l, a, "[");
    if (idx_jobs(a->x, offset, limit, filter_empty, job_row, &l, &err) != 0) {
        buf_cleanup(&l.b);
        return api_index_error(r, "listing jobs", err.message);
    }
    buf_append_byte(&l.b, ']');
    api_json(r, 200, &l.b);
}

static void reply_text(struct http_reply *r, int status, const char *json)
{
    struct buf b;
    buf_init(&b, SIZE_MAX);
    buf_append_str(&b, json);
    api_json(r, status, &b);
}

/* ---- routing -------------------------------------------------------------------------------- */

/* Splits path (after prefix) at '/' into seg (copies in store); the number of segments, or -1
 * when there are more than MAX_SEGMENTS or an empty one. */
static int split(const char *path, char *store, size_t size, char **seg)
{
    if (!str_copy(store, size, path))
        return -1;
    int n = 0;
    for (char *p = store;;) {
        char *slash = strchr(p, '/');
        if (slash)
            *slash = '\0';
        if (!*p || n == MAX_SEGMENTS)
            return -1;
        seg[n++] = p;
        if (!slash)
            return n;
        p = slash + 1;
    }
}

static bool method_is(const struct http_request *rq, const char *m, struct http_reply *r)
{
    bool ok = strcmp(rq->method, m) == 0 || (strcmp(m, "GET") == 0 && !strcmp(rq->method, "HEAD"));
    if (!ok)
        api_error(r, 405, "%s %s: this route takes %s", rq->method, rq->url, m);
    return ok;
}

static void route_api(struct api *a, const struct http_request *rq, struct http_reply *r)
{
    char store[4096];
    char *s[MAX_SEGMENTS];
    int n = split(rq->url + strlen("/api/v0/"), store, sizeof store, s);
    const char *last = n > 0 ? s[n - 1] : "";
    int64_t pid, num;
    if (n == 2 && strcmp(last, "annotations") == 0) {
        if (method_is(rq, "GET", r) && project_of(a, s[0], &pid, r))
            api_annotations(a, pid, s[0], rq, r);
    } else if (n == 3 && strcmp(last, "apps") == 0) {
        if (method_is(rq, "GET", r))
            get_apps(a, rq, s[0], s[1], r);
    } else if (n == 3 && strcmp(last, "update_annotations") == 0) {
        if (!method_is(rq, "PUT", r) || !project_of(a, s[0], &pid, r))
            return;
        if (!api_uint_ok(s[1], &num))
            return api_error(r, 400, "annotation id must be an integer >= 0, not \"%.80s\"", s[1]);
        api_annotation_update(a, pid, s[0], num, rq->body, rq->body_len, r);
    } else if (n == 4 && strcmp(last, "apps") == 0) {
        if (method_is(rq, "GET", r))
            get_app(a, rq, s[0], s[1], s[2], r);
    } else if (n == 5 && strcmp(last, "annotations") == 0) {
        const char *pk;
        if (!method_is(rq, "POST", r) || !project_of(a, s[0], &pid, r) ||
            !app_ids_ok(s[1], s[2], &pk, r))
            return;
        if (!api_uint_ok(s[3], &num))
            return api_error(r, 400, "sequence id must be an integer >= 0, not \"%.80s\"", s[3]);
        api_annotation_create(a, pid, s[0], s[1], pk, num, rq->body, rq->body_len, r);
    } else {
        api_error(r, 404, "no API route %s %.300s (see the routes of Burr's API)", rq->method,
                  rq->url);
    }
}

/* Constant-time comparison of the Authorization header with "Bearer <token>". */
static bool authorized(const struct api *a, const struct http_request *rq)
{
    if (!a->token[0])
        return true;
    const char *h = http_header(rq, "Authorization");
    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return false;
    h += 7;
    size_t n = strlen(a->token), m = strlen(h);
    unsigned char diff = n != m;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)(a->token[i] ^ (i < m ? h[i] : 0));
    return diff == 0;
}

/* Anything outside the API: the UI folder's files (public, also with a token). */
static void serve_file(struct api *a, const struct http_request *rq, struct http_reply *r)
{
    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
        return api_error(r, 405, "%s %.300s: only GET and HEAD serve files", rq->method, rq->url);
    if (!a->ui_dir[0])
        return api_error(r, 404,
                         "no UI folder is configured: set SPOOR_UI_DIR or --ui-dir "
                         "(the API is under /api/v0/)");
    static_serve(a->ui_dir, rq->url, strcmp(rq->method, "HEAD") == 0, r);
    if (r->status == 200 && etag_matches(http_header(rq, "If-None-Match"), r->etag)) {
        close(r->fd); /* unchanged since the browser's copy */
        r->fd = -1;
        r->status = 304;
    }
}

static void dispatch(struct api *a, const struct http_request *rq, struct http_reply *r)
{
    const char *url = rq->url;
    bool ready = !strcmp(url, "/ready"), metrics = !strcmp(url, "/metrics");
    if (!ready && !metrics && !str_has_prefix(url, "/api/"))
        return serve_file(a, rq, r);
    if (!authorized(a, rq)) {
        r->www_authenticate = "Bearer";
        return api_error(r, 401,
                         "this server requires a token: send the header "
                         "\"Authorization: Bearer <token>\" with the value of "
                         "SPOOR_AUTH_TOKEN");
    }
    if ((ready || metrics) && !method_is(rq, "GET", r))
        return;
    /* what needs no index */
    if (!strcmp(url, "/api/v0/version")) {
        if (!method_is(rq, "GET", r))
            return;
        struct buf b;
        buf_init(&b, SIZE_MAX);
        buf_append_str(&b, "{\"version\":");
        api_put_str(&b, a->version);
        buf_append_byte(&b, '}');
        return api_json(r, 200, &b);
    }
    if (!strcmp(url, "/api/v0/metadata/app_spec"))
        return method_is(rq, "GET", r)
                   ? reply_text(r, 200,
                                "{\"indexing\":true,\"snapshotting\":true,\"supports_demos\":"
                                "false,\"supports_annotations\":true}")
                   : (void)0;
    if (!a->x) {
        if (ready)
            return reply_text(r, 503, "{\"detail\":\"Backend is not ready yet.\"}");
        return api_error(r, 503, "the index is still opening; try again in a moment");
    }
    if (ready)
        return reply_text(r, 200, "{\"ready\":true}");
    if (metrics)
        return api_metrics(a, r);
    if (!str_has_prefix(url, "/api/v0/"))
        return api_error(r, 404, "no API route %.300s: the API is under /api/v0/", url);
    if (!strcmp(url, "/api/v0/ready"))
        return method_is(rq, "GET", r) ? reply_text(r, 200, "true") : (void)0;
    if (!strcmp(url, "/api/v0/projects"))
        return method_is(rq, "GET", r) ? get_projects(a, r) : (void)0;
    if (!strcmp(url, "/api/v0/indexing_jobs"))
        return method_is(rq, "GET", r) ? get_jobs(a, rq, r) : (void)0;
    route_api(a, rq, r);
}

void api_handle(void *ud, const struct http_request *rq, struct http_reply *r)
{
    struct api *a = ud;
    uint64_t t0 = uv_hrtime();
    dispatch(a, rq, r);
    api_count(a, r->status, (double)(uv_hrtime() - t0) / 1e9);
}
