/*
 * s3_op.h: checks and copies of struct spoor_s3_op, shared by every backend that executes
 * operations (the S3 engine, the local file store, the router).
 */
#ifndef SPOOR_S3_OP_H
#define SPOOR_S3_OP_H

#include <spoor/s3.h>

#include "arena.h"

/* Anything that runs operations with the spoor_s3_submit contract (an S3 client, a router). */
typedef int (*s3_submit_fn)(void *target, const struct spoor_s3_op *op, spoor_s3_cb cb, void *ud,
                            struct spoor_error *err);

/* Uploads path to bucket/key through submit (one PUT when small, else a streamed multipart
 * upload, aborted on failure). The spoor_s3_upload_file contract. */
int s3_upload_file_via(s3_submit_fn submit, void *target, const char *bucket, const char *key,
                       const char *path, const struct spoor_s3_upload_opts *opts, spoor_s3_cb cb,
                       void *ud, struct spoor_error *err);

/* Blocking calls on a private loop: begin empties res and err (and refuses when the loop is
 * not private); s3_sync_cb, as the operation's callback, moves the result into res; wait runs
 * loop until it has (or returns submit_rc at once when the submit failed). */
struct s3_sync {
    bool done;
    int status;
    struct spoor_s3_result *res;
    struct spoor_error *err;
};
int s3_sync_begin(bool private_loop, struct s3_sync *w, struct spoor_s3_result *res,
                  struct spoor_error *err);
void s3_sync_cb(int status, struct spoor_s3_result *res, const struct spoor_error *err, void *ud);
int s3_sync_wait(uv_loop_t *loop, struct s3_sync *w, int submit_rc);

/* Validates op before anything is allocated: SPOOR_E_INVALID with err filled. */
int s3_op_validate(const struct spoor_s3_op *op, struct spoor_error *err);
/* Deep-copies src into dst, every string and array in arena a (body.data stays borrowed). */
void s3_op_copy(struct arena *a, struct spoor_s3_op *dst, const struct spoor_s3_op *src);
/* "GetObject" etc. */
const char *s3_op_name(enum spoor_s3_op_kind kind);
/* True for operations that change the store (refused on read-only routes). */
bool s3_op_writes(enum spoor_s3_op_kind kind);

#endif
