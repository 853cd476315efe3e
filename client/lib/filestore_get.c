/*
 * filestore_get.c: reading objects from the file store: HeadObject and GetObject with ranges,
 * If-Match and the three sinks (a buffer with a ceiling, a data callback, a file written to a
 * temporary name and renamed), with results filled as the S3 engine fills them.
 *
 * A reader takes the metadata document, then opens the data file it names; when a writer
 * replaced the version in between (that data file is gone), it reads the document again. An
 * open data file never changes (filestore.c), so what is delivered is one version, whole.
 * For a data callback on the async path the open file is handed back (struct fs_stream) and
 * read on the loop, so the callback runs on the loop thread as the engine's does.
 */
#include "filestore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/* ---- reading ------------------------------------------------------------------------------- */

/* The current version of kp's object: its document and (when fd is not NULL) its data file,
 * opened, checked against the document's size. */
int fs_obj_open(struct fs_ctx *c, int bfd, const char *bucket, const struct fs_keypath *kp,
                struct fs_meta *m, int *fd)
{
    struct buf rel;
    buf_init(&rel, FS_PATH_MAX);
    int rc = -EAGAIN;
    for (int tries = 0; rc == -EAGAIN && tries < FS_TRIES; tries++) {
        fs_keypath_name(kp, "#m", &rel);
        rc = fs_meta_load(bfd, rel.data, m);
        if (rc == -ENOENT || rc == -ENOTDIR) {
            rc = fs_no_such_key(c, bucket, kp);
            break;
        }
        if (rc) {
            rc = rc == SPOOR_E_PARSE ? fs_fail(c, rc, "corrupt metadata file %s/%s/%s", c->fs->root,
                                               bucket, rel.data)
                                     : fs_fail(c, rc, "cannot read %s/%s/%s: %s", c->fs->root,
                                               bucket, rel.data, strerror(-rc));
            break;
        }
        if (!fd)
            break;
        char suffix[FS_ID_HEX + 3];
        snprintf(suffix, sizeof suffix, "#d%s", m->data_id);
        fs_keypath_name(kp, suffix, &rel);
        struct stat st;
        *fd = openat(bfd, rel.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (*fd >= 0 && fstat(*fd, &st) == 0 && st.st_size == m->size)
            break;
        int e = *fd < 0 ? errno : 0;
        if (e == ENOENT) /* replaced since the document was read */
            rc = -EAGAIN;
        else if (e)
            rc = fs_fail(c, -e, "cannot open data file %s/%s/%s: %s", c->fs->root, bucket, rel.data,
                         strerror(e));
        else
            rc = fs_fail(c, SPOOR_E_PARSE,
                         "data file %s/%s/%s is not the %lld bytes its "
                         "metadata says",
                         c->fs->root, bucket, rel.data, (long long)m->size);
        if (*fd >= 0)
            close(*fd);
        *fd = -1;
        fs_meta_cleanup(m);
    }
    if (rc == -EAGAIN)
        rc = fs_fail(c, -EAGAIN, "the object changed %d times while being opened", FS_TRIES);
    buf_cleanup(&rel);
    return rc;
}

static void fill_headers(struct fs_ctx *c, const struct fs_meta *m)
{
    struct spoor_s3_result *res = c->res;
    char date[FS_DATE_MAX];
    fs_http_date(m->mtime_ms, date);
    res->etag = xstrdup(m->etag);
    res->content_type = xstrdup(m->content_type);
    res->last_modified = xstrdup(date);
    size_t n = json_array_size(m->meta);
    res->meta = xcalloc(n, sizeof *res->meta);
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array_get(m->meta, i);
        const char *name = json_string_value(json_array_get(pair, 0));
        const char *value = json_string_value(json_array_get(pair, 1));
        res->meta[res->nmeta].name = xstrdup(name ? name : "");
        res->meta[res->nmeta].value = xstrdup(value ? value : "");
        res->nmeta++;
    }
    res->object_size = m->size;
}

int fs_head(struct fs_ctx *c)
{
    struct fs_keypath kp;
    fs_keypath_init(&kp, c->op->key);
    struct fs_meta m;
    int rc = fs_obj_open(c, c->bfd, c->op->bucket, &kp, &m, NULL);
    if (rc == 0) {
        fill_headers(c, &m);
        c->res->http_status = 200;
        c->res->content_length = m.size;
        fs_meta_cleanup(&m);
    }
    fs_keypath_cleanup(&kp);
    return rc;
}

/* ---- GetObject ----------------------------------------------------------------------------- */

/* If-Match as S3 compares it: "*" or the ETag, quotes optional. */
static bool etag_matches(const char *want, const char *etag)
{
    if (strcmp(want, "*") == 0)
        return true;
    size_t wn = strlen(want), en = strlen(etag);
    if (wn >= 2 && want[0] == '"' && want[wn - 1] == '"')
        want++, wn -= 2;
    if (en >= 2 && etag[0] == '"' && etag[en - 1] == '"')
        etag++, en -= 2;
    return wn == en && memcmp(want, etag, wn) == 0;
}

int fs_stream_fail(struct fs_ctx *c, int rc)
{
    if (rc == SPOOR_E_CALLBACK)
        return fs_fail(c, rc, "the data callback asked to stop");
    return fs_fail(c, rc, "cannot read the object's data file: %s", strerror(-rc));
}

static int deliver_cb(struct fs_ctx *c, int fd, int64_t offset, int64_t len)
{
    const struct spoor_s3_sink *s = &c->op->sink;
    char *chunk = xmalloc(FS_CHUNK);
    int rc = 0;
    while (rc == 0 && len > 0) {
        size_t n = len < FS_CHUNK ? (size_t)len : FS_CHUNK;
        rc = fs_pread_all(fd, chunk, n, offset);
        if (rc == 0 && s->data_cb(chunk, n, s->data_ud) != 0)
            rc = SPOOR_E_CALLBACK;
        offset += (int64_t)n;
        len -= (int64_t)n;
    }
    free(chunk);
    return rc ? fs_stream_fail(c, rc) : 0;
}

/* A file sink: a temporary file beside it (unique per request, as the engine names it),
 * renamed over it when complete, removed when not. */
static int deliver_file(struct fs_ctx *c, int fd, int64_t offset, int64_t len)
{
    const char *path = c->op->sink.path;
    struct buf tmp;
    buf_init(&tmp, FS_PATH_MAX);
    buf_printf(&tmp, "%s.spoor-tmp-XXXXXX", path);
    int out = mkostemp(tmp.data, O_CLOEXEC), rc = 0;
    if (out < 0) {
        int e = errno;
        rc = fs_fail(c, -e, "cannot create a temporary file beside %s: %s", path, strerror(e));
        buf_cleanup(&tmp);
        return rc;
    }
    fchmod(out, 0644);
    rc = fs_copy_fd(fd, offset, len, out);
    if (close(out) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp.data, path) != 0)
        rc = -errno;
    if (rc) {
        unlink(tmp.data);
        rc = fs_fail(c, rc, "cannot write %s: %s", path, strerror(-rc));
    }
    buf_cleanup(&tmp);
    return rc;
}

static int deliver_buffer(struct fs_ctx *c, int fd, int64_t offset, int64_t len)
{
    size_t max = c->op->sink.max_bytes ? c->op->sink.max_bytes : FS_DEFAULT_SINK_MAX;
    if ((uint64_t)len > max)
        return fs_fail(c, SPOOR_E_TOO_LARGE,
                       "the object is larger than the buffer's limit (%lld > %zu bytes)",
                       (long long)len, max);
    char *body = xmalloc((size_t)len + 1);
    int rc = fs_pread_all(fd, body, (size_t)len, offset);
    if (rc) {
        free(body);
        return fs_stream_fail(c, rc);
    }
    body[len] = '\0';
    c->res->body = body;
    c->res->body_len = (size_t)len;
    return 0;
}

/* Sends the range where the sink wants it; may take *fd (a stream for the async path). */
static int deliver(struct fs_ctx *c, int *fd, int64_t offset, int64_t len)
{
    const struct spoor_s3_sink *s = &c->op->sink;
    if (s->data_cb && c->stream) {
        *c->stream = (struct fs_stream){*fd, offset, len};
        *fd = -1;
        return 0;
    }
    if (s->data_cb)
        return deliver_cb(c, *fd, offset, len);
    if (s->path)
        return deliver_file(c, *fd, offset, len);
    return deliver_buffer(c, *fd, offset, len);
}

int fs_get(struct fs_ctx *c)
{
    const struct spoor_s3_op *op = c->op;
    struct fs_keypath kp;
    fs_keypath_init(&kp, op->key);
    struct fs_meta m;
    int fd = -1;
    int rc = fs_obj_open(c, c->bfd, op->bucket, &kp, &m, &fd);
    if (rc) {
        fs_keypath_cleanup(&kp);
        return rc;
    }
    int64_t first = 0, len = m.size;
    if (op->if_match && !etag_matches(op->if_match, m.etag)) {
        rc = fs_fail_s3(c, 412, "PreconditionFailed",
                        "At least one of the pre-conditions you specified did not hold "
                        "(If-Match %s, ETag %s)",
                        op->if_match, m.etag);
    } else if (op->has_range && op->range_first >= m.size) {
        rc = fs_fail_s3(c, 416, "InvalidRange",
                        "The requested range is not satisfiable (first byte %lld, size %lld)",
                        (long long)op->range_first, (long long)m.size);
    } else if (op->has_range) {
        first = op->range_first;
        int64_t last = op->range_last < 0 || op->range_last >= m.size ? m.size - 1 : op->range_last;
        len = last - first + 1;
    }
    if (rc == 0) {
        fill_headers(c, &m);
        c->res->http_status = op->has_range ? 206 : 200;
        c->res->content_length = len;
        rc = deliver(c, &fd, first, len);
    }
    if (fd >= 0)
        close(fd);
    fs_meta_cleanup(&m);
    fs_keypath_cleanup(&kp);
    return rc;
}
