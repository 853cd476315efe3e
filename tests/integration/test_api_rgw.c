/*
 * test_api_rgw.c: spoor-server's HTTP API (server/api.h, burr-compat.md sections 2, 5 and 6)
 * over HTTP, against a real spoor-server process indexing a real Ceph RGW on 127.0.0.1
 * (started by tests/run.sh), with data written the way applications write it: by the tracker
 * (spoor/tracker.h) into a bucket of its own.
 *
 * What a user of the UI or of the API checks: every endpoint answers with Burr's models field
 * by field (names and JSON types, datetimes as ISO 8601 strings); partitions and pages of
 * applications; a 1,000-step application with spans, nested spans, attributes, a stream and a
 * failing step comes back whole and in order; fork and spawn pointers appear on the child and
 * as children of the parent; state values come back byte for byte (unicode, "0.1"); ETags
 * answer 304 and change when new steps are indexed; indexing jobs and /metrics; annotations
 * round-trip and survive a restart through the snapshot the first server took on SIGTERM; bad
 * input gets 400/404/405 JSON (never 500); a bearer token guards /ready, /metrics and /api.
 *
 * The tests run in order and share one bucket, one seed and one server (the annotations test
 * replaces it by a second server restored from the snapshot). Most checks are soft (CHECK):
 * a test goes on after a failed check, so one run lists every broken promise, and fails at its
 * end with the count. The group teardown kills every server still running and removes the
 * temporary directory (server roots, logs, spool), also after a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <spoor/s3.h>
#include <spoor/tracker.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/files.h"
#include "support/ports.h"
#include "support/s3_env.h"

#ifndef SPOOR_SERVER_BIN
#error "SPOOR_SERVER_BIN (the spoor-server program) is defined by tests/CMakeLists.txt"
#endif

extern char **environ;

#define PROJECT_A "apitest_a"      /* partitions, the big app, fork and spawn, annotations */
#define PROJECT_B "apitest_paging" /* 25 one-step apps, paged by 10 */
#define BIG_STEPS 1000
#define NPAGED 25
#define INDEX_WAIT_MS 20000
#define TOKEN "secret"

/* The graph every application announces, compact as the tracker writes it. */
#define GRAPH                                                                                      \
    "{\"type\":\"application\",\"entrypoint\":\"work\",\"actions\":[{\"type\":\"action\","         \
    "\"name\":\"work\",\"reads\":[\"n\"],\"writes\":[\"n\"],\"code\":\"def work(state): ...\","    \
    "\"inputs\":[],\"optional_inputs\":[]},{\"type\":\"action\",\"name\":\"fail\",\"reads\":"      \
    "[\"n\"],\"writes\":[],\"code\":\"def fail(state): raise ValueError('boom')\",\"inputs\":"     \
    "[\"why\"],\"optional_inputs\":[\"how\"]}],\"transitions\":[{\"type\":\"transition\","         \
    "\"from_\":\"work\",\"to\":\"fail\",\"condition\":\"n == 7\"},{\"type\":\"transition\","       \
    "\"from_\":\"work\",\"to\":\"work\",\"condition\":\"default\"}]}"

/* The "plain" app's state: unicode (2-, 3- and 4-byte UTF-8) and a float as written. */
#define PLAIN_STATE                                                                                \
    "{\"greeting\":\"h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80\",\"x\":0.1}"
#define BOOM                                                                                       \
    "Traceback (most recent call last):\n  File \"app.py\", line 7, in fail\nValueError: boom"

/* The metrics /metrics must show (server/api_metrics.c), each with a "# TYPE" line and at
 * least one sample. */
static const char *const METRICS[] = {
    "spoor_up",
    "spoor_start_time_seconds",
    "spoor_http_requests_total",
    "spoor_http_request_duration_seconds_count",
    "spoor_indexing_ticks_total",
    "spoor_indexing_failures_total",
    "spoor_indexed_objects_total",
    "spoor_indexed_events_total",
    "spoor_index_projects",
    "spoor_index_applications",
    "spoor_index_skipped_total",
    "spoor_index_lag_seconds",
    "spoor_s3_requests_total",
    "spoor_s3_errors_total",
    "spoor_snapshot_age_seconds",
};

static const struct spoor_pointer FORK_PTR = {"big", NULL, 500, true};
static const struct spoor_pointer SPAWN_PTR = {"big", NULL, 600, true};

/* Project A's applications. */
static const struct seed_app {
    const char *id, *pk;
    const struct spoor_pointer *parent, *spawn;
    int nsteps;
} APPS_A[] = {
    {"big", NULL, NULL, NULL, BIG_STEPS},     {"big-fork", NULL, &FORK_PTR, NULL, 2},
    {"big-spawn", NULL, NULL, &SPAWN_PTR, 1}, {"plain", NULL, NULL, NULL, 1},
    {"u1-a", "user_1", NULL, NULL, 1},        {"u1-b", "user_1", NULL, NULL, 2},
    {"u1-c", "user_1", NULL, NULL, 1},
};
#define NAPPS_A (sizeof APPS_A / sizeof APPS_A[0])

struct server {
    pid_t pid; /* 0: not running */
    uint16_t port;
    char root[512]; /* BURR_SERVER_ROOT */
    char log[600];  /* its stdout and stderr */
    const char *token;
};

struct http_res {
    long status; /* -1: no answer */
    char *body;  /* NUL-terminated */
    size_t len;
    char *head; /* every header line received */
    size_t hlen;
    char what[400]; /* "METHOD path", for messages */
};

static struct world {
    struct spoor_s3_engine *engine;
    struct spoor_s3_client *s3;
    char bucket[64];
    char tmp[256];
    struct spoor_tracker *trk; /* project A's, kept for the ETag test */
    struct spoor_app *plain;
    struct server srv;   /* the server the tests talk to */
    struct server guard; /* the token test's */
    CURL *curl;
    int checks, failed, printed;    /* this test's */
    int total_checks, total_failed; /* the run's */
} W;

/* ---- soft checks ----------------------------------------------------------------------- */

static void check_at(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void check_at(bool ok, const char *file, int line, const char *fmt, ...)
{
    W.checks++;
    if (ok)
        return;
    W.failed++;
    if (W.printed++ >= 60)
        return;
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    print_error("CHECK FAILED %s:%d: %s\n", strrchr(file, '/') ? strrchr(file, '/') + 1 : file,
                line, msg);
}
#define CHECK(ok, ...) check_at((ok), __FILE__, __LINE__, __VA_ARGS__)

static void server_died(struct server *s);

/* Ends a test: prints how many checks ran and fails it, here, if any failed (saying whether
 * the server is still running). */
#define checks_done() checks_done_at(__func__, __FILE__, __LINE__)
static void checks_done_at(const char *test, const char *file, int line)
{
    int failed = W.failed;
    if (failed)
        server_died(&W.srv);
    print_message("%s: %d checks, %d failed\n", test, W.checks, failed);
    W.total_checks += W.checks;
    W.total_failed += failed;
    W.checks = W.failed = W.printed = 0;
    if (failed)
        _fail(file, line);
}

static bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static void res_free(struct http_res *r)
{
    free(r->body);
    free(r->head);
    r->body = r->head = NULL;
}

/* method path on 127.0.0.1:port, with hdrs (NULL-terminated header lines, may be NULL) and a
 * body (NULL: none). The path goes out as written (no dot-segment removal). A 500 is a failed
 * check whatever the caller expected: bad input never gives 500. */
static struct http_res http_at(uint16_t port, const char *method, const char *path,
                               const char *const *hdrs, const char *body, size_t body_len)
{
    struct http_res r = {.status = -1};
    snprintf(r.what, sizeof r.what, "%s %.120s", method, path);
    FILE *fb = open_memstream(&r.body, &r.len), *fh = open_memstream(&r.head, &r.hlen);
    char url[2400];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    struct curl_slist *sl = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; hdrs && hdrs[i]; i++)
        sl = curl_slist_append(sl, hdrs[i]);
    if (body)
        sl = curl_slist_append(sl, "Content-Type: application/json");
    CURL *c = W.curl;
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, sl);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, fb);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, fh);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 15000L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    else /* the reason, where messages show the body */
        fprintf(fb, "(no answer: %s)", curl_easy_strerror(rc));
    curl_slist_free_all(sl);
    fclose(fb);
    fclose(fh);
    if (r.status == 500)
        CHECK(false, "%s answered 500: %.300s", r.what, r.body);
    return r;
}

static struct http_res req(const char *method, const char *path, const char *body)
{
    return http_at(W.srv.port, method, path, NULL, body, body ? strlen(body) : 0);
}

static struct http_res getf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static struct http_res getf(const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return req("GET", path, NULL);
}

/* Header name of the last response (after any 1xx), copied to out; NULL when absent. */
static const char *header(const struct http_res *r, const char *name, char *out, size_t size)
{
    const char *block = r->head, *p;
    for (p = r->head; p && (p = strstr(p, "HTTP/")); p++)
        if (p == r->head || p[-1] == '\n')
            block = p;
    size_t nl = strlen(name);
    for (p = block; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
            continue;
        const char *v = p + nl + 1, *end = strpbrk(v, "\r\n");
        while (*v == ' ')
            v++;
        size_t len = end ? (size_t)(end - v) : strlen(v);
        snprintf(out, size, "%.*s", (int)len, v);
        return out;
    }
    return NULL;
}

/* ---- JSON ------------------------------------------------------------------------------ */

enum jk {
    JK_STR,
    JK_INT,
    JK_BOOL,
    JK_NULL,
    JK_OBJ,
    JK_ARR,
    JK_TIME,
    JK_STR_NULL,
    JK_INT_NULL,
    JK_OBJ_NULL,
    JK_TIME_NULL
};
static const char *const JK_NAME[] = {"string",
                                      "integer",
                                      "boolean",
                                      "null",
                                      "object",
                                      "array",
                                      "ISO 8601 string",
                                      "string or null",
                                      "integer or null",
                                      "object or null",
                                      "ISO 8601 string or null"};

static bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS", then optionally ".f+", then optionally "Z" or "+HH:MM"/"-HH:MM". */
static bool iso_ok(const char *s)
{
    if (!s || strlen(s) < 19 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2) || s[10] != 'T' || !digits(s + 11, 2) || s[13] != ':' ||
        !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
        return false;
    s += 19;
    if (*s == '.' && digits(s + 1, 1))
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    if (*s == 'Z')
        s++;
    else if ((*s == '+' || *s == '-') && digits(s + 1, 2) && s[3] == ':' && digits(s + 4, 2))
        s += 6;
    return *s == '\0';
}

static bool jk_is(const json_t *v, enum jk k)
{
    switch (k) {
    case JK_STR:
        return json_is_string(v);
    case JK_INT:
        return json_is_integer(v);
    case JK_BOOL:
        return json_is_boolean(v);
    case JK_NULL:
        return json_is_null(v);
    case JK_OBJ:
        return json_is_object(v);
    case JK_ARR:
        return json_is_array(v);
    case JK_TIME:
        return json_is_string(v) && iso_ok(json_string_value(v));
    case JK_STR_NULL:
        return json_is_null(v) || json_is_string(v);
    case JK_INT_NULL:
        return json_is_null(v) || json_is_integer(v);
    case JK_OBJ_NULL:
        return json_is_null(v) || json_is_object(v);
    case JK_TIME_NULL:
        return json_is_null(v) || jk_is(v, JK_TIME);
    }
    return false;
}

/* The value as short text, for messages (static). */
static const char *jtext(const json_t *v)
{
    static char out[4][160];
    static int turn;
    char *o = out[turn++ % 4];
    char *s = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    snprintf(o, sizeof out[0], "%s", s ? s : "(missing)");
    free(s);
    return o;
}

/* Field name of obj, checked to be there with kind k; NULL when it is not (then a failed
 * check naming where and what). ctx says whose field it is. */
#define JF(obj, name, k, ctx) jf_at((obj), (name), (k), (ctx), __FILE__, __LINE__)
static json_t *jf_at(json_t *obj, const char *name, enum jk k, const char *ctx, const char *file,
                     int line)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
    bool ok = v && jk_is(v, k);
    check_at(ok, file, line, "%s.%s is %s, want %s", ctx, name, jtext(v), JK_NAME[k]);
    return ok ? v : NULL;
}

static const char *jstr(const json_t *v)
{
    return json_string_value(v);
}

/* The body as JSON (a check); NULL when it is not. */
static json_t *body_json_at(const struct http_res *r, const char *file, int line)
{
    json_error_t e;
    json_t *j = r->body ? json_loadb(r->body, r->len, JSON_DECODE_ANY, &e) : NULL;
    check_at(j != NULL, file, line, "%s: body is not JSON (%s): %.200s", r->what, j ? "" : e.text,
             r->body ? r->body : "");
    return j;
}

/* status is want, the content type JSON and the body JSON: the body (new), or NULL. */
#define EXPECT_JSON(r, want) expect_json_at((r), (want), __FILE__, __LINE__)
static json_t *expect_json_at(const struct http_res *r, long want, const char *file, int line)
{
    char ct[200];
    check_at(r->status == want, file, line, "%s: status %ld, want %ld: %.300s", r->what, r->status,
             want, r->body ? r->body : "");
    if (r->status != want)
        return NULL;
    const char *t = header(r, "Content-Type", ct, sizeof ct);
    check_at(t && strncmp(t, "application/json", 16) == 0, file, line,
             "%s: Content-Type %s, want application/json", r->what, t ? t : "(none)");
    return body_json_at(r, file, line);
}

/* An error answer: status want, JSON {"detail": non-empty string} naming word (if not NULL).
 * Frees r. */
#define EXPECT_ERROR(r, want, word) expect_error_at((r), (want), (word), __FILE__, __LINE__)
static void expect_error_at(struct http_res r, long want, const char *word, const char *file,
                            int line)
{
    json_t *j = expect_json_at(&r, want, file, line);
    if (j) {
        const char *d = jstr(json_object_get(j, "detail"));
        check_at(d && *d, file, line, "%s: no {\"detail\": string}: %.300s", r.what, r.body);
        if (d && word)
            check_at(strstr(d, word) != NULL, file, line, "%s: detail \"%s\" does not name %s",
                     r.what, d, word);
    }
    json_decref(j);
    res_free(&r);
}

/* ---- servers --------------------------------------------------------------------------- */

static void print_log_tail(const struct server *s)
{
    FILE *f = fopen(s->log, "rb");
    if (!f)
        return;
    char buf[3001];
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size > 3000 ? size - 3000 : 0, SEEK_SET);
    size_t n = fread(buf, 1, 3000, f);
    buf[n] = '\0';
    fclose(f);
    print_error("---- last lines of %s\n%s\n----\n", s->log, buf);
}

static bool log_has(const struct server *s, const char *text)
{
    FILE *f = fopen(s->log, "rb");
    char line[4096];
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = strstr(line, text) != NULL;
    if (f)
        fclose(f);
    return found;
}

/* Starts spoor-server as name: this run's bucket through the AWS_* variables (the RGW), an
 * empty root under the temporary directory, a free port, indexing every 200 ms, plus extra
 * ("NAME=value", NULL-terminated). Waits (15 s at most) until /ready answers 200. */
static void server_start(struct server *s, const char *name, const char *const *extra,
                         const char *token)
{
    memset(s, 0, sizeof *s);
    s->token = token;
    snprintf(s->root, sizeof s->root, "%s/%s-root", W.tmp, name);
    snprintf(s->log, sizeof s->log, "%s/%s.log", W.tmp, name);
    assert_int_equal(mkdir(s->root, 0700), 0);
    s->port = loopback_free_port();
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    char **env = calloc(n + 16, sizeof *env);
    assert_non_null(env);
    for (size_t i = 0; i < n; i++) /* the server's own settings come only from here */
        if (strncmp(environ[i], "BURR_", 5) != 0 && strncmp(environ[i], "SPOOR_", 6) != 0)
            env[k++] = strdup(environ[i]);
    assert_true(asprintf(&env[k++], "BURR_S3_BUCKET=%s", W.bucket) > 0);
    assert_true(asprintf(&env[k++], "BURR_SERVER_ROOT=%s", s->root) > 0);
    assert_true(asprintf(&env[k++], "SPOOR_PORT=%u", (unsigned)s->port) > 0);
    env[k++] = strdup("SPOOR_HOST=127.0.0.1");
    env[k++] = strdup("BURR_UPDATE_INTERVAL_MILLISECONDS=200");
    if (token)
        assert_true(asprintf(&env[k++], "SPOOR_AUTH_TOKEN=%s", token) > 0);
    for (size_t i = 0; extra && extra[i] && k < n + 15; i++)
        env[k++] = strdup(extra[i]);
    int fd = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    char *argv[] = {SPOOR_SERVER_BIN, NULL};
    pid_t pid = fork(); /* the child only calls async-signal-safe functions before execve */
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* no server outlives a crashed test */
        dup2(fd, 1);
        dup2(fd, 2);
        execve(argv[0], argv, env);
        _exit(127);
    }
    close(fd);
    for (size_t i = 0; i < k; i++)
        free(env[i]);
    free(env);
    assert_true(pid > 0);
    s->pid = pid;

    char auth[64];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token ? token : "");
    const char *hdrs[] = {auth, NULL};
    for (int64_t until = now_ms() + 15000; now_ms() < until; sleep_ms(50)) {
        struct http_res r = http_at(s->port, "GET", "/ready", token ? hdrs : NULL, NULL, 0);
        long st = r.status;
        res_free(&r);
        if (st == 200)
            return;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            s->pid = 0;
            print_log_tail(s);
            fail_msg("spoor-server (%s) exited with status %d before it was ready", name,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
        }
    }
    print_log_tail(s);
    fail_msg("spoor-server (%s) did not answer GET /ready with 200 within 15 s", name);
}

/* Reports (with the end of its log) a server that has exited on its own. */
static void server_died(struct server *s)
{
    int status;
    if (s->pid <= 0 || waitpid(s->pid, &status, WNOHANG) != s->pid)
        return;
    s->pid = 0;
    print_error("spoor-server on port %u exited by itself: %s %d\n", (unsigned)s->port,
                WIFEXITED(status) ? "status" : "signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    print_log_tail(s);
}

/* SIGTERM, then up to 20 s for a clean exit (a final snapshot may be uploading), then SIGKILL.
 * Returns the exit status (128 + signal when killed). */
static int server_stop(struct server *s)
{
    if (s->pid <= 0)
        return 0;
    int status = 0;
    kill(s->pid, SIGTERM);
    for (int64_t until = now_ms() + 20000; now_ms() < until; sleep_ms(20))
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, &status, 0);
    s->pid = 0;
    return 128 + SIGKILL;
}

/* ---- the seed -------------------------------------------------------------------------- */

static void big_step(struct spoor_app *a, int s, int *bad)
{
    char inputs[32], span[32], nested[32], value[16], result[32], state[32];
    const char *action = s == 7 ? "fail" : "work";
    snprintf(inputs, sizeof inputs, "{\"i\":%d}", s);
    snprintf(span, sizeof span, "%d:0", s);
    snprintf(nested, sizeof nested, "%d:0.0", s);
    snprintf(value, sizeof value, "%d", s);
    snprintf(result, sizeof result, "{\"n\":%d}", s);
    snprintf(state, sizeof state, "{\"n\":%d}", s);
    *bad += spoor_step_begin(a, s, action, inputs) != 0;
    *bad += spoor_span_begin(a, s, span, "work.inner", NULL, NULL, 0) != 0;
    if (s % 100 == 50) {
        *bad += spoor_span_begin(a, s, nested, "nested", span, NULL, 0) != 0;
        *bad += spoor_span_end(a, s, nested) != 0;
    }
    *bad += spoor_attribute(a, s, span, "n", value, "{\"unit\":\"count\"}") != 0;
    if (s == 3) {
        *bad += spoor_stream_begin(a, s, NULL) != 0;
        *bad += spoor_stream_first_item(a, s, NULL) != 0;
        *bad += spoor_stream_end(a, s, NULL, 5) != 0;
    }
    *bad += spoor_span_end(a, s, span) != 0;
    *bad += spoor_step_end(a, s, action, s == 7 ? NULL : result, state, s == 7 ? BOOM : NULL) != 0;
}

/* A one-line step: begin, an attribute, end with state (NULL: {"n": s}). */
static void small_step(struct spoor_app *a, int s, const char *state, int *bad)
{
    char n[32];
    snprintf(n, sizeof n, "{\"n\":%d}", s);
    *bad += spoor_step_begin(a, s, "work", "{}") != 0;
    *bad += spoor_attribute(a, s, NULL, "n", n, NULL) != 0;
    *bad += spoor_step_end(a, s, "work", n, state ? state : n, NULL) != 0;
}

static struct spoor_tracker *tracker_start(const char *project)
{
    char spool[400];
    snprintf(spool, sizeof spool, "%s/spool-%s", W.tmp, project);
    struct spoor_tracker_opts o = {.project = project,
                                   .bucket = W.bucket,
                                   .spool_dir = spool,
                                   .flush_interval_ms = 200,
                                   .full_policy = SPOOR_FULL_BLOCK,
                                   .block_ms = 10000};
    struct spoor_tracker *t = NULL;
    struct spoor_error err;
    if (spoor_tracker_new(&o, &t, &err) != 0)
        fail_msg("spoor_tracker_new: %s", err.message);
    return t;
}

static void tracker_flush(struct spoor_tracker *t)
{
    struct spoor_error err;
    struct spoor_tracker_stats st;
    if (spoor_tracker_flush(t, 30000, &err) != 0)
        fail_msg("spoor_tracker_flush: %s", err.message);
    spoor_tracker_stats(t, &st);
    assert_int_equal(st.events_dropped + st.events_refused, 0);
}

static void seed(void)
{
    struct spoor_error err;
    int bad = 0;
    W.trk = tracker_start(PROJECT_A);
    for (size_t i = 0; i < NAPPS_A; i++) {
        const struct seed_app *s = &APPS_A[i];
        struct spoor_app *a = NULL;
        if (spoor_app_new(W.trk, s->id, s->pk, GRAPH, s->parent, s->spawn, &a, &err) != 0)
            fail_msg("spoor_app_new %s: %s", s->id, err.message);
        for (int step = 0; step < s->nsteps; step++) {
            if (streq(s->id, "big"))
                big_step(a, step, &bad);
            else
                small_step(a, step, streq(s->id, "plain") ? PLAIN_STATE : NULL, &bad);
        }
        if (streq(s->id, "plain"))
            W.plain = a;
    }
    tracker_flush(W.trk);

    struct spoor_tracker *b = tracker_start(PROJECT_B);
    for (int i = 0; i < NPAGED; i++) {
        char id[32];
        struct spoor_app *a = NULL;
        snprintf(id, sizeof id, "page-%02d", i);
        if (spoor_app_new(b, id, i % 2 ? "p_odd" : NULL, GRAPH, NULL, NULL, &a, &err) != 0)
            fail_msg("spoor_app_new %s: %s", id, err.message);
        small_step(a, 0, NULL, &bad);
    }
    tracker_flush(b);
    assert_int_equal(spoor_tracker_free(b, 30000), 0);
    assert_int_equal(bad, 0);

    /* One object outside the layout: skipped and counted (/metrics), nothing else. */
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT,
                             .bucket = W.bucket,
                             .key = "data/" PROJECT_A "/stray/object",
                             .body = {.data = "x", .len = 1}};
    struct spoor_s3_result res;
    int rc = spoor_s3_exec(W.s3, &op, &res, &err);
    spoor_s3_result_cleanup(&res);
    if (rc)
        fail_msg("PUT stray object: %s", err.message);
}

static int expected_steps(const char *app_id)
{
    for (size_t i = 0; i < NAPPS_A; i++)
        if (streq(APPS_A[i].id, app_id))
            return APPS_A[i].nsteps;
    return -1;
}

/* The element of array arr whose field name is the string value; NULL when none. */
static json_t *find_by(json_t *arr, const char *name, const char *value)
{
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        if (streq(jstr(json_object_get(e, name)), value))
            return e;
    }
    return NULL;
}

/* Whether the index shows the whole seed: both projects with all their apps, every app of A
 * with all its steps. */
static bool seed_indexed(char *why, size_t size)
{
    struct http_res r = getf("/api/v0/projects");
    json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    json_t *a = find_by(j, "name", PROJECT_A), *b = find_by(j, "name", PROJECT_B);
    bool ok = a && b && json_integer_value(json_object_get(a, "num_apps")) == (json_int_t)NAPPS_A &&
              json_integer_value(json_object_get(b, "num_apps")) == NPAGED;
    snprintf(why, size, "GET /api/v0/projects: %ld %.300s", r.status, r.body);
    json_decref(j);
    res_free(&r);
    if (!ok)
        return false;
    r = getf("/api/v0/%s/__none__/apps", PROJECT_A);
    j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
    json_t *apps = json_object_get(j, "applications");
    size_t i;
    json_t *e;
    json_array_foreach(apps, i, e)
    {
        const char *id = jstr(json_object_get(e, "app_id"));
        ok = ok && json_integer_value(json_object_get(e, "num_steps")) == expected_steps(id);
    }
    ok = ok && json_array_size(apps) == NAPPS_A;
    snprintf(why, size, "GET /api/v0/%s/__none__/apps: %ld %.300s", PROJECT_A, r.status, r.body);
    json_decref(j);
    res_free(&r);
    return ok;
}

/* ---- 1. seed, start, wait -------------------------------------------------------------- */

static void test_seed_and_index(void **state)
{
    seed();
    const char *extra[] = {"SPOOR_SNAPSHOT_ON_EXIT=true", "BURR_LOAD_SNAPSHOT_ON_START=false",
                           NULL};
    server_start(&W.srv, "first", extra, NULL);
    char why[600] = "";
    bool ok = false;
    int64_t t0 = now_ms();
    while (!(ok = seed_indexed(why, sizeof why)) && now_ms() - t0 < INDEX_WAIT_MS)
        sleep_ms(200);
    CHECK(ok, "the seed was not indexed within %d ms; last answer: %s", INDEX_WAIT_MS, why);
    if (ok)
        print_message("seed indexed %lld ms after the server was ready\n",
                      (long long)(now_ms() - t0));
    checks_done();
}

/* ---- 2. service endpoints -------------------------------------------------------------- */

static void test_service_endpoints(void **state)
{
    struct http_res r = getf("/ready");
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(json_is_true(JF(j, "ready", JK_BOOL, "/ready")), "/ready: %s", r.body);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/ready");
    j = EXPECT_JSON(&r, 200);
    CHECK(json_is_true(j), "/api/v0/ready is %s, want true", r.body);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/version");
    j = EXPECT_JSON(&r, 200);
    const char *v = jstr(JF(j, "version", JK_STR, "version"));
    CHECK(v && *v, "version is empty");
    json_decref(j), res_free(&r);

    r = getf("/api/v0/metadata/app_spec");
    j = EXPECT_JSON(&r, 200);
    static const struct {
        const char *name;
        bool want;
    } spec[] = {{"indexing", true},
                {"snapshotting", true},
                {"supports_demos", false},
                {"supports_annotations", true}};
    for (size_t i = 0; i < 4; i++) {
        json_t *f = JF(j, spec[i].name, JK_BOOL, "app_spec");
        CHECK(f && json_is_true(f) == spec[i].want, "app_spec.%s is %s", spec[i].name, jtext(f));
    }
    CHECK(json_object_size(j) == 4, "app_spec has %zu fields, want 4: %s", json_object_size(j),
          r.body);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 3. projects ----------------------------------------------------------------------- */

static void test_projects(void **state)
{
    struct http_res r = getf("/api/v0/projects");
    json_t *j = EXPECT_JSON(&r, 200), *p;
    CHECK(json_is_array(j), "projects is not an array: %.200s", r.body);
    size_t i;
    const char *prev = NULL;
    json_array_foreach(j, i, p)
    {
        const char *name = jstr(JF(p, "name", JK_STR, "project"));
        CHECK(streq(jstr(JF(p, "id", JK_STR, "project")), name), "project %s: id differs", name);
        const char *lw = jstr(JF(p, "last_written", JK_TIME, "project"));
        JF(p, "created", JK_TIME, "project");
        JF(p, "num_apps", JK_INT, "project");
        JF(p, "uri", JK_STR, "project");
        CHECK(!prev || !lw || strcmp(prev, lw) >= 0, "projects not newest first: %s before %s",
              prev, lw);
        prev = lw;
    }
    CHECK(json_array_size(j) == 2, "%zu projects, want 2", json_array_size(j));
    static const struct {
        const char *name;
        int apps;
    } want[] = {{PROJECT_A, (int)NAPPS_A}, {PROJECT_B, NPAGED}};
    for (size_t k = 0; k < 2; k++) {
        p = find_by(j, "name", want[k].name);
        CHECK(p != NULL, "project %s missing", want[k].name);
        char uri[200];
        snprintf(uri, sizeof uri, "s3://%s/data/%s/", W.bucket, want[k].name);
        CHECK(json_integer_value(json_object_get(p, "num_apps")) == want[k].apps,
              "%s: num_apps %s, want %d", want[k].name, jtext(json_object_get(p, "num_apps")),
              want[k].apps);
        CHECK(streq(jstr(json_object_get(p, "uri")), uri), "%s: uri %s, want %s", want[k].name,
              jtext(json_object_get(p, "uri")), uri);
    }
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 4. applications: partitions, summaries, pages ------------------------------------- */

/* A PointerModel: {"type":"pointer_data","app_id","sequence_id","partition_key"}. */
static void check_pointer(json_t *p, const char *ctx, const char *app_id, const char *pk,
                          int64_t seq)
{
    CHECK(streq(jstr(JF(p, "type", JK_STR, ctx)), "pointer_data"), "%s.type", ctx);
    CHECK(streq(jstr(JF(p, "app_id", JK_STR, ctx)), app_id), "%s.app_id is not %s", ctx, app_id);
    json_t *s = JF(p, "sequence_id", JK_INT_NULL, ctx);
    CHECK(json_integer_value(s) == seq, "%s.sequence_id %s, want %lld", ctx, jtext(s),
          (long long)seq);
    json_t *k = JF(p, "partition_key", JK_STR_NULL, ctx);
    CHECK(pk ? streq(jstr(k), pk) : json_is_null(k), "%s.partition_key %s", ctx, jtext(k));
}

/* An ApplicationSummary's fields and types; its app_id. */
static const char *check_summary(json_t *s)
{
    const char *id = jstr(JF(s, "app_id", JK_STR, "summary"));
    char ctx[80];
    snprintf(ctx, sizeof ctx, "summary %s", id ? id : "?");
    JF(s, "partition_key", JK_STR_NULL, ctx);
    const char *fw = jstr(JF(s, "first_written", JK_TIME, ctx));
    const char *lw = jstr(JF(s, "last_written", JK_TIME, ctx));
    CHECK(!fw || !lw || strcmp(fw, lw) <= 0, "%s: first_written %s after last_written %s", ctx, fw,
          lw);
    JF(s, "num_steps", JK_INT, ctx);
    json_t *tags = JF(s, "tags", JK_OBJ, ctx);
    CHECK(json_object_size(tags) == 0, "%s: tags %s, want {}", ctx, jtext(tags));
    JF(s, "parent_pointer", JK_OBJ_NULL, ctx);
    JF(s, "spawning_parent_pointer", JK_OBJ_NULL, ctx);
    return id;
}

/* An ApplicationPage with nrows rows of total, has_another_page more; its applications. */
static json_t *check_page(json_t *page, const char *ctx, size_t nrows, int total, bool more)
{
    json_t *apps = JF(page, "applications", JK_ARR, ctx);
    json_t *t = JF(page, "total", JK_INT, ctx), *m = JF(page, "has_another_page", JK_BOOL, ctx);
    CHECK(json_array_size(apps) == nrows, "%s: %zu applications, want %zu", ctx,
          json_array_size(apps), nrows);
    CHECK(json_integer_value(t) == total, "%s: total %s, want %d", ctx, jtext(t), total);
    CHECK(m && json_is_true(m) == more, "%s: has_another_page %s", ctx, jtext(m));
    CHECK(json_object_size(page) == 3, "%s: %zu fields, want 3", ctx, json_object_size(page));
    const char *prev = NULL;
    size_t i;
    json_t *s;
    json_array_foreach(apps, i, s)
    {
        check_summary(s);
        const char *lw = jstr(json_object_get(s, "last_written"));
        CHECK(!prev || !lw || strcmp(prev, lw) >= 0, "%s: not newest first (%s before %s)", ctx,
              prev, lw);
        prev = lw;
    }
    return apps;
}

static void test_apps_partitions(void **state)
{
    struct http_res r = getf("/api/v0/%s/user_1/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200), *s;
    json_t *apps = check_page(j, "user_1 page", 3, 3, false);
    size_t i;
    json_array_foreach(apps, i, s)
    {
        const char *id = jstr(json_object_get(s, "app_id"));
        CHECK(id && strncmp(id, "u1-", 3) == 0, "user_1 lists %s", id);
        CHECK(streq(jstr(json_object_get(s, "partition_key")), "user_1"), "%s: partition_key %s",
              id, jtext(json_object_get(s, "partition_key")));
    }
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    apps = check_page(j, "__none__ page", NAPPS_A, NAPPS_A, false);
    for (size_t k = 0; k < NAPPS_A; k++) {
        const struct seed_app *a = &APPS_A[k];
        s = find_by(apps, "app_id", a->id);
        CHECK(s != NULL, "__none__ does not list %s", a->id);
        if (!s)
            continue;
        char ctx[80];
        json_t *pk = json_object_get(s, "partition_key");
        CHECK(a->pk ? streq(jstr(pk), a->pk) : json_is_null(pk), "%s: partition_key %s", a->id,
              jtext(pk));
        CHECK(json_integer_value(json_object_get(s, "num_steps")) == a->nsteps,
              "%s: num_steps %s, want %d", a->id, jtext(json_object_get(s, "num_steps")),
              a->nsteps);
        json_t *pp = json_object_get(s, "parent_pointer");
        json_t *sp = json_object_get(s, "spawning_parent_pointer");
        snprintf(ctx, sizeof ctx, "%s.parent_pointer", a->id);
        if (a->parent)
            check_pointer(pp, ctx, "big", NULL, a->parent->sequence_id);
        else
            CHECK(json_is_null(pp), "%s is %s, want null", ctx, jtext(pp));
        snprintf(ctx, sizeof ctx, "%s.spawning_parent_pointer", a->id);
        if (a->spawn)
            check_pointer(sp, ctx, "big", NULL, a->spawn->sequence_id);
        else
            CHECK(json_is_null(sp), "%s is %s, want null", ctx, jtext(sp));
    }
    json_decref(j), res_free(&r);
    checks_done();
}

static void test_apps_paging(void **state)
{
    static const struct {
        int offset;
        size_t rows;
        bool more;
    } pages[] = {{0, 10, true}, {10, 10, true}, {20, 5, false}};
    char seen[NPAGED] = {0};
    const char *floor_lw = NULL;
    json_t *keep[3] = {NULL};
    for (size_t p = 0; p < 3; p++) {
        char ctx[64];
        snprintf(ctx, sizeof ctx, "page offset=%d", pages[p].offset);
        struct http_res r =
            getf("/api/v0/%s/__none__/apps?limit=10&offset=%d", PROJECT_B, pages[p].offset);
        keep[p] = EXPECT_JSON(&r, 200);
        json_t *apps = check_page(keep[p], ctx, pages[p].rows, NPAGED, pages[p].more), *s;
        size_t i;
        json_array_foreach(apps, i, s)
        {
            const char *id = jstr(json_object_get(s, "app_id"));
            int n = id && strncmp(id, "page-", 5) == 0 ? atoi(id + 5) : -1;
            CHECK(n >= 0 && n < NPAGED, "%s lists %s", ctx, id);
            if (n >= 0 && n < NPAGED) {
                CHECK(!seen[n], "%s: %s was on an earlier page too", ctx, id);
                seen[n] = 1;
                json_t *pk = json_object_get(s, "partition_key");
                CHECK(n % 2 ? streq(jstr(pk), "p_odd") : json_is_null(pk), "%s: partition_key %s",
                      id, jtext(pk));
            }
            const char *lw = jstr(json_object_get(s, "last_written"));
            CHECK(!floor_lw || !lw || strcmp(floor_lw, lw) >= 0,
                  "%s: %s written %s, after the previous page's last %s", ctx, id, lw, floor_lw);
            if (i + 1 == json_array_size(apps))
                floor_lw = lw;
        }
        res_free(&r);
    }
    int nseen = 0;
    for (int i = 0; i < NPAGED; i++)
        nseen += seen[i];
    CHECK(nseen == NPAGED, "the three pages list %d distinct apps, want %d", nseen, NPAGED);
    for (size_t p = 0; p < 3; p++)
        json_decref(keep[p]);

    struct http_res r = getf("/api/v0/%s/__none__/apps", PROJECT_B); /* limit 100 by default */
    json_t *j = EXPECT_JSON(&r, 200);
    check_page(j, "default limit", NPAGED, NPAGED, false);
    json_decref(j), res_free(&r);
    r = getf("/api/v0/%s/p_odd/apps?limit=5&offset=10", PROJECT_B);
    j = EXPECT_JSON(&r, 200);
    check_page(j, "p_odd offset=10", 2, NPAGED / 2, false);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 5. the application view ----------------------------------------------------------- */

enum cat { C_ORDER, C_START, C_END, C_EXC, C_SPANS, C_NESTED, C_ATTRS, C_STREAMS, NCAT };
static const char *const CAT_NAME[NCAT] = {"order",      "step_start_log",  "step_end_log",
                                           "exception",  "spans",           "nested spans",
                                           "attributes", "streaming_events"};
struct tally {
    int bad[NCAT], first[NCAT];
    char why[NCAT][200];
};

static void tally(struct tally *t, enum cat c, int step, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void tally(struct tally *t, enum cat c, int step, bool ok, const char *fmt, ...)
{
    if (ok || t->bad[c]++)
        return;
    t->first[c] = step;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->why[c], sizeof t->why[c], fmt, ap);
    va_end(ap);
}

static bool sv(json_t *o, const char *name, const char *want)
{
    return streq(jstr(json_object_get(o, name)), want);
}

static bool iv(json_t *o, const char *name, json_int_t want)
{
    json_t *v = json_object_get(o, name);
    return json_is_integer(v) && json_integer_value(v) == want;
}

static bool tv(json_t *o, const char *name)
{
    return jk_is(json_object_get(o, name), JK_TIME);
}

/* A span of step s: begin_span/end_span with span_id id, name, parent (NULL: null). */
static bool span_ok(json_t *sp, int s, const char *id, const char *name, const char *parent)
{
    json_t *b = json_object_get(sp, "begin_entry"), *e = json_object_get(sp, "end_entry");
    json_t *par = json_object_get(b, "parent_span_id");
    return sv(b, "type", "begin_span") && tv(b, "start_time") && iv(b, "action_sequence_id", s) &&
           sv(b, "span_id", id) && sv(b, "span_name", name) &&
           (parent ? streq(jstr(par), parent) : json_is_null(par)) &&
           json_is_array(json_object_get(b, "span_dependencies")) && sv(e, "type", "end_span") &&
           tv(e, "end_time") && iv(e, "action_sequence_id", s) && sv(e, "span_id", id);
}

/* Step s of the big app as big_step() logged it. */
static void check_big_step(json_t *st, int s, struct tally *t)
{
    char in[32], id[32], nid[32];
    const char *action = s == 7 ? "fail" : "work";
    snprintf(id, sizeof id, "%d:0", s);
    snprintf(nid, sizeof nid, "%d:0.0", s);
    json_t *b = json_object_get(st, "step_start_log"), *e = json_object_get(st, "step_end_log");
    tally(t, C_ORDER, s, iv(b, "sequence_id", s), "steps[%d] has sequence_id %s", s,
          jtext(json_object_get(b, "sequence_id")));
    char *inputs = json_dumps(json_object_get(b, "inputs"), JSON_COMPACT);
    snprintf(in, sizeof in, "{\"i\":%d}", s);
    tally(t, C_START, s,
          sv(b, "type", "begin_entry") && tv(b, "start_time") && sv(b, "action", action) &&
              streq(inputs, in) && json_object_size(st) == 5,
          "%s", jtext(b));
    free(inputs);
    json_t *res = json_object_get(e, "result"), *state = json_object_get(e, "state");
    tally(t, C_END, s,
          sv(e, "type", "end_entry") && tv(e, "end_time") && sv(e, "action", action) &&
              iv(e, "sequence_id", s) && iv(state, "n", s) &&
              (s == 7 ? json_is_null(res) : iv(res, "n", s)),
          "%s", jtext(e));
    json_t *exc = json_object_get(e, "exception");
    tally(t, C_EXC, s, s == 7 ? streq(jstr(exc), BOOM) : json_is_null(exc), "exception %s",
          jtext(exc));
    json_t *spans = json_object_get(st, "spans");
    bool nested = s % 100 == 50;
    tally(t, C_SPANS, s,
          json_array_size(spans) == (nested ? 2u : 1u) &&
              span_ok(json_array_get(spans, 0), s, id, "work.inner", NULL),
          "%s", jtext(spans));
    if (nested)
        tally(t, C_NESTED, s, span_ok(json_array_get(spans, 1), s, nid, "nested", id), "%s",
              jtext(json_array_get(spans, 1)));
    json_t *attrs = json_object_get(st, "attributes"), *a = json_array_get(attrs, 0);
    tally(t, C_ATTRS, s,
          json_array_size(attrs) == 1 && sv(a, "type", "attribute") && sv(a, "key", "n") &&
              iv(a, "action_sequence_id", s) && sv(a, "span_id", id) && iv(a, "value", s) &&
              sv(json_object_get(a, "tags"), "unit", "count") && tv(a, "time_logged"),
          "%s", jtext(attrs));
    json_t *ev = json_object_get(st, "streaming_events");
    bool streams_ok = json_is_array(ev) && json_array_size(ev) == (s == 3 ? 3u : 0u);
    if (s == 3 && streams_ok) {
        json_t *e0 = json_array_get(ev, 0), *e1 = json_array_get(ev, 1),
               *e2 = json_array_get(ev, 2);
        streams_ok = sv(e0, "type", "begin_stream") && tv(e0, "stream_init_time") &&
                     iv(e0, "action_sequence_id", 3) && sv(e1, "type", "first_item_stream") &&
                     tv(e1, "first_item_time") && sv(e2, "type", "end_stream") &&
                     tv(e2, "end_time") && iv(e2, "items_streamed", 5);
    }
    tally(t, C_STREAMS, s, streams_ok, "%s", jtext(ev));
}

/* The top of an ApplicationLogs: application equal to GRAPH, the five fields. */
static void check_logs_top(json_t *j, const char *ctx)
{
    json_t *app = JF(j, "application", JK_OBJ, ctx);
    json_t *graph = json_loads(GRAPH, 0, NULL);
    CHECK(json_equal(app, graph), "%s: application is not the graph written: %s", ctx, jtext(app));
    json_decref(graph);
    CHECK(sv(app, "type", "application") && sv(app, "entrypoint", "work"), "%s: application", ctx);
    json_t *acts = json_object_get(app, "actions"), *tr = json_object_get(app, "transitions");
    CHECK(json_array_size(acts) == 2 && sv(json_array_get(acts, 1), "name", "fail") &&
              sv(json_array_get(tr, 0), "from_", "work") &&
              sv(json_array_get(tr, 0), "condition", "n == 7"),
          "%s: actions/transitions %s %s", ctx, jtext(acts), jtext(tr));
    JF(j, "children", JK_ARR, ctx);
    JF(j, "steps", JK_ARR, ctx);
    JF(j, "parent_pointer", JK_OBJ_NULL, ctx);
    JF(j, "spawning_parent_pointer", JK_OBJ_NULL, ctx);
    CHECK(json_object_size(j) == 5, "%s: %zu fields, want 5", ctx, json_object_size(j));
}

static void test_app_view_big(void **state)
{
    int64_t t0 = now_ms();
    struct http_res r = getf("/api/v0/%s/big/__none__/apps", PROJECT_A);
    int64_t took = now_ms() - t0;
    json_t *j = EXPECT_JSON(&r, 200);
    print_message("app view of %d steps: %zu bytes in %lld ms\n", BIG_STEPS, r.len,
                  (long long)took);
    check_logs_top(j, "big");
    json_t *steps = json_object_get(j, "steps");
    CHECK(json_array_size(steps) == BIG_STEPS, "big: %zu steps, want %d", json_array_size(steps),
          BIG_STEPS);
    struct tally t;
    memset(&t, 0, sizeof t);
    for (int s = 0; s < BIG_STEPS && s < (int)json_array_size(steps); s++)
        check_big_step(json_array_get(steps, (size_t)s), s, &t);
    for (int c = 0; c < NCAT; c++)
        CHECK(t.bad[c] == 0, "big: %s wrong in %d steps; first step %d: %s", CAT_NAME[c], t.bad[c],
              t.first[c], t.why[c]);
    CHECK(json_is_null(json_object_get(j, "parent_pointer")) &&
              json_is_null(json_object_get(j, "spawning_parent_pointer")),
          "big: pointers should be null");
    /* Events embedded verbatim: Burr's field order, type first. */
    CHECK(r.body && strstr(r.body, "\"step_start_log\":{\"type\":\"begin_entry\",\"start_time\":"),
          "big: step_start_log is not the logged line verbatim");
    CHECK(r.body && strstr(r.body, "\"exception\":\"Traceback (most recent call last):\\n"),
          "big: the exception text is not verbatim");
    json_decref(j), res_free(&r);
    checks_done();
}

/* A ChildApplicationModel of big. */
static void check_child(json_t *children, const char *app_id, const char *event, int64_t seq)
{
    json_t *c = NULL, *e;
    size_t i;
    json_array_foreach(children, i, e)
    {
        if (streq(jstr(json_object_get(json_object_get(e, "child"), "app_id")), app_id))
            c = e;
    }
    CHECK(c != NULL, "big's children do not list %s: %s", app_id, jtext(children));
    if (!c)
        return;
    char ctx[64];
    snprintf(ctx, sizeof ctx, "child %s", app_id);
    CHECK(sv(c, "type", "child_application_data"), "%s: type %s", ctx,
          jtext(json_object_get(c, "type")));
    CHECK(streq(jstr(JF(c, "event_type", JK_STR, ctx)), event), "%s: event_type is not %s", ctx,
          event);
    JF(c, "event_time", JK_TIME, ctx);
    json_t *s = JF(c, "sequence_id", JK_INT_NULL, ctx);
    CHECK(json_integer_value(s) == seq, "%s: sequence_id %s, want %lld", ctx, jtext(s),
          (long long)seq);
    json_t *p = JF(c, "child", JK_OBJ, ctx);
    CHECK(sv(p, "type", "pointer_data") && sv(p, "app_id", app_id) &&
              json_is_null(json_object_get(p, "partition_key")) &&
              jk_is(json_object_get(p, "sequence_id"), JK_INT_NULL),
          "%s: child pointer %s", ctx, jtext(p));
}

static void test_app_view_family(void **state)
{
    struct http_res r = getf("/api/v0/%s/big/__none__/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    json_t *children = json_object_get(j, "children");
    CHECK(json_array_size(children) == 2, "big: %zu children, want 2: %s",
          json_array_size(children), jtext(children));
    check_child(children, "big-fork", "fork", FORK_PTR.sequence_id);
    check_child(children, "big-spawn", "spawn_start", SPAWN_PTR.sequence_id);
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/big-fork/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    check_logs_top(j, "big-fork");
    check_pointer(json_object_get(j, "parent_pointer"), "big-fork.parent_pointer", "big", NULL,
                  FORK_PTR.sequence_id);
    CHECK(json_is_null(json_object_get(j, "spawning_parent_pointer")),
          "big-fork.spawning_parent_pointer is not null");
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "big-fork: not 2 steps");
    CHECK(json_array_size(json_object_get(j, "children")) == 0, "big-fork: has children");
    json_decref(j), res_free(&r);

    r = getf("/api/v0/%s/big-spawn/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    check_pointer(json_object_get(j, "spawning_parent_pointer"),
                  "big-spawn.spawning_parent_pointer", "big", NULL, SPAWN_PTR.sequence_id);
    CHECK(json_is_null(json_object_get(j, "parent_pointer")),
          "big-spawn.parent_pointer is not null");
    json_decref(j), res_free(&r);

    /* A partitioned app: by its key, or by "__none__" (none without a key: the newest with
     * that id); another key is another app, here none. */
    r = getf("/api/v0/%s/u1-b/user_1/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "u1-b: not 2 steps");
    json_decref(j), res_free(&r);
    r = getf("/api/v0/%s/u1-b/__none__/apps", PROJECT_A);
    j = EXPECT_JSON(&r, 200);
    CHECK(json_array_size(json_object_get(j, "steps")) == 2, "u1-b by __none__: not 2 steps");
    json_decref(j), res_free(&r);
    EXPECT_ERROR(getf("/api/v0/%s/u1-b/user_2/apps", PROJECT_A), 404, NULL);
    checks_done();
}

static void test_state_verbatim(void **state)
{
    struct http_res r = getf("/api/v0/%s/plain/__none__/apps", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(r.body && strstr(r.body, "\"state\":" PLAIN_STATE),
          "the state is not byte-identical: "
          "want \"state\":%s in %.400s",
          PLAIN_STATE, r.body ? strstr(r.body, "\"state\"") : "");
    CHECK(r.body && strstr(r.body, "\"x\":0.1}"), "0.1 was re-serialized");
    json_t *st = json_object_get(
        json_object_get(json_array_get(json_object_get(j, "steps"), 0), "step_end_log"), "state");
    CHECK(streq(jstr(json_object_get(st, "greeting")),
                "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80"),
          "greeting is %s", jtext(json_object_get(st, "greeting")));
    CHECK(json_is_real(json_object_get(st, "x")) &&
              json_real_value(json_object_get(st, "x")) == 0.1,
          "x is %s", jtext(json_object_get(st, "x")));
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 6. ETags -------------------------------------------------------------------------- */

static void test_etag(void **state)
{
    char path[200], etag[128] = "", inm[200], tag2[128] = "";
    snprintf(path, sizeof path, "/api/v0/%s/plain/__none__/apps", PROJECT_A);
    struct http_res r = req("GET", path, NULL);
    CHECK(r.status == 200, "%s: %ld", r.what, r.status);
    CHECK(header(&r, "ETag", etag, sizeof etag) &&
              (etag[0] == '"' || strncmp(etag, "W/\"", 3) == 0),
          "%s: ETag %s, want a quoted value", r.what, etag[0] ? etag : "(none)");
    res_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", etag);
    const char *hdrs[] = {inm, NULL};
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 304 && r.len == 0,
          "If-None-Match %s: %ld with %zu bytes, want 304 and "
          "nothing",
          etag, r.status, r.len);
    res_free(&r);

    /* A new step of plain, indexed: a new ETag, and the old one no longer matches. */
    int bad = 0;
    small_step(W.plain, 1, NULL, &bad);
    assert_int_equal(bad, 0);
    tracker_flush(W.trk);
    size_t nsteps = 0;
    int64_t t0 = now_ms();
    for (; nsteps != 2 && now_ms() - t0 < INDEX_WAIT_MS; sleep_ms(100)) {
        r = req("GET", path, NULL);
        json_t *j = r.status == 200 ? json_loads(r.body, 0, NULL) : NULL;
        nsteps = json_array_size(json_object_get(j, "steps"));
        if (nsteps == 2)
            header(&r, "ETag", tag2, sizeof tag2);
        json_decref(j), res_free(&r);
    }
    CHECK(nsteps == 2, "the new step was not shown within %d ms", INDEX_WAIT_MS);
    print_message("new step shown %lld ms after the flush\n", (long long)(now_ms() - t0));
    CHECK(tag2[0] && strcmp(tag2, etag) != 0, "ETag %s did not change (now %s)", etag, tag2);
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 200 && r.len > 0, "old If-None-Match after a change: %ld", r.status);
    res_free(&r);
    snprintf(inm, sizeof inm, "If-None-Match: %s", tag2);
    r = http_at(W.srv.port, "GET", path, hdrs, NULL, 0);
    CHECK(r.status == 304 && r.len == 0, "new If-None-Match: %ld", r.status);
    res_free(&r);
    checks_done();
}

/* ---- 7. indexing jobs ------------------------------------------------------------------ */

static void check_job(json_t *job, bool nonempty)
{
    json_t *id = JF(job, "id", JK_INT, "job");
    char ctx[64];
    snprintf(ctx, sizeof ctx, "job %lld", (long long)json_integer_value(id));
    JF(job, "start_time", JK_TIME, ctx);
    JF(job, "end_time", JK_TIME_NULL, ctx);
    const char *st = jstr(JF(job, "status", JK_STR, ctx));
    CHECK(streq(st, "SUCCESS") || streq(st, "FAILURE") || streq(st, "RUNNING"), "%s: status %s",
          ctx, st);
    json_t *n = JF(job, "records_processed", JK_INT, ctx);
    CHECK(!nonempty || json_integer_value(n) > 0, "%s: records_processed %s with filter_empty", ctx,
          jtext(n));
    json_t *m = JF(job, "metadata", JK_OBJ, ctx);
    JF(m, "project", JK_STR, ctx);
    JF(m, "s3_highwatermark", JK_STR, ctx);
}

/* GET path: the jobs (new), checked. */
static json_t *jobs(const char *query, bool nonempty)
{
    struct http_res r = getf("/api/v0/indexing_jobs%s", query);
    json_t *j = EXPECT_JSON(&r, 200), *job;
    CHECK(json_is_array(j), "%s: not an array", r.what);
    size_t i;
    json_int_t prev = INT64_MAX;
    json_array_foreach(j, i, job)
    {
        check_job(job, nonempty);
        json_int_t id = json_integer_value(json_object_get(job, "id"));
        CHECK(id < prev, "%s: not newest first (id %lld after %lld)", r.what, (long long)id,
              (long long)prev);
        prev = id;
    }
    res_free(&r);
    return j;
}

static void test_indexing_jobs(void **state)
{
    json_t *all = jobs("", true); /* filter_empty=true by default */
    CHECK(json_array_size(all) >= 2, "%zu non-empty jobs, want one per project at least",
          json_array_size(all));
    bool saw_a = false;
    size_t i;
    json_t *job;
    json_array_foreach(all, i, job)
    {
        json_t *m = json_object_get(job, "metadata");
        if (sv(m, "project", PROJECT_A) && sv(job, "status", "SUCCESS")) {
            saw_a = true;
            const char *w = jstr(json_object_get(m, "s3_highwatermark"));
            CHECK(w && strncmp(w, "data/" PROJECT_A "/", strlen("data/" PROJECT_A "/")) == 0,
                  "s3_highwatermark %s is not a key of the project", w);
        }
    }
    CHECK(saw_a, "no successful non-empty job of %s", PROJECT_A);
    /* Ticks with nothing new leave empty jobs: within a second there are some. */
    json_t *every = NULL;
    size_t empty = 0;
    for (int64_t t0 = now_ms(); !empty && now_ms() - t0 < 3000; sleep_ms(empty ? 0 : 100)) {
        json_decref(every);
        every = jobs("?filter_empty=false&limit=1000", false);
        json_array_foreach(every, i, job)
        {
            empty += json_integer_value(json_object_get(job, "records_processed")) == 0;
        }
    }
    CHECK(json_array_size(every) > json_array_size(all) && empty > 0,
          "filter_empty=false: %zu jobs (%zu empty) vs %zu non-empty", json_array_size(every),
          empty, json_array_size(all));
    json_decref(every);
    /* Pages: offset/limit slice the same newest-first list. Ticks add jobs every 200 ms, so
     * the three reads are retried when a job landed between them. */
    bool same = false;
    for (int attempt = 0; attempt < 10 && !same; attempt++) {
        sleep_ms(attempt ? 37 : 0);
        json_t *six = jobs("?filter_empty=false&limit=6", false);
        json_t *p1 = jobs("?filter_empty=false&limit=3&offset=0", false);
        json_t *p2 = jobs("?filter_empty=false&limit=3&offset=3", false);
        same = json_array_size(six) == 6 && json_array_size(p1) == 3 && json_array_size(p2) == 3;
        for (size_t k = 0; same && k < 6; k++)
            same = json_equal(json_object_get(json_array_get(six, k), "id"),
                              json_object_get(json_array_get(k < 3 ? p1 : p2, k % 3), "id"));
        json_decref(six), json_decref(p1), json_decref(p2);
    }
    CHECK(same, "limit=3 at offsets 0 and 3 are not the newest six jobs, in 10 tries");
    json_t *one = jobs("?limit=1", true);
    CHECK(json_array_size(one) == 1 && json_equal(json_object_get(json_array_get(one, 0), "id"),
                                                  json_object_get(json_array_get(all, 0), "id")),
          "limit=1 is not the newest non-empty job");
    json_decref(one);
    json_decref(all);
    checks_done();
}

/* ---- 8. metrics ------------------------------------------------------------------------ */

/* The first line of text that is metric name (with or without labels) containing label. */
static const char *metric_line(const char *text, const char *name, const char *label)
{
    size_t nl = strlen(name);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (strncmp(p, name, nl) != 0 || (p[nl] != ' ' && p[nl] != '{'))
            continue;
        if (!label || memmem(p, len, label, strlen(label)))
            return p;
    }
    return NULL;
}

/* The value of the sample line at p (its last field). */
static double sample_value(const char *p)
{
    const char *end = strchr(p, '\n') ? strchr(p, '\n') : p + strlen(p), *v = end;
    while (v > p && v[-1] != ' ')
        v--;
    return strtod(v, NULL);
}

/* The sum of every sample of metric name (labels or not). */
static double metric_sum(const char *text, const char *name)
{
    double sum = 0;
    for (const char *p = text; (p = metric_line(p, name, NULL)); p++)
        sum += sample_value(p);
    return sum;
}

/* The first sample of name with label (NULL: any); -1 when there is none. */
static double metric_value(const char *text, const char *name, const char *label)
{
    const char *p = metric_line(text, name, label);
    return p ? sample_value(p) : -1;
}

static void test_metrics(void **state)
{
    struct http_res r = getf("/metrics");
    char ct[200];
    CHECK(r.status == 200, "/metrics: %ld", r.status);
    const char *t = header(&r, "Content-Type", ct, sizeof ct);
    CHECK(t && strncmp(t, "text/plain", 10) == 0 && strstr(t, "version=0.0.4"),
          "/metrics: Content-Type %s, want text/plain; version=0.0.4", t ? t : "(none)");
    const char *text = r.body ? r.body : "";
    for (size_t i = 0; i < sizeof METRICS / sizeof METRICS[0]; i++) {
        char type[200];
        size_t base = strlen(METRICS[i]);
        if (strstr(METRICS[i], "_seconds_count"))
            base -= strlen("_count"); /* a histogram's TYPE line names the family */
        snprintf(type, sizeof type, "# TYPE %.*s ", (int)base, METRICS[i]);
        CHECK(metric_line(text, METRICS[i], NULL) != NULL, "/metrics has no %s sample", METRICS[i]);
        CHECK(strstr(text, type) != NULL, "/metrics has no \"%s\" line", type);
    }
    /* The values say what happened: the seed's apps and events, one malformed key, requests,
     * S3 traffic, a fresh index for both projects. */
    CHECK(metric_value(text, "spoor_up", NULL) == 1, "spoor_up is not 1");
    CHECK(metric_value(text, "spoor_index_projects", NULL) == 2, "spoor_index_projects %g",
          metric_value(text, "spoor_index_projects", NULL));
    CHECK(metric_value(text, "spoor_index_applications", NULL) == NAPPS_A + NPAGED,
          "spoor_index_applications %g, want %d",
          metric_value(text, "spoor_index_applications", NULL), (int)(NAPPS_A + NPAGED));
    double events = metric_sum(text, "spoor_indexed_events_total");
    CHECK(events >= BIG_STEPS * 5, "spoor_indexed_events_total %g, want the seed's events", events);
    CHECK(metric_sum(text, "spoor_indexed_objects_total") >= NAPPS_A * 3 + NPAGED * 3,
          "spoor_indexed_objects_total %g", metric_sum(text, "spoor_indexed_objects_total"));
    CHECK(metric_sum(text, "spoor_http_requests_total") > 10, "spoor_http_requests_total %g",
          metric_sum(text, "spoor_http_requests_total"));
    CHECK(metric_line(text, "spoor_http_requests_total", "code=\"200\"") != NULL,
          "no spoor_http_requests_total{code=\"200\"}");
    CHECK(metric_sum(text, "spoor_s3_requests_total") > 0, "spoor_s3_requests_total is 0");
    CHECK(metric_value(text, "spoor_index_skipped_total", "reason=\"malformed key\"") >= 1,
          "spoor_index_skipped_total{reason=\"malformed key\"} is %g",
          metric_value(text, "spoor_index_skipped_total", "reason=\"malformed key\""));
    static const char *const projects[] = {"project=\"" PROJECT_A "\"",
                                           "project=\"" PROJECT_B "\""};
    for (size_t i = 0; i < 2; i++) {
        double lag = metric_value(text, "spoor_index_lag_seconds", projects[i]);
        CHECK(lag >= 0 && lag < 30, "spoor_index_lag_seconds{%s} is %g, want a few seconds",
              projects[i], lag);
    }
    if (W.failed)
        print_error("---- /metrics\n%.4000s\n----\n", text);
    res_free(&r);
    checks_done();
}

/* ---- 9. bad input ---------------------------------------------------------------------- */

#define GOOD_ANN "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[],\"observations\":[]}"

static void test_bad_input(void **state)
{
    char longid[514], path[1200];
    static const struct {
        const char *method, *path, *body;
        long status;
        const char *word;
    } bad[] = {
        {"GET", "/api/v0/../__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/a%20b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/x%2Fy/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/a.b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/x%2Fy/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/a%20b/__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/../__none__/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/a%01b/apps", NULL, 400, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/a%5Cb/apps", NULL, 400, NULL},
        {"GET", "/api/v0/nope/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/nope/big/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/" PROJECT_A "/nope/__none__/apps", NULL, 404, NULL},
        {"GET", "/api/v0/nothing/here/x/y/z", NULL, 404, NULL},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=0", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=abc", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?limit=1001", NULL, 400, "limit"},
        {"GET", "/api/v0/" PROJECT_A "/__none__/apps?offset=-1", NULL, 400, "offset"},
        {"GET", "/api/v0/indexing_jobs?filter_empty=maybe", NULL, 400, "filter_empty"},
        {"GET", "/api/v0/indexing_jobs?limit=0", NULL, 400, "limit"},
        {"GET", "/api/v0/indexing_jobs?offset=-1", NULL, 400, "offset"},
        {"GET", "/api/v0/" PROJECT_A "/annotations?step_sequence_id=x", NULL, 400,
         "step_sequence_id"},
        {"POST", "/api/v0/" PROJECT_A "/big/__none__/abc/annotations", GOOD_ANN, 400, NULL},
        {"POST", "/api/v0/" PROJECT_A "/big/__none__/-1/annotations", GOOD_ANN, 400, NULL},
        {"POST", "/api/v0/" PROJECT_A "/nope/__none__/0/annotations", GOOD_ANN, 404, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/abc/update_annotations", GOOD_ANN, 400, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/999999/update_annotations", GOOD_ANN, 404, NULL},
        {"POST", "/api/v0/projects", "{}", 405, NULL},
        {"DELETE", "/api/v0/projects", NULL, 405, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/__none__/apps", "{}", 405, NULL},
        {"GET", "/api/v0/" PROJECT_A "/big/__none__/5/annotations", NULL, 405, NULL},
        {"PUT", "/api/v0/" PROJECT_A "/big/__none__/5/annotations", GOOD_ANN, 405, NULL},
        {"GET", "/api/v0/" PROJECT_A "/0/update_annotations", NULL, 405, NULL},
        {"POST", "/api/v0/" PROJECT_A "/annotations", GOOD_ANN, 405, NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        EXPECT_ERROR(req(bad[i].method, bad[i].path, bad[i].body), bad[i].status, bad[i].word);
    /* Ids of up to 512 bytes are valid (300: well-formed and unknown), 513 are not. */
    static const struct {
        size_t len;
        long status;
    } lens[] = {{300, 404}, {513, 400}};
    for (size_t i = 0; i < 2; i++) {
        memset(longid, 'x', lens[i].len);
        longid[lens[i].len] = '\0';
        snprintf(path, sizeof path, "/api/v0/%s/__none__/apps", longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
        snprintf(path, sizeof path, "/api/v0/%s/%s/__none__/apps", PROJECT_A, longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
        snprintf(path, sizeof path, "/api/v0/%s/big/%s/apps", PROJECT_A, longid);
        EXPECT_ERROR(req("GET", path, NULL), lens[i].status, NULL);
    }

    /* Annotation bodies: the field at fault is named. */
    static const struct {
        const char *body, *word;
    } bodies[] = {
        {"not json{", NULL},
        {"", NULL},
        {"[]", NULL},
        {"{\"span_id\":null,\"tags\":[],\"observations\":[]}", "step_name"},
        {"{\"span_id\":null,\"step_name\":5,\"tags\":[],\"observations\":[]}", "step_name"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":\"x\",\"observations\":[]}", "tags"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[1],\"observations\":[]}", "tags"},
        {"{\"span_id\":7,\"step_name\":\"w\",\"tags\":[],\"observations\":[]}", "span_id"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":{}}", "observations"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "[],\"thumbs_up_thumbs_down\":null,\"data_pointers\":[]}]}",
         "data_fields"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":\"yes\",\"data_pointers\":[]}]}",
         "thumbs_up_thumbs_down"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":\"bogus\","
         "\"field_name\":\"n\",\"span_id\":null}]}]}",
         "type"},
        {"{\"span_id\":null,\"step_name\":\"w\",\"tags\":[],\"observations\":[{\"data_fields\":"
         "{},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":\"attribute\","
         "\"span_id\":null}]}]}",
         "field_name"},
    };
    snprintf(path, sizeof path, "/api/v0/%s/big/__none__/5/annotations", PROJECT_A);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct http_res r =
            http_at(W.srv.port, "POST", path, NULL, bodies[i].body, strlen(bodies[i].body));
        snprintf(r.what, sizeof r.what, "POST annotation %.200s", bodies[i].body);
        EXPECT_ERROR(r, 400, bodies[i].word);
    }
    struct http_res r =
        req("PUT", "/api/v0/" PROJECT_A "/0/update_annotations", "{\"observations\":[]}");
    EXPECT_ERROR(r, 400, "step_name");
    size_t big = 2 * 1024 * 1024;
    char *huge = malloc(big + 1);
    assert_non_null(huge);
    memset(huge, ' ', big);
    memcpy(huge, "{\"step_name\":\"", 14);
    memcpy(huge + big - 2, "\"}", 2);
    huge[big] = '\0';
    r = http_at(W.srv.port, "POST", path, NULL, huge, big);
    free(huge);
    EXPECT_ERROR(r, 413, NULL);

    /* Nothing of that was stored. */
    r = getf("/api/v0/%s/annotations", PROJECT_A);
    json_t *j = EXPECT_JSON(&r, 200);
    CHECK(json_is_array(j) && json_array_size(j) == 0, "annotations after bad input: %s", r.body);
    json_decref(j), res_free(&r);
    checks_done();
}

/* ---- 10. annotations, and their survival through the snapshot --------------------------- */

#define ANN1                                                                                       \
    "{\"span_id\":\"5:0\",\"step_name\":\"work\",\"tags\":[\"good\",\"reviewed\"],"                \
    "\"observations\":[{\"data_fields\":{\"note\":\"fine \xe2\x9c\x93\",\"score\":0.5,"            \
    "\"nested\":{\"k\":[1,2]}},\"thumbs_up_thumbs_down\":true,\"data_pointers\":[{\"type\":"       \
    "\"state_field\",\"field_name\":\"n\",\"span_id\":null},{\"type\":\"attribute\","              \
    "\"field_name\":\"n\",\"span_id\":\"5:0\"}]}]}"
#define ANN2                                                                                       \
    "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[],\"observations\":[{\"data_fields\":"     \
    "{},\"thumbs_up_thumbs_down\":null,\"data_pointers\":[]}]}"
#define ANN3 "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[\"user\"],\"observations\":[]}"
#define ANN1_PUT                                                                                   \
    "{\"span_id\":null,\"step_name\":\"work\",\"tags\":[\"changed\"],\"observations\":"            \
    "[{\"data_fields\":{\"note\":\"second look\"},\"thumbs_up_thumbs_down\":false,"                \
    "\"data_pointers\":[]}]}"
#define ANN2_PUT "{\"step_name\":\"work again\",\"observations\":[]}"

/* An AnnotationOut for body (AnnotationCreate/Update, defaults filled) on app/pk/seq. */
static void check_ann(json_t *out, const char *body, const char *app, const char *pk, int seq)
{
    char ctx[64];
    json_t *want = json_loads(body, 0, NULL);
    assert_non_null(want);
    if (!json_object_get(want, "span_id"))
        json_object_set_new(want, "span_id", json_null());
    if (!json_object_get(want, "tags"))
        json_object_set_new(want, "tags", json_array());
    snprintf(ctx, sizeof ctx, "annotation on %s/%d", app, seq);
    JF(out, "id", JK_INT, ctx);
    CHECK(streq(jstr(JF(out, "project_id", JK_STR, ctx)), PROJECT_A), "%s: project_id", ctx);
    CHECK(streq(jstr(JF(out, "app_id", JK_STR, ctx)), app), "%s: app_id", ctx);
    json_t *k = JF(out, "partition_key", JK_STR_NULL, ctx);
    CHECK(pk ? streq(jstr(k), pk) : json_is_null(k), "%s: partition_key %s", ctx, jtext(k));
    CHECK(json_integer_value(JF(out, "step_sequence_id", JK_INT, ctx)) == seq,
          "%s: step_sequence_id", ctx);
    JF(out, "created", JK_TIME, ctx);
    JF(out, "updated", JK_TIME, ctx);
    JF(out, "span_id", JK_STR_NULL, ctx);
    JF(out, "step_name", JK_STR, ctx);
    JF(out, "tags", JK_ARR, ctx);
    JF(out, "observations", JK_ARR, ctx);
    static const char *const echoed[] = {"span_id", "step_name", "tags", "observations"};
    for (size_t i = 0; i < 4; i++)
        CHECK(json_equal(json_object_get(out, echoed[i]), json_object_get(want, echoed[i])),
              "%s: %s is %s, want %s", ctx, echoed[i], jtext(json_object_get(out, echoed[i])),
              jtext(json_object_get(want, echoed[i])));
    CHECK(json_object_size(out) == 11, "%s: %zu fields, want 11", ctx, json_object_size(out));
    json_decref(want);
}

static json_t *ann_post(const char *app, const char *pk, int seq, const char *body)
{
    char path[300];
    snprintf(path, sizeof path, "/api/v0/%s/%s/%s/%d/annotations", PROJECT_A, app,
             pk ? pk : "__none__", seq);
    struct http_res r = req("POST", path, body);
    json_t *j = EXPECT_JSON(&r, 200);
    check_ann(j, body, app, pk, seq);
    res_free(&r);
    return j;
}

static json_t *ann_put(json_t *old, const char *body, const char *app, const char *pk, int seq)
{
    char path[300];
    json_int_t id = json_integer_value(json_object_get(old, "id"));
    snprintf(path, sizeof path, "/api/v0/%s/%lld/update_annotations", PROJECT_A, (long long)id);
    struct http_res r = req("PUT", path, body);
    json_t *j = EXPECT_JSON(&r, 200);
    check_ann(j, body, app, pk, seq);
    CHECK(json_integer_value(json_object_get(j, "id")) == id, "PUT changed the id");
    CHECK(json_equal(json_object_get(j, "created"), json_object_get(old, "created")),
          "PUT changed created: %s -> %s", jtext(json_object_get(old, "created")),
          jtext(json_object_get(j, "created")));
    const char *u0 = jstr(json_object_get(old, "updated")),
               *u1 = jstr(json_object_get(j, "updated"));
    CHECK(u0 && u1 && strcmp(u1, u0) > 0, "PUT: updated %s -> %s, want later", u0, u1);
    res_free(&r);
    return j;
}

/* GET annotations with query: the array (new), and it equals want (by id, whole objects). */
static json_t *ann_list(const char *query, json_t *const *want, size_t nwant)
{
    struct http_res r = getf("/api/v0/%s/annotations%s", PROJECT_A, query);
    json_t *j = EXPECT_JSON(&r, 200);
    bool same = json_is_array(j) && json_array_size(j) == nwant;
    for (size_t i = 0; same && i < nwant; i++)
        same = json_equal(json_array_get(j, i), want[i]);
    CHECK(same, "annotations%s: %zu, want %zu by id: %.600s", query, json_array_size(j), nwant,
          r.body);
    res_free(&r);
    return j;
}

static void test_annotations_survive_restart(void **state)
{
    json_t *a1 = ann_post("big", NULL, 5, ANN1);
    json_t *a2 = ann_post("big", NULL, 6, ANN2);
    json_t *a3 = ann_post("u1-a", "user_1", 0, ANN3);
    json_int_t i1 = json_integer_value(json_object_get(a1, "id"));
    json_int_t i2 = json_integer_value(json_object_get(a2, "id"));
    json_int_t i3 = json_integer_value(json_object_get(a3, "id"));
    CHECK(i1 < i2 && i2 < i3, "ids %lld %lld %lld do not increase", (long long)i1, (long long)i2,
          (long long)i3);
    sleep_ms(1100); /* "updated" must be able to differ even at a resolution of seconds */
    json_t *b1 = ann_put(a1, ANN1_PUT, "big", NULL, 5);
    json_t *b2 = ann_put(a2, ANN2_PUT, "big", NULL, 6);
    json_decref(a1), json_decref(a2);

    json_t *all[] = {b1, b2, a3}, *big[] = {b1, b2}, *u1[] = {a3};
    json_t *before = ann_list("", all, 3);
    json_decref(ann_list("?app_id=big", big, 2));
    json_decref(ann_list("?app_id=big&partition_key=__none__", big, 2));
    json_decref(ann_list("?partition_key=__none__", big, 2));
    json_decref(ann_list("?app_id=big&step_sequence_id=6", &b2, 1));
    json_decref(ann_list("?app_id=u1-a&partition_key=user_1", u1, 1));
    json_decref(ann_list("?partition_key=user_1", u1, 1));
    json_decref(ann_list("?step_sequence_id=0", u1, 1));
    json_decref(ann_list("?app_id=u1-a&partition_key=__none__", NULL, 0));
    json_decref(ann_list("?app_id=nope", NULL, 0));

    /* SIGTERM with a snapshot on exit; a second server with an empty root restores it. */
    int rc = server_stop(&W.srv);
    CHECK(rc == 0, "the first server exited with %d after SIGTERM", rc);
    const char *extra[] = {"BURR_LOAD_SNAPSHOT_ON_START=true", NULL};
    server_start(&W.srv, "restored", extra, NULL);
    CHECK(log_has(&W.srv, "restored snapshot"), "the second server restored no snapshot");
    json_t *after = ann_list("", all, 3);
    CHECK(json_equal(before, after), "annotations changed across the restart");
    json_decref(ann_list("?app_id=big&step_sequence_id=5", &b1, 1));
    json_decref(before), json_decref(after);
    json_decref(b1), json_decref(b2), json_decref(a3);
    if (W.failed)
        print_log_tail(&W.srv);
    checks_done();
}

/* ---- 11. bearer token ------------------------------------------------------------------ */

static void test_token(void **state)
{
    const char *extra[] = {"BURR_LOAD_SNAPSHOT_ON_START=false", NULL};
    server_start(&W.guard, "token", extra, TOKEN);
    static const char *const paths[] = {"/api/v0/projects", "/metrics", "/ready",
                                        "/api/v0/metadata/app_spec", "/api/v0/indexing_jobs"};
    const char *none[] = {NULL}, *wrong[] = {"Authorization: Bearer wrong", NULL},
               *other[] = {"Authorization: Basic c2VjcmV0", NULL},
               *right[] = {"Authorization: Bearer " TOKEN, NULL};
    const char *const *denied[] = {none, wrong, other};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        for (size_t d = 0; d < 3; d++) {
            struct http_res r = http_at(W.guard.port, "GET", paths[i], denied[d], NULL, 0);
            char wa[200];
            snprintf(r.what, sizeof r.what, "GET %s with %s", paths[i],
                     denied[d][0] ? denied[d][0] : "no Authorization");
            const char *h = header(&r, "WWW-Authenticate", wa, sizeof wa);
            CHECK(h && strncmp(h, "Bearer", 6) == 0, "%s: WWW-Authenticate %s", r.what,
                  h ? h : "(none)");
            EXPECT_ERROR(r, 401, NULL);
        }
        struct http_res r = http_at(W.guard.port, "GET", paths[i], right, NULL, 0);
        CHECK(r.status == 200, "GET %s with the token: %ld %.200s", paths[i], r.status, r.body);
        res_free(&r);
    }
    struct http_res r = http_at(W.guard.port, "GET", "/", NULL, NULL, 0);
    CHECK(r.status != 401, "the UI's index is not public: %ld", r.status);
    res_free(&r);
    int rc = server_stop(&W.guard);
    CHECK(rc == 0, "the token server exited with %d after SIGTERM", rc);
    checks_done();
}

/* ---- setup and teardown ---------------------------------------------------------------- */

static int test_setup(void **state)
{
    W.checks = W.failed = W.printed = 0;
    return 0;
}

static int group_setup(void **state)
{
    struct spoor_s3_config cfg;
    s3_env_config(&cfg);
    /* The tracker and the servers reach the RGW through the AWS chain, as an app would. */
    unsetenv("SPOOR_ROUTES");
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_SESSION_TOKEN");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_DEFAULT_REGION");
    setenv("AWS_ACCESS_KEY_ID", cfg.creds.access_key_id, 1);
    setenv("AWS_SECRET_ACCESS_KEY", cfg.creds.secret_access_key, 1);
    setenv("AWS_REGION", cfg.region, 1);
    setenv("AWS_ENDPOINT_URL", cfg.endpoint_url, 1);
    const char *tmpdir = getenv("TMPDIR");
    snprintf(W.tmp, sizeof W.tmp, "%s/spoor-api-XXXXXX", tmpdir && tmpdir[0] ? tmpdir : "/tmp");
    if (!mkdtemp(W.tmp))
        return -1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    W.curl = curl_easy_init();
    W.engine = spoor_s3_engine_new(NULL, NULL);
    struct spoor_error err;
    W.s3 = spoor_s3_client_new(W.engine, &cfg, &err);
    if (!W.curl || !W.s3)
        return -1;
    return s3_env_create_bucket(W.s3, W.bucket, sizeof W.bucket, "spoor-api");
}

static int group_teardown(void **state)
{
    server_stop(&W.srv);
    server_stop(&W.guard);
    if (W.trk)
        spoor_tracker_free(W.trk, 10000);
    if (W.curl)
        curl_easy_cleanup(W.curl);
    curl_global_cleanup();
    spoor_s3_client_free(W.s3);
    if (W.engine)
        spoor_s3_engine_close(W.engine, NULL, NULL);
    if (W.tmp[0])
        rm_tree(W.tmp);
    print_message("test_api_rgw: %d checks, %d failed (in tests that ran to their end)\n",
                  W.total_checks, W.total_failed);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_seed_and_index, test_setup),
        cmocka_unit_test_setup(test_service_endpoints, test_setup),
        cmocka_unit_test_setup(test_projects, test_setup),
        cmocka_unit_test_setup(test_apps_partitions, test_setup),
        cmocka_unit_test_setup(test_apps_paging, test_setup),
        cmocka_unit_test_setup(test_app_view_big, test_setup),
        cmocka_unit_test_setup(test_app_view_family, test_setup),
        cmocka_unit_test_setup(test_state_verbatim, test_setup),
        cmocka_unit_test_setup(test_indexing_jobs, test_setup),
        cmocka_unit_test_setup(test_metrics, test_setup),
        cmocka_unit_test_setup(test_etag, test_setup),
        cmocka_unit_test_setup(test_bad_input, test_setup),
        cmocka_unit_test_setup(test_annotations_survive_restart, test_setup),
        cmocka_unit_test_setup(test_token, test_setup),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
