/*
 * spoor-server: the program. One libuv loop runs everything: the index timer (a tick of
 * indexer.c every update interval, and at once when the previous tick was cut by the batch
 * cap), the snapshot timer, and signal handling. Configuration comes from Burr's variables,
 * spoor's own and flags (config.c); each problem is reported at start and the server refuses
 * to run.
 *
 *   start: config --> router (bucket through routes/AWS, or the embedded store) -->
 *          restore the newest snapshot when there is no local index --> open + migrate -->
 *          ready --> timers
 *   SIGINT/SIGTERM: stop timers; the running tick finishes its transaction; optional final
 *          snapshot; close everything; exit 0.
 *
 * HTTP (http.c) listens first, so that /ready answers 503 while the index opens; the API
 * (api.c) answers from the index once it is attached.
 */
#include <spoor/router.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "filestore.h"
#include "http.h"
#include "indexer.h"
#include "snapshot.h"
#include "static.h"
#include "util.h"

#define LOCAL_BUCKET "spoor-local"

struct server {
    struct server_config cfg;
    uv_loop_t loop;
    uv_timer_t index_timer, snapshot_timer;
    uv_signal_t sigint, sigterm;
    struct spoor_router *router;
    struct idx *idx;
    struct indexer *indexer;
    struct snapshotter *snap;
    struct http_server *http;
    struct api *api;
    const char *bucket;
    bool stopping, ticking, snapshotting, closed;
    int exit_code;
};

static void log_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void log_line(const char *fmt, ...)
{
    char when[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s spoor-server: ", when);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *env_get(const char *name, void *ud)
{
    return getenv(name);
}

static void maybe_exit(struct server *s);

static void on_tick_done(int status, void *ud);
static void take_snapshot(struct server *s);

static void start_tick(struct server *s)
{
    if (s->stopping || s->ticking)
        return;
    if (indexer_tick(s->indexer, on_tick_done, s) == 0)
        s->ticking = true;
    else
        log_line("an indexing tick could not start; retrying at the next interval");
}

static void on_index_timer(uv_timer_t *t)
{
    start_tick(t->data);
}

static void on_tick_done(int status, void *ud)
{
    struct server *s = ud;
    s->ticking = false;
    struct indexer_stats st;
    indexer_stats(s->indexer, &st);
    log_line("indexing tick %llu %s: %llu objects, %llu events indexed so far",
             (unsigned long long)st.ticks, status ? "had failures" : "done",
             (unsigned long long)st.objects, (unsigned long long)st.events);
    if (s->cfg.once && !s->stopping) {
        s->stopping = true;
        uv_timer_stop(&s->index_timer);
        uv_timer_stop(&s->snapshot_timer);
        s->exit_code = status ? 1 : 0;
        if (s->cfg.snapshot_on_exit)
            take_snapshot(s);
    }
    maybe_exit(s);
}

static void on_snapshot_done(int status, bool skipped, void *ud)
{
    struct server *s = ud;
    s->snapshotting = false;
    if (status)
        log_line("snapshot failed; retrying at the next interval");
    else
        log_line("snapshot %s", skipped ? "skipped: nothing changed" : "uploaded");
    maybe_exit(s);
}

static void take_snapshot(struct server *s)
{
    struct spoor_error err;
    if (s->snapshotting)
        return;
    if (snapshot_take(s->snap, on_snapshot_done, s, &err) == 0)
        s->snapshotting = true;
    else
        log_line("snapshot not taken: %s", err.message);
}

static void on_snapshot_timer(uv_timer_t *t)
{
    struct server *s = t->data;
    if (!s->stopping)
        take_snapshot(s);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct server *s = h->data;
    if (s->stopping)
        return;
    log_line("%s: stopping (the running transaction finishes first)",
             signum == SIGINT ? "SIGINT" : "SIGTERM");
    s->stopping = true;
    uv_timer_stop(&s->index_timer);
    uv_timer_stop(&s->snapshot_timer);
    if (s->cfg.snapshot_on_exit)
        take_snapshot(s);
    maybe_exit(s);
}

static void on_closed(uv_handle_t *h) {}

/* Once stopping and idle: closes the handles so that uv_run returns. */
static void maybe_exit(struct server *s)
{
    if (!s->stopping || s->ticking || s->snapshotting || s->closed)
        return;
    s->closed = true;
    uv_close((uv_handle_t *)&s->index_timer, on_closed);
    uv_close((uv_handle_t *)&s->snapshot_timer, on_closed);
    uv_close((uv_handle_t *)&s->sigint, on_closed);
    uv_close((uv_handle_t *)&s->sigterm, on_closed);
    if (s->http)
        http_stop(s->http, NULL, NULL);
    spoor_router_close(s->router, NULL, NULL);
}

/* ---- start ----------------------------------------------------------------------------- */

static int make_dirs(const char *path)
{
    struct spoor_error err;
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(tmp, 0755);
            *p = '/';
        }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) {
        spoor_error_set(&err, -errno, "%s", strerror(errno));
        log_line("cannot create %s: %s", path, err.message);
        return -1;
    }
    return 0;
}

static int open_router(struct server *s)
{
    struct spoor_error err;
    struct spoor_router_opts o = {.routes_path = s->cfg.routes_path[0] ? s->cfg.routes_path : "",
                                  .max_concurrency = s->cfg.max_concurrency};
    s->bucket = s->cfg.bucket[0] ? s->cfg.bucket : LOCAL_BUCKET;
    if (!s->cfg.bucket[0]) { /* the embedded local store */
        o.routes_path = "";
        o.local_root = s->cfg.store_root;
        if (make_dirs(s->cfg.store_root) != 0)
            return -1;
        struct filestore *fs = filestore_new(NULL, s->cfg.store_root, "local", &err);
        struct spoor_s3_op mk = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = LOCAL_BUCKET};
        struct spoor_s3_result res;
        if (fs)
            filestore_exec(fs, &mk, &res, &err), spoor_s3_result_cleanup(&res);
        filestore_free(fs);
    } else if (!s->cfg.routes_path[0]) {
        o.routes_path = NULL; /* SPOOR_ROUTES is read by config; none means the AWS chain */
    }
    s->router = spoor_router_new(&s->loop, &o, &err);
    if (!s->router) {
        log_line("%s", err.message);
        return -1;
    }
    log_line("objects in %s%s%s", s->cfg.bucket[0] ? "bucket " : "the embedded store ",
             s->cfg.bucket[0] ? s->bucket : s->cfg.store_root,
             s->cfg.routes_path[0] ? " through the routes file" : "");
    return 0;
}

static int open_index(struct server *s)
{
    struct spoor_error err;
    if (make_dirs(s->cfg.server_root) != 0)
        return -1;
    if (access(s->cfg.db_path, F_OK) != 0 && s->cfg.load_snapshot_on_start) {
        bool found = false;
        char key[1024] = "";
        if (snapshot_restore_newest(&s->loop, s->router, s->bucket, s->cfg.db_path, &found, key,
                                    sizeof key, &err) != 0)
            log_line("no snapshot restored (%s); starting from an empty index", err.message);
        else if (found)
            log_line("restored snapshot %s", key);
    }
    if (idx_open(s->cfg.db_path, &s->idx, &err) != 0) {
        log_line("%s", err.message);
        return -1;
    }
    return 0;
}

static void server_id(const struct server_config *cfg, char *out, size_t size)
{
    if (cfg->server_id[0]) {
        snprintf(out, size, "%s", cfg->server_id);
        return;
    }
    char host[128] = "localhost";
    gethostname(host, sizeof host - 1);
    snprintf(out, size, "spoor-%s", host);
}

static int start(struct server *s)
{
    struct spoor_error err;
    if (!s->cfg.once) { /* listening first: /ready answers 503 while the index opens */
        char ui[1024] = "";
        if (static_ui_dir(s->cfg.ui_dir, ui, sizeof ui, &err) != 0) {
            log_line("%s", err.message);
            if (s->cfg.ui_dir[0])
                return -1;
            ui[0] = '\0'; /* none found: the API runs without the UI */
        }
        struct api_opts ao = {.bucket = s->cfg.bucket[0] ? s->cfg.bucket : LOCAL_BUCKET,
                              .ui_dir = ui,
                              .auth_token = s->cfg.auth_token,
                              .version = SPOOR_VERSION};
        s->api = api_new(&ao);
        s->http = http_start(&s->loop, s->cfg.host, s->cfg.port, api_handle, s->api, &err);
        if (!s->http) {
            log_line("%s", err.message);
            return -1;
        }
        log_line("listening on http://%s:%d%s%s%s", s->cfg.host, http_port(s->http),
                 ui[0] ? " (UI from " : " (no UI", ui,
                 s->cfg.auth_token[0] ? "; token required)" : ")");
    }
    if (open_router(s) != 0 || open_index(s) != 0)
        return -1;
    struct indexer_opts io = {.bucket = s->bucket,
                              .batch_cap = s->cfg.batch_cap,
                              .max_concurrency = s->cfg.max_concurrency,
                              .lookback_s = s->cfg.lookback_s};
    s->indexer = indexer_new(&s->loop, s->router, s->idx, &io);
    char id[256];
    server_id(&s->cfg, id, sizeof id);
    struct snapshot_opts so = {.bucket = s->bucket,
                               .server_id = id,
                               .keep = s->cfg.prior_snapshots_to_keep,
                               .work_dir = s->cfg.server_root};
    s->snap = snapshotter_new(s->router, s->idx, &so);
    uv_timer_init(&s->loop, &s->index_timer);
    uv_timer_init(&s->loop, &s->snapshot_timer);
    s->index_timer.data = s->snapshot_timer.data = s;
    uv_signal_init(&s->loop, &s->sigint);
    uv_signal_init(&s->loop, &s->sigterm);
    s->sigint.data = s->sigterm.data = s;
    uv_signal_start(&s->sigint, on_signal, SIGINT);
    uv_signal_start(&s->sigterm, on_signal, SIGTERM);
    uv_timer_start(&s->index_timer, on_index_timer, 0, (uint64_t)s->cfg.update_interval_ms);
    if (!s->cfg.once)
        uv_timer_start(&s->snapshot_timer, on_snapshot_timer, (uint64_t)s->cfg.snapshot_interval_ms,
                       (uint64_t)s->cfg.snapshot_interval_ms);
    if (s->api)
        api_attach(s->api, s->idx, s->indexer, s->snap, s->router);
    log_line("ready: index %s, indexing every %d ms, snapshots every %d ms as %s", s->cfg.db_path,
             s->cfg.update_interval_ms, s->cfg.snapshot_interval_ms, id);
    return 0;
}

int main(int argc, char **argv)
{
    static struct server s;
    char *problems = NULL;
    if (server_config_load(&s.cfg, env_get, NULL, argc, argv, &problems) != 0) {
        fprintf(stderr, "spoor-server: the configuration has problems:\n%s", problems);
        fprintf(stderr, "Run 'spoor-server --help' for the settings.\n");
        free(problems);
        return 2;
    }
    free(problems);
    if (s.cfg.help) {
        fputs(server_config_usage(), stdout);
        return 0;
    }
    uv_loop_init(&s.loop);
    if (start(&s) != 0) {
        if (s.http)
            http_stop(s.http, NULL, NULL);
        if (s.router)
            spoor_router_close(s.router, NULL, NULL);
        uv_run(&s.loop, UV_RUN_DEFAULT);
        api_free(s.api);
        idx_close(s.idx);
        uv_loop_close(&s.loop);
        return 1;
    }
    uv_run(&s.loop, UV_RUN_DEFAULT);
    api_free(s.api);
    indexer_free(s.indexer);
    snapshotter_free(s.snap);
    idx_close(s.idx);
    uv_loop_close(&s.loop);
    log_line("stopped");
    return s.exit_code;
}
