/*
 * spoor/s3.h: the S3 client of libspoor.
 *
 * One request engine: libcurl's multi interface driven by a libuv loop (curl's socket and
 * timer callbacks on uv_poll and uv_timer). An engine bounds how many requests are in flight
 * and reuses connections; a client is one endpoint (URL, region, addressing, credentials) on an
 * engine. Several clients can share one engine, and then share its concurrency bound.
 *
 * Every operation is described by a struct spoor_s3_op and started with spoor_s3_submit()
 * (asynchronous, on the engine's loop) or run with spoor_s3_exec() (blocking: the same engine
 * on a private loop, for the CLI and other simple callers). There is no second implementation.
 *
 * The async contract: spoor_s3_submit() returning an error means the callback never runs;
 * returning 0 means it runs exactly once, on the loop, never from inside spoor_s3_submit().
 * spoor_s3_engine_close() cancels requests still in flight; their callbacks get
 * SPOOR_E_CANCELED.
 *
 * Retries: 5xx answers, SlowDown, RequestTimeout and connection failures are retried with
 * exponential backoff and full jitter, up to max_attempts; other 4xx answers never are. Every
 * attempt is signed anew. A GET streamed to a callback is retried only while nothing has been
 * delivered to the callback yet.
 *
 * Keys are bytes: any UTF-8 (and any byte but NUL), including spaces, '+', '%', '//' and './',
 * is sent percent-encoded once and never normalised, so it survives PUT, LIST and GET exactly.
 *
 * Threads: an engine and its clients belong to the thread that runs their loop. A blocking
 * engine (created with a NULL loop) belongs to the thread that calls spoor_s3_exec().
 */
#ifndef SPOOR_S3_H
#define SPOOR_S3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include <spoor/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct spoor_s3_engine;
struct spoor_s3_client;

/* ---- engine ---------------------------------------------------------------------------- */

struct spoor_s3_engine_opts {
    int max_concurrency; /* requests in flight at once; 0 means 16. More wait in FIFO order. */
};

/* New engine on loop (borrowed; must outlive the engine), or on a private loop when loop is
 * NULL, for spoor_s3_exec(). opts may be NULL. Returns NULL only if curl cannot start. */
SPOOR_API struct spoor_s3_engine *spoor_s3_engine_new(uv_loop_t *loop,
                                                      const struct spoor_s3_engine_opts *opts);

/* Cancels what is in flight (each callback gets SPOOR_E_CANCELED, before this returns) and
 * closes the engine's handles; the engine is freed once they are closed. On a private loop this
 * completes before it returns; on a caller's loop the caller keeps running the loop and
 * close_cb (may be NULL) says when it is done. Clients are freed after this, or before it when
 * they have no request in flight. */
SPOOR_API void spoor_s3_engine_close(struct spoor_s3_engine *e, void (*close_cb)(void *ud),
                                     void *ud);

/* Number of requests started (attempts included) and failed since the engine was made. */
SPOOR_API void spoor_s3_engine_stats(const struct spoor_s3_engine *e, uint64_t *requests,
                                     uint64_t *errors);

/* ---- configuration --------------------------------------------------------------------- */

enum spoor_s3_addressing {
    SPOOR_S3_ADDRESSING_AUTO,    /* virtual-host on AWS unless the bucket has a dot; else path */
    SPOOR_S3_ADDRESSING_PATH,    /* http://host/bucket/key */
    SPOOR_S3_ADDRESSING_VIRTUAL, /* http://bucket.host/key (never for buckets with dots) */
};

struct spoor_s3_credentials {
    char access_key_id[128];
    char secret_access_key[128];
    char session_token[4096]; /* "" when none */
    char source[320];         /* where they came from, for messages; never the secret */
};

struct spoor_s3_config {
    char name[64];          /* endpoint name for messages ("aws", a route's endpoint) */
    char endpoint_url[512]; /* scheme://host[:port], no path; "" means AWS for the region */
    char region[64];        /* "" means us-east-1 */
    enum spoor_s3_addressing addressing;
    struct spoor_s3_credentials creds;
    bool unsigned_payload;  /* sign UNSIGNED-PAYLOAD instead of the body's SHA-256 */
    int max_attempts;       /* tries per request, first included; 0 means 4 */
    int retry_base_ms;      /* first backoff ceiling; 0 means 100 */
    int retry_max_ms;       /* backoff ceiling; 0 means 5000 */
    int connect_timeout_ms; /* 0 means 5000 */
    int timeout_ms;         /* whole attempt; 0 means 60000, negative means none */
};

/* Fills cfg from the standard AWS environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 * AWS_SESSION_TOKEN, else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials) with profile (NULL means AWS_PROFILE, else "default"); the region from
 * AWS_REGION, AWS_DEFAULT_REGION, else the profile's region in ~/.aws/config (AWS_CONFIG_FILE),
 * else us-east-1; the endpoint from AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else AWS.
 * Missing credentials are SPOOR_E_CONFIG with a message saying what to set. */
SPOOR_API int spoor_s3_config_from_env(struct spoor_s3_config *cfg, const char *profile,
                                       struct spoor_error *err);

/* Reads one profile's keys from a shared credentials file (INI). Missing file: -ENOENT;
 * missing profile or keys: SPOOR_E_CONFIG naming the file and profile. */
SPOOR_API int spoor_s3_credentials_from_file(struct spoor_s3_credentials *creds, const char *path,
                                             const char *profile, struct spoor_error *err);

/* ---- client ---------------------------------------------------------------------------- */

/* New client for one endpoint on engine e (borrowed; must outlive the client). cfg is copied.
 * An invalid endpoint URL is SPOOR_E_CONFIG (NULL returned, err filled). */
SPOOR_API struct spoor_s3_client *spoor_s3_client_new(struct spoor_s3_engine *e,
                                                      const struct spoor_s3_config *cfg,
                                                      struct spoor_error *err);
/* Frees the client (NULL is a no-op). Its requests must have completed, or been canceled by
 * spoor_s3_engine_close; freeing a client with requests in flight aborts the program. */
SPOOR_API void spoor_s3_client_free(struct spoor_s3_client *c);
SPOOR_API const struct spoor_s3_config *spoor_s3_client_config(const struct spoor_s3_client *c);

/* ---- operations ------------------------------------------------------------------------ */

enum spoor_s3_op_kind {
    SPOOR_S3_PUT_OBJECT,
    SPOOR_S3_GET_OBJECT,
    SPOOR_S3_HEAD_OBJECT,
    SPOOR_S3_DELETE_OBJECT,
    SPOOR_S3_DELETE_OBJECTS,
    SPOOR_S3_LIST_OBJECTS, /* ListObjectsV2 */
    SPOOR_S3_CREATE_MULTIPART,
    SPOOR_S3_UPLOAD_PART,
    SPOOR_S3_COMPLETE_MULTIPART,
    SPOOR_S3_ABORT_MULTIPART,
    SPOOR_S3_COPY_OBJECT,
    SPOOR_S3_CREATE_BUCKET,
    SPOOR_S3_HEAD_BUCKET,
};

struct spoor_s3_meta {
    const char *name; /* without the x-amz-meta- prefix; sent lower-case */
    const char *value;
};

/* Request body: memory (data, len) or a byte range of a file (path, offset, length; length -1
 * means to the end). The file is read in pieces while sending, never loaded whole. */
struct spoor_s3_body {
    const void *data; /* borrowed until the callback */
    size_t len;
    const char *path;
    int64_t offset;
    int64_t length;
};

/* Where a GET's body goes. Default: a buffer of at most max_bytes (0 means 64 MiB) returned in
 * the result. With data_cb: each piece as it arrives; a non-zero return stops the transfer with
 * SPOOR_E_CALLBACK. With path: a file, created or truncated. */
typedef int (*spoor_s3_data_cb)(const void *data, size_t len, void *ud);
struct spoor_s3_sink {
    size_t max_bytes;
    spoor_s3_data_cb data_cb;
    void *data_ud;
    const char *path;
};

struct spoor_s3_part {
    int part_number; /* 1..10000 */
    const char *etag;
};

struct spoor_s3_op {
    enum spoor_s3_op_kind kind;
    const char *bucket;
    const char *key;
    int timeout_ms; /* this attempt's timeout; 0 means the client's */

    /* PUT_OBJECT, UPLOAD_PART */
    struct spoor_s3_body body;
    /* PUT_OBJECT, CREATE_MULTIPART, COPY_OBJECT (with replace_meta) */
    const char *content_type;
    const struct spoor_s3_meta *meta;
    size_t nmeta;
    bool replace_meta; /* COPY_OBJECT: x-amz-metadata-directive REPLACE */
    /* PUT_OBJECT: send Content-MD5 of the (memory) body */
    bool content_md5;

    /* GET_OBJECT */
    bool has_range;
    int64_t range_first;
    int64_t range_last; /* -1 means to the end */
    const char *if_match;
    struct spoor_s3_sink sink;

    /* LIST_OBJECTS */
    const char *prefix;
    const char *delimiter;
    const char *start_after;
    const char *continuation_token;
    int max_keys; /* 0 means the service's default (1000) */

    /* UPLOAD_PART, COMPLETE_MULTIPART, ABORT_MULTIPART */
    const char *upload_id;
    int part_number;
    const struct spoor_s3_part *parts;
    size_t nparts;

    /* COPY_OBJECT: source; bucket/key above are the destination */
    const char *src_bucket;
    const char *src_key;

    /* DELETE_OBJECTS: at most 1000 keys */
    const char *const *keys;
    size_t nkeys;
    bool quiet;
};

struct spoor_s3_object {
    char *key;
    char *etag;
    char *last_modified;
    char *storage_class;
    int64_t size;
};

struct spoor_s3_list {
    char *name;
    char *prefix;
    char *delimiter;
    char *start_after;
    char *continuation_token;
    char *next_continuation_token; /* NULL when not truncated */
    bool is_truncated;
    int key_count;
    int max_keys;
    struct spoor_s3_object *objects;
    size_t nobjects;
    char **common_prefixes;
    size_t nprefixes;
};

struct spoor_s3_delete_error {
    char *key;
    char *code;
    char *message;
};

struct spoor_s3_header {
    char *name; /* lower-case */
    char *value;
};

/* What an operation returns. Fields not produced by the operation are zero/NULL. */
struct spoor_s3_result {
    long http_status;
    char *etag;       /* ETag header, or the ETag of a copy/complete answer */
    char *request_id; /* x-amz-request-id */
    char *content_type;
    char *last_modified;
    int64_t content_length;       /* HEAD/GET: Content-Length header; -1 if absent */
    int64_t object_size;          /* HEAD/GET: whole object size (from Content-Range when ranged) */
    struct spoor_s3_header *meta; /* x-amz-meta-*, names without the prefix */
    size_t nmeta;
    char *body; /* GET into a buffer: the bytes (NUL-terminated for convenience) */
    size_t body_len;
    struct spoor_s3_list list; /* LIST_OBJECTS */
    char *upload_id;           /* CREATE_MULTIPART */
    char **deleted;            /* DELETE_OBJECTS: keys reported deleted */
    size_t ndeleted;
    struct spoor_s3_delete_error *delete_errors; /* DELETE_OBJECTS: per-key failures */
    size_t ndelete_errors;
};

/* Frees everything the result owns and zeroes it. A callback may take a field by copying the
 * pointer and setting it to NULL; the rest is freed after the callback returns. */
SPOOR_API void spoor_s3_result_cleanup(struct spoor_s3_result *res);
/* Value of user metadata name (without x-amz-meta-), or NULL. Borrowed from res. Names match
 * case-insensitively and with '_' equal to '-', because some services (Ceph RGW) turn the
 * underscores of metadata names into dashes. */
SPOOR_API const char *spoor_s3_result_meta(const struct spoor_s3_result *res, const char *name);

/* status is 0 or a negative code; err (never NULL) says more when status is not 0. res is
 * never NULL and is owned by the engine (see spoor_s3_result_cleanup for taking fields). */
typedef void (*spoor_s3_cb)(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                            void *ud);

/* Starts op on c's engine. op and every string and array it points to are copied before this
 * returns, except body.data, which is borrowed until the callback. Invalid arguments (missing
 * bucket or key, a key with a NUL, too many keys, ...) return SPOOR_E_INVALID and fill err. */
SPOOR_API int spoor_s3_submit(struct spoor_s3_client *c, const struct spoor_s3_op *op,
                              spoor_s3_cb cb, void *ud, struct spoor_error *err);

/* Runs op to completion on a client whose engine has a private loop, filling res (the caller
 * cleans it up with spoor_s3_result_cleanup, also on error) and err. */
SPOOR_API int spoor_s3_exec(struct spoor_s3_client *c, const struct spoor_s3_op *op,
                            struct spoor_s3_result *res, struct spoor_error *err);

/* ---- composite operations -------------------------------------------------------------- */

struct spoor_s3_upload_opts {
    const char *content_type;
    const struct spoor_s3_meta *meta;
    size_t nmeta;
    int64_t part_size_bytes;           /* 0 means 8 MiB; at least 5 MiB */
    int64_t multipart_threshold_bytes; /* files at least this large use multipart; 0: 16 MiB */
    int parallel_parts;                /* parts in flight at once; 0 means 4 */
};

/* Uploads a local file to bucket/key: one PutObject when small, else a multipart upload whose
 * parts are streamed from the file (never loaded whole) and which is aborted on failure.
 * The callback's res carries the final ETag when the service sent one. */
SPOOR_API int spoor_s3_upload_file(struct spoor_s3_client *c, const char *bucket, const char *key,
                                   const char *path, const struct spoor_s3_upload_opts *opts,
                                   spoor_s3_cb cb, void *ud, struct spoor_error *err);
/* Blocking form of spoor_s3_upload_file, for a client with a private loop. */
SPOOR_API int spoor_s3_upload_file_exec(struct spoor_s3_client *c, const char *bucket,
                                        const char *key, const char *path,
                                        const struct spoor_s3_upload_opts *opts,
                                        struct spoor_s3_result *res, struct spoor_error *err);

/* Presigned GET (or other method) URL for bucket/key valid for expires_s seconds (at most
 * 604800), appended to *url as a new string (caller frees). Signed at time now_s (0: now). */
SPOOR_API int spoor_s3_presign(const struct spoor_s3_client *c, const char *method,
                               const char *bucket, const char *key, long expires_s, int64_t now_s,
                               char **url, struct spoor_error *err);

#ifdef __cplusplus
}
#endif
#endif
