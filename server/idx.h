/*
 * idx.h: the index, spoor-server's only door to SQL. The rest of the server never holds a
 * sqlite3 handle: it asks this module for projects and watermarks and hands it whole batches,
 * so that a PostgreSQL backend can later implement the same interface.
 *
 * Invariants kept here:
 *  - an object key is indexed at most once (object.key is UNIQUE; a known key is skipped);
 *  - a batch (its objects, their events, the applications they touch, and the project's new
 *    watermark) commits in one transaction, so a crash leaves either all of it or none;
 *  - applications are identified by (project, app_id, partition key), '__none__' when absent.
 */
#ifndef SPOOR_IDX_H
#define SPOOR_IDX_H

#include <spoor/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ingest.h"
#include "steps.h"

struct idx;

/* Opens (creating) the index at path: WAL mode, foreign keys, a busy timeout, and every
 * pending migration. Errors name the file. */
int idx_open(const char *path, struct idx **out, struct spoor_error *err);
void idx_close(struct idx *x);

/* The project's id, creating it; *watermark (new) is its largest key taken ("" at first). */
int idx_project_ensure(struct idx *x, const char *name, int64_t *project_id, char **watermark,
                       struct spoor_error *err);

/* Whether key has been indexed before. */
int idx_object_known(struct idx *x, const char *key, bool *known, struct spoor_error *err);

/* IDX_CHILDREN (Burr's local children.jsonl) is recorded with kind 'log' in the object table:
 * it is a JSONL file of events about children. */
enum idx_kind { IDX_GRAPH, IDX_METADATA, IDX_LOG, IDX_SKIPPED, IDX_CHILDREN };

/* One object of a batch, parsed by the caller. */
struct idx_object {
    const char *key;
    enum idx_kind kind;
    const char *app_id;        /* NULL for IDX_SKIPPED */
    const char *partition_key; /* NULL for none */
    int64_t size;
    const char *last_modified; /* ISO 8601 UTC */
    const char *tracker_id;    /* from user metadata, may be NULL */
    bool has_seq_range;
    int64_t min_sequence_id, max_sequence_id;
    const char *body; /* graph and metadata: the body */
    size_t body_len;
    const struct ingest_log *log;           /* IDX_LOG */
    const struct ingest_metadata *metadata; /* IDX_METADATA */
    const char *skip_reason;                /* IDX_SKIPPED: why ("malformed key", ...) */
    const struct ingest_line *children;     /* IDX_CHILDREN: the child lines */
    size_t nchildren;
    unsigned skipped_children; /* IDX_CHILDREN: lines that were not child records */
};

/* Commits objs[0..n) and the project's new watermark in one transaction. Objects whose key
 * is already known are left out. Skipped lines and objects are added to the skip counters. */
int idx_commit_batch(struct idx *x, int64_t project_id, const struct idx_object *objs, size_t n,
                     const char *watermark, struct spoor_error *err);

/* Indexing jobs: one row per project per tick (project_id 0: the discovery of projects). */
int idx_job_start(struct idx *x, int64_t project_id, int64_t *job_id, struct spoor_error *err);
int idx_job_finish(struct idx *x, int64_t job_id, bool ok, int64_t records, int64_t skipped,
                   const char *watermark, const char *error, struct spoor_error *err);

/* Removes the successful jobs that processed nothing and ended before the ISO 8601 UTC time
 * before, except each project's newest job (one row per project per tick would otherwise grow
 * without end: a 2 s interval writes 43,200 a day per project). *removed says how many. */
int idx_jobs_prune(struct idx *x, const char *before, int64_t *removed, struct spoor_error *err);

/* A consistent copy of the whole index at dest (VACUUM INTO; dest must not exist). */
int idx_snapshot(struct idx *x, const char *dest, struct spoor_error *err);

/* A short text that changes whenever indexed data or annotations change (not job rows), to
 * skip snapshots of an unchanged index. */
int idx_change_marker(struct idx *x, char *out, size_t size, struct spoor_error *err);

/* Counts for tests and /metrics: rows of table (one of the schema's tables). */
int idx_count(struct idx *x, const char *table, int64_t *n, struct spoor_error *err);

/* ---- reads for the API (idx_read.c) ------------------------------------------------------ *
 * Rows are handed to a callback one at a time; their strings are borrowed for the call. A
 * callback returning nonzero stops the walk (that value is returned). Times are ISO 8601 UTC.
 */

struct idx_project_row {
    const char *name;
    const char *created;      /* when the server first saw the project */
    const char *last_written; /* newest object of the project, else created */
    int64_t num_apps;
};
int idx_projects(struct idx *x, int (*fn)(void *ud, const struct idx_project_row *r), void *ud,
                 struct spoor_error *err);

/* The project's row id; 0 when there is no such project. */
int idx_project_find(struct idx *x, const char *name, int64_t *project_id, struct spoor_error *err);

struct idx_pointer {
    const char *app_id;        /* NULL: no pointer */
    const char *partition_key; /* NULL: none */
    bool has_sequence_id;
    int64_t sequence_id;
};

struct idx_app_row {
    int64_t id;
    const char *app_id;
    const char *partition_key; /* NULL: none */
    const char *first_written, *last_written;
    int64_t num_steps;
    struct idx_pointer parent, spawning;
    const char *graph_json; /* idx_app_find only; NULL until a graph.json is indexed */
};

/* A page of the project's applications, newest last_written first (then newest row), in one
 * partition (partition_key; NULL: every partition, "__none__": only those without one). *total
 * is the count without limit and offset. */
int idx_apps(struct idx *x, int64_t project_id, const char *partition_key, int64_t limit,
             int64_t offset, int (*fn)(void *ud, const struct idx_app_row *r), void *ud,
             int64_t *total, struct spoor_error *err);

/* One application: by (app_id, partition_key), or with partition_key NULL the one without a
 * partition key, else the most recently written with that app_id. fn is called once, or not at
 * all when there is none. version receives a text that changes whenever anything the
 * application view shows changes (events, graph, metadata, children), for ETags. */
int idx_app_find(struct idx *x, int64_t project_id, const char *app_id, const char *partition_key,
                 int (*fn)(void *ud, const struct idx_app_row *r, const char *version), void *ud,
                 struct spoor_error *err);

/* Every event of the application in index order (object key, then line), as steps_build takes
 * them: *lines (new array of *n) point into *text (new); free both. */
int idx_app_events(struct idx *x, int64_t app_row_id, struct steps_line **lines, size_t *n,
                   char **text, struct spoor_error *err);

/* The application's children: Burr's local children.jsonl lines (raw set, the rest NULL), then
 * every application of the project whose parent pointer (event_type "fork") or spawning pointer
 * ("spawn_start") names it, oldest first. */
struct idx_child_row {
    const char *raw; /* a ChildApplicationModel line verbatim, or NULL */
    const char *event_type;
    const char *app_id, *partition_key; /* partition_key NULL: none */
    const char *event_time;             /* the child's first_written */
    bool has_sequence_id;
    int64_t sequence_id;
};
int idx_app_children(struct idx *x, int64_t project_id, const struct idx_app_row *app,
                     int (*fn)(void *ud, const struct idx_child_row *r), void *ud,
                     struct spoor_error *err);

/* Annotations. JSON fields (tags, observations) are text, already validated by the caller. */
struct idx_annotation {
    int64_t id;
    const char *app_id;
    const char *partition_key; /* NULL: none */
    int64_t step_sequence_id;
    const char *span_id; /* NULL: none */
    const char *step_name;
    const char *tags_json;
    const char *observations_json;
    const char *created, *updated;
};
/* Creates a (id, created and updated are set here) and calls fn with the stored row. */
int idx_annotation_create(struct idx *x, int64_t project_id, const struct idx_annotation *a,
                          int (*fn)(void *ud, const struct idx_annotation *r), void *ud,
                          struct spoor_error *err);
/* Replaces span_id, step_name, tags and observations of annotation a->id of the project and
 * calls fn with the stored row; *found false (fn not called) when there is no such annotation. */
int idx_annotation_update(struct idx *x, int64_t project_id, const struct idx_annotation *a,
                          bool *found, int (*fn)(void *ud, const struct idx_annotation *r),
                          void *ud, struct spoor_error *err);
/* The project's annotations by id, filtered by app_id, partition key (both NULL: any;
 * partition_key "__none__": none) and step (step_sequence_id < 0: any). */
int idx_annotations(struct idx *x, int64_t project_id, const char *app_id,
                    const char *partition_key, int64_t step_sequence_id,
                    int (*fn)(void *ud, const struct idx_annotation *r), void *ud,
                    struct spoor_error *err);

/* Indexing jobs, newest first; filter_empty keeps those that processed records. */
struct idx_job_row {
    int64_t id;
    const char *start_time, *end_time; /* end_time NULL while running */
    const char *status;
    int64_t records_processed;
    const char *project;   /* NULL: not about one project (discovery) */
    const char *watermark; /* NULL when the job recorded none */
};
int idx_jobs(struct idx *x, int64_t offset, int64_t limit, bool filter_empty,
             int (*fn)(void *ud, const struct idx_job_row *r), void *ud, struct spoor_error *err);

/* For /metrics: skipped items by reason, and per project its newest successful job's end. */
int idx_skipped(struct idx *x, int (*fn)(void *ud, const char *reason, int64_t count), void *ud,
                struct spoor_error *err);
int idx_project_freshness(struct idx *x,
                          int (*fn)(void *ud, const char *project, const char *last_success),
                          void *ud, struct spoor_error *err);

#endif
