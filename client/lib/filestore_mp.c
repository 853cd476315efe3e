/*
 * filestore_mp.c: multipart uploads in the file store (create, upload part, complete, abort)
 * with S3's rules and errors: parts listed in ascending order (InvalidPartOrder), each part's
 * ETag matching what was uploaded (InvalidPart), every part but the last at least 5 MiB
 * (EntityTooSmall), an unknown or finished upload is NoSuchUpload, and the object's ETag is
 * "<md5 of the parts' md5s>-<number of parts>".
 *
 * Layout, inside the bucket directory (no key maps there: its name holds '#'):
 *
 *   #uploads/<id>/info               {"key_hex", "content_type", "meta", "created_ms"}
 *   #uploads/<id>/<nnnnn>.<md5 hex>  a part, named by its number and its MD5 (its ETag)
 *   #uploads/<id>/#t<hex>            a part being written
 *
 * The upload id is 32 random hex digits, checked as such before it becomes a path. A part is
 * written to a temporary file and renamed, so a complete never reads half a part. Complete
 * and abort first claim the upload by renaming its directory to #uploads/#t<hex>: of two
 * racing calls one wins, the other sees NoSuchUpload, and a part still arriving fails the
 * same way. Complete concatenates the parts (copy_file_range, never through memory whole)
 * into a new data file and commits it like a PutObject; on failure the claim is undone.
 * Re-uploading a part number keeps the earlier file until the upload ends, and a complete
 * naming the earlier ETag would use it (S3 would refuse it).
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

#define MIN_PART_BYTES (5 * 1024 * 1024)
#define MAX_PART_NUMBER 10000

struct part_file {
    char name[48]; /* "<nnnnn>.<md5 hex>" */
    unsigned char md5[16];
    int64_t size;
};

static int no_such_upload(struct fs_ctx *c)
{
    return fs_fail_s3(c, 404, "NoSuchUpload",
                      "The specified upload does not exist. The upload ID may be invalid, or "
                      "the upload may have been aborted or completed (upload %s)",
                      c->op->upload_id ? c->op->upload_id : "");
}

static bool upload_id_ok(const char *id)
{
    size_t n = strlen(id);
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f')))
            return false;
    return n == FS_UPLOAD_ID_HEX;
}

static char *key_hex(const char *key)
{
    size_t n = strlen(key);
    char *hex = xmalloc(2 * n + 1);
    hex_encode((const unsigned char *)key, n, hex);
    return hex;
}

/* The op's upload, checked to exist and to be for the op's key: its directory into dir and,
 * when info is not NULL, its info document (new). */
static int upload_open(struct fs_ctx *c, struct buf *dir, json_t **info)
{
    if (!upload_id_ok(c->op->upload_id))
        return no_such_upload(c);
    buf_printf(dir, FS_UPLOADS "/%s", c->op->upload_id);
    struct buf rel;
    buf_init(&rel, FS_PATH_MAX);
    buf_printf(&rel, "%s/info", dir->data);
    json_t *doc = NULL;
    int rc = fs_json_load(c->bfd, rel.data, &doc);
    const char *hex = NULL;
    char *want = key_hex(c->op->key);
    if (rc == -ENOENT || rc == -ENOTDIR)
        rc = no_such_upload(c);
    else if (rc)
        rc = fs_fail(c, rc, "cannot read %s/%s/%s: %s", c->fs->root, c->op->bucket, rel.data,
                     rc == SPOOR_E_PARSE ? "corrupt upload record" : strerror(-rc));
    else if (json_unpack(doc, "{s:s}", "key_hex", &hex) != 0 || strcmp(hex, want) != 0)
        rc = no_such_upload(c); /* S3 answers the same for an upload of another key */
    free(want);
    buf_cleanup(&rel);
    if (rc == 0 && info)
        *info = json_incref(doc);
    json_decref(doc);
    return rc;
}

/* Takes the upload away from every other caller: its directory renamed to a temporary name
 * (into claimed). */
static int upload_claim(struct fs_ctx *c, const char *dir, struct buf *claimed)
{
    char id[FS_ID_HEX + 1];
    fs_random_hex(id, FS_ID_HEX);
    buf_printf(claimed, FS_UPLOADS "/#t%s", id);
    if (renameat(c->bfd, dir, c->bfd, claimed->data) == 0)
        return 0;
    return errno == ENOENT ? no_such_upload(c)
                           : fs_fail_errno(c, errno, "cannot take the upload", dir);
}

/* ---- create, part, abort ------------------------------------------------------------------- */

static char *info_text(struct fs_ctx *c)
{
    json_t *pairs = fs_meta_pairs(c->op->meta, c->op->nmeta);
    char *hex = key_hex(c->op->key);
    const char *ctype =
        c->op->content_type && c->op->content_type[0] ? c->op->content_type : "binary/octet-stream";
    json_t *doc = pairs ? json_pack("{s:s, s:s, s:O, s:I}", "key_hex", hex, "content_type", ctype,
                                    "meta", pairs, "created_ms", (json_int_t)fs_now_ms())
                        : NULL;
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    json_decref(pairs);
    free(hex);
    return text;
}

int fs_mp_create(struct fs_ctx *c)
{
    char *text = info_text(c);
    if (!text)
        return fs_fail(c, SPOOR_E_INVALID,
                       "the content type and metadata names and values must be UTF-8");
    char id[FS_UPLOAD_ID_HEX + 1];
    fs_random_hex(id, FS_UPLOAD_ID_HEX);
    struct buf dir, rel, tmp;
    buf_init(&dir, FS_PATH_MAX);
    buf_init(&rel, FS_PATH_MAX);
    buf_init(&tmp, FS_PATH_MAX);
    buf_printf(&dir, FS_UPLOADS "/%s", id);
    buf_printf(&rel, "%s/info", dir.data);
    int rc = fs_mkdirs(c->bfd, dir.data);
    if (rc == 0 && (rc = fs_write_atomic(c->bfd, dir.data, rel.data, text, &tmp)) != 0)
        unlinkat(c->bfd, dir.data, AT_REMOVEDIR);
    if (rc == 0 && (rc = fs_sync_dir(c->bfd, dir.data)) == 0)
        rc = fs_sync_dir(c->bfd, FS_UPLOADS);
    if (rc) {
        rc = fs_fail_errno(c, rc, "cannot create the upload", dir.data);
    } else {
        c->res->upload_id = xstrdup(id);
        c->res->http_status = 200;
    }
    free(text);
    buf_cleanup(&dir);
    buf_cleanup(&rel);
    buf_cleanup(&tmp);
    return rc;
}

/* Writes the body to a temporary file in dir and renames it to the part's name. */
static int part_store(struct fs_ctx *c, const char *dir, char etag[40])
{
    struct buf tmp, rel;
    buf_init(&tmp, FS_PATH_MAX);
    buf_init(&rel, FS_PATH_MAX);
    char id[FS_ID_HEX + 1], hex[33];
    fs_random_hex(id, FS_ID_HEX);
    buf_printf(&tmp, "%s/#t%s", dir, id);
    unsigned char md5[16];
    int64_t size;
    int fd = openat(c->bfd, tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666), rc = 0;
    if (fd < 0)
        rc = errno == ENOENT ? no_such_upload(c)
                             : fs_fail_errno(c, errno, "cannot create", tmp.data);
    if (rc == 0) {
        rc = fs_body_write(c, fd, tmp.data, md5, &size);
        if (close(fd) != 0 && rc == 0)
            rc = fs_fail_errno(c, errno, "cannot write", tmp.data);
        hex_encode(md5, 16, hex);
        buf_printf(&rel, "%s/%05d.%s", dir, c->op->part_number, hex);
        if (rc == 0 && renameat(c->bfd, tmp.data, c->bfd, rel.data) != 0)
            rc = errno == ENOENT ? no_such_upload(c)
                                 : fs_fail_errno(c, errno, "cannot rename", tmp.data);
        if (rc)
            unlinkat(c->bfd, tmp.data, 0);
        else
            fs_sync_dir(c->bfd, dir);
        fs_etag(md5, etag);
    }
    buf_cleanup(&tmp);
    buf_cleanup(&rel);
    return rc;
}

int fs_mp_part(struct fs_ctx *c)
{
    struct buf dir;
    buf_init(&dir, FS_PATH_MAX);
    char etag[40];
    int rc = upload_open(c, &dir, NULL);
    if (rc == 0)
        rc = part_store(c, dir.data, etag);
    if (rc == 0) {
        c->res->etag = xstrdup(etag);
        c->res->http_status = 200;
    }
    buf_cleanup(&dir);
    return rc;
}

int fs_mp_abort(struct fs_ctx *c)
{
    struct buf dir, claimed;
    buf_init(&dir, FS_PATH_MAX);
    buf_init(&claimed, FS_PATH_MAX);
    int rc = upload_open(c, &dir, NULL);
    if (rc == 0)
        rc = upload_claim(c, dir.data, &claimed);
    if (rc == 0) {
        fs_rmdir_flat(c->bfd, claimed.data);
        c->res->http_status = 204;
    }
    buf_cleanup(&dir);
    buf_cleanup(&claimed);
    return rc;
}

/* ---- complete ------------------------------------------------------------------------------ */

/* An ETag as a client hands it back ("\"<hex>\"" or bare hex, any case) into md5. */
static bool etag_md5(const char *etag, unsigned char md5[16])
{
    size_t n = strlen(etag);
    if (n == 34 && etag[0] == '"' && etag[33] == '"')
        etag++, n -= 2;
    if (n != 32)
        return false;
    for (size_t i = 0; i < 16; i++) {
        unsigned v = 0;
        for (size_t k = 0; k < 2; k++) {
            char ch = etag[2 * i + k];
            int d = ch >= '0' && ch <= '9'   ? ch - '0'
                    : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
                    : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                             : -1;
            if (d < 0)
                return false;
            v = v * 16 + (unsigned)d;
        }
        md5[i] = (unsigned char)v;
    }
    return true;
}

static int invalid_part(struct fs_ctx *c, const struct spoor_s3_part *p)
{
    return fs_fail_s3(c, 400, "InvalidPart",
                      "One or more of the specified parts could not be found. The part may not "
                      "have been uploaded, or the specified entity tag may not match the part's "
                      "entity tag (part %d, ETag %s)",
                      p->part_number, p->etag);
}

/* Checks the op's part list against the files in dir, filling pf[i]. */
static int parts_check(struct fs_ctx *c, const char *dir, struct part_file *pf)
{
    const struct spoor_s3_op *op = c->op;
    struct buf rel;
    buf_init(&rel, FS_PATH_MAX);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < op->nparts; i++) {
        const struct spoor_s3_part *p = &op->parts[i];
        char hex[33];
        struct stat st;
        if (i > 0 && p->part_number <= op->parts[i - 1].part_number) {
            rc = fs_fail_s3(c, 400, "InvalidPartOrder",
                            "The list of parts was not in ascending order. The parts list must "
                            "be specified in order by part number (part %d after part %d)",
                            p->part_number, op->parts[i - 1].part_number);
            break;
        }
        if (p->part_number < 1 || p->part_number > MAX_PART_NUMBER ||
            !etag_md5(p->etag, pf[i].md5)) {
            rc = invalid_part(c, p);
            break;
        }
        hex_encode(pf[i].md5, 16, hex);
        snprintf(pf[i].name, sizeof pf[i].name, "%05d.%s", p->part_number, hex);
        buf_reset(&rel);
        buf_printf(&rel, "%s/%s", dir, pf[i].name);
        if (fstatat(c->bfd, rel.data, &st, AT_SYMLINK_NOFOLLOW) != 0) {
            rc = errno == ENOENT ? invalid_part(c, p)
                                 : fs_fail_errno(c, errno, "cannot stat", rel.data);
            break;
        }
        pf[i].size = st.st_size;
        if (i > 0 && pf[i - 1].size < MIN_PART_BYTES)
            rc = fs_fail_s3(c, 400, "EntityTooSmall",
                            "Your proposed upload is smaller than the minimum allowed object "
                            "size (part %d is %lld bytes; every part but the last must be at "
                            "least 5 MiB)",
                            op->parts[i - 1].part_number, (long long)pf[i - 1].size);
    }
    buf_cleanup(&rel);
    return rc;
}

/* The parts of the claimed upload, in order, into a new data file for kp. */
static int assemble(struct fs_ctx *c, const char *claimed, const struct part_file *pf,
                    const struct fs_keypath *kp, char id[FS_ID_HEX + 1], int64_t *size)
{
    int out = -1, rc = fs_data_create(c, kp, id, &out);
    struct buf rel;
    buf_init(&rel, FS_PATH_MAX);
    *size = 0;
    for (size_t i = 0; rc == 0 && i < c->op->nparts; i++) {
        buf_reset(&rel);
        buf_printf(&rel, "%s/%s", claimed, pf[i].name);
        int in = openat(c->bfd, rel.data, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        rc = in < 0 ? -errno : fs_copy_fd(in, 0, pf[i].size, out);
        if (in >= 0)
            close(in);
        *size += pf[i].size;
    }
    if (rc == 0 && out >= 0 && fsync(out) != 0)
        rc = -errno;
    if (out >= 0 && close(out) != 0 && rc == 0)
        rc = -errno;
    if (rc && out >= 0) {
        fs_data_discard(c, kp, id);
        rc = fs_fail_errno(c, rc, "cannot assemble the parts of", rel.data);
    }
    buf_cleanup(&rel);
    return rc;
}

static void multipart_etag(const struct part_file *pf, size_t n, char out[48])
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        abort();
    unsigned char sum[16];
    char hex[33];
    EVP_DigestInit_ex(md, EVP_md5(), NULL);
    for (size_t i = 0; i < n; i++)
        EVP_DigestUpdate(md, pf[i].md5, 16);
    EVP_DigestFinal_ex(md, sum, NULL);
    EVP_MD_CTX_free(md);
    hex_encode(sum, 16, hex);
    snprintf(out, 48, "\"%s-%zu\"", hex, n);
}

/* Claimed upload -> committed object; on failure the claim is given back. */
static int complete_claimed(struct fs_ctx *c, const char *dir, const char *claimed,
                            const struct part_file *pf, json_t *info, char etag[48])
{
    struct fs_keypath kp;
    fs_keypath_init(&kp, c->op->key);
    char id[FS_ID_HEX + 1];
    int64_t size;
    multipart_etag(pf, c->op->nparts, etag);
    const char *ctype = json_string_value(json_object_get(info, "content_type"));
    json_t *pairs = json_object_get(info, "meta");
    int rc = json_is_array(pairs) ? 0 : fs_fail(c, SPOOR_E_PARSE, "corrupt upload record");
    if (rc == 0 && (rc = assemble(c, claimed, pf, &kp, id, &size)) == 0 &&
        (rc = fs_obj_commit(c, &kp, id, etag, size, ctype, pairs)) != 0)
        fs_data_discard(c, &kp, id);
    if (rc)
        renameat(c->bfd, claimed, c->bfd, dir);
    else
        fs_rmdir_flat(c->bfd, claimed);
    fs_keypath_cleanup(&kp);
    return rc;
}

int fs_mp_complete(struct fs_ctx *c)
{
    struct buf dir, claimed;
    buf_init(&dir, FS_PATH_MAX);
    buf_init(&claimed, FS_PATH_MAX);
    struct part_file *pf = xcalloc(c->op->nparts, sizeof *pf);
    json_t *info = NULL;
    char etag[48];
    int rc = upload_open(c, &dir, &info);
    if (rc == 0)
        rc = parts_check(c, dir.data, pf);
    if (rc == 0)
        rc = upload_claim(c, dir.data, &claimed);
    if (rc == 0)
        rc = complete_claimed(c, dir.data, claimed.data, pf, info, etag);
    if (rc == 0) {
        c->res->etag = xstrdup(etag);
        c->res->http_status = 200;
    }
    json_decref(info);
    free(pf);
    buf_cleanup(&dir);
    buf_cleanup(&claimed);
    return rc;
}
