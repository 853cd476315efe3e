/*
 * s3_upload.c: composite operations on top of spoor_s3_submit: uploading a file (one PUT when
 * small, else a streamed multipart upload) and presigned URLs.
 *
 * Multipart states:
 *
 *   CREATE --ok--> PARTS (at most parallel_parts in flight, each a file range read while sent)
 *     |              |--all ok--> COMPLETE --> done
 *     '--fail--> done '--a part failed--> (wait for in-flight parts) --> ABORT --> done(first
 * error)
 *
 * The file is never loaded whole: each part is a (path, offset, length) body that the engine
 * reads in pieces. Part ETags are kept in part-number order for CompleteMultipartUpload.
 */
#include "s3_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "uri.h"
#include "util.h"

#define MIN_PART_BYTES (5 * 1024 * 1024)

struct upload {
    s3_submit_fn submit;
    void *target;
    struct arena arena;
    const char *bucket, *key, *path, *content_type;
    struct spoor_s3_meta *meta;
    size_t nmeta;
    int64_t size, part_size;
    int nparts, next_part, in_flight, parallel;
    struct spoor_s3_part *parts;
    char *upload_id;
    int status; /* first failure */
    struct spoor_error err;
    spoor_s3_cb cb;
    void *ud;
};

static void upload_free(struct upload *u)
{
    for (int i = 0; i < u->nparts; i++)
        free((char *)u->parts[i].etag);
    free(u->parts);
    free(u->upload_id);
    arena_cleanup(&u->arena);
    free(u);
}

static void upload_done(struct upload *u, int status, struct spoor_s3_result *res)
{
    struct spoor_s3_result empty;
    memset(&empty, 0, sizeof empty);
    spoor_s3_result_cleanup(&empty);
    u->cb(status, res ? res : &empty, &u->err, u->ud);
    spoor_s3_result_cleanup(&empty);
    upload_free(u);
}

static void fail(struct upload *u, int status, const struct spoor_error *err)
{
    if (u->status)
        return;
    u->status = status;
    u->err = *err;
}

static void on_abort(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                     void *ud)
{
    upload_done(ud, ((struct upload *)ud)->status, NULL);
}

static void abort_upload(struct upload *u)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_ABORT_MULTIPART,
                             .bucket = u->bucket,
                             .key = u->key,
                             .upload_id = u->upload_id};
    struct spoor_error e;
    if (u->submit(u->target, &op, on_abort, u, &e) != 0)
        upload_done(u, u->status, NULL);
}

static void on_complete(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                        void *ud)
{
    struct upload *u = ud;
    if (status) {
        fail(u, status, err);
        abort_upload(u);
        return;
    }
    upload_done(u, 0, res);
}

static void complete_upload(struct upload *u)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                             .bucket = u->bucket,
                             .key = u->key,
                             .upload_id = u->upload_id,
                             .parts = u->parts,
                             .nparts = (size_t)u->nparts};
    struct spoor_error e;
    int rc = u->submit(u->target, &op, on_complete, u, &e);
    if (rc) {
        fail(u, rc, &e);
        abort_upload(u);
    }
}

static void send_parts(struct upload *u);

static void on_part(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud);

struct part_ctx {
    struct upload *u;
    int index;
};

static void send_part(struct upload *u, int i)
{
    struct part_ctx *p = arena_alloc(&u->arena, sizeof *p);
    p->u = u;
    p->index = i;
    int64_t off = (int64_t)i * u->part_size;
    int64_t len = off + u->part_size > u->size ? u->size - off : u->part_size;
    struct spoor_s3_op op = {.kind = SPOOR_S3_UPLOAD_PART,
                             .bucket = u->bucket,
                             .key = u->key,
                             .upload_id = u->upload_id,
                             .part_number = i + 1,
                             .body = {.path = u->path, .offset = off, .length = len}};
    struct spoor_error e;
    int rc = u->submit(u->target, &op, on_part, p, &e);
    if (rc)
        fail(u, rc, &e);
    else
        u->in_flight++;
}

static void on_part(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct part_ctx *p = ud;
    struct upload *u = p->u;
    u->in_flight--;
    if (status)
        fail(u, status, err);
    else
        u->parts[p->index].etag = xstrdup(res->etag ? res->etag : "");
    send_parts(u);
}

/* Keeps up to parallel parts in flight; completes or aborts when none is left. */
static void send_parts(struct upload *u)
{
    while (!u->status && u->next_part < u->nparts && u->in_flight < u->parallel)
        send_part(u, u->next_part++);
    if (u->in_flight > 0)
        return;
    if (u->status)
        abort_upload(u);
    else if (u->next_part == u->nparts)
        complete_upload(u);
}

static void on_created(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                       void *ud)
{
    struct upload *u = ud;
    if (status) {
        fail(u, status, err);
        upload_done(u, status, NULL);
        return;
    }
    u->upload_id = res->upload_id;
    res->upload_id = NULL;
    send_parts(u);
}

static void on_single_put(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                          void *ud)
{
    struct upload *u = ud;
    if (status)
        fail(u, status, err);
    upload_done(u, status, res);
}

static struct upload *upload_new(s3_submit_fn submit, void *target, const char *bucket,
                                 const char *key, const char *path,
                                 const struct spoor_s3_upload_opts *o)
{
    struct upload *u = xcalloc(1, sizeof *u);
    arena_init(&u->arena);
    u->submit = submit;
    u->target = target;
    u->bucket = arena_strdup(&u->arena, bucket);
    u->key = arena_strdup(&u->arena, key);
    u->path = arena_strdup(&u->arena, path);
    u->content_type = arena_strdup(&u->arena, o->content_type);
    u->meta = arena_alloc(&u->arena, o->nmeta * sizeof *u->meta);
    for (size_t i = 0; i < o->nmeta; i++) {
        u->meta[i].name = arena_strdup(&u->arena, o->meta[i].name);
        u->meta[i].value = arena_strdup(&u->arena, o->meta[i].value);
    }
    u->nmeta = o->nmeta;
    u->part_size = o->part_size_bytes > 0 ? o->part_size_bytes : 8 * 1024 * 1024;
    u->parallel = o->parallel_parts > 0 ? o->parallel_parts : 4;
    return u;
}

static int submit_client(void *target, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud,
                         struct spoor_error *err)
{
    return spoor_s3_submit(target, op, cb, ud, err);
}

int spoor_s3_upload_file(struct spoor_s3_client *c, const char *bucket, const char *key,
                         const char *path, const struct spoor_s3_upload_opts *opts, spoor_s3_cb cb,
                         void *ud, struct spoor_error *err)
{
    return s3_upload_file_via(submit_client, c, bucket, key, path, opts, cb, ud, err);
}

int s3_upload_file_via(s3_submit_fn submit, void *target, const char *bucket, const char *key,
                       const char *path, const struct spoor_s3_upload_opts *opts, spoor_s3_cb cb,
                       void *ud, struct spoor_error *err)
{
    static const struct spoor_s3_upload_opts defaults;
    const struct spoor_s3_upload_opts *o = opts ? opts : &defaults;
    struct stat st;
    if (stat(path, &st) != 0)
        return spoor_error_set(err, -errno, "cannot upload %s: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return spoor_error_set(err, -EINVAL, "cannot upload %s: not a regular file", path);
    if (o->part_size_bytes && o->part_size_bytes < MIN_PART_BYTES)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "part size %" PRId64 " is below S3's 5 MiB minimum",
                               o->part_size_bytes);
    struct upload *u = upload_new(submit, target, bucket, key, path, o);
    u->cb = cb;
    u->ud = ud;
    u->size = st.st_size;
    int64_t threshold =
        o->multipart_threshold_bytes > 0 ? o->multipart_threshold_bytes : 16 * 1024 * 1024;
    struct spoor_s3_op op = {.bucket = bucket,
                             .key = key,
                             .content_type = o->content_type,
                             .meta = o->meta,
                             .nmeta = o->nmeta};
    int rc;
    if (u->size < threshold) {
        op.kind = SPOOR_S3_PUT_OBJECT;
        op.body = (struct spoor_s3_body){.path = path, .offset = 0, .length = -1};
        rc = submit(target, &op, on_single_put, u, err);
    } else {
        u->nparts = (int)((u->size + u->part_size - 1) / u->part_size);
        if (u->nparts > 10000) {
            upload_free(u);
            return spoor_error_set(err, SPOOR_E_INVALID,
                                   "%s needs more than 10000 parts: use a larger part size", path);
        }
        u->parts = xcalloc((size_t)u->nparts, sizeof *u->parts);
        for (int i = 0; i < u->nparts; i++)
            u->parts[i].part_number = i + 1;
        op.kind = SPOOR_S3_CREATE_MULTIPART;
        rc = submit(target, &op, on_created, u, err);
    }
    if (rc)
        upload_free(u);
    return rc;
}

int spoor_s3_upload_file_exec(struct spoor_s3_client *c, const char *bucket, const char *key,
                              const char *path, const struct spoor_s3_upload_opts *opts,
                              struct spoor_s3_result *res, struct spoor_error *err)
{
    struct s3_sync w;
    int rc = s3_sync_begin(c->engine->private_loop, &w, res, err);
    if (rc)
        return rc;
    return s3_sync_wait(c->engine->loop, &w,
                        spoor_s3_upload_file(c, bucket, key, path, opts, s3_sync_cb, &w, err));
}

int spoor_s3_presign(const struct spoor_s3_client *c, const char *method, const char *bucket,
                     const char *key, long expires_s, int64_t now_s, char **url,
                     struct spoor_error *err)
{
    if (expires_s < 1 || expires_s > 604800)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "presigned URL lifetime %ld s is outside 1..604800", expires_s);
    struct s3_req r;
    memset(&r, 0, sizeof r);
    r.c = (struct spoor_s3_client *)c;
    arena_init(&r.arena);
    struct spoor_s3_op op = {.kind = SPOOR_S3_HEAD_OBJECT, .bucket = bucket, .key = key};
    int rc = s3_op_validate(&op, err);
    if (!rc) {
        s3_op_copy(&r.arena, &r.op, &op);
        rc = s3_request_build(&r, err);
    }
    if (rc) {
        arena_cleanup(&r.arena);
        return rc;
    }
    char amz_date[17];
    sigv4_amz_date(now_s ? (time_t)now_s : time(NULL), amz_date);
    struct sigv4_kv host = {"host", r.host};
    struct sigv4_request sreq = {method, r.path, NULL, 0, &host, 1, SIGV4_UNSIGNED_PAYLOAD};
    struct sigv4_signer signer = {c->cfg.creds.access_key_id, c->cfg.creds.secret_access_key,
                                  c->cfg.region, "s3", amz_date};
    struct buf b;
    buf_init(&b, 64 * 1024);
    buf_printf(&b, "%s://%s%s?", c->scheme, r.host, r.path);
    rc = sigv4_presign_query(&sreq, &signer,
                             c->cfg.creds.session_token[0] ? c->cfg.creds.session_token : NULL,
                             expires_s, &b);
    arena_cleanup(&r.arena);
    if (rc) {
        buf_cleanup(&b);
        return spoor_error_set(err, rc, "cannot presign s3://%s/%s", bucket, key);
    }
    *url = buf_take(&b, NULL);
    return 0;
}
