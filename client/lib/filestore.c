/*
 * filestore.c: the `file` endpoint (see filestore.h): lifecycle, errors, dispatch of an
 * operation to its implementation, buckets, and the async path on libuv's thread pool.
 * It is deliberately not a server or a cache: every call goes to the file system.
 *
 * On-disk layout under root (every name the store makes for itself contains '#', which the
 * escaping of key segments always escapes, so no key can collide with them):
 *
 *   <root>/<bucket>/                      a bucket ("." "..", '/' and a leading '#' refused)
 *   <root>/<bucket>/<e1>/.../<eN>#m       metadata of key s1/.../sN (JSON, the commit point)
 *   <root>/<bucket>/<e1>/.../<eN>#d<id>   its bytes: an immutable data file named by the
 *                                         metadata ("data": id, 16 random hex digits)
 *   <root>/<bucket>/<e1>/.../#t<id>       a temporary file (never part of an object)
 *   <root>/<bucket>/#uploads/<upload id>/ a multipart upload: "info" (key, content type,
 *                                         metadata), parts "<nnnnn>.<md5 hex>", temp files
 *
 * where e1..eN are the escaped '/'-separated segments of the key (filestore_path.c), so key
 * "a" (a#m) and keys under "a/" (directory a) coexist. Metadata is JSON: {"v", "data", "etag",
 * "size", "content_type", "mtime_ms", "meta": [[name, value], ...]}.
 *
 * Invariants:
 *  - An object exists exactly when its #m file does. A write creates a new data file (fsync),
 *    then a temporary metadata file (fsync), syncs the directory, renames the metadata into
 *    place and syncs the directory again: readers see the old version or the new one, whole,
 *    after a crash too. Data files are never written after that rename, only unlinked, so a
 *    reader holding one open keeps a consistent snapshot, and a copy can hard-link one.
 *  - The data file of a replaced or deleted version is unlinked by whoever replaced it; a
 *    per-key lock (in this process) makes "read old metadata, rename new" one step. A crash (or
 *    two processes writing one key at once) can leave an unreferenced #d or #t file: garbage,
 *    never visible, never wrong bytes.
 *  - Directories hold no meaning of their own: empty ones left by a delete are removed up to
 *    the bucket, and a writer racing that removal makes them again.
 */
#include "filestore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "s3_op.h"
#include "util.h"

/* ---- errors ------------------------------------------------------------------------------ */

static void describe(const struct spoor_s3_op *o, char *out, size_t n)
{
    if (o->key)
        snprintf(out, n, "%s s3://%s/%s", s3_op_name(o->kind), o->bucket, o->key);
    else
        snprintf(out, n, "%s s3://%s", s3_op_name(o->kind), o->bucket);
}

static void endpoint_label(const struct filestore *fs, char *out, size_t n)
{
    snprintf(out, n, "endpoint %s (file://%s)", fs->name, fs->root);
}

static int fail_v(struct fs_ctx *c, int code, const char *fmt, va_list ap)
{
    char what[1200], ep[400], detail[1200];
    describe(c->op, what, sizeof what);
    endpoint_label(c->fs, ep, sizeof ep);
    vsnprintf(detail, sizeof detail, fmt, ap);
    return spoor_error_set(c->err, code, "%s on %s: %s", what, ep, detail);
}

int fs_fail(struct fs_ctx *c, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fail_v(c, code, fmt, ap);
    va_end(ap);
    return code;
}

int fs_fail_s3(struct fs_ctx *c, long http_status, const char *code, const char *fmt, ...)
{
    char detail[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    str_copy(c->err->s3_code, sizeof c->err->s3_code, code);
    c->err->http_status = http_status;
    c->res->http_status = http_status;
    return fs_fail(c, SPOOR_E_S3, "%s: %s (HTTP %ld)", code, detail, http_status);
}

int fs_fail_errno(struct fs_ctx *c, int errnum, const char *what, const char *rel)
{
    if (errnum > 0)
        errnum = -errnum;
    return fs_fail(c, errnum, "%s %s/%s/%s: %s", what, c->fs->root, c->op->bucket, rel,
                   strerror(-errnum));
}

int fs_no_such_key(struct fs_ctx *c, const char *bucket, const struct fs_keypath *kp)
{
    struct buf p;
    buf_init(&p, FS_PATH_MAX);
    fs_keypath_name(kp, "#m", &p);
    fs_fail_s3(c, 404, "NoSuchKey", "The specified key does not exist (no file %s/%s/%s)",
               c->fs->root, bucket, p.data);
    buf_cleanup(&p);
    return SPOOR_E_S3;
}

int fs_no_such_bucket(struct fs_ctx *c, const char *bucket)
{
    return fs_fail_s3(c, 404, "NoSuchBucket",
                      "The specified bucket %s does not exist (no directory %s/%s); check the "
                      "bucket name, or create the bucket",
                      bucket, c->fs->root, bucket);
}

int fs_bucket_open(struct fs_ctx *c, const char *bucket, int *fd)
{
    /* A bucket may be a symbolic link (to another disk, say): the operator made it. */
    *fd = openat(c->fs->root_fd, bucket, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (*fd >= 0)
        return 0;
    if (errno == ENOENT || errno == ENOTDIR)
        return fs_no_such_bucket(c, bucket);
    int e = errno;
    return fs_fail(c, -e, "cannot open bucket directory %s/%s: %s", c->fs->root, bucket,
                   strerror(e));
}

uv_mutex_t *fs_key_lock(struct filestore *fs, const char *bucket, const char *key)
{
    uint32_t h = 2166136261u; /* FNV-1a over "bucket\0key" */
    for (const char *p = bucket;; p++) {
        h = (h ^ (unsigned char)*p) * 16777619u;
        if (!*p)
            break;
    }
    for (const char *p = key; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return &fs->locks[h % FS_NLOCKS];
}

/* ---- checks -------------------------------------------------------------------------------- */

static int check_bucket(const struct spoor_s3_op *op, const char *b, struct spoor_error *err)
{
    if (!b || !b[0] || strchr(b, '/') || strcmp(b, ".") == 0 || strcmp(b, "..") == 0 ||
        b[0] == '#' || strlen(b) > 255)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "%s: bucket name \"%s\" cannot be used by a file endpoint: it "
                               "must be 1-255 bytes without '/', not \".\" or \"..\", and not "
                               "start with '#'",
                               s3_op_name(op->kind), b ? b : "");
    return 0;
}

static int check_key(const struct spoor_s3_op *op, const char *key, struct spoor_error *err)
{
    struct fs_keypath kp;
    int rc = fs_keypath_init(&kp, key);
    fs_keypath_cleanup(&kp);
    if (rc)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "%s: key \"%.80s%s\" has a '/'-separated segment longer than "
                               "the file store's limit of %d bytes once escaped "
                               "(ENAMETOOLONG); split it with '/'",
                               s3_op_name(op->kind), key, strlen(key) > 80 ? "..." : "",
                               FS_SEG_MAX);
    return 0;
}

/* Arguments the file store cannot take, refused before anything runs (as the engine does). */
static int check_op(const struct spoor_s3_op *op, struct spoor_error *err)
{
    int rc = s3_op_validate(op, err);
    if (rc == 0)
        rc = check_bucket(op, op->bucket, err);
    if (rc == 0 && op->kind == SPOOR_S3_COPY_OBJECT)
        rc = check_bucket(op, op->src_bucket, err);
    if (rc == 0 && op->key && op->kind != SPOOR_S3_DELETE_OBJECTS &&
        op->kind != SPOOR_S3_LIST_OBJECTS)
        rc = check_key(op, op->key, err);
    if (rc == 0 && op->kind == SPOOR_S3_COPY_OBJECT)
        rc = check_key(op, op->src_key, err);
    return rc;
}

/* ---- buckets ------------------------------------------------------------------------------- */

static int bucket_create(struct fs_ctx *c)
{
    if (mkdirat(c->fs->root_fd, c->op->bucket, 0777) != 0) {
        if (errno == EEXIST)
            return fs_fail_s3(c, 409, "BucketAlreadyOwnedByYou",
                              "Your previous request to create the named bucket succeeded and "
                              "you already own it (%s/%s exists)",
                              c->fs->root, c->op->bucket);
        int e = errno;
        return fs_fail(c, -e, "cannot create bucket directory %s/%s: %s", c->fs->root,
                       c->op->bucket, strerror(e));
    }
    fsync(c->fs->root_fd);
    c->res->http_status = 200;
    return 0;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

static int dispatch(struct fs_ctx *c)
{
    switch (c->op->kind) {
    case SPOOR_S3_PUT_OBJECT:
        return fs_put(c);
    case SPOOR_S3_GET_OBJECT:
        return fs_get(c);
    case SPOOR_S3_HEAD_OBJECT:
        return fs_head(c);
    case SPOOR_S3_DELETE_OBJECT:
        return fs_delete(c);
    case SPOOR_S3_DELETE_OBJECTS:
        return fs_delete_many(c);
    case SPOOR_S3_LIST_OBJECTS:
        return fs_list(c);
    case SPOOR_S3_CREATE_MULTIPART:
        return fs_mp_create(c);
    case SPOOR_S3_UPLOAD_PART:
        return fs_mp_part(c);
    case SPOOR_S3_COMPLETE_MULTIPART:
        return fs_mp_complete(c);
    case SPOOR_S3_ABORT_MULTIPART:
        return fs_mp_abort(c);
    case SPOOR_S3_COPY_OBJECT:
        return fs_copy(c);
    case SPOOR_S3_HEAD_BUCKET:
        c->res->http_status = 200;
        return 0;
    default:
        return fs_fail(c, SPOOR_E_INVALID, "unknown operation");
    }
}

/* Runs a checked op on this thread. err is not NULL and was cleared. */
static int run(struct filestore *fs, const struct spoor_s3_op *op, struct spoor_s3_result *res,
               struct spoor_error *err, struct fs_stream *stream)
{
    struct fs_ctx c = {fs, op, res, err, -1, stream};
    int rc;
    if (op->kind == SPOOR_S3_CREATE_BUCKET)
        rc = bucket_create(&c);
    else if ((rc = fs_bucket_open(&c, op->bucket, &c.bfd)) == 0)
        rc = dispatch(&c);
    if (c.bfd >= 0)
        close(c.bfd);
    return rc;
}

static void finish_error(const struct filestore *fs, int rc, struct spoor_error *err)
{
    if (rc == 0)
        return;
    err->code = rc;
    err->attempts = 1;
    endpoint_label(fs, err->endpoint, sizeof err->endpoint);
}

static void result_init(struct spoor_s3_result *res)
{
    memset(res, 0, sizeof *res);
    spoor_s3_result_cleanup(res);
}

int filestore_exec(struct filestore *fs, const struct spoor_s3_op *op, struct spoor_s3_result *res,
                   struct spoor_error *err)
{
    struct spoor_error local;
    if (!err)
        err = &local;
    spoor_error_clear(err);
    result_init(res);
    int rc = check_op(op, err);
    if (rc == 0)
        rc = run(fs, op, res, err, NULL);
    finish_error(fs, rc, err);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int mkdir_parents(const char *root)
{
    char *p = xstrdup(root);
    for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            free(p);
            return -errno;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0777) == 0 || errno == EEXIST ? 0 : -errno;
    free(p);
    return rc;
}

struct filestore *filestore_new(uv_loop_t *loop, const char *root, const char *name,
                                struct spoor_error *err)
{
    if (!root || !root[0]) {
        spoor_error_set(err, SPOOR_E_CONFIG, "file endpoint %s: no root directory given",
                        name ? name : "");
        return NULL;
    }
    int rc = mkdir_parents(root);
    int fd = rc ? -1 : open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int e = rc ? -rc : errno;
        spoor_error_set(err, -e, "file endpoint %s: cannot use %s as its root directory: %s",
                        name ? name : "", root, strerror(e));
        return NULL;
    }
    struct filestore *fs = xcalloc(1, sizeof *fs);
    fs->loop = loop;
    fs->root = xstrdup(root);
    fs->name = xstrdup(name && name[0] ? name : "file");
    fs->root_fd = fd;
    for (int i = 0; i < FS_NLOCKS; i++)
        if (uv_mutex_init(&fs->locks[i]) != 0)
            abort();
    return fs;
}

void filestore_free(struct filestore *fs)
{
    if (!fs)
        return;
    if (fs->inflight) {
        fprintf(stderr, "spoor: filestore_free with %d operations in flight\n", fs->inflight);
        abort();
    }
    for (int i = 0; i < FS_NLOCKS; i++)
        uv_mutex_destroy(&fs->locks[i]);
    close(fs->root_fd);
    free(fs->root);
    free(fs->name);
    free(fs);
}

const char *filestore_root(const struct filestore *fs)
{
    return fs->root;
}

/* ---- async --------------------------------------------------------------------------------- */

/* One submitted operation: the work runs on the thread pool; the callback (and, for a GET to
 * a data_cb, every delivery, each piece read by uv_fs_read) runs on the loop. */
struct fs_job {
    uv_work_t work;
    uv_fs_t read_req;
    struct filestore *fs;
    struct arena arena; /* the op's strings and arrays */
    struct spoor_s3_op op;
    spoor_s3_cb cb;
    void *ud;
    int status;
    struct spoor_s3_result res;
    struct spoor_error err;
    struct fs_stream stream;
    char *chunk;
};

static void job_finish(struct fs_job *j)
{
    if (j->stream.fd >= 0)
        close(j->stream.fd);
    finish_error(j->fs, j->status, &j->err);
    j->fs->inflight--;
    j->cb(j->status, &j->res, &j->err, j->ud);
    spoor_s3_result_cleanup(&j->res);
    free(j->chunk);
    arena_cleanup(&j->arena);
    free(j);
}

static void stream_next(struct fs_job *j);

static void on_stream_read(uv_fs_t *req)
{
    struct fs_job *j = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    struct fs_ctx c = {j->fs, &j->op, &j->res, &j->err, -1, NULL};
    if (n <= 0) {
        j->status = fs_stream_fail(&c, n < 0 ? (int)n : -EIO);
        job_finish(j);
        return;
    }
    if (j->op.sink.data_cb(j->chunk, (size_t)n, j->op.sink.data_ud) != 0) {
        j->status = fs_stream_fail(&c, SPOOR_E_CALLBACK);
        job_finish(j);
        return;
    }
    j->stream.offset += n;
    j->stream.left -= n;
    stream_next(j);
}

static void stream_next(struct fs_job *j)
{
    if (j->stream.left == 0) {
        job_finish(j);
        return;
    }
    if (!j->chunk)
        j->chunk = xmalloc(FS_CHUNK);
    size_t n = j->stream.left < FS_CHUNK ? (size_t)j->stream.left : FS_CHUNK;
    uv_buf_t b = uv_buf_init(j->chunk, (unsigned)n);
    j->read_req.data = j;
    int rc = uv_fs_read(j->fs->loop, &j->read_req, j->stream.fd, &b, 1, j->stream.offset,
                        on_stream_read);
    if (rc < 0) {
        struct fs_ctx c = {j->fs, &j->op, &j->res, &j->err, -1, NULL};
        j->status = fs_stream_fail(&c, rc);
        job_finish(j);
    }
}

static void on_work(uv_work_t *w)
{
    struct fs_job *j = w->data;
    j->status = run(j->fs, &j->op, &j->res, &j->err, &j->stream);
}

static void on_work_done(uv_work_t *w, int status)
{
    struct fs_job *j = w->data;
    if (status == UV_ECANCELED) {
        struct fs_ctx c = {j->fs, &j->op, &j->res, &j->err, -1, NULL};
        j->status = fs_fail(&c, SPOOR_E_CANCELED, "canceled before it ran");
    }
    if (j->status == 0 && j->stream.fd >= 0)
        stream_next(j);
    else
        job_finish(j);
}

int filestore_submit(struct filestore *fs, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud,
                     struct spoor_error *err)
{
    if (!fs->loop)
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "file endpoint %s: filestore_submit needs a store made with a "
                               "loop; use filestore_exec",
                               fs->name);
    int rc = check_op(op, err);
    if (rc)
        return rc;
    struct fs_job *j = xcalloc(1, sizeof *j);
    j->fs = fs;
    j->cb = cb;
    j->ud = ud;
    j->stream.fd = -1;
    j->work.data = j;
    arena_init(&j->arena);
    s3_op_copy(&j->arena, &j->op, op);
    result_init(&j->res);
    rc = uv_queue_work(fs->loop, &j->work, on_work, on_work_done);
    if (rc) {
        arena_cleanup(&j->arena);
        free(j);
        return spoor_error_set(err, SPOOR_E_INVALID, "file endpoint %s: cannot queue work: %s",
                               fs->name, uv_strerror(rc));
    }
    fs->inflight++;
    return 0;
}
