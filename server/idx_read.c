/*
 * idx_read.c: the API's reads of the index (idx.h, "reads for the API"), and annotations.
 * Statements are prepared on first use and kept; each call resets what it uses, so a walk that
 * a callback stops early leaves nothing locked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "idx_int.h"
#include "util.h"

enum rd {
    R_PROJECTS,
    R_PROJECT_FIND,
    R_APPS,
    R_APPS_COUNT,
    R_APP_FIND,
    R_APP_EVENTS,
    R_CHILD_LINES,
    R_CHILD_APPS,
    R_ANN_INSERT,
    R_ANN_UPDATE,
    R_ANN_GET,
    R_ANN_LIST,
    R_JOBS,
    R_SKIPPED,
    R_FRESHNESS,
    R_COUNT
};
_Static_assert(R_COUNT <= IDX_READ_STMTS, "raise IDX_READ_STMTS");

#define APP_COLUMNS                                                                                \
    "a.id, a.app_id, a.partition_key, a.first_written, a.last_written, a.num_steps, "              \
    "a.parent_app_id, a.parent_partition_key, a.parent_sequence_id, a.spawn_app_id, "              \
    "a.spawn_partition_key, a.spawn_sequence_id"
#define ANN_COLUMNS                                                                                \
    "id, app_id, partition_key, step_sequence_id, span_id, step_name, tags, observations, "        \
    "created, updated"

static const char *const sql[R_COUNT] = {
    [R_PROJECTS] = "SELECT p.name, p.created_at, coalesce(p.last_written, p.created_at), "
                   "(SELECT count(*) FROM application a WHERE a.project_id = p.id) FROM project p "
                   "ORDER BY 3 DESC, p.name",
    [R_PROJECT_FIND] = "SELECT id FROM project WHERE name = ?1",
    /* ?4 NULL: every partition */
    [R_APPS] = "SELECT " APP_COLUMNS " FROM application a WHERE a.project_id = ?1 AND "
               "(?4 IS NULL OR a.partition_key = ?4) ORDER BY a.last_written DESC, a.id DESC "
               "LIMIT ?2 OFFSET ?3",
    [R_APPS_COUNT] = "SELECT count(*) FROM application WHERE project_id = ?1 AND "
                     "(?2 IS NULL OR partition_key = ?2)",
    /* ?3 NULL: the one without a partition key, else the newest. The version changes with any
     * new object of the app (events, graph, metadata, children) and with its child apps. */
    [R_APP_FIND] = "SELECT " APP_COLUMNS ", a.graph_json, "
                   "(SELECT coalesce(max(o.id), 0) FROM object o WHERE o.application_id = a.id), "
                   "(SELECT count(*) || '.' || coalesce(max(c.id), 0) FROM application c "
                   " WHERE c.project_id = a.project_id AND "
                   " (c.parent_app_id = a.app_id OR c.spawn_app_id = a.app_id)) "
                   "FROM application a WHERE a.project_id = ?1 AND a.app_id = ?2 AND "
                   "(?3 IS NULL OR a.partition_key = ?3) "
                   "ORDER BY a.partition_key = '__none__' DESC, a.last_written DESC, a.id DESC "
                   "LIMIT 1",
    [R_APP_EVENTS] = "SELECT e.raw, e.type, e.sequence_id, e.span_id FROM event e "
                     "JOIN object o ON o.id = e.object_id WHERE e.application_id = ?1 "
                     "ORDER BY o.key, e.line_no",
    [R_CHILD_LINES] = "SELECT raw FROM child WHERE application_id = ?1 ORDER BY id",
    /* A pointer without a partition key matches the parent whatever its partition. */
    [R_CHILD_APPS] =
        "SELECT app_id, partition_key, first_written, 'fork', parent_sequence_id, id "
        "FROM application WHERE project_id = ?1 AND parent_app_id = ?2 AND "
        "(parent_partition_key IS NULL OR parent_partition_key = ?3) "
        "UNION ALL "
        "SELECT app_id, partition_key, first_written, 'spawn_start', spawn_sequence_id, id "
        "FROM application WHERE project_id = ?1 AND spawn_app_id = ?2 AND "
        "(spawn_partition_key IS NULL OR spawn_partition_key = ?3) ORDER BY 3, 6",
    [R_ANN_INSERT] = "INSERT INTO annotation(project_id, app_id, partition_key, step_sequence_id, "
                     "span_id, step_name, tags, observations, created, updated) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    [R_ANN_UPDATE] = "UPDATE annotation SET span_id = ?3, step_name = ?4, tags = ?5, "
                     "observations = ?6, updated = ?7 WHERE project_id = ?1 AND id = ?2",
    [R_ANN_GET] = "SELECT " ANN_COLUMNS " FROM annotation WHERE project_id = ?1 AND id = ?2",
    /* ?3 = 1: filter by partition key ?4 (NULL: none) */
    [R_ANN_LIST] = "SELECT " ANN_COLUMNS " FROM annotation WHERE project_id = ?1 AND "
                   "(?2 IS NULL OR app_id = ?2) AND (?3 = 0 OR partition_key IS ?4) AND "
                   "(?5 < 0 OR step_sequence_id = ?5) ORDER BY id",
    [R_JOBS] = "SELECT j.id, j.start_time, j.end_time, j.status, j.records_processed, p.name, "
               "j.watermark FROM indexing_job j LEFT JOIN project p ON p.id = j.project_id "
               "WHERE ?1 = 0 OR j.records_processed > 0 ORDER BY j.id DESC LIMIT ?2 OFFSET ?3",
    [R_SKIPPED] = "SELECT reason, count FROM skipped ORDER BY reason",
    [R_FRESHNESS] = "SELECT p.name, (SELECT max(j.end_time) FROM indexing_job j WHERE "
                    "j.project_id = p.id AND j.status = 'SUCCESS') FROM project p ORDER BY p.name",
};

/* The statement r, prepared on first use, reset and unbound; NULL and err filled on failure. */
static sqlite3_stmt *rd(struct idx *x, enum rd r, struct spoor_error *err)
{
    if (!x->rd[r] && sqlite3_prepare_v3(x->db, sql[r], -1, SQLITE_PREPARE_PERSISTENT, &x->rd[r],
                                        NULL) != SQLITE_OK) {
        idx_db_error(x, err, sql[r]);
        return NULL;
    }
    sqlite3_reset(x->rd[r]);
    sqlite3_clear_bindings(x->rd[r]);
    return x->rd[r];
}

static const char *text(sqlite3_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st, col);
}

/* Steps st to the end, evaluating call per row; a nonzero call stops the walk and is returned
 * by the function using the macro. */
#define WALK(x, st, err, what, call)                                                               \
    do {                                                                                           \
        int rc_;                                                                                   \
        while ((rc_ = sqlite3_step(st)) == SQLITE_ROW) {                                           \
            int stop_ = (call);                                                                    \
            if (stop_) {                                                                           \
                sqlite3_reset(st);                                                                 \
                return stop_;                                                                      \
            }                                                                                      \
        }                                                                                          \
        sqlite3_reset(st);                                                                         \
        if (rc_ != SQLITE_DONE)                                                                    \
            return idx_db_error(x, err, what);                                                     \
    } while (0)

static int project_row(sqlite3_stmt *st, int (*fn)(void *, const struct idx_project_row *),
                       void *ud)
{
    struct idx_project_row r = {text(st, 0), text(st, 1), text(st, 2), sqlite3_column_int64(st, 3)};
    return fn(ud, &r);
}

int idx_projects(struct idx *x, int (*fn)(void *ud, const struct idx_project_row *r), void *ud,
                 struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_PROJECTS, err);
    if (!st)
        return err->code;
    WALK(x, st, err, "listing projects", project_row(st, fn, ud));
    return 0;
}

int idx_project_find(struct idx *x, const char *name, int64_t *project_id, struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_PROJECT_FIND, err);
    if (!st)
        return err->code;
    idx_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    *project_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : idx_db_error(x, err, "finding a project");
}

static void pointer_at(sqlite3_stmt *st, int col, struct idx_pointer *p)
{
    p->app_id = text(st, col);
    p->partition_key = text(st, col + 1);
    p->has_sequence_id = sqlite3_column_type(st, col + 2) != SQLITE_NULL;
    p->sequence_id = sqlite3_column_int64(st, col + 2);
}

/* The APP_COLUMNS of the current row. */
static void app_row(sqlite3_stmt *st, struct idx_app_row *r)
{
    r->id = sqlite3_column_int64(st, 0);
    r->app_id = text(st, 1);
    r->partition_key = text(st, 2);
    if (r->partition_key && strcmp(r->partition_key, "__none__") == 0)
        r->partition_key = NULL;
    r->first_written = text(st, 3);
    r->last_written = text(st, 4);
    r->num_steps = sqlite3_column_int64(st, 5);
    pointer_at(st, 6, &r->parent);
    pointer_at(st, 9, &r->spawning);
    r->graph_json = NULL;
}

static int apps_row(sqlite3_stmt *st, int (*fn)(void *, const struct idx_app_row *), void *ud)
{
    struct idx_app_row r;
    app_row(st, &r);
    return fn(ud, &r);
}

int idx_apps(struct idx *x, int64_t project_id, const char *partition_key, int64_t limit,
             int64_t offset, int (*fn)(void *ud, const struct idx_app_row *r), void *ud,
             int64_t *total, struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_APPS_COUNT, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, partition_key);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_reset(st);
        return idx_db_error(x, err, "counting applications");
    }
    *total = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    if (!(st = rd(x, R_APPS, err)))
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    idx_bind_text(st, 4, partition_key);
    WALK(x, st, err, "listing applications", apps_row(st, fn, ud));
    return 0;
}

int idx_app_find(struct idx *x, int64_t project_id, const char *app_id, const char *partition_key,
                 int (*fn)(void *ud, const struct idx_app_row *r, const char *version), void *ud,
                 struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_APP_FIND, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, app_id);
    idx_bind_text(st, 3, partition_key);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        struct idx_app_row r;
        app_row(st, &r);
        r.graph_json = text(st, 12);
        char version[96];
        snprintf(version, sizeof version, "%lld.%lld.%s", (long long)r.id,
                 (long long)sqlite3_column_int64(st, 13), text(st, 14));
        rc = fn(ud, &r, version);
        sqlite3_reset(st);
        return rc;
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : idx_db_error(x, err, "finding an application");
}

int idx_app_events(struct idx *x, int64_t app_row_id, struct steps_line **lines, size_t *n,
                   char **text_out, struct spoor_error *err)
{
    *lines = NULL;
    *n = 0;
    *text_out = NULL;
    sqlite3_stmt *st = rd(x, R_APP_EVENTS, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, app_row_id);
    /* Every line's raw, type and span id go into one text block (each NUL-terminated); the
     * block moves while it grows, so the views are made from offsets at the end. */
    struct buf b;
    buf_init(&b, SIZE_MAX);
    size_t cap = 0;
    struct steps_line *l = NULL;
    struct offsets {
        size_t raw, type, span; /* span: SIZE_MAX when the line has none */
    } *off = NULL;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            l = xrealloc(l, cap * sizeof *l);
            off = xrealloc(off, cap * sizeof *off);
        }
        struct offsets *o = &off[*n];
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        o->raw = b.len;
        buf_append(&b, sqlite3_column_blob(st, 0), len);
        buf_append_byte(&b, '\0');
        o->type = b.len;
        buf_append_str(&b, text(st, 1));
        buf_append_byte(&b, '\0');
        o->span = SIZE_MAX;
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            o->span = b.len;
            buf_append_str(&b, text(st, 3));
            buf_append_byte(&b, '\0');
        }
        l[*n].len = len;
        l[(*n)++].seq = sqlite3_column_int64(st, 2);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(l);
        free(off);
        buf_cleanup(&b);
        *n = 0;
        return idx_db_error(x, err, "reading events");
    }
    char *base = buf_take(&b, NULL);
    for (size_t i = 0; i < *n; i++) {
        l[i].raw = base + off[i].raw;
        l[i].type = base + off[i].type;
        l[i].span_id = off[i].span == SIZE_MAX ? NULL : base + off[i].span;
    }
    free(off);
    *lines = l;
    *text_out = base;
    return 0;
}

static int child_line(sqlite3_stmt *st, int (*fn)(void *, const struct idx_child_row *), void *ud)
{
    struct idx_child_row r = {.raw = text(st, 0)};
    return fn(ud, &r);
}

static int child_app(sqlite3_stmt *st, int (*fn)(void *, const struct idx_child_row *), void *ud)
{
    const char *pk = text(st, 1);
    struct idx_child_row r = {
        .event_type = text(st, 3),
        .app_id = text(st, 0),
        .partition_key = pk && strcmp(pk, "__none__") != 0 ? pk : NULL,
        .event_time = text(st, 2),
        .has_sequence_id = sqlite3_column_type(st, 4) != SQLITE_NULL,
        .sequence_id = sqlite3_column_int64(st, 4),
    };
    return fn(ud, &r);
}

int idx_app_children(struct idx *x, int64_t project_id, const struct idx_app_row *app,
                     int (*fn)(void *ud, const struct idx_child_row *r), void *ud,
                     struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_CHILD_LINES, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, app->id);
    WALK(x, st, err, "reading children", child_line(st, fn, ud));
    if (!(st = rd(x, R_CHILD_APPS, err)))
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, app->app_id);
    idx_bind_text(st, 3, app->partition_key ? app->partition_key : "__none__");
    WALK(x, st, err, "finding child applications", child_app(st, fn, ud));
    return 0;
}

/* ---- annotations ------------------------------------------------------------------------ */

static int ann_row(sqlite3_stmt *st, int (*fn)(void *, const struct idx_annotation *), void *ud)
{
    struct idx_annotation a = {
        .id = sqlite3_column_int64(st, 0),
        .app_id = text(st, 1),
        .partition_key = text(st, 2),
        .step_sequence_id = sqlite3_column_int64(st, 3),
        .span_id = text(st, 4),
        .step_name = text(st, 5),
        .tags_json = text(st, 6),
        .observations_json = text(st, 7),
        .created = text(st, 8),
        .updated = text(st, 9),
    };
    return fn(ud, &a);
}

/* Calls fn with annotation id of the project; *found says whether there is one. */
static int ann_get(struct idx *x, int64_t project_id, int64_t id, bool *found,
                   int (*fn)(void *, const struct idx_annotation *), void *ud,
                   struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_ANN_GET, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    sqlite3_bind_int64(st, 2, id);
    *found = false;
    WALK(x, st, err, "reading an annotation", (*found = true, ann_row(st, fn, ud)));
    return 0;
}

int idx_annotation_create(struct idx *x, int64_t project_id, const struct idx_annotation *a,
                          int (*fn)(void *ud, const struct idx_annotation *r), void *ud,
                          struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_ANN_INSERT, err);
    if (!st)
        return err->code;
    char now[64];
    idx_now_iso(now);
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, a->app_id);
    idx_bind_text(st, 3, a->partition_key);
    sqlite3_bind_int64(st, 4, a->step_sequence_id);
    idx_bind_text(st, 5, a->span_id);
    idx_bind_text(st, 6, a->step_name);
    idx_bind_text(st, 7, a->tags_json);
    idx_bind_text(st, 8, a->observations_json);
    idx_bind_text(st, 9, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return idx_db_error(x, err, "storing an annotation");
    bool found;
    return ann_get(x, project_id, sqlite3_last_insert_rowid(x->db), &found, fn, ud, err);
}

int idx_annotation_update(struct idx *x, int64_t project_id, const struct idx_annotation *a,
                          bool *found, int (*fn)(void *ud, const struct idx_annotation *r),
                          void *ud, struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_ANN_UPDATE, err);
    if (!st)
        return err->code;
    char now[64];
    idx_now_iso(now);
    sqlite3_bind_int64(st, 1, project_id);
    sqlite3_bind_int64(st, 2, a->id);
    idx_bind_text(st, 3, a->span_id);
    idx_bind_text(st, 4, a->step_name);
    idx_bind_text(st, 5, a->tags_json);
    idx_bind_text(st, 6, a->observations_json);
    idx_bind_text(st, 7, now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return idx_db_error(x, err, "updating an annotation");
    *found = sqlite3_changes(x->db) > 0;
    return *found ? ann_get(x, project_id, a->id, found, fn, ud, err) : 0;
}

int idx_annotations(struct idx *x, int64_t project_id, const char *app_id,
                    const char *partition_key, int64_t step_sequence_id,
                    int (*fn)(void *ud, const struct idx_annotation *r), void *ud,
                    struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_ANN_LIST, err);
    if (!st)
        return err->code;
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, app_id);
    sqlite3_bind_int(st, 3, partition_key != NULL);
    if (partition_key && strcmp(partition_key, "__none__") != 0)
        idx_bind_text(st, 4, partition_key);
    sqlite3_bind_int64(st, 5, step_sequence_id);
    WALK(x, st, err, "listing annotations", ann_row(st, fn, ud));
    return 0;
}

/* ---- jobs and metrics ------------------------------------------------------------------- */

static int job_row(sqlite3_stmt *st, int (*fn)(void *, const struct idx_job_row *), void *ud)
{
    struct idx_job_row r = {sqlite3_column_int64(st, 0), text(st, 1), text(st, 2), text(st, 3),
                            sqlite3_column_int64(st, 4), text(st, 5), text(st, 6)};
    return fn(ud, &r);
}

int idx_jobs(struct idx *x, int64_t offset, int64_t limit, bool filter_empty,
             int (*fn)(void *ud, const struct idx_job_row *r), void *ud, struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_JOBS, err);
    if (!st)
        return err->code;
    sqlite3_bind_int(st, 1, filter_empty);
    sqlite3_bind_int64(st, 2, limit);
    sqlite3_bind_int64(st, 3, offset);
    WALK(x, st, err, "listing jobs", job_row(st, fn, ud));
    return 0;
}

int idx_skipped(struct idx *x, int (*fn)(void *ud, const char *reason, int64_t count), void *ud,
                struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_SKIPPED, err);
    if (!st)
        return err->code;
    WALK(x, st, err, "reading skip counters", fn(ud, text(st, 0), sqlite3_column_int64(st, 1)));
    return 0;
}

int idx_project_freshness(struct idx *x,
                          int (*fn)(void *ud, const char *project, const char *last_success),
                          void *ud, struct spoor_error *err)
{
    sqlite3_stmt *st = rd(x, R_FRESHNESS, err);
    if (!st)
        return err->code;
    WALK(x, st, err, "reading job times", fn(ud, text(st, 0), text(st, 1)));
    return 0;
}
