/*
 * filestore_int.h: private structures of the file store, shared by filestore.c (lifecycle,
 * errors, dispatch, buckets, async), filestore_path.c (key escaping, directories, small file
 * helpers), filestore_obj.c (metadata documents and single-object operations),
 * filestore_list.c (ListObjectsV2) and filestore_mp.c (multipart uploads).
 *
 * The on-disk layout and its invariants are described at the top of filestore.c.
 */
#ifndef SPOOR_FILESTORE_INT_H
#define SPOOR_FILESTORE_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "filestore.h"

/* Longest escaped key segment: a file name is the segment plus "#d" and FS_ID_HEX hex digits,
 * and must fit the file system's NAME_MAX of 255 bytes. */
#define FS_ID_HEX 16
#define FS_SEG_MAX (255 - 2 - FS_ID_HEX)
/* Ceiling of every relative path buffer: a 1024-byte key escapes to at most ~3.1 KB. */
#define FS_PATH_MAX (16 * 1024)
#define FS_NLOCKS 64
#define FS_UPLOADS "#uploads"
#define FS_UPLOAD_ID_HEX 32
#define FS_DEFAULT_SINK_MAX (64u * 1024 * 1024) /* as the S3 engine's buffer sink */
#define FS_CHUNK (256 * 1024)
/* Attempts at an open or create that a concurrent writer or pruner can make fail. */
#define FS_TRIES 8
#define FS_DATE_MAX 80

struct filestore {
    uv_loop_t *loop; /* borrowed; NULL when only filestore_exec is used */
    char *root;      /* as given, for messages */
    char *name;      /* endpoint name, for messages */
    int root_fd;
    int inflight; /* submitted, callback not yet run (loop thread only) */
    /* Serialise "read the old metadata, rename the new one over it" per key, so the data
     * file of the version replaced is unlinked exactly once (see filestore.c). */
    uv_mutex_t locks[FS_NLOCKS];
};

/* A GET to a data_cb that the async path streams on the loop: the data file (owned) and the
 * range still to deliver. fd is -1 when there is nothing to stream. */
struct fs_stream {
    int fd;
    int64_t offset;
    int64_t left;
};

/* One operation being executed on some thread. */
struct fs_ctx {
    struct filestore *fs;
    const struct spoor_s3_op *op;
    struct spoor_s3_result *res;
    struct spoor_error *err;
    int bfd;                  /* the bucket directory (op->bucket), or -1 */
    struct fs_stream *stream; /* non-NULL: leave a data_cb GET's bytes to the caller */
};

/* Where a key lives, relative to its bucket directory. */
struct fs_keypath {
    struct buf dir;  /* "" or "e1/e2/..." (escaped segments but the last) */
    struct buf base; /* the escaped last segment */
};

/* An object's metadata document, as read. Strings are borrowed from doc. */
struct fs_meta {
    json_t *doc;
    const char *data_id; /* FS_ID_HEX lower-case hex digits */
    const char *etag;    /* quoted, as S3 sends it */
    const char *content_type;
    int64_t size;
    int64_t mtime_ms;
    json_t *meta; /* array of [name, value] */
};

/* ---- filestore.c: errors --------------------------------------------------------------- */

/* An S3-style error: SPOOR_E_S3 with code and status, message naming op, endpoint and detail. */
int fs_fail_s3(struct fs_ctx *c, long http_status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Any other error: code (SPOOR_E_* or -errno) with "<op> on <endpoint>: <fmt>". */
int fs_fail(struct fs_ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* -errnum with "<what> <root>/<bucket>/<rel>: <strerror>". */
int fs_fail_errno(struct fs_ctx *c, int errnum, const char *what, const char *rel);
int fs_no_such_key(struct fs_ctx *c, const char *bucket, const struct fs_keypath *kp);
int fs_no_such_bucket(struct fs_ctx *c, const char *bucket);
/* Opens <root>/<bucket> (NoSuchBucket when missing). */
int fs_bucket_open(struct fs_ctx *c, const char *bucket, int *fd);
/* The lock serialising metadata replacement of bucket/key. */
uv_mutex_t *fs_key_lock(struct filestore *fs, const char *bucket, const char *key);

/* ---- filestore_path.c ------------------------------------------------------------------ */

void fs_seg_escape(struct buf *out, const char *s, size_t n);
/* Appends the segment that name[0..n) is the escape of; false (nothing appended) when name is
 * not the canonical escape of any segment, i.e. not a name the store made. */
bool fs_seg_decode(struct buf *out, const char *name, size_t n);
/* Splits and escapes key; -ENAMETOOLONG when a segment is too long for a file name. kp is
 * initialised (and must be cleaned up) in every case. */
int fs_keypath_init(struct fs_keypath *kp, const char *key);
void fs_keypath_cleanup(struct fs_keypath *kp);
/* "<dir>/<base><suffix>" (or "<base><suffix>" at the bucket root) into out, reset first. */
void fs_keypath_name(const struct fs_keypath *kp, const char *suffix, struct buf *out);
/* "<dir>/<name>" or "<name>" into out, reset first. */
void fs_join(struct buf *out, const char *dir, const char *name);
/* Creates dir (relative to bfd) and its parents. */
int fs_mkdirs(int bfd, const char *dir);
/* Removes dir and then its parents while they are empty, up to (not including) bfd. */
void fs_prune(int bfd, const char *dir);
/* Removes the directory rel (relative to dfd) and the files in it (no subdirectories). */
int fs_rmdir_flat(int dfd, const char *rel);
/* fsync of the directory rel ("" is dfd itself). */
int fs_sync_dir(int dfd, const char *rel);
/* n random lower-case hex digits and a NUL into out[n + 1]. */
void fs_random_hex(char *out, size_t n);
int fs_pread_all(int fd, void *data, size_t n, int64_t offset);
/* Copies len bytes of in from offset to out's current position (copy_file_range when the
 * kernel can, else through a buffer). -EIO when in is shorter than that. */
int fs_copy_fd(int in, int64_t offset, int64_t len, int out);
/* Writes text to a new temporary file in dir, fsyncs and renames it to rel. */
int fs_write_atomic(int bfd, const char *dir, const char *rel, const char *text, struct buf *tmp);
/* Last-Modified form ("Sat, 21 Nov 2026 21:26:07 GMT") and ListObjects form
 * ("2026-11-21T21:26:07.611Z") of a time in milliseconds since the epoch. */
void fs_http_date(int64_t ms, char out[FS_DATE_MAX]);
void fs_iso_date(int64_t ms, char out[FS_DATE_MAX]);
int64_t fs_now_ms(void);
/* "\"<32 hex>\"" of an MD5. */
void fs_etag(const unsigned char md5[16], char out[40]);

/* ---- filestore_obj.c ------------------------------------------------------------------- */

/* Reads the JSON file rel (at most 1 MiB): 0, -errno or SPOOR_E_PARSE; *doc is new. */
int fs_json_load(int bfd, const char *rel, json_t **doc);
/* Reads the metadata document rel: 0, -errno (-ENOENT: no such object) or SPOOR_E_PARSE. */
int fs_meta_load(int bfd, const char *rel, struct fs_meta *m);
void fs_meta_cleanup(struct fs_meta *m);
/* [[name, value], ...] of user metadata, names lower-cased (new reference), or NULL when a
 * name or value is not UTF-8. */
json_t *fs_meta_pairs(const struct spoor_s3_meta *meta, size_t n);
/* New data file for the next version of kp's object, creating its directories. */
int fs_data_create(struct fs_ctx *c, const struct fs_keypath *kp, char id[FS_ID_HEX + 1], int *fd);
/* Removes an uncommitted data file and the directories it leaves empty. */
void fs_data_discard(struct fs_ctx *c, const struct fs_keypath *kp, const char *id);
/* Makes kp's object (in bucket/key of the op) the version described: a metadata document
 * pointing at data file id, written atomically; the replaced version's data file is unlinked.
 * pairs is borrowed. */
int fs_obj_commit(struct fs_ctx *c, const struct fs_keypath *kp, const char *id, const char *etag,
                  int64_t size, const char *content_type, json_t *pairs);
/* Writes the op's body (memory or file range) to fd; md5 and size of what was written. */
int fs_body_write(struct fs_ctx *c, int fd, const char *dest_rel, unsigned char md5[16],
                  int64_t *size);

/* The current version of kp's object in bucket (directory bfd): its document and, when fd is
 * not NULL, its data file, opened and checked against the document's size. NoSuchKey when
 * there is none. */
int fs_obj_open(struct fs_ctx *c, int bfd, const char *bucket, const struct fs_keypath *kp,
                struct fs_meta *m, int *fd);
/* Removes key's object in the op's bucket (none is fine): 0 or -errno, no message. */
int fs_obj_remove(struct fs_ctx *c, const char *key);

int fs_put(struct fs_ctx *c);
int fs_get(struct fs_ctx *c);
int fs_head(struct fs_ctx *c);
int fs_delete(struct fs_ctx *c);
int fs_delete_many(struct fs_ctx *c);
int fs_copy(struct fs_ctx *c);
/* The error of a GET whose delivery failed: rc is SPOOR_E_CALLBACK (the data callback asked
 * to stop) or -errno from reading the data file. Used by exec and by the async stream. */
int fs_stream_fail(struct fs_ctx *c, int rc);

/* ---- filestore_list.c, filestore_mp.c -------------------------------------------------- */

int fs_list(struct fs_ctx *c);
int fs_mp_create(struct fs_ctx *c);
int fs_mp_part(struct fs_ctx *c);
int fs_mp_complete(struct fs_ctx *c);
int fs_mp_abort(struct fs_ctx *c);

#endif
