/*
 * api.h: spoor-server's HTTP routes: Burr's JSON API (burr-compat.md sections 2.3, 2.4, 5 and 6),
 * /metrics, and the web UI's files. Everything is answered from the index on the loop thread:
 * no S3 request per page view.
 *
 * Routes (literal ones first, then by segment count; GET unless said otherwise):
 *   /ready                          200 {"ready":true}; 503 {"detail":...} until the index is open
 *   /api/v0/ready                   200 true (503 like /ready until the index is open)
 *   /api/v0/version                 {"version":"<spoor version>"}
 *   /api/v0/metadata/app_spec       {"indexing":true,"snapshotting":true,"supports_demos":false,
 *                                    "supports_annotations":true}
 *   /api/v0/projects                [Project], newest last_written first; uri is
 *                                    "s3://<bucket>/data/<project>/"
 *   /api/v0/indexing_jobs           ?offset=0&limit=100&filter_empty=true -> [IndexingJob],
 *                                    newest first; metadata {"project","s3_highwatermark"}
 *                                    ("unknown" when absent)
 *   /api/v0/{p}/{pk}/apps           ?limit=100&offset=0 -> ApplicationPage, newest last_written
 *                                    first; pk "__none__" means every partition; summaries carry
 *                                    partition_key null for none, and both pointers
 *   /api/v0/{p}/{app}/{pk}/apps     ApplicationLogs. pk "__none__": the app without a partition
 *                                    key, else the most recently written app with that id.
 *                                    steps per section 2.4 without the span-order bug, events
 *                                    embedded verbatim as indexed; children: Burr's local
 *                                    children lines plus every indexed app whose parent or
 *                                    spawning pointer names this one (event_type "fork" or
 *                                    "spawn_start"). ETag; If-None-Match -> 304.
 *   POST /api/v0/{p}/{app}/{pk}/{seq}/annotations   AnnotationCreate -> AnnotationOut
 *   PUT  /api/v0/{p}/{id}/update_annotations        AnnotationUpdate -> AnnotationOut
 *   /api/v0/{p}/annotations         ?app_id&partition_key&step_sequence_id -> [AnnotationOut]
 *                                    by id
 *   /metrics                        Prometheus text format 0.0.4
 *   anything else (GET/HEAD)        the UI folder's file, or its index.html (static.h)
 *
 * Errors are JSON {"detail":"..."} saying what was wrong and what to do:
 *   400  an invalid identifier (project and app ids: letters, digits, '_', '-' and ':', at most
 *        512 bytes, as object keys allow them; partition keys: at most 512 bytes of valid UTF-8
 *        without '/', '\\' or control characters; sequence and annotation ids: decimal
 *        integers >= 0; an encoded '/' (%2F) is not decoded), an invalid query
 *        parameter (limit 1..1000, offset >= 0, booleans true/false/1/0/yes/no/on/off), or an
 *        invalid annotation body (the field is named)
 *   401  SPOOR_AUTH_TOKEN is set and the request lacks "Authorization: Bearer <token>"
 *        (WWW-Authenticate: Bearer). Required on /ready, /metrics and every /api route; the UI's
 *        static files stay public so that the UI can ask for the token
 *   404  an unknown project, application (or its graph not indexed yet) or annotation; an
 *        unknown /api path
 *   405  a method the route does not take
 *   413  a request body over HTTP_MAX_BODY
 *   503  not ready yet (the index is still opening)
 * Bad input never gives 500; 500 means the index failed (the detail says how).
 */
#ifndef SPOOR_API_H
#define SPOOR_API_H

#include <stdint.h>

#include "http.h"

struct idx;
struct indexer;
struct snapshotter;
struct spoor_router;

struct api_opts {
    const char *bucket;     /* for project URIs */
    const char *ui_dir;     /* "" or NULL: no UI (GETs outside /api give a JSON 404) */
    const char *auth_token; /* "" or NULL: no token required */
    const char *version;
};

struct api;

struct api *api_new(const struct api_opts *o);
void api_free(struct api *a);

/* The parts answered from; each may be NULL until the server has it (then 503). */
void api_attach(struct api *a, struct idx *x, struct indexer *ix, struct snapshotter *snap,
                struct spoor_router *r);

/* The http_handler_fn of the server (ud = the api). */
void api_handle(void *ud, const struct http_request *rq, struct http_reply *reply);

#endif
