/*
 * indexer.h: one indexing tick, on the server's loop, through the router.
 *
 *   discover projects (LIST data/ with delimiter "/", every page)
 *   for each project, one at a time:
 *     LIST data/<project>/ from StartAfter = min(watermark, lookback key), page by page,
 *     taking keys not indexed yet until batch_cap are taken
 *     GET them, at most max_concurrency at once; parse keys and bodies
 *     commit the batch and the new watermark (largest key listed) in one transaction
 *     when the cap stopped the listing, go on at once with the next batch
 *
 * Object keys already in the index are listed again inside the lookback window but never
 * fetched or indexed twice. S3 errors fail the project's job with their message; the next tick
 * retries. The async contract of spoor/s3.h holds: indexer_tick's callback runs once, never
 * inside the call.
 */
#ifndef SPOOR_INDEXER_H
#define SPOOR_INDEXER_H

#include <spoor/router.h>

#include "idx.h"

struct indexer_opts {
    const char *bucket;
    int batch_cap;           /* new keys per batch; 0 means 1000 */
    int max_concurrency;     /* GETs at once; 0 means 100 */
    int lookback_s;          /* re-list window below the watermark; 0 means 600 */
    size_t max_line_bytes;   /* longer lines are skipped; 0 means 1 MiB */
    size_t max_object_bytes; /* larger objects are skipped; 0 means 256 MiB */
};

struct indexer_stats {
    uint64_t ticks, objects, events, skipped_objects, failures;
};

struct indexer;

/* loop, router and index are borrowed and must outlive the indexer. */
struct indexer *indexer_new(uv_loop_t *loop, struct spoor_router *r, struct idx *x,
                            const struct indexer_opts *o);
void indexer_free(struct indexer *ix);

/* Starts a tick; done(status, ud) runs once when every project has been handled (status is
 * the first failure, or 0). SPOOR_E_INVALID if a tick is already running. */
int indexer_tick(struct indexer *ix, void (*done)(int status, void *ud), void *ud);

void indexer_stats(const struct indexer *ix, struct indexer_stats *out);

#endif
