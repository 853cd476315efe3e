/*
 * test_tracker_rgw.c: the tracker (spoor/tracker.h) against a real Ceph RGW on 127.0.0.1
 * (started by tests/run.sh), reached the way an application reaches it: through the router with
 * no routes file, so from the AWS_* environment, which the group setup points at the test RGW.
 *
 * What a user checks, read back with the S3 client directly: every key has Burr's ten-segment
 * layout; each application's log objects, sorted by key and joined, hold every event exactly
 * once and in the order it was logged, byte for byte in Burr's format, with no trailing newline;
 * the objects' min/max sequence ids and tracker id are right; graph.json and metadata.json exist
 * once per application. Under faults: an endpoint outage (a fault-injecting TCP proxy between
 * the tracker and RGW, tests/support/tcp_proxy.h) spools objects and sends them once it is back;
 * a process killed with SIGKILL after a flush leaves its objects in the spool, and the next
 * tracker sends them; spoor_tracker_free with the endpoint down keeps everything spooled. Bad
 * input is refused, counted and never reaches the bucket.
 *
 * Every event of an application comes from step_events(): step s is four events (begin, two
 * attributes, end), so event i is step i / 4, kind i % 4, and its payload names the application
 * and the step. Each test uses its own project in one bucket per run, and its own spool
 * directory under a temporary directory removed at the end.
 *
 * A broken promise of a return value or counter (spoor_tracker_flush/free returning 0 while
 * everything was spooled, events_written, spool_pending) is noted with late_fail() and reported
 * when the test ends, so that the rest of the scenario is still checked and the failure says
 * which promise broke rather than hiding what followed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/s3.h>
#include <spoor/tracker.h>

#include <dirent.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/files.h"
#include "support/ports.h"
#include "support/s3_env.h"
#include "support/tcp_proxy.h"

/* A graph as an application might hand it (with whitespace), and as graph.json must hold it. */
#define GRAPH_IN                                                                                   \
    "{\"type\": \"application\", \"entrypoint\": \"step\", \"actions\": [{\"type\": \"action\", "  \
    "\"name\": \"step\", \"reads\": [\"n\"], \"writes\": [\"n\"], \"code\": \"def step(): ...\", " \
    "\"inputs\": [], \"optional_inputs\": []}], \"transitions\": [{\"type\": \"transition\", "     \
    "\"from_\": \"step\", \"to\": \"step\", \"condition\": \"default\"}]}"
#define GRAPH_OUT                                                                                  \
    "{\"type\":\"application\",\"entrypoint\":\"step\",\"actions\":[{\"type\":\"action\","         \
    "\"name\":\"step\",\"reads\":[\"n\"],\"writes\":[\"n\"],\"code\":\"def step(): ...\","         \
    "\"inputs\":[],\"optional_inputs\":[]}],\"transitions\":[{\"type\":\"transition\","            \
    "\"from_\":\"step\",\"to\":\"step\",\"condition\":\"default\"}]}"

#define EVENTS_PER_STEP 4

struct world {
    struct spoor_s3_engine *engine;
    struct spoor_s3_client *s3; /* to look at the bucket behind the tracker's back */
    char bucket[64];
    char tmp[256];     /* this run's temporary directory (spool directories) */
    char rgw_url[512]; /* SPOOR_TEST_S3_ENDPOINT */
    uint16_t rgw_port;
    struct tcp_proxy proxy; /* the outage test's, freed by the teardown if that test fails */
    bool proxy_running;
    /* Broken promises of return codes and counters, reported when the test ends (late_check),
     * so that the rest of the scenario (spool, recovery, bucket contents) is still checked. */
    char late[2048];
};

static struct world W;

/* What one application logs, and so what the bucket must hold for it. */
struct app_spec {
    char id[32];
    const char *pk;                      /* NULL: none (__none__) */
    const struct spoor_pointer *parent;  /* NULL: none */
    const struct spoor_pointer *spawned; /* NULL: none */
    int nsteps;                          /* steps 0..nsteps-1, EVENTS_PER_STEP events each */
};

/* ---- small helpers --------------------------------------------------------------------- */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Notes a failed check after which the test goes on; late_check() reports them all. */
static void late_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void late_fail(const char *fmt, ...)
{
    size_t used = strlen(W.late);
    if (used)
        used += (size_t)snprintf(W.late + used, sizeof W.late - used, "\n  and: ");
    if (used >= sizeof W.late)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(W.late + used, sizeof W.late - used, fmt, ap);
    va_end(ap);
}

/* Fails the test, at the caller's line, if late_fail() noted anything. */
#define late_check() late_check_at(__FILE__, __LINE__)
static void late_check_at(const char *file, int line)
{
    char msg[sizeof W.late];
    snprintf(msg, sizeof msg, "%s", W.late);
    W.late[0] = '\0';
    if (msg[0]) {
        print_error("ERROR: %s\n", msg);
        _fail(file, line);
    }
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void spool_path(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", W.tmp, name);
}

/* Entries of dir: with suffix, those ending so; without, all but "." and "..". */
static int count_files(const char *dir, const char *suffix)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        size_t len = strlen(de->d_name), sl = suffix ? strlen(suffix) : 0;
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        n += !suffix || (len > sl && strcmp(de->d_name + len - sl, suffix) == 0);
    }
    closedir(d);
    return n;
}

static size_t count_substr(const char *s, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);
    for (const char *p = s, *end = s + len; (p = memmem(p, (size_t)(end - p), needle, nl)); p += nl)
        n++;
    return n;
}

/* Log events found in the spool files of dir, counted by their line openings. */
static size_t spooled_events(const char *dir)
{
    static const char *const opening[] = {"{\"type\":\"begin_entry\"", "{\"type\":\"attribute\"",
                                          "{\"type\":\"end_entry\""};
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *de; (de = readdir(d));) {
        char path[1024], *data = NULL;
        size_t len = 0;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = de->d_name[0] == '.' ? NULL : fopen(path, "rb");
        if (!f)
            continue;
        FILE *mem = open_memstream(&data, &len);
        char chunk[65536];
        for (size_t r; (r = fread(chunk, 1, sizeof chunk, f)) > 0;)
            fwrite(chunk, 1, r, mem);
        fclose(mem);
        fclose(f);
        for (size_t i = 0; i < 3; i++)
            n += count_substr(data, len, opening[i]);
        free(data);
    }
    closedir(d);
    return n;
}

/* Where the tracker's router sends requests (AWS_ENDPOINT_URL); port 0: the RGW itself. */
static void use_endpoint(uint16_t port)
{
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)port);
    setenv("AWS_ENDPOINT_URL", port ? url : W.rgw_url, 1);
}

/* ---- the tracker side ------------------------------------------------------------------ */

/* Options of every test's tracker: short flush interval, hooks wait for room (never drop). */
static struct spoor_tracker_opts base_opts(const char *project, const char *spool,
                                           const char *tracker_id)
{
    return (struct spoor_tracker_opts){.project = project,
                                       .bucket = W.bucket,
                                       .spool_dir = spool,
                                       .flush_interval_ms = 200,
                                       .queue_bytes = 64u << 20,
                                       .full_policy = SPOOR_FULL_BLOCK,
                                       .block_ms = 10000,
                                       .tracker_id = tracker_id};
}

static struct spoor_tracker *tracker_start_opts(const struct spoor_tracker_opts *o)
{
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    if (spoor_tracker_new(o, &t, &err) != 0)
        fail_msg("spoor_tracker_new: %s", err.message);
    return t;
}

static struct spoor_tracker *tracker_start(const char *project, const char *spool,
                                           const char *tracker_id)
{
    struct spoor_tracker_opts o = base_opts(project, spool, tracker_id);
    return tracker_start_opts(&o);
}

static int app_open(struct spoor_tracker *t, const struct app_spec *s, struct spoor_app **a)
{
    struct spoor_error err;
    return spoor_app_new(t, s->id, s->pk, GRAPH_IN, s->parent, s->spawned, a, &err);
}

/* Logs step `step` of application id: begin, two attributes, end. Returns how many failed. */
static int step_events(struct spoor_app *a, const char *id, int step)
{
    char obj[96], ms[24], result[32];
    snprintf(obj, sizeof obj, "{\"app\": \"%s\", \"seq\": %d}", id, step);
    snprintf(ms, sizeof ms, "%d", step * 10);
    snprintf(result, sizeof result, "{\"seq\": %d}", step);
    int bad = spoor_step_begin(a, step, "step", obj) != 0;
    bad += spoor_attribute(a, step, NULL, "progress", obj, "{\"phase\": \"run\"}") != 0;
    bad += spoor_attribute(a, step, NULL, "latency_ms", ms, NULL) != 0;
    bad += spoor_step_end(a, step, "step", result, obj, NULL) != 0;
    return bad;
}

/* Logs steps [from, to) of every application, interleaved. Returns how many events failed. */
static int log_steps(struct spoor_app **apps, const struct app_spec *specs, size_t n, int from,
                     int to)
{
    int bad = 0;
    for (int step = from; step < to; step++)
        for (size_t i = 0; i < n; i++)
            bad += step_events(apps[i], specs[i].id, step);
    return bad;
}

/* Waits up to timeout_ms for the tracker's spool to empty; returns what is still pending. */
static uint64_t wait_spool_empty(struct spoor_tracker *t, int timeout_ms)
{
    struct spoor_tracker_stats st;
    int64_t until = now_ms() + timeout_ms;
    for (;;) {
        spoor_tracker_stats(t, &st);
        if (st.spool_pending == 0 || now_ms() >= until)
            return st.spool_pending;
        sleep_ms(50);
    }
}

/* ---- reading the bucket back ----------------------------------------------------------- */

struct verify {
    const char *project;
    const struct app_spec *apps;
    size_t napps;
    const char *tracker_id; /* on every object */
    const char *forbid;     /* text no object may contain, or NULL */
    int *next;              /* per application: index of the next event expected */
    int *ngraph, *nmeta;
    size_t objects, log_objects, lines;
};

/* s is n decimal digits and then stop (the end of s, or stop's character). */
static bool digits(const char *s, size_t n, char stop)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return s[n] == stop;
}

/* "YYYY-MM-DDTHH:MM:SS" and, unless the microsecond is 0, ".ffffff": pydantic's datetime. */
static bool iso_time_ok(const char *s, size_t len)
{
    if (len != 19 && len != 26)
        return false;
    char t[32];
    memcpy(t, s, len);
    t[len] = '\0';
    return digits(t, 4, '-') && digits(t + 5, 2, '-') && digits(t + 8, 2, 'T') &&
           digits(t + 11, 2, ':') && digits(t + 14, 2, ':') &&
           (digits(t + 17, 2, '\0') || (digits(t + 17, 2, '.') && digits(t + 20, 6, '\0')));
}

/* "<uuid4>__log.jsonl" */
static bool log_name_ok(const char *f)
{
    static const char hex[] = "0123456789abcdef";
    if (strlen(f) != 36 + strlen("__log.jsonl") || strcmp(f + 36, "__log.jsonl") != 0)
        return false;
    for (int i = 0; i < 36; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? f[i] != '-' : !memchr(hex, f[i], 16))
            return false;
    }
    return f[14] == '4' && strchr("89ab", f[19]);
}

/* Checks key against the layout; returns the application's index, *file the file name. */
static size_t parse_key(const struct verify *v, const char *key, const char **file)
{
    char copy[1024], *seg[11];
    int n = 0;
    snprintf(copy, sizeof copy, "%s", key);
    for (char *p = copy, *slash; n < 11; p = slash + 1) {
        seg[n++] = p;
        if (!(slash = strchr(p, '/')))
            break;
        *slash = '\0';
    }
    if (n != 10)
        fail_msg("key %s: %d segments, not 10", key, n);
    const char *m = seg[6]; /* MM:SS.ffffff, or MM:SS when the microsecond is 0 */
    bool time_ok = digits(seg[2], 4, '\0') && digits(seg[3], 2, '\0') && digits(seg[4], 2, '\0') &&
                   digits(seg[5], 2, '\0') && digits(m, 2, ':') &&
                   (digits(m + 3, 2, '\0') || (digits(m + 3, 2, '.') && digits(m + 6, 6, '\0')));
    if (strcmp(seg[0], "data") != 0 || strcmp(seg[1], v->project) != 0 || !time_ok)
        fail_msg("key %s does not follow data/<project>/YYYY/MM/DD/HH/MM:SS.ffffff/...", key);
    for (size_t i = 0; i < v->napps; i++) {
        const struct app_spec *s = &v->apps[i];
        if (strcmp(seg[8], s->id) != 0)
            continue;
        if (strcmp(seg[7], s->pk ? s->pk : "__none__") != 0)
            fail_msg("key %s: partition segment should be %s", key, s->pk ? s->pk : "__none__");
        *file = key + (seg[9] - copy);
        if (strcmp(*file, "graph.json") != 0 && strcmp(*file, "metadata.json") != 0 &&
            !log_name_ok(*file))
            fail_msg("key %s: unexpected file name", key);
        return i;
    }
    fail_msg("key %s: application %s was never created", key, seg[8]);
    return 0;
}

static void check_meta(const struct spoor_s3_result *res, const char *key, const char *name,
                       const char *want)
{
    const char *got = spoor_s3_result_meta(res, name);
    if (!got || strcmp(got, want) != 0)
        fail_msg("%s: metadata %s is %s, want %s", key, name, got ? got : "(missing)", want);
}

/* Event i of application id as Burr writes it: the text before and after its time stamp. */
static void expected_line(const char *id, int i, char *head, char *tail, size_t size)
{
    int s = i / EVENTS_PER_STEP;
    char obj[96];
    snprintf(obj, sizeof obj, "{\"app\":\"%s\",\"seq\":%d}", id, s);
    switch (i % EVENTS_PER_STEP) {
    case 0:
        snprintf(head, size, "{\"type\":\"begin_entry\",\"start_time\":\"");
        snprintf(tail, size, "\",\"action\":\"step\",\"inputs\":%s,\"sequence_id\":%d}", obj, s);
        break;
    case 1:
        snprintf(head, size,
                 "{\"type\":\"attribute\",\"key\":\"progress\",\"action_sequence_id\":%d,"
                 "\"span_id\":null,\"value\":%s,\"tags\":{\"phase\":\"run\"},\"time_logged\":\"",
                 s, obj);
        snprintf(tail, size, "Z\"}");
        break;
    case 2:
        snprintf(head, size,
                 "{\"type\":\"attribute\",\"key\":\"latency_ms\",\"action_sequence_id\":%d,"
                 "\"span_id\":null,\"value\":%d,\"tags\":{},\"time_logged\":\"",
                 s, s * 10);
        snprintf(tail, size, "Z\"}");
        break;
    default:
        snprintf(head, size, "{\"type\":\"end_entry\",\"end_time\":\"");
        snprintf(tail, size,
                 "\",\"action\":\"step\",\"result\":{\"seq\":%d},\"exception\":null,"
                 "\"state\":%s,\"sequence_id\":%d}",
                 s, obj, s);
    }
}

/* One line against event i of application id: exact bytes around a well-formed time. */
static void check_line(const char *id, int i, const char *line, size_t len, const char *key)
{
    char head[512], tail[512];
    expected_line(id, i, head, tail, sizeof head);
    size_t hl = strlen(head), tl = strlen(tail);
    if (len < hl + tl || memcmp(line, head, hl) != 0 || memcmp(line + len - tl, tail, tl) != 0 ||
        !iso_time_ok(line + hl, len - hl - tl))
        fail_msg("%s: line for event %d of %s (step %d) is wrong:\n  got  %.*s\n  want %s<time>%s",
                 key, i, id, i / EVENTS_PER_STEP, (int)len, line, head, tail);
}

/* A log object: its lines continue the application's events in order, no trailing newline,
 * and its metadata gives the sequence ids it holds. */
static void check_log(struct verify *v, size_t ai, const char *key,
                      const struct spoor_s3_result *res)
{
    const struct app_spec *s = &v->apps[ai];
    const char *p = res->body, *end = res->body + res->body_len;
    if (res->body_len == 0 || end[-1] == '\n')
        fail_msg("%s: %s", key, res->body_len ? "ends with a newline" : "is empty");
    int first = v->next[ai];
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (v->next[ai] >= s->nsteps * EVENTS_PER_STEP)
            fail_msg("%s: more events than %s logged: %.*s", key, s->id, (int)len, p);
        check_line(s->id, v->next[ai]++, p, len, key);
        v->lines++;
        p += len + 1;
    }
    char min[24], max[24];
    snprintf(min, sizeof min, "%d", first / EVENTS_PER_STEP);
    snprintf(max, sizeof max, "%d", (v->next[ai] - 1) / EVENTS_PER_STEP);
    check_meta(res, key, "min_sequence_id", min);
    check_meta(res, key, "max_sequence_id", max);
    v->log_objects++;
}

/* PointerModel in metadata.json, or the header Burr writes (Python json.dumps). */
static void pointer_text(char *out, size_t size, const struct spoor_pointer *p, bool header)
{
    char pk[64], seq[24];
    if (!p) {
        snprintf(out, size, header ? "None" : "null");
        return;
    }
    snprintf(pk, sizeof pk, p->partition_key ? "\"%s\"" : "null", p->partition_key);
    snprintf(seq, sizeof seq, p->has_sequence_id ? "%lld" : "null", (long long)p->sequence_id);
    if (header)
        snprintf(out, size, "{\"app_id\": \"%s\", \"partition_key\": %s, \"sequence_id\": %s}",
                 p->app_id, pk, seq);
    else
        snprintf(out, size,
                 "{\"type\":\"pointer_data\",\"app_id\":\"%s\",\"sequence_id\":%s,"
                 "\"partition_key\":%s}",
                 p->app_id, seq, pk);
}

static void check_metadata(const struct app_spec *s, const char *key,
                           const struct spoor_s3_result *res)
{
    char pk[64], parent[256], spawned[256], want[1024];
    snprintf(pk, sizeof pk, s->pk ? "\"%s\"" : "null", s->pk);
    pointer_text(parent, sizeof parent, s->parent, false);
    pointer_text(spawned, sizeof spawned, s->spawned, false);
    snprintf(want, sizeof want,
             "{\"type\":\"application_metadata\",\"partition_key\":%s,\"parent_pointer\":%s,"
             "\"spawning_parent_pointer\":%s}",
             pk, parent, spawned);
    if (strcmp(res->body, want) != 0)
        fail_msg("%s:\n  got  %s\n  want %s", key, res->body, want);
    pointer_text(parent, sizeof parent, s->parent, true);
    pointer_text(spawned, sizeof spawned, s->spawned, true);
    check_meta(res, key, "parent_pointer", parent);
    check_meta(res, key, "spawning_parent_pointer", spawned);
}

static void verify_object(struct verify *v, const char *key)
{
    const char *file = NULL;
    size_t ai = parse_key(v, key, &file);
    struct spoor_s3_op op = {.kind = SPOOR_S3_GET_OBJECT, .bucket = W.bucket, .key = key};
    struct spoor_s3_result res;
    struct spoor_error err;
    if (spoor_s3_exec(W.s3, &op, &res, &err) != 0)
        fail_msg("GET %s: %s", key, err.message);
    if (!res.body || res.body_len == 0)
        fail_msg("%s is empty", key);
    if (v->forbid && count_substr(res.body, res.body_len, v->forbid))
        fail_msg("%s holds refused input (%s): %s", key, v->forbid, res.body);
    check_meta(&res, key, "tracker_id", v->tracker_id);
    if (strcmp(file, "graph.json") == 0) {
        if (strcmp(res.body, GRAPH_OUT) != 0)
            fail_msg("%s:\n  got  %s\n  want %s", key, res.body, GRAPH_OUT);
        v->ngraph[ai]++;
    } else if (strcmp(file, "metadata.json") == 0) {
        check_metadata(&v->apps[ai], key, &res);
        v->nmeta[ai]++;
    } else {
        check_log(v, ai, key, &res);
    }
    v->objects++;
    spoor_s3_result_cleanup(&res);
}

/* Lists data/<project>/ page by page and checks every object. Keys come in byte order, so each
 * application's objects come sorted by key, which is the order their lines must be joined in.
 * Then checks that each application is complete. */
static void verify_project(struct verify *v)
{
    char prefix[128], token[2048] = "", last[1024] = "";
    snprintf(prefix, sizeof prefix, "data/%s/", v->project);
    v->next = calloc(v->napps, sizeof *v->next);
    v->ngraph = calloc(v->napps, sizeof *v->ngraph);
    v->nmeta = calloc(v->napps, sizeof *v->nmeta);
    for (bool more = true; more;) {
        struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS,
                                 .bucket = W.bucket,
                                 .prefix = prefix,
                                 .max_keys = 250,
                                 .continuation_token = token[0] ? token : NULL};
        struct spoor_s3_result res;
        struct spoor_error err;
        if (spoor_s3_exec(W.s3, &op, &res, &err) != 0)
            fail_msg("LIST %s: %s", prefix, err.message);
        for (size_t i = 0; i < res.list.nobjects; i++) {
            const char *key = res.list.objects[i].key;
            if (strcmp(last, key) >= 0)
                fail_msg("listing out of order: %s after %s", key, last);
            snprintf(last, sizeof last, "%s", key);
            verify_object(v, key);
        }
        more = res.list.is_truncated;
        if (more)
            snprintf(token, sizeof token, "%s", res.list.next_continuation_token);
        spoor_s3_result_cleanup(&res);
    }
    for (size_t i = 0; i < v->napps; i++) {
        const struct app_spec *s = &v->apps[i];
        if (v->next[i] != s->nsteps * EVENTS_PER_STEP || v->ngraph[i] != 1 || v->nmeta[i] != 1)
            fail_msg("application %s: %d of %d events, %d graph.json, %d metadata.json", s->id,
                     v->next[i], s->nsteps * EVENTS_PER_STEP, v->ngraph[i], v->nmeta[i]);
    }
    free(v->next), free(v->ngraph), free(v->nmeta);
}

/* How many objects data/<project>/ holds. */
static size_t count_objects(const char *project)
{
    char prefix[128];
    snprintf(prefix, sizeof prefix, "data/%s/", project);
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = W.bucket, .prefix = prefix};
    struct spoor_s3_result res;
    struct spoor_error err;
    if (spoor_s3_exec(W.s3, &op, &res, &err) != 0)
        fail_msg("LIST %s: %s", prefix, err.message);
    size_t n = res.list.nobjects;
    spoor_s3_result_cleanup(&res);
    return n;
}

/* Names applications <prefix>-00.. with nsteps steps; every third has a partition key. */
static void make_specs(struct app_spec *specs, size_t n, const char *prefix, int nsteps)
{
    static const char *const pks[] = {"user-0", "user-1", "user-2", "user-3", "user-4"};
    memset(specs, 0, n * sizeof *specs);
    for (size_t i = 0; i < n; i++) {
        snprintf(specs[i].id, sizeof specs[i].id, "%s-%02zu", prefix, i);
        specs[i].pk = i % 3 == 0 ? pks[(i / 3) % 5] : NULL;
        specs[i].nsteps = nsteps;
    }
}

/* ---- 1. many threads, many applications ------------------------------------------------ */

enum { LOAD_THREADS = 8, LOAD_APPS = 50, LOAD_STEPS = 500 };
#define LOAD_QUEUE_BYTES ((size_t)1 << 20)
#define LOAD_BATCH 5000

struct load_thread {
    struct spoor_tracker *t;
    const struct app_spec *specs;
    int index;
    int failed; /* app_new or hook calls that did not return 0 */
};

/* Thread index owns applications index, index + LOAD_THREADS, ...; logs their steps in turn. */
static void *load_main(void *arg)
{
    struct load_thread *lt = arg;
    struct spoor_app *apps[LOAD_APPS];
    struct app_spec mine[LOAD_APPS];
    size_t n = 0;
    for (size_t i = (size_t)lt->index; i < LOAD_APPS; i += LOAD_THREADS) {
        mine[n] = lt->specs[i];
        lt->failed += app_open(lt->t, &mine[n], &apps[n]) != 0;
        n++;
    }
    if (lt->failed == 0)
        lt->failed += log_steps(apps, mine, n, 0, LOAD_STEPS);
    return NULL;
}

static void test_many_threads_every_event_once_in_order(void **state)
{
    static struct app_spec specs[LOAD_APPS];
    static const struct spoor_pointer parent = {"load-00", "user-0", 5, true};
    static const struct spoor_pointer spawned = {"load-00", NULL, 0, false};
    make_specs(specs, LOAD_APPS, "load", LOAD_STEPS);
    specs[1].parent = &parent;
    specs[2].spawned = &spawned;
    char spool[512], tid[128];
    spool_path(spool, sizeof spool, "load-spool");
    /* A queue of a few MiB (a tenth of what is logged) makes the threads wait for the flusher,
     * so each application's events spread over many objects, whose order then matters. */
    struct spoor_tracker_opts o = base_opts("load", spool, NULL);
    o.queue_bytes = LOAD_QUEUE_BYTES;
    o.max_batch_events = LOAD_BATCH;
    int64_t t0 = now_ms();
    struct spoor_tracker *t = tracker_start_opts(&o);
    snprintf(tid, sizeof tid, "%s", spoor_tracker_id(t));

    pthread_t th[LOAD_THREADS];
    struct load_thread lt[LOAD_THREADS];
    for (int i = 0; i < LOAD_THREADS; i++) {
        lt[i] = (struct load_thread){.t = t, .specs = specs, .index = i};
        assert_int_equal(pthread_create(&th[i], NULL, load_main, &lt[i]), 0);
    }
    int failed = 0;
    for (int i = 0; i < LOAD_THREADS; i++) {
        pthread_join(th[i], NULL);
        failed += lt[i].failed;
    }
    assert_int_equal(failed, 0);
    int64_t t_logged = now_ms();
    const uint64_t total = (uint64_t)LOAD_APPS * LOAD_STEPS * EVENTS_PER_STEP;
    struct spoor_error err;
    if (spoor_tracker_flush(t, 60000, &err) != 0)
        fail_msg("flush: %s", err.message);
    struct spoor_tracker_stats st;
    spoor_tracker_stats(t, &st);
    assert_int_equal(st.events_enqueued, total);
    assert_int_equal(st.events_written, total);
    assert_int_equal(st.events_dropped, 0);
    assert_int_equal(st.events_refused, 0);
    assert_int_equal(st.spool_pending, 0);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);
    int64_t t_sent = now_ms();

    struct verify v = {.project = "load", .apps = specs, .napps = LOAD_APPS, .tracker_id = tid};
    verify_project(&v);
    assert_int_equal(v.lines, total);
    assert_int_equal(v.objects, st.objects_written);
    assert_int_equal(count_files(spool, NULL), 0);
    print_message("load: %llu events from %d threads: logged in %lld ms, sent in %lld ms as "
                  "%zu log objects; checked in %lld ms\n",
                  (unsigned long long)total, LOAD_THREADS, (long long)(t_logged - t0),
                  (long long)(t_sent - t0), v.log_objects, (long long)(now_ms() - t_sent));
}

/* ---- 2. endpoint outage ---------------------------------------------------------------- */

enum { OUT_APPS = 6, OUT_STEPS = 80 };

/* While the endpoint is down: every flush fails and leaves its objects in the spool. */
static int log_while_down(struct spoor_tracker *t, struct spoor_app **apps,
                          const struct app_spec *specs, const char *spool)
{
    int64_t down_at = now_ms();
    int step = 20, flushed_ok = 0;
    while (step < 60 && (step < 40 || now_ms() - down_at < 2000)) {
        assert_int_equal(log_steps(apps, specs, OUT_APPS, step, step + 5), 0);
        step += 5;
        struct spoor_error err;
        int rc = spoor_tracker_flush(t, 15000, &err);
        assert_int_not_equal(rc, SPOOR_E_TIMEOUT);
        flushed_ok += rc == 0;
    }
    struct spoor_tracker_stats st;
    spoor_tracker_stats(t, &st);
    assert_true(st.objects_spooled > 0);
    assert_true(st.spool_pending > 0);
    assert_true(count_files(spool, ".spool") > 0);
    if (flushed_ok)
        late_fail("spoor_tracker_flush returned 0 %d times while the endpoint was down and "
                  "the events it waited for were spooled, not sent",
                  flushed_ok);
    return step;
}

static void test_outage_spools_then_sends_everything(void **state)
{
    struct tcp_proxy *proxy = &W.proxy;
    assert_int_equal(tcp_proxy_new(proxy, W.rgw_port), 0);
    W.proxy_running = true;
    use_endpoint(proxy->port);
    struct app_spec specs[OUT_APPS];
    struct spoor_app *apps[OUT_APPS];
    make_specs(specs, OUT_APPS, "out", OUT_STEPS);
    char spool[512];
    spool_path(spool, sizeof spool, "outage-spool");
    struct spoor_tracker *t = tracker_start("outage", spool, "outage-tracker");
    for (size_t i = 0; i < OUT_APPS; i++)
        assert_int_equal(app_open(t, &specs[i], &apps[i]), 0);
    struct spoor_error err;
    assert_int_equal(log_steps(apps, specs, OUT_APPS, 0, 20), 0);
    assert_int_equal(spoor_tracker_flush(t, 15000, &err), 0);
    assert_true(count_objects("outage") > 0);

    assert_int_equal(tcp_proxy_stop(proxy), 0);
    int step = log_while_down(t, apps, specs, spool);
    assert_int_equal(tcp_proxy_start(proxy), 0);
    assert_int_equal(log_steps(apps, specs, OUT_APPS, step, OUT_STEPS), 0);
    if (spoor_tracker_flush(t, 15000, &err) != 0)
        fail_msg("flush after the endpoint came back: %s", err.message);
    assert_int_equal(wait_spool_empty(t, 20000), 0);
    struct spoor_tracker_stats st;
    spoor_tracker_stats(t, &st);
    assert_int_equal(st.events_enqueued, (uint64_t)OUT_APPS * OUT_STEPS * EVENTS_PER_STEP);
    assert_int_equal(st.events_dropped, 0);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);
    tcp_proxy_free(proxy);
    W.proxy_running = false;
    assert_true(proxy->accepted > 0); /* the tracker did go through the proxy */

    struct verify v = {
        .project = "outage", .apps = specs, .napps = OUT_APPS, .tracker_id = "outage-tracker"};
    verify_project(&v);
    assert_int_equal(count_files(spool, NULL), 0);
    /* Every event is in an object the endpoint accepted: the count must say so too. */
    if (st.events_written != st.events_enqueued)
        late_fail("after the spool drained, events_written is %llu of %llu enqueued, though the "
                  "bucket holds every event",
                  (unsigned long long)st.events_written, (unsigned long long)st.events_enqueued);
    late_check();
}

/* ---- 3. SIGKILL after a flush ---------------------------------------------------------- */

enum { KILL_APPS = 3, KILL_STEPS = 25 };

/* The child: logs everything against a dead endpoint, flushes (it fails: all is spooled), says
 * so on fd ('k'; 'f' when the flush returned 0 nonetheless; 'x' when something else went
 * wrong) and waits to be killed. Never returns; no cmocka here. */
static void kill_child(const char *spool, uint16_t port, int fd)
{
    struct app_spec specs[KILL_APPS];
    struct spoor_app *apps[KILL_APPS];
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    char marker = 'x';
    make_specs(specs, KILL_APPS, "kill", KILL_STEPS);
    use_endpoint(port);
    struct spoor_tracker_opts o = base_opts("sigkill", spool, "sigkill-child");
    if (spoor_tracker_new(&o, &t, &err) == 0) {
        int bad = 0;
        for (size_t i = 0; i < KILL_APPS; i++)
            bad += app_open(t, &specs[i], &apps[i]) != 0;
        bad = bad ? bad : log_steps(apps, specs, KILL_APPS, 0, KILL_STEPS);
        int rc = spoor_tracker_flush(t, 20000, &err);
        struct spoor_tracker_stats st;
        spoor_tracker_stats(t, &st);
        if (bad == 0 && rc != SPOOR_E_TIMEOUT && st.objects_spooled > 0)
            marker = rc ? 'k' : 'f';
    }
    if (write(fd, &marker, 1) != 1)
        _exit(3);
    for (;;)
        pause();
}

static void test_sigkill_after_flush_loses_nothing(void **state)
{
    char spool[512];
    spool_path(spool, sizeof spool, "kill-spool");
    uint16_t port = loopback_free_port();
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        kill_child(spool, port, p[1]);
        _exit(4);
    }
    close(p[1]);
    struct pollfd pfd = {.fd = p[0], .events = POLLIN};
    char marker = 0;
    int ready = poll(&pfd, 1, 30000);
    bool got = ready == 1 && read(p[0], &marker, 1) == 1;
    close(p[0]);
    kill(pid, SIGKILL);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(got);
    assert_true(marker == 'k' || marker == 'f'); /* the child logged, flushed and spooled */
    if (marker == 'f')
        late_fail("spoor_tracker_flush returned 0 in the child with the endpoint down and its "
                  "objects spooled");
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* graph.json and metadata.json of each application, and at least one log object each */
    assert_true(count_files(spool, ".spool") >= KILL_APPS * 3);
    assert_int_equal(count_objects("sigkill"), 0);

    /* The next run, with the endpoint up, sends what the killed one left. */
    struct spoor_tracker *t = tracker_start("sigkill", spool, "sigkill-parent");
    assert_int_equal(spoor_tracker_free(t, 15000), 0);
    struct app_spec specs[KILL_APPS];
    make_specs(specs, KILL_APPS, "kill", KILL_STEPS);
    struct verify v = {
        .project = "sigkill", .apps = specs, .napps = KILL_APPS, .tracker_id = "sigkill-child"};
    verify_project(&v);
    assert_int_equal(count_files(spool, NULL), 0);
    late_check();
}

/* ---- 4. free with the endpoint down ---------------------------------------------------- */

enum { FREE_APPS = 3, FREE_STEPS = 20 };

static void test_free_with_endpoint_down_keeps_spool(void **state)
{
    char spool[512];
    spool_path(spool, sizeof spool, "free-spool");
    struct app_spec specs[FREE_APPS];
    struct spoor_app *apps[FREE_APPS];
    make_specs(specs, FREE_APPS, "free", FREE_STEPS);
    use_endpoint(loopback_free_port());
    struct spoor_tracker *t = tracker_start("free-down", spool, "free-down-1");
    for (size_t i = 0; i < FREE_APPS; i++)
        assert_int_equal(app_open(t, &specs[i], &apps[i]), 0);
    assert_int_equal(log_steps(apps, specs, FREE_APPS, 0, FREE_STEPS), 0);
    struct spoor_tracker_stats st;
    spoor_tracker_stats(t, &st);
    const uint64_t total = (uint64_t)FREE_APPS * FREE_STEPS * EVENTS_PER_STEP;
    assert_int_equal(st.events_enqueued, total);
    if (spoor_tracker_free(t, 20000) == 0)
        late_fail("spoor_tracker_free returned 0 with the endpoint down and nothing sent");
    /* Nothing was dropped: every event is in the spool, nothing is in the bucket yet. */
    assert_true(count_files(spool, ".spool") >= FREE_APPS * 3);
    assert_int_equal(spooled_events(spool), total);
    assert_int_equal(count_objects("free-down"), 0);

    use_endpoint(0);
    t = tracker_start("free-down", spool, "free-down-2");
    assert_int_equal(spoor_tracker_free(t, 15000), 0);
    struct verify v = {
        .project = "free-down", .apps = specs, .napps = FREE_APPS, .tracker_id = "free-down-1"};
    verify_project(&v);
    assert_int_equal(count_files(spool, NULL), 0);
    late_check();
}

/* ---- 5. what an earlier run left is counted as pending -------------------------------- */

static void test_spool_pending_counts_earlier_leftovers(void **state)
{
    char spool[512];
    spool_path(spool, sizeof spool, "left-spool");
    struct app_spec spec;
    struct spoor_app *app;
    make_specs(&spec, 1, "left", 3);
    use_endpoint(loopback_free_port());
    struct spoor_tracker *t = tracker_start("leftover", spool, "leftover-1");
    assert_int_equal(app_open(t, &spec, &app), 0);
    assert_int_equal(log_steps(&app, &spec, 1, 0, spec.nsteps), 0);
    spoor_tracker_free(t, 20000); /* its return value is test 4's subject */
    int files = count_files(spool, ".spool");
    assert_true(files >= 3);

    /* Still down: the new tracker's stats must say from the start that files wait. */
    t = tracker_start("leftover", spool, "leftover-2");
    struct spoor_tracker_stats st;
    spoor_tracker_stats(t, &st);
    uint64_t at_start = st.spool_pending;
    spoor_tracker_free(t, 20000);
    assert_int_equal(count_files(spool, ".spool"), files);

    use_endpoint(0);
    t = tracker_start("leftover", spool, "leftover-3");
    assert_int_equal(spoor_tracker_free(t, 15000), 0);
    assert_int_equal(count_files(spool, NULL), 0);
    struct verify v = {
        .project = "leftover", .apps = &spec, .napps = 1, .tracker_id = "leftover-1"};
    verify_project(&v);
    if (at_start != (uint64_t)files)
        fail_msg("a tracker started over %d spooled objects reported spool_pending %llu", files,
                 (unsigned long long)at_start);
}

/* ---- 6. bad input ---------------------------------------------------------------------- */

/* Hook calls that must be refused; each carries "BAD" so the bucket can be searched for it. */
static int bad_hook_calls(struct spoor_app *a)
{
    const char *deps[] = {"0:0", NULL};
    int refused = 0;
    refused += spoor_step_begin(a, 0, "step", "{\"BAD\": 1") == SPOOR_E_INVALID;
    refused += spoor_step_begin(a, 0, "step", "[\"BAD\"]") == SPOOR_E_INVALID;
    refused += spoor_step_begin(a, 0, "step", "{\"BAD\": 1} {}") == SPOOR_E_INVALID;
    refused += spoor_step_begin(a, 0, "BAD\xff", "{}") == SPOOR_E_INVALID;
    refused += spoor_step_begin(a, -1, "BAD", "{}") == SPOOR_E_INVALID;
    refused += spoor_step_end(a, 0, "step", NULL, "{\"BAD\": tru}", NULL) == SPOOR_E_INVALID;
    refused += spoor_step_end(a, 0, "step", "[\"BAD\"]", "{}", NULL) == SPOOR_E_INVALID;
    refused += spoor_attribute(a, 0, NULL, "BAD", "{\"a\": 1,}", NULL) == SPOOR_E_INVALID;
    refused += spoor_attribute(a, 0, NULL, "k", "1", "{\"BAD\": 1}") == SPOOR_E_INVALID;
    refused += spoor_attribute(a, 0, NULL, "k", "\"BAD\xc0\xaf\"", NULL) == SPOOR_E_INVALID;
    refused += spoor_attribute(a, 0, NULL, "k", "\"\\ud800BAD\"", NULL) == SPOOR_E_INVALID;
    refused += spoor_span_begin(a, 0, NULL, "BAD", NULL, NULL, 0) == SPOOR_E_INVALID;
    refused += spoor_span_begin(a, 0, "0:1", "BAD", NULL, deps, 2) == SPOOR_E_INVALID;
    return refused;
}

enum { BAD_HOOK_CALLS = 13 };

/* spoor_app_new calls that must be refused; returns how many were. */
static int bad_app_calls(struct spoor_tracker *t)
{
    static const struct spoor_pointer bad_parent = {"BAD/parent", NULL, 1, true};
    struct spoor_app *a = NULL;
    struct spoor_error err;
    int refused = 0;
    refused += spoor_app_new(t, "BAD/app", NULL, GRAPH_IN, NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused += spoor_app_new(t, "", NULL, GRAPH_IN, NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused += spoor_app_new(t, NULL, NULL, GRAPH_IN, NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused +=
        spoor_app_new(t, "bad-pk", "BAD/pk", GRAPH_IN, NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused += spoor_app_new(t, "bad-pk", "..", GRAPH_IN, NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused +=
        spoor_app_new(t, "bad-graph", NULL, "{\"BAD\": ", NULL, NULL, &a, &err) == SPOOR_E_INVALID;
    refused += spoor_app_new(t, "bad-parent", NULL, GRAPH_IN, &bad_parent, NULL, &a, &err) ==
               SPOOR_E_INVALID;
    return refused;
}

static void test_bad_input_refused_counted_never_written(void **state)
{
    char spool[512];
    spool_path(spool, sizeof spool, "bad-spool");
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    struct spoor_tracker_opts o = {
        .project = "BAD/project", .bucket = W.bucket, .spool_dir = spool};
    assert_int_equal(spoor_tracker_new(&o, &t, &err), SPOOR_E_INVALID);
    o.project = "bad-input";
    o.default_partition_key = "BAD/pk";
    assert_int_equal(spoor_tracker_new(&o, &t, &err), SPOOR_E_INVALID);

    t = tracker_start("bad-input", spool, "bad-input-1");
    assert_int_equal(bad_app_calls(t), 7);
    struct app_spec spec;
    struct spoor_app *app;
    make_specs(&spec, 1, "good", 2);
    assert_int_equal(app_open(t, &spec, &app), 0);
    struct spoor_app *again = NULL; /* the same handle, and no second graph.json */
    assert_int_equal(app_open(t, &spec, &again), 0);
    assert_ptr_equal(again, app);
    assert_int_equal(step_events(app, spec.id, 0), 0);
    assert_int_equal(bad_hook_calls(app), BAD_HOOK_CALLS);
    assert_int_equal(step_events(app, spec.id, 1), 0);
    assert_int_equal(spoor_step_begin(NULL, 0, "step", "{}"), SPOOR_E_INVALID);

    struct spoor_tracker_stats st;
    assert_int_equal(spoor_tracker_flush(t, 15000, &err), 0);
    spoor_tracker_stats(t, &st);
    assert_int_equal(st.events_refused, BAD_HOOK_CALLS);
    assert_int_equal(st.events_enqueued, 2 * EVENTS_PER_STEP);
    assert_int_equal(st.events_written, 2 * EVENTS_PER_STEP);
    assert_int_equal(spoor_tracker_free(t, 10000), 0);
    /* Only the good application's objects, holding only its events. */
    struct verify v = {.project = "bad-input",
                       .apps = &spec,
                       .napps = 1,
                       .tracker_id = "bad-input-1",
                       .forbid = "BAD"};
    verify_project(&v);
    assert_int_equal(v.objects, st.objects_written);
}

/* ---- setup ----------------------------------------------------------------------------- */

/* The router's implicit endpoint comes from the AWS environment: point it at the test RGW. */
static void aws_env(const struct spoor_s3_config *cfg)
{
    unsetenv("SPOOR_ROUTES");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_ACCESS_KEY_ID", cfg->creds.access_key_id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", cfg->creds.secret_access_key, 1);
    setenv("AWS_REGION", cfg->region, 1);
    use_endpoint(0);
}

/* Each test starts against the RGW itself with no late failure pending. */
static int test_setup(void **state)
{
    use_endpoint(0);
    W.late[0] = '\0';
    return 0;
}

static int test_teardown(void **state)
{
    if (W.proxy_running)
        tcp_proxy_free(&W.proxy);
    W.proxy_running = false;
    use_endpoint(0);
    return 0;
}

static int group_setup(void **state)
{
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    snprintf(W.rgw_url, sizeof W.rgw_url, "%s", cfg.endpoint_url);
    const char *colon = strrchr(cfg.endpoint_url, ':');
    W.rgw_port = (uint16_t)(colon ? atoi(colon + 1) : 80);
    if (strncmp(cfg.endpoint_url, "http://127.0.0.1:", 17) != 0) {
        fprintf(stderr, "the outage test needs an RGW on http://127.0.0.1:<port>\n");
        return -1;
    }
    aws_env(&cfg);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(W.tmp, sizeof W.tmp, "%s/spoor-trk-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    if (!mkdtemp(W.tmp))
        return -1;
    W.engine = spoor_s3_engine_new(NULL, NULL);
    struct spoor_error err;
    W.s3 = spoor_s3_client_new(W.engine, &cfg, &err);
    if (!W.s3)
        return -1;
    return s3_env_create_bucket(W.s3, W.bucket, sizeof W.bucket, "spoor-trk");
}

static int group_teardown(void **state)
{
    if (W.tmp[0])
        rm_tree(W.tmp);
    spoor_s3_client_free(W.s3);
    if (W.engine)
        spoor_s3_engine_close(W.engine, NULL, NULL);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_many_threads_every_event_once_in_order, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_outage_spools_then_sends_everything, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_sigkill_after_flush_loses_nothing, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_free_with_endpoint_down_keeps_spool, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_spool_pending_counts_earlier_leftovers, test_setup,
                                        test_teardown),
        cmocka_unit_test_setup_teardown(test_bad_input_refused_counted_never_written, test_setup,
                                        test_teardown),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
