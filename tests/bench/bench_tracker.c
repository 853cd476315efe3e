/*
 * bench_tracker.c: what the tracker's hooks cost on the caller's thread, and how fast the
 * flusher turns events into objects (a file store in S3 layout, Burr's local layout, and a real
 * S3 endpoint when SPOOR_TEST_S3_ENDPOINT is set).
 *
 * It is a benchmark, not a test: it prints tables and asserts nothing about time. It does check
 * that the run was clean (no hook failed, the tracker's stats show nothing dropped, refused or
 * left in the spool, every enqueued event was written, and the JSONL on disk has one line per
 * event) and exits 1 otherwise, because then the numbers describe a broken run.
 *
 * Enqueue. For each event kind (attribute with a tiny value, step_begin with "{}", step_end
 * with a ~200-byte state), thread count and mode, a tracker in Burr's local layout whose queue
 * holds every event of the configuration, so nothing waits for room (full policy DROP: a drop
 * would show in the stats and fail the run):
 *   warm-up   every event once, then spoor_tracker_flush: the queue's pages are touched, as
 *             in a long-running application after the ring wrapped once
 *   batched   --events calls split over the threads; each thread times --batch calls at once
 *             with CLOCK_MONOTONIC and records the mean; p50 and p99 are over those means.
 *             Also: thread CPU time per call, and context switches per 1,000 calls
 *             (voluntary ones are waits for the queue's lock; involuntary ones preemption)
 *   single    --single calls timed one by one, the timer's own cost subtracted: the tail
 * Modes: "idle": max_batch_events so large that the flusher sleeps while the hooks run (the
 * caller's cost alone). "busy": the default 10,000, so the flusher formats and writes while
 * the hooks run. "private": as idle, but every thread has a tracker of its own, so no lock is
 * shared; against the idle row it separates lock contention from sharing the cores.
 * With --repeat N each configuration runs N times and the run with the median p50 is shown.
 *
 * End to end. One producer thread enqueues a mix (step_begin, attribute, step_end: a third
 * each) round robin over --apps applications; the time runs from the first hook until
 * spoor_tracker_flush returns, which is the flusher's throughput, since the producer is far
 * faster. "bulk" is --e2e-events events and one flush (objects are as large as the flusher
 * makes them); "rounds" is --rounds times --round-events events per application and a flush,
 * so objects/s is the cost of many small objects. Applications are announced (graph.json,
 * metadata.json) before the clock starts. Objects count only the JSONL objects (appends in the
 * local layout); MB/s is JSONL bytes.
 *
 * With --callgrind KIND:N it only makes a tracker and calls one hook N times inside
 * callgrind_loop(), for `valgrind --tool=callgrind --toggle-collect=callgrind_loop`
 * (tests/bench/run_tracker_bench.sh does that and divides).
 */
#include <spoor/router.h>
#include <spoor/tracker.h>

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LIST 8
#define MAX_THREADS 64
#define MAX_ROWS 64
#define PROJECT_MAX 32
#define IDLE_BATCH (INT_MAX - 1)
#define INTERVAL_MS 3600000

enum kind { K_ATTR, K_BEGIN, K_END, K_NKINDS };
static const char *const kind_names[] = {"attribute", "step_begin", "step_end"};
enum mode { M_IDLE, M_BUSY, M_PRIVATE, M_NMODES };
static const char *const mode_names[] = {"idle", "busy", "private"};
enum layout { L_FILE, L_LOCAL, L_S3, L_NLAYOUTS };
static const char *const layout_names[] = {"file", "local", "s3"};
static const char *const layout_desc[] = {"file store (S3 layout)", "local (Burr)", "S3 (RGW)"};

#define ATTR_KEY "tokens"
#define ATTR_VALUE "{\"n\":42}"
#define ACTION "generate"
#define END_RESULT "{\"ok\":true}"
#define GRAPH                                                                                      \
    "{\"type\":\"application\",\"entrypoint\":\"generate\",\"actions\":[],\"transitions\":[]}"
/* About 200 bytes: the state of a small chat application. */
static const char STATE_JSON[] =
    "{\"count\":41,\"prompt\":\"What is the capital of France?\",\"chat_history\":["
    "{\"role\":\"user\",\"content\":\"What is the capital of France?\"},{\"role\":"
    "\"assistant\",\"content\":\"Paris is the capital of France.\"}],\"done\":false}";

struct opts {
    size_t events, single, e2e_events, s3_events;
    int batch, rounds, round_events, repeat;
    int threads[MAX_LIST], nthreads;
    int apps[MAX_LIST], napps;
    bool kinds[K_NKINDS], modes[M_NMODES], layouts[L_NLAYOUTS];
    bool enqueue, e2e;
    const char *dir;
    int cg_kind;
    size_t cg_calls;
};

struct enq_row {
    enum kind kind;
    int threads;
    enum mode mode;
    size_t events;
    double p50, p99;             /* batch means, ns per call */
    double s50, s99, s999, smax; /* single calls, ns, timer subtracted */
    double cpu_ns;               /* thread CPU time per call, batched pass */
    double mev_s;                /* all threads together, batched pass */
    double vcsw, ivcsw;          /* context switches per 1,000 calls, batched pass */
};

struct e2e_row {
    enum layout layout;
    bool rounds;
    int apps;
    size_t events, objects;
    double seconds, enq_seconds, bytes;
};

static struct opts g_o;
static char g_root[PATH_MAX];
static int g_dirs;
static bool g_failed;
static double g_timer_ns;
static struct enq_row g_enq[MAX_ROWS];
static size_t g_nenq;
static struct e2e_row g_e2e[MAX_ROWS];
static size_t g_ne2e;

/* ---- small helpers --------------------------------------------------------------------- */

static int64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t mono_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "bench_tracker: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    g_failed = true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest rank on sorted values. */
static double pct(const double *v, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t r = (size_t)(p * (double)n);
    if ((double)r < p * (double)n)
        r++;
    return v[r ? r - 1 : 0];
}

static void *xcalloc_or_die(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "bench_tracker: out of memory\n");
        exit(2);
    }
    return p;
}

/* A fresh directory under the run's root. */
static void subdir(char *out, size_t size, const char *name)
{
    int n = snprintf(out, size, "%s/%s-%d", g_root, name, ++g_dirs);
    if (n < 0 || (size_t)n >= size || mkdir(out, 0700) != 0) {
        perror(out);
        exit(2);
    }
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

static void rm_tree(const char *path)
{
    nftw(path, rm_one, 32, FTW_DEPTH | FTW_PHYS);
}

/* ---- the hooks under test -------------------------------------------------------------- */

static inline int call_one(enum kind k, struct spoor_app *a, int64_t seq)
{
    switch (k) {
    case K_ATTR:
        return spoor_attribute(a, seq, NULL, ATTR_KEY, ATTR_VALUE, NULL);
    case K_BEGIN:
        return spoor_step_begin(a, seq, ACTION, "{}");
    default:
        return spoor_step_end(a, seq, ACTION, END_RESULT, STATE_JSON, NULL);
    }
}

static size_t payload_bytes(enum kind k)
{
    switch (k) {
    case K_ATTR:
        return strlen(ATTR_KEY) + strlen(ATTR_VALUE);
    case K_BEGIN:
        return strlen(ACTION) + 2;
    default:
        return strlen(ACTION) + strlen(END_RESULT) + strlen(STATE_JSON);
    }
}

/* An upper bound of a queue record (header, then length-prefixed strings, 8-aligned). */
static size_t record_bound(enum kind k)
{
    return 64 + 4 * 5 + payload_bytes(k) + 4 + 8;
}

static struct spoor_app *app_or_die(struct spoor_tracker *t, int i)
{
    char id[32];
    snprintf(id, sizeof id, "bench-app-%d", i);
    struct spoor_app *a = NULL;
    struct spoor_error err;
    if (spoor_app_new(t, id, NULL, GRAPH, NULL, NULL, &a, &err) != 0) {
        fprintf(stderr, "bench_tracker: spoor_app_new: %s\n", err.message);
        exit(1);
    }
    return a;
}

/* ---- timed passes ---------------------------------------------------------------------- */

struct worker {
    struct spoor_app *app;
    enum kind kind;
    int batch; /* 0: time every call alone */
    size_t calls;
    double *samples;
    int64_t seq;
    int64_t t0, t1, cpu_ns;
    long vcsw, ivcsw; /* voluntary (blocked: a futex wait) and involuntary switches */
    size_t failed;
    pthread_barrier_t *bar;
};

static void run_batches(struct worker *w)
{
    size_t nb = w->calls / (size_t)w->batch;
    for (size_t b = 0; b < nb; b++) {
        int64_t t0 = mono_ns();
        for (int j = 0; j < w->batch; j++)
            w->failed += call_one(w->kind, w->app, w->seq++) != 0;
        w->samples[b] = (double)(mono_ns() - t0) / w->batch;
    }
}

static void run_single(struct worker *w)
{
    for (size_t i = 0; i < w->calls; i++) {
        int64_t t0 = mono_ns();
        w->failed += call_one(w->kind, w->app, w->seq++) != 0;
        double d = (double)(mono_ns() - t0) - g_timer_ns;
        w->samples[i] = d > 0 ? d : 0;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct rusage ru0, ru1;
    pthread_barrier_wait(w->bar);
    getrusage(RUSAGE_THREAD, &ru0);
    int64_t cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    w->t0 = mono_ns();
    if (w->batch)
        run_batches(w);
    else
        run_single(w);
    w->t1 = mono_ns();
    w->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0;
    getrusage(RUSAGE_THREAD, &ru1);
    w->vcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
    w->ivcsw = ru1.ru_nivcsw - ru0.ru_nivcsw;
    return NULL;
}

struct pass {
    double *samples; /* sorted */
    size_t nsamples, calls, failed;
    int64_t wall_ns, cpu_ns;
    long vcsw, ivcsw;
};

/* calls hook calls split over nthreads threads (thread i uses apps[i] and seqs[i]). */
static void run_pass(struct spoor_app **apps, int64_t *seqs, int nthreads, enum kind k,
                     size_t calls, int batch, struct pass *out)
{
    struct worker w[MAX_THREADS];
    pthread_t th[MAX_THREADS];
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, (unsigned)nthreads);
    size_t per = calls / (size_t)nthreads, per_samples = batch ? per / (size_t)batch : per;
    memset(out, 0, sizeof *out);
    out->samples = xcalloc_or_die(per_samples * (size_t)nthreads, sizeof(double));
    for (int i = 0; i < nthreads; i++) {
        w[i] = (struct worker){.app = apps[i],
                               .kind = k,
                               .batch = batch,
                               .calls = per,
                               .samples = out->samples + per_samples * (size_t)i,
                               .seq = seqs[i],
                               .bar = &bar};
        pthread_create(&th[i], NULL, worker_main, &w[i]);
    }
    int64_t first = INT64_MAX, last = 0;
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        seqs[i] = w[i].seq;
        out->failed += w[i].failed;
        out->cpu_ns += w[i].cpu_ns;
        out->vcsw += w[i].vcsw;
        out->ivcsw += w[i].ivcsw;
        out->calls += batch ? per_samples * (size_t)batch : per;
        first = w[i].t0 < first ? w[i].t0 : first;
        last = w[i].t1 > last ? w[i].t1 : last;
    }
    pthread_barrier_destroy(&bar);
    out->wall_ns = last - first;
    out->nsamples = per_samples * (size_t)nthreads;
    qsort(out->samples, out->nsamples, sizeof(double), cmp_double);
}

/* The median cost of reading CLOCK_MONOTONIC twice, back to back. */
static double timer_overhead_ns(void)
{
    enum { N = 200000 };
    double *v = xcalloc_or_die(N, sizeof *v);
    for (size_t i = 0; i < N; i++) {
        int64_t t0 = mono_ns();
        v[i] = (double)(mono_ns() - t0);
    }
    qsort(v, N, sizeof *v, cmp_double);
    double m = pct(v, N, 0.5);
    free(v);
    return m;
}

/* ---- checks ---------------------------------------------------------------------------- */

/* Everything enqueued was written, nothing dropped, refused or left in the spool. */
static void check_stats(struct spoor_tracker *t, uint64_t expect_enqueued, const char *what)
{
    struct spoor_tracker_stats s;
    spoor_tracker_stats(t, &s);
    if (s.events_dropped || s.events_refused || s.spool_pending || s.objects_spooled ||
        s.events_enqueued != expect_enqueued || s.events_written != s.events_enqueued) {
        char msg[256];
        snprintf(msg, sizeof msg,
                 "enqueued %" PRIu64 " (expected %" PRIu64 "), written %" PRIu64
                 ", dropped %" PRIu64 ", refused %" PRIu64 ", spooled %" PRIu64,
                 s.events_enqueued, expect_enqueued, s.events_written, s.events_dropped,
                 s.events_refused, s.objects_spooled);
        fail(what, msg);
    }
}

static void flush_or_fail(struct spoor_tracker *t, const char *what)
{
    struct spoor_error err;
    if (spoor_tracker_flush(t, -1, &err) != 0)
        fail(what, err.message);
}

/* ---- enqueue --------------------------------------------------------------------------- */

static struct spoor_tracker *enq_tracker(const char *dir, size_t queue_bytes, bool busy)
{
    struct spoor_tracker_opts o = {.project = "bench",
                                   .local_root = dir,
                                   .flush_interval_ms = INTERVAL_MS,
                                   .max_batch_events = busy ? 0 : IDLE_BATCH,
                                   .queue_bytes = queue_bytes,
                                   .full_policy = SPOOR_FULL_DROP};
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    if (spoor_tracker_new(&o, &t, &err) != 0) {
        fprintf(stderr, "bench_tracker: spoor_tracker_new: %s\n", err.message);
        exit(1);
    }
    return t;
}

static void fill_enq_row(struct enq_row *r, const struct pass *b, const struct pass *s)
{
    r->events = b->calls;
    r->p50 = pct(b->samples, b->nsamples, 0.50);
    r->p99 = pct(b->samples, b->nsamples, 0.99);
    r->s50 = pct(s->samples, s->nsamples, 0.50);
    r->s99 = pct(s->samples, s->nsamples, 0.99);
    r->s999 = pct(s->samples, s->nsamples, 0.999);
    r->smax = s->nsamples ? s->samples[s->nsamples - 1] : 0;
    r->cpu_ns = b->calls ? (double)b->cpu_ns / (double)b->calls : 0;
    r->mev_s = b->wall_ns ? (double)b->calls * 1e3 / (double)b->wall_ns : 0;
    r->vcsw = b->calls ? (double)b->vcsw * 1e3 / (double)b->calls : 0;
    r->ivcsw = b->calls ? (double)b->ivcsw * 1e3 / (double)b->calls : 0;
}

/* The trackers of one configuration: one shared by all threads, or one per thread. */
struct enq_set {
    char dir[PATH_MAX];
    struct spoor_tracker *t[MAX_THREADS];
    int ntrk;
    struct spoor_app *apps[MAX_THREADS];
    int64_t seqs[MAX_THREADS];
};

static void enq_open(struct enq_set *e, enum kind k, int nthreads, enum mode m)
{
    memset(e, 0, sizeof *e);
    subdir(e->dir, sizeof e->dir, "enqueue");
    e->ntrk = m == M_PRIVATE ? nthreads : 1;
    size_t per = (g_o.events + g_o.single) / (size_t)e->ntrk;
    for (int i = 0; i < e->ntrk; i++)
        e->t[i] = enq_tracker(e->dir, record_bound(k) * per + (1u << 20), m == M_BUSY);
    for (int i = 0; i < nthreads; i++)
        e->apps[i] = app_or_die(e->t[e->ntrk == 1 ? 0 : i], i);
}

static void enq_flush(struct enq_set *e, const char *what)
{
    for (int i = 0; i < e->ntrk; i++)
        flush_or_fail(e->t[i], what);
}

static void enq_close(struct enq_set *e, size_t calls, const char *what)
{
    for (int i = 0; i < e->ntrk; i++) {
        check_stats(e->t[i], calls / (size_t)e->ntrk, what);
        spoor_tracker_free(e->t[i], -1);
    }
    rm_tree(e->dir);
}

static void enqueue_config(enum kind k, int nthreads, enum mode m, struct enq_row *r)
{
    char what[96];
    snprintf(what, sizeof what, "%s, %d thread(s), %s", kind_names[k], nthreads, mode_names[m]);
    fprintf(stderr, "bench_tracker: enqueue %s\n", what);
    struct enq_set e;
    enq_open(&e, k, nthreads, m);
    struct pass warm, b, s;
    run_pass(e.apps, e.seqs, nthreads, k, g_o.events + g_o.single, g_o.batch, &warm);
    enq_flush(&e, what);
    run_pass(e.apps, e.seqs, nthreads, k, g_o.events, g_o.batch, &b);
    run_pass(e.apps, e.seqs, nthreads, k, g_o.single, 0, &s);
    enq_flush(&e, what);
    if (warm.failed || b.failed || s.failed)
        fail(what, "a hook returned an error");
    enq_close(&e, warm.calls + b.calls + s.calls, what);
    *r = (struct enq_row){.kind = k, .threads = nthreads, .mode = m};
    fill_enq_row(r, &b, &s);
    free(warm.samples), free(b.samples), free(s.samples);
}

/* ---- what reached the store ------------------------------------------------------------ */

static const char *g_walk_match;
static double g_walk_bytes;
static size_t g_walk_files, g_walk_newlines;

static size_t count_newlines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    static char buf[1 << 16];
    size_t n, lines = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + n - p))); p++)
            lines++;
    fclose(f);
    return lines;
}

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    if (type != FTW_F || !strstr(path + ftw->base, g_walk_match))
        return 0;
    g_walk_bytes += (double)st->st_size;
    g_walk_files++;
    g_walk_newlines += count_newlines(path);
    return 0;
}

/* JSONL bytes and lines under dir: S3 objects have no final newline, log.jsonl lines all do. */
static size_t walk_jsonl(const char *dir, enum layout l, double *bytes)
{
    g_walk_match = l == L_FILE ? "__log.jsonl#d" : "log.jsonl";
    g_walk_bytes = 0;
    g_walk_files = g_walk_newlines = 0;
    nftw(dir, walk_one, 32, FTW_PHYS);
    *bytes = g_walk_bytes;
    return g_walk_newlines + (l == L_FILE ? g_walk_files : 0);
}

/* ---- a real S3 endpoint ---------------------------------------------------------------- */

static struct spoor_router *g_s3;
static char g_bucket[64];

/* AWS_* from SPOOR_TEST_S3_*; false when no endpoint is configured. */
static bool s3_env(void)
{
    const char *ep = getenv("SPOOR_TEST_S3_ENDPOINT");
    const char *ak = getenv("SPOOR_TEST_S3_ACCESS_KEY");
    const char *sk = getenv("SPOOR_TEST_S3_SECRET_KEY");
    const char *rg = getenv("SPOOR_TEST_S3_REGION");
    if (!ep || !ep[0] || !ak || !sk)
        return false;
    setenv("AWS_ENDPOINT_URL", ep, 1);
    setenv("AWS_ACCESS_KEY_ID", ak, 1);
    setenv("AWS_SECRET_ACCESS_KEY", sk, 1);
    setenv("AWS_REGION", rg && rg[0] ? rg : "us-east-1", 1);
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_PROFILE");
    return true;
}

static bool s3_open(void)
{
    struct spoor_error err;
    struct spoor_router_opts ro = {0};
    g_s3 = spoor_router_new(NULL, &ro, &err);
    if (!g_s3) {
        fail("S3 router", err.message);
        return false;
    }
    snprintf(g_bucket, sizeof g_bucket, "bench-tracker-%ld-%ld", (long)time(NULL), (long)getpid());
    struct spoor_s3_op op = {.kind = SPOOR_S3_CREATE_BUCKET, .bucket = g_bucket};
    struct spoor_s3_result res;
    int rc = spoor_router_exec(g_s3, &op, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (rc)
        fail("CreateBucket", err.message);
    return rc == 0;
}

struct keys {
    char **v;
    size_t n, cap;
};

/* Every key under prefix, with the JSONL objects' bytes and count. */
static int s3_list(const char *prefix, struct keys *k, double *bytes, size_t *logs)
{
    char *token = NULL;
    int rc = 0;
    do {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = g_bucket,
                                 .prefix = prefix,
                                 .continuation_token = token};
        struct spoor_s3_result res;
        struct spoor_error err;
        rc = spoor_router_exec(g_s3, &op, &res, &err);
        free(token);
        token = NULL;
        if (rc) {
            fail("ListObjectsV2", err.message);
        } else {
            for (size_t i = 0; i < res.list.nobjects; i++) {
                const struct spoor_s3_object *o = &res.list.objects[i];
                if (k->n == k->cap) {
                    k->cap = k->cap ? 2 * k->cap : 1024;
                    k->v = realloc(k->v, k->cap * sizeof *k->v);
                    if (!k->v)
                        abort();
                }
                k->v[k->n++] = strdup(o->key);
                size_t len = strlen(o->key);
                if (len > 11 && strcmp(o->key + len - 11, "__log.jsonl") == 0)
                    *bytes += (double)o->size, ++*logs;
            }
            if (res.list.is_truncated && res.list.next_continuation_token)
                token = strdup(res.list.next_continuation_token);
        }
        spoor_s3_result_cleanup(&res);
    } while (token);
    return rc;
}

/* Measures what a run wrote under data/<project>/ and deletes it (the bucket stays). */
static size_t s3_measure_and_delete(const char *project, double *bytes)
{
    char prefix[PROJECT_MAX + 16];
    snprintf(prefix, sizeof prefix, "data/%s/", project);
    struct keys k = {0};
    size_t logs = 0;
    *bytes = 0;
    s3_list(prefix, &k, bytes, &logs);
    for (size_t i = 0; i < k.n; i += 1000) {
        size_t m = k.n - i < 1000 ? k.n - i : 1000;
        struct spoor_s3_op op = {.kind = SPOOR_S3_DELETE_OBJECTS,
                                 .bucket = g_bucket,
                                 .keys = (const char *const *)k.v + i,
                                 .nkeys = m,
                                 .quiet = true};
        struct spoor_s3_result res;
        struct spoor_error err;
        if (spoor_router_exec(g_s3, &op, &res, &err) != 0 || res.ndelete_errors)
            fprintf(stderr, "bench_tracker: cleanup of s3://%s/%s incomplete\n", g_bucket, prefix);
        spoor_s3_result_cleanup(&res);
    }
    for (size_t i = 0; i < k.n; i++)
        free(k.v[i]);
    free(k.v);
    return logs;
}

/* ---- end to end ------------------------------------------------------------------------ */

struct e2e_env {
    char dir[PATH_MAX], store[PATH_MAX + 8], spool[PATH_MAX + 8];
    char project[PROJECT_MAX];
};

static struct spoor_tracker *e2e_tracker(enum layout l, struct e2e_env *e, size_t queue_bytes)
{
    subdir(e->dir, sizeof e->dir, layout_names[l]);
    snprintf(e->project, sizeof e->project, "bench-%d-%ld", g_dirs, (long)getpid());
    snprintf(e->store, sizeof e->store, "%s/store", e->dir);
    snprintf(e->spool, sizeof e->spool, "%s/spool", e->dir);
    struct spoor_tracker_opts o = {.project = e->project,
                                   .flush_interval_ms = INTERVAL_MS,
                                   .queue_bytes = queue_bytes,
                                   .full_policy = SPOOR_FULL_DROP,
                                   .spool_dir = e->spool};
    char bucket_dir[PATH_MAX + 16];
    if (l == L_LOCAL) {
        o.local_root = e->store;
        o.spool_dir = NULL;
    } else {
        o.bucket = l == L_S3 ? g_bucket : "bench";
        o.store_root = l == L_FILE ? e->store : NULL;
        snprintf(bucket_dir, sizeof bucket_dir, "%s/bench", e->store);
        if (l == L_FILE && (mkdir(e->store, 0700) != 0 || mkdir(bucket_dir, 0700) != 0))
            perror(bucket_dir);
    }
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    if (spoor_tracker_new(&o, &t, &err) != 0) {
        fprintf(stderr, "bench_tracker: spoor_tracker_new (%s): %s\n", layout_names[l],
                err.message);
        exit(1);
    }
    return t;
}

/* Event i of the mix: step_begin, attribute, step_end of step i / 3. */
static size_t produce(struct spoor_app *a, size_t i)
{
    static const enum kind mix[3] = {K_BEGIN, K_ATTR, K_END};
    return call_one(mix[i % 3], a, (int64_t)(i / 3)) != 0;
}

static size_t mix_bound(void)
{
    return (record_bound(K_ATTR) + record_bound(K_BEGIN) + record_bound(K_END)) / 3 + 8;
}

/* Fills the row's timing for either workload; returns hooks that failed. */
static size_t e2e_produce(struct spoor_tracker *t, struct spoor_app **apps, struct e2e_row *r)
{
    size_t failed = 0, napps = (size_t)r->apps;
    size_t *next = xcalloc_or_die(napps, sizeof *next);
    int64_t t0 = mono_ns(), enq = 0;
    if (!r->rounds) {
        for (size_t i = 0; i < r->events; i++)
            failed += produce(apps[(i / 3) % napps], next[(i / 3) % napps]++);
        enq = mono_ns() - t0;
        flush_or_fail(t, "end to end");
    } else {
        for (int round = 0; round < g_o.rounds; round++) {
            int64_t r0 = mono_ns();
            for (size_t a = 0; a < napps; a++)
                for (int j = 0; j < g_o.round_events; j++)
                    failed += produce(apps[a], next[a]++);
            enq += mono_ns() - r0;
            flush_or_fail(t, "end to end");
        }
    }
    r->seconds = (double)(mono_ns() - t0) / 1e9;
    r->enq_seconds = (double)enq / 1e9;
    free(next);
    return failed;
}

static void e2e_config(enum layout l, int napps, bool rounds)
{
    size_t events = rounds ? (size_t)g_o.rounds * (size_t)napps * (size_t)g_o.round_events
                           : (l == L_S3 ? g_o.s3_events : g_o.e2e_events);
    fprintf(stderr, "bench_tracker: end to end %s, %d apps, %s, %zu events\n", layout_names[l],
            napps, rounds ? "rounds" : "bulk", events);
    struct e2e_env e;
    struct spoor_tracker *t = e2e_tracker(l, &e, mix_bound() * events + (1u << 20));
    struct spoor_app **apps = xcalloc_or_die((size_t)napps, sizeof *apps);
    for (int i = 0; i < napps; i++)
        apps[i] = app_or_die(t, i);
    flush_or_fail(t, "announcing applications");
    struct spoor_tracker_stats before;
    spoor_tracker_stats(t, &before);
    struct e2e_row *r = &g_e2e[g_ne2e++];
    *r = (struct e2e_row){.layout = l, .rounds = rounds, .apps = napps, .events = events};
    if (e2e_produce(t, apps, r))
        fail("end to end", "a hook returned an error");
    check_stats(t, events, "end to end");
    struct spoor_tracker_stats after;
    spoor_tracker_stats(t, &after);
    r->objects = (size_t)(after.objects_written - before.objects_written);
    spoor_tracker_free(t, -1);
    size_t lines = events;
    if (l == L_S3)
        r->objects = s3_measure_and_delete(e.project, &r->bytes);
    else
        lines = walk_jsonl(e.store, l, &r->bytes);
    if (lines != events)
        fail("end to end", "the JSONL written does not hold one line per event");
    free(apps);
    rm_tree(e.dir);
}

/* ---- output ---------------------------------------------------------------------------- */

static void print_enqueue(void)
{
    printf("\nEnqueue cost on the caller's thread (Burr local layout; queue holds every event; "
           "times in ns per call)\n\n");
    printf("| event      | payload B | threads | mode    | events  | p50 ns | p99 ns | "
           "1-call p50 | 1-call p99 | 1-call p99.9 | 1-call max us | cpu ns/ev | Mev/s | "
           "csw/1k vol | csw/1k invol |\n");
    printf("|------------|----------:|--------:|---------|--------:|-------:|-------:|"
           "-----------:|-----------:|-------------:|--------------:|----------:|------:|"
           "-----------:|-------------:|\n");
    for (size_t i = 0; i < g_nenq; i++) {
        const struct enq_row *r = &g_enq[i];
        printf("| %-10s | %9zu | %7d | %-7s | %7zu | %6.0f | %6.0f | %10.0f | %10.0f | "
               "%12.0f | %13.1f | %9.0f | %5.2f | %10.2f | %12.2f |\n",
               kind_names[r->kind], payload_bytes(r->kind), r->threads, mode_names[r->mode],
               r->events, r->p50, r->p99, r->s50, r->s99, r->s999, r->smax / 1e3, r->cpu_ns,
               r->mev_s, r->vcsw, r->ivcsw);
    }
}

static void print_e2e(void)
{
    printf("\nFlusher throughput, end to end (first hook until spoor_tracker_flush returns; "
           "one producer thread; mix of step_begin, attribute, step_end)\n\n");
    printf("| layout                 | workload      | apps | events  | objects | seconds | "
           "events/s | objects/s | MB/s  | enqueue s |\n");
    printf("|------------------------|---------------|-----:|--------:|--------:|--------:|"
           "---------:|----------:|------:|----------:|\n");
    for (size_t i = 0; i < g_ne2e; i++) {
        const struct e2e_row *r = &g_e2e[i];
        char wl[32];
        if (r->rounds)
            snprintf(wl, sizeof wl, "rounds %dx%d", g_o.rounds, g_o.round_events);
        else
            snprintf(wl, sizeof wl, "bulk");
        printf("| %-22s | %-13s | %4d | %7zu | %7zu | %7.3f | %8.0f | %9.1f | %5.1f | %9.3f |\n",
               layout_desc[r->layout], wl, r->apps, r->events, r->objects, r->seconds,
               (double)r->events / r->seconds, (double)r->objects / r->seconds,
               r->bytes / 1e6 / r->seconds, r->enq_seconds);
    }
}

static void print_header(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    int maxt = 1;
    for (int i = 0; i < g_o.nthreads; i++)
        maxt = g_o.threads[i] > maxt ? g_o.threads[i] : maxt;
    printf("Tracker benchmark: %ld cores", cores);
    if (maxt > cores)
        printf(" (runs with %d hook threads share them with the flusher)", maxt);
    printf("\nEvents: attribute {\"n\":42} (key \"%s\"), step_begin inputs {}, step_end state "
           "of %zu bytes and result %s\n",
           ATTR_KEY, strlen(STATE_JSON), END_RESULT);
    printf("Timer: CLOCK_MONOTONIC read twice back to back, p50 %.0f ns; a batch of %d calls "
           "carries %.1f ns of it per call (not subtracted); single-call columns have it "
           "subtracted\n",
           g_timer_ns, g_o.batch, g_timer_ns / g_o.batch);
}

/* ---- callgrind ------------------------------------------------------------------------- */

/* Not inlined and not static (so not cloned under another name either): valgrind
 * --toggle-collect=callgrind_loop counts exactly what runs in here. */
size_t callgrind_loop(enum kind k, struct spoor_app *a, size_t n);
__attribute__((noinline)) size_t callgrind_loop(enum kind k, struct spoor_app *a, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += call_one(k, a, (int64_t)i) != 0;
    return failed;
}

static int callgrind_main(void)
{
    char dir[PATH_MAX];
    subdir(dir, sizeof dir, "callgrind");
    struct spoor_tracker *t =
        enq_tracker(dir, record_bound((enum kind)g_o.cg_kind) * (g_o.cg_calls + 1000), false);
    struct spoor_app *a = app_or_die(t, 0);
    /* Warm: the first calls fault in the queue's first pages and resolve symbols. */
    size_t failed = 0;
    for (int64_t i = 0; i < 1000; i++)
        failed += call_one((enum kind)g_o.cg_kind, a, i) != 0;
    failed += callgrind_loop((enum kind)g_o.cg_kind, a, g_o.cg_calls);
    spoor_tracker_free(t, -1);
    rm_tree(dir);
    printf("callgrind: %zu calls of %s in callgrind_loop, %zu failed\n", g_o.cg_calls,
           kind_names[g_o.cg_kind], failed);
    return failed ? 1 : 0;
}

/* ---- options --------------------------------------------------------------------------- */

static int int_list(const char *s, int *out, long max)
{
    int n = 0;
    char *end;
    while (*s && n < MAX_LIST) {
        long v = strtol(s, &end, 10);
        if (end == s || v <= 0 || v > max)
            return -1;
        out[n++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',')
            return -1;
    }
    return n ? n : -1;
}

/* A comma list of names: sets flags[i] for each names[i] named; -1 on an unknown one. */
static int name_list(const char *s, const char *const *names, int nnames, bool *flags)
{
    memset(flags, 0, (size_t)nnames * sizeof *flags);
    while (*s) {
        size_t len = strcspn(s, ",");
        int i = 0;
        while (i < nnames && !(strlen(names[i]) == len && strncmp(s, names[i], len) == 0))
            i++;
        if (i == nnames)
            return -1;
        flags[i] = true;
        s += len + (s[len] == ',');
    }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_tracker [--events N] [--single N] [--batch N] [--threads 1,8]\n"
               "         [--repeat N] [--kinds attribute,step_begin,step_end]\n"
               "         [--modes idle,busy,private]\n"
               "         [--layouts file,local,s3] [--apps 1,50] [--e2e-events N] [--s3-events N]\n"
               "         [--rounds N] [--round-events N] [--no-enqueue] [--no-e2e] [--dir DIR]\n"
               "       bench_tracker --callgrind KIND:N    (under valgrind --tool=callgrind)\n"
               "s3 rows run when SPOOR_TEST_S3_ENDPOINT (and _ACCESS_KEY, _SECRET_KEY, _REGION) "
               "are set.\n");
}

static void defaults(struct opts *o)
{
    *o = (struct opts){.events = 1000000,
                       .single = 250000,
                       .e2e_events = 1000000,
                       .s3_events = 200000,
                       .batch = 64,
                       .repeat = 1,
                       .rounds = 40,
                       .round_events = 10,
                       .threads = {1, 8},
                       .nthreads = 2,
                       .apps = {1, 50},
                       .napps = 2,
                       .kinds = {true, true, true},
                       .modes = {true, true, true},
                       .layouts = {true, true, true},
                       .enqueue = true,
                       .e2e = true,
                       .cg_kind = -1};
    const char *tmp = getenv("TMPDIR");
    o->dir = tmp && tmp[0] ? tmp : "/tmp";
}

static int parse_callgrind(const char *s, struct opts *o)
{
    size_t len = strcspn(s, ":");
    for (int i = 0; i < K_NKINDS; i++)
        if (strlen(kind_names[i]) == len && strncmp(s, kind_names[i], len) == 0)
            o->cg_kind = i;
    o->cg_calls = s[len] == ':' ? strtoull(s + len + 1, NULL, 10) : 100000;
    return o->cg_kind >= 0 && o->cg_calls > 0 ? 0 : -1;
}

static int parse_one(const char *a, const char *v, struct opts *o)
{
    if (!strcmp(a, "--events"))
        return (o->events = strtoull(v, NULL, 10)) ? 0 : -1;
    if (!strcmp(a, "--single"))
        return (o->single = strtoull(v, NULL, 10)) ? 0 : -1;
    if (!strcmp(a, "--e2e-events"))
        return (o->e2e_events = strtoull(v, NULL, 10)) ? 0 : -1;
    if (!strcmp(a, "--s3-events"))
        return (o->s3_events = strtoull(v, NULL, 10)) ? 0 : -1;
    if (!strcmp(a, "--batch"))
        return (o->batch = atoi(v)) > 0 ? 0 : -1;
    if (!strcmp(a, "--repeat"))
        return (o->repeat = atoi(v)) > 0 ? 0 : -1;
    if (!strcmp(a, "--rounds"))
        return (o->rounds = atoi(v)) > 0 ? 0 : -1;
    if (!strcmp(a, "--round-events"))
        return (o->round_events = atoi(v)) > 0 ? 0 : -1;
    if (!strcmp(a, "--threads"))
        return (o->nthreads = int_list(v, o->threads, MAX_THREADS)) > 0 ? 0 : -1;
    if (!strcmp(a, "--apps"))
        return (o->napps = int_list(v, o->apps, 100000)) > 0 ? 0 : -1;
    if (!strcmp(a, "--kinds"))
        return name_list(v, kind_names, K_NKINDS, o->kinds);
    if (!strcmp(a, "--modes"))
        return name_list(v, mode_names, M_NMODES, o->modes);
    if (!strcmp(a, "--layouts"))
        return name_list(v, layout_names, L_NLAYOUTS, o->layouts);
    if (!strcmp(a, "--dir"))
        return (o->dir = v), 0;
    if (!strcmp(a, "--callgrind"))
        return parse_callgrind(v, o);
    return -1;
}

/* 0 to run, 1 after --help, 2 on a bad argument. */
static int parse_args(int argc, char **argv, struct opts *o)
{
    defaults(o);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 1;
        }
        if (!strcmp(argv[i], "--no-enqueue")) {
            o->enqueue = false;
            continue;
        }
        if (!strcmp(argv[i], "--no-e2e")) {
            o->e2e = false;
            continue;
        }
        if (i + 1 >= argc || parse_one(argv[i], argv[i + 1], o) != 0) {
            fprintf(stderr, "bench_tracker: bad argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
        i++;
    }
    return 0;
}

/* ---- main ------------------------------------------------------------------------------ */

static int cmp_row_p50(const void *a, const void *b)
{
    return cmp_double(&((const struct enq_row *)a)->p50, &((const struct enq_row *)b)->p50);
}

/* Runs a configuration --repeat times and keeps the run with the median p50. */
static void enqueue_repeated(enum kind k, int nthreads, enum mode m)
{
    struct enq_row *runs = xcalloc_or_die((size_t)g_o.repeat, sizeof *runs);
    for (int i = 0; i < g_o.repeat; i++)
        enqueue_config(k, nthreads, m, &runs[i]);
    qsort(runs, (size_t)g_o.repeat, sizeof *runs, cmp_row_p50);
    g_enq[g_nenq++] = runs[(g_o.repeat - 1) / 2];
    free(runs);
}

static void run_enqueue(void)
{
    for (int k = 0; k < K_NKINDS; k++)
        for (int i = 0; i < g_o.nthreads; i++)
            for (int m = 0; m < M_NMODES; m++)
                if (g_o.kinds[k] && g_o.modes[m] && g_nenq < MAX_ROWS &&
                    !(m == M_PRIVATE && g_o.threads[i] == 1))
                    enqueue_repeated((enum kind)k, g_o.threads[i], (enum mode)m);
}

static void run_e2e(void)
{
    bool s3 = g_o.layouts[L_S3] && s3_env();
    if (g_o.layouts[L_S3] && !s3)
        fprintf(stderr, "bench_tracker: SPOOR_TEST_S3_ENDPOINT not set: no s3 rows\n");
    if (s3 && !s3_open())
        s3 = false;
    for (int l = 0; l < L_NLAYOUTS; l++) {
        if (!g_o.layouts[l] || (l == L_S3 && !s3))
            continue;
        for (int i = 0; i < g_o.napps && g_ne2e + 2 <= MAX_ROWS; i++) {
            e2e_config((enum layout)l, g_o.apps[i], false);
            e2e_config((enum layout)l, g_o.apps[i], true);
        }
    }
    if (g_s3) {
        fprintf(stderr, "bench_tracker: bucket %s left behind, empty\n", g_bucket);
        spoor_router_close(g_s3, NULL, NULL);
    }
}

int main(int argc, char **argv)
{
    int rc = parse_args(argc, argv, &g_o);
    if (rc)
        return rc == 1 ? 0 : 2;
    unsetenv("SPOOR_ROUTES"); /* the file rows use store_root, the s3 rows SPOOR_TEST_S3_* */
    snprintf(g_root, sizeof g_root, "%s/bench-tracker-XXXXXX", g_o.dir);
    if (!mkdtemp(g_root)) {
        perror(g_root);
        return 2;
    }
    if (g_o.cg_kind >= 0) {
        rc = callgrind_main();
        rm_tree(g_root);
        return rc;
    }
    g_timer_ns = timer_overhead_ns();
    if (g_o.enqueue)
        run_enqueue();
    if (g_o.e2e)
        run_e2e();
    rm_tree(g_root);
    print_header();
    if (g_nenq)
        print_enqueue();
    if (g_ne2e)
        print_e2e();
    if (g_failed)
        fprintf(stderr, "bench_tracker: the run was not clean (see above): the numbers are "
                        "invalid\n");
    return g_failed ? 1 : 0;
}
