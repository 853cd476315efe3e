/*
 * tracker_int.h: the tracker's private parts, shared by queue.c (the bounded byte ring the
 * hooks write into), tracker.c (options, applications, hooks), flusher.c (the thread that
 * turns records into objects), spool.c (objects on disk until the endpoint has them) and
 * local.c (Burr's local layout).
 *
 *   app thread --hook--> json_check, copy --> [ring: records] --flusher--> batches per app
 *        --> objects --> spool file --> PUT through the router --> spool file deleted
 *
 * Records are written whole under the ring's lock and read by the flusher without it: the
 * region [tail, head) belongs to the flusher until it moves tail.
 */
#ifndef SPOOR_TRACKER_INT_H
#define SPOOR_TRACKER_INT_H

#include <spoor/router.h>
#include <spoor/tracker.h>

#include <pthread.h>
#include <stdint.h>

#include "buf.h"
#include "event.h"
#include "spool.h"

/* ---- queue.c --------------------------------------------------------------------------- */

enum rec_type {
    REC_EVENT, /* an ev of some type */
    REC_APP,   /* an application was created: write its graph and metadata */
    REC_SKIP,  /* filler to the end of the ring */
};

/* A record in the ring: this header, then nstr strings, each a uint32 length (UINT32_MAX for
 * NULL) and the bytes with a NUL. Records are 8-byte aligned. */
struct rec {
    uint32_t len;  /* whole record, padded */
    uint16_t kind; /* enum rec_type */
    uint16_t ev_type;
    uint16_t nstr;
    uint16_t pad;
    uint32_t ndeps;
    int64_t time_ns;
    int64_t seq;
    int64_t items;
    struct spoor_app *app;
};

struct ring {
    pthread_mutex_t mu;
    pthread_cond_t room; /* signalled when the flusher frees space */
    pthread_cond_t work; /* signalled when the flusher has something to do */
    char *mem;
    size_t cap;
    size_t head, tail; /* byte offsets; head == tail: empty */
    size_t used;
    uint64_t tickets; /* records ever written; a record's ticket is its position */
    uint64_t pending; /* event records not yet taken by the flusher */
    uint64_t events;  /* event records ever written */
    uint64_t wake_at; /* pending count that wakes the flusher early */
    bool closing;
    bool flush_asked;
    uint64_t flush_gen; /* flush requests made so far */
    uint64_t dropped;
};

struct rec_str {
    const char *s; /* NULL for null */
    size_t len;
};

int ring_init(struct ring *q, size_t cap, uint64_t wake_at);
void ring_cleanup(struct ring *q);
/* Writes one record (header h, strings strs) under the lock, waiting up to block_ms for room
 * (0: not at all). Returns 0 (with *ticket set if not NULL), SPOOR_E_QUEUE_FULL, or
 * SPOOR_E_CANCELED when closing. Allocates nothing. */
int ring_put(struct ring *q, const struct rec *h, const struct rec_str *strs, size_t nstr,
             int block_ms, uint64_t *ticket);
/* Flusher side: waits (up to deadline_ns of CLOCK_MONOTONIC, or until woken) for records,
 * then returns the readable region as unwrapped offsets [*from, *to) (read at pos % cap), the
 * number of tickets written so far, and whether a flush was asked (the request is consumed)
 * or the ring is closing; nothing is freed until ring_release(q, to - from). */
void ring_take(struct ring *q, int64_t deadline_ns, size_t *from, size_t *to, uint64_t *ntickets,
               bool *asked, bool *closing, uint64_t *flush_gen);
void ring_release(struct ring *q, size_t nbytes);
/* Walks records in [from, to): returns the record at *pos and advances *pos, NULL at the end. */
const struct rec *ring_next(const struct ring *q, size_t *pos, size_t to);
/* The i-th string of a record. */
struct rec_str rec_string(const struct rec *r, size_t i);

/* ---- applications and the tracker ------------------------------------------------------ */

struct flusher;

struct spoor_app {
    struct spoor_tracker *t;
    struct spoor_app *next;
    char *app_id;
    char *partition_key; /* NULL for none */
    char *graph;         /* compacted at creation */
    bool has_parent, has_spawning;
    struct ev_pointer parent, spawning; /* strings owned here */
    int64_t created_ns;
};

struct spoor_tracker {
    char *project;
    char *bucket;
    char *local_root;
    char *spool_dir;
    char *routes_path;
    char *store_root;
    char *default_pk;
    char tracker_id[128];
    int flush_interval_ms;
    int max_batch_events;
    enum spoor_full_policy full_policy;
    int block_ms;

    struct ring q;
    pthread_t flusher;
    bool flusher_started;
    struct flusher *fl; /* the flusher thread's own state */

    pthread_mutex_t apps_mu;
    struct spoor_app *apps;

    /* Progress, under q.mu: tickets the flusher has finished with (sent or spooled). */
    uint64_t done_tickets;
    uint64_t served_gen; /* flush requests answered by a finished round */
    int last_status;     /* the latest failed send's code (kept until another) */
    struct spoor_error last_err;
    pthread_cond_t progress;

    /* Counters (atomics). */
    uint64_t n_refused, n_written, n_objects, n_spooled, n_spool_pending;
};

/* ---- flusher.c ------------------------------------------------------------------------- */

/* Makes the tracker's router (S3 layout) and starts the flusher thread; a routes or
 * credentials problem is reported here, at start. */
int flusher_start(struct spoor_tracker *t, struct spoor_error *err);
/* After the thread has ended: closes the router and frees the flusher's state. */
void flusher_stop(struct spoor_tracker *t);

/* ---- local.c --------------------------------------------------------------------------- */

/* Burr's local layout: the application's graph.json and metadata.json (only if absent; if
 * graph.json exists nothing else is written, as Burr does) and a children.jsonl line in each
 * parent's folder. */
int local_app_created(const struct spoor_tracker *t, const struct spoor_app *a,
                      struct spoor_error *err);
/* Appends lines (each without newline, joined by '\n' in body) to the app's log.jsonl. */
int local_append(const struct spoor_tracker *t, const struct spoor_app *a, const char *body,
                 size_t len, struct spoor_error *err);

#endif
