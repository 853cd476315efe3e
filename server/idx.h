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

/* A consistent copy of the whole index at dest (VACUUM INTO; dest must not exist). */
int idx_snapshot(struct idx *x, const char *dest, struct spoor_error *err);

/* A short text that changes whenever indexed data or annotations change (not job rows), to
 * skip snapshots of an unchanged index. */
int idx_change_marker(struct idx *x, char *out, size_t size, struct spoor_error *err);

/* Counts for tests and /metrics: rows of table (one of the schema's tables). */
int idx_count(struct idx *x, const char *table, int64_t *n, struct spoor_error *err);

#endif
