/*
 * flusher.c: the tracker's one background thread.
 *
 * Each round it takes what the hooks wrote into the ring, turns application records into
 * graph.json and metadata.json objects and event records into lines of per-application
 * batches, frees the ring, and when the batch is due (flush interval, max_batch_events, a
 * flush request, closing) makes one object per (application, partition key):
 *
 *   records --> batches --> objects --> spool file (rename) --> PUT (router) --> unlink
 *                                                     '-- failed: stays, retried with backoff
 *
 * Object keys carry the flush time, strictly increasing per tracker, so an application's
 * objects sort in the order their events happened, whenever a retry delivers them. In local
 * mode the lines are appended to Burr's log.jsonl instead, and nothing is spooled.
 *
 * The thread owns a libuv loop and the router on it; PUTs of a round run concurrently and the
 * round waits for all of them. Progress (tickets done, the last send's status) is published
 * under the ring's lock for spoor_tracker_flush.
 */
#include "tracker_int.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SPOOL_BACKOFF_MIN_MS 500
#define SPOOL_BACKOFF_MAX_MS 30000
#define SPOOL_BATCH 64

struct batch {
    struct spoor_app *app;
    struct batch *next;
    struct buf body;
    int64_t min_seq, max_seq;
    uint64_t nevents;
};

struct flusher {
    struct spoor_tracker *t;
    uv_loop_t loop;
    struct spoor_router *router;
    struct batch *head, *tail; /* applications with lines waiting, in order of arrival */
    uint64_t batched;
    int64_t last_flush_mono;
    int64_t last_key_ns;
    int64_t spool_retry_at; /* CLOCK_MONOTONIC ns; 0: nothing to retry */
    int spool_backoff_ms;
    int round_status;
    struct spoor_error round_err;
};

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A key time after every earlier one of this tracker, to the microsecond. */
static int64_t next_key_ns(struct flusher *f)
{
    int64_t now = real_ns() / 1000 * 1000;
    if (now <= f->last_key_ns)
        now = f->last_key_ns + 1000;
    f->last_key_ns = now;
    return now;
}

/* ---- sending objects ------------------------------------------------------------------- */

struct send {
    struct flusher *f;
    struct spool_obj obj;
    uint64_t nevents;
    bool done;
    int status;
    struct spoor_error err;
};

static void on_put(int status, struct spoor_s3_result *res, const struct spoor_error *err, void *ud)
{
    struct send *s = ud;
    s->done = true;
    s->status = status;
    if (status)
        s->err = *err;
}

static void note_failure(struct flusher *f, const struct send *s)
{
    f->round_status = s->status;
    f->round_err = s->err;
    if (!f->spool_retry_at) {
        f->spool_backoff_ms = f->spool_backoff_ms ? f->spool_backoff_ms : SPOOL_BACKOFF_MIN_MS;
        f->spool_retry_at = mono_ns() + (int64_t)f->spool_backoff_ms * 1000000;
    }
}

/* Sends n objects at once and waits for all; deletes the spool files of those that went. */
static void send_all(struct flusher *f, struct send *s, size_t n)
{
    struct spoor_tracker *t = f->t;
    size_t waiting = 0;
    for (size_t i = 0; i < n; i++) {
        struct spoor_s3_meta meta[4];
        for (size_t k = 0; k < s[i].obj.nmeta; k++)
            meta[k] = (struct spoor_s3_meta){s[i].obj.meta_names[k], s[i].obj.meta_values[k]};
        struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                                 .bucket = s[i].obj.bucket,
                                 .key = s[i].obj.key,
                                 .body = {.data = s[i].obj.body, .len = s[i].obj.body_len},
                                 .meta = meta,
                                 .nmeta = s[i].obj.nmeta};
        s[i].f = f;
        s[i].status = spoor_router_submit(f->router, &op, on_put, &s[i], &s[i].err);
        s[i].done = s[i].status != 0;
        waiting += !s[i].done;
    }
    while (waiting > 0) {
        uv_run(&f->loop, UV_RUN_ONCE);
        waiting = 0;
        for (size_t i = 0; i < n; i++)
            waiting += !s[i].done;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i].status == 0) {
            if (s[i].obj.path)
                unlink(s[i].obj.path);
            __atomic_add_fetch(&t->n_objects, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&t->n_written, s[i].nevents, __ATOMIC_RELAXED);
        } else {
            fprintf(stderr, "spoor tracker: %s; kept in the spool for a retry\n", s[i].err.message);
            __atomic_add_fetch(&t->n_spooled, 1, __ATOMIC_RELAXED);
            note_failure(f, &s[i]);
        }
    }
}

static void add_meta(struct spool_obj *o, const char *name, const char *value)
{
    o->meta_names = xrealloc(o->meta_names, (o->nmeta + 1) * sizeof *o->meta_names);
    o->meta_values = xrealloc(o->meta_values, (o->nmeta + 1) * sizeof *o->meta_values);
    o->meta_names[o->nmeta] = xstrdup(name);
    o->meta_values[o->nmeta] = xstrdup(value);
    o->nmeta++;
}

/* Fills an object of app's named filename at time ns; body taken from b. */
static void make_obj(struct flusher *f, struct send *s, const struct spoor_app *a,
                     const char *filename, int64_t ns, struct buf *b)
{
    struct spoor_tracker *t = f->t;
    memset(s, 0, sizeof *s);
    struct buf key;
    buf_init(&key, 8192);
    ev_object_key(&key, t->project, ns, a->partition_key, a->app_id, filename);
    s->obj.bucket = xstrdup(t->bucket);
    s->obj.key = buf_take(&key, NULL);
    s->obj.body = buf_take(b, &s->obj.body_len);
}

/* Writes s's object to the spool before it is sent: once there, a crash cannot lose it. */
static void spool_first(struct flusher *f, struct send *s)
{
    struct spoor_error err;
    if (spool_write(f->t->spool_dir, &s->obj, &err) != 0)
        fprintf(stderr, "spoor tracker: %s; sending without a spool copy\n", err.message);
}

/* ---- applications ---------------------------------------------------------------------- */

static void app_objects(struct flusher *f, const struct spoor_app *a)
{
    struct spoor_tracker *t = f->t;
    if (t->local_root) {
        struct spoor_error err;
        if (local_app_created(t, a, &err) != 0)
            fprintf(stderr, "spoor tracker: %s\n", err.message);
        return;
    }
    struct send s[2];
    struct buf b;
    buf_init(&b, 64u << 20);
    buf_append_str(&b, a->graph);
    make_obj(f, &s[0], a, "graph.json", next_key_ns(f), &b);
    add_meta(&s[0].obj, "tracker_id", t->tracker_id);
    ev_metadata_json(&b, a->partition_key, a->has_parent ? &a->parent : NULL,
                     a->has_spawning ? &a->spawning : NULL, JSON_STYLE_COMPACT);
    make_obj(f, &s[1], a, "metadata.json", next_key_ns(f), &b);
    struct buf p;
    buf_init(&p, 16384);
    ev_pointer_header(&p, a->has_parent ? &a->parent : NULL);
    add_meta(&s[1].obj, "parent_pointer", p.data);
    buf_reset(&p);
    ev_pointer_header(&p, a->has_spawning ? &a->spawning : NULL);
    add_meta(&s[1].obj, "spawning_parent_pointer", p.data);
    buf_cleanup(&p);
    add_meta(&s[1].obj, "tracker_id", t->tracker_id);
    spool_first(f, &s[0]);
    spool_first(f, &s[1]);
    send_all(f, s, 2);
    spool_obj_cleanup(&s[0].obj);
    spool_obj_cleanup(&s[1].obj);
}

/* ---- batches --------------------------------------------------------------------------- */

static struct batch *batch_of(struct flusher *f, struct spoor_app *a)
{
    for (struct batch *b = f->head; b; b = b->next) /* few applications flush at once */
        if (b->app == a)
            return b;
    struct batch *b = xcalloc(1, sizeof *b);
    b->app = a;
    buf_init(&b->body, SIZE_MAX / 2);
    b->min_seq = INT64_MAX;
    b->max_seq = INT64_MIN;
    if (f->tail)
        f->tail->next = b;
    else
        f->head = b;
    f->tail = b;
    return b;
}

static void decode(const struct rec *r, struct ev *e)
{
    memset(e, 0, sizeof *e);
    e->type = (enum ev_type)r->ev_type;
    e->time_ns = r->time_ns;
    e->sequence_id = r->seq;
    e->items_streamed = r->items;
    switch (e->type) {
    case EV_BEGIN_ENTRY:
        e->action = rec_string(r, 0).s, e->inputs = rec_string(r, 1).s;
        break;
    case EV_END_ENTRY:
        e->action = rec_string(r, 0).s, e->result = rec_string(r, 1).s;
        e->state = rec_string(r, 2).s, e->exception = rec_string(r, 3).s;
        break;
    case EV_BEGIN_SPAN:
        e->span_id = rec_string(r, 0).s, e->span_name = rec_string(r, 1).s;
        e->parent_span_id = rec_string(r, 2).s, e->deps = rec_string(r, 3).s;
        e->ndeps = r->ndeps;
        break;
    case EV_ATTRIBUTE:
        e->key = rec_string(r, 0).s, e->span_id = rec_string(r, 1).s;
        e->value = rec_string(r, 2).s, e->tags = rec_string(r, 3).s;
        break;
    default: /* end_span and stream events: the span id */
        e->span_id = rec_string(r, 0).s;
    }
}

static void add_line(struct flusher *f, const struct rec *r)
{
    struct batch *b = batch_of(f, r->app);
    struct ev e;
    decode(r, &e);
    size_t before = b->body.len;
    if ((b->nevents && buf_append_byte(&b->body, '\n') != 0) || ev_line(&e, &b->body) != 0) {
        b->body.len = before; /* no half line, no stray separator */
        if (b->body.data)
            b->body.data[before] = '\0';
        fprintf(stderr, "spoor tracker: an event of app %s could not be written\n", r->app->app_id);
        return;
    }
    b->nevents++;
    f->batched++;
    b->min_seq = r->seq < b->min_seq ? r->seq : b->min_seq;
    b->max_seq = r->seq > b->max_seq ? r->seq : b->max_seq;
}

static void flush_local(struct flusher *f, struct batch *b)
{
    struct spoor_error err;
    int rc = local_append(f->t, b->app, b->body.data, b->body.len, &err);
    if (rc) {
        fprintf(stderr, "spoor tracker: %s\n", err.message);
        f->round_status = rc;
        f->round_err = err;
        return;
    }
    __atomic_add_fetch(&f->t->n_written, b->nevents, __ATOMIC_RELAXED);
    __atomic_add_fetch(&f->t->n_objects, 1, __ATOMIC_RELAXED);
}

/* One object per application with lines; all sent at once. */
static void flush_batches(struct flusher *f)
{
    size_t n = 0;
    for (struct batch *b = f->head; b; b = b->next)
        n++;
    struct send *s = xcalloc(n ? n : 1, sizeof *s);
    size_t i = 0;
    for (struct batch *b = f->head, *next; b; b = next, i++) {
        next = b->next;
        if (f->t->local_root) {
            flush_local(f, b);
        } else {
            unsigned char rnd[16];
            char filename[64], num[24];
            RAND_bytes(rnd, sizeof rnd);
            ev_log_filename(rnd, filename);
            make_obj(f, &s[i], b->app, filename, next_key_ns(f), &b->body);
            s[i].nevents = s[i].obj.nevents = b->nevents;
            snprintf(num, sizeof num, "%lld", (long long)b->min_seq);
            add_meta(&s[i].obj, "min_sequence_id", num);
            snprintf(num, sizeof num, "%lld", (long long)b->max_seq);
            add_meta(&s[i].obj, "max_sequence_id", num);
            add_meta(&s[i].obj, "tracker_id", f->t->tracker_id);
            spool_first(f, &s[i]);
        }
        buf_cleanup(&b->body);
        free(b);
    }
    f->head = f->tail = NULL;
    f->batched = 0;
    if (!f->t->local_root)
        send_all(f, s, n);
    for (i = 0; i < n; i++)
        spool_obj_cleanup(&s[i].obj);
    free(s);
    f->last_flush_mono = mono_ns();
}

/* ---- the spool ------------------------------------------------------------------------- */

/* Sends what the spool holds, oldest first, a few at a time; stops at the first failure and
 * waits with backoff before the next try. */
static void retry_spool(struct flusher *f)
{
    struct spoor_tracker *t = f->t;
    char **paths = NULL;
    size_t n = 0;
    if (spool_list(t->spool_dir, &paths, &n) != 0)
        return;
    size_t done = 0;
    bool failed = false;
    while (done < n && !failed) {
        size_t m = n - done < SPOOL_BATCH ? n - done : SPOOL_BATCH;
        struct send *s = xcalloc(m, sizeof *s);
        size_t k = 0;
        for (size_t i = 0; i < m; i++) {
            struct spoor_error err;
            if (spool_read(paths[done + i], &s[k].obj, &err) == 0) {
                s[k].nevents = s[k].obj.nevents;
                k++;
            } else
                fprintf(stderr, "spoor tracker: %s; left in the spool\n", err.message);
        }
        int before = f->round_status;
        f->round_status = 0;
        send_all(f, s, k);
        failed = f->round_status != 0;
        if (!failed)
            f->round_status = before;
        for (size_t i = 0; i < k; i++)
            spool_obj_cleanup(&s[i].obj);
        free(s);
        done += m;
    }
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    /* What remains is what failed now or was not reached. */
    uint64_t left = spool_count(t->spool_dir);
    __atomic_store_n(&t->n_spool_pending, left, __ATOMIC_RELAXED);
    if (left == 0) {
        f->spool_retry_at = 0;
        f->spool_backoff_ms = 0;
    } else {
        int next = f->spool_backoff_ms ? f->spool_backoff_ms * 2 : SPOOL_BACKOFF_MIN_MS;
        f->spool_backoff_ms = next > SPOOL_BACKOFF_MAX_MS ? SPOOL_BACKOFF_MAX_MS : next;
        f->spool_retry_at = mono_ns() + (int64_t)f->spool_backoff_ms * 1000000;
    }
}

/* ---- the thread ------------------------------------------------------------------------ */

static void consume(struct flusher *f, size_t from, size_t to)
{
    struct spoor_tracker *t = f->t;
    size_t pos = from;
    const struct rec *r;
    while ((r = ring_next(&t->q, &pos, to))) {
        if (r->kind == REC_APP) {
            app_objects(f, r->app); /* graph and metadata at once; lines wait for the batch */
        } else {
            add_line(f, r);
        }
    }
    ring_release(&t->q, to - from);
}

/* Tells spoor_tracker_flush how far the flusher got. The spool's file count is the truth
 * about what is still unsent; the latest failure is kept to explain it. */
static void publish(struct flusher *f, uint64_t tickets, uint64_t gen)
{
    struct spoor_tracker *t = f->t;
    if (t->spool_dir)
        __atomic_store_n(&t->n_spool_pending, spool_count(t->spool_dir), __ATOMIC_RELAXED);
    pthread_mutex_lock(&t->q.mu);
    if (f->batched == 0) {
        t->done_tickets = tickets;
        t->served_gen = gen;
    }
    if (f->round_status) {
        t->last_status = f->round_status;
        t->last_err = f->round_err;
    }
    pthread_cond_broadcast(&t->progress);
    pthread_mutex_unlock(&t->q.mu);
}

static void *flusher_main(void *arg)
{
    struct flusher *f = arg;
    struct spoor_tracker *t = f->t;
    int64_t interval = (int64_t)t->flush_interval_ms * 1000000;
    f->last_flush_mono = mono_ns();
    if (t->spool_dir)
        retry_spool(f); /* what an earlier run left */
    for (;;) {
        int64_t deadline = f->last_flush_mono + interval;
        if (f->spool_retry_at && f->spool_retry_at < deadline)
            deadline = f->spool_retry_at;
        size_t from, to;
        uint64_t tickets;
        bool asked, closing;
        uint64_t gen;
        ring_take(&t->q, deadline, &from, &to, &tickets, &asked, &closing, &gen);
        f->round_status = 0;
        memset(&f->round_err, 0, sizeof f->round_err);
        consume(f, from, to);
        bool due = f->batched >= (uint64_t)t->max_batch_events ||
                   mono_ns() - f->last_flush_mono >= interval;
        if (f->batched && (due || asked || closing))
            flush_batches(f);
        else if (due)
            f->last_flush_mono = mono_ns();
        /* A flush request retries the spool at once: it asks for everything to be sent. */
        if (f->spool_retry_at && (asked || mono_ns() >= f->spool_retry_at))
            retry_spool(f);
        publish(f, tickets, gen);
        if (closing && to == from && f->batched == 0)
            break;
    }
    return NULL;
}

static void on_router_closed(void *ud)
{
    (void)ud;
}

int flusher_start(struct spoor_tracker *t, struct spoor_error *err)
{
    struct flusher *f = xcalloc(1, sizeof *f);
    f->t = t;
    uv_loop_init(&f->loop);
    if (t->bucket) {
        /* An explicit local store wins over $SPOOR_ROUTES ("" means no routes file). */
        struct spoor_router_opts o = {.routes_path = t->routes_path ? t->routes_path
                                                                    : (t->store_root ? "" : NULL),
                                      .local_root = t->store_root};
        f->router = spoor_router_new(&f->loop, &o, err);
        if (!f->router) {
            uv_run(&f->loop, UV_RUN_DEFAULT);
            uv_loop_close(&f->loop);
            free(f);
            return err ? err->code : SPOOR_E_CONFIG;
        }
    }
    t->fl = f;
    if (t->spool_dir) /* an earlier run's leftovers count from the start */
        __atomic_store_n(&t->n_spool_pending, spool_count(t->spool_dir), __ATOMIC_RELAXED);
    if (pthread_create(&t->flusher, NULL, flusher_main, f) != 0) {
        flusher_stop(t);
        return spoor_error_set(err, SPOOR_E_CONFIG, "cannot start the flusher thread");
    }
    t->flusher_started = true;
    return 0;
}

void flusher_stop(struct spoor_tracker *t)
{
    struct flusher *f = t->fl;
    if (!f)
        return;
    if (f->router) {
        spoor_router_close(f->router, on_router_closed, NULL);
        uv_run(&f->loop, UV_RUN_DEFAULT);
    }
    uv_loop_close(&f->loop);
    free(f);
    t->fl = NULL;
}
