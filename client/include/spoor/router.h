/*
 * spoor/router.h: the bucket/prefix router. Every S3 request of spoor (tracker, server, CLI)
 * goes through one router, which sends it to the endpoint its route names (an S3 service, a
 * lakeFS S3 gateway, or a local directory) and translates every bucket and key on the way out
 * and back, so callers always use their own s3://bucket/key names. Semantics and configuration:
 * ../shared/spec/router.md.
 *
 * Operations are the struct spoor_s3_op of <spoor/s3.h>, with the same async contract
 * (spoor_router_submit: an error return means no callback; 0 means exactly one callback, on the
 * loop, never inside the submit) and a blocking form for a router made without a loop.
 * Differences a caller can see:
 *  - a write (PUT, DELETE, multipart, copy destination) to a read_only route is refused before
 *    any request is sent: spoor_router_submit returns SPOOR_E_READ_ONLY (DeleteObjects reports
 *    those keys as per-key AccessDenied errors instead);
 *  - continuation tokens are the router's own (opaque); a token from another listing, or one
 *    whose route no longer resolves the same way, is SPOOR_E_INVALID;
 *  - a listing that spans routes is merged: with delimiter "/" nested routes appear as common
 *    prefixes; without a delimiter the keys of every route are merged in byte order, keys of an
 *    enclosing route that a more specific route shadows left out. Other delimiters across
 *    routes are refused (SPOOR_E_INVALID);
 *  - CreateBucket and HeadBucket may carry a key: it only chooses the route (and so the
 *    endpoint and target bucket), e.g. s3://logs/data/alpha/ for a project routed elsewhere;
 *  - CopyObject between two endpoints is a streamed GET and PUT (multipart with ranged GETs
 *    when large), holding at most a few parts in memory.
 */
#ifndef SPOOR_ROUTER_H
#define SPOOR_ROUTER_H

#include <spoor/s3.h>

#ifdef __cplusplus
extern "C" {
#endif

struct spoor_router;

struct spoor_router_opts {
    const char *routes_path; /* routes file; NULL means $SPOOR_ROUTES, "" means none */
    const char *local_root;  /* with no routes file: everything goes to a file endpoint here
                                instead of the implicit "aws" endpoint */
    int max_concurrency;     /* S3 requests in flight across endpoints; 0 means 16 */
};

/* Loads the routes, resolves each endpoint's URL, region and credentials, and makes the
 * endpoints on loop (borrowed; NULL: a private loop for spoor_router_exec). Any problem in the
 * configuration is SPOOR_E_CONFIG: NULL is returned and err->message names the file, the
 * number of problems and the first of them; spoor_router_check() lists them all. */
SPOOR_API struct spoor_router *
spoor_router_new(uv_loop_t *loop, const struct spoor_router_opts *opts, struct spoor_error *err);

/* Cancels what is in flight (callbacks get SPOOR_E_CANCELED) and frees the router; on a
 * caller's loop, close_cb (may be NULL) runs once every handle is closed. */
SPOOR_API void spoor_router_close(struct spoor_router *r, void (*close_cb)(void *ud), void *ud);

/* Checks a routes file without starting anything. Returns 0 when it loads, else
 * SPOOR_E_CONFIG; *report (new, caller frees; may be NULL) gets one line per problem, or a
 * summary of the routes when there is none. Credentials are not resolved. */
SPOOR_API int spoor_router_check(const char *path, char **report);

/* S3 requests started (retries included) and failed by the router's endpoints since it was
 * made; the file endpoint's operations are not S3 requests and are not counted. */
SPOOR_API void spoor_router_stats(const struct spoor_router *r, uint64_t *requests,
                                  uint64_t *errors);

SPOOR_API int spoor_router_submit(struct spoor_router *r, const struct spoor_s3_op *op,
                                  spoor_s3_cb cb, void *ud, struct spoor_error *err);
/* Blocking form for a router made with a NULL loop. res is filled (caller cleans it up). */
SPOOR_API int spoor_router_exec(struct spoor_router *r, const struct spoor_s3_op *op,
                                struct spoor_s3_result *res, struct spoor_error *err);

/* Uploads a local file through the router, as spoor_s3_upload_file does (multipart when
 * large, streamed from the file). A read-only route refuses it before anything is read. */
SPOOR_API int spoor_router_upload_file(struct spoor_router *r, const char *bucket, const char *key,
                                       const char *path, const struct spoor_s3_upload_opts *opts,
                                       spoor_s3_cb cb, void *ud, struct spoor_error *err);
SPOOR_API int spoor_router_upload_file_exec(struct spoor_router *r, const char *bucket,
                                            const char *key, const char *path,
                                            const struct spoor_s3_upload_opts *opts,
                                            struct spoor_s3_result *res, struct spoor_error *err);

/* How a caller's bucket and key are routed: for `spoor route explain` and messages. */
struct spoor_route_explain {
    int route_index;         /* 0-based position in the file; -1 for the implicit route */
    char from[1100];         /* s3://bucket/prefix of the route */
    char to[1100];           /* endpoint://bucket/prefix of the route */
    char endpoint[64];       /* endpoint name */
    char endpoint_type[16];  /* "s3", "lakefs", "file" */
    char endpoint_url[1024]; /* URL, or the root directory of a file endpoint */
    char region[64];
    char target[2200]; /* endpoint://bucket/key after translation */
    bool read_only;
    char credentials[400]; /* where the credentials came from; never the secret */
};
SPOOR_API int spoor_router_explain(const struct spoor_router *r, const char *bucket,
                                   const char *key, struct spoor_route_explain *out);

/* A presigned URL for bucket/key on the endpoint its route names (S3 and lakeFS endpoints
 * only). Same arguments as spoor_s3_presign. */
SPOOR_API int spoor_router_presign(const struct spoor_router *r, const char *method,
                                   const char *bucket, const char *key, long expires_s, char **url,
                                   struct spoor_error *err);

#ifdef __cplusplus
}
#endif
#endif
