/*
 * snapshot.c: taking, pruning and restoring snapshots of the index (snapshot.h).
 *
 *   take:    marker unchanged? --yes--> done(skipped)
 *            VACUUM INTO <work_dir>/.snapshot-<pid>.db --> upload (multipart when large)
 *            --> LIST snapshots/ (every page) --> DeleteObjects of this server's beyond keep
 *   restore: LIST snapshots/ max-keys 1 --> GET into the destination (temporary + rename)
 */
#include "snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define SNAPSHOT_PREFIX "snapshots/"

void snapshot_key(int64_t epoch_us, const char *server_id, char *out, size_t size)
{
    time_t secs = (time_t)(epoch_us / 1000000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    long long inv = 4294967296LL - (long long)secs;
    snprintf(out, size,
             SNAPSHOT_PREFIX "%010lld-%04d-%02d-%02dT%02d:%02d:%02d.%06d+00:00/%s/snapshot.db", inv,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (int)(epoch_us % 1000000), server_id);
}

struct snapshotter {
    struct spoor_router *r;
    struct idx *x;
    char *bucket, *server_id, *work_dir;
    int keep;
    char marker[256];
    int64_t last_ok; /* epoch seconds of the last snapshot taken or found unchanged; 0: none */
    char tmp[1200];
    bool busy;
    bool skipping; /* this round found the index unchanged */
    void (*done)(int, bool, void *);
    void *ud;
    char **mine; /* this server's snapshot keys found by listing */
    size_t nmine;
    char *token;
};

struct snapshotter *snapshotter_new(struct spoor_router *r, struct idx *x,
                                    const struct snapshot_opts *o)
{
    struct snapshotter *s = xcalloc(1, sizeof *s);
    s->r = r;
    s->x = x;
    s->bucket = xstrdup(o->bucket);
    s->server_id = xstrdup(o->server_id);
    s->work_dir = xstrdup(o->work_dir);
    s->keep = o->keep > 0 ? o->keep : 5;
    return s;
}

static void forget_listing(struct snapshotter *s)
{
    for (size_t i = 0; i < s->nmine; i++)
        free(s->mine[i]);
    free(s->mine);
    s->mine = NULL;
    s->nmine = 0;
    free(s->token);
    s->token = NULL;
}

void snapshotter_free(struct snapshotter *s)
{
    if (!s)
        return;
    forget_listing(s);
    free(s->bucket), free(s->server_id), free(s->work_dir);
    free(s);
}

static void finish(struct snapshotter *s, int status, bool skipped)
{
    s->busy = false;
    forget_listing(s);
    if (s->tmp[0])
        unlink(s->tmp);
    s->tmp[0] = '\0';
    if (status == 0)
        s->last_ok = (int64_t)time(NULL);
    s->done(status, skipped, s->ud);
}

/* The server id of a snapshot key, or NULL when it is not one. */
static bool is_mine(const struct snapshotter *s, const char *key)
{
    const char *p = strchr(key + strlen(SNAPSHOT_PREFIX), '/');
    size_t n = strlen(s->server_id);
    return p && strncmp(p + 1, s->server_id, n) == 0 && strcmp(p + 1 + n, "/snapshot.db") == 0;
}

static void on_pruned(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud)
{
    struct snapshotter *s = ud;
    if (status)
        fprintf(stderr, "spoor-server: pruning old snapshots failed: %s\n", err->message);
    finish(s, 0, s->skipping); /* the snapshot itself was taken */
}

static void list_mine(struct snapshotter *s);

static void on_listed(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud)
{
    struct snapshotter *s = ud;
    if (status) {
        fprintf(stderr, "spoor-server: listing snapshots failed: %s\n", err->message);
        finish(s, 0, s->skipping);
        return;
    }
    for (size_t i = 0; i < res->list.nobjects; i++)
        if (is_mine(s, res->list.objects[i].key)) {
            s->mine = xrealloc(s->mine, (s->nmine + 1) * sizeof *s->mine);
            s->mine[s->nmine++] = xstrdup(res->list.objects[i].key);
        }
    free(s->token);
    s->token = NULL;
    if (res->list.is_truncated && res->list.next_continuation_token) {
        s->token = res->list.next_continuation_token;
        res->list.next_continuation_token = NULL;
        list_mine(s);
        return;
    }
    /* Listing order is newest first; everything past keep goes (at most 1000 at a time). */
    if (s->nmine <= (size_t)s->keep) {
        finish(s, 0, s->skipping);
        return;
    }
    size_t n = s->nmine - (size_t)s->keep;
    n = n > 1000 ? 1000 : n;
    struct spoor_s3_op op = {.kind = SPOOR_S3_DELETE_OBJECTS,
                             .bucket = s->bucket,
                             .keys = (const char *const *)s->mine + s->keep,
                             .nkeys = n,
                             .quiet = true};
    struct spoor_error e;
    if (spoor_router_submit(s->r, &op, on_pruned, s, &e) != 0)
        on_pruned(e.code, NULL, &e, s);
}

static void list_mine(struct snapshotter *s)
{
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                             .bucket = s->bucket,
                             .prefix = SNAPSHOT_PREFIX,
                             .continuation_token = s->token};
    struct spoor_error e;
    if (spoor_router_submit(s->r, &op, on_listed, s, &e) != 0) {
        fprintf(stderr, "spoor-server: listing snapshots failed: %s\n", e.message);
        finish(s, 0, s->skipping);
    }
}

static void on_uploaded(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                        void *ud)
{
    struct snapshotter *s = ud;
    if (status) {
        s->marker[0] = '\0'; /* try again next time */
        fprintf(stderr, "spoor-server: snapshot upload failed: %s\n", err->message);
        finish(s, status, false);
        return;
    }
    list_mine(s);
}

int snapshot_take(struct snapshotter *s, void (*done)(int status, bool skipped, void *ud), void *ud,
                  struct spoor_error *err)
{
    if (s->busy)
        return spoor_error_set(err, SPOOR_E_INVALID, "a snapshot is already being taken");
    char marker[256];
    int rc = idx_change_marker(s->x, marker, sizeof marker, err);
    if (rc)
        return rc;
    s->done = done;
    s->ud = ud;
    s->busy = true;
    bool unchanged = strcmp(marker, s->marker) == 0;
    s->skipping = unchanged;
    snprintf(s->tmp, sizeof s->tmp, "%s/.snapshot-%ld.db", s->work_dir, (long)getpid());
    unlink(s->tmp);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    char key[1024];
    snapshot_key((int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000, s->server_id, key, sizeof key);
    if (!unchanged)
        rc = idx_snapshot(s->x, s->tmp, err);
    if (!unchanged && !rc)
        rc = spoor_router_upload_file(s->r, s->bucket, key, s->tmp, NULL, on_uploaded, s, err);
    if (rc) {
        s->busy = false;
        unlink(s->tmp);
        s->tmp[0] = '\0';
        return rc;
    }
    if (unchanged) {
        s->tmp[0] = '\0';
        /* Answer from the loop, not from inside the call: the retention listing runs anyway. */
        list_mine(s);
        return 0;
    }
    snprintf(s->marker, sizeof s->marker, "%s", marker);
    return 0;
}

/* ---- restoring at start ---------------------------------------------------------------- */

struct wait {
    bool done;
    int status;
    struct spoor_s3_result res;
    struct spoor_error err;
};

static void on_wait(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                    void *ud)
{
    struct wait *w = ud;
    w->done = true;
    w->status = status;
    w->res = *res;
    memset(res, 0, sizeof *res);
    if (status)
        w->err = *err;
}

static int run_op(uv_loop_t *loop, struct spoor_router *r, const struct spoor_s3_op *op,
                  struct wait *w, struct spoor_error *err)
{
    memset(w, 0, sizeof *w);
    int rc = spoor_router_submit(r, op, on_wait, w, err);
    if (rc)
        return rc;
    while (!w->done)
        uv_run(loop, UV_RUN_ONCE);
    if (w->status && err)
        *err = w->err;
    return w->status;
}

int snapshot_restore_newest(uv_loop_t *loop, struct spoor_router *r, const char *bucket,
                            const char *dest, bool *found, char *key, size_t key_size,
                            struct spoor_error *err)
{
    *found = false;
    struct wait w;
    struct spoor_s3_op ls = {
        .kind = SPOOR_S3_LIST_OBJECTS, .bucket = bucket, .prefix = SNAPSHOT_PREFIX, .max_keys = 1};
    int rc = run_op(loop, r, &ls, &w, err);
    if (rc || w.res.list.nobjects == 0) {
        spoor_s3_result_cleanup(&w.res);
        return rc;
    }
    snprintf(key, key_size, "%s", w.res.list.objects[0].key);
    spoor_s3_result_cleanup(&w.res);
    struct spoor_s3_op get = {
        .kind = SPOOR_S3_GET_OBJECT, .bucket = bucket, .key = key, .sink = {.path = dest}};
    rc = run_op(loop, r, &get, &w, err);
    spoor_s3_result_cleanup(&w.res);
    *found = rc == 0;
    return rc;
}

int64_t snapshot_last_ok(const struct snapshotter *s)
{
    return s->last_ok;
}
