/*
 * s3_op.h: checks and copies of struct spoor_s3_op, shared by every backend that executes
 * operations (the S3 engine, the local file store, the router).
 */
#ifndef SPOOR_S3_OP_H
#define SPOOR_S3_OP_H

#include <spoor/s3.h>

#include "arena.h"

/* Validates op before anything is allocated: SPOOR_E_INVALID with err filled. */
int s3_op_validate(const struct spoor_s3_op *op, struct spoor_error *err);
/* Deep-copies src into dst, every string and array in arena a (body.data stays borrowed). */
void s3_op_copy(struct arena *a, struct spoor_s3_op *dst, const struct spoor_s3_op *src);
/* "GetObject" etc. */
const char *s3_op_name(enum spoor_s3_op_kind kind);
/* True for operations that change the store (refused on read-only routes). */
bool s3_op_writes(enum spoor_s3_op_kind kind);

#endif
