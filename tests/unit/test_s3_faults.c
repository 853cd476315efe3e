/*
 * test_s3_faults.c: the S3 engine under faults: 5xx and SlowDown retried, other 4xx not,
 * dropped connections, timeouts, bodies cut short, size ceilings, error documents inside a 200,
 * malformed XML, file sinks that must never leave a partial file, the async contract (callback
 * never inside submit, exactly once, SPOOR_E_CANCELED on close, no handle left) and the engine's
 * concurrency bound.
 *
 * The peer is a small scripted HTTP/1.1 stub (STYLE.md allows one where the test is about a
 * fault): a thread accepting on 127.0.0.1 with one thread per connection, keep-alive, and an
 * answer per request taken in arrival order from a script (the last entry repeats). It records
 * each request (method, target, header lines, first bytes of the body) and counts connections
 * and requests in flight. It is deliberately not an S3 implementation: it never looks at what
 * is asked, so every expectation is in the test that wrote the script. It does not speak chunked
 * request bodies (the engine always sends Content-Length).
 *
 * Every test owns a fresh stub and a fresh engine, so connections are never reused across tests
 * and curl's own retry of a dead reused connection cannot add requests to a count.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <spoor/s3.h>

#include "buf.h"
#include "sigv4.h"

/* ---- the scripted HTTP/1.1 stub --------------------------------------------------------- */

enum stub_action {
    STUB_RESPOND, /* status line, Content-Length, extra headers, body */
    STUB_CLOSE,   /* read the request, then close without a byte of answer */
    STUB_HALF,    /* send the head (full Content-Length) and half the body, then close */
};

struct stub_answer {
    enum stub_action action;
    int status;
    const char *body;    /* NULL: empty */
    const char *headers; /* extra lines, each "Name: value\r\n"; NULL: none */
    int delay_ms;        /* waited after reading the request, before answering */
};

#define STUB_MAX_REQS 32
#define STUB_MAX_CONNS 64
#define STUB_BUF_BYTES (32 * 1024)

struct stub_req {
    char method[16];
    char target[1024]; /* path and query, as sent */
    char head[8192];   /* the header lines as received */
    char body[4096];   /* the first bytes of the body */
    size_t body_len;   /* the whole body's length */
};

struct stub {
    int listen_fd, port;
    int wake[2]; /* a byte written at stop makes wake[0] readable for every poll */
    pthread_t acceptor;
    pthread_mutex_t mu; /* guards everything below */
    pthread_t conns[STUB_MAX_CONNS];
    int nconns;
    const struct stub_answer *script; /* borrowed; the last entry repeats */
    size_t nscript;
    int nreqs; /* requests read */
    struct stub_req reqs[STUB_MAX_REQS];
    int open_conns, max_conns, in_flight, max_in_flight;
};

struct stub_conn {
    struct stub *s;
    int fd;
    char buf[STUB_BUF_BYTES];
    size_t len;
};

/* Waits for fd to be readable (fd -1: only sleeps). 1 readable, 0 timeout, -1 stop. */
static int stub_wait(struct stub *s, int fd, int timeout_ms)
{
    struct pollfd p[2] = {{s->wake[0], POLLIN, 0}, {fd, POLLIN, 0}};
    int n = poll(p, fd >= 0 ? 2 : 1, timeout_ms);
    if (n < 0 && errno == EINTR)
        return 0;
    if (n < 0 || p[0].revents)
        return -1;
    return n > 0;
}

/* Reads more bytes into the connection's buffer; <= 0 on EOF, error, stop or a full buffer. */
static ssize_t conn_fill(struct stub_conn *c)
{
    int w;
    while ((w = stub_wait(c->s, c->fd, -1)) == 0) /* EINTR */
        ;
    if (w < 0 || c->len + 1 >= sizeof c->buf)
        return -1;
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0); /* room for NUL */
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

/* Value of header name in a recorded request head, into out; false when absent. */
static bool stub_header(const struct stub_req *q, const char *name, char *out, size_t size)
{
    size_t n = strlen(name);
    for (const char *l = q->head; l && *l; l = strstr(l, "\r\n"), l = l ? l + 2 : NULL) {
        if (strncasecmp(l, name, n) == 0 && l[n] == ':') {
            const char *v = l + n + 1 + strspn(l + n + 1, " ");
            snprintf(out, size, "%.*s", (int)strcspn(v, "\r"), v);
            return true;
        }
    }
    return false;
}

/* Reads one request (head, then a Content-Length body) into q; false on EOF or stop. */
static bool conn_read_request(struct stub_conn *c, struct stub_req *q)
{
    char *end;
    c->buf[c->len] = '\0';
    while (!(end = strstr(c->buf, "\r\n\r\n"))) {
        if (conn_fill(c) <= 0)
            return false;
        c->buf[c->len] = '\0';
    }
    size_t head_len = (size_t)(end - c->buf) + 4;
    memset(q, 0, sizeof *q);
    const char *line_end = strstr(c->buf, "\r\n");
    if (sscanf(c->buf, "%15s %1023s", q->method, q->target) != 2)
        return false;
    snprintf(q->head, sizeof q->head, "%.*s", (int)(end + 2 - line_end - 2), line_end + 2);
    char cl[32] = "0";
    stub_header(q, "content-length", cl, sizeof cl);
    size_t body_len = strtoul(cl, NULL, 10);
    memmove(c->buf, c->buf + head_len, c->len - head_len);
    c->len -= head_len;
    for (size_t got = 0; got < body_len;) {
        if (c->len == 0 && conn_fill(c) <= 0)
            return false;
        size_t take = body_len - got < c->len ? body_len - got : c->len;
        size_t keep = sizeof q->body - 1 - got; /* what still fits in q->body */
        if (got < sizeof q->body - 1)
            memcpy(q->body + got, c->buf, take < keep ? take : keep);
        memmove(c->buf, c->buf + take, c->len - take);
        c->len -= take;
        got += take;
    }
    q->body_len = body_len;
    return true;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w, n -= (size_t)w;
    }
    return true;
}

/* Answers per a; false when the connection must be closed. */
static bool conn_answer(struct stub_conn *c, const struct stub_answer *a)
{
    if (a->delay_ms > 0 && stub_wait(c->s, -1, a->delay_ms) < 0)
        return false;
    if (a->action == STUB_CLOSE)
        return false;
    const char *body = a->body ? a->body : "";
    size_t len = strlen(body);
    char head[1024];
    int n = snprintf(head, sizeof head, "HTTP/1.1 %d Stub\r\nContent-Length: %zu\r\n%s\r\n",
                     a->status, len, a->headers ? a->headers : "");
    if (!send_all(c->fd, head, (size_t)n))
        return false;
    if (a->action == STUB_HALF) {
        send_all(c->fd, body, len / 2);
        return false;
    }
    return send_all(c->fd, body, len);
}

/* One connection: requests answered in turn until EOF, stop or a closing action. */
static void *conn_main(void *arg)
{
    struct stub_conn *c = arg;
    struct stub *s = c->s;
    struct stub_req q;
    while (conn_read_request(c, &q)) {
        pthread_mutex_lock(&s->mu);
        if (s->nreqs < STUB_MAX_REQS)
            s->reqs[s->nreqs] = q;
        size_t i = (size_t)s->nreqs++;
        struct stub_answer a = s->script[i < s->nscript ? i : s->nscript - 1];
        if (++s->in_flight > s->max_in_flight)
            s->max_in_flight = s->in_flight;
        pthread_mutex_unlock(&s->mu);
        bool keep = conn_answer(c, &a);
        pthread_mutex_lock(&s->mu);
        s->in_flight--;
        pthread_mutex_unlock(&s->mu);
        if (!keep)
            break;
    }
    shutdown(c->fd, SHUT_WR);
    close(c->fd);
    pthread_mutex_lock(&s->mu);
    s->open_conns--;
    pthread_mutex_unlock(&s->mu);
    free(c);
    return NULL;
}

static void *acceptor_main(void *arg)
{
    struct stub *s = arg;
    while (stub_wait(s, s->listen_fd, -1) >= 0) {
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;
        struct stub_conn *c = calloc(1, sizeof *c);
        c->s = s;
        c->fd = fd;
        pthread_mutex_lock(&s->mu);
        if (++s->open_conns > s->max_conns)
            s->max_conns = s->open_conns;
        bool room = s->nconns < STUB_MAX_CONNS;
        if (room)
            pthread_create(&s->conns[s->nconns++], NULL, conn_main, c);
        pthread_mutex_unlock(&s->mu);
        if (!room) {
            close(fd);
            free(c);
        }
    }
    return NULL;
}

/* Starts the stub on 127.0.0.1 and an ephemeral port, answering from script (borrowed). */
static void stub_start(struct stub *s, const struct stub_answer *script, size_t nscript)
{
    memset(s, 0, sizeof *s);
    s->script = script;
    s->nscript = nscript;
    pthread_mutex_init(&s->mu, NULL);
    assert_int_equal(pipe(s->wake), 0);
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s->listen_fd, 64), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&sa, &len), 0);
    s->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(&s->acceptor, NULL, acceptor_main, s), 0);
}

static int stub_nreqs(struct stub *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

/* Wakes every thread (also those sleeping in a delay) and joins them. */
static void stub_stop(struct stub *s)
{
    assert_int_equal(write(s->wake[1], "x", 1), 1);
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_mutex_destroy(&s->mu);
}

/* ---- fixture and helpers ---------------------------------------------------------------- */

#define ACCESS_KEY "AKIDEXAMPLE"
#define SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define BIG_LEN 100000

static const char SLOWDOWN[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown"
                               "</Code><Message>Please reduce your request rate.</Message>"
                               "<RequestId>req-503</RequestId></Error>";
static const char INTERNAL[] = "<Error><Code>InternalError</Code><Message>We encountered an "
                               "internal error. Please try again.</Message></Error>";

static char big_body[BIG_LEN + 1]; /* a patterned body, NUL-terminated for the stub */

struct fixture {
    struct stub stub;
    bool stub_running;
    struct spoor_s3_engine *engine; /* private loop, for spoor_s3_exec */
    struct spoor_s3_client *client;
    char dir[512]; /* a temporary directory, "" when none */
};

static int group_setup(void **state)
{
    for (size_t i = 0; i < BIG_LEN; i++)
        big_body[i] = (char)('a' + (i * 7 + i / 251) % 26);
    return 0;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->engine = spoor_s3_engine_new(NULL, NULL);
    assert_non_null(f->engine);
    *state = f;
    return 0;
}

/* Empties and removes the temporary directory, if any. */
static void dir_remove(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *de; (de = readdir(d));) {
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (de->d_name[0] != '.')
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->client)
        spoor_s3_client_free(f->client);
    spoor_s3_engine_close(f->engine, NULL, NULL);
    if (f->stub_running)
        stub_stop(&f->stub);
    if (f->dir[0])
        dir_remove(f->dir);
    free(f);
    return 0;
}

static struct spoor_s3_config stub_config(int port, int max_attempts)
{
    struct spoor_s3_config cfg;
    memset(&cfg, 0, sizeof cfg);
    snprintf(cfg.name, sizeof cfg.name, "stub");
    snprintf(cfg.endpoint_url, sizeof cfg.endpoint_url, "http://127.0.0.1:%d", port);
    snprintf(cfg.region, sizeof cfg.region, "us-east-1");
    cfg.addressing = SPOOR_S3_ADDRESSING_PATH;
    snprintf(cfg.creds.access_key_id, sizeof cfg.creds.access_key_id, ACCESS_KEY);
    snprintf(cfg.creds.secret_access_key, sizeof cfg.creds.secret_access_key, SECRET_KEY);
    cfg.max_attempts = max_attempts;
    cfg.retry_base_ms = 5;
    cfg.retry_max_ms = 20;
    cfg.timeout_ms = 3000; /* a test that hangs fails in seconds, not in a minute */
    return cfg;
}

/* Starts the stub with script and makes f->client for it on the blocking engine. */
static void start(struct fixture *f, const struct stub_answer *script, size_t n, int attempts)
{
    stub_start(&f->stub, script, n);
    f->stub_running = true;
    struct spoor_s3_config cfg = stub_config(f->stub.port, attempts);
    struct spoor_error err;
    f->client = spoor_s3_client_new(f->engine, &cfg, &err);
    assert_non_null(f->client);
}

static struct spoor_s3_op get_op(void)
{
    struct spoor_s3_op op;
    memset(&op, 0, sizeof op);
    op.kind = SPOOR_S3_GET_OBJECT;
    op.bucket = "bkt";
    op.key = "dir/obj.bin";
    return op;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Milliseconds from now to 50 ms past the next wall-clock second (first waiting out the end of
 * this second when it is near), so that a request signed now and one signed after that delay
 * carry different x-amz-date values. */
static int ms_past_next_second(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_nsec / 1000000 > 800) {
        sleep_ms(1000 - ts.tv_nsec / 1000000 + 10);
        clock_gettime(CLOCK_REALTIME, &ts);
    }
    return (int)(1000 - ts.tv_nsec / 1000000 + 50);
}

/* Recomputes the SigV4 Authorization of a recorded request (one without a query string) from
 * its own x-amz-date and the headers it lists as signed; true when it matches what was sent. */
static bool signature_valid(const struct stub_req *q)
{
    char auth[1024], date[32], sha[80], names[512], values[16][512];
    if (!stub_header(q, "authorization", auth, sizeof auth) ||
        !stub_header(q, "x-amz-date", date, sizeof date) ||
        !stub_header(q, "x-amz-content-sha256", sha, sizeof sha) || strchr(q->target, '?'))
        return false;
    const char *sh = strstr(auth, "SignedHeaders=");
    if (!sh)
        return false;
    snprintf(names, sizeof names, "%.*s", (int)strcspn(sh + 14, ","), sh + 14);
    struct sigv4_kv kv[16];
    size_t n = 0;
    char *save = NULL;
    for (char *name = strtok_r(names, ";", &save); name; name = strtok_r(NULL, ";", &save)) {
        if (n == 16 || !stub_header(q, name, values[n], sizeof values[n]))
            return false;
        kv[n] = (struct sigv4_kv){name, values[n]};
        n++;
    }
    struct sigv4_request req = {q->method, q->target, NULL, 0, kv, n, sha};
    struct sigv4_signer signer = {ACCESS_KEY, SECRET_KEY, "us-east-1", "s3", date};
    struct buf b;
    buf_init(&b, 4096);
    bool ok = sigv4_authorization(&req, SIGV4_MODE_S3, &signer, &b) == 0 && b.data &&
              strcmp(b.data, auth) == 0;
    buf_cleanup(&b);
    return ok;
}

/* Names in dir (without . and ..), in readdir order, joined with ' '; returns count. */
static int dir_list(const char *dir, char *out, size_t size)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    out[0] = '\0';
    for (struct dirent *de; (de = readdir(d));) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s%s", n ? " " : "", de->d_name);
        n++;
    }
    closedir(d);
    return n;
}

static void make_dir(struct fixture *f)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(f->dir, sizeof f->dir, "%s/spoor-faults-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
    assert_non_null(mkdtemp(f->dir));
}

/* ---- retries and their limits (blocking calls) ------------------------------------------ */

/* 503 SlowDown twice, then 200: three requests, each signed for its own date. The first answer
 * is held past a second boundary so that a reused signature could not pass for a new one. */
static void test_slowdown_retried_and_resigned(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {
        {STUB_RESPOND, 503, SLOWDOWN, NULL, ms_past_next_second()},
        {STUB_RESPOND, 503, SLOWDOWN, NULL, 0},
        {STUB_RESPOND, 200, "hello", NULL, 0},
    };
    start(f, script, 3, 4);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_int_equal(res.http_status, 200);
    assert_string_equal(res.body, "hello");
    assert_int_equal(res.body_len, 5);
    assert_int_equal(stub_nreqs(&f->stub), 3);
    char date[3][32], auth[1024];
    for (int i = 0; i < 3; i++) {
        const struct stub_req *q = &f->stub.reqs[i];
        assert_string_equal(q->method, "GET");
        assert_string_equal(q->target, "/bkt/dir/obj.bin");
        assert_true(stub_header(q, "authorization", auth, sizeof auth));
        assert_true(stub_header(q, "x-amz-date", date[i], sizeof date[i]));
        assert_true(signature_valid(q));
    }
    assert_string_not_equal(date[0], date[1]);
    uint64_t nreq, nerr;
    spoor_s3_engine_stats(f->engine, &nreq, &nerr);
    assert_int_equal(nreq, 3);
    assert_int_equal(nerr, 0);
    spoor_s3_result_cleanup(&res);
}

static void test_internal_error_gives_up(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 500, INTERNAL, NULL, 0}};
    start(f, script, 1, 3);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_S3);
    assert_int_equal(err.code, SPOOR_E_S3);
    assert_string_equal(err.s3_code, "InternalError");
    assert_int_equal(err.http_status, 500);
    assert_int_equal(err.attempts, 3);
    assert_int_equal(stub_nreqs(&f->stub), 3);
    assert_non_null(strstr(err.message, "after 3 attempts"));
    assert_non_null(strstr(err.message, "InternalError"));
    assert_non_null(strstr(err.message, "s3://bkt/dir/obj.bin"));
    uint64_t nreq, nerr;
    spoor_s3_engine_stats(f->engine, &nreq, &nerr);
    assert_int_equal(nreq, 3);
    assert_int_equal(nerr, 1);
    spoor_s3_result_cleanup(&res);
}

/* An answer that must not be retried: one request, the error as the service said it. */
static void expect_final_error(struct fixture *f, int status, const char *body, const char *code)
{
    struct stub_answer script[] = {{STUB_RESPOND, status, body, NULL, 0}};
    start(f, script, 1, 3);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_S3);
    assert_int_equal(err.http_status, status);
    assert_string_equal(err.s3_code, code);
    assert_string_equal(err.request_id, "req-4xx");
    assert_int_equal(err.attempts, 1);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    assert_non_null(strstr(err.message, code));
    assert_null(strstr(err.message, "attempts"));
    spoor_s3_result_cleanup(&res);
}

static void test_access_denied_not_retried(void **state)
{
    expect_final_error(*state, 403,
                       "<Error><Code>AccessDenied</Code><Message>Access Denied</Message>"
                       "<RequestId>req-4xx</RequestId></Error>",
                       "AccessDenied");
}

static void test_no_such_key_not_retried(void **state)
{
    expect_final_error(*state, 404,
                       "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist."
                       "</Message><Key>dir/obj.bin</Key><RequestId>req-4xx</RequestId></Error>",
                       "NoSuchKey");
}

/* A 4xx that is worth retrying, and a connection closed without an answer: both succeed on
 * the second request. */
static void expect_retried_once(struct fixture *f, const struct stub_answer *first)
{
    struct stub_answer script[] = {*first, {STUB_RESPOND, 200, "second time lucky", NULL, 0}};
    start(f, script, 2, 3);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_string_equal(res.body, "second time lucky");
    assert_int_equal(stub_nreqs(&f->stub), 2);
    spoor_s3_result_cleanup(&res);
}

static void test_request_timeout_400_retried(void **state)
{
    struct stub_answer first = {STUB_RESPOND, 400,
                                "<Error><Code>RequestTimeout</Code><Message>Your socket "
                                "connection to the server was not read from or written to within "
                                "the timeout period.</Message></Error>",
                                NULL, 0};
    expect_retried_once(*state, &first);
}

static void test_closed_connection_retried(void **state)
{
    struct stub_answer first = {STUB_CLOSE, 0, NULL, NULL, 0};
    expect_retried_once(*state, &first);
}

/* A retried upload sends its body again from the start: here a range of a file, read in pieces
 * by the engine, after a connection closed without an answer. */
static void test_put_file_range_resent(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_CLOSE, 0, NULL, NULL, 0},
                                   {STUB_RESPOND, 200, NULL, "ETag: \"e-1\"\r\n", 0}};
    start(f, script, 2, 3);
    make_dir(f);
    char path[600];
    snprintf(path, sizeof path, "%s/upload.bin", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(big_body, 1, BIG_LEN, fp), BIG_LEN);
    fclose(fp);
    struct spoor_s3_op op = {.kind = SPOOR_S3_PUT_OBJECT, .bucket = "bkt", .key = "up.bin"};
    op.body = (struct spoor_s3_body){.path = path, .offset = 1000, .length = 3000};
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_string_equal(res.etag, "\"e-1\"");
    assert_int_equal(stub_nreqs(&f->stub), 2);
    char want[65], got[80];
    sigv4_sha256_hex(big_body + 1000, 3000, want);
    for (int i = 0; i < 2; i++) {
        const struct stub_req *q = &f->stub.reqs[i];
        assert_string_equal(q->method, "PUT");
        assert_true(stub_header(q, "x-amz-content-sha256", got, sizeof got));
        assert_string_equal(got, want);
        assert_int_equal(q->body_len, 3000);
        assert_memory_equal(q->body, big_body + 1000, 3000);
        assert_true(signature_valid(q));
    }
    spoor_s3_result_cleanup(&res);
}

/* An answer held for 1 s against a 200 ms timeout: SPOOR_E_TIMEOUT, at about 200 ms. */
static void test_timeout(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "too late", NULL, 1000}};
    start(f, script, 1, 1);
    struct spoor_s3_op op = get_op();
    op.timeout_ms = 200;
    struct spoor_s3_result res;
    struct spoor_error err;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_TIMEOUT);
    double ms = ms_since(&t0);
    assert_true(ms >= 150 && ms < 900);
    assert_int_equal(err.code, SPOOR_E_TIMEOUT);
    assert_int_equal(err.http_status, 0);
    assert_int_equal(err.attempts, 1);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    assert_null(res.body);
    spoor_s3_result_cleanup(&res);
}

/* A timed-out attempt is retried like a dropped connection. */
static void test_timeout_retried(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "too late", NULL, 1000},
                                   {STUB_RESPOND, 200, "in time", NULL, 0}};
    start(f, script, 2, 2);
    struct spoor_s3_op op = get_op();
    op.timeout_ms = 200;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_string_equal(res.body, "in time");
    assert_int_equal(stub_nreqs(&f->stub), 2);
    spoor_s3_result_cleanup(&res);
}

static void test_buffer_ceiling(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, big_body, NULL, 0}};
    start(f, script, 1, 3);
    struct spoor_s3_op op = get_op();
    op.sink.max_bytes = 1000;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_TOO_LARGE);
    assert_int_equal(err.code, SPOOR_E_TOO_LARGE);
    assert_int_equal(err.attempts, 1);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    assert_null(res.body);
    assert_int_equal(res.body_len, 0);
    spoor_s3_result_cleanup(&res);
}

/* ---- bodies cut short, answers that lie ------------------------------------------------- */

struct collected {
    size_t len;
    bool matches; /* every byte so far equals big_body at its offset */
};

static int collect_cb(const void *data, size_t len, void *ud)
{
    struct collected *c = ud;
    if (c->len + len > BIG_LEN || memcmp(big_body + c->len, data, len) != 0)
        c->matches = false;
    c->len += len;
    return 0;
}

/* Half a body streamed to a callback cannot be taken back: SPOOR_E_NET, no second request. */
static void test_half_body_to_callback_not_retried(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_HALF, 200, big_body, NULL, 0},
                                   {STUB_RESPOND, 200, big_body, NULL, 0}};
    start(f, script, 2, 3);
    struct spoor_s3_op op = get_op();
    struct collected got = {0, true};
    op.sink.data_cb = collect_cb;
    op.sink.data_ud = &got;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_NET);
    assert_int_equal(got.len, BIG_LEN / 2);
    assert_true(got.matches);
    assert_int_equal(err.attempts, 1);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    spoor_s3_result_cleanup(&res);
}

/* An error answer delivers nothing to the callback, so a streamed GET is still retried, and the
 * callback sees the body once, whole. */
static void test_callback_retried_before_delivery(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 503, SLOWDOWN, NULL, 0},
                                   {STUB_RESPOND, 200, big_body, NULL, 0}};
    start(f, script, 2, 3);
    struct spoor_s3_op op = get_op();
    struct collected got = {0, true};
    op.sink.data_cb = collect_cb;
    op.sink.data_ud = &got;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_int_equal(got.len, BIG_LEN);
    assert_true(got.matches);
    assert_null(res.body);
    assert_int_equal(stub_nreqs(&f->stub), 2);
    spoor_s3_result_cleanup(&res);
}

/* The same cut into a buffer is retried, and the result is the second answer, whole. */
static void test_half_body_to_buffer_retried(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_HALF, 200, big_body, NULL, 0},
                                   {STUB_RESPOND, 200, big_body, NULL, 0}};
    start(f, script, 2, 3);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_int_equal(stub_nreqs(&f->stub), 2);
    assert_int_equal(res.body_len, BIG_LEN);
    assert_memory_equal(res.body, big_body, BIG_LEN);
    assert_int_equal(res.content_length, BIG_LEN);
    spoor_s3_result_cleanup(&res);
}

/* CompleteMultipartUpload can fail after its 200 status line: the <Error> body is a failure
 * (retried, since it is an InternalError), never a success. */
static void test_complete_200_with_error(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, INTERNAL, NULL, 0}};
    start(f, script, 1, 2);
    struct spoor_s3_part parts[] = {{1, "\"etag-one\""}, {2, "\"etag-two\""}};
    struct spoor_s3_op op = {.kind = SPOOR_S3_COMPLETE_MULTIPART,
                             .bucket = "bkt",
                             .key = "big.bin",
                             .upload_id = "up-1",
                             .parts = parts,
                             .nparts = 2};
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_S3);
    assert_string_equal(err.s3_code, "InternalError");
    assert_int_equal(err.attempts, 2);
    assert_null(res.etag);
    assert_int_equal(stub_nreqs(&f->stub), 2);
    const struct stub_req *q = &f->stub.reqs[0];
    assert_string_equal(q->method, "POST");
    assert_string_equal(q->target, "/bkt/big.bin?uploadId=up-1");
    assert_non_null(strstr(q->body, "<PartNumber>2</PartNumber>"));
    assert_non_null(strstr(q->body, "etag-two"));
    spoor_s3_result_cleanup(&res);
}

static void test_malformed_list(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {
        {STUB_RESPOND, 200, "<ListBucketResult><Name>bkt</Name><Contents><Key>a</Key>", NULL, 0}};
    start(f, script, 1, 3);
    struct spoor_s3_op op = {.kind = SPOOR_S3_LIST_OBJECTS, .bucket = "bkt", .prefix = "a"};
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_PARSE);
    assert_int_equal(err.code, SPOOR_E_PARSE);
    assert_non_null(strstr(err.message, "XML"));
    assert_int_equal(res.list.nobjects, 0);
    assert_null(res.list.objects);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    const struct stub_req *q = &f->stub.reqs[0];
    assert_string_equal(q->method, "GET");
    assert_non_null(strstr(q->target, "list-type=2"));
    assert_non_null(strstr(q->target, "prefix=a"));
    spoor_s3_result_cleanup(&res);
}

/* ---- file sinks: the destination is whole or absent ------------------------------------- */

/* Reads up to size bytes of path into out; returns how many. */
static size_t read_file(const char *path, char *out, size_t size)
{
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    size_t n = fread(out, 1, size, fp);
    fclose(fp);
    return n;
}

static void test_file_sink_retry_whole(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_HALF, 200, big_body, NULL, 0},
                                   {STUB_RESPOND, 200, big_body, NULL, 0}};
    start(f, script, 2, 3);
    make_dir(f);
    char path[600], names[256];
    snprintf(path, sizeof path, "%s/obj.bin", f->dir);
    struct spoor_s3_op op = get_op();
    op.sink.path = path;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    assert_int_equal(stub_nreqs(&f->stub), 2);
    assert_null(res.body);
    static char disk[BIG_LEN + 1];
    assert_int_equal(read_file(path, disk, sizeof disk), BIG_LEN);
    assert_memory_equal(disk, big_body, BIG_LEN);
    assert_int_equal(dir_list(f->dir, names, sizeof names), 1);
    assert_string_equal(names, "obj.bin");
    spoor_s3_result_cleanup(&res);
}

static void test_file_sink_all_fail(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_HALF, 200, big_body, NULL, 0}};
    start(f, script, 1, 3);
    make_dir(f);
    char path[600], names[256];
    snprintf(path, sizeof path, "%s/obj.bin", f->dir);
    struct spoor_s3_op op = get_op();
    op.sink.path = path;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_NET);
    assert_int_equal(err.attempts, 3);
    assert_int_equal(stub_nreqs(&f->stub), 3);
    struct stat st;
    assert_int_equal(stat(path, &st), -1);
    assert_int_equal(errno, ENOENT);
    assert_int_equal(dir_list(f->dir, names, sizeof names), 0);
    spoor_s3_result_cleanup(&res);
}

/* A failed download leaves a file that was already there as it was. */
static void test_file_sink_keeps_old_file(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_HALF, 200, big_body, NULL, 0}};
    start(f, script, 1, 2);
    make_dir(f);
    char path[600], names[256], disk[64];
    snprintf(path, sizeof path, "%s/obj.bin", f->dir);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("old contents", fp);
    fclose(fp);
    struct spoor_s3_op op = get_op();
    op.sink.path = path;
    struct spoor_s3_result res;
    struct spoor_error err;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), SPOOR_E_NET);
    assert_int_equal(stub_nreqs(&f->stub), 2);
    size_t n = read_file(path, disk, sizeof disk - 1);
    disk[n] = '\0';
    assert_string_equal(disk, "old contents");
    assert_int_equal(dir_list(f->dir, names, sizeof names), 1);
    assert_string_equal(names, "obj.bin");
    spoor_s3_result_cleanup(&res);
}

/* ---- the async contract, on a caller's loop --------------------------------------------- */

struct calls {
    int n;      /* times the callback ran */
    int status; /* its last status */
    int err_code;
    char body[64];
};

static void record_cb(int status, struct spoor_s3_result *res, const struct spoor_error *err,
                      void *ud)
{
    struct calls *c = ud;
    c->n++;
    c->status = status;
    c->err_code = status ? err->code : 0;
    if (status == 0 && res->body)
        snprintf(c->body, sizeof c->body, "%s", res->body);
}

/* Runs loop without blocking until *counter reaches want or 5 s have passed. */
static void run_until(uv_loop_t *loop, const int *counter, int want)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (*counter < want && ms_since(&t0) < 5000) {
        uv_run(loop, UV_RUN_NOWAIT);
        if (*counter < want)
            sleep_ms(1);
    }
}

static void on_engine_closed(void *ud)
{
    ++*(int *)ud;
}

/* Closes e on loop, then frees c, and checks that nothing is left on the loop. The client goes
 * last because requests cancelled by the close still refer to it while their callbacks run
 * (spoor_s3_client_free allows this order: "or the engine closed"). */
static void close_async(uv_loop_t *loop, struct spoor_s3_engine *e, struct spoor_s3_client *c)
{
    int closed = 0;
    spoor_s3_engine_close(e, on_engine_closed, &closed);
    run_until(loop, &closed, 1);
    assert_int_equal(closed, 1);
    spoor_s3_client_free(c);
    assert_int_equal(uv_loop_close(loop), 0);
}

static struct spoor_s3_client *async_client(struct fixture *f, struct spoor_s3_engine *e,
                                            int retry_ms)
{
    struct spoor_s3_config cfg = stub_config(f->stub.port, 4);
    if (retry_ms)
        cfg.retry_base_ms = cfg.retry_max_ms = retry_ms;
    struct spoor_error err;
    struct spoor_s3_client *c = spoor_s3_client_new(e, &cfg, &err);
    assert_non_null(c);
    return c;
}

/* Callbacks run once, on the loop, never inside submit: also a failure found while starting
 * (a sink file that cannot be created). A refused submit never calls back. */
static void test_async_callback_once(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "async hello", NULL, 0}};
    stub_start(&f->stub, script, 1);
    f->stub_running = true;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_s3_engine *e = spoor_s3_engine_new(&loop, NULL);
    struct spoor_s3_client *c = async_client(f, e, 0);
    struct calls ok = {0}, nofile = {0}, refused = {0};
    struct spoor_s3_op op = get_op();
    struct spoor_error err;
    assert_int_equal(spoor_s3_submit(c, &op, record_cb, &ok, &err), 0);
    assert_int_equal(ok.n, 0);
    char path[600];
    make_dir(f);
    snprintf(path, sizeof path, "%s/no-such-dir/obj.bin", f->dir);
    op.sink.path = path;
    assert_int_equal(spoor_s3_submit(c, &op, record_cb, &nofile, &err), 0);
    assert_int_equal(nofile.n, 0);
    op.key = NULL;
    assert_int_equal(spoor_s3_submit(c, &op, record_cb, &refused, &err), SPOOR_E_INVALID);
    assert_int_equal(err.code, SPOOR_E_INVALID);
    run_until(&loop, &ok.n, 1);
    run_until(&loop, &nofile.n, 1);
    for (int i = 0; i < 20; i++)
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(ok.n, 1);
    assert_int_equal(ok.status, 0);
    assert_string_equal(ok.body, "async hello");
    assert_int_equal(nofile.n, 1);
    assert_int_equal(nofile.status, -ENOENT);
    assert_int_equal(refused.n, 0);
    assert_int_equal(stub_nreqs(&f->stub), 1);
    close_async(&loop, e, c);
}

/* Closing the engine cancels a request in flight, one in backoff and two waiting for a slot:
 * each callback runs exactly once with SPOOR_E_CANCELED, and the loop is left empty. */
static void test_async_close_cancels(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 503, SLOWDOWN, NULL, 0},
                                   {STUB_RESPOND, 200, "never seen", NULL, 5000}};
    stub_start(&f->stub, script, 2);
    f->stub_running = true;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_s3_engine_opts opts = {.max_concurrency = 1};
    struct spoor_s3_engine *e = spoor_s3_engine_new(&loop, &opts);
    struct spoor_s3_client *c = async_client(f, e, INT_MAX / 2); /* backoff: practically forever */
    struct calls calls[4] = {{0}};
    struct spoor_s3_op op = get_op();
    struct spoor_error err;
    /* The first gets 503 and waits to retry; that frees the slot for the second, whose answer
     * the stub holds. Once the stub has both, the last two can only be pending. */
    for (int i = 0; i < 2; i++)
        assert_int_equal(spoor_s3_submit(c, &op, record_cb, &calls[i], &err), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (stub_nreqs(&f->stub) < 2 && ms_since(&t0) < 5000) {
        uv_run(&loop, UV_RUN_NOWAIT);
        sleep_ms(1);
    }
    assert_int_equal(stub_nreqs(&f->stub), 2);
    for (int i = 2; i < 4; i++)
        assert_int_equal(spoor_s3_submit(c, &op, record_cb, &calls[i], &err), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(calls[i].n, 0);
    close_async(&loop, e, c);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(calls[i].n, 1);
        assert_int_equal(calls[i].status, SPOOR_E_CANCELED);
        assert_int_equal(calls[i].err_code, SPOOR_E_CANCELED);
    }
    assert_int_equal(stub_nreqs(&f->stub), 2);
}

/* Ten requests on an engine bounded to two: the stub never has more than two at once (and does
 * have two, so the bound is the engine's and not the stub's), and all ten complete. */
static void test_concurrency_bound(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "ok", NULL, 30}};
    stub_start(&f->stub, script, 1);
    f->stub_running = true;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_s3_engine_opts opts = {.max_concurrency = 2};
    struct spoor_s3_engine *e = spoor_s3_engine_new(&loop, &opts);
    struct spoor_s3_client *c = async_client(f, e, 0);
    struct calls calls[10] = {{0}};
    struct spoor_s3_op op = get_op();
    struct spoor_error err;
    int done = 0;
    for (int i = 0; i < 10; i++)
        assert_int_equal(spoor_s3_submit(c, &op, record_cb, &calls[i], &err), 0);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (done < 10 && ms_since(&t0) < 5000) {
        uv_run(&loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < 10; i++)
            done += calls[i].n;
    }
    for (int i = 0; i < 10; i++) {
        assert_int_equal(calls[i].n, 1);
        assert_int_equal(calls[i].status, 0);
        assert_string_equal(calls[i].body, "ok");
    }
    assert_int_equal(stub_nreqs(&f->stub), 10);
    assert_int_equal(f->stub.max_in_flight, 2);
    assert_in_range(f->stub.max_conns, 1, 2);
    uint64_t nreq, nerr;
    spoor_s3_engine_stats(e, &nreq, &nerr);
    assert_int_equal(nreq, 10);
    assert_int_equal(nerr, 0);
    close_async(&loop, e, c);
}

/* Two downloads to one path at once each use a temporary file of their own: both succeed and
 * the file holds one whole answer, never a mix. */
static void test_two_gets_same_file(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "first", NULL, 100},
                                   {STUB_RESPOND, 200, "second", NULL, 300}};
    stub_start(&f->stub, script, 2);
    f->stub_running = true;
    make_dir(f);
    char path[600];
    snprintf(path, sizeof path, "%s/obj.bin", f->dir);
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct spoor_s3_engine *e = spoor_s3_engine_new(&loop, NULL);
    struct spoor_s3_client *c = async_client(f, e, 0);
    struct spoor_s3_op op = get_op();
    op.sink.path = path;
    struct calls a = {0}, b = {0};
    struct spoor_error err;
    assert_int_equal(spoor_s3_submit(c, &op, record_cb, &a, &err), 0);
    assert_int_equal(spoor_s3_submit(c, &op, record_cb, &b, &err), 0);
    run_until(&loop, &a.n, 1);
    run_until(&loop, &b.n, 1);
    assert_int_equal(a.status, 0);
    assert_int_equal(b.status, 0);
    char listing[256];
    assert_int_equal(dir_list(f->dir, listing, sizeof listing), 1);
    FILE *fp = fopen(path, "rb");
    char got[16] = {0};
    assert_non_null(fp);
    size_t n = fread(got, 1, sizeof got - 1, fp);
    fclose(fp);
    assert_true((n == 5 && strcmp(got, "first") == 0) || (n == 6 && strcmp(got, "second") == 0));
    close_async(&loop, e, c);
}

/* Temporary credentials: the session token is sent as x-amz-security-token and signed. */
static void test_session_token_signed(void **state)
{
    struct fixture *f = *state;
    struct stub_answer script[] = {{STUB_RESPOND, 200, "ok", NULL, 0}};
    stub_start(&f->stub, script, 1);
    f->stub_running = true;
    struct spoor_s3_config cfg = stub_config(f->stub.port, 1);
    snprintf(cfg.creds.session_token, sizeof cfg.creds.session_token, "FwoGZXIvYXdzEXAMPLE+/=");
    struct spoor_error err;
    f->client = spoor_s3_client_new(f->engine, &cfg, &err);
    struct spoor_s3_op op = get_op();
    struct spoor_s3_result res;
    assert_int_equal(spoor_s3_exec(f->client, &op, &res, &err), 0);
    spoor_s3_result_cleanup(&res);
    char token[128], auth[512];
    assert_true(stub_header(&f->stub.reqs[0], "x-amz-security-token", token, sizeof token));
    assert_string_equal(token, "FwoGZXIvYXdzEXAMPLE+/=");
    assert_true(stub_header(&f->stub.reqs[0], "authorization", auth, sizeof auth));
    assert_non_null(strstr(auth, "x-amz-security-token"));
    assert_true(signature_valid(&f->stub.reqs[0]));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_slowdown_retried_and_resigned),
        T(test_internal_error_gives_up),
        T(test_access_denied_not_retried),
        T(test_no_such_key_not_retried),
        T(test_request_timeout_400_retried),
        T(test_closed_connection_retried),
        T(test_put_file_range_resent),
        T(test_timeout),
        T(test_timeout_retried),
        T(test_buffer_ceiling),
        T(test_half_body_to_callback_not_retried),
        T(test_callback_retried_before_delivery),
        T(test_half_body_to_buffer_retried),
        T(test_complete_200_with_error),
        T(test_malformed_list),
        T(test_file_sink_retry_whole),
        T(test_file_sink_all_fail),
        T(test_file_sink_keeps_old_file),
        T(test_async_callback_once),
        T(test_async_close_cancels),
        T(test_concurrency_bound),
        T(test_two_gets_same_file),
        T(test_session_token_signed),
    };
    return cmocka_run_group_tests_name("s3_faults", tests, group_setup, NULL);
}
