/*
 * tracker.c: the tracker's public face: options, applications, and the hooks.
 *
 * A hook checks its arguments (ids, JSON payloads: json_check allocates nothing), takes the
 * time, and writes one record into the ring (queue.c). It never allocates, formats, sends or
 * writes to disk; those are the flusher's (flusher.c). Applications are created once, with
 * their graph compacted then, and live until the tracker is freed, so records can point at
 * them.
 */
#include "tracker_int.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- the hooks ------------------------------------------------------------------------- */

static int refuse(struct spoor_tracker *t)
{
    __atomic_add_fetch(&t->n_refused, 1, __ATOMIC_RELAXED);
    return SPOOR_E_INVALID;
}

static struct rec_str str(const char *s)
{
    return (struct rec_str){s, s ? strlen(s) : 0};
}

/* Checks on strings already measured: each payload's length is taken once per hook. */
static bool json_ok(struct rec_str s, enum json_kind kind)
{
    return s.s && json_check(s.s, s.len, kind, NULL, NULL) == 0;
}

static bool opt_json_ok(struct rec_str s, enum json_kind kind)
{
    return !s.s || json_check(s.s, s.len, kind, NULL, NULL) == 0;
}

/* Text that goes into a JSON string: valid UTF-8, or NULL where NULL is allowed. */
static bool text_ok(struct rec_str s)
{
    return s.s && json_utf8_valid(s.s, s.len);
}

static bool opt_text_ok(struct rec_str s)
{
    return !s.s || json_utf8_valid(s.s, s.len);
}

static int put_event(struct spoor_app *a, enum ev_type type, int64_t seq, int64_t items,
                     uint32_t ndeps, const struct rec_str *strs, size_t nstr)
{
    struct spoor_tracker *t = a->t;
    struct rec h = {.kind = REC_EVENT,
                    .ev_type = (uint16_t)type,
                    .ndeps = ndeps,
                    .time_ns = now_ns(),
                    .seq = seq,
                    .items = items,
                    .app = a};
    int block = t->full_policy == SPOOR_FULL_BLOCK ? t->block_ms : 0;
    return ring_put(&t->q, &h, strs, nstr, block, NULL); /* counts the event under its lock */
}

int spoor_step_begin(struct spoor_app *a, int64_t sequence_id, const char *action,
                     const char *inputs_json)
{
    struct rec_str s[] = {str(action), str(inputs_json)};
    if (!a || !text_ok(s[0]) || !json_ok(s[1], JSON_KIND_OBJECT) || sequence_id < 0)
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    return put_event(a, EV_BEGIN_ENTRY, sequence_id, 0, 0, s, 2);
}

int spoor_step_end(struct spoor_app *a, int64_t sequence_id, const char *action,
                   const char *result_json, const char *state_json, const char *exception)
{
    struct rec_str s[] = {str(action), str(result_json), str(state_json), str(exception)};
    if (!a || !text_ok(s[0]) || !json_ok(s[2], JSON_KIND_OBJECT) || sequence_id < 0 ||
        !opt_json_ok(s[1], JSON_KIND_OBJECT_OR_NULL) || !opt_text_ok(s[3]))
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    return put_event(a, EV_END_ENTRY, sequence_id, 0, 0, s, 4);
}

int spoor_span_begin(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                     const char *span_name, const char *parent_span_id,
                     const char *const *dependencies, size_t ndeps)
{
    struct rec_str id = str(span_id), name = str(span_name), parent = str(parent_span_id);
    if (!a || !text_ok(id) || !text_ok(name) || !opt_text_ok(parent) || action_sequence_id < 0 ||
        ndeps > 64 || (ndeps && !dependencies))
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    /* Dependencies travel as one string of ndeps NUL-terminated ids. */
    char packed[4096];
    size_t n = 0;
    for (size_t i = 0; i < ndeps; i++) {
        struct rec_str d = str(dependencies[i]);
        size_t len = d.len;
        if (!d.s || n + len + 1 > sizeof packed || !text_ok(d))
            return refuse(a->t);
        memcpy(packed + n, dependencies[i], len + 1);
        n += len + 1;
    }
    struct rec_str s[] = {id, name, parent, {packed, n}};
    return put_event(a, EV_BEGIN_SPAN, action_sequence_id, 0, (uint32_t)ndeps, s, 4);
}

int spoor_span_end(struct spoor_app *a, int64_t action_sequence_id, const char *span_id)
{
    struct rec_str s[] = {str(span_id)};
    if (!a || !text_ok(s[0]) || action_sequence_id < 0)
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    return put_event(a, EV_END_SPAN, action_sequence_id, 0, 0, s, 1);
}

int spoor_attribute(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                    const char *key, const char *value_json, const char *tags_json)
{
    struct rec_str s[] = {str(key), str(span_id), str(value_json), str(tags_json)};
    if (!a || !text_ok(s[0]) || !opt_text_ok(s[1]) || action_sequence_id < 0 ||
        !json_ok(s[2], JSON_KIND_ANY) || !opt_json_ok(s[3], JSON_KIND_STRING_MAP))
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    return put_event(a, EV_ATTRIBUTE, action_sequence_id, 0, 0, s, 4);
}

static int stream_event(struct spoor_app *a, enum ev_type type, int64_t seq, const char *span_id,
                        int64_t items)
{
    struct rec_str s[] = {str(span_id)};
    if (!a || seq < 0 || items < 0 || !opt_text_ok(s[0]))
        return a ? refuse(a->t) : SPOOR_E_INVALID;
    return put_event(a, type, seq, items, 0, s, 1);
}

int spoor_stream_begin(struct spoor_app *a, int64_t action_sequence_id, const char *span_id)
{
    return stream_event(a, EV_BEGIN_STREAM, action_sequence_id, span_id, 0);
}

int spoor_stream_first_item(struct spoor_app *a, int64_t action_sequence_id, const char *span_id)
{
    return stream_event(a, EV_FIRST_ITEM_STREAM, action_sequence_id, span_id, 0);
}

int spoor_stream_end(struct spoor_app *a, int64_t action_sequence_id, const char *span_id,
                     int64_t items_streamed)
{
    return stream_event(a, EV_END_STREAM, action_sequence_id, span_id, items_streamed);
}

/* ---- applications ---------------------------------------------------------------------- */

static void app_free(struct spoor_app *a)
{
    free(a->app_id);
    free(a->partition_key);
    free(a->graph);
    free((char *)a->parent.app_id);
    free((char *)a->parent.partition_key);
    free((char *)a->spawning.app_id);
    free((char *)a->spawning.partition_key);
    free(a);
}

/* strdup that reports failure instead of aborting: hooks never abort the host. */
static int dup_opt(const char *s, char **out)
{
    *out = NULL;
    if (!s)
        return 0;
    *out = strdup(s);
    return *out ? 0 : -ENOMEM;
}

static int pointer_copy(const struct spoor_pointer *p, struct ev_pointer *out, bool *has,
                        struct spoor_error *err)
{
    *has = p != NULL;
    if (!p)
        return 0;
    if (!p->app_id || !ev_id_valid(p->app_id) ||
        (p->partition_key && p->partition_key[0] && !ev_partition_key_valid(p->partition_key)))
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "parent pointer: app id \"%s\" or its partition key is invalid",
                               p->app_id ? p->app_id : "(null)");
    char *id, *pk;
    if (dup_opt(p->app_id, &id) ||
        dup_opt(p->partition_key && p->partition_key[0] ? p->partition_key : NULL, &pk)) {
        free(id);
        return -ENOMEM;
    }
    *out = (struct ev_pointer){id, pk, p->sequence_id, p->has_sequence_id};
    return 0;
}

static int app_make(struct spoor_tracker *t, const char *app_id, const char *pk,
                    const char *graph_json, const struct spoor_pointer *parent,
                    const struct spoor_pointer *spawning, struct spoor_app **out,
                    struct spoor_error *err)
{
    struct spoor_app *a = calloc(1, sizeof *a);
    if (!a)
        return -ENOMEM;
    a->t = t;
    a->created_ns = now_ns();
    struct buf g;
    buf_init(&g, 64u << 20);
    int rc = dup_opt(app_id, &a->app_id) ?: dup_opt(pk, &a->partition_key);
    if (!rc)
        rc = json_reemit(graph_json, strlen(graph_json), JSON_STYLE_COMPACT, &g);
    if (!rc)
        rc = pointer_copy(parent, &a->parent, &a->has_parent, err)
                 ?: pointer_copy(spawning, &a->spawning, &a->has_spawning, err);
    if (rc) {
        buf_cleanup(&g);
        app_free(a);
        return rc == SPOOR_E_INVALID ? rc
                                     : spoor_error_set(err, rc, "cannot create app %s: %s", app_id,
                                                       spoor_strerror(rc));
    }
    a->graph = buf_take(&g, NULL);
    *out = a;
    return 0;
}

static bool same_pk(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int spoor_app_new(struct spoor_tracker *t, const char *app_id, const char *partition_key,
                  const char *graph_json, const struct spoor_pointer *parent,
                  const struct spoor_pointer *spawning_parent, struct spoor_app **out,
                  struct spoor_error *err)
{
    const char *pk = partition_key ? partition_key : t->default_pk;
    if (pk && (!pk[0] || strcmp(pk, "__none__") == 0))
        pk = NULL; /* Burr writes both as __none__ and reads that back as no key */
    size_t where = 0;
    const char *why = NULL;
    if (!app_id || !ev_id_valid(app_id))
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "app id \"%s\" is invalid: use letters, digits, '_', '-' and ':'",
                               app_id ? app_id : "(null)");
    if (pk && !ev_partition_key_valid(pk))
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "partition key \"%s\" would break the key layout: no '/', no "
                               "control characters, valid UTF-8, at most 256 bytes",
                               pk);
    if (!graph_json || json_check(graph_json, strlen(graph_json), JSON_KIND_OBJECT, &where, &why))
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "graph of app %s is not a JSON object: %s at byte %zu", app_id,
                               graph_json ? why : "missing", where);
    pthread_mutex_lock(&t->apps_mu);
    struct spoor_app *a = t->apps;
    while (a && !(strcmp(a->app_id, app_id) == 0 && same_pk(a->partition_key, pk)))
        a = a->next;
    int rc = 0;
    if (!a && (rc = app_make(t, app_id, pk, graph_json, parent, spawning_parent, &a, err)) == 0) {
        struct rec h = {.kind = REC_APP, .time_ns = a->created_ns, .app = a};
        rc = ring_put(&t->q, &h, NULL, 0, t->block_ms > 0 ? t->block_ms : 100, NULL);
        if (rc) {
            app_free(a);
            a = NULL;
            spoor_error_set(err, rc, "cannot queue the creation of app %s: %s", app_id,
                            spoor_strerror(rc));
        } else {
            a->next = t->apps;
            t->apps = a;
        }
    }
    pthread_mutex_unlock(&t->apps_mu);
    if (rc == 0)
        *out = a;
    return rc;
}

/* ---- the tracker ----------------------------------------------------------------------- */

static int default_spool_dir(const char *project, char **out, struct spoor_error *err)
{
    const char *state = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char path[4096];
    if (state && state[0])
        snprintf(path, sizeof path, "%s/spoor/spool/%s", state, project);
    else if (home && home[0])
        snprintf(path, sizeof path, "%s/.local/state/spoor/spool/%s", home, project);
    else
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "no spool directory: set spool_dir, XDG_STATE_HOME or HOME");
    *out = xstrdup(path);
    return 0;
}

static int check_opts(const struct spoor_tracker_opts *o, struct spoor_error *err)
{
    if (!o || !o->project || !ev_id_valid(o->project))
        return spoor_error_set(err, SPOOR_E_INVALID,
                               "project \"%s\" is invalid: use letters, digits, '_', '-' and ':'",
                               o && o->project ? o->project : "(null)");
    if (!o->bucket == !o->local_root)
        return spoor_error_set(err, SPOOR_E_CONFIG,
                               "set exactly one of bucket (S3 layout) and local_root (Burr's "
                               "local layout)");
    if (o->bucket && (!o->bucket[0] || strchr(o->bucket, '/')))
        return spoor_error_set(err, SPOOR_E_CONFIG, "bucket \"%s\" is not a bucket name",
                               o->bucket);
    if (o->default_partition_key && o->default_partition_key[0] &&
        !ev_partition_key_valid(o->default_partition_key))
        return spoor_error_set(err, SPOOR_E_INVALID, "default partition key \"%s\" is invalid",
                               o->default_partition_key);
    if (o->flush_interval_ms < 0 || o->max_batch_events < 0 || o->block_ms < 0)
        return spoor_error_set(err, SPOOR_E_CONFIG, "negative flush interval, batch or block time");
    return 0;
}

static void make_tracker_id(char *out, size_t size)
{
    unsigned char rnd[16];
    if (RAND_bytes(rnd, sizeof rnd) != 1)
        for (size_t i = 0; i < sizeof rnd; i++)
            rnd[i] = (unsigned char)rand();
    char when[40], uuid[37];
    ev_time_local(now_ns(), when);
    ev_uuid4(rnd, uuid);
    snprintf(out, size, "%s-%s", when, uuid);
}

static void tracker_destroy(struct spoor_tracker *t)
{
    while (t->apps) {
        struct spoor_app *next = t->apps->next;
        app_free(t->apps);
        t->apps = next;
    }
    if (t->q.mem)
        ring_cleanup(&t->q);
    pthread_mutex_destroy(&t->apps_mu);
    pthread_cond_destroy(&t->progress);
    free(t->project), free(t->bucket), free(t->local_root), free(t->spool_dir);
    free(t->routes_path), free(t->store_root), free(t->default_pk);
    free(t);
}

static void copy_opts(struct spoor_tracker *t, const struct spoor_tracker_opts *o)
{
    t->project = xstrdup(o->project);
    t->bucket = xstrdup_or_null(o->bucket);
    t->local_root = xstrdup_or_null(o->local_root);
    t->routes_path = xstrdup_or_null(o->routes_path);
    t->store_root = xstrdup_or_null(o->store_root);
    t->default_pk = o->default_partition_key && o->default_partition_key[0]
                        ? xstrdup(o->default_partition_key)
                        : NULL;
    t->flush_interval_ms = o->flush_interval_ms ? o->flush_interval_ms : 5000;
    t->max_batch_events = o->max_batch_events ? o->max_batch_events : 10000;
    t->full_policy = o->full_policy;
    t->block_ms = o->block_ms ? o->block_ms : 100;
    if (o->tracker_id && o->tracker_id[0])
        str_copy(t->tracker_id, sizeof t->tracker_id, o->tracker_id);
    else
        make_tracker_id(t->tracker_id, sizeof t->tracker_id);
}

int spoor_tracker_new(const struct spoor_tracker_opts *o, struct spoor_tracker **out,
                      struct spoor_error *err)
{
    spoor_error_clear(err);
    int rc = check_opts(o, err);
    if (rc)
        return rc;
    struct spoor_tracker *t = xcalloc(1, sizeof *t);
    pthread_mutex_init(&t->apps_mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&t->progress, &ca);
    pthread_condattr_destroy(&ca);
    copy_opts(t, o);
    if (t->bucket) {
        if (o->spool_dir)
            t->spool_dir = xstrdup(o->spool_dir);
        else
            rc = default_spool_dir(t->project, &t->spool_dir, err);
        if (!rc)
            rc = spool_mkdirs(t->spool_dir, err);
    }
    if (!rc && ring_init(&t->q, o->queue_bytes ? o->queue_bytes : 64u << 20,
                         (uint64_t)t->max_batch_events) != 0)
        rc = spoor_error_set(err, -ENOMEM, "cannot allocate the tracker's queue");
    if (!rc)
        rc = flusher_start(t, err);
    if (rc) {
        tracker_destroy(t);
        return rc;
    }
    *out = t;
    return 0;
}

const char *spoor_tracker_id(const struct spoor_tracker *t)
{
    return t->tracker_id;
}

static void deadline_after(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

int spoor_tracker_flush(struct spoor_tracker *t, int timeout_ms, struct spoor_error *err)
{
    struct timespec until;
    if (timeout_ms >= 0)
        deadline_after(&until, timeout_ms);
    pthread_mutex_lock(&t->q.mu);
    uint64_t target = t->q.tickets;
    uint64_t gen = ++t->q.flush_gen; /* answered by a round that starts after this */
    t->q.flush_asked = true;
    pthread_cond_signal(&t->q.work);
    int rc = 0;
    while ((t->done_tickets < target || t->served_gen < gen) && rc == 0) {
        if (timeout_ms < 0)
            pthread_cond_wait(&t->progress, &t->q.mu);
        else if (pthread_cond_timedwait(&t->progress, &t->q.mu, &until) == ETIMEDOUT)
            rc = spoor_error_set(err, SPOOR_E_TIMEOUT,
                                 "tracker flush: not everything was sent within %d ms", timeout_ms);
    }
    /* Done means sent: objects still in the spool make the flush fail, with the latest
     * failure as the reason. */
    if (rc == 0 && __atomic_load_n(&t->n_spool_pending, __ATOMIC_RELAXED) > 0) {
        rc = t->last_status ? t->last_status : SPOOR_E_NET;
        if (err) {
            *err = t->last_err;
            if (!t->last_status)
                spoor_error_set(err, rc, "objects are still waiting in the spool %s", t->spool_dir);
        }
    }
    pthread_mutex_unlock(&t->q.mu);
    return rc;
}

int spoor_tracker_free(struct spoor_tracker *t, int timeout_ms)
{
    if (!t)
        return 0;
    struct spoor_error err;
    int rc = spoor_tracker_flush(t, timeout_ms, &err);
    pthread_mutex_lock(&t->q.mu);
    t->q.closing = true;
    pthread_cond_broadcast(&t->q.work);
    pthread_cond_broadcast(&t->q.room);
    pthread_mutex_unlock(&t->q.mu);
    if (t->flusher_started)
        pthread_join(t->flusher, NULL);
    flusher_stop(t);
    tracker_destroy(t);
    return rc;
}

void spoor_tracker_stats(struct spoor_tracker *t, struct spoor_tracker_stats *out)
{
    memset(out, 0, sizeof *out);
    out->events_refused = __atomic_load_n(&t->n_refused, __ATOMIC_RELAXED);
    out->events_written = __atomic_load_n(&t->n_written, __ATOMIC_RELAXED);
    out->objects_written = __atomic_load_n(&t->n_objects, __ATOMIC_RELAXED);
    out->objects_spooled = __atomic_load_n(&t->n_spooled, __ATOMIC_RELAXED);
    out->spool_pending = __atomic_load_n(&t->n_spool_pending, __ATOMIC_RELAXED);
    pthread_mutex_lock(&t->q.mu);
    out->events_dropped = t->q.dropped;
    out->events_enqueued = t->q.events;
    out->queue_bytes_used = t->q.used;
    pthread_mutex_unlock(&t->q.mu);
}
