/*
 * snapshot.h: copies of the index in the bucket, in Burr's key format
 *   snapshots/<2^32 - epoch seconds, 10 digits>-<ISO time>/<server id>/snapshot.db
 * so that the newest sorts first. A snapshot is a consistent copy (VACUUM INTO a temporary
 * file), uploaded in parts when large; only BURR_PRIOR_SNAPSHOTS_TO_KEEP of this server's
 * snapshots are kept, also across restarts (older ones, found by listing, are deleted); a
 * snapshot is skipped when the index has not changed since the last one. At start, a server
 * without a local index restores the newest snapshot of any server.
 */
#ifndef SPOOR_SNAPSHOT_H
#define SPOOR_SNAPSHOT_H

#include <spoor/router.h>

#include <stdint.h>

#include "idx.h"

/* The key of a snapshot taken at epoch_us (microseconds) by server_id. */
void snapshot_key(int64_t epoch_us, const char *server_id, char *out, size_t size);

struct snapshotter;

struct snapshot_opts {
    const char *bucket;
    const char *server_id;
    int keep;             /* snapshots of this server to keep; at least 1 */
    const char *work_dir; /* where the temporary copy is made (next to the index) */
};

struct snapshotter *snapshotter_new(struct spoor_router *r, struct idx *x,
                                    const struct snapshot_opts *o);
void snapshotter_free(struct snapshotter *s);

/* Takes a snapshot unless nothing changed (done gets status 0 and skipped true), uploads it,
 * then applies retention. done runs once, never inside the call. */
int snapshot_take(struct snapshotter *s, void (*done)(int status, bool skipped, void *ud), void *ud,
                  struct spoor_error *err);

/* When the bucket last held this index as it is (a snapshot uploaded, or skipped because
 * nothing changed), in epoch seconds; 0 before the first. */
int64_t snapshot_last_ok(const struct snapshotter *s);

/* Blocking, before the server starts: downloads the newest snapshot in the bucket to dest.
 * Returns 0 and *found; -ENOENT-free: no snapshot is found=false and 0. Runs loop until done. */
int snapshot_restore_newest(uv_loop_t *loop, struct spoor_router *r, const char *bucket,
                            const char *dest, bool *found, char *key, size_t key_size,
                            struct spoor_error *err);

#endif
