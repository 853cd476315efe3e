/*
 * api_int.h: what the API's files share: the api itself, reply helpers and JSON writers.
 * api.c routes and answers the read endpoints, api_annot.c the annotations, api_metrics.c
 * /metrics.
 */
#ifndef SPOOR_API_INT_H
#define SPOOR_API_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "api.h"
#include "buf.h"

#define API_STATUS_SLOTS 16
#define API_VIEW_CACHE 8                      /* application views kept rendered */
#define API_VIEW_CACHE_MAX ((size_t)16 << 20) /* larger views are not kept */

/* A rendered application view, valid while the application's ETag is. */
struct api_view {
    int64_t app; /* application row id; 0: empty slot */
    char etag[48];
    char *body;
    size_t len;
    uint64_t used; /* LRU clock */
};

struct api {
    char *bucket, *ui_dir, *token, *version;
    struct idx *x;
    struct indexer *ix;
    struct snapshotter *snap;
    struct spoor_router *r;
    int64_t started; /* epoch seconds */
    struct {
        int code;
        uint64_t n;
    } status[API_STATUS_SLOTS]; /* requests answered, by status */
    uint64_t requests;
    uint64_t duration_buckets[8]; /* see api_metrics.c */
    double duration_sum;
    struct api_view views[API_VIEW_CACHE];
    uint64_t view_clock, view_hits, view_misses;
};

/* The reply is the JSON text in b (taken) with status. */
void api_json(struct http_reply *r, int status, struct buf *b);
/* The reply is {"detail":"<message>"} with status; the message may hold any bytes (invalid
 * UTF-8 is replaced by '?'). */
void api_error(struct http_reply *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 500 for an index failure; the detail says what failed. */
void api_index_error(struct http_reply *r, const char *what, const char *message);

/* Appends s as a JSON string (valid UTF-8), or null when s is NULL. */
void api_put_str(struct buf *b, const char *s);
/* Appends s[0..len) (valid UTF-8, NUL bytes allowed) as a JSON string. */
void api_put_strn(struct buf *b, const char *s, size_t len);
/* Appends ,"name":<s or null>. */
void api_put_field(struct buf *b, const char *name, const char *s);

/* Identifier checks (api.h): project/app id, partition key. */
bool api_id_ok(const char *s);
bool api_partition_ok(const char *s);
/* A decimal integer >= 0 (no sign, no spaces, fits int64). */
bool api_uint_ok(const char *s, int64_t *out);

/* Annotation routes (api_annot.c). */
void api_annotation_create(struct api *a, int64_t project_id, const char *project,
                           const char *app_id, const char *partition_key, int64_t seq,
                           const char *body, size_t len, struct http_reply *r);
void api_annotation_update(struct api *a, int64_t project_id, const char *project, int64_t id,
                           const char *body, size_t len, struct http_reply *r);
void api_annotations(struct api *a, int64_t project_id, const char *project,
                     const struct http_request *rq, struct http_reply *r);

/* /metrics (api_metrics.c). */
void api_metrics(struct api *a, struct http_reply *r);
/* Counts one answered request. */
void api_count(struct api *a, int status, double seconds);

#endif
