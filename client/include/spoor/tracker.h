/*
 * spoor/tracker.h: Burr-compatible tracking for C applications.
 *
 * A tracker writes what an application does (steps, spans, attributes, streams) in Apache
 * Burr's S3 layout and event format, so that spoor-server, or Burr's own server, indexes it:
 *   data/<project>/YYYY/MM/DD/HH/MM:SS.ffffff/<partition key or
 * __none__>/<app_id>/<uuid>__log.jsonl plus graph.json and metadata.json per application. In local
 * mode it writes Burr's local layout instead (<root>/<project>/<app_id>/log.jsonl, graph.json,
 * metadata.json, and children.jsonl in a parent's folder).
 *
 * Threads. Every hook (spoor_step_*, spoor_span_*, spoor_attribute, spoor_stream_*) is
 * thread-safe and only checks its arguments and copies them into a bounded in-memory queue: no
 * network, no disk, no allocation, no serialization on the caller's thread. spoor_app_new is
 * thread-safe too and allocates the application's handle, once per application. One flusher thread
 * per tracker turns the queue into objects: every flush_interval_ms, or as soon as max_batch_events
 * are waiting, one object per (application, partition key).
 *
 * When the queue is full, full_policy applies: SPOOR_FULL_BLOCK waits up to block_ms for room
 * and then drops; SPOOR_FULL_DROP drops at once. A dropped event returns SPOOR_E_QUEUE_FULL
 * and is counted (spoor_tracker_stats); nothing else is ever dropped silently.
 *
 * Durability. Before an object is sent it is written to the spool directory (one file per
 * object, by rename, so a file is whole or absent); it is deleted once the endpoint has
 * accepted it. When the endpoint fails (after the S3 client's own retries) the file stays and
 * is retried with backoff; a tracker started later with the same spool directory sends what an
 * earlier run left there. So an application killed outright loses only the events it had not
 * yet handed to the flusher (at most flush_interval_ms of them, or none after
 * spoor_tracker_flush returned 0); spoor_tracker_free flushes, and what it cannot send stays
 * spooled.
 *
 * Errors. Hooks return 0 or a negative code: SPOOR_E_INVALID for a bad id, a malformed JSON
 * payload or a payload of the wrong shape (the event is refused, nothing is queued; the
 * caller's bug, not a broken object in the bucket), SPOOR_E_QUEUE_FULL, or SPOOR_E_CANCELED
 * after spoor_tracker_free began. Hooks never abort the process, even when memory is short.
 *
 * Ownership. Every string argument is borrowed for the duration of the call only.
 */
#ifndef SPOOR_TRACKER_H
#define SPOOR_TRACKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <spoor/error.h>

#ifdef __cplusplus
extern "C" {
#endif

struct spoor_tracker;
struct spoor_app;

enum spoor_full_policy {
    SPOOR_FULL_BLOCK, /* wait up to block_ms for room, then drop */
    SPOOR_FULL_DROP,  /* drop the newest at once */
};

struct spoor_tracker_opts {
    const char *project; /* Burr's pattern: letters, digits, '_', '-', ':' (required) */
    /* Where objects go: exactly one of bucket (S3 layout through the router) and local_root
     * (Burr's local layout). */
    const char *bucket;
    const char *routes_path; /* routes file for the router; NULL: $SPOOR_ROUTES, else AWS env */
    const char *store_root;  /* with bucket and no routes: a local bucket store (file endpoint)
                                at this directory instead of AWS (the server's embedded store) */
    const char *local_root;
    int flush_interval_ms; /* 0 means 5000, as Burr */
    int max_batch_events;  /* 0 means 10000, as Burr */
    size_t queue_bytes;    /* queue capacity; 0 means 64 MiB */
    enum spoor_full_policy full_policy;
    int block_ms;                      /* SPOOR_FULL_BLOCK: 0 means 100 */
    const char *spool_dir;             /* S3 layout: required for durability; NULL means
                                          $XDG_STATE_HOME or ~/.local/state, then spoor/spool/<project> */
    const char *default_partition_key; /* for applications created without one; NULL: none */
    const char *tracker_id;            /* NULL: "<local time iso>-<uuid4>", as Burr */
};

/* Starts a tracker and its flusher thread; sends whatever an earlier run left in the spool.
 * Bad options are SPOOR_E_CONFIG or SPOOR_E_INVALID with err saying which and why. */
SPOOR_API int spoor_tracker_new(const struct spoor_tracker_opts *opts, struct spoor_tracker **out,
                                struct spoor_error *err);

/* Waits until everything enqueued before the call has been sent (returns 0) or spooled after a
 * failure (returns the endpoint's error, err filled), or timeout_ms passed (SPOOR_E_TIMEOUT;
 * negative timeout_ms waits as long as it takes). */
SPOOR_API int spoor_tracker_flush(struct spoor_tracker *t, int timeout_ms, struct spoor_error *err);

/* Refuses new events, flushes what is queued (waiting up to timeout_ms; negative: without
 * limit), leaves what could not be sent in the spool, stops the flusher and frees the tracker
 * and its applications. Returns 0 when everything was sent. */
SPOOR_API int spoor_tracker_free(struct spoor_tracker *t, int timeout_ms);

struct spoor_tracker_stats {
    uint64_t events_enqueued;
    uint64_t events_dropped; /* queue full */
    uint64_t events_refused; /* invalid arguments */
    uint64_t events_written; /* in objects the endpoint accepted */
    uint64_t objects_written;
    uint64_t objects_spooled; /* sends that failed and were kept for a retry */
    uint64_t spool_pending;   /* objects waiting in the spool now */
    uint64_t queue_bytes_used;
};
SPOOR_API void spoor_tracker_stats(struct spoor_tracker *t, struct spoor_tracker_stats *out);
SPOOR_API const char *spoor_tracker_id(const struct spoor_tracker *t);

/* A pointer to another application's step (fork or spawn). */
struct spoor_pointer {
    const char *app_id;
    const char *partition_key; /* NULL for none */
    int64_t sequence_id;
    bool has_sequence_id;
};

/* Announces an application: writes its graph.json (graph_json: Burr's ApplicationModel,
 * {"type":"application","entrypoint":..,"actions":[..],"transitions":[..]}) and metadata.json
 * (partition key, parent and spawning pointers). partition_key NULL uses the tracker's
 * default. *out (owned by the tracker, valid until spoor_tracker_free) is the handle for the
 * application's events. Calling it again for the same app_id and partition key returns the
 * same handle without writing anything again. */
SPOOR_API int spoor_app_new(struct spoor_tracker *t, const char *app_id, const char *partition_key,
                            const char *graph_json, const struct spoor_pointer *parent,
                            const struct spoor_pointer *spawning_parent, struct spoor_app **out,
                            struct spoor_error *err);

/* Step hooks. inputs and state are JSON objects; result is a JSON object or NULL (null);
 * exception is the failure's text or NULL. */
SPOOR_API int spoor_step_begin(struct spoor_app *a, int64_t sequence_id, const char *action,
                               const char *inputs_json);
SPOOR_API int spoor_step_end(struct spoor_app *a, int64_t sequence_id, const char *action,
                             const char *result_json, const char *state_json,
                             const char *exception);

/* Span hooks. span_id as Burr forms it ("<sequence>:<i>[.<j>...]"); parent_span_id NULL for a
 * top-level span; dependencies: ndeps span ids (may be 0). */
SPOOR_API int spoor_span_begin(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                               const char *span_name, const char *parent_span_id,
                               const char *const *dependencies, size_t ndeps);
SPOOR_API int spoor_span_end(struct spoor_app *a, int64_t action_sequence_id, const char *span_id);

/* An attribute: value_json any JSON value; tags_json an object of strings or NULL ({});
 * span_id NULL when it belongs to the step itself. */
SPOOR_API int spoor_attribute(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                              const char *key, const char *value_json, const char *tags_json);

/* Stream hooks; span_id may be NULL (Burr always writes null). */
SPOOR_API int spoor_stream_begin(struct spoor_app *a, int64_t action_sequence_id,
                                 const char *span_id);
SPOOR_API int spoor_stream_first_item(struct spoor_app *a, int64_t action_sequence_id,
                                      const char *span_id);
SPOOR_API int spoor_stream_end(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                               int64_t items_streamed);

#ifdef __cplusplus
}
#endif
#endif
