/*
 * indexer.c: the indexing tick of indexer.h as a small state machine on the loop.
 *
 *   DISCOVER --pages--> next project --> LIST --pages, up to the cap--> FETCH (GETs) --> COMMIT
 *                             ^                                                          |
 *                             '------------------- more listed than taken? <-------------'
 *
 * A batch holds the keys listed in one pass (known ones only advance the watermark) and the
 * bodies of the new ones. Memory stays bounded by batch_cap bodies of at most
 * max_object_bytes each, never the whole bucket.
 */
#include "indexer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ingest.h"
#include "keys.h"
#include "util.h"

struct indexer;

struct item {
    struct indexer *ix;
    char *key;
    char *last_modified;
    int64_t size;
    struct spoor_s3_result res; /* the GET */
    int status;                 /* of its GET; 1 when it vanished before it was read */
};

struct indexer {
    uv_loop_t *loop;
    struct spoor_router *r;
    struct idx *x;
    struct indexer_opts o;
    struct indexer_stats stats;
    bool running;
    void (*done)(int, void *);
    void *done_ud;
    int status;
    /* the tick */
    char **projects;
    size_t nprojects, next_project;
    char *token;
    /* the current project */
    int64_t project_id, job_id;
    char *project, *watermark, *start_after;
    struct item *items;
    size_t nitems, ntaken, next_fetch, fetching;
    int64_t records, skipped;
    bool more;
    int fetch_failed;
    char fetch_error[768];
};

static void next_project(struct indexer *ix);
static void list_page(struct indexer *ix);

struct indexer *indexer_new(uv_loop_t *loop, struct spoor_router *r, struct idx *x,
                            const struct indexer_opts *o)
{
    struct indexer *ix = xcalloc(1, sizeof *ix);
    ix->loop = loop;
    ix->r = r;
    ix->x = x;
    ix->o = *o;
    ix->o.bucket = xstrdup(o->bucket);
    ix->o.batch_cap = o->batch_cap > 0 ? o->batch_cap : 1000;
    ix->o.max_concurrency = o->max_concurrency > 0 ? o->max_concurrency : 100;
    ix->o.lookback_s = o->lookback_s > 0 ? o->lookback_s : 600;
    ix->o.max_line_bytes = o->max_line_bytes ? o->max_line_bytes : 1 << 20;
    ix->o.max_object_bytes = o->max_object_bytes ? o->max_object_bytes : 256u << 20;
    return ix;
}

static void free_items(struct indexer *ix)
{
    for (size_t i = 0; i < ix->nitems; i++) {
        free(ix->items[i].key);
        free(ix->items[i].last_modified);
        spoor_s3_result_cleanup(&ix->items[i].res);
    }
    free(ix->items);
    ix->items = NULL;
    ix->nitems = ix->ntaken = ix->next_fetch = ix->fetching = 0;
}

static void free_tick(struct indexer *ix)
{
    for (size_t i = 0; i < ix->nprojects; i++)
        free(ix->projects[i]);
    free(ix->projects);
    ix->projects = NULL;
    ix->nprojects = ix->next_project = 0;
    free(ix->token), free(ix->project), free(ix->watermark), free(ix->start_after);
    ix->token = ix->project = ix->watermark = ix->start_after = NULL;
    free_items(ix);
}

void indexer_free(struct indexer *ix)
{
    if (!ix)
        return;
    free_tick(ix);
    free((char *)ix->o.bucket);
    free(ix);
}

void indexer_stats(const struct indexer *ix, struct indexer_stats *out)
{
    *out = ix->stats;
}

/* Keeps an hour of empty jobs (they show that ticks run), and every job that indexed
 * something. */
static void prune_jobs(struct indexer *ix)
{
    char before[32];
    time_t t = time(NULL) - 3600;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(before, sizeof before, "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
    int64_t removed;
    struct spoor_error err;
    if (idx_jobs_prune(ix->x, before, &removed, &err) != 0)
        fprintf(stderr, "spoor-server: %s\n", err.message);
}

static void finish_tick(struct indexer *ix)
{
    prune_jobs(ix);
    ix->running = false;
    ix->stats.ticks++;
    int status = ix->status;
    free_tick(ix);
    ix->done(status, ix->done_ud);
}

/* ---- one project ----------------------------------------------------------------------- */

static void fail_project(struct indexer *ix, int status, const char *message)
{
    struct spoor_error err;
    fprintf(stderr, "spoor-server: indexing %s failed: %s\n", ix->project, message);
    if (!ix->status)
        ix->status = status;
    ix->stats.failures++;
    idx_job_finish(ix->x, ix->job_id, false, ix->records, ix->skipped, ix->watermark, message,
                   &err);
    next_project(ix);
}

/* The key below which nothing is re-listed: the project's prefix with the time lookback_s ago. */
static char *lookback_key(const struct indexer *ix)
{
    time_t t = time(NULL) - ix->o.lookback_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[600];
    snprintf(buf, sizeof buf, "data/%s/%04d/%02d/%02d/%02d/%02d", ix->project, tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min);
    return xstrdup(buf);
}

static void parse_into(const struct item *it, struct idx_object *o, struct ingest_log *log,
                       struct ingest_metadata *meta, struct ingest_line **children, char *app,
                       size_t app_size, char *pk, size_t pk_size, const struct indexer *ix)
{
    struct key_parts kp;
    const char *why = NULL;
    memset(o, 0, sizeof *o);
    o->key = it->key;
    o->size = it->size;
    o->last_modified = it->last_modified;
    o->kind = IDX_SKIPPED;
    if (it->status) { /* deleted between LIST and GET */
        o->skip_reason = "object vanished before it was read";
        return;
    }
    if (key_parse(it->key, strlen(it->key), &kp, &why) != 0) {
        o->skip_reason = "malformed key";
        return;
    }
    snprintf(app, app_size, "%.*s", (int)kp.app_id_len, kp.app_id);
    o->app_id = app;
    if (kp.partition_key) {
        snprintf(pk, pk_size, "%.*s", (int)kp.partition_key_len, kp.partition_key);
        o->partition_key = pk;
    }
    const char *body = it->res.body ? it->res.body : "";
    size_t len = it->res.body_len;
    o->tracker_id = spoor_s3_result_meta(&it->res, "tracker_id");
    if (kp.type == KEY_FILE_LOG && ingest_parse_log(body, len, ix->o.max_line_bytes, log) == 0) {
        o->kind = IDX_LOG;
        o->log = log;
    } else if (kp.type == KEY_FILE_METADATA && ingest_parse_metadata(body, len, meta, &why) == 0) {
        o->kind = IDX_METADATA, o->metadata = meta, o->body = body, o->body_len = len;
    } else if (kp.type == KEY_FILE_CHILDREN &&
               ingest_parse_children(body, len, children, &o->nchildren, &o->skipped_children) ==
                   0) {
        o->kind = IDX_CHILDREN, o->children = *children;
    } else if (kp.type == KEY_FILE_GRAPH &&
               ingest_check_graph(body, len, ix->o.max_object_bytes, &why) == 0) {
        o->kind = IDX_GRAPH, o->body = body, o->body_len = len;
    } else {
        o->app_id = NULL;
        o->skip_reason = kp.type == KEY_FILE_GRAPH      ? "malformed graph.json"
                         : kp.type == KEY_FILE_METADATA ? "malformed metadata.json"
                                                        : "unreadable log object";
    }
}

static void commit_batch(struct indexer *ix)
{
    size_t n = ix->ntaken;
    struct idx_object *objs = xcalloc(n ? n : 1, sizeof *objs);
    struct ingest_log *logs = xcalloc(n ? n : 1, sizeof *logs);
    struct ingest_metadata *metas = xcalloc(n ? n : 1, sizeof *metas);
    struct ingest_line **children = xcalloc(n ? n : 1, sizeof *children);
    char(*apps)[256] = xcalloc(n ? n : 1, 256);
    char(*pks)[256] = xcalloc(n ? n : 1, 256);
    size_t k = 0;
    for (size_t i = 0; i < ix->nitems; i++) {
        struct item *it = &ix->items[i];
        parse_into(it, &objs[k], &logs[k], &metas[k], &children[k], apps[k], 256, pks[k], 256, ix);
        if (objs[k].kind == IDX_LOG)
            ix->stats.events += logs[k].n;
        ix->skipped += objs[k].kind == IDX_SKIPPED;
        k++;
    }
    struct spoor_error err;
    int rc = idx_commit_batch(ix->x, ix->project_id, objs, k, ix->watermark, &err);
    for (size_t i = 0; i < k; i++) {
        ingest_log_cleanup(&logs[i]);
        ingest_metadata_cleanup(&metas[i]);
        free(children[i]);
    }
    free(objs), free(logs), free(metas), free(apps), free(pks), free(children);
    if (rc) {
        fail_project(ix, rc, err.message);
        return;
    }
    ix->records += (int64_t)k;
    ix->stats.objects += k;
    free_items(ix);
    if (ix->more) { /* the cap stopped us: the next batch at once */
        free(ix->start_after);
        ix->start_after = xstrdup(ix->watermark);
        list_page(ix);
        return;
    }
    idx_job_finish(ix->x, ix->job_id, true, ix->records, ix->skipped, ix->watermark, NULL, &err);
    next_project(ix);
}

/* ---- fetching -------------------------------------------------------------------------- */

static void fetch_more(struct indexer *ix);

static void on_get(int status, struct spoor_s3_result *res, const struct spoor_error *err, void *ud)
{
    struct item *it = ud;
    struct indexer *ix = it->ix;
    ix->fetching--;
    it->status = status;
    if (status) {
        bool vanished = status == SPOOR_E_S3 && strcmp(err->s3_code, "NoSuchKey") == 0;
        if (!vanished && !ix->fetch_failed) {
            ix->fetch_failed = status;
            snprintf(ix->fetch_error, sizeof ix->fetch_error, "%s", err->message);
        }
        if (vanished)
            it->status = 1; /* skipped, not fatal */
    } else {
        it->res = *res;
        memset(res, 0, sizeof *res);
    }
    fetch_more(ix);
}

/* Keeps max_concurrency GETs in flight; commits when all have answered. */
static void fetch_more(struct indexer *ix)
{
    while (!ix->fetch_failed && ix->next_fetch < ix->nitems &&
           ix->fetching < (size_t)ix->o.max_concurrency) {
        struct item *it = &ix->items[ix->next_fetch++];
        it->ix = ix;
        struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT,
                                 .bucket = ix->o.bucket,
                                 .key = it->key,
                                 .sink = {.max_bytes = ix->o.max_object_bytes}};
        struct spoor_error err;
        int rc = spoor_router_submit(ix->r, &op, on_get, it, &err);
        if (rc) {
            ix->fetch_failed = rc;
            snprintf(ix->fetch_error, sizeof ix->fetch_error, "%s", err.message);
            break;
        }
        ix->fetching++;
    }
    if (ix->fetching > 0)
        return;
    if (ix->fetch_failed) {
        ix->fetch_failed = 0;
        free_items(ix);
        fail_project(ix, SPOOR_E_NET, ix->fetch_error);
        return;
    }
    if (ix->next_fetch == ix->nitems)
        commit_batch(ix);
}

/* ---- listing a project ----------------------------------------------------------------- */

static void take_keys(struct indexer *ix, struct spoor_s3_list *l)
{
    for (size_t i = 0; i < l->nobjects; i++) {
        struct spoor_s3_object *ob = &l->objects[i];
        if ((int)ix->ntaken >= ix->o.batch_cap) {
            ix->more = true;
            return;
        }
        if (strcmp(ob->key, ix->watermark) > 0) {
            free(ix->watermark);
            ix->watermark = xstrdup(ob->key);
        }
        bool known = false;
        struct spoor_error err;
        if (idx_object_known(ix->x, ob->key, &known, &err) != 0 || known)
            continue;
        ix->items = xrealloc(ix->items, (ix->nitems + 1) * sizeof *ix->items);
        struct item *it = &ix->items[ix->nitems++];
        memset(it, 0, sizeof *it);
        it->key = xstrdup(ob->key);
        it->last_modified = xstrdup_or_null(ob->last_modified);
        it->size = ob->size;
        ix->ntaken++;
    }
}

static void on_list(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct indexer *ix = ud;
    if (status) {
        fail_project(ix, status, err->message);
        return;
    }
    take_keys(ix, &res->list);
    free(ix->token);
    ix->token = NULL;
    if (!ix->more && res->list.is_truncated && res->list.next_continuation_token) {
        ix->token = res->list.next_continuation_token;
        res->list.next_continuation_token = NULL;
        list_page(ix);
        return;
    }
    fetch_more(ix);
}

static void list_page(struct indexer *ix)
{
    char prefix[600];
    snprintf(prefix, sizeof prefix, "data/%s/", ix->project);
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = ix->o.bucket,
                             .prefix = prefix,
                             .start_after = ix->token ? NULL : ix->start_after,
                             .continuation_token = ix->token};
    ix->more = false;
    struct spoor_error err;
    if (spoor_router_submit(ix->r, &op, on_list, ix, &err) != 0)
        fail_project(ix, err.code, err.message);
}

static void next_project(struct indexer *ix)
{
    free(ix->project), free(ix->watermark), free(ix->start_after), free(ix->token);
    ix->project = ix->watermark = ix->start_after = ix->token = NULL;
    free_items(ix);
    if (ix->next_project == ix->nprojects) {
        finish_tick(ix);
        return;
    }
    ix->project = xstrdup(ix->projects[ix->next_project++]);
    ix->records = ix->skipped = 0;
    struct spoor_error err;
    if (idx_project_ensure(ix->x, ix->project, &ix->project_id, &ix->watermark, &err) != 0 ||
        idx_job_start(ix->x, ix->project_id, &ix->job_id, &err) != 0) {
        if (!ix->status)
            ix->status = err.code;
        next_project(ix);
        return;
    }
    char *back = lookback_key(ix);
    /* Re-list the lookback window too: late or clock-skewed writers land below the mark. */
    ix->start_after = strcmp(back, ix->watermark) < 0 ? back : xstrdup(ix->watermark);
    if (ix->start_after != back)
        free(back);
    list_page(ix);
}

/* ---- discovering projects -------------------------------------------------------------- */

static void discover_page(struct indexer *ix);

static void on_discover(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                        void *ud)
{
    struct indexer *ix = ud;
    if (status) {
        fprintf(stderr, "spoor-server: listing projects failed: %s\n", err->message);
        struct spoor_error e;
        int64_t job;
        if (idx_job_start(ix->x, 0, &job, &e) == 0) /* the failure is on record, with why */
            idx_job_finish(ix->x, job, false, 0, 0, NULL, err->message, &e);
        ix->status = status;
        ix->stats.failures++;
        finish_tick(ix);
        return;
    }
    const struct spoor_s3_list *l = &res->list;
    for (size_t i = 0; i < l->nprefixes; i++) {
        const char *p = l->common_prefixes[i] + strlen("data/");
        size_t n = strlen(p);
        if (n < 2)
            continue;
        ix->projects = xrealloc(ix->projects, (ix->nprojects + 1) * sizeof *ix->projects);
        ix->projects[ix->nprojects++] = xstrndup(p, n - 1);
    }
    free(ix->token);
    ix->token = NULL;
    if (l->is_truncated && l->next_continuation_token) {
        ix->token = xstrdup(l->next_continuation_token);
        discover_page(ix);
        return;
    }
    next_project(ix);
}

static void discover_page(struct indexer *ix)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = ix->o.bucket,
                             .prefix = "data/",
                             .delimiter = "/",
                             .continuation_token = ix->token};
    struct spoor_error err;
    int rc = spoor_router_submit(ix->r, &op, on_discover, ix, &err);
    if (rc) {
        ix->status = rc;
        finish_tick(ix); /* only from a callback: the first page is checked in indexer_tick */
    }
}

int indexer_tick(struct indexer *ix, void (*done)(int status, void *ud), void *ud)
{
    if (ix->running)
        return SPOOR_E_INVALID;
    struct spoor_s3_op op = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = ix->o.bucket, .prefix = "data/", .delimiter = "/"};
    struct spoor_error err;
    int rc = spoor_router_submit(ix->r, &op, on_discover, ix, &err);
    if (rc)
        return rc;
    ix->running = true;
    ix->status = 0;
    ix->done = done;
    ix->done_ud = ud;
    return 0;
}
