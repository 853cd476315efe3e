/*
 * filestore.h: the `file` endpoint: a local directory that behaves like an S3 bucket store,
 * executing the same struct spoor_s3_op operations with the same results and errors as the S3
 * engine, so the router (and everything above it) cannot tell the two apart.
 *
 * Layout: <root>/<bucket>/ is a bucket; an object key is stored under its bucket directory,
 * one directory level per '/'-separated key segment, each segment escaped so that any key is
 * stored safely (empty segments from "a//b", ".", "..", '%', '#', NUL-free bytes) and nothing
 * escapes the root. User metadata, content type and ETag (MD5) are kept beside the object.
 * Writes are atomic: temporary file in the same directory, fsync, rename.
 *
 * Listing follows ListObjectsV2 exactly: byte order of keys, prefix, delimiter, start-after,
 * max-keys (default and ceiling 1000), continuation tokens (opaque), common prefixes.
 * Multipart uploads (create, part, complete, abort) and copies work as on S3.
 *
 * Errors look like S3's: SPOOR_E_S3 with s3_code NoSuchKey / NoSuchBucket / NoSuchUpload /
 * InvalidArgument / BucketAlreadyOwnedByYou (and http_status 404/400/409), or -errno for
 * local I/O failures, with messages naming the endpoint, the key and the path.
 *
 * Threads: filestore_submit() runs the disk work on libuv's thread pool and calls back on the
 * loop, with the async contract of spoor/s3.h (error return: no callback; 0: exactly one
 * callback, never from inside the submit). filestore_exec() runs an operation synchronously on
 * the calling thread.
 */
#ifndef SPOOR_FILESTORE_H
#define SPOOR_FILESTORE_H

#include <spoor/s3.h>

struct filestore;

/* New store for root (created if missing) named name (for messages), calling back on loop
 * (borrowed; NULL allowed when only filestore_exec is used). NULL and err filled if root
 * cannot be created or is not a directory. */
struct filestore *filestore_new(uv_loop_t *loop, const char *root, const char *name,
                                struct spoor_error *err);
/* Frees the store; no operation may be in flight. NULL is a no-op. */
void filestore_free(struct filestore *fs);
const char *filestore_root(const struct filestore *fs);

/* Same contract as spoor_s3_submit. */
int filestore_submit(struct filestore *fs, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud,
                     struct spoor_error *err);
/* Runs op now on this thread; res is filled (caller cleans up, also on error). */
int filestore_exec(struct filestore *fs, const struct spoor_s3_op *op, struct spoor_s3_result *res,
                   struct spoor_error *err);

#endif
