/*
 * filestore_obj.c: writing single objects in the file store: metadata documents (read,
 * written, committed), data files, request bodies, and PutObject, DeleteObject(s) and
 * CopyObject, with results filled as the S3 engine fills them. Reading is filestore_get.c.
 *
 * A version of an object is a data file (immutable once written) and the metadata document
 * naming it; committing renames the document into place (see filestore.c). A copy hard-links
 * the source's data file when it can (same file system) and streams it otherwise; it never
 * loads it whole. Deleting takes the document away under the key's lock, then unlinks the
 * data file and prunes the directories left empty.
 */
#include "filestore_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define META_MAX_BYTES (1024 * 1024)

/* ---- metadata documents -------------------------------------------------------------------- */

static bool is_hex(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static int read_small(int bfd, const char *rel, struct buf *out)
{
    int fd = openat(bfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    char tmp[4096];
    int rc = 0;
    for (;;) {
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = n < 0 ? -errno : 0;
            break;
        }
        if ((rc = buf_append(out, tmp, (size_t)n)) != 0)
            break;
    }
    close(fd);
    return rc;
}

int fs_json_load(int bfd, const char *rel, json_t **doc)
{
    struct buf b;
    buf_init(&b, META_MAX_BYTES);
    int rc = read_small(bfd, rel, &b);
    *doc = rc ? NULL : json_loadb(b.data ? b.data : "", b.len, 0, NULL);
    buf_cleanup(&b);
    if (rc)
        return rc == SPOOR_E_TOO_LARGE ? SPOOR_E_PARSE : rc;
    return *doc ? 0 : SPOOR_E_PARSE;
}

int fs_meta_load(int bfd, const char *rel, struct fs_meta *m)
{
    memset(m, 0, sizeof *m);
    int rc = fs_json_load(bfd, rel, &m->doc);
    if (rc)
        return rc;
    json_int_t size = -1, mtime = 0;
    if (json_unpack(m->doc, "{s:s, s:s, s:I, s:s, s:I, s:o}", "data", &m->data_id, "etag", &m->etag,
                    "size", &size, "content_type", &m->content_type, "mtime_ms", &mtime, "meta",
                    &m->meta) != 0 ||
        !is_hex(m->data_id, FS_ID_HEX) || size < 0 || !json_is_array(m->meta)) {
        fs_meta_cleanup(m);
        return SPOOR_E_PARSE;
    }
    m->size = size;
    m->mtime_ms = mtime;
    return 0;
}

void fs_meta_cleanup(struct fs_meta *m)
{
    json_decref(m->doc);
    memset(m, 0, sizeof *m);
}

json_t *fs_meta_pairs(const struct spoor_s3_meta *meta, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        char *name = xstrdup(meta[i].name ? meta[i].name : "");
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p + 32);
        json_t *pair = json_pack("[ss]", name, meta[i].value ? meta[i].value : "");
        free(name);
        if (!pair) {
            json_decref(arr);
            return NULL;
        }
        json_array_append_new(arr, pair);
    }
    return arr;
}

/* ---- data files and commit ----------------------------------------------------------------- */

int fs_data_create(struct fs_ctx *c, const struct fs_keypath *kp, char id[FS_ID_HEX + 1], int *fd)
{
    struct buf p;
    buf_init(&p, FS_PATH_MAX);
    int rc = 0;
    for (int tries = 0; tries < FS_TRIES; tries++) {
        /* A delete may prune the directory between mkdirs and openat: make it again. */
        if ((rc = fs_mkdirs(c->bfd, kp->dir.data)) != 0) {
            rc = fs_fail_errno(c, rc, "cannot create directory", kp->dir.data);
            break;
        }
        char suffix[FS_ID_HEX + 3];
        fs_random_hex(id, FS_ID_HEX);
        snprintf(suffix, sizeof suffix, "#d%s", id);
        fs_keypath_name(kp, suffix, &p);
        *fd = openat(c->bfd, p.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (*fd >= 0) {
            rc = 0;
            break;
        }
        rc = fs_fail_errno(c, errno, "cannot create", p.data);
        if (rc != -ENOENT && rc != -EEXIST)
            break;
    }
    buf_cleanup(&p);
    return rc;
}

void fs_data_discard(struct fs_ctx *c, const struct fs_keypath *kp, const char *id)
{
    struct buf p;
    buf_init(&p, FS_PATH_MAX);
    char suffix[FS_ID_HEX + 3];
    snprintf(suffix, sizeof suffix, "#d%s", id);
    fs_keypath_name(kp, suffix, &p);
    unlinkat(c->bfd, p.data, 0);
    fs_prune(c->bfd, kp->dir.data);
    buf_cleanup(&p);
}

/* Renames tmp over the metadata document rel under the key's lock; the old version's data id
 * (if any) is left in old_id for the caller to unlink. */
static int swap_meta(struct fs_ctx *c, const char *tmp, const char *rel, char *old_id)
{
    uv_mutex_t *lock = fs_key_lock(c->fs, c->op->bucket, c->op->key);
    struct fs_meta old;
    uv_mutex_lock(lock);
    old_id[0] = '\0';
    if (fs_meta_load(c->bfd, rel, &old) == 0) {
        str_copy(old_id, FS_ID_HEX + 1, old.data_id);
        fs_meta_cleanup(&old);
    }
    int rc = renameat(c->bfd, tmp, c->bfd, rel) == 0 ? 0 : -errno;
    uv_mutex_unlock(lock);
    return rc;
}

static int commit_doc(struct fs_ctx *c, const struct fs_keypath *kp, const char *id,
                      const char *text)
{
    struct buf tmp, rel;
    buf_init(&tmp, FS_PATH_MAX);
    buf_init(&rel, FS_PATH_MAX);
    char tname[FS_ID_HEX + 3], old_id[FS_ID_HEX + 1], suffix[FS_ID_HEX + 3];
    fs_random_hex(tname + 2, FS_ID_HEX);
    memcpy(tname, "#t", 2);
    fs_join(&tmp, kp->dir.data, tname);
    fs_keypath_name(kp, "#m", &rel);
    int rc = 0, fd = openat(c->bfd, tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        rc = -errno;
    if (rc == 0)
        rc = write_all(fd, text, strlen(text));
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0) /* the new data file's name is durable before anything points at it */
        rc = fs_sync_dir(c->bfd, kp->dir.data);
    if (rc == 0)
        rc = swap_meta(c, tmp.data, rel.data, old_id);
    if (rc) {
        unlinkat(c->bfd, tmp.data, 0);
        rc = fs_fail_errno(c, rc, "cannot write metadata", rel.data);
    } else {
        fs_sync_dir(c->bfd, kp->dir.data);
        if (old_id[0] && strcmp(old_id, id) != 0) {
            snprintf(suffix, sizeof suffix, "#d%s", old_id);
            fs_keypath_name(kp, suffix, &rel);
            unlinkat(c->bfd, rel.data, 0);
        }
    }
    buf_cleanup(&tmp);
    buf_cleanup(&rel);
    return rc;
}

int fs_obj_commit(struct fs_ctx *c, const struct fs_keypath *kp, const char *id, const char *etag,
                  int64_t size, const char *content_type, json_t *pairs)
{
    json_t *doc = json_pack("{s:i, s:s, s:s, s:I, s:s, s:I, s:O}", "v", 1, "data", id, "etag", etag,
                            "size", (json_int_t)size, "content_type",
                            content_type && content_type[0] ? content_type : "binary/octet-stream",
                            "mtime_ms", (json_int_t)fs_now_ms(), "meta", pairs);
    if (!doc)
        return fs_fail(c, SPOOR_E_INVALID, "the content type must be UTF-8");
    char *text = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    int rc = commit_doc(c, kp, id, text);
    free(text);
    return rc;
}

/* ---- bodies -------------------------------------------------------------------------------- */

static int body_file_open(struct fs_ctx *c, int *fd, int64_t *offset, int64_t *len)
{
    const struct spoor_s3_body *b = &c->op->body;
    struct stat st;
    *fd = open(b->path, O_RDONLY | O_CLOEXEC);
    if (*fd < 0 || fstat(*fd, &st) != 0) {
        int e = errno;
        return fs_fail(c, -e, "cannot read body file %s: %s", b->path, strerror(e));
    }
    int64_t end = b->length < 0 ? st.st_size : b->offset + b->length;
    if (!S_ISREG(st.st_mode) || b->offset < 0 || b->offset > st.st_size || end > st.st_size ||
        end < b->offset)
        return fs_fail(c, SPOOR_E_INVALID,
                       "body range %lld+%lld is not inside the regular file %s (%lld bytes)",
                       (long long)b->offset, (long long)b->length, b->path, (long long)st.st_size);
    *offset = b->offset;
    *len = end - b->offset;
    return 0;
}

static int hash_copy(EVP_MD_CTX *md, int in, int64_t offset, int64_t len, int out)
{
    char *chunk = xmalloc(FS_CHUNK);
    int rc = 0;
    while (rc == 0 && len > 0) {
        size_t n = len < FS_CHUNK ? (size_t)len : FS_CHUNK;
        rc = fs_pread_all(in, chunk, n, offset);
        if (rc == 0) {
            EVP_DigestUpdate(md, chunk, n);
            rc = write_all(out, chunk, n);
        }
        offset += (int64_t)n;
        len -= (int64_t)n;
    }
    free(chunk);
    return rc;
}

int fs_body_write(struct fs_ctx *c, int fd, const char *dest_rel, unsigned char md5[16],
                  int64_t *size)
{
    const struct spoor_s3_body *b = &c->op->body;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    int rc = 0, in = -1;
    if (b->path) {
        int64_t offset = 0, len = 0;
        rc = body_file_open(c, &in, &offset, &len);
        if (rc == 0 && (rc = hash_copy(md, in, offset, len, fd)) != 0)
            rc = fs_fail_errno(c, rc, "cannot copy the body into", dest_rel);
        *size = len;
    } else {
        EVP_DigestUpdate(md, b->data ? b->data : "", b->len);
        if ((rc = write_all(fd, b->data ? b->data : "", b->len)) != 0)
            rc = fs_fail_errno(c, rc, "cannot write", dest_rel);
        *size = (int64_t)b->len;
    }
    if (in >= 0)
        close(in);
    if (rc == 0 && fsync(fd) != 0)
        rc = fs_fail_errno(c, errno, "cannot sync", dest_rel);
    EVP_DigestFinal_ex(md, md5, NULL);
    EVP_MD_CTX_free(md);
    return rc;
}

/* ---- PutObject ----------------------------------------------------------------------------- */

int fs_put(struct fs_ctx *c)
{
    struct fs_keypath kp;
    fs_keypath_init(&kp, c->op->key); /* checked at submit */
    char id[FS_ID_HEX + 1], etag[40];
    unsigned char md5[16];
    int64_t size = 0;
    int fd = -1;
    json_t *pairs = fs_meta_pairs(c->op->meta, c->op->nmeta);
    int rc = pairs ? 0 : fs_fail(c, SPOOR_E_INVALID, "metadata names and values must be UTF-8");
    if (rc == 0)
        rc = fs_data_create(c, &kp, id, &fd);
    if (rc == 0) {
        rc = fs_body_write(c, fd, kp.base.data, md5, &size);
        if (close(fd) != 0 && rc == 0)
            rc = fs_fail_errno(c, errno, "cannot write", kp.base.data);
        fs_etag(md5, etag);
        if (rc == 0)
            rc = fs_obj_commit(c, &kp, id, etag, size, c->op->content_type, pairs);
        if (rc)
            fs_data_discard(c, &kp, id);
    }
    if (rc == 0) {
        c->res->http_status = 200;
        c->res->etag = xstrdup(etag);
    }
    json_decref(pairs);
    fs_keypath_cleanup(&kp);
    return rc;
}

/* ---- DeleteObject(s) ----------------------------------------------------------------------- */

int fs_obj_remove(struct fs_ctx *c, const char *key)
{
    struct fs_keypath kp;
    int rc = fs_keypath_init(&kp, key);
    if (rc == -ENAMETOOLONG) { /* no such object can exist */
        fs_keypath_cleanup(&kp);
        return 0;
    }
    struct buf rel;
    buf_init(&rel, FS_PATH_MAX);
    fs_keypath_name(&kp, "#m", &rel);
    struct fs_meta m;
    uv_mutex_t *lock = fs_key_lock(c->fs, c->op->bucket, key);
    uv_mutex_lock(lock);
    rc = fs_meta_load(c->bfd, rel.data, &m);
    bool found = rc == 0 || rc == SPOOR_E_PARSE; /* a corrupt document still goes */
    if (found)
        rc = unlinkat(c->bfd, rel.data, 0) != 0 ? -errno : 0;
    else if (rc == -ENOENT || rc == -ENOTDIR)
        rc = 0;
    uv_mutex_unlock(lock);
    if (rc == 0 && m.doc) {
        char suffix[FS_ID_HEX + 3];
        snprintf(suffix, sizeof suffix, "#d%s", m.data_id);
        fs_keypath_name(&kp, suffix, &rel);
        unlinkat(c->bfd, rel.data, 0);
    }
    if (found && rc == 0)
        fs_prune(c->bfd, kp.dir.data);
    if (m.doc)
        fs_meta_cleanup(&m);
    buf_cleanup(&rel);
    fs_keypath_cleanup(&kp);
    return rc;
}

int fs_delete(struct fs_ctx *c)
{
    int rc = fs_obj_remove(c, c->op->key);
    if (rc)
        return fs_fail(c, rc, "cannot delete the object: %s", strerror(-rc));
    c->res->http_status = 204;
    return 0;
}

/* As S3: every key is reported deleted (also one that did not exist) unless quiet; failures
 * are per-key errors, not a failure of the request. */
int fs_delete_many(struct fs_ctx *c)
{
    const struct spoor_s3_op *op = c->op;
    struct spoor_s3_result *res = c->res;
    res->deleted = xcalloc(op->nkeys, sizeof *res->deleted);
    res->delete_errors = xcalloc(op->nkeys, sizeof *res->delete_errors);
    for (size_t i = 0; i < op->nkeys; i++) {
        const char *key = op->keys[i] ? op->keys[i] : "";
        int rc = key[0] ? fs_obj_remove(c, key) : SPOOR_E_INVALID;
        if (rc) {
            struct spoor_s3_delete_error *e = &res->delete_errors[res->ndelete_errors++];
            e->key = xstrdup(key);
            e->code = xstrdup(rc == SPOOR_E_INVALID ? "InvalidArgument" : "InternalError");
            e->message =
                xstrdup(rc == SPOOR_E_INVALID ? "An empty key is not a key" : strerror(-rc));
        } else if (!op->quiet) {
            res->deleted[res->ndeleted++] = xstrdup(key);
        }
    }
    res->http_status = 200;
    return 0;
}

/* ---- CopyObject ---------------------------------------------------------------------------- */

/* A new data file for dkp holding the bytes of src (relative to sbfd): streamed. -EAGAIN when
 * src is gone (its object was replaced meanwhile). */
static int stream_data(struct fs_ctx *c, int sbfd, const char *src, int64_t size,
                       const struct fs_keypath *dkp, char id[FS_ID_HEX + 1])
{
    int in = openat(sbfd, src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), out = -1;
    if (in < 0 && errno == ENOENT)
        return -EAGAIN;
    if (in < 0) {
        int e = errno;
        return fs_fail(c, -e, "cannot open %s/%s/%s: %s", c->fs->root, c->op->src_bucket, src,
                       strerror(e));
    }
    int rc = fs_data_create(c, dkp, id, &out);
    if (rc == 0) {
        rc = fs_copy_fd(in, 0, size, out);
        if (rc == 0 && fsync(out) != 0)
            rc = -errno;
        if (close(out) != 0 && rc == 0)
            rc = -errno;
        if (rc) {
            fs_data_discard(c, dkp, id);
            rc = fs_fail_errno(c, rc, "cannot copy into", dkp->base.data);
        }
    }
    close(in);
    return rc;
}

/* A new data file for dkp with the bytes of the source version m: a hard link to its data
 * file (it never changes), else a streamed copy. -EAGAIN when the version is gone. */
static int copy_data(struct fs_ctx *c, int sbfd, const struct fs_keypath *skp,
                     const struct fs_meta *m, const struct fs_keypath *dkp, char id[FS_ID_HEX + 1])
{
    struct buf src, dst;
    buf_init(&src, FS_PATH_MAX);
    buf_init(&dst, FS_PATH_MAX);
    char suffix[FS_ID_HEX + 3];
    snprintf(suffix, sizeof suffix, "#d%s", m->data_id);
    fs_keypath_name(skp, suffix, &src);
    int rc = -EAGAIN;
    for (int tries = 0; tries < FS_TRIES; tries++) {
        if ((rc = fs_mkdirs(c->bfd, dkp->dir.data)) != 0) {
            rc = fs_fail_errno(c, rc, "cannot create directory", dkp->dir.data);
            break;
        }
        fs_random_hex(id, FS_ID_HEX);
        snprintf(suffix, sizeof suffix, "#d%s", id);
        fs_keypath_name(dkp, suffix, &dst);
        if (linkat(sbfd, src.data, c->bfd, dst.data, 0) == 0) {
            rc = 0;
            break;
        }
        if (errno == ENOENT && faccessat(sbfd, src.data, F_OK, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = -EAGAIN;
            break;
        }
        if (errno != ENOENT && errno != EEXIST) { /* EXDEV, EMLINK, EPERM, ... */
            rc = stream_data(c, sbfd, src.data, m->size, dkp, id);
            break;
        }
    }
    buf_cleanup(&src);
    buf_cleanup(&dst);
    return rc;
}

static int copy_refused(struct fs_ctx *c)
{
    return fs_fail_s3(c, 400, "InvalidRequest",
                      "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata");
}

/* Source version and new data file, retried while the source is being replaced. */
static int copy_source(struct fs_ctx *c, int sbfd, const struct fs_keypath *skp,
                       const struct fs_keypath *dkp, struct fs_meta *m, char id[FS_ID_HEX + 1])
{
    int rc = -EAGAIN;
    for (int tries = 0; rc == -EAGAIN && tries < FS_TRIES; tries++) {
        rc = fs_obj_open(c, sbfd, c->op->src_bucket, skp, m, NULL);
        if (rc == 0 && (rc = copy_data(c, sbfd, skp, m, dkp, id)) != 0)
            fs_meta_cleanup(m);
    }
    if (rc == -EAGAIN)
        rc = fs_fail(c, rc, "the source object changed %d times while being copied", FS_TRIES);
    return rc;
}

int fs_copy(struct fs_ctx *c)
{
    const struct spoor_s3_op *op = c->op;
    bool same_bucket = strcmp(op->src_bucket, op->bucket) == 0;
    if (same_bucket && strcmp(op->src_key, op->key) == 0 && !op->replace_meta)
        return copy_refused(c);
    int sbfd = c->bfd, rc = same_bucket ? 0 : fs_bucket_open(c, op->src_bucket, &sbfd);
    if (rc)
        return rc;
    struct fs_keypath skp, dkp;
    fs_keypath_init(&skp, op->src_key);
    fs_keypath_init(&dkp, op->key);
    json_t *pairs = op->replace_meta ? fs_meta_pairs(op->meta, op->nmeta) : NULL;
    struct fs_meta m;
    char id[FS_ID_HEX + 1];
    if (op->replace_meta && !pairs)
        rc = fs_fail(c, SPOOR_E_INVALID, "metadata names and values must be UTF-8");
    if (rc == 0 && (rc = copy_source(c, sbfd, &skp, &dkp, &m, id)) == 0) {
        rc = fs_obj_commit(c, &dkp, id, m.etag, m.size,
                           op->replace_meta ? op->content_type : m.content_type,
                           op->replace_meta ? pairs : m.meta);
        if (rc)
            fs_data_discard(c, &dkp, id);
        else
            c->res->etag = xstrdup(m.etag);
        fs_meta_cleanup(&m);
    }
    if (rc == 0)
        c->res->http_status = 200;
    json_decref(pairs);
    fs_keypath_cleanup(&skp);
    fs_keypath_cleanup(&dkp);
    if (!same_bucket)
        close(sbfd);
    return rc;
}
