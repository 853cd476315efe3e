/*
 * idx.c: the SQLite index behind idx.h. Statements are prepared once at open; a batch runs
 * inside BEGIN IMMEDIATE ... COMMIT and is rolled back whole on any error. WAL mode lets the
 * HTTP side read while a batch is written.
 */
#include "idx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "idx_int.h"
#include "migrate.h"
#include "util.h"

enum stmt {
    S_PROJECT_GET,
    S_PROJECT_ADD,
    S_OBJECT_KNOWN,
    S_APP_GET,
    S_APP_ADD,
    S_APP_TOUCH,
    S_APP_GRAPH,
    S_APP_META,
    S_APP_STEPS,
    S_STEP_KNOWN,
    S_OBJECT_ADD,
    S_EVENT_ADD,
    S_WATERMARK,
    S_SKIP_ADD,
    S_JOB_START,
    S_JOB_FINISH,
    S_CHILD_ADD,
    S_JOB_PRUNE,
    S_COUNT
};

static const char *const sql[S_COUNT] = {
    [S_PROJECT_GET] = "SELECT id, watermark FROM project WHERE name = ?1",
    [S_PROJECT_ADD] = "INSERT INTO project(name, created_at) VALUES (?1, ?2)",
    [S_OBJECT_KNOWN] = "SELECT 1 FROM object WHERE key = ?1",
    [S_APP_GET] = "SELECT id FROM application WHERE project_id = ?1 AND app_id = ?2 AND "
                  "partition_key = ?3",
    [S_APP_ADD] = "INSERT INTO application(project_id, app_id, partition_key, first_written, "
                  "last_written) VALUES (?1, ?2, ?3, ?4, ?4)",
    [S_APP_TOUCH] = "UPDATE application SET last_written = max(last_written, ?2) WHERE id = ?1",
    [S_APP_GRAPH] = "UPDATE application SET graph_json = ?2, graph_key = ?3 WHERE id = ?1 AND "
                    "(graph_key IS NULL OR graph_key < ?3)",
    [S_APP_META] = "UPDATE application SET metadata_json = ?2, parent_app_id = ?3, "
                   "parent_partition_key = ?4, parent_sequence_id = ?5, spawn_app_id = ?6, "
                   "spawn_partition_key = ?7, spawn_sequence_id = ?8 WHERE id = ?1",
    /* num_steps counts the distinct sequence ids with a begin_entry: each object adds the ones
     * the application did not have (found through event_app_seq, so the cost does not grow
     * with the application) */
    [S_APP_STEPS] = "UPDATE application SET num_steps = num_steps + ?2 WHERE id = ?1",
    [S_STEP_KNOWN] = "SELECT 1 FROM event WHERE application_id = ?1 AND sequence_id = ?2 AND "
                     "type = 'begin_entry' LIMIT 1",
    [S_OBJECT_ADD] = "INSERT INTO object(project_id, key, application_id, kind, size, "
                     "last_modified, tracker_id, min_sequence_id, max_sequence_id, events, "
                     "skipped_lines, indexed_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                     "?10, ?11, ?12)",
    [S_EVENT_ADD] = "INSERT INTO event(application_id, object_id, line_no, type, sequence_id, "
                    "span_id, time, raw) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_WATERMARK] = "UPDATE project SET watermark = max(watermark, ?2), last_written = "
                    "max(coalesce(last_written, ''), ?3) WHERE id = ?1",
    [S_SKIP_ADD] = "INSERT INTO skipped(reason, count) VALUES (?1, ?2) ON CONFLICT(reason) DO "
                   "UPDATE SET count = count + ?2",
    [S_JOB_START] = "INSERT INTO indexing_job(project_id, start_time, status) VALUES (?1, ?2, "
                    "'RUNNING')",
    [S_CHILD_ADD] = "INSERT OR IGNORE INTO child(application_id, raw) VALUES (?1, ?2)",
    /* Empty successful jobs are evidence only that ticks ran: those older than ?1 go, except
     * each project's newest job (the index lag of /metrics reads it). */
    [S_JOB_PRUNE] = "DELETE FROM indexing_job WHERE status = 'SUCCESS' AND records_processed = 0 "
                    "AND end_time < ?1 AND id NOT IN (SELECT max(id) FROM indexing_job GROUP BY "
                    "project_id)",
    [S_JOB_FINISH] = "UPDATE indexing_job SET end_time = ?2, status = ?3, records_processed = "
                     "?4, skipped = ?5, watermark = ?6, error = ?7 WHERE id = ?1",
};

_Static_assert(S_COUNT <= IDX_WRITE_STMTS, "raise IDX_WRITE_STMTS");

void idx_now_iso(char out[64])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
}

int idx_db_error(struct idx *x, struct spoor_error *err, const char *what)
{
    return spoor_error_set(err, SPOOR_E_CONFIG, "index %s: %s: %s", x->path, what,
                           sqlite3_errmsg(x->db));
}

/* Resets s, binds nothing; the caller binds and steps. */
static sqlite3_stmt *stmt(struct idx *x, enum stmt s)
{
    sqlite3_reset(x->st[s]);
    sqlite3_clear_bindings(x->st[s]);
    return x->st[s];
}

void idx_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

void idx_close(struct idx *x)
{
    if (!x)
        return;
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(x->st[i]);
    for (int i = 0; i < IDX_READ_STMTS; i++)
        sqlite3_finalize(x->rd[i]);
    sqlite3_close(x->db);
    free(x);
}

int idx_open(const char *path, struct idx **out, struct spoor_error *err)
{
    struct idx *x = xcalloc(1, sizeof *x);
    str_copy(x->path, sizeof x->path, path);
    int rc = 0;
    if (sqlite3_open(path, &x->db) != SQLITE_OK) {
        rc = idx_db_error(x, err, "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(x->db, 5000);
    if (sqlite3_exec(x->db,
                     "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
                     "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK) {
        rc = idx_db_error(x, err, "cannot configure");
        goto fail;
    }
    rc = migrate_apply(x->db, spoor_migrations, spoor_nmigrations, NULL, NULL, err);
    if (rc)
        goto fail;
    for (int i = 0; i < S_COUNT; i++)
        if (sqlite3_prepare_v3(x->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &x->st[i], NULL) !=
            SQLITE_OK) {
            rc = idx_db_error(x, err, sql[i]);
            goto fail;
        }
    *out = x;
    return 0;
fail:
    idx_close(x);
    return rc;
}

int idx_project_ensure(struct idx *x, const char *name, int64_t *project_id, char **watermark,
                       struct spoor_error *err)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *st = stmt(x, S_PROJECT_GET);
        idx_bind_text(st, 1, name);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *project_id = sqlite3_column_int64(st, 0);
            *watermark = xstrdup((const char *)sqlite3_column_text(st, 1));
            sqlite3_reset(st);
            return 0;
        }
        if (rc != SQLITE_DONE)
            return idx_db_error(x, err, "reading a project");
        char now[64];
        idx_now_iso(now);
        st = stmt(x, S_PROJECT_ADD);
        idx_bind_text(st, 1, name);
        idx_bind_text(st, 2, now);
        if (sqlite3_step(st) != SQLITE_DONE)
            return idx_db_error(x, err, "adding a project");
    }
    return idx_db_error(x, err, "project vanished");
}

int idx_object_known(struct idx *x, const char *key, bool *known, struct spoor_error *err)
{
    sqlite3_stmt *st = stmt(x, S_OBJECT_KNOWN);
    idx_bind_text(st, 1, key);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return idx_db_error(x, err, "looking up an object");
    *known = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return 0;
}

static int skip_add(struct idx *x, const char *reason, int64_t n)
{
    if (n <= 0)
        return SQLITE_DONE;
    sqlite3_stmt *st = stmt(x, S_SKIP_ADD);
    idx_bind_text(st, 1, reason);
    sqlite3_bind_int64(st, 2, n);
    return sqlite3_step(st);
}

/* The application's row id, creating it. */
static int app_id_of(struct idx *x, int64_t project_id, const struct idx_object *o, int64_t *id)
{
    const char *pk = o->partition_key ? o->partition_key : "__none__";
    for (int attempt = 0; attempt < 2; attempt++) {
        sqlite3_stmt *st = stmt(x, S_APP_GET);
        sqlite3_bind_int64(st, 1, project_id);
        idx_bind_text(st, 2, o->app_id);
        idx_bind_text(st, 3, pk);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *id = sqlite3_column_int64(st, 0);
            sqlite3_reset(st);
            return SQLITE_DONE;
        }
        if (rc != SQLITE_DONE)
            return rc;
        st = stmt(x, S_APP_ADD);
        sqlite3_bind_int64(st, 1, project_id);
        idx_bind_text(st, 2, o->app_id);
        idx_bind_text(st, 3, pk);
        idx_bind_text(st, 4, o->last_modified ? o->last_modified : "");
        if ((rc = sqlite3_step(st)) != SQLITE_DONE)
            return rc;
    }
    return SQLITE_ERROR;
}

/* Whether the application already has a begin_entry for seq: a new step or not. */
static int step_known(struct idx *x, int64_t app, int64_t seq, bool *known)
{
    sqlite3_stmt *st = stmt(x, S_STEP_KNOWN);
    sqlite3_bind_int64(st, 1, app);
    sqlite3_bind_int64(st, 2, seq);
    int rc = sqlite3_step(st);
    *known = rc == SQLITE_ROW;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

/* Inserts the log's events; *new_steps counts sequence ids whose first begin_entry it holds. */
static int add_events(struct idx *x, int64_t app, int64_t object, const struct ingest_log *log,
                      int64_t *new_steps)
{
    *new_steps = 0;
    for (size_t i = 0; log && i < log->n; i++) {
        const struct ingest_event *e = &log->events[i];
        if (strcmp(e->type, "begin_entry") == 0) {
            bool known;
            int rc = step_known(x, app, e->sequence_id, &known);
            if (rc != SQLITE_DONE)
                return rc;
            *new_steps += !known;
        }
        sqlite3_stmt *st = stmt(x, S_EVENT_ADD);
        sqlite3_bind_int64(st, 1, app);
        sqlite3_bind_int64(st, 2, object);
        sqlite3_bind_int(st, 3, e->line_no);
        idx_bind_text(st, 4, e->type);
        if (e->has_sequence_id)
            sqlite3_bind_int64(st, 5, e->sequence_id);
        idx_bind_text(st, 6, e->span_id);
        idx_bind_text(st, 7, e->time);
        sqlite3_bind_text(st, 8, e->raw, (int)e->raw_len, SQLITE_TRANSIENT);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            return rc;
    }
    return SQLITE_DONE;
}

static int set_metadata(struct idx *x, int64_t app, const struct idx_object *o)
{
    const struct ingest_metadata *m = o->metadata;
    sqlite3_stmt *st = stmt(x, S_APP_META);
    sqlite3_bind_int64(st, 1, app);
    sqlite3_bind_text(st, 2, o->body, (int)o->body_len, SQLITE_TRANSIENT);
    const struct ingest_pointer *p[2] = {m ? &m->parent : NULL, m ? &m->spawning : NULL};
    for (int i = 0; i < 2; i++) {
        bool on = p[i] && p[i]->present;
        idx_bind_text(st, 3 + 3 * i, on ? p[i]->app_id : NULL);
        idx_bind_text(st, 4 + 3 * i, on ? p[i]->partition_key : NULL);
        if (on && p[i]->has_sequence_id)
            sqlite3_bind_int64(st, 5 + 3 * i, p[i]->sequence_id);
    }
    return sqlite3_step(st);
}

static const char *kind_name(enum idx_kind k)
{
    static const char *const names[] = {"graph", "metadata", "log", "skipped", "log"};
    return names[k];
}

static int add_object_row(struct idx *x, int64_t project_id, int64_t app,
                          const struct idx_object *o, int64_t *object_id)
{
    char now[64];
    idx_now_iso(now);
    sqlite3_stmt *st = stmt(x, S_OBJECT_ADD);
    sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, o->key);
    if (app)
        sqlite3_bind_int64(st, 3, app);
    idx_bind_text(st, 4, kind_name(o->kind));
    sqlite3_bind_int64(st, 5, o->size);
    idx_bind_text(st, 6, o->last_modified);
    idx_bind_text(st, 7, o->tracker_id);
    if (o->has_seq_range) {
        sqlite3_bind_int64(st, 8, o->min_sequence_id);
        sqlite3_bind_int64(st, 9, o->max_sequence_id);
    }
    const struct ingest_log *l = o->log;
    const struct ingest_skips *s = l ? &l->skipped : NULL;
    sqlite3_bind_int64(st, 10, l ? (int64_t)l->n : 0);
    sqlite3_bind_int64(st, 11,
                       s ? (int64_t)s->invalid_utf8 + s->bad_json + s->too_long + s->unknown_type +
                               s->missing_field
                         : 0);
    idx_bind_text(st, 12, now);
    int rc = sqlite3_step(st);
    *object_id = sqlite3_last_insert_rowid(x->db);
    return rc;
}

static int count_skips(struct idx *x, const struct idx_object *o)
{
    int rc = SQLITE_DONE;
    if (o->kind == IDX_SKIPPED)
        rc = skip_add(x, o->skip_reason ? o->skip_reason : "unreadable object", 1);
    const struct ingest_skips *s = o->log ? &o->log->skipped : NULL;
    if (s && rc == SQLITE_DONE)
        rc = skip_add(x, "invalid UTF-8 line", s->invalid_utf8);
    if (s && rc == SQLITE_DONE)
        rc = skip_add(x, "malformed JSON line", s->bad_json);
    if (s && rc == SQLITE_DONE)
        rc = skip_add(x, "oversized line", s->too_long);
    if (s && rc == SQLITE_DONE)
        rc = skip_add(x, "unknown event type", s->unknown_type);
    if (s && rc == SQLITE_DONE)
        rc = skip_add(x, "event missing a field", s->missing_field);
    return rc;
}

/* One object inside the batch's transaction. */
static int commit_object(struct idx *x, int64_t project_id, const struct idx_object *o)
{
    bool known = false;
    struct spoor_error ignored;
    if (idx_object_known(x, o->key, &known, &ignored) != 0)
        return SQLITE_ERROR;
    if (known)
        return SQLITE_DONE;
    int64_t app = 0, object = 0, new_steps = 0;
    int rc = SQLITE_DONE;
    if (o->kind != IDX_SKIPPED)
        rc = app_id_of(x, project_id, o, &app);
    if (rc == SQLITE_DONE)
        rc = add_object_row(x, project_id, app, o, &object);
    if (rc == SQLITE_DONE && o->kind == IDX_LOG)
        rc = add_events(x, app, object, o->log, &new_steps);
    if (rc == SQLITE_DONE && o->kind == IDX_GRAPH) {
        sqlite3_stmt *st = stmt(x, S_APP_GRAPH);
        sqlite3_bind_int64(st, 1, app);
        sqlite3_bind_text(st, 2, o->body, (int)o->body_len, SQLITE_TRANSIENT);
        idx_bind_text(st, 3, o->key);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE && o->kind == IDX_METADATA)
        rc = set_metadata(x, app, o);
    for (size_t i = 0; rc == SQLITE_DONE && o->kind == IDX_CHILDREN && i < o->nchildren; i++) {
        sqlite3_stmt *st = stmt(x, S_CHILD_ADD);
        sqlite3_bind_int64(st, 1, app);
        sqlite3_bind_text(st, 2, o->children[i].p, (int)o->children[i].len, SQLITE_TRANSIENT);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE && o->kind == IDX_CHILDREN)
        rc = skip_add(x, "malformed children line", o->skipped_children);
    if (rc == SQLITE_DONE && app) {
        sqlite3_stmt *st = stmt(x, S_APP_TOUCH);
        sqlite3_bind_int64(st, 1, app);
        idx_bind_text(st, 2, o->last_modified ? o->last_modified : "");
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE && new_steps) {
            st = stmt(x, S_APP_STEPS);
            sqlite3_bind_int64(st, 1, app);
            sqlite3_bind_int64(st, 2, new_steps);
            rc = sqlite3_step(st);
        }
    }
    return rc == SQLITE_DONE ? count_skips(x, o) : rc;
}

int idx_commit_batch(struct idx *x, int64_t project_id, const struct idx_object *objs, size_t n,
                     const char *watermark, struct spoor_error *err)
{
    if (sqlite3_exec(x->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return idx_db_error(x, err, "cannot begin a batch");
    int rc = SQLITE_DONE;
    const char *newest = "";
    for (size_t i = 0; i < n && rc == SQLITE_DONE; i++) {
        rc = commit_object(x, project_id, &objs[i]);
        if (objs[i].last_modified && strcmp(objs[i].last_modified, newest) > 0)
            newest = objs[i].last_modified;
    }
    if (rc == SQLITE_DONE && watermark) {
        sqlite3_stmt *st = stmt(x, S_WATERMARK);
        sqlite3_bind_int64(st, 1, project_id);
        idx_bind_text(st, 2, watermark);
        idx_bind_text(st, 3, newest);
        rc = sqlite3_step(st);
    }
    if (rc == SQLITE_DONE && sqlite3_exec(x->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        return 0;
    int code = idx_db_error(x, err, "batch rolled back");
    sqlite3_exec(x->db, "ROLLBACK", NULL, NULL, NULL);
    return code;
}

int idx_job_start(struct idx *x, int64_t project_id, int64_t *job_id, struct spoor_error *err)
{
    char now[64];
    idx_now_iso(now);
    sqlite3_stmt *st = stmt(x, S_JOB_START);
    if (project_id > 0) /* 0: a job about no project (discovery) */
        sqlite3_bind_int64(st, 1, project_id);
    idx_bind_text(st, 2, now);
    if (sqlite3_step(st) != SQLITE_DONE)
        return idx_db_error(x, err, "cannot record a job");
    *job_id = sqlite3_last_insert_rowid(x->db);
    return 0;
}

int idx_job_finish(struct idx *x, int64_t job_id, bool ok, int64_t records, int64_t skipped,
                   const char *watermark, const char *error, struct spoor_error *err)
{
    char now[64];
    idx_now_iso(now);
    sqlite3_stmt *st = stmt(x, S_JOB_FINISH);
    sqlite3_bind_int64(st, 1, job_id);
    idx_bind_text(st, 2, now);
    idx_bind_text(st, 3, ok ? "SUCCESS" : "FAILURE");
    sqlite3_bind_int64(st, 4, records);
    sqlite3_bind_int64(st, 5, skipped);
    idx_bind_text(st, 6, watermark);
    idx_bind_text(st, 7, error);
    if (sqlite3_step(st) != SQLITE_DONE)
        return idx_db_error(x, err, "cannot finish a job");
    return 0;
}

int idx_jobs_prune(struct idx *x, const char *before, int64_t *removed, struct spoor_error *err)
{
    sqlite3_stmt *st = stmt(x, S_JOB_PRUNE);
    idx_bind_text(st, 1, before);
    if (sqlite3_step(st) != SQLITE_DONE)
        return idx_db_error(x, err, "cannot prune jobs");
    *removed = sqlite3_changes(x->db);
    return 0;
}

int idx_snapshot(struct idx *x, const char *dest, struct spoor_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, "VACUUM INTO ?1", -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(x, err, "cannot prepare a snapshot");
    idx_bind_text(st, 1, dest);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return idx_db_error(x, err, "snapshot failed");
    return 0;
}

int idx_count(struct idx *x, const char *table, int64_t *n, struct spoor_error *err)
{
    static const char *const allowed[] = {"project", "application", "object",       "event",
                                          "child",   "annotation",  "indexing_job", "skipped"};
    bool ok = false;
    for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
        ok |= strcmp(table, allowed[i]) == 0;
    if (!ok)
        return spoor_error_set(err, SPOOR_E_INVALID, "no table %s in the index", table);
    char q[80];
    snprintf(q, sizeof q, "SELECT count(*) FROM %s", table);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, q, -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(x, err, q);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : idx_db_error(x, err, q);
    *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int idx_change_marker(struct idx *x, char *out, size_t size, struct spoor_error *err)
{
    static const char q[] =
        "SELECT (SELECT count(*) FROM object), (SELECT count(*) FROM annotation), "
        "(SELECT coalesce(max(updated), '') FROM annotation), "
        "(SELECT coalesce(sum(count), 0) FROM skipped)";
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(x->db, q, -1, &st, NULL) != SQLITE_OK)
        return idx_db_error(x, err, "change marker");
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : idx_db_error(x, err, "change marker");
    if (!rc)
        snprintf(out, size, "%lld/%lld/%s/%lld", (long long)sqlite3_column_int64(st, 0),
                 (long long)sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
                 (long long)sqlite3_column_int64(st, 3));
    sqlite3_finalize(st);
    return rc;
}
