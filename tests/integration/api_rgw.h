/*
 * api_rgw.h: what the two API integration tests share (test_api_rgw.c: the read endpoints;
 * test_api_rgw_input.c: bad input, annotations through a snapshot restore, the token): soft
 * checks, an HTTP client, JSON shape checks, spoor-server processes, and the seed written by
 * the tracker into a bucket of the test RGW. See test_api_rgw.c for what is shown.
 *
 * The tests of a file run in order and share one bucket, one seed and one server. Most checks
 * are soft (CHECK): a test goes on after a failed check, so one run lists every broken promise,
 * and fails at its end with the count. The group teardown kills every server still running and
 * removes the temporary directory (server roots, logs, spool), also after a failure.
 * Header-only, for those two files; include after <cmocka.h>.
 */
#ifndef SPOOR_TEST_API_RGW_H
#define SPOOR_TEST_API_RGW_H

#include <errno.h>

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

static inline void check_at(bool ok, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline void check_at(bool ok, const char *file, int line, const char *fmt, ...)
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

static inline void server_died(struct server *s);

/* Ends a test: prints how many checks ran and fails it, here, if any failed (saying whether
 * the server is still running). */
#define checks_done() checks_done_at(__func__, __FILE__, __LINE__)
static inline void checks_done_at(const char *test, const char *file, int line)
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

static inline bool streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static inline int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- HTTP ------------------------------------------------------------------------------ */

static inline void res_free(struct http_res *r)
{
    free(r->body);
    free(r->head);
    r->body = r->head = NULL;
}

/* method path on 127.0.0.1:port, with hdrs (NULL-terminated header lines, may be NULL) and a
 * body (NULL: none). The path goes out as written (no dot-segment removal). A 500 is a failed
 * check whatever the caller expected: bad input never gives 500. */
static inline struct http_res http_at(uint16_t port, const char *method, const char *path,
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

static inline struct http_res req(const char *method, const char *path, const char *body)
{
    return http_at(W.srv.port, method, path, NULL, body, body ? strlen(body) : 0);
}

static inline struct http_res getf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline struct http_res getf(const char *fmt, ...)
{
    char path[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(path, sizeof path, fmt, ap);
    va_end(ap);
    return req("GET", path, NULL);
}

/* Header name of the last response (after any 1xx), copied to out; NULL when absent. */
static inline const char *header(const struct http_res *r, const char *name, char *out, size_t size)
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

static inline bool digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* "YYYY-MM-DDTHH:MM:SS", then optionally ".f+", then optionally "Z" or "+HH:MM"/"-HH:MM". */
static inline bool iso_ok(const char *s)
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

static inline bool jk_is(const json_t *v, enum jk k)
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
static inline const char *jtext(const json_t *v)
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
static inline json_t *jf_at(json_t *obj, const char *name, enum jk k, const char *ctx,
                            const char *file, int line)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
    bool ok = v && jk_is(v, k);
    check_at(ok, file, line, "%s.%s is %s, want %s", ctx, name, jtext(v), JK_NAME[k]);
    return ok ? v : NULL;
}

static inline const char *jstr(const json_t *v)
{
    return json_string_value(v);
}

/* The body as JSON (a check); NULL when it is not. */
static inline json_t *body_json_at(const struct http_res *r, const char *file, int line)
{
    json_error_t e;
    json_t *j = r->body ? json_loadb(r->body, r->len, JSON_DECODE_ANY, &e) : NULL;
    check_at(j != NULL, file, line, "%s: body is not JSON (%s): %.200s", r->what, j ? "" : e.text,
             r->body ? r->body : "");
    return j;
}

/* status is want, the content type JSON and the body JSON: the body (new), or NULL. */
#define EXPECT_JSON(r, want) expect_json_at((r), (want), __FILE__, __LINE__)
static inline json_t *expect_json_at(const struct http_res *r, long want, const char *file,
                                     int line)
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
static inline void expect_error_at(struct http_res r, long want, const char *word, const char *file,
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

static inline void print_log_tail(const struct server *s)
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

static inline bool log_has(const struct server *s, const char *text)
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
static inline void server_start(struct server *s, const char *name, const char *const *extra,
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
static inline void server_died(struct server *s)
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
static inline int server_stop(struct server *s)
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

static inline void big_step(struct spoor_app *a, int s, int *bad)
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
static inline void small_step(struct spoor_app *a, int s, const char *state, int *bad)
{
    char n[32];
    snprintf(n, sizeof n, "{\"n\":%d}", s);
    *bad += spoor_step_begin(a, s, "work", "{}") != 0;
    *bad += spoor_attribute(a, s, NULL, "n", n, NULL) != 0;
    *bad += spoor_step_end(a, s, "work", n, state ? state : n, NULL) != 0;
}

static inline struct spoor_tracker *tracker_start(const char *project)
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

static inline void tracker_flush(struct spoor_tracker *t)
{
    struct spoor_error err;
    struct spoor_tracker_stats st;
    if (spoor_tracker_flush(t, 30000, &err) != 0)
        fail_msg("spoor_tracker_flush: %s", err.message);
    spoor_tracker_stats(t, &st);
    assert_int_equal(st.events_dropped + st.events_refused, 0);
}

static inline void seed(void)
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

static inline int expected_steps(const char *app_id)
{
    for (size_t i = 0; i < NAPPS_A; i++)
        if (streq(APPS_A[i].id, app_id))
            return APPS_A[i].nsteps;
    return -1;
}

/* The element of array arr whose field name is the string value; NULL when none. */
static inline json_t *find_by(json_t *arr, const char *name, const char *value)
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
static inline bool seed_indexed(char *why, size_t size)
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

static inline void test_seed_and_index(void **state)
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

/* ---- setup and teardown ---------------------------------------------------------------- */

static inline int test_setup(void **state)
{
    W.checks = W.failed = W.printed = 0;
    return 0;
}

static inline int group_setup(void **state)
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

static inline int group_teardown(void **state)
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
    print_message("%s: %d checks, %d failed (in tests that ran to their end)\n",
                  program_invocation_short_name, W.total_checks, W.total_failed);
    return 0;
}

#endif
